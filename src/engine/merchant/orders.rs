//! Orders after the purchase: the merchant records order changes, the engine keeps the
//! 2026-04-17 [`Order`] and queues an `order_update` webhook for each, in one commit.
//!
//! The order of a complete is recorded by the engine itself when
//! [`EngineBuilder::order_webhooks`](super::EngineBuilder::order_webhooks) is set: the stored
//! order and its `order_create` event are committed with the completed session and its
//! idempotency response, so a crash cannot keep the purchase and lose its order. Other new
//! orders go through [`record_order_created`].
//!
//! The merchant is the system of record (WH-09): its code calls
//! [`MerchantEngine::record_order_change`] (or [`record_order_change`] over any
//! [`OutboxStore`]) with an [`OrderChange`]: a fulfillment, a fulfillment event (shipped with
//! tracking, delivered, canceled, `returned_to_sender`, undeliverable …), a quantity change, an
//! adjustment (refund, credit, dispute, `price_adjustment` …), the order status, or its details
//! (estimated delivery, support). [`apply`] computes the new order, a pure function that refuses
//! what the orders RFC forbids ([`OrderRefusal`], with the rule and the `param` path):
//!
//! - line quantities `0 ≤ fulfilled ≤ current ≤ ordered` (ORD-03), and each line's `status`
//!   derived from them (ORD-02) after every change;
//! - fulfillment statuses and events applicable to the fulfillment's type only (ORD-07); an
//!   event is appended to the fulfillment's append-only log and moves its status;
//! - `amount_refunded` kept equal to the sum of completed refunds (ORD-05), never above the
//!   original `total`; an adjustment's amount is not negative;
//! - references to existing line items with quantity ≥ 1 (ORD-09);
//! - no change to a terminal order (`completed`, `canceled`) status, fulfillment (`delivered`,
//!   `failed`, `canceled`) or adjustment (`completed`, `failed`), and no backwards move
//!   between the documented order statuses;
//! - values this crate does not know (ORD-01) are kept and passed through, never refused.
//!
//! The new order and its event are committed together ([`OutboxStore::record`]); the event
//! carries the full order (WH-06, WH-07) and is rendered in the agent's version (the one it
//! checked out in) when delivered, by the [`OutboxWorker`](crate::engine::outbox::OutboxWorker).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::engine::outbox::{self, NewEvent, OutboxStore, Recorded, RenderError};
use crate::engine::store::{ResourceKind, Write};
use crate::parse::json_path::JsonPath;
use crate::primitives::Amount;
use crate::primitives::Uri;
use crate::protocol::error::{AcpError, codes};
use crate::protocol::finding::Severity;
use crate::protocol::version::ApiVersion;
use crate::spec::latest::agentic_checkout::{
    Adjustment, CheckoutSession, EstimatedDelivery, Fulfillment, FulfillmentEvent,
    FulfillmentMethod, Order, OrderLineItem, OrderLineItemQuantity, SupportInfo, Total, TotalType,
};

use super::{Authenticator, Identity, Merchant, MerchantEngine};

/// How often a change is recomputed when another change of the same order committed first.
const CHANGE_ATTEMPTS: usize = 8;

/// Tracking details given with a fulfillment event (typically `shipped`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tracking {
    /// The carrier (`UPS`, `DHL` …).
    pub carrier: Option<String>,
    /// The carrier's tracking number.
    pub tracking_number: Option<String>,
    /// Where the buyer follows the shipment.
    pub tracking_url: Option<Uri>,
}

impl Tracking {
    /// Tracking by `carrier` and `number`.
    pub fn new(carrier: impl Into<String>, number: impl Into<String>) -> Self {
        Self {
            carrier: Some(carrier.into()),
            tracking_number: Some(number.into()),
            tracking_url: None,
        }
    }

    /// With a tracking URL.
    #[must_use]
    pub fn with_url(mut self, url: Uri) -> Self {
        self.tracking_url = Some(url);
        self
    }
}

