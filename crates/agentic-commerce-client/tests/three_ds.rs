//! `AcpClient::authenticate_payment` and `authentication_request` against the core's PSP
//! engine (its simulated 3-D Secure provider) over HTTP: the DA-02 branches (fingerprint,
//! `pending`, `not_supported`), a challenge, and the checkout's `authentication_result`; and
//! `AcpClient::prepare_payment`: the handler, the delegated token, 3-D Secure first when the
//! session asks for it, the complete request, and each refusal.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::sync::Arc;

use agentic_commerce::engine::psp::{
    BearerKeys, Identity, InMemoryVault, PspEngine, SimulatedThreeDs,
};
use agentic_commerce::engine::store::{InMemoryStore, InMemoryTokenLedger};
use agentic_commerce::parse;
use agentic_commerce::spec::latest::agentic_checkout::{AuthenticationOutcome, CheckoutSession};
use agentic_commerce::spec::latest::delegate_authentication::{
    AuthenticationPaymentMethod, AuthenticationSessionStatus as S, Channel,
    DelegateAuthenticationCreateRequest, FingerprintCompletion,
};
use agentic_commerce::trust::signature::{Algorithm, HmacSha256Key, RequestSigner, Verifier};
use agentic_commerce_client::{
    AcpClient, PaymentError, PaymentMethod, ThreeDsChannel, authentication_request,
};
use serde_json::{Value, json};

const AGENT_KEY: &str = "agent-key-0123456789";
const SECRET: &[u8] = b"a-signing-secret-of-32-bytes-or-more!";

/// A PSP on loopback with `three_ds`; a client of it.
async fn psp(three_ds: SimulatedThreeDs) -> AcpClient {
    let engine = PspEngine::builder(
        InMemoryVault::default(),
        three_ds,
        InMemoryStore::default(),
        InMemoryTokenLedger::default(),
    )
    .agents(BearerKeys::new().key(AGENT_KEY, Identity::new("agent")))
    .verifier(
        Verifier::new([Algorithm::HS256]).with_key("agent", HmacSha256Key::new(SECRET).unwrap()),
    )
    .build()
    .unwrap();
    let app = agentic_commerce_axum::router(Arc::new(engine)).into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    AcpClient::builder(&format!("http://{addr}/"))
        .bearer_token(AGENT_KEY)
        .signer(RequestSigner::new(HmacSha256Key::new(SECRET).unwrap()))
        .build()
        .unwrap()
}

/// An `authentication_required` checkout session of 2026-04-17 with `flow` as its preference.
fn session(flow: &str) -> CheckoutSession {
    let value = json!({"id": "cs_3ds", "status": "authentication_required", "currency": "usd",
        "capabilities": {}, "line_items": [], "fulfillment_options": [], "messages": [], "links": [],
        "totals": [{"type": "subtotal", "display_text": "Subtotal", "amount": 90_000},
            {"type": "total", "display_text": "Total", "amount": 95_000}],
        "authentication_metadata": {"directory_server": "visa",
            "acquirer_details": {"acquirer_bin": "400000", "acquirer_country": "US",
                "acquirer_merchant_id": "shop_1", "merchant_name": "Shop"},
            "flow_preference": {"type": flow}}});
    parse::from_value(&value).unwrap()
}

fn card() -> AuthenticationPaymentMethod {
    let card = json!({"type": "card", "number": "4242424242424242", "exp_month": "12",
        "exp_year": "2030", "name": "Ada Lovelace"});
    parse::from_value(&card).unwrap()
}

fn browser() -> Channel {
    let channel = json!({"type": "browser", "browser": {"accept_header": "text/html",
        "ip_address": "192.0.2.1", "javascript_enabled": false, "language": "en-US",
        "user_agent": "test-agent"}});
    parse::from_value(&channel).unwrap()
}

fn request(flow: &str) -> DelegateAuthenticationCreateRequest {
    let notify = "https://agent.example/3ds".parse().unwrap();
    authentication_request(&session(flow), card(), browser(), notify).unwrap()
}

fn wire<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

#[test]
fn the_request_carries_the_sessions_metadata_total_and_id() {
    let r = wire(&request("challenge"));
    assert_eq!(r["merchant_id"], "shop_1");
    assert_eq!(r["acquirer_details"]["acquirer_bin"], "400000");
    assert_eq!(r["flow_preference"]["type"], "challenge");
    assert_eq!(r["amount"]["value"], 95_000, "the total, not the subtotal");
    assert_eq!(
        r["amount"]["currency"], "USD",
        "delegate authentication's case"
    );
    assert_eq!(r["checkout_session_id"], "cs_3ds");
    // Without metadata there is nothing to authenticate against.
    let mut plain = session("frictionless");
    plain.authentication_metadata = None;
    assert_eq!(r["channel"]["browser"]["user_agent"], "test-agent");
    assert_eq!(r["challenge_notification_url"], "https://agent.example/3ds");
    let notify = "https://agent.example/3ds".parse().unwrap();
    assert!(authentication_request(&plain, card(), browser(), notify).is_none());
}

