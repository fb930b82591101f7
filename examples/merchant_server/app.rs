//! The example merchant as a library: [`Config`], [`router`] and [`spawn`], so the binary,
//! the agent's `--spawn` mode and the end-to-end tests all run the same server in-process.
//!
//! Each handler is the same short pipeline, every step a crate call:
//! `check_request` (headers → auth → version → JSON syntax → signature), idempotency `begin`,
//! typed strict parse (400 with a JSONPath `param`), the checkout logic, then `finish`
//! (stores the response with the session, atomically in PostgreSQL).
//!
//! Every released API version is answered (VER-02) with one checkout logic written against
//! 2026-04-17: an older agent's request is strictly checked against its own version's schema,
//! upgraded with `convert::upgrade_*_request_with` (the merchant's currency, empty capabilities
//! and its card handler for the old `stripe` provider as defaults), and every session and order
//! webhook is downgraded to the request's version (`convert::downgrade_*`) and answered with
//! that `API-Version`. Each conversion loss is logged, never silent.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use agentic_commerce::Timestamp;
use agentic_commerce::checkout::{Event, transition};
use agentic_commerce::parse;
use agentic_commerce::parse::registry::{self, Body, BodyError};
use agentic_commerce::protocol::discovery;
use agentic_commerce::protocol::error::AcpError;
use agentic_commerce::protocol::headers::{Operation, RequestHeaders};
use agentic_commerce::protocol::version::ApiVersion;
use agentic_commerce::protocol::version::convert::{
    self, ConvertError, Converted, UpgradeDefaults,
};
use agentic_commerce::spec::v2026_04_17::agentic_checkout::{
    CancelSessionRequest, CheckoutSession, CheckoutSessionCompleteRequest,
    CheckoutSessionCreateRequest, CheckoutSessionUpdateRequest, CheckoutSessionWithOrder,
    CheckoutStatus,
};
use agentic_commerce::trust::signature::{Algorithm, HmacSha256Key, SignedContent, Verifier};
use agentic_commerce::trust::webhook::{self, WebhookSecret};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::backend::{Backend, BackendError, Document, Guard};
use super::catalog::Catalog;
use super::checkout::{self, Session};
use super::http::{
    Begin, Reply, Reservation, begin, check_request_in, finish, finish_guarded, new_id, release,
};

/// Settings of one merchant server (each is also a command-line flag).
#[derive(Clone)]
pub(crate) struct Config {
    /// The accepted `Authorization: Bearer` token.
    pub(crate) api_key: String,
    /// The merchant id that delegated tokens must be bound to (DP-10).
    pub(crate) merchant_id: String,
    /// The product feed (`feed.ProductsResponse` JSON).
    pub(crate) catalog_json: Vec<u8>,
    /// Where order webhooks go (none: not sent).
    pub(crate) webhook_url: Option<String>,
    /// HMAC secret for `Merchant-Signature` (WH-01).
    pub(crate) webhook_secret: Vec<u8>,
    /// Shared HS256 secret agents sign requests with (none: signatures are not checked).
    pub(crate) signing_secret: Option<Vec<u8>>,
    /// The PSP vault's base URL (charges).
    pub(crate) psp_url: String,
    /// Bearer token for the PSP.
    pub(crate) psp_api_key: String,
    /// PostgreSQL URL (none: in memory).
    pub(crate) database_url: Option<String>,
    /// The URL clients reach this merchant at (discovery `api_base_url`, links, order
    /// permalinks); every instance behind one load balancer shares it. Default: the bound
    /// address.
    pub(crate) public_url: Option<String>,
    /// Simulated processing time of every write (shows IDEM-12 in-flight handling).
    pub(crate) latency: Duration,
    /// Most PostgreSQL connections this instance opens (`--db-pool-size`).
    pub(crate) db_pool_size: usize,
    /// How long a call to the PSP or a webhook delivery may take in all (connect, send,
    /// answer); far below the idempotency lease, so a hung PSP cannot hold a key until it
    /// expires and let a retry charge again.
    pub(crate) psp_timeout: Duration,
}

/// Default [`Config::psp_timeout`]: 10 s, a thirtieth of the 5-minute idempotency lease
/// (`IdempotencyPolicy::DEFAULT_IN_FLIGHT_LEASE`).
pub(crate) const DEFAULT_OUTBOUND_TIMEOUT: Duration = Duration::from_secs(10);

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys, secrets and the database URL (which may hold a password) are redacted.
        const REDACTED: &str = "[REDACTED]";
        f.debug_struct("Config")
            .field("api_key", &REDACTED)
            .field("merchant_id", &self.merchant_id)
            .field("webhook_url", &self.webhook_url)
            .field("webhook_secret", &REDACTED)
            .field(
                "signing_secret",
                &self.signing_secret.as_ref().map(|_| REDACTED),
            )
            .field("psp_url", &self.psp_url)
            .field("psp_api_key", &REDACTED)
            .field(
                "database_url",
                &self.database_url.as_ref().map(|_| REDACTED),
            )
            .field("public_url", &self.public_url)
            .field("latency", &self.latency)
            .field("psp_timeout", &self.psp_timeout)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// The built-in development credentials still in use, as the flag that replaces each.
    #[allow(dead_code)] // The server binary's check; `agent_client --spawn` embeds this too.
    pub(crate) fn dev_credentials(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.api_key == DEV_API_KEY {
            out.push("--api-key");
        }
        if self.webhook_secret == DEV_WEBHOOK_SECRET.as_bytes() {
            out.push("--webhook-secret");
        }
        if self.signing_secret.as_deref() == Some(DEV_SIGNING_SECRET.as_bytes()) {
            out.push("--signing-secret");
        }
        if self.psp_api_key == DEV_PSP_KEY {
            out.push("--psp-api-key");
        }
        out
    }
}

