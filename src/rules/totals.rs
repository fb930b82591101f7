//! Totals, fulfillment selection and discount consistency (the rules
//! CHK-06, CHK-07, DSC-05 … DSC-08, advisory ARITH-09/ARITH-10).

use std::collections::BTreeMap;

use super::Finding;
use crate::parse::json_path::JsonPath;
use crate::primitives::Amount;
use crate::spec::latest::agentic_checkout::{
    AppliedDiscount, CheckoutSession, FulfillmentOption, LineItem, Total, TotalType,
};

/// Runs the checks of this module.
pub fn check(session: &CheckoutSession, out: &mut Vec<Finding>) {
    let root = JsonPath::root();
    check_selected_fulfillment(session, out);
    if !session.totals.iter().any(|t| t.kind == TotalType::Total) {
        out.push(Finding::warning(
            "CHK-07",
            root.key("totals"),
            "the session SHOULD include a total of type `total`",
        ));
    }
    for (i, total) in session.totals.iter().enumerate() {
        check_non_negative_discount_total(total, &root.key("totals").index(i), out);
    }
    for (i, line) in session.line_items.iter().enumerate() {
        let path = root.key("line_items").index(i);
        for (j, total) in line.totals.iter().enumerate() {
            check_non_negative_discount_total(total, &path.key("totals").index(j), out);
        }
        check_line_arithmetic(line, &path, out);
    }
    if let Some(discounts) = &session.discounts {
        for (i, applied) in discounts.applied.iter().flatten().enumerate() {
            check_applied(applied, &root.key("discounts").key("applied").index(i), out);
        }
    }
    check_items_discount(session, out);
    check_session_arithmetic(session, out);
}

fn option_id_and_type(option: &FulfillmentOption) -> Option<(&str, &str)> {
    let id = match option {
        FulfillmentOption::Shipping(o) => o.id.as_str(),
        FulfillmentOption::Digital(o) => o.id.as_str(),
        FulfillmentOption::Pickup(o) => o.id.as_str(),
        FulfillmentOption::LocalDelivery(o) => o.id.as_str(),
        FulfillmentOption::Unknown(map) => map.get("id")?.as_str()?,
    };
    Some((id, option.kind()))
}

/// CHK-06: selections name an offered option of the same type.
fn check_selected_fulfillment(session: &CheckoutSession, out: &mut Vec<Finding>) {
    let offered: BTreeMap<&str, &str> = session
        .fulfillment_options
        .iter()
        .filter_map(option_id_and_type)
        .collect();
    let base = JsonPath::root().key("selected_fulfillment_options");
    for (i, selected) in session
        .selected_fulfillment_options
        .iter()
        .flatten()
        .enumerate()
    {
        let id = selected.option_id.as_str();
        match offered.get(id) {
            None => out.push(Finding::error(
                "CHK-06",
                base.index(i).key("option_id"),
                format!("selected fulfillment option `{id}` is not among fulfillment_options"),
            )),
            Some(kind) if *kind != selected.kind.as_str() => out.push(Finding::error(
                "CHK-06",
                base.index(i).key("type"),
                format!(
                    "selection type `{}` differs from option `{id}` of type `{kind}`",
                    selected.kind.as_str()
                ),
            )),
            Some(_) => {}
        }
    }
}

fn is_discount(kind: &TotalType) -> bool {
    *kind == TotalType::Discount || *kind == TotalType::ItemsDiscount
}

/// DSC-07: discounts are non-negative, displayed subtractively.
fn check_non_negative_discount_total(total: &Total, path: &JsonPath, out: &mut Vec<Finding>) {
    if is_discount(&total.kind) && total.amount < Amount::ZERO {
        out.push(Finding::error(
            "DSC-07",
            path.key("amount"),
            format!(
                "`{}` amounts are non-negative (shown as subtractions), found {}",
                total.kind.as_str(),
                total.amount
            ),
        ));
    }
}

