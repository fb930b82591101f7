//! The MCP binding of checkout (MCP-01 … MCP-08): JSON-RPC 2.0 `tools/call` envelopes of
//! `spec/2026-04-17/openrpc/openrpc.agentic_checkout.json` and `docs/mcp-binding.md`.
//!
//! - [`ToolCallRequest`]: `{jsonrpc:"2.0", id, method:"tools/call", params:{name,
//!   arguments:{meta, id?, payload?}}}` for the five [`ToolName`]s. Every level keeps unknown
//!   members (`extra`), and an explicit `"payload": null` is kept as such, so a request
//!   re-serializes to the same JSON.
//! - [`Meta`]: `api_version` (required, MCP-02) and the optional header equivalents; unknown keys
//!   are kept and otherwise ignored (MCP-07). `Authorization` is never read from `meta` (MCP-08):
//!   authentication belongs to the MCP connection.
//! - [`Response`] / [`RpcError`]: the JSON-RPC answer. An ACP error travels in `error.data` with
//!   code [`ACP_ERROR`] `-32000` ([`RpcError::from_acp`], MCP-05); [`INVALID_PARAMS`] `-32602`
//!   only for envelope problems. Clients read `error.data.type`/`code` ([`RpcError::acp_error`],
//!   MCP-06), not the JSON-RPC code.
//! - [`ToolCallRequest::tool_call`] turns a request into a typed [`ToolCall`]: envelope problems
//!   become [`McpError::Envelope`] (-32602 / -32600 / -32601), and the `payload` is validated
//!   strictly against the official schema (MCP-03) with every JSONPath prefixed by `$.payload`
//!   (the form of the official MCP error example, `$.payload.currency`). Cancel does not require
//!   a payload and accepts `null` (MCP-04).
//!
//! # Example
//!
//! ```
//! use agentic_commerce::protocol::mcp::{Response, RpcError, ToolCall, ToolCallRequest};
//!
//! let request = ToolCallRequest::from_value(&serde_json::json!({
//!     "jsonrpc": "2.0", "id": 2, "method": "tools/call",
//!     "params": {"name": "get_checkout_session",
//!                "arguments": {"meta": {"api_version": "2026-04-17"}, "id": "cs_123"}}
//! }))
//! .map_err(|e| e.to_string())?;
//! match request.tool_call() {
//!     Ok(ToolCall::Get { id }) => assert_eq!(id, "cs_123"),
//!     Ok(_) => unreachable!(),
//!     // Envelope problems are -32602; payload problems -32000 with the ACP error in `data`.
//!     Err(e) => {
//!         let _reply = Response::failure(request.id.clone(), e.to_rpc_error());
//!     }
//! }
//! # Ok::<(), String>(())
//! ```
//!
//! Left to the integrator: the MCP transport and tool listing (MCP-01), bundling `$ref`s of the
//! served tool schemas (MCP-09), and applying `meta` (version negotiation with
//! [`Meta::negotiate_version`], idempotency with [`crate::trust::idempotency`]).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::parse::ParseError;
use crate::parse::json_path::JsonPath;
use crate::parse::schema::WireType;
use crate::primitives::Timestamp;
use crate::protocol::error::AcpError;
use crate::protocol::headers::{HeaderValueError, IdempotencyKey, parse_timestamp};
use crate::protocol::version::{ApiVersion, negotiate};
use crate::spec::latest::agentic_checkout::{
    CancelSessionRequest, CheckoutSession, CheckoutSessionCompleteRequest,
    CheckoutSessionCreateRequest, CheckoutSessionUpdateRequest, CheckoutSessionWithOrder, Error,
};
use crate::wire::wire_enum;

/// The only JSON-RPC version: `"2.0"`.
pub const JSONRPC_VERSION: &str = "2.0";
/// The MCP method that invokes a tool.
pub const TOOLS_CALL: &str = "tools/call";
/// JSON-RPC code of every ACP error; the ACP `Error` is in `error.data` (MCP-05).
pub const ACP_ERROR: i64 = -32000;
/// JSON-RPC "Invalid params": envelope-level problems only (MCP-05).
pub const INVALID_PARAMS: i64 = -32602;
/// JSON-RPC "Invalid Request": not a JSON-RPC 2.0 request.
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC "Method not found": a method other than `tools/call`.
pub const METHOD_NOT_FOUND: i64 = -32601;

