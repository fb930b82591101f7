//! `FeedStore` on `PgStore` (`DATABASE_URL`; skipped with a message when it is unset, failing
//! when `CI=true`): owner scoping, upserts that keep omitted products (FEED-04) and advance
//! `updated_at` (FEED-10), both bounds refused whole, concurrent upserts from two stores (two
//! processes) losing no product, and the feed engine served over it.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use super::common::database_url;

use agentic_commerce::engine::auth::{BearerKeys, Identity};
use agentic_commerce::engine::feeds::{FeedEngine, FeedLimit, FeedStore, FeedWrite};
use agentic_commerce::engine::merchant::Silent;
use agentic_commerce::parse;
use agentic_commerce::spec::latest::feed::{FeedMetadata, Product};
use agentic_commerce_postgres::{PgConfig, PgStore};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio_postgres::NoTls;

async fn fresh(url: &str, test: &str, bounds: (usize, usize)) -> (PgStore, String) {
    let schema = format!("acp_f_{test}_{}", std::process::id());
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.expect("connect");
    tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await
        .expect("drop schema");
    (store(url, &schema, bounds).await, schema)
}

async fn store(url: &str, schema: &str, (feeds, products): (usize, usize)) -> PgStore {
    let config = PgConfig::default()
        .with_schema(schema)
        .expect("schema name")
        .with_max_connections(8)
        .with_feed_bounds(feeds, products);
    PgStore::connect(url, config).await.expect("connect")
}

async fn drop_schema(url: &str, schema: &str) {
    if let Ok((client, connection)) = tokio_postgres::connect(url, NoTls).await {
        tokio::spawn(connection);
        let _ = client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .await;
    }
}

fn product(id: &str, amount: i64) -> Product {
    parse::from_value(&product_json(id, amount)).unwrap()
}

fn product_json(id: &str, amount: i64) -> Value {
    json!({"id": id, "variants": [{"id": format!("{id}_v"), "title": "Default",
        "price": {"amount": amount, "currency": "USD"}}]})
}

