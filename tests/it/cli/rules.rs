//! End-to-end tests of `acp check-session`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::process::Output;

use serde_json::{Value, json};

/// Runs `acp check-session <args>` with `stdin` (a process that rejects its arguments may exit
/// before reading it: `run_acp` ignores that broken pipe).
fn check_session(args: &[&str], stdin: &[u8]) -> Output {
    let mut all = vec!["check-session"];
    all.extend_from_slice(args);
    common::cli::run_acp(&all, stdin)
}

fn findings(o: &Output) -> Vec<Value> {
    serde_json::from_slice::<Value>(&o.stdout)
        .unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}",
                String::from_utf8_lossy(&o.stdout)
            )
        })
        .as_array()
        .unwrap()
        .clone()
}

fn session() -> Value {
    json!({
        "id": "cs_1", "capabilities": {"interventions": {"supported": []}},
        "status": "ready_for_payment", "currency": "usd",
        "line_items": [{"id": "li_1", "item": {"id": "item_1"}, "quantity": 1, "unit_amount": 500,
            "totals": [{"type": "subtotal", "display_text": "Subtotal", "amount": 500},
                       {"type": "total", "display_text": "Total", "amount": 500}]}],
        "fulfillment_options": [{"type": "digital", "id": "dl", "title": "Download",
            "totals": [{"type": "total", "display_text": "Free", "amount": 0}]}],
        "selected_fulfillment_options": [{"type": "digital", "option_id": "dl", "item_ids": ["item_1"]}],
        "totals": [{"type": "subtotal", "display_text": "Subtotal", "amount": 500},
                   {"type": "total", "display_text": "Total", "amount": 500}],
        "messages": [], "links": []
    })
}

#[test]
fn cli_clean_session_prints_empty_array_and_exits_0() {
    let o = check_session(&[], session().to_string().as_bytes());
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(findings(&o), Vec::<Value>::new());
}

#[test]
fn cli_warning_only_exits_0() {
    let mut s = session();
    s["currency"] = json!("USD");
    let o = check_session(&[], s.to_string().as_bytes());
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        findings(&o),
        [
            json!({"rule": "CHK-08", "severity": "warning", "param": "$.currency",
                "message": "currency `USD` SHOULD be lowercase (`usd`)"})
        ]
    );
}

#[test]
fn cli_chk06_md02_chk09_errors_exit_1() {
    let mut s = session();
    s["selected_fulfillment_options"][0]["option_id"] = json!("ship");
    s["messages"] = json!([{"type": "error", "code": "invalid", "param": "nowhere",
        "content_type": "markdown", "content": "Bad <b>input</b>"}]);
    let o = check_session(&[], s.to_string().as_bytes());
    assert_eq!(o.status.code(), Some(1));
    let got: Vec<(String, String, String)> = findings(&o)
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                f["param"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        (
            "CHK-06",
            "error",
            "$.selected_fulfillment_options[0].option_id",
        ),
        ("MD-02", "error", "$.messages[0].content"),
        // Not a JSONPath at all: an error (an unresolvable path is only a warning).
        ("CHK-09", "error", "$.messages[0].param"),
    ];
    assert_eq!(got.len(), expected.len(), "{got:?}");
    for (g, e) in got.iter().zip(expected) {
        assert_eq!((g.0.as_str(), g.1.as_str(), g.2.as_str()), e);
    }
}

#[test]
fn cli_reports_chk13_authentication_required_without_metadata() {
    let mut s = session();
    s["status"] = json!("authentication_required");
    let o = check_session(&[], s.to_string().as_bytes());
    assert_eq!(o.status.code(), Some(1));
    let f = findings(&o);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["rule"], "CHK-13");
    assert_eq!(f[0]["severity"], "error");
    assert_eq!(f[0]["param"], "$.authentication_metadata");
    assert_eq!(f[0]["code"], "missing_authentication_metadata");
}

#[test]
fn cli_totals_findings_point_at_the_total() {
    let mut s = session();
    s["totals"][1]["amount"] = json!(501);
    s["line_items"][0]["totals"][1]["amount"] = json!(499);
    let o = check_session(&[], s.to_string().as_bytes());
    assert_eq!(o.status.code(), Some(0), "warnings only");
    let f = findings(&o);
    let params: Vec<(&str, &str)> = f
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["param"].as_str().unwrap()))
        .collect();
    assert_eq!(
        params,
        [
            ("ARITH-09", "$.line_items[0].totals[1]"),
            ("ARITH-10", "$.totals[1]"),
        ]
    );
}

#[test]
fn cli_unparseable_body_is_one_schema_error() {
    let mut s = session();
    s["line_items"][0]["quantity"] = json!("one");
    let o = check_session(&[], s.to_string().as_bytes());
    assert_eq!(o.status.code(), Some(1));
    let f = findings(&o);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["rule"], "SCHEMA");
    assert_eq!(f[0]["severity"], "error");
    assert_eq!(f[0]["param"], "$.line_items[0].quantity");

    let o = check_session(&[], b"not json");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(findings(&o)[0]["rule"], "SCHEMA");
}

#[test]
fn cli_unknown_flag_is_a_usage_error() {
    let o = check_session(&["--strict"], b"{}");
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
}

#[test]
fn cli_official_cancel_response_reports_chk06() {
    let Some(spec) = common::spec_dir("cli_official_cancel_response_reports_chk06") else {
        return;
    };
    let path = spec.join("examples/2026-04-17/examples.agentic_checkout.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let o = check_session(
        &[],
        doc["cancel_checkout_session_response"]
            .to_string()
            .as_bytes(),
    );
    assert_eq!(o.status.code(), Some(1));
    let errors: Vec<_> = findings(&o)
        .into_iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["rule"], "CHK-06");
    let o = check_session(
        &[],
        doc["create_checkout_session_response"]
            .to_string()
            .as_bytes(),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}
