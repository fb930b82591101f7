//! The end-to-end tests' HTTP side: requests through the `agentic-commerce-client` crate's
//! raw API ([`AcpClient`] here wraps its client: signed, every header and byte visible to the
//! assertions; [`raw`] for a request a client would never send), each answer as an
//! [`Exchange`]; and a webhook receiver that verifies `Merchant-Signature` and checks each
//! event strictly against its version's schema ([`spawn_webhook_receiver`]). The purchases
//! themselves are the example agent's (`examples/agent_client/agent.rs`).

#![allow(dead_code)] // Each test module uses a different part.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use agentic_commerce::AcpError;
use agentic_commerce::protocol::version::ApiVersion;
use agentic_commerce::spec::v2026_04_17::agentic_checkout_webhook::WebhookEvent;
use agentic_commerce::trust::signature::{HmacSha256Key, RequestSigner, SignedContent};
use agentic_commerce::trust::webhook::{WebhookSecret, WebhookVerifier};
use agentic_commerce_client::{Method, RawRequest};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::ex::http::{Reply, header_str};

/// How long one call to a merchant or a vault may take in all. Longer than the merchant's own
/// PSP timeout (a complete waits for the charge), far below the 5-minute idempotency lease.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One HTTP exchange as the test saw it.
#[derive(Debug, Clone)]
pub(crate) struct Exchange {
    /// Status code.
    pub(crate) status: u16,
    /// Response headers (lowercase names).
    pub(crate) headers: Vec<(String, String)>,
    /// Raw body.
    pub(crate) raw: Vec<u8>,
    /// Body as JSON (`null` when not JSON).
    pub(crate) body: Value,
}

impl Exchange {
    /// A response header.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends a raw request of the client crate and collects the exchange.
///
/// # Errors
///
/// Transport failures, and an answer over the client's response cap (1 MiB): a hostile or
/// broken server cannot make the test buffer an endless body.
pub(crate) async fn send(request: RawRequest) -> Result<Exchange, String> {
    let answer = request.send().await.map_err(|e| format!("HTTP: {e}"))?;
    if answer.truncated {
        return Err(format!(
            "response body larger than {} bytes",
            agentic_commerce_client::DEFAULT_MAX_RESPONSE_BYTES
        ));
    }
    let headers = answer
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    Ok(Exchange {
        status: answer.status,
        headers,
        raw: answer.body,
        body,
    })
}

/// A raw request to the absolute `url` with none of the ACP headers (no `Authorization`, no
/// `API-Version`; the caller adds what the test needs), through the client crate.
pub(crate) fn raw(method: Method, url: &str) -> RawRequest {
    let client = agentic_commerce_client::AcpClient::builder(url)
        .attempt_timeout(REQUEST_TIMEOUT)
        .build();
    match client {
        Ok(client) => client.raw_url(method, url).without_header("api-version"),
        Err(e) => panic!("a client for {url}: {e}"),
    }
}

/// `Authorization: Bearer {key}`, for [`raw`] requests.
pub(crate) fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

/// A signing ACP client (SIG-01..03, timestamp and body signed; a write without a body is
/// signed over the empty content) on the client crate: every write carries the
/// `Idempotency-Key` the test gives; `version` is the `API-Version` sent.
pub(crate) struct AcpClient {
    http: agentic_commerce_client::AcpClient,
    /// The `API-Version` sent.
    pub(crate) version: ApiVersion,
}

impl AcpClient {
    /// A client for `base` (`http://host:port`).
    ///
    /// # Errors
    ///
    /// An empty signing secret.
    pub(crate) fn new(
        base: &str,
        api_key: &str,
        signing_secret: Option<&[u8]>,
    ) -> Result<Self, String> {
        let mut builder = agentic_commerce_client::AcpClient::builder(base)
            .bearer_token(api_key)
            .attempt_timeout(REQUEST_TIMEOUT)
            .user_agent("acp-e2e-tests/0.1");
        if let Some(secret) = signing_secret {
            let key = HmacSha256Key::new(secret).map_err(|e| e.to_string())?;
            let signer =
                RequestSigner::new(key).with_signed_content(SignedContent::TimestampAndBody);
            builder = builder.signer(signer);
        }
        Ok(Self {
            http: builder.build().map_err(|e| e.to_string())?,
            version: ApiVersion::LATEST,
        })
    }

