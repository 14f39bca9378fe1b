//! The command line: parses arguments, runs the pipeline (spec -> plan -> execute -> outcome ->
//! report) and turns the result into an exit code.
//!
//! Owns: flags, subcommands and which report goes where. Does not own: any of the pipeline's
//! stages, which it only calls in order.

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::{Diagnostic, Error, exit};
use crate::names::BackendKind;
use crate::plan::{Job, Overrides, Plan};
use crate::report::{self, Format, Validated};
use crate::spec;
use crate::sweep;
use crate::watch::layer::PhaseLayer;
use sha2::{Digest, Sha256};
use tracing_subscriber::filter::LevelFilter;

/// Runs a YAML job on forked worker processes that share one value through a chosen
/// synchronisation backend, and proves the final value.
#[derive(Parser, Debug)]
#[command(
    name = "runner",
    version = crate::version::long(),
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "`runner JOB` is `runner run JOB`. Exit codes: 0 correct (or lost updates with `none`), 1 wrong value, 2 invalid job or usage, 3 a worker or the set-up failed, 130/143 interrupted."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Log what runner does on standard error (-v info, -vv debug); RUST_LOG=LEVEL also works.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(flatten)]
    run: RunArgs,
}

/// `runner JOB... [OPTIONS]`, the common case, parsed without building the subcommands (most
/// of clap's start-up: a tenth of a millisecond of the tutorial's two). Anything it does not
/// accept goes to [`Cli`], so that help, versions and errors are the full parser's.
#[derive(Parser, Debug)]
#[command(name = "runner")]
struct RunCli {
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a job and verify its final value.
    Run(RunArgs),
    /// Check job files without running them: `FILE: ok`, or every problem found.
    Validate {
        /// Job files (`-` for standard input).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
        #[arg(long, value_enum, default_value_t = FormatArg::Human)]
        format: FormatArg,
    },
    /// Show what a job would run, and the value it must end at, without forking.
    Plan(JobArgs),
    /// Print the JSON Schema (draft-07) of job files.
    Schema,
    /// Compare two JSON reports of the same sweep (`--export-json` or `--format json`): per cell,
    /// the change in median ops/s and whether it is beyond the noise.
    Compare {
        /// The earlier report.
        old: String,
        /// The later report.
        new: String,
        #[arg(long, value_enum, default_value_t = FormatArg::Human)]
        format: FormatArg,
    },
    /// Print the equivalent Python program (multiprocessing, fork start method).
    ExportPython {
        /// The job file (`-` for standard input); one without a matrix.
        #[arg(value_name = "JOB")]
        job: String,
        #[command(flatten)]
        overrides: OverrideArgs,
    },
    /// Run the job (one without a matrix) with runner and its Python equivalent with python3,
    /// and compare them.
    ComparePython(JobArgs),
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Job files (`-` for standard input), or folders of them: several run as a catalog.
    #[arg(value_name = "JOB", required = true)]
    jobs: Vec<String>,
    #[command(flatten)]
    overrides: OverrideArgs,
    /// The report's format.
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    format: FormatArg,
    /// Write a Chrome trace (Perfetto, chrome://tracing) of every process to FILE.
    #[arg(long, value_name = "FILE")]
    trace: Option<String>,
    /// With --trace: add per-operation events (sampled evenly beyond a fixed total).
    #[arg(long)]
    trace_ops: bool,
    /// No progress bar or per-cell lines (the bar shows only on a terminal, for runs longer than about a second).
    #[arg(short, long)]
    quiet: bool,
    /// Write the sweep's JSON document to FILE, rewritten after every cell.
    #[arg(long, value_name = "FILE")]
    export_json: Option<String>,
    /// Write one CSV row per cell to FILE, rewritten after every cell.
    #[arg(long, value_name = "FILE")]
    export_csv: Option<String>,
    /// Write a Markdown table of the cells to FILE, rewritten after every cell.
    #[arg(long, value_name = "FILE")]
    export_markdown: Option<String>,
    /// Draw median ops/s against the swept dimension as an SVG chart in FILE.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<String>,
}