wire_enum! {
    /// The checkout tools of the MCP binding (an open enum: other names are kept).
    pub enum ToolName {
        /// `POST /checkout_sessions`.
        CreateCheckoutSession = "create_checkout_session",
        /// `GET /checkout_sessions/{id}`.
        GetCheckoutSession = "get_checkout_session",
        /// `POST /checkout_sessions/{id}`.
        UpdateCheckoutSession = "update_checkout_session",
        /// `POST /checkout_sessions/{id}/complete`.
        CompleteCheckoutSession = "complete_checkout_session",
        /// `POST /checkout_sessions/{id}/cancel`.
        CancelCheckoutSession = "cancel_checkout_session",
    }
}

/// Deserializes a present member as `Some`, even when it is `null` (so `null` round-trips).
#[allow(clippy::unnecessary_wraps)]
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Deserializes a present member as `Some(T)`; `null` is a type error rather than silently
/// becoming `None` (which would not re-serialize).
#[allow(clippy::unnecessary_wraps)]
fn not_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// Protocol metadata mapped from the ACP HTTP headers (openrpc `components.schemas.meta`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// `API-Version` (required, MCP-02).
    pub api_version: String,
    /// `Idempotency-Key`.
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub idempotency_key: Option<String>,
    /// `Request-Id`.
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub request_id: Option<String>,
    /// `User-Agent`.
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_agent: Option<String>,
    /// `Accept-Language`.
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub accept_language: Option<String>,
    /// `Signature` (base64url).
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub signature: Option<String>,
    /// `Timestamp` (RFC 3339), kept as sent; read with [`Meta::timestamp`].
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<String>,
    /// Other keys: kept for re-serialization, otherwise ignored (MCP-07).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Meta {
    /// Metadata with only `api_version`.
    pub fn new(api_version: &ApiVersion) -> Self {
        Self {
            api_version: api_version.as_str().to_owned(),
            idempotency_key: None,
            request_id: None,
            user_agent: None,
            accept_language: None,
            signature: None,
            timestamp: None,
            extra: Map::new(),
        }
    }

    /// The version to serve, from `api_version` and the server's `supported` versions
    /// (VER-01..05, MCP-02).
    ///
    /// # Errors
    /// 400 `unsupported_api_version` (with `supported_versions`) as an [`AcpError`].
    pub fn negotiate_version(&self, supported: &[ApiVersion]) -> Result<ApiVersion, AcpError> {
        negotiate(supported, Some(&self.api_version)).map_err(AcpError::from)
    }

    /// The idempotency key, validated like the header (1..=255 characters).
    ///
    /// # Errors
    /// 400 `invalid_request` with `param` `$.meta.idempotency_key`.
    pub fn idempotency_key(&self) -> Result<Option<IdempotencyKey>, AcpError> {
        self.idempotency_key
            .as_deref()
            .map(|k| IdempotencyKey::parse(k).map_err(|e| meta_error("idempotency_key", &e)))
            .transpose()
    }

    /// The signing timestamp.
    ///
    /// # Errors
    /// 400 `invalid_request` with `param` `$.meta.timestamp` when it is not RFC 3339.
    pub fn timestamp(&self) -> Result<Option<Timestamp>, AcpError> {
        self.timestamp
            .as_deref()
            .map(|t| parse_timestamp(t).map_err(|e| meta_error("timestamp", &e)))
            .transpose()
    }

    /// Whether `meta` has an `authorization` key (any case). It is never used (MCP-08); a
    /// server may log or reject such calls.
    pub fn carries_authorization(&self) -> bool {
        self.extra
            .keys()
            .any(|k| k.eq_ignore_ascii_case("authorization"))
    }
}

