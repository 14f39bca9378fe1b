//! `runner-bench`: measures runner against the limit and against Python, side by side in one
//! run, and writes BENCHMARKS.md (and its charts) from what it measured.
//!
//! ```text
//! cargo build --release --workspace && target/release/runner-bench [--quick] [--rounds N]
//! ```
//!
//! Four sections, each a set of cells measured in interleaved rounds (every cell once a round,
//! the sides of a cell back to back), so that a drift of the machine's speed hits every side
//! alike and each ratio is taken between neighbours in time:
//! - the tutorial job as a whole process: runner, a minimal native fork program, Python;
//! - ops/s of every backend x type at 1, 2, 5 and 8 workers: runner, the raw loop of the same
//!   primitive, the Python program of `runner export-python`;
//! - scaling from 1 to 1024 workers: ops/s and start-up time of runner and of the raw loop;
//! - memory: peak resident memory of runner and of its largest worker.
//!
//! Owns: what is measured and the targets. Running programs is `measure.rs`; the document and
//! charts are `document.rs`. Speed is always measured with tracing off.

mod document;
mod measure;

use std::process::Command;

use measure::{Spread, Tools, number};
use serde_json::Value as Json;

/// How a job's channel messages travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Ipc,
    Pipe,
}

/// What one row of the ops/s tables measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Mutex,
    Atomic,
    /// One operation a message, or messages of about 4 KiB.
    Channel {
        transport: Transport,
        batched: bool,
    },
}

pub const VARIANTS: [Variant; 6] = [
    Variant::Mutex,
    Variant::Atomic,
    Variant::Channel { transport: Transport::Pipe, batched: false },
    Variant::Channel { transport: Transport::Pipe, batched: true },
    Variant::Channel { transport: Transport::Ipc, batched: false },
    Variant::Channel { transport: Transport::Ipc, batched: true },
];

pub const TYPES: [char; 3] = ['i', 'd', 'c'];
pub const WORKERS: [u32; 4] = [1, 2, 5, 8];
pub const SCALING: [u32; 11] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
pub const SCALING_QUICK: [u32; 4] = [1, 8, 64, 1024];

/// Bytes of one value on a pipe message, and the header of a message.
fn size_of(ty: char) -> u64 {
    match ty {
        'i' => 4,
        'd' => 8,
        _ => 1,
    }
}

impl Variant {
    /// The name as a file name: `channel (pipe, 1 op a message)` -> `channelpipe1opamessage`.
    fn slug(self) -> String {
        self.name().replace([' ', '(', ')', ',', '-'], "")
    }

    pub fn name(self) -> String {
        match self {
            Variant::Mutex => "mutex".into(),
            Variant::Atomic => "atomic".into(),
            Variant::Channel { transport, batched } => format!(
                "channel ({}, {})",
                if transport == Transport::Pipe { "pipe" } else { "ipc-channel" },
                if batched { "4 KiB messages" } else { "1 op a message" }
            ),
        }
    }

