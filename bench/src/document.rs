//! BENCHMARKS.md, its two charts (bench/scaling.svg, bench/startup.svg) and every sample behind
//! them (bench/results.json), written from one run's [`Results`].
//!
//! Owns: the targets' verdicts as stated, tables, number formats. Pure formatting: the only
//! I/O is writing the four files at the end.

use std::fmt::Write as _;
use std::path::Path;

use runner::report::plot::{Chart, Point, Series, svg};

use crate::format::{mark, rate, ratio};
use crate::measure::Spread;
use crate::{Cell, Results};

/// The largest peak a worker may reach and still be "within a few MiB".
const WORKER_PEAK_LIMIT_KIB: f64 = 8.0 * 1024.0;

pub fn write(r: &Results, dir: &Path) -> Result<(), String> {
    let bench = dir.join("bench");
    std::fs::create_dir_all(&bench).map_err(|e| format!("cannot create {}: {e}", bench.display()))?;
    let put = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    put("bench/scaling.svg", svg(&scaling_chart(r, false)))?;
    put("bench/startup.svg", svg(&scaling_chart(r, true)))?;
    put("bench/results.json", serde_json::to_string_pretty(r).map_err(|e| e.to_string())? + "\n")?;
    put("BENCHMARKS.md", markdown(r))?;
    eprintln!("runner-bench: wrote {}", dir.join("BENCHMARKS.md").display());
    Ok(())
}

fn ms(s: Spread) -> String {
    if s.n == 0 { "-".into() } else { format!("{:.2} [{:.2}-{:.2}]", s.median * 1e3, s.min * 1e3, s.max * 1e3) }
}

/// The verdict of a target on a median of rounds: "not measured" when there were none.
fn judge(s: Spread, ok: impl Fn(f64) -> bool) -> &'static str {
    if s.n == 0 { "not measured" } else { mark(ok(s.median)) }
}

/// A count's median [min-max] over the rounds, as whole numbers.
fn counts(s: Spread) -> String {
    if s.n == 0 { "-".into() } else { format!("{:.0} [{:.0}-{:.0}]", s.median, s.min, s.max) }
}

/// The scaling target of a variant: runner at 1024 workers over runner at 8, and the same for
/// the raw loop, as per-round ratios of the back-to-back pairs.
fn scale_ratio(r: &Results, variant: &str) -> Option<(Spread, Spread, bool)> {
    let p = r.scale_pairs.iter().find(|p| p.variant == variant && !p.runner_8.is_empty())?;
    Some((Spread::ratio(&p.runner_1024, &p.runner_8), Spread::ratio(&p.raw_1024, &p.raw_8), p.targeted))
}