fn meta_error(field: &str, e: &HeaderValueError) -> AcpError {
    AcpError::invalid_request(
        crate::protocol::error::codes::INVALID_VALUE,
        format!("meta.{field} is invalid: {e}"),
        &JsonPath::root().key("meta").key(field),
    )
}

/// `params.arguments` of a checkout tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolArguments {
    /// Protocol metadata (required).
    pub meta: Meta,
    /// The checkout session id (every tool but create).
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    /// The REST request body; `Some(Value::Null)` when sent as `null`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub payload: Option<Value>,
    /// Unknown members, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `params` of a `tools/call` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCallParams {
    /// The tool.
    pub name: ToolName,
    /// Its arguments.
    pub arguments: ToolArguments,
    /// Unknown members (e.g. MCP `_meta`), kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A JSON-RPC 2.0 `tools/call` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCallRequest {
    /// `"2.0"`.
    pub jsonrpc: String,
    /// The request id (string or number), echoed by the response.
    pub id: Value,
    /// `"tools/call"`.
    pub method: String,
    /// The tool and its arguments.
    pub params: ToolCallParams,
    /// Unknown members, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A typed checkout tool call.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ToolCall {
    /// `create_checkout_session`.
    Create(CheckoutSessionCreateRequest),
    /// `get_checkout_session`.
    Get {
        /// The session id.
        id: String,
    },
    /// `update_checkout_session`.
    Update {
        /// The session id.
        id: String,
        /// The body.
        payload: CheckoutSessionUpdateRequest,
    },
    /// `complete_checkout_session`.
    Complete {
        /// The session id.
        id: String,
        /// The body.
        payload: CheckoutSessionCompleteRequest,
    },
    /// `cancel_checkout_session`; the payload is optional (MCP-04).
    Cancel {
        /// The session id.
        id: String,
        /// The body, when sent and not `null`.
        payload: Option<CancelSessionRequest>,
    },
}

/// Why a tool call could not be turned into a [`ToolCall`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum McpError {
    /// The JSON-RPC envelope is wrong: answer with `code` (-32600, -32601 or -32602).
    #[error("{message} (at {path})")]
    Envelope {
        /// The JSON-RPC error code.
        code: i64,
        /// What is wrong.
        message: String,
        /// Where, relative to the JSON-RPC request.
        path: JsonPath,
    },
    /// The payload breaks the ACP schema: an ACP error for `error.data` (-32000). `param` is
    /// relative to `arguments` (`$.payload.…`).
    #[error("{error}")]
    Acp {
        /// The ACP error for the first problem.
        error: AcpError,
        /// Every problem (strict validation), paths relative to `arguments`.
        violations: Vec<crate::parse::schema::Violation>,
    },
}

impl McpError {
    /// The JSON-RPC error object to send.
    pub fn to_rpc_error(&self) -> RpcError {
        match self {
            Self::Envelope {
                code,
                message,
                path,
            } => {
                let mut e = RpcError::new(*code, message.clone());
                e.data = Some(serde_json::json!({ "param": path.to_string() }));
                e
            }
            Self::Acp { error, .. } => RpcError::from_acp(error),
        }
    }
}

fn envelope(code: i64, message: impl Into<String>, path: JsonPath) -> McpError {
    McpError::Envelope {
        code,
        message: message.into(),
        path,
    }
}

fn arguments_path() -> JsonPath {
    JsonPath::root().key("params").key("arguments")
}

fn payload_path() -> JsonPath {
    JsonPath::root().key("payload")
}

fn prefix(path: &JsonPath) -> JsonPath {
    let mut out = payload_path();
    for s in path.segments() {
        out.push(s.clone());
    }
    out
}

