//! How command-line overrides meet a matrix: an override rewrites every cell it touches. The
//! axis it overrides collapses to the override's value (the cells' labels and params say the
//! value that ran, never the one written), settings the run no longer has leave the label
//! (`batch` and `transport` once `--backend` is not the channel, `expect` once `--workers` or
//! `--iterations` leave it unchecked), and a cell that has become the same job as an earlier
//! one is dropped (a cell with no axis left is labelled by the overrides that ran). A notice
//! says which axes collapsed or no longer apply and how many cells were dropped.
//!
//! Owns: the cells' labels after overrides, and the dropping of duplicated cells. Does not own:
//! applying the overrides to a job (see `planner.rs`) or expanding the matrix (see
//! `spec::matrix`).

use super::{BackendPlan, Job, Overrides, Plan};

/// A cell's `key=value` pairs as one name: `backend=mutex workers=8`.
pub(super) fn name(params: &[(String, String)]) -> String {
    params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
}

/// The matrix axes an override replaces, with the override's flag and value.
fn overridden(overrides: &Overrides) -> Vec<(&'static str, String)> {
    let mut axes = Vec::new();
    if let Some(w) = overrides.workers {
        axes.push(("workers", w.to_string()));
    }
    if let Some(m) = overrides.iterations {
        axes.push(("iterations", m.to_string()));
    }
    if let Some(b) = overrides.backend {
        axes.push(("backend", b.name().to_string()));
    }
    if let Some(s) = overrides.start {
        axes.push(("start", s.name().to_string()));
    }
    axes
}

/// A cell's params as written, rewritten to what runs: an overridden axis takes the value the
/// plan runs with; a setting the plan does not have leaves.
pub(super) fn as_run(written: Vec<(String, String)>, plan: &Plan, overrides: &Overrides) -> Vec<(String, String)> {
    let channel = matches!(plan.backend, BackendPlan::Channel { .. });
    written
        .into_iter()
        .filter(|(k, _)| match k.as_str() {
            "batch" | "transport" => channel,
            "expect" => plan.expect.is_some(),
            _ => true,
        })
        .map(|(k, v)| {
            let ran = match k.as_str() {
                "workers" if overrides.workers.is_some() => plan.workers.to_string(),
                "iterations" if overrides.iterations.is_some() => plan.iterations.to_string(),
                "backend" if overrides.backend.is_some() => plan.backend.name().to_string(),
                "start" if overrides.start.is_some() => plan.start.name().to_string(),
                _ => v,
            };
            (k, ran)
        })
        .collect()
}

/// Drops every cell that is the same job as an earlier one (same label, same effective job),
/// and tells every cell left, in a notice, which axes the overrides collapsed and which they
/// made irrelevant (`batch` and `transport` once the backend is not the channel). `axes` are
/// the matrix's axes as written. A cell whose every axis left is labelled by the overrides
/// that ran, never by an empty label.
pub(super) fn collapse(jobs: Vec<Job>, axes: &[String], overrides: &Overrides) -> Vec<Job> {
    let total = jobs.len();
    let collapsed: Vec<(&str, String)> =
        overridden(overrides).into_iter().filter(|(axis, _)| axes.iter().any(|a| a == axis)).collect();
    let left: Vec<&str> = axes
        .iter()
        .map(String::as_str)
        .filter(|a| !collapsed.iter().any(|(c, _)| c == a))
        .filter(|a| !jobs.iter().any(|j| j.params.iter().any(|(k, _)| k == a)))
        .collect();
    let mut kept: Vec<Job> = Vec::with_capacity(total);
    for job in jobs {
        let again = kept.iter().any(|k| k.params == job.params && k.plan.effective_job() == job.plan.effective_job());
        if !again {
            kept.push(job);
        }
    }
    if collapsed.is_empty() && left.is_empty() {
        return kept;
    }
    let ran: Vec<(String, String)> =
        overridden(overrides).into_iter().map(|(axis, value)| (axis.to_string(), value)).collect();
    for job in &mut kept {
        if job.params.is_empty() {
            job.params = ran.clone();
            job.cell = name(&job.params);
        }
    }
    let notice = notice(&collapsed, &left, overrides, total, kept.len());
    for job in &mut kept {
        job.plan.notices.push(notice.clone());
    }
    kept
}

/// The one notice of what the overrides did to the matrix.
fn notice(collapsed: &[(&str, String)], left: &[&str], overrides: &Overrides, total: usize, kept: usize) -> String {
    let flags = |axes: &[(&str, String)]| {
        axes.iter().map(|(axis, value)| format!("--{axis} {value}")).collect::<Vec<_>>().join(", ")
    };
    let axes_word = |n: usize| if n == 1 { "axis" } else { "axes" };
    let mut said = Vec::new();
    if !collapsed.is_empty() {
        let axes = collapsed.iter().map(|(axis, _)| *axis).collect::<Vec<_>>().join(", ");
        said.push(format!(
            "{} overrides the matrix's {axes} {}: every cell runs that value and is labelled so",
            flags(collapsed),
            axes_word(collapsed.len())
        ));
    }
    if !left.is_empty() {
        said.push(format!(
            "with {} the matrix's {} {} no longer {} to the job and {} the labels",
            flags(&overridden(overrides)),
            left.join(", "),
            axes_word(left.len()),
            if left.len() == 1 { "applies" } else { "apply" },
            if left.len() == 1 { "leaves" } else { "leave" },
        ));
    }
    let dropped = total - kept;
    let what = if dropped == 0 {
        format!("no cell is dropped ({total} left)")
    } else {
        let cells = if dropped == 1 { "cell" } else { "cells" };
        format!("{dropped} of {total} {cells} became the same job as another and are dropped ({kept} left)")
    };
    format!("{}; {what}", said.join("; "))
}

#[cfg(test)]
mod tests {
    use crate::names::BackendKind;
    use crate::plan::Overrides;
    use crate::spec::{Source, parse};

    fn cells(text: &str, overrides: &Overrides) -> Vec<(String, String, String)> {
        let source = Source { label: "m.yaml".to_string(), text: text.to_string() };
        let jobs = crate::plan::plan_cells(parse(&source).unwrap(), &source, overrides).unwrap();
        jobs.into_iter().map(|j| (j.cell, j.plan.backend.name().to_string(), j.plan.workers.to_string())).collect()
    }

    const MATRIX: &str = "workers: 1\nvalue: {type: i}\noperation: add\nbackend: mutex\nmatrix:\n  backend: [mutex, atomic, channel]\n  workers: [1, 2]\n  include:\n    - {backend: channel, batch: 4}\n";

    #[test]
    fn an_override_collapses_its_axis_and_drops_the_cells_it_makes_equal() {
        let o = Overrides { backend: Some(BackendKind::Atomic), ..Overrides::default() };
        let got = cells(MATRIX, &o);
        assert_eq!(
            got.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
            ["backend=atomic workers=1", "backend=atomic workers=2"]
        );
        assert!(got.iter().all(|c| c.1 == "atomic"));
        let o = Overrides { backend: Some(BackendKind::Mutex), workers: Some(2), ..Overrides::default() };
        let got = cells(MATRIX, &o);
        assert_eq!(got, [("backend=mutex workers=2".to_string(), "mutex".to_string(), "2".to_string())]);
        // Without overrides nothing changes.
        assert_eq!(cells(MATRIX, &Overrides::default()).len(), 6);
    }
}
