//! The merchant engine: every ACP operation a merchant serves, from one typed trait.
//!
//! A merchant implements [`Merchant`]: one method per operation, each given the 2026-04-17
//! request (whatever version the agent speaks) and a [`Context`], each returning the typed
//! resource or an [`AcpError`]. [`MerchantEngine`] does everything else, in this order:
//!
//! 1. routing (`404`, `405` with `Allow`), a body-size cap (`413`);
//! 2. typed headers (HDR-01..), authentication through an [`Authenticator`] that names the
//!    caller's [`Identity`] (`401`);
//! 3. `API-Version` negotiation over the configured versions (VER-01..05);
//! 4. request signature verification (SIG-01..04) when a [`Verifier`] is configured;
//! 5. idempotency scoped by identity, path and key, with fenced leases (IDEM-03..17); the
//!    version is part of the fingerprint (IDEM-11);
//! 6. parsing in the caller's version, lenient or strict ([`EngineBuilder::strict`]), and the
//!    upgrade to 2026-04-17 with the merchant's [`UpgradeDefaults`] (a request is refused, never
//!    altered, when it cannot be carried);
//! 7. the checkout state machine ([`crate::checkout`]): an event the session's status does not
//!    accept is refused before the business method runs, and a status the business method
//!    returns that the operation cannot lead to is never sent (a `500`, logged by the caller's
//!    [`EngineEvents`]); a complete first claims the session (`complete_in_progress`, a
//!    compare-and-swap write), so two completes can never both charge;
//!    sessions and carts expire ([`expiry`]): `expires_at` is set on create and refreshed on
//!    update, an expired session reads as `expired` and accepts no write (`405` `expired`),
//!    and the claim of a complete checks expiry on the very version it replaces;
//! 8. capability negotiation on create (NEG-01..11), written into the session;
//! 9. the business-rule check of every outgoing session and cart ([`crate::rules`]): a MUST
//!    violation is never sent;
//! 10. the downgrade of the response to the caller's version;
//! 11. ACP errors with their status and `param` (in the caller's version's paths), and the
//!     response headers `API-Version`, `Idempotent-Replayed`, `Request-Id`, `Idempotency-Key`.
//!
//! Sessions and carts are stored by the engine in a [`ResourceStore`] (optimistic concurrency,
//! committed with the idempotency record), owned by the identity that created them: another
//! caller gets `404`. With [`EngineBuilder::order_webhooks`] (an
//! [`OutboxStore`]), the order of a completed session and its `order_create` webhook event are
//! committed in that same commit (WH-09; see [`orders`]).
//!
//! The same pipeline serves the MCP binding (JSON-RPC `tools/call` on one endpoint, see
//! [`crate::protocol::mcp`]): `meta` carries the version, idempotency key, signature and
//! timestamp, the `Authorization` header the caller.
//!
//! # Example
//!
//! ```
//! use agentic_commerce::engine::merchant::{
//!     BearerKeys, Context, Identity, Merchant, MerchantEngine,
//! };
//! use agentic_commerce::engine::store::InMemoryStore;
//! use agentic_commerce::spec::latest::agentic_checkout::{
//!     CheckoutSession, CheckoutSessionCompleteRequest, CheckoutSessionCreateRequest,
//!     CheckoutSessionUpdateRequest, CheckoutStatus,
//! };
//! use agentic_commerce::AcpError;
//!
//! struct Shop;
//!
//! impl Merchant for Shop {
//!     async fn create_checkout(
//!         &self,
//!         _ctx: &Context,
//!         request: CheckoutSessionCreateRequest,
//!     ) -> Result<CheckoutSession, AcpError> {
//!         // Price the items, build the session …
//!         Err(AcpError::processing_error("not implemented in this example"))
//!     }
//!     async fn update_checkout(
//!         &self,
//!         _ctx: &Context,
//!         session: CheckoutSession,
//!         _request: CheckoutSessionUpdateRequest,
//!     ) -> Result<CheckoutSession, AcpError> {
//!         Ok(session)
//!     }
//!     async fn complete_checkout(
//!         &self,
//!         _ctx: &Context,
//!         mut session: CheckoutSession,
//!         _request: CheckoutSessionCompleteRequest,
//!     ) -> Result<CheckoutSession, AcpError> {
//!         // Charge the delegated token, create the order …
//!         session.status = CheckoutStatus::Completed;
//!         Ok(session)
//!     }
//! }
//!
//! let engine = MerchantEngine::builder(
//!     Shop,
//!     InMemoryStore::default(),
//!     BearerKeys::new().key("a-long-api-key-for-the-agent", Identity::new("agent")),
//! )
//! .api_base_url("https://shop.example/".parse().unwrap())
//! .build()
//! .unwrap();
//! # let _ = engine;
//! ```

