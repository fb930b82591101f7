//! Boundaries of request signatures (pinned where mutation testing, `.ci/mutants signature`,
//! found no test): algorithm names and the ACP error code of a signing
//! failure, the HMAC key's secret accessor, the fixed signature lengths of the Ed25519 and
//! ES256 keys, the verifier's policy accessor and the signature header length cap.

use agentic_commerce::trust::signature::{
    Algorithm, HmacSha256Key, KeyError, SignatureError, VerifyingKey,
};

#[test]
fn algorithm_names_are_the_jose_and_rfc_names() {
    assert_eq!(Algorithm::HS256.as_str(), "HS256");
    assert_eq!(Algorithm::ED25519.as_str(), "Ed25519");
    assert_eq!(Algorithm::ES256.as_str(), "ES256");
    assert_eq!(Algorithm::from_static("EdDSA").as_str(), "EdDSA");
    assert_eq!(Algorithm::new(String::from("RS256")).as_str(), "RS256");
    assert_eq!(Algorithm::new("RS256").to_string(), "RS256");
}

#[test]
fn a_signing_failure_is_a_500_processing_error_not_an_authentication_failure() {
    let error = SignatureError::SigningFailed;
    assert_eq!(error.code(), "processing_error");
    assert_eq!(error.http_status(), 500);
}

#[test]
fn hmac_key_returns_the_secret_it_was_built_from_and_rejects_a_short_one() {
    let Ok(key) = HmacSha256Key::new(b"whsec_0123456789ab") else {
        panic!("a 16-byte secret is a valid HMAC key");
    };
    assert_eq!(key.secret(), b"whsec_0123456789ab");
    assert!(matches!(
        HmacSha256Key::new(b""),
        Err(KeyError::SecretTooShort)
    ));
}

/// A signature one byte short of the key's fixed length must be reported as malformed (the
/// length check in `Verifier::verify`), not reach the key and come back as a mismatch. Without
/// `signature_len`, only the second would happen: both keys reject the bytes themselves.
#[cfg(any(feature = "ed25519", feature = "es256"))]
fn assert_short_signature_is_malformed<S, V>(signer: S, verifying: V, algorithm: Algorithm)
where
    S: agentic_commerce::trust::signature::SigningKey,
    V: VerifyingKey + 'static,
{
    use agentic_commerce::trust::signature::{RequestSigner, SignedRequest, Verifier};
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use time::macros::datetime;

    const BODY: &[u8] = br#"{"currency":"usd"}"#;
    let now = datetime!(2026-01-30 12:00:00 UTC);
    assert_eq!(verifying.signature_len(), Some(64));
    let verifier = Verifier::new([algorithm]).with_key("k", verifying);
    let Ok(headers) = RequestSigner::new(signer).sign(BODY, now) else {
        panic!("signing with a valid key succeeds");
    };
    let timestamp = headers.timestamp.as_str();
    let request = |signature| SignedRequest {
        body: BODY,
        signature: Some(signature),
        timestamp: Some(timestamp),
    };
    assert!(verifier.verify(&request(&headers.signature), now).is_ok());
    let Ok(mut bytes) = URL_SAFE_NO_PAD.decode(&headers.signature) else {
        panic!("signatures are base64url");
    };
    bytes.pop();
    let short = URL_SAFE_NO_PAD.encode(&bytes);
    assert_eq!(
        verifier.verify(&request(&short), now),
        Err(SignatureError::MalformedSignature)
    );
    bytes.extend_from_slice(&[0, 0]);
    let long = URL_SAFE_NO_PAD.encode(&bytes);
    assert_eq!(
        verifier.verify(&request(&long), now),
        Err(SignatureError::MalformedSignature)
    );
}

#[cfg(feature = "ed25519")]
#[test]
fn ed25519_signatures_of_the_wrong_length_are_malformed() {
    use agentic_commerce::trust::signature::Ed25519SigningKey;
    let key = Ed25519SigningKey::from_seed(&[7; 32]);
    let verifying = key.verifying_key();
    assert_short_signature_is_malformed(key, verifying, Algorithm::ED25519);
}

#[cfg(feature = "es256")]
#[test]
fn es256_signatures_of_the_wrong_length_are_malformed() {
    use agentic_commerce::trust::signature::Es256SigningKey;
    let Ok(key) = Es256SigningKey::from_bytes(&[0x42; 32]) else {
        panic!("0x42.. is a valid P-256 scalar");
    };
    let verifying = key.verifying_key();
    assert_short_signature_is_malformed(key, verifying, Algorithm::ES256);
}

#[test]
fn sig_05_verifier_reports_the_policy_it_was_given() {
    use agentic_commerce::trust::signature::{VerificationPolicy, Verifier};
    let Ok(policy) = VerificationPolicy::new().with_max_past(time::Duration::seconds(10)) else {
        panic!("10 s is within the cap");
    };
    let verifier = Verifier::new([Algorithm::HS256]).with_policy(policy);
    assert_eq!(verifier.policy(), &policy);
    assert_eq!(verifier.policy().max_past(), time::Duration::seconds(10));
    assert_eq!(
        Verifier::new([Algorithm::HS256]).policy(),
        &VerificationPolicy::new()
    );
}

/// A key without a fixed signature length that accepts every signature: only the length cap
/// on the `Signature` header stands between an over-long header and this key.
struct AcceptsAnything;

impl VerifyingKey for AcceptsAnything {
    fn algorithm(&self) -> Algorithm {
        Algorithm::from_static("X-ANY")
    }
    fn verify(
        &self,
        _message: &[u8],
        _signature: &[u8],
    ) -> Result<(), agentic_commerce::trust::signature::Rejected> {
        Ok(())
    }
}

#[test]
fn a_signature_header_longer_than_the_cap_is_malformed_before_any_key_sees_it() {
    use agentic_commerce::trust::signature::{MAX_SIGNATURE_HEADER_LEN, SignedRequest, Verifier};
    use time::macros::datetime;

    let now = datetime!(2026-01-30 12:00:00 UTC);
    let verifier =
        Verifier::new([Algorithm::from_static("X-ANY")]).with_key("any", AcceptsAnything);
    let request = |signature: &str| {
        verifier.verify(
            &SignedRequest {
                body: b"{}",
                signature: Some(signature),
                timestamp: Some("2026-01-30T12:00:00Z"),
            },
            now,
        )
    };
    // Base64url text of every length from just under to just over the cap (a multiple of 4
    // decodes without padding questions).
    let at_cap = "A".repeat(MAX_SIGNATURE_HEADER_LEN);
    assert!(request(&at_cap).is_ok());
    for over in [MAX_SIGNATURE_HEADER_LEN + 4, 2 * MAX_SIGNATURE_HEADER_LEN] {
        assert_eq!(
            request(&"A".repeat(over)),
            Err(SignatureError::MalformedSignature),
            "{over} characters"
        );
    }
}
