//! The PSP engine: a payment service provider's whole ACP side, framework-free.
//!
//! A PSP implements two traits: [`Vault`] (keep a delegated card, name it by a token id; charge
//! it) and [`ThreeDsProvider`] (run 3-D Secure: frictionless or challenge). [`PspEngine`] does
//! everything else:
//!
//! | Route | Who calls | What the engine does |
//! |---|---|---|
//! | `POST /agentic_commerce/delegate_payment` | the agent | typed headers, [`Authenticator`] of agents (`401`), `API-Version` negotiation (VER-01..05), signature verification by the [`Verifier`] (SIG-01, a MUST here), idempotency scoped by agent (IDEM-03..17, the version in the fingerprint), the schema of the caller's version and every DP rule of [`rules::delegate_payment`](crate::rules::delegate_payment) (DP-05, DP-10, DP-12..18), an allowance still open (DP-04) with a positive maximum (DP-06); then [`Vault::store_card`] and `201` `{id, created, metadata}` with the correlation metadata (DP-01, DP-02); the allowance is stored with the token ([`DelegatedToken`], [`ResourceKind::PaymentToken`](crate::engine::store::ResourceKind::PaymentToken)), committed with the idempotency record |
//! | `POST /charges` ([`CHARGE_PATH`]) | the merchant (the PSP's own API, not ACP) | [`Authenticator`] of merchants: the merchant is the owner of the credential, never a body field (DP-10); `Idempotency-Key` required and scoped to the merchant (IDEM-01, IDEM-03); the allowance check ([`allowance::check`], DP-03..10) answered with the **public form** only (`402`; the detailed form goes to [`PspEvents`]); single use through the [`AsyncTokenLedger`] (DP-11); then [`Vault::charge`] and `201` `{id, amount, currency, status, last4}` |
//! | `POST /delegate_authentication` | the agent | as `delegate_payment` (signature DA-14), the body checked (DA-07, DA-08), [`ThreeDsProvider::create`], the session stored ([`ResourceKind::AuthenticationSession`](crate::engine::store::ResourceKind::AuthenticationSession)); `201` session |
//! | `POST /delegate_authentication/{id}/authenticate` | the agent | the state rules below, [`ThreeDsProvider::authenticate`]; `200` session |
//! | `GET /delegate_authentication/{id}` | the agent | [`ThreeDsProvider::refresh`] while a challenge is out; `200` session with its `authentication_result` |
//! | `GET /authentication_results/{id}` ([`AUTHENTICATION_RESULTS_PATH`]) | the merchant (the PSP's own API) | [`Authenticator`] of merchants; only a session whose `merchant_id` is the merchant's identity (else `404`); `200` session with its result (once final), `merchant_id`, `amount` `{value, currency}` and `checkout_session_id`, so the merchant can check an agent's `authentication_result` before charging |
//!
//! # `delegate_authentication` state rules
//!
//! | Rule | Check |
//! |---|---|
//! | DA-01 | the engine names the session (`authentication_session_id`); other agents' sessions are `404` |
//! | DA-02, DA-13 | create leads to `action_required` (with a `fingerprint` action), `pending` or `not_supported` only |
//! | DA-02 | authenticate is accepted from `pending` (with `fingerprint_completion: U` only) and from `action_required` with a fingerprint action; any other status is `409` (after a challenge action the agent retrieves the session, DA-04; a final status is final, DA-05) |
//! | DA-12 | `channel` and `challenge_notification_url` are given on create or else on authenticate (`400`, `param`) |
//! | DA-13 | authenticate leads to `action_required` (with a `challenge` action), `authenticated`, `attempted`, `not_authenticated`, `rejected`, `unavailable` or `expired` only |
//! | DA-04, DA-13 | retrieve may conclude a challenge (any final status, `challenge_abandoned` included) |
//! | DA-06 | `authenticated` and `attempted` carry an `authentication_result`; the result is sent by retrieve only |
//!
//! A status a provider returns that its operation cannot lead to is never stored or sent (a
//! `500`, reported to [`PspEvents`]).
//!
//! Errors are ACP errors with `param`; `delegate_payment` answers in the delegate-payment
//! error shape ([`AcpError::to_delegate_payment`]): its validation code is `invalid_card`
//! (ERR-03's closed enum has no other). No card data, secret or allowance value is ever in an
//! error body, and the card fields of the request types are redacted in `Debug`.
//!
//! # Example
//!
//! ```
//! use agentic_commerce::engine::psp::{
//!     BearerKeys, Identity, InMemoryVault, PspEngine, SimulatedThreeDs,
//! };
//! use agentic_commerce::engine::store::{InMemoryStore, InMemoryTokenLedger};
//! use agentic_commerce::trust::signature::{Algorithm, HmacSha256Key, Verifier};
//!
//! let key = HmacSha256Key::new(b"a-signing-secret-of-32-bytes-or-more!").unwrap();
//! let engine = PspEngine::builder(
//!     InMemoryVault::default(),
//!     SimulatedThreeDs::default(),
//!     InMemoryStore::default(),
//!     InMemoryTokenLedger::default(),
//! )
//! .agents(BearerKeys::new().key("a-long-api-key-for-the-agent", Identity::new("agent")))
//! .merchants(BearerKeys::new().key("a-long-api-key-of-the-shop", Identity::new("shop_1")))
//! .verifier(Verifier::new([Algorithm::HS256]).with_key("agent", key))
//! .build()
//! .unwrap();
//! # let _ = engine;
//! ```

