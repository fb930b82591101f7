//! What every PostgreSQL test needs.

use std::io::Write as _;

/// `DATABASE_URL`, or `None` (with the reason printed) to skip; panics when `CI=true`.
pub(crate) fn database_url(test: &str) -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{test}: DATABASE_URL must be set when CI=true (.ci/run starts PostgreSQL)"
            );
            // Straight to stderr: the test harness captures `eprintln!` of passing tests.
            // One write per line, so parallel tests do not interleave.
            let line = format!(
                "SKIPPED {test}: DATABASE_URL is not set (`source .ci/postgres` starts a server)\n"
            );
            let _ = std::io::stderr().write_all(line.as_bytes());
            None
        }
    }
}
