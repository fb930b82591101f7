//! The feed engine: the four operations (FEED-02..04, FEED-10), owner scoping and
//! authentication (FEED-07, HDR-01), versions (VER-03), bodies with `param`, idempotency and
//! concurrent upserts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use agentic_commerce::engine::auth::{BearerKeys, Identity};
use agentic_commerce::engine::feeds::{FeedEngine, InMemoryFeedStore};
use agentic_commerce::engine::merchant::Silent;
use agentic_commerce::engine::store::InMemoryStore;
use serde_json::{Value, json};

use super::{Answer, now};

const SHOP_KEY: &str = "shop-key-0123456789abcdef";
const OTHER_SHOP_KEY: &str = "other-shop-key-0123456789";

type Feeds = FeedEngine<InMemoryFeedStore, InMemoryStore>;

fn feeds_with(store: InMemoryFeedStore, strict: bool) -> Feeds {
    FeedEngine::builder(store, InMemoryStore::default())
        .merchants(
            BearerKeys::new()
                .key(SHOP_KEY, Identity::new("shop_1"))
                .key(OTHER_SHOP_KEY, Identity::new("shop_2")),
        )
        .strict(strict)
        .events(Silent)
        .build()
        .unwrap()
}

fn feeds() -> Feeds {
    feeds_with(InMemoryFeedStore::default(), true)
}

async fn send(
    engine: &Feeds,
    method: &str,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Answer {
    let body = body
        .map(|b| serde_json::to_vec(b).unwrap())
        .unwrap_or_default();
    let mut builder = http::Request::builder().method(method).uri(path);
    let mut defaults = vec![
        ("Authorization", format!("Bearer {SHOP_KEY}")),
        ("API-Version", "2026-04-17".to_owned()),
    ];
    if !body.is_empty() {
        defaults.push(("Content-Type", "application/json".to_owned()));
    }
    if method == "POST" {
        defaults.push(("Idempotency-Key", format!("k_{}", rand_suffix())));
    }
    for (name, value) in &defaults {
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            builder = builder.header(*name, value);
        }
    }
    for (name, value) in headers {
        if !value.is_empty() {
            builder = builder.header(*name, *value);
        }
    }
    let (parts, ()) = builder.body(()).unwrap().into_parts();
    Answer::from(engine.handle_at(&parts, &body, now()).await)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::SeqCst)
}

fn product(id: &str, price: i64) -> Value {
    json!({
        "id": id,
        "title": format!("Product {id}"),
        "variants": [{
            "id": format!("{id}-v1"),
            "title": "Default",
            "price": {"amount": price, "currency": "USD"},
            "availability": {"available": true, "status": "in_stock"}
        }]
    })
}

async fn create(engine: &Feeds) -> String {
    let created = send(
        engine,
        "POST",
        "/feeds",
        Some(&json!({"target_country": "US"})),
        &[],
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    created.id()
}

async fn upsert(engine: &Feeds, feed: &str, products: &[Value]) -> Answer {
    send(
        engine,
        "PATCH",
        &format!("/feeds/{feed}/products"),
        Some(&json!({ "products": products })),
        &[],
    )
    .await
}

async fn product_ids(engine: &Feeds, feed: &str) -> Vec<String> {
    let got = send(engine, "GET", &format!("/feeds/{feed}/products"), None, &[]).await;
    assert_eq!(got.status, 200, "{:?}", got.body);
    got.body["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn feed_create_retrieve_read_and_upsert_keep_omitted_products_feed_02_03_04() {
    let engine = feeds();
    let created = send(
        &engine,
        "POST",
        "/feeds",
        Some(&json!({"target_country": "US"})),
        &[("Request-Id", "req_7")],
    )
    .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.header("API-Version"), Some("2026-04-17"));
    assert_eq!(created.body["target_country"], "US");
    let id = created.id();
    assert!(id.starts_with("feed_"), "{id}");

    let got = send(&engine, "GET", &format!("/feeds/{id}"), None, &[]).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["id"], id.as_str());
    assert!(product_ids(&engine, &id).await.is_empty());

    let first = upsert(&engine, &id, &[product("p1", 100), product("p2", 200)]).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body, json!({"id": id, "accepted": true}));
    let updated_after_first = send(&engine, "GET", &format!("/feeds/{id}"), None, &[])
        .await
        .body["updated_at"]
        .clone();

    // FEED-04: p2 is replaced, p3 added, p1 (omitted) is unchanged.
    let second = upsert(&engine, &id, &[product("p2", 250), product("p3", 300)]).await;
    assert_eq!(second.status, 200);
    let all = send(&engine, "GET", &format!("/feeds/{id}/products"), None, &[]).await;
    let products = all.body["products"].as_array().unwrap();
    assert_eq!(products.len(), 3);
    assert_eq!(products[0], product("p1", 100));
    assert_eq!(products[1], product("p2", 250));
    assert_eq!(products[2], product("p3", 300));
    // FEED-10: updated_at advanced (or at least set) by the upsert.
    let meta = send(&engine, "GET", &format!("/feeds/{id}"), None, &[]).await;
    assert!(meta.body["updated_at"].is_string());
    assert!(updated_after_first.is_string());
}

