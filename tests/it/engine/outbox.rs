//! Orders after the purchase and the durable outbox (`engine::merchant::orders`,
//! `engine::outbox`): refused changes (ORD-01..09), one event per accepted change carrying the
//! full order valid for the agent's version (WH-06/07), in-order delivery per order through a
//! failing receiver, two concurrent workers, a worker crash mid-delivery (redelivered, handled
//! once by the core `WebhookReceiver`), dead letters after the deadline.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentic_commerce::AcpError;
use agentic_commerce::engine::merchant::orders::{
    OrderChange, OrderError, Tracking, apply, record_order_change, record_order_created,
};
use agentic_commerce::engine::outbox::{
    OutboxStore, OutboxWorker, OutgoingWebhook, RetryPolicy, WebhookTransport, render,
};
use agentic_commerce::engine::store::{InMemoryStore, ResourceKind};
use agentic_commerce::engine::webhooks::{
    Delivery, ORDER_EVENTS_PATH, WebhookHandler, WebhookReceiver,
};
use agentic_commerce::parse;
use agentic_commerce::spec::latest::agentic_checkout::{Adjustment, FulfillmentEvent, Order};
use agentic_commerce::trust::webhook::{WebhookSecret, WebhookVerifier};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::common::{OfficialSchemas, api_version, spec_dir};

const SECRET: &str = "whsec_outbox-test-secret-0001";

fn t0() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn order(id: &str) -> Order {
    parse::from_value(&json!({
        "type": "order", "id": id, "checkout_session_id": format!("cs_{id}"),
        "permalink_url": format!("https://shop.example/orders/{id}"), "status": "confirmed",
        "line_items": [
            {"id": "li_a", "title": "Mug", "quantity": {"ordered": 2, "current": 2},
             "unit_price": 1500, "subtotal": 3000},
            {"id": "li_b", "title": "Tea", "quantity": {"ordered": 1, "current": 1},
             "unit_price": 2000, "subtotal": 2000}
        ],
        "totals": [
            {"type": "subtotal", "display_text": "Subtotal", "amount": 5000},
            {"type": "total", "display_text": "Total", "amount": 5000}
        ]
    }))
    .unwrap()
}

fn shipping(id: &str) -> OrderChange {
    OrderChange::AddFulfillment(Box::new(
        parse::from_value(&json!({"id": id, "type": "shipping", "status": "pending",
            "line_items": [{"id": "li_a", "quantity": 2}, {"id": "li_b", "quantity": 1}]}))
        .unwrap(),
    ))
}

fn fevent(fulfillment: &str, id: &str, kind: &str) -> OrderChange {
    let event: FulfillmentEvent =
        parse::from_value(&json!({"id": id, "type": kind, "occurred_at": "2026-05-02T10:00:00Z"}))
            .unwrap();
    OrderChange::FulfillmentEvent {
        fulfillment_id: fulfillment.to_owned(),
        event,
        tracking: None,
    }
}

fn adjustment(id: &str, kind: &str, status: &str, amount: i64) -> OrderChange {
    let adjustment: Adjustment = parse::from_value(&json!({"id": id, "type": kind,
        "status": status, "occurred_at": "2026-05-03T10:00:00Z", "amount": amount,
        "currency": "usd"}))
    .unwrap();
    OrderChange::Adjustment(adjustment)
}

fn quantity(line: &str, current: Option<i64>, fulfilled: Option<i64>) -> OrderChange {
    OrderChange::Quantity {
        line_item_id: line.to_owned(),
        current,
        fulfilled,
    }
}

/// The refusal's rule, or `"lifecycle"` for a lifecycle rule.
fn refused(order: &Order, change: &OrderChange) -> (String, String) {
    let refusal = apply(order, change).expect_err("the change must be refused");
    (
        refusal.rule.unwrap_or("lifecycle").to_owned(),
        refusal.param.to_string(),
    )
}