/// One job file, its overrides and the report's format.
#[derive(Args, Debug)]
struct JobArgs {
    /// The job file (`-` for standard input).
    #[arg(value_name = "JOB")]
    job: String,
    #[command(flatten)]
    overrides: OverrideArgs,
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    format: FormatArg,
}

#[derive(Args, Debug, Clone)]
struct OverrideArgs {
    /// Replace the job's number of workers.
    #[arg(long, value_name = "N")]
    workers: Option<u64>,
    /// Replace the job's operations per worker.
    #[arg(long, value_name = "M")]
    iterations: Option<u64>,
    /// Replace the job's backend.
    #[arg(long, value_name = "BACKEND", value_parser = backend_parser())]
    backend: Option<BackendKind>,
    /// Replace the job's start: `together` (at a barrier) or `forked` (each as it is forked).
    #[arg(long, value_name = "START", value_parser = start_parser())]
    start: Option<crate::names::Start>,
    /// Replace the job's counted runs per cell (`repeat`).
    #[arg(long, value_name = "N")]
    repeat: Option<u64>,
    /// Replace the job's uncounted runs before them (`warmup`).
    #[arg(long, value_name = "K")]
    warmup: Option<u64>,
    /// Stop the workers when a run takes longer (`30s`, `500ms`, `2m`, or seconds).
    #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
    timeout: Option<u64>,
    /// Between SIGTERM and SIGKILL when the deadline passes (default 2s).
    #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
    grace: Option<u64>,
}

/// `--timeout 30s`: a duration in nanoseconds (a bare number is seconds).
fn duration_arg(text: &str) -> Result<u64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 => Ok((s * 1e9) as u64),
        Ok(_) => Err("must be more than 0".to_string()),
        Err(_) => spec::parse_timeout(text),
    }
}

fn backend_parser() -> impl TypedValueParser<Value = BackendKind> {
    PossibleValuesParser::new(BackendKind::ALL.map(BackendKind::name))
        .map(|name| BackendKind::ALL.into_iter().find(|b| b.name() == name).unwrap_or(BackendKind::Mutex))
}

fn start_parser() -> impl TypedValueParser<Value = crate::names::Start> {
    PossibleValuesParser::new(crate::names::Start::ALL.map(crate::names::Start::name))
        .map(|name| crate::names::Start::ALL.into_iter().find(|s| s.name() == name).unwrap_or_default())
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    Human,
    Json,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Human => Format::Human,
            FormatArg::Json => Format::Json,
        }
    }
}

impl From<OverrideArgs> for Overrides {
    fn from(o: OverrideArgs) -> Overrides {
        Overrides {
            workers: o.workers,
            iterations: o.iterations,
            backend: o.backend,
            start: o.start,
            repeat: o.repeat,
            warmup: o.warmup,
            timeout_ns: o.timeout,
            grace_ns: o.grace,
        }
    }
}

const SUBCOMMANDS: [&str; 7] = ["run", "validate", "plan", "schema", "compare", "export-python", "compare-python"];

/// Parses the command line, runs it and returns the exit code.
pub fn main() -> i32 {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(code) = misspelt_subcommand(&args) {
        return code;
    }
    let command = args.get(1).and_then(|a| a.to_str()).is_some_and(|a| SUBCOMMANDS.contains(&a) || a == "help");
    let asks = args.iter().skip(1).any(|a| matches!(a.to_str(), Some("-h" | "--help" | "-V" | "--version")));
    if !command
        && !asks
        && let Ok(cli) = RunCli::try_parse_from(&args)
    {
        logging(cli.verbose);
        return finish(run_jobs(cli.run));
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { exit::INVALID } else { exit::OK };
        }
    };
    logging(cli.verbose);
    let result = match cli.command {
        Some(Command::Run(run)) => run_jobs(run),
        None => run_jobs(cli.run),
        Some(Command::Validate { files, format }) => validate(&files, format.into()),
        Some(Command::Plan(JobArgs { job, overrides, format })) => plan_job(&job, overrides.into(), format.into()),
        Some(Command::Schema) => schema(),
        Some(Command::Compare { old, new, format }) => report::compare::run(&old, &new, format.into()),
        Some(Command::ExportPython { job, overrides }) => export_python(&job, overrides),
        Some(Command::ComparePython(JobArgs { job, overrides, format })) => {
            compare_python(&job, overrides, format.into())
        }
    };
    finish(result)
}

