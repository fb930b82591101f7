//! End-to-end tests of the `acp` trust subcommands: `webhook-sign`, `webhook-verify` and
//! `allowance-check` (WH-01 … WH-05, DP-03 … DP-10).

// Helpers outside `#[test]` functions are test code too (clippy.toml only exempts test fns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::PathBuf;
use std::process::Output;

/// Runs `acp <args>` with `stdin` and returns its output.
fn acp(args: &[&str], stdin: &[u8]) -> Output {
    common::cli::run_acp(args, stdin)
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap()
}

const BODY: &[u8] = br#"{"type":"order_create","data":{"type":"order","id":"ord_123","checkout_session_id":"checkout_session_123","permalink_url":"https://example.com/orders/123","status":"created"}}"#;
/// From `tests/vectors/webhook_vectors.json` (`json_order_event`), computed with Node.js.
const HEADER: &str =
    "t=1709123456,v1=338efc7c9418016590773fec50cdde35f0cee854777ea940add20d93175b19b5";

#[test]
fn wh03_cli_sign_matches_the_known_answer_and_verifies() {
    let signed = acp(
        &[
            "webhook-sign",
            "--secret",
            "whsec_test_secret",
            "--timestamp",
            "1709123456",
        ],
        BODY,
    );
    assert_eq!(code(&signed), 0, "{signed:?}");
    assert_eq!(stdout(&signed), format!("{HEADER}\n"));

    let header = stdout(&signed).trim_end().to_owned();
    // At t, 300 s after it (the default past window) and 60 s before it (the future window).
    for now in ["1709123456", "2024-02-28T12:35:56Z", "1709123396"] {
        let verified = acp(
            &[
                "webhook-verify",
                "--secret",
                "whsec_old_0123456789",
                "--secret",
                "whsec_test_secret",
                "--header",
                &header,
                "--now",
                now,
            ],
            BODY,
        );
        assert_eq!(code(&verified), 0, "{verified:?}");
        assert_eq!(stdout(&verified), "ok\n");
    }
}

#[test]
fn wh05_cli_verify_failures_print_the_kind_and_exit_1() {
    let base = [
        "webhook-verify",
        "--secret",
        "whsec_test_secret",
        "--header",
        HEADER,
        "--now",
        "1709123456",
    ];
    let tampered = acp(&base, b"{}");
    assert_eq!(code(&tampered), 1);
    assert_eq!(stdout(&tampered), "mismatch\n");

    let mut late: Vec<&str> = base.to_vec();
    late[6] = "1709123757";
    let stale = acp(&late, BODY);
    assert_eq!((code(&stale), stdout(&stale)), (1, "stale\n".to_owned()));

    let mut tight: Vec<&str> = base.to_vec();
    tight[6] = "1709123457";
    tight.extend(["--tolerance", "0"]);
    let stale = acp(&tight, BODY);
    assert_eq!((code(&stale), stdout(&stale)), (1, "stale\n".to_owned()));

    let mut bad: Vec<&str> = base.to_vec();
    bad[4] = "t=1709123456,v1=abc";
    let malformed = acp(&bad, BODY);
    assert_eq!(
        (code(&malformed), stdout(&malformed)),
        (1, "malformed\n".to_owned())
    );

    bad[4] = "";
    let missing = acp(&bad, BODY);
    assert_eq!(
        (code(&missing), stdout(&missing)),
        (1, "missing\n".to_owned())
    );
}

