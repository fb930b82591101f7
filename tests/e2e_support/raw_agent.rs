//! A hand-written agent for the end-to-end tests: a signing raw-HTTP ACP client
//! ([`AcpClient`], every header and byte visible to the assertions), a webhook receiver that
//! verifies `Merchant-Signature` ([`spawn_webhook_receiver`]) and the purchase flow
//! ([`run_purchase`]). The `agent_client` example is built on the `agentic-commerce-client`
//! crate and the core webhook receiver instead (`examples/agent_client/agent.rs`).

#![allow(dead_code)] // The tests use parts the example binary does not.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use agentic_commerce::protocol::version::{self, ApiVersion};
use agentic_commerce::spec::v2026_04_17::agentic_checkout_webhook::WebhookEvent;
use agentic_commerce::trust::signature::{HmacSha256Key, RequestSigner, SignedContent};
use agentic_commerce::trust::webhook::{WebhookSecret, WebhookVerifier};
use agentic_commerce::{AcpError, Timestamp};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::http::{MAX_RESPONSE_BYTES, Reply, header_str, new_id, read_capped};

/// How long one call to a merchant or a vault may take in all. Longer than the merchant's own
/// PSP timeout (a complete waits for the charge), far below the 5-minute idempotency lease.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The HTTP client every agent call uses: connect and total timeouts ([`REQUEST_TIMEOUT`]).
///
/// # Errors
///
/// When the client cannot be built.
pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .connect_timeout(timeout)
        .timeout(timeout)
        .build()
        .map_err(|e| format!("HTTP client: {e}"))
}

/// One HTTP exchange as the agent saw it.
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

/// A signing ACP HTTP client (SIG-01..03): every write carries `Signature` and `Timestamp`
/// (timestamp and body signed, [`SignedContent::TimestampAndBody`]; a write without a body is
/// signed over the empty content) and an `Idempotency-Key` (IDEM-01). Every call has a timeout
/// and reads at most [`MAX_RESPONSE_BYTES`] of the answer.
pub(crate) struct AcpClient {
    http: reqwest::Client,
    base: String,
    api_key: String,
    signer: Option<RequestSigner<HmacSha256Key>>,
    /// The negotiated `API-Version`.
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
        let signer = match signing_secret {
            Some(s) => Some(
                RequestSigner::new(HmacSha256Key::new(s).map_err(|e| e.to_string())?)
                    .with_signed_content(SignedContent::TimestampAndBody),
            ),
            None => None,
        };
        Ok(Self {
            http: http_client(REQUEST_TIMEOUT)?,
            base: base.trim_end_matches('/').to_owned(),
            api_key: api_key.to_owned(),
            signer,
            version: ApiVersion::LATEST,
        })
    }

    /// A request with the standard ACP headers; the caller adds the body.
    pub(crate) fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.api_key)
            .header("api-version", self.version.as_str())
            .header("request-id", new_id("req_"))
            .header("user-agent", "acp-example-agent/0.1")
    }

    /// A signed POST of `body` with `idempotency_key`.
    ///
    /// # Errors
    ///
    /// Transport or signing failures.
    pub(crate) async fn post(
        &self,
        path: &str,
        body: &Value,
        idempotency_key: &str,
    ) -> Result<Exchange, String> {
        self.post_bytes(path, body.to_string().into_bytes(), Some(idempotency_key))
            .await
    }

    /// A signed POST of `body` without an `Idempotency-Key`, as an agent of a version before
    /// 2026-04-17 may send it (the header was optional until then).
    ///
    /// # Errors
    ///
    /// Transport or signing failures.
    pub(crate) async fn post_without_key(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<Exchange, String> {
        self.post_bytes(path, body.to_string().into_bytes(), None)
            .await
    }

    /// A signed POST without a body (a cancel without `intent_trace`): signed over the empty
    /// content with its timestamp.
    ///
    /// # Errors
    ///
    /// Transport or signing failures.
    pub(crate) async fn post_empty(
        &self,
        path: &str,
        idempotency_key: &str,
    ) -> Result<Exchange, String> {
        self.post_bytes(path, Vec::new(), Some(idempotency_key))
            .await
    }

    async fn post_bytes(
        &self,
        path: &str,
        bytes: Vec<u8>,
        idempotency_key: Option<&str>,
    ) -> Result<Exchange, String> {
        let mut request = self.request(reqwest::Method::POST, path);
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        if !bytes.is_empty() {
            request = request.header("content-type", "application/json");
        }
        if let Some(signer) = &self.signer {
            let signed = signer
                .sign(&bytes, OffsetDateTime::now_utc())
                .map_err(|e| e.to_string())?;
            request = request
                .header("signature", signed.signature)
                .header("timestamp", signed.timestamp);
        }
        send(request.body(bytes)).await
    }

    /// A GET.
    ///
    /// # Errors
    ///
    /// Transport failures.
    pub(crate) async fn get(&self, path: &str) -> Result<Exchange, String> {
        send(self.request(reqwest::Method::GET, path)).await
    }
}