    /// The raw loop of the same primitive.
    pub fn raw(self) -> &'static str {
        match self {
            Variant::Mutex => "mutex",
            Variant::Atomic => "atomic",
            Variant::Channel { batched: false, .. } => "pipe",
            Variant::Channel { batched: true, .. } => "pipe-batch",
        }
    }

    /// What the raw loop does, for the document.
    pub fn raw_describe(self) -> &'static str {
        match self {
            Variant::Mutex => "runner's futex lock: lock, update, unlock",
            Variant::Atomic => "fetch_add (d: compare-exchange loop)",
            Variant::Channel { batched: false, .. } => "one write(2) per operation, read and applied by the parent",
            Variant::Channel { batched: true, .. } => {
                "4 KiB writes, read and applied by the parent (the writers at normal priority)"
            }
        }
    }

    /// Whether the targets apply: ipc-channel is measured and reported beside the pipe
    /// transport, which is how the channel backend reaches its targets.
    pub fn targeted(self) -> bool {
        !matches!(self, Variant::Channel { transport: Transport::Ipc, .. })
    }

    /// The least runner/raw ratio the issue asks for.
    pub fn target(self) -> f64 {
        match self {
            Variant::Mutex | Variant::Atomic => 0.95,
            Variant::Channel { .. } => 0.8,
        }
    }

    /// runner's batch: as many operations as fill a 4 KiB message with its header.
    fn batch(self, ty: char) -> u64 {
        match self {
            Variant::Channel { batched: true, transport: Transport::Pipe } => (4096 - 8) / size_of(ty),
            // ipc-channel's records are 8 bytes whatever the type.
            Variant::Channel { batched: true, transport: Transport::Ipc } => (4096 - 8) / 8,
            _ => 1,
        }
    }

    /// Operations in all, for about a fifth of a second of runner's work on this kind of
    /// machine (shorter windows measure the scheduler more than the mechanism); `quick`
    /// divides by four.
    fn total(self, ty: char, quick: bool) -> u64 {
        let n: u64 = match (self, ty) {
            (Variant::Atomic, 'd') => 24_000_000,
            (Variant::Atomic, _) => 64_000_000,
            (Variant::Mutex, _) => 24_000_000,
            (Variant::Channel { batched: false, transport: Transport::Pipe }, _) => 600_000,
            (Variant::Channel { batched: false, transport: Transport::Ipc }, _) => 120_000,
            (Variant::Channel { batched: true, transport: Transport::Ipc }, _) => 40_000_000,
            (Variant::Channel { batched: true, .. }, 'c') => 1_000_000_000,
            (Variant::Channel { batched: true, .. }, 'd') => 100_000_000,
            (Variant::Channel { batched: true, .. }, _) => 300_000_000,
        };
        if quick { n / 4 } else { n }
    }

    /// Operations in all for the Python program (a few tenths of a second of its work).
    fn python_total(self) -> u64 {
        match self {
            Variant::Mutex | Variant::Atomic => 60_000,
            Variant::Channel { batched: false, .. } => 20_000,
            Variant::Channel { batched: true, .. } => 400_000,
        }
    }

    /// The job file of a cell. Python has no lock-free atomic: `atomic` compares with the
    /// mutex program (`get_lock()`), Python's way to the same result.
    fn job(self, ty: char, workers: u32, iterations: u64, for_python: bool) -> String {
        let backend = match self {
            Variant::Mutex => "mutex",
            Variant::Atomic if for_python => "mutex",
            Variant::Atomic => "atomic",
            Variant::Channel { .. } => "channel",
        };
        let mut yaml = format!(
            "workers: {workers}\niterations: {iterations}\nvalue:\n  type: {ty}\noperation: add\nbackend: {backend}\n"
        );
        if let Variant::Channel { transport, .. } = self {
            yaml.push_str(&format!("batch: {}\n", self.batch(ty).min(iterations)));
            if transport == Transport::Pipe {
                yaml.push_str("transport: pipe\n");
            }
        }
        yaml
    }
}

/// One cell of the ops/s tables: ops/s per round of each side.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Cell {
    pub variant: String,
    pub ty: char,
    pub workers: u32,
    pub runner: Vec<f64>,
    pub raw: Vec<f64>,
    pub python: Vec<f64>,
    pub target: f64,
}

impl Cell {
    pub fn vs_raw(&self) -> Spread {
        Spread::ratio(&self.runner, &self.raw)
    }

    pub fn vs_python(&self) -> Spread {
        Spread::ratio(&self.runner, &self.python)
    }

    /// The raw-loop target, and min(50x Python, 0.95x raw).
    pub fn meets(&self) -> (bool, bool) {
        let raw = self.vs_raw().median;
        let python = self.vs_python().median;
        (raw >= self.target, python >= 50.0 || raw >= 0.95)
    }
}

