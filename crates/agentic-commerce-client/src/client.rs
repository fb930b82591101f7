//! The client, its builder, one call and its response.

use std::fmt;
use std::fmt::Write as _;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use agentic_commerce::parse::{self, schema::WireType};
use agentic_commerce::protocol::headers::{BearerToken, IdempotencyKey, RequestId};
use agentic_commerce::protocol::version::convert::{Document, LossReport, UpgradeDefaults};
use agentic_commerce::protocol::version::{self, ApiVersion};
use agentic_commerce::spec::latest::agentic_checkout::{
    CancelSessionRequest, CheckoutSession, CheckoutSessionCompleteRequest,
    CheckoutSessionCreateRequest, CheckoutSessionUpdateRequest, CheckoutSessionWithOrder,
    DiscoveryResponse,
};
use agentic_commerce::spec::latest::cart::{
    Cart, CartCancelRequest, CartCreateRequest, CartUpdateRequest,
};
use agentic_commerce::spec::latest::delegate_authentication::{
    DelegateAuthenticationAuthenticateRequest, DelegateAuthenticationCreateRequest,
    DelegateAuthenticationSession, DelegateAuthenticationSessionWithResult,
};
use agentic_commerce::spec::latest::delegate_payment::{
    DelegatePaymentRequest, DelegatePaymentResponse,
};
use agentic_commerce::spec::latest::feed::{
    CreateFeedRequest, FeedMetadata, ProductsResponse, UpsertProductsResponse,
};
use agentic_commerce::trust::signature::{
    RequestSigner, SignatureError, SignatureHeaders, SigningKey,
};
use time::OffsetDateTime;
use tokio::sync::OnceCell;

use crate::error::{BuildError, Error};
use crate::retry::RetryPolicy;
use crate::transport::{self, Kind, Spec};

/// The default cap on a response body: 1 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1 << 20;
/// The default per-attempt timeout (connect, send, and read the whole answer): 30 s.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default connect timeout: 10 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default `User-Agent` (HDR-03).
pub const DEFAULT_USER_AGENT: &str = concat!("agentic-commerce-client/", env!("CARGO_PKG_VERSION"));

/// Signs the exact body bytes of a request; implemented for every [`RequestSigner`].
pub(crate) trait BodySigner: Send + Sync {
    fn sign(&self, body: &[u8], at: OffsetDateTime) -> Result<SignatureHeaders, SignatureError>;
}

impl<K: SigningKey + Send + Sync> BodySigner for RequestSigner<K> {
    fn sign(&self, body: &[u8], at: OffsetDateTime) -> Result<SignatureHeaders, SignatureError> {
        RequestSigner::sign(self, body, at)
    }
}

/// How the client picks the `API-Version` it sends.
#[derive(Debug, Clone)]
enum VersionChoice {
    Fixed(ApiVersion),
    Discover,
}

