//! Delegate payment request validation beyond the JSON Schema (DP-05, DP-10, DP-12 … DP-18),
//! and the bridge from the typed `Allowance` to [`crate::trust::allowance::AllowanceTerms`].
//!
//! [`validate_request`] checks a parsed [`DelegatePaymentRequest`]; [`validate_value`] first
//! checks the raw JSON for what a typed parse cannot report as a rule (DP-12 credential type,
//! DP-16 metadata presence), then parses and runs [`validate_request`]. Every problem is a
//! [`Finding`] with its rule ID, severity, JSONPath and a message that never contains card data.
//!
//! | Rule | Check | Severity | Path |
//! |---|---|---|---|
//! | DP-12 | `payment_method.type` is `card` (the only credential type; the typed model enforces it, [`validate_value`] reports it) | error | `$.payment_method.type` |
//! | DP-13 | `card_number_type` ∈ `fpan`, `network_token` | error | `$.payment_method.card_number_type` |
//! | DP-13 | `number` not empty; for `fpan`: 12–19 ASCII digits and Luhn-valid (ISO/IEC 7812 PAN; a network token is opaque and only checked for presence) | error | `$.payment_method.number` |
//! | DP-13 | `virtual` present (RFC required; the schema makes it optional) | warning | `$.payment_method.virtual` |
//! | DP-14 | `exp_month` is `01`–`12` (two digits) | error | `$.payment_method.exp_month` |
//! | DP-14 | `exp_year` is four digits | error | `$.payment_method.exp_year` |
//! | DP-14 | `cvc` is 1–4 digits | error | `$.payment_method.cvc` |
//! | DP-14 | `iin` is 1–8 digits | error | `$.payment_method.iin` |
//! | DP-15 | `display_card_funding_type` ∈ credit, debit, prepaid | error | `$.payment_method.display_card_funding_type` |
//! | DP-15 | `display_last4` is four digits | error | `$.payment_method.display_last4` |
//! | DP-15 | for `fpan`, `display_last4` equals the number's last four digits | warning | `$.payment_method.display_last4` |
//! | DP-16 | `metadata` present on the request and on `payment_method` ([`validate_value`]; the typed model requires both) | error | `$.metadata`, `$.payment_method.metadata` |
//! | DP-17 | at least one risk signal (RFC §7; the 2026-04-17 schema allows none) | warning | `$.risk_signals` |
//! | DP-17 | each signal's `type` is `card_testing` and `action` ∈ `blocked`, `manual_review`, `authorized` | error | `$.risk_signals[i].type` / `.action` |
//! | DP-18 | billing `name` ≤ 256, `line_one`/`line_two`/`city` ≤ 60, `postal_code` ≤ 20 characters, `country` two ASCII letters (ISO 3166-1 alpha-2, uppercase recommended: lowercase is a warning) | error | `$.billing_address.<field>` |
//! | DP-05 | `allowance.reason` is `one_time` | error | `$.allowance.reason` |
//! | DP-10 | `allowance.merchant_id` is 1–256 characters | error | `$.allowance.merchant_id` |
//!
//! Every finding's `code` is `invalid_card`: the delegate-payment error `code` is a closed enum
//! (ERR-03) whose only validation code is `invalid_card` (the official 400 example uses it for
//! any missing card field too).
//!
//! Left to the integrator: card expiry against a clock, BIN/brand tables, DP-19/DP-20 (PCI
//! handling; this crate's card fields are [`Sensitive`](crate::wire::Sensitive) and redacted in
//! `Debug`), and DP-03/04/09/11 which need the charge, a clock and a ledger
//! ([`crate::trust::allowance`]).

use serde_json::Value;

use crate::parse::ParseError;
use crate::parse::json_path::JsonPath;
use crate::protocol::error::codes::INVALID_CARD;
use crate::protocol::finding::Finding;
use crate::spec::latest::delegate_payment::{
    Allowance, BillingAddress, CardNumberType, DelegatePaymentRequest, PaymentMethodCard,
};
use crate::trust::allowance::{AllowanceReason, AllowanceTerms};

