//! End-to-end tests of `acp validate` and `acp types`.

#![allow(clippy::unwrap_used)]

mod common;

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
