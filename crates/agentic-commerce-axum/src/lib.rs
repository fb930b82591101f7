//! Serve an [`agentic_commerce`] role engine with [axum].
//!
//! [`router`] turns any [`HttpEngine`] into an [`axum::Router`]: a [`MerchantEngine`] answers
//! every ACP merchant route (checkout, carts, the MCP endpoint, `/.well-known/acp.json`), a
//! [`PspEngine`] the PSP's (`delegate_payment`, charges, `delegate_authentication`). Each
//! request body is read up to the engine's cap ([`HttpEngine::max_body_bytes`], `413` beyond
//! it, before buffering
//! more), handed to the engine, and answered within a timeout (`503` with `Retry-After` when it
//! runs out). Nest it under a prefix or merge it with your own routes; it is also a tower
//! `Service` through axum's `Router`.
//!
//! An agent platform serves its order-webhook receiver the same way; [`webhooks`] hands the
//! receiver's events to a tokio channel and waits for an order's timeline.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! # use agentic_commerce::engine::merchant::{Context, Merchant, MerchantEngine, BearerKeys, Identity};
//! # use agentic_commerce::engine::store::InMemoryStore;
//! # use agentic_commerce::spec::latest::agentic_checkout::*;
//! # use agentic_commerce::AcpError;
//! # struct Shop;
//! # impl Merchant for Shop {
//! #     async fn create_checkout(&self, _: &Context, _: CheckoutSessionCreateRequest) -> Result<CheckoutSession, AcpError> { unimplemented!() }
//! #     async fn update_checkout(&self, _: &Context, s: CheckoutSession, _: CheckoutSessionUpdateRequest) -> Result<CheckoutSession, AcpError> { Ok(s) }
//! #     async fn complete_checkout(&self, _: &Context, s: CheckoutSession, _: CheckoutSessionCompleteRequest) -> Result<CheckoutSession, AcpError> { Ok(s) }
//! # }
//! # async fn run() -> std::io::Result<()> {
//! let engine = MerchantEngine::builder(
//!     Shop,
//!     InMemoryStore::default(),
//!     BearerKeys::new().key("a-long-api-key-for-the-agent", Identity::new("agent")),
//! )
//! .api_base_url("https://shop.example/".parse().unwrap())
//! .build()
//! .unwrap();
//! let app = agentic_commerce_axum::router(Arc::new(engine))
//!     .with_timeout(Duration::from_secs(30))
//!     .into_router();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await
//! # }
//! ```

pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use agentic_commerce::AcpError;
use agentic_commerce::engine::HttpEngine;
#[cfg(doc)]
use agentic_commerce::engine::{
    merchant::MerchantEngine, psp::PspEngine, webhooks::WebhookReceiver,
};
use agentic_commerce::protocol::headers::RetryAfter;
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

/// The default time a request may take: 30 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// An engine being mounted; finish with [`into_router`](Self::into_router).
#[derive(Debug)]
pub struct Mount<E> {
    engine: Arc<E>,
    timeout: Duration,
}

/// Mounts `engine` (see the [crate docs](crate)).
pub fn router<E: HttpEngine + 'static>(engine: Arc<E>) -> Mount<E> {
    Mount {
        engine,
        timeout: DEFAULT_TIMEOUT,
    }
}

impl<E: HttpEngine + 'static> Mount<E> {
    /// How long a request may run before it is answered `503` (default [`DEFAULT_TIMEOUT`]).
    ///
    /// A request cut off by the timeout keeps its idempotency key reserved until the store's
    /// in-flight lease ends; the agent's retry with the same key is then answered `409` until
    /// that moment, and never runs twice at once.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Binds `addr` (port `0`: any free port) and serves the engine there on a background
    /// task; returns the address bound and the task (it ends only if serving fails). For an
    /// agent's webhook receiver ([`WebhookReceiver`]), a test server, or any engine that needs
    /// no other routes.
    ///
    /// # Errors
    ///
    /// `addr` cannot be bound.
    pub async fn spawn(
        self,
        addr: std::net::SocketAddr,
    ) -> std::io::Result<(
        std::net::SocketAddr,
        tokio::task::JoinHandle<std::io::Result<()>>,
    )> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let app = self.into_router();
        Ok((
            local,
            tokio::spawn(async move { axum::serve(listener, app).await }),
        ))
    }

    /// The router: every path goes to the engine, which answers `404` for what it does not
    /// serve.
    pub fn into_router(self) -> Router {
        let engine = self.engine;
        let timeout = self.timeout;
        Router::new().fallback(move |request: Request| {
            let engine = Arc::clone(&engine);
            async move { serve(&*engine, request, timeout).await }
        })
    }
}

/// Serves one axum request with `engine`: the body capped at the engine's limit (413 beyond
/// it, never buffered past it), the whole exchange bounded by `timeout`.
pub async fn serve<E: HttpEngine>(engine: &E, request: Request, timeout: Duration) -> Response {
    let (parts, body) = request.into_parts();
    let limit = engine.max_body_bytes();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let work = async {
        let bytes = match read_capped(body, limit, declared).await {
            Ok(bytes) => bytes,
            Err(response) => return response,
        };
        let response = engine.handle_request(&parts, &bytes).await;
        let (parts, body) = response.into_parts();
        Response::from_parts(parts, Body::from(body))
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(response) => response,
        Err(_) => acp_error(&AcpError::service_unavailable(
            "the request took too long; retry with the same Idempotency-Key",
            Some(RetryAfter::from_secs(1)),
        )),
    }
}

/// How much of an oversized body is read and discarded (never kept) before the 413 goes out,
/// so that a client still sending gets the answer instead of a reset connection.
pub const DRAIN_BYTES: usize = 8 << 20;

/// The body, or the response to send: 413 once it exceeds `limit` bytes (then up to
/// [`DRAIN_BYTES`] more are read and dropped), 400 when it cannot be read. Memory stays
/// bounded by `limit`, whatever the client declares (`declared`, its `Content-Length`) or sends.
async fn read_capped(mut body: Body, limit: usize, declared: usize) -> Result<Vec<u8>, Response> {
    use http_body_util::BodyExt as _;
    let mut kept = Vec::with_capacity(declared.min(limit));
    let mut seen: usize = 0;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(acp_error(&AcpError::invalid_request(
                "invalid_body",
                "the request body could not be read",
                &agentic_commerce::JsonPath::root(),
            )));
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        seen = seen.saturating_add(data.len());
        if seen > limit.saturating_add(DRAIN_BYTES) {
            break;
        }
        if seen <= limit {
            kept.extend_from_slice(&data);
        }
    }
    if seen > limit {
        return Err(acp_error(&AcpError::request_too_large(limit)));
    }
    Ok(kept)
}

fn acp_error(error: &AcpError) -> Response {
    let body = serde_json_body(error);
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (name, value) in error.response_headers() {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

fn serde_json_body(error: &AcpError) -> Vec<u8> {
    error.to_json().to_string().into_bytes()
}
