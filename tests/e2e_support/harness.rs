//! Starts the example merchant, PSP vault and agent webhook receiver in-process on ephemeral
//! loopback ports, for `tests/e2e.rs` and `tests/e2e_postgres.rs`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test helpers

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;

use super::ex::{app, config, vault};
use super::wire::{self, AcpClient, Exchange, ReceivedWebhook};

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
) -> config::Config {
    config::Config {
        webhook_url: Some(hook_url.to_owned()),
        webhook_secret: WEBHOOK_SECRET.to_vec(),
        signing_secret: Some(SIGNING_SECRET.to_vec()),
        psp_url: vault.to_owned(),
        database_url,
        latency,
        ..config::Config::default()
    }
}

/// Starts one more merchant instance.
pub(crate) async fn start_merchant(config: config::Config) -> String {
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
    let (hook, hooks) = wire::spawn_webhook_receiver(loopback(), WEBHOOK_SECRET)
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
    pub(crate) fn purchase(
        &self,
        items: &[&str],
        coupon: Option<&str>,
    ) -> super::ex::client_agent::PurchaseConfig {
        super::ex::client_agent::PurchaseConfig {
            merchant_url: self.merchant.clone(),
            merchant_api_key: config::DEV_API_KEY.to_owned(),
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
    AcpClient::new(merchant, config::DEV_API_KEY, Some(SIGNING_SECRET)).unwrap()
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
    let body = wire::delegate_request(
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

/// Whether the vault still accepts `token` for `amount` on `session` (it charges it if so): a
/// token the merchant already charged is refused as `already_used` (DP-11).
pub(crate) async fn token_unused(world: &World, token: &str, session: &str, amount: i64) -> bool {
    let body = serde_json::json!({"token": token, "amount": amount, "currency": "usd",
        "checkout_session_id": session, "merchant_id": "trailhead_outfitters"});
    let url = format!("{}/charges", world.vault);
    let charged = wire::send(
        wire::raw(agentic_commerce_client::Method::POST, &url)
            .header("authorization", &wire::bearer(config::DEV_PSP_KEY))
            .idempotency_key(&format!("probe_{token}"))
            .body(body.to_string()),
    )
    .await
    .unwrap();
    match charged.status {
        201 => true,
        402 if charged.body["code"] == "already_used" => false,
        other => panic!("unexpected charge answer {other}: {}", charged.body),
    }
}

/// Issue 12 item 9: `RACERS` completes of one ready session, each with its own idempotency key
/// and its own delegated token, fired at once. Exactly one charges and completes; every other
/// gets an ACP error and charges nothing; a later complete charges nothing; the completed
/// session is never overwritten; one order webhook goes out.
pub(crate) async fn exactly_one_of_concurrent_completes_charges(
    w: &mut World,
    merchants: &[String],
) {
    const RACERS: usize = 16;
    let created = create(&w.client(), &["var_guide_epub"]).await;
    assert_eq!(
        created.body["status"], "ready_for_payment",
        "{}",
        created.body
    );
    let id = created.body["id"].as_str().unwrap().to_owned();
    let amount = wire::total_of(&created.body);
    let mut tokens = Vec::new();
    for _ in 0..=RACERS {
        tokens.push(delegate(w, &id, amount, &in_seconds(600)).await);
    }
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(RACERS));
    let racers: Vec<_> = tokens[..RACERS]
        .iter()
        .enumerate()
        .map(|(i, token)| {
            let merchant = merchants[i % merchants.len()].clone();
            let (path, body, barrier) = (
                format!("/checkout_sessions/{id}/complete"),
                pay(token),
                std::sync::Arc::clone(&barrier),
            );
            tokio::spawn(async move {
                let c = client(&merchant);
                barrier.wait().await;
                c.post(&path, &body, &key("race-complete")).await.unwrap()
            })
        })
        .collect();
    let mut answers = Vec::new();
    for racer in racers {
        answers.push(racer.await.unwrap());
    }
    let winner = the_only_winner(&answers);
    // The PSP charged exactly one of the racing tokens.
    let mut charged = 0;
    for token in &tokens[..RACERS] {
        if !token_unused(w, token, &id, amount).await {
            charged += 1;
        }
    }
    assert_eq!(charged, 1, "the PSP charged {charged} tokens");
    // A later complete with a fresh token and key cannot charge again.
    let later = w
        .client()
        .post(
            &format!("/checkout_sessions/{id}/complete"),
            &pay(&tokens[RACERS]),
            &key("later"),
        )
        .await
        .unwrap();
    assert_eq!(later.status, 405, "{}", later.body);
    assert!(
        token_unused(w, &tokens[RACERS], &id, amount).await,
        "the later complete charged"
    );
    // The completed session was not overwritten by a loser.
    let seen = w
        .client()
        .get(&format!("/checkout_sessions/{id}"))
        .await
        .unwrap();
    assert_eq!(seen.body["status"], "completed", "{}", seen.body);
    assert_eq!(seen.body["order"], winner.body["order"]);
    // One order webhook, for the committed order.
    let hook = wire::next_webhook(&mut w.hooks, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(
        hook.event
            .as_ref()
            .unwrap()
            .data
            .checkout_session_id
            .as_str(),
        id
    );
    assert!(
        wire::next_webhook(&mut w.hooks, Duration::from_millis(500))
            .await
            .is_err()
    );
}

/// The one 200 among `answers`; every other answer is an ACP error (ERR-01), not a session.
fn the_only_winner(answers: &[Exchange]) -> &Exchange {
    let winners: Vec<&Exchange> = answers.iter().filter(|a| a.status == 200).collect();
    assert_eq!(
        winners.len(),
        1,
        "{:?}",
        answers
            .iter()
            .map(|a| (a.status, a.body["status"].clone(), a.body["code"].clone()))
            .collect::<Vec<_>>()
    );
    assert_eq!(winners[0].body["status"], "completed");
    for loser in answers.iter().filter(|a| a.status != 200) {
        // An ACP error object (ERR-01), not a session.
        assert!(
            (400..500).contains(&loser.status),
            "{}: {}",
            loser.status,
            loser.body
        );
        assert_eq!(loser.body["type"], "invalid_request", "{}", loser.body);
        assert!(loser.body["code"].is_string(), "{}", loser.body);
        assert!(loser.body.get("id").is_none(), "{}", loser.body);
    }
    winners[0]
}

/// 3-D Secure at the vault of `w` for `session` (an `authentication_required` session, wire
/// form) by the example agent: the `delegate_authentication` session id and the checkout's
/// `authentication_result`.
pub(crate) async fn three_ds(w: &World, session: &Value) -> (String, Value) {
    let vault = super::ex::client_agent::client(
        &w.vault,
        vault::DEV_AGENT_KEY,
        VAULT_SIGNING_SECRET,
        Some(agentic_commerce::ApiVersion::V2026_04_17),
    )
    .unwrap();
    let typed = agentic_commerce::parse::from_value(session).unwrap();
    let wallet = super::ex::client_agent::wallet().unwrap();
    let method: agentic_commerce_client::PaymentMethod =
        serde_json::from_value(wallet["payment"].clone()).unwrap();
    let channel = method.three_ds.as_ref().unwrap();
    let done = vault.authenticate_session(&typed, channel).await.unwrap();
    assert!(done.may_authorize(), "{:?}", done.status());
    let result = serde_json::to_value(done.checkout_result()).unwrap();
    (done.session_id().to_owned(), result)
}
