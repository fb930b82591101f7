//! The merchant engine, one request at a time: the protocol steps it owns.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use agentic_commerce::parse::registry::{self, Body};
use agentic_commerce::protocol::headers::Operation;
use agentic_commerce::protocol::version::ApiVersion;
use agentic_commerce::spec::latest::agentic_checkout::CheckoutStatus;
use http::Method;
use proptest::prelude::*;
use serde_json::json;

use super::{
    Call, OTHER_KEY, Setup, Shop, address, complete_body, create_body, engine, engine_with, now,
    ready_session, sign,
};

#[tokio::test]
async fn a_purchase_runs_create_update_complete_with_the_response_headers() {
    let (shop, engine) = engine();
    let created = Call::post("/checkout_sessions", &create_body())
        .send(&engine)
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["status"], "not_ready_for_payment");
    assert_eq!(created.header("API-Version"), Some("2026-04-17"));
    assert_eq!(created.header("Request-Id"), Some("req_1"));
    assert!(created.header("Idempotency-Key").is_some());
    let id = created.id();

    let updated = Call::post(
        &format!("/checkout_sessions/{id}"),
        &json!({"fulfillment_details": address()}),
    )
    .send(&engine)
    .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["status"], "ready_for_payment");

    let complete = Call::post(
        &format!("/checkout_sessions/{id}/complete"),
        &complete_body(),
    );
    let completed = complete.send(&engine).await;
    assert_eq!(completed.status, 200, "{}", completed.body);
    assert_eq!(completed.body["status"], "completed");
    assert_eq!(completed.body["order"]["checkout_session_id"], id.as_str());
    assert_eq!(shop.charges.load(std::sync::atomic::Ordering::SeqCst), 1);

    // IDEM: the same key and body replays the stored answer; nothing is charged again.
    let replay = complete.send(&engine).await;
    assert_eq!(replay.status, 200);
    assert_eq!(replay.body, completed.body);
    assert_eq!(replay.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(shop.charges.load(std::sync::atomic::Ordering::SeqCst), 1);

    let read = Call::get(&format!("/checkout_sessions/{id}"))
        .send(&engine)
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["status"], "completed");

    // CHK-17: a completed session cannot be canceled.
    let cancel = Call::post(&format!("/checkout_sessions/{id}/cancel"), &json!({}))
        .send(&engine)
        .await;
    assert_eq!(cancel.status, 405, "{}", cancel.body);
}

#[tokio::test]
async fn idem_11_a_key_reused_with_another_body_is_a_conflict() {
    let (_, engine) = engine();
    let first = Call::post("/checkout_sessions", &create_body());
    assert_eq!(first.send(&engine).await.status, 201);
    let key = first
        .headers
        .iter()
        .find(|(n, _)| n == "Idempotency-Key")
        .unwrap()
        .1
        .clone();
    let body = json!({"currency": "usd", "line_items": [{"id": "item_2"}], "capabilities": {}});
    let signed = sign(&serde_json::to_vec(&body).unwrap(), now());
    let other = Call::post("/checkout_sessions", &body)
        .header("Idempotency-Key", &key)
        .header("Signature", &signed.signature)
        .header("Timestamp", &signed.timestamp)
        .send(&engine)
        .await;
    assert_eq!(other.status, 422, "{}", other.body);
    assert_eq!(other.code(), "idempotency_conflict");
}

#[tokio::test]
async fn routing_answers_404_405_and_413() {
    let (_, engine) = engine();
    assert_eq!(Call::get("/nowhere").send(&engine).await.status, 404);
    let wrong = Call::new(
        Method::DELETE,
        "/checkout_sessions/cs_1",
        None,
        "2026-04-17",
    )
    .send(&engine)
    .await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("Allow"), Some("GET, POST"));
    assert_eq!(
        Call::get("/checkout_sessions/cs_missing")
            .send(&engine)
            .await
            .status,
        404
    );
    let huge =
        json!({"currency": "usd", "line_items": [{"id": "x".repeat(2 << 20)}], "capabilities": {}});
    let too_large = Call::post("/checkout_sessions", &huge).send(&engine).await;
    assert_eq!(too_large.status, 413);
    assert_eq!(too_large.code(), "request_too_large");
}

