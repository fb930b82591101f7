//! The working model: the spec version the crate's hand-written logic (the
//! checkout state machine, the rules, errors, negotiation, webhooks, MCP,
//! delegated payment) is written against, re-exported whole.
//!
//! Hand-written code names the working model only through this module
//! (`crate::spec::latest::agentic_checkout::CheckoutSession`) and
//! [`VERSION`] (also [`ApiVersion::LATEST`]), never by its date. It is chosen
//! by hand: a version the generator discovers later parses, validates and
//! negotiates at once, but the working model moves only when this file
//! changes, together with the conversion pair for its neighbour versions.

use crate::protocol::version::ApiVersion;

pub use super::v2026_04_17::*;

/// The version of the working model.
pub const VERSION: ApiVersion = ApiVersion::V2026_04_17;