fn markdown(r: &Results) -> String {
    let mut s = String::new();
    let m = &r.machine;
    let _ = writeln!(s, "# Benchmarks\n");
    let _ = writeln!(
        s,
        "Written by `{}` from what it measured in one run; do not edit by hand (the figures, the charts \
         `bench/scaling.svg` and `bench/startup.svg`, and every sample in `bench/results.json` come from \
         the same run).\n",
        r.command
    );
    let _ = writeln!(
        s,
        "Machine: {} ({} cores), {}; {}; {}; runner {} (commit {}); run started {}.\n",
        m["host"]["cpu"].as_str().unwrap_or("?"),
        m["host"]["cores"],
        m["host"]["kernel"].as_str().unwrap_or("?"),
        m["rustc"].as_str().unwrap_or("rustc ?"),
        m["python"].as_str().unwrap_or("no Python"),
        m["runner"]["version"].as_str().unwrap_or("?"),
        m["runner"]["commit"].as_str().unwrap_or("?"),
        m["date"].as_str().unwrap_or("?"),
    );
    let _ = writeln!(
        s,
        "How to read it: every cell was measured in {} interleaved rounds (each round runs every cell once, \
         the sides of a cell back to back), so a ratio is taken between neighbours in time; ratios are given \
         as median [min-max] over the rounds, absolute figures as medians. ops/s is counted the same way on \
         every side: operations over the window from the release of the start barrier to the last worker's \
         end (channel: to the owner's application of the last operation). Tracing is off. The machine is \
         shared: read absolute figures as ranks, ratios as the result.\n",
        r.rounds
    );

    if r.sections.len() < crate::SECTIONS.len() {
        let _ = writeln!(
            s,
            "**A partial run** (`--only {}`): the other sections were not measured; this is not the benchmark.\n",
            r.sections.join(",")
        );
    }

    // Targets first.
    let t = &r.tutorial;
    let _ = writeln!(s, "## Targets\n");
    let _ = writeln!(s, "| target | measured | |\n|---|---|---|");
    tutorial_targets(&mut s, t);
    for &v in &r.variants {
        let name = v.name();
        let mine: Vec<&Cell> = r.cells.iter().filter(|c| c.variant == name).collect();
        if mine.is_empty() {
            continue;
        }
        let worst = mine.iter().map(|c| c.vs_raw().median).fold(f64::INFINITY, f64::min);
        let met = mine.iter().filter(|c| c.meets().0).count();
        let both = mine.iter().filter(|c| c.meets().1).count();
        if !v.targeted() {
            let _ = writeln!(
                s,
                "| {name}: reported beside the default channel, no target (runner / raw loop >= {} in {met} of {} cells, lowest median {worst:.2}; >= min(50x Python, 0.95x raw) in {both}) | - | reported |",
                v.target(),
                mine.len(),
            );
            continue;
        }
        let _ = writeln!(
            s,
            "| {name}: runner / raw loop >= {} in every cell | lowest median {:.2}; {met} of {} cells | {} |",
            v.target(),
            worst,
            mine.len(),
            mark(met == mine.len())
        );
        let _ = writeln!(
            s,
            "| {name}: >= min(50x Python, 0.95x raw) in every cell | {both} of {} cells | {} |",
            mine.len(),
            mark(both == mine.len())
        );
    }
    let mut variants: Vec<&str> = r.scaling.iter().map(|p| p.variant.as_str()).collect();
    variants.dedup();
    for v in &variants {
        if let Some((runner, raw, targeted)) = scale_ratio(r, v) {
            let _ = writeln!(
                s,
                "| {v}: ops/s at 1024 workers >= 0.5x at 8 | {} (raw loop: {}; {} rounds of 8 and 1024 workers back to back) | {} |",
                ratio(runner),
                ratio(raw),
                runner.n,
                if targeted { mark(runner.median >= 0.5) } else { "reported" }
            );
        }
    }
    let peaks: Vec<f64> =
        r.scaling.iter().flat_map(|p| p.worker_peak_kib.iter()).chain(&t.worker_peak_kib).copied().collect();
    let worker_peak = peaks.iter().copied().fold(0.0, f64::max);
    crate::redis::targets(&mut s, &r.redis);
    let _ = writeln!(
        s,
        "| a worker's peak resident memory within a few MiB (<= {:.0} MiB), in every run | largest {:.1} MiB | {} |\n",
        WORKER_PEAK_LIMIT_KIB / 1024.0,
        worker_peak / 1024.0,
        if peaks.is_empty() { "not measured" } else { mark(worker_peak <= WORKER_PEAK_LIMIT_KIB) }
    );

    tutorial_section(&mut s, t);

    // 2. ops/s.
    let _ = writeln!(s, "## 2. Operations per second: runner, the raw loop, Python\n");
    let _ = writeln!(
        s,
        "Each row: one job (`add` on a value of the type) at 1, 2, 5 and 8 workers. The raw loop \
         (`bench/src/bin/raw.rs`) runs the same primitive in forked processes with runner's shared layout \
         and start barrier, no timing inside the loop and nothing else around it. Python runs the program \
         of `runner export-python` for the same job with fewer operations (it is slower); Python has no \
         lock-free atomic, so `atomic` is compared with its lock (`get_lock()`), and a channel with its \
         `Queue` (the same program for both transports). The default channel is a job that names no \
         `transport` (what a user who writes `backend: channel` gets), its rows named by the transport \
         runner's report says it ran on ({}); the other transport is named in its jobs. A contended mutex cell \
         and a contended atomic `d` cell (a compare-exchange loop), 2 workers or more, ran twice as many \
         rounds again after the interleaved ones, decided beforehand: their rounds spread far wider than \
         the others'. A cell whose median then missed its target while some \
         of its rounds met it ran the interleaved rounds' number again, once (each cell's rounds are given \
         in the table); its ratio to the raw loop is the median of all its rounds, its ratio to Python that \
         of the interleaved rounds.\n",
        r.default_transport
    );
    for &v in &r.variants {
        let name = v.name();
        let mine: Vec<&Cell> = r.cells.iter().filter(|c| c.variant == name).collect();
        if mine.is_empty() {
            continue;
        }
        let target = if v.targeted() {
            format!("Target: runner / raw >= {}.", v.target())
        } else {
            format!("Reported beside the default channel, no target (the column compares with {}).", v.target())
        };
        let _ = writeln!(s, "### {name}\n\nRaw loop: {}. {target}\n", v.raw_describe());
        let _ = writeln!(
            s,
            "| type | workers | runner ops/s | raw ops/s | runner / raw (rounds) | Python ops/s | runner / Python | |\n|---|---|---|---|---|---|---|---|"
        );
        for c in mine {
            let (raw_ok, both_ok) = c.meets();
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} ({}) | {} | {} | {} |",
                c.ty,
                c.workers,
                rate(Spread::of(&c.runner).median),
                rate(Spread::of(&c.raw).median),
                ratio(c.vs_raw()),
                c.runner.len(),
                rate(Spread::of(&c.python).median),
                ratio(c.vs_python()),
                if raw_ok && both_ok { "met" } else { "NOT met" }
            );
        }
        let _ = writeln!(s);
    }

    // The lock.
    let _ = writeln!(s, "### The lock: runner's futex lock against glibc's robust mutex\n");
    let _ = writeln!(
        s,
        "The mutex backend's lock is runner's own (`src/sync/mutex/lock.rs`: one compare-exchange when free, \
         a short spin, then a futex wait; once runner has reaped a holder that died, the next locker takes \
         its lock over). glibc's robust process-shared mutex, which it replaced, in the same raw loop \
         (`raw pthread`), type i; each lock shares its cache line with the value it guards:\n"
    );
    let _ = writeln!(s, "| workers | futex lock ops/s | glibc robust mutex ops/s | futex / glibc |\n|---|---|---|---|");
    for p in &r.locks {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            p.workers,
            rate(Spread::of(&p.futex).median),
            rate(Spread::of(&p.pthread).median),
            ratio(Spread::ratio(&p.futex, &p.pthread))
        );
    }
    let _ = writeln!(s);

    // 3. Scaling.
    let _ = writeln!(s, "## 3. From 1 to 1024 workers\n");
    let _ = writeln!(
        s,
        "The same number of operations in all at every worker count (type i), so more workers means fewer \
         operations each. The curves come from 3 rounds; the scaling targets above from rounds of their own, \
         in which each variant runs at 8 and at 1024 workers back to back, runner and the raw loop in turn \
         first, the ratio taken within each round. Start-up is runner's report's `phases.startup_seconds` (set-up, forks, every worker \
         at the barrier). \"Preempted\" counts the workers' involuntary context switches (the kernel's count \
         for reaped children) per million operations: a lock holder switched out stalls every waiter, which \
         is what limits the mutex at high worker counts. Lock wait p99 is the 99th percentile of the \
         sampled waits for the lock. With 4 KiB messages runner's pipe channel runs its workers at idle \
         priority, so that the one process that reads and applies every message keeps a core; the raw \
         loop's writers run at normal priority (at idle priority its blocking reader, woken by each write, \
         took the CPU from the one writer at every message: 434 M ops/s against runner's 1.15 G at 1 worker \
         in one full run).\n"
    );
    let _ = writeln!(s, "![ops/s from 1 to 1024 workers](bench/scaling.svg)\n");
    let _ = writeln!(s, "![start-up from 1 to 1024 workers](bench/startup.svg)\n");
    let _ = writeln!(
        s,
        "| backend | workers | runner ops/s | raw ops/s | runner / raw | start-up ms | fork ms | preempted / M ops | lock wait p99 | worker peak MiB |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    for p in &r.scaling {
        let wait = Spread::of(&p.lock_wait_p99);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.0} | {} | {:.1} |",
            p.variant,
            p.workers,
            rate(Spread::of(&p.runner).median),
            rate(Spread::of(&p.raw).median),
            ratio(Spread::ratio(&p.runner, &p.raw)),
            Spread::of(&p.startup).median * 1e3,
            Spread::of(&p.fork).median * 1e3,
            Spread::of(&p.preempted_per_mop).median,
            if wait.n == 0 { "-".to_string() } else { format!("{:.0} ns", wait.median) },
            Spread::of(&p.worker_peak_kib).median / 1024.0,
        );
    }
    let _ = writeln!(s);

    // 4. Memory.
    let runner_peak = r.scaling.iter().flat_map(|p| p.runner_peak_kib.iter()).copied().fold(0.0, f64::max);
    let _ = writeln!(s, "## 4. Memory\n");
    let _ = writeln!(
        s,
        "Peak resident memory as the kernel counts it (`ru_maxrss`), from runner's report: the tutorial job: \
         runner {:.1} MiB, largest worker {:.1} MiB; over every scaling run (up to 1024 workers): runner at \
         most {:.1} MiB, a worker at most {:.1} MiB. Every run's report carries both (`memory`).",
        Spread::of(&t.runner_peak_kib).median / 1024.0,
        Spread::of(&t.worker_peak_kib).median / 1024.0,
        runner_peak / 1024.0,
        worker_peak / 1024.0
    );
    crate::redis::section(&mut s, &r.redis);
    s
}

