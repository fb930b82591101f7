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
        self.send_with(reqwest::Method::POST, post, Tweak::default())
            .await
    }

    /// A PUT of `post.body` (cart full replacement), signed like a POST.
    ///
    /// # Errors
    ///
    /// Transport failures.
    pub(crate) async fn put(&self, post: Post<'_>) -> Result<Exchange, String> {
        self.send_with(reqwest::Method::PUT, post, Tweak::default())
            .await
    }

    /// A request with a JSON body as `tweak` alters it (another bearer token, a wrong or stale
    /// signature): the negative probes.
    ///
    /// # Errors
    ///
    /// Transport failures.
    pub(crate) async fn send_with(
        &self,
        method: reqwest::Method,
        post: Post<'_>,
        tweak: Tweak<'_>,
    ) -> Result<Exchange, String> {
        let name = method.to_string();
        let answer = send(self.builder(method, post, tweak)).await;
        self.remember(&name, post.path, &answer)
    }

    /// The request [`send_with`](Self::send_with) sends, ready to go.
    fn builder(
        &self,
        method: reqwest::Method,
        post: Post<'_>,
        tweak: Tweak<'_>,
    ) -> reqwest::RequestBuilder {
        let mut request = self
            .request(method, post.path, Version::Default)
            .header("content-type", "application/json");
        if let Some(token) = tweak.bearer {
            // Replaces the configured token (reqwest keeps the last `Authorization`).
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(key) = post.key {
            request = request.header("idempotency-key", key);
        }
        let signed = match tweak.signing {
            Signing::Now => self.sign(post.body, OffsetDateTime::now_utc()),
            Signing::At(at) => self.sign(post.body, at),
            Signing::OtherBody => self.sign(
                b"{\"conformance\":\"another body\"}",
                OffsetDateTime::now_utc(),
            ),
        };
        if let Some((signature, timestamp)) = signed {
            request = request
                .header("signature", signature)
                .header("timestamp", timestamp);
        }
        request.body(post.body.to_vec())
    }

    /// The base URL (no trailing slash).
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// Whether requests are signed (`--signing-secret`).
    pub(crate) fn signs(&self) -> bool {
        self.signer.is_some()
    }

    /// `(Signature, Timestamp)` for `body` signed at `at`, the way every request body is
    /// signed (also MCP `meta.signature` / `meta.timestamp`, SIG-07); `None` without a
    /// signing secret or for a body that cannot be canonicalized.
    pub(crate) fn sign(&self, body: &[u8], at: OffsetDateTime) -> Option<(String, String)> {
        let signer = self.signer.as_ref()?;
        signer
            .sign(body, at)
            .ok()
            .map(|s| (s.signature, s.timestamp))
    }

    /// `copies` identical POSTs of `post` (same key, same body), each signed when built and
    /// started `stagger` after the previous one, all in flight together; the answers in the
    /// order sent.
    pub(crate) async fn post_concurrently(
        &self,
        post: Post<'_>,
        copies: u32,
        stagger: Duration,
    ) -> Vec<Result<Exchange, String>> {
        let handles: Vec<_> = (0..copies)
            .map(|i| {
                let request = self.builder(reqwest::Method::POST, post, Tweak::default());
                let delay = stagger * i;
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    send(request).await
                })
            })
            .collect();
        let mut out = Vec::new();
        for handle in handles {
            let answer = handle
                .await
                .map_err(|e| format!("request task failed: {e}"))
                .and_then(|a| a);
            out.push(self.remember("POST", post.path, &answer));
        }
        out
    }

    /// A JSON-RPC POST to `url` (the MCP endpoint): `Authorization` (connection-level auth,
    /// MCP-08), `Content-Type: application/json`, and `Accept` for both a JSON and an event
    /// stream answer (MCP Streamable HTTP). Not signed at the HTTP level: the signature travels
    /// in `meta`.
    ///
    /// # Errors
    ///
    /// Transport failures.
    pub(crate) async fn post_rpc(&self, url: &str, body: &[u8]) -> Result<Exchange, String> {
        let mut request = self
            .http
            .post(url)
            .header("user-agent", "acp-conformance/0.1")
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        if let Some(token) = &self.bearer {
            request = request.bearer_auth(token);
        }
        send(request.body(body.to_vec())).await
    }
}

/// How a request is signed.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) enum Signing {
    /// Correctly, now.
    #[default]
    Now,
    /// Correctly, stamped `at` (a stale timestamp).
    At(OffsetDateTime),
    /// A well-formed signature of another body, stamped now (a bad signature).
    OtherBody,
}

/// What a negative probe changes in an otherwise correct request.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Tweak<'a> {
    /// Another bearer token instead of `--bearer`.
    pub(crate) bearer: Option<&'a str>,
    /// How the body is signed (when a signing secret is configured).
    pub(crate) signing: Signing,
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
