//! The merchant engine under real concurrency: racing requests, duplicates in flight.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::json;

use super::{Call, address, complete_body, engine, ready_session};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_completes_with_different_keys_charge_once() {
    for _ in 0..20 {
        let (shop, engine) = engine();
        let engine = Arc::new(engine);
        let id = ready_session(&engine).await;
        *shop.complete_delay.lock().unwrap() = Duration::from_millis(5);
        let calls: Vec<_> = (0..4)
            .map(|_| {
                Call::post(
                    &format!("/checkout_sessions/{id}/complete"),
                    &complete_body(),
                )
            })
            .collect();
        let tasks: Vec<_> = calls
            .into_iter()
            .map(|call| {
                let engine = Arc::clone(&engine);
                tokio::spawn(async move { call.send(&engine).await })
            })
            .collect();
        let mut ok = 0;
        for task in tasks {
            let answer = task.await.unwrap();
            match answer.status {
                200 => ok += 1,
                // A racer that reads the session after the winner committed finds it completed.
                405 | 409 | 422 => {}
                other => panic!("unexpected {other}: {}", answer.body),
            }
        }
        assert_eq!(ok, 1);
        assert_eq!(shop.charges.load(Ordering::SeqCst), 1, "exactly one charge");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idem_a_duplicate_in_flight_is_409_with_retry_after_and_runs_once() {
    let (shop, engine) = engine();
    let engine = Arc::new(engine);
    let id = ready_session(&engine).await;
    *shop.complete_delay.lock().unwrap() = Duration::from_secs(1);
    let call = Call::post(
        &format!("/checkout_sessions/{id}/complete"),
        &complete_body(),
    );
    let first = {
        let (engine, call) = (Arc::clone(&engine), call.clone());
        tokio::spawn(async move { call.send(&engine).await })
    };
    crate::common::until("a complete began", Duration::from_secs(10), || {
        shop.completes_begun.load(Ordering::SeqCst) > 0
    })
    .await;
    let duplicate = call.send(&engine).await;
    assert_eq!(duplicate.status, 409, "{}", duplicate.body);
    assert_eq!(duplicate.code(), "idempotency_in_flight");
    assert!(duplicate.header("Retry-After").is_some());
    assert_eq!(first.await.unwrap().status, 200);
    let replay = call.send(&engine).await;
    assert_eq!(replay.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(shop.charges.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_updates_never_lose_a_write_silently() {
    let (_, engine) = engine();
    let engine = Arc::new(engine);
    let id = ready_session(&engine).await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let engine = Arc::clone(&engine);
            let call = Call::post(
                &format!("/checkout_sessions/{id}"),
                &json!({"fulfillment_details": address()}),
            );
            tokio::spawn(async move { call.send(&engine).await })
        })
        .collect();
    let mut applied = 0;
    for task in tasks {
        let answer = task.await.unwrap();
        match answer.status {
            200 => applied += 1,
            409 => {
                assert_eq!(answer.code(), "concurrent_modification");
                assert!(answer.header("Retry-After").is_some());
            }
            other => panic!("unexpected {other}: {}", answer.body),
        }
    }
    assert!(applied >= 1);
    let stored = engine
        .store()
        .get(
            agentic_commerce::engine::store::ResourceKind::CheckoutSession,
            &id,
        )
        .unwrap();
    assert_eq!(stored.version, 1 + applied, "every 200 is one stored write");
}
