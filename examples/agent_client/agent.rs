//! The agent platform, on the `agentic-commerce-client` crate ([`AcpClient`]: typed calls,
//! signed, retried with the same `Idempotency-Key`) and the core order-webhook receiver
//! ([`WebhookReceiver`], mounted on axum): discovery, create, update, delegate payment, 3-D
//! Secure through `delegate_authentication` when the merchant asks for it, complete; the
//! `agent_client` example prints it and the end-to-end tests assert it.

#![allow(dead_code)] // The tests use parts the example binary does not.

use std::net::SocketAddr;
use std::sync::Arc;

use agentic_commerce::engine::store::InMemoryStore;
use agentic_commerce::engine::webhooks::{
    Delivery, OrderTimeline, WebhookHandler, WebhookReceiver,
};
use agentic_commerce::parse::{self, schema::WireType};
use agentic_commerce::trust::signature::{HmacSha256Key, RequestSigner, SignedContent};
use agentic_commerce::trust::webhook::{WebhookSecret, WebhookVerifier};
use agentic_commerce::{AcpError, ApiVersion, Timestamp};
use agentic_commerce_client::AcpClient;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// The test card (the simulated 3DS provider authenticates any card).
const CARD: &str = "4242424242424242";

/// Where the purchase runs and with which credentials.
#[derive(Clone)]
pub(crate) struct PurchaseConfig {
    pub(crate) merchant_url: String,
    pub(crate) merchant_api_key: String,
    pub(crate) vault_url: String,
    pub(crate) vault_api_key: String,
    pub(crate) signing_secret: Vec<u8>,
    pub(crate) vault_signing_secret: Vec<u8>,
    /// Feed variant ids, one entry per unit.
    pub(crate) items: Vec<String>,
    pub(crate) coupon: Option<String>,
}

/// What the purchase produced.
#[derive(Debug, Default)]
pub(crate) struct Purchase {
    /// Every session status seen, in order.
    pub(crate) statuses: Vec<String>,
    /// The `delegate_authentication` session, when the merchant asked for 3-D Secure.
    pub(crate) authentication_session: Option<String>,
    /// The completed session (with its order).
    pub(crate) completed: Value,
}

/// The receiver's application side: every new (deduplicated) event goes to a channel.
pub(crate) struct Forward(mpsc::UnboundedSender<Delivery>);

impl WebhookHandler for Forward {
    async fn order_event(&self, delivery: &Delivery) -> Result<(), AcpError> {
        let closed = |_| AcpError::service_unavailable("the agent stopped", None);
        self.0.send(delivery.clone()).map_err(closed)
    }
}

/// The agent's order-webhook receiver.
pub(crate) type Receiver = WebhookReceiver<Forward, InMemoryStore>;

/// Serves the receiver on `addr` (`POST /agentic_checkout/webhooks/order_events`), accepting
/// any of `secrets` (rotation); new events arrive on the channel.
///
/// # Errors
///
/// A secret shorter than 16 bytes, or `addr` cannot be bound.
pub(crate) async fn spawn_receiver(
    addr: SocketAddr,
    secrets: &[&[u8]],
) -> Result<(SocketAddr, Arc<Receiver>, mpsc::UnboundedReceiver<Delivery>), String> {
    let secret = |s: &&[u8]| WebhookSecret::new(*s).map_err(|e| format!("webhook secret: {e}"));
    let mut secrets = secrets.iter().map(secret);
    let first = secrets.next().ok_or("no webhook secret")??;
    let verifier = secrets.try_fold(WebhookVerifier::new(first), |v, s| {
        Ok::<_, String>(v.with_secret(s?))
    })?;
    let (tx, rx) = mpsc::unbounded_channel();
    let receiver =
        Arc::new(Receiver::builder(verifier, Forward(tx), InMemoryStore::default()).build());
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let app = agentic_commerce_axum::router(Arc::clone(&receiver)).into_router();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((local, receiver, rx))
}

