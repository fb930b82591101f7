//! PostgreSQL storage for the [`agentic_commerce`] role engines: [`PgStore`] implements the
//! core's asynchronous store traits
//! ([`AsyncIdempotencyStore`](agentic_commerce::engine::store::AsyncIdempotencyStore),
//! [`ResourceStore`](agentic_commerce::engine::store::ResourceStore) and
//! [`AsyncTokenLedger`](agentic_commerce::engine::store::AsyncTokenLedger)) over
//! [`tokio-postgres`](tokio_postgres), for any number of server processes sharing one
//! database.
//!
//! - **Idempotency** (IDEM-03..17): the core's pure decisions inside one transaction per
//!   operation, serialized per scope by a transaction-level advisory lock; lease tokens from a
//!   database sequence (fencing across processes).
//! - **Atomic commits** (IDEM-17): lease check, version-guarded document writes and the
//!   idempotency completion in one transaction; [`CommitOutcome::Conflict`] and
//!   [`CommitOutcome::LeaseLost`] write nothing.
//! - **Single-use payment tokens** (DP-11): a primary-key insert.
//! - **Product feeds**: [`FeedStore`](agentic_commerce::engine::feeds::FeedStore) for the
//!   core's feed engine; an upsert is one transaction under the feed's row lock (concurrent
//!   upserts lose no product), bounded by [`PgConfig::with_feed_bounds`].
//! - **Bounded**: at most [`PgConfig::max_connections`] connections, every pool acquire
//!   under a deadline ([`PgError::PoolTimeout`]), every statement under a
//!   `statement_timeout`; expired idempotency records are purged as writes go by and on
//!   demand, old documents on demand.
//! - **Self-migrating**: [`PgStore::connect`] creates or upgrades its tables, recorded in
//!   `acp_schema_migrations`, under an advisory lock, so several processes may start at once.
//!
//! [`CommitOutcome::Conflict`]: agentic_commerce::engine::store::CommitOutcome::Conflict
//! [`CommitOutcome::LeaseLost`]: agentic_commerce::engine::store::CommitOutcome::LeaseLost
//!
//! # Example
//!
//! ```no_run
//! use agentic_commerce::engine::store::{
//!     AsyncIdempotencyStore, Commit, CommitOutcome, ResourceKind, ResourceStore, Write,
//! };
//! use agentic_commerce::protocol::headers::IdempotencyKey;
//! use agentic_commerce::trust::idempotency::{
//!     Fingerprint, IdempotencyOutcome, IdempotencyScope, StoredResponse,
//! };
//! use agentic_commerce_postgres::{PgConfig, PgStore};
//! use time::OffsetDateTime;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = PgConfig::default()
//!     .with_max_connections(8)
//!     .with_acquire_timeout(std::time::Duration::from_secs(2));
//! let store = PgStore::connect("postgres://acp@127.0.0.1/shop", config).await?;
//!
//! let now = OffsetDateTime::now_utc();
//! let scope = IdempotencyScope::new(
//!     "merchant_42",
//!     "/checkout_sessions",
//!     IdempotencyKey::parse("key-1")?,
//! );
//! let body = br#"{"currency":"usd"}"#;
//! let fingerprint = Fingerprint::of_json(body)?;
//! if let IdempotencyOutcome::Proceed(lease) = store.begin(&scope, &fingerprint, now).await? {
//!     let session = serde_json::json!({"id": "cs_1", "status": "ready_for_payment"});
//!     let commit = Commit::new(
//!         scope,
//!         lease,
//!         Some(StoredResponse::new(201, session.to_string().into_bytes(), vec![])),
//!         vec![Write {
//!             kind: ResourceKind::CheckoutSession,
//!             id: "cs_1".to_owned(),
//!             document: session.to_string(),
//!             expected_version: None,
//!         }],
//!     );
//!     assert_eq!(store.commit(commit, now).await?, CommitOutcome::Committed);
//! }
//! let stored = store.load(ResourceKind::CheckoutSession, "cs_1").await?;
//! assert_eq!(stored.map(|v| v.version), Some(1));
//! # Ok(())
//! # }
//! ```
//!
//! # Schema
//!
//! Tables (in [`PgConfig::with_schema`]'s schema, else the connection's `search_path`):
//! `acp_idempotency_records` (one row per scope: fingerprint, in-flight lease or stored
//! response, end of retention), `acp_resources` (kind, id, JSON text, version, last write),
//! `acp_consumed_tokens` (the example servers' ledger table, same columns), the sequence
//! `acp_idempotency_lease_seq`, `acp_feeds` (id, owner, metadata JSON text) and
//! `acp_feed_products` (feed id, product id, product JSON text), and `acp_schema_migrations`
//! (version, name, applied at).
//! Times are microseconds since the Unix epoch (`BIGINT`).
//!
//! # Connections
//!
//! Plain TCP or Unix sockets, without TLS. The store needs a Tokio runtime.

mod config;
mod error;
mod feeds;
mod outbox;
mod pool;
mod schema;
mod store;

pub use config::PgConfig;
pub use error::PgError;
pub use schema::SCHEMA_VERSION;
pub use store::{PgStore, PoolStatus};
