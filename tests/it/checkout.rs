//! Integration tests for the checkout state machine (`agentic_commerce::checkout`): the full
//! (status × event) table of the default policy, spec rules (CHK-12, CHK-15, CHK-16, CHK-17),
//! and properties (terminal states are never left, whatever the policy).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use agentic_commerce::checkout::{
    DefaultPolicy, Event, TransitionError, TransitionPolicy, is_terminal, transition,
    transition_with,
};
use agentic_commerce::spec::v2026_04_17::agentic_checkout::CheckoutStatus;
use proptest::prelude::*;

fn all_statuses() -> Vec<CheckoutStatus> {
    CheckoutStatus::KNOWN
        .iter()
        .map(|s| CheckoutStatus::from(*s))
        .collect()
}

/// Expected outcome, in `Event::ALL` order: a status name, `NA` (policy refusal), `405C`
/// (CHK-17 cancel), `TERM` (terminal), `3DS` (CHK-15).
const TABLE: &[(&str, [&str; 13])] = &[
    //                   U+                   U-                       C+                      C-                      Cancel      PayAuth      PayDecl              AuthReq                    Approval            Escalated              Settled      Expire     Retrieve
    (
        "incomplete",
        [
            "ready_for_payment",
            "incomplete",
            "NA",
            "NA",
            "canceled",
            "NA",
            "NA",
            "authentication_required",
            "NA",
            "requires_escalation",
            "NA",
            "expired",
            "incomplete",
        ],
    ),
    (
        "not_ready_for_payment",
        [
            "ready_for_payment",
            "not_ready_for_payment",
            "NA",
            "NA",
            "canceled",
            "NA",
            "NA",
            "authentication_required",
            "NA",
            "requires_escalation",
            "NA",
            "expired",
            "not_ready_for_payment",
        ],
    ),
    (
        "requires_escalation",
        [
            "ready_for_payment",
            "not_ready_for_payment",
            "NA",
            "NA",
            "canceled",
            "NA",
            "NA",
            "authentication_required",
            "NA",
            "requires_escalation",
            "NA",
            "expired",
            "requires_escalation",
        ],
    ),
    (
        "authentication_required",
        [
            "ready_for_payment",
            "not_ready_for_payment",
            "complete_in_progress",
            "3DS",
            "canceled",
            "NA",
            "ready_for_payment",
            "authentication_required",
            "NA",
            "requires_escalation",
            "NA",
            "expired",
            "authentication_required",
        ],
    ),
    (
        "ready_for_payment",
        [
            "ready_for_payment",
            "not_ready_for_payment",
            "complete_in_progress",
            "complete_in_progress",
            "canceled",
            "NA",
            "NA",
            "authentication_required",
            "NA",
            "requires_escalation",
            "NA",
            "expired",
            "ready_for_payment",
        ],
    ),
    (
        "pending_approval",
        [
            "NA",
            "NA",
            "NA",
            "NA",
            "canceled",
            "completed",
            "ready_for_payment",
            "authentication_required",
            "pending_approval",
            "requires_escalation",
            "completed",
            "expired",
            "pending_approval",
        ],
    ),
    (
        "complete_in_progress",
        [
            "NA",
            "NA",
            "NA",
            "NA",
            "canceled",
            "completed",
            "ready_for_payment",
            "authentication_required",
            "pending_approval",
            "requires_escalation",
            "completed",
            "NA",
            "complete_in_progress",
        ],
    ),
    (
        "completed",
        [
            "TERM",
            "TERM",
            "TERM",
            "TERM",
            "405C",
            "TERM",
            "TERM",
            "TERM",
            "TERM",
            "TERM",
            "TERM",
            "TERM",
            "completed",
        ],
    ),
    (
        "canceled",
        [
            "TERM", "TERM", "TERM", "TERM", "405C", "TERM", "TERM", "TERM", "TERM", "TERM", "TERM",
            "TERM", "canceled",
        ],
    ),
    (
        "in_progress",
        [
            "NA",
            "NA",
            "NA",
            "NA",
            "canceled",
            "completed",
            "ready_for_payment",
            "authentication_required",
            "pending_approval",
            "requires_escalation",
            "completed",
            "NA",
            "in_progress",
        ],
    ),
    (
        "expired",
        [
            "TERM", "TERM", "TERM", "TERM", "TERM", "TERM", "TERM", "TERM", "TERM", "TERM", "TERM",
            "TERM", "expired",
        ],
    ),
];

fn outcome(result: &Result<CheckoutStatus, TransitionError>) -> String {
    match result {
        Ok(s) => s.as_str().to_owned(),
        Err(TransitionError::NotAllowed { .. }) => "NA".into(),
        Err(TransitionError::CancelNotAllowed { .. }) => "405C".into(),
        Err(TransitionError::Terminal { .. }) => "TERM".into(),
        Err(TransitionError::AuthenticationResultRequired) => "3DS".into(),
        Err(other) => format!("{other:?}"),
    }
}

/// Every (status, event) pair of the 2026-04-17 statuses (CHK-05) with the default policy.
#[test]
fn chk_every_status_event_pair() {
    assert_eq!(TABLE.len(), 11);
    assert_eq!(all_statuses().len(), 11);
    for (status, row) in TABLE {
        let from = CheckoutStatus::from(*status);
        assert!(from.is_known());
        for (event, expected) in Event::ALL.iter().zip(row.iter()) {
            let got = outcome(&transition(&from, *event));
            assert_eq!(got, *expected, "{status} --{event:?}-->");
        }
    }
}

