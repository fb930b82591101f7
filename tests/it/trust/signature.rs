//! ACP request signatures (SIG-01 … SIG-07): known answers from Node.js crypto
//! (`tests/vectors/gen_signature.js` → `tests/vectors/signature_*.json`), boundaries, the
//! allow-list, and properties.

// Test code: panicking on unexpected values is the point (clippy only exempts `#[test]` fns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use agentic_commerce::trust::PolicyError;
use agentic_commerce::trust::canonical::{CanonicalJsonError, canonicalize};
use agentic_commerce::trust::signature::{
    Algorithm, HmacSha256Key, KeyError, Rejected, RequestSigner, SignatureError, SignedContent,
    SignedRequest, SigningKey, VerificationPolicy, Verifier, VerifyingKey,
};
use proptest::prelude::*;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-01-30 12:00:00 UTC);
const SECRET: &[u8] = b"test secret 0123456789";
const BODY: &[u8] = br#"{"items":[{"id":"item_123","quantity":1}],"currency":"usd"}"#;

fn vectors(name: &str) -> Value {
    let path = format!(
        "{}/tests/vectors/signature_{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[cfg(any(feature = "ed25519", feature = "es256"))]
fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn content_of(case: &Value) -> SignedContent {
    match case["content"].as_str().unwrap() {
        "canonical_body" => SignedContent::CanonicalBody,
        "timestamp_and_body" => SignedContent::TimestampAndBody,
        other => panic!("unknown content {other}"),
    }
}

fn hmac() -> HmacSha256Key {
    HmacSha256Key::new(SECRET).unwrap()
}

fn hmac_verifier() -> Verifier {
    Verifier::new([Algorithm::HS256]).with_key("hmac-1", hmac())
}

fn request<'a>(body: &'a [u8], signature: &'a str, timestamp: &'a str) -> SignedRequest<'a> {
    SignedRequest {
        body,
        signature: Some(signature),
        timestamp: Some(timestamp),
    }
}

fn sign(body: &[u8], at: OffsetDateTime) -> (String, String) {
    let h = RequestSigner::new(hmac()).sign(body, at).unwrap();
    (h.signature, h.timestamp)
}

/// Checks one vector file: our signer reproduces `signature` (when `deterministic`) and our
/// verifier accepts it.
fn check_cases<K: SigningKey>(
    file: &Value,
    signer_key: impl Fn() -> K,
    verifier: impl Fn(SignedContent) -> Verifier,
    deterministic: bool,
) -> usize {
    let cases = file["cases"].as_array().unwrap();
    for case in cases {
        let body = case["body"].as_str().unwrap().as_bytes();
        let timestamp = case["timestamp"].as_str().unwrap();
        let signature = case["signature"].as_str().unwrap();
        let content = content_of(case);
        assert_eq!(
            canonicalize(body).unwrap(),
            case["canonical"].as_str().unwrap().as_bytes()
        );
        let at = OffsetDateTime::parse(timestamp, &Rfc3339).unwrap();
        let ours = RequestSigner::new(signer_key())
            .with_signed_content(content)
            .sign(body, at)
            .unwrap();
        assert_eq!(ours.timestamp, timestamp);
        if deterministic {
            assert_eq!(ours.signature, signature, "{case}");
        }
        for sig in [signature, ours.signature.as_str()] {
            let proof = verifier(content)
                .verify(&request(body, sig, timestamp), at)
                .unwrap();
            assert_eq!(proof.timestamp(), at);
            assert_eq!(proof.key_id(), "vector-key");
        }
        // The other content choice does not verify.
        let other = match content {
            SignedContent::CanonicalBody => SignedContent::TimestampAndBody,
            _ => SignedContent::CanonicalBody,
        };
        assert_eq!(
            verifier(other).verify(&request(body, signature, timestamp), at),
            Err(SignatureError::Mismatch)
        );
    }
    cases.len()
}

// ---------------------------------------------------------------------------------------------
// Known answers (SIG-01, SIG-02, SIG-04)

#[test]
fn sig_01_hmac_sha256_node_vectors() {
    let file = vectors("hmac_sha256");
    let secret = file["secret_utf8"].as_str().unwrap().as_bytes().to_vec();
    let n = check_cases(
        &file,
        || HmacSha256Key::new(&secret).unwrap(),
        |c| {
            Verifier::new([Algorithm::HS256])
                .with_key("vector-key", HmacSha256Key::new(&secret).unwrap())
                .with_signed_content(c)
        },
        true,
    );
    assert_eq!(n, 6);
}