pub mod expiry;
mod lifecycle;
mod mcp;
pub mod orders;
mod pipeline;

/// What a merchant implementation needs, in one import: `use
/// agentic_commerce::engine::merchant::prelude::*;`.
pub mod prelude {
    pub use super::{
        Authenticator, BearerKeys, Context, EngineBuilder, Identity, Merchant, MerchantEngine,
    };
    pub use crate::engine::store::InMemoryStore;
    pub use crate::protocol::capabilities::{SellerOffer, tokenized_card_handler};
    pub use crate::protocol::error::AcpError;
    pub use crate::protocol::version::ApiVersion;
    pub use crate::spec::latest::agentic_checkout::{
        CancelSessionRequest, CheckoutSession, CheckoutSessionCompleteRequest,
        CheckoutSessionCreateRequest, CheckoutSessionUpdateRequest, CheckoutStatus, Item,
    };
    pub use crate::spec::latest::cart::{
        Cart, CartCancelRequest, CartCreateRequest, CartUpdateRequest,
    };
}

use std::future::Future;

use time::OffsetDateTime;

use crate::protocol::capabilities::SellerOffer;
use crate::protocol::discovery::DiscoveryBuilder;
use crate::protocol::error::AcpError;
use crate::protocol::headers::{IdempotencyKey, Operation, RequestId};
use crate::protocol::version::ApiVersion;
use crate::protocol::version::convert::UpgradeDefaults;
use crate::spec::latest::agentic_checkout::{
    CancelSessionRequest, Capabilities, CheckoutSession, CheckoutSessionCompleteRequest,
    CheckoutSessionCreateRequest, CheckoutSessionUpdateRequest, CheckoutStatus, DiscoveryResponse,
    DiscoveryService,
};
use crate::spec::latest::cart::{Cart, CartCancelRequest, CartCreateRequest, CartUpdateRequest};
use crate::trust::signature::Verifier;

use super::outbox::OutboxStore;
use super::store::ResourceStore;

pub use pipeline::Binding;

// Shared with the PSP engine; defined in [`crate::engine::auth`] and re-exported here.
pub use super::auth::{Authenticator, BearerKeys, Identity};

/// What a business method knows about the request it serves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Context {
    /// The authenticated caller.
    pub identity: Identity,
    /// The negotiated API version (the request arrived, and the response leaves, in it; the
    /// business method always sees 2026-04-17).
    pub version: ApiVersion,
    /// The caller's `Request-Id`, if sent.
    pub request_id: Option<RequestId>,
    /// The idempotency key of a write (a fresh one for an older agent that sent none).
    pub idempotency_key: Option<IdempotencyKey>,
    /// The session's capabilities: on create, the negotiated intersection of the agent's and
    /// the seller's ([`EngineBuilder::seller_offer`]); afterwards, the stored session's.
    pub capabilities: Option<Capabilities>,
    /// `Accept-Language`, as sent.
    pub accept_language: Option<String>,
    /// When the engine received the request.
    pub now: OffsetDateTime,
    /// REST or MCP.
    pub binding: Binding,
}

/// A merchant's business logic: one typed method per ACP operation. The engine calls them with
/// checked, upgraded requests and stores and sends what they return after checking it.
///
/// Implement the checkout methods; the cart methods answer `404` until
/// [`SERVES_CARTS`](Self::SERVES_CARTS) is `true` and they are implemented.
pub trait Merchant: Send + Sync {
    /// Whether the merchant serves carts (the discovery document lists the `carts` service).
    const SERVES_CARTS: bool = false;

