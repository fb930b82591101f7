//! Tests that pin request-signature details where mutation testing (`.ci/mutants signature`,
//! see `MUTANTS.md`) found no test: algorithm names and the ACP error code of a signing
//! failure, and the HMAC key's secret accessor.

use agentic_commerce::signature::{Algorithm, HmacSha256Key, KeyError, SignatureError};

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
