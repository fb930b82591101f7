//! Order consistency (RFC orders §4): quantities,
//! references, refunds.

use std::collections::BTreeMap;

use super::Finding;
use crate::parse::json_path::JsonPath;
use crate::primitives::Amount;
use crate::spec::latest::agentic_checkout::{
    LineItemReference, Order, OrderLineItem, OrderLineItemQuantity, TotalType,
};

/// Checks `order`, reporting paths under `base` (`$.order` inside a
/// session, `$` for a standalone order).
pub fn check(order: &Order, base: &JsonPath, out: &mut Vec<Finding>) {
    let lines = order.line_items.as_deref().unwrap_or_default();
    let by_id: BTreeMap<&str, &OrderLineItem> = lines.iter().map(|l| (l.id.as_str(), l)).collect();
    for (i, line) in lines.iter().enumerate() {
        check_quantity(line, &base.key("line_items").index(i), out);
    }

    // ORD-09: references exist; Σ fulfilled quantity per line ≤ ordered.
    let mut shipped: BTreeMap<&str, i64> = BTreeMap::new();
    let mut overflowed = false;
    for (f, fulfillment) in order.fulfillments.iter().flatten().enumerate() {
        let path = base.key("fulfillments").index(f).key("line_items");
        for (r, reference) in fulfillment.line_items.iter().flatten().enumerate() {
            if check_reference(reference, &by_id, &path.index(r), out) {
                let slot = shipped.entry(reference.id.as_str()).or_insert(0);
                match slot.checked_add(reference.quantity) {
                    Some(v) => *slot = v,
                    None => overflowed = true,
                }
            }
        }
    }
    if overflowed {
        out.push(Finding::error(
            "ORD-09",
            base.key("fulfillments"),
            "fulfillment quantities overflow a 64-bit integer",
        ));
    }
    for (i, line) in lines.iter().enumerate() {
        if let Some(&total) = shipped.get(line.id.as_str()) {
            if total > line.quantity.ordered {
                out.push(Finding::error(
                    "ORD-09",
                    base.key("line_items")
                        .index(i)
                        .key("quantity")
                        .key("ordered"),
                    format!(
                        "fulfillments cover {total} of line `{}` but only {} were ordered",
                        line.id, line.quantity.ordered
                    ),
                ));
            }
        }
    }
    for (a, adjustment) in order.adjustments.iter().flatten().enumerate() {
        let path = base.key("adjustments").index(a).key("line_items");
        for (r, reference) in adjustment.line_items.iter().flatten().enumerate() {
            check_reference(reference, &by_id, &path.index(r), out);
        }
    }
    check_refunds(order, base, out);
    check_subtotal(order, lines, base, out);
}

/// ORD-02: the status a line's quantities give it: `removed` when nothing is current,
/// `fulfilled` when everything current is fulfilled, `partial` when some is, `processing`
/// otherwise.
pub fn derived_line_status(q: &OrderLineItemQuantity) -> &'static str {
    let fulfilled = q.fulfilled.unwrap_or(0);
    if q.current == 0 {
        "removed"
    } else if fulfilled == q.current {
        "fulfilled"
    } else if fulfilled > 0 {
        "partial"
    } else {
        "processing"
    }
}

/// ORD-03 (error) and ORD-02 (warning) for one line.
fn check_quantity(line: &OrderLineItem, path: &JsonPath, out: &mut Vec<Finding>) {
    let q = &line.quantity;
    let fulfilled = q.fulfilled.unwrap_or(0);
    let qpath = path.key("quantity");
    let ok = q.ordered >= 1 && 0 <= fulfilled && fulfilled <= q.current && q.current <= q.ordered;
    if !ok {
        out.push(Finding::error(
            "ORD-03",
            qpath,
            format!(
                "quantities must satisfy ordered ≥ 1 and 0 ≤ fulfilled ≤ current ≤ ordered \
                 (ordered {}, current {}, fulfilled {fulfilled})",
                q.ordered, q.current
            ),
        ));
        return;
    }
    let derived = derived_line_status(q);
    // ORD-01: unknown status values are accepted, so only the documented
    // four are compared.
    if let Some(status) = &line.status {
        if ["processing", "partial", "fulfilled", "removed"].contains(&status.as_str())
            && status != derived
        {
            out.push(Finding::warning(
                "ORD-02",
                path.key("status"),
                format!("status `{status}` disagrees with the quantities, which give `{derived}`"),
            ));
        }
    }
}

