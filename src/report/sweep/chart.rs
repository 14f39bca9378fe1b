//! The chart's data (drawn by `report::plot`): each cell's median ops/s with its slowest and
//! fastest run against the swept dimension, one series per value of the series parameter
//! (`backend` when it varies) and of any other swept parameter; whether each cell passed; the
//! lock's bound where the mutex does busy work inside it; and the caption (what the marks are,
//! the job, the machine, the date).

use super::{Stage, came_to, keys, lock_bound, param, passes, verdict};
use crate::report::plot::{Bound, Chart, Point, Series};
use crate::sweep::CellResult;
use crate::sweep::summary;

/// The job the chart is of, as its caption names it.
pub struct Source<'a> {
    pub name: &'a str,
    pub file: &'a str,
    pub sha256: &'a str,
}

/// The swept dimension on the x axis.
struct Dimension {
    key: String,
    numeric: bool,
    /// Every value in order of first appearance (the categories of a categorical axis).
    values: Vec<String>,
}

fn numeric(v: &str) -> Option<f64> {
    v.parse::<f64>().ok().or_else(|| crate::spec::parse_duration(v).ok().map(|ns| ns as f64))
}

impl Dimension {
    /// A varying numeric parameter other than the series one if there is one (workers,
    /// work.inside, batch), else any varying one, else the series itself; a chart of one cell
    /// has the job as its one category.
    fn of(source: &Source<'_>, cells: &[CellResult], series_key: Option<&String>) -> Dimension {
        let varies = |k: &str| cells.iter().any(|c| param(c, k) != param(&cells[0], k));
        let keys = keys(cells);
        let candidates: Vec<&String> = keys.iter().filter(|k| Some(*k) != series_key && varies(k)).collect();
        let key = candidates
            .iter()
            .find(|k| cells.iter().all(|c| numeric(param(c, k)).is_some()))
            .or(candidates.first())
            .map(|k| (*k).clone())
            .or_else(|| series_key.cloned());
        let Some(key) = key else {
            let one = cells.first().map_or("", |c| c.job.cell.as_str());
            let label = if one.is_empty() { source.name.to_string() } else { one.to_string() };
            return Dimension { key: String::new(), numeric: false, values: vec![label] };
        };
        let mut values: Vec<String> = Vec::new();
        for c in cells {
            let v = param(c, &key);
            if !values.iter().any(|known| known == v) {
                values.push(v.to_string());
            }
        }
        let numeric = values.iter().all(|v| numeric(v).is_some());
        Dimension { key, numeric, values }
    }

    fn x(&self, cell: &CellResult) -> f64 {
        if self.key.is_empty() {
            return 0.0;
        }
        let v = param(cell, &self.key);
        if self.numeric {
            numeric(v).unwrap_or(f64::NAN)
        } else {
            self.values.iter().position(|c| c == v).unwrap_or(0) as f64
        }
    }

    fn label(&self) -> String {
        let duration = self.values.first().is_some_and(|v| v.parse::<f64>().is_err() && numeric(v).is_some());
        match () {
            () if self.key.is_empty() => "job".to_string(),
            () if duration => format!("{} (ns)", self.key),
            () => self.key.clone(),
        }
    }
}

/// The chart of `cells` so far; while the sweep still runs, its title says so.
pub fn chart(source: &Source<'_>, cells: &[CellResult], stage: &Stage<'_>) -> Chart {
    let params: Vec<Vec<(String, String)>> = cells.iter().map(|c| c.job.params.clone()).collect();
    let series_key = summary::series_key(&params);
    let x = Dimension::of(source, cells, series_key.as_ref());
    let series_key = series_key.filter(|k| *k != x.key);
    let (series, bounds) = series(source.name, cells, &x, series_key.as_deref());
    Chart {
        title: match stage.in_progress(cells.len()) {
            Some(note) => format!("{}: operations per second ({note})", source.name),
            None => format!("{}: operations per second", source.name),
        },
        x_label: x.label(),
        y_label: "operations per second".to_string(),
        x_categories: (!x.numeric).then(|| x.values.clone()),
        caption: caption(source, cells, x.key.is_empty()),
        value_labels: cells.len() == 1,
        series,
        bounds,
    }
}

