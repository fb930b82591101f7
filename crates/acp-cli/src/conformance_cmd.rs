//! `acp conformance`: checks any ACP merchant over HTTP, in any released API version.
//!
//! ```text
//! acp conformance --base-url URL [--api-version V] [--bearer TOKEN] [--item ID ...] [--json]
//!     [--signing-secret S [--sign-timestamp]] [--psp-url URL --psp-bearer TOKEN
//!     [--psp-signing-secret S]] [--merchant-id ID] [--currency C] [--timeout SECS]
//!     [--mcp-url URL] [--oversize-bytes N]
//!     [--webhook-listen HOST:PORT --webhook-secret S [--webhook-wait SECS]]
//! ```
//!
//! - `--base-url`: the merchant's ACP base URL (`http://127.0.0.1:8080`; the checker appends
//!   `/checkout_sessions` … and `/.well-known/acp.json`).
//! - `--api-version`: the version checked, one of the released versions (default
//!   `2026-04-17`). It is sent as `API-Version`, every request is written in that version's
//!   shapes (`shapes.rs`: 2025-09-29 `items` with `quantity`,
//!   `fulfillment_address`, a lone `fulfillment_option_id`, `payment_data {token, provider}`;
//!   2026-01-30 on `line_items`, `currency`, `capabilities`, payment handlers) and every answer
//!   is validated strictly against that version's schemas. Probes of what the version does not
//!   define (discovery and the 2026-04-17 idempotency and version-error details before
//!   2026-04-17, capability negotiation before 2026-01-30) are listed as not applicable, with
//!   the reason.
//! - `--bearer`: the merchant's API key, sent as `Authorization: Bearer` (HDR-01).
//! - `--item`: a variant id the merchant sells (repeatable). Default: every variant id of
//!   the repository's `examples/catalog.json`, the example merchant's default catalog, in file
//!   order. The first
//!   item is the one bought by the `complete` probe: put a cheap, in-stock item first. Every
//!   item goes into one `create.all_items` session.
//! - `--signing-secret`: signs every JSON request body with HMAC-SHA256 (`Signature` +
//!   `Timestamp`, SIG-01..03, the crate's `signature` module), as the example merchant requires
//!   by default. `--sign-timestamp` signs `timestamp + "." + canonical body` instead
//!   (`SignedContent::TimestampAndBody`, what the example merchant and vault verify).
//! - `--psp-url` / `--psp-bearer`: a PSP with a `POST /agentic_commerce/delegate_payment`
//!   endpoint (the example `psp_vault`; requests signed with `--psp-signing-secret`, default
//!   `--signing-secret`). The checker
//!   obtains a real delegated token for the purchased session and then requires the merchant
//!   to complete it. Without a PSP it sends the test token `vt_conformancetest` and accepts any
//!   spec-conformant answer (an order, a 200 session with a decline message, or a 4xx ACP
//!   error). The PSP is always asked in 2026-04-17 (its own API, not the checkout version).
//! - `--merchant-id`: the merchant id a delegated token's allowance names when the session does
//!   not say it (sessions before 2026-01-30 declare no payment handler; 2026-01-16's optional
//!   `payment_provider.merchant_id` is used when present).
//! - `--currency`: session currency (default `usd`). `--timeout`: seconds per request
//!   (default 10).
//! - `--mcp-url`: the merchant's MCP endpoint (JSON-RPC `tools/call`). Default:
//!   `{base-url}/mcp` when the discovery document's `transports` lists `mcp`; otherwise the
//!   MCP probes are skipped with the reason.
//! - `--oversize-bytes`: size of the padded create request that must be refused with 413
//!   (default 3 MiB; merchants are assumed to cap bodies at 1 MiB, the crate's axum adapter's
//!   default, and 3 MiB is also above axum's own 2 MB `DefaultBodyLimit`).
//! - `--webhook-listen`: receive the merchant's order webhooks on `HOST:PORT` during the run
//!   (the merchant's webhook URL must be `http://HOST:PORT/agentic_checkout/webhooks/order_events`),
//!   verified with `--webhook-secret` (default: the `ACP_WEBHOOK_SECRET` environment variable;
//!   never printed); after the other probes the checker waits up to `--webhook-wait` seconds
//!   (1..=600, default 10) for the purchase's `order_create`. The checks are in `webhooks.rs`;
//!   without `--webhook-listen` they are skipped with the reason.
//! - `--json`: print `{"base_url", "api_version", "checks": [{"id", "rules", "level",
//!   "passed", "detail"}], "skipped": [{"id", "reason"}], "not_applicable": [{"id", "reason"}],
//!   "passed", "failed"}` instead of the readable report.
//!
//! The probes, each labelled in the report with the rule IDs of `ACP-REQUIREMENTS.md` it
//! covers:
//!
//! - discovery: `GET /.well-known/acp.json` is 200 with a strict `DiscoveryResponse`, or 404;
//! - create: 201, strict `CheckoutSession`, `Idempotency-Key` echoed; a create of every item
//!   is still 201 (CHK-19: problems are messages on the session);
//! - idempotency: missing key gives 400 `idempotency_key_required`; the same key with another
//!   body gives 422 `idempotency_conflict`; the same key with the same body gives the same
//!   status and body with `Idempotent-Replayed: true`;
//! - malformed JSON gives 400 with an ACP error whose `param` is a JSONPath;
//! - missing / unsupported `API-Version` gives 400 `missing_api_version` /
//!   `unsupported_api_version` with `supported_versions`;
//! - retrieve of an unknown session gives 404; update with buyer, address and the first
//!   offered fulfillment option gives 200; retrieve gives 200 with the same state;
//! - complete gives 200 `completed` with an `order` whose `checkout_session_id` is the
//!   session, or `authentication_required` with `authentication_metadata`. A session that is
//!   already `authentication_required` (CHK-12, CHK-13) is first completed without a result,
//!   which must give a 4xx `requires_3ds` error on `$.authentication_result`
//!   (`complete.requires_3ds`, CHK-15); with `--psp-url`, 3-D Secure then runs at the PSP
//!   (`psp.delegate_authentication`: create, authenticate, retrieve, DA-01..06) and complete
//!   carries its `authentication_result` (CHK-14) and, from 2026-01-30 on, the provider's
//!   `authentication_session_id` in the card credential, and must give `completed`; without a
//!   PSP, `psp.delegate_authentication` and `complete` are skipped with the reason;
//! - cancel of a fresh session gives 200 `canceled`; cancel of a canceled or completed one
//!   gives 405;
//! - a wrong bearer token gives 401 (MUST); a bad signature and a stale (one hour old,
//!   correctly signed) timestamp give 401 (SHOULD, only with `--signing-secret`); an
//!   oversized body gives 413 (SHOULD); identical concurrent creates give one result and 409
//!   `idempotency_in_flight` with `Retry-After` for the others (2026-04-17; retried up to three
//!   rounds when no overlap is seen) (`security.rs`);
//! - carts (2026-04-17, when offered): create 201, retrieve 200, PUT replacement 200, cancel
//!   200, then 404 for the canceled and for an unknown cart (`carts.rs`);
//! - webhooks (with `--webhook-listen`): the purchase's `order_create` arrives, every request
//!   is signed validly, every event is strictly valid (in the negotiated version for this
//!   run's sessions) and a full order, and each order's events arrive in a plausible order
//!   (`webhooks.rs`);
//! - the MCP binding (2026-04-17, when offered): `create_checkout_session` (and its replay),
//!   `get_checkout_session`, and the JSON-RPC error of an unknown id (`mcp.rs`).
//!
//! Every response body is validated strictly against the official schemas; every ACP error
//! body as `agentic_checkout.Error`.
//! Every 2xx session answer that passed that check then goes through the crate's
//! business-rule validator (`agentic_commerce::rules::check_session`): error findings under
//! MUST-level rules fail `session.rules` (MUST); findings under SHOULD-level rules (CHK-07,
//! CHK-08, CHK-09, DSC-04) and warnings fail `session.rules.should` (SHOULD). The validator's
//! extra CHK-09 demand that a message `param` resolve inside the session is not a spec
//! requirement (a `missing` message names an absent member, a decline names
//! `$.payment_data`): such findings are counted in the detail only.
//!
//! Levels: a check is MUST when a rule it covers is MUST, a schema constraint or a status
//! code fixed by the OpenAPI document (IMPLIED); SHOULD when its rules are only SHOULD / MAY.
//! Exit status: 0 when no MUST check failed (SHOULD failures are reported and counted), 1 when
//! one did, 2 on usage errors or when the merchant is unreachable.
//!
//! Transport: every request is a raw request of the `agentic-commerce-client` crate
//! (`AcpClient::raw`: its TLS, timeouts and 1 MiB response cap, no retries). `https://` URLs
//! are checked over TLS (rustls with the webpki root certificates); plain `http://` is for
//! test merchants (on loopback, or a private test network).
//!
//! The probes write: they create sessions (three, plus one per in-flight round and per refused
//! request a non-conforming merchant accepts, plus one over MCP), a cart, cancel some and buy
//! one unit of the first item (with `--psp-url`). Point the checker at a test merchant, not at production.

