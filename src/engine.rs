//! Role engines: each ACP party's whole protocol side, framework-free, over the lower layers.
//!
//! - [`merchant`]: a merchant serves every checkout and cart operation, the MCP binding and the
//!   discovery document by implementing one typed trait ([`merchant::Merchant`]).
//! - [`store`]: the asynchronous storage traits the engines use, with bounded in-memory
//!   implementations.
//!
//! The engines take a request as plain parts ([`http::Request`] with the body bytes) and return
//! an [`http::Response`]; mount them on any server (the `agentic-commerce-axum` crate does it
//! for axum). They depend on no async runtime.

pub mod merchant;
pub mod store;
