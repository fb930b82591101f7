//! The smallest complete ACP merchant: a flat-priced catalog and sessions in memory; the engine
//! does every protocol step. `cargo run --example minimal_merchant -- [ADDR]`
use agentic_commerce::engine::merchant::prelude::*;
use agentic_commerce::parse::{from_value, schema::WireType};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::net::TcpListener;

const PRICE: i64 = 2500; // every item, in minor units
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
type Answer = Result<CheckoutSession, AcpError>;
fn typed<T: WireType>(value: &Value) -> Result<T, AcpError> {
    from_value(value).map_err(|e| AcpError::processing_error(e.to_string()))
}
fn totals(amount: i64) -> Value {
    json!([{"type": "subtotal", "display_text": "Subtotal", "amount": amount},
        {"type": "total", "display_text": "Total", "amount": amount}])
}
struct Shop;
impl Merchant for Shop {
    async fn create_checkout(&self, _: &Context, request: CheckoutSessionCreateRequest) -> Answer {
        let line = |item: &Item| {
            json!({"id": format!("li_{}", item.id), "item": item,
            "quantity": 1, "name": item.id, "unit_amount": PRICE, "totals": totals(PRICE)})
        };
        let lines: Vec<Value> = request.line_items.iter().map(line).collect();
        let amount = PRICE * i64::try_from(lines.len()).unwrap_or(i64::MAX);
        let terms = json!([{"type": "terms_of_use", "url": "https://shop.example/terms"}]);
        let session = json!({"id": format!("cs_{}", NEXT_ID.fetch_add(1, Ordering::Relaxed)),
            "status": "not_ready_for_payment", "capabilities": {}, "currency": request.currency,
            "line_items": lines, "fulfillment_options": [], "totals": totals(amount),
            "messages": [], "links": terms});
        typed(&session)
    }

    async fn update_checkout(
        &self,
        _: &Context,
        mut session: CheckoutSession,
        request: CheckoutSessionUpdateRequest,
    ) -> Answer {
        if let Some(details) = request.fulfillment_details.as_set() {
            session.fulfillment_details = Some(details.clone());
            session.status = CheckoutStatus::ReadyForPayment;
        }
        Ok(session)
    }

    async fn complete_checkout(
        &self,
        _: &Context,
        mut session: CheckoutSession,
        _: CheckoutSessionCompleteRequest,
    ) -> Answer {
        // Charge the delegated token (`payment_data.instrument.credential`) at your PSP here.
        let id = session.id.as_str();
        let order = json!({"id": format!("ord_{id}"), "checkout_session_id": id,
            "permalink_url": format!("https://shop.example/orders/{id}")});
        session.order = Some(typed(&order)?);
        session.status = CheckoutStatus::Completed;
        Ok(session)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1);
    let listener = TcpListener::bind(addr.as_deref().unwrap_or("127.0.0.1:8080")).await?;
    let base = format!("http://{}/", listener.local_addr()?);
    let agents = BearerKeys::new().key("dev-merchant-key", Identity::new("agent"));
    let engine = MerchantEngine::builder(Shop, InMemoryStore::default(), agents)
        .api_base_url(base.parse()?)
        .versions(&[ApiVersion::LATEST]) // older agents' requests need `upgrade_defaults`
        // The agent pays with a card token it delegates to your PSP (here "stripe").
        .payment_handler(tokenized_card_handler("card", "stripe", "minimal_shop"))
        .build()?;
    println!("listening on {}", base.trim_end_matches('/'));
    let app = agentic_commerce_axum::router(std::sync::Arc::new(engine)).into_router();
    Ok(axum::serve(listener, app).await?)
}
