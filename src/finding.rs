//! Typed findings of the cross-object and value checks ([`crate::checkout::checks`],
//! [`crate::delegate_payment`]): which rule, how severe, where (an RFC 9535 JSONPath) and why.

use core::fmt;

use crate::error::AcpError;
use crate::json_path::JsonPath;

/// How serious a [`Finding`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The spec says SHOULD, or the RFC and the schema disagree: report, do not reject.
    Warning,
    /// A MUST (or schema) rule is broken: reject.
    Error,
}

impl Severity {
    /// `warning` or `error`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule ID of `ACP-REQUIREMENTS.md`, e.g. `CHK-06` or `DP-14`.
    pub rule: &'static str,
    /// How serious.
    pub severity: Severity,
    /// The ACP error `code` a server would send for it (e.g. `invalid_card`).
    pub code: &'static str,
    /// Where: the offending value, or for a missing member the path it would have.
    pub path: JsonPath,
    /// A human-readable explanation that never echoes secret values.
    pub message: String,
}

impl Finding {
    /// An error-severity finding.
    pub fn error(rule: &'static str, code: &'static str, path: JsonPath, message: String) -> Self {
        Self {
            rule,
            severity: Severity::Error,
            code,
            path,
            message,
        }
    }

    /// A warning-severity finding.
    pub fn warning(
        rule: &'static str,
        code: &'static str,
        path: JsonPath,
        message: String,
    ) -> Self {
        Self {
            rule,
            severity: Severity::Warning,
            code,
            path,
            message,
        }
    }

    /// Whether this finding should reject the request.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The 400 `invalid_request` ACP error for this finding, `param` = its path.
    pub fn to_acp_error(&self) -> AcpError {
        AcpError::invalid_request(self.code, self.message.clone(), &self.path)
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{} {}] {}: {}",
            self.rule,
            self.severity.as_str(),
            self.path,
            self.message
        )
    }
}

/// The ACP error for the first error-severity finding, if any.
pub fn first_error(findings: &[Finding]) -> Option<AcpError> {
    findings
        .iter()
        .find(|f| f.is_error())
        .map(Finding::to_acp_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_error_skips_warnings() {
        let findings = vec![
            Finding::warning(
                "DP-17",
                "invalid_request",
                JsonPath::root().key("a"),
                "w".into(),
            ),
            Finding::error(
                "DP-14",
                "invalid_card",
                JsonPath::root().key("b"),
                "e".into(),
            ),
        ];
        let e = first_error(&findings);
        assert_eq!(e.as_ref().map(AcpError::param), Some(Some("$.b")));
        assert_eq!(e.as_ref().map(AcpError::code), Some("invalid_card"));
        assert!(first_error(&findings[..1]).is_none());
        assert_eq!(findings[1].to_string(), "[DP-14 error] $.b: e");
    }
}
