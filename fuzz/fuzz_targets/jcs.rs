//! RFC 8785 canonicalization of arbitrary bytes, differentially (issue 6):
//!
//! * `canonicalize(canonicalize(x)) == canonicalize(x)` (the canonical form is a fixed point);
//! * `parse(canonical) == parse(x)` (the canonical form means the same JSON value, numbers
//!   compared as the IEEE doubles JCS serializes);
//! * the byte path and the `serde_json::Value` path give the same bytes;
//! * whatever JCS accepts, serde_json accepts too (JCS is only ever stricter: duplicate keys,
//!   numbers beyond f64, lone surrogates).
#![no_main]

use agentic_commerce::trust::canonical;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(canonical) = canonical::canonicalize(data) else {
        return;
    };
    // canonicalize(canonicalize(x)) == canonicalize(x)
    let twice = canonical::canonicalize(&canonical).expect("canonical output canonicalizes");
    assert_eq!(twice, canonical, "not a fixed point");
    // parse(canonical) == parse(x)
    let original: Value = serde_json::from_slice(data).expect("serde_json reads what JCS reads");
    let reparsed: Value = serde_json::from_slice(&canonical).expect("canonical output is JSON");
    assert!(same_value(&original, &reparsed), "value changed");
    let via_value = canonical::canonicalize_value(&original).expect("value canonicalizes");
    assert_eq!(via_value, canonical, "byte and value paths disagree");
});

/// JSON equality with numbers compared as IEEE doubles (JCS serializes every number as one).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}
