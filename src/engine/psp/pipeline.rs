//! The PSP engine's request pipeline: routing, admission (headers, authentication, version,
//! signature, JSON), idempotency, `delegate_payment` and charges. `delegate_authentication`
//! is in the sibling module.

use http::Method;
use serde_json::Value;
use time::OffsetDateTime;

use crate::engine::store::{
    AsyncTokenLedger, Commit, CommitOutcome, ResourceKind, ResourceStore, Write,
};
use crate::parse::json_path::JsonPath;
use crate::parse::registry::{self, Body};
use crate::primitives::Timestamp;
use crate::protocol::error::{AcpError, codes};
use crate::protocol::headers::{
    AcpHeader, BearerToken, IdempotencyKey, Operation, RequestHeaders, RetryAfter,
};
use crate::protocol::version::ApiVersion;
use crate::rules::delegate_payment as dp_rules;
use crate::spec::latest::delegate_payment::{DelegatePaymentRequest, DelegatePaymentResponse};
use crate::trust::allowance::{self, AllowanceTerms, LedgerError};
use crate::trust::idempotency::{
    Fingerprint, IdempotencyOutcome, IdempotencyScope, LeaseToken, StoredResponse,
};
use crate::trust::signature::SignedRequest;

pub(super) use crate::engine::reply::Reply;
pub(super) use crate::engine::reply::body_defect;
use crate::engine::reply::valid_id;

use super::{
    CHARGE_PATH, ChargeRequest, DelegatedToken, Identity, PspContext, PspEngine, PspEvent,
    ThreeDsProvider, Vault, new_id, proposed,
};

/// A routed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Route {
    /// An ACP operation, with the id in its path.
    Acp(Operation, Option<String>),
    /// The merchant's charge.
    Charge,
    /// The merchant's read of an authentication session it is named in.
    MerchantAuthentication(String),
}

