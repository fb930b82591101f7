//! Raw requests: any method, path, headers and body bytes, answered with the status, headers
//! and (capped) body as they came; for test tools, conformance checkers and load generators
//! that must send what the typed operations never would.

use agentic_commerce::protocol::headers::RetryAfter;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use time::OffsetDateTime;
use tokio::time::Instant;

use crate::client::{AcpClient, allowed_url};
use crate::error::{Error, IN_FLIGHT};
use crate::retry::RetryPolicy;
use crate::transport::{NoRetry, error_answer, new_request_id, next_wait};

/// How a raw request's body is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RawSigning {
    /// With the client's [signer](crate::ClientBuilder::signer), stamped when each attempt is
    /// sent, if the client has one and the request has a body that can be signed (a body that
    /// is not JSON, or that a canonical signer cannot canonicalize, goes unsigned).
    #[default]
    Auto,
    /// Like [`Auto`](Self::Auto), but stamped `at` (a stale or future `Timestamp`).
    At(OffsetDateTime),
    /// Not signed.
    Off,
}

/// Where a raw request goes.
#[derive(Debug, Clone)]
enum Target {
    /// Below the client's base URL.
    Path(String),
    /// An absolute URL.
    Url(String),
}

/// A request as the caller wants it sent, made with [`AcpClient::raw`] or
/// [`AcpClient::raw_url`]; `.await` it (or call [`send`](Self::send)).
///
/// By default it carries what every call of the client carries: `Accept: application/json`,
/// a fresh `Request-Id`, `Authorization: Bearer` (when the client has a token), `API-Version`
/// (the client's), `Accept-Language` (when configured), the client's `User-Agent`, and with a
/// body `Content-Type: application/json` and `Signature` + `Timestamp`
/// ([`RawSigning::Auto`]). Unlike a typed call it has no `Idempotency-Key` unless one is set
/// ([`idempotency_key`](Self::idempotency_key)), the body bytes are sent exactly as given, and
/// it is **not retried** unless [`retry`](Self::retry) asks for it.
///
/// Headers set with [`header`](Self::header) replace the client's; headers named in
/// [`without_header`](Self::without_header) are left out (the `User-Agent` can be replaced,
/// not removed). Every answer is returned, whatever its status: see [`RawResponse`].
///
/// It owns a clone of the client (cheap: shared), so it can be moved into a spawned task.
#[must_use = "a raw request does nothing until it is sent"]
#[derive(Debug)]
pub struct RawRequest {
    client: AcpClient,
    method: reqwest::Method,
    target: Target,
    body: Option<Vec<u8>>,
    signing: RawSigning,
    /// In order: `Some(value)` sets, `None` removes.
    overrides: Vec<(String, Option<String>)>,
    retry: Option<RetryPolicy>,
}

/// An answer to a [`RawRequest`], whatever its status.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RawResponse {
    /// The HTTP status.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body, at most [`max_response_bytes`](crate::ClientBuilder::max_response_bytes)
    /// of it.
    pub body: Vec<u8>,
    /// Whether the body was longer than the cap: reading stopped there and
    /// [`body`](Self::body) holds its first `max_response_bytes` bytes; or its
    /// `Content-Length` said so and the connection broke before the cap (`body` holds what
    /// came).
    pub truncated: bool,
    /// How many attempts were made (1 unless [`RawRequest::retry`] was set).
    pub attempts: u32,
}

impl RawResponse {
    /// A response header by (case-insensitive) name, when it is visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body parsed as JSON into `T` (`serde_json::Value` for any JSON).
    ///
    /// # Errors
    ///
    /// A body that is not JSON, or not a `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

impl AcpClient {
    /// A raw request to `path` below the base URL (`"/checkout_sessions"` and
    /// `"checkout_sessions"` both go to `{base_url}checkout_sessions`; the path, with any
    /// query, is sent as given).
    pub fn raw(&self, method: reqwest::Method, path: &str) -> RawRequest {
        self.raw_request(method, Target::Path(path.to_owned()))
    }

    /// A raw request to an absolute URL (another endpoint of the same service, such as an MCP
    /// endpoint): `https://`, or `http://` to a loopback host (or any host with
    /// [`allow_plain_http`](crate::ClientBuilder::allow_plain_http)). The client's bearer token
    /// goes with it unless `Authorization` is left out
    /// ([`without_header`](RawRequest::without_header)).
    pub fn raw_url(&self, method: reqwest::Method, url: &str) -> RawRequest {
        self.raw_request(method, Target::Url(url.to_owned()))
    }

    fn raw_request(&self, method: reqwest::Method, target: Target) -> RawRequest {
        RawRequest {
            client: self.clone(),
            method,
            target,
            body: None,
            signing: RawSigning::Auto,
            overrides: Vec::new(),
            retry: None,
        }
    }
}

impl RawRequest {
    /// Sends these exact body bytes (which need not be JSON).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Sets a header, replacing the client's value of it (another bearer token, another
    /// `API-Version`, a hand-made `Signature`).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.overrides
            .push((name.to_ascii_lowercase(), Some(value.to_owned())));
        self
    }

