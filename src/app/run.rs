//! `runner JOB`: one job file run and reported, as a single run or as a sweep (a matrix, or
//! `repeat`/`warmup`).
//!
//! Owns: the notices before a run, the progress policy, single run or sweep, how a declared
//! fork failure that happened counts (a pass), the report's place (standard output, or the
//! document returned for the caller), and a single run's trace written after its report.
//! Does not own: running the cells (see `sweep`) or the reports' layout (see `report`).

use std::io::IsTerminal;
use std::os::fd::AsFd;

use super::exports::{Contents, Exports, Streams};
use super::load::{load, load_checked, load_source};
use super::observe::{PendingTrace, Showing, Shown};
use super::{Done, Format};
use crate::error::{Error, exit};
use crate::exec::interrupt::Interrupts;
use crate::plan::{Job, Overrides};
use crate::report;
use crate::report::doc::sweep::Unwritten;
use crate::report::sweep::Stage;
use crate::sweep::{self, CellResult};

/// What `runner run` was asked to do, whatever parsed it.
pub(crate) struct RunOptions {
    /// Job files, or folders of them.
    pub(crate) jobs: Vec<String>,
    pub(crate) overrides: Overrides,
    pub(crate) format: Format,
    /// `--trace FILE` and `--trace-ops`.
    pub(crate) trace: Option<String>,
    pub(crate) trace_ops: bool,
    /// `--histogram`: every run's latency histograms in full in the JSON documents.
    pub(crate) histogram: bool,
    /// No progress bar or per-cell lines.
    pub(crate) quiet: bool,
    pub(crate) exports: Exports,
}

/// What running one job file came to, before it is reported.
enum FileRun {
    /// One run, reported as such; its trace is written after the report; its exports that
    /// could not be written.
    Single { cell: Box<CellResult>, trace: Option<Box<PendingTrace>>, unwritten: Vec<Unwritten> },
    /// The job declares that a fork fails (`expect_outcome: fork-failed`), and it did: a pass.
    ForkFailedAsExpected { name: String, error: String },
    /// Every cell of a sweep, in order, and the outputs that could not be written.
    Sweep { name: String, cells: Vec<CellResult>, unwritten: Vec<Unwritten> },
}

/// Runs one job file (every cell, every repeat) and reports it: human reports are printed
/// here, the JSON document is returned (a catalog gathers them into one).
pub(crate) fn run_file(label: &str, options: &RunOptions) -> Result<Done, Error> {
    let (jobs, sha256) = load_interruptibly(label, &options.overrides)?.map_err(Error::Invalid)?;
    announce(&jobs);
    let ran = execute(label, jobs, &sha256, options)?;
    report_file(label, ran, &sha256, options.format)
}

/// [`load`], where a signal can still end it: once runner watches for signals (a catalog's
/// later files) they are blocked, which a regular file's read does not mind; a file that may
/// keep runner waiting (standard input, a FIFO, a terminal) is read waiting on it and on the
/// signals together, a FIFO opened without waiting for a writer. A signal that came before, or
/// while it waited, is the file's error.
fn load_interruptibly(label: &str, overrides: &Overrides) -> Result<Loaded, Error> {
    let Some(interrupts) = Interrupts::armed() else {
        return Ok(load(label, overrides));
    };
    if let Some(signal) = interrupts.caught() {
        return Err(Error::Interrupted(signal));
    }
    let input = match crate::spec::check_input(label) {
        Ok(input) => input,
        Err(d) => return Ok(Err(vec![d])),
    };
    if input.regular {
        return Ok(load_checked(label, input, overrides));
    }
    let limit = crate::spec::MAX_FILE_BYTES;
    let read = if label == "-" {
        interrupts.read_to_end(std::io::stdin().as_fd(), limit, false)
    } else {
        use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
        match std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY).open(label) {
            Ok(file) => {
                let fifo = file.metadata().is_ok_and(|m| m.file_type().is_fifo());
                interrupts.read_to_end(file.as_fd(), limit, fifo)
            }
            Err(e) => Ok(Err(e)),
        }
    };
    let source = crate::spec::source_from(label, read.map_err(Error::Interrupted)?);
    Ok(source.map_err(|d| vec![d]).and_then(|source| load_source(&source, overrides)))
}

/// What [`load`] returns.
type Loaded = Result<(Vec<Job>, String), Vec<crate::error::Diagnostic>>;

