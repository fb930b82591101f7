//! [`PgConfig`]: pool bounds, timeouts, schema, idempotency policy and purge cadence.

use std::time::Duration;

use agentic_commerce::trust::idempotency::IdempotencyPolicy;

use crate::PgError;

/// How a [`PgStore`](crate::PgStore) connects and behaves. Start from
/// [`PgConfig::default`] and change what you need with the `with_*` methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgConfig {
    max_connections: usize,
    acquire_timeout: Duration,
    statement_timeout: Duration,
    schema: Option<String>,
    policy: IdempotencyPolicy,
    purge_every: u64,
    purge_batch: i64,
    max_feeds: usize,
    max_products_per_feed: usize,
}

impl PgConfig {
    /// The default bound of the pool: 16 connections.
    pub const DEFAULT_MAX_CONNECTIONS: usize = 16;
    /// The default deadline of one pool acquire (waiting for a free slot and, if needed,
    /// opening a connection): 5 seconds.
    pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
    /// The default `statement_timeout` (and `idle_in_transaction_session_timeout`) of every
    /// pooled connection: 5 seconds.
    pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);
    /// By default every 1000th write purges expired idempotency records.
    pub const DEFAULT_PURGE_EVERY: u64 = 1000;
    /// The most records one opportunistic purge deletes.
    pub const DEFAULT_PURGE_BATCH: i64 = 10_000;

    /// At most `max` connections open at once (0 counts as 1).
    #[must_use]
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// The deadline of one pool acquire; past it the operation fails with
    /// [`PgError::PoolTimeout`] instead of waiting longer.
    #[must_use]
    pub fn with_acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// The server-side `statement_timeout` of every pooled connection (at least 1 ms); it also
    /// bounds waits for row and advisory locks. The same value is used as
    /// `idle_in_transaction_session_timeout`, so a transaction abandoned by a cancelled task
    /// cannot hold locks for long.
    #[must_use]
    pub fn with_statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Keeps the tables in the PostgreSQL schema `schema` (created if absent) instead of the
    /// connection's default `search_path`: several independent stores can share a database.
    ///
    /// # Errors
    ///
    /// [`PgError::Config`] unless the name is 1 to 63 characters of `a-z`, `0-9` and `_`,
    /// not starting with a digit (so it never needs quoting).
    pub fn with_schema(mut self, schema: &str) -> Result<Self, PgError> {
        let valid = (1..=63).contains(&schema.len())
            && schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && !schema.as_bytes()[0].is_ascii_digit();
        if !valid {
            return Err(PgError::Config(format!(
                "schema name {schema:?}: use 1 to 63 of a-z, 0-9 and _, not starting with a digit"
            )));
        }
        self.schema = Some(schema.to_owned());
        Ok(self)
    }

    /// The idempotency policy (retention, in-flight lease, `Retry-After`).
    #[must_use]
    pub fn with_policy(mut self, policy: IdempotencyPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Every `n`th write (a reservation or a commit) of a store also deletes up to
    /// [`DEFAULT_PURGE_BATCH`](Self::DEFAULT_PURGE_BATCH) idempotency records past retention;
    /// 0 turns this off (call [`PgStore::purge_expired`](crate::PgStore::purge_expired)
    /// yourself then).
    #[must_use]
    pub fn with_purge_every(mut self, n: u64) -> Self {
        self.purge_every = n;
        self
    }

    /// At most `feeds` feeds in the database and `products` products in each
    /// ([`FeedStore`](agentic_commerce::engine::feeds::FeedStore)); a write past either is
    /// refused whole. Defaults: the core's
    /// [`DEFAULT_MAX_FEEDS`](agentic_commerce::engine::feeds::DEFAULT_MAX_FEEDS) and
    /// [`DEFAULT_MAX_PRODUCTS_PER_FEED`](agentic_commerce::engine::feeds::DEFAULT_MAX_PRODUCTS_PER_FEED).
    #[must_use]
    pub fn with_feed_bounds(mut self, feeds: usize, products: usize) -> Self {
        self.max_feeds = feeds;
        self.max_products_per_feed = products;
        self
    }

    /// The most feeds the store keeps.
    pub fn max_feeds(&self) -> usize {
        self.max_feeds
    }

    /// The most products of one feed.
    pub fn max_products_per_feed(&self) -> usize {
        self.max_products_per_feed
    }

    /// The bound of the pool.
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// The deadline of one pool acquire.
    pub fn acquire_timeout(&self) -> Duration {
        self.acquire_timeout
    }

    /// The `statement_timeout` of every pooled connection.
    pub fn statement_timeout(&self) -> Duration {
        self.statement_timeout
    }

    /// The PostgreSQL schema of the tables, if one was set.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The idempotency policy.
    pub fn policy(&self) -> &IdempotencyPolicy {
        &self.policy
    }

    /// How many writes between opportunistic purges (0: never).
    pub fn purge_every(&self) -> u64 {
        self.purge_every
    }

    pub(crate) fn purge_batch(&self) -> i64 {
        self.purge_batch
    }
}

impl Default for PgConfig {
    /// 16 connections, 5 s acquire deadline, 5 s statement timeout, the default schema
    /// (`search_path`), [`IdempotencyPolicy::default`], a purge every 1000 writes.
    fn default() -> Self {
        Self {
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            acquire_timeout: Self::DEFAULT_ACQUIRE_TIMEOUT,
            statement_timeout: Self::DEFAULT_STATEMENT_TIMEOUT,
            schema: None,
            policy: IdempotencyPolicy::default(),
            purge_every: Self::DEFAULT_PURGE_EVERY,
            purge_batch: Self::DEFAULT_PURGE_BATCH,
            max_feeds: agentic_commerce::engine::feeds::DEFAULT_MAX_FEEDS,
            max_products_per_feed: agentic_commerce::engine::feeds::DEFAULT_MAX_PRODUCTS_PER_FEED,
        }
    }
}
