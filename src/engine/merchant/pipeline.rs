//! The request pipeline of the merchant engine: routing, headers, authentication, version,
//! signature, idempotency, parsing, the operation, the response.

use http::Method;
use serde_json::Value;
use time::OffsetDateTime;

use crate::engine::store::{Commit, CommitOutcome, ResourceKind, ResourceStore, Write};
use crate::parse::json_path::JsonPath;
use crate::parse::registry::{self, Body, BodyError};
use crate::protocol::error::{AcpError, codes};
use crate::protocol::headers::{AcpHeader, IdempotencyKey, Operation, RequestHeaders, RetryAfter};
use crate::protocol::version::ApiVersion;
use crate::protocol::version::convert::{self, ConvertError, Document};
use crate::spec::latest::agentic_checkout::{CheckoutSession, CheckoutStatus};
use crate::trust::canonical::CanonicalBody;
use crate::trust::idempotency::{
    Fingerprint, IdempotencyOutcome, IdempotencyScope, LeaseToken, StoredResponse,
};
use crate::trust::signature::SignedRequest;

pub(super) use crate::engine::reply::Reply;
use crate::engine::reply::valid_id;

use super::lifecycle::{self, Resource};
use super::orders;
use super::{Authenticator, Context, EngineEvent, Merchant, MerchantEngine, envelope};

/// How a request reached the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Binding {
    /// HTTP REST.
    Rest,
    /// The MCP binding (JSON-RPC `tools/call`).
    Mcp,
}

/// A routed request: the operation and the resource id in the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Route {
    pub(super) op: Operation,
    pub(super) id: Option<String>,
}

/// The outcome of routing.
enum Routed {
    Op(Route),
    Mcp,
    /// The path exists with other methods.
    WrongMethod(&'static str),
    NotFound,
}

fn route(method: &Method, path: &str, mcp_path: Option<&str>) -> Routed {
    let path = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    if mcp_path == Some(path) {
        return if method == Method::POST {
            Routed::Mcp
        } else {
            Routed::WrongMethod("POST")
        };
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let one = |op: Operation, id: Option<&str>| {
        Routed::Op(Route {
            op,
            id: id.map(str::to_owned),
        })
    };
    let is = |m: &Method| method == m;
    match segments.as_slice() {
        [".well-known", "acp.json"] if is(&Method::GET) => one(Operation::Discovery, None),
        [".well-known", "acp.json"] => Routed::WrongMethod("GET"),
        ["checkout_sessions"] if is(&Method::POST) => one(Operation::CreateCheckoutSession, None),
        ["checkout_sessions", id] if valid_id(id) => {
            if is(&Method::GET) {
                one(Operation::RetrieveCheckoutSession, Some(id))
            } else if is(&Method::POST) {
                one(Operation::UpdateCheckoutSession, Some(id))
            } else {
                Routed::WrongMethod("GET, POST")
            }
        }
        ["checkout_sessions", id, action @ ("complete" | "cancel")] if valid_id(id) => {
            if !is(&Method::POST) {
                return Routed::WrongMethod("POST");
            }
            let op = if *action == "complete" {
                Operation::CompleteCheckoutSession
            } else {
                Operation::CancelCheckoutSession
            };
            one(op, Some(id))
        }
        ["carts"] if is(&Method::POST) => one(Operation::CreateCart, None),
        ["checkout_sessions" | "carts"] => Routed::WrongMethod("POST"),
        ["carts", id] if valid_id(id) => {
            if is(&Method::GET) {
                one(Operation::RetrieveCart, Some(id))
            } else if is(&Method::PUT) {
                one(Operation::UpdateCart, Some(id))
            } else {
                Routed::WrongMethod("GET, PUT")
            }
        }
        ["carts", id, "cancel"] if valid_id(id) => {
            if is(&Method::POST) {
                one(Operation::CancelCart, Some(id))
            } else {
                Routed::WrongMethod("POST")
            }
        }
        _ => Routed::NotFound,
    }
}

/// A request after the checks every operation shares.
pub(super) struct Admitted<'a> {
    pub(super) route: Route,
    pub(super) headers: RequestHeaders,
    pub(super) ctx: Context,
    /// The body as JSON (`None` when empty).
    pub(super) value: Option<Value>,
    /// The body's canonical form, shared by the signature and the fingerprint (`None` when it
    /// has none: the fingerprint then reports why).
    pub(super) canonical: Option<CanonicalBody<'a>>,
}

/// The request's transport-independent parts: what the MCP binding builds from `meta`.
pub(super) struct Incoming<'a> {
    pub(super) route: Route,
    pub(super) header_pairs: Vec<(&'a str, &'a str)>,
    pub(super) body: &'a [u8],
    pub(super) binding: Binding,
}

