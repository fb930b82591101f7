//! The MCP binding probes (docs/mcp-binding.md, `openrpc.agentic_checkout.json`, 2026-04-17):
//! JSON-RPC 2.0 `tools/call` requests sent with POST to the merchant's MCP endpoint (`--mcp-url`,
//! default `{base_url}/mcp`), written with the crate's `protocol::mcp` types.
//!
//! `create_checkout_session` (then the same call again: the same `meta.idempotency_key` and
//! payload give the same session), `get_checkout_session` of the created session, and
//! `get_checkout_session` of an unknown id (a JSON-RPC error -32000 whose `data` is an ACP
//! error). `meta` carries `api_version`, `idempotency_key` (create), `request_id`, and, when
//! the checker signs, `signature` / `timestamp` over the `payload` exactly as the HTTP probes
//! sign a body (SIG-07). The bearer token authenticates the HTTP request (MCP-08: never in
//! `meta`). A `text/event-stream` answer (MCP Streamable HTTP) is read for its JSON-RPC
//! response. No MCP `initialize` handshake is made: the binding's conformance list asks only
//! for `tools/call`.
//!
//! MCP is optional: the probes run when `--mcp-url` is given or the discovery document's
//! `transports` lists `mcp`, and are skipped (with the reason) otherwise.

use std::cell::Cell;

use serde_json::Value;
use time::OffsetDateTime;

use super::client::{Client, Exchange, fresh_id};
use super::probes::{Settings, applies, to_bytes};
use super::report::{Level, Report};
use super::shapes;
use super::validate;
use agentic_commerce::protocol::mcp::{
    ACP_ERROR, JSONRPC_VERSION, Meta, Response, ToolArguments, ToolCallRequest, ToolName,
};
use agentic_commerce::protocol::version::ApiVersion;

/// Every check of this module, in the order they run.
pub(crate) const CHECKS: &[&str] = &[
    "mcp.create",
    "mcp.idempotency.replay",
    "mcp.get",
    "mcp.error",
];

const CREATE_RULES: &[&str] = &["MCP-01", "MCP-02", "MCP-03", "MCP-05"];
const CREATE_SIGNED_RULES: &[&str] = &["MCP-01", "MCP-02", "MCP-03", "MCP-05", "SIG-07"];

/// The MCP binding is a 2026-04-17 API.
const MCP_VERSION: ApiVersion = ApiVersion::V2026_04_17;

/// Where to probe MCP: `--mcp-url`, else `{base}/mcp` when discovery's `transports` lists
/// `mcp`; `Err` is why the probes are skipped.
pub(crate) fn endpoint(
    explicit: Option<&str>,
    base: &str,
    discovery: Option<&Value>,
) -> Result<String, String> {
    if let Some(url) = explicit {
        return Ok(url.to_owned());
    }
    match discovery.and_then(|d| d["transports"].as_array()) {
        Some(t) if t.iter().any(|t| t == "mcp") => Ok(format!("{base}/mcp")),
        Some(t) => Err(format!(
            "the discovery document's transports {} do not offer \"mcp\" (pass --mcp-url to probe anyway)",
            Value::Array(t.clone())
        )),
        None => Err(
            "no discovery document advertises the MCP transport (pass --mcp-url to probe it)"
                .to_owned(),
        ),
    }
}

/// A `tools/call` request for `tool` with `meta` filled in as the binding maps the headers.
pub(crate) fn call(
    merchant: &Client,
    rpc_id: u64,
    tool: ToolName,
    id: Option<&str>,
    payload: Option<&Value>,
    idempotency_key: Option<&str>,
) -> ToolCallRequest {
    let mut meta = Meta::new(&MCP_VERSION);
    meta.idempotency_key = idempotency_key.map(str::to_owned);
    meta.request_id = Some(fresh_id("req_"));
    meta.user_agent = Some("acp-conformance/0.1".to_owned());
    if let Some((signature, timestamp)) =
        payload.and_then(|p| merchant.sign(&to_bytes(p), OffsetDateTime::now_utc()))
    {
        meta.signature = Some(signature);
        meta.timestamp = Some(timestamp);
    }
    ToolCallRequest::new(
        rpc_id,
        tool,
        ToolArguments {
            meta,
            id: id.map(str::to_owned),
            payload: payload.cloned(),
            extra: serde_json::Map::new(),
        },
    )
}

