//! The example merchant's back office: admin endpoints, on their own path (`/admin`) and their
//! own bearer key (`--admin-key`), that record what happens to an order after the purchase.
//! Each records one [`OrderChange`] with its `order_update` webhook in the outbox (WH-09), which
//! the worker delivers to the agent:
//!
//! - `GET  /admin/orders/{id}`: the merchant's current order;
//! - `GET  /admin/feed`: the agent platform's feed this merchant pushes its catalog to
//!   (`--feed-url`): its id once created (`null` before, `404` without `--feed-url`);
//! - `GET  /admin/dead_letters`: how many webhooks wait for delivery, and the oldest 100 that
//!   failed for good;
//! - `POST /admin/orders/{id}/ship`: a new shipping fulfillment, shipped, with carrier and
//!   tracking, for some lines (`line_items`) or all;
//! - `POST /admin/orders/{id}/deliver`: a fulfillment delivered;
//! - `POST /admin/orders/{id}/cancel_line`: `quantity` units of a line canceled (ORD-03);
//! - `POST /admin/orders/{id}/refund`: part of the order refunded (`amount` in minor units,
//!   ORD-05), with an optional reason and lines;
//! - `POST /admin/variants/{id}/price`: a catalog variant's new price (`amount` in minor units,
//!   optional ISO 4217 `currency`) for sessions priced from now on (created or updated; a
//!   session priced before keeps its stored prices, and complete charges its stored total),
//!   pushed to the feed as a partial upsert of that product (in the background).
//!
//! A change the orders rules refuse is the ACP error with its `param` and status (nothing is
//! recorded); an unknown order or variant is `404`; a missing or wrong key is `401`.

use std::sync::Arc;

use agentic_commerce::AcpError;
use agentic_commerce::engine::merchant::orders::OrderChange;
use agentic_commerce::parse::json_path::JsonPath;
use agentic_commerce::primitives::Timestamp;
use agentic_commerce::protocol::error::codes;
use agentic_commerce::protocol::headers::BearerToken;
use agentic_commerce::spec::latest::agentic_checkout::{Adjustment, Fulfillment, FulfillmentEvent};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::catalog::{Catalog, MAX_UNIT_AMOUNT};
use super::checkout::new_id;
use super::feed::FeedPusher;
use super::orders::Outbox;

/// The admin API's state: the outbox orders are recorded in, the key, the catalog whose prices
/// it changes and the feed those changes are pushed to.
#[derive(Clone)]
struct Admin {
    outbox: Outbox,
    key: String,
    catalog: Arc<Catalog>,
    feed: Option<FeedPusher>,
}

/// The admin routes, answering only requests bearing `key`.
pub(crate) fn router(
    outbox: Outbox,
    key: String,
    catalog: Arc<Catalog>,
    feed: Option<FeedPusher>,
) -> Router {
    Router::new()
        .route("/admin/orders/{id}", get(show))
        .route("/admin/feed", get(show_feed))
        .route("/admin/dead_letters", get(dead_letters))
        .route("/admin/orders/{id}/ship", post(ship))
        .route("/admin/orders/{id}/deliver", post(deliver))
        .route("/admin/orders/{id}/cancel_line", post(cancel_line))
        .route("/admin/orders/{id}/refund", post(refund))
        .route("/admin/variants/{id}/price", post(set_price))
        .with_state(Admin {
            outbox,
            key,
            catalog,
            feed,
        })
}

/// An ACP error as the admin API's answer.
fn error(e: &AcpError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        e.to_json().to_string(),
    )
        .into_response()
}

impl Admin {
    /// `401` unless the request bears the admin key (compared in constant time).
    fn denied(&self, headers: &HeaderMap) -> Option<Response> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| BearerToken::parse(v).ok());
        match token {
            Some(t) if t.matches(&self.key) => None,
            _ => Some(error(&AcpError::unauthorized(
                "a valid admin bearer key is required",
            ))),
        }
    }

    /// Authorizes, records the change `make` builds from the body, answers the new order.
    async fn record(
        &self,
        headers: &HeaderMap,
        id: &str,
        body: &Bytes,
        make: impl FnOnce(&Value) -> Result<OrderChange, AcpError>,
    ) -> Response {
        if let Some(denied) = self.denied(headers) {
            return denied;
        }
        let value = match json_body(body) {
            Ok(v) => v,
            Err(e) => return error(&e),
        };
        let change = match make(&value) {
            Ok(c) => c,
            Err(e) => return error(&e),
        };
        match self.outbox.record_change(id, &change).await {
            Ok(order) => Json(json!(order)).into_response(),
            Err(e) => error(&e),
        }
    }
}