pub(super) async fn handle<M: Merchant, S: ResourceStore, A: Authenticator>(
    engine: &MerchantEngine<M, S, A>,
    parts: &http::request::Parts,
    body: &[u8],
    now: OffsetDateTime,
) -> http::Response<Vec<u8>> {
    if body.len() > engine.max_body_bytes {
        return Reply::error(&too_large(engine.max_body_bytes)).into_http();
    }
    let route = match route(&parts.method, parts.uri.path(), engine.mcp_path.as_deref()) {
        Routed::Op(route) => route,
        Routed::Mcp => {
            return super::mcp::handle(engine, parts, body, now)
                .await
                .into_http();
        }
        Routed::WrongMethod(allow) => {
            let mut reply = Reply::error(&AcpError::method_not_allowed(format!(
                "{} is not allowed here",
                parts.method
            )));
            reply.headers.push(("Allow".to_owned(), allow.to_owned()));
            return reply.into_http();
        }
        Routed::NotFound => {
            return Reply::error(&AcpError::not_found("resource")).into_http();
        }
    };
    if route.op == Operation::Discovery {
        // The digest's SHOULD: discovery is cacheable for an hour.
        let reply = Reply {
            status: 200,
            body: engine.discovery_body.clone(),
            headers: vec![(
                "Cache-Control".to_owned(),
                "public, max-age=3600".to_owned(),
            )],
        };
        return reply.into_http();
    }
    // Borrowed, not copied: the engine reads each header once.
    let header_pairs = parts
        .headers
        .iter()
        .filter_map(|(n, v)| Some((n.as_str(), v.to_str().ok()?)))
        .collect();
    let incoming = Incoming {
        route,
        header_pairs,
        body,
        binding: Binding::Rest,
    };
    serve(engine, incoming, now).await.into_http()
}

fn too_large(limit: usize) -> AcpError {
    AcpError::request_too_large(limit)
}

/// Serves a routed request (REST, or MCP after mapping).
pub(super) async fn serve<M: Merchant, S: ResourceStore, A: Authenticator>(
    engine: &MerchantEngine<M, S, A>,
    incoming: Incoming<'_>,
    now: OffsetDateTime,
) -> Reply {
    let admitted = match admit(engine, &incoming, now) {
        Ok(admitted) => admitted,
        Err(reply) => return reply,
    };
    let version = admitted.ctx.version.clone();
    let echo: Vec<(String, String)> = admitted
        .headers
        .echo_headers()
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v))
        .collect();
    let mut reply = if admitted.route.op.requires_idempotency_key() {
        write(engine, admitted, incoming.body, now).await
    } else {
        read(engine, &admitted).await
    };
    reply.header_if_absent("API-Version", version.to_string());
    for (name, value) in echo {
        reply.header_if_absent(&name, value);
    }
    reply
}