mod authentication;
mod pipeline;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::protocol::error::AcpError;
use crate::protocol::headers::{IdempotencyKey, RequestId};
use crate::protocol::version::ApiVersion;
use crate::spec::latest::delegate_authentication::{
    Action, ActionType, AuthenticationSessionStatus, ChallengeAction,
    DelegateAuthenticationAuthenticateRequest, DelegateAuthenticationCreateRequest,
    DelegateAuthenticationResult, FingerprintAction,
};
use crate::spec::latest::delegate_payment::{DelegatePaymentRequest, PaymentMethodCard};
#[cfg(doc)]
use crate::trust::allowance;
use crate::trust::allowance::{AllowanceTerms, DetailedViolations, ProposedCharge};
use crate::trust::signature::Verifier;
use crate::wire::Sensitive;

use super::merchant::{DEFAULT_MAX_BODY_BYTES, Silent, Stderr};
use super::store::{AsyncTokenLedger, ResourceStore};

pub use super::auth::{Authenticator, BearerKeys, Identity};

/// The path under which a merchant reads an authentication session it is named in
/// (`GET /authentication_results/{id}`, the PSP's own API like [`CHARGE_PATH`]).
pub const AUTHENTICATION_RESULTS_PATH: &str = "/authentication_results";

/// The path of the merchant's charge call (the PSP's own API).
pub const CHARGE_PATH: &str = "/charges";

/// What a [`Vault`] or [`ThreeDsProvider`] method knows about the request it serves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PspContext {
    /// The authenticated caller: the agent (`delegate_payment`, `delegate_authentication`) or the
    /// merchant (a charge; its name is the `merchant_id`, DP-10).
    pub identity: Identity,
    /// The negotiated API version (`None` for a charge: the PSP's own API has none).
    pub version: Option<ApiVersion>,
    /// The caller's `Request-Id`, if sent.
    pub request_id: Option<RequestId>,
    /// The request's idempotency key (a fresh one when the caller sent none and may omit it).
    pub idempotency_key: Option<IdempotencyKey>,
    /// When the engine received the request.
    pub now: OffsetDateTime,
}

/// A delegated payment token as the engine stores it: the allowance it is bound to and
/// display data. Never the card: the [`Vault`] keeps that.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DelegatedToken {
    /// The token id (`vt_…`), from [`Vault::store_card`]. It is a credential: `Debug` hides it.
    pub id: String,
    /// The agent that delegated the card.
    pub owner: String,
    /// When it was issued.
    #[serde(with = "crate::primitives::rfc3339")]
    pub created: OffsetDateTime,
    /// The allowance (DP-03..10).
    pub allowance: AllowanceTerms,
    /// The card's last four digits, for display.
    pub last4: Option<String>,
    /// The card's brand, for display.
    pub brand: Option<String>,
}