#[path = "conformance/carts.rs"]
mod carts;
#[path = "conformance/client.rs"]
mod client;
#[path = "conformance/mcp.rs"]
mod mcp;
#[path = "conformance/probes.rs"]
mod probes;
#[path = "conformance/report.rs"]
mod report;
#[path = "conformance/security.rs"]
mod security;
#[path = "conformance/shapes.rs"]
pub(crate) mod shapes;
#[path = "conformance/validate.rs"]
mod validate;
#[path = "conformance/webhooks.rs"]
mod webhooks;

use std::process::ExitCode;
use std::time::Duration;

use agentic_commerce::parse;
use agentic_commerce::protocol::version::ApiVersion;
use agentic_commerce::spec::v2026_04_17::feed::ProductsResponse;
use agentic_commerce::trust::signature::SignedContent;

/// The example merchant's default catalog (its `--item` ids are the default).
const EXAMPLE_CATALOG: &str = include_str!("../../../examples/catalog.json");

/// Flags of `acp conformance`.
#[derive(Debug, clap::Args)]
pub(crate) struct ConformanceArgs {
    /// The merchant's ACP base URL (`http://127.0.0.1:8080`; `https://` over TLS).
    #[arg(long, value_name = "URL")]
    base_url: String,
    /// The API version checked, a released version (default: the latest).
    #[arg(long, value_name = "V")]
    api_version: Option<String>,
    /// The merchant's API key, sent as `Authorization: Bearer`.
    #[arg(long, value_name = "TOKEN")]
    bearer: Option<String>,
    /// A variant id the merchant sells (repeatable; the first is bought). Default: the example
    /// merchant's catalog.
    #[arg(long, value_name = "ID")]
    item: Vec<String>,
    /// Signs every JSON request body with HMAC-SHA256 (`Signature` + `Timestamp`).
    #[arg(long, value_name = "S")]
    signing_secret: Option<String>,
    /// Signs `timestamp + "." + canonical body` instead of the body alone.
    #[arg(long)]
    sign_timestamp: bool,
    /// A PSP with `POST /agentic_commerce/delegate_payment`, for a real delegated token.
    #[arg(long, value_name = "URL")]
    psp_url: Option<String>,
    /// The PSP's API key.
    #[arg(long, value_name = "TOKEN")]
    psp_bearer: Option<String>,
    /// The PSP's request signing secret (default: `--signing-secret`).
    #[arg(long, value_name = "S")]
    psp_signing_secret: Option<String>,
    /// The allowance's merchant id when the session names none (before 2026-01-30).
    #[arg(long, value_name = "ID")]
    merchant_id: Option<String>,
    /// Session currency (default `usd`).
    #[arg(long, value_name = "C")]
    currency: Option<String>,
    /// Seconds per request, 1..=600 (default 10).
    #[arg(long, value_name = "SECS")]
    timeout: Option<String>,
    /// The merchant's MCP endpoint (JSON-RPC `tools/call`). Default: `{base-url}/mcp` when the
    /// discovery document lists the `mcp` transport (else the MCP probes are skipped).
    #[arg(long, value_name = "URL")]
    mcp_url: Option<String>,
    /// Size in bytes of the oversized create request that must be answered 413 (default
    /// 3145728, 3 MiB: above the 1 MiB limit merchants are expected to apply).
    #[arg(long, value_name = "N")]
    oversize_bytes: Option<String>,
    /// Receives the merchant's order webhooks on this address during the run (the merchant's
    /// webhook URL must point at `http://HOST:PORT/agentic_checkout/webhooks/order_events`).
    #[arg(long, value_name = "HOST:PORT")]
    webhook_listen: Option<String>,
    /// The `Merchant-Signature` secret the webhooks are verified with (default: the
    /// `ACP_WEBHOOK_SECRET` environment variable).
    #[arg(long, value_name = "S")]
    webhook_secret: Option<String>,
    /// Seconds to wait after the probes for the purchase's `order_create`, 1..=600 (default 10).
    #[arg(long, value_name = "SECS")]
    webhook_wait: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// The largest `--oversize-bytes` (64 MiB): the body is built in memory.
const MAX_OVERSIZE_BYTES: usize = 64 << 20;

/// Every variant id of the example catalog, in file order.
fn example_items() -> Result<Vec<String>, String> {
    let feed: ProductsResponse =
        parse::from_str(EXAMPLE_CATALOG).map_err(|e| format!("examples/catalog.json: {e}"))?;
    Ok(feed
        .products
        .iter()
        .flat_map(|p| p.variants.iter().map(|v| v.id.as_str().to_owned()))
        .collect())
}

/// A `http(s)://host[:port][/prefix]` base URL.
fn base_url(raw: &str, flag: &str) -> Result<String, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("`--{flag}` {raw:?}: {e}"))?;
    match url.scheme() {
        "http" | "https" => Ok(raw.trim_end_matches('/').to_owned()),
        other => Err(format!(
            "`--{flag}` {raw:?}: unsupported scheme {other:?} (https, or http on loopback)"
        )),
    }
}

