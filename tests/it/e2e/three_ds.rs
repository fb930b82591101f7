//! End to end: the 3-D Secure purchase through `delegate_authentication` (DA-01..06, CHK-13..15)
//! by the example agent (on the client crate, with the core webhook receiver), in memory and on
//! PostgreSQL; and the merchant refusing an `authentication_result` the vault does not back.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::time::Duration;

use agentic_commerce::ApiVersion;
use agentic_commerce::engine::webhooks::ORDER_EVENTS_PATH;
use serde_json::{Value, json};

use crate::ex::{client_agent, config, vault};
use crate::harness::{
    self, create, delegate, in_seconds, key, merchant_config, pay, ship_update, start_merchant,
    start_vault,
};
use crate::wire;

/// Merchant + vault (on `database_url` when given) sending webhooks to the core receiver.
async fn three_ds_world(
    database_url: Option<String>,
) -> (
    client_agent::PurchaseConfig,
    std::sync::Arc<client_agent::Receiver>,
    tokio::sync::mpsc::Receiver<agentic_commerce::engine::webhooks::Delivery>,
) {
    let (hook, receiver, hooks) = client_agent::spawn_receiver(
        "127.0.0.1:0".parse().unwrap(),
        &[
            b"an-old-webhook-secret-rotated-out",
            harness::WEBHOOK_SECRET,
        ],
    )
    .await
    .unwrap();
    let hook_url = format!("http://{hook}{ORDER_EVENTS_PATH}");
    let vault = start_vault(database_url.clone()).await;
    let merchant = start_merchant(merchant_config(
        &vault,
        &hook_url,
        database_url,
        Duration::ZERO,
    ))
    .await;
    let config = client_agent::PurchaseConfig {
        merchant_url: merchant,
        merchant_api_key: config::DEV_API_KEY.to_owned(),
        vault_url: vault,
        vault_api_key: vault::DEV_AGENT_KEY.to_owned(),
        signing_secret: harness::SIGNING_SECRET.to_vec(),
        vault_signing_secret: harness::VAULT_SIGNING_SECRET.to_vec(),
        items: vec!["var_tent_2p".to_owned()],
        coupon: None,
    };
    (config, receiver, hooks)
}