/// Parses a payload into `T`, strictly or leniently, with `$.payload`-prefixed paths.
fn parse_payload<T: WireType>(value: &Value, strict: bool) -> Result<T, McpError> {
    if strict {
        crate::parse::from_value_strict::<T>(value).map_err(|e| {
            let violations: Vec<_> = e
                .violations()
                .into_iter()
                .map(|mut v| {
                    v.path = prefix(&v.path);
                    v
                })
                .collect();
            McpError::Acp {
                error: AcpError::from(&e).with_param_prefix(&payload_path()),
                violations,
            }
        })
    } else {
        crate::parse::from_value::<T>(value).map_err(|e| McpError::Acp {
            error: AcpError::from(&e).with_param_prefix(&payload_path()),
            violations: Vec::new(),
        })
    }
}

impl ToolCallRequest {
    /// A request for `tool` with `arguments`.
    pub fn new(id: impl Into<Value>, tool: ToolName, arguments: ToolArguments) -> Self {
        Self {
            jsonrpc: JSONRPC_VERSION.to_owned(),
            id: id.into(),
            method: TOOLS_CALL.to_owned(),
            params: ToolCallParams {
                name: tool,
                arguments,
                extra: Map::new(),
            },
            extra: Map::new(),
        }
    }

    /// Reads a request from JSON, reporting envelope problems as JSON-RPC errors: -32600 when
    /// the value is not a JSON-RPC 2.0 request object, -32602 (with the JSONPath) when `params`
    /// does not have the `tools/call` shape (for example `meta.api_version` missing, MCP-02).
    ///
    /// # Errors
    /// [`McpError::Envelope`].
    pub fn from_value(value: &Value) -> Result<Self, McpError> {
        let is_request = value.as_object().is_some_and(|o| {
            o.get("jsonrpc").and_then(Value::as_str) == Some(JSONRPC_VERSION)
                && o.get("method").is_some_and(Value::is_string)
        });
        if !is_request {
            return Err(envelope(
                INVALID_REQUEST,
                "not a JSON-RPC 2.0 request",
                JsonPath::root(),
            ));
        }
        serde_path_to_error::deserialize::<_, Self>(value).map_err(|e| {
            let mut path = JsonPath::root();
            for segment in e.path() {
                match segment {
                    serde_path_to_error::Segment::Seq { index } => {
                        path.push(crate::parse::json_path::Segment::Index(*index));
                    }
                    serde_path_to_error::Segment::Map { key }
                    | serde_path_to_error::Segment::Enum { variant: key } => {
                        path.push(crate::parse::json_path::Segment::Key(key.clone()));
                    }
                    serde_path_to_error::Segment::Unknown => {}
                }
            }
            envelope(INVALID_PARAMS, e.inner().to_string(), path)
        })
    }

    /// The typed call, with the payload validated strictly against the official schema
    /// (MCP-03).
    ///
    /// # Errors
    /// [`McpError::Envelope`] for a wrong `jsonrpc`/`method`, an unknown tool, a missing `id`
    /// or a missing required `payload`; [`McpError::Acp`] when the payload breaks the schema.
    pub fn tool_call(&self) -> Result<ToolCall, McpError> {
        self.typed(true)
    }

    /// Like [`tool_call`](Self::tool_call), but the payload is parsed leniently (unknown fields
    /// and enum values kept; only values the types cannot hold fail).
    ///
    /// # Errors
    /// As [`tool_call`](Self::tool_call).
    pub fn tool_call_lenient(&self) -> Result<ToolCall, McpError> {
        self.typed(false)
    }

