//! WH-09 durability: with `order_webhooks`, the engine commits a completed session's order and
//! its `order_create` event in the commit of the session and its idempotency response: all four
//! or none (injected store failures and conflicts), exactly one event per completed session
//! under concurrent completes and replays.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use agentic_commerce::engine::merchant::orders::{StoredOrder, record_order_created};
use agentic_commerce::engine::outbox::{NewEvent, OutboxStore, Settlement};
use agentic_commerce::engine::store::{InMemoryStore, ResourceKind, Write};
use agentic_commerce::parse;
use serde_json::json;

use super::{
    AGENT_HOOK, Call, Engine, OTHER_KEY, Setup, Shop, address, complete_body, engine_with, now,
    ready_session,
};

fn with_orders(setup: Setup) -> (Arc<Shop>, Engine) {
    let shop = Arc::new(Shop::default());
    let engine = engine_with(
        Arc::clone(&shop),
        &Setup {
            order_webhooks: true,
            ..setup
        },
    );
    (shop, engine)
}

fn complete(id: &str) -> Call {
    Call::post(
        &format!("/checkout_sessions/{id}/complete"),
        &complete_body(),
    )
}

/// The order id the test merchant gives the session `id`.
fn order_id(id: &str) -> String {
    format!("ord_{id}")
}

fn stored_order(store: &InMemoryStore, id: &str) -> Option<(StoredOrder, u64)> {
    store
        .get(ResourceKind::Order, &order_id(id))
        .map(|v| (serde_json::from_str(&v.document).unwrap(), v.version))
}

/// Every live event, claimed at once (and handed back by the caller's settle when needed).
async fn events(store: &InMemoryStore) -> Vec<NewEvent> {
    let claimed = store
        .claim(now(), 10_000, Duration::from_secs(60), None)
        .await
        .unwrap();
    let mut out = Vec::new();
    for c in claimed {
        out.push(c.event.event.clone());
        let back = Settlement::Retry {
            at: now(),
            error: "inspected".to_owned(),
        };
        assert!(store.settle(&c, back, now()).await.unwrap());
    }
    out
}

async fn session_status(engine: &Engine, id: &str) -> String {
    let got = Call::get(&format!("/checkout_sessions/{id}"))
        .send(engine)
        .await;
    assert_eq!(got.status, 200, "{}", got.body);
    got.body["status"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn wh_09_a_complete_commits_the_order_and_its_order_create_once_even_when_replayed() {
    let (_, engine) = with_orders(Setup::default());
    let store = engine.store();
    let id = ready_session(&engine).await;
    let call = complete(&id);
    let done = call.send(&engine).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.body["status"], "completed");

    let (stored, version) = stored_order(store, &id).expect("the order is stored");
    assert_eq!(version, 1);
    assert_eq!(stored.recipient, AGENT_HOOK);
    assert_eq!(stored.version.as_str(), "2026-04-17");
    assert_eq!(stored.order.id.as_str(), order_id(&id));
    let queued = events(store).await;
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0].event_type, "order_create");
    assert_eq!(queued[0].order_id, order_id(&id));
    assert_eq!(queued[0].recipient, AGENT_HOOK);
    let payload: serde_json::Value = serde_json::from_str(&queued[0].payload).unwrap();
    assert_eq!(payload["data"]["id"], order_id(&id).as_str());
    assert_eq!(payload["data"]["type"], "order");

    // The replay (same key) answers the stored response and records nothing more.
    let replay = call.send(&engine).await;
    assert_eq!(replay.status, 200);
    assert_eq!(replay.body, done.body);
    // A new complete of the completed session is refused and records nothing either.
    let again = complete(&id).send(&engine).await;
    assert!(again.status >= 400, "{}", again.body);
    assert_eq!(events(store).await.len(), 1);
    assert_eq!(stored_order(store, &id).unwrap().1, 1);
}

#[tokio::test]
async fn without_order_webhooks_or_a_recipient_no_order_and_no_event_are_stored() {
    // Not configured: the engine behaves as it did (the merchant records orders itself).
    let shop = Arc::new(Shop::default());
    let plain = engine_with(shop, &Setup::default());
    let id = ready_session(&plain).await;
    assert_eq!(complete(&id).send(&plain).await.status, 200);
    assert!(stored_order(plain.store(), &id).is_none());
    assert_eq!(plain.store().outbox_events(), 0);

    // Configured, but not for the identity `other`.
    let (_, engine) = with_orders(Setup {
        signed: false,
        ..Setup::default()
    });
    let bearer = format!("Bearer {OTHER_KEY}");
    let created = Call::post(
        "/checkout_sessions",
        &json!({"currency": "usd", "line_items": [{"id": "item_1"}], "capabilities": {},
            "fulfillment_details": address()}),
    )
    .header("Authorization", &bearer)
    .send(&engine)
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.id();
    let done = complete(&id)
        .header("Authorization", &bearer)
        .send(&engine)
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(stored_order(engine.store(), &id).is_none());
    assert_eq!(engine.store().outbox_events(), 0);
}

