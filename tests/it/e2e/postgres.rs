//! End-to-end against PostgreSQL: two merchant instances (and two vault instances) share one
//! database through the example `PgIdempotencyStore` and `PgTokenLedger`, so idempotency and
//! single-use tokens hold across processes (IDEM-03, IDEM-08..13, IDEM-17, DP-11).
//!
//! Needs `DATABASE_URL` (`source .ci/postgres` starts a throwaway server). Without it, or when
//! the server is unreachable, every test prints a SKIPPED line and passes; with `CI=true` an
//! unreachable server that `DATABASE_URL` names is a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::sync::Arc;
use std::time::Duration;

use agentic_commerce::protocol::headers::IdempotencyKey;
use agentic_commerce::trust::idempotency::{
    CompleteError, Completion, Fingerprint, IdempotencyOutcome, IdempotencyPolicy,
    IdempotencyScope, IdempotencyStore, StoredResponse,
};
use serde_json::json;

use crate::ex;
use crate::harness;

use ex::postgres::{PgIdempotencyStore, PgPool, PgStoreError, describe, load_document};
use ex::{agent, config};
use harness::{
    client, create, delegate, in_seconds, key, merchant_config, start_merchant, start_vault, world,
};

/// The database URL, or `None` after printing why the test is skipped.
pub(crate) async fn database(test: &str) -> Option<String> {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("SKIPPED {test}: DATABASE_URL is not set (source .ci/postgres to start a server)");
        return None;
    };
    let probe = url.clone();
    let reachable = tokio::task::spawn_blocking(move || {
        PgPool::connect(&probe)
            .map(|_| ())
            .map_err(|e| describe(&e))
    })
    .await
    .unwrap();
    match reachable {
        Ok(()) => Some(url),
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("DATABASE_URL is set but unreachable: {e}")
        }
        Err(e) => {
            println!("SKIPPED {test}: PostgreSQL at DATABASE_URL is unreachable: {e}");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idem_03_08_09_replay_and_sessions_are_shared_by_two_merchant_instances() {
    let Some(url) = database("idem_03_08_09").await else {
        return;
    };
    let w = world(Some(url.clone()), Duration::ZERO).await;
    let other = start_merchant(merchant_config(
        &w.vault,
        &w.hook_url,
        Some(url),
        Duration::ZERO,
    ))
    .await;
    let (a, b) = (w.client(), client(&other));
    let body = harness::create_body(&["var_mug_pine"]);
    let k = key("shared");
    let first = a.post("/checkout_sessions", &body, &k).await.unwrap();
    assert_eq!(first.status, 201, "{}", first.body);
    let replay = b.post("/checkout_sessions", &body, &k).await.unwrap();
    assert_eq!(replay.status, 201);
    assert_eq!(replay.raw, first.raw);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    // The session itself is shared too: instance B serves what A created.
    let id = first.body["id"].as_str().unwrap();
    let fetched = b.get(&format!("/checkout_sessions/{id}")).await.unwrap();
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.body["id"], id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idem_11_conflict_across_instances_is_422() {
    let Some(url) = database("idem_11").await else {
        return;
    };
    let w = world(Some(url.clone()), Duration::ZERO).await;
    let other = start_merchant(merchant_config(
        &w.vault,
        &w.hook_url,
        Some(url),
        Duration::ZERO,
    ))
    .await;
    let k = key("conflict");
    let first = w
        .client()
        .post(
            "/checkout_sessions",
            &harness::create_body(&["var_mug_pine"]),
            &k,
        )
        .await
        .unwrap();
    assert_eq!(first.status, 201, "{}", first.body);
    let second = client(&other)
        .post(
            "/checkout_sessions",
            &harness::create_body(&["var_guide_epub"]),
            &k,
        )
        .await
        .unwrap();
    assert_eq!(second.status, 422, "{}", second.body);
    assert_eq!(second.body["code"], "idempotency_conflict");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idem_12_concurrent_same_key_on_two_instances_runs_once() {
    let Some(url) = database("idem_12").await else {
        return;
    };
    let latency = Duration::from_millis(500);
    let w = world(Some(url.clone()), latency).await;
    let other = start_merchant(merchant_config(&w.vault, &w.hook_url, Some(url), latency)).await;
    let (first_client, second_client) = (w.client(), client(&other));
    let body = harness::create_body(&["var_mug_pine"]);
    let race_key = key("race");
    let (left, right) = tokio::join!(
        first_client.post("/checkout_sessions", &body, &race_key),
        second_client.post("/checkout_sessions", &body, &race_key)
    );
    let (left, right) = (left.unwrap(), right.unwrap());
    let mut statuses = [left.status, right.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{} / {}", left.body, right.body);
    let winner = if left.status == 201 { &left } else { &right };
    let retry = second_client
        .post("/checkout_sessions", &body, &race_key)
        .await
        .unwrap();
    assert_eq!(retry.raw, winner.raw);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chk_10_full_purchase_on_postgres_is_visible_from_the_other_instance() {
    let Some(url) = database("chk_10").await else {
        return;
    };
    // Two instances behind one public URL, as behind a load balancer.
    let public = Some("https://shop.example".to_owned());
    let (hook, hooks) =
        agent::spawn_webhook_receiver("127.0.0.1:0".parse().unwrap(), harness::WEBHOOK_SECRET)
            .await
            .unwrap();
    let hook_url = format!("http://{hook}/webhooks/acp");
    let vault = start_vault(Some(url.clone())).await;
    let instance = || config::Config {
        public_url: public.clone(),
        ..merchant_config(&vault, &hook_url, Some(url.clone()), Duration::ZERO)
    };
    let first = start_merchant(instance()).await;
    let other = start_merchant(instance()).await;
    let mut w = harness::World {
        merchant: first,
        vault,
        hook_url,
        hooks,
    };
    let purchase = agent::run_purchase(
        &w.purchase(&["var_mug_pine", "var_guide_epub"], None),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(
        purchase.statuses,
        ["incomplete", "ready_for_payment", "completed"]
    );
    let id = purchase.completed["id"].as_str().unwrap();
    let seen = client(&other)
        .get(&format!("/checkout_sessions/{id}"))
        .await
        .unwrap();
    assert_eq!(seen.body, purchase.completed);
    assert!(
        seen.body["order"]["permalink_url"]
            .as_str()
            .unwrap()
            .starts_with("https://shop.example/orders/")
    );
    let hook = agent::next_webhook(&mut w.hooks, Duration::from_secs(10))
        .await
        .unwrap();
    let event = hook.event.as_ref().unwrap();
    assert_eq!(event.data.checkout_session_id.as_str(), id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dp_11_a_token_is_single_use_across_two_vault_instances() {
    let Some(url) = database("dp_11").await else {
        return;
    };
    let w = world(Some(url.clone()), Duration::ZERO).await;
    let second_vault = start_vault(Some(url)).await;
    for round in 0..3 {
        let created = create(&w.client(), &["var_guide_epub"]).await;
        let id = created.body["id"].as_str().unwrap().to_owned();
        let amount = agent::total_of(&created.body);
        // Issued by vault A; 16 charges with their own Idempotency-Keys race, half on A and
        // half on B (shared tokens and ledger), released together.
        let token = delegate(&w, &id, amount, &in_seconds(600)).await;
        let barrier = Arc::new(tokio::sync::Barrier::new(16));
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let vault = if i % 2 == 0 {
                    w.vault.clone()
                } else {
                    second_vault.clone()
                };
                let body = json!({"token": token, "amount": amount, "currency": "usd",
                    "checkout_session_id": id});
                let barrier = Arc::clone(&barrier);
                tokio::spawn(async move {
                    let request = reqwest::Client::new()
                        .post(format!("{vault}/charges"))
                        .bearer_auth(ex::vault::DEV_MERCHANT_KEY)
                        .header("idempotency-key", key("ch"))
                        .body(body.to_string());
                    barrier.wait().await;
                    agent::send(request).await.unwrap()
                })
            })
            .collect();
        let mut succeeded = 0;
        for task in tasks {
            let answer = task.await.unwrap();
            match answer.status {
                201 => succeeded += 1,
                402 => assert_eq!(answer.body["code"], "already_used", "{}", answer.body),
                other => panic!("round {round}: {other} {}", answer.body),
            }
        }
        assert_eq!(succeeded, 1, "round {round}");
    }
}

/// Issue 12 item 9 on PostgreSQL: sixteen concurrent completes with distinct keys, spread
/// over two merchant instances sharing the database, charge exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chk_10_concurrent_completes_on_two_instances_charge_exactly_once() {
    let Some(url) = database("chk_10_race").await else {
        return;
    };
    let mut w = world(Some(url.clone()), Duration::ZERO).await;
    let other = start_merchant(merchant_config(
        &w.vault,
        &w.hook_url,
        Some(url),
        Duration::ZERO,
    ))
    .await;
    let merchants = [w.merchant.clone(), other];
    harness::exactly_one_of_concurrent_completes_charges(&mut w, &merchants).await;
}

fn scope(label: &str) -> IdempotencyScope {
    IdempotencyScope::new(
        "e2e",
        "/checkout_sessions",
        IdempotencyKey::parse(&key(label)).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idem_17_business_effect_and_stored_response_commit_together_or_not_at_all() {
    let Some(url) = database("idem_17").await else {
        return;
    };
    tokio::task::spawn_blocking(move || {
        let pool = Arc::new(PgPool::connect(&url).unwrap());
        let store = PgIdempotencyStore::new(Arc::clone(&pool), IdempotencyPolicy::default());
        let now = time::OffsetDateTime::now_utc();
        let fingerprint = Fingerprint::of_json(b"{}").unwrap();
        let scope = scope("atomic");
        let IdempotencyOutcome::Proceed(lease) = store.begin(&scope, &fingerprint, now).unwrap() else {
            panic!("a new key proceeds");
        };
        let doc_id = key("doc");
        let response = StoredResponse::new(201, b"{}".to_vec(), vec![]);
        // The effect writes a document, then fails: the whole transaction rolls back.
        let failed = store.complete_with(&scope, lease, response.clone(), now, |tx| {
            ex::postgres::save_document(tx, "e2e", &doc_id, "{}")?;
            tx.execute("SELECT no_such_function()", &[]).map(|_| ())
        });
        assert!(failed.is_err());
        assert_eq!(load_document(&pool, "e2e", &doc_id).unwrap(), None, "document rolled back");
        // No response was stored: the key is still in flight, not replayable.
        assert!(matches!(store.begin(&scope, &fingerprint, now).unwrap(), IdempotencyOutcome::InFlight { .. }));
        // Now it succeeds: document and response appear together.
        store.complete_with(&scope, lease, response, now, |tx| ex::postgres::save_document(tx, "e2e", &doc_id, "{}")).unwrap();
        assert_eq!(load_document(&pool, "e2e", &doc_id).unwrap().as_deref(), Some("{}"));
        assert!(matches!(store.begin(&scope, &fingerprint, now).unwrap(), IdempotencyOutcome::Replay(r) if r.status == 201));
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idem_13_a_5xx_releases_the_key_in_postgres() {
    let Some(url) = database("idem_13").await else {
        return;
    };
    tokio::task::spawn_blocking(move || {
        let pool = Arc::new(PgPool::connect(&url).unwrap());
        let store = PgIdempotencyStore::new(pool, IdempotencyPolicy::default());
        let now = time::OffsetDateTime::now_utc();
        let fingerprint = Fingerprint::of_json(b"{\"a\":1}").unwrap();
        let scope = scope("5xx");
        let IdempotencyOutcome::Proceed(lease) = store.begin(&scope, &fingerprint, now).unwrap()
        else {
            panic!("a new key proceeds");
        };
        let completion = store
            .complete(&scope, lease, StoredResponse::new(503, vec![], vec![]), now)
            .unwrap();
        assert_eq!(completion, Completion::Release);
        assert!(matches!(
            store.begin(&scope, &fingerprint, now).unwrap(),
            IdempotencyOutcome::Proceed(_)
        ));
        // Another fingerprint on a live reservation is a conflict, across connections.
        let other = Fingerprint::of_json(b"{\"a\":2}").unwrap();
        assert_eq!(
            store.begin(&scope, &other, now).unwrap(),
            IdempotencyOutcome::Conflict
        );
    })
    .await
    .unwrap();
}

/// Regression (CI run after stop 9): several instances starting at once on a fresh database
/// must all create or find the tables. The migration used to release its advisory lock before
/// its transaction committed, so a second instance could fail with a duplicate `pg_type` key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_together_on_a_fresh_database_all_connect() {
    let Some(url) = database("fresh_database").await else {
        return;
    };
    tokio::task::spawn_blocking(move || {
        let (base, _) = url.rsplit_once('/').unwrap();
        let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        for round in 0..20 {
            let name = format!("acp_fresh_{}_{round}", std::process::id());
            admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .unwrap();
            admin
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .unwrap();
            let fresh = format!("{base}/{name}");
            let barrier = Arc::new(std::sync::Barrier::new(8));
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let (fresh, barrier) = (fresh.clone(), Arc::clone(&barrier));
                    std::thread::spawn(move || {
                        barrier.wait();
                        PgPool::connect(&fresh)
                            .map(|_| ())
                            .map_err(|e| describe(&e))
                    })
                })
                .collect();
            for handle in handles {
                assert_eq!(handle.join().unwrap(), Ok(()), "round {round}");
            }
            admin
                .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
                .unwrap();
        }
    })
    .await
    .unwrap();
}

/// Issue 12 item 3 on PostgreSQL: after the lease ran out and a retry took the key over, the
/// first worker's complete and release fail with `LeaseLost` and change nothing, also when
/// both workers finish at the same moment on two connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idem_stale_lease_cannot_complete_or_release_in_postgres() {
    let Some(url) = database("idem_fencing").await else {
        return;
    };
    tokio::task::spawn_blocking(move || {
        let pool = Arc::new(PgPool::connect(&url).unwrap());
        let policy = IdempotencyPolicy::default()
            .with_in_flight_lease(time::Duration::seconds(30))
            .unwrap();
        let store = PgIdempotencyStore::new(pool, policy);
        let now = time::OffsetDateTime::now_utc();
        let late = now + time::Duration::seconds(31);
        let fingerprint = Fingerprint::of_json(b"{}").unwrap();
        let lease_lost = |r: &Result<_, PgStoreError>| {
            matches!(r, Err(PgStoreError::Complete(CompleteError::LeaseLost)))
        };
        for round in 0..20 {
            let scope = scope(&format!("fenced-{round}"));
            let IdempotencyOutcome::Proceed(first) =
                store.begin(&scope, &fingerprint, now).unwrap()
            else {
                panic!("first request proceeds");
            };
            let IdempotencyOutcome::Proceed(retry) =
                store.begin(&scope, &fingerprint, late).unwrap()
            else {
                panic!("the retry takes the expired lease over");
            };
            assert_ne!(first, retry);
            if round == 0 {
                assert!(lease_lost(
                    &store.release(&scope, first).map(|()| Completion::Release)
                ));
                assert!(lease_lost(&store.complete(
                    &scope,
                    first,
                    StoredResponse::new(503, vec![], vec![]),
                    late
                )));
                assert!(
                    matches!(
                        store.begin(&scope, &fingerprint, late).unwrap(),
                        IdempotencyOutcome::InFlight { .. }
                    ),
                    "still the retry's"
                );
            }
            let barrier = std::sync::Barrier::new(2);
            let (stale, owner) = std::thread::scope(|t| {
                let stale = t.spawn(|| {
                    barrier.wait();
                    store.complete(
                        &scope,
                        first,
                        StoredResponse::new(201, b"stale".to_vec(), vec![]),
                        late,
                    )
                });
                let owner = t.spawn(|| {
                    barrier.wait();
                    store.complete(
                        &scope,
                        retry,
                        StoredResponse::new(200, b"retry".to_vec(), vec![]),
                        late,
                    )
                });
                (stale.join().unwrap(), owner.join().unwrap())
            });
            assert!(matches!(owner, Ok(Completion::Store(_))), "{owner:?}");
            assert!(
                lease_lost(&stale)
                    || matches!(
                        stale,
                        Err(PgStoreError::Complete(CompleteError::NotInFlight))
                    ),
                "{stale:?}"
            );
            assert!(matches!(
                store.begin(&scope, &fingerprint, late).unwrap(),
                IdempotencyOutcome::Replay(r) if r.body == b"retry"
            ));
        }
    })
    .await
    .unwrap();
}

/// A new empty database next to `url`'s; returns its URL and an admin client to drop it.
fn fresh_database(url: &str, label: &str) -> (String, String, postgres::Client) {
    let (base, _) = url.rsplit_once('/').unwrap();
    let mut admin = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let name = format!("acp_{label}_{}", std::process::id());
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    (format!("{base}/{name}"), name, admin)
}

/// Issue 12 item 13 (IDEM-14): idempotency rows past retention are deleted as new keys are
/// reserved (at most once per purge interval), live rows stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idem_14_postgres_rows_past_retention_are_purged() {
    let Some(url) = database("idem_purge").await else {
        return;
    };
    tokio::task::spawn_blocking(move || {
        let (fresh, name, mut admin) = fresh_database(&url, "purge");
        let pool = Arc::new(PgPool::connect(&fresh).unwrap());
        let store = PgIdempotencyStore::new(Arc::clone(&pool), IdempotencyPolicy::default());
        let rows = || {
            pool.with_client(|c| c.query_one("SELECT count(*) FROM acp_idempotency", &[]))
                .unwrap()
                .get::<_, i64>(0)
        };
        let t0 = time::OffsetDateTime::now_utc();
        let fingerprint = Fingerprint::of_json(b"{}").unwrap();
        for i in 0..50 {
            let scope = scope(&format!("old-{i}"));
            let IdempotencyOutcome::Proceed(lease) = store.begin(&scope, &fingerprint, t0).unwrap()
            else {
                panic!("new key");
            };
            store
                .complete(&scope, lease, StoredResponse::new(201, vec![], vec![]), t0)
                .unwrap();
        }
        assert_eq!(rows(), 50);
        // A purge before retention ends deletes nothing; live rows are never deleted.
        let live = scope("live");
        store
            .begin(&live, &fingerprint, t0 + time::Duration::hours(23))
            .unwrap();
        assert_eq!(rows(), 51);
        // A day later the next reservation deletes every expired row.
        let later = t0 + time::Duration::hours(25);
        store.begin(&scope("new"), &fingerprint, later).unwrap();
        assert_eq!(rows(), 2, "only the live and the new key remain");
        assert_eq!(store.purge_expired(later).unwrap(), 0);
        drop(store);
        drop(pool);
        admin
            .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .unwrap();
    })
    .await
    .unwrap();
}

/// Issue 12 item 13: a pool of N connections shared by N + 5 concurrent users never has more
/// than N connections open on the server, and every user gets served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_pool_never_opens_more_than_its_cap() {
    let Some(url) = database("pool_cap").await else {
        return;
    };
    tokio::task::spawn_blocking(move || {
        const CAP: usize = 3;
        let app_name = format!("acp_pool_cap_{}", std::process::id());
        let separator = if url.contains('?') { '&' } else { '?' };
        let capped = format!("{url}{separator}application_name={app_name}");
        let pool = PgPool::connect_with_max(&capped, CAP).unwrap();
        assert_eq!(pool.max_size(), CAP);
        let barrier = std::sync::Barrier::new(CAP + 5);
        let most = std::sync::atomic::AtomicI64::new(0);
        let served = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|t| {
            for _ in 0..CAP + 5 {
                t.spawn(|| {
                    barrier.wait();
                    for _ in 0..4 {
                        let open: i64 = pool
                            .with_client(|c| {
                                let open = c
                                    .query_one(
                                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                                        &[&app_name],
                                    )?
                                    .get(0);
                                c.batch_execute("SELECT pg_sleep(0.02)")?;
                                Ok::<_, postgres::Error>(open)
                            })
                            .unwrap();
                        most.fetch_max(open, std::sync::atomic::Ordering::SeqCst);
                        served.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                });
            }
        });
        assert_eq!(served.into_inner(), (CAP + 5) * 4);
        let most = most.into_inner();
        assert!(most >= 1 && most <= i64::try_from(CAP).unwrap(), "{most} connections open at once");
    })
    .await
    .unwrap();
}
