//! The command line: parses arguments, runs the pipeline (spec -> plan -> execute -> outcome ->
//! report) and turns the result into an exit code.
//!
//! Owns: flags, subcommands and which report goes where. Does not own: any of the pipeline's
//! stages, which it only calls in order.

use std::time::Instant;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::{Diagnostic, Error, exit};
use crate::plan::{Overrides, Plan};
use crate::report::{self, Format, Provenance, RunReport, Validated};
use crate::sync::BackendKind;
use crate::watch::Watch;
use crate::watch::layer::PhaseLayer;
use crate::{exec, outcome, spec};
use sha2::{Digest, Sha256};
use tracing_subscriber::EnvFilter;

/// The git commit runner was built from (empty outside a checkout).
pub const COMMIT: &str = env!("RUNNER_COMMIT");

fn version() -> &'static str {
    if COMMIT.is_empty() {
        env!("CARGO_PKG_VERSION")
    } else {
        concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("RUNNER_COMMIT"), ")")
    }
}

/// Runs a YAML job on forked worker processes that share one value through a chosen
/// synchronisation backend, and proves the final value.
#[derive(Parser, Debug)]
#[command(
    name = "runner",
    version = version(),
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "`runner JOB` is `runner run JOB`. Exit codes: 0 correct (or lost updates with `none`), 1 wrong value, 2 invalid job or usage, 3 a worker or the set-up failed, 130/143 interrupted."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Log what runner does on standard error (-v info, -vv debug); RUST_LOG also works.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
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
    Plan {
        /// The job file (`-` for standard input).
        #[arg(value_name = "JOB")]
        job: String,
        #[command(flatten)]
        overrides: OverrideArgs,
        #[arg(long, value_enum, default_value_t = FormatArg::Human)]
        format: FormatArg,
    },
    /// Print the JSON Schema (draft-07) of job files.
    Schema,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// The job file (`-` for standard input).
    #[arg(value_name = "JOB", required = true)]
    job: Option<String>,
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
    /// No progress bar (it shows only on a terminal, for runs longer than about a second).
    #[arg(short, long)]
    quiet: bool,
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
}

fn backend_parser() -> impl TypedValueParser<Value = BackendKind> {
    PossibleValuesParser::new(BackendKind::ALL.map(BackendKind::name))
        .map(|name| BackendKind::ALL.into_iter().find(|b| b.name() == name).unwrap_or(BackendKind::Mutex))
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
        Overrides { workers: o.workers, iterations: o.iterations, backend: o.backend }
    }
}

const SUBCOMMANDS: [&str; 4] = ["run", "validate", "plan", "schema"];

/// Parses the command line, runs it and returns the exit code.
pub fn main() -> i32 {
    let started = Instant::now();
    let origin = exec::now_ns();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(code) = misspelt_subcommand(&args) {
        return code;
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
        Some(Command::Run(run)) => run_job(run, started, origin),
        None => run_job(cli.run, started, origin),
        Some(Command::Validate { files, format }) => validate(&files, format.into()),
        Some(Command::Plan { job, overrides, format }) => plan_job(&job, overrides.into(), format.into()),
        Some(Command::Schema) => schema(),
    };
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
/// human logs on standard error with `-v` or `RUST_LOG`. Neither starts a thread.
fn logging(verbose: u8) {
    use tracing_subscriber::prelude::*;
    let filter = match verbose {
        0 => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("off")),
        1 => EnvFilter::new("info"),
        2 => EnvFilter::new("debug"),
        _ => EnvFilter::new("trace"),
    };
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(false).with_filter(filter);
    let _ = tracing_subscriber::registry().with(PhaseLayer).with(logs).try_init();
}

/// Reads, parses and plans a job file; also returns the sha256 of its text.
fn load(label: &str, overrides: &Overrides) -> Result<(Plan, String), Vec<Diagnostic>> {
    let loading = tracing::info_span!("load").entered();
    let source = spec::read_source(label).map_err(|d| vec![d])?;
    let (job, found) = spec::parse(&source)?;
    let sha256 = format!("{:x}", Sha256::digest(source.text.as_bytes()));
    drop(loading);
    let _planning = tracing::info_span!("plan").entered();
    let plan = crate::plan::plan(&job, &source.label, &source.stem(), overrides, found)?;
    tracing::info!(workers = plan.workers, iterations = plan.iterations, backend = plan.backend.name(), "planned");
    Ok((plan, sha256))
}

fn run_job(run: RunArgs, started: Instant, origin: u64) -> Result<i32, Error> {
    let format = run.format.into();
    let label = run.job.unwrap_or_else(|| "-".to_string());
    let started_at = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
    let (plan, sha256) = match load(&label, &run.overrides.into()) {
        Ok(loaded) => loaded,
        Err(diags) => {
            report::invalid(&diags, format)?;
            return Ok(exit::INVALID);
        }
    };
    for notice in &plan.notices {
        eprintln!("runner: notice: {notice}");
    }
    // The command line wins over the job file's `trace`.
    let from_job = plan.trace.clone();
    let watch = Watch {
        ops: run.trace_ops || (run.trace.is_none() && from_job.as_ref().is_some_and(|t| t.ops)),
        trace: run.trace.or(from_job.map(|t| t.file)),
    };
    if watch.ops && watch.trace.is_none() {
        return Err(Error::Usage("--trace-ops needs --trace FILE (or `trace:` in the job file)".to_string()));
    }
    // Refuse an unwritable trace file before running anything.
    let trace_file = match &watch.trace {
        Some(path) => Some(std::fs::File::create(path).map_err(|e| Error::Output(format!("{path}: {e}")))?),
        None => None,
    };
    use std::io::IsTerminal;
    let show_progress = format == Format::Human && !run.quiet && std::io::stderr().is_terminal();
    let mut progress = report::progress::Progress::new(plan.total_ops(), show_progress);
    let executed = exec::execute(&plan, &watch, &mut |done| progress.update(done));
    progress.finish();
    let outcome = match executed {
        Ok(outcome) => outcome,
        Err(e) => {
            // JSON mode: standard output is one document whatever happens.
            if format == Format::Json {
                report::failed(&e.render())?;
            }
            return Err(e);
        }
    };
    let verifying = tracing::info_span!("verify").entered();
    let judgement = outcome::judge(&plan, outcome.final_value);
    drop(verifying);
    for w in outcome.failed_workers() {
        eprintln!("runner: worker {} (pid {}) failed: exit {}", w.index, w.pid, w.exit);
    }
    let reporting = tracing::info_span!("report").entered();
    let report = RunReport {
        plan: &plan,
        outcome: &outcome,
        judgement: &judgement,
        wall_seconds: started.elapsed().as_secs_f64(),
        provenance: Provenance { file_sha256: sha256, started_at },
    };
    report::run(&report, format)?;
    drop(reporting);
    if let (Some(file), Some(path)) = (trace_file, &watch.trace) {
        report::trace(file, path, &report, origin, &watch)?;
    }
    Ok(outcome::exit_code(&outcome, &judgement))
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
        Ok((plan, _)) => {
            report::plan(&plan, format)?;
            Ok(exit::OK)
        }
        Err(diags) => {
            report::invalid(&diags, format)?;
            Ok(exit::INVALID)
        }
    }
}

fn schema() -> Result<i32, Error> {
    let text = serde_json::to_string_pretty(&spec::schema()).map_err(|e| Error::Output(e.to_string()))?;
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").map_err(|e| Error::Output(format!("standard output: {e}")))?;
    Ok(exit::OK)
}
