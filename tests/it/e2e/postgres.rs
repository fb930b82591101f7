//! End-to-end against PostgreSQL: two merchant instances (and two vault instances) share one
//! database through `agentic-commerce-postgres`, so idempotency and single-use tokens hold
//! across processes (IDEM-03, IDEM-08..13, DP-11). The store's own behaviour (atomic commits,
//! fenced leases, purges, bounded pool, concurrent migrations) is tested in that crate.
//!
//! Needs `DATABASE_URL` (`source .ci/postgres` starts a throwaway server). Without it, or when
//! the server is unreachable, every test prints a SKIPPED line and passes; with `CI=true` an
//! unreachable server that `DATABASE_URL` names is a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::ex;
use crate::harness;

use crate::wire;
use ex::config;
use harness::{
    client, create, delegate, in_seconds, key, merchant_config, start_merchant, start_vault, world,
};

/// The database URL, or `None` after printing why the test is skipped.
pub(crate) async fn database(test: &str) -> Option<String> {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("SKIPPED {test}: DATABASE_URL is not set (source .ci/postgres to start a server)");
        return None;
    };
    let config = agentic_commerce_postgres::PgConfig::default();
    let reachable = agentic_commerce_postgres::PgStore::connect(&url, config).await;
    match reachable.map(drop) {
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
        wire::spawn_webhook_receiver("127.0.0.1:0".parse().unwrap(), harness::WEBHOOK_SECRET)
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
    let purchase = ex::client_agent::run_purchase(
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
    let hook = wire::next_webhook(&mut w.hooks, Duration::from_secs(10))
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
        let amount = wire::total_of(&created.body);
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
                    let request = wire::raw(
                        agentic_commerce_client::Method::POST,
                        &format!("{vault}/charges"),
                    )
                    .header("authorization", &wire::bearer(ex::vault::DEV_MERCHANT_KEY))
                    .idempotency_key(&key("ch"))
                    .body(body.to_string());
                    barrier.wait().await;
                    wire::send(request).await.unwrap()
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