/// The ACP errors of the refusals: CHK-17 405, CHK-15 400 `requires_3ds`, terminal update 405
/// (code `expired` for an expired session), client refusals 422, merchant-side refusals 500.
#[test]
fn chk_15_17_transition_errors_map_to_acp_errors() {
    for (status, row) in TABLE {
        let from = CheckoutStatus::from(*status);
        for (event, expected) in Event::ALL.iter().zip(row.iter()) {
            let Err(e) = transition(&from, *event) else {
                continue;
            };
            let acp = e.to_acp_error();
            let want = match (*expected, event.is_client_request()) {
                // An expired session names why: the agent starts a new one.
                ("TERM", true) if *status == "expired" => (405, "expired"),
                ("405C" | "TERM", true) => (405, "method_not_allowed"),
                ("3DS", _) => (400, "requires_3ds"),
                ("NA", true) => (422, "invalid_state"),
                (_, false) => (500, "processing_error"),
                other => panic!("{other:?}"),
            };
            assert_eq!((acp.status(), acp.code()), want, "{status} {event:?}");
        }
    }
}

/// The default policy reaches `completed` on the happy path, and through 3DS (CHK-12, CHK-14).
#[test]
fn default_policy_happy_paths_reach_completed() {
    let run = |start: CheckoutStatus, events: &[Event]| {
        events
            .iter()
            .try_fold(start, |s, e| transition(&s, *e))
            .unwrap()
    };
    let plain = run(
        DefaultPolicy.initial(false),
        &[
            Event::Update { ready: true },
            Event::Retrieve,
            Event::Complete {
                has_authentication_result: false,
            },
            Event::PaymentAuthorized,
        ],
    );
    assert_eq!(plain, CheckoutStatus::Completed);
    let three_ds = run(
        CheckoutStatus::Incomplete,
        &[
            Event::Update { ready: true },
            Event::Complete {
                has_authentication_result: false,
            },
            Event::AuthenticationRequired,
            Event::Complete {
                has_authentication_result: true,
            },
            Event::PaymentAuthorized,
        ],
    );
    assert_eq!(three_ds, CheckoutStatus::Completed);
    let approval = run(
        CheckoutStatus::ReadyForPayment,
        &[
            Event::Complete {
                has_authentication_result: false,
            },
            Event::ApprovalRequired,
            Event::CompletionSettled,
        ],
    );
    assert_eq!(approval, CheckoutStatus::Completed);
}

/// A policy that answers from a fixed table (including terminal and unknown statuses), to
/// show that no policy can move a session out of a terminal state.
#[derive(Debug, Clone)]
struct TablePolicy(Vec<u8>);

impl TransitionPolicy for TablePolicy {
    fn next(&self, from: &CheckoutStatus, event: Event) -> Option<CheckoutStatus> {
        let si = CheckoutStatus::KNOWN
            .iter()
            .position(|s| *s == from.as_str())
            .unwrap_or(0);
        let ei = Event::ALL.iter().position(|e| *e == event).unwrap_or(0);
        let pick = self.0[(si * 13 + ei) % self.0.len()];
        match pick % 14 {
            11 => None,
            12 => Some(CheckoutStatus::from("mystery")),
            13 => Some(CheckoutStatus::Completed),
            n => Some(CheckoutStatus::from(CheckoutStatus::KNOWN[usize::from(n)])),
        }
    }
}

fn status_strategy() -> impl Strategy<Value = CheckoutStatus> {
    (0..11usize).prop_map(|i| CheckoutStatus::from(CheckoutStatus::KNOWN[i]))
}

fn event_strategy() -> impl Strategy<Value = Event> {
    (0..13usize).prop_map(|i| Event::ALL[i])
}

proptest! {
    /// No event sequence leaves a terminal state, with the default policy or any policy.
    #[test]
    fn terminal_states_are_never_left(
        start in status_strategy(),
        events in proptest::collection::vec(event_strategy(), 0..40),
        table in proptest::collection::vec(any::<u8>(), 1..200),
    ) {
        let rogue = TablePolicy(table);
        let policies: [&dyn TransitionPolicy; 2] = [&DefaultPolicy, &rogue];
        for policy in policies {
            let mut status = start.clone();
            let mut terminal_at: Option<CheckoutStatus> = None;
            for event in &events {
                match transition_with(policy, &status, *event) {
                    Ok(next) => {
                        prop_assert!(next.is_known());
                        if let Some(t) = &terminal_at {
                            prop_assert_eq!(&next, t);
                            prop_assert_eq!(*event, Event::Retrieve);
                        }
                        status = next;
                    }
                    Err(e) => {
                        // Refusals never change the status; terminal refusals are typed.
                        if terminal_at.is_some() {
                            let is_terminal_refusal = matches!(
                                e,
                                TransitionError::Terminal { .. } | TransitionError::CancelNotAllowed { .. }
                            );
                            prop_assert!(is_terminal_refusal);
                        }
                    }
                }
                if is_terminal(&status).unwrap() && terminal_at.is_none() {
                    terminal_at = Some(status.clone());
                }
            }
        }
    }

    /// Retrieve never changes any known status (AC §4.3).
    #[test]
    fn retrieve_is_identity(start in status_strategy()) {
        prop_assert_eq!(transition(&start, Event::Retrieve), Ok(start));
    }
}

mod boundaries;