/// ORD-09: a reference names an existing line with quantity ≥ 1. Returns
/// whether it names an existing line.
fn check_reference(
    reference: &LineItemReference,
    lines: &BTreeMap<&str, &OrderLineItem>,
    path: &JsonPath,
    out: &mut Vec<Finding>,
) -> bool {
    if reference.quantity < 1 {
        out.push(Finding::error(
            "ORD-09",
            path.key("quantity"),
            format!(
                "a line reference quantity is at least 1, found {}",
                reference.quantity
            ),
        ));
    }
    let exists = lines.contains_key(reference.id.as_str());
    if !exists {
        out.push(Finding::error(
            "ORD-09",
            path.key("id"),
            format!(
                "line item `{}` is not in the order's line_items",
                reference.id
            ),
        ));
    }
    exists
}

/// ORD-05 (error): the `amount_refunded` total equals Σ completed refunds.
fn check_refunds(order: &Order, base: &JsonPath, out: &mut Vec<Finding>) {
    let Some(totals) = &order.totals else { return };
    let refunded: Vec<(usize, Amount)> = totals
        .iter()
        .enumerate()
        .filter(|(_, t)| t.kind == TotalType::AmountRefunded)
        .map(|(i, t)| (i, t.amount))
        .collect();
    let Some(&(index, _)) = refunded.first() else {
        return;
    };
    let path = base.key("totals").index(index).key("amount");
    let stated = Amount::checked_sum(refunded.iter().map(|(_, a)| *a));
    let completed = Amount::checked_sum(
        order
            .adjustments
            .iter()
            .flatten()
            .filter(|a| a.kind == "refund" && a.status == "completed")
            .map(|a| a.amount.unwrap_or_default()),
    );
    match (stated, completed) {
        (Some(stated), Some(completed)) if stated != completed => out.push(Finding::error(
            "ORD-05",
            path,
            format!(
                "amount_refunded is {stated} but completed refund adjustments sum to {completed}"
            ),
        )),
        (Some(_), Some(_)) => {}
        _ => out.push(Finding::error(
            "ORD-05",
            path,
            "refund amounts overflow a 64-bit integer",
        )),
    }
}

