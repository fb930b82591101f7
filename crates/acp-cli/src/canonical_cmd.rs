//! `acp canonicalize`: RFC 8785 canonical JSON of standard input.
//!
//! Success: the canonical bytes on standard output, with no trailing newline, exit 0.
//! Invalid input: an ACP-style error object on standard output, exit 1:
//! `{"type":"invalid_request","code":"duplicate_key","message":"…","param":"$.a"}`
//! (`param` is the RFC 9535 JSON path of the offending value, omitted when there is none;
//! `code` is [`CanonicalJsonError::code`]). Usage errors (any argument): exit 2.

use std::io::Write as _;
use std::process::ExitCode;

use agentic_commerce::trust::canonical::{self, CanonicalJsonError};

use crate::args::read_stdin;

/// `acp canonicalize`.
pub(crate) fn canonicalize() -> ExitCode {
    let input = match stdin_without_flags() {
        Ok(input) => input,
        Err(code) => return code,
    };
    match canonical::canonicalize(&input) {
        Ok(bytes) => {
            let mut stdout = std::io::stdout().lock();
            if stdout
                .write_all(&bytes)
                .and_then(|()| stdout.flush())
                .is_err()
            {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            println!("{}", error_object(&error));
            ExitCode::FAILURE
        }
    }
}

/// Standard input of a command that takes no flags (clap has rejected any); the exit code to
/// return when stdin cannot be read (1).
pub(crate) fn stdin_without_flags() -> Result<Vec<u8>, ExitCode> {
    read_stdin().map_err(|message| {
        eprintln!("acp: {message}");
        ExitCode::FAILURE
    })
}

/// The ACP error object for a canonicalization failure.
pub(crate) fn error_object(error: &CanonicalJsonError) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    object.insert("type".into(), "invalid_request".into());
    object.insert("code".into(), error.code().into());
    object.insert("message".into(), error.to_string().into());
    if let Some(path) = error.path() {
        object.insert("param".into(), path.into());
    }
    serde_json::Value::Object(object)
}