#[cfg(feature = "ed25519")]
#[test]
fn sig_01_ed25519_node_vectors_and_rfc8032_test_1() {
    use agentic_commerce::trust::signature::{Ed25519SigningKey, Ed25519VerifyingKey};
    let file = vectors("ed25519");
    let seed = hex(file["seed_hex"].as_str().unwrap());
    let key = Ed25519SigningKey::from_seed_slice(&seed).unwrap();
    let public = hex(file["public_key_hex"].as_str().unwrap());
    assert_eq!(key.verifying_key().to_bytes().to_vec(), public);
    // RFC 8032 §7.1 TEST 1: the empty message.
    assert_eq!(
        key.sign(b"").unwrap(),
        hex(file["rfc8032_test1_empty_message_signature_hex"]
            .as_str()
            .unwrap())
    );
    let n = check_cases(
        &file,
        || Ed25519SigningKey::from_seed_slice(&seed).unwrap(),
        |c| {
            Verifier::new([Algorithm::ED25519])
                .with_key(
                    "vector-key",
                    Ed25519VerifyingKey::from_bytes(&public).unwrap(),
                )
                .with_signed_content(c)
        },
        true,
    );
    assert_eq!(n, 6);
}

#[cfg(feature = "es256")]
#[test]
fn sig_01_es256_node_vectors_and_rfc6979_sample() {
    use agentic_commerce::trust::signature::{Es256SigningKey, Es256VerifyingKey};
    let file = vectors("es256");
    let scalar = hex(file["private_scalar_hex"].as_str().unwrap());
    let public = hex(file["public_key_sec1_hex"].as_str().unwrap());
    let key = Es256SigningKey::from_bytes(&scalar).unwrap();
    assert_eq!(key.verifying_key().to_sec1_bytes(), public);
    // RFC 6979 A.2.5 (P-256, SHA-256, "sample"): deterministic nonce, exact r || s.
    let sample = key.sign(b"sample").unwrap();
    assert_eq!(
        sample,
        hex(file["rfc6979_sample_signature_hex"].as_str().unwrap())
    );
    let verifying = Es256VerifyingKey::from_sec1_bytes(&public).unwrap();
    assert_eq!(verifying.verify(b"sample", &sample), Ok(()));
    assert_eq!(verifying.verify(b"Sample", &sample), Err(Rejected));
    // Node signs with a random nonce: accept its signatures, and our own.
    let n = check_cases(
        &file,
        || Es256SigningKey::from_bytes(&scalar).unwrap(),
        |c| {
            Verifier::new([Algorithm::ES256])
                .with_key(
                    "vector-key",
                    Es256VerifyingKey::from_sec1_bytes(&public).unwrap(),
                )
                .with_signed_content(c)
        },
        false,
    );
    assert_eq!(n, 6);
}

// ---------------------------------------------------------------------------------------------
// Round trips and canonical bodies

#[test]
fn sig_04_verifies_received_bytes_in_any_equivalent_form() {
    let (sig, ts) = sign(BODY, NOW);
    // Different member order, whitespace, `1.0`, escapes: the same canonical JSON.
    let received = b"{ \"currency\" : \"\\u0075sd\",\n \"items\": [ {\"quantity\": 1.0, \"id\": \"item_123\"} ] }";
    let proof = hmac_verifier()
        .verify(&request(received, &sig, &ts), NOW)
        .unwrap();
    assert_eq!(proof.key_id(), "hmac-1");
    assert_eq!(proof.algorithm(), &Algorithm::HS256);
}

