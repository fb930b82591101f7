//! Discount-extension response rules that are not arithmetic (DSC-04,
//! DSC-09) and the extension declarations (EXT-01 … EXT-04).

use super::Finding;
use crate::parse::json_path::JsonPath;
use crate::protocol::extensions::{check_declarations, rejection_warnings};
use crate::spec::common::Extensions;
use crate::spec::v2026_04_17::agentic_checkout::{CheckoutSession, Message};

/// Runs the checks of this module.
pub fn check(session: &CheckoutSession, out: &mut Vec<Finding>) {
    let root = JsonPath::root();
    if let Some(Extensions::Declarations(decls)) = &session.capabilities.extensions {
        out.extend(check_declarations(
            decls,
            &root.key("capabilities").key("extensions"),
        ));
    }
    let Some(discounts) = &session.discounts else {
        return;
    };
    // DSC-04 (SHOULD): each rejected code also appears as a warning message
    // about it (same code and `param`).
    for (j, expected) in rejection_warnings(discounts).iter().enumerate() {
        let present = session.messages.iter().any(|m| match m {
            Message::Warning(w) => w.code == expected.code && w.param == expected.param,
            _ => false,
        });
        if !present {
            out.push(Finding::warning(
                "DSC-04",
                root.key("discounts").key("rejected").index(j),
                format!(
                    "rejected code SHOULD also be reported as a `{}` warning message with param {}",
                    expected.code,
                    expected.param.as_deref().unwrap_or("$")
                ),
            ));
        }
    }
    // DSC-09: automatic discounts carry no code.
    for (i, applied) in discounts.applied.iter().flatten().enumerate() {
        if applied.automatic == Some(true) && applied.code.is_some() {
            out.push(Finding::warning(
                "DSC-09",
                root.key("discounts").key("applied").index(i).key("code"),
                "an automatic discount has no `code`",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn session(messages: &serde_json::Value) -> CheckoutSession {
        serde_json::from_value(json!({
            "id": "cs", "status": "incomplete", "currency": "usd",
            "capabilities": {"extensions": [{"name": "discount"}, {"name": "discount"}]},
            "line_items": [], "fulfillment_options": [], "totals": [], "links": [],
            "messages": messages,
            "discounts": {"codes": ["SAVE10", "OLD"],
                "applied": [{"id": "d", "code": "AUTO", "automatic": true, "amount": 0,
                    "coupon": {"id": "c", "name": "n", "percent_off": 1}}],
                "rejected": [{"code": "old", "reason": "discount_code_expired"}]}
        }))
        .unwrap()
    }

    fn run(s: &CheckoutSession) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        check(s, &mut out);
        out.into_iter()
            .map(|f| (f.rule, f.param.to_string()))
            .collect()
    }

    #[test]
    fn dsc04_missing_warning_dsc09_automatic_code_ext01_duplicate() {
        assert_eq!(
            run(&session(&json!([]))),
            [
                ("EXT-01", "$.capabilities.extensions[1].name".to_owned()),
                ("DSC-04", "$.discounts.rejected[0]".to_owned()),
                ("DSC-09", "$.discounts.applied[0].code".to_owned()),
            ]
        );
        let with_warning = session(&json!([{"type": "warning", "code": "discount_code_expired",
            "param": "$.discounts.codes[1]", "content_type": "plain", "content": "Expired"}]));
        assert!(!run(&with_warning).iter().any(|(r, _)| *r == "DSC-04"));
    }
}