/// The JSON-RPC response in an HTTP answer: a JSON body, or the `data:` of a
/// `text/event-stream` event answering `rpc_id`.
///
/// # Errors
///
/// Not HTTP 200, no JSON-RPC response, or a response to another id / not `"2.0"`.
pub(crate) fn rpc_response(answer: &Exchange, rpc_id: u64) -> Result<Response, String> {
    if answer.status != 200 {
        return Err(format!(
            "expected HTTP 200 with a JSON-RPC response, got {}",
            answer.brief()
        ));
    }
    let candidates: Vec<Value> = match &answer.json {
        Some(v) => vec![v.clone()],
        None => sse_events(&String::from_utf8_lossy(&answer.raw)),
    };
    let value = candidates
        .into_iter()
        .find(|v| v.get("result").is_some() || v.get("error").is_some())
        .ok_or_else(|| format!("no JSON-RPC response in {}", answer.brief()))?;
    let response: Response = serde_json::from_value(value.clone())
        .map_err(|e| format!("not a JSON-RPC response ({e}): {value}"))?;
    if response.jsonrpc != JSONRPC_VERSION {
        return Err(format!("jsonrpc is {:?}, not \"2.0\"", response.jsonrpc));
    }
    if response.id != rpc_id {
        return Err(format!(
            "answered JSON-RPC id {}, not {rpc_id}",
            response.id
        ));
    }
    Ok(response)
}

/// The JSON `data` of each event of a `text/event-stream` body.
fn sse_events(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut data = String::new();
    for line in text.lines().chain(std::iter::once("")) {
        if let Some(rest) = line.strip_prefix("data:") {
            if !data.is_empty() {
                data.push('\n');
            }
            data.push_str(rest.strip_prefix(' ').unwrap_or(rest));
        } else if line.is_empty() && !data.is_empty() {
            if let Ok(v) = serde_json::from_str(&data) {
                out.push(v);
            }
            data.clear();
        }
    }
    out
}

/// A successful tool result that is a session (MCP-05: `Response::session`, then strictly
/// the 2026-04-17 `CheckoutSession`), with `id` when given.
pub(crate) fn judge_session(response: &Response, id: Option<&str>) -> Result<Value, String> {
    if let Some(e) = &response.error {
        return Err(format!(
            "JSON-RPC error {} {:?} (data {})",
            e.code,
            e.message,
            e.data.clone().unwrap_or(Value::Null)
        ));
    }
    let parsed = response
        .session()
        .ok_or("the response has neither result nor error")?;
    parsed.map_err(|e| format!("result is not a CheckoutSession: {e}"))?;
    let result = response.result.clone().unwrap_or(Value::Null);
    validate::strict_in(&MCP_VERSION, "agentic_checkout.CheckoutSession", &result)
        .map_err(|e| format!("result: {e}"))?;
    if let Some(id) = id {
        if result["id"] != id {
            return Err(format!("answered session {} instead of {id}", result["id"]));
        }
    }
    Ok(result)
}

