//! What the probes send and read in each released API version (`--api-version`).
//!
//! Requests are written once, as 2026-04-17 bodies, and brought down to the version under test
//! with the crate's own conversion ([`versioned::convert`]): a 2025-09-29 create lists `items`
//! with a `quantity`, its update sends a `fulfillment_address` and a lone
//! `fulfillment_option_id`, a 2025-12-12 selection nests the option under its type, and
//! `currency` and `capabilities` only exist from 2026-01-30. The one request the conversion
//! cannot write, a complete before 2026-01-30 (`payment_data {token, provider}`: the provider
//! is the session's, not derivable from a payment handler), is built here. Every body is then
//! validated strictly against the version's own request type, so the checker never sends a
//! shape the version does not define.
//!
//! Probes of features a version does not have are reported as not applicable, with the
//! reason ([`not_applicable`]).

use agentic_commerce::parse::registry;
use agentic_commerce::protocol::version::ApiVersion;
use agentic_commerce::protocol::version::convert::{self as versioned, Document};
use serde_json::{Value, json};

/// Whether `version` is `first` or later.
pub(crate) fn since(version: &ApiVersion, first: &ApiVersion) -> bool {
    version >= first
}

/// Why a probe does not apply to `version` (`None`: it does).
pub(crate) fn not_applicable(version: &ApiVersion, probe: &str) -> Option<&'static str> {
    let latest = since(version, &ApiVersion::V2026_04_17);
    let negotiation = since(version, &ApiVersion::V2026_01_30);
    match probe {
        "discovery" if !latest => {
            Some("the discovery document (/.well-known/acp.json) is defined from 2026-04-17")
        }
        "negotiation" if !negotiation => Some(
            "capability negotiation (`capabilities` on the create request and the session) starts in 2026-01-30",
        ),
        "idempotency.key_required" if !latest => Some(
            "`Idempotency-Key` is an optional header before 2026-04-17 (required from 2026-04-17, SEP #120)",
        ),
        "idempotency.replayed_header" if !latest => {
            Some("the `Idempotent-Replayed` response header is defined from 2026-04-17")
        }
        "version.missing" | "version.unsupported" if !latest => Some(
            "a request without a usable `API-Version` is in no version, so its answer cannot be held to this one's schema (probed in the 2026-04-17 run)",
        ),
        "version.missing.details" | "version.unsupported.details" if !latest => Some(
            "`Error.supported_versions` and the codes `missing_api_version` / `unsupported_api_version` are defined from 2026-04-17",
        ),
        "idempotency.in_flight" | "idempotency.retry_after" if !latest => Some(
            "409 `idempotency_in_flight` with `Retry-After` is defined from 2026-04-17 (SEP #120)",
        ),
        probe if probe.starts_with("cart.") && !latest => {
            Some("the cart endpoints (/carts, rfc.cart) are defined from 2026-04-17")
        }
        probe if probe.starts_with("mcp.") && !latest => Some(
            "the MCP binding (openrpc.agentic_checkout.json, JSON-RPC `tools/call`) is defined from 2026-04-17",
        ),
        _ => None,
    }
}

/// A request body in the version under test.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Request {
    /// The body as sent.
    pub(crate) body: Value,
    /// What the 2026-04-17 body carried that this version cannot (`$.capabilities: …`).
    pub(crate) dropped: Vec<String>,
}

/// Strict validation of a request body against `version`'s type of `document`.
///
/// # Errors
///
/// The violations: the checker would send a shape the version does not define.
fn own_check(version: &ApiVersion, document: Document, body: &Value) -> Result<(), String> {
    let name = document.type_name();
    let entry =
        registry::lookup_in(version, name).ok_or_else(|| format!("{version} has no {name}"))?;
    entry.roundtrip_strict(body).map(|_| ()).map_err(|v| {
        let list: Vec<String> = v
            .iter()
            .take(3)
            .map(|v| format!("{}: {}", v.path, v.message))
            .collect();
        format!(
            "the checker's {name} is not valid in {version}: {}",
            list.join("; ")
        )
    })
}

