//! The merchant's business: session state, pricing, fulfillment options, messages, the status
//! a changed session is in, charging the delegated token at the PSP, and carts.
//!
//! The engine (`agentic_commerce::engine::merchant`, wired in `app.rs`) owns the protocol: it
//! stores each session as its 2026-04-17 `CheckoutSession`, runs the state machine (terminal
//! states, cancel → 405, complete without `authentication_result` → `requires_3ds`, the claim
//! before a complete) and negotiates capabilities. Each operation here reads what it needs back
//! from the stored session ([`Session::from_wire`]), applies the request and renders the session
//! again ([`render`]): [`next_status`] decides *which* open status a changed session is in
//! (missing data, stock, the 3-D Secure threshold).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use agentic_commerce::checkout::{Event, transition};
use agentic_commerce::parse::json_path::JsonPath;
use agentic_commerce::primitives::Uri;
use agentic_commerce::protocol::error::{AcpError, codes};
use agentic_commerce::spec::latest::agentic_checkout::{
    Capabilities, CheckoutSession, CheckoutSessionCompleteRequest, CheckoutSessionCreateRequest,
    CheckoutSessionUpdateRequest, CheckoutStatus, CustomAttribute, FulfillmentOption,
    FulfillmentOptionDigital, FulfillmentOptionShipping, FulfillmentType, Item, LineItem, Link,
    LinkType, ProtocolVersion, SelectedFulfillmentOption, Total, TotalType,
};
use agentic_commerce::spec::latest::cart::Cart;
use agentic_commerce::trust::webhook::WebhookSecret;
use agentic_commerce::{Amount, Currency, Timestamp};
use agentic_commerce_client::{AcpClient, Method, RetryPolicy};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::catalog::{Catalog, CatalogItem};
use super::config::Config;
use super::orders::Outbox;

/// Most units of one variant in one session (keeps every total far from overflow).
pub(crate) const MAX_QUANTITY: i64 = 99;
/// Sales tax on items, in basis points (8.25 %).
pub(crate) const TAX_BPS: i64 = 825;
/// The discount code the example merchant honours, and its percentage.
pub(crate) const COUPON: (&str, i64) = ("WELCOME10", 10);
/// Sessions whose total reaches this need issuer authentication (3-D Secure).
pub(crate) const THREE_DS_THRESHOLD: i64 = 50_000;
/// The order's support contact (where the agent sends "where is my order?").
const SUPPORT_EMAIL: &str = "support@trailhead-outfitters.example";
/// When support answers.
const SUPPORT_HOURS: &str = "Mon-Fri 09:00-17:00 UTC";
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    /// `line_item.id`.
    pub(crate) id: String,
    /// The catalog variant id (`item.id`).
    pub(crate) item_id: String,
    /// Units (requests list an item once per unit, CHK-03).
    pub(crate) quantity: i64,
    /// The unit price (minor units) this line was priced at: the catalog's when the session
    /// was created or last updated, kept as stored until then, so a price changed in between
    /// never alters what an already priced session charges (0 for an unknown item).
    pub(crate) unit_amount: i64,
}

/// What the merchant reads from a stored session ([`Session::from_wire`]); [`render`] turns it
/// back into the wire object.
#[derive(Debug, Clone)]
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
    /// Coupon codes as sent (kept in the session's `metadata.coupons`).
    pub(crate) coupons: Vec<String>,
    /// The negotiated capabilities (the engine's intersection of the agent's and the merchant's),
    /// typed: the merchant only reads them, so they go back on the wire as they came.
    pub(crate) capabilities: Capabilities,
    /// The order, once completed.
    pub(crate) order: Option<Value>,
    /// Why the last payment attempt failed (a `payment_declined` message until the next try).
    pub(crate) declined: Option<String>,
    /// RFC 3339 creation time.
    pub(crate) created_at: String,
    /// RFC 3339 last update.
    pub(crate) updated_at: String,
}