#[test]
fn changes_the_orders_rules_forbid_are_refused_with_rule_and_param() {
    let base = order("ord_r");
    // ORD-03: current above ordered, fulfilled above current.
    assert_eq!(
        refused(&base, &quantity("li_a", Some(3), None)),
        ("ORD-03".into(), "$.line_items[0].quantity".into())
    );
    assert_eq!(refused(&base, &quantity("li_b", None, Some(2))).0, "ORD-03");
    // ORD-09: an unknown line.
    assert_eq!(
        refused(&base, &quantity("li_zz", Some(0), None)).0,
        "ORD-09"
    );
    // ORD-07: a pickup status on a shipping fulfillment; a shipping event on digital delivery.
    let shipped = apply(&base, &shipping("f_1")).unwrap();
    assert_eq!(
        refused(&shipped, &fevent("f_1", "e_1", "ready_for_pickup")),
        ("ORD-07".into(), "$.fulfillments[0].events[0].type".into())
    );
    let digital = OrderChange::AddFulfillment(Box::new(
        parse::from_value(&json!({"id": "f_d", "type": "digital", "status": "shipped"})).unwrap(),
    ));
    assert_eq!(refused(&base, &digital).0, "ORD-07");
    // A delivered fulfillment takes no more events; an event id is recorded once.
    let delivered = apply(&shipped, &fevent("f_1", "e_1", "delivered")).unwrap();
    assert_eq!(
        refused(&delivered, &fevent("f_1", "e_2", "shipped")).0,
        "lifecycle"
    );
    let in_transit = apply(&shipped, &fevent("f_1", "e_1", "shipped")).unwrap();
    assert_eq!(
        refused(&in_transit, &fevent("f_1", "e_1", "in_transit")).0,
        "lifecycle"
    );
    // Order status: no way back, nothing after a terminal status, no no-op.
    let processing = apply(&base, &OrderChange::Status("processing".into())).unwrap();
    assert_eq!(
        refused(&processing, &OrderChange::Status("confirmed".into())),
        ("lifecycle".into(), "$.status".into())
    );
    let canceled = apply(&processing, &OrderChange::Status("canceled".into())).unwrap();
    assert_eq!(
        refused(&canceled, &OrderChange::Status("processing".into())).0,
        "lifecycle"
    );
    assert_eq!(refused(&canceled, &shipping("f_2")).0, "lifecycle");
    assert_eq!(
        refused(&base, &OrderChange::Status("confirmed".into())).0,
        "lifecycle"
    );
    // ORD-05: refunds never above the amount charged; a completed adjustment stays completed.
    assert_eq!(
        refused(&base, &adjustment("adj_1", "refund", "completed", 5001)).0,
        "ORD-05"
    );
    let refunded = apply(&base, &adjustment("adj_1", "refund", "completed", 1500)).unwrap();
    assert_eq!(
        refused(&refunded, &adjustment("adj_1", "refund", "pending", 1500)).0,
        "lifecycle"
    );
    assert_eq!(
        refused(&refunded, &adjustment("adj_1", "credit", "completed", 1500)).0,
        "lifecycle"
    );
    assert_eq!(
        refused(&base, &adjustment("adj_2", "refund", "pending", -1)).0,
        "ORD-06"
    );
}

