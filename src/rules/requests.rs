//! Checks that need a checkout session together with a request (or the session's own parts):
//! pure functions returning every [`Finding`], each with the JSONPath of the offending value.
//!
//! | Rule | Function | Path of a finding |
//! |---|---|---|
//! | CHK-06 | [`update_fulfillment_selection`] (request vs session) | `$.selected_fulfillment_options[i].option_id` / `.type` of the update request |
//! | CHK-06 | [`session_fulfillment_selection`] (a session's own selection) | `$.selected_fulfillment_options[i].option_id` / `.type` of the session |
//! | CHK-21 | [`payment_handler`] (complete request vs session) | `$.payment_data.handler_id` |
//! | CHK-13 | [`authentication_metadata`] | `$.authentication_metadata` |
//! | CHK-11 | [`completed_order`], [`complete_response`] | `$.status`, `$.order`, `$.order.id`, `$.order.checkout_session_id` |
//!
//! CHK-21's other half (a handler with `requires_delegate_payment: true` needs a token obtained
//! from delegate payment before complete) needs the PSP's token records; it is left to the
//! integrator (see [`crate::trust::allowance`] for checking the token once found).

use crate::parse::json_path::JsonPath;
use crate::protocol::finding::Finding;
use crate::spec::latest::agentic_checkout::{
    CheckoutSession, CheckoutSessionCompleteRequest, CheckoutSessionUpdateRequest,
    CheckoutSessionWithOrder, CheckoutStatus, FulfillmentOption, Order, SelectedFulfillmentOption,
};

/// The `code` of CHK-06 findings.
pub const CODE_INVALID_FULFILLMENT_OPTION: &str = "invalid_fulfillment_option";
/// The `code` of CHK-21 findings.
pub const CODE_INVALID_PAYMENT_HANDLER: &str = "invalid_payment_handler";
/// The `code` of CHK-13 findings.
pub const CODE_MISSING_AUTHENTICATION_METADATA: &str = "missing_authentication_metadata";
/// The `code` of CHK-11 findings.
pub const CODE_INVALID_ORDER: &str = "invalid_order";

/// The `id` of a fulfillment option (an unknown variant's `id` member, if it is a string).
fn option_id(option: &FulfillmentOption) -> Option<&str> {
    match option {
        FulfillmentOption::Shipping(o) => Some(o.id.as_str()),
        FulfillmentOption::Digital(o) => Some(o.id.as_str()),
        FulfillmentOption::Pickup(o) => Some(o.id.as_str()),
        FulfillmentOption::LocalDelivery(o) => Some(o.id.as_str()),
        FulfillmentOption::Unknown(map) => map.get("id").and_then(serde_json::Value::as_str),
    }
}