/// The timeline of `order`, once it holds `events` entries (the receiver writes an event to it
/// after handing the event to the application), within 10 s.
///
/// # Errors
///
/// The store fails, or the timeline stays shorter.
pub(crate) async fn timeline_of(
    receiver: &Receiver,
    order: &str,
    events: usize,
) -> Result<OrderTimeline, String> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let timeline = receiver.timeline(order).await.map_err(|e| e.to_string())?;
        match timeline {
            Some(t) if t.entries.len() >= events => return Ok(t),
            _ if tokio::time::Instant::now() >= deadline => {
                return Err(format!("order {order}: fewer than {events} events in 10 s"));
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
}

pub(crate) fn client(
    url: &str,
    key: &str,
    secret: &[u8],
    version: Option<ApiVersion>,
) -> Result<AcpClient, String> {
    let key_ = HmacSha256Key::new(secret).map_err(|e| format!("signing secret: {e}"))?;
    let signer = RequestSigner::new(key_).with_signed_content(SignedContent::TimestampAndBody);
    let builder = AcpClient::builder(url).bearer_token(key).signer(signer);
    let builder = match version {
        Some(version) => builder.api_version(version),
        None => builder.negotiate_version(), // VER-02, from the discovery document
    };
    builder.build().map_err(|e| e.to_string())
}

/// A request from its JSON form; `wire` is the other way, to read answers by path.
fn typed<T: WireType>(value: &Value) -> Result<T, String> {
    parse::from_value(value).map_err(|e| e.to_string())
}

fn wire<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

#[allow(clippy::needless_pass_by_value)] // a `map_err` adapter
fn fail(e: agentic_commerce_client::Error) -> String {
    e.to_string()
}

/// Runs discovery, create, update, delegate payment, 3-D Secure when asked, complete.
///
/// # Errors
///
/// The first call that fails, or a session that cannot be paid.
pub(crate) async fn run_purchase(
    c: &PurchaseConfig,
    say: &mut dyn FnMut(String),
) -> Result<Purchase, String> {
    let merchant = client(
        &c.merchant_url,
        &c.merchant_api_key,
        &c.signing_secret,
        None,
    )?;
    let vault = client(
        &c.vault_url,
        &c.vault_api_key,
        &c.vault_signing_secret,
        Some(ApiVersion::V2026_04_17),
    )?;
    let discovery = merchant.discover().await.map_err(fail)?.value;
    say(format!(
        "discovery: {} speaks ACP {}",
        c.merchant_url, discovery.protocol.version
    ));
    let lines: Vec<Value> = c.items.iter().map(|id| json!({"id": id})).collect();
    let create = json!({"currency": "usd", "line_items": lines,
        "capabilities": {"interventions": {"supported": ["3ds"]}}}); // the agent can run 3DS
    let created = wire(
        &merchant
            .create_checkout(&typed(&create)?)
            .await
            .map_err(fail)?
            .value,
    );
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    say(format!(
        "create: {id} {}, total {}",
        status_of(&created),
        total_of(&created)
    ));
    let (update, shipping) = update_body(&created, c.coupon.as_deref());
    let updated = wire(
        &merchant
            .update_checkout(&id, &typed(&update)?)
            .await
            .map_err(fail)?
            .value,
    );
    let (status, total) = (status_of(&updated), total_of(&updated));
    say(format!(
        "update: buyer, address, {} -> {status}, total {total}",
        shipping.as_deref().unwrap_or("digital only")
    ));
    let mut out = Purchase {
        statuses: vec![status_of(&created), status.clone()],
        ..Purchase::default()
    };
    if status != "ready_for_payment" && status != "authentication_required" {
        return Err(format!("session is {status}: {}", updated["messages"]));
    }
    // Delegate the card with an allowance of exactly this session, total and merchant (DP-03..10).
    let handler = &updated["capabilities"]["payment"]["handlers"][0];
    let merchant_id = handler["config"]["merchant_id"]
        .as_str()
        .unwrap_or_default();
    let expires = Timestamp(time::OffsetDateTime::now_utc() + time::Duration::minutes(15));
    let expires = expires.to_rfc3339().map_err(|e| e.to_string())?;
    let delegate = delegate_request(CARD, total, &id, merchant_id, &expires);
    let token = vault
        .delegate_payment(&typed(&delegate)?)
        .await
        .map_err(fail)?
        .value
        .id;
    say(format!(
        "delegate_payment: vault issued {token} (max {total}, bound to {id} at {merchant_id})"
    ));
    let mut complete = json!({"payment_data": {"handler_id": handler["id"], "instrument": {
        "type": "card", "credential": {"type": "spt", "token": token}}}});
    if status == "authentication_required" {
        let (session, result) = three_ds(&vault, &updated, total, say).await?;
        complete["payment_data"]["instrument"]["credential"]["authentication_session_id"] =
            json!(session);
        complete["authentication_result"] = result;
        out.authentication_session = Some(session);
    }
    let done = wire(
        &merchant
            .complete_checkout(&id, &typed(&complete)?)
            .await
            .map_err(fail)?
            .value,
    );
    say(format!(
        "complete: {}, order {}",
        status_of(&done),
        done["order"]["id"].as_str().unwrap_or("-")
    ));
    out.statuses.push(status_of(&done));
    out.completed = done;
    Ok(out)
}

/// 3-D Secure at the vault for the session's `authentication_metadata` (CHK-13): create,
/// authenticate, and retrieve the result (DA-01..06). Returns the session id and the
/// checkout's `authentication_result`.
pub(crate) async fn three_ds(
    vault: &AcpClient,
    session: &Value,
    total: i64,
    say: &mut dyn FnMut(String),
) -> Result<(String, Value), String> {
    let meta = &session["authentication_metadata"];
    let create = json!({"merchant_id": meta["acquirer_details"]["acquirer_merchant_id"],
        "acquirer_details": meta["acquirer_details"], "flow_preference": meta["flow_preference"],
        "payment_method": {"type": "card", "number": CARD, "exp_month": "12", "exp_year": "2030", "name": "Ada Lovelace"},
        "amount": {"value": total, "currency": session["currency"].as_str().unwrap_or("usd").to_uppercase()},
        "checkout_session_id": session["id"], "challenge_notification_url": "https://agent.example/3ds",
        "channel": {"type": "browser", "browser": {"accept_header": "text/html", "ip_address": "192.0.2.1",
            "javascript_enabled": false, "language": "en-US", "user_agent": "acp-example-agent"}}});
    let created = vault
        .create_delegate_authentication(&typed(&create)?)
        .await
        .map_err(fail)?
        .value;
    let id = created.authentication_session_id.as_str().to_owned();
    // DA-03: the buyer's browser runs the fingerprint (`three_ds_method_url`); it completed.
    let fingerprinted = json!({"fingerprint_completion": "Y"});
    let step = wire(
        &vault
            .authenticate_delegate_authentication(&id, &typed(&fingerprinted)?)
            .await
            .map_err(fail)?
            .value,
    );
    say(format!(
        "delegate_authentication: {id} {} {}",
        step["status"], step["action"]["type"]
    ));
    // DA-04: the buyer answers the challenge at `acs_url` (simulated); then the result.
    let done = wire(
        &vault
            .retrieve_delegate_authentication(&id)
            .await
            .map_err(fail)?
            .value,
    );
    let r = &done["authentication_result"];
    say(format!(
        "delegate_authentication: {} (trans_status {}, ECI {})",
        done["status"], r["trans_status"], r["electronic_commerce_indicator"]
    ));
    if done["status"] != "authenticated" {
        return Err(format!("3-D Secure ended {}", done["status"])); // DA-06
    }
    let details = json!({"three_ds_cryptogram": r["three_ds_cryptogram"], "version": r["version"],
        "electronic_commerce_indicator": r["electronic_commerce_indicator"], "transaction_id": r["transaction_id"]});
    Ok((
        id,
        json!({"outcome": "authenticated", "outcome_details": details}),
    ))
}

/// The update: buyer, address, shipping for physical items (digital ones already have
/// digital delivery), coupon. Also returns the shipping option.
fn update_body(created: &Value, coupon: Option<&str>) -> (Value, Option<String>) {
    let options = created["fulfillment_options"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let shipping = options
        .iter()
        .find(|o| o["type"] == "shipping")
        .and_then(|o| o["id"].as_str())
        .map(str::to_owned);
    let selected = created["selected_fulfillment_options"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let digital: Vec<Value> = selected
        .iter()
        .filter_map(|s| s["item_ids"].as_array())
        .flatten()
        .cloned()
        .collect();
    let lines = created["line_items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let physical: Vec<&Value> = lines
        .iter()
        .map(|l| &l["item"]["id"])
        .filter(|i| !digital.contains(i))
        .collect();
    let address = json!({"name": "Ada Lovelace", "line_one": "12 Analytical Way", "city": "Portland",
        "state": "OR", "country": "US", "postal_code": "97201"});
    let mut update = json!({"buyer": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
        "fulfillment_details": {"name": "Ada Lovelace", "email": "ada@example.com", "address": address}});
    if let Some(option) = &shipping {
        let mut chosen =
            vec![json!({"type": "shipping", "option_id": option, "item_ids": physical})];
        if !digital.is_empty() {
            chosen.push(
                json!({"type": "digital", "option_id": "digital_download", "item_ids": digital}),
            );
        }
        update["selected_fulfillment_options"] = json!(chosen);
    }
    if let Some(coupon) = coupon {
        update["coupons"] = json!([coupon]);
    }
    (update, shipping)
}

/// A `DelegatePaymentRequest` for a test card, its allowance bound to one session.
pub(crate) fn delegate_request(
    number: &str,
    max: i64,
    session: &str,
    merchant_id: &str,
    expires_at: &str,
) -> Value {
    json!({"payment_method": {"type": "card", "card_number_type": "fpan", "virtual": false, "number": number,
            "exp_month": "12", "exp_year": "2030", "name": "Ada Lovelace", "cvc": "123",
            "display_card_funding_type": "credit", "display_brand": "visa",
            "display_last4": &number[number.len().saturating_sub(4)..], "metadata": {}},
        "allowance": {"reason": "one_time", "max_amount": max, "currency": "usd", "checkout_session_id": session,
            "merchant_id": merchant_id, "expires_at": expires_at},
        "risk_signals": [{"type": "card_testing", "score": 3, "action": "authorized"}],
        "metadata": {"source": "acp-example-agent"}})
}

pub(crate) fn status_of(session: &Value) -> String {
    session["status"].as_str().unwrap_or_default().to_owned()
}

/// The `total` amount of a session.
pub(crate) fn total_of(session: &Value) -> i64 {
    let totals = session["totals"].as_array().cloned().unwrap_or_default();
    totals
        .iter()
        .find(|t| t["type"] == "total")
        .and_then(|t| t["amount"].as_i64())
        .unwrap_or(0)
}