#[tokio::test]
async fn discovery_is_built_from_the_configuration() {
    let (_, engine) = engine();
    let doc = Call::get("/.well-known/acp.json")
        .without("Authorization")
        .send(&engine)
        .await;
    assert_eq!(doc.status, 200, "{}", doc.body);
    assert_eq!(doc.body["api_base_url"], "https://shop.example/");
    assert_eq!(doc.header("Cache-Control"), Some("public, max-age=3600"));
    let services = doc.body["capabilities"]["services"].to_string();
    assert!(
        services.contains("checkout") && services.contains("carts"),
        "{services}"
    );
    assert!(doc.body["transports"].to_string().contains("mcp"));
    assert_eq!(
        doc.body["protocol"]["supported_versions"]
            .as_array()
            .unwrap()
            .len(),
        ApiVersion::RELEASED.len()
    );
}

#[tokio::test]
async fn hdr_01_a_wrong_or_missing_bearer_is_401() {
    let (_, engine) = engine();
    let wrong = Call::post("/checkout_sessions", &create_body())
        .header("Authorization", "Bearer not-a-key-of-this-merchant")
        .send(&engine)
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.code(), "unauthorized");
    let missing = Call::get("/checkout_sessions/cs_0")
        .without("Authorization")
        .send(&engine)
        .await;
    assert_eq!(missing.status, 401, "{}", missing.body);
}

#[tokio::test]
async fn sig_01_04_bad_missing_and_stale_signatures_are_401() {
    let (_, engine) = engine();
    let body = serde_json::to_vec(&create_body()).unwrap();
    let other = sign(b"{\"other\":true}", now());
    let bad = Call::post("/checkout_sessions", &create_body())
        .header("Signature", &other.signature)
        .send(&engine)
        .await;
    assert_eq!(bad.status, 401, "{}", bad.body);
    assert_eq!(bad.code(), "invalid_signature");
    let stale = sign(&body, now() - time::Duration::hours(1));
    let old = Call::post("/checkout_sessions", &create_body())
        .header("Signature", &stale.signature)
        .header("Timestamp", &stale.timestamp)
        .send(&engine)
        .await;
    assert_eq!(old.status, 401, "{}", old.body);
    let unsigned = Call::post("/checkout_sessions", &create_body())
        .without("Signature")
        .send(&engine)
        .await;
    assert_eq!(unsigned.status, 401, "{}", unsigned.body);
}

#[tokio::test]
async fn ver_03_a_missing_or_unknown_version_is_refused_with_the_supported_list() {
    let (_, engine) = engine();
    let missing = Call::get("/checkout_sessions/cs_0")
        .without("API-Version")
        .send(&engine)
        .await;
    assert_eq!(missing.status, 400, "{}", missing.body);
    assert!(missing.body["supported_versions"].is_array());
    let unknown = Call::get("/checkout_sessions/cs_0")
        .header("API-Version", "2031-01-01")
        .send(&engine)
        .await;
    assert_eq!(unknown.status, 400, "{}", unknown.body);
}

#[tokio::test]
async fn sessions_belong_to_the_identity_that_created_them() {
    let (_, engine) = engine();
    let id = ready_session(&engine).await;
    let theirs = Call::get(&format!("/checkout_sessions/{id}"))
        .header("Authorization", &format!("Bearer {OTHER_KEY}"))
        .send(&engine)
        .await;
    assert_eq!(theirs.status, 404, "{}", theirs.body);
}

#[tokio::test]
async fn invalid_requests_get_a_param_and_strictness_is_opt_in() {
    let (_, lenient) = engine();
    let missing = Call::post(
        "/checkout_sessions",
        &json!({"currency": "usd", "capabilities": {}}),
    )
    .send(&lenient)
    .await;
    assert_eq!(missing.status, 400, "{}", missing.body);
    assert_eq!(missing.body["param"], "$.line_items");
    assert_eq!(missing.body["code"], "missing_required_field");
    let mut wrong_type = create_body();
    wrong_type["line_items"] = json!("sku_1");
    let mistyped = Call::post("/checkout_sessions", &wrong_type)
        .send(&lenient)
        .await;
    assert_eq!(mistyped.status, 400, "{}", mistyped.body);
    assert_eq!(mistyped.body["param"], "$.line_items");
    assert_eq!(mistyped.body["code"], "invalid_type");

    let mut with_unknown = create_body();
    with_unknown["from_a_newer_version"] = json!(true);
    let kept = Call::post("/checkout_sessions", &with_unknown)
        .send(&lenient)
        .await;
    assert_eq!(kept.status, 201, "lenient by default: {}", kept.body);

    let strict = engine_with(
        Arc::new(Shop::default()),
        &Setup {
            strict: true,
            ..Setup::default()
        },
    );
    let refused = Call::post("/checkout_sessions", &with_unknown)
        .send(&strict)
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.body["param"], "$.from_a_newer_version");
    assert_eq!(refused.body["code"], "unknown_field");
    let strictly_missing = Call::post(
        "/checkout_sessions",
        &json!({"currency": "usd", "capabilities": {}}),
    )
    .send(&strict)
    .await;
    assert_eq!(strictly_missing.body["code"], "missing_required_field");
    assert_eq!(strictly_missing.body["param"], "$.line_items");

    let not_json = Call {
        body: b"{not json".to_vec(),
        ..Call::post("/checkout_sessions", &json!({}))
    };
    let broken = not_json.send(&lenient).await;
    assert!(matches!(broken.status, 400 | 401), "{}", broken.body);
}

