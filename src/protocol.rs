//! The protocol around the wire types: API versions and their negotiation, conversion between
//! versions, typed headers, ACP errors, capability negotiation, discovery, extensions and the MCP
//! binding.
//!
//! | concern | module |
//! |---|---|
//! | `API-Version`, negotiation of the version (VER-*) | [`version`] |
//! | upgrade/downgrade between released versions, with loss reports | [`version::convert`] |
//! | typed headers, per-operation requirements | [`headers`] |
//! | ACP `Error` with its HTTP status; conversions from every crate error | [`error`] |
//! | capability negotiation | [`capabilities`] |
//! | discovery document (`/.well-known/acp.json`) | [`discovery`] |
//! | extension identifiers and `extends` targets | [`extensions`] |
//! | MCP (JSON-RPC) binding | [`mcp`] |

pub mod capabilities;
pub mod discovery;
pub mod error;
pub mod extensions;
pub mod finding;
pub mod headers;
pub mod mcp;
pub mod version;
