//! Integration tests for `agentic_commerce::trust::allowance` (DP-03 … DP-11).

// Helpers outside `#[test]` functions are test code too (clippy.toml only exempts test fns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use agentic_commerce::trust::allowance::{
    AllowanceReason, AllowanceTerms, AllowanceViolation, AuthorizeError, InMemoryTokenLedger,
    LedgerError, ProposedCharge, TokenLedger, authorize_charge, check,
};
use proptest::prelude::*;
use time::OffsetDateTime;
use time::macros::datetime;

const EXPIRES: OffsetDateTime = datetime!(2025-10-09 07:20:50.52 UTC);

fn terms() -> AllowanceTerms {
    serde_json::from_str(
        r#"{"reason":"one_time","max_amount":2000,"currency":"usd",
            "checkout_session_id":"csn_01HV3P3","merchant_id":"acme",
            "expires_at":"2025-10-09T07:20:50.52Z"}"#,
    )
    .unwrap()
}

fn charge() -> ProposedCharge {
    ProposedCharge {
        amount: 2000,
        currency: "usd".into(),
        checkout_session_id: "csn_01HV3P3".into(),
        merchant_id: "acme".into(),
    }
}

fn before() -> OffsetDateTime {
    EXPIRES - time::Duration::seconds(1)
}

fn only_violation(
    t: &AllowanceTerms,
    c: &ProposedCharge,
    now: OffsetDateTime,
) -> AllowanceViolation {
    let violations = check(t, c, now).unwrap_err().into_vec();
    assert_eq!(violations.len(), 1, "{violations:?}");
    violations.into_iter().next().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Deserialization from the official Allowance object.

#[test]
fn dp08_terms_deserialize_from_the_brief_example() {
    let t = terms();
    assert_eq!(t.reason, AllowanceReason::one_time());
    assert!(t.reason.is_one_time());
    assert_eq!(t.max_amount, 2000);
    assert_eq!(t.currency, "usd");
    assert_eq!(t.checkout_session_id, "csn_01HV3P3");
    assert_eq!(t.merchant_id, "acme");
    assert_eq!(t.expires_at, EXPIRES);
}

fn spec_dir() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [
        std::env::var_os("ACP_SPEC_DIR").map(PathBuf::from),
        Some(manifest.join("../shared/acp-spec")),
        Some(manifest.join("../../shared/acp-spec")),
    ]
    .into_iter()
    .flatten()
    .find(|p| p.join("spec/2026-04-17").is_dir())
    .expect("ACP spec not found: set ACP_SPEC_DIR or place shared/acp-spec beside the crate")
}