#[tokio::test]
async fn every_released_version_is_served_and_answered_in_its_own_form() {
    for version in ApiVersion::RELEASED {
        let (_, engine) = engine();
        let body = match version.as_str() {
            "2025-09-29" | "2025-12-12" | "2026-01-16" => {
                json!({"items": [{"id": "item_1", "quantity": 1}]})
            }
            _ => create_body(),
        };
        let created = Call::new(
            Method::POST,
            "/checkout_sessions",
            Some(&body),
            version.as_str(),
        )
        .send(&engine)
        .await;
        assert_eq!(created.status, 201, "{version}: {}", created.body);
        assert_eq!(created.header("API-Version"), Some(version.as_str()));
        registry::check_body(
            version,
            Operation::CreateCheckoutSession,
            Body::Response,
            &created.body,
            true,
        )
        .unwrap_or_else(|e| {
            panic!("{version}: the response is not a strict {version} session: {e}")
        });
    }
}

#[tokio::test]
async fn chk_the_business_code_cannot_put_an_illegal_transition_on_the_wire() {
    for status in [
        CheckoutStatus::Completed,
        CheckoutStatus::Canceled,
        CheckoutStatus::CompleteInProgress,
        CheckoutStatus::Expired,
    ] {
        let (shop, engine) = engine();
        let id = ready_session(&engine).await;
        shop.faults.lock().unwrap().update_status = Some(status.clone());
        let update = Call::post(
            &format!("/checkout_sessions/{id}"),
            &json!({"fulfillment_details": address()}),
        )
        .send(&engine)
        .await;
        assert_eq!(update.status, 500, "{status:?} went out: {}", update.body);
        assert_eq!(update.code(), "processing_error");
        // Nothing was stored: the session is as it was.
        let read = Call::get(&format!("/checkout_sessions/{id}"))
            .send(&engine)
            .await;
        assert_eq!(read.body["status"], "ready_for_payment", "{status:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whatever status the business method returns from an update, what reaches the wire is
    /// either a status an update can lead to, or a 500 with the stored session unchanged.
    #[test]
    fn chk_whatever_the_update_returns_only_legal_statuses_reach_the_wire(pick in 0usize..11) {
        let statuses = [
            CheckoutStatus::Incomplete, CheckoutStatus::NotReadyForPayment,
            CheckoutStatus::RequiresEscalation, CheckoutStatus::AuthenticationRequired,
            CheckoutStatus::ReadyForPayment, CheckoutStatus::PendingApproval,
            CheckoutStatus::CompleteInProgress, CheckoutStatus::Completed,
            CheckoutStatus::Canceled, CheckoutStatus::InProgress, CheckoutStatus::Expired,
        ];
        let status = statuses[pick].clone();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let (shop, engine) = engine();
            let id = ready_session(&engine).await;
            shop.faults.lock().unwrap().update_status = Some(status.clone());
            let update = Call::post(&format!("/checkout_sessions/{id}"), &json!({})).send(&engine).await;
            let legal = ["ready_for_payment", "not_ready_for_payment", "authentication_required", "requires_escalation"];
            if update.status == 200 {
                assert!(legal.contains(&update.body["status"].as_str().unwrap()), "{status:?}");
            } else {
                assert_eq!(update.status, 500, "{status:?}");
                let read = Call::get(&format!("/checkout_sessions/{id}")).send(&engine).await;
                assert_eq!(read.body["status"], "ready_for_payment");
            }
        });
    }
}

#[tokio::test]
async fn a_session_that_breaks_a_must_is_never_sent() {
    let (shop, engine) = engine();
    shop.faults.lock().unwrap().unknown_selection = true;
    let created = Call::post("/checkout_sessions", &create_body())
        .send(&engine)
        .await;
    assert_eq!(created.status, 500, "{}", created.body);
    assert_eq!(created.code(), "processing_error");
    assert_eq!(engine.store().documents(), 0, "nothing stored");
}

