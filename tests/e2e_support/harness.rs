//! Starts the example merchant, PSP vault and agent webhook receiver in-process on ephemeral
//! loopback ports, for `tests/e2e.rs` and `tests/e2e_postgres.rs`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test helpers

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;

use super::ex::agent::{self, AcpClient, Exchange, ReceivedWebhook};
use super::ex::{app, vault};

/// Shared secrets of one test world (the merchant's; the vault has its own, as the example
/// servers do).
pub(crate) const SIGNING_SECRET: &[u8] = b"e2e-signing-secret";
/// The vault's signing secret.
pub(crate) const VAULT_SIGNING_SECRET: &[u8] = b"e2e-vault-signing-secret";
/// Webhook secret.
pub(crate) const WEBHOOK_SECRET: &[u8] = b"e2e-webhook-secret";

/// A running merchant + vault + webhook receiver.
pub(crate) struct World {
    /// Merchant base URL.
    pub(crate) merchant: String,
    /// Vault base URL.
    pub(crate) vault: String,
    /// The receiver's URL.
    pub(crate) hook_url: String,
    /// Verified webhooks.
    pub(crate) hooks: mpsc::UnboundedReceiver<ReceivedWebhook>,
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Merchant settings for a world.
pub(crate) fn merchant_config(
    vault: &str,
    hook_url: &str,
    database_url: Option<String>,
    latency: Duration,
) -> app::Config {
    app::Config {
        webhook_url: Some(hook_url.to_owned()),
        webhook_secret: WEBHOOK_SECRET.to_vec(),
        signing_secret: Some(SIGNING_SECRET.to_vec()),
        psp_url: vault.to_owned(),
        database_url,
        latency,
        ..app::Config::default()
    }
}

/// Starts one more merchant instance.
pub(crate) async fn start_merchant(config: app::Config) -> String {
    let (addr, _handle) = app::spawn(config, loopback())
        .await
        .expect("merchant starts");
    format!("http://{addr}")
}

/// Starts one more vault instance.
pub(crate) async fn start_vault(database_url: Option<String>) -> String {
    start_vault_with(vault::VaultConfig {
        signing_secret: VAULT_SIGNING_SECRET.to_vec(),
        database_url,
        ..vault::VaultConfig::default()
    })
    .await
}

/// Starts a vault with `config`.
pub(crate) async fn start_vault_with(config: vault::VaultConfig) -> String {
    let (addr, _handle) = vault::spawn(config, loopback())
        .await
        .expect("vault starts");
    format!("http://{addr}")
}

/// Starts a world (in memory unless `database_url`).
pub(crate) async fn world(database_url: Option<String>, latency: Duration) -> World {
    let (hook, hooks) = agent::spawn_webhook_receiver(loopback(), WEBHOOK_SECRET)
        .await
        .unwrap();
    let hook_url = format!("http://{hook}/webhooks/acp");
    let vault = start_vault(database_url.clone()).await;
    let merchant = start_merchant(merchant_config(&vault, &hook_url, database_url, latency)).await;
    World {
        merchant,
        vault,
        hook_url,
        hooks,
    }
}

impl World {
    /// A signing merchant client.
    pub(crate) fn client(&self) -> AcpClient {
        client(&self.merchant)
    }

    /// A signing vault client.
    pub(crate) fn vault_client(&self) -> AcpClient {
        AcpClient::new(
            &self.vault,
            vault::DEV_AGENT_KEY,
            Some(VAULT_SIGNING_SECRET),
        )
        .unwrap()
    }

    /// The agent's purchase settings for `items`.
    pub(crate) fn purchase(&self, items: &[&str], coupon: Option<&str>) -> agent::PurchaseConfig {
        agent::PurchaseConfig {
            merchant_url: self.merchant.clone(),
            merchant_api_key: app::DEV_API_KEY.to_owned(),
            vault_url: self.vault.clone(),
            vault_api_key: vault::DEV_AGENT_KEY.to_owned(),
            signing_secret: SIGNING_SECRET.to_vec(),
            vault_signing_secret: VAULT_SIGNING_SECRET.to_vec(),
            items: items.iter().map(|s| (*s).to_owned()).collect(),
            coupon: coupon.map(str::to_owned),
        }
    }
}

/// A signing client for a merchant URL.
pub(crate) fn client(merchant: &str) -> AcpClient {
    AcpClient::new(merchant, app::DEV_API_KEY, Some(SIGNING_SECRET)).unwrap()
}

/// A unique idempotency key.
pub(crate) fn key(label: &str) -> String {
    super::ex::http::new_id(&format!("{label}-"))
}

/// A create body for `items` that declares 3-D Secure support.
pub(crate) fn create_body(items: &[&str]) -> Value {
    serde_json::json!({
        "currency": "usd",
        "line_items": items.iter().map(|id| serde_json::json!({"id": id})).collect::<Vec<_>>(),
        "capabilities": {"interventions": {"supported": ["3ds"]}},
    })
}

/// Creates a session and returns the exchange.
pub(crate) async fn create(client: &AcpClient, items: &[&str]) -> Exchange {
    let created = client
        .post("/checkout_sessions", &create_body(items), &key("create"))
        .await
        .unwrap();
    assert_eq!(created.status, 201, "{}", created.body);
    created
}

/// An address + shipping selection update for a session with physical items.
pub(crate) fn ship_update(items: &[&str], option: &str) -> Value {
    serde_json::json!({
        "fulfillment_details": {"name": "Ada Lovelace", "address": {"name": "Ada Lovelace",
            "line_one": "12 Analytical Way", "city": "Portland", "state": "OR", "country": "US",
            "postal_code": "97201"}},
        "selected_fulfillment_options": [{"type": "shipping", "option_id": option, "item_ids": items}],
    })
}

/// Delegates a card for `session` with `max_amount`, returns the token id.
pub(crate) async fn delegate(
    world: &World,
    session: &str,
    max_amount: i64,
    expires_at: &str,
) -> String {
    let body = agent::delegate_request(
        "4242424242424242",
        max_amount,
        session,
        "trailhead_outfitters",
        expires_at,
    );
    let issued = world
        .vault_client()
        .post("/agentic_commerce/delegate_payment", &body, &key("dp"))
        .await
        .unwrap();
    assert_eq!(issued.status, 201, "{}", issued.body);
    // DP-01, DP-02: a schema-valid response with id, created and correlation metadata.
    agentic_commerce::parse::from_value_strict::<
        agentic_commerce::spec::v2026_04_17::delegate_payment::DelegatePaymentResponse,
    >(&issued.body)
    .unwrap();
    assert_eq!(
        issued.body["metadata"]["merchant_id"],
        "trailhead_outfitters"
    );
    issued.body["id"].as_str().unwrap().to_owned()
}

/// RFC 3339 `now + seconds`.
pub(crate) fn in_seconds(seconds: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::seconds(seconds))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// A complete body paying with `token`.
pub(crate) fn pay(token: &str) -> Value {
    serde_json::json!({"payment_data": {"handler_id": "card_tokenized", "instrument": {"type": "card",
        "credential": {"type": "spt", "token": token}}}})
}
