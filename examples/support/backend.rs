//! Storage for the example servers: idempotency records, JSON documents (checkout sessions,
//! vaulted tokens) and the token ledger, in memory by default or in PostgreSQL when a
//! `DATABASE_URL` is given. The crate's traits do the protocol work
//! ([`IdempotencyStore`], [`TokenLedger`]); this only picks the implementation.

#![allow(dead_code)] // Each binary that includes this module uses a different part of it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use agentic_commerce::trust::allowance::{InMemoryTokenLedger, TokenLedger};
use agentic_commerce::trust::idempotency::{
    CompleteError, Fingerprint, IdempotencyOutcome, IdempotencyPolicy, IdempotencyScope,
    IdempotencyStore, InMemoryIdempotencyStore, LeaseToken, StoredResponse,
};
use time::{Duration, OffsetDateTime};

use super::postgres::{self as pg, PgIdempotencyStore, PgPool, PgStoreError, PgTokenLedger};

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BackendError {
    /// A storage failure, as text (it becomes a 500 `processing_error`).
    #[error("storage: {0}")]
    Storage(String),
    /// A conditional write found the document changed by a concurrent request; nothing was
    /// written.
    #[error("the document was changed by a concurrent request")]
    Stale,
    /// The idempotency reservation is no longer this request's (its lease ran out and a retry
    /// took the key over); nothing was written.
    #[error("the idempotency reservation belongs to another request")]
    LeaseLost,
}

fn err(e: impl std::fmt::Display) -> BackendError {
    BackendError::Storage(e.to_string())
}

fn complete_err(e: CompleteError) -> BackendError {
    match e {
        CompleteError::LeaseLost => BackendError::LeaseLost,
        other => err(other),
    }
}

fn pg_err(e: PgStoreError) -> BackendError {
    match e {
        PgStoreError::Stale => BackendError::Stale,
        PgStoreError::Complete(c) => complete_err(c),
        other => err(other),
    }
}

/// In-memory documents are dropped this long after their last write (sessions and vaulted
/// tokens of a demo; a purge runs on writes, see [`Docs`]).
pub(crate) const DOCUMENT_RETENTION: Duration = Duration::hours(24);
/// The fewest in-memory documents at which a write purges old ones.
const MIN_DOCUMENT_PURGE: usize = 1024;

/// A document to write together with a completed idempotency record.
#[derive(Debug)]
pub(crate) struct Document {
    /// Document kind (`checkout_session`, `vault_token`).
    pub(crate) kind: &'static str,
    /// Document id.
    pub(crate) id: String,
    /// JSON text.
    pub(crate) body: String,
}

/// A compare-and-swap condition on a document written by [`Backend::finish`]: the write
/// happens only if the stored document is at `version` (`None`: does not exist yet).
#[derive(Debug, Clone)]
pub(crate) struct Guard {
    /// Document kind.
    pub(crate) kind: &'static str,
    /// Document id.
    pub(crate) id: String,
    /// The version read before the change.
    pub(crate) version: Option<u64>,
}

/// One stored in-memory document.
#[derive(Debug)]
struct StoredDoc {
    body: String,
    version: u64,
    written_at: OffsetDateTime,
}

/// In-memory documents. Memory is bounded without a timer: when a write finds the map at its
/// purge threshold it drops documents not written for [`DOCUMENT_RETENTION`], and the next
/// threshold is twice what is left (at least 1024), so at most about twice the documents
/// written within one retention period are held.
#[derive(Debug)]
pub(crate) struct Docs {
    map: BTreeMap<(String, String), StoredDoc>,
    purge_threshold: usize,
}

impl Default for Docs {
    fn default() -> Self {
        Self {
            map: BTreeMap::new(),
            purge_threshold: MIN_DOCUMENT_PURGE,
        }
    }
}

impl Docs {
    fn version(&self, kind: &str, id: &str) -> Option<u64> {
        self.map
            .get(&(kind.to_owned(), id.to_owned()))
            .map(|d| d.version)
    }

    /// Writes `doc` (version + 1); purges old documents first when the map is at its
    /// threshold.
    fn write(&mut self, doc: &Document, now: OffsetDateTime) -> u64 {
        if self.map.len() >= self.purge_threshold {
            self.map
                .retain(|_, d| now < d.written_at + DOCUMENT_RETENTION);
            self.purge_threshold = self.map.len().saturating_mul(2).max(MIN_DOCUMENT_PURGE);
        }
        let version = self
            .version(doc.kind, &doc.id)
            .unwrap_or(0)
            .saturating_add(1);
        self.map.insert(
            (doc.kind.to_owned(), doc.id.clone()),
            StoredDoc {
                body: doc.body.clone(),
                version,
                written_at: now,
            },
        );
        version
    }

