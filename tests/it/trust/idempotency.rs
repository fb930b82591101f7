//! Tests for `agentic_commerce::trust::idempotency` (IDEM-03..18).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};

use agentic_commerce::AcpError;
use agentic_commerce::protocol::headers::{IdempotencyKey, RetryAfter};
use agentic_commerce::trust::PolicyError;
use agentic_commerce::trust::idempotency::{
    self, CompleteError, Completion, Fingerprint, IdempotencyOutcome, IdempotencyPolicy,
    IdempotencyRecord, IdempotencyRejection, IdempotencyScope, IdempotencyStore,
    InMemoryIdempotencyStore, LeaseToken, RecordState, StoredResponse,
};
use proptest::prelude::*;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-04-17 10:00 UTC);

fn key(k: &str) -> IdempotencyKey {
    IdempotencyKey::parse(k).unwrap()
}

fn scope(k: &str) -> IdempotencyScope {
    IdempotencyScope::new("acct_1", "/checkout_sessions", key(k))
}

fn fp(json: &str) -> Fingerprint {
    Fingerprint::of_json(json.as_bytes()).unwrap()
}

fn response(status: u16) -> StoredResponse {
    StoredResponse::new(
        status,
        format!("{{\"status\":{status}}}").into_bytes(),
        vec![("Content-Type".to_owned(), "application/json".to_owned())],
    )
}

/// The lease token of the reservation `store` holds for `s` (a token nobody holds when the
/// scope is not in flight), for tests that are not about fencing.
fn owner(store: &InMemoryIdempotencyStore, s: &IdempotencyScope) -> LeaseToken {
    match store.record(s).map(|r| r.state().clone()) {
        Some(RecordState::InFlight { lease, .. }) => lease,
        _ => LeaseToken::new(u64::MAX),
    }
}

// ---------------------------------------------------------------------------------------------
// Fingerprint (IDEM-05, IDEM-06, IDEM-15)
// ---------------------------------------------------------------------------------------------