/// Configures an [`AcpClient`]; start with [`AcpClient::builder`].
pub struct ClientBuilder {
    base_url: String,
    bearer: Option<String>,
    version: VersionChoice,
    supported: Vec<ApiVersion>,
    signer: Option<Arc<dyn BodySigner>>,
    retry: RetryPolicy,
    attempt_timeout: Duration,
    connect_timeout: Duration,
    max_response_bytes: usize,
    user_agent: String,
    accept_language: Option<String>,
    upgrade_defaults: UpgradeDefaults,
    plain_http: bool,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("bearer", &self.bearer.as_ref().map(|_| "[REDACTED]"))
            .field("version", &self.version)
            .field("supported", &self.supported)
            .field("signer", &self.signer.is_some())
            .field("retry", &self.retry)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("user_agent", &self.user_agent)
            .field("plain_http", &self.plain_http)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.to_owned(),
            bearer: None,
            version: VersionChoice::Fixed(ApiVersion::LATEST),
            supported: ApiVersion::RELEASED.to_vec(),
            signer: None,
            retry: RetryPolicy::default(),
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            accept_language: None,
            upgrade_defaults: UpgradeDefaults::new(),
            plain_http: false,
        }
    }

    /// The `Authorization: Bearer <token>` sent on every request but discovery (HDR-01).
    #[must_use]
    pub fn bearer_token(mut self, token: &str) -> Self {
        self.bearer = Some(token.to_owned());
        self
    }

    /// Sends this `API-Version` (VER-01). Default: [`ApiVersion::LATEST`] (2026-04-17).
    #[must_use]
    pub fn api_version(mut self, version: ApiVersion) -> Self {
        self.version = VersionChoice::Fixed(version);
        self
    }

    /// Chooses the `API-Version` from the server's discovery document
    /// (`GET /.well-known/acp.json`) before the first call: the newest version listed there
    /// that this client also supports ([`supported_versions`](Self::supported_versions)).
    /// The choice is made once per client ([`AcpClient::negotiate_version`]).
    #[must_use]
    pub fn negotiate_version(mut self) -> Self {
        self.version = VersionChoice::Discover;
        self
    }

    /// The versions this client may negotiate. Default: every released version
    /// ([`ApiVersion::RELEASED`]); answers in a version older than 2026-04-17 are upgraded to
    /// the 2026-04-17 model.
    #[must_use]
    pub fn supported_versions(mut self, versions: &[ApiVersion]) -> Self {
        self.supported = versions.to_vec();
        self
    }

    /// Signs every request with a body (`Signature`, `Timestamp`; SIG-01..03) over the exact
    /// bytes sent. A retry is signed again with a fresh timestamp, over the same bytes.
    #[must_use]
    pub fn signer<K: SigningKey + Send + Sync + 'static>(
        mut self,
        signer: RequestSigner<K>,
    ) -> Self {
        self.signer = Some(Arc::new(signer));
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]).
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The most one attempt may take, connect to last body byte (default
    /// [`DEFAULT_ATTEMPT_TIMEOUT`]); never more than what is left of the call's deadline.
    #[must_use]
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// The most a TCP (and TLS) connect may take (default [`DEFAULT_CONNECT_TIMEOUT`]).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The largest response body read (default [`DEFAULT_MAX_RESPONSE_BYTES`], 1 MiB); the
    /// body is streamed and reading stops at the cap ([`Error::TooLarge`]).
    #[must_use]
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// The `User-Agent` (default [`DEFAULT_USER_AGENT`]).
    #[must_use]
    pub fn user_agent(mut self, user_agent: &str) -> Self {
        user_agent.clone_into(&mut self.user_agent);
        self
    }

    /// An `Accept-Language` sent on every request (HDR-03).
    #[must_use]
    pub fn accept_language(mut self, value: &str) -> Self {
        self.accept_language = Some(value.to_owned());
        self
    }

    /// What an answer in a version older than 2026-01-30 cannot carry but the 2026-04-17 model
    /// requires (see [`UpgradeDefaults`]); used when upgrading checkout answers.
    #[must_use]
    pub fn upgrade_defaults(mut self, defaults: UpgradeDefaults) -> Self {
        self.upgrade_defaults = defaults;
        self
    }

    /// Accepts plain `http://` to any host, not only loopback ones: for test tools (a
    /// conformance checker, a load generator) pointed at a test server on a private network.
    /// The bearer token and signed bodies then travel in clear text (HDR-06): never for
    /// production hosts.
    #[must_use]
    pub fn allow_plain_http(mut self) -> Self {
        self.plain_http = true;
        self
    }

    /// The client.
    ///
    /// # Errors
    ///
    /// [`BuildError`]: a base URL that does not parse or is `http://` to a non-loopback host, a
    /// malformed bearer token, an empty version list, a TLS backend that fails to start.
    pub fn build(self) -> Result<AcpClient, BuildError> {
        let mut base = reqwest::Url::parse(&self.base_url)
            .map_err(|e| BuildError::InvalidBaseUrl(e.to_string()))?;
        match base.scheme() {
            "https" => {}
            "http" if self.plain_http || is_loopback(&base) => {}
            "http" => {
                return Err(BuildError::InsecureBaseUrl(
                    base.host_str().unwrap_or_default().to_owned(),
                ));
            }
            other => return Err(BuildError::InvalidBaseUrl(format!("scheme {other}"))),
        }
        if base.cannot_be_a_base() || base.host_str().is_none() {
            return Err(BuildError::InvalidBaseUrl("not a base URL".to_owned()));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        base.set_query(None);
        base.set_fragment(None);
        let bearer = match &self.bearer {
            Some(token) => {
                Some(BearerToken::new(token).map_err(|_| BuildError::InvalidBearerToken)?)
            }
            None => None,
        };
        if self.supported.is_empty() {
            return Err(BuildError::NoVersions);
        }
        let http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            // A redirect would send the bearer token and the signed body somewhere else: a 3xx
            // is an answer (`Error::UnexpectedStatus`), not followed.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(self.user_agent.clone())
            .build()
            .map_err(|e| BuildError::Http(e.to_string()))?;
        Ok(AcpClient {
            inner: Arc::new(Inner {
                http,
                base,
                bearer,
                version: self.version,
                supported: self.supported,
                negotiated: OnceCell::new(),
                signer: self.signer,
                retry: self.retry,
                attempt_timeout: self.attempt_timeout,
                max_response_bytes: self.max_response_bytes,
                accept_language: self.accept_language,
                upgrade_defaults: self.upgrade_defaults,
                plain_http: self.plain_http,
            }),
        })
    }
}

/// Whether requests may go to `url`: `https://`, or `http://` to a loopback host (to any host
/// with `plain_http`).
pub(crate) fn allowed_url(url: &reqwest::Url, plain_http: bool) -> bool {
    match url.scheme() {
        "https" => url.host_str().is_some(),
        "http" => url.host_str().is_some() && (plain_http || is_loopback(url)),
        _ => false,
    }
}

/// Whether the URL's host is `localhost` or a loopback address.
fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) base: reqwest::Url,
    pub(crate) bearer: Option<BearerToken>,
    version: VersionChoice,
    supported: Vec<ApiVersion>,
    negotiated: OnceCell<ApiVersion>,
    pub(crate) signer: Option<Arc<dyn BodySigner>>,
    pub(crate) retry: RetryPolicy,
    pub(crate) attempt_timeout: Duration,
    pub(crate) max_response_bytes: usize,
    pub(crate) accept_language: Option<String>,
    pub(crate) upgrade_defaults: UpgradeDefaults,
    pub(crate) plain_http: bool,
}

