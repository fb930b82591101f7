//! The checkout state machine driven by arbitrary event sequences, from a start status taken
//! from the status set of an arbitrary released version (`convert::statuses`) or an unknown
//! status, through `checkout::transition` (the default policy) and `checkout::transition_with`
//! (a policy whose answers come from the input, including terminal and unknown statuses).
//!
//! Invariants, for every step:
//! * no panic, and every error maps to an ACP error (4xx for an agent's request, 500 for a
//!   refused merchant-side event);
//! * an unknown status accepts nothing (CHK-05); `Retrieve` never changes the status (AC §4.3);
//! * terminal statuses (`completed`, `canceled`, `expired`) are never left, whatever the
//!   policy answers; cancel of `completed`/`canceled` is a 405 (CHK-17);
//! * the cases the spec fixes hold whatever the policy answers (CHK-12, CHK-15, CHK-16), and a
//!   policy answering an unknown status is rejected;
//! * with the default policy, every accepted transition (and every refusal) is exactly the one
//!   of the documented table, re-stated here independently.
#![no_main]

use agentic_commerce::checkout::{
    Event, TransitionError, TransitionPolicy, is_terminal, transition, transition_with,
};
use agentic_commerce::protocol::version::ApiVersion;
use agentic_commerce::protocol::version::convert;
use agentic_commerce::spec::v2026_04_17::agentic_checkout::CheckoutStatus as S;
use libfuzzer_sys::fuzz_target;

/// A policy that answers with a status named by the input (including terminal and unknown
/// ones), or refuses.
struct Arbitrary(Option<S>);

impl TransitionPolicy for Arbitrary {
    fn next(&self, from: &S, _event: Event) -> Option<S> {
        assert!(
            is_terminal(from) == Ok(false),
            "the policy was asked about {from} (terminal or unknown)"
        );
        self.0.clone()
    }
}

fn status(byte: u8) -> S {
    const ALL: &[&str] = &[
        "incomplete",
        "not_ready_for_payment",
        "requires_escalation",
        "authentication_required",
        "ready_for_payment",
        "pending_approval",
        "complete_in_progress",
        "completed",
        "canceled",
        "in_progress",
        "expired",
        "unknown_status",
    ];
    S::from(ALL[usize::from(byte) % ALL.len()])
}

fuzz_target!(|data: &[u8]| {
    let [version, start, events @ ..] = data else {
        return;
    };
    let version = &ApiVersion::RELEASED[usize::from(*version) % ApiVersion::RELEASED.len()];
    let names = convert::statuses(version).expect("a released version has statuses");
    let mut current = if *start == 0xff {
        S::from("fuzz_unknown")
    } else {
        S::from(names[usize::from(*start) % names.len()])
    };
    // Every status of every released version is one of the 11 of 2026-04-17.
    assert!(
        current.as_str() == "fuzz_unknown" || is_terminal(&current).is_ok(),
        "{current}"
    );

    for pair in events.chunks(2).take(256) {
        let event = Event::ALL[usize::from(pair[0] & 0x7f) % Event::ALL.len()];
        let custom = pair[0] & 0x80 != 0;
        let result = if custom {
            let answer = pair.get(1).filter(|&&b| b != 0xff).map(|&b| status(b));
            check_spec_fixed(
                &current,
                event,
                transition_with(&Arbitrary(answer), &current, event),
            )
        } else {
            let result = transition(&current, event);
            assert_eq!(
                result.clone().ok(),
                model(&current, event),
                "{current} --{event}-->"
            );
            check_spec_fixed(&current, event, result)
        };
        match result {
            Ok(next) => current = next,
            Err(e) => {
                let status = e.to_acp_error().status();
                let agent_fault = event.is_client_request()
                    && !matches!(
                        e,
                        TransitionError::UnknownStatus(_)
                            | TransitionError::PolicyReturnedUnknown(_)
                    );
                if agent_fault {
                    assert!((400..500).contains(&status), "{e:?} is {status}");
                } else {
                    assert_eq!(status, 500, "{e:?}");
                }
            }
        }
    }
});

