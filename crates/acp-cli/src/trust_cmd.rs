//! `webhook-sign`, `webhook-verify` and `allowance-check`: the trust subcommands.
//!
//! Exit codes: 0 success, 1 verification or check failed (a stable result on stdout),
//! 2 usage error (bad flags, unreadable input).

use std::process::ExitCode;

use agentic_commerce::trust::allowance::{self, AllowanceTerms, ProposedCharge};
use agentic_commerce::trust::webhook::{self, VerificationPolicy, WebhookSecret, WebhookVerifier};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::args::read_stdin;

/// Flags of `acp webhook-sign`.
#[derive(Debug, clap::Args)]
pub(crate) struct SignArgs {
    /// The webhook signing secret.
    #[arg(long, value_name = "S")]
    secret: String,
    /// The signature's timestamp, unix seconds.
    #[arg(long, value_name = "T")]
    timestamp: String,
}

/// Flags of `acp webhook-verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct VerifyArgs {
    /// A webhook signing secret; repeat to accept several (rotation).
    #[arg(long = "secret", value_name = "S", required = true)]
    secrets: Vec<String>,
    /// The `Merchant-Signature` header value.
    #[arg(long, value_name = "H")]
    header: String,
    /// The current time: unix seconds or RFC 3339.
    #[arg(long, value_name = "T", allow_hyphen_values = true)]
    now: String,
    /// Accepted clock skew in seconds, past and future (default 300 s past, 60 s future; at
    /// most 3600).
    #[arg(long, value_name = "SECS", allow_hyphen_values = true)]
    tolerance: Option<String>,
}

/// Flags of `acp allowance-check`.
#[derive(Debug, clap::Args)]
pub(crate) struct AllowanceArgs {
    /// A JSON file holding the delegated token's `Allowance`.
    #[arg(long, value_name = "FILE")]
    allowance: String,
    /// The checkout session the charge is for.
    #[arg(long, value_name = "ID")]
    session_id: String,
    /// The merchant asking for the charge.
    #[arg(long, value_name = "ID")]
    merchant_id: String,
    /// The charge amount in minor units.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    amount: String,
    /// The charge currency (ISO 4217).
    #[arg(long, value_name = "CUR")]
    currency: String,
    /// The current time: unix seconds or RFC 3339.
    #[arg(long, value_name = "RFC3339", allow_hyphen_values = true)]
    now: String,
}

/// `webhook-sign --secret S --timestamp T`: prints the `Merchant-Signature` header value for
/// the body on stdin.
pub(crate) fn webhook_sign(args: &SignArgs) -> ExitCode {
    match sign(args) {
        Ok(header) => {
            println!("{header}");
            ExitCode::SUCCESS
        }
        Err(message) => crate::usage_error(&message),
    }
}

fn sign(args: &SignArgs) -> Result<String, String> {
    let secret = parse_secret(&args.secret)?;
    let timestamp = &args.timestamp;
    let timestamp = timestamp
        .parse::<u64>()
        .ok()
        .and_then(|t| i64::try_from(t).ok())
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
        .ok_or_else(|| {
            format!("`--timestamp` must be unix seconds up to year 9999, got `{timestamp}`")
        })?;
    let body = read_stdin()?;
    webhook::sign(&secret, timestamp, &body).map_err(|e| format!("`--timestamp`: {e}"))
}

/// `webhook-verify --secret S [--secret S2 …] --header H --now T [--tolerance SECS]`: verifies
/// the body on stdin; prints `ok` (exit 0) or the error kind (exit 1).
pub(crate) fn webhook_verify(args: &VerifyArgs) -> ExitCode {
    let (verifier, header, now) = match verify_setup(args) {
        Ok(setup) => setup,
        Err(message) => return crate::usage_error(&message),
    };
    let body = match read_stdin() {
        Ok(body) => body,
        Err(message) => return crate::usage_error(&message),
    };
    match verifier.verify(Some(&header), &body, now) {
        Ok(_) => {
            println!("ok");
            ExitCode::SUCCESS
        }
        Err(error) => {
            println!("{}", error.kind());
            eprintln!("acp: {error}");
            ExitCode::from(1)
        }
    }
}

fn verify_setup(args: &VerifyArgs) -> Result<(WebhookVerifier, String, OffsetDateTime), String> {
    let secrets = args.secrets.iter().map(|s| parse_secret(s));
    let secrets = secrets.collect::<Result<Vec<_>, _>>()?;
    let mut verifier = WebhookVerifier::rotating(secrets).ok_or("missing required `--secret`")?;
    if let Some(tolerance) = &args.tolerance {
        let secs: i64 = tolerance
            .parse()
            .map_err(|_| format!("`--tolerance` must be whole seconds, got `{tolerance}`"))?;
        let window = time::Duration::seconds(secs);
        let policy = VerificationPolicy::new()
            .with_max_past(window)
            .and_then(|p| p.with_max_future(window))
            .map_err(|e| format!("`--tolerance`: {e}"))?;
        verifier = verifier.with_policy(policy);
    }
    let header = args.header.clone();
    let now = parse_now(&args.now)?;
    Ok((verifier, header, now))
}

/// `allowance-check --allowance FILE --session-id ID --merchant-id ID --amount N --currency CUR
/// --now RFC3339`: prints `ok` (exit 0) or the JSON array of violations (exit 1), in their
/// detailed form (the user holds both the allowance and the charge).
pub(crate) fn allowance_check(args: &AllowanceArgs) -> ExitCode {
    let (terms, charge, now) = match allowance_setup(args) {
        Ok(setup) => setup,
        Err(message) => return crate::usage_error(&message),
    };
    match allowance::check(&terms, &charge, now) {
        Ok(_) => {
            println!("ok");
            ExitCode::SUCCESS
        }
        Err(violations) => match serde_json::to_string(&violations.detailed()) {
            Ok(json) => {
                println!("{json}");
                ExitCode::from(1)
            }
            Err(error) => crate::usage_error(&format!("cannot write violations: {error}")),
        },
    }
}

fn allowance_setup(
    args: &AllowanceArgs,
) -> Result<(AllowanceTerms, ProposedCharge, OffsetDateTime), String> {
    let path = &args.allowance;
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
    let terms: AllowanceTerms =
        serde_json::from_str(&text).map_err(|e| format!("`{path}` is not an Allowance: {e}"))?;
    let amount = &args.amount;
    let amount: i64 = amount
        .parse()
        .map_err(|_| format!("`--amount` must be an integer in minor units, got `{amount}`"))?;
    let charge = ProposedCharge {
        amount,
        currency: args.currency.clone(),
        checkout_session_id: args.session_id.clone(),
        merchant_id: args.merchant_id.clone(),
    };
    let now = parse_now(&args.now)?;
    Ok((terms, charge, now))
}

fn parse_secret(secret: &str) -> Result<WebhookSecret, String> {
    WebhookSecret::new(secret).map_err(|e| format!("`--secret`: {e}"))
}

/// Unix seconds (optionally negative) or an RFC 3339 timestamp.
fn parse_now(text: &str) -> Result<OffsetDateTime, String> {
    let parsed = match text.parse::<i64>() {
        Ok(unix) => OffsetDateTime::from_unix_timestamp(unix).map_err(|e| e.to_string()),
        Err(_) => OffsetDateTime::parse(text, &Rfc3339).map_err(|e| e.to_string()),
    };
    parsed.map_err(|e| format!("`--now` must be unix seconds or RFC 3339, got `{text}`: {e}"))
}
