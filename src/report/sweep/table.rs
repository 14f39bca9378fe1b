//! The comparison table people read: a row per cell, the comparisons in words, then warnings
//! and notes.

use crate::words::plural;
use std::fmt::Write;

use super::{came_to, keys, lock_bound, median, outcome_of, param, passes, relative, verdict};
use crate::report::{doc, rate};
use crate::sweep::CellResult;
use crate::sweep::rank::{self, RatioInterval};
use crate::sweep::summary;

/// The comparison table, comparisons in words, and warnings.
pub fn human(name: &str, file: &str, cells: &[CellResult]) -> String {
    let (_, rel, _) = relative(cells);
    let mut s = String::new();
    // A cell whose runs failed is said in the first line, not only in its row.
    let failed = cells.iter().filter(|c| c.outcome_as_expected() == Some(false)).count();
    let failed = match failed {
        0 => String::new(),
        n => format!("; RUN FAILED in {n} of {}", plural(cells.len(), "cell")),
    };
    let _ = writeln!(s, "{name} ({file}): {}{failed}", plural(cells.len(), "cell"));
    s.push_str(&rows(cells, &rel));
    let lines = comparisons(cells);
    if !lines.is_empty() {
        let _ = writeln!(s);
        for line in lines {
            let _ = writeln!(s, "  {line}");
        }
    }
    noisy(&mut s, cells);
    for c in cells {
        notes(&mut s, c, cells.len());
    }
    s
}

/// The table: a row per cell, its parameters then its statistics.
fn rows(cells: &[CellResult], rel: &[Option<f64>]) -> String {
    let keys = keys(cells);
    let mut header: Vec<String> = keys.clone();
    header.extend(["runs", "median ops/s", "spread", "stddev", "verdict", "outcome", "vs best"].map(String::from));
    let rows: Vec<Vec<String>> = cells
        .iter()
        .zip(rel)
        .map(|(c, r)| {
            let mut row: Vec<String> = keys.iter().map(|k| param(c, k).to_string()).collect();
            match &c.summary {
                Some(s) if s.runs > 1 => row.extend([
                    s.runs.to_string(),
                    rate(s.median).trim_end().to_string(),
                    format!("±{:.0}%", 50.0 * s.spread()),
                    rate(s.stddev).trim_end().to_string(),
                ]),
                Some(s) => row.extend(["1".to_string(), rate(s.median).trim_end().to_string(), "-".into(), "-".into()]),
                None => row.extend(["0", "-", "-", "-"].map(String::from)),
            }
            row.push(verdict(c));
            row.push(outcome_of(c));
            row.push(r.map_or("-".to_string(), |r| format!("{r:.2}x")));
            row
        })
        .collect();
    table(&header, &rows, "  ")
}

/// Outliers in several cells: one line, the cells by name.
fn noisy(s: &mut String, cells: &[CellResult]) {
    let noisy: Vec<String> = cells
        .iter()
        .filter(|c| c.summary.as_ref().is_some_and(|s| s.outliers > 0))
        .map(|c| format!("{} ({})", c.job.cell, c.summary.as_ref().map_or(0, |s| s.outliers)))
        .collect();
    if cells.len() > 1 && !noisy.is_empty() {
        let _ = writeln!(
            s,
            "  warning: the machine was noisy: {} of {} had outlier runs (modified z-score above {}; more repeats or iterations help): {}",
            noisy.len(),
            plural(cells.len(), "cell"),
            summary::OUTLIER_Z,
            noisy.join(", ")
        );
    }
}

/// A cell's error, its failed runs, outliers (the only cell), the lock's bound and the order's
/// note.
fn notes(s: &mut String, c: &CellResult, n_cells: usize) {
    let label = if c.job.cell.is_empty() { "the job".to_string() } else { c.job.cell.clone() };
    if let Some(e) = &c.error {
        let _ = writeln!(s, "  error: {label}: {e}");
    }
    let expectations = c.expectations();
    let failed: Vec<_> = expectations.iter().filter(|e| e.failed()).collect();
    if !failed.is_empty() {
        let expects = match c.job.plan.expect_outcome {
            Some(expected) => {
                format!("come to the outcome the job declares ({}, with a value that checks out)", expected.name())
            }
            None => "complete".to_string(),
        };
        let _ = writeln!(
            s,
            "  FAILED: {label}: {} of {} did not {expects}: {}",
            failed.len(),
            plural(expectations.len(), "run"),
            came_to(&failed)
        );
    }
    if let Some(sum) = c.summary.as_ref().filter(|s| s.outliers > 0 && n_cells == 1) {
        let _ = writeln!(
            s,
            "  warning: {} of {} {} (modified z-score above {}): the machine was noisy",
            sum.outliers,
            plural(sum.runs, "run"),
            if sum.outliers == 1 { "is an outlier" } else { "are outliers" },
            summary::OUTLIER_Z
        );
    }
    if let Some(bound) = lock_bound(c) {
        let got = c.summary.as_ref().map_or(0.0, |s| s.median);
        let _ = writeln!(
            s,
            "  note: {label}: one critical section at a time caps mutex at 1/inside = {}ops/s; reached {:.0}%",
            rate(bound),
            100.0 * got / bound
        );
    }
    if let Some(note) = c.job.plan.order_note() {
        let _ = writeln!(s, "  note: {label}: {note}");
    }
}

