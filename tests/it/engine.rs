//! The role engines, driven through their framework-free entry point (`handle_at`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod feeds;
mod merchant;
mod merchant_concurrency;
mod merchant_expiry;
mod merchant_mcp;
mod merchant_orders;
mod outbox;
mod psp;
mod store;
mod webhooks;

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use agentic_commerce::AcpError;
use agentic_commerce::engine::merchant::{BearerKeys, Context, Identity, Merchant, MerchantEngine};
use agentic_commerce::engine::store::InMemoryStore;
use agentic_commerce::parse;
use agentic_commerce::protocol::headers::Operation;
use agentic_commerce::spec::latest::agentic_checkout::{
    CheckoutSession, CheckoutSessionCompleteRequest, CheckoutSessionCreateRequest,
    CheckoutSessionUpdateRequest, CheckoutStatus,
};
use agentic_commerce::spec::latest::cart::{Cart, CartCreateRequest, CartUpdateRequest};
use agentic_commerce::trust::signature::{
    Algorithm, HmacSha256Key, RequestSigner, SignatureHeaders, Verifier,
};
use serde_json::{Value, json};
use time::OffsetDateTime;

pub(crate) const AGENT_KEY: &str = "agent-key-0123456789abcdef";
pub(crate) const OTHER_KEY: &str = "other-agent-key-0123456789";
pub(crate) const SIGNING_SECRET: &[u8] = b"signing-secret-0123456789abcdef";

/// How the test merchant misbehaves, to show what the engine refuses to send.
#[derive(Debug, Clone, Default)]
pub(crate) struct Faults {
    /// The status every update returns.
    pub(crate) update_status: Option<CheckoutStatus>,
    /// A selected fulfillment option that the session does not offer (CHK-06, a MUST).
    pub(crate) unknown_selection: bool,
    /// A complete fails (before charging).
    pub(crate) decline_with_error: bool,
    /// The order of a complete has no `status` (no valid webhook event carries it).
    pub(crate) order_without_status: bool,
}

/// A small merchant: every item costs 1000 minor units; a session is ready once it has
/// fulfillment details; complete counts charges.
#[derive(Debug, Default)]
pub(crate) struct Shop {
    pub(crate) next_id: AtomicUsize,
    pub(crate) charges: AtomicUsize,
    /// `complete_checkout` calls that have begun (counted before the delay).
    pub(crate) completes_begun: AtomicUsize,
    pub(crate) complete_delay: Mutex<Duration>,
    pub(crate) faults: Mutex<Faults>,
    /// Every `checkout_committed` call: the operation and the committed status.
    pub(crate) committed: Mutex<Vec<(Operation, CheckoutStatus)>>,
}

impl Shop {
    fn faults(&self) -> Faults {
        self.faults.lock().unwrap().clone()
    }

    fn session(&self, id: &str, items: &[String], ready: bool) -> CheckoutSession {
        let amount = 1000 * i64::try_from(items.len()).unwrap();
        let line_items: Vec<Value> = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                json!({
                    "id": format!("li_{i}"), "item": {"id": item}, "quantity": 1,
                    "name": "Mug", "unit_amount": 1000,
                    "totals": [
                        {"type": "items_base_amount", "display_text": "Base", "amount": 1000},
                        {"type": "subtotal", "display_text": "Subtotal", "amount": 1000},
                        {"type": "tax", "display_text": "Tax", "amount": 0},
                        {"type": "total", "display_text": "Total", "amount": 1000}
                    ]
                })
            })
            .collect();
        let status = if ready {
            "ready_for_payment"
        } else {
            "not_ready_for_payment"
        };
        let mut session: CheckoutSession = parse::from_value(&json!({
            "id": id, "status": status, "currency": "usd", "capabilities": {},
            "line_items": line_items, "fulfillment_options": [],
            "totals": [
                {"type": "items_base_amount", "display_text": "Items", "amount": amount},
                {"type": "subtotal", "display_text": "Subtotal", "amount": amount},
                {"type": "tax", "display_text": "Tax", "amount": 0},
                {"type": "total", "display_text": "Total", "amount": amount}
            ],
            "messages": [],
            "links": [{"type": "terms_of_use", "url": "https://shop.example/terms"}]
        }))
        .unwrap();
        if self.faults().unknown_selection {
            session.selected_fulfillment_options = Some(vec![
                parse::from_value(
                    &json!({"type": "shipping", "option_id": "nope", "item_ids": [items[0]]}),
                )
                .unwrap(),
            ]);
        }
        session
    }
}

impl Merchant for Shop {
    const SERVES_CARTS: bool = true;