/// ORD-05 (warning): the `subtotal` total equals Σ line subtotals, checked
/// when every line states its subtotal.
fn check_subtotal(order: &Order, lines: &[OrderLineItem], base: &JsonPath, out: &mut Vec<Finding>) {
    let Some(totals) = &order.totals else { return };
    let Some((index, subtotal)) = totals
        .iter()
        .enumerate()
        .find(|(_, t)| t.kind == TotalType::Subtotal)
        .map(|(i, t)| (i, t.amount))
    else {
        return;
    };
    if lines.is_empty() {
        return;
    }
    let Some(parts) = lines.iter().map(|l| l.subtotal).collect::<Option<Vec<_>>>() else {
        return;
    };
    let path = base.key("totals").index(index).key("amount");
    match Amount::checked_sum(parts) {
        None => out.push(Finding::error(
            "ORD-05",
            path,
            "line subtotals overflow a 64-bit integer",
        )),
        Some(sum) if sum != subtotal => out.push(Finding::warning(
            "ORD-05",
            path,
            format!("subtotal is {subtotal} but line-item subtotals sum to {sum}"),
        )),
        Some(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Severity;
    use serde_json::json;

    fn order(v: &serde_json::Value) -> Order {
        let mut base = json!({"id": "ord_1", "checkout_session_id": "cs_1",
            "permalink_url": "https://shop.example/o/1"});
        for (k, val) in v.as_object().unwrap() {
            base[k] = val.clone();
        }
        serde_json::from_value(base).unwrap()
    }

    fn run(o: &Order) -> Vec<(&'static str, Severity, String)> {
        let mut out = Vec::new();
        check(o, &JsonPath::root(), &mut out);
        out.into_iter()
            .map(|f| (f.rule, f.severity, f.param.to_string()))
            .collect()
    }

    fn line(id: &str, ordered: i64, current: i64, fulfilled: i64) -> serde_json::Value {
        json!({"id": id, "title": id, "quantity": {"ordered": ordered, "current": current, "fulfilled": fulfilled}})
    }

    #[test]
    fn ord03_quantity_bounds_are_errors() {
        let o = order(
            &json!({"line_items": [line("a", 2, 3, 0), line("b", 2, 1, 2), line("c", 0, 0, 0), line("d", 2, 2, -1)]}),
        );
        let f = run(&o);
        assert_eq!(f.len(), 4);
        assert!(
            f.iter()
                .all(|(r, s, _)| *r == "ORD-03" && *s == Severity::Error)
        );
        assert_eq!(
            run(&order(&json!({"line_items": [line("a", 3, 2, 1)]}))),
            []
        );
    }

    #[test]
    fn ord02_status_disagreeing_with_quantities_is_a_warning() {
        let mut l = line("a", 2, 2, 2);
        l["status"] = json!("processing");
        let mut unknown = line("b", 2, 2, 0);
        unknown["status"] = json!("on_hold");
        assert_eq!(
            run(&order(&json!({"line_items": [l, unknown]}))),
            [("ORD-02", Severity::Warning, "$.line_items[0].status".into())]
        );
    }

    #[test]
    fn ord09_references_and_fulfilled_sum() {
        let o = order(&json!({
            "line_items": [line("a", 2, 2, 2)],
            "fulfillments": [
                {"id": "f1", "type": "shipping", "line_items": [{"id": "a", "quantity": 2}]},
                {"id": "f2", "type": "shipping", "line_items": [{"id": "a", "quantity": 1}, {"id": "zz", "quantity": 0}]}
            ],
            "adjustments": [{"id": "x", "type": "refund", "occurred_at": "2026-01-01T00:00:00Z",
                "status": "pending", "line_items": [{"id": "ghost", "quantity": 1}]}]
        }));
        assert_eq!(
            run(&o),
            [
                (
                    "ORD-09",
                    Severity::Error,
                    "$.fulfillments[1].line_items[1].quantity".into()
                ),
                (
                    "ORD-09",
                    Severity::Error,
                    "$.fulfillments[1].line_items[1].id".into()
                ),
                (
                    "ORD-09",
                    Severity::Error,
                    "$.line_items[0].quantity.ordered".into()
                ),
                (
                    "ORD-09",
                    Severity::Error,
                    "$.adjustments[0].line_items[0].id".into()
                ),
            ]
        );
    }

    #[test]
    fn ord05_amount_refunded_is_sum_of_completed_refunds() {
        let adj = |amount: i64, kind: &str, status: &str| {
            json!({"id": "x", "type": kind,
            "occurred_at": "2026-01-01T00:00:00Z", "status": status, "amount": amount, "currency": "usd"})
        };
        let totals = |r: i64| {
            json!([{"type": "total", "display_text": "T", "amount": 5000},
            {"type": "amount_refunded", "display_text": "R", "amount": r}])
        };
        let adjustments = json!([
            adj(300, "refund", "completed"),
            adj(200, "refund", "pending"),
            adj(100, "credit", "completed"),
            adj(50, "refund", "completed")
        ]);
        let ok = order(&json!({"adjustments": adjustments, "totals": totals(350)}));
        assert_eq!(run(&ok), []);
        let bad = order(&json!({"adjustments": adjustments, "totals": totals(550)}));
        assert_eq!(
            run(&bad),
            [("ORD-05", Severity::Error, "$.totals[1].amount".into())]
        );
    }

    #[test]
    fn ord05_subtotal_mismatch_is_a_warning() {
        let mut a = line("a", 1, 1, 0);
        a["subtotal"] = json!(100);
        let mut b = line("b", 1, 1, 0);
        b["subtotal"] = json!(250);
        let o = order(&json!({"line_items": [a, b],
            "totals": [{"type": "subtotal", "display_text": "S", "amount": 300}]}));
        assert_eq!(
            run(&o),
            [("ORD-05", Severity::Warning, "$.totals[0].amount".into())]
        );
    }
}
