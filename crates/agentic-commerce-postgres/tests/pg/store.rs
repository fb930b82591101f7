//! `PgStore` against a real PostgreSQL server (`DATABASE_URL`; skipped with a message when it
//! is unset, failing when `CI=true`), and the same behavioural checks against the core's
//! `InMemoryStore`, so both implementations are shown to agree.
//!
//! Every test works in its own PostgreSQL schema (`acp_t_<test>_<pid>`), so tests run in
//! parallel and purges do not touch each other's rows. Two `PgStore`s (two pools) stand for
//! two server processes.

// Helpers outside #[test] functions panic on failure too; the behaviour check is one story.
#![allow(clippy::expect_used, clippy::too_many_lines)]

use super::common::database_url;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use agentic_commerce::engine::store::{
    AsyncIdempotencyStore, AsyncTokenLedger, Commit, CommitOutcome, InMemoryStore,
    InMemoryTokenLedger, ResourceKind, ResourceStore, StoreError, Write,
};
use agentic_commerce::protocol::headers::IdempotencyKey;
use agentic_commerce::trust::allowance::LedgerError;
use agentic_commerce::trust::idempotency::{
    CompleteError, Completion, Fingerprint, IdempotencyOutcome, IdempotencyPolicy,
    IdempotencyScope, LeaseToken, StoredResponse,
};
use agentic_commerce_postgres::{PgConfig, PgError, PgStore, SCHEMA_VERSION};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use tokio::sync::Barrier;
use tokio_postgres::NoTls;

/// Rounds of the concurrency tests (each round: a fresh scope, document or token contended
/// by [`CONTENDERS`] tasks, half on each store).
const ROUNDS: usize = 40;
const CONTENDERS: usize = 8;
/// Stores migrating one fresh schema at once, and how many schemas.
const STORES: usize = 6;
const MIGRATION_ROUNDS: usize = 5;

// ---------------------------------------------------------------------------------------------
// Set-up
// ---------------------------------------------------------------------------------------------

/// A schema name for `test`, unique to this process, dropped first if left over.
async fn fresh_schema(url: &str, test: &str) -> String {
    let schema = format!("acp_t_{test}_{}", std::process::id());
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.expect("connect");
    tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await
        .expect("drop schema");
    schema
}

async fn drop_schema(url: &str, schema: &str) {
    if let Ok((client, connection)) = tokio_postgres::connect(url, NoTls).await {
        tokio::spawn(connection);
        let _ = client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .await;
    }
}

fn config(schema: &str) -> PgConfig {
    PgConfig::default()
        .with_schema(schema)
        .expect("schema name")
        .with_max_connections(6)
}

async fn store(url: &str, schema: &str) -> PgStore {
    PgStore::connect(url, config(schema))
        .await
        .expect("PgStore::connect")
}

fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_776_420_000).expect("2026-04-17")
}

fn scope(tag: &str, n: usize) -> IdempotencyScope {
    IdempotencyScope::new(
        "merchant_42",
        "/checkout_sessions",
        IdempotencyKey::parse(&format!("key-{tag}-{n}")).expect("key"),
    )
}

fn fp(body: &str) -> Fingerprint {
    Fingerprint::of_json(body.as_bytes()).expect("json")
}

fn response(status: u16, body: &str) -> StoredResponse {
    StoredResponse::new(
        status,
        body.as_bytes().to_vec(),
        vec![("Content-Type".to_owned(), "application/json".to_owned())],
    )
}

#[allow(clippy::needless_pass_by_value)] // callers build the document inline
fn create(id: &str, doc: serde_json::Value) -> Write {
    Write {
        kind: ResourceKind::CheckoutSession,
        id: id.to_owned(),
        document: doc.to_string(),
        expected_version: None,
    }
}

fn update(id: &str, doc: serde_json::Value, version: u64) -> Write {
    Write {
        expected_version: Some(version),
        ..create(id, doc)
    }
}

