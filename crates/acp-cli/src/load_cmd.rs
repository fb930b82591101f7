//! `acp load`: drives checkout flows against an ACP merchant from N concurrent workers for a
//! fixed time and reports throughput, latency percentiles and errors.
//!
//! ```text
//! acp load --base-url URL [--concurrency N] [--duration S] [--warmup S] [--api-key KEY]
//!     [--signing-secret S [--sign-timestamp]] [--psp-url URL [--psp-api-key KEY]
//!     [--psp-signing-secret S] [--merchant-id ID]] [--payment-token T | --no-complete]
//!     [--item ID ...] [--currency C] [--timeout-ms MS] [--json]
//! ```
//!
//! Each worker loops over one flow, written in API version 2026-04-17 with the conformance
//! checker's request shapes (`conformance/shapes.rs`):
//!
//! 1. `create`: `POST /checkout_sessions` for one unit of an `--item` (the items are taken in
//!    turn, one per flow); the answer must be 2xx with a string `id`;
//! 2. `update`: `POST /checkout_sessions/{id}` with buyer, fulfillment details and, when the
//!    create answer offers `fulfillment_options`, the first of them for every line item; 2xx;
//! 3. `delegate` (only with `--psp-url`): `POST {psp}/agentic_commerce/delegate_payment` for
//!    the session's total; 2xx with a string `id`, the token;
//! 4. `complete` (unless `--no-complete`): `POST /checkout_sessions/{id}/complete` paying
//!    with the delegated token (else `--payment-token`, default `vt_load_test`, which a real
//!    merchant declines); 2xx whose `status`, when present, is `completed`.
//!
//! Only wire behaviour is read (status codes, `id`, `status`, and optionally
//! `fulfillment_options`, `line_items[].id`, the payment handler and `totals`), so any ACP
//! merchant, and the bare echo server `examples/echo_server.rs`, can be driven.
//! Every request carries a fresh `Idempotency-Key` and `Request-Id`, `API-Version:
//! 2026-04-17`, `Authorization: Bearer`, and `Signature` + `Timestamp` with
//! `--signing-secret` (the checker's HMAC-SHA256 signer, `--sign-timestamp` as there). The
//! requests are raw requests of the `agentic-commerce-client` crate (`AcpClient::raw`, one
//! client for the merchant and one for the PSP): never retried, each bounded by
//! `--timeout-ms` (connect included), answers read up to the client's 1 MiB cap.
//!
//! A failed step ends its flow (the worker starts the next one) and counts as an error,
//! keyed `step: HTTP 503` (followed by the ACP error's `code` and `param` when the body has
//! them, e.g. `update: HTTP 400 invalid at $.buyer`), `step: timeout`, `step: connect`, `step: transport`,
//! `create: no id`, `delegate: no token id` or `complete: status S`. Latencies are recorded
//! for every answered request (any status) in a bounded log-linear histogram
//! (`load/histogram.rs`, within 0.8 %). Requests started during `--warmup` are not counted;
//! after `--duration` no new request starts and the run ends when the in-flight ones finish
//! (the elapsed time includes that tail).
//!
//! Output: a text table, or with `--json` one object: `base_url`, `concurrency`,
//! `duration_s`, `warmup_s`, `elapsed_s`, `flows`, `flows_per_s`, `requests`,
//! `requests_per_s`, `p50_ms`, `p99_ms`, `max_ms`, `steps` (`{step: {requests, p50_ms,
//! p99_ms}}` for the steps run), `errors` and `errors_by_kind` (`{kind: count}`).
//! Exit status: 0 when the run took place (errors are reported, not fatal); 2 on usage
//! errors or when the merchant is unreachable before the run starts.
//!
//! The client runs on one thread (a current-thread runtime), so on a machine shared with
//! the server it takes at most one core.

#[path = "load/histogram.rs"]
mod histogram;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use agentic_commerce::protocol::version::ApiVersion;
use agentic_commerce::trust::signature::{HmacSha256Key, RequestSigner, SignedContent};
use agentic_commerce_client::{AcpClient, BuildError, Error, Method, RetryPolicy};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::conformance_cmd::shapes;
use histogram::Histogram;

