//! `cargo bench --bench acp`: each case (see `benches/data/cases.rs`) is benchmarked by
//! criterion as `<key>/ours` and `<key>/baseline`, then a summary table with the ratio
//! ours / baseline measured in the same run is printed (median of alternating batches).

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
}
