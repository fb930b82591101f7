//! Boundaries of idempotency: status boundaries (IDEM-13), policy accessors (IDEM-14),
//! rejection bodies (IDEM-11, IDEM-12), saturating expiry and the store's accessors (pinned
//! where mutation testing, `.ci/mutants idempotency`, found them unchecked).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use agentic_commerce::AcpError;
use agentic_commerce::protocol::headers::{IdempotencyKey, RetryAfter};
use agentic_commerce::trust::idempotency::{
    self, CompleteError, Completion, Fingerprint, IdempotencyOutcome, IdempotencyPolicy,
    IdempotencyRejection, IdempotencyScope, IdempotencyStore as _, InMemoryIdempotencyStore,
    LeaseToken, RecordState, StoredResponse,
};
use serde_json::json;
use time::macros::datetime;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

const T0: OffsetDateTime = datetime!(2026-04-17 10:00 UTC);

fn scope(k: &str) -> IdempotencyScope {
    IdempotencyScope::new(
        "acct_1",
        "/checkout_sessions",
        IdempotencyKey::parse(k).unwrap(),
    )
}

fn response(status: u16) -> StoredResponse {
    StoredResponse::new(status, b"{}".to_vec(), Vec::new())
}

/// IDEM-13: 1xx–4xx responses are stored; 5xx, and anything outside 100–599, are not.
#[test]
fn idem_13_server_error_boundaries() {
    for (status, server_error) in [
        (0, true),
        (99, true),
        (100, false),
        (200, false),
        (422, false),
        (499, false),
        (500, true),
        (503, true),
        (600, true),
    ] {
        assert_eq!(
            response(status).is_server_error(),
            server_error,
            "status {status}"
        );
    }
}

/// IDEM-14: the default policy keeps records 24 h, leases in-flight requests for 5 minutes and
/// asks clients to retry after 1 s; the builders change exactly one value each.
#[test]
fn idem_14_policy_defaults_and_builders() {
    let policy = IdempotencyPolicy::default();
    assert_eq!(policy.retention(), Duration::hours(24));
    assert_eq!(policy.in_flight_lease(), Duration::minutes(5));
    assert_eq!(policy.retry_after(), RetryAfter::from_secs(1));
    assert_eq!(IdempotencyPolicy::new(Duration::hours(24)).unwrap(), policy);

    let custom = IdempotencyPolicy::new(Duration::hours(48))
        .unwrap()
        .with_in_flight_lease(Duration::seconds(30))
        .unwrap()
        .with_retry_after(RetryAfter::from_secs(7));
    assert_eq!(custom.retention(), Duration::hours(48));
    assert_eq!(custom.in_flight_lease(), Duration::seconds(30));
    assert_eq!(custom.retry_after(), RetryAfter::from_secs(7));

    let store = InMemoryIdempotencyStore::new(custom);
    assert_eq!(*store.policy(), custom);
}

/// IDEM-11/IDEM-12: the ACP error bodies of both rejections.
#[test]
fn idem_11_12_rejection_error_bodies() {
    let conflict = IdempotencyRejection::Conflict;
    assert_eq!(conflict.error_type(), "invalid_request");
    assert_eq!(
        conflict.message(),
        "Idempotency-Key has already been used with a different request body"
    );
    assert_eq!(
        AcpError::from(conflict).to_json(),
        json!({"type": "invalid_request", "code": "idempotency_conflict",
               "message": "Idempotency-Key has already been used with a different request body"})
    );
    let in_flight = IdempotencyRejection::InFlight {
        retry_after: RetryAfter::from_secs(3),
    };
    assert_eq!(in_flight.error_type(), "invalid_request");
    assert_eq!(
        in_flight.message(),
        "A request with this Idempotency-Key is currently being processed"
    );
    assert_eq!(in_flight.status(), 409);
    assert_eq!(
        in_flight.response_headers(),
        vec![("Retry-After", "3".to_owned())]
    );
}