/// Flags of `acp load`.
#[derive(Debug, clap::Args)]
pub(crate) struct LoadArgs {
    /// The merchant's ACP base URL (`https://` over TLS; `http://` is meant for loopback).
    #[arg(long, value_name = "URL")]
    base_url: String,
    /// Concurrent workers, each running one flow at a time.
    #[arg(long, value_name = "N", default_value_t = 32,
        value_parser = clap::value_parser!(u32).range(1..=4096))]
    concurrency: u32,
    /// Seconds measured.
    #[arg(long, value_name = "S", default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=86_400))]
    duration: u64,
    /// Seconds of load before the measurement starts (not counted).
    #[arg(long, value_name = "S", default_value_t = 0,
        value_parser = clap::value_parser!(u64).range(0..=3_600))]
    warmup: u64,
    /// The merchant's API key, sent as `Authorization: Bearer` (default: the example
    /// merchant's development key).
    #[arg(
        long,
        value_name = "KEY",
        default_value = "dev-merchant-key",
        alias = "bearer"
    )]
    api_key: String,
    /// Signs every request body with HMAC-SHA256 (`Signature` + `Timestamp`).
    #[arg(long, value_name = "S")]
    signing_secret: Option<String>,
    /// Signs `timestamp + "." + canonical body` instead of the body alone (what the example
    /// merchant and vault verify).
    #[arg(long)]
    sign_timestamp: bool,
    /// A PSP with `POST /agentic_commerce/delegate_payment`: every flow obtains a delegated
    /// token there before `complete`.
    #[arg(long, value_name = "URL")]
    psp_url: Option<String>,
    /// The PSP's API key (default: the example vault's development key).
    #[arg(
        long,
        value_name = "KEY",
        default_value = "dev-vault-key",
        alias = "psp-bearer"
    )]
    psp_api_key: String,
    /// The PSP's request signing secret (default: `--signing-secret`).
    #[arg(long, value_name = "S")]
    psp_signing_secret: Option<String>,
    /// The allowance's merchant id when the session's payment handler names none.
    #[arg(long, value_name = "ID")]
    merchant_id: Option<String>,
    /// The token `complete` pays with when there is no `--psp-url`.
    #[arg(long, value_name = "T", default_value = "vt_load_test")]
    payment_token: String,
    /// End each flow after `update` (no `delegate`, no `complete`).
    #[arg(long, conflicts_with_all = ["psp_url"])]
    no_complete: bool,
    /// A variant id to buy (repeatable; flows take them in turn). Default: `var_mug_pine`.
    #[arg(long = "item", value_name = "ID")]
    items: Vec<String>,
    /// Session currency.
    #[arg(long, value_name = "C", default_value = "usd")]
    currency: String,
    /// Limit of each request, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 10_000,
        value_parser = clap::value_parser!(u64).range(1..=600_000))]
    timeout_ms: u64,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

/// The default item: the example catalog's first variant.
const DEFAULT_ITEM: &str = "var_mug_pine";

/// The steps of a flow, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Create,
    Update,
    Delegate,
    Complete,
}

impl Step {
    const ALL: [Self; 4] = [Self::Create, Self::Update, Self::Delegate, Self::Complete];

    fn name(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delegate => "delegate",
            Self::Complete => "complete",
        }
    }
}

/// What every worker shares.
struct Plan {
    /// The merchant: bearer, signer, `API-Version: 2026-04-17`, timeouts.
    merchant: AcpClient,
    base: String,
    /// The PSP, likewise.
    psp: Option<AcpClient>,
    merchant_id: Option<String>,
    token: String,
    complete: bool,
    currency: String,
    /// One create body per item.
    creates: Vec<Vec<u8>>,
    next_item: AtomicU64,
    /// Whether `item_ids` of a fulfillment selection are the items' catalog ids (what a
    /// merchant that answered 400 to line-item ids wants; learned once per run).
    catalog_item_ids: AtomicBool,
    run: String,
    counter: AtomicU64,
    measure_from: Instant,
    stop_at: Instant,
}

impl Plan {
    /// A fresh id for this run: `<prefix><run>-<n>`.
    fn fresh(&self, prefix: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}{}-{n}", self.run)
    }
}

/// One worker's (and, merged, the run's) counts.
struct Stats {
    steps: [Histogram; 4],
    requests: u64,
    flows: u64,
    errors: BTreeMap<String, u64>,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            steps: std::array::from_fn(|_| Histogram::default()),
            requests: 0,
            flows: 0,
            errors: BTreeMap::new(),
        }
    }
}

impl Stats {
    fn merge(&mut self, other: &Self) {
        for (mine, theirs) in self.steps.iter_mut().zip(&other.steps) {
            mine.merge(theirs);
        }
        self.requests += other.requests;
        self.flows += other.flows;
        for (kind, count) in &other.errors {
            *self.errors.entry(kind.clone()).or_insert(0) += count;
        }
    }

