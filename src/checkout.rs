//! The checkout session state machine (CHK-05, CHK-12, CHK-15, CHK-16, CHK-17). The session +
//! request cross-checks (CHK-06, CHK-11, CHK-13, CHK-21) are in [`crate::rules::requests`].
//!
//! [`transition`] is a pure function over the current [`CheckoutStatus`] and an [`Event`]. It
//! enforces what the spec states and asks a [`TransitionPolicy`] only where the spec is silent.
//!
//! # What the spec fixes (enforced before and regardless of the policy)
//!
//! | Rule | Situation | Result |
//! |---|---|---|
//! | CHK-05 | an unknown status (kept by the open enum) | [`TransitionError::UnknownStatus`] |
//! | AC §4.3 | [`Event::Retrieve`] in any status | the same status |
//! | CHK-17 | [`Event::Cancel`] of `completed` or `canceled` | [`TransitionError::CancelNotAllowed`] (405) |
//! | — | any other event in a terminal status (`completed`, `canceled`, `expired`) | [`TransitionError::Terminal`] |
//! | CHK-15 | [`Event::Complete`] in `authentication_required` without `authentication_result` | [`TransitionError::AuthenticationResultRequired`] (400 `requires_3ds`, param `$.authentication_result`) |
//! | CHK-16 | [`Event::Cancel`] of `not_ready_for_payment`, `ready_for_payment`, `authentication_required`, `in_progress` (the statuses the RFC documents) | `canceled` |
//! | CHK-12 | [`Event::AuthenticationRequired`] in any non-terminal status | `authentication_required` |
//!
//! Terminal statuses are terminal whatever the policy says: the policy is never asked about
//! them, and a policy answer that is itself unknown is rejected
//! ([`TransitionError::PolicyReturnedUnknown`]).
//!
//! # The default policy ([`DefaultPolicy`]; the checkout RFC is silent on it)
//!
//! `Update { ready }` means "the merchant applied the update and the session is (not) ready for
//! payment". The payment outcomes are the merchant's (or its PSP's) answers after a complete.
//!
//! | From | `Update{ready}` | `Complete` | `Cancel` | `PaymentAuthorized` / `CompletionSettled` | `PaymentDeclined` | `ApprovalRequired` | `Escalated` | `Expire` |
//! |---|---|---|---|---|---|---|---|---|
//! | `incomplete` | ready → `ready_for_payment`, else stays | refused | `canceled` | refused | refused | refused | `requires_escalation` | `expired` |
//! | `not_ready_for_payment` | ready → `ready_for_payment`, else stays | refused | (spec) | refused | refused | refused | `requires_escalation` | `expired` |
//! | `ready_for_payment` | ready → stays, else `not_ready_for_payment` | `complete_in_progress` | (spec) | refused | refused | refused | `requires_escalation` | `expired` |
//! | `authentication_required` | ready → `ready_for_payment`, else `not_ready_for_payment` | with result → `complete_in_progress` | (spec) | refused | `ready_for_payment` | refused | `requires_escalation` | `expired` |
//! | `requires_escalation` | ready → `ready_for_payment`, else `not_ready_for_payment` | refused | `canceled` | refused | refused | refused | stays | `expired` |
//! | `pending_approval` | refused | refused | `canceled` | `completed` | `ready_for_payment` | stays | `requires_escalation` | `expired` |
//! | `complete_in_progress`, `in_progress` | refused | refused | `canceled` (`in_progress`: spec) | `completed` | `ready_for_payment` | `pending_approval` | `requires_escalation` | refused |
//!
//! Why: a declined payment leaves the session payable again (the official payment-declined
//! example stays `ready_for_payment` with a message); expiry is refused while a payment is being
//! processed so a charge cannot race the expiry; `in_progress` (the 2025 name of the
//! processing state) behaves as `complete_in_progress`.
//!
//! Override it by implementing [`TransitionPolicy`] (delegate to [`DefaultPolicy`] for the cases
//! you keep).
//!
//! # Example
//!
//! ```
//! use agentic_commerce::checkout::{transition, Event};
//! use agentic_commerce::spec::latest::agentic_checkout::CheckoutStatus;
//!
//! let next = transition(&CheckoutStatus::ReadyForPayment, Event::Complete {
//!     has_authentication_result: false,
//! });
//! assert_eq!(next, Ok(CheckoutStatus::CompleteInProgress));
//!
//! // CHK-17: cancel of a completed session is a 405.
//! let refused = transition(&CheckoutStatus::Completed, Event::Cancel).unwrap_err();
//! assert_eq!(refused.to_acp_error().status(), 405);
//! ```