#[tokio::test]
async fn da_02_a_fingerprint_is_followed_by_authenticate_and_the_result_goes_on_complete() {
    let psp = psp(SimulatedThreeDs::default()).await;
    let done = psp
        .authenticate_payment(&request("frictionless"), FingerprintCompletion::Y)
        .await
        .unwrap();
    assert_eq!(done.created.status, S::ActionRequired);
    assert_eq!(
        done.authenticated.as_ref().unwrap().status,
        S::Authenticated
    );
    assert_eq!(*done.status(), S::Authenticated);
    assert!(done.may_authorize());
    assert_eq!(
        done.session_id(),
        done.created.authentication_session_id.as_str()
    );
    // CHK-14: the provider's values, as the merchant will compare them at the PSP.
    let provider = wire(done.result.authentication_result.as_ref().unwrap());
    let result = wire(&done.checkout_result());
    assert_eq!(result["outcome"], "authenticated");
    let details = &result["outcome_details"];
    for member in [
        "three_ds_cryptogram",
        "electronic_commerce_indicator",
        "transaction_id",
        "version",
    ] {
        assert_eq!(details[member], provider[member], "{member}");
    }
}

#[tokio::test]
async fn da_03_a_fingerprint_that_timed_out_is_reported_as_n() {
    let psp = psp(SimulatedThreeDs::default()).await;
    let done = psp
        .authenticate_payment(&request("frictionless"), FingerprintCompletion::N)
        .await
        .unwrap();
    // The simulated issuer answers `N` with an attempt (`A`).
    assert_eq!(*done.status(), S::Attempted);
    assert!(done.may_authorize());
    assert_eq!(
        done.checkout_result().outcome,
        AuthenticationOutcome::AttemptAcknowledged
    );
}

#[tokio::test]
async fn da_04_a_challenge_is_retrieved_after_authenticate() {
    let psp = psp(SimulatedThreeDs::default()).await;
    let done = psp
        .authenticate_payment(&request("challenge"), FingerprintCompletion::Y)
        .await
        .unwrap();
    let step = done.authenticated.as_ref().unwrap();
    assert_eq!(step.status, S::ActionRequired);
    assert!(step.action.as_ref().unwrap().challenge.is_some());
    assert_eq!(*done.status(), S::Authenticated);
}

#[tokio::test]
async fn da_02_pending_is_authenticated_with_u_and_not_supported_is_not_authenticated() {
    let psp_pending = psp(SimulatedThreeDs::default().create_status(S::Pending)).await;
    let done = psp_pending
        .authenticate_payment(&request("frictionless"), FingerprintCompletion::N)
        .await
        .unwrap();
    assert_eq!(done.created.status, S::Pending);
    // `U`, not the `N` passed for a fingerprint: the simulated issuer authenticates it.
    assert_eq!(*done.status(), S::Authenticated);

    let unsupported = psp(SimulatedThreeDs::default().create_status(S::NotSupported)).await;
    let done = unsupported
        .authenticate_payment(&request("frictionless"), FingerprintCompletion::Y)
        .await
        .unwrap();
    assert!(done.authenticated.is_none());
    assert_eq!(*done.status(), S::NotSupported);
    assert!(!done.may_authorize());
    let result = done.checkout_result();
    assert_eq!(result.outcome, AuthenticationOutcome::NotSupported);
    assert!(result.outcome_details.is_none());
}

/// `session(flow)` as `status`, offering one delegated-card handler of merchant `shop_1` (and,
/// listed first, one that takes no delegated token).
fn payable(flow: &str, status: &str) -> CheckoutSession {
    let mut value = wire(&session(flow));
    value["status"] = json!(status);
    let handler = |id: &str, delegated: bool| {
        json!({"id": id, "name": "dev.acp.tokenized.card", "version": "2026-04-17",
            "spec": "https://acp.example/handlers/card", "requires_delegate_payment": delegated,
            "requires_pci_compliance": false, "psp": "psp_1",
            "config_schema": "https://acp.example/handlers/card/config.json",
            "instrument_schemas": [], "config": {"merchant_id": "shop_1", "psp": "psp_1"}})
    };
    value["capabilities"]["payment"] =
        json!({"handlers": [handler("invoice", false), handler("card_tokenized", true)]});
    parse::from_value(&value).unwrap()
}

