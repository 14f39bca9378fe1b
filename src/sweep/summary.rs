//! Statistics over repeated runs of one cell, and how cells compare: the median and spread of
//! ops/s, outliers by modified z-score, and each cell's speed relative to the best of its group.
//!
//! Pure arithmetic on numbers the sweep collected; no I/O.

use serde::Serialize;

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

/// How two sets of runs compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Too few runs on a side to tell.
    TooFewRuns,
    /// The difference is within the noise (Mann-Whitney p >= 0.05, or under 2%).
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

/// Whether `new` differs from `old` beyond the noise: a two-sided Mann-Whitney U test at 5%
/// (no assumption about the shape of the noise) and a change of at least 2% in the median.
pub fn change(old: &[f64], new: &[f64]) -> (Change, Option<f64>) {
    if old.len() < MIN_RUNS_TO_COMPARE || new.len() < MIN_RUNS_TO_COMPARE {
        return (Change::TooFewRuns, None);
    }
    let p = mann_whitney_p(old, new);
    let (mo, mn) = (median(old), median(new));
    let change = if p >= 0.05 || (mn / mo - 1.0).abs() < 0.02 {
        Change::WithinNoise
    } else if mn > mo {
        Change::Faster
    } else {
        Change::Slower
    };
    (change, Some(p))
}

/// The two-sided p-value of the Mann-Whitney U test: exact for small samples (ties counted as
/// half), the normal approximation beyond 30 runs a side.
pub fn mann_whitney_p(a: &[f64], b: &[f64]) -> f64 {
    let (m, n) = (a.len(), b.len());
    if m == 0 || n == 0 {
        return 1.0;
    }
    // U counts the pairs where a's run is below b's; twice it, to keep halves whole.
    let u2: usize = a
        .iter()
        .map(|x| {
            b.iter()
                .map(|y| {
                    if x < y {
                        2
                    } else if x == y {
                        1
                    } else {
                        0
                    }
                })
                .sum::<usize>()
        })
        .sum();
    let u = u2 as f64 / 2.0;
    let mean = (m * n) as f64 / 2.0;
    if m > 30 || n > 30 {
        let sd = ((m * n * (m + n + 1)) as f64 / 12.0).sqrt();
        let z = ((u - mean).abs() - 0.5).max(0.0) / sd;
        return (2.0 * normal_tail(z)).min(1.0);
    }
    // ways[k][u]: arrangements of k a-runs among the b-runs with statistic u (built up in n).
    let max_u = m * n;
    let mut ways = vec![vec![0f64; max_u + 1]; m + 1];
    for row in ways.iter_mut() {
        row[0] = 1.0;
    }
    for j in 1..=n {
        let mut next = vec![vec![0f64; max_u + 1]; m + 1];
        next[0][0] = 1.0;
        for i in 1..=m {
            for u in 0..=max_u {
                // The largest value is an a-run (adds j pairs) or a b-run (adds none).
                next[i][u] = ways[i][u] + if u >= j { next[i - 1][u - j] } else { 0.0 };
            }
        }
        ways = next;
    }
    let counts = &ways[m];
    let total: f64 = counts.iter().sum();
    let extreme = (u - mean).abs();
    let tail: f64 =
        counts.iter().enumerate().filter(|(k, _)| (*k as f64 - mean).abs() >= extreme - 1e-9).map(|(_, c)| c).sum();
    (tail / total).min(1.0)
}

/// P(Z > z) for a standard normal (Abramowitz and Stegun 26.2.17, error below 1e-7).
fn normal_tail(z: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.2316419 * z);
    let poly = t * (0.319381530 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
    (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt() * poly
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
        assert_eq!(change(&a, &b).0, Change::WithinNoise);
        assert_eq!(change(&a, &c).0, Change::Faster);
        assert_eq!(change(&c, &a).0, Change::Slower);
        assert_eq!(change(&a[..3], &c[..3]).0, Change::TooFewRuns);
        // Fully separated 4 against 4: p = 2/70.
        assert!((mann_whitney_p(&a[..4], &c[..4]) - 2.0 / 70.0).abs() < 1e-12);
        assert!((mann_whitney_p(&a, &a) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn grouping() {
        let p = |b: &str, w: &str| vec![("backend".to_string(), b.to_string()), ("workers".to_string(), w.to_string())];
        let params = [p("mutex", "1"), p("atomic", "1"), p("mutex", "2"), p("atomic", "2")];
        assert_eq!(series_key(&params).as_deref(), Some("backend"));
        assert_eq!(groups(&params, "backend"), [0, 0, 1, 1]);
    }
}
