//! The operations of the merchant engine: the state machine around the business methods.
//!
//! Before a business method runs, the event it stands for must be accepted by the stored
//! session's status ([`crate::checkout::transition`]); after it ran, the status it returned must
//! be one the operation can lead to. Otherwise nothing is stored or sent.

use serde_json::Value;
use time::OffsetDateTime;

use crate::checkout::{Event, transition};
use crate::engine::store::{Commit, CommitOutcome, ResourceKind, ResourceStore, Write};
use crate::parse::{self, ParseError};
use crate::protocol::capabilities::negotiate;
use crate::protocol::error::AcpError;
use crate::protocol::finding::Finding;
use crate::protocol::headers::{Operation, RetryAfter};
use crate::protocol::version::ApiVersion;
use crate::protocol::version::convert;
use crate::spec::latest::agentic_checkout::{
    CheckoutSession, CheckoutSessionWithOrder, CheckoutStatus,
};
use crate::spec::latest::cart::Cart;

use super::pipeline::{Reservation, Stored, concurrent_change};
use super::{Authenticator, Context, Merchant, MerchantEngine, envelope, expiry};

/// A resource the engine stores and sends.
#[derive(Debug, Clone)]
pub(super) enum Resource {
    Session(Box<CheckoutSession>),
    Cart(Box<Cart>),
}

impl Resource {
    pub(super) fn from_stored(kind: ResourceKind, json: &str) -> Result<Self, ParseError> {
        Ok(match kind {
            ResourceKind::Cart => Self::Cart(Box::new(parse::from_str(json)?)),
            _ => Self::Session(Box::new(parse::from_str(json)?)),
        })
    }

    pub(super) fn id(&self) -> &str {
        match self {
            Self::Session(s) => s.id.as_str(),
            Self::Cart(c) => c.id.as_str(),
        }
    }

    /// The 2026-04-17 JSON text (what is stored, and the wire form in 2026-04-17).
    pub(super) fn to_json(&self) -> Result<String, serde_json::Error> {
        match self {
            Self::Session(s) => resource_text(s),
            Self::Cart(c) => resource_text(c),
        }
    }

    /// The business rules' findings (a MUST violation is an error finding).
    pub(super) fn findings(&self) -> Vec<Finding> {
        match self {
            Self::Session(s) => crate::rules::check_session(s),
            Self::Cart(c) => crate::rules::check_cart(c),
        }
    }

    /// The resource in the wire form of `version`, with what that version could not carry;
    /// `None` when the answer is the 2026-04-17 form ([`Self::to_json`]).
    ///
    /// 2025-09-29 answers a complete with a plain session (its `CheckoutSessionWithOrder` is
    /// unsatisfiable): the order is reported lost there and reaches the agent by webhook.
    pub(super) fn to_wire(
        &self,
        version: &ApiVersion,
        op: Operation,
    ) -> Result<Option<Downgraded>, String> {
        let session = match self {
            Self::Session(session) if *version != ApiVersion::LATEST => session,
            // Carts exist only in 2026-04-17; a 2026-04-17 answer is the stored form.
            _ => return Ok(None),
        };
        let with_order = op == Operation::CompleteCheckoutSession
            && session.order.is_some()
            && *version != ApiVersion::V2025_09_29;
        let converted = if with_order {
            let value = serde_json::to_value(session).map_err(|e| e.to_string())?;
            let typed: CheckoutSessionWithOrder =
                parse::from_value(&value).map_err(|e| e.to_string())?;
            convert::downgrade_checkout_session_with_order(&typed, version)
        } else {
            convert::downgrade_checkout_session(session, version)
        }
        .map_err(|e| format!("cannot be answered in {version}: {e}"))?;
        let losses = converted.losses.iter().map(ToString::to_string).collect();
        let body = serde_json::to_vec(&converted.value).map_err(|e| e.to_string())?;
        Ok(Some((body, losses)))
    }
}

/// `resource` as JSON text, written into a buffer sized for a typical session so that the
/// text is not copied as the buffer grows (`serde_json` starts at 128 bytes).
fn resource_text<T: serde::Serialize>(resource: &T) -> Result<String, serde_json::Error> {
    let mut text = Vec::with_capacity(4096);
    serde_json::to_writer(&mut text, resource)?;
    String::from_utf8(text).map_err(serde::ser::Error::custom)
}