/// ops/s (or start-up seconds) against workers, runner's lines solid and the raw loops' beside.
fn scaling_chart(r: &Results, startup: bool) -> Chart {
    let mut variants: Vec<&str> = r.scaling.iter().map(|p| p.variant.as_str()).collect();
    variants.dedup();
    let mut series = Vec::new();
    for (colour, v) in variants.into_iter().enumerate() {
        let points = |f: &dyn Fn(&crate::Point) -> f64| -> Vec<Point> {
            r.scaling.iter().filter(|p| p.variant == v).map(|p| Point::at(p.workers as f64, f(p))).collect()
        };
        let line = |name: String, shape: usize, points: Vec<Point>| Series { name, colour, shape, points };
        if startup {
            series.push(line(v.to_string(), 0, points(&|p| Spread::of(&p.startup).median * 1e3)));
        } else {
            series.push(line(format!("runner {v}"), 0, points(&|p| Spread::of(&p.runner).median)));
            series.push(line(format!("raw {v}"), 1, points(&|p| Spread::of(&p.raw).median)));
        }
    }
    Chart {
        title: if startup { "runner start-up by workers".into() } else { "ops/s by workers (type i)".into() },
        x_label: "workers".into(),
        y_label: if startup { "start-up (ms)".into() } else { "operations per second".into() },
        x_categories: None,
        series,
        ..Chart::default()
    }
}

