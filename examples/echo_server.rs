//! A bare axum JSON echo server, the baseline of `acp load` (see `.ci/load`).
//!
//! ```text
//! cargo run --release --example echo_server -- [--listen 127.0.0.1:0]
//! ```
//!
//! Answers every `POST` on any path with its JSON body (`201` for `/checkout_sessions`,
//! `200` otherwise; `"id": "cs_echo"` added when absent) and every `GET` with
//! `{"id":"cs_echo"}`. Prints `listening on http://HOST:PORT` once it accepts connections.

#[path = "support/flags.rs"]
mod flags;

#[path = "echo_server/echo.rs"]
mod echo;

use std::net::SocketAddr;
use std::process::ExitCode;

const USAGE: &str = "\
echo_server: a bare JSON echo server (the baseline of `acp load`).

Usage: echo_server [--listen HOST:PORT]

Flags:
  --listen HOST:PORT    listen address [ACP_ECHO_ADDR] (default 127.0.0.1:0, an ephemeral port;
                        `--addr` is accepted too)
  -h, --help            print this help and exit

POST on any path: the JSON body answered back (201 for /checkout_sessions, 200 otherwise),
with \"id\": \"cs_echo\" added when absent; GET: {\"id\":\"cs_echo\"}.
";

/// Many small, short-lived allocations on every worker thread: see the `mimalloc` entry in
/// `Cargo.toml`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let flags = match flags::Flags::parse(std::env::args().skip(1), &["listen", "addr"], &[]) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("echo_server: {e}");
            return ExitCode::from(2);
        }
    };
    if flags.help() {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let raw = flags
        .get("listen", "ACP_ECHO_ADDR")
        .or_else(|| flags.get("addr", "ACP_ECHO_ADDR"))
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let addr: SocketAddr = match raw.parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("echo_server: --listen {raw:?}: {e}");
            return ExitCode::from(2);
        }
    };
    match echo::spawn(addr).await {
        Ok((local, handle)) => {
            println!("listening on http://{local}");
            let _ = handle.await;
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("echo_server: {e}");
            ExitCode::FAILURE
        }
    }
}
