//! The MCP binding: JSON-RPC `tools/call` through the same engine, checks and trait.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use agentic_commerce::protocol::mcp::{self, Meta, ToolArguments, ToolCallRequest, ToolName};
use agentic_commerce::protocol::version::ApiVersion;
use http::Method;
use serde_json::{Value, json};

use super::{AGENT_KEY, Answer, Call, address, create_body, engine, now, sign};

fn tool_call(tool: ToolName, id: Option<&str>, payload: Option<Value>, key: Option<&str>) -> Call {
    let mut meta = Meta::new(&ApiVersion::V2026_04_17);
    meta.idempotency_key = key.map(str::to_owned);
    meta.request_id = Some("req_mcp".to_owned());
    if let Some(payload) = &payload {
        let signed = sign(&serde_json::to_vec(payload).unwrap(), now());
        meta.signature = Some(signed.signature);
        meta.timestamp = Some(signed.timestamp);
    }
    let arguments = ToolArguments {
        meta,
        id: id.map(str::to_owned),
        payload,
        extra: serde_json::Map::new(),
    };
    let request = ToolCallRequest::new(7, tool, arguments);
    Call {
        method: Method::POST,
        path: "/mcp".to_owned(),
        headers: vec![
            ("Authorization".to_owned(), format!("Bearer {AGENT_KEY}")),
            ("Content-Type".to_owned(), "application/json".to_owned()),
        ],
        body: serde_json::to_vec(&request).unwrap(),
    }
}

fn rpc(answer: &Answer) -> mcp::Response {
    assert_eq!(answer.status, 200);
    serde_json::from_value(answer.body.clone()).unwrap()
}

#[tokio::test]
async fn mcp_create_get_and_replay_run_through_the_engine() {
    let (_, engine) = engine();
    let create = tool_call(
        ToolName::CreateCheckoutSession,
        None,
        Some(create_body()),
        Some("mcp_key_1"),
    );
    let created = rpc(&create.send(&engine).await);
    assert_eq!(created.id, json!(7));
    let session = created.session().expect("a result").expect("a session");
    let id = session.id.as_str().to_owned();

    let replayed = rpc(&create.send(&engine).await);
    assert_eq!(
        replayed.result, created.result,
        "the same key replays the same session"
    );

    let got = rpc(
        &tool_call(ToolName::GetCheckoutSession, Some(&id), None, None)
            .send(&engine)
            .await,
    );
    assert_eq!(got.session().unwrap().unwrap().id.as_str(), id);

    // The REST side sees the same session: one store, one pipeline.
    let rest = Call::get(&format!("/checkout_sessions/{id}"))
        .send(&engine)
        .await;
    assert_eq!(rest.status, 200);

    let updated = rpc(&tool_call(
        ToolName::UpdateCheckoutSession,
        Some(&id),
        Some(json!({"fulfillment_details": address()})),
        Some("mcp_key_2"),
    )
    .send(&engine)
    .await);
    assert_eq!(updated.result.unwrap()["status"], "ready_for_payment");
}

#[tokio::test]
async fn mcp_errors_carry_the_acp_error_and_the_same_checks_apply() {
    let (_, engine) = engine();
    let missing = rpc(
        &tool_call(ToolName::GetCheckoutSession, Some("cs_nope"), None, None)
            .send(&engine)
            .await,
    );
    let error = missing.error.expect("an error");
    assert_eq!(error.code, mcp::ACP_ERROR);
    let acp = error.acp_error().unwrap().unwrap();
    assert_eq!(acp.status(), 404);

    // A bad signature is refused exactly as over REST.
    let mut forged = tool_call(
        ToolName::CreateCheckoutSession,
        None,
        Some(create_body()),
        Some("mcp_key_3"),
    );
    let mut value: Value = serde_json::from_slice(&forged.body).unwrap();
    value["params"]["arguments"]["payload"]["currency"] = json!("eur");
    forged.body = serde_json::to_vec(&value).unwrap();
    let refused = rpc(&forged.send(&engine).await);
    assert_eq!(
        refused.error.unwrap().acp_error().unwrap().unwrap().code(),
        "invalid_signature"
    );

    // A body error points into the payload.
    let invalid = rpc(&tool_call(
        ToolName::CreateCheckoutSession,
        None,
        Some(json!({"currency": "usd", "capabilities": {}})),
        Some("mcp_key_4"),
    )
    .send(&engine)
    .await);
    let acp = invalid.error.unwrap().acp_error().unwrap().unwrap();
    assert_eq!(acp.param(), Some("$.payload.line_items"));

    // Without the HTTP bearer, nothing runs.
    let anonymous =
        tool_call(ToolName::GetCheckoutSession, Some("cs_0"), None, None).without("Authorization");
    let unauthorized = rpc(&anonymous.send(&engine).await);
    assert_eq!(
        unauthorized
            .error
            .unwrap()
            .acp_error()
            .unwrap()
            .unwrap()
            .status(),
        401
    );

    let not_rpc = Call {
        body: b"[]".to_vec(),
        ..tool_call(ToolName::GetCheckoutSession, Some("x"), None, None)
    };
    assert_eq!(
        rpc(&not_rpc.send(&engine).await).error.unwrap().code,
        mcp::INVALID_REQUEST
    );
}