#[tokio::test]
async fn a_complete_that_fails_before_charging_leaves_the_session_payable() {
    let (shop, engine) = engine();
    let id = ready_session(&engine).await;
    shop.faults.lock().unwrap().decline_with_error = true;
    let failed = Call::post(
        &format!("/checkout_sessions/{id}/complete"),
        &complete_body(),
    )
    .send(&engine)
    .await;
    assert_eq!(failed.status, 422, "{}", failed.body);
    let read = Call::get(&format!("/checkout_sessions/{id}"))
        .send(&engine)
        .await;
    assert_eq!(read.body["status"], "ready_for_payment");
    shop.faults.lock().unwrap().decline_with_error = false;
    let completed = Call::post(
        &format!("/checkout_sessions/{id}/complete"),
        &complete_body(),
    )
    .send(&engine)
    .await;
    assert_eq!(completed.status, 200, "{}", completed.body);
}

#[tokio::test]
async fn carts_are_created_read_replaced_and_canceled() {
    let (_, engine) = engine();
    let items = json!({"line_items": [{"id": "item_1"}, {"id": "item_2"}]});
    let created = Call::post("/carts", &items).send(&engine).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.id();
    assert_eq!(created.body["line_items"].as_array().unwrap().len(), 2);
    let read = Call::get(&format!("/carts/{id}")).send(&engine).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body, created.body);
    let put = Call::new(
        Method::PUT,
        &format!("/carts/{id}"),
        Some(&json!({"line_items": [{"id": "item_3"}]})),
        "2026-04-17",
    )
    .send(&engine)
    .await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["line_items"].as_array().unwrap().len(), 1);
    let canceled = Call::post(&format!("/carts/{id}/cancel"), &json!({}))
        .send(&engine)
        .await;
    assert_eq!(canceled.status, 200, "{}", canceled.body);
    assert_eq!(
        Call::get(&format!("/carts/{id}"))
            .send(&engine)
            .await
            .status,
        404
    );
    // Carts do not exist before 2026-04-17.
    let old = Call::new(Method::POST, "/carts", Some(&items), "2026-01-30")
        .send(&engine)
        .await;
    assert_eq!(old.status, 404, "{}", old.body);
}

#[tokio::test]
async fn checkout_committed_runs_after_each_committed_write_and_never_for_replays_or_errors() {
    let (shop, engine) = engine();
    let create = Call::post("/checkout_sessions", &create_body());
    let created = create.send(&engine).await;
    assert_eq!(created.status, 201, "{}", created.body);
    // A replay commits nothing new.
    let replayed = create.send(&engine).await;
    assert_eq!(replayed.header("Idempotent-Replayed"), Some("true"));
    let id = created.id();
    let update = Call::post(
        &format!("/checkout_sessions/{id}"),
        &json!({"fulfillment_details": address()}),
    )
    .send(&engine)
    .await;
    assert_eq!(update.status, 200, "{}", update.body);
    let path = format!("/checkout_sessions/{id}/complete");
    let done = Call::post(&path, &complete_body()).send(&engine).await;
    assert_eq!(done.status, 200, "{}", done.body);
    // A refused write (the session is completed) and a read: no call.
    let again = Call::post(&path, &complete_body()).send(&engine).await;
    assert_eq!(again.status, 405, "{}", again.body);
    Call::get(&format!("/checkout_sessions/{id}"))
        .send(&engine)
        .await;
    assert_eq!(
        *shop.committed.lock().unwrap(),
        [
            (
                Operation::CreateCheckoutSession,
                CheckoutStatus::NotReadyForPayment
            ),
            (
                Operation::UpdateCheckoutSession,
                CheckoutStatus::ReadyForPayment
            ),
            (
                Operation::CompleteCheckoutSession,
                CheckoutStatus::Completed
            ),
        ]
    );
}

#[tokio::test]
async fn hdr_05_a_malformed_body_is_400_before_the_signature_is_checked() {
    // A body that is not JSON cannot be canonicalized, so no agent can sign it: 400, not 401.
    let (_, engine) = engine();
    let mut call = Call::post("/checkout_sessions", &create_body()).without("Signature");
    call.body = b"{\"currency\": \"usd\", ".to_vec();
    let answer = call.send(&engine).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.code(), "invalid_json");
    assert_eq!(answer.body["param"], "$");
}
