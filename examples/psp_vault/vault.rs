//! The example PSP vault as a library: `POST /agentic_commerce/delegate_payment` issues a
//! `vt_…` token bound to its allowance (DP-01..18), and `POST /charges` (the PSP's own API,
//! called by the merchant) charges it through [`allowance::authorize_charge`], which checks
//! the allowance and consumes the token in the [`TokenLedger`](allowance::TokenLedger) so it
//! is single use (DP-03..11).
//!
//! The merchant on whose behalf a charge runs is the one its credential belongs to: each
//! merchant has its own API key, mapped to its `merchant_id` (`--merchant-key ID=KEY`). A body
//! cannot name another merchant (DP-10), and charges are idempotent per merchant
//! (`Idempotency-Key`, IDEM-03, IDEM-08..13).

use std::net::SocketAddr;
use std::sync::Arc;

use agentic_commerce::Timestamp;
use agentic_commerce::parse;
use agentic_commerce::parse::json_path::JsonPath;
use agentic_commerce::protocol::error::AcpError;
use agentic_commerce::protocol::headers::{BearerToken, IdempotencyKey, Operation};
use agentic_commerce::spec::v2026_04_17::delegate_payment::DelegatePaymentRequest;
use agentic_commerce::trust::allowance::{
    self, AllowanceTerms, AllowanceViolation, AuthorizeError, ProposedCharge,
};
use agentic_commerce::trust::idempotency::IdempotencyScope;
use agentic_commerce::trust::signature::{Algorithm, HmacSha256Key, SignedContent, Verifier};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::backend::{Backend, Document};
use super::http::{
    Begin, Reply, begin, begin_scope, check_request, finish, finish_scope, header_str, new_id,
};

/// Settings of the vault.
#[derive(Clone)]
pub(crate) struct VaultConfig {
    /// Bearer token agents use for `delegate_payment`.
    pub(crate) agent_api_key: String,
    /// One `(merchant_id, API key)` per merchant: a charge made with a key runs for that
    /// key's merchant, whatever the body says (DP-10).
    pub(crate) merchant_keys: Vec<(String, String)>,
    /// HS256 secret agents sign `delegate_payment` with (SIG-01: a MUST there).
    pub(crate) signing_secret: Vec<u8>,
    /// PostgreSQL URL (none: in memory).
    pub(crate) database_url: Option<String>,
    /// Most PostgreSQL connections this instance opens (`--db-pool-size`).
    pub(crate) db_pool_size: usize,
}

impl std::fmt::Debug for VaultConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys, the signing secret and the database URL (which may hold a password) are
        // redacted; the merchant ids are not secret.
        let merchants: Vec<&str> = self
            .merchant_keys
            .iter()
            .map(|(id, _)| id.as_str())
            .collect();
        f.debug_struct("VaultConfig")
            .field("agent_api_key", &"[REDACTED]")
            .field(
                "merchant_keys",
                &format_args!("{merchants:?} => [REDACTED]"),
            )
            .field("signing_secret", &"[REDACTED]")
            .field(
                "database_url",
                &self.database_url.as_ref().map(|_| "[REDACTED]"),
            )
            .field("db_pool_size", &self.db_pool_size)
            .finish()
    }
}

/// Default agent key for local use.
pub(crate) const DEV_AGENT_KEY: &str = "dev-vault-key";
/// The example merchant's id, which the default merchant key is mapped to.
pub(crate) const DEV_MERCHANT_ID: &str = "trailhead_outfitters";
/// Default key of [`DEV_MERCHANT_ID`] for local use.
pub(crate) const DEV_MERCHANT_KEY: &str = "dev-psp-key";
/// Default signing secret for local use.
pub(crate) const DEV_SIGNING_SECRET: &str = "dev-vault-signing-secret";