/// Defaults for local use; `--api-key` etc. override them.
pub(crate) const DEV_API_KEY: &str = "dev-merchant-key";
/// Default webhook secret.
pub(crate) const DEV_WEBHOOK_SECRET: &str = "dev-webhook-secret";
/// Default request-signing secret.
pub(crate) const DEV_SIGNING_SECRET: &str = "dev-signing-secret";
/// Default PSP key.
pub(crate) const DEV_PSP_KEY: &str = "dev-psp-key";

impl Default for Config {
    fn default() -> Self {
        Self {
            api_key: DEV_API_KEY.to_owned(),
            merchant_id: "trailhead_outfitters".to_owned(),
            catalog_json: super::catalog::DEFAULT_CATALOG.as_bytes().to_vec(),
            webhook_url: None,
            webhook_secret: DEV_WEBHOOK_SECRET.as_bytes().to_vec(),
            signing_secret: Some(DEV_SIGNING_SECRET.as_bytes().to_vec()),
            psp_url: "http://127.0.0.1:8081".to_owned(),
            psp_api_key: DEV_PSP_KEY.to_owned(),
            database_url: None,
            public_url: None,
            latency: Duration::ZERO,
            db_pool_size: super::postgres::DEFAULT_POOL_SIZE,
            psp_timeout: DEFAULT_OUTBOUND_TIMEOUT,
        }
    }
}

/// Shared server state.
pub(crate) struct AppState {
    config: Config,
    base_url: String,
    catalog: Catalog,
    backend: Arc<Backend>,
    verifier: Option<Verifier>,
    webhook_secret: WebhookSecret,
    http: reqwest::Client,
}

const SESSION: &str = "checkout_session";

/// Builds the state (connects to PostgreSQL when configured: call off the async runtime).
///
/// # Errors
///
/// A readable reason (bad catalog, bad secret, database unreachable).
pub(crate) fn state(config: Config, base_url: String) -> Result<Arc<AppState>, String> {
    let catalog =
        Catalog::from_feed_json(&config.catalog_json).map_err(|e| format!("catalog: {e}"))?;
    let backend = match &config.database_url {
        Some(url) => {
            Backend::postgres_with_pool(url, config.db_pool_size).map_err(|e| e.to_string())?
        }
        None => Backend::memory(),
    };
    let verifier = match &config.signing_secret {
        // The timestamp is signed with the body (SIG-01, SIG-03, SIG-05), and a body-less
        // cancel is signed over the empty content.
        Some(secret) => Some(
            Verifier::new([Algorithm::HS256])
                .with_signed_content(SignedContent::TimestampAndBody)
                .with_key(
                    "agent",
                    HmacSha256Key::new(secret).map_err(|e| format!("signing secret: {e}"))?,
                ),
        ),
        None => None,
    };
    let webhook_secret = WebhookSecret::new(config.webhook_secret.clone())
        .map_err(|e| format!("webhook secret: {e}"))?;
    Ok(Arc::new(AppState {
        base_url,
        catalog,
        backend: Arc::new(backend),
        verifier,
        webhook_secret,
        http: reqwest::Client::builder()
            .connect_timeout(config.psp_timeout)
            .timeout(config.psp_timeout)
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?,
        config,
    }))
}

/// Every route of the merchant.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(discovery::WELL_KNOWN_PATH, get(discovery))
        .route("/checkout_sessions", post(create))
        .route("/checkout_sessions/{id}", get(retrieve).post(update))
        .route("/checkout_sessions/{id}/complete", post(complete))
        .route("/checkout_sessions/{id}/cancel", post(cancel))
        .layer(axum::middleware::from_fn(errors_in_caller_version))
        .with_state(state)
}

/// Every error answered to an agent of an older released version is in that version's shape
/// (CHK-09, VER-03): its `param` names the member the agent sent and its body is valid for the
/// version's `Error` schema (`convert::error_in`). Errors built from the agent's own request
/// are already in its shape; this maps the ones the 2026-04-17 logic and the header checks
/// produce.
async fn errors_in_caller_version(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let version = request
        .headers()
        .get("api-version")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<ApiVersion>().ok())
        .filter(|v| *v != ApiVersion::LATEST && ApiVersion::RELEASED.contains(v));
    let path = request.uri().path();
    let document = if path == "/checkout_sessions" {
        convert::Document::CreateRequest
    } else if path.ends_with("/complete") {
        convert::Document::CompleteRequest
    } else if request.method() == http::Method::POST && !path.ends_with("/cancel") {
        convert::Document::UpdateRequest
    } else {
        convert::Document::CheckoutSession
    };
    let response = next.run(request).await;
    let Some(version) = version.filter(|_| response.status().as_u16() >= 400) else {
        return response;
    };
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return Reply::internal("error body too large").into_response();
    };
    let Ok(error) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    };
    let error = convert::error_in(&version, document, &error);
    parts.headers.remove(http::header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(error.to_string()))
}

