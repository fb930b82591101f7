//! (placeholder: being written)

use std::process::ExitCode;

pub(crate) fn fingerprint(_args: &[String]) -> ExitCode {
    crate::usage_error("not available yet")
}
