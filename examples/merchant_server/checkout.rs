//! The merchant's checkout logic: session state, pricing, fulfillment options, messages and
//! the status transition.
//!
//! Which transitions are allowed at all (terminal states, cancel → 405, complete without
//! `authentication_result` → `requires_3ds`, payment outcomes) is the crate's state machine,
//! `agentic_commerce::checkout::transition`, called by the handlers. What stays here is the
//! merchant's own business: [`next_status`] decides *which* open status a changed session is in
//! (missing data, stock, the 3-D Secure threshold), and pricing.

use std::collections::BTreeMap;

use agentic_commerce::protocol::capabilities;
use agentic_commerce::spec::v2026_04_17::agentic_checkout::InterventionType;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::catalog::Catalog;

/// Most units of one variant in one session (keeps every total far from overflow).
pub(crate) const MAX_QUANTITY: i64 = 99;
/// Sales tax on items, in basis points (8.25 %).
pub(crate) const TAX_BPS: i64 = 825;
/// The discount code the example merchant honours, and its percentage.
pub(crate) const COUPON: (&str, i64) = ("WELCOME10", 10);
/// Sessions whose total reaches this need issuer authentication (3-D Secure).
pub(crate) const THREE_DS_THRESHOLD: i64 = 50_000;
/// Shipping options: id, title, price.
pub(crate) const SHIPPING: [(&str, &str, i64); 2] = [
    ("ship_standard", "Standard (5-7 days)", 500),
    ("ship_express", "Express (1-2 days)", 1500),
];
/// The digital delivery option id.
pub(crate) const DIGITAL: &str = "digital_download";
/// Most units one request may list (an older agent's quantities are carried as repeated items).
pub(crate) const MAX_REQUEST_UNITS: usize = 1_000;

/// The 249 officially assigned ISO 3166-1 alpha-2 codes, sorted (ISO 3166 Maintenance Agency).
const COUNTRY_CODES: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// Whether `code` is an officially assigned ISO 3166-1 alpha-2 country code (the RFC's
/// recommendation for `Address.country`; the checkout schema leaves it unconstrained).
pub(crate) fn is_country_code(code: &str) -> bool {
    COUNTRY_CODES.binary_search(&code).is_ok()
}

/// One line of a session.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Line {
    /// `line_item.id`.
    pub(crate) id: String,
    /// The catalog variant id (`item.id`).
    pub(crate) item_id: String,
    /// Units (requests list an item once per unit, CHK-03).
    pub(crate) quantity: i64,
}

/// A checkout session as the merchant stores it; [`render`] turns it into the wire object.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Session {
    /// `cs_…`.
    pub(crate) id: String,
    /// Current status (one of the 11 `CheckoutStatus` values).
    pub(crate) status: String,
    /// Lowercase ISO 4217.
    pub(crate) currency: String,
    /// Lines.
    pub(crate) lines: Vec<Line>,
    /// `buyer` as sent.
    pub(crate) buyer: Option<Value>,
    /// `fulfillment_details` as sent.
    pub(crate) fulfillment_details: Option<Value>,
    /// Selected option id per item id.
    pub(crate) selected: BTreeMap<String, String>,
    /// Coupon codes as sent.
    pub(crate) coupons: Vec<String>,
    /// Interventions both sides support (capability intersection).
    pub(crate) interventions: Vec<String>,
    /// The order, once completed.
    pub(crate) order: Option<Value>,
    /// Why the last payment attempt failed (a `payment_declined` message until the next try).
    #[serde(default)]
    pub(crate) declined: Option<String>,
    /// RFC 3339 creation time.
    pub(crate) created_at: String,
    /// RFC 3339 last update.
    pub(crate) updated_at: String,
}

/// Interventions this merchant can ask for.
pub(crate) const MERCHANT_INTERVENTIONS: &[&str] = &["3ds"];

