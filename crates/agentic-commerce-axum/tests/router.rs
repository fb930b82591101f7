//! The axum mount: routes reach the engine, bodies are capped before buffering, slow requests
//! time out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use agentic_commerce::engine::merchant::prelude::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt as _;

struct Slow(Duration);

impl Merchant for Slow {
    async fn create_checkout(
        &self,
        _: &Context,
        _: CheckoutSessionCreateRequest,
    ) -> Result<CheckoutSession, AcpError> {
        tokio::time::sleep(self.0).await;
        Err(AcpError::processing_error("never priced"))
    }
    async fn update_checkout(
        &self,
        _: &Context,
        s: CheckoutSession,
        _: CheckoutSessionUpdateRequest,
    ) -> Result<CheckoutSession, AcpError> {
        Ok(s)
    }
    async fn complete_checkout(
        &self,
        _: &Context,
        s: CheckoutSession,
        _: CheckoutSessionCompleteRequest,
    ) -> Result<CheckoutSession, AcpError> {
        Ok(s)
    }
}

fn app(delay: Duration, timeout: Duration, max_body: usize) -> axum::Router {
    let engine = MerchantEngine::builder(
        Slow(delay),
        InMemoryStore::default(),
        BearerKeys::new().key("router-test-key-0123456789", Identity::new("agent")),
    )
    .api_base_url("https://shop.example/".parse().unwrap())
    .max_body_bytes(max_body)
    .events(agentic_commerce::engine::merchant::Silent)
    .build()
    .unwrap();
    agentic_commerce_axum::router(Arc::new(engine))
        .with_timeout(timeout)
        .into_router()
}

fn create(body: Vec<u8>) -> Request<Body> {
    Request::post("/checkout_sessions")
        .header("Authorization", "Bearer router-test-key-0123456789")
        .header("API-Version", "2026-04-17")
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", "k1")
        .body(Body::from(body))
        .unwrap()
}

async fn read(response: axum::response::Response) -> (StatusCode, Value, axum::http::HeaderMap) {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        headers,
    )
}

#[tokio::test]
async fn requests_reach_the_engine() {
    let app = app(Duration::ZERO, Duration::from_secs(5), 1024);
    let (status, body, headers) = read(
        app.clone()
            .oneshot(
                Request::get("/.well-known/acp.json")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["api_base_url"], "https://shop.example/");
    assert_eq!(headers["content-type"], "application/json");
    let (status, body, _) = read(
        app.oneshot(Request::get("/nope").body(Body::empty()).unwrap())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "not_found");
}

#[tokio::test]
async fn bodies_over_the_cap_are_413_declared_or_streamed() {
    let app = app(Duration::ZERO, Duration::from_secs(5), 64);
    let big = serde_json::to_vec(&json!({"pad": "x".repeat(100)})).unwrap();
    // Declared by Content-Length: refused before reading.
    let mut declared = create(big.clone());
    declared
        .headers_mut()
        .insert("content-length", big.len().into());
    let (status, body, _) = read(app.clone().oneshot(declared).await.unwrap()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["code"], "request_too_large");
    // Streamed without a length: cut off one byte past the cap.
    let chunks = futures_chunks(&big);
    let mut streamed = create(Vec::new());
    *streamed.body_mut() = chunks;
    let (status, _, _) = read(app.oneshot(streamed).await.unwrap()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

fn futures_chunks(bytes: &[u8]) -> Body {
    let parts: Vec<Result<Vec<u8>, std::io::Error>> =
        bytes.chunks(16).map(|c| Ok(c.to_vec())).collect();
    Body::from_stream(tokio_stream_iter(parts))
}

fn tokio_stream_iter(
    items: Vec<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send {
    struct Iter(std::vec::IntoIter<Result<Vec<u8>, std::io::Error>>);
    impl futures_core::Stream for Iter {
        type Item = Result<Vec<u8>, std::io::Error>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            std::task::Poll::Ready(self.0.next())
        }
    }
    Iter(items.into_iter())
}

#[tokio::test]
async fn a_slow_request_is_answered_503_with_retry_after() {
    let app = app(Duration::from_secs(5), Duration::from_millis(50), 1 << 20);
    let body = serde_json::to_vec(
        &json!({"currency": "usd", "line_items": [{"id": "a"}], "capabilities": {}}),
    )
    .unwrap();
    let (status, body, headers) = read(app.oneshot(create(body)).await.unwrap()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["code"], "service_unavailable");
    assert_eq!(headers["retry-after"], "1");
}

#[tokio::test]
async fn spawn_serves_the_engine_on_the_bound_port_and_reports_a_taken_one() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let engine = MerchantEngine::builder(
        Slow(Duration::ZERO),
        InMemoryStore::default(),
        BearerKeys::new().key("router-test-key-0123456789", Identity::new("agent")),
    )
    .api_base_url("https://shop.example/".parse().unwrap())
    .events(agentic_commerce::engine::merchant::Silent)
    .build()
    .unwrap();
    let engine = Arc::new(engine);
    let (addr, _task) = agentic_commerce_axum::router(Arc::clone(&engine))
        .spawn("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    assert_ne!(addr.port(), 0, "the port actually bound");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /.well-known/acp.json HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("\"protocol\""),
        "the discovery document: {answer}"
    );
    // The same port again: the bind error, not a task that fails later.
    let taken = agentic_commerce_axum::router(engine).spawn(addr).await;
    assert!(taken.is_err());
}