/// Headers, authentication, version, operation availability, JSON syntax, signature.
fn admit<'a, M: Merchant, S: ResourceStore, A: Authenticator>(
    engine: &MerchantEngine<M, S, A>,
    incoming: &Incoming<'a>,
    now: OffsetDateTime,
) -> Result<Admitted<'a>, Reply> {
    let op = incoming.route.op;
    let body = incoming.body;
    let headers = RequestHeaders::parse_with_body(
        op,
        incoming.header_pairs.iter().copied(),
        !body.is_empty(),
    )
    .map_err(|errors| {
        let error = AcpError::from_header_errors(&errors, &engine.versions);
        Reply::error(&error)
    })?;
    let identity = engine
        .authenticator
        .authenticate(headers.authorization())
        .ok_or_else(|| Reply::error(&AcpError::unauthorized("invalid or missing API key")))?;
    let version = headers
        .negotiate_version(&engine.versions)
        .map_err(|e| Reply::error(&AcpError::from(&e)))?;
    let is_cart = matches!(
        op,
        Operation::CreateCart
            | Operation::RetrieveCart
            | Operation::UpdateCart
            | Operation::CancelCart
    );
    if is_cart && (!M::SERVES_CARTS || version < ApiVersion::V2026_04_17) {
        return Err(Reply::error(&AcpError::not_found("cart")));
    }
    // JSON syntax before the signature: a malformed body cannot be canonicalized, so no agent
    // can sign it; it is a 400 (HDR-05), not a 401.
    let value = if body.is_empty() {
        None
    } else {
        Some(serde_json::from_slice::<Value>(body).map_err(|e| {
            Reply::error(&AcpError::invalid_request(
                codes::INVALID_JSON,
                format!("the request body is not valid JSON: {e}"),
                &JsonPath::root(),
            ))
        })?)
    };
    // One canonicalization for the signature and the fingerprint (both cover it exactly).
    let canonical = (!body.is_empty() || op.requires_idempotency_key())
        .then(|| CanonicalBody::new(body).ok())
        .flatten();
    // SIG-01/SIG-04: every request with a body and every write (a bodiless cancel is signed
    // over the empty content) must be signed; reads rest on the API key alone. Operations whose
    // specification has no `Signature` header (the cart API) are not signed.
    if let Some(verifier) = &engine.verifier {
        let signed_op = op.requirement(AcpHeader::Signature).is_some();
        if signed_op && (!body.is_empty() || op.requires_idempotency_key()) {
            let signature = headers
                .signature()
                .map(crate::protocol::headers::Signature::as_str);
            let timestamp = incoming
                .header_pairs
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("timestamp"))
                .map(|(_, v)| *v);
            let verified = match &canonical {
                Some(canonical) => verifier.verify_canonical(canonical, signature, timestamp, now),
                // No canonical form: `verify` names why.
                None => verifier.verify(
                    &SignedRequest {
                        body,
                        signature,
                        timestamp,
                    },
                    now,
                ),
            };
            if let Err(e) = verified {
                let error = if e.http_status() == 401 {
                    AcpError::invalid_signature(e.to_string())
                } else {
                    AcpError::invalid_request(e.code(), e.to_string(), &JsonPath::root())
                };
                return Err(Reply::error(&error));
            }
        }
    }
    let ctx = Context {
        identity,
        version,
        request_id: headers.request_id().cloned(),
        idempotency_key: headers.idempotency_key().cloned(),
        capabilities: None,
        accept_language: headers.accept_language().map(|l| l.as_str().to_owned()),
        now,
        binding: incoming.binding,
    };
    Ok(Admitted {
        route: incoming.route.clone(),
        headers,
        ctx,
        value,
        canonical,
    })
}

/// `GET`: load, let the merchant refresh, check, answer.
async fn read<M: Merchant, S: ResourceStore, A: Authenticator>(
    engine: &MerchantEngine<M, S, A>,
    admitted: &Admitted<'_>,
) -> Reply {
    let kind = kind_of(admitted.route.op);
    let id = admitted.route.id.as_deref().unwrap_or_default();
    let stored = match load(engine, kind, id, &admitted.ctx).await {
        Ok(stored) => stored,
        Err(reply) => return reply,
    };
    let mut ctx = admitted.ctx.clone();
    let result = match stored.resource {
        Resource::Session(session) => {
            ctx.capabilities = Some(session.capabilities.clone());
            let before = session.clone();
            lifecycle::after_retrieve(
                &before,
                engine.merchant.retrieve_checkout(&ctx, *session).await,
            )
        }
        Resource::Cart(cart) => {
            let id = cart.id.clone();
            lifecycle::after_cart(
                id.as_str(),
                engine.merchant.retrieve_cart(&ctx, *cart).await,
            )
        }
    };
    match result {
        Ok(resource) => respond(engine, &ctx, admitted.route.op, 200, &resource, None).0,
        Err(outcome) => lifecycle_failure(engine, &ctx, admitted.route.op, &outcome),
    }
}

/// A stored resource with its version.
pub(super) struct Stored {
    pub(super) resource: Resource,
    pub(super) version: u64,
}

