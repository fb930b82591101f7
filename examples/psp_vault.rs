//! An ACP delegate-payment vault (the PSP side).
//!
//! ```text
//! cargo run --example psp_vault -- [--addr 127.0.0.1:8081] [--api-key KEY]
//!     [--merchant-key MERCHANT_ID=KEY ...] [--signing-secret S] [--database-url postgres://…]
//!     [--db-pool-size N]
//! ```
//!
//! Run with `--help` for every flag and its environment variable. Prints
//! `listening on http://HOST:PORT`.

#[path = "support/flags.rs"]
mod flags;
#[path = "psp_vault/vault.rs"]
mod vault;

use std::net::SocketAddr;
use std::process::ExitCode;

const USAGE: &str = "\
psp_vault: an ACP delegate-payment vault (the PSP side of the example).

Usage: psp_vault [FLAGS]

Flags (each also read from the environment variable in brackets):
  --addr HOST:PORT              listen address [VAULT_ADDR] (default 127.0.0.1:8081)
  --api-key KEY                 bearer token agents use for delegate_payment [VAULT_API_KEY]
  --merchant-key ID=KEY         a merchant's charge key, mapped to its merchant_id; repeat
                                for each merchant [VAULT_MERCHANT_KEYS, comma-separated]
                                (default trailhead_outfitters=dev-psp-key)
  --signing-secret S            HMAC secret agents sign delegate_payment with
                                [VAULT_SIGNING_SECRET]
  --database-url URL            PostgreSQL URL; default in memory [DATABASE_URL]
  --db-pool-size N              most PostgreSQL connections [ACP_DB_POOL_SIZE] (default 16)
  -h, --help                    print this help and exit

Without --api-key, --merchant-key and --signing-secret the vault uses built-in development
credentials: allowed on a loopback address only (with a warning).
";

const VALUED: &[&str] = &[
    "addr",
    "api-key",
    "merchant-key",
    "signing-secret",
    "database-url",
    "db-pool-size",
];

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
    let merchant_keys = flags.get_all("merchant-key", "VAULT_MERCHANT_KEYS");
    if !merchant_keys.is_empty() {
        config.merchant_keys = merchant_keys
            .iter()
            .map(|pair| match pair.split_once('=') {
                Some((id, key)) if !id.is_empty() && !key.is_empty() => {
                    Ok((id.to_owned(), key.to_owned()))
                }
                // The value holds a key: never echo it.
                _ => Err("--merchant-key needs MERCHANT_ID=KEY".to_owned()),
            })
            .collect::<Result<_, _>>()?;
    }
    if let Some(v) = flags.get("signing-secret", "VAULT_SIGNING_SECRET") {
        config.signing_secret = v.into_bytes();
    }
    config.database_url = flags.get("database-url", "DATABASE_URL");
    if let Some(v) = flags.get("db-pool-size", "ACP_DB_POOL_SIZE") {
        config.db_pool_size = v
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(format!("--db-pool-size: {v:?} is not a positive integer"))?;
    }
    flags::check_dev_credentials("psp_vault", addr, &config.dev_credentials())?;
    Ok((addr, config))
}

/// Many small, short-lived allocations on every worker thread: see the `mimalloc` entry in
/// `Cargo.toml`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let flags = match flags::Flags::parse(std::env::args().skip(1), VALUED, &[]) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("psp_vault: {e}");
            return ExitCode::from(2);
        }
    };
    if flags.help() {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let (addr, config) = match config(&flags) {
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
