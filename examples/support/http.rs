//! HTTP glue shared by the PSP vault and the agent examples (the merchant is served by the
//! crate's engine): turning axum requests into the crate's inputs (header pairs, body bytes)
//! and the crate's outputs (ACP error JSON, stored responses) into axum responses, ids and
//! secrets from the OS CSPRNG, and a capped response reader. Everything protocol-specific is
//! the crate's; this is only plumbing.

#![allow(dead_code)] // Each binary that includes this module uses a different part of it.

use std::sync::Arc;

use agentic_commerce::parse::StrictError;
use agentic_commerce::parse::json_path::JsonPath;
use agentic_commerce::protocol::error::AcpError;
use agentic_commerce::protocol::headers::{IdempotencyKey, Operation, RequestHeaders};
use agentic_commerce::protocol::version::ApiVersion;
use agentic_commerce::spec::v2026_04_17::agentic_checkout::{Error, ErrorType};
use agentic_commerce::trust::idempotency::{
    Fingerprint, IdempotencyOutcome, IdempotencyScope, LeaseToken, StoredResponse,
};
use agentic_commerce::trust::signature::{SignedRequest, Verifier};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use time::OffsetDateTime;

use super::backend::{Backend, Document};

/// The API versions the example servers accept (VER-02).
pub(crate) const SUPPORTED_VERSIONS: &[ApiVersion] = &[ApiVersion::V2026_04_17];

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

/// The request headers as `(name, value)` pairs for [`RequestHeaders::parse`]. Non-UTF-8
/// values are passed lossily so the crate reports them as malformed rather than absent.
pub(crate) fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Everything an ACP endpoint checks before it looks at the body: header validation
/// (`RequestHeaders::parse`), the bearer token, version negotiation (VER-01..05), JSON syntax
/// (400 with `param`) and the request signature (SIG-04, SIG-05). Returns the parsed headers
/// and the JSON value of the body (`None` for an empty body).
///
/// # Errors
///
/// The ACP error reply to send.
pub(crate) fn check_request(
    op: Operation,
    headers: &HeaderMap,
    body: &[u8],
    api_key: &str,
    verifier: Option<&Verifier>,
    now: OffsetDateTime,
) -> Result<(RequestHeaders, Option<Value>), Reply> {
    let pairs = header_pairs(headers);
    let parsed = RequestHeaders::parse_with_body(
        op,
        pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        !body.is_empty(),
    )
    .map_err(|errors| {
        let status = errors.primary().status();
        Reply::new(
            status,
            AcpError::from_header_errors(&errors, SUPPORTED_VERSIONS).to_json(),
        )
    })?;
    let authorized = parsed
        .authorization()
        .is_some_and(|token| token.matches(api_key));
    if !authorized {
        return Err(Reply::error(
            401,
            "invalid_request",
            "unauthorized",
            "invalid API key",
            None,
        ));
    }
    if let Err(e) = parsed.negotiate_version(SUPPORTED_VERSIONS) {
        return Err(Reply::new(e.status(), AcpError::from(&e).to_json()));
    }
    let value = if body.is_empty() {
        None
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(v) => Some(v),
            Err(e) => {
                return Err(Reply::error(
                    400,
                    "invalid_request",
                    "invalid_json",
                    &format!("request body is not valid JSON: {e}"),
                    Some("$"),
                ));
            }
        }
    };
    // SIG-01/SIG-04: every request with a body, and every mutating request without one (a
    // cancel without intent trace, signed over the empty content with its timestamp), must be
    // signed. Only reads (retrieve) rest on the API key alone.
    if let (Some(verifier), true) = (verifier, !body.is_empty() || op.requires_idempotency_key()) {
        let signed = SignedRequest {
            body,
            signature: parsed
                .signature()
                .map(agentic_commerce::protocol::headers::Signature::as_str),
            timestamp: header_str(headers, "timestamp"),
        };
        if let Err(e) = verifier.verify(&signed, now) {
            return Err(Reply::error(
                e.http_status(),
                "invalid_request",
                e.code(),
                &e.to_string(),
                None,
            ));
        }
    }
    Ok((parsed, value))
}

