//! The client against real servers: the core's merchant engine on axum, a small idempotent PSP,
//! scripted servers, and a fault-injecting TCP proxy that lets the server process a request and
//! then drops the connection before the response reaches the client.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agentic_commerce::AcpError;
use agentic_commerce::engine::merchant::prelude::*;
use agentic_commerce::engine::merchant::{Context, Silent};
use agentic_commerce::engine::store::AsyncIdempotencyStore;
use agentic_commerce::parse;
use agentic_commerce::protocol::headers::IdempotencyKey;
use agentic_commerce::spec::latest::agentic_checkout::CheckoutSessionWithOrder;
use agentic_commerce::spec::latest::delegate_payment::DelegatePaymentRequest;
use agentic_commerce::trust::idempotency::{
    Fingerprint, IdempotencyOutcome, IdempotencyScope, StoredResponse,
};
use agentic_commerce::trust::signature::{Algorithm, HmacSha256Key, RequestSigner, Verifier};
use agentic_commerce_client::{AcpClient, Error, Method, RawSigning, RetryPolicy};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const MERCHANT_KEY: &str = "merchant-key-0123456789";
const PSP_KEY: &str = "psp-key-0123456789";
const SIGNING_SECRET: &[u8] = b"signing-secret-0123456789abcdef";

// ------------------------------------------------------------------------------------------
// Servers

async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    addr
}

/// A fault-injecting TCP proxy: while armed, the next response that starts to come back from
/// the server (which has therefore processed the request) is swallowed and both connections
/// are dropped.
struct Proxy {
    addr: SocketAddr,
    armed: Arc<AtomicUsize>,
    injected: Arc<AtomicUsize>,
}

impl Proxy {
    async fn spawn(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let armed = Arc::new(AtomicUsize::new(0));
        let injected = Arc::new(AtomicUsize::new(0));
        let (a, i) = (Arc::clone(&armed), Arc::clone(&injected));
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                tokio::spawn(pipe(client, server, Arc::clone(&a), Arc::clone(&i)));
            }
        });
        Self {
            addr,
            armed,
            injected,
        }
    }

    /// Drops the next `n` responses.
    fn arm(&self, n: usize) {
        self.armed.store(n, Ordering::SeqCst);
    }

    fn injected(&self) -> usize {
        self.injected.load(Ordering::SeqCst)
    }

    fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

async fn pipe(
    client: TcpStream,
    server: TcpStream,
    armed: Arc<AtomicUsize>,
    injected: Arc<AtomicUsize>,
) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    // Set when request bytes went up since the last response bytes came down: the next bytes
    // from the server start a response.
    let fresh = Arc::new(AtomicBool::new(false));
    let up_fresh = Arc::clone(&fresh);
    let up = tokio::spawn(async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    let _ = server_write.shutdown().await;
                    return;
                }
                Ok(n) => {
                    up_fresh.store(true, Ordering::SeqCst);
                    if server_write.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match server_read.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let starts_response = fresh.swap(false, Ordering::SeqCst);
        if starts_response
            && armed
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        {
            // The server has answered: drop the answer and both connections.
            injected.fetch_add(1, Ordering::SeqCst);
            up.abort();
            return;
        }
        if client_write.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    up.abort();
}

/// A small merchant: flat price, ready once it has fulfillment details; counts sessions
/// created and charges made.
#[derive(Default)]
struct Shop {
    sessions: AtomicUsize,
    charges: AtomicUsize,
}

impl Merchant for Shop {
    async fn create_checkout(
        &self,
        _: &Context,
        request: CheckoutSessionCreateRequest,
    ) -> Result<CheckoutSession, AcpError> {
        let n = self.sessions.fetch_add(1, Ordering::SeqCst) + 1;
        let totals = json!([{"type": "subtotal", "display_text": "Subtotal", "amount": 1000},
            {"type": "total", "display_text": "Total", "amount": 1000}]);
        let lines: Vec<Value> = request
            .line_items
            .iter()
            .map(|item| {
                json!({"id": format!("li_{}", item.id), "item": item, "quantity": 1,
                "name": "Mug", "unit_amount": 1000, "totals": totals})
            })
            .collect();
        let session = json!({"id": format!("cs_{n}"), "status": "not_ready_for_payment",
            "capabilities": {}, "currency": "usd", "line_items": lines,
            "fulfillment_options": [], "totals": totals, "messages": [],
            "links": [{"type": "terms_of_use", "url": "https://shop.example/terms"}]});
        parse::from_value(&session).map_err(|e| AcpError::processing_error(e.to_string()))
    }

    async fn update_checkout(
        &self,
        _: &Context,
        mut session: CheckoutSession,
        request: CheckoutSessionUpdateRequest,
    ) -> Result<CheckoutSession, AcpError> {
        if let Some(details) = request.fulfillment_details.as_set() {
            session.fulfillment_details = Some(details.clone());
            session.status = CheckoutStatus::ReadyForPayment;
        }
        Ok(session)
    }

