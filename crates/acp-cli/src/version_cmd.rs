//! `acp negotiate-version --supported <v,..> [--requested <v>]`: API-Version negotiation.
//!
//! Exit 0 prints the version to use; exit 1 prints the ACP Error JSON the server must send
//! (HTTP 400, VER-03..05); exit 2 is a usage error.

use std::process::ExitCode;

use agentic_commerce::protocol::version::{ApiVersion, negotiate};

/// Flags of `acp negotiate-version`.
#[derive(Debug, clap::Args)]
pub(crate) struct NegotiateArgs {
    /// The versions the server supports, comma-separated (`2026-01-30,2026-04-17`).
    #[arg(long, value_name = "V,..")]
    supported: String,
    /// The client's `API-Version` header value (absent: the header is missing).
    #[arg(long, value_name = "V")]
    requested: Option<String>,
}

/// `acp negotiate-version`.
pub(crate) fn negotiate_version(parsed: &NegotiateArgs) -> ExitCode {
    let supported_raw = parsed.supported.as_str();
    let requested = parsed.requested.as_deref();
    let mut supported = Vec::new();
    for item in supported_raw.split(',') {
        match item.trim().parse::<ApiVersion>() {
            Ok(v) => supported.push(v),
            Err(e) => {
                return crate::usage_error(&format!(
                    "`--supported`: {item:?} is not a version: {e}"
                ));
            }
        }
    }
    match negotiate(&supported, requested) {
        Ok(v) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("{}", agentic_commerce::AcpError::from(&e).to_json());
            ExitCode::from(1)
        }
    }
}