/// The series (colour by the series parameter's value, marker shape by the others') and the
/// lock's bound of each mutex series.
fn series(job: &str, cells: &[CellResult], x: &Dimension, series_key: Option<&str>) -> (Vec<Series>, Vec<Bound>) {
    // The series' value first, then the other parameters every cell has (an `include` that
    // adds `batch` to the channel cells does not split their line).
    let shared = |k: &str| cells.iter().all(|c| c.job.params.iter().any(|(ck, _)| ck == k));
    let mut series: Vec<Series> = Vec::new();
    let mut bounds: Vec<SeriesBound> = Vec::new();
    let (mut colours, mut shapes): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for c in cells {
        // A cell a signal stopped before its first run has nothing to show.
        if c.summary.is_none() && c.error.is_none() {
            continue;
        }
        let head = series_key.map(|k| param(c, k).to_string());
        let rest: Vec<String> = c
            .job
            .params
            .iter()
            .filter(|(k, _)| *k != x.key && Some(k.as_str()) != series_key && shared(k))
            .map(|(k, v)| format!("{}={v}", k.rsplit('.').next().unwrap_or(k)))
            .collect();
        let name: Vec<String> = head.iter().cloned().chain(rest.iter().cloned()).collect();
        let name = if name.is_empty() { job.to_string() } else { name.join(" ") };
        let point = point(c, x.x(c));
        if let Some(b) = lock_bound(c) {
            match bounds.iter_mut().find(|(n, _)| *n == name) {
                Some((_, points)) => points.push((point.x, b)),
                None => bounds.push((name.clone(), vec![(point.x, b)])),
            }
        }
        if let Some(line) = series.iter_mut().find(|s| s.name == name) {
            line.points.push(point);
            continue;
        }
        let colour = index(&mut colours, head.unwrap_or_else(|| name.clone()));
        let shape = index(&mut shapes, rest.join(" "));
        series.push(Series { name, colour, shape, points: vec![point] });
    }
    (series, lock_bounds(bounds))
}

/// A series' name and its lock bound at each x.
type SeriesBound = (String, Vec<(f64, f64)>);

/// The position of `key` in `seen`, added if new.
fn index(seen: &mut Vec<String>, key: String) -> usize {
    seen.iter().position(|k| *k == key).unwrap_or_else(|| {
        seen.push(key);
        seen.len() - 1
    })
}

/// A cell as a point: its median, slowest and fastest run, and why it did not pass.
fn point(c: &CellResult, x: f64) -> Point {
    let failed = (!passes(c)).then(|| why(c));
    let cell = c.job.params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
    match &c.summary {
        Some(s) => Point { x, median: s.median, min: s.min, max: s.max, runs: s.runs, failed, cell },
        None => Point { x, median: f64::NAN, min: f64::NAN, max: f64::NAN, runs: 0, failed, cell },
    }
}

/// Why a cell did not pass, in a few words: its verdict (`lost_updates`, `wrong`, `failed`), or,
/// its values passing, what its runs came to instead of the outcome expected (`worker_failed`).
fn why(c: &CellResult) -> String {
    let word = verdict(c);
    if !matches!(word.as_str(), "correct" | "within_bound") {
        return word;
    }
    let expectations = c.expectations();
    let failed: Vec<&crate::outcome::Expectation> = expectations.iter().filter(|e| e.failed()).collect();
    match (failed.is_empty(), c.job.plan.expect_outcome) {
        (true, _) => "outcome not as expected".to_string(),
        (false, Some(expected)) => format!("{}, expects {}", came_to(&failed), expected.name()),
        (false, None) => came_to(&failed),
    }
}

/// The lock's bound of each mutex series, each distinct one once.
fn lock_bounds(per_series: Vec<SeriesBound>) -> Vec<Bound> {
    let mut distinct: Vec<SeriesBound> = Vec::new();
    for (name, mut points) in per_series {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        points.dedup();
        if !distinct.iter().any(|(_, p)| *p == points) {
            distinct.push((name, points));
        }
    }
    let several = distinct.len() > 1;
    distinct
        .into_iter()
        .map(|(name, points)| {
            let of = if several { format!(" ({name})") } else { String::new() };
            Bound {
                name: format!("bound, not measured: 1/inside{of}, one lock holder at a time"),
                label: format!("1/inside bound{of}"),
                points,
            }
        })
        .collect()
}

/// What the marks are, the job, the machine and the date.
fn caption(source: &Source<'_>, cells: &[CellResult], one_cell: bool) -> Vec<String> {
    let runs: Vec<usize> = cells.iter().filter_map(|c| c.summary.as_ref()).map(|s| s.runs).collect();
    let (lo, hi) = (runs.iter().min().copied().unwrap_or(0), runs.iter().max().copied().unwrap_or(0));
    let (cell, per) = if one_cell { ("one cell, ", "") } else { ("", " per cell") };
    let marks = match (lo, hi) {
        (_, 0) => "no run yet".to_string(),
        (_, 1) => format!("{cell}one run{per}: no uncertainty shown (repeat: N in the job, or --repeat N, draws bars)"),
        _ => {
            let of = if lo == hi { crate::words::plural(hi, "run") } else { format!("{lo}-{hi} runs") };
            format!(
                "{cell}point: median of {of}{per}; bar: the slowest to the fastest run (min-max, not a confidence interval)"
            )
        }
    };
    let sha = source.sha256.get(..12).unwrap_or(source.sha256);
    let date = cells.iter().flat_map(|c| c.runs.first()).next().and_then(|r| r.started_at.get(..16));
    let date = date.map_or(String::new(), |d| format!("; started {} UTC", d.replace('T', " ")));
    let job = format!("job: {} ({}), sha256 {sha}; runner {}{date}", source.file, source.name, crate::version::long());
    let host = crate::host::host();
    let mut machine: Vec<String> = Vec::new();
    machine.extend(host.cpu);
    machine.extend(host.cores.map(|n| crate::words::plural(n, "CPU")));
    machine.extend(host.kernel);
    let machine = if machine.is_empty() { "unknown".to_string() } else { machine.join(", ") };
    vec![marks, job, format!("machine: {machine}")]
}