/// The exit code of a command's result; an error is rendered on standard error first.
fn finish(result: Result<i32, Error>) -> i32 {
    match result {
        Ok(code) => code,
        Err(e) => {
            eprint!("{}", e.render());
            e.exit_code()
        }
    }
}

/// `runner valdate x.yaml`: the first word is no file but close to a command's name.
fn misspelt_subcommand(args: &[std::ffi::OsString]) -> Option<i32> {
    let first = args.get(1)?.to_str()?;
    if first.starts_with('-') || SUBCOMMANDS.contains(&first) || std::path::Path::new(first).exists() {
        return None;
    }
    let suggestion = spec::did_you_mean(first, SUBCOMMANDS)?;
    eprintln!("error: '{first}' is neither a job file nor a command; did you mean \"{suggestion}\"?");
    Some(exit::INVALID)
}

/// Installs the `tracing` subscriber: the phase layer always (it feeds the trace file), and
/// human logs on standard error with `-v` or `RUST_LOG` (a level: `info`, `debug`, `trace`).
/// Neither starts a thread. A level, not `tracing-subscriber`'s directive filter: that one
/// brings a regex engine, a fifth of the binary that every run and every worker maps in.
fn logging(verbose: u8) {
    use tracing_subscriber::prelude::*;
    let filter = match verbose {
        0 => std::env::var("RUST_LOG").ok().and_then(|l| l.trim().parse().ok()).unwrap_or(LevelFilter::OFF),
        1 => LevelFilter::INFO,
        2 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(false).with_filter(filter);
    let _ = tracing_subscriber::registry().with(PhaseLayer).with(logs).try_init();
}

/// Reads, parses and plans a job file: one job per matrix cell, and the sha256 of its text.
fn load(label: &str, overrides: &Overrides) -> Result<(Vec<Job>, String), Vec<Diagnostic>> {
    let loading = tracing::info_span!("load").entered();
    let source = spec::read_source(label).map_err(|d| vec![d])?;
    let parsed = spec::parse(&source)?;
    let sha256 = format!("{:x}", Sha256::digest(source.text.as_bytes()));
    drop(loading);
    let _planning = tracing::info_span!("plan").entered();
    let jobs = crate::plan::plan_cells(parsed, &source, overrides)?;
    if let Some(first) = jobs.first() {
        tracing::info!(
            cells = jobs.len(),
            workers = first.plan.workers,
            backend = first.plan.backend.name(),
            "planned"
        );
    }
    Ok((jobs, sha256))
}

/// The job files named on the command line, folders replaced by the `.yaml` files in them.
fn job_files(names: &[String]) -> Result<(Vec<String>, bool), Error> {
    let mut files = Vec::new();
    let mut catalog = names.len() > 1;
    for name in names {
        let path = std::path::Path::new(name);
        if !path.is_dir() {
            files.push(name.clone());
            continue;
        }
        catalog = true;
        let entries = std::fs::read_dir(path).map_err(|e| Error::Usage(format!("{name}: {e}")))?;
        let mut found: Vec<String> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        if found.is_empty() {
            return Err(Error::Usage(format!("{name}: a folder with no job files (*.yaml)")));
        }
        found.sort();
        files.extend(found);
    }
    Ok((files, catalog))
}

/// Runs every job named: one file as itself, several (or a folder) as a catalog whose exit
/// code is the worst of its jobs'.
fn run_jobs(run: RunArgs) -> Result<i32, Error> {
    let format: Format = run.format.into();
    let (files, catalog) = job_files(&run.jobs)?;
    let exports = [&run.export_json, &run.export_csv, &run.export_markdown, &run.plot];
    if catalog && (exports.iter().any(|e| e.is_some()) || run.trace.is_some()) {
        return Err(Error::Usage("--export-*, --plot and --trace take one job file, not a catalog".to_string()));
    }
    if !catalog {
        let (code, doc) = run_file(&files[0], &run, false)?;
        if let Some(doc) = doc {
            report::emit_json(&doc)?;
        }
        return Ok(code);
    }
    let mut worst = exit::OK;
    let mut docs = Vec::new();
    let mut failed = Vec::new();
    for file in &files {
        if format == Format::Human {
            report::emit(&format!("== {file}\n"))?;
        }
        let (code, doc) = match run_file(file, &run, true) {
            Ok(done) => done,
            Err(e) => {
                eprint!("{}", e.render());
                (e.exit_code(), None)
            }
        };
        if code != exit::OK {
            failed.push(format!("{file} (exit {code})"));
        }
        worst = worst.max(code);
        docs.push(serde_json::json!({ "file": file, "exit_code": code, "report": doc }));
        if code == exit::SIGINT || code == exit::SIGTERM {
            break;
        }
    }
    match format {
        Format::Human => {
            let summary = if failed.is_empty() {
                format!("catalog: {} jobs, all passed\n", files.len())
            } else {
                format!("catalog: {} jobs, {} failed: {}\n", files.len(), failed.len(), failed.join(", "))
            };
            report::emit(&summary)?;
        }
        Format::Json => report::emit_json(&serde_json::json!({
            "schema_version": report::SCHEMA_VERSION,
            "jobs": docs,
            "failed": failed.len(),
        }))?,
    }
    Ok(worst)
}

/// Runs one job file (every cell, every repeat). Human reports are printed here; the JSON
/// document is returned for the caller to print (a catalog gathers them into one).
fn run_file(label: &str, run: &RunArgs, in_catalog: bool) -> Result<(i32, Option<serde_json::Value>), Error> {
    let format: Format = run.format.into();
    let (jobs, sha256) = match load(label, &run.overrides.clone().into()) {
        Ok(loaded) => loaded,
        Err(diags) => {
            eprint!("{}", Error::Invalid(diags.clone()).render());
            let doc = (format == Format::Json).then(|| report::invalid_doc(&diags));
            return Ok((exit::INVALID, doc));
        }
    };
    // The core count alone (one system call): the rest of the machine's description is read
    // while the workers run.
    let cores = crate::host::allowed_cpus().map_or(1, |c| c.len().max(1));
    // A job of a few operations per worker is over before preemption can matter.
    let most = jobs.iter().filter(|j| j.plan.iterations >= 1000).map(|j| j.plan.workers as usize).max().unwrap_or(0);
    if most > cores {
        eprintln!(
            "runner: notice: {most} workers on {cores} cores: workers take turns on the CPUs, and a lock holder may be preempted"
        );
    }
    let mut notices: Vec<String> = Vec::new();
    for job in &jobs {
        for n in job.plan.notices.clone() {
            let n = if job.cell.is_empty() { n } else { format!("{} ({})", n, job.cell) };
            if !notices.contains(&n) {
                eprintln!("runner: notice: {n}");
                notices.push(n);
            }
        }
    }
    use std::io::IsTerminal;
    let show_progress = format == Format::Human && !run.quiet && std::io::stderr().is_terminal();
    let single = jobs.len() == 1 && jobs[0].plan.repeat == 1 && jobs[0].plan.warmup == 0;
    let exports = [&run.export_json, &run.export_csv, &run.export_markdown, &run.plot];
    let settings = sweep::Settings {
        trace: run.trace.clone(),
        trace_ops: run.trace_ops,
        progress: show_progress,
        defer_trace: single && exports.iter().all(|e| e.is_none()),
    };
    let name = jobs.first().map(|j| j.plan.name.clone()).unwrap_or_default();
    let total = jobs.len();
    let mut after_cell = |cells: &[sweep::CellResult]| -> Result<(), Error> {
        if let Some(last) = cells.last()
            && !single
            && format == Format::Human
            && !run.quiet
        {
            let speed = last.summary.as_ref().map_or("-".to_string(), |s| format!("{}ops/s", report::rate(s.median)));
            let label = if last.job.cell.is_empty() { name.clone() } else { last.job.cell.clone() };
            eprintln!("runner: [{}/{total}] {label}: {speed}, {}", cells.len(), report::sweep::verdict_of(last));
        }
        write_exports(run, &name, label, &sha256, cells)
    };
    if single && exports.iter().all(|e| e.is_none()) {
        let job = jobs.into_iter().next().expect("one job");
        let watch_run = sweep::run(vec![job], &settings, &mut |_| Ok(()));
        let cells = match watch_run {
            Ok(cells) => cells,
            Err(e) => return fail(e, format, in_catalog),
        };
        let mut cell = cells.into_iter().next().expect("one cell");
        if let Some(error) = &cell.error {
            if cell.outcome_as_expected() == Some(true) {
                // The declared fault (a fork failure) happened and was handled: a pass.
                eprintln!("runner: {error}");
                eprintln!("runner: outcome fork_failed, as the job expects");
                let doc = (format == Format::Json).then(|| {
                    let mut doc = report::failed_doc(error);
                    doc["expect_outcome"] = "fork_failed".into();
                    doc["outcome_as_expected"] = true.into();
                    doc
                });
                if format == Format::Human {
                    report::emit(&format!("{} ({label}): fork_failed, as expected\n", cell.job.plan.name))?;
                }
                return Ok((exit::OK, doc));
            }
            return fail(Error::Setup(error.clone()), format, in_catalog);
        }
        let reporting = tracing::info_span!("report").entered();
        let doc = match format {
            Format::Human => {
                report::emit(&report::sweep::run_human(&cell, &cell.runs[0], &sha256))?;
                None
            }
            Format::Json => Some(report::sweep::run_json(&cell, &cell.runs[0], &sha256)),
        };
        drop(reporting);
        let mut code = cell.exit_code();
        let plan = cell.job.plan.clone();
        // The report stands even when its trace cannot be written (JSON: one document still).
        if let Err(e) = cell.runs[0].write_trace(&plan) {
            if format == Format::Human {
                return Err(e);
            }
            eprint!("{}", e.render());
            code = code.max(e.exit_code());
        }
        return Ok((code, doc));
    }
    // An export that cannot be written fails now, not after the first cell.
    write_exports(run, &name, label, &sha256, &[])?;
    let cells = match sweep::run(jobs, &settings, &mut after_cell) {
        Ok(cells) => cells,
        Err(e) => return fail(e, format, in_catalog),
    };
    let code = cells.iter().map(sweep::CellResult::exit_code).max().unwrap_or(exit::OK);
    let partial = cells.iter().any(|c| c.interrupted().is_some());
    match format {
        Format::Human => {
            report::emit(&report::sweep::human(&name, label, &cells))?;
            Ok((code, None))
        }
        Format::Json => Ok((code, Some(report::sweep::document(label, &sha256, &cells, partial)))),
    }
}

/// A run that could not be set up: the error on standard error; in JSON mode also a document.
fn fail(e: Error, format: Format, in_catalog: bool) -> Result<(i32, Option<serde_json::Value>), Error> {
    if format == Format::Json {
        let doc = report::failed_doc(&e.render());
        eprint!("{}", e.render());
        return Ok((e.exit_code(), Some(doc)));
    }
    if in_catalog {
        eprint!("{}", e.render());
        return Ok((e.exit_code(), None));
    }
    Err(e)
}

/// Rewrites the export files and the plot with the cells finished so far.
fn write_exports(
    run: &RunArgs,
    name: &str,
    file: &str,
    sha256: &str,
    cells: &[sweep::CellResult],
) -> Result<(), Error> {
    use report::export::atomic_write;
    let partial = cells.iter().any(|c| c.interrupted().is_some());
    if let Some(path) = &run.export_json {
        let doc = report::sweep::document(file, sha256, cells, partial);
        let mut text = serde_json::to_string_pretty(&doc).map_err(|e| Error::Output(e.to_string()))?;
        text.push('\n');
        atomic_write(path, text.as_bytes())?;
    }
    if let Some(path) = &run.export_csv {
        atomic_write(path, report::sweep::csv(cells).as_bytes())?;
    }
    if let Some(path) = &run.export_markdown {
        atomic_write(path, report::sweep::markdown(name, cells).as_bytes())?;
    }
    if let Some(path) = &run.plot {
        atomic_write(path, report::plot::svg(&report::sweep::chart(name, cells)).as_bytes())?;
    }
    Ok(())
}

fn validate(files: &[String], format: Format) -> Result<i32, Error> {
    let results: Vec<Validated> = files
        .iter()
        .map(|file| Validated {
            file: file.clone(),
            diagnostics: load(file, &Overrides::default()).err().unwrap_or_default(),
        })
        .collect();
    report::validated(&results, format)?;
    Ok(if results.iter().all(|r| r.diagnostics.is_empty()) { exit::OK } else { exit::INVALID })
}

fn plan_job(label: &str, overrides: Overrides, format: Format) -> Result<i32, Error> {
    match load(label, &overrides) {
        Ok((jobs, _)) => {
            let cells: Vec<(String, Plan)> = jobs.into_iter().map(|j| (j.cell, j.plan)).collect();
            report::plans(&cells, format)?;
            Ok(exit::OK)
        }
        Err(diags) => {
            report::invalid(&diags, format)?;
            Ok(exit::INVALID)
        }
    }
}

/// The one plan of a job file without a matrix, or why there is none (diagnostics printed).
fn single_plan(label: &str, overrides: &OverrideArgs, command: &str) -> Result<Result<Plan, i32>, Error> {
    match load(label, &overrides.clone().into()) {
        Ok((mut jobs, _)) if jobs.len() == 1 => Ok(Ok(jobs.remove(0).plan)),
        Ok(_) => Err(Error::Usage(format!("{command} takes a job without a matrix (pick one cell with overrides)"))),
        Err(diags) => {
            eprint!("{}", Error::Invalid(diags).render());
            Ok(Err(exit::INVALID))
        }
    }
}

/// The overrides as command-line words, to hand on to runner's own run.
fn override_words(o: &OverrideArgs) -> Vec<String> {
    let mut words = Vec::new();
    if let Some(w) = o.workers {
        words.extend(["--workers".to_string(), w.to_string()]);
    }
    if let Some(m) = o.iterations {
        words.extend(["--iterations".to_string(), m.to_string()]);
    }
    if let Some(b) = o.backend {
        words.extend(["--backend".to_string(), b.name().to_string()]);
    }
    if let Some(t) = o.timeout {
        words.extend(["--timeout".to_string(), format!("{}ms", t / 1_000_000)]);
    }
    words
}

fn export_python(label: &str, overrides: OverrideArgs) -> Result<i32, Error> {
    let plan = match single_plan(label, &overrides, "export-python")? {
        Ok(plan) => plan,
        Err(code) => return Ok(code),
    };
    let program = crate::python::program(&plan).map_err(Error::Usage)?;
    report::emit(&program)?;
    Ok(exit::OK)
}

fn compare_python(label: &str, overrides: OverrideArgs, format: Format) -> Result<i32, Error> {
    let plan = match single_plan(label, &overrides, "compare-python")? {
        Ok(plan) => plan,
        Err(code) => return Ok(code),
    };
    crate::python::compare::run(&plan, label, &override_words(&overrides), format)
}

fn schema() -> Result<i32, Error> {
    let text = serde_json::to_string_pretty(&spec::schema()).map_err(|e| Error::Output(e.to_string()))?;
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").map_err(|e| Error::Output(format!("standard output: {e}")))?;
    Ok(exit::OK)
}
