//! `acp feed <command>`: product feed tools (ACP 2026-04-17 `feed.Product`).

use std::process::ExitCode;

use crate::feed_lint_cmd;

/// Flags of `acp feed`.
#[derive(Debug, clap::Args)]
pub(crate) struct FeedArgs {
    #[command(subcommand)]
    command: FeedCommand,
}

#[derive(Debug, clap::Subcommand)]
enum FeedCommand {
    /// Agent readiness of a feed (`ProductsResponse`, `UpsertProductsRequest` or JSONL of
    /// products): findings per product and variant, scores; exit 1 on any error finding, 2 on
    /// unreadable input.
    Lint(feed_lint_cmd::LintArgs),
}

/// `acp feed <command>`.
pub(crate) fn feed(args: &FeedArgs) -> ExitCode {
    match &args.command {
        FeedCommand::Lint(lint) => feed_lint_cmd::lint(lint),
    }
}
