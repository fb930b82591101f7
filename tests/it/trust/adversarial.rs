//! Hostile input through every entry point: each case ends in a typed error or a correct
//! value, never a panic or a stack overflow, and work grows no more than linearly.
//!
//! Linear-time checks compare the time for `n` and `4n` (best of several runs) and allow a
//! ratio well above 4 for noise; nothing asserts a fixed duration.

// `unused_qualifications`: the shared payload builders (`include!`d) spell out `serde_json::`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    unused_qualifications
)]

use std::time::{Duration, Instant};

use agentic_commerce::AcpError;
use agentic_commerce::parse::registry;
use agentic_commerce::parse::schema::{WireType, validate};
use agentic_commerce::parse::{self, ParseErrorKind, StrictError};
use agentic_commerce::primitives::Amount;
use agentic_commerce::protocol::headers::{Operation, RequestHeaders};
use agentic_commerce::protocol::version::{ApiVersion, negotiate};
use agentic_commerce::spec::v2026_04_17::{
    agentic_checkout as co, agentic_checkout_webhook as wh, delegate_authentication as da,
    delegate_payment as dp, feed,
};
use agentic_commerce::trust::canonical::{self, CanonicalJsonError};
use agentic_commerce::trust::idempotency::Fingerprint;
use agentic_commerce::trust::signature::{
    Algorithm, HmacSha256Key, RequestSigner, SignatureError, SignedRequest, Verifier,
};
use agentic_commerce::trust::webhook::{self, WebhookError, WebhookSecret, WebhookVerifier};
use serde_json::{Value, json};
use time::OffsetDateTime;

include!("../../../benches/data/payloads.rs");

// ---------------------------------------------------------------------------------------------
// Hostile documents
// ---------------------------------------------------------------------------------------------

fn nested(open: &str, close: &str, depth: usize) -> Vec<u8> {
    let mut out = open.repeat(depth).into_bytes();
    out.extend(close.repeat(depth).into_bytes());
    out
}