/// Binds `addr` (port 0 for an ephemeral port), starts serving in the background and returns
/// the bound address once the listener accepts connections.
///
/// # Errors
///
/// Bind failures and [`state`] errors.
pub(crate) async fn spawn(
    config: Config,
    addr: SocketAddr,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("bind {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let base_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{local}"));
    let app = tokio::task::spawn_blocking(move || state(config, base_url))
        .await
        .map_err(|e| e.to_string())??;
    let handle = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router(app)).await {
            eprintln!("merchant server stopped: {e}");
        }
    });
    Ok((local, handle))
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn rfc3339(at: OffsetDateTime) -> String {
    Timestamp(at).to_string()
}

/// The caller identity for idempotency scopes (IDEM-03): a digest of the bearer token.
fn identity(headers: &RequestHeaders) -> String {
    use sha2::Digest as _;
    let token = headers.authorization().map_or("", |t| t.secret());
    hex::encode(&sha2::Sha256::digest(token.as_bytes())[..8])
}

async fn discovery(State(s): State<Arc<AppState>>) -> Response {
    // Built by hand: `discovery::DiscoveryBuilder` insists on an https `api_base_url`
    // (HDR-06), and this demo serves plain http on loopback.
    Reply::new(
        200,
        json!({
            "protocol": {"name": "acp", "version": ApiVersion::LATEST.as_str(),
                "supported_versions": ApiVersion::RELEASED.iter().map(ApiVersion::as_str).collect::<Vec<_>>()},
            "api_base_url": s.base_url,
            "transports": ["rest"],
            "capabilities": {"services": ["checkout"]}
        }),
    )
    .into_response()
}

/// A session and the version it was read at (writes compare-and-swap on it).
async fn load(s: &Arc<AppState>, id: &str) -> Result<Option<(Session, u64)>, Reply> {
    let backend = Arc::clone(&s.backend);
    let id = id.to_owned();
    let text = tokio::task::spawn_blocking(move || backend.load_versioned(SESSION, &id))
        .await
        .map_err(|_| Reply::internal("storage task failed"))?
        .map_err(|e| Reply::internal(&e.to_string()))?;
    text.map(|(t, version)| {
        serde_json::from_str(&t)
            .map(|session| (session, version))
            .map_err(|_| Reply::internal("corrupt session"))
    })
    .transpose()
}

/// The compare-and-swap condition for writing session `id` read at `version` (`None`: new).
fn guard(id: &str, version: Option<u64>) -> Vec<Guard> {
    vec![Guard {
        kind: SESSION,
        id: id.to_owned(),
        version,
    }]
}

/// A concurrent request changed the session between this request's read and its write.
fn concurrent_change() -> Reply {
    Reply::acp(&AcpError::unprocessable(
        "invalid_state",
        "The checkout session was changed by a concurrent request",
    ))
}

fn not_found() -> Reply {
    // CHK-18; the message does not echo the client's id.
    Reply::acp(&AcpError::not_found("checkout session"))
}

/// Runs `event` through the crate's checkout state machine (CHK-12, CHK-15..17).
fn step(status: &str, event: Event) -> Result<String, Reply> {
    transition(&CheckoutStatus::from(status), event)
        .map(|next| next.as_str().to_owned())
        .map_err(|e| Reply::acp(&e.to_acp_error()))
}

fn save(session: &Session) -> Vec<Document> {
    serde_json::to_string(session)
        .map(|body| {
            vec![Document {
                kind: SESSION,
                id: session.id.clone(),
                body,
            }]
        })
        .unwrap_or_default()
}

/// The API version a request is answered in and its operation (which response type).
#[derive(Clone, Debug)]
struct Served {
    version: ApiVersion,
    op: Operation,
}

fn ok(s: &AppState, served: &Served, status: u16, session: &Session) -> (Reply, Vec<Document>) {
    (session_reply(s, served, status, session), save(session))
}

/// What an older agent's request cannot carry, from this merchant (2026-01-30 requires a
/// currency and capabilities; before it, the payment names the `stripe` provider).
fn upgrade_defaults(s: &AppState) -> UpgradeDefaults {
    // The checkout logic reads an item listed n times as n units (CHK-03), so an older agent's
    // `quantity` is carried, never dropped.
    let defaults = UpgradeDefaults::new()
        .capabilities(json!({}))
        .payment_handler("stripe", "card_tokenized", "card", "spt")
        .quantity_as_repeated_items(checkout::MAX_REQUEST_UNITS);
    match s.catalog.currency() {
        Some(currency) => defaults.currency(currency),
        None => defaults,
    }
}

/// A body-check failure as a 400 with the JSONPath of the first problem (CHK-09).
fn body_error_reply(error: &BodyError) -> Reply {
    match error {
        BodyError::Invalid { violations, .. } => {
            let first = violations.first();
            Reply::error(
                400,
                "invalid_request",
                "invalid",
                first.map_or("invalid request body", |v| v.message.as_str()),
                Some(&first.map_or_else(|| "$".to_owned(), |v| v.path.to_string())),
            )
        }
        other => Reply::error(400, "invalid_request", "invalid", &other.to_string(), None),
    }
}