/// Sends a request and collects the exchange.
///
/// # Errors
///
/// Transport failures.
pub(crate) async fn send(request: reqwest::RequestBuilder) -> Result<Exchange, String> {
    let response = request.send().await.map_err(|e| format!("HTTP: {e}"))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    // A hostile or broken server cannot make the agent buffer an endless body.
    let raw = read_capped(response, MAX_RESPONSE_BYTES).await?;
    let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    Ok(Exchange {
        status,
        headers,
        raw,
        body,
    })
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

/// Where the purchase runs.
#[derive(Clone)]
pub(crate) struct PurchaseConfig {
    /// Merchant base URL.
    pub(crate) merchant_url: String,
    /// Merchant API key.
    pub(crate) merchant_api_key: String,
    /// Vault base URL.
    pub(crate) vault_url: String,
    /// Vault API key.
    pub(crate) vault_api_key: String,
    /// Request-signing secret shared with the merchant.
    pub(crate) signing_secret: Vec<u8>,
    /// Request-signing secret shared with the vault.
    pub(crate) vault_signing_secret: Vec<u8>,
    /// Items to buy (feed variant ids, one entry per unit).
    pub(crate) items: Vec<String>,
    /// Coupon to apply.
    pub(crate) coupon: Option<String>,
}

impl std::fmt::Debug for PurchaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // API keys and signing secrets are redacted.
        const REDACTED: &str = "[REDACTED]";
        f.debug_struct("PurchaseConfig")
            .field("merchant_url", &self.merchant_url)
            .field("merchant_api_key", &REDACTED)
            .field("vault_url", &self.vault_url)
            .field("vault_api_key", &REDACTED)
            .field("signing_secret", &REDACTED)
            .field("vault_signing_secret", &REDACTED)
            .field("items", &self.items)
            .field("coupon", &self.coupon)
            .finish()
    }
}

/// What the purchase produced, for printing and for the tests.
#[derive(Debug, Clone, Default)]
pub(crate) struct Purchase {
    /// Every session status seen, in order.
    pub(crate) statuses: Vec<String>,
    /// The discovery document.
    pub(crate) discovery: Value,
    /// The create exchange and its replay.
    pub(crate) created: Option<Exchange>,
    /// The replayed create.
    pub(crate) replayed: Option<Exchange>,
    /// The delegated token id.
    pub(crate) token: String,
    /// The final session.
    pub(crate) completed: Value,
}

/// Runs discovery → create (and a replayed retry) → update → (3DS when asked) → delegate
/// payment → complete, printing each step with `say`.
///
/// # Errors
///
/// The first unexpected answer.
pub(crate) async fn run_purchase(
    config: &PurchaseConfig,
    say: &mut dyn FnMut(String),
) -> Result<Purchase, String> {
    let mut out = Purchase::default();
    let mut merchant = AcpClient::new(
        &config.merchant_url,
        &config.merchant_api_key,
        Some(&config.signing_secret),
    )?;

    // 1. Discovery, then version negotiation against our own list (VER-02).
    out.discovery = discover(&mut merchant).await?;
    say(format!(
        "discovery: {} speaks ACP {}",
        config.merchant_url, merchant.version
    ));

    // 2. Create, declaring the interventions this agent can run (capability negotiation).
    let create = json!({
        "currency": "usd",
        "line_items": config.items.iter().map(|id| json!({"id": id})).collect::<Vec<_>>(),
        "capabilities": {"interventions": {"supported": ["3ds"]}},
    });
    let key = format!("create-{}", new_id(""));
    let created = merchant.post("/checkout_sessions", &create, &key).await?;
    expect(&created, 201, "create")?;
    let id = created.body["id"].as_str().unwrap_or_default().to_owned();
    let status = status_of(&created.body);
    say(format!(
        "create: {id} -> {} {status}, total {}",
        created.status,
        total_of(&created.body)
    ));
    out.statuses.push(status);

    // 3. The same POST again (a network retry): the merchant replays, nothing runs twice.
    let replayed = merchant.post("/checkout_sessions", &create, &key).await?;
    say(format!(
        "retry create with the same Idempotency-Key: {} Idempotent-Replayed: {} (same session: {})",
        replayed.status,
        replayed.header("idempotent-replayed").unwrap_or("-"),
        replayed.raw == created.raw
    ));
    out.created = Some(created.clone());
    out.replayed = Some(replayed);

    // 4. Update: buyer, address, fulfillment choice, coupon.
    let (update, shipping) = update_body(&created.body, config.coupon.as_deref());
    let updated = merchant
        .post(
            &format!("/checkout_sessions/{id}"),
            &update,
            &format!("update-{}", new_id("")),
        )
        .await?;
    expect(&updated, 200, "update")?;
    let status = status_of(&updated.body);
    say(format!(
        "update: buyer, address, {} -> {status}, total {}",
        shipping.as_deref().unwrap_or("digital only"),
        total_of(&updated.body)
    ));
    out.statuses.push(status.clone());
    if status != "ready_for_payment" && status != "authentication_required" {
        return Err(format!("session is {status}: {}", updated.body["messages"]));
    }

    // 5. Delegate the card to the PSP vault with an allowance for exactly this session.
    let (token, handler_id) = delegate_card(config, &updated.body, say).await?;
    out.token.clone_from(&token);

    // 6. Complete; when the merchant asks for 3-D Secure, authenticate first (CHK-14).
    let mut complete = json!({
        "payment_data": {"handler_id": handler_id, "instrument": {"type": "card",
            "credential": {"type": "spt", "token": token}}},
    });
    if status == "authentication_required" {
        say("3-D Secure: issuer challenge passed (simulated)".to_owned());
        complete["authentication_result"] = authenticated();
    }
    let done = merchant
        .post(
            &format!("/checkout_sessions/{id}/complete"),
            &complete,
            &format!("complete-{}", new_id("")),
        )
        .await?;
    expect(&done, 200, "complete")?;
    let status = status_of(&done.body);
    say(format!(
        "complete: {status}, order {} {}",
        done.body["order"]["id"].as_str().unwrap_or("-"),
        done.body["order"]["permalink_url"].as_str().unwrap_or("")
    ));
    out.statuses.push(status);
    out.completed = done.body;
    Ok(out)
}