    async fn create_checkout(
        &self,
        _ctx: &Context,
        request: CheckoutSessionCreateRequest,
    ) -> Result<CheckoutSession, AcpError> {
        let n = self.next_id.fetch_add(1, Ordering::SeqCst);
        let items: Vec<String> = request
            .line_items
            .iter()
            .map(|i| i.id.as_str().to_owned())
            .collect();
        let mut session = self.session(
            &format!("cs_{n}"),
            &items,
            request.fulfillment_details.is_some(),
        );
        session.fulfillment_details = request.fulfillment_details;
        Ok(session)
    }

    async fn update_checkout(
        &self,
        _ctx: &Context,
        mut session: CheckoutSession,
        request: CheckoutSessionUpdateRequest,
    ) -> Result<CheckoutSession, AcpError> {
        if let Some(details) = request.fulfillment_details.as_set() {
            session.fulfillment_details = Some(details.clone());
            session.status = CheckoutStatus::ReadyForPayment;
        }
        if let Some(status) = self.faults().update_status {
            session.status = status;
        }
        Ok(session)
    }

    async fn complete_checkout(
        &self,
        _ctx: &Context,
        mut session: CheckoutSession,
        _request: CheckoutSessionCompleteRequest,
    ) -> Result<CheckoutSession, AcpError> {
        if self.faults().decline_with_error {
            return Err(AcpError::unprocessable("payment_declined", "declined"));
        }
        self.completes_begun.fetch_add(1, Ordering::SeqCst);
        let delay = *self.complete_delay.lock().unwrap();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        self.charges.fetch_add(1, Ordering::SeqCst);
        session.status = CheckoutStatus::Completed;
        let mut order = json!({
            "id": format!("ord_{}", session.id.as_str()),
            "checkout_session_id": session.id.as_str(),
            "permalink_url": "https://shop.example/orders/1",
            "status": "confirmed"
        });
        if self.faults().order_without_status {
            order.as_object_mut().unwrap().remove("status");
        }
        session.order = Some(parse::from_value(&order).unwrap());
        Ok(session)
    }

    fn checkout_committed(&self, _ctx: &Context, operation: Operation, session: &CheckoutSession) {
        self.committed
            .lock()
            .unwrap()
            .push((operation, session.status.clone()));
    }

    async fn create_cart(
        &self,
        _ctx: &Context,
        request: CartCreateRequest,
    ) -> Result<Cart, AcpError> {
        let n = self.next_id.fetch_add(1, Ordering::SeqCst);
        Ok(cart(&format!("cart_{n}"), request.line_items.len()))
    }

    async fn update_cart(
        &self,
        _ctx: &Context,
        old: Cart,
        request: CartUpdateRequest,
    ) -> Result<Cart, AcpError> {
        Ok(cart(old.id.as_str(), request.line_items.len()))
    }
}

fn cart(id: &str, items: usize) -> Cart {
    let shop = Shop::default();
    let ids: Vec<String> = (0..items).map(|i| format!("item_{i}")).collect();
    let session = shop.session(id, &ids, false);
    parse::from_value(&json!({
        "id": id, "currency": "usd",
        "line_items": serde_json::to_value(&session.line_items).unwrap(),
        "totals": serde_json::to_value(&session.totals).unwrap()
    }))
    .unwrap()
}

pub(crate) type Engine = MerchantEngine<Arc<Shop>, InMemoryStore, BearerKeys>;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Setup {
    pub(crate) signed: bool,
    pub(crate) strict: bool,
    /// `order_webhooks`: the identity `agent`'s orders go to [`AGENT_HOOK`], `other`'s nowhere.
    pub(crate) order_webhooks: bool,
    /// The store's bound.
    pub(crate) max_entries: usize,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            signed: true,
            strict: false,
            order_webhooks: false,
            max_entries: agentic_commerce::engine::store::DEFAULT_MAX_ENTRIES,
        }
    }
}

/// Where the identity `agent`'s order webhooks go.
pub(crate) const AGENT_HOOK: &str = "https://agent.example/webhooks/acp";