impl std::fmt::Debug for DelegatedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DelegatedToken")
            .field("id", &"[REDACTED]")
            .field("owner", &self.owner)
            .field("created", &self.created)
            .field("allowance", &self.allowance)
            .field("last4", &self.last4)
            .field("brand", &self.brand)
            .finish()
    }
}

/// The merchant's charge request (`POST /charges`, the PSP's own API). There is no
/// `merchant_id`: the merchant is the owner of the credential (DP-10); a body naming one is not
/// read.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeRequest {
    /// The delegated token.
    pub token: String,
    /// Amount in minor units.
    pub amount: i64,
    /// ISO 4217 currency.
    pub currency: String,
    /// The checkout session being paid (DP-09).
    pub checkout_session_id: String,
}

impl std::fmt::Debug for ChargeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChargeRequest")
            .field("token", &"[REDACTED]")
            .field("amount", &self.amount)
            .field("currency", &self.currency)
            .field("checkout_session_id", &self.checkout_session_id)
            .finish()
    }
}

/// The PSP's card vault and processor.
pub trait Vault: Send + Sync {
    /// Keeps the card of a checked `delegate_payment` request (every DP rule passed) and
    /// returns the id of the new token (`vt_…`, unguessable: it is a credential). The engine
    /// stores the allowance with it and answers.
    ///
    /// The card may be kept even if the request then fails to commit (a storage failure); the
    /// token is never issued then.
    fn store_card(
        &self,
        ctx: &PspContext,
        request: &DelegatePaymentRequest,
    ) -> impl Future<Output = Result<String, AcpError>> + Send;

    /// Charges `token` for `charge` after the engine checked the allowance (DP-03..10) and
    /// consumed the token (DP-11); returns the charge id. An error is sent to the merchant as
    /// is; the token stays consumed (a one-time token is spent by a declined charge too).
    fn charge(
        &self,
        ctx: &PspContext,
        token: &DelegatedToken,
        charge: &ProposedCharge,
    ) -> impl Future<Output = Result<String, AcpError>> + Send {
        let _ = (ctx, token, charge);
        async move { Ok(new_id("ch_")) }
    }
}

/// A shared vault serves like the vault itself.
impl<V: Vault + ?Sized> Vault for std::sync::Arc<V> {
    fn store_card(
        &self,
        ctx: &PspContext,
        request: &DelegatePaymentRequest,
    ) -> impl Future<Output = Result<String, AcpError>> + Send {
        (**self).store_card(ctx, request)
    }

    fn charge(
        &self,
        ctx: &PspContext,
        token: &DelegatedToken,
        charge: &ProposedCharge,
    ) -> impl Future<Output = Result<String, AcpError>> + Send {
        (**self).charge(ctx, token, charge)
    }
}

/// The default bound of [`InMemoryVault`].
pub const DEFAULT_MAX_CARDS: usize = 100_000;

/// An in-memory [`Vault`] for tests and examples: keeps each card (redacted in `Debug`) under
/// a fresh `vt_…` id, bounded; a charge needs the card to be there.
#[derive(Debug)]
pub struct InMemoryVault {
    cards: Mutex<BTreeMap<String, PaymentMethodCard>>,
    max_cards: usize,
}

impl Default for InMemoryVault {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_CARDS)
    }
}

impl InMemoryVault {
    /// A vault holding at most `max_cards` cards.
    pub fn new(max_cards: usize) -> Self {
        Self {
            cards: Mutex::new(BTreeMap::new()),
            max_cards,
        }
    }