/// DSC-05, DSC-07, DSC-08 for one applied discount.
fn check_applied(applied: &AppliedDiscount, path: &JsonPath, out: &mut Vec<Finding>) {
    if applied.amount < Amount::ZERO {
        out.push(Finding::error(
            "DSC-07",
            path.key("amount"),
            format!(
                "discount amount must be non-negative, found {}",
                applied.amount
            ),
        ));
    }
    if let Some(allocations) = &applied.allocations {
        for (i, a) in allocations.iter().enumerate() {
            if a.amount < Amount::ZERO {
                out.push(Finding::error(
                    "DSC-07",
                    path.key("allocations").index(i).key("amount"),
                    format!("allocation amount must be non-negative, found {}", a.amount),
                ));
            }
        }
        match Amount::checked_sum(allocations.iter().map(|a| a.amount)) {
            None => out.push(Finding::error(
                "DSC-05",
                path.key("allocations"),
                "the allocation amounts overflow a 64-bit integer",
            )),
            Some(sum) if sum != applied.amount => out.push(Finding::error(
                "DSC-05",
                path.key("allocations"),
                format!(
                    "allocations sum to {sum} but the applied discount amount is {}",
                    applied.amount
                ),
            )),
            Some(_) => {}
        }
    }
    let coupon = &applied.coupon;
    let cpath = path.key("coupon");
    match (&coupon.percent_off, &coupon.amount_off) {
        (Some(_), Some(_)) => out.push(Finding::error(
            "DSC-08",
            cpath.clone(),
            "a coupon has percent_off or amount_off, not both",
        )),
        (None, None) => out.push(Finding::error(
            "DSC-08",
            cpath.clone(),
            "a coupon needs percent_off or amount_off",
        )),
        _ => {}
    }
    if coupon.amount_off.is_some() && coupon.currency.is_none() {
        out.push(Finding::error(
            "DSC-08",
            cpath.key("currency"),
            "a coupon with amount_off needs a currency",
        ));
    }
}

/// Σ of the totals of `kind`, `Ok(None)` when there is none, `Err(())` on
/// overflow.
fn sum_of(totals: &[Total], kind: &TotalType) -> Result<Option<Amount>, ()> {
    let mut found = false;
    let sum = Amount::checked_sum(totals.iter().filter(|t| t.kind == *kind).map(|t| {
        found = true;
        t.amount
    }))
    .ok_or(())?;
    Ok(found.then_some(sum))
}

/// The path of the first total of `kind` in `totals` (the array at `at`): where a
/// finding about that total points. `at` itself when there is none.
fn total_path(totals: &[Total], kind: &TotalType, at: &JsonPath) -> JsonPath {
    totals
        .iter()
        .position(|t| t.kind == *kind)
        .map_or_else(|| at.clone(), |k| at.index(k))
}

fn overflow(rule: &'static str, path: JsonPath) -> Finding {
    Finding::error(rule, path, "the amounts overflow a 64-bit integer")
}

/// DSC-06 (warning): session `items_discount` = Σ line-item discounts.
fn check_items_discount(session: &CheckoutSession, out: &mut Vec<Finding>) {
    let path = JsonPath::root().key("totals");
    let session_sum = match sum_of(&session.totals, &TotalType::ItemsDiscount) {
        Err(()) => return out.push(overflow("DSC-06", path)),
        Ok(None) => return,
        Ok(Some(sum)) => sum,
    };
    let line_amounts = session
        .line_items
        .iter()
        .flat_map(|l| l.totals.iter())
        .filter(|t| is_discount(&t.kind))
        .map(|t| t.amount);
    match Amount::checked_sum(line_amounts) {
        None => out.push(overflow("DSC-06", path)),
        Some(lines) if lines != session_sum => out.push(Finding::warning(
            "DSC-06",
            total_path(&session.totals, &TotalType::ItemsDiscount, &path),
            format!(
                "items_discount totals sum to {session_sum} but line-item discounts sum to {lines}"
            ),
        )),
        Some(_) => {}
    }
}

