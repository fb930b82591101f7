//! A durable outbox for order webhooks (WH-09): events are stored in the same commit as the
//! order change they announce, and delivered at least once, in order per order, by a worker
//! that survives restarts.
//!
//! - [`OutboxStore`]: the storage contract, implemented by
//!   [`InMemoryStore`](crate::engine::store::InMemoryStore) (one process, bounded) and by the
//!   `agentic-commerce-postgres` crate's `PgStore` (one transaction per record; events survive
//!   a crash and are shared by every worker on the database). [`OutboxStore::record`] writes
//!   the order document and enqueues its event atomically; a
//!   [`Commit`](crate::engine::store::Commit) carries events too
//!   ([`Commit::events`](crate::engine::store::Commit::events)), which is how the merchant
//!   engine stores a complete's order and `order_create` with the completed session. [`OutboxStore::claim`] hands out
//!   due events under a lease: per order only the oldest undelivered event is eligible (so an
//!   order's events are delivered in order), a claimed event is invisible to other workers
//!   until its lease runs out (so two workers never send it at once, and a crashed worker's
//!   event is sent again later).
//! - [`OutboxWorker::deliver_due`]: one round, runtime-free: claims due events, renders each
//!   in the agent's version ([`render`]: downgraded, strictly valid for that version), signs
//!   each attempt anew (`Merchant-Signature` with a fresh timestamp, WH-01..03), sends it
//!   through a [`WebhookTransport`] with a timeout, and settles it: delivered (any `2xx`),
//!   retried later with exponential backoff and full jitter, or dead-lettered once its next
//!   attempt would fall past the [`RetryPolicy::deadline`] (24 hours by default). Call it in a
//!   loop (every second or so); the HTTP transport and the loop live with the runtime (the
//!   example merchant uses `reqwest` and `tokio`).
//!
//! The body of an event is the same at every attempt (only the signature changes), so the
//! agent's receiver ([`WebhookReceiver`](crate::engine::webhooks::WebhookReceiver), which
//! keys events by the hash of the canonical body) handles a redelivery once.

use std::future::Future;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::parse::registry;
use crate::protocol::version::ApiVersion;
use crate::protocol::version::convert::{self, Document};
use crate::spec::latest::agentic_checkout::Order;
use crate::spec::latest::agentic_checkout_webhook::WebhookEvent;
use crate::trust::webhook::{self, WebhookSecret};

use super::store::{ResourceStore, Write};

/// The event type of a new order.
pub const ORDER_CREATE: &str = "order_create";
/// The event type of a changed order.
pub const ORDER_UPDATE: &str = "order_update";

/// An event to enqueue with [`OutboxStore::record`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// The order it is about (events of one order are delivered in the order recorded).
    pub order_id: String,
    /// Where it goes: a key the [`WebhookTransport`] maps to an endpoint (the agent platform's
    /// identity, or its webhook URL when a deployment has one).
    pub recipient: String,
    /// The version it is rendered in when sent.
    pub version: ApiVersion,
    /// `order_create` or `order_update`.
    pub event_type: String,
    /// The 2026-04-17 `WebhookEvent`, as JSON text ([`event_payload`]).
    pub payload: String,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    /// Its sequence number: unique in the store, increasing in the order events were recorded.
    pub seq: u64,
    /// What was enqueued.
    pub event: NewEvent,
    /// When it was recorded (its retry deadline counts from here).
    pub created_at: OffsetDateTime,
    /// How many attempts were started (claims), including one in progress.
    pub attempts: u32,
    /// When it is due.
    pub next_attempt_at: OffsetDateTime,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// An event claimed by a worker: it is the claimant's until `lease_until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedEvent {
    /// The event (`attempts` counts this attempt).
    pub event: OutboxEvent,
    /// The claim; settling with another (an expired claim taken over) changes nothing.
    pub lease: u64,
    /// When the claim runs out and the event becomes claimable again.
    pub lease_until: OffsetDateTime,
}

/// How an attempt ended, for [`OutboxStore::settle`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Settlement {
    /// Delivered: the event is removed.
    Delivered,
    /// Failed: try again at `at`.
    Retry {
        /// When the next attempt is due.
        at: OffsetDateTime,
        /// Why it failed.
        error: String,
    },
    /// Failed for good: the event becomes a dead letter, and the order's next event is due.
    Dead {
        /// Why.
        error: String,
    },
}

