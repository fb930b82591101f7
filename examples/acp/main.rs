//! `acp`: a command-line window onto the `agentic-commerce` crate.
//!
//! Run as `cargo run --release --example acp -- <command> [flags]`.
//! `acp help` lists the commands; each is documented in the README.

mod args;
mod bench_cmd;
mod canonical_cmd;
mod conformance_cmd;
mod idempotency_cmd;
mod models_cmd;
mod rules_cmd;
mod trust_cmd;
mod version_cmd;

use std::process::ExitCode;

const HELP: &str = "\
usage: acp <command> [flags]

commands:
  validate --type <bundle>.<Name> [--strict] [--api-version DATE]
                                               parse JSON on stdin as an ACP wire type of
                                               that released version (default: latest)
  types [--api-version DATE]                   list every supported <bundle>.<Name>
  canonicalize                                 RFC 8785 canonical JSON of stdin
  fingerprint                                  hex SHA-256 of the canonical JSON of stdin
  webhook-sign --secret S --timestamp T        Merchant-Signature header for the body on stdin
  webhook-verify --secret S [--secret S2 ...] --header H --now T [--tolerance SECS]
  allowance-check --allowance FILE --session-id ID --merchant-id ID --amount N --currency CUR --now RFC3339
  negotiate-version --supported <v,..> [--requested <v>]
  check-session                                business rules of a CheckoutSession on stdin (JSON findings)
  conformance --base-url URL [--api-version V] [--bearer TOKEN] [--item ID ...] [--json]
              [--signing-secret S [--sign-timestamp]] [--psp-url URL --psp-bearer TOKEN
              [--psp-signing-secret S]] [--currency C] [--timeout SECS]
                                               check an ACP merchant over HTTP (exit 1: a MUST failed)
  bench [--json]                               quick speed comparison against baselines (use --release)
";

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = argv.split_first() else {
        eprint!("{HELP}");
        return ExitCode::from(2);
    };
    match command.as_str() {
        "validate" => models_cmd::validate(rest),
        "types" => models_cmd::types(rest),
        "canonicalize" => canonical_cmd::canonicalize(rest),
        "fingerprint" => idempotency_cmd::fingerprint(rest),
        "webhook-sign" => trust_cmd::webhook_sign(rest),
        "webhook-verify" => trust_cmd::webhook_verify(rest),
        "allowance-check" => trust_cmd::allowance_check(rest),
        "negotiate-version" => version_cmd::negotiate_version(rest),
        "check-session" => rules_cmd::check_session(rest),
        "conformance" => conformance_cmd::conformance(rest),
        "bench" => bench_cmd::bench(rest),
        "help" | "--help" | "-h" => {
            print!("{HELP}");
            ExitCode::SUCCESS
        }
        other => {
            eprintln!("acp: unknown command `{other}`\n\n{HELP}");
            ExitCode::from(2)
        }
    }
}

/// Prints a usage error and returns exit code 2.
pub(crate) fn usage_error(message: &str) -> ExitCode {
    eprintln!("acp: {message}");
    ExitCode::from(2)
}
