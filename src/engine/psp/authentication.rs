//! `delegate_authentication`: create, authenticate and retrieve, with the state rules of the
//! [module docs](super) (DA-01..06, DA-12, DA-13).

use serde_json::Value;
use time::OffsetDateTime;

use crate::engine::store::{
    AsyncTokenLedger, Commit, CommitOutcome, ResourceKind, ResourceStore, Write,
};
use crate::parse::json_path::JsonPath;
use crate::parse::registry::{self, Body, BodyError};
use crate::protocol::error::{AcpError, codes};
use crate::protocol::headers::{Operation, RetryAfter};
use crate::spec::latest::delegate_authentication::{
    ActionType, AuthenticationSessionStatus as Status, DelegateAuthenticationAuthenticateRequest,
    DelegateAuthenticationCreateRequest, DelegateAuthenticationSession,
    DelegateAuthenticationSessionWithResult, FingerprintCompletion,
};

use super::pipeline::{Admitted, Reply, begin, error_reply, finish, refused, storage_failure};
use super::{AuthenticationState, PspEngine, ThreeDsProvider, ThreeDsStep, Vault, new_id};

/// Which operation a provider's step answers (each leads to its own statuses, DA-13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Create,
    Authenticate,
    Refresh,
}

/// Whether `step` may be the outcome of `op` (DA-02, DA-04, DA-06, DA-13); why not.
fn check_step(op: Step, step: &ThreeDsStep) -> Result<(), String> {
    let action = step.action.as_ref();
    let action_kind = action.map(|a| &a.kind);
    let allowed = match (&step.status, op) {
        // DA-02: create asks for the 3DS Method (fingerprint), or has nothing to do yet.
        (Status::ActionRequired, Step::Create) => {
            action_kind == Some(&ActionType::Fingerprint)
                && action.is_some_and(|a| a.fingerprint.is_some())
        }
        (Status::Pending | Status::NotSupported, Step::Create)
        | (
            Status::NotAuthenticated | Status::Rejected | Status::Unavailable | Status::Expired,
            Step::Authenticate | Step::Refresh,
        )
        | (Status::ChallengeAbandoned, Step::Refresh) => action.is_none(),
        // DA-04: authenticate may ask for a challenge.
        (Status::ActionRequired, Step::Authenticate) => {
            action_kind == Some(&ActionType::Challenge)
                && action.is_some_and(|a| a.challenge.is_some())
        }
        // DA-06: an authenticated or attempted outcome carries its result.
        (Status::Authenticated | Status::Attempted, Step::Authenticate | Step::Refresh) => {
            action.is_none() && step.result.is_some()
        }
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(format!(
            "{op:?} cannot lead to status {} with action {:?} and {} result (DA-02, DA-06, DA-13)",
            step.status.as_str(),
            action_kind.map(ActionType::as_str),
            if step.result.is_some() { "a" } else { "no" },
        ))
    }
}

/// A status the session never leaves.
fn is_final(status: &Status) -> bool {
    !matches!(status, Status::ActionRequired | Status::Pending)
}

fn apply(state: &mut AuthenticationState, step: ThreeDsStep) {
    state.status = step.status;
    state.action = step.action;
    if step.result.is_some() {
        state.result = step.result;
    }
    if let Some(data) = step.provider_data {
        state.provider_data = data;
    }
}

fn session_body(state: &AuthenticationState) -> Value {
    let mut session = DelegateAuthenticationSession::new(state.id.as_str(), state.status.clone());
    session.action.clone_from(&state.action);
    serde_json::to_value(&session).unwrap_or(Value::Null)
}

/// The retrieve body: the result only once the session is final (DA-06).
fn session_with_result(state: &AuthenticationState) -> Value {
    let mut session =
        DelegateAuthenticationSessionWithResult::new(state.id.as_str(), state.status.clone());
    session.action.clone_from(&state.action);
    if is_final(&state.status) {
        session.authentication_result.clone_from(&state.result);
    }
    serde_json::to_value(&session).unwrap_or(Value::Null)
}

fn document(owner: &str, state: &AuthenticationState) -> Result<Value, AcpError> {
    serde_json::to_value(state)
        .map(|state| serde_json::json!({"owner": owner, "state": state}))
        .map_err(|_| AcpError::processing_error("cannot store the session"))
}

