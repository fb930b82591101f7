//! Session and cart expiry in the merchant engine: `expires_at` set and refreshed, expired
//! sessions read as `expired` and refuse writes, a complete racing the expiry instant never
//! charges an expired session, expired resources are purged, and older versions see an
//! expired session faithfully (CHK-05).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::Ordering;

use agentic_commerce::engine::merchant::{BearerKeys, Identity, MerchantEngine, Silent};
use agentic_commerce::engine::store::{InMemoryStore, ResourceKind};
use agentic_commerce::parse::registry::{self, Body};
use agentic_commerce::primitives::Timestamp;
use agentic_commerce::protocol::headers::Operation;
use agentic_commerce::protocol::version::ApiVersion;
use agentic_commerce::trust::idempotency::IdempotencyPolicy;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use super::{AGENT_KEY, Answer, Call, Engine, Shop, address, complete_body, create_body};

const TTL: Duration = Duration::minutes(30);

fn engine_in(store: InMemoryStore) -> (Arc<Shop>, Engine) {
    let shop = Arc::new(Shop::default());
    let engine = MerchantEngine::builder(
        Arc::clone(&shop),
        store,
        BearerKeys::new().key(AGENT_KEY, Identity::new("agent")),
    )
    .api_base_url("https://shop.example/".parse().unwrap())
    .events(Silent)
    .session_ttl(TTL)
    .cart_ttl(TTL)
    .upgrade_defaults(
        agentic_commerce::protocol::version::convert::UpgradeDefaults::new()
            .currency("usd")
            .capabilities(json!({}))
            .payment_handler("stripe", "card_tokenized", "card", "spt"),
    )
    .build()
    .unwrap();
    (shop, engine)
}

fn expiring_engine() -> (Arc<Shop>, Engine) {
    engine_in(InMemoryStore::default())
}

/// No signature verifier is configured here: requests are sent at arbitrary instants.
async fn send_at(engine: &Engine, call: &Call, at: OffsetDateTime) -> Answer {
    Answer::from(engine.handle_at(&call.parts(), &call.body, at).await)
}

fn t0() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn expires_at(answer: &Answer) -> OffsetDateTime {
    Timestamp::parse(answer.body["expires_at"].as_str().unwrap())
        .unwrap()
        .get()
}

async fn ready_at(engine: &Engine, at: OffsetDateTime) -> (String, OffsetDateTime) {
    let created = send_at(
        engine,
        &Call::post(
            "/checkout_sessions",
            &json!({"currency": "usd", "line_items": [{"id": "item_1"}], "capabilities": {},
                "fulfillment_details": address()}),
        ),
        at,
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["status"], "ready_for_payment");
    (created.id(), expires_at(&created))
}

fn in_version(call: Call, version: &str) -> Call {
    call.header("API-Version", version)
}