#[tokio::test]
async fn wh_09_a_full_outbox_at_commit_leaves_no_session_response_order_or_event() {
    // Room for 6 documents, records and events: the session and one foreign order fit, the
    // outbox is filled up to its bound before the complete commits.
    let (_, engine) = with_orders(Setup {
        max_entries: 6,
        ..Setup::default()
    });
    let store = engine.store();
    let id = ready_session(&engine).await;
    for version in 0..6_u64 {
        let write = Write {
            kind: ResourceKind::Order,
            id: "ord_filler".to_owned(),
            document: format!("{{\"n\":{version}}}"),
            expected_version: (version > 0).then_some(version),
        };
        let event = NewEvent {
            order_id: "ord_filler".to_owned(),
            recipient: AGENT_HOOK.to_owned(),
            version: "2026-04-17".parse().unwrap(),
            event_type: "order_update".to_owned(),
            payload: "{}".to_owned(),
        };
        store.record(write, Some(event), now()).await.unwrap();
    }
    assert_eq!(store.outbox_events(), 6);

    let call = complete(&id);
    let failed = call.send(&engine).await;
    assert_eq!(failed.status, 503, "{}", failed.body);
    // None of the four: the session is not completed, no order, no new event, no response.
    assert_ne!(session_status(&engine, &id).await, "completed");
    assert!(stored_order(store, &id).is_none());
    assert_eq!(store.outbox_events(), 6);
    let retry = call.send(&engine).await;
    assert_ne!(retry.body, serde_json::Value::Null);
    assert_ne!(retry.body["status"], "completed", "{}", retry.body);
    assert!(stored_order(store, &id).is_none());
}

#[tokio::test]
async fn wh_09_an_order_id_taken_at_commit_leaves_no_session_response_or_event() {
    let (_, engine) = with_orders(Setup::default());
    let store = engine.store();
    let id = ready_session(&engine).await;
    // Another writer recorded an order under the id the merchant is about to use.
    let theirs = parse::from_value(&json!({"id": order_id(&id), "checkout_session_id": "cs_x",
        "permalink_url": "https://shop.example/orders/x", "status": "confirmed"}))
    .unwrap();
    let v = "2026-04-17".parse().unwrap();
    record_order_created(store, "someone-else", &v, theirs, now())
        .await
        .unwrap();

    let call = complete(&id);
    let conflict = call.send(&engine).await;
    assert_eq!(conflict.status, 409, "{}", conflict.body);
    assert_ne!(session_status(&engine, &id).await, "completed");
    let (kept, version) = stored_order(store, &id).unwrap();
    assert_eq!((kept.recipient.as_str(), version), ("someone-else", 1));
    let queued = events(store).await;
    assert_eq!(queued.len(), 1, "only the other writer's event: {queued:?}");
    assert_eq!(queued[0].recipient, "someone-else");
    // The reservation was released, not answered: the retry runs again (no stored 200).
    let retry = call.send(&engine).await;
    assert_ne!(retry.status, 200, "{}", retry.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wh_09_concurrent_completes_and_replays_record_exactly_one_order_create() {
    for _ in 0..10 {
        let (shop, engine) = with_orders(Setup::default());
        let engine = Arc::new(engine);
        let id = ready_session(&engine).await;
        *shop.complete_delay.lock().unwrap() = Duration::from_millis(5);
        let same_key = complete(&id);
        // Two keys racing, each sent twice concurrently (a duplicate in flight).
        let calls = [complete(&id), complete(&id), same_key.clone(), same_key];
        let tasks: Vec<_> = calls
            .into_iter()
            .map(|call| {
                let engine = Arc::clone(&engine);
                tokio::spawn(async move { call.send(&engine).await })
            })
            .collect();
        let mut ok = Vec::new();
        for task in tasks {
            let answer = task.await.unwrap();
            match answer.status {
                200 => ok.push(answer),
                405 | 409 | 422 => {}
                other => panic!("unexpected {other}: {}", answer.body),
            }
        }
        assert!(!ok.is_empty());
        assert!(ok.iter().all(|a| a.body["status"] == "completed"));
        let queued = events(engine.store()).await;
        let creates = queued
            .iter()
            .filter(|e| e.event_type == "order_create" && e.order_id == order_id(&id))
            .count();
        assert_eq!(creates, 1, "{queued:?}");
        assert_eq!(stored_order(engine.store(), &id).unwrap().1, 1);
    }
}

#[tokio::test]
async fn an_order_no_event_can_carry_is_reported_and_the_purchase_still_commits() {
    let (shop, engine) = with_orders(Setup::default());
    shop.faults.lock().unwrap().order_without_status = true;
    let id = ready_session(&engine).await;
    let call = complete(&id);
    let done = call.send(&engine).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.body["status"], "completed");
    assert_eq!(session_status(&engine, &id).await, "completed");
    assert_eq!(
        call.send(&engine).await.body,
        done.body,
        "the response is stored"
    );
    assert!(stored_order(engine.store(), &id).is_none());
    assert_eq!(engine.store().outbox_events(), 0);
}
