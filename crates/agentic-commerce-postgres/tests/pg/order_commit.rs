//! WH-09 on `PgStore` (`DATABASE_URL`; skipped with a message when it is unset, failing when
//! `CI=true`): the merchant engine with `order_webhooks` commits the completed session, its
//! idempotency response, the order and its `order_create` event in one transaction: an
//! injected failure at the event's insert leaves none of them; concurrent completes and
//! replays leave exactly one event.
#![allow(clippy::expect_used)]

use super::common::database_url;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use agentic_commerce::AcpError;
use agentic_commerce::engine::merchant::{BearerKeys, Context, Identity, Merchant, MerchantEngine};
use agentic_commerce::engine::outbox::{NewEvent, OutboxStore, Settlement};
use agentic_commerce::engine::store::{ResourceKind, ResourceStore};
use agentic_commerce::parse;
use agentic_commerce::spec::latest::agentic_checkout::{
    CheckoutSession, CheckoutSessionCompleteRequest, CheckoutSessionCreateRequest,
    CheckoutSessionUpdateRequest, CheckoutStatus,
};
use agentic_commerce_postgres::{PgConfig, PgStore};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio_postgres::NoTls;

const KEY: &str = "agent-key-0123456789abcdef";
const HOOK: &str = "https://agent.example/webhooks/acp";

/// A client for the test's own statements (schema setup, fault injection).
async fn client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.expect("connect");
    tokio::spawn(connection);
    client
}

/// A fresh schema for `test` (dropped first if left over) and a store on it.
async fn fresh_store(url: &str, test: &str) -> (PgStore, String) {
    let schema = format!("acp_oc_{test}_{}", std::process::id());
    client(url)
        .await
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await
        .expect("drop schema");
    let config = PgConfig::default()
        .with_schema(&schema)
        .expect("schema name")
        .with_max_connections(4);
    (
        PgStore::connect(url, config).await.expect("connect"),
        schema,
    )
}

async fn drop_schema(url: &str, schema: &str) {
    let _ = client(url)
        .await
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await;
}

/// A merchant whose sessions are ready at once and whose complete (slow enough to race)
/// returns an order `ord_<session id>`.
#[derive(Default)]
struct Shop {
    next: AtomicUsize,
    charges: AtomicUsize,
}

fn session(id: &str, status: &str) -> CheckoutSession {
    parse::from_value(&json!({
        "id": id, "status": status, "currency": "usd", "capabilities": {},
        "line_items": [{"id": "li_0", "item": {"id": "item_1"}, "quantity": 1, "name": "Mug",
            "unit_amount": 1000, "totals": [
                {"type": "items_base_amount", "display_text": "Base", "amount": 1000},
                {"type": "subtotal", "display_text": "Subtotal", "amount": 1000},
                {"type": "tax", "display_text": "Tax", "amount": 0},
                {"type": "total", "display_text": "Total", "amount": 1000}]}],
        "fulfillment_options": [],
        "totals": [
            {"type": "items_base_amount", "display_text": "Items", "amount": 1000},
            {"type": "subtotal", "display_text": "Subtotal", "amount": 1000},
            {"type": "tax", "display_text": "Tax", "amount": 0},
            {"type": "total", "display_text": "Total", "amount": 1000}],
        "messages": [],
        "links": [{"type": "terms_of_use", "url": "https://shop.example/terms"}]
    }))
    .expect("session")
}

impl Merchant for Shop {
    async fn create_checkout(
        &self,
        _: &Context,
        _: CheckoutSessionCreateRequest,
    ) -> Result<CheckoutSession, AcpError> {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        Ok(session(&format!("cs_{n}"), "ready_for_payment"))
    }

    async fn update_checkout(
        &self,
        _: &Context,
        session: CheckoutSession,
        _: CheckoutSessionUpdateRequest,
    ) -> Result<CheckoutSession, AcpError> {
        Ok(session)
    }

    async fn complete_checkout(
        &self,
        _: &Context,
        mut session: CheckoutSession,
        _: CheckoutSessionCompleteRequest,
    ) -> Result<CheckoutSession, AcpError> {
        tokio::time::sleep(Duration::from_millis(5)).await;
        self.charges.fetch_add(1, Ordering::SeqCst);
        session.status = CheckoutStatus::Completed;
        session.order = Some(
            parse::from_value(&json!({
                "id": format!("ord_{}", session.id.as_str()),
                "checkout_session_id": session.id.as_str(),
                "permalink_url": "https://shop.example/orders/1", "status": "confirmed"
            }))
            .expect("order"),
        );
        Ok(session)
    }
}

type Engine = MerchantEngine<Shop, PgStore, BearerKeys>;

fn engine(store: PgStore) -> Engine {
    MerchantEngine::builder(
        Shop::default(),
        store,
        BearerKeys::new().key(KEY, Identity::new("agent")),
    )
    .api_base_url("https://shop.example/".parse().expect("url"))
    .events(agentic_commerce::engine::merchant::Silent)
    .order_webhooks(|identity| (identity.as_str() == "agent").then(|| HOOK.to_owned()))
    .build()
    .expect("engine")
}

static NEXT_KEY: AtomicUsize = AtomicUsize::new(0);

/// A request: method, path, body and idempotency key.
#[derive(Clone)]
struct Call(http::Method, String, Option<Value>, String);

impl Call {
    fn post(path: &str, body: Value) -> Self {
        let key = format!(
            "key_{}_{}",
            std::process::id(),
            NEXT_KEY.fetch_add(1, Ordering::SeqCst)
        );
        Self(http::Method::POST, path.to_owned(), Some(body), key)
    }

    fn get(path: &str) -> Self {
        Self(http::Method::GET, path.to_owned(), None, String::new())
    }