    /// Leaves a header out (`Authorization`, `API-Version`, `Request-Id`, `Content-Type`…).
    pub fn without_header(mut self, name: &str) -> Self {
        self.overrides.push((name.to_ascii_lowercase(), None));
        self
    }

    /// Sends this `Idempotency-Key`, as given (not checked); the same on every retry.
    pub fn idempotency_key(self, key: &str) -> Self {
        self.header("idempotency-key", key)
    }

    /// How the body is signed (default [`RawSigning::Auto`]).
    pub fn signing(mut self, signing: RawSigning) -> Self {
        self.signing = signing;
        self
    }

    /// Retries the request as a typed call is retried ([`RetryPolicy`]: after transport
    /// failures, attempt timeouts, `5xx` and `409 idempotency_in_flight`, within the policy's
    /// deadline), with the same headers, `Idempotency-Key`, `Request-Id` and body, signed
    /// again for each attempt. The last answer is returned, whatever its status.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Whether the caller sets or leaves out `name` (lowercase).
    fn overrides(&self, name: &str) -> bool {
        self.overrides.iter().any(|(n, _)| n == name)
    }

    fn url(&self) -> Result<reqwest::Url, Error> {
        let inner = &self.client.inner;
        match &self.target {
            Target::Path(path) => {
                let joined = format!("{}{}", inner.base, path.trim_start_matches('/'));
                reqwest::Url::parse(&joined)
                    .map_err(|e| Error::InvalidRequest(format!("path {path:?}: {e}")))
            }
            Target::Url(url) => {
                let parsed = reqwest::Url::parse(url)
                    .map_err(|e| Error::InvalidRequest(format!("URL {url:?}: {e}")))?;
                if allowed_url(&parsed, inner.plain_http) {
                    Ok(parsed)
                } else {
                    Err(Error::InvalidRequest(format!(
                        "URL {url:?}: https://, or http:// to a loopback host"
                    )))
                }
            }
        }
    }

    /// Every header of one attempt, signed now (or as [`RawSigning`] says).
    async fn headers(&self, request_id: &str) -> Result<HeaderMap, Error> {
        let inner = &self.client.inner;
        let mut pairs: Vec<(String, String)> = vec![
            ("accept".to_owned(), "application/json".to_owned()),
            ("request-id".to_owned(), request_id.to_owned()),
        ];
        if let Some(token) = &inner.bearer {
            pairs.push(("authorization".to_owned(), token.to_header_value()));
        }
        // The version is only looked up (and negotiated, for a negotiating client) when sent.
        if !self.overrides("api-version") {
            let version = self.client.api_version().await?;
            pairs.push(("api-version".to_owned(), version.as_str().to_owned()));
        }
        if let Some(language) = &inner.accept_language {
            pairs.push(("accept-language".to_owned(), language.clone()));
        }
        if let Some(body) = &self.body {
            pairs.push(("content-type".to_owned(), "application/json".to_owned()));
            let at = match self.signing {
                RawSigning::Auto => Some(OffsetDateTime::now_utc()),
                RawSigning::At(at) => Some(at),
                RawSigning::Off => None,
            };
            if let Some(at) = at {
                if let Ok(Some(signed)) = self.client.sign_body(body, at) {
                    pairs.push(("signature".to_owned(), signed.signature));
                    pairs.push(("timestamp".to_owned(), signed.timestamp));
                }
            }
        }
        let mut map = HeaderMap::new();
        for (name, value) in &pairs {
            insert(&mut map, name, value)?;
        }
        for (name, value) in &self.overrides {
            match value {
                Some(value) => insert(&mut map, name, value)?,
                None => {
                    map.remove(name.as_str());
                }
            }
        }
        Ok(map)
    }