/// The 2026-04-17 request `latest` (a `document`) as `version` writes it.
///
/// # Errors
///
/// The conversion fails or its result is not a valid request of `version`.
pub(crate) fn request(
    version: &ApiVersion,
    document: Document,
    latest: &Value,
) -> Result<Request, String> {
    let converted = versioned::convert(document, &ApiVersion::LATEST, version, latest)
        .map_err(|e| format!("cannot write the request in {version}: {e}"))?;
    own_check(version, document, &converted.value)?;
    Ok(Request {
        body: converted.value,
        dropped: converted.losses.iter().map(ToString::to_string).collect(),
    })
}

/// The create request for `items`: one of each, declaring 3-D Secure support (NEG-01) from
/// 2026-01-30 on.
///
/// # Errors
///
/// As [`request`].
pub(crate) fn create(
    version: &ApiVersion,
    items: &[String],
    currency: &str,
) -> Result<Request, String> {
    let latest = json!({
        "currency": currency,
        "line_items": items.iter().map(|id| json!({"id": id})).collect::<Vec<_>>(),
        "capabilities": {"interventions": {"supported": ["3ds"]}},
    });
    request(version, Document::CreateRequest, &latest)
}

/// The ids of the fulfillment options `session` has selected, in any version's form:
/// `fulfillment_option_id` (2025-09-29), `selected_fulfillment_options[].<type>.option_id`
/// (2025-12-12, 2026-01-16) or `selected_fulfillment_options[].option_id` (2026-01-30 on).
pub(crate) fn selected_options(session: &Value) -> Vec<String> {
    let mut ids: Vec<String> = session["fulfillment_option_id"]
        .as_str()
        .map(str::to_owned)
        .into_iter()
        .collect();
    for option in session["selected_fulfillment_options"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let nested = option["type"]
            .as_str()
            .and_then(|kind| option[kind]["option_id"].as_str());
        if let Some(id) = option["option_id"].as_str().or(nested) {
            ids.push(id.to_owned());
        }
    }
    ids
}

