//! The parse API: lenient by default, lossless, precise JSONPath errors,

#![allow(clippy::unwrap_used)]
//! strict validation on request.

use agentic_commerce::parse::schema::ViolationKind;
use agentic_commerce::parse::{self, ParseErrorKind, StrictError};
use agentic_commerce::parse::{registry, schema::WireType};
use agentic_commerce::spec::v2026_04_17::agentic_checkout::{
    CheckoutSession, CheckoutSessionCreateRequest, CheckoutSessionUpdateRequest, CheckoutStatus,
    FulfillmentOption,
};
use agentic_commerce::spec::v2026_04_17::delegate_payment::DelegatePaymentRequest;
use agentic_commerce::wire::Patch;
use serde_json::{Value, json};

fn session() -> Value {
    json!({
        "id": "cs_123",
        "capabilities": {"payment": {"handlers": []}},
        "status": "ready_for_payment",
        "currency": "usd",
        "line_items": [{
            "id": "li_1",
            "item": {"id": "sku_1"},
            "quantity": 2,
            "totals": [{"type": "subtotal", "display_text": "Subtotal", "amount": 3000}]
        }],
        "fulfillment_options": [{
            "type": "shipping", "id": "ship_std", "title": "Standard",
            "totals": [{"type": "total", "display_text": "Shipping", "amount": 500}]
        }],
        "totals": [{"type": "total", "display_text": "Total", "amount": 3500}],
        "messages": [],
        "links": [{"type": "terms_of_use", "url": "https://shop.example/terms"}]
    })
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

#[test]
fn a_valid_session_parses_strictly_and_round_trips() {
    let v = session();
    let s: CheckoutSession = parse::from_slice_strict(&bytes(&v)).unwrap();
    assert_eq!(s.status, CheckoutStatus::ReadyForPayment);
    assert_eq!(s.line_items[0].quantity, 2);
    assert_eq!(s.totals[0].amount.minor_units(), 3500);
    assert!(matches!(
        s.fulfillment_options[0],
        FulfillmentOption::Shipping(_)
    ));
    assert_eq!(parse::to_value(&s).unwrap(), v);
}

#[test]
fn syntax_errors_and_trailing_garbage_are_syntax_errors() {
    let mut trailing = bytes(&session());
    trailing.extend_from_slice(b" x");
    for input in [&b"{"[..], b"{\"id\": }", &trailing, b"\xff\xfe", b""] {
        let e = parse::from_slice::<CheckoutSession>(input).unwrap_err();
        assert!(matches!(e.kind, ParseErrorKind::Syntax { .. }), "{e:?}");
        assert_eq!(e.path.to_string(), "$");
    }
}

#[test]
fn data_errors_carry_the_path_of_the_failing_value() {
    let cases = [
        (
            "/line_items/0/quantity",
            json!("two"),
            "$.line_items[0].quantity",
        ),
        ("/currency", json!("dollars"), "$.currency"),
        (
            "/line_items/0/totals/0/amount",
            json!(1.5),
            "$.line_items[0].totals[0].amount",
        ),
        ("/links/0/url", json!("not a url"), "$.links[0].url"),
        // Inside a tagged union variant, whose payload is buffered.
        (
            "/fulfillment_options/0/totals/0/amount",
            json!("x"),
            "$.fulfillment_options[0].totals[0].amount",
        ),
    ];
    for (pointer, bad, path) in cases {
        let mut v = session();
        *v.pointer_mut(pointer).unwrap() = bad;
        let e = parse::from_slice::<CheckoutSession>(&bytes(&v)).unwrap_err();
        assert!(e.kind.is_data(), "{e:?}");
        assert_eq!(e.path.to_string(), path, "{e}");
        assert!(!e.message.contains(" at line "), "{e}");
    }
    // A missing required member: the path it would have.
    let mut v = session();
    v["fulfillment_options"][0]
        .as_object_mut()
        .unwrap()
        .remove("title");
    let e = parse::from_slice::<CheckoutSession>(&bytes(&v)).unwrap_err();
    assert_eq!(e.path.to_string(), "$.fulfillment_options[0].title");
    assert_eq!(e.kind, ParseErrorKind::MissingField);
    // The kind, not the message's text, chooses the ACP code.
    let mut v = session();
    v["line_items"][0]["quantity"] = json!("two");
    let e = parse::from_slice::<CheckoutSession>(&bytes(&v)).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::InvalidType);
    let mut v = session();
    v["links"][0]["url"] = json!("not a url");
    let e = parse::from_slice::<CheckoutSession>(&bytes(&v)).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::InvalidValue);
}