    /// The number of cards kept.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no card is kept.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Whether `token` names a kept card.
    pub fn contains(&self, token: &str) -> bool {
        self.lock().contains_key(token)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, PaymentMethodCard>> {
        self.cards.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Vault for InMemoryVault {
    fn store_card(
        &self,
        _ctx: &PspContext,
        request: &DelegatePaymentRequest,
    ) -> impl Future<Output = Result<String, AcpError>> + Send {
        let mut cards = self.lock();
        let result = if cards.len() >= self.max_cards {
            Err(AcpError::service_unavailable("the vault is full", None))
        } else {
            let id = new_id("vt_");
            cards.insert(id.clone(), request.payment_method.clone());
            Ok(id)
        };
        drop(cards);
        async move { result }
    }

    fn charge(
        &self,
        _ctx: &PspContext,
        token: &DelegatedToken,
        _charge: &ProposedCharge,
    ) -> impl Future<Output = Result<String, AcpError>> + Send {
        let known = self.contains(&token.id);
        async move {
            if known {
                Ok(new_id("ch_"))
            } else {
                Err(AcpError::processing_error("the vaulted card is missing"))
            }
        }
    }
}

/// A session as a [`ThreeDsProvider`] sees it after create: no card data (the provider keeps
/// what it needs in [`provider_data`](Self::provider_data)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthenticationState {
    /// `authentication_session_id`.
    pub id: String,
    /// The current status.
    pub status: AuthenticationSessionStatus,
    /// The current action, if any.
    pub action: Option<Action>,
    /// The result, once the provider has one.
    pub result: Option<DelegateAuthenticationResult>,
    /// The create request's `merchant_id`.
    pub merchant_id: String,
    /// The amount in minor units.
    pub amount: i64,
    /// Its currency (uppercase).
    pub currency: String,
    /// The checkout session, if named.
    pub checkout_session_id: Option<String>,
    /// Whether `channel` was given (create or authenticate, DA-12).
    pub channel_given: bool,
    /// Whether `challenge_notification_url` was given (create or authenticate, DA-12).
    pub notification_url_given: bool,
    /// The provider's own state ([`ThreeDsStep::provider_data`]), never sent.
    pub provider_data: Value,
}

/// What a [`ThreeDsProvider`] decided: the new status, its action and result.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ThreeDsStep {
    /// The new status.
    pub status: AuthenticationSessionStatus,
    /// The action the agent must take (`action_required`).
    pub action: Option<Action>,
    /// The authentication result (final statuses; required for `authenticated` and
    /// `attempted`, DA-06).
    pub result: Option<DelegateAuthenticationResult>,
    /// The provider's own state, stored with the session (`None`: unchanged).
    pub provider_data: Option<Value>,
}

impl ThreeDsStep {
    /// A step to `status`, without action or result.
    pub fn new(status: AuthenticationSessionStatus) -> Self {
        Self {
            status,
            action: None,
            result: None,
            provider_data: None,
        }
    }

    /// `action_required` with a fingerprint action (the 3DS Method, DA-03).
    pub fn fingerprint(action: FingerprintAction) -> Self {
        let mut step = Self::new(AuthenticationSessionStatus::ActionRequired);
        let mut a = Action::new(ActionType::Fingerprint);
        a.fingerprint = Some(action);
        step.action = Some(a);
        step
    }

    /// `action_required` with a challenge action (DA-04).
    pub fn challenge(action: ChallengeAction) -> Self {
        let mut step = Self::new(AuthenticationSessionStatus::ActionRequired);
        let mut a = Action::new(ActionType::Challenge);
        a.challenge = Some(action);
        step.action = Some(a);
        step
    }

    /// A final `status` with its `result`.
    #[must_use]
    pub fn with_result(mut self, result: DelegateAuthenticationResult) -> Self {
        self.result = Some(result);
        self
    }

    /// Keeps `data` with the session for the provider's next call.
    #[must_use]
    pub fn with_provider_data(mut self, data: Value) -> Self {
        self.provider_data = Some(data);
        self
    }
}

/// The PSP's 3-D Secure provider (the 3DS server side of `delegate_authentication`).
pub trait ThreeDsProvider: Send + Sync {
    /// Starts a session: `action_required` with a fingerprint action, `pending` (no 3DS Method
    /// for this card) or `not_supported` (DA-02).
    fn create(
        &self,
        ctx: &PspContext,
        request: &DelegateAuthenticationCreateRequest,
    ) -> impl Future<Output = Result<ThreeDsStep, AcpError>> + Send;

    /// Authenticates after the fingerprint step: a frictionless outcome (`authenticated`,
    /// `attempted`, `not_authenticated`, `rejected`, `unavailable`, `expired`) or
    /// `action_required` with a challenge action.
    fn authenticate(
        &self,
        ctx: &PspContext,
        session: &AuthenticationState,
        request: &DelegateAuthenticationAuthenticateRequest,
    ) -> impl Future<Output = Result<ThreeDsStep, AcpError>> + Send;

