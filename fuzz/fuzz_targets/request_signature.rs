//! Request-signature verification of arbitrary `Signature`/`Timestamp` headers and bodies:
//! never panics, only a body signed by the key verifies, and every error is a 4xx.
#![no_main]

use agentic_commerce::trust::signature::{
    Algorithm, Ed25519SigningKey, HmacSha256Key, RequestSigner, SignedRequest, Verifier,
};
use libfuzzer_sys::fuzz_target;
use time::OffsetDateTime;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0);
    let signature = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let timestamp = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let body = parts.next().unwrap_or_default();
    let secret = b"fuzz-hmac-key-0123456789abcdef01";
    let (Ok(hmac), Ok(hmac_signer)) = (HmacSha256Key::new(secret), HmacSha256Key::new(secret))
    else {
        return;
    };
    let ed = Ed25519SigningKey::from_seed(&[7; 32]);
    let verifier = Verifier::new([Algorithm::HS256, Algorithm::ED25519])
        .with_key("h", hmac)
        .with_key("e", ed.verifying_key());
    let now =
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let request = SignedRequest {
        body,
        signature: Some(&signature),
        timestamp: Some(&timestamp),
    };
    if let Err(e) = verifier.verify(&request, now) {
        assert!((400..500).contains(&e.http_status()), "{e:?}");
    }
    // A body that canonicalizes, signed now, verifies under both keys.
    for signed in [
        RequestSigner::new(hmac_signer).sign(body, now),
        RequestSigner::new(ed).sign(body, now),
    ] {
        match signed {
            Ok(headers) => {
                let request = SignedRequest {
                    body,
                    signature: Some(&headers.signature),
                    timestamp: Some(&headers.timestamp),
                };
                verifier
                    .verify(&request, now)
                    .expect("fresh signature verifies");
            }
            Err(_) => {
                assert!(agentic_commerce::trust::canonical::canonicalize_exact(body).is_err())
            }
        }
    }
});
