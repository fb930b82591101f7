//! `cargo bench --bench acp`: each case (see `benches/data/cases.rs`) is benchmarked by
//! criterion as `<key>/ours` and `<key>/baseline`, then a summary table with the ratio
//! ours / baseline measured in the same run is printed (median of alternating batches).
//!
//! With `ACP_BENCH_FEED_JSONL=<file>` (JSON Lines of `feed.Product`, e.g. a generated
//! 1,000,000-product feed), it then reads the file twice in the loop of `acp feed lint`
//! (`BufRead` line by line): parsing each product only, and parsing and linting it, and prints
//! both times and their ratio (the best of two alternating rounds).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group};

include!("data/payloads.rs");
include!("data/cases.rs");

fn bench(c: &mut Criterion) {
    for mut case in cases() {
        let mut group = c.benchmark_group(case.key);
        group.bench_function("ours", |b| b.iter(&mut case.ours));
        group.bench_function("baseline", |b| b.iter(&mut case.baseline));
        group.finish();
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    println!(
        "\n{:<28} {:>14} {:>14} {:>7}  comparison",
        "case", "ours ns", "baseline ns", "ratio"
    );
    for mut case in cases() {
        let (ours, base) = measure(&mut case, 31, std::time::Duration::from_millis(20));
        println!(
            "{:<28} {:>14.0} {:>14.0} {:>7.3}  {}",
            case.key,
            ours,
            base,
            ours / base,
            case.what
        );
    }
    if let Some(path) = std::env::var_os("ACP_BENCH_FEED_JSONL") {
        feed_file(std::path::Path::new(&path));
    }
}

/// Parse-only and parse + lint passes over a JSONL feed file (see the crate docs above).
fn feed_file(path: &std::path::Path) {
    use agentic_commerce::parse;
    use agentic_commerce::parse::json_path::JsonPath;
    use agentic_commerce::rules::feed_readiness::CatalogLinter;
    use agentic_commerce::spec::v2026_04_17::feed::Product;
    use std::io::BufRead as _;

    let pass = |lint: bool| {
        let start = std::time::Instant::now();
        let file = std::fs::File::open(path).unwrap();
        let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
        let mut line = Vec::new();
        let mut linter = CatalogLinter::new();
        let root = JsonPath::root();
        let mut products = 0_u64;
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line).unwrap() == 0 {
                break;
            }
            let Ok(product) = parse::from_slice::<Product>(&line) else {
                continue;
            };
            products += 1;
            if lint {
                std::hint::black_box(linter.push(&product, &root));
            } else {
                std::hint::black_box(&product);
            }
        }
        let score = linter.summary().score;
        (start.elapsed().as_secs_f64(), products, score)
    };
    let mut parse_s = f64::INFINITY;
    let mut lint_s = f64::INFINITY;
    let mut summary = (0, 0.0);
    for _ in 0..2 {
        parse_s = parse_s.min(pass(false).0);
        let (seconds, products, score) = pass(true);
        lint_s = lint_s.min(seconds);
        summary = (products, score);
    }
    println!(
        "\nfeed file {}: {} products, score {:.4}; parse {parse_s:.2} s, parse + lint {lint_s:.2} s, ratio {:.3}",
        path.display(),
        summary.0,
        summary.1,
        lint_s / parse_s
    );
}
