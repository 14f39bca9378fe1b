//! Statistics over repeated runs of one cell, and how cells compare: the median and spread of
//! ops/s, outliers by modified z-score, and each cell's speed relative to the best of its group.
//!
//! Pure arithmetic on numbers the sweep collected; no I/O.

use serde::Serialize;

/// A modified z-score above this marks an outlier (Iglewicz and Hoaglin); looked for from five
/// runs up.
pub const OUTLIER_Z: f64 = 3.5;

/// Summary of one cell's counted runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub runs: usize,
    pub median: f64,
    pub mean: f64,
    /// Sample standard deviation (0 with one run).
    pub stddev: f64,
    pub min: f64,
    pub max: f64,
    /// Runs whose modified z-score exceeds [`OUTLIER_Z`].
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

/// Whether two sets of runs differ beyond their noise: each median lies outside the other's
/// range (min..max). With one run each, any difference over 5% counts.
pub fn beyond_noise(old: &Summary, new: &Summary) -> bool {
    if old.runs < 2 || new.runs < 2 {
        return (new.median - old.median).abs() > 0.05 * old.median.abs().max(f64::MIN_POSITIVE);
    }
    (new.median < old.min || new.median > old.max) && (old.median < new.min || old.median > new.max)
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
        let a = Summary::of(&[10.0, 11.0, 12.0]).unwrap();
        let b = Summary::of(&[10.5, 11.5, 12.5]).unwrap();
        let c = Summary::of(&[20.0, 21.0, 22.0]).unwrap();
        assert!(!beyond_noise(&a, &b));
        assert!(beyond_noise(&a, &c));
    }

    #[test]
    fn grouping() {
        let p = |b: &str, w: &str| vec![("backend".to_string(), b.to_string()), ("workers".to_string(), w.to_string())];
        let params = [p("mutex", "1"), p("atomic", "1"), p("mutex", "2"), p("atomic", "2")];
        assert_eq!(series_key(&params).as_deref(), Some("backend"));
        assert_eq!(groups(&params, "backend"), [0, 0, 1, 1]);
    }
}
