//! The feed engine: the agent platform's product-feed API (ACP 2026-04-17), framework-free.
//!
//! Feeds are agent-hosted: the merchant pushes its catalog to the agent platform, never the
//! other way round (FEED-01). [`FeedEngine`] serves the four operations over a [`FeedStore`]:
//!
//! | Route | What the engine does |
//! |---|---|
//! | `POST /feeds` | `201` [`FeedMetadata`] of a new, empty feed (`feed_…`), owned by the caller; `Idempotency-Key` required (IDEM-01) |
//! | `GET /feeds/{id}` | `200` the feed's current [`FeedMetadata`] or `404` (FEED-02) |
//! | `GET /feeds/{id}/products` | `200` [`ProductsResponse`]: the full current product set (FEED-03) |
//! | `PATCH /feeds/{id}/products` | upsert by `Product.id`, every omitted product unchanged (FEED-04), `updated_at` advanced (FEED-10); `200` `{id, accepted: true}`; ids repeated in one request are `400` |
//!
//! Every request is authenticated by the [`Authenticator`] (the feed OAS declares no security,
//! but the product-feeds RFC requires a bearer token and `API-Version` on every call: HDR-01,
//! VER-01, FEED-07), and a feed is seen only by the identity that created it: another
//! merchant's feed is `404`, never `403` (its existence is not disclosed). Feeds exist from
//! 2026-04-17 on: the engine serves no older version, so an older `API-Version` is `400`
//! `unsupported_api_version` with the supported versions (VER-03). Bodies are checked against
//! the caller's version's schema (strict by default; lenient keeps unknown members) and every
//! defect is a `400` with its JSONPath `param`. Writes are idempotent per caller and key
//! (IDEM-03..13) through an [`AsyncIdempotencyStore`]; a `PATCH` without a key runs once.
//!
//! The idempotency record and the feed write are two stores: if recording the response fails
//! after the write, the write stays and the caller gets its answer (a retry of a create under
//! the same key then makes a second, empty feed; an upsert is the same upsert again).
//!
//! # Example
//!
//! ```
//! use agentic_commerce::engine::auth::{BearerKeys, Identity};
//! use agentic_commerce::engine::feeds::{FeedEngine, InMemoryFeedStore};
//! use agentic_commerce::engine::store::InMemoryStore;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let engine = FeedEngine::builder(InMemoryFeedStore::default(), InMemoryStore::default())
//!     .merchants(BearerKeys::new().key("a-long-api-key-of-the-shop", Identity::new("shop_1")))
//!     .build()
//!     .unwrap();
//! let request = http::Request::post("/feeds")
//!     .header("Authorization", "Bearer a-long-api-key-of-the-shop")
//!     .header("API-Version", "2026-04-17")
//!     .header("Content-Type", "application/json")
//!     .header("Idempotency-Key", "feed-create-1")
//!     .body(())
//!     .unwrap();
//! let (parts, ()) = request.into_parts();
//! let response = engine.handle(&parts, br#"{"target_country":"US"}"#).await;
//! assert_eq!(response.status(), 201);
//! let feed: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
//! assert!(feed["id"].as_str().unwrap().starts_with("feed_"));
//! # });
//! ```

mod store;

use std::future::Future;

use http::Method;
use serde_json::Value;
use time::OffsetDateTime;

use crate::parse::json_path::JsonPath;
use crate::parse::registry::{self, Body};
use crate::primitives::Timestamp;
use crate::protocol::error::{AcpError, codes};
use crate::protocol::headers::{IdempotencyKey, Operation, RequestHeaders, RetryAfter};
use crate::protocol::version::ApiVersion;
use crate::spec::latest::feed::{
    CreateFeedRequest, FeedMetadata, ProductsResponse, UpsertProductsResponse,
};
use crate::trust::idempotency::{
    Fingerprint, IdempotencyOutcome, IdempotencyScope, StoredResponse,
};

