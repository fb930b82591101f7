//! The example PSP vault as a library: `POST /agentic_commerce/delegate_payment` issues a
//! `vt_…` token bound to its allowance (DP-01..18), and `POST /charges` (the PSP's own API,
//! called by the merchant) charges it through [`allowance::authorize_charge`], which checks
//! the allowance and consumes the token in the [`TokenLedger`](allowance::TokenLedger) so it
//! is single use (DP-03..11).

use std::net::SocketAddr;
use std::sync::Arc;

use agentic_commerce::allowance::{
    self, AllowanceTerms, AllowanceViolation, AuthorizeError, ProposedCharge,
};
use agentic_commerce::error::AcpError;
use agentic_commerce::headers::Operation;
use agentic_commerce::json_path::JsonPath;
use agentic_commerce::parse;
use agentic_commerce::signature::{Algorithm, HmacSha256Key, Verifier};
use agentic_commerce::spec::v2026_04_17::delegate_payment::DelegatePaymentRequest;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::backend::{Backend, Document};
use super::http::{
    Begin, Reply, begin, check_request, constant_time_eq, finish, header_str, new_id,
};

/// Settings of the vault.
#[derive(Clone)]
pub(crate) struct VaultConfig {
    /// Bearer token agents use for `delegate_payment`.
    pub(crate) agent_api_key: String,
    /// Bearer token merchants use for charges.
    pub(crate) merchant_api_key: String,
    /// HS256 secret agents sign `delegate_payment` with (SIG-01: a MUST there).
    pub(crate) signing_secret: Vec<u8>,
    /// PostgreSQL URL (none: in memory).
    pub(crate) database_url: Option<String>,
}

impl std::fmt::Debug for VaultConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultConfig").finish_non_exhaustive()
    }
}

/// Default agent key for local use.
pub(crate) const DEV_AGENT_KEY: &str = "dev-vault-key";

impl Default for VaultConfig {
    fn default() -> Self {
        Self {
            agent_api_key: DEV_AGENT_KEY.to_owned(),
            merchant_api_key: "dev-psp-key".to_owned(),
            signing_secret: b"dev-signing-secret".to_vec(),
            database_url: None,
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
        Some(url) => Backend::postgres(url).map_err(|e| e.to_string())?,
        None => Backend::memory(),
    };
    let key =
        HmacSha256Key::new(&config.signing_secret).map_err(|e| format!("signing secret: {e}"))?;
    Ok(Arc::new(VaultState {
        verifier: Verifier::new([Algorithm::HS256]).with_key("agent", key),
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
        json!({"id": id, "created": at.format(&Rfc3339).unwrap_or_default(),
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

/// The merchant's charge request (this PSP's own API, not part of ACP).
#[derive(Debug, Deserialize)]
struct ChargeRequest {
    token: String,
    amount: i64,
    currency: String,
    checkout_session_id: String,
    merchant_id: String,
}

async fn charge(State(s): State<Arc<VaultState>>, headers: HeaderMap, body: Bytes) -> Response {
    let authorized = header_str(&headers, "authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| constant_time_eq(t.as_bytes(), s.config.merchant_api_key.as_bytes()));
    if !authorized {
        return Reply::error(
            401,
            "invalid_request",
            "unauthorized",
            "invalid API key",
            None,
        )
        .into_response();
    }
    let request: ChargeRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return Reply::error(400, "invalid_request", "invalid", &e.to_string(), Some("$"))
                .into_response();
        }
    };
    let s2 = Arc::clone(&s);
    let result = tokio::task::spawn_blocking(move || authorize(&s2, &request)).await;
    match result {
        Ok(reply) => reply.into_response(),
        Err(_) => Reply::internal("charge task failed").into_response(),
    }
}

fn authorize(s: &VaultState, request: &ChargeRequest) -> Reply {
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
        merchant_id: request.merchant_id.clone(),
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
            let first = violations.iter().next();
            let rules: Vec<&str> = violations.iter().map(AllowanceViolation::code).collect();
            Reply::new(
                402,
                json!({"type": "invalid_request", "code": first.map_or("declined", |v| v.code()),
                       "message": format!("charge outside the token's allowance ({})", violations),
                       "violations": rules}),
            )
        }
        Err(AuthorizeError::Ledger(e)) if e.code() == "already_used" => Reply::error(
            402,
            "invalid_request",
            e.code(),
            "payment token has already been used (DP-11)",
            Some("$.token"),
        ),
        Err(e) => Reply::error(
            503,
            "service_unavailable",
            "ledger_unavailable",
            &e.to_string(),
            None,
        ),
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
