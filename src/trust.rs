//! Trust between parties: RFC 8785 canonical JSON, request signatures, webhook signatures,
//! delegated-payment allowances and idempotency.
//!
//! Everything here works on bytes, header strings and JSON values; nothing depends on the
//! checkout state machine.
//!
//! | concern | module |
//! |---|---|
//! | RFC 8785 canonical JSON | [`canonical`] |
//! | `Signature` / `Timestamp` request signatures | [`signature`] |
//! | `Merchant-Signature` order webhooks | [`webhook`] |
//! | delegated-payment token allowances, single use | [`allowance`] |
//! | `Idempotency-Key` fingerprints, decisions, store | [`idempotency`] |

pub mod allowance;
pub mod canonical;
pub mod idempotency;
pub mod signature;
pub mod webhook;