/// A JSON-RPC error with code -32000 whose `data` is an ACP error (MCP-05, MCP-06).
pub(crate) fn judge_error(response: &Response) -> Result<String, String> {
    let error = response.error.as_ref().ok_or_else(|| {
        format!(
            "expected a JSON-RPC error, got result {}",
            response.result.clone().unwrap_or(Value::Null)
        )
    })?;
    if error.code != ACP_ERROR {
        return Err(format!(
            "JSON-RPC code {}, not {ACP_ERROR} for an ACP error (MCP-05)",
            error.code
        ));
    }
    let acp = error
        .acp_error()
        .ok_or("error.data is absent: no ACP error (MCP-05)")?
        .map_err(|e| format!("error.data is not an ACP error: {e}"))?;
    let data = error.data.clone().unwrap_or(Value::Null);
    validate::strict_in(&MCP_VERSION, "agentic_checkout.Error", &data)
        .map_err(|e| format!("error.data: {e}"))?;
    Ok(format!(
        "JSON-RPC error {ACP_ERROR}, data {} {}",
        acp.kind().as_str(),
        acp.code()
    ))
}

/// Sends one tool call to `url` and reads its JSON-RPC response.
async fn exchange(
    merchant: &Client,
    url: &str,
    request: &ToolCallRequest,
) -> Result<Response, String> {
    let id = request.id.as_u64().unwrap_or_default();
    let body = serde_json::to_vec(request).map_err(|e| e.to_string())?;
    let answer = merchant
        .post_rpc(url, &body)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    rpc_response(&answer, id)
}

/// Runs the MCP probes.
pub(crate) async fn run(
    merchant: &Client,
    settings: &Settings,
    discovery: Option<&Value>,
    report: &mut Report,
) {
    let v = &settings.version;
    // Every id is recorded as not applicable, so no short-circuit.
    let applicable: Vec<bool> = CHECKS.iter().map(|id| applies(v, report, id)).collect();
    if applicable.contains(&false) {
        return;
    }
    let url = match endpoint(settings.mcp_url.as_deref(), merchant.base(), discovery) {
        Ok(url) => url,
        Err(why) => {
            for id in CHECKS {
                report.skip(id, why.clone());
            }
            return;
        }
    };
    let payload = match shapes::create(&MCP_VERSION, &settings.items[..1], &settings.currency) {
        Ok(r) => r.body,
        Err(e) => {
            for id in CHECKS {
                report.skip(id, e.clone());
            }
            return;
        }
    };
    let endpoint = Endpoint {
        merchant,
        url,
        last_id: Cell::new(0),
    };
    let key = fresh_id("conformance-mcp-");
    let first = endpoint
        .call(
            ToolName::CreateCheckoutSession,
            None,
            Some(&payload),
            Some(&key),
        )
        .await
        .and_then(|r| judge_session(&r, None));
    report.record(
        "mcp.create",
        if merchant.signs() {
            CREATE_SIGNED_RULES
        } else {
            CREATE_RULES
        },
        Level::Must,
        first
            .as_ref()
            .map(|s| {
                format!(
                    "JSON-RPC result, valid 2026-04-17 CheckoutSession {} ({})",
                    s["id"].as_str().unwrap_or("?"),
                    validate::status(s)
                )
            })
            .map_err(Clone::clone),
    );
    match &first {
        Ok(session) => replay_and_get(&endpoint, &payload, &key, session, report).await,
        Err(_) => {
            for id in ["mcp.idempotency.replay", "mcp.get"] {
                report.skip(id, "needs the session from `mcp.create`, which failed");
            }
        }
    }
    let unknown = fresh_id("cs_conformance_unknown_");
    report.record(
        "mcp.error",
        &["MCP-05", "MCP-06", "ERR-01"],
        Level::Must,
        endpoint
            .call(ToolName::GetCheckoutSession, Some(&unknown), None, None)
            .await
            .and_then(|r| judge_error(&r)),
    );
}

/// The MCP endpoint and the last JSON-RPC id used.
struct Endpoint<'a> {
    merchant: &'a Client,
    url: String,
    last_id: Cell<u64>,
}