    /// Sends the request (and its retries, when asked for).
    ///
    /// # Errors
    ///
    /// No answer: [`Error::Transport`], [`Error::Timeout`] (the client's
    /// [`attempt_timeout`](crate::ClientBuilder::attempt_timeout)),
    /// [`Error::DeadlineExceeded`] (with [`retry`](Self::retry)), [`Error::InvalidRequest`]
    /// (a header or URL HTTP cannot carry), or the version negotiation's errors. Every answer,
    /// `4xx` and `5xx` included, is `Ok`, except when the deadline cuts a retry short: the
    /// outcome of that attempt is unknown, so the result is `DeadlineExceeded`, which keeps
    /// the answer before it (as [`Error::Api`] or [`Error::UnexpectedStatus`]).
    pub async fn send(self) -> Result<RawResponse, Error> {
        let inner = &self.client.inner;
        let url = self.url()?;
        let request_id = new_request_id();
        let policy = self.retry.unwrap_or_else(RetryPolicy::none);
        let deadline_at = self.retry.map(|p| Instant::now() + p.deadline);
        let mut attempts: u32 = 0;
        // What the last attempt that finished got: when the deadline ends the call, its
        // answer is the result (or its failure is named in the error).
        let mut last: Option<Result<RawResponse, Error>> = None;
        loop {
            attempts += 1;
            let budget = match deadline_at {
                Some(at) => {
                    let remaining = at.saturating_duration_since(Instant::now());
                    if remaining.is_zero() {
                        return past_deadline(policy.deadline, attempts - 1, last);
                    }
                    inner.attempt_timeout.min(remaining)
                }
                None => inner.attempt_timeout,
            };
            let headers = self.headers(request_id.as_str()).await?;
            let mut request = inner
                .http
                .request(self.method.clone(), url.clone())
                .headers(headers);
            if let Some(body) = &self.body {
                request = request.body(body.clone());
            }
            let outcome =
                tokio::time::timeout(budget, attempt(request, inner.max_response_bytes)).await;
            let failure = match outcome {
                Err(_) if budget < inner.attempt_timeout => {
                    return past_deadline(policy.deadline, attempts, last);
                }
                Err(_) => Error::Timeout {
                    after: inner.attempt_timeout,
                    attempts,
                },
                Ok(Err(source)) => Error::Transport { source, attempts },
                Ok(Ok(mut answer)) => {
                    answer.attempts = attempts;
                    let Some(deadline_at) = deadline_at.filter(|_| retryable(&answer)) else {
                        return Ok(answer);
                    };
                    let retry_after = answer
                        .header("retry-after")
                        .and_then(|v| RetryAfter::parse(v).ok());
                    // No retry left, or none allowed in time: the last answer is the result.
                    match next_wait(&policy, attempts, retry_after, deadline_at) {
                        Ok(wait) => {
                            last = Some(Ok(answer));
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                        Err(_) => return Ok(answer),
                    }
                }
            };
            let Some(deadline_at) = deadline_at else {
                return Err(failure);
            };
            match next_wait(&policy, attempts, None, deadline_at) {
                Ok(wait) => {
                    last = Some(Err(failure));
                    tokio::time::sleep(wait).await;
                }
                Err(NoRetry::Final) => return Err(failure),
                Err(NoRetry::Deadline) => {
                    return past_deadline(policy.deadline, attempts, Some(Err(failure)));
                }
            }
        }
    }
}

/// The end of a call whose deadline ran out after `attempts` attempts:
/// [`Error::DeadlineExceeded`], with what the last attempt that finished got. When the
/// deadline cut an attempt short, that attempt's outcome is unknown, so even an answer before
/// it is not the result.
fn past_deadline(
    deadline: std::time::Duration,
    attempts: u32,
    last: Option<Result<RawResponse, Error>>,
) -> Result<RawResponse, Error> {
    let last = last.map(|last| match last {
        Ok(answer) => {
            let retry_after = answer
                .header("retry-after")
                .and_then(|v| RetryAfter::parse(v).ok());
            error_answer(
                answer.status,
                &answer.headers,
                &answer.body,
                retry_after,
                answer.attempts,
            )
        }
        Err(failure) => failure,
    });
    Err(Error::DeadlineExceeded {
        deadline,
        attempts,
        last: last.map(Box::new),
    })
}

impl IntoFuture for RawRequest {
    type Output = Result<RawResponse, Error>;
    type IntoFuture = std::pin::Pin<Box<dyn Future<Output = Self::Output> + Send + 'static>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

fn insert(map: &mut HeaderMap, name: &str, value: &str) -> Result<(), Error> {
    let header = HeaderName::from_bytes(name.as_bytes())
        .map_err(|e| Error::InvalidRequest(format!("header name {name:?}: {e}")))?;
    let value = HeaderValue::from_str(value)
        .map_err(|e| Error::InvalidRequest(format!("header {name} value: {e}")))?;
    map.insert(header, value);
    Ok(())
}

/// Whether a raw answer is one a retry may change: `5xx`, `409 idempotency_in_flight`.
fn retryable(answer: &RawResponse) -> bool {
    answer.status >= 500
        || (answer.status == 409
            && answer
                .json::<serde_json::Value>()
                .is_ok_and(|v| v["code"] == IN_FLIGHT))
}

/// Sends one attempt and reads at most `max` bytes of the answer.
async fn attempt(
    request: reqwest::RequestBuilder,
    max: usize,
) -> Result<RawResponse, reqwest::Error> {
    let mut response = request.send().await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let mut body = Vec::new();
    let declared = response.content_length();
    let oversized = declared.is_some_and(|n| usize::try_from(n).map_or(true, |n| n > max));
    let mut truncated = false;
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            // A body declared over the cap that breaks off is over the cap, not a failure.
            Err(_) if oversized => {
                truncated = true;
                break;
            }
            Err(e) => return Err(e),
        };
        let room = max - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            truncated = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(RawResponse {
        status,
        headers,
        body,
        truncated,
        attempts: 1,
    })
}
