//! Boundaries of the checkout state machine: event names, and the per-version state machine
//! (CHK-05: each API version has its own status set). (These pin what mutation testing,
//! `.ci/mutants checkout`, found unchecked.)

use agentic_commerce::checkout::{DefaultPolicy, TransitionPolicy};
use agentic_commerce::checkout::{Event, TransitionError, transition_in, transition_in_with};
use agentic_commerce::protocol::version::ApiVersion;
use agentic_commerce::spec::v2026_04_17::agentic_checkout::CheckoutStatus as S;

#[test]
fn event_names_and_display_are_the_documented_snake_case_names() {
    let expected = [
        "update",
        "update",
        "complete",
        "complete",
        "cancel",
        "payment_authorized",
        "payment_declined",
        "authentication_required",
        "approval_required",
        "escalated",
        "completion_settled",
        "expire",
        "retrieve",
    ];
    for (event, name) in Event::ALL.iter().copied().zip(expected) {
        assert_eq!(event.name(), name, "{event:?}");
        assert_eq!(event.to_string(), name, "{event:?}");
    }
}

const COMPLETE: Event = Event::Complete {
    has_authentication_result: false,
};

#[test]
fn chk_05_complete_enters_in_progress_before_2026_01_30_and_complete_in_progress_after() {
    for version in [
        ApiVersion::V2025_09_29,
        ApiVersion::V2025_12_12,
        ApiVersion::V2026_01_16,
    ] {
        assert_eq!(
            transition_in(&version, &S::ReadyForPayment, COMPLETE),
            Ok(S::InProgress),
            "{version}"
        );
    }
    for version in [ApiVersion::V2026_01_30, ApiVersion::V2026_04_17] {
        assert_eq!(
            transition_in(&version, &S::ReadyForPayment, COMPLETE),
            Ok(S::CompleteInProgress),
            "{version}"
        );
    }
}

#[test]
fn chk_05_statuses_every_version_has_are_accepted() {
    for version in ApiVersion::RELEASED {
        assert_eq!(
            transition_in(version, &S::ReadyForPayment, Event::Retrieve),
            Ok(S::ReadyForPayment),
            "{version}"
        );
        assert_eq!(
            transition_in(
                version,
                &S::NotReadyForPayment,
                Event::Update { ready: true }
            ),
            Ok(S::ReadyForPayment),
            "{version}"
        );
    }
}

#[test]
fn chk_05_a_resulting_status_the_version_lacks_is_not_in_version() {
    assert_eq!(
        transition_in(&ApiVersion::V2025_09_29, &S::ReadyForPayment, Event::Expire),
        Err(TransitionError::NotInVersion {
            status: "expired".into(),
            version: "2025-09-29".into(),
        })
    );
    assert_eq!(
        transition_in(&ApiVersion::V2026_04_17, &S::ReadyForPayment, Event::Expire),
        Ok(S::Expired)
    );
}

#[test]
fn chk_05_a_current_status_the_version_lacks_is_not_in_version() {
    assert_eq!(
        transition_in(&ApiVersion::V2026_01_16, &S::Incomplete, Event::Retrieve),
        Err(TransitionError::NotInVersion {
            status: "incomplete".into(),
            version: "2026-01-16".into(),
        })
    );
    assert_eq!(
        transition_in_with(
            &ApiVersion::V2026_01_16,
            &DefaultPolicy,
            &S::Incomplete,
            Event::Retrieve
        ),
        Err(TransitionError::NotInVersion {
            status: "incomplete".into(),
            version: "2026-01-16".into(),
        })
    );
}

/// A policy that sends every completion to `pending_approval` (a 2026-01-30 status).
struct ApproveEverything;

impl TransitionPolicy for ApproveEverything {
    fn next(&self, from: &S, event: Event) -> Option<S> {
        match event {
            Event::Complete { .. } => Some(S::PendingApproval),
            _ => DefaultPolicy.next(from, event),
        }
    }
}

#[test]
fn chk_05_transition_in_with_checks_the_policy_answer_against_the_version() {
    assert_eq!(
        transition_in_with(
            &ApiVersion::V2026_04_17,
            &ApproveEverything,
            &S::ReadyForPayment,
            COMPLETE
        ),
        Ok(S::PendingApproval)
    );
    assert_eq!(
        transition_in_with(
            &ApiVersion::V2025_12_12,
            &ApproveEverything,
            &S::ReadyForPayment,
            COMPLETE
        ),
        Err(TransitionError::NotInVersion {
            status: "pending_approval".into(),
            version: "2025-12-12".into(),
        })
    );
}

#[test]
fn chk_05_an_unreleased_version_is_unsupported() {
    let Ok(future) = "2027-01-01".parse::<ApiVersion>() else {
        panic!("a date-shaped version parses");
    };
    assert_eq!(
        transition_in(&future, &S::ReadyForPayment, Event::Retrieve),
        Err(TransitionError::UnsupportedVersion("2027-01-01".into()))
    );
}
