//! The in-memory engine store: fencing, guards, bounds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use agentic_commerce::engine::store::{
    AsyncIdempotencyStore, AsyncTokenLedger, Commit, CommitOutcome, InMemoryStore,
    InMemoryTokenLedger, ResourceKind, ResourceStore, Write,
};
use agentic_commerce::protocol::headers::IdempotencyKey;
use agentic_commerce::trust::allowance::LedgerError;
use agentic_commerce::trust::idempotency::{
    Fingerprint, IdempotencyOutcome, IdempotencyPolicy, IdempotencyScope, StoredResponse,
};
use serde_json::json;
use time::OffsetDateTime;

fn scope(key: &str) -> IdempotencyScope {
    IdempotencyScope::new(
        "agent",
        "/checkout_sessions",
        IdempotencyKey::parse(key).unwrap(),
    )
}

fn write(id: &str, expected: Option<u64>) -> Write {
    Write {
        kind: ResourceKind::CheckoutSession,
        id: id.to_owned(),
        document: json!({"id": id}).to_string(),
        expected_version: expected,
    }
}

#[tokio::test]
async fn idem_17_commit_is_fenced_guarded_and_atomic() {
    let store = InMemoryStore::default();
    let now = OffsetDateTime::now_utc();
    let fingerprint = Fingerprint::of_body(b"{}").unwrap();
    let IdempotencyOutcome::Proceed(lease) =
        store.begin(&scope("k1"), &fingerprint, now).await.unwrap()
    else {
        panic!("a new key proceeds");
    };
    let response = Some(StoredResponse::new(201, b"{}".to_vec(), Vec::new()));
    // A guard that does not hold: nothing happens, the key stays reserved.
    let conflict = Commit::new(
        scope("k1"),
        lease,
        response.clone(),
        vec![write("cs_1", Some(3))],
    );
    assert_eq!(
        store.commit(conflict, now).await.unwrap(),
        CommitOutcome::Conflict
    );
    assert_eq!(store.documents(), 0);
    // A stale lease (another token) writes nothing.
    let stale = agentic_commerce::trust::idempotency::LeaseToken::new(lease.get() + 1000);
    let fenced = Commit::new(
        scope("k1"),
        stale,
        response.clone(),
        vec![write("cs_1", None)],
    );
    assert_eq!(
        store.commit(fenced, now).await.unwrap(),
        CommitOutcome::LeaseLost
    );
    assert_eq!(store.documents(), 0);
    // A claim (no response) writes and keeps the reservation.
    let claim = Commit::new(scope("k1"), lease, None, vec![write("cs_1", None)]);
    assert_eq!(
        store.commit(claim, now).await.unwrap(),
        CommitOutcome::Committed
    );
    assert!(matches!(
        store.begin(&scope("k1"), &fingerprint, now).await.unwrap(),
        IdempotencyOutcome::InFlight { .. }
    ));
    let done = Commit::new(scope("k1"), lease, response, vec![write("cs_1", Some(1))]);
    assert_eq!(
        store.commit(done, now).await.unwrap(),
        CommitOutcome::Committed
    );
    assert_eq!(
        store
            .get(ResourceKind::CheckoutSession, "cs_1")
            .unwrap()
            .version,
        2
    );
    assert!(matches!(
        store.begin(&scope("k1"), &fingerprint, now).await.unwrap(),
        IdempotencyOutcome::Replay(_)
    ));
}

#[tokio::test]
async fn the_in_memory_store_is_bounded() {
    let store = InMemoryStore::with_max_entries(IdempotencyPolicy::default(), 2);
    let now = OffsetDateTime::now_utc();
    let fingerprint = Fingerprint::of_body(b"{}").unwrap();
    for key in ["a", "b"] {
        assert!(matches!(
            store.begin(&scope(key), &fingerprint, now).await.unwrap(),
            IdempotencyOutcome::Proceed(_)
        ));
    }
    assert!(
        store.begin(&scope("c"), &fingerprint, now).await.is_err(),
        "full, nothing expired"
    );
    let ledger = InMemoryTokenLedger::new(1);
    assert_eq!(ledger.consume("t1", now).await, Ok(()));
    assert_eq!(
        ledger.consume("t1", now).await,
        Err(LedgerError::AlreadyUsed)
    );
    assert_eq!(
        ledger.consume("t2", now).await,
        Err(LedgerError::Unavailable),
        "full: refused, never forgotten"
    );
}
