//! Paying a checkout session, from the agent's side: the payment handler to use, the card
//! delegated to the PSP with an allowance of exactly this session (DP-03..10), 3-D Secure
//! through `delegate_authentication` when the merchant asks for it (CHK-13, DA-01..06), and the
//! complete request that carries the token and the authentication result (CHK-14).

use std::collections::BTreeMap;
use std::fmt;

use agentic_commerce::Timestamp;
use agentic_commerce::primitives::Uri;
use agentic_commerce::spec::latest::agentic_checkout::{
    CheckoutSession, CheckoutSessionCompleteRequest, CheckoutStatus, PaymentCredential,
    PaymentData, PaymentHandler, PaymentInstrument,
};
use agentic_commerce::spec::latest::delegate_authentication::{
    AuthenticationPaymentMethod, Channel, DelegateAuthenticationCreateRequest,
    FingerprintCompletion,
};
use agentic_commerce::spec::latest::delegate_payment::{PaymentMethodCard, RiskSignal};
use serde::Deserialize;

use crate::client::AcpClient;
use crate::error::Error;
use crate::three_ds::{Authentication, allowance_for, authentication_request};

/// What the agent pays with: the buyer's card as the PSP vaults it, the agent's risk signals,
/// the `metadata` of the delegation, and what 3-D Secure needs when a merchant asks for it.
///
/// It deserializes from JSON (`{"card": …, "risk_signals": […], "metadata": {…},
/// "three_ds": {…}}`, each member in its 2026-04-17 wire form), so a wallet can be kept as a
/// file. `Debug` shows no card number or CVC.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct PaymentMethod {
    /// The card to delegate (`delegate_payment`'s `payment_method`).
    pub card: PaymentMethodCard,
    /// The agent's risk assessment of the buyer (DP-02: at least one).
    pub risk_signals: Vec<RiskSignal>,
    /// The delegation's `metadata` (string values).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// The buyer's browser or app for 3-D Secure; without it a session that asks for 3-D
    /// Secure cannot be paid ([`PaymentError::NoThreeDsChannel`]).
    #[serde(default)]
    pub three_ds: Option<ThreeDsChannel>,
}

impl PaymentMethod {
    /// A card with its risk signals, no metadata and no 3-D Secure channel.
    #[must_use]
    pub fn new(card: PaymentMethodCard, risk_signals: Vec<RiskSignal>) -> Self {
        Self {
            card,
            risk_signals,
            metadata: BTreeMap::new(),
            three_ds: None,
        }
    }

    /// The same, able to run 3-D Secure in `channel`.
    #[must_use]
    pub fn with_three_ds(mut self, channel: ThreeDsChannel) -> Self {
        self.three_ds = Some(channel);
        self
    }
}

/// Where 3-D Secure runs for the buyer: the card as the authentication provider wants it, the
/// buyer's browser or app, where the ACS posts a challenge's outcome (DA-12), and how the 3DS
/// Method ended in the browser (`Y` completed, `N` timed out after 10 s, DA-03).
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct ThreeDsChannel {
    /// The card (`delegate_authentication`'s `payment_method`).
    pub card: AuthenticationPaymentMethod,
    /// The buyer's browser or app.
    pub channel: Channel,
    /// Where the ACS posts the outcome of a challenge.
    pub challenge_notification_url: Uri,
    /// How the 3DS Method ended (default `Y`).
    #[serde(default = "fingerprint_completed")]
    pub fingerprint: FingerprintCompletion,
}

fn fingerprint_completed() -> FingerprintCompletion {
    FingerprintCompletion::Y
}

impl ThreeDsChannel {
    /// The channel, with a 3DS Method that completed (`Y`).
    #[must_use]
    pub fn new(
        card: AuthenticationPaymentMethod,
        channel: Channel,
        challenge_notification_url: Uri,
    ) -> Self {
        Self {
            card,
            channel,
            challenge_notification_url,
            fingerprint: FingerprintCompletion::Y,
        }
    }

