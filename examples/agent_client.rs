//! An ACP agent platform on the `agentic-commerce-client` crate: drives a full purchase against
//! a merchant and a PSP vault (3-D Secure through the vault's `delegate_authentication` when
//! the merchant asks for it) and receives the order webhook with the crate's receiver. With
//! `--spawn` the demo goes on after the purchase: the merchant ships (with tracking), delivers
//! and refunds part of the order through its admin endpoints, and the agent prints the order's
//! timeline from the webhooks, with the permalink and the support contact.
//!
//! ```text
//! cargo run --example agent_client -- --spawn            # everything in-process, loopback
//! cargo run --example agent_client -- [--merchant-url http://127.0.0.1:8080]
//!     [--vault-url http://127.0.0.1:8081] [--api-key KEY] [--vault-api-key KEY]
//!     [--signing-secret S] [--vault-signing-secret S] [--webhook-secret S]
//!     [--webhook-addr 127.0.0.1:9090] [--item VARIANT_ID] [--database-url postgres://…]
//! ```
//!
//! With `--spawn` it starts the example merchant and vault on ephemeral loopback ports
//! (sharing `DATABASE_URL` when set), with fresh random secrets (32 bytes from the OS CSPRNG).
//! Without it, start them yourself and point the merchant's `--webhook-url` at
//! `http://<webhook-addr>/agentic_checkout/webhooks/order_events`. Run with `--help` for every flag.

#[path = "support/flags.rs"]
mod flags;
#[path = "support/http.rs"]
mod http;

#[path = "merchant_server/admin.rs"]
mod admin;
#[path = "agent_client/agent.rs"]
mod agent;
#[path = "merchant_server/app.rs"]
mod app;
#[path = "merchant_server/catalog.rs"]
mod catalog;
#[path = "merchant_server/checkout.rs"]
mod checkout;
#[path = "merchant_server/config.rs"]
mod config;
#[path = "agent_client/demo.rs"]
mod demo;
#[path = "merchant_server/feed.rs"]
mod feed;
#[path = "merchant_server/orders.rs"]
mod orders;
#[path = "psp_vault/vault.rs"]
mod vault;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use agentic_commerce::engine::webhooks::{Delivery, ORDER_EVENTS_PATH, OrderTimeline};

const USAGE: &str = "\
agent_client: an ACP agent platform; runs a full signed purchase (3-D Secure through\n\
delegate_authentication when the merchant asks) and receives the order webhook.

Usage: agent_client --spawn [--database-url URL] [--item VARIANT_ID]
       agent_client [FLAGS]