/// The result of [`OutboxStore::record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Recorded {
    /// The document was written and the event enqueued with this sequence number (`None`:
    /// there was no event).
    Committed(Option<u64>),
    /// The write's version guard failed: nothing was written or enqueued.
    Conflict,
}

/// A durable outbox next to the documents of a [`ResourceStore`]. See the
/// [module docs](self).
pub trait OutboxStore: ResourceStore {
    /// Atomically: checks `write`'s version guard, writes the document and enqueues `event`
    /// (due now), if any. Either both happen or neither.
    ///
    /// # Errors
    /// Storage failures (the store is full, or the database failed).
    fn record(
        &self,
        write: Write,
        event: Option<NewEvent>,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Recorded, Self::Error>> + Send;

    /// Claims up to `limit` due events for `lease` (until `now + lease`), oldest due first,
    /// of `recipient` only when given: an event is due when it is the oldest live event of its
    /// order, its next attempt time has come and no unexpired claim holds it. Concurrent claims
    /// never return one event twice.
    ///
    /// # Errors
    /// Storage failures.
    fn claim(
        &self,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
        recipient: Option<&str>,
    ) -> impl Future<Output = Result<Vec<ClaimedEvent>, Self::Error>> + Send;

    /// Settles the attempt of `claim`. Returns `false`, changing nothing, when the claim is no
    /// longer the event's (it ran out and another worker took the event).
    ///
    /// # Errors
    /// Storage failures.
    fn settle(
        &self,
        claim: &ClaimedEvent,
        settlement: Settlement,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;

    /// Up to `limit` dead letters, oldest first.
    ///
    /// # Errors
    /// Storage failures.
    fn dead_letters(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<OutboxEvent>, Self::Error>> + Send;

    /// How many events wait for delivery (dead letters excluded).
    ///
    /// # Errors
    /// Storage failures.
    fn pending(&self) -> impl Future<Output = Result<u64, Self::Error>> + Send;
}

/// Why an order cannot be rendered as a webhook event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the order event cannot be rendered: {message}")]
pub struct RenderError {
    message: String,
}

impl RenderError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// The 2026-04-17 `WebhookEvent` of `event_type` carrying the full `order` (WH-06), with
/// `data.type: "order"` (WH-07), as JSON text.
///
/// # Errors
/// The order does not make a valid event.
pub fn event_payload(event_type: &str, order: &Order) -> Result<String, RenderError> {
    let mut data = crate::parse::to_value(order).map_err(|e| RenderError::new(e.to_string()))?;
    if let Value::Object(map) = &mut data {
        // The webhook's EventDataOrder is the OAS Order, which lacks this JSON-Schema-only
        // member; an event carrying it would not be valid for the webhook schema.
        map.remove("client_reference_id");
        map.insert("type".to_owned(), json!("order"));
    }
    let event = json!({"type": event_type, "data": data});
    let typed: WebhookEvent =
        crate::parse::from_value(&event).map_err(|e| RenderError::new(e.to_string()))?;
    crate::parse::to_value(&typed)
        .map(|v| v.to_string())
        .map_err(|e| RenderError::new(e.to_string()))
}

/// The body of `payload` (a 2026-04-17 event, [`event_payload`]) for an agent speaking
/// `version`: downgraded, and strictly valid against that version's official schema.
///
/// # Errors
/// The event cannot be carried in `version`, or the result is not valid for it.
pub fn render(payload: &str, version: &ApiVersion) -> Result<Vec<u8>, RenderError> {
    let value: Value =
        serde_json::from_str(payload).map_err(|e| RenderError::new(e.to_string()))?;
    let typed: WebhookEvent =
        crate::parse::from_value(&value).map_err(|e| RenderError::new(e.to_string()))?;
    let converted = convert::downgrade_webhook_event(&typed, version)
        .map_err(|e| RenderError::new(e.to_string()))?;
    let entry = registry::types_for(version)
        .and_then(|types| {
            types
                .iter()
                .find(|t| t.qualified_name() == Document::WebhookEvent.type_name())
        })
        .ok_or_else(|| RenderError::new(format!("no webhook schema for {version}")))?;
    if let Err(violations) = entry.roundtrip_strict(&converted.value) {
        let first = violations
            .first()
            .map(|v| format!("{}: {}", v.path, v.message))
            .unwrap_or_default();
        return Err(RenderError::new(format!(
            "not valid for {version}: {first}"
        )));
    }
    serde_json::to_vec(&converted.value).map_err(|e| RenderError::new(e.to_string()))
}

/// One signed attempt, for a [`WebhookTransport`].
#[derive(Debug, Clone)]
pub struct OutgoingWebhook {
    /// Who receives it ([`NewEvent::recipient`]).
    pub recipient: String,
    /// The order.
    pub order_id: String,
    /// The event's sequence number (logs).
    pub seq: u64,
    /// The headers to send: `Content-Type`, `API-Version`, `Merchant-Signature`, `Request-Id`.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The attempt's time limit: the transport gives up (an error) when it is reached.
    pub timeout: Duration,
}

/// Sends an attempt: the HTTP status of the answer, or why there was none.
pub trait WebhookTransport: Send + Sync {
    /// POSTs `webhook` to its recipient's order-events URL, within `webhook.timeout`.
    ///
    /// # Errors
    /// No answer (connection, timeout, unknown recipient), as a message for logs.
    fn send(&self, webhook: &OutgoingWebhook) -> impl Future<Output = Result<u16, String>> + Send;
}

/// When attempts happen.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// The first retry's backoff ceiling (doubling per failure up to `max_backoff`); each
    /// delay is drawn uniformly up to the ceiling (full jitter), and never below this.
    pub initial_backoff: Duration,
    /// The largest backoff ceiling.
    pub max_backoff: Duration,
    /// How long after being recorded an event is still attempted; a failure whose next
    /// attempt would fall later makes it a dead letter.
    pub deadline: Duration,
    /// How long a claim lasts: longer than an attempt (`attempt_timeout`) plus settling, so a
    /// live worker keeps its claim; a crashed worker's event is sent again after it.
    pub lease: Duration,
    /// Each attempt's time limit.
    pub attempt_timeout: Duration,
    /// How many events a round claims.
    pub batch: usize,
}

impl Default for RetryPolicy {
    /// 1 s → 10 min backoff, 24 h deadline, 10 s attempts, 60 s claims, 16 per round.
    fn default() -> Self {
        Self {
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(600),
            deadline: Duration::from_secs(24 * 3600),
            lease: Duration::from_secs(60),
            attempt_timeout: Duration::from_secs(10),
            batch: 16,
        }
    }
}

impl RetryPolicy {
    /// With `deadline`.
    #[must_use]
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// With the backoff bounds.
    #[must_use]
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// With the claim duration and the attempt time limit.
    #[must_use]
    pub fn with_lease(mut self, lease: Duration, attempt_timeout: Duration) -> Self {
        self.lease = lease;
        self.attempt_timeout = attempt_timeout;
        self
    }

    /// With the number of events a round claims.
    #[must_use]
    pub fn with_batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// The delay before the attempt after `failures` failed ones (≥ 1), for a uniform draw
    /// `unit` in `[0, 1]`: `max(initial, unit × min(max, initial × 2^(failures-1)))`.
    pub fn backoff(&self, failures: u32, unit: f64) -> Duration {
        let exponent = failures.saturating_sub(1).min(32);
        let ceiling = self
            .initial_backoff
            .saturating_mul(1_u32 << exponent.min(31))
            .min(self.max_backoff);
        ceiling
            .mul_f64(unit.clamp(0.0, 1.0))
            .max(self.initial_backoff)
    }
}

/// What a round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryReport {
    /// Events claimed.
    pub claimed: usize,
    /// Delivered (a `2xx`).
    pub delivered: usize,
    /// Failed and rescheduled.
    pub retried: usize,
    /// Failed for good (deadline passed, or not renderable).
    pub dead: usize,
    /// Settled too late: the claim had run out (another worker may send the event again).
    pub lost_claims: usize,
}

/// Delivers outbox events: see the [module docs](self).
#[derive(Debug, Clone)]
pub struct OutboxWorker {
    secret: WebhookSecret,
    policy: RetryPolicy,
    recipient: Option<String>,
}

impl OutboxWorker {
    /// A worker signing with `secret` (WH-01), retrying by `policy`.
    pub fn new(secret: WebhookSecret, policy: RetryPolicy) -> Self {
        Self {
            secret,
            policy,
            recipient: None,
        }
    }

