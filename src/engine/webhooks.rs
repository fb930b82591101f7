//! The agent platform's order-webhook receiver, framework-free (WH-01..10).
//!
//! A merchant POSTs order events (`order_create`, `order_update`, WH-09) to the agent
//! platform. [`WebhookReceiver`] serves that endpoint
//! (`POST /agentic_checkout/webhooks/order_events`, [`ORDER_EVENTS_PATH`]) in this order:
//!
//! 1. **Verify before trusting** (WH-01..05): the `Merchant-Signature` header over the raw body
//!    bytes, by a [`WebhookVerifier`] holding one or more secrets (rotation) and a freshness
//!    window; any failure is `401 invalid_signature` and nothing else is read.
//! 2. **Parse in the sender's version**: the `API-Version` header names the version the body is
//!    written in (a missing header means [`ApiVersion::LATEST`]; an unknown one is `400`). The
//!    parse is lenient by default (unknown members and values are kept, WH-08, ORD-01);
//!    [`strict`](WebhookReceiverBuilder::strict) also validates the body against that version's
//!    schema. The event is then **upgraded to 2026-04-17** ([`convert`]); when it cannot be,
//!    the application still gets it, as JSON ([`Delivery::event`] is `None`).
//! 3. **Deduplicate** (delivery is at least once): the event's id ([`Delivery::event_id`]) is
//!    the SHA-256 of the body's RFC 8785 canonical form, so a redelivery (same body, new
//!    signature) has the same id. It is reserved in an
//!    [`AsyncIdempotencyStore`](crate::engine::store::AsyncIdempotencyStore) under the
//!    sender's identity: the first delivery reaches the [`WebhookHandler`] once; a delivery of
//!    an event already handled is answered with the first answer (`200`,
//!    `Idempotent-Replayed: true`) and does not reach it; a delivery arriving while the first
//!    is still being handled is `409` with `Retry-After` (the merchant retries; if the first
//!    one fails, the retry runs it). A handler error releases the reservation, so the
//!    merchant's retry runs it again.
//! 4. **Order timeline**: each new event appends an entry (status, fulfillment status changes,
//!    fulfillment events and adjustments not seen before) to its order's [`OrderTimeline`],
//!    stored in the [`ResourceStore`] ([`ResourceKind::OrderTimeline`]) **together with** the
//!    event's idempotency record (one commit, IDEM-17). Read it with
//!    [`WebhookReceiver::timeline`].
//! 5. `200 {"received": true, "request_id": …}` (WH-10).
//!
//! Deduplication lasts as long as the store keeps idempotency records (at least 24 hours,
//! IDEM-14). [`InMemoryStore`](crate::engine::store::InMemoryStore) is bounded; the
//! `agentic-commerce-postgres` store shares events and timelines across receiver instances.
//!
//! # Example
//!
//! ```
//! use agentic_commerce::engine::store::InMemoryStore;
//! use agentic_commerce::engine::webhooks::{Delivery, WebhookHandler, WebhookReceiver};
//! use agentic_commerce::trust::webhook::{WebhookSecret, WebhookVerifier};
//! use agentic_commerce::AcpError;
//!
//! struct Print;
//! impl WebhookHandler for Print {
//!     async fn order_event(&self, delivery: &Delivery) -> Result<(), AcpError> {
//!         println!("{} {:?}", delivery.event_type(), delivery.order_status());
//!         Ok(())
//!     }
//! }
//!
//! let verifier = WebhookVerifier::new(WebhookSecret::new("whsec_the_new_secret").unwrap())
//!     .with_secret(WebhookSecret::new("whsec_the_old_secret").unwrap()); // rotation
//! let receiver = WebhookReceiver::builder(verifier, Print, InMemoryStore::default()).build();
//! # let _ = receiver;
//! ```

