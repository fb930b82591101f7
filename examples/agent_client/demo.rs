//! The merchant's side of the `--spawn` demo, not the agent: the example merchant and vault
//! started in-process on loopback, and the merchant's back office after the purchase (ship,
//! deliver, refund part), each change reaching the agent as an `order_update` webhook.

use std::net::SocketAddr;
use std::time::Duration;

use agentic_commerce::engine::webhooks::ORDER_EVENTS_PATH;

use crate::{app, config, vault};

/// The secrets the spawned servers are started with.
pub(crate) struct Secrets {
    pub(crate) signing: String,
    pub(crate) vault_signing: String,
    pub(crate) webhook: String,
    /// The merchant's back-office key (`/admin`), for the demo's shipping and refund.
    pub(crate) admin: String,
}

/// Starts the example vault and merchant on ephemeral loopback ports; returns their URLs.
pub(crate) async fn spawn_servers(
    secrets: Secrets,
    hook_addr: SocketAddr,
    database_url: Option<String>,
) -> Result<(String, String), String> {
    let loopback: SocketAddr = "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?;
    let vault_config = vault::VaultConfig {
        signing_secret: secrets.vault_signing.into_bytes(),
        database_url: database_url.clone(),
        ..vault::VaultConfig::default()
    };
    let (vault_addr, _vault) = vault::spawn(vault_config, loopback).await?;
    let merchant_config = config::Config {
        webhook_url: Some(format!("http://{hook_addr}{ORDER_EVENTS_PATH}")),
        webhook_secret: secrets.webhook.into_bytes(),
        signing_secret: Some(secrets.signing.into_bytes()),
        admin_key: secrets.admin,
        psp_url: format!("http://{vault_addr}"),
        database_url: database_url.clone(),
        ..config::Config::default()
    };
    let (merchant_addr, _merchant) = app::spawn(merchant_config, loopback).await?;
    println!(
        "spawned merchant http://{merchant_addr} and vault http://{vault_addr} ({})",
        if database_url.is_some() {
            "PostgreSQL"
        } else {
            "in memory"
        }
    );
    Ok((
        format!("http://{merchant_addr}"),
        format!("http://{vault_addr}"),
    ))
}

/// Ships the whole order with tracking, delivers it and refunds 5.00 of it through the
/// merchant's admin endpoints; returns how many order changes that made.
pub(crate) async fn after_the_purchase(
    merchant: &str,
    key: &str,
    order: &str,
) -> Result<usize, String> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let admin = |action: &'static str, body: serde_json::Value| {
        let url = format!("{merchant}/admin/orders/{order}/{action}");
        let request = http.post(url).bearer_auth(key).body(body.to_string());
        async move {
            let answer = request
                .send()
                .await
                .map_err(|e| format!("admin {action}: {e}"))?;
            let status = answer.status();
            let bytes = answer.bytes().await.map_err(|e| e.to_string())?;
            let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            if !status.is_success() {
                return Err(format!("admin {action}: {status} {body}"));
            }
            Ok::<_, String>(body)
        }
    };
    let shipped = admin(
        "ship",
        serde_json::json!({"carrier": "UPS", "tracking_number": "1Z999AA10123456784",
            "tracking_url": "https://www.ups.com/track?tracknum=1Z999AA10123456784"}),
    )
    .await?;
    let fulfillment = shipped["fulfillments"][0]["id"]
        .as_str()
        .unwrap_or_default();
    println!("merchant: shipped order {order} ({fulfillment}, UPS 1Z999AA10123456784)");
    admin(
        "deliver",
        serde_json::json!({"fulfillment_id": fulfillment}),
    )
    .await?;
    println!("merchant: delivered {fulfillment}");
    let reason = "mug arrived chipped";
    admin(
        "refund",
        serde_json::json!({"amount": 500, "reason": reason}),
    )
    .await?;
    println!("merchant: refunded 5.00 ({reason})");
    Ok(3)
}