fn method(three_ds: bool) -> PaymentMethod {
    let delegated = json!({"type": "card", "card_number_type": "fpan", "number": "4242424242424242",
        "exp_month": "12", "exp_year": "2030", "name": "Ada Lovelace", "cvc": "123",
        "display_card_funding_type": "credit", "display_brand": "visa", "display_last4": "4242",
        "metadata": {}});
    let risk = json!({"type": "card_testing", "score": 3, "action": "authorized"});
    let method = PaymentMethod::new(
        parse::from_value(&delegated).unwrap(),
        vec![parse::from_value(&risk).unwrap()],
    );
    if three_ds {
        let notify = "https://agent.example/3ds".parse().unwrap();
        method.with_three_ds(ThreeDsChannel::new(card(), browser(), notify))
    } else {
        method
    }
}

fn in_15_minutes() -> agentic_commerce::Timestamp {
    agentic_commerce::Timestamp(time::OffsetDateTime::now_utc() + time::Duration::minutes(15))
}

#[tokio::test]
async fn dp_03_a_ready_session_is_paid_with_a_token_bound_to_it_through_the_delegated_handler() {
    let psp = psp(SimulatedThreeDs::default()).await;
    let paid = psp
        .prepare_payment(
            &payable("frictionless", "ready_for_payment"),
            &method(false),
            in_15_minutes(),
        )
        .await
        .unwrap();
    assert!(paid.token.starts_with("vt_"), "{}", paid.token);
    assert_eq!(
        (paid.handler_id.as_str(), paid.merchant_id.as_str()),
        ("card_tokenized", "shop_1")
    );
    assert!(paid.authentication.is_none());
    let request = wire(&paid.request);
    assert_eq!(request["payment_data"]["handler_id"], "card_tokenized");
    let credential = &request["payment_data"]["instrument"]["credential"];
    assert_eq!(credential["type"], "spt");
    assert_eq!(credential["token"], paid.token.as_str());
    assert!(credential.get("authentication_session_id").is_none());
    assert!(request.get("authentication_result").is_none());
    // Debug shows neither the card number nor the CVC.
    let debug = format!("{:?}", method(true));
    assert!(
        !debug.contains("4242424242424242") && !debug.contains("\"123\""),
        "{debug}"
    );
}

#[tokio::test]
async fn chk_14_after_3ds_the_complete_request_carries_the_session_and_its_result() {
    let psp = psp(SimulatedThreeDs::default()).await;
    let paid = psp
        .prepare_payment(
            &payable("challenge", "authentication_required"),
            &method(true),
            in_15_minutes(),
        )
        .await
        .unwrap();
    let done = paid.authentication.as_ref().unwrap();
    assert_eq!(*done.status(), S::Authenticated);
    let request = wire(&paid.request);
    let credential = &request["payment_data"]["instrument"]["credential"];
    assert_eq!(credential["authentication_session_id"], done.session_id());
    assert_eq!(request["authentication_result"]["outcome"], "authenticated");
}

#[tokio::test]
async fn da_05_a_session_that_cannot_be_paid_this_way_is_refused_before_anything_is_sent() {
    let psp = psp(SimulatedThreeDs::default().create_status(S::NotSupported)).await;
    let refused = |r: Result<_, PaymentError>| r.err().unwrap();
    let incomplete = payable("frictionless", "incomplete");
    assert!(matches!(
        refused(
            psp.prepare_payment(&incomplete, &method(true), in_15_minutes())
                .await
        ),
        PaymentError::NotPayable(_)
    ));
    let mut no_handler = payable("frictionless", "ready_for_payment");
    no_handler.capabilities.payment = None;
    assert!(matches!(
        refused(
            psp.prepare_payment(&no_handler, &method(true), in_15_minutes())
                .await
        ),
        PaymentError::NoHandler
    ));
    let three_ds = payable("frictionless", "authentication_required");
    assert!(matches!(
        refused(
            psp.prepare_payment(&three_ds, &method(false), in_15_minutes())
                .await
        ),
        PaymentError::NoThreeDsChannel
    ));
    let mut no_metadata = three_ds.clone();
    no_metadata.authentication_metadata = None;
    assert!(matches!(
        refused(
            psp.prepare_payment(&no_metadata, &method(true), in_15_minutes())
                .await
        ),
        PaymentError::NoAuthenticationMetadata
    ));
    // DA-05, DA-06: the provider does not support the card: no token, no complete request.
    match refused(
        psp.prepare_payment(&three_ds, &method(true), in_15_minutes())
            .await,
    ) {
        PaymentError::NotAuthorized(done) => assert_eq!(*done.status(), S::NotSupported),
        other => panic!("{other}"),
    }
}