/// One change of an order, as the merchant's code records it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum OrderChange {
    /// Sets the order-level status (`confirmed`, `processing`, `shipped`, `completed`,
    /// `canceled`, or a value this crate does not know).
    Status(String),
    /// Adds a fulfillment (its id is new to the order).
    AddFulfillment(Box<Fulfillment>),
    /// Appends `event` to the fulfillment `fulfillment_id`; a documented event type moves the
    /// fulfillment's status (`shipped` → `shipped`, `returned_to_sender` and `undeliverable` →
    /// `failed`, …). `tracking`, when given, is set on the fulfillment.
    FulfillmentEvent {
        /// The fulfillment.
        fulfillment_id: String,
        /// The event (its id is new to the fulfillment).
        event: FulfillmentEvent,
        /// Carrier and tracking number, if known now.
        tracking: Option<Tracking>,
    },
    /// Sets a line item's current and/or fulfilled quantity (ORD-03); its status follows
    /// (ORD-02).
    Quantity {
        /// The line item.
        line_item_id: String,
        /// The new active quantity (after a cancellation or a return).
        current: Option<i64>,
        /// The new fulfilled quantity.
        fulfilled: Option<i64>,
    },
    /// Records a new adjustment, or the new status of one already recorded (same id and type;
    /// a `pending` one may become `completed` or `failed`).
    Adjustment(Adjustment),
    /// Sets the estimated delivery and/or the support contact.
    Details {
        /// The new estimated delivery window.
        estimated_delivery: Option<EstimatedDelivery>,
        /// The new support contact.
        support: Option<SupportInfo>,
    },
}

/// Why a change was refused: the rule it would break and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} ({param})")]
pub struct OrderRefusal {
    /// The requirement id (`ORD-03`, `ORD-07` …), or `None` for a lifecycle rule (a terminal
    /// state, a backwards status, a change that changes nothing).
    pub rule: Option<&'static str>,
    /// The path of the offending value in the order (`$.line_items[0].quantity.current`).
    pub param: JsonPath,
    /// A human-readable explanation.
    pub message: String,
}

impl OrderRefusal {
    fn new(rule: Option<&'static str>, param: JsonPath, message: impl Into<String>) -> Self {
        Self {
            rule,
            param,
            message: message.into(),
        }
    }

    /// The ACP error for an admin endpoint to answer with: `400 invalid_value` (a rule of the
    /// orders RFC) or `422 invalid_state` (a lifecycle rule), with `param`.
    pub fn to_acp_error(&self) -> AcpError {
        match self.rule {
            Some(_) => AcpError::invalid_request(codes::INVALID_VALUE, &self.message, &self.param),
            None => {
                AcpError::unprocessable(codes::INVALID_STATE, &self.message).with_param(&self.param)
            }
        }
    }
}

/// Why recording an order or a change failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OrderError<E> {
    /// No order with this id.
    #[error("no order {0}")]
    NotFound(String),
    /// An order with this id exists already (an `order_create` is recorded once).
    #[error("order {0} exists already")]
    AlreadyExists(String),
    /// The change breaks a rule; nothing was recorded.
    #[error("refused: {0}")]
    Refused(#[from] OrderRefusal),
    /// The order cannot be sent in the agent's version; nothing was recorded.
    #[error(transparent)]
    Render(RenderError),
    /// Other changes of the same order kept committing first; nothing was recorded.
    #[error("the order kept changing concurrently")]
    Contended,
    /// The stored order does not parse (a bug or a foreign write).
    #[error("the stored order {0} is corrupt")]
    Corrupt(String),
    /// The store failed (the outcome of a remote commit may be unknown).
    #[error("store: {0}")]
    Store(E),
}

/// An order as stored: the 2026-04-17 order, its recipient and the agent's version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredOrder {
    /// The identity (agent platform) the order's events go to.
    pub recipient: String,
    /// The version the agent checked out in; events are rendered in it.
    pub version: ApiVersion,
    /// The order (2026-04-17).
    pub order: Order,
}

const ORDER_STATUSES: &[(&str, u8)] = &[
    ("created", 0),
    ("confirmed", 1),
    ("manual_review", 1),
    ("processing", 2),
    ("shipped", 3),
    ("completed", 4),
];

fn is_terminal_order(status: &str) -> bool {
    matches!(status, "completed" | "canceled")
}

fn is_terminal_fulfillment(status: &str) -> bool {
    matches!(status, "delivered" | "failed" | "canceled")
}

