//! Business-rule validation of a merchant's own [`CheckoutSession`] before it
//! is sent: the checks the JSON Schemas cannot express.
//!
//! [`check_session`] is the one entry point for a session: it runs every rule
//! below, including the session rules of [`crate::rules::requests`]
//! (CHK-11, CHK-13). It returns every [`Finding`]; an empty list, or one with
//! only [`Severity::Warning`]s, means the session may be sent. Each finding
//! names the rule it enforces (an ID of the [rules catalog](catalog), which
//! gives each rule's level, text and spec source; `ARITH-*` for the advisory
//! arithmetic below), the JSONPath of the
//! offending value inside the session, and a message. It serializes as
//! `{"rule","severity","param","message"}` with severity `"error"` or
//! `"warning"`.
//!
//! # Rules enforced
//!
//! | rule | severity | check | module |
//! |---|---|---|---|
//! | CHK-06 | error | each `selected_fulfillment_options[].option_id` names a `fulfillment_options[].id` of the same `type` | [`totals`] |
//! | CHK-07 | warning | the session has a `total` total (SHOULD) | [`totals`] |
//! | DSC-05 | error | Σ `allocations[].amount` == the applied discount's `amount` | [`totals`] |
//! | DSC-06 | warning | Σ session `items_discount` totals == Σ line-item `items_discount`/`discount` totals (the official `stacked-discounts` example breaks it: 42460 vs 42500) | [`totals`] |
//! | DSC-07 | error | discount amounts (applied, allocations, `discount`/`items_discount` totals) are ≥ 0 | [`totals`] |
//! | DSC-08 | error | a coupon has exactly one of `percent_off`/`amount_off`, and `currency` with `amount_off` | [`totals`] |
//! | ARITH-09 | warning | line item: base = unit × quantity, subtotal = base − discount, total = subtotal + tax (official examples disagree) | [`totals`] |
//! | ARITH-10 | warning | session `total` = subtotal + fulfillment + tax + fee + `gift_wrap` + tip − discount − `store_credit` | [`totals`] |
//! | DSC-04 | warning | every `discounts.rejected` code also has a `warning` message with its code and `param` | [`discounts`] |
//! | DSC-09 | warning | an automatic discount has no `code` | [`discounts`] |
//! | EXT-01 … EXT-04 | error | response extension declarations: identifier names, unique, `extends` targets are JSONPath, https `schema` | [`discounts`] |
//! | CHK-08 | warning | currencies are lowercase ISO 4217 codes | [`currency`] |
//! | CUR-01 | error | coupon and order-adjustment currencies equal the session currency (one currency per session) | [`currency`] |
//! | ORD-02 | warning | a known line-item `status` agrees with the quantities | [`orders`] |
//! | ORD-03 | error | 0 ≤ fulfilled ≤ current ≤ ordered, ordered ≥ 1 | [`orders`] |
//! | ORD-05 | error | the `amount_refunded` total = Σ completed `refund` adjustments | [`orders`] |
//! | ORD-05 | warning | the `subtotal` total = Σ line-item `subtotal`s | [`orders`] |
//! | ORD-09 | error | fulfillment/adjustment line references name existing line items, quantity ≥ 1, and Σ fulfilled per line ≤ ordered | [`orders`] |
//! | MD-02 | error | `markdown` messages and disclosures contain no raw HTML (`CommonMark` parse) | [`markdown`] |
//! | CHK-09 | error | message `param`s parse as JSONPath and resolve inside the session | [`params`] |
//! | CHK-11 | error | a `completed` session carries an `order` with a non-empty `id` and the session's id as `checkout_session_id` | [`crate::rules::requests::completed_order`] |
//! | CHK-13 | error | a session in `authentication_required` includes `authentication_metadata` (param `$.authentication_metadata`) | [`crate::rules::requests::authentication_metadata`] |
//!
//! A finding's `param` is the offending value itself: MD-02 points at the
//! `content` string (`$.messages[i].content`,
//! `$.line_items[i].disclosures[j].content`); DSC-06, ARITH-09 and ARITH-10
//! point at the total that does not add up (`$.totals[k]`,
//! `$.line_items[i].totals[k]`, the first total of its type), and at the
//! `totals` array only when the sum overflows. CHK-06 on a session's own
//! selection is [`totals`]' check; [`crate::rules::requests::session_fulfillment_selection`]
//! is the same rule with an error `code` for the merchant's error response,
//! so it is not run twice.
//!
//! Arithmetic uses checked `i64` ([`crate::primitives::Amount`]); an overflow
//! is an error finding under the rule being checked, never a panic.
//! `CUR-01` and `ARITH-*` are IDs of this crate: the requirements list has no
//! entry for them.

pub mod catalog;
pub mod currency;
pub mod delegate_payment;
pub mod discounts;
pub mod feed_readiness;
pub mod markdown;
pub mod orders;
pub mod params;
pub mod requests;
pub mod totals;

use crate::parse::json_path::JsonPath;
use crate::spec::latest::agentic_checkout::CheckoutSession;

pub use crate::protocol::finding::{Finding, Severity};

/// Whether any finding is an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(Finding::is_error)
}

/// Runs every session rule on `session`: this module's checks and the session
/// checks of [`crate::rules::requests`] (CHK-11 [`completed_order`], CHK-13
/// [`authentication_metadata`]); see the module docs for the list.
///
/// [`completed_order`]: crate::rules::requests::completed_order
/// [`authentication_metadata`]: crate::rules::requests::authentication_metadata
pub fn check_session(session: &CheckoutSession) -> Vec<Finding> {
    let mut out = Vec::new();
    totals::check(session, &mut out);
    currency::check(session, &mut out);
    discounts::check(session, &mut out);
    if let Some(order) = &session.order {
        orders::check(order, &JsonPath::root().key("order"), &mut out);
    }
    markdown::check(session, &mut out);
    params::check(session, &mut out);
    out.extend(requests::completed_order(session));
    out.extend(requests::authentication_metadata(session));
    out
}

/// Runs the session rules that apply to a cart (ACP 2026-04-17 carts share the session's line
/// items and totals): line and total arithmetic, currency, markdown. Paths are the cart's own
/// (`$.line_items[0].totals[1]`, `$.totals[2]`, `$.messages[0].content`).
pub fn check_cart(cart: &crate::spec::latest::cart::Cart) -> Vec<Finding> {
    use crate::spec::latest::agentic_checkout::{Capabilities, CheckoutStatus};
    // A session with the cart's items, totals and messages and nothing else: the rules about
    // what a cart does not have (fulfillment, links, payment) find nothing to check.
    let mut projected = CheckoutSession::new(
        cart.id.as_str(),
        Capabilities::new(),
        CheckoutStatus::NotReadyForPayment,
        cart.currency.clone(),
        cart.line_items.clone(),
        Vec::new(),
        cart.totals.clone(),
        cart.messages.clone().unwrap_or_default(),
        Vec::new(),
    );
    projected.buyer.clone_from(&cart.buyer);
    let mut out = Vec::new();
    totals::check(&projected, &mut out);
    currency::check(&projected, &mut out);
    markdown::check(&projected, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_serializes_with_lowercase_severity_and_string_param() {
        let f = Finding::warning("CHK-07", JsonPath::root().key("totals"), "no total");
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            serde_json::json!({"rule":"CHK-07","severity":"warning","param":"$.totals","message":"no total"})
        );
        assert!(!has_errors(&[f]));
        assert!(has_errors(&[Finding::error(
            "CHK-06",
            JsonPath::root(),
            "x"
        )]));
        assert_eq!(Severity::Error.as_str(), "error");
    }
}