/// The tutorial's targets: within 1.2x of the C program in wall time and 1.3x in CPU time,
/// Python at least 40x slower (and the older targets, against the Rust program and Python at 30x,
/// which still hold).
fn tutorial_targets(s: &mut String, t: &crate::Tutorial) {
    let c = Spread::ratio(&t.runner, &t.c);
    let cpu = Spread::ratio(&t.runner_cpu, &t.c_cpu);
    let native = Spread::ratio(&t.runner, &t.native);
    let python = Spread::ratio(&t.python, &t.runner);
    // (what, measured, limit, whether the limit is a most)
    let rows = [
        ("runner / C program (`bench/seed.c`) <= 1.2, wall time", c, 1.2, true),
        ("runner / C program <= 1.3, CPU time (user + system, whole process tree)", cpu, 1.3, true),
        ("runner / native Rust program <= 1.5, wall time", native, 1.5, true),
        ("Python / runner >= 40, wall time", python, 40.0, false),
        ("Python / runner >= 30, wall time", python, 30.0, false),
    ];
    for (what, spread, limit, at_most) in rows {
        let verdict = judge(spread, |m| if at_most { m <= limit } else { m >= limit });
        let _ = writeln!(s, "| tutorial job, whole process: {what} | {} | {verdict} |", ratio(spread));
    }
}