async fn load<M: Merchant, S: ResourceStore, A: Authenticator>(
    engine: &MerchantEngine<M, S, A>,
    kind: ResourceKind,
    id: &str,
    ctx: &Context,
) -> Result<Stored, Reply> {
    let what = if kind == ResourceKind::Cart {
        "cart"
    } else {
        "checkout session"
    };
    let versioned = match engine.store.load(kind, id).await {
        Ok(Some(versioned)) => versioned,
        Ok(None) => return Err(Reply::error(&AcpError::not_found(what))),
        Err(e) => return Err(storage_failure(engine, &e)),
    };
    let envelope: super::StoredEnvelope<'_> = match serde_json::from_str(&versioned.document) {
        Ok(envelope) => envelope,
        Err(e) => {
            return Err(refused(
                engine,
                id,
                &format!("stored document does not parse: {e}"),
            ));
        }
    };
    // Another caller's resource does not exist for this one; a gone one (`null`) for nobody.
    if envelope.owner != ctx.identity.as_str() || envelope.resource.get() == "null" {
        return Err(Reply::error(&AcpError::not_found(what)));
    }
    match Resource::from_stored(kind, envelope.resource.get()) {
        // CART-02: an expired cart does not exist any more.
        Ok(Resource::Cart(cart)) if super::expiry::cart_is_due(&cart, ctx.now) => {
            Err(Reply::error(&AcpError::not_found(what)))
        }
        Ok(mut resource) => {
            // Derived on every load from the request's time, never written: nothing races
            // with a stored expiry, and the claim of a complete (a compare-and-swap on this
            // version) sees the same answer.
            if let Resource::Session(session) = &mut resource {
                super::expiry::expire_session(session, ctx.now);
            }
            Ok(Stored {
                resource,
                version: versioned.version,
            })
        }
        Err(e) => Err(refused(
            engine,
            id,
            &format!("stored document does not parse: {e}"),
        )),
    }
}

pub(super) fn storage_failure<M, S: ResourceStore, A>(
    engine: &MerchantEngine<M, S, A>,
    error: &S::Error,
) -> Reply {
    engine.events.report(&EngineEvent::Storage { error });
    Reply::error(&AcpError::service_unavailable(
        "storage is unavailable",
        Some(RetryAfter::from_secs(1)),
    ))
}

fn refused<M, S, A>(engine: &MerchantEngine<M, S, A>, id: &str, reason: &str) -> Reply {
    engine.events.report(&EngineEvent::Refused { id, reason });
    Reply::error(&AcpError::processing_error(
        "the merchant could not produce a valid response",
    ))
}

fn kind_of(op: Operation) -> ResourceKind {
    match op {
        Operation::CreateCart
        | Operation::RetrieveCart
        | Operation::UpdateCart
        | Operation::CancelCart => ResourceKind::Cart,
        _ => ResourceKind::CheckoutSession,
    }
}

/// The request path the idempotency scope names (the same for REST and MCP).
fn scope_path(route: &Route) -> String {
    let id = route.id.as_deref().unwrap_or_default();
    route.op.path_template().replace(
        route.op.path_template().find('{').map_or("", |start| {
            let template = route.op.path_template();
            let end = template[start..]
                .find('}')
                .map_or(template.len(), |e| start + e + 1);
            &template[start..end]
        }),
        id,
    )
}

