//! `acp fingerprint`: the idempotency fingerprint of the JSON body on standard input.
//!
//! Success: lowercase hex SHA-256 of the RFC 8785 canonical form plus a newline, exit 0
//! (IDEM-05, IDEM-06). Invalid input (not JSON, duplicate member names, …): an ACP-style error
//! object on standard output, exit 1:
//! `{"type":"invalid_request","code":"duplicate_key","message":"…","param":"$.a"}`
//! (`code` is `CanonicalJsonError::code`; `param`, the RFC 9535 path of the offending value, is
//! omitted when there is none). Usage errors (any argument): exit 2.

use std::process::ExitCode;

use agentic_commerce::idempotency::Fingerprint;

use crate::args::{Args, read_stdin};

pub(crate) fn fingerprint(args: &[String]) -> ExitCode {
    if let Err(message) = Args::parse(args, &[]).and_then(|parsed| parsed.only(&[])) {
        return crate::usage_error(&message);
    }
    let input = match read_stdin() {
        Ok(input) => input,
        Err(message) => {
            eprintln!("acp: {message}");
            return ExitCode::FAILURE;
        }
    };
    match Fingerprint::of_json(&input) {
        Ok(fingerprint) => {
            println!("{fingerprint}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            let mut object = serde_json::Map::new();
            object.insert("type".into(), "invalid_request".into());
            object.insert("code".into(), error.code().into());
            object.insert("message".into(), error.to_string().into());
            if let Some(path) = error.path() {
                object.insert("param".into(), path.into());
            }
            println!("{}", serde_json::Value::Object(object));
            ExitCode::FAILURE
        }
    }
}