    async fn send(&self, engine: &Engine) -> (u16, Value) {
        let mut builder = http::Request::builder()
            .method(self.0.clone())
            .uri(&self.1)
            .header("Authorization", format!("Bearer {KEY}"))
            .header("API-Version", "2026-04-17")
            .header("Request-Id", "req_1");
        let body = self
            .2
            .as_ref()
            .map(|b| serde_json::to_vec(b).expect("json"))
            .unwrap_or_default();
        if self.0 == http::Method::POST {
            builder = builder
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", &self.3);
        }
        let parts = builder.body(()).expect("request").into_parts().0;
        let response = engine
            .handle_at(&parts, &body, OffsetDateTime::now_utc())
            .await;
        let status = response.status().as_u16();
        let body = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
        (status, body)
    }
}

async fn ready_session(engine: &Engine) -> String {
    let (status, body) = Call::post(
        "/checkout_sessions",
        json!({"currency": "usd", "line_items": [{"id": "item_1"}], "capabilities": {}}),
    )
    .send(engine)
    .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().expect("id").to_owned()
}

fn complete(id: &str) -> Call {
    Call::post(
        &format!("/checkout_sessions/{id}/complete"),
        json!({"payment_data": {"handler_id": "card_tokenized", "instrument": {"type": "card",
            "credential": {"type": "spt", "token": "spt_123"}}}}),
    )
}

/// Every live event, inspected and handed back.
async fn events(store: &PgStore) -> Vec<NewEvent> {
    let now = OffsetDateTime::now_utc();
    let claimed = store
        .claim(now, 1000, Duration::from_secs(60), None)
        .await
        .expect("claim");
    let mut out = Vec::new();
    for c in claimed {
        out.push(c.event.event.clone());
        let back = Settlement::Retry {
            at: now,
            error: "inspected".to_owned(),
        };
        assert!(store.settle(&c, back, now).await.expect("settle"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_wh_09_a_complete_commits_its_order_and_order_create_once_even_when_replayed() {
    let Some(url) = database_url("pg_wh_09_once") else {
        return;
    };
    let (store, schema) = fresh_store(&url, "once").await;
    let engine = engine(store.clone());
    let id = ready_session(&engine).await;
    let call = complete(&id);
    let (status, done) = call.send(&engine).await;
    assert_eq!(status, 200, "{done}");
    let order = store
        .load(ResourceKind::Order, &format!("ord_{id}"))
        .await
        .expect("load")
        .expect("the order is stored");
    assert_eq!(order.version, 1);
    let stored: Value = serde_json::from_str(&order.document).expect("json");
    assert_eq!(stored["recipient"], HOOK);
    let queued = events(&store).await;
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0].event_type, "order_create");
    assert_eq!(queued[0].recipient, HOOK);

    let (status, replay) = call.send(&engine).await;
    assert_eq!((status, &replay), (200, &done));
    assert_eq!(events(&store).await.len(), 1);
    drop_schema(&url, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_wh_09_a_failure_at_the_event_insert_rolls_back_session_response_and_order() {
    let Some(url) = database_url("pg_wh_09_fault") else {
        return;
    };
    let (store, schema) = fresh_store(&url, "fault").await;
    let engine = engine(store.clone());
    let id = ready_session(&engine).await;
    // The last statement of the complete's transaction fails.
    let admin = client(&url).await;
    admin
        .batch_execute(&format!(
            "CREATE FUNCTION {schema}.injected() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'injected outbox failure'; END $$; \
             CREATE TRIGGER injected BEFORE INSERT ON {schema}.acp_outbox \
             FOR EACH ROW EXECUTE FUNCTION {schema}.injected();"
        ))
        .await
        .expect("trigger");

    let call = complete(&id);
    let (status, body) = call.send(&engine).await;
    assert_eq!(status, 503, "{body}");
    let (status, got) = Call::get(&format!("/checkout_sessions/{id}"))
        .send(&engine)
        .await;
    assert_eq!(status, 200, "{got}");
    assert_ne!(got["status"], "completed", "{got}");
    assert!(
        store
            .load(ResourceKind::Order, &format!("ord_{id}"))
            .await
            .expect("load")
            .is_none()
    );
    assert_eq!(store.pending().await.expect("pending"), 0);
    // No response was stored: the same key is not answered with a completed session.
    let (_, retry) = call.send(&engine).await;
    assert_ne!(retry["status"], "completed", "{retry}");
    drop_schema(&url, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pg_wh_09_concurrent_completes_and_replays_record_exactly_one_order_create() {
    let Some(url) = database_url("pg_wh_09_race") else {
        return;
    };
    let (store, schema) = fresh_store(&url, "race").await;
    let engine = std::sync::Arc::new(engine(store.clone()));
    for _ in 0..5 {
        let id = ready_session(&engine).await;
        let same = complete(&id);
        let calls = [complete(&id), complete(&id), same.clone(), same];
        let tasks: Vec<_> = calls
            .into_iter()
            .map(|call| {
                let engine = std::sync::Arc::clone(&engine);
                tokio::spawn(async move { call.send(&engine).await })
            })
            .collect();
        let mut ok = 0;
        for task in tasks {
            let (status, body) = task.await.expect("task");
            match status {
                200 => {
                    assert_eq!(body["status"], "completed");
                    ok += 1;
                }
                405 | 409 | 422 => {}
                other => panic!("unexpected {other}: {body}"),
            }
        }
        assert!(ok >= 1);
        let order_id = format!("ord_{id}");
        let creates = events(&store)
            .await
            .iter()
            .filter(|e| e.order_id == order_id && e.event_type == "order_create")
            .count();
        assert_eq!(creates, 1);
    }
    assert_eq!(engine.merchant().charges.load(Ordering::SeqCst), 5);
    drop_schema(&url, &schema).await;
}