    /// `POST /checkout_sessions`: a new session, with a fresh id. Its status must be one a
    /// session can start in (`incomplete`, `not_ready_for_payment`, `ready_for_payment`, or
    /// one a merchant-side event leads to from there).
    fn create_checkout(
        &self,
        ctx: &Context,
        request: CheckoutSessionCreateRequest,
    ) -> impl Future<Output = Result<CheckoutSession, AcpError>> + Send;

    /// `POST /checkout_sessions/{id}`: `session` with the update applied.
    fn update_checkout(
        &self,
        ctx: &Context,
        session: CheckoutSession,
        request: CheckoutSessionUpdateRequest,
    ) -> impl Future<Output = Result<CheckoutSession, AcpError>> + Send;

    /// `GET /checkout_sessions/{id}`: the stored session, refreshed if the merchant wishes (its
    /// status cannot change here).
    fn retrieve_checkout(
        &self,
        ctx: &Context,
        session: CheckoutSession,
    ) -> impl Future<Output = Result<CheckoutSession, AcpError>> + Send {
        let _ = ctx;
        async move { Ok(session) }
    }

    /// `POST /checkout_sessions/{id}/complete`. `session` is already claimed by this request
    /// (`complete_in_progress`, stored), so no other complete runs for it concurrently. Charge
    /// the payment and return the outcome: `completed` with the order, `ready_for_payment` after
    /// a decline (with a message), `authentication_required`, `pending_approval`, or still
    /// `complete_in_progress`. An `Err` puts the session back as it was before the claim: return
    /// one only when nothing was charged.
    fn complete_checkout(
        &self,
        ctx: &Context,
        session: CheckoutSession,
        request: CheckoutSessionCompleteRequest,
    ) -> impl Future<Output = Result<CheckoutSession, AcpError>> + Send;

    /// `POST /checkout_sessions/{id}/cancel`: the canceled session. The default sets the
    /// status to `canceled`.
    fn cancel_checkout(
        &self,
        ctx: &Context,
        mut session: CheckoutSession,
        request: Option<CancelSessionRequest>,
    ) -> impl Future<Output = Result<CheckoutSession, AcpError>> + Send {
        let _ = (ctx, request);
        session.status = CheckoutStatus::Canceled;
        async move { Ok(session) }
    }

    /// `POST /carts`: a new cart with a fresh id.
    fn create_cart(
        &self,
        ctx: &Context,
        request: CartCreateRequest,
    ) -> impl Future<Output = Result<Cart, AcpError>> + Send {
        let _ = (ctx, request);
        async move { Err(AcpError::not_found("cart")) }
    }

    /// `GET /carts/{id}`: the stored cart, refreshed if the merchant wishes.
    fn retrieve_cart(
        &self,
        ctx: &Context,
        cart: Cart,
    ) -> impl Future<Output = Result<Cart, AcpError>> + Send {
        let _ = ctx;
        async move { Ok(cart) }
    }

    /// `PUT /carts/{id}`: the cart with its items replaced by the request's.
    fn update_cart(
        &self,
        ctx: &Context,
        cart: Cart,
        request: CartUpdateRequest,
    ) -> impl Future<Output = Result<Cart, AcpError>> + Send {
        let _ = (ctx, cart, request);
        async move { Err(AcpError::not_found("cart")) }
    }

    /// `POST /carts/{id}/cancel`: the cart's final state (afterwards it is gone: `404`).
    fn cancel_cart(
        &self,
        ctx: &Context,
        cart: Cart,
        request: Option<CartCancelRequest>,
    ) -> impl Future<Output = Result<Cart, AcpError>> + Send {
        let _ = (ctx, request);
        async move { Ok(cart) }
    }

    /// The discovery document (`GET /.well-known/acp.json`), from the engine's configuration
    /// (base URL, versions, services, MCP); add currencies, locales, extensions here.
    fn discovery(&self, builder: DiscoveryBuilder) -> DiscoveryBuilder {
        builder
    }