    /// Called by retrieve while a challenge is out: the challenge's outcome when the ACS has
    /// one (a final status with its result, or `challenge_abandoned`), `None` while it runs.
    /// The default: `None`.
    fn refresh(
        &self,
        ctx: &PspContext,
        session: &AuthenticationState,
    ) -> impl Future<Output = Result<Option<ThreeDsStep>, AcpError>> + Send {
        let _ = (ctx, session);
        async move { Ok(None) }
    }
}

/// A simulated [`ThreeDsProvider`] for tests and examples (no issuer, no network):
///
/// - create: `action_required` with a fingerprint action (or the status set by
///   [`create_status`](Self::create_status): `pending`, `not_supported`);
/// - authenticate: a challenge when the agent asked for one (`flow_preference.type:
///   challenge`) or the amount is at least [`challenge_from`](Self::challenge_from);
///   otherwise frictionless `authenticated` (`fingerprint_completion` `Y` or `U`) or
///   `attempted` (`N`);
/// - retrieve during a challenge: the challenge succeeded (`authenticated`).
#[derive(Debug, Clone)]
pub struct SimulatedThreeDs {
    create_status: AuthenticationSessionStatus,
    challenge_from: Option<i64>,
}

impl Default for SimulatedThreeDs {
    fn default() -> Self {
        Self {
            create_status: AuthenticationSessionStatus::ActionRequired,
            challenge_from: None,
        }
    }
}

impl SimulatedThreeDs {
    /// What create answers: `action_required` (default), `pending` or `not_supported`.
    #[must_use]
    pub fn create_status(mut self, status: AuthenticationSessionStatus) -> Self {
        self.create_status = status;
        self
    }

    /// Challenges every amount (minor units) at or above `amount`.
    #[must_use]
    pub fn challenge_from(mut self, amount: i64) -> Self {
        self.challenge_from = Some(amount);
        self
    }

    fn result(status: &str, trans: &str) -> DelegateAuthenticationResult {
        let mut result =
            DelegateAuthenticationResult::new(status, new_id("ds_"), trans.to_owned(), "2.2.0");
        result.electronic_commerce_indicator =
            Some(if status == "Y" { "05" } else { "06" }.to_owned());
        result.three_ds_cryptogram = Some(Sensitive::new("AQIDBAUGBwgJCgsMDQ4PEBESExQ="));
        result.authentication_value = Some(Sensitive::new("SIMULATED_CAVV"));
        result
    }
}

fn simulated_uri(text: &str) -> Result<crate::primitives::Uri, AcpError> {
    crate::primitives::Uri::parse(text)
        .map_err(|_| AcpError::processing_error("the simulated ACS URL is invalid"))
}

impl ThreeDsProvider for SimulatedThreeDs {
    fn create(
        &self,
        _ctx: &PspContext,
        request: &DelegateAuthenticationCreateRequest,
    ) -> impl Future<Output = Result<ThreeDsStep, AcpError>> + Send {
        let trans = new_id("3ds_");
        let wants_challenge = request.flow_preference.as_ref().is_some_and(|p| {
            p.kind == crate::spec::v2025_12_12::agentic_checkout::FlowType::Challenge
        }) || self
            .challenge_from
            .is_some_and(|from| request.amount.value >= from);
        let data = serde_json::json!({"trans": trans, "challenge": wants_challenge});
        let step = match self.create_status {
            AuthenticationSessionStatus::ActionRequired => {
                simulated_uri("https://acs.example/3dsmethod")
                    .map(|url| ThreeDsStep::fingerprint(FingerprintAction::new(url, trans)))
            }
            ref other => Ok(ThreeDsStep::new(other.clone())),
        };
        let step = step.map(|s| s.with_provider_data(data));
        async move { step }
    }

