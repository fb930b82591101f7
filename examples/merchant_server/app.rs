//! The example merchant's ACP glue: [`Shop`] (its business: `checkout.rs`, `catalog.rs`) served
//! by the crate's merchant engine, mounted on axum, stored in memory or in PostgreSQL. The engine
//! does the protocol (routing, headers, authentication, versions, signatures, idempotency, the
//! upgrade of older requests, the state machine and the claim before a complete, capability
//! negotiation, the business rules, the downgrade, ACP errors, carts, MCP at `/mcp`, discovery).

use std::future::IntoFuture as _;
use std::net::SocketAddr;
use std::sync::Arc;

use agentic_commerce::engine::merchant::{BearerKeys, Context, Identity, Merchant, MerchantEngine};
use agentic_commerce::engine::outbox::OutboxStore;
use agentic_commerce::protocol::capabilities::SellerOffer;
use agentic_commerce::protocol::headers::Operation;
use agentic_commerce::protocol::version::{ApiVersion, convert::UpgradeDefaults};
use agentic_commerce::spec::latest::agentic_checkout::{
    CancelSessionRequest, CheckoutSession, CheckoutSessionCompleteRequest,
    CheckoutSessionCreateRequest, CheckoutSessionUpdateRequest, CheckoutStatus, InterventionType,
};
use agentic_commerce::spec::latest::cart::{Cart, CartCreateRequest, CartUpdateRequest};
use agentic_commerce::trust::signature::{Algorithm, HmacSha256Key, SignedContent, Verifier};
use agentic_commerce::{AcpError, parse};
use axum::Router;

use super::checkout::{self, Shop};
use super::config::Config;
use super::orders::{OrderStore, Outbox};

impl Merchant for Shop {
    const SERVES_CARTS: bool = true;

    async fn create_checkout(
        &self,
        ctx: &Context,
        request: CheckoutSessionCreateRequest,
    ) -> Result<CheckoutSession, AcpError> {
        self.create(ctx.capabilities.as_ref(), &request, ctx.now)
            .await
    }

    async fn update_checkout(
        &self,
        ctx: &Context,
        session: CheckoutSession,
        request: CheckoutSessionUpdateRequest,
    ) -> Result<CheckoutSession, AcpError> {
        self.update(&session, &request, ctx.now).await
    }

    async fn complete_checkout(
        &self,
        ctx: &Context,
        session: CheckoutSession,
        request: CheckoutSessionCompleteRequest,
    ) -> Result<CheckoutSession, AcpError> {
        self.complete(&session, &request, ctx.now).await
    }

    async fn cancel_checkout(
        &self,
        ctx: &Context,
        session: CheckoutSession,
        _: Option<CancelSessionRequest>,
    ) -> Result<CheckoutSession, AcpError> {
        self.cancel(&session, ctx.now).await
    }

    async fn create_cart(&self, _: &Context, request: CartCreateRequest) -> Result<Cart, AcpError> {
        self.cart(None, &request.line_items).await
    }

    async fn update_cart(
        &self,
        _: &Context,
        cart: Cart,
        r: CartUpdateRequest,
    ) -> Result<Cart, AcpError> {
        self.cart(Some(cart.id.as_str()), &r.line_items).await
    }

    /// The engine committed the order and its `order_create` event with the completed session
    /// (`order_webhooks` in [`serve`]); the worker sends it now rather than at its next round.
    fn checkout_committed(&self, _: &Context, op: Operation, session: &CheckoutSession) {
        if op == Operation::CompleteCheckoutSession && session.status == CheckoutStatus::Completed {
            if let Some(outbox) = &self.outbox {
                outbox.wake();
            }
        }
    }
}

/// The engine serving `shop` from `store`, as an axum router.
fn serve<S: OutboxStore + 'static>(shop: Shop, store: S, c: &Config) -> Result<Router, String> {
    // What an older agent's request cannot carry: the catalog's currency, no capabilities, the
    // card handler for the old `stripe` provider, and `quantity` as repeated items (CHK-03).
    let mut defaults = UpgradeDefaults::new()
        .capabilities(serde_json::json!({}))
        .payment_handler("stripe", "card_tokenized", "card", "spt")
        .quantity_as_repeated_items(checkout::MAX_REQUEST_UNITS);
    if let Some(currency) = shop.catalog.currency() {
        defaults = defaults.currency(currency);
    }
    // Negotiated on create (NEG-01..11): cards delegated to the PSP vault, and 3-D Secure.
    let handler = parse::from_value(&checkout::payment_handler(&shop.merchant_id));
    let offer = SellerOffer {
        interventions: vec![InterventionType::from("3ds")],
        payment_handlers: vec![handler.map_err(|e| format!("payment handler: {e}"))?],
        ..SellerOffer::default()
    };
    let base = url::Url::parse(&shop.base_url).map_err(|e| format!("public URL: {e}"))?;
    let keys = BearerKeys::new().key(c.api_key.clone(), Identity::new("agent"));
    // WH-09: the recipient is the URL, so merchants sharing a database each deliver their own
    // events; without a URL no order is recorded (nothing would deliver it).
    let webhook_url = shop.webhook.0.clone();
    let mut engine = MerchantEngine::builder(shop, store, keys)
        .versions(ApiVersion::RELEASED)
        .upgrade_defaults(defaults)
        .seller_offer(offer)
        .api_base_url(base);
    if let Some(secret) = &c.signing_secret {
        // The timestamp is signed with the body (a body-less cancel: the empty content).
        let key = HmacSha256Key::new(secret).map_err(|e| format!("signing secret: {e}"))?;
        let verifier = Verifier::new([Algorithm::HS256]).with_key("agent", key);
        engine = engine.verifier(verifier.with_signed_content(SignedContent::TimestampAndBody));
    }
    if let Some(url) = webhook_url {
        engine = engine.order_webhooks(move |_| Some(url.clone()));
    }
    let engine = engine.build().map_err(|e| e.to_string())?;
    Ok(agentic_commerce_axum::router(Arc::new(engine)).into_router())
}

/// Binds `addr` (port 0: ephemeral) and serves in the background; returns the bound address
/// once it accepts connections, or why it cannot serve (bind, settings, database).
pub(crate) async fn spawn(c: Config, addr: SocketAddr) -> Result<(SocketAddr, Server), String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("bind {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let mut shop = Shop::new(&c, local)?;
    let store = OrderStore::open(&c).await?;
    let outbox = Outbox::new(store.clone());
    if let Some(url) = &shop.webhook.0 {
        // Also picks up what a previous run of this merchant left undelivered (PostgreSQL).
        let (http, secret) = (shop.http.clone(), shop.webhook.1.clone());
        outbox.spawn_worker(http, url.clone(), secret, &c);
    }
    shop.outbox = Some(outbox.clone());
    let (feed, catalog) = (shop.feed.clone(), Arc::clone(&shop.catalog));
    if let Some(feed) = &feed {
        feed.start();
    }
    // The engine and the outbox share the store: the engine commits the orders and their
    // events, the worker delivers them.
    let app = match store {
        OrderStore::Memory(memory) => serve(shop, memory, &c)?,
        OrderStore::Pg(pg) => serve(shop, pg, &c)?,
    };
    let app = app.merge(super::admin::router(
        outbox,
        c.admin_key.clone(),
        catalog,
        feed,
    ));
    let server = tokio::spawn(axum::serve(listener, app).into_future());
    Ok((local, server))
}

/// The running server: ends only with its I/O error.
pub(crate) type Server = tokio::task::JoinHandle<std::io::Result<()>>;