impl VaultConfig {
    /// The built-in development credentials still in use, as the flag that replaces each.
    #[allow(dead_code)] // The server binary's check; `agent_client --spawn` embeds this too.
    pub(crate) fn dev_credentials(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.agent_api_key == DEV_AGENT_KEY {
            out.push("--api-key");
        }
        if self
            .merchant_keys
            .iter()
            .any(|(_, k)| k == DEV_MERCHANT_KEY)
        {
            out.push("--merchant-key");
        }
        if self.signing_secret == DEV_SIGNING_SECRET.as_bytes() {
            out.push("--signing-secret");
        }
        out
    }
}

impl Default for VaultConfig {
    fn default() -> Self {
        Self {
            agent_api_key: DEV_AGENT_KEY.to_owned(),
            merchant_keys: vec![(DEV_MERCHANT_ID.to_owned(), DEV_MERCHANT_KEY.to_owned())],
            signing_secret: DEV_SIGNING_SECRET.as_bytes().to_vec(),
            database_url: None,
            db_pool_size: super::postgres::DEFAULT_POOL_SIZE,
        }
    }
}

/// What the vault keeps per token. The card number itself is not kept in this example (a real
/// vault stores it encrypted); only display data and the allowance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct VaultedToken {
    /// The allowance the token is bound to.
    pub(crate) terms: AllowanceTerms,
    /// Last four digits, for display.
    pub last4: String,
}

/// Vault state.
pub(crate) struct VaultState {
    config: VaultConfig,
    backend: Arc<Backend>,
    verifier: Verifier,
}

const TOKEN: &str = "vault_token";

/// Builds the state (may connect to PostgreSQL: call off the async runtime).
///
/// # Errors
///
/// Bad secret or unreachable database.
pub(crate) fn state(config: VaultConfig) -> Result<Arc<VaultState>, String> {
    let backend = match &config.database_url {
        Some(url) => {
            Backend::postgres_with_pool(url, config.db_pool_size).map_err(|e| e.to_string())?
        }
        None => Backend::memory(),
    };
    let key =
        HmacSha256Key::new(&config.signing_secret).map_err(|e| format!("signing secret: {e}"))?;
    Ok(Arc::new(VaultState {
        // The timestamp is signed with the body (SIG-01, SIG-03, SIG-05).
        verifier: Verifier::new([Algorithm::HS256])
            .with_signed_content(SignedContent::TimestampAndBody)
            .with_key("agent", key),
        config,
        backend: Arc::new(backend),
    }))
}

/// The vault's routes.
pub(crate) fn router(state: Arc<VaultState>) -> Router {
    Router::new()
        .route("/agentic_commerce/delegate_payment", post(delegate_payment))
        .route("/charges", post(charge))
        .with_state(state)
}

/// Binds `addr`, serves in the background, returns the bound address.
///
/// # Errors
///
/// Bind or [`state`] failures.
pub(crate) async fn spawn(
    config: VaultConfig,
    addr: SocketAddr,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("bind {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let app = tokio::task::spawn_blocking(move || state(config))
        .await
        .map_err(|e| e.to_string())??;
    let handle = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router(app)).await {
            eprintln!("vault stopped: {e}");
        }
    });
    Ok((local, handle))
}

/// Luhn check of a card number (digits only, 12 to 19 of them).
fn luhn_ok(number: &str) -> bool {
    let digits: Option<Vec<u32>> = number.chars().map(|c| c.to_digit(10)).collect();
    let Some(digits) = digits.filter(|d| (12..=19).contains(&d.len())) else {
        return false;
    };
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                *d
            }
        })
        .sum();
    sum % 10 == 0
}

async fn delegate_payment(
    State(s): State<Arc<VaultState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = OffsetDateTime::now_utc();
    let (parsed, _) = match check_request(
        Operation::DelegatePayment,
        &headers,
        &body,
        &s.config.agent_api_key,
        Some(&s.verifier),
        at,
    ) {
        Ok(x) => x,
        Err(r) => return r.into_response(),
    };
    let scope = match begin(
        &s.backend,
        &parsed,
        "agent",
        "/agentic_commerce/delegate_payment",
        &body,
        at,
    )
    .await
    {
        Begin::Proceed(scope) => scope,
        Begin::Respond(r) => return r,
    };
    let key = parsed
        .idempotency_key()
        .map(|k| k.as_str().to_owned())
        .unwrap_or_default();
    let (reply, docs) = issue(&body, &key, at);
    finish(&s.backend, scope, &parsed, reply, docs, at).await
}

