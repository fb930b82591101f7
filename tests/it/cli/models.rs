//! End-to-end tests of `acp validate` and `acp types`.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::cli::run_acp;
use serde_json::Value;

#[test]
fn types_lists_every_bundle_and_name() {
    let out = run_acp(&["types"], b"");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 146);
    for name in [
        "agentic_checkout.CheckoutSession",
        "delegate_payment.Error",
        "feed.Product",
    ] {
        assert!(lines.contains(&name), "{name}");
    }
}

#[test]
fn validate_prints_the_reserialized_value() {
    let out = run_acp(
        &["validate", "--type", "agentic_checkout.Buyer"],
        br#"{"email": "a@example.com", "future": [1, 2]}"#,
    );
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"email": "a@example.com", "future": [1, 2]})
    );
}

#[test]
fn strict_validate_prints_every_violation_as_acp_errors() {
    let out = run_acp(
        &["validate", "--type", "agentic_checkout.Buyer", "--strict"],
        br#"{"first_name": 3, "future": true}"#,
    );
    assert_eq!(out.status.code(), Some(1));
    let errors: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let params: Vec<&str> = errors
        .iter()
        .map(|e| e["param"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["$.email", "$.first_name", "$.future"]);
    for e in &errors {
        assert_eq!(e["type"], "invalid_request");
        assert!(e["code"].is_string() && e["message"].is_string());
    }
}

#[test]
fn lenient_failures_and_garbage_exit_1_with_a_param() {
    for (input, param) in [
        (&br#"{"email": 5}"#[..], "$.email"),
        (b"\x00\xff garbage", "$"),
        (b"", "$"),
    ] {
        let out = run_acp(&["validate", "--type", "agentic_checkout.Buyer"], input);
        assert_eq!(out.status.code(), Some(1));
        let errors: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(errors[0]["param"], param);
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["validate"][..],
        &["validate", "--type", "nope.Nope"],
        &["validate", "--type"],
        &["types", "x"],
    ] {
        let out = run_acp(args, b"{}");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

/// VER-02: `--api-version` selects the released version's types.
#[test]
fn types_and_validate_take_an_api_version_ver_02() {
    let out = run_acp(&["types", "--api-version", "2025-09-29"], b"");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 32);
    assert!(
        text.lines()
            .any(|l| l == "agentic_checkout_webhook.EventDataOrder")
    );
    assert!(!text.lines().any(|l| l.starts_with("cart.")));

    // A 2025-09-29 session may not use a status 2025-12-12 added.
    let session = br#"{"id":"cs_1","status":"authentication_required","currency":"usd",
        "line_items":[],"totals":[],"fulfillment_options":[],"messages":[],"links":[]}"#;
    let old = run_acp(
        &[
            "validate",
            "--type",
            "agentic_checkout.CheckoutSession",
            "--strict",
            "--api-version",
            "2025-09-29",
        ],
        session,
    );
    assert_eq!(old.status.code(), Some(1));
    let errors: Value = serde_json::from_slice(&old.stdout).unwrap();
    assert_eq!(errors[0]["param"], "$.status");
    assert_eq!(errors[0]["code"], "enum");
    let newer = run_acp(
        &[
            "validate",
            "--type",
            "agentic_checkout.CheckoutSession",
            "--strict",
            "--api-version",
            "2025-12-12",
        ],
        session,
    );
    assert_eq!(newer.status.code(), Some(0));

    // A type the version does not have, and a version the crate does not model.
    let cart = run_acp(
        &[
            "validate",
            "--type",
            "cart.Cart",
            "--api-version",
            "2026-01-30",
        ],
        b"{}",
    );
    assert_eq!(cart.status.code(), Some(2));
    let unknown = run_acp(&["types", "--api-version", "2026-02-30"], b"");
    assert_eq!(unknown.status.code(), Some(2));
    let unreleased = run_acp(&["types", "--api-version", "2027-01-01"], b"");
    assert_eq!(unreleased.status.code(), Some(2));
}