/// A typed, async ACP client for one host: a merchant (checkout, carts, discovery) or a PSP
/// (delegate payment, delegate authentication).
///
/// Cheap to clone (the connection pool and configuration are shared). Each operation method
/// returns a [`Call`]: `.await` it, or first set its `Idempotency-Key` or `Request-Id`.
/// `Debug` never prints the bearer token or the signing key.
#[derive(Clone)]
pub struct AcpClient {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for AcpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcpClient")
            .field("base_url", &self.inner.base.as_str())
            .field("bearer", &self.inner.bearer)
            .field("version", &self.inner.version)
            .field("negotiated", &self.inner.negotiated.get())
            .field("signer", &self.inner.signer.is_some())
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

impl AcpClient {
    /// A builder for a client of the host at `base_url` (`https://shop.example/` or, on
    /// loopback only, `http://127.0.0.1:8080/`; a path prefix is kept).
    pub fn builder(base_url: &str) -> ClientBuilder {
        ClientBuilder::new(base_url)
    }

    /// The base URL every operation path is relative to (with a trailing `/`).
    pub fn base_url(&self) -> &str {
        self.inner.base.as_str()
    }

    /// Whether the client signs request bodies ([`ClientBuilder::signer`]).
    pub fn has_signer(&self) -> bool {
        self.inner.signer.is_some()
    }

    /// `Signature` and `Timestamp` for `body` stamped `at`, as the client signs every body it
    /// sends (for a signature carried elsewhere, such as MCP `meta`, or a hand-made raw
    /// request); `Ok(None)` when the client has no signer.
    ///
    /// # Errors
    ///
    /// A body the signer cannot sign (not canonicalizable JSON for a canonical signer).
    pub fn sign_body(
        &self,
        body: &[u8],
        at: OffsetDateTime,
    ) -> Result<Option<SignatureHeaders>, SignatureError> {
        match &self.inner.signer {
            Some(signer) => signer.sign(body, at).map(Some),
            None => Ok(None),
        }
    }

