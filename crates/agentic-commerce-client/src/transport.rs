//! One logical call: headers, signing, attempts, retries, the capped read and decoding.

use std::fmt::Write as _;
use std::time::Duration;

use agentic_commerce::AcpError;
use agentic_commerce::parse::{self, schema::WireType};
use agentic_commerce::protocol::headers::{IdempotencyKey, RequestId, RetryAfter};
use agentic_commerce::protocol::version::ApiVersion;
use agentic_commerce::protocol::version::convert::{self, Document};
use agentic_commerce::spec::latest::agentic_checkout::Error as WireError;
use serde_json::Value;
use time::OffsetDateTime;
use tokio::time::Instant;

use crate::client::{Inner, Response, to_value};
use crate::error::{Error, IN_FLIGHT};
use crate::retry::RetryPolicy;

/// Which rules a request follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An ACP operation: bearer token, `API-Version`.
    Acp,
    /// The public discovery document: neither (DIS-02).
    Discovery,
}

/// What to send and how to read the answer.
#[derive(Debug)]
pub(crate) struct Spec {
    pub(crate) kind: Kind,
    pub(crate) method: reqwest::Method,
    /// Relative to the base URL (or absolute path for discovery).
    pub(crate) path: String,
    /// The 2026-04-17 wire form of the body (`None`: no body).
    body: Option<Result<Value, String>>,
    /// The checkout document the body is, for a downgrade to an older version.
    request_document: Option<Document>,
    /// The checkout document the answer is, for the upgrade from an older version.
    response_document: Option<Document>,
}

impl Spec {
    pub(crate) fn get(kind: Kind, path: String, response_document: Option<Document>) -> Self {
        Self {
            kind,
            method: reqwest::Method::GET,
            path,
            body: None,
            request_document: None,
            response_document,
        }
    }

    pub(crate) fn write<R: serde::Serialize>(
        method: reqwest::Method,
        path: String,
        request: &R,
        request_document: Option<Document>,
        response_document: Option<Document>,
    ) -> Self {
        Self {
            kind: Kind::Acp,
            method,
            path,
            body: Some(to_value(request).map_err(|e| e.to_string())),
            request_document,
            response_document,
        }
    }

    fn is_write(&self) -> bool {
        // PATCH: the feed upsert; its key makes a retry a replay (IDEM-08).
        self.method == reqwest::Method::POST
            || self.method == reqwest::Method::PUT
            || self.method == reqwest::Method::PATCH
    }
}

/// Whether `version` is an older released version whose checkout documents are converted.
fn converts(version: &ApiVersion) -> bool {
    version.is_released() && *version < ApiVersion::LATEST
}

/// The exact body bytes to send in `version`.
fn body_bytes(spec: &Spec, version: Option<&ApiVersion>) -> Result<Option<Vec<u8>>, Error> {
    let Some(body) = &spec.body else {
        return Ok(None);
    };
    let value = body
        .as_ref()
        .map_err(|e| Error::Serialize(serde::ser::Error::custom(e.clone())))?;
    let value = match (version, spec.request_document) {
        (Some(version), Some(document)) if converts(version) => {
            let converted = convert::convert(document, &ApiVersion::LATEST, version, value)
                .map_err(|e| Error::Downgrade {
                    version: version.clone(),
                    losses: Vec::new(),
                    reason: Some(Box::new(e)),
                })?;
            if !converted.losses.is_empty() {
                return Err(Error::Downgrade {
                    version: version.clone(),
                    losses: converted.losses,
                    reason: None,
                });
            }
            converted.value
        }
        _ => value.clone(),
    };
    serde_json::to_vec(&value)
        .map(Some)
        .map_err(Error::Serialize)
}

/// 128 random bits as 32 lowercase hex digits.
fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness: never send a predictable key; the nanosecond clock and a counter
        // still make it unique within this process.
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let now = OffsetDateTime::now_utc().unix_timestamp_nanos();
        bytes[..8].copy_from_slice(&now.to_le_bytes()[..8]);
        bytes[8..].copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    }
    let mut out = String::with_capacity(32);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// A fresh `Idempotency-Key`: 128 random bits, hex (IDEM-02: opaque, ≤ 255 characters).
pub(crate) fn new_idempotency_key() -> IdempotencyKey {
    loop {
        // 32 hex digits always make a valid key: the loop body runs once.
        if let Ok(key) = IdempotencyKey::parse(&random_hex()) {
            return key;
        }
    }
}

/// A fresh `Request-Id`.
pub(crate) fn new_request_id() -> RequestId {
    loop {
        if let Ok(id) = RequestId::parse(&format!("req_{}", random_hex())) {
            return id;
        }
    }
}