    /// Delivers only the events of `recipient` (a deployment whose transport reaches one
    /// endpoint, sharing its store with others).
    #[must_use]
    pub fn only_recipient(mut self, recipient: impl Into<String>) -> Self {
        self.recipient = Some(recipient.into());
        self
    }

    /// The policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// One round at the current time: see [`deliver_due_at`](Self::deliver_due_at).
    ///
    /// # Errors
    /// As [`deliver_due_at`](Self::deliver_due_at).
    pub async fn deliver_due<S: OutboxStore, T: WebhookTransport>(
        &self,
        store: &S,
        transport: &T,
    ) -> Result<DeliveryReport, S::Error> {
        self.deliver_due_at(store, transport, OffsetDateTime::now_utc())
            .await
    }

    /// One round as if started at `now`: claims up to [`RetryPolicy::batch`] due events and
    /// attempts each once, one after the other (so an order's next event is never in flight
    /// beside it). Each attempt is signed at `now` plus the time the round has taken so far.
    ///
    /// # Errors
    /// Storage failures (an attempt already sent is then settled by its claim running out:
    /// it is sent again, which the receiver deduplicates).
    pub async fn deliver_due_at<S: OutboxStore, T: WebhookTransport>(
        &self,
        store: &S,
        transport: &T,
        now: OffsetDateTime,
    ) -> Result<DeliveryReport, S::Error> {
        let started = Instant::now();
        let clock = || now + started.elapsed();
        let claims = store
            .claim(
                now,
                self.policy.batch,
                self.policy.lease,
                self.recipient.as_deref(),
            )
            .await?;
        let mut report = DeliveryReport {
            claimed: claims.len(),
            ..DeliveryReport::default()
        };
        for claim in &claims {
            let settlement = self.attempt(claim, transport, clock()).await;
            let at = clock();
            let settlement = match settlement {
                Ok(()) => Settlement::Delivered,
                Err(Failure::Permanent(error)) => Settlement::Dead { error },
                Err(Failure::Transient(error)) => self.reschedule(&claim.event, error, at),
            };
            let kind = match &settlement {
                Settlement::Delivered => 0,
                Settlement::Retry { .. } => 1,
                Settlement::Dead { .. } => 2,
            };
            if store.settle(claim, settlement, at).await? {
                match kind {
                    0 => report.delivered += 1,
                    1 => report.retried += 1,
                    _ => report.dead += 1,
                }
            } else {
                report.lost_claims += 1;
            }
        }
        Ok(report)
    }

