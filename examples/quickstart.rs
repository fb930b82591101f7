//! The crate in one process: an agent, a merchant and a payment provider
//! (PSP) run one purchase through the protocol pieces the crate provides.
//!
//! Run: `cargo run --example quickstart`
//!
//! Each step prints what happened. There is no network here: the bytes that
//! would travel over HTTP are handed from one party to the next.

use std::error::Error;

use agentic_commerce::parse;
use agentic_commerce::primitives::{Amount, Currency};
use agentic_commerce::protocol::headers::{IdempotencyKey, Operation, RequestHeaders};
use agentic_commerce::protocol::version::{self, ApiVersion};
use agentic_commerce::spec::v2026_04_17::agentic_checkout::{
    Capabilities, CheckoutSession, CheckoutSessionCreateRequest, CheckoutStatus, Item, LineItem,
    Link, LinkType, Total, TotalType,
};
use agentic_commerce::spec::v2026_04_17::agentic_checkout_webhook::WebhookEvent;
use agentic_commerce::trust::allowance::{
    self, AllowanceTerms, InMemoryTokenLedger, ProposedCharge,
};
use agentic_commerce::trust::idempotency::{
    Fingerprint, IdempotencyOutcome, IdempotencyScope, IdempotencyStore, InMemoryIdempotencyStore,
    StoredResponse,
};
use agentic_commerce::trust::signature::{
    Algorithm, HmacSha256Key, RequestSigner, SignedRequest, Verifier,
};
use agentic_commerce::trust::webhook::{self, WebhookSecret, WebhookVerifier};
use time::OffsetDateTime;

fn step(n: u32, text: &str) {
    println!("\n[{n}] {text}");
}