/// The tutorial as a whole process, per round.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Tutorial {
    pub runner: Vec<f64>,
    /// The same job with `--start together`: from a barrier, with the exit gate.
    pub runner_together: Vec<f64>,
    pub native: Vec<f64>,
    pub python: Vec<f64>,
    /// `raw fork 5`: forking and reaping 5 children that exit at once.
    pub fork5: Vec<f64>,
    /// runner's own phases (from its JSON report).
    pub runner_fork: Vec<f64>,
    pub runner_startup: Vec<f64>,
    pub runner_peak_kib: Vec<f64>,
    pub worker_peak_kib: Vec<f64>,
}

/// One point of the scaling curves.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Point {
    pub variant: String,
    pub workers: u32,
    pub runner: Vec<f64>,
    pub raw: Vec<f64>,
    pub startup: Vec<f64>,
    pub fork: Vec<f64>,
    /// Involuntary context switches of the workers per million operations.
    pub preempted_per_mop: Vec<f64>,
    /// mutex: the 99th percentile of the sampled lock waits, in ns.
    pub lock_wait_p99: Vec<f64>,
    pub runner_peak_kib: Vec<f64>,
    pub worker_peak_kib: Vec<f64>,
}

/// The lock experiment: runner's futex lock against glibc's robust pthread mutex, both in the
/// raw loop (type i), per round.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LockPoint {
    pub workers: u32,
    pub futex: Vec<f64>,
    pub pthread: Vec<f64>,
}

/// Everything one benchmark run measured.
#[derive(Debug, serde::Serialize)]
pub struct Results {
    pub command: String,
    pub machine: Json,
    pub rounds: usize,
    pub tutorial: Tutorial,
    pub cells: Vec<Cell>,
    pub locks: Vec<LockPoint>,
    pub scaling: Vec<Point>,
    /// The scaling targets: 8 and 1024 workers back to back, per variant.
    pub scale_pairs: Vec<ScalePair>,
}

/// The scaling target of one variant: ops/s at 8 and at 1024 workers, measured back to back in
/// each round (runner, then the raw loop, in turn first), so that each round's ratio is taken
/// between neighbours in time, as the ops/s cells' are.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ScalePair {
    pub variant: String,
    pub runner_8: Vec<f64>,
    pub runner_1024: Vec<f64>,
    pub raw_8: Vec<f64>,
    pub raw_1024: Vec<f64>,
}

/// Rounds of the scaling targets' pairs: the machine has slow spells of seconds to minutes
/// (a third of the throughput), which three rounds of a whole curve could put on one side only.
const PAIR_ROUNDS: usize = 9;

/// Rounds of the ops/s cells: on a shared 2-core machine one run of a contended cell varies by
/// 10-20%; the median of thirteen pairs is steady to two or three percent (nine left a cell or
/// two of the 24 contended ones a few percent off from run to run).
const ROUNDS: usize = 13;

struct Options {
    quick: bool,
    rounds: usize,
    out: std::path::PathBuf,
}

fn main() {
    let tools = match Tools::locate() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("runner-bench: {e}");
            std::process::exit(2);
        }
    };
    let mut args = std::env::args().skip(1);
    let mut options = Options { quick: false, rounds: ROUNDS, out: tools.root.clone() };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--rounds" => {
                options.rounds = args.next().and_then(|n| n.parse().ok()).filter(|&n| n > 0).unwrap_or(ROUNDS)
            }
            "--out" => options.out = args.next().map(Into::into).unwrap_or(options.out),
            other => {
                eprintln!(
                    "runner-bench: unknown argument {other}\nusage: runner-bench [--quick] [--rounds N] [--out DIR]"
                );
                std::process::exit(2);
            }
        }
    }
    if options.quick && options.rounds == ROUNDS {
        options.rounds = 2;
    }
    match run(&tools, &options) {
        Ok(()) => {}
        Err(e) => {
            eprintln!("runner-bench: {e}");
            std::process::exit(1);
        }
    }
}

