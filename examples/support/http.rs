//! HTTP glue of the examples and their end-to-end tests (the merchant and the vault are served
//! by the crate's engines, the agent is built on the client crate): ACP error JSON as axum
//! responses, and ids and secrets from the OS CSPRNG (the calls to merchants and PSPs go through the
//! `agentic-commerce-client` crate). Everything protocol-specific is the crate's; this is only
//! plumbing.

#![allow(dead_code)] // Each binary that includes this module uses a different part of it.

use agentic_commerce::protocol::error::AcpError;
use agentic_commerce::spec::v2026_04_17::agentic_checkout::{Error, ErrorType};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// A JSON response before it is sent (and possibly stored for replay).
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    /// HTTP status.
    pub(crate) status: u16,
    /// JSON body.
    pub(crate) body: Value,
    /// Extra headers.
    pub(crate) headers: Vec<(String, String)>,
}

impl Reply {
    /// A reply with no extra headers.
    pub(crate) fn new(status: u16, body: Value) -> Self {
        Self {
            status,
            body,
            headers: Vec::new(),
        }
    }

    /// An ACP `Error` object (`param` is a JSONPath, CHK-09).
    pub(crate) fn error(
        status: u16,
        kind: &str,
        code: &str,
        message: &str,
        param: Option<&str>,
    ) -> Self {
        let mut error = Error::new(ErrorType::from(kind), code, message);
        error.param = param.map(str::to_owned);
        match AcpError::new(status, error) {
            Ok(error) => Self::acp(&error),
            // Only for a status outside 400..=599, which no caller passes.
            Err(_) => Self::acp(&AcpError::processing_error(message)),
        }
    }

    /// The crate's ACP error, with its status and headers (`Retry-After`).
    pub(crate) fn acp(error: &AcpError) -> Self {
        Self {
            status: error.status(),
            body: error.to_json(),
            headers: error
                .response_headers()
                .into_iter()
                .map(|(n, v)| (n.to_owned(), v))
                .collect(),
        }
    }

    /// A 500 `processing_error` (never stored, IDEM-13). `detail` (a database error, an
    /// upstream URL …) is logged to stderr under a fresh request id; the body (a flat ACP
    /// `Error`) carries only a generic message naming that id, also sent as `Request-Id`, so an operator can find the detail and a client learns
    /// nothing about the internals.
    pub(crate) fn internal(detail: &str) -> Self {
        let id = new_id("req_");
        eprintln!("internal error {id}: {detail}");
        let mut reply = Self::error(
            500,
            "processing_error",
            "internal_error",
            &format!("internal server error (request {id})"),
            None,
        );
        reply.headers.push(("Request-Id".to_owned(), id));
        reply
    }

    /// The response to send.
    pub(crate) fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.body).unwrap_or_default();
        raw_response(self.status, body, &self.headers)
    }
}

/// A response from raw parts (used for replays, whose body is sent byte for byte).
pub(crate) fn raw_response(status: u16, body: Vec<u8>, headers: &[(String, String)]) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body).into_response();
    let map = response.headers_mut();
    map.insert("content-type", HeaderValue::from_static("application/json"));
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            map.insert(name, value);
        }
    }
    response
}

/// A header value as text, if present and UTF-8.
pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `N` bytes from the operating system's CSPRNG.
///
/// A server that cannot read the OS CSPRNG cannot mint credentials (vault tokens, ids,
/// secrets) safely, and there is no weaker fallback: the process stops (after saying why)
/// rather than hand out a guessable value.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0_u8; N];
    if let Err(e) = getrandom::fill(&mut bytes) {
        eprintln!("fatal: the operating system's random number generator failed: {e}");
        std::process::abort();
    }
    bytes
}

/// A fresh id with `prefix`: 128 bits from the OS CSPRNG, hex-encoded (`vt_…` tokens act as
/// credentials, so every id is unguessable, not merely unique).
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", hex::encode(random_bytes::<16>()))
}

/// A fresh secret for HMAC-SHA256: 32 bytes from the OS CSPRNG (the hash output length, as
/// RFC 2104 §3 recommends), hex-encoded so it can be passed as a flag.
pub(crate) fn new_secret() -> String {
    hex::encode(random_bytes::<32>())
}
