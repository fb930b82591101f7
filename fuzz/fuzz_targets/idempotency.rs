//! Idempotency decisions over arbitrary sequences of begin/complete/release calls and clock
//! moves against the in-memory store, checked step by step against a small reference model
//! written from the rules (IDEM-08 … IDEM-14):
//!
//! * a scope without a live record gets `Proceed` and is reserved in flight;
//! * a live record with a different body fingerprint is a `Conflict` (IDEM-11);
//! * a live in-flight record with the same fingerprint is `InFlight` with `Retry-After` (IDEM-12);
//! * a live completed record with the same fingerprint replays the stored response (IDEM-08..10);
//! * completing a live reservation stores a non-5xx response and releases on 5xx (IDEM-13);
//! * only the current lease token completes or releases a reservation (fencing): a stale or
//!   foreign token fails and changes nothing;
//! * records stop counting after the retention (at least 24 hours, IDEM-14) and in-flight
//!   reservations after the lease.
//!
//! Bodies that differ only in JSON formatting share a fingerprint (JCS).
#![no_main]

use std::collections::BTreeMap;

use agentic_commerce::protocol::headers::IdempotencyKey;
use agentic_commerce::trust::idempotency::{
    Completion, Fingerprint, IdempotencyOutcome, IdempotencyPolicy, IdempotencyScope,
    IdempotencyStore, InMemoryIdempotencyStore, LeaseToken, StoredResponse,
};
use libfuzzer_sys::fuzz_target;
use time::{Duration, OffsetDateTime};

/// Retention and lease of the policy under test. The retention must be at least 24 hours
/// (IDEM-14): `IdempotencyPolicy::new` rejects anything shorter, which is why an earlier
/// version of this target (100 s) returned before doing anything.
const RETENTION: Duration = Duration::hours(24);
const LEASE: Duration = Duration::minutes(10);

/// The reference model's record: fingerprint index, stored response (None = in flight),
/// retention end, lease end.
#[derive(Clone, Debug)]
struct Model {
    body: usize,
    response: Option<(u16, usize)>,
    expires_at: OffsetDateTime,
    lease_expires_at: OffsetDateTime,
    lease: LeaseToken,
}

impl Model {
    fn live(&self, now: OffsetDateTime) -> bool {
        now < self.expires_at && (self.response.is_some() || now < self.lease_expires_at)
    }
}

