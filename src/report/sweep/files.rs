//! The exports of a sweep a program or a page reads: CSV (one row per cell: its parameters,
//! then the statistics, the verdict, the outcome and where the sweep stood) and a Markdown
//! table (under a line saying so while the sweep is still running).

use std::fmt::Write;

use super::{Stage, keys, outcome_of, param, relative, verdict};
use crate::report::rate;
use crate::sweep::CellResult;
use crate::sweep::summary::{Summary, median};

/// The columns after the parameters and `cell`: every number is a plain number, its unit in
/// its name (`_ns`, `_s`, `ops_per_s`); a median of counts may end in `.5`.
const CSV_FIXED: [&str; 20] = [
    "runs",
    "ops_per_s_median",
    "ops_per_s_mean",
    "ops_per_s_stddev",
    "ops_per_s_min",
    "ops_per_s_max",
    "outliers",
    "relative_to_best",
    "op_p50_ns_median",
    "op_p99_ns_median",
    "workers_user_s_median",
    "workers_system_s_median",
    "workers_voluntary_switches_median",
    "workers_involuntary_switches_median",
    "runner_user_s_median",
    "runner_system_s_median",
    "verdict",
    "outcome",
    "runs_as_expected",
    "sweep",
];

/// One row per cell: its parameters (a column for each parameter of every planned cell, `axes`,
/// run yet or not, so that every rewrite has the same columns; a parameter whose every value is
/// a duration, `work.inside`, is a number of nanoseconds under `work.inside_ns`), then `cell`
/// and the statistics (per-cell medians over the counted runs: ops/s, latency, CPU time); the
/// last column, `sweep`, says in every row whether the file was written while the sweep still
/// ran (`in progress: 2 of 6 cells`) or after it (`complete`, or `interrupted` when a signal
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
    let durations: Vec<bool> = keys.iter().map(|k| duration_column(cells, k)).collect();
    let (_, rel, _) = relative(cells);
    let names = keys.iter().zip(&durations).map(|(k, &d)| if d { format!("{k}_ns") } else { k.clone() });
    let fixed = std::iter::once("cell").chain(CSV_FIXED).map(String::from);
    let header: Vec<String> = names.chain(fixed).collect();
    let mut s = header.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
    s.push('\n');
    if cells.is_empty() {
        let mut fields = vec![String::new(); header.len() - 1];
        fields.push(sweep.clone());
        s.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        s.push('\n');
    }
    for (c, r) in cells.iter().zip(rel) {
        let mut fields: Vec<String> = keys
            .iter()
            .zip(&durations)
            .map(|(k, &d)| match d {
                true => duration_ns(param(c, k)).map_or(String::new(), |ns| ns.to_string()),
                false => param(c, k).to_string(),
            })
            .collect();
        fields.push(c.job.cell.clone());
        fields.extend(stats_fields(c.summary.as_ref()));
        fields.push(r.map_or(String::new(), |r| format!("{r:.4}")));
        fields.extend(latency_fields(c));
        fields.extend(cpu_fields(c));
        fields.push(verdict(c));
        fields.push(outcome_of(c));
        fields.push(c.runs_as_expected().to_string());
        fields.push(sweep.clone());
        s.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        s.push('\n');
    }
    s
}

/// A parameter's value as a duration in nanoseconds: `50ns`, `1.5us`, `2m`, or `0`; `None`
/// for anything else (a count, a name, a bare number).
fn duration_ns(value: &str) -> Option<u64> {
    let v = value.trim();
    if v == "0" {
        return Some(0);
    }
    if !v.ends_with(|c: char| c.is_alphabetic()) {
        return None;
    }
    crate::spec::parse_duration(v).or_else(|_| crate::spec::parse_timeout(v)).ok()
}

/// Whether every cell's value of `key` that it has is a duration, one at least with its unit
/// (a column of `0`s alone stays as written).
fn duration_column(cells: &[CellResult], key: &str) -> bool {
    let values: Vec<&str> = cells.iter().map(|c| param(c, key)).filter(|v| !v.is_empty()).collect();
    values.iter().any(|v| v.trim() != "0") && values.iter().all(|v| duration_ns(v).is_some())
}

