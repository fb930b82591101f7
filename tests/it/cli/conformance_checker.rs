//! `acp conformance` end to end: the checker (the `acp` binary, crates/acp-cli) against the example
//! merchant and PSP vault running in-process on loopback (everything passes, at every released
//! `--api-version`), against a deliberately broken merchant (the specific checks fail, exit 1),
//! against a merchant that answers older agents in 2026-04-17 shapes (fails), and against
//! nothing (exit 2).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use crate::common;

use crate::ex;
use crate::harness;

use std::process::Output;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::{Value, json};

/// Runs `acp conformance <args>` off the async runtime (the servers keep serving).
async fn checker(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut all = vec!["conformance"];
        all.extend(args.iter().map(String::as_str));
        common::cli::run_acp(&all, b"")
    })
    .await
    .unwrap()
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

fn report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {report:#}"))
}

/// Flags for the in-process example merchant.
fn merchant_args(w: &harness::World) -> Vec<String> {
    strings(&[
        "--base-url",
        &w.merchant,
        "--bearer",
        ex::config::DEV_API_KEY,
        "--signing-secret",
        std::str::from_utf8(harness::SIGNING_SECRET).unwrap(),
        // The example merchant and vault verify the timestamp with the body.
        "--sign-timestamp",
    ])
}