    async fn complete_checkout(
        &self,
        _: &Context,
        mut session: CheckoutSession,
        _: CheckoutSessionCompleteRequest,
    ) -> Result<CheckoutSession, AcpError> {
        // The charge: a side effect that must happen once.
        self.charges.fetch_add(1, Ordering::SeqCst);
        let id = session.id.as_str().to_owned();
        let order = json!({"id": format!("ord_{id}"), "checkout_session_id": id,
            "permalink_url": format!("https://shop.example/orders/{id}")});
        session.order =
            Some(parse::from_value(&order).map_err(|e| AcpError::processing_error(e.to_string()))?);
        session.status = CheckoutStatus::Completed;
        Ok(session)
    }
}

/// The merchant engine serving `shop` (signed requests required) on a local port.
async fn merchant(shop: Arc<Shop>, versions: &[ApiVersion]) -> SocketAddr {
    let engine = MerchantEngine::builder(
        shop,
        InMemoryStore::default(),
        BearerKeys::new().key(MERCHANT_KEY, Identity::new("agent")),
    )
    .api_base_url("https://shop.example/".parse().unwrap())
    .versions(versions)
    .events(Silent)
    .verifier(
        Verifier::new([Algorithm::HS256])
            .with_key("agent", HmacSha256Key::new(SIGNING_SECRET).unwrap()),
    )
    .payment_handler(tokenized_card_handler("card_tokenized", "stripe", "shop"))
    .build()
    .unwrap();
    serve(agentic_commerce_axum::router(Arc::new(engine)).into_router()).await
}

/// Fast retries for tests.
fn quick() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(10))
        .with_max_backoff(Duration::from_millis(50))
        .with_deadline(Duration::from_secs(20))
}

fn merchant_client(url: &str) -> AcpClient {
    AcpClient::builder(url)
        .bearer_token(MERCHANT_KEY)
        .signer(RequestSigner::new(
            HmacSha256Key::new(SIGNING_SECRET).unwrap(),
        ))
        .retry_policy(quick())
        .build()
        .unwrap()
}

fn create_request() -> CheckoutSessionCreateRequest {
    parse::from_value(&json!({"currency": "usd", "line_items": [{"id": "mug"}],
        "capabilities": {}}))
    .unwrap()
}

fn update_request() -> CheckoutSessionUpdateRequest {
    parse::from_value(
        &json!({"fulfillment_details": {"name": "Ada", "address": {"name": "Ada",
        "line_one": "1 Main St", "city": "Springfield", "state": "CA", "country": "US",
        "postal_code": "94131"}}}),
    )
    .unwrap()
}

fn complete_request() -> CheckoutSessionCompleteRequest {
    parse::from_value(&json!({"payment_data": {"handler_id": "card_tokenized",
        "instrument": {"type": "card", "credential": {"type": "spt", "token": "vt_1"}}}}))
    .unwrap()
}

fn delegate_request() -> DelegatePaymentRequest {
    parse::from_value(&json!({
        "payment_method": {"type": "card", "card_number_type": "fpan", "virtual": false,
            "number": "4242424242424242", "exp_month": "12", "exp_year": "2030",
            "display_card_funding_type": "credit", "display_last4": "4242", "metadata": {}},
        "allowance": {"reason": "one_time", "max_amount": 1000, "currency": "usd",
            "checkout_session_id": "cs_1", "merchant_id": "shop",
            "expires_at": "2030-01-01T00:00:00Z"},
        "risk_signals": [], "metadata": {}
    }))
    .unwrap()
}

/// A small PSP: `delegate_payment` made idempotent with the core's idempotency store; counts
/// the tokens it issues and records every key it sees. Self-contained, so the PSP engine being
/// built elsewhere can replace it.
#[derive(Default)]
struct Psp {
    store: InMemoryStore,
    issued: AtomicUsize,
    keys: Mutex<Vec<String>>,
}

fn json_response(status: u16, body: Vec<u8>, headers: &[(String, String)]) -> Response {
    let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
    let map = response.headers_mut();
    map.insert("content-type", "application/json".parse().unwrap());
    for (name, value) in headers {
        map.insert(
            axum::http::HeaderName::try_from(name.as_str()).unwrap(),
            value.parse().unwrap(),
        );
    }
    response
}

fn acp_error(error: &AcpError) -> Response {
    let headers: Vec<(String, String)> = error
        .response_headers()
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v))
        .collect();
    json_response(
        error.status(),
        serde_json::to_vec(&error.to_json()).unwrap(),
        &headers,
    )
}

async fn psp_delegate(State(psp): State<Arc<Psp>>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("authorization") != Some(&format!("Bearer {PSP_KEY}")) {
        return acp_error(&AcpError::unauthorized("invalid API key"));
    }
    let Some(key) = header("idempotency-key").and_then(|k| IdempotencyKey::parse(k).ok()) else {
        return acp_error(&AcpError::idempotency_key_required());
    };
    psp.keys.lock().unwrap().push(key.as_str().to_owned());
    if parse::from_slice::<DelegatePaymentRequest>(&body).is_err() {
        return acp_error(&AcpError::unprocessable("invalid_card", "bad request"));
    }
    let scope = IdempotencyScope::new("agent", "/agentic_commerce/delegate_payment", key.clone());
    let fingerprint = Fingerprint::of_body(&body).unwrap();
    let now = OffsetDateTime::now_utc();
    match psp.store.begin(&scope, &fingerprint, now).await.unwrap() {
        IdempotencyOutcome::Proceed(lease) => {
            let n = psp.issued.fetch_add(1, Ordering::SeqCst) + 1;
            let answer = serde_json::to_vec(&json!({"id": format!("vt_{n}"),
                "created": "2026-04-17T12:00:00Z",
                "metadata": {"idempotency_key": key.as_str()}}))
            .unwrap();
            let echo = vec![("Idempotency-Key".to_owned(), key.as_str().to_owned())];
            psp.store
                .complete(
                    &scope,
                    lease,
                    StoredResponse::new(201, answer.clone(), Vec::new()),
                    now,
                )
                .await
                .unwrap();
            json_response(201, answer, &echo)
        }
        IdempotencyOutcome::Replay(stored) => json_response(
            stored.status,
            stored.body.clone(),
            &stored.replay_headers(&key),
        ),
        other => acp_error(&AcpError::from(&other.rejection().unwrap())),
    }
}

