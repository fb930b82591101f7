//! # agentic-commerce
//!
//! The [Agentic Commerce Protocol] (ACP, by OpenAI and Stripe) for Rust: typed,
//! lossless models of every wire type, strict validation against the official
//! JSON Schemas, RFC 8785 canonical JSON, request and webhook signatures,
//! delegated-payment allowances, idempotency, and version negotiation.
//!
//! The crate is pure and framework-agnostic: bytes and header strings in, typed
//! values and typed errors out. It does no HTTP I/O, needs no async runtime and
//! reads no clock unless asked (every time-dependent check takes `now`; `*_now`
//! wrappers read the system clock). The role engines ([`engine`]) take request
//! parts (the `http` crate's types) and return responses; the workspace crates
//! `agentic-commerce-axum` and `agentic-commerce-postgres` mount them on axum
//! and store their state in PostgreSQL.
//!
//! [Agentic Commerce Protocol]: https://github.com/agentic-commerce-protocol/agentic-commerce-protocol
//!
//! ## Who embeds it
//!
//! - **Merchants** (the system of record): implement
//!   [`engine::merchant::Merchant`] and let the engine serve ACP; or use the
//!   parts: parse and validate agent requests, negotiate `API-Version`, verify
//!   request signatures, make POSTs idempotent, sign order webhooks.
//! - **Agent platforms**: build requests with typed models, sign them, verify
//!   the merchant's order webhooks.
//! - **Payment providers (PSPs)**: validate `delegate_payment` requests, check
//!   charges against a token's allowance, enforce single use.
//!
//! ## Map
//!
//! The modules are layers; each depends only on the ones above it in this table (the wire types
//! know no protocol logic, and the trust code works on bytes and JSON, never on the state
//! machine).
//!
//! | layer | module | what is in it |
//! |---|---|---|
//! | wire types | [`spec`] | the types of each released spec version, one module per schema bundle ([`spec::v2025_09_29`], …, generated) and the working model [`spec::latest`] |
//! | | [`wire`] | unknown fields, open enums, absent/null/value, redacted strings |
//! | | [`primitives`] | money, currency, timestamps, URIs (kept byte for byte), ids |
//! | models | [`parse`] | parsing (lenient by default, strict on request) with JSONPath errors ([`parse::json_path`]); the official schemas compiled in ([`parse::schema`]); every type by its official `<bundle>.<Name>` ([`parse::registry`]); the offline product feed files, streamed ([`parse::feed_files`]) |
//! | protocol | [`protocol`] | the [`Finding`] every check reports ([`protocol::finding`]); `API-Version` and its negotiation ([`protocol::version`]), conversion between versions ([`protocol::version::convert`]), typed headers ([`protocol::headers`]), the ACP `Error` ([`protocol::error`]), capability negotiation ([`protocol::capabilities`]), discovery, extensions, the MCP binding |
//! | state | [`checkout`] | the checkout session state machine |
//! | rules | [`rules`] | every finding-producing check: [`rules::check_session`] for a session, [`rules::requests`] for a request against its session, [`rules::delegate_payment`] for `delegate_payment` requests, [`rules::discounts`] for the discount extension |
//! | trust | [`trust`] | RFC 8785 canonical JSON ([`trust::canonical`]), request signatures ([`trust::signature`]), order webhooks ([`trust::webhook`]), allowances ([`trust::allowance`]), idempotency ([`trust::idempotency`]) |
//! | role engines | [`engine`] | a party's whole protocol side over the layers above: the merchant engine ([`engine::merchant`]: implement one [`Merchant`](engine::merchant::Merchant) trait, the engine serves every checkout and cart operation, MCP and discovery) and the asynchronous stores it uses ([`engine::store`]) |
//!
//! The types nearly every integrator touches are re-exported at the root: [`AcpError`],
//! [`ApiVersion`], [`JsonPath`], [`ParseError`], [`StrictError`], [`Finding`], [`Severity`],
//! [`Amount`], [`Currency`] and [`Timestamp`].
//!
//! ## Getting started: a merchant parsing a request
//!
//! ```
//! use agentic_commerce::parse;
//! use agentic_commerce::spec::latest::agentic_checkout::CheckoutSessionCreateRequest;
//!
//! let body = br#"{
//!     "line_items": [{"id": "sku_tee_black_m"}],
//!     "currency": "usd",
//!     "capabilities": {"interventions": {"supported": ["3ds"]}},
//!     "a_field_from_a_newer_spec": {"kept": true}
//! }"#;
//!
//! // Lenient (the default): unknown fields and enum values are kept.
//! let request: CheckoutSessionCreateRequest = parse::from_slice(body)?;
//! assert_eq!(request.line_items[0].id, "sku_tee_black_m");
//! assert_eq!(request.currency, "USD"); // currencies compare case-insensitively
//! assert!(request.extra.contains_key("a_field_from_a_newer_spec"));
//!
//! // Re-serializing loses nothing.
//! let again: serde_json::Value = parse::to_value(&request)?;
//! assert_eq!(again["a_field_from_a_newer_spec"]["kept"], true);
//!
//! // Strict (opt-in): every violation of the official schema, with its JSONPath.
//! let err = parse::from_slice_strict::<CheckoutSessionCreateRequest>(body).unwrap_err();
//! let violations = err.violations();
//! assert_eq!(violations[0].path.to_string(), "$.a_field_from_a_newer_spec");
//!
//! // A value the type cannot hold fails with the path of the failing value.
//! let bad = br#"{"line_items": [{"id": 7}], "currency": "usd", "capabilities": {}}"#;
//! let err = parse::from_slice::<CheckoutSessionCreateRequest>(bad).unwrap_err();
//! assert_eq!(err.path.to_string(), "$.line_items[0].id");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Getting started: signing and verifying an order webhook
//!
//! ```
//! use agentic_commerce::spec::latest::agentic_checkout_webhook::WebhookEvent;
//! use agentic_commerce::trust::webhook::{WebhookSecret, WebhookVerifier, sign};
//! use time::macros::datetime;
//!
//! let secret = WebhookSecret::new(b"whsec_shared_with_the_agent".to_vec())?;
//! let body = br#"{"type":"order_create","data":{"type":"order","id":"ord_1",
//!     "checkout_session_id":"cs_1","permalink_url":"https://shop.example/o/1","status":"confirmed"}}"#;
//! let now = datetime!(2026-04-17 12:00:00 UTC);
//!
//! // Merchant: sign the raw body.
//! let header = sign(&secret, now, body)?;
//!
//! // Agent: verify the raw bytes first, parse only what verified.
//! let verified = WebhookVerifier::new(secret).verify(Some(&header), body, now)?;
//! let event: WebhookEvent = verified.parse()?;
//! assert_eq!(event.kind, "order_create");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Getting started: an agent signing a request
//!
//! ```
//! use agentic_commerce::trust::signature::{Algorithm, HmacSha256Key, RequestSigner, SignedRequest, Verifier};
//! use time::macros::datetime;
//!
//! let body = br#"{"line_items":[{"id":"sku_1"}],"currency":"usd","capabilities":{}}"#;
//! let now = datetime!(2026-04-17 12:00:00 UTC);
//! let headers = RequestSigner::new(HmacSha256Key::new(b"agreed out of band")?).sign(body, now)?;
//!
//! let verifier = Verifier::new([Algorithm::HS256])
//!     .with_key("agent-1", HmacSha256Key::new(b"agreed out of band")?);
//! let request = SignedRequest {
//!     body,
//!     signature: Some(&headers.signature),
//!     timestamp: Some(&headers.timestamp),
//! };
//! let proof = verifier.verify(&request, now)?;
//! assert_eq!(proof.key_id(), "agent-1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Forward compatibility
//!
//! Payloads from newer spec versions parse and re-serialize without loss:
//! unknown members land in each struct's `extra` ([`wire::Extra`]), unknown enum
//! values in the enum's hidden catch-all (read them with `as_str()`), unknown
//! union variants in `Unknown`. A `null` sent for an optional member is kept as
//! well. Update requests tell absent from `null` with [`wire::Patch`]
//! (IDEM-16). Strictness is opt-in ([`parse::from_slice_strict`]).
//!
//! ## Security
//!
//! - **Verify raw bytes.** Webhook MACs are computed over the received body
//!   bytes and request signatures over the RFC 8785 canonical form of the
//!   received bytes, never over re-serialized typed values, so fields this
//!   crate does not model cannot break verification. Parse only after
//!   verification ([`trust::webhook::VerifiedWebhook::parse`]).
//! - **Constant time.** MACs are compared with `hmac::Mac::verify_slice` on
//!   full-length decoded values; an empty or short signature never matches.
//! - **Bounded clocks.** Timestamps are checked against explicit tolerances
//!   (webhooks: 300 s both ways by default; requests: 300 s past, 60 s future),
//!   inclusive at the boundary, with no switch that disables the check.
//! - **Allow-lists before crypto.** The request verifier rejects an algorithm
//!   that is not on its allow-list before running any cryptography.
//! - **Secrets stay secret.** Keys, webhook secrets and bearer tokens have
//!   redacted `Debug` and no `Display`; card numbers, CVCs, cryptograms and
//!   payment tokens in the models are [`wire::Sensitive`] (DP-19).
//! - **Money is integers.** Every amount is [`primitives::Amount`] (minor
//!   units, checked arithmetic). Canonical JSON follows RFC 8785 and uses
//!   IEEE-754 doubles; ACP amounts are integers below 2^53 and stay exact.
//! - **Single use and idempotency need shared state.** The in-memory
//!   [`trust::allowance::InMemoryTokenLedger`] and
//!   [`trust::idempotency::InMemoryIdempotencyStore`]
//!   are correct within one process; several processes need a shared
//!   implementation of the traits (store the key record and the business
//!   effect in one transaction, IDEM-17).
//!
//! ## Spec versions
//!
//! Every released version has its own module ([`spec::v2025_09_29`], …), one
//! per `spec/<YYYY-MM-DD>/` folder of the official spec, which the generator
//! discovers; a type unchanged between versions is one Rust type,
//! re-exported. [`spec::latest`] is the working model, the version the
//! hand-written logic is written against ([`ApiVersion::LATEST`]). [`parse::registry::check_body`] parses a body in the version the peer
//! sent, and [`protocol::version::convert`] upgrades older requests to 2026-04-17 and downgrades
//! responses, reporting every loss.
//!
//! ## Features
//!
//! - `ed25519` (default): Ed25519 request signatures.
//! - `es256`: ES256 (ECDSA P-256) request signatures.

pub mod checkout;
pub mod engine;
pub mod parse;
pub mod primitives;
pub mod protocol;
pub mod rules;
pub mod spec;
pub mod trust;
pub mod wire;

pub use parse::json_path::JsonPath;
pub use parse::{ParseError, StrictError};
pub use primitives::{Amount, Currency, Timestamp};
pub use protocol::error::AcpError;
pub use protocol::finding::{Finding, Severity};
pub use protocol::version::ApiVersion;
