//! The example merchant's orders after the purchase: the engine records each order with its
//! `order_create` event in the store's outbox, in the commit of the completed session (in
//! memory, or in PostgreSQL where they survive a restart); they are delivered by
//! a background worker that signs every attempt anew and retries with backoff until the
//! deadline (the crate's `OutboxWorker`), over `reqwest`.

use std::sync::Arc;
use std::time::Duration;

use agentic_commerce::engine::merchant::expiry;
use agentic_commerce::engine::outbox::{
    OutboxStore, OutboxWorker, OutgoingWebhook, RetryPolicy, WebhookTransport,
};
use agentic_commerce::engine::store::InMemoryStore;
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

    /// Runs the delivery worker until the process ends: a round whenever an event is recorded,
    /// and at least every second (retries come due; another process's events).
    /// Each attempt is limited to `timeout` (`--outbound-timeout-ms`).
    pub(crate) fn spawn_worker(
        &self,
        http: reqwest::Client,
        url: String,
        secret: WebhookSecret,
        timeout: Duration,
    ) {
        let (store, wake) = (self.store.clone(), Arc::clone(&self.wake));
        // The claim outlives the attempt, so a live worker's event is never sent twice at once.
        let lease = timeout.saturating_mul(2) + Duration::from_secs(30);
        let worker = OutboxWorker::new(secret, RetryPolicy::default().with_lease(lease, timeout))
            .only_recipient(url.clone());
        let transport = Http { http, url };
        tokio::spawn(async move {
            loop {
                let round = match &store {
                    OrderStore::Memory(s) => deliver(&worker, &**s, &transport).await,
                    OrderStore::Pg(s) => deliver(&worker, s, &transport).await,
                };
                // A full batch: more may be due at once.
                if round < worker.policy().batch {
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