    fn typed(&self, strict: bool) -> Result<ToolCall, McpError> {
        use ToolName as T;
        if self.jsonrpc != JSONRPC_VERSION {
            return Err(envelope(
                INVALID_REQUEST,
                "jsonrpc must be \"2.0\"",
                JsonPath::root().key("jsonrpc"),
            ));
        }
        if self.method != TOOLS_CALL {
            return Err(envelope(
                METHOD_NOT_FOUND,
                format!("method must be {TOOLS_CALL}"),
                JsonPath::root().key("method"),
            ));
        }
        let args = &self.params.arguments;
        let id = || {
            args.id.clone().ok_or_else(|| {
                envelope(
                    INVALID_PARAMS,
                    "arguments.id (the checkout session id) is required",
                    arguments_path().key("id"),
                )
            })
        };
        let payload = || match &args.payload {
            Some(v) if !v.is_null() => Ok(v),
            _ => Err(envelope(
                INVALID_PARAMS,
                "arguments.payload is required for this tool",
                arguments_path().key("payload"),
            )),
        };
        match &self.params.name {
            T::CreateCheckoutSession => Ok(ToolCall::Create(parse_payload(payload()?, strict)?)),
            T::GetCheckoutSession => Ok(ToolCall::Get { id: id()? }),
            T::UpdateCheckoutSession => Ok(ToolCall::Update {
                id: id()?,
                payload: parse_payload(payload()?, strict)?,
            }),
            T::CompleteCheckoutSession => Ok(ToolCall::Complete {
                id: id()?,
                payload: parse_payload(payload()?, strict)?,
            }),
            T::CancelCheckoutSession => {
                let id = id()?;
                let payload = match &args.payload {
                    Some(v) if !v.is_null() => Some(parse_payload(v, strict)?),
                    _ => None,
                };
                Ok(ToolCall::Cancel { id, payload })
            }
            T::_Custom(_) => Err(envelope(
                INVALID_PARAMS,
                format!("unknown tool {:?}", self.params.name.as_str()),
                JsonPath::root().key("params").key("name"),
            )),
        }
    }
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpcError {
    /// The JSON-RPC code ([`ACP_ERROR`] for every ACP error).
    pub code: i64,
    /// A short description.
    pub message: String,
    /// For [`ACP_ERROR`]: the flat ACP `Error` object.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub data: Option<Value>,
    /// Unknown members, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RpcError {
    /// An error without data.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
            extra: Map::new(),
        }
    }

    /// Code -32000 with the ACP error in `data` and its message as `message` (MCP-05).
    pub fn from_acp(error: &AcpError) -> Self {
        let mut out = Self::new(ACP_ERROR, error.message());
        out.data = Some(error.to_json());
        out
    }

    /// The ACP error in `data` (MCP-06: clients branch on `data.type`/`data.code`); `None`
    /// when there is no `data`.
    ///
    /// # Errors
    /// [`ParseError`] when `data` is not an ACP `Error` object.
    pub fn acp_error(&self) -> Option<Result<AcpError, ParseError>> {
        self.data
            .as_ref()
            .map(|d| crate::parse::from_value::<Error>(d).map(AcpError::from_wire))
    }
}

impl From<&AcpError> for RpcError {
    fn from(e: &AcpError) -> Self {
        Self::from_acp(e)
    }
}

/// A JSON-RPC 2.0 response: `result` or `error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// `"2.0"`.
    pub jsonrpc: String,
    /// The request's id.
    pub id: Value,
    /// The tool result (a `CheckoutSession` or `CheckoutSessionWithOrder`, MCP-05).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub result: Option<Value>,
    /// The error.
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub error: Option<RpcError>,
    /// Unknown members, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Response {
    /// A success response carrying `result` (e.g. a [`CheckoutSession`]).
    ///
    /// # Errors
    /// When `result` cannot be serialized (a timestamp outside RFC 3339's range).
    pub fn success<T: Serialize>(id: Value, result: &T) -> Result<Self, serde_json::Error> {
        Ok(Self {
            jsonrpc: JSONRPC_VERSION.to_owned(),
            id,
            result: Some(serde_json::to_value(result)?),
            error: None,
            extra: Map::new(),
        })
    }

    /// An error response.
    pub fn failure(id: Value, error: RpcError) -> Self {
        Self {
            jsonrpc: JSONRPC_VERSION.to_owned(),
            id,
            result: None,
            error: Some(error),
            extra: Map::new(),
        }
    }

    /// The result as a [`CheckoutSession`], parsed leniently; `None` without a result.
    ///
    /// # Errors
    /// [`ParseError`] with the JSONPath inside `result`.
    pub fn session(&self) -> Option<Result<CheckoutSession, ParseError>> {
        self.result.as_ref().map(crate::parse::from_value)
    }

    /// The result as a [`CheckoutSessionWithOrder`] (complete), parsed leniently.
    ///
    /// # Errors
    /// [`ParseError`] with the JSONPath inside `result`.
    pub fn session_with_order(&self) -> Option<Result<CheckoutSessionWithOrder, ParseError>> {
        self.result.as_ref().map(crate::parse::from_value)
    }
}

