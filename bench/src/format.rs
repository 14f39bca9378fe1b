//! How the benchmark writes its figures: rates, ratios with their spread, and a target's verdict.

use crate::measure::Spread;

pub(crate) fn rate(ops: f64) -> String {
    match ops {
        x if !x.is_finite() => "-".into(),
        x if x >= 1e9 => format!("{:.2} G", x / 1e9),
        x if x >= 1e6 => format!("{:.1} M", x / 1e6),
        x if x >= 1e3 => format!("{:.0} k", x / 1e3),
        x => format!("{x:.0}"),
    }
}

pub(crate) fn ratio(s: Spread) -> String {
    if s.n == 0 {
        return "-".into();
    }
    let digits = if s.median >= 100.0 {
        0
    } else if s.median >= 10.0 {
        1
    } else {
        2
    };
    format!("{:.*} [{:.*}-{:.*}]", digits, s.median, digits, s.min, digits, s.max)
}

pub(crate) fn mark(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}