async fn three_ds_purchase(database_url: Option<String>) {
    let (config, receiver, mut hooks) = three_ds_world(database_url).await;
    let mut log = Vec::new();
    let purchase = client_agent::run_purchase(&config, &mut |line| log.push(line))
        .await
        .unwrap();
    assert_eq!(
        purchase.statuses,
        ["incomplete", "authentication_required", "completed"],
        "{log:#?}"
    );
    let session = purchase.authentication_session.as_deref().unwrap();
    assert!(session.starts_with("auth_"), "{session}");
    assert!(
        log.iter().any(|l| l.contains("\"challenge\"")),
        "the vault challenged (the merchant prefers a challenge): {log:#?}"
    );
    let order = purchase.completed["order"]["id"].as_str().unwrap();
    // The order webhook, verified and deduplicated by the core receiver, and its timeline.
    let hook = tokio::time::timeout(Duration::from_secs(10), hooks.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hook.order_id(), Some(order));
    assert_eq!(hook.event_type(), "order_create");
    assert_eq!(hook.version, ApiVersion::V2026_04_17);
    let timeline = agentic_commerce_axum::webhooks::timeline_with(
        &receiver,
        order,
        1,
        Duration::from_secs(10),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(timeline.statuses(), ["created"]);
    assert_eq!(
        timeline.checkout_session_id,
        purchase.completed["id"].as_str().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_01_06_three_ds_purchase_through_delegate_authentication_in_memory() {
    three_ds_purchase(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_01_06_three_ds_purchase_through_delegate_authentication_on_postgres() {
    let Some(url) = super::postgres::database("three_ds_purchase").await else {
        return;
    };
    three_ds_purchase(Some(url)).await;
}

/// A session at `authentication_required` with a token for it; returns (id, session, token).
async fn payable(w: &harness::World) -> (String, Value, String) {
    let c = w.client();
    let created = create(&c, &["var_tent_2p"]).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let updated = c
        .post(
            &format!("/checkout_sessions/{id}"),
            &ship_update(&["var_tent_2p"], "ship_express"),
            &key("u"),
        )
        .await
        .unwrap();
    assert_eq!(updated.body["status"], "authentication_required");
    let amount = client_agent::total_of(&updated.body);
    let token = delegate(w, &id, amount, &in_seconds(600)).await;
    (id, updated.body, token)
}

/// CHK-14, DA-06: the merchant pays only on an authentication the vault backs; a claimed
/// result without a session, a forged cryptogram and another checkout's session are declined.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chk_14_an_authentication_result_the_vault_does_not_back_is_declined() {
    let w = harness::world(None, Duration::ZERO).await;
    let c = w.client();
    let (id, session, token) = payable(&w).await;
    let (auth, result) = harness::three_ds(&w, &session).await;
    let path = format!("/checkout_sessions/{id}/complete");
    let declined = |answer: &wire::Exchange| {
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_ne!(answer.body["status"], "completed", "{}", answer.body);
        assert!(
            answer.body["messages"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["code"] == "payment_declined"),
            "{}",
            answer.body
        );
    };
    // The bare claim of the old flow: no session at the vault.
    let mut body = pay(&token);
    body["authentication_result"] = wire::authenticated();
    declined(&c.post(&path, &body, &key("c1")).await.unwrap());
    // The real session, but a forged cryptogram.
    let mut forged = result.clone();
    forged["outcome_details"]["three_ds_cryptogram"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    body["payment_data"]["instrument"]["credential"]["authentication_session_id"] = json!(auth);
    body["authentication_result"] = forged;
    declined(&c.post(&path, &body, &key("c2")).await.unwrap());
    // Another checkout's session (its own, valid result) for this one.
    let (_, other, _) = payable(&w).await;
    let (other_auth, other_result) = harness::three_ds(&w, &other).await;
    body["payment_data"]["instrument"]["credential"]["authentication_session_id"] =
        json!(other_auth);
    body["authentication_result"] = other_result;
    declined(&c.post(&path, &body, &key("c3")).await.unwrap());
    // The session the vault backs: paid.
    body["payment_data"]["instrument"]["credential"]["authentication_session_id"] = json!(auth);
    body["authentication_result"] = result;
    let done = c.post(&path, &body, &key("c4")).await.unwrap();
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.body["status"], "completed", "{}", done.body);
}

/// The merchant's read at the vault: only the merchant the session names, never the agent's key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn da_authentication_results_are_read_only_by_the_named_merchant() {
    let w = harness::world(None, Duration::ZERO).await;
    let (_, session, _) = payable(&w).await;
    let amount = client_agent::total_of(&session);
    let (auth, _) = harness::three_ds(&w, &session).await;
    let url = format!("{}/authentication_results/{auth}", w.vault);
    let read = |key: &'static str| {
        let get = wire::raw(agentic_commerce_client::Method::GET, &url);
        wire::send(get.header("authorization", &wire::bearer(key)))
    };
    let merchant = read(vault::DEV_MERCHANT_KEY).await.unwrap();
    assert_eq!(merchant.status, 200);
    let body = merchant.body;
    assert_eq!(body["status"], "authenticated");
    assert_eq!(body["merchant_id"], vault::DEV_MERCHANT_ID);
    assert_eq!(body["amount"]["value"], amount);
    assert_eq!(body["checkout_session_id"], session["id"]);
    assert!(body["authentication_result"]["transaction_id"].is_string());
    assert_eq!(read(vault::DEV_AGENT_KEY).await.unwrap().status, 401);
    assert_eq!(read("nobody").await.unwrap().status, 401);
}

/// Before 2026-04-17 the seller must give the buyer's browser details for 3-D Secure, which a
/// 2026-04-17 merchant leaves to the agent: an older agent buying an item that needs 3-D
/// Secure gets a valid session in its version that says why it cannot be paid (`requires_3ds`),
/// never a `500`, and a complete is refused (`400 requires_3ds`), not charged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_agent_is_told_the_purchase_needs_3ds_in_its_own_version() {
    let w = harness::world(None, Duration::ZERO).await;
    let mut c = w.client();
    c.version = ApiVersion::V2026_01_30;
    let created = create(&c, &["var_tent_2p"]).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let updated = c
        .post(
            &format!("/checkout_sessions/{id}"),
            &ship_update(&["var_tent_2p"], "ship_express"),
            &key("u"),
        )
        .await
        .unwrap();
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(
        updated.body["status"], "not_ready_for_payment",
        "{}",
        updated.body
    );
    let messages = updated.body["messages"].as_array().unwrap();
    let why = messages.iter().find(|m| m["code"] == "requires_3ds");
    assert!(
        why.is_some_and(|m| m["content"].as_str().unwrap().contains("2026-04-17")),
        "{}",
        updated.body
    );
    assert!(updated.body.get("authentication_metadata").is_none());
    let amount = client_agent::total_of(&updated.body);
    let token = delegate(&w, &id, amount, &in_seconds(600)).await;
    let done = c
        .post(
            &format!("/checkout_sessions/{id}/complete"),
            &pay(&token),
            &key("c"),
        )
        .await
        .unwrap();
    assert_eq!(
        (done.status, &done.body["code"]),
        (400, &json!("requires_3ds")),
        "{}",
        done.body
    );
}