    /// The `API-Version` this client sends: the configured one, or the one negotiated from
    /// the discovery document (negotiating now if not done yet).
    ///
    /// # Errors
    ///
    /// As [`negotiate_version`](Self::negotiate_version).
    pub async fn api_version(&self) -> Result<ApiVersion, Error> {
        match &self.inner.version {
            VersionChoice::Fixed(version) => Ok(version.clone()),
            VersionChoice::Discover => self
                .inner
                .negotiated
                .get_or_try_init(|| self.negotiate_version())
                .await
                .cloned(),
        }
    }

    /// Reads the discovery document and returns the newest version it lists that this client
    /// also supports (VER-02; DIS-05: `supported_versions`). Does not change the version a
    /// client with a fixed [`api_version`](ClientBuilder::api_version) sends.
    ///
    /// # Errors
    ///
    /// The discovery call's errors, or [`Error::NoCommonVersion`].
    pub async fn negotiate_version(&self) -> Result<ApiVersion, Error> {
        let document = self.discover().await?.value;
        let mut theirs: Vec<ApiVersion> = document
            .protocol
            .supported_versions
            .iter()
            .filter_map(|v| v.parse().ok())
            .collect();
        theirs.sort();
        theirs
            .iter()
            .rev()
            .find_map(|v| version::negotiate(&self.inner.supported, Some(v.as_str())).ok())
            .ok_or_else(|| Error::NoCommonVersion {
                ours: self.inner.supported.clone(),
                theirs: document.protocol.supported_versions.clone(),
            })
    }

    fn call<T>(&self, spec: Spec) -> Call<'_, T> {
        Call {
            client: self,
            spec,
            idempotency_key: None,
            request_id: None,
            _type: PhantomData,
        }
    }

    // --- discovery -------------------------------------------------------------------------