    fn error(&mut self, counted: bool, kind: String) {
        if counted {
            *self.errors.entry(kind).or_insert(0) += 1;
        }
    }
}

/// Why a flow stopped early.
enum Stop {
    /// The run is over: not an error.
    Deadline,
    /// The step failed (already counted).
    Failed,
    /// A 400 the caller retries in another form (not counted as an error).
    Retry,
}

/// A `http(s)://` base URL without its trailing slash.
fn base_url(raw: &str, flag: &str) -> Result<String, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("`--{flag}` {raw:?}: {e}"))?;
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                Some(url::Host::Domain(d)) => d == "localhost",
                None => false,
            };
            if !loopback {
                eprintln!("acp: warning: `--{flag}` {raw:?} is plain HTTP off loopback");
            }
        }
        other => {
            return Err(format!(
                "`--{flag}` {raw:?}: unsupported scheme {other:?} (https, or http on loopback)"
            ));
        }
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

fn signer(
    secret: Option<&str>,
    content: SignedContent,
    flag: &str,
) -> Result<Option<RequestSigner<HmacSha256Key>>, String> {
    match secret {
        None => Ok(None),
        Some("") => Err(format!("`--{flag}` is empty")),
        Some(s) => Ok(Some(
            RequestSigner::new(
                HmacSha256Key::new(s.as_bytes()).map_err(|e| format!("`--{flag}`: {e}"))?,
            )
            .with_signed_content(content),
        )),
    }
}

/// A client for `base` (already checked by [`base_url`]): raw requests, never retried.
fn client(
    base: &str,
    key: &str,
    signer: Option<RequestSigner<HmacSha256Key>>,
    timeout: Duration,
    flags: [&str; 2],
) -> Result<AcpClient, String> {
    let mut builder = AcpClient::builder(base)
        .bearer_token(key)
        .api_version(ApiVersion::LATEST)
        .user_agent("acp-load/0.1")
        .attempt_timeout(timeout)
        .connect_timeout(timeout)
        .retry_policy(RetryPolicy::none())
        // Plain HTTP off loopback is warned about (`base_url`), not refused.
        .allow_plain_http();
    if let Some(signer) = signer {
        builder = builder.signer(signer);
    }
    builder.build().map_err(|e| match e {
        BuildError::InvalidBearerToken => format!("`--{}`: {e}", flags[1]),
        other => format!("`--{}` {base:?}: {other}", flags[0]),
    })
}

fn plan(args: &LoadArgs, now: Instant) -> Result<Plan, String> {
    let timeout = Duration::from_millis(args.timeout_ms);
    let content = if args.sign_timestamp {
        SignedContent::TimestampAndBody
    } else {
        SignedContent::CanonicalBody
    };
    let signing = signer(args.signing_secret.as_deref(), content, "signing-secret")?;
    let psp = match &args.psp_url {
        Some(url) => Some(client(
            &base_url(url, "psp-url")?,
            &args.psp_api_key,
            signer(
                args.psp_signing_secret
                    .as_deref()
                    .or(args.signing_secret.as_deref()),
                content,
                "psp-signing-secret",
            )?,
            timeout,
            ["psp-url", "psp-api-key"],
        )?),
        None => None,
    };
    if args.currency.len() != 3 || !args.currency.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(format!(
            "`--currency` {:?} must be a lowercase ISO 4217 code",
            args.currency
        ));
    }
    let items = if args.items.is_empty() {
        vec![DEFAULT_ITEM.to_owned()]
    } else {
        args.items.clone()
    };
    let mut creates = Vec::new();
    for item in &items {
        if item.trim().is_empty() {
            return Err(format!("`--item` {item:?} is empty"));
        }
        let request = shapes::create(
            &ApiVersion::LATEST,
            std::slice::from_ref(item),
            &args.currency,
        )?;
        creates.push(serde_json::to_vec(&request.body).map_err(|e| e.to_string())?);
    }
    let base = base_url(&args.base_url, "base-url")?;
    let merchant = client(
        &base,
        &args.api_key,
        signing,
        timeout,
        ["base-url", "api-key"],
    )?;
    let measure_from = now + Duration::from_secs(args.warmup);
    Ok(Plan {
        merchant,
        base,
        psp,
        merchant_id: args.merchant_id.clone(),
        token: args.payment_token.clone(),
        complete: !args.no_complete,
        currency: args.currency.clone(),
        creates,
        next_item: AtomicU64::new(0),
        catalog_item_ids: AtomicBool::new(false),
        run: format!(
            "{:x}{:x}",
            OffsetDateTime::now_utc().unix_timestamp_nanos(),
            std::process::id()
        ),
        counter: AtomicU64::new(0),
        measure_from,
        stop_at: measure_from + Duration::from_secs(args.duration),
    })
}

