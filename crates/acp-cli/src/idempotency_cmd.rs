//! `acp fingerprint`: the idempotency fingerprint of the JSON body on standard input.
//!
//! Success: lowercase hex SHA-256 of the RFC 8785 canonical form plus a newline, exit 0
//! (IDEM-05, IDEM-06). Invalid input (not JSON, duplicate member names, …): an ACP-style error
//! object on standard output, exit 1:
//! `{"type":"invalid_request","code":"duplicate_key","message":"…","param":"$.a"}`
//! (`code` is `CanonicalJsonError::code`; `param`, the RFC 9535 path of the offending value, is
//! omitted when there is none). Usage errors (any argument): exit 2.

use std::process::ExitCode;

use agentic_commerce::trust::idempotency::Fingerprint;

/// `acp fingerprint`.
pub(crate) fn fingerprint() -> ExitCode {
    let input = match crate::canonical_cmd::stdin_without_flags() {
        Ok(input) => input,
        Err(code) => return code,
    };
    match Fingerprint::of_json(&input) {
        Ok(fingerprint) => {
            println!("{fingerprint}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            println!("{}", crate::canonical_cmd::error_object(&error));
            ExitCode::FAILURE
        }
    }
}
