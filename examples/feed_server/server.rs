//! The example agent platform's feed API as a library: the core's feed engine
//! ([`agentic_commerce::engine::feeds`]) mounted with `agentic-commerce-axum`, storing in memory
//! or in PostgreSQL (`agentic-commerce-postgres`).
//!
//! Merchants push their catalogs here (FEED-01: feeds are agent-hosted): `POST /feeds`,
//! `GET /feeds/{id}`, `GET /feeds/{id}/products`, `PATCH /feeds/{id}/products`. Each merchant
//! has its own API key, mapped to its merchant id (`--merchant-key ID=KEY`), and sees only the
//! feeds it created (FEED-07).

use std::net::SocketAddr;
use std::sync::Arc;

use agentic_commerce::engine::auth::{BearerKeys, Identity};
use agentic_commerce::engine::feeds::{FeedEngine, InMemoryFeedStore};
use agentic_commerce::engine::store::InMemoryStore;
use agentic_commerce_postgres::{PgConfig, PgStore};

/// Default `--db-pool-size`.
pub(crate) const DEFAULT_POOL_SIZE: usize = 16;
/// The example merchant's id, which the default key is mapped to.
pub(crate) const DEV_MERCHANT_ID: &str = "trailhead_outfitters";
/// Default key of [`DEV_MERCHANT_ID`] for local use.
pub(crate) const DEV_MERCHANT_KEY: &str = "dev-feed-key";

/// Settings of the feed server.
#[derive(Clone)]
pub(crate) struct FeedServerConfig {
    /// One `(merchant_id, API key)` per merchant: feeds belong to the key's merchant.
    pub(crate) merchant_keys: Vec<(String, String)>,
    /// PostgreSQL URL (none: in memory).
    pub(crate) database_url: Option<String>,
    /// Most PostgreSQL connections this instance opens (`--db-pool-size`).
    pub(crate) db_pool_size: usize,
}

impl std::fmt::Debug for FeedServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys and the database URL (which may hold a password) are redacted.
        let merchants: Vec<&str> = self
            .merchant_keys
            .iter()
            .map(|(id, _)| id.as_str())
            .collect();
        f.debug_struct("FeedServerConfig")
            .field(
                "merchant_keys",
                &format_args!("{merchants:?} => [REDACTED]"),
            )
            .field(
                "database_url",
                &self.database_url.as_ref().map(|_| "[REDACTED]"),
            )
            .field("db_pool_size", &self.db_pool_size)
            .finish()
    }
}

impl Default for FeedServerConfig {
    fn default() -> Self {
        Self {
            merchant_keys: vec![(DEV_MERCHANT_ID.to_owned(), DEV_MERCHANT_KEY.to_owned())],
            database_url: None,
            db_pool_size: DEFAULT_POOL_SIZE,
        }
    }
}

impl FeedServerConfig {
    /// The built-in development credentials still in use, as the flag that replaces each.
    #[allow(dead_code)] // The server binary's check.
    pub(crate) fn dev_credentials(&self) -> Vec<&'static str> {
        if self
            .merchant_keys
            .iter()
            .any(|(_, k)| k == DEV_MERCHANT_KEY)
        {
            vec!["--merchant-key"]
        } else {
            Vec::new()
        }
    }
}

/// The feed routes (may connect to PostgreSQL).
///
/// # Errors
///
/// An unreachable database.
pub(crate) async fn router(config: FeedServerConfig) -> Result<axum::Router, String> {
    let merchants = config
        .merchant_keys
        .iter()
        .fold(BearerKeys::new(), |keys, (id, key)| {
            keys.key(key.clone(), Identity::new(id.clone()))
        });
    macro_rules! mount {
        ($feeds:expr, $idempotency:expr) => {{
            let engine = FeedEngine::builder($feeds, $idempotency)
                .merchants(merchants)
                .build()
                .map_err(|e| e.to_string())?;
            Ok(agentic_commerce_axum::router(Arc::new(engine)).into_router())
        }};
    }
    match &config.database_url {
        Some(url) => {
            let pg = PgStore::connect(
                url,
                PgConfig::default().with_max_connections(config.db_pool_size),
            )
            .await
            .map_err(|e| format!("database: {e}"))?;
            mount!(pg.clone(), pg)
        }
        None => mount!(InMemoryFeedStore::default(), InMemoryStore::default()),
    }
}

/// Binds `addr`, serves in the background, returns the bound address.
///
/// # Errors
///
/// Bind or [`router`] failures.
pub(crate) async fn spawn(
    config: FeedServerConfig,
    addr: SocketAddr,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("bind {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let app = router(config).await?;
    let handle = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("feed server stopped: {e}");
        }
    });
    Ok((local, handle))
}