async fn psp() -> (Arc<Psp>, SocketAddr) {
    let psp = Arc::new(Psp::default());
    let app = Router::new()
        .route("/agentic_commerce/delegate_payment", post(psp_delegate))
        .with_state(Arc::clone(&psp));
    (psp, serve(app).await)
}

fn psp_client(url: &str) -> AcpClient {
    AcpClient::builder(url)
        .bearer_token(PSP_KEY)
        .retry_policy(quick())
        .build()
        .unwrap()
}

// ------------------------------------------------------------------------------------------
// Exactly once under faults

#[tokio::test]
async fn create_and_complete_happen_once_when_responses_are_lost() {
    let shop = Arc::new(Shop::default());
    let server = merchant(Arc::clone(&shop), &[ApiVersion::LATEST]).await;
    let proxy = Proxy::spawn(server).await;
    let client = merchant_client(&proxy.url());

    // Create: the first response is lost after the merchant created the session.
    proxy.arm(1);
    let created = client.create_checkout(&create_request()).await.unwrap();
    assert_eq!(proxy.injected(), 1);
    assert_eq!(created.status, 201);
    assert_eq!(created.attempts, 2);
    assert!(created.replayed, "the retry must get the stored answer");
    assert_eq!(
        shop.sessions.load(Ordering::SeqCst),
        1,
        "exactly one session"
    );
    let id = created.value.id.as_str().to_owned();
    assert_eq!(id, "cs_1");

    let again = client.retrieve_checkout(&id).await.unwrap();
    assert_eq!(again.value.id.as_str(), id);
    assert!(again.idempotency_key.is_none(), "no key on a GET");

    let ready = client
        .update_checkout(&id, &update_request())
        .await
        .unwrap();
    assert_eq!(ready.value.status, CheckoutStatus::ReadyForPayment);
    assert!(!ready.replayed);

    // Complete: two responses in a row are lost; the third attempt gets the replay.
    proxy.arm(2);
    let done = client
        .complete_checkout(&id, &complete_request())
        .await
        .unwrap();
    assert_eq!(proxy.injected(), 3);
    assert_eq!(done.attempts, 3);
    assert!(done.replayed);
    assert_eq!(done.value.status, CheckoutStatus::Completed);
    assert_eq!(done.value.order.id.as_str(), "ord_cs_1");
    assert_eq!(shop.charges.load(Ordering::SeqCst), 1, "exactly one charge");
    assert_eq!(shop.sessions.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn delegate_payment_issues_one_token_when_responses_are_lost() {
    let (psp, server) = psp().await;
    let proxy = Proxy::spawn(server).await;
    let client = psp_client(&proxy.url());

    proxy.arm(2);
    let token = client.delegate_payment(&delegate_request()).await.unwrap();
    assert_eq!(proxy.injected(), 2);
    assert_eq!(token.status, 201);
    assert_eq!(token.attempts, 3);
    assert!(token.replayed);
    assert_eq!(token.value.id.as_str(), "vt_1");
    assert_eq!(psp.issued.load(Ordering::SeqCst), 1, "exactly one token");
    let keys = psp.keys.lock().unwrap().clone();
    assert_eq!(keys.len(), 3);
    assert!(
        keys.iter().all(|k| *k == keys[0]),
        "one key for every retry: {keys:?}"
    );
    assert_eq!(keys[0].len(), 32, "128 random bits, hex");
    assert_eq!(token.idempotency_key.unwrap().as_str(), keys[0]);

    // A new logical call gets a new key and a new token.
    let second = client.delegate_payment(&delegate_request()).await.unwrap();
    assert!(!second.replayed);
    assert_eq!(second.value.id.as_str(), "vt_2");
    assert_ne!(psp.keys.lock().unwrap()[3], keys[0]);
}

// ------------------------------------------------------------------------------------------
// Retry rules

#[derive(Default)]
struct Script {
    hits: AtomicUsize,
    keys: Mutex<Vec<String>>,
    versions: Mutex<Vec<String>>,
}

impl Script {
    fn record(&self, headers: &HeaderMap) -> usize {
        let get = |n: &str| {
            headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        self.keys.lock().unwrap().push(get("idempotency-key"));
        self.versions.lock().unwrap().push(get("api-version"));
        self.hits.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

async fn scripted<F>(path: &str, answer: F) -> (Arc<Script>, String)
where
    F: Fn(usize) -> Response + Clone + Send + Sync + 'static,
{
    let script = Arc::new(Script::default());
    let state = Arc::clone(&script);
    let handler = move |headers: HeaderMap| {
        let answer = answer.clone();
        let state = Arc::clone(&state);
        async move {
            let n = state.record(&headers);
            answer(n)
        }
    };
    let app = Router::new().route(path, post(handler.clone()).get(handler));
    let addr = serve(app).await;
    (script, format!("http://{addr}/"))
}

fn token_body() -> Vec<u8> {
    br#"{"id":"vt_9","created":"2026-04-17T12:00:00Z","metadata":{}}"#.to_vec()
}

#[tokio::test]
async fn a_400_is_not_retried() {
    let (script, url) = scripted("/agentic_commerce/delegate_payment", |_| {
        let error = AcpError::invalid_request(
            "invalid_card",
            "card number is not valid",
            &agentic_commerce::JsonPath::root()
                .key("payment_method")
                .key("number"),
        );
        acp_error(&error)
    })
    .await;
    let err = psp_client(&url)
        .delegate_payment(&delegate_request())
        .await
        .unwrap_err();
    assert_eq!(script.hits(), 1);
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.attempts(), 1);
    let api = err.api_error().unwrap();
    assert_eq!(api.kind().as_str(), "invalid_request");
    assert_eq!(api.code(), "invalid_card");
    assert_eq!(api.message(), "card number is not valid");
    assert_eq!(api.param(), Some("$.payment_method.number"));
    assert!(!err.is_transient());
}

#[tokio::test]
async fn a_409_in_flight_waits_for_retry_after_and_reuses_the_key() {
    let (script, url) = scripted("/agentic_commerce/delegate_payment", |n| {
        if n == 1 {
            let error = AcpError::idempotency_in_flight(
                agentic_commerce::protocol::headers::RetryAfter::from_secs(1),
            );
            acp_error(&error)
        } else {
            json_response(201, token_body(), &[])
        }
    })
    .await;
    let started = Instant::now();
    let token = psp_client(&url)
        .delegate_payment(&delegate_request())
        .await
        .unwrap();
    let waited = started.elapsed();
    assert_eq!(script.hits(), 2);
    assert_eq!(token.attempts, 2);
    assert!(waited >= Duration::from_secs(1), "waited only {waited:?}");
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");
    let keys = script.keys.lock().unwrap().clone();
    assert_eq!(keys[0], keys[1]);
    assert!(!keys[0].is_empty());
}

#[tokio::test]
async fn a_retry_after_above_the_cap_ends_the_call() {
    let (script, url) = scripted("/agentic_commerce/delegate_payment", |_| {
        acp_error(&AcpError::idempotency_in_flight(
            agentic_commerce::protocol::headers::RetryAfter::from_secs(120),
        ))
    })
    .await;
    let err = psp_client(&url)
        .delegate_payment(&delegate_request())
        .await
        .unwrap_err();
    assert_eq!(script.hits(), 1);
    assert_eq!(err.status(), Some(409));
    assert_eq!(err.api_error().unwrap().code(), "idempotency_in_flight");
    assert_eq!(err.api_error().unwrap().retry_after().unwrap().secs(), 120);
}

#[tokio::test]
async fn the_total_deadline_bounds_retries_of_5xx() {
    let (script, url) = scripted("/agentic_commerce/delegate_payment", |_| {
        acp_error(&AcpError::processing_error("down"))
    })
    .await;
    let client = AcpClient::builder(&url)
        .bearer_token(PSP_KEY)
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(1000)
                .with_initial_backoff(Duration::from_millis(20))
                .with_max_backoff(Duration::from_millis(100))
                .with_deadline(Duration::from_millis(800)),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client
        .delegate_payment(&delegate_request())
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, Error::DeadlineExceeded { .. }), "{err}");
    assert!(took < Duration::from_millis(1300), "took {took:?}");
    assert!(script.hits() >= 3, "only {} attempts", script.hits());
    assert_eq!(err.status(), Some(500), "the last answer is kept");
    assert!(script.keys.lock().unwrap().windows(2).all(|w| w[0] == w[1]));
}

/// A PSP that answers its first `answered` attempts `500` and leaves every later one hanging
/// (past any timeout of the tests); the hits, and its URL.
async fn down_then_hanging(answered: usize) -> (Arc<AtomicUsize>, String) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let app = Router::new().route(
        "/agentic_commerce/delegate_payment",
        post(move || {
            let counter = Arc::clone(&counter);
            async move {
                if counter.fetch_add(1, Ordering::SeqCst) < answered {
                    return acp_error(&AcpError::processing_error("down"));
                }
                tokio::time::sleep(Duration::from_secs(30)).await;
                StatusCode::NO_CONTENT.into_response()
            }
        }),
    );
    let addr = serve(app).await;
    (hits, format!("http://{addr}/"))
}

/// Retries 10 ms apart, at most `attempts` in all, within `deadline`.
fn retries_within(deadline: Duration, attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(10))
        .with_max_backoff(Duration::from_millis(10))
        .with_deadline(deadline)
        .with_max_attempts(attempts)
}

