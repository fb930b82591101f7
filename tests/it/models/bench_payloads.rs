//! The benchmark payloads (`benches/data/payloads.rs`) are what the benchmarks claim: each one
//! parses with the type its case measures and passes that version's official schema, so no
//! benchmark times an error path; and the payload compared with the published
//! `agentic-commerce-protocol` 0.2.0 crate is read by both crates with no member left unknown.

// Test code: panicking on unexpected values is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use agentic_commerce::parse;
use agentic_commerce::spec::v2025_09_29;
use agentic_commerce::spec::v2026_04_17::{agentic_checkout as co, feed};

include!("../../../benches/data/payloads.rs");
include!("../../../benches/data/plain.rs");

fn strict<T: parse::schema::WireType>(value: &serde_json::Value) -> T {
    parse::from_slice_strict::<T>(&to_bytes(value)).unwrap_or_else(|e| {
        panic!(
            "benchmark payload is not a valid {}: {e:?}",
            std::any::type_name::<T>()
        )
    })
}

#[test]
fn every_headline_payload_is_a_valid_document_of_its_type() {
    let session: co::CheckoutSession = strict(&checkout_session_value(3));
    assert_eq!(session.line_items.len(), 3);
    assert!(session.extra.is_empty());
    // The plain-derive reference reads the same bytes (so its bench row times a parse, not
    // an error).
    let plain: plain::Session =
        serde_json::from_slice(&to_bytes(&checkout_session_value(3))).unwrap();
    assert_eq!(plain.line_items.len(), 3);
    assert_eq!(plain.totals.len(), session.totals.len());
    let create: co::CheckoutSessionCreateRequest = strict(&create_request_value());
    assert!(create.extra.is_empty());
    let order: co::Order = strict(&order_value());
    assert!(order.extra.is_empty());
    let page: feed::ProductsResponse = strict(&feed_page_value(1_000));
    assert!(page.extra.is_empty());
}

#[test]
fn the_published_crate_payload_is_2025_09_29_and_both_crates_read_all_of_it() {
    let value = published_crate_payload();
    let ours: v2025_09_29::agentic_checkout::CheckoutSession = strict(&value);
    assert!(ours.extra.is_empty(), "{:?}", ours.extra);
    assert_eq!(ours.line_items.len(), 20);
    for line in &ours.line_items {
        assert!(line.extra.is_empty(), "{:?}", line.extra);
        assert!(line.item.extra.is_empty(), "{:?}", line.item.extra);
    }
    let theirs: agentic_commerce_protocol::CheckoutSession =
        serde_json::from_slice(&to_bytes(&value)).unwrap();
    assert_eq!(theirs.line_items.len(), 20);
    assert_eq!(theirs.totals.len(), ours.totals.len());
    // Nothing is lost on our side: the round trip gives the payload back.
    assert_eq!(parse::to_value(&ours).unwrap(), value);
}
