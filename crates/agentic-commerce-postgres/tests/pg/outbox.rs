//! The order-webhook outbox on `PgStore` (`DATABASE_URL`; skipped with a message when it is
//! unset, failing when `CI=true`): an order change and its event in one transaction, events
//! that survive a restart, two stores (two processes) delivering concurrently without sending
//! an event twice at once and in order per order, a worker crash mid-delivery (redelivered,
//! handled once by the core `WebhookReceiver`), dead letters after the deadline.
#![allow(clippy::expect_used, clippy::too_many_lines)]

use super::common::database_url;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentic_commerce::AcpError;
use agentic_commerce::engine::merchant::orders::{
    OrderChange, OrderError, record_order_change, record_order_created,
};
use agentic_commerce::engine::outbox::{
    OutboxStore, OutboxWorker, OutgoingWebhook, RetryPolicy, WebhookTransport,
};
use agentic_commerce::engine::store::{InMemoryStore, ResourceKind, ResourceStore};
use agentic_commerce::engine::webhooks::{
    Delivery, ORDER_EVENTS_PATH, WebhookHandler, WebhookReceiver,
};
use agentic_commerce::parse;
use agentic_commerce::protocol::version::ApiVersion;
use agentic_commerce::spec::latest::agentic_checkout::{FulfillmentEvent, Order};
use agentic_commerce::trust::webhook::{WebhookSecret, WebhookVerifier};
use agentic_commerce_postgres::{PgConfig, PgStore};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio_postgres::NoTls;

const SECRET: &str = "whsec_pg-outbox-secret-0001";

/// A fresh schema for `test` (dropped first if left over) and a store on it.
async fn fresh_store(url: &str, test: &str) -> (PgStore, String) {
    let schema = format!("acp_o_{test}_{}", std::process::id());
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.expect("connect");
    tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await
        .expect("drop schema");
    (store(url, &schema).await, schema)
}

async fn store(url: &str, schema: &str) -> PgStore {
    let config = PgConfig::default()
        .with_schema(schema)
        .expect("schema name")
        .with_max_connections(4);
    PgStore::connect(url, config).await.expect("connect")
}

async fn drop_schema(url: &str, schema: &str) {
    if let Ok((client, connection)) = tokio_postgres::connect(url, NoTls).await {
        tokio::spawn(connection);
        let _ = client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .await;
    }
}

fn v(version: &str) -> ApiVersion {
    version.parse().expect("version")
}

fn order(id: &str) -> Order {
    parse::from_value(&json!({
        "type": "order", "id": id, "checkout_session_id": format!("cs_{id}"),
        "permalink_url": format!("https://shop.example/orders/{id}"), "status": "confirmed",
        "line_items": [{"id": "li_a", "title": "Mug", "quantity": {"ordered": 3, "current": 3}}],
        "totals": [{"type": "total", "display_text": "Total", "amount": 4500}]
    }))
    .expect("order")
}

fn history() -> Vec<OrderChange> {
    let event: FulfillmentEvent = parse::from_value(
        &json!({"id": "e_1", "type": "shipped", "occurred_at": "2026-05-02T10:00:00Z"}),
    )
    .expect("event");
    vec![
        OrderChange::AddFulfillment(Box::new(
            parse::from_value(&json!({"id": "f_1", "type": "shipping",
                "line_items": [{"id": "li_a", "quantity": 3}]}))
            .expect("fulfillment"),
        )),
        OrderChange::FulfillmentEvent {
            fulfillment_id: "f_1".into(),
            event,
            tracking: None,
        },
        OrderChange::Quantity {
            line_item_id: "li_a".into(),
            current: None,
            fulfilled: Some(1),
        },
        OrderChange::Quantity {
            line_item_id: "li_a".into(),
            current: None,
            fulfilled: Some(3),
        },
        OrderChange::Status("completed".into()),
    ]
}

