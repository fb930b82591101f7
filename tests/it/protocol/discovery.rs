//! The discovery document (DIS-*) against the official examples.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use agentic_commerce::protocol::discovery::{DiscoveryBuilder, validate};
use agentic_commerce::protocol::version::ApiVersion;
use agentic_commerce::spec::v2026_04_17::agentic_checkout::{DiscoveryResponse, DiscoveryService};
use serde_json::{Value, json};

fn official(key: &str) -> Option<Value> {
    let spec = common::spec_dir(key)?;
    let path = spec.join("examples/2026-04-17/examples.agentic_checkout.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    Some(doc[key].clone())
}

fn rules_of(value: Value) -> Vec<&'static str> {
    let doc: DiscoveryResponse = serde_json::from_value(value).unwrap();
    validate(&doc).into_iter().map(|f| f.rule).collect()
}

#[test]
fn dis03_official_discovery_examples_are_valid() {
    for key in ["discovery_response_full", "discovery_response_minimal"] {
        let Some(value) = official(key) else { return };
        assert_eq!(rules_of(value), Vec::<&str>::new(), "{key}");
    }
}

#[test]
fn dis_each_rule_violated_on_the_official_full_example() {
    let Some(full) = official("discovery_response_full") else {
        return;
    };
    // (rule, JSON pointer of the parent object, member, new value)
    let cases = [
        ("DIS-04", "/protocol", "name", json!("ucp")),
        (
            "DIS-05",
            "/protocol",
            "supported_versions",
            json!(["2026-04-17", "2025-09-29"]),
        ),
        ("DIS-05", "/protocol", "version", json!("2026-01-30")),
        ("DIS-06", "", "transports", json!(["mcp"])),
        (
            "DIS-10",
            "/capabilities",
            "services",
            json!(["checkout", "checkout"]),
        ),
        (
            "DIS-03",
            "/capabilities",
            "supported_currencies",
            json!(["USD"]),
        ),
        (
            "DIS-07",
            "/capabilities/extensions/0",
            "merchant_id",
            json!("acct_1"),
        ),
        (
            "HDR-06",
            "",
            "api_base_url",
            json!("http://acp.stripe.com/api"),
        ),
        (
            "EXT-04",
            "/capabilities/extensions/1",
            "schema",
            json!("http://x.example/s.json"),
        ),
    ];
    for (rule, parent, member, value) in cases {
        let mut v = full.clone();
        v.pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .unwrap()
            .insert(member.to_owned(), value);
        let got = rules_of(v);
        assert!(got.contains(&rule), "{rule}: got {got:?}");
        assert!(
            got.iter().all(|r| *r == rule),
            "{rule}: unrelated findings {got:?}"
        );
    }
}

#[test]
fn builder_reproduces_the_official_minimal_example() {
    let Some(minimal) = official("discovery_response_minimal") else {
        return;
    };
    let built = DiscoveryBuilder::new(
        url::Url::parse("https://merchant.example.com/api").unwrap(),
        &[ApiVersion::V2025_09_29],
    )
    .service(DiscoveryService::Checkout)
    .build()
    .unwrap();
    assert_eq!(serde_json::to_value(&built).unwrap(), minimal);
}

#[test]
fn builder_full_release_list_matches_the_official_full_protocol() {
    let Some(full) = official("discovery_response_full") else {
        return;
    };
    let built = DiscoveryBuilder::new(
        url::Url::parse("https://acp.stripe.com/api").unwrap(),
        ApiVersion::RELEASED,
    )
    .mcp(true)
    .service(DiscoveryService::Checkout)
    .build()
    .unwrap();
    let v = serde_json::to_value(&built).unwrap();
    assert_eq!(
        v["protocol"]["supported_versions"],
        full["protocol"]["supported_versions"]
    );
    assert_eq!(v["protocol"]["version"], full["protocol"]["version"]);
    assert_eq!(v["transports"], full["transports"]);
}