    /// A request with the standard ACP headers; the caller adds the body.
    pub(crate) fn request(&self, method: Method, path: &str) -> RawRequest {
        self.http
            .raw(method, path)
            .header("api-version", self.version.as_str())
    }

    /// A signed POST of `body` with `idempotency_key`.
    ///
    /// # Errors
    ///
    /// Transport failures.
    pub(crate) async fn post(
        &self,
        path: &str,
        body: &Value,
        idempotency_key: &str,
    ) -> Result<Exchange, String> {
        let request = self.request(Method::POST, path).body(body.to_string());
        send(request.idempotency_key(idempotency_key)).await
    }

    /// A signed POST of `body` without an `Idempotency-Key`, as an agent of a version before
    /// 2026-04-17 may send it (the header was optional until then).
    ///
    /// # Errors
    ///
    /// Transport failures.
    pub(crate) async fn post_without_key(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<Exchange, String> {
        send(self.request(Method::POST, path).body(body.to_string())).await
    }

    /// A signed POST without a body (a cancel without `intent_trace`): signed over the empty
    /// content with its timestamp, and no `Content-Type`.
    ///
    /// # Errors
    ///
    /// Transport failures.
    pub(crate) async fn post_empty(
        &self,
        path: &str,
        idempotency_key: &str,
    ) -> Result<Exchange, String> {
        let request = self.request(Method::POST, path).body(Vec::new());
        let request = request.without_header("content-type");
        send(request.idempotency_key(idempotency_key)).await
    }

    /// A GET.
    ///
    /// # Errors
    ///
    /// Transport failures.
    pub(crate) async fn get(&self, path: &str) -> Result<Exchange, String> {
        send(self.request(Method::GET, path)).await
    }
}

/// A verified order event, strictly valid for its `API-Version`.
#[derive(Debug, Clone)]
pub(crate) struct ReceivedWebhook {
    /// The event as typed by the crate (2026-04-17 events; `None` for an older version's
    /// event, which is checked against that version's schema and kept as `raw`).
    pub(crate) event: Option<WebhookEvent>,
    /// The version the merchant sent the event in (its `API-Version` header; latest without).
    pub(crate) version: ApiVersion,
    /// The raw JSON.
    pub(crate) raw: Value,
}

struct Receiver {
    verifier: WebhookVerifier,
    events: mpsc::UnboundedSender<ReceivedWebhook>,
}

/// Starts the agent platform's webhook receiver on `addr`; verified events arrive on the
/// returned channel. Bad signatures get 401 `invalid_signature` (WH-05).
///
/// # Errors
///
/// Bind failures or an empty secret.
pub(crate) async fn spawn_webhook_receiver(
    addr: SocketAddr,
    secret: &[u8],
) -> Result<(SocketAddr, mpsc::UnboundedReceiver<ReceivedWebhook>), String> {
    let secret = WebhookSecret::new(secret.to_vec()).map_err(|e| e.to_string())?;
    let (tx, rx) = mpsc::unbounded_channel();
    let state = Arc::new(Receiver {
        verifier: WebhookVerifier::new(secret),
        events: tx,
    });
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("bind {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let app = Router::new()
        .route("/webhooks/acp", post(receive))
        .with_state(state);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((local, rx))
}

async fn receive(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> Response {
    // WH-01..05: verify the raw bytes before looking at them.
    let verified = match r
        .verifier
        .verify_now(header_str(&headers, "merchant-signature"), &body)
    {
        Ok(v) => v,
        Err(e) => return Reply::new(e.http_status(), AcpError::from(&e).to_json()).into_response(),
    };
    let raw: Value = serde_json::from_slice(verified.body()).unwrap_or(Value::Null);
    let version = header_str(&headers, "api-version")
        .and_then(|v| v.parse::<ApiVersion>().ok())
        .unwrap_or(ApiVersion::LATEST);
    let event = if version == ApiVersion::LATEST {
        match verified.parse::<WebhookEvent>() {
            Ok(e) => Some(e),
            Err(e) => {
                return Reply::error(
                    400,
                    "invalid_request",
                    "invalid",
                    &e.to_string(),
                    Some(e.path()),
                )
                .into_response();
            }
        }
    } else {
        // An older version's event (a standalone `EventDataOrder`): strictly that version's.
        let entry = agentic_commerce::parse::registry::lookup_in(
            &version,
            "agentic_checkout_webhook.WebhookEvent",
        );
        let Some(entry) = entry else {
            return Reply::error(
                400,
                "invalid_request",
                "unsupported_api_version",
                "unsupported API-Version",
                None,
            )
            .into_response();
        };
        if let Err(violations) = entry.roundtrip_strict(&raw) {
            let first = violations.first();
            return Reply::error(
                400,
                "invalid_request",
                "invalid",
                first.map_or("invalid event", |v| v.message.as_str()),
                first.map(|v| v.path.to_string()).as_deref(),
            )
            .into_response();
        }
        None
    };
    let _ = r.events.send(ReceivedWebhook {
        event,
        version,
        raw,
    });
    Reply::new(200, json!({"received": true})).into_response()
}

/// A `DelegatePaymentRequest` for a test card.
pub(crate) fn delegate_request(
    number: &str,
    max_amount: i64,
    session: &str,
    merchant_id: &str,
    expires_at: &str,
) -> Value {
    let digits: Vec<char> = number.chars().collect();
    let last4: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    json!({
        "payment_method": {"type": "card", "card_number_type": "fpan", "virtual": false, "number": number,
            "exp_month": "12", "exp_year": "2030", "name": "Ada Lovelace", "cvc": "123",
            "display_card_funding_type": "credit", "display_brand": "visa",
            "display_last4": last4, "metadata": {}},
        "allowance": {"reason": "one_time", "max_amount": max_amount, "currency": "usd",
            "checkout_session_id": session, "merchant_id": merchant_id, "expires_at": expires_at},
        "risk_signals": [{"type": "card_testing", "score": 3, "action": "authorized"}],
        "metadata": {"source": "acp-example-agent"}
    })
}

/// A successful issuer-authentication result.
pub(crate) fn authenticated() -> Value {
    json!({"outcome": "authenticated", "outcome_details": {"three_ds_cryptogram": "AAABBBCCCDDDEEEFFF000111222=",
        "electronic_commerce_indicator": "05", "transaction_id": "ds_txn_0001", "version": "2.2.0"}})
}

/// The session status.
pub(crate) fn status_of(session: &Value) -> String {
    session["status"].as_str().unwrap_or_default().to_owned()
}

/// The `total` amount of a session.
pub(crate) fn total_of(session: &Value) -> i64 {
    session["totals"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["type"] == "total"))
        .and_then(|t| t["amount"].as_i64())
        .unwrap_or(0)
}

/// Waits for the next webhook, up to `timeout`.
///
/// # Errors
///
/// When none arrives in time.
pub(crate) async fn next_webhook(
    rx: &mut mpsc::UnboundedReceiver<ReceivedWebhook>,
    timeout: Duration,
) -> Result<ReceivedWebhook, String> {
    tokio::time::timeout(timeout, rx.recv())
        .await
        .map_err(|_| "no webhook arrived in time".to_owned())?
        .ok_or_else(|| "webhook receiver closed".to_owned())
}