enum Routed {
    Route(Route),
    WrongMethod(&'static str),
    NotFound,
}

fn route(method: &Method, path: &str) -> Routed {
    let path = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let post = |route: Route| {
        if method == Method::POST {
            Routed::Route(route)
        } else {
            Routed::WrongMethod("POST")
        }
    };
    match segments.as_slice() {
        ["agentic_commerce", "delegate_payment"] => {
            post(Route::Acp(Operation::DelegatePayment, None))
        }
        ["charges"] => post(Route::Charge),
        ["authentication_results", id] if valid_id(id) => {
            if method == Method::GET {
                Routed::Route(Route::MerchantAuthentication((*id).to_owned()))
            } else {
                Routed::WrongMethod("GET")
            }
        }
        ["delegate_authentication"] => {
            post(Route::Acp(Operation::CreateDelegateAuthentication, None))
        }
        ["delegate_authentication", id] if valid_id(id) => {
            if method == Method::GET {
                Routed::Route(Route::Acp(
                    Operation::RetrieveDelegateAuthentication,
                    Some((*id).to_owned()),
                ))
            } else {
                Routed::WrongMethod("GET")
            }
        }
        ["delegate_authentication", id, "authenticate"] if valid_id(id) => post(Route::Acp(
            Operation::AuthenticateDelegateAuthentication,
            Some((*id).to_owned()),
        )),
        _ => Routed::NotFound,
    }
}

/// An ACP error reply; in the delegate-payment shape for `delegate_payment` (ERR-03).
pub(super) fn error_reply(error: &AcpError, op: Option<Operation>) -> Reply {
    if op == Some(Operation::DelegatePayment) {
        let body =
            serde_json::to_value(error.to_delegate_payment()).unwrap_or_else(|_| error.to_json());
        Reply::error_as(error, &body)
    } else {
        Reply::error(error)
    }
}

pub(super) async fn handle<V, D, S, L>(
    engine: &PspEngine<V, D, S, L>,
    parts: &http::request::Parts,
    body: &[u8],
    now: OffsetDateTime,
) -> http::Response<Vec<u8>>
where
    V: Vault,
    D: ThreeDsProvider,
    S: ResourceStore,
    L: AsyncTokenLedger,
{
    if body.len() > engine.max_body_bytes {
        return error_reply(&AcpError::request_too_large(engine.max_body_bytes), None).into_http();
    }
    let route = match route(&parts.method, parts.uri.path()) {
        Routed::Route(route) => route,
        Routed::WrongMethod(allow) => {
            let mut reply = error_reply(
                &AcpError::method_not_allowed(format!("{} is not allowed here", parts.method)),
                None,
            );
            reply.headers.push(("Allow".to_owned(), allow.to_owned()));
            return reply.into_http();
        }
        Routed::NotFound => {
            return error_reply(&AcpError::not_found("resource"), None).into_http();
        }
    };
    let pairs: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    match route {
        Route::Charge => charge(engine, &pairs, body, now).await.into_http(),
        Route::MerchantAuthentication(id) => {
            let token = pairs
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
                .and_then(|(_, v)| BearerToken::parse(v).ok());
            match engine.merchants.authenticate(token.as_ref()) {
                Some(merchant) => super::authentication::merchant_read(engine, &merchant, &id)
                    .await
                    .into_http(),
                None => error_reply(&AcpError::unauthorized("invalid or missing API key"), None)
                    .into_http(),
            }
        }
        Route::Acp(op, id) => serve(engine, op, id, &pairs, body, now).await.into_http(),
    }
}

/// An agent's request after the checks every ACP operation shares.
pub(super) struct Admitted {
    pub(super) op: Operation,
    pub(super) id: Option<String>,
    pub(super) headers: RequestHeaders,
    pub(super) ctx: PspContext,
    pub(super) version: ApiVersion,
    /// The body as JSON (`None` when empty).
    pub(super) value: Option<Value>,
}

async fn serve<V, D, S, L>(
    engine: &PspEngine<V, D, S, L>,
    op: Operation,
    id: Option<String>,
    pairs: &[(String, String)],
    body: &[u8],
    now: OffsetDateTime,
) -> Reply
where
    V: Vault,
    D: ThreeDsProvider,
    S: ResourceStore,
    L: AsyncTokenLedger,
{
    let admitted = match admit(engine, op, id, pairs, body, now) {
        Ok(admitted) => admitted,
        Err(reply) => return reply,
    };
    let version = admitted.version.clone();
    let echo: Vec<(String, String)> = admitted
        .headers
        .echo_headers()
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v))
        .collect();
    let mut reply = match op {
        Operation::DelegatePayment => delegate_payment(engine, admitted, body, now).await,
        Operation::RetrieveDelegateAuthentication => {
            super::authentication::retrieve(engine, &admitted, now).await
        }
        _ => super::authentication::write(engine, admitted, body, now).await,
    };
    if !reply.has_header("API-Version") {
        reply
            .headers
            .push(("API-Version".to_owned(), version.to_string()));
    }
    for (name, value) in echo {
        if !reply.has_header(&name) {
            reply.headers.push((name, value));
        }
    }
    reply
}

/// Headers, authentication (agents), version, signature, JSON.
fn admit<V, D, S, L>(
    engine: &PspEngine<V, D, S, L>,
    op: Operation,
    id: Option<String>,
    pairs: &[(String, String)],
    body: &[u8],
    now: OffsetDateTime,
) -> Result<Admitted, Reply>
where
    V: Vault,
    D: ThreeDsProvider,
    S: ResourceStore,
    L: AsyncTokenLedger,
{
    let fail = |e: &AcpError| error_reply(e, Some(op));
    let headers = RequestHeaders::parse_with_body(
        op,
        pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        !body.is_empty(),
    )
    .map_err(|errors| fail(&AcpError::from_header_errors(&errors, &engine.versions)))?;
    let identity = engine
        .agents
        .authenticate(headers.authorization())
        .ok_or_else(|| fail(&AcpError::unauthorized("invalid or missing API key")))?;
    let version = headers
        .negotiate_version(&engine.versions)
        .map_err(|e| fail(&AcpError::from(&e)))?;
    // delegate_authentication is a 2026-04-17 API: an older version does not have it.
    if op != Operation::DelegatePayment && version < ApiVersion::V2026_04_17 {
        return Err(fail(&AcpError::not_found("delegate authentication")));
    }
    // SIG-01 (delegate_payment: MUST sign), DA-14: every request with a body and every write.
    if let Some(verifier) = &engine.verifier {
        if op.requirement(AcpHeader::Signature).is_some()
            && (!body.is_empty() || op.requires_idempotency_key())
        {
            let signed = SignedRequest {
                body,
                signature: headers
                    .signature()
                    .map(crate::protocol::headers::Signature::as_str),
                timestamp: pairs
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("timestamp"))
                    .map(|(_, v)| v.as_str()),
            };
            if let Err(e) = verifier.verify(&signed, now) {
                let error = if e.http_status() == 401 {
                    AcpError::invalid_signature(e.to_string())
                } else {
                    AcpError::invalid_request(e.code(), e.to_string(), &JsonPath::root())
                };
                return Err(fail(&error));
            }
        }
    }
    let value = if body.is_empty() {
        None
    } else {
        Some(serde_json::from_slice::<Value>(body).map_err(|e| {
            fail(&AcpError::invalid_request(
                codes::INVALID_JSON,
                format!("the request body is not valid JSON: {e}"),
                &JsonPath::root(),
            ))
        })?)
    };
    let ctx = PspContext {
        identity,
        version: Some(version.clone()),
        request_id: headers.request_id().cloned(),
        idempotency_key: headers.idempotency_key().cloned(),
        now,
    };
    Ok(Admitted {
        op,
        id,
        headers,
        ctx,
        version,
        value,
    })
}