struct Options {
    base_url: String,
    api_version: String,
    version: ApiVersion,
    merchant_id: Option<String>,
    bearer: Option<String>,
    signing_secret: Option<String>,
    signed_content: SignedContent,
    psp_signing_secret: Option<String>,
    psp: Option<(String, Option<String>)>,
    settings_items: Vec<String>,
    currency: String,
    timeout: Duration,
    mcp_url: Option<String>,
    oversize_bytes: usize,
    /// `--webhook-listen`, its secret and the wait.
    webhooks: Option<(String, String, Duration)>,
    json: bool,
}

const NO_WEBHOOK_SECRET: &str =
    "`--webhook-listen` needs `--webhook-secret` (or ACP_WEBHOOK_SECRET)";

/// `--webhook-listen`, its secret (flag, else `ACP_WEBHOOK_SECRET`) and `--webhook-wait`.
fn webhook_options(parsed: &ConformanceArgs) -> Result<Option<(String, String, Duration)>, String> {
    Ok(match &parsed.webhook_listen {
        Some(addr) => {
            let secret = parsed
                .webhook_secret
                .clone()
                .or_else(|| std::env::var("ACP_WEBHOOK_SECRET").ok())
                .filter(|s| !s.is_empty())
                .ok_or(NO_WEBHOOK_SECRET)?;
            let wait = match parsed.webhook_wait.as_deref() {
                None => Duration::from_secs(10),
                Some(t) => match t.parse::<u64>() {
                    Ok(s) if (1..=600).contains(&s) => Duration::from_secs(s),
                    _ => return Err(format!("`--webhook-wait` {t:?} must be 1..=600 seconds")),
                },
            };
            Some((addr.clone(), secret, wait))
        }
        None if parsed.webhook_wait.is_some() => {
            return Err("`--webhook-wait` needs `--webhook-listen`".to_owned());
        }
        None => None,
    })
}

