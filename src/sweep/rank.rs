//! Rank statistics of two sets of runs: the Mann-Whitney U test's p-value (ties at their mean
//! rank) and, from the same distribution, the confidence interval of a ratio of speeds.
//!
//! The interval is the Hodges-Lehmann (Bauer 1972) inversion of the Mann-Whitney test on the
//! logarithms of ops/s: of the m x n pairwise ratios `new_j / old_i`, sorted, the k-th from
//! each end, k chosen from the exact distribution of U (no ties) so that the interval covers
//! the true ratio with probability at least [`LEVEL`] when one side's speeds are the other's
//! times a constant. Distribution-free and deterministic (no resampling); with few runs 95%
//! cannot be had and the interval is the widest the runs give, with the level it does have
//! (90% with 3 runs a side, 67% with 2). The same construction as R's `wilcox.test(...,
//! conf.int = TRUE)` on the logarithms, exponentiated.
//!
//! Pure arithmetic; no I/O.

use serde::Serialize;

/// The confidence asked of an interval (reached from 4 runs a side).
pub const LEVEL: f64 = 0.95;

/// Runs a side up to which the distributions are counted exactly; the normal approximation
/// beyond.
pub const EXACT_UP_TO: usize = 30;

/// The name of the interval's method, for people and documents.
pub const METHOD: &str = "Hodges-Lehmann interval of the ratio, from the exact Mann-Whitney U distribution (distribution-free; normal approximation beyond 30 runs a side)";

/// Where the ratio of two sets of runs' speeds lies.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RatioInterval {
    /// The lower bound of the ratio (new over old, or faster over slower).
    pub low: f64,
    pub high: f64,
    /// The confidence the interval has: 0.95, or less when too few runs cannot give that
    /// (0.9 with 3 runs a side, 0.667 with 2): the widest interval the runs give.
    pub level: f64,
}

impl RatioInterval {
    /// `95% CI 2.95x-3.24x`.
    pub fn words(&self) -> String {
        format!("{} CI {:.2}x-{:.2}x", level_words(self.level), self.low, self.high)
    }

    /// Whether 1 (no difference) lies inside.
    pub fn holds_one(&self) -> bool {
        self.low <= 1.0 && 1.0 <= self.high
    }
}

/// `95%`, `90%`, `66.7%`.
pub fn level_words(level: f64) -> String {
    let pct = 100.0 * level;
    if (pct - pct.round()).abs() < 0.05 { format!("{pct:.0}%") } else { format!("{pct:.1}%") }
}

/// The interval of `b / a` (each side's ops/s) at [`LEVEL`] or the most the runs give; `None`
/// with fewer than 2 runs on a side, or a speed of 0 or less (no logarithm).
pub fn ratio_interval(a: &[f64], b: &[f64]) -> Option<RatioInterval> {
    let (m, n) = (a.len(), b.len());
    if m < 2 || n < 2 || a.iter().chain(b).any(|x| !(x.is_finite() && *x > 0.0)) {
        return None;
    }
    // Sorted ratios are sorted differences of logarithms: no need to take them.
    let mut ratios: Vec<f64> = a.iter().flat_map(|x| b.iter().map(move |y| y / x)).collect();
    ratios.sort_by(f64::total_cmp);
    let (k, level) = rank_of_bound(m, n);
    Some(RatioInterval { low: ratios[k - 1], high: ratios[m * n - k], level })
}

/// The rank k (1-based, from each end) of the interval's bounds among the m x n sorted ratios,
/// and the coverage it has: the largest k with P(U < k) <= (1 - LEVEL) / 2, or 1.
fn rank_of_bound(m: usize, n: usize) -> (usize, f64) {
    let tail = (1.0 - LEVEL) / 2.0;
    if m > EXACT_UP_TO || n > EXACT_UP_TO {
        let (mf, nf) = (m as f64, n as f64);
        let z = 1.959_963_984_540_054;
        let k = (mf * nf / 2.0 - z * (mf * nf * (mf + nf + 1.0) / 12.0).sqrt()).floor();
        return ((k.max(1.0)) as usize, LEVEL);
    }
    let counts = u_counts(m, n);
    let all: f64 = counts.iter().sum();
    let mut below = 0.0;
    let mut k = 1;
    // The bounds miss the true ratio when U <= k - 1 (or its mirror): the largest k whose
    // P(U <= k - 1) stays within the tail, or 1 (the extremes) when none does.
    for (u, c) in counts.iter().enumerate() {
        below += c;
        if below / all > tail {
            break;
        }
        k = u + 1;
    }
    let k = k.min((m * n).div_ceil(2));
    let outside: f64 = counts[..k].iter().sum::<f64>() / all;
    (k, 1.0 - 2.0 * outside)
}

/// How many of the ways to split m + n untied runs give each U = 0 ..= m n.
fn u_counts(m: usize, n: usize) -> Vec<f64> {
    // U = W - m (m + 1) / 2, W the rank sum of the m.
    let ranks: Vec<usize> = (1..=m + n).collect();
    let lowest = m * (m + 1) / 2;
    rank_sum_counts(&ranks, m)[lowest..=lowest + m * n].to_vec()
}

