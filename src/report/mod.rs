//! Reports: what a run, a plan or a validation found, drawn for people (`human`) or programs
//! (`json`, as the typed documents of `doc`, whose schemas are in `schemas/`). The only module
//! that writes results to standard output.
//!
//! Owns: layout, number formatting, the documents' shapes and their schemas. Does not own: any
//! decision (verdicts and exit codes come from `outcome`, diagnostics from `spec` and `plan`).

pub mod compare;
pub mod doc;
pub mod export;
mod human;
mod json;
pub mod plot;
pub mod progress;
pub mod sweep;

use std::io::Write;

use crate::error::{Diagnostic, Error};
use crate::outcome::{Judgement, Outcome};
use crate::plan::Plan;
use crate::watch::Watch;

/// The report's format, chosen with `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Human,
    Json,
}

/// Everything a run report shows.
pub struct RunReport<'a> {
    pub plan: &'a Plan,
    pub outcome: &'a Outcome,
    pub judgement: &'a Judgement,
    /// The whole run, from runner's start to the report.
    pub wall_seconds: f64,
    pub provenance: Provenance,
}

/// What identifies a run besides the job: the file's digest and when it started.
pub struct Provenance {
    pub file_sha256: String,
    /// RFC 3339, UTC.
    pub started_at: String,
}

pub use crate::host::{Host, host};

/// Writes the Chrome trace of a run to `file` (created at `path` before the run).
pub fn trace(
    file: &mut std::fs::File,
    path: &str,
    plan: &Plan,
    run: &crate::sweep::Run,
    watch: &Watch,
) -> Result<(), Error> {
    if let Some(lost) = &run.outcome.events_lost {
        return Err(Error::Output(format!("{path}: {lost}")));
    }
    let origin = run.origin;
    // The phases of this run (runner's load and plan come before the first run's origin).
    let mut phases = crate::watch::layer::phases();
    let first = phases.iter().position(|p| p.name == "set up the backend" && p.start >= origin).unwrap_or(0);
    let earlier_run = phases[..first].iter().any(|p| p.name == "set up the backend");
    let before: Vec<_> =
        phases[..first].iter().filter(|p| !earlier_run && (p.name == "load" || p.name == "plan")).cloned().collect();
    phases = before.into_iter().chain(phases[first..].iter().cloned()).collect();
    let origin = phases.first().map_or(origin, |p| p.start.min(origin));
    let applied: &[(u64, u32)] = run.outcome.served.as_ref().map_or(&[], |s| &s.events);
    let sampled = watch.ops && run.outcome.latency.sample_every > 1;
    let metadata = serde_json::json!({
        "runner": doc::RunnerHeader::this(),
        "job": doc::Job::new(plan),
        "clock": "CLOCK_MONOTONIC; ts in microseconds from runner's start",
        "ops": watch.ops,
        "sampled": sampled,
        "sample_every": if watch.ops { Some(run.outcome.latency.sample_every) } else { None },
        "op_events_total": crate::watch::TRACE_OPS_TOTAL,
        // Locks whose holder died: who died holding each, and who recovered it, as in the report.
        "recovery": run.outcome.recoveries.first().copied().map(doc::run::recovery),
        "recoveries": run.outcome.recoveries.iter().copied().map(doc::run::recovery).collect::<Vec<_>>(),
        "faults": plan.faults.iter().map(|f| f.describe()).collect::<Vec<_>>(),
        "deadline_seconds": run.outcome.deadline,
    });
    let input = crate::watch::trace::TraceInput {
        origin,
        parent_pid: std::process::id() as i32,
        phases: &phases,
        workers: &run.outcome.events,
        applied,
        metadata,
    };
    crate::watch::trace::write(&input, crate::exec::interrupt::Interruptible::new(file))
        .map_err(|e| Error::Output(format!("{path}: {e}")))
}

/// One file's result in `runner validate`.
pub struct Validated {
    pub file: String,
    pub diagnostics: Vec<Diagnostic>,
}

pub use json::SCHEMA_VERSION;

/// `runner plan`: one plan, or one per matrix cell.
pub fn plans(cells: &[(String, Plan)], format: Format) -> Result<(), Error> {
    match (format, cells) {
        (Format::Human, [(_, plan)]) => emit(&human::plan(plan)),
        (Format::Json, [(_, plan)]) => emit_json(&json::plan(plan)),
        (Format::Human, _) => {
            let text: Vec<String> =
                cells.iter().map(|(cell, plan)| format!("cell {cell}\n{}", human::plan(plan))).collect();
            emit(&text.join("\n"))
        }
        (Format::Json, _) => emit_json(&json::plans(cells)),
    }
}