    fn authenticate(
        &self,
        _ctx: &PspContext,
        session: &AuthenticationState,
        request: &DelegateAuthenticationAuthenticateRequest,
    ) -> impl Future<Output = Result<ThreeDsStep, AcpError>> + Send {
        use crate::spec::latest::delegate_authentication::FingerprintCompletion;
        let trans = session.provider_data["trans"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let step = if session.provider_data["challenge"] == Value::Bool(true) {
            simulated_uri("https://acs.example/challenge").map(|url| {
                ThreeDsStep::challenge(ChallengeAction::new(url, new_id("acs_"), trans, "2.2.0"))
            })
        } else if request.fingerprint_completion == FingerprintCompletion::N {
            Ok(ThreeDsStep::new(AuthenticationSessionStatus::Attempted)
                .with_result(Self::result("A", &trans)))
        } else {
            Ok(ThreeDsStep::new(AuthenticationSessionStatus::Authenticated)
                .with_result(Self::result("Y", &trans)))
        };
        async move { step }
    }

    fn refresh(
        &self,
        _ctx: &PspContext,
        session: &AuthenticationState,
    ) -> impl Future<Output = Result<Option<ThreeDsStep>, AcpError>> + Send {
        let trans = session.provider_data["trans"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let step = ThreeDsStep::new(AuthenticationSessionStatus::Authenticated)
            .with_result(Self::result("Y", &trans));
        async move { Ok(Some(step)) }
    }
}

/// What the PSP engine reports for the operator (never sent to the caller).
pub trait PspEvents: Send + Sync {
    /// Something the operator should see. The default writes nothing.
    fn report(&self, event: &PspEvent<'_>) {
        let _ = event;
    }
}

/// One operator-facing event; see [`PspEvents`].
#[derive(Debug)]
#[non_exhaustive]
pub enum PspEvent<'a> {
    /// A charge outside the token's allowance: the **detailed** form (the allowance's
    /// values), for the operator only; the merchant got the public form.
    ChargeRefused {
        /// The charging merchant.
        merchant: &'a Identity,
        /// Every violated rule, with the expected and found values.
        violations: DetailedViolations<'a>,
    },
    /// A resource a provider returned was not stored or sent (a `500` went out instead).
    Refused {
        /// The resource id.
        id: &'a str,
        /// Why.
        reason: &'a str,
    },
    /// A storage or ledger operation failed.
    Storage {
        /// The error.
        error: &'a (dyn std::error::Error + Send + Sync),
    },
}

impl PspEvents for Silent {}

impl PspEvents for Stderr {
    fn report(&self, event: &PspEvent<'_>) {
        match event {
            PspEvent::ChargeRefused {
                merchant,
                violations,
            } => eprintln!("acp psp: charge by {merchant} refused: {violations}"),
            PspEvent::Refused { id, reason } => eprintln!("acp psp: refused {id}: {reason}"),
            PspEvent::Storage { error } => eprintln!("acp psp: storage: {error}"),
        }
    }
}

/// Why [`PspEngineBuilder::build`] failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PspEngineError {
    /// No version, or a version this crate does not model.
    #[error("unsupported API versions: {0}")]
    Versions(String),
}

/// Configures a [`PspEngine`].
pub struct PspEngineBuilder<V, D, S, L> {
    vault: V,
    three_ds: D,
    store: S,
    ledger: L,
    agents: Box<dyn Authenticator>,
    merchants: Box<dyn Authenticator>,
    versions: Vec<ApiVersion>,
    verifier: Option<Verifier>,
    strict: bool,
    max_body_bytes: usize,
    events: Box<dyn PspEvents>,
}

impl<V: Vault, D: ThreeDsProvider, S: ResourceStore, L: AsyncTokenLedger>
    PspEngineBuilder<V, D, S, L>
{
    /// Authenticates agents (`delegate_payment`, `delegate_authentication`). Default: none.
    #[must_use]
    pub fn agents(mut self, agents: impl Authenticator + 'static) -> Self {
        self.agents = Box::new(agents);
        self
    }

    /// Authenticates merchants (charges): each identity is a `merchant_id` (DP-10). Default:
    /// none.
    #[must_use]
    pub fn merchants(mut self, merchants: impl Authenticator + 'static) -> Self {
        self.merchants = Box::new(merchants);
        self
    }

    /// Serves these versions (default: every released one; `delegate_authentication` needs
    /// 2026-04-17).
    #[must_use]
    pub fn versions(mut self, versions: &[ApiVersion]) -> Self {
        self.versions = versions.to_vec();
        self
    }

    /// Verifies agents' request signatures (SIG-01, DA-14): every request with a body must be
    /// signed. Without one, signatures are not checked.
    #[must_use]
    pub fn verifier(mut self, verifier: Verifier) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// Requests must satisfy their version's schema exactly (unknown members are `400`).
    /// Default: strict (the delegate-payment and delegate-authentication objects are closed).
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
    pub fn events(mut self, events: impl PspEvents + 'static) -> Self {
        self.events = Box::new(events);
        self
    }

    /// The engine.
    ///
    /// # Errors
    /// [`PspEngineError::Versions`]: no or unknown versions.
    pub fn build(self) -> Result<PspEngine<V, D, S, L>, PspEngineError> {
        let mut versions = self.versions;
        versions.sort();
        versions.dedup();
        if versions.is_empty() {
            return Err(PspEngineError::Versions("none configured".to_owned()));
        }
        if let Some(unknown) = versions.iter().find(|v| !ApiVersion::RELEASED.contains(v)) {
            return Err(PspEngineError::Versions(unknown.to_string()));
        }
        Ok(PspEngine {
            vault: self.vault,
            three_ds: self.three_ds,
            store: self.store,
            ledger: self.ledger,
            agents: self.agents,
            merchants: self.merchants,
            versions,
            verifier: self.verifier,
            strict: self.strict,
            max_body_bytes: self.max_body_bytes,
            events: self.events,
        })
    }
}

/// Serves a PSP's ACP side; see the [module docs](self).
pub struct PspEngine<V, D, S, L> {
    vault: V,
    three_ds: D,
    store: S,
    ledger: L,
    agents: Box<dyn Authenticator>,
    merchants: Box<dyn Authenticator>,
    versions: Vec<ApiVersion>,
    verifier: Option<Verifier>,
    strict: bool,
    max_body_bytes: usize,
    events: Box<dyn PspEvents>,
}

impl<V, D, S, L> std::fmt::Debug for PspEngine<V, D, S, L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PspEngine")
            .field("versions", &self.versions)
            .field("signatures", &self.verifier.is_some())
            .field("strict", &self.strict)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl<V: Vault, D: ThreeDsProvider, S: ResourceStore, L: AsyncTokenLedger> PspEngine<V, D, S, L> {
    /// Starts configuring an engine over `vault`, `three_ds`, `store` (idempotency, tokens,
    /// authentication sessions) and `ledger` (single use, DP-11).
    pub fn builder(vault: V, three_ds: D, store: S, ledger: L) -> PspEngineBuilder<V, D, S, L> {
        PspEngineBuilder {
            vault,
            three_ds,
            store,
            ledger,
            agents: Box::new(BearerKeys::new()),
            merchants: Box::new(BearerKeys::new()),
            versions: ApiVersion::RELEASED.to_vec(),
            verifier: None,
            strict: true,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            events: Box::new(Stderr),
        }
    }

    /// The vault.
    pub fn vault(&self) -> &V {
        &self.vault
    }

    /// The 3-D Secure provider.
    pub fn three_ds(&self) -> &D {
        &self.three_ds
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The token ledger.
    pub fn ledger(&self) -> &L {
        &self.ledger
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
        Box::pin(pipeline::handle(self, parts, body, now)).await
    }
}

impl<V: Vault, D: ThreeDsProvider, S: ResourceStore, L: AsyncTokenLedger> super::HttpEngine
    for PspEngine<V, D, S, L>
{
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

/// A fresh unguessable id: `prefix` and 32 hexadecimal digits from the OS CSPRNG.
pub(crate) fn new_id(prefix: &str) -> String {
    let mut bytes = [0_u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // The OS CSPRNG practically never fails; the clock then keeps ids unique.
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        bytes = nanos.to_le_bytes();
    }
    format!("{prefix}{}", hex::encode(bytes))
}

/// The charge a merchant proposes, as the allowance check reads it.
pub(crate) fn proposed(merchant: &Identity, request: &ChargeRequest) -> ProposedCharge {
    ProposedCharge {
        amount: request.amount,
        currency: request.currency.clone(),
        checkout_session_id: request.checkout_session_id.clone(),
        merchant_id: merchant.as_str().to_owned(),
    }
}