/// A header value as text, if present and UTF-8.
pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A typed-parse failure as a 400 with the JSONPath of the first problem (CHK-09).
pub(crate) fn strict_error_reply(error: &StrictError) -> Reply {
    let violations = error.violations();
    let (param, message) = violations.first().map_or_else(
        || (JsonPath::root().to_string(), error.to_string()),
        |v| (v.path.to_string(), v.message.clone()),
    );
    Reply::error(400, "invalid_request", "invalid", &message, Some(&param))
}

/// A reserved idempotency key: the scope and the lease that owns it (only this request may
/// finish or release it).
#[derive(Debug, Clone)]
pub(crate) struct Reservation {
    /// The scope.
    pub(crate) scope: IdempotencyScope,
    /// The owner token.
    pub(crate) lease: LeaseToken,
}

/// What [`begin`] decided.
pub(crate) enum Begin {
    /// Run the request, then call [`finish`].
    Proceed(Reservation),
    /// Send this (a replay, a conflict, a request in flight, a storage failure).
    Respond(Response),
}

/// Looks the request up in the idempotency store (IDEM-03..12): the scope is the caller
/// identity, the path and the key.
pub(crate) async fn begin(
    backend: &Arc<Backend>,
    headers: &RequestHeaders,
    identity: &str,
    path: &str,
    body: &[u8],
    now: OffsetDateTime,
) -> Begin {
    // RequestHeaders::parse requires the key on every POST (IDEM-04) from 2026-04-17 on. An
    // agent of an older version may omit it: its request then runs under a fresh key of its
    // own, with the same reservation, compare-and-swap and transaction as any other, and is
    // never replayed (those versions promise no replay without a key).
    let key = match headers.idempotency_key() {
        Some(key) => key.clone(),
        None => match IdempotencyKey::parse(&new_id("unkeyed_")) {
            Ok(key) => key,
            Err(_) => {
                return Begin::Respond(Reply::internal("cannot generate a key").into_response());
            }
        },
    };
    let scope = IdempotencyScope::new(identity, path, key);
    begin_scope(
        backend,
        scope,
        headers.api_version(),
        &echo(headers),
        body,
        now,
    )
    .await
}

/// [`begin`] for an endpoint outside ACP's header rules (the PSP's `/charges`): the caller
/// built the `scope` and says which headers to echo on a rejection. `api_version`, when the
/// request names one, is bound into the fingerprint.
pub(crate) async fn begin_scope(
    backend: &Arc<Backend>,
    scope: IdempotencyScope,
    api_version: Option<&ApiVersion>,
    echo_headers: &[(String, String)],
    body: &[u8],
    now: OffsetDateTime,
) -> Begin {
    let key = scope.key().clone();
    let fingerprint = match Fingerprint::of_body(body) {
        // The API version is part of the request (IDEM-11): a key replayed under another
        // version is a conflict (422), never the other version's stored response.
        Ok(f) => api_version.map_or(f, |v| {
            Fingerprint::from_canonical_bytes(
                &[v.as_str().as_bytes(), b"\n", f.as_bytes()].concat(),
            )
        }),
        Err(e) => {
            return Begin::Respond(
                Reply::error(
                    400,
                    "invalid_request",
                    "invalid_json",
                    &e.to_string(),
                    Some("$"),
                )
                .into_response(),
            );
        }
    };
    let store = Arc::clone(backend);
    let task_scope = scope.clone();
    let outcome =
        tokio::task::spawn_blocking(move || store.begin(&task_scope, &fingerprint, now)).await;
    match outcome {
        Ok(Ok(IdempotencyOutcome::Proceed(lease))) => Begin::Proceed(Reservation { scope, lease }),
        Ok(Ok(IdempotencyOutcome::Replay(stored))) => Begin::Respond(raw_response(
            stored.status,
            stored.body.clone(),
            &stored.replay_headers(&key),
        )),
        Ok(Ok(other)) => match other.rejection() {
            Some(rejection) => {
                let mut reply = Reply::new(rejection.status(), AcpError::from(rejection).to_json());
                reply.headers = rejection
                    .response_headers()
                    .into_iter()
                    .map(|(n, v)| (n.to_owned(), v))
                    .collect();
                reply.headers.extend_from_slice(echo_headers);
                Begin::Respond(reply.into_response())
            }
            None => {
                Begin::Respond(Reply::internal("unexpected idempotency outcome").into_response())
            }
        },
        Ok(Err(e)) => Begin::Respond(Reply::internal(&e.to_string()).into_response()),
        Err(_) => Begin::Respond(Reply::internal("storage task failed").into_response()),
    }
}

