//! Integration tests for `agentic_commerce::rules::delegate_payment` (DP-03, DP-12 … DP-19) on the
//! official `examples.delegate_payment.json`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use agentic_commerce::rules::delegate_payment::{validate_request, validate_value};
use agentic_commerce::spec::v2026_04_17::delegate_payment::DelegatePaymentRequest;
use agentic_commerce::trust::allowance::{
    AllowanceTerms, AllowanceViolation, ProposedCharge, check,
};
use common::spec_dir;
use serde_json::Value;
use time::macros::datetime;

fn official_request(spec: &std::path::Path) -> Value {
    let path = spec.join("examples/2026-04-17/examples.delegate_payment.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["delegate_payment_request"].clone()
}

/// The official request passes every DP-12 … DP-18 check.
#[test]
fn dp_12_to_18_official_request_is_clean() {
    let Some(spec) = spec_dir("dp_12_to_18_official_request_is_clean") else {
        return;
    };
    let value = official_request(&spec);
    assert_eq!(validate_value(&value).unwrap(), []);
    let request: DelegatePaymentRequest =
        agentic_commerce::parse::from_value_strict(&value).unwrap();
    assert_eq!(validate_request(&request), []);
}

/// DP-19: `Debug` of the parsed official request never shows the card number or the CVC.
#[test]
fn dp_19_debug_redacts_official_card() {
    let Some(spec) = spec_dir("dp_19_debug_redacts_official_card") else {
        return;
    };
    let value = official_request(&spec);
    let number = value["payment_method"]["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let cvc = value["payment_method"]["cvc"].as_str().unwrap().to_owned();
    let request: DelegatePaymentRequest = agentic_commerce::parse::from_value(&value).unwrap();
    for text in [format!("{request:?}"), format!("{request:#?}")] {
        assert!(!text.contains(&number));
        assert!(!text.contains(&cvc));
    }
}

/// DP-03/DP-04/DP-09/DP-10: the typed official allowance feeds the allowance checks directly.
#[test]
fn dp_03_official_allowance_to_terms() {
    let Some(spec) = spec_dir("dp_03_official_allowance_to_terms") else {
        return;
    };
    let request: DelegatePaymentRequest =
        agentic_commerce::parse::from_value(&official_request(&spec)).unwrap();
    let terms = AllowanceTerms::from(&request.allowance);
    // Same terms as deserializing the allowance JSON into AllowanceTerms directly.
    let direct: AllowanceTerms =
        serde_json::from_value(official_request(&spec)["allowance"].clone()).unwrap();
    assert_eq!(terms, direct);
    let charge = ProposedCharge {
        amount: 1500,
        currency: "usd".into(),
        checkout_session_id: "csn_01HV3P3XYZ9ABC".into(),
        merchant_id: "acme_store".into(),
    };
    assert_eq!(
        check(&terms, &charge, datetime!(2025-10-09 07:00 UTC))
            .unwrap()
            .headroom(),
        500
    );
    let late = check(&terms, &charge, datetime!(2025-10-09 07:20:50.52 UTC)).unwrap_err();
    assert!(
        late.iter()
            .any(|v| matches!(v, AllowanceViolation::Expired { .. })),
        "{late:?}"
    );
}
