//! The PSP engine: `delegate_payment` (DP-01..18), charges (DP-03..11, IDEM-03), and
//! `delegate_authentication` with its state rules (DA-01..13).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use agentic_commerce::engine::psp::{
    BearerKeys, Identity, InMemoryVault, PspEngine, PspEvent, PspEvents, SimulatedThreeDs,
};
use agentic_commerce::engine::store::{InMemoryStore, InMemoryTokenLedger, ResourceKind};
use agentic_commerce::parse;
use agentic_commerce::spec::latest::delegate_authentication::{
    AuthenticationSessionStatus, DelegateAuthenticationSession,
};
use agentic_commerce::spec::latest::delegate_payment::{
    DelegatePaymentError, DelegatePaymentResponse,
};
use agentic_commerce::trust::signature::{Algorithm, HmacSha256Key, Verifier};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{AGENT_KEY, Answer, Call, OTHER_KEY, SIGNING_SECRET, now};

const SHOP_KEY: &str = "shop-key-0123456789abcdef";
const OTHER_SHOP_KEY: &str = "other-shop-key-0123456789";
const CARD: &str = "4242424242424242";

/// A change to a valid request body.
type Change = Box<dyn Fn(&mut Value)>;

type Psp = PspEngine<InMemoryVault, SimulatedThreeDs, InMemoryStore, InMemoryTokenLedger>;

/// Records every operator event as text.
#[derive(Debug, Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl PspEvents for Recorder {
    fn report(&self, event: &PspEvent<'_>) {
        let text = match event {
            PspEvent::ChargeRefused {
                merchant,
                violations,
            } => format!("charge by {merchant}: {violations}"),
            other => format!("{other:?}"),
        };
        self.0.lock().unwrap().push(text);
    }
}

impl Recorder {
    fn all(&self) -> String {
        self.0.lock().unwrap().join("\n")
    }
}

fn psp_with(three_ds: SimulatedThreeDs, events: Recorder) -> Psp {
    PspEngine::builder(
        InMemoryVault::default(),
        three_ds,
        InMemoryStore::default(),
        InMemoryTokenLedger::default(),
    )
    .agents(
        BearerKeys::new()
            .key(AGENT_KEY, Identity::new("agent"))
            .key(OTHER_KEY, Identity::new("other")),
    )
    .merchants(
        BearerKeys::new()
            .key(SHOP_KEY, Identity::new("shop_1"))
            .key(OTHER_SHOP_KEY, Identity::new("shop_2")),
    )
    .verifier(
        Verifier::new([Algorithm::HS256])
            .with_key("agent", HmacSha256Key::new(SIGNING_SECRET).unwrap()),
    )
    .events(events)
    .build()
    .unwrap()
}

fn psp() -> (Psp, Recorder) {
    let events = Recorder::default();
    (
        psp_with(SimulatedThreeDs::default(), events.clone()),
        events,
    )
}

async fn send(call: &Call, engine: &Psp) -> Answer {
    Answer::from(engine.handle_at(&call.parts(), &call.body, now()).await)
}

fn in_minutes(minutes: i64) -> String {
    (OffsetDateTime::now_utc() + time::Duration::minutes(minutes))
        .format(&Rfc3339)
        .unwrap()
}

/// A valid `delegate_payment` request (the official example's shape).
fn dp_body(max: i64) -> Value {
    json!({
        "payment_method": {
            "type": "card", "card_number_type": "fpan", "virtual": false, "number": CARD,
            "exp_month": "12", "exp_year": "2030", "name": "Ada Lovelace", "cvc": "123",
            "display_card_funding_type": "credit", "display_brand": "visa",
            "display_last4": "4242", "metadata": {}
        },
        "allowance": {
            "reason": "one_time", "max_amount": max, "currency": "usd",
            "checkout_session_id": "cs_secret_42", "merchant_id": "shop_1",
            "expires_at": in_minutes(15)
        },
        "risk_signals": [{"type": "card_testing", "score": 3, "action": "authorized"}],
        "metadata": {"source": "test"}
    })
}