/// A failed upgrade as a 400: the request lacks what 2026-04-17 needs and no default fills it
/// (`missing`), or carries what the 2026-04-17 logic cannot be given unchanged (`invalid`, at
/// its path in the request as sent).
fn convert_error_reply(error: &ConvertError) -> Reply {
    match error {
        ConvertError::Incomplete { violations, .. }
        | ConvertError::Unparsable { violations, .. }
        | ConvertError::Unrepresentable { violations, .. } => {
            let first = violations.first();
            let code = if matches!(error, ConvertError::Unrepresentable { .. }) {
                "invalid"
            } else {
                "missing"
            };
            Reply::error(
                400,
                "invalid_request",
                code,
                first.map_or("the request cannot be served", |v| v.message.as_str()),
                Some(&first.map_or_else(|| "$".to_owned(), |v| v.path.to_string())),
            )
        }
        other => Reply::error(400, "invalid_request", "invalid", &other.to_string(), None),
    }
}

fn upgraded<T: serde::Serialize>(
    served: &Served,
    converted: Result<Converted<T>, ConvertError>,
) -> Result<Vec<u8>, Reply> {
    let converted = converted.map_err(|e| convert_error_reply(&e))?;
    for loss in &converted.losses {
        eprintln!("merchant: {} request lost {loss}", served.version);
    }
    for supplied in &converted.supplied {
        eprintln!("merchant: {} request supplied {supplied}", served.version);
    }
    serde_json::to_vec(&converted.value).map_err(|e| Reply::internal(&e.to_string()))
}

/// The request body as the 2026-04-17 JSON the checkout logic reads: strictly checked against
/// the request's own version (400 with `param`), then upgraded.
///
/// `session` is the session an update applies to: a 2025-09-29 `fulfillment_option_id` selects
/// an option for every item of it.
fn to_latest(
    s: &AppState,
    served: &Served,
    body: &[u8],
    session: Option<&Session>,
) -> Result<Vec<u8>, Reply> {
    if served.version == ApiVersion::LATEST || body.is_empty() {
        return Ok(body.to_vec());
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Reply::error(
            400,
            "invalid_request",
            "invalid_json",
            &e.to_string(),
            Some("$"),
        )
    })?;
    registry::check_body(&served.version, served.op, Body::Request, &value, true)
        .map_err(|e| body_error_reply(&e))?;
    let mut defaults = upgrade_defaults(s);
    if let Some(session) = session {
        let rendered = checkout::render(session, &s.catalog, &s.config.merchant_id, &s.base_url);
        let typed = parse::from_value::<CheckoutSession>(&rendered)
            .map_err(|e| Reply::internal(&format!("rendered session does not parse: {e}")))?;
        defaults = defaults.session(&typed);
    }
    let version = &served.version;
    match served.op {
        Operation::CreateCheckoutSession => upgraded(
            served,
            convert::upgrade_create_request_with(version, &value, &defaults),
        ),
        Operation::UpdateCheckoutSession => upgraded(
            served,
            convert::upgrade_update_request_with(version, &value, &defaults),
        ),
        Operation::CompleteCheckoutSession => upgraded(
            served,
            convert::upgrade_complete_request_with(version, &value, &defaults),
        ),
        // The cancel request (`intent_trace`) is one type in every version that has it.
        _ => Ok(body.to_vec()),
    }
}

/// A 2026-04-17 session response in the request's version: the complete response is a
/// `CheckoutSessionWithOrder` once an order exists, every other one a `CheckoutSession`.
///
/// 2025-09-29 is the exception: its `CheckoutSessionWithOrder` is unsatisfiable (the closed
/// session base forbids the `order` the type requires), and its official complete response is a
/// plain session; the order is reported lost there and reaches the agent by the order webhook.
fn downgrade(served: &Served, body: Value, typed: &CheckoutSession) -> Result<Value, Reply> {
    if served.version == ApiVersion::LATEST {
        return Ok(body);
    }
    let with_order = served.op == Operation::CompleteCheckoutSession
        && typed.order.is_some()
        && served.version != ApiVersion::V2025_09_29;
    let converted = if with_order {
        parse::from_value::<CheckoutSessionWithOrder>(&body)
            .map_err(|e| Reply::internal(&format!("session with order: {e}")))
            .and_then(|with_order| {
                convert::downgrade_checkout_session_with_order(&with_order, &served.version)
                    .map_err(|e| Reply::internal(&e.to_string()))
            })?
    } else {
        convert::downgrade_checkout_session(typed, &served.version)
            .map_err(|e| Reply::internal(&e.to_string()))?
    };
    for loss in &converted.losses {
        eprintln!("merchant: {} response lost {loss}", served.version);
    }
    Ok(converted.value)
}

/// Renders `session` and checks it with the crate's business rules before it
/// leaves: a session that breaks a MUST (totals, fulfillment selection,
/// markdown, currency …) is a bug here, answered as a 500 instead of being sent.
fn session_reply(s: &AppState, served: &Served, status: u16, session: &Session) -> Reply {
    let body = checkout::render(session, &s.catalog, &s.config.merchant_id, &s.base_url);
    let typed = match parse::from_value::<CheckoutSession>(&body) {
        Ok(typed) => typed,
        Err(e) => return Reply::internal(&format!("rendered session does not parse: {e}")),
    };
    let findings = agentic_commerce::rules::check_session(&typed);
    if let Some(error) = findings.iter().find(|f| f.is_error()) {
        eprintln!("merchant: refusing to send session {}: {error}", session.id);
        return Reply::acp(&AcpError::processing_error(
            "the merchant produced an inconsistent session",
        ));
    }
    match downgrade(served, body, &typed) {
        Ok(body) => {
            let mut reply = Reply::new(status, body);
            reply
                .headers
                .push(("API-Version".to_owned(), served.version.to_string()));
            reply
        }
        Err(reply) => {
            eprintln!(
                "merchant: cannot answer session {} in {}",
                session.id, served.version
            );
            reply
        }
    }
}