    /// `GET /.well-known/acp.json` at the origin of the base URL (DIS-01), without
    /// `Authorization` (DIS-02).
    pub fn discover(&self) -> Call<'_, DiscoveryResponse> {
        self.call(Spec::get(
            Kind::Discovery,
            "/.well-known/acp.json".to_owned(),
            None,
        ))
    }

    // --- checkout (merchant) ---------------------------------------------------------------

    /// `POST /checkout_sessions` (201 `CheckoutSession`; CHK-01).
    pub fn create_checkout(
        &self,
        request: &CheckoutSessionCreateRequest,
    ) -> Call<'_, CheckoutSession> {
        self.call(Spec::write(
            reqwest::Method::POST,
            "checkout_sessions".to_owned(),
            request,
            Some(Document::CreateRequest),
            Some(Document::CheckoutSession),
        ))
    }

    /// `POST /checkout_sessions/{id}` (200 `CheckoutSession`).
    pub fn update_checkout(
        &self,
        id: &str,
        request: &CheckoutSessionUpdateRequest,
    ) -> Call<'_, CheckoutSession> {
        self.call(Spec::write(
            reqwest::Method::POST,
            format!("checkout_sessions/{}", segment(id)),
            request,
            Some(Document::UpdateRequest),
            Some(Document::CheckoutSession),
        ))
    }

    /// `GET /checkout_sessions/{id}` (200 `CheckoutSession`).
    pub fn retrieve_checkout(&self, id: &str) -> Call<'_, CheckoutSession> {
        self.call(Spec::get(
            Kind::Acp,
            format!("checkout_sessions/{}", segment(id)),
            Some(Document::CheckoutSession),
        ))
    }

    /// `POST /checkout_sessions/{id}/complete` (200 `CheckoutSessionWithOrder`; CHK-10/11).
    pub fn complete_checkout(
        &self,
        id: &str,
        request: &CheckoutSessionCompleteRequest,
    ) -> Call<'_, CheckoutSessionWithOrder> {
        self.call(Spec::write(
            reqwest::Method::POST,
            format!("checkout_sessions/{}/complete", segment(id)),
            request,
            Some(Document::CompleteRequest),
            Some(Document::CheckoutSessionWithOrder),
        ))
    }

    /// `POST /checkout_sessions/{id}/cancel` (200 `CheckoutSession`, status `canceled`;
    /// CHK-16). Send `CancelSessionRequest::new()` for a cancel without `intent_trace`.
    pub fn cancel_checkout(
        &self,
        id: &str,
        request: &CancelSessionRequest,
    ) -> Call<'_, CheckoutSession> {
        self.call(Spec::write(
            reqwest::Method::POST,
            format!("checkout_sessions/{}/cancel", segment(id)),
            request,
            None,
            Some(Document::CheckoutSession),
        ))
    }

    // --- carts (merchant) ------------------------------------------------------------------

    /// `POST /carts` (201 `Cart`; CART-01).
    pub fn create_cart(&self, request: &CartCreateRequest) -> Call<'_, Cart> {
        self.call(Spec::write(
            reqwest::Method::POST,
            "carts".to_owned(),
            request,
            None,
            None,
        ))
    }

    /// `GET /carts/{id}` (200 `Cart`).
    pub fn retrieve_cart(&self, id: &str) -> Call<'_, Cart> {
        self.call(Spec::get(Kind::Acp, format!("carts/{}", segment(id)), None))
    }

    /// `PUT /carts/{id}`: full replacement (200 `Cart`; CART-04). Idempotent like a POST.
    pub fn update_cart(&self, id: &str, request: &CartUpdateRequest) -> Call<'_, Cart> {
        self.call(Spec::write(
            reqwest::Method::PUT,
            format!("carts/{}", segment(id)),
            request,
            None,
            None,
        ))
    }

    /// `POST /carts/{id}/cancel` (200 `Cart` in its final state; CART-08).
    pub fn cancel_cart(&self, id: &str, request: &CartCancelRequest) -> Call<'_, Cart> {
        self.call(Spec::write(
            reqwest::Method::POST,
            format!("carts/{}/cancel", segment(id)),
            request,
            None,
            None,
        ))
    }

    // --- PSP -------------------------------------------------------------------------------

    /// `POST /agentic_commerce/delegate_payment` at a PSP (201 `DelegatePaymentResponse`;
    /// DP-01).
    pub fn delegate_payment(
        &self,
        request: &DelegatePaymentRequest,
    ) -> Call<'_, DelegatePaymentResponse> {
        self.call(Spec::write(
            reqwest::Method::POST,
            "agentic_commerce/delegate_payment".to_owned(),
            request,
            None,
            None,
        ))
    }

    /// `POST /delegate_authentication` at an authentication provider (201
    /// `DelegateAuthenticationSession`).
    pub fn create_delegate_authentication(
        &self,
        request: &DelegateAuthenticationCreateRequest,
    ) -> Call<'_, DelegateAuthenticationSession> {
        self.call(Spec::write(
            reqwest::Method::POST,
            "delegate_authentication".to_owned(),
            request,
            None,
            None,
        ))
    }

    /// `POST /delegate_authentication/{id}/authenticate` (200
    /// `DelegateAuthenticationSession`; DA-02).
    pub fn authenticate_delegate_authentication(
        &self,
        authentication_session_id: &str,
        request: &DelegateAuthenticationAuthenticateRequest,
    ) -> Call<'_, DelegateAuthenticationSession> {
        self.call(Spec::write(
            reqwest::Method::POST,
            format!(
                "delegate_authentication/{}/authenticate",
                segment(authentication_session_id)
            ),
            request,
            None,
            None,
        ))
    }

    /// `GET /delegate_authentication/{id}` (200 `DelegateAuthenticationSessionWithResult`).
    pub fn retrieve_delegate_authentication(
        &self,
        authentication_session_id: &str,
    ) -> Call<'_, DelegateAuthenticationSessionWithResult> {
        self.call(Spec::get(
            Kind::Acp,
            format!(
                "delegate_authentication/{}",
                segment(authentication_session_id)
            ),
            None,
        ))
    }

    // --- feeds (the agent platform, called by the merchant) --------------------------------

    /// `POST /feeds` at the agent platform (201 `FeedMetadata`): a new, empty feed of this
    /// client's merchant.
    pub fn create_feed(&self, request: &CreateFeedRequest) -> Call<'_, FeedMetadata> {
        self.call(Spec::write(
            reqwest::Method::POST,
            "feeds".to_owned(),
            request,
            None,
            None,
        ))
    }

    /// `GET /feeds/{id}` (200 `FeedMetadata`; FEED-02).
    pub fn feed(&self, id: &str) -> Call<'_, FeedMetadata> {
        self.call(Spec::get(Kind::Acp, format!("feeds/{}", segment(id)), None))
    }

    /// `GET /feeds/{id}/products` (200 `ProductsResponse`: the full product set; FEED-03).
    pub fn feed_products(&self, id: &str) -> Call<'_, ProductsResponse> {
        self.call(Spec::get(
            Kind::Acp,
            format!("feeds/{}/products", segment(id)),
            None,
        ))
    }

    /// `PATCH /feeds/{id}/products` (200 `UpsertProductsResponse`): inserts or replaces each
    /// product by `Product.id`; products not sent stay as they are (FEED-04). The body is an
    /// `UpsertProductsRequest`, which has the shape of [`ProductsResponse`]. Idempotent like a
    /// POST (an `Idempotency-Key` on every attempt).
    pub fn upsert_feed_products(
        &self,
        id: &str,
        request: &ProductsResponse,
    ) -> Call<'_, UpsertProductsResponse> {
        self.call(Spec::write(
            reqwest::Method::PATCH,
            format!("feeds/{}/products", segment(id)),
            request,
            None,
            None,
        ))
    }
}