/// `FILE: ok` per valid file on standard output and diagnostics on standard error; in JSON one
/// document with every file and its diagnostics.
pub fn validated(files: &[Validated], format: Format) -> Result<(), Error> {
    match format {
        Format::Human => {
            let mut ok = String::new();
            for f in files {
                if f.diagnostics.is_empty() {
                    ok.push_str(&format!("{}: ok\n", f.file));
                } else {
                    crate::stderr!("{}", Error::Invalid(f.diagnostics.clone()).render());
                }
            }
            emit(&ok)
        }
        Format::Json => emit_json(&json::validated(files)),
    }
}

/// The JSON document of a job that could not be planned.
pub fn invalid_doc(diagnostics: &[Diagnostic]) -> serde_json::Value {
    to_json(&json::invalid(diagnostics))
}

/// Diagnostics of a job that could not be run or planned: on standard error, and in JSON mode
/// also as the one document on standard output.
pub fn invalid(diagnostics: &[Diagnostic], format: Format) -> Result<(), Error> {
    crate::stderr!("{}", Error::Invalid(diagnostics.to_vec()).render());
    match format {
        Format::Human => Ok(()),
        Format::Json => emit_json(&json::invalid(diagnostics)),
    }
}

/// In JSON mode, the document of a run that could not be set up.
pub fn failed_doc(message: &str) -> serde_json::Value {
    to_json(&doc::ErrorDoc::failed(message))
}

/// In JSON mode, the document of a command that failed with `e` (other than an invalid job):
/// its message, and the signal when one came before anything ran.
pub fn error_doc(e: &Error) -> serde_json::Value {
    match e {
        Error::Interrupted(signal) => to_json(&doc::ErrorDoc::interrupted(*signal, &e.render())),
        _ => failed_doc(&e.render()),
    }
}

/// An error that ends a command: on standard error, and in JSON mode also as the one document
/// on standard output (standard output is one document whatever happens). Returns the error's
/// exit code.
pub fn fail(e: &Error, format: Format) -> Result<i32, Error> {
    crate::stderr!("{}", e.render());
    if format == Format::Json {
        emit_json(&error_doc(e))?;
    }
    Ok(e.exit_code())
}

/// A document as a JSON value (for a caller that still gathers documents as values).
pub fn to_json<T: serde::Serialize>(doc: &T) -> serde_json::Value {
    serde_json::to_value(doc).expect("a report document is plain data")
}

/// Writes `text`, for people, to standard output: what a job file put in it cannot act on the
/// terminal (see [`crate::terminal`]).
pub fn emit(text: &str) -> Result<(), Error> {
    emit_raw(&crate::terminal::for_people(text))
}

/// Writes `text` to standard output as it is (JSON: serde has escaped its strings); once runner
/// watches for signals, a signal ends a wait on a standard output that takes nothing (see
/// `exec::interrupt::Interruptible`).
fn emit_raw(text: &str) -> Result<(), Error> {
    let mut out = crate::exec::interrupt::Interruptible::new(std::io::stdout().lock());
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::Output(format!("standard output: {e}")))
}

/// Writes one JSON document to standard output.
pub fn emit_json<T: serde::Serialize + ?Sized>(doc: &T) -> Result<(), Error> {
    emit_raw(&json_text(doc)?)
}

/// Writes `text`, one JSON document already written as [`json_text`] writes it, to standard
/// output as it is.
pub fn emit_json_text(text: &str) -> Result<(), Error> {
    emit_raw(text)
}

/// One JSON document as pretty text with a final newline.
pub fn json_text<T: serde::Serialize + ?Sized>(doc: &T) -> Result<String, Error> {
    let mut text = serde_json::to_string_pretty(doc).map_err(|e| Error::Output(e.to_string()))?;
    text.push('\n');
    Ok(text)
}

/// `1.23 ms`, `4.56 s`: three significant digits in a unit that fits.
pub fn seconds(s: f64) -> String {
    let (v, unit) = if s >= 1.0 {
        (s, "s")
    } else if s >= 1e-3 {
        (s * 1e3, "ms")
    } else if s >= 1e-6 {
        (s * 1e6, "µs")
    } else {
        (s * 1e9, "ns")
    };
    format!("{} {unit}", sig3(v))
}

/// `12.3 M`: three significant digits with a metric prefix.
pub fn rate(r: f64) -> String {
    let (v, prefix) = if r >= 1e9 {
        (r / 1e9, " G")
    } else if r >= 1e6 {
        (r / 1e6, " M")
    } else if r >= 1e3 {
        (r / 1e3, " k")
    } else {
        (r, " ")
    };
    format!("{}{prefix}", sig3(v))
}

fn sig3(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}
