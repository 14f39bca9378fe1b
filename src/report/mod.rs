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
        // Over Redis: each host, its workers, round trip and clock, as in the report.
        "hosts": doc::hosts::hosts(&run.outcome),
        "window_clock": doc::hosts::window_clock(&run.outcome),
    });
    let moments = trace_moments(&run.outcome);
    let input = crate::watch::trace::TraceInput {
        origin,
        parent_pid: std::process::id() as i32,
        phases: &phases,
        workers: &run.outcome.events,
        applied,
        moments: &moments,
        metadata,
    };
    crate::watch::trace::write(&input, crate::exec::interrupt::Interruptible::new(file))
        .map_err(|e| Error::Output(format!("{path}: {e}")))
}

/// The run's moments for the trace's timeline: its own (deaths, the deadline, a signal) and
/// each lock taken over, in time order.
fn trace_moments(outcome: &crate::outcome::Outcome) -> Vec<crate::watch::trace::Moment> {
    use crate::watch::trace::{Moment, What};
    let taken = outcome.recoveries.iter().map(|r| Moment {
        at: r.at_ns,
        what: What::TakenOver {
            from: r.died_holding_lock,
            by: match r.recovered_by {
                crate::sync::Holder::Worker(index) => Some(index),
                crate::sync::Holder::Runner => None,
            },
            restored: r.restored,
        },
    });
    let mut moments: Vec<Moment> = outcome.moments.iter().cloned().chain(taken).collect();
    moments.sort_by_key(|m| m.at);
    moments
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
    let mut text = sig3(v);
    text.push(' ');
    text.push_str(unit);
    text
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
    let mut text = sig3(v);
    text.push_str(prefix);
    text
}

fn sig3(v: f64) -> String {
    let decimals = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    fixed(v, decimals).unwrap_or_else(|| format!("{v:.*}", decimals as usize))
}

/// `v` with `decimals` digits after the point, the bytes `format!("{v:.decimals$}")` writes
/// (the exact binary value rounded half to even), from the float's bits with integer arithmetic
/// rather than the formatter's float machinery; `None` where it does not apply (negative, not
/// finite, subnormal, 10^15 or more, below 2^-70), which the caller formats as before.
fn fixed(v: f64, decimals: u32) -> Option<String> {
    if !(0.0..1e15).contains(&v) || decimals > 3 {
        return None;
    }
    let pow = 10u128.pow(decimals);
    let scaled = if v == 0.0 {
        0
    } else {
        let bits = v.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        if biased == 0 {
            return None;
        }
        // v = mantissa x 2^exponent exactly.
        let mantissa = u128::from((bits & ((1u64 << 52) - 1)) | (1u64 << 52));
        let exponent = biased - 1075;
        let times = mantissa * pow;
        if exponent >= 0 {
            times << exponent
        } else {
            let shift = exponent.unsigned_abs();
            if shift > 120 {
                return None;
            }
            let (q, r, half) = (times >> shift, times & ((1u128 << shift) - 1), 1u128 << (shift - 1));
            if r > half || (r == half && q & 1 == 1) { q + 1 } else { q }
        }
    };
    // Below 10^18: a u64, written digit by digit (no formatter).
    let (scaled, pow) = (u64::try_from(scaled).ok()?, pow as u64);
    let mut text = String::with_capacity(24);
    push_digits(&mut text, scaled / pow, 1);
    if decimals > 0 {
        text.push('.');
        push_digits(&mut text, scaled % pow, decimals as usize);
    }
    Some(text)
}

/// `n` in decimal, with leading zeros to `width` digits.
fn push_digits(text: &mut String, mut n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut start = digits.len();
    while n > 0 || digits.len() - start < width {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    digits[start..].iter().for_each(|&d| text.push(char::from(d)));
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixed_writes_the_bytes_the_formatter_writes() {
        let mut values = vec![0.0, 0.5, 1.5, 2.5, 0.125, 0.375, 0.005, 0.015, 9.995, 99.95, 999.5, 1e-3, 12.345];
        let mut x = 1e-6f64;
        while x < 2e6 {
            values.extend([x, x * 1.000_1, x.next_up(), x.next_down()]);
            x *= 1.037;
        }
        // Exact ties at every decimal place, and near them.
        for n in 0..20_000u32 {
            let tie = f64::from(n) / 8.0;
            values.extend([tie, tie.next_up(), tie.next_down(), f64::from(n) / 1000.0, f64::from(n) / 100.0]);
        }
        for v in values.into_iter().filter(|v| *v == 0.0 || (v.is_normal() && *v > 0.0)) {
            for decimals in 0..=3u32 {
                let expected = format!("{v:.*}", decimals as usize);
                assert_eq!(super::fixed(v, decimals).as_deref(), Some(expected.as_str()), "{v:e} to {decimals}");
            }
        }
        assert_eq!(super::fixed(-1.0, 2), None);
        assert_eq!(super::fixed(f64::NAN, 2), None);
        assert_eq!(super::sig3(f64::INFINITY), "inf");
        assert_eq!(super::seconds(0.000_011_8), "11.8 µs");
        assert_eq!(super::rate(10_600.0), "10.6 k");
    }
}