/// An answer in a version before 2026-04-17: the body, and what that version could not carry.
pub(super) type Downgraded = (Vec<u8>, Vec<String>);

/// A successful operation.
pub(super) struct Done {
    pub(super) resource: Resource,
    /// The guard of the write (`None`: a new resource).
    pub(super) expected_version: Option<u64>,
    /// The resource is gone afterwards (a canceled cart).
    pub(super) gone: bool,
    /// What to write instead when the reply cannot be sent.
    pub(super) rollback: Vec<Write>,
}

/// A failed operation.
pub(super) struct Failure {
    pub(super) kind: FailureKind,
    /// Writes to commit with the error reply (a claim to undo).
    pub(super) rollback: Vec<Write>,
}

pub(super) enum FailureKind {
    /// Answer this error.
    Acp(AcpError),
    /// The business method produced something that must not be sent.
    Refused { id: String, reason: String },
}

impl From<AcpError> for Failure {
    fn from(error: AcpError) -> Self {
        Self {
            kind: FailureKind::Acp(error),
            rollback: Vec::new(),
        }
    }
}

fn refused(id: &str, reason: impl Into<String>) -> Failure {
    Failure {
        kind: FailureKind::Refused {
            id: id.to_owned(),
            reason: reason.into(),
        },
        rollback: Vec::new(),
    }
}

/// The merchant-side events a create, update or complete may end in.
const OUTCOMES: &[Event] = &[
    Event::AuthenticationRequired,
    Event::Escalated,
    Event::PaymentAuthorized,
    Event::PaymentDeclined,
    Event::ApprovalRequired,
    Event::CompletionSettled,
];

/// `from` itself and every status a merchant-side outcome leads to from it.
fn with_outcomes(from: &CheckoutStatus, events: &[Event], out: &mut Vec<CheckoutStatus>) {
    out.push(from.clone());
    for event in events {
        if let Ok(next) = transition(from, *event) {
            out.push(next);
        }
    }
}

/// The statuses a created session may have (CHK-01).
pub(super) fn creatable() -> &'static [CheckoutStatus] {
    static CREATABLE: std::sync::OnceLock<Vec<CheckoutStatus>> = std::sync::OnceLock::new();
    CREATABLE.get_or_init(|| {
        let mut out = Vec::new();
        for start in [
            CheckoutStatus::Incomplete,
            CheckoutStatus::NotReadyForPayment,
            CheckoutStatus::ReadyForPayment,
        ] {
            with_outcomes(
                &start,
                &[Event::AuthenticationRequired, Event::Escalated],
                &mut out,
            );
        }
        out
    })
}

/// The statuses an update of a `from` session may leave.
pub(super) fn updatable(from: &CheckoutStatus) -> Result<Vec<CheckoutStatus>, AcpError> {
    let mut out = Vec::new();
    let mut error = None;
    for ready in [true, false] {
        match transition(from, Event::Update { ready }) {
            Ok(next) => with_outcomes(
                &next,
                &[Event::AuthenticationRequired, Event::Escalated],
                &mut out,
            ),
            Err(e) => error = Some(e.to_acp_error()),
        }
    }
    match error {
        Some(error) if out.is_empty() => Err(error),
        _ => Ok(out),
    }
}

/// The statuses a complete that claimed the session (`claimed`) may end in.
pub(super) fn completable(claimed: &CheckoutStatus) -> Vec<CheckoutStatus> {
    let mut out = Vec::new();
    with_outcomes(claimed, OUTCOMES, &mut out);
    out
}

fn check_status(
    session: &CheckoutSession,
    id: &str,
    allowed: &[CheckoutStatus],
    op: &str,
) -> Result<(), Failure> {
    if session.id.as_str() != id {
        return Err(refused(
            id,
            format!("{op} returned another session ({})", session.id.as_str()),
        ));
    }
    if !allowed.contains(&session.status) {
        return Err(refused(
            id,
            format!(
                "{op} returned status {}, which it cannot lead to",
                session.status.as_str()
            ),
        ));
    }
    Ok(())
}

pub(super) fn after_retrieve(
    before: &CheckoutSession,
    result: Result<CheckoutSession, AcpError>,
) -> Result<Resource, Failure> {
    let mut session = result?;
    check_status(
        &session,
        before.id.as_str(),
        std::slice::from_ref(&before.status),
        "retrieve",
    )?;
    keep_expiry(&mut session, before);
    Ok(Resource::Session(Box::new(session)))
}

