// The merchant pipeline case (`merchant_pipeline_create`), included by `cases.rs`: a create
// request through the whole merchant engine (signature on, strict parsing, in-memory store, a
// trivial business method) against the same steps wired by hand from the crate's parts, as the
// example merchant did before the engine. Both sides store the session and the response, and
// start from a fresh store every `ROUNDS_PER_STORE` requests (keys are never reused).

/// Polls a future that never waits (in-memory stores, a trivial merchant) to completion on
/// the current thread: no runtime, so the measurement is the pipeline only.
fn run_ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

const ROUNDS_PER_STORE: u64 = 20_000;

struct BenchShop {
    session: agentic_commerce::spec::latest::agentic_checkout::CheckoutSession,
    next: std::sync::atomic::AtomicU64,
}

impl BenchShop {
    fn priced(&self) -> agentic_commerce::spec::latest::agentic_checkout::CheckoutSession {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut session = self.session.clone();
        session.id = format!("cs_{n}").into();
        session
    }
}

impl agentic_commerce::engine::merchant::Merchant for BenchShop {
    async fn create_checkout(
        &self,
        _: &agentic_commerce::engine::merchant::Context,
        _: agentic_commerce::spec::latest::agentic_checkout::CheckoutSessionCreateRequest,
    ) -> Result<agentic_commerce::spec::latest::agentic_checkout::CheckoutSession, agentic_commerce::AcpError>
    {
        Ok(self.priced())
    }

    async fn update_checkout(
        &self,
        _: &agentic_commerce::engine::merchant::Context,
        session: agentic_commerce::spec::latest::agentic_checkout::CheckoutSession,
        _: agentic_commerce::spec::latest::agentic_checkout::CheckoutSessionUpdateRequest,
    ) -> Result<agentic_commerce::spec::latest::agentic_checkout::CheckoutSession, agentic_commerce::AcpError>
    {
        Ok(session)
    }

    async fn complete_checkout(
        &self,
        _: &agentic_commerce::engine::merchant::Context,
        session: agentic_commerce::spec::latest::agentic_checkout::CheckoutSession,
        _: agentic_commerce::spec::latest::agentic_checkout::CheckoutSessionCompleteRequest,
    ) -> Result<agentic_commerce::spec::latest::agentic_checkout::CheckoutSession, agentic_commerce::AcpError>
    {
        Ok(session)
    }
}