/// `acp load`.
pub(crate) fn load(args: &LoadArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return crate::usage_error(&format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(async {
        let mut plan = match plan(args, Instant::now()) {
            Ok(p) => p,
            Err(e) => return crate::usage_error(&e),
        };
        if let Err(e) = reachable(&plan).await {
            return crate::usage_error(&format!("merchant unreachable at {}: {e}", plan.base));
        }
        // The clock starts now.
        plan.measure_from = Instant::now() + Duration::from_secs(args.warmup);
        plan.stop_at = plan.measure_from + Duration::from_secs(args.duration);
        let plan = Arc::new(plan);
        let stats = run(&plan, args.concurrency).await;
        let elapsed = Instant::now().saturating_duration_since(plan.measure_from);
        let report = report(args, &plan.base, &stats, elapsed);
        if args.json {
            println!("{report}");
        } else {
            print!("{}", text(&report));
        }
        ExitCode::SUCCESS
    })
}

/// One GET before the clock starts: a transport failure means the run cannot start (any
/// status means the server answers).
async fn reachable(plan: &Plan) -> Result<(), String> {
    let path = format!("checkout_sessions/{}", plan.fresh("cs_load_probe_"));
    plan.merchant
        .raw(Method::GET, &path)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

async fn run(plan: &Arc<Plan>, concurrency: u32) -> Stats {
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let plan = Arc::clone(plan);
        workers.spawn(async move {
            let mut stats = Stats::default();
            while Instant::now() < plan.stop_at {
                flow(&plan, &mut stats).await;
            }
            stats
        });
    }
    let mut all = Stats::default();
    while let Some(done) = workers.join_next().await {
        match done {
            Ok(stats) => all.merge(&stats),
            Err(e) => *all.errors.entry(format!("worker: {e}")).or_insert(0) += 1,
        }
    }
    all
}

/// One flow; counted when it started after the warm-up and every step succeeded.
async fn flow(plan: &Plan, stats: &mut Stats) {
    let counted = Instant::now() >= plan.measure_from;
    if steps(plan, stats).await.is_ok() && counted {
        stats.flows += 1;
    }
}

async fn steps(plan: &Plan, stats: &mut Stats) -> Result<(), Stop> {
    let n = plan.next_item.fetch_add(1, Ordering::Relaxed);
    let which = usize::try_from(n).unwrap_or(0) % plan.creates.len();
    let created = post(
        plan,
        stats,
        Step::Create,
        "/checkout_sessions".to_owned(),
        &plan.creates[which],
        false,
    )
    .await?
    .members(CREATED_MEMBERS);
    let Some(id) = created["id"].as_str().map(str::to_owned) else {
        stats.error(true, "create: no id".to_owned());
        return Err(Stop::Failed);
    };
    // `item_ids` as line-item ids (the schema's reading) first; a merchant that answers 400
    // gets the items' catalog ids, as the conformance checker does, from then on.
    let path = format!("/checkout_sessions/{id}");
    let catalog = plan.catalog_item_ids.load(Ordering::Relaxed);
    let offers = created["fulfillment_options"]
        .as_array()
        .is_some_and(|a| !a.is_empty());
    let first = to_bytes(&update_body(&created, catalog));
    let updated = match post(
        plan,
        stats,
        Step::Update,
        path.clone(),
        &first,
        offers && !catalog,
    )
    .await
    {
        Err(Stop::Retry) => {
            plan.catalog_item_ids.store(true, Ordering::Relaxed);
            let again = to_bytes(&update_body(&created, true));
            post(plan, stats, Step::Update, path, &again, false).await?
        }
        other => other?,
    }
    .members(UPDATED_MEMBERS);
    if !plan.complete {
        return Ok(());
    }
    // The update answer is the session to pay; an echo of the request lacks the handler.
    let mut session = if updated.is_object() {
        updated
    } else {
        created.clone()
    };
    if session
        .pointer("/capabilities/payment/handlers/0/id")
        .is_none()
    {
        if let Some(capabilities) = created.pointer("/capabilities") {
            session["capabilities"] = capabilities.clone();
        }
    }
    session["id"] = Value::from(id.as_str());
    let token = match &plan.psp {
        Some(psp) => delegate(plan, stats, &session, psp).await?,
        None => plan.token.clone(),
    };
    let body = complete_body(&session, &token);
    let completed = post(
        plan,
        stats,
        Step::Complete,
        format!("/checkout_sessions/{id}/complete"),
        &to_bytes(&body),
        false,
    )
    .await?;
    match completed.members(&["status"]).get("status") {
        None => Ok(()),
        Some(Value::String(done)) if done == "completed" => Ok(()),
        Some(other) => {
            let other = other.as_str().unwrap_or("?");
            let counted = Instant::now() >= plan.measure_from;
            stats.error(counted, format!("complete: status {other}"));
            Err(Stop::Failed)
        }
    }
}

/// What the flow reads of a create answer: what update reads (the line items and options it
/// selects from) and the capabilities (the payment handler, when the update answer lacks it).
const CREATED_MEMBERS: &[&str] = &["id", "capabilities", "line_items", "fulfillment_options"];

/// What the flow reads of an update answer: what `shapes::delegate`, `shapes::complete` and
/// `shapes::merchant_id` read (the id, the totals, the handler and, before 2026-01-30, the
/// payment provider).
const UPDATED_MEMBERS: &[&str] = &[
    "id",
    "currency",
    "totals",
    "capabilities",
    "payment_provider",
];

fn to_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// Buyer, address and the first offered fulfillment option for every line item (the
/// conformance checker's update); `item_ids` are the line items' ids, or with `catalog_ids`
/// their items' ids.
fn update_body(created: &Value, catalog_ids: bool) -> Value {
    let mut body = json!({
        "buyer": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
        "fulfillment_details": {"name": "Ada Lovelace", "email": "ada@example.com", "address": {
            "name": "Ada Lovelace", "line_one": "12 Analytical Way", "city": "Portland",
            "state": "OR", "country": "US", "postal_code": "97201"}},
    });
    if let Some(option) = created["fulfillment_options"]
        .as_array()
        .and_then(|a| a.first())
    {
        let item_ids: Vec<&str> = created["line_items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| {
                if catalog_ids {
                    l.pointer("/item/id").and_then(Value::as_str)
                } else {
                    l["id"].as_str()
                }
            })
            .collect();
        body["selected_fulfillment_options"] =
            json!([{"type": option["type"], "option_id": option["id"], "item_ids": item_ids}]);
    }
    body
}