use std::future::Future;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::parse::json_path::JsonPath;
use crate::parse::registry;
use crate::protocol::error::AcpError;
use crate::protocol::headers::IdempotencyKey;
use crate::protocol::version::ApiVersion;
use crate::protocol::version::convert::{self, Document};
use crate::spec::latest::agentic_checkout::{Adjustment, FulfillmentEvent};
use crate::spec::latest::agentic_checkout_webhook::WebhookEvent;
use crate::trust::idempotency::{
    Fingerprint, IdempotencyOutcome, IdempotencyScope, StoredResponse,
};
use crate::trust::webhook::{HEADER_NAME, WebhookVerifier};

use super::store::{Commit, CommitOutcome, ResourceKind, ResourceStore, Write};

/// The path of the order-events endpoint (2026-04-17 `openapi.agentic_checkout_webhook.yaml`).
pub const ORDER_EVENTS_PATH: &str = "/agentic_checkout/webhooks/order_events";

/// The default body cap: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// How often a timeline write is retried when another event of the same order wrote first.
const TIMELINE_ATTEMPTS: usize = 8;

/// A verified, new order event, as the application receives it.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The event id: hex SHA-256 of the body's RFC 8785 canonical form (the deduplication key).
    pub event_id: String,
    /// The version the merchant wrote the event in (its `API-Version` header).
    pub version: ApiVersion,
    /// The event as 2026-04-17, when the upgrade succeeded.
    pub event: Option<WebhookEvent>,
    /// What the upgrade to 2026-04-17 reported as lost (`path: what`); empty when nothing was.
    pub losses: Vec<String>,
    /// The body as sent (JSON), in [`version`](Self::version).
    pub raw: Value,
    /// The signed timestamp `t` of the `Merchant-Signature`.
    pub signed_at: OffsetDateTime,
    /// The `Request-Id` header, if any.
    pub request_id: Option<String>,
}

impl Delivery {
    /// The event type (`order_create`, `order_update` or a newer one, WH-08).
    pub fn event_type(&self) -> &str {
        self.raw["type"].as_str().unwrap_or_default()
    }

    /// The order id (`data.id`), when present.
    pub fn order_id(&self) -> Option<&str> {
        self.raw["data"]["id"].as_str()
    }

    /// The order status (`data.status`), when present.
    pub fn order_status(&self) -> Option<&str> {
        self.event
            .as_ref()
            .map(|e| e.data.status.as_str())
            .or_else(|| self.raw["data"]["status"].as_str())
    }
}

/// The application's side: called once per new event.
pub trait WebhookHandler: Send + Sync {
    /// A verified event delivered for the first time (or again after this method failed).
    ///
    /// The event enters the order's timeline after this method returns `Ok`, committed with
    /// the `200` answer; an application that reads [`WebhookReceiver::timeline`] on being
    /// called sees the timeline as it was before this event.
    ///
    /// # Errors
    ///
    /// The answer to send instead of `200` (a `5xx` makes the merchant retry); the reservation
    /// is released, so the retry reaches this method again.
    fn order_event(&self, delivery: &Delivery)
    -> impl Future<Output = Result<(), AcpError>> + Send;
}

impl<H: WebhookHandler + ?Sized> WebhookHandler for std::sync::Arc<H> {
    fn order_event(
        &self,
        delivery: &Delivery,
    ) -> impl Future<Output = Result<(), AcpError>> + Send {
        (**self).order_event(delivery)
    }
}

/// A fulfillment whose status an event changed (or first reported).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FulfillmentChange {
    /// The fulfillment id.
    pub id: String,
    /// Its type (`shipping`, `pickup`, `digital`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Its new status, when the event gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// One event in an order's timeline: what it changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// The event id ([`Delivery::event_id`]).
    pub event_id: String,
    /// The event type.
    pub event_type: String,
    /// The version the event was sent in.
    pub version: String,
    /// The signed timestamp (Unix seconds).
    pub signed_at: i64,
    /// The order status after the event.
    pub status: String,
    /// Fulfillments new or with a changed status.
    #[serde(default)]
    pub fulfillments: Vec<FulfillmentChange>,
    /// Fulfillment events not in an earlier entry (by fulfillment and event id), with the
    /// fulfillment's id.
    #[serde(default)]
    pub fulfillment_events: Vec<(String, FulfillmentEvent)>,
    /// Adjustments (refunds, credits, …) new or with a changed status.
    #[serde(default)]
    pub adjustments: Vec<Adjustment>,
}

