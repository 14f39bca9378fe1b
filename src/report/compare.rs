//! `runner compare OLD.json NEW.json`: did a change make a cell faster? Per cell (matched by
//! name), the change in median ops/s, each side's spread, and whether the change is beyond the
//! noise (a Mann-Whitney U test, see `sweep::summary::change`).
//!
//! Reads sweep documents (`{cells: [...]}`, from `--export-json` or `--format json`) and single
//! run reports alike. Owns: reading a report's text back (`parse`), matching cells
//! (`judge`) and the comparison's layout (`human`, `document`): pure functions from data
//! to data or bytes. `run` is the thin command around them (it reads the two files and prints).

use std::fmt::Write;

use serde_json::Value as Json;

use super::doc::{self, Compare, CompareCell};
use super::{Format, emit, emit_json, rate};
use crate::error::{Error, exit};
use crate::sweep::summary::{Summary, change};

/// One cell of a report as read back: its name and the ops/s of its counted runs.
pub(crate) struct Side {
    pub cell: String,
    pub rates: Vec<f64>,
    /// `None` for a cell with no counted run (its set-up failed, or it was interrupted).
    pub summary: Option<Summary>,
}

/// One cell of the comparison: each side's statistics, and what the test found.
pub(crate) struct Judged<'a> {
    pub cell: String,
    pub old: Option<&'a Summary>,
    pub new: Option<&'a Summary>,
    /// New median over old, minus one.
    pub change: Option<f64>,
    pub p_value: Option<f64>,
    pub verdict: &'static str,
}

/// `runner compare`: reads both files, prints the comparison, returns the exit code (0; an
/// unreadable file is the error's code, and in JSON mode also an error document).
pub fn run(old: &str, new: &str, format: Format) -> Result<i32, Error> {
    let read_both = read(old).and_then(|o| read(new).map(|n| (o, n)));
    let (old_cells, new_cells) = match read_both {
        Ok(both) => both,
        Err(e) if format == Format::Json => return super::fail(&e, format),
        Err(e) => return Err(e),
    };
    let judged = judge(&old_cells, &new_cells);
    match format {
        Format::Json => emit_json(&document(old, new, &judged))?,
        Format::Human => emit(&human(old, new, &judged))?,
    }
    Ok(exit::OK)
}

/// Every cell of either side, old's order first, each judged.
pub(crate) fn judge<'a>(old: &'a [Side], new: &'a [Side]) -> Vec<Judged<'a>> {
    let mut rows: Vec<(&str, Option<&Side>, Option<&Side>)> = Vec::new();
    for o in old {
        rows.push((&o.cell, Some(o), new.iter().find(|n| n.cell == o.cell)));
    }
    for n in new.iter().filter(|n| !old.iter().any(|o| o.cell == n.cell)) {
        rows.push((&n.cell, None, Some(n)));
    }
    rows.into_iter()
        .map(|(cell, o, n)| {
            let (delta, p_value, verdict) = match (o.map(|o| (o, &o.summary)), n.map(|n| (n, &n.summary))) {
                (Some((o, Some(os))), Some((n, Some(ns)))) if os.median > 0.0 => {
                    let (verdict, p) = change(&o.rates, &n.rates);
                    (Some(ns.median / os.median - 1.0), p, verdict.name())
                }
                (Some(_), Some(_)) => (None, None, "no runs to compare"),
                (Some(_), None) => (None, None, "only in old"),
                _ => (None, None, "only in new"),
            };
            Judged {
                cell: cell.to_string(),
                old: o.and_then(|o| o.summary.as_ref()),
                new: n.and_then(|n| n.summary.as_ref()),
                change: delta,
                p_value,
                verdict,
            }
        })
        .collect()
}

/// The comparison's JSON document.
pub(crate) fn document(old: &str, new: &str, judged: &[Judged<'_>]) -> Compare {
    Compare {
        schema_version: doc::SchemaVersion,
        old: old.to_string(),
        new: new.to_string(),
        test: "two-sided Mann-Whitney U at 5%, and a change of at least 2% in the median".to_string(),
        cells: judged
            .iter()
            .map(|j| CompareCell {
                cell: j.cell.clone(),
                old: j.old.cloned(),
                new: j.new.cloned(),
                change: j.change,
                p_value: j.p_value,
                verdict: j.verdict.to_string(),
            })
            .collect(),
    }
}

/// The comparison for people: one line per cell.
pub(crate) fn human(old: &str, new: &str, judged: &[Judged<'_>]) -> String {
    let mut s = format!("compare {old} -> {new}\n");
    let side = |x: Option<&Summary>| {
        x.map_or("-".to_string(), |x| format!("{}ops/s ±{:.0}% ({} runs)", rate(x.median), 50.0 * x.spread(), x.runs))
    };
    let width = judged.iter().map(|r| r.cell.len()).max().unwrap_or(0).max(4);
    for j in judged {
        let name = if j.cell.is_empty() { "the job" } else { j.cell.as_str() };
        let change = j.change.map_or(String::new(), |c| format!("{:+.1}%  ", 100.0 * c));
        let p = j.p_value.map_or(String::new(), |p| format!(" (p = {p:.3})"));
        let _ = writeln!(s, "  {name:<width$}  {} -> {}  {change}{}{p}", side(j.old), side(j.new), j.verdict);
    }
    s
}

/// The cells of a report file, each with the statistics of its runs.
fn read(path: &str) -> Result<Vec<Side>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Usage(format!("{path}: {e}")))?;
    parse(path, &text)
}

/// The cells of a report's text (`path` names it in errors).
pub(crate) fn parse(path: &str, text: &str) -> Result<Vec<Side>, Error> {
    let doc: Json = serde_json::from_str(text).map_err(|e| Error::Usage(format!("{path}: not a JSON report: {e}")))?;
    let bad = || Error::Usage(format!("{path}: not a runner report (no `cells` and no `ops_per_second`)"));
    if let Some(cells) = doc.get("cells").and_then(Json::as_array) {
        return Ok(cells
            .iter()
            .map(|c| {
                let cell = c.get("cell").and_then(Json::as_str).unwrap_or_default().to_string();
                let rates: Vec<f64> = c
                    .get("runs")
                    .and_then(Json::as_array)
                    .map(|runs| runs.iter().filter_map(|r| r.get("ops_per_second").and_then(Json::as_f64)).collect())
                    .unwrap_or_default();
                let summary = Summary::of(&rates);
                Side { cell, rates, summary }
            })
            .collect());
    }
    let rate = doc.get("ops_per_second").and_then(Json::as_f64).ok_or_else(bad)?;
    Ok(vec![Side { cell: String::new(), rates: vec![rate], summary: Summary::of(&[rate]) }])
}
