//! Idempotency decisions over arbitrary sequences of begin/complete/release calls and clock
//! moves against the in-memory store, checked against a tiny reference model: a scope is
//! granted `Proceed` only when free, a different body is a conflict, a stored response replays.
#![no_main]

use agentic_commerce::headers::IdempotencyKey;
use agentic_commerce::idempotency::{
    Fingerprint, IdempotencyOutcome, IdempotencyPolicy, IdempotencyScope, IdempotencyStore,
    InMemoryIdempotencyStore, StoredResponse,
};
use libfuzzer_sys::fuzz_target;
use time::{Duration, OffsetDateTime};

fuzz_target!(|data: &[u8]| {
    let Ok(policy) = IdempotencyPolicy::new(Duration::seconds(100)) else {
        return;
    };
    let Ok(policy) = policy.with_in_flight_lease(Duration::seconds(10)) else {
        return;
    };
    let store = InMemoryIdempotencyStore::new(policy);
    let scopes: Vec<IdempotencyScope> = ["k1", "k2"]
        .iter()
        .filter_map(|k| IdempotencyKey::parse(k).ok())
        .map(|key| IdempotencyScope::new("merchant", "/checkout_sessions", key))
        .collect();
    let bodies = [b"{\"a\":1}".as_slice(), b"{ \"a\" : 1 }", b"{\"a\":2}"];
    let mut now = OffsetDateTime::UNIX_EPOCH;
    for &op in data.iter().take(256) {
        let scope = &scopes[usize::from(op & 1) % scopes.len()];
        let body = bodies[usize::from((op >> 1) & 3) % bodies.len()];
        let Ok(fingerprint) = Fingerprint::of_json(body) else {
            return;
        };
        let before = store.record(scope);
        match op >> 3 {
            0..=11 => {
                let outcome = store.begin(scope, &fingerprint, now).expect("in-memory store");
                let live = before.as_ref().filter(|r| !r.is_stale(now));
                match (&outcome, live) {
                    (IdempotencyOutcome::Proceed, None) => {}
                    (IdempotencyOutcome::Conflict, Some(r)) => assert_ne!(r.fingerprint(), &fingerprint),
                    (IdempotencyOutcome::InFlight { .. } | IdempotencyOutcome::Replay(_), Some(r)) => {
                        assert_eq!(r.fingerprint(), &fingerprint);
                    }
                    (o, r) => panic!("begin gave {o:?} with record {r:?}"),
                }
            }
            12..=23 => {
                let status = if op & 0x40 != 0 { 500 } else { 201 };
                let response = StoredResponse::new(status, body.to_vec(), Vec::new());
                let _ = store.complete(scope, response, now);
            }
            24..=27 => {
                let _ = store.release(scope);
            }
            _ => now += Duration::seconds(i64::from(op & 0x0f) * 4),
        }
        // Equivalent JSON bodies share a fingerprint (JCS), different ones do not.
        assert_eq!(
            Fingerprint::of_json(bodies[0]).ok(),
            Fingerprint::of_json(bodies[1]).ok()
        );
    }
});