/// The request body as JSON (empty: `{}`).
fn json_body(body: &Bytes) -> Result<Value, AcpError> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| {
        AcpError::invalid_request(
            codes::INVALID_VALUE,
            format!("the body is not JSON: {e}"),
            &JsonPath::root(),
        )
    })
}

/// `GET /admin/feed`.
async fn show_feed(State(admin): State<Admin>, headers: HeaderMap) -> Response {
    if let Some(denied) = admin.denied(&headers) {
        return denied;
    }
    match &admin.feed {
        Some(feed) => Json(json!({"feed_id": feed.feed_id()})).into_response(),
        None => error(&AcpError::not_found("feed")),
    }
}

/// A JSON answer.
struct Json(Value);

impl IntoResponse for Json {
    fn into_response(self) -> Response {
        (
            [(header::CONTENT_TYPE, "application/json")],
            self.0.to_string(),
        )
            .into_response()
    }
}

async fn show(State(a): State<Admin>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Some(denied) = a.denied(&headers) {
        return denied;
    }
    match a.outbox.order(&id).await {
        Ok(Some(order)) => Json(json!(order)).into_response(),
        Ok(None) => error(&AcpError::not_found("order")),
        Err(e) => error(&e),
    }
}

async fn dead_letters(State(a): State<Admin>, headers: HeaderMap) -> Response {
    if let Some(denied) = a.denied(&headers) {
        return denied;
    }
    match a.outbox.health(100).await {
        Ok((pending, dead)) => {
            let dead: Vec<Value> = dead
                .iter()
                .map(|d| {
                    json!({
                        "seq": d.seq, "order_id": d.event.order_id, "type": d.event.event_type,
                        "created_at": Timestamp(d.created_at).to_string(),
                        "attempts": d.attempts, "last_error": d.last_error,
                    })
                })
                .collect();
            Json(json!({"pending": pending, "dead_letters": dead})).into_response()
        }
        Err(e) => error(&e),
    }
}

fn invalid(message: &str, at: &str) -> AcpError {
    AcpError::invalid_request(codes::INVALID_VALUE, message, &JsonPath::root().key(at))
}

/// A required non-empty string member.
fn text<'v>(body: &'v Value, name: &str) -> Result<&'v str, AcpError> {
    body[name]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid(&format!("`{name}` must be a non-empty string"), name))
}

/// An optional string member.
fn optional<'v>(body: &'v Value, name: &str) -> Result<Option<&'v str>, AcpError> {
    match &body[name] {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err(invalid(&format!("`{name}` must be a string"), name)),
    }
}

/// A positive integer member.
fn positive(body: &Value, name: &str) -> Result<i64, AcpError> {
    body[name]
        .as_i64()
        .filter(|n| *n > 0)
        .ok_or_else(|| invalid(&format!("`{name}` must be a positive integer"), name))
}

/// A wire type from JSON this endpoint built from the request, `at` naming the member at fault.
fn typed<T: serde::de::DeserializeOwned>(value: &Value, at: &str) -> Result<T, AcpError> {
    serde_json::from_value(value.clone()).map_err(|e| invalid(&e.to_string(), at))
}

fn now() -> Value {
    json!(Timestamp(OffsetDateTime::now_utc()).to_string())
}

/// `line_items`: `[{"id", "quantity"}]`, or absent (every line).
fn line_items(body: &Value) -> Result<Option<Value>, AcpError> {
    match &body["line_items"] {
        Value::Null => Ok(None),
        Value::Array(lines) => Ok(Some(Value::Array(lines.clone()))),
        _ => Err(invalid("`line_items` must be an array", "line_items")),
    }
}

/// `{"carrier", "tracking_number", "tracking_url"?, "fulfillment_id"?, "line_items"?}`.
async fn ship(
    State(a): State<Admin>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    a.record(&headers, &id, &body, |b| {
        let (carrier, number) = (text(b, "carrier")?, text(b, "tracking_number")?);
        let fulfillment_id =
            optional(b, "fulfillment_id")?.map_or_else(|| new_id("ful_"), str::to_owned);
        let mut fulfillment = json!({
            "id": fulfillment_id, "type": "shipping", "status": "shipped",
            "carrier": carrier, "tracking_number": number,
            "events": [{"id": new_id("fev_"), "type": "shipped", "occurred_at": now()}],
        });
        if let Some(url) = optional(b, "tracking_url")? {
            fulfillment["tracking_url"] = json!(url);
        }
        if let Some(lines) = line_items(b)? {
            fulfillment["line_items"] = lines;
        }
        let fulfillment: Fulfillment = typed(&fulfillment, "line_items")?;
        Ok(OrderChange::AddFulfillment(Box::new(fulfillment)))
    })
    .await
}

