//! What an agent derives from a checkout session to pay it: the allowance of its delegated
//! token (DP-03..10); for 3-D Secure, the `delegate_authentication` request (CHK-13), the
//! create → authenticate → retrieve run at the authentication provider (DA-01..06), and the
//! checkout's `authentication_result` from its outcome (CHK-14).

use agentic_commerce::primitives::Uri;
use agentic_commerce::spec::latest::agentic_checkout::{
    AuthenticationOutcome, AuthenticationOutcomeDetails, AuthenticationResult, CheckoutSession,
    TotalType,
};
use agentic_commerce::spec::latest::delegate_authentication::{
    AuthenticationAmount, AuthenticationPaymentMethod, AuthenticationSessionStatus, Channel,
    DelegateAuthenticationAuthenticateRequest, DelegateAuthenticationCreateRequest,
    DelegateAuthenticationSession, DelegateAuthenticationSessionWithResult, FingerprintCompletion,
    FlowPreference,
};

use agentic_commerce::Timestamp;
use agentic_commerce::spec::latest::delegate_payment::{Allowance, AllowanceReason};

use crate::client::AcpClient;
use crate::error::Error;

/// The session's `total` (minor units).
fn total(session: &CheckoutSession) -> Option<agentic_commerce::Amount> {
    session
        .totals
        .iter()
        .find(|t| t.kind == TotalType::Total)
        .map(|t| t.amount)
}

/// The allowance of a delegated token that pays `session` and nothing else (DP-03..10): one
/// use, at most the session's `total`, in its currency, bound to the session and to
/// `merchant_id`, until `expires_at`. `None` when the session has no `total`.
#[must_use]
pub fn allowance_for(
    session: &CheckoutSession,
    merchant_id: &str,
    expires_at: Timestamp,
) -> Option<Allowance> {
    Some(Allowance::new(
        AllowanceReason::OneTime,
        total(session)?,
        session.currency.clone(),
        session.id.clone(),
        merchant_id,
        expires_at,
    ))
}

/// The `delegate_authentication` create request for `session`, an `authentication_required`
/// checkout session: its `authentication_metadata` (CHK-13) gives the merchant (the acquirer's
/// merchant id), the acquirer details and the flow preference; its `total` and currency the
/// amount (in the upper case delegate authentication writes); its id the `checkout_session_id`, which the merchant checks the result against.
/// `channel` (the buyer's browser or app) and `challenge_notification_url` (where the ACS
/// posts a challenge's outcome) are the agent's: a provider wants both on create or on
/// authenticate (DA-12). `shopper_details` is left for the caller.
///
/// `None` when the session carries no `authentication_metadata` or no `total`.
#[must_use]
pub fn authentication_request(
    session: &CheckoutSession,
    payment_method: AuthenticationPaymentMethod,
    channel: Channel,
    challenge_notification_url: Uri,
) -> Option<DelegateAuthenticationCreateRequest> {
    let metadata = session.authentication_metadata.as_ref()?;
    let total = total(session)?;
    // Checkout writes `usd`, delegate authentication `USD` (`^[A-Z]{3}$`).
    let amount = AuthenticationAmount::new(total.0, session.currency.to_uppercase());
    let details = &metadata.acquirer_details;
    let mut request = DelegateAuthenticationCreateRequest::new(
        details.acquirer_merchant_id.as_str(),
        payment_method,
        amount,
    );
    request.acquirer_details = Some(details.clone());
    request.checkout_session_id = Some(session.id.clone());
    request.channel = Some(channel);
    request.challenge_notification_url = Some(challenge_notification_url);
    // The checkout's and the provider's flow preference are the same JSON object under two
    // schema names; a preference this crate cannot carry over is left out (it is optional).
    request.flow_preference = metadata
        .flow_preference
        .as_ref()
        .and_then(|p| serde_json::to_value(p).ok())
        .and_then(|v| serde_json::from_value::<FlowPreference>(v).ok());
    Some(request)
}

/// A finished [`AcpClient::authenticate_payment`] run.
#[derive(Debug, Clone)]
pub struct Authentication {
    /// The session as created (its first action, e.g. the 3DS Method URL of a fingerprint).
    pub created: DelegateAuthenticationSession,
    /// The answer to `authenticate`, when the created session called for it (DA-02).
    pub authenticated: Option<DelegateAuthenticationSession>,
    /// The session as retrieved last, with its result once final (DA-04, DA-06).
    pub result: DelegateAuthenticationSessionWithResult,
}

