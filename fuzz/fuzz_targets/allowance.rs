//! Allowance checks over arbitrary terms and charges: never panics, a passing charge
//! satisfies every rule (DP-03 … DP-10), and a failing one lists only rules it breaks.
#![no_main]

use agentic_commerce::trust::allowance::{AllowanceReason, AllowanceTerms, ProposedCharge, check};
use libfuzzer_sys::fuzz_target;
use time::OffsetDateTime;

fn take<const N: usize>(data: &mut &[u8]) -> [u8; N] {
    let mut out = [0; N];
    for slot in &mut out {
        if let Some((&b, rest)) = data.split_first() {
            *slot = b;
            *data = rest;
        }
    }
    out
}

fn pick(data: &mut &[u8], options: &[&str]) -> String {
    let [b] = take::<1>(data);
    options[usize::from(b) % options.len()].to_owned()
}

fuzz_target!(|input: &[u8]| {
    let mut data = input;
    let max_amount = i64::from_le_bytes(take(&mut data));
    let amount = i64::from_le_bytes(take(&mut data));
    let expires = i64::from_le_bytes(take(&mut data)) % 253_402_300_799;
    let now = i64::from_le_bytes(take(&mut data)) % 253_402_300_799;
    let (Ok(expires_at), Ok(now)) = (
        OffsetDateTime::from_unix_timestamp(expires),
        OffsetDateTime::from_unix_timestamp(now),
    ) else {
        return;
    };
    let terms = AllowanceTerms {
        reason: AllowanceReason::new(pick(&mut data, &["one_time", "recurring", "", "ONE_TIME"])),
        max_amount,
        currency: pick(&mut data, &["usd", "USD", "eur", "", "usd "]),
        checkout_session_id: pick(&mut data, &["cs_1", "cs_2", ""]),
        merchant_id: pick(&mut data, &["m_1", "m_2", "M_1"]),
        expires_at,
    };
    let charge = ProposedCharge {
        amount,
        currency: pick(&mut data, &["usd", "Usd", "eur", "", "us"]),
        checkout_session_id: pick(&mut data, &["cs_1", "cs_2", ""]),
        merchant_id: pick(&mut data, &["m_1", "m_2", "M_1"]),
    };
    let rules_hold = terms.reason.is_one_time()
        && charge.amount > 0
        && charge.amount <= terms.max_amount
        && terms.currency.eq_ignore_ascii_case(&charge.currency)
        && terms.checkout_session_id == charge.checkout_session_id
        && terms.merchant_id == charge.merchant_id
        && now < terms.expires_at;
    match check(&terms, &charge, now) {
        Ok(ok) => {
            assert!(rules_hold, "passed a charge that breaks a rule");
            assert_eq!(ok.amount(), charge.amount);
            assert!(ok.headroom() >= 0);
            assert_eq!(ok.headroom(), terms.max_amount - charge.amount);
        }
        Err(violations) => {
            assert!(!rules_hold, "rejected a charge that satisfies every rule");
            assert!(!violations.is_empty());
            for v in violations.iter() {
                assert!(v.rule().starts_with("DP-"), "{}", v.rule());
            }
        }
    }
});