/// An order's history as its events arrived (in arrival order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderTimeline {
    /// The order id.
    pub order_id: String,
    /// Its checkout session.
    pub checkout_session_id: String,
    /// One entry per new event, oldest first.
    pub entries: Vec<TimelineEntry>,
}

impl OrderTimeline {
    /// The latest status, if any event arrived.
    pub fn status(&self) -> Option<&str> {
        self.entries.last().map(|e| e.status.as_str())
    }

    /// Every status, in arrival order.
    pub fn statuses(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.status.as_str()).collect()
    }

    /// The entry `event` makes, given the entries before it.
    fn entry(&self, delivery: &Delivery, event: &WebhookEvent) -> TimelineEntry {
        let order = &event.data;
        let mut last_status: std::collections::BTreeMap<&str, Option<&str>> =
            std::collections::BTreeMap::new();
        let mut seen_events = std::collections::BTreeSet::new();
        let mut seen_adjustments = std::collections::BTreeMap::new();
        for entry in &self.entries {
            for f in &entry.fulfillments {
                last_status.insert(&f.id, f.status.as_deref());
            }
            for (f, e) in &entry.fulfillment_events {
                seen_events.insert((f.as_str(), e.id.as_str()));
            }
            for a in &entry.adjustments {
                seen_adjustments.insert(a.id.as_str(), a.status.as_str());
            }
        }
        let mut out = TimelineEntry {
            event_id: delivery.event_id.clone(),
            event_type: event.kind.clone(),
            version: delivery.version.to_string(),
            signed_at: delivery.signed_at.unix_timestamp(),
            status: order.status.clone(),
            fulfillments: Vec::new(),
            fulfillment_events: Vec::new(),
            adjustments: Vec::new(),
        };
        for f in order.fulfillments.iter().flatten() {
            if last_status.get(f.id.as_str()) != Some(&f.status.as_deref()) {
                out.fulfillments.push(FulfillmentChange {
                    id: f.id.clone(),
                    kind: f.kind.as_str().to_owned(),
                    status: f.status.clone(),
                });
            }
            for e in f.events.iter().flatten() {
                if !seen_events.contains(&(f.id.as_str(), e.id.as_str())) {
                    out.fulfillment_events.push((f.id.clone(), e.clone()));
                }
            }
        }
        for a in order.adjustments.iter().flatten() {
            if seen_adjustments.get(a.id.as_str()) != Some(&a.status.as_str()) {
                out.adjustments.push(a.clone());
            }
        }
        out
    }
}

/// Builds a [`WebhookReceiver`].
#[derive(Debug)]
pub struct WebhookReceiverBuilder<H, S> {
    verifier: WebhookVerifier,
    handler: H,
    store: S,
    sender: String,
    path: String,
    strict: bool,
    max_body_bytes: usize,
}

impl<H: WebhookHandler, S: ResourceStore> WebhookReceiverBuilder<H, S> {
    /// The sender's identity, the scope of its event ids (default `merchant`); one receiver
    /// per merchant, or several sharing a store, each with its own.
    #[must_use]
    pub fn sender(mut self, sender: impl Into<String>) -> Self {
        self.sender = sender.into();
        self
    }

