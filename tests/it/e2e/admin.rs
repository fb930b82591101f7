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

use crate::common::until;
use crate::ex::{client_agent as agent, config, vault};
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
    /// Withheld answers: while set, a delivery past this many is processed but not answered
    /// until it is cleared.
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
                let delay = *seen.delay.lock().unwrap();
                tokio::time::sleep(delay).await;
                let n = seen.deliveries.fetch_add(1, Ordering::SeqCst) + 1;
                let response = next.run(request).await;
                // Processed, but the answer is withheld: the merchant cannot know it arrived.
                while seen.hold_after.lock().unwrap().is_some_and(|h| n > h) {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                response
            }
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{local}{ORDER_EVENTS_PATH}")
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

/// An in-memory merchant, its agent's receiver, and one order with its `order_create`
/// received: (what the agent saw, the merchant's URL, the order id, its line ids).
async fn one_order() -> (Arc<Seen>, String, String, Vec<String>) {
    let seen = Arc::new(Seen::default());
    let hook = spawn_receiver(Arc::clone(&seen)).await;
    let vault = start_vault(None).await;
    let merchant = start_merchant(merchant_config(&vault, &hook, None, Duration::ZERO)).await;
    let order = purchase(&merchant, &vault).await;
    let id = order["id"].as_str().unwrap().to_owned();
    until("order_create", Duration::from_secs(10), || {
        seen.unique() == 1
    })
    .await;
    let (status, order) = admin(&merchant, KEY, &id, None).await;
    assert_eq!(status, 200, "{order}");
    assert_eq!(seen.of(&id)[0], order);
    let lines = order["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect();
    (seen, merchant, id, lines)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wh_09_ord_03_05_admin_ship_deliver_cancel_refund_reach_the_agent() {
    let (seen, merchant, id, lines) = one_order().await;
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
    let (status, delivered) = admin(
        &merchant,
        KEY,
        &format!("{id}/deliver"),
        Some(deliver.clone()),
    )
    .await;
    assert_eq!(status, 200, "{delivered}");
    assert_eq!(delivered["fulfillments"][0]["status"], "delivered");
    // Cancel one of the two mugs (ORD-03): current drops, ordered stays.
    let cancel = json!({"line_item_id": mugs, "quantity": 1});
    let (status, canceled) =
        admin(&merchant, KEY, &format!("{id}/cancel_line"), Some(cancel)).await;
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
        (
            &adjustment["type"],
            &adjustment["amount"],
            &adjustment["reason"]
        ),
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
    // The outbox is empty: everything delivered, nothing dead.
    let (status, outbox) = admin(&merchant, KEY, "../dead_letters", None).await;
    assert_eq!(
        (status, &outbox),
        (200, &json!({"pending": 0, "dead_letters": []}))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ord_03_07_admin_refuses_rule_breaking_changes_wrong_keys_and_unknown_orders() {
    let (seen, merchant, id, lines) = one_order().await;
    let mugs = &lines[0];
    let ship = json!({"fulfillment_id": "ful_mugs", "carrier": "UPS", "tracking_number": "1Z9"});
    assert_eq!(
        admin(&merchant, KEY, &format!("{id}/ship"), Some(ship))
            .await
            .0,
        200
    );
    let deliver = json!({"fulfillment_id": "ful_mugs"});
    let (status, delivered) = admin(
        &merchant,
        KEY,
        &format!("{id}/deliver"),
        Some(deliver.clone()),
    )
    .await;
    assert_eq!(status, 200, "{delivered}");
    until("two order_update events", Duration::from_secs(10), || {
        seen.unique() == 3
    })
    .await;

    // A refused change: nothing recorded, the ACP error with its param and status.
    let (status, again) = admin(&merchant, KEY, &format!("{id}/deliver"), Some(deliver)).await;
    assert_eq!(status, 422, "{again}");
    assert_eq!(again["code"], "invalid_state", "{again}");
    assert!(
        again["param"]
            .as_str()
            .unwrap()
            .starts_with("$.fulfillments"),
        "{again}"
    );
    let too_much = json!({"line_item_id": mugs, "quantity": 3});
    let (status, refused) =
        admin(&merchant, KEY, &format!("{id}/cancel_line"), Some(too_much)).await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["code"], "invalid_value", "{refused}");
    assert!(
        refused["param"].as_str().unwrap().contains("line_items[0]"),
        "{refused}"
    );
    let (status, bad) = admin(
        &merchant,
        KEY,
        &format!("{id}/refund"),
        Some(json!({"amount": -1})),
    )
    .await;
    assert_eq!((status, &bad["param"]), (400, &json!("$.amount")), "{bad}");
    assert_eq!(admin(&merchant, KEY, &id, None).await.1, delivered);
    // Wrong or missing key: 401, whatever the order; unknown order: 404.
    let (status, denied) = admin(&merchant, config::DEV_API_KEY, &id, None).await;
    assert_eq!(
        (status, &denied["code"]),
        (401, &json!("unauthorized")),
        "{denied}"
    );
    let (status, _) = admin(
        &merchant,
        "",
        &format!("{id}/refund"),
        Some(json!({"amount": 1})),
    )
    .await;
    assert_eq!(status, 401);
    let (status, missing) = admin(
        &merchant,
        KEY,
        "ord_nope/refund",
        Some(json!({"amount": 1})),
    )
    .await;
    assert_eq!(status, 404, "{missing}");
    assert_eq!(admin(&merchant, KEY, "ord_nope", None).await.0, 404);
    assert_eq!(admin(&merchant, "", "../dead_letters", None).await.0, 401);
    // No event for anything refused.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(seen.unique(), 3);
}

/// Refunds of one minor unit each, `per_order` for each of `orders`, through the admin API,
/// one task per order.
async fn refund_each(merchant: &str, orders: &[String], per_order: usize) {
    let tasks: Vec<_> = orders
        .iter()
        .map(|id| {
            let (merchant, id) = (merchant.to_owned(), id.clone());
            tokio::spawn(async move {
                for n in 0..per_order {
                    let body = json!({"amount": 1, "reason": format!("refund {n}")});
                    let (status, answer) =
                        admin(&merchant, KEY, &format!("{id}/refund"), Some(body)).await;
                    assert_eq!(status, 200, "{answer}");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

/// Every order's events arrived once each and in order: the k-th carries k refunds.
fn assert_every_event_once_in_order(seen: &Seen, orders: &[String], per_order: usize) {
    for id in orders {
        let events = seen.of(id);
        let refunds: Vec<usize> = events
            .iter()
            .map(|e| e["adjustments"].as_array().map_or(0, Vec::len))
            .collect();
        assert_eq!(
            refunds,
            (0..=per_order).collect::<Vec<_>>(),
            "order {id}: the refunds each event carries, in arrival order"
        );
    }
}

/// The merchant as its own OS process (the `merchant_server` binary), killed (`SIGKILL`) on drop.
struct Process(std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `merchant_server` on `database`, sending webhooks to `hook`; its URL.
async fn merchant_process(database: &str, hook: &str, vault: &str) -> (Process, String) {
    use std::io::BufRead as _;
    let binary = super::servers::example_binary("merchant_server");
    let mut command = std::process::Command::new(binary);
    for (var, _) in std::env::vars() {
        if var.starts_with("ACP_") || var == "DATABASE_URL" || var == "MERCHANT_ADMIN_KEY" {
            command.env_remove(var);
        }
    }
    let secret = |s: &[u8]| String::from_utf8(s.to_vec()).unwrap();
    command.args([
        "--addr",
        "127.0.0.1:0",
        "--database-url",
        database,
        "--webhook-url",
        hook,
    ]);
    command.args(["--webhook-secret", &secret(harness::WEBHOOK_SECRET)]);
    command.args([
        "--signing-secret",
        &secret(harness::SIGNING_SECRET),
        "--psp-url",
        vault,
    ]);
    // Short attempts, claims and backoff, so the restarted merchant resends within seconds.
    command.args([
        "--outbound-timeout-ms",
        "1000",
        "--webhook-lease-ms",
        "3000",
    ]);
    command.args(["--webhook-backoff-ms", "50"]);
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let process = Process(child);
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .map(|_| line)
    })
    .await
    .unwrap()
    .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("merchant_server did not start: {line:?}"))
        .to_owned();
    (process, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wh_09_merchant_killed_during_delivery_resends_every_event_exactly_once_after_dedupe() {
    const ORDERS: usize = 4;
    const PER_ORDER: usize = 50;
    const EVENTS: usize = ORDERS * (PER_ORDER + 1);
    // Issue 16's "done when": this test runs in CI, never skipped there.
    let in_ci = std::env::var("CI").as_deref() == Ok("true");
    assert!(
        !in_ci || std::env::var_os("DATABASE_URL").is_some(),
        "CI=true without DATABASE_URL: the crash test needs PostgreSQL"
    );
    let Some(url) = super::postgres::database("merchant_killed_during_delivery").await else {
        return;
    };
    let seen = Arc::new(Seen::default());
    // A slow agent: the merchant records changes faster than they are delivered.
    *seen.delay.lock().unwrap() = Duration::from_millis(5);
    let hook = spawn_receiver(Arc::clone(&seen)).await;
    let vault = start_vault(None).await;
    let (mut first, merchant) = merchant_process(&url, &hook, &vault).await;
    let mut orders = Vec::new();
    for _ in 0..ORDERS {
        orders.push(
            purchase(&merchant, &vault).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    until("every order_create", Duration::from_secs(20), || {
        seen.unique() == ORDERS
    })
    .await;
    // Deliveries past a third of the events are processed but not answered: the merchant dies
    // with one in flight, which the agent has and the merchant does not know it has.
    let held = ORDERS + (EVENTS - ORDERS) / 3;
    *seen.hold_after.lock().unwrap() = Some(held);
    let started = Instant::now();
    refund_each(&merchant, &orders, PER_ORDER).await;
    until("a delivery held in flight", Duration::from_secs(30), || {
        seen.deliveries.load(Ordering::SeqCst) > held
    })
    .await;
    first.0.kill().unwrap(); // SIGKILL: no shutdown, the outbox's claims stay taken.
    first.0.wait().unwrap();
    let at_kill = (seen.deliveries.load(Ordering::SeqCst), seen.unique());
    assert!(
        at_kill.1 < EVENTS,
        "every event arrived before the kill: {at_kill:?}"
    );
    *seen.hold_after.lock().unwrap() = None;

    let killed = Instant::now();
    let (_second, merchant) = merchant_process(&url, &hook, &vault).await;
    until(
        "every event after the restart",
        Duration::from_secs(40),
        || seen.unique() >= EVENTS,
    )
    .await;
    let drained = killed.elapsed();
    // Nothing more comes: the outbox holds nothing undelivered.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(seen.unique(), EVENTS);
    assert_every_event_once_in_order(&seen, &orders, PER_ORDER);
    let deliveries = seen.deliveries.load(Ordering::SeqCst);
    assert!(deliveries > EVENTS, "the unanswered event was sent again");
    for id in &orders {
        let (status, order) = admin(&merchant, KEY, id, None).await;
        assert_eq!(status, 200, "{order}");
        assert_eq!(
            seen.of(id).last(),
            Some(&order),
            "the last event is the order as stored"
        );
    }
    println!(
        "crash during delivery: {} order changes + {ORDERS} orders = {EVENTS} events; at the kill \
         {} deliveries, {} unique; after the restart all {EVENTS} unique in {drained:?} \
         ({:?} in all); {deliveries} deliveries, {} duplicates removed by the receiver",
        ORDERS * PER_ORDER,
        at_kill.0,
        at_kill.1,
        started.elapsed(),
        deliveries - EVENTS,
    );
}

/// Issue 16: the agent answers `500`, then hangs past the merchant's attempt timeout, then
/// recovers; every event still arrives, once, in order per order.
async fn slow_or_down_agent(database_url: Option<String>) {
    const ORDERS: usize = 2;
    const PER_ORDER: usize = 10;
    const EVENTS: usize = ORDERS * (PER_ORDER + 1);
    let seen = Arc::new(Seen::default());
    let hook = spawn_receiver(Arc::clone(&seen)).await;
    let vault = start_vault(database_url.clone()).await;
    let mut config = merchant_config(&vault, &hook, database_url, Duration::ZERO);
    config.psp_timeout = Duration::from_millis(500);
    config.webhook_backoff = Duration::from_millis(20);
    config.webhook_lease = Some(Duration::from_secs(2));
    let merchant = start_merchant(config).await;
    let mut orders = Vec::new();
    for _ in 0..ORDERS {
        orders.push(
            purchase(&merchant, &vault).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    until("every order_create", Duration::from_secs(20), || {
        seen.unique() == ORDERS
    })
    .await;

    seen.mode.store(FAIL_500, Ordering::SeqCst);
    refund_each(&merchant, &orders, PER_ORDER).await;
    until("answers 500", Duration::from_secs(20), || {
        seen.faulted.load(Ordering::SeqCst) >= 6
    })
    .await;
    let failed = seen.faulted.load(Ordering::SeqCst);
    seen.mode.store(HANG, Ordering::SeqCst);
    until("attempts time out", Duration::from_secs(20), || {
        seen.faulted.load(Ordering::SeqCst) >= failed + 3
    })
    .await;
    assert_eq!(seen.unique(), ORDERS, "nothing got through the faults");
    let hung = seen.faulted.load(Ordering::SeqCst) - failed;
    seen.mode.store(ANSWER, Ordering::SeqCst);
    let recovered = Instant::now();
    until(
        "every event after the recovery",
        Duration::from_secs(30),
        || seen.unique() >= EVENTS,
    )
    .await;
    let drained = recovered.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(seen.unique(), EVENTS);
    assert_every_event_once_in_order(&seen, &orders, PER_ORDER);
    println!(
        "slow or down agent: {EVENTS} events; {failed} answered 500, {hung} left hanging; all \
         delivered {drained:?} after the recovery, {} deliveries reached the receiver",
        seen.deliveries.load(Ordering::SeqCst)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wh_09_slow_or_down_agent_gets_every_event_in_order_in_memory() {
    slow_or_down_agent(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wh_09_slow_or_down_agent_gets_every_event_in_order_on_postgres() {
    let Some(url) = super::postgres::database("slow_or_down_agent").await else {
        return;
    };
    slow_or_down_agent(Some(url)).await;
}
