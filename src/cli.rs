//! The command line: parses the arguments and hands each command to the application layer
//! (`app`), then prints what the command left for standard output, renders a failure (on
//! standard error, and in JSON mode as the one document on standard output) and exits.
//!
//! Owns: flags and subcommands (the only module that knows clap), logging's level. Does not
//! own: what a command does or decides (see `app`).

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::app::exports::Exports;
use crate::app::run::RunOptions;
use crate::app::{self, Done, Format};
use crate::error::{Error, exit};
use crate::names::BackendKind;
use crate::plan::Overrides;
use crate::report;
use crate::spec;
use crate::spec::axis::Axis;
use crate::watch::layer::{PhaseLayer, PhaseSubscriber};
use tracing_subscriber::filter::LevelFilter;

mod plain;

/// Runs a YAML job on forked worker processes that share one value through a chosen
/// synchronisation backend, and proves the final value.
#[derive(Parser, Debug)]
#[command(
    name = "runner",
    version = crate::version::long(),
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "`runner JOB` is `runner run JOB`. An override on a matrix rewrites the cells it touches: the axis it names collapses to its value, and cells that became the same job are dropped. Exit codes: 0 correct or within_bound (with `none` also lost_updates, inconclusive or no_race), or the job's expect_outcome happened; 1 wrong; 2 invalid job or usage; 3 a worker, the deadline or the set-up failed, or expect_outcome did not happen; 129 SIGHUP, 130 SIGINT, 131 SIGQUIT, 143 SIGTERM: interrupted (by the first signal; the partial report is printed)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Log what runner does on standard error (-v info; -vv debug: also each phase's duration); RUST_LOG=LEVEL or runner=LEVEL also works.
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
        /// Job files (`-` for standard input), or folders of them (each `*.yaml` file in it).
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
    /// the change in median ops/s and whether it is beyond the noise (Mann-Whitney U per cell,
    /// Holm-Bonferroni over the cells). Exit codes: 0 compared; 1 a regression beyond
    /// --fail-on-regression; 2 an unreadable report, a cell that ran a different job on the two
    /// sides (not compared), or a gate that could check no cell.
    Compare {
        /// The earlier report.
        old: String,
        /// The later report.
        new: String,
        /// Exit 1 when a cell is significantly slower by more than PCT percent (`5` or `5%`).
        #[arg(long, value_name = "PCT", value_parser = app::compare::parse_percent)]
        fail_on_regression: Option<f64>,
        #[arg(long, value_enum, default_value_t = FormatArg::Human)]
        format: FormatArg,
    },
    /// Print the equivalent Python program (multiprocessing, fork start method).
    ExportPython {
        /// The job file (`-` for standard input): one job, so on a matrix overrides that
        /// collapse every axis.
        #[arg(value_name = "JOB")]
        job: String,
        #[command(flatten)]
        overrides: OverrideArgs,
    },
    /// Run the job (one without a matrix) with runner and its Python equivalent with python3,
    /// and compare them.
    ComparePython(JobArgs),
    /// Print the shell's completion script for runner (README, "Install"): `runner completions
    /// bash > ~/.local/share/bash-completion/completions/runner`.
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print runner's manual page in roff (`runner man | man -l -`), or a command's
    /// (`runner man run`); `--dir DIR` writes them all there (README, "Install").
    Man {
        /// The command whose page to print (runner-COMMAND(1)); runner(1) without it.
        #[arg(value_name = "COMMAND")]
        command: Option<String>,
        /// Write every page (runner.1, runner-run.1, ...) into DIR, a `man1` folder.
        #[arg(long, value_name = "DIR", conflicts_with = "command")]
        dir: Option<String>,
    },
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
    /// Add every run's latency histograms in full (each non-empty bucket: ns_low, ns_high, count) to the JSON report and --export-json.
    #[arg(long)]
    histogram: bool,
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
    /// Replace the job's number of workers (on a matrix the workers axis collapses to N: the
    /// cells say what ran, cells that became the same job are dropped, a notice says so).
    #[arg(long, value_name = "N")]
    workers: Option<u64>,
    /// Replace the job's operations per worker (on a matrix its axis collapses to M).
    #[arg(long, value_name = "M")]
    iterations: Option<u64>,
    /// Replace the job's backend (on a matrix its axis collapses to BACKEND; batch and
    /// transport leave the cells of another backend).
    #[arg(long, value_name = "BACKEND", value_parser = backend_parser())]
    backend: Option<BackendKind>,
    /// Replace the job's start: `together` (at a barrier) or `forked` (each as it is forked);
    /// on a matrix its axis collapses to START.
    #[arg(long, value_name = "START", value_parser = start_parser())]
    start: Option<crate::names::Start>,
    /// Sweep KEY over the values (repeatable): adds an axis to the job's matrix, or replaces the
    /// file's axis of that key (its `include` entries for values not listed go); a job without a
    /// matrix becomes a sweep. The values read as a matrix's list in a job file: `workers=1,2,4`,
    /// `backend=mutex,atomic`, `work.inside=100ns,1us`. With --workers, --iterations, --backend
    /// or --start of the same key: a usage error.
    #[arg(long, value_name = "KEY=V1,V2,...", value_parser = Axis::parse)]
    matrix: Vec<Axis>,
    /// Replace the job's counted runs per cell (`repeat`).
    #[arg(short, long, value_name = "N")]
    repeat: Option<u64>,
    /// Replace the job's uncounted runs before them (`warmup`).
    #[arg(short, long, value_name = "K")]
    warmup: Option<u64>,
    /// Stop the workers when a run takes longer (`30s`, `500ms`, `2m`, `1h`, or seconds; at most a week).
    #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
    timeout: Option<u64>,
    /// Between SIGTERM and SIGKILL when the deadline passes (default 2s).
    #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
    grace: Option<u64>,
}