#[test]
fn accepted_changes_keep_the_derived_fields_and_pass_unknown_values_through() {
    let base = order("ord_d");
    // ORD-02: line statuses follow the quantities.
    let partial = apply(&base, &quantity("li_a", None, Some(1))).unwrap();
    let lines = partial.line_items.as_ref().unwrap();
    assert_eq!(lines[0].status.as_deref(), Some("partial"));
    assert_eq!(lines[1].status.as_deref(), Some("processing"));
    let removed = apply(&partial, &quantity("li_b", Some(0), None)).unwrap();
    assert_eq!(
        removed.line_items.as_ref().unwrap()[1].status.as_deref(),
        Some("removed")
    );
    let fulfilled = apply(&removed, &quantity("li_a", None, Some(2))).unwrap();
    assert_eq!(
        fulfilled.line_items.as_ref().unwrap()[0].status.as_deref(),
        Some("fulfilled")
    );
    // Events move the fulfillment status; tracking lands on the fulfillment.
    let with_f = apply(&base, &shipping("f_1")).unwrap();
    let OrderChange::FulfillmentEvent {
        fulfillment_id,
        event,
        ..
    } = fevent("f_1", "e_1", "shipped")
    else {
        unreachable!()
    };
    let shipped = apply(
        &with_f,
        &OrderChange::FulfillmentEvent {
            fulfillment_id,
            event,
            tracking: Some(Tracking::new("UPS", "1Z999")),
        },
    )
    .unwrap();
    let f = &shipped.fulfillments.as_ref().unwrap()[0];
    assert_eq!(
        (f.status.as_deref(), f.carrier.as_deref()),
        (Some("shipped"), Some("UPS"))
    );
    assert_eq!(f.tracking_number.as_deref(), Some("1Z999"));
    let returned = apply(&shipped, &fevent("f_1", "e_2", "returned_to_sender")).unwrap();
    assert_eq!(
        returned.fulfillments.as_ref().unwrap()[0].status.as_deref(),
        Some("failed")
    );
    // ORD-05: amount_refunded is the sum of completed refunds only.
    let pending = apply(&base, &adjustment("adj_1", "refund", "pending", 1500)).unwrap();
    assert!(
        pending
            .totals
            .as_ref()
            .unwrap()
            .iter()
            .all(|t| t.kind.as_str() != "amount_refunded")
    );
    let done = apply(&pending, &adjustment("adj_1", "refund", "completed", 1500)).unwrap();
    let credit = apply(&done, &adjustment("adj_2", "credit", "completed", 700)).unwrap();
    let refunded: Vec<i64> = credit
        .totals
        .as_ref()
        .unwrap()
        .iter()
        .filter(|t| t.kind.as_str() == "amount_refunded")
        .map(|t| t.amount.minor_units())
        .collect();
    assert_eq!(refunded, [1500]);
    // ORD-01: unknown statuses and event types are kept, never refused.
    let odd = apply(&with_f, &fevent("f_1", "e_9", "held_at_customs")).unwrap();
    assert_eq!(
        odd.fulfillments.as_ref().unwrap()[0]
            .events
            .as_ref()
            .unwrap()[0]
            .kind,
        "held_at_customs"
    );
    let review = apply(
        &base,
        &OrderChange::Status("awaiting_export_license".into()),
    )
    .unwrap();
    assert_eq!(review.status.as_deref(), Some("awaiting_export_license"));
    let dispute = apply(&base, &adjustment("adj_3", "chargeback_v2", "opened", 100)).unwrap();
    assert_eq!(dispute.adjustments.as_ref().unwrap()[0].status, "opened");
}