#[allow(clippy::too_many_lines)] // one linear story, easier to follow in one place
fn main() -> Result<(), Box<dyn Error>> {
    let now = OffsetDateTime::now_utc();
    let request_key = b"request-signing secret agreed out of band";

    // ---- Agent ---------------------------------------------------------
    step(1, "agent builds and signs a create-checkout request");
    let body = br#"{"line_items":[{"id":"sku_tee_black_m"}],"currency":"usd",
        "capabilities":{"interventions":{"supported":["3ds"]}}}"#;
    let signed = RequestSigner::new(HmacSha256Key::new(request_key)?).sign(body, now)?;
    let headers = [
        ("Authorization", "Bearer demo-api-key"),
        ("Content-Type", "application/json"),
        ("API-Version", "2026-04-17"),
        ("Idempotency-Key", "4f1f4a0e-2b5b-4d7e-9a55-6a1c1f0b7e21"),
        ("Signature", signed.signature.as_str()),
        ("Timestamp", signed.timestamp.as_str()),
    ];
    println!("    Signature: {}", signed.signature);

    // ---- Merchant ------------------------------------------------------
    step(2, "merchant checks the headers and negotiates the version");
    let parsed = RequestHeaders::parse(Operation::CreateCheckoutSession, headers)
        .map_err(|e| format!("header problems: {e:?}"))?;
    let api_version = version::negotiate(ApiVersion::RELEASED, headers.get(2).map(|h| h.1))?;
    println!(
        "    API-Version {api_version}, idempotency key {:?}",
        parsed.idempotency_key().map(IdempotencyKey::as_str)
    );

    step(
        3,
        "merchant verifies the request signature over the canonical body",
    );
    let verifier =
        Verifier::new([Algorithm::HS256]).with_key("agent-1", HmacSha256Key::new(request_key)?);
    let proof = verifier.verify(
        &SignedRequest {
            body,
            signature: Some(&signed.signature),
            timestamp: Some(&signed.timestamp),
        },
        now,
    )?;
    println!("    verified with key {}", proof.key_id());

    step(4, "merchant reserves the idempotency key");
    let store = InMemoryIdempotencyStore::default();
    let key = parsed
        .idempotency_key()
        .cloned()
        .ok_or("Idempotency-Key is required")?;
    let scope = IdempotencyScope::new("agent-1", "/checkout_sessions", key);
    let fingerprint = Fingerprint::of_json(body)?;
    let IdempotencyOutcome::Proceed(lease) = store.begin(&scope, &fingerprint, now)? else {
        return Err("a new key must proceed".into());
    };
    println!("    fingerprint {}", fingerprint.to_hex());

    step(
        5,
        "merchant parses the body (lenient) and builds the session",
    );
    let request: CheckoutSessionCreateRequest = parse::from_slice(body)?;
    let usd = Currency::new("usd")?;
    let item = Item::new(request.line_items[0].id.clone());
    let price = Amount::new(2500);
    let line = LineItem::new(
        "li_1",
        item,
        1,
        vec![Total::new(TotalType::Subtotal, "Subtotal", price)],
    );
    let mut capabilities = Capabilities::new();
    capabilities
        .interventions
        .clone_from(&request.capabilities.interventions);
    let session = CheckoutSession::new(
        "cs_demo_1",
        capabilities,
        CheckoutStatus::ReadyForPayment,
        usd,
        vec![line],
        vec![],
        vec![Total::new(TotalType::Total, "Total", price)],
        vec![],
        vec![Link::new(
            LinkType::TermsOfUse,
            "https://shop.example/terms".parse()?,
        )],
    );
    let response = parse::to_vec(&session)?;
    // Validate our own response strictly before sending it.
    parse::from_slice_strict::<CheckoutSession>(&response)?;
    store.complete(
        &scope,
        lease,
        StoredResponse::new(201, response.clone(), vec![]),
        now,
    )?;
    println!(
        "    201 {} bytes, status {}",
        response.len(),
        session.status
    );

    step(
        6,
        "the agent retries the same request: the merchant replays",
    );
    match store.begin(&scope, &fingerprint, now)? {
        IdempotencyOutcome::Replay(stored) => {
            println!(
                "    replayed {} with Idempotent-Replayed: true",
                stored.status
            );
        }
        other => return Err(format!("expected a replay, got {other:?}").into()),
    }

    // ---- PSP -----------------------------------------------------------
    step(
        7,
        "PSP checks the charge against the delegated token's allowance",
    );
    let terms = AllowanceTerms {
        reason: allowance::AllowanceReason::one_time(),
        max_amount: 2500,
        currency: "usd".into(),
        checkout_session_id: "cs_demo_1".into(),
        merchant_id: "merchant_demo".into(),
        expires_at: now + time::Duration::minutes(15),
    };
    let charge = ProposedCharge {
        amount: 2500,
        currency: "USD".into(),
        checkout_session_id: "cs_demo_1".into(),
        merchant_id: "merchant_demo".into(),
    };
    let ledger = InMemoryTokenLedger::new();
    allowance::authorize_charge(&ledger, "vt_demo_1", &terms, &charge, now)?;
    println!("    charged 2500 usd once");
    let reuse = allowance::authorize_charge(&ledger, "vt_demo_1", &terms, &charge, now);
    println!("    second use rejected: {}", reuse.is_err());

    // ---- Merchant -> agent webhook -------------------------------------
    step(
        8,
        "merchant signs the order webhook; agent verifies, then parses",
    );
    let secret = WebhookSecret::new(b"whsec_demo_0123456789".to_vec())?;
    let event = br#"{"type":"order_create","data":{"type":"order","id":"ord_1",
        "checkout_session_id":"cs_demo_1","permalink_url":"https://shop.example/orders/1",
        "status":"confirmed"}}"#;
    let header = webhook::sign(&secret, now, event)?;
    let checked = WebhookVerifier::new(secret).verify(Some(&header), event, now)?;
    let event: WebhookEvent = checked.parse()?;
    println!("    {} for order {}", event.kind, event.data.id);

    println!("\nall steps succeeded");
    Ok(())
}