/// Events per order: the create and each change of [`history`].
const EVENTS: usize = 6;

async fn order_with_history(store: &PgStore, id: &str, now: OffsetDateTime) {
    record_order_created(store, "agent", &v("2026-04-17"), order(id), now)
        .await
        .expect("create");
    for change in history() {
        record_order_change(store, id, &change, now)
            .await
            .expect("change");
    }
}

#[derive(Default)]
struct App {
    handled: Mutex<Vec<(String, Value)>>,
    calls: AtomicUsize,
}

impl WebhookHandler for App {
    async fn order_event(&self, delivery: &Delivery) -> Result<(), AcpError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.handled.lock().expect("lock").push((
            delivery.order_id().unwrap_or_default().to_owned(),
            delivery.raw.clone(),
        ));
        Ok(())
    }
}

/// Delivers into the core receiver; `fail` answers 503; `hang` delivers then never answers;
/// `overlaps` counts an event in flight twice.
struct Loopback {
    receiver: WebhookReceiver<Arc<App>, InMemoryStore>,
    clock: Mutex<Option<OffsetDateTime>>,
    fail: AtomicBool,
    hang: AtomicBool,
    in_flight: Mutex<BTreeSet<u64>>,
    overlaps: AtomicUsize,
    attempts: AtomicUsize,
}

impl Loopback {
    fn new(app: &Arc<App>) -> Self {
        let verifier = WebhookVerifier::new(WebhookSecret::new(SECRET).expect("secret"));
        Self {
            receiver: WebhookReceiver::builder(verifier, Arc::clone(app), InMemoryStore::default())
                .strict(true)
                .build(),
            clock: Mutex::new(None),
            fail: AtomicBool::new(false),
            hang: AtomicBool::new(false),
            in_flight: Mutex::new(BTreeSet::new()),
            overlaps: AtomicUsize::new(0),
            attempts: AtomicUsize::new(0),
        }
    }
}

impl WebhookTransport for Loopback {
    async fn send(&self, webhook: &OutgoingWebhook) -> Result<u16, String> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        if !self.in_flight.lock().expect("lock").insert(webhook.seq) {
            self.overlaps.fetch_add(1, Ordering::SeqCst);
        }
        let status = if self.fail.load(Ordering::SeqCst) {
            503
        } else {
            tokio::time::sleep(Duration::from_millis(1)).await;
            let mut request = http::Request::post(ORDER_EVENTS_PATH);
            for (name, value) in &webhook.headers {
                request = request.header(*name, value);
            }
            let (parts, ()) = request.body(()).expect("request").into_parts();
            let now = self
                .clock
                .lock()
                .expect("lock")
                .unwrap_or_else(OffsetDateTime::now_utc);
            self.receiver
                .handle_at(&parts, &webhook.body, now)
                .await
                .status()
                .as_u16()
        };
        self.in_flight.lock().expect("lock").remove(&webhook.seq);
        if self.hang.swap(false, Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        Ok(status)
    }
}

fn worker(policy: RetryPolicy) -> OutboxWorker {
    OutboxWorker::new(WebhookSecret::new(SECRET).expect("secret"), policy)
}

fn policy() -> RetryPolicy {
    RetryPolicy::default()
        .with_backoff(Duration::from_secs(1), Duration::from_secs(60))
        .with_lease(Duration::from_secs(30), Duration::from_secs(5))
        .with_batch(4)
}