    /// Number of documents held.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

/// In-memory or PostgreSQL storage.
pub(crate) enum Backend {
    /// One process only; lost on restart.
    Memory {
        /// Idempotency records.
        idem: InMemoryIdempotencyStore,
        /// Documents by (kind, id).
        docs: Mutex<Docs>,
        /// Consumed tokens.
        ledger: InMemoryTokenLedger,
    },
    /// Shared by every process using the same database.
    Postgres {
        /// The pool.
        pool: Arc<PgPool>,
        /// Idempotency records.
        idem: PgIdempotencyStore,
        /// Consumed tokens.
        ledger: PgTokenLedger,
    },
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

impl Backend {
    /// In-memory storage.
    pub(crate) fn memory() -> Self {
        Self::Memory {
            idem: InMemoryIdempotencyStore::new(IdempotencyPolicy::default()),
            docs: Mutex::new(Docs::default()),
            ledger: InMemoryTokenLedger::new(),
        }
    }

    /// PostgreSQL storage at `url` (tables are created if missing), with at most
    /// [`pg::DEFAULT_POOL_SIZE`] connections.
    ///
    /// # Errors
    ///
    /// When the database is unreachable.
    pub(crate) fn postgres(url: &str) -> Result<Self, BackendError> {
        Self::postgres_with_pool(url, pg::DEFAULT_POOL_SIZE)
    }

    /// PostgreSQL storage at `url` opening at most `pool_size` connections.
    ///
    /// # Errors
    ///
    /// When the database is unreachable.
    pub(crate) fn postgres_with_pool(url: &str, pool_size: usize) -> Result<Self, BackendError> {
        let pool = Arc::new(PgPool::connect_with_max(url, pool_size).map_err(err)?);
        Ok(Self::Postgres {
            idem: PgIdempotencyStore::new(Arc::clone(&pool), IdempotencyPolicy::default()),
            ledger: PgTokenLedger::new(Arc::clone(&pool)),
            pool,
        })
    }

    /// `memory` or `postgres`.
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Self::Memory { .. } => "memory",
            Self::Postgres { .. } => "postgres",
        }
    }

    /// Reserves `scope` or says how to answer (replay, conflict, in flight).
    ///
    /// # Errors
    ///
    /// Storage failures.
    pub(crate) fn begin(
        &self,
        scope: &IdempotencyScope,
        fingerprint: &Fingerprint,
        now: OffsetDateTime,
    ) -> Result<IdempotencyOutcome, BackendError> {
        match self {
            Self::Memory { idem, .. } => idem.begin(scope, fingerprint, now).map_err(err),
            Self::Postgres { idem, .. } => idem.begin(scope, fingerprint, now).map_err(err),
        }
    }

    /// Stores `docs` and the response for the reservation `lease` of `scope`, atomically (one
    /// lock in memory, one transaction in PostgreSQL, IDEM-17). A doc with a matching `guard`
    /// is written only if it is still at the guarded version (compare-and-swap). A 5xx
    /// response stores nothing and releases the key (IDEM-13).
    ///
    /// # Errors
    ///
    /// [`BackendError::Stale`] when a guard fails and [`BackendError::LeaseLost`] when the
    /// reservation is not `lease`'s any more (nothing is written in either case), or storage
    /// failures.
    pub(crate) fn finish(
        &self,
        scope: &IdempotencyScope,
        lease: LeaseToken,
        response: StoredResponse,
        docs: &[Document],
        guards: &[Guard],
        now: OffsetDateTime,
    ) -> Result<(), BackendError> {
        let guard_of = |doc: &Document| {
            guards
                .iter()
                .find(|g| g.kind == doc.kind && g.id == doc.id)
                .map(|g| g.version)
        };
        match self {
            Self::Memory {
                idem, docs: map, ..
            } => {
                // The document lock is held across the check, the idempotency record and the
                // writes, so no other finish interleaves.
                let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
                if !response.is_server_error()
                    && docs.iter().any(|doc| {
                        guard_of(doc).is_some_and(|want| map.version(doc.kind, &doc.id) != want)
                    })
                {
                    return Err(BackendError::Stale);
                }
                idem.complete(scope, lease, response.clone(), now)
                    .map_err(complete_err)?;
                if !response.is_server_error() {
                    for doc in docs {
                        map.write(doc, now);
                    }
                }
                Ok(())
            }
            Self::Postgres { idem, .. } => idem
                .complete_with(scope, lease, response, now, |tx| {
                    docs.iter().try_for_each(|d| match guard_of(d) {
                        Some(expected) => {
                            pg::save_document_if(tx, d.kind, &d.id, &d.body, expected).map(|_| ())
                        }
                        None => pg::save_document(tx, d.kind, &d.id, &d.body).map_err(Into::into),
                    })
                })
                .map(|_| ())
                .map_err(pg_err),
        }
    }