/// The capability intersection (the crate's `capabilities::intersect_interventions`):
/// interventions the agent declared and the merchant supports, in the merchant's order.
pub(crate) fn intersect_interventions(agent: &[String]) -> Vec<String> {
    let agent: Vec<InterventionType> = agent
        .iter()
        .map(|a| InterventionType::from(a.as_str()))
        .collect();
    let merchant: Vec<InterventionType> = MERCHANT_INTERVENTIONS
        .iter()
        .map(|m| InterventionType::from(*m))
        .collect();
    capabilities::intersect_interventions(&agent, &merchant)
        .iter()
        .map(|i| i.as_str().to_owned())
        .collect()
}

/// Groups request items (one entry per unit) into lines, keeping first-seen order.
pub(crate) fn lines_from_items(ids: &[String]) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    for id in ids {
        if let Some(line) = lines.iter_mut().find(|l| &l.item_id == id) {
            line.quantity += 1;
        } else {
            lines.push(Line {
                id: format!("li_{}", lines.len() + 1),
                item_id: id.clone(),
                quantity: 1,
            });
        }
    }
    lines
}

/// The priced session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pricing {
    /// Per line: base, discount, subtotal, tax, total.
    pub(crate) lines: Vec<[i64; 5]>,
    /// Sum of line bases.
    pub(crate) items_base: i64,
    /// Sum of line discounts.
    pub(crate) discount: i64,
    /// Items after discount.
    pub(crate) subtotal: i64,
    /// Selected fulfillment.
    pub(crate) fulfillment: i64,
    /// Tax.
    pub(crate) tax: i64,
    /// Grand total.
    pub(crate) total: i64,
}

fn percent(amount: i64, bps: i64) -> i64 {
    // Half-up rounding on non-negative integers. Unit prices are at most MAX_UNIT_AMOUNT and a
    // request body (2 MB by default in axum) holds well under a million items, so this never
    // saturates in practice; saturating keeps it panic-free regardless.
    amount.saturating_mul(bps).saturating_add(5_000) / 10_000
}

/// Prices a session (integer minor units only).
pub(crate) fn price(session: &Session, catalog: &Catalog) -> Pricing {
    let coupon = session.coupons.iter().any(|c| c == COUPON.0);
    let lines: Vec<[i64; 5]> = session
        .lines
        .iter()
        .map(|l| {
            let unit = catalog.get(&l.item_id).map_or(0, |i| i.unit_amount);
            let base = unit.saturating_mul(l.quantity);
            let discount = if coupon {
                base.saturating_mul(COUPON.1) / 100
            } else {
                0
            };
            let subtotal = base - discount;
            let tax = percent(subtotal, TAX_BPS);
            [base, discount, subtotal, tax, subtotal.saturating_add(tax)]
        })
        .collect();
    let sum = |k: usize| lines.iter().fold(0_i64, |acc, l| acc.saturating_add(l[k]));
    let fulfillment = session
        .selected
        .values()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|opt| {
            SHIPPING
                .iter()
                .find(|s| s.0 == opt.as_str())
                .map_or(0, |s| s.2)
        })
        .sum();
    let (items_base, discount, subtotal, tax) = (sum(0), sum(1), sum(2), sum(3));
    Pricing {
        lines,
        items_base,
        discount,
        subtotal,
        fulfillment,
        tax,
        total: subtotal.saturating_add(fulfillment).saturating_add(tax),
    }
}

fn physical_items(session: &Session, catalog: &Catalog) -> Vec<String> {
    session
        .lines
        .iter()
        .filter(|l| catalog.get(&l.item_id).is_some_and(|i| !i.digital))
        .map(|l| l.item_id.clone())
        .collect()
}

fn message_error(code: &str, param: &str, content: &str) -> Value {
    json!({"type": "error", "code": code, "param": param, "content_type": "plain", "content": content})
}

