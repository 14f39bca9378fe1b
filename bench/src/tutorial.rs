//! The tutorial job as a whole process: `runner -q jobs/increment.yaml` against the C program
//! `bench/seed.c` (the limit), the Rust program `bench/src/bin/tutorial.rs` and Python's
//! multiprocessing program (`runner export-python`, started as `python3 increment.py`).
//!
//! Owns: the tutorial's rounds and what each round records (wall time, CPU time and page faults
//! of each whole process tree, runner's own phases), and the one system-call count of each
//! program under strace, taken outside the timed rounds.

use std::process::Command;

use runner_bench::count::{self, Usage};

use crate::measure::{Tools, number};

/// The tutorial as a whole process, per round. Every `*_cpu` is user + system seconds and every
/// `*_faults` minor + major page faults of the program and the children it waited for (`wait4`).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Tutorial {
    pub runner: Vec<f64>,
    pub runner_cpu: Vec<f64>,
    pub runner_faults: Vec<f64>,
    /// The same job with `--start together`: from a barrier, with the exit gate.
    pub runner_together: Vec<f64>,
    /// The C program `bench/seed.c` (`cc -O2 ... -lpthread`): the limit.
    pub c: Vec<f64>,
    pub c_cpu: Vec<f64>,
    pub c_faults: Vec<f64>,
    /// The Rust program `bench/src/bin/tutorial.rs`.
    pub native: Vec<f64>,
    pub native_cpu: Vec<f64>,
    pub native_faults: Vec<f64>,
    pub python: Vec<f64>,
    pub python_cpu: Vec<f64>,
    pub python_faults: Vec<f64>,
    /// `raw fork 5`: forking and reaping 5 children that exit at once.
    pub fork5: Vec<f64>,
    /// runner's own phases (from its JSON report).
    pub runner_fork: Vec<f64>,
    pub runner_startup: Vec<f64>,
    pub runner_peak_kib: Vec<f64>,
    pub worker_peak_kib: Vec<f64>,
    /// System calls of one run of each program, and of the process tree it forks.
    pub syscalls: Vec<Syscalls>,
    /// What `python3` is on this PATH (a pyenv shim is part of how a user starts Python).
    pub python3: Option<String>,
    /// The interpreter `python3` starts (`sys.executable`) when it is not `python3` itself
    /// (a shim or wrapper), and the program's wall time started with it directly: reported
    /// beside the target, which is Python as a user starts it.
    pub python_interpreter: Option<String>,
    pub python_direct: Vec<f64>,
}

/// One program's system calls under `strace -f -c`, or why they were not counted.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Syscalls {
    pub program: String,
    pub calls: Option<u64>,
    pub not_counted: Option<String>,
}

impl Tutorial {
    /// The count of `program` as the document gives it: a number, or why there is none.
    pub fn syscalls_of(&self, program: &str) -> String {
        match self.syscalls.iter().find(|s| s.program == program) {
            Some(Syscalls { calls: Some(n), .. }) => n.to_string(),
            Some(Syscalls { not_counted: Some(why), .. }) => format!("not counted: {why}"),
            _ => "-".into(),
        }
    }
}

fn push(usage: Usage, wall: &mut Vec<f64>, cpu: &mut Vec<f64>, faults: &mut Vec<f64>) {
    wall.push(usage.wall);
    cpu.push(usage.cpu);
    faults.push(usage.faults as f64);
}