/// Per order, the fulfilled quantity each event showed: non-decreasing iff in order.
fn assert_in_order(app: &App, orders: &[String]) {
    let mut by_order: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    for (id, raw) in app.handled.lock().expect("lock").iter() {
        let fulfilled = raw["data"]["line_items"][0]["quantity"]["fulfilled"]
            .as_i64()
            .unwrap_or(0);
        let events = raw["data"]["fulfillments"][0]["events"]
            .as_array()
            .map_or(0, |e| i64::try_from(e.len()).unwrap_or(0));
        by_order.entry(id.clone()).or_default().push((
            raw["type"].as_str().unwrap_or_default().to_owned(),
            events * 10 + fulfilled,
        ));
    }
    for id in orders {
        let got = &by_order[id];
        assert_eq!(got.len(), EVENTS, "{id}: {got:?}");
        assert_eq!(got[0].0, "order_create", "{id}");
        let progress: Vec<i64> = got.iter().map(|(_, p)| *p).collect();
        let mut sorted = progress.clone();
        sorted.sort_unstable();
        assert_eq!(progress, sorted, "{id}: out of order");
    }
}

#[tokio::test]
async fn pg_an_order_change_and_its_event_commit_together_and_survive_a_restart() {
    let Some(url) = database_url("pg_an_order_change_and_its_event_commit_together") else {
        return;
    };
    let (first, schema) = fresh_store(&url, "together").await;
    let now = OffsetDateTime::now_utc();
    order_with_history(&first, "ord_1", now).await;
    // Refused: nothing recorded.
    let before = first
        .load(ResourceKind::Order, "ord_1")
        .await
        .expect("load");
    let refused = record_order_change(
        &first,
        "ord_1",
        &OrderChange::Status("processing".into()),
        now,
    )
    .await;
    assert!(
        matches!(refused, Err(OrderError::Refused(_))),
        "{refused:?}"
    );
    assert_eq!(
        first
            .load(ResourceKind::Order, "ord_1")
            .await
            .expect("load"),
        before
    );
    // Concurrent changes of one order from two stores: every accepted change has its event.
    let second = store(&url, &schema).await;
    record_order_created(&first, "agent", &v("2026-04-17"), order("ord_2"), now)
        .await
        .expect("create");
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let s = if i % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            tokio::spawn(async move {
                let event: FulfillmentEvent = parse::from_value(&json!({"id": format!("e_{i}"),
                    "type": "in_transit", "occurred_at": "2026-05-02T10:00:00Z"}))
                .expect("event");
                let add = OrderChange::AddFulfillment(Box::new(
                    parse::from_value(&json!({"id": format!("f_{i}"), "type": "shipping",
                        "events": [event]}))
                    .expect("fulfillment"),
                ));
                record_order_change(&s, "ord_2", &add, OffsetDateTime::now_utc()).await
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task").expect("recorded");
    }
    drop((first, second));
    // A new process finds every event.
    let restarted = store(&url, &schema).await;
    assert_eq!(restarted.pending().await.expect("pending"), 6 + 1 + 6);
    let app = Arc::new(App::default());
    let transport = Loopback::new(&app);
    let w = worker(policy());
    while restarted.pending().await.expect("pending") > 0 {
        w.deliver_due(&restarted, &transport).await.expect("round");
    }
    assert_eq!(app.calls.load(Ordering::SeqCst), 13);
    assert_in_order(&app, &["ord_1".to_owned()]);
    let fulfillments: Vec<usize> = app
        .handled
        .lock()
        .expect("lock")
        .iter()
        .filter(|(id, _)| id == "ord_2")
        .map(|(_, raw)| raw["data"]["fulfillments"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(fulfillments, [0, 1, 2, 3, 4, 5, 6], "ord_2 in commit order");
    drop_schema(&url, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_two_processes_deliver_concurrently_never_twice_at_once_and_in_order() {
    let Some(url) = database_url("pg_two_processes_deliver_concurrently") else {
        return;
    };
    let (first, schema) = fresh_store(&url, "workers").await;
    let second = store(&url, &schema).await;
    let orders: Vec<String> = (0..8).map(|i| format!("ord_w{i}")).collect();
    for id in &orders {
        order_with_history(&first, id, OffsetDateTime::now_utc()).await;
    }
    let app = Arc::new(App::default());
    let transport = Arc::new(Loopback::new(&app));
    let mut tasks = Vec::new();
    for s in [first.clone(), second.clone()] {
        let transport = Arc::clone(&transport);
        tasks.push(tokio::spawn(async move {
            let w = worker(policy());
            let mut delivered = 0;
            for _ in 0..500 {
                if s.pending().await.expect("pending") == 0 {
                    break;
                }
                delivered += w
                    .deliver_due(&s, &*transport)
                    .await
                    .expect("round")
                    .delivered;
            }
            delivered
        }));
    }
    let mut per_worker = Vec::new();
    for task in tasks {
        per_worker.push(task.await.expect("task"));
    }
    let total = orders.len() * EVENTS;
    assert_eq!(per_worker.iter().sum::<usize>(), total, "{per_worker:?}");
    assert_eq!(transport.overlaps.load(Ordering::SeqCst), 0);
    assert_eq!(
        transport.attempts.load(Ordering::SeqCst),
        total,
        "none sent twice"
    );
    assert_eq!(app.calls.load(Ordering::SeqCst), total);
    assert_in_order(&app, &orders);
    drop_schema(&url, &schema).await;
}

#[tokio::test]
async fn pg_a_crashed_workers_event_is_redelivered_once_and_dead_letters_are_listed() {
    let Some(url) = database_url("pg_a_crashed_workers_event_is_redelivered_once") else {
        return;
    };
    let (first, schema) = fresh_store(&url, "crash").await;
    let now = OffsetDateTime::now_utc();
    record_order_created(&first, "agent", &v("2026-04-17"), order("ord_c"), now)
        .await
        .expect("create");
    let app = Arc::new(App::default());
    let transport = Loopback::new(&app);
    *transport.clock.lock().expect("lock") = Some(now);
    transport.hang.store(true, Ordering::SeqCst);
    let crashed = tokio::time::timeout(
        Duration::from_millis(300),
        worker(policy()).deliver_due_at(&first, &transport, now),
    )
    .await;
    assert!(crashed.is_err(), "dropped mid-delivery");
    drop(first);
    let second = store(&url, &schema).await;
    let w = worker(policy());
    let early = w
        .deliver_due_at(&second, &transport, now + Duration::from_secs(5))
        .await
        .expect("round");
    assert_eq!(early.claimed, 0, "still claimed by the crashed worker");
    let later = now + Duration::from_secs(31);
    *transport.clock.lock().expect("lock") = Some(later);
    let report = w
        .deliver_due_at(&second, &transport, later)
        .await
        .expect("round");
    assert_eq!((report.claimed, report.delivered), (1, 1));
    assert_eq!(transport.attempts.load(Ordering::SeqCst), 2);
    assert_eq!(
        app.calls.load(Ordering::SeqCst),
        1,
        "the receiver deduplicated"
    );

    // Dead letters: a receiver down past the deadline.
    record_order_change(
        &second,
        "ord_c",
        &OrderChange::Status("processing".into()),
        later,
    )
    .await
    .expect("change");
    transport.fail.store(true, Ordering::SeqCst);
    let w = worker(policy().with_deadline(Duration::from_secs(600)));
    let mut at = later;
    while second.dead_letters(10).await.expect("dead").is_empty() {
        assert!(
            at < later + Duration::from_secs(1200),
            "never dead-lettered"
        );
        w.deliver_due_at(&second, &transport, at)
            .await
            .expect("round");
        at += Duration::from_secs(20);
    }
    let dead = second.dead_letters(10).await.expect("dead");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].event.event_type, "order_update");
    assert!(dead[0].attempts > 3, "{}", dead[0].attempts);
    assert!(
        dead[0]
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("503")
    );
    assert_eq!(second.pending().await.expect("pending"), 0);
    assert_eq!(
        second
            .purge_dead_letters_before(at + Duration::from_secs(1))
            .await
            .expect("purge"),
        1
    );
    assert!(second.dead_letters(10).await.expect("dead").is_empty());
    drop_schema(&url, &schema).await;
}
