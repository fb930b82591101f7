//! The merchant engine driven by arbitrary requests: method and path from a selector byte
//! (every route, plus unknown ones and MCP), arbitrary header lines, and an arbitrary body,
//! through a trivial in-memory merchant, with the engine's signature check off so that bodies
//! reach parsing, idempotency, the state machine and the response checks.
//!
//! Input: `[selector][headers, "Name: value" lines][0x00][body]`. Selector bit 7 adds valid
//! `Authorization` and `API-Version` headers (so the fuzzer gets past authentication often).
//!
//! Invariants: no panic; every answer has a status in 200..600 and a JSON body; a 2xx answer to
//! a checkout write carries `API-Version`; 5xx answers never echo the request body.
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use agentic_commerce::engine::merchant::prelude::*;
use agentic_commerce::engine::merchant::Silent;
use libfuzzer_sys::fuzz_target;
use serde_json::json;

struct Shop(AtomicU64);

fn session(id: &str) -> CheckoutSession {
    agentic_commerce::parse::from_value(&json!({
        "id": id, "status": "not_ready_for_payment", "currency": "usd", "capabilities": {},
        "line_items": [], "fulfillment_options": [], "messages": [], "links": [],
        "totals": [{"type": "total", "display_text": "Total", "amount": 0}]
    }))
    .unwrap_or_else(|e| panic!("fixed session: {e}"))
}

impl Merchant for Shop {
    const SERVES_CARTS: bool = true;

    async fn create_checkout(&self, _: &Context, _: CheckoutSessionCreateRequest) -> Result<CheckoutSession, AcpError> {
        Ok(session(&format!("cs_{}", self.0.fetch_add(1, Ordering::Relaxed))))
    }
    async fn update_checkout(&self, _: &Context, mut s: CheckoutSession, _: CheckoutSessionUpdateRequest) -> Result<CheckoutSession, AcpError> {
        s.status = CheckoutStatus::ReadyForPayment;
        Ok(s)
    }
    async fn complete_checkout(&self, _: &Context, mut s: CheckoutSession, _: CheckoutSessionCompleteRequest) -> Result<CheckoutSession, AcpError> {
        s.status = CheckoutStatus::Completed;
        s.order = agentic_commerce::parse::from_value(&json!({
            "id": "ord_1", "checkout_session_id": s.id.as_str(), "permalink_url": "https://shop.example/o"
        })).ok();
        Ok(s)
    }
    async fn create_cart(&self, _: &Context, _: CartCreateRequest) -> Result<Cart, AcpError> {
        agentic_commerce::parse::from_value(&json!({
            "id": format!("cart_{}", self.0.fetch_add(1, Ordering::Relaxed)), "line_items": [],
            "currency": "usd", "totals": []
        })).map_err(|e| AcpError::processing_error(e.to_string()))
    }
}

type Engine = MerchantEngine<Shop, InMemoryStore, BearerKeys>;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        MerchantEngine::builder(
            Shop(AtomicU64::new(0)),
            InMemoryStore::with_max_entries(Default::default(), 10_000),
            BearerKeys::new().key("fuzz-agent-key-0123456789", Identity::new("agent")),
        )
        .api_base_url("https://shop.example/".parse().unwrap_or_else(|_| unreachable!()))
        .events(Silent)
        .build()
        .unwrap_or_else(|e| panic!("engine: {e}"))
    })
}

/// Polls a future that never waits (in-memory store, trivial merchant) to completion.
fn run_ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

const ROUTES: &[(&str, &str)] = &[
    ("POST", "/checkout_sessions"),
    ("GET", "/checkout_sessions/cs_0"),
    ("POST", "/checkout_sessions/cs_0"),
    ("POST", "/checkout_sessions/cs_0/complete"),
    ("POST", "/checkout_sessions/cs_0/cancel"),
    ("POST", "/carts"),
    ("GET", "/carts/cart_1"),
    ("PUT", "/carts/cart_1"),
    ("POST", "/carts/cart_1/cancel"),
    ("GET", "/.well-known/acp.json"),
    ("POST", "/mcp"),
    ("DELETE", "/checkout_sessions/cs_1"),
    ("GET", "/nowhere"),
    ("POST", "/checkout_sessions/cs_1/complete"),
    ("GET", "/checkout_sessions/cs_1"),
    ("POST", "/checkout_sessions/cs_2"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (head, body) = match rest.iter().position(|&b| b == 0) {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &[][..]),
    };
    let (method, path) = ROUTES[usize::from(selector & 0x0f) % ROUTES.len()];
    let mut request = http::Request::builder().method(method).uri(path);
    if selector & 0x80 != 0 {
        request = request
            .header("Authorization", "Bearer fuzz-agent-key-0123456789")
            .header("API-Version", "2026-04-17");
    }
    for line in String::from_utf8_lossy(head).lines() {
        if let Some((name, value)) = line.split_once(':') {
            if let (Ok(name), Ok(value)) = (
                http::header::HeaderName::from_bytes(name.trim().as_bytes()),
                http::header::HeaderValue::from_str(value.trim()),
            ) {
                request = request.header(name, value);
            }
        }
    }
    let Ok(request) = request.body(()) else {
        return;
    };
    let (parts, ()) = request.into_parts();
    let response = run_ready(engine().handle(&parts, body));
    let status = response.status().as_u16();
    assert!((200..600).contains(&status), "status {status}");
    let answer: serde_json::Value = serde_json::from_slice(response.body())
        .unwrap_or_else(|e| panic!("non-JSON answer ({status}): {e}"));
    if (200..300).contains(&status) && method != "GET" && path != "/mcp" {
        assert!(response.headers().contains_key("api-version"), "{answer}");
    }
    if status >= 500 && body.len() > 16 {
        let text = answer.to_string();
        if let Ok(sent) = std::str::from_utf8(body) {
            assert!(!text.contains(sent), "a 5xx echoed the request body");
        }
    }
});