/// What one attempt produced.
struct Raw {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Why an attempt produced no answer.
enum AttemptError {
    Transport(reqwest::Error),
    TooLarge,
}

/// Runs one logical call to its end.
pub(crate) async fn execute<T: WireType>(
    inner: &Inner,
    spec: Spec,
    version: Option<ApiVersion>,
    idempotency_key: Option<IdempotencyKey>,
    request_id: Option<RequestId>,
) -> Result<Response<T>, Error> {
    let started = Instant::now();
    let policy = inner.retry;
    let deadline_at = started + policy.deadline;
    let body = body_bytes(&spec, version.as_ref())?;
    let key = spec
        .is_write()
        .then(|| idempotency_key.unwrap_or_else(new_idempotency_key));
    let request_id = request_id.unwrap_or_else(new_request_id);
    // Operation paths are relative to the base URL; discovery's is absolute (the origin root).
    let url = inner
        .base
        .join(&spec.path)
        .map_err(|e| Error::Undecodable {
            status: 0,
            reason: format!("path {}: {e}", spec.path),
        })?;

    let mut attempts: u32 = 0;
    // The failure of the last attempt that finished: when the deadline ends the call, it
    // says what the server last answered (a 5xx, a timeout).
    let mut last: Option<Error> = None;
    loop {
        attempts += 1;
        let remaining = deadline_at.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(Error::DeadlineExceeded {
                deadline: policy.deadline,
                attempts: attempts - 1,
                last: last.map(Box::new),
            });
        }
        let budget = inner.attempt_timeout.min(remaining);
        let request = build_request(
            inner,
            &spec,
            &url,
            version.as_ref(),
            key.as_ref(),
            &request_id,
            body.as_deref(),
        )?;
        let outcome = tokio::time::timeout(
            budget,
            attempt(&inner.http, request, inner.max_response_bytes),
        )
        .await;
        let (failure, retry_after) = match outcome {
            Err(_) if budget < inner.attempt_timeout => {
                // The deadline, not the attempt timeout, cut this attempt short.
                return Err(Error::DeadlineExceeded {
                    deadline: policy.deadline,
                    attempts,
                    last: last.map(Box::new),
                });
            }
            Err(_) => (
                Error::Timeout {
                    after: inner.attempt_timeout,
                    attempts,
                },
                None,
            ),
            Ok(Err(AttemptError::TooLarge)) => {
                return Err(Error::TooLarge {
                    limit: inner.max_response_bytes,
                });
            }
            Ok(Err(AttemptError::Transport(source))) => {
                (Error::Transport { source, attempts }, None)
            }
            Ok(Ok(raw)) if (200..300).contains(&raw.status) => {
                return decode(inner, &spec, &raw, version, key, request_id, attempts);
            }
            Ok(Ok(raw)) => {
                let retry_after = raw
                    .header("retry-after")
                    .and_then(|v| RetryAfter::parse(v).ok());
                let failure =
                    error_answer(raw.status, &raw.headers, &raw.body, retry_after, attempts);
                let retryable = raw.status >= 500
                    || (raw.status == 409
                        && failure.api_error().is_some_and(|e| e.code() == IN_FLIGHT));
                if !retryable {
                    return Err(failure);
                }
                (failure, retry_after)
            }
        };
        match next_wait(&policy, attempts, retry_after, deadline_at) {
            Ok(wait) => {
                last = Some(failure);
                tokio::time::sleep(wait).await;
            }
            Err(NoRetry::Final) => return Err(failure),
            Err(NoRetry::Deadline) => {
                return Err(Error::DeadlineExceeded {
                    deadline: policy.deadline,
                    attempts,
                    last: Some(Box::new(failure)),
                });
            }
        }
    }
}

/// Why a failed attempt is not retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoRetry {
    /// No attempt left, or a `Retry-After` above the policy's cap: the failure is the result.
    Final,
    /// The next wait would end past the deadline.
    Deadline,
}

/// How long to wait before the next attempt, or why there is none.
pub(crate) fn next_wait(
    policy: &RetryPolicy,
    attempts: u32,
    retry_after: Option<RetryAfter>,
    deadline_at: Instant,
) -> Result<Duration, NoRetry> {
    if attempts >= policy.attempts() {
        return Err(NoRetry::Final);
    }
    let server_wait = retry_after.map(|r| Duration::from_secs(r.secs()));
    if server_wait.is_some_and(|w| w > policy.max_retry_after) {
        return Err(NoRetry::Final);
    }
    let wait = policy
        .jittered_backoff(attempts)
        .max(server_wait.unwrap_or(Duration::ZERO));
    if Instant::now() + wait >= deadline_at {
        return Err(NoRetry::Deadline);
    }
    Ok(wait)
}