#[tokio::test]
async fn expires_at_is_set_on_create_and_refreshed_on_update() {
    let (_, engine) = expiring_engine();
    let start = t0();
    let created = send_at(
        &engine,
        &Call::post("/checkout_sessions", &create_body()),
        start,
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(expires_at(&created), start + TTL);
    let id = created.id();

    let later = start + Duration::minutes(10);
    let update = Call::post(
        &format!("/checkout_sessions/{id}"),
        &json!({"fulfillment_details": address()}),
    );
    let updated = send_at(&engine, &update, later).await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(
        expires_at(&updated),
        later + TTL,
        "an update refreshes expires_at"
    );

    // The refreshed expiry is what counts: alive past the first deadline.
    let read = send_at(
        &engine,
        &Call::get(&format!("/checkout_sessions/{id}")),
        start + TTL,
    )
    .await;
    assert_eq!(read.body["status"], "ready_for_payment", "{}", read.body);
}

#[tokio::test]
async fn an_expired_session_reads_as_expired_and_refuses_update_complete_and_cancel() {
    let (shop, engine) = expiring_engine();
    let (id, deadline) = ready_at(&engine, t0()).await;
    let get = Call::get(&format!("/checkout_sessions/{id}"));

    let before = send_at(&engine, &get, deadline - Duration::nanoseconds(1)).await;
    assert_eq!(before.body["status"], "ready_for_payment");
    // The instant itself is expired (as an allowance is at its expires_at, DP-04).
    let at = send_at(&engine, &get, deadline).await;
    assert_eq!(at.status, 200, "{}", at.body);
    assert_eq!(at.body["status"], "expired");
    assert_eq!(expires_at(&at), deadline);

    let writes = [
        Call::post(
            &format!("/checkout_sessions/{id}"),
            &json!({"fulfillment_details": address()}),
        ),
        Call::post(
            &format!("/checkout_sessions/{id}/complete"),
            &complete_body(),
        ),
        Call::post(&format!("/checkout_sessions/{id}/cancel"), &json!({})),
    ];
    for call in &writes {
        let refused = send_at(&engine, call, deadline + Duration::seconds(1)).await;
        assert_eq!(refused.status, 405, "{}: {}", call.path, refused.body);
        assert_eq!(refused.code(), "expired", "{}", refused.body);
        assert_eq!(refused.body["type"], "invalid_request");
    }
    assert_eq!(shop.charges.load(Ordering::SeqCst), 0, "nothing charged");
    // Expiry is derived, never written: the stored document is the created one.
    let stored = engine
        .store()
        .get(ResourceKind::CheckoutSession, &id)
        .unwrap();
    assert_eq!(stored.version, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn completes_racing_the_expiry_instant_never_charge_an_expired_session() {
    for round in 0..20 {
        let (shop, engine) = expiring_engine();
        let engine = Arc::new(engine);
        let (id, deadline) = ready_at(&engine, t0()).await;
        *shop.complete_delay.lock().unwrap() = std::time::Duration::from_millis(2);
        // Round 0 mod 2: every complete arrives at or after the deadline; otherwise one of them
        // arrives just before it. Retrieves at the deadline race them.
        let early = round % 2 == 1;
        let mut tasks = Vec::new();
        for i in 0..8_i64 {
            let at = if early && i == 3 {
                deadline - Duration::milliseconds(1)
            } else {
                deadline + Duration::milliseconds(i)
            };
            let complete = Call::post(
                &format!("/checkout_sessions/{id}/complete"),
                &complete_body(),
            );
            let get = Call::get(&format!("/checkout_sessions/{id}"));
            let one = Arc::clone(&engine);
            tasks.push(tokio::spawn(async move {
                (true, at, send_at(&one, &complete, at).await)
            }));
            let other = Arc::clone(&engine);
            tasks.push(tokio::spawn(async move {
                (false, deadline, send_at(&other, &get, deadline).await)
            }));
        }
        let mut charged_by = Vec::new();
        for task in tasks {
            let (is_complete, at, answer) = task.await.unwrap();
            if !is_complete {
                // A read at the deadline sees the session expired, or the winner's claim or
                // outcome: never `expired` once an early complete has claimed it.
                assert_eq!(answer.status, 200, "{}", answer.body);
                let status = answer.body["status"].as_str().unwrap();
                if early {
                    assert!(
                        matches!(status, "expired" | "complete_in_progress" | "completed"),
                        "{status}"
                    );
                } else {
                    assert_eq!(status, "expired");
                }
                continue;
            }
            if answer.status == 200 {
                assert!(at < deadline, "a complete at or after the deadline charged");
                charged_by.push(at);
            }
            if answer.status != 200 {
                assert!(
                    matches!(answer.status, 405 | 409 | 422),
                    "{}: {}",
                    answer.status,
                    answer.body
                );
            }
        }
        let charges = shop.charges.load(Ordering::SeqCst);
        if early {
            assert_eq!(charges, 1, "round {round}: the early complete charges once");
            assert_eq!(charged_by, vec![deadline - Duration::milliseconds(1)]);
        } else {
            assert_eq!(
                charges, 0,
                "round {round}: an expired session is never charged"
            );
            assert!(charged_by.is_empty());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_session_being_charged_when_the_deadline_passes_is_not_shown_expired() {
    let (shop, engine) = expiring_engine();
    let engine = Arc::new(engine);
    let (id, deadline) = ready_at(&engine, t0()).await;
    *shop.complete_delay.lock().unwrap() = std::time::Duration::from_secs(1);
    let complete = {
        let engine = Arc::clone(&engine);
        let call = Call::post(
            &format!("/checkout_sessions/{id}/complete"),
            &complete_body(),
        );
        tokio::spawn(async move { send_at(&engine, &call, deadline - Duration::seconds(1)).await })
    };
    crate::common::until(
        "a complete began",
        std::time::Duration::from_secs(10),
        || shop.completes_begun.load(Ordering::SeqCst) > 0,
    )
    .await;
    let get = Call::get(&format!("/checkout_sessions/{id}"));
    // An agent told `expired` here could pay again elsewhere while this charge lands.
    let during = send_at(&engine, &get, deadline + Duration::seconds(1)).await;
    assert_eq!(
        during.body["status"], "complete_in_progress",
        "{}",
        during.body
    );
    let done = complete.await.unwrap();
    assert_eq!(done.status, 200, "{}", done.body);
    let after = send_at(&engine, &get, deadline + Duration::hours(1)).await;
    assert_eq!(after.body["status"], "completed");
    assert_eq!(shop.charges.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn purge_removes_expired_sessions_from_the_in_memory_store() {
    let (_, engine) = expiring_engine();
    let start = t0();
    let create = Call::post("/checkout_sessions", &create_body());
    let abandoned = send_at(&engine, &create, start).await.id();
    let (paid, _) = ready_at(&engine, start).await;
    let complete = Call::post(
        &format!("/checkout_sessions/{paid}/complete"),
        &complete_body(),
    );
    assert_eq!(send_at(&engine, &complete, start).await.status, 200);

    let store = engine.store();
    let retention = Duration::hours(1);
    // Not yet: expired, but within the retention.
    assert_eq!(
        store.purge_expired_resources(start + TTL + retention - Duration::seconds(1), retention),
        0
    );
    let later = start + TTL + retention + Duration::seconds(1);
    assert_eq!(store.purge_expired_resources(later, retention), 1);
    assert!(
        store
            .get(ResourceKind::CheckoutSession, &abandoned)
            .is_none()
    );
    assert!(
        store.get(ResourceKind::CheckoutSession, &paid).is_some(),
        "completed stays"
    );
    assert_eq!(
        store.purge_expired_resources(later, retention),
        0,
        "idempotent"
    );

    let gone = send_at(
        &engine,
        &Call::get(&format!("/checkout_sessions/{abandoned}")),
        later,
    )
    .await;
    assert_eq!(gone.status, 404);
    // A replay of the create within the idempotency retention still replays its answer.
    let replay = send_at(&engine, &create, later).await;
    assert_eq!(replay.status, 201);
    assert_eq!(replay.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(replay.id(), abandoned);
}

#[tokio::test]
async fn a_full_in_memory_store_makes_room_by_dropping_expired_sessions() {
    let store = InMemoryStore::with_max_entries(IdempotencyPolicy::default(), 2);
    let (_, engine) = engine_in(store);
    let start = t0();
    for _ in 0..2 {
        let created = send_at(
            &engine,
            &Call::post("/checkout_sessions", &create_body()),
            start,
        )
        .await;
        assert_eq!(created.status, 201);
    }
    let full = send_at(
        &engine,
        &Call::post("/checkout_sessions", &create_body()),
        start,
    )
    .await;
    assert_eq!(full.status, 503, "bounded: {}", full.body);
    // The idempotency records are bounded too; past their retention they make room as well.
    let later = start + Duration::days(2);
    let room = send_at(
        &engine,
        &Call::post("/checkout_sessions", &create_body()),
        later,
    )
    .await;
    assert_eq!(room.status, 201, "{}", room.body);
    assert_eq!(engine.store().documents(), 1);
}

#[tokio::test]
async fn older_versions_see_an_expired_session_as_their_terminal_status() {
    let (_, engine) = expiring_engine();
    let (id, deadline) = ready_at(&engine, t0()).await;
    let after = deadline + Duration::seconds(1);
    let read = |version: &str| in_version(Call::get(&format!("/checkout_sessions/{id}")), version);
    // CHK-05: 2026-01-30 has `expired` and `expires_at`; 2026-01-16 and 2025-09-29 have
    // neither and show the terminal status they have, `canceled`.
    let cases = [
        ("2026-04-17", "expired", true),
        ("2026-01-30", "expired", true),
        ("2026-01-16", "canceled", false),
        ("2025-09-29", "canceled", false),
    ];
    for (version, status, carries_expiry) in cases {
        let answer = send_at(&engine, &read(version), after).await;
        assert_eq!(answer.status, 200, "{version}: {}", answer.body);
        assert_eq!(answer.body["status"], status, "{version}");
        assert_eq!(answer.header("API-Version"), Some(version));
        let version_id = ApiVersion::RELEASED
            .iter()
            .find(|v| v.as_str() == version)
            .unwrap();
        registry::check_body(
            version_id,
            Operation::RetrieveCheckoutSession,
            Body::Response,
            &answer.body,
            true,
        )
        .unwrap_or_else(|e| panic!("{version}: not a strict {version} session: {e}"));
        let has_expiry = answer.body.get("expires_at").is_some();
        assert_eq!(has_expiry, carries_expiry, "{version}: {}", answer.body);
    }
    let old_update = in_version(
        Call::post(
            &format!("/checkout_sessions/{id}"),
            &json!({"items": [{"id": "item_1", "quantity": 1}]}),
        ),
        "2025-09-29",
    );
    let refused = send_at(&engine, &old_update, after).await;
    assert_eq!(
        (refused.status, refused.code()),
        (405, "expired"),
        "{}",
        refused.body
    );
}

#[tokio::test]
async fn cart_02_06_an_expired_cart_is_404_and_an_update_refreshes_it() {
    let (_, engine) = expiring_engine();
    let start = t0();
    let body = json!({"line_items": [{"id": "item_1"}]});
    let created = send_at(&engine, &Call::post("/carts", &body), start).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(expires_at(&created), start + TTL);
    let id = created.id();
    let put = Call::new(
        http::Method::PUT,
        &format!("/carts/{id}"),
        Some(&body),
        "2026-04-17",
    );
    let later = start + Duration::minutes(20);
    let updated = send_at(&engine, &put, later).await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(expires_at(&updated), later + TTL, "CART-06");
    let get = Call::get(&format!("/carts/{id}"));
    assert_eq!(send_at(&engine, &get, start + TTL).await.status, 200);
    let gone = send_at(&engine, &get, later + TTL).await;
    assert_eq!(gone.status, 404, "CART-02: {}", gone.body);
    let value: Value = gone.body;
    assert_eq!(value["code"], "not_found");
}