/// Any JSON-RPC message of the binding: a tool call (has `method`) or a response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
// Parsed once per message and matched immediately; boxing would only add noise.
#[allow(clippy::large_enum_variant)]
pub enum Message {
    /// A `tools/call` request.
    Request(ToolCallRequest),
    /// A response.
    Response(Response),
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = Value::deserialize(d)?;
        if value.get("method").is_some() {
            serde_json::from_value(value)
                .map(Self::Request)
                .map_err(D::Error::custom)
        } else {
            serde_json::from_value(value)
                .map(Self::Response)
                .map_err(D::Error::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn call(tool: &str, args: &Value) -> ToolCallRequest {
        serde_json::from_value(json!({"jsonrpc":"2.0","id":1,"method":"tools/call",
            "params":{"name":tool,"arguments":args}}))
        .unwrap()
    }

    #[test]
    fn mcp_04_cancel_payload_optional_and_null_round_trips() {
        let without = call(
            "cancel_checkout_session",
            &json!({"meta":{"api_version":"2026-04-17"},"id":"cs_1"}),
        );
        assert_eq!(
            without.tool_call().unwrap(),
            ToolCall::Cancel {
                id: "cs_1".into(),
                payload: None
            }
        );
        let args = json!({"meta":{"api_version":"2026-04-17"},"id":"cs_1","payload":null});
        let null = call("cancel_checkout_session", &args);
        assert!(matches!(
            null.tool_call().unwrap(),
            ToolCall::Cancel { payload: None, .. }
        ));
        assert_eq!(
            serde_json::to_value(&null).unwrap()["params"]["arguments"],
            args
        );
    }

    #[test]
    fn envelope_errors_are_32602() {
        let no_id = call(
            "get_checkout_session",
            &json!({"meta":{"api_version":"2026-04-17"}}),
        );
        let e = no_id.tool_call().unwrap_err();
        assert_eq!(e.to_rpc_error().code, INVALID_PARAMS);
        assert!(
            matches!(&e, McpError::Envelope { path, .. } if path.to_string() == "$.params.arguments.id")
        );
        let no_payload = call(
            "create_checkout_session",
            &json!({"meta":{"api_version":"2026-04-17"}}),
        );
        assert_eq!(
            no_payload.tool_call().unwrap_err().to_rpc_error().code,
            INVALID_PARAMS
        );
        let unknown = call("delete_everything", &json!({"meta":{"api_version":"x"}}));
        assert_eq!(
            unknown.tool_call().unwrap_err().to_rpc_error().code,
            INVALID_PARAMS
        );
        let mut wrong = call(
            "get_checkout_session",
            &json!({"meta":{"api_version":"x"},"id":"a"}),
        );
        wrong.method = "tools/list".into();
        assert_eq!(
            wrong.tool_call().unwrap_err().to_rpc_error().code,
            METHOD_NOT_FOUND
        );
        wrong.jsonrpc = "1.0".into();
        assert_eq!(
            wrong.tool_call().unwrap_err().to_rpc_error().code,
            INVALID_REQUEST
        );
        // meta.api_version is required by the envelope schema (MCP-02).
        let bad = ToolCallRequest::from_value(&json!({"jsonrpc":"2.0",
            "id":1,"method":"tools/call","params":{"name":"get_checkout_session",
            "arguments":{"meta":{},"id":"a"}}}))
        .unwrap_err();
        assert_eq!(bad.to_rpc_error().code, INVALID_PARAMS);
        assert!(
            matches!(&bad, McpError::Envelope { path, message, .. }
                if path.to_string() == "$.params.arguments.meta" && message.contains("api_version")),
            "{bad:?}"
        );
        // A null where the binding wants a string is an error, not a silent drop.
        let null_key = ToolCallRequest::from_value(&json!({"jsonrpc":"2.0","id":1,
            "method":"tools/call","params":{"name":"get_checkout_session",
            "arguments":{"meta":{"api_version":"2026-04-17","idempotency_key":null},"id":"a"}}}))
        .unwrap_err();
        assert!(
            matches!(&null_key, McpError::Envelope { path, .. }
                if path.to_string() == "$.params.arguments.meta.idempotency_key"),
            "{null_key:?}"
        );
        let not_rpc = ToolCallRequest::from_value(&json!({"id": 1})).unwrap_err();
        assert_eq!(not_rpc.to_rpc_error().code, INVALID_REQUEST);
        let ok = ToolCallRequest::from_value(&json!({"jsonrpc":"2.0","id":"x",
            "method":"tools/call","params":{"name":"get_checkout_session",
            "arguments":{"meta":{"api_version":"2026-04-17"},"id":"a"}}}))
        .unwrap();
        assert_eq!(ok.tool_call().unwrap(), ToolCall::Get { id: "a".into() });
    }

    #[test]
    fn mcp_03_payload_errors_are_acp_errors_with_payload_paths() {
        let create = call(
            "create_checkout_session",
            &json!({"meta":{"api_version":"2026-04-17"},
                    "payload":{"line_items":[{"id":"item_1"}],"capabilities":{}}}),
        );
        let e = create.tool_call().unwrap_err();
        let rpc = e.to_rpc_error();
        assert_eq!(rpc.code, ACP_ERROR);
        let acp = rpc.acp_error().unwrap().unwrap();
        assert_eq!(acp.code(), "missing_required_field");
        assert_eq!(acp.param(), Some("$.payload.currency"));
    }

    #[test]
    fn mcp_07_08_meta_unknown_keys_kept_and_authorization_flagged() {
        let req = call(
            "get_checkout_session",
            &json!({"meta":{"api_version":"2026-01-30","Authorization":"Bearer x","x-trace":1},
                    "id":"cs_1"}),
        );
        let meta = &req.params.arguments.meta;
        assert!(meta.carries_authorization());
        assert_eq!(meta.extra.get("x-trace"), Some(&json!(1)));
        assert!(req.tool_call().is_ok());
        assert_eq!(
            meta.negotiate_version(&[ApiVersion::V2026_01_30]).unwrap(),
            ApiVersion::V2026_01_30
        );
        let old = Meta::new(&ApiVersion::V2025_09_29);
        let e = old
            .negotiate_version(&[ApiVersion::V2026_01_30])
            .unwrap_err();
        assert_eq!(e.code(), "unsupported_api_version");
    }

    #[test]
    fn meta_typed_accessors() {
        let mut meta = Meta::new(&ApiVersion::V2026_01_30);
        assert_eq!(meta.idempotency_key().unwrap(), None);
        meta.idempotency_key = Some(String::new());
        assert_eq!(
            meta.idempotency_key().unwrap_err().param(),
            Some("$.meta.idempotency_key")
        );
        meta.timestamp = Some("yesterday".into());
        assert_eq!(
            meta.timestamp().unwrap_err().param(),
            Some("$.meta.timestamp")
        );
        meta.timestamp = Some("2026-04-17T10:00:00Z".into());
        assert!(meta.timestamp().unwrap().is_some());
    }

    #[test]
    fn mcp_05_acp_error_in_data() {
        let acp = AcpError::requires_3ds();
        let resp = Response::failure(json!(7), RpcError::from(&acp));
        let v = serde_json::to_value(&resp).unwrap();
        assert_eq!(v["error"]["code"], json!(-32000));
        assert_eq!(v["error"]["data"], acp.to_json());
        assert!(v.get("result").is_none());
        let back: Response = serde_json::from_value(v).unwrap();
        assert_eq!(back.error.unwrap().acp_error().unwrap().unwrap(), acp);
    }
}
