//! The example merchant's settings: every field is also a command-line flag of
//! `merchant_server` (see `examples/merchant_server.rs`), and `agent_client --spawn` and the
//! end-to-end tests build one directly.

use std::time::Duration;

/// Settings of one merchant server (each is also a command-line flag).
#[derive(Clone)]
pub(crate) struct Config {
    /// The accepted `Authorization: Bearer` token.
    pub(crate) api_key: String,
    /// The bearer token of the admin endpoints (`/admin`, `--admin-key`).
    pub(crate) admin_key: String,
    /// The merchant id that delegated tokens must be bound to (DP-10).
    pub(crate) merchant_id: String,
    /// The product feed (`feed.ProductsResponse` JSON).
    pub(crate) catalog_json: Vec<u8>,
    /// Where order webhooks go (none: not sent).
    pub(crate) webhook_url: Option<String>,
    /// HMAC secret for `Merchant-Signature` (WH-01).
    pub(crate) webhook_secret: Vec<u8>,
    /// Shared HS256 secret agents sign requests with (none: signatures are not checked).
    pub(crate) signing_secret: Option<Vec<u8>>,
    /// The PSP vault's base URL (charges).
    pub(crate) psp_url: String,
    /// Bearer token for the PSP.
    pub(crate) psp_api_key: String,
    /// PostgreSQL URL (none: in memory).
    pub(crate) database_url: Option<String>,
    /// The URL clients reach this merchant at (discovery `api_base_url`, links, order
    /// permalinks); every instance behind one load balancer shares it. Default: the bound
    /// address.
    pub(crate) public_url: Option<String>,
    /// Simulated processing time of every write (shows IDEM-12 in-flight handling).
    pub(crate) latency: Duration,
    /// Most PostgreSQL connections this instance opens (`--db-pool-size`).
    pub(crate) db_pool_size: usize,
    /// How long a call to the PSP or a webhook delivery may take in all (connect, send,
    /// answer); far below the idempotency lease, so a hung PSP cannot hold a key until it
    /// expires and let a retry charge again.
    pub(crate) psp_timeout: Duration,
    /// The first retry delay of a failed order webhook (`--webhook-backoff-ms`); the delay
    /// doubles per failure up to 64 times it (at most 10 minutes).
    pub(crate) webhook_backoff: Duration,
    /// How long a delivery attempt holds its event (`--webhook-lease-ms`); default: twice the
    /// outbound timeout plus 30 s.
    pub(crate) webhook_lease: Option<Duration>,
    /// The agent platform's feed API the catalog is pushed to (`--feed-url`, `--feed-key`,
    /// `--feed-id`); none: not pushed.
    pub(crate) feed: Option<super::feed::FeedTarget>,
}

/// Default [`Config::psp_timeout`]: 10 s, a thirtieth of the 5-minute idempotency lease
/// (`IdempotencyPolicy::DEFAULT_IN_FLIGHT_LEASE`).
pub(crate) const DEFAULT_OUTBOUND_TIMEOUT: Duration = Duration::from_secs(10);

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys, secrets and the database URL (which may hold a password) are redacted.
        const REDACTED: &str = "[REDACTED]";
        f.debug_struct("Config")
            .field("api_key", &REDACTED)
            .field("admin_key", &REDACTED)
            .field("merchant_id", &self.merchant_id)
            .field("webhook_url", &self.webhook_url)
            .field("webhook_secret", &REDACTED)
            .field(
                "signing_secret",
                &self.signing_secret.as_ref().map(|_| REDACTED),
            )
            .field("psp_url", &self.psp_url)
            .field("psp_api_key", &REDACTED)
            .field(
                "database_url",
                &self.database_url.as_ref().map(|_| REDACTED),
            )
            .field("public_url", &self.public_url)
            .field("latency", &self.latency)
            .field("psp_timeout", &self.psp_timeout)
            .field("webhook_backoff", &self.webhook_backoff)
            .field("webhook_lease", &self.webhook_lease)
            .field("feed", &self.feed)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// The built-in development credentials still in use, as the flag that replaces each.
    #[allow(dead_code)] // The server binary's check; `agent_client --spawn` embeds this too.
    pub(crate) fn dev_credentials(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.api_key == DEV_API_KEY {
            out.push("--api-key");
        }
        if self.admin_key == DEV_ADMIN_KEY {
            out.push("--admin-key");
        }
        if self.webhook_secret == DEV_WEBHOOK_SECRET.as_bytes() {
            out.push("--webhook-secret");
        }
        if self.signing_secret.as_deref() == Some(DEV_SIGNING_SECRET.as_bytes()) {
            out.push("--signing-secret");
        }
        if self.psp_api_key == DEV_PSP_KEY {
            out.push("--psp-api-key");
        }
        out
    }
}

/// Defaults for local use; `--api-key` etc. override them.
pub(crate) const DEV_API_KEY: &str = "dev-merchant-key";
/// Default admin key.
pub(crate) const DEV_ADMIN_KEY: &str = "dev-admin-key";
/// Default webhook secret.
pub(crate) const DEV_WEBHOOK_SECRET: &str = "dev-webhook-secret";
/// Default request-signing secret.
pub(crate) const DEV_SIGNING_SECRET: &str = "dev-signing-secret";
/// Default PSP key.
pub(crate) const DEV_PSP_KEY: &str = "dev-psp-key";

impl Default for Config {
    fn default() -> Self {
        Self {
            api_key: DEV_API_KEY.to_owned(),
            admin_key: DEV_ADMIN_KEY.to_owned(),
            merchant_id: "trailhead_outfitters".to_owned(),
            catalog_json: super::catalog::DEFAULT_CATALOG.as_bytes().to_vec(),
            webhook_url: None,
            webhook_secret: DEV_WEBHOOK_SECRET.as_bytes().to_vec(),
            signing_secret: Some(DEV_SIGNING_SECRET.as_bytes().to_vec()),
            psp_url: "http://127.0.0.1:8081".to_owned(),
            psp_api_key: DEV_PSP_KEY.to_owned(),
            database_url: None,
            public_url: None,
            latency: Duration::ZERO,
            db_pool_size: agentic_commerce_postgres::PgConfig::DEFAULT_MAX_CONNECTIONS,
            psp_timeout: DEFAULT_OUTBOUND_TIMEOUT,
            webhook_backoff: Duration::from_secs(1),
            webhook_lease: None,
            feed: None,
        }
    }
}