fn ids(products: &[Product]) -> Vec<&str> {
    products.iter().map(|p| p.id.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_04_10_upserts_keep_omitted_products_and_feeds_are_owner_scoped() {
    let Some(url) = database_url("feed_04_10") else {
        return;
    };
    let (pg, schema) = fresh(&url, "scope", (10, 10)).await;
    let feed = FeedMetadata::new("feed_a");
    assert!(matches!(
        pg.create("shop_1", &feed).await.unwrap(),
        FeedWrite::Written(_)
    ));
    assert_eq!(
        pg.products("shop_1", "feed_a").await.unwrap(),
        Some(Vec::new())
    );
    assert_eq!(
        pg.feed("shop_2", "feed_a").await.unwrap(),
        None,
        "another owner"
    );
    assert_eq!(pg.products("shop_2", "feed_a").await.unwrap(), None);
    assert_eq!(pg.feed("shop_1", "feed_b").await.unwrap(), None);

    let t1 = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let t2 = OffsetDateTime::from_unix_timestamp(1_800_000_100).unwrap();
    pg.upsert("shop_1", "feed_a", &[product("b", 1), product("a", 2)], t1)
        .await
        .unwrap();
    let written = pg
        .upsert("shop_1", "feed_a", &[product("b", 5), product("c", 3)], t2)
        .await
        .unwrap();
    let FeedWrite::Written(meta) = written else {
        panic!("{written:?}")
    };
    assert_eq!(meta.updated_at.unwrap().0, t2);
    let products = pg.products("shop_1", "feed_a").await.unwrap().unwrap();
    assert_eq!(ids(&products), ["a", "b", "c"], "bytewise order, a kept");
    assert_eq!(products[1], product("b", 5));
    assert_eq!(
        pg.feed("shop_1", "feed_a")
            .await
            .unwrap()
            .unwrap()
            .updated_at
            .unwrap()
            .0,
        t2
    );
    assert_eq!(
        pg.upsert("shop_2", "feed_a", &[product("x", 1)], t2)
            .await
            .unwrap(),
        FeedWrite::NotFound
    );
    // Unknown members survive the round trip (JSON text as written).
    let mut future = product_json("d", 4);
    future["new_member"] = json!([1, 2]);
    let future: Product = parse::from_value(&future).unwrap();
    pg.upsert("shop_1", "feed_a", std::slice::from_ref(&future), t2)
        .await
        .unwrap();
    let stored = pg.products("shop_1", "feed_a").await.unwrap().unwrap();
    assert_eq!(
        serde_json::to_value(&stored[3]).unwrap()["new_member"],
        json!([1, 2])
    );
    drop_schema(&url, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_bounds_refuse_the_whole_write() {
    let Some(url) = database_url("feed_bounds") else {
        return;
    };
    let (pg, schema) = fresh(&url, "bounds", (1, 2)).await;
    let now = OffsetDateTime::now_utc();
    pg.create("shop_1", &FeedMetadata::new("feed_a"))
        .await
        .unwrap();
    assert_eq!(
        pg.create("shop_1", &FeedMetadata::new("feed_b"))
            .await
            .unwrap(),
        FeedWrite::Limit(FeedLimit::Feeds(1))
    );
    pg.upsert("shop_1", "feed_a", &[product("a", 1), product("b", 1)], now)
        .await
        .unwrap();
    assert!(matches!(
        pg.upsert("shop_1", "feed_a", &[product("a", 9)], now)
            .await
            .unwrap(),
        FeedWrite::Written(_)
    ));
    assert_eq!(
        pg.upsert("shop_1", "feed_a", &[product("b", 7), product("c", 1)], now)
            .await
            .unwrap(),
        FeedWrite::Limit(FeedLimit::Products(2))
    );
    let products = pg.products("shop_1", "feed_a").await.unwrap().unwrap();
    assert_eq!(
        products,
        [product("a", 9), product("b", 1)],
        "nothing of the refused upsert"
    );
    drop_schema(&url, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_upserts_from_two_stores_lose_no_product() {
    let Some(url) = database_url("feed_concurrency") else {
        return;
    };
    let (a, schema) = fresh(&url, "race", (10, 10_000)).await;
    let b = store(&url, &schema, (10, 10_000)).await;
    a.create("shop_1", &FeedMetadata::new("feed_a"))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let pg = if t % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                for i in 0..10 {
                    let batch = [product(&format!("t{t}_{i}"), i), product("shared", t)];
                    let written = pg
                        .upsert("shop_1", "feed_a", &batch, OffsetDateTime::now_utc())
                        .await
                        .unwrap();
                    assert!(matches!(written, FeedWrite::Written(_)), "{written:?}");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let products = a.products("shop_1", "feed_a").await.unwrap().unwrap();
    assert_eq!(products.len(), 8 * 10 + 1);
    drop_schema(&url, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_engine_serves_over_postgres_with_idempotent_create() {
    let Some(url) = database_url("feed_engine_pg") else {
        return;
    };
    let (pg, schema) = fresh(&url, "engine", (10, 10)).await;
    let engine = FeedEngine::builder(pg.clone(), pg.clone())
        .merchants(BearerKeys::new().key("shop-key-0123456789", Identity::new("shop_1")))
        .events(Silent)
        .build()
        .unwrap();
    let call = |method: &str, path: &str, key: Option<&str>| {
        let mut b = http::Request::builder()
            .method(method)
            .uri(path)
            .header("Authorization", "Bearer shop-key-0123456789")
            .header("API-Version", "2026-04-17")
            .header("Content-Type", "application/json");
        if let Some(key) = key {
            b = b.header("Idempotency-Key", key);
        }
        b.body(()).unwrap().into_parts().0
    };
    let body = br#"{"target_country":"US"}"#;
    let first = engine
        .handle(&call("POST", "/feeds", Some("k1")), body)
        .await;
    let again = engine
        .handle(&call("POST", "/feeds", Some("k1")), body)
        .await;
    assert_eq!(first.status(), 201);
    assert_eq!(first.body(), again.body(), "the replay");
    let feed: Value = serde_json::from_slice(first.body()).unwrap();
    let id = feed["id"].as_str().unwrap();
    let upsert = serde_json::to_vec(&json!({"products": [product_json("p", 1)]})).unwrap();
    let path = format!("/feeds/{id}/products");
    let answer = engine.handle(&call("PATCH", &path, None), &upsert).await;
    assert_eq!(answer.status(), 200);
    let read = engine.handle(&call("GET", &path, None), b"").await;
    let read: Value = serde_json::from_slice(read.body()).unwrap();
    assert_eq!(read, json!({"products": [product_json("p", 1)]}));
    drop_schema(&url, &schema).await;
}