fn body_error(error: &BodyError) -> AcpError {
    match error {
        BodyError::Invalid { violations, .. } => AcpError::from_violations(violations)
            .unwrap_or_else(|| {
                AcpError::invalid_request(
                    codes::INVALID_VALUE,
                    error.to_string(),
                    &JsonPath::root(),
                )
            }),
        other => {
            AcpError::invalid_request(codes::INVALID_VALUE, other.to_string(), &JsonPath::root())
        }
    }
}

/// The request body, checked against the caller's version's schema and typed.
fn typed<T: crate::parse::schema::WireType, V, D, S, L>(
    engine: &PspEngine<V, D, S, L>,
    admitted: &Admitted,
) -> Result<T, AcpError> {
    let Some(value) = &admitted.value else {
        return Err(AcpError::invalid_request(
            codes::MISSING_REQUIRED_FIELD,
            "the request body is required",
            &JsonPath::root(),
        ));
    };
    registry::check_body(
        &admitted.version,
        admitted.op,
        Body::Request,
        value,
        engine.strict,
    )
    .map_err(|e| body_error(&e))?;
    crate::parse::from_value(value)
        .map_err(|e| AcpError::invalid_request(codes::INVALID_VALUE, e.message.clone(), &e.path))
}

/// A stored session of the caller (another agent's does not exist for it, DA-01).
async fn load<V, D, S: ResourceStore, L>(
    engine: &PspEngine<V, D, S, L>,
    admitted: &Admitted,
) -> Result<(AuthenticationState, u64), Reply> {
    let op = Some(admitted.op);
    let id = admitted.id.as_deref().unwrap_or_default();
    let not_found = || error_reply(&AcpError::not_found("authentication session"), op);
    let versioned = match engine
        .store
        .load(ResourceKind::AuthenticationSession, id)
        .await
    {
        Ok(Some(versioned)) => versioned,
        Ok(None) => return Err(not_found()),
        Err(e) => return Err(storage_failure(engine, &e, op)),
    };
    let document: Value = match serde_json::from_str(&versioned.document) {
        Ok(document) => document,
        Err(e) => {
            return Err(refused(
                engine,
                id,
                &format!("stored session does not parse: {e}"),
                op,
            ));
        }
    };
    if document["owner"].as_str() != Some(admitted.ctx.identity.as_str()) {
        return Err(not_found());
    }
    match serde_json::from_value(document["state"].clone()) {
        Ok(state) => Ok((state, versioned.version)),
        Err(e) => Err(refused(
            engine,
            id,
            &format!("stored session does not parse: {e}"),
            op,
        )),
    }
}

