//! Typed parsing of arbitrary bytes into a wire type chosen by two selector bytes, in every
//! released API version, lenient and strict:
//!
//! * byte 0: the version (`(b & 0x7f) % 5` over `ApiVersion::RELEASED`); with the top bit set,
//!   byte 1 picks one of the top-level request/response body types (`registry::body_type` of
//!   every operation, looked up with `registry::lookup_in`), otherwise any registry type of that
//!   version (`registry::types_for`);
//! * the rest is the JSON body.
//!
//! Invariants: never a panic; strict success implies lenient success and the same value; a
//! lenient parse that succeeds re-serializes to JSON that parses again to an equal value (a
//! fixed point), and a strictly valid body stays strictly valid after the round trip. The six
//! checkout/feed types of 2026-04-17 are also parsed from the raw bytes with
//! `parse::from_slice{,_strict}` and must round-trip through `parse::to_vec`.
#![no_main]

use agentic_commerce::parse::registry::{self, Body, TypeEntry};
use agentic_commerce::protocol::headers::Operation;
use agentic_commerce::protocol::version::ApiVersion;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let [selector, index, body @ ..] = data else {
        return;
    };
    let version = &ApiVersion::RELEASED[usize::from(selector & 0x7f) % ApiVersion::RELEASED.len()];
    let Some(entry) = pick(version, *selector & 0x80 != 0, *index) else {
        return;
    };
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        check_entry(entry, &value);
    }
    if *version == ApiVersion::V2026_04_17 {
        check_typed(*index, body);
    }
});

/// The entry the selector bytes name, or `None` for a top-level type the version lacks.
fn pick(version: &ApiVersion, top_level: bool, index: u8) -> Option<&'static TypeEntry> {
    if top_level {
        let names: Vec<&str> = Operation::ALL
            .iter()
            .flat_map(|&op| [Body::Request, Body::Response].map(|b| registry::body_type(op, b)))
            .flatten()
            .collect();
        let name = names[usize::from(index) % names.len()];
        registry::lookup_in(version, name)
    } else {
        let types = registry::types_for(version)?;
        types.get(usize::from(index) % types.len())
    }
}

fn check_entry(entry: &TypeEntry, value: &Value) {
    let name = entry.qualified_name();
    let strict = entry.roundtrip_strict(value);
    match entry.roundtrip(value) {
        Ok(first) => {
            let second = entry
                .roundtrip(&first)
                .unwrap_or_else(|e| panic!("{name}: re-parse of the lenient output failed: {e}"));
            assert_eq!(
                first, second,
                "{name}: lenient round trip is not a fixed point"
            );
            if let Ok(strict) = strict {
                assert_eq!(strict, first, "{name}: strict and lenient disagree");
                if let Err(v) = entry.roundtrip_strict(&first) {
                    panic!("{name}: strictly valid input re-serialized to invalid {v:?}");
                }
            }
        }
        Err(e) => {
            assert!(
                strict.is_err(),
                "{name}: strict accepted what lenient rejected: {e}"
            );
        }
    }
}

fn check_typed(selector: u8, body: &[u8]) {
    use agentic_commerce::parse;
    use agentic_commerce::spec::v2026_04_17::{agentic_checkout as co, feed};
    macro_rules! check {
        ($t:ty) => {{
            let lenient = parse::from_slice::<$t>(body);
            let strict = parse::from_slice_strict::<$t>(body);
            match &lenient {
                Ok(value) => {
                    let bytes = parse::to_vec(value).expect("serialize");
                    let again = parse::from_slice::<$t>(&bytes).expect("re-parse");
                    assert_eq!(&again, value, "typed round trip changed the value");
                    if let Ok(strict) = &strict {
                        assert_eq!(strict, value, "strict and lenient disagree");
                    }
                }
                Err(_) => assert!(strict.is_err(), "strict accepted what lenient rejected"),
            }
        }};
    }
    match selector % 6 {
        0 => check!(co::CheckoutSession),
        1 => check!(co::CheckoutSessionCreateRequest),
        2 => check!(co::CheckoutSessionUpdateRequest),
        3 => check!(co::CheckoutSessionCompleteRequest),
        4 => check!(co::Order),
        _ => check!(feed::ProductsResponse),
    }
}