/// A business method that rebuilds the session without `expires_at` does not make it immortal.
fn keep_expiry(session: &mut CheckoutSession, before: &CheckoutSession) {
    if session.expires_at.is_none() {
        session.expires_at = before.expires_at;
    }
}

pub(super) fn after_cart(id: &str, result: Result<Cart, AcpError>) -> Result<Resource, Failure> {
    let cart = result?;
    if cart.id.as_str() != id {
        return Err(refused(
            id,
            format!(
                "the cart operation returned another cart ({})",
                cart.id.as_str()
            ),
        ));
    }
    Ok(Resource::Cart(Box::new(cart)))
}

/// The operation's typed parse of the request body (in its 2026-04-17 form), for a caller of
/// `version`.
///
/// A body the caller sent in 2026-04-17 is parsed here for the first time (the pipeline only
/// schema-checked it): a failure is a defect of the body as sent, with the code its kind names,
/// as the strict schema check would name it. A body upgraded from an older version was parsed
/// once already; a failure here is `invalid_value`.
fn typed<T: parse::schema::WireType>(
    body: Option<Value>,
    version: &ApiVersion,
) -> Result<T, Failure> {
    let as_sent = *version == ApiVersion::LATEST && body.is_some();
    let value = body.unwrap_or(Value::Null);
    parse::from_value::<T>(&value).map_err(|e| {
        let error = if as_sent {
            AcpError::from(&e)
        } else {
            AcpError::invalid_request(
                crate::protocol::error::codes::INVALID_VALUE,
                e.message.clone(),
                &e.path,
            )
        };
        Failure::from(error)
    })
}

fn optional<T: parse::schema::WireType>(
    body: Option<Value>,
    version: &ApiVersion,
) -> Result<Option<T>, Failure> {
    body.map(|b| typed(Some(b), version)).transpose()
}