#[test]
fn idem_fingerprint_debug_and_parse_errors() {
    let fp = Fingerprint::of_json(b"{}").unwrap();
    assert_eq!(format!("{fp:?}"), format!("Fingerprint({fp})"));
    let hex = fp.to_hex();
    assert_eq!(hex.len(), 64);
    // Upper-case hex parses to the same value.
    assert_eq!(hex.to_uppercase().parse::<Fingerprint>().unwrap(), fp);
    assert!(hex[..62].parse::<Fingerprint>().is_err());
    assert!(format!("{hex}00").parse::<Fingerprint>().is_err());
    let bad_hi = format!("g{}", &hex[1..]);
    assert!(bad_hi.parse::<Fingerprint>().is_err());
    let bad_lo = format!("{}g{}", &hex[..1], &hex[2..]);
    assert!(bad_lo.parse::<Fingerprint>().is_err());
    // Each byte is high nibble then low nibble.
    let ones: Fingerprint = "0f".repeat(32).parse().unwrap();
    assert_eq!(ones.as_bytes(), &[0x0f; 32]);
    let tens: Fingerprint = "f0".repeat(32).parse().unwrap();
    assert_eq!(tens.as_bytes(), &[0xf0; 32]);
}

/// IDEM-14: a reservation made at the end of time expires at the latest representable instant
/// instead of overflowing.
#[test]
fn idem_14_expiry_saturates_at_the_end_of_time() {
    let end = PrimitiveDateTime::MAX.assume_utc();
    let now = end - Duration::minutes(1);
    let fp = Fingerprint::of_json(b"{}").unwrap();
    let lease = LeaseToken::new(1);
    let decision = idempotency::begin(None, &fp, lease, now, &IdempotencyPolicy::default());
    assert_eq!(decision.outcome, IdempotencyOutcome::Proceed(lease));
    let record = decision.write.unwrap();
    assert_eq!(record.expires_at(), end);
    assert_eq!(
        record.state(),
        &RecordState::InFlight {
            lease_expires_at: end,
            lease,
        }
    );
}

/// IDEM-08/IDEM-13: the store's accessors follow begin, complete and purge.
#[test]
fn idem_store_accessors_track_records() {
    let store = InMemoryIdempotencyStore::default();
    assert!(store.is_empty());
    assert_eq!(store.len(), 0);
    let fp = Fingerprint::of_json(b"{\"a\":1}").unwrap();
    let s = scope("key-1");
    let IdempotencyOutcome::Proceed(lease) = store.begin(&s, &fp, T0).unwrap() else {
        panic!("a new key proceeds");
    };
    assert!(!store.is_empty());
    assert_eq!(store.len(), 1);
    let record = store.record(&s).unwrap();
    assert_eq!(record.fingerprint(), &fp);
    assert_eq!(record.expires_at(), T0 + Duration::hours(24));

    let done = store.complete(&s, lease, response(201), T0).unwrap();
    assert!(matches!(done, Completion::Store(_)));
    // A completed record is not released by `release` (only in-flight ones are).
    assert_eq!(store.release(&s, lease), Err(CompleteError::NotInFlight));
    assert_eq!(store.len(), 1);
    assert!(store.record(&scope("key-2")).is_none());

    // Purging reports how many stale records it removed.
    assert_eq!(store.purge_stale(T0 + Duration::hours(1)), 0);
    assert_eq!(store.len(), 1);
    assert_eq!(store.purge_stale(T0 + Duration::hours(24)), 1);
    assert!(store.is_empty());
}

/// IDEM-03: a scope exposes the identity, path and key it was built from.
#[test]
fn idem_03_scope_accessors_return_their_parts() {
    let s = scope("key-9");
    assert_eq!(s.identity(), "acct_1");
    assert_eq!(s.path(), "/checkout_sessions");
    assert_eq!(s.key().as_str(), "key-9");
}