/// Section 1: the tutorial job as a whole process.
fn tutorial_section(s: &mut String, t: &crate::Tutorial) {
    let _ = writeln!(s, "## 1. The tutorial job as a whole process\n");
    let _ = writeln!(
        s,
        "`runner -q jobs/increment.yaml` (5 workers, each adds 1 under the lock; read, plan, fork, check, report) \
         against the C program `bench/seed.c` (built by `bench/build.rs` with `cc -O2 seed.c -o seed -lpthread`: \
         maps a page, initialises a robust process-shared pthread mutex, forks 5 processes that each lock, add 1, \
         unlock; reaps them and prints the value; no job file, no check beyond the value, no report), the same \
         program in Rust (`bench/src/bin/tutorial.rs`), and the Python program `runner export-python \
         jobs/increment.yaml` writes, started as a user starts it: `python3 increment.py` ({}). The job starts its \
         workers as the others do, each as soon as it is forked (`start: forked`); the row `--start together` is \
         the same job from a start barrier with the exit gate, runner's default for experiments, given for \
         comparison and not targeted. {} rounds after one not counted; in each, runner runs between the C and \
         the Rust program (which take turns first), so each ratio is taken between neighbours in time. Wall \
         time is from spawn to reap; CPU time (user + system) and page faults (minor + major) are the kernel's \
         counts for the whole process tree (`wait4`'s rusage: each program waits for its children). System \
         calls are counted once per program, outside the timed rounds, with `strace -f -c` (every process of \
         the tree).\n",
        match &t.python3 {
            Some(p) => format!("`python3` is `{p}` on this machine's PATH"),
            None => "no `python3` on this machine's PATH".into(),
        },
        t.runner.len()
    );
    let _ = writeln!(s, "| program | wall ms | CPU ms | page faults | system calls |\n|---|---|---|---|---|");
    let row = |s: &mut String, name: &str, wall: &[f64], cpu: &[f64], faults: &[f64], key: &str| {
        let _ = writeln!(
            s,
            "| {name} | {} | {} | {} | {} |",
            ms(Spread::of(wall)),
            ms(Spread::of(cpu)),
            counts(Spread::of(faults)),
            t.syscalls_of(key)
        );
    };
    row(s, "runner", &t.runner, &t.runner_cpu, &t.runner_faults, "runner");
    row(s, "C program (`bench/seed.c`)", &t.c, &t.c_cpu, &t.c_faults, "c");
    row(s, "native Rust program", &t.native, &t.native_cpu, &t.native_faults, "native");
    row(s, "Python multiprocessing (`python3 increment.py`)", &t.python, &t.python_cpu, &t.python_faults, "python");
    if let Some(exe) = &t.python_interpreter {
        let _ = writeln!(
            s,
            "| Python, the interpreter `python3` starts, run directly (`{exe} increment.py`; not targeted) | {} | | | |",
            ms(Spread::of(&t.python_direct))
        );
    }
    let _ = writeln!(s, "| runner `--start together` | {} | | | |\n", ms(Spread::of(&t.runner_together)));
    let _ = writeln!(s, "Per round, median [min-max]:\n");
    let _ = writeln!(s, "| ratio | wall time | CPU time |\n|---|---|---|");
    let _ = writeln!(
        s,
        "| runner / C program | {} | {} |",
        ratio(Spread::ratio(&t.runner, &t.c)),
        ratio(Spread::ratio(&t.runner_cpu, &t.c_cpu))
    );
    let _ = writeln!(
        s,
        "| runner / native Rust program | {} | {} |",
        ratio(Spread::ratio(&t.runner, &t.native)),
        ratio(Spread::ratio(&t.runner_cpu, &t.native_cpu))
    );
    let _ = writeln!(
        s,
        "| native Rust program / C program | {} | {} |",
        ratio(Spread::ratio(&t.native, &t.c)),
        ratio(Spread::ratio(&t.native_cpu, &t.c_cpu))
    );
    let _ =
        writeln!(s, "| runner `--start together` / C program | {} | |", ratio(Spread::ratio(&t.runner_together, &t.c)));
    let _ = writeln!(
        s,
        "| Python / runner | {} | {} |",
        ratio(Spread::ratio(&t.python, &t.runner)),
        ratio(Spread::ratio(&t.python_cpu, &t.runner_cpu))
    );
    if t.python_interpreter.is_some() {
        let _ = writeln!(
            s,
            "| Python with its interpreter run directly / runner (not targeted) | {} | |",
            ratio(Spread::ratio(&t.python_direct, &t.runner))
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Fork on its own (`raw fork 5`: fork 5 children that exit at once): {} ms for the 5 forks; runner's \
         own fork phase (its report's `phases.fork_seconds`): {} ms; runner's start-up, set-up and forks \
         (`phases.startup_seconds`): {} ms.\n",
        ms(Spread::of(&t.fork5)),
        ms(Spread::of(&t.runner_fork)),
        ms(Spread::of(&t.runner_startup))
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tutorial::{Syscalls, Tutorial};

    #[test]
    fn the_tutorial_targets_are_judged_on_ratios_within_rounds() {
        let t = Tutorial {
            runner: vec![1.1e-3, 1.5e-3, 1.3e-3],
            c: vec![1.0e-3, 1.0e-3, 1.0e-3],
            native: vec![1.0e-3, 1.0e-3, 1.0e-3],
            runner_cpu: vec![1.2e-3, 1.2e-3, 1.2e-3],
            c_cpu: vec![1.0e-3, 1.0e-3, 1.0e-3],
            python: vec![0.1, 0.1, 0.1],
            ..Tutorial::default()
        };
        let mut s = String::new();
        tutorial_targets(&mut s, &t);
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(
            lines[0],
            "| tutorial job, whole process: runner / C program (`bench/seed.c`) <= 1.2, wall time | 1.30 [1.10-1.50] | NOT met |"
        );
        assert!(lines[1].ends_with("| 1.20 [1.20-1.20] | met |"), "{}", lines[1]);
        assert!(lines[2].ends_with("| 1.30 [1.10-1.50] | met |"), "{}", lines[2]);
        assert!(
            lines[3].contains("Python / runner >= 40") && lines[3].ends_with("| 76.9 [66.7-90.9] | met |"),
            "{}",
            lines[3]
        );
        // Nothing measured: said, not judged.
        let mut s = String::new();
        tutorial_targets(&mut s, &Tutorial::default());
        assert!(s.lines().all(|l| l.ends_with("| - | not measured |")), "{s}");
    }

    #[test]
    fn system_calls_are_a_count_or_why_not() {
        let t = Tutorial {
            syscalls: vec![
                Syscalls { program: "c".into(), calls: Some(51), not_counted: None },
                Syscalls { program: "runner".into(), calls: None, not_counted: Some("strace is not installed".into()) },
            ],
            ..Tutorial::default()
        };
        assert_eq!(t.syscalls_of("c"), "51");
        assert_eq!(t.syscalls_of("runner"), "not counted: strace is not installed");
        assert_eq!(t.syscalls_of("python"), "-");
        assert_eq!(counts(Spread::of(&[170.0, 166.0, 176.0])), "170 [166-176]");
        assert_eq!(counts(Spread::of(&[])), "-");
    }
}