/// Every accepted change leaves exactly one event; refused ones none. Each event carries the
/// full order after its change and validates against the official webhook schema of the
/// agent's version (2026-04-17 and the first release, 2025-09-29).
#[tokio::test]
async fn wh_06_every_accepted_change_yields_one_event_with_the_full_order_for_the_agents_version() {
    let Some(spec) = spec_dir("wh_06_every_accepted_change_yields_one_event") else {
        return;
    };
    for version in ["2026-04-17", "2026-01-30", "2025-09-29"] {
        let store = InMemoryStore::default();
        let v = api_version(version);
        let id = format!("ord_{}", version.replace('-', ""));
        let now = t0();
        let created = record_order_created(&store, "agent", &v, order(&id), now)
            .await
            .unwrap();
        let mut expected = vec![("order_create", created)];
        let changes = [
            shipping("f_1"),
            quantity("li_b", Some(0), None),
            fevent("f_1", "e_1", "shipped"),
            quantity("li_a", None, Some(2)),
            fevent("f_1", "e_2", "delivered"),
            adjustment("adj_1", "refund", "completed", 2000),
            OrderChange::Status("completed".into()),
        ];
        for change in &changes {
            let order = record_order_change(&store, &id, change, now).await.unwrap();
            expected.push(("order_update", order));
            // Refused afterwards: nothing is recorded.
            let before = store.get(ResourceKind::Order, &id).unwrap().version;
            assert!(matches!(
                record_order_change(&store, &id, &quantity("li_a", Some(9), None), now).await,
                Err(OrderError::Refused(_))
            ));
            assert_eq!(store.get(ResourceKind::Order, &id).unwrap().version, before);
        }
        assert!(matches!(
            record_order_change(&store, "ord_missing", &changes[0], now).await,
            Err(OrderError::NotFound(_))
        ));
        let latest = version == "2026-04-17";
        let pending = store.pending().await.unwrap();
        if latest {
            assert_eq!(pending, 8);
        } else {
            // Creation, the refund and the last status only: older versions show no
            // fulfillments or quantities, and an event identical to the previous one would be
            // taken for a redelivery.
            assert_eq!(pending, 3, "{version}");
        }
        let mut bodies = BTreeSet::new();
        let schemas = OfficialSchemas::load_version(&spec, version);
        let validator = schemas.validator("agentic_checkout_webhook", "WebhookEvent");
        let mut seen = 0;
        // One claim at a time: only the head of the order's queue is ever due.
        let lease = Duration::from_secs(60);
        let foreign = store.claim(now, 10, lease, Some("another_agent")).await;
        assert!(
            foreign.unwrap().is_empty(),
            "a worker of another recipient gets nothing"
        );
        loop {
            let claims = store.claim(now, 10, lease, Some("agent")).await.unwrap();
            assert!(claims.len() <= 1, "one order: one event at a time");
            let Some(claim) = claims.first() else { break };
            let kind = if seen == 0 {
                "order_create"
            } else {
                "order_update"
            };
            assert_eq!(claim.event.event.event_type, kind);
            assert_eq!(claim.event.event.version.as_str(), version);
            let body: Value =
                serde_json::from_slice(&render(&claim.event.event.payload, &v).unwrap()).unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&body)
                .map(|e| e.to_string())
                .collect();
            assert!(
                errors.is_empty(),
                "{version} event {seen}: {errors:?}\n{body}"
            );
            assert_eq!(body["type"], kind);
            assert!(bodies.insert(body.to_string()), "a repeated body: {body}");
            assert_eq!(body["data"]["type"], "order", "WH-07");
            assert_eq!(body["data"]["checkout_session_id"], format!("cs_{id}"));
            if latest {
                // WH-06: the full order, not a delta.
                let mut full = parse::to_value(&expected[seen].1).unwrap();
                full["type"] = json!("order");
                assert_eq!(body["data"], full, "event {seen}");
            }
            store
                .settle(
                    claim,
                    agentic_commerce::engine::outbox::Settlement::Delivered,
                    now,
                )
                .await
                .unwrap();
            seen += 1;
        }
        assert_eq!(seen as u64, pending, "{version}");
        // An order is created once.
        assert!(matches!(
            record_order_created(&store, "agent", &v, order(&id), now).await,
            Err(OrderError::AlreadyExists(_))
        ));
    }
}

// --- delivery --------------------------------------------------------------------------------

/// The agent's application behind the core receiver: every event it handled, in order.
#[derive(Default)]
struct App {
    handled: Mutex<Vec<(String, String, String)>>,
    calls: AtomicUsize,
}

impl WebhookHandler for App {
    async fn order_event(&self, delivery: &Delivery) -> Result<(), AcpError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        // Events before 2026-04-17 carry no order id: keyed by the checkout session.
        let key = delivery
            .order_id()
            .or_else(|| delivery.raw["data"]["checkout_session_id"].as_str())
            .unwrap_or_default();
        self.handled.lock().unwrap().push((
            key.to_owned(),
            delivery.event_type().to_owned(),
            delivery.raw.to_string(),
        ));
        Ok(())
    }
}

type Receiver = WebhookReceiver<Arc<App>, InMemoryStore>;