/// How many of the ways to pick m of the pooled runs (of these ranks) give each rank sum
/// 0 ..= the sum of all ranks.
fn rank_sum_counts(ranks: &[usize], m: usize) -> Vec<f64> {
    // ways[k][s]: subsets of k of the runs seen so far whose ranks sum to s.
    let max_sum: usize = ranks.iter().sum();
    let mut ways = vec![vec![0f64; max_sum + 1]; m + 1];
    ways[0][0] = 1.0;
    for (seen, &r) in ranks.iter().enumerate() {
        for k in (1..=m.min(seen + 1)).rev() {
            let (lower, upper) = ways.split_at_mut(k);
            for s in (r..=max_sum).rev() {
                upper[0][s] += lower[k - 1][s - r];
            }
        }
    }
    ways.swap_remove(m)
}

/// The two-sided p-value of the Mann-Whitney U test, with ties at their mean rank: exact up to
/// [`EXACT_UP_TO`] runs a side (the permutation distribution of the rank sum over every way to
/// split the pooled runs, twice the smaller tail, as scipy's `mannwhitneyu` with an exhaustive
/// `PermutationMethod`), the normal approximation with the tie-corrected variance and the
/// continuity correction beyond (as its `method='asymptotic'`).
pub fn mann_whitney_p(a: &[f64], b: &[f64]) -> f64 {
    let (m, n) = (a.len(), b.len());
    if m == 0 || n == 0 {
        return 1.0;
    }
    // The pooled runs in order, each with twice its (mean) rank: whole numbers even with ties.
    let mut pooled: Vec<(f64, bool)> = a.iter().map(|&x| (x, true)).chain(b.iter().map(|&y| (y, false))).collect();
    pooled.sort_by(|x, y| x.0.total_cmp(&y.0));
    let total = m + n;
    let mut ranks2 = vec![0usize; total];
    let mut ties = 0f64;
    let mut i = 0;
    while i < total {
        let mut j = i;
        while j + 1 < total && pooled[j + 1].0 == pooled[i].0 {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their mean: twice it is i + j + 2.
        ranks2[i..=j].fill(i + j + 2);
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        i = j + 1;
    }
    let w2: usize = pooled.iter().zip(&ranks2).filter(|((_, in_a), _)| *in_a).map(|(_, r)| r).sum();
    if m > EXACT_UP_TO || n > EXACT_UP_TO {
        // The rank sum's mean, doubled: m (N + 1).
        let observed = (w2 as f64 - (m * (total + 1)) as f64).abs();
        let (mf, nf, nn) = (m as f64, n as f64, total as f64);
        let var = mf * nf / 12.0 * ((nn + 1.0) - ties / (nn * (nn - 1.0)));
        if var <= 0.0 {
            return 1.0;
        }
        let z = (observed / 2.0 - 0.5) / var.sqrt();
        return (2.0 * normal_tail(z)).min(1.0);
    }
    // The doubled rank sums of every way to pick m of the pooled runs.
    let counts = rank_sum_counts(&ranks2, m);
    let all: f64 = counts.iter().sum();
    let low: f64 = counts[..=w2].iter().sum();
    let high: f64 = counts[w2..].iter().sum();
    (2.0 * low.min(high) / all).min(1.0)
}

/// P(Z > z) for a standard normal (Abramowitz and Stegun 26.2.17, error below 1e-7).
fn normal_tail(z: f64) -> f64 {
    if z < 0.0 {
        return 1.0 - normal_tail(-z);
    }
    let t = 1.0 / (1.0 + 0.2316419 * z);
    let poly = t * (0.319381530 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
    (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt() * poly
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64, tolerance: f64) {
        assert!((got - want).abs() < tolerance, "got {got}, want {want}");
    }

    /// Reference p-values from scipy 1.17.1, each from the call in its comment (x, y as in the
    /// line): tied small samples against the exhaustive permutation distribution, untied
    /// small samples against the exact U distribution, samples beyond 30 runs against the
    /// tie-corrected normal approximation with continuity correction.
    #[test]
    fn mann_whitney_agrees_with_scipy() {
        // stats.mannwhitneyu(x, y, method=stats.PermutationMethod(n_resamples=np.inf)).pvalue
        let tied: [(&[f64], &[f64], f64); 6] = [
            (&[1., 1., 1., 2.], &[2., 3., 3., 3.], 0.05714285714285714),
            (&[3., 1., 2., 2., 5.], &[2., 4., 4., 6., 5.], 0.18253968253968253),
            (&[1., 1., 2., 2., 2., 3.], &[2., 3., 3., 3., 4., 4., 4.], 0.019813519813519812),
            (&[10., 10., 10., 11., 12.], &[10., 11., 11., 11., 13., 13.], 0.20346320346320346),
            (&[5., 5., 5., 5., 6., 7., 7., 8.], &[5., 6., 6., 6., 7., 8., 8., 9., 9.], 0.11386260798025503),
            (
                &[100., 101., 101., 102., 103., 103., 104., 105., 105., 106.],
                &[102., 103., 104., 104., 105., 106., 107., 107., 108., 109.],
                0.026283314209010804,
            ),
        ];
        for (x, y, want) in tied {
            close(mann_whitney_p(x, y), want, 1e-12);
            close(mann_whitney_p(y, x), want, 1e-12);
        }
        // stats.mannwhitneyu(x, y, method='exact').pvalue
        close(mann_whitney_p(&[1.5, 2.25, 3.0, 4.75], &[2.0, 5.5, 6.0, 7.25]), 0.2, 1e-12);
        let (x, y) = ([10.1, 10.4, 9.9, 10.0, 10.3, 10.2], [10.5, 10.15, 10.45, 10.6, 10.35, 10.7, 10.8]);
        close(mann_whitney_p(&x, &y), 0.013986013986013986, 1e-12);
        // stats.mannwhitneyu(x, y, method='asymptotic').pvalue, with
        // x = [i // 3 for i in range(31)]; y = [i // 4 + 2 for i in range(35)]
        let x: Vec<f64> = (0..31).map(|i| (i / 3) as f64).collect();
        let y: Vec<f64> = (0..35).map(|i| (i / 4 + 2) as f64).collect();
        close(mann_whitney_p(&x, &y), 0.10796145771832617, 1e-6);
        // x = [float(i) for i in range(31)]; y = [i + 7.5 for i in range(33)]
        let x: Vec<f64> = (0..31).map(f64::from).collect();
        let y: Vec<f64> = (0..33).map(|i| f64::from(i) + 7.5).collect();
        close(mann_whitney_p(&x, &y), 0.0015944343993867867, 1e-6);
        // x = [(i * 7) % 5 for i in range(40)]; y = [(i * 3) % 6 for i in range(32)]
        let x: Vec<f64> = (0..40).map(|i| ((i * 7) % 5) as f64).collect();
        let y: Vec<f64> = (0..32).map(|i| ((i * 3) % 6) as f64).collect();
        close(mann_whitney_p(&x, &y), 0.13238187870418813, 1e-6);
    }

    /// The exact U distribution: 4 against 4 has 70 splits, U = 0 and U = 1 one way each.
    #[test]
    fn u_distribution() {
        let c = u_counts(4, 4);
        assert_eq!(c.len(), 17);
        assert_eq!(c.iter().sum::<f64>(), 70.0);
        assert_eq!((c[0], c[1], c[2], c[16]), (1.0, 1.0, 2.0, 1.0));
        assert_eq!(u_counts(1, 3), [1.0; 4]);
    }

    /// The bounds' rank from the exact U distribution: with 10 runs a side k = 24, as
    /// P(U <= 23) = 0.021629 <= 0.025 < P(U <= 24) = 0.026213 (counted in Python with the
    /// recurrence f(m, n, u) = f(m - 1, n, u - n) + f(m, n - 1, u)); with 3 a side the widest
    /// interval, at 90%.
    #[test]
    fn ratio_intervals() {
        assert_eq!(rank_of_bound(10, 10).0, 24);
        close(rank_of_bound(10, 10).1, 1.0 - 2.0 * 0.021_628_526_272_489_12, 1e-12);
        assert_eq!(rank_of_bound(3, 3), (1, 0.9));
        let (k, level) = rank_of_bound(2, 2);
        assert_eq!(k, 1);
        close(level, 2.0 / 3.0, 1e-12);
        // 4 a side: the extremes already give 1 - 2/70.
        assert_eq!(rank_of_bound(4, 4).0, 1);
        // A constant factor is found exactly, with or without spread.
        let a = [100.0, 110.0, 90.0, 105.0, 95.0];
        let b: Vec<f64> = a.iter().map(|x| x * 3.0).collect();
        let i = ratio_interval(&a, &b).unwrap();
        assert!(i.low < 3.0 && 3.0 < i.high && !i.holds_one(), "{i:?}");
        let i = ratio_interval(&[5.0, 5.0, 5.0], &[10.0, 10.0, 10.0]).unwrap();
        assert_eq!((i.low, i.high, i.level), (2.0, 2.0, 0.9));
        assert_eq!(i.words(), "90% CI 2.00x-2.00x");
        // Overlapping runs: 1 inside.
        assert!(ratio_interval(&a, &[101.0, 99.0, 108.0, 92.0]).unwrap().holds_one());
        // One run, or a stopped side: nothing to say.
        assert_eq!(ratio_interval(&[1.0], &[2.0, 3.0]), None);
        assert_eq!(ratio_interval(&[0.0, 1.0], &[2.0, 3.0]), None);
        // Beyond 30 a side, the normal approximation.
        let big: Vec<f64> = (0..40).map(|i| 100.0 + f64::from(i)).collect();
        let i = ratio_interval(&big, &big).unwrap();
        assert!(i.holds_one() && i.level == LEVEL, "{i:?}");
    }
}