/// The documented fulfillment statuses of a documented type (ORD-07); `None`: a type this crate
/// does not know (anything goes).
fn fulfillment_statuses(kind: &FulfillmentMethod) -> Option<&'static [&'static str]> {
    const COMMON: [&str; 5] = ["pending", "processing", "delivered", "failed", "canceled"];
    match kind.as_str() {
        "shipping" => Some(&[
            COMMON[0],
            COMMON[1],
            "shipped",
            "in_transit",
            "out_for_delivery",
            COMMON[2],
            COMMON[3],
            COMMON[4],
        ]),
        "pickup" => Some(&[
            COMMON[0],
            COMMON[1],
            "ready_for_pickup",
            COMMON[2],
            COMMON[3],
            COMMON[4],
        ]),
        "digital" => Some(&COMMON),
        _ => None,
    }
}

const KNOWN_FULFILLMENT_STATUSES: &[&str] = &[
    "pending",
    "processing",
    "shipped",
    "in_transit",
    "out_for_delivery",
    "ready_for_pickup",
    "delivered",
    "failed",
    "canceled",
];

/// A documented event type: the fulfillment types it applies to (`None`: all) and the status it
/// leads to (`None`: unchanged, as a failed delivery attempt).
fn event_effect(kind: &str) -> Option<(Option<&'static [&'static str]>, Option<&'static str>)> {
    const SHIPPING: &[&str] = &["shipping"];
    Some(match kind {
        "processing" => (None, Some("processing")),
        "delivered" => (None, Some("delivered")),
        "canceled" => (None, Some("canceled")),
        "shipped" => (Some(SHIPPING), Some("shipped")),
        "in_transit" => (Some(SHIPPING), Some("in_transit")),
        "out_for_delivery" => (Some(SHIPPING), Some("out_for_delivery")),
        "failed_attempt" => (Some(SHIPPING), None),
        "returned_to_sender" | "undeliverable" => (Some(SHIPPING), Some("failed")),
        "ready_for_pickup" => (Some(&["pickup"]), Some("ready_for_pickup")),
        _ => return None,
    })
}

/// ORD-07: `status` is applicable to `kind` (an unknown status or type is kept, ORD-01).
fn check_fulfillment_status(
    kind: &FulfillmentMethod,
    status: &str,
    param: &JsonPath,
) -> Result<(), OrderRefusal> {
    let known = KNOWN_FULFILLMENT_STATUSES.contains(&status);
    match fulfillment_statuses(kind) {
        Some(allowed) if known && !allowed.contains(&status) => Err(OrderRefusal::new(
            Some("ORD-07"),
            param.clone(),
            format!(
                "status `{status}` does not apply to a {} fulfillment",
                kind.as_str()
            ),
        )),
        _ => Ok(()),
    }
}