    /// The `delegate_authentication` create request for `session` ([`authentication_request`]);
    /// `None` without `authentication_metadata` or `total`.
    #[must_use]
    pub fn request_for(
        &self,
        session: &CheckoutSession,
    ) -> Option<DelegateAuthenticationCreateRequest> {
        authentication_request(
            session,
            self.card.clone(),
            self.channel.clone(),
            self.challenge_notification_url.clone(),
        )
    }
}

/// A payment ready to complete: what [`AcpClient::prepare_payment`] did at the PSP, and the
/// complete request to send to the merchant.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PreparedPayment {
    /// The payment handler chosen.
    pub handler_id: String,
    /// The merchant the token is bound to (the handler's `config.merchant_id`).
    pub merchant_id: String,
    /// The delegated token's id (`vt_…`).
    pub token: String,
    /// The 3-D Secure run, when the session asked for one.
    pub authentication: Option<Authentication>,
    /// The complete request: the token in `payment_data` (with the `authentication_session_id`
    /// after 3-D Secure) and the `authentication_result` (CHK-14).
    pub request: CheckoutSessionCompleteRequest,
}

/// Why a session could not be paid. Nothing is sent to the merchant in any case.
#[derive(Debug)]
#[non_exhaustive]
pub enum PaymentError {
    /// The session is neither `ready_for_payment` nor `authentication_required`.
    NotPayable(CheckoutStatus),
    /// The session has no `total`, so no allowance can bound the token.
    NoTotal,
    /// No payment handler of the session takes a delegated token
    /// (`requires_delegate_payment`) with a `config.merchant_id`.
    NoHandler,
    /// The merchant asks for 3-D Secure and the payment method has no [`ThreeDsChannel`].
    NoThreeDsChannel,
    /// The merchant asks for 3-D Secure without `authentication_metadata` (CHK-13).
    NoAuthenticationMetadata,
    /// 3-D Secure ended without a result that allows paying (DA-05, DA-06).
    NotAuthorized(Box<Authentication>),
    /// A call to the PSP failed.
    Call(Error),
}

impl fmt::Display for PaymentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPayable(status) => write!(
                f,
                "the session is {}, not ready_for_payment or authentication_required",
                status.as_str()
            ),
            Self::NoTotal => f.write_str("the session has no total to bound the token to"),
            Self::NoHandler => f.write_str(
                "no payment handler of the session takes a delegated token with a merchant_id",
            ),
            Self::NoThreeDsChannel => f.write_str(
                "the merchant asks for 3-D Secure and the payment method has no channel for it",
            ),
            Self::NoAuthenticationMetadata => f.write_str(
                "the session asks for 3-D Secure without authentication_metadata (CHK-13)",
            ),
            Self::NotAuthorized(done) => write!(
                f,
                "3-D Secure ended {} (session {}): the payment must not go ahead (DA-05, DA-06)",
                done.status().as_str(),
                done.session_id()
            ),
            Self::Call(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for PaymentError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Call(e) => Some(e),
            _ => None,
        }
    }
}

impl From<Error> for PaymentError {
    fn from(e: Error) -> Self {
        Self::Call(e)
    }
}

/// The handler a delegated card pays `session` through: the merchant's preferred one
/// (`display_order`, then the order listed) among those that take a delegated token and name
/// the merchant (payment handlers: every handler config carries `merchant_id`).
#[must_use]
pub fn delegated_card_handler(session: &CheckoutSession) -> Option<(&PaymentHandler, &str)> {
    let handlers = session.capabilities.payment.as_ref()?.handlers.iter();
    let usable = handlers
        .filter(|h| h.requires_delegate_payment)
        .filter_map(|h| {
            let merchant = h.config.get("merchant_id")?.as_str()?;
            Some((h, merchant))
        });
    usable.min_by_key(|(h, _)| h.display_order.unwrap_or(i64::MAX))
}

