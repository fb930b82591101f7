//! The example merchant's orders after the purchase: the engine records each order with its
//! `order_create` event in the store's outbox, in the commit of the completed session (in
//! memory, or in PostgreSQL where they survive a restart); they are delivered by
//! a background worker that signs every attempt anew and retries with backoff until the
//! deadline (the crate's `OutboxWorker`), over `reqwest`.

use std::sync::Arc;
use std::time::Duration;

use agentic_commerce::AcpError;
use agentic_commerce::engine::merchant::expiry;
use agentic_commerce::engine::merchant::orders::{self, OrderChange, OrderError};
use agentic_commerce::engine::outbox::{
    OutboxEvent, OutboxStore, OutboxWorker, OutgoingWebhook, RetryPolicy, WebhookTransport,
};
use agentic_commerce::engine::store::InMemoryStore;
use agentic_commerce::spec::latest::agentic_checkout::Order;
use agentic_commerce::trust::webhook::WebhookSecret;
use agentic_commerce_postgres::{PgConfig, PgStore};

use super::config::Config;
use time::OffsetDateTime;
use tokio::sync::Notify;

/// The store orders and their events live in: the engine's own.
#[derive(Clone)]
pub(crate) enum OrderStore {
    /// In memory (lost with the process, like everything else there).
    Memory(Arc<InMemoryStore>),
    /// PostgreSQL.
    Pg(PgStore),
}

impl OrderStore {
    /// PostgreSQL at `--database-url` (with the purge of expired sessions in the background),
    /// or memory.
    pub(crate) async fn open(c: &Config) -> Result<Self, String> {
        match &c.database_url {
            Some(url) => {
                let pool = PgConfig::default().with_max_connections(c.db_pool_size);
                let store = PgStore::connect(url, pool)
                    .await
                    .map_err(|e| format!("PostgreSQL: {e}"))?;
                tokio::spawn(purge_expired(store.clone()));
                Ok(Self::Pg(store))
            }
            None => Ok(Self::Memory(Arc::new(InMemoryStore::default()))),
        }
    }
}

/// Every ten minutes, deletes the sessions and carts expired for longer than the retention (the
/// in-memory store drops them itself when full). A failure only postpones it.
async fn purge_expired(store: PgStore) {
    let mut every = tokio::time::interval(Duration::from_secs(600));
    loop {
        every.tick().await;
        let now = OffsetDateTime::now_utc();
        let _ = store
            .purge_expired_resources(now, expiry::DEFAULT_EXPIRED_RETENTION)
            .await;
    }
}

/// The order webhooks' delivery worker and its wake-up call.
#[derive(Clone)]
pub(crate) struct Outbox {
    store: OrderStore,
    wake: Arc<Notify>,
}

