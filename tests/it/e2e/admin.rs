//! End to end: the example merchant's admin endpoints (`/admin`, `--admin-key`) record order
//! changes whose `order_update` webhooks reach the agent's core receiver (WH-06, WH-07, WH-09,
//! ORD-03, ORD-05); and the outbox's reliability (issue 16): the merchant process `kill -9`ed
//! during delivery and restarted on PostgreSQL, and an agent that answers `500`, then hangs,
//! then recovers. Each time the receiver ends with every event once, in order per order.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agentic_commerce::AcpError;
use agentic_commerce::engine::store::InMemoryStore;
use agentic_commerce::engine::webhooks::{
    Delivery, ORDER_EVENTS_PATH, WebhookHandler, WebhookReceiver,
};
use agentic_commerce::trust::webhook::{WebhookSecret, WebhookVerifier};
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::ex::{agent, config, vault};
use crate::harness::{self, merchant_config, start_merchant, start_vault};

/// The receiver's fault mode.
const ANSWER: u8 = 0;
const FAIL_500: u8 = 1;
const HANG: u8 = 2;

/// What the agent's receiver saw.
#[derive(Default)]
struct Seen {
    /// Every POST that reached the core receiver (duplicates included).
    deliveries: AtomicUsize,
    /// Every POST answered `500` or left hanging by the injected fault.
    faulted: AtomicUsize,
    /// The fault mode.
    mode: AtomicU8,
    /// Handed to the application (deduplicated), per order, in arrival order.
    events: Mutex<BTreeMap<String, Vec<Value>>>,
    /// Per-delivery slowness.
    delay: Mutex<Duration>,
    /// Held deliveries: while set, a delivery past this many waits until it is cleared.
    hold_after: Mutex<Option<usize>>,
}

impl Seen {
    fn unique(&self) -> usize {
        self.events.lock().unwrap().values().map(Vec::len).sum()
    }

    fn of(&self, order: &str) -> Vec<Value> {
        self.events
            .lock()
            .unwrap()
            .get(order)
            .cloned()
            .unwrap_or_default()
    }
}

struct Record(Arc<Seen>);

impl WebhookHandler for Record {
    async fn order_event(&self, delivery: &Delivery) -> Result<(), AcpError> {
        let order = delivery.order_id().unwrap_or_default().to_owned();
        let mut data = delivery.raw["data"].clone();
        // The event's `data` is the order with its `type` discriminator.
        if let Value::Object(fields) = &mut data {
            fields.remove("type");
        }
        let mut events = self.0.events.lock().unwrap();
        events.entry(order).or_default().push(data);
        Ok(())
    }
}

