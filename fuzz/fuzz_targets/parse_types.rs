//! Typed parsing of arbitrary bytes into a registry type chosen by the first byte: lenient and
//! strict parse never panic, strict success implies lenient success, and a parsed value
//! re-serializes to JSON that parses back to the same value.
#![no_main]

use agentic_commerce::registry;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let types = registry::types();
    let entry = &types[usize::from(selector) % types.len()];
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let strict = entry.roundtrip_strict(&value);
    match entry.roundtrip(&value) {
        Ok(first) => {
            let second = entry
                .roundtrip(&first)
                .unwrap_or_else(|e| panic!("{}: re-parse failed: {e}", entry.qualified_name()));
            assert_eq!(first, second, "{}: not stable", entry.qualified_name());
            if let Ok(strict) = strict {
                assert_eq!(strict, first, "{}", entry.qualified_name());
            }
        }
        Err(_) => assert!(strict.is_err(), "{}: strict accepted", entry.qualified_name()),
    }
    // The typed byte parsers for the top-level types.
    agentic_commerce_fuzz_typed(selector, body);
});

fn agentic_commerce_fuzz_typed(selector: u8, body: &[u8]) {
    use agentic_commerce::parse;
    use agentic_commerce::spec::v2026_04_17::{agentic_checkout as co, feed};
    macro_rules! check {
        ($t:ty) => {{
            let lenient = parse::from_slice::<$t>(body);
            let strict = parse::from_slice_strict::<$t>(body);
            if let Ok(value) = &lenient {
                let bytes = parse::to_vec(value).expect("serialize");
                let again = parse::from_slice::<$t>(&bytes).expect("re-parse");
                assert_eq!(&again, value);
            } else {
                assert!(strict.is_err(), "strict accepted what lenient rejected");
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