#[test]
fn dp06_dp08_terms_deserialize_from_the_official_schema_example() {
    let path = spec_dir().join("spec/2026-04-17/json-schema/schema.delegate_payment.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let example = &schema["$defs"]["Allowance"]["example"];
    let t: AllowanceTerms = serde_json::from_value(example.clone()).unwrap();
    assert!(t.reason.is_one_time());
    assert_eq!(t.max_amount, 100_000);
    assert_eq!(t.expires_at, datetime!(2026-02-15 18:30 UTC));
    // Serializing back gives the same JSON object.
    assert_eq!(serde_json::to_value(&t).unwrap(), *example);
}

#[test]
fn dp06_dp08_invalid_terms_are_rejected_by_deserialization() {
    let base = serde_json::to_value(terms()).unwrap();
    for (field, bad) in [
        ("max_amount", serde_json::json!(20.5)),
        ("max_amount", serde_json::json!("2000")),
        ("expires_at", serde_json::json!("2025-10-09 07:20:50")),
        ("expires_at", serde_json::json!(1_760_000_000)),
        ("currency", serde_json::json!(null)),
    ] {
        let mut value = base.clone();
        value[field] = bad;
        assert!(
            serde_json::from_value::<AllowanceTerms>(value).is_err(),
            "{field}"
        );
    }
    let mut missing = base;
    missing.as_object_mut().unwrap().remove("merchant_id");
    assert!(serde_json::from_value::<AllowanceTerms>(missing).is_err());
}

#[test]
fn dp05_unknown_reason_is_kept_for_reporting() {
    let mut value = serde_json::to_value(terms()).unwrap();
    value["reason"] = "recurring".into();
    let t: AllowanceTerms = serde_json::from_value(value).unwrap();
    assert_eq!(t.reason.as_str(), "recurring");
    assert_eq!(t.reason.to_string(), "recurring");
}

// ---------------------------------------------------------------------------------------------
// Each violation alone.

#[test]
fn dp03_charge_within_terms_passes() {
    let ok = check(&terms(), &charge(), before()).unwrap();
    assert_eq!(ok.amount(), 2000);
    assert_eq!(ok.max_amount(), 2000);
    assert_eq!(ok.headroom(), 0);
    let mut c = charge();
    c.amount = 1;
    assert_eq!(check(&terms(), &c, before()).unwrap().headroom(), 1999);
}

#[test]
fn dp05_reason_not_one_time() {
    let mut t = terms();
    t.reason = AllowanceReason::new("ONE_TIME");
    assert_eq!(
        only_violation(&t, &charge(), before()),
        AllowanceViolation::ReasonNotOneTime {
            found: "ONE_TIME".into()
        }
    );
}

#[test]
fn dp03_amount_exceeded() {
    let mut c = charge();
    c.amount = 2001;
    assert_eq!(
        only_violation(&terms(), &c, before()),
        AllowanceViolation::AmountExceeded {
            max: 2000,
            requested: 2001
        }
    );
}

#[test]
fn dp03_non_positive_amount() {
    for amount in [0, -1, i64::MIN] {
        let mut c = charge();
        c.amount = amount;
        assert_eq!(
            only_violation(&terms(), &c, before()),
            AllowanceViolation::NonPositiveAmount { requested: amount }
        );
    }
}

#[test]
fn dp03_currency_mismatch() {
    let mut c = charge();
    c.currency = "eur".into();
    assert_eq!(
        only_violation(&terms(), &c, before()),
        AllowanceViolation::CurrencyMismatch {
            expected: "usd".into(),
            found: "eur".into()
        }
    );
    for near_miss in ["", "us", "usd ", " usd", "usdd", "ùsd"] {
        c.currency = near_miss.into();
        assert_eq!(
            only_violation(&terms(), &c, before()).code(),
            "currency_mismatch",
            "{near_miss:?}"
        );
    }
}

#[test]
fn dp03_dp07_currency_compares_ascii_case_insensitively() {
    for currency in ["usd", "USD", "Usd", "uSd"] {
        let mut c = charge();
        c.currency = currency.into();
        assert!(check(&terms(), &c, before()).is_ok(), "{currency}");
    }
}

#[test]
fn dp09_session_mismatch() {
    let mut c = charge();
    c.checkout_session_id = "csn_other".into();
    assert_eq!(
        only_violation(&terms(), &c, before()),
        AllowanceViolation::SessionMismatch {
            expected: "csn_01HV3P3".into(),
            found: "csn_other".into()
        }
    );
    // Ids are compared exactly, not case-insensitively.
    c.checkout_session_id = "CSN_01HV3P3".into();
    assert_eq!(
        only_violation(&terms(), &c, before()).code(),
        "session_mismatch"
    );
}

#[test]
fn dp10_merchant_mismatch() {
    let mut c = charge();
    c.merchant_id = "evil".into();
    assert_eq!(
        only_violation(&terms(), &c, before()),
        AllowanceViolation::MerchantMismatch {
            expected: "acme".into(),
            found: "evil".into()
        }
    );
}

#[test]
fn dp04_expiry_boundary_is_exclusive() {
    // One second before: valid.
    assert!(check(&terms(), &charge(), before()).is_ok());
    // One nanosecond before: valid.
    assert!(
        check(
            &terms(),
            &charge(),
            EXPIRES - time::Duration::nanoseconds(1)
        )
        .is_ok()
    );
    // Exactly at expires_at: expired.
    assert_eq!(
        only_violation(&terms(), &charge(), EXPIRES),
        AllowanceViolation::Expired { at: EXPIRES }
    );
    // After: expired.
    assert_eq!(
        only_violation(&terms(), &charge(), EXPIRES + time::Duration::seconds(1)).code(),
        "expired"
    );
}

#[test]
fn dp04_expiry_compares_instants_across_offsets() {
    let mut t = terms();
    t.expires_at = datetime!(2025-10-09 09:20:50.52 +02:00); // the same instant as EXPIRES
    assert!(check(&t, &charge(), before()).is_ok());
    assert_eq!(only_violation(&t, &charge(), EXPIRES).code(), "expired");
}

#[test]
fn dp03_extreme_amounts_do_not_overflow() {
    let mut t = terms();
    let mut c = charge();
    t.max_amount = i64::MAX;
    c.amount = i64::MAX;
    let ok = check(&t, &c, before()).unwrap();
    assert_eq!(ok.headroom(), 0);
    c.amount = 1;
    assert_eq!(check(&t, &c, before()).unwrap().headroom(), i64::MAX - 1);

    t.max_amount = i64::MIN;
    c.amount = i64::MAX;
    assert_eq!(
        only_violation(&t, &c, before()),
        AllowanceViolation::AmountExceeded {
            max: i64::MIN,
            requested: i64::MAX
        }
    );
    t.max_amount = 0;
    c.amount = i64::MIN;
    assert_eq!(
        only_violation(&t, &c, before()),
        AllowanceViolation::NonPositiveAmount {
            requested: i64::MIN
        }
    );
}

// ---------------------------------------------------------------------------------------------
// All at once, and the JSON form.

fn everything_wrong() -> (AllowanceTerms, ProposedCharge) {
    let mut t = terms();
    t.reason = AllowanceReason::new("recurring");
    t.max_amount = -5;
    let c = ProposedCharge {
        amount: -1,
        currency: "eur".into(),
        checkout_session_id: "csn_x".into(),
        merchant_id: "m_x".into(),
    };
    (t, c)
}

#[test]
fn dp03_to_dp10_all_violations_are_reported_in_rule_order() {
    let (t, c) = everything_wrong();
    let violations = check(&t, &c, EXPIRES).unwrap_err();
    let codes: Vec<&str> = violations.iter().map(AllowanceViolation::code).collect();
    assert_eq!(
        codes,
        [
            "reason_not_one_time",
            "non_positive_amount",
            "amount_exceeded",
            "currency_mismatch",
            "session_mismatch",
            "merchant_mismatch",
            "expired"
        ]
    );
    let rules: Vec<&str> = (&violations)
        .into_iter()
        .map(AllowanceViolation::rule)
        .collect();
    assert_eq!(
        rules,
        [
            "DP-05", "DP-03", "DP-03", "DP-03", "DP-09", "DP-10", "DP-04"
        ]
    );
    assert_eq!(violations.len(), 7);
    assert!(!violations.is_empty());
    assert_eq!(violations.as_slice().len(), 7);
    let text = violations.to_string();
    assert!(
        text.starts_with("charge is outside the token allowance: "),
        "{text}"
    );
    assert!(text.contains("(DP-04)"), "{text}");
}

#[test]
fn dp04_violations_serialize_as_rule_code_message() {
    let violations = check(&terms(), &charge(), EXPIRES).unwrap_err();
    let json = serde_json::to_value(&violations).unwrap();
    assert_eq!(
        json,
        serde_json::json!([{
            "rule": "DP-04",
            "code": "expired",
            "message": "token's allowance has expired"
        }])
    );
    assert_eq!(
        serde_json::to_value(violations.detailed()).unwrap(),
        serde_json::json!([{
            "rule": "DP-04",
            "code": "expired",
            "message": "allowance expired at 2025-10-09T07:20:50.52Z"
        }])
    );
    let (t, c) = everything_wrong();
    let json = serde_json::to_value(check(&t, &c, EXPIRES).unwrap_err()).unwrap();
    let array = json.as_array().unwrap();
    assert_eq!(array.len(), 7);
    for item in array {
        let object = item.as_object().unwrap();
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["code", "message", "rule"]);
    }
    assert_eq!(
        array[2]["message"],
        "charge amount exceeds the token's allowance"
    );
    let detailed = serde_json::to_value(check(&t, &c, EXPIRES).unwrap_err().detailed()).unwrap();
    assert_eq!(
        detailed[2]["message"],
        "charge amount -1 exceeds the allowance max_amount -5"
    );
}

