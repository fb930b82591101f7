//! [`PgStore`]: the store traits over PostgreSQL.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use agentic_commerce::engine::store::{
    AsyncIdempotencyStore, AsyncTokenLedger, Commit, CommitOutcome, ResourceKind, ResourceStore,
    Versioned, Write,
};
use agentic_commerce::trust::allowance::LedgerError;
use agentic_commerce::trust::idempotency::{
    self, Completion, Fingerprint, IdempotencyOutcome, IdempotencyPolicy, IdempotencyRecord,
    IdempotencyScope, LeaseToken, RecordState, StoredResponse,
};
use time::OffsetDateTime;
use tokio_postgres::{Client, Row, Statement, Transaction};

use crate::pool::Pool;

/// The parameters `$1, $2, $3` of a scope (identity, path, key).
macro_rules! scope_params {
    ($scope:expr) => {
        &[&$scope.identity(), &$scope.path(), &$scope.key().as_str()]
    };
}
use crate::{PgConfig, PgError, schema};

/// A PostgreSQL [`ResourceStore`] (and so [`AsyncIdempotencyStore`]) and
/// [`AsyncTokenLedger`], for any number of processes sharing one database.
///
/// Cheap to clone (the clones share one pool). Needs a Tokio runtime (each connection runs
/// as a spawned task).
///
/// - Every decision is the core's pure function ([`idempotency::begin`],
///   [`idempotency::complete`], [`idempotency::release`]) evaluated inside one transaction that
///   first takes a per-scope `pg_advisory_xact_lock`: of concurrent `begin`s on a new scope in
///   any number of processes exactly one gets [`IdempotencyOutcome::Proceed`].
/// - Lease tokens come from the sequence `acp_idempotency_lease_seq`: unique across processes,
///   never reused after a record is deleted (fencing).
/// - [`commit`](ResourceStore::commit) checks the lease, applies every write as a
///   compare-and-swap on the document's version, enqueues the commit's outbox events
///   (`acp_outbox`, as [`OutboxStore::record`](agentic_commerce::engine::outbox::OutboxStore::record)
///   does), and records (or, for a 5xx, releases) the
///   idempotency record, all in one transaction: on [`CommitOutcome::LeaseLost`] or
///   [`CommitOutcome::Conflict`] it rolls back and nothing is written.
/// - Bounded: a pool of at most [`PgConfig::max_connections`] connections, every acquire
///   under [`PgConfig::acquire_timeout`], every statement under
///   [`PgConfig::statement_timeout`]; records past retention are purged every
///   [`PgConfig::purge_every`] writes and by [`purge_expired`](Self::purge_expired);
///   documents by [`purge_documents_older_than`](Self::purge_documents_older_than), expired
///   checkout sessions and carts by
///   [`purge_expired_resources`](Self::purge_expired_resources).
///
/// Times are stored as microseconds since the Unix epoch (sub-microsecond parts are dropped).
#[derive(Debug, Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: Pool,
    config: PgConfig,
    /// Writes so far, for the opportunistic purge.
    writes: AtomicU64,
}

/// A snapshot of a store's pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStatus {
    /// The most connections the pool opens.
    pub max_connections: usize,
    /// Connections handed out now.
    pub in_use: usize,
    /// Open connections waiting for a user.
    pub idle: usize,
}

