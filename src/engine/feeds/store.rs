//! [`FeedStore`]: where the feed engine keeps feeds and their products, and the bounded
//! in-memory [`InMemoryFeedStore`].

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};

use time::OffsetDateTime;

use crate::primitives::Timestamp;
use crate::spec::latest::feed::{FeedMetadata, Product};

/// A limit of a [`FeedStore`] that a write would pass: the write was refused whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FeedLimit {
    /// The store holds its maximum number of feeds.
    #[error("the feed store holds its maximum of {0} feeds")]
    Feeds(usize),
    /// The upsert would leave the feed with more products than allowed.
    #[error("a feed holds at most {0} products")]
    Products(usize),
}

/// What a write to a [`FeedStore`] did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FeedWrite {
    /// Written; the feed's metadata after the write (`updated_at` advanced, FEED-10).
    Written(FeedMetadata),
    /// No such feed for this owner (another owner's feed is not found either).
    NotFound,
    /// A bound would be passed: nothing was written.
    Limit(FeedLimit),
}

/// Feeds and their products, each feed owned by the identity that created it. Asynchronous
/// (usable from async database drivers), with no runtime dependency.
///
/// Contract: every method sees only `owner`'s feeds; [`upsert`](Self::upsert) is atomic per
/// call (all its products are written or none) and concurrent upserts on one feed lose no
/// product; products are keyed by `Product.id` within a feed (FEED-04).
pub trait FeedStore: Send + Sync {
    /// The store's error type (storage failures, never a limit or a missing feed).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Stores the new, empty feed `feed` for `owner`.
    ///
    /// # Errors
    /// Storage failures.
    fn create(
        &self,
        owner: &str,
        feed: &FeedMetadata,
    ) -> impl Future<Output = Result<FeedWrite, Self::Error>> + Send;

