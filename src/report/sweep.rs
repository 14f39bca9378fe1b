//! Reports of a sweep (a matrix, or repeated runs): the comparison table people read, the JSON
//! document `{schema_version, cells: [...]}`, CSV and Markdown exports, and the chart's data.
//!
//! Owns: layout. Does not own: the statistics (see `sweep::summary`) or where the bytes go.

use std::fmt::Write;

use serde_json::Value as Json;

use super::doc::{self, Cell, Params};
use super::plot::{Chart, Series};
use super::{Provenance, RunReport, json, rate, to_json};
use crate::outcome::Verdict;
use crate::sweep::summary::{self, Summary};
use crate::sweep::{CellResult, Run};

/// A run's report, as in a single run's JSON document.
pub fn run_json(cell: &CellResult, run: &Run, sha256: &str) -> Json {
    to_json(&run_doc(cell, run, sha256))
}

/// A run's report document.
pub(crate) fn run_doc(cell: &CellResult, run: &Run, sha256: &str) -> doc::Run {
    json::run(&RunReport {
        plan: &cell.job.plan,
        outcome: &run.outcome,
        judgement: &run.judgement,
        wall_seconds: run.wall_seconds,
        provenance: Provenance { file_sha256: sha256.to_string(), started_at: run.started_at.clone() },
    })
}

/// A single run's report for people.
pub fn run_human(cell: &CellResult, run: &Run, sha256: &str) -> String {
    super::human::run(&RunReport {
        plan: &cell.job.plan,
        outcome: &run.outcome,
        judgement: &run.judgement,
        wall_seconds: run.wall_seconds,
        provenance: Provenance { file_sha256: sha256.to_string(), started_at: run.started_at.clone() },
    })
}

/// Per cell: its speed relative to the best of its group (cells that differ only in the
/// series parameter, `backend` when it varies).
fn relative(cells: &[CellResult]) -> (Option<String>, Vec<Option<f64>>, Vec<usize>) {
    let params: Vec<Vec<(String, String)>> = cells.iter().map(|c| c.job.params.clone()).collect();
    let Some(series) = summary::series_key(&params) else {
        return (None, vec![None; cells.len()], vec![0; cells.len()]);
    };
    // Only parameters every cell has make groups (an `include` that adds `batch` to the
    // channel cells keeps them comparable with the others).
    let common: Vec<Vec<(String, String)>> = params
        .iter()
        .map(|p| p.iter().filter(|(k, _)| params.iter().all(|q| q.iter().any(|(qk, _)| qk == k))).cloned().collect())
        .collect();
    let groups = summary::groups(&common, &series);
    let medians: Vec<Option<f64>> = cells.iter().map(|c| c.summary.as_ref().map(|s| s.median)).collect();
    // The best of a group is its fastest correct cell: losing updates is no way to win.
    let best = |g: usize| {
        let members = || cells.iter().zip(&groups).zip(&medians).filter(move |((_, gg), _)| **gg == g);
        let correct = members().filter(|((c, _), _)| c.verdict() == Some(Verdict::Correct)).filter_map(|(_, m)| *m);
        let fastest = correct.fold(0.0, f64::max);
        if fastest > 0.0 { fastest } else { members().filter_map(|(_, m)| *m).fold(0.0, f64::max) }
    };
    let rel =
        groups.iter().zip(&medians).map(|(g, m)| m.map(|m| if best(*g) > 0.0 { m / best(*g) } else { 0.0 })).collect();
    (Some(series), rel, groups)
}

fn param<'a>(cell: &'a CellResult, key: &str) -> &'a str {
    cell.job.params.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
}

/// The cell's verdict in one word (`correct`, `failed`, `partial (SIGINT)`).
pub fn verdict_of(cell: &CellResult) -> String {
    verdict(cell)
}

fn verdict(cell: &CellResult) -> String {
    match (&cell.error, cell.verdict(), cell.interrupted()) {
        (Some(_), ..) => "failed".to_string(),
        (_, _, Some(signal)) => format!("partial ({signal})"),
        (_, Some(v), _) => v.name().to_string(),
        (_, None, _) => "-".to_string(),
    }
}