/// A PSP client with this per-attempt timeout and retry policy.
fn psp_client_with(url: &str, attempt_timeout: Duration, retry: RetryPolicy) -> AcpClient {
    AcpClient::builder(url)
        .bearer_token(PSP_KEY)
        .attempt_timeout(attempt_timeout)
        .retry_policy(retry)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_deadline_that_cuts_an_attempt_short_keeps_the_answer_before_it() {
    // Each attempt may take 20 s: the deadline (1.5 s), not the attempt timeout, ends the
    // hanging second attempt.
    let (hits, url) = down_then_hanging(1).await;
    let client = psp_client_with(
        &url,
        Duration::from_secs(20),
        retries_within(Duration::from_millis(1500), 5),
    );
    let err = client
        .delegate_payment(&delegate_request())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::DeadlineExceeded { attempts: 2, .. }),
        "{err}"
    );
    assert_eq!(
        err.status(),
        Some(500),
        "the first attempt's answer is kept"
    );
    assert_eq!(err.api_error().unwrap().code(), "processing_error");
    assert_eq!(hits.load(Ordering::SeqCst), 2);

    // A raw request too: the cut attempt's outcome is unknown, so it is not the 500 answered
    // before it, but a deadline error that keeps that answer.
    let (hits, url) = down_then_hanging(1).await;
    let err = psp_client_with(&url, Duration::from_secs(20), RetryPolicy::none())
        .raw(Method::POST, "agentic_commerce/delegate_payment")
        .body(&b"{}"[..])
        .retry(retries_within(Duration::from_millis(1500), 5))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::DeadlineExceeded { attempts: 2, .. }),
        "{err}"
    );
    assert_eq!(err.api_error().unwrap().code(), "processing_error");
    assert_eq!(err.status(), Some(500));
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn attempt_timeouts_are_retried_within_the_deadline() {
    // A server that never answers.
    let (hits, url) = down_then_hanging(0).await;
    let client = psp_client_with(
        &url,
        Duration::from_millis(200),
        retries_within(Duration::from_millis(700), 10),
    );
    let started = Instant::now();
    let err = client
        .delegate_payment(&delegate_request())
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, Error::DeadlineExceeded { .. }), "{err}");
    assert!(took < Duration::from_millis(1200), "took {took:?}");
    assert!(
        hits.load(Ordering::SeqCst) >= 3,
        "{} attempts",
        hits.load(Ordering::SeqCst)
    );

    // With one attempt only, the per-attempt timeout itself is the answer.
    let once = psp_client_with(&url, Duration::from_millis(100), RetryPolicy::none());
    let err = once
        .delegate_payment(&delegate_request())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { attempts: 1, .. }), "{err}");
}

