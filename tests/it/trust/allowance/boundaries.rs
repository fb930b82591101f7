//! Boundaries of the allowance checks: exact limits, accessors and error codes (pinned where
//! mutation testing, `.ci/mutants allowance`, found them unchecked).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use agentic_commerce::trust::allowance::{
    AllowanceReason, AllowanceTerms, InMemoryTokenLedger, LedgerError, ProposedCharge,
    TokenLedger as _, check,
};
use time::macros::datetime;

fn terms() -> AllowanceTerms {
    AllowanceTerms {
        reason: AllowanceReason::one_time(),
        max_amount: 2000,
        currency: "usd".to_owned(),
        checkout_session_id: "csn_1".to_owned(),
        merchant_id: "acme".to_owned(),
        expires_at: datetime!(2025-10-09 07:20 UTC),
    }
}

/// DP-03/DP-05: the `Display` of several violations lists each once, separated by `; `, with
/// no separator before the first (kills `i > 0` → `i == 0` / `i < 0`).
#[test]
fn dp03_dp05_display_separates_every_violation_after_the_first() {
    let mut terms = terms();
    terms.reason = AllowanceReason::new("recurring");
    let charge = ProposedCharge {
        amount: 0,
        currency: "usd".to_owned(),
        checkout_session_id: "csn_1".to_owned(),
        merchant_id: "acme".to_owned(),
    };
    let err = check(&terms, &charge, datetime!(2025-10-09 07:00 UTC)).unwrap_err();
    assert_eq!(err.len(), 2);
    assert_eq!(
        err.to_string(),
        "charge is outside the token allowance: \
         the token's allowance reason is not supported (DP-05); \
         charge amount is not positive (DP-03)"
    );
    assert_eq!(
        err.detailed().to_string(),
        "charge is outside the token allowance: \
         allowance reason is `recurring`; only `one_time` is supported (DP-05); \
         charge amount 0 is not positive (DP-03)"
    );
}

/// DP-03: a single violation has no separator at all.
#[test]
fn dp03_display_of_one_violation_has_no_separator() {
    let charge = ProposedCharge {
        amount: 2001,
        currency: "usd".to_owned(),
        checkout_session_id: "csn_1".to_owned(),
        merchant_id: "acme".to_owned(),
    };
    let err = check(&terms(), &charge, datetime!(2025-10-09 07:00 UTC)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "charge is outside the token allowance: \
         charge amount exceeds the token's allowance (DP-03)"
    );
    assert_eq!(
        err.detailed().to_string(),
        "charge is outside the token allowance: \
         charge amount 2001 exceeds the allowance max_amount 2000 (DP-03)"
    );
}

/// DP-11: the in-memory ledger is empty until a token is consumed, and stays non-empty after
/// (kills `InMemoryTokenLedger::is_empty` → `true`).
#[test]
fn dp11_ledger_is_empty_only_before_the_first_consumption() {
    let ledger = InMemoryTokenLedger::new();
    assert!(ledger.is_empty());
    let now = datetime!(2025-10-09 07:00 UTC);
    ledger.consume("vt_1", now).unwrap();
    assert!(!ledger.is_empty());
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger.consume("vt_1", now), Err(LedgerError::AlreadyUsed));
    assert!(!ledger.is_empty());
}

/// DP-11/DP-19: the ledger's `Debug` shows how many tokens were consumed, never their ids
/// (kills the `Debug` impl → `Ok(())`, which would print nothing).
#[test]
fn dp11_ledger_debug_counts_tokens_without_naming_them() {
    let ledger = InMemoryTokenLedger::new();
    assert_eq!(format!("{ledger:?}"), "InMemoryTokenLedger { consumed: 0 }");
    ledger
        .consume("vt_secret", datetime!(2025-10-09 07:00 UTC))
        .unwrap();
    let debug = format!("{ledger:?}");
    assert_eq!(debug, "InMemoryTokenLedger { consumed: 1 }");
    assert!(!debug.contains("vt_secret"));
}
