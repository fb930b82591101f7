//! End-to-end tests of `acp canonicalize` (the `acp` example binary).
//!
//! The binary is built and run by `common::cli`.

// Test code: panicking on unexpected values is the point (clippy only exempts `#[test]` fns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::process::Output;

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut full = vec!["canonicalize"];
    full.extend_from_slice(args);
    common::cli::run_acp(&full, stdin)
}

#[test]
fn canonical_bytes_without_trailing_newline() {
    let out = run(&[], b" {\"b\": 1.0, \"a\": [\"\\u00e9\", 1e21]}\n");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, "{\"a\":[\"\u{e9}\",1e+21],\"b\":1}".as_bytes());
    assert!(out.stderr.is_empty());
}

#[test]
fn duplicate_key_is_a_typed_error_with_a_jsonpath() {
    let out = run(&[], br#"{"x":{"a":1,"a":2}}"#);
    assert_eq!(out.status.code(), Some(1));
    let error: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        error,
        serde_json::json!({
            "type": "invalid_request",
            "code": "duplicate_key",
            "message": "duplicate member name at $.x.a",
            "param": "$.x.a",
        })
    );
}

#[test]
fn syntax_error_omits_param() {
    let out = run(&[], b"[1,]");
    assert_eq!(out.status.code(), Some(1));
    let error: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(error["code"], "syntax");
    assert_eq!(error["type"], "invalid_request");
    assert!(error.get("param").is_none());
}

#[test]
fn unknown_flags_and_arguments_are_usage_errors() {
    for args in [&["--pretty"][..], &["--pretty=1"], &["file.json"]] {
        let out = run(args, b"{}");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
    }
}
