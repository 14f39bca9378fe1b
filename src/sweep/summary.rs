//! Statistics over repeated runs of one cell, and how cells compare: the median and spread of
//! ops/s, outliers by modified z-score, each cell's group, and `compare`'s verdict from a
//! p-value (the test itself and the intervals are in `rank`) with the Holm-Bonferroni correction.
//!
//! Pure arithmetic on numbers the sweep collected; no I/O.

use serde::Serialize;

pub use super::rank::mann_whitney_p;

/// A modified z-score above this marks an outlier (Iglewicz and Hoaglin); looked for from five
/// runs up.
pub const OUTLIER_Z: f64 = 3.5;

/// Statistics of ops/s over a cell's counted runs.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Summary {
    pub runs: usize,
    pub median: f64,
    pub mean: f64,
    /// Sample standard deviation (0 with one run).
    pub stddev: f64,
    pub min: f64,
    pub max: f64,
    /// Runs with a modified z-score above 3.5 (`OUTLIER_Z`; looked for from five runs up).
    pub outliers: usize,
}

impl Summary {
    /// `None` for no values.
    pub fn of(values: &[f64]) -> Option<Summary> {
        if values.is_empty() {
            return None;
        }
        let n = values.len() as f64;
        let median = median(values);
        let mean = values.iter().sum::<f64>() / n;
        let var =
            if values.len() > 1 { values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
        let deviations: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
        let mad = median_of(deviations);
        // Fewer than five runs cannot tell an outlier from the spread.
        let outliers = if mad > 0.0 && values.len() >= 5 {
            values.iter().filter(|v| 0.6745 * (*v - median).abs() / mad > OUTLIER_Z).count()
        } else {
            0
        };
        Some(Summary {
            runs: values.len(),
            median,
            mean,
            stddev: var.sqrt(),
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            outliers,
        })
    }

    /// The spread as a fraction of the median: (max - min) / median.
    pub fn spread(&self) -> f64 {
        if self.median > 0.0 { (self.max - self.min) / self.median } else { 0.0 }
    }
}

pub fn median(values: &[f64]) -> f64 {
    median_of(values.to_vec())
}

fn median_of(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 { v[mid] } else { (v[mid - 1] + v[mid]) / 2.0 }
}

/// Runs per side below which a change cannot be told from noise: with three runs each, even
/// fully separated runs happen by chance one time in ten.
pub const MIN_RUNS_TO_COMPARE: usize = 4;

/// The significance level of `runner compare`, after the correction for several cells.
pub const ALPHA: f64 = 0.05;

/// The smallest change in the median that counts as faster or slower, whatever the p-value.
pub const MIN_CHANGE: f64 = 0.02;

/// How two sets of runs compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Too few runs on a side to tell.
    TooFewRuns,
    /// The difference is within the noise (corrected p >= 0.05, or under 2%).
    WithinNoise,
    Faster,
    Slower,
}

impl Change {
    pub fn name(self) -> &'static str {
        match self {
            Change::TooFewRuns => "too few runs to tell (repeat 4 or more)",
            Change::WithinNoise => "within noise",
            Change::Faster => "faster",
            Change::Slower => "slower",
        }
    }
}

/// The two-sided Mann-Whitney p-value of `old` against `new`, or `None` below
/// [`MIN_RUNS_TO_COMPARE`] runs a side.
pub fn p_value(old: &[f64], new: &[f64]) -> Option<f64> {
    (old.len() >= MIN_RUNS_TO_COMPARE && new.len() >= MIN_RUNS_TO_COMPARE).then(|| mann_whitney_p(old, new))
}

/// What a p-value (corrected for the number of cells tested) and the two medians say: faster
/// or slower when p < [`ALPHA`] and the median changed by at least [`MIN_CHANGE`]; no test
/// (`None`) is too few runs.
pub fn change(p: Option<f64>, old_median: f64, new_median: f64) -> Change {
    match p {
        None => Change::TooFewRuns,
        Some(p) if p >= ALPHA || (new_median / old_median - 1.0).abs() < MIN_CHANGE => Change::WithinNoise,
        Some(_) if new_median > old_median => Change::Faster,
        Some(_) => Change::Slower,
    }
}