#[tokio::test]
async fn unknown_feed_and_another_merchants_feed_are_404_feed_07() {
    let engine = feeds();
    let id = create(&engine).await;
    assert_eq!(upsert(&engine, &id, &[product("p1", 1)]).await.status, 200);
    for path in [format!("/feeds/{id}"), format!("/feeds/{id}/products")] {
        let other = send(
            &engine,
            "GET",
            &path,
            None,
            &[("Authorization", &format!("Bearer {OTHER_SHOP_KEY}"))],
        )
        .await;
        assert_eq!(other.status, 404, "{path}: {:?}", other.body);
        assert_eq!(other.code(), "not_found");
        let unknown = send(&engine, "GET", &path.replace(&id, "feed_nope"), None, &[]).await;
        assert_eq!(unknown.status, 404);
    }
    let other_write = send(
        &engine,
        "PATCH",
        &format!("/feeds/{id}/products"),
        Some(&json!({"products": [product("evil", 0)]})),
        &[("Authorization", &format!("Bearer {OTHER_SHOP_KEY}"))],
    )
    .await;
    assert_eq!(other_write.status, 404);
    assert_eq!(product_ids(&engine, &id).await, ["p1"]);
    let unknown_write = upsert(&engine, "feed_nope", &[product("p1", 1)]).await;
    assert_eq!(unknown_write.status, 404);
}

#[tokio::test]
async fn requests_without_a_valid_bearer_are_401_hdr_01() {
    let engine = feeds();
    let none = send(
        &engine,
        "GET",
        "/feeds/feed_x",
        None,
        &[("Authorization", "")],
    )
    .await;
    // Without the header at all the header check answers first; a wrong key is 401.
    assert!(none.status == 401 || none.status == 400, "{:?}", none.body);
    let wrong = send(
        &engine,
        "POST",
        "/feeds",
        Some(&json!({})),
        &[("Authorization", "Bearer not-a-known-key-0000000000")],
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert!(engine.feeds().is_empty());
}

#[tokio::test]
async fn versions_before_2026_04_17_are_refused_with_the_supported_list_ver_03() {
    let engine = feeds();
    let old = send(
        &engine,
        "POST",
        "/feeds",
        Some(&json!({})),
        &[("API-Version", "2026-01-30")],
    )
    .await;
    assert_eq!(old.status, 400, "{:?}", old.body);
    assert_eq!(old.code(), "unsupported_api_version");
    assert!(
        old.body["supported_versions"]
            .as_array()
            .unwrap()
            .contains(&json!("2026-04-17"))
    );
    assert!(engine.feeds().is_empty());
    let missing = send(
        &engine,
        "GET",
        "/feeds/feed_x",
        None,
        &[("API-Version", "")],
    )
    .await;
    assert_eq!(missing.status, 400);
    // Older versions cannot be configured either: they have no feeds.
    let built = FeedEngine::builder(InMemoryFeedStore::default(), InMemoryStore::default())
        .versions(&[agentic_commerce::protocol::version::ApiVersion::V2026_01_30])
        .build();
    assert!(built.is_err());
}

#[tokio::test]
async fn bad_bodies_are_400_with_a_jsonpath_param_and_change_nothing() {
    let engine = feeds();
    let id = create(&engine).await;
    assert_eq!(
        upsert(&engine, &id, &[product("keep", 5)]).await.status,
        200
    );
    let path = format!("/feeds/{id}/products");
    let mut bad_currency = product("p1", 100);
    bad_currency["variants"][0]["price"]["currency"] = json!("usd");
    let mut no_variants = product("p2", 100);
    no_variants.as_object_mut().unwrap().remove("variants");
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"products": [product("ok", 1), bad_currency]}),
            "$.products[1].variants[0].price.currency",
        ),
        (json!({"products": [no_variants]}), "$.products[0].variants"),
        (json!({}), "$.products"),
        (
            json!({"products": [product("d", 1), product("d", 2)]}),
            "$.products[1].id",
        ),
        (json!({"products": [], "surprise": 1}), "$.surprise"),
    ];
    for (body, param) in cases {
        let answer = send(&engine, "PATCH", &path, Some(&body), &[]).await;
        assert_eq!(answer.status, 400, "{body}: {:?}", answer.body);
        assert_eq!(answer.body["type"], "invalid_request", "{:?}", answer.body);
        assert_eq!(answer.body["param"], param, "{body}: {:?}", answer.body);
    }
    let not_json = send(
        &engine,
        "POST",
        "/feeds",
        None,
        &[("Content-Type", "application/json")],
    )
    .await;
    assert_eq!(
        not_json.status, 201,
        "an empty create body is a feed with no country"
    );
    let bad_country = send(
        &engine,
        "POST",
        "/feeds",
        Some(&json!({"target_country": "usa"})),
        &[],
    )
    .await;
    assert_eq!(bad_country.status, 400);
    assert_eq!(bad_country.body["param"], "$.target_country");
    // Nothing of the refused upserts was written (atomic per request).
    assert_eq!(product_ids(&engine, &id).await, ["keep"]);
}

