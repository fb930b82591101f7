//! Integration tests for `agentic_commerce::trust::webhook` (WH-01 … WH-05).

// Helpers outside `#[test]` functions are test code too (clippy.toml only exempts test fns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use agentic_commerce::AcpError;
use agentic_commerce::trust::PolicyError;
use agentic_commerce::trust::webhook::{
    self, HEADER_NAME, MalformedReason, MerchantSignature, PreEpochTimestampError,
    VerificationPolicy, VerifiedWebhook, WebhookError, WebhookSecret, WebhookVerifier,
};
use proptest::prelude::*;
use serde::Deserialize;
use time::{Duration, OffsetDateTime};

const T: u64 = 1_709_123_456;

fn secret(s: &str) -> WebhookSecret {
    WebhookSecret::new(s).unwrap()
}

fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap()
}

fn t_i64() -> i64 {
    i64::try_from(T).unwrap()
}

/// The last second `OffsetDateTime` can hold: 9999-12-31T23:59:59Z.
const CALENDAR_MAX: u64 = 253_402_300_799;

/// `webhook::sign` at `t` Unix seconds.
fn sign(s: &WebhookSecret, t: u64, body: &[u8]) -> String {
    webhook::sign(s, at(i64::try_from(t).unwrap()), body).unwrap()
}

/// `MerchantSignature::compute` at `t` Unix seconds.
fn compute(s: &WebhookSecret, t: u64, body: &[u8]) -> MerchantSignature {
    MerchantSignature::compute(s, at(i64::try_from(t).unwrap()), body).unwrap()
}

/// A policy of `past` seconds in the past and `future` seconds in the future.
fn window(past: i64, future: i64) -> VerificationPolicy {
    VerificationPolicy::new()
        .with_max_past(Duration::seconds(past))
        .unwrap()
        .with_max_future(Duration::seconds(future))
        .unwrap()
}

/// The widest window a policy allows: one hour each way.
fn widest() -> VerificationPolicy {
    let max = VerificationPolicy::MAX_TOLERANCE.whole_seconds();
    window(max, max)
}

fn verify_err(header: &str) -> WebhookError {
    let verifier = WebhookVerifier::new(secret("whsec_test_0123456789"));
    verifier
        .verify(Some(header), b"{}", at(t_i64()))
        .unwrap_err()
}

fn malformed(reason: MalformedReason) -> WebhookError {
    WebhookError::Malformed { reason }
}

// ---------------------------------------------------------------------------------------------
// Known-answer vectors (generated independently with Node.js crypto.createHmac).

#[derive(Deserialize)]
struct VectorFile {
    sign: Vec<SignVector>,
    verify: Vec<VerifyVector>,
}

#[derive(Deserialize)]
struct Payload {
    body: Option<String>,
    body_hex: Option<String>,
    body_repeat: Option<Repeat>,
}

#[derive(Deserialize)]
struct Repeat {
    unit: String,
    count: usize,
}