/// The notices of a job file's cells on standard error, each once.
fn announce(jobs: &[Job]) {
    // A job of a few operations per worker is over before preemption can matter.
    let long = |j: &&Job| j.plan.iterations >= 1000 && j.plan.workers > 1;
    // The core count alone (one system call), and only for a job long enough to be crowded: the
    // rest of the machine's description is read while the workers run.
    let cores =
        if jobs.iter().any(|j| long(&j)) { crate::host::allowed_cpus().map_or(1, |c| c.len().max(1)) } else { 1 };
    let crowded = |j: &&Job| long(j) && j.plan.workers as usize > cores;
    let most = jobs.iter().filter(crowded).map(|j| j.plan.workers as usize).max().unwrap_or(0);
    if most > cores {
        // Only the mutex holds a lock across an update, so only it has a holder to preempt.
        let lock = jobs.iter().filter(crowded).any(|j| j.plan.backend.kind() == crate::names::BackendKind::Mutex);
        crate::stderrln!(
            "runner: notice: {most} workers on {cores} core{}: workers take turns on the CPUs{}",
            if cores == 1 { "" } else { "s" },
            if lock { ", and a lock holder may be preempted" } else { "" }
        );
    }
    let mut notices: Vec<String> = Vec::new();
    // A notice every cell has is said once, for the file; the others name their cell.
    let everywhere = |n: &String| jobs.iter().all(|j| j.plan.notices.contains(n));
    for job in jobs {
        for n in &job.plan.notices {
            let n = if job.cell.is_empty() || everywhere(n) { n.clone() } else { format!("{} ({})", n, job.cell) };
            if !notices.contains(&n) {
                crate::stderrln!("runner: notice: {}", crate::terminal::for_people(&n));
                notices.push(n);
            }
        }
    }
}

/// Runs the cells; a single run's set-up failure is the file's error, unless it is the fork
/// failure the job expects.
fn execute(label: &str, jobs: Vec<Job>, sha256: &str, options: &RunOptions) -> Result<FileRun, Error> {
    // One run of one job keeps its own report (final and expected values, verdict), exports or
    // not: the exports are written besides.
    let single = jobs.len() == 1 && jobs[0].plan.repeat == 1 && jobs[0].plan.warmup == 0;
    let name = jobs.first().map(|j| j.plan.name.clone()).unwrap_or_default();
    let people = options.format == Format::Human && !options.quiet;
    let mut axes: Vec<String> = Vec::new();
    for (key, _) in jobs.iter().flat_map(|j| &j.params) {
        if !axes.contains(key) {
            axes.push(key.clone());
        }
    }
    let showing = Showing {
        progress: people && std::io::stderr().is_terminal(),
        cell_lines: people && !single,
        defer_trace: single,
        name: &name,
        label,
        sha256,
        axes: &axes,
        cells: jobs.len(),
        exports: &options.exports,
    };
    // An export that cannot be written (a FIFO that nothing reads included) fails now, before
    // anything ran; the streams stay open until the last cell.
    let streams = if options.exports.any() {
        let stage = Stage { planned: jobs.len(), in_progress: true, unwritten: &[] };
        options.exports.start(&Contents { name: &name, file: label, sha256, axes: &axes, cells: &[], stage })?
    } else {
        Streams::default()
    };
    let mut shown = Shown::new(showing, streams);
    let settings =
        sweep::Settings { trace: options.trace.clone(), trace_ops: options.trace_ops, histogram: options.histogram };
    let cells = sweep::run(jobs, &settings, &mut shown)?;
    let unwritten = shown.unwritten().to_vec();
    if !single {
        return Ok(FileRun::Sweep { name, cells, unwritten });
    }
    let trace = shown.take_trace().map(Box::new);
    let Some(cell) = cells.into_iter().next() else {
        return Err(Error::Setup("no cell ran".to_string()));
    };
    match &cell.error {
        Some(error) if cell.outcome_as_expected() == Some(true) => {
            Ok(FileRun::ForkFailedAsExpected { name: cell.job.plan.name.clone(), error: error.clone() })
        }
        Some(error) => Err(Error::Setup(error.clone())),
        // A signal before the one run started: nothing to report but that.
        None if cell.runs.is_empty() => Err(nothing_ran(&cell)),
        None => Ok(FileRun::Single { cell: Box::new(cell), trace, unwritten }),
    }
}