/// DP-03, DP-09, DP-10: the public form of a violation (its `Display`, its JSON and the
/// `Display` of the whole list, i.e. what a PSP puts in a response) names none of the token's
/// scope: not its `merchant_id`, `checkout_session_id`, `max_amount`, currency or expiry. Only
/// the detailed form, for logs, does. Otherwise a merchant holding someone else's token learns
/// the scope from one free failed charge and then charges with the right values.
#[test]
fn dp03_dp09_dp10_public_form_never_contains_the_allowance_values() {
    let t: AllowanceTerms = serde_json::from_str(
        r#"{"reason":"one_time","max_amount":731337,"currency":"jpy",
            "checkout_session_id":"csn_SECRET_SESSION_7f3a","merchant_id":"merchant_SECRET_9d21",
            "expires_at":"2025-10-09T07:20:50.52Z"}"#,
    )
    .unwrap();
    let probe = ProposedCharge {
        amount: 99_999_999,
        currency: "usd".into(),
        checkout_session_id: "csn_guess".into(),
        merchant_id: "merchant_guess".into(),
    };
    let violations = check(&t, &probe, EXPIRES).unwrap_err();
    assert_eq!(violations.len(), 5, "{violations:?}");
    let secrets = [
        "merchant_SECRET_9d21",
        "csn_SECRET_SESSION_7f3a",
        "731337",
        "jpy",
        "2025-10-09",
    ];
    let mut public = vec![
        violations.to_string(),
        serde_json::to_string(&violations).unwrap(),
        AuthorizeError::from(violations.clone()).to_string(),
    ];
    for v in &violations {
        public.push(v.to_string());
        public.push(v.public_message().to_owned());
        public.push(serde_json::to_string(v).unwrap());
    }
    for text in &public {
        for secret in secrets {
            assert!(
                !text.contains(secret),
                "public form leaks `{secret}`: {text}"
            );
        }
    }
    // The detailed form (logs) still has every value.
    let detailed = format!(
        "{} {}",
        violations.detailed(),
        serde_json::to_string(&violations.detailed()).unwrap()
    );
    for secret in secrets {
        assert!(
            detailed.contains(secret),
            "detailed form lacks `{secret}`: {detailed}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Single use (DP-11).

#[test]
fn dp11_token_is_consumed_once() {
    let ledger = InMemoryTokenLedger::new();
    assert!(ledger.is_empty());
    let now = before();
    assert_eq!(ledger.consume("vt_1", now), Ok(()));
    assert_eq!(ledger.consume("vt_1", now), Err(LedgerError::AlreadyUsed));
    assert_eq!(ledger.consume("vt_2", now), Ok(()));
    assert_eq!(ledger.len(), 2);
    assert!(ledger.is_consumed("vt_1"));
    assert!(!ledger.is_consumed("vt_3"));
    assert_eq!(ledger.consumed_at("vt_1"), Some(now));
    assert_eq!(LedgerError::AlreadyUsed.rule(), "DP-11");
    assert_eq!(LedgerError::AlreadyUsed.code(), "already_used");
    assert_eq!(LedgerError::Unavailable.code(), "ledger_unavailable");
    let debug = format!("{ledger:?}");
    assert!(!debug.contains("vt_1"), "{debug}");
}

#[test]
fn dp11_concurrent_consumption_succeeds_exactly_once() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<InMemoryTokenLedger>();

    for round in 0..20 {
        let ledger = Arc::new(InMemoryTokenLedger::new());
        let wins = Arc::new(AtomicUsize::new(0));
        let token = format!("vt_race_{round}");
        let barrier = Arc::new(std::sync::Barrier::new(16));
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let (ledger, wins, token, barrier) =
                    (ledger.clone(), wins.clone(), token.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    match ledger.consume(&token, before()) {
                        Ok(()) => {
                            wins.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(e) => assert_eq!(e, LedgerError::AlreadyUsed),
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(wins.load(Ordering::SeqCst), 1);
        assert_eq!(ledger.len(), 1);
    }
}

#[test]
fn dp11_authorize_charge_consumes_only_when_every_check_passes() {
    let ledger = InMemoryTokenLedger::new();
    let mut bad = charge();
    bad.amount = 5000;
    let err = authorize_charge(&ledger, "vt_a", &terms(), &bad, before()).unwrap_err();
    match err {
        AuthorizeError::Allowance(v) => assert_eq!(v.as_slice()[0].code(), "amount_exceeded"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        !ledger.is_consumed("vt_a"),
        "a refused charge must not consume"
    );

    let ok = authorize_charge(&ledger, "vt_a", &terms(), &charge(), before()).unwrap();
    assert_eq!(ok.amount(), 2000);
    assert_eq!(ledger.consumed_at("vt_a"), Some(before()));

    assert_eq!(
        authorize_charge(&ledger, "vt_a", &terms(), &charge(), before()).unwrap_err(),
        AuthorizeError::Ledger(LedgerError::AlreadyUsed)
    );
    // Allowance violations are reported before the ledger is consulted.
    let expired = authorize_charge(&ledger, "vt_a", &terms(), &charge(), EXPIRES).unwrap_err();
    assert!(
        matches!(expired, AuthorizeError::Allowance(_)),
        "{expired:?}"
    );
}

struct BrokenLedger;

impl TokenLedger for BrokenLedger {
    fn consume(&self, _: &str, _: OffsetDateTime) -> Result<(), LedgerError> {
        Err(LedgerError::Unavailable)
    }
}

#[test]
fn dp11_custom_ledgers_and_trait_objects_work() {
    let ledger: &dyn TokenLedger = &BrokenLedger;
    assert_eq!(
        authorize_charge(ledger, "vt", &terms(), &charge(), before()).unwrap_err(),
        AuthorizeError::Ledger(LedgerError::Unavailable)
    );
    let in_memory: Box<dyn TokenLedger + Send + Sync> = Box::new(InMemoryTokenLedger::new());
    assert!(authorize_charge(in_memory.as_ref(), "vt", &terms(), &charge(), before()).is_ok());
}

// ---------------------------------------------------------------------------------------------
// Properties: a charge within the terms passes; any single perturbation fails with exactly
// that reason.

#[derive(Debug, Clone)]
enum Perturbation {
    Reason(String),
    AmountAbove(i64),
    AmountNonPositive(i64),
    Currency(String),
    Session(String),
    Merchant(String),
    NowAtOrAfter(i64),
}

fn case_flip(s: &str, mask: u64) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

prop_compose! {
    fn valid_case()(
        max in 1_i64..=i64::MAX,
        fraction in 0.0_f64..=1.0,
        currency in "[a-z]{3}",
        case_mask in any::<u64>(),
        session in "[A-Za-z0-9_]{1,30}",
        merchant in "\\PC{1,40}",
        expires in -10_000_000_000_i64..10_000_000_000,
        before in 1_i64..1_000_000_000,
    ) -> (AllowanceTerms, ProposedCharge, OffsetDateTime) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        let amount = ((max as f64) * fraction).clamp(1.0, max as f64) as i64;
        let amount = amount.clamp(1, max);
        let expires_at = OffsetDateTime::from_unix_timestamp(expires).unwrap();
        let terms = AllowanceTerms {
            reason: AllowanceReason::one_time(),
            max_amount: max,
            currency: currency.clone(),
            checkout_session_id: session.clone(),
            merchant_id: merchant.clone(),
            expires_at,
        };
        let charge = ProposedCharge {
            amount,
            currency: case_flip(&currency, case_mask),
            checkout_session_id: session,
            merchant_id: merchant,
        };
        (terms, charge, expires_at - time::Duration::seconds(before))
    }
}

fn perturbation() -> impl Strategy<Value = Perturbation> {
    prop_oneof![
        "[a-z_]{0,12}"
            .prop_filter("not one_time", |r| r != "one_time")
            .prop_map(Perturbation::Reason),
        (1_i64..=i64::MAX).prop_map(Perturbation::AmountAbove),
        (i64::MIN..=0).prop_map(Perturbation::AmountNonPositive),
        "[a-z]{0,4}".prop_map(Perturbation::Currency),
        "[A-Za-z0-9_]{0,31}".prop_map(Perturbation::Session),
        "\\PC{0,41}".prop_map(Perturbation::Merchant),
        (0_i64..1_000_000_000).prop_map(Perturbation::NowAtOrAfter),
    ]
}

proptest! {
    #[test]
    fn dp03_charges_within_terms_pass((terms, charge, now) in valid_case()) {
        let ok = check(&terms, &charge, now).unwrap();
        prop_assert_eq!(ok.amount(), charge.amount);
        prop_assert!(ok.headroom() >= 0);
    }

    #[test]
    fn dp03_to_dp10_a_single_perturbation_fails_with_exactly_that_reason(
        (mut terms, mut charge, mut now) in valid_case(),
        change in perturbation(),
    ) {
        let expected_code = match change.clone() {
            Perturbation::Reason(r) => {
                terms.reason = AllowanceReason::new(r);
                "reason_not_one_time"
            }
            Perturbation::AmountAbove(extra) => {
                prop_assume!(terms.max_amount < i64::MAX);
                charge.amount = terms.max_amount.saturating_add(extra);
                "amount_exceeded"
            }
            Perturbation::AmountNonPositive(a) => {
                charge.amount = a;
                "non_positive_amount"
            }
            Perturbation::Currency(c) => {
                prop_assume!(!c.eq_ignore_ascii_case(&terms.currency));
                charge.currency = c;
                "currency_mismatch"
            }
            Perturbation::Session(s) => {
                prop_assume!(s != terms.checkout_session_id);
                charge.checkout_session_id = s;
                "session_mismatch"
            }
            Perturbation::Merchant(m) => {
                prop_assume!(m != terms.merchant_id);
                charge.merchant_id = m;
                "merchant_mismatch"
            }
            Perturbation::NowAtOrAfter(after) => {
                now = terms.expires_at + time::Duration::seconds(after);
                "expired"
            }
        };
        let violations = check(&terms, &charge, now).unwrap_err().into_vec();
        prop_assert_eq!(violations.len(), 1, "{:?} -> {:?}", change, violations);
        prop_assert_eq!(violations[0].code(), expected_code);
    }
}

mod boundaries;