    /// Called once a successful write on a checkout session (`operation`) is committed with
    /// its response, before the response is sent; `session` is what was stored. Not called
    /// for a replay, an error or a write that was not committed (a crash may also come between
    /// the commit and this call: what must not be lost belongs in the commit, as the order and
    /// its webhook do with [`EngineBuilder::order_webhooks`]). The place for side effects
    /// that follow the commit, such as waking an outbox worker; it must not block (spawn the
    /// work). The default does nothing.
    fn checkout_committed(&self, ctx: &Context, operation: Operation, session: &CheckoutSession) {
        let _ = (ctx, operation, session);
    }
}

/// A shared merchant serves like the merchant itself (keep an `Arc` to it elsewhere, for
/// example for admin endpoints).
impl<M: Merchant + ?Sized> Merchant for std::sync::Arc<M> {
    const SERVES_CARTS: bool = M::SERVES_CARTS;

    fn create_checkout(
        &self,
        ctx: &Context,
        request: CheckoutSessionCreateRequest,
    ) -> impl Future<Output = Result<CheckoutSession, AcpError>> + Send {
        (**self).create_checkout(ctx, request)
    }

    fn update_checkout(
        &self,
        ctx: &Context,
        session: CheckoutSession,
        request: CheckoutSessionUpdateRequest,
    ) -> impl Future<Output = Result<CheckoutSession, AcpError>> + Send {
        (**self).update_checkout(ctx, session, request)
    }

    fn retrieve_checkout(
        &self,
        ctx: &Context,
        session: CheckoutSession,
    ) -> impl Future<Output = Result<CheckoutSession, AcpError>> + Send {
        (**self).retrieve_checkout(ctx, session)
    }

    fn complete_checkout(
        &self,
        ctx: &Context,
        session: CheckoutSession,
        request: CheckoutSessionCompleteRequest,
    ) -> impl Future<Output = Result<CheckoutSession, AcpError>> + Send {
        (**self).complete_checkout(ctx, session, request)
    }

    fn cancel_checkout(
        &self,
        ctx: &Context,
        session: CheckoutSession,
        request: Option<CancelSessionRequest>,
    ) -> impl Future<Output = Result<CheckoutSession, AcpError>> + Send {
        (**self).cancel_checkout(ctx, session, request)
    }

    fn create_cart(
        &self,
        ctx: &Context,
        request: CartCreateRequest,
    ) -> impl Future<Output = Result<Cart, AcpError>> + Send {
        (**self).create_cart(ctx, request)
    }

    fn retrieve_cart(
        &self,
        ctx: &Context,
        cart: Cart,
    ) -> impl Future<Output = Result<Cart, AcpError>> + Send {
        (**self).retrieve_cart(ctx, cart)
    }

    fn update_cart(
        &self,
        ctx: &Context,
        cart: Cart,
        request: CartUpdateRequest,
    ) -> impl Future<Output = Result<Cart, AcpError>> + Send {
        (**self).update_cart(ctx, cart, request)
    }

    fn cancel_cart(
        &self,
        ctx: &Context,
        cart: Cart,
        request: Option<CartCancelRequest>,
    ) -> impl Future<Output = Result<Cart, AcpError>> + Send {
        (**self).cancel_cart(ctx, cart, request)
    }

    fn discovery(&self, builder: DiscoveryBuilder) -> DiscoveryBuilder {
        (**self).discovery(builder)
    }

    fn checkout_committed(&self, ctx: &Context, operation: Operation, session: &CheckoutSession) {
        (**self).checkout_committed(ctx, operation, session);
    }
}

/// What the engine reports for the operator (never sent to the caller): outgoing resources
/// refused by the rules or the state machine, conversion losses, storage failures.
pub trait EngineEvents: Send + Sync {
    /// Something the operator should see. The default writes nothing.
    fn report(&self, event: &EngineEvent<'_>) {
        let _ = event;
    }
}

/// One operator-facing event; see [`EngineEvents`].
#[derive(Debug)]
#[non_exhaustive]
pub enum EngineEvent<'a> {
    /// A resource the business method returned was not sent (a `500` went out instead).
    Refused {
        /// The resource id.
        id: &'a str,
        /// Why.
        reason: &'a str,
    },
    /// A storage operation failed.
    Storage {
        /// The error.
        error: &'a (dyn std::error::Error + Send + Sync),
    },
    /// Information the caller's version could not carry (a downgrade or upgrade loss).
    Loss {
        /// The version.
        version: &'a ApiVersion,
        /// What was lost.
        detail: String,
    },
}