/// Runs a write operation.
pub(super) async fn run<M: Merchant, S: ResourceStore, A: Authenticator>(
    engine: &MerchantEngine<M, S, A>,
    ctx: &mut Context,
    op: Operation,
    stored: Option<Stored>,
    request: Option<Value>,
    reservation: &Reservation,
    now: OffsetDateTime,
) -> Result<Done, Failure> {
    let merchant = &engine.merchant;
    let (current, version) = match stored {
        Some(Stored { resource, version }) => (Some(resource), Some(version)),
        None => (None, None),
    };
    if matches!(
        op,
        Operation::CreateCart | Operation::UpdateCart | Operation::CancelCart
    ) {
        return run_cart(engine, ctx, op, current, version, request, now).await;
    }
    match (op, current) {
        (Operation::CreateCheckoutSession, None) => {
            let request: crate::spec::latest::agentic_checkout::CheckoutSessionCreateRequest =
                typed(request, &ctx.version)?;
            let negotiation = negotiate(&request.capabilities, &engine.offer);
            ctx.capabilities = Some(negotiation.capabilities.clone());
            let mut session = merchant.create_checkout(ctx, request).await?;
            negotiation.apply_to(&mut session);
            let id = session.id.as_str().to_owned();
            check_status(&session, &id, creatable(), "create")?;
            session.expires_at = Some(created_expiry(
                &id,
                session.expires_at,
                now,
                engine.session_ttl,
            )?);
            Ok(done(Resource::Session(Box::new(session)), None))
        }
        (Operation::UpdateCheckoutSession, Some(Resource::Session(session))) => {
            let allowed = updatable(&session.status)?;
            let request = typed(request, &ctx.version)?;
            ctx.capabilities = Some(session.capabilities.clone());
            let id = session.id.as_str().to_owned();
            let stored_expiry = session.expires_at;
            let mut updated = merchant.update_checkout(ctx, *session, request).await?;
            check_status(&updated, &id, &allowed, "update")?;
            updated.expires_at = Some(expiry::on_update(
                stored_expiry,
                updated.expires_at,
                now,
                engine.session_ttl,
            ));
            Ok(done(Resource::Session(Box::new(updated)), version))
        }
        (Operation::CompleteCheckoutSession, Some(Resource::Session(session))) => {
            let request: crate::spec::latest::agentic_checkout::CheckoutSessionCompleteRequest =
                typed(request, &ctx.version)?;
            let claimed_status = transition(
                &session.status,
                Event::Complete {
                    has_authentication_result: request.authentication_result.is_some(),
                },
            )
            .map_err(|e| Failure::from(e.to_acp_error()))?;
            let version = version.unwrap_or_default();
            let id = session.id.as_str().to_owned();
            let mut claimed = (*session).clone();
            claimed.status = claimed_status.clone();
            // Money safety: the claim replaces exactly the version read (compare-and-swap), so
            // checking that version's expiry at the claim's `now` means an expired session is
            // never claimed, hence never charged, whatever raced with this request.
            if expiry::session_is_due(&session, now) {
                return Err(AcpError::session_expired().into());
            }
            claim(engine, ctx, &claimed, version, reservation, now).await?;
            ctx.capabilities = Some(session.capabilities.clone());
            let stored_expiry = session.expires_at;
            let mut completed = match merchant.complete_checkout(ctx, claimed, request).await {
                Ok(completed) => completed,
                Err(error) => {
                    // Nothing was charged (the method's contract): the session is payable
                    // again. Its text is written only now, as most completes succeed.
                    return Err(Failure {
                        kind: FailureKind::Acp(error),
                        rollback: vec![write_of(ctx, &session, Some(version + 1))?],
                    });
                }
            };
            // An impossible outcome after a possible charge leaves the session claimed
            // (`complete_in_progress`): stuck is recoverable, a second charge is not.
            check_status(&completed, &id, &completable(&claimed_status), "complete")?;
            // A declined session is payable again and must still expire.
            completed.expires_at = completed.expires_at.or(stored_expiry);
            Ok(done(
                Resource::Session(Box::new(completed)),
                Some(version + 1),
            ))
        }
        (Operation::CancelCheckoutSession, Some(Resource::Session(session))) => {
            transition(&session.status, Event::Cancel)
                .map_err(|e| Failure::from(e.to_acp_error()))?;
            let request = optional(request, &ctx.version)?;
            ctx.capabilities = Some(session.capabilities.clone());
            let id = session.id.as_str().to_owned();
            let stored_expiry = session.expires_at;
            let mut canceled = merchant.cancel_checkout(ctx, *session, request).await?;
            check_status(&canceled, &id, &[CheckoutStatus::Canceled], "cancel")?;
            canceled.expires_at = canceled.expires_at.or(stored_expiry);
            Ok(done(Resource::Session(Box::new(canceled)), version))
        }
        _ => Err(Failure::from(AcpError::processing_error(
            "the operation does not apply to this resource",
        ))),
    }
}

/// Runs a cart write operation.
async fn run_cart<M: Merchant, S: ResourceStore, A: Authenticator>(
    engine: &MerchantEngine<M, S, A>,
    ctx: &Context,
    op: Operation,
    current: Option<Resource>,
    version: Option<u64>,
    request: Option<Value>,
    now: OffsetDateTime,
) -> Result<Done, Failure> {
    let merchant = &engine.merchant;
    match (op, current) {
        (Operation::CreateCart, None) => {
            let mut cart = merchant
                .create_cart(ctx, typed(request, &ctx.version)?)
                .await?;
            let id = cart.id.as_str().to_owned();
            cart.expires_at = Some(created_expiry(&id, cart.expires_at, now, engine.cart_ttl)?);
            Ok(done(after_cart(&id, Ok(cart))?, None))
        }
        (Operation::UpdateCart, Some(Resource::Cart(cart))) => {
            let id = cart.id.as_str().to_owned();
            let stored_expiry = cart.expires_at;
            // CART-06: a successful update refreshes `expires_at`.
            let updated = merchant
                .update_cart(ctx, *cart, typed(request, &ctx.version)?)
                .await
                .map(|mut cart| {
                    cart.expires_at = Some(expiry::on_update(
                        stored_expiry,
                        cart.expires_at,
                        now,
                        engine.cart_ttl,
                    ));
                    cart
                });
            Ok(done(after_cart(&id, updated)?, version))
        }
        (Operation::CancelCart, Some(Resource::Cart(cart))) => {
            let id = cart.id.as_str().to_owned();
            let canceled = merchant
                .cancel_cart(ctx, *cart, optional(request, &ctx.version)?)
                .await;
            let mut done = done(after_cart(&id, canceled)?, version);
            done.gone = true;
            Ok(done)
        }
        _ => Err(Failure::from(AcpError::processing_error(
            "the operation does not apply to this resource",
        ))),
    }
}

