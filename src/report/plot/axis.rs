//! The chart's scales: from data values to the fraction 0..=1 of the plot area, linear or
//! logarithmic (chosen from the data), with ticks and their labels (`2.5M`, `1024`).

/// A scale from data values to the fraction 0..=1 of the plot area, with its ticks.
pub(super) struct Axis {
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) log: bool,
    pub(super) ticks: Vec<(f64, String)>,
}

impl Axis {
    pub(super) fn frac(&self, v: f64) -> f64 {
        let (v, lo, hi) = if self.log { (v.ln(), self.lo.ln(), self.hi.ln()) } else { (v, self.lo, self.hi) };
        if hi > lo { (v - lo) / (hi - lo) } else { 0.5 }
    }

    /// Whether `v` can be drawn: finite, and inside the range (a log scale has no place for 0).
    pub(super) fn accepts(&self, v: f64) -> bool {
        v.is_finite() && (-1e-9..=1.0 + 1e-9).contains(&self.frac(v))
    }

    /// `v` moved into the range (a whisker that reaches below a log scale ends at its floor).
    pub(super) fn clamp(&self, v: f64) -> f64 {
        if !v.is_finite() || (self.log && v <= 0.0) {
            return self.lo;
        }
        v.clamp(self.lo.min(self.hi), self.hi.max(self.lo))
    }
}

/// Log when every centre (median, bound) is positive and they span at least two decades;
/// otherwise linear from 0. The range takes in `extent` too (the whiskers' ends).
pub(super) fn y_axis(centres: &[f64], extent: &[f64]) -> Axis {
    let all: Vec<f64> = centres.iter().chain(extent).copied().collect();
    match (bounds(centres), bounds(&all)) {
        (Some((min, max)), Some((_, top))) if min > 0.0 && max / min >= 100.0 => {
            let floor = bounds(&all.iter().copied().filter(|v| *v > 0.0).collect::<Vec<_>>()).map_or(min, |b| b.0);
            log_axis(floor, top, 10.0, si)
        }
        (_, Some((min, max))) => linear_axis(min.min(0.0), max.max(0.0), si),
        _ => linear_axis(0.0, 1.0, si),
    }
}

/// Categorical (labels at 0..n), or log when [`logarithmic`] (ticks at the values themselves
/// when there are few, else at powers of 2 or 10), or linear.
pub(super) fn x_axis(categories: Option<&[String]>, xs: &[f64]) -> Axis {
    if let Some(labels) = categories {
        let ticks = labels.iter().enumerate().map(|(i, l)| (i as f64, l.clone())).collect();
        return Axis { lo: -0.5, hi: labels.len().max(1) as f64 - 0.5, log: false, ticks };
    }
    let mut distinct: Vec<f64> = xs.iter().copied().filter(|v| v.is_finite()).collect();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    match bounds(&distinct) {
        Some((min, max)) if logarithmic(&distinct) => {
            if distinct.len() <= 12 {
                let ticks = distinct.iter().map(|&v| (v, plain(v))).collect();
                return Axis { lo: min, hi: max, log: true, ticks };
            }
            let base = if distinct.iter().all(|v| v.log2().fract() == 0.0) { 2.0 } else { 10.0 };
            log_axis(min, max, base, plain)
        }
        Some((min, max)) => linear_axis(min, max, plain),
        None => linear_axis(0.0, 1.0, plain),
    }
}

/// Whether sorted, distinct, positive values read better on a log scale: they span more than a
/// decade, or at least a factor of 4 in steps more even on a log scale than on a linear one
/// (1, 2, 4, 8 workers; not 1, 2, 3, 4).
pub(super) fn logarithmic(sorted: &[f64]) -> bool {
    let (Some(&min), Some(&max)) = (sorted.first(), sorted.last()) else { return false };
    if min <= 0.0 {
        return false;
    }
    let ratio = max / min;
    if ratio > 10.0 {
        return true;
    }
    if ratio < 4.0 || sorted.len() < 3 {
        return false;
    }
    let logs: Vec<f64> = sorted.iter().map(|v| v.ln()).collect();
    unevenness(&logs) < unevenness(sorted)
}

/// The widest step over the narrowest.
fn unevenness(sorted: &[f64]) -> f64 {
    let steps: Vec<f64> = sorted.windows(2).map(|w| w[1] - w[0]).collect();
    let (lo, hi) = bounds(&steps).unwrap_or((1.0, 1.0));
    if lo > 0.0 { hi / lo } else { f64::INFINITY }
}

/// The smallest and largest of the finite `values`.
pub(super) fn bounds(values: &[f64]) -> Option<(f64, f64)> {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    finite.fold(None, |acc, v| Some(acc.map_or((v, v), |(lo, hi): (f64, f64)| (lo.min(v), hi.max(v)))))
}

/// Rounded out to "nice" ticks: steps of 1, 2 or 5 times a power of ten, from three to eight of them.
fn linear_axis(lo: f64, hi: f64, label: fn(f64) -> String) -> Axis {
    let (lo, hi) = match () {
        () if hi > lo => (lo, hi),
        () if lo == 0.0 => (0.0, 1.0),
        () => (lo - lo.abs() / 2.0, hi + hi.abs() / 2.0),
    };
    let raw = (hi - lo) / 8.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = magnitude * [1.0, 2.0, 5.0, 10.0].into_iter().find(|&m| raw <= m * magnitude).unwrap_or(10.0);
    if !(step.is_finite() && step > 0.0) {
        return Axis { lo, hi, log: false, ticks: Vec::new() };
    }
    let (first, last) = ((lo / step).floor(), (hi / step).ceil());
    let count = ((last - first) as usize).min(50);
    let ticks = (0..=count).map(|k| (first + k as f64) * step).map(|v| (v, label(v))).collect();
    Axis { lo: first * step, hi: last * step, log: false, ticks }
}

/// From the power of `base` at or below `min` to the one at or above `max`, ticks at powers of
/// `base` (at most about ten of them).
fn log_axis(min: f64, max: f64, base: f64, label: fn(f64) -> String) -> Axis {
    // Snapped, so that 1000 is at 10^3 and not at 10^2.9999999999999996.
    let exponent = |v: f64| (v.log(base) * 1e9).round() / 1e9;
    let first = exponent(min).floor() as i32;
    let last = (exponent(max).ceil() as i32).max(first + 1);
    let every = ((last - first) as usize).div_ceil(10).max(1);
    let ticks = (first..=last).step_by(every).map(|e| base.powi(e)).map(|v| (v, label(v))).collect();
    Axis { lo: base.powi(first), hi: base.powi(last), log: true, ticks }
}

/// `2.5M`, `10G`, `1k`, `250`: at most three significant digits with a metric prefix.
pub(super) fn si(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        return "0".to_string();
    }
    if a < 0.01 {
        return format!("{v:.1e}");
    }
    let (m, prefix) = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
        .into_iter()
        .find(|&(scale, _)| a >= scale)
        .map_or((v, ""), |(scale, prefix)| (v / scale, prefix));
    // Two decimals below 10, one below 100, none above: three significant digits.
    let decimals = [100.0, 10.0].into_iter().take_while(|&t| m.abs() < t).count();
    let text = format!("{m:.decimals$}");
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { &text };
    format!("{text}{prefix}")
}

/// Whole numbers as written (`1024`), others in SI style.
fn plain(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e6 { format!("{}", v as i64) } else { si(v) }
}