// ------------------------------------------------------------------------------------------
// Response cap

#[tokio::test]
async fn a_response_over_the_cap_is_refused() {
    // Declared length over the cap.
    let (_, url) = scripted("/agentic_commerce/delegate_payment", |_| {
        json_response(201, vec![b' '; 100_000], &[])
    })
    .await;
    let client = AcpClient::builder(&url)
        .bearer_token(PSP_KEY)
        .max_response_bytes(64 * 1024)
        .build()
        .unwrap();
    let err = client
        .delegate_payment(&delegate_request())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TooLarge { limit: 65_536 }), "{err}");

    // An endless chunked body: reading stops at the cap.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&sent);
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        let _ = socket.read(&mut buf).await;
        let head = "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
        socket.write_all(head.as_bytes()).await.unwrap();
        let chunk = format!("{:x}\r\n{}\r\n", 8192, " ".repeat(8192));
        for _ in 0..10_000 {
            if socket.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
            counter.fetch_add(8192, Ordering::SeqCst);
        }
    });
    let client = AcpClient::builder(&format!("http://{addr}/"))
        .bearer_token(PSP_KEY)
        .max_response_bytes(64 * 1024)
        .build()
        .unwrap();
    let err = client
        .delegate_payment(&delegate_request())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        sent.load(Ordering::SeqCst) < 10_000 * 8192,
        "the client stopped reading"
    );
}

// ------------------------------------------------------------------------------------------
// Versions

#[tokio::test]
async fn discovery_chooses_the_newest_common_version() {
    let shop = Arc::new(Shop::default());
    let server = merchant(
        Arc::clone(&shop),
        &[ApiVersion::V2026_01_30, ApiVersion::LATEST],
    )
    .await;
    let url = format!("http://{server}/");
    let build = |ours: Option<&[ApiVersion]>| {
        let mut builder = AcpClient::builder(&url)
            .bearer_token(MERCHANT_KEY)
            .signer(RequestSigner::new(
                HmacSha256Key::new(SIGNING_SECRET).unwrap(),
            ))
            .negotiate_version();
        if let Some(ours) = ours {
            builder = builder.supported_versions(ours);
        }
        builder.build().unwrap()
    };

    let newest = build(None);
    assert_eq!(newest.api_version().await.unwrap(), ApiVersion::LATEST);
    let discovery = newest.discover().await.unwrap();
    assert!(discovery.api_version.is_none());
    assert_eq!(discovery.value.protocol.name, "acp");

    // An agent that speaks only older versions gets 2026-01-30; its answers come back in that
    // version and are upgraded to the 2026-04-17 model.
    let older = build(Some(&[ApiVersion::V2025_12_12, ApiVersion::V2026_01_30]));
    assert_eq!(older.api_version().await.unwrap(), ApiVersion::V2026_01_30);
    let created = older.create_checkout(&create_request()).await.unwrap();
    assert_eq!(created.api_version, Some(ApiVersion::V2026_01_30));
    assert_eq!(created.value.status, CheckoutStatus::NotReadyForPayment);
    let id = created.value.id.as_str().to_owned();
    let ready = older.update_checkout(&id, &update_request()).await.unwrap();
    assert_eq!(ready.value.status, CheckoutStatus::ReadyForPayment);
    let done = older
        .complete_checkout(&id, &complete_request())
        .await
        .unwrap();
    assert_eq!(done.value.status, CheckoutStatus::Completed);
    assert_eq!(shop.charges.load(Ordering::SeqCst), 1);

    // No common version.
    let ancient = build(Some(&[ApiVersion::V2025_09_29]));
    let err = ancient.api_version().await.unwrap_err();
    assert!(matches!(err, Error::NoCommonVersion { .. }), "{err}");
}