use core::fmt;

use crate::protocol::error::{AcpError, codes};
use crate::spec::latest::agentic_checkout::CheckoutStatus;

/// Something that happens to a checkout session.
///
/// Non-exhaustive: a later spec version may add events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Event {
    /// `POST /checkout_sessions/{id}`: the merchant applied the update; `ready` says whether the
    /// session now has everything needed for payment.
    Update {
        /// Whether the session is ready for payment after the update.
        ready: bool,
    },
    /// `POST /checkout_sessions/{id}/complete`.
    Complete {
        /// Whether the request carries `authentication_result` (CHK-14, CHK-15).
        has_authentication_result: bool,
    },
    /// `POST /checkout_sessions/{id}/cancel`.
    Cancel,
    /// Merchant-side: the payment was authorized and the order created.
    PaymentAuthorized,
    /// Merchant-side: the payment was declined (or authentication failed).
    PaymentDeclined,
    /// Merchant-side: the issuer requires 3DS authentication (CHK-12).
    AuthenticationRequired,
    /// Merchant-side: the order needs approval (B2B `approval_required`).
    ApprovalRequired,
    /// Merchant-side: the session needs human review.
    Escalated,
    /// Merchant-side: an asynchronous completion or approval finished successfully.
    CompletionSettled,
    /// Merchant-side: the session reached `expires_at`.
    Expire,
    /// `GET /checkout_sessions/{id}`.
    Retrieve,
}