/// Every hostile document, by name.
fn hostile() -> Vec<(&'static str, Vec<u8>)> {
    let big_string = format!("{{\"id\":\"{}\"}}", "a".repeat(1 << 20));
    let big_array = format!("[{}1]", "1,".repeat(1 << 17));
    vec![
        ("empty", Vec::new()),
        ("deep arrays 100k", nested("[", "]", 100_000)),
        (
            "deep arrays unclosed 100k",
            "[".repeat(100_000).into_bytes(),
        ),
        ("deep objects 100k", {
            let mut s = "{\"a\":".repeat(100_000);
            s.push('1');
            s.push_str(&"}".repeat(100_000));
            s.into_bytes()
        }),
        (
            "deep in unknown field",
            format!(
                "{{\"id\":\"x\",\"zz\":{}1{}}}",
                "[".repeat(200),
                "]".repeat(200)
            )
            .into_bytes(),
        ),
        (
            "huge string 1 MiB (16 MiB: see below)",
            big_string.into_bytes(),
        ),
        ("huge array 128k", big_array.into_bytes()),
        (
            "u64 beyond i64",
            b"{\"amount\":18446744073709551615}".to_vec(),
        ),
        (
            "beyond u64",
            b"{\"amount\":123456789012345678901234567890}".to_vec(),
        ),
        ("beyond f64", b"{\"amount\":1e400}".to_vec()),
        ("negative beyond f64", b"[-1e400]".to_vec()),
        ("minus zero", b"{\"amount\":-0}".to_vec()),
        ("minus zero float", b"{\"amount\":-0.0}".to_vec()),
        ("exponent amount", b"{\"amount\":1e2}".to_vec()),
        (
            "i64 max amount",
            b"{\"amount\":9223372036854775807}".to_vec(),
        ),
        (
            "i64 min amount",
            b"{\"amount\":-9223372036854775808}".to_vec(),
        ),
        ("invalid utf8", b"{\"id\":\"\xff\xfe\"}".to_vec()),
        ("invalid utf8 key", b"{\"\xc3\x28\":1}".to_vec()),
        ("lone high surrogate", br#"{"id":"\ud800"}"#.to_vec()),
        ("lone low surrogate", br#"{"id":"\udc00x"}"#.to_vec()),
        ("reversed surrogates", br#"{"id":"\udc00\ud800"}"#.to_vec()),
        ("bom", b"\xef\xbb\xbf{\"id\":\"x\"}".to_vec()),
        ("trailing garbage", b"{\"id\":\"x\"} x".to_vec()),
        ("two documents", b"{} {}".to_vec()),
        ("duplicate key", br#"{"id":"a","id":"b"}"#.to_vec()),
        ("nul byte", b"{\"id\":\"a\0\"}".to_vec()),
        ("control char in string", b"{\"id\":\"a\x01\"}".to_vec()),
        ("only whitespace", b" \t\r\n".to_vec()),
        ("null", b"null".to_vec()),
        ("number", b"-0".to_vec()),
        ("truncated", b"{\"id\":\"a".to_vec()),
        ("bad escape", br#"{"id":"\x"}"#.to_vec()),
        ("huge exponent", b"[1e99999999999999999999]".to_vec()),
        ("tiny exponent", b"[1e-99999999999999999999]".to_vec()),
        (
            "long number",
            format!("[{}]", "9".repeat(100_000)).into_bytes(),
        ),
        ("many keys", {
            let body: Vec<String> = (0..100_000).map(|i| format!("\"k{i}\":{i}")).collect();
            format!("{{{}}}", body.join(",")).into_bytes()
        }),
    ]
}

macro_rules! top_level_types {
    ($m:ident) => {
        $m!(co::CheckoutSession);
        $m!(co::CheckoutSessionWithOrder);
        $m!(co::CheckoutSessionCreateRequest);
        $m!(co::CheckoutSessionUpdateRequest);
        $m!(co::CheckoutSessionCompleteRequest);
        $m!(co::CancelSessionRequest);
        $m!(co::Order);
        $m!(co::Error);
        $m!(wh::WebhookEvent);
        $m!(dp::DelegatePaymentRequest);
        $m!(dp::DelegatePaymentResponse);
        $m!(da::DelegateAuthenticationCreateRequest);
        $m!(da::DelegateAuthenticationSession);
        $m!(feed::ProductsResponse);
        $m!(feed::CreateFeedRequest);
    };
}

/// Lenient and strict typed parse of `bytes` into every top-level type; returns how many
/// parses succeeded. A panic fails the test by itself.
fn parse_everything(bytes: &[u8]) -> usize {
    let mut ok = 0;
    macro_rules! one {
        ($t:ty) => {
            let lenient = parse::from_slice::<$t>(bytes);
            let strict = parse::from_slice_strict::<$t>(bytes);
            if let Ok(value) = &lenient {
                // A successful parse must re-serialize and parse again to the same value.
                let again = parse::to_vec(value).expect("serialize");
                assert_eq!(&parse::from_slice::<$t>(&again).expect("reparse"), value);
                ok += 1;
            }
            if strict.is_ok() {
                assert!(lenient.is_ok(), "strict accepted what lenient rejected");
            }
        };
    }
    top_level_types!(one);
    ok
}

#[test]
fn hostile_documents_never_panic_in_any_entry_point() {
    let secret = WebhookSecret::new(b"whsec_adversarial_0123456789".to_vec()).unwrap();
    let verifier = WebhookVerifier::new(secret.clone());
    let key = b"adversarial-hmac-key-0123456789ab";
    let signer = RequestSigner::new(HmacSha256Key::new(key).unwrap());
    let sig_verifier =
        Verifier::new([Algorithm::HS256]).with_key("k1", HmacSha256Key::new(key).unwrap());
    let now = OffsetDateTime::now_utc();
    for (name, bytes) in hostile() {
        // Some (a huge `id`) are valid for a few types; `parse_everything` checks those
        // round-trip.
        let _ = parse_everything(&bytes);

        if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
            for entry in registry::types() {
                let _ = entry.roundtrip(&value);
                let _ = entry.roundtrip_strict(&value);
            }
        }
        // Signatures and fingerprints use the exact form (numbers must keep their value).
        let canonical = canonical::canonicalize_exact(&bytes);
        let fingerprint = Fingerprint::of_json(&bytes);
        assert_eq!(canonical.is_ok(), fingerprint.is_ok(), "{name}");

        // The webhook HMAC covers raw bytes: any body verifies when signed.
        let header = webhook::sign(&secret, now, &bytes).unwrap();
        assert!(
            verifier.verify(Some(&header), &bytes, now).is_ok(),
            "{name}"
        );

        // Request signatures cover the canonical body: a body that does not canonicalize is
        // rejected with a typed error, never a panic.
        let headers = signer.sign(&bytes, now);
        match (headers, canonical) {
            (Ok(h), Ok(_)) => {
                let request = SignedRequest {
                    body: &bytes,
                    signature: Some(&h.signature),
                    timestamp: Some(&h.timestamp),
                };
                assert!(sig_verifier.verify(&request, now).is_ok(), "{name}");
            }
            (Err(_), Err(_)) => {
                let request = SignedRequest {
                    body: &bytes,
                    signature: Some("AAAA"),
                    timestamp: Some("2026-04-17T00:00:00Z"),
                };
                assert!(sig_verifier.verify(&request, now).is_err(), "{name}");
            }
            (h, c) => panic!(
                "{name}: signing {:?} but canonicalize {:?}",
                h.is_ok(),
                c.is_ok()
            ),
        }
    }
}

#[test]
fn deep_nesting_is_a_typed_error_everywhere() {
    let deep = nested("[", "]", 100_000);
    // An array where an object belongs fails at once, before any recursion.
    assert!(parse::from_slice::<co::CheckoutSession>(&deep).is_err());
    // Nesting inside an unknown member hits serde_json's recursion limit: a syntax error.
    let mut objects = b"{\"id\":\"x\",\"deep\":".to_vec();
    objects.extend(nested("[", "]", 100_000));
    objects.push(b'}');
    let err = parse::from_slice::<co::Item>(&objects).unwrap_err();
    assert!(matches!(err.kind, ParseErrorKind::Syntax { .. }), "{err}");
    assert!(matches!(
        parse::from_slice_strict::<co::CheckoutSession>(&deep),
        Err(StrictError::Parse(_))
    ));
    assert!(matches!(
        canonical::canonicalize(&deep),
        Err(CanonicalJsonError::NestingTooDeep { .. })
    ));
    // 200 levels inside an unknown member: beyond serde_json's limit of 128, still an error.
    let mut inner = serde_json::to_vec(&checkout_session_value(1)).unwrap();
    inner.pop();
    inner.extend(b",\"x_deep\":");
    inner.extend(nested("[", "]", 200));
    inner.push(b'}');
    assert!(parse::from_slice::<co::CheckoutSession>(&inner).is_err());
    // 100 levels is within every limit and is kept losslessly.
    let mut ok = serde_json::to_vec(&checkout_session_value(1)).unwrap();
    ok.pop();
    ok.extend(b",\"x_deep\":");
    ok.extend(nested("[", "]", 100));
    ok.push(b'}');
    let session = parse::from_slice::<co::CheckoutSession>(&ok).unwrap();
    assert!(session.extra.contains_key("x_deep"));
}

/// A deeply nested `serde_json::Value` built in code (not parsed, so no parser limit applies)
/// must not overflow the stack of the crate's own recursive walkers.
#[test]
fn deep_values_built_in_code_are_bounded_by_the_crates_walkers() {
    let deep = || {
        let mut value = json!(1);
        for _ in 0..5_000 {
            value = Value::Array(vec![value]);
        }
        value
    };
    let value = deep();
    let mut object = json!({"id": "x"});
    if let Value::Object(map) = &mut object {
        map.insert("metadata".to_owned(), deep());
    }
    for entry in registry::types() {
        let _ = validate(entry.shape(), &object);
    }
    assert!(matches!(
        canonical::canonicalize_value(&value),
        Err(CanonicalJsonError::NestingTooDeep { .. })
    ));
    assert!(Fingerprint::of_value(&value).is_err());
    // Cloning or dropping a deep Value recurses in serde_json itself; leak it rather than
    // test serde_json.
    std::mem::forget(value);
    std::mem::forget(object);
}

// ---------------------------------------------------------------------------------------------
// Numbers and amounts
// ---------------------------------------------------------------------------------------------

fn total_with_amount(amount: &str) -> Vec<u8> {
    format!(r#"{{"type":"total","display_text":"Total","amount":{amount}}}"#).into_bytes()
}

#[test]
fn amounts_accept_exactly_the_i64_integers_hdr_05() {
    for (text, expected) in [
        ("0", Some(0)),
        // serde_json reads `-0` as the float -0.0, indistinguishable from `-0.0`: rejected
        // with a typed error at the amount's path, like every non-integer.
        ("-0", None),
        ("9223372036854775807", Some(i64::MAX)),
        ("-9223372036854775808", Some(i64::MIN)),
        ("9223372036854775808", None),
        ("-9223372036854775809", None),
        ("18446744073709551616", None),
        ("1e400", None),
        ("-1e400", None),
        ("1e2", None),
        ("100.0", None),
        ("-0.0", None),
        ("1.5", None),
        ("\"100\"", None),
        ("null", None),
    ] {
        let bytes = total_with_amount(text);
        let lenient = parse::from_slice::<co::Total>(&bytes);
        let strict = parse::from_slice_strict::<co::Total>(&bytes);
        match expected {
            Some(minor) => {
                assert_eq!(lenient.unwrap().amount, Amount(minor), "{text}");
                assert_eq!(strict.unwrap().amount, Amount(minor), "{text}");
            }
            None => {
                let err = lenient.unwrap_err();
                // A number serde_json cannot represent at all is a syntax error at `$`;
                // any other non-i64 value is a data error at the amount's path.
                match err.kind {
                    ParseErrorKind::Syntax { .. } => assert!(text.contains("e4"), "{text}"),
                    _ => assert_eq!(err.path.to_string(), "$.amount", "{text}: {err}"),
                }
                assert!(strict.is_err(), "{text}");
            }
        }
    }
}

#[test]
fn amount_arithmetic_at_the_i64_edge_never_overflows() {
    let max = Amount(i64::MAX);
    assert_eq!(max.checked_add(Amount(1)), None);
    assert_eq!(max.checked_add(Amount(0)), Some(max));
    assert_eq!(max.checked_mul(2), None);
    assert_eq!(max.checked_mul(-1), Some(Amount(-i64::MAX)));
    assert_eq!(Amount(i64::MIN).checked_mul(-1), None);
    assert_eq!(Amount(i64::MIN).checked_sub(Amount(1)), None);
    assert_eq!(Amount::checked_sum([max, Amount(-1), Amount(1)]), Some(max));
    assert_eq!(Amount::checked_sum(vec![max; 3]), None);
    // A session whose totals sit at the edge parses and serializes byte-exactly.
    let mut session = checkout_session_value(1);
    session["totals"][5]["amount"] = json!(i64::MAX);
    session["line_items"][0]["unit_amount"] = json!(i64::MIN);
    let bytes = serde_json::to_vec(&session).unwrap();
    let typed = parse::from_slice::<co::CheckoutSession>(&bytes).unwrap();
    assert_eq!(typed.totals[5].amount, max);
    assert_eq!(
        serde_json::from_slice::<Value>(&parse::to_vec(&typed).unwrap()).unwrap(),
        session
    );
}

#[test]
fn allowance_at_the_i64_edge() {
    use agentic_commerce::trust::allowance::{
        AllowanceReason, AllowanceTerms, ProposedCharge, check,
    };
    let now = OffsetDateTime::UNIX_EPOCH;
    let terms = AllowanceTerms {
        reason: AllowanceReason::one_time(),
        max_amount: i64::MAX,
        currency: "usd".into(),
        checkout_session_id: "cs".into(),
        merchant_id: "m".into(),
        expires_at: OffsetDateTime::UNIX_EPOCH + Duration::from_secs(60),
    };
    let charge = ProposedCharge {
        amount: i64::MAX,
        currency: "USD".into(),
        checkout_session_id: "cs".into(),
        merchant_id: "m".into(),
    };
    let ok = check(&terms, &charge, now).unwrap();
    assert_eq!(ok.headroom(), 0);
    let low = AllowanceTerms {
        max_amount: i64::MIN,
        ..terms
    };
    let charge = ProposedCharge {
        amount: i64::MIN,
        ..charge
    };
    assert!(check(&low, &charge, now).is_err());
}

#[test]
fn canonical_numbers_at_the_edges() {
    assert_eq!(canonical::canonicalize(b"-0").unwrap(), b"0");
    assert_eq!(canonical::canonicalize(b"[-0.0]").unwrap(), b"[0]");
    assert_eq!(canonical::canonicalize(b"1e2").unwrap(), b"100");
    assert_eq!(
        canonical::canonicalize(b"9223372036854775807").unwrap(),
        b"9223372036854776000"
    );
    assert!(canonical::canonicalize(b"1e400").is_err());
    assert!(canonical::canonicalize(b"-1e400").is_err());
    assert_eq!(canonical::canonicalize(b"1e-400").unwrap(), b"0");
}

// ---------------------------------------------------------------------------------------------
// Strings, encodings, duplicates
// ---------------------------------------------------------------------------------------------

#[test]
fn invalid_utf8_and_lone_surrogates_are_syntax_errors() {
    for bytes in [
        b"{\"id\":\"\xff\"}".as_slice(),
        br#"{"id":"\ud800"}"#,
        br#"{"id":"\udfff"}"#,
        br#"{"id":"\ud800\u0041"}"#,
    ] {
        let err = parse::from_slice::<co::Buyer>(bytes).unwrap_err();
        assert!(matches!(err.kind, ParseErrorKind::Syntax { .. }), "{err}");
        assert!(canonical::canonicalize(bytes).is_err());
    }
    // A correctly paired surrogate is one character.
    let ok = parse::from_slice::<co::Item>(br#"{"id":"\ud83d\ude00"}"#).unwrap();
    assert_eq!(ok.id.as_str(), "\u{1F600}");
}

#[test]
fn bom_and_trailing_garbage_are_rejected() {
    for bytes in [
        b"\xef\xbb\xbf{\"id\":\"x\"}".as_slice(),
        b"{\"id\":\"x\"} x",
        b"{\"id\":\"x\"}{}",
        b"{\"id\":\"x\"}\0",
    ] {
        let err = parse::from_slice::<co::Item>(bytes).unwrap_err();
        assert!(matches!(err.kind, ParseErrorKind::Syntax { .. }), "{err}");
        assert!(parse::from_slice_strict::<co::Item>(bytes).is_err());
        assert!(canonical::canonicalize(bytes).is_err());
    }
    // Surrounding JSON whitespace is fine.
    assert!(parse::from_slice::<co::Item>(b" \n{\"id\":\"x\"}\r\n ").is_ok());
}

#[test]
fn duplicate_keys_are_rejected_by_typed_parse() {
    let cases: [&[u8]; 4] = [
        br#"{"id":"a","id":"b"}"#,
        br#"{"id":"a","x_ext":1,"x_ext":2}"#,
        br#"{"id":"a","name":null,"name":"n"}"#,
        br#"{"id":"a","name":"n","name":null}"#,
    ];
    for bytes in cases {
        let err = parse::from_slice::<co::Item>(bytes).unwrap_err();
        assert!(err.message.contains("duplicate"), "{err}");
        // Strict parsing also fails (for `x_ext` first as an additional property).
        assert!(parse::from_slice_strict::<co::Item>(bytes).is_err());
        assert!(canonical::canonicalize(bytes).is_err());
    }
}

#[test]
fn duplicate_keys_inside_a_union_member_are_rejected() {
    let session = checkout_session_value(1);
    let bytes = serde_json::to_vec(&session).unwrap();
    let base = parse::from_slice::<co::CheckoutSession>(&bytes).unwrap();
    assert_eq!(base.fulfillment_options.len(), 2);
    let text = String::from_utf8(bytes).unwrap();
    for (from, to) in [
        (r#""id":"ship_std""#, r#""id":"ship_std","id":"b""#),
        (
            r#""title":"Standard""#,
            r#""title":"Standard","type":"shipping""#,
        ),
        (r#""title":"Standard""#, r#""title":"Standard","x":1,"x":2"#),
    ] {
        let dup = text.replacen(from, to, 1);
        assert_ne!(dup, text);
        let err = parse::from_slice::<co::CheckoutSession>(dup.as_bytes()).unwrap_err();
        assert!(err.message.contains("duplicate"), "{from}: {err}");
        assert!(parse::from_slice_strict::<co::CheckoutSession>(dup.as_bytes()).is_err());
    }
    // An unknown union member keeps its object whole, and still rejects a duplicate key.
    let unknown = text
        .replacen(r#""id":"ship_std""#, r#""id":"ship_std","id":"b""#, 1)
        .replacen(r#""type":"shipping""#, r#""type":"drone""#, 1);
    assert!(unknown.contains("drone"));
    let err = parse::from_slice::<co::CheckoutSession>(unknown.as_bytes()).unwrap_err();
    assert!(err.message.contains("duplicate"), "{err}");
}

#[test]
fn huge_strings_round_trip_losslessly() {
    let name = "\u{e9}".repeat(8 << 20); // 16 MiB of UTF-8
    let bytes = serde_json::to_vec(&json!({"id": "sku", "name": name})).unwrap();
    let item = parse::from_slice::<co::Item>(&bytes).unwrap();
    assert_eq!(item.name.as_deref(), Some(name.as_str()));
    assert_eq!(parse::to_vec(&item).unwrap(), bytes);
    assert_eq!(canonical::canonicalize(&bytes).unwrap(), bytes);
}

// ---------------------------------------------------------------------------------------------
// Headers
// ---------------------------------------------------------------------------------------------

#[test]
fn header_values_with_spaces_commas_and_unicode() {
    let base = [
        ("authorization", "Bearer sk_test_123"),
        ("content-type", "application/json"),
        ("api-version", "2026-04-17"),
        ("idempotency-key", "k-1"),
    ];
    assert!(RequestHeaders::parse(Operation::CreateCheckoutSession, base).is_ok());
    for (name, value) in [
        ("api-version", " 2026-04-17 , 2026-01-30"),
        ("api-version", "2026-04-17\u{a0}"),
        ("api-version", "２０２６-04-17"),
        ("authorization", "Bearer  sk test"),
        ("authorization", "Bearer s\u{e9}cret"),
        ("authorization", "Bearer "),
        ("idempotency-key", &"k".repeat(256)),
        ("idempotency-key", "k\u{0}1"),
        ("content-type", "application/json, text/plain"),
        ("content-type", "application/json; charset=\u{fc}tf-8"),
        ("timestamp", "9999999999999999999999"),
        ("timestamp", "+999999-12-31T23:59:59Z"),
        ("signature", "a,b"),
    ] {
        let mut pairs: Vec<(&str, &str)> = base.to_vec();
        pairs.retain(|(n, _)| *n != name);
        pairs.push((name, value));
        let result = RequestHeaders::parse(Operation::CreateCheckoutSession, pairs.clone());
        // Either a typed error naming a header, or a value that parsed; never a panic.
        if let Err(errors) = result {
            assert!(!errors.problems().is_empty());
            let _ = AcpError::from_header_errors(&errors, &[ApiVersion::V2026_04_17]).to_json();
        }
    }
    // Duplicate headers and many headers.
    let many: Vec<(String, String)> = (0..10_000)
        .map(|i| (format!("x-h{i}"), "v".repeat(100)))
        .collect();
    let pairs: Vec<(&str, &str)> = many
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .chain(base)
        .collect();
    assert!(RequestHeaders::parse(Operation::CreateCheckoutSession, pairs).is_ok());
}

#[test]
fn version_negotiation_with_hostile_values() {
    let supported = [ApiVersion::V2026_04_17];
    for raw in [
        "",
        " ",
        "2026-04-17,2026-04-17",
        "2026-04-17 ",
        "\t2026-04-17\t",
        "2026-02-30",
        "99999-01-01",
        "-001-01-01",
        "2026-04-17\u{0}",
        "2026\u{2013}04\u{2013}17",
        &"9".repeat(100_000),
    ] {
        match negotiate(&supported, Some(raw)) {
            Ok(v) => assert_eq!(v, ApiVersion::V2026_04_17, "{raw:?}"),
            Err(e) => assert_eq!(e.status(), 400, "{raw:?}"),
        }
    }
    assert!(negotiate(&supported, Some("\t2026-04-17 ")).is_ok());
    assert!(negotiate(&[], Some("2026-04-17")).is_err());
}

#[test]
fn webhook_headers_with_extra_spaces_commas_and_unicode() {
    let secret = WebhookSecret::new(b"whsec_adversarial_0123456789".to_vec()).unwrap();
    let verifier = WebhookVerifier::new(secret.clone());
    let body = b"{}";
    let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let good = webhook::sign(&secret, now, body).unwrap();
    assert!(verifier.verify(Some(&good), body, now).is_ok());
    let sig = good.split_once("v1=").unwrap().1;
    for header in [
        format!(" {good} "),
        format!("{good},"),
        format!(",{good}"),
        format!("{good}, v1={sig}"),
        format!("t=1800000000,v1={sig},t=1800000000"),
        format!("t=1800000000,v1={sig}\u{e9}"),
        format!("t=\u{661}800000000,v1={sig}"),
        format!("t=18446744073709551615,v1={sig}"),
        format!("t=18446744073709551616,v1={sig}"),
        format!("t=-1,v1={sig}"),
        format!("t=1800000000,v1={}", "0".repeat(64)),
        format!("t=1800000000,v1={}", "0".repeat(100_000)),
        "t=1800000000".to_owned(),
        "=".repeat(10_000),
        ",".repeat(10_000),
        String::new(),
    ] {
        match verifier.verify(Some(&header), body, now) {
            Ok(v) => assert_eq!(v.timestamp(), now, "{header}"),
            Err(e) => assert!(
                matches!(
                    e,
                    WebhookError::Malformed { .. }
                        | WebhookError::Missing
                        | WebhookError::Mismatch
                        | WebhookError::Stale { .. }
                ),
                "{header}: {e:?}"
            ),
        }
    }
    // Timestamps at the edges of the clock never overflow the skew arithmetic.
    for now in [
        OffsetDateTime::UNIX_EPOCH,
        time::PrimitiveDateTime::MIN.assume_utc(),
        time::PrimitiveDateTime::MAX.assume_utc(),
    ] {
        for t in [0, 253_402_300_799, u64::MAX, i64::MAX.unsigned_abs()] {
            // Signed correctly with `t` as digits (a sender can put any `t` in the header).
            let mac = verifier_mac(&secret, t, body);
            let header = format!("t={t},v1={mac}");
            let age = i128::from(now.unix_timestamp()) - i128::from(t);
            let result = verifier.verify(Some(&header), body, now);
            if (-60..=300).contains(&age) {
                assert!(result.is_ok(), "{t}");
            } else {
                assert!(matches!(result, Err(WebhookError::Stale { .. })), "{t}");
            }
        }
    }
}

/// `hex(HMAC-SHA256(secret, t + "." + body))` computed by hand (WH-03).
fn verifier_mac(secret: &WebhookSecret, t: u64, body: &[u8]) -> String {
    use hmac::Mac as _;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.expose_secret()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .fold(String::new(), |mut hex, b| {
            use std::fmt::Write as _;
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

#[test]
fn request_signature_headers_with_hostile_values() {
    let key = b"adversarial-hmac-key-0123456789ab";
    let verifier =
        Verifier::new([Algorithm::HS256]).with_key("k", HmacSha256Key::new(key).unwrap());
    let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let good = RequestSigner::new(HmacSha256Key::new(key).unwrap())
        .sign(b"{}", now)
        .unwrap();
    for (signature, timestamp) in [
        (good.signature.clone(), format!(" {} ", good.timestamp)),
        (format!(" {} ", good.signature), good.timestamp.clone()),
        (
            format!("{},{}", good.signature, good.signature),
            good.timestamp.clone(),
        ),
        (good.signature.clone(), "+999999-12-31T23:59:59Z".to_owned()),
        (good.signature.clone(), "-999999-01-01T00:00:00Z".to_owned()),
        (
            good.signature.clone(),
            "9999-12-31T23:59:59+23:59".to_owned(),
        ),
        (good.signature.clone(), "2026-02-30T00:00:00Z".to_owned()),
        (good.signature.clone(), "1800000000".to_owned()),
        (format!("{}\u{e9}", good.signature), good.timestamp.clone()),
        ("A".repeat(100_000), good.timestamp.clone()),
        (String::new(), good.timestamp.clone()),
    ] {
        let request = SignedRequest {
            body: b"{}",
            signature: Some(&signature),
            timestamp: Some(&timestamp),
        };
        if let Err(e) = verifier.verify(&request, now) {
            assert!((400..500).contains(&e.http_status()), "{e:?}");
        }
    }
    // At the extremes of the clock the skew check is a typed error.
    for now in [
        time::PrimitiveDateTime::MIN.assume_utc(),
        time::PrimitiveDateTime::MAX.assume_utc(),
    ] {
        let request = SignedRequest {
            body: b"{}",
            signature: Some(&good.signature),
            timestamp: Some(&good.timestamp),
        };
        assert!(matches!(
            verifier.verify(&request, now),
            Err(SignatureError::TimestampTooOld
                | SignatureError::TimestampInFuture
                | SignatureError::MalformedTimestamp)
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// Scale and linear time
// ---------------------------------------------------------------------------------------------

#[test]
fn ten_thousand_line_items_parse_validate_and_round_trip() {
    let session = checkout_session_value(10_000);
    let bytes = serde_json::to_vec(&session).unwrap();
    let typed = parse::from_slice_strict::<co::CheckoutSession>(&bytes).unwrap();
    assert_eq!(typed.line_items.len(), 10_000);
    assert_eq!(typed.line_items[9_999].id.as_str(), "li_09999");
    let again: Value = serde_json::from_slice(&parse::to_vec(&typed).unwrap()).unwrap();
    assert_eq!(again, session);
    let sum = Amount::checked_sum(typed.line_items.iter().filter_map(|l| l.unit_amount));
    assert!(sum.is_some());
    assert!(canonical::canonicalize(&bytes).is_ok());
}

/// The best of `runs` timings of `f`, to damp scheduler noise.
fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// Asserts that `work(4n)` takes less than `limit` times `work(n)`: linear work gives about 4,
/// quadratic about 16. Sizes are chosen so that `n` takes milliseconds, not microseconds.
fn assert_linear(name: &str, input: impl Fn(usize) -> Vec<u8>, n: usize, work: impl Fn(&[u8])) {
    let small = input(n);
    let large = input(4 * n);
    work(&small); // warm up
    // Interleaved, so that a burst of load on a shared machine slows both sizes alike.
    let (mut t_small, mut t_large) = (Duration::MAX, Duration::MAX);
    for _ in 0..7 {
        t_small = t_small.min(best_of(1, || work(&small)));
        t_large = t_large.min(best_of(1, || work(&large)));
    }
    let ratio = t_large.as_secs_f64() / t_small.as_secs_f64().max(1e-9);
    println!("{name}: n={n} {t_small:?}, 4n {t_large:?}, ratio {ratio:.2}");
    assert!(ratio < 10.0, "{name}: 4x input took {ratio:.1}x the time");
}

fn session_bytes(n: usize) -> Vec<u8> {
    serde_json::to_vec(&checkout_session_value(n)).unwrap()
}

#[test]
fn parse_and_validation_time_grow_linearly() {
    assert_linear("typed parse", session_bytes, 500, |b| {
        parse::from_slice::<co::CheckoutSession>(b).unwrap();
    });
    assert_linear("strict parse", session_bytes, 500, |b| {
        parse::from_slice_strict::<co::CheckoutSession>(b).unwrap();
    });
    assert_linear("canonicalize", session_bytes, 500, |b| {
        canonical::canonicalize(b).unwrap();
    });
    assert_linear(
        "many unknown keys",
        |n| {
            let body: Vec<String> = (0..n).map(|i| format!("\"k{i}\":{i}")).collect();
            format!("{{\"id\":\"x\",{}}}", body.join(",")).into_bytes()
        },
        20_000,
        |b| {
            parse::from_slice::<co::Item>(b).unwrap();
            canonical::canonicalize(b).unwrap();
        },
    );
    assert_linear(
        "long string with escapes",
        |n| format!("{{\"id\":\"{}\"}}", "\\u00e9\\n".repeat(n)).into_bytes(),
        50_000,
        |b| {
            parse::from_slice::<co::Item>(b).unwrap();
            canonical::canonicalize(b).unwrap();
        },
    );
    assert_linear(
        "error located in a large document",
        |n| {
            let mut v = checkout_session_value(n);
            v["line_items"][n - 1]["quantity"] = json!("many");
            serde_json::to_vec(&v).unwrap()
        },
        500,
        |b| {
            assert!(parse::from_slice::<co::CheckoutSession>(b).is_err());
        },
    );
}

#[test]
fn header_and_signature_time_grows_linearly() {
    let secret = WebhookSecret::new(b"whsec_adversarial_0123456789".to_vec()).unwrap();
    let verifier = WebhookVerifier::new(secret);
    let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    assert_linear(
        "webhook header with many elements",
        |n| format!("t=1800000000,{}", "x=1,".repeat(n)).into_bytes(),
        50_000,
        |h| {
            let h = std::str::from_utf8(h).unwrap();
            let _ = verifier.verify(Some(h), b"{}", now);
        },
    );
    assert_linear(
        "accept-language with many ranges",
        |n| {
            vec![b'a'; 2]
                .into_iter()
                .chain(b",en;q=0.5".repeat(n))
                .collect()
        },
        20_000,
        |h| {
            let h = std::str::from_utf8(h).unwrap();
            let _ = agentic_commerce::protocol::headers::AcceptLanguage::parse(h);
        },
    );
}

#[test]
fn registry_types_have_their_schema_names() {
    // Guards the macro list above: every type named here is a registry entry.
    macro_rules! named {
        ($t:ty) => {
            assert!(registry::lookup(<$t as WireType>::SCHEMA_NAME).is_some());
        };
    }
    top_level_types!(named);
}