/// The checker's complete request when the session declares a payment handler; otherwise
/// (a server that does not, like the echo baseline) the same shape with handler `card`.
fn complete_body(session: &Value, token: &str) -> Value {
    shapes::complete(&ApiVersion::LATEST, session, token, None).unwrap_or_else(|_| {
        json!({"payment_data": {"handler_id": "card", "instrument": {"type": "card",
            "credential": {"type": "spt", "token": token}}}})
    })
}

async fn delegate(
    plan: &Plan,
    stats: &mut Stats,
    session: &Value,
    psp: &AcpClient,
) -> Result<String, Stop> {
    let merchant_id = shapes::merchant_id(session)
        .or_else(|| plan.merchant_id.clone())
        .unwrap_or_else(|| "acp-load".to_owned());
    let expires = (OffsetDateTime::now_utc() + time::Duration::minutes(15))
        .format(&Rfc3339)
        .unwrap_or_default();
    let body = shapes::delegate(session, &plan.currency, &merchant_id, &expires, "acp-load");
    let target = Target {
        client: psp,
        path: "agentic_commerce/delegate_payment".to_owned(),
        retry_400: false,
    };
    let issued = send(plan, stats, Step::Delegate, &target, &to_bytes(&body)).await?;
    match issued.members(&["id"]).get("id") {
        Some(Value::String(token)) => Ok(token.clone()),
        _ => {
            let counted = Instant::now() >= plan.measure_from;
            stats.error(counted, "delegate: no token id".to_owned());
            Err(Stop::Failed)
        }
    }
}

/// Where a request goes and how it is authorized.
struct Target<'a> {
    /// The merchant's or the PSP's client (bearer, signer).
    client: &'a AcpClient,
    /// Below its base URL.
    path: String,
    /// A 400 is [`Stop::Retry`], not an error.
    retry_400: bool,
}