/// Holm-Bonferroni adjusted p-values (in the input's order): the smallest of m p-values times
/// m, the next times m - 1, ..., never below an earlier one, at most 1. Rejecting where the
/// adjusted value is below alpha keeps the chance of any false "faster" or "slower" among all
/// the cells at alpha.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut adjusted = vec![1.0; m];
    let mut running = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

/// The smallest p-value `m` runs against `n` can give (every run of one side below every run
/// of the other, no ties): with it, whether any change could be found at all.
pub fn smallest_p(m: usize, n: usize) -> f64 {
    let a: Vec<f64> = (0..m).map(|i| i as f64).collect();
    let b: Vec<f64> = (m..m + n).map(|i| i as f64).collect();
    mann_whitney_p(&a, &b)
}

/// Groups of cells to compare: cells that agree on every parameter but `series` fall in one
/// group. Returns, per cell, its group's number.
pub fn groups(params: &[Vec<(String, String)>], series: &str) -> Vec<usize> {
    let mut keys: Vec<Vec<(String, String)>> = Vec::new();
    params
        .iter()
        .map(|p| {
            let key: Vec<(String, String)> = p.iter().filter(|(k, _)| k != series).cloned().collect();
            match keys.iter().position(|k| *k == key) {
                Some(i) => i,
                None => {
                    keys.push(key);
                    keys.len() - 1
                }
            }
        })
        .collect()
}