/// What the spec fixes, whatever the policy: returns `result` for chaining.
fn check_spec_fixed(
    from: &S,
    event: Event,
    result: Result<S, TransitionError>,
) -> Result<S, TransitionError> {
    let Ok(terminal) = is_terminal(from) else {
        assert_eq!(
            result,
            Err(TransitionError::UnknownStatus(from.as_str().to_owned()))
        );
        return result;
    };
    if let Ok(next) = &result {
        assert!(next.is_known(), "{from} --{event}--> unknown {next}");
    }
    if event == Event::Retrieve {
        assert_eq!(result.as_ref(), Ok(from), "retrieve changed the status");
        return result;
    }
    if terminal {
        match (&result, event) {
            (Err(e @ TransitionError::CancelNotAllowed { status }), Event::Cancel) => {
                assert!(matches!(status, S::Completed | S::Canceled));
                assert_eq!(e.to_acp_error().status(), 405, "CHK-17");
            }
            (Err(TransitionError::Terminal { .. }), _) => {
                assert!(!(event == Event::Cancel && matches!(from, S::Completed | S::Canceled)));
            }
            _ => panic!("terminal {from} --{event}--> {result:?}"),
        }
        return result;
    }
    match event {
        Event::Complete {
            has_authentication_result: false,
        } if *from == S::AuthenticationRequired => {
            assert_eq!(
                result,
                Err(TransitionError::AuthenticationResultRequired),
                "CHK-15"
            );
        }
        Event::Cancel
            if matches!(
                from,
                S::NotReadyForPayment
                    | S::ReadyForPayment
                    | S::AuthenticationRequired
                    | S::InProgress
            ) =>
        {
            assert_eq!(result, Ok(S::Canceled), "CHK-16");
        }
        Event::AuthenticationRequired => {
            assert_eq!(result, Ok(S::AuthenticationRequired), "CHK-12");
        }
        _ => {}
    }
    result
}

/// The default policy's table (checkout module docs), restated: `None` = refused.
fn model(from: &S, event: Event) -> Option<S> {
    use Event as E;
    if !from.is_known() {
        return None;
    }
    if event == E::Retrieve {
        return Some(from.clone());
    }
    if matches!(from, S::Completed | S::Canceled | S::Expired) {
        return None;
    }
    if event == E::AuthenticationRequired {
        return Some(S::AuthenticationRequired);
    }
    let processing = matches!(from, S::CompleteInProgress | S::InProgress);
    Some(match (from, event) {
        (_, E::Cancel) => S::Canceled,
        (S::Incomplete | S::NotReadyForPayment, E::Update { ready: false }) => from.clone(),
        (S::Incomplete | S::NotReadyForPayment | S::ReadyForPayment, E::Update { ready: true })
        | (S::AuthenticationRequired | S::RequiresEscalation, E::Update { ready: true }) => {
            S::ReadyForPayment
        }
        (
            S::ReadyForPayment | S::AuthenticationRequired | S::RequiresEscalation,
            E::Update { ready: false },
        ) => S::NotReadyForPayment,
        (S::ReadyForPayment, E::Complete { .. })
        | (
            S::AuthenticationRequired,
            E::Complete {
                has_authentication_result: true,
            },
        ) => S::CompleteInProgress,
        (S::PendingApproval, E::PaymentAuthorized | E::CompletionSettled) => S::Completed,
        (_, E::PaymentAuthorized | E::CompletionSettled) if processing => S::Completed,
        (S::AuthenticationRequired | S::PendingApproval, E::PaymentDeclined) => S::ReadyForPayment,
        (_, E::PaymentDeclined) if processing => S::ReadyForPayment,
        (S::PendingApproval, E::ApprovalRequired) => S::PendingApproval,
        (_, E::ApprovalRequired) if processing => S::PendingApproval,
        (_, E::Escalated) => S::RequiresEscalation,
        (_, E::Expire) if !processing => S::Expired,
        _ => return None,
    })
}