/// The reserved key of a write.
pub(super) struct Reservation {
    pub(super) scope: IdempotencyScope,
    pub(super) lease: LeaseToken,
    pub(super) key: IdempotencyKey,
}

/// Reserves the request's key (IDEM-03..12): a reservation, or the reply to send (a replay,
/// a conflict, a request in flight, a storage failure).
#[allow(clippy::too_many_arguments)] // the scope's parts, the fingerprint's and the clock
pub(super) async fn begin<V, D, S: ResourceStore, L>(
    engine: &PspEngine<V, D, S, L>,
    op: Option<Operation>,
    identity: &Identity,
    path: String,
    key: Option<IdempotencyKey>,
    version: Option<&ApiVersion>,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<Reservation, Reply> {
    // A caller that may omit the key runs under a fresh key of its own, never replayed.
    let key = match key {
        Some(key) => key,
        None => IdempotencyKey::parse(&new_id("unkeyed_"))
            .map_err(|_| error_reply(&AcpError::processing_error("cannot make a key"), op))?,
    };
    let scope = IdempotencyScope::new(identity.as_str(), path, key.clone());
    let fingerprint = match Fingerprint::of_body(body) {
        // IDEM-11: the version is part of the request.
        Ok(f) => match version {
            Some(v) => Fingerprint::from_canonical_bytes(
                &[v.as_str().as_bytes(), b"\n", f.as_bytes()].concat(),
            ),
            None => f,
        },
        Err(e) => {
            return Err(error_reply(
                &AcpError::invalid_request(codes::INVALID_JSON, e.to_string(), &JsonPath::root()),
                op,
            ));
        }
    };
    match engine.store.begin(&scope, &fingerprint, now).await {
        Ok(IdempotencyOutcome::Proceed(lease)) => Ok(Reservation { scope, lease, key }),
        Ok(IdempotencyOutcome::Replay(stored)) => Err(Reply {
            status: stored.status,
            body: stored.body.clone(),
            headers: stored.replay_headers(&key),
        }),
        Ok(other) => Err(match other.rejection() {
            Some(rejection) => {
                let mut reply = error_reply(&AcpError::from(rejection), op);
                reply.headers = rejection
                    .response_headers()
                    .into_iter()
                    .map(|(n, v)| (n.to_owned(), v))
                    .collect();
                reply
            }
            None => error_reply(
                &AcpError::processing_error("unexpected idempotency outcome"),
                op,
            ),
        }),
        Err(e) => Err(storage_failure(engine, &e, op)),
    }
}

/// Commits `writes` with `reply` as the key's stored response (a 5xx releases the key,
/// IDEM-13); on a guard failure answers `409` and releases the key.
pub(super) async fn finish<V, D, S: ResourceStore, L>(
    engine: &PspEngine<V, D, S, L>,
    op: Option<Operation>,
    reservation: Reservation,
    mut reply: Reply,
    writes: Vec<Write>,
    version: Option<&ApiVersion>,
    now: OffsetDateTime,
) -> Reply {
    if let Some(version) = version {
        if !reply.has_header("API-Version") {
            reply
                .headers
                .push(("API-Version".to_owned(), version.to_string()));
        }
    }
    let commit = Commit::new(
        reservation.scope.clone(),
        reservation.lease,
        Some(StoredResponse::new(
            reply.status,
            reply.body.clone(),
            reply.headers.clone(),
        )),
        if reply.status >= 400 {
            Vec::new()
        } else {
            writes
        },
    );
    match engine.store.commit(commit, now).await {
        Ok(CommitOutcome::Committed) => reply,
        Ok(CommitOutcome::Conflict) => {
            let _ = engine
                .store
                .release(&reservation.scope, reservation.lease)
                .await;
            error_reply(
                &AcpError::concurrent_modification("resource", RetryAfter::from_secs(1)),
                op,
            )
        }
        Ok(CommitOutcome::LeaseLost) => error_reply(
            &AcpError::idempotency_in_flight(RetryAfter::from_secs(1)),
            op,
        ),
        Err(e) => {
            let _ = engine
                .store
                .release(&reservation.scope, reservation.lease)
                .await;
            storage_failure(engine, &e, op)
        }
    }
}

pub(super) fn storage_failure<V, D, S, L>(
    engine: &PspEngine<V, D, S, L>,
    error: &(dyn std::error::Error + Send + Sync + 'static),
    op: Option<Operation>,
) -> Reply {
    engine.events.report(&PspEvent::Storage { error });
    error_reply(
        &AcpError::service_unavailable("storage is unavailable", Some(RetryAfter::from_secs(1))),
        op,
    )
}

pub(super) fn refused<V, D, S, L>(
    engine: &PspEngine<V, D, S, L>,
    id: &str,
    reason: &str,
    op: Option<Operation>,
) -> Reply {
    engine.events.report(&PspEvent::Refused { id, reason });
    error_reply(
        &AcpError::processing_error("the provider could not produce a valid response"),
        op,
    )
}

// --- delegate_payment ---------------------------------------------------------------------

async fn delegate_payment<V, D, S, L>(
    engine: &PspEngine<V, D, S, L>,
    admitted: Admitted,
    body: &[u8],
    now: OffsetDateTime,
) -> Reply
where
    V: Vault,
    D: ThreeDsProvider,
    S: ResourceStore,
    L: AsyncTokenLedger,
{
    let op = Some(Operation::DelegatePayment);
    let reservation = match begin(
        engine,
        op,
        &admitted.ctx.identity,
        Operation::DelegatePayment.path_template().to_owned(),
        admitted.headers.idempotency_key().cloned(),
        Some(&admitted.version),
        body,
        now,
    )
    .await
    {
        Ok(reservation) => reservation,
        Err(reply) => return reply,
    };
    let mut ctx = admitted.ctx.clone();
    ctx.idempotency_key = Some(reservation.key.clone());
    let (reply, writes) = match issue(engine, &admitted, &ctx).await {
        Ok((reply, writes)) => (reply, writes),
        Err(error) => (error_reply(&error, op), Vec::new()),
    };
    finish(
        engine,
        op,
        reservation,
        reply,
        writes,
        Some(&admitted.version),
        now,
    )
    .await
}

/// Every check of the request (schema, DP rules, the allowance still open), then the vault.
async fn issue<V: Vault, D, S, L>(
    engine: &PspEngine<V, D, S, L>,
    admitted: &Admitted,
    ctx: &PspContext,
) -> Result<(Reply, Vec<Write>), AcpError> {
    let invalid = |message: String, param: &JsonPath| AcpError::invalid_card(message, param);
    let Some(value) = &admitted.value else {
        return Err(invalid(
            "the request body is required".to_owned(),
            &JsonPath::root(),
        ));
    };
    // DP-12, DP-16 first (they name their rule), then the schema of the caller's version,
    // then every other DP rule on the typed request.
    let findings = dp_rules::validate_value(value).map_err(|e| invalid(e.message, &e.path))?;
    if let Some(f) = findings.iter().find(|f| f.is_error()) {
        return Err(invalid(format!("{} ({})", f.message, f.rule), &f.param));
    }
    // In 2026-04-17 the schema check only: the typed parse below is the one parse of the body
    // (`check_body` would also parse it into that type and re-serialize it).
    let (version, op) = (&admitted.version, Operation::DelegatePayment);
    let checked = match (*version == ApiVersion::LATEST, engine.strict) {
        (true, true) => registry::validate_body(version, op, Body::Request, value),
        (true, false) => Ok(()),
        (false, strict) => {
            registry::check_body(version, op, Body::Request, value, strict).map(drop)
        }
    };
    checked.map_err(|e| {
        let (message, param) = body_defect(&e);
        invalid(message, &param)
    })?;
    let request: DelegatePaymentRequest =
        crate::parse::from_value(value).map_err(|e| invalid(e.message, &e.path))?;
    let terms = AllowanceTerms::from(&request.allowance);
    let allowance_at = JsonPath::root().key("allowance");
    // DP-04: a token is never issued already expired; DP-06: nor with nothing to charge.
    if terms.expires_at <= ctx.now {
        return Err(invalid(
            "the allowance has already expired (DP-04)".to_owned(),
            &allowance_at.key("expires_at"),
        ));
    }
    if terms.max_amount <= 0 {
        return Err(invalid(
            "the allowance max_amount must be positive (DP-06)".to_owned(),
            &allowance_at.key("max_amount"),
        ));
    }
    let id = engine.vault.store_card(ctx, &request).await?;
    let card = &request.payment_method;
    let last4 = card.display_last4.clone().or_else(|| {
        let number = card.number.expose();
        (number.len() >= 4 && number.bytes().all(|b| b.is_ascii_digit()))
            .then(|| number[number.len() - 4..].to_owned())
    });
    let token = DelegatedToken {
        id: id.clone(),
        owner: ctx.identity.as_str().to_owned(),
        created: ctx.now,
        allowance: terms,
        last4,
        brand: card.display_brand.clone(),
    };
    // DP-02: correlation metadata (the merchant and the idempotency key).
    let mut metadata = std::collections::BTreeMap::new();
    metadata.insert(
        "merchant_id".to_owned(),
        token.allowance.merchant_id.clone(),
    );
    if let Some(key) = &ctx.idempotency_key {
        metadata.insert("idempotency_key".to_owned(), key.as_str().to_owned());
    }
    let response = DelegatePaymentResponse::new(id.as_str(), Timestamp(ctx.now), metadata);
    let body = serde_json::to_value(&response)
        .map_err(|_| AcpError::processing_error("cannot serialize the token"))?;
    let document = serde_json::to_string(&token)
        .map_err(|_| AcpError::processing_error("cannot store the token"))?;
    Ok((
        Reply::json(201, &body),
        vec![Write {
            kind: ResourceKind::PaymentToken,
            id,
            document,
            expected_version: None,
        }],
    ))
}

// --- charges --------------------------------------------------------------------------------

/// `POST /charges`: the merchant from its credential (DP-10), idempotent per merchant, the
/// allowance (public form only), single use (DP-11), then the vault.
async fn charge<V, D, S, L>(
    engine: &PspEngine<V, D, S, L>,
    pairs: &[(String, String)],
    body: &[u8],
    now: OffsetDateTime,
) -> Reply
where
    V: Vault,
    D: ThreeDsProvider,
    S: ResourceStore,
    L: AsyncTokenLedger,
{
    let header = |name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let token = header("authorization").and_then(|v| BearerToken::parse(v).ok());
    let Some(merchant) = engine.merchants.authenticate(token.as_ref()) else {
        return error_reply(&AcpError::unauthorized("invalid or missing API key"), None);
    };
    // IDEM-01, IDEM-04: a charge moves money; a retry must not charge twice.
    let key = match header("idempotency-key").map(IdempotencyKey::parse) {
        Some(Ok(key)) => key,
        Some(Err(e)) => {
            return error_reply(
                &AcpError::invalid_request(
                    codes::INVALID_VALUE,
                    format!("Idempotency-Key: {e}"),
                    &JsonPath::root(),
                ),
                None,
            );
        }
        None => return error_reply(&AcpError::idempotency_key_required(), None),
    };
    let echo = ("Idempotency-Key".to_owned(), key.as_str().to_owned());
    let request: ChargeRequest = match serde_json::from_slice(body) {
        Ok(request) => request,
        Err(e) => {
            let mut reply = error_reply(
                &AcpError::invalid_request(
                    codes::INVALID_VALUE,
                    format!("the charge request is invalid: {e}"),
                    &JsonPath::root(),
                ),
                None,
            );
            reply.headers.push(echo);
            return reply;
        }
    };
    // IDEM-03: scoped by the authenticated merchant, so two merchants' keys never collide.
    let reservation = match begin(
        engine,
        None,
        &merchant,
        CHARGE_PATH.to_owned(),
        Some(key),
        None,
        body,
        now,
    )
    .await
    {
        Ok(reservation) => reservation,
        Err(mut reply) => {
            if !reply.has_header("Idempotency-Key") {
                reply.headers.push(echo);
            }
            return reply;
        }
    };
    let ctx = PspContext {
        identity: merchant,
        version: None,
        request_id: header("request-id")
            .and_then(|v| crate::protocol::headers::RequestId::parse(v).ok()),
        idempotency_key: Some(reservation.key.clone()),
        now,
    };
    let mut reply = match authorize(engine, &ctx, &request).await {
        Ok(reply) => reply,
        Err(error) => error_reply(&error, None),
    };
    reply.headers.push(echo);
    finish(engine, None, reservation, reply, Vec::new(), None, now).await
}

async fn authorize<V: Vault, D, S: ResourceStore, L: AsyncTokenLedger>(
    engine: &PspEngine<V, D, S, L>,
    ctx: &PspContext,
    request: &ChargeRequest,
) -> Result<Reply, AcpError> {
    let token_at = JsonPath::root().key("token");
    let unknown = || AcpError::not_found("payment token").with_param(&token_at);
    let stored = match engine
        .store
        .load(ResourceKind::PaymentToken, &request.token)
        .await
    {
        Ok(Some(stored)) => stored,
        Ok(None) => return Err(unknown()),
        Err(e) => {
            engine.events.report(&PspEvent::Storage { error: &e });
            return Err(AcpError::service_unavailable(
                "storage is unavailable",
                Some(RetryAfter::from_secs(1)),
            ));
        }
    };
    let token: DelegatedToken = serde_json::from_str(&stored.document).map_err(|_| {
        engine.events.report(&PspEvent::Refused {
            id: "payment token",
            reason: "the stored token does not parse",
        });
        AcpError::processing_error("the token record is unreadable")
    })?;
    let charge = proposed(&ctx.identity, request);
    let ok = match allowance::check(&token.allowance, &charge, ctx.now) {
        Ok(ok) => ok,
        Err(violations) => {
            // The detailed form (the allowance's values) for the operator only; the merchant
            // gets the public form: the rules broken, never the token's scope (DP-03, DP-09,
            // DP-10).
            engine.events.report(&PspEvent::ChargeRefused {
                merchant: &ctx.identity,
                violations: violations.detailed(),
            });
            return Err(AcpError::from(&violations));
        }
    };
    match engine.ledger.consume(&token.id, ctx.now).await {
        Ok(()) => {}
        Err(e @ LedgerError::AlreadyUsed) => return Err(AcpError::from(&e)),
        Err(e) => {
            engine.events.report(&PspEvent::Storage { error: &e });
            return Err(AcpError::from(&e));
        }
    }
    let id = engine.vault.charge(ctx, &token, &charge).await?;
    Ok(Reply::json(
        201,
        &serde_json::json!({
            "id": id,
            "amount": ok.amount(),
            "currency": request.currency,
            "status": "succeeded",
            "last4": token.last4,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_every_operation_and_answers_404_and_405() {
        let r = |m: Method, p: &str| match route(&m, p) {
            Routed::Route(route) => format!("{route:?}"),
            Routed::WrongMethod(allow) => format!("405 {allow}"),
            Routed::NotFound => "404".to_owned(),
        };
        assert_eq!(
            r(Method::POST, "/agentic_commerce/delegate_payment"),
            "Acp(DelegatePayment, None)"
        );
        assert_eq!(r(Method::POST, "/charges/"), "Charge");
        assert_eq!(r(Method::GET, "/charges"), "405 POST");
        assert_eq!(
            r(Method::GET, "/delegate_authentication/a_1"),
            "Acp(RetrieveDelegateAuthentication, Some(\"a_1\"))"
        );
        assert_eq!(
            r(Method::POST, "/delegate_authentication/a_1/authenticate"),
            "Acp(AuthenticateDelegateAuthentication, Some(\"a_1\"))"
        );
        assert_eq!(r(Method::POST, "/delegate_authentication/a_1"), "405 GET");
        assert_eq!(r(Method::GET, "/checkout_sessions"), "404");
    }
}
