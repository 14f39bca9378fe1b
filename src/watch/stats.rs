//! The statistics of a run: latency percentiles from the merged histograms, the histograms in
//! full (their non-empty buckets, for `--histogram`), and fairness across workers.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Percentiles of a latency histogram, in nanoseconds (HDR histograms of 2 significant
/// digits, merged across workers).
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Percentiles {
    #[schemars(range(min = 1))]
    pub samples: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

/// `None` for an empty histogram.
pub(crate) fn percentiles(h: &Histogram<u32>) -> Option<Percentiles> {
    if h.is_empty() {
        return None;
    }
    // A quantile whose rank (`ceil(q * samples)`, as `value_at_quantile` counts it) is the last
    // sample is the maximum's bucket, which `max` gives without walking the counts: with up to
    // 1000 samples p999 is, and with few samples p90 and p99 too (the tutorial: 5 samples, one
    // walk instead of four). A rank equal to the one before gives the value before.
    let n = h.len();
    let mut before: Option<(u64, u64)> = None;
    let mut at = |q: f64| {
        let rank = ((q * n as f64).ceil() as u64).max(1);
        let value = match before {
            _ if rank >= n => h.max(),
            Some((r, v)) if r == rank => v,
            _ => h.value_at_quantile(q),
        };
        before = Some((rank, value));
        value
    };
    let (p50, p90, p99, p999) = (at(0.50), at(0.90), at(0.99), at(0.999));
    Some(Percentiles { samples: n, p50, p90, p99, p999, max: h.max() })
}

/// One non-empty bucket of a merged latency histogram: the samples from `ns_low` to `ns_high`
/// nanoseconds, both included (the values an HDR histogram of 2 significant digits cannot tell
/// apart).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Bin {
    pub ns_low: u64,
    pub ns_high: u64,
    #[schemars(range(min = 1))]
    pub count: u64,
}

/// Every non-empty bucket of `h`, lowest first: ordered, and disjoint (a bucket starts above
/// the one before ends); their counts sum to the samples.
pub(crate) fn bins(h: &Histogram<u32>) -> Vec<Bin> {
    h.iter_recorded()
        .map(|v| {
            let value = v.value_iterated_to();
            Bin {
                ns_low: h.lowest_equivalent(value),
                ns_high: h.highest_equivalent(value),
                count: u64::from(v.count_at_value()),
            }
        })
        .collect()
}

/// How evenly the workers shared the work.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fairness {
    /// Jain's index over per-worker ops/s: 1 when all are equal, 1/n when one did everything.
    pub jain: f64,
    /// The fastest worker's ops/s over the slowest's.
    pub max_min_ratio: f64,
    /// From the first measured worker's end to the last's, in seconds.
    pub finish_spread_seconds: f64,
    /// The workers these figures cover (the ones that published a time), of `workers`.
    pub measured: usize,
    pub workers: usize,
}

/// Fairness of the measured workers given as `(ops per second, end in seconds)`, of `of` in
/// all; `None` with fewer than two measured workers (nothing to compare).
pub(crate) fn fairness(workers: &[(f64, f64)], of: usize) -> Option<Fairness> {
    if workers.len() < 2 {
        return None;
    }
    let rates: Vec<f64> = workers.iter().map(|w| w.0).collect();
    let sum: f64 = rates.iter().sum();
    let squares: f64 = rates.iter().map(|r| r * r).sum();
    let jain = if squares > 0.0 { sum * sum / (rates.len() as f64 * squares) } else { 1.0 };
    let (lo, hi) = rates.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
    let ends = workers.iter().map(|w| w.1);
    let (first, last) = ends.fold((f64::INFINITY, 0.0f64), |(a, b), e| (a.min(e), b.max(e)));
    Some(Fairness {
        jain,
        max_min_ratio: if lo > 0.0 { hi / lo } else { f64::INFINITY },
        finish_spread_seconds: (last - first).max(0.0),
        measured: workers.len(),
        workers: of,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jain_index_spans_one_over_n_to_one() {
        let equal = fairness(&[(10.0, 1.0), (10.0, 1.5)], 2).unwrap();
        assert!((equal.jain - 1.0).abs() < 1e-12);
        assert_eq!(equal.max_min_ratio, 1.0);
        assert!((equal.finish_spread_seconds - 0.5).abs() < 1e-12);
        let one = fairness(&[(10.0, 1.0), (0.0, 1.0), (0.0, 1.0), (0.0, 1.0)], 4).unwrap();
        assert!(fairness(&[(10.0, 1.0)], 3).is_none());
        assert!((one.jain - 0.25).abs() < 1e-12);
        assert!(one.max_min_ratio.is_infinite());
    }

    #[test]
    fn bins_are_ordered_disjoint_and_count_every_sample() {
        let mut h = super::super::hist::merged();
        for v in 1..=5000u64 {
            h.record(v * v % 100_000 + 1).unwrap();
        }
        h.record_n(7, 3).unwrap();
        let bins = bins(&h);
        assert_eq!(bins.iter().map(|b| b.count).sum::<u64>(), 5003);
        assert!(bins.iter().all(|b| b.ns_low <= b.ns_high && b.count > 0), "{bins:?}");
        assert!(bins.windows(2).all(|w| w[0].ns_high < w[1].ns_low), "{bins:?}");
        // Every sample lies in its bin: the bin of 7 holds 7 and the other recorded 7s.
        let seven = bins.iter().find(|b| (b.ns_low..=b.ns_high).contains(&7)).unwrap();
        assert_eq!(seven.count, 3 + (1..=5000u64).filter(|v| v * v % 100_000 + 1 == 7).count() as u64);
        assert!(super::bins(&super::super::hist::merged()).is_empty());
    }

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut h = super::super::hist::new();
        for v in 1..=1000u64 {
            h.record(v * 100).unwrap();
        }
        let p = percentiles(&h).unwrap();
        assert_eq!(p.samples, 1000);
        assert!((49_000..=51_000).contains(&p.p50), "{p:?}");
        assert!((98_000..=100_000).contains(&p.p99), "{p:?}");
        assert!(percentiles(&super::super::hist::new()).is_none());
    }

    #[test]
    fn the_short_cuts_give_what_value_at_quantile_gives() {
        for samples in [1u64, 2, 3, 5, 7, 10, 99, 100, 101, 1000, 1001, 4099] {
            let mut h = super::super::hist::merged();
            for v in 0..samples {
                h.record(1 + (v * 7919) % 5_000_000 + v * v).unwrap();
            }
            let p = percentiles(&h).unwrap();
            let alone = [0.50, 0.90, 0.99, 0.999].map(|q| h.value_at_quantile(q));
            assert_eq!([p.p50, p.p90, p.p99, p.p999], alone, "{samples} samples");
        }
    }
}