#[tokio::test]
async fn an_older_versions_answer_is_upgraded() {
    // A 2026-01-30 complete answer: its order status `delivered` is `completed` in 2026-04-17.
    let (script, url) = scripted("/checkout_sessions/cs_1/complete", |_| {
        let totals = json!([{"type": "total", "display_text": "Total", "amount": 1000}]);
        let body = json!({"id": "cs_1", "status": "completed", "currency": "usd",
            "capabilities": {}, "fulfillment_options": [], "messages": [], "links": [],
            "totals": totals,
            "line_items": [{"id": "li_1", "item": {"id": "mug"}, "quantity": 1, "totals": totals}],
            "order": {"id": "ord_1", "checkout_session_id": "cs_1",
                "permalink_url": "https://shop.example/orders/1", "status": "delivered"}});
        json_response(200, serde_json::to_vec(&body).unwrap(), &[])
    })
    .await;
    let client = AcpClient::builder(&url)
        .bearer_token(MERCHANT_KEY)
        .api_version(ApiVersion::V2026_01_30)
        .build()
        .unwrap();
    let done = client
        .complete_checkout("cs_1", &complete_request())
        .await
        .unwrap();
    assert_eq!(script.versions.lock().unwrap()[0], "2026-01-30");
    let order: &CheckoutSessionWithOrder = &done.value;
    let status = parse::to_value(&order.order).unwrap()["status"].clone();
    assert_eq!(status, "completed", "upgraded to 2026-04-17");
    assert_eq!(done.api_version, Some(ApiVersion::V2026_01_30));
}

// ------------------------------------------------------------------------------------------
// Configuration

#[test]
fn secrets_stay_out_of_debug_and_http_needs_loopback() {
    let builder = AcpClient::builder("https://shop.example/api")
        .bearer_token("sk_live_supersecret")
        .signer(RequestSigner::new(
            HmacSha256Key::new(b"hmac-secret-value").unwrap(),
        ));
    let shown = format!("{builder:?}");
    assert!(
        !shown.contains("supersecret") && !shown.contains("hmac-secret"),
        "{shown}"
    );
    let client = builder.build().unwrap();
    let shown = format!("{client:?}");
    assert!(
        !shown.contains("supersecret") && !shown.contains("hmac-secret"),
        "{shown}"
    );
    assert_eq!(client.base_url(), "https://shop.example/api/");

    assert!(AcpClient::builder("http://shop.example/").build().is_err());
    assert!(AcpClient::builder("http://127.0.0.1:9/").build().is_ok());
    assert!(AcpClient::builder("http://[::1]:9/").build().is_ok());
    assert!(AcpClient::builder("http://localhost:9/").build().is_ok());
    assert!(AcpClient::builder("ftp://shop.example/").build().is_err());
    assert!(
        AcpClient::builder("https://shop.example/")
            .bearer_token("not a token")
            .build()
            .is_err()
    );
}

#[tokio::test]
async fn path_ids_are_encoded() {
    let (script, url) = scripted("/checkout_sessions/{id}", |_| {
        json_response(
            404,
            br#"{"type":"invalid_request","code":"not_found","message":"no"}"#.to_vec(),
            &[],
        )
    })
    .await;
    let client = AcpClient::builder(&url)
        .bearer_token(MERCHANT_KEY)
        .build()
        .unwrap();
    let err = client.retrieve_checkout("a/b?c").await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(script.hits(), 1, "the id stayed one path segment");
}

// ------------------------------------------------------------------------------------------
// Raw requests

/// A server answering every request on `/echo/{*rest}` with its method, path, headers and
/// body (as text), with the status the `x-status` header asks for (default 418).
async fn echo() -> String {
    async fn handler(
        method: Method,
        uri: axum::http::Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        let status = headers
            .get("x-status")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(418);
        let shown: serde_json::Map<String, Value> = headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    Value::from(v.to_str().unwrap_or_default()),
                )
            })
            .collect();
        let answer = json!({"method": method.as_str(), "path": uri.to_string(),
            "headers": shown, "body": String::from_utf8_lossy(&body)});
        json_response(status, serde_json::to_vec(&answer).unwrap(), &[])
    }
    let app = Router::new().route("/echo/{*rest}", axum::routing::any(handler));
    format!("http://{}/", serve(app).await)
}