/// A write: reserve the key, run the operation, commit its effect with its response.
async fn write<M: Merchant, S: ResourceStore, A: Authenticator>(
    engine: &MerchantEngine<M, S, A>,
    mut admitted: Admitted<'_>,
    body: &[u8],
    now: OffsetDateTime,
) -> Reply {
    // An agent of a version before 2026-04-17 may omit the key: its request runs under a fresh
    // key of its own, reserved and committed like any other, and is never replayed.
    let key = match admitted.headers.idempotency_key() {
        Some(key) => key.clone(),
        None => match IdempotencyKey::parse(&fresh_key()) {
            Ok(key) => key,
            Err(_) => return Reply::error(&AcpError::processing_error("cannot make a key")),
        },
    };
    let scope = IdempotencyScope::new(
        admitted.ctx.identity.as_str(),
        scope_path(&admitted.route),
        key.clone(),
    );
    let fingerprint = match admitted.canonical.as_ref().map_or_else(
        || Fingerprint::of_body(body),
        |c| Ok(Fingerprint::of_canonical_body(c)),
    ) {
        // IDEM-11: the version is part of the request; a key replayed under another version
        // is a conflict, never the other version's stored response.
        Ok(f) => Fingerprint::from_canonical_bytes(
            &[
                admitted.ctx.version.as_str().as_bytes(),
                b"\n",
                f.as_bytes(),
            ]
            .concat(),
        ),
        Err(e) => {
            return Reply::error(&AcpError::invalid_request(
                codes::INVALID_JSON,
                e.to_string(),
                &JsonPath::root(),
            ));
        }
    };
    let lease = match engine.store.begin(&scope, &fingerprint, now).await {
        Ok(IdempotencyOutcome::Proceed(lease)) => lease,
        Ok(IdempotencyOutcome::Replay(stored)) => {
            return Reply {
                status: stored.status,
                body: stored.body.clone(),
                headers: stored.replay_headers(&key),
            };
        }
        Ok(other) => {
            return match other.rejection() {
                Some(rejection) => {
                    let mut reply =
                        Reply::json(rejection.status(), &AcpError::from(rejection).to_json());
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
        Err(e) => return storage_failure(engine, &e),
    };
    let mut ctx = admitted.ctx.clone();
    ctx.idempotency_key = Some(key);
    let reservation = Reservation { scope, lease };
    let (reply, writes, committed) =
        operate(engine, &mut admitted, &mut ctx, &reservation, now).await;
    let done = Outcome {
        reply,
        writes,
        committed,
    };
    finish(engine, &ctx, admitted.route.op, reservation, done, now).await
}

/// The reserved key of a write.
pub(super) struct Reservation {
    pub(super) scope: IdempotencyScope,
    pub(super) lease: LeaseToken,
}

fn fresh_key() -> String {
    let mut bytes = [0_u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // Uniqueness, not secrecy, is what a key needs: fall back to the clock.
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        bytes = nanos.to_le_bytes();
    }
    format!("unkeyed_{}", hex::encode(bytes))
}

/// What a write produced: the reply, the documents to commit with it, and the checkout
/// session written (for [`Merchant::checkout_committed`]).
struct Outcome {
    reply: Reply,
    writes: Vec<Write>,
    committed: Option<Box<CheckoutSession>>,
}

/// Commits the writes with the reply; on a guard failure answers `409` and releases the key,
/// so the caller's retry (same key) runs again against the new state.
async fn finish<M: Merchant, S: ResourceStore, A: Authenticator>(
    engine: &MerchantEngine<M, S, A>,
    ctx: &Context,
    op: Operation,
    reservation: Reservation,
    outcome: Outcome,
    now: OffsetDateTime,
) -> Reply {
    let Outcome {
        mut reply,
        writes,
        committed,
    } = outcome;
    // The replay carries the version it was answered in.
    reply.header_if_absent("API-Version", ctx.version.to_string());
    let stored_headers = reply.headers.clone();
    let committed = committed.filter(|_| (200..300).contains(&reply.status));
    let mut writes = writes;
    let mut events = Vec::new();
    if let Some((write, event)) = committed
        .as_deref()
        .and_then(|session| order_created(engine, ctx, op, session))
    {
        writes.push(write);
        events.extend(event);
    }
    let commit = Commit::new(
        reservation.scope.clone(),
        reservation.lease,
        Some(StoredResponse::new(
            reply.status,
            reply.body.clone(),
            stored_headers,
        )),
        writes,
    )
    .with_events(events);
    match engine.store.commit(commit, now).await {
        Ok(CommitOutcome::Committed) => {
            if let Some(session) = &committed {
                engine.merchant.checkout_committed(ctx, op, session);
            }
            reply
        }
        Ok(CommitOutcome::Conflict) => {
            let _ = engine
                .store
                .release(&reservation.scope, reservation.lease)
                .await;
            Reply::error(&concurrent_change(op))
        }
        Ok(CommitOutcome::LeaseLost) => {
            // Another request owns the key now; its answer is the one that counts.
            Reply::error(&AcpError::idempotency_in_flight(RetryAfter::from_secs(1)))
        }
        Err(e) => {
            let _ = engine
                .store
                .release(&reservation.scope, reservation.lease)
                .await;
            storage_failure(engine, &e)
        }
    }
}

/// WH-09: the order of a completed session and its `order_create` event, to commit with the
/// session, when [`order_webhooks`](super::EngineBuilder::order_webhooks) names a recipient
/// for the caller. An order that cannot be stored or sent is reported and left out: the
/// purchase is done, its answer must not be lost with it.
fn order_created<M, S, A>(
    engine: &MerchantEngine<M, S, A>,
    ctx: &Context,
    op: Operation,
    session: &CheckoutSession,
) -> Option<(Write, Option<crate::engine::outbox::NewEvent>)> {
    if op != Operation::CompleteCheckoutSession || session.status != CheckoutStatus::Completed {
        return None;
    }
    let order = session.order.as_ref()?;
    let recipient = (engine.order_recipient.as_ref()?)(&ctx.identity)?;
    let mut order = order.clone();
    if order.line_items.is_none() {
        order.line_items = Some(orders::lines_of(session));
    }
    match orders::prepare_created::<std::convert::Infallible>(&recipient, &ctx.version, order) {
        Ok((_, write, event)) => Some((write, event)),
        Err(e) => {
            let reason = format!("the order of the completed session is not recorded: {e}");
            let id = session.order.as_ref().map_or("", |o| o.id.as_str());
            engine.events.report(&EngineEvent::Refused {
                id,
                reason: &reason,
            });
            None
        }
    }
}

pub(super) fn concurrent_change(op: Operation) -> AcpError {
    let what = if kind_of(op) == ResourceKind::Cart {
        "cart"
    } else {
        "checkout session"
    };
    AcpError::concurrent_modification(what, RetryAfter::from_secs(1))
}

/// Runs the operation of a write: the reply, and the documents to commit with it.
async fn operate<M: Merchant, S: ResourceStore, A: Authenticator>(
    engine: &MerchantEngine<M, S, A>,
    admitted: &mut Admitted<'_>,
    ctx: &mut Context,
    reservation: &Reservation,
    now: OffsetDateTime,
) -> (Reply, Vec<Write>, Option<Box<CheckoutSession>>) {
    let op = admitted.route.op;
    let stored = match admitted.route.id.as_deref() {
        Some(id) => match load(engine, kind_of(op), id, ctx).await {
            Ok(stored) => Some(stored),
            Err(reply) => return (reply, Vec::new(), None),
        },
        None => None,
    };
    let request = match request_in_latest(engine, admitted, stored.as_ref()) {
        Ok(request) => request,
        Err(reply) => return (reply, Vec::new(), None),
    };
    let outcome = lifecycle::run(engine, ctx, op, stored, request, reservation, now).await;
    match outcome {
        Ok(done) => {
            let status = op.success_status();
            let keep = if done.gone {
                Keep::Gone
            } else {
                Keep::Resource
            };
            let (reply, document) = respond(engine, ctx, op, status, &done.resource, Some(keep));
            let Some(document) = document.filter(|_| reply.status < 500) else {
                // Nothing the business method produced is stored when it cannot be sent;
                // a claimed session goes back to what it was.
                return (reply, done.rollback, None);
            };
            let writes = vec![Write {
                kind: kind_of(op),
                id: done.resource.id().to_owned(),
                document,
                expected_version: done.expected_version,
            }];
            let committed = match done.resource {
                Resource::Session(session) => Some(session),
                Resource::Cart(_) => None,
            };
            (reply, writes, committed)
        }
        Err(failure) => {
            let rollback = failure.rollback.clone();
            (lifecycle_failure(engine, ctx, op, &failure), rollback, None)
        }
    }
}

/// The request body as its 2026-04-17 type (as JSON), checked in the caller's version.
fn request_in_latest<M: Merchant, S: ResourceStore, A: Authenticator>(
    engine: &MerchantEngine<M, S, A>,
    admitted: &mut Admitted<'_>,
    stored: Option<&Stored>,
) -> Result<Option<Value>, Reply> {
    let op = admitted.route.op;
    let version = &admitted.ctx.version;
    let Some(value) = admitted.value.take() else {
        return Ok(None);
    };
    // An empty object or `null` cancel body carries nothing (the cancel body is optional).
    if matches!(op, Operation::CancelCheckoutSession | Operation::CancelCart)
        && (value.is_null() || value.as_object().is_some_and(serde_json::Map::is_empty))
    {
        return Ok(None);
    }
    if *version == ApiVersion::LATEST {
        // The schema check only: the operation's typed parse is the one parse of the body
        // (`check_body` would parse, re-serialize, and the operation parse again).
        if engine.strict {
            registry::validate_body(version, op, Body::Request, &value)
                .map_err(|e| Reply::error(&body_error(&e)))?;
        }
        return Ok(Some(value));
    }
    let checked = registry::check_body(version, op, Body::Request, &value, engine.strict)
        .map_err(|e| Reply::error(&body_error(&e)))?;
    let mut defaults = engine.defaults.clone();
    if let Some(Stored {
        resource: Resource::Session(session),
        ..
    }) = stored
    {
        defaults = defaults.session(session);
    }
    let converted = match op {
        Operation::CreateCheckoutSession => {
            convert::upgrade_create_request_with(version, &checked, &defaults)
                .and_then(|c| to_json(&c))
        }
        Operation::UpdateCheckoutSession => {
            convert::upgrade_update_request_with(version, &checked, &defaults)
                .and_then(|c| to_json(&c))
        }
        Operation::CompleteCheckoutSession => {
            convert::upgrade_complete_request_with(version, &checked, &defaults)
                .and_then(|c| to_json(&c))
        }
        // The cancel request is one type in every version that has it.
        _ => return Ok(Some(checked)),
    };
    match converted {
        Ok((value, losses)) => {
            for detail in losses {
                engine.events.report(&EngineEvent::Loss { version, detail });
            }
            Ok(Some(value))
        }
        Err(e) => Err(Reply::error(&convert_error(&e))),
    }
}

fn to_json<T: serde::Serialize>(
    converted: &convert::Converted<T>,
) -> Result<(Value, Vec<String>), ConvertError> {
    let losses = converted.losses.iter().map(ToString::to_string).collect();
    serde_json::to_value(&converted.value)
        .map(|v| (v, losses))
        .map_err(|e| ConvertError::UnsupportedVersion(e.to_string()))
}

fn body_error(error: &BodyError) -> AcpError {
    match error {
        BodyError::Invalid { violations, .. } => AcpError::from_violations(violations)
            .unwrap_or_else(|| invalid(&error.to_string(), &JsonPath::root())),
        other => invalid(&other.to_string(), &JsonPath::root()),
    }
}

fn invalid(message: &str, param: &JsonPath) -> AcpError {
    AcpError::invalid_request(codes::INVALID_VALUE, message.to_owned(), param)
}

/// A failed upgrade: the request lacks what 2026-04-17 needs (`missing_required_field`) or
/// carries what cannot be given to the 2026-04-17 logic unchanged (`invalid_value`), at its
/// path in the request as sent.
fn convert_error(error: &ConvertError) -> AcpError {
    match error {
        ConvertError::Incomplete { violations, .. }
        | ConvertError::Unparsable { violations, .. } => {
            let first = violations.first();
            AcpError::invalid_request(
                codes::MISSING_REQUIRED_FIELD,
                first.map_or_else(|| error.to_string(), |v| v.message.clone()),
                &first.map_or_else(JsonPath::root, |v| v.path.clone()),
            )
        }
        ConvertError::Unrepresentable { violations, .. } => {
            let first = violations.first();
            invalid(
                &first.map_or_else(|| error.to_string(), |v| v.message.clone()),
                &first.map_or_else(JsonPath::root, |v| v.path.clone()),
            )
        }
        other => invalid(&other.to_string(), &JsonPath::root()),
    }
}

/// The document an error's `param` points into, in the caller's version.
fn request_document(op: Operation) -> Option<Document> {
    match op {
        Operation::CreateCheckoutSession => Some(Document::CreateRequest),
        Operation::UpdateCheckoutSession => Some(Document::UpdateRequest),
        Operation::CompleteCheckoutSession => Some(Document::CompleteRequest),
        _ => None,
    }
}

/// A failure of the operation: the business method's error (its `param` in 2026-04-17 paths is
/// mapped to the caller's version), the state machine's, or a refused resource.
fn lifecycle_failure<M, S, A>(
    engine: &MerchantEngine<M, S, A>,
    ctx: &Context,
    op: Operation,
    failure: &lifecycle::Failure,
) -> Reply {
    match &failure.kind {
        lifecycle::FailureKind::Acp(error) => {
            let mut reply = Reply::error(error);
            if ctx.version != ApiVersion::LATEST {
                if let Some(document) = request_document(op) {
                    reply = Reply {
                        body: serde_json::to_vec(&convert::error_in(
                            &ctx.version,
                            document,
                            &error.to_json(),
                        ))
                        .unwrap_or(reply.body),
                        ..reply
                    };
                }
            }
            reply
        }
        lifecycle::FailureKind::Refused { id, reason } => refused(engine, id, reason),
    }
}

/// Checks an outgoing resource with the rules and downgrades it to the caller's version; also
/// returns its 2026-04-17 JSON (what is stored) when it may be sent.
fn respond<M, S, A>(
    engine: &MerchantEngine<M, S, A>,
    ctx: &Context,
    op: Operation,
    status: u16,
    resource: &Resource,
    store_as: Option<Keep>,
) -> (Reply, Option<String>) {
    let findings = resource.findings();
    if let Some(error) = findings.iter().find(|f| f.is_error()) {
        let reason = format!("breaks a MUST: {error}");
        return (refused(engine, resource.id(), &reason), None);
    }
    let latest = match resource.to_json() {
        Ok(json) => json,
        Err(e) => return (refused(engine, resource.id(), &e.to_string()), None),
    };
    let converted = match resource.to_wire(&ctx.version, op) {
        Ok(converted) => converted,
        Err(reason) => return (refused(engine, resource.id(), &reason), None),
    };
    // The stored envelope is written before the 2026-04-17 text moves into the answer, so
    // the text is copied once, not twice.
    let document = store_as.map(|keep| {
        let resource = match keep {
            Keep::Resource => Some(latest.as_str()),
            Keep::Gone => None,
        };
        envelope(&ctx.identity, resource)
    });
    let body = match converted {
        Some((body, losses)) => {
            for detail in losses {
                engine.events.report(&EngineEvent::Loss {
                    version: &ctx.version,
                    detail,
                });
            }
            body
        }
        None => latest.into_bytes(),
    };
    let reply = Reply {
        status,
        body,
        headers: vec![("API-Version".to_owned(), ctx.version.to_string())],
    };
    (reply, document)
}

/// What a write stores of the resource it answers with.
#[derive(Clone, Copy)]
enum Keep {
    /// The resource, in its 2026-04-17 form.
    Resource,
    /// Nothing: the resource is gone (a canceled cart).
    Gone,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_every_operation_and_answers_404_and_405() {
        let r = |m: Method, p: &str| match route(&m, p, Some("/mcp")) {
            Routed::Op(route) => format!("{:?} {:?}", route.op, route.id),
            Routed::Mcp => "mcp".to_owned(),
            Routed::WrongMethod(allow) => format!("405 {allow}"),
            Routed::NotFound => "404".to_owned(),
        };
        assert_eq!(
            r(Method::POST, "/checkout_sessions"),
            "CreateCheckoutSession None"
        );
        assert_eq!(
            r(Method::GET, "/checkout_sessions/cs_1"),
            "RetrieveCheckoutSession Some(\"cs_1\")"
        );
        assert_eq!(
            r(Method::POST, "/checkout_sessions/cs_1/"),
            "UpdateCheckoutSession Some(\"cs_1\")"
        );
        assert_eq!(
            r(Method::POST, "/checkout_sessions/cs_1/complete"),
            "CompleteCheckoutSession Some(\"cs_1\")"
        );
        assert_eq!(
            r(Method::POST, "/checkout_sessions/cs_1/cancel"),
            "CancelCheckoutSession Some(\"cs_1\")"
        );
        assert_eq!(r(Method::PUT, "/carts/c1"), "UpdateCart Some(\"c1\")");
        assert_eq!(
            r(Method::POST, "/carts/c1/cancel"),
            "CancelCart Some(\"c1\")"
        );
        assert_eq!(r(Method::GET, "/.well-known/acp.json"), "Discovery None");
        assert_eq!(r(Method::POST, "/mcp"), "mcp");
        assert_eq!(r(Method::GET, "/mcp"), "405 POST");
        assert_eq!(
            r(Method::DELETE, "/checkout_sessions/cs_1"),
            "405 GET, POST"
        );
        assert_eq!(
            r(Method::GET, "/checkout_sessions/cs_1/complete"),
            "405 POST"
        );
        assert_eq!(r(Method::GET, "/nope"), "404");
        assert_eq!(r(Method::GET, "/checkout_sessions/a/b/c"), "404");
        assert_eq!(r(Method::GET, "/checkout_sessions/%20x\u{7f}"), "404");
    }

    #[test]
    fn the_scope_path_is_the_request_path() {
        let route = Route {
            op: Operation::CompleteCheckoutSession,
            id: Some("cs_9".to_owned()),
        };
        assert_eq!(scope_path(&route), "/checkout_sessions/cs_9/complete");
        let route = Route {
            op: Operation::CreateCart,
            id: None,
        };
        assert_eq!(scope_path(&route), "/carts");
    }
}
