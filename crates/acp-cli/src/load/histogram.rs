//! A fixed-size, log-linear latency histogram (the HDR histogram's layout): memory stays
//! bounded (1,728 counters, about 14 KiB) however long a load run lasts.
//!
//! Values are microseconds. Below 128 µs every value has its own bucket (exact); above, each
//! power of two is split into 64 buckets, so a bucket is at most 1/64 of its values wide
//! and the reported midpoint is within 0.8 % of any value it holds. Values from 2^32 µs
//! (about 71 minutes) up count in the last bucket.

/// Values below this are counted exactly.
const SUB: u64 = 128;
/// Buckets per power of two above `SUB`.
const HALF: u64 = SUB / 2;
/// Bits of `HALF`'s position (`HALF == 1 << (SUB_BITS - 1)`).
const SUB_BITS: u32 = 7;
/// The largest value with a bucket of its own.
const MAX_VALUE: u64 = (1 << 32) - 1;
/// Number of buckets: the index of [`MAX_VALUE`] plus one (checked by a test).
const BUCKETS: usize = 1728;

/// The bucket of `value` (clamped to [`MAX_VALUE`]).
fn index(value: u64) -> usize {
    let v = value.min(MAX_VALUE);
    let i = if v < SUB {
        v
    } else {
        // `v >> shift` is in [HALF, SUB).
        let shift = v.ilog2() - (SUB_BITS - 1);
        SUB + (u64::from(shift) - 1) * HALF + ((v >> shift) - HALF)
    };
    usize::try_from(i).map_or(BUCKETS - 1, |i| i.min(BUCKETS - 1))
}

/// The value a bucket stands for: the value itself below `SUB`, else the bucket's midpoint.
fn representative(index: usize) -> u64 {
    let i = index as u64;
    if i < SUB {
        return i;
    }
    let k = i - SUB;
    let shift = k / HALF + 1;
    let lower = (k % HALF + HALF) << shift;
    lower + (1 << shift) / 2
}

/// Counts of latencies, in microseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: vec![0; BUCKETS],
            total: 0,
            max: 0,
        }
    }
}

impl Histogram {
    /// Counts one value (microseconds).
    pub(crate) fn record(&mut self, micros: u64) {
        self.counts[index(micros)] += 1;
        self.total += 1;
        self.max = self.max.max(micros);
    }

    /// Adds every count of `other`.
    pub(crate) fn merge(&mut self, other: &Self) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }

    /// How many values were recorded.
    pub(crate) fn count(&self) -> u64 {
        self.total
    }

    /// The largest value recorded, exactly (`None` when empty).
    pub(crate) fn max(&self) -> Option<u64> {
        (self.total > 0).then_some(self.max)
    }

    /// The `p`-th percentile (`0 < p <= 100`), nearest-rank: the smallest recorded value such
    /// that at least `p` % of the values are at or below it, as its bucket's representative
    /// (never above the exact maximum). `None` when empty.
    pub(crate) fn percentile(&self, p: f64) -> Option<u64> {
        if self.total == 0 {
            return None;
        }
        let p = p.clamp(0.0, 100.0);
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        // total < 2^53 in any real run; the product is non-negative and at most total.
        let rank = ((p / 100.0 * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(representative(i).min(self.max));
            }
        }
        Some(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_bounded() {
        assert_eq!(index(0), 0);
        assert_eq!(index(127), 127);
        assert_eq!(index(128), 128);
        assert_eq!(index(255), 128 + 63);
        assert_eq!(index(256), 128 + 64);
        assert_eq!(index(MAX_VALUE), BUCKETS - 1);
        assert_eq!(index(MAX_VALUE / 2), BUCKETS - 1 - 64);
        assert_eq!(index(u64::MAX), BUCKETS - 1);
        let mut last = 0;
        for v in 1..300_000 {
            let i = index(v);
            assert!(i == last || i == last + 1, "{v}: {last} -> {i}");
            last = i;
        }
    }

    #[test]
    fn representatives_are_within_one_percent() {
        for v in (1..100_000_000u64)
            .step_by(9_973)
            .chain([1, 127, 128, 129, 1_000_000])
        {
            let r = representative(index(v));
            #[allow(clippy::cast_precision_loss)]
            let error = (r as f64 - v as f64).abs() / v as f64;
            assert!(error <= 0.008, "{v} -> {r} ({error})");
        }
        for v in 0..128 {
            assert_eq!(representative(index(v)), v);
        }
    }

    #[test]
    fn empty_has_no_percentiles() {
        let h = Histogram::default();
        assert_eq!(h.percentile(50.0), None);
        assert_eq!(h.max(), None);
        assert_eq!(h.count(), 0);
    }

    #[test]
    fn small_values_are_exact_nearest_rank() {
        let mut h = Histogram::default();
        for v in 1..=100 {
            h.record(v);
        }
        assert_eq!(h.percentile(50.0), Some(50));
        assert_eq!(h.percentile(99.0), Some(99));
        assert_eq!(h.percentile(100.0), Some(100));
        assert_eq!(h.percentile(0.0), Some(1));
        assert_eq!(h.max(), Some(100));
    }

    #[test]
    fn millisecond_latencies_are_within_one_percent() {
        let mut h = Histogram::default();
        // 1..=1000 ms, shuffled order does not matter.
        for ms in (1..=1000u64).rev() {
            h.record(ms * 1000);
        }
        let near = |got: Option<u64>, want: u64| {
            let got = got.unwrap();
            assert!(got.abs_diff(want) * 100 <= want, "{got} vs {want}");
        };
        near(h.percentile(50.0), 500_000);
        near(h.percentile(99.0), 990_000);
        near(h.percentile(99.9), 999_000);
        assert_eq!(h.percentile(100.0), Some(1_000_000));
    }

    #[test]
    fn a_skewed_tail_shows_in_p99_not_p50() {
        let mut h = Histogram::default();
        for _ in 0..980 {
            h.record(2_000);
        }
        for _ in 0..20 {
            h.record(250_000);
        }
        let p50 = h.percentile(50.0).unwrap();
        let p99 = h.percentile(99.0).unwrap();
        assert!(p50.abs_diff(2_000) <= 20, "{p50}");
        assert!(p99.abs_diff(250_000) <= 2_500, "{p99}");
    }

    #[test]
    fn merging_equals_recording_into_one() {
        let (mut a, mut b, mut both) = (
            Histogram::default(),
            Histogram::default(),
            Histogram::default(),
        );
        for v in [5, 900, 40_000, 7_000_000] {
            a.record(v);
            both.record(v);
        }
        for v in [3, 1_200, 55_555] {
            b.record(v);
            both.record(v);
        }
        a.merge(&b);
        assert_eq!(a, both);
        assert_eq!(a.count(), 7);
        assert_eq!(a.max(), Some(7_000_000));
    }

    #[test]
    fn huge_values_are_clamped_but_the_max_is_exact() {
        let mut h = Histogram::default();
        h.record(u64::MAX);
        assert_eq!(h.max(), Some(u64::MAX));
        assert!(h.percentile(50.0).unwrap() >= MAX_VALUE / 2);
    }
}