use super::merchant::{DEFAULT_MAX_BODY_BYTES, Silent, Stderr};
use super::reply::{Reply, body_defect, valid_id};
use super::store::AsyncIdempotencyStore;

pub use super::auth::{Authenticator, BearerKeys, Identity};
pub use store::{
    DEFAULT_MAX_FEEDS, DEFAULT_MAX_PRODUCTS_PER_FEED, FeedLimit, FeedStore, FeedWrite,
    InMemoryFeedStore, Infallible,
};

/// The first version with feeds.
const FIRST_VERSION: ApiVersion = ApiVersion::V2026_04_17;

/// What the feed engine reports for the operator (never sent to the caller).
pub trait FeedEvents: Send + Sync {
    /// Something the operator should see. The default writes nothing.
    fn report(&self, event: &FeedEvent<'_>) {
        let _ = event;
    }
}

/// One operator-facing event; see [`FeedEvents`].
#[derive(Debug)]
#[non_exhaustive]
pub enum FeedEvent<'a> {
    /// A write was refused at a store bound.
    Limit {
        /// The caller.
        owner: &'a Identity,
        /// The bound.
        limit: FeedLimit,
    },
    /// A storage operation failed.
    Storage {
        /// The error.
        error: &'a (dyn std::error::Error + Send + Sync),
    },
}

impl FeedEvents for Silent {}

impl FeedEvents for Stderr {
    fn report(&self, event: &FeedEvent<'_>) {
        match event {
            FeedEvent::Limit { owner, limit } => eprintln!("acp feeds: {owner}: {limit}"),
            FeedEvent::Storage { error } => eprintln!("acp feeds: storage: {error}"),
        }
    }
}

/// Why [`FeedEngineBuilder::build`] failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FeedEngineError {
    /// No version, a version this crate does not model, or one older than 2026-04-17 (which
    /// has no feeds).
    #[error("unsupported API versions: {0}")]
    Versions(String),
}

/// Configures a [`FeedEngine`].
pub struct FeedEngineBuilder<F, S> {
    feeds: F,
    idempotency: S,
    merchants: Box<dyn Authenticator>,
    versions: Vec<ApiVersion>,
    strict: bool,
    max_body_bytes: usize,
    events: Box<dyn FeedEvents>,
}

impl<F: FeedStore, S: AsyncIdempotencyStore> FeedEngineBuilder<F, S> {
    /// Authenticates the merchants that push feeds; each identity owns the feeds it creates.
    /// Default: none (every request is `401`).
    #[must_use]
    pub fn merchants(mut self, merchants: impl Authenticator + 'static) -> Self {
        self.merchants = Box::new(merchants);
        self
    }

    /// Serves these versions (default: every released one from 2026-04-17 on).
    #[must_use]
    pub fn versions(mut self, versions: &[ApiVersion]) -> Self {
        self.versions = versions.to_vec();
        self
    }

    /// Requests must satisfy their version's schema exactly (unknown members are `400`);
    /// lenient keeps unknown members (forward compatibility). Default: strict.
    #[must_use]
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Bodies over `bytes` are refused with `413` (default 1 MiB).
    #[must_use]
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Where operator events go (default: standard error).
    #[must_use]
    pub fn events(mut self, events: impl FeedEvents + 'static) -> Self {
        self.events = Box::new(events);
        self
    }

    /// The engine.
    ///
    /// # Errors
    /// [`FeedEngineError::Versions`]: no, unknown or pre-2026-04-17 versions.
    pub fn build(self) -> Result<FeedEngine<F, S>, FeedEngineError> {
        let mut versions = self.versions;
        versions.sort();
        versions.dedup();
        if versions.is_empty() {
            return Err(FeedEngineError::Versions("none configured".to_owned()));
        }
        if let Some(bad) = versions
            .iter()
            .find(|v| !ApiVersion::RELEASED.contains(v) || **v < FIRST_VERSION)
        {
            return Err(FeedEngineError::Versions(bad.to_string()));
        }
        Ok(FeedEngine {
            feeds: self.feeds,
            idempotency: self.idempotency,
            merchants: self.merchants,
            versions,
            strict: self.strict,
            max_body_bytes: self.max_body_bytes,
            events: self.events,
        })
    }
}

