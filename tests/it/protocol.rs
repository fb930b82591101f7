//! The protocol layer: headers, `API-Version`, MCP, discovery.

mod discovery;
mod headers;
mod mcp;
mod version;