/// Medians over the counted runs of each run's p50 and p99 of one operation, in nanoseconds
/// (empty without a timed sample).
fn latency_fields(c: &CellResult) -> [String; 2] {
    let ops: Vec<&crate::watch::stats::Percentiles> =
        c.runs.iter().filter_map(|r| r.outcome.latency.op.as_ref()).collect();
    let m = |f: fn(&crate::watch::stats::Percentiles) -> u64| match ops.is_empty() {
        true => String::new(),
        false => number(median(&ops.iter().map(|p| f(p) as f64).collect::<Vec<f64>>())),
    };
    [m(|p| p.p50), m(|p| p.p99)]
}

/// The cell's CPU medians: the workers' user and system seconds and switches, runner's user and
/// system seconds (empty when no run has them).
fn cpu_fields(c: &CellResult) -> [String; 6] {
    let cpu = crate::report::doc::measures::CellCpu::of(c.runs.iter().map(|r| &r.outcome));
    let w = cpu.as_ref().and_then(|c| c.workers.as_ref());
    let r = cpu.as_ref().and_then(|c| c.runner.as_ref());
    let f = |v: Option<f64>| v.map_or(String::new(), number);
    [
        f(w.map(|w| w.user_seconds)),
        f(w.map(|w| w.system_seconds)),
        f(w.map(|w| w.voluntary_switches)),
        f(w.map(|w| w.involuntary_switches)),
        f(r.map(|r| r.user_seconds)),
        f(r.map(|r| r.system_seconds)),
    ]
}

/// A number as a CSV cell: as short as it reads back exactly (`0.000123`, `12`, `2.5`).
fn number(v: f64) -> String {
    format!("{v}")
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

/// The Markdown's CPU cells: the medians of the workers' and runner's user and system time,
/// in human units (`-` without any).
fn cpu_cells(c: &CellResult) -> [String; 2] {
    let cpu = crate::report::doc::measures::CellCpu::of(c.runs.iter().map(|r| &r.outcome));
    let cell = |m: Option<&crate::report::doc::measures::CpuMedians>| {
        m.map_or("-".to_string(), |m| format!("{} + {}", short(m.user_seconds), short(m.system_seconds)))
    };
    [cell(cpu.as_ref().and_then(|c| c.workers.as_ref())), cell(cpu.as_ref().and_then(|c| c.runner.as_ref()))]
}

/// `35.9 ms`, or `0`.
fn short(seconds: f64) -> String {
    if seconds > 0.0 { crate::report::seconds(seconds) } else { "0".to_string() }
}

fn csv_field(f: &str) -> String {
    if f.contains([',', '"', '\n']) { format!("\"{}\"", f.replace('"', "\"\"")) } else { f.to_string() }
}

/// A Markdown table of the cells; while the sweep still runs, a line above it says so.
pub fn markdown(name: &str, cells: &[CellResult], stage: &Stage<'_>) -> String {
    let keys = keys(cells);
    let (_, rel, _) = relative(cells);
    let mut header: Vec<String> = keys.clone();
    header.extend(
        ["runs", "median ops/s", "spread", "workers cpu (user + sys)", "runner cpu (user + sys)"].map(String::from),
    );
    header.extend(["verdict", "outcome", "vs best"].map(String::from));
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
        row.extend(cpu_cells(c));
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

#[cfg(test)]
mod tests {
    use super::duration_ns;

    #[test]
    fn durations_read_as_nanoseconds_and_nothing_else_does() {
        assert_eq!(duration_ns("50ns"), Some(50));
        assert_eq!(duration_ns("1.5us"), Some(1500));
        assert_eq!(duration_ns("1µs"), Some(1000));
        assert_eq!(duration_ns("2m"), Some(120_000_000_000));
        assert_eq!(duration_ns("0"), Some(0));
        // A count, a name, a bare number of seconds: not a duration column's value.
        for other in ["4", "mutex", "1.5", "round-robin", "", "i"] {
            assert_eq!(duration_ns(other), None, "{other}");
        }
    }
}
