//! Inputs the fuzz targets (`fuzz/`, run by `.ci/fuzz`) once failed on, kept as regression
//! tests. Each input lives in `tests/fuzz_regressions/<target>/<name>`; every file of a
//! target's folder is replayed through the property that target asserts.

use std::path::PathBuf;

use agentic_commerce::trust::canonical;
use agentic_commerce::trust::idempotency::Fingerprint;
use serde_json::Value;

/// Every regression input of `target`, with its file name.
fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path();
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path.display().to_string(), bytes)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no regression inputs in {}", dir.display());
    out
}

/// The `jcs` target's properties (RFC 8785): `canonicalize(canonicalize(x)) ==
/// canonicalize(x)`, `parse(canonical) == parse(x)`, and the `Value` path agrees with the byte
/// path, so `Fingerprint::of_value` and `Fingerprint::of_json` agree (IDEM-11).
///
/// `long-integer-one-ulp` (`1` followed by 55 `3`s): without `serde_json`'s `float_roundtrip`
/// feature, `serde_json` parsed the canonical `1.3333333333333333e+55` one ULP away from the
/// value of the original integer, so a body parsed into a `Value` canonicalized differently
/// from the raw body. The crate now enables `float_roundtrip`.
#[test]
fn jcs_fuzz_regressions_fixed_point_same_value_and_value_path() {
    for (name, data) in inputs("jcs") {
        let canonical = canonical::canonicalize(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            canonical::canonicalize(&canonical).expect("canonical output canonicalizes"),
            canonical,
            "{name}: not a fixed point"
        );
        let original: Value = serde_json::from_slice(&data).expect("JSON");
        let reparsed: Value = serde_json::from_slice(&canonical).expect("canonical JSON");
        assert_eq!(
            original.as_f64().map(f64::to_bits),
            reparsed.as_f64().map(f64::to_bits),
            "{name}: parse(canonical) != parse(x)"
        );
        assert_eq!(
            canonical::canonicalize_value(&original).expect("value canonicalizes"),
            canonical,
            "{name}: value and byte paths disagree"
        );
        // Fingerprints refuse numbers that change value in canonical form (the 56-digit
        // integer of `long-integer-one-ulp` does); where they accept, both paths agree.
        match Fingerprint::of_json(&data) {
            Ok(fingerprint) => assert_eq!(
                Fingerprint::of_value(&original).expect("fingerprint"),
                fingerprint,
                "{name}: fingerprints disagree"
            ),
            Err(e) => assert_eq!(e.code(), "inexact_number", "{name}"),
        }
    }
}

/// The exact numbers of `long-integer-one-ulp`: the integer and its canonical form are the
/// same IEEE double, `1.3333333333333333e+55`.
#[test]
fn jcs_fuzz_regression_long_integer_parses_to_the_nearest_double() {
    let integer = format!("1{}", "3".repeat(55));
    let canonical = canonical::canonicalize(integer.as_bytes()).expect("a JSON number");
    assert_eq!(canonical, b"1.3333333333333333e+55");
    let from_integer: f64 = serde_json::from_str(&integer).expect("number");
    let from_canonical: f64 = serde_json::from_slice(&canonical).expect("number");
    assert_eq!(from_integer.to_bits(), from_canonical.to_bits());
    assert_eq!(
        from_integer.to_bits(),
        integer.parse::<f64>().expect("number").to_bits()
    );
}