#[allow(clippy::too_many_lines)]
fn pipeline_case() -> Option<Case> {
    use std::collections::BTreeMap;
    use std::hint::black_box;

    use agentic_commerce::engine::merchant::{BearerKeys, Identity, MerchantEngine, Silent};
    use agentic_commerce::engine::store::InMemoryStore;
    use agentic_commerce::parse::registry::{self, Body};
    use agentic_commerce::protocol::capabilities::{SellerOffer, negotiate};
    use agentic_commerce::protocol::headers::{Operation, RequestHeaders};
    use agentic_commerce::protocol::version::ApiVersion;
    use agentic_commerce::spec::latest::agentic_checkout as co;
    use agentic_commerce::trust::idempotency::{
        Fingerprint, IdempotencyOutcome, IdempotencyPolicy, IdempotencyScope, IdempotencyStore,
        InMemoryIdempotencyStore, StoredResponse,
    };
    use agentic_commerce::trust::signature::{
        Algorithm, HmacSha256Key, RequestSigner, SignedRequest, Verifier,
    };

    const API_KEY: &str = "bench-merchant-api-key-0123456789";
    const SECRET: &[u8] = b"bench-signing-secret-0123456789ab";
    let mut create = create_request_value();
    create["line_items"] = serde_json::json!([{"id": "sku_00001"}, {"id": "sku_00002"}]);
    let body = to_bytes(&create);
    let now = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).ok()?;
    let signed = RequestSigner::new(HmacSha256Key::new(SECRET).ok()?)
        .sign(&body, now)
        .ok()?;
    let mut session: co::CheckoutSession =
        agentic_commerce::parse::from_value(&checkout_session_value(3)).ok()?;
    session.currency = "eur".parse().ok()?;
    let verifier = || {
        HmacSha256Key::new(SECRET)
            .ok()
            .map(|key| Verifier::new([Algorithm::HS256]).with_key("agent", key))
    };
    let headers = move |key: u64| -> Vec<(String, String)> {
        vec![
            ("authorization".to_owned(), format!("Bearer {API_KEY}")),
            ("api-version".to_owned(), "2026-04-17".to_owned()),
            ("content-type".to_owned(), "application/json".to_owned()),
            ("idempotency-key".to_owned(), format!("bench-key-{key}")),
            ("request-id".to_owned(), "req_bench".to_owned()),
            ("signature".to_owned(), signed.signature.clone()),
            ("timestamp".to_owned(), signed.timestamp.clone()),
        ]
    };
    let mut base = http::Request::builder()
        .method(http::Method::POST)
        .uri("/checkout_sessions");
    for (name, value) in headers(0) {
        base = base.header(name, value);
    }
    let (base_parts, ()) = base.body(()).ok()?.into_parts();

    // Ours: the engine, rebuilt with a fresh store every ROUNDS_PER_STORE requests.
    let shop_session = session.clone();
    let engine_verifier = verifier()?;
    let make_engine = move || {
        MerchantEngine::builder(
            BenchShop {
                session: shop_session.clone(),
                next: std::sync::atomic::AtomicU64::new(0),
            },
            InMemoryStore::default(),
            BearerKeys::new().key(API_KEY, Identity::new("agent")),
        )
        .api_base_url(url::Url::parse("https://shop.example/").ok()?)
        .strict(true)
        .verifier(engine_verifier.clone())
        .events(Silent)
        .build()
        .ok()
    };
    let mut engine = make_engine()?;
    let ours_body = body.clone();
    let mut ours_round = 0_u64;
    let ours = move || {
        ours_round += 1;
        if ours_round % ROUNDS_PER_STORE == 0 {
            if let Some(fresh) = make_engine() {
                engine = fresh;
            }
        }
        // The HTTP layer (hyper under axum) hands the engine parsed headers; only the key is new.
        let mut parts = base_parts.clone();
        let Ok(key) = http::HeaderValue::from_str(&format!("bench-key-{ours_round}")) else {
            return;
        };
        parts.headers.insert("idempotency-key", key);
        let response = run_ready(engine.handle_at(&parts, black_box(&ours_body), now));
        debug_assert_eq!(response.status(), 201, "{}", String::from_utf8_lossy(response.body()));
        black_box(response);
    };

    // Baseline: the example merchant's steps, by hand.
    let base_verifier = verifier()?;
    let mut store = InMemoryIdempotencyStore::new(IdempotencyPolicy::default());
    let mut documents: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut base_round = 0_u64;
    let base_session = session;
    let offer = SellerOffer::default();
    let baseline = move || {
        base_round += 1;
        if base_round % ROUNDS_PER_STORE == 0 {
            store = InMemoryIdempotencyStore::new(IdempotencyPolicy::default());
            documents = BTreeMap::new();
        }
        let pairs = headers(base_round);
        let Ok(parsed) = RequestHeaders::parse_with_body(
            Operation::CreateCheckoutSession,
            pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            true,
        ) else {
            return;
        };
        if !parsed.authorization().is_some_and(|t| t.matches(API_KEY)) {
            return;
        }
        let Ok(version) = parsed.negotiate_version(ApiVersion::RELEASED) else {
            return;
        };
        let signed_request = SignedRequest {
            body: black_box(&body),
            signature: parsed.signature().map(agentic_commerce::protocol::headers::Signature::as_str),
            timestamp: pairs.iter().find(|(n, _)| n == "timestamp").map(|(_, v)| v.as_str()),
        };
        if base_verifier.verify(&signed_request, now).is_err() {
            return;
        }
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(&body) else {
            return;
        };
        let Some(key) = parsed.idempotency_key() else {
            return;
        };
        let scope = IdempotencyScope::new("agent", "/checkout_sessions", key.clone());
        let Ok(fingerprint) = Fingerprint::of_body(&body) else {
            return;
        };
        let fingerprint = Fingerprint::from_canonical_bytes(
            &[version.as_str().as_bytes(), b"\n", fingerprint.as_bytes()].concat(),
        );
        let Ok(IdempotencyOutcome::Proceed(lease)) = store.begin(&scope, &fingerprint, now)
        else {
            return;
        };
        let Ok(checked) = registry::check_body(
            &version,
            Operation::CreateCheckoutSession,
            Body::Request,
            &value,
            true,
        ) else {
            return;
        };
        let Ok(request) = agentic_commerce::parse::from_value::<co::CheckoutSessionCreateRequest>(
            &checked,
        ) else {
            return;
        };
        let negotiation = negotiate(&request.capabilities, &offer);
        let mut created = base_session.clone();
        created.id = format!("cs_{base_round}").into();
        negotiation.apply_to(&mut created);
        if agentic_commerce::rules::has_errors(&agentic_commerce::rules::check_session(&created)) {
            return;
        }
        let Ok(response) = serde_json::to_vec(&created) else {
            return;
        };
        documents.insert(created.id.as_str().to_owned(), response.clone());
        let mut stored_headers: Vec<(String, String)> = parsed
            .echo_headers()
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v))
            .collect();
        stored_headers.push(("API-Version".to_owned(), version.to_string()));
        let stored = StoredResponse::new(201, response, stored_headers);
        black_box(store.complete(&scope, lease, stored, now).is_ok());
    };
    Some(case(
        "merchant_pipeline_create",
        "create through MerchantEngine (signed, strict, in-memory) vs the same steps wired by hand",
        true,
        ours,
        baseline,
    ))
}
