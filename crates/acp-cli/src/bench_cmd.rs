//! `acp bench [--json]`: a quick (well under a minute) run of the benchmark comparisons of
//! `benches/acp.rs`, with the same payloads and cases: for each, a warm-up, then the median
//! of alternating batches of ours and the baseline, timed with `std::time::Instant`.
//!
//! Prints a table, or with `--json` an object keyed by case with `ours_ns`, `baseline_ns`
//! and `ratio` (ours / baseline). Build with `--release`: debug timings mean nothing.

use std::process::ExitCode;
use std::time::Duration;

include!("../../../benches/data/payloads.rs");
include!("../../../benches/data/cases.rs");

/// Flags of `acp bench`.
#[derive(Debug, clap::Args)]
pub(crate) struct BenchArgs {
    /// Print `{case: {ours_ns, baseline_ns, ratio}}` for the headline cases instead of the table.
    #[arg(long)]
    json: bool,
}

/// `acp bench`.
pub(crate) fn bench(parsed: &BenchArgs) -> ExitCode {
    let json = parsed.json;
    let mut rows = Vec::new();
    for mut case in cases() {
        if json && !case.headline {
            continue;
        }
        let (ours, baseline) = measure(&mut case, 15, Duration::from_millis(10));
        rows.push((case.key, case.what, ours, baseline));
    }
    if json {
        let mut out = serde_json::Map::new();
        for (key, _, ours, baseline) in &rows {
            out.insert(
                (*key).to_owned(),
                serde_json::json!({
                    "ours_ns": ours.round(),
                    "baseline_ns": baseline.round(),
                    "ratio": (ours / baseline * 1000.0).round() / 1000.0,
                }),
            );
        }
        println!("{}", serde_json::Value::Object(out));
    } else {
        println!(
            "{:<28} {:>12} {:>12} {:>7}  comparison",
            "case", "ours ns", "baseline ns", "ratio"
        );
        for (key, what, ours, baseline) in &rows {
            println!(
                "{key:<28} {ours:>12.0} {baseline:>12.0} {:>7.3}  {what}",
                ours / baseline
            );
        }
        if cfg!(debug_assertions) {
            println!("(debug build: run with --release for meaningful numbers)");
        }
    }
    ExitCode::SUCCESS
}
