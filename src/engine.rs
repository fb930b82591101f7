//! Role engines: each ACP party's whole protocol side, framework-free, over the lower layers.
//!
//! - [`merchant`]: a merchant serves every checkout and cart operation, the MCP binding and the
//!   discovery document by implementing one typed trait ([`merchant::Merchant`]).
//! - [`psp`]: a payment service provider serves `delegate_payment` (vaulted, allowance-bound,
//!   single-use tokens), the merchant's charge of such a token, and `delegate_authentication`
//!   (3-D Secure sessions), by implementing [`psp::Vault`] and [`psp::ThreeDsProvider`].
//! - [`feeds`]: the agent platform serves the product-feed API (2026-04-17) that merchants push
//!   their catalogs to ([`feeds::FeedEngine`] over a [`feeds::FeedStore`]).
//! - [`auth`]: who the caller is ([`auth::Authenticator`], [`auth::BearerKeys`]).
//! - [`webhooks`]: the agent platform's order-webhook receiver ([`webhooks::WebhookReceiver`]):
//!   signature verification with secret rotation, the event upgraded to the latest version,
//!   deduplication and each order's timeline.
//! - [`store`]: the asynchronous storage traits the engines use, with bounded in-memory
//!   implementations.
//!
//! The engines take a request as plain parts ([`http::Request`] with the body bytes) and return
//! an [`http::Response`]; mount them on any server (the `agentic-commerce-axum` crate does it
//! for axum, for any [`HttpEngine`]). They depend on no async runtime.

use std::future::Future;

pub mod auth;
pub mod feeds;
pub mod merchant;
pub mod outbox;
pub mod psp;
mod reply;
pub mod store;
pub mod webhooks;

/// What a server adapter needs from an engine: its body-size cap and one request served.
/// Implemented by [`merchant::MerchantEngine`], [`psp::PspEngine`], [`feeds::FeedEngine`] and
/// [`webhooks::WebhookReceiver`].
pub trait HttpEngine: Send + Sync {
    /// The body-size cap; an adapter should refuse larger bodies (`413`) before buffering them.
    fn max_body_bytes(&self) -> usize;

    /// Serves one request (its parts and whole body) at the current time.
    fn handle_request(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
    ) -> impl Future<Output = http::Response<Vec<u8>>> + Send;
}

impl<M, S, A> HttpEngine for merchant::MerchantEngine<M, S, A>
where
    M: merchant::Merchant,
    S: store::ResourceStore,
    A: auth::Authenticator,
{
    fn max_body_bytes(&self) -> usize {
        Self::max_body_bytes(self)
    }

    fn handle_request(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
    ) -> impl Future<Output = http::Response<Vec<u8>>> + Send {
        self.handle(parts, body)
    }
}
