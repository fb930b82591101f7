//! PostgreSQL implementations of the crate's storage traits, for running several server
//! processes against one database: [`PgIdempotencyStore`]
//! ([`agentic_commerce::trust::idempotency::IdempotencyStore`]) and [`PgTokenLedger`]
//! ([`agentic_commerce::trust::allowance::TokenLedger`]).
//!
//! The library itself has no database dependency: these live with the examples and the
//! end-to-end tests. Both use the synchronous `postgres` client because the crate's traits are
//! synchronous; async servers call them from `tokio::task::spawn_blocking`.
//!
//! Every decision is the crate's pure function ([`idempotency::begin`] /
//! [`idempotency::complete`]) evaluated inside one transaction that holds a per-scope advisory
//! lock, so concurrent requests with the same key in different processes see a consistent
//! record (exactly one gets `Proceed`). [`PgIdempotencyStore::complete_with`] writes the
//! business effect and the stored response in that same transaction (IDEM-17).
//!
//! Bounds: the pool opens at most [`PgPool::max_size`] connections (`--db-pool-size`), and
//! [`PgIdempotencyStore`] deletes rows past retention at most once a minute as keys are
//! reserved ([`PgIdempotencyStore::purge_expired`]).

#![allow(dead_code)] // Each binary that includes this module uses a different part of it.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use agentic_commerce::trust::allowance::{LedgerError, TokenLedger};
use agentic_commerce::trust::idempotency::{
    self, Completion, Fingerprint, IdempotencyOutcome, IdempotencyPolicy, IdempotencyRecord,
    IdempotencyScope, IdempotencyStore, LeaseToken, RecordState, StoredResponse,
};
use postgres::{Client, NoTls, Transaction};
use time::{Duration, OffsetDateTime};

/// Connections a pool opens at most unless configured (`--db-pool-size`).
pub(crate) const DEFAULT_POOL_SIZE: usize = 16;
/// How often a store deletes idempotency rows past retention, at most.
pub(crate) const PURGE_INTERVAL: Duration = Duration::minutes(1);

/// Why a PostgreSQL store operation failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PgStoreError {
    /// The database failed or is unreachable.
    #[error("database: {}", describe(.0))]
    Db(#[from] postgres::Error),
    /// The scope has no in-flight reservation to complete, or another lease owns it.
    #[error(transparent)]
    Complete(#[from] idempotency::CompleteError),
    /// A conditional document write found another version (a concurrent writer won).
    #[error("the document was changed by a concurrent request")]
    Stale,
    /// A stored row could not be decoded.
    #[error("corrupt idempotency row: {0}")]
    Corrupt(&'static str),
}

/// The server's message when there is one (`postgres::Error`'s `Display` is only "db error").
pub(crate) fn describe(e: &postgres::Error) -> String {
    e.as_db_error().map_or_else(
        || e.to_string(),
        |db| format!("{} ({})", db.message(), db.code().code()),
    )
}

/// A tiny connection pool: idle clients are reused, new ones are opened on demand up to
/// `max_size`; beyond that a caller waits until a client is handed back. Enough for an
/// example; use `deadpool-postgres` or `r2d2` in production.
pub(crate) struct PgPool {
    url: String,
    max_size: usize,
    state: Mutex<PoolState>,
    freed: Condvar,
}

#[derive(Default)]
struct PoolState {
    idle: Vec<Client>,
    /// Connections open (idle or in use).
    open: usize,
}

/// The slot of a client in use: frees it if the client is lost (the caller panicked).
struct Slot<'a> {
    pool: &'a PgPool,
    armed: bool,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if self.armed {
            let mut state = self.pool.lock();
            state.open = state.open.saturating_sub(1);
            drop(state);
            self.pool.freed.notify_one();
        }
    }
}