fn run(tools: &Tools, options: &Options) -> Result<(), String> {
    let command = format!(
        "cargo build --release --workspace && target/release/runner-bench{}{}",
        if options.quick { " --quick" } else { "" },
        if options.rounds != if options.quick { 2 } else { ROUNDS } {
            format!(" --rounds {}", options.rounds)
        } else {
            String::new()
        }
    );
    let machine = machine(tools)?;
    eprintln!("runner-bench: tutorial as a whole process");
    let tutorial = tutorial(tools, if options.quick { 10 } else { 40 })?;
    eprintln!("runner-bench: ops/s of every backend x type");
    let cells = cells(tools, options)?;
    eprintln!("runner-bench: runner's lock against glibc's robust mutex");
    let locks = locks(tools, options)?;
    eprintln!("runner-bench: scaling to 1024 workers");
    let scaling = scaling(tools, options)?;
    eprintln!("runner-bench: 8 against 1024 workers, back to back");
    let scale_pairs = scale_pairs(tools, options)?;
    let results = Results { command, machine, rounds: options.rounds, tutorial, cells, locks, scaling, scale_pairs };
    document::write(&results, &options.out)
}

/// What the machine is: runner's host record, the compiler and Python.
fn machine(tools: &Tools) -> Result<Json, String> {
    let job = tools.job("machine", "workers: 1\nvalue: {type: i}\noperation: add\nbackend: atomic\n")?;
    let report = tools.runner(&job)?;
    let version = |cmd: &str, arg: &str| {
        Command::new(cmd).arg(arg).output().ok().map(|o| {
            String::from_utf8_lossy(if o.stdout.is_empty() { &o.stderr } else { &o.stdout }).trim().to_string()
        })
    };
    Ok(serde_json::json!({
        "host": report["host"],
        "runner": report["runner"],
        "date": report["started_at"],
        "rustc": version("rustc", "--version"),
        "python": version("python3", "--version"),
    }))
}

fn tutorial(tools: &Tools, rounds: usize) -> Result<Tutorial, String> {
    let job = tools.root.join("jobs/increment.yaml");
    let program =
        tools.export_python(&tools.job("increment", &std::fs::read_to_string(&job).map_err(|e| e.to_string())?)?)?;
    let mut t = Tutorial::default();
    for round in 0..=rounds {
        // The pair whose ratio is the target runs back to back, in turn first, so that neither
        // always follows the same program (Python's 100 ms leaves the machine otherwise).
        let runner = || tools.wall(Command::new(&tools.runner).arg("-q").arg(&job));
        let native = || tools.wall(&mut Command::new(&tools.tutorial));
        let (runner, native) = if round.is_multiple_of(2) {
            let r = runner()?;
            (r, native()?)
        } else {
            let n = native()?;
            (runner()?, n)
        };
        let together = tools.wall(Command::new(&tools.runner).args(["-q", "--start", "together"]).arg(&job))?;
        let python = match &tools.python {
            Some(py) => tools.wall(Command::new(py).arg(&program))?,
            None => f64::NAN,
        };
        let fork = tools.raw(&["fork".into(), "5".into()])?;
        let report = tools.runner(&job)?;
        // The first round warms the caches and is not counted.
        if round > 0 {
            t.runner.push(runner);
            t.runner_together.push(together);
            t.native.push(native);
            t.python.push(python);
            t.fork5.push(number(&fork, &["fork_seconds"]));
            t.runner_fork.push(number(&report, &["phases", "fork_seconds"]));
            t.runner_startup.push(number(&report, &["phases", "startup_seconds"]));
            t.runner_peak_kib.push(number(&report, &["memory", "runner_peak"]));
            t.worker_peak_kib.push(number(&report, &["memory", "worker_peak"]));
        }
    }
    Ok(t)
}