/// Serves the agent platform's feed API; see the [module docs](self).
pub struct FeedEngine<F, S> {
    feeds: F,
    idempotency: S,
    merchants: Box<dyn Authenticator>,
    versions: Vec<ApiVersion>,
    strict: bool,
    max_body_bytes: usize,
    events: Box<dyn FeedEvents>,
}

impl<F, S> std::fmt::Debug for FeedEngine<F, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedEngine")
            .field("versions", &self.versions)
            .field("strict", &self.strict)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl<F: FeedStore, S: AsyncIdempotencyStore> FeedEngine<F, S> {
    /// Starts configuring an engine over `feeds` and `idempotency` (the records of its writes).
    pub fn builder(feeds: F, idempotency: S) -> FeedEngineBuilder<F, S> {
        FeedEngineBuilder {
            feeds,
            idempotency,
            merchants: Box::new(BearerKeys::new()),
            versions: ApiVersion::RELEASED
                .iter()
                .filter(|v| **v >= FIRST_VERSION)
                .cloned()
                .collect(),
            strict: true,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            events: Box::new(Stderr),
        }
    }

    /// The feed store.
    pub fn feeds(&self) -> &F {
        &self.feeds
    }

    /// The served versions, oldest first.
    pub fn versions(&self) -> &[ApiVersion] {
        &self.versions
    }

    /// The body-size cap.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// Serves one request at the current time.
    pub async fn handle(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
    ) -> http::Response<Vec<u8>> {
        self.handle_at(parts, body, OffsetDateTime::now_utc()).await
    }

    /// Serves one request as if received at `now` (tests, replays).
    pub async fn handle_at(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
        now: OffsetDateTime,
    ) -> http::Response<Vec<u8>> {
        Box::pin(self.serve(parts, body, now)).await.into_http()
    }

    async fn serve(&self, parts: &http::request::Parts, body: &[u8], now: OffsetDateTime) -> Reply {
        if body.len() > self.max_body_bytes {
            return Reply::error(&AcpError::request_too_large(self.max_body_bytes));
        }
        let (op, id) = match route(&parts.method, parts.uri.path()) {
            Routed::Route(op, id) => (op, id),
            Routed::WrongMethod(allow) => {
                let mut reply = Reply::error(&AcpError::method_not_allowed(format!(
                    "{} is not allowed here",
                    parts.method
                )));
                reply.headers.push(("Allow".to_owned(), allow.to_owned()));
                return reply;
            }
            Routed::NotFound => return Reply::error(&AcpError::not_found("resource")),
        };
        let pairs: Vec<(String, String)> = parts
            .headers
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let headers = match RequestHeaders::parse_with_body(
            op,
            pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            !body.is_empty(),
        ) {
            Ok(headers) => headers,
            Err(errors) => {
                return Reply::error(&AcpError::from_header_errors(&errors, &self.versions));
            }
        };
        let echo: Vec<(String, String)> = headers
            .echo_headers()
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v))
            .collect();
        let mut reply = self.admitted(op, id, &headers, body, now).await;
        for (name, value) in echo {
            reply.header_if_absent(&name, value);
        }
        reply
    }

    /// After the headers: authentication (HDR-01, FEED-07), version, then the operation.
    async fn admitted(
        &self,
        op: Operation,
        id: Option<String>,
        headers: &RequestHeaders,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Reply {
        let Some(owner) = self.merchants.authenticate(headers.authorization()) else {
            return Reply::error(&AcpError::unauthorized("invalid or missing API key"));
        };
        let version = match headers.negotiate_version(&self.versions) {
            Ok(version) => version,
            Err(e) => return Reply::error(&AcpError::from(&e)),
        };
        let value = if body.is_empty() {
            None
        } else {
            match serde_json::from_slice::<Value>(body) {
                Ok(value) => Some(value),
                Err(e) => {
                    return Reply::error(&AcpError::invalid_request(
                        codes::INVALID_JSON,
                        format!("the request body is not valid JSON: {e}"),
                        &JsonPath::root(),
                    ));
                }
            }
        };
        let request = Request {
            op,
            owner,
            version,
            value,
            body,
            now,
        };
        let mut reply = match (op, id) {
            (Operation::CreateFeed, _) => {
                self.idempotent(&request, headers.idempotency_key(), None)
                    .await
            }
            (Operation::UpsertFeedProducts, Some(id)) => {
                self.idempotent(&request, headers.idempotency_key(), Some(&id))
                    .await
            }
            (Operation::RetrieveFeed, Some(id)) => self.retrieve(&request, &id).await,
            (Operation::GetFeedProducts, Some(id)) => self.products(&request, &id).await,
            _ => Reply::error(&AcpError::not_found("resource")),
        };
        reply.header_if_absent("API-Version", request.version.to_string());
        reply
    }

    async fn retrieve(&self, request: &Request<'_>, id: &str) -> Reply {
        match self.feeds.feed(request.owner.as_str(), id).await {
            Ok(Some(feed)) => json_reply(200, &feed),
            Ok(None) => feed_not_found(),
            Err(e) => self.storage_failure(&e),
        }
    }

    async fn products(&self, request: &Request<'_>, id: &str) -> Reply {
        match self.feeds.products(request.owner.as_str(), id).await {
            Ok(Some(products)) => json_reply(200, &ProductsResponse::new(products)),
            Ok(None) => feed_not_found(),
            Err(e) => self.storage_failure(&e),
        }
    }

    /// A write under its idempotency key (IDEM-03..13): a replay or conflict answers from the
    /// record; otherwise the write runs and its response is recorded (a 5xx releases the key).
    async fn idempotent(
        &self,
        request: &Request<'_>,
        key: Option<&IdempotencyKey>,
        feed: Option<&str>,
    ) -> Reply {
        // A PATCH without a key has nothing to replay: it runs once, unrecorded.
        let Some(key) = key else {
            return self.write(request, feed).await;
        };
        let path = feed.map_or_else(|| "/feeds".to_owned(), |id| format!("/feeds/{id}/products"));
        let scope = IdempotencyScope::new(request.owner.as_str(), path, key.clone());
        let fingerprint = match Fingerprint::of_body(request.body) {
            // IDEM-11: the version is part of the request.
            Ok(f) => Fingerprint::from_canonical_bytes(
                &[request.version.as_str().as_bytes(), b"\n", f.as_bytes()].concat(),
            ),
            Err(e) => {
                return Reply::error(&AcpError::invalid_request(
                    codes::INVALID_JSON,
                    e.to_string(),
                    &JsonPath::root(),
                ));
            }
        };
        let lease = match self
            .idempotency
            .begin(&scope, &fingerprint, request.now)
            .await
        {
            Ok(IdempotencyOutcome::Proceed(lease)) => lease,
            Ok(IdempotencyOutcome::Replay(stored)) => {
                return Reply {
                    status: stored.status,
                    body: stored.body.clone(),
                    headers: stored.replay_headers(key),
                };
            }
            Ok(other) => {
                return match other.rejection() {
                    Some(rejection) => {
                        let mut reply = Reply::error(&AcpError::from(rejection));
                        reply.headers = rejection
                            .response_headers()
                            .into_iter()
                            .map(|(n, v)| (n.to_owned(), v))
                            .collect();
                        reply
                    }
                    None => Reply::error(&AcpError::processing_error(
                        "unexpected idempotency outcome",
                    )),
                };
            }
            Err(e) => return self.storage_failure(&e),
        };
        let mut reply = self.write(request, feed).await;
        reply.header_if_absent("API-Version", request.version.to_string());
        let stored = StoredResponse::new(reply.status, reply.body.clone(), reply.headers.clone());
        if let Err(e) = self
            .idempotency
            .complete(&scope, lease, stored, request.now)
            .await
        {
            // The write happened: answer it; only the record (and so a replay) is missing.
            self.events.report(&FeedEvent::Storage { error: &e });
        }
        reply
    }

    async fn write(&self, request: &Request<'_>, feed: Option<&str>) -> Reply {
        let result = match feed {
            None => self.create(request).await,
            Some(id) => self.upsert(request, id).await,
        };
        result.unwrap_or_else(|reply| reply)
    }

    async fn create(&self, request: &Request<'_>) -> Result<Reply, Reply> {
        let create: CreateFeedRequest = match &request.value {
            // The whole body is optional: no member of CreateFeedRequest is required.
            None => CreateFeedRequest::new(),
            Some(value) => self.parse(request, value)?,
        };
        let mut feed = FeedMetadata::new(super::psp::new_id("feed_"));
        feed.target_country = create.target_country;
        feed.updated_at = Some(Timestamp(request.now));
        match self.feeds.create(request.owner.as_str(), &feed).await {
            Ok(FeedWrite::Written(feed)) => Ok(json_reply(201, &feed)),
            Ok(FeedWrite::NotFound) => Err(feed_not_found()),
            Ok(FeedWrite::Limit(limit)) => Err(self.limit(&request.owner, limit)),
            Err(e) => Err(self.storage_failure(&e)),
        }
    }

    async fn upsert(&self, request: &Request<'_>, id: &str) -> Result<Reply, Reply> {
        let Some(value) = &request.value else {
            return Err(Reply::error(&AcpError::invalid_request(
                codes::MISSING_REQUIRED_FIELD,
                "the request body is required",
                &JsonPath::root().key("products"),
            )));
        };
        let upsert: ProductsResponse = self.parse(request, value)?;
        let products_at = JsonPath::root().key("products");
        let mut seen = std::collections::BTreeSet::new();
        for (i, product) in upsert.products.iter().enumerate() {
            if !seen.insert(product.id.as_str()) {
                // Two products with one id in one upsert: which one wins would be a guess.
                return Err(Reply::error(&AcpError::invalid_request(
                    codes::INVALID_VALUE,
                    format!(
                        "product id {:?} appears more than once",
                        product.id.as_str()
                    ),
                    &products_at.index(i).key("id"),
                )));
            }
        }
        match self
            .feeds
            .upsert(request.owner.as_str(), id, &upsert.products, request.now)
            .await
        {
            Ok(FeedWrite::Written(_)) => {
                Ok(json_reply(200, &UpsertProductsResponse::new(id, true)))
            }
            Ok(FeedWrite::NotFound) => Err(feed_not_found()),
            Ok(FeedWrite::Limit(limit)) => Err(self.limit(&request.owner, limit)),
            Err(e) => Err(self.storage_failure(&e)),
        }
    }

    /// The body against the caller's version's schema (every defect with its `param`), then
    /// the typed request.
    fn parse<T: crate::parse::schema::WireType>(
        &self,
        request: &Request<'_>,
        value: &Value,
    ) -> Result<T, Reply> {
        registry::check_body(
            &request.version,
            request.op,
            Body::Request,
            value,
            self.strict,
        )
        .map_err(|e| {
            let (message, param) = body_defect(&e);
            Reply::error(&AcpError::invalid_request(
                codes::INVALID_VALUE,
                message,
                &param,
            ))
        })?;
        crate::parse::from_value(value).map_err(|e| {
            Reply::error(&AcpError::invalid_request(
                codes::INVALID_VALUE,
                e.message,
                &e.path,
            ))
        })
    }

    fn limit(&self, owner: &Identity, limit: FeedLimit) -> Reply {
        self.events.report(&FeedEvent::Limit { owner, limit });
        let error = match limit {
            FeedLimit::Products(_) => AcpError::invalid_request(
                codes::INVALID_VALUE,
                limit.to_string(),
                &JsonPath::root().key("products"),
            ),
            FeedLimit::Feeds(_) => AcpError::unprocessable("feed_limit_reached", limit.to_string()),
        };
        Reply::error(&error)
    }

    fn storage_failure(&self, error: &(dyn std::error::Error + Send + Sync + 'static)) -> Reply {
        self.events.report(&FeedEvent::Storage { error });
        Reply::error(&AcpError::service_unavailable(
            "storage is unavailable",
            Some(RetryAfter::from_secs(1)),
        ))
    }
}

impl<F: FeedStore, S: AsyncIdempotencyStore> super::HttpEngine for FeedEngine<F, S> {
    fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    fn handle_request(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
    ) -> impl Future<Output = http::Response<Vec<u8>>> + Send {
        self.handle(parts, body)
    }
}

/// An admitted request.
struct Request<'a> {
    op: Operation,
    owner: Identity,
    version: ApiVersion,
    /// The body as JSON (`None` when empty).
    value: Option<Value>,
    body: &'a [u8],
    now: OffsetDateTime,
}