/// Delivers into the core receiver in process. Faults: `fail` answers 503 without delivering;
/// `hang_after_delivery` delivers, then never answers (a worker dropped mid-delivery);
/// `in_flight` detects two attempts of one event at once.
struct Loopback {
    receiver: Receiver,
    clock: Mutex<OffsetDateTime>,
    fail: AtomicBool,
    hang_after_delivery: AtomicBool,
    in_flight: Mutex<BTreeSet<u64>>,
    overlaps: AtomicUsize,
    attempts: AtomicUsize,
    delay: Duration,
}

impl Loopback {
    fn new(app: &Arc<App>) -> Self {
        let verifier = WebhookVerifier::new(WebhookSecret::new(SECRET).unwrap());
        Self {
            receiver: WebhookReceiver::builder(verifier, Arc::clone(app), InMemoryStore::default())
                .strict(true)
                .build(),
            clock: Mutex::new(t0()),
            fail: AtomicBool::new(false),
            hang_after_delivery: AtomicBool::new(false),
            in_flight: Mutex::new(BTreeSet::new()),
            overlaps: AtomicUsize::new(0),
            attempts: AtomicUsize::new(0),
            delay: Duration::ZERO,
        }
    }
}

impl WebhookTransport for Loopback {
    async fn send(&self, webhook: &OutgoingWebhook) -> Result<u16, String> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        if !self.in_flight.lock().unwrap().insert(webhook.seq) {
            self.overlaps.fetch_add(1, Ordering::SeqCst);
        }
        let status = async {
            if self.fail.load(Ordering::SeqCst) {
                return 503;
            }
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            }
            let mut request = http::Request::post(ORDER_EVENTS_PATH);
            for (name, value) in &webhook.headers {
                request = request.header(*name, value);
            }
            let (parts, ()) = request.body(()).unwrap().into_parts();
            let now = *self.clock.lock().unwrap();
            self.receiver
                .handle_at(&parts, &webhook.body, now)
                .await
                .status()
                .as_u16()
        }
        .await;
        self.in_flight.lock().unwrap().remove(&webhook.seq);
        if self.hang_after_delivery.swap(false, Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        Ok(status)
    }
}

fn worker(policy: RetryPolicy) -> OutboxWorker {
    OutboxWorker::new(WebhookSecret::new(SECRET).unwrap(), policy)
}

fn fast_policy() -> RetryPolicy {
    RetryPolicy::default()
        .with_backoff(Duration::from_secs(1), Duration::from_secs(60))
        .with_lease(Duration::from_secs(30), Duration::from_secs(5))
}

/// Records `changes` of a fresh order `id` for an agent on `version`.
async fn order_with_history(store: &InMemoryStore, id: &str, version: &str, now: OffsetDateTime) {
    record_order_created(store, "agent", &api_version(version), order(id), now)
        .await
        .unwrap();
    for change in [
        shipping("f_1"),
        fevent("f_1", "e_1", "shipped"),
        OrderChange::Status("shipped".into()),
        quantity("li_a", None, Some(2)),
        quantity("li_b", None, Some(1)),
        fevent("f_1", "e_2", "delivered"),
        OrderChange::Status("completed".into()),
    ] {
        record_order_change(store, id, &change, now).await.unwrap();
    }
}

/// The statuses each order's events arrived with, and the fulfillment event counts (which
/// only grow if events arrive in order).
fn arrivals(app: &App) -> BTreeMap<String, Vec<(String, usize)>> {
    let mut out: BTreeMap<String, Vec<(String, usize)>> = BTreeMap::new();
    for (order, kind, raw) in app.handled.lock().unwrap().iter() {
        let raw: Value = serde_json::from_str(raw).unwrap();
        let events = raw["data"]["fulfillments"][0]["events"]
            .as_array()
            .map_or(0, Vec::len);
        let lines = raw["data"]["line_items"].as_array().map_or(0, |l| {
            l.iter().filter(|l| l["status"] == "fulfilled").count()
        });
        out.entry(order.clone())
            .or_default()
            .push((kind.clone(), events * 10 + lines));
    }
    out
}

