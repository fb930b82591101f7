//! (placeholder: being written)

use std::process::ExitCode;

pub(crate) fn negotiate_version(_args: &[String]) -> ExitCode {
    crate::usage_error("not available yet")
}
