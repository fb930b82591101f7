//! Business-rule validation of a merchant's own [`CheckoutSession`] before it
//! is sent: the checks the JSON Schemas cannot express.
//!
//! [`check_session`] returns every [`Finding`]; an empty list, or one with
//! only [`Severity::Warning`]s, means the session may be sent. Each finding
//! names the rule it enforces (an ID from `ACP-REQUIREMENTS.md`, or an
//! `ARITH-*` ID for the advisory arithmetic below), the JSONPath of the
//! offending value inside the session, and a message. It serializes as
//! `{"rule","severity","param","message"}` with severity `"error"` or
//! `"warning"`.
//!
//! # Rules enforced
//!
//! | rule | severity | check | module |
//! |---|---|---|---|
//! | CHK-06 | error | each `selected_fulfillment_options[].option_id` names a `fulfillment_options[].id` of the same `type` | [`totals`] |
//! | CHK-07 | warning | the session has a `total` total (SHOULD) | [`totals`] |
//! | DSC-05 | error | Σ `allocations[].amount` == the applied discount's `amount` | [`totals`] |
//! | DSC-06 | warning | Σ session `items_discount` totals == Σ line-item `items_discount`/`discount` totals (the official `stacked-discounts` example breaks it: 42460 vs 42500) | [`totals`] |
//! | DSC-07 | error | discount amounts (applied, allocations, `discount`/`items_discount` totals) are ≥ 0 | [`totals`] |
//! | DSC-08 | error | a coupon has exactly one of `percent_off`/`amount_off`, and `currency` with `amount_off` | [`totals`] |
//! | ARITH-09 | warning | line item: base = unit × quantity, subtotal = base − discount, total = subtotal + tax (digest §11.9; official examples disagree) | [`totals`] |
//! | ARITH-10 | warning | session `total` = subtotal + fulfillment + tax + fee + `gift_wrap` + tip − discount − `store_credit` (digest §11.10) | [`totals`] |
//! | DSC-04 | warning | every `discounts.rejected` code also has a `warning` message with its code and `param` | [`discounts`] |
//! | DSC-09 | warning | an automatic discount has no `code` | [`discounts`] |
//! | EXT-01 … EXT-04 | error | response extension declarations: identifier names, unique, `extends` targets are JSONPath, https `schema` | [`discounts`] |
//! | CHK-08 | warning | currencies are lowercase ISO 4217 codes | [`currency`] |
//! | CUR-01 | error | coupon and order-adjustment currencies equal the session currency (one currency per session) | [`currency`] |
//! | ORD-02 | warning | a known line-item `status` agrees with the quantities | [`orders`] |
//! | ORD-03 | error | 0 ≤ fulfilled ≤ current ≤ ordered, ordered ≥ 1 | [`orders`] |
//! | ORD-05 | error | the `amount_refunded` total = Σ completed `refund` adjustments | [`orders`] |
//! | ORD-05 | warning | the `subtotal` total = Σ line-item `subtotal`s | [`orders`] |
//! | ORD-09 | error | fulfillment/adjustment line references name existing line items, quantity ≥ 1, and Σ fulfilled per line ≤ ordered | [`orders`] |
//! | MD-02 | error | `markdown` messages and disclosures contain no raw HTML (`CommonMark` parse) | [`markdown`] |
//! | CHK-09 | error | message `param`s parse as JSONPath and resolve inside the session | [`params`] |
//!
//! Arithmetic uses checked `i64` ([`crate::primitives::Amount`]); an overflow
//! is an error finding under the rule being checked, never a panic.
//! `CUR-01` and `ARITH-*` are IDs of this crate: the requirements list has no
//! entry for them.

pub mod currency;
pub mod discounts;
pub mod markdown;
pub mod orders;
pub mod params;
pub mod totals;

use serde::Serialize;

use crate::json_path::JsonPath;
use crate::spec::v2026_04_17::agentic_checkout::CheckoutSession;

/// How serious a [`Finding`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The session breaks a MUST (or a schema-level rule): do not send it.
    Error,
    /// A SHOULD, or arithmetic the spec leaves ambiguous: worth a look.
    Warning,
}

impl Severity {
    /// `"error"` or `"warning"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
        }
    }
}

/// One broken rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule ID (`CHK-06`, `DSC-05`, …).
    pub rule: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// Where in the checked document (RFC 9535 JSONPath).
    pub param: JsonPath,
    /// What is wrong, for a human.
    pub message: String,
}

impl Finding {
    /// An error-severity finding.
    pub fn error(rule: &'static str, param: JsonPath, message: impl Into<String>) -> Self {
        Self {
            rule,
            severity: Severity::Error,
            param,
            message: message.into(),
        }
    }

    /// A warning-severity finding.
    pub fn warning(rule: &'static str, param: JsonPath, message: impl Into<String>) -> Self {
        Self {
            rule,
            severity: Severity::Warning,
            param,
            message: message.into(),
        }
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Whether any finding is an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(Finding::is_error)
}

/// Runs every check of this module on `session` (see the module docs).
pub fn check_session(session: &CheckoutSession) -> Vec<Finding> {
    let mut out = Vec::new();
    totals::check(session, &mut out);
    currency::check(session, &mut out);
    discounts::check(session, &mut out);
    if let Some(order) = &session.order {
        orders::check(order, &JsonPath::root().key("order"), &mut out);
    }
    markdown::check(session, &mut out);
    params::check(session, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_serializes_with_lowercase_severity_and_string_param() {
        let f = Finding::warning("CHK-07", JsonPath::root().key("totals"), "no total");
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            serde_json::json!({"rule":"CHK-07","severity":"warning","param":"$.totals","message":"no total"})
        );
        assert!(!has_errors(&[f]));
        assert!(has_errors(&[Finding::error(
            "CHK-06",
            JsonPath::root(),
            "x"
        )]));
        assert_eq!(Severity::Error.as_str(), "error");
    }
}
