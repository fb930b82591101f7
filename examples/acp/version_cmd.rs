//! `acp negotiate-version --supported <v,..> [--requested <v>]`: API-Version negotiation.
//!
//! Exit 0 prints the version to use; exit 1 prints the ACP Error JSON the server must send
//! (HTTP 400, VER-03..05); exit 2 is a usage error.

use std::process::ExitCode;

use agentic_commerce::protocol::version::{ApiVersion, negotiate};

use crate::args::Args;

pub(crate) fn negotiate_version(args: &[String]) -> ExitCode {
    let parsed = match Args::parse(args, &[]) {
        Ok(a) => a,
        Err(e) => return crate::usage_error(&e),
    };
    if let Err(e) = parsed.only(&["supported", "requested"]) {
        return crate::usage_error(&e);
    }
    let supported_raw = match parsed.req("supported") {
        Ok(s) => s,
        Err(e) => return crate::usage_error(&e),
    };
    let requested = match parsed.opt("requested") {
        Ok(r) => r,
        Err(e) => return crate::usage_error(&e),
    };
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