impl Authentication {
    /// The `authentication_session_id` (DA-01): the merchant's handler may want it in the
    /// payment credential to look the result up at the provider.
    #[must_use]
    pub fn session_id(&self) -> &str {
        self.result.authentication_session_id.as_str()
    }

    /// The final status (`authenticated`, `attempted`, `not_authenticated`, `rejected`, …).
    #[must_use]
    pub fn status(&self) -> &AuthenticationSessionStatus {
        &self.result.status
    }

    /// Whether a payment may go ahead (DA-05, DA-06): `authenticated`, or `attempted` (a MAY
    /// this crate takes).
    #[must_use]
    pub fn may_authorize(&self) -> bool {
        matches!(
            self.result.status,
            AuthenticationSessionStatus::Authenticated | AuthenticationSessionStatus::Attempted
        )
    }

    /// The checkout's `authentication_result`, sent on complete whatever the outcome (CHK-14):
    /// the outcome the provider's status maps to, with the provider's cryptogram, ECI,
    /// transaction id and version when its result has all four.
    #[must_use]
    pub fn checkout_result(&self) -> AuthenticationResult {
        use AuthenticationSessionStatus as S;
        let outcome = match &self.result.status {
            S::Authenticated => AuthenticationOutcome::Authenticated,
            S::Attempted => AuthenticationOutcome::AttemptAcknowledged,
            S::NotAuthenticated => AuthenticationOutcome::Denied,
            S::Rejected => AuthenticationOutcome::Rejected,
            S::NotSupported => AuthenticationOutcome::NotSupported,
            S::ChallengeAbandoned | S::Expired => AuthenticationOutcome::Abandoned,
            _ => AuthenticationOutcome::ProcessingError,
        };
        let mut result = AuthenticationResult::new(outcome);
        result.outcome_details = self.result.authentication_result.as_ref().and_then(|r| {
            Some(AuthenticationOutcomeDetails::new(
                r.three_ds_cryptogram.clone()?,
                r.electronic_commerce_indicator.as_deref()?.into(),
                r.transaction_id.as_str(),
                r.version.as_str(),
            ))
        });
        result
    }
}

impl AcpClient {
    /// Runs 3-D Secure at an authentication provider (this client's host) for `request`:
    /// create (DA-01); then, as DA-02 says, authenticate with `fingerprint` after a
    /// fingerprint action (the outcome of the 3DS Method the buyer's browser ran: `Y` when it
    /// completed, `N` after the 10 s timeout, DA-03) or with `U` when the session is
    /// `pending`; then retrieve the session with its result (DA-04). Any other created status
    /// (`not_supported`, or one already final) is retrieved as is.
    ///
    /// A challenge (an `action_required` answer to authenticate with a `challenge` action)
    /// happens in the buyer's browser at its `acs_url`; this runs no browser, so the session
    /// retrieved right after may still be waiting for it: check [`Authentication::status`]
    /// and retrieve again with [`retrieve_delegate_authentication`](Self::retrieve_delegate_authentication).
    /// Whether to pay is the caller's decision ([`Authentication::may_authorize`], DA-05,
    /// DA-06); the result goes on complete either way ([`Authentication::checkout_result`],
    /// CHK-14).
    ///
    /// # Errors
    ///
    /// The first of the three calls that fails.
    pub async fn authenticate_payment(
        &self,
        request: &DelegateAuthenticationCreateRequest,
        fingerprint: FingerprintCompletion,
    ) -> Result<Authentication, Error> {
        let created = self.create_delegate_authentication(request).await?.value;
        let id = created.authentication_session_id.as_str().to_owned();
        let completion = match &created.status {
            AuthenticationSessionStatus::ActionRequired
                if created
                    .action
                    .as_ref()
                    .is_some_and(|a| a.fingerprint.is_some()) =>
            {
                Some(fingerprint)
            }
            AuthenticationSessionStatus::Pending => Some(FingerprintCompletion::U),
            _ => None,
        };
        let authenticated = match completion {
            Some(completion) => {
                let mut step = DelegateAuthenticationAuthenticateRequest::new(completion);
                step.checkout_session_id
                    .clone_from(&request.checkout_session_id);
                Some(
                    self.authenticate_delegate_authentication(&id, &step)
                        .await?
                        .value,
                )
            }
            None => None,
        };
        let result = self.retrieve_delegate_authentication(&id).await?.value;
        Ok(Authentication {
            created,
            authenticated,
            result,
        })
    }
}
