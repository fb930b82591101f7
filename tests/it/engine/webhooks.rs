//! The order-webhook receiver (`engine::webhooks`): WH-01..05 signatures with rotation,
//! deduplication (sequential and concurrent), order timelines, older-version events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use agentic_commerce::AcpError;
use agentic_commerce::engine::store::InMemoryStore;
use agentic_commerce::engine::webhooks::{
    Delivery, ORDER_EVENTS_PATH, WebhookHandler, WebhookReceiver,
};
use agentic_commerce::trust::webhook::{self, WebhookSecret, WebhookVerifier};
use serde_json::{Value, json};
use time::OffsetDateTime;

const NEW: &str = "whsec_the-new-secret-1234";
const OLD: &str = "whsec_the-old-secret-5678";

/// Counts the events and keeps them; fails on demand; optionally slow.
#[derive(Default)]
struct App {
    seen: std::sync::Mutex<Vec<Delivery>>,
    calls: AtomicUsize,
    fail_next: std::sync::atomic::AtomicBool,
    delay_ms: u64,
}

impl WebhookHandler for App {
    async fn order_event(&self, delivery: &Delivery) -> Result<(), AcpError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.delay_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(self.delay_ms)).await;
        }
        if self.fail_next.swap(false, Ordering::SeqCst) {
            return Err(AcpError::service_unavailable("the app is down", None));
        }
        self.seen.lock().unwrap().push(delivery.clone());
        Ok(())
    }
}

type Receiver = WebhookReceiver<Arc<App>, InMemoryStore>;

fn receiver(app: &Arc<App>) -> Receiver {
    let verifier = WebhookVerifier::new(WebhookSecret::new(NEW).unwrap())
        .with_secret(WebhookSecret::new(OLD).unwrap());
    WebhookReceiver::builder(verifier, Arc::clone(app), InMemoryStore::default()).build()
}

fn order(status: &str) -> Value {
    json!({"type": "order", "id": "ord_1", "checkout_session_id": "cs_1",
        "permalink_url": "https://shop.example/orders/ord_1", "status": status})
}