fn assert_in_order(app: &App, orders: &[(&str, usize)]) {
    let arrivals = arrivals(app);
    for (id, events_per_order) in orders {
        let events_per_order = *events_per_order;
        let got = &arrivals[*id];
        assert_eq!(got.len(), events_per_order, "{id}: {got:?}");
        assert_eq!(got[0].0, "order_create", "{id}");
        assert!(got[1..].iter().all(|(k, _)| k == "order_update"), "{id}");
        let progress: Vec<usize> = got.iter().map(|(_, p)| *p).collect();
        let mut sorted = progress.clone();
        sorted.sort_unstable();
        assert_eq!(progress, sorted, "{id}: events arrived out of order");
    }
}

#[tokio::test]
async fn events_of_one_order_arrive_in_order_through_a_receiver_that_fails_then_recovers() {
    let store = InMemoryStore::default();
    let app = Arc::new(App::default());
    let transport = Loopback::new(&app);
    let mut now = t0();
    order_with_history(&store, "ord_1", "2026-04-17", now).await;
    order_with_history(&store, "ord_2", "2026-01-30", now).await;
    let w = worker(fast_policy());
    transport.fail.store(true, Ordering::SeqCst);
    let mut rounds = 0;
    while store.pending().await.unwrap() > 0 {
        rounds += 1;
        assert!(rounds < 500, "delivery never finished");
        // Down for the first ten minutes.
        if now > t0() + Duration::from_secs(600) {
            transport.fail.store(false, Ordering::SeqCst);
        }
        *transport.clock.lock().unwrap() = now;
        let report = w.deliver_due_at(&store, &transport, now).await.unwrap();
        assert_eq!(report.dead, 0);
        now += Duration::from_secs(7);
    }
    assert!(
        transport.attempts.load(Ordering::SeqCst) > 11,
        "failures were retried"
    );
    assert_eq!(
        app.calls.load(Ordering::SeqCst),
        11,
        "each event handled once"
    );
    // 2026-01-30 shows the status changes only (and calls the last one `fulfilled`).
    assert_in_order(&app, &[("ord_1", 8), ("cs_ord_2", 3)]);
    let statuses: Vec<Value> = app
        .handled
        .lock()
        .unwrap()
        .iter()
        .filter(|(k, _, _)| k == "cs_ord_2")
        .map(|(_, _, raw)| serde_json::from_str::<Value>(raw).unwrap()["data"]["status"].clone())
        .collect();
    assert_eq!(
        statuses,
        [json!("confirmed"), json!("shipped"), json!("fulfilled")]
    );
    let timeline = transport.receiver.timeline("ord_1").await.unwrap().unwrap();
    assert_eq!(timeline.entries.len(), 8);
    assert_eq!(timeline.status(), Some("completed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_workers_never_send_an_event_twice_at_once_and_deliver_all() {
    let store = Arc::new(InMemoryStore::default());
    let app = Arc::new(App::default());
    let mut transport = Loopback::new(&app);
    transport.delay = Duration::from_millis(2);
    let transport = Arc::new(transport);
    let orders: Vec<String> = (0..12).map(|i| format!("ord_c{i}")).collect();
    for id in &orders {
        order_with_history(&store, id, "2026-04-17", t0()).await;
    }
    let total = orders.len() * 8;
    let policy = fast_policy().with_batch(4);
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let (store, transport, w) = (
            Arc::clone(&store),
            Arc::clone(&transport),
            worker(policy.clone()),
        );
        tasks.push(tokio::spawn(async move {
            let mut delivered = 0;
            for _ in 0..2000 {
                if store.pending().await.unwrap() == 0 {
                    break;
                }
                *transport.clock.lock().unwrap() = t0();
                delivered += w.deliver_due(&store, &*transport).await.unwrap().delivered;
                tokio::task::yield_now().await;
            }
            delivered
        }));
    }
    let mut per_worker = Vec::new();
    for task in tasks {
        per_worker.push(task.await.unwrap());
    }
    assert_eq!(per_worker.iter().sum::<usize>(), total, "{per_worker:?}");
    assert!(
        per_worker.iter().all(|&n| n > 0),
        "both workers worked: {per_worker:?}"
    );
    assert_eq!(
        transport.overlaps.load(Ordering::SeqCst),
        0,
        "an event was in flight twice"
    );
    assert_eq!(
        transport.attempts.load(Ordering::SeqCst),
        total,
        "nothing sent twice"
    );
    assert_eq!(app.calls.load(Ordering::SeqCst), total);
    let ids: Vec<(&str, usize)> = orders.iter().map(|o| (o.as_str(), 8)).collect();
    assert_in_order(&app, &ids);
}

#[tokio::test]
async fn an_event_whose_worker_crashed_mid_delivery_is_redelivered_and_handled_once() {
    let store = InMemoryStore::default();
    let app = Arc::new(App::default());
    let transport = Loopback::new(&app);
    let now = t0();
    *transport.clock.lock().unwrap() = now;
    record_order_created(
        &store,
        "agent",
        &api_version("2026-04-17"),
        order("ord_x"),
        now,
    )
    .await
    .unwrap();
    let policy = fast_policy();
    // The first worker delivers, then dies before it records the delivery.
    transport.hang_after_delivery.store(true, Ordering::SeqCst);
    let crashed = tokio::time::timeout(
        Duration::from_millis(200),
        worker(policy.clone()).deliver_due_at(&store, &transport, now),
    )
    .await;
    assert!(
        crashed.is_err(),
        "the first worker was dropped mid-delivery"
    );
    assert_eq!(app.calls.load(Ordering::SeqCst), 1);
    assert_eq!(store.pending().await.unwrap(), 1, "not marked delivered");
    // Its claim holds until the lease runs out.
    let w = worker(policy.clone());
    let report = w
        .deliver_due_at(&store, &transport, now + Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(report.claimed, 0, "claimed by the crashed worker");
    let later = now + policy.lease + Duration::from_secs(1);
    *transport.clock.lock().unwrap() = later;
    let report = w.deliver_due_at(&store, &transport, later).await.unwrap();
    assert_eq!((report.claimed, report.delivered), (1, 1));
    assert_eq!(store.pending().await.unwrap(), 0);
    assert_eq!(transport.attempts.load(Ordering::SeqCst), 2, "sent twice");
    assert_eq!(
        app.calls.load(Ordering::SeqCst),
        1,
        "handled once: the receiver deduplicated"
    );
}

#[tokio::test]
async fn events_still_failing_at_the_deadline_become_dead_letters_and_free_the_order() {
    let store = InMemoryStore::default();
    let app = Arc::new(App::default());
    let transport = Loopback::new(&app);
    let start = t0();
    let v = api_version("2026-04-17");
    record_order_created(&store, "agent", &v, order("ord_d"), start)
        .await
        .unwrap();
    let w = worker(fast_policy().with_deadline(Duration::from_secs(3600)));
    transport.fail.store(true, Ordering::SeqCst);
    let mut now = start;
    while store.dead_letters(10).await.unwrap().is_empty() {
        assert!(
            now < start + Duration::from_secs(7200),
            "never dead-lettered"
        );
        w.deliver_due_at(&store, &transport, now).await.unwrap();
        now += Duration::from_secs(30);
    }
    let dead = store.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0].attempts > 5,
        "retried with backoff: {}",
        dead[0].attempts
    );
    assert!(dead[0].last_error.as_deref().unwrap().contains("503"));
    assert!(
        now > start + Duration::from_secs(3000),
        "kept trying until near the deadline"
    );
    assert_eq!(store.pending().await.unwrap(), 0);
    // The order's next event is not blocked by the dead letter.
    transport.fail.store(false, Ordering::SeqCst);
    record_order_change(
        &store,
        "ord_d",
        &OrderChange::Status("processing".into()),
        now,
    )
    .await
    .unwrap();
    *transport.clock.lock().unwrap() = now;
    let report = w.deliver_due_at(&store, &transport, now).await.unwrap();
    assert_eq!(report.delivered, 1);
    assert_eq!(app.calls.load(Ordering::SeqCst), 1);
}