impl PgPool {
    /// Connects once (to fail fast on a bad URL) and creates the tables if needed; at most
    /// [`DEFAULT_POOL_SIZE`] connections.
    ///
    /// # Errors
    ///
    /// When the server is unreachable or the schema cannot be created.
    pub(crate) fn connect(url: &str) -> Result<Self, postgres::Error> {
        Self::connect_with_max(url, DEFAULT_POOL_SIZE)
    }

    /// Like [`connect`](Self::connect), opening at most `max_size` connections (0 counts as 1).
    ///
    /// # Errors
    ///
    /// When the server is unreachable or the schema cannot be created.
    pub(crate) fn connect_with_max(url: &str, max_size: usize) -> Result<Self, postgres::Error> {
        let mut client = Client::connect(url, NoTls)?;
        migrate(&mut client)?;
        Ok(Self {
            url: url.to_owned(),
            max_size: max_size.max(1),
            state: Mutex::new(PoolState {
                idle: vec![client],
                open: 1,
            }),
            freed: Condvar::new(),
        })
    }

    /// The most connections this pool opens.
    pub(crate) fn max_size(&self) -> usize {
        self.max_size
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// An idle client, a new one while fewer than `max_size` are open, else waits.
    fn acquire(&self) -> Result<Client, postgres::Error> {
        let mut state = self.lock();
        loop {
            if let Some(client) = state.idle.pop() {
                if client.is_closed() {
                    state.open = state.open.saturating_sub(1);
                    continue;
                }
                return Ok(client);
            }
            if state.open < self.max_size {
                state.open += 1;
                drop(state);
                return match Client::connect(&self.url, NoTls) {
                    Ok(client) => Ok(client),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            state = self
                .freed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Runs `f` with a pooled client (blocks while `max_size` clients are in use).
    ///
    /// # Errors
    ///
    /// Connection failures and whatever `f` returns.
    pub(crate) fn with_client<T, E: From<postgres::Error>>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut client = self.acquire()?;
        let mut slot = Slot {
            pool: self,
            armed: true,
        };
        let result = f(&mut client);
        slot.armed = false;
        let mut state = self.lock();
        if client.is_closed() {
            state.open = state.open.saturating_sub(1);
        } else {
            state.idle.push(client);
        }
        drop(state);
        self.freed.notify_one();
        result
    }
}

impl Drop for PgPool {
    fn drop(&mut self) {
        // A synchronous client blocks while it closes, which must not happen on an async
        // runtime thread (the pool may be dropped there when a server task ends).
        let idle = std::mem::take(&mut self.lock().idle);
        if !idle.is_empty() {
            std::thread::spawn(move || drop(idle));
        }
    }
}

impl std::fmt::Debug for PgPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.write_str("PgPool")
    }
}

/// Creates the tables once; a transaction-level advisory lock serializes concurrent
/// migrations from several processes starting at the same time.
fn migrate(client: &mut Client) -> Result<(), postgres::Error> {
    // One explicit transaction holding a transaction-level advisory lock: the lock is released
    // only when the tables are committed. (A session lock released by the last statement of
    // the batch came free before the batch's implicit transaction committed, so a second
    // process could run `CREATE TABLE IF NOT EXISTS` without seeing the first one's table and
    // fail with a duplicate `pg_type` key.)
    client.batch_execute(
        "BEGIN;
         SELECT pg_advisory_xact_lock(4242001);
         CREATE TABLE IF NOT EXISTS acp_idempotency (
             identity TEXT NOT NULL,
             path TEXT NOT NULL,
             key TEXT NOT NULL,
             fingerprint TEXT NOT NULL,
             lease_expires_us BIGINT,
             status INTEGER,
             body BYTEA,
             headers TEXT,
             expires_us BIGINT NOT NULL,
             PRIMARY KEY (identity, path, key)
         );
         CREATE TABLE IF NOT EXISTS acp_consumed_tokens (
             token_id TEXT PRIMARY KEY,
             consumed_us BIGINT NOT NULL
         );
         CREATE TABLE IF NOT EXISTS acp_documents (
             kind TEXT NOT NULL,
             id TEXT NOT NULL,
             body TEXT NOT NULL,
             PRIMARY KEY (kind, id)
         );
         ALTER TABLE acp_idempotency ADD COLUMN IF NOT EXISTS lease BIGINT;
         CREATE INDEX IF NOT EXISTS acp_idempotency_expires ON acp_idempotency (expires_us);
         CREATE SEQUENCE IF NOT EXISTS acp_idempotency_lease_seq;
         ALTER TABLE acp_documents ADD COLUMN IF NOT EXISTS version BIGINT NOT NULL DEFAULT 1;
         COMMIT;",
    )
}

/// Microseconds since the Unix epoch (what the tables store).
fn to_us(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

fn from_us(us: i64) -> Result<OffsetDateTime, PgStoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .map_err(|_| PgStoreError::Corrupt("timestamp"))
}

/// A PostgreSQL [`IdempotencyStore`].
///
/// Lease tokens come from the sequence `acp_idempotency_lease_seq`, so they are unique across
/// every process sharing the database (fencing, see [`LeaseToken`]). Rows past retention are
/// deleted at most every [`PURGE_INTERVAL`] by a reservation ([`Self::purge_expired`]).
#[derive(Debug)]
pub(crate) struct PgIdempotencyStore {
    pool: Arc<PgPool>,
    policy: IdempotencyPolicy,
    /// When this store last purged expired rows.
    last_purge: Mutex<Option<OffsetDateTime>>,
}

impl PgIdempotencyStore {
    /// A store over `pool` with `policy`.
    pub(crate) fn new(pool: Arc<PgPool>, policy: IdempotencyPolicy) -> Self {
        Self {
            pool,
            policy,
            last_purge: Mutex::new(None),
        }
    }

    /// Deletes every row whose retention is over at `now` (IDEM-14: such a key is a new request
    /// anyway); returns how many were deleted.
    ///
    /// # Errors
    ///
    /// Database failures.
    pub(crate) fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, PgStoreError> {
        let deleted = self.pool.with_client(|client| {
            client.execute(
                "DELETE FROM acp_idempotency WHERE expires_us <= $1",
                &[&to_us(now)],
            )
        })?;
        Ok(deleted)
    }

    /// Purges when the last purge is [`PURGE_INTERVAL`] old (amortized over reservations).
    fn maybe_purge(&self, now: OffsetDateTime) -> Result<(), PgStoreError> {
        {
            let mut last = self
                .last_purge
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if last.is_some_and(|at| now < at + PURGE_INTERVAL) {
                return Ok(());
            }
            *last = Some(now);
        }
        self.purge_expired(now).map(|_| ())
    }

    /// Records `response` for `scope` and runs `effect` (the business write) in the same
    /// transaction, so either both are stored or neither is (IDEM-17).
    ///
    /// # Errors
    ///
    /// [`PgStoreError::Complete`] when the scope is not in flight (nothing is written), or a
    /// database error (the transaction is rolled back).
    pub(crate) fn complete_with<E>(
        &self,
        scope: &IdempotencyScope,
        lease: LeaseToken,
        response: StoredResponse,
        now: OffsetDateTime,
        effect: impl FnOnce(&mut Transaction<'_>) -> Result<(), E>,
    ) -> Result<Completion, PgStoreError>
    where
        PgStoreError: From<E>,
    {
        self.pool.with_client(|client| {
            let mut tx = client.transaction()?;
            lock_scope(&mut tx, scope)?;
            let existing = load(&mut tx, scope)?;
            let completion =
                idempotency::complete(existing.as_ref(), lease, response, now, &self.policy)?;
            match &completion {
                Completion::Store(record) => {
                    effect(&mut tx)?;
                    save(&mut tx, scope, record)?;
                }
                // A 5xx: no business effect happened; the key is released (IDEM-13).
                _ => delete(&mut tx, scope)?,
            }
            tx.commit()?;
            Ok(completion)
        })
    }
}

/// Serializes every transaction on one scope, across processes, for the transaction's life.
fn lock_scope(tx: &mut Transaction<'_>, scope: &IdempotencyScope) -> Result<(), postgres::Error> {
    let lock_key = format!("{}\n{}\n{}", scope.identity(), scope.path(), scope.key());
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        &[&lock_key],
    )?;
    Ok(())
}

fn load(
    tx: &mut Transaction<'_>,
    scope: &IdempotencyScope,
) -> Result<Option<IdempotencyRecord>, PgStoreError> {
    let Some(row) = tx.query_opt(
        "SELECT fingerprint, lease_expires_us, status, body, headers, expires_us, lease
           FROM acp_idempotency WHERE identity = $1 AND path = $2 AND key = $3",
        &[&scope.identity(), &scope.path(), &scope.key().as_str()],
    )?
    else {
        return Ok(None);
    };
    let fingerprint: Fingerprint = row
        .try_get::<_, String>(0)?
        .parse()
        .map_err(|_| PgStoreError::Corrupt("fingerprint"))?;
    let lease: Option<i64> = row.try_get(1)?;
    let status: Option<i32> = row.try_get(2)?;
    let expires_at = from_us(row.try_get(5)?)?;
    let state = match (lease, status) {
        (Some(lease_expires), None) => RecordState::InFlight {
            lease_expires_at: from_us(lease_expires)?,
            // A row written before leases existed has none: no worker holds token 0.
            lease: LeaseToken::new(
                u64::try_from(row.try_get::<_, Option<i64>>(6)?.unwrap_or(0))
                    .map_err(|_| PgStoreError::Corrupt("lease"))?,
            ),
        },
        (None, Some(status)) => {
            let body: Vec<u8> = row.try_get(3)?;
            let headers: String = row.try_get(4)?;
            let headers: Vec<(String, String)> =
                serde_json::from_str(&headers).map_err(|_| PgStoreError::Corrupt("headers"))?;
            let status = u16::try_from(status).map_err(|_| PgStoreError::Corrupt("status"))?;
            RecordState::Completed {
                response: StoredResponse::new(status, body, headers),
            }
        }
        _ => return Err(PgStoreError::Corrupt("state")),
    };
    Ok(Some(IdempotencyRecord::new(fingerprint, state, expires_at)))
}

fn save(
    tx: &mut Transaction<'_>,
    scope: &IdempotencyScope,
    record: &IdempotencyRecord,
) -> Result<(), PgStoreError> {
    let (lease_expires, lease, status, body, headers) = match record.state() {
        RecordState::InFlight {
            lease_expires_at,
            lease,
        } => (
            Some(to_us(*lease_expires_at)),
            Some(i64::try_from(lease.get()).map_err(|_| PgStoreError::Corrupt("lease"))?),
            None,
            None,
            None,
        ),
        RecordState::Completed { response } => (
            None,
            None,
            Some(i32::from(response.status)),
            Some(response.body.clone()),
            Some(
                serde_json::to_string(&response.headers)
                    .map_err(|_| PgStoreError::Corrupt("headers"))?,
            ),
        ),
        _ => return Err(PgStoreError::Corrupt("unknown record state")),
    };
    tx.execute(
        "INSERT INTO acp_idempotency
             (identity, path, key, fingerprint, lease_expires_us, status, body, headers, expires_us,
              lease)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (identity, path, key) DO UPDATE SET
             fingerprint = EXCLUDED.fingerprint, lease_expires_us = EXCLUDED.lease_expires_us,
             status = EXCLUDED.status, body = EXCLUDED.body, headers = EXCLUDED.headers,
             expires_us = EXCLUDED.expires_us, lease = EXCLUDED.lease",
        &[
            &scope.identity(),
            &scope.path(),
            &scope.key().as_str(),
            &record.fingerprint().to_hex(),
            &lease_expires,
            &status,
            &body,
            &headers,
            &to_us(record.expires_at()),
            &lease,
        ],
    )?;
    Ok(())
}

fn delete(tx: &mut Transaction<'_>, scope: &IdempotencyScope) -> Result<(), postgres::Error> {
    tx.execute(
        "DELETE FROM acp_idempotency WHERE identity = $1 AND path = $2 AND key = $3",
        &[&scope.identity(), &scope.path(), &scope.key().as_str()],
    )?;
    Ok(())
}

impl IdempotencyStore for PgIdempotencyStore {
    type Error = PgStoreError;

    fn begin(
        &self,
        scope: &IdempotencyScope,
        fingerprint: &Fingerprint,
        now: OffsetDateTime,
    ) -> Result<IdempotencyOutcome, Self::Error> {
        let outcome = self.pool.with_client(|client| {
            let mut tx = client.transaction()?;
            lock_scope(&mut tx, scope)?;
            let existing = load(&mut tx, scope)?;
            let next: i64 = tx
                .query_one("SELECT nextval('acp_idempotency_lease_seq')", &[])?
                .try_get(0)?;
            let lease =
                LeaseToken::new(u64::try_from(next).map_err(|_| PgStoreError::Corrupt("lease"))?);
            let decision =
                idempotency::begin(existing.as_ref(), fingerprint, lease, now, &self.policy);
            if let Some(record) = &decision.write {
                save(&mut tx, scope, record)?;
            }
            tx.commit()?;
            Ok::<_, PgStoreError>(decision.outcome)
        })?;
        if matches!(outcome, IdempotencyOutcome::Proceed(_)) {
            // Best effort: a failed purge is retried after the next interval.
            let _ = self.maybe_purge(now);
        }
        Ok(outcome)
    }

    fn complete(
        &self,
        scope: &IdempotencyScope,
        lease: LeaseToken,
        response: StoredResponse,
        now: OffsetDateTime,
    ) -> Result<Completion, Self::Error> {
        self.complete_with(scope, lease, response, now, |_| Ok::<_, PgStoreError>(()))
    }

    fn release(&self, scope: &IdempotencyScope, lease: LeaseToken) -> Result<(), Self::Error> {
        self.pool.with_client(|client| {
            let mut tx = client.transaction()?;
            lock_scope(&mut tx, scope)?;
            let existing = load(&mut tx, scope)?;
            idempotency::release(existing.as_ref(), lease)?;
            delete(&mut tx, scope)?;
            tx.commit()?;
            Ok(())
        })
    }
}

/// A PostgreSQL [`TokenLedger`]: a primary-key insert, so exactly one of any number of
/// concurrent consumers of a token wins, in any process (DP-11).
#[derive(Debug)]
pub(crate) struct PgTokenLedger {
    pool: Arc<PgPool>,
}

impl PgTokenLedger {
    /// A ledger over `pool`.
    pub(crate) fn new(pool: Arc<PgPool>) -> Self {
        Self { pool }
    }
}

impl TokenLedger for PgTokenLedger {
    fn consume(&self, token_id: &str, now: OffsetDateTime) -> Result<(), LedgerError> {
        let inserted = self
            .pool
            .with_client(|client| {
                client.execute(
                    "INSERT INTO acp_consumed_tokens (token_id, consumed_us) VALUES ($1, $2)
                     ON CONFLICT (token_id) DO NOTHING",
                    &[&token_id, &to_us(now)],
                )
            })
            .map_err(|_| LedgerError::Unavailable)?;
        if inserted == 1 {
            Ok(())
        } else {
            Err(LedgerError::AlreadyUsed)
        }
    }
}

/// Reads a JSON document and its version (incremented by every write).
///
/// # Errors
///
/// Database failures.
pub(crate) fn load_document_versioned(
    pool: &PgPool,
    kind: &str,
    id: &str,
) -> Result<Option<(String, u64)>, PgStoreError> {
    pool.with_client(|client| {
        let Some(row) = client.query_opt(
            "SELECT body, version FROM acp_documents WHERE kind = $1 AND id = $2",
            &[&kind, &id],
        )?
        else {
            return Ok(None);
        };
        let version = u64::try_from(row.try_get::<_, i64>(1)?)
            .map_err(|_| PgStoreError::Corrupt("document version"))?;
        Ok(Some((row.try_get(0)?, version)))
    })
}

/// Writes a JSON document inside `tx` only if it is at `expected` (`None`: only if absent),
/// compare-and-swap; returns the new version.
///
/// # Errors
///
/// [`PgStoreError::Stale`] when another writer got there first (nothing is written), or a
/// database failure.
pub(crate) fn save_document_if(
    tx: &mut Transaction<'_>,
    kind: &str,
    id: &str,
    body: &str,
    expected: Option<u64>,
) -> Result<u64, PgStoreError> {
    let written = match expected {
        None => tx.query_opt(
            "INSERT INTO acp_documents (kind, id, body, version) VALUES ($1, $2, $3, 1)
             ON CONFLICT (kind, id) DO NOTHING RETURNING version",
            &[&kind, &id, &body],
        )?,
        Some(version) => {
            let version =
                i64::try_from(version).map_err(|_| PgStoreError::Corrupt("document version"))?;
            tx.query_opt(
                "UPDATE acp_documents SET body = $3, version = version + 1
                  WHERE kind = $1 AND id = $2 AND version = $4 RETURNING version",
                &[&kind, &id, &body, &version],
            )?
        }
    };
    let row = written.ok_or(PgStoreError::Stale)?;
    u64::try_from(row.try_get::<_, i64>(0)?).map_err(|_| PgStoreError::Corrupt("document version"))
}

/// Reads a JSON document (a checkout session, a vaulted token) shared between processes.
///
/// # Errors
///
/// Database failures.
pub(crate) fn load_document(
    pool: &PgPool,
    kind: &str,
    id: &str,
) -> Result<Option<String>, postgres::Error> {
    pool.with_client(|client| {
        let row = client.query_opt(
            "SELECT body FROM acp_documents WHERE kind = $1 AND id = $2",
            &[&kind, &id],
        )?;
        row.map(|r| r.try_get::<_, String>(0)).transpose()
    })
}

/// Writes a JSON document inside `tx` (so it commits with the idempotency record, IDEM-17).
///
/// # Errors
///
/// Database failures.
pub(crate) fn save_document(
    tx: &mut Transaction<'_>,
    kind: &str,
    id: &str,
    body: &str,
) -> Result<(), postgres::Error> {
    tx.execute(
        "INSERT INTO acp_documents (kind, id, body) VALUES ($1, $2, $3)
         ON CONFLICT (kind, id) DO UPDATE SET body = EXCLUDED.body,
             version = acp_documents.version + 1",
        &[&kind, &id, &body],
    )?;
    Ok(())
}

/// Writes a JSON document in its own transaction if it is at `expected` (see
/// [`save_document_if`]); returns the new version.
///
/// # Errors
///
/// [`PgStoreError::Stale`] or database failures.
pub(crate) fn put_document_if(
    pool: &PgPool,
    kind: &str,
    id: &str,
    body: &str,
    expected: Option<u64>,
) -> Result<u64, PgStoreError> {
    pool.with_client(|client| {
        let mut tx = client.transaction()?;
        let version = save_document_if(&mut tx, kind, id, body, expected)?;
        tx.commit()?;
        Ok(version)
    })
}

/// Writes a JSON document in its own transaction.
///
/// # Errors
///
/// Database failures.
pub(crate) fn put_document(
    pool: &PgPool,
    kind: &str,
    id: &str,
    body: &str,
) -> Result<(), postgres::Error> {
    pool.with_client(|client| {
        let mut tx = client.transaction()?;
        save_document(&mut tx, kind, id, body)?;
        tx.commit()
    })
}
