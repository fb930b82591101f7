//! The checker's requests, on the `agentic-commerce-client` crate's raw requests
//! ([`AcpClient::raw`]): the ACP request headers (`Authorization`, `API-Version`,
//! `Idempotency-Key`, `Request-Id`, `Content-Type`), optional HS256 request signatures
//! (SIG-01..03), the client's TLS, timeouts and 1 MiB response cap, and a plain record of
//! every answer.
//!
//! Unlike a typed call, a raw request lets a probe leave any header out or send a body that is
//! not JSON, and returns every answer whatever its status: the negative probes need exactly
//! that. Nothing is retried.

use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use agentic_commerce::protocol::version::ApiVersion;
use agentic_commerce::trust::signature::{HmacSha256Key, RequestSigner, SignedContent};
use agentic_commerce_client::{AcpClient, Method, RawRequest, RawResponse, RawSigning};
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
    /// The exchange a raw answer is (a truncated body is not JSON).
    fn from_raw(answer: RawResponse) -> Self {
        let headers = answer
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let json = if answer.truncated {
            None
        } else {
            serde_json::from_slice(&answer.body).ok()
        };
        Self {
            status: answer.status,
            headers,
            raw: answer.body,
            json,
        }
    }

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
    http: AcpClient,
    base: String,
    /// Every answer, as `("METHOD /path", exchange)`, for checks over all responses.
    log: Mutex<Vec<(String, Exchange)>>,
}

impl Client {
    /// A client for `base` (no trailing slash needed), signing with `signing_secret` over
    /// `content` (`--sign-timestamp`: the timestamp and the body).
    ///
    /// # Errors
    ///
    /// An empty signing secret, a version or bearer token that is not one, or a client that
    /// cannot be built.
    pub(crate) fn new(
        base: &str,
        bearer: Option<&str>,
        api_version: &str,
        signing: Option<(&[u8], SignedContent)>,
        timeout: Duration,
    ) -> Result<Self, String> {
        let version: ApiVersion = api_version
            .parse()
            .map_err(|e| format!("API version {api_version:?}: {e}"))?;
        let mut builder = AcpClient::builder(base)
            .api_version(version)
            .user_agent("acp-conformance/0.1")
            .attempt_timeout(timeout)
            .connect_timeout(timeout)
            // Test merchants may sit on a private network without TLS.
            .allow_plain_http();
        if let Some(token) = bearer {
            builder = builder.bearer_token(token);
        }
        if let Some((secret, content)) = signing {
            let key = HmacSha256Key::new(secret).map_err(|e| format!("--signing-secret: {e}"))?;
            builder = builder.signer(RequestSigner::new(key).with_signed_content(content));
        }
        Ok(Self {
            http: builder.build().map_err(|e| format!("HTTP client: {e}"))?,
            base: base.trim_end_matches('/').to_owned(),
            log: Mutex::new(Vec::new()),
        })
    }

    /// The underlying client, for the typed calls of a flow that is not itself under test (3-D
    /// Secure at the PSP).
    pub(crate) fn acp(&self) -> &AcpClient {
        &self.http
    }

    /// A raw request to `path` with the standard headers and `version`.
    fn request(&self, method: Method, path: &str, version: Version<'_>) -> RawRequest {
        let request = self.http.raw(method, path);
        match version {
            Version::Default => request,
            Version::Omit => request.without_header("api-version"),
            Version::Value(v) => request.header("api-version", v),
        }
    }