impl AcpClient {
    /// Runs 3-D Secure at this client's host (an authentication provider) for `session`, an
    /// `authentication_required` checkout session, in `channel`: the request from the
    /// session's `authentication_metadata`, then [`authenticate_payment`](Self::authenticate_payment).
    ///
    /// # Errors
    ///
    /// [`PaymentError::NoAuthenticationMetadata`] (or [`PaymentError::NoTotal`]) when the
    /// session cannot say what to authenticate; [`PaymentError::Call`] when a call fails.
    pub async fn authenticate_session(
        &self,
        session: &CheckoutSession,
        channel: &ThreeDsChannel,
    ) -> Result<Authentication, PaymentError> {
        if session.authentication_metadata.is_none() {
            return Err(PaymentError::NoAuthenticationMetadata);
        }
        let request = channel.request_for(session).ok_or(PaymentError::NoTotal)?;
        Ok(self
            .authenticate_payment(&request, channel.fingerprint.clone())
            .await?)
    }

    /// Prepares the payment of `session` at this client's host (the PSP): delegates
    /// `method.card` with an allowance of exactly this session, its total, currency and
    /// merchant, until `expires_at` (DP-03..10); when the session is `authentication_required`,
    /// runs 3-D Secure ([`authenticate_session`](Self::authenticate_session)) and refuses to
    /// go on unless its result allows paying (DA-05, DA-06); and builds the complete request.
    /// The merchant is not called: send [`PreparedPayment::request`] with
    /// [`complete_checkout`](Self::complete_checkout).
    ///
    /// # Errors
    ///
    /// [`PaymentError`]: the session cannot be paid this way, 3-D Secure did not allow it, or a
    /// call to the PSP failed.
    pub async fn prepare_payment(
        &self,
        session: &CheckoutSession,
        method: &PaymentMethod,
        expires_at: Timestamp,
    ) -> Result<PreparedPayment, PaymentError> {
        let three_ds = match session.status {
            CheckoutStatus::ReadyForPayment => false,
            CheckoutStatus::AuthenticationRequired => true,
            ref other => return Err(PaymentError::NotPayable(other.clone())),
        };
        let (handler, merchant_id) =
            delegated_card_handler(session).ok_or(PaymentError::NoHandler)?;
        // 3-D Secure first: a refused authentication leaves no token behind.
        let authentication = if three_ds {
            let channel = method
                .three_ds
                .as_ref()
                .ok_or(PaymentError::NoThreeDsChannel)?;
            let done = self.authenticate_session(session, channel).await?;
            if !done.may_authorize() {
                return Err(PaymentError::NotAuthorized(Box::new(done)));
            }
            Some(done)
        } else {
            None
        };
        let allowance =
            allowance_for(session, merchant_id, expires_at).ok_or(PaymentError::NoTotal)?;
        let delegate =
            agentic_commerce::spec::latest::delegate_payment::DelegatePaymentRequest::new(
                method.card.clone(),
                allowance,
                method.risk_signals.clone(),
                method.metadata.clone(),
            );
        let token = self.delegate_payment(&delegate).await?.value.id;
        let mut credential = PaymentCredential::new("spt", token.as_str());
        if let Some(done) = &authentication {
            // The card handler's credential is open: the merchant looks the 3-D Secure result
            // up at the PSP by this id.
            credential.extra.insert(
                "authentication_session_id".to_owned(),
                done.session_id().into(),
            );
        }
        let mut payment = PaymentData::new();
        payment.handler_id = Some(handler.id.clone());
        payment.instrument = Some(PaymentInstrument::new("card", credential));
        let mut request = CheckoutSessionCompleteRequest::new(payment);
        request.authentication_result =
            authentication.as_ref().map(Authentication::checkout_result);
        Ok(PreparedPayment {
            handler_id: handler.id.as_str().to_owned(),
            merchant_id: merchant_id.to_owned(),
            token: token.as_str().to_owned(),
            authentication,
            request,
        })
    }
}
