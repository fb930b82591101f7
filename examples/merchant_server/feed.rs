//! The example merchant pushes its catalog to an agent platform's feed API (`--feed-url`,
//! FEED-01: feeds are agent-hosted, the merchant calls them): on start it creates a feed (or
//! uses `--feed-id`) and upserts every product; after a purchase moves stock, or the back office
//! changes a price (`POST /admin/variants/{id}/price`), it upserts only the products whose
//! stock or price changed (FEED-04: the others stay as they are).
//!
//! Every push runs in a background task, bounded by the outbound timeout, so a slow or
//! failing feed server never delays or fails a checkout; a failed push is logged and the
//! next push carries the current state (each push reads stock and prices when it is sent, and
//! pushes go out one at a time, so the last one to arrive is the newest).

use std::sync::Arc;
use std::time::Duration;

use agentic_commerce::protocol::version::ApiVersion;
use agentic_commerce::spec::latest::feed::{CreateFeedRequest, ProductsResponse};
use agentic_commerce_client::{AcpClient, RetryPolicy};
use tokio::sync::{Mutex, OnceCell};

use super::catalog::Catalog;

/// The most products in one upsert request.
const PRODUCTS_PER_UPSERT: usize = 200;

/// Where and how the merchant pushes its feed.
#[derive(Clone)]
pub(crate) struct FeedTarget {
    /// The agent platform's feed API base URL (`--feed-url`).
    pub(crate) url: String,
    /// The bearer token the merchant authenticates with there (`--feed-key`).
    pub(crate) key: String,
    /// An existing feed to push to (`--feed-id`); none: one is created on start.
    pub(crate) feed_id: Option<String>,
}

impl std::fmt::Debug for FeedTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedTarget")
            .field("url", &self.url)
            .field("key", &"[REDACTED]")
            .field("feed_id", &self.feed_id)
            .finish()
    }
}

/// Pushes the catalog; cheap to clone (shared state).
#[derive(Clone)]
pub(crate) struct FeedPusher {
    inner: Arc<Inner>,
}

struct Inner {
    client: AcpClient,
    catalog: Arc<Catalog>,
    /// The feed's id, once created (or given).
    feed_id: OnceCell<String>,
    /// One push at a time, each reading stock and prices when it is its turn.
    turn: Mutex<()>,
    timeout: Duration,
}

impl FeedPusher {
    /// A pusher of `catalog` to `target`; every push is bounded by `timeout` in all.
    ///
    /// # Errors
    ///
    /// A feed URL the client refuses.
    pub(crate) fn new(
        target: &FeedTarget,
        catalog: Arc<Catalog>,
        timeout: Duration,
    ) -> Result<Self, String> {
        let client = AcpClient::builder(&target.url)
            .bearer_token(&target.key)
            .api_version(ApiVersion::V2026_04_17)
            .attempt_timeout(timeout)
            .connect_timeout(timeout)
            .retry_policy(
                RetryPolicy::default()
                    .with_max_attempts(3)
                    .with_deadline(timeout),
            )
            .user_agent("acp-example-merchant")
            .build()
            .map_err(|e| format!("feed client ({}): {e}", target.url))?;
        let feed_id = OnceCell::new();
        if let Some(id) = &target.feed_id {
            let _ = feed_id.set(id.clone());
        }
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                catalog,
                feed_id,
                turn: Mutex::new(()),
                timeout,
            }),
        })
    }

    /// The feed's id, once created (or given).
    pub(crate) fn feed_id(&self) -> Option<String> {
        self.inner.feed_id.get().cloned()
    }

    /// Creates the feed if needed and pushes the whole catalog, in the background.
    pub(crate) fn start(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(e) = this.push(None).await {
                eprintln!("merchant: feed push on start failed: {e}");
            }
        });
    }

    /// Pushes the products of `variants` (their stock or price changed), in the background. While the
    /// feed does not exist yet (the push on start is still running, or failed) it is a whole
    /// push again: that creates the feed if need be and carries this change too.
    pub(crate) fn changed(&self, variants: Vec<String>) {
        let whole = self.inner.feed_id.get().is_none();
        let this = self.clone();
        tokio::spawn(async move {
            let only = (!whole).then_some(variants.as_slice());
            if let Err(e) = this.push(only).await {
                eprintln!("merchant: feed upsert failed: {e}");
            }
        });
    }

    /// One push: every product (`None`) or those with a variant in `variants`.
    async fn push(&self, variants: Option<&[String]>) -> Result<(), String> {
        let inner = &self.inner;
        let work = async {
            let _turn = inner.turn.lock().await;
            let id = inner
                .feed_id
                .get_or_try_init(|| async {
                    let feed = inner
                        .client
                        .create_feed(&CreateFeedRequest::new())
                        .await
                        .map_err(|e| format!("create feed: {e}"))?;
                    let id = feed.value.id.as_str().to_owned();
                    println!("merchant: feed {id} created");
                    Ok::<_, String>(id)
                })
                .await?;
            let products = inner.catalog.feed_products(variants);
            // In parts, so a large catalog stays far below the feed server's body cap; each
            // part is one upsert (products not in it are left as they are, FEED-04).
            for part in products.chunks(PRODUCTS_PER_UPSERT) {
                let answer = inner
                    .client
                    .upsert_feed_products(id, &ProductsResponse::new(part.to_vec()))
                    .await
                    .map_err(|e| format!("upsert into {id}: {e}"))?;
                if !answer.value.accepted {
                    return Err(format!("feed {id} did not accept the upsert"));
                }
                println!("merchant: pushed {} products to feed {id}", part.len());
            }
            Ok(())
        };
        // The lock wait counts too: a push never outlives its bound.
        tokio::time::timeout(inner.timeout.saturating_mul(2), work)
            .await
            .map_err(|_| "timed out".to_owned())?
    }
}
