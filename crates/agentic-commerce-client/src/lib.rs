//! # agentic-commerce-client
//!
//! A typed, async client for the [Agentic Commerce Protocol] (ACP), on
//! [`reqwest`] with rustls TLS, built on the `agentic-commerce` crate's models.
//!
//! [Agentic Commerce Protocol]: https://github.com/agentic-commerce-protocol/agentic-commerce-protocol
//!
//! One [`AcpClient`] talks to one host:
//!
//! - a **merchant**: checkout ([`create_checkout`](AcpClient::create_checkout),
//!   [`update_checkout`](AcpClient::update_checkout),
//!   [`retrieve_checkout`](AcpClient::retrieve_checkout),
//!   [`complete_checkout`](AcpClient::complete_checkout),
//!   [`cancel_checkout`](AcpClient::cancel_checkout)), carts
//!   ([`create_cart`](AcpClient::create_cart), [`retrieve_cart`](AcpClient::retrieve_cart),
//!   [`update_cart`](AcpClient::update_cart), [`cancel_cart`](AcpClient::cancel_cart)) and
//!   discovery ([`discover`](AcpClient::discover));
//! - an **agent platform's feed API**, which the merchant pushes its catalog to:
//!   [`create_feed`](AcpClient::create_feed), [`feed`](AcpClient::feed),
//!   [`feed_products`](AcpClient::feed_products),
//!   [`upsert_feed_products`](AcpClient::upsert_feed_products);
//! - a **PSP**: [`delegate_payment`](AcpClient::delegate_payment) (its allowance for a
//!   session: [`allowance_for`]), and delegate authentication
//!   ([`create_delegate_authentication`](AcpClient::create_delegate_authentication),
//!   [`authenticate_delegate_authentication`](AcpClient::authenticate_delegate_authentication),
//!   [`retrieve_delegate_authentication`](AcpClient::retrieve_delegate_authentication); the
//!   whole 3-D Secure run in one call: [`authenticate_payment`](AcpClient::authenticate_payment),
//!   its request from a checkout session: [`authentication_request`]).
//!
//! Paying a session, as an agent: [`AcpClient::prepare_payment`] at the PSP picks the session's
//! delegated-card handler ([`delegated_card_handler`]), runs 3-D Secure when the merchant asks
//! for it, delegates the [`PaymentMethod`] with an allowance of exactly this session, and gives
//! the complete request to send to the merchant ([`PreparedPayment`]).
//!
//! Requests and answers are the 2026-04-17 types of
//! [`agentic_commerce::spec::latest`].
//!
//! ## What every call does
//!
//! - **Headers**: `Authorization: Bearer` (HDR-01), `API-Version` (VER-01: configured, or
//!   negotiated from the discovery document, [`ClientBuilder::negotiate_version`]),
//!   `Request-Id` (HDR-03), `Content-Type: application/json` with a body (HDR-02), and on
//!   every POST, PUT and PATCH an `Idempotency-Key` of 128 random bits (IDEM-01, IDEM-02), the same
//!   on every retry of the call. With a [`ClientBuilder::signer`], `Signature` and
//!   `Timestamp` over the exact body bytes sent (SIG-01..03).
//! - **Retries** ([`RetryPolicy`]): after transport failures, `5xx` and
//!   `409 idempotency_in_flight`, with exponential backoff and full jitter, honouring
//!   `Retry-After`, within a total deadline; never after another `4xx`. The server's
//!   idempotency (IDEM-08..10) makes the retry safe: it answers with the stored response
//!   (`Idempotent-Replayed: true`, [`Response::replayed`]) and runs nothing twice.
//! - **Limits**: a per-attempt timeout, the total deadline, a cap on the response body
//!   (1 MiB by default; the body is streamed and reading stops at the cap), no redirects.
//! - **Versions**: answers are parsed leniently in the version used (unknown members and enum
//!   values kept) and, from an older version, upgraded to the 2026-04-17 model
//!   ([`agentic_commerce::protocol::version::convert`]); a request that cannot be carried to
//!   an older version without loss is not sent ([`Error::Downgrade`]).
//! - **Errors** ([`Error`]): the server's ACP error with its status
//!   ([`Error::Api`], an [`AcpError`](agentic_commerce::AcpError): `type`, `code`, `message`,
//!   `param`, `Retry-After`), or why there is none (transport, timeout, deadline, too large,
//!   undecodable).
//! - **Secrets**: `Debug` of the client and its builder never shows the bearer token or the
//!   signing key.
//!
//! ## Raw requests
//!
//! [`AcpClient::raw`] (a path below the base URL) and [`AcpClient::raw_url`] (an absolute URL)
//! send what a typed call never would, for conformance checkers, load generators and tests:
//! any method, any body bytes (JSON or not), headers set, replaced or left out, an
//! `Idempotency-Key` of the caller's choosing, a signature stamped at another time or none
//! ([`RawSigning`]). The answer is a [`RawResponse`] whatever its status: status, headers and
//! the body up to the response cap (`truncated` says when it was longer). Raw requests use the
//! client's connection pool, TLS, timeouts and cap, and are not retried unless
//! [`RawRequest::retry`] asks for it.
//!
//! ```no_run
//! use agentic_commerce_client::{AcpClient, Method};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let merchant = AcpClient::builder("http://127.0.0.1:8080/")
//!     .bearer_token("merchant-api-key")
//!     .build()?;
//! // A create without `API-Version`: the merchant must answer 400 `missing_api_version`.
//! let answer = merchant
//!     .raw(Method::POST, "checkout_sessions")
//!     .without_header("api-version")
//!     .idempotency_key("probe-1")
//!     .body(br#"{"line_items":[{"id":"sku_1"}]}"#.to_vec())
//!     .await?;
//! println!("{} {}", answer.status, String::from_utf8_lossy(&answer.body));
//! # Ok(())
//! # }
//! ```
//!
//! Plain `http://` is accepted only for loopback hosts (tests, local development); everything
//! else must be `https://` (HDR-06).
//!
//! ## Example
//!
//! ```no_run
//! use agentic_commerce::spec::latest::agentic_checkout::{
//!     Capabilities, CheckoutSessionCreateRequest, Item,
//! };
//! use agentic_commerce::trust::signature::{HmacSha256Key, RequestSigner};
//! use agentic_commerce_client::{AcpClient, Error, RetryPolicy};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let merchant = AcpClient::builder("https://shop.example/")
//!     .bearer_token("merchant-api-key")
//!     .signer(RequestSigner::new(HmacSha256Key::new(b"agreed out of band")?))
//!     .negotiate_version() // newest version both sides support, from /.well-known/acp.json
//!     .retry_policy(RetryPolicy::default())
//!     .build()?;
//!
//! let request = CheckoutSessionCreateRequest::new(
//!     vec![Item::new("sku_tee_black_m")],
//!     "usd".parse()?,
//!     Capabilities::new(),
//! );
//! match merchant.create_checkout(&request).await {
//!     Ok(created) => println!(
//!         "session {} ({:?}), replayed: {}",
//!         created.value.id, created.value.status, created.replayed
//!     ),
//!     Err(Error::Api { error, .. }) => println!("refused: {} {}", error.status(), error.code()),
//!     Err(other) => return Err(other.into()),
//! }
//! # Ok(())
//! # }
//! ```

mod client;
mod error;
mod pay;
mod raw;
mod retry;
mod three_ds;
mod transport;

pub use client::{
    AcpClient, Call, ClientBuilder, DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_USER_AGENT, Response,
};
pub use error::{BuildError, Error};
pub use pay::{
    PaymentError, PaymentMethod, PreparedPayment, ThreeDsChannel, delegated_card_handler,
};
pub use raw::{RawRequest, RawResponse, RawSigning};
/// The HTTP method and header map of [`AcpClient::raw`] requests and [`RawResponse`]s (the
/// `http` crate's types, as re-exported by `reqwest`).
pub use reqwest::{Method, header::HeaderMap};
pub use retry::RetryPolicy;
pub use three_ds::{Authentication, allowance_for, authentication_request};