Flags (each also read from the environment variable in brackets):
  --spawn                       start the example merchant and vault in-process on loopback,
                                with fresh random secrets
  --merchant-url URL            merchant base URL [ACP_MERCHANT_URL] (default http://127.0.0.1:8080)
  --vault-url URL               vault base URL [ACP_VAULT_URL] (default http://127.0.0.1:8081)
  --api-key KEY                 the merchant's API key [ACP_API_KEY]
  --vault-api-key KEY           the vault's API key [VAULT_API_KEY]
  --signing-secret S            secret requests to the merchant are signed with
                                [ACP_SIGNING_SECRET]
  --vault-signing-secret S      secret delegate_payment is signed with [VAULT_SIGNING_SECRET]
  --webhook-secret S            Merchant-Signature secret [ACP_WEBHOOK_SECRET]; a comma-
                                separated list accepts each (secret rotation)
  --webhook-addr HOST:PORT      webhook receiver address [ACP_WEBHOOK_ADDR]
                                (default 127.0.0.1:9090)
  --item VARIANT_ID             the item to buy [ACP_ITEM] (var_tent_2p: a 3-D Secure purchase)
  --database-url URL            with --spawn: PostgreSQL for both servers [DATABASE_URL]
  -h, --help                    print this help and exit
";

const VALUED: &[&str] = &[
    "merchant-url",
    "vault-url",
    "api-key",
    "vault-api-key",
    "signing-secret",
    "vault-signing-secret",
    "webhook-secret",
    "webhook-addr",
    "item",
    "database-url",
];

async fn run(flags: &flags::Flags) -> Result<(), String> {
    let spawn = flags.has("spawn");
    // Secrets: given, else fresh random ones for servers spawned here (RFC 2104 §3), else the
    // development defaults of servers started by hand.
    let secret = |flag: &str, env: &str, dev: &str| {
        flags.get(flag, env).unwrap_or_else(|| {
            if spawn {
                http::new_secret()
            } else {
                dev.to_owned()
            }
        })
    };
    let signing_secret = secret(
        "signing-secret",
        "ACP_SIGNING_SECRET",
        config::DEV_SIGNING_SECRET,
    );
    let vault_signing_secret = secret(
        "vault-signing-secret",
        "VAULT_SIGNING_SECRET",
        vault::DEV_SIGNING_SECRET,
    );
    let webhook_secret = secret(
        "webhook-secret",
        "ACP_WEBHOOK_SECRET",
        config::DEV_WEBHOOK_SECRET,
    );
    let webhook_addr: SocketAddr = if flags.has("spawn") {
        "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?
    } else {
        flags
            .get("webhook-addr", "ACP_WEBHOOK_ADDR")
            .unwrap_or_else(|| "127.0.0.1:9090".to_owned())
            .parse()
            .map_err(|e| format!("--webhook-addr: {e}"))?
    };
    let secrets: Vec<&[u8]> = webhook_secret.split(',').map(str::as_bytes).collect();
    let (hook_addr, receiver, mut webhooks) = agent::spawn_receiver(webhook_addr, &secrets)
        .await
        .map_err(|e| e.to_string())?;
    println!("webhook receiver: http://{hook_addr}{ORDER_EVENTS_PATH}");

    let mut config = agent::PurchaseConfig {
        merchant_url: flags
            .get("merchant-url", "ACP_MERCHANT_URL")
            .unwrap_or_else(|| "http://127.0.0.1:8080".to_owned()),
        merchant_api_key: flags
            .get("api-key", "ACP_API_KEY")
            .unwrap_or_else(|| config::DEV_API_KEY.to_owned()),
        vault_url: flags
            .get("vault-url", "ACP_VAULT_URL")
            .unwrap_or_else(|| "http://127.0.0.1:8081".to_owned()),
        vault_api_key: flags
            .get("vault-api-key", "VAULT_API_KEY")
            .unwrap_or_else(|| vault::DEV_AGENT_KEY.to_owned()),
        signing_secret: signing_secret.clone().into_bytes(),
        vault_signing_secret: vault_signing_secret.clone().into_bytes(),
        items: match flags.get("item", "ACP_ITEM") {
            Some(item) => vec![item],
            None => vec![
                "var_mug_pine".to_owned(),
                "var_mug_pine".to_owned(),
                "var_guide_epub".to_owned(),
            ],
        },
        coupon: Some(checkout::COUPON.0.to_owned()),
    };
    let admin_key = http::new_secret();
    if flags.has("spawn") {
        let secrets = demo::Secrets {
            admin: admin_key.clone(),
            signing: signing_secret,
            vault_signing: vault_signing_secret,
            webhook: webhook_secret
                .split(',')
                .next()
                .unwrap_or_default()
                .to_owned(),
        };
        let database_url = flags.get("database-url", "DATABASE_URL");
        let (merchant, vault) = demo::spawn_servers(secrets, hook_addr, database_url).await?;
        config.merchant_url = merchant;
        config.vault_url = vault;
    }
    let purchase = agent::run_purchase(&config, &mut |line| println!("{line}"))
        .await
        .map_err(|e| e.to_string())?;
    let back_office = spawn.then_some((config.merchant_url.as_str(), admin_key.as_str()));
    follow_the_order(&receiver, &mut webhooks, back_office).await?;
    println!("statuses: {}", purchase.statuses.join(" -> "));
    Ok(())
}

/// The order webhook, then (with the spawned merchant's back office) the merchant's shipping,
/// delivery and refund, and the order's timeline as the agent's receiver recorded it.
async fn follow_the_order(
    receiver: &agent::Receiver,
    webhooks: &mut tokio::sync::mpsc::Receiver<Delivery>,
    back_office: Option<(&str, &str)>,
) -> Result<(), String> {
    let wait = tokio::time::timeout(Duration::from_secs(10), webhooks.recv());
    let hook = wait
        .await
        .ok()
        .flatten()
        .ok_or("no order webhook arrived in time")?;
    let order = hook.order_id().unwrap_or_default().to_owned();
    println!(
        "webhook: {} for order {order} ({}), Merchant-Signature verified, sent in {}",
        hook.event_type(),
        hook.order_status().unwrap_or("-"),
        hook.version
    );
    let mut events = 1;
    if let Some((merchant, key)) = back_office {
        // The merchant's staff, after the purchase: ship, deliver, refund part (the back office
        // of the example merchant; each change reaches the agent as an `order_update`).
        events += demo::after_the_purchase(merchant, key, &order).await?;
    }
    let wait = Duration::from_secs(10);
    let timeline = agentic_commerce_axum::webhooks::timeline_with(receiver, &order, events, wait)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("order {order}: fewer than {events} events in 10 s"))?;
    let mut last = hook;
    while let Ok(delivery) = webhooks.try_recv() {
        last = delivery;
    }
    print_timeline(&timeline, &last.raw["data"]);
    Ok(())
}

/// The order as the agent knows it from the merchant's webhooks: "where is my order?".
fn print_timeline(timeline: &OrderTimeline, order: &serde_json::Value) {
    println!("order timeline (from the verified webhooks):");
    for entry in &timeline.entries {
        let mut what = Vec::new();
        for f in &entry.fulfillments {
            what.push(format!(
                "{} {} {}",
                f.kind,
                f.id,
                f.status.as_deref().unwrap_or("-")
            ));
        }
        for (id, event) in &entry.fulfillment_events {
            what.push(format!("{id}: {}", event.kind));
        }
        for a in &entry.adjustments {
            what.push(format!(
                "{} {} {}",
                a.kind,
                a.amount.map_or(0, agentic_commerce::Amount::minor_units),
                a.status
            ));
        }
        println!(
            "  {} {:<10} {}",
            entry.event_type,
            entry.status,
            what.join("; ")
        );
    }
    println!(
        "  permalink: {}",
        order["permalink_url"].as_str().unwrap_or("-")
    );
    let support = &order["support"];
    println!(
        "  support: {} ({})",
        support["email"].as_str().unwrap_or("-"),
        support["hours"].as_str().unwrap_or("-")
    );
    if let Some(tracking) = order["fulfillments"][0]["tracking_url"].as_str() {
        println!("  tracking: {tracking}");
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let flags = match flags::Flags::parse(std::env::args().skip(1), VALUED, &["spawn"]) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("agent_client: {e}");
            return ExitCode::from(2);
        }
    };
    if flags.help() {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match run(&flags).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("agent_client: {e}");
            ExitCode::FAILURE
        }
    }
}
