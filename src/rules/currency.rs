//! Currency consistency (CHK-08, and one currency per session).

use super::Finding;
use crate::parse::json_path::JsonPath;
use crate::primitives::Currency;
use crate::spec::latest::agentic_checkout::CheckoutSession;

/// Runs the checks of this module.
pub fn check(session: &CheckoutSession, out: &mut Vec<Finding>) {
    let root = JsonPath::root();
    check_code(&session.currency, &root.key("currency"), out);
    if let Some(presentment) = &session.presentment_currency {
        // The presentment currency may legitimately differ (it is what the
        // buyer sees); only its form is checked.
        check_code(presentment, &root.key("presentment_currency"), out);
    }
    let applied = session
        .discounts
        .iter()
        .flat_map(|d| d.applied.iter().flatten())
        .enumerate();
    for (i, discount) in applied {
        if let Some(currency) = &discount.coupon.currency {
            let path = root
                .key("discounts")
                .key("applied")
                .index(i)
                .key("coupon")
                .key("currency");
            check_same(&session.currency, currency, path, out);
        }
    }
    if let Some(order) = &session.order {
        for (i, adjustment) in order.adjustments.iter().flatten().enumerate() {
            if let Some(currency) = &adjustment.currency {
                let path = root
                    .key("order")
                    .key("adjustments")
                    .index(i)
                    .key("currency");
                check_same(&session.currency, currency, path, out);
            }
        }
    }
}

/// CHK-08 (warning): lowercase, and an active ISO 4217 code.
fn check_code(currency: &Currency, path: &JsonPath, out: &mut Vec<Finding>) {
    if !currency.is_lowercase() {
        out.push(Finding::warning(
            "CHK-08",
            path.clone(),
            format!(
                "currency `{}` SHOULD be lowercase (`{}`)",
                currency.as_str(),
                currency.to_lowercase().as_str()
            ),
        ));
    }
    if !currency.is_iso4217() {
        out.push(Finding::warning(
            "CHK-08",
            path.clone(),
            format!(
                "currency `{}` is not an active ISO 4217 code",
                currency.as_str()
            ),
        ));
    }
}

/// CUR-01 (error): money attached to the session uses its currency.
fn check_same(session: &Currency, other: &Currency, path: JsonPath, out: &mut Vec<Finding>) {
    if session == other {
        // Same code: also hold it to the lowercase recommendation.
        check_code(other, &path, out);
    } else {
        out.push(Finding::error(
            "CUR-01",
            path,
            format!(
                "currency `{}` differs from the session currency `{}`",
                other.as_str(),
                session.as_str()
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Severity;
    use serde_json::json;

    fn session(currency: &str, coupon_currency: &str) -> CheckoutSession {
        serde_json::from_value(json!({
            "id": "cs", "capabilities": {}, "status": "incomplete", "currency": currency,
            "line_items": [], "fulfillment_options": [], "totals": [], "messages": [], "links": [],
            "discounts": {"applied": [{"id": "d", "amount": 5,
                "coupon": {"id": "c", "name": "n", "amount_off": 5, "currency": coupon_currency}}]},
            "order": {"id": "o", "checkout_session_id": "cs", "permalink_url": "https://x.example/o",
                "adjustments": [{"id": "a", "type": "refund", "status": "completed",
                    "occurred_at": "2026-01-01T00:00:00Z", "amount": 1, "currency": "eur"}]}
        }))
        .unwrap()
    }

    fn run(s: &CheckoutSession) -> Vec<(&'static str, Severity, String)> {
        let mut out = Vec::new();
        check(s, &mut out);
        out.into_iter()
            .map(|f| (f.rule, f.severity, f.param.to_string()))
            .collect()
    }

    #[test]
    fn chk08_uppercase_and_unknown_codes_warn() {
        // The order adjustment is in `eur` in every fixture: CUR-01 each time.
        let f = run(&session("USD", "usd"));
        assert_eq!(
            f,
            [
                ("CHK-08", Severity::Warning, "$.currency".into()),
                (
                    "CUR-01",
                    Severity::Error,
                    "$.order.adjustments[0].currency".into()
                ),
            ]
        );
        let f = run(&session("abc", "ABC"));
        assert_eq!(
            f,
            [
                ("CHK-08", Severity::Warning, "$.currency".into()),
                (
                    "CHK-08",
                    Severity::Warning,
                    "$.discounts.applied[0].coupon.currency".into()
                ),
                (
                    "CHK-08",
                    Severity::Warning,
                    "$.discounts.applied[0].coupon.currency".into()
                ),
                (
                    "CUR-01",
                    Severity::Error,
                    "$.order.adjustments[0].currency".into()
                ),
            ]
        );
    }

    #[test]
    fn cur01_foreign_currency_is_an_error() {
        let f = run(&session("usd", "gbp"));
        assert_eq!(
            f,
            [
                (
                    "CUR-01",
                    Severity::Error,
                    "$.discounts.applied[0].coupon.currency".into()
                ),
                (
                    "CUR-01",
                    Severity::Error,
                    "$.order.adjustments[0].currency".into()
                ),
            ]
        );
        assert_eq!(run(&session("eur", "eur")), []);
    }
}