fn commit(scope: &IdempotencyScope, lease: LeaseToken, writes: Vec<Write>) -> Commit {
    Commit::new(
        scope.clone(),
        lease,
        Some(response(200, r#"{"ok":true}"#)),
        writes,
    )
}

/// The lease error inside a store's error, for both implementations.
trait LeaseError {
    fn lease(&self) -> Option<&CompleteError>;
}

impl LeaseError for StoreError {
    fn lease(&self) -> Option<&CompleteError> {
        match self {
            StoreError::Lease(e) => Some(e),
            _ => None,
        }
    }
}

impl LeaseError for PgError {
    fn lease(&self) -> Option<&CompleteError> {
        self.lease_error()
    }
}

fn json_of(document: &str) -> serde_json::Value {
    serde_json::from_str(document).expect("stored JSON")
}

fn proceed(outcome: IdempotencyOutcome) -> LeaseToken {
    match outcome {
        IdempotencyOutcome::Proceed(lease) => lease,
        other => panic!("expected Proceed, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The behavioural checks, generic over the store
// ---------------------------------------------------------------------------------------------

/// Every single-process behaviour of the [`ResourceStore`] contract; `tag` keeps keys and
/// document ids apart when one store runs it more than once.
async fn behaviour<S>(store: &S, tag: &str)
where
    S: ResourceStore,
    S::Error: LeaseError + std::fmt::Debug,
{
    let policy = IdempotencyPolicy::default();
    let t0 = t0();
    let body = fp(r#"{"currency":"usd"}"#);
    let other = fp(r#"{"currency":"eur"}"#);

    // begin / in flight / conflict / complete / replay.
    let s = scope(tag, 1);
    let lease = proceed(store.begin(&s, &body, t0).await.expect("begin"));
    assert!(matches!(
        store.begin(&s, &body, t0).await.expect("begin"),
        IdempotencyOutcome::InFlight { .. }
    ));
    assert_eq!(
        store.begin(&s, &other, t0).await.expect("begin"),
        IdempotencyOutcome::Conflict
    );
    let stored = response(201, r#"{"id":"cs_1"}"#);
    assert!(matches!(
        store
            .complete(&s, lease, stored.clone(), t0)
            .await
            .expect("complete"),
        Completion::Store(_)
    ));
    let later = t0 + Duration::hours(1);
    assert_eq!(
        store.begin(&s, &body, later).await.expect("begin"),
        IdempotencyOutcome::Replay(stored.clone())
    );
    assert_eq!(
        store.begin(&s, &other, later).await.expect("begin"),
        IdempotencyOutcome::Conflict
    );
    let again = store.complete(&s, lease, stored.clone(), later).await;
    assert_eq!(
        again.expect_err("completed twice").lease(),
        Some(&CompleteError::NotInFlight)
    );
    // After retention the key is new again (IDEM-14).
    let after_retention = t0 + policy.retention() + Duration::hours(2);
    proceed(
        store
            .begin(&s, &other, after_retention)
            .await
            .expect("begin"),
    );

    // A 5xx releases the key: a retry runs fresh (IDEM-13).
    let s = scope(tag, 2);
    let lease = proceed(store.begin(&s, &body, t0).await.expect("begin"));
    assert_eq!(
        store
            .complete(&s, lease, response(503, "{}"), t0)
            .await
            .expect("complete"),
        Completion::Release
    );
    let retry = proceed(store.begin(&s, &body, t0).await.expect("begin"));
    assert_ne!(retry, lease, "a fresh lease for the retry");

    // Release by the owner; a second release is refused.
    let s = scope(tag, 3);
    let lease = proceed(store.begin(&s, &body, t0).await.expect("begin"));
    store.release(&s, lease).await.expect("release");
    let twice = store.release(&s, lease).await;
    assert_eq!(
        twice.expect_err("released twice").lease(),
        Some(&CompleteError::NotInFlight)
    );
    proceed(store.begin(&s, &body, t0).await.expect("begin"));

    // Stale-lease fencing: a lease taken over cannot commit, complete or release.
    let s = scope(tag, 4);
    let doc_a = format!("cs_{tag}_a");
    let old = proceed(store.begin(&s, &body, t0).await.expect("begin"));
    let after_lease = t0 + policy.in_flight_lease() + Duration::seconds(1);
    let new = proceed(store.begin(&s, &body, after_lease).await.expect("takeover"));
    assert_ne!(old, new);
    assert_eq!(
        store
            .commit(
                commit(&s, old, vec![create(&doc_a, json!({"by":"old"}))]),
                after_lease
            )
            .await
            .expect("commit"),
        CommitOutcome::LeaseLost
    );
    assert_eq!(
        store
            .load(ResourceKind::CheckoutSession, &doc_a)
            .await
            .expect("load"),
        None,
        "a lost lease writes nothing"
    );
    let late = store
        .complete(&s, old, response(200, "{}"), after_lease)
        .await;
    assert_eq!(
        late.expect_err("late complete").lease(),
        Some(&CompleteError::LeaseLost)
    );
    let late = store.release(&s, old).await;
    assert_eq!(
        late.expect_err("late release").lease(),
        Some(&CompleteError::LeaseLost)
    );
    assert!(
        matches!(
            store.begin(&s, &body, after_lease).await.expect("begin"),
            IdempotencyOutcome::InFlight { .. }
        ),
        "the new owner's reservation is untouched"
    );
    assert_eq!(
        store
            .commit(
                commit(&s, new, vec![create(&doc_a, json!({"by":"new"}))]),
                after_lease
            )
            .await
            .expect("commit"),
        CommitOutcome::Committed
    );
    let a = store
        .load(ResourceKind::CheckoutSession, &doc_a)
        .await
        .expect("load")
        .expect("written");
    assert_eq!((json_of(&a.document), a.version), (json!({"by":"new"}), 1));
    assert!(matches!(
        store.begin(&s, &body, after_lease).await.expect("begin"),
        IdempotencyOutcome::Replay(_)
    ));

    // A lease that ran out but was not taken over still commits (retention not over).
    let s = scope(tag, 5);
    let lease = proceed(store.begin(&s, &body, t0).await.expect("begin"));
    assert_eq!(
        store
            .commit(commit(&s, lease, vec![]), after_lease)
            .await
            .expect("commit"),
        CommitOutcome::Committed
    );

    // Version guards: a failed guard writes nothing (not even the other writes) and keeps
    // the reservation.
    let doc_b = format!("cs_{tag}_b");
    let doc_c = format!("cs_{tag}_c");
    let s = scope(tag, 6);
    let lease = proceed(store.begin(&s, &body, t0).await.expect("begin"));
    assert_eq!(
        store
            .commit(commit(&s, lease, vec![create(&doc_b, json!({"v":1}))]), t0)
            .await
            .expect("commit"),
        CommitOutcome::Committed
    );
    let s = scope(tag, 7);
    let lease = proceed(store.begin(&s, &body, t0).await.expect("begin"));
    for writes in [
        vec![update(&doc_b, json!({"v":2}), 2)],
        vec![
            create(&doc_c, json!({"c":1})),
            update(&doc_b, json!({"v":2}), 7),
        ],
        vec![create(&doc_b, json!({"dup":true}))],
        vec![update(&doc_c, json!({"c":2}), 1)],
    ] {
        assert_eq!(
            store
                .commit(commit(&s, lease, writes), t0)
                .await
                .expect("commit"),
            CommitOutcome::Conflict
        );
    }
    let b = store
        .load(ResourceKind::CheckoutSession, &doc_b)
        .await
        .expect("load")
        .expect("b");
    assert_eq!(
        (json_of(&b.document), b.version),
        (json!({"v":1}), 1),
        "b unchanged"
    );
    assert_eq!(
        store
            .load(ResourceKind::CheckoutSession, &doc_c)
            .await
            .expect("load"),
        None,
        "c not created"
    );
    assert!(
        matches!(
            store.begin(&s, &body, t0).await.expect("begin"),
            IdempotencyOutcome::InFlight { .. }
        ),
        "the reservation is kept after a conflict"
    );
    assert_eq!(
        store
            .commit(
                commit(
                    &s,
                    lease,
                    vec![
                        update(&doc_b, json!({"v":2}), 1),
                        create(&doc_c, json!({"c":1}))
                    ]
                ),
                t0
            )
            .await
            .expect("commit"),
        CommitOutcome::Committed
    );
    let b = store
        .load(ResourceKind::CheckoutSession, &doc_b)
        .await
        .expect("load")
        .expect("b");
    assert_eq!((json_of(&b.document), b.version), (json!({"v":2}), 2));
    assert_eq!(
        store.load(ResourceKind::Cart, &doc_b).await.expect("load"),
        None,
        "the kind is part of the key"
    );

    // A commit with a 5xx response applies its writes and releases the reservation (the
    // core's `complete` decides; the in-memory store does the same).
    let s = scope(tag, 8);
    let lease = proceed(store.begin(&s, &body, t0).await.expect("begin"));
    let doc_d = format!("cs_{tag}_d");
    let mut failing = commit(&s, lease, vec![create(&doc_d, json!({"d":1}))]);
    failing.response = Some(response(500, "{}"));
    assert_eq!(
        store.commit(failing, t0).await.expect("commit"),
        CommitOutcome::Committed
    );
    assert!(
        store
            .load(ResourceKind::CheckoutSession, &doc_d)
            .await
            .expect("load")
            .is_some()
    );
    proceed(
        store
            .begin(&s, &body, t0)
            .await
            .expect("the key is free again"),
    );

    // No reservation at all: LeaseLost.
    let s = scope(tag, 9);
    assert_eq!(
        store
            .commit(commit(&s, LeaseToken::new(u64::MAX >> 2), vec![]), t0)
            .await
            .expect("commit"),
        CommitOutcome::LeaseLost
    );

    // A claim (a commit without a response) writes and keeps the reservation in flight; the
    // final commit then completes it.
    let s = scope(tag, 10);
    let doc_e = format!("{tag}_doc_e");
    let lease = proceed(store.begin(&s, &body, t0).await.expect("begin"));
    let mut claim = commit(
        &s,
        lease,
        vec![create(&doc_e, json!({"status": "claimed"}))],
    );
    claim.response = None;
    assert_eq!(
        store.commit(claim, t0).await.expect("claim"),
        CommitOutcome::Committed
    );
    assert!(matches!(
        store.begin(&s, &body, t0).await.expect("begin"),
        IdempotencyOutcome::InFlight { .. }
    ));
    let done = commit(
        &s,
        lease,
        vec![update(&doc_e, json!({"status": "done"}), 1)],
    );
    assert_eq!(
        store.commit(done, t0).await.expect("commit"),
        CommitOutcome::Committed
    );
    let stored = store
        .load(ResourceKind::CheckoutSession, &doc_e)
        .await
        .expect("load")
        .expect("stored");
    assert_eq!(
        (stored.version, json_of(&stored.document)["status"].clone()),
        (2, json!("done"))
    );
    assert!(matches!(
        store.begin(&s, &body, t0).await.expect("begin"),
        IdempotencyOutcome::Replay(_)
    ));
}

/// Single use of tokens.
async fn ledger_behaviour<L: AsyncTokenLedger>(ledger: &L, tag: &str) {
    let token = format!("vt_{tag}");
    ledger.consume(&token, t0()).await.expect("first use");
    assert_eq!(
        ledger.consume(&token, t0()).await,
        Err(LedgerError::AlreadyUsed)
    );
    ledger
        .consume(&format!("{token}_other"), t0())
        .await
        .expect("another token");
}

// ---------------------------------------------------------------------------------------------
// The in-memory store: same checks
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn in_memory_store_passes_the_same_checks() {
    behaviour(&InMemoryStore::default(), "mem").await;
    ledger_behaviour(&InMemoryTokenLedger::default(), "mem").await;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn pg_store_passes_the_same_checks() {
    let Some(url) = database_url("pg_store_passes_the_same_checks") else {
        return;
    };
    let schema = fresh_schema(&url, "behaviour").await;
    let store = store(&url, &schema).await;
    behaviour(&store, "pg").await;
    ledger_behaviour(&store, "pg").await;
    // A second store (another process) sees the same state: the reservation taken after
    // retention (26 h) is in flight.
    let other = self::store(&url, &schema).await;
    assert!(matches!(
        other
            .begin(
                &scope("pg", 1),
                &fp(r#"{"currency":"eur"}"#),
                t0() + Duration::hours(26) + Duration::minutes(1)
            )
            .await
            .expect("begin"),
        IdempotencyOutcome::InFlight { .. }
    ));
    assert_eq!(
        other.consume("vt_pg", t0()).await,
        Err(LedgerError::AlreadyUsed)
    );
    let status = store.pool_status();
    assert_eq!(status.max_connections, 6);
    assert_eq!(status.in_use, 0);
    assert!(status.idle >= 1 && status.idle <= 6, "{status:?}");
    drop_schema(&url, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_begins_from_two_stores_let_exactly_one_proceed() {
    let Some(url) = database_url("concurrent_begins_from_two_stores_let_exactly_one_proceed")
    else {
        return;
    };
    let schema = fresh_schema(&url, "begins").await;
    let stores = [store(&url, &schema).await, store(&url, &schema).await];
    let body = fp(r#"{"n":1}"#);
    let mut leases = std::collections::BTreeSet::new();
    for round in 0..ROUNDS {
        let s = scope("race", round);
        let barrier = Arc::new(Barrier::new(CONTENDERS));
        let tasks: Vec<_> = (0..CONTENDERS)
            .map(|i| {
                let (store, s, barrier) = (stores[i % 2].clone(), s.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    store.begin(&s, &body, t0()).await.expect("begin")
                })
            })
            .collect();
        let mut proceeded = 0;
        for task in tasks {
            match task.await.expect("task") {
                IdempotencyOutcome::Proceed(lease) => {
                    proceeded += 1;
                    assert!(leases.insert(lease), "lease {lease} issued twice");
                }
                IdempotencyOutcome::InFlight { .. } => {}
                other => panic!("round {round}: unexpected {other:?}"),
            }
        }
        assert_eq!(proceeded, 1, "round {round}: exactly one begin proceeds");
    }
    drop_schema(&url, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_commits_to_one_document_from_two_stores_commit_once() {
    let Some(url) = database_url("concurrent_commits_to_one_document_from_two_stores_commit_once")
    else {
        return;
    };
    let schema = fresh_schema(&url, "commits").await;
    let stores = [store(&url, &schema).await, store(&url, &schema).await];
    let body = fp(r#"{"n":1}"#);
    let id = "cs_contended";
    let lease = proceed(
        stores[0]
            .begin(&scope("setup", 0), &body, t0())
            .await
            .expect("begin"),
    );
    let setup = commit(
        &scope("setup", 0),
        lease,
        vec![create(id, json!({"round": -1}))],
    );
    assert_eq!(
        stores[0].commit(setup, t0()).await.expect("commit"),
        CommitOutcome::Committed
    );
    for round in 0..ROUNDS {
        let barrier = Arc::new(Barrier::new(CONTENDERS));
        let tasks: Vec<_> = (0..CONTENDERS)
            .map(|i| {
                let (store, barrier) = (stores[i % 2].clone(), barrier.clone());
                let s = scope(&format!("w{i}"), round);
                tokio::spawn(async move {
                    let lease = proceed(store.begin(&s, &body, t0()).await.expect("begin"));
                    let current = store
                        .load(ResourceKind::CheckoutSession, id)
                        .await
                        .expect("load")
                        .expect("document");
                    // Everyone has read the same version before anyone writes.
                    barrier.wait().await;
                    let doc = json!({"round": round, "writer": i});
                    let outcome = store
                        .commit(
                            commit(&s, lease, vec![update(id, doc, current.version)]),
                            t0(),
                        )
                        .await
                        .expect("commit");
                    if outcome == CommitOutcome::Conflict {
                        // The reservation is kept: the loser can still release it.
                        store
                            .release(&s, lease)
                            .await
                            .expect("release after conflict");
                    }
                    (outcome, current.version)
                })
            })
            .collect();
        let mut committed = 0;
        for task in tasks {
            let (outcome, read) = task.await.expect("task");
            assert_eq!(
                read,
                round as u64 + 1,
                "round {round}: all read one version"
            );
            match outcome {
                CommitOutcome::Committed => committed += 1,
                CommitOutcome::Conflict => {}
                other => panic!("round {round}: unexpected {other:?}"),
            }
        }
        assert_eq!(committed, 1, "round {round}: exactly one commit");
    }
    let last = stores[1]
        .load(ResourceKind::CheckoutSession, id)
        .await
        .expect("load")
        .expect("document");
    assert_eq!(last.version, ROUNDS as u64 + 1);
    assert_eq!(json_of(&last.document)["round"], json!(ROUNDS - 1));
    drop_schema(&url, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn token_ledger_is_single_use_across_two_stores() {
    let Some(url) = database_url("token_ledger_is_single_use_across_two_stores") else {
        return;
    };
    let schema = fresh_schema(&url, "ledger").await;
    let stores = [store(&url, &schema).await, store(&url, &schema).await];
    for round in 0..ROUNDS {
        let token = format!("vt_race_{round}");
        let barrier = Arc::new(Barrier::new(CONTENDERS));
        let tasks: Vec<_> = (0..CONTENDERS)
            .map(|i| {
                let (store, barrier, token) =
                    (stores[i % 2].clone(), barrier.clone(), token.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    store.consume(&token, t0()).await
                })
            })
            .collect();
        let mut won = 0;
        for task in tasks {
            match task.await.expect("task") {
                Ok(()) => won += 1,
                Err(LedgerError::AlreadyUsed) => {}
                Err(e) => panic!("round {round}: {e}"),
            }
        }
        assert_eq!(won, 1, "round {round}: exactly one consume wins");
    }
    drop_schema(&url, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrations_run_concurrently_from_several_stores() {
    let Some(url) = database_url("migrations_run_concurrently_from_several_stores") else {
        return;
    };
    for round in 0..MIGRATION_ROUNDS {
        let schema = fresh_schema(&url, &format!("migrate{round}")).await;
        let barrier = Arc::new(Barrier::new(STORES));
        let tasks: Vec<_> = (0..STORES)
            .map(|_| {
                let (url, schema, barrier) = (url.clone(), schema.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    PgStore::connect(&url, config(&schema)).await
                })
            })
            .collect();
        let mut stores = Vec::new();
        for task in tasks {
            stores.push(task.await.expect("task").expect("connect and migrate"));
        }
        for store in &stores {
            assert_eq!(
                store.schema_version().await.expect("version"),
                SCHEMA_VERSION
            );
        }
        // Connecting again changes nothing.
        let again = store(&url, &schema).await;
        assert_eq!(
            again.schema_version().await.expect("version"),
            SCHEMA_VERSION
        );
        let (client, connection) = tokio_postgres::connect(&url, NoTls).await.expect("connect");
        tokio::spawn(connection);
        let rows: i64 = client
            .query_one(
                &format!("SELECT count(*) FROM {schema}.acp_schema_migrations"),
                &[],
            )
            .await
            .expect("count")
            .get(0);
        let distinct: i64 = client
            .query_one(
                &format!("SELECT count(DISTINCT version) FROM {schema}.acp_schema_migrations"),
                &[],
            )
            .await
            .expect("count")
            .get(0);
        assert_eq!(rows, distinct, "each migration recorded once");
        assert!(rows >= 2, "the base and outbox migrations: {rows}");
        drop_schema(&url, &schema).await;
    }
}

#[tokio::test]
async fn purges_bound_records_documents_and_tokens() {
    let Some(url) = database_url("purges_bound_records_documents_and_tokens") else {
        return;
    };
    let schema = fresh_schema(&url, "purge").await;
    let store = PgStore::connect(&url, config(&schema).with_purge_every(0))
        .await
        .expect("connect");
    let policy = IdempotencyPolicy::default();
    let body = fp("{}");
    for n in 0..3 {
        let s = scope("old", n);
        let lease = proceed(store.begin(&s, &body, t0()).await.expect("begin"));
        store
            .complete(&s, lease, response(200, "{}"), t0())
            .await
            .expect("complete");
    }
    // An in-flight record whose lease ran out but whose retention did not: kept.
    let in_flight = scope("inflight", 0);
    let later = t0() + Duration::hours(20);
    proceed(store.begin(&in_flight, &body, later).await.expect("begin"));
    assert_eq!(
        store
            .purge_expired(t0() + Duration::hours(1))
            .await
            .expect("purge"),
        0
    );
    let past_retention = t0() + policy.retention() + Duration::seconds(1);
    assert_eq!(store.purge_expired(past_retention).await.expect("purge"), 3);
    assert_eq!(store.record(&scope("old", 0)).await.expect("record"), None);
    assert!(store.record(&in_flight).await.expect("record").is_some());

    // Documents by age.
    let s = scope("docs", 0);
    let lease = proceed(store.begin(&s, &body, t0()).await.expect("begin"));
    let c = commit(&s, lease, vec![create("cs_old", json!({}))]);
    assert_eq!(
        store.commit(c, t0()).await.expect("commit"),
        CommitOutcome::Committed
    );
    let s = scope("docs", 1);
    let two_days = t0() + Duration::days(2);
    let lease = proceed(store.begin(&s, &body, two_days).await.expect("begin"));
    let c = commit(&s, lease, vec![create("cs_new", json!({}))]);
    assert_eq!(
        store.commit(c, two_days).await.expect("commit"),
        CommitOutcome::Committed
    );
    assert_eq!(
        store
            .purge_documents_older_than(t0() + Duration::days(1))
            .await
            .expect("purge"),
        1
    );
    assert_eq!(
        store
            .load(ResourceKind::CheckoutSession, "cs_old")
            .await
            .expect("load"),
        None
    );
    assert!(
        store
            .load(ResourceKind::CheckoutSession, "cs_new")
            .await
            .expect("load")
            .is_some()
    );

    // Tokens by age.
    store.consume("vt_old", t0()).await.expect("consume");
    store.consume("vt_new", two_days).await.expect("consume");
    assert_eq!(
        store
            .purge_tokens_consumed_before(t0() + Duration::days(1))
            .await
            .expect("purge"),
        1
    );
    assert_eq!(
        store.consume("vt_new", two_days).await,
        Err(LedgerError::AlreadyUsed)
    );

    // Opportunistic purge: every 4th write deletes records past retention.
    let auto = PgStore::connect(&url, config(&schema).with_purge_every(4))
        .await
        .expect("connect");
    let far = t0() + Duration::days(10);
    for n in 0..4 {
        proceed(
            auto.begin(&scope("auto", n), &body, far)
                .await
                .expect("begin"),
        );
    }
    assert_eq!(
        store.record(&scope("docs", 0)).await.expect("record"),
        None,
        "the 4th write purged the records past retention at its `now`"
    );
    assert!(
        store
            .record(&scope("auto", 0))
            .await
            .expect("record")
            .is_some()
    );
    drop_schema(&url, &schema).await;
}

/// The documents of the expiry purge check: (kind, id, envelope, purged at `t0 + 3 days` with a
/// retention of one day).
fn expiry_documents() -> Vec<(ResourceKind, &'static str, String, bool)> {
    let at = |d: Duration| agentic_commerce::primitives::Timestamp(t0() + d).to_string();
    let session = |status: &str, expires: Duration| {
        json!({"owner": "merchant_42", "resource":
            {"id": "x", "status": status, "expires_at": at(expires)}})
        .to_string()
    };
    let cs = ResourceKind::CheckoutSession;
    vec![
        (
            cs,
            "cs_abandoned",
            session("ready_for_payment", Duration::hours(1)),
            true,
        ),
        (
            cs,
            "cs_expired",
            session("expired", Duration::hours(1)),
            true,
        ),
        (
            cs,
            "cs_pending",
            session("pending_approval", Duration::hours(1)),
            true,
        ),
        (
            cs,
            "cs_recent",
            session("ready_for_payment", Duration::days(2) + Duration::hours(1)),
            false,
        ),
        (
            cs,
            "cs_alive",
            session("incomplete", Duration::days(10)),
            false,
        ),
        (
            cs,
            "cs_completed",
            session("completed", Duration::hours(1)),
            false,
        ),
        (
            cs,
            "cs_canceled",
            session("canceled", Duration::hours(1)),
            false,
        ),
        (
            cs,
            "cs_charging",
            session("complete_in_progress", Duration::hours(1)),
            false,
        ),
        (
            cs,
            "cs_no_expiry",
            json!({"owner": "m", "resource": {"id": "x", "status": "incomplete"}}).to_string(),
            false,
        ),
        (
            cs,
            "cs_gone",
            json!({"owner": "m", "resource": null}).to_string(),
            false,
        ),
        (
            ResourceKind::Cart,
            "cart_old",
            json!({"owner": "m", "resource": {"id": "c", "expires_at": at(Duration::hours(1))}})
                .to_string(),
            true,
        ),
        (
            ResourceKind::Cart,
            "cart_alive",
            json!({"owner": "m", "resource": {"id": "c", "expires_at": at(Duration::days(9))}})
                .to_string(),
            false,
        ),
        (
            ResourceKind::PaymentToken,
            "vt_1",
            session("expired", Duration::hours(1)),
            false,
        ),
    ]
}

/// Writes [`expiry_documents`] at `t0`, purges at `t0 + 3 days` keeping one day, and returns
/// the ids still stored.
async fn expiry_purge<S, F, Fut>(store: &S, purge: F) -> (u64, Vec<&'static str>)
where
    S: ResourceStore,
    F: FnOnce(OffsetDateTime, Duration) -> Fut,
    Fut: Future<Output = u64>,
{
    let documents = expiry_documents();
    let s = scope("expiry", 0);
    let lease = proceed(store.begin(&s, &fp("{}"), t0()).await.expect("begin"));
    let writes = documents
        .iter()
        .map(|(kind, id, document, _)| Write {
            kind: *kind,
            id: (*id).to_owned(),
            document: document.clone(),
            expected_version: None,
        })
        .collect();
    assert_eq!(
        store
            .commit(commit(&s, lease, writes), t0())
            .await
            .expect("commit"),
        CommitOutcome::Committed
    );
    let purged = purge(t0() + Duration::days(3), Duration::days(1)).await;
    let mut kept = Vec::new();
    for (kind, id, _, _) in &documents {
        if store.load(*kind, id).await.expect("load").is_some() {
            kept.push(*id);
        }
    }
    (purged, kept)
}

#[tokio::test]
async fn expired_sessions_and_carts_are_purged_after_the_retention() {
    let expected: Vec<&str> = expiry_documents()
        .into_iter()
        .filter(|d| !d.3)
        .map(|d| d.1)
        .collect();
    let memory = InMemoryStore::default();
    let (purged, kept) = expiry_purge(&memory, |now, retention| {
        let n = memory.purge_expired_resources(now, retention);
        async move { u64::try_from(n).expect("count") }
    })
    .await;
    assert_eq!((purged, &kept), (4, &expected), "in memory");

    let Some(url) = database_url("expired_sessions_and_carts_are_purged_after_the_retention")
    else {
        return;
    };
    let schema = fresh_schema(&url, "expiry").await;
    let store = store(&url, &schema).await;
    let (purged, kept) = expiry_purge(&store, |now, retention| {
        let store = store.clone();
        async move {
            store
                .purge_expired_resources(now, retention)
                .await
                .expect("purge")
        }
    })
    .await;
    assert_eq!(
        (purged, &kept),
        (4, &expected),
        "PostgreSQL agrees with the in-memory store"
    );
    let again = store
        .purge_expired_resources(t0() + Duration::days(3), Duration::days(1))
        .await
        .expect("purge");
    assert_eq!(again, 0, "idempotent");
    drop_schema(&url, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_acquire_and_statements_are_bounded_in_time() {
    let Some(url) = database_url("pool_acquire_and_statements_are_bounded_in_time") else {
        return;
    };
    let schema = fresh_schema(&url, "timeouts").await;
    let config = config(&schema)
        .with_max_connections(1)
        .with_acquire_timeout(StdDuration::from_millis(300))
        .with_statement_timeout(StdDuration::from_millis(1500));
    let store = PgStore::connect(&url, config).await.expect("connect");
    let body = fp("{}");
    let s = scope("t", 0);
    let lease = proceed(store.begin(&s, &body, t0()).await.expect("begin"));
    let c = commit(&s, lease, vec![create("cs_locked", json!({"v":1}))]);
    assert_eq!(
        store.commit(c, t0()).await.expect("commit"),
        CommitOutcome::Committed
    );

    // Another session holds the document's row lock.
    let (mut client, connection) = tokio_postgres::connect(&url, NoTls).await.expect("connect");
    tokio::spawn(connection);
    let tx = client.transaction().await.expect("begin");
    tx.execute(
        &format!("SELECT 1 FROM {schema}.acp_resources WHERE id = 'cs_locked' FOR UPDATE"),
        &[],
    )
    .await
    .expect("lock");

    let s = scope("t", 1);
    let lease = proceed(store.begin(&s, &body, t0()).await.expect("begin"));
    let blocked = {
        let store = store.clone();
        let c = commit(&s, lease, vec![update("cs_locked", json!({"v":2}), 1)]);
        tokio::spawn(async move { store.commit(c, t0()).await })
    };
    // The commit takes the only connection and waits for the lock (not a fixed sleep: a loaded
    // machine may take longer to get there).
    let waiting = std::time::Instant::now();
    while store.pool_status().in_use != 1 {
        assert!(
            waiting.elapsed() < StdDuration::from_secs(10),
            "the commit never took the connection"
        );
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    // The only connection is busy: the acquire gives up at its deadline.
    let started = std::time::Instant::now();
    let err = store
        .load(ResourceKind::CheckoutSession, "cs_locked")
        .await
        .expect_err("pool exhausted");
    assert!(matches!(err, PgError::PoolTimeout(_)), "{err}");
    assert!(started.elapsed() < StdDuration::from_secs(2));
    // The blocked commit ends at the statement timeout, having written nothing.
    let err = blocked.await.expect("task").expect_err("statement timeout");
    assert!(err.to_string().contains("57014"), "{err}");
    tx.rollback().await.expect("rollback");
    let doc = store
        .load(ResourceKind::CheckoutSession, "cs_locked")
        .await
        .expect("load")
        .expect("document");
    assert_eq!(doc.version, 1);
    assert!(matches!(
        store.begin(&s, &body, t0()).await.expect("begin"),
        IdempotencyOutcome::InFlight { .. }
    ));
    drop_schema(&url, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_connections_are_replaced() {
    let Some(url) = database_url("broken_connections_are_replaced") else {
        return;
    };
    let schema = fresh_schema(&url, "broken").await;
    let app = format!("acp_t_broken_{}", std::process::id());
    let sep = if url.contains('?') { '&' } else { '?' };
    let store = PgStore::connect(
        &format!("{url}{sep}application_name={app}"),
        config(&schema),
    )
    .await
    .expect("connect");
    store.consume("vt_1", t0()).await.expect("consume");
    let (client, connection) = tokio_postgres::connect(&url, NoTls).await.expect("connect");
    tokio::spawn(connection);
    let killed: i64 = client
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
              WHERE application_name = $1",
            &[&app],
        )
        .await
        .expect("terminate")
        .get(0);
    assert!(killed >= 1);
    // The dead idle connection is dropped (once its task has seen the termination) and a new
    // one opened; at most the first operation may still hit it.
    let mut failures = 0;
    loop {
        tokio::time::sleep(StdDuration::from_millis(200)).await;
        match store.consume("vt_1", t0()).await {
            Err(LedgerError::AlreadyUsed) => break,
            other => {
                failures += 1;
                assert!(failures < 2, "still failing after a reconnect: {other:?}");
            }
        }
    }
    store.consume("vt_2", t0()).await.expect("consume");
    assert!(store.pool_status().idle <= 6);
    drop_schema(&url, &schema).await;
}

#[test]
fn config_rejects_schema_names_that_would_need_quoting() {
    for bad in ["", "1abc", "a-b", "A", "a;drop", &"x".repeat(64)] {
        assert!(PgConfig::default().with_schema(bad).is_err(), "{bad:?}");
    }
    assert!(PgConfig::default().with_schema("acp_store_1").is_ok());
    assert_eq!(
        PgConfig::default()
            .with_max_connections(0)
            .max_connections(),
        1
    );
}