/// CHK-06 over a list of selections: each `option_id` names an option of `options`, and the
/// selection's `type` equals that option's `type`. `at` is the path of the selection array.
pub fn fulfillment_selection(
    options: &[FulfillmentOption],
    selected: &[SelectedFulfillmentOption],
    at: &JsonPath,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (i, selection) in selected.iter().enumerate() {
        let wanted = selection.option_id.as_str();
        match options.iter().find(|o| option_id(o) == Some(wanted)) {
            None => findings.push(Finding::coded_error(
                "CHK-06",
                CODE_INVALID_FULFILLMENT_OPTION,
                at.index(i).key("option_id"),
                format!("option_id {wanted:?} is not one of the session's fulfillment_options"),
            )),
            Some(option) if option.kind() != selection.kind.as_str() => {
                findings.push(Finding::coded_error(
                    "CHK-06",
                    CODE_INVALID_FULFILLMENT_OPTION,
                    at.index(i).key("type"),
                    format!(
                        "selection type {:?} does not match the type {:?} of option {wanted:?}",
                        selection.kind.as_str(),
                        option.kind()
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    findings
}

/// CHK-06 for an update request against the session it updates (paths are in the request).
pub fn update_fulfillment_selection(
    session: &CheckoutSession,
    request: &CheckoutSessionUpdateRequest,
) -> Vec<Finding> {
    request
        .selected_fulfillment_options
        .as_set()
        .map(|selected| {
            fulfillment_selection(
                &session.fulfillment_options,
                selected,
                &JsonPath::root().key("selected_fulfillment_options"),
            )
        })
        .unwrap_or_default()
}

/// CHK-06 for a session's own `selected_fulfillment_options` (paths are in the session).
pub fn session_fulfillment_selection(session: &CheckoutSession) -> Vec<Finding> {
    session
        .selected_fulfillment_options
        .as_deref()
        .map(|selected| {
            fulfillment_selection(
                &session.fulfillment_options,
                selected,
                &JsonPath::root().key("selected_fulfillment_options"),
            )
        })
        .unwrap_or_default()
}

/// CHK-21: `payment_data.handler_id` of a complete request names a handler the session declared
/// in `capabilities.payment.handlers`. A request without `handler_id` (a purchase order) has
/// nothing to check.
pub fn payment_handler(
    session: &CheckoutSession,
    request: &CheckoutSessionCompleteRequest,
) -> Vec<Finding> {
    let Some(handler_id) = &request.payment_data.handler_id else {
        return Vec::new();
    };
    let declared = session
        .capabilities
        .payment
        .as_ref()
        .is_some_and(|p| p.handlers.iter().any(|h| h.id == *handler_id));
    if declared {
        Vec::new()
    } else {
        vec![Finding::coded_error(
            "CHK-21",
            CODE_INVALID_PAYMENT_HANDLER,
            JsonPath::root().key("payment_data").key("handler_id"),
            format!(
                "handler_id {:?} is not declared in the session's capabilities.payment.handlers",
                handler_id.as_str()
            ),
        )]
    }
}

/// CHK-13: a session in `authentication_required` includes `authentication_metadata`.
pub fn authentication_metadata(session: &CheckoutSession) -> Vec<Finding> {
    if session.status == CheckoutStatus::AuthenticationRequired
        && session.authentication_metadata.is_none()
    {
        vec![Finding::coded_error(
            "CHK-13",
            CODE_MISSING_AUTHENTICATION_METADATA,
            JsonPath::root().key("authentication_metadata"),
            "a session in authentication_required must include authentication_metadata",
        )]
    } else {
        Vec::new()
    }
}

fn order_findings(session_id: &str, order: &Order) -> Vec<Finding> {
    let at = JsonPath::root().key("order");
    let mut findings = Vec::new();
    if order.id.as_str().is_empty() {
        findings.push(Finding::coded_error(
            "CHK-11",
            CODE_INVALID_ORDER,
            at.key("id"),
            "order.id must not be empty",
        ));
    }
    if order.checkout_session_id.as_str() != session_id {
        findings.push(Finding::coded_error(
            "CHK-11",
            CODE_INVALID_ORDER,
            at.key("checkout_session_id"),
            format!(
                "order.checkout_session_id {:?} differs from the session id {session_id:?}",
                order.checkout_session_id.as_str()
            ),
        ));
    }
    // `permalink_url` is a required `Uri` in the typed model, so it is present and absolute.
    findings
}

/// CHK-11 for a session: a `completed` session carries an `order` whose `checkout_session_id`
/// is the session's id and whose `id` is not empty (`permalink_url` is guaranteed by the type).
pub fn completed_order(session: &CheckoutSession) -> Vec<Finding> {
    if session.status != CheckoutStatus::Completed {
        return Vec::new();
    }
    match &session.order {
        None => vec![Finding::coded_error(
            "CHK-11",
            CODE_INVALID_ORDER,
            JsonPath::root().key("order"),
            "a completed session must include the order",
        )],
        Some(order) => order_findings(session.id.as_str(), order),
    }
}

/// CHK-11 for the response of a successful complete: `status` is `completed` and the order
/// belongs to this session.
pub fn complete_response(session: &CheckoutSessionWithOrder) -> Vec<Finding> {
    let mut findings = Vec::new();
    if session.status != CheckoutStatus::Completed {
        findings.push(Finding::coded_error(
            "CHK-11",
            CODE_INVALID_ORDER,
            JsonPath::root().key("status"),
            format!(
                "a successful complete response has status completed, not {}",
                session.status
            ),
        ));
    }
    findings.extend(order_findings(session.id.as_str(), &session.order));
    findings
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::{Value, json};

    fn session(extra: &Value) -> CheckoutSession {
        let mut base = json!({
            "id": "cs_1",
            "status": "ready_for_payment",
            "currency": "usd",
            "line_items": [],
            "totals": [],
            "messages": [],
            "links": [],
            "capabilities": {"payment": {"handlers": [{
                "id": "card_tokenized", "name": "dev.acp.tokenized.card", "version": "2026-01-22",
                "spec": "https://acp.dev/h", "requires_delegate_payment": true,
                "requires_pci_compliance": false, "psp": "stripe",
                "config_schema": "https://acp.dev/c.json",
                "instrument_schemas": ["https://acp.dev/i.json"], "config": {}
            }]}},
            "fulfillment_options": [
                {"type": "shipping", "id": "ship_1", "title": "Standard",
                 "totals": []},
                {"type": "digital", "id": "dig_1", "title": "Download", "totals": []}
            ]
        });
        for (k, v) in extra.as_object().unwrap() {
            base[k] = v.clone();
        }
        crate::parse::from_value(&base).unwrap()
    }

    fn paths(findings: &[Finding]) -> Vec<String> {
        findings.iter().map(|f| f.param.to_string()).collect()
    }

    #[test]
    fn chk_06_selection_must_match_an_option_of_the_same_type() {
        let s = session(&json!({}));
        let ok: CheckoutSessionUpdateRequest = crate::parse::from_value(&json!({
            "selected_fulfillment_options": [{"type":"shipping","option_id":"ship_1","item_ids":["a"]}]
        }))
        .unwrap();
        assert!(update_fulfillment_selection(&s, &ok).is_empty());
        let bad: CheckoutSessionUpdateRequest = crate::parse::from_value(&json!({
            "selected_fulfillment_options": [
                {"type":"shipping","option_id":"nope","item_ids":["a"]},
                {"type":"shipping","option_id":"dig_1","item_ids":["b"]}
            ]
        }))
        .unwrap();
        let findings = update_fulfillment_selection(&s, &bad);
        assert_eq!(
            paths(&findings),
            [
                "$.selected_fulfillment_options[0].option_id",
                "$.selected_fulfillment_options[1].type"
            ]
        );
        assert!(findings.iter().all(|f| f.rule == "CHK-06" && f.is_error()));
        let absent = CheckoutSessionUpdateRequest::new();
        assert!(update_fulfillment_selection(&s, &absent).is_empty());
    }

    #[test]
    fn chk_06_session_own_selection() {
        let good = session(&json!({"selected_fulfillment_options":
            [{"type":"digital","option_id":"dig_1","item_ids":["x"]}]}));
        assert!(session_fulfillment_selection(&good).is_empty());
        let bad = session(&json!({"selected_fulfillment_options":
            [{"type":"shipping","option_id":"fulfillment_option_456","item_ids":["x"]}]}));
        assert_eq!(
            paths(&session_fulfillment_selection(&bad)),
            ["$.selected_fulfillment_options[0].option_id"]
        );
    }

    #[test]
    fn chk_21_handler_must_be_declared() {
        let s = session(&json!({}));
        let ok: CheckoutSessionCompleteRequest = crate::parse::from_value(&json!({
            "payment_data": {"handler_id": "card_tokenized",
              "instrument": {"type":"card","credential":{"type":"spt","token":"vt_1"}}}
        }))
        .unwrap();
        assert!(payment_handler(&s, &ok).is_empty());
        let bad: CheckoutSessionCompleteRequest = crate::parse::from_value(&json!({
            "payment_data": {"handler_id": "paypal",
              "instrument": {"type":"card","credential":{"type":"spt","token":"vt_1"}}}
        }))
        .unwrap();
        let f = payment_handler(&s, &bad);
        assert_eq!(paths(&f), ["$.payment_data.handler_id"]);
        assert_eq!(f[0].rule, "CHK-21");
        let po: CheckoutSessionCompleteRequest =
            crate::parse::from_value(&json!({"payment_data": {"purchase_order_number": "PO-1"}}))
                .unwrap();
        assert!(payment_handler(&s, &po).is_empty());
        let no_payment = session(&json!({"capabilities": {}}));
        assert_eq!(
            paths(&payment_handler(&no_payment, &ok)),
            ["$.payment_data.handler_id"]
        );
    }

    #[test]
    fn chk_13_authentication_metadata_required() {
        let missing = session(&json!({"status": "authentication_required"}));
        let f = authentication_metadata(&missing);
        assert_eq!(paths(&f), ["$.authentication_metadata"]);
        assert_eq!(f[0].rule, "CHK-13");
        let present = session(&json!({"status": "authentication_required",
            "authentication_metadata": {
                "acquirer_details": {"acquirer_bin": "123456", "acquirer_country": "US",
                    "acquirer_merchant_id": "m", "merchant_name": "Shop"},
                "directory_server": "visa"}}));
        assert!(authentication_metadata(&present).is_empty());
        assert!(authentication_metadata(&session(&json!({}))).is_empty());
    }

    #[test]
    fn chk_11_completed_order() {
        let order = json!({"id": "ord_1", "checkout_session_id": "cs_1",
                           "permalink_url": "https://shop.example/o/1"});
        let ok = session(&json!({"status": "completed", "order": order}));
        assert!(completed_order(&ok).is_empty());
        let missing = session(&json!({"status": "completed"}));
        assert_eq!(paths(&completed_order(&missing)), ["$.order"]);
        let wrong = session(&json!({"status": "completed", "order": {"id": "",
            "checkout_session_id": "cs_2", "permalink_url": "https://shop.example/o/1"}}));
        assert_eq!(
            paths(&completed_order(&wrong)),
            ["$.order.id", "$.order.checkout_session_id"]
        );
        // Not completed: no order needed.
        assert!(completed_order(&session(&json!({}))).is_empty());

        let mut with_order = serde_json::to_value(&ok).unwrap();
        let good: CheckoutSessionWithOrder = crate::parse::from_value(&with_order).unwrap();
        assert!(complete_response(&good).is_empty());
        with_order["status"] = json!("complete_in_progress");
        let pending: CheckoutSessionWithOrder = crate::parse::from_value(&with_order).unwrap();
        assert_eq!(paths(&complete_response(&pending)), ["$.status"]);
    }
}
