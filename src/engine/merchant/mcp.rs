//! The MCP binding of the merchant engine: a JSON-RPC `tools/call` is mapped to the REST
//! operation it names and served by the same pipeline (MCP-01..08). `meta` supplies the
//! version, idempotency key, request id, signature and timestamp; the HTTP `Authorization`
//! header names the caller (a `meta.authorization` is never used, MCP-08). The signature covers
//! the `payload`, as the body of the REST request would be.

use serde_json::Value;
use time::OffsetDateTime;

use crate::engine::store::ResourceStore;
use crate::parse::json_path::JsonPath;
use crate::protocol::error::AcpError;
use crate::protocol::headers::Operation;
use crate::protocol::mcp::{self, RpcError, ToolCallRequest, ToolName};
use crate::spec::latest::agentic_checkout::Error;

use super::pipeline::{Incoming, Reply, Route, serve};
use super::{Authenticator, Binding, Merchant, MerchantEngine};

fn operation(tool: &ToolName) -> Option<Operation> {
    Some(match tool {
        ToolName::CreateCheckoutSession => Operation::CreateCheckoutSession,
        ToolName::GetCheckoutSession => Operation::RetrieveCheckoutSession,
        ToolName::UpdateCheckoutSession => Operation::UpdateCheckoutSession,
        ToolName::CompleteCheckoutSession => Operation::CompleteCheckoutSession,
        ToolName::CancelCheckoutSession => Operation::CancelCheckoutSession,
        ToolName::_Custom(_) => return None,
    })
}

fn rpc(response: &mcp::Response) -> Reply {
    Reply::json(200, &serde_json::to_value(response).unwrap_or(Value::Null))
}

fn envelope_error(id: Value, code: i64, message: &str, param: &JsonPath) -> Reply {
    let mut error = RpcError::new(code, message);
    error.data = Some(serde_json::json!({ "param": param.to_string() }));
    rpc(&mcp::Response::failure(id, error))
}

pub(super) async fn handle<M: Merchant, S: ResourceStore, A: Authenticator>(
    engine: &MerchantEngine<M, S, A>,
    parts: &http::request::Parts,
    body: &[u8],
    now: OffsetDateTime,
) -> Reply {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return envelope_error(Value::Null, -32700, "parse error", &JsonPath::root());
    };
    let id = value.get("id").cloned().unwrap_or(Value::Null);
    let call = match ToolCallRequest::from_value(&value) {
        Ok(call) if call.method == mcp::TOOLS_CALL => call,
        Ok(call) => {
            return envelope_error(
                call.id,
                mcp::METHOD_NOT_FOUND,
                "only tools/call is served",
                &JsonPath::root().key("method"),
            );
        }
        Err(e) => return rpc(&mcp::Response::failure(id, e.to_rpc_error())),
    };
    let Some(op) = operation(&call.params.name) else {
        return envelope_error(
            call.id,
            mcp::INVALID_PARAMS,
            "unknown tool",
            &JsonPath::root().key("params").key("name"),
        );
    };
    let arguments = &call.params.arguments;
    let route_id = if op == Operation::CreateCheckoutSession {
        None
    } else {
        match arguments.id.as_deref() {
            Some(id) if !id.is_empty() => Some(id.to_owned()),
            _ => {
                return envelope_error(
                    call.id,
                    mcp::INVALID_PARAMS,
                    "arguments.id is required",
                    &JsonPath::root().key("params").key("arguments").key("id"),
                );
            }
        }
    };
    let payload = match &arguments.payload {
        None | Some(Value::Null) => Vec::new(),
        Some(payload) => serde_json::to_vec(payload).unwrap_or_default(),
    };
    let meta = &arguments.meta;
    let meta_headers = [
        ("API-Version", Some(meta.api_version.as_str())),
        ("Idempotency-Key", meta.idempotency_key.as_deref()),
        ("Request-Id", meta.request_id.as_deref()),
        ("User-Agent", meta.user_agent.as_deref()),
        ("Accept-Language", meta.accept_language.as_deref()),
        ("Signature", meta.signature.as_deref()),
        ("Timestamp", meta.timestamp.as_deref()),
    ];
    let mut header_pairs: Vec<(&str, &str)> = meta_headers
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
        .collect();
    if let Some(authorization) = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        header_pairs.push(("Authorization", authorization));
    }
    if !payload.is_empty() {
        header_pairs.push(("Content-Type", "application/json"));
    }
    let incoming = Incoming {
        route: Route { op, id: route_id },
        header_pairs,
        body: &payload,
        binding: Binding::Mcp,
    };
    let reply = serve(engine, incoming, now).await;
    let body: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    if (200..300).contains(&reply.status) {
        return rpc(&mcp::Response {
            jsonrpc: mcp::JSONRPC_VERSION.to_owned(),
            id: call.id,
            result: Some(body),
            error: None,
            extra: serde_json::Map::new(),
        });
    }
    // The ACP error travels in `error.data` (MCP-05); a body `param` points into `payload`.
    let error = crate::parse::from_value::<Error>(&body)
        .ok()
        .and_then(|e| AcpError::new(reply.status, e).ok())
        .unwrap_or_else(|| AcpError::processing_error("the request could not be served"));
    let error = if error.param().is_some_and(|p| !p.starts_with("$.meta")) {
        error.with_param_prefix(&JsonPath::root().key("payload"))
    } else {
        error
    };
    rpc(&mcp::Response::failure(call.id, RpcError::from_acp(&error)))
}
