//! (placeholder: being written)

use std::process::ExitCode;

pub(crate) fn canonicalize(_args: &[String]) -> ExitCode {
    crate::usage_error("not available yet")
}