/// Create and authenticate: reserve the key, run, commit the session with the response.
pub(super) async fn write<V, D, S, L>(
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
    let op = Some(admitted.op);
    let path = match &admitted.id {
        Some(id) => format!("/delegate_authentication/{id}/authenticate"),
        None => "/delegate_authentication".to_owned(),
    };
    let reservation = match begin(
        engine,
        op,
        &admitted.ctx.identity,
        path,
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
    let mut admitted = admitted;
    admitted.ctx.idempotency_key = Some(reservation.key.clone());
    let outcome = if admitted.op == Operation::CreateDelegateAuthentication {
        create(engine, &admitted).await
    } else {
        authenticate(engine, &admitted).await
    };
    let (reply, writes) = match outcome {
        Ok(done) => done,
        Err(reply) => (reply, Vec::new()),
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

async fn create<V, D: ThreeDsProvider, S, L>(
    engine: &PspEngine<V, D, S, L>,
    admitted: &Admitted,
) -> Result<(Reply, Vec<Write>), Reply> {
    let op = Some(admitted.op);
    let fail = |e: AcpError| error_reply(&e, op);
    let request: DelegateAuthenticationCreateRequest = typed(engine, admitted).map_err(fail)?;
    check_create(&request).map_err(fail)?;
    let step = engine
        .three_ds
        .create(&admitted.ctx, &request)
        .await
        .map_err(fail)?;
    let id = new_id("auth_");
    if let Err(reason) = check_step(Step::Create, &step) {
        return Err(refused(engine, &id, &reason, op));
    }
    let mut state = AuthenticationState {
        id: id.clone(),
        status: Status::Pending,
        action: None,
        result: None,
        merchant_id: request.merchant_id.as_str().to_owned(),
        amount: request.amount.value,
        currency: request.amount.currency.as_str().to_owned(),
        checkout_session_id: request
            .checkout_session_id
            .as_ref()
            .map(|c| c.as_str().to_owned()),
        channel_given: request.channel.is_some(),
        notification_url_given: request.challenge_notification_url.is_some(),
        provider_data: Value::Null,
    };
    apply(&mut state, step);
    let document = document(admitted.ctx.identity.as_str(), &state).map_err(fail)?;
    Ok((
        Reply::json(201, &session_body(&state)),
        vec![Write {
            kind: ResourceKind::AuthenticationSession,
            id,
            document: document.to_string(),
            expected_version: None,
        }],
    ))
}

/// DA-07 (expiry month and year), DA-08 (a positive amount).
fn check_create(request: &DelegateAuthenticationCreateRequest) -> Result<(), AcpError> {
    let pm = JsonPath::root().key("payment_method");
    let month = request.payment_method.exp_month.as_str();
    if !(month.len() == 2 && matches!(month.parse::<u8>(), Ok(1..=12))) {
        return Err(AcpError::invalid_card(
            "exp_month must be 01 to 12 (DA-07)",
            &pm.key("exp_month"),
        ));
    }
    let year = request.payment_method.exp_year.as_str();
    if !(year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit())) {
        return Err(AcpError::invalid_card(
            "exp_year must be four digits (DA-07)",
            &pm.key("exp_year"),
        ));
    }
    if request.payment_method.number.expose().is_empty() {
        return Err(AcpError::invalid_card(
            "the card number is required (DA-07)",
            &pm.key("number"),
        ));
    }
    if request.amount.value <= 0 {
        return Err(AcpError::invalid_request(
            codes::INVALID_VALUE,
            "amount.value must be a positive integer in minor units (DA-08)",
            &JsonPath::root().key("amount").key("value"),
        ));
    }
    Ok(())
}

async fn authenticate<V, D: ThreeDsProvider, S: ResourceStore, L>(
    engine: &PspEngine<V, D, S, L>,
    admitted: &Admitted,
) -> Result<(Reply, Vec<Write>), Reply> {
    let op = Some(admitted.op);
    let fail = |e: AcpError| error_reply(&e, op);
    let (mut state, version) = load(engine, admitted).await?;
    let request: DelegateAuthenticationAuthenticateRequest =
        typed(engine, admitted).map_err(fail)?;
    // DA-02: authenticate follows the fingerprint action, or a pending create (with `U`).
    let fingerprint_out = state.status == Status::ActionRequired
        && state
            .action
            .as_ref()
            .is_some_and(|a| a.kind == ActionType::Fingerprint);
    if state.status == Status::Pending {
        if request.fingerprint_completion != FingerprintCompletion::U {
            return Err(fail(AcpError::invalid_request(
                codes::INVALID_VALUE,
                "a pending session is authenticated with fingerprint_completion U (DA-02)",
                &JsonPath::root().key("fingerprint_completion"),
            )));
        }
    } else if !fingerprint_out {
        let why = if state.status == Status::ActionRequired {
            "a challenge is in progress: retrieve the session for its result (DA-04)".to_owned()
        } else {
            format!(
                "the session is {} and cannot be authenticated (DA-02, DA-05)",
                state.status.as_str()
            )
        };
        return Err(fail(AcpError::unprocessable(codes::INVALID_STATE, why)));
    }
    // DA-12: channel and challenge_notification_url, on create or else here.
    state.channel_given |= request.channel.is_some();
    state.notification_url_given |= request.challenge_notification_url.is_some();
    for (given, member) in [
        (state.channel_given, "channel"),
        (state.notification_url_given, "challenge_notification_url"),
    ] {
        if !given {
            return Err(fail(AcpError::invalid_request(
                codes::MISSING_REQUIRED_FIELD,
                format!("{member} is required on create or authenticate (DA-12)"),
                &JsonPath::root().key(member),
            )));
        }
    }
    let step = engine
        .three_ds
        .authenticate(&admitted.ctx, &state, &request)
        .await
        .map_err(fail)?;
    if let Err(reason) = check_step(Step::Authenticate, &step) {
        return Err(refused(engine, &state.id, &reason, op));
    }
    apply(&mut state, step);
    let document = document(admitted.ctx.identity.as_str(), &state).map_err(fail)?;
    Ok((
        Reply::json(200, &session_body(&state)),
        vec![Write {
            kind: ResourceKind::AuthenticationSession,
            id: state.id.clone(),
            document: document.to_string(),
            expected_version: Some(version),
        }],
    ))
}

/// `GET`: the session with its result; while a challenge is out, the provider may conclude it
/// (DA-04), and the new state is stored.
pub(super) async fn retrieve<V, D, S, L>(
    engine: &PspEngine<V, D, S, L>,
    admitted: &Admitted,
    now: OffsetDateTime,
) -> Reply
where
    V: Vault,
    D: ThreeDsProvider,
    S: ResourceStore,
    L: AsyncTokenLedger,
{
    let op = Some(admitted.op);
    let (mut state, version) = match load(engine, admitted).await {
        Ok(loaded) => loaded,
        Err(reply) => return reply,
    };
    let challenge_out = state.status == Status::ActionRequired
        && state
            .action
            .as_ref()
            .is_some_and(|a| a.kind == ActionType::Challenge);
    if challenge_out {
        let step = match engine.three_ds.refresh(&admitted.ctx, &state).await {
            Ok(step) => step,
            Err(e) => return error_reply(&e, op),
        };
        if let Some(step) = step {
            if let Err(reason) = check_step(Step::Refresh, &step) {
                return refused(engine, &state.id, &reason, op);
            }
            apply(&mut state, step);
            if let Err(reply) = store_refresh(engine, admitted, &state, version, now).await {
                return reply;
            }
        }
    }
    Reply::json(200, &session_with_result(&state))
}

/// `GET /authentication_results/{id}` ([`AUTHENTICATION_RESULTS_PATH`](super::AUTHENTICATION_RESULTS_PATH)):
/// the merchant named in a session (its `merchant_id` is the merchant's identity here) reads
/// its status, result (once final, DA-06) and what it was for (amount, currency, checkout
/// session), to check an `authentication_result` an agent presents before charging. Any
/// other session, or none, is `404`. Nothing is refreshed: the agent drives the session.
pub(super) async fn merchant_read<V, D, S: ResourceStore, L>(
    engine: &PspEngine<V, D, S, L>,
    merchant: &super::Identity,
    id: &str,
) -> Reply {
    let not_found = || error_reply(&AcpError::not_found("authentication session"), None);
    let versioned = match engine
        .store
        .load(ResourceKind::AuthenticationSession, id)
        .await
    {
        Ok(Some(versioned)) => versioned,
        Ok(None) => return not_found(),
        Err(e) => return storage_failure(engine, &e, None),
    };
    let Ok(document) = serde_json::from_str::<Value>(&versioned.document) else {
        return refused(engine, id, "stored session does not parse", None);
    };
    let Ok(state) = serde_json::from_value::<AuthenticationState>(document["state"].clone()) else {
        return refused(engine, id, "stored session does not parse", None);
    };
    if state.merchant_id != merchant.as_str() {
        return not_found();
    }
    let mut body = session_with_result(&state);
    body["merchant_id"] = Value::from(state.merchant_id.clone());
    body["amount"] = serde_json::json!({"value": state.amount, "currency": state.currency});
    if let Some(checkout) = &state.checkout_session_id {
        body["checkout_session_id"] = Value::from(checkout.clone());
    }
    Reply::json(200, &body)
}

/// Writes a refreshed session under a reservation of its own (a `GET` has no key).
async fn store_refresh<V, D, S: ResourceStore, L>(
    engine: &PspEngine<V, D, S, L>,
    admitted: &Admitted,
    state: &AuthenticationState,
    version: u64,
    now: OffsetDateTime,
) -> Result<(), Reply> {
    let op = Some(admitted.op);
    let document =
        document(admitted.ctx.identity.as_str(), state).map_err(|e| error_reply(&e, op))?;
    let reservation = begin(
        engine,
        op,
        &admitted.ctx.identity,
        format!("/delegate_authentication/{}", state.id),
        None,
        None,
        b"",
        now,
    )
    .await?;
    let commit = Commit::new(
        reservation.scope.clone(),
        reservation.lease,
        None,
        vec![Write {
            kind: ResourceKind::AuthenticationSession,
            id: state.id.clone(),
            document: document.to_string(),
            expected_version: Some(version),
        }],
    );
    let outcome = engine.store.commit(commit, now).await;
    let _ = engine
        .store
        .release(&reservation.scope, reservation.lease)
        .await;
    match outcome {
        Ok(CommitOutcome::Committed) => Ok(()),
        Ok(_) => Err(error_reply(
            &AcpError::concurrent_modification("authentication session", RetryAfter::from_secs(1)),
            op,
        )),
        Err(e) => Err(storage_failure(engine, &e, op)),
    }
}
