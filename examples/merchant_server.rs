//! An ACP merchant on the crate's merchant engine: every checkout and cart operation of every
//! released API version, the MCP binding (`/mcp`), discovery, signed order webhooks.
//!
//! ```text
//! cargo run --example merchant_server -- [--addr 127.0.0.1:8080] [--api-key KEY] [--admin-key KEY]
//!     [--catalog FILE] [--merchant-id ID] [--webhook-url URL] [--webhook-secret S]
//!     [--signing-secret S | --no-signatures] [--psp-url URL] [--psp-api-key KEY]
//!     [--database-url postgres://…] [--db-pool-size N] [--public-url URL] [--latency-ms N]
//!     [--outbound-timeout-ms N] [--webhook-backoff-ms N] [--webhook-lease-ms N]
//!     [--feed-url URL --feed-key KEY [--feed-id ID]]
//! ```
//!
//! Run with `--help` for every flag and its environment variable. The defaults
//! (`dev-merchant-key`, `dev-webhook-secret`, `dev-signing-secret`, `dev-psp-key`) are for
//! local use only: on a non-loopback address the server refuses to start with them. Prints
//! `listening on http://HOST:PORT` once it accepts connections.

#[path = "support/flags.rs"]
mod flags;

#[path = "merchant_server/admin.rs"]
mod admin;
#[path = "merchant_server/app.rs"]
mod app;
#[path = "merchant_server/catalog.rs"]
mod catalog;
#[path = "merchant_server/checkout.rs"]
mod checkout;
#[path = "merchant_server/config.rs"]
mod config;
#[path = "merchant_server/feed.rs"]
mod feed;
#[path = "merchant_server/orders.rs"]
mod orders;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "\
merchant_server: an ACP merchant (checkout, carts, MCP, discovery, signed order webhooks).

Usage: merchant_server [FLAGS]