impl Event {
    /// Every event (both `Update` and both `Complete` variants), for exhaustive tests.
    pub const ALL: &'static [Self] = &[
        Self::Update { ready: true },
        Self::Update { ready: false },
        Self::Complete {
            has_authentication_result: true,
        },
        Self::Complete {
            has_authentication_result: false,
        },
        Self::Cancel,
        Self::PaymentAuthorized,
        Self::PaymentDeclined,
        Self::AuthenticationRequired,
        Self::ApprovalRequired,
        Self::Escalated,
        Self::CompletionSettled,
        Self::Expire,
        Self::Retrieve,
    ];

    /// Whether the event is an agent's HTTP/MCP request (as opposed to a merchant-side outcome).
    pub const fn is_client_request(self) -> bool {
        matches!(
            self,
            Self::Update { .. } | Self::Complete { .. } | Self::Cancel | Self::Retrieve
        )
    }

    /// A short name: `update`, `complete`, `cancel`, `payment_authorized` …
    pub const fn name(self) -> &'static str {
        match self {
            Self::Update { .. } => "update",
            Self::Complete { .. } => "complete",
            Self::Cancel => "cancel",
            Self::PaymentAuthorized => "payment_authorized",
            Self::PaymentDeclined => "payment_declined",
            Self::AuthenticationRequired => "authentication_required",
            Self::ApprovalRequired => "approval_required",
            Self::Escalated => "escalated",
            Self::CompletionSettled => "completion_settled",
            Self::Expire => "expire",
            Self::Retrieve => "retrieve",
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a transition is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransitionError {
    /// The current status is not one of the 11 of 2026-04-17 (CHK-05).
    #[error("unknown checkout status {0:?}")]
    UnknownStatus(String),
    /// Cancel of a `completed` or `canceled` session (CHK-17): 405.
    #[error("a {status} checkout session cannot be canceled")]
    CancelNotAllowed {
        /// `completed` or `canceled`.
        status: CheckoutStatus,
    },
    /// Any other event in a terminal status (`completed`, `canceled`, `expired`).
    #[error("a {status} checkout session does not accept {event}")]
    Terminal {
        /// The terminal status.
        status: CheckoutStatus,
        /// The refused event.
        event: Event,
    },
    /// Complete in `authentication_required` without `authentication_result` (CHK-15).
    #[error("complete in authentication_required needs authentication_result")]
    AuthenticationResultRequired,
    /// The policy does not allow this event in this (non-terminal) status.
    #[error("the {event} event is not allowed in status {status}")]
    NotAllowed {
        /// The current status.
        status: CheckoutStatus,
        /// The refused event.
        event: Event,
    },
    /// The policy answered with a status outside the 11 known ones.
    #[error("the transition policy returned the unknown status {0:?}")]
    PolicyReturnedUnknown(String),
    /// A status (the current one, or the one the transition leads to) that the
    /// API version the session is served in does not define (CHK-05: older
    /// versions have fewer statuses, see [`crate::protocol::version::convert::statuses`]).
    #[error("the status {status:?} does not exist in API version {version}")]
    NotInVersion {
        /// The status.
        status: String,
        /// The API version.
        version: String,
    },
    /// An API version this crate has no models for.
    #[error("API version {0} is not a released version this crate models")]
    UnsupportedVersion(String),
}

impl TransitionError {
    /// The ACP error to send.
    ///
    /// | Error | Status, code |
    /// |---|---|
    /// | `CancelNotAllowed` (CHK-17) | 405 `method_not_allowed` |
    /// | `Terminal` in `expired`, client request | 405 `expired` ([`AcpError::session_expired`]) |
    /// | `Terminal`, client request | 405 `method_not_allowed` |
    /// | `AuthenticationResultRequired` (CHK-15) | 400 `requires_3ds`, param `$.authentication_result` |
    /// | `NotAllowed`, client request | 422 `invalid_state` |
    /// | merchant-side event refused, unknown status, bad policy answer, a status the version lacks, an unmodelled version | 500 `processing_error` (a server bug, not the client's) |
    pub fn to_acp_error(&self) -> AcpError {
        match self {
            Self::CancelNotAllowed { status } => AcpError::cancel_not_allowed(status),
            Self::Terminal {
                status: CheckoutStatus::Expired,
                event,
            } if event.is_client_request() => AcpError::session_expired(),
            Self::Terminal { status, event } if event.is_client_request() => {
                AcpError::method_not_allowed(format!(
                    "The checkout session is {status} and does not accept {event}"
                ))
            }
            Self::AuthenticationResultRequired => AcpError::requires_3ds(),
            Self::NotAllowed { status, event } if event.is_client_request() => {
                AcpError::unprocessable(
                    codes::INVALID_STATE,
                    format!("The checkout session is {status} and does not accept {event}"),
                )
            }
            Self::Terminal { .. }
            | Self::NotAllowed { .. }
            | Self::UnknownStatus(_)
            | Self::PolicyReturnedUnknown(_)
            | Self::NotInVersion { .. }
            | Self::UnsupportedVersion(_) => {
                AcpError::processing_error("The checkout session could not be processed")
            }
        }
    }
}

impl From<&TransitionError> for AcpError {
    fn from(e: &TransitionError) -> Self {
        e.to_acp_error()
    }
}

impl From<TransitionError> for AcpError {
    fn from(e: TransitionError) -> Self {
        e.to_acp_error()
    }
}

/// Decides the transitions the spec leaves open. Never asked about terminal statuses or the
/// cases the spec fixes (see the [module docs](self)).
pub trait TransitionPolicy {
    /// The next status for `event` in the non-terminal, known status `from`, or `None` to
    /// refuse ([`TransitionError::NotAllowed`]).
    fn next(&self, from: &CheckoutStatus, event: Event) -> Option<CheckoutStatus>;

    /// The status of a newly created session (CHK-01): `ready_for_payment` when `ready`,
    /// otherwise `not_ready_for_payment`.
    fn initial(&self, ready: bool) -> CheckoutStatus {
        if ready {
            CheckoutStatus::ReadyForPayment
        } else {
            CheckoutStatus::NotReadyForPayment
        }
    }
}

/// The documented default [`TransitionPolicy`] (table in the [module docs](self)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DefaultPolicy;

impl TransitionPolicy for DefaultPolicy {
    #[allow(clippy::too_many_lines)]
    fn next(&self, from: &CheckoutStatus, event: Event) -> Option<CheckoutStatus> {
        use CheckoutStatus as S;
        use Event as E;
        let readiness = |ready: bool, otherwise: CheckoutStatus| {
            if ready { S::ReadyForPayment } else { otherwise }
        };
        match from {
            S::Incomplete => match event {
                E::Update { ready } => Some(readiness(ready, S::Incomplete)),
                E::Cancel => Some(S::Canceled),
                E::Escalated => Some(S::RequiresEscalation),
                E::Expire => Some(S::Expired),
                E::Retrieve => Some(S::Incomplete),
                E::AuthenticationRequired => Some(S::AuthenticationRequired),
                E::Complete { .. }
                | E::PaymentAuthorized
                | E::PaymentDeclined
                | E::ApprovalRequired
                | E::CompletionSettled => None,
            },
            S::NotReadyForPayment => match event {
                E::Update { ready } => Some(readiness(ready, S::NotReadyForPayment)),
                E::Cancel => Some(S::Canceled),
                E::Escalated => Some(S::RequiresEscalation),
                E::Expire => Some(S::Expired),
                E::Retrieve => Some(S::NotReadyForPayment),
                E::AuthenticationRequired => Some(S::AuthenticationRequired),
                E::Complete { .. }
                | E::PaymentAuthorized
                | E::PaymentDeclined
                | E::ApprovalRequired
                | E::CompletionSettled => None,
            },
            S::ReadyForPayment => match event {
                E::Update { ready } => Some(readiness(ready, S::NotReadyForPayment)),
                E::Complete { .. } => Some(S::CompleteInProgress),
                E::Cancel => Some(S::Canceled),
                E::Escalated => Some(S::RequiresEscalation),
                E::Expire => Some(S::Expired),
                E::Retrieve => Some(S::ReadyForPayment),
                E::AuthenticationRequired => Some(S::AuthenticationRequired),
                E::PaymentAuthorized
                | E::PaymentDeclined
                | E::ApprovalRequired
                | E::CompletionSettled => None,
            },
            S::AuthenticationRequired => match event {
                E::Update { ready } => Some(readiness(ready, S::NotReadyForPayment)),
                E::Complete {
                    has_authentication_result: true,
                } => Some(S::CompleteInProgress),
                E::Cancel => Some(S::Canceled),
                E::PaymentDeclined => Some(S::ReadyForPayment),
                E::Escalated => Some(S::RequiresEscalation),
                E::Expire => Some(S::Expired),
                E::Retrieve | E::AuthenticationRequired => Some(S::AuthenticationRequired),
                // Without a result the spec answers (CHK-15) before the policy is asked.
                E::Complete {
                    has_authentication_result: false,
                }
                | E::PaymentAuthorized
                | E::ApprovalRequired
                | E::CompletionSettled => None,
            },
            S::RequiresEscalation => match event {
                E::Update { ready } => Some(readiness(ready, S::NotReadyForPayment)),
                E::Cancel => Some(S::Canceled),
                E::Expire => Some(S::Expired),
                E::Retrieve | E::Escalated => Some(S::RequiresEscalation),
                E::AuthenticationRequired => Some(S::AuthenticationRequired),
                E::Complete { .. }
                | E::PaymentAuthorized
                | E::PaymentDeclined
                | E::ApprovalRequired
                | E::CompletionSettled => None,
            },
            S::PendingApproval => match event {
                E::Cancel => Some(S::Canceled),
                E::PaymentAuthorized | E::CompletionSettled => Some(S::Completed),
                E::PaymentDeclined => Some(S::ReadyForPayment),
                E::Escalated => Some(S::RequiresEscalation),
                E::Expire => Some(S::Expired),
                E::Retrieve | E::ApprovalRequired => Some(S::PendingApproval),
                E::AuthenticationRequired => Some(S::AuthenticationRequired),
                E::Update { .. } | E::Complete { .. } => None,
            },
            S::CompleteInProgress | S::InProgress => match event {
                E::Cancel => Some(S::Canceled),
                E::PaymentAuthorized | E::CompletionSettled => Some(S::Completed),
                E::PaymentDeclined => Some(S::ReadyForPayment),
                E::ApprovalRequired => Some(S::PendingApproval),
                E::Escalated => Some(S::RequiresEscalation),
                E::AuthenticationRequired => Some(S::AuthenticationRequired),
                E::Retrieve => Some(from.clone()),
                E::Update { .. } | E::Complete { .. } | E::Expire => None,
            },
            // Never asked (terminal or unknown); answering "stay" keeps the function total.
            S::Completed | S::Canceled | S::Expired | S::_Custom(_) => None,
        }
    }
}

/// Whether `status` is terminal: `completed`, `canceled` or `expired`.
///
/// # Errors
/// [`TransitionError::UnknownStatus`] for a status outside the 11 of 2026-04-17 (CHK-05).
pub fn is_terminal(status: &CheckoutStatus) -> Result<bool, TransitionError> {
    use CheckoutStatus as S;
    match status {
        S::Completed | S::Canceled | S::Expired => Ok(true),
        S::Incomplete
        | S::NotReadyForPayment
        | S::RequiresEscalation
        | S::AuthenticationRequired
        | S::ReadyForPayment
        | S::PendingApproval
        | S::CompleteInProgress
        | S::InProgress => Ok(false),
        S::_Custom(_) => Err(TransitionError::UnknownStatus(status.as_str().to_owned())),
    }
}

/// Whether the RFC documents cancel for `status` (CHK-16): the statuses of AC §4.1/§8.
fn cancel_is_specified(status: &CheckoutStatus) -> bool {
    use CheckoutStatus as S;
    match status {
        S::NotReadyForPayment | S::ReadyForPayment | S::AuthenticationRequired | S::InProgress => {
            true
        }
        S::Incomplete
        | S::RequiresEscalation
        | S::PendingApproval
        | S::CompleteInProgress
        | S::Completed
        | S::Canceled
        | S::Expired
        | S::_Custom(_) => false,
    }
}

/// The status after `event` in `from`, with the [`DefaultPolicy`].
///
/// # Errors
/// See [`transition_with`].
pub fn transition(from: &CheckoutStatus, event: Event) -> Result<CheckoutStatus, TransitionError> {
    transition_with(&DefaultPolicy, from, event)
}

/// The status after `event` in `from`: the spec's rules first, then `policy` (see the
/// [module docs](self)).
///
/// # Errors
/// [`TransitionError`]; convert it with [`TransitionError::to_acp_error`].
pub fn transition_with<P: TransitionPolicy + ?Sized>(
    policy: &P,
    from: &CheckoutStatus,
    event: Event,
) -> Result<CheckoutStatus, TransitionError> {
    let terminal = is_terminal(from)?;
    if event == Event::Retrieve {
        return Ok(from.clone());
    }
    if terminal {
        return Err(
            if event == Event::Cancel
                && matches!(from, CheckoutStatus::Completed | CheckoutStatus::Canceled)
            {
                TransitionError::CancelNotAllowed {
                    status: from.clone(),
                }
            } else {
                TransitionError::Terminal {
                    status: from.clone(),
                    event,
                }
            },
        );
    }
    match event {
        Event::Complete {
            has_authentication_result: false,
        } if *from == CheckoutStatus::AuthenticationRequired => {
            return Err(TransitionError::AuthenticationResultRequired);
        }
        Event::Cancel if cancel_is_specified(from) => return Ok(CheckoutStatus::Canceled),
        Event::AuthenticationRequired => return Ok(CheckoutStatus::AuthenticationRequired),
        _ => {}
    }
    let next = policy
        .next(from, event)
        .ok_or_else(|| TransitionError::NotAllowed {
            status: from.clone(),
            event,
        })?;
    if next.is_known() {
        Ok(next)
    } else {
        Err(TransitionError::PolicyReturnedUnknown(
            next.as_str().to_owned(),
        ))
    }
}

/// [`transition`] for a session served in API `version` (CHK-05: each
/// version has its own status set, [`crate::protocol::version::convert::statuses`]).
///
/// The default policy's processing status `complete_in_progress` is named
/// `in_progress` in the versions before 2026-01-30, which have no
/// `complete_in_progress` (the module docs: `in_progress` behaves as
/// `complete_in_progress`). Any other status the version lacks is an error:
/// `incomplete`, `requires_escalation`, `pending_approval` and `expired`
/// (2026-01-30) and `authentication_required` (2025-12-12) cannot be entered
/// in older versions.
///
/// ```
/// use agentic_commerce::checkout::{transition_in, Event, TransitionError};
/// use agentic_commerce::spec::latest::agentic_checkout::CheckoutStatus;
/// use agentic_commerce::protocol::version::ApiVersion;
///
/// let old = ApiVersion::V2025_09_29;
/// let complete = Event::Complete { has_authentication_result: false };
/// assert_eq!(
///     transition_in(&old, &CheckoutStatus::ReadyForPayment, complete),
///     Ok(CheckoutStatus::InProgress)
/// );
/// assert!(matches!(
///     transition_in(&old, &CheckoutStatus::ReadyForPayment, Event::Expire),
///     Err(TransitionError::NotInVersion { .. })
/// ));
/// ```
///
/// # Errors
/// [`TransitionError::UnsupportedVersion`], [`TransitionError::NotInVersion`]
/// for a current or resulting status the version lacks, and every error of
/// [`transition_with`].
pub fn transition_in(
    version: &crate::protocol::version::ApiVersion,
    from: &CheckoutStatus,
    event: Event,
) -> Result<CheckoutStatus, TransitionError> {
    let known = version_statuses(version)?;
    let next = match in_version(version, known, from).and_then(|()| transition(from, event)) {
        Ok(CheckoutStatus::CompleteInProgress)
            if !known.contains(&"complete_in_progress") && known.contains(&"in_progress") =>
        {
            CheckoutStatus::InProgress
        }
        other => other?,
    };
    in_version(version, known, &next)?;
    Ok(next)
}

/// [`transition_with`] for a session served in API `version`: the current
/// status and the policy's answer must both exist in that version (CHK-05);
/// nothing is renamed.
///
/// # Errors
/// As [`transition_in`].
pub fn transition_in_with<P: TransitionPolicy + ?Sized>(
    version: &crate::protocol::version::ApiVersion,
    policy: &P,
    from: &CheckoutStatus,
    event: Event,
) -> Result<CheckoutStatus, TransitionError> {
    let known = version_statuses(version)?;
    in_version(version, known, from)?;
    let next = transition_with(policy, from, event)?;
    in_version(version, known, &next)?;
    Ok(next)
}

fn version_statuses(
    version: &crate::protocol::version::ApiVersion,
) -> Result<&'static [&'static str], TransitionError> {
    crate::protocol::version::convert::statuses(version)
        .ok_or_else(|| TransitionError::UnsupportedVersion(version.to_string()))
}

