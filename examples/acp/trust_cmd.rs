//! (placeholder: being written)

use std::process::ExitCode;

pub(crate) fn webhook_sign(_args: &[String]) -> ExitCode {
    crate::usage_error("not available yet")
}

pub(crate) fn webhook_verify(_args: &[String]) -> ExitCode {
    crate::usage_error("not available yet")
}

pub(crate) fn allowance_check(_args: &[String]) -> ExitCode {
    crate::usage_error("not available yet")
}