impl Payload {
    fn bytes(&self) -> Vec<u8> {
        match (&self.body, &self.body_hex, &self.body_repeat) {
            (Some(text), None, None) => text.as_bytes().to_vec(),
            (None, Some(hex), None) => (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect(),
            (None, None, Some(r)) => r.unit.repeat(r.count).into_bytes(),
            _ => panic!("vector must have exactly one body form"),
        }
    }
}

#[derive(Deserialize)]
struct SignVector {
    name: String,
    secret: String,
    timestamp: String,
    #[serde(flatten)]
    body: Payload,
    v1: String,
    header: String,
}

#[derive(Deserialize)]
struct VerifyVector {
    name: String,
    secrets: Vec<String>,
    #[serde(flatten)]
    body: Payload,
    now: i64,
    header: String,
    expect: String,
}

fn vectors() -> VectorFile {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/webhook_vectors.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn wh03_known_answer_sign_vectors() {
    let file = vectors();
    assert!(file.sign.len() >= 5, "at least five sign vectors");
    for v in &file.sign {
        let body = v.body.bytes();
        let t: u64 = v.timestamp.parse().unwrap();
        let s = secret(&v.secret);
        assert_eq!(sign(&s, t, &body), v.header, "vector {}", v.name);
        let signed_at = at(i64::try_from(t).unwrap());
        assert_eq!(
            webhook::sign(&s, signed_at + Duration::milliseconds(999), &body).unwrap(),
            v.header,
            "vector {}: t is whole seconds",
            v.name
        );
        assert_eq!(v.header, format!("t={},v1={}", v.timestamp, v.v1));

        let parsed: MerchantSignature = v.header.parse().unwrap();
        assert_eq!(parsed.timestamp(), t, "vector {}", v.name);
        assert_eq!(parsed.to_string(), v.header, "vector {}", v.name);
        assert_eq!(parsed, compute(&s, t, &body));

        // Verifies at its own timestamp with a zero window.
        let verifier = WebhookVerifier::new(s).with_policy(window(0, 0));
        let ok = verifier.verify(Some(&v.header), &body, signed_at).unwrap();
        assert_eq!(ok.timestamp(), signed_at);
        assert_eq!(ok.body(), body.as_slice());
    }
}

#[test]
fn wh03_known_answer_sign_vectors_cover_required_cases() {
    let file = vectors();
    let names: Vec<&str> = file.sign.iter().map(|v| v.name.as_str()).collect();
    for required in [
        "empty_body",
        "unicode_body",
        "large_body_100k",
        "binary_non_utf8_body",
    ] {
        assert!(names.contains(&required), "missing vector {required}");
    }
    let large = file
        .sign
        .iter()
        .find(|v| v.name == "large_body_100k")
        .unwrap();
    assert!(large.body.bytes().len() >= 100_000);
    assert!(file.verify.iter().any(|v| v.name == "upper_case_hex"));
}

#[test]
fn wh02_wh04_known_answer_verify_vectors() {
    let file = vectors();
    assert!(file.verify.len() >= 5);
    for v in &file.verify {
        let mut secrets = v.secrets.iter().map(|s| secret(s));
        let mut verifier = WebhookVerifier::new(secrets.next().unwrap());
        for s in secrets {
            verifier = verifier.with_secret(s);
        }
        let body = v.body.bytes();
        let got = match verifier.verify(Some(&v.header), &body, at(v.now)) {
            Ok(_) => "ok",
            Err(e) => e.kind(),
        };
        assert_eq!(got, v.expect, "vector {}", v.name);
    }
}

// ---------------------------------------------------------------------------------------------
// Conformance with the official OpenAPI file.

fn spec_webhook_yaml() -> serde_yaml::Value {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("ACP_SPEC_DIR").map(PathBuf::from),
        Some(manifest.join("../shared/acp-spec")),
        Some(manifest.join("../../shared/acp-spec")),
    ];
    let file = candidates
        .into_iter()
        .flatten()
        .map(|dir| dir.join("spec/2026-04-17/openapi/openapi.agentic_checkout_webhook.yaml"))
        .find(|p| p.is_file())
        .expect("ACP spec not found: set ACP_SPEC_DIR or place shared/acp-spec beside the crate");
    serde_yaml::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

fn header_parameter(spec: &serde_yaml::Value) -> &serde_yaml::Value {
    spec["paths"]["/agentic_checkout/webhooks/order_events"]["post"]["parameters"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|p| p["name"].as_str() == Some(HEADER_NAME))
        .unwrap()
}

#[test]
fn wh02_signed_headers_match_the_spec_pattern() {
    let spec = spec_webhook_yaml();
    let param = header_parameter(&spec);
    assert_eq!(param["required"].as_bool(), Some(true));
    let pattern = regex::Regex::new(param["schema"]["pattern"].as_str().unwrap()).unwrap();
    for v in vectors().sign {
        assert!(pattern.is_match(&v.header), "{}", v.header);
    }
    let example = param["schema"]["example"].as_str().unwrap();
    assert!(pattern.is_match(example));
    // The spec's example parses (it is not a valid MAC of anything we know).
    let parsed: MerchantSignature = example.parse().unwrap();
    assert_eq!(parsed.timestamp(), 1_709_123_456);
    assert_eq!(parsed.to_string(), example);
}

#[test]
fn wh05_error_bodies_are_the_spec_401_examples() {
    let spec = spec_webhook_yaml();
    let examples = &spec["paths"]["/agentic_checkout/webhooks/order_events"]["post"]["responses"]["401"]
        ["content"]["application/json"]["examples"];
    let cases = [
        ("missing_signature", WebhookError::Missing),
        (
            "malformed_signature",
            malformed(MalformedReason::MissingTimestamp),
        ),
        ("timestamp_expired", WebhookError::Stale { timestamp: 0 }),
        ("invalid_signature", WebhookError::Mismatch),
    ];
    for (name, error) in cases {
        let expected: serde_json::Value = serde_json::to_value(&examples[name]["value"]).unwrap();
        assert_eq!(AcpError::from(&error).to_json(), expected, "example {name}");
        assert_eq!(error.http_status(), 401);
    }
}

// ---------------------------------------------------------------------------------------------
// Tolerance (WH-04).

fn signed_at(t: u64) -> (WebhookVerifier, String) {
    let s = secret("whsec_tolerance_0123");
    let header = sign(&s, t, b"body");
    (WebhookVerifier::new(s), header)
}

#[test]
fn wh04_default_policy_is_300_s_past_inclusive() {
    let (verifier, header) = signed_at(T);
    assert_eq!(verifier.policy(), &VerificationPolicy::default());
    assert_eq!(verifier.policy().max_past(), Duration::seconds(300));
    for ok in [0, 299, 300] {
        assert!(
            verifier
                .verify(Some(&header), b"body", at(t_i64() + ok))
                .is_ok()
        );
    }
    assert_eq!(
        verifier
            .verify(Some(&header), b"body", at(t_i64() + 301))
            .unwrap_err(),
        WebhookError::Stale { timestamp: T }
    );
}

#[test]
fn wh04_default_policy_is_60_s_future_inclusive() {
    let (verifier, header) = signed_at(T);
    assert_eq!(verifier.policy().max_future(), Duration::seconds(60));
    for ok in [59, 60] {
        assert!(
            verifier
                .verify(Some(&header), b"body", at(t_i64() - ok))
                .is_ok()
        );
    }
    assert_eq!(
        verifier
            .verify(Some(&header), b"body", at(t_i64() - 61))
            .unwrap_err(),
        WebhookError::Stale { timestamp: T }
    );
}

#[test]
fn wh04_subsecond_now_is_truncated_to_whole_seconds() {
    let (verifier, header) = signed_at(T);
    let almost = at(t_i64() + 300) + Duration::milliseconds(999);
    assert!(verifier.verify(Some(&header), b"body", almost).is_ok());
}

#[test]
fn wh04_custom_and_zero_window() {
    let (verifier, header) = signed_at(T);
    let zero = verifier.clone().with_policy(window(0, 0));
    assert!(zero.verify(Some(&header), b"body", at(t_i64())).is_ok());
    assert!(
        zero.verify(Some(&header), b"body", at(t_i64() + 1))
            .is_err()
    );
    assert!(
        zero.verify(Some(&header), b"body", at(t_i64() - 1))
            .is_err()
    );
    let ten = verifier.with_policy(window(10, 10));
    assert!(ten.verify(Some(&header), b"body", at(t_i64() + 10)).is_ok());
    assert_eq!(
        ten.verify(Some(&header), b"body", at(t_i64() - 11))
            .unwrap_err()
            .kind(),
        "stale"
    );
}

/// WH-04, SIG-05: the window is capped (one hour, the request-signature cap) with a typed
/// error, so no configuration can switch the freshness check off; before, any `u64` tolerance
/// was taken and `u64::MAX` accepted a header signed at any time.
#[test]
fn wh04_window_is_capped_and_larger_windows_are_a_typed_error() {
    let max = VerificationPolicy::MAX_TOLERANCE;
    assert_eq!(max, Duration::hours(1));
    for too_large in [max + Duration::seconds(1), Duration::MAX] {
        assert_eq!(
            VerificationPolicy::new().with_max_past(too_large),
            Err(PolicyError::ToleranceTooLarge { max })
        );
        assert_eq!(
            VerificationPolicy::new().with_max_future(too_large),
            Err(PolicyError::ToleranceTooLarge { max })
        );
    }
    assert_eq!(
        VerificationPolicy::new().with_max_past(Duration::seconds(-1)),
        Err(PolicyError::NegativeTolerance)
    );
    // With the widest window, one hour is fresh and one hour and a second is stale.
    let (verifier, header) = signed_at(T);
    let widest = verifier.with_policy(widest());
    assert!(
        widest
            .verify(Some(&header), b"body", at(t_i64() + 3600))
            .is_ok()
    );
    assert!(
        widest
            .verify(Some(&header), b"body", at(t_i64() - 3600))
            .is_ok()
    );
    for stale in [t_i64() + 3601, t_i64() - 3601, 0] {
        assert_eq!(
            widest
                .verify(Some(&header), b"body", at(stale))
                .unwrap_err(),
            WebhookError::Stale { timestamp: T }
        );
    }
}

#[test]
fn wh04_sign_takes_an_offset_date_time_and_refuses_pre_epoch_times() {
    let s = secret("whsec_tolerance_0123");
    let at_t = at(t_i64());
    assert_eq!(
        webhook::sign(&s, at_t, b"body").unwrap(),
        sign(&s, T, b"body")
    );
    assert_eq!(
        webhook::sign(&s, at(-1), b"body").unwrap_err(),
        PreEpochTimestampError
    );
    assert!(MerchantSignature::compute(&s, at(-1), b"body").is_err());
    assert!(
        webhook::sign(&s, at(0), b"body")
            .unwrap()
            .starts_with("t=0,v1=")
    );
    // Signing from a non-UTC offset signs the same instant.
    let offset = at_t.to_offset(time::macros::offset!(+05:30));
    assert_eq!(
        webhook::sign(&s, offset, b"body").unwrap(),
        sign(&s, T, b"body")
    );
}

#[test]
fn wh04_stale_is_reported_before_mismatch() {
    let (verifier, header) = signed_at(T);
    let err = verifier
        .verify(Some(&header), b"tampered", at(t_i64() + 10_000))
        .unwrap_err();
    assert_eq!(err, WebhookError::Stale { timestamp: T });
}

#[test]
fn wh04_timestamps_at_the_integer_edges_do_not_overflow() {
    let s = secret("edge_0123456789abcdef");
    let verifier = WebhookVerifier::new(s.clone()).with_policy(widest());
    let earliest = OffsetDateTime::new_utc(time::Date::MIN, time::Time::MIDNIGHT);
    let latest = at(i64::try_from(CALENDAR_MAX).unwrap());
    // Correctly signed headers with `t` beyond the calendar (only a header can carry them)
    // are stale from every `now`, even with the widest window: computed exactly.
    for t in [CALENDAR_MAX + 1, i64::MAX.unsigned_abs(), u64::MAX] {
        let header = format!("t={t},v1={}", "0".repeat(64));
        for now in [earliest, at(0), latest] {
            assert_eq!(
                verifier.verify(Some(&header), b"x", now).unwrap_err(),
                WebhookError::Stale { timestamp: t }
            );
        }
    }
    // The last second of the calendar verifies at that second.
    let header = sign(&s, CALENDAR_MAX, b"x");
    let ok = verifier.verify(Some(&header), b"x", latest).unwrap();
    assert_eq!(ok.timestamp(), latest);
    assert_eq!(
        verifier.verify(Some(&header), b"x", earliest).unwrap_err(),
        WebhookError::Stale {
            timestamp: CALENDAR_MAX
        }
    );
    let header = "t=9223372036854775807,v1=".to_owned() + &"0".repeat(64);
    assert_eq!(
        verify_err(&header),
        WebhookError::Stale {
            timestamp: 9_223_372_036_854_775_807
        }
    );
    for t in ["99999999999999999999", "18446744073709551616"] {
        let header = format!("t={t},v1={}", "0".repeat(64));
        assert_eq!(
            verify_err(&header),
            malformed(MalformedReason::TimestampOutOfRange)
        );
    }
}

#[test]
fn wh04_pre_epoch_now_is_handled() {
    let (verifier, header) = signed_at(0);
    assert!(verifier.verify(Some(&header), b"body", at(-60)).is_ok());
    assert!(verifier.verify(Some(&header), b"body", at(-61)).is_err());
    assert!(verifier.verify(Some(&header), b"body", at(300)).is_ok());
    assert!(verifier.verify(Some(&header), b"body", at(301)).is_err());
}

// ---------------------------------------------------------------------------------------------
// Rotation and several v1 entries.

#[test]
fn wh01_rotation_accepts_old_and_new_secret() {
    let old = secret("whsec_old_0123456789");
    let new = secret("whsec_new_0123456789");
    let verifier = WebhookVerifier::new(new.clone()).with_secret(old.clone());
    for s in [&old, &new] {
        let header = sign(s, T, b"payload");
        assert!(
            verifier
                .verify(Some(&header), b"payload", at(t_i64()))
                .is_ok()
        );
    }
    let retired = secret("whsec_retired_0123456789");
    let header = sign(&retired, T, b"payload");
    assert_eq!(
        verifier
            .verify(Some(&header), b"payload", at(t_i64()))
            .unwrap_err(),
        WebhookError::Mismatch
    );
}

#[test]
fn wh02_several_v1_entries_any_may_match() {
    let old = secret("whsec_old_0123456789");
    let new = secret("whsec_new_0123456789");
    let both = compute(&old, T, b"payload").with_additional_secret(&new, b"payload");
    assert_eq!(both.signatures().len(), 2);
    let header = both.to_string();
    assert_eq!(header.matches(",v1=").count(), 2);
    for s in [old, new] {
        let verifier = WebhookVerifier::new(s);
        assert!(
            verifier
                .verify(Some(&header), b"payload", at(t_i64()))
                .is_ok()
        );
    }
    let other = WebhookVerifier::new(secret("whsec_other_0123456789"));
    assert_eq!(
        other
            .verify(Some(&header), b"payload", at(t_i64()))
            .unwrap_err(),
        WebhookError::Mismatch
    );
}

#[test]
fn wh02_unknown_schemes_are_ignored_and_order_is_free() {
    let s = secret("whsec_x_0123456789");
    let header = sign(&s, T, b"b");
    let hex = &header[header.len() - 64..];
    let verifier = WebhookVerifier::new(s);
    for header in [
        format!("v1={hex},t={T}"),
        format!("t={T},v0={},v1={hex}", "0".repeat(64)),
        format!("t={T},v1={hex},v2=anything,x-scheme=1"),
        format!("  t={T},v1={hex}\t"),
    ] {
        assert!(
            verifier.verify(Some(&header), b"b", at(t_i64())).is_ok(),
            "{header}"
        );
    }
    // A v0 with the right MAC is still not a v1.
    let only_v0 = format!("t={T},v0={hex}");
    assert_eq!(
        verifier
            .verify(Some(&only_v0), b"b", at(t_i64()))
            .unwrap_err(),
        malformed(MalformedReason::MissingSignature)
    );
}

#[test]
fn wh02_upper_case_hex_verifies_and_displays_lower_case() {
    let s = secret("whsec_x_0123456789");
    let header = sign(&s, T, b"b");
    let (head, hex) = header.split_at(header.len() - 64);
    let upper = format!("{head}{}", hex.to_uppercase());
    assert_ne!(upper, header);
    let parsed: MerchantSignature = upper.parse().unwrap();
    assert_eq!(parsed.to_string(), header);
    assert!(
        WebhookVerifier::new(s)
            .verify(Some(&upper), b"b", at(t_i64()))
            .is_ok()
    );
}

// ---------------------------------------------------------------------------------------------
// Malformed and missing headers: each a typed error, never a panic.

#[test]
fn wh05_missing_header() {
    let verifier = WebhookVerifier::new(secret("s_0123456789abcdef"));
    for header in [None, Some(""), Some("   "), Some("\t \t")] {
        assert_eq!(
            verifier.verify(header, b"{}", at(0)).unwrap_err(),
            WebhookError::Missing,
            "{header:?}"
        );
    }
}

#[test]
fn wh05_malformed_headers_have_typed_reasons() {
    use MalformedReason as R;
    let h64 = "a".repeat(64);
    let cases: Vec<(String, MalformedReason)> = vec![
        (format!("t={T},v1="), R::InvalidSignatureLength),
        (
            format!("t={T},v1={}", "a".repeat(8)),
            R::InvalidSignatureLength,
        ),
        (
            format!("t={T},v1={}", "a".repeat(63)),
            R::InvalidSignatureLength,
        ),
        (
            format!("t={T},v1={}", "a".repeat(65)),
            R::InvalidSignatureLength,
        ),
        (
            format!("t={T},v1={}g", "a".repeat(63)),
            R::InvalidSignatureHex,
        ),
        (
            format!("t={T},v1={}", "z".repeat(64)),
            R::InvalidSignatureHex,
        ),
        (
            format!("t={T},v1=0x{}", "a".repeat(62)),
            R::InvalidSignatureHex,
        ),
        (format!("t={T},v1={h64},v1=abc"), R::InvalidSignatureLength),
        (format!("v1={h64}"), R::MissingTimestamp),
        (format!("t={T}"), R::MissingSignature),
        (format!("t={T},t={T},v1={h64}"), R::DuplicateTimestamp),
        (format!("t=,v1={h64}"), R::InvalidTimestamp),
        (format!("t=-1,v1={h64}"), R::InvalidTimestamp),
        (format!("t=+1,v1={h64}"), R::InvalidTimestamp),
        (format!("t=1.5,v1={h64}"), R::InvalidTimestamp),
        (format!("t=1e9,v1={h64}"), R::InvalidTimestamp),
        (format!("t=0x10,v1={h64}"), R::InvalidTimestamp),
        (format!("t={T}, v1={h64}"), R::InvalidCharacter),
        (format!("t={T} ,v1={h64}"), R::InvalidCharacter),
        (format!("t = {T},v1={h64}"), R::InvalidCharacter),
        (format!("t={T},\tv1={h64}"), R::InvalidCharacter),
        (format!("t={T},v1={h64}\n"), R::InvalidCharacter),
        (format!("t=١٢٣,v1={h64}"), R::InvalidCharacter),
        (format!("t={T},v1={h64},note=café"), R::InvalidCharacter),
        (format!("t={T},,v1={h64}"), R::InvalidElement),
        (format!(",t={T},v1={h64}"), R::InvalidElement),
        (format!("t={T},v1={h64},"), R::InvalidElement),
        (format!("t={T};v1={h64}"), R::InvalidTimestamp),
        (format!("t={T},v1={h64},garbage"), R::InvalidElement),
        (format!("t={T},={h64}"), R::InvalidElement),
        ("garbage".to_owned(), R::InvalidElement),
        (",".to_owned(), R::InvalidElement),
        ("=".to_owned(), R::InvalidElement),
        ("t".to_owned(), R::InvalidElement),
        ("t=".to_owned(), R::InvalidTimestamp),
        ("Bearer abc".to_owned(), R::InvalidCharacter),
        (format!("T={T},v1={h64}"), R::MissingTimestamp),
        (format!("t={T},V1={h64}"), R::MissingSignature),
    ];
    for (header, reason) in cases {
        let err = verify_err(&header);
        assert_eq!(err, malformed(reason), "{header:?}");
        assert_eq!(err.kind(), "malformed");
        assert_eq!(err.http_status(), 401);
        assert_eq!(
            header.parse::<MerchantSignature>().unwrap_err(),
            malformed(reason)
        );
    }
}

#[test]
fn wh05_empty_or_short_v1_never_matches_even_with_matching_prefix() {
    let s = secret("whsec_prefix_0123456789");
    let full = sign(&s, T, b"b");
    let verifier = WebhookVerifier::new(s);
    for cut in [0, 1, 2, 31, 32, 63] {
        let truncated = &full[..full.len() - 64 + cut];
        let err = verifier
            .verify(Some(truncated), b"b", at(t_i64()))
            .unwrap_err();
        assert_eq!(err.kind(), "malformed", "{truncated}");
    }
}

#[test]
fn wh05_errors_never_name_a_secret() {
    let s = secret("whsec_do_not_leak");
    let verifier = WebhookVerifier::new(s.clone()).with_secret(secret("whsec_other_0123456789"));
    let header = sign(&s, T, b"b");
    let err = verifier
        .verify(Some(&header), b"tampered", at(t_i64()))
        .unwrap_err();
    for text in [
        err.to_string(),
        format!("{err:?}"),
        AcpError::from(&err).to_json().to_string(),
        format!("{verifier:?}"),
        format!("{s:?}"),
    ] {
        assert!(!text.contains("do_not_leak"), "{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Verified proof and typed parsing.

#[derive(Debug, Deserialize, PartialEq)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    data: Data,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Data {
    status: String,
}

fn handler(verified: &VerifiedWebhook<'_>) -> Event {
    verified.parse().unwrap()
}

#[test]
fn wh01_verified_body_parses_into_a_typed_event() {
    let s = secret("whsec_parse_0123456789");
    let body = br#"{"type":"order_update","data":{"status":"shipped","extra":1}}"#;
    let header = sign(&s, T, body);
    let verified = WebhookVerifier::new(s)
        .verify(Some(&header), body, at(t_i64()))
        .unwrap();
    assert_eq!(
        handler(&verified),
        Event {
            kind: "order_update".into(),
            data: Data {
                status: "shipped".into()
            }
        }
    );
    let debug = format!("{verified:?}");
    assert!(!debug.contains("shipped"), "{debug}");
}

#[test]
fn wh01_parse_errors_carry_the_json_path() {
    let s = secret("whsec_parse_0123456789");
    let receiver = WebhookVerifier::new(s.clone());
    let body = br#"{"type":"order_update","data":{"status":5}}"#;
    let header = sign(&s, T, body);
    let verified = receiver.verify(Some(&header), body, at(t_i64())).unwrap();
    let err = verified.parse::<Event>().unwrap_err();
    assert_eq!(err.path(), "data.status");

    let body = br#"{"type":"x","data":{"status":"s"}} trailing"#;
    let header = sign(&s, T, body);
    let verified = receiver.verify(Some(&header), body, at(t_i64())).unwrap();
    assert!(verified.parse::<Event>().is_err());
}

#[test]
fn wh01_verify_now_uses_the_system_clock() {
    let s = secret("whsec_now_0123456789");
    let now = u64::try_from(OffsetDateTime::now_utc().unix_timestamp()).unwrap();
    let header = sign(&s, now, b"b");
    let verifier = WebhookVerifier::new(s);
    assert!(verifier.verify_now(Some(&header), b"b").is_ok());
    let old = sign(&secret("whsec_now_0123456789"), now - 3600, b"b");
    assert_eq!(
        verifier.verify_now(Some(&old), b"b").unwrap_err().kind(),
        "stale"
    );
}

// ---------------------------------------------------------------------------------------------
// Properties.

fn any_secret() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 16..100)
}

fn any_body() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..512)
}