fn in_version(
    version: &crate::protocol::version::ApiVersion,
    known: &[&str],
    status: &CheckoutStatus,
) -> Result<(), TransitionError> {
    if known.contains(&status.as_str()) {
        Ok(())
    } else {
        Err(TransitionError::NotInVersion {
            status: status.as_str().to_owned(),
            version: version.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use CheckoutStatus as S;

    #[test]
    fn chk_05_unknown_status_is_an_error() {
        let custom = S::from("on_hold");
        assert_eq!(
            transition(&custom, Event::Retrieve),
            Err(TransitionError::UnknownStatus("on_hold".into()))
        );
        assert_eq!(
            TransitionError::UnknownStatus("x".into())
                .to_acp_error()
                .status(),
            500
        );
    }

    #[test]
    fn chk_17_cancel_of_completed_or_canceled_is_405() {
        for s in [S::Completed, S::Canceled] {
            let e = transition(&s, Event::Cancel).unwrap_err();
            assert_eq!(e, TransitionError::CancelNotAllowed { status: s.clone() });
            let acp = e.to_acp_error();
            assert_eq!((acp.status(), acp.code()), (405, "method_not_allowed"));
        }
    }

    #[test]
    fn chk_15_complete_without_result_is_requires_3ds() {
        let e = transition(
            &S::AuthenticationRequired,
            Event::Complete {
                has_authentication_result: false,
            },
        )
        .unwrap_err();
        let acp = e.to_acp_error();
        assert_eq!(acp.code(), "requires_3ds");
        assert_eq!(acp.param(), Some("$.authentication_result"));
        assert!((400..500).contains(&acp.status()));
    }

    /// A policy that refuses everything: the spec-fixed rules still apply.
    struct Nothing;
    impl TransitionPolicy for Nothing {
        fn next(&self, _: &CheckoutStatus, _: Event) -> Option<CheckoutStatus> {
            None
        }
    }

    /// A policy that tries to escape terminal states and answers unknown statuses.
    struct Rogue;
    impl TransitionPolicy for Rogue {
        fn next(&self, from: &CheckoutStatus, _: Event) -> Option<CheckoutStatus> {
            if *from == S::Incomplete {
                Some(S::from("weird"))
            } else {
                Some(S::ReadyForPayment)
            }
        }
    }

    #[test]
    fn chk_16_spec_cancel_and_chk_12_do_not_depend_on_policy() {
        for s in [
            S::NotReadyForPayment,
            S::ReadyForPayment,
            S::AuthenticationRequired,
            S::InProgress,
        ] {
            assert_eq!(
                transition_with(&Nothing, &s, Event::Cancel),
                Ok(S::Canceled)
            );
            assert_eq!(
                transition_with(&Nothing, &s, Event::AuthenticationRequired),
                Ok(S::AuthenticationRequired)
            );
        }
        assert_eq!(
            transition_with(&Nothing, &S::Incomplete, Event::Cancel),
            Err(TransitionError::NotAllowed {
                status: S::Incomplete,
                event: Event::Cancel
            })
        );
    }

    #[test]
    fn terminal_states_ignore_the_policy() {
        for s in [S::Completed, S::Canceled, S::Expired] {
            for &e in Event::ALL {
                let r = transition_with(&Rogue, &s, e);
                if e == Event::Retrieve {
                    assert_eq!(r, Ok(s.clone()));
                } else {
                    assert!(r.is_err(), "{s} {e}");
                }
            }
        }
        assert_eq!(
            transition_with(&Rogue, &S::Incomplete, Event::Update { ready: true }),
            Err(TransitionError::PolicyReturnedUnknown("weird".into()))
        );
    }

    #[test]
    fn not_allowed_maps_by_event_origin() {
        let client = TransitionError::NotAllowed {
            status: S::NotReadyForPayment,
            event: Event::Complete {
                has_authentication_result: false,
            },
        };
        assert_eq!(client.to_acp_error().status(), 422);
        assert_eq!(client.to_acp_error().code(), "invalid_state");
        let server = TransitionError::NotAllowed {
            status: S::NotReadyForPayment,
            event: Event::PaymentAuthorized,
        };
        assert_eq!(server.to_acp_error().status(), 500);
        let update_completed = transition(&S::Completed, Event::Update { ready: true })
            .unwrap_err()
            .to_acp_error();
        assert_eq!(update_completed.status(), 405);
    }
}