    /// The path served (default [`ORDER_EVENTS_PATH`]).
    #[must_use]
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Also validates each body against its version's schema (`400` with the violations'
    /// path). Default: lenient.
    #[must_use]
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// The body cap (default [`DEFAULT_MAX_BODY_BYTES`]; `413` beyond it).
    #[must_use]
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// The receiver.
    pub fn build(self) -> WebhookReceiver<H, S> {
        WebhookReceiver {
            verifier: self.verifier,
            handler: self.handler,
            store: self.store,
            sender: self.sender,
            path: self.path,
            strict: self.strict,
            max_body_bytes: self.max_body_bytes,
        }
    }
}

/// The order-webhook receiver (see the [module docs](self)).
pub struct WebhookReceiver<H, S> {
    verifier: WebhookVerifier,
    handler: H,
    store: S,
    sender: String,
    path: String,
    strict: bool,
    max_body_bytes: usize,
}

impl<H, S> std::fmt::Debug for WebhookReceiver<H, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookReceiver")
            .field("sender", &self.sender)
            .field("path", &self.path)
            .field("strict", &self.strict)
            .finish_non_exhaustive()
    }
}

/// Why a timeline could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TimelineError<E> {
    /// The store failed.
    #[error("storage: {0}")]
    Store(E),
    /// The stored document does not parse.
    #[error("stored timeline does not parse: {0}")]
    Corrupt(serde_json::Error),
}