fn delegate(body: &Value) -> Call {
    Call::post("/agentic_commerce/delegate_payment", body)
}

async fn token(engine: &Psp, max: i64) -> String {
    let answer = send(&delegate(&dp_body(max)), engine).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.id()
}

fn charge(merchant_key: &str, token: &str, amount: i64, key: &str) -> Call {
    let body = json!({"token": token, "amount": amount, "currency": "usd",
        "checkout_session_id": "cs_secret_42"});
    Call::post("/charges", &body)
        .without("API-Version")
        .without("Signature")
        .without("Timestamp")
        .header("Authorization", &format!("Bearer {merchant_key}"))
        .header("Idempotency-Key", key)
}

fn assert_dp_error(answer: &Answer, status: u16, code: &str, param: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(answer.code(), code, "{}", answer.body);
    assert_eq!(answer.body["param"], param, "{}", answer.body);
    // The delegate-payment error shape (ERR-03), never the card.
    parse::from_value_strict::<DelegatePaymentError>(&answer.body).unwrap();
    assert!(!answer.body.to_string().contains(CARD));
}

#[tokio::test]
async fn dp_01_02_issues_a_token_bound_to_its_allowance_without_the_card() {
    let (engine, _) = psp();
    let call = delegate(&dp_body(2000));
    let answer = send(&call, &engine).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    parse::from_value_strict::<DelegatePaymentResponse>(&answer.body).unwrap();
    let id = answer.id();
    assert!(id.starts_with("vt_"));
    assert_eq!(answer.body["metadata"]["merchant_id"], "shop_1");
    let key = call
        .headers
        .iter()
        .find(|(n, _)| n == "Idempotency-Key")
        .unwrap()
        .1
        .clone();
    assert_eq!(answer.body["metadata"]["idempotency_key"], key.as_str());
    assert_eq!(answer.header("idempotency-key"), Some(key.as_str()));
    assert_eq!(answer.header("api-version"), Some("2026-04-17"));
    // The vault keeps the card; the engine the allowance, bound to the token.
    assert!(engine.vault().contains(&id));
    let stored = engine.store().get(ResourceKind::PaymentToken, &id).unwrap();
    assert!(!stored.document.contains(CARD));
    let stored: Value = serde_json::from_str(&stored.document).unwrap();
    assert_eq!(stored["allowance"]["max_amount"], 2000);
    assert_eq!(stored["last4"], "4242");
}

#[tokio::test]
async fn dp_rules_refuse_with_invalid_card_and_the_param() {
    let (engine, _) = psp();
    let cases: Vec<(&str, Change, &str)> = vec![
        (
            "DP-12",
            Box::new(|b| b["payment_method"]["type"] = json!("bank")),
            "$.payment_method.type",
        ),
        (
            "DP-13 Luhn",
            Box::new(|b| b["payment_method"]["number"] = json!("4242424242424241")),
            "$.payment_method.number",
        ),
        (
            "DP-14",
            Box::new(|b| b["payment_method"]["exp_month"] = json!("13")),
            "$.payment_method.exp_month",
        ),
        (
            "DP-16",
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("metadata");
            }),
            "$.metadata",
        ),
        (
            "DP-17",
            Box::new(|b| b["risk_signals"][0]["action"] = json!("shrug")),
            "$.risk_signals[0].action",
        ),
        (
            "DP-04 expired at issue",
            Box::new(|b| b["allowance"]["expires_at"] = json!(in_minutes(-1))),
            "$.allowance.expires_at",
        ),
        (
            "DP-06 nothing to charge",
            Box::new(|b| b["allowance"]["max_amount"] = json!(0)),
            "$.allowance.max_amount",
        ),
        (
            "closed schema",
            Box::new(|b| b["allowance"]["surprise"] = json!(true)),
            "$.allowance.surprise",
        ),
    ];
    for (rule, change, param) in cases {
        let mut body = dp_body(2000);
        change(&mut body);
        let answer = send(&delegate(&body), &engine).await;
        assert_eq!(answer.status, 400, "{rule}: {}", answer.body);
        assert_dp_error(&answer, 400, "invalid_card", param);
    }
    assert!(engine.vault().is_empty(), "nothing was vaulted");
}