impl PgStore {
    /// Connects to `url` (a `postgres://` URL or a `key=value` connection string; plain TCP or
    /// a Unix socket, no TLS) and runs the migrations (see the crate documentation).
    ///
    /// # Errors
    ///
    /// [`PgError::Config`] for a malformed URL, [`PgError::PoolTimeout`] or [`PgError::Db`]
    /// when the server cannot be reached in time or a migration fails.
    pub async fn connect(url: &str, config: PgConfig) -> Result<Self, PgError> {
        let pool = Pool::new(url, &config)?;
        {
            let mut conn = pool.get().await?;
            schema::migrate(&mut conn, config.schema()).await?;
        }
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                config,
                writes: AtomicU64::new(0),
            }),
        })
    }

    /// The pool (the outbox's queries).
    pub(crate) fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// The configuration.
    pub fn config(&self) -> &PgConfig {
        &self.inner.config
    }

    /// The idempotency policy.
    pub fn policy(&self) -> &IdempotencyPolicy {
        self.inner.config.policy()
    }

    /// The pool's bound and current use.
    pub fn pool_status(&self) -> PoolStatus {
        let pool = &self.inner.pool;
        PoolStatus {
            max_connections: pool.max_connections(),
            in_use: pool.in_use(),
            idle: pool.idle_count(),
        }
    }

    /// The highest migration applied to the database (at least
    /// [`SCHEMA_VERSION`](crate::SCHEMA_VERSION) once `connect` returned).
    ///
    /// # Errors
    ///
    /// Database or pool failures.
    pub async fn schema_version(&self) -> Result<i32, PgError> {
        let conn = self.inner.pool.get().await?;
        let row = conn
            .query_one("SELECT max(version) FROM acp_schema_migrations", &[])
            .await?;
        Ok(row.try_get::<_, Option<i32>>(0)?.unwrap_or(0))
    }

    /// The stored idempotency record of `scope` (stale or not), for inspection.
    ///
    /// # Errors
    ///
    /// Database or pool failures, [`PgError::Corrupt`] for an undecodable row.
    pub async fn record(
        &self,
        scope: &IdempotencyScope,
    ) -> Result<Option<IdempotencyRecord>, PgError> {
        let mut conn = self.inner.pool.get().await?;
        let (client, st) = conn.prepared().await?;
        let row = client
            .query_opt(&st.load_record, scope_params!(scope))
            .await?;
        row.map(|row| decode_record(&row)).transpose()
    }

    /// Deletes every idempotency record whose retention is over at `now` (such a key is a new
    /// request anyway, IDEM-14); returns how many. Reservations whose lease ran out but whose
    /// retention is not over stay: their worker may still complete them.
    ///
    /// # Errors
    ///
    /// Database or pool failures.
    pub async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, PgError> {
        let conn = self.inner.pool.get().await?;
        Ok(conn
            .execute(
                "DELETE FROM acp_idempotency_records WHERE expires_us <= $1",
                &[&to_us(now)],
            )
            .await?)
    }

    /// Deletes every document last written before `cutoff`; returns how many. A request that
    /// loaded such a document and commits a write to it afterwards gets
    /// [`CommitOutcome::Conflict`].
    ///
    /// # Errors
    ///
    /// Database or pool failures.
    pub async fn purge_documents_older_than(&self, cutoff: OffsetDateTime) -> Result<u64, PgError> {
        let conn = self.inner.pool.get().await?;
        Ok(conn
            .execute(
                // Orders are the merchant's system of record (and the outbox's events refer
                // to them): never purged by age.
                "DELETE FROM acp_resources WHERE updated_us < $1 AND kind <> 'order'",
                &[&to_us(cutoff)],
            )
            .await?)
    }

    /// Deletes every checkout session and cart that expired more than `retention` before `now`
    /// (the rule of [`agentic_commerce::engine::merchant::expiry`]: completed, canceled and
    /// processing sessions are kept; call it periodically with
    /// [`DEFAULT_EXPIRED_RETENTION`](agentic_commerce::engine::merchant::expiry::DEFAULT_EXPIRED_RETENTION));
    /// returns how many. Deletes in batches (the opportunistic purge's batch size), each one
    /// statement, skipping rows a concurrent commit holds (the next purge takes them). A
    /// request that loaded a purged document and writes it afterwards gets
    /// [`CommitOutcome::Conflict`]; stored responses still replay.
    ///
    /// Only documents not written within the retention are examined (the `updated_us` index);
    /// their JSON is read in the query, so the cost grows with the old sessions and carts kept.
    ///
    /// # Errors
    ///
    /// Database or pool failures.
    pub async fn purge_expired_resources(
        &self,
        now: OffsetDateTime,
        retention: time::Duration,
    ) -> Result<u64, PgError> {
        // `kind` is tested first inside CASE so that only engine envelopes are parsed.
        const PURGE: &str = "
            DELETE FROM acp_resources WHERE ctid IN (
                SELECT ctid FROM acp_resources
                WHERE updated_us < $1
                  AND CASE WHEN kind IN ('checkout_session', 'cart') THEN
                        COALESCE(
                          (document::jsonb -> 'resource' ->> 'expires_at')::timestamptz
                              < to_timestamp($1::float8 / 1000000.0)
                          AND (kind = 'cart'
                               OR (document::jsonb -> 'resource' ->> 'status') = ANY($2)),
                          false)
                      ELSE false END
                LIMIT $3
                FOR UPDATE SKIP LOCKED)";
        let cutoff = to_us(agentic_commerce::engine::merchant::expiry::purge_cutoff(
            now, retention,
        ));
        let statuses: Vec<String> = agentic_commerce::engine::merchant::expiry::expiring_statuses()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let batch = self.inner.config.purge_batch();
        let conn = self.inner.pool.get().await?;
        let mut total = 0;
        loop {
            let deleted = conn.execute(PURGE, &[&cutoff, &statuses, &batch]).await?;
            total += deleted;
            if i64::try_from(deleted).map_or(true, |d| d < batch) {
                return Ok(total);
            }
        }
    }

    /// Forgets every payment token consumed before `cutoff`; returns how many. A forgotten
    /// token could be consumed again: only pass a cutoff earlier than the expiry of every
    /// allowance still valid (tokens past their `expires_at` are refused before the ledger).
    ///
    /// # Errors
    ///
    /// Database or pool failures.
    pub async fn purge_tokens_consumed_before(
        &self,
        cutoff: OffsetDateTime,
    ) -> Result<u64, PgError> {
        let conn = self.inner.pool.get().await?;
        Ok(conn
            .execute(
                "DELETE FROM acp_consumed_tokens WHERE consumed_us < $1",
                &[&to_us(cutoff)],
            )
            .await?)
    }

    /// Counts a write; every `purge_every`th one deletes a batch of expired records (best
    /// effort: a failure only postpones it).
    async fn after_write(&self, client: &Client, st: &Statements, now: OffsetDateTime) {
        let every = self.inner.config.purge_every();
        let n = self.inner.writes.fetch_add(1, Ordering::Relaxed) + 1;
        if every == 0 || n % every != 0 {
            return;
        }
        // The outer predicate is checked again on the row it deletes: a record re-reserved
        // meanwhile (a concurrent `begin`) is not expired any more and stays.
        let _ = client
            .execute(
                &st.purge_batch,
                &[&to_us(now), &self.inner.config.purge_batch()],
            )
            .await;
    }

    async fn begin_inner(
        &self,
        scope: &IdempotencyScope,
        fingerprint: &Fingerprint,
        now: OffsetDateTime,
    ) -> Result<IdempotencyOutcome, PgError> {
        let mut conn = self.inner.pool.get().await?;
        let (client, st) = conn.prepared().await?;
        let tx = client.transaction().await?;
        lock_scope(&tx, st, scope).await?;
        // The record (if any) and a fresh lease token in one round trip.
        let row = tx.query_one(&st.begin_load, scope_params!(scope)).await?;
        let existing = if row.try_get::<_, Option<String>>(0)?.is_some() {
            Some(decode_record(&row)?)
        } else {
            None
        };
        let lease = LeaseToken::new(
            u64::try_from(row.try_get::<_, i64>(RECORD_COLUMN_COUNT)?)
                .map_err(|_| PgError::Corrupt("lease sequence"))?,
        );
        let decision =
            idempotency::begin(existing.as_ref(), fingerprint, lease, now, self.policy());
        let wrote = decision.write.is_some();
        if let Some(record) = &decision.write {
            save_record(&tx, st, scope, record).await?;
        }
        tx.commit().await?;
        if wrote {
            self.after_write(client, st, now).await;
        }
        Ok(decision.outcome)
    }

    async fn complete_inner(
        &self,
        scope: &IdempotencyScope,
        lease: LeaseToken,
        response: StoredResponse,
        now: OffsetDateTime,
    ) -> Result<Completion, PgError> {
        let mut conn = self.inner.pool.get().await?;
        let (client, st) = conn.prepared().await?;
        let tx = client.transaction().await?;
        lock_scope(&tx, st, scope).await?;
        let existing = load_record(&tx, st, scope).await?;
        let completion =
            match idempotency::complete(existing.as_ref(), lease, response, now, self.policy()) {
                Ok(completion) => completion,
                Err(e) => {
                    tx.rollback().await?;
                    return Err(e.into());
                }
            };
        match &completion {
            Completion::Store(record) => save_record(&tx, st, scope, record).await?,
            // A 5xx: the key is released, a retry runs fresh (IDEM-13).
            _ => delete_record(&tx, st, scope).await?,
        }
        tx.commit().await?;
        Ok(completion)
    }

    async fn release_inner(
        &self,
        scope: &IdempotencyScope,
        lease: LeaseToken,
    ) -> Result<(), PgError> {
        let mut conn = self.inner.pool.get().await?;
        let (client, st) = conn.prepared().await?;
        let tx = client.transaction().await?;
        lock_scope(&tx, st, scope).await?;
        let existing = load_record(&tx, st, scope).await?;
        if let Err(e) = idempotency::release(existing.as_ref(), lease) {
            tx.rollback().await?;
            return Err(e.into());
        }
        delete_record(&tx, st, scope).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn load_inner(&self, kind: ResourceKind, id: &str) -> Result<Option<Versioned>, PgError> {
        let mut conn = self.inner.pool.get().await?;
        let (client, st) = conn.prepared().await?;
        let Some(row) = client
            .query_opt(&st.load_document, &[&kind.as_str(), &id])
            .await?
        else {
            return Ok(None);
        };
        let document: String = row.try_get(0)?;
        let version = u64::try_from(row.try_get::<_, i64>(1)?)
            .map_err(|_| PgError::Corrupt("document version"))?;
        Ok(Some(Versioned { document, version }))
    }

    async fn commit_inner(
        &self,
        commit: Commit,
        now: OffsetDateTime,
    ) -> Result<CommitOutcome, PgError> {
        let Commit {
            scope,
            lease,
            response,
            mut writes,
            events,
            ..
        } = commit;
        let mut conn = self.inner.pool.get().await?;
        let (client, st) = conn.prepared().await?;
        let tx = client.transaction().await?;
        lock_scope(&tx, st, &scope).await?;
        let existing = load_record(&tx, st, &scope).await?;
        // Fencing first: a worker whose lease was taken over must not write anything.
        let owned = matches!(
            existing.as_ref().map(|r| (r.state(), now < r.expires_at())),
            Some((RecordState::InFlight { lease: owner, .. }, true)) if *owner == lease
        );
        if !owned {
            tx.rollback().await?;
            return Ok(CommitOutcome::LeaseLost);
        }
        // One global order of row locks: two commits writing the same documents cannot
        // deadlock.
        writes.sort_by(|a, b| (a.kind, &a.id).cmp(&(b.kind, &b.id)));
        for write in &writes {
            if !write_document(&tx, st, write, now).await? {
                tx.rollback().await?;
                return Ok(CommitOutcome::Conflict);
            }
        }
        for event in &events {
            crate::outbox::insert_event(&tx, event, now).await?;
        }
        // Without a response (a claim inside a request) the reservation stays in flight.
        if let Some(response) = response {
            match idempotency::complete(existing.as_ref(), lease, response, now, self.policy())? {
                Completion::Store(record) => save_record(&tx, st, &scope, &record).await?,
                _ => delete_record(&tx, st, &scope).await?,
            }
        }
        tx.commit().await?;
        self.after_write(client, st, now).await;
        Ok(CommitOutcome::Committed)
    }

    async fn consume_inner(&self, token_id: &str, now: OffsetDateTime) -> Result<bool, PgError> {
        let mut conn = self.inner.pool.get().await?;
        let (client, st) = conn.prepared().await?;
        let inserted = client
            .execute(&st.consume_token, &[&token_id, &to_us(now)])
            .await?;
        Ok(inserted == 1)
    }
}