/// Applies `change` to `order`: the new order, or why the change is refused. Pure; see the
/// [module docs](self) for the rules.
///
/// # Errors
/// The rule the change would break.
pub fn apply(order: &Order, change: &OrderChange) -> Result<Order, OrderRefusal> {
    let root = JsonPath::root();
    let mut next = order.clone();
    match change {
        OrderChange::Status(status) => apply_status(&mut next, status)?,
        OrderChange::AddFulfillment(fulfillment) => {
            if next.status.as_deref() == Some("canceled") {
                return Err(OrderRefusal::new(
                    None,
                    root.key("status"),
                    "a canceled order gets no new fulfillment",
                ));
            }
            let list = next.fulfillments.get_or_insert_with(Vec::new);
            let path = root.key("fulfillments").index(list.len());
            if list.iter().any(|f| f.id == fulfillment.id) {
                return Err(OrderRefusal::new(
                    None,
                    path.key("id"),
                    format!("fulfillment `{}` exists already", fulfillment.id),
                ));
            }
            if let Some(status) = &fulfillment.status {
                check_fulfillment_status(&fulfillment.kind, status, &path.key("status"))?;
            }
            for (i, event) in fulfillment.events.iter().flatten().enumerate() {
                check_event(&fulfillment.kind, event, &path.key("events").index(i))?;
            }
            list.push((**fulfillment).clone());
        }
        OrderChange::FulfillmentEvent {
            fulfillment_id,
            event,
            tracking,
        } => apply_event(&mut next, fulfillment_id, event, tracking.as_ref())?,
        OrderChange::Quantity {
            line_item_id,
            current,
            fulfilled,
        } => {
            if current.is_none() && fulfilled.is_none() {
                return Err(nothing_changes());
            }
            let lines = next.line_items.get_or_insert_with(Vec::new);
            let Some((i, line)) = lines
                .iter_mut()
                .enumerate()
                .find(|(_, l)| l.id == *line_item_id)
            else {
                return Err(OrderRefusal::new(
                    Some("ORD-09"),
                    root.key("line_items"),
                    format!("line item `{line_item_id}` is not in the order"),
                ));
            };
            let q = &mut line.quantity;
            let new_current = current.unwrap_or(q.current);
            let new_fulfilled = fulfilled.unwrap_or_else(|| q.fulfilled.unwrap_or(0));
            if !(0 <= new_fulfilled && new_fulfilled <= new_current && new_current <= q.ordered) {
                return Err(OrderRefusal::new(
                    Some("ORD-03"),
                    root.key("line_items").index(i).key("quantity"),
                    format!(
                        "quantities must satisfy 0 ≤ fulfilled ≤ current ≤ ordered (ordered {}, \
                         current {new_current}, fulfilled {new_fulfilled})",
                        q.ordered
                    ),
                ));
            }
            q.current = new_current;
            q.fulfilled = Some(new_fulfilled);
        }
        OrderChange::Adjustment(adjustment) => apply_adjustment(&mut next, adjustment)?,
        OrderChange::Details {
            estimated_delivery,
            support,
        } => {
            if estimated_delivery.is_none() && support.is_none() {
                return Err(nothing_changes());
            }
            if let Some(window) = estimated_delivery {
                next.estimated_delivery = Some(window.clone());
            }
            if let Some(support) = support {
                next.support = Some(support.clone());
            }
        }
    }
    normalize(&mut next)?;
    if next == *order {
        return Err(nothing_changes());
    }
    Ok(next)
}

fn nothing_changes() -> OrderRefusal {
    OrderRefusal::new(None, JsonPath::root(), "the change changes nothing")
}

fn apply_status(order: &mut Order, status: &str) -> Result<(), OrderRefusal> {
    let path = JsonPath::root().key("status");
    let current = order.status.as_deref().unwrap_or("created");
    if current == status {
        return Err(nothing_changes());
    }
    if is_terminal_order(current) {
        return Err(OrderRefusal::new(
            None,
            path,
            format!("the order is {current}; its status no longer changes"),
        ));
    }
    let rank = |s: &str| {
        ORDER_STATUSES
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, r)| *r)
    };
    if let (Some(from), Some(to)) = (rank(current), rank(status)) {
        if to < from {
            return Err(OrderRefusal::new(
                None,
                path,
                format!("an order does not go back from {current} to {status}"),
            ));
        }
    }
    order.status = Some(status.to_owned());
    Ok(())
}

fn check_event(
    kind: &FulfillmentMethod,
    event: &FulfillmentEvent,
    path: &JsonPath,
) -> Result<(), OrderRefusal> {
    if let Some((Some(types), _)) = event_effect(&event.kind) {
        if fulfillment_statuses(kind).is_some() && !types.contains(&kind.as_str()) {
            return Err(OrderRefusal::new(
                Some("ORD-07"),
                path.key("type"),
                format!(
                    "event `{}` does not apply to a {} fulfillment",
                    event.kind,
                    kind.as_str()
                ),
            ));
        }
    }
    Ok(())
}

