//! `acp check-session`: business-rule validation of a `CheckoutSession` on
//! stdin (`agentic_commerce::rules`).
//!
//! Runs every session rule through the library's single entry point,
//! `rules::check_session` (which includes the session checks of
//! `checkout::checks`: CHK-11, CHK-13).
//!
//! Prints a JSON array of findings `{rule, severity, param, message}` (plus
//! `code` when the rule names the ACP error code to send). Exit 1
//! when any finding is an error (a body that does not parse as a
//! `CheckoutSession` is one error finding with rule `SCHEMA`), 0 otherwise,
//! 2 on a usage error.

use std::process::ExitCode;

use agentic_commerce::parse;
use agentic_commerce::rules::{self, Finding};
use agentic_commerce::spec::v2026_04_17::agentic_checkout::CheckoutSession;

use crate::args::read_stdin;

/// `acp check-session`.
pub(crate) fn check_session() -> ExitCode {
    let body = match read_stdin() {
        Ok(b) => b,
        Err(e) => return crate::usage_error(&e),
    };
    let findings = match parse::from_slice::<CheckoutSession>(&body) {
        Ok(session) => rules::check_session(&session),
        Err(e) => vec![Finding::error("SCHEMA", e.path.clone(), e.message.clone())],
    };
    match serde_json::to_string_pretty(&findings) {
        Ok(text) => println!("{text}"),
        Err(e) => {
            eprintln!("acp: cannot serialize the findings: {e}");
            return ExitCode::from(1);
        }
    }
    if rules::has_errors(&findings) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
