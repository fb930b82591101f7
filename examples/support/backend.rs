//! Storage for the example servers: idempotency records, JSON documents (checkout sessions,
//! vaulted tokens) and the token ledger, in memory by default or in PostgreSQL when a
//! `DATABASE_URL` is given. The crate's traits do the protocol work
//! ([`IdempotencyStore`], [`TokenLedger`]); this only picks the implementation.

#![allow(dead_code)] // Each binary that includes this module uses a different part of it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use agentic_commerce::allowance::{InMemoryTokenLedger, TokenLedger};
use agentic_commerce::idempotency::{
    Fingerprint, IdempotencyOutcome, IdempotencyPolicy, IdempotencyScope, IdempotencyStore,
    InMemoryIdempotencyStore, StoredResponse,
};
use time::OffsetDateTime;

use super::postgres::{self as pg, PgIdempotencyStore, PgPool, PgTokenLedger};

/// A storage failure, as text (it becomes a 500 `processing_error`).
#[derive(Debug, thiserror::Error)]
#[error("storage: {0}")]
pub(crate) struct BackendError(pub String);

fn err(e: impl std::fmt::Display) -> BackendError {
    BackendError(e.to_string())
}

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

/// In-memory or PostgreSQL storage.
pub(crate) enum Backend {
    /// One process only; lost on restart.
    Memory {
        /// Idempotency records.
        idem: InMemoryIdempotencyStore,
        /// Documents by (kind, id).
        docs: Mutex<BTreeMap<(String, String), String>>,
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
            docs: Mutex::new(BTreeMap::new()),
            ledger: InMemoryTokenLedger::new(),
        }
    }

    /// PostgreSQL storage at `url` (tables are created if missing).
    ///
    /// # Errors
    ///
    /// When the database is unreachable.
    pub(crate) fn postgres(url: &str) -> Result<Self, BackendError> {
        let pool = Arc::new(PgPool::connect(url).map_err(err)?);
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

    /// Stores `docs` and the response for `scope` (one transaction in PostgreSQL, IDEM-17).
    /// A 5xx response stores nothing and releases the key (IDEM-13).
    ///
    /// # Errors
    ///
    /// Storage failures.
    pub(crate) fn finish(
        &self,
        scope: &IdempotencyScope,
        response: StoredResponse,
        docs: &[Document],
        now: OffsetDateTime,
    ) -> Result<(), BackendError> {
        match self {
            Self::Memory {
                idem, docs: map, ..
            } => {
                if !response.is_server_error() {
                    let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
                    for doc in docs {
                        map.insert((doc.kind.to_owned(), doc.id.clone()), doc.body.clone());
                    }
                }
                idem.complete(scope, response, now).map(|_| ()).map_err(err)
            }
            Self::Postgres { idem, .. } => idem
                .complete_with(scope, response, now, |tx| {
                    docs.iter()
                        .try_for_each(|d| pg::save_document(tx, d.kind, &d.id, &d.body))
                })
                .map(|_| ())
                .map_err(err),
        }
    }

    /// Drops an in-flight reservation (nothing was done).
    pub(crate) fn release(&self, scope: &IdempotencyScope) {
        // Best effort: an unreleased reservation expires with its lease anyway.
        let _ = match self {
            Self::Memory { idem, .. } => idem.release(scope).map_err(err),
            Self::Postgres { idem, .. } => idem.release(scope).map_err(err),
        };
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
                .get(&(kind.to_owned(), id.to_owned()))
                .cloned()),
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
                    .insert((doc.kind.to_owned(), doc.id.clone()), doc.body.clone());
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