/// ARITH-09 (warning): base = unit × quantity; subtotal = base − discount;
/// total = subtotal + tax, each checked only when its inputs are present.
fn check_line_arithmetic(line: &LineItem, path: &JsonPath, out: &mut Vec<Finding>) {
    let totals = path.key("totals");
    let get = |kind: TotalType| sum_of(&line.totals, &kind);
    let (Ok(base), Ok(discount), Ok(items_discount), Ok(subtotal), Ok(tax), Ok(total)) = (
        get(TotalType::ItemsBaseAmount),
        get(TotalType::Discount),
        get(TotalType::ItemsDiscount),
        get(TotalType::Subtotal),
        get(TotalType::Tax),
        get(TotalType::Total),
    ) else {
        return out.push(overflow("ARITH-09", totals));
    };
    if let (Some(unit), Some(base)) = (line.unit_amount, base) {
        match unit.checked_mul(line.quantity) {
            None => out.push(overflow("ARITH-09", totals.clone())),
            Some(expected) if expected != base => out.push(Finding::warning(
                "ARITH-09",
                total_path(&line.totals, &TotalType::ItemsBaseAmount, &totals),
                format!(
                    "items_base_amount {base} differs from unit_amount {unit} × quantity {}",
                    line.quantity
                ),
            )),
            Some(_) => {}
        }
    }
    let discounts = discount
        .unwrap_or_default()
        .checked_add(items_discount.unwrap_or_default());
    if let (Some(base), Some(subtotal)) = (base, subtotal) {
        match discounts.and_then(|d| base.checked_sub(d)) {
            None => out.push(overflow("ARITH-09", totals.clone())),
            Some(expected) if expected != subtotal => out.push(Finding::warning(
                "ARITH-09",
                total_path(&line.totals, &TotalType::Subtotal, &totals),
                format!(
                    "subtotal {subtotal} differs from base {base} − discounts ({expected} expected)"
                ),
            )),
            Some(_) => {}
        }
    }
    if let (Some(subtotal), Some(total)) = (subtotal, total) {
        match subtotal.checked_add(tax.unwrap_or_default()) {
            None => out.push(overflow("ARITH-09", totals)),
            Some(expected) if expected != total => out.push(Finding::warning(
                "ARITH-09",
                total_path(&line.totals, &TotalType::Total, &totals),
                format!("total {total} differs from subtotal + tax ({expected})"),
            )),
            Some(_) => {}
        }
    }
}

