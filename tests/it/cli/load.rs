//! `acp load` end to end (the `acp` binary, crates/acp-cli): against the bare echo server and
//! against the example merchant with its PSP vault, both in-process on loopback (flows
//! complete, no errors, the documented JSON keys), and against nothing (exit 2).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use crate::common;
use crate::ex;
use crate::harness;

use std::process::Output;
use std::time::Duration;

use serde_json::Value;

/// The keys `--json` documents (README, `acp load`).
const KEYS: &[&str] = &[
    "base_url",
    "concurrency",
    "duration_s",
    "warmup_s",
    "elapsed_s",
    "flows",
    "flows_per_s",
    "requests",
    "requests_per_s",
    "p50_ms",
    "p99_ms",
    "max_ms",
    "steps",
    "errors",
    "errors_by_kind",
];

/// Runs `acp load <args>` off the async runtime (the servers keep serving).
async fn load(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let mut all = vec!["load"];
        all.extend(args.iter().map(String::as_str));
        common::cli::run_acp(&all, b"")
    })
    .await
    .unwrap()
}

/// The `--json` report, after checking the exit status and the documented keys.
fn report(output: &Output) -> Value {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let r: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)));
    for key in KEYS {
        assert!(r.get(key).is_some(), "no {key} in {r:#}");
    }
    r
}

/// Flows ran, every one completed, and the step counts add up.
fn assert_clean_run(r: &Value, steps: &[&str]) {
    assert!(r["flows"].as_u64().unwrap() > 0, "{r:#}");
    assert_eq!(r["errors"], 0, "{r:#}");
    assert_eq!(r["errors_by_kind"], serde_json::json!({}), "{r:#}");
    let names: Vec<&str> = r["steps"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut want = steps.to_vec();
    want.sort_unstable();
    assert_eq!(names, want, "{r:#}");
    let sum: u64 = r["steps"]
        .as_object()
        .unwrap()
        .values()
        .map(|s| s["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, r["requests"].as_u64().unwrap(), "{r:#}");
    // Each completed flow sent one request per step (a flow cut by the deadline, fewer).
    let flows = r["flows"].as_u64().unwrap();
    assert!(sum >= flows * steps.len() as u64, "{r:#}");
    let (p50, p99) = (r["p50_ms"].as_f64().unwrap(), r["p99_ms"].as_f64().unwrap());
    assert!(p50 > 0.0 && p50 <= p99, "{r:#}");
    assert!(r["requests_per_s"].as_f64().unwrap() > 0.0, "{r:#}");
    assert_eq!(r["concurrency"], 4);
    assert_eq!(r["duration_s"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_against_the_echo_server_completes_every_flow() {
    let (addr, _server) = ex::echo::spawn("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let url = format!("http://{addr}");
    // The same flow shape as against a merchant with a PSP: the echo server is the PSP too.
    let out = load(&[
        "--base-url",
        &url,
        "--psp-url",
        &url,
        "--duration",
        "1",
        "--concurrency",
        "4",
        "--signing-secret",
        "load-test-signing-secret",
        "--sign-timestamp",
        "--json",
    ])
    .await;
    let r = report(&out);
    assert_clean_run(&r, &["create", "update", "delegate", "complete"]);
    assert_eq!(r["base_url"], url.as_str());
    assert_eq!(ex::echo::ECHO_ID, "cs_echo");
}

/// A catalog of `n` physical variants, `var_load_<i>` (10 units each on the example merchant).
fn load_catalog(n: usize) -> Vec<u8> {
    let products: Vec<Value> = (0..n)
        .map(|i| {
            serde_json::json!({"id": format!("prod_load_{i}"), "title": format!("Load item {i}"),
                "variants": [{"id": format!("var_load_{i}"), "title": format!("Load item {i}"),
                    "price": {"amount": 1000, "currency": "USD"}}]})
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({ "products": products })).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_against_the_example_merchant_and_vault_completes_flows_without_errors() {
    const ITEMS: usize = 300;
    let vault = harness::start_vault(None).await;
    let mut config =
        harness::merchant_config(&vault, "http://127.0.0.1:9/unused", None, Duration::ZERO);
    config.webhook_url = None;
    // Enough stock that no flow runs out (10 units per variant).
    config.catalog_json = load_catalog(ITEMS);
    let merchant = harness::start_merchant(config).await;
    let items: Vec<String> = (0..ITEMS).map(|i| format!("var_load_{i}")).collect();
    let mut args = vec![
        "--base-url",
        &merchant,
        "--psp-url",
        &vault,
        "--psp-api-key",
        ex::vault::DEV_AGENT_KEY,
        "--api-key",
        ex::config::DEV_API_KEY,
        "--signing-secret",
        std::str::from_utf8(harness::SIGNING_SECRET).unwrap(),
        "--psp-signing-secret",
        std::str::from_utf8(harness::VAULT_SIGNING_SECRET).unwrap(),
        "--sign-timestamp",
        "--duration",
        "1",
        "--concurrency",
        "4",
        "--json",
    ];
    for item in &items {
        args.extend(["--item", item.as_str()]);
    }
    let r = report(&load(&args).await);
    assert_clean_run(&r, &["create", "update", "delegate", "complete"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_against_nothing_cannot_start() {
    // A port that was free a moment ago.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let out = load(&["--base-url", &url, "--duration", "1", "--json"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unreachable"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