impl Session {
    /// The merchant's view of a stored (or claimed) session.
    pub(crate) fn from_wire(wire: &CheckoutSession) -> Self {
        // Only the parts read here as JSON become JSON (not the lines, capabilities, options,
        // totals and links).
        let mut v = serde_json::Map::new();
        for (name, part) in [
            ("id", json(&wire.id)),
            ("status", json(&wire.status)),
            ("currency", json(&wire.currency)),
            (
                "selected_fulfillment_options",
                json(&wire.selected_fulfillment_options),
            ),
            ("messages", json(&wire.messages)),
            ("metadata", json(&wire.metadata)),
            ("buyer", json(&wire.buyer)),
            ("fulfillment_details", json(&wire.fulfillment_details)),
            ("order", json(&wire.order)),
            ("created_at", json(&wire.created_at)),
            ("updated_at", json(&wire.updated_at)),
        ] {
            if !part.is_null() {
                v.insert(name.to_owned(), part);
            }
        }
        let v = Value::Object(v);
        let text = |p: &str| {
            v.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let list = |p: &str| {
            v.pointer(p)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let mut selected = BTreeMap::new();
        for sel in list("/selected_fulfillment_options") {
            for item in sel["item_ids"].as_array().into_iter().flatten() {
                let option = sel["option_id"].as_str().unwrap_or_default();
                selected.insert(
                    item.as_str().unwrap_or_default().to_owned(),
                    option.to_owned(),
                );
            }
        }
        let declined = list("/messages")
            .iter()
            .find(|m| m["code"] == "payment_declined")
            .and_then(|m| m["content"].as_str().map(str::to_owned));
        Self {
            id: text("/id"),
            status: text("/status"),
            currency: text("/currency").to_lowercase(),
            lines: (wire.line_items.iter())
                .map(|l| Line {
                    id: l.id.as_str().to_owned(),
                    item_id: l.item.id.as_str().to_owned(),
                    quantity: l.quantity,
                    unit_amount: l.unit_amount.map_or(0, |a| a.0),
                })
                .collect(),
            buyer: v.get("buyer").cloned(),
            fulfillment_details: v.get("fulfillment_details").cloned(),
            selected,
            coupons: strings(&Value::Array(list("/metadata/coupons"))),
            capabilities: wire.capabilities.clone(),
            order: v.get("order").cloned(),
            declined,
            created_at: text("/created_at"),
            updated_at: text("/updated_at"),
        }
    }

    /// Whether the agent can run 3-D Secure (negotiated).
    fn three_ds(&self) -> bool {
        let interventions = self.capabilities.interventions.as_ref();
        interventions
            .and_then(|i| i.supported.as_ref())
            .is_some_and(|s| s.iter().any(|i| i.as_str() == "3ds"))
    }
}

/// One part of a session as JSON (`null` when it cannot be written).
fn json<T: serde::Serialize>(part: &T) -> Value {
    serde_json::to_value(part).unwrap_or(Value::Null)
}

/// The strings of a JSON array (anything else: none).
fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// Groups request items (one entry per unit) into lines, keeping first-seen order, each priced
/// at the catalog's current unit price.
pub(crate) fn lines_from_items(ids: &[String], catalog: &Catalog) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    for id in ids {
        if let Some(line) = lines.iter_mut().find(|l| &l.item_id == id) {
            line.quantity += 1;
        } else {
            lines.push(Line {
                id: format!("li_{}", lines.len() + 1),
                item_id: id.clone(),
                quantity: 1,
                unit_amount: catalog.get(id).map_or(0, CatalogItem::unit_amount),
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

/// Prices a session (integer minor units only) at its lines' stored unit prices.
pub(crate) fn price(session: &Session) -> Pricing {
    let coupon = session.coupons.iter().any(|c| c == COUPON.0);
    let lines: Vec<[i64; 5]> = session
        .lines
        .iter()
        .map(|l| {
            let base = l.unit_amount.saturating_mul(l.quantity);
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
            Some(item) if item.price().currency != session.currency => {
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
    } else if price(session).total >= THREE_DS_THRESHOLD {
        if session.three_ds() {
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
fn option_totals(amount: i64) -> Vec<Total> {
    vec![
        total(TotalType::Subtotal, "Subtotal", amount),
        total(TotalType::Tax, "Tax", 0),
        total(TotalType::Total, "Total", amount),
    ]
}

/// Fulfillment options offered for the session's items.
pub(crate) fn fulfillment_options(session: &Session, catalog: &Catalog) -> Vec<FulfillmentOption> {
    let mut out = Vec::new();
    if !physical_items(session, catalog).is_empty() {
        for (id, title, amount) in SHIPPING {
            let mut option = FulfillmentOptionShipping::new(id, title, option_totals(amount));
            option.carrier = Some("USPS".to_owned());
            out.push(FulfillmentOption::Shipping(option));
        }
    }
    if session
        .lines
        .iter()
        .any(|l| catalog.get(&l.item_id).is_some_and(|i| i.digital))
    {
        out.push(FulfillmentOption::Digital(FulfillmentOptionDigital::new(
            DIGITAL,
            "Instant download",
            option_totals(0),
        )));
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

/// A session's `totals` (CHK-04).
fn session_totals(p: &Pricing) -> Vec<Total> {
    totals(
        p.items_base,
        p.discount,
        p.subtotal,
        Some(p.fulfillment),
        p.tax,
        p.total,
    )
}

fn totals(
    base: i64,
    discount: i64,
    subtotal: i64,
    fulfillment: Option<i64>,
    tax: i64,
    total: i64,
) -> Vec<Total> {
    let mut out = vec![self::total(
        TotalType::ItemsBaseAmount,
        "Item(s) total",
        base,
    )];
    if discount > 0 {
        out.push(self::total(TotalType::Discount, "Discount", discount));
    }
    out.push(self::total(TotalType::Subtotal, "Subtotal", subtotal));
    if let Some(f) = fulfillment {
        out.push(self::total(TotalType::Fulfillment, "Fulfillment", f));
    }
    out.push(self::total(TotalType::Tax, "Tax", tax));
    out.push(self::total(TotalType::Total, "Total", total));
    out
}

/// One `totals` entry (integer minor units).
fn total(kind: TotalType, display_text: &str, amount: i64) -> Total {
    Total::new(kind, display_text, Amount(amount))
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

/// What an engraved line item tells the buyer. ACP 2026-04-17 lets the merchant show
/// personalisation on the line item (`custom_attributes`) but gives the agent no field to send
/// the buyer's text, so the text is collected after the purchase.
pub(crate) fn engraving_attributes() -> Vec<CustomAttribute> {
    [
        ("Engraving", "Up to 20 characters, hand-engraved"),
        (
            "Engraving text",
            "Requested by email after purchase (the checkout cannot carry it)",
        ),
        ("Made to order", "Ships within 3 business days"),
    ]
    .into_iter()
    .map(|(name, value)| CustomAttribute::new(name, value))
    .collect()
}

/// The session's line items, priced by `pricing` (CHK-04).
fn line_items(session: &Session, catalog: &Catalog, pricing: &Pricing) -> Vec<LineItem> {
    session
        .lines
        .iter()
        .zip(&pricing.lines)
        .map(|(l, p)| {
            let mut item = LineItem::new(
                l.id.as_str(),
                Item::new(l.item_id.as_str()),
                l.quantity,
                totals(p[0], p[1], p[2], None, p[3], p[4]),
            );
            if let Some(c) = catalog.get(&l.item_id) {
                item.name = Some(c.title.clone());
                item.unit_amount = Some(Amount(l.unit_amount));
                item.product_id = Some(c.product_id.clone());
                item.variant_id = Some(c.id.clone());
                if c.engraved {
                    item.custom_attributes = Some(engraving_attributes());
                }
            }
            item
        })
        .collect()
}

/// The wire `CheckoutSession` (CHK-02, CHK-04), built typed: only the parts the session keeps
/// as the agent sent them (buyer, fulfillment details, the order) and its messages are read
/// from JSON.
///
/// # Errors
///
/// A part that is not a valid 2026-04-17 value (the session's own data, so a merchant bug).
pub(crate) fn render(
    session: &Session,
    catalog: &Catalog,
    merchant_id: &str,
    base_url: &str,
) -> Result<CheckoutSession, String> {
    let pricing = price(session);
    let mut by_option: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (item, option) in &session.selected {
        by_option
            .entry(option.as_str())
            .or_default()
            .push(item.clone());
    }
    let selected = by_option
        .into_iter()
        .map(|(option, items)| {
            let kind = if option == DIGITAL {
                FulfillmentType::Digital
            } else {
                FulfillmentType::Shipping
            };
            SelectedFulfillmentOption::new(kind, option, items)
        })
        .collect();
    let mut messages = Vec::new();
    if !matches!(session.status.as_str(), "completed" | "canceled") {
        messages = problems(session, catalog)
            .into_iter()
            .map(|(_, m)| m)
            .collect();
        if let Some(reason) = &session.declined {
            messages.push(message_error("payment_declined", "$.payment_data", reason));
        }
    }
    let messages = messages
        .into_iter()
        .map(from_json)
        .collect::<Result<_, _>>()?;
    let currency = Currency::new(&session.currency).map_err(|e| format!("currency: {e}"))?;
    let terms = Uri::parse(&format!("{base_url}/legal/terms")).map_err(|e| format!("link: {e}"))?;
    let mut out = CheckoutSession::new(
        session.id.as_str(),
        session.capabilities.clone(),
        CheckoutStatus::from(session.status.as_str()),
        currency,
        line_items(session, catalog, &pricing),
        fulfillment_options(session, catalog),
        session_totals(&pricing),
        messages,
        vec![Link::new(LinkType::TermsOfUse, terms)],
    );
    out.protocol = Some(ProtocolVersion::new("2026-04-17"));
    out.selected_fulfillment_options = Some(selected);
    let at = |name: &str, text: &str| {
        Timestamp::parse(text)
            .map(Some)
            .map_err(|e| format!("{name}: {e}"))
    };
    out.created_at = at("created_at", &session.created_at)?;
    out.updated_at = at("updated_at", &session.updated_at)?;
    out.buyer = session.buyer.clone().map(from_json).transpose()?;
    out.fulfillment_details = (session.fulfillment_details.clone())
        .map(from_json)
        .transpose()?;
    if session.status == "authentication_required" {
        // CHK-13: the metadata the agent needs to run issuer authentication.
        out.authentication_metadata = Some(from_json(json!({
            "acquirer_details": {"acquirer_bin": "400000", "acquirer_country": "US",
                "acquirer_merchant_id": merchant_id, "merchant_name": "Trailhead Outfitters"},
            "directory_server": "visa",
            "flow_preference": {"type": "challenge", "challenge": {"type": "preferred"}}
        }))?);
    }
    out.order = session.order.clone().map(from_json).transpose()?;
    if !session.coupons.is_empty() {
        let mut metadata = serde_json::Map::new();
        metadata.insert("coupons".to_owned(), json!(session.coupons));
        out.metadata = Some(metadata);
    }
    Ok(out)
}

/// A session part kept as JSON, typed (by value: its strings move instead of being copied).
fn from_json<T: serde::de::DeserializeOwned>(part: Value) -> Result<T, String> {
    serde_json::from_value(part).map_err(|e| e.to_string())
}

/// The example merchant: its catalog, its account at the PSP vault and where order webhooks go.
pub(crate) struct Shop {
    /// The products and their stock (shared with the feed pusher).
    pub(crate) catalog: Arc<Catalog>,
    /// Pushes stock changes to the agent platform's feed (`--feed-url`).
    pub(crate) feed: Option<super::feed::FeedPusher>,
    /// The merchant id delegated tokens are bound to (DP-10).
    pub(crate) merchant_id: String,
    /// The URL clients reach this merchant at (links, order permalinks).
    pub(crate) base_url: String,
    /// The PSP vault (its own API: charges, authentication results), through the client
    /// crate: this merchant's key, the timeouts, the 1 MiB answer cap and, for charges,
    /// retries that keep the `Idempotency-Key`.
    psp: AcpClient,
    /// Retries of a charge: within `psp_timeout` in all, so a hung PSP cannot hold the
    /// complete's idempotency key until its lease expires.
    psp_retry: RetryPolicy,
    /// The HTTP client of webhook deliveries (its timeout bounds each).
    pub(crate) http: reqwest::Client,
    /// Where order webhooks go (none: not sent) and their `Merchant-Signature` secret.
    pub(crate) webhook: (Option<String>, WebhookSecret),
    /// Simulated processing time of every write.
    pub(crate) latency: Duration,
    /// The order webhooks' delivery worker, woken after a complete (set once the store is
    /// open).
    pub(crate) outbox: Option<Outbox>,
}

impl Shop {
    /// The shop `config` describes, listening on `local` (reached there unless
    /// `config.public_url` says otherwise).
    ///
    /// # Errors
    ///
    /// A bad catalog or webhook secret, or an HTTP client that cannot be built.
    pub(crate) fn new(config: &Config, local: std::net::SocketAddr) -> Result<Self, String> {
        let base_url = (config.public_url.clone()).unwrap_or_else(|| format!("http://{local}"));
        let catalog = Arc::new(
            Catalog::from_feed_json(&config.catalog_json).map_err(|e| format!("catalog: {e}"))?,
        );
        let feed = config
            .feed
            .as_ref()
            .map(|target| {
                super::feed::FeedPusher::new(target, Arc::clone(&catalog), config.psp_timeout)
            })
            .transpose()?;
        Ok(Self {
            catalog,
            feed,
            merchant_id: config.merchant_id.clone(),
            base_url,
            psp: AcpClient::builder(&config.psp_url)
                .bearer_token(&config.psp_api_key)
                .attempt_timeout(config.psp_timeout)
                .connect_timeout(config.psp_timeout)
                .user_agent("acp-example-merchant")
                .build()
                .map_err(|e| format!("PSP client ({}): {e}", config.psp_url))?,
            psp_retry: RetryPolicy::default()
                .with_max_attempts(3)
                .with_deadline(config.psp_timeout),
            http: reqwest::Client::builder()
                .connect_timeout(config.psp_timeout)
                .timeout(config.psp_timeout)
                .build()
                .map_err(|e| format!("HTTP client: {e}"))?,
            webhook: (
                config.webhook_url.clone(),
                WebhookSecret::new(config.webhook_secret.clone())
                    .map_err(|e| format!("webhook secret: {e}"))?,
            ),
            latency: config.latency,
            outbox: None,
        })
    }

    /// `session` as the wire object.
    fn wire(&self, session: &Session) -> Result<CheckoutSession, AcpError> {
        render(session, &self.catalog, &self.merchant_id, &self.base_url).map_err(|e| {
            eprintln!("merchant: session {} is not valid: {e}", session.id);
            AcpError::processing_error("the merchant produced an invalid session")
        })
    }

    /// The `--latency-ms` simulation (shows IDEM-12's in-flight answer): every write takes at
    /// least this long.
    async fn pause(&self) {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
    }

    /// A new session for `request`; `capabilities` are the negotiated ones.
    ///
    /// # Errors
    ///
    /// 400 for a country that is not an ISO 3166-1 alpha-2 code.
    pub(crate) async fn create(
        &self,
        capabilities: Option<&Capabilities>,
        request: &CheckoutSessionCreateRequest,
        at: OffsetDateTime,
    ) -> Result<CheckoutSession, AcpError> {
        self.pause().await;
        let raw = serde_json::to_value(request).unwrap_or(Value::Null);
        check_country(&raw, "/fulfillment_details/address/country")?;
        let ids: Vec<String> = request
            .line_items
            .iter()
            .map(|i| i.id.as_str().to_owned())
            .collect();
        let mut session = Session {
            id: new_id("cs_"),
            status: "incomplete".to_owned(),
            currency: request.currency.to_lowercase().as_str().to_owned(),
            lines: lines_from_items(&ids, &self.catalog),
            buyer: raw.get("buyer").cloned(),
            fulfillment_details: raw.get("fulfillment_details").cloned(),
            selected: BTreeMap::new(),
            coupons: strings(&raw["coupons"]),
            capabilities: capabilities.cloned().unwrap_or_default(),
            order: None,
            declined: None,
            created_at: rfc3339(at),
            updated_at: rfc3339(at),
        };
        default_selection(&mut session, &self.catalog);
        session.status = next_status(&session, &self.catalog);
        self.wire(&session)
    }

    /// `stored` with `request` applied (patch semantics: absent leaves a field unchanged, `null`
    /// clears it).
    ///
    /// # Errors
    ///
    /// 400 for a bad country or fulfillment selection (CHK-06).
    pub(crate) async fn update(
        &self,
        stored: &CheckoutSession,
        request: &CheckoutSessionUpdateRequest,
        at: OffsetDateTime,
    ) -> Result<CheckoutSession, AcpError> {
        self.pause().await;
        let mut session = Session::from_wire(stored);
        let raw = serde_json::to_value(request).unwrap_or(Value::Null);
        if let Some(buyer) = raw.get("buyer") {
            session.buyer = Some(buyer.clone()).filter(|b| !b.is_null());
        }
        if let Some(details) = raw.get("fulfillment_details") {
            check_country(&raw, "/fulfillment_details/address/country")?;
            session.fulfillment_details = Some(details.clone()).filter(|d| !d.is_null());
        }
        if let Some(items) = raw.get("line_items").and_then(Value::as_array) {
            let ids: Vec<String> = items
                .iter()
                .filter_map(|i| i.get("id").and_then(Value::as_str))
                .map(str::to_owned)
                .collect();
            session.lines = lines_from_items(&ids, &self.catalog);
            session.selected.retain(|item, _| ids.contains(item));
        }
        // Every update prices the session again at the catalog's current prices (a price the
        // back office changed since applies from here on; complete charges what is stored).
        for line in &mut session.lines {
            line.unit_amount = self
                .catalog
                .get(&line.item_id)
                .map_or(0, CatalogItem::unit_amount);
        }
        if let Some(coupons) = raw.get("coupons") {
            session.coupons = strings(coupons);
        }
        if let Some(selections) = raw.get("selected_fulfillment_options") {
            let list = selections.as_array().cloned().unwrap_or_default();
            select_fulfillment(&mut session, &self.catalog, &list)
                .map_err(|(param, message)| invalid(&param, message))?;
        }
        default_selection(&mut session, &self.catalog);
        session.status = next_status(&session, &self.catalog);
        session.updated_at = rfc3339(at);
        self.wire(&session)
    }

    /// Pays the `claimed` session (`complete_in_progress`, stored by the engine, so no other
    /// complete runs for it): takes the stock, charges the delegated token at the PSP and
    /// creates the order. A decline (by the PSP or a failed issuer authentication) is a 200
    /// session, payable again, with a `payment_declined` message (CHK-19).
    ///
    /// # Errors
    ///
    /// Only when nothing was charged (the engine then puts the session back): 400 for a bad
    /// billing country or payment handler (CHK-21), 422 when the stock ran out, 503 when the
    /// PSP cannot be reached or answers 5xx.
    pub(crate) async fn complete(
        &self,
        claimed: &CheckoutSession,
        request: &CheckoutSessionCompleteRequest,
        at: OffsetDateTime,
    ) -> Result<CheckoutSession, AcpError> {
        self.pause().await;
        let raw = serde_json::to_value(request).unwrap_or(Value::Null);
        check_country(&raw, "/payment_data/billing_address/country")?;
        let mut session = Session::from_wire(claimed);
        session.updated_at = rfc3339(at);
        // A session that asked for issuer authentication (it carries its metadata, CHK-13)
        // is paid only after a successful one (CHK-14), checked against the PSP's record of
        // the `delegate_authentication` session; the engine already refused a complete
        // without `authentication_result` (CHK-15).
        // Decided from the session (its total), not only from what the stored copy carries.
        let total = price(&session).total;
        if claimed.authentication_metadata.is_some() || total >= THREE_DS_THRESHOLD {
            if let Err(reason) = self.verify_authentication(&raw, &session, total).await? {
                eprintln!("merchant: 3DS for {} refused: {reason}", session.id);
                return self.declined(session, "issuer authentication was not successful");
            }
        }
        let token = Self::payment_token(claimed, request)?;
        if let Some(buyer) = raw.get("buyer") {
            session.buyer = Some(buyer.clone());
        }
        let wanted: Vec<(String, i64)> = session
            .lines
            .iter()
            .map(|l| (l.item_id.clone(), l.quantity))
            .collect();
        if let Err(item) = self.catalog.reserve(&wanted) {
            return Err(AcpError::unprocessable(
                "out_of_stock",
                format!("{item} is out of stock"),
            ));
        }
        let pricing = price(&session);
        match self.charge(&token, pricing.total, &session).await {
            Ok(()) => {}
            Err(Charge::Declined(reason)) => {
                self.catalog.release(&wanted);
                return self.declined(session, &reason);
            }
            Err(Charge::Unavailable) => {
                self.catalog.release(&wanted);
                let reason = "the payment provider is unavailable; retry later";
                return Err(AcpError::service_unavailable(reason, None));
            }
        }
        // The stock moved: the agent platform's feed hears of it (in the background).
        if let Some(feed) = &self.feed {
            feed.changed(wanted.into_iter().map(|(id, _)| id).collect());
        }
        session.status = step(&session.status, Event::PaymentAuthorized)?;
        session.declined = None;
        let order_id = new_id("ord_");
        session.order = Some(json!({
            "id": order_id,
            "checkout_session_id": session.id,
            "permalink_url": format!("{}/orders/{order_id}", self.base_url),
            "status": "created",
            "support": {"email": SUPPORT_EMAIL, "hours": SUPPORT_HOURS,
                "help_center_url": format!("{}/help", self.base_url)},
            "totals": session_totals(&pricing),
        }));
        self.wire(&session)
    }

    /// `session` after a declined payment.
    fn declined(&self, mut session: Session, reason: &str) -> Result<CheckoutSession, AcpError> {
        session.status = step(&session.status, Event::PaymentDeclined)?;
        // A session that needs issuer authentication asks for it again (with its metadata).
        if session.status == "ready_for_payment" {
            session.status = next_status(&session, &self.catalog);
        }
        session.declined = Some(reason.to_owned());
        self.wire(&session)
    }

    /// The delegated token of a complete paid with a handler the session declared (CHK-21).
    fn payment_token(
        session: &CheckoutSession,
        request: &CheckoutSessionCompleteRequest,
    ) -> Result<String, AcpError> {
        let handler = request.payment_data.handler_id.as_ref();
        let known = session.capabilities.payment.as_ref().is_some_and(|p| {
            p.handlers
                .iter()
                .any(|h| handler.is_some_and(|id| id.as_str() == h.id.as_str()))
        });
        if !known {
            return Err(invalid(
                "$.payment_data.handler_id",
                "unknown payment handler".to_owned(),
            ));
        }
        request
            .payment_data
            .instrument
            .as_ref()
            .map(|i| i.credential.token.expose().to_owned())
            .ok_or_else(|| {
                AcpError::invalid_request(
                    codes::MISSING_REQUIRED_FIELD,
                    "a delegated payment token is required",
                    &path("$.payment_data.instrument"),
                )
            })
    }

    /// Checks the agent's `authentication_result` against the PSP's record of the
    /// `delegate_authentication` session the agent names (its id in the payment credential,
    /// `authentication_session_id`, a member of this handler's open credential object): the
    /// session must be for this merchant (the PSP answers only for its own sessions), this
    /// checkout session and its total, final and `authenticated` or `attempted` (DA-06), and
    /// its result must be the one presented (transaction id, ECI, cryptogram).
    /// `Ok(Err(reason))` refuses the payment.
    ///
    /// # Errors
    ///
    /// 503 when the PSP cannot be reached or fails.
    async fn verify_authentication(
        &self,
        raw: &Value,
        session: &Session,
        total: i64,
    ) -> Result<Result<(), String>, AcpError> {
        let presented = &raw["authentication_result"];
        if presented["outcome"] != "authenticated" {
            return Ok(Err(format!("outcome {}", presented["outcome"])));
        }
        let Some(id) = raw
            .pointer("/payment_data/instrument/credential/authentication_session_id")
            .and_then(Value::as_str)
            .filter(|id| {
                !id.is_empty()
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            })
        else {
            return Ok(Err(
                "no authentication_session_id in the credential".to_owned()
            ));
        };
        let unavailable = |e: String| {
            eprintln!("merchant: 3DS check for {}: {e}", session.id);
            AcpError::service_unavailable("the payment provider is unavailable; retry later", None)
        };
        let answer = self
            .psp
            .raw(Method::GET, &format!("authentication_results/{id}"))
            .send()
            .await
            .map_err(|e| unavailable(format!("PSP unreachable: {e}")))?;
        match answer.status {
            200 if !answer.truncated => {}
            200 => return Err(unavailable("PSP answer over the cap".to_owned())),
            400..=499 => return Ok(Err(format!("the PSP answered {} for {id}", answer.status))),
            other => return Err(unavailable(format!("PSP answered {other}"))),
        }
        let record: Value = answer.json().unwrap_or(Value::Null);
        let result = &record["authentication_result"];
        let details = &presented["outcome_details"];
        let checks = [
            (
                "status",
                matches!(
                    record["status"].as_str(),
                    Some("authenticated" | "attempted")
                ),
            ),
            (
                "checkout session",
                record["checkout_session_id"] == session.id.as_str(),
            ),
            ("amount", record["amount"]["value"] == total),
            (
                "currency",
                record["amount"]["currency"]
                    .as_str()
                    .map(str::to_ascii_lowercase)
                    == Some(session.currency.to_ascii_lowercase()),
            ),
            (
                "transaction id",
                result["transaction_id"].is_string()
                    && result["transaction_id"] == details["transaction_id"],
            ),
            (
                "ECI",
                result["electronic_commerce_indicator"] == details["electronic_commerce_indicator"],
            ),
            (
                "cryptogram",
                result["three_ds_cryptogram"] == details["three_ds_cryptogram"],
            ),
        ];
        Ok(match checks.iter().find(|(_, ok)| !ok) {
            Some((what, _)) => Err(format!("{what} does not match session {id} at the PSP")),
            None => Ok(()),
        })
    }

    /// Charges the delegated token at the PSP, which enforces the allowance (DP-03..11).
    async fn charge(&self, token: &str, amount: i64, session: &Session) -> Result<(), Charge> {
        // The PSP knows the merchant from its API key (DP-10). One Idempotency-Key per session
        // and token: a retried complete that reaches the PSP again gets the first answer back.
        let body = json!({"token": token, "amount": amount, "currency": session.currency,
            "checkout_session_id": session.id});
        let key = {
            use sha2::Digest as _;
            let digest = sha2::Sha256::digest(format!("{}\n{token}", session.id).as_bytes());
            format!("charge-{}", hex::encode(&digest[..16]))
        };
        // Retried after a timeout, a lost answer or a 5xx with the same key: the PSP answers a
        // retry with the first charge's outcome, so the charge happens exactly once.
        let sent = self
            .psp
            .raw(Method::POST, "charges")
            .idempotency_key(&key)
            .body(body.to_string())
            .retry(self.psp_retry)
            .send()
            .await;
        let answer = sent.map_err(|e| {
            // The detail (with the PSP's URL) goes to the log, never to the agent.
            eprintln!("merchant: charge for {}: PSP unreachable: {e}", session.id);
            Charge::Unavailable
        })?;
        let status = answer.status;
        let answer: Value = answer.json().unwrap_or(Value::Null);
        match status {
            200..=299 => Ok(()),
            400..=499 => Err(Charge::Declined(
                answer["message"]
                    .as_str()
                    .unwrap_or("payment declined")
                    .to_owned(),
            )),
            _ => {
                eprintln!("merchant: charge for {}: PSP answered {status}", session.id);
                Err(Charge::Unavailable)
            }
        }
    }

    /// `stored` canceled (its messages cleared).
    ///
    /// # Errors
    ///
    /// Only if the session cannot be rendered.
    pub(crate) async fn cancel(
        &self,
        stored: &CheckoutSession,
        at: OffsetDateTime,
    ) -> Result<CheckoutSession, AcpError> {
        self.pause().await;
        let mut session = Session::from_wire(stored);
        CheckoutStatus::Canceled
            .as_str()
            .clone_into(&mut session.status);
        session.updated_at = rfc3339(at);
        self.wire(&session)
    }

    /// A cart (`id`, or a new one) of `items`, priced from the catalog in its currency: the
    /// same lines, totals and item messages as a session, without fulfillment.
    ///
    /// # Errors
    ///
    /// Only if the cart cannot be rendered.
    pub(crate) async fn cart<I: serde::Serialize + Sync>(
        &self,
        id: Option<&str>,
        items: &[I],
    ) -> Result<Cart, AcpError> {
        self.pause().await;
        let items = serde_json::to_value(items).unwrap_or(Value::Null);
        let session = Session {
            id: id.map_or_else(|| new_id("cart_"), str::to_owned),
            status: "incomplete".to_owned(),
            currency: self.catalog.currency().unwrap_or_else(|| "usd".to_owned()),
            lines: lines_from_items(
                &strings(&Value::Array(
                    items
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|i| i["id"].clone())
                        .collect(),
                )),
                &self.catalog,
            ),
            buyer: None,
            fulfillment_details: None,
            selected: BTreeMap::new(),
            coupons: Vec::new(),
            capabilities: Capabilities::default(),
            order: None,
            declined: None,
            created_at: String::new(),
            updated_at: String::new(),
        };
        let invalid = |e: String| {
            eprintln!("merchant: cart {} is not valid: {e}", session.id);
            AcpError::processing_error("the merchant produced an invalid cart")
        };
        let p = price(&session);
        let messages = problems(&session, &self.catalog)
            .into_iter()
            .filter(|(blocking, _)| *blocking)
            .map(|(_, m)| from_json(m))
            .collect::<Result<_, _>>()
            .map_err(invalid)?;
        let currency = Currency::new(&session.currency).map_err(|e| invalid(e.to_string()))?;
        let mut cart = Cart::new(
            session.id.as_str(),
            line_items(&session, &self.catalog, &p),
            currency,
            totals(
                p.items_base,
                p.discount,
                p.subtotal,
                None,
                p.tax,
                p.subtotal + p.tax,
            ),
        );
        cart.messages = Some(messages);
        Ok(cart)
    }
}

/// Why a charge failed.
enum Charge {
    /// The PSP refused it (a business outcome: the session stays payable).
    Declined(String),
    /// The PSP could not be reached or failed; nothing was charged.
    Unavailable,
}

/// A merchant-side event through the crate's state machine.
fn step(status: &str, event: Event) -> Result<String, AcpError> {
    transition(&CheckoutStatus::from(status), event)
        .map(|next| next.as_str().to_owned())
        .map_err(|e| e.to_acp_error())
}

fn path(text: &str) -> JsonPath {
    JsonPath::parse(text).unwrap_or_else(|_| JsonPath::root())
}

/// 400 `invalid_value` at `param`.
fn invalid(param: &str, message: String) -> AcpError {
    AcpError::invalid_request(codes::INVALID_VALUE, message, &path(param))
}

/// 400 when the country at `pointer` in `request` is not an ISO 3166-1 alpha-2 code.
fn check_country(request: &Value, pointer: &str) -> Result<(), AcpError> {
    match request.pointer(pointer) {
        Some(country) if !is_country_code(country.as_str().unwrap_or_default()) => Err(invalid(
            &format!("${}", pointer.replace('/', ".")),
            "country must be an ISO 3166-1 alpha-2 code (two capital letters, e.g. \"US\")"
                .to_owned(),
        )),
        _ => Ok(()),
    }
}

/// A fresh id with `prefix`: 128 bits from the OS CSPRNG, hex-encoded.
pub(crate) fn new_id(prefix: &str) -> String {
    let mut bytes = [0_u8; 16];
    if let Err(e) = getrandom::fill(&mut bytes) {
        eprintln!("fatal: the operating system's random number generator failed: {e}");
        std::process::abort();
    }
    format!("{prefix}{}", hex::encode(bytes))
}

fn rfc3339(at: OffsetDateTime) -> String {
    Timestamp(at).to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use agentic_commerce::parse;
    use agentic_commerce::spec::latest::agentic_checkout::{
        Capabilities, CheckoutSessionCompleteRequest,
    };
    use serde_json::json;

    use super::super::catalog::{Catalog, DEFAULT_CATALOG};
    use super::{Session, Shop, lines_from_items, next_status, price, render, select_fulfillment};

    fn session(items: &[&str]) -> Session {
        let ids: Vec<String> = items.iter().map(|s| (*s).to_owned()).collect();
        Session {
            id: "cs_t".to_owned(),
            status: "incomplete".to_owned(),
            currency: "usd".to_owned(),
            lines: lines_from_items(&ids, &catalog()),
            buyer: None,
            fulfillment_details: None,
            selected: BTreeMap::new(),
            coupons: Vec::new(),
            capabilities: parse::from_value(&json!({"interventions": {"supported": ["3ds"]}}))
                .unwrap(),
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
    fn a_session_without_valid_timestamps_is_not_rendered() {
        let mut s = session(&["var_mug_pine"]);
        s.created_at = "2026-04-17T12:00:00Z".to_owned();
        s.updated_at = "yesterday".to_owned();
        let refused = render(&s, &catalog(), "merchant", "https://shop.example").unwrap_err();
        assert!(refused.starts_with("updated_at"), "{refused}");
        s.updated_at = s.created_at.clone();
        let wire = render(&s, &catalog(), "merchant", "https://shop.example").unwrap();
        assert_eq!(wire.created_at, wire.updated_at);
        assert!(wire.created_at.is_some());
    }

    #[test]
    fn an_engraved_line_item_shows_its_personalisation_in_custom_attributes() {
        let c = catalog();
        let mut s = session(&["var_flask_engraved", "var_mug_pine"]);
        s.created_at = "2026-04-17T12:00:00Z".to_owned();
        s.updated_at = s.created_at.clone();
        let wire =
            serde_json::to_value(render(&s, &c, "merchant", "https://shop.example").unwrap())
                .unwrap();
        let attributes = &wire["line_items"][0]["custom_attributes"];
        assert_eq!(attributes[0]["display_name"], "Engraving", "{wire}");
        assert!(
            attributes
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["display_name"].is_string() && a["value"].is_string())
        );
        assert!(wire["line_items"][1].get("custom_attributes").is_none());
        // The line item, with its custom attributes, is a strictly valid 2026-04-17 session.
        parse::registry::check_body(
            &agentic_commerce::protocol::version::ApiVersion::LATEST,
            agentic_commerce::protocol::headers::Operation::RetrieveCheckoutSession,
            parse::registry::Body::Response,
            &wire,
            true,
        )
        .unwrap();
    }

    #[test]
    fn chk_21_a_complete_pays_only_with_a_handler_the_session_declared() {
        let mut s = session(&["var_mug_pine"]);
        let handlers = json!({"payment": {"handlers": [super::payment_handler("merchant")]}});
        s.capabilities = parse::from_value(&handlers).unwrap();
        s.created_at = "2026-04-17T12:00:00Z".to_owned();
        s.updated_at = s.created_at.clone();
        let mut wire = render(&s, &catalog(), "merchant", "https://shop.example").unwrap();
        let pay = |handler: &str| -> CheckoutSessionCompleteRequest {
            parse::from_value(
                &json!({"payment_data": {"handler_id": handler, "instrument":
                {"type": "card", "credential": {"type": "spt", "token": "vt_1"}}}}),
            )
            .unwrap()
        };
        assert_eq!(
            Shop::payment_token(&wire, &pay("card_tokenized")).unwrap(),
            "vt_1"
        );
        let refused = Shop::payment_token(&wire, &pay("card_other")).unwrap_err();
        assert_eq!(refused.param(), Some("$.payment_data.handler_id"));
        wire.capabilities = Capabilities::default();
        let undeclared = Shop::payment_token(&wire, &pay("card_tokenized")).unwrap_err();
        assert_eq!(undeclared.param(), Some("$.payment_data.handler_id"));
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
        let mut s = session(&["var_mug_pine"]);
        s.selected
            .insert("var_mug_pine".to_owned(), "ship_express".to_owned());
        // 1800 × 8.25 % = 148.5 → 149.
        let p = price(&s);
        assert_eq!(
            (p.subtotal, p.tax, p.fulfillment, p.total),
            (1800, 149, 1500, 3449)
        );
        s.coupons.push("WELCOME10".to_owned());
        let p = price(&s);
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
        s.capabilities = Capabilities::default();
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
}