fn event(kind: &str, data: &Value) -> Vec<u8> {
    json!({"type": kind, "data": data}).to_string().into_bytes()
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// A delivery signed with `secret` at `at` (no header when `secret` is `None`).
async fn deliver(
    r: &Receiver,
    body: &[u8],
    secret: Option<&str>,
    at: OffsetDateTime,
    version: Option<&str>,
) -> (u16, Value, http::HeaderMap) {
    let mut request = http::Request::post(ORDER_EVENTS_PATH);
    if let Some(secret) = secret {
        let signature = webhook::sign(&WebhookSecret::new(secret).unwrap(), at, body).unwrap();
        request = request.header(webhook::HEADER_NAME, signature);
    }
    if let Some(version) = version {
        request = request.header("API-Version", version);
    }
    let (parts, ()) = request.body(()).unwrap().into_parts();
    let response = r.handle_at(&parts, body, now()).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
    (status, body, headers)
}

#[tokio::test]
async fn wh_05_missing_malformed_stale_and_wrong_signatures_are_401_and_reach_nobody() {
    let app = Arc::new(App::default());
    let r = receiver(&app);
    let body = event("order_create", &order("created"));
    let old = now() - time::Duration::seconds(301);
    for (secret, at, what) in [
        (None, now(), "missing"),
        (Some("whsec_someone-elses-secret"), now(), "mismatch"),
        (Some(NEW), old, "stale (WH-04)"),
    ] {
        let (status, answer, _) = deliver(&r, &body, secret, at, None).await;
        assert_eq!(status, 401, "{what}: {answer}");
        assert_eq!(answer["type"], "invalid_request");
        assert_eq!(answer["code"], "invalid_signature", "{what}");
    }
    // A body changed after signing.
    let mut request = http::Request::post(ORDER_EVENTS_PATH);
    let signature = webhook::sign(&WebhookSecret::new(NEW).unwrap(), now(), &body).unwrap();
    request = request.header(webhook::HEADER_NAME, signature);
    let (parts, ()) = request.body(()).unwrap().into_parts();
    let tampered = event("order_create", &order("canceled"));
    assert_eq!(r.handle_at(&parts, &tampered, now()).await.status(), 401);
    let malformed = http::Request::post(ORDER_EVENTS_PATH)
        .header(webhook::HEADER_NAME, "t=1,v1=zz")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    assert_eq!(r.handle_at(&malformed, &body, now()).await.status(), 401);
    assert_eq!(
        app.calls.load(Ordering::SeqCst),
        0,
        "nothing unverified is handled"
    );
    assert!(r.timeline("ord_1").await.unwrap().is_none());
}

#[tokio::test]
async fn wh_01_rotation_accepts_the_old_and_the_new_secret() {
    let app = Arc::new(App::default());
    let r = receiver(&app);
    let first = event("order_create", &order("created"));
    let (status, answer, _) = deliver(&r, &first, Some(OLD), now(), None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, json!({"received": true}), "WH-10");
    let second = event("order_update", &order("confirmed"));
    assert_eq!(deliver(&r, &second, Some(NEW), now(), None).await.0, 200);
    assert_eq!(app.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_duplicate_delivery_reaches_the_application_once() {
    let app = Arc::new(App::default());
    let r = receiver(&app);
    let body = event("order_create", &order("created"));
    let (status, _, headers) = deliver(&r, &body, Some(NEW), now(), None).await;
    assert_eq!(status, 200);
    assert!(headers.get("idempotent-replayed").is_none());
    // The merchant's retry: re-signed later, with the other secret, same body.
    let later = now() + time::Duration::seconds(30);
    let (status, answer, headers) = deliver(&r, &body, Some(OLD), later, None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["received"], true);
    assert_eq!(headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(app.calls.load(Ordering::SeqCst), 1);
    let timeline = r.timeline("ord_1").await.unwrap().unwrap();
    assert_eq!(timeline.statuses(), ["created"]);
}

#[tokio::test]
async fn a_failing_application_gets_the_event_again_on_the_retry() {
    let app = Arc::new(App::default());
    app.fail_next.store(true, Ordering::SeqCst);
    let r = receiver(&app);
    let body = event("order_create", &order("created"));
    let (status, _, _) = deliver(&r, &body, Some(NEW), now(), None).await;
    assert_eq!(status, 503, "the merchant retries");
    assert!(r.timeline("ord_1").await.unwrap().is_none());
    assert_eq!(deliver(&r, &body, Some(NEW), now(), None).await.0, 200);
    assert_eq!(app.calls.load(Ordering::SeqCst), 2);
    assert_eq!(app.seen.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_duplicate_deliveries_are_handled_once() {
    let app = Arc::new(App {
        delay_ms: 50,
        ..App::default()
    });
    let r = Arc::new(receiver(&app));
    let body = event("order_create", &order("created"));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (r, body) = (Arc::clone(&r), body.clone());
            tokio::spawn(async move { deliver(&r, &body, Some(NEW), now(), None).await.0 })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(app.calls.load(Ordering::SeqCst), 1, "{statuses:?}");
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    // The others were told to retry (409 in flight, IDEM-12), and a retry is a replay.
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(deliver(&r, &body, Some(NEW), now(), None).await.0, 200);
    assert_eq!(app.calls.load(Ordering::SeqCst), 1);
    assert_eq!(r.timeline("ord_1").await.unwrap().unwrap().entries.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_events_of_one_order_all_reach_its_timeline() {
    let app = Arc::new(App::default());
    let r = Arc::new(receiver(&app));
    let tasks: Vec<_> = ["created", "confirmed", "shipped", "delivered"]
        .iter()
        .map(|status| {
            let (r, body) = (Arc::clone(&r), event("order_update", &order(status)));
            tokio::spawn(async move { deliver(&r, &body, Some(NEW), now(), None).await.0 })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let timeline = r.timeline("ord_1").await.unwrap().unwrap();
    let mut statuses = timeline.statuses();
    statuses.sort_unstable();
    assert_eq!(statuses, ["confirmed", "created", "delivered", "shipped"]);
}

#[tokio::test]
async fn the_timeline_keeps_statuses_fulfillment_events_and_adjustments_in_arrival_order() {
    let app = Arc::new(App::default());
    let r = receiver(&app);
    let created = order("created");
    let mut shipped = order("shipped");
    shipped["fulfillments"] = json!([{"id": "ful_1", "type": "shipping", "status": "shipped",
        "events": [{"id": "fe_1", "type": "shipped", "occurred_at": "2026-04-20T10:00:00Z"}]}]);
    let mut delivered = order("delivered");
    delivered["fulfillments"] = json!([{"id": "ful_1", "type": "shipping", "status": "delivered",
        "events": [{"id": "fe_1", "type": "shipped", "occurred_at": "2026-04-20T10:00:00Z"},
                   {"id": "fe_2", "type": "delivered", "occurred_at": "2026-04-22T15:00:00Z"}]}]);
    let mut refunded = delivered.clone();
    refunded["adjustments"] = json!([{"id": "adj_1", "type": "refund", "status": "completed",
        "occurred_at": "2026-04-23T09:00:00Z", "amount": 500, "currency": "usd"}]);
    for (kind, data) in [
        ("order_create", &created),
        ("order_update", &shipped),
        ("order_update", &delivered),
        ("order_update", &refunded),
    ] {
        let (status, answer, _) = deliver(&r, &event(kind, data), Some(NEW), now(), None).await;
        assert_eq!(status, 200, "{answer}");
    }
    let t = r.timeline("ord_1").await.unwrap().unwrap();
    assert_eq!(t.checkout_session_id, "cs_1");
    assert_eq!(
        t.statuses(),
        ["created", "shipped", "delivered", "delivered"]
    );
    assert_eq!(t.status(), Some("delivered"));
    let e = &t.entries;
    assert_eq!(e[0].event_type, "order_create");
    assert!(e[0].fulfillments.is_empty() && e[0].adjustments.is_empty());
    assert_eq!(e[1].fulfillments[0].status.as_deref(), Some("shipped"));
    assert_eq!(e[1].fulfillment_events.len(), 1);
    assert_eq!(e[1].fulfillment_events[0].1.id, "fe_1");
    // Only what is new: fe_2, not fe_1 again.
    assert_eq!(e[2].fulfillment_events.len(), 1);
    assert_eq!(e[2].fulfillment_events[0].1.id, "fe_2");
    assert_eq!(e[2].fulfillments[0].status.as_deref(), Some("delivered"));
    assert!(e[3].fulfillments.is_empty() && e[3].fulfillment_events.is_empty());
    assert_eq!(e[3].adjustments.len(), 1);
    assert_eq!(e[3].adjustments[0].id, "adj_1");
    assert_eq!(app.seen.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn an_older_version_event_is_parsed_in_its_version_and_upgraded() {
    let app = Arc::new(App::default());
    let r = receiver(&app);
    // 2025-09-29: closed order status enum, `refunds` (replaced by `adjustments`, ORD-08).
    let data = json!({"type": "order", "checkout_session_id": "cs_1",
        "permalink_url": "https://shop.example/orders/ord_1", "status": "confirmed", "refunds": []});
    let body = event("order_update", &data);
    let (status, answer, _) = deliver(&r, &body, Some(NEW), now(), Some("2025-09-29")).await;
    assert_eq!(status, 200, "{answer}");
    let seen = app.seen.lock().unwrap()[0].clone();
    assert_eq!(seen.version.as_str(), "2025-09-29");
    assert_eq!(seen.event_type(), "order_update");
    assert_eq!(seen.order_status(), Some("confirmed"));
    assert_eq!(seen.raw["data"]["refunds"], json!([]), "the body as sent");
    // It has no order id, which 2026-04-17 requires: delivered as sent, not upgraded.
    assert!(seen.event.is_none());
    assert!(
        seen.losses.iter().any(|l| l.contains("id")),
        "{:?}",
        seen.losses
    );
    // A 2026-01-30 event upgrades to the 2026-04-17 type and enters the timeline.
    let mut newer = order("confirmed");
    newer["id"] = json!("ord_2");
    newer["refunds"] = json!([]);
    let body = event("order_update", &newer);
    let (status, answer, _) = deliver(&r, &body, Some(NEW), now(), Some("2026-01-30")).await;
    assert_eq!(status, 200, "{answer}");
    let seen = app.seen.lock().unwrap()[1].clone();
    assert!(seen.event.is_some(), "{:?}", seen.losses);
    assert_eq!(seen.event.as_ref().unwrap().data.status, "confirmed");
    let timeline = r.timeline("ord_2").await.unwrap().unwrap();
    assert_eq!(timeline.entries[0].version, "2026-01-30");
    // Unknown versions are refused (400), not guessed.
    let (status, _, _) = deliver(&r, &body, Some(NEW), now(), Some("2019-01-01")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn only_post_on_the_order_events_path_is_served() {
    let app = Arc::new(App::default());
    let r = receiver(&app);
    let get = http::Request::get(ORDER_EVENTS_PATH)
        .body(())
        .unwrap()
        .into_parts()
        .0;
    assert_eq!(r.handle_at(&get, b"", now()).await.status(), 405);
    let other = http::Request::post("/elsewhere")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    assert_eq!(r.handle_at(&other, b"{}", now()).await.status(), 404);
}

#[tokio::test]
async fn a_channel_handler_applies_back_pressure_and_the_timeline_follows_the_answer() {
    use agentic_commerce_axum::webhooks::{ChannelHandler, timeline_with};
    let (handler, mut events) = ChannelHandler::new(1);
    let verifier = WebhookVerifier::rotating([WebhookSecret::new(NEW).unwrap()]).unwrap();
    let r = WebhookReceiver::builder(verifier, handler, InMemoryStore::default()).build();
    let post = |body: Vec<u8>| {
        let signature = webhook::sign(&WebhookSecret::new(NEW).unwrap(), now(), &body).unwrap();
        let request =
            http::Request::post(ORDER_EVENTS_PATH).header(webhook::HEADER_NAME, signature);
        (request.body(()).unwrap().into_parts().0, body)
    };
    let (first, first_body) = post(event("order_create", &order("created")));
    assert_eq!(r.handle_at(&first, &first_body, now()).await.status(), 200);
    // The channel holds one event the application has not taken: the next one is refused
    // with 503 and Retry-After, and not recorded, so the merchant's retry is not a duplicate.
    let (second, second_body) = post(event("order_update", &order("confirmed")));
    let full = r.handle_at(&second, &second_body, now()).await;
    assert_eq!(full.status(), 503);
    assert_eq!(full.headers()["retry-after"], "1");
    let wait = std::time::Duration::from_millis(200);
    let timeline = timeline_with(&r, "ord_1", 1, wait).await.unwrap().unwrap();
    assert_eq!(timeline.statuses(), ["created"]);
    assert!(timeline_with(&r, "ord_1", 2, wait).await.unwrap().is_none());
    assert_eq!(events.recv().await.unwrap().event_type(), "order_create");
    assert_eq!(
        r.handle_at(&second, &second_body, now()).await.status(),
        200
    );
    assert_eq!(events.recv().await.unwrap().event_type(), "order_update");
    let timeline = timeline_with(&r, "ord_1", 2, wait).await.unwrap().unwrap();
    assert_eq!(timeline.statuses(), ["created", "confirmed"]);
    // The application stopped: 503 again.
    drop(events);
    let (third, third_body) = post(event("order_update", &order("shipped")));
    assert_eq!(r.handle_at(&third, &third_body, now()).await.status(), 503);
}
