//! Typed findings of every check beyond the schema ([`crate::rules::requests`],
//! [`crate::rules::delegate_payment`], [`crate::rules`], [`crate::protocol::discovery`],
//! [`crate::protocol::extensions`]): which rule, how severe, where (an RFC 9535 JSONPath) and why.
//!
//! A finding serializes as `{"rule", "severity", "param", "message"}`, plus `"code"` when it
//! names the ACP error code a server would send for it.

use core::fmt;

use crate::parse::json_path::JsonPath;
use crate::protocol::error::AcpError;

/// How serious a [`Finding`] is (ordered: a warning is less severe than an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Advice that breaks no rule (the feed readiness linter's lowest level,
    /// [`crate::rules::feed_readiness`]): report only.
    Info,
    /// The spec says SHOULD, or the RFC and the schema disagree: report, do not reject.
    Warning,
    /// A MUST (or schema) rule is broken: reject.
    Error,
}

impl Severity {
    /// `info`, `warning` or `error`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The rule ID, e.g. `CHK-06` or `DP-14`: every ID the crate reports is in the
    /// [rules catalog](crate::rules::catalog) (`RULES.md`).
    pub rule: &'static str,
    /// How serious.
    pub severity: Severity,
    /// Where: the offending value, or for a missing member the path it would have.
    pub param: JsonPath,
    /// A human-readable explanation that never echoes secret values.
    pub message: String,
    /// The ACP error `code` a server would send for it (e.g. `invalid_card`), when the rule
    /// maps to one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
}

impl Finding {
    /// An error-severity finding.
    pub fn error(rule: &'static str, param: JsonPath, message: impl Into<String>) -> Self {
        Self {
            rule,
            severity: Severity::Error,
            param,
            message: message.into(),
            code: None,
        }
    }

    /// A warning-severity finding.
    pub fn warning(rule: &'static str, param: JsonPath, message: impl Into<String>) -> Self {
        Self {
            rule,
            severity: Severity::Warning,
            param,
            message: message.into(),
            code: None,
        }
    }

    /// An error-severity finding that names the ACP error code to send.
    pub fn coded_error(
        rule: &'static str,
        code: &'static str,
        param: JsonPath,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code: Some(code),
            ..Self::error(rule, param, message)
        }
    }

    /// A warning-severity finding that names the ACP error code it relates to.
    pub fn coded_warning(
        rule: &'static str,
        code: &'static str,
        param: JsonPath,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code: Some(code),
            ..Self::warning(rule, param, message)
        }
    }

    /// Whether this finding should reject the request.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The 400 `invalid_request` ACP error for this finding, `param` = its path and `code`
    /// its code (`invalid` when the rule names none).
    pub fn to_acp_error(&self) -> AcpError {
        AcpError::invalid_request(
            self.code.unwrap_or("invalid"),
            self.message.clone(),
            &self.param,
        )
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{} {}] {}: {}",
            self.rule,
            self.severity.as_str(),
            self.param,
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
            Finding::coded_warning("DP-17", "invalid_request", JsonPath::root().key("a"), "w"),
            Finding::coded_error("DP-14", "invalid_card", JsonPath::root().key("b"), "e"),
        ];
        let e = first_error(&findings);
        assert_eq!(e.as_ref().map(AcpError::param), Some(Some("$.b")));
        assert_eq!(e.as_ref().map(AcpError::code), Some("invalid_card"));
        assert!(first_error(&findings[..1]).is_none());
        assert_eq!(findings[1].to_string(), "[DP-14 error] $.b: e");
        let json = serde_json::to_value(&findings[1]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"rule": "DP-14", "severity": "error", "param": "$.b",
                "message": "e", "code": "invalid_card"})
        );
        assert!(Finding::error("X-1", JsonPath::root(), "m").code.is_none());
    }
}