/// [`EngineEvents`] that reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl EngineEvents for Silent {}

/// [`EngineEvents`] that prints every event to standard error.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stderr;

impl EngineEvents for Stderr {
    fn report(&self, event: &EngineEvent<'_>) {
        match event {
            EngineEvent::Refused { id, reason } => eprintln!("acp engine: refused {id}: {reason}"),
            EngineEvent::Storage { error } => eprintln!("acp engine: storage: {error}"),
            EngineEvent::Loss { version, detail } => {
                eprintln!("acp engine: {version} lost {detail}");
            }
        }
    }
}

/// The default cap on a request body: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// Why [`EngineBuilder::build`] failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// No API base URL was configured (the discovery document needs it).
    #[error("the engine needs an API base URL (EngineBuilder::api_base_url)")]
    MissingBaseUrl,
    /// No version, or a version this crate does not model.
    #[error("unsupported API versions: {0}")]
    Versions(String),
    /// The discovery document does not validate.
    #[error("invalid discovery document: {0}")]
    Discovery(String),
}

/// Configures a [`MerchantEngine`].
pub struct EngineBuilder<M, S, A> {
    merchant: M,
    store: S,
    authenticator: A,
    versions: Vec<ApiVersion>,
    verifier: Option<Verifier>,
    strict: bool,
    defaults: UpgradeDefaults,
    offer: SellerOffer,
    api_base_url: Option<url::Url>,
    mcp_path: Option<String>,
    max_body_bytes: usize,
    events: Box<dyn EngineEvents>,
    session_ttl: time::Duration,
    cart_ttl: time::Duration,
    order_recipient: Option<OrderRecipient>,
}

/// Where an identity's order webhooks go; see [`EngineBuilder::order_webhooks`].
type OrderRecipient = Box<dyn Fn(&Identity) -> Option<String> + Send + Sync>;

impl<M: Merchant, S: OutboxStore, A: Authenticator> EngineBuilder<M, S, A> {
    /// WH-09: the engine records the order of every completed checkout session, with its
    /// `order_create` webhook event, **in the same commit** as the completed session and its
    /// idempotency response (a crash cannot keep one and lose the other). `recipient` names
    /// where the agent platform `identity`'s events go ([`NewEvent::recipient`](crate::engine::outbox::NewEvent::recipient):
    /// typically its webhook URL, or a key your [`WebhookTransport`](crate::engine::outbox::WebhookTransport)
    /// maps to one); `None`: that identity gets no order webhooks (nor a stored order).
    ///
    /// A complete that answers `status: completed` with an `order` stores that order (as
    /// [`orders::record_order_created`] does: normalized, in the caller's version, for
    /// [`MerchantEngine::record_order_change`] to change later) and enqueues its `order_create`
    /// for an [`OutboxWorker`](crate::engine::outbox::OutboxWorker) to deliver. A replay stores
    /// nothing more; the complete's claim lets one of concurrent completes win. An order the
    /// orders rules refuse, or that cannot be sent in the caller's version, is not stored (the
    /// complete still is; the operator gets an [`EngineEvent::Refused`]); an order whose id
    /// exists already fails the whole commit (`409`, nothing stored).
    ///
    /// Not set (the default): the engine stores no order and queues no event.
    #[must_use]
    pub fn order_webhooks(
        mut self,
        recipient: impl Fn(&Identity) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.order_recipient = Some(Box::new(recipient));
        self
    }
}

impl<M: Merchant, S: ResourceStore, A: Authenticator> EngineBuilder<M, S, A> {
    /// How long a checkout session lives (default [`expiry::DEFAULT_SESSION_TTL`]): a created
    /// session without `expires_at` gets `now + ttl`, and an update the merchant did not
    /// re-date moves it to `now + ttl`. See [`expiry`] for what expiry does. A zero or negative
    /// `ttl` is taken as one second.
    #[must_use]
    pub fn session_ttl(mut self, ttl: time::Duration) -> Self {
        self.session_ttl = ttl.max(time::Duration::SECOND);
        self
    }

