//! `Merchant-Signature` parsing and verification of arbitrary headers and bodies: a header
//! that parses re-formats and parses to the same value, a freshly signed body always
//! verifies, and a fuzzed header verifies only if it carries the right HMAC.
#![no_main]

use agentic_commerce::trust::webhook::{self, MerchantSignature, WebhookSecret, WebhookVerifier};
use libfuzzer_sys::fuzz_target;
use time::OffsetDateTime;

fuzz_target!(|data: &[u8]| {
    let (header, body) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let header = String::from_utf8_lossy(header);
    let Ok(secret) = WebhookSecret::new(b"whsec_fuzz_secret_0123456789".to_vec()) else {
        return;
    };
    let verifier = WebhookVerifier::new(secret.clone());
    let now =
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    if let Ok(parsed) = header.parse::<MerchantSignature>() {
        let again: MerchantSignature = parsed.to_string().parse().expect("re-parse");
        assert_eq!(again.timestamp(), parsed.timestamp());
        assert_eq!(again.signatures(), parsed.signatures());
        // Verified at the header's own time, so only the MAC decides; a `t` beyond the
        // calendar is never fresh.
        let signed_at = i64::try_from(parsed.timestamp())
            .ok()
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok());
        if let Some(signed_at) = signed_at {
            let expected =
                MerchantSignature::compute(&secret, signed_at, body).expect("post-epoch time");
            let verified = verifier.verify(Some(&header), body, signed_at).is_ok();
            let matches = parsed.signatures().contains(&expected.signatures()[0]);
            assert_eq!(verified, matches);
        } else {
            assert!(verifier.verify(Some(&header), body, now).is_err());
        }
    } else {
        assert!(verifier.verify(Some(&header), body, now).is_err());
    }
    // Any second from 1970 to the end of year 9999.
    let t = u64::from_le_bytes(
        data.get(..8)
            .and_then(|b| b.try_into().ok())
            .unwrap_or([0; 8]),
    ) % 253_402_300_800;
    let t = OffsetDateTime::from_unix_timestamp(i64::try_from(t).expect("fits"))
        .expect("in the calendar");
    let signed = webhook::sign(&secret, t, body).expect("post-epoch time");
    let verified = verifier
        .verify(Some(&signed), body, t)
        .expect("fresh signature");
    assert_eq!(verified.timestamp(), t);
    assert_eq!(verified.body(), body);
});