#[test]
fn uri_fields_round_trip_byte_identically() {
    // `url::Url` used to rewrite this as `https://example.com/a?b`: the round trip changed the
    // merchant's data. `primitives::Uri` keeps the text as received.
    let mut v = session();
    v["links"][0]["url"] = json!("HTTPS://Example.COM/a?b");
    v["links"].as_array_mut().unwrap().push(
        json!({"type": "privacy_policy", "url": "https://shop.example/caf\u{e9}/datenschutz"}),
    );
    let input = bytes(&v);
    let s: CheckoutSession = parse::from_slice(&input).unwrap();
    assert_eq!(s.links[0].url, "HTTPS://Example.COM/a?b");
    assert_eq!(s.links[0].url.scheme(), "HTTPS");
    assert_eq!(
        s.links[1].url.as_str(),
        "https://shop.example/caf\u{e9}/datenschutz"
    );
    let output = serde_json::to_vec(&s).unwrap();
    let text = String::from_utf8(output.clone()).unwrap();
    assert!(
        text.contains(r#""url":"HTTPS://Example.COM/a?b""#),
        "{text}"
    );
    assert_eq!(serde_json::from_slice::<Value>(&output).unwrap(), v);
    assert_eq!(parse::to_value(&s).unwrap(), v);
    // Host and path stay available through the full WHATWG parse, on demand.
    assert_eq!(
        s.links[0].url.to_url().unwrap().host_str(),
        Some("example.com")
    );
}

#[test]
fn a_uri_field_without_a_scheme_names_the_problem() {
    for (bad, why) in [
        ("shop.example/terms", "invalid URI: missing scheme"),
        (
            "https://shop.example/a b",
            "invalid URI: forbidden character 0x20",
        ),
        ("", "invalid URI: empty"),
    ] {
        let mut v = session();
        v["links"][0]["url"] = json!(bad);
        let e = parse::from_slice::<CheckoutSession>(&bytes(&v)).unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::InvalidValue);
        assert_eq!(e.path.to_string(), "$.links[0].url", "{e}");
        assert!(e.message.contains(why), "{bad:?}: {e}");
    }
}

#[test]
fn unknown_fields_enum_values_and_variants_are_kept() {
    let mut v = session();
    v["status"] = json!("awaiting_drone");
    v["fulfillment_options"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "drone", "id": "d1", "eta": 5}));
    v["line_items"][0]["item"]["color_hint"] = json!(["red"]);
    v["new_top_level"] = json!({"a": null});
    let s: CheckoutSession = parse::from_slice(&bytes(&v)).unwrap();
    assert!(!s.status.is_known());
    assert_eq!(s.status.as_str(), "awaiting_drone");
    assert_eq!(s.fulfillment_options[1].kind(), "drone");
    assert!(matches!(
        s.fulfillment_options[1],
        FulfillmentOption::Unknown(_)
    ));
    assert_eq!(
        s.line_items[0].item.extra.get("color_hint"),
        Some(&json!(["red"]))
    );
    assert_eq!(parse::to_value(&s).unwrap(), v);

    // Strict validation reports each of them.
    let StrictError::Violations(found) =
        parse::from_slice_strict::<CheckoutSession>(&bytes(&v)).unwrap_err()
    else {
        panic!("expected violations")
    };
    let kinds: Vec<(String, ViolationKind)> =
        found.iter().map(|x| (x.path.to_string(), x.kind)).collect();
    assert!(kinds.contains(&("$.status".into(), ViolationKind::Enum)));
    assert!(kinds.contains(&("$.fulfillment_options[1].type".into(), ViolationKind::OneOf)));
    assert!(kinds.contains(&(
        "$.line_items[0].item.color_hint".into(),
        ViolationKind::AdditionalProperty
    )));
    assert!(kinds.contains(&("$.new_top_level".into(), ViolationKind::AdditionalProperty)));
}

