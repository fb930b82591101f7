//! (placeholder: being written)

use std::process::ExitCode;

pub(crate) fn validate(_args: &[String]) -> ExitCode {
    crate::usage_error("not available yet")
}

pub(crate) fn types(_args: &[String]) -> ExitCode {
    crate::usage_error("not available yet")
}
