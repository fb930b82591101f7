//! The agent platform, on the `agentic-commerce-client` crate ([`AcpClient`]: typed calls,
//! signed, retried with the same `Idempotency-Key`; [`AcpClient::prepare_payment`]: the
//! delegated token and 3-D Secure) and the core order-webhook receiver ([`WebhookReceiver`],
//! served by `agentic-commerce-axum`): discovery, create, update, delegate payment, 3-D Secure
//! through `delegate_authentication` when the merchant asks for it, complete; the
//! `agent_client` example prints it and the end-to-end tests assert it.

#![allow(dead_code)] // The tests use parts the example binary does not.

use std::net::SocketAddr;
use std::sync::Arc;

use agentic_commerce::engine::store::InMemoryStore;
use agentic_commerce::engine::webhooks::{Delivery, WebhookReceiver};
use agentic_commerce::parse;
use agentic_commerce::trust::signature::{HmacSha256Key, RequestSigner, SignedContent};
use agentic_commerce::trust::webhook::{WebhookSecret, WebhookVerifier};
use agentic_commerce::{ApiVersion, Timestamp};
use agentic_commerce_axum::webhooks::ChannelHandler;
use agentic_commerce_client::{AcpClient, Authentication, PaymentMethod};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// The test buyer: payment method, contact and address (data, not logic).
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

/// The agent's order-webhook receiver: new (verified, deduplicated) events go to a channel.
pub(crate) type Receiver = WebhookReceiver<ChannelHandler, InMemoryStore>;

/// Serves the receiver on `addr` (`POST /agentic_checkout/webhooks/order_events`), accepting
/// any of `secrets` (rotation); new events arrive on the channel.
///
/// # Errors
///
/// No secret, one shorter than 16 bytes, or `addr` cannot be bound.
pub(crate) async fn spawn_receiver(
    addr: SocketAddr,
    secrets: &[&[u8]],
) -> Result<(SocketAddr, Arc<Receiver>, mpsc::Receiver<Delivery>), Failure> {
    let secrets = secrets.iter().map(|s| WebhookSecret::new(*s));
    let secrets = secrets.collect::<Result<Vec<_>, _>>()?;
    let verifier = WebhookVerifier::rotating(secrets).ok_or("no webhook secret")?;
    let (handler, events) = ChannelHandler::new(1024);
    let receiver = Arc::new(Receiver::builder(verifier, handler, InMemoryStore::default()).build());
    let mount = agentic_commerce_axum::router(Arc::clone(&receiver));
    let spawned = mount.spawn(addr).await;
    let (local, _) = spawned.map_err(|e| format!("{addr}: {e}"))?;
    Ok((local, receiver, events))
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
) -> Result<AcpClient, Failure> {
    let signer = RequestSigner::new(HmacSha256Key::new(secret)?);
    let builder = AcpClient::builder(url).bearer_token(key);
    let builder = builder.signer(signer.with_signed_content(SignedContent::TimestampAndBody));
    let builder = match version {
        Some(version) => builder.api_version(version),
        None => builder.negotiate_version(), // VER-02, from the discovery document
    };
    Ok(builder.build()?)
}

/// Why the purchase stopped: the first call or step that failed.
pub(crate) type Failure = Box<dyn std::error::Error + Send + Sync>;

