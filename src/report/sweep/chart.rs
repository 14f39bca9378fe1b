//! The chart's data: median ops/s against the swept dimension (drawn by `report::plot`).

use super::{Stage, keys, param};
use crate::report::plot::{Chart, Series};
use crate::sweep::CellResult;
use crate::sweep::summary;

/// The chart: median ops/s against the swept dimension, one line per value of the series
/// parameter (`backend` when it varies) and of any other swept parameter; while the sweep
/// still runs, its title says so.
pub fn chart(name: &str, cells: &[CellResult], stage: &Stage<'_>) -> Chart {
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
        title: match stage.in_progress(cells.len()) {
            Some(note) => format!("{name}: operations per second ({note})"),
            None => format!("{name}: operations per second"),
        },
        x_label: if x_is_duration { format!("{x_key} (ns)") } else { x_key.clone() },
        y_label: "operations per second (median)".to_string(),
        x_categories: (!all_numeric).then_some(categories),
        series,
    }
}