fuzz_target!(|data: &[u8]| {
    let policy = IdempotencyPolicy::new(RETENTION)
        .and_then(|p| p.with_in_flight_lease(LEASE))
        .expect("a 24 h retention and a 10 min lease are valid (IDEM-14)");
    let store = InMemoryIdempotencyStore::new(policy);
    let scopes: Vec<IdempotencyScope> = ["key_fuzz_000001", "key_fuzz_000002"]
        .iter()
        .map(|k| IdempotencyKey::parse(k).expect("valid idempotency key"))
        .map(|key| IdempotencyScope::new("merchant", "/checkout_sessions", key))
        .collect();
    // Bodies 0 and 1 are the same JSON value; 2 is different.
    let bodies = [b"{\"a\":1}".as_slice(), b"{ \"a\" : 1.0 }", b"{\"a\":2}"];
    let fingerprints: Vec<Fingerprint> = bodies
        .iter()
        .map(|b| Fingerprint::of_json(b).expect("valid JSON"))
        .collect();
    assert_eq!(fingerprints[0], fingerprints[1], "equivalent bodies differ");
    assert_ne!(fingerprints[0], fingerprints[2], "different bodies collide");
    let same = |a: usize, b: usize| fingerprints[a] == fingerprints[b];

    let mut model: BTreeMap<usize, Model> = BTreeMap::new();
    // The previous token issued per scope (a stale worker's), and the current one.
    let mut previous: BTreeMap<usize, LeaseToken> = BTreeMap::new();
    let mut now = OffsetDateTime::UNIX_EPOCH;
    for &op in data.iter().take(512) {
        let s = usize::from(op & 1);
        let scope = &scopes[s];
        let body = usize::from((op >> 1) & 3) % bodies.len();
        match op >> 4 {
            0..=5 => {
                let outcome = store
                    .begin(scope, &fingerprints[body], now)
                    .expect("in-memory store");
                let live = model.get(&s).filter(|m| m.live(now)).cloned();
                match (&outcome, live) {
                    (IdempotencyOutcome::Proceed(lease), None) => {
                        if let Some(old) = model.get(&s) {
                            assert_ne!(old.lease, *lease, "lease token reused");
                            previous.insert(s, old.lease);
                        }
                        model.insert(
                            s,
                            Model {
                                body,
                                response: None,
                                expires_at: now + RETENTION,
                                lease_expires_at: now + LEASE,
                                lease: *lease,
                            },
                        );
                    }
                    (IdempotencyOutcome::Conflict, Some(m)) if !same(m.body, body) => {}
                    (IdempotencyOutcome::InFlight { retry_after }, Some(m))
                        if same(m.body, body) && m.response.is_none() =>
                    {
                        assert_eq!(*retry_after, IdempotencyPolicy::DEFAULT_RETRY_AFTER);
                    }
                    (IdempotencyOutcome::Replay(r), Some(m)) if same(m.body, body) => {
                        let (status, stored) = m.response.expect("replay of a completed record");
                        assert_eq!(r.status, status);
                        assert_eq!(r.body, bodies[stored]);
                    }
                    (o, m) => panic!("begin gave {o:?}, model says {m:?}"),
                }
            }
            6..=10 => {
                let status = if op & 0x08 != 0 { 500 } else { 201 };
                let response = StoredResponse::new(status, bodies[body].to_vec(), Vec::new());
                let stale = op & 0x04 != 0;
                let lease = pick_lease(&model, &previous, s, stale);
                let before = store.record(scope);
                let result = store.complete(scope, lease, response, now);
                let reservable = model.get(&s).is_some_and(|m| {
                    now < m.expires_at && m.response.is_none() && m.lease == lease
                });
                if !reservable {
                    assert_eq!(
                        store.record(scope),
                        before,
                        "a refused complete changed the record"
                    );
                }
                match (result, reservable) {
                    (Ok(Completion::Release), true) => {
                        assert_eq!(status, 500, "a non-5xx response was released");
                        if let Some(old) = model.remove(&s) {
                            previous.insert(s, old.lease);
                        }
                    }
                    (Ok(Completion::Store(record)), true) => {
                        assert_ne!(status, 500, "a 5xx response was stored (IDEM-13)");
                        let m = model.get_mut(&s).expect("reservable");
                        assert_eq!(record.fingerprint(), &fingerprints[m.body]);
                        m.response = Some((status, body));
                        m.expires_at = now + RETENTION;
                    }
                    (Err(_), false) => {}
                    (r, reservable) => panic!("complete gave {r:?}, reservable = {reservable}"),
                }
            }
            11..=12 => {
                let lease = pick_lease(&model, &previous, s, op & 0x04 != 0);
                let owned = model
                    .get(&s)
                    .is_some_and(|m| m.response.is_none() && m.lease == lease);
                let before = store.record(scope);
                assert_eq!(store.release(scope, lease).is_ok(), owned);
                if owned {
                    if let Some(old) = model.remove(&s) {
                        previous.insert(s, old.lease);
                    }
                } else {
                    assert_eq!(
                        store.record(scope),
                        before,
                        "a refused release changed the record"
                    );
                }
            }
            // Clock moves from a minute to about a day, so leases and retention both run out.
            _ => now += Duration::minutes(i64::from(op & 0x0f) * i64::from(op & 0x0f) * 6 + 1),
        }
    }
});

/// The current reservation's token, or (`stale`) the one before it; a never-issued token when
/// there is none.
fn pick_lease(
    model: &BTreeMap<usize, Model>,
    previous: &BTreeMap<usize, LeaseToken>,
    s: usize,
    stale: bool,
) -> LeaseToken {
    let token = if stale {
        previous.get(&s).copied()
    } else {
        model.get(&s).map(|m| m.lease)
    };
    token.unwrap_or(LeaseToken::new(u64::MAX))
}