/// The merchant id a delegated token's allowance names (DP-10), when the session says it:
/// the first payment handler's `config.merchant_id` (2026-01-30 on) or
/// `payment_provider.merchant_id` (2026-01-16).
pub(crate) fn merchant_id(session: &Value) -> Option<String> {
    session
        .pointer("/capabilities/payment/handlers/0/config/merchant_id")
        .or_else(|| session.pointer("/payment_provider/merchant_id"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The session's `total` amount (minor units; 0 when it states none).
pub(crate) fn total(session: &Value) -> i64 {
    session["totals"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["type"] == "total"))
        .and_then(|t| t["amount"].as_i64())
        .unwrap_or(0)
}

/// The 2026-04-17 `delegate_payment` request (DP-01, DP-09, DP-10) for `session`: a test
/// card with a one-time allowance of the session's total in `currency`, bound to
/// `merchant_id`, expiring at `expires_at` (RFC 3339); `source` goes into the metadata.
pub(crate) fn delegate(
    session: &Value,
    currency: &str,
    merchant_id: &str,
    expires_at: &str,
    source: &str,
) -> Value {
    let id = session["id"].as_str().unwrap_or_default();
    json!({
        "payment_method": {"type": "card", "card_number_type": "fpan", "virtual": false, "number": "4242424242424242",
            "exp_month": "12", "exp_year": "2030", "name": "Ada Lovelace", "cvc": "123",
            "display_card_funding_type": "credit", "display_brand": "visa", "display_last4": "4242", "metadata": {}},
        "allowance": {"reason": "one_time", "max_amount": total(session), "currency": currency,
            "checkout_session_id": id, "merchant_id": merchant_id, "expires_at": expires_at},
        "risk_signals": [{"type": "card_testing", "score": 3, "action": "authorized"}],
        "metadata": {"source": source}
    })
}

/// The `delegate_authentication` create request (2026-04-17, the PSP's version) for an
/// `authentication_required` session: the merchant, acquirer and flow preference of its
/// `authentication_metadata` (CHK-13), its total and id (which the merchant checks the
/// result against), the delegated test card, a browser channel and a challenge notification
/// URL.
pub(crate) fn delegate_authentication(session: &Value) -> Value {
    let meta = &session["authentication_metadata"];
    let currency = session["currency"].as_str().unwrap_or("usd").to_uppercase();
    let mut request = json!({"merchant_id": meta["acquirer_details"]["acquirer_merchant_id"],
        "acquirer_details": meta["acquirer_details"],
        "payment_method": {"type": "card", "number": "4242424242424242", "exp_month": "12",
            "exp_year": "2030", "name": "Ada Lovelace"},
        "amount": {"value": total(session), "currency": currency},
        "checkout_session_id": session["id"],
        // Where the ACS would post a challenge's result (DA-12); no challenge reaches it here.
        "challenge_notification_url": "https://conformance.invalid/3ds",
        "channel": {"type": "browser", "browser": {"accept_header": "text/html",
            "ip_address": "192.0.2.1", "javascript_enabled": false, "language": "en-US",
            "user_agent": "acp-conformance"}}});
    if meta["flow_preference"].is_object() {
        request["flow_preference"] = meta["flow_preference"].clone();
    }
    request
}

/// The one `PaymentData.provider` value versions before 2026-01-30 define (an enum of one).
const LEGACY_PROVIDER: &str = "stripe";

/// The complete request paying `session` with `token`: a payment handler's instrument from
/// 2026-01-30 on (NEG-04), the session's `payment_provider` (else `stripe`, the only provider
/// those versions define) and the bare token before; with `authentication`, a 3-D Secure run
/// at the PSP (its `authentication_session_id` and the checkout's `authentication_result`),
/// the result (CHK-14) and, from 2026-01-30 on, the session id in the card credential, where
/// the merchant's handler can look the result up.
///
/// # Errors
///
/// The session declares no way to pay, or the body is not valid in `version`.
pub(crate) fn complete(
    version: &ApiVersion,
    session: &Value,
    token: &str,
    authentication: Option<(&str, &Value)>,
) -> Result<Value, String> {
    let mut body = if since(version, &ApiVersion::V2026_01_30) {
        let handler = session
            .pointer("/capabilities/payment/handlers/0/id")
            .and_then(Value::as_str)
            .ok_or("the session declares no payment handler (NEG-04)")?;
        json!({"payment_data": {"handler_id": handler, "instrument": {"type": "card",
            "credential": {"type": "spt", "token": token}}}})
    } else {
        // `payment_provider` is optional on these sessions; without it the agent pays with
        // the only `PaymentData.provider` these versions define.
        let provider = session
            .pointer("/payment_provider/provider")
            .and_then(Value::as_str)
            .unwrap_or(LEGACY_PROVIDER);
        json!({"payment_data": {"token": token, "provider": provider}})
    };
    if let Some((id, result)) = authentication {
        if let Some(credential) = body.pointer_mut("/payment_data/instrument/credential") {
            credential["authentication_session_id"] = json!(id);
        }
        body["authentication_result"] = result.clone();
    }
    own_check(version, Document::CompleteRequest, &body)?;
    Ok(body)
}

/// The cancel request: an `intent_trace` (IT-01) from 2025-12-12 on, an empty object in
/// 2025-09-29 (which defines no cancel body).
pub(crate) fn cancel(version: &ApiVersion) -> Value {
    if since(version, &ApiVersion::V2025_12_12) {
        json!({"intent_trace": {"reason_code": "other", "trace_summary": "ACP conformance probe"}})
    } else {
        json!({})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items() -> Vec<String> {
        vec!["var_mug_pine".to_owned()]
    }

    #[test]
    fn create_is_written_in_each_version() {
        let old = create(&ApiVersion::V2025_09_29, &items(), "usd").unwrap();
        assert_eq!(
            old.body,
            json!({"items": [{"id": "var_mug_pine", "quantity": 1}]})
        );
        // currency and capabilities do not exist before 2026-01-30: said, not hidden.
        assert!(old.dropped.iter().any(|d| d.starts_with("$.capabilities")));
        let jan = create(&ApiVersion::V2026_01_30, &items(), "usd").unwrap();
        assert_eq!(jan.body["line_items"], json!([{"id": "var_mug_pine"}]));
        assert_eq!(jan.body["currency"], "usd");
        assert!(jan.dropped.is_empty(), "{:?}", jan.dropped);
    }

    #[test]
    fn a_2025_09_29_update_selects_a_lone_option_id() {
        let latest = json!({
            "fulfillment_details": {"name": "Ada", "address": {"name": "Ada", "line_one": "1 Way",
                "city": "Portland", "state": "OR", "country": "US", "postal_code": "97201"}},
            "selected_fulfillment_options": [{"type": "shipping", "option_id": "ship_standard",
                "item_ids": ["li_1"]}],
        });
        let old = request(&ApiVersion::V2025_09_29, Document::UpdateRequest, &latest).unwrap();
        assert_eq!(old.body["fulfillment_option_id"], "ship_standard");
        assert_eq!(old.body["fulfillment_address"]["city"], "Portland");
        assert!(old.body.get("selected_fulfillment_options").is_none());
        let dec = request(&ApiVersion::V2025_12_12, Document::UpdateRequest, &latest).unwrap();
        assert_eq!(
            dec.body["selected_fulfillment_options"][0]["shipping"]["option_id"],
            "ship_standard"
        );
        assert_eq!(selected_options(&old.body), ["ship_standard"]);
        assert_eq!(selected_options(&dec.body), ["ship_standard"]);
        assert_eq!(selected_options(&latest), ["ship_standard"]);
    }

    #[test]
    fn complete_pays_with_the_provider_before_2026_01_30_and_a_handler_after() {
        let old_session = json!({"status": "ready_for_payment",
            "payment_provider": {"provider": "stripe", "supported_payment_methods": ["card"]}});
        assert_eq!(
            complete(&ApiVersion::V2025_09_29, &old_session, "vt_1", None).unwrap(),
            json!({"payment_data": {"token": "vt_1", "provider": "stripe"}})
        );
        // Without a declared provider: the only one the version defines.
        assert_eq!(
            complete(
                &ApiVersion::V2025_12_12,
                &json!({"status": "ready_for_payment"}),
                "vt_1",
                None
            )
            .unwrap()["payment_data"]["provider"],
            "stripe"
        );
        // A 2026-01-30 merchant must declare a handler: without one the probe says so.
        assert!(
            complete(&ApiVersion::V2026_01_30, &old_session, "vt_1", None)
                .unwrap_err()
                .contains("NEG-04")
        );
        let new_session = json!({"status": "ready_for_payment",
            "capabilities": {"payment": {"handlers": [{"id": "h1", "config": {"merchant_id": "m"}}]}}});
        let body = complete(&ApiVersion::V2026_04_17, &new_session, "vt_1", None).unwrap();
        assert_eq!(body["payment_data"]["handler_id"], "h1");
        assert!(body.get("authentication_result").is_none());
        // After 3-D Secure: the result, and the provider's session id in the credential.
        let result = json!({"outcome": "authenticated", "outcome_details": {
            "three_ds_cryptogram": "AAAB", "electronic_commerce_indicator": "05",
            "transaction_id": "t_1", "version": "2.2.0"}});
        let body = complete(
            &ApiVersion::V2026_04_17,
            &new_session,
            "vt_1",
            Some(("auth_1", &result)),
        )
        .unwrap();
        assert_eq!(body["authentication_result"], result);
        assert_eq!(
            body["payment_data"]["instrument"]["credential"]["authentication_session_id"],
            "auth_1"
        );
        assert_eq!(merchant_id(&new_session).as_deref(), Some("m"));
        assert_eq!(merchant_id(&old_session), None);
    }

    #[test]
    fn probes_a_version_lacks_are_not_applicable() {
        let old = ApiVersion::V2025_12_12;
        assert!(not_applicable(&old, "negotiation").is_some());
        assert!(not_applicable(&old, "discovery").is_some());
        assert!(not_applicable(&old, "create").is_none());
        assert!(not_applicable(&ApiVersion::V2026_01_30, "negotiation").is_none());
        for probe in [
            "discovery",
            "negotiation",
            "idempotency.key_required",
            "version.missing",
        ] {
            assert_eq!(not_applicable(&ApiVersion::LATEST, probe), None, "{probe}");
        }
        assert_eq!(cancel(&ApiVersion::V2025_09_29), json!({}));
        assert!(cancel(&old)["intent_trace"].is_object());
    }
}