    /// Drops the in-flight reservation `lease` of `scope` (nothing was done).
    pub(crate) fn release(&self, scope: &IdempotencyScope, lease: LeaseToken) {
        // Best effort: an unreleased reservation expires with its lease anyway, and a
        // reservation taken over by another lease is refused without change.
        let _ = match self {
            Self::Memory { idem, .. } => idem.release(scope, lease).map_err(err),
            Self::Postgres { idem, .. } => idem.release(scope, lease).map_err(err),
        };
    }

    /// Reads a document and its version.
    ///
    /// # Errors
    ///
    /// Storage failures.
    pub(crate) fn load_versioned(
        &self,
        kind: &str,
        id: &str,
    ) -> Result<Option<(String, u64)>, BackendError> {
        match self {
            Self::Memory { docs, .. } => Ok(docs
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .map
                .get(&(kind.to_owned(), id.to_owned()))
                .map(|d| (d.body.clone(), d.version))),
            Self::Postgres { pool, .. } => {
                pg::load_document_versioned(pool, kind, id).map_err(pg_err)
            }
        }
    }

    /// Writes a document outside any idempotent request if it is still at `expected`
    /// (`None`: absent); returns the new version.
    ///
    /// # Errors
    ///
    /// [`BackendError::Stale`] when a concurrent request changed it (nothing is written), or
    /// storage failures.
    pub(crate) fn put_if(
        &self,
        doc: &Document,
        expected: Option<u64>,
        now: OffsetDateTime,
    ) -> Result<u64, BackendError> {
        match self {
            Self::Memory { docs, .. } => {
                let mut map = docs.lock().unwrap_or_else(PoisonError::into_inner);
                if map.version(doc.kind, &doc.id) != expected {
                    return Err(BackendError::Stale);
                }
                Ok(map.write(doc, now))
            }
            Self::Postgres { pool, .. } => {
                pg::put_document_if(pool, doc.kind, &doc.id, &doc.body, expected).map_err(pg_err)
            }
        }
    }

    /// Documents held in memory (`None` for PostgreSQL).
    pub(crate) fn documents_in_memory(&self) -> Option<usize> {
        match self {
            Self::Memory { docs, .. } => {
                Some(docs.lock().unwrap_or_else(PoisonError::into_inner).len())
            }
            Self::Postgres { .. } => None,
        }
    }

    /// Reads a document.
    ///
    /// # Errors
    ///
    /// Storage failures.
    pub(crate) fn load(&self, kind: &str, id: &str) -> Result<Option<String>, BackendError> {
        match self {
            Self::Memory { docs, .. } => Ok(docs
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .map
                .get(&(kind.to_owned(), id.to_owned()))
                .map(|d| d.body.clone())),
            Self::Postgres { pool, .. } => pg::load_document(pool, kind, id).map_err(err),
        }
    }

    /// Writes a document outside any idempotent request.
    ///
    /// # Errors
    ///
    /// Storage failures.
    pub(crate) fn put(&self, doc: &Document) -> Result<(), BackendError> {
        match self {
            Self::Memory { docs, .. } => {
                docs.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .write(doc, OffsetDateTime::now_utc());
                Ok(())
            }
            Self::Postgres { pool, .. } => {
                pg::put_document(pool, doc.kind, &doc.id, &doc.body).map_err(err)
            }
        }
    }

    /// The token ledger (DP-11).
    pub(crate) fn ledger(&self) -> &dyn TokenLedger {
        match self {
            Self::Memory { ledger, .. } => ledger,
            Self::Postgres { ledger, .. } => ledger,
        }
    }
}