/// `{"fulfillment_id"}`.
async fn deliver(
    State(a): State<Admin>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    a.record(&headers, &id, &body, |b| {
        let fulfillment_id = text(b, "fulfillment_id")?.to_owned();
        let event = json!({"id": new_id("fev_"), "type": "delivered", "occurred_at": now()});
        let event: FulfillmentEvent = typed(&event, "fulfillment_id")?;
        Ok(OrderChange::FulfillmentEvent {
            fulfillment_id,
            event,
            tracking: None,
        })
    })
    .await
}

/// `{"line_item_id", "quantity"}`: the line's current quantity drops by `quantity`.
async fn cancel_line(
    State(a): State<Admin>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Some(denied) = a.denied(&headers) {
        return denied;
    }
    let current = match a.outbox.order(&id).await {
        Ok(Some(order)) => order,
        Ok(None) => return error(&AcpError::not_found("order")),
        Err(e) => return error(&e),
    };
    a.record(&headers, &id, &body, |b| {
        let line = text(b, "line_item_id")?;
        let quantity = positive(b, "quantity")?;
        let now_current = current
            .line_items
            .iter()
            .flatten()
            .find(|l| l.id == line)
            .map(|l| l.quantity.current)
            .ok_or_else(|| invalid("no such line item in the order", "line_item_id"))?;
        // The change sets the new quantity, computed from the order read above: two cancels of
        // one line at the same instant may count once (an example's back office, one operator).
        Ok(OrderChange::Quantity {
            line_item_id: line.to_owned(),
            // Below zero is refused by the orders rules (ORD-03), with the line's param.
            current: Some(now_current - quantity),
            fulfilled: None,
        })
    })
    .await
}

/// `{"amount", "reason"?, "line_items"?}`: a completed refund of `amount` minor units.
async fn refund(
    State(a): State<Admin>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    a.record(&headers, &id, &body, |b| {
        let amount = positive(b, "amount")?;
        let mut adjustment = json!({
            "id": new_id("adj_"), "type": "refund", "status": "completed",
            "occurred_at": now(), "amount": amount,
        });
        if let Some(reason) = optional(b, "reason")? {
            adjustment["reason"] = json!(reason);
        }
        if let Some(lines) = line_items(b)? {
            adjustment["line_items"] = lines;
        }
        let adjustment: Adjustment = typed(&adjustment, "line_items")?;
        Ok(OrderChange::Adjustment(adjustment))
    })
    .await
}

/// `{"amount", "currency"?}`: variant `id`'s price from now on; answers the variant's new
/// price and pushes its product to the feed (in the background, never delaying the answer).
async fn set_price(
    State(a): State<Admin>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Some(denied) = a.denied(&headers) {
        return denied;
    }
    let Some(product_id) = a.catalog.product_of(&id).map(str::to_owned) else {
        return error(&AcpError::not_found("variant"));
    };
    let parsed = json_body(&body).and_then(|b| {
        let amount = positive(&b, "amount")?;
        if amount > MAX_UNIT_AMOUNT {
            return Err(invalid(
                &format!("`amount` must be at most {MAX_UNIT_AMOUNT}"),
                "amount",
            ));
        }
        let currency = optional(&b, "currency")?;
        if currency.is_some_and(|c| c.len() != 3 || !c.bytes().all(|b| b.is_ascii_alphabetic())) {
            return Err(invalid(
                "`currency` must be a three-letter ISO 4217 code",
                "currency",
            ));
        }
        Ok((amount, currency.map(str::to_owned)))
    });
    let (amount, currency) = match parsed {
        Ok(p) => p,
        Err(e) => return error(&e),
    };
    let Some(price) = a.catalog.set_price(&id, amount, currency.as_deref()) else {
        return error(&AcpError::not_found("variant"));
    };
    if let Some(feed) = &a.feed {
        feed.changed(vec![id.clone()]);
    }
    Json(json!({
        "variant_id": id,
        "product_id": product_id,
        "price": {"amount": price.amount, "currency": price.currency.to_ascii_uppercase()},
    }))
    .into_response()
}