/// Prints or returns the report of a file's runs, and its exit code.
fn report_file(label: &str, ran: FileRun, sha256: &str, format: Format) -> Result<Done, Error> {
    match ran {
        FileRun::Single { cell, trace, unwritten } => report_single(&cell, trace, &unwritten, sha256, format),
        FileRun::ForkFailedAsExpected { name, error } => {
            crate::stderrln!("runner: {}", crate::terminal::for_people(&error.to_string()));
            crate::stderrln!("runner: outcome fork_failed, as the job expects");
            match format {
                Format::Human => {
                    report::emit(&format!("{name} ({label}): fork_failed, as expected\n"))?;
                    Ok(Done::code(exit::OK))
                }
                Format::Json => Ok(Done { code: exit::OK, document: Some(expected_failure(&error)?) }),
            }
        }
        FileRun::Sweep { name, cells, unwritten } => {
            let code = cells.iter().map(CellResult::exit_code).max().unwrap_or(exit::OK);
            let code = if unwritten.is_empty() { code } else { code.max(exit::INVALID) };
            match format {
                Format::Human => {
                    Ok(emitted(&(report::sweep::human(&name, label, &cells) + &unwritten_lines(&unwritten)), code))
                }
                Format::Json => {
                    let stage = Stage::over(cells.len(), &unwritten);
                    Ok(Done { code, document: Some(report::sweep::document(label, sha256, &cells, &stage)) })
                }
            }
        }
    }
}

/// The outputs that could not be written, for the end of a human report.
fn unwritten_lines(unwritten: &[Unwritten]) -> String {
    let lines = unwritten.iter().map(|u| format!("  not written: {}\n", crate::terminal::for_people(&u.error)));
    let lines: String = lines.collect();
    if lines.is_empty() { lines } else { format!("\n{lines}") }
}

/// A single run's report, then its trace (the report stands even when its trace or an export
/// cannot be written: in JSON one document still, which names them in `unwritten`; the error is
/// said on standard error, in the human report for an export, and raises the exit code to at
/// least 2; a signal's code stays).
fn report_single(
    cell: &CellResult,
    trace: Option<Box<PendingTrace>>,
    unwritten: &[Unwritten],
    sha256: &str,
    format: Format,
) -> Result<Done, Error> {
    let Some(run) = cell.runs.first() else {
        return Err(nothing_ran(cell));
    };
    let reporting = tracing::info_span!("report").entered();
    let document = match format {
        Format::Human => {
            if let Err(e) = report::emit(&(report::sweep::run_human(cell, run, sha256) + &unwritten_lines(unwritten))) {
                crate::stderr!("{}", e.render());
                return Ok(Done::code(cell.exit_code().max(e.exit_code())));
            }
            None
        }
        // Printed after the trace is written: so that it can say when the trace was not.
        Format::Json => Some(report::sweep::run_doc(cell, run, sha256)),
    };
    drop(reporting);
    let mut unwritten = unwritten.to_vec();
    if let Some(trace) = trace {
        let path = trace.path().to_string();
        if let Err(e) = trace.write(&cell.job.plan, run) {
            crate::stderr!("{}", e.render());
            unwritten.push(Unwritten { path, error: super::exports::message(e) });
        }
    }
    let code = if unwritten.is_empty() { cell.exit_code() } else { cell.exit_code().max(exit::INVALID) };
    let document = document.map(|mut doc| {
        doc.unwritten = unwritten;
        report::to_json(&doc)
    });
    Ok(Done { code, document })
}

/// A human report printed, and the exit code `code` of what it reports; when standard output
/// cannot take it, the error on standard error and the higher of the two codes (a signal's
/// code stays).
fn emitted(text: &str, code: i32) -> Done {
    match report::emit(text) {
        Ok(()) => Done::code(code),
        Err(e) => {
            crate::stderr!("{}", e.render());
            Done::code(code.max(e.exit_code()))
        }
    }
}

/// Why a single run's cell has no run: a signal came before it started.
fn nothing_ran(cell: &CellResult) -> Error {
    match cell.interrupted() {
        Some(signal) => Error::Interrupted(signal),
        None => Error::Setup("the run did not start".to_string()),
    }
}

/// The JSON document of a job whose declared fork failure happened: the failure's document,
/// and that it was expected.
fn expected_failure(error: &str) -> Result<serde_json::Value, Error> {
    #[derive(serde::Serialize)]
    struct ExpectedFailure<'a> {
        schema_version: u32,
        error: &'a str,
        diagnostics: [(); 0],
        expect_outcome: &'static str,
        outcome_as_expected: bool,
    }
    let doc = ExpectedFailure {
        schema_version: report::SCHEMA_VERSION,
        error: error.trim_start_matches("error: ").trim_end(),
        diagnostics: [],
        expect_outcome: "fork_failed",
        outcome_as_expected: true,
    };
    serde_json::to_value(&doc).map_err(|e| Error::Output(e.to_string()))
}
