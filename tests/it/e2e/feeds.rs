//! End to end over real HTTP: the example merchant started with a feed URL pushes its whole
//! catalog to the example feed server (the agent platform's feed API, FEED-01), and a purchase
//! that moves stock, or a price changed in the back office (`POST /admin/variants/{id}/price`),
//! shows up there as a partial upsert of that product only (FEED-04), in memory and on
//! PostgreSQL. A session priced before the price change still completes at its stored total.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use agentic_commerce::spec::latest::feed::CreateFeedRequest;
use agentic_commerce_client::AcpClient;
use serde_json::{Value, json};

use crate::ex::{config, feed, feed_server};
use crate::harness::{
    self, WEBHOOK_SECRET, World, create, delegate, in_seconds, key, pay, ship_update,
};
use crate::wire;

const FEED_KEY: &str = "e2e-feed-key-0123456789";

/// A feed server for `merchant_id` (whose key is [`FEED_KEY`]).
async fn start_feed_server(merchant_id: &str, database_url: Option<String>) -> String {
    let config = feed_server::FeedServerConfig {
        merchant_keys: vec![(merchant_id.to_owned(), FEED_KEY.to_owned())],
        database_url,
        ..feed_server::FeedServerConfig::default()
    };
    let (addr, _handle) = feed_server::spawn(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("feed server starts");
    format!("http://{addr}")
}

fn feed_client(url: &str) -> AcpClient {
    AcpClient::builder(url)
        .bearer_token(FEED_KEY)
        .build()
        .unwrap()
}

/// A world whose merchant pushes to `target`.
async fn world_with_feed(target: feed::FeedTarget, database_url: Option<String>) -> World {
    let (hook, hooks) =
        wire::spawn_webhook_receiver("127.0.0.1:0".parse().unwrap(), WEBHOOK_SECRET)
            .await
            .unwrap();
    let hook_url = format!("http://{hook}/webhooks/acp");
    let vault = harness::start_vault(database_url.clone()).await;
    let merchant = harness::start_merchant(config::Config {
        feed: Some(target),
        ..harness::merchant_config(&vault, &hook_url, database_url, Duration::ZERO)
    })
    .await;
    World {
        merchant,
        vault,
        hook_url,
        hooks,
    }
}

/// The feed's products as JSON, by id.
async fn products(client: &AcpClient, feed_id: &str) -> Vec<Value> {
    let answer = client.feed_products(feed_id).await.unwrap();
    answer
        .value
        .products
        .iter()
        .map(|p| serde_json::to_value(p).unwrap())
        .collect()
}

/// Polls (bounded) until `check` holds for the feed's products; the last products otherwise.
async fn wait_for(
    client: &AcpClient,
    feed_id: &str,
    check: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = products(client, feed_id).await;
        if check(&now) || Instant::now() > deadline {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn slate(products: &[Value]) -> Value {
    products
        .iter()
        .find(|p| p["id"] == "prod_trail_mug")
        .map_or(Value::Null, |p| p["variants"][1].clone())
}

/// The catalog shows up whole, then a purchase of the last slate mug shows up as that
/// product's availability, the rest unchanged.
async fn catalog_then_stock_change(w: &World, client: &AcpClient, feed_id: &str) {
    let catalog: Value =
        serde_json::from_str(include_str!("../../../examples/catalog.json")).unwrap();
    let expected = catalog["products"].as_array().unwrap().len();
    let pushed = wait_for(client, feed_id, |p| p.len() == expected).await;
    assert_eq!(pushed.len(), expected, "the whole catalog: {pushed:?}");
    let mut sorted = catalog["products"].as_array().unwrap().clone();
    sorted.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    assert_eq!(
        pushed, sorted,
        "the catalog as written (stock not moved yet)"
    );
    assert_eq!(slate(&pushed)["availability"]["status"], "limited_stock");
    let before = client.feed(feed_id).await.unwrap().value.updated_at;

    // Buy the last slate mug.
    let c = w.client();
    let created = create(&c, &["var_mug_slate"]).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let updated = c
        .post(
            &format!("/checkout_sessions/{id}"),
            &ship_update(&["var_mug_slate"], "ship_standard"),
            &key("u"),
        )
        .await
        .unwrap();
    assert_eq!(
        updated.body["status"], "ready_for_payment",
        "{}",
        updated.body
    );
    let token = delegate(w, &id, wire::total_of(&updated.body), &in_seconds(600)).await;
    let done = c
        .post(
            &format!("/checkout_sessions/{id}/complete"),
            &pay(&token),
            &key("c"),
        )
        .await
        .unwrap();
    assert_eq!(done.body["status"], "completed", "{}", done.body);

    let after = wait_for(client, feed_id, |p| {
        slate(p)["availability"]["status"] == "out_of_stock"
    })
    .await;
    assert_eq!(
        slate(&after)["availability"],
        json!({"available": false, "status": "out_of_stock"}),
        "the partial upsert arrived"
    );
    // Only the mug changed: every other product is as pushed on start (FEED-04).
    for (old, new) in sorted.iter().zip(&after) {
        if old["id"] != "prod_trail_mug" {
            assert_eq!(old, new);
        }
    }
    assert_eq!(
        slate(&after)["price"],
        json!({"amount": 1800, "currency": "USD"})
    );
    let later = client.feed(feed_id).await.unwrap().value.updated_at;
    assert!(later.unwrap().0 > before.unwrap().0, "FEED-10");
}

/// The back office's price change of `variant`: (status, body).
async fn set_price(merchant: &str, variant: &str, body: &Value) -> (u16, Value) {
    let answer = wire::send(
        wire::raw(
            agentic_commerce_client::Method::POST,
            &format!("{merchant}/admin/variants/{variant}/price"),
        )
        .header("authorization", &wire::bearer(config::DEV_ADMIN_KEY))
        .header("content-type", "application/json")
        .body(body.to_string()),
    )
    .await
    .unwrap();
    (answer.status, answer.body)
}

fn guide(products: &[Value]) -> Value {
    products
        .iter()
        .find(|p| p["id"] == "prod_field_guide")
        .map_or(Value::Null, |p| p["variants"][0].clone())
}

/// The unit price of a session's first line.
fn unit(session: &Value) -> Value {
    session["line_items"][0]["unit_amount"].clone()
}

/// The field guide's price goes from 1200 to 1500: the feed shows it for that product only;
/// sessions created or updated afterwards are priced at 1500, and one priced before completes
/// at its stored total (the delegated allowance is that total: charging more would decline).
async fn price_change(w: &World, client: &AcpClient, feed_id: &str) {
    let c = w.client();
    let before_change = create(&c, &["var_guide_epub"]).await.body;
    let to_update = create(&c, &["var_guide_epub"]).await.body;
    assert_eq!(unit(&before_change), 1200, "{before_change}");
    let pushed = products(client, feed_id).await;

    let (status, answer) = set_price(&w.merchant, "var_guide_epub", &json!({"amount": 1500})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({"variant_id": "var_guide_epub", "product_id": "prod_field_guide",
               "price": {"amount": 1500, "currency": "USD"}})
    );

    let after = wait_for(client, feed_id, |p| {
        guide(p)["price"] == json!({"amount": 1500, "currency": "USD"})
    })
    .await;
    assert_eq!(
        guide(&after)["price"],
        json!({"amount": 1500, "currency": "USD"}),
        "the partial upsert of the new price arrived"
    );
    assert_eq!(pushed.len(), after.len());
    // Only the field guide changed, and only its price (FEED-04).
    for (old, new) in pushed.iter().zip(&after) {
        if old["id"] == "prod_field_guide" {
            let mut expected = old.clone();
            expected["variants"][0]["price"] = json!({"amount": 1500, "currency": "USD"});
            assert_eq!(&expected, new);
        } else {
            assert_eq!(old, new);
        }
    }

    // New pricing uses the new price: a new session, and an update of an older one.
    let fresh = create(&c, &["var_guide_epub"]).await.body;
    assert_eq!(unit(&fresh), 1500, "{fresh}");
    let id = to_update["id"].as_str().unwrap();
    let updated = c
        .post(&format!("/checkout_sessions/{id}"), &json!({}), &key("u"))
        .await
        .unwrap();
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(unit(&updated.body), 1500, "an update prices again");
    assert!(wire::total_of(&updated.body) > wire::total_of(&to_update));

    // The session priced before keeps its stored prices, and complete charges its total.
    let id = before_change["id"].as_str().unwrap();
    let stored = wire::total_of(&before_change);
    let token = delegate(w, id, stored, &in_seconds(600)).await;
    let done = c
        .post(
            &format!("/checkout_sessions/{id}/complete"),
            &pay(&token),
            &key("c"),
        )
        .await
        .unwrap();
    assert_eq!(done.body["status"], "completed", "{}", done.body);
    assert_eq!(unit(&done.body), 1200, "{}", done.body);
    assert_eq!(wire::total_of(&done.body), stored, "{}", done.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_01_04_the_merchant_pushes_its_catalog_and_stock_changes_to_the_feed_server() {
    let feed_url = start_feed_server("trailhead_outfitters", None).await;
    let client = feed_client(&feed_url);
    // An existing feed (`--feed-id`): the merchant pushes into it.
    let feed_id = client
        .create_feed(&CreateFeedRequest::new())
        .await
        .unwrap()
        .value
        .id
        .as_str()
        .to_owned();
    let w = world_with_feed(
        feed::FeedTarget {
            url: feed_url.clone(),
            key: FEED_KEY.to_owned(),
            feed_id: Some(feed_id.clone()),
        },
        None,
    )
    .await;
    catalog_then_stock_change(&w, &client, &feed_id).await;
    price_change(&w, &client, &feed_id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_01_on_postgres_the_merchant_creates_its_feed_on_start() {
    let Some(url) = super::postgres::database("feed_01_postgres").await else {
        return;
    };
    let feed_url = start_feed_server("trailhead_outfitters", Some(url.clone())).await;
    let w = world_with_feed(
        feed::FeedTarget {
            url: feed_url.clone(),
            key: FEED_KEY.to_owned(),
            feed_id: None,
        },
        Some(url.clone()),
    )
    .await;
    // The merchant created the feed; its back office names it.
    let deadline = Instant::now() + Duration::from_secs(15);
    let feed_id = loop {
        let shown = wire::send(
            wire::raw(
                agentic_commerce_client::Method::GET,
                &format!("{}/admin/feed", w.merchant),
            )
            .header("authorization", &wire::bearer(config::DEV_ADMIN_KEY)),
        )
        .await
        .unwrap();
        assert_eq!(shown.status, 200, "{}", shown.body);
        if let Some(id) = shown.body["feed_id"].as_str() {
            break id.to_owned();
        }
        assert!(Instant::now() < deadline, "the merchant created no feed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let client = feed_client(&feed_url);
    catalog_then_stock_change(&w, &client, &feed_id).await;
    price_change(&w, &client, &feed_id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_price_change_refuses_bad_amounts_unknown_variants_and_wrong_keys() {
    let w = world_with_feed(
        feed::FeedTarget {
            url: start_feed_server("trailhead_outfitters", None).await,
            key: FEED_KEY.to_owned(),
            feed_id: None,
        },
        None,
    )
    .await;
    for (body, param) in [
        (json!({"amount": 0}), "$.amount"),
        (json!({"amount": -5}), "$.amount"),
        (json!({"amount": 12.5}), "$.amount"),
        (json!({"amount": "1500"}), "$.amount"),
        (json!({}), "$.amount"),
        (json!({"amount": 1_000_000_001_i64}), "$.amount"),
        (json!({"amount": 1500, "currency": "dollars"}), "$.currency"),
        (json!({"amount": 1500, "currency": 840}), "$.currency"),
    ] {
        let (status, answer) = set_price(&w.merchant, "var_mug_pine", &body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["type"], "invalid_request", "{answer}");
        assert_eq!(answer["param"], param, "{body}: {answer}");
    }
    let (status, answer) = set_price(&w.merchant, "var_nope", &json!({"amount": 1500})).await;
    assert_eq!(status, 404, "{answer}");
    let wrong_key = wire::send(
        wire::raw(
            agentic_commerce_client::Method::POST,
            &format!("{}/admin/variants/var_mug_pine/price", w.merchant),
        )
        .header("authorization", &wire::bearer("not-the-admin-key"))
        .body(json!({"amount": 1}).to_string()),
    )
    .await
    .unwrap();
    assert_eq!(wrong_key.status, 401, "{}", wrong_key.body);
    // Nothing refused changed the price.
    let session = create(&w.client(), &["var_mug_pine"]).await.body;
    assert_eq!(unit(&session), 1800, "{session}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_server_that_never_answers_does_not_delay_or_fail_checkout() {
    // Accepts connections (the kernel's backlog) and never answers.
    let blackhole = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let feed_url = format!("http://{}", blackhole.local_addr().unwrap());
    let w = world_with_feed(
        feed::FeedTarget {
            url: feed_url,
            key: FEED_KEY.to_owned(),
            feed_id: Some("feed_somewhere".to_owned()),
        },
        None,
    )
    .await;
    let c = w.client();
    let started = Instant::now();
    let created = create(&c, &["var_guide_epub"]).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let token = delegate(&w, &id, wire::total_of(&created.body), &in_seconds(600)).await;
    let done = c
        .post(
            &format!("/checkout_sessions/{id}/complete"),
            &pay(&token),
            &key("c"),
        )
        .await
        .unwrap();
    assert_eq!(done.body["status"], "completed", "{}", done.body);
    // The outbound timeout is 10 s: a checkout that waited on the push would take that long.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    drop(blackhole);
}