fn apply_event(
    order: &mut Order,
    fulfillment_id: &str,
    event: &FulfillmentEvent,
    tracking: Option<&Tracking>,
) -> Result<(), OrderRefusal> {
    let root = JsonPath::root();
    let list = order.fulfillments.get_or_insert_with(Vec::new);
    let Some((i, fulfillment)) = list
        .iter_mut()
        .enumerate()
        .find(|(_, f)| f.id == fulfillment_id)
    else {
        return Err(OrderRefusal::new(
            None,
            root.key("fulfillments"),
            format!("fulfillment `{fulfillment_id}` is not in the order"),
        ));
    };
    let path = root.key("fulfillments").index(i);
    if let Some(status) = fulfillment
        .status
        .as_deref()
        .filter(|s| is_terminal_fulfillment(s))
    {
        return Err(OrderRefusal::new(
            None,
            path.key("status"),
            format!("fulfillment `{fulfillment_id}` is {status}; it takes no more events"),
        ));
    }
    let events = fulfillment.events.get_or_insert_with(Vec::new);
    let event_path = path.key("events").index(events.len());
    if events.iter().any(|e| e.id == event.id) {
        return Err(OrderRefusal::new(
            None,
            event_path.key("id"),
            format!("event `{}` is recorded already", event.id),
        ));
    }
    check_event(&fulfillment.kind, event, &event_path)?;
    events.push(event.clone());
    if let Some((_, Some(status))) = event_effect(&event.kind) {
        fulfillment.status = Some(status.to_owned());
    }
    if let Some(tracking) = tracking {
        if let Some(carrier) = &tracking.carrier {
            fulfillment.carrier = Some(carrier.clone());
        }
        if let Some(number) = &tracking.tracking_number {
            fulfillment.tracking_number = Some(number.clone());
        }
        if let Some(url) = &tracking.tracking_url {
            fulfillment.tracking_url = Some(url.clone());
        }
    }
    Ok(())
}

fn apply_adjustment(order: &mut Order, adjustment: &Adjustment) -> Result<(), OrderRefusal> {
    let list = order.adjustments.get_or_insert_with(Vec::new);
    let index = list.iter().position(|a| a.id == adjustment.id);
    let path = JsonPath::root()
        .key("adjustments")
        .index(index.unwrap_or(list.len()));
    if adjustment.amount.is_some_and(|a| a.minor_units() < 0) {
        return Err(OrderRefusal::new(
            Some("ORD-06"),
            path.key("amount"),
            "an adjustment's amount is what the buyer is credited, not negative",
        ));
    }
    match index {
        None => list.push(adjustment.clone()),
        Some(i) => {
            let old = &list[i];
            if old.kind != adjustment.kind {
                return Err(OrderRefusal::new(
                    None,
                    path.key("type"),
                    format!(
                        "adjustment `{}` is a {}, not a {}",
                        old.id, old.kind, adjustment.kind
                    ),
                ));
            }
            if matches!(old.status.as_str(), "completed" | "failed") {
                return Err(OrderRefusal::new(
                    None,
                    path.key("status"),
                    format!("adjustment `{}` is {} already", old.id, old.status),
                ));
            }
            list[i] = adjustment.clone();
        }
    }
    Ok(())
}

/// ORD-02 line statuses and ORD-05 `amount_refunded`, then every error rule of
/// [`crate::rules::orders`].
fn normalize(order: &mut Order) -> Result<(), OrderRefusal> {
    for line in order.line_items.iter_mut().flatten() {
        derive_line_status(line);
    }
    let refunded = Amount::checked_sum(
        order
            .adjustments
            .iter()
            .flatten()
            .filter(|a| a.kind == "refund" && a.status == "completed")
            .map(|a| a.amount.unwrap_or_default()),
    )
    .ok_or_else(|| {
        OrderRefusal::new(
            Some("ORD-05"),
            JsonPath::root().key("adjustments"),
            "refund amounts overflow a 64-bit integer",
        )
    })?;
    let totals = order.totals.get_or_insert_with(Vec::new);
    let original = totals
        .iter()
        .find(|t| t.kind == TotalType::Total)
        .map(|t| t.amount);
    if let Some(original) = original {
        if refunded > original {
            return Err(OrderRefusal::new(
                Some("ORD-05"),
                JsonPath::root().key("adjustments"),
                format!("completed refunds ({refunded}) exceed the amount charged ({original})"),
            ));
        }
    }
    match totals
        .iter_mut()
        .find(|t| t.kind == TotalType::AmountRefunded)
    {
        Some(total) => total.amount = refunded,
        None if refunded.minor_units() > 0 => {
            totals.push(Total::new(TotalType::AmountRefunded, "Refunded", refunded));
        }
        None => {}
    }
    if totals.is_empty() {
        order.totals = None;
    }
    let mut findings = Vec::new();
    crate::rules::orders::check(order, &JsonPath::root(), &mut findings);
    match findings.into_iter().find(|f| f.severity == Severity::Error) {
        Some(f) => Err(OrderRefusal::new(Some(f.rule), f.param, f.message)),
        None => Ok(()),
    }
}

