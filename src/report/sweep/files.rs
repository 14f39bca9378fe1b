//! The exports of a sweep a program or a page reads: CSV (one row per cell: its parameters,
//! then the statistics, the verdict, the outcome and where the sweep stood) and a Markdown
//! table (under a line saying so while the sweep is still running).

use std::fmt::Write;

use super::{Stage, keys, outcome_of, param, relative, verdict};
use crate::report::rate;
use crate::sweep::CellResult;
use crate::sweep::summary::Summary;

const CSV_FIXED: [&str; 13] = [
    "cell",
    "runs",
    "median_ops_per_second",
    "mean",
    "stddev",
    "min",
    "max",
    "outliers",
    "relative_to_best",
    "verdict",
    "outcome",
    "runs_as_expected",
    "sweep",
];

/// One row per cell: its parameters (a column for each parameter of every planned cell, `axes`,
/// run yet or not, so that every rewrite has the same columns), then the statistics; the last
/// column, `sweep`, says in every row whether the file was written while the sweep still ran
/// (`in progress: 2 of 6 cells`) or after it (`complete`, or `interrupted` when a signal
/// stopped it). Written before any cell, the file has one row that says so (`in progress: 0 of
/// 6 cells`, every other field empty), so that a reader of rows sees it is incomplete too.
pub fn csv(cells: &[CellResult], stage: &Stage<'_>, axes: &[String]) -> String {
    let interrupted = cells.iter().any(|c| c.interrupted().is_some());
    let sweep =
        stage.in_progress(cells.len()).unwrap_or_else(|| (if interrupted { "interrupted" } else { "complete" }).into());
    let mut keys = axes.to_vec();
    for k in super::keys(cells) {
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let (_, rel, _) = relative(cells);
    let mut s = keys.iter().map(String::as_str).chain(CSV_FIXED).map(csv_field).collect::<Vec<_>>().join(",");
    s.push('\n');
    if cells.is_empty() {
        let mut fields = vec![String::new(); keys.len() + CSV_FIXED.len() - 1];
        fields.push(sweep.clone());
        s.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        s.push('\n');
    }
    for (c, r) in cells.iter().zip(rel) {
        let mut fields: Vec<String> = keys.iter().map(|k| param(c, k).to_string()).collect();
        fields.push(c.job.cell.clone());
        fields.extend(stats_fields(c.summary.as_ref()));
        fields.push(r.map_or(String::new(), |r| format!("{r:.4}")));
        fields.push(verdict(c));
        fields.push(outcome_of(c));
        fields.push(c.runs_as_expected().to_string());
        fields.push(sweep.clone());
        s.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        s.push('\n');
    }
    s
}

fn stats_fields(s: Option<&Summary>) -> Vec<String> {
    match s {
        Some(s) => vec![
            s.runs.to_string(),
            format!("{:.0}", s.median),
            format!("{:.0}", s.mean),
            format!("{:.0}", s.stddev),
            format!("{:.0}", s.min),
            format!("{:.0}", s.max),
            s.outliers.to_string(),
        ],
        None => vec![
            "0".to_string(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            "0".to_string(),
        ],
    }
}

fn csv_field(f: &str) -> String {
    if f.contains([',', '"', '\n']) { format!("\"{}\"", f.replace('"', "\"\"")) } else { f.to_string() }
}

/// A Markdown table of the cells; while the sweep still runs, a line above it says so.
pub fn markdown(name: &str, cells: &[CellResult], stage: &Stage<'_>) -> String {
    let keys = keys(cells);
    let (_, rel, _) = relative(cells);
    let mut header: Vec<String> = keys.clone();
    header.extend(["runs", "median ops/s", "spread", "verdict", "outcome", "vs best"].map(String::from));
    let mut s = format!("## {name}\n\n");
    if let Some(note) = stage.in_progress(cells.len()) {
        let _ = writeln!(s, "**Sweep {note}**: written while it ran; the cells after these had not run yet.\n");
    }
    let _ = write!(s, "| {} |\n|{}|\n", header.join(" | "), vec!["---"; header.len()].join("|"));
    for (c, r) in cells.iter().zip(rel) {
        let mut row: Vec<String> = keys.iter().map(|k| param(c, k).replace('|', "\\|")).collect();
        match &c.summary {
            Some(sm) => row.extend([
                sm.runs.to_string(),
                rate(sm.median).trim_end().to_string(),
                format!("±{:.0}%", 50.0 * sm.spread()),
            ]),
            None => row.extend(["0", "-", "-"].map(String::from)),
        }
        row.push(verdict(c));
        row.push(outcome_of(c).replace('|', "\\|"));
        row.push(r.map_or("-".to_string(), |r| format!("{r:.2}x")));
        let _ = writeln!(s, "| {} |", row.join(" | "));
    }
    let comparisons = super::table::comparisons(cells);
    if !comparisons.is_empty() {
        let _ = writeln!(s, "\n{}", comparisons.iter().map(|c| format!("- {c}")).collect::<Vec<_>>().join("\n"));
    }
    s
}
