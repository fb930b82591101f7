//! [`PgError`].

use std::time::Duration;

use agentic_commerce::trust::idempotency::CompleteError;

/// Why a [`PgStore`](crate::PgStore) operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgError {
    /// The database failed, refused a statement (for example on `statement_timeout`), or the
    /// connection broke. For a commit whose connection broke the outcome is unknown.
    #[error("database: {}", describe(.0))]
    Db(#[from] tokio_postgres::Error),
    /// No pooled connection could be had within the configured acquire deadline (every
    /// connection busy, or the server slow to accept a new one).
    #[error("no database connection within {0:?}")]
    PoolTimeout(Duration),
    /// An invalid URL or [`PgConfig`](crate::PgConfig) value.
    #[error("configuration: {0}")]
    Config(String),
    /// `complete` or `release` of a reservation that is not in flight under this lease
    /// (nothing was changed).
    #[error(transparent)]
    Lease(#[from] CompleteError),
    /// A stored row could not be decoded (written by something else, or damaged).
    #[error("corrupt row: {0}")]
    Corrupt(&'static str),
}

impl PgError {
    /// The [`CompleteError`] of a refused `complete` or `release`, if that is what this is.
    pub fn lease_error(&self) -> Option<&CompleteError> {
        match self {
            Self::Lease(e) => Some(e),
            _ => None,
        }
    }
}

/// The server's message and SQLSTATE when there is one (`tokio_postgres::Error`'s `Display`
/// is only "db error" for server errors).
fn describe(e: &tokio_postgres::Error) -> String {
    e.as_db_error().map_or_else(
        || e.to_string(),
        |db| format!("{} ({})", db.message(), db.code().code()),
    )
}