/// ORD-02: a documented (or missing) line status follows the quantities; an unknown one is
/// kept (ORD-01).
fn derive_line_status(line: &mut OrderLineItem) {
    const DERIVED: [&str; 4] = ["processing", "partial", "fulfilled", "removed"];
    if line
        .status
        .as_deref()
        .is_some_and(|s| !DERIVED.contains(&s))
    {
        return;
    }
    let derived = crate::rules::orders::derived_line_status(&line.quantity);
    line.status = Some(derived.to_owned());
}

/// The stored order `order_id`, if any.
///
/// # Errors
/// [`OrderError::Corrupt`] or [`OrderError::Store`].
pub async fn load_order<S: OutboxStore>(
    store: &S,
    order_id: &str,
) -> Result<Option<(StoredOrder, u64)>, OrderError<S::Error>> {
    let Some(found) = store
        .load(ResourceKind::Order, order_id)
        .await
        .map_err(OrderError::Store)?
    else {
        return Ok(None);
    };
    let stored: StoredOrder = serde_json::from_str(&found.document)
        .map_err(|_| OrderError::Corrupt(order_id.to_owned()))?;
    Ok(Some((stored, found.version)))
}

/// Records a new order for `recipient` (the agent platform that checked out, in `version`) and
/// its `order_create` event, in one commit. The order is normalized as every change is (line
/// statuses, `amount_refunded`) and checked against the orders rules.
///
/// # Errors
/// [`OrderError::AlreadyExists`], [`OrderError::Refused`], [`OrderError::Render`] (the order
/// cannot be sent in `version`), or [`OrderError::Store`].
pub async fn record_order_created<S: OutboxStore>(
    store: &S,
    recipient: &str,
    version: &ApiVersion,
    order: Order,
    now: OffsetDateTime,
) -> Result<Order, OrderError<S::Error>> {
    let (stored, write, event) = prepare_created(recipient, version, order)?;
    match store
        .record(write, event, now)
        .await
        .map_err(OrderError::Store)?
    {
        Recorded::Committed(_) => Ok(stored.order),
        Recorded::Conflict => Err(OrderError::AlreadyExists(stored.order.id.to_string())),
    }
}

/// The order lines of a completed `session`, as the engine records them when the merchant's
/// order has none: one per line item, everything ordered still current, nothing fulfilled
/// (ORD-03), titled with the line's name (or its item id) at its unit amount.
pub fn lines_of(session: &CheckoutSession) -> Vec<OrderLineItem> {
    session
        .line_items
        .iter()
        .map(|line| {
            let title = line.name.as_deref().unwrap_or(line.item.id.as_str());
            let mut quantity = OrderLineItemQuantity::new(line.quantity, line.quantity);
            quantity.fulfilled = Some(0);
            let mut item = OrderLineItem::new(line.id.as_str(), title, quantity);
            item.unit_price = line.unit_amount;
            item.product_id.clone_from(&line.product_id);
            item
        })
        .collect()
}

/// The new order of `recipient` in `version` (normalized and checked as
/// [`record_order_created`] does), its document write (a create) and its `order_create` event,
/// for a commit of their own or of the completed checkout session (the merchant engine's).
pub(crate) fn prepare_created<E>(
    recipient: &str,
    version: &ApiVersion,
    mut order: Order,
) -> Result<(StoredOrder, Write, Option<NewEvent>), OrderError<E>> {
    normalize(&mut order)?;
    let stored = StoredOrder {
        recipient: recipient.to_owned(),
        version: version.clone(),
        order,
    };
    let (write, event) = prepare(&stored, None, outbox::ORDER_CREATE)?;
    Ok((stored, write, event))
}

