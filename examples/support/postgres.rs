//! PostgreSQL implementations of the crate's storage traits, for running several server
//! processes against one database: [`PgIdempotencyStore`]
//! ([`agentic_commerce::idempotency::IdempotencyStore`]) and [`PgTokenLedger`]
//! ([`agentic_commerce::allowance::TokenLedger`]).
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

#![allow(dead_code)] // Each binary that includes this module uses a different part of it.

use std::sync::{Arc, Mutex, PoisonError};

use agentic_commerce::allowance::{LedgerError, TokenLedger};
use agentic_commerce::idempotency::{
    self, Completion, Fingerprint, IdempotencyOutcome, IdempotencyPolicy, IdempotencyRecord,
    IdempotencyScope, IdempotencyStore, RecordState, StoredResponse,
};
use postgres::{Client, NoTls, Transaction};
use time::OffsetDateTime;

/// Why a PostgreSQL store operation failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PgStoreError {
    /// The database failed or is unreachable.
    #[error("database: {}", describe(.0))]
    Db(#[from] postgres::Error),
    /// The scope has no in-flight reservation to complete.
    #[error(transparent)]
    Complete(#[from] idempotency::CompleteError),
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

/// A tiny connection pool: idle clients are reused, new ones are opened on demand. Enough for
/// an example; use `deadpool-postgres` or `r2d2` in production.
pub(crate) struct PgPool {
    url: String,
    idle: Mutex<Vec<Client>>,
}

impl PgPool {
    /// Connects once (to fail fast on a bad URL) and creates the tables if needed.
    ///
    /// # Errors
    ///
    /// When the server is unreachable or the schema cannot be created.
    pub(crate) fn connect(url: &str) -> Result<Self, postgres::Error> {
        let mut client = Client::connect(url, NoTls)?;
        migrate(&mut client)?;
        Ok(Self {
            url: url.to_owned(),
            idle: Mutex::new(vec![client]),
        })
    }

    /// Runs `f` with a pooled client.
    ///
    /// # Errors
    ///
    /// Connection failures and whatever `f` returns.
    pub(crate) fn with_client<T, E: From<postgres::Error>>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, E>,
    ) -> Result<T, E> {
        let pooled = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut client = match pooled {
            Some(client) if !client.is_closed() => client,
            _ => Client::connect(&self.url, NoTls)?,
        };
        let result = f(&mut client);
        if !client.is_closed() {
            self.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(client);
        }
        result
    }
}

impl Drop for PgPool {
    fn drop(&mut self) {
        // A synchronous client blocks while it closes, which must not happen on an async
        // runtime thread (the pool may be dropped there when a server task ends).
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(PoisonError::into_inner));
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
#[derive(Debug)]
pub(crate) struct PgIdempotencyStore {
    pool: Arc<PgPool>,
    policy: IdempotencyPolicy,
}

impl PgIdempotencyStore {
    /// A store over `pool` with `policy`.
    pub(crate) fn new(pool: Arc<PgPool>, policy: IdempotencyPolicy) -> Self {
        Self { pool, policy }
    }

    /// Records `response` for `scope` and runs `effect` (the business write) in the same
    /// transaction, so either both are stored or neither is (IDEM-17).
    ///
    /// # Errors
    ///
    /// [`PgStoreError::Complete`] when the scope is not in flight (nothing is written), or a
    /// database error (the transaction is rolled back).
    pub(crate) fn complete_with(
        &self,
        scope: &IdempotencyScope,
        response: StoredResponse,
        now: OffsetDateTime,
        effect: impl FnOnce(&mut Transaction<'_>) -> Result<(), postgres::Error>,
    ) -> Result<Completion, PgStoreError> {
        self.pool.with_client(|client| {
            let mut tx = client.transaction()?;
            lock_scope(&mut tx, scope)?;
            let existing = load(&mut tx, scope)?;
            let completion = idempotency::complete(existing.as_ref(), response, now, &self.policy)?;
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
        "SELECT fingerprint, lease_expires_us, status, body, headers, expires_us
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
        (Some(lease), None) => RecordState::InFlight {
            lease_expires_at: from_us(lease)?,
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
    let (lease, status, body, headers) = match record.state() {
        RecordState::InFlight { lease_expires_at } => {
            (Some(to_us(*lease_expires_at)), None, None, None)
        }
        RecordState::Completed { response } => (
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
             (identity, path, key, fingerprint, lease_expires_us, status, body, headers, expires_us)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (identity, path, key) DO UPDATE SET
             fingerprint = EXCLUDED.fingerprint, lease_expires_us = EXCLUDED.lease_expires_us,
             status = EXCLUDED.status, body = EXCLUDED.body, headers = EXCLUDED.headers,
             expires_us = EXCLUDED.expires_us",
        &[
            &scope.identity(),
            &scope.path(),
            &scope.key().as_str(),
            &record.fingerprint().to_hex(),
            &lease,
            &status,
            &body,
            &headers,
            &to_us(record.expires_at()),
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
        self.pool.with_client(|client| {
            let mut tx = client.transaction()?;
            lock_scope(&mut tx, scope)?;
            let existing = load(&mut tx, scope)?;
            let decision = idempotency::begin(existing.as_ref(), fingerprint, now, &self.policy);
            if let Some(record) = &decision.write {
                save(&mut tx, scope, record)?;
            }
            tx.commit()?;
            Ok(decision.outcome)
        })
    }

    fn complete(
        &self,
        scope: &IdempotencyScope,
        response: StoredResponse,
        now: OffsetDateTime,
    ) -> Result<Completion, Self::Error> {
        self.complete_with(scope, response, now, |_| Ok(()))
    }

    fn release(&self, scope: &IdempotencyScope) -> Result<(), Self::Error> {
        self.pool.with_client(|client| {
            let mut tx = client.transaction()?;
            lock_scope(&mut tx, scope)?;
            if let Some(record) = load(&mut tx, scope)? {
                if matches!(record.state(), RecordState::InFlight { .. }) {
                    delete(&mut tx, scope)?;
                }
            }
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
         ON CONFLICT (kind, id) DO UPDATE SET body = EXCLUDED.body",
        &[&kind, &id, &body],
    )?;
    Ok(())
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
