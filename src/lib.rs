//! Agentic Commerce Protocol (ACP) for Rust.
//!
//! Crate documentation is written in `README.md` and the module docs; see
//! the modules below.

pub mod allowance;
pub mod canonical;
pub mod headers;
pub mod idempotency;
pub mod signature;
pub mod version;
pub mod webhook;