/// Runs discovery, create, update, delegate payment, 3-D Secure when asked, complete.
///
/// # Errors
///
/// The first call that fails, or a session that cannot be paid.
pub(crate) async fn run_purchase(
    c: &PurchaseConfig,
    say: &mut dyn FnMut(String),
) -> Result<Purchase, Failure> {
    let wallet = wallet()?;
    let url = &c.merchant_url;
    let merchant = client(url, &c.merchant_api_key, &c.signing_secret, None)?;
    let latest = Some(ApiVersion::V2026_04_17);
    let vault = client(
        &c.vault_url,
        &c.vault_api_key,
        &c.vault_signing_secret,
        latest,
    )?;
    let discovery = merchant.discover().await?.value;
    say(format!(
        "discovery: {url} speaks ACP {}",
        discovery.protocol.version
    ));
    let lines: Vec<Value> = c.items.iter().map(|id| json!({"id": id})).collect();
    let create = json!({"currency": "usd", "line_items": lines,
        "capabilities": {"interventions": {"supported": ["3ds"]}}}); // the agent can run 3DS
    let created = merchant.create_checkout(&parse::from_value(&create)?);
    let created = serde_json::to_value(created.await?.value)?;
    let id = text(&created["id"]);
    say(format!(
        "create: {id} {}, total {}",
        text(&created["status"]),
        total_of(&created)
    ));
    let (update, shipping) = update_body(&created, &wallet, c.coupon.as_deref());
    let session = merchant.update_checkout(&id, &parse::from_value(&update)?);
    let session = session.await?.value;
    let updated = serde_json::to_value(&session)?;
    say(format!(
        "update: buyer, address, {shipping} -> {}, total {}",
        text(&updated["status"]),
        total_of(&updated)
    ));
    // Delegate the card with an allowance of exactly this session, total and merchant
    // (DP-03..10), after 3-D Secure when the merchant asks for it (DA-01..06).
    let method: PaymentMethod = serde_json::from_value(wallet["payment"].clone())?;
    let expires = Timestamp(time::OffsetDateTime::now_utc() + time::Duration::minutes(15));
    let paid = vault.prepare_payment(&session, &method, expires).await;
    let paid = paid.map_err(|e| format!("{e}: {}", updated["messages"]))?;
    let auth = paid.authentication.as_ref();
    if let Some(done) = auth {
        say_authentication(done, say)?;
    }
    say(format!(
        "delegate_payment: vault issued {} (bound to {id} at {})",
        paid.token, paid.merchant_id
    ));
    let done = merchant.complete_checkout(&id, &paid.request).await?.value;
    let completed = serde_json::to_value(&done)?;
    say(format!(
        "complete: {}, order {}",
        text(&completed["status"]),
        text(&completed["order"]["id"])
    ));
    let statuses = [&created, &updated, &completed].map(|s| text(&s["status"]));
    let authentication_session = auth.map(|done| done.session_id().to_owned());
    let statuses = statuses.to_vec();
    Ok(Purchase {
        statuses,
        authentication_session,
        completed,
    })
}

/// Prints the 3-D Secure run: the challenge, then the result.
fn say_authentication(done: &Authentication, say: &mut dyn FnMut(String)) -> Result<(), Failure> {
    let step = serde_json::to_value(&done.authenticated)?;
    let result = serde_json::to_value(&done.result)?;
    say(format!(
        "delegate_authentication: {} {} {}",
        done.session_id(),
        step["status"],
        step["action"]["type"]
    ));
    let details = &result["authentication_result"];
    say(format!(
        "delegate_authentication: {} (trans_status {}, ECI {})",
        result["status"], details["trans_status"], details["electronic_commerce_indicator"]
    ));
    Ok(())
}

/// The test buyer's wallet.
///
/// # Errors
///
/// Only if `wallet.json` is not JSON.
pub(crate) fn wallet() -> Result<Value, Failure> {
    Ok(serde_json::from_str(WALLET)?)
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
    let ids = array(&created["line_items"]).into_iter();
    let rest: Vec<Value> = ids
        .map(|l| l["item"]["id"].clone())
        .filter(|i| !covered.contains(i))
        .collect();
    let options = array(&created["fulfillment_options"]);
    let shipping = options
        .iter()
        .find(|o| o["type"] == "shipping" && !rest.is_empty());
    if let Some(option) = shipping {
        chosen.push(json!({"type": "shipping", "option_id": option["id"], "item_ids": rest}));
    }
    let update = json!({"buyer": wallet["buyer"], "fulfillment_details": wallet["fulfillment_details"],
        "selected_fulfillment_options": chosen, "coupons": coupon.into_iter().collect::<Vec<_>>()});
    let shipping = shipping.map_or_else(|| "digital only".to_owned(), |o| text(&o["id"]));
    (update, shipping)
}

/// The `total` amount of a session (wire form).
pub(crate) fn total_of(session: &Value) -> i64 {
    let totals = session["totals"].as_array().cloned().unwrap_or_default();
    let total = totals.iter().find(|t| t["type"] == "total");
    total.and_then(|t| t["amount"].as_i64()).unwrap_or(0)
}