fn issue(body: &[u8], idempotency_key: &str, at: OffsetDateTime) -> (Reply, Vec<Document>) {
    let fail = |reply| (reply, Vec::new());
    // Strict parse: the official schema, every problem with its JSONPath (DP-12..18).
    let request: DelegatePaymentRequest = match parse::from_slice_strict(body) {
        Ok(r) => r,
        Err(e) => return fail(super::http::strict_error_reply(&e)),
    };
    if !luhn_ok(request.payment_method.number.expose()) {
        let param = JsonPath::root().key("payment_method").key("number");
        return fail(Reply::acp(&AcpError::invalid_card(
            "Invalid card number provided",
            &param,
        )));
    }
    let raw: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let terms: AllowanceTerms = match serde_json::from_value(raw["allowance"].clone()) {
        Ok(t) => t,
        Err(e) => {
            return fail(Reply::error(
                400,
                "invalid_request",
                "invalid",
                &e.to_string(),
                Some("$.allowance"),
            ));
        }
    };
    if !terms.reason.is_one_time() {
        return fail(Reply::error(
            400,
            "invalid_request",
            "invalid",
            "only one_time allowances are supported",
            Some("$.allowance.reason"),
        ));
    }
    if terms.expires_at <= at {
        return fail(Reply::error(
            400,
            "invalid_request",
            "invalid",
            "allowance has already expired",
            Some("$.allowance.expires_at"),
        ));
    }
    if terms.max_amount <= 0 {
        return fail(Reply::error(
            400,
            "invalid_request",
            "invalid",
            "max_amount must be positive",
            Some("$.allowance.max_amount"),
        ));
    }
    let number = request.payment_method.number.expose();
    let vaulted = VaultedToken {
        last4: number
            .chars()
            .skip(number.chars().count().saturating_sub(4))
            .collect(),
        terms,
    };
    let id = new_id("vt_");
    let Ok(doc) = serde_json::to_string(&vaulted) else {
        return fail(Reply::internal("cannot store token"));
    };
    // DP-01, DP-02: 201 with id, created and correlation metadata.
    let reply = Reply::new(
        201,
        json!({"id": id, "created": Timestamp(at).to_string(),
               "metadata": {"merchant_id": vaulted.terms.merchant_id, "idempotency_key": idempotency_key}}),
    );
    (
        reply,
        vec![Document {
            kind: TOKEN,
            id,
            body: doc,
        }],
    )
}

/// The merchant's charge request (this PSP's own API, not part of ACP). There is no
/// `merchant_id`: the merchant is the owner of the API key (DP-10).
#[derive(Debug, Deserialize)]
struct ChargeRequest {
    token: String,
    amount: i64,
    currency: String,
    checkout_session_id: String,
}

/// The merchant whose key is the request's bearer token. Every configured key is compared
/// (in constant time, [`BearerToken::matches`]), so the time taken does not tell which one
/// matched or how close a guess came.
fn merchant_of(config: &VaultConfig, headers: &HeaderMap) -> Option<String> {
    let token = header_str(headers, "authorization").and_then(|v| BearerToken::parse(v).ok())?;
    config
        .merchant_keys
        .iter()
        .fold(None, |found, (merchant, key)| {
            let hit = token.matches(key);
            found.or(hit.then(|| merchant.clone()))
        })
}

fn unauthorized() -> Response {
    Reply::error(
        401,
        "invalid_request",
        "unauthorized",
        "invalid API key",
        None,
    )
    .into_response()
}