/// `--timeout 30s`: a duration in nanoseconds (a bare number is seconds), read and limited as
/// the job file's `timeout` is.
fn duration_arg(text: &str) -> Result<u64, String> {
    spec::parse_timeout(text)
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
            matrix: o.matrix,
        }
    }
}

impl From<RunArgs> for RunOptions {
    fn from(run: RunArgs) -> RunOptions {
        RunOptions {
            jobs: run.jobs,
            overrides: run.overrides.into(),
            format: run.format.into(),
            trace: run.trace,
            trace_ops: run.trace_ops,
            histogram: run.histogram,
            quiet: run.quiet,
            exports: Exports {
                json: run.export_json,
                csv: run.export_csv,
                markdown: run.export_markdown,
                plot: run.plot,
            },
        }
    }
}

const SUBCOMMANDS: [&str; 9] =
    ["run", "validate", "plan", "schema", "compare", "export-python", "compare-python", "completions", "man"];

/// `runner worker --url URL --prefix PREFIX --host N`: one host's part of a run over several
/// hosts, started by runner through the host's command (or by hand, or by a Slurm or
/// Kubernetes job: runner's README shows the command). Not listed among the commands: it
/// joins a run that a runner started.
fn worker(args: &[std::ffi::OsString]) -> i32 {
    let words: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
    let value = |flag: &str| words.iter().position(|w| *w == flag).and_then(|i| words.get(i + 1)).copied();
    let parsed = (value("--url"), value("--prefix"), value("--host").and_then(|h| h.parse::<usize>().ok()));
    let (Some(url), Some(prefix), Some(host)) = parsed else {
        crate::stderrln!(
            "usage: runner worker --url URL --prefix PREFIX --host N (started by runner for a job with hosts)"
        );
        return exit::INVALID;
    };
    match app::worker::worker(url, prefix, host) {
        Ok(()) => exit::OK,
        Err(e) => {
            crate::stderrln!("runner worker: {e}");
            exit::FAILED
        }
    }
}