fn options(parsed: &ConformanceArgs) -> Result<Options, String> {
    let api_version = parsed
        .api_version
        .as_deref()
        .unwrap_or(ApiVersion::LATEST.as_str())
        .to_owned();
    let version = api_version
        .parse::<ApiVersion>()
        .map_err(|e| format!("`--api-version` {api_version:?}: {e}"))?;
    if !version.is_released() {
        return Err(format!(
            "`--api-version` {api_version:?} is not a released version (one of {})",
            ApiVersion::RELEASED
                .iter()
                .map(ApiVersion::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let items = if parsed.item.is_empty() {
        example_items()?
    } else {
        parsed.item.clone()
    };
    if let Some(empty) = items.iter().find(|i| i.trim().is_empty()) {
        return Err(format!("`--item` {empty:?} is empty"));
    }
    if items.is_empty() {
        return Err("no items to buy: pass `--item ID`".to_owned());
    }
    let currency = parsed.currency.as_deref().unwrap_or("usd").to_owned();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(format!(
            "`--currency` {currency:?} must be a lowercase ISO 4217 code"
        ));
    }
    let timeout = match parsed.timeout.as_deref() {
        None => Duration::from_secs(10),
        Some(t) => match t.parse::<u64>() {
            Ok(s) if (1..=600).contains(&s) => Duration::from_secs(s),
            _ => return Err(format!("`--timeout` {t:?} must be 1..=600 seconds")),
        },
    };
    let psp = match (parsed.psp_url.as_deref(), parsed.psp_bearer.as_deref()) {
        (Some(url), bearer) => Some((base_url(url, "psp-url")?, bearer.map(str::to_owned))),
        (None, Some(_)) => return Err("`--psp-bearer` needs `--psp-url`".to_owned()),
        (None, None) => None,
    };
    let mcp_url = match parsed.mcp_url.as_deref() {
        Some(url) => Some(base_url(url, "mcp-url")?),
        None => None,
    };
    let oversize_bytes = match parsed.oversize_bytes.as_deref() {
        None => security::DEFAULT_OVERSIZE_BYTES,
        Some(n) => match n.parse::<usize>() {
            Ok(n) if (1..=MAX_OVERSIZE_BYTES).contains(&n) => n,
            _ => {
                return Err(format!(
                    "`--oversize-bytes` {n:?} must be 1..={MAX_OVERSIZE_BYTES}"
                ));
            }
        },
    };
    let webhooks = webhook_options(parsed)?;
    let signing_secret = parsed.signing_secret.clone();
    if signing_secret.as_deref() == Some("") {
        return Err("`--signing-secret` is empty".to_owned());
    }
    Ok(Options {
        base_url: base_url(&parsed.base_url, "base-url")?,
        api_version,
        version,
        merchant_id: parsed.merchant_id.clone(),
        bearer: parsed.bearer.clone(),
        signing_secret,
        psp_signing_secret: parsed.psp_signing_secret.clone(),
        signed_content: if parsed.sign_timestamp {
            SignedContent::TimestampAndBody
        } else {
            SignedContent::CanonicalBody
        },
        psp,
        settings_items: items,
        currency,
        timeout,
        mcp_url,
        oversize_bytes,
        webhooks,
        json: parsed.json,
    })
}

/// `acp conformance`.
pub(crate) fn conformance(args: &ConformanceArgs) -> ExitCode {
    let options = match options(args) {
        Ok(o) => o,
        Err(e) => return crate::usage_error(&e),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return crate::usage_error(&format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(run(options))
}

async fn run(options: Options) -> ExitCode {
    let content = options.signed_content;
    let secret = options.signing_secret.as_deref().map(str::as_bytes);
    let merchant = match client::Client::new(
        &options.base_url,
        options.bearer.as_deref(),
        &options.api_version,
        secret.map(|s| (s, content)),
        options.timeout,
    ) {
        Ok(c) => c,
        Err(e) => return crate::usage_error(&e),
    };
    let psp_secret = options
        .psp_signing_secret
        .as_deref()
        .map(str::as_bytes)
        .or(secret);
    let psp = match &options.psp {
        // The PSP speaks its own version: the example vault (and this probe's body) 2026-04-17.
        Some((url, bearer)) => match client::Client::new(
            url,
            bearer.as_deref(),
            ApiVersion::LATEST.as_str(),
            psp_secret.map(|s| (s, content)),
            options.timeout,
        ) {
            Ok(c) => Some(c),
            Err(e) => return crate::usage_error(&e),
        },
        None => None,
    };
    let settings = probes::Settings {
        items: options.settings_items,
        currency: options.currency,
        psp,
        version: options.version,
        merchant_id: options.merchant_id,
        mcp_url: options.mcp_url,
        oversize_bytes: options.oversize_bytes,
    };
    let mut report = report::Report {
        base_url: options.base_url.clone(),
        api_version: options.api_version.clone(),
        ..report::Report::default()
    };
    // Listening before the first probe: the purchase's webhook may arrive at once.
    let listener = match &options.webhooks {
        Some((addr, secret, _)) => match webhooks::Listener::start(addr, secret).await {
            Ok(l) => {
                eprintln!("acp: receiving webhooks on http://{}", l.addr());
                Some(l)
            }
            Err(e) => return crate::usage_error(&e),
        },
        None => None,
    };
    let bought = match probes::run(&merchant, &settings, &mut report).await {
        Ok(bought) => bought,
        Err(probes::Unreachable(reason)) => {
            eprintln!(
                "acp: merchant unreachable at {}: {reason}",
                options.base_url
            );
            return ExitCode::from(2);
        }
    };
    match (&listener, &options.webhooks) {
        (Some(listener), Some((_, _, wait))) => {
            listener
                .judge(&settings.version, &bought, *wait, &mut report)
                .await;
        }
        _ => webhooks::skip(&mut report, "no `--webhook-listen` address"),
    }
    if options.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_text());
    }
    if report.must_failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_items_are_the_example_catalog_variants() {
        assert_eq!(
            example_items().unwrap(),
            [
                "var_mug_pine",
                "var_mug_slate",
                "var_guide_epub",
                "var_tent_2p",
                "var_headlamp",
                "var_flask_engraved"
            ]
        );
    }

    #[test]
    fn http_and_https_are_accepted_other_schemes_are_usage_errors() {
        assert_eq!(
            base_url("https://m.example/acp/", "base-url").unwrap(),
            "https://m.example/acp"
        );
        assert!(
            base_url("ftp://m.example", "base-url")
                .unwrap_err()
                .contains("unsupported scheme")
        );
        assert_eq!(
            base_url("http://127.0.0.1:8080/", "base-url").unwrap(),
            "http://127.0.0.1:8080"
        );
    }
}