/// The comparison table, comparisons in words, and warnings.
pub fn human(name: &str, file: &str, cells: &[CellResult]) -> String {
    let keys: Vec<String> =
        cells.first().map(|c| c.job.params.iter().map(|(k, _)| k.clone()).collect()).unwrap_or_default();
    let mut keys = keys;
    for c in cells {
        for (k, _) in &c.job.params {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    let (series, rel, groups) = relative(cells);
    let mut header: Vec<String> = keys.clone();
    header.extend(["runs", "median ops/s", "spread", "stddev", "verdict", "vs best"].map(String::from));
    let rows: Vec<Vec<String>> = cells
        .iter()
        .zip(&rel)
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
            row.push(r.map_or("-".to_string(), |r| format!("{r:.2}x")));
            row
        })
        .collect();
    let mut s = String::new();
    let _ = writeln!(s, "{name} ({file}): {} cells", cells.len());
    s.push_str(&table(&header, &rows, "  "));
    if let Some(series) = &series {
        let lines = comparisons(cells, series, &groups);
        if !lines.is_empty() {
            let _ = writeln!(s);
            for line in lines {
                let _ = writeln!(s, "  {line}");
            }
        }
    }
    // Outliers in several cells: one line, the cells by name.
    let noisy: Vec<String> = cells
        .iter()
        .filter(|c| c.summary.as_ref().is_some_and(|s| s.outliers > 0))
        .map(|c| format!("{} ({})", c.job.cell, c.summary.as_ref().map_or(0, |s| s.outliers)))
        .collect();
    if cells.len() > 1 && !noisy.is_empty() {
        let _ = writeln!(
            s,
            "  warning: the machine was noisy: {} of {} cells had outlier runs (modified z-score above {}; more repeats or iterations help): {}",
            noisy.len(),
            cells.len(),
            summary::OUTLIER_Z,
            noisy.join(", ")
        );
    }
    for c in cells {
        let label = if c.job.cell.is_empty() { "the job".to_string() } else { c.job.cell.clone() };
        if let Some(e) = &c.error {
            let _ = writeln!(s, "  error: {label}: {e}");
        }
        if let Some(sum) = c.summary.as_ref().filter(|s| s.outliers > 0 && cells.len() == 1) {
            let _ = writeln!(
                s,
                "  warning: {} of {} runs are outliers (modified z-score above {}): the machine was noisy",
                sum.outliers,
                sum.runs,
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
    s
}

/// For mutex with busy work inside the lock: 1/inside, the most ops/s one lock allows.
fn lock_bound(c: &CellResult) -> Option<f64> {
    let inside = c.job.plan.work.inside_ns;
    (c.job.plan.backend.kind() == crate::names::BackendKind::Mutex && inside > 0).then(|| 1e9 / inside as f64)
}

/// "atomic 3.1x faster than mutex at workers=8", one line per group and slower cell.
fn comparisons(cells: &[CellResult], series: &str, groups: &[usize]) -> Vec<String> {
    let mut lines = Vec::new();
    let n_groups = groups.iter().copied().max().map_or(0, |g| g + 1);
    for g in 0..n_groups {
        let members: Vec<&CellResult> = cells
            .iter()
            .zip(groups)
            .filter(|(_, gg)| **gg == g)
            .map(|(c, _)| c)
            .filter(|c| c.summary.is_some() && c.verdict() == Some(Verdict::Correct))
            .collect();
        let Some(best) = members.iter().max_by(|a, b| median(a).total_cmp(&median(b))) else { continue };
        let shared = |k: &str| cells.iter().all(|c| c.job.params.iter().any(|(ck, _)| ck == k));
        let at: Vec<String> =
            best.job.params.iter().filter(|(k, _)| k != series && shared(k)).map(|(k, v)| format!("{k}={v}")).collect();
        let at = if at.is_empty() { String::new() } else { format!(" at {}", at.join(" ")) };
        for other in members.iter().filter(|c| !std::ptr::eq(**c, *best)) {
            let ratio = if median(other) > 0.0 { median(best) / median(other) } else { f64::INFINITY };
            // `atomic` names itself; `2` needs its key.
            let name = |c: &CellResult| {
                if series == "backend" {
                    param(c, series).to_string()
                } else {
                    format!("{series}={}", param(c, series))
                }
            };
            lines.push(format!("{} {:.1}x faster than {}{at}", name(best), ratio, name(other)));
        }
    }
    lines
}

fn median(c: &CellResult) -> f64 {
    c.summary.as_ref().map_or(0.0, |s| s.median)
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

/// `{schema_version, runner, file, ..., cells: [...]}`: per cell its parameters, statistics,
/// verdict, relative speed and every counted run's report.
pub fn document(file: &str, sha256: &str, cells: &[CellResult], partial: bool) -> Json {
    to_json(&sweep_doc(file, sha256, cells, partial))
}

/// The sweep document.
pub(crate) fn sweep_doc(file: &str, sha256: &str, cells: &[CellResult], partial: bool) -> doc::Sweep {
    let (series, rel, _) = relative(cells);
    doc::Sweep {
        schema_version: doc::SchemaVersion,
        runner: doc::RunnerHeader::this(),
        file: file.to_string(),
        file_sha256: sha256.to_string(),
        host: doc::Host::this(),
        partial,
        compared_by: series,
        cells: cells.iter().zip(rel).map(|(c, r)| cell_doc(c, r, sha256)).collect(),
    }
}

fn cell_doc(c: &CellResult, relative_to_best: Option<f64>, sha256: &str) -> Cell {
    let plan = &c.job.plan;
    Cell {
        cell: c.job.cell.clone(),
        params: Params(c.job.params.clone()),
        job: doc::Job::new(plan),
        ops_per_second: c.summary.as_ref().map(doc::Summary::from),
        relative_to_best,
        lock_bound_ops_per_second: lock_bound(c),
        verdict: verdict(c),
        order_dependent: plan.order_matters,
        schedule: plan.schedule,
        check: plan.check.describe(),
        finals: c.runs.iter().map(|r| doc::Num(r.outcome.final_value)).collect(),
        error: c.error.clone(),
        trace: c.trace.clone(),
        exit_code: c.exit_code(),
        runs: c.runs.iter().map(|run| run_doc(c, run, sha256)).collect(),
    }
}

const CSV_FIXED: [&str; 10] = [
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
];

/// One row per cell: its parameters, then the statistics.
pub fn csv(cells: &[CellResult]) -> String {
    let keys = keys(cells);
    let (_, rel, _) = relative(cells);
    let mut s = keys.iter().map(String::as_str).chain(CSV_FIXED).map(csv_field).collect::<Vec<_>>().join(",");
    s.push('\n');
    for (c, r) in cells.iter().zip(rel) {
        let mut fields: Vec<String> = keys.iter().map(|k| param(c, k).to_string()).collect();
        fields.push(c.job.cell.clone());
        fields.extend(stats_fields(c.summary.as_ref()));
        fields.push(r.map_or(String::new(), |r| format!("{r:.4}")));
        fields.push(verdict(c));
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

fn keys(cells: &[CellResult]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for c in cells {
        for (k, _) in &c.job.params {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    keys
}

/// A Markdown table of the cells.
pub fn markdown(name: &str, cells: &[CellResult]) -> String {
    let keys = keys(cells);
    let (_, rel, _) = relative(cells);
    let mut header: Vec<String> = keys.clone();
    header.extend(["runs", "median ops/s", "spread", "verdict", "vs best"].map(String::from));
    let mut s = format!("## {name}\n\n| {} |\n|{}|\n", header.join(" | "), vec!["---"; header.len()].join("|"));
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
        row.push(r.map_or("-".to_string(), |r| format!("{r:.2}x")));
        let _ = writeln!(s, "| {} |", row.join(" | "));
    }
    s
}

/// The chart: median ops/s against the swept dimension, one line per value of the series
/// parameter (`backend` when it varies) and of any other swept parameter.
pub fn chart(name: &str, cells: &[CellResult]) -> Chart {
    let params: Vec<Vec<(String, String)>> = cells.iter().map(|c| c.job.params.clone()).collect();
    let keys = keys(cells);
    let series_key = summary::series_key(&params);
    // x: the first varying parameter other than the series one; else the series itself.
    let varies = |k: &str| {
        let vals: Vec<&str> = cells.iter().map(|c| param(c, k)).collect();
        vals.iter().any(|v| *v != vals[0])
    };
    let numeric = |v: &str| -> Option<f64> {
        v.parse::<f64>().ok().or_else(|| crate::spec::parse_duration(v).ok().map(|ns| ns as f64))
    };
    // x: a varying numeric parameter (workers, work.inside, batch) if there is one.
    let candidates: Vec<&String> = keys.iter().filter(|k| Some(*k) != series_key.as_ref() && varies(k)).collect();
    let x_key = candidates
        .iter()
        .find(|k| cells.iter().all(|c| numeric(param(c, k)).is_some()))
        .or(candidates.first())
        .map(|k| (*k).clone())
        .or_else(|| series_key.clone())
        .unwrap_or_else(|| "cell".to_string());
    let xs: Vec<&str> = cells.iter().map(|c| param(c, &x_key)).collect();
    let all_numeric = xs.iter().all(|v| numeric(v).is_some());
    let mut categories: Vec<String> = Vec::new();
    for v in &xs {
        if !categories.iter().any(|c| c == v) {
            categories.push(v.to_string());
        }
    }
    let mut series: Vec<Series> = Vec::new();
    for c in cells {
        let Some(s) = &c.summary else { continue };
        // The series' value first, then the other parameters every cell has (an `include`
        // that adds `batch` to the channel cells does not split their line).
        let shared = |k: &str| cells.iter().all(|c| c.job.params.iter().any(|(ck, _)| ck == k));
        let mut label: Vec<String> =
            series_key.iter().filter(|k| **k != x_key).map(|k| param(c, k).to_string()).collect();
        label.extend(
            c.job
                .params
                .iter()
                .filter(|(k, _)| *k != x_key && Some(k) != series_key.as_ref() && shared(k))
                .map(|(k, v)| format!("{}={v}", k.rsplit('.').next().unwrap_or(k))),
        );
        let label = if label.is_empty() { "ops/s".to_string() } else { label.join(" ") };
        let xv = param(c, &x_key);
        let x = if all_numeric {
            numeric(xv).unwrap_or(0.0)
        } else {
            categories.iter().position(|cat| cat == xv).unwrap_or(0) as f64
        };
        match series.iter_mut().find(|s| s.name == label) {
            Some(line) => line.points.push((x, s.median)),
            None => series.push(Series { name: label, points: vec![(x, s.median)] }),
        }
    }
    // The ceiling a lock puts on a critical section of length `inside`: one at a time.
    if x_key == "work.inside" && all_numeric && xs.iter().all(|v| numeric(v).is_some_and(|x| x > 0.0)) {
        let mut points: Vec<(f64, f64)> = xs.iter().filter_map(|v| numeric(v)).map(|ns| (ns, 1e9 / ns)).collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        points.dedup();
        series.push(Series { name: "1/inside bound".to_string(), points });
    }
    let x_is_duration = xs.first().is_some_and(|v| v.parse::<f64>().is_err() && crate::spec::parse_duration(v).is_ok());
    Chart {
        title: format!("{name}: operations per second"),
        x_label: if x_is_duration { format!("{x_key} (ns)") } else { x_key.clone() },
        y_label: "operations per second (median)".to_string(),
        x_categories: (!all_numeric).then_some(categories),
        series,
    }
}