/// Business problems of a session, as `MessageError`s on a 2xx session (CHK-19), and whether
/// they block payment (`true`) or only mean information is still missing (`false`).
pub(crate) fn problems(session: &Session, catalog: &Catalog) -> Vec<(bool, Value)> {
    let mut out = Vec::new();
    for (i, line) in session.lines.iter().enumerate() {
        let at = format!("$.line_items[{i}]");
        match catalog.get(&line.item_id) {
            None => out.push((
                true,
                message_error("invalid", &at, &format!("unknown item {}", line.item_id)),
            )),
            Some(item) if item.currency != session.currency => {
                out.push((
                    true,
                    message_error("invalid", &at, "item is not sold in this currency"),
                ));
            }
            Some(_) if line.quantity > MAX_QUANTITY => {
                out.push((
                    true,
                    message_error(
                        "quantity_exceeded",
                        &at,
                        &format!("at most {MAX_QUANTITY} per order"),
                    ),
                ));
            }
            Some(item) if catalog.stock(&item.id) < line.quantity => {
                out.push((
                    true,
                    message_error(
                        "out_of_stock",
                        &at,
                        &format!("{} is out of stock", item.title),
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    for (i, code) in session.coupons.iter().enumerate() {
        if code != COUPON.0 {
            out.push((
                true,
                message_error(
                    "coupon_invalid",
                    &format!("$.coupons[{i}]"),
                    "unknown coupon code",
                ),
            ));
        }
    }
    if !physical_items(session, catalog).is_empty() {
        let has_address = session
            .fulfillment_details
            .as_ref()
            .and_then(|d| d.get("address"))
            .is_some_and(Value::is_object);
        if !has_address {
            out.push((
                false,
                message_error(
                    "missing",
                    "$.fulfillment_details.address",
                    "a shipping address is required",
                ),
            ));
        }
    }
    for (i, line) in session.lines.iter().enumerate() {
        if catalog.get(&line.item_id).is_some() && !session.selected.contains_key(&line.item_id) {
            out.push((
                false,
                message_error(
                    "missing",
                    &format!("$.line_items[{i}]"),
                    "select a fulfillment option for this item",
                ),
            ));
        }
    }
    out
}

/// The status a non-terminal session moves to after a change (CHK-12), from its problems,
/// its total and the negotiated interventions. Terminal statuses never change here.
pub(crate) fn next_status(session: &Session, catalog: &Catalog) -> String {
    if matches!(
        session.status.as_str(),
        "completed" | "canceled" | "expired" | "complete_in_progress"
    ) {
        return session.status.clone();
    }
    let problems = problems(session, catalog);
    let status = if problems.iter().any(|(blocking, _)| *blocking) {
        "not_ready_for_payment"
    } else if !problems.is_empty() {
        "incomplete"
    } else if price(session, catalog).total >= THREE_DS_THRESHOLD {
        if session.interventions.iter().any(|i| i == "3ds") {
            "authentication_required"
        } else {
            "requires_escalation"
        }
    } else {
        "ready_for_payment"
    };
    status.to_owned()
}

/// An option's totals: this merchant does not tax fulfillment, so its subtotal is its total
/// and its tax 0 (listed, so agents on 2025-09-29, whose options require both, get them).
fn option_totals(amount: i64) -> Value {
    json!([{"type": "subtotal", "display_text": "Subtotal", "amount": amount},
           {"type": "tax", "display_text": "Tax", "amount": 0},
           {"type": "total", "display_text": "Total", "amount": amount}])
}

/// Fulfillment options offered for the session's items.
pub(crate) fn fulfillment_options(session: &Session, catalog: &Catalog) -> Vec<Value> {
    let mut out = Vec::new();
    if !physical_items(session, catalog).is_empty() {
        for (id, title, amount) in SHIPPING {
            out.push(
                json!({"type": "shipping", "id": id, "title": title, "carrier": "USPS",
                "totals": option_totals(amount)}),
            );
        }
    }
    if session
        .lines
        .iter()
        .any(|l| catalog.get(&l.item_id).is_some_and(|i| i.digital))
    {
        out.push(
            json!({"type": "digital", "id": DIGITAL, "title": "Instant download",
            "totals": option_totals(0)}),
        );
    }
    out
}

/// Applies `selected_fulfillment_options` (CHK-06: every option id must be offered and fit
/// the item).
///
/// # Errors
///
/// `(param, message)` of the first bad entry.
pub(crate) fn select_fulfillment(
    session: &mut Session,
    catalog: &Catalog,
    selections: &[Value],
) -> Result<(), (String, String)> {
    let mut selected = BTreeMap::new();
    for (i, sel) in selections.iter().enumerate() {
        let at = format!("$.selected_fulfillment_options[{i}]");
        let option = sel
            .get("option_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let shipping = SHIPPING.iter().any(|s| s.0 == option);
        if !shipping && option != DIGITAL {
            return Err((
                format!("{at}.option_id"),
                format!("unknown fulfillment option {option:?}"),
            ));
        }
        let items = sel
            .get("item_ids")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (j, item) in items.iter().enumerate() {
            let item = item.as_str().unwrap_or_default();
            let Some(entry) = catalog
                .get(item)
                .filter(|_| session.lines.iter().any(|l| l.item_id == item))
            else {
                return Err((
                    format!("{at}.item_ids[{j}]"),
                    format!("{item:?} is not in this session"),
                ));
            };
            if entry.digital == shipping {
                return Err((
                    format!("{at}.option_id"),
                    format!("{option} cannot fulfil {item}"),
                ));
            }
            selected.insert(item.to_owned(), option.to_owned());
        }
    }
    session.selected = selected;
    Ok(())
}

/// Auto-selects the only possible option (digital delivery) for digital items.
pub(crate) fn default_selection(session: &mut Session, catalog: &Catalog) {
    for line in &session.lines {
        if catalog.get(&line.item_id).is_some_and(|i| i.digital) {
            session
                .selected
                .entry(line.item_id.clone())
                .or_insert_with(|| DIGITAL.to_owned());
        }
    }
}

fn totals(
    base: i64,
    discount: i64,
    subtotal: i64,
    fulfillment: Option<i64>,
    tax: i64,
    total: i64,
) -> Vec<Value> {
    let mut out =
        vec![json!({"type": "items_base_amount", "display_text": "Item(s) total", "amount": base})];
    if discount > 0 {
        out.push(json!({"type": "discount", "display_text": "Discount", "amount": discount}));
    }
    out.push(json!({"type": "subtotal", "display_text": "Subtotal", "amount": subtotal}));
    if let Some(f) = fulfillment {
        out.push(json!({"type": "fulfillment", "display_text": "Fulfillment", "amount": f}));
    }
    out.push(json!({"type": "tax", "display_text": "Tax", "amount": tax}));
    out.push(json!({"type": "total", "display_text": "Total", "amount": total}));
    out
}

/// The payment handler this merchant accepts: cards delegated to the PSP vault.
pub(crate) fn payment_handler(merchant_id: &str) -> Value {
    json!({
        "id": "card_tokenized",
        "name": "dev.acp.tokenized.card",
        "display_name": "Card",
        "version": "2026-01-22",
        "spec": "https://acp.dev/handlers/tokenized.card",
        "requires_delegate_payment": true,
        "requires_pci_compliance": false,
        "psp": "example_vault",
        "config_schema": "https://acp.dev/schemas/handlers/tokenized.card/config.json",
        "instrument_schemas": ["https://acp.dev/schemas/handlers/tokenized.card/instrument.json"],
        "config": {"merchant_id": merchant_id, "psp": "example_vault", "accepted_brands": ["visa", "mastercard"],
                   "accepted_funding_types": ["credit", "debit"], "supports_3ds": true}
    })
}

/// The full wire `CheckoutSession` (CHK-02, CHK-04).
pub(crate) fn render(
    session: &Session,
    catalog: &Catalog,
    merchant_id: &str,
    base_url: &str,
) -> Value {
    let pricing = price(session, catalog);
    let line_items: Vec<Value> = session
        .lines
        .iter()
        .zip(&pricing.lines)
        .map(|(l, p)| {
            let mut item = json!({"id": l.id, "item": {"id": l.item_id}, "quantity": l.quantity,
                "totals": totals(p[0], p[1], p[2], None, p[3], p[4])});
            if let Some(c) = catalog.get(&l.item_id) {
                item["name"] = json!(c.title);
                item["unit_amount"] = json!(c.unit_amount);
                item["product_id"] = json!(c.product_id);
                item["variant_id"] = json!(c.id);
            }
            item
        })
        .collect();
    let mut by_option: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (item, option) in &session.selected {
        by_option
            .entry(option.as_str())
            .or_default()
            .push(item.as_str());
    }
    let selected: Vec<Value> = by_option
        .into_iter()
        .map(|(option, items)| {
            let kind = if option == DIGITAL {
                "digital"
            } else {
                "shipping"
            };
            json!({"type": kind, "option_id": option, "item_ids": items})
        })
        .collect();
    let messages: Vec<Value> = if matches!(session.status.as_str(), "completed" | "canceled") {
        Vec::new()
    } else {
        let mut list: Vec<Value> = problems(session, catalog)
            .into_iter()
            .map(|(_, m)| m)
            .collect();
        if let Some(reason) = &session.declined {
            list.push(message_error("payment_declined", "$.payment_data", reason));
        }
        list
    };
    let mut out = json!({
        "id": session.id,
        "protocol": {"version": "2026-04-17"},
        "capabilities": {
            "payment": {"handlers": [payment_handler(merchant_id)]},
            "interventions": {"supported": session.interventions, "required": [], "enforcement": "conditional"}
        },
        "status": session.status,
        "currency": session.currency,
        "line_items": line_items,
        "fulfillment_options": fulfillment_options(session, catalog),
        "selected_fulfillment_options": selected,
        "totals": totals(pricing.items_base, pricing.discount, pricing.subtotal, Some(pricing.fulfillment), pricing.tax, pricing.total),
        "messages": messages,
        "links": [{"type": "terms_of_use", "url": format!("{base_url}/legal/terms")}],
        "created_at": session.created_at,
        "updated_at": session.updated_at,
    });
    if let Some(buyer) = &session.buyer {
        out["buyer"] = buyer.clone();
    }
    if let Some(details) = &session.fulfillment_details {
        out["fulfillment_details"] = details.clone();
    }
    if session.status == "authentication_required" {
        // CHK-13: the metadata the agent needs to run issuer authentication.
        out["authentication_metadata"] = json!({
            "acquirer_details": {"acquirer_bin": "400000", "acquirer_country": "US",
                "acquirer_merchant_id": merchant_id, "merchant_name": "Trailhead Outfitters"},
            "directory_server": "visa",
            "flow_preference": {"type": "challenge", "challenge": {"type": "preferred"}}
        });
    }
    if let Some(order) = &session.order {
        out["order"] = order.clone();
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::super::catalog::{Catalog, DEFAULT_CATALOG};
    use super::{
        Session, intersect_interventions, lines_from_items, next_status, price, select_fulfillment,
    };

    fn session(items: &[&str]) -> Session {
        let ids: Vec<String> = items.iter().map(|s| (*s).to_owned()).collect();
        Session {
            id: "cs_t".to_owned(),
            status: "incomplete".to_owned(),
            currency: "usd".to_owned(),
            lines: lines_from_items(&ids),
            buyer: None,
            fulfillment_details: None,
            selected: BTreeMap::new(),
            coupons: Vec::new(),
            interventions: vec!["3ds".to_owned()],
            order: None,
            declined: None,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn catalog() -> Catalog {
        Catalog::from_feed_json(DEFAULT_CATALOG.as_bytes()).unwrap()
    }

    #[test]
    fn chk_03_repeated_items_become_one_line_with_a_quantity() {
        let s = session(&["var_mug_pine", "var_guide_epub", "var_mug_pine"]);
        assert_eq!(s.lines.len(), 2);
        assert_eq!(
            (s.lines[0].item_id.as_str(), s.lines[0].quantity),
            ("var_mug_pine", 2)
        );
        assert_eq!(s.lines[1].id, "li_2");
    }

    #[test]
    fn totals_are_integer_minor_units_with_half_up_tax() {
        let c = catalog();
        let mut s = session(&["var_mug_pine"]);
        s.selected
            .insert("var_mug_pine".to_owned(), "ship_express".to_owned());
        // 1800 × 8.25 % = 148.5 → 149.
        let p = price(&s, &c);
        assert_eq!(
            (p.subtotal, p.tax, p.fulfillment, p.total),
            (1800, 149, 1500, 3449)
        );
        s.coupons.push("WELCOME10".to_owned());
        let p = price(&s, &c);
        assert_eq!(
            (p.discount, p.subtotal, p.tax, p.total),
            (180, 1620, 134, 3254)
        );
    }

    #[test]
    fn chk_06_selection_must_name_an_offered_option_that_fits_the_item() {
        let c = catalog();
        let mut s = session(&["var_mug_pine", "var_guide_epub"]);
        let bad =
            [json!({"type": "shipping", "option_id": "teleport", "item_ids": ["var_mug_pine"]})];
        assert_eq!(
            select_fulfillment(&mut s, &c, &bad).unwrap_err().0,
            "$.selected_fulfillment_options[0].option_id"
        );
        let wrong_kind = [
            json!({"type": "shipping", "option_id": "ship_standard", "item_ids": ["var_guide_epub"]}),
        ];
        assert!(select_fulfillment(&mut s, &c, &wrong_kind).is_err());
        let absent = [
            json!({"type": "shipping", "option_id": "ship_standard", "item_ids": ["var_tent_2p"]}),
        ];
        assert_eq!(
            select_fulfillment(&mut s, &c, &absent).unwrap_err().0,
            "$.selected_fulfillment_options[0].item_ids[0]"
        );
        let good = [
            json!({"type": "shipping", "option_id": "ship_standard", "item_ids": ["var_mug_pine"]}),
        ];
        select_fulfillment(&mut s, &c, &good).unwrap();
        assert_eq!(s.selected["var_mug_pine"], "ship_standard");
    }

    #[test]
    fn chk_12_status_follows_missing_data_stock_and_the_3ds_threshold() {
        let c = catalog();
        let mut s = session(&["var_tent_2p"]);
        assert_eq!(
            next_status(&s, &c),
            "incomplete",
            "no address, no shipping choice"
        );
        s.fulfillment_details = Some(json!({"address": {"line_one": "1 A St"}}));
        s.selected
            .insert("var_tent_2p".to_owned(), "ship_standard".to_owned());
        assert_eq!(next_status(&s, &c), "authentication_required");
        s.interventions.clear();
        assert_eq!(
            next_status(&s, &c),
            "requires_escalation",
            "agent cannot run 3DS"
        );
        let out = session(&["var_headlamp"]);
        assert_eq!(next_status(&out, &c), "not_ready_for_payment");
        s.status = "completed".to_owned();
        assert_eq!(next_status(&s, &c), "completed", "terminal states stay");
    }

    #[test]
    fn capability_intersection_keeps_only_what_both_sides_support() {
        let agent = vec!["address_verification".to_owned(), "3ds".to_owned()];
        assert_eq!(intersect_interventions(&agent), ["3ds"]);
        assert!(intersect_interventions(&[]).is_empty());
    }
}
