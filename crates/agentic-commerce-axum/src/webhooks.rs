//! The agent platform's order-webhook receiver ([`WebhookReceiver`]) on tokio: a handler that
//! hands each new event to a bounded channel, and a bounded wait for an order's timeline.
//!
//! ```no_run
//! use std::sync::Arc;
//! use agentic_commerce::engine::store::InMemoryStore;
//! use agentic_commerce::engine::webhooks::WebhookReceiver;
//! use agentic_commerce::trust::webhook::{WebhookSecret, WebhookVerifier};
//! use agentic_commerce_axum::webhooks::ChannelHandler;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = WebhookVerifier::new(WebhookSecret::new(b"whsec-shared-with-the-merchant")?);
//! let (handler, mut events) = ChannelHandler::new(1024);
//! let receiver = WebhookReceiver::builder(verifier, handler, InMemoryStore::default()).build();
//! let (addr, _server) = agentic_commerce_axum::router(Arc::new(receiver))
//!     .spawn("127.0.0.1:9090".parse()?)
//!     .await?;
//! while let Some(delivery) = events.recv().await {
//!     println!("{} for {:?}", delivery.event_type(), delivery.order_id());
//! }
//! # let _ = addr;
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

use agentic_commerce::AcpError;
use agentic_commerce::engine::store::ResourceStore;
use agentic_commerce::engine::webhooks::{
    Delivery, OrderTimeline, TimelineError, WebhookHandler, WebhookReceiver,
};
use agentic_commerce::protocol::headers::RetryAfter;
use tokio::sync::mpsc;

/// A [`WebhookHandler`] that hands each new (verified, deduplicated) event to a bounded tokio
/// channel, for the application to take at its pace.
///
/// When the channel is full the merchant gets `503` with `Retry-After: 1` and delivers the
/// event again later (webhooks are at least once); when the application has dropped its end,
/// `503` too. Either way the event is not recorded, so its retry reaches the channel.
#[derive(Debug, Clone)]
pub struct ChannelHandler {
    sender: mpsc::Sender<Delivery>,
}

impl ChannelHandler {
    /// A handler and the application's end of its channel, which holds up to `capacity`
    /// events not taken yet (at least 1).
    #[must_use]
    pub fn new(capacity: usize) -> (Self, mpsc::Receiver<Delivery>) {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        (Self { sender }, receiver)
    }
}

impl WebhookHandler for ChannelHandler {
    async fn order_event(&self, delivery: &Delivery) -> Result<(), AcpError> {
        self.sender.try_send(delivery.clone()).map_err(|e| {
            let why = match e {
                mpsc::error::TrySendError::Full(_) => "the agent is behind on order events",
                mpsc::error::TrySendError::Closed(_) => "the agent is not taking order events",
            };
            AcpError::service_unavailable(why, Some(RetryAfter::from_secs(1)))
        })
    }
}

/// The timeline of `order_id` once it holds at least `entries` entries, polling every 20 ms
/// for at most `within`; `None` when it stays shorter (or absent).
///
/// An event enters the timeline after the handler took it, with the `200` answer (see
/// [`WebhookHandler::order_event`]): an application that has just received an event from a
/// [`ChannelHandler`] and wants the timeline with it waits here.
///
/// # Errors
///
/// The store fails, or a stored timeline does not parse.
pub async fn timeline_with<H: WebhookHandler, S: ResourceStore>(
    receiver: &WebhookReceiver<H, S>,
    order_id: &str,
    entries: usize,
    within: Duration,
) -> Result<Option<OrderTimeline>, TimelineError<S::Error>> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let timeline = receiver.timeline(order_id).await?;
        if let Some(timeline) = timeline.filter(|t| t.entries.len() >= entries) {
            return Ok(Some(timeline));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