/// The agent's core receiver on loopback, behind fault injection and counting; its URL.
async fn spawn_receiver(seen: Arc<Seen>) -> String {
    let verifier = WebhookVerifier::new(WebhookSecret::new(harness::WEBHOOK_SECRET).unwrap());
    let receiver = WebhookReceiver::builder(
        verifier,
        Record(Arc::clone(&seen)),
        InMemoryStore::default(),
    )
    .build();
    let app = agentic_commerce_axum::router(Arc::new(receiver)).into_router();
    let gate = Arc::clone(&seen);
    let app = app.layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let seen = Arc::clone(&gate);
            async move {
                use axum::response::IntoResponse as _;
                match seen.mode.load(Ordering::SeqCst) {
                    FAIL_500 => {
                        seen.faulted.fetch_add(1, Ordering::SeqCst);
                        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
                    }
                    HANG => {
                        seen.faulted.fetch_add(1, Ordering::SeqCst);
                        // Past any attempt timeout of the merchant's.
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        return StatusCode::OK.into_response();
                    }
                    _ => {}
                }
                loop {
                    let held = *seen.hold_after.lock().unwrap();
                    match held {
                        Some(n) if seen.deliveries.load(Ordering::SeqCst) >= n => {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                        _ => break,
                    }
                }
                let delay = *seen.delay.lock().unwrap();
                tokio::time::sleep(delay).await;
                seen.deliveries.fetch_add(1, Ordering::SeqCst);
                next.run(request).await
            }
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{local}{ORDER_EVENTS_PATH}")
}

/// Waits (bounded) until `done`, polling.
async fn until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One purchase of two mugs and an e-book; the order.
async fn purchase(merchant: &str, vault: &str) -> Value {
    let config = agent::PurchaseConfig {
        merchant_url: merchant.to_owned(),
        merchant_api_key: config::DEV_API_KEY.to_owned(),
        vault_url: vault.to_owned(),
        vault_api_key: vault::DEV_AGENT_KEY.to_owned(),
        signing_secret: harness::SIGNING_SECRET.to_vec(),
        vault_signing_secret: harness::VAULT_SIGNING_SECRET.to_vec(),
        items: ["var_mug_pine", "var_mug_pine", "var_guide_epub"]
            .map(str::to_owned)
            .to_vec(),
        coupon: None,
    };
    let mut log = Vec::new();
    let done = agent::run_purchase(&config, &mut |l| log.push(l))
        .await
        .unwrap_or_else(|e| panic!("{e}: {log:#?}"));
    done.completed["order"].clone()
}

/// An admin call: (status, body).
async fn admin(merchant: &str, key: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let http = reqwest::Client::new();
    let url = format!("{merchant}/admin/orders/{path}");
    let request = match body {
        Some(b) => http.post(url).body(b.to_string()),
        None => http.get(url),
    };
    let answer = request
        .bearer_auth(key)
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    let text = answer.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

const KEY: &str = config::DEV_ADMIN_KEY;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wh_09_ord_03_05_admin_ship_deliver_cancel_refund_reach_the_agent() {
    let seen = Arc::new(Seen::default());
    let hook = spawn_receiver(Arc::clone(&seen)).await;
    let vault = start_vault(None).await;
    let merchant = start_merchant(merchant_config(&vault, &hook, None, Duration::ZERO)).await;
    let order = purchase(&merchant, &vault).await;
    let id = order["id"].as_str().unwrap().to_owned();
    until("order_create", Duration::from_secs(10), || seen.unique() == 1).await;
    let (status, order) = admin(&merchant, KEY, &id, None).await;
    assert_eq!(status, 200, "{order}");
    assert_eq!(seen.of(&id)[0], order);
    let lines: Vec<String> = order["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect();
    let (mugs, book) = (&lines[0], &lines[1]);

    // Ship the mugs with tracking.
    let ship = json!({"fulfillment_id": "ful_mugs", "carrier": "UPS",
        "tracking_number": "1Z999", "tracking_url": "https://ups.example/1Z999",
        "line_items": [{"id": mugs, "quantity": 2}]});
    let (status, shipped) = admin(&merchant, KEY, &format!("{id}/ship"), Some(ship)).await;
    assert_eq!(status, 200, "{shipped}");
    let f = &shipped["fulfillments"][0];
    assert_eq!(
        (&f["status"], &f["carrier"], &f["tracking_number"]),
        (&json!("shipped"), &json!("UPS"), &json!("1Z999")),
        "{shipped}"
    );
    // Deliver them.
    let deliver = json!({"fulfillment_id": "ful_mugs"});
    let (status, delivered) =
        admin(&merchant, KEY, &format!("{id}/deliver"), Some(deliver.clone())).await;
    assert_eq!(status, 200, "{delivered}");
    assert_eq!(delivered["fulfillments"][0]["status"], "delivered");
    // Cancel one of the two mugs (ORD-03): current drops, ordered stays.
    let cancel = json!({"line_item_id": mugs, "quantity": 1});
    let (status, canceled) = admin(&merchant, KEY, &format!("{id}/cancel_line"), Some(cancel)).await;
    assert_eq!(status, 200, "{canceled}");
    assert_eq!(canceled["line_items"][0]["quantity"]["current"], 1);
    assert_eq!(canceled["line_items"][0]["quantity"]["ordered"], 2);
    // Refund part (ORD-05): amount_refunded is the sum of completed refunds.
    let refund = json!({"amount": 500, "reason": "damaged in transit",
        "line_items": [{"id": book, "quantity": 1}]});
    let (status, refunded) = admin(&merchant, KEY, &format!("{id}/refund"), Some(refund)).await;
    assert_eq!(status, 200, "{refunded}");
    let adjustment = &refunded["adjustments"][0];
    assert_eq!(
        (&adjustment["type"], &adjustment["amount"], &adjustment["reason"]),
        (&json!("refund"), &json!(500), &json!("damaged in transit")),
        "{refunded}"
    );

    // The agent got each change, in order, each event carrying the full order (WH-06, WH-07).
    until("four order_update events", Duration::from_secs(10), || {
        seen.unique() == 5
    })
    .await;
    let events = seen.of(&id);
    assert_eq!(events[1], shipped);
    assert_eq!(events[2], delivered);
    assert_eq!(events[3], canceled);
    assert_eq!(events[4], refunded);
    let (status, current) = admin(&merchant, KEY, &id, None).await;
    assert_eq!((status, &current), (200, &refunded));

    // A refused change: nothing recorded, the ACP error with its param and status.
    let (status, again) = admin(&merchant, KEY, &format!("{id}/deliver"), Some(deliver)).await;
    assert_eq!(status, 422, "{again}");
    assert_eq!(again["code"], "invalid_state", "{again}");
    assert!(again["param"].as_str().unwrap().starts_with("$.fulfillments"), "{again}");
    let too_much = json!({"line_item_id": mugs, "quantity": 2});
    let (status, refused) =
        admin(&merchant, KEY, &format!("{id}/cancel_line"), Some(too_much)).await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["code"], "invalid_value", "{refused}");
    assert!(refused["param"].as_str().unwrap().contains("line_items[0]"), "{refused}");
    let (status, bad) = admin(&merchant, KEY, &format!("{id}/refund"), Some(json!({"amount": -1}))).await;
    assert_eq!((status, &bad["param"]), (400, &json!("$.amount")), "{bad}");
    assert_eq!(admin(&merchant, KEY, &id, None).await.1, refunded);
    // Wrong or missing key: 401, whatever the order; unknown order: 404.
    let (status, denied) = admin(&merchant, config::DEV_API_KEY, &id, None).await;
    assert_eq!((status, &denied["code"]), (401, &json!("unauthorized")), "{denied}");
    let (status, _) = admin(&merchant, "", &format!("{id}/refund"), Some(json!({"amount": 1}))).await;
    assert_eq!(status, 401);
    let (status, missing) = admin(&merchant, KEY, "ord_nope/refund", Some(json!({"amount": 1}))).await;
    assert_eq!(status, 404, "{missing}");
    assert_eq!(admin(&merchant, KEY, "ord_nope", None).await.0, 404);
    // No event for anything refused.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(seen.unique(), 5);
}