pub fn measure(tools: &Tools, rounds: usize) -> Result<Tutorial, String> {
    let job = tools.root.join("jobs/increment.yaml");
    let program =
        tools.export_python(&tools.job("increment", &std::fs::read_to_string(&job).map_err(|e| e.to_string())?)?)?;
    let runner = || count::counted(Command::new(&tools.runner).arg("-q").arg(&job));
    let c = || count::counted(&mut Command::new(&tools.seed));
    let native = || count::counted(&mut Command::new(&tools.tutorial));
    let mut t = Tutorial { python3: which("python3"), ..Tutorial::default() };
    t.python_interpreter = interpreter(tools, t.python3.as_deref());
    let direct = |exe: &str| -> Result<f64, String> {
        let mut direct = Command::new(exe);
        direct.arg(program.file_name().unwrap_or_default());
        if let Some(dir) = program.parent() {
            direct.current_dir(dir);
        }
        Ok(count::counted(&mut direct)?.wall)
    };
    for round in 0..=rounds {
        // runner runs between the two programs its targets compare it with, so that each ratio
        // is taken between neighbours in time; C and Rust take turns before and after it.
        let (r, c, n) = if round.is_multiple_of(2) {
            let c = c()?;
            let r = runner()?;
            (r, c, native()?)
        } else {
            let n = native()?;
            let r = runner()?;
            (r, c()?, n)
        };
        let together = count::counted(Command::new(&tools.runner).args(["-q", "--start", "together"]).arg(&job))?;
        let python = match &tools.python {
            Some(_) => Some(count::counted(&mut tools.python_command(&program)?)?),
            None => None,
        };
        let python_direct = match &t.python_interpreter {
            Some(exe) => Some(direct(exe)?),
            None => None,
        };
        let fork = tools.raw(&["fork".into(), "5".into()])?;
        let report = tools.runner(&job)?;
        // The first round warms the caches and is not counted.
        if round == 0 {
            continue;
        }
        push(r, &mut t.runner, &mut t.runner_cpu, &mut t.runner_faults);
        push(c, &mut t.c, &mut t.c_cpu, &mut t.c_faults);
        push(n, &mut t.native, &mut t.native_cpu, &mut t.native_faults);
        t.runner_together.push(together.wall);
        let nan = Usage { wall: f64::NAN, cpu: f64::NAN, faults: 0 };
        push(python.unwrap_or(nan), &mut t.python, &mut t.python_cpu, &mut t.python_faults);
        t.python_direct.extend(python_direct);
        t.fork5.push(number(&fork, &["fork_seconds"]));
        t.runner_fork.push(number(&report, &["phases", "fork_seconds"]));
        t.runner_startup.push(number(&report, &["phases", "startup_seconds"]));
        t.runner_peak_kib.push(number(&report, &["memory", "runner_peak"]));
        t.worker_peak_kib.push(number(&report, &["memory", "worker_peak"]));
    }
    // System calls: once each, outside the timed rounds (strace slows what it traces).
    let summary = tools.scratch.join("strace.txt");
    let mut programs: Vec<(&str, Vec<std::ffi::OsString>)> = vec![
        ("runner", vec![tools.runner.clone().into(), "-q".into(), job.clone().into()]),
        ("c", vec![tools.seed.clone().into()]),
        ("native", vec![tools.tutorial.clone().into()]),
    ];
    if let Some(py) = &tools.python {
        programs.push(("python", vec![py.into(), program.clone().into()]));
    }
    for (name, argv) in programs {
        let counted = count::syscalls(&argv, &summary);
        if let Err(why) = &counted {
            eprintln!("runner-bench: system calls of {name} not counted: {why}");
        }
        t.syscalls.push(Syscalls {
            program: name.into(),
            calls: counted.as_ref().ok().copied(),
            not_counted: counted.err(),
        });
    }
    Ok(t)
}

/// The interpreter `python3` runs, when it is another file than `python3` on the PATH (whose
/// path is `on_path`): a shim or a wrapper, as pyenv installs.
fn interpreter(tools: &Tools, on_path: Option<&str>) -> Option<String> {
    let python = tools.python.as_deref()?;
    let out = Command::new(python).args(["-c", "import sys; print(sys.executable)"]).output().ok()?;
    let exe = String::from_utf8(out.stdout).ok()?.trim().to_string();
    let same = |a: &str, b: &str| {
        std::fs::canonicalize(a).ok().zip(std::fs::canonicalize(b).ok()).is_some_and(|(a, b)| a == b)
    };
    match on_path {
        Some(p) if !exe.is_empty() && !same(p, &exe) => Some(exe),
        _ => None,
    }
}

/// Where the PATH finds `program`.
fn which(program: &str) -> Option<String> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(program)).find(|p| p.is_file()).map(|p| p.display().to_string())
}