/// Parses the command line, runs it and returns the exit code.
pub fn main() -> i32 {
    // Started with standard output closed (`>&-`): whatever runner prints would go to the
    // `/dev/null` the runtime put there, and the report would be lost without a word.
    if crate::stdio::at_start().stdout_closed {
        // Lost too if standard error was closed as well; the exit code still says it.
        crate::stderrln!(
            "error: cannot write output: standard output is closed: the report would be lost (to discard it, send it to /dev/null)"
        );
        return exit::INVALID;
    }
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "worker") {
        return worker(&args[2..]);
    }
    if let Some(code) = misspelt_subcommand(&args) {
        return code;
    }
    let command = args.get(1).and_then(|a| a.to_str()).is_some_and(|a| SUBCOMMANDS.contains(&a) || a == "help");
    let asks = args.iter().skip(1).any(|a| matches!(a.to_str(), Some("-h" | "--help" | "-V" | "--version")));
    if !command && !asks {
        if let Some(run_args) = plain::plain(&args) {
            logging(0);
            return run(run_args);
        }
        if let Ok(cli) = RunCli::try_parse_from(&args) {
            logging(cli.verbose);
            return run(cli.run);
        }
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { exit::INVALID } else { exit::OK };
        }
    };
    logging(cli.verbose);
    let (result, format) = match cli.command {
        Some(Command::Run(args)) => return run(args),
        None => return run(cli.run),
        Some(Command::Validate { files, format }) => (app::validate::validate(&files, format.into()), format),
        Some(Command::Plan(JobArgs { job, overrides, format })) => {
            (overrides_of(overrides).and_then(|o| app::validate::plan(&job, &o, format.into())), format)
        }
        Some(Command::Schema) => (app::validate::schema(), FormatArg::Human),
        Some(Command::Compare { old, new, fail_on_regression, format }) => {
            (app::compare::compare(&old, &new, fail_on_regression, format.into()), format)
        }
        Some(Command::ExportPython { job, overrides }) => {
            (overrides_of(overrides).and_then(|o| app::python::export_python(&job, &o)), FormatArg::Human)
        }
        Some(Command::ComparePython(JobArgs { job, overrides, format })) => {
            (overrides_of(overrides).and_then(|o| app::python::compare_python(&job, &o, format.into())), format)
        }
        Some(Command::Completions { shell }) => (completions(shell), FormatArg::Human),
        Some(Command::Man { command, dir }) => (man(command, dir), FormatArg::Human),
    };
    finish(result, format.into())
}

/// `runner JOB...` and `runner run JOB...`.
fn run(args: RunArgs) -> i32 {
    let options = RunOptions::from(args);
    let format = options.format;
    if let Some(conflict) = options.overrides.conflict() {
        return finish(Err(Error::Usage(conflict)), format);
    }
    finish(app::catalog::run_jobs(&options), format)
}

/// The overrides given, or the usage error of two that contradict each other.
fn overrides_of(args: OverrideArgs) -> Result<Overrides, Error> {
    let overrides = Overrides::from(args);
    match overrides.conflict() {
        Some(conflict) => Err(Error::Usage(conflict)),
        None => Ok(overrides),
    }
}

/// `runner completions SHELL`: the script clap_complete writes from [`Cli`] itself.
fn completions(shell: clap_complete::Shell) -> Result<Done, Error> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "runner", &mut script);
    report::emit(&String::from_utf8_lossy(&script))?;
    Ok(Done::code(exit::OK))
}

/// `runner man [COMMAND]`: runner(1), or runner-COMMAND(1), in roff, written by clap_mangen
/// from [`Cli`] itself; with `--dir DIR`, every page written there as `runner.1`,
/// `runner-run.1`...
fn man(command: Option<String>, dir: Option<String>) -> Result<Done, Error> {
    let mut cli = Cli::command().disable_help_subcommand(true);
    if let Some(dir) = dir {
        clap_mangen::generate_to(cli, &dir).map_err(|e| Error::Output(format!("{dir}: {e}")))?;
        return Ok(Done::code(exit::OK));
    }
    cli.build();
    let page = match &command {
        None => cli,
        Some(name) => cli.get_subcommands().find(|s| s.get_name() == name).cloned().ok_or_else(|| {
            Error::Usage(format!("runner man {name}: no such command; the commands: {}", SUBCOMMANDS.join(", ")))
        })?,
    };
    let mut roff = Vec::new();
    clap_mangen::Man::new(page).render(&mut roff).map_err(|e| Error::Output(format!("the manual page: {e}")))?;
    report::emit(&String::from_utf8_lossy(&roff))?;
    Ok(Done::code(exit::OK))
}