#[test]
fn null_for_an_optional_member_is_kept_and_reported_strictly() {
    let mut v = session();
    v["buyer"] = Value::Null;
    let s: CheckoutSession = parse::from_slice(&bytes(&v)).unwrap();
    assert!(s.buyer.is_none());
    assert_eq!(parse::to_value(&s).unwrap(), v);
    let e = parse::from_slice_strict::<CheckoutSession>(&bytes(&v)).unwrap_err();
    assert_eq!(e.violations()[0].path.to_string(), "$.buyer");
    assert_eq!(e.violations()[0].kind, ViolationKind::Type);
}

#[test]
fn update_requests_tell_absent_from_null_idem_16() {
    let r: CheckoutSessionUpdateRequest =
        parse::from_str(r#"{"buyer": null, "line_items": [{"id": "sku_2"}]}"#).unwrap();
    assert_eq!(r.buyer, Patch::Null);
    assert!(matches!(r.line_items, Patch::Set(ref items) if items[0].id == "sku_2"));
    assert_eq!(r.fulfillment_details, Patch::Absent);
    let out = parse::to_value(&r).unwrap();
    assert_eq!(out, json!({"buyer": null, "line_items": [{"id": "sku_2"}]}));
}

#[test]
fn duplicate_members_are_rejected() {
    for body in [
        r#"{"line_items": [], "line_items": [], "currency": "usd", "capabilities": {}}"#,
        r#"{"x": 1, "x": 2, "line_items": [], "currency": "usd", "capabilities": {}}"#,
    ] {
        let e = parse::from_str::<CheckoutSessionCreateRequest>(body).unwrap_err();
        assert!(e.message.contains("duplicate"), "{e}");
    }
}

#[test]
fn card_data_never_reaches_debug_dp_19() {
    let body = json!({
        "payment_method": {
            "type": "card", "card_number_type": "fpan", "number": "4242424242424242",
            "cvc": "987", "display_card_funding_type": "credit", "metadata": {}
        },
        "allowance": {
            "reason": "one_time", "max_amount": 2000, "currency": "usd",
            "checkout_session_id": "cs_1", "merchant_id": "m_1",
            "expires_at": "2026-04-17T12:00:00Z"
        },
        "risk_signals": [],
        "metadata": {}
    });
    let r: DelegatePaymentRequest = parse::from_slice_strict(&bytes(&body)).unwrap();
    let debug = format!("{r:?}");
    assert!(
        !debug.contains("4242424242424242") && !debug.contains("987"),
        "{debug}"
    );
    assert!(debug.contains("[REDACTED]"));
    assert_eq!(r.payment_method.number.expose(), "4242424242424242");
    assert_eq!(parse::to_value(&r).unwrap(), body);
}

#[test]
fn the_registry_names_every_official_type() {
    let types = registry::types();
    assert_eq!(
        types.len(),
        146,
        "140 JSON Schema defs + 3 webhook components + 3 OpenAPI bodies"
    );
    for name in [
        "agentic_checkout.CheckoutSession",
        "delegate_payment.Error",
        "feed.Product",
        "cart.Cart",
        "discount.coupon",
        "extension.extension_identifier",
        "agentic_checkout_webhook.WebhookEvent",
    ] {
        assert!(registry::lookup(name).is_some(), "{name}");
    }
    assert!(registry::lookup("agentic_checkout.Nope").is_none());
    assert!(registry::lookup("nodot").is_none());
    let mut names: Vec<String> = types
        .iter()
        .map(registry::TypeEntry::qualified_name)
        .collect();
    let sorted = names.clone();
    names.sort();
    assert_eq!(names, sorted);
    assert_eq!(
        CheckoutSession::SCHEMA_NAME,
        "agentic_checkout.CheckoutSessionBase"
    );
}