#[tokio::test]
async fn raw_requests_carry_the_defaults_the_callers_changes_and_the_exact_bytes() {
    let url = echo().await;
    let client = AcpClient::builder(&format!("{url}echo/"))
        .bearer_token(MERCHANT_KEY)
        .signer(RequestSigner::new(
            HmacSha256Key::new(SIGNING_SECRET).unwrap(),
        ))
        .user_agent("raw-test/1")
        .build()
        .unwrap();
    assert!(client.has_signer());

    // A body that is not JSON: sent as is, unsigned, every other default header present.
    let answer = client
        .raw(Method::POST, "/checkout_sessions")
        .body(&b"{not json"[..])
        .await
        .unwrap();
    assert_eq!(answer.status, 418, "any status is an answer");
    assert_eq!(answer.attempts, 1);
    assert!(!answer.truncated);
    let seen: Value = answer.json().unwrap();
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["path"], "/echo/checkout_sessions");
    assert_eq!(seen["body"], "{not json");
    let headers = &seen["headers"];
    assert_eq!(headers["authorization"], format!("Bearer {MERCHANT_KEY}"));
    assert_eq!(headers["api-version"], "2026-04-17");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["accept"], "application/json");
    assert_eq!(headers["user-agent"], "raw-test/1");
    assert!(headers["request-id"].as_str().unwrap().starts_with("req_"));
    assert!(
        headers.get("idempotency-key").is_none(),
        "no key unless set"
    );
    assert!(headers.get("signature").is_none(), "not JSON: unsigned");

    // A JSON body with a key, another bearer, no API-Version, a stale signature.
    let at = OffsetDateTime::now_utc() - time::Duration::hours(1);
    let body = br#"{"b":1,"a":2}"#;
    let answer = client
        .raw(Method::PUT, "carts/c_1?x=1")
        .body(&body[..])
        .idempotency_key("key-1")
        .header("Authorization", "Bearer wrong")
        .without_header("api-version")
        .header("x-status", "401")
        .signing(RawSigning::At(at))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status, 401);
    let seen: Value = answer.json().unwrap();
    assert_eq!(seen["method"], "PUT");
    assert_eq!(seen["path"], "/echo/carts/c_1?x=1");
    assert_eq!(seen["body"], r#"{"b":1,"a":2}"#);
    let headers = &seen["headers"];
    assert_eq!(headers["authorization"], "Bearer wrong");
    assert_eq!(headers["idempotency-key"], "key-1");
    assert!(headers.get("api-version").is_none());
    let expected = client.sign_body(body, at).unwrap().unwrap();
    assert_eq!(headers["signature"], expected.signature.as_str());
    assert_eq!(headers["timestamp"], expected.timestamp.as_str());

    // Signing off, and a GET without a body has no Content-Type.
    let answer = client
        .raw(Method::POST, "x")
        .body(&body[..])
        .signing(RawSigning::Off)
        .await
        .unwrap();
    assert!(
        answer.json::<Value>().unwrap()["headers"]
            .get("signature")
            .is_none()
    );
    let answer = client.raw(Method::GET, "x").await.unwrap();
    let seen: Value = answer.json().unwrap();
    assert!(seen["headers"].get("content-type").is_none());
    assert_eq!(answer.header("Content-Type"), Some("application/json"));

    // An absolute URL: loopback http is fine, other plain http is refused before sending.
    let answer = client
        .raw_url(Method::POST, &format!("{url}echo/mcp"))
        .body(&b"{}"[..])
        .without_header("request-id")
        .await
        .unwrap();
    let seen: Value = answer.json().unwrap();
    assert_eq!(seen["path"], "/echo/mcp");
    assert!(seen["headers"].get("request-id").is_none());
    let err = client
        .raw_url(Method::GET, "http://shop.example/mcp")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
    let err = client
        .raw(Method::GET, "x")
        .header("bad header", "v")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
}

#[tokio::test]
async fn raw_requests_are_retried_only_when_asked() {
    let (script, url) = scripted("/agentic_commerce/delegate_payment", |n| {
        if n < 3 {
            json_response(503, b"busy".to_vec(), &[])
        } else {
            json_response(201, token_body(), &[])
        }
    })
    .await;
    let client = psp_client(&url);
    let answer = client
        .raw(Method::POST, "agentic_commerce/delegate_payment")
        .body(&b"{}"[..])
        .idempotency_key("once")
        .await
        .unwrap();
    assert_eq!((answer.status, answer.attempts), (503, 1));
    assert_eq!(script.hits(), 1);

    let answer = client
        .raw(Method::POST, "agentic_commerce/delegate_payment")
        .body(&b"{}"[..])
        .idempotency_key("again")
        .retry(quick())
        .await
        .unwrap();
    assert_eq!((answer.status, answer.attempts), (201, 2));
    assert_eq!(script.hits(), 3);
    let keys = script.keys.lock().unwrap().clone();
    assert_eq!(keys[1..], ["again", "again"]);

    // No retry left: the last answer is the result.
    let (_, url) = scripted("/agentic_commerce/delegate_payment", |_| {
        json_response(500, b"down".to_vec(), &[])
    })
    .await;
    let answer = psp_client(&url)
        .raw(Method::POST, "agentic_commerce/delegate_payment")
        .body(&b"{}"[..])
        .retry(quick().with_max_attempts(2))
        .await
        .unwrap();
    assert_eq!((answer.status, answer.attempts), (500, 2));
    assert_eq!(answer.body, b"down");

    // Nothing listening: a transport error, after one attempt.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let err = psp_client(&format!("http://{addr}/"))
        .raw(Method::GET, "x")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { attempts: 1, .. }), "{err}");
}