pub(crate) fn engine_with(shop: Arc<Shop>, setup: &Setup) -> Engine {
    let keys = BearerKeys::new()
        .key(AGENT_KEY, Identity::new("agent"))
        .key(OTHER_KEY, Identity::new("other"));
    let store = InMemoryStore::with_max_entries(
        agentic_commerce::trust::idempotency::IdempotencyPolicy::default(),
        setup.max_entries,
    );
    let mut builder = MerchantEngine::builder(shop, store, keys)
        .api_base_url("https://shop.example/".parse().unwrap())
        .strict(setup.strict)
        .events(agentic_commerce::engine::merchant::Silent)
        .upgrade_defaults(
            agentic_commerce::protocol::version::convert::UpgradeDefaults::new()
                .currency("usd")
                .capabilities(json!({}))
                .payment_handler("stripe", "card_tokenized", "card", "spt"),
        );
    if setup.signed {
        builder = builder.verifier(
            Verifier::new([Algorithm::HS256])
                .with_key("agent", HmacSha256Key::new(SIGNING_SECRET).unwrap()),
        );
    }
    if setup.order_webhooks {
        builder = builder.order_webhooks(|identity| {
            (identity.as_str() == "agent").then(|| AGENT_HOOK.to_owned())
        });
    }
    builder.build().unwrap()
}

pub(crate) fn engine() -> (Arc<Shop>, Engine) {
    let shop = Arc::new(Shop::default());
    (Arc::clone(&shop), engine_with(shop, &Setup::default()))
}

pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

pub(crate) fn sign(body: &[u8], at: OffsetDateTime) -> SignatureHeaders {
    RequestSigner::new(HmacSha256Key::new(SIGNING_SECRET).unwrap())
        .sign(body, at)
        .unwrap()
}

/// A request as the engine takes it.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) method: http::Method,
    pub(crate) path: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Call {
    /// A signed ACP request in `version` with a fresh idempotency key for writes.
    pub(crate) fn new(
        method: http::Method,
        path: &str,
        body: Option<&Value>,
        version: &str,
    ) -> Self {
        let body = body
            .map(|b| serde_json::to_vec(b).unwrap())
            .unwrap_or_default();
        let mut headers = vec![
            ("Authorization".to_owned(), format!("Bearer {AGENT_KEY}")),
            ("API-Version".to_owned(), version.to_owned()),
            ("Request-Id".to_owned(), "req_1".to_owned()),
        ];
        if !body.is_empty() {
            headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
        }
        if method != http::Method::GET {
            headers.push((
                "Idempotency-Key".to_owned(),
                format!("key_{}", NEXT_KEY.fetch_add(1, Ordering::SeqCst)),
            ));
        }
        if !body.is_empty() {
            let signed = sign(&body, now());
            headers.push(("Signature".to_owned(), signed.signature));
            headers.push(("Timestamp".to_owned(), signed.timestamp));
        }
        Self {
            method,
            path: path.to_owned(),
            headers,
            body,
        }
    }

    pub(crate) fn post(path: &str, body: &Value) -> Self {
        Self::new(http::Method::POST, path, Some(body), "2026-04-17")
    }

    pub(crate) fn get(path: &str) -> Self {
        Self::new(http::Method::GET, path, None, "2026-04-17")
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub(crate) fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    pub(crate) fn parts(&self) -> http::request::Parts {
        let mut builder = http::Request::builder()
            .method(self.method.clone())
            .uri(&self.path);
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    pub(crate) async fn send(&self, engine: &Engine) -> Answer {
        let response = engine.handle_at(&self.parts(), &self.body, now()).await;
        Answer::from(response)
    }
}

static NEXT_KEY: AtomicUsize = AtomicUsize::new(0);

/// A response, read.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Value,
    pub(crate) headers: http::HeaderMap,
}

impl From<http::Response<Vec<u8>>> for Answer {
    fn from(response: http::Response<Vec<u8>>) -> Self {
        let (parts, body) = response.into_parts();
        Self {
            status: parts.status.as_u16(),
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
            headers: parts.headers,
        }
    }
}

impl Answer {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    pub(crate) fn id(&self) -> String {
        self.body["id"].as_str().unwrap().to_owned()
    }
}

pub(crate) fn create_body() -> Value {
    json!({"currency": "usd", "line_items": [{"id": "item_1"}], "capabilities": {}})
}

pub(crate) fn address() -> Value {
    json!({"name": "Ada", "address": {"name": "Ada", "line_one": "1 Main St", "city": "Springfield",
        "state": "CA", "country": "US", "postal_code": "94131"}})
}

pub(crate) fn complete_body() -> Value {
    json!({"payment_data": {"handler_id": "card_tokenized", "instrument": {"type": "card",
        "credential": {"type": "spt", "token": "spt_123"}}}})
}

/// A ready session's id.
pub(crate) async fn ready_session(engine: &Engine) -> String {
    let created = Call::post(
        "/checkout_sessions",
        &json!({"currency": "usd", "line_items": [{"id": "item_1"}], "capabilities": {},
            "fulfillment_details": address()}),
    )
    .send(engine)
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["status"], "ready_for_payment");
    created.id()
}