#[tokio::test]
async fn dp_hdr_sig_ver_unauthenticated_unsigned_and_unversioned_requests_are_refused() {
    let (engine, _) = psp();
    let body = dp_body(2000);
    let no_key = send(&delegate(&body).without("Authorization"), &engine).await;
    assert_eq!(no_key.status, 401, "{}", no_key.body);
    // A merchant's key is not an agent's.
    let merchant = send(
        &delegate(&body).header("Authorization", &format!("Bearer {SHOP_KEY}")),
        &engine,
    )
    .await;
    assert_eq!(merchant.status, 401, "{}", merchant.body);
    // SIG-01: delegate_payment must be signed, and the signature must be over this body.
    let forged = delegate(&body).header("Signature", "AAAA");
    let answer = send(&forged, &engine).await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert_eq!(answer.code(), "invalid_signature");
    let unversioned = send(&delegate(&body).without("API-Version"), &engine).await;
    assert_eq!(unversioned.status, 400, "{}", unversioned.body);
    assert!(unversioned.body["supported_versions"].is_array());
    assert!(engine.vault().is_empty());
}

#[tokio::test]
async fn idem_delegate_payment_replays_and_refuses_another_body_under_the_key() {
    let (engine, _) = psp();
    let call = delegate(&dp_body(2000));
    let first = send(&call, &engine).await;
    let again = send(&call, &engine).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(engine.vault().len(), 1, "one card, one token");
    // Same key, another body (re-signed): IDEM-06 conflict.
    let key = call
        .headers
        .iter()
        .find(|(n, _)| n == "Idempotency-Key")
        .unwrap()
        .1
        .clone();
    let other = delegate(&dp_body(3000)).header("Idempotency-Key", &key);
    let conflict = send(&other, &engine).await;
    assert_eq!(conflict.status, 422, "{}", conflict.body);
    assert_eq!(conflict.code(), "idempotency_conflict");
    // Another agent's same key is its own.
    let theirs = delegate(&dp_body(2000))
        .header("Idempotency-Key", &key)
        .header("Authorization", &format!("Bearer {OTHER_KEY}"));
    let answer = send(&theirs, &engine).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_ne!(answer.id(), first.id());
}

#[tokio::test]
async fn dp_03_11_a_charge_within_the_allowance_succeeds_once() {
    let (engine, _) = psp();
    let token = token(&engine, 2000).await;
    let ok = send(&charge(SHOP_KEY, &token, 1999, "ch-1"), &engine).await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(ok.body["status"], "succeeded");
    assert_eq!(ok.body["amount"], 1999);
    assert_eq!(ok.body["last4"], "4242");
    assert_eq!(ok.header("idempotency-key"), Some("ch-1"));
    let second = send(&charge(SHOP_KEY, &token, 1999, "ch-2"), &engine).await;
    assert_eq!(second.status, 402, "{}", second.body);
    assert_eq!(second.code(), "already_used");
    assert_eq!(second.body["param"], "$.token");
    // Unknown tokens, missing keys, bad credentials.
    let unknown = send(&charge(SHOP_KEY, "vt_nope", 1, "ch-3"), &engine).await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    let no_key = send(
        &charge(SHOP_KEY, &token, 1, "x").without("Idempotency-Key"),
        &engine,
    )
    .await;
    assert_eq!(no_key.status, 400, "{}", no_key.body);
    assert_eq!(no_key.code(), "idempotency_key_required");
    // An agent's key is not a merchant's.
    let agent = send(&charge(AGENT_KEY, &token, 1, "ch-4"), &engine).await;
    assert_eq!(agent.status, 401, "{}", agent.body);
}