/// A POST to the merchant.
async fn post(
    plan: &Plan,
    stats: &mut Stats,
    step: Step,
    path: String,
    body: &[u8],
    retry_400: bool,
) -> Result<Answer, Stop> {
    let target = Target {
        client: &plan.merchant,
        path,
        retry_400,
    };
    send(plan, stats, step, &target, body).await
}

/// Sends one signed POST; a 2xx answer's JSON body (`null` when not JSON), else the error
/// (counted when the request started after the warm-up).
async fn send(
    plan: &Plan,
    stats: &mut Stats,
    step: Step,
    target: &Target<'_>,
    body: &[u8],
) -> Result<Answer, Stop> {
    let started = Instant::now();
    if started >= plan.stop_at {
        return Err(Stop::Deadline);
    }
    let counted = started >= plan.measure_from;
    // Signed (when a secret is set) as each request goes; a fresh key, never retried.
    let answer = target
        .client
        .raw(Method::POST, &target.path)
        .idempotency_key(&plan.fresh("load-"))
        .body(body)
        .send()
        .await;
    if counted {
        stats.requests += 1;
    }
    let (code, bytes) = match answer {
        Ok(a) => (a.status, a.body),
        Err(e) => {
            let kind = match &e {
                Error::Timeout { .. } => "timeout",
                Error::Transport { source, .. } if source.is_timeout() => "timeout",
                Error::Transport { source, .. } if source.is_connect() => "connect",
                _ => "transport",
            };
            stats.error(counted, format!("{}: {kind}", step.name()));
            return Err(Stop::Failed);
        }
    };
    if counted {
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        stats.steps[step as usize].record(micros);
    }
    if code == 400 && target.retry_400 {
        return Err(Stop::Retry);
    }
    if !(200..300).contains(&code) {
        // An ACP error's `code` (ERR-01) says why: `create: HTTP 400 missing`.
        let why = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| {
                let code = v["code"].as_str()?;
                Some(match v["param"].as_str() {
                    Some(param) => format!(" {code} at {param}"),
                    None => format!(" {code}"),
                })
            })
            .unwrap_or_default();
        stats.error(counted, format!("{}: HTTP {code}{why}", step.name()));
        return Err(Stop::Failed);
    }
    Ok(Answer(bytes))
}

/// A 2xx answer's body, parsed as far as the step reads it.
struct Answer(Vec<u8>);

impl Answer {
    /// An object of the body's members named in `names` (absent and `null` ones left out);
    /// `null` when the body is not a JSON object. Only those members become values; the rest
    /// of the body is skipped, not built.
    fn members(&self, names: &[&str]) -> Value {
        // A visitor of maps also accepts an array's elements; only an object has members.
        if self.0.trim_ascii_start().first() != Some(&b'{') {
            return Value::Null;
        }
        let mut reader = serde_json::Deserializer::from_slice(&self.0);
        match serde::de::DeserializeSeed::deserialize(Members(names), &mut reader) {
            Ok(members) if reader.end().is_ok() => Value::Object(members),
            _ => Value::Null,
        }
    }
}

/// Reads the named members of a JSON object, skipping the others.
struct Members<'a>(&'a [&'a str]);

impl<'de> serde::de::DeserializeSeed<'de> for Members<'_> {
    type Value = serde_json::Map<String, Value>;

    fn deserialize<D: serde::Deserializer<'de>>(self, reader: D) -> Result<Self::Value, D::Error> {
        reader.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Members<'_> {
    type Value = serde_json::Map<String, Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = serde_json::Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if self.0.contains(&name.as_str()) {
                let value: Value = map.next_value()?;
                if !value.is_null() {
                    members.insert(name, value);
                }
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(members)
    }
}

/// Milliseconds (three decimals: microsecond resolution).
#[allow(clippy::cast_precision_loss)] // latencies are far below 2^53 µs
fn ms(micros: Option<u64>) -> Value {
    micros.map_or(Value::Null, |us| json!(us as f64 / 1000.0))
}

/// A rate with one decimal.
#[allow(clippy::cast_precision_loss)] // counts are far below 2^53
fn rate(count: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs <= 0.0 {
        return 0.0;
    }
    (count as f64 / secs * 10.0).round() / 10.0
}