    /// How long a cart lives (default [`expiry::DEFAULT_CART_TTL`]), as
    /// [`session_ttl`](Self::session_ttl); an expired cart is `404` (CART-02) and an update
    /// refreshes it (CART-06).
    #[must_use]
    pub fn cart_ttl(mut self, ttl: time::Duration) -> Self {
        self.cart_ttl = ttl.max(time::Duration::SECOND);
        self
    }

    /// Serves these versions (default: every released one).
    #[must_use]
    pub fn versions(mut self, versions: &[ApiVersion]) -> Self {
        self.versions = versions.to_vec();
        self
    }

    /// Verifies request signatures with `verifier` (SIG-01..04): every request with a body and
    /// every write must be signed. Without one, signatures are not checked.
    #[must_use]
    pub fn verifier(mut self, verifier: Verifier) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// Requests must also satisfy their version's official schema (unknown members, unknown
    /// enum values and closed-object violations are `400`). Default: lenient (forward
    /// compatible: what a newer agent adds is kept and ignored).
    #[must_use]
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// What an older agent's request cannot carry (see [`UpgradeDefaults`]).
    #[must_use]
    pub fn upgrade_defaults(mut self, defaults: UpgradeDefaults) -> Self {
        self.defaults = defaults;
        self
    }

    /// The seller's side of capability negotiation (interventions, payment handlers,
    /// extensions).
    #[must_use]
    pub fn seller_offer(mut self, offer: SellerOffer) -> Self {
        self.offer = offer;
        self
    }

    /// Accepts payments through `handler` (added to the seller offer's payment handlers, which
    /// capability negotiation writes into every session, NEG-04). See
    /// [`tokenized_card_handler`](crate::protocol::capabilities::tokenized_card_handler).
    #[must_use]
    pub fn payment_handler(
        mut self,
        handler: crate::spec::latest::agentic_checkout::PaymentHandler,
    ) -> Self {
        self.offer.payment_handlers.push(handler);
        self
    }

    /// The API base URL (https) advertised by the discovery document.
    #[must_use]
    pub fn api_base_url(mut self, url: url::Url) -> Self {
        self.api_base_url = Some(url);
        self
    }

    /// Serves the MCP binding at `path` (default `/mcp`); `None` turns it off.
    #[must_use]
    pub fn mcp_path(mut self, path: Option<&str>) -> Self {
        self.mcp_path = path.map(str::to_owned);
        self
    }

    /// Bodies over `bytes` are refused with `413` (default [`DEFAULT_MAX_BODY_BYTES`]).
    #[must_use]
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Where operator events go (default: [`Stderr`]).
    #[must_use]
    pub fn events(mut self, events: impl EngineEvents + 'static) -> Self {
        self.events = Box::new(events);
        self
    }

    /// The engine.
    ///
    /// # Errors
    /// [`EngineError`]: no base URL, no or unknown versions, an invalid discovery document.
    pub fn build(self) -> Result<MerchantEngine<M, S, A>, EngineError> {
        let mut versions = self.versions;
        versions.sort();
        versions.dedup();
        if versions.is_empty() {
            return Err(EngineError::Versions("none configured".to_owned()));
        }
        if let Some(unknown) = versions.iter().find(|v| !ApiVersion::RELEASED.contains(v)) {
            return Err(EngineError::Versions(unknown.to_string()));
        }
        let base = self.api_base_url.ok_or(EngineError::MissingBaseUrl)?;
        let mut builder = DiscoveryBuilder::new(base, &versions)
            .mcp(self.mcp_path.is_some())
            .service(DiscoveryService::Checkout);
        if M::SERVES_CARTS {
            builder = builder.service(DiscoveryService::Carts);
        }
        let discovery = self
            .merchant
            .discovery(builder)
            .build()
            .map_err(|findings| {
                EngineError::Discovery(
                    findings
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })?;
        let discovery_body =
            serde_json::to_vec(&discovery).map_err(|e| EngineError::Discovery(e.to_string()))?;
        Ok(MerchantEngine {
            merchant: self.merchant,
            store: self.store,
            authenticator: self.authenticator,
            versions,
            verifier: self.verifier,
            strict: self.strict,
            defaults: self.defaults,
            offer: self.offer,
            mcp_path: self.mcp_path,
            max_body_bytes: self.max_body_bytes,
            events: self.events,
            session_ttl: self.session_ttl,
            cart_ttl: self.cart_ttl,
            order_recipient: self.order_recipient,
            discovery,
            discovery_body,
        })
    }
}

/// Serves ACP for a [`Merchant`]: give it each HTTP request's parts and body, send what it
/// returns. See the [module docs](self) for what it does.
pub struct MerchantEngine<M, S, A> {
    merchant: M,
    store: S,
    authenticator: A,
    versions: Vec<ApiVersion>,
    verifier: Option<Verifier>,
    strict: bool,
    defaults: UpgradeDefaults,
    offer: SellerOffer,
    mcp_path: Option<String>,
    max_body_bytes: usize,
    events: Box<dyn EngineEvents>,
    session_ttl: time::Duration,
    cart_ttl: time::Duration,
    order_recipient: Option<OrderRecipient>,
    discovery: DiscoveryResponse,
    discovery_body: Vec<u8>,
}

impl<M, S, A> std::fmt::Debug for MerchantEngine<M, S, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MerchantEngine")
            .field("versions", &self.versions)
            .field("signatures", &self.verifier.is_some())
            .field("strict", &self.strict)
            .field("mcp_path", &self.mcp_path)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("session_ttl", &self.session_ttl)
            .field("cart_ttl", &self.cart_ttl)
            .field("order_webhooks", &self.order_recipient.is_some())
            .finish_non_exhaustive()
    }
}