#[tokio::test]
async fn lenient_engines_keep_unknown_members_forward_compatible() {
    let engine = feeds_with(InMemoryFeedStore::default(), false);
    let id = create(&engine).await;
    let mut future = product("p1", 100);
    future["new_field"] = json!({"x": 1});
    assert_eq!(upsert(&engine, &id, &[future.clone()]).await.status, 200);
    let all = send(&engine, "GET", &format!("/feeds/{id}/products"), None, &[]).await;
    assert_eq!(all.body["products"][0], future);
}

#[tokio::test]
async fn create_is_idempotent_per_key_and_a_changed_body_conflicts() {
    let engine = feeds();
    let key = [("Idempotency-Key", "same-key-1")];
    let first = send(
        &engine,
        "POST",
        "/feeds",
        Some(&json!({"target_country": "US"})),
        &key,
    )
    .await;
    let again = send(
        &engine,
        "POST",
        "/feeds",
        Some(&json!({"target_country": "US"})),
        &key,
    )
    .await;
    assert_eq!(first.status, 201);
    assert_eq!(again.status, 201);
    assert_eq!(first.id(), again.id());
    assert_eq!(engine.feeds().len(), 1);
    let changed = send(
        &engine,
        "POST",
        "/feeds",
        Some(&json!({"target_country": "FR"})),
        &key,
    )
    .await;
    assert_eq!(changed.status, 422, "{:?}", changed.body);
    assert_eq!(changed.code(), "idempotency_conflict");
    let empty = json!({});
    let keyless = send(
        &engine,
        "POST",
        "/feeds",
        Some(&empty),
        &[("Idempotency-Key", "")],
    )
    .await;
    assert_eq!(keyless.status, 400, "{:?}", keyless.body);
    assert_eq!(engine.feeds().len(), 1);
}

#[tokio::test]
async fn store_bounds_are_clear_errors_never_silent_loss() {
    let engine = feeds_with(InMemoryFeedStore::new(1, 2), true);
    let id = create(&engine).await;
    let second = send(&engine, "POST", "/feeds", Some(&json!({})), &[]).await;
    assert_eq!(second.status, 422, "{:?}", second.body);
    assert_eq!(second.code(), "feed_limit_reached");
    assert_eq!(
        upsert(&engine, &id, &[product("a", 1), product("b", 1)])
            .await
            .status,
        200
    );
    // Replacing existing products stays within the bound; a third product does not.
    assert_eq!(upsert(&engine, &id, &[product("a", 2)]).await.status, 200);
    let over = upsert(&engine, &id, &[product("b", 3), product("c", 1)]).await;
    assert_eq!(over.status, 400, "{:?}", over.body);
    assert_eq!(over.body["param"], "$.products");
    let all = send(&engine, "GET", &format!("/feeds/{id}/products"), None, &[]).await;
    assert_eq!(
        all.body["products"],
        json!([product("a", 2), product("b", 1)])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_upserts_on_one_feed_lose_no_product() {
    let engine = Arc::new(feeds());
    let id = create(&engine).await;
    let tasks: Vec<_> = (0..16)
        .map(|t| {
            let engine = Arc::clone(&engine);
            let id = id.clone();
            tokio::spawn(async move {
                for i in 0..10 {
                    let answer = upsert(
                        &engine,
                        &id,
                        &[product(&format!("t{t:02}-{i}"), i), product("shared", t)],
                    )
                    .await;
                    assert_eq!(answer.status, 200, "{:?}", answer.body);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let ids = product_ids(&engine, &id).await;
    assert_eq!(ids.len(), 16 * 10 + 1);
    assert!(ids.iter().any(|p| p == "shared"));
    assert!(ids.iter().any(|p| p == "t15-9"));
}

#[tokio::test]
async fn unknown_routes_and_methods_are_404_and_405() {
    let engine = feeds();
    assert_eq!(send(&engine, "GET", "/nope", None, &[]).await.status, 404);
    let wrong = send(&engine, "DELETE", "/feeds/feed_x/products", None, &[]).await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("Allow"), Some("GET, PATCH"));
}