#[test]
fn sig_04_members_this_crate_does_not_model_are_signed_and_verified() {
    let body = br#"{"items":[],"x_vendor_extension":{"nested":[1,2,{"deep":"value"}]}}"#;
    let (sig, ts) = sign(body, NOW);
    assert!(
        hmac_verifier()
            .verify(&request(body, &sig, &ts), NOW)
            .is_ok()
    );
    // Dropping or changing the unknown member breaks the signature.
    let changed = br#"{"items":[],"x_vendor_extension":{"nested":[1,2,{"deep":"other"}]}}"#;
    assert_eq!(
        hmac_verifier().verify(&request(changed, &sig, &ts), NOW),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        hmac_verifier().verify(&request(br#"{"items":[]}"#, &sig, &ts), NOW),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn sign_json_returns_the_canonical_body_it_signed() {
    let value = serde_json::json!({"b": 1.5, "a": [true, null]});
    let (body, headers) = RequestSigner::new(hmac()).sign_json(&value, NOW).unwrap();
    assert_eq!(body, br#"{"a":[true,null],"b":1.5}"#);
    assert!(
        hmac_verifier()
            .verify(&request(&body, &headers.signature, &headers.timestamp), NOW)
            .is_ok()
    );
}

#[cfg(feature = "ed25519")]
#[test]
fn ed25519_round_trip_both_contents() {
    use agentic_commerce::trust::signature::Ed25519SigningKey;
    let key = Ed25519SigningKey::from_seed(&[7; 32]);
    for content in [
        SignedContent::CanonicalBody,
        SignedContent::TimestampAndBody,
    ] {
        let verifier = Verifier::new([Algorithm::ED25519])
            .with_key("ed", key.verifying_key())
            .with_signed_content(content);
        let signer =
            RequestSigner::new(Ed25519SigningKey::from_seed(&[7; 32])).with_signed_content(content);
        let h = signer.sign(BODY, NOW).unwrap();
        assert_eq!(h.signature.len(), 86);
        assert!(
            verifier
                .verify(&request(BODY, &h.signature, &h.timestamp), NOW)
                .is_ok()
        );
    }
}

#[cfg(feature = "es256")]
#[test]
fn es256_round_trip_both_contents() {
    use agentic_commerce::trust::signature::Es256SigningKey;
    let scalar = [0x42; 32];
    for content in [
        SignedContent::CanonicalBody,
        SignedContent::TimestampAndBody,
    ] {
        let key = Es256SigningKey::from_bytes(&scalar).unwrap();
        let verifier = Verifier::new([Algorithm::ES256])
            .with_key("es", key.verifying_key())
            .with_signed_content(content);
        let h = RequestSigner::new(key)
            .with_signed_content(content)
            .sign(BODY, NOW)
            .unwrap();
        assert_eq!(h.signature.len(), 86);
        assert!(
            verifier
                .verify(&request(BODY, &h.signature, &h.timestamp), NOW)
                .is_ok()
        );
    }
}

#[test]
fn key_rotation_returns_the_matching_key_id() {
    let old = HmacSha256Key::new(b"old secret 0123456789").unwrap();
    let verifier = Verifier::new([Algorithm::HS256])
        .with_key("2025", old)
        .with_key("2026", hmac());
    let (sig, ts) = sign(BODY, NOW);
    assert_eq!(
        verifier
            .verify(&request(BODY, &sig, &ts), NOW)
            .unwrap()
            .key_id(),
        "2026"
    );
    let other = RequestSigner::new(HmacSha256Key::new(b"unknown secret 0123456789").unwrap())
        .sign(BODY, NOW)
        .unwrap();
    assert_eq!(
        verifier.verify(&request(BODY, &other.signature, &other.timestamp), NOW),
        Err(SignatureError::Mismatch)
    );
}

// ---------------------------------------------------------------------------------------------
// Timestamp window (SIG-03, SIG-05)

#[test]
fn sig_05_past_boundary_is_inclusive_to_the_second() {
    let (sig, ts) = sign(BODY, NOW);
    let v = hmac_verifier();
    let at = |d: Duration| v.verify(&request(BODY, &sig, &ts), NOW + d);
    assert!(at(Duration::seconds(300)).is_ok());
    assert_eq!(
        at(Duration::seconds(301)),
        Err(SignatureError::TimestampTooOld)
    );
    assert_eq!(
        at(Duration::seconds(300) + Duration::NANOSECOND),
        Err(SignatureError::TimestampTooOld)
    );
}

#[test]
fn sig_05_future_boundary_is_inclusive_to_the_second() {
    let (sig, ts) = sign(BODY, NOW);
    let v = hmac_verifier();
    let at = |d: Duration| v.verify(&request(BODY, &sig, &ts), NOW - d);
    assert!(at(Duration::seconds(60)).is_ok());
    assert_eq!(
        at(Duration::seconds(61)),
        Err(SignatureError::TimestampInFuture)
    );
    assert_eq!(
        at(Duration::seconds(60) + Duration::NANOSECOND),
        Err(SignatureError::TimestampInFuture)
    );
}

#[test]
fn sig_05_custom_policy_and_its_limits() {
    let policy = VerificationPolicy::new()
        .with_max_past(Duration::seconds(10))
        .unwrap()
        .with_max_future(Duration::ZERO)
        .unwrap();
    assert_eq!(
        (policy.max_past(), policy.max_future()),
        (Duration::seconds(10), Duration::ZERO)
    );
    let v = hmac_verifier().with_policy(policy);
    let (sig, ts) = sign(BODY, NOW);
    assert!(
        v.verify(&request(BODY, &sig, &ts), NOW + Duration::seconds(10))
            .is_ok()
    );
    assert_eq!(
        v.verify(&request(BODY, &sig, &ts), NOW + Duration::seconds(11)),
        Err(SignatureError::TimestampTooOld)
    );
    assert!(v.verify(&request(BODY, &sig, &ts), NOW).is_ok());
    assert_eq!(
        v.verify(&request(BODY, &sig, &ts), NOW - Duration::seconds(1)),
        Err(SignatureError::TimestampInFuture)
    );

    assert_eq!(
        VerificationPolicy::new().with_max_past(Duration::seconds(-1)),
        Err(PolicyError::NegativeTolerance)
    );
    assert_eq!(
        VerificationPolicy::new().with_max_future(Duration::hours(1) + Duration::SECOND),
        Err(PolicyError::ToleranceTooLarge {
            max: Duration::hours(1)
        })
    );
    assert!(
        VerificationPolicy::new()
            .with_max_past(Duration::hours(1))
            .is_ok()
    );
    assert_eq!(
        VerificationPolicy::default().max_past(),
        Duration::seconds(300)
    );
    assert_eq!(
        VerificationPolicy::default().max_future(),
        Duration::seconds(60)
    );
}

#[test]
fn sig_03_timestamps_with_offsets_and_fractions_are_understood() {
    // A client may send any RFC 3339 form; the signature covers the body only by default.
    let (sig, _) = sign(BODY, NOW);
    let v = hmac_verifier();
    for ts in [
        "2026-01-30T13:00:00+01:00",
        "2026-01-30T12:00:00.5Z",
        "2026-01-30t12:00:00z",
    ] {
        let proof = v.verify(&request(BODY, &sig, ts), NOW);
        assert!(proof.is_ok(), "{ts}: {proof:?}");
    }
    for ts in [
        "2026-01-30 12:00:00Z",
        "2026-01-30T12:00:00",
        "1769774400",
        "2026-01-30",
        "now",
    ] {
        assert_eq!(
            v.verify(&request(BODY, &sig, ts), NOW),
            Err(SignatureError::MalformedTimestamp),
            "{ts}"
        );
    }
}

#[test]
fn timestamp_is_covered_only_with_timestamp_and_body() {
    let body_only = hmac_verifier();
    let bound = hmac_verifier().with_signed_content(SignedContent::TimestampAndBody);
    let (sig, ts) = sign(BODY, NOW);
    let h = RequestSigner::new(hmac())
        .with_signed_content(SignedContent::TimestampAndBody)
        .sign(BODY, NOW)
        .unwrap();
    let moved = "2026-01-30T12:00:30Z";
    // Default: the timestamp is only checked for freshness, so a moved one still verifies.
    assert!(body_only.verify(&request(BODY, &sig, moved), NOW).is_ok());
    // Opt-in: moving it breaks the signature.
    assert!(
        bound
            .verify(&request(BODY, &h.signature, &h.timestamp), NOW)
            .is_ok()
    );
    assert_eq!(
        bound.verify(&request(BODY, &h.signature, moved), NOW),
        Err(SignatureError::Mismatch)
    );
    // Equivalent spellings of the same instant are different signed bytes.
    assert_eq!(
        bound.verify(
            &request(BODY, &h.signature, "2026-01-30T13:00:00+01:00"),
            NOW
        ),
        Err(SignatureError::Mismatch)
    );
    assert_ne!(sig, h.signature);
    assert_eq!(ts, h.timestamp);
}

// ---------------------------------------------------------------------------------------------
// Allow-list, keys and custom algorithms (SIG-06)

/// A custom algorithm that counts how often it is asked to verify.
struct Counting {
    calls: Arc<AtomicUsize>,
}

impl VerifyingKey for Counting {
    fn algorithm(&self) -> Algorithm {
        Algorithm::from_static("X-COUNTING")
    }
    fn verify(&self, _message: &[u8], _signature: &[u8]) -> Result<(), Rejected> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err(Rejected)
    }
}

#[test]
fn sig_06_algorithm_outside_the_allow_list_fails_before_any_crypto() {
    let calls = Arc::new(AtomicUsize::new(0));
    let (sig, ts) = sign(BODY, NOW);
    let only_custom = Verifier::new([Algorithm::HS256]).with_key(
        "custom",
        Counting {
            calls: calls.clone(),
        },
    );
    assert_eq!(
        only_custom.verify(&request(BODY, &sig, &ts), NOW),
        Err(SignatureError::AlgorithmNotAllowed)
    );
    // Even with an invalid body: the allow-list comes first.
    assert_eq!(
        only_custom.verify(&request(b"{", &sig, &ts), NOW),
        Err(SignatureError::AlgorithmNotAllowed)
    );
    // Mixed key set: the disallowed key is skipped, the allowed one matches.
    let mixed = Verifier::new([Algorithm::HS256])
        .with_key(
            "custom",
            Counting {
                calls: calls.clone(),
            },
        )
        .with_key("hmac", hmac());
    assert_eq!(
        mixed
            .verify(&request(BODY, &sig, &ts), NOW)
            .unwrap()
            .key_id(),
        "hmac"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    // Once allowed, the custom key is consulted (the counter works).
    let allowed = Verifier::new([Algorithm::from_static("X-COUNTING")]).with_key(
        "custom",
        Counting {
            calls: calls.clone(),
        },
    );
    assert_eq!(
        allowed.verify(&request(BODY, &sig, &ts), NOW),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        Algorithm::new("X-COUNTING"),
        Algorithm::from_static("X-COUNTING")
    );
    assert_eq!(Algorithm::ES256.to_string(), "ES256");
}

#[test]
fn no_key_configured() {
    let (sig, ts) = sign(BODY, NOW);
    assert_eq!(
        Verifier::new([Algorithm::HS256]).verify(&request(BODY, &sig, &ts), NOW),
        Err(SignatureError::NoKey)
    );
}

#[test]
fn key_material_is_validated() {
    // 128 bits is the floor; no upper limit or format (a secret from another platform works).
    assert_eq!(
        HmacSha256Key::new(b"").unwrap_err(),
        KeyError::SecretTooShort
    );
    assert_eq!(
        HmacSha256Key::new(b"0123456789abcde").unwrap_err(),
        KeyError::SecretTooShort
    );
    assert_eq!(HmacSha256Key::MIN_SECRET_LEN, 16);
    assert!(HmacSha256Key::new(b"0123456789abcdef").is_ok());
    assert!(HmacSha256Key::new(&[0xff; 4096]).is_ok());
    #[cfg(feature = "ed25519")]
    {
        use agentic_commerce::trust::signature::{Ed25519SigningKey, Ed25519VerifyingKey};
        assert!(matches!(
            Ed25519SigningKey::from_seed_slice(&[0; 31]),
            Err(KeyError::InvalidKey { .. })
        ));
        assert!(matches!(
            Ed25519VerifyingKey::from_bytes(&[0; 33]),
            Err(KeyError::InvalidKey { .. })
        ));
    }
    #[cfg(feature = "es256")]
    {
        use agentic_commerce::trust::signature::{Es256SigningKey, Es256VerifyingKey};
        assert!(matches!(
            Es256SigningKey::from_bytes(&[0; 32]),
            Err(KeyError::InvalidKey { .. })
        ));
        assert!(matches!(
            Es256VerifyingKey::from_sec1_bytes(&[4; 65]),
            Err(KeyError::InvalidKey { .. })
        ));
    }
}

#[test]
fn secrets_are_redacted_in_debug() {
    let shown = format!("{:?} {:?}", hmac(), hmac_verifier());
    assert!(shown.contains("[REDACTED]"), "{shown}");
    assert!(!shown.contains("test secret"), "{shown}");
    assert!(!shown.contains("116, 101, 115, 116"), "{shown}"); // b"test" as a byte list
    assert!(
        shown.contains("hmac-1") && shown.contains("HS256"),
        "{shown}"
    );
    #[cfg(feature = "ed25519")]
    {
        let key = agentic_commerce::trust::signature::Ed25519SigningKey::from_seed(&[0xab; 32]);
        assert_eq!(format!("{key:?}"), "Ed25519SigningKey([REDACTED])");
    }
    #[cfg(feature = "es256")]
    {
        let key =
            agentic_commerce::trust::signature::Es256SigningKey::from_bytes(&[0x42; 32]).unwrap();
        assert_eq!(format!("{key:?}"), "Es256SigningKey([REDACTED])");
    }
}

// ---------------------------------------------------------------------------------------------
// Malformed and missing input, status codes

#[test]
fn missing_headers() {
    let (sig, ts) = sign(BODY, NOW);
    let v = hmac_verifier();
    let req = |signature, timestamp| SignedRequest {
        body: BODY,
        signature,
        timestamp,
    };
    assert_eq!(
        v.verify(&req(None, Some(&ts)), NOW),
        Err(SignatureError::MissingSignature)
    );
    assert_eq!(
        v.verify(&req(Some(""), Some(&ts)), NOW),
        Err(SignatureError::MissingSignature)
    );
    assert_eq!(
        v.verify(&req(Some(&sig), None), NOW),
        Err(SignatureError::MissingTimestamp)
    );
    assert_eq!(
        v.verify(&req(Some(&sig), Some("")), NOW),
        Err(SignatureError::MissingTimestamp)
    );
    assert_eq!(
        v.verify(&req(None, None), NOW),
        Err(SignatureError::MissingSignature)
    );
}

/// Signs BODY at successive times until the signature contains `-` or `_`.
fn signature_with_url_safe_chars() -> (String, String) {
    (0..1000)
        .map(|i| sign(BODY, NOW - Duration::seconds(i)))
        .find(|(s, _)| s.contains('-') || s.contains('_'))
        .unwrap()
}

#[test]
fn base64url_decoding_rules() {
    let v = hmac_verifier();
    let (sig, ts) = signature_with_url_safe_chars();
    let ok = |s: &str| v.verify(&request(BODY, s, &ts), NOW);
    assert!(ok(&sig).is_ok());
    // Correct padding is accepted (32 bytes = 43 chars + one `=`).
    assert!(ok(&format!("{sig}=")).is_ok());
    // Wrong padding, standard alphabet, whitespace inside, junk: malformed.
    let standard = sig.replace('-', "+").replace('_', "/");
    for bad in [
        format!("{sig}=="),
        standard,
        format!("{} {}", &sig[..10], &sig[10..]),
        "!!!!".to_owned(),
        "a".to_owned(),
    ] {
        assert_eq!(ok(&bad), Err(SignatureError::MalformedSignature), "{bad}");
    }
    // Non-zero trailing bits in the last character.
    let last = sig.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let idx = alphabet.find(last).unwrap();
    let sibling = alphabet.as_bytes()[idx ^ 1] as char;
    let tweaked = format!("{}{sibling}", &sig[..sig.len() - 1]);
    assert_eq!(ok(&tweaked), Err(SignatureError::MalformedSignature));
    // Valid base64url of a length no key uses (31 and 33 bytes).
    assert_eq!(ok(&"A".repeat(42)), Err(SignatureError::MalformedSignature));
    assert_eq!(ok(&"A".repeat(44)), Err(SignatureError::MalformedSignature));
    // Right length, wrong bytes: a mismatch.
    assert_eq!(
        ok(&format!("{}A", "A".repeat(42))),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn body_that_is_not_canonicalizable_is_a_400() {
    let (sig, ts) = sign(BODY, NOW);
    let v = hmac_verifier();
    let e = v
        .verify(&request(br#"{"a":1,"a":2}"#, &sig, &ts), NOW)
        .unwrap_err();
    assert_eq!(
        e,
        SignatureError::Body(CanonicalJsonError::DuplicateKey { path: "$.a".into() })
    );
    assert_eq!((e.http_status(), e.code()), (400, "invalid_request"));
    assert!(matches!(
        v.verify(&request(b"not json", &sig, &ts), NOW),
        Err(SignatureError::Body(_))
    ));
    // Signing refuses too.
    assert!(matches!(
        RequestSigner::new(hmac()).sign(b"[1,]", NOW),
        Err(SignatureError::Body(_))
    ));
}

#[test]
fn authentication_failures_are_401_invalid_signature() {
    for e in [
        SignatureError::MissingSignature,
        SignatureError::MissingTimestamp,
        SignatureError::MalformedSignature,
        SignatureError::MalformedTimestamp,
        SignatureError::TimestampTooOld,
        SignatureError::TimestampInFuture,
        SignatureError::AlgorithmNotAllowed,
        SignatureError::NoKey,
        SignatureError::Mismatch,
    ] {
        assert_eq!(
            (e.http_status(), e.code()),
            (401, "invalid_signature"),
            "{e}"
        );
    }
    assert_eq!(SignatureError::SigningFailed.http_status(), 500);
    assert_eq!(
        SignatureError::Mismatch.to_string(),
        "the signature does not match"
    );
}

#[test]
fn signing_rejects_unrepresentable_timestamps() {
    let far = datetime!(-0001-01-01 00:00:00 UTC); // RFC 3339 has no negative years
    assert_eq!(
        RequestSigner::new(hmac()).sign(BODY, far),
        Err(SignatureError::MalformedTimestamp)
    );
}

#[test]
fn verify_now_uses_the_system_clock() {
    let h = RequestSigner::new(hmac()).sign_now(BODY).unwrap();
    assert!(
        hmac_verifier()
            .verify_now(&request(BODY, &h.signature, &h.timestamp))
            .is_ok()
    );
    let stale = RequestSigner::new(hmac())
        .sign(BODY, OffsetDateTime::now_utc() - Duration::hours(1))
        .unwrap();
    assert_eq!(
        hmac_verifier().verify_now(&request(BODY, &stale.signature, &stale.timestamp)),
        Err(SignatureError::TimestampTooOld)
    );
}

#[test]
fn sig_01_04_a_request_without_a_body_is_signed_over_the_empty_content_with_the_timestamp() {
    let signer = RequestSigner::new(hmac()).with_signed_content(SignedContent::TimestampAndBody);
    let verifier = hmac_verifier().with_signed_content(SignedContent::TimestampAndBody);
    let h = signer.sign(b"", NOW).unwrap();
    // Exactly `timestamp + "."` is signed.
    let expected = hmac().sign(format!("{}.", h.timestamp).as_bytes()).unwrap();
    assert_eq!(
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, expected),
        h.signature
    );
    assert!(
        verifier
            .verify(&request(b"", &h.signature, &h.timestamp), NOW)
            .is_ok()
    );
    // The timestamp is bound: the same signature with another timestamp is refused.
    let later = "2026-01-30T12:00:01Z";
    assert_eq!(
        verifier.verify(&request(b"", &h.signature, later), NOW),
        Err(SignatureError::Mismatch)
    );
    // An empty-body signature does not verify a body, nor the reverse.
    assert_eq!(
        verifier.verify(&request(BODY, &h.signature, &h.timestamp), NOW),
        Err(SignatureError::Mismatch)
    );
    let with_body = signer.sign(BODY, NOW).unwrap();
    assert_eq!(
        verifier.verify(
            &request(b"", &with_body.signature, &with_body.timestamp),
            NOW
        ),
        Err(SignatureError::Mismatch)
    );
    // Unsigned is still refused.
    assert_eq!(
        verifier.verify(
            &SignedRequest {
                body: b"",
                signature: None,
                timestamp: None
            },
            NOW
        ),
        Err(SignatureError::MissingSignature)
    );
}

#[test]
fn without_the_timestamp_an_empty_body_is_not_signable() {
    // Under CanonicalBody the empty content would be one constant signature for every
    // body-less request; it stays a typed error on both sides.
    assert!(matches!(
        RequestSigner::new(hmac()).sign(b"", NOW),
        Err(SignatureError::Body(_))
    ));
    let h = RequestSigner::new(hmac())
        .with_signed_content(SignedContent::TimestampAndBody)
        .sign(b"", NOW)
        .unwrap();
    assert!(matches!(
        hmac_verifier().verify(&request(b"", &h.signature, &h.timestamp), NOW),
        Err(SignatureError::Body(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Properties

fn arb_body() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        "[a-z0-9 \\\\\"é😀]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[cfg_attr(not(any(feature = "ed25519", feature = "es256")), allow(unused_mut))]
fn all_verifiers(content: SignedContent) -> Vec<(Verifier, Box<dyn SigningKey>)> {
    let mut out: Vec<(Verifier, Box<dyn SigningKey>)> = vec![(
        hmac_verifier().with_signed_content(content),
        Box::new(hmac()),
    )];
    #[cfg(feature = "ed25519")]
    {
        use agentic_commerce::trust::signature::Ed25519SigningKey;
        let key = Ed25519SigningKey::from_seed(&[9; 32]);
        out.push((
            Verifier::new([Algorithm::ED25519])
                .with_key("ed", key.verifying_key())
                .with_signed_content(content),
            Box::new(key),
        ));
    }
    #[cfg(feature = "es256")]
    {
        use agentic_commerce::trust::signature::Es256SigningKey;
        let key = Es256SigningKey::from_bytes(&[9; 32]).unwrap();
        out.push((
            Verifier::new([Algorithm::ES256])
                .with_key("es", key.verifying_key())
                .with_signed_content(content),
            Box::new(key),
        ));
    }
    out
}

/// `SigningKey` for a boxed key, so `RequestSigner` can take one.
struct Boxed<'a>(&'a dyn SigningKey);

impl SigningKey for Boxed<'_> {
    fn algorithm(&self) -> Algorithm {
        self.0.algorithm()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignatureError> {
        self.0.sign(message)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn prop_verify_sign_round_trip_in_any_equivalent_form(value in arb_body(), pretty in any::<bool>()) {
        for content in [SignedContent::CanonicalBody, SignedContent::TimestampAndBody] {
            for (verifier, key) in all_verifiers(content) {
                let body = value.to_string();
                let h = RequestSigner::new(Boxed(key.as_ref())).with_signed_content(content).sign(body.as_bytes(), NOW).unwrap();
                let received = if pretty { serde_json::to_string_pretty(&value).unwrap() } else { body.clone() };
                prop_assert!(verifier.verify(&request(received.as_bytes(), &h.signature, &h.timestamp), NOW).is_ok());
            }
        }
    }

    #[test]
    fn prop_any_flipped_body_byte_fails_unless_canonically_equal(value in arb_body(), index in any::<prop::sample::Index>(), bit in 0_u8..8) {
        let body = canonicalize(value.to_string().as_bytes()).unwrap();
        for (verifier, key) in all_verifiers(SignedContent::CanonicalBody) {
            let h = RequestSigner::new(Boxed(key.as_ref())).sign(&body, NOW).unwrap();
            let mut flipped = body.clone();
            let i = index.index(flipped.len());
            flipped[i] ^= 1 << bit;
            let result = verifier.verify(&request(&flipped, &h.signature, &h.timestamp), NOW);
            let same = canonicalize(&flipped).is_ok_and(|c| c == body);
            prop_assert_eq!(result.is_ok(), same, "{:?}", String::from_utf8_lossy(&flipped));
        }
    }

    #[test]
    fn prop_any_flipped_signature_byte_fails(value in arb_body(), index in any::<prop::sample::Index>(), bit in 0_u8..8) {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let body = value.to_string();
        for content in [SignedContent::CanonicalBody, SignedContent::TimestampAndBody] {
            for (verifier, key) in all_verifiers(content) {
                let h = RequestSigner::new(Boxed(key.as_ref())).with_signed_content(content).sign(body.as_bytes(), NOW).unwrap();
                let mut raw = b64.decode(&h.signature).unwrap();
                let i = index.index(raw.len());
                raw[i] ^= 1 << bit;
                let tampered = b64.encode(&raw);
                prop_assert!(verifier.verify(&request(body.as_bytes(), &tampered, &h.timestamp), NOW).is_err());
                // And any single character of the header text.
                let mut text = h.signature.clone().into_bytes();
                let j = index.index(text.len());
                text[j] ^= 1 << bit;
                if let Ok(text) = String::from_utf8(text) {
                    prop_assert!(verifier.verify(&request(body.as_bytes(), &text, &h.timestamp), NOW).is_err());
                }
            }
        }
    }

    #[test]
    fn prop_any_flipped_timestamp_byte_fails_when_covered(index in any::<prop::sample::Index>(), bit in 0_u8..8, offset in -60_i64..=300) {
        let signed_at = NOW - Duration::seconds(offset);
        for (verifier, key) in all_verifiers(SignedContent::TimestampAndBody) {
            let h = RequestSigner::new(Boxed(key.as_ref())).with_signed_content(SignedContent::TimestampAndBody).sign(BODY, signed_at).unwrap();
            prop_assert!(verifier.verify(&request(BODY, &h.signature, &h.timestamp), NOW).is_ok());
            let mut ts = h.timestamp.clone().into_bytes();
            let i = index.index(ts.len());
            ts[i] ^= 1 << bit;
            if let Ok(ts) = String::from_utf8(ts) {
                // Flips that only change OWS at the edges cannot happen: the value starts with a
                // digit and ends with `Z`, and a flipped byte is never equal to the original.
                prop_assert!(verifier.verify(&request(BODY, &h.signature, &ts), NOW).is_err(), "{}", ts);
            }
        }
    }

    #[test]
    fn prop_window_boundary_exact_to_the_second(past in 0_i64..=3600, future in 0_i64..=3600) {
        let policy = VerificationPolicy::new()
            .with_max_past(Duration::seconds(past)).unwrap()
            .with_max_future(Duration::seconds(future)).unwrap();
        let v = hmac_verifier().with_policy(policy);
        let (sig, ts) = sign(BODY, NOW);
        let at = |d: i64| v.verify(&request(BODY, &sig, &ts), NOW + Duration::seconds(d));
        prop_assert!(at(past).is_ok());
        prop_assert_eq!(at(past + 1), Err(SignatureError::TimestampTooOld));
        prop_assert!(at(-future).is_ok());
        prop_assert_eq!(at(-future - 1), Err(SignatureError::TimestampInFuture));
    }
}

/// SIG-02, SIG-04 with I-JSON (RFC 7493): RFC 8785 writes `9007199254740993` (2^53 + 1) as
/// `9007199254740992`, so two bodies that differ only there would share one signature while
/// a typed parse reads different amounts. Both are refused with a typed error, by the verifier
/// and by the signer; exactly 2^53 is written as itself and is signed and verified.
#[test]
fn sig_04_bodies_whose_numbers_change_value_in_canonical_form_are_refused() {
    use agentic_commerce::trust::canonical::CanonicalJsonError;
    let exact = br#"{"amount":9007199254740992,"currency":"usd"}"#;
    let above = br#"{"amount":9007199254740993,"currency":"usd"}"#;
    let (sig, ts) = sign(exact, NOW);
    let verifier = hmac_verifier();
    assert!(verifier.verify(&request(exact, &sig, &ts), NOW).is_ok());
    let error = verifier
        .verify(&request(above, &sig, &ts), NOW)
        .unwrap_err();
    assert_eq!(
        error,
        SignatureError::Body(CanonicalJsonError::InexactNumber {
            path: "$.amount".to_owned()
        })
    );
    assert_eq!(error.http_status(), 400);
    let signer = RequestSigner::new(hmac());
    assert!(matches!(
        signer.sign(above, NOW),
        Err(SignatureError::Body(
            CanonicalJsonError::InexactNumber { .. }
        ))
    ));
    let value: Value = serde_json::from_slice(above).unwrap();
    assert!(matches!(
        signer.sign_json(&value, NOW),
        Err(SignatureError::Body(
            CanonicalJsonError::InexactNumber { .. }
        ))
    ));
    // A too-small decimal that would become 0 is refused as well; 0.1 is fine.
    assert!(signer.sign(br#"{"x":1e-400}"#, NOW).is_err());
    assert!(signer.sign(br#"{"x":0.1}"#, NOW).is_ok());
}

mod boundaries;