impl Endpoint<'_> {
    /// One tool call with a fresh JSON-RPC id; its response.
    async fn call(
        &self,
        tool: ToolName,
        id: Option<&str>,
        payload: Option<&Value>,
        key: Option<&str>,
    ) -> Result<Response, String> {
        self.last_id.set(self.last_id.get() + 1);
        let request = call(self.merchant, self.last_id.get(), tool, id, payload, key);
        exchange(self.merchant, &self.url, &request).await
    }
}

/// The create again with the same key and payload (the same session, IDEM-08), then a get of
/// the session.
async fn replay_and_get(
    endpoint: &Endpoint<'_>,
    payload: &Value,
    key: &str,
    session: &Value,
    report: &mut Report,
) {
    let id = session["id"].as_str().unwrap_or_default().to_owned();
    let replay = endpoint
        .call(ToolName::CreateCheckoutSession, None, Some(payload), Some(key))
        .await
        .and_then(|r| {
            let s = judge_session(&r, None)?;
            if s == *session {
                Ok(format!("the same session {id} again (no second session)"))
            } else if s["id"] == id {
                Err(format!(
                    "session {id} again, but the result differs from the original (IDEM-08)"
                ))
            } else {
                Err(format!(
                    "the same meta.idempotency_key and payload created another session {} (IDEM-08, IDEM-10)",
                    s["id"]
                ))
            }
        });
    report.record(
        "mcp.idempotency.replay",
        &["MCP-02", "IDEM-08", "IDEM-10"],
        Level::Must,
        replay,
    );
    let got = endpoint
        .call(ToolName::GetCheckoutSession, Some(&id), None, None)
        .await
        .and_then(|r| judge_session(&r, Some(&id)));
    report.record(
        "mcp.get",
        &["MCP-01", "MCP-05"],
        Level::Must,
        got.map(|s| {
            format!(
                "JSON-RPC result, valid 2026-04-17 CheckoutSession {id} ({})",
                validate::status(&s)
            )
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentic_commerce::trust::signature::SignedContent;
    use serde_json::json;
    use std::time::Duration;

    fn client(secret: Option<&[u8]>) -> Client {
        signed_client(secret, SignedContent::CanonicalBody)
    }

    fn signed_client(secret: Option<&[u8]>, content: SignedContent) -> Client {
        Client::new(
            "http://127.0.0.1:9",
            Some("k"),
            "2026-04-17",
            secret.map(|s| (s, content)),
            Duration::from_secs(1),
        )
        .unwrap()
    }

    fn answer(status: u16, headers: &[(&str, &str)], raw: &[u8]) -> Exchange {
        Exchange {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            raw: raw.to_vec(),
            json: serde_json::from_slice(raw).ok(),
        }
    }

    #[test]
    fn mcp_endpoint_follows_the_flag_then_discovery() {
        let base = "http://m.example";
        assert_eq!(
            endpoint(Some("http://x/rpc"), base, None).unwrap(),
            "http://x/rpc"
        );
        let offered = json!({"transports": ["rest", "mcp"]});
        assert_eq!(
            endpoint(None, base, Some(&offered)).unwrap(),
            "http://m.example/mcp"
        );
        let rest = json!({"transports": ["rest"]});
        assert!(
            endpoint(None, base, Some(&rest))
                .unwrap_err()
                .contains("do not offer \"mcp\"")
        );
        assert!(
            endpoint(None, base, None)
                .unwrap_err()
                .contains("--mcp-url")
        );
    }

    #[test]
    fn mcp_02_sig_07_meta_carries_the_headers_and_a_payload_signature() {
        let payload = shapes::create(&MCP_VERSION, &["var_1".to_owned()], "usd")
            .unwrap()
            .body;
        let signed = signed_client(
            Some(b"conformance-test-secret"),
            SignedContent::TimestampAndBody,
        );
        let request = call(
            &signed,
            7,
            ToolName::CreateCheckoutSession,
            None,
            Some(&payload),
            Some("key_1"),
        );
        let v = serde_json::to_value(&request).unwrap();
        assert_eq!(v["jsonrpc"], "2.0");
        assert_eq!(v["method"], "tools/call");
        assert_eq!(v["id"], 7);
        assert_eq!(v["params"]["name"], "create_checkout_session");
        let meta = &v["params"]["arguments"]["meta"];
        assert_eq!(meta["api_version"], "2026-04-17");
        assert_eq!(meta["idempotency_key"], "key_1");
        assert!(meta["request_id"].as_str().unwrap().starts_with("req_"));
        assert!(meta.get("authorization").is_none());
        // The signature is the one the HTTP body would carry at that timestamp.
        let at = agentic_commerce::protocol::headers::parse_timestamp(
            meta["timestamp"].as_str().unwrap(),
        )
        .unwrap();
        let (expected, _) = signed.sign(&to_bytes(&payload), at.0).unwrap();
        assert_eq!(meta["signature"], expected);
        // The server side reads it back as a typed call (MCP-03).
        let back = ToolCallRequest::from_value(&v).unwrap();
        back.tool_call().unwrap();
        // Unsigned checker, or no payload (get): no signature in meta.
        let get = call(
            &client(None),
            8,
            ToolName::GetCheckoutSession,
            Some("cs_1"),
            None,
            None,
        );
        let v = serde_json::to_value(&get).unwrap();
        assert!(v["params"]["arguments"]["meta"].get("signature").is_none());
        assert_eq!(v["params"]["arguments"]["id"], "cs_1");
        assert!(v["params"]["arguments"].get("payload").is_none());
    }

    #[test]
    fn mcp_responses_are_read_from_json_or_an_event_stream() {
        let body = br#"{"jsonrpc":"2.0","id":3,"error":{"code":-32000,"message":"nope","data":{"type":"invalid_request","code":"not_found","message":"nope"}}}"#;
        let r = rpc_response(&answer(200, &[], body), 3).unwrap();
        assert_eq!(
            judge_error(&r).unwrap(),
            "JSON-RPC error -32000, data invalid_request not_found"
        );
        let mut sse = b"event: message\ndata: ".to_vec();
        sse.extend_from_slice(body);
        sse.extend_from_slice(b"\n\n");
        let r = rpc_response(
            &answer(200, &[("content-type", "text/event-stream")], &sse),
            3,
        )
        .unwrap();
        assert!(r.error.is_some());
        assert!(
            rpc_response(&answer(200, &[], body), 4)
                .unwrap_err()
                .contains("not 4")
        );
        assert!(
            rpc_response(&answer(404, &[], b"no"), 3)
                .unwrap_err()
                .contains("expected HTTP 200")
        );
    }

    #[test]
    fn mcp_05_06_errors_need_code_32000_and_an_acp_error_in_data() {
        let rpc = |v: Value| serde_json::from_value::<Response>(v).unwrap();
        let wrong_code = rpc(
            json!({"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"x",
            "data":{"type":"invalid_request","code":"not_found","message":"x"}}}),
        );
        assert!(judge_error(&wrong_code).unwrap_err().contains("MCP-05"));
        let no_data = rpc(json!({"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"x"}}));
        assert!(judge_error(&no_data).unwrap_err().contains("absent"));
        let wrapped = rpc(
            json!({"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"x",
            "data":{"error":{"type":"invalid_request","code":"not_found","message":"x"}}}}),
        );
        assert!(judge_error(&wrapped).is_err());
        let result = rpc(json!({"jsonrpc":"2.0","id":1,"result":{"id":"cs_1"}}));
        assert!(
            judge_error(&result)
                .unwrap_err()
                .contains("expected a JSON-RPC error")
        );
        // A result that is not a full session fails judge_session, naming the problem.
        assert!(judge_session(&result, None).is_err());
        assert!(
            judge_session(&wrong_code, None)
                .unwrap_err()
                .contains("-32602")
        );
    }
}