/// One comparison of a group: its fastest correct cell against another.
pub(crate) struct Pair<'a> {
    pub faster: &'a CellResult,
    pub slower: &'a CellResult,
    /// Where the two are compared (`workers=8`): the shared parameters but the series.
    pub at: String,
    /// Median over median; `None` when a side ran at 0 ops/s.
    pub ratio: Option<f64>,
    /// Where the ratio lies (see `sweep::rank`); `None` with one run on a side.
    pub interval: Option<RatioInterval>,
}

impl Pair<'_> {
    /// Counted runs of each side.
    pub fn runs(&self) -> (usize, usize) {
        (self.faster.runs.len(), self.slower.runs.len())
    }

    /// The line people read: `atomic 3.10x faster than mutex at workers=8 (95% CI
    /// 2.95x-3.24x, 10 runs each)`, `(one run: no uncertainty)`.
    pub fn words(&self, series: &str) -> String {
        // `atomic` names itself; `2` needs its key.
        let name = |c: &CellResult| {
            if series == "backend" { param(c, series).to_string() } else { format!("{series}={}", param(c, series)) }
        };
        let (best, other, at) = (name(self.faster), name(self.slower), &self.at);
        let b = median(self.faster);
        let Some(ratio) = self.ratio else {
            // A ratio only between two speeds: 0 ops/s is no speed to divide by.
            return if b > 0.0 {
                format!("{best} ran at {}ops/s, {other} at 0 ops/s{at}", rate(b))
            } else {
                format!("{best} and {other}: both at 0 ops/s{at}")
            };
        };
        let runs = match self.runs() {
            (f, s) if f == s => format!("{} each", plural(f, "run")),
            (f, s) => format!("{f} and {}", plural(s, "run")),
        };
        match &self.interval {
            None if self.runs() == (1, 1) => {
                format!("{best} {ratio:.2}x faster than {other}{at} (one run: no uncertainty)")
            }
            None if self.runs().0 == 1 || self.runs().1 == 1 => {
                format!("{best} {ratio:.2}x faster than {other}{at} ({runs}: one run on a side, no uncertainty)")
            }
            None => format!("{best} {ratio:.2}x faster than {other}{at} ({runs}: a run at 0 ops/s, no interval)"),
            Some(i) if i.holds_one() => format!(
                "{best} {ratio:.2}x faster than {other}{at} ({}, {runs}: holds 1x, not clearly faster)",
                i.words()
            ),
            Some(i) => format!("{best} {ratio:.2}x faster than {other}{at} ({}, {runs})", i.words()),
        }
    }
}

/// Every comparison of the sweep, with the parameter they are along: per group of cells that
/// differ only in the series parameter, its fastest correct cell against each other correct cell.
pub(crate) fn pairs(cells: &[CellResult]) -> (Option<String>, Vec<Pair<'_>>) {
    let (series, _, groups) = relative(cells);
    let Some(series) = series else { return (None, Vec::new()) };
    let mut out = Vec::new();
    let n_groups = groups.iter().copied().max().map_or(0, |g| g + 1);
    let shared = |k: &str| cells.iter().all(|c| c.job.params.iter().any(|(ck, _)| ck == k));
    for g in 0..n_groups {
        let members: Vec<&CellResult> = cells
            .iter()
            .zip(&groups)
            .filter(|(_, gg)| **gg == g)
            .map(|(c, _)| c)
            .filter(|c| c.summary.is_some() && passes(c))
            .collect();
        let Some(best) = members.iter().max_by(|a, b| median(a).total_cmp(&median(b))) else { continue };
        let at: Vec<String> = best
            .job
            .params
            .iter()
            .filter(|(k, _)| *k != series && shared(k))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let at = if at.is_empty() { String::new() } else { format!(" at {}", at.join(" ")) };
        for other in members.iter().filter(|c| !std::ptr::eq(**c, *best)) {
            let (b, o) = (median(best), median(other));
            let ratio = (b > 0.0 && o > 0.0).then(|| b / o);
            let interval = ratio.and_then(|_| rank::ratio_interval(&other.rates(), &best.rates()));
            out.push(Pair { faster: best, slower: other, at: at.clone(), ratio, interval });
        }
    }
    (Some(series), out)
}

/// A comparison in the sweep document.
pub(super) fn comparison_doc(p: &Pair<'_>, series: &str) -> doc::Comparison {
    let (f, s) = p.runs();
    doc::Comparison {
        faster: p.faster.job.cell.clone(),
        slower: p.slower.job.cell.clone(),
        ratio: p.ratio,
        interval: p.interval.clone(),
        runs: [f, s],
        words: p.words(series),
    }
}

/// The comparisons in words, after a line naming the interval when one has it.
pub(crate) fn comparisons(cells: &[CellResult]) -> Vec<String> {
    let (series, pairs) = pairs(cells);
    let Some(series) = series else { return Vec::new() };
    let mut lines = Vec::new();
    if pairs.iter().any(|p| p.interval.is_some()) {
        lines.push(format!("ratios of median ops/s; each interval: {}", rank::METHOD));
    }
    lines.extend(pairs.iter().map(|p| p.words(&series)));
    lines
}

/// Left-aligned text columns.
fn table(header: &[String], rows: &[Vec<String>], indent: &str) -> String {
    let width =
        |i: usize| rows.iter().map(|r| r[i].chars().count()).chain([header[i].chars().count()]).max().unwrap_or(0);
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    let line = |cells: &[String]| {
        let text: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        format!("{indent}{}\n", text.join("  ").trim_end())
    };
    let mut s = line(header);
    for r in rows {
        s.push_str(&line(r));
    }
    s
}