    fn reschedule(&self, event: &OutboxEvent, error: String, now: OffsetDateTime) -> Settlement {
        let delay = self.policy.backoff(event.attempts.max(1), unit_random());
        let at = now + delay;
        if at > event.created_at + self.policy.deadline {
            Settlement::Dead {
                error: format!("deadline passed after {} attempts: {error}", event.attempts),
            }
        } else {
            Settlement::Retry { at, error }
        }
    }

    async fn attempt<T: WebhookTransport>(
        &self,
        claim: &ClaimedEvent,
        transport: &T,
        now: OffsetDateTime,
    ) -> Result<(), Failure> {
        let event = &claim.event.event;
        let body = render(&event.payload, &event.version)
            .map_err(|e| Failure::Permanent(e.to_string()))?;
        let signature = webhook::sign(&self.secret, now, &body)
            .map_err(|e| Failure::Permanent(e.to_string()))?;
        let outgoing = OutgoingWebhook {
            recipient: event.recipient.clone(),
            order_id: event.order_id.clone(),
            seq: claim.event.seq,
            headers: vec![
                ("content-type", "application/json".to_owned()),
                ("api-version", event.version.as_str().to_owned()),
                (webhook::HEADER_NAME, signature),
                (
                    "request-id",
                    format!("req_evt_{}_{}", claim.event.seq, claim.event.attempts),
                ),
            ],
            body,
            timeout: self.policy.attempt_timeout,
        };
        match transport.send(&outgoing).await {
            Ok(status) if (200..300).contains(&status) => Ok(()),
            Ok(status) => Err(Failure::Transient(format!("answered {status}"))),
            Err(e) => Err(Failure::Transient(e)),
        }
    }
}

enum Failure {
    Transient(String),
    Permanent(String),
}

/// A uniform draw in `[0, 1]` from the OS generator (jitter only: 0.5 if it fails).
fn unit_random() -> f64 {
    let mut bytes = [0_u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.5;
    }
    f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX)
}
