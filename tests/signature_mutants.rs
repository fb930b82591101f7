//! Tests that pin request-signature details where mutation testing (`.ci/mutants signature`,
//! see `MUTANTS.md`) found no test: algorithm names and the ACP error code of a signing
//! failure, the HMAC key's secret accessor, and the fixed signature lengths of the Ed25519 and
//! ES256 keys.

use agentic_commerce::signature::{
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
fn hmac_key_returns_the_secret_it_was_built_from_and_rejects_an_empty_one() {
    let Ok(key) = HmacSha256Key::new(b"whsec_0123") else {
        panic!("a non-empty secret is a valid HMAC key");
    };
    assert_eq!(key.secret(), b"whsec_0123");
    assert!(matches!(
        HmacSha256Key::new(b""),
        Err(KeyError::EmptySecret)
    ));
}

/// A signature one byte short of the key's fixed length must be reported as malformed (the
/// length check in `Verifier::verify`), not reach the key and come back as a mismatch. Without
/// `signature_len`, only the second would happen: both keys reject the bytes themselves.
#[cfg(any(feature = "ed25519", feature = "es256"))]
fn assert_short_signature_is_malformed<S, V>(signer: S, verifying: V, algorithm: Algorithm)
where
    S: agentic_commerce::signature::SigningKey,
    V: VerifyingKey + 'static,
{
    use agentic_commerce::signature::{RequestSigner, SignedRequest, Verifier};
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
    use agentic_commerce::signature::Ed25519SigningKey;
    let key = Ed25519SigningKey::from_seed(&[7; 32]);
    let verifying = key.verifying_key();
    assert_short_signature_is_malformed(key, verifying, Algorithm::ED25519);
}

#[cfg(feature = "es256")]
#[test]
fn es256_signatures_of_the_wrong_length_are_malformed() {
    use agentic_commerce::signature::Es256SigningKey;
    let Ok(key) = Es256SigningKey::from_bytes(&[0x42; 32]) else {
        panic!("0x42.. is a valid P-256 scalar");
    };
    let verifying = key.verifying_key();
    assert_short_signature_is_malformed(key, verifying, Algorithm::ES256);
}