#[tokio::test]
async fn a_raw_answer_over_the_cap_is_truncated_with_its_status() {
    let (_, url) = scripted("/big", |_| json_response(201, vec![b'x'; 100_000], &[])).await;
    let client = AcpClient::builder(&url)
        .max_response_bytes(64 * 1024)
        .build()
        .unwrap();
    let answer = client.raw(Method::GET, "/big").await.unwrap();
    assert_eq!(answer.status, 201);
    assert!(answer.truncated);
    assert_eq!(answer.body.len(), 64 * 1024);
}

#[tokio::test]
async fn a_raw_answer_declared_over_the_cap_that_breaks_off_is_truncated() {
    // Declares 2 MiB, sends 10 bytes and closes: over the cap, not a transport failure.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0_u8; 4096];
                let _ = socket.read(&mut buf).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-length: 2097152\r\n\r\n0123456789";
                let _ = socket.write_all(head.as_bytes()).await;
            });
        }
    });
    let client = AcpClient::builder(&format!("http://{addr}/"))
        .attempt_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let answer = client.raw(Method::GET, "big").await.unwrap();
    assert_eq!(answer.status, 200);
    assert!(answer.truncated);
    assert_eq!(answer.body, b"0123456789");
}

#[test]
fn plain_http_off_loopback_is_an_explicit_choice() {
    assert!(AcpClient::builder("http://shop.example/").build().is_err());
    let client = AcpClient::builder("http://shop.example/")
        .allow_plain_http()
        .build()
        .unwrap();
    assert_eq!(client.base_url(), "http://shop.example/");
    assert!(!client.has_signer());
    assert!(
        client
            .sign_body(b"{}", OffsetDateTime::now_utc())
            .unwrap()
            .is_none()
    );
}

// ------------------------------------------------------------------------------------------
// Feeds (the merchant pushing to an agent platform)

#[tokio::test]
async fn feed_operations_against_the_feed_engine_create_once_when_responses_are_lost() {
    use agentic_commerce::engine::feeds::{FeedEngine, InMemoryFeedStore};
    use agentic_commerce::spec::latest::feed::{CreateFeedRequest, ProductsResponse};

    let engine = Arc::new(
        FeedEngine::builder(InMemoryFeedStore::default(), InMemoryStore::default())
            .merchants(BearerKeys::new().key(MERCHANT_KEY, Identity::new("shop")))
            .events(Silent)
            .build()
            .unwrap(),
    );
    let server = serve(agentic_commerce_axum::router(Arc::clone(&engine)).into_router()).await;
    let proxy = Proxy::spawn(server).await;
    let client = AcpClient::builder(&proxy.url())
        .bearer_token(MERCHANT_KEY)
        .retry_policy(quick())
        .build()
        .unwrap();

    proxy.arm(1);
    let mut create = CreateFeedRequest::new();
    create.target_country = Some("US".to_owned());
    let created = client.create_feed(&create).await.unwrap();
    assert_eq!(created.status, 201);
    assert!(created.replayed, "the retry must get the stored answer");
    assert_eq!(engine.feeds().len(), 1, "exactly one feed");
    let id = created.value.id.as_str().to_owned();

    let product = |id: &str, amount: i64| {
        json!({"id": id, "variants": [{"id": format!("{id}_v"), "title": "Default",
            "price": {"amount": amount, "currency": "USD"}}]})
    };
    let first: ProductsResponse =
        parse::from_value(&json!({"products": [product("a", 1), product("b", 2)]})).unwrap();
    proxy.arm(1);
    let upserted = client.upsert_feed_products(&id, &first).await.unwrap();
    assert!(upserted.value.accepted);
    assert!(upserted.idempotency_key.is_some(), "a PATCH carries a key");
    let partial: ProductsResponse =
        parse::from_value(&json!({"products": [product("b", 5)]})).unwrap();
    client.upsert_feed_products(&id, &partial).await.unwrap();

    let products = client.feed_products(&id).await.unwrap().value.products;
    let prices: Vec<(String, Value)> = products
        .iter()
        .map(|p| {
            let v = serde_json::to_value(p).unwrap();
            (
                p.id.as_str().to_owned(),
                v["variants"][0]["price"]["amount"].clone(),
            )
        })
        .collect();
    assert_eq!(
        prices,
        [("a".to_owned(), json!(1)), ("b".to_owned(), json!(5))]
    );
    let meta = client.feed(&id).await.unwrap().value;
    assert_eq!(meta.target_country.as_deref(), Some("US"));
    let missing = client.feed("feed_missing").await.unwrap_err();
    assert!(
        matches!(&missing, Error::Api { error, .. } if error.status() == 404),
        "{missing:?}"
    );
}
