//! A bare JSON echo server: the baseline `acp load` compares a merchant against (the cost of
//! the HTTP stack, JSON parsing and serialization, without any checkout logic).
//!
//! Every `POST`, on any path, is parsed as JSON and answered back, with `"id": "cs_echo"`
//! added to an object that has no `id` (so a load flow can continue from the create
//! answer): `201` for `/checkout_sessions`, `200` otherwise; a body that is not JSON gets
//! `400` with an ACP error. Every `GET` answers `{"id":"cs_echo"}`; other methods `405`.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse as _, Response};
use serde_json::{Value, json};

/// The id every answer carries when the request had none.
pub(crate) const ECHO_ID: &str = "cs_echo";

/// The router: one fallback handler for every method and path.
pub(crate) fn router() -> Router {
    Router::new().fallback(echo)
}

/// Binds `addr` and serves the echo router; returns the bound address and the server task.
///
/// # Errors
///
/// The address cannot be bound.
pub(crate) async fn spawn(
    addr: SocketAddr,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("bind {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let handle = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router()).await {
            eprintln!("echo server stopped: {e}");
        }
    });
    Ok((local, handle))
}

async fn echo(method: Method, uri: Uri, body: Bytes) -> Response {
    let (status, value) = answer(&method, uri.path(), &body);
    let bytes = serde_json::to_vec(&value).unwrap_or_default();
    let mut response = (status, bytes).into_response();
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    response
}

/// The status and JSON body answered to `method path` with `body`.
pub(crate) fn answer(method: &Method, path: &str, body: &[u8]) -> (StatusCode, Value) {
    if method == Method::GET {
        return (StatusCode::OK, json!({ "id": ECHO_ID }));
    }
    if method != Method::POST {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"type": "invalid_request", "code": "method_not_allowed",
                "message": "the echo server answers GET and POST"}),
        );
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(mut value) => {
            if let Some(object) = value.as_object_mut() {
                object.entry("id").or_insert_with(|| Value::from(ECHO_ID));
            }
            let status = if path == "/checkout_sessions" {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (status, value)
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            json!({"type": "invalid_request", "code": "invalid_json",
                "message": format!("the body is not JSON: {e}")}),
        ),
    }
}
