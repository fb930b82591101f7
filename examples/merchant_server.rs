//! An ACP merchant: every checkout operation of 2026-04-17, discovery, signed order webhooks.
//!
//! ```text
//! cargo run --example merchant_server -- [--addr 127.0.0.1:8080] [--api-key KEY]
//!     [--catalog FILE] [--merchant-id ID] [--webhook-url URL] [--webhook-secret S]
//!     [--signing-secret S | --no-signatures] [--psp-url URL] [--psp-api-key KEY]
//!     [--database-url postgres://…] [--db-pool-size N] [--public-url URL] [--latency-ms N]
//! ```
//!
//! Every flag has an environment variable: `ACP_ADDR`, `ACP_API_KEY`, `ACP_CATALOG`,
//! `ACP_MERCHANT_ID`, `ACP_WEBHOOK_URL`, `ACP_WEBHOOK_SECRET`, `ACP_SIGNING_SECRET`,
//! `ACP_PSP_URL`, `ACP_PSP_API_KEY`, `DATABASE_URL`, `ACP_PUBLIC_URL`, `ACP_LATENCY_MS`,
//! `ACP_DB_POOL_SIZE` (most PostgreSQL connections, default 16). The defaults
//! (`dev-merchant-key`, `dev-webhook-secret`, `dev-signing-secret`, `dev-psp-key`) are for
//! local use only. Prints `listening on http://HOST:PORT` once it accepts connections.

#[path = "support/backend.rs"]
mod backend;
#[path = "support/flags.rs"]
mod flags;
#[path = "support/http.rs"]
mod http;
#[path = "support/postgres.rs"]
mod postgres;

#[path = "merchant_server/app.rs"]
mod app;
#[path = "merchant_server/catalog.rs"]
mod catalog;
#[path = "merchant_server/checkout.rs"]
mod checkout;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

const VALUED: &[&str] = &[
    "addr",
    "api-key",
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
];

fn config(flags: &flags::Flags) -> Result<(SocketAddr, app::Config), String> {
    let mut config = app::Config::default();
    let addr: SocketAddr = flags
        .get("addr", "ACP_ADDR")
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
        .parse()
        .map_err(|e| format!("--addr: {e}"))?;
    if let Some(v) = flags.get("api-key", "ACP_API_KEY") {
        config.api_key = v;
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
    Ok((addr, config))
}

#[tokio::main]
async fn main() -> ExitCode {
    let parsed = flags::Flags::parse(std::env::args().skip(1), VALUED, &["no-signatures"])
        .and_then(|f| config(&f));
    let (addr, config) = match parsed {
        Ok(x) => x,
        Err(e) => {
            eprintln!("merchant_server: {e}");
            return ExitCode::from(2);
        }
    };
    match app::spawn(config, addr).await {
        Ok((local, handle)) => {
            println!("listening on http://{local}");
            let _ = handle.await;
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("merchant_server: {e}");
            ExitCode::FAILURE
        }
    }
}