impl Outbox {
    /// The outbox of `store`.
    pub(crate) fn new(store: OrderStore) -> Self {
        Self {
            store,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Wakes the delivery worker: an event was just committed (by the engine, with the
    /// completed session it belongs to).
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Records `change` of the order `order_id` with its `order_update` event and wakes the
    /// worker; a refusal is its ACP error (with `param`), an unknown order `404`.
    #[allow(dead_code)] // The admin endpoints' (not compiled into every test).
    pub(crate) async fn record_change(
        &self,
        order_id: &str,
        change: &OrderChange,
    ) -> Result<Order, AcpError> {
        let now = OffsetDateTime::now_utc();
        let recorded = match &self.store {
            OrderStore::Memory(s) => orders::record_order_change(&**s, order_id, change, now)
                .await
                .map_err(|e| acp_error(&e)),
            OrderStore::Pg(s) => orders::record_order_change(s, order_id, change, now)
                .await
                .map_err(|e| acp_error(&e)),
        }?;
        self.wake.notify_one();
        Ok(recorded)
    }

    /// The current order `order_id`, if any.
    #[allow(dead_code)] // The admin endpoints'.
    pub(crate) async fn order(&self, order_id: &str) -> Result<Option<Order>, AcpError> {
        let found = match &self.store {
            OrderStore::Memory(s) => orders::load_order(&**s, order_id)
                .await
                .map_err(|e| acp_error(&e)),
            OrderStore::Pg(s) => orders::load_order(s, order_id)
                .await
                .map_err(|e| acp_error(&e)),
        }?;
        Ok(found.map(|(stored, _)| stored.order))
    }

    /// How many events wait for delivery, and the oldest dead letters (at most `limit`).
    #[allow(dead_code)] // The admin endpoints'.
    pub(crate) async fn health(&self, limit: usize) -> Result<(u64, Vec<OutboxEvent>), AcpError> {
        let failed = |e: &dyn std::fmt::Display| {
            eprintln!("merchant: the outbox could not be read: {e}");
            AcpError::processing_error("the outbox could not be read")
        };
        match &self.store {
            OrderStore::Memory(s) => Ok((
                s.pending().await.map_err(|e| failed(&e))?,
                s.dead_letters(limit).await.map_err(|e| failed(&e))?,
            )),
            OrderStore::Pg(s) => Ok((
                s.pending().await.map_err(|e| failed(&e))?,
                s.dead_letters(limit).await.map_err(|e| failed(&e))?,
            )),
        }
    }

    /// Runs the delivery worker until the process ends: rounds back to back while they claim
    /// events; when idle, a round whenever an event is recorded and at least every second
    /// (retries come due; another process's events).
    /// Each attempt is limited to `--outbound-timeout-ms`; retries and claims follow
    /// `--webhook-backoff-ms` and `--webhook-lease-ms`.
    pub(crate) fn spawn_worker(
        &self,
        http: reqwest::Client,
        url: String,
        secret: WebhookSecret,
        c: &Config,
    ) {
        let (store, wake) = (self.store.clone(), Arc::clone(&self.wake));
        let timeout = c.psp_timeout;
        // The claim outlives the attempt, so a live worker's event is never sent twice at once.
        let lease = c
            .webhook_lease
            .unwrap_or_else(|| timeout.saturating_mul(2) + Duration::from_secs(30));
        let max_backoff = c
            .webhook_backoff
            .saturating_mul(64)
            .min(Duration::from_secs(600));
        let policy = RetryPolicy::default()
            .with_lease(lease, timeout)
            .with_backoff(c.webhook_backoff, max_backoff.max(c.webhook_backoff));
        let worker = OutboxWorker::new(secret, policy).only_recipient(url.clone());
        let transport = Http { http, url };
        tokio::spawn(async move {
            loop {
                let round = match &store {
                    OrderStore::Memory(s) => deliver(&worker, &**s, &transport).await,
                    OrderStore::Pg(s) => deliver(&worker, s, &transport).await,
                };
                // Anything claimed: more may be due at once (an order's next event becomes
                // eligible once the one before it is delivered).
                if round == 0 {
                    let _ = tokio::time::timeout(Duration::from_secs(1), wake.notified()).await;
                }
            }
        });
    }
}

/// One round; how many events it claimed (a store failure is logged and counts none).
async fn deliver<S: OutboxStore>(worker: &OutboxWorker, store: &S, transport: &Http) -> usize {
    match worker.deliver_due(store, transport).await {
        Ok(report) => {
            if report.dead > 0 {
                eprintln!(
                    "merchant: {} order webhook(s) became dead letters",
                    report.dead
                );
            }
            report.claimed
        }
        Err(e) => {
            eprintln!("merchant: the order webhook outbox failed: {e}");
            0
        }
    }
}

/// The admin API's answer to a failed order change: the details of a store failure are logged,
/// not sent.
fn acp_error<E: std::fmt::Display>(e: &OrderError<E>) -> AcpError {
    match e {
        OrderError::NotFound(_) => AcpError::not_found("order"),
        OrderError::Refused(refusal) => refusal.to_acp_error(),
        OrderError::Contended => AcpError::concurrent_modification(
            "order",
            agentic_commerce::protocol::headers::RetryAfter::from_secs(1),
        ),
        other => {
            eprintln!("merchant: an order change failed: {other}");
            AcpError::processing_error("the order change could not be recorded")
        }
    }
}

/// POSTs each attempt to the one configured webhook URL.
struct Http {
    http: reqwest::Client,
    url: String,
}

impl WebhookTransport for Http {
    async fn send(&self, webhook: &OutgoingWebhook) -> Result<u16, String> {
        let mut request = self
            .http
            .post(&self.url)
            .timeout(webhook.timeout)
            .body(webhook.body.clone());
        for (name, value) in &webhook.headers {
            request = request.header(*name, value);
        }
        request
            .send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(|e| e.without_url().to_string())
    }
}