/// Reads the discovery document and negotiates the API version (VER-02).
async fn discover(merchant: &mut AcpClient) -> Result<Value, String> {
    let discovery = merchant.get("/.well-known/acp.json").await?;
    expect(&discovery, 200, "discovery")?;
    let theirs: Vec<ApiVersion> = discovery.body["protocol"]["supported_versions"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter_map(|v| v.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let ours = [ApiVersion::V2026_04_17];
    let common: Vec<ApiVersion> = theirs.into_iter().filter(|v| ours.contains(v)).collect();
    merchant.version = version::negotiate(&common, Some(ApiVersion::LATEST.as_str()))
        .map_err(|e| e.to_string())?;
    Ok(discovery.body)
}

/// The update request: buyer, address, shipping for physical items (the merchant already
/// selected digital delivery for digital ones), coupon. Also returns the shipping option.
fn update_body(created: &Value, coupon: Option<&str>) -> (Value, Option<String>) {
    let shipping = created["fulfillment_options"]
        .as_array()
        .and_then(|o| o.iter().find(|o| o["type"] == "shipping"))
        .and_then(|o| o["id"].as_str())
        .map(str::to_owned);
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let all: Vec<String> = created["line_items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|l| l["item"]["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let digital: Vec<String> = created["selected_fulfillment_options"]
        .as_array()
        .map(|a| a.iter().flat_map(|s| strings(&s["item_ids"])).collect())
        .unwrap_or_default();
    let mut update = json!({
        "buyer": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
        "fulfillment_details": {"name": "Ada Lovelace", "email": "ada@example.com", "address": {
            "name": "Ada Lovelace", "line_one": "12 Analytical Way", "city": "Portland",
            "state": "OR", "country": "US", "postal_code": "97201"}},
    });
    if let Some(option) = &shipping {
        let physical: Vec<&String> = all.iter().filter(|i| !digital.contains(i)).collect();
        let mut selections =
            vec![json!({"type": "shipping", "option_id": option, "item_ids": physical})];
        if !digital.is_empty() {
            selections.push(
                json!({"type": "digital", "option_id": "digital_download", "item_ids": digital}),
            );
        }
        update["selected_fulfillment_options"] = json!(selections);
    }
    if let Some(coupon) = coupon {
        update["coupons"] = json!([coupon]);
    }
    (update, shipping)
}

/// Delegates the test card to the vault with an allowance of exactly the session total, for
/// this session and merchant (DP-03, DP-09, DP-10). Returns the token and the handler id.
async fn delegate_card(
    config: &PurchaseConfig,
    session: &Value,
    say: &mut dyn FnMut(String),
) -> Result<(String, String), String> {
    let total = total_of(session);
    let id = session["id"].as_str().unwrap_or_default();
    let handler = &session["capabilities"]["payment"]["handlers"][0];
    let merchant_id = handler["config"]["merchant_id"]
        .as_str()
        .unwrap_or_default();
    let handler_id = handler["id"].as_str().unwrap_or_default().to_owned();
    let vault = AcpClient::new(
        &config.vault_url,
        &config.vault_api_key,
        Some(&config.vault_signing_secret),
    )?;
    let expires = Timestamp(OffsetDateTime::now_utc() + time::Duration::minutes(15))
        .to_rfc3339()
        .map_err(|e| e.to_string())?;
    let delegate = delegate_request("4242424242424242", total, id, merchant_id, &expires);
    let issued = vault
        .post(
            "/agentic_commerce/delegate_payment",
            &delegate,
            &format!("dp-{}", new_id("")),
        )
        .await?;
    expect(&issued, 201, "delegate_payment")?;
    let token = issued.body["id"].as_str().unwrap_or_default().to_owned();
    say(format!(
        "delegate_payment: vault issued {token} (max {total} usd, bound to {id} at {merchant_id})"
    ));
    Ok((token, handler_id))
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

fn expect(exchange: &Exchange, status: u16, what: &str) -> Result<(), String> {
    if exchange.status == status {
        Ok(())
    } else {
        Err(format!(
            "{what}: expected {status}, got {} {}",
            exchange.status, exchange.body
        ))
    }
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