    /// `owner`'s feed `id`, if there is one.
    ///
    /// # Errors
    /// Storage failures.
    fn feed(
        &self,
        owner: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<FeedMetadata>, Self::Error>> + Send;

    /// Every product of `owner`'s feed `id`, ordered by `Product.id` (bytewise), if the feed
    /// exists (FEED-03).
    ///
    /// # Errors
    /// Storage failures.
    fn products(
        &self,
        owner: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<Vec<Product>>, Self::Error>> + Send;

    /// Inserts or replaces each of `products` by `Product.id` in `owner`'s feed `id`, leaving
    /// every other product unchanged (FEED-04), and sets the feed's `updated_at` to `now`
    /// (FEED-10). The ids in `products` are distinct.
    ///
    /// # Errors
    /// Storage failures.
    fn upsert(
        &self,
        owner: &str,
        id: &str,
        products: &[Product],
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<FeedWrite, Self::Error>> + Send;
}

/// A shared store stores like the store itself.
impl<T: FeedStore + ?Sized> FeedStore for std::sync::Arc<T> {
    type Error = T::Error;

    fn create(
        &self,
        owner: &str,
        feed: &FeedMetadata,
    ) -> impl Future<Output = Result<FeedWrite, Self::Error>> + Send {
        (**self).create(owner, feed)
    }

    fn feed(
        &self,
        owner: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<FeedMetadata>, Self::Error>> + Send {
        (**self).feed(owner, id)
    }

    fn products(
        &self,
        owner: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<Vec<Product>>, Self::Error>> + Send {
        (**self).products(owner, id)
    }

    fn upsert(
        &self,
        owner: &str,
        id: &str,
        products: &[Product],
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<FeedWrite, Self::Error>> + Send {
        (**self).upsert(owner, id, products, now)
    }
}

/// The default bound of [`InMemoryFeedStore`] on feeds.
pub const DEFAULT_MAX_FEEDS: usize = 10_000;
/// The default bound of [`InMemoryFeedStore`] on the products of one feed.
pub const DEFAULT_MAX_PRODUCTS_PER_FEED: usize = 100_000;

#[derive(Debug)]
struct StoredFeed {
    owner: String,
    metadata: FeedMetadata,
    products: BTreeMap<String, Product>,
}

/// An in-memory [`FeedStore`] for one process: at most `max_feeds` feeds of at most
/// `max_products` products each (a write past a bound is refused whole, [`FeedWrite::Limit`]);
/// every operation under one lock, never held across an `.await`.
#[derive(Debug)]
pub struct InMemoryFeedStore {
    feeds: Mutex<BTreeMap<String, StoredFeed>>,
    max_feeds: usize,
    max_products: usize,
}

impl Default for InMemoryFeedStore {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FEEDS, DEFAULT_MAX_PRODUCTS_PER_FEED)
    }
}

/// [`InMemoryFeedStore`] never fails: its limits are [`FeedWrite::Limit`], not errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unreachable: the in-memory feed store does not fail")]
pub struct Infallible;

impl InMemoryFeedStore {
    /// A store of at most `max_feeds` feeds, each of at most `max_products` products.
    pub fn new(max_feeds: usize, max_products: usize) -> Self {
        Self {
            feeds: Mutex::new(BTreeMap::new()),
            max_feeds,
            max_products,
        }
    }

    /// The number of feeds (every owner's).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether there is no feed.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, StoredFeed>> {
        self.feeds.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn create_sync(&self, owner: &str, feed: &FeedMetadata) -> FeedWrite {
        let mut feeds = self.lock();
        if feeds.len() >= self.max_feeds {
            return FeedWrite::Limit(FeedLimit::Feeds(self.max_feeds));
        }
        feeds.insert(
            feed.id.as_str().to_owned(),
            StoredFeed {
                owner: owner.to_owned(),
                metadata: feed.clone(),
                products: BTreeMap::new(),
            },
        );
        FeedWrite::Written(feed.clone())
    }

    fn upsert_sync(
        &self,
        owner: &str,
        id: &str,
        products: &[Product],
        now: OffsetDateTime,
    ) -> FeedWrite {
        let mut feeds = self.lock();
        let Some(feed) = feeds.get_mut(id).filter(|f| f.owner == owner) else {
            return FeedWrite::NotFound;
        };
        let added = products
            .iter()
            .filter(|p| !feed.products.contains_key(p.id.as_str()))
            .count();
        // Checked before any write: an upsert past the bound changes nothing.
        if feed.products.len().saturating_add(added) > self.max_products {
            return FeedWrite::Limit(FeedLimit::Products(self.max_products));
        }
        for product in products {
            feed.products
                .insert(product.id.as_str().to_owned(), product.clone());
        }
        feed.metadata.updated_at = Some(Timestamp(now));
        FeedWrite::Written(feed.metadata.clone())
    }
}

impl FeedStore for InMemoryFeedStore {
    type Error = Infallible;

    fn create(
        &self,
        owner: &str,
        feed: &FeedMetadata,
    ) -> impl Future<Output = Result<FeedWrite, Self::Error>> + Send {
        let result = self.create_sync(owner, feed);
        async move { Ok(result) }
    }

    fn feed(
        &self,
        owner: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<FeedMetadata>, Self::Error>> + Send {
        let found = self
            .lock()
            .get(id)
            .filter(|f| f.owner == owner)
            .map(|f| f.metadata.clone());
        async move { Ok(found) }
    }

    fn products(
        &self,
        owner: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<Vec<Product>>, Self::Error>> + Send {
        let found = self
            .lock()
            .get(id)
            .filter(|f| f.owner == owner)
            .map(|f| f.products.values().cloned().collect());
        async move { Ok(found) }
    }

    fn upsert(
        &self,
        owner: &str,
        id: &str,
        products: &[Product],
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<FeedWrite, Self::Error>> + Send {
        let result = self.upsert_sync(owner, id, products, now);
        async move { Ok(result) }
    }
}