#[test]
fn backoff_grows_exponentially_with_full_jitter_between_the_bounds() {
    let p = RetryPolicy::default();
    assert_eq!(p.backoff(1, 1.0), Duration::from_secs(1));
    assert_eq!(p.backoff(4, 1.0), Duration::from_secs(8));
    assert_eq!(p.backoff(4, 0.5), Duration::from_secs(4));
    assert_eq!(
        p.backoff(4, 0.0),
        Duration::from_secs(1),
        "never below the first backoff"
    );
    assert_eq!(p.backoff(30, 1.0), Duration::from_secs(600), "capped");
    assert_eq!(p.backoff(u32::MAX, 1.0), Duration::from_secs(600));
    assert_eq!(p.deadline, Duration::from_secs(24 * 3600));
}

#[test]
fn a_refusal_is_an_acp_error_with_its_param() {
    let refusal = apply(&order("ord_e"), &quantity("li_a", Some(5), None)).unwrap_err();
    let acp = refusal.to_acp_error();
    assert_eq!((acp.status(), acp.code()), (400, "invalid_value"));
    assert_eq!(acp.param(), Some("$.line_items[0].quantity"));
    let terminal = apply(
        &apply(&order("ord_e"), &OrderChange::Status("canceled".into())).unwrap(),
        &OrderChange::Status("shipped".into()),
    )
    .unwrap_err()
    .to_acp_error();
    assert_eq!((terminal.status(), terminal.code()), (422, "invalid_state"));
    assert_eq!(terminal.param(), Some("$.status"));
}