/// Applies `change` to the stored order `order_id` and queues its `order_update` event, in one
/// commit (recomputed when another change of the order commits first). Returns the new order.
///
/// An agent on a version older than the orders RFC sees only part of an order (its status,
/// not its fulfillments): a change invisible in its version is stored without an event, since
/// the event would repeat the previous one byte for byte.
///
/// # Errors
/// [`OrderError::NotFound`], [`OrderError::Refused`], [`OrderError::Render`],
/// [`OrderError::Contended`], [`OrderError::Corrupt`] or [`OrderError::Store`].
pub async fn record_order_change<S: OutboxStore>(
    store: &S,
    order_id: &str,
    change: &OrderChange,
    now: OffsetDateTime,
) -> Result<Order, OrderError<S::Error>> {
    for _ in 0..CHANGE_ATTEMPTS {
        let Some((mut stored, version)) = load_order(store, order_id).await? else {
            return Err(OrderError::NotFound(order_id.to_owned()));
        };
        let after = apply(&stored.order, change)?;
        let before = std::mem::replace(&mut stored.order, after);
        let previous = Some((&before, version));
        match commit(store, &stored, previous, outbox::ORDER_UPDATE, now).await? {
            Recorded::Committed(_) => return Ok(stored.order),
            Recorded::Conflict => {}
        }
    }
    Err(OrderError::Contended)
}

async fn commit<S: OutboxStore>(
    store: &S,
    stored: &StoredOrder,
    previous: Option<(&Order, u64)>,
    event_type: &str,
    now: OffsetDateTime,
) -> Result<Recorded, OrderError<S::Error>> {
    let (write, event) = prepare(stored, previous, event_type)?;
    store
        .record(write, event, now)
        .await
        .map_err(OrderError::Store)
}

/// The order's document write and its event (`None`: a change the agent's version cannot
/// show).
fn prepare<E>(
    stored: &StoredOrder,
    previous: Option<(&Order, u64)>,
    event_type: &str,
) -> Result<(Write, Option<NewEvent>), OrderError<E>> {
    let payload = outbox::event_payload(event_type, &stored.order).map_err(OrderError::Render)?;
    // Refused now rather than dead-lettered later: the event must be sendable to this agent.
    let body = outbox::render(&payload, &stored.version).map_err(OrderError::Render)?;
    // A change the agent's version cannot show (a fulfillment event, for an agent older than
    // the orders RFC) would repeat the previous event's body: the agent's receiver would take
    // it for a redelivery. Such a change is stored without an event.
    let unchanged = match previous {
        Some((order, _)) => outbox::event_payload(event_type, order)
            .and_then(|p| outbox::render(&p, &stored.version))
            .is_ok_and(|before| before == body),
        None => false,
    };
    let document = serde_json::to_string(stored)
        .map_err(|e| OrderError::Render(RenderError::new(e.to_string())))?;
    let id = stored.order.id.to_string();
    let event = (!unchanged).then(|| NewEvent {
        order_id: id.clone(),
        recipient: stored.recipient.clone(),
        version: stored.version.clone(),
        event_type: event_type.to_owned(),
        payload,
    });
    let write = Write {
        kind: ResourceKind::Order,
        id,
        document,
        expected_version: previous.map(|(_, v)| v),
    };
    Ok((write, event))
}

impl<M: Merchant, S: OutboxStore, A: Authenticator> MerchantEngine<M, S, A> {
    /// Records `change` of the order `order_id` and queues its `order_update` webhook (see
    /// [`record_order_change`]).
    ///
    /// # Errors
    /// As [`record_order_change`].
    pub async fn record_order_change(
        &self,
        order_id: &str,
        change: &OrderChange,
    ) -> Result<Order, OrderError<S::Error>> {
        record_order_change(self.store(), order_id, change, OffsetDateTime::now_utc()).await
    }

    /// Records a new order of `recipient` (in the version it checked out in) and queues its
    /// `order_create` webhook (see [`record_order_created`]), for an order that did not come
    /// from a complete: the engine records those itself, in the commit of the completed
    /// session, when [`order_webhooks`](super::EngineBuilder::order_webhooks) is set.
    ///
    /// # Errors
    /// As [`record_order_created`].
    pub async fn record_order_created(
        &self,
        recipient: &Identity,
        version: &ApiVersion,
        order: Order,
    ) -> Result<Order, OrderError<S::Error>> {
        record_order_created(
            self.store(),
            recipient.as_str(),
            version,
            order,
            OffsetDateTime::now_utc(),
        )
        .await
    }

    /// The stored order `order_id`.
    ///
    /// # Errors
    /// [`OrderError::Corrupt`] or [`OrderError::Store`].
    pub async fn order(&self, order_id: &str) -> Result<Option<StoredOrder>, OrderError<S::Error>> {
        Ok(load_order(self.store(), order_id).await?.map(|(o, _)| o))
    }
}
