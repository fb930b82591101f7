//! The example PSP vault as a library, on the core's PSP engine
//! ([`agentic_commerce::engine::psp`]) mounted with `agentic-commerce-axum`, storing in memory
//! or in PostgreSQL (`agentic-commerce-postgres`):
//!
//! - `POST /agentic_commerce/delegate_payment` (agents) issues a `vt_…` token bound to its
//!   allowance (DP-01..18, signed: SIG-01);
//! - `POST /charges` (the PSP's own API, called by the merchant) charges it: the allowance
//!   (DP-03..10, the public form only in the answer), single use (DP-11), idempotent per
//!   merchant (IDEM-03, IDEM-08..13);
//! - `POST /delegate_authentication`, `POST /delegate_authentication/{id}/authenticate`,
//!   `GET /delegate_authentication/{id}`: 3-D Secure, simulated.
//!
//! The merchant on whose behalf a charge runs is the one its credential belongs to: each
//! merchant has its own API key, mapped to its `merchant_id` (`--merchant-key ID=KEY`); a body
//! cannot name another merchant (DP-10).

use std::net::SocketAddr;
use std::sync::Arc;

use agentic_commerce::AcpError;
use agentic_commerce::engine::psp::{
    BearerKeys, Identity, PspContext, PspEngine, SimulatedThreeDs, Vault,
};
use agentic_commerce::engine::store::{InMemoryStore, InMemoryTokenLedger};
use agentic_commerce::spec::latest::delegate_payment::DelegatePaymentRequest;
use agentic_commerce::trust::signature::{Algorithm, HmacSha256Key, SignedContent, Verifier};
use agentic_commerce_postgres::{PgConfig, PgStore};

/// Default `--db-pool-size`.
pub(crate) const DEFAULT_POOL_SIZE: usize = 16;

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
            db_pool_size: DEFAULT_POOL_SIZE,
        }
    }
}

/// The example's vault: it keeps no card (a real vault stores the number encrypted and
/// charges it at the card network); the engine keeps the allowance and display data with the
/// token, so any instance sharing the database can charge it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExampleVault;

impl Vault for ExampleVault {
    async fn store_card(
        &self,
        _ctx: &PspContext,
        _request: &DelegatePaymentRequest,
    ) -> Result<String, AcpError> {
        // The token is a credential: 128 bits from the OS CSPRNG.
        let mut bytes = [0_u8; 16];
        getrandom::fill(&mut bytes)
            .map_err(|_| AcpError::service_unavailable("no randomness for a token id", None))?;
        Ok(format!("vt_{}", hex::encode(bytes)))
    }
}

/// The vault's routes (may connect to PostgreSQL).
///
/// # Errors
///
/// A bad signing secret or an unreachable database.
pub(crate) async fn router(config: VaultConfig) -> Result<axum::Router, String> {
    let key =
        HmacSha256Key::new(&config.signing_secret).map_err(|e| format!("signing secret: {e}"))?;
    // The timestamp is signed with the body (SIG-01, SIG-03, SIG-05).
    let verifier = Verifier::new([Algorithm::HS256])
        .with_signed_content(SignedContent::TimestampAndBody)
        .with_key("agent", key);
    let agents = BearerKeys::new().key(config.agent_api_key.clone(), Identity::new("agent"));
    let merchants = config
        .merchant_keys
        .iter()
        .fold(BearerKeys::new(), |keys, (id, key)| {
            keys.key(key.clone(), Identity::new(id.clone()))
        });
    macro_rules! mount {
        ($store:expr, $ledger:expr) => {{
            let engine =
                PspEngine::builder(ExampleVault, SimulatedThreeDs::default(), $store, $ledger)
                    .agents(agents)
                    .merchants(merchants)
                    .verifier(verifier)
                    .build()
                    .map_err(|e| e.to_string())?;
            Ok(agentic_commerce_axum::router(Arc::new(engine)).into_router())
        }};
    }
    match &config.database_url {
        Some(url) => {
            let pg = PgStore::connect(
                url,
                PgConfig::default().with_max_connections(config.db_pool_size),
            )
            .await
            .map_err(|e| format!("database: {e}"))?;
            mount!(pg.clone(), pg)
        }
        None => mount!(InMemoryStore::default(), InMemoryTokenLedger::default()),
    }
}

/// Binds `addr`, serves in the background, returns the bound address.
///
/// # Errors
///
/// Bind or [`router`] failures.
pub(crate) async fn spawn(
    config: VaultConfig,
    addr: SocketAddr,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("bind {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let app = router(config).await?;
    let handle = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("vault stopped: {e}");
        }
    });
    Ok((local, handle))
}