/// What an admin endpoint calls: the engine records changes in its own store.
#[tokio::test]
async fn the_merchant_engine_records_orders_and_changes_in_its_store() {
    let (_, engine) = crate::engine::engine();
    let agent = agentic_commerce::engine::merchant::Identity::new("agent");
    engine
        .record_order_created(&agent, &api_version("2026-01-30"), order("ord_m"))
        .await
        .unwrap();
    let changed = engine
        .record_order_change("ord_m", &OrderChange::Status("shipped".into()))
        .await
        .unwrap();
    assert_eq!(changed.status.as_deref(), Some("shipped"));
    let stored = engine.order("ord_m").await.unwrap().unwrap();
    assert_eq!(
        (stored.recipient.as_str(), stored.version.as_str()),
        ("agent", "2026-01-30")
    );
    assert_eq!(stored.order, changed);
    assert!(matches!(
        engine
            .record_order_change("ord_m", &OrderChange::Status("created".into()))
            .await,
        Err(OrderError::Refused(_))
    ));
    assert_eq!(engine.store().pending().await.unwrap(), 2);
}

/// Concurrent changes of one order: each is applied to the order the previous one left (none
/// lost), each has its event, and the events are in commit order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_changes_of_one_order_are_all_kept_each_with_its_event() {
    let store = Arc::new(InMemoryStore::default());
    let now = t0();
    record_order_created(
        &*store,
        "agent",
        &api_version("2026-04-17"),
        order("ord_k"),
        now,
    )
    .await
    .unwrap();
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let change = adjustment(&format!("adj_{i}"), "credit", "completed", 100);
                record_order_change(&*store, "ord_k", &change, now).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let mut counts = Vec::new();
    loop {
        let claims = store
            .claim(now, 10, Duration::from_secs(60), None)
            .await
            .unwrap();
        let Some(claim) = claims.first() else { break };
        let payload: Value = serde_json::from_str(&claim.event.event.payload).unwrap();
        counts.push(
            payload["data"]["adjustments"]
                .as_array()
                .map_or(0, Vec::len),
        );
        store
            .settle(
                claim,
                agentic_commerce::engine::outbox::Settlement::Delivered,
                now,
            )
            .await
            .unwrap();
    }
    assert_eq!(counts, [0, 1, 2, 3, 4, 5, 6]);
}