/// Variant ids of `examples/catalog.json`, read independently of the checker.
fn catalog_variant_count() -> usize {
    let catalog: Value =
        serde_json::from_str(include_str!("../../../examples/catalog.json")).unwrap();
    catalog["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["variants"].as_array().unwrap().len())
        .sum()
}

const EVERY_CHECK: &[&str] = &[
    "discovery",
    "create",
    "create.idempotency_key_echo",
    "negotiation",
    "idempotency.replay",
    "idempotency.replayed_header",
    "idempotency.conflict",
    "create.all_items",
    "idempotency.key_required",
    "malformed_json",
    "malformed_json.param",
    "version.missing",
    "version.missing.details",
    "version.unsupported",
    "version.unsupported.details",
    "retrieve.unknown",
    "update",
    "retrieve",
    "psp.delegate_payment",
    "complete",
    "cancel",
    "cancel.canceled",
    "cancel.completed",
    "auth.wrong_bearer",
    "signature.invalid",
    "signature.stale",
    "body.oversize",
    "idempotency.in_flight",
    "idempotency.retry_after",
    "session.rules",
    "session.rules.should",
    "webhooks.received",
    "webhooks.signature",
    "webhooks.schema",
    "webhooks.order",
];

/// The webhook probes: skipped without `--webhook-listen`.
const WEBHOOK_CHECKS: &[&str] = &[
    "webhooks.received",
    "webhooks.signature",
    "webhooks.schema",
    "webhooks.order",
];

/// A world whose merchant sends its order webhooks to `listen`, the address the checker gets
/// as `--webhook-listen` (a port that was just free: the checker binds it).
async fn webhook_world(database_url: Option<String>) -> (harness::World, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let hook_url = format!("http://{listen}/agentic_checkout/webhooks/order_events");
    let vault = harness::start_vault(database_url.clone()).await;
    let merchant = harness::start_merchant(harness::merchant_config(
        &vault,
        &hook_url,
        database_url,
        LATENCY,
    ))
    .await;
    let world = harness::World {
        merchant,
        vault,
        hook_url,
        hooks: tokio::sync::mpsc::unbounded_channel().1,
    };
    (world, listen)
}

/// `--webhook-listen` and the merchant's webhook secret.
fn webhook_args(listen: &str) -> Vec<String> {
    strings(&[
        "--webhook-listen",
        listen,
        "--webhook-secret",
        std::str::from_utf8(harness::WEBHOOK_SECRET).unwrap(),
    ])
}

/// The probes of optional services (the `carts` service, the `mcp` transport): the example
/// merchant offers both, so they run (and must pass) at 2026-04-17.
const OPTIONAL_SERVICES: &[&str] = &[
    "cart.create",
    "cart.retrieve",
    "cart.update",
    "cart.cancel",
    "cart.retrieve.canceled",
    "cart.retrieve.unknown",
    "mcp.create",
    "mcp.idempotency.replay",
    "mcp.get",
    "mcp.error",
];

/// The example merchant's simulated processing time for the runs that must pass: long enough
/// for `idempotency.in_flight` to see its concurrent copies collide (IDEM-12).
const LATENCY: Duration = Duration::from_millis(100);

/// Sorted ids of a report's `skipped` list.
fn skipped(r: &Value) -> Vec<&str> {
    let mut ids: Vec<&str> = r["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_example_merchant_with_vault_passes_every_check() {
    let (w, listen) = webhook_world(None).await;
    let mut args = merchant_args(&w);
    args.extend(webhook_args(&listen));
    args.extend(strings(&[
        "--psp-signing-secret",
        std::str::from_utf8(harness::VAULT_SIGNING_SECRET).unwrap(),
        "--psp-url",
        &w.vault,
        "--psp-bearer",
        ex::vault::DEV_AGENT_KEY,
        "--json",
    ]));
    let out = checker(args).await;
    let r = report(&out);
    assert_eq!(out.status.code(), Some(0), "{r:#}");
    assert_eq!(r["failed"], 0, "{r:#}");
    assert_eq!(skipped(&r), Vec::<&str>::new(), "{r:#}");
    assert_eq!(r["base_url"], w.merchant.as_str());
    assert_eq!(r["api_version"], "2026-04-17");
    let ids: Vec<&str> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let mut expected = EVERY_CHECK.to_vec();
    expected.extend(OPTIONAL_SERVICES);
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    expected.sort_unstable();
    assert_eq!(sorted, expected);
    assert_eq!(r["passed"], EVERY_CHECK.len() + OPTIONAL_SERVICES.len());
    // The purchase really happened: an order for the session, then 405 on cancel (CHK-11, CHK-17).
    assert!(
        check(&r, "complete")["detail"]
            .as_str()
            .unwrap()
            .starts_with("HTTP 200 completed, order ord_"),
        "{r:#}"
    );
    assert!(
        check(&r, "psp.delegate_payment")["detail"]
            .as_str()
            .unwrap()
            .contains("token vt_")
    );
    // Every default --item (the example catalog's variants) went into one session.
    let all = check(&r, "create.all_items")["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        all.contains(&format!("for {} item(s)", catalog_variant_count())),
        "{all}"
    );
    // Labels: rule IDs and levels.
    assert_eq!(check(&r, "idempotency.conflict")["rules"][0], "IDEM-11");
    assert_eq!(check(&r, "idempotency.replayed_header")["level"], "SHOULD");
    assert_eq!(
        check(&r, "version.missing.details")["rules"],
        json!(["VER-03", "VER-04", "VER-05"])
    );
    // The refusals (401, 413, 409 in flight) of the probes added for issue 14.
    assert_eq!(check(&r, "auth.wrong_bearer")["level"], "MUST");
    for (id, needle) in [
        ("auth.wrong_bearer", "HTTP 401"),
        (
            "signature.invalid",
            "HTTP 401 invalid_request invalid_signature",
        ),
        (
            "signature.stale",
            "HTTP 401 invalid_request invalid_signature",
        ),
        ("body.oversize", "HTTP 413 for a 3145728-byte body"),
        ("idempotency.in_flight", "HTTP 409 idempotency_in_flight"),
        ("idempotency.retry_after", "Retry-After: "),
    ] {
        let detail = check(&r, id)["detail"].as_str().unwrap();
        assert!(detail.contains(needle), "{id}: {detail}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_without_psp_accepts_the_test_token_answer_and_prints_a_summary() {
    let w = harness::world(None, LATENCY).await;
    let out = checker(merchant_args(&w)).await;
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    // The vault refuses the test token; the merchant answers a 200 session with a decline
    // message, which is conformant (CHK-19), and nothing reached `completed`.
    let complete = text.lines().find(|l| l.contains(" complete ")).unwrap();
    assert!(
        complete.starts_with("PASS MUST") && complete.contains("for the test token"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("SKIP") && l.contains("cancel.completed")),
        "{text}"
    );
    // Without --webhook-listen the webhook probes are skipped, with the reason.
    for id in WEBHOOK_CHECKS {
        assert!(
            text.lines().any(|l| l.starts_with("SKIP")
                && l.contains(id)
                && l.contains("no `--webhook-listen` address")),
            "{id}: {text}"
        );
    }
    // No psp.delegate_payment, no cancel.completed, no webhooks; carts and MCP run.
    let n = EVERY_CHECK.len() + OPTIONAL_SERVICES.len() - 2 - WEBHOOK_CHECKS.len();
    assert!(text.ends_with(&format!("{n} passed, 0 failed\n")), "{text}");
    assert!(text.contains("[IDEM-01, IDEM-04, ERR-01]"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_wrong_signing_secret_fails_musts_with_reasons() {
    let w = harness::world(None, Duration::ZERO).await;
    let out = checker(strings(&[
        "--base-url",
        &w.merchant,
        "--bearer",
        ex::config::DEV_API_KEY,
        "--signing-secret",
        "a-wrong-signing-secret",
        "--json",
    ]))
    .await;
    let r = report(&out);
    assert_eq!(out.status.code(), Some(1), "{r:#}");
    let create = check(&r, "create");
    assert_eq!(create["passed"], false);
    assert!(
        create["detail"].as_str().unwrap().contains("401"),
        "{create}"
    );
}

/// A session body without the required `capabilities` (CHK-04, NEG-02).
fn broken_session(id: &str) -> Value {
    json!({
        "id": id, "status": "incomplete", "currency": "usd",
        "line_items": [{"id": "li_1", "item": {"id": "var_mug_pine"}, "quantity": 1,
            "totals": [{"type": "total", "display_text": "Total", "amount": 1800}]}],
        "fulfillment_options": [], "totals": [{"type": "total", "display_text": "Total", "amount": 1800}],
        "messages": [], "links": []
    })
}

/// A merchant that answers create with 200 and an invalid session, never looks at
/// `Idempotency-Key` or `API-Version`, and returns a session for any id.
async fn broken_merchant() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let reply = |status: StatusCode, body: Value| {
        (
            status,
            [("content-type", "application/json")],
            body.to_string(),
        )
    };
    let app = Router::new()
        .route(
            "/.well-known/acp.json",
            get(|| async { StatusCode::NOT_FOUND }),
        )
        .route(
            "/checkout_sessions",
            // The body is read whole, with no size limit: answering before reading it and
            // then closing the connection would race the checker's upload (a reset instead
            // of the 200 this merchant means to send).
            post(move |_body: axum::body::Bytes| async move {
                reply(
                    StatusCode::OK,
                    broken_session(&format!("cs_{}", NEXT.fetch_add(1, Ordering::Relaxed))),
                )
            }),
        )
        .route(
            "/checkout_sessions/{id}",
            get(
                move |axum::extract::Path(id): axum::extract::Path<String>| async move {
                    reply(StatusCode::OK, broken_session(&id))
                },
            ),
        )
        .layer(axum::extract::DefaultBodyLimit::disable());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_broken_merchant_fails_the_specific_checks_and_exits_1() {
    let base = broken_merchant().await;
    let out = checker(strings(&[
        "--base-url",
        &base,
        "--item",
        "var_mug_pine",
        "--json",
    ]))
    .await;
    let r = report(&out);
    assert_eq!(out.status.code(), Some(1), "{r:#}");
    // 404 discovery is allowed (DIS-09).
    assert_eq!(check(&r, "discovery")["passed"], true, "{r:#}");
    let failed = |id: &str| {
        let c = check(&r, id);
        assert_eq!(c["passed"], false, "{id} should fail: {c}");
        c["detail"].as_str().unwrap().to_owned()
    };
    assert!(failed("create").contains("expected HTTP 201, got HTTP 200"));
    assert!(failed("create.idempotency_key_echo").contains("no Idempotency-Key"));
    assert!(failed("idempotency.replay").contains("differs"));
    assert!(failed("idempotency.replayed_header").contains("no Idempotent-Replayed"));
    assert!(failed("idempotency.conflict").contains("expected HTTP 422, got HTTP 200"));
    assert!(failed("idempotency.key_required").contains("expected HTTP 400, got HTTP 200"));
    assert!(failed("version.missing").contains("expected a 4xx rejection, got HTTP 200"));
    assert!(failed("version.unsupported").contains("got HTTP 200"));
    assert!(failed("retrieve.unknown").contains("expected HTTP 404, got HTTP 200"));
    assert!(failed("malformed_json").contains("got HTTP 200"));
    assert!(failed("create.all_items").contains("HTTP 201"));
    // The session-dependent probes could not run; cancel got axum's empty 404/405.
    let skipped: Vec<&str> = r["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(
        skipped.contains(&"update") && skipped.contains(&"complete"),
        "{skipped:?}"
    );
    // No discovery document and no /carts route: no carts, no MCP (skipped, with the reason).
    assert!(skipped.contains(&"cart.create") && skipped.contains(&"mcp.create"));
    let reason = |id: &str| {
        r["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap()["reason"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(reason("cart.create").contains("POST /carts answered 404"));
    assert!(reason("mcp.create").contains("--mcp-url"));
    // It takes any token, any size, and runs every duplicate.
    assert!(failed("auth.wrong_bearer").contains("expected HTTP 401, got HTTP 200"));
    assert!(
        failed("body.oversize").contains("expected HTTP 413 for a 3145728-byte body, got HTTP 200")
    );
    assert!(failed("idempotency.in_flight").contains("IDEM-10"));
    assert!(r["failed"].as_u64().unwrap() >= 14);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_invalid_session_body_is_reported_with_its_jsonpath() {
    // A merchant that gets the status right but omits `capabilities`.
    let app = Router::new().route(
        "/checkout_sessions",
        post(|| async {
            (
                StatusCode::CREATED,
                [("content-type", "application/json")],
                broken_session("cs_1").to_string(),
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let out = checker(strings(&[
        "--base-url",
        &format!("http://{addr}"),
        "--item",
        "x",
        "--json",
    ]))
    .await;
    let r = report(&out);
    assert_eq!(out.status.code(), Some(1));
    let detail = check(&r, "create")["detail"].as_str().unwrap().to_owned();
    assert!(
        detail.contains("not a valid 2026-04-17 CheckoutSession")
            && detail.contains("capabilities"),
        "{detail}"
    );
}

/// A merchant that answers every create with 201 and the same strictly valid 2026-04-17
/// session, whatever `API-Version` asked.
async fn latest_only_merchant() -> String {
    let mut session = broken_session("cs_1");
    session["capabilities"] = json!({"payment": {"handlers": []}});
    let app = Router::new().route(
        "/checkout_sessions",
        post(move || {
            let body = session.to_string();
            async move {
                (
                    StatusCode::CREATED,
                    [("content-type", "application/json")],
                    body,
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_a_2026_04_17_answer_to_an_older_agent_fails_ver_02() {
    let base = latest_only_merchant().await;
    let run = |version: &str| {
        checker(strings(&[
            "--base-url",
            &base,
            "--api-version",
            version,
            "--item",
            "var_mug_pine",
            "--json",
        ]))
    };
    let latest = report(&run("2026-04-17").await);
    assert_eq!(check(&latest, "create")["passed"], true, "{latest:#}");
    for version in ["2025-09-29", "2026-01-16"] {
        let out = run(version).await;
        let r = report(&out);
        assert_eq!(out.status.code(), Some(1), "{r:#}");
        assert_eq!(r["api_version"], version);
        let create = check(&r, "create");
        assert_eq!(create["passed"], false, "{create}");
        let detail = create["detail"].as_str().unwrap();
        // `incomplete` and line-item `totals` are 2026-01-30 shapes.
        assert!(
            detail.starts_with(&format!("not a valid {version} CheckoutSession: $.")),
            "{detail}"
        );
    }
}

/// Not-applicable check ids of a report.
fn not_applicable(r: &Value) -> Vec<&str> {
    r["not_applicable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::too_many_lines)] // one run per version and store, each with its expectations
async fn conformance_every_released_version_passes_against_the_example_merchant() {
    // One merchant and vault; the checker at each version (VER-02: the merchant serves them all).
    let (w, listen) = webhook_world(None).await;
    for version in agentic_commerce::protocol::version::ApiVersion::RELEASED {
        let mut args = merchant_args(&w);
        args.extend(webhook_args(&listen));
        args.extend(strings(&[
            "--api-version",
            version.as_str(),
            "--psp-signing-secret",
            std::str::from_utf8(harness::VAULT_SIGNING_SECRET).unwrap(),
            "--psp-url",
            &w.vault,
            "--psp-bearer",
            ex::vault::DEV_AGENT_KEY,
            "--merchant-id",
            "trailhead_outfitters",
            "--json",
        ]));
        let out = checker(args).await;
        let r = report(&out);
        assert_eq!(out.status.code(), Some(0), "{version}: {r:#}");
        assert_eq!(r["api_version"], version.as_str());
        assert_eq!(r["failed"], 0, "{version}: {r:#}");
        // Carts and MCP are probed in the 2026-04-17 run (the example merchant offers both);
        // earlier versions do not define them. Nothing is skipped.
        assert_eq!(skipped(&r), Vec::<&str>::new(), "{version}: {r:#}");
        // Every check either ran and passed or does not exist in this version.
        let mut ids: Vec<&str> = r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        let absent = not_applicable(&r);
        ids.extend(&absent);
        ids.sort_unstable();
        let mut expected = EVERY_CHECK.to_vec();
        expected.extend(OPTIONAL_SERVICES);
        expected.sort_unstable();
        assert_eq!(ids, expected, "{version}");
        let expected_absent: &[&str] = match version.as_str() {
            "2026-04-17" => &[],
            "2026-01-30" => &[
                "idempotency.in_flight",
                "idempotency.retry_after",
                "cart.create",
                "cart.retrieve",
                "cart.update",
                "cart.cancel",
                "cart.retrieve.canceled",
                "cart.retrieve.unknown",
                "mcp.create",
                "mcp.idempotency.replay",
                "mcp.get",
                "mcp.error",
                "discovery",
                "idempotency.key_required",
                "idempotency.replayed_header",
                "version.missing",
                "version.missing.details",
                "version.unsupported",
                "version.unsupported.details",
            ],
            _ => &[
                "idempotency.in_flight",
                "idempotency.retry_after",
                "cart.create",
                "cart.retrieve",
                "cart.update",
                "cart.cancel",
                "cart.retrieve.canceled",
                "cart.retrieve.unknown",
                "mcp.create",
                "mcp.idempotency.replay",
                "mcp.get",
                "mcp.error",
                "discovery",
                "negotiation",
                "idempotency.key_required",
                "idempotency.replayed_header",
                "version.missing",
                "version.missing.details",
                "version.unsupported",
                "version.unsupported.details",
            ],
        };
        let mut sorted_absent = absent.clone();
        sorted_absent.sort_unstable();
        let mut want = expected_absent.to_vec();
        want.sort_unstable();
        assert_eq!(sorted_absent, want, "{version}");
        // A real purchase in every version; 2025-09-29 answers complete without `order`.
        let complete = check(&r, "complete")["detail"].as_str().unwrap();
        assert!(
            complete.starts_with("HTTP 200 completed"),
            "{version}: {complete}"
        );
        assert_eq!(
            complete.contains("order ord_"),
            *version != agentic_commerce::protocol::version::ApiVersion::V2025_09_29,
            "{version}: {complete}"
        );
        assert!(
            check(&r, "create")["detail"]
                .as_str()
                .unwrap()
                .starts_with(&format!("HTTP 201, valid {version} CheckoutSession")),
            "{version}"
        );
        // The purchase's order_create arrived, signed, in this version (WH-01, WH-09).
        let received = check(&r, "webhooks.received")["detail"].as_str().unwrap();
        assert!(
            received.starts_with("order_create for 1 completed session(s)"),
            "{version}: {received}"
        );
        // The update really selected the option, in that version's words.
        let update = check(&r, "update")["detail"].as_str().unwrap();
        assert!(
            update.contains("ship_standard selected"),
            "{version}: {update}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_unreachable_merchant_exits_2() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = checker(strings(&[
        "--base-url",
        &format!("http://127.0.0.1:{port}"),
        "--timeout",
        "5",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("merchant unreachable at http://127.0.0.1:"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_usage_errors_exit_2() {
    for (args, needle) in [
        // Flag syntax is clap's: its messages name the flag.
        (vec![], "--base-url <URL>"),
        (
            vec!["--base-url", "ftp://merchant.example"],
            "unsupported scheme",
        ),
        (
            vec![
                "--base-url",
                "http://127.0.0.1:1",
                "--api-version",
                "yesterday",
            ],
            "--api-version",
        ),
        (
            vec![
                "--base-url",
                "http://127.0.0.1:1",
                "--api-version",
                "2026-02-01",
            ],
            "not a released version (one of 2025-09-29, 2025-12-12, 2026-01-16, 2026-01-30, 2026-04-17)",
        ),
        (
            vec!["--base-url", "http://127.0.0.1:1", "--psp-bearer", "k"],
            "needs `--psp-url`",
        ),
        (
            vec![
                "--base-url",
                "http://127.0.0.1:1",
                "--webhook-listen",
                "127.0.0.1:0",
            ],
            "needs `--webhook-secret`",
        ),
        (
            vec![
                "--base-url",
                "http://127.0.0.1:1",
                "--webhook-listen",
                "127.0.0.1:0",
                "--webhook-secret",
                "short",
            ],
            "`--webhook-secret`: ",
        ),
        (
            vec!["--base-url", "http://127.0.0.1:1", "--webhook-wait", "5"],
            "`--webhook-wait` needs `--webhook-listen`",
        ),
        (
            vec!["--base-url", "http://127.0.0.1:1", "--frobnicate", "1"],
            "unexpected argument '--frobnicate'",
        ),
    ] {
        let out = checker(strings(&args)).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_business_rule_errors_fail_session_rules_chk_06() {
    // A real, schema-valid session from the example merchant, altered so that the selected
    // fulfillment option is not one of the offered ones (CHK-06), served on every create.
    let w = harness::world(None, Duration::ZERO).await;
    let mut session = harness::create(&w.client(), &["var_mug_pine"]).await.body;
    session["selected_fulfillment_options"] = json!([{"type": "shipping", "option_id": "ship_by_zeppelin", "item_ids": ["var_mug_pine"]}]);
    let body = session.to_string();
    let app = Router::new().route(
        "/checkout_sessions",
        post(move || {
            let body = body.clone();
            async move {
                (
                    StatusCode::CREATED,
                    [("content-type", "application/json")],
                    body,
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let out = checker(strings(&[
        "--base-url",
        &format!("http://{addr}"),
        "--item",
        "var_mug_pine",
        "--json",
    ]))
    .await;
    let r = report(&out);
    assert_eq!(out.status.code(), Some(1), "{r:#}");
    assert_eq!(check(&r, "create")["passed"], true, "{r:#}");
    let rules = check(&r, "session.rules");
    assert_eq!(rules["passed"], false, "{rules}");
    assert_eq!(rules["level"], "MUST");
    assert!(
        rules["detail"].as_str().unwrap().contains("CHK-06"),
        "{rules}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_three_ds_runs_delegate_authentication_at_the_psp_and_completes() {
    // The tent's total crosses the example merchant's 3-D Secure threshold.
    let w = harness::world(None, LATENCY).await;
    let mut args = merchant_args(&w);
    args.extend(strings(&[
        "--psp-signing-secret",
        std::str::from_utf8(harness::VAULT_SIGNING_SECRET).unwrap(),
        "--psp-url",
        &w.vault,
        "--psp-bearer",
        ex::vault::DEV_AGENT_KEY,
        "--item",
        "var_tent_2p",
        "--json",
    ]));
    let out = checker(args).await;
    let r = report(&out);
    assert_eq!(out.status.code(), Some(0), "{r:#}");
    assert_eq!(r["failed"], 0, "{r:#}");
    assert!(
        check(&r, "update")["detail"]
            .as_str()
            .unwrap()
            .ends_with("authentication_required"),
        "{r:#}"
    );
    // CHK-15: complete without a result is refused first.
    assert_eq!(
        check(&r, "complete.requires_3ds")["detail"],
        "HTTP 400 requires_3ds",
        "{r:#}"
    );
    // DA-01..06 at the vault, then a result the merchant verifies there: an order (CHK-14).
    let da = check(&r, "psp.delegate_authentication")["detail"]
        .as_str()
        .unwrap();
    assert!(da.ends_with(" authenticated"), "{r:#}");
    assert!(
        check(&r, "complete")["detail"]
            .as_str()
            .unwrap()
            .starts_with("HTTP 200 completed, order "),
        "{r:#}"
    );
    assert_eq!(check(&r, "cancel.completed")["passed"], true, "{r:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_three_ds_without_a_psp_checks_chk_15_and_skips_the_rest() {
    let w = harness::world(None, LATENCY).await;
    let mut args = merchant_args(&w);
    args.extend(strings(&["--item", "var_tent_2p", "--json"]));
    let out = checker(args).await;
    let r = report(&out);
    assert_eq!(out.status.code(), Some(0), "{r:#}");
    assert_eq!(r["failed"], 0, "{r:#}");
    assert_eq!(check(&r, "complete.requires_3ds")["passed"], true, "{r:#}");
    let skipped = r["skipped"].as_array().unwrap();
    for id in [
        "psp.delegate_authentication",
        "complete",
        "cancel.completed",
    ] {
        let s = skipped.iter().find(|s| s["id"] == id);
        assert!(s.is_some(), "{id} not skipped: {r:#}");
    }
    let why = skipped.iter().find(|s| s["id"] == "complete").unwrap()["reason"]
        .as_str()
        .unwrap();
    assert!(why.contains("--psp-url"), "{r:#}");
}

/// Flags for a run against the example merchant with a real purchase.
fn purchase_args(w: &harness::World, listen: &str) -> Vec<String> {
    let mut args = merchant_args(w);
    args.extend(webhook_args(listen));
    args.extend(strings(&[
        "--psp-signing-secret",
        std::str::from_utf8(harness::VAULT_SIGNING_SECRET).unwrap(),
        "--psp-url",
        &w.vault,
        "--psp-bearer",
        ex::vault::DEV_AGENT_KEY,
        "--json",
    ]));
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_webhooks_pass_against_the_example_merchant_on_postgres() {
    let Some(url) = std::env::var("DATABASE_URL").ok() else {
        eprintln!("SKIPPED: DATABASE_URL is not set");
        return;
    };
    let (w, listen) = webhook_world(Some(url)).await;
    let out = checker(purchase_args(&w, &listen)).await;
    let r = report(&out);
    assert_eq!(out.status.code(), Some(0), "{r:#}");
    assert_eq!(r["failed"], 0, "{r:#}");
    for id in WEBHOOK_CHECKS {
        assert_eq!(check(&r, id)["passed"], true, "{id}: {r:#}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_webhooks_signed_with_another_secret_fail_wh_01_with_the_reason() {
    let (w, listen) = webhook_world(None).await;
    let mut args = purchase_args(&w, &listen);
    // The checker verifies with another secret than the merchant signs with.
    let at = args.iter().position(|a| a == "--webhook-secret").unwrap();
    args[at + 1] = "not-the-merchants-webhook-secret".to_owned();
    args.extend(strings(&["--webhook-wait", "3"]));
    let out = checker(args).await;
    let r = report(&out);
    assert_eq!(out.status.code(), Some(1), "{r:#}");
    let signature = check(&r, "webhooks.signature");
    assert_eq!(signature["passed"], false, "{r:#}");
    assert_eq!(signature["level"], "MUST");
    let detail = signature["detail"].as_str().unwrap();
    assert!(detail.contains("401 invalid_signature"), "{detail}");
    // Nothing verified: the purchase's order_create never arrived as far as the checker knows.
    let received = check(&r, "webhooks.received");
    assert_eq!(received["passed"], false, "{r:#}");
    assert!(
        received["detail"]
            .as_str()
            .unwrap()
            .contains("no order_create within 3 s"),
        "{received}"
    );
    // The secret is never printed.
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("not-the-merchants-webhook-secret"));
}

/// A full order body of `kind` for order `id`, in 2026-04-17.
fn order_event(kind: &str, id: &str, status: &str) -> Value {
    json!({"type": kind, "data": {"type": "order", "id": id, "checkout_session_id": "cs_fake",
        "permalink_url": format!("https://merchant.example/orders/{id}"), "status": status}})
}

/// Posts `events` (body, API-Version) to `listen`, signed with the test secret, retrying the
/// connection until the checker listens; returns the answers' statuses.
async fn fake_sender(listen: String, events: Vec<(Value, &'static str)>) -> Vec<u16> {
    use agentic_commerce::trust::webhook::{self, WebhookSecret};
    let secret = WebhookSecret::new(harness::WEBHOOK_SECRET.to_vec()).unwrap();
    let url = format!("http://{listen}/agentic_checkout/webhooks/order_events");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut statuses = Vec::new();
    for (event, version) in events {
        let body = event.to_string().into_bytes();
        for attempt in 0.. {
            let signature = webhook::sign(&secret, time::OffsetDateTime::now_utc(), &body).unwrap();
            let sent = http
                .post(&url)
                .header("content-type", "application/json")
                .header("api-version", version)
                .header(webhook::HEADER_NAME, signature)
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(answer) => {
                    statuses.push(answer.status().as_u16());
                    break;
                }
                // The checker process starts slowly on a loaded machine.
                Err(_) if attempt < 1200 => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("the checker never listened: {e}"),
            }
        }
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_out_of_order_and_invalid_webhooks_fail_the_schema_and_order_checks() {
    let (w, listen) = webhook_world(None).await;
    let mut invalid = order_event("order_create", "ord_fake_3", "created");
    invalid["data"]
        .as_object_mut()
        .unwrap()
        .remove("permalink_url");
    let events = vec![
        // WH-09 order: an update before its order_create ...
        (
            order_event("order_update", "ord_fake_1", "shipped"),
            "2026-04-17",
        ),
        (
            order_event("order_create", "ord_fake_1", "created"),
            "2026-04-17",
        ),
        // ... a status after a terminal one ...
        (
            order_event("order_create", "ord_fake_2", "created"),
            "2026-04-17",
        ),
        (
            order_event("order_update", "ord_fake_2", "canceled"),
            "2026-04-17",
        ),
        (
            order_event("order_update", "ord_fake_2", "shipped"),
            "2026-04-17",
        ),
        // ... and an order without its permalink_url (WH-07: refused by the strict parse).
        (invalid, "2026-04-17"),
    ];
    let sender = tokio::spawn(fake_sender(listen.clone(), events));
    let out = checker(purchase_args(&w, &listen)).await;
    let statuses = sender.await.unwrap();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 400]);
    let r = report(&out);
    assert_eq!(out.status.code(), Some(1), "{r:#}");
    // The example merchant's own webhook is fine.
    assert_eq!(check(&r, "webhooks.received")["passed"], true, "{r:#}");
    assert_eq!(check(&r, "webhooks.signature")["passed"], true, "{r:#}");
    let schema = check(&r, "webhooks.schema");
    assert_eq!(schema["passed"], false, "{r:#}");
    let detail = schema["detail"].as_str().unwrap();
    assert!(
        detail.contains("refused 400") && detail.contains("permalink_url"),
        "{detail}"
    );
    let order = check(&r, "webhooks.order");
    assert_eq!(order["passed"], false, "{r:#}");
    assert_eq!(order["level"], "SHOULD");
    let detail = order["detail"].as_str().unwrap();
    assert!(
        detail.contains("order ord_fake_1: order_update before its order_create"),
        "{detail}"
    );
    assert!(
        detail.contains(
            "order ord_fake_2: order_update with status shipped after the terminal status canceled"
        ),
        "{detail}"
    );
}