/// ARITH-10 (warning): total = subtotal + fulfillment + tax + fee +
/// `gift_wrap` + tip − discount − `store_credit`, when `subtotal` and `total` exist.
fn check_session_arithmetic(session: &CheckoutSession, out: &mut Vec<Finding>) {
    let path = JsonPath::root().key("totals");
    let totals = &session.totals;
    let (Ok(Some(subtotal)), Ok(Some(total))) = (
        sum_of(totals, &TotalType::Subtotal),
        sum_of(totals, &TotalType::Total),
    ) else {
        // Absent: nothing to compare. Overflow is caught below.
        if sum_of(totals, &TotalType::Subtotal).is_err()
            || sum_of(totals, &TotalType::Total).is_err()
        {
            out.push(overflow("ARITH-10", path));
        }
        return;
    };
    let mut expected = Some(subtotal);
    for kind in [
        TotalType::Fulfillment,
        TotalType::Tax,
        TotalType::Fee,
        TotalType::GiftWrap,
        TotalType::Tip,
    ] {
        expected = match (expected, sum_of(totals, &kind)) {
            (Some(acc), Ok(v)) => acc.checked_add(v.unwrap_or_default()),
            _ => None,
        };
    }
    for kind in [TotalType::Discount, TotalType::StoreCredit] {
        expected = match (expected, sum_of(totals, &kind)) {
            (Some(acc), Ok(v)) => acc.checked_sub(v.unwrap_or_default()),
            _ => None,
        };
    }
    match expected {
        None => out.push(overflow("ARITH-10", path)),
        Some(expected) if expected != total => out.push(Finding::warning(
            "ARITH-10",
            total_path(totals, &TotalType::Total, &path),
            format!(
                "total {total} differs from subtotal + fulfillment + tax + fee + gift_wrap + tip \
                 − discount − store_credit ({expected})"
            ),
        )),
        Some(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Severity;
    use serde_json::{Value, json};

    pub(crate) fn session(patch: &Value) -> CheckoutSession {
        let mut base = json!({
            "id": "cs_1", "capabilities": {}, "status": "ready_for_payment", "currency": "usd",
            "line_items": [{"id": "li_1", "item": {"id": "item_1"}, "quantity": 2, "unit_amount": 500,
                "totals": [
                    {"type": "items_base_amount", "display_text": "Base", "amount": 1000},
                    {"type": "discount", "display_text": "Discount", "amount": 100},
                    {"type": "subtotal", "display_text": "Subtotal", "amount": 900},
                    {"type": "tax", "display_text": "Tax", "amount": 90},
                    {"type": "total", "display_text": "Total", "amount": 990}]}],
            "fulfillment_options": [{"type": "shipping", "id": "ship", "title": "Std",
                "totals": [{"type": "total", "display_text": "Shipping", "amount": 100}]}],
            "selected_fulfillment_options": [{"type": "shipping", "option_id": "ship", "item_ids": ["item_1"]}],
            "totals": [
                {"type": "subtotal", "display_text": "Subtotal", "amount": 900},
                {"type": "fulfillment", "display_text": "Shipping", "amount": 100},
                {"type": "tax", "display_text": "Tax", "amount": 90},
                {"type": "total", "display_text": "Total", "amount": 1090}],
            "messages": [], "links": []
        });
        merge(&mut base, patch);
        serde_json::from_value(base).unwrap()
    }

    fn merge(base: &mut Value, patch: &Value) {
        if let (Some(b), Some(p)) = (base.as_object_mut(), patch.as_object()) {
            for (k, v) in p {
                b.insert(k.clone(), v.clone());
            }
        }
    }

    fn run(s: &CheckoutSession) -> Vec<Finding> {
        let mut out = Vec::new();
        check(s, &mut out);
        out
    }

    fn rules(s: &CheckoutSession) -> Vec<(&'static str, Severity, String)> {
        run(s)
            .into_iter()
            .map(|f| (f.rule, f.severity, f.param.to_string()))
            .collect()
    }

    #[test]
    fn consistent_session_has_no_findings() {
        assert_eq!(run(&session(&json!({}))), []);
    }

    #[test]
    fn chk06_unknown_option_and_type_mismatch_are_errors() {
        let s = session(&json!({"selected_fulfillment_options": [
            {"type": "shipping", "option_id": "nope", "item_ids": []},
            {"type": "digital", "option_id": "ship", "item_ids": []}]}));
        assert_eq!(
            rules(&s),
            [
                (
                    "CHK-06",
                    Severity::Error,
                    "$.selected_fulfillment_options[0].option_id".into()
                ),
                (
                    "CHK-06",
                    Severity::Error,
                    "$.selected_fulfillment_options[1].type".into()
                ),
            ]
        );
    }

    #[test]
    fn chk07_missing_total_is_a_warning() {
        let s =
            session(&json!({"totals": [{"type": "subtotal", "display_text": "S", "amount": 900}]}));
        assert_eq!(
            rules(&s),
            [("CHK-07", Severity::Warning, "$.totals".into())]
        );
    }

    fn with_discount(applied: &Value) -> CheckoutSession {
        session(&json!({"discounts": {"codes": ["X"], "applied": [applied]}}))
    }

    #[test]
    fn dsc05_allocations_must_sum_to_the_discount() {
        let ok = with_discount(
            &json!({"id": "d", "coupon": {"id": "c", "name": "n", "percent_off": 10},
            "amount": 100, "allocations": [{"path": "$.line_items[0]", "amount": 60}, {"path": "$.line_items[1]", "amount": 40}]}),
        );
        assert_eq!(run(&ok), []);
        let bad = with_discount(
            &json!({"id": "d", "coupon": {"id": "c", "name": "n", "percent_off": 10},
            "amount": 100, "allocations": [{"path": "$.line_items[0]", "amount": 60}]}),
        );
        assert_eq!(
            rules(&bad),
            [(
                "DSC-05",
                Severity::Error,
                "$.discounts.applied[0].allocations".into()
            )]
        );
    }

    #[test]
    fn dsc05_overflow_is_a_finding_not_a_panic() {
        let s = with_discount(
            &json!({"id": "d", "coupon": {"id": "c", "name": "n", "percent_off": 10},
            "amount": 1, "allocations": [{"path": "$.a", "amount": i64::MAX}, {"path": "$.b", "amount": i64::MAX}]}),
        );
        let f = run(&s);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].is_error() && f[0].message.contains("overflow"),
            "{f:?}"
        );
    }

    #[test]
    fn dsc07_dsc08_coupon_and_sign_rules() {
        let s = with_discount(
            &json!({"id": "d", "coupon": {"id": "c", "name": "n", "percent_off": 10, "amount_off": 5},
            "amount": -1}),
        );
        assert_eq!(
            rules(&s),
            [
                (
                    "DSC-07",
                    Severity::Error,
                    "$.discounts.applied[0].amount".into()
                ),
                (
                    "DSC-08",
                    Severity::Error,
                    "$.discounts.applied[0].coupon".into()
                ),
                (
                    "DSC-08",
                    Severity::Error,
                    "$.discounts.applied[0].coupon.currency".into()
                ),
            ]
        );
        let none =
            with_discount(&json!({"id": "d", "coupon": {"id": "c", "name": "n"}, "amount": 0}));
        assert_eq!(
            rules(&none),
            [(
                "DSC-08",
                Severity::Error,
                "$.discounts.applied[0].coupon".into()
            )]
        );
        let neg_total = session(&json!({"totals": [
            {"type": "subtotal", "display_text": "S", "amount": 900},
            {"type": "discount", "display_text": "D", "amount": -10},
            {"type": "total", "display_text": "T", "amount": 910}]}));
        assert_eq!(
            rules(&neg_total),
            [("DSC-07", Severity::Error, "$.totals[1].amount".into())]
        );
    }

    #[test]
    fn dsc06_items_discount_mismatch_is_a_warning() {
        // The finding points at the items_discount total, not at `totals`.
        let s = session(&json!({"totals": [
            {"type": "subtotal", "display_text": "S", "amount": 900},
            {"type": "items_discount", "display_text": "D", "amount": 150},
            {"type": "total", "display_text": "T", "amount": 900}]}));
        assert_eq!(
            rules(&s),
            [("DSC-06", Severity::Warning, "$.totals[1]".into())]
        );
        let ok = session(&json!({"totals": [
            {"type": "items_discount", "display_text": "D", "amount": 100},
            {"type": "subtotal", "display_text": "S", "amount": 900},
            {"type": "total", "display_text": "T", "amount": 900}]}));
        assert_eq!(run(&ok), []);
    }

    #[test]
    fn arith09_line_arithmetic_is_advisory() {
        let mut s = session(&json!({}));
        s.line_items[0].quantity = 3;
        s.line_items[0].totals[4].amount = Amount(1);
        let f = rules(&s);
        // Each finding points at the total that does not add up: the
        // items_base_amount (base ≠ unit × quantity) and the total.
        assert_eq!(
            f,
            [
                (
                    "ARITH-09",
                    Severity::Warning,
                    "$.line_items[0].totals[0]".into()
                ),
                (
                    "ARITH-09",
                    Severity::Warning,
                    "$.line_items[0].totals[4]".into()
                ),
            ]
        );
        let mut s = session(&json!({}));
        s.line_items[0].totals[2].amount = Amount(899);
        assert_eq!(
            rules(&s),
            [
                (
                    "ARITH-09",
                    Severity::Warning,
                    "$.line_items[0].totals[2]".into()
                ),
                (
                    "ARITH-09",
                    Severity::Warning,
                    "$.line_items[0].totals[4]".into()
                ),
            ]
        );
        s.line_items[0].quantity = i64::MAX;
        assert!(
            run(&s)
                .iter()
                .any(|f| f.is_error() && f.message.contains("overflow"))
        );
    }

    #[test]
    fn arith10_session_total_is_advisory_and_overflow_safe() {
        let s = session(&json!({"totals": [
            {"type": "subtotal", "display_text": "S", "amount": 900},
            {"type": "fee", "display_text": "F", "amount": 50},
            {"type": "discount", "display_text": "D", "amount": 20},
            {"type": "store_credit", "display_text": "C", "amount": 30},
            {"type": "total", "display_text": "T", "amount": 900}]}));
        assert_eq!(run(&s), []);
        let s = session(&json!({"totals": [
            {"type": "subtotal", "display_text": "S", "amount": 900},
            {"type": "total", "display_text": "T", "amount": 901}]}));
        assert_eq!(
            rules(&s),
            [("ARITH-10", Severity::Warning, "$.totals[1]".into())]
        );
        let s = session(&json!({"totals": [
            {"type": "subtotal", "display_text": "S", "amount": i64::MAX},
            {"type": "tax", "display_text": "T", "amount": 1},
            {"type": "total", "display_text": "T", "amount": 1}]}));
        let f = run(&s);
        assert!(
            f.iter().any(|f| f.rule == "ARITH-10" && f.is_error()),
            "{f:?}"
        );
    }
}