fn json_reply<T: serde::Serialize>(status: u16, value: &T) -> Reply {
    match serde_json::to_value(value) {
        Ok(value) => Reply::json(status, &value),
        Err(_) => Reply::error(&AcpError::processing_error("cannot serialize the response")),
    }
}

/// The same answer for a feed that does not exist and another merchant's feed.
fn feed_not_found() -> Reply {
    Reply::error(&AcpError::not_found("feed"))
}

enum Routed {
    Route(Operation, Option<String>),
    WrongMethod(&'static str),
    NotFound,
}

fn route(method: &Method, path: &str) -> Routed {
    let path = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["feeds"] if method == Method::POST => Routed::Route(Operation::CreateFeed, None),
        ["feeds"] => Routed::WrongMethod("POST"),
        ["feeds", id] if valid_id(id) => {
            if method == Method::GET {
                Routed::Route(Operation::RetrieveFeed, Some((*id).to_owned()))
            } else {
                Routed::WrongMethod("GET")
            }
        }
        ["feeds", id, "products"] if valid_id(id) => {
            if method == Method::GET {
                Routed::Route(Operation::GetFeedProducts, Some((*id).to_owned()))
            } else if method == Method::PATCH {
                Routed::Route(Operation::UpsertFeedProducts, Some((*id).to_owned()))
            } else {
                Routed::WrongMethod("GET, PATCH")
            }
        }
        _ => Routed::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_the_four_operations_and_answers_404_and_405() {
        let r = |m: Method, p: &str| match route(&m, p) {
            Routed::Route(op, id) => format!("{op:?} {id:?}"),
            Routed::WrongMethod(allow) => format!("405 {allow}"),
            Routed::NotFound => "404".to_owned(),
        };
        assert_eq!(r(Method::POST, "/feeds"), "CreateFeed None");
        assert_eq!(r(Method::GET, "/feeds"), "405 POST");
        assert_eq!(r(Method::GET, "/feeds/f_1/"), "RetrieveFeed Some(\"f_1\")");
        assert_eq!(r(Method::PATCH, "/feeds/f_1"), "405 GET");
        assert_eq!(
            r(Method::PATCH, "/feeds/f_1/products"),
            "UpsertFeedProducts Some(\"f_1\")"
        );
        assert_eq!(r(Method::DELETE, "/feeds/f_1/products"), "405 GET, PATCH");
        assert_eq!(r(Method::GET, "/feeds/f_1/other"), "404");
    }
}
