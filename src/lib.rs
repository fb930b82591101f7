//! Agentic Commerce Protocol (ACP) for Rust.
//!
//! Crate documentation is written in `README.md` and the module docs; see
//! the modules below.

pub mod allowance;
pub mod canonical;
pub mod headers;
pub mod idempotency;
pub mod json_path;
pub mod parse;
pub mod primitives;
pub mod registry;
pub mod schema;
pub mod signature;
pub mod spec;
pub mod version;
pub mod versioned;
pub mod webhook;
pub mod wire;
