//! End-to-end tests of `acp negotiate-version` and `acp fingerprint`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use crate::common;

use std::fmt::Write as _;
use std::process::Output;

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// Runs `acp <args>` through `cargo run` with `stdin` as standard input.
fn acp(args: &[&str], stdin: &[u8]) -> Output {
    common::cli::run_acp(args, stdin)
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn ver_cli_negotiate_version_success_prints_the_version() {
    let o = acp(
        &[
            "negotiate-version",
            "--supported",
            "2026-01-30,2026-04-17",
            "--requested",
            "2026-01-30",
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(stdout(&o), "2026-01-30\n");
}

#[test]
fn ver_cli_negotiate_version_errors_print_the_acp_error() {
    let missing = acp(
        &["negotiate-version", "--supported=2025-09-29,2026-04-17"],
        b"",
    );
    assert_eq!(missing.status.code(), Some(1), "{missing:?}");
    let v: Value = serde_json::from_str(&stdout(&missing)).unwrap();
    assert_eq!(
        v,
        json!({
            "type": "invalid_request",
            "code": "missing_api_version",
            "message": "The API-Version header is required",
            "supported_versions": ["2026-04-17", "2025-09-29"],
        })
    );

    let unsupported = acp(
        &[
            "negotiate-version",
            "--supported",
            "2026-04-17",
            "--requested",
            "2030-01-01",
        ],
        b"",
    );
    assert_eq!(unsupported.status.code(), Some(1));
    let v: Value = serde_json::from_str(&stdout(&unsupported)).unwrap();
    assert_eq!(v["code"], "unsupported_api_version");
    assert_eq!(v["supported_versions"], json!(["2026-04-17"]));
}

#[test]
fn ver_cli_negotiate_version_usage_errors_exit_2() {
    for args in [
        &["negotiate-version"][..],
        &["negotiate-version", "--supported", "not-a-date"],
        &[
            "negotiate-version",
            "--supported",
            "2026-04-17",
            "--bogus",
            "x",
        ],
        &[
            "negotiate-version",
            "--supported",
            "2026-04-17",
            "--requested",
        ],
    ] {
        let o = acp(args, b"");
        assert_eq!(o.status.code(), Some(2), "{args:?}: {o:?}");
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn idem_cli_fingerprint_prints_hex_sha256_of_canonical_json() {
    let o = acp(
        &["fingerprint"],
        b" { \"b\": 1.0, \"a\": [null, \"\\u00e9\"] } \n",
    );
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let digest = Sha256::digest("{\"a\":[null,\"\u{e9}\"],\"b\":1}".as_bytes());
    let expected = digest.iter().fold(String::new(), |mut acc, b| {
        let _ = write!(acc, "{b:02x}");
        acc
    });
    assert_eq!(stdout(&o), format!("{expected}\n"));
    let reordered = acp(&["fingerprint"], "{\"a\":[null,\"é\"],\"b\":1}".as_bytes());
    assert_eq!(stdout(&reordered), stdout(&o));
}

#[test]
fn idem_cli_fingerprint_rejects_invalid_json_and_duplicate_keys() {
    let dup = acp(&["fingerprint"], br#"{"a":1,"a":2}"#);
    assert_eq!(dup.status.code(), Some(1));
    let v: Value = serde_json::from_str(&stdout(&dup)).unwrap();
    assert_eq!(v["type"], "invalid_request");
    assert_eq!(v["code"], "duplicate_key");
    assert_eq!(v["param"], "$.a");

    let bad = acp(&["fingerprint"], b"{");
    assert_eq!(bad.status.code(), Some(1));
    let v: Value = serde_json::from_str(&stdout(&bad)).unwrap();
    assert_eq!(v["code"], "syntax");

    let usage = acp(&["fingerprint", "--x", "1"], b"{}");
    assert_eq!(usage.status.code(), Some(2));
}