/// The request of one attempt: every header, signed now over the exact body bytes.
fn build_request(
    inner: &Inner,
    spec: &Spec,
    url: &reqwest::Url,
    version: Option<&ApiVersion>,
    key: Option<&IdempotencyKey>,
    request_id: &RequestId,
    body: Option<&[u8]>,
) -> Result<reqwest::Request, Error> {
    let mut builder = inner
        .http
        .request(spec.method.clone(), url.clone())
        .header("accept", "application/json")
        .header("request-id", request_id.as_str());
    if spec.kind == Kind::Acp {
        if let Some(token) = &inner.bearer {
            builder = builder.header("authorization", token.to_header_value());
        }
    }
    if let Some(version) = version {
        builder = builder.header("api-version", version.as_str());
    }
    if let Some(key) = key {
        builder = builder.header("idempotency-key", key.as_str());
    }
    if let Some(language) = &inner.accept_language {
        builder = builder.header("accept-language", language.as_str());
    }
    if let Some(body) = body {
        if let Some(signer) = &inner.signer {
            let signed = signer
                .sign(body, OffsetDateTime::now_utc())
                .map_err(Error::Signing)?;
            builder = builder
                .header("signature", signed.signature)
                .header("timestamp", signed.timestamp);
        }
        builder = builder
            .header("content-type", "application/json")
            .body(body.to_vec());
    }
    builder.build().map_err(|source| Error::Transport {
        source,
        attempts: 0,
    })
}

/// Sends one request and reads at most `max` bytes of its answer.
async fn attempt(
    http: &reqwest::Client,
    request: reqwest::Request,
    max: usize,
) -> Result<Raw, AttemptError> {
    let response = http
        .execute(request)
        .await
        .map_err(AttemptError::Transport)?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = read_capped(response, max).await?;
    Ok(Raw {
        status,
        headers,
        body,
    })
}

/// Reads a body of at most `max` bytes, chunk by chunk: an oversized or endless body is
/// refused at the cap, never buffered whole.
async fn read_capped(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, AttemptError> {
    if response
        .content_length()
        .is_some_and(|n| usize::try_from(n).map_or(true, |n| n > max))
    {
        return Err(AttemptError::TooLarge);
    }
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(AttemptError::Transport)? {
        if out.len() + chunk.len() > max {
            return Err(AttemptError::TooLarge);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A non-2xx answer as an error: the ACP error when the body is one, otherwise the status.
pub(crate) fn error_answer(
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
    retry_after: Option<RetryAfter>,
    attempts: u32,
) -> Error {
    let request_id = headers
        .get("request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Ok(wire) = parse::from_slice::<WireError>(body) {
        if let Ok(mut error) = AcpError::new(status, wire) {
            if let Some(retry_after) = retry_after {
                error = error.with_retry_after(retry_after);
            }
            return Error::Api {
                error,
                request_id,
                attempts,
            };
        }
    }
    let cut = &body[..body.len().min(512)];
    Error::UnexpectedStatus {
        status,
        body: String::from_utf8_lossy(cut).into_owned(),
        attempts,
    }
}

/// A 2xx answer as the typed response, upgraded from an older version when needed.
fn decode<T: WireType>(
    inner: &Inner,
    spec: &Spec,
    raw: &Raw,
    version: Option<ApiVersion>,
    idempotency_key: Option<IdempotencyKey>,
    request_id: RequestId,
    attempts: u32,
) -> Result<Response<T>, Error> {
    let undecodable = |reason: String| Error::Undecodable {
        status: raw.status,
        reason,
    };
    let replayed = raw
        .header("idempotent-replayed")
        .is_some_and(|v| v.trim() == "true");
    let (value, upgrade_losses) = match (&version, spec.response_document) {
        (Some(v), Some(document)) if converts(v) => {
            let wire: Value =
                serde_json::from_slice(&raw.body).map_err(|e| undecodable(e.to_string()))?;
            let converted = convert::convert_with(
                document,
                v,
                &ApiVersion::LATEST,
                &wire,
                &inner.upgrade_defaults,
            )
            .map_err(|e| undecodable(e.to_string()))?;
            let value =
                parse::from_value::<T>(&converted.value).map_err(|e| undecodable(e.to_string()))?;
            (value, converted.losses)
        }
        _ => (
            parse::from_slice::<T>(&raw.body).map_err(|e| undecodable(e.to_string()))?,
            Vec::new(),
        ),
    };
    Ok(Response {
        value,
        status: raw.status,
        api_version: version,
        replayed,
        idempotency_key,
        request_id,
        attempts,
        upgrade_losses,
    })
}
