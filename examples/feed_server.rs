//! An agent platform's product-feed API (ACP 2026-04-17): merchants push their catalogs here.
//!
//! ```text
//! cargo run --example feed_server -- [--addr 127.0.0.1:8082] [--merchant-key MERCHANT_ID=KEY ...]
//!     [--database-url postgres://…] [--db-pool-size N]
//! ```
//!
//! Run with `--help` for every flag and its environment variable. Prints
//! `listening on http://HOST:PORT`. Point the example merchant at it with
//! `merchant_server --feed-url http://HOST:PORT --feed-key KEY`.

#[path = "support/flags.rs"]
mod flags;
#[path = "feed_server/server.rs"]
mod server;

use std::net::SocketAddr;
use std::process::ExitCode;

const USAGE: &str = "\
feed_server: an agent platform's product-feed API (create, retrieve, read, upsert feeds).

Usage: feed_server [FLAGS]

Flags (each also read from the environment variable in brackets):
  --addr HOST:PORT              listen address [FEED_ADDR] (default 127.0.0.1:8082)
  --merchant-key ID=KEY         a merchant's key, mapped to its merchant id; each merchant sees
                                only its own feeds; repeat for each merchant
                                [FEED_MERCHANT_KEYS, comma-separated]
                                (default trailhead_outfitters=dev-feed-key)
  --database-url URL            PostgreSQL URL; default in memory [DATABASE_URL]
  --db-pool-size N              most PostgreSQL connections [ACP_DB_POOL_SIZE] (default 16)
  -h, --help                    print this help and exit

Without --merchant-key the server uses a built-in development key: allowed on a loopback
address only (with a warning).
";

const VALUED: &[&str] = &["addr", "merchant-key", "database-url", "db-pool-size"];

fn config(flags: &flags::Flags) -> Result<(SocketAddr, server::FeedServerConfig), String> {
    let mut config = server::FeedServerConfig::default();
    let addr: SocketAddr = flags
        .get("addr", "FEED_ADDR")
        .unwrap_or_else(|| "127.0.0.1:8082".to_owned())
        .parse()
        .map_err(|e| format!("--addr: {e}"))?;
    let merchant_keys = flags.get_all("merchant-key", "FEED_MERCHANT_KEYS");
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
    config.database_url = flags.get("database-url", "DATABASE_URL");
    if let Some(v) = flags.get("db-pool-size", "ACP_DB_POOL_SIZE") {
        config.db_pool_size = v
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(format!("--db-pool-size: {v:?} is not a positive integer"))?;
    }
    flags::check_dev_credentials("feed_server", addr, &config.dev_credentials())?;
    Ok((addr, config))
}

#[tokio::main]
async fn main() -> ExitCode {
    let flags = match flags::Flags::parse(std::env::args().skip(1), VALUED, &[]) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("feed_server: {e}");
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
            eprintln!("feed_server: {e}");
            return ExitCode::from(2);
        }
    };
    match server::spawn(config, addr).await {
        Ok((local, handle)) => {
            println!("listening on http://{local}");
            let _ = handle.await;
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("feed_server: {e}");
            ExitCode::FAILURE
        }
    }
}