#[tokio::test]
async fn dp_10_a_token_bound_to_one_merchant_is_refused_to_another_whatever_the_body_says() {
    let (engine, events) = psp();
    let token = token(&engine, 2000).await;
    let mut stolen = charge(OTHER_SHOP_KEY, &token, 1000, "ch-1");
    // The body names the right merchant: the credential decides.
    let mut body: Value = serde_json::from_slice(&stolen.body).unwrap();
    body["merchant_id"] = json!("shop_1");
    stolen.body = serde_json::to_vec(&body).unwrap();
    let answer = send(&stolen, &engine).await;
    assert_eq!(answer.status, 402, "{}", answer.body);
    assert_eq!(answer.code(), "merchant_mismatch");
    assert!(
        !answer.body.to_string().contains("shop_1"),
        "{}",
        answer.body
    );
    assert!(
        events.all().contains("shop_1"),
        "the operator sees the detail"
    );
    // Still unused: its merchant charges it.
    let owner = send(&charge(SHOP_KEY, &token, 1000, "ch-2"), &engine).await;
    assert_eq!(owner.status, 201, "{}", owner.body);
}

#[tokio::test]
async fn dp_03_over_allowance_answers_the_public_form_only() {
    let (engine, events) = psp();
    let token = token(&engine, 1234).await;
    let answer = send(&charge(SHOP_KEY, &token, 5000, "ch-1"), &engine).await;
    assert_eq!(answer.status, 402, "{}", answer.body);
    assert_eq!(answer.code(), "amount_exceeded");
    let text = answer.body.to_string();
    for secret in ["1234", "shop_1", "cs_secret_42"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    // The detailed form went to the operator.
    let log = events.all();
    assert!(log.contains("1234") && log.contains("5000"), "{log}");
    // The token was not consumed by the refused charge.
    let ok = send(&charge(SHOP_KEY, &token, 1234, "ch-2"), &engine).await;
    assert_eq!(ok.status, 201, "{}", ok.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dp_11_many_concurrent_charges_of_one_token_exactly_one_succeeds() {
    for _ in 0..5 {
        let (engine, _) = psp();
        let engine = Arc::new(engine);
        let token = token(&engine, 2000).await;
        let barrier = Arc::new(tokio::sync::Barrier::new(32));
        let tasks: Vec<_> = (0..32)
            .map(|i| {
                let (engine, barrier) = (Arc::clone(&engine), Arc::clone(&barrier));
                let call = charge(SHOP_KEY, &token, 1500, &format!("race-{i}"));
                tokio::spawn(async move {
                    barrier.wait().await;
                    send(&call, &engine).await
                })
            })
            .collect();
        let mut ok = 0;
        for task in tasks {
            let answer = task.await.unwrap();
            match answer.status {
                201 => ok += 1,
                402 => assert_eq!(answer.code(), "already_used", "{}", answer.body),
                other => panic!("unexpected {other}: {}", answer.body),
            }
        }
        assert_eq!(ok, 1);
    }
}

#[tokio::test]
async fn idem_03_08_charges_replay_per_merchant() {
    let (engine, _) = psp();
    let token = token(&engine, 2000).await;
    let call = charge(SHOP_KEY, &token, 1000, "same-key");
    let first = send(&call, &engine).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let retry = send(&call, &engine).await;
    assert_eq!(retry.status, 201, "{}", retry.body);
    assert_eq!(
        retry.body["id"], first.body["id"],
        "the same charge, not a second"
    );
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    // Another amount under the key: a conflict, not a replay.
    let changed = send(&charge(SHOP_KEY, &token, 999, "same-key"), &engine).await;
    assert_eq!(changed.status, 422, "{}", changed.body);
    // Another merchant's same key is its own scope: no replay of shop_1's charge.
    let other = send(&charge(OTHER_SHOP_KEY, &token, 1000, "same-key"), &engine).await;
    assert_eq!(other.status, 402, "{}", other.body);
    assert_ne!(other.body["id"], first.body["id"]);
}

// --- delegate_authentication -------------------------------------------------------------

fn browser() -> Value {
    json!({"type": "browser", "browser": {
        "accept_header": "text/html", "ip_address": "192.0.2.1", "javascript_enabled": false,
        "language": "en-US", "user_agent": "Mozilla/5.0"}})
}

fn da_create(challenge: bool, with_channel: bool) -> Value {
    let mut body = json!({
        "merchant_id": "shop_1",
        "payment_method": {"type": "card", "number": "4917610000000000", "exp_month": "03",
            "exp_year": "2030", "name": "Jane Doe"},
        "amount": {"value": 1000, "currency": "EUR"},
        "checkout_session_id": "cs_1"
    });
    if with_channel {
        body["channel"] = browser();
        body["challenge_notification_url"] = json!("https://agent.example/3ds");
    }
    if challenge {
        body["flow_preference"] = json!({"type": "challenge", "challenge": {"type": "preferred"}});
    }
    body
}

async fn da_session(engine: &Psp, body: &Value) -> Answer {
    let answer = send(&Call::post("/delegate_authentication", body), engine).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    parse::from_value_strict::<DelegateAuthenticationSession>(&answer.body).unwrap();
    answer
}

fn authenticate(id: &str, completion: &str) -> Call {
    Call::post(
        &format!("/delegate_authentication/{id}/authenticate"),
        &json!({"fingerprint_completion": completion}),
    )
}

#[tokio::test]
async fn da_01_02_06_create_authenticate_retrieve_frictionless() {
    let (engine, _) = psp();
    let created = da_session(&engine, &da_create(false, true)).await;
    let id = created.body["authentication_session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(created.body["status"], "action_required");
    assert_eq!(created.body["action"]["type"], "fingerprint");
    assert!(created.body["action"]["fingerprint"]["three_ds_method_url"].is_string());
    assert!(!created.body.to_string().contains("4917610000000000"));

    let done = send(&authenticate(&id, "Y"), &engine).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.body["status"], "authenticated");
    assert!(
        done.body.get("authentication_result").is_none(),
        "{}",
        done.body
    );

    let got = send(
        &Call::get(&format!("/delegate_authentication/{id}")),
        &engine,
    )
    .await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body["status"], "authenticated");
    assert_eq!(got.body["authentication_result"]["trans_status"], "Y");
    assert!(got.body["authentication_result"]["three_ds_cryptogram"].is_string());

    // DA-02, DA-05: a final session is not authenticated again.
    let again = send(&authenticate(&id, "Y"), &engine).await;
    assert_eq!(again.status, 422, "{}", again.body);
    assert_eq!(again.code(), "invalid_state");
}

#[tokio::test]
async fn da_04_a_challenge_is_concluded_by_retrieve_not_by_authenticate() {
    let (engine, _) = psp();
    let created = da_session(&engine, &da_create(true, true)).await;
    let id = created.body["authentication_session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let challenged = send(&authenticate(&id, "Y"), &engine).await;
    assert_eq!(challenged.status, 200, "{}", challenged.body);
    assert_eq!(challenged.body["status"], "action_required");
    assert_eq!(challenged.body["action"]["type"], "challenge");
    assert!(challenged.body["action"]["challenge"]["acs_url"].is_string());
    let twice = send(&authenticate(&id, "Y"), &engine).await;
    assert_eq!(twice.status, 422, "{}", twice.body);
    let got = send(
        &Call::get(&format!("/delegate_authentication/{id}")),
        &engine,
    )
    .await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body["status"], "authenticated");
    assert!(got.body["authentication_result"].is_object());
    // Stored: a second read is the same without asking the provider again.
    let stored = engine
        .store()
        .get(ResourceKind::AuthenticationSession, &id)
        .unwrap();
    let stored: Value = serde_json::from_str(&stored.document).unwrap();
    assert_eq!(stored["state"]["status"], "authenticated");
}

#[tokio::test]
async fn da_02_pending_needs_u_and_not_supported_cannot_be_authenticated() {
    let events = Recorder::default();
    let pending = psp_with(
        SimulatedThreeDs::default().create_status(AuthenticationSessionStatus::Pending),
        events.clone(),
    );
    let created = da_session(&pending, &da_create(false, true)).await;
    assert_eq!(created.body["status"], "pending");
    let id = created.body["authentication_session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let y = send(&authenticate(&id, "Y"), &pending).await;
    assert_eq!(y.status, 400, "{}", y.body);
    assert_eq!(y.body["param"], "$.fingerprint_completion");
    let u = send(&authenticate(&id, "U"), &pending).await;
    assert_eq!(u.status, 200, "{}", u.body);
    assert_eq!(u.body["status"], "authenticated");

    let unsupported = psp_with(
        SimulatedThreeDs::default().create_status(AuthenticationSessionStatus::NotSupported),
        events,
    );
    let created = da_session(&unsupported, &da_create(false, true)).await;
    assert_eq!(created.body["status"], "not_supported");
    let id = created.body["authentication_session_id"].as_str().unwrap();
    let refused = send(&authenticate(id, "U"), &unsupported).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
}

#[tokio::test]
async fn da_12_channel_and_notification_url_on_create_or_authenticate() {
    let (engine, _) = psp();
    let created = da_session(&engine, &da_create(false, false)).await;
    let id = created.body["authentication_session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let missing = send(&authenticate(&id, "Y"), &engine).await;
    assert_eq!(missing.status, 400, "{}", missing.body);
    assert_eq!(missing.body["param"], "$.channel");
    let late = Call::post(
        &format!("/delegate_authentication/{id}/authenticate"),
        &json!({"fingerprint_completion": "Y", "channel": browser(),
            "challenge_notification_url": "https://agent.example/3ds"}),
    );
    let answer = send(&late, &engine).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["status"], "authenticated");
}

#[tokio::test]
async fn da_01_07_08_sessions_are_the_creators_and_bodies_are_checked() {
    let (engine, _) = psp();
    let created = da_session(&engine, &da_create(false, true)).await;
    let id = created.body["authentication_session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let theirs = Call::get(&format!("/delegate_authentication/{id}"))
        .header("Authorization", &format!("Bearer {OTHER_KEY}"));
    assert_eq!(send(&theirs, &engine).await.status, 404);
    let unknown = send(&Call::get("/delegate_authentication/auth_nope"), &engine).await;
    assert_eq!(unknown.status, 404);
    // Older versions have no delegate_authentication.
    let old = Call::new(
        http::Method::GET,
        &format!("/delegate_authentication/{id}"),
        None,
        "2026-01-30",
    );
    assert_eq!(send(&old, &engine).await.status, 404);
    // DA-07, DA-08.
    let mut bad_month = da_create(false, true);
    bad_month["payment_method"]["exp_month"] = json!("13");
    let answer = send(&Call::post("/delegate_authentication", &bad_month), &engine).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.body["param"], "$.payment_method.exp_month");
    assert!(!answer.body.to_string().contains("4917610000000000"));
    let mut zero = da_create(false, true);
    zero["amount"]["value"] = json!(0);
    let answer = send(&Call::post("/delegate_authentication", &zero), &engine).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.body["param"], "$.amount.value");
    // DA-14: unsigned is refused.
    let unsigned = Call::post("/delegate_authentication", &da_create(false, true))
        .without("Signature")
        .without("Timestamp");
    assert_eq!(send(&unsigned, &engine).await.status, 401);
}