/// Runs the common prelude of a write; `Err` is the response to send.
async fn prelude(
    s: &Arc<AppState>,
    op: Operation,
    headers: &HeaderMap,
    body: &[u8],
    path: &str,
    at: OffsetDateTime,
) -> Result<(RequestHeaders, Reservation, Served), Response> {
    let (parsed, _, version) = check_request_in(
        ApiVersion::RELEASED,
        op,
        headers,
        body,
        &s.config.api_key,
        s.verifier.as_ref(),
        at,
    )
    .map_err(Reply::into_response)?;
    match begin(&s.backend, &parsed, &identity(&parsed), path, body, at).await {
        Begin::Proceed(scope) => {
            if !s.config.latency.is_zero() {
                tokio::time::sleep(s.config.latency).await;
            }
            Ok((parsed, scope, Served { version, op }))
        }
        Begin::Respond(response) => Err(response),
    }
}

async fn create(State(s): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let at = now();
    let (parsed, scope, served) = match prelude(
        &s,
        Operation::CreateCheckoutSession,
        &headers,
        &body,
        "/checkout_sessions",
        at,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (reply, docs) = match to_latest(&s, &served, &body, None) {
        Ok(body) => create_session(&s, &served, &body, at),
        Err(reply) => (reply, Vec::new()),
    };
    // A new id: the write must not replace anything.
    let guards = docs.iter().flat_map(|d| guard(&d.id, None)).collect();
    finish_guarded(&s.backend, scope, &parsed, reply, docs, guards, at)
        .await
        .0
}

fn create_session(
    s: &AppState,
    served: &Served,
    body: &[u8],
    at: OffsetDateTime,
) -> (Reply, Vec<Document>) {
    let request: CheckoutSessionCreateRequest = match parse::from_slice_strict(body) {
        Ok(r) => r,
        Err(e) => return (super::http::strict_error_reply(&e), Vec::new()),
    };
    let raw: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if let Err(reply) = check_country(raw.get("fulfillment_details")) {
        return (reply, Vec::new());
    }
    let ids: Vec<String> = request
        .line_items
        .iter()
        .map(|i| i.id.as_str().to_owned())
        .collect();
    let agent_interventions: Vec<String> = raw
        .pointer("/capabilities/interventions/supported")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let mut session = Session {
        id: new_id("cs_"),
        status: "incomplete".to_owned(),
        currency: request.currency.to_lowercase().as_str().to_owned(),
        lines: checkout::lines_from_items(&ids),
        buyer: raw.get("buyer").cloned(),
        fulfillment_details: raw.get("fulfillment_details").cloned(),
        selected: std::collections::BTreeMap::new(),
        coupons: request.coupons.clone().unwrap_or_default(),
        interventions: checkout::intersect_interventions(&agent_interventions),
        order: None,
        declined: None,
        created_at: rfc3339(at),
        updated_at: rfc3339(at),
    };
    checkout::default_selection(&mut session, &s.catalog);
    session.status = checkout::next_status(&session, &s.catalog);
    ok(s, served, 201, &session)
}

async fn retrieve(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let at = now();
    let (parsed, served) = match check_request_in(
        ApiVersion::RELEASED,
        Operation::RetrieveCheckoutSession,
        &headers,
        &[],
        &s.config.api_key,
        s.verifier.as_ref(),
        at,
    ) {
        Ok((parsed, _, version)) => (
            parsed,
            Served {
                version,
                op: Operation::RetrieveCheckoutSession,
            },
        ),
        Err(r) => return r.into_response(),
    };
    let mut reply = match load(&s, &id).await {
        Ok(Some((session, _))) => session_reply(&s, &served, 200, &session),
        Ok(None) => not_found(),
        Err(r) => r,
    };
    // HDR-04: echo Request-Id.
    reply.headers.extend(super::http::echo(&parsed));
    reply.into_response()
}

async fn update(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = now();
    let path = format!("/checkout_sessions/{id}");
    let (parsed, scope, served) = match prelude(
        &s,
        Operation::UpdateCheckoutSession,
        &headers,
        &body,
        &path,
        at,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (reply, docs, guards) = match load(&s, &id).await {
        Ok(Some((session, version))) => match to_latest(&s, &served, &body, Some(&session)) {
            Ok(body) => {
                let (reply, docs) = update_session(&s, &served, session, &body, at);
                (reply, docs, guard(&id, Some(version)))
            }
            Err(reply) => (reply, Vec::new(), Vec::new()),
        },
        Ok(None) => (not_found(), Vec::new(), Vec::new()),
        Err(r) => (r, Vec::new(), Vec::new()),
    };
    finish_guarded(&s.backend, scope, &parsed, reply, docs, guards, at)
        .await
        .0
}

/// 400 for an address whose `country` is not an ISO 3166-1 alpha-2 code.
fn check_country(details: Option<&Value>) -> Result<(), Reply> {
    match details.and_then(|d| d.pointer("/address/country")) {
        Some(country) if !checkout::is_country_code(country.as_str().unwrap_or_default()) => {
            Err(country_reply("$.fulfillment_details.address.country"))
        }
        _ => Ok(()),
    }
}

/// 400 for a billing address whose `country` is not an ISO 3166-1 alpha-2 code.
fn check_billing_country(body: &[u8]) -> Result<(), Reply> {
    let raw: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match raw.pointer("/payment_data/billing_address/country") {
        Some(country) if !checkout::is_country_code(country.as_str().unwrap_or_default()) => {
            Err(country_reply("$.payment_data.billing_address.country"))
        }
        _ => Ok(()),
    }
}

fn country_reply(param: &str) -> Reply {
    Reply::error(
        400,
        "invalid_request",
        "invalid",
        "country must be an ISO 3166-1 alpha-2 code (two capital letters, e.g. \"US\")",
        Some(param),
    )
}

fn update_session(
    s: &AppState,
    served: &Served,
    mut session: Session,
    body: &[u8],
    at: OffsetDateTime,
) -> (Reply, Vec<Document>) {
    // Typed strict parse first: it reports bad input with its JSONPath.
    if let Err(e) = parse::from_slice_strict::<CheckoutSessionUpdateRequest>(body) {
        return (super::http::strict_error_reply(&e), Vec::new());
    }
    if let Err(refused) = step(&session.status, Event::Update { ready: true }) {
        return (refused, Vec::new());
    }
    // Patch semantics (IDEM-16): absent leaves a field unchanged, null clears it.
    let raw: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if let Some(buyer) = raw.get("buyer") {
        session.buyer = Some(buyer.clone()).filter(|b| !b.is_null());
    }
    if let Some(details) = raw.get("fulfillment_details") {
        if let Err(reply) = check_country(Some(details)) {
            return (reply, Vec::new());
        }
        session.fulfillment_details = Some(details.clone()).filter(|d| !d.is_null());
    }
    if let Some(items) = raw.get("line_items").and_then(Value::as_array) {
        let ids: Vec<String> = items
            .iter()
            .filter_map(|i| i.get("id").and_then(Value::as_str))
            .map(str::to_owned)
            .collect();
        session.lines = checkout::lines_from_items(&ids);
        session.selected.retain(|item, _| ids.contains(item));
    }
    if let Some(coupons) = raw.get("coupons") {
        session.coupons = coupons
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
    }
    if let Some(selections) = raw.get("selected_fulfillment_options") {
        let list = selections.as_array().cloned().unwrap_or_default();
        if let Err((param, message)) = checkout::select_fulfillment(&mut session, &s.catalog, &list)
        {
            return (
                Reply::error(400, "invalid_request", "invalid", &message, Some(&param)),
                Vec::new(),
            );
        }
    }
    checkout::default_selection(&mut session, &s.catalog);
    session.status = checkout::next_status(&session, &s.catalog);
    session.updated_at = rfc3339(at);
    ok(s, served, 200, &session)
}

async fn complete(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = now();
    let path = format!("/checkout_sessions/{id}/complete");
    let (parsed, scope, served) = match prelude(
        &s,
        Operation::CompleteCheckoutSession,
        &headers,
        &body,
        &path,
        at,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (session, mut version) = match load(&s, &id).await {
        Ok(Some(loaded)) => loaded,
        Ok(None) => {
            return finish(&s.backend, scope, &parsed, not_found(), Vec::new(), at).await;
        }
        Err(r) => return finish(&s.backend, scope, &parsed, r, Vec::new(), at).await,
    };
    let (reply, docs, order) = match to_latest(&s, &served, &body, None) {
        Ok(body) => complete_session(&s, &served, session, &mut version, &body, at).await,
        Err(reply) => (reply, Vec::new(), None),
    };
    if reply.status >= 500 {
        // Nothing was charged or stored: free the key so a retry runs fresh (IDEM-13).
        release(&s.backend, scope).await;
        return reply.into_response();
    }
    let (response, committed) = finish_guarded(
        &s.backend,
        scope,
        &parsed,
        reply,
        docs,
        guard(&id, Some(version)),
        at,
    )
    .await;
    if let Some(order) = order.filter(|_| committed) {
        // WH-09: tell the agent platform about the new order, only once the completed session
        // and the response are committed.
        let s = Arc::clone(&s);
        let version = served.version.clone();
        tokio::spawn(async move { send_webhook(&s, &version, "order_create", order).await });
    }
    response
}

/// The delegated token of a complete request paid with the session's handler (CHK-21).
fn payment_token(request: &CheckoutSessionCompleteRequest) -> Result<String, Reply> {
    let handler = request
        .payment_data
        .handler_id
        .as_ref()
        .map(|h| h.as_str().to_owned());
    if handler.as_deref() != Some("card_tokenized") {
        // CHK-21: the handler must be one the session declared.
        return Err(Reply::error(
            400,
            "invalid_request",
            "invalid",
            "unknown payment handler",
            Some("$.payment_data.handler_id"),
        ));
    }
    request
        .payment_data
        .instrument
        .as_ref()
        .map(|i| i.credential.token.expose().to_owned())
        .ok_or_else(|| {
            Reply::error(
                400,
                "invalid_request",
                "missing",
                "a delegated payment token is required",
                Some("$.payment_data.instrument"),
            )
        })
}

/// Completes `session`, read at `version`. Before charging it claims the session: a
/// compare-and-swap write to `complete_in_progress` that exactly one of any number of
/// concurrent completes wins (the others get 422 `invalid_state` and charge nothing); `version`
/// is then the claimed version the final write must still find.
async fn complete_session(
    s: &AppState,
    served: &Served,
    mut session: Session,
    version: &mut u64,
    body: &[u8],
    at: OffsetDateTime,
) -> (Reply, Vec<Document>, Option<Value>) {
    let fail = |reply: Reply| (reply, Vec::new(), None);
    let request: CheckoutSessionCompleteRequest = match parse::from_slice_strict(body) {
        Ok(r) => r,
        Err(e) => return fail(super::http::strict_error_reply(&e)),
    };
    if let Err(reply) = check_billing_country(body) {
        return fail(reply);
    }
    let event = Event::Complete {
        has_authentication_result: request.authentication_result.is_some(),
    };
    let processing = match step(&session.status, event) {
        Ok(next) => next,
        Err(refused) => return fail(refused),
    };
    if let Some(refusal) = authentication_refusal(s, served, &mut session, &request, &processing) {
        return refusal;
    }
    let token = match payment_token(&request) {
        Ok(token) => token,
        Err(refused) => return fail(refused),
    };
    if let Some(buyer) = serde_json::to_value(&request.buyer)
        .ok()
        .filter(|b| !b.is_null())
    {
        session.buyer = Some(buyer);
    }
    let wanted: Vec<(String, i64)> = session
        .lines
        .iter()
        .map(|l| (l.item_id.clone(), l.quantity))
        .collect();
    let before_claim = match claim(s, &mut session, &processing, version, at).await {
        Ok(before) => before,
        Err(refused) => return fail(refused),
    };
    if s.catalog.reserve(&wanted).is_err() {
        let mut session = before_claim;
        session.status = checkout::next_status(&session, &s.catalog);
        let (reply, docs) = ok(s, served, 200, &session);
        return (reply, docs, None);
    }
    let total = checkout::price(&session, &s.catalog).total;
    match charge(s, &token, total, &session).await {
        Ok(()) => {}
        Err(Charge::Declined(reason)) => {
            s.catalog.release(&wanted);
            match step(&processing, Event::PaymentDeclined) {
                Ok(next) => session.status = next,
                Err(refused) => return fail(refused),
            }
            session.declined = Some(reason);
            session.updated_at = rfc3339(at);
            let (reply, docs) = ok(s, served, 200, &session);
            return (reply, docs, None);
        }
        Err(Charge::Unavailable(reason)) => {
            s.catalog.release(&wanted);
            // Nothing was charged: give the session back its status (best effort; a failure
            // leaves it in `complete_in_progress`, which charges nobody).
            if let Ok(reverted) = put_session(s, &before_claim, Some(*version), at).await {
                *version = reverted;
            }
            return fail(Reply::acp(&AcpError::service_unavailable(reason, None)));
        }
    }
    let order = new_order(s, &session);
    match step(&processing, Event::PaymentAuthorized) {
        Ok(next) => session.status = next,
        Err(refused) => return fail(refused),
    }
    session.order = Some(order.clone());
    session.declined = None;
    session.updated_at = rfc3339(at);
    let (reply, docs) = ok(s, served, 200, &session);
    (reply, docs, Some(order))
}

/// For a session in `authentication_required` (the state machine already refused a complete
/// without `authentication_result`, CHK-15): `Some(answer)` unless the issuer authentication
/// succeeded (CHK-14).
fn authentication_refusal(
    s: &AppState,
    served: &Served,
    session: &mut Session,
    request: &CheckoutSessionCompleteRequest,
    processing: &str,
) -> Option<(Reply, Vec<Document>, Option<Value>)> {
    if session.status != "authentication_required" {
        return None;
    }
    let outcome = serde_json::to_value(request.authentication_result.as_ref()?)
        .ok()
        .and_then(|v| v.get("outcome").and_then(Value::as_str).map(str::to_owned));
    if outcome.as_deref() == Some("authenticated") {
        return None;
    }
    // A failed or denied authentication is a declined payment: a business outcome on a 200
    // session (CHK-19) that the state machine moves back to a payable status.
    match step(processing, Event::PaymentDeclined) {
        Ok(next) => session.status = next,
        Err(refused) => return Some((refused, Vec::new(), None)),
    }
    session.declined = Some("issuer authentication was not successful".to_owned());
    let (reply, docs) = ok(s, served, 200, session);
    Some((reply, docs, None))
}

/// A new order for the paid `session`.
fn new_order(s: &AppState, session: &Session) -> Value {
    let order_id = new_id("ord_");
    json!({
        "id": order_id,
        "checkout_session_id": session.id,
        "permalink_url": format!("{}/orders/{order_id}", s.base_url),
        "status": "created",
        "totals": checkout::render(session, &s.catalog, &s.config.merchant_id, &s.base_url)["totals"].clone(),
    })
}

/// Claims `session` before taking stock or money: a compare-and-swap write to `processing`
/// (`complete_in_progress`) from `version`, which only one of any number of concurrent
/// completes wins. Returns the session as it was; `version` becomes the claimed version.
async fn claim(
    s: &AppState,
    session: &mut Session,
    processing: &str,
    version: &mut u64,
    at: OffsetDateTime,
) -> Result<Session, Reply> {
    let before = session.clone();
    processing.clone_into(&mut session.status);
    session.updated_at = rfc3339(at);
    *version = put_session(s, session, Some(*version), at).await?;
    Ok(before)
}

/// Writes `session` outside the idempotent response if it is still at `expected`; the new
/// version, or the reply to send ([`concurrent_change`] when another request won).
async fn put_session(
    s: &AppState,
    session: &Session,
    expected: Option<u64>,
    at: OffsetDateTime,
) -> Result<u64, Reply> {
    let Some(doc) = save(session).pop() else {
        return Err(Reply::internal("session does not serialize"));
    };
    let backend = Arc::clone(&s.backend);
    let written = tokio::task::spawn_blocking(move || backend.put_if(&doc, expected, at))
        .await
        .map_err(|_| Reply::internal("storage task failed"))?;
    match written {
        Ok(version) => Ok(version),
        Err(BackendError::Stale) => Err(concurrent_change()),
        Err(e) => Err(Reply::internal(&e.to_string())),
    }
}

enum Charge {
    Declined(String),
    Unavailable(String),
}

/// Charges the delegated token at the PSP, which enforces the allowance (DP-03..11).
async fn charge(s: &AppState, token: &str, amount: i64, session: &Session) -> Result<(), Charge> {
    // The PSP knows the merchant from `psp_api_key` (DP-10). One Idempotency-Key per session
    // and token: a retried complete that reaches the PSP again gets the first answer back.
    let body = json!({"token": token, "amount": amount, "currency": session.currency,
        "checkout_session_id": session.id});
    let key = {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(format!("{}\n{token}", session.id).as_bytes());
        format!("charge-{}", hex::encode(&digest[..16]))
    };
    let response = s
        .http
        .post(format!("{}/charges", s.config.psp_url))
        .bearer_auth(&s.config.psp_api_key)
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| {
            // The detail (with the PSP's URL) goes to the log, never to the agent.
            eprintln!("merchant: charge for {}: PSP unreachable: {e}", session.id);
            Charge::Unavailable("the payment provider is unavailable; retry later".to_owned())
        })?;
    let status = response.status().as_u16();
    let reply: Value = super::http::read_capped(response, super::http::MAX_RESPONSE_BYTES)
        .await
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null);
    match status {
        200..=299 => Ok(()),
        400..=499 => Err(Charge::Declined(
            reply["message"]
                .as_str()
                .unwrap_or("payment declined")
                .to_owned(),
        )),
        _ => {
            eprintln!("merchant: charge for {}: PSP answered {status}", session.id);
            Err(Charge::Unavailable(
                "the payment provider is unavailable; retry later".to_owned(),
            ))
        }
    }
}

/// POSTs a signed order event (WH-01..03, WH-06, WH-07), retrying transport failures.
async fn send_webhook(s: &AppState, version: &ApiVersion, kind: &str, order: Value) {
    let Some(url) = &s.config.webhook_url else {
        return;
    };
    let mut data = order;
    data["type"] = json!("order");
    let mut event = json!({"type": kind, "data": data});
    if *version != ApiVersion::LATEST {
        // The agent platform hears about the order in the version it checked out in.
        let converted = parse::from_value(&event)
            .map_err(|e| e.to_string())
            .and_then(|typed| {
                convert::downgrade_webhook_event(&typed, version).map_err(|e| e.to_string())
            });
        match converted {
            Ok(converted) => {
                for loss in &converted.losses {
                    eprintln!("merchant: {version} webhook lost {loss}");
                }
                event = converted.value;
            }
            Err(e) => {
                eprintln!("merchant: webhook {kind} cannot be sent in {version}: {e}");
                return;
            }
        }
    }
    let body = event.to_string().into_bytes();
    for attempt in 0..3_u32 {
        let Ok(signature) = webhook::sign(&s.webhook_secret, now(), &body) else {
            eprintln!("merchant: the clock is before 1970; webhook {kind} not sent");
            return;
        };
        let sent = s
            .http
            .post(url)
            .header(webhook::HEADER_NAME, signature)
            .header("content-type", "application/json")
            .header("api-version", version.as_str())
            .header("request-id", new_id("req_"))
            .body(body.clone())
            .send()
            .await;
        if sent.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt + 1))).await;
    }
    eprintln!("webhook {kind} to {url} failed after 3 attempts");
}