#[test]
fn idem_06_fingerprint_is_sha256_of_the_canonical_json() {
    let expected: [u8; 32] = Sha256::digest(br#"{"a":[1,"x",null],"b":true}"#).into();
    let got = fp(" { \"b\" : true ,\n \"a\" : [ 1.0 , \"x\" , null ] } ");
    assert_eq!(got.as_bytes(), &expected);
    assert_eq!(
        fp("{}").to_hex(),
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    assert_eq!(
        Fingerprint::from_canonical_bytes(b"{}"),
        fp("{}"),
        "from_canonical_bytes hashes as-is"
    );
    assert_eq!(
        Fingerprint::of_value(&json!({"b": true, "a": [1, "x", null]})).unwrap(),
        got
    );
}

#[test]
fn idem_05_key_order_and_whitespace_ignored_numbers_compared_by_value() {
    assert_eq!(fp(r#"{"a":1,"b":2}"#), fp(r#"{ "b" : 2, "a" : 1 }"#));
    assert_eq!(fp(r#"{"amount":1.0}"#), fp(r#"{"amount":1}"#));
    assert_eq!(fp(r#"{"amount":1e0}"#), fp(r#"{"amount":10e-1}"#));
}

#[test]
fn idem_05_null_differs_from_absent_and_arrays_are_order_sensitive() {
    assert_ne!(fp(r#"{"a":1,"buyer":null}"#), fp(r#"{"a":1}"#));
    assert_ne!(fp(r#"{"items":[1,2]}"#), fp(r#"{"items":[2,1]}"#));
    assert_ne!(fp(r#"{"a":"1"}"#), fp(r#"{"a":1}"#));
}

#[test]
fn idem_15_extension_fields_participate() {
    assert_ne!(
        fp(r#"{"currency":"usd","discounts":{"codes":["X"]}}"#),
        fp(r#"{"currency":"usd"}"#)
    );
}

#[test]
fn idem_fingerprint_rejects_invalid_json_and_duplicate_keys() {
    assert_eq!(
        Fingerprint::of_json(br#"{"a":1,"a":2}"#)
            .unwrap_err()
            .code(),
        "duplicate_key"
    );
    assert!(Fingerprint::of_json(b"{").is_err());
    assert!(Fingerprint::of_json(b"").is_err());
}

#[test]
fn idem_empty_body_has_its_own_fingerprint() {
    let empty = Fingerprint::of_body(b"").unwrap();
    assert_eq!(empty, Fingerprint::from_canonical_bytes(b""));
    assert_ne!(empty, fp("{}"));
    assert_ne!(empty, fp("null"));
    assert_eq!(Fingerprint::of_body(b" {} ").unwrap(), fp("{}"));
}

#[test]
fn idem_fingerprint_hex_roundtrip() {
    let f = fp(r#"{"x":1}"#);
    assert_eq!(f.to_hex().len(), 64);
    assert_eq!(f.to_hex().parse::<Fingerprint>().unwrap(), f);
    assert_eq!(f.to_hex().to_uppercase().parse::<Fingerprint>().unwrap(), f);
    assert!("00".parse::<Fingerprint>().is_err());
    assert!("g".repeat(64).parse::<Fingerprint>().is_err());
    assert!(format!("{f:?}").contains(&f.to_hex()));
}

// ---------------------------------------------------------------------------------------------
// Decisions through the in-memory store
// ---------------------------------------------------------------------------------------------

#[test]
fn idem_08_09_same_key_same_body_replays_the_original_response() {
    let store = InMemoryIdempotencyStore::default();
    let s = scope("k1");
    let f = fp(r#"{"a":1}"#);
    assert!(matches!(
        store.begin(&s, &f, T0).unwrap(),
        IdempotencyOutcome::Proceed(_)
    ));
    assert!(matches!(
        store
            .complete(&s, owner(&store, &s), response(201), T0)
            .unwrap(),
        Completion::Store(_)
    ));
    let later = T0 + Duration::hours(1);
    let IdempotencyOutcome::Replay(stored) =
        store.begin(&s, &fp(r#"{ "a" : 1.0 }"#), later).unwrap()
    else {
        panic!("expected replay");
    };
    assert_eq!(stored, response(201));
    assert!(store.begin(&s, &f, later).unwrap().rejection().is_none());
}

#[test]
fn idem_18_replayed_cancel_with_intent_trace_returns_the_same_200_without_re_running() {
    let store = InMemoryIdempotencyStore::default();
    let s = IdempotencyScope::new("agent_1", "/checkout_sessions/cs_1/cancel", key("cancel-1"));
    let body = br#"{"intent_trace":{"reason_code":"price_too_high","trace_summary":"x"}}"#;
    let reordered =
        br#"{ "intent_trace" : { "trace_summary" : "x", "reason_code" : "price_too_high" } }"#;
    let mut trace_records = 0;
    for attempt in [&body[..], &reordered[..], &body[..]] {
        match store
            .begin(&s, &Fingerprint::of_json(attempt).unwrap(), T0)
            .unwrap()
        {
            IdempotencyOutcome::Proceed(lease) => {
                trace_records += 1;
                store.complete(&s, lease, response(200), T0).unwrap();
            }
            IdempotencyOutcome::Replay(r) => assert_eq!(r.status, 200),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(trace_records, 1);
}

#[test]
fn idem_09_replay_headers_add_replayed_true_and_echo_the_key() {
    let mut stored = response(200);
    stored
        .headers
        .push(("idempotent-replayed".to_owned(), "false".to_owned()));
    stored
        .headers
        .push(("IDEMPOTENCY-KEY".to_owned(), "stale".to_owned()));
    let headers = stored.replay_headers(&key("k-9"));
    assert_eq!(
        headers,
        vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("Idempotent-Replayed".to_owned(), "true".to_owned()),
            ("Idempotency-Key".to_owned(), "k-9".to_owned()),
        ]
    );
}

#[test]
fn idem_11_same_key_different_body_is_422_conflict_even_in_flight() {
    let store = InMemoryIdempotencyStore::default();
    let s = scope("k1");
    store.begin(&s, &fp(r#"{"a":1}"#), T0).unwrap();
    let outcome = store.begin(&s, &fp(r#"{"a":2}"#), T0).unwrap();
    assert_eq!(outcome, IdempotencyOutcome::Conflict);
    store
        .complete(&s, owner(&store, &s), response(200), T0)
        .unwrap();
    let outcome = store.begin(&s, &fp(r#"{"a":2}"#), T0).unwrap();
    assert_eq!(outcome, IdempotencyOutcome::Conflict);
    let rejection = outcome.rejection().unwrap();
    assert_eq!(rejection.status(), 422);
    assert_eq!(
        AcpError::from(rejection).to_json(),
        json!({
            "type": "invalid_request",
            "code": "idempotency_conflict",
            "message": "Idempotency-Key has already been used with a different request body",
        })
    );
    assert!(rejection.response_headers().is_empty());
}

#[test]
fn idem_12_in_flight_is_409_with_retry_after() {
    let policy = IdempotencyPolicy::default().with_retry_after(RetryAfter::from_secs(3));
    let store = InMemoryIdempotencyStore::new(policy);
    let s = scope("k1");
    let f = fp("{}");
    assert!(matches!(
        store.begin(&s, &f, T0).unwrap(),
        IdempotencyOutcome::Proceed(_)
    ));
    let outcome = store.begin(&s, &f, T0 + Duration::seconds(1)).unwrap();
    assert_eq!(
        outcome,
        IdempotencyOutcome::InFlight {
            retry_after: RetryAfter::from_secs(3)
        }
    );
    let rejection = outcome.rejection().unwrap();
    assert_eq!(rejection.status(), 409);
    assert_eq!(
        AcpError::from(rejection).to_json(),
        json!({
            "type": "invalid_request",
            "code": "idempotency_in_flight",
            "message": "A request with this Idempotency-Key is currently being processed",
        })
    );
    assert_eq!(
        rejection.response_headers(),
        vec![("Retry-After", "3".to_owned())]
    );
    assert_eq!(
        IdempotencyRejection::InFlight {
            retry_after: RetryAfter::from_secs(3)
        },
        rejection
    );
}

#[test]
fn idem_13_5xx_is_not_stored_and_a_retry_is_fresh() {
    for status in [500, 502, 503, 599] {
        let store = InMemoryIdempotencyStore::default();
        let s = scope("k1");
        let f = fp("{}");
        store.begin(&s, &f, T0).unwrap();
        assert_eq!(
            store
                .complete(&s, owner(&store, &s), response(status), T0)
                .unwrap(),
            Completion::Release
        );
        assert!(store.is_empty());
        assert!(matches!(
            store.begin(&s, &f, T0).unwrap(),
            IdempotencyOutcome::Proceed(_)
        ));
        // Even with a different body: the key is free again.
        store.release(&s, owner(&store, &s)).unwrap();
        assert!(matches!(
            store.begin(&s, &fp("[1]"), T0).unwrap(),
            IdempotencyOutcome::Proceed(_)
        ));
    }
}

#[test]
fn idem_08_4xx_responses_are_stored_and_replayed() {
    let store = InMemoryIdempotencyStore::default();
    let s = scope("k1");
    let f = fp("{}");
    store.begin(&s, &f, T0).unwrap();
    store
        .complete(&s, owner(&store, &s), response(400), T0)
        .unwrap();
    assert_eq!(
        store.begin(&s, &f, T0).unwrap(),
        IdempotencyOutcome::Replay(response(400))
    );
}

#[test]
fn idem_14_retention_is_at_least_24h_and_a_reused_key_after_expiry_is_new() {
    assert_eq!(
        IdempotencyPolicy::new(Duration::hours(24) - Duration::seconds(1)),
        Err(PolicyError::RetentionTooShort)
    );
    assert_eq!(
        IdempotencyPolicy::default().retention(),
        Duration::hours(24)
    );
    let store = InMemoryIdempotencyStore::default();
    let s = scope("k1");
    let f = fp("{}");
    store.begin(&s, &f, T0).unwrap();
    let done = T0 + Duration::seconds(10);
    store
        .complete(&s, owner(&store, &s), response(201), done)
        .unwrap();
    let just_before = done + Duration::hours(24) - Duration::nanoseconds(1);
    assert!(matches!(
        store.begin(&s, &f, just_before).unwrap(),
        IdempotencyOutcome::Replay(_)
    ));
    assert_eq!(
        store
            .begin(&s, &fp(r#"{"different":true}"#), just_before)
            .unwrap(),
        IdempotencyOutcome::Conflict
    );
    let expiry = done + Duration::hours(24);
    assert!(
        matches!(
            store
                .begin(&s, &fp(r#"{"different":true}"#), expiry)
                .unwrap(),
            IdempotencyOutcome::Proceed(_)
        ),
        "after expiry a reused key is a new request, even with another body"
    );

    let long = InMemoryIdempotencyStore::new(IdempotencyPolicy::new(Duration::days(7)).unwrap());
    long.begin(&s, &f, T0).unwrap();
    long.complete(&s, owner(&long, &s), response(200), T0)
        .unwrap();
    assert!(matches!(
        long.begin(&s, &f, T0 + Duration::days(6)).unwrap(),
        IdempotencyOutcome::Replay(_)
    ));
}

#[test]
fn idem_abandoned_in_flight_reservation_expires_after_the_lease() {
    let policy = IdempotencyPolicy::default()
        .with_in_flight_lease(Duration::seconds(30))
        .unwrap();
    assert_eq!(
        IdempotencyPolicy::default().with_in_flight_lease(Duration::ZERO),
        Err(PolicyError::LeaseNotPositive)
    );
    let store = InMemoryIdempotencyStore::new(policy);
    let s = scope("k1");
    let f = fp("{}");
    store.begin(&s, &f, T0).unwrap();
    assert!(matches!(
        store.begin(&s, &f, T0 + Duration::seconds(29)).unwrap(),
        IdempotencyOutcome::InFlight { .. }
    ));
    assert!(matches!(
        store.begin(&s, &f, T0 + Duration::seconds(30)).unwrap(),
        IdempotencyOutcome::Proceed(_)
    ));
    assert_eq!(store.purge_stale(T0 + Duration::seconds(30)), 0);
    assert_eq!(store.purge_stale(T0 + Duration::seconds(60)), 1);
}

#[test]
fn idem_complete_requires_a_live_reservation() {
    let store = InMemoryIdempotencyStore::default();
    let s = scope("k1");
    assert_eq!(
        store.complete(&s, owner(&store, &s), response(200), T0),
        Err(CompleteError::NotInFlight)
    );
    store.begin(&s, &fp("{}"), T0).unwrap();
    store
        .complete(&s, owner(&store, &s), response(200), T0)
        .unwrap();
    assert_eq!(
        store.complete(&s, owner(&store, &s), response(201), T0),
        Err(CompleteError::NotInFlight),
        "a completed response is never overwritten"
    );
    let s2 = scope("k2");
    store.begin(&s2, &fp("{}"), T0).unwrap();
    store.release(&s2, owner(&store, &s2)).unwrap();
    assert_eq!(
        store.complete(&s2, owner(&store, &s2), response(200), T0),
        Err(CompleteError::NotInFlight)
    );
    // Release leaves completed records alone.
    assert_eq!(
        store.release(&s, owner(&store, &s)),
        Err(CompleteError::NotInFlight)
    );
    assert!(matches!(
        store.begin(&s, &fp("{}"), T0).unwrap(),
        IdempotencyOutcome::Replay(_)
    ));
}

/// Issue 12 item 3 (IDEM-10, IDEM-17): a worker whose lease ran out and was taken over by a
/// retry can neither complete nor release the key; the retry's reservation and response stay.
#[test]
fn idem_stale_lease_cannot_complete_or_release_a_taken_over_key() {
    let policy = IdempotencyPolicy::default()
        .with_in_flight_lease(Duration::seconds(30))
        .unwrap();
    let store = InMemoryIdempotencyStore::new(policy);
    let s = scope("fenced");
    let f = fp("{}");
    let IdempotencyOutcome::Proceed(first) = store.begin(&s, &f, T0).unwrap() else {
        panic!("first request proceeds");
    };
    let late = T0 + Duration::seconds(31);
    let IdempotencyOutcome::Proceed(retry) = store.begin(&s, &f, late).unwrap() else {
        panic!("the lease ran out: the retry takes the key over");
    };
    assert_ne!(first, retry);
    let taken_over = store.record(&s);
    assert_eq!(
        store.complete(&s, first, response(201), late),
        Err(CompleteError::LeaseLost)
    );
    assert_eq!(store.release(&s, first), Err(CompleteError::LeaseLost));
    assert_eq!(
        store.complete(&s, first, response(503), late),
        Err(CompleteError::LeaseLost),
        "a stale 5xx does not free the retry's key either"
    );
    assert_eq!(store.record(&s), taken_over, "nothing changed");
    store.complete(&s, retry, response(200), late).unwrap();
    assert_eq!(
        store.complete(&s, first, response(201), late),
        Err(CompleteError::NotInFlight)
    );
    assert_eq!(
        store.begin(&s, &f, late).unwrap(),
        IdempotencyOutcome::Replay(response(200))
    );
}

/// Issue 12 item 3, raced: the stale worker and the retry finish at the same moment on two
/// threads; only the retry's response is ever stored, in every round.
#[test]
fn idem_stale_and_current_owner_racing_complete_only_the_owner_wins() {
    const ROUNDS: usize = 500;
    let policy = IdempotencyPolicy::default()
        .with_in_flight_lease(Duration::seconds(30))
        .unwrap();
    let store = InMemoryIdempotencyStore::new(policy);
    let f = fp("{}");
    let late = T0 + Duration::seconds(31);
    let barrier = Barrier::new(2);
    let rounds: Vec<(IdempotencyScope, LeaseToken, LeaseToken)> = (0..ROUNDS)
        .map(|round| {
            let s = scope(&format!("race-{round}"));
            let IdempotencyOutcome::Proceed(first) = store.begin(&s, &f, T0).unwrap() else {
                panic!("proceeds");
            };
            let IdempotencyOutcome::Proceed(retry) = store.begin(&s, &f, late).unwrap() else {
                panic!("taken over");
            };
            (s, first, retry)
        })
        .collect();
    std::thread::scope(|t| {
        let stale = t.spawn(|| {
            rounds
                .iter()
                .map(|(s, first, _)| {
                    barrier.wait();
                    let status = if s.key().as_str().ends_with('0') {
                        503
                    } else {
                        201
                    };
                    store.complete(s, *first, response(status), late)
                })
                .collect::<Vec<_>>()
        });
        let owner = t.spawn(|| {
            rounds
                .iter()
                .map(|(s, _, retry)| {
                    barrier.wait();
                    store.complete(s, *retry, response(200), late)
                })
                .collect::<Vec<_>>()
        });
        let (stale, owner) = (stale.join().unwrap(), owner.join().unwrap());
        for ((s, _, _), (stale, owner)) in rounds.iter().zip(stale.iter().zip(&owner)) {
            assert!(matches!(owner, Ok(Completion::Store(_))), "{owner:?}");
            assert!(
                matches!(
                    stale,
                    Err(CompleteError::LeaseLost | CompleteError::NotInFlight)
                ),
                "{stale:?}"
            );
            assert_eq!(
                store.begin(s, &f, late).unwrap(),
                IdempotencyOutcome::Replay(response(200))
            );
        }
    });
}

/// Issue 12 item 13 (IDEM-14): the store purges records past retention on its own as keys
/// are reserved, so memory stays bounded without a timer.
#[test]
fn idem_14_in_memory_store_purges_expired_records_on_writes() {
    let store = InMemoryIdempotencyStore::default();
    let f = fp("{}");
    let mut at = T0;
    for day in 0..5 {
        for i in 0..3_000 {
            let s = scope(&format!("d{day}-{i}"));
            let IdempotencyOutcome::Proceed(lease) = store.begin(&s, &f, at).unwrap() else {
                panic!("new key");
            };
            store.complete(&s, lease, response(201), at).unwrap();
        }
        // Live records are never purged.
        assert!(store.len() >= 3_000);
        assert!(
            store.len() <= 2 * 3_000 + 1,
            "day {day}: {} records held",
            store.len()
        );
        at += Duration::hours(25);
    }
    let live = scope("d4-0");
    assert!(matches!(
        store.begin(&live, &f, at - Duration::hours(25)).unwrap(),
        IdempotencyOutcome::Replay(_)
    ));
}

#[test]
fn idem_03_scope_is_identity_plus_path_plus_key() {
    let store = InMemoryIdempotencyStore::default();
    let f = fp("{}");
    let base = IdempotencyScope::new("acct_1", "/checkout_sessions", key("k"));
    let others = [
        IdempotencyScope::new("acct_2", "/checkout_sessions", key("k")),
        IdempotencyScope::new("acct_1", "/carts", key("k")),
        IdempotencyScope::new("acct_1", "/checkout_sessions", key("K")),
    ];
    assert!(matches!(
        store.begin(&base, &f, T0).unwrap(),
        IdempotencyOutcome::Proceed(_)
    ));
    for other in &others {
        assert!(matches!(
            store.begin(other, &fp("[]"), T0).unwrap(),
            IdempotencyOutcome::Proceed(_)
        ));
    }
    assert_eq!(store.len(), 4);
}

#[test]
fn idem_pure_functions_and_records() {
    let policy = IdempotencyPolicy::default();
    let f = fp("{}");
    let d = idempotency::begin(None, &f, LeaseToken::new(7), T0, &policy);
    assert_eq!(d.outcome, IdempotencyOutcome::Proceed(LeaseToken::new(7)));
    let record = d.write.unwrap();
    assert_eq!(record.fingerprint(), &f);
    assert_eq!(record.expires_at(), T0 + Duration::hours(24));
    assert!(
        matches!(record.state(), RecordState::InFlight { lease_expires_at, lease } if *lease_expires_at == T0 + Duration::minutes(5) && *lease == LeaseToken::new(7))
    );
    let again = idempotency::begin(Some(&record), &f, LeaseToken::new(8), T0, &policy);
    assert!(again.write.is_none());
    let Completion::Store(done) = idempotency::complete(
        Some(&record),
        LeaseToken::new(7),
        response(200),
        T0,
        &policy,
    )
    .unwrap() else {
        panic!("expected store");
    };
    assert!(matches!(done.state(), RecordState::Completed { response: r } if r.status == 200));
    // A record loaded from elsewhere.
    let loaded = IdempotencyRecord::new(f, done.state().clone(), done.expires_at());
    assert_eq!(loaded, done);
    // Far-future times saturate instead of panicking.
    let far = datetime!(9999-12-31 23:59 UTC);
    let d = idempotency::begin(None, &f, LeaseToken::new(7), far, &policy);
    assert!(d.write.unwrap().expires_at() >= far);
}

#[test]
fn idem_store_is_object_safe_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<InMemoryIdempotencyStore>();
    let store = InMemoryIdempotencyStore::default();
    let dynamic: &dyn IdempotencyStore<Error = CompleteError> = &store;
    assert!(matches!(
        dynamic.begin(&scope("k"), &fp("{}"), T0).unwrap(),
        IdempotencyOutcome::Proceed(_)
    ));
}

// ---------------------------------------------------------------------------------------------
// Concurrency: exactly one execution per key
// ---------------------------------------------------------------------------------------------

#[test]
fn idem_concurrent_racers_execute_exactly_once() {
    const THREADS: usize = 16;
    const ROUNDS: usize = 300;
    let store = InMemoryIdempotencyStore::default();
    let barrier = Barrier::new(THREADS);
    let executions: Vec<AtomicUsize> = (0..ROUNDS).map(|_| AtomicUsize::new(0)).collect();
    let outcomes = Mutex::new(BTreeMap::<&'static str, usize>::new());
    let f = fp(r#"{"line_items":[{"id":"item_1"}]}"#);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for (round, executed) in executions.iter().enumerate() {
                    let sc = scope(&format!("round-{round}"));
                    barrier.wait();
                    let outcome = store.begin(&sc, &f, T0).unwrap();
                    let name = match outcome {
                        IdempotencyOutcome::Proceed(lease) => {
                            executed.fetch_add(1, Ordering::SeqCst);
                            store.complete(&sc, lease, response(201), T0).unwrap();
                            "proceed"
                        }
                        IdempotencyOutcome::InFlight { .. } => "in_flight",
                        IdempotencyOutcome::Replay(r) => {
                            assert_eq!(r, response(201));
                            "replay"
                        }
                        other => panic!("unexpected {other:?}"),
                    };
                    *outcomes.lock().unwrap().entry(name).or_default() += 1;
                }
            });
        }
    });
    for (round, executed) in executions.iter().enumerate() {
        assert_eq!(executed.load(Ordering::SeqCst), 1, "round {round}");
    }
    let outcomes = outcomes.into_inner().unwrap();
    assert_eq!(outcomes["proceed"], ROUNDS);
    assert_eq!(outcomes.values().sum::<usize>(), ROUNDS * THREADS);
    // Afterwards every key replays.
    for round in 0..ROUNDS {
        let sc = scope(&format!("round-{round}"));
        assert!(matches!(
            store.begin(&sc, &f, T0).unwrap(),
            IdempotencyOutcome::Replay(_)
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------------

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1_000_000_i64..1_000_000).prop_map(Value::from),
        "[a-z\u{e9}\u{1f600}]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z]{1,4}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Writes `v` as JSON text with object members in reverse order, whitespace everywhere and
/// integers written as `n.0`.
fn write_shuffled(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            out.push_str("{ ");
            let members: Vec<_> = m.iter().rev().collect();
            for (i, (k, val)) in members.iter().enumerate() {
                if i > 0 {
                    out.push_str(" ,\n ");
                }
                out.push_str(&serde_json::to_string(k).unwrap());
                out.push_str(" :\t");
                write_shuffled(val, out);
            }
            out.push_str(" }");
        }
        Value::Array(a) => {
            out.push_str("[ ");
            for (i, val) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(" , ");
                }
                write_shuffled(val, out);
            }
            out.push_str(" ]");
        }
        Value::Number(n) => {
            let _ = write!(out, "{n}.0");
        }
        other => out.push_str(&serde_json::to_string(other).unwrap()),
    }
}

proptest! {
    #[test]
    fn idem_05_fingerprint_invariant_under_key_order_whitespace_and_number_spelling(v in arb_json()) {
        let compact = serde_json::to_string(&v).unwrap();
        let mut shuffled = String::new();
        write_shuffled(&v, &mut shuffled);
        prop_assert_eq!(fp(&compact), fp(&shuffled));
        prop_assert_eq!(fp(&compact), Fingerprint::of_value(&v).unwrap());
    }

    #[test]
    fn idem_05_fingerprint_changes_when_a_value_changes_or_null_replaces_absent(
        m in proptest::collection::btree_map("[a-z]{1,4}", arb_json(), 1..6),
        new_key in "[A-Z]{1,3}",
        pick in any::<prop::sample::Index>(),
    ) {
        let obj: serde_json::Map<String, Value> = m.clone().into_iter().collect();
        let base = Value::Object(obj.clone());
        // null vs absent
        let mut with_null = obj.clone();
        with_null.insert(new_key, Value::Null);
        prop_assert_ne!(Fingerprint::of_value(&base).unwrap(), Fingerprint::of_value(&Value::Object(with_null)).unwrap());
        // change one value
        let (k, old) = m.iter().nth(pick.index(m.len())).unwrap();
        let mut changed = obj;
        let replacement = if *old == json!("changed") { json!("changed!") } else { json!("changed") };
        changed.insert(k.clone(), replacement);
        prop_assert_ne!(Fingerprint::of_value(&base).unwrap(), Fingerprint::of_value(&Value::Object(changed)).unwrap());
    }
}

/// One step of the state-machine test.
#[derive(Debug, Clone)]
enum Op {
    Begin {
        key: usize,
        body: usize,
    },
    /// `stale`: with the token of the key's previous reservation instead of the current one.
    Complete {
        key: usize,
        status: u16,
        stale: bool,
    },
    Release {
        key: usize,
        stale: bool,
    },
    Advance {
        seconds: i64,
    },
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3_usize, 0..2_usize).prop_map(|(key, body)| Op::Begin { key, body }),
        3 => (0..3_usize, prop::sample::select(vec![200_u16, 201, 404, 422, 500, 503]), any::<bool>())
            .prop_map(|(key, status, stale)| Op::Complete { key, status, stale }),
        1 => (0..3_usize, any::<bool>()).prop_map(|(key, stale)| Op::Release { key, stale }),
        2 => prop::sample::select(vec![1_i64, 29, 30, 3_600, 86_399, 86_400, 90_000])
            .prop_map(|seconds| Op::Advance { seconds }),
    ]
}

/// What the model predicts for a `begin`.
#[derive(Debug, PartialEq, Eq)]
enum Expect {
    Proceed,
    Replay(u16),
    Conflict,
    InFlight,
}

/// The reference model: per key, the body, the completed status (if any), the time of the
/// last write and of the reservation. Seconds since the start.
#[derive(Debug, Clone)]
struct ModelEntry {
    body: usize,
    status: Option<u16>,
    written_at: i64,
    reserved_at: i64,
    /// The token of the reservation.
    lease: LeaseToken,
}

const LEASE: i64 = 30;
const RETENTION: i64 = 86_400;

fn model_live(e: &ModelEntry, now: i64) -> bool {
    now - e.written_at < RETENTION && (e.status.is_some() || now - e.reserved_at < LEASE)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn idem_state_machine_matches_a_simple_model(ops in proptest::collection::vec(arb_op(), 1..60)) {
        let policy = IdempotencyPolicy::default()
            .with_in_flight_lease(Duration::seconds(LEASE))
            .unwrap();
        let store = InMemoryIdempotencyStore::new(policy);
        let bodies = [fp(r#"{"a":1}"#), fp(r#"{"a":null}"#)];
        let mut model: BTreeMap<usize, ModelEntry> = BTreeMap::new();
        // Every token issued per key, oldest first (fencing: only the current one may finish).
        let mut issued: BTreeMap<usize, Vec<LeaseToken>> = BTreeMap::new();
        let token = |issued: &BTreeMap<usize, Vec<LeaseToken>>, key: usize, stale: bool| {
            let list = issued.get(&key).map(Vec::as_slice).unwrap_or_default();
            let pick = if stale { list.len().checked_sub(2) } else { list.len().checked_sub(1) };
            pick.map_or(LeaseToken::new(u64::MAX), |i| list[i])
        };
        let mut now = 0_i64;
        for op in ops {
            let at = T0 + Duration::seconds(now);
            match op {
                Op::Begin { key, body } => {
                    let outcome = store.begin(&scope(&key.to_string()), &bodies[body], at).unwrap();
                    if let IdempotencyOutcome::Proceed(lease) = outcome {
                        prop_assert!(issued.values().flatten().all(|t| *t != lease), "token reused");
                        issued.entry(key).or_default().push(lease);
                    }
                    let got = match outcome {
                        IdempotencyOutcome::Proceed(_) => Expect::Proceed,
                        IdempotencyOutcome::Replay(r) => Expect::Replay(r.status),
                        IdempotencyOutcome::Conflict => Expect::Conflict,
                        IdempotencyOutcome::InFlight { .. } => Expect::InFlight,
                        other => panic!("unexpected {other:?}"),
                    };
                    let expected = match model.get(&key).filter(|e| model_live(e, now)) {
                        None => {
                            let lease = token(&issued, key, false);
                            model.insert(key, ModelEntry { body, status: None, written_at: now, reserved_at: now, lease });
                            Expect::Proceed
                        }
                        Some(e) if e.body != body => Expect::Conflict,
                        Some(ModelEntry { status: Some(s), .. }) => Expect::Replay(*s),
                        Some(_) => Expect::InFlight,
                    };
                    prop_assert_eq!(got, expected);
                }
                Op::Complete { key, status, stale } => {
                    let lease = token(&issued, key, stale);
                    let before = store.record(&scope(&key.to_string()));
                    let got = store.complete(&scope(&key.to_string()), lease, response(status), at);
                    let reserved = model
                        .get(&key)
                        .is_some_and(|e| e.status.is_none() && now - e.written_at < RETENTION && e.lease == lease);
                    prop_assert_eq!(got.is_ok(), reserved);
                    if !reserved {
                        prop_assert_eq!(store.record(&scope(&key.to_string())), before, "a refused complete changed the record");
                    }
                    if reserved {
                        if status >= 500 {
                            model.remove(&key);
                        } else if let Some(e) = model.get_mut(&key) {
                            e.status = Some(status);
                            e.written_at = now;
                        }
                    }
                }
                Op::Release { key, stale } => {
                    let lease = token(&issued, key, stale);
                    let before = store.record(&scope(&key.to_string()));
                    let got = store.release(&scope(&key.to_string()), lease);
                    let owned = model.get(&key).is_some_and(|e| e.status.is_none() && e.lease == lease);
                    prop_assert_eq!(got.is_ok(), owned);
                    if owned {
                        model.remove(&key);
                    } else {
                        prop_assert_eq!(store.record(&scope(&key.to_string())), before, "a refused release changed the record");
                    }
                }
                Op::Advance { seconds } => now += seconds,
            }
        }
    }
}

/// IDEM-05, IDEM-06 with I-JSON (RFC 7493): `9007199254740993` and `9007199254740992` have the
/// same RFC 8785 form, so they would share a fingerprint (a replay of another amount). The
/// first is refused with a typed error by every fingerprint constructor; exactly 2^53 is
/// accepted (it is written as itself, and no other accepted body shares its form).
#[test]
fn idem_05_fingerprints_refuse_numbers_that_change_value_in_canonical_form() {
    use agentic_commerce::trust::canonical::CanonicalJsonError;
    let exact = br#"{"amount":9007199254740992}"#;
    let above = br#"{"amount":9007199254740993}"#;
    let inexact = CanonicalJsonError::InexactNumber {
        path: "$.amount".to_owned(),
    };
    assert_eq!(Fingerprint::of_json(above).unwrap_err(), inexact);
    assert_eq!(Fingerprint::of_body(above).unwrap_err(), inexact);
    let value: Value = serde_json::from_slice(above).unwrap();
    assert_eq!(Fingerprint::of_value(&value).unwrap_err(), inexact);
    let ok = Fingerprint::of_json(exact).unwrap();
    assert_eq!(Fingerprint::of_body(exact).unwrap(), ok);
    let value: Value = serde_json::from_slice(exact).unwrap();
    assert_eq!(Fingerprint::of_value(&value).unwrap(), ok);
    // Decimals that keep their value still compare semantically (IDEM-05: 1.0 = 1).
    assert_eq!(
        Fingerprint::of_json(br#"{"a":1.0,"b":0.1}"#).unwrap(),
        Fingerprint::of_json(br#"{"b":0.1,"a":1}"#).unwrap()
    );
    assert!(Fingerprint::of_json(br#"{"a":1e-400}"#).is_err());
}

mod boundaries;