fn hex_digit_other_than(c: u8, pick: u8) -> u8 {
    let digits = b"0123456789abcdef";
    let mut d = digits[usize::from(pick % 16)];
    if d.eq_ignore_ascii_case(&c) {
        d = digits[usize::from(pick % 16 + 1) % 16];
    }
    d
}

proptest! {
    #[test]
    fn wh03_verify_of_sign_succeeds(key in any_secret(), body in any_body(), t in 0_u64..4_000_000_000, skew in -60_i64..=300) {
        let s = WebhookSecret::new(key).unwrap();
        let header = sign(&s, t, &body);
        let now = at(i64::try_from(t).unwrap() + skew);
        let verified = WebhookVerifier::new(s).verify(Some(&header), &body, now).unwrap();
        prop_assert_eq!(verified.timestamp(), at(i64::try_from(t).unwrap()));
        prop_assert_eq!(verified.body(), body.as_slice());
    }

    #[test]
    fn wh03_any_flipped_body_byte_fails(key in any_secret(), body in prop::collection::vec(any::<u8>(), 1..512), index in any::<prop::sample::Index>(), bit in 0_u8..8) {
        let s = WebhookSecret::new(key).unwrap();
        let header = sign(&s, T, &body);
        let mut tampered = body.clone();
        tampered[index.index(body.len())] ^= 1 << bit;
        let err = WebhookVerifier::new(s).verify(Some(&header), &tampered, at(t_i64())).unwrap_err();
        prop_assert_eq!(err, WebhookError::Mismatch);
    }

    #[test]
    fn wh03_any_changed_signature_digit_fails(key in any_secret(), body in any_body(), index in 0_usize..64, pick in any::<u8>()) {
        let s = WebhookSecret::new(key).unwrap();
        let header = sign(&s, T, &body);
        let start = header.len() - 64;
        let mut bytes = header.into_bytes();
        bytes[start + index] = hex_digit_other_than(bytes[start + index], pick);
        let tampered = String::from_utf8(bytes).unwrap();
        let err = WebhookVerifier::new(s).verify(Some(&tampered), &body, at(t_i64())).unwrap_err();
        prop_assert_eq!(err, WebhookError::Mismatch);
    }

    #[test]
    fn wh03_any_flipped_header_byte_fails(key in any_secret(), body in any_body(), index in any::<prop::sample::Index>(), bit in 0_u8..8) {
        let s = WebhookSecret::new(key).unwrap();
        let header = sign(&s, T, &body);
        let mut bytes = header.clone().into_bytes();
        let i = index.index(bytes.len());
        bytes[i] ^= 1 << bit;
        let tampered = String::from_utf8_lossy(&bytes).into_owned();
        // Widest window: a changed timestamp digit (within an hour) must fail on the MAC.
        let verifier = WebhookVerifier::new(s).with_policy(widest());
        let result = verifier.verify(Some(&tampered), &body, at(t_i64()));
        // Flipping the case bit of a hex letter in v1 keeps the same MAC: the spec allows both.
        let case_only = bytes[i].is_ascii_alphabetic() && i >= header.len() - 64
            && bytes[i].eq_ignore_ascii_case(&header.as_bytes()[i]);
        prop_assert_eq!(result.is_ok(), case_only, "{}", tampered);
    }

    #[test]
    fn wh03_any_changed_timestamp_fails(key in any_secret(), body in any_body(), t in 0_u64..=CALENDAR_MAX, other in 0_u64..=CALENDAR_MAX) {
        prop_assume!(t != other);
        let s = WebhookSecret::new(key).unwrap();
        let sig = compute(&s, t, &body).to_string();
        let forged = sig.replacen(&format!("t={t},"), &format!("t={other},"), 1);
        // Verified at the forged time, so only the MAC can reject it.
        let verifier = WebhookVerifier::new(s);
        let now = at(i64::try_from(other).unwrap());
        prop_assert_eq!(verifier.verify(Some(&forged), &body, now).unwrap_err(), WebhookError::Mismatch);
    }

    #[test]
    fn wh05_arbitrary_headers_never_panic(header in ".{0,200}", body in any_body()) {
        let verifier = WebhookVerifier::new(WebhookSecret::new("s_0123456789abcdef").unwrap());
        let result = verifier.verify(Some(&header), &body, at(t_i64()));
        // Without the secret nothing can verify (the chance of a random MAC is 2^-256).
        prop_assert!(result.is_err());
        let _ = header.parse::<MerchantSignature>();
    }

    #[test]
    fn wh05_structured_garbage_never_panics(parts in prop::collection::vec(prop_oneof![
        Just("t=".to_owned()), Just("v1=".to_owned()), Just(",".to_owned()), Just("=".to_owned()),
        Just(" ".to_owned()), "[0-9]{0,25}", "[a-fA-F0-9]{0,70}", Just("é".to_owned()),
    ], 0..12)) {
        let header: String = parts.concat();
        let verifier = WebhookVerifier::new(WebhookSecret::new("s_0123456789abcdef").unwrap()).with_policy(widest());
        let result = verifier.verify(Some(&header), b"", at(t_i64()));
        prop_assert!(result.is_err());
    }

    #[test]
    fn wh02_display_parse_roundtrip(key in any_secret(), key2 in any_secret(), body in any_body(), t in 0_u64..=CALENDAR_MAX) {
        let s = WebhookSecret::new(key).unwrap();
        let s2 = WebhookSecret::new(key2).unwrap();
        let sig = compute(&s, t, &body).with_additional_secret(&s2, &body);
        let text = sig.to_string();
        let back: MerchantSignature = text.parse().unwrap();
        prop_assert_eq!(&back, &sig);
        prop_assert_eq!(back.to_string(), text);
    }
}
