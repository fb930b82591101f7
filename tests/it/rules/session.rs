//! Business rules, negotiation and discount helpers over the official
//! 2026-04-17 examples (`ACP_SPEC_DIR`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::collections::BTreeMap;

use agentic_commerce::parse::json_path::JsonPath;
use agentic_commerce::protocol::capabilities::{SellerOffer, negotiate};
use agentic_commerce::rules::discounts::rejection_warnings;
use agentic_commerce::rules::{self, Finding, Severity};
use agentic_commerce::spec::v2026_04_17::agentic_checkout::{
    CheckoutSession, InterventionType, Message, Order, RequiredIntervention,
};
use serde_json::Value;

/// The `CheckoutSession` examples the task names: every session in
/// `examples.agentic_checkout.json` and every discount-extension response.
fn official_sessions(spec: &std::path::Path) -> Vec<(String, CheckoutSession)> {
    common::examples(spec)
        .into_iter()
        .filter(|e| {
            matches!(
                e.type_name,
                "agentic_checkout.CheckoutSession" | "agentic_checkout.CheckoutSessionWithOrder"
            ) && (e.id.starts_with("examples.agentic_checkout.json#")
                || e.id.starts_with("discount-extension/"))
        })
        .map(|e| {
            let session =
                serde_json::from_value(e.value).unwrap_or_else(|err| panic!("{}: {err}", e.id));
            (e.id, session)
        })
        .collect()
}

fn summary(findings: &[Finding]) -> BTreeMap<(&'static str, Severity), usize> {
    let mut map = BTreeMap::new();
    for f in findings {
        *map.entry((f.rule, f.severity)).or_insert(0) += 1;
    }
    map
}

/// The one official session that breaks a MUST: the cancel response selects
/// `fulfillment_option_456`, which its `fulfillment_options` no longer lists
/// (digest §12.1 item 7).
const KNOWN_CHK06_VIOLATION: &str =
    "examples.agentic_checkout.json#cancel_checkout_session_response";

#[test]
fn official_sessions_have_no_error_findings() {
    let Some(spec) = common::spec_dir("official_sessions_have_no_error_findings") else {
        return;
    };
    let sessions = official_sessions(&spec);
    assert_eq!(
        sessions.len(),
        13,
        "8 checkout sessions + 5 discount responses"
    );
    let mut warnings = 0;
    for (id, session) in &sessions {
        let findings = rules::check_session(session);
        let errors: Vec<_> = findings.iter().filter(|f| f.is_error()).collect();
        if id == KNOWN_CHK06_VIOLATION {
            assert_eq!(errors.len(), 1, "{id}: {errors:?}");
            assert_eq!(errors[0].rule, "CHK-06");
            assert_eq!(
                errors[0].param.to_string(),
                "$.selected_fulfillment_options[0].option_id"
            );
        } else {
            assert!(errors.is_empty(), "{id}: {errors:#?}");
        }
        warnings += findings.len() - errors.len();
        println!("{id}: {:?}", summary(&findings));
    }
    println!(
        "total warnings over {} official sessions: {warnings}",
        sessions.len()
    );
}

#[test]
fn chk06_official_cancel_response_is_fixed_by_offering_the_option() {
    let Some(spec) = common::spec_dir("chk06_official_cancel_response") else {
        return;
    };
    let sessions = official_sessions(&spec);
    let (_, cancel) = sessions
        .iter()
        .find(|(id, _)| id == KNOWN_CHK06_VIOLATION)
        .unwrap();
    let (_, update) = sessions
        .iter()
        .find(|(id, _)| id.ends_with("#update_checkout_session_response"))
        .unwrap();
    let mut fixed = cancel.clone();
    fixed.fulfillment_options = update.fulfillment_options.clone();
    assert!(!rules::has_errors(&rules::check_session(&fixed)));
}

#[test]
fn official_orders_have_no_error_findings() {
    let Some(spec) = common::spec_dir("official_orders_have_no_error_findings") else {
        return;
    };
    let orders: Vec<_> = common::examples(&spec)
        .into_iter()
        .filter(|e| e.type_name == "agentic_checkout.Order")
        .collect();
    assert_eq!(orders.len(), 5);
    for e in orders {
        let order: Order = serde_json::from_value(e.value).unwrap();
        let mut findings = Vec::new();
        rules::orders::check(&order, &JsonPath::root(), &mut findings);
        assert_eq!(findings, [], "{}", e.id);
    }
}

#[test]
fn ord05_official_refunded_order_breaks_when_the_refund_is_pending() {
    let Some(spec) = common::spec_dir("ord05_official_refunded_order") else {
        return;
    };
    let path = spec.join("examples/2026-04-17/orders/refunded-order.json");
    let mut value: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    common::strip_doc_keys(&mut value);
    value["adjustments"][0]["status"] = Value::from("pending");
    let order: Order = serde_json::from_value(value).unwrap();
    let mut findings = Vec::new();
    rules::orders::check(&order, &JsonPath::root(), &mut findings);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].rule, "ORD-05");
    assert_eq!(findings[0].param.to_string(), "$.totals[4].amount");
}