/// The parameter cells are compared along: `backend` when it varies, else the first that does.
pub fn series_key(params: &[Vec<(String, String)>]) -> Option<String> {
    let varies = |key: &str| {
        let mut values = params.iter().filter_map(|p| p.iter().find(|(k, _)| k == key).map(|(_, v)| v));
        let first = values.next();
        values.any(|v| Some(v) != first)
    };
    let keys: Vec<&String> = params.first().map(|p| p.iter().map(|(k, _)| k).collect()).unwrap_or_default();
    if keys.iter().any(|k| *k == "backend") && varies("backend") {
        return Some("backend".to_string());
    }
    keys.into_iter().find(|k| varies(k)).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_and_outliers() {
        let s = Summary::of(&[10.0, 11.0, 9.0, 10.0, 10.5, 100.0]).unwrap();
        assert_eq!(s.median, 10.25);
        assert_eq!(s.outliers, 1);
        assert_eq!((s.min, s.max), (9.0, 100.0));
        assert!(Summary::of(&[]).is_none());
        assert_eq!(Summary::of(&[5.0]).unwrap().stddev, 0.0);
    }

    #[test]
    fn noise() {
        let a = [10.0, 11.0, 12.0, 10.5, 11.5];
        let b = [10.2, 11.3, 12.4, 10.1, 11.9];
        let c = [20.0, 21.0, 22.0, 20.5, 21.5];
        let judge = |x: &[f64], y: &[f64]| change(p_value(x, y), median(x), median(y));
        assert_eq!(judge(&a, &b), Change::WithinNoise);
        assert_eq!(judge(&a, &c), Change::Faster);
        assert_eq!(judge(&c, &a), Change::Slower);
        assert_eq!(judge(&a[..3], &c[..3]), Change::TooFewRuns);
        // Fully separated 4 against 4: p = 2/70.
        assert!((mann_whitney_p(&a[..4], &c[..4]) - 2.0 / 70.0).abs() < 1e-12);
        assert!((mann_whitney_p(&a, &a) - 1.0).abs() < 1e-12);
        assert!((smallest_p(5, 5) - 2.0 / 252.0).abs() < 1e-12);
    }

    /// With ties the exact test counts the splits of the pooled runs with their mean ranks:
    /// [1, 1, 1, 2] against [2, 3, 3, 3] is as extreme as it gets but for the shared 2s.
    #[test]
    fn ties() {
        // Pooled mean ranks: the 1s 2 each, the 2s 4.5, the 3s 7: a's rank sum, 10.5, is the
        // smallest any 4 of them can have; 2 splits of 70 reach it, 2 its mirror (25.5).
        let p = mann_whitney_p(&[1.0, 1.0, 1.0, 2.0], &[2.0, 3.0, 3.0, 3.0]);
        assert!((p - 4.0 / 70.0).abs() < 1e-12, "{p}");
        assert!((p - brute(&[1.0, 1.0, 1.0, 2.0], &[2.0, 3.0, 3.0, 3.0])).abs() < 1e-12, "{p}");
        let (a, b) = ([3.0, 1.0, 2.0, 2.0, 5.0], [2.0, 4.0, 4.0, 6.0, 5.0]);
        assert!((mann_whitney_p(&a, &b) - brute(&a, &b)).abs() < 1e-12);
        // All tied: nothing to tell.
        assert_eq!(mann_whitney_p(&[5.0; 6], &[5.0; 6]), 1.0);
        // The normal approximation beyond 30 runs a side, tie-corrected: all tied is p = 1.
        assert_eq!(mann_whitney_p(&[5.0; 31], &[5.0; 31]), 1.0);
        let low: Vec<f64> = (0..31).map(|i| (i / 3) as f64).collect();
        let high: Vec<f64> = low.iter().map(|x| x + 100.0).collect();
        assert!(mann_whitney_p(&low, &high) < 1e-9);
    }

    /// Every split of the pooled runs, its rank sum with mean ranks, counted by hand: twice
    /// the smaller tail.
    fn brute(a: &[f64], b: &[f64]) -> f64 {
        let pooled: Vec<f64> = a.iter().chain(b).copied().collect();
        let rank = |x: f64| {
            let below = pooled.iter().filter(|y| **y < x).count() as f64;
            let equal = pooled.iter().filter(|y| **y == x).count() as f64;
            below + (equal + 1.0) / 2.0
        };
        let ranks: Vec<f64> = pooled.iter().map(|x| rank(*x)).collect();
        let n = pooled.len();
        let observed = ranks[..a.len()].iter().sum::<f64>();
        let (mut low, mut high, mut all) = (0u32, 0u32, 0u32);
        for mask in 0u32..(1 << n) {
            if mask.count_ones() as usize != a.len() {
                continue;
            }
            all += 1;
            let sum: f64 = (0..n).filter(|i| mask & (1 << i) != 0).map(|i| ranks[i]).sum();
            low += u32::from(sum <= observed + 1e-9);
            high += u32::from(sum >= observed - 1e-9);
        }
        (2.0 * f64::from(low.min(high)) / f64::from(all)).min(1.0)
    }

    #[test]
    fn holm_bonferroni() {
        let adjusted = holm(&[0.01, 0.04, 0.03, 0.5]);
        // Sorted 0.01, 0.03, 0.04, 0.5: times 4, 3, 2, 1, never decreasing.
        let want = [0.04, 0.09, 0.09, 0.5];
        for (a, w) in adjusted.iter().zip(want) {
            assert!((a - w).abs() < 1e-12, "{adjusted:?}");
        }
        assert!(holm(&[]).is_empty());
        assert_eq!(holm(&[0.9, 0.8]), [1.0, 1.0]);
    }

    #[test]
    fn grouping() {
        let p = |b: &str, w: &str| vec![("backend".to_string(), b.to_string()), ("workers".to_string(), w.to_string())];
        let params = [p("mutex", "1"), p("atomic", "1"), p("mutex", "2"), p("atomic", "2")];
        assert_eq!(series_key(&params).as_deref(), Some("backend"));
        assert_eq!(groups(&params, "backend"), [0, 0, 1, 1]);
    }
}
