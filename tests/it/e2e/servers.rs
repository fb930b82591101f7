//! End-to-end: the example merchant, PSP vault and agent (`examples/`) run in-process on
//! loopback and talk real HTTP. The happy path asserts every status, the totals, the order and
//! the verified webhook; the rest are protocol errors over the wire.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::time::Duration;

use agentic_commerce::parse;
use agentic_commerce::spec::v2026_04_17::agentic_checkout::{
    CheckoutSession, CheckoutSessionWithOrder, DiscoveryResponse, Error,
};
use agentic_commerce::spec::v2026_04_17::agentic_checkout_webhook::WebhookEvent;
use agentic_commerce::trust::webhook::{self, WebhookSecret};
use serde_json::{Value, json};

use crate::ex;
use crate::harness;

use crate::wire::{self, Exchange};
use harness::{World, create, delegate, in_seconds, key, pay, ship_update, world};

fn no_latency() -> Duration {
    Duration::ZERO
}

fn total(session: &Value, kind: &str) -> i64 {
    session["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == kind)
        .map_or(0, |t| t["amount"].as_i64().unwrap())
}

fn assert_error(exchange: &Exchange, status: u16, code: &str) {
    assert_eq!(exchange.status, status, "{}", exchange.body);
    assert_eq!(
        exchange.body["type"], "invalid_request",
        "{}",
        exchange.body
    );
    assert_eq!(exchange.body["code"], code, "{}", exchange.body);
    // Every protocol error is a schema-valid ACP `Error` (CHK-09 for `param`).
    parse::from_value_strict::<Error>(&exchange.body).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chk_01_10_11_wh_01_full_purchase_statuses_totals_order_and_verified_webhook() {
    let mut w = world(None, no_latency()).await;
    let mut log = Vec::new();
    let items = ["var_mug_pine", "var_mug_pine", "var_guide_epub"];
    let config = w.purchase(&items, Some("WELCOME10"));
    let purchase = ex::client_agent::run_purchase(&config, &mut |line| log.push(line))
        .await
        .unwrap();
    assert_eq!(
        purchase.statuses,
        ["incomplete", "ready_for_payment", "completed"],
        "{log:#?}"
    );

    // Create (the agent's request): 201, a schema-valid session (CHK-04), two mugs grouped
    // into one line.
    let c = w.client();
    let create_key = key("create");
    let body = harness::create_body(&items);
    let created = c
        .post("/checkout_sessions", &body, &create_key)
        .await
        .unwrap();
    assert_eq!(created.status, 201);
    parse::from_value_strict::<CheckoutSession>(&created.body).unwrap();
    assert_eq!(created.body["line_items"][0]["quantity"], 2);
    assert_eq!(created.body["line_items"][0]["unit_amount"], 1800);
    // The intersection of the agent's and the merchant's interventions.
    assert_eq!(
        created.body["capabilities"]["interventions"]["supported"],
        json!(["3ds"])
    );

    // IDEM-08/09: the retried create is the same response, marked as a replay.
    let replayed = c
        .post("/checkout_sessions", &body, &create_key)
        .await
        .unwrap();
    assert_eq!(replayed.status, 201);
    assert_eq!(replayed.raw, created.raw);
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    assert_eq!(created.header("idempotent-replayed"), None);

    // Totals in integer minor units: 2 × 1800 + 1200 = 4800, WELCOME10 takes 480,
    // tax 8.25 % per line (3240 → 267, 1080 → 89), standard shipping 500.
    let done = &purchase.completed;
    parse::from_value_strict::<CheckoutSessionWithOrder>(done).unwrap();
    assert_eq!(total(done, "items_base_amount"), 4800);
    assert_eq!(total(done, "discount"), 480);
    assert_eq!(total(done, "subtotal"), 4320);
    assert_eq!(total(done, "tax"), 356);
    assert_eq!(total(done, "fulfillment"), 500);
    assert_eq!(total(done, "total"), 5176);
    assert_eq!(done["status"], "completed");
    let session_id = done["id"].as_str().unwrap();
    let order = &done["order"];
    assert!(order["id"].as_str().unwrap().starts_with("ord_"));
    assert_eq!(order["checkout_session_id"], session_id);
    assert!(
        order["permalink_url"]
            .as_str()
            .unwrap()
            .starts_with(&w.merchant)
    );
    assert!(
        log.iter().any(|l| l.contains("vault issued vt_")),
        "{log:#?}"
    );

    // Retrieve shows the same completed session.
    let fetched = w
        .client()
        .get(&format!("/checkout_sessions/{session_id}"))
        .await
        .unwrap();
    assert_eq!(fetched.status, 200);
    assert!(
        fetched
            .header("request-id")
            .is_some_and(|r| r.starts_with("req_")),
        "HDR-04"
    );
    assert_eq!(fetched.body, *done);

    // WH-01, WH-06, WH-07: the order webhook arrives signed, verified and typed.
    let hook = wire::next_webhook(&mut w.hooks, Duration::from_secs(10))
        .await
        .unwrap();
    let event = hook.event.as_ref().unwrap();
    assert_eq!(event.kind, "order_create");
    assert_eq!(event.data.id, order["id"].as_str().unwrap());
    assert_eq!(event.data.checkout_session_id.as_str(), session_id);
    assert_eq!(event.data.status, "created");
    assert_eq!(hook.raw["data"]["type"], "order");
    parse::from_value_strict::<WebhookEvent>(&hook.raw).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chk_12_13_15_three_ds_required_then_completed_with_authentication_result() {
    let w = world(None, no_latency()).await;
    let c = w.client();
    let created = create(&c, &["var_tent_2p"]).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let updated = c
        .post(
            &format!("/checkout_sessions/{id}"),
            &ship_update(&["var_tent_2p"], "ship_express"),
            &key("u"),
        )
        .await
        .unwrap();
    assert_eq!(updated.status, 200, "{}", updated.body);
    // 64900 + 8.25 % tax + 1500 express ≥ the 3DS threshold, and the agent supports 3ds.
    assert_eq!(updated.body["status"], "authentication_required");
    assert!(
        updated.body["authentication_metadata"].is_object(),
        "CHK-13"
    );
    parse::from_value_strict::<CheckoutSession>(&updated.body).unwrap();
    let amount = wire::total_of(&updated.body);
    assert_eq!(amount, 64900 + 5354 + 1500);

    let token = delegate(&w, &id, amount, &in_seconds(600)).await;
    let path = format!("/checkout_sessions/{id}/complete");
    let refused = c.post(&path, &pay(&token), &key("c1")).await.unwrap();
    assert_error(&refused, 400, "requires_3ds");
    assert_eq!(refused.body["param"], "$.authentication_result");

    // CHK-14: a real delegate_authentication session at the vault, which the merchant checks.
    let (session, result) = harness::three_ds(&w, &updated.body).await;
    let mut body = pay(&token);
    body["payment_data"]["instrument"]["credential"]["authentication_session_id"] = json!(session);
    body["authentication_result"] = result;
    let done = c.post(&path, &body, &key("c2")).await.unwrap();
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.body["status"], "completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chk_24_three_ds_without_agent_support_escalates() {
    let w = world(None, no_latency()).await;
    let c = w.client();
    let mut body = harness::create_body(&["var_tent_2p"]);
    body["capabilities"] = json!({});
    let created = c
        .post("/checkout_sessions", &body, &key("c"))
        .await
        .unwrap();
    assert_eq!(
        created.body["capabilities"]["interventions"]["supported"],
        json!([])
    );
    let id = created.body["id"].as_str().unwrap();
    let updated = c
        .post(
            &format!("/checkout_sessions/{id}"),
            &ship_update(&["var_tent_2p"], "ship_standard"),
            &key("u"),
        )
        .await
        .unwrap();
    assert_eq!(updated.body["status"], "requires_escalation");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idem_04_missing_idempotency_key_is_400() {
    let w = world(None, no_latency()).await;
    let c = w.client();
    let body = harness::create_body(&["var_mug_pine"]).to_string();
    let request = c
        .request(agentic_commerce_client::Method::POST, "/checkout_sessions")
        .header("content-type", "application/json")
        .body(body);
    let answer = wire::send(request).await.unwrap();
    assert_error(&answer, 400, "idempotency_key_required");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idem_08_09_replay_is_byte_identical_with_replayed_header_and_no_second_session() {
    let w = world(None, no_latency()).await;
    let c = w.client();
    let body = harness::create_body(&["var_mug_slate"]); // stock 1
    let k = key("replay");
    let first = c.post("/checkout_sessions", &body, &k).await.unwrap();
    // Key order and whitespace do not matter (IDEM-05): send the same JSON re-serialized.
    let reordered: Value =
        serde_json::from_str(&serde_json::to_string_pretty(&body).unwrap()).unwrap();
    let second = c.post("/checkout_sessions", &reordered, &k).await.unwrap();
    assert_eq!(first.status, 201);
    assert_eq!(second.status, 201);
    assert_eq!(second.raw, first.raw);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(second.header("idempotency-key"), Some(k.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idem_11_same_key_different_body_is_422() {
    let w = world(None, no_latency()).await;
    let c = w.client();
    let k = key("conflict");
    let first = c
        .post(
            "/checkout_sessions",
            &harness::create_body(&["var_mug_pine"]),
            &k,
        )
        .await
        .unwrap();
    assert_eq!(first.status, 201);
    let other = c
        .post(
            "/checkout_sessions",
            &harness::create_body(&["var_guide_epub"]),
            &k,
        )
        .await
        .unwrap();
    assert_error(&other, 422, "idempotency_conflict");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idem_12_same_key_concurrently_runs_once_and_the_other_gets_409() {
    let w = world(None, Duration::from_millis(400)).await;
    let (first_client, second_client) = (w.client(), w.client());
    let body = harness::create_body(&["var_mug_pine"]);
    let race_key = key("race");
    let (left, right) = tokio::join!(
        first_client.post("/checkout_sessions", &body, &race_key),
        second_client.post("/checkout_sessions", &body, &race_key)
    );
    let (left, right) = (left.unwrap(), right.unwrap());
    let mut statuses = [left.status, right.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{} / {}", left.body, right.body);
    let (winner, loser) = if left.status == 201 {
        (&left, &right)
    } else {
        (&right, &left)
    };
    assert_eq!(loser.body["code"], "idempotency_in_flight");
    assert_eq!(loser.header("retry-after"), Some("1"));
    // After the first finished, the retry is a replay of the one execution.
    let retry = first_client
        .post("/checkout_sessions", &body, &race_key)
        .await
        .unwrap();
    assert_eq!(retry.raw, winner.raw);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ver_01_03_05_missing_or_unsupported_api_version_is_400_with_supported_versions() {
    let w = world(None, no_latency()).await;
    let url = format!("{}/checkout_sessions/cs_x", w.merchant);
    let get = || {
        wire::raw(agentic_commerce_client::Method::GET, &url)
            .header("authorization", &wire::bearer(ex::config::DEV_API_KEY))
    };
    let missing = wire::send(get()).await.unwrap();
    assert_error(&missing, 400, "missing_api_version");
    // VER-05: every released version, newest first.
    let all = json!([
        "2026-04-17",
        "2026-01-30",
        "2026-01-16",
        "2025-12-12",
        "2025-09-29"
    ]);
    assert_eq!(missing.body["supported_versions"], all);
    let unsupported = wire::send(get().header("api-version", "2025-01-01"))
        .await
        .unwrap();
    assert_error(&unsupported, 400, "unsupported_api_version");
    assert_eq!(unsupported.body["supported_versions"], all);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sig_04_bad_or_missing_signature_is_401() {
    let w = world(None, no_latency()).await;
    let body = harness::create_body(&["var_mug_pine"]);
    // Signed with another secret.
    let wrong = wire::AcpClient::new(
        &w.merchant,
        ex::config::DEV_API_KEY,
        Some(b"not-the-secret-0123"),
    )
    .unwrap();
    let answer = wrong
        .post("/checkout_sessions", &body, &key("sig"))
        .await
        .unwrap();
    assert_error(&answer, 401, "invalid_signature");
    // Not signed at all.
    let unsigned = wire::AcpClient::new(&w.merchant, ex::config::DEV_API_KEY, None).unwrap();
    let answer = unsigned
        .post("/checkout_sessions", &body, &key("sig"))
        .await
        .unwrap();
    assert_error(&answer, 401, "invalid_signature");
    // A wrong API key.
    let stranger =
        wire::AcpClient::new(&w.merchant, "wrong-key", Some(harness::SIGNING_SECRET)).unwrap();
    let answer = stranger
        .post("/checkout_sessions", &body, &key("sig"))
        .await
        .unwrap();
    assert_error(&answer, 401, "unauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chk_16_17_cancel_open_session_then_cancel_after_complete_is_405() {
    let w = world(None, no_latency()).await;
    let c = w.client();
    let open = create(&c, &["var_guide_epub"]).await;
    let id = open.body["id"].as_str().unwrap();
    let intent = json!({"intent_trace": {"reason_code": "price_sensitivity", "trace_summary": "too expensive"}});
    let canceled = c
        .post(
            &format!("/checkout_sessions/{id}/cancel"),
            &intent,
            &key("x"),
        )
        .await
        .unwrap();
    assert_eq!(canceled.status, 200, "{}", canceled.body);
    assert_eq!(canceled.body["status"], "canceled");

    let purchase =
        ex::client_agent::run_purchase(&w.purchase(&["var_guide_epub"], None), &mut |_| {})
            .await
            .unwrap();
    let id = purchase.completed["id"].as_str().unwrap();
    let again = c
        .post(
            &format!("/checkout_sessions/{id}/cancel"),
            &json!({}),
            &key("x"),
        )
        .await
        .unwrap();
    assert_error(&again, 405, "method_not_allowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chk_18_unknown_session_is_404() {
    let w = world(None, no_latency()).await;
    let c = w.client();
    assert_error(
        &c.get("/checkout_sessions/cs_nope").await.unwrap(),
        404,
        "not_found",
    );
    let update = c
        .post(
            "/checkout_sessions/cs_nope",
            &json!({"coupons": []}),
            &key("u"),
        )
        .await
        .unwrap();
    assert_error(&update, 404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chk_09_malformed_json_and_bad_fields_are_400_with_a_jsonpath_param() {
    let w = world(None, no_latency()).await;
    let c = w.client();
    let request = c
        .request(agentic_commerce_client::Method::POST, "/checkout_sessions")
        .header("content-type", "application/json")
        .header("idempotency-key", &key("bad"))
        .body("{\"currency\": \"usd\", ");
    let answer = wire::send(request).await.unwrap();
    assert_error(&answer, 400, "invalid_json");
    assert_eq!(answer.body["param"], "$");

    let mut body = harness::create_body(&["var_mug_pine"]);
    body["line_items"][0]["id"] = json!(42);
    let answer = c
        .post("/checkout_sessions", &body, &key("bad"))
        .await
        .unwrap();
    assert_error(&answer, 400, "invalid_type");
    assert_eq!(answer.body["param"], "$.line_items[0].id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chk_06_unknown_fulfillment_option_is_400_with_param() {
    let w = world(None, no_latency()).await;
    let c = w.client();
    let created = create(&c, &["var_mug_pine"]).await;
    let id = created.body["id"].as_str().unwrap();
    let answer = c
        .post(
            &format!("/checkout_sessions/{id}"),
            &ship_update(&["var_mug_pine"], "ship_by_zeppelin"),
            &key("u"),
        )
        .await
        .unwrap();
    assert_error(&answer, 400, "invalid_value");
    assert_eq!(
        answer.body["param"],
        "$.selected_fulfillment_options[0].option_id"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chk_19_out_of_stock_is_a_message_on_a_200_session() {
    let w = world(None, no_latency()).await;
    let created = create(&w.client(), &["var_headlamp"]).await;
    assert_eq!(created.body["status"], "not_ready_for_payment");
    assert_eq!(created.body["messages"][0]["code"], "out_of_stock");
    assert_eq!(created.body["messages"][0]["param"], "$.line_items[0]");
}

/// Creates a ready session for one digital item and returns (id, total).
async fn ready_session(w: &World) -> (String, i64) {
    let created = create(&w.client(), &["var_guide_epub"]).await;
    assert_eq!(
        created.body["status"], "ready_for_payment",
        "{}",
        created.body
    );
    (
        created.body["id"].as_str().unwrap().to_owned(),
        wire::total_of(&created.body),
    )
}

async fn charge(w: &World, token: &str, amount: i64, session: &str) -> Exchange {
    charge_as(
        &w.vault,
        ex::vault::DEV_MERCHANT_KEY,
        token,
        amount,
        session,
        &key("ch"),
    )
    .await
}

/// A `/charges` call with a merchant's `api_key` and an `Idempotency-Key`. The body names a
/// merchant too, which the vault must ignore (DP-10: the key decides).
async fn charge_as(
    vault: &str,
    api_key: &str,
    token: &str,
    amount: i64,
    session: &str,
    idempotency_key: &str,
) -> Exchange {
    let body = json!({"token": token, "amount": amount, "currency": "usd",
        "checkout_session_id": session, "merchant_id": "trailhead_outfitters"});
    let request = wire::raw(
        agentic_commerce_client::Method::POST,
        &format!("{vault}/charges"),
    )
    .header("authorization", &wire::bearer(api_key))
    .idempotency_key(idempotency_key)
    .body(body.to_string());
    wire::send(request).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dp_03_11_token_over_amount_reused_or_for_another_session_is_rejected() {
    let w = world(None, no_latency()).await;
    let (id, amount) = ready_session(&w).await;
    let token = delegate(&w, &id, amount, &in_seconds(600)).await;
    let over = charge(&w, &token, amount + 1, &id).await;
    assert_eq!(over.status, 402, "{}", over.body);
    assert_eq!(over.body["code"], "amount_exceeded");
    let other = charge(&w, &token, amount, "cs_other").await;
    assert_eq!(other.body["code"], "session_mismatch", "{}", other.body);
    // A failed allowance check does not use the token up: the right charge still works.
    assert_eq!(charge(&w, &token, amount, &id).await.status, 201);
    let reused = charge(&w, &token, amount, &id).await;
    assert_eq!(reused.status, 402);
    assert_eq!(reused.body["code"], "already_used");

    // Through the merchant: paying a second session with the used token is declined on a 200
    // session (CHK-19) that stays payable.
    let (second, _) = ready_session(&w).await;
    let declined = w
        .client()
        .post(
            &format!("/checkout_sessions/{second}/complete"),
            &pay(&token),
            &key("c"),
        )
        .await
        .unwrap();
    assert_eq!(declined.status, 200, "{}", declined.body);
    assert_eq!(declined.body["status"], "ready_for_payment");
    assert_eq!(declined.body["messages"][0]["code"], "payment_declined");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dp_04_expired_token_is_rejected() {
    let w = world(None, no_latency()).await;
    let (id, amount) = ready_session(&w).await;
    // Already expired at issue time: the vault refuses to mint it.
    let body = wire::delegate_request(
        "4242424242424242",
        amount,
        &id,
        "trailhead_outfitters",
        &in_seconds(-1),
    );
    let refused = w
        .vault_client()
        .post("/agentic_commerce/delegate_payment", &body, &key("dp"))
        .await
        .unwrap();
    assert_error(&refused, 400, "invalid_card");
    assert_eq!(refused.body["param"], "$.allowance.expires_at");
    // Expires between issue and charge.
    let token = delegate(&w, &id, amount, &in_seconds(1)).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let late = charge(&w, &token, amount, &id).await;
    assert_eq!(late.status, 402, "{}", late.body);
    assert_eq!(late.body["code"], "expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dp_invalid_card_and_unsigned_delegate_payment_are_rejected() {
    let w = world(None, no_latency()).await;
    let body = wire::delegate_request(
        "4242424242424241",
        100,
        "cs_1",
        "trailhead_outfitters",
        &in_seconds(60),
    );
    let bad = w
        .vault_client()
        .post("/agentic_commerce/delegate_payment", &body, &key("dp"))
        .await
        .unwrap();
    assert_error(&bad, 400, "invalid_card");
    assert_eq!(bad.body["param"], "$.payment_method.number");
    // SIG-01: delegate_payment must be signed.
    let unsigned = wire::AcpClient::new(&w.vault, ex::vault::DEV_AGENT_KEY, None).unwrap();
    let answer = unsigned
        .post("/agentic_commerce/delegate_payment", &body, &key("dp"))
        .await
        .unwrap();
    assert_error(&answer, 401, "invalid_signature");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wh_05_receiver_rejects_a_bad_merchant_signature() {
    let w = world(None, no_latency()).await;
    let body = br#"{"type":"order_create","data":{"type":"order","id":"ord_1","checkout_session_id":"cs_1","permalink_url":"https://x.example/o/1","status":"created"}}"#;
    let now = time::OffsetDateTime::now_utc();
    let forged = webhook::sign(
        &WebhookSecret::new(b"guess_0123456789ab".to_vec()).unwrap(),
        now,
        body,
    )
    .unwrap();
    let post = || wire::raw(agentic_commerce_client::Method::POST, &w.hook_url);
    let answer = wire::send(
        post()
            .header("merchant-signature", &forged)
            .body(body.to_vec()),
    )
    .await
    .unwrap();
    assert_error(&answer, 401, "invalid_signature");
    let good = webhook::sign(
        &WebhookSecret::new(harness::WEBHOOK_SECRET.to_vec()).unwrap(),
        now,
        body,
    )
    .unwrap();
    let answer = wire::send(
        post()
            .header("merchant-signature", &good)
            .body(body.to_vec()),
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, json!({"received": true}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_document_is_served() {
    let w = world(None, no_latency()).await;
    let doc = wire::send(wire::raw(
        agentic_commerce_client::Method::GET,
        &format!("{}/.well-known/acp.json", w.merchant),
    ))
    .await
    .unwrap();
    assert_eq!(doc.status, 200);
    // Oldest first in discovery (unlike Error.supported_versions).
    assert_eq!(
        doc.body["protocol"]["supported_versions"],
        json!([
            "2025-09-29",
            "2025-12-12",
            "2026-01-16",
            "2026-01-30",
            "2026-04-17"
        ])
    );
    // The engine's discovery builder writes the base URL as a URL (a trailing `/` on a bare
    // host).
    assert_eq!(doc.body["api_base_url"], format!("{}/", w.merchant));
    parse::from_value_strict::<DiscoveryResponse>(&doc.body).unwrap();
}

/// Issue 12 item 9: sixteen concurrent completes of one session with distinct idempotency keys
/// (and tokens) charge exactly once; the losers get an ACP error and never overwrite the
/// completed session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chk_10_concurrent_completes_with_distinct_keys_charge_exactly_once() {
    let mut w = world(None, no_latency()).await;
    let merchants = [w.merchant.clone()];
    harness::exactly_one_of_concurrent_completes_charges(&mut w, &merchants).await;
}

// ---------------------------------------------------------------------------------------------
// Issue 12: money safety where the parts meet.

/// A vault that knows the example merchant and a second one, `other_shop`.
async fn two_merchant_world() -> (World, String) {
    let mut w = world(None, no_latency()).await;
    let vault = harness::start_vault_with(ex::vault::VaultConfig {
        signing_secret: harness::VAULT_SIGNING_SECRET.to_vec(),
        merchant_keys: vec![
            (
                ex::vault::DEV_MERCHANT_ID.to_owned(),
                ex::vault::DEV_MERCHANT_KEY.to_owned(),
            ),
            ("other_shop".to_owned(), "other-shop-key".to_owned()),
        ],
        ..ex::vault::VaultConfig::default()
    })
    .await;
    w.vault.clone_from(&vault);
    (w, vault)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dp_10_a_charge_runs_for_the_merchant_of_the_key_whatever_the_body_says() {
    let (w, vault) = two_merchant_world().await;
    let (id, amount) = ready_session(&w).await;
    // Bound to trailhead_outfitters.
    let token = delegate(&w, &id, amount, &in_seconds(600)).await;
    // other_shop's key, with a body claiming trailhead_outfitters: refused, not consumed.
    let stolen = charge_as(&vault, "other-shop-key", &token, amount, &id, &key("ch")).await;
    assert_eq!(stolen.status, 402, "{}", stolen.body);
    assert_eq!(stolen.body["code"], "merchant_mismatch", "{}", stolen.body);
    assert!(
        !stolen
            .raw
            .windows(b"trailhead".len())
            .any(|w| w == b"trailhead"),
        "the refusal does not name the token's merchant: {}",
        stolen.body
    );
    // No key, or a key the vault does not know: 401.
    let unknown = charge_as(
        &vault,
        "not-a-merchant-key",
        &token,
        amount,
        &id,
        &key("ch"),
    )
    .await;
    assert_error(&unknown, 401, "unauthorized");
    // The owner's key still charges it once.
    let owner = charge_as(
        &vault,
        ex::vault::DEV_MERCHANT_KEY,
        &token,
        amount,
        &id,
        &key("ch"),
    )
    .await;
    assert_eq!(owner.status, 201, "{}", owner.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idem_03_08_11_charges_are_idempotent_per_merchant() {
    let (w, vault) = two_merchant_world().await;
    let (id, amount) = ready_session(&w).await;
    let token = delegate(&w, &id, amount, &in_seconds(600)).await;
    let k = key("ch");
    let first = charge_as(&vault, ex::vault::DEV_MERCHANT_KEY, &token, amount, &id, &k).await;
    assert_eq!(first.status, 201, "{}", first.body);
    // IDEM-08/09: a retry gets the same charge, not a DP-11 refusal and not a second charge.
    let retry = charge_as(&vault, ex::vault::DEV_MERCHANT_KEY, &token, amount, &id, &k).await;
    assert_eq!(retry.status, 201, "{}", retry.body);
    assert_eq!(retry.raw, first.raw);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    // IDEM-11: same key, another body.
    let conflict = charge_as(
        &vault,
        ex::vault::DEV_MERCHANT_KEY,
        &token,
        amount - 1,
        &id,
        &k,
    )
    .await;
    assert_error(&conflict, 422, "idempotency_conflict");
    // IDEM-03: the same key from another merchant is that merchant's own request (here refused
    // on the allowance), never the first merchant's replay.
    let other = charge_as(&vault, "other-shop-key", &token, amount, &id, &k).await;
    assert_eq!(other.status, 402, "{}", other.body);
    assert_eq!(other.header("idempotent-replayed"), None);
    // IDEM-04: no key, no charge.
    let body =
        json!({"token": token, "amount": amount, "currency": "usd", "checkout_session_id": id});
    let keyless = wire::send(
        wire::raw(
            agentic_commerce_client::Method::POST,
            &format!("{vault}/charges"),
        )
        .header("authorization", &wire::bearer(ex::vault::DEV_MERCHANT_KEY))
        .body(body.to_string()),
    )
    .await
    .unwrap();
    assert_error(&keyless, 400, "idempotency_key_required");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dp_11_sixteen_concurrent_charges_of_one_token_exactly_one_succeeds() {
    let w = world(None, no_latency()).await;
    let (id, amount) = ready_session(&w).await;
    let token = delegate(&w, &id, amount, &in_seconds(600)).await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(16));
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (vault, token, id, barrier) =
                (w.vault.clone(), token.clone(), id.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                charge_as(
                    &vault,
                    ex::vault::DEV_MERCHANT_KEY,
                    &token,
                    amount,
                    &id,
                    &key("ch"),
                )
                .await
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        let answer = task.await.unwrap();
        if answer.status != 201 {
            assert_eq!(answer.body["code"], "already_used", "{}", answer.body);
        }
        statuses.push(answer.status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 402).count(),
        15,
        "{statuses:?}"
    );
}

/// A PSP that accepts connections and never answers.
async fn silent_psp() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{addr}")
}

/// A proxy to `upstream` that, for the first request naming `path`, lets the request through,
/// waits for the first byte of the answer (the upstream has processed it) and then drops both
/// connections: the answer is lost. Every other connection is relayed as is. Returns its URL
/// and how many requests naming `path` it saw.
async fn losing_proxy(
    upstream: &str,
    path: &'static str,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let upstream = upstream.trim_start_matches("http://").to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = std::sync::Arc::new(AtomicUsize::new(0));
    let count = std::sync::Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let (upstream, count) = (upstream.clone(), std::sync::Arc::clone(&count));
            tokio::spawn(async move {
                let mut server = tokio::net::TcpStream::connect(&upstream).await.unwrap();
                let mut first = vec![0_u8; 64 * 1024];
                let n = client.read(&mut first).await.unwrap_or(0);
                server.write_all(&first[..n]).await.unwrap();
                let head = String::from_utf8_lossy(&first[..n]).into_owned();
                if head.contains(path) && count.fetch_add(1, Ordering::SeqCst) == 0 {
                    let mut byte = [0_u8; 1];
                    let _ = server.read(&mut byte).await;
                    return; // both connections dropped, the answer lost
                }
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            });
        }
    });
    (format!("http://{addr}"), seen)
}

/// The merchant's charge is retried with the same `Idempotency-Key` when the PSP's answer is
/// lost (IDEM-08): the vault answers the retry with the first charge's outcome, so the
/// purchase completes and the single-use token is charged exactly once (DP-11).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charge_whose_answer_is_lost_is_retried_once_with_its_key_and_charged_once() {
    let w = world(None, no_latency()).await;
    let (proxy, charges) = losing_proxy(&w.vault, "POST /charges").await;
    let merchant = harness::start_merchant(harness::merchant_config(
        &proxy,
        &w.hook_url,
        None,
        no_latency(),
    ))
    .await;
    let c = harness::client(&merchant);
    let created = create(&c, &["var_guide_epub"]).await;
    let id = created.body["id"].as_str().unwrap();
    let amount = wire::total_of(&created.body);
    let token = delegate(&w, id, amount, &in_seconds(600)).await;
    let path = format!("/checkout_sessions/{id}/complete");
    let done = c.post(&path, &pay(&token), &key("c")).await.unwrap();
    assert_eq!(
        charges.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "the charge whose answer was lost, and its retry"
    );
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.body["status"], "completed", "{}", done.body);
    // Charged (the retry with another key would have been refused as `already_used`, and the
    // session declined): the token is spent.
    assert!(!harness::token_unused(&w, &token, id, amount).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_psp_that_never_answers_gets_an_acp_error_within_the_timeout() {
    let psp = silent_psp().await;
    let w = world(None, no_latency()).await;
    let merchant = harness::start_merchant(ex::config::Config {
        psp_timeout: Duration::from_millis(500),
        ..harness::merchant_config(&psp, &w.hook_url, None, no_latency())
    })
    .await;
    let c = harness::client(&merchant);
    let created = create(&c, &["var_guide_epub"]).await;
    let id = created.body["id"].as_str().unwrap();
    let started = std::time::Instant::now();
    let done = tokio::time::timeout(
        Duration::from_secs(10),
        c.post(
            &format!("/checkout_sessions/{id}/complete"),
            &pay("vt_x"),
            &key("c"),
        ),
    )
    .await
    .expect("the merchant answers instead of hanging")
    .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(done.status, 503, "{}", done.body);
    assert_eq!(done.body["type"], "service_unavailable", "{}", done.body);
    // Issue 12 item 14: the PSP's address stays in the merchant's log.
    let port = psp.rsplit(':').next().unwrap();
    assert!(
        !String::from_utf8_lossy(&done.raw).contains(port),
        "{}",
        done.body
    );
    // The default is below the idempotency lease.
    let lease = agentic_commerce::trust::idempotency::IdempotencyPolicy::DEFAULT_IN_FLIGHT_LEASE;
    assert!(time::Duration::try_from(ex::config::DEFAULT_OUTBOUND_TIMEOUT).unwrap() < lease);
    assert!(time::Duration::try_from(wire::REQUEST_TIMEOUT).unwrap() < lease);
}

/// An HTTP server whose answer is `head` then, when `endless`, 64 KiB chunks forever.
async fn oversized_server(content_length: bool) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0_u8; 4096];
                let _ = socket.read(&mut buf).await;
                let chunk = vec![b' '; 64 * 1024];
                if content_length {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        agentic_commerce_client::DEFAULT_MAX_RESPONSE_BYTES + 1
                    );
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(&chunk).await;
                    return;
                }
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                // Endless: only the reader's limit ends this.
                loop {
                    let frame = format!("{:x}\r\n", chunk.len());
                    if socket.write_all(frame.as_bytes()).await.is_err()
                        || socket.write_all(&chunk).await.is_err()
                        || socket.write_all(b"\r\n").await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_refuses_an_oversized_merchant_response() {
    for content_length in [true, false] {
        let merchant = oversized_server(content_length).await;
        let refused = tokio::time::timeout(
            Duration::from_secs(20),
            harness::client(&merchant).get("/checkout_sessions/cs_1"),
        )
        .await
        .expect("the agent stops reading");
        assert!(
            refused.as_ref().is_err_and(|e| e.contains("larger than")),
            "content-length {content_length}: {:?}",
            refused.map(|e| e.status)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sig_04_a_body_less_cancel_must_be_signed_when_signatures_are_required() {
    let w = world(None, no_latency()).await;
    let c = w.client();
    let open = create(&c, &["var_guide_epub"]).await;
    let id = open.body["id"].as_str().unwrap();
    let path = format!("/checkout_sessions/{id}/cancel");
    // No body, no signature: refused, the session stays open.
    let unsigned = wire::AcpClient::new(&w.merchant, ex::config::DEV_API_KEY, None).unwrap();
    let refused = unsigned.post_empty(&path, &key("x")).await.unwrap();
    assert_error(&refused, 401, "invalid_signature");
    // Signed with another secret: refused too.
    let wrong = wire::AcpClient::new(
        &w.merchant,
        ex::config::DEV_API_KEY,
        Some(b"not-the-merchant-secret"),
    )
    .unwrap();
    let refused = wrong.post_empty(&path, &key("x")).await.unwrap();
    assert_error(&refused, 401, "invalid_signature");
    let still = c.get(&format!("/checkout_sessions/{id}")).await.unwrap();
    assert_eq!(still.body["status"], "ready_for_payment", "{}", still.body);
    // Signed over the empty content with its timestamp: canceled.
    let canceled = c.post_empty(&path, &key("x")).await.unwrap();
    assert_eq!(canceled.status, 200, "{}", canceled.body);
    assert_eq!(canceled.body["status"], "canceled");
}

#[test]
fn every_config_debug_redacts_its_keys() {
    let secret = "s3cr3t-do-not-print";
    let merchant = ex::config::Config {
        api_key: format!("{secret}-api"),
        webhook_secret: format!("{secret}-hook").into_bytes(),
        signing_secret: Some(format!("{secret}-sign").into_bytes()),
        psp_api_key: format!("{secret}-psp"),
        database_url: Some(format!("postgres://u:{secret}@db/acp")),
        ..ex::config::Config::default()
    };
    let vault = ex::vault::VaultConfig {
        agent_api_key: format!("{secret}-agent"),
        merchant_keys: vec![("shop".to_owned(), format!("{secret}-merchant"))],
        signing_secret: format!("{secret}-sign").into_bytes(),
        database_url: Some(format!("postgres://u:{secret}@db/acp")),
        ..ex::vault::VaultConfig::default()
    };
    // The example agent's `PurchaseConfig` has no `Debug` at all (it cannot be printed).
    for debug in [
        format!("{merchant:?}"),
        format!("{merchant:#?}"),
        format!("{vault:?}"),
    ] {
        assert!(!debug.contains(secret), "{debug}");
        // The bytes of a Vec<u8> secret are not printed as numbers either.
        assert!(!debug.contains("115, 51"), "{debug}");
        assert!(debug.contains("[REDACTED]"), "{debug}");
    }
    assert!(
        format!("{vault:?}").contains("shop"),
        "merchant ids are not secret"
    );
}

#[test]
fn a_5xx_body_names_a_request_id_never_the_detail() {
    let detail = "db error: password authentication failed for postgres://acp:hunter2@10.0.0.5/acp";
    let reply = ex::http::Reply::internal(detail);
    assert_eq!(reply.status, 500);
    let body = reply.body.to_string();
    assert!(
        !body.contains("hunter2") && !body.contains("10.0.0.5"),
        "{body}"
    );
    let id = reply
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("request-id"))
        .map(|(_, v)| v.clone())
        .unwrap();
    assert!(id.starts_with("req_"), "{id}");
    assert!(
        reply.body["message"].as_str().unwrap().contains(&id),
        "{body}"
    );
    parse::from_value_strict::<Error>(&reply.body).unwrap();
}

#[test]
fn generated_ids_and_secrets_are_128_and_256_random_bits() {
    let ids: std::collections::BTreeSet<String> =
        (0..1000).map(|_| ex::http::new_id("vt_")).collect();
    assert_eq!(ids.len(), 1000);
    for id in &ids {
        let hex = id.strip_prefix("vt_").unwrap();
        assert_eq!(hex.len(), 32, "{id}");
        assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    }
    let secret = ex::http::new_secret();
    assert_eq!(secret.len(), 64, "32 bytes, hex");
    assert_ne!(secret, ex::http::new_secret());
}

// ---------------------------------------------------------------------------------------------
// The example binaries' command lines.

/// Builds the example `name` with this test's features (a no-op after `cargo build
/// --examples`) and returns its path.
pub(crate) fn example_binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|d| d.parent()).unwrap().to_path_buf();
    let mut features = Vec::new();
    if cfg!(feature = "ed25519") {
        features.push("ed25519");
    }
    if cfg!(feature = "es256") {
        features.push("es256");
    }
    let mut build = std::process::Command::new(env!("CARGO"));
    build
        .args([
            "build",
            "--quiet",
            "--example",
            name,
            "--no-default-features",
        ])
        .arg("--manifest-path")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .env("CARGO_TARGET_DIR", profile_dir.parent().unwrap());
    if !features.is_empty() {
        build.args(["--features", &features.join(",")]);
    }
    assert!(build.status().unwrap().success(), "building {name}");
    profile_dir.join("examples").join(name)
}

/// Runs `name args` with no ACP/VAULT environment and returns (exit code, stdout, stderr).
fn run_example(name: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let mut command = std::process::Command::new(example_binary(name));
    command.args(args);
    for (var, _) in std::env::vars() {
        if var.starts_with("ACP_") || var.starts_with("VAULT_") || var == "DATABASE_URL" {
            command.env_remove(var);
        }
    }
    let out = command.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_binary_answers_help_with_its_flags() {
    for (name, flags) in [
        (
            "merchant_server",
            &[
                "--addr",
                "--api-key",
                "--signing-secret",
                "--no-signatures",
                "--psp-api-key",
                "--outbound-timeout-ms",
                "--admin-key",
                "MERCHANT_ADMIN_KEY",
                "--webhook-backoff-ms",
                "--webhook-lease-ms",
                "ACP_SIGNING_SECRET",
            ][..],
        ),
        (
            "psp_vault",
            &[
                "--addr",
                "--api-key",
                "--merchant-key ID=KEY",
                "--signing-secret",
                "VAULT_SIGNING_SECRET",
            ][..],
        ),
        (
            "agent_client",
            &[
                "--spawn",
                "--merchant-url",
                "--signing-secret",
                "--vault-signing-secret",
            ][..],
        ),
    ] {
        for help in ["--help", "-h"] {
            let (code, stdout, stderr) = run_example(name, &[help]);
            assert_eq!(code, Some(0), "{name} {help}: {stderr}");
            for flag in flags {
                assert!(
                    stdout.contains(flag),
                    "{name} {help} lacks {flag}:\n{stdout}"
                );
            }
        }
        let (code, _, stderr) = run_example(name, &["--no-such-flag"]);
        assert_eq!(code, Some(2), "{name}");
        assert!(stderr.contains("--help"), "{name}: {stderr}");
    }
    // The merchant and the vault never share a signing-secret variable.
    let (_, vault_help, _) = run_example("psp_vault", &["--help"]);
    assert!(!vault_help.contains("ACP_SIGNING_SECRET"), "{vault_help}");
}

#[test]
fn servers_refuse_development_credentials_off_loopback() {
    for name in ["merchant_server", "psp_vault"] {
        let (code, stdout, stderr) = run_example(name, &["--addr", "0.0.0.0:0"]);
        assert_eq!(code, Some(2), "{name}: {stdout}{stderr}");
        assert!(!stdout.contains("listening"), "{name}: {stdout}");
        assert!(
            stderr.contains("development credentials") && stderr.contains("--api-key"),
            "{name}: {stderr}"
        );
    }
    // Every credential given: the refusal names only what is still missing.
    let (code, _, stderr) = run_example(
        "merchant_server",
        &[
            "--addr",
            "0.0.0.0:0",
            "--api-key",
            "k1",
            "--webhook-secret",
            "w1",
            "--no-signatures",
        ],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("--psp-api-key") && !stderr.contains("--api-key,"),
        "{stderr}"
    );
    assert!(stderr.contains("warning: --no-signatures"), "{stderr}");
    let (code, _, stderr) = run_example(
        "psp_vault",
        &[
            "--addr",
            "0.0.0.0:0",
            "--api-key",
            "k1",
            "--merchant-key",
            "shop=k2",
            "--merchant-key",
            "bad",
        ],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("MERCHANT_ID=KEY") && !stderr.contains("bad"),
        "{stderr}"
    );
}

#[test]
fn on_loopback_development_credentials_print_one_warning_line() {
    use std::io::{BufRead as _, BufReader};
    for name in ["merchant_server", "psp_vault"] {
        let mut child = std::process::Command::new(example_binary(name))
            .args(["--addr", "127.0.0.1:0"])
            .env_remove("DATABASE_URL")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            line.starts_with("listening on http://127.0.0.1:"),
            "{name}: {line}"
        );
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
        assert_eq!(warnings.len(), 1, "{name}: {stderr}");
        assert!(
            warnings[0].contains("development credentials"),
            "{name}: {stderr}"
        );
    }
}