#[test]
fn dsc04_rejection_warnings_match_the_official_rejected_code_example() {
    let Some(spec) = common::spec_dir("dsc04_rejection_warnings") else {
        return;
    };
    let sessions = official_sessions(&spec);
    let (_, session) = sessions
        .iter()
        .find(|(id, _)| id.contains("rejected-discount-code"))
        .unwrap();
    let built = rejection_warnings(session.discounts.as_ref().unwrap());
    let official: Vec<_> = session
        .messages
        .iter()
        .filter_map(|m| match m {
            Message::Warning(w) => Some(w.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(built, official);
}

#[test]
fn neg10_negotiated_capabilities_and_messages_pass_the_session_rules() {
    let Some(spec) = common::spec_dir("neg10_negotiated_capabilities") else {
        return;
    };
    let sessions = official_sessions(&spec);
    let (_, base) = sessions
        .iter()
        .find(|(id, _)| id.ends_with("#get_checkout_session_response"))
        .unwrap();
    let agent = serde_json::from_value(
        serde_json::json!({"interventions": {"supported": ["address_verification"]}}),
    )
    .unwrap();
    let offer = SellerOffer {
        interventions: vec![
            InterventionType::V3ds,
            InterventionType::AddressVerification,
        ],
        required: vec![RequiredIntervention::V3ds],
        ..SellerOffer::default()
    };
    let negotiation = negotiate(&agent, &offer);
    assert!(!negotiation.is_compatible());
    let mut session = base.clone();
    negotiation.apply_to(&mut session);
    let findings = rules::check_session(&session);
    assert!(!rules::has_errors(&findings), "{findings:#?}");
    let wire = serde_json::to_value(&session).unwrap();
    assert_eq!(wire["status"], "not_ready_for_payment");
    assert_eq!(wire["messages"][0]["code"], "intervention_required");
    assert_eq!(
        wire["messages"][0]["param"],
        "$.capabilities.interventions.required[0]"
    );
}

#[test]
fn md02_official_session_with_html_markdown_message_is_an_error() {
    let Some(spec) = common::spec_dir("md02_official_session_with_html") else {
        return;
    };
    let sessions = official_sessions(&spec);
    let (_, base) = sessions
        .iter()
        .find(|(id, _)| id.ends_with("#checkout_session_with_out_of_stock"))
        .unwrap();
    let mut value = serde_json::to_value(base).unwrap();
    value["messages"][0]["content_type"] = Value::from("markdown");
    value["messages"][0]["content"] =
        Value::from("Out of stock. <a href=\"https://x.example\">See more</a>");
    let session: CheckoutSession = serde_json::from_value(value).unwrap();
    let errors: Vec<_> = rules::check_session(&session)
        .into_iter()
        .filter(Finding::is_error)
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (errors[0].rule, errors[0].param.to_string().as_str()),
        ("MD-02", "$.messages[0].content")
    );
}

/// A minimal valid session in `status`, with no other defect.
fn session_in(status: &str) -> Value {
    serde_json::json!({
        "id": "cs_1", "capabilities": {}, "status": status, "currency": "usd",
        "line_items": [], "fulfillment_options": [],
        "totals": [{"type": "total", "display_text": "Total", "amount": 0}],
        "messages": [], "links": []
    })
}

fn rules_and_params(findings: &[Finding]) -> Vec<(&'static str, String)> {
    findings
        .iter()
        .map(|f| (f.rule, f.param.to_string()))
        .collect()
}

#[test]
fn check_session_runs_chk13_authentication_metadata() {
    let bad: CheckoutSession =
        serde_json::from_value(session_in("authentication_required")).unwrap();
    let findings = rules::check_session(&bad);
    assert_eq!(
        rules_and_params(&findings),
        [("CHK-13", "$.authentication_metadata".to_owned())]
    );
    assert!(rules::has_errors(&findings));
    assert_eq!(findings[0].code, Some("missing_authentication_metadata"));
    // The same session in another status has nothing to report.
    let fine: CheckoutSession = serde_json::from_value(session_in("incomplete")).unwrap();
    assert_eq!(rules::check_session(&fine), []);
}

#[test]
fn check_session_runs_chk11_completed_order() {
    let no_order: CheckoutSession = serde_json::from_value(session_in("completed")).unwrap();
    assert_eq!(
        rules_and_params(&rules::check_session(&no_order)),
        [("CHK-11", "$.order".to_owned())]
    );
    let mut value = session_in("completed");
    value["order"] = serde_json::json!({"id": "ord_1", "checkout_session_id": "cs_other",
        "permalink_url": "https://shop.example/orders/ord_1"});
    let other: CheckoutSession = serde_json::from_value(value).unwrap();
    assert_eq!(
        rules_and_params(&rules::check_session(&other)),
        [("CHK-11", "$.order.checkout_session_id".to_owned())]
    );
}