impl From<&Allowance> for AllowanceTerms {
    /// The typed allowance as the input of [`crate::trust::allowance::check`]. The `reason` is kept as
    /// received so that `check` can report a non-`one_time` value (DP-05).
    fn from(a: &Allowance) -> Self {
        Self {
            reason: AllowanceReason::new(a.reason.as_str()),
            max_amount: a.max_amount.minor_units(),
            currency: a.currency.as_str().to_owned(),
            checkout_session_id: a.checkout_session_id.as_str().to_owned(),
            merchant_id: a.merchant_id.as_str().to_owned(),
            expires_at: a.expires_at.get(),
        }
    }
}

impl From<Allowance> for AllowanceTerms {
    fn from(a: Allowance) -> Self {
        Self::from(&a)
    }
}

fn root() -> JsonPath {
    JsonPath::root()
}

fn err(rule: &'static str, path: JsonPath, message: impl Into<String>) -> Finding {
    Finding::coded_error(rule, INVALID_CARD, path, message.into())
}

fn warn(rule: &'static str, path: JsonPath, message: impl Into<String>) -> Finding {
    Finding::coded_warning(rule, INVALID_CARD, path, message.into())
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The Luhn (mod 10) check of ISO/IEC 7812 over ASCII digits; `false` for anything else.
pub fn luhn_valid(digits: &str) -> bool {
    if !all_digits(digits) {
        return false;
    }
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

/// Every finding for a parsed delegate payment request (see the [module docs](self)).
pub fn validate_request(request: &DelegatePaymentRequest) -> Vec<Finding> {
    let mut findings = card_findings(&request.payment_method);
    if request.risk_signals.is_empty() {
        findings.push(warn(
            "DP-17",
            root().key("risk_signals"),
            "the RFC requires at least one risk signal (the schema allows none)",
        ));
    }
    for (i, signal) in request.risk_signals.iter().enumerate() {
        let at = root().key("risk_signals").index(i);
        if !signal.kind.is_known() {
            findings.push(err(
                "DP-17",
                at.key("type"),
                format!("unknown risk signal type {:?}", signal.kind.as_str()),
            ));
        }
        if !signal.action.is_known() {
            findings.push(err(
                "DP-17",
                at.key("action"),
                format!("unknown risk action {:?}", signal.action.as_str()),
            ));
        }
    }
    if let Some(address) = &request.billing_address {
        findings.extend(address_findings(address));
    }
    let allowance = root().key("allowance");
    if !request.allowance.reason.is_known() {
        findings.push(err(
            "DP-05",
            allowance.key("reason"),
            format!(
                "allowance reason must be one_time, not {:?}",
                request.allowance.reason.as_str()
            ),
        ));
    }
    let merchant_len = request.allowance.merchant_id.as_str().chars().count();
    if merchant_len == 0 || merchant_len > 256 {
        findings.push(err(
            "DP-10",
            allowance.key("merchant_id"),
            format!("merchant_id must be 1 to 256 characters, not {merchant_len}"),
        ));
    }
    findings
}

#[allow(clippy::too_many_lines)]
fn card_findings(card: &PaymentMethodCard) -> Vec<Finding> {
    let at = root().key("payment_method");
    let mut findings = Vec::new();
    let number = card.number.expose();
    let is_fpan = card.card_number_type == CardNumberType::Fpan;
    // Set when the fpan passed every number check, so display_last4 can be compared with it.
    let mut pan_valid = false;
    if !card.card_number_type.is_known() {
        findings.push(err(
            "DP-13",
            at.key("card_number_type"),
            format!(
                "card_number_type must be fpan or network_token, not {:?}",
                card.card_number_type.as_str()
            ),
        ));
    }
    if number.is_empty() {
        findings.push(err("DP-13", at.key("number"), "the card number is empty"));
    } else if is_fpan {
        let len = card.number.char_count();
        if !all_digits(number) || !(12..=19).contains(&len) {
            findings.push(err(
                "DP-13",
                at.key("number"),
                "an fpan card number must be 12 to 19 digits",
            ));
        } else if luhn_valid(number) {
            pan_valid = true;
        } else {
            findings.push(err(
                "DP-13",
                at.key("number"),
                "the card number fails the Luhn check",
            ));
        }
    }
    if card.is_virtual.is_none() {
        findings.push(warn(
            "DP-13",
            at.key("virtual"),
            "the RFC requires `virtual` (the schema makes it optional)",
        ));
    }
    if let Some(month) = &card.exp_month {
        let ok = month.len() == 2 && all_digits(month) && matches!(month.parse::<u8>(), Ok(1..=12));
        if !ok {
            findings.push(err(
                "DP-14",
                at.key("exp_month"),
                "exp_month must be two digits from 01 to 12",
            ));
        }
    }
    if let Some(year) = &card.exp_year {
        if !(year.len() == 4 && all_digits(year)) {
            findings.push(err(
                "DP-14",
                at.key("exp_year"),
                "exp_year must be four digits",
            ));
        }
    }
    if let Some(cvc) = &card.cvc {
        if !(all_digits(cvc.expose()) && cvc.char_count() <= 4) {
            findings.push(err("DP-14", at.key("cvc"), "cvc must be 1 to 4 digits"));
        }
    }
    if let Some(iin) = &card.iin {
        if !(all_digits(iin) && iin.len() <= 8) {
            findings.push(err("DP-14", at.key("iin"), "iin must be 1 to 8 digits"));
        }
    }
    if !card.display_card_funding_type.is_known() {
        findings.push(err(
            "DP-15",
            at.key("display_card_funding_type"),
            format!(
                "display_card_funding_type must be credit, debit or prepaid, not {:?}",
                card.display_card_funding_type.as_str()
            ),
        ));
    }
    if let Some(last4) = &card.display_last4 {
        if !(last4.len() == 4 && all_digits(last4)) {
            findings.push(err(
                "DP-15",
                at.key("display_last4"),
                "display_last4 must be four digits",
            ));
        } else if pan_valid && !number.ends_with(last4.as_str()) {
            findings.push(warn(
                "DP-15",
                at.key("display_last4"),
                "display_last4 does not match the card number",
            ));
        }
    }
    findings
}

fn address_findings(address: &BillingAddress) -> Vec<Finding> {
    let at = root().key("billing_address");
    let mut findings = Vec::new();
    let limits: [(&str, Option<&String>, usize); 5] = [
        ("name", Some(&address.name), 256),
        ("line_one", Some(&address.line_one), 60),
        ("line_two", address.line_two.as_ref(), 60),
        ("city", Some(&address.city), 60),
        ("postal_code", Some(&address.postal_code), 20),
    ];
    for (field, value, max) in limits {
        if let Some(value) = value {
            let len = value.chars().count();
            if len > max {
                findings.push(err(
                    "DP-18",
                    at.key(field),
                    format!("{field} must be at most {max} characters, not {len}"),
                ));
            }
        }
    }
    let country = address.country.as_str();
    if !(country.len() == 2 && country.bytes().all(|b| b.is_ascii_alphabetic())) {
        findings.push(err(
            "DP-18",
            at.key("country"),
            "country must be an ISO 3166-1 alpha-2 code (two letters)",
        ));
    } else if !country.bytes().all(|b| b.is_ascii_uppercase()) {
        findings.push(warn(
            "DP-18",
            at.key("country"),
            "ISO 3166-1 alpha-2 codes are uppercase",
        ));
    }
    findings
}

/// Checks raw JSON: DP-12 (`payment_method.type` is `card`) and DP-16 (both `metadata`
/// objects present) are reported as findings; when they pass, the body is parsed leniently and
/// [`validate_request`] runs.
///
/// # Errors
/// [`ParseError`] (with its JSONPath) when the body passes DP-12/DP-16 but cannot be read as a
/// [`DelegatePaymentRequest`] at all.
pub fn validate_value(value: &Value) -> Result<Vec<Finding>, ParseError> {
    let mut findings = Vec::new();
    let pm = value.get("payment_method");
    let pm_at = root().key("payment_method");
    match pm.and_then(|p| p.get("type")) {
        Some(Value::String(t)) if t == "card" => {}
        Some(other) => findings.push(err(
            "DP-12",
            pm_at.key("type"),
            format!("payment_method.type must be card, not {other}"),
        )),
        None => findings.push(err(
            "DP-12",
            pm_at.key("type"),
            "payment_method.type is required and must be card",
        )),
    }
    if pm.is_some_and(|p| !p.get("metadata").is_some_and(Value::is_object)) {
        findings.push(err(
            "DP-16",
            pm_at.key("metadata"),
            "payment_method.metadata (a string map) is required",
        ));
    }
    if !value.get("metadata").is_some_and(Value::is_object) {
        findings.push(err(
            "DP-16",
            root().key("metadata"),
            "metadata (a string map) is required",
        ));
    }
    if !findings.is_empty() {
        return Ok(findings);
    }
    let request: DelegatePaymentRequest = crate::parse::from_value(value)?;
    Ok(validate_request(&request))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::protocol::finding::Severity;
    use serde_json::json;

    fn example() -> Value {
        json!({
            "payment_method": {
                "type": "card", "card_number_type": "fpan", "virtual": false,
                "number": "4242424242424242", "exp_month": "11", "exp_year": "2026",
                "name": "Jane Doe", "cvc": "223", "checks_performed": ["avs", "cvv"],
                "iin": "424242", "display_card_funding_type": "credit",
                "display_wallet_type": "apple_pay", "display_brand": "visa",
                "display_last4": "4242", "metadata": {"issuing_bank": "temp"}
            },
            "allowance": {"reason": "one_time", "max_amount": 2000, "currency": "usd",
                "checkout_session_id": "csn_01HV3P3XYZ9ABC", "merchant_id": "acme_store",
                "expires_at": "2025-10-09T07:20:50.52Z"},
            "billing_address": {"name": "Ada Lovelace", "line_one": "1234 Chat Road",
                "line_two": "", "city": "San Francisco", "state": "CA", "country": "US",
                "postal_code": "94131"},
            "risk_signals": [{"type": "card_testing", "score": 10, "action": "manual_review"}],
            "metadata": {"campaign": "q4", "source": "chatgpt_checkout"}
        })
    }

    fn with(path: &[&str], v: Value) -> Value {
        let mut out = example();
        let mut slot = &mut out;
        for p in &path[..path.len() - 1] {
            slot = &mut slot[*p];
        }
        let last = path[path.len() - 1];
        if v.is_null() {
            slot.as_object_mut().unwrap().remove(last);
        } else {
            slot[last] = v;
        }
        out
    }

    fn findings(v: &Value) -> Vec<(String, &'static str, Severity)> {
        validate_value(v)
            .unwrap()
            .into_iter()
            .map(|f| (f.param.to_string(), f.rule, f.severity))
            .collect()
    }

    #[test]
    fn official_example_is_clean() {
        assert!(findings(&example()).is_empty());
    }

    #[test]
    fn luhn() {
        assert!(luhn_valid("4242424242424242"));
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("4242424242424241"));
        assert!(!luhn_valid("4242x"));
        assert!(!luhn_valid(""));
    }

    #[test]
    fn dp_12_credential_type_must_be_card() {
        let f = findings(&with(&["payment_method", "type"], json!("network_token")));
        assert_eq!(
            f,
            [("$.payment_method.type".into(), "DP-12", Severity::Error)]
        );
        let f = findings(&with(&["payment_method", "type"], Value::Null));
        assert_eq!(f[0].0, "$.payment_method.type");
    }

    #[test]
    fn dp_13_number_and_virtual() {
        let e = Severity::Error;
        for (number, ok) in [
            ("4242424242424241", false),
            ("4242 4242 4242 4242", false),
            ("42", false),
            ("4000056655665556", true),
        ] {
            let f = findings(&with(&["payment_method", "number"], json!(number)));
            let expect: Vec<(String, &str, Severity)> = if ok {
                vec![(
                    "$.payment_method.display_last4".into(),
                    "DP-15",
                    Severity::Warning,
                )]
            } else {
                vec![("$.payment_method.number".into(), "DP-13", e)]
            };
            assert_eq!(f, expect, "{number}");
        }
        // A network token is opaque: no Luhn or digit check.
        let token = with(
            &["payment_method", "card_number_type"],
            json!("network_token"),
        );
        let token = {
            let mut t = token;
            t["payment_method"]["number"] = json!("tok-opaque");
            t
        };
        assert!(findings(&token).is_empty());
        let f = findings(&with(
            &["payment_method", "card_number_type"],
            json!("dpan"),
        ));
        assert!(f.contains(&("$.payment_method.card_number_type".into(), "DP-13", e)));
        let f = findings(&with(&["payment_method", "virtual"], Value::Null));
        assert_eq!(
            f,
            [(
                "$.payment_method.virtual".into(),
                "DP-13",
                Severity::Warning
            )]
        );
    }

    #[test]
    fn dp_14_expiry_cvc_iin() {
        for (field, bad, good) in [
            ("exp_month", vec!["00", "13", "1", "ab"], vec!["01", "12"]),
            ("exp_year", vec!["26", "20x6"], vec!["2030"]),
            ("cvc", vec!["12a", ""], vec!["1234", "12"]),
            ("iin", vec!["4242x", ""], vec!["42424242"]),
        ] {
            let path = format!("$.payment_method.{field}");
            for v in bad {
                let f = findings(&with(&["payment_method", field], json!(v)));
                assert_eq!(f, [(path.clone(), "DP-14", Severity::Error)], "{field}={v}");
            }
            for v in good {
                assert!(findings(&with(&["payment_method", field], json!(v))).is_empty());
            }
        }
    }

    #[test]
    fn dp_15_funding_and_last4() {
        let f = findings(&with(
            &["payment_method", "display_card_funding_type"],
            json!("charge"),
        ));
        assert_eq!(
            f,
            [(
                "$.payment_method.display_card_funding_type".into(),
                "DP-15",
                Severity::Error
            )]
        );
        let f = findings(&with(&["payment_method", "display_last4"], json!("42")));
        assert_eq!(
            f,
            [(
                "$.payment_method.display_last4".into(),
                "DP-15",
                Severity::Error
            )]
        );
        let f = findings(&with(&["payment_method", "display_last4"], json!("1111")));
        assert_eq!(
            f,
            [(
                "$.payment_method.display_last4".into(),
                "DP-15",
                Severity::Warning
            )]
        );
    }

    #[test]
    fn dp_16_metadata_required() {
        let f = findings(&with(&["metadata"], Value::Null));
        assert_eq!(f, [("$.metadata".into(), "DP-16", Severity::Error)]);
        let f = findings(&with(&["payment_method", "metadata"], Value::Null));
        assert_eq!(
            f,
            [("$.payment_method.metadata".into(), "DP-16", Severity::Error)]
        );
    }

    #[test]
    fn dp_17_risk_signals() {
        let f = findings(&with(&["risk_signals"], json!([])));
        assert_eq!(f, [("$.risk_signals".into(), "DP-17", Severity::Warning)]);
        let f = findings(&with(
            &["risk_signals"],
            json!([{"type": "velocity", "score": 1, "action": "allow"}]),
        ));
        assert_eq!(
            f,
            [
                ("$.risk_signals[0].type".into(), "DP-17", Severity::Error),
                ("$.risk_signals[0].action".into(), "DP-17", Severity::Error)
            ]
        );
    }

    #[test]
    fn dp_18_billing_address_limits() {
        let f = findings(&with(&["billing_address", "city"], json!("x".repeat(61))));
        assert_eq!(
            f,
            [("$.billing_address.city".into(), "DP-18", Severity::Error)]
        );
        assert!(findings(&with(&["billing_address", "city"], json!("é".repeat(60)))).is_empty());
        let f = findings(&with(&["billing_address", "name"], json!("n".repeat(257))));
        assert_eq!(f[0].0, "$.billing_address.name");
        let f = findings(&with(
            &["billing_address", "postal_code"],
            json!("1".repeat(21)),
        ));
        assert_eq!(f[0].0, "$.billing_address.postal_code");
        let f = findings(&with(
            &["billing_address", "line_two"],
            json!("l".repeat(61)),
        ));
        assert_eq!(f[0].0, "$.billing_address.line_two");
        let f = findings(&with(&["billing_address", "country"], json!("U1")));
        assert_eq!(
            f,
            [("$.billing_address.country".into(), "DP-18", Severity::Error)]
        );
        let f = findings(&with(&["billing_address", "country"], json!("us")));
        assert_eq!(
            f,
            [(
                "$.billing_address.country".into(),
                "DP-18",
                Severity::Warning
            )]
        );
    }

    #[test]
    fn dp_05_dp_10_allowance_shape() {
        let f = findings(&with(&["allowance", "reason"], json!("recurring")));
        assert_eq!(f, [("$.allowance.reason".into(), "DP-05", Severity::Error)]);
        let f = findings(&with(&["allowance", "merchant_id"], json!("m".repeat(257))));
        assert_eq!(
            f,
            [("$.allowance.merchant_id".into(), "DP-10", Severity::Error)]
        );
    }

    #[test]
    fn parse_failure_is_a_parse_error_with_path() {
        let e = validate_value(&with(&["allowance", "max_amount"], json!("lots"))).unwrap_err();
        assert_eq!(e.path.to_string(), "$.allowance.max_amount");
    }

    #[test]
    fn dp_19_debug_never_shows_card_number_or_cvc() {
        let request: DelegatePaymentRequest = crate::parse::from_value(&example()).unwrap();
        let debug = format!("{request:?}");
        let pretty = format!("{request:#?}");
        for text in [&debug, &pretty] {
            assert!(!text.contains("4242424242424242"));
            assert!(!text.contains("223"));
            assert!(text.contains("[REDACTED]"));
        }
        // The wire form still carries the values (it is the payload).
        let wire = serde_json::to_value(&request).unwrap();
        assert_eq!(wire, example());
    }

    #[test]
    fn dp_03_allowance_terms_from_typed_model() {
        use crate::trust::allowance::{ProposedCharge, check};
        use time::macros::datetime;
        let request: DelegatePaymentRequest = crate::parse::from_value(&example()).unwrap();
        let terms = AllowanceTerms::from(&request.allowance);
        assert_eq!(terms.max_amount, 2000);
        assert_eq!(terms.currency, "usd");
        assert_eq!(terms.merchant_id, "acme_store");
        assert_eq!(terms.expires_at, datetime!(2025-10-09 07:20:50.52 UTC));
        let charge = ProposedCharge {
            amount: 2000,
            currency: "USD".into(),
            checkout_session_id: "csn_01HV3P3XYZ9ABC".into(),
            merchant_id: "acme_store".into(),
        };
        assert!(check(&terms, &charge, datetime!(2025-10-09 07:00 UTC)).is_ok());
        let over = ProposedCharge {
            amount: 2001,
            ..charge
        };
        assert!(check(&terms, &over, datetime!(2025-10-09 07:00 UTC)).is_err());
    }
}