impl<M: Merchant, S: ResourceStore, A: Authenticator> MerchantEngine<M, S, A> {
    /// Starts configuring an engine for `merchant`, storing in `store`, authenticating with
    /// `authenticator`.
    pub fn builder(merchant: M, store: S, authenticator: A) -> EngineBuilder<M, S, A> {
        EngineBuilder {
            merchant,
            store,
            authenticator,
            versions: ApiVersion::RELEASED.to_vec(),
            verifier: None,
            strict: false,
            defaults: UpgradeDefaults::new(),
            offer: SellerOffer::default(),
            api_base_url: None,
            mcp_path: Some("/mcp".to_owned()),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            events: Box::new(Stderr),
            session_ttl: expiry::DEFAULT_SESSION_TTL,
            cart_ttl: expiry::DEFAULT_CART_TTL,
            order_recipient: None,
        }
    }

    /// The merchant.
    pub fn merchant(&self) -> &M {
        &self.merchant
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The discovery document served at `/.well-known/acp.json`.
    pub fn discovery(&self) -> &DiscoveryResponse {
        &self.discovery
    }

    /// The served versions, oldest first.
    pub fn versions(&self) -> &[ApiVersion] {
        &self.versions
    }

    /// The body-size cap; an adapter should refuse larger bodies before buffering them.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// Serves one request at the current time.
    pub async fn handle(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
    ) -> http::Response<Vec<u8>> {
        self.handle_at(parts, body, OffsetDateTime::now_utc()).await
    }

    /// Serves one request as if received at `now` (tests, replays).
    pub async fn handle_at(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
        now: OffsetDateTime,
    ) -> http::Response<Vec<u8>> {
        // Boxed: the pipeline's state machine is large (it holds the parsed request, the
        // session and the response at once); callers then hold only a pointer across awaits.
        Box::pin(pipeline::handle(self, parts, body, now)).await
    }
}

/// A stored resource's envelope: the owner and the 2026-04-17 JSON text (`None`: gone, as a
/// canceled cart), written as JSON text without building a tree.
fn envelope(owner: &Identity, resource: Option<&str>) -> String {
    let owner = serde_json::to_string(owner.as_str()).unwrap_or_else(|_| "\"\"".to_owned());
    let resource = resource.unwrap_or("null");
    let mut out = String::with_capacity(owner.len() + resource.len() + 24);
    out.push_str("{\"owner\":");
    out.push_str(&owner);
    out.push_str(",\"resource\":");
    out.push_str(resource);
    out.push('}');
    out
}

/// A stored envelope, read without copying the resource text.
#[derive(serde::Deserialize)]
struct StoredEnvelope<'a> {
    #[serde(borrow)]
    owner: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    resource: &'a serde_json::value::RawValue,
}