Flags (each also read from the environment variable in brackets):
  --addr HOST:PORT              listen address [ACP_ADDR] (default 127.0.0.1:8080)
  --api-key KEY                 bearer token agents must send [ACP_API_KEY]
  --admin-key KEY               bearer token of the admin endpoints under /admin (ship,
                                deliver, cancel a line, refund) [MERCHANT_ADMIN_KEY]
  --catalog FILE                product feed, feed.ProductsResponse JSON [ACP_CATALOG]
                                (default examples/catalog.json)
  --merchant-id ID              merchant id delegated tokens are bound to [ACP_MERCHANT_ID]
                                (default trailhead_outfitters)
  --webhook-url URL             where order webhooks go; none: not sent [ACP_WEBHOOK_URL]
  --webhook-secret S            HMAC secret of Merchant-Signature [ACP_WEBHOOK_SECRET]
  --signing-secret S            HMAC secret agents sign requests with (timestamp and body)
                                [ACP_SIGNING_SECRET]
  --no-signatures               do not require request signatures (prints a warning)
  --psp-url URL                 the PSP vault's base URL [ACP_PSP_URL]
                                (default http://127.0.0.1:8081)
  --psp-api-key KEY             this merchant's key at the PSP [ACP_PSP_API_KEY]
  --database-url URL            PostgreSQL URL; default in memory [DATABASE_URL]
  --db-pool-size N              most PostgreSQL connections [ACP_DB_POOL_SIZE] (default 16)
  --public-url URL              URL clients reach this merchant at [ACP_PUBLIC_URL]
  --latency-ms N                simulated processing time of every write [ACP_LATENCY_MS]
  --outbound-timeout-ms N       limit of each PSP call and webhook delivery
                                [ACP_OUTBOUND_TIMEOUT_MS] (default 10000)
  --webhook-backoff-ms N        first retry delay of a failed order webhook, doubling up to
                                64 times it [ACP_WEBHOOK_BACKOFF_MS] (default 1000)
  --webhook-lease-ms N          how long a delivery attempt holds its event: after a crash
                                the event is sent again once it runs out; above
                                --outbound-timeout-ms [ACP_WEBHOOK_LEASE_MS]
                                (default twice the timeout + 30000)
  --feed-url URL                an agent platform's feed API to push the catalog to: all of
                                it on start, then each product whose stock moves
                                [ACP_FEED_URL]
  --feed-key KEY                this merchant's bearer token at the feed API [ACP_FEED_KEY]
  --feed-id ID                  push to this existing feed; default: create one on start
                                [ACP_FEED_ID]
  -h, --help                    print this help and exit

Without --api-key, --admin-key, --webhook-secret, --signing-secret (or --no-signatures) and
--psp-api-key the server uses built-in development credentials: allowed on a loopback address only (with a
warning).
";

const VALUED: &[&str] = &[
    "addr",
    "api-key",
    "admin-key",
    "catalog",
    "merchant-id",
    "webhook-url",
    "webhook-secret",
    "signing-secret",
    "psp-url",
    "psp-api-key",
    "database-url",
    "public-url",
    "latency-ms",
    "db-pool-size",
    "outbound-timeout-ms",
    "webhook-backoff-ms",
    "webhook-lease-ms",
    "feed-url",
    "feed-key",
    "feed-id",
];

fn settings(flags: &flags::Flags) -> Result<(SocketAddr, config::Config), String> {
    let mut config = config::Config::default();
    if let Some(url) = flags.get("feed-url", "ACP_FEED_URL") {
        config.feed = Some(feed::FeedTarget {
            url,
            key: flags
                .get("feed-key", "ACP_FEED_KEY")
                .ok_or("--feed-url needs --feed-key")?,
            feed_id: flags.get("feed-id", "ACP_FEED_ID"),
        });
    }
    let addr: SocketAddr = flags
        .get("addr", "ACP_ADDR")
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
        .parse()
        .map_err(|e| format!("--addr: {e}"))?;
    if let Some(v) = flags.get("api-key", "ACP_API_KEY") {
        config.api_key = v;
    }
    if let Some(v) = flags.get("admin-key", "MERCHANT_ADMIN_KEY") {
        config.admin_key = v;
    }
    if let Some(path) = flags.get("catalog", "ACP_CATALOG") {
        config.catalog_json = std::fs::read(&path).map_err(|e| format!("--catalog {path}: {e}"))?;
    }
    if let Some(v) = flags.get("merchant-id", "ACP_MERCHANT_ID") {
        config.merchant_id = v;
    }
    config.webhook_url = flags.get("webhook-url", "ACP_WEBHOOK_URL");
    if let Some(v) = flags.get("webhook-secret", "ACP_WEBHOOK_SECRET") {
        config.webhook_secret = v.into_bytes();
    }
    if flags.has("no-signatures") {
        config.signing_secret = None;
    } else if let Some(v) = flags.get("signing-secret", "ACP_SIGNING_SECRET") {
        config.signing_secret = Some(v.into_bytes());
    }
    if let Some(v) = flags.get("psp-url", "ACP_PSP_URL") {
        config.psp_url = v;
    }
    if let Some(v) = flags.get("psp-api-key", "ACP_PSP_API_KEY") {
        config.psp_api_key = v;
    }
    config.database_url = flags.get("database-url", "DATABASE_URL");
    config.public_url = flags.get("public-url", "ACP_PUBLIC_URL");
    if let Some(v) = flags.get("latency-ms", "ACP_LATENCY_MS") {
        config.latency =
            Duration::from_millis(v.parse().map_err(|e| format!("--latency-ms: {e}"))?);
    }
    if let Some(v) = flags.get("db-pool-size", "ACP_DB_POOL_SIZE") {
        config.db_pool_size = v
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(format!("--db-pool-size: {v:?} is not a positive integer"))?;
    }
    if let Some(v) = flags.get("outbound-timeout-ms", "ACP_OUTBOUND_TIMEOUT_MS") {
        let ms: u64 = v
            .parse()
            .map_err(|e| format!("--outbound-timeout-ms: {e}"))?;
        let timeout = Duration::from_millis(ms);
        // Below the idempotency lease, or a hung PSP outlives the reservation (issue 12).
        let lease =
            agentic_commerce::trust::idempotency::IdempotencyPolicy::DEFAULT_IN_FLIGHT_LEASE;
        if ms == 0 || time::Duration::try_from(timeout).map_or(true, |t| t >= lease) {
            return Err(format!(
                "--outbound-timeout-ms must be between 1 and {} (the idempotency lease)",
                lease.whole_milliseconds() - 1
            ));
        }
        config.psp_timeout = timeout;
    }
    if let Some(v) = flags.get("webhook-backoff-ms", "ACP_WEBHOOK_BACKOFF_MS") {
        let ms: u64 = v.parse().ok().filter(|n| *n > 0).ok_or(format!(
            "--webhook-backoff-ms: {v:?} is not a positive integer"
        ))?;
        config.webhook_backoff = Duration::from_millis(ms);
    }
    if let Some(v) = flags.get("webhook-lease-ms", "ACP_WEBHOOK_LEASE_MS") {
        let ms: u64 = v.parse().map_err(|e| format!("--webhook-lease-ms: {e}"))?;
        let lease = Duration::from_millis(ms);
        // A live worker's attempt must end before its claim does, or another sends it too.
        if lease <= config.psp_timeout {
            return Err("--webhook-lease-ms must be above --outbound-timeout-ms".to_owned());
        }
        config.webhook_lease = Some(lease);
    }
    if config.signing_secret.is_none() {
        eprintln!("merchant_server: warning: --no-signatures: request signatures are not checked");
    }
    flags::check_dev_credentials("merchant_server", addr, &config.dev_credentials())?;
    Ok((addr, config))
}

/// Many small, short-lived allocations on every worker thread: see the `mimalloc` entry in
/// `Cargo.toml`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let flags = match flags::Flags::parse(std::env::args().skip(1), VALUED, &["no-signatures"]) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("merchant_server: {e}");
            return ExitCode::from(2);
        }
    };
    if flags.help() {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let (addr, config) = match settings(&flags) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("merchant_server: {e}");
            return ExitCode::from(2);
        }
    };
    match app::spawn(config, addr).await {
        Ok((local, server)) => {
            println!("listening on http://{local}");
            if let Ok(Err(e)) = server.await {
                eprintln!("merchant_server: {e}");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("merchant_server: {e}");
            ExitCode::FAILURE
        }
    }
}