    /// A GET with the standard headers.
    ///
    /// # Errors
    ///
    /// Transport failures (connection refused, timeout, broken body).
    pub(crate) async fn get(&self, path: &str, version: Version<'_>) -> Result<Exchange, String> {
        let answer = send(self.request(Method::GET, path, version)).await;
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

    /// A GET without `Authorization`, `API-Version` or `Request-Id` (discovery is public,
    /// DIS-02).
    ///
    /// # Errors
    ///
    /// Transport failures.
    pub(crate) async fn get_public(&self, path: &str) -> Result<Exchange, String> {
        send(
            self.request(Method::GET, path, Version::Omit)
                .without_header("authorization")
                .without_header("request-id"),
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
        self.send_with(Method::POST, post, Tweak::default()).await
    }

    /// A PUT of `post.body` (cart full replacement), signed like a POST.
    ///
    /// # Errors
    ///
    /// Transport failures.
    pub(crate) async fn put(&self, post: Post<'_>) -> Result<Exchange, String> {
        self.send_with(Method::PUT, post, Tweak::default()).await
    }

    /// A request with a JSON body as `tweak` alters it (another bearer token, a wrong or stale
    /// signature): the negative probes.
    ///
    /// # Errors
    ///
    /// Transport failures.
    pub(crate) async fn send_with(
        &self,
        method: Method,
        post: Post<'_>,
        tweak: Tweak<'_>,
    ) -> Result<Exchange, String> {
        let name = method.to_string();
        let answer = send(self.builder(method, post, tweak)).await;
        self.remember(&name, post.path, &answer)
    }

    /// The request [`send_with`](Self::send_with) sends, ready to go.
    fn builder(&self, method: Method, post: Post<'_>, tweak: Tweak<'_>) -> RawRequest {
        let mut request = self
            .request(method, post.path, Version::Default)
            .body(post.body);
        if let Some(token) = tweak.bearer {
            request = request.header("authorization", &format!("Bearer {token}"));
        }
        if let Some(key) = post.key {
            request = request.idempotency_key(key);
        }
        match tweak.signing {
            Signing::Now => request,
            Signing::At(at) => request.signing(RawSigning::At(at)),
            Signing::OtherBody => {
                let other = self.sign(
                    b"{\"conformance\":\"another body\"}",
                    OffsetDateTime::now_utc(),
                );
                match other {
                    Some((signature, timestamp)) => request
                        .header("signature", &signature)
                        .header("timestamp", &timestamp),
                    None => request,
                }
            }
        }
    }

    /// The base URL (no trailing slash).
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// Whether requests are signed (`--signing-secret`).
    pub(crate) fn signs(&self) -> bool {
        self.http.has_signer()
    }

    /// `(Signature, Timestamp)` for `body` signed at `at`, the way every request body is
    /// signed (also MCP `meta.signature` / `meta.timestamp`, SIG-07); `None` without a
    /// signing secret or for a body that cannot be canonicalized.
    pub(crate) fn sign(&self, body: &[u8], at: OffsetDateTime) -> Option<(String, String)> {
        self.http
            .sign_body(body, at)
            .ok()
            .flatten()
            .map(|s| (s.signature, s.timestamp))
    }

    /// `copies` identical POSTs of `post` (same key, same body), each started `stagger` after
    /// the previous one (and signed then), all in flight together; the answers in the order
    /// sent.
    pub(crate) async fn post_concurrently(
        &self,
        post: Post<'_>,
        copies: u32,
        stagger: Duration,
    ) -> Vec<Result<Exchange, String>> {
        let handles: Vec<_> = (0..copies)
            .map(|i| {
                let request = self.builder(Method::POST, post, Tweak::default());
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
    /// stream answer (MCP Streamable HTTP). No `API-Version`, `Request-Id` or HTTP signature:
    /// those travel in `meta`.
    ///
    /// # Errors
    ///
    /// Transport failures.
    pub(crate) async fn post_rpc(&self, url: &str, body: &[u8]) -> Result<Exchange, String> {
        send(
            self.http
                .raw_url(Method::POST, url)
                .without_header("api-version")
                .without_header("request-id")
                .header("accept", "application/json, text/event-stream")
                .signing(RawSigning::Off)
                .body(body),
        )
        .await
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

/// Sends a raw request; the answer as an exchange.
///
/// # Errors
///
/// No answer (transport failure, timeout), with the reasons' chain.
async fn send(request: RawRequest) -> Result<Exchange, String> {
    request
        .send()
        .await
        .map(Exchange::from_raw)
        .map_err(|e| e.to_string())
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