/// The HDR-04 echo headers as owned pairs.
pub(crate) fn echo(headers: &RequestHeaders) -> Vec<(String, String)> {
    headers
        .echo_headers()
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v))
        .collect()
}

/// Stores the reply (with `docs`, atomically: IDEM-17) and sends it.
pub(crate) async fn finish(
    backend: &Arc<Backend>,
    reservation: Reservation,
    headers: &RequestHeaders,
    reply: Reply,
    docs: Vec<Document>,
    now: OffsetDateTime,
) -> Response {
    finish_scope(backend, reservation, echo(headers), reply, docs, now).await
}

/// [`finish`] with the echo headers given by the caller (see [`begin_scope`]).
pub(crate) async fn finish_scope(
    backend: &Arc<Backend>,
    reservation: Reservation,
    echo_headers: Vec<(String, String)>,
    reply: Reply,
    docs: Vec<Document>,
    now: OffsetDateTime,
) -> Response {
    finish_with(backend, reservation, echo_headers, reply, docs, now).await
}

async fn finish_with(
    backend: &Arc<Backend>,
    reservation: Reservation,
    echo_headers: Vec<(String, String)>,
    mut reply: Reply,
    docs: Vec<Document>,
    now: OffsetDateTime,
) -> Response {
    reply.headers.extend(echo_headers);
    let stored = stored_response(&reply);
    let store = Arc::clone(backend);
    let result = tokio::task::spawn_blocking(move || {
        store.finish(
            &reservation.scope,
            reservation.lease,
            stored,
            &docs,
            &[],
            now,
        )
    })
    .await;
    match result {
        Ok(Ok(())) => raw_response(reply.status, stored_body(&reply), &reply.headers),
        Ok(Err(e)) => Reply::internal(&e.to_string()).into_response(),
        Err(_) => Reply::internal("storage task failed").into_response(),
    }
}

fn stored_body(reply: &Reply) -> Vec<u8> {
    serde_json::to_vec(&reply.body).unwrap_or_default()
}

/// What a retry replays: the reply without its `Request-Id`.
fn stored_response(reply: &Reply) -> StoredResponse {
    let stored_headers: Vec<(String, String)> = reply
        .headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("request-id"))
        .cloned()
        .collect();
    StoredResponse::new(reply.status, stored_body(reply), stored_headers)
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

/// The most a client reads of an HTTP response body (a merchant's session, a PSP answer).
pub(crate) const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// Reads a response body of at most `max` bytes, chunk by chunk, so an oversized or endless
/// body is refused without being buffered whole.
///
/// # Errors
///
/// A body over `max` bytes (by `Content-Length` or as read), or a transport failure.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, String> {
    if response
        .content_length()
        .is_some_and(|n| usize::try_from(n).map_or(true, |n| n > max))
    {
        return Err(format!("response body larger than {max} bytes"));
    }
    let mut out = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("HTTP body: {e}"))?
    {
        if out.len() + chunk.len() > max {
            return Err(format!("response body larger than {max} bytes"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
