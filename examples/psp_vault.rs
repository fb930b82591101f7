//! An ACP delegate-payment vault (the PSP side).
//!
//! ```text
//! cargo run --example psp_vault -- [--addr 127.0.0.1:8081] [--api-key KEY]
//!     [--merchant-api-key KEY] [--signing-secret S] [--database-url postgres://…]
//! ```
//!
//! Environment variables: `VAULT_ADDR`, `VAULT_API_KEY`, `VAULT_MERCHANT_API_KEY`,
//! `ACP_SIGNING_SECRET`, `DATABASE_URL`. Prints `listening on http://HOST:PORT`.

#[path = "support/backend.rs"]
mod backend;
#[path = "support/flags.rs"]
mod flags;
#[path = "support/http.rs"]
mod http;
#[path = "support/postgres.rs"]
mod postgres;
#[path = "psp_vault/vault.rs"]
mod vault;

use std::net::SocketAddr;
use std::process::ExitCode;

fn config(flags: &flags::Flags) -> Result<(SocketAddr, vault::VaultConfig), String> {
    let mut config = vault::VaultConfig::default();
    let addr: SocketAddr = flags
        .get("addr", "VAULT_ADDR")
        .unwrap_or_else(|| "127.0.0.1:8081".to_owned())
        .parse()
        .map_err(|e| format!("--addr: {e}"))?;
    if let Some(v) = flags.get("api-key", "VAULT_API_KEY") {
        config.agent_api_key = v;
    }
    if let Some(v) = flags.get("merchant-api-key", "VAULT_MERCHANT_API_KEY") {
        config.merchant_api_key = v;
    }
    if let Some(v) = flags.get("signing-secret", "ACP_SIGNING_SECRET") {
        config.signing_secret = v.into_bytes();
    }
    config.database_url = flags.get("database-url", "DATABASE_URL");
    Ok((addr, config))
}

#[tokio::main]
async fn main() -> ExitCode {
    let valued = [
        "addr",
        "api-key",
        "merchant-api-key",
        "signing-secret",
        "database-url",
    ];
    let parsed =
        flags::Flags::parse(std::env::args().skip(1), &valued, &[]).and_then(|f| config(&f));
    let (addr, config) = match parsed {
        Ok(x) => x,
        Err(e) => {
            eprintln!("psp_vault: {e}");
            return ExitCode::from(2);
        }
    };
    match vault::spawn(config, addr).await {
        Ok((local, handle)) => {
            println!("listening on http://{local}");
            let _ = handle.await;
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("psp_vault: {e}");
            ExitCode::FAILURE
        }
    }
}