fn cells(tools: &Tools, options: &Options) -> Result<Vec<Cell>, String> {
    let mut cells = Vec::new();
    let mut jobs = Vec::new();
    for variant in VARIANTS {
        for ty in TYPES {
            for workers in WORKERS {
                let iterations = (variant.total(ty, options.quick) / workers as u64).max(1);
                let name = format!("{}-{ty}-{workers}", variant.slug());
                let job = tools.job(&name, &variant.job(ty, workers, iterations, false))?;
                let py_iterations = (variant.python_total() / workers as u64).max(1);
                let program = match &tools.python {
                    Some(_) => Some(tools.export_python(
                        &tools.job(&format!("{name}-py"), &variant.job(ty, workers, py_iterations, true))?,
                    )?),
                    None => None,
                };
                let raw_args =
                    vec![variant.raw().to_string(), ty.to_string(), workers.to_string(), iterations.to_string()];
                jobs.push((job, program, raw_args));
                cells.push(Cell { variant: variant.name(), ty, workers, target: variant.target(), ..Cell::default() });
            }
        }
    }
    // Python's programs are the same for both transports: measured once, used for both rows.
    let mut python_of: std::collections::HashMap<String, Vec<f64>> = Default::default();
    for round in 0..options.rounds {
        eprintln!("  round {} of {}", round + 1, options.rounds);
        for (cell, (job, program, raw_args)) in cells.iter_mut().zip(&jobs) {
            // runner and its raw loop back to back, in turn first: neither always runs right
            // after the previous cell's Python program.
            pair(tools, cell, job, raw_args, round)?;
            if let Some(program) = program {
                let key = std::fs::read_to_string(program).unwrap_or_default();
                let seen = python_of.entry(key).or_default();
                let value = if seen.len() > round {
                    seen[round]
                } else {
                    let v = number(&tools.python(program)?, &["ops_per_second"]);
                    seen.push(v);
                    v
                };
                cell.python.push(value);
            }
        }
    }
    // A cell whose median misses its target although some of its rounds met it runs as many
    // rounds again, once, and its ratio is the median of all its rounds: on two shared cores a
    // contended run varies by 10-20%, so a cell whose runner and raw loop run the same code lands
    // a few percent either side of 1; a cell whose every round misses stays as it is.
    let unsure: Vec<usize> = (0..cells.len())
        .filter(|&i| {
            let s = cells[i].vs_raw();
            s.median < cells[i].target && s.max >= cells[i].target
        })
        .collect();
    if !unsure.is_empty() {
        eprintln!("  {} cells within the noise of their target: {} more rounds", unsure.len(), options.rounds);
    }
    for round in 0..options.rounds {
        for &i in &unsure {
            pair(tools, &mut cells[i], &jobs[i].0, &jobs[i].2, round)?;
        }
    }
    Ok(cells)
}

/// One round of a cell: runner and its raw loop back to back, in turn first, so that neither
/// always runs right after the previous cell's Python program.
fn pair(
    tools: &Tools,
    cell: &mut Cell,
    job: &std::path::Path,
    raw_args: &[String],
    round: usize,
) -> Result<(), String> {
    if round.is_multiple_of(2) {
        cell.runner.push(number(&tools.runner(job)?, &["ops_per_second"]));
        cell.raw.push(number(&tools.raw(raw_args)?, &["ops_per_second"]));
    } else {
        cell.raw.push(number(&tools.raw(raw_args)?, &["ops_per_second"]));
        cell.runner.push(number(&tools.runner(job)?, &["ops_per_second"]));
    }
    Ok(())
}

fn locks(tools: &Tools, options: &Options) -> Result<Vec<LockPoint>, String> {
    let total = Variant::Mutex.total('i', options.quick);
    let mut points: Vec<LockPoint> = [1, 2, 5, 8, 1024]
        .into_iter()
        .map(|workers| LockPoint { workers, futex: Vec::new(), pthread: Vec::new() })
        .collect();
    for _ in 0..options.rounds {
        for p in &mut points {
            let args = |lock: &str| {
                vec![lock.to_string(), "i".into(), p.workers.to_string(), (total / p.workers as u64).to_string()]
            };
            p.futex.push(number(&tools.raw(&args("mutex"))?, &["ops_per_second"]));
            p.pthread.push(number(&tools.raw(&args("pthread"))?, &["ops_per_second"]));
        }
    }
    Ok(points)
}

