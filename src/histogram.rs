//! How long a service's checks took, by bucket (the metrics' `check_duration_seconds`): each
//! service counts its checks into its own [`Histogram`], with the buckets of [`BUCKETS`], and
//! the metrics show it.

use std::time::Duration;

/// The upper bounds of the check duration buckets (`le`), from 1 ms to 10 s; slower checks
/// land in `+Inf` only. Written as the label shows them, with the bound in nanoseconds.
pub const BUCKETS: [(&str, u64); 13] = [
    ("0.001", 1_000_000),
    ("0.0025", 2_500_000),
    ("0.005", 5_000_000),
    ("0.01", 10_000_000),
    ("0.025", 25_000_000),
    ("0.05", 50_000_000),
    ("0.1", 100_000_000),
    ("0.25", 250_000_000),
    ("0.5", 500_000_000),
    ("1", 1_000_000_000),
    ("2.5", 2_500_000_000),
    ("5", 5_000_000_000),
    ("10", 10_000_000_000),
];

/// How long checks took, by bucket: no allocation, a few hundred bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram {
    /// Checks in each bucket of [`BUCKETS`] (not cumulative), then those slower than the last.
    counts: [u64; BUCKETS.len() + 1],
    /// Every duration added up.
    sum: Duration,
}

impl Histogram {
    /// Count one check that took `took`.
    pub fn observe(&mut self, took: Duration) {
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BUCKETS.iter().position(|&(_, bound)| nanos <= bound).unwrap_or(BUCKETS.len());
        self.counts[bucket] = self.counts[bucket].saturating_add(1);
        self.sum = self.sum.saturating_add(took);
    }

    /// Checks in each bucket of [`BUCKETS`] (not cumulative), then those slower than the last.
    pub fn counts(&self) -> [u64; BUCKETS.len() + 1] {
        self.counts
    }

    /// Every duration added up.
    pub fn sum(&self) -> Duration {
        self.sum
    }

    /// How many checks were counted.
    pub fn count(&self) -> u64 {
        self.counts.iter().fold(0u64, |all, n| all.saturating_add(*n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn histogram_buckets_include_their_bound() {
        let mut h = Histogram::default();
        h.observe(ms(1));
        h.observe(Duration::from_nanos(1_000_001));
        h.observe(ms(10_000));
        h.observe(Duration::from_nanos(10_000_000_001));
        h.observe(Duration::MAX);
        assert_eq!(h.counts[0], 1);
        assert_eq!(h.counts[1], 1);
        assert_eq!(h.counts[12], 1);
        assert_eq!(h.counts[13], 2);
        assert_eq!(h.count(), 5);
        assert_eq!(h.sum, Duration::MAX, "saturates");
    }
}