/// A path segment with every byte outside RFC 3986 `unreserved` percent-encoded, so an id
/// can never change the path.
fn segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// One logical call, ready to be `.await`ed. Retries of it reuse its `Idempotency-Key`
/// (generated from 128 random bits unless set with [`idempotency_key`](Self::idempotency_key))
/// and its `Request-Id`.
#[must_use = "a call does nothing until it is awaited"]
pub struct Call<'a, T> {
    client: &'a AcpClient,
    spec: Spec,
    idempotency_key: Option<IdempotencyKey>,
    request_id: Option<RequestId>,
    _type: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Call<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("method", &self.spec.method)
            .field("path", &self.spec.path)
            .field("idempotency_key", &self.idempotency_key)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

impl<T> Call<'_, T> {
    /// Sends this `Idempotency-Key` instead of a generated one: to continue a call whose
    /// outcome is unknown (a crash, [`Error::DeadlineExceeded`]) with the key it used
    /// ([`Error`] does not carry it; keep it from the start). Ignored on GETs.
    pub fn idempotency_key(mut self, key: IdempotencyKey) -> Self {
        self.idempotency_key = Some(key);
        self
    }

    /// Sends this `Request-Id` instead of a generated one.
    pub fn request_id(mut self, id: RequestId) -> Self {
        self.request_id = Some(id);
        self
    }
}

impl<'a, T: WireType + Send + 'static> IntoFuture for Call<'a, T> {
    type Output = Result<Response<T>, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let version = match self.spec.kind {
                Kind::Discovery => None,
                Kind::Acp => Some(self.client.api_version().await?),
            };
            transport::execute(
                &self.client.inner,
                self.spec,
                version,
                self.idempotency_key,
                self.request_id,
            )
            .await
        })
    }
}

/// A successful answer: the typed value (in the 2026-04-17 model) and what the exchange
/// looked like.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Response<T> {
    /// The answer, parsed leniently (unknown members and enum values kept) and, when it came
    /// in an older version, upgraded to the 2026-04-17 model.
    pub value: T,
    /// The HTTP status (201 for creates, 200 otherwise).
    pub status: u16,
    /// The `API-Version` sent (`None` for discovery, which sends none).
    pub api_version: Option<ApiVersion>,
    /// Whether the server replayed a stored answer (`Idempotent-Replayed: true`, IDEM-09):
    /// an earlier attempt of this call was processed.
    pub replayed: bool,
    /// The `Idempotency-Key` sent (on POST, PUT and PATCH).
    pub idempotency_key: Option<IdempotencyKey>,
    /// The `Request-Id` sent.
    pub request_id: RequestId,
    /// How many attempts the call took.
    pub attempts: u32,
    /// What the upgrade from an older version could not carry (empty in 2026-04-17).
    pub upgrade_losses: Vec<LossReport>,
}

impl<T> Response<T> {
    /// The value.
    pub fn into_value(self) -> T {
        self.value
    }
}

/// Serializes a request for [`Spec::write`] (lenient wire form, nothing dropped).
pub(crate) fn to_value<R: serde::Serialize>(request: &R) -> Result<serde_json::Value, Error> {
    parse::to_value(request).map_err(Error::Serialize)
}