/// The `expires_at` of a created session or cart; one already past is never sent.
fn created_expiry(
    id: &str,
    current: Option<crate::primitives::Timestamp>,
    now: OffsetDateTime,
    ttl: time::Duration,
) -> Result<crate::primitives::Timestamp, Failure> {
    let expires_at = expiry::on_create(current, now, ttl);
    if expires_at.get() <= now {
        return Err(refused(
            id,
            "create returned a resource that has already expired",
        ));
    }
    Ok(expires_at)
}

fn done(resource: Resource, expected_version: Option<u64>) -> Done {
    Done {
        resource,
        expected_version,
        gone: false,
        rollback: Vec::new(),
    }
}

fn write_of(
    ctx: &Context,
    session: &CheckoutSession,
    expected: Option<u64>,
) -> Result<Write, Failure> {
    let document =
        resource_text(session).map_err(|e| refused(session.id.as_str(), e.to_string()))?;
    Ok(Write {
        kind: ResourceKind::CheckoutSession,
        id: session.id.as_str().to_owned(),
        document: envelope(&ctx.identity, Some(&document)),
        expected_version: expected,
    })
}

/// Stores `claimed` (`complete_in_progress`) if the session is still at `version`: of two
/// concurrent completes exactly one gets past this point.
async fn claim<M: Merchant, S: ResourceStore, A: Authenticator>(
    engine: &MerchantEngine<M, S, A>,
    ctx: &Context,
    claimed: &CheckoutSession,
    version: u64,
    reservation: &Reservation,
    now: OffsetDateTime,
) -> Result<(), Failure> {
    let commit = Commit::new(
        reservation.scope.clone(),
        reservation.lease,
        None,
        vec![write_of(ctx, claimed, Some(version))?],
    );
    match engine.store.commit(commit, now).await {
        Ok(CommitOutcome::Committed) => Ok(()),
        Ok(CommitOutcome::Conflict) => {
            Err(concurrent_change(Operation::CompleteCheckoutSession).into())
        }
        Ok(CommitOutcome::LeaseLost) => {
            Err(AcpError::idempotency_in_flight(RetryAfter::from_secs(1)).into())
        }
        Err(e) => {
            engine
                .events
                .report(&super::EngineEvent::Storage { error: &e });
            Err(AcpError::service_unavailable(
                "storage is unavailable",
                Some(RetryAfter::from_secs(1)),
            )
            .into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_session_starts_in_an_initial_status() {
        let allowed = creatable();
        assert!(allowed.contains(&CheckoutStatus::ReadyForPayment));
        assert!(allowed.contains(&CheckoutStatus::NotReadyForPayment));
        assert!(!allowed.contains(&CheckoutStatus::Completed));
        assert!(!allowed.contains(&CheckoutStatus::CompleteInProgress));
        assert!(!allowed.contains(&CheckoutStatus::Canceled));
    }

    #[test]
    fn an_update_cannot_complete_and_a_terminal_session_cannot_be_updated() {
        let allowed = updatable(&CheckoutStatus::ReadyForPayment).unwrap();
        assert!(!allowed.contains(&CheckoutStatus::Completed));
        assert!(allowed.contains(&CheckoutStatus::NotReadyForPayment));
        assert_eq!(
            updatable(&CheckoutStatus::Completed).unwrap_err().status(),
            405
        );
        assert_eq!(
            updatable(&CheckoutStatus::CompleteInProgress)
                .unwrap_err()
                .status(),
            422
        );
    }

    #[test]
    fn a_complete_ends_in_a_payment_outcome() {
        let allowed = completable(&CheckoutStatus::CompleteInProgress);
        for status in [
            CheckoutStatus::Completed,
            CheckoutStatus::ReadyForPayment,
            CheckoutStatus::CompleteInProgress,
            CheckoutStatus::PendingApproval,
            CheckoutStatus::AuthenticationRequired,
        ] {
            assert!(allowed.contains(&status), "{status:?}");
        }
        assert!(!allowed.contains(&CheckoutStatus::Canceled));
        assert!(!allowed.contains(&CheckoutStatus::Expired));
    }
}