async fn charge(State(s): State<Arc<VaultState>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(merchant_id) = merchant_of(&s.config, &headers) else {
        return unauthorized();
    };
    let key = match header_str(&headers, "idempotency-key").map(IdempotencyKey::parse) {
        Some(Ok(key)) => key,
        Some(Err(e)) => {
            return Reply::error(
                400,
                "invalid_request",
                "invalid",
                &format!("Idempotency-Key: {e}"),
                None,
            )
            .into_response();
        }
        None => {
            // IDEM-01, IDEM-04: a charge moves money; a retry must not charge twice.
            return Reply::error(
                400,
                "invalid_request",
                "idempotency_key_required",
                "Idempotency-Key is required",
                None,
            )
            .into_response();
        }
    };
    let request: ChargeRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return Reply::error(400, "invalid_request", "invalid", &e.to_string(), Some("$"))
                .into_response();
        }
    };
    let at = OffsetDateTime::now_utc();
    // IDEM-03: scoped by the authenticated merchant, so two merchants' keys never collide.
    let scope = IdempotencyScope::new(merchant_id.as_str(), "/charges", key.clone());
    let echo = vec![("Idempotency-Key".to_owned(), key.as_str().to_owned())];
    let scope = match begin_scope(&s.backend, scope, None, &echo, &body, at).await {
        Begin::Proceed(scope) => scope,
        Begin::Respond(r) => return r,
    };
    let s2 = Arc::clone(&s);
    let result = tokio::task::spawn_blocking(move || authorize(&s2, &merchant_id, &request)).await;
    let reply = result.unwrap_or_else(|_| Reply::internal("charge task failed"));
    finish_scope(&s.backend, scope, echo, reply, Vec::new(), at).await
}

fn authorize(s: &VaultState, merchant_id: &str, request: &ChargeRequest) -> Reply {
    let vaulted: VaultedToken = match s.backend.load(TOKEN, &request.token) {
        Ok(Some(text)) => match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(_) => return Reply::internal("corrupt token record"),
        },
        Ok(None) => {
            return Reply::error(
                404,
                "invalid_request",
                "unknown_token",
                "unknown payment token",
                Some("$.token"),
            );
        }
        Err(e) => return Reply::internal(&e.to_string()),
    };
    let proposed = ProposedCharge {
        amount: request.amount,
        currency: request.currency.clone(),
        checkout_session_id: request.checkout_session_id.clone(),
        merchant_id: merchant_id.to_owned(),
    };
    match allowance::authorize_charge(
        s.backend.ledger(),
        &request.token,
        &vaulted.terms,
        &proposed,
        OffsetDateTime::now_utc(),
    ) {
        Ok(ok) => Reply::new(
            201,
            json!({"id": new_id("ch_"), "amount": ok.amount(), "currency": request.currency, "status": "succeeded", "last4": vaulted.last4}),
        ),
        Err(AuthorizeError::Allowance(violations)) => {
            // The response gets the public form only (no value of the token's allowance); the
            // detailed form, with the expected merchant, session and maximum, goes to the log.
            eprintln!("charge refused: {}", violations.detailed());
            let rules: Vec<&str> = violations.iter().map(AllowanceViolation::code).collect();
            // The library's ACP error (402, the first violation's code, the public message),
            // plus every violated rule's code for the merchant's logs.
            let error = AcpError::from(&violations);
            let mut body = error.to_json();
            body["violations"] = json!(rules);
            Reply::new(error.status(), body)
        }
        Err(AuthorizeError::Ledger(e)) if e.code() == "already_used" => Reply::error(
            402,
            "invalid_request",
            e.code(),
            "payment token has already been used (DP-11)",
            Some("$.token"),
        ),
        Err(e) => {
            eprintln!("vault: charge not authorized: {e}");
            Reply::error(
                503,
                "service_unavailable",
                "ledger_unavailable",
                "the token ledger is unavailable; retry later",
                None,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::luhn_ok;

    #[test]
    fn luhn_accepts_test_cards_and_rejects_typos_and_non_digits() {
        assert!(luhn_ok("4242424242424242"));
        assert!(luhn_ok("5555555555554444"));
        assert!(!luhn_ok("4242424242424241"));
        assert!(!luhn_ok("4242 4242 4242 4242"));
        assert!(!luhn_ok("42424242"), "too short");
        assert!(
            !luhn_ok("４２４２４２４２４２４２４２４２"),
            "full-width digits are not digits here"
        );
    }
}