/// The one way out: what the command left for standard output printed, or its failure
/// rendered in the command's format; the exit code.
fn finish(result: Result<Done, Error>, format: Format) -> i32 {
    let done = result.unwrap_or_else(|e| Done::failed(&e, format));
    let code = done.code;
    // A report that could not be written does not hide a signal's code.
    let code = done.print().unwrap_or_else(|e| {
        crate::stderr!("{}", e.render());
        e.exit_code().max(code)
    });
    // A signal that came after the runs (while the report or an export was written) is still
    // the way runner ends: its code, as if it had come during a run.
    match crate::exec::interrupt::Interrupts::armed().and_then(|i| i.caught()) {
        Some(signal) => code.max(signal.exit_code()),
        None => code,
    }
}

/// `runner valdate x.yaml`: the first word is no file but close to a command's name.
fn misspelt_subcommand(args: &[std::ffi::OsString]) -> Option<i32> {
    let first = args.get(1)?.to_str()?;
    if first.starts_with('-') || SUBCOMMANDS.contains(&first) || std::path::Path::new(first).exists() {
        return None;
    }
    let suggestion = spec::did_you_mean(first, SUBCOMMANDS)?;
    crate::stderrln!("error: '{first}' is neither a job file nor a command; did you mean \"{suggestion}\"?");
    Some(exit::INVALID)
}

/// Installs the `tracing` subscriber: the phases always (they feed the trace file; without a
/// log, through [`PhaseSubscriber`] alone, which costs next to nothing to set up), and human
/// logs on standard error with `-v` (info: what runner does), `-vv` (debug: also how long each
/// phase took, and details; more `v`s are the same) or `RUST_LOG` (see [`rust_log`]).
/// Neither starts a thread. A level, not `tracing-subscriber`'s directive filter: that one
/// brings a regex engine, a seventh of the binary that every run and every worker maps in.
fn logging(verbose: u8) {
    use tracing_subscriber::fmt::format::FmtSpan;
    use tracing_subscriber::prelude::*;
    let (from_env, ignored) = std::env::var("RUST_LOG").map_or((LevelFilter::OFF, Vec::new()), |l| rust_log(&l));
    for directive in ignored {
        crate::stderrln!(
            "runner: RUST_LOG: ignored {directive:?}: runner takes a level (off, error, warn, info, debug, trace) \
             or runner=LEVEL"
        );
    }
    let from_flag = match verbose {
        0 => LevelFilter::OFF,
        1 => LevelFilter::INFO,
        _ => LevelFilter::DEBUG,
    };
    let filter = from_flag.max(from_env);
    if filter == LevelFilter::OFF {
        // No log: the phases alone, without the registry the log layer needs.
        let _ = tracing::subscriber::set_global_default(PhaseSubscriber::default());
        return;
    }
    // At debug, each phase's span says how long it took when it closes.
    let spans = if filter >= LevelFilter::DEBUG { FmtSpan::CLOSE } else { FmtSpan::NONE };
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(|| crate::exec::stderr::Writer)
        .with_target(false)
        .with_span_events(spans)
        .with_filter(filter);
    let _ = tracing_subscriber::registry().with(PhaseLayer).with(logs).try_init();
}

/// `RUST_LOG` as runner reads it: comma-separated directives, each a level (`debug`) or
/// `runner=LEVEL`; the most verbose one counts. The directives it cannot honour (another
/// target's, a span filter) are returned, to be warned about rather than silently dropped.
fn rust_log(value: &str) -> (LevelFilter, Vec<String>) {
    let mut level = LevelFilter::OFF;
    let mut ignored = Vec::new();
    for directive in value.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let wanted = directive.strip_prefix("runner=").unwrap_or(directive);
        match wanted.parse::<LevelFilter>() {
            Ok(l) => level = level.max(l),
            Err(_) => ignored.push(directive.to_string()),
        }
    }
    (level, ignored)
}