impl<H: WebhookHandler, S: ResourceStore> WebhookReceiver<H, S> {
    /// A receiver verifying with `verifier`, calling `handler` once per new event and keeping
    /// events and timelines in `store`.
    pub fn builder(
        verifier: WebhookVerifier,
        handler: H,
        store: S,
    ) -> WebhookReceiverBuilder<H, S> {
        WebhookReceiverBuilder {
            verifier,
            handler,
            store,
            sender: "merchant".to_owned(),
            path: ORDER_EVENTS_PATH.to_owned(),
            strict: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// The application handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The body cap.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// The timeline of `order_id`, `None` before its first event.
    ///
    /// An event is in it once its delivery has been answered `200` (after the
    /// [`WebhookHandler`] returned).
    ///
    /// # Errors
    ///
    /// The store fails, or the stored document does not parse.
    pub async fn timeline(
        &self,
        order_id: &str,
    ) -> Result<Option<OrderTimeline>, TimelineError<S::Error>> {
        Ok(self.load_timeline(order_id).await?.map(|(t, _)| t))
    }

    async fn load_timeline(
        &self,
        order_id: &str,
    ) -> Result<Option<(OrderTimeline, u64)>, TimelineError<S::Error>> {
        let Some(stored) = self
            .store
            .load(ResourceKind::OrderTimeline, &self.timeline_id(order_id))
            .await
            .map_err(TimelineError::Store)?
        else {
            return Ok(None);
        };
        let timeline = serde_json::from_str(&stored.document).map_err(TimelineError::Corrupt)?;
        Ok(Some((timeline, stored.version)))
    }

    /// Timelines are scoped by sender, as event ids are.
    fn timeline_id(&self, order_id: &str) -> String {
        format!("{}:{order_id}", self.sender)
    }

    /// Serves one request at the current time.
    pub async fn handle(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
    ) -> http::Response<Vec<u8>> {
        self.handle_at(parts, body, OffsetDateTime::now_utc()).await
    }

    /// Serves one request at `now`.
    pub async fn handle_at(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
        now: OffsetDateTime,
    ) -> http::Response<Vec<u8>> {
        match self.serve(parts, body, now).await {
            Ok(reply) => reply,
            Err(error) => error_response(&error),
        }
    }

    /// Steps 1 and 2: the verified, parsed and upgraded event, and its fingerprint.
    fn admit(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<(Delivery, Fingerprint), AcpError> {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        // 1. WH-01..05: nothing is read before the signature holds.
        let signature = header(HEADER_NAME);
        let verified = self
            .verifier
            .verify(signature.as_deref(), body, now)
            .map_err(AcpError::from)?;
        // 2. The sender's version; lenient parse (WH-08), strict on request.
        let version = match header("api-version") {
            None => ApiVersion::LATEST,
            Some(text) => text
                .trim()
                .parse::<ApiVersion>()
                .ok()
                .filter(ApiVersion::is_released)
                .ok_or_else(|| {
                    AcpError::unsupported_api_version(text.trim(), ApiVersion::RELEASED)
                })?,
        };
        let raw: Value = verified.parse().map_err(|e| {
            AcpError::invalid_request(
                crate::protocol::error::codes::INVALID_JSON,
                e.to_string(),
                &JsonPath::root(),
            )
        })?;
        if self.strict {
            check_strict(&version, &raw)?;
        }
        let (event, losses) = upgrade(&version, &raw)?;
        let fingerprint = Fingerprint::of_json(body).map_err(|e| {
            AcpError::invalid_request(
                crate::protocol::error::codes::INVALID_JSON,
                e.to_string(),
                &JsonPath::root(),
            )
        })?;
        let delivery = Delivery {
            event_id: fingerprint.to_hex(),
            version,
            event,
            losses,
            raw,
            signed_at: verified.timestamp(),
            request_id: header("request-id"),
        };
        Ok((delivery, fingerprint))
    }

    async fn serve(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<http::Response<Vec<u8>>, AcpError> {
        let path = parts.uri.path();
        if path.trim_end_matches('/') != self.path.trim_end_matches('/') {
            return Err(AcpError::not_found("resource"));
        }
        if parts.method != http::Method::POST {
            return Err(AcpError::method_not_allowed(format!(
                "{} is not allowed here",
                parts.method
            )));
        }
        if body.len() > self.max_body_bytes {
            return Err(AcpError::request_too_large(self.max_body_bytes));
        }
        let (delivery, fingerprint) = self.admit(parts, body, now)?;
        // 3. Once per event id.
        let key = IdempotencyKey::parse(&delivery.event_id)
            .map_err(|_| AcpError::processing_error("event id"))?;
        let scope = IdempotencyScope::new(self.sender.clone(), self.path.clone(), key.clone());
        let lease = match self
            .store
            .begin(&scope, &fingerprint, now)
            .await
            .map_err(|e| storage(&e))?
        {
            IdempotencyOutcome::Proceed(lease) => lease,
            IdempotencyOutcome::Replay(stored) => {
                let headers = stored.replay_headers(&key);
                return Ok(response(stored.status, stored.body, &headers));
            }
            other => {
                return Err(other
                    .rejection()
                    .map_or_else(|| AcpError::processing_error("idempotency"), AcpError::from));
            }
        };
        if let Err(error) = self.handler.order_event(&delivery).await {
            let _ = self.store.release(&scope, lease).await;
            return Err(error);
        }
        // 4 and 5: the timeline entry and the answer, committed together.
        let mut answer = json!({"received": true});
        if let Some(id) = &delivery.request_id {
            answer["request_id"] = json!(id);
        }
        let stored = StoredResponse::new(
            200,
            answer.to_string().into_bytes(),
            vec![("Content-Type".to_owned(), "application/json".to_owned())],
        );
        for _ in 0..TIMELINE_ATTEMPTS {
            let writes = match &delivery.event {
                Some(event) => vec![self.timeline_write(&delivery, event).await.map_err(|e| {
                    AcpError::service_unavailable(format!("order timeline: {e}"), None)
                })?],
                None => Vec::new(),
            };
            let commit = Commit::new(scope.clone(), lease, Some(stored.clone()), writes);
            match self.store.commit(commit, now).await {
                Ok(CommitOutcome::Committed) => {
                    return Ok(response(200, stored.body, &stored.headers));
                }
                Ok(CommitOutcome::Conflict) => {}
                Ok(_) => {
                    return Err(AcpError::service_unavailable(
                        "the event's reservation was lost; retry",
                        None,
                    ));
                }
                Err(e) => {
                    let _ = self.store.release(&scope, lease).await;
                    return Err(storage(&e));
                }
            }
        }
        let _ = self.store.release(&scope, lease).await;
        Err(AcpError::service_unavailable(
            "the order timeline is busy; retry",
            None,
        ))
    }

    async fn timeline_write(
        &self,
        delivery: &Delivery,
        event: &WebhookEvent,
    ) -> Result<Write, TimelineError<S::Error>> {
        let order_id = event.data.id.as_str();
        let (mut timeline, version) = match self.load_timeline(order_id).await? {
            Some((timeline, version)) => (timeline, Some(version)),
            None => (
                OrderTimeline {
                    order_id: order_id.to_owned(),
                    checkout_session_id: event.data.checkout_session_id.as_str().to_owned(),
                    entries: Vec::new(),
                },
                None,
            ),
        };
        let entry = timeline.entry(delivery, event);
        timeline.entries.push(entry);
        Ok(Write {
            kind: ResourceKind::OrderTimeline,
            id: self.timeline_id(order_id),
            document: serde_json::to_string(&timeline).map_err(TimelineError::Corrupt)?,
            expected_version: version,
        })
    }
}

/// The strict check of `raw` against `version`'s `WebhookEvent` schema.
fn check_strict(version: &ApiVersion, raw: &Value) -> Result<(), AcpError> {
    let entry = registry::types_for(version)
        .and_then(|types| {
            types
                .iter()
                .find(|t| t.qualified_name() == Document::WebhookEvent.type_name())
        })
        .ok_or_else(|| AcpError::processing_error("no webhook schema for this version"))?;
    match entry.roundtrip_strict(raw) {
        Ok(_) => Ok(()),
        Err(violations) => Err(AcpError::from_violations(&violations)
            .unwrap_or_else(|| AcpError::processing_error("invalid event"))),
    }
}

/// The event as 2026-04-17 (`None` when it cannot be upgraded) and what the upgrade lost.
fn upgrade(
    version: &ApiVersion,
    raw: &Value,
) -> Result<(Option<WebhookEvent>, Vec<String>), AcpError> {
    if !raw.is_object() {
        return Err(AcpError::invalid_request(
            crate::protocol::error::codes::INVALID_VALUE,
            "the event must be a JSON object",
            &JsonPath::root(),
        ));
    }
    let converted = if *version == ApiVersion::LATEST {
        Ok((raw.clone(), Vec::new()))
    } else {
        convert::convert(Document::WebhookEvent, version, &ApiVersion::LATEST, raw)
            .map(|c| (c.value, c.losses.iter().map(ToString::to_string).collect()))
    };
    Ok(match converted {
        Ok((value, losses)) => match crate::parse::from_value::<WebhookEvent>(&value) {
            Ok(event) => (Some(event), losses),
            Err(e) => (None, vec![format!("{}: {}", e.path, e.message)]),
        },
        Err(e) => (None, vec![e.to_string()]),
    })
}

fn storage(error: &dyn std::error::Error) -> AcpError {
    AcpError::service_unavailable(format!("storage: {error}"), None)
}

fn response(status: u16, body: Vec<u8>, headers: &[(String, String)]) -> http::Response<Vec<u8>> {
    let mut out = http::Response::new(body);
    *out.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            out.headers_mut().append(name, value);
        }
    }
    out
}

fn error_response(error: &AcpError) -> http::Response<Vec<u8>> {
    let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
    headers.extend(
        error
            .response_headers()
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v)),
    );
    response(
        error.status(),
        error.to_json().to_string().into_bytes(),
        &headers,
    )
}

impl<H: WebhookHandler, S: ResourceStore> super::HttpEngine for WebhookReceiver<H, S> {
    fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    fn handle_request(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
    ) -> impl Future<Output = http::Response<Vec<u8>>> + Send {
        self.handle(parts, body)
    }
}
