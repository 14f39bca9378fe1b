//! `runner compare-python`'s report: runner's and Python's final values, verdicts and speeds
//! side by side, for people or as a JSON document.
//!
//! Owns: the two sides' result as data and the comparison's layout. Does not own: running
//! either side or the exit code (see `app::python`).

use serde_json::json;

use crate::outcome::Verdict;
use crate::plan::Plan;
use crate::report;
use crate::value::Value;

/// One side's result.
pub(crate) struct Side {
    pub(crate) final_value: Value,
    pub(crate) verdict: Verdict,
    /// From spawn to exit.
    pub(crate) wall_seconds: f64,
    /// In the work window: from the barrier's release to the last worker's end.
    pub(crate) ops_per_second: f64,
}

/// Both sides, and the two ratios: Python's whole-process time over runner's, and runner's
/// ops/s over Python's.
pub(crate) struct Compared {
    pub(crate) runner: Side,
    pub(crate) python: Side,
    pub(crate) whole: Option<f64>,
    pub(crate) speed: Option<f64>,
    /// The job both sides ran, as runner's own run reported it.
    pub(crate) job: serde_json::Value,
    /// What of the job the Python program does not carry over.
    pub(crate) notices: Vec<String>,
}

/// `a / b`, when both are positive.
pub(crate) fn ratio(a: f64, b: f64) -> Option<f64> {
    (a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite()).then(|| a / b)
}

/// `runner is 45x faster`, or `python3 is 1.5x faster`.
fn faster(r: Option<f64>) -> String {
    let times = |x: f64| if x >= 10.0 { format!("{x:.0}x") } else { format!("{x:.1}x") };
    match r {
        Some(r) if r >= 1.0 => format!("runner is {} faster", times(r)),
        Some(r) => format!("python3 is {} faster", times(1.0 / r)),
        None => "no ratio (a time or speed of 0)".to_string(),
    }
}

/// The comparison for people.
pub(crate) fn human(plan: &Plan, label: &str, compared: &Compared) -> String {
    let Compared { runner, python, whole, speed, notices, .. } = compared;
    let row = |name: &str, r: String, p: String, note: String| {
        format!("  {name:<10} {r:<16} {p:<16} {note}").trim_end().to_string() + "\n"
    };
    let mut s = format!("{} ({label}): runner against its Python equivalent (python3, multiprocessing)\n", plan.name);
    s += &row("", "runner".to_string(), "python3".to_string(), String::new());
    s += &row("final", runner.final_value.to_string(), python.final_value.to_string(), String::new());
    s += &row("verdict", runner.verdict.name().to_string(), python.verdict.name().to_string(), String::new());
    s += &row(
        "process",
        report::seconds(runner.wall_seconds),
        report::seconds(python.wall_seconds),
        format!("{} as a whole process (spawn to exit)", faster(*whole)),
    );
    s += &row(
        "ops/s",
        format!("{}ops/s", report::rate(runner.ops_per_second)),
        format!("{}ops/s", report::rate(python.ops_per_second)),
        format!("{} in the work window (barrier to last worker's end)", faster(*speed)),
    );
    for n in notices {
        s += &format!("  notice     not carried over to the Python program: {n}\n");
    }
    s
}

fn side_json(side: &Side) -> serde_json::Value {
    json!({
        "final": side.final_value.to_json(),
        "verdict": side.verdict.name(),
        "wall_seconds": side.wall_seconds,
        "ops_per_second": side.ops_per_second,
    })
}

/// The comparison's JSON document.
pub(crate) fn document(label: &str, compared: &Compared) -> serde_json::Value {
    json!({
        "schema_version": report::SCHEMA_VERSION,
        "file": label,
        "job": compared.job,
        "runner": side_json(&compared.runner),
        "python": side_json(&compared.python),
        "ratios": { "whole_process": compared.whole, "ops_per_second": compared.speed },
        "notices": compared.notices,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_read_as_speed() {
        assert_eq!(faster(ratio(0.1, 0.002)), "runner is 50x faster");
        assert_eq!(faster(ratio(3.0, 2.0)), "runner is 1.5x faster");
        assert_eq!(faster(ratio(1.0, 2.0)), "python3 is 2.0x faster");
        assert_eq!(faster(ratio(1.0, 0.0)), "no ratio (a time or speed of 0)");
    }
}