/// The run as the `--json` object.
fn report(args: &LoadArgs, base: &str, stats: &Stats, elapsed: Duration) -> Value {
    let mut all = Histogram::default();
    let mut steps = serde_json::Map::new();
    for step in Step::ALL {
        let h = &stats.steps[step as usize];
        all.merge(h);
        let ran = match step {
            Step::Create | Step::Update => true,
            Step::Delegate => args.psp_url.is_some(),
            Step::Complete => !args.no_complete,
        };
        if ran {
            steps.insert(
                step.name().to_owned(),
                json!({"requests": h.count(), "p50_ms": ms(h.percentile(50.0)),
                    "p99_ms": ms(h.percentile(99.0))}),
            );
        }
    }
    let errors: u64 = stats.errors.values().sum();
    json!({
        "base_url": base,
        "concurrency": args.concurrency,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "elapsed_s": (elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        "flows": stats.flows,
        "flows_per_s": rate(stats.flows, elapsed),
        "requests": stats.requests,
        "requests_per_s": rate(stats.requests, elapsed),
        "p50_ms": ms(all.percentile(50.0)),
        "p99_ms": ms(all.percentile(99.0)),
        "max_ms": ms(all.max()),
        "steps": steps,
        "errors": errors,
        "errors_by_kind": stats.errors,
    })
}

/// The readable table of a report.
fn text(report: &Value) -> String {
    let cell = |v: &Value| match v {
        Value::Null => "-".to_owned(),
        Value::Number(n) => n
            .as_f64()
            .map_or_else(|| n.to_string(), |f| format!("{f:.3}")),
        other => other.to_string(),
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "acp load: {}, {} workers, {} s measured after {} s warm-up ({} s elapsed)",
        report["base_url"].as_str().unwrap_or_default(),
        report["concurrency"],
        report["duration_s"],
        report["warmup_s"],
        report["elapsed_s"],
    );
    let _ = writeln!(
        out,
        "{:<10} {:>10} {:>10} {:>10}",
        "step", "requests", "p50 ms", "p99 ms"
    );
    // In flow order (the JSON object's keys are sorted).
    for step in Step::ALL {
        let s = &report["steps"][step.name()];
        if s.is_object() {
            let _ = writeln!(
                out,
                "{:<10} {:>10} {:>10} {:>10}",
                step.name(),
                s["requests"].to_string(),
                cell(&s["p50_ms"]),
                cell(&s["p99_ms"])
            );
        }
    }
    let _ = writeln!(
        out,
        "{:<10} {:>10} {:>10} {:>10}",
        "all",
        report["requests"].to_string(),
        cell(&report["p50_ms"]),
        cell(&report["p99_ms"])
    );
    let _ = writeln!(
        out,
        "flows {} ({} /s), requests {} ({} /s), max {} ms, errors {}",
        report["flows"],
        report["flows_per_s"],
        report["requests"],
        report["requests_per_s"],
        cell(&report["max_ms"]),
        report["errors"]
    );
    if let Some(kinds) = report["errors_by_kind"].as_object() {
        for (kind, count) in kinds {
            let _ = writeln!(out, "  {:>8}  {kind}", count.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_selects_the_first_offered_option_for_every_line_item() {
        let created = json!({"id": "cs_1", "line_items": [{"id": "li_1", "item": {"id": "var_a"}},
            {"id": "li_2", "item": {"id": "var_b"}}],
            "fulfillment_options": [{"type": "shipping", "id": "ship_std"}, {"type": "shipping", "id": "ship_x"}]});
        let body = update_body(&created, false);
        assert_eq!(
            body["selected_fulfillment_options"],
            json!([{"type": "shipping", "option_id": "ship_std", "item_ids": ["li_1", "li_2"]}])
        );
        assert_eq!(
            update_body(&created, true)["selected_fulfillment_options"][0]["item_ids"],
            json!(["var_a", "var_b"])
        );
        // An echo of the create request offers nothing: details only.
        let bare = update_body(&json!({"id": "cs_echo"}), false);
        assert!(bare.get("selected_fulfillment_options").is_none());
        assert_eq!(bare["fulfillment_details"]["address"]["city"], "Portland");
    }

    #[test]
    fn complete_uses_the_session_handler_or_a_plain_card() {
        let session = json!({"id": "cs_1", "status": "ready_for_payment",
            "capabilities": {"payment": {"handlers": [{"id": "card_tokenized"}]}}});
        assert_eq!(
            complete_body(&session, "vt_1")["payment_data"]["handler_id"],
            "card_tokenized"
        );
        let echo = complete_body(&json!({"id": "cs_echo"}), "vt_1");
        assert_eq!(echo["payment_data"]["handler_id"], "card");
        assert_eq!(
            echo["payment_data"]["instrument"]["credential"]["token"],
            "vt_1"
        );
    }

    #[test]
    fn an_answer_reads_only_the_members_a_step_needs() {
        let session =
            Answer(br#"{"id": "cs_1", "status": "completed", "links": [{"x": 1}]}"#.to_vec());
        assert_eq!(session.members(&["status"]), json!({"status": "completed"}));
        let token = Answer(br#"{"id": "vt_\u0031", "created": "2026-12-06T00:00:00Z"}"#.to_vec());
        assert_eq!(token.members(&["id"]), json!({"id": "vt_1"}));
        // Not an object (an echo of something else, or not JSON): nothing is read.
        for body in [
            &b"[1, 2]"[..],
            b"[\"completed\"]",
            b"not json",
            b"",
            b"{oops",
            b"{\"id\": 1} trailing",
        ] {
            assert_eq!(
                Answer(body.to_vec()).members(&["id", "status"]),
                Value::Null
            );
        }
        // Absent and null members are left out.
        let empty = Answer(br#"{"status": null}"#.to_vec()).members(&["id", "status"]);
        assert_eq!(empty, json!({}));
        // A session answer keeps only the members the next steps read, whatever the rest.
        let created = Answer(
            br#"{"id": "cs_1", "messages": [{"type": "error"}], "line_items": [{"id": "li_1"}],
                "capabilities": {"payment": {"handlers": [{"id": "h"}]}}, "links": 3}"#
                .to_vec(),
        );
        assert_eq!(
            created.members(CREATED_MEMBERS),
            json!({"id": "cs_1", "line_items": [{"id": "li_1"}],
                   "capabilities": {"payment": {"handlers": [{"id": "h"}]}}})
        );
        let updated = Answer(
            br#"{"id": "cs_1", "currency": "usd", "totals": [{"type": "total", "amount": 5}],
                "line_items": [], "payment_provider": {"provider": "stripe"}}"#
                .to_vec(),
        )
        .members(UPDATED_MEMBERS);
        assert_eq!(shapes::total(&updated), 5);
        assert_eq!(updated.get("line_items"), None);
        assert_eq!(updated["payment_provider"]["provider"], "stripe");
    }

    #[test]
    fn base_urls_are_http_or_https() {
        assert_eq!(
            base_url("http://127.0.0.1:1/", "base-url").unwrap(),
            "http://127.0.0.1:1"
        );
        assert!(
            base_url("ftp://x", "base-url")
                .unwrap_err()
                .contains("unsupported scheme")
        );
    }

    #[test]
    fn the_report_has_the_documented_keys() {
        let args = LoadArgs {
            base_url: "http://127.0.0.1:1".to_owned(),
            concurrency: 2,
            duration: 1,
            warmup: 0,
            api_key: "k".to_owned(),
            signing_secret: None,
            sign_timestamp: false,
            psp_url: None,
            psp_api_key: "p".to_owned(),
            psp_signing_secret: None,
            merchant_id: None,
            payment_token: "t".to_owned(),
            no_complete: false,
            items: Vec::new(),
            currency: "usd".to_owned(),
            timeout_ms: 10,
            json: true,
        };
        let mut stats = Stats::default();
        stats.steps[0].record(1_500);
        stats.steps[1].record(2_500);
        stats.requests = 2;
        stats.flows = 1;
        stats.error(true, "complete: HTTP 402".to_owned());
        let r = report(&args, "http://127.0.0.1:1", &stats, Duration::from_secs(2));
        for key in [
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
        ] {
            assert!(r.get(key).is_some(), "{key}: {r}");
        }
        assert_eq!(r["flows_per_s"], 0.5);
        assert_eq!(r["requests_per_s"], 1.0);
        // Histogram midpoints: within 0.8 % of the recorded 1.5 ms and 2.5 ms.
        let near = |v: &Value, want: f64| (v.as_f64().unwrap() - want).abs() <= want * 0.008;
        assert!(near(&r["p50_ms"], 1.5), "{r}");
        assert!(near(&r["p99_ms"], 2.5), "{r}");
        assert_eq!(r["max_ms"], 2.5);
        assert_eq!(r["errors"], 1);
        assert_eq!(r["errors_by_kind"]["complete: HTTP 402"], 1);
        assert!(r["steps"].get("delegate").is_none());
        assert_eq!(r["steps"]["complete"]["p50_ms"], Value::Null);
        let table = text(&r);
        assert!(table.contains("errors 1"), "{table}");
        assert!(table.contains("complete: HTTP 402"), "{table}");
    }
}
