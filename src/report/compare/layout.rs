//! The comparison's layout: the lines people read and the JSON document.

use crate::words::plural;
use std::fmt::Write;

use super::{Comparison, Side, Status};
use crate::report::doc::{self, ChangeInterval, Compare, CompareCell};
use crate::report::rate;
use crate::sweep::rank;
use crate::sweep::summary::{ALPHA, MIN_CHANGE, MIN_RUNS_TO_COMPARE};

/// `5%`, `0.5%`: a fraction as a percentage, without float noise.
pub(crate) fn percent(fraction: f64) -> String {
    format!("{}%", (fraction * 1e6).round() / 1e4)
}

/// The test, in words.
pub(crate) fn test() -> String {
    format!(
        "two-sided Mann-Whitney U per cell (tied runs at their mean rank; exact up to 30 runs a side), at {:.0}% after the correction, and a change of at least {:.0}% in the median; {} a side at least",
        100.0 * ALPHA,
        100.0 * MIN_CHANGE,
        plural(MIN_RUNS_TO_COMPARE, "run")
    )
}

/// The comparison's JSON document.
pub(crate) fn document(c: &Comparison<'_>) -> Compare {
    Compare {
        schema_version: doc::SchemaVersion,
        old: c.old.to_string(),
        new: c.new.to_string(),
        test: test(),
        interval: rank::METHOD.to_string(),
        correction: c.correction(),
        tested: c.tested,
        fail_on_regression: c.threshold,
        regressions: c.regressions().into_iter().map(String::from).collect(),
        different_jobs: c.refused().into_iter().map(String::from).collect(),
        notes: c.notes.clone(),
        cells: c
            .cells
            .iter()
            .map(|j| CompareCell {
                cell: j.cell.clone(),
                old: j.old.and_then(|s| s.summary.clone()),
                new: j.new.and_then(|s| s.summary.clone()),
                change: j.change,
                change_interval: j.interval.as_ref().map(|i| ChangeInterval {
                    low: i.low - 1.0,
                    high: i.high - 1.0,
                    level: i.level,
                }),
                p_value: j.p_value,
                p_adjusted: j.p_adjusted,
                comparison: j.status.name().to_string(),
                job_differences: j.differences.clone(),
                regression: j.regression,
                old_verdict: j.old.and_then(|s| s.verdict.clone()),
                new_verdict: j.new.and_then(|s| s.verdict.clone()),
            })
            .collect(),
    }
}

/// The comparison for people: one line per cell, then the notes and the gate.
pub(crate) fn human(c: &Comparison<'_>) -> String {
    let mut s = format!("compare {} -> {}\n", c.old, c.new);
    if c.tested > 0 {
        let _ = writeln!(
            s,
            "  test: Mann-Whitney U per cell, Holm-Bonferroni over {} at {}, and a change of at least {} in the median",
            plural(c.tested, "tested cell"),
            percent(ALPHA),
            percent(MIN_CHANGE)
        );
        let _ = writeln!(s, "  change: of the median, with its interval per cell (not corrected): {}", rank::METHOD);
    } else {
        let _ = writeln!(s, "  test: none: no cell has {} a side of the same job", plural(MIN_RUNS_TO_COMPARE, "run"));
    }
    let side = |x: Option<&Side>| {
        x.and_then(|x| x.summary.as_ref()).map_or("-".to_string(), |x| {
            format!("{}ops/s ±{:.0}% ({})", rate(x.median), 50.0 * x.spread(), plural(x.runs, "run"))
        })
    };
    let width = c.cells.iter().map(|r| name(&r.cell).len()).max().unwrap_or(0);
    for j in &c.cells {
        let name = name(&j.cell);
        if j.status.refused() {
            let why = match j.status {
                Status::DifferentJob => j
                    .differences
                    .iter()
                    .map(|d| format!("{} {} -> {}", d.field, d.old, d.new))
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => format!(
                    "{} does not record the cell's job",
                    if j.old.is_some_and(|o| o.job.is_none()) { "old" } else { "new" }
                ),
            };
            let _ = writeln!(s, "  {name:<width$}  {}, not compared: {why}", j.status.name());
            continue;
        }
        let change = j.change.map_or(String::new(), |c| format!("{:+.1}% ({})  ", 100.0 * c, uncertainty(j)));
        let p = match (j.p_value, j.p_adjusted) {
            (Some(p), Some(a)) => format!(" (p = {p:.3}, {a:.3} after the correction)"),
            _ => String::new(),
        };
        let _ = writeln!(s, "  {name:<width$}  {} -> {}  {change}{}{p}", side(j.old), side(j.new), j.status.name());
        let verdicts = (j.old.and_then(|o| o.verdict.as_deref()), j.new.and_then(|n| n.verdict.as_deref()));
        if let (Some(o), Some(n)) = verdicts
            && o != n
        {
            let _ = writeln!(s, "  {:width$}  note: its verdict changed: {o} -> {n}", "");
        }
    }
    for note in &c.notes {
        let _ = writeln!(s, "  note: {note}");
    }
    if let Some(t) = c.threshold {
        let _ = writeln!(s, "  {}", gate(c, t));
    }
    s
}

/// The gate's line: which cells failed it, or what it checked.
fn gate(c: &Comparison<'_>, threshold: f64) -> String {
    let pct = percent(threshold);
    let failed: Vec<String> = c
        .cells
        .iter()
        .filter(|j| j.regression)
        .map(|j| format!("{} ({:+.1}%)", name(&j.cell), 100.0 * j.change.unwrap_or(0.0)))
        .collect();
    if !failed.is_empty() {
        return format!("regression gate {pct}: failed: slower by more than {pct}: {}", failed.join(", "));
    }
    if let Some(why) = c.undetectable() {
        let why = if c.tested == 0 {
            why
        } else {
            "too few runs for any change to be significant (see the note)".to_string()
        };
        return format!("regression gate {pct}: checked nothing: {why}");
    }
    format!(
        "regression gate {pct}: passed: no cell significantly slower by more than {pct} ({} tested of {})",
        c.tested,
        plural(c.cells.len(), "cell")
    )
}

/// The change's interval in words: `95% CI -3.1% to +0.4%`, or why there is none.
fn uncertainty(j: &super::Judged<'_>) -> String {
    match &j.interval {
        Some(i) => format!(
            "{} CI {:+.1}% to {:+.1}%",
            rank::level_words(i.level),
            100.0 * (i.low - 1.0),
            100.0 * (i.high - 1.0)
        ),
        None if j.old.is_some_and(|o| o.rates.len() < 2) || j.new.is_some_and(|n| n.rates.len() < 2) => {
            "one run on a side: no uncertainty".to_string()
        }
        None => "a run at 0 ops/s: no interval".to_string(),
    }
}

fn name(cell: &str) -> &str {
    if cell.is_empty() { "the job" } else { cell }
}