async fn cancel(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = now();
    let path = format!("/checkout_sessions/{id}/cancel");
    let (parsed, scope, served) = match prelude(
        &s,
        Operation::CancelCheckoutSession,
        &headers,
        &body,
        &path,
        at,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (reply, docs, guards) = match load(&s, &id).await {
        Ok(Some((mut session, version))) => {
            if !body.is_empty() {
                if let Err(e) = parse::from_slice_strict::<CancelSessionRequest>(&body) {
                    return finish(
                        &s.backend,
                        scope,
                        &parsed,
                        super::http::strict_error_reply(&e),
                        Vec::new(),
                        at,
                    )
                    .await;
                }
            }
            if session.status == "complete_in_progress" {
                // A payment is being taken right now: canceling under it would leave a charge
                // without an order.
                (concurrent_change(), Vec::new(), Vec::new())
            } else {
                // CHK-16, CHK-17: the state machine cancels or answers 405.
                match step(&session.status, Event::Cancel) {
                    Ok(next) => {
                        session.status = next;
                        session.updated_at = rfc3339(at);
                        let (reply, docs) = ok(&s, &served, 200, &session);
                        (reply, docs, guard(&id, Some(version)))
                    }
                    Err(refused) => (refused, Vec::new(), Vec::new()),
                }
            }
        }
        Ok(None) => (not_found(), Vec::new(), Vec::new()),
        Err(r) => (r, Vec::new(), Vec::new()),
    };
    finish_guarded(&s.backend, scope, &parsed, reply, docs, guards, at)
        .await
        .0
}