impl AsyncIdempotencyStore for PgStore {
    type Error = PgError;

    async fn begin(
        &self,
        scope: &IdempotencyScope,
        fingerprint: &Fingerprint,
        now: OffsetDateTime,
    ) -> Result<IdempotencyOutcome, PgError> {
        self.begin_inner(scope, fingerprint, now).await
    }

    async fn complete(
        &self,
        scope: &IdempotencyScope,
        lease: LeaseToken,
        response: StoredResponse,
        now: OffsetDateTime,
    ) -> Result<Completion, PgError> {
        self.complete_inner(scope, lease, response, now).await
    }

    async fn release(&self, scope: &IdempotencyScope, lease: LeaseToken) -> Result<(), PgError> {
        self.release_inner(scope, lease).await
    }
}

impl ResourceStore for PgStore {
    async fn load(&self, kind: ResourceKind, id: &str) -> Result<Option<Versioned>, PgError> {
        self.load_inner(kind, id).await
    }

    async fn commit(&self, commit: Commit, now: OffsetDateTime) -> Result<CommitOutcome, PgError> {
        self.commit_inner(commit, now).await
    }
}

impl AsyncTokenLedger for PgStore {
    async fn consume(&self, token_id: &str, now: OffsetDateTime) -> Result<(), LedgerError> {
        match self.consume_inner(token_id, now).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(LedgerError::AlreadyUsed),
            // Whether the token is used is unknown: the charge must not proceed.
            Err(_) => Err(LedgerError::Unavailable),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------------------------

/// The columns [`decode_record`] reads, in order.
macro_rules! record_columns {
    () => {
        "fingerprint, lease, lease_expires_us, status, body, headers, expires_us"
    };
}
const RECORD_COLUMN_COUNT: usize = 7;

/// The statements of the hot paths, prepared once per connection.
#[derive(Debug)]
pub(crate) struct Statements {
    lock_scope: Statement,
    load_record: Statement,
    begin_load: Statement,
    save_record: Statement,
    delete_record: Statement,
    load_document: Statement,
    insert_document: Statement,
    update_document: Statement,
    consume_token: Statement,
    purge_batch: Statement,
}

impl Statements {
    pub(crate) async fn prepare(client: &Client) -> Result<Self, PgError> {
        Ok(Self {
            lock_scope: client
                .prepare("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .await?,
            load_record: client
                .prepare(concat!(
                    "SELECT ",
                    record_columns!(),
                    " FROM acp_idempotency_records
                       WHERE identity = $1 AND path = $2 AND key = $3"
                ))
                .await?,
            begin_load: client
                .prepare(concat!(
                    "SELECT ",
                    record_columns!(),
                    ", nextval('acp_idempotency_lease_seq')
                       FROM (VALUES (1)) AS one (x)
                       LEFT JOIN acp_idempotency_records
                         ON identity = $1 AND path = $2 AND key = $3"
                ))
                .await?,
            save_record: client
                .prepare(
                    "INSERT INTO acp_idempotency_records
                         (identity, path, key, fingerprint, lease, lease_expires_us, status,
                          body, headers, expires_us)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                     ON CONFLICT (identity, path, key) DO UPDATE SET
                         fingerprint = EXCLUDED.fingerprint, lease = EXCLUDED.lease,
                         lease_expires_us = EXCLUDED.lease_expires_us,
                         status = EXCLUDED.status, body = EXCLUDED.body,
                         headers = EXCLUDED.headers, expires_us = EXCLUDED.expires_us",
                )
                .await?,
            delete_record: client
                .prepare(
                    "DELETE FROM acp_idempotency_records
                      WHERE identity = $1 AND path = $2 AND key = $3",
                )
                .await?,
            load_document: client
                .prepare("SELECT document, version FROM acp_resources WHERE kind = $1 AND id = $2")
                .await?,
            // A concurrent create of the same id waits for ours (or we for it) on the primary
            // key; the loser inserts nothing.
            insert_document: client
                .prepare(
                    "INSERT INTO acp_resources (kind, id, document, version, updated_us)
                     VALUES ($1, $2, $3, 1, $4)
                     ON CONFLICT (kind, id) DO NOTHING RETURNING version",
                )
                .await?,
            // Under READ COMMITTED a concurrent writer of the row makes this wait, then
            // re-check `version` on the row it committed: the loser updates nothing.
            update_document: client
                .prepare(
                    "UPDATE acp_resources
                        SET document = $3, version = version + 1, updated_us = $5
                      WHERE kind = $1 AND id = $2 AND version = $4 RETURNING version",
                )
                .await?,
            consume_token: client
                .prepare(
                    "INSERT INTO acp_consumed_tokens (token_id, consumed_us) VALUES ($1, $2)
                     ON CONFLICT (token_id) DO NOTHING",
                )
                .await?,
            // The outer predicate is checked again on the row it deletes: a record re-reserved
            // meanwhile (a concurrent `begin`) is not expired any more and stays.
            purge_batch: client
                .prepare(
                    "DELETE FROM acp_idempotency_records r
                      USING (SELECT identity, path, key FROM acp_idempotency_records
                              WHERE expires_us <= $1 LIMIT $2) old
                      WHERE r.identity = old.identity AND r.path = old.path
                        AND r.key = old.key AND r.expires_us <= $1",
                )
                .await?,
        })
    }
}

/// Microseconds since the Unix epoch, rounded down.
pub(crate) fn to_us(at: OffsetDateTime) -> i64 {
    // Every OffsetDateTime (years ±9999) fits: about ±3.2e17 µs.
    i64::try_from(at.unix_timestamp_nanos().div_euclid(1000)).unwrap_or(i64::MAX)
}

pub(crate) fn from_us(us: i64) -> Result<OffsetDateTime, PgError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .map_err(|_| PgError::Corrupt("timestamp"))
}

/// Serializes every transaction on one scope, across processes, until it ends (also when the
/// scope has no row yet, which `SELECT … FOR UPDATE` could not lock).
async fn lock_scope(
    tx: &Transaction<'_>,
    st: &Statements,
    scope: &IdempotencyScope,
) -> Result<(), PgError> {
    // Length prefixes make the encoding unambiguous (identity and path may contain anything).
    let lock_key = format!(
        "{}:{}\n{}:{}\n{}",
        scope.identity().len(),
        scope.identity(),
        scope.path().len(),
        scope.path(),
        scope.key().as_str()
    );
    tx.execute(&st.lock_scope, &[&lock_key]).await?;
    Ok(())
}

async fn load_record(
    tx: &Transaction<'_>,
    st: &Statements,
    scope: &IdempotencyScope,
) -> Result<Option<IdempotencyRecord>, PgError> {
    let row = tx.query_opt(&st.load_record, scope_params!(scope)).await?;
    row.map(|row| decode_record(&row)).transpose()
}

/// A record from the first [`RECORD_COLUMN_COUNT`] columns of `row` (`record_columns!`).
fn decode_record(row: &Row) -> Result<IdempotencyRecord, PgError> {
    let fingerprint: Fingerprint = row
        .try_get::<_, &str>(0)?
        .parse()
        .map_err(|_| PgError::Corrupt("fingerprint"))?;
    let lease: Option<i64> = row.try_get(1)?;
    let lease_expires: Option<i64> = row.try_get(2)?;
    let status: Option<i32> = row.try_get(3)?;
    let expires_at = from_us(row.try_get(6)?)?;
    let state = match (lease, lease_expires, status) {
        (Some(lease), Some(lease_expires), None) => RecordState::InFlight {
            lease_expires_at: from_us(lease_expires)?,
            lease: LeaseToken::new(u64::try_from(lease).map_err(|_| PgError::Corrupt("lease"))?),
        },
        (None, None, Some(status)) => {
            let body: Vec<u8> = row.try_get(4)?;
            let headers: Vec<(String, String)> = serde_json::from_str(row.try_get::<_, &str>(5)?)
                .map_err(|_| PgError::Corrupt("headers"))?;
            let status = u16::try_from(status).map_err(|_| PgError::Corrupt("status"))?;
            RecordState::Completed {
                response: StoredResponse::new(status, body, headers),
            }
        }
        _ => return Err(PgError::Corrupt("record state")),
    };
    Ok(IdempotencyRecord::new(fingerprint, state, expires_at))
}

async fn save_record(
    tx: &Transaction<'_>,
    st: &Statements,
    scope: &IdempotencyScope,
    record: &IdempotencyRecord,
) -> Result<(), PgError> {
    let (lease, lease_expires, status, body, headers) = match record.state() {
        RecordState::InFlight {
            lease_expires_at,
            lease,
        } => (
            Some(i64::try_from(lease.get()).map_err(|_| PgError::Corrupt("lease"))?),
            Some(to_us(*lease_expires_at)),
            None,
            None,
            None,
        ),
        RecordState::Completed { response } => (
            None,
            None,
            Some(i32::from(response.status)),
            Some(response.body.as_slice()),
            Some(
                serde_json::to_string(&response.headers)
                    .map_err(|_| PgError::Corrupt("headers"))?,
            ),
        ),
        _ => return Err(PgError::Corrupt("unknown record state")),
    };
    tx.execute(
        &st.save_record,
        &[
            &scope.identity(),
            &scope.path(),
            &scope.key().as_str(),
            &record.fingerprint().to_hex(),
            &lease,
            &lease_expires,
            &status,
            &body,
            &headers,
            &to_us(record.expires_at()),
        ],
    )
    .await?;
    Ok(())
}

async fn delete_record(
    tx: &Transaction<'_>,
    st: &Statements,
    scope: &IdempotencyScope,
) -> Result<(), PgError> {
    tx.execute(&st.delete_record, scope_params!(scope)).await?;
    Ok(())
}

/// One guarded document write (compare-and-swap on the version); `false` when the guard
/// failed (nothing written by this statement).
pub(crate) async fn write_document(
    tx: &Transaction<'_>,
    st: &Statements,
    write: &Write,
    now: OffsetDateTime,
) -> Result<bool, PgError> {
    let document = &write.document;
    let kind = write.kind.as_str();
    let written = match write.expected_version {
        None => {
            tx.query_opt(
                &st.insert_document,
                &[&kind, &write.id, document, &to_us(now)],
            )
            .await?
        }
        Some(expected) => {
            // A version beyond i64 was never stored: the guard cannot hold.
            let Ok(expected) = i64::try_from(expected) else {
                return Ok(false);
            };
            tx.query_opt(
                &st.update_document,
                &[&kind, &write.id, document, &expected, &to_us(now)],
            )
            .await?
        }
    };
    Ok(written.is_some())
}