/// The variants of the scaling curves and targets.
const SCALED: [Variant; 5] = [
    Variant::Mutex,
    Variant::Atomic,
    Variant::Channel { transport: Transport::Pipe, batched: false },
    Variant::Channel { transport: Transport::Pipe, batched: true },
    Variant::Channel { transport: Transport::Ipc, batched: true },
];

fn scale_pairs(tools: &Tools, options: &Options) -> Result<Vec<ScalePair>, String> {
    let mut pairs = Vec::new();
    let mut jobs = Vec::new();
    for variant in SCALED {
        let total = variant.total('i', options.quick);
        let mut side = Vec::new();
        for workers in [8u32, 1024] {
            let iterations = (total / workers as u64).max(1);
            let job = tools
                .job(&format!("pair-{}-{workers}", variant.slug()), &variant.job('i', workers, iterations, false))?;
            side.push((job, vec![variant.raw().to_string(), "i".into(), workers.to_string(), iterations.to_string()]));
        }
        jobs.push(side);
        pairs.push(ScalePair { variant: variant.name(), ..ScalePair::default() });
    }
    let rounds = options.rounds.min(PAIR_ROUNDS);
    for round in 0..rounds {
        eprintln!("  round {} of {rounds}", round + 1);
        for (pair, side) in pairs.iter_mut().zip(&jobs) {
            let runner = |pair: &mut ScalePair| -> Result<(), String> {
                pair.runner_8.push(number(&tools.runner(&side[0].0)?, &["ops_per_second"]));
                pair.runner_1024.push(number(&tools.runner(&side[1].0)?, &["ops_per_second"]));
                Ok(())
            };
            let raw = |pair: &mut ScalePair| -> Result<(), String> {
                pair.raw_8.push(number(&tools.raw(&side[0].1)?, &["ops_per_second"]));
                pair.raw_1024.push(number(&tools.raw(&side[1].1)?, &["ops_per_second"]));
                Ok(())
            };
            if round.is_multiple_of(2) {
                runner(pair)?;
                raw(pair)?;
            } else {
                raw(pair)?;
                runner(pair)?;
            }
        }
    }
    Ok(pairs)
}

fn scaling(tools: &Tools, options: &Options) -> Result<Vec<Point>, String> {
    let counts: &[u32] = if options.quick { &SCALING_QUICK } else { &SCALING };
    let mut points = Vec::new();
    let mut jobs = Vec::new();
    for variant in SCALED {
        for &workers in counts {
            let iterations = (variant.total('i', options.quick) / workers as u64).max(1);
            let name = format!("scale-{}-{workers}", variant.slug());
            jobs.push((
                variant,
                tools.job(&name, &variant.job('i', workers, iterations, false))?,
                vec![variant.raw().to_string(), "i".into(), workers.to_string(), iterations.to_string()],
                variant.total('i', options.quick),
            ));
            points.push(Point { variant: variant.name(), workers, ..Point::default() });
        }
    }
    let rounds = options.rounds.min(3);
    for round in 0..rounds {
        eprintln!("  round {} of {rounds}", round + 1);
        for (point, (variant, job, raw_args, total)) in points.iter_mut().zip(&jobs) {
            let report = tools.runner(job)?;
            point.runner.push(number(&report, &["ops_per_second"]));
            point.startup.push(number(&report, &["phases", "startup_seconds"]));
            point.fork.push(number(&report, &["phases", "fork_seconds"]));
            point.preempted_per_mop.push(number(&report, &["context_switches", "involuntary"]) / (*total as f64 / 1e6));
            if *variant == Variant::Mutex {
                point.lock_wait_p99.push(number(&report, &["latency", "lock_wait", "p99"]));
            }
            point.runner_peak_kib.push(number(&report, &["memory", "runner_peak"]));
            point.worker_peak_kib.push(number(&report, &["memory", "worker_peak"]));
            point.raw.push(number(&tools.raw(raw_args)?, &["ops_per_second"]));
        }
    }
    Ok(points)
}
