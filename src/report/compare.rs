//! `runner compare OLD.json NEW.json`: did a change make a cell faster? Per cell (matched by
//! name), the change in median ops/s, each side's spread, and whether the change is beyond the
//! noise (a Mann-Whitney U test, see `sweep::summary::change`).
//!
//! Reads sweep documents (`{cells: [...]}`, from `--export-json` or `--format json`) and single
//! run reports alike. Owns: reading them back and the comparison's layout.

use std::fmt::Write;

use serde_json::{Value as Json, json};

use super::{Format, emit, emit_json, rate};
use crate::error::{Error, exit};
use crate::sweep::summary::{Summary, change};

/// One cell of a report as read back: its name and the ops/s of its counted runs.
struct Side {
    cell: String,
    rates: Vec<f64>,
    /// `None` for a cell with no counted run (its set-up failed, or it was interrupted).
    summary: Option<Summary>,
}

pub fn run(old: &str, new: &str, format: Format) -> Result<i32, Error> {
    let read_both = read(old).and_then(|o| read(new).map(|n| (o, n)));
    let (old_cells, new_cells) = match read_both {
        Ok(both) => both,
        // JSON mode: standard output is one document whatever happens.
        Err(e) if format == Format::Json => {
            eprint!("{}", e.render());
            emit_json(&super::failed_doc(&e.render()))?;
            return Ok(e.exit_code());
        }
        Err(e) => return Err(e),
    };
    let mut rows = Vec::new();
    for o in &old_cells {
        let n = new_cells.iter().find(|n| n.cell == o.cell);
        rows.push((o.cell.clone(), Some(o), n));
    }
    for n in new_cells.iter().filter(|n| !old_cells.iter().any(|o| o.cell == n.cell)) {
        rows.push((n.cell.clone(), None, Some(n)));
    }
    type Row<'a> = (String, Option<&'a Summary>, Option<&'a Summary>, Option<f64>, Option<f64>, &'static str);
    let judged: Vec<Row<'_>> = rows
        .into_iter()
        .map(|(cell, o, n)| {
            let (delta, p, verdict) = match (o.map(|o| (o, &o.summary)), n.map(|n| (n, &n.summary))) {
                (Some((o, Some(os))), Some((n, Some(ns)))) if os.median > 0.0 => {
                    let (verdict, p) = change(&o.rates, &n.rates);
                    (Some(ns.median / os.median - 1.0), p, verdict.name())
                }
                (Some(_), Some(_)) => (None, None, "no runs to compare"),
                (Some(_), None) => (None, None, "only in old"),
                _ => (None, None, "only in new"),
            };
            (cell, o.and_then(|o| o.summary.as_ref()), n.and_then(|n| n.summary.as_ref()), delta, p, verdict)
        })
        .collect();
    match format {
        Format::Json => emit_json(&json!({
            "schema_version": super::SCHEMA_VERSION,
            "old": old,
            "new": new,
            "test": "two-sided Mann-Whitney U at 5%, and a change of at least 2% in the median",
            "cells": judged.iter().map(|(cell, o, n, change, p, verdict)| json!({
                "cell": cell,
                "old": o,
                "new": n,
                "change": change,
                "p_value": p,
                "verdict": verdict,
            })).collect::<Vec<_>>(),
        }))?,
        Format::Human => {
            let mut s = format!("compare {old} -> {new}\n");
            let side = |x: Option<&Summary>| {
                x.map_or("-".to_string(), |x| {
                    format!("{}ops/s ±{:.0}% ({} runs)", rate(x.median), 50.0 * x.spread(), x.runs)
                })
            };
            let width = judged.iter().map(|r| r.0.len()).max().unwrap_or(0).max(4);
            for (cell, o, n, change, p, verdict) in &judged {
                let name = if cell.is_empty() { "the job" } else { cell.as_str() };
                let change = change.map_or(String::new(), |c| format!("{:+.1}%  ", 100.0 * c));
                let p = p.map_or(String::new(), |p| format!(" (p = {p:.3})"));
                let _ = writeln!(s, "  {name:<width$}  {} -> {}  {change}{verdict}{p}", side(*o), side(*n));
            }
            emit(&s)?;
        }
    }
    Ok(exit::OK)
}

/// The cells of a report file, each with the statistics of its runs.
fn read(path: &str) -> Result<Vec<Side>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Usage(format!("{path}: {e}")))?;
    let doc: Json = serde_json::from_str(&text).map_err(|e| Error::Usage(format!("{path}: not a JSON report: {e}")))?;
    let bad = || Error::Usage(format!("{path}: not a runner report (no `cells` and no `ops_per_second`)"));
    if let Some(cells) = doc.get("cells").and_then(Json::as_array) {
        return cells
            .iter()
            .map(|c| {
                let cell = c.get("cell").and_then(Json::as_str).unwrap_or_default().to_string();
                let rates: Vec<f64> = c
                    .get("runs")
                    .and_then(Json::as_array)
                    .map(|runs| runs.iter().filter_map(|r| r.get("ops_per_second").and_then(Json::as_f64)).collect())
                    .unwrap_or_default();
                let summary = Summary::of(&rates);
                Ok(Side { cell, rates, summary })
            })
            .collect();
    }
    let rate = doc.get("ops_per_second").and_then(Json::as_f64).ok_or_else(bad)?;
    Ok(vec![Side { cell: String::new(), rates: vec![rate], summary: Summary::of(&[rate]) }])
}
