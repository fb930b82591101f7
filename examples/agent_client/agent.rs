//! The agent platform, on the `agentic-commerce-client` crate ([`AcpClient`]: typed calls,
//! signed, retried with the same `Idempotency-Key`; the allowance and 3-D Secure helpers) and
//! the core order-webhook receiver ([`WebhookReceiver`], served by `agentic-commerce-axum`):
//! discovery, create, update, delegate payment, 3-D Secure through `delegate_authentication`
//! when the merchant asks for it, complete; the `agent_client` example prints it and the
//! end-to-end tests assert it.

#![allow(dead_code)] // The tests use parts the example binary does not.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use agentic_commerce::engine::store::InMemoryStore;
use agentic_commerce::engine::webhooks::{
    Delivery, OrderTimeline, WebhookHandler, WebhookReceiver,
};
use agentic_commerce::parse::{self, schema::WireType};
use agentic_commerce::spec::latest::agentic_checkout::{CheckoutSession, CheckoutStatus};
use agentic_commerce::spec::latest::delegate_authentication::FingerprintCompletion;
use agentic_commerce::spec::latest::delegate_payment::DelegatePaymentRequest;
use agentic_commerce::trust::signature::{HmacSha256Key, RequestSigner, SignedContent};
use agentic_commerce::trust::webhook::{WebhookSecret, WebhookVerifier};
use agentic_commerce::{AcpError, ApiVersion, Timestamp};
use agentic_commerce_client::{
    AcpClient, Authentication, Error, Response, allowance_for, authentication_request,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// The test buyer: card, 3-D Secure browser, contact and address (data, not logic).
const WALLET: &str = include_str!("wallet.json");

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
/// No secret, one shorter than 16 bytes, or `addr` cannot be bound.
pub(crate) async fn spawn_receiver(
    addr: SocketAddr,
    secrets: &[&[u8]],
) -> Result<(SocketAddr, Arc<Receiver>, mpsc::UnboundedReceiver<Delivery>), String> {
    let mut keys = secrets.iter().map(|s| WebhookSecret::new(*s).map_err(fail));
    let mut verifier = WebhookVerifier::new(keys.next().ok_or("no webhook secret")??);
    for key in keys {
        verifier = verifier.with_secret(key?);
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let receiver =
        Arc::new(Receiver::builder(verifier, Forward(tx), InMemoryStore::default()).build());
    let mount = agentic_commerce_axum::router(Arc::clone(&receiver));
    let (local, _) = mount
        .spawn(addr)
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
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
    for _ in 0..500 {
        match receiver.timeline(order).await.map_err(fail)? {
            Some(t) if t.entries.len() >= events => return Ok(t),
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    Err(format!("order {order}: fewer than {events} events in 10 s"))
}

/// A client of `url` with its API key, signing with `secret` (timestamp and body), at
/// `version` or, without one, the version negotiated from the discovery document (VER-02).
///
/// # Errors
///
/// A secret too short to sign with, or a client that cannot be built.
pub(crate) fn client(
    url: &str,
    key: &str,
    secret: &[u8],
    version: Option<ApiVersion>,
) -> Result<AcpClient, String> {
    let signer = RequestSigner::new(HmacSha256Key::new(secret).map_err(fail)?);
    let signer = signer.with_signed_content(SignedContent::TimestampAndBody);
    let builder = AcpClient::builder(url).bearer_token(key).signer(signer);
    match version {
        Some(version) => builder.api_version(version),
        None => builder.negotiate_version(), // VER-02, from the discovery document
    }
    .build()
    .map_err(fail)
}

/// A typed value from its JSON form, and back.
fn typed<T: WireType>(value: &Value) -> Result<T, String> {
    parse::from_value(value).map_err(fail)
}

fn wire<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The answer of a typed call.
async fn call<T>(call: impl IntoFuture<Output = Result<Response<T>, Error>>) -> Result<T, String> {
    call.await.map(|r| r.value).map_err(fail)
}

#[allow(clippy::needless_pass_by_value)] // a `map_err` adapter
fn fail(e: impl std::fmt::Display) -> String {
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
    let wallet = wallet()?;
    let merchant = client(
        &c.merchant_url,
        &c.merchant_api_key,
        &c.signing_secret,
        None,
    )?;
    let latest = Some(ApiVersion::V2026_04_17);
    let vault = client(
        &c.vault_url,
        &c.vault_api_key,
        &c.vault_signing_secret,
        latest,
    )?;
    let discovery = call(merchant.discover()).await?;
    say(format!(
        "discovery: {} speaks ACP {}",
        c.merchant_url, discovery.protocol.version
    ));
    let lines: Vec<Value> = c.items.iter().map(|id| json!({"id": id})).collect();
    let create = json!({"currency": "usd", "line_items": lines,
        "capabilities": {"interventions": {"supported": ["3ds"]}}}); // the agent can run 3DS
    let created = wire(&call(merchant.create_checkout(&typed(&create)?)).await?);
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    say(format!(
        "create: {id} {}, total {}",
        text(&created["status"]),
        total_of(&created)
    ));
    let (update, shipping) = update_body(&created, &wallet, c.coupon.as_deref());
    let session = call(merchant.update_checkout(&id, &typed(&update)?)).await?;
    let updated = wire(&session);
    let (before, status) = (text(&created["status"]), text(&updated["status"]));
    say(format!(
        "update: buyer, address, {shipping} -> {status}, total {}",
        total_of(&updated)
    ));
    let mut out = Purchase {
        statuses: vec![before, status.clone()],
        ..Purchase::default()
    };
    let three_ds = session.status == CheckoutStatus::AuthenticationRequired;
    if !three_ds && session.status != CheckoutStatus::ReadyForPayment {
        return Err(format!("session is {status}: {}", updated["messages"]));
    }
    // Delegate the card with an allowance of exactly this session, total and merchant (DP-03..10).
    let handler = &updated["capabilities"]["payment"]["handlers"][0];
    let merchant_id = handler["config"]["merchant_id"]
        .as_str()
        .unwrap_or_default();
    let expires = Timestamp(time::OffsetDateTime::now_utc() + time::Duration::minutes(15));
    let allowance = allowance_for(&session, merchant_id, expires).ok_or("no total")?;
    let metadata = [("source".to_owned(), "acp-example-agent".to_owned())].into();
    let (card, signals) = (typed(&wallet["card"])?, typed(&wallet["risk_signal"])?);
    let request = DelegatePaymentRequest::new(card, allowance, vec![signals], metadata);
    let token = call(vault.delegate_payment(&request)).await?.id;
    say(format!(
        "delegate_payment: vault issued {token} (bound to {id} at {merchant_id})"
    ));
    let mut complete = json!({"payment_data": {"handler_id": handler["id"], "instrument": {
        "type": "card", "credential": {"type": "spt", "token": token}}}});
    if three_ds {
        let done = authenticate(&vault, &session, &wallet).await?;
        let (step, result) = (wire(&done.authenticated), wire(&done.result));
        let (auth, r) = (done.session_id(), &result["authentication_result"]);
        say(format!(
            "delegate_authentication: {auth} {} {}",
            step["status"], step["action"]["type"]
        ));
        say(format!(
            "delegate_authentication: {} (trans_status {}, ECI {})",
            result["status"], r["trans_status"], r["electronic_commerce_indicator"]
        ));
        if !done.may_authorize() {
            return Err(format!("3-D Secure ended {}", result["status"])); // DA-05, DA-06
        }
        complete["payment_data"]["instrument"]["credential"]["authentication_session_id"] =
            json!(auth);
        complete["authentication_result"] = wire(&done.checkout_result());
        out.authentication_session = Some(auth.to_owned());
    }
    let done = wire(&call(merchant.complete_checkout(&id, &typed(&complete)?)).await?);
    say(format!(
        "complete: {}, order {}",
        text(&done["status"]),
        text(&done["order"]["id"])
    ));
    out.statuses.push(text(&done["status"]));
    out.completed = done;
    Ok(out)
}

/// 3-D Secure at the vault for an `authentication_required` session, as its
/// `authentication_metadata` says (CHK-13; DA-01..06), with the wallet's card and browser. The
/// browser ran the 3DS Method (`Y`, DA-03) and answers a challenge at the ACS (DA-04).
///
/// # Errors
///
/// A session without metadata, or a call that fails.
pub(crate) async fn authenticate(
    vault: &AcpClient,
    session: &CheckoutSession,
    wallet: &Value,
) -> Result<Authentication, String> {
    let card = typed(&wallet["authentication_card"])?;
    let notify = text(&wallet["challenge_notification_url"])
        .parse()
        .map_err(fail)?;
    let request = authentication_request(session, card, typed(&wallet["channel"])?, notify);
    let request = request.ok_or("no authentication_metadata")?;
    let done = vault
        .authenticate_payment(&request, FingerprintCompletion::Y)
        .await;
    done.map_err(fail)
}

/// The test buyer's wallet.
///
/// # Errors
///
/// Only if `wallet.json` is not JSON.
pub(crate) fn wallet() -> Result<Value, String> {
    serde_json::from_str(WALLET).map_err(fail)
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or("-").to_owned()
}

/// The update: the wallet's buyer and address, the created session's selection (the digital
/// items) and the first shipping option for the other items, the coupon. Also returns the
/// shipping option, for the log.
fn update_body(created: &Value, wallet: &Value, coupon: Option<&str>) -> (Value, String) {
    let array = |v: &Value| v.as_array().cloned().unwrap_or_default();
    let mut chosen = array(&created["selected_fulfillment_options"]);
    let covered: Vec<Value> = chosen.iter().flat_map(|s| array(&s["item_ids"])).collect();
    let ids = array(&created["line_items"])
        .into_iter()
        .map(|l| l["item"]["id"].clone());
    let rest: Vec<Value> = ids.filter(|i| !covered.contains(i)).collect();
    let options = array(&created["fulfillment_options"]);
    let shipping = options
        .iter()
        .find(|o| o["type"] == "shipping" && !rest.is_empty());
    if let Some(option) = shipping {
        chosen.push(json!({"type": "shipping", "option_id": option["id"], "item_ids": rest}));
    }
    let update = json!({"buyer": wallet["buyer"], "fulfillment_details": wallet["fulfillment_details"],
        "selected_fulfillment_options": chosen, "coupons": coupon.into_iter().collect::<Vec<_>>()});
    (
        update,
        shipping.map_or_else(|| "digital only".to_owned(), |o| text(&o["id"])),
    )
}

/// The `total` amount of a session (wire form).
pub(crate) fn total_of(session: &Value) -> i64 {
    let totals = session["totals"].as_array().cloned().unwrap_or_default();
    let total = totals.iter().find(|t| t["type"] == "total");
    total.and_then(|t| t["amount"].as_i64()).unwrap_or(0)
}