#[test]
fn cli_trust_usage_errors_exit_2() {
    for args in [
        &["webhook-sign", "--secret", "whsec_test_secret"][..],
        &["webhook-sign", "--secret", "", "--timestamp", "1"],
        &[
            "webhook-sign",
            "--secret",
            "whsec_test_secret",
            "--timestamp",
            "-1",
        ],
        &[
            "webhook-sign",
            "--secret",
            "whsec_test_secret",
            "--timestamp",
            "1",
            "--bogus",
            "x",
        ],
        &["webhook-verify", "--header", HEADER, "--now", "1"],
        &[
            "webhook-verify",
            "--secret",
            "whsec_test_secret",
            "--header",
            HEADER,
            "--now",
            "yesterday",
        ],
        &[
            "webhook-verify",
            "--secret",
            "whsec_test_secret",
            "--header",
            HEADER,
            "--now",
            "1",
            "--tolerance",
            "-5",
        ],
        &[
            "webhook-verify",
            "--secret",
            "whsec_test_secret",
            "--now",
            "1",
        ],
        // A secret below 128 bits.
        &[
            "webhook-sign",
            "--secret",
            "0123456789abcde",
            "--timestamp",
            "1",
        ],
        // WH-04: the window is capped at one hour (SIG-05's cap).
        &[
            "webhook-verify",
            "--secret",
            "whsec_test_secret",
            "--header",
            HEADER,
            "--now",
            "1",
            "--tolerance",
            "3601",
        ],
        // Beyond year 9999.
        &[
            "webhook-sign",
            "--secret",
            "whsec_test_secret",
            "--timestamp",
            "253402300800",
        ],
    ] {
        let output = acp(args, b"");
        assert_eq!(code(&output), 2, "{args:?}: {output:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}

fn allowance_file(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(name);
    std::fs::write(
        &path,
        r#"{"reason":"one_time","max_amount":2000,"currency":"usd","checkout_session_id":"csn_01HV3P3","merchant_id":"acme","expires_at":"2025-10-09T07:20:50.52Z"}"#,
    )
    .unwrap();
    path
}

fn check(file: &str, session: &str, amount: &str, currency: &str, now: &str) -> Output {
    acp(
        &[
            "allowance-check",
            "--allowance",
            file,
            "--session-id",
            session,
            "--merchant-id",
            "acme",
            "--amount",
            amount,
            "--currency",
            currency,
            "--now",
            now,
        ],
        b"",
    )
}

#[test]
fn dp03_cli_allowance_ok() {
    let path = allowance_file("cli_allowance_ok.json");
    let file = path.to_str().unwrap();
    let ok = check(file, "csn_01HV3P3", "2000", "USD", "2025-10-09T07:20:49Z");
    assert_eq!(code(&ok), 0, "{ok:?}");
    assert_eq!(stdout(&ok), "ok\n");
}

#[test]
fn dp03_dp04_dp09_cli_allowance_violations_are_a_json_array() {
    let path = allowance_file("cli_allowance_violations.json");
    let file = path.to_str().unwrap();
    let out = check(file, "csn_other", "2001", "eur", "2025-10-09T07:20:50.52Z");
    assert_eq!(code(&out), 1, "{out:?}");
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let rules: Vec<(&str, &str)> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["rule"].as_str().unwrap(), v["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rules,
        [
            ("DP-03", "amount_exceeded"),
            ("DP-03", "currency_mismatch"),
            ("DP-09", "session_mismatch"),
            ("DP-04", "expired"),
        ]
    );
    assert_eq!(
        json[3]["message"],
        "allowance expired at 2025-10-09T07:20:50.52Z"
    );
}

#[test]
fn cli_allowance_bad_input_exits_2() {
    let path = allowance_file("cli_allowance_bad.json");
    let file = path.to_str().unwrap();
    let missing_file = check(
        "/nonexistent/allowance.json",
        "s",
        "1",
        "usd",
        "2025-01-01T00:00:00Z",
    );
    assert_eq!(code(&missing_file), 2);
    let bad_amount = check(file, "s", "1.5", "usd", "2025-01-01T00:00:00Z");
    assert_eq!(code(&bad_amount), 2);
    let bad_now = check(file, "s", "1", "usd", "tomorrow");
    assert_eq!(code(&bad_now), 2);

    let not_allowance = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli_not_allowance.json");
    std::fs::write(&not_allowance, r#"{"reason":"one_time"}"#).unwrap();
    let out = check(
        not_allowance.to_str().unwrap(),
        "s",
        "1",
        "usd",
        "2025-01-01T00:00:00Z",
    );
    assert_eq!(code(&out), 2);
}
