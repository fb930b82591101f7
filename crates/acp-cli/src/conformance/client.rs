//! The checker's HTTP client: the ACP request headers (`Authorization`, `API-Version`,
//! `Idempotency-Key`, `Request-Id`, `Content-Type`), optional HS256 request signatures
//! (SIG-01..03) and a plain record of every answer.
//!
//! Unlike an agent SDK it lets a probe leave any header out or send a body that is not JSON:
//! the negative probes need exactly that.

use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use agentic_commerce::trust::signature::{HmacSha256Key, RequestSigner, SignedContent};
use serde_json::Value;
use time::OffsetDateTime;

/// One HTTP exchange as the checker saw it.
#[derive(Debug, Clone)]
pub(crate) struct Exchange {
    /// Status code.
    pub(crate) status: u16,
    /// Response headers (lowercase names).
    pub(crate) headers: Vec<(String, String)>,
    /// The raw body.
    pub(crate) raw: Vec<u8>,
    /// The body as JSON (`None` when it is not JSON).
    pub(crate) json: Option<Value>,
}

impl Exchange {
    /// A response header, by case-insensitive name.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, `null` when it is not JSON.
    pub(crate) fn body(&self) -> Value {
        self.json.clone().unwrap_or(Value::Null)
    }

    /// A short description for failure reasons: status and (truncated) body.
    pub(crate) fn brief(&self) -> String {
        let text = String::from_utf8_lossy(&self.raw);
        let mut cut: String = text.chars().take(300).collect();
        if cut.len() < text.len() {
            cut.push('…');
        }
        format!("HTTP {} {cut}", self.status)
    }
}

/// Which `API-Version` header a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version<'a> {
    /// The version under test (`--api-version`).
    Default,
    /// No `API-Version` header at all.
    Omit,
    /// This value.
    Value(&'a str),
}

/// A POST as a probe wants it sent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Post<'a> {
    /// Path below the base URL.
    pub(crate) path: &'a str,
    /// The exact body bytes.
    pub(crate) body: &'a [u8],
    /// `Idempotency-Key` (none: header left out).
    pub(crate) key: Option<&'a str>,
}

/// The client every probe uses.
pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
    bearer: Option<String>,
    api_version: String,
    signer: Option<RequestSigner<HmacSha256Key>>,
    /// Every answer, as `("METHOD /path", exchange)`, for checks over all responses.
    log: Mutex<Vec<(String, Exchange)>>,
}

impl Client {
    /// A client for `base` (no trailing slash needed).
    ///
    /// # Errors
    ///
    /// An empty signing secret or a client that cannot be built.
    pub(crate) fn new(
        base: &str,
        bearer: Option<&str>,
        api_version: &str,
        signing_secret: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Self, String> {
        let signer = match signing_secret {
            Some(secret) => Some(RequestSigner::new(
                HmacSha256Key::new(secret).map_err(|e| format!("--signing-secret: {e}"))?,
            )),
            None => None,
        };
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            bearer: bearer.map(str::to_owned),
            api_version: api_version.to_owned(),
            signer,
            log: Mutex::new(Vec::new()),
        })
    }

    /// Chooses what the signatures cover (`--sign-timestamp`: the timestamp and the body).
    #[must_use]
    pub(crate) fn with_signed_content(mut self, content: SignedContent) -> Self {
        self.signer = self.signer.map(|s| s.with_signed_content(content));
        self
    }

    fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        version: Version<'_>,
    ) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("request-id", fresh_id("req_"))
            .header("user-agent", "acp-conformance/0.1")
            .header("accept", "application/json");
        if let Some(token) = &self.bearer {
            request = request.bearer_auth(token);
        }
        match version {
            Version::Default => request.header("api-version", self.api_version.as_str()),
            Version::Omit => request,
            Version::Value(v) => request.header("api-version", v),
        }
    }

    /// A GET with the standard headers.
    ///
    /// # Errors
    ///
    /// Transport failures (connection refused, timeout, broken body).
    pub(crate) async fn get(&self, path: &str, version: Version<'_>) -> Result<Exchange, String> {
        let answer = send(self.request(reqwest::Method::GET, path, version)).await;
        self.remember("GET", path, &answer)
    }

    fn remember(
        &self,
        method: &str,
        path: &str,
        answer: &Result<Exchange, String>,
    ) -> Result<Exchange, String> {
        if let Ok(exchange) = answer {
            let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
            log.push((format!("{method} {path}"), exchange.clone()));
        }
        answer.clone()
    }

    /// Every answer received so far, as `("METHOD /path", exchange)`.
    pub(crate) fn answers(&self) -> Vec<(String, Exchange)> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A GET without `Authorization` or `API-Version` (discovery is public, DIS-02).
    ///
    /// # Errors
    ///
    /// Transport failures.
    pub(crate) async fn get_public(&self, path: &str) -> Result<Exchange, String> {
        send(
            self.http
                .get(format!("{}{path}", self.base))
                .header("accept", "application/json"),
        )
        .await
    }

    /// A POST of `post.body`, signed when a signing secret is configured and the body is JSON
    /// (a deliberately malformed body cannot be canonicalized and goes unsigned).
    ///
    /// # Errors
    ///
    /// Transport failures.
    pub(crate) async fn post(&self, post: Post<'_>) -> Result<Exchange, String> {
        let mut request = self
            .request(reqwest::Method::POST, post.path, Version::Default)
            .header("content-type", "application/json");
        if let Some(key) = post.key {
            request = request.header("idempotency-key", key);
        }
        if let Some(signer) = &self.signer {
            if let Ok(signed) = signer.sign(post.body, OffsetDateTime::now_utc()) {
                request = request
                    .header("signature", signed.signature)
                    .header("timestamp", signed.timestamp);
            }
        }
        let answer = send(request.body(post.body.to_vec())).await;
        self.remember("POST", post.path, &answer)
    }
}

/// Sends a request and records the exchange.
///
/// # Errors
///
/// Transport failures, with reqwest's reason chain.
pub(crate) async fn send(request: reqwest::RequestBuilder) -> Result<Exchange, String> {
    let response = request.send().await.map_err(|e| describe(&e))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let raw = response.bytes().await.map_err(|e| describe(&e))?.to_vec();
    let json = serde_json::from_slice(&raw).ok();
    Ok(Exchange {
        status,
        headers,
        raw,
        json,
    })
}

/// reqwest's error with its sources (the top level alone says only "error sending request").
fn describe(error: &reqwest::Error) -> String {
    let mut out = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        out.push_str(": ");
        out.push_str(&e.to_string());
        source = e.source();
    }
    out
}

/// A fresh id with `prefix`, unique per process run (time + counter), for idempotency keys,
/// request ids and unknown-session probes.
pub(crate) fn fresh_id(prefix: &str) -> String {
    use sha2::Digest as _;
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let seed = format!(
        "{}:{}:{n}",
        OffsetDateTime::now_utc().unix_timestamp_nanos(),
        std::process::id()
    );
    let digest = sha2::Sha256::digest(seed.as_bytes());
    let mut out = prefix.to_owned();
    for byte in digest.iter().take(12) {
        let _ = write!(out, "{byte:02x}");
    }
    out
}
