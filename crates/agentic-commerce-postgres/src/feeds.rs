//! [`FeedStore`] over PostgreSQL: feeds in `acp_feeds` (owner, metadata JSON text), products in
//! `acp_feed_products` keyed `(feed_id, product_id)` as the JSON text written.

use agentic_commerce::engine::feeds::{FeedLimit, FeedStore, FeedWrite};
use agentic_commerce::primitives::Timestamp;
use agentic_commerce::spec::latest::feed::{FeedMetadata, Product};
use time::OffsetDateTime;

use crate::store::to_us;
use crate::{PgError, PgStore};

/// The advisory lock of feed creation (the two-`int4` key space, as the migrations' lock):
/// "ACP\0", 2. Creations queue on it so the feed bound holds across processes.
const CREATE_LOCK: (i32, i32) = (0x4143_5000, 2);

fn metadata_text(feed: &FeedMetadata) -> Result<String, PgError> {
    serde_json::to_string(feed).map_err(|_| PgError::Corrupt("feed metadata"))
}

fn metadata_of(text: &str) -> Result<FeedMetadata, PgError> {
    serde_json::from_str(text).map_err(|_| PgError::Corrupt("feed metadata"))
}

impl PgStore {
    async fn create_feed(&self, owner: &str, feed: &FeedMetadata) -> Result<FeedWrite, PgError> {
        let max = i64::try_from(self.config().max_feeds()).unwrap_or(i64::MAX);
        let mut conn = self.pool().get().await?;
        let tx = conn.transaction().await?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, $2)",
            &[&CREATE_LOCK.0, &CREATE_LOCK.1],
        )
        .await?;
        let count: i64 = tx
            .query_one("SELECT count(*) FROM acp_feeds", &[])
            .await?
            .try_get(0)?;
        if count >= max {
            tx.rollback().await?;
            return Ok(FeedWrite::Limit(FeedLimit::Feeds(
                self.config().max_feeds(),
            )));
        }
        let now = feed
            .updated_at
            .as_ref()
            .map_or_else(OffsetDateTime::now_utc, |t| t.0);
        tx.execute(
            "INSERT INTO acp_feeds (id, owner, metadata, created_us) VALUES ($1, $2, $3, $4)",
            &[
                &feed.id.as_str(),
                &owner,
                &metadata_text(feed)?,
                &to_us(now),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(FeedWrite::Written(feed.clone()))
    }

    async fn load_feed(&self, owner: &str, id: &str) -> Result<Option<FeedMetadata>, PgError> {
        let conn = self.pool().get().await?;
        let row = conn
            .query_opt(
                "SELECT metadata FROM acp_feeds WHERE id = $1 AND owner = $2",
                &[&id, &owner],
            )
            .await?;
        row.map(|row| metadata_of(&row.try_get::<_, String>(0)?))
            .transpose()
    }

    async fn load_products(&self, owner: &str, id: &str) -> Result<Option<Vec<Product>>, PgError> {
        let conn = self.pool().get().await?;
        // One statement, one snapshot: the feed and its products as of one commit. No row: no
        // such feed; a NULL product: a feed without products. Bytewise order (COLLATE "C"),
        // as the in-memory store.
        let rows = conn
            .query(
                "SELECT p.product FROM acp_feeds f
                 LEFT JOIN acp_feed_products p ON p.feed_id = f.id
                 WHERE f.id = $1 AND f.owner = $2
                 ORDER BY p.product_id COLLATE \"C\"",
                &[&id, &owner],
            )
            .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut products = Vec::with_capacity(rows.len());
        for row in rows {
            if let Some(text) = row.try_get::<_, Option<String>>(0)? {
                products.push(
                    serde_json::from_str(&text).map_err(|_| PgError::Corrupt("feed product"))?,
                );
            }
        }
        Ok(Some(products))
    }

    async fn upsert_products(
        &self,
        owner: &str,
        id: &str,
        products: &[Product],
        now: OffsetDateTime,
    ) -> Result<FeedWrite, PgError> {
        let ids: Vec<&str> = products.iter().map(|p| p.id.as_str()).collect();
        let texts = products
            .iter()
            .map(|p| serde_json::to_string(p).map_err(|_| PgError::Corrupt("feed product")))
            .collect::<Result<Vec<String>, _>>()?;
        let mut conn = self.pool().get().await?;
        let tx = conn.transaction().await?;
        // The feed's row lock serializes upserts of one feed: the bound check and the write
        // see the same product set, and no concurrent upsert is lost.
        let Some(row) = tx
            .query_opt(
                "SELECT metadata FROM acp_feeds WHERE id = $1 AND owner = $2 FOR UPDATE",
                &[&id, &owner],
            )
            .await?
        else {
            tx.rollback().await?;
            return Ok(FeedWrite::NotFound);
        };
        let mut feed = metadata_of(&row.try_get::<_, String>(0)?)?;
        let counts = tx
            .query_one(
                "SELECT count(*), count(*) FILTER (WHERE product_id = ANY($2))
                 FROM acp_feed_products WHERE feed_id = $1",
                &[&id, &ids],
            )
            .await?;
        let (current, existing): (i64, i64) = (counts.try_get(0)?, counts.try_get(1)?);
        let sent = i64::try_from(ids.len()).unwrap_or(i64::MAX);
        let max = self.config().max_products_per_feed();
        if current.saturating_add(sent - existing) > i64::try_from(max).unwrap_or(i64::MAX) {
            tx.rollback().await?;
            return Ok(FeedWrite::Limit(FeedLimit::Products(max)));
        }
        if !ids.is_empty() {
            tx.execute(
                "INSERT INTO acp_feed_products (feed_id, product_id, product)
                 SELECT $1, u.product_id, u.product
                 FROM unnest($2::text[], $3::text[]) AS u(product_id, product)
                 ON CONFLICT (feed_id, product_id) DO UPDATE SET product = EXCLUDED.product",
                &[&id, &ids, &texts],
            )
            .await?;
        }
        feed.updated_at = Some(Timestamp(now));
        tx.execute(
            "UPDATE acp_feeds SET metadata = $2 WHERE id = $1",
            &[&id, &metadata_text(&feed)?],
        )
        .await?;
        tx.commit().await?;
        Ok(FeedWrite::Written(feed))
    }
}

/// Feeds and their products in the store's database (migration 3). Bounded by
/// [`PgConfig::max_feeds`](crate::PgConfig::max_feeds) (checked under an advisory lock, so the
/// bound holds across processes) and
/// [`PgConfig::max_products_per_feed`](crate::PgConfig::max_products_per_feed) (checked under
/// the feed's row lock); an upsert is one transaction (all its products or none), and upserts
/// of one feed are serialized by that row lock.
impl FeedStore for PgStore {
    type Error = PgError;

    async fn create(&self, owner: &str, feed: &FeedMetadata) -> Result<FeedWrite, PgError> {
        self.create_feed(owner, feed).await
    }

    async fn feed(&self, owner: &str, id: &str) -> Result<Option<FeedMetadata>, PgError> {
        self.load_feed(owner, id).await
    }

    async fn products(&self, owner: &str, id: &str) -> Result<Option<Vec<Product>>, PgError> {
        self.load_products(owner, id).await
    }

    async fn upsert(
        &self,
        owner: &str,
        id: &str,
        products: &[Product],
        now: OffsetDateTime,
    ) -> Result<FeedWrite, PgError> {
        self.upsert_products(owner, id, products, now).await
    }
}
