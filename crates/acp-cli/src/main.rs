//! `acp`: a command-line window onto the `agentic-commerce` crate.
//!
//! Install with `cargo install --path crates/acp-cli` and run `acp <command> [flags]`;
//! `acp --help` lists the commands and `acp <command> --help` their flags. Each is documented
//! in the README. Exit codes: 0 success, 1 a check or verification failed (the result is on
//! standard output), 2 usage error.

mod args;
mod bench_cmd;
mod canonical_cmd;
mod conformance_cmd;
mod feed_cmd;
mod feed_lint_cmd;
mod idempotency_cmd;
mod load_cmd;
mod models_cmd;
mod rules_cmd;
mod trust_cmd;
mod version_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A command-line window onto the Agentic Commerce Protocol (ACP) crate `agentic-commerce`.
///
/// Exit codes: 0 success, 1 a check or verification failed (the result is on standard
/// output), 2 usage error.
#[derive(Debug, Parser)]
#[command(name = "acp", version, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse JSON on stdin as an ACP wire type of a released version (default: the latest);
    /// print it re-serialized (exit 0) or a JSON array of ACP errors (exit 1).
    Validate(models_cmd::ValidateArgs),
    /// List every supported `<bundle>.<Name>`, one per line.
    Types(models_cmd::TypesArgs),
    /// RFC 8785 canonical JSON of stdin (no trailing newline).
    Canonicalize,
    /// Hex SHA-256 of the canonical JSON of stdin (the idempotency fingerprint).
    Fingerprint,
    /// The `Merchant-Signature` header value for the body on stdin.
    WebhookSign(trust_cmd::SignArgs),
    /// Verify a `Merchant-Signature` over the body on stdin: print `ok` (exit 0), or
    /// `missing`, `malformed`, `stale` or `mismatch` (exit 1).
    WebhookVerify(trust_cmd::VerifyArgs),
    /// Check a charge against a delegated token's allowance: exit 0, or exit 1 with the JSON
    /// list of violations.
    AllowanceCheck(trust_cmd::AllowanceArgs),
    /// `API-Version` negotiation: print the version to use (exit 0), or the ACP error the
    /// server must send (exit 1).
    NegotiateVersion(version_cmd::NegotiateArgs),
    /// Business rules of the `CheckoutSession` on stdin: a JSON array of findings; exit 1 on
    /// any error-severity finding.
    CheckSession,
    /// Check an ACP merchant over HTTP (exit 1: a MUST failed; 2: usage error or unreachable).
    Conformance(Box<conformance_cmd::ConformanceArgs>),
    /// Quick speed comparison against baselines measured in the same run (build with
    /// `--release`).
    Bench(bench_cmd::BenchArgs),
    /// Load test: N concurrent workers drive create, update and complete flows against a
    /// merchant for S seconds; prints throughput, p50/p99 latency and errors (exit 0 even
    /// with errors; 2: usage error or unreachable).
    Load(Box<load_cmd::LoadArgs>),
    /// Product feed tools: `export` a `ProductsResponse` to metadata.json + products.jsonl and
    /// `import` them back (streamed; exit 1: invalid feed, 2: usage or I/O); `lint` reports how
    /// ready a feed is for agents (exit 1: an error finding, 2: unreadable input).
    Feed(feed_cmd::FeedArgs),
}

fn main() -> ExitCode {
    // Usage errors (and `--help` / `--version`) exit here: 2 for an error, 0 for help.
    let cli = Cli::parse();
    match &cli.command {
        Command::Validate(args) => models_cmd::validate(args),
        Command::Types(args) => models_cmd::types(args),
        Command::Canonicalize => canonical_cmd::canonicalize(),
        Command::Fingerprint => idempotency_cmd::fingerprint(),
        Command::WebhookSign(args) => trust_cmd::webhook_sign(args),
        Command::WebhookVerify(args) => trust_cmd::webhook_verify(args),
        Command::AllowanceCheck(args) => trust_cmd::allowance_check(args),
        Command::NegotiateVersion(args) => version_cmd::negotiate_version(args),
        Command::CheckSession => rules_cmd::check_session(),
        Command::Conformance(args) => conformance_cmd::conformance(args),
        Command::Bench(args) => bench_cmd::bench(args),
        Command::Load(args) => load_cmd::load(args),
        Command::Feed(args) => feed_cmd::feed(args),
    }
}

/// Prints a usage error and returns exit code 2.
pub(crate) fn usage_error(message: &str) -> ExitCode {
    eprintln!("acp: {message}");
    ExitCode::from(2)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::Cli;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_help() {
        let cli = Cli::command();
        let names: Vec<&str> = cli.get_subcommands().map(clap::Command::get_name).collect();
        assert_eq!(
            names,
            [
                "validate",
                "types",
                "canonicalize",
                "fingerprint",
                "webhook-sign",
                "webhook-verify",
                "allowance-check",
                "negotiate-version",
                "check-session",
                "conformance",
                "bench",
                "load",
                "feed"
            ]
        );
        for command in cli.get_subcommands() {
            assert!(command.get_about().is_some(), "{}", command.get_name());
        }
    }
}
