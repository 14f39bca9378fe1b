//! CPU accounting and the latency histograms in full, on real runs: each worker's CPU time and
//! context switches from the `wait4` that reaped it, their sum, runner's own apart, held to the
//! kernel's count for the whole process tree; the `--histogram` buckets against the samples
//! they hold; the CSV's numbers and units.

mod common;

use std::process::{Command, Stdio};

use common::{assert_valid, job_file, runner, runner_bin, validator};
use serde_json::Value;

/// What the kernel says of a whole process tree: runner's own usage plus every child's it reaped.
struct Tree {
    user_us: u64,
    system_us: u64,
    voluntary: u64,
    involuntary: u64,
}

/// Runs runner with `args`, reaps it with `wait4` (its usage counts the children it reaped:
/// the workers) and returns its JSON document and that usage.
// Reaped with `wait4`, for its usage, rather than through its `Child` handle.
#[allow(clippy::zombie_processes)]
fn run_measured(args: &[&str]) -> (Value, Tree) {
    let child = Command::new(runner_bin())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("runner starts");
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.expect("piped");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut text).expect("stdout");
    let mut status = 0;
    // SAFETY: all-zero bytes are a valid `rusage`.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `status` and `usage` are valid and writable for the call.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4: {}", std::io::Error::last_os_error());
    let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    let tree = Tree {
        user_us: us(usage.ru_utime),
        system_us: us(usage.ru_stime),
        voluntary: usage.ru_nvcsw as u64,
        involuntary: usage.ru_nivcsw as u64,
    };
    (serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")), tree)
}

fn us(cpu: &Value, field: &str) -> u64 {
    (cpu[field].as_f64().unwrap_or_else(|| panic!("{field} in {cpu}")) * 1e6).round() as u64
}

fn count(cpu: &Value, field: &str) -> u64 {
    cpu[field].as_u64().unwrap_or_else(|| panic!("{field} in {cpu}"))
}

/// The workers' sum is the sum of each worker's, and `context_switches` (the workers' and no
/// waker here) the same counts.
fn assert_sums(doc: &Value) {
    let total = &doc["cpu"]["workers"];
    let workers = doc["workers"].as_array().unwrap();
    assert_eq!(doc["cpu"]["workers_reaped"].as_u64(), Some(workers.len() as u64), "{}", doc["cpu"]);
    for field in ["user_seconds", "system_seconds"] {
        let sum: u64 = workers.iter().map(|w| us(&w["cpu"], field)).sum();
        assert!(sum.abs_diff(us(total, field)) <= workers.len() as u64, "{field}: {sum} against {total}");
    }
    for field in ["voluntary_switches", "involuntary_switches"] {
        let sum: u64 = workers.iter().map(|w| count(&w["cpu"], field)).sum();
        assert_eq!(sum, count(total, field), "{field}");
    }
    assert_eq!(count(total, "voluntary_switches"), doc["context_switches"]["voluntary"].as_u64().unwrap());
    assert_eq!(count(total, "involuntary_switches"), doc["context_switches"]["involuntary"].as_u64().unwrap());
}

/// The workers' and runner's CPU time and switches are parts of the whole tree's, as the
/// kernel counts it for the process that reaps runner: never more (but for the microseconds
/// each process's rounding can add), and what is left is runner's own outside the run (its
/// start and its report).
fn assert_within_the_tree(doc: &Value, tree: &Tree) -> (u64, u64) {
    let (workers, runner) = (&doc["cpu"]["workers"], &doc["cpu"]["runner"]);
    let processes = doc["workers"].as_array().unwrap().len() as u64 + 1;
    let parts = us(workers, "user_seconds")
        + us(workers, "system_seconds")
        + us(runner, "user_seconds")
        + us(runner, "system_seconds");
    let whole = tree.user_us + tree.system_us;
    assert!(parts <= whole + 2 * processes, "the parts {parts} µs exceed the whole {whole} µs");
    let voluntary = count(workers, "voluntary_switches") + count(runner, "voluntary_switches");
    let involuntary = count(workers, "involuntary_switches") + count(runner, "involuntary_switches");
    assert!(voluntary <= tree.voluntary, "voluntary {voluntary} of {}", tree.voluntary);
    assert!(involuntary <= tree.involuntary, "involuntary {involuntary} of {}", tree.involuntary);
    (parts, whole)
}

#[test]
fn workers_cpu_time_is_each_ones_from_wait4_and_adds_up_to_the_trees() {
    // 10 million atomic adds: the workers' time is most of the tree's.
    let job = job_file(
        "cpu-atomic.yaml",
        "workers: 2\niterations: 5000000\nvalue: {type: i}\noperation: add\noperand: 1\nbackend: atomic\n",
    );
    let (doc, tree) = run_measured(&[&job, "--format", "json"]);
    assert_valid(&validator(), &doc);
    assert_eq!(doc["verdict"], "correct");
    for w in doc["workers"].as_array().unwrap() {
        assert!(us(&w["cpu"], "user_seconds") + us(&w["cpu"], "system_seconds") > 0, "{w}");
    }
    assert_sums(&doc);
    let (parts, whole) = assert_within_the_tree(&doc, &tree);
    let workers = us(&doc["cpu"]["workers"], "user_seconds") + us(&doc["cpu"]["workers"], "system_seconds");
    assert!(2 * workers >= whole, "the workers' {workers} µs are not most of the tree's {whole} µs");
    assert!(parts > 0 && doc["cpu"]["runner"].is_object(), "{}", doc["cpu"]);
}

#[test]
fn a_worker_blocked_on_the_lock_switches_out_voluntarily() {
    // Each worker sleeps 50 ms holding the lock once (a voluntary switch), while the workers
    // that have not stalled yet want the lock and wait on its futex (at least one voluntary
    // switch each): at least 3 sleeps and 2 + 1 waits.
    let job = job_file(
        "cpu-stall.yaml",
        "workers: 3\niterations: 400\nvalue: {type: i}\noperation: add\nbackend: mutex\nfaults:\n  - {worker: 0, at: 50, action: stall, for: 50ms, inside_lock: true}\n  - {worker: 1, at: 50, action: stall, for: 50ms, inside_lock: true}\n  - {worker: 2, at: 50, action: stall, for: 50ms, inside_lock: true}\n",
    );
    let (doc, tree) = run_measured(&[&job, "--format", "json"]);
    assert_valid(&validator(), &doc);
    assert_eq!(doc["verdict"], "correct", "{doc:#}");
    assert_sums(&doc);
    assert_within_the_tree(&doc, &tree);
    let voluntary = count(&doc["cpu"]["workers"], "voluntary_switches");
    assert!(voluntary >= 6, "{}", doc["cpu"]);
    for w in doc["workers"].as_array().unwrap() {
        assert!(count(&w["cpu"], "voluntary_switches") >= 1, "{w}");
    }
}

#[test]
fn a_worker_killed_mid_run_still_has_its_usage() {
    // Worker 1 is killed inside the lock and reaped while the others run.
    let out = runner(&["jobs/fault-recovery.yaml", "--format", "json"]);
    let doc = out.json();
    assert_valid(&validator(), &doc);
    let killed = &doc["workers"][1];
    assert_eq!(killed["exit"]["signal"], "SIGKILL");
    assert!(killed["cpu"].is_object(), "{killed}");
    assert!(us(&killed["cpu"], "user_seconds") + us(&killed["cpu"], "system_seconds") > 0, "{killed}");
    assert_sums(&doc);
    // The human report shows the workers' and runner's CPU apart, and a row per worker.
    let text = runner(&["jobs/fault-recovery.yaml"]).stdout;
    let line =
        text.lines().find(|l| l.starts_with("  cpu       workers (fork to exit) ")).unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains(" user + ") && line.contains("switched out") && line.contains("; runner (during the run) "),
        "{line}"
    );
    // Its row: no time of its own (`-`), but its CPU time and switches (`2 (0)`).
    let row = text.lines().find(|l| l.ends_with("killed by SIGKILL")).unwrap();
    let tokens: Vec<&str> = row.split_whitespace().collect();
    let k = tokens.iter().position(|t| *t == "killed").unwrap();
    assert!(tokens[k - 1].starts_with('(') && tokens[k - 2].parse::<u64>().is_ok(), "{row}");
    assert_ne!(tokens[k - 3], "-", "{row}");
}

/// The bins of a histogram: ordered, disjoint, none empty; their counts' sum.
fn bins_sum(bins: &Value) -> u64 {
    let bins = bins.as_array().expect("bins");
    assert!(!bins.is_empty());
    let mut last: Option<u64> = None;
    let mut sum = 0;
    for b in bins {
        let (low, high, n) =
            (b["ns_low"].as_u64().unwrap(), b["ns_high"].as_u64().unwrap(), b["count"].as_u64().unwrap());
        assert!(low <= high && n > 0, "{b}");
        assert!(last.is_none_or(|l| l < low), "{b} overlaps the bin before, which ends at {last:?}");
        last = Some(high);
        sum += n;
    }
    sum
}

#[test]
fn the_histogram_in_full_counts_every_timed_sample() {
    let job = job_file(
        "cpu-hist.yaml",
        "workers: 3\niterations: 100000\nvalue: {type: i}\noperation: add\noperand: 1\nbackend: mutex\n",
    );
    let doc = runner(&[&job, "--format", "json", "--histogram"]).json();
    assert_valid(&validator(), &doc);
    let latency = &doc["latency"];
    let every = latency["sample_every"].as_u64().unwrap();
    // One sample per chunk of `sample_every` operations, per worker.
    let samples = 3 * 100_000u64.div_ceil(every);
    assert_eq!(latency["op"]["samples"].as_u64(), Some(samples));
    assert_eq!(bins_sum(&latency["histogram"]["op"]), samples);
    assert_eq!(bins_sum(&latency["histogram"]["lock_wait"]), latency["lock_wait"]["samples"].as_u64().unwrap());
    // The maximum lies in the last bin.
    let last = latency["histogram"]["op"].as_array().unwrap().last().unwrap().clone();
    let max = latency["op"]["max"].as_u64().unwrap();
    assert!(last["ns_low"].as_u64().unwrap() <= max && max <= last["ns_high"].as_u64().unwrap(), "{last} {max}");

    // For people: the buckets merged into powers of two, their counts summing to the samples.
    let text = runner(&[&job, "--histogram"]).stdout;
    let head = format!("  histogram op: {samples} samples in buckets of powers of two (ns)");
    let rows: Vec<&str> = text.lines().skip_while(|l| *l != head).skip(1).take_while(|l| l.contains('%')).collect();
    let counts: Vec<u64> = rows.iter().map(|r| r.split_whitespace().nth(3).unwrap().parse().unwrap()).collect();
    assert_eq!(counts.iter().sum::<u64>(), samples, "{text}");

    // Without the flag, no histogram; with another backend, no lock wait.
    let plain = runner(&[&job, "--format", "json"]).json();
    assert!(plain["latency"].get("histogram").is_none(), "{}", plain["latency"]);
    let atomic = runner(&[&job, "--format", "json", "--histogram", "--backend", "atomic"]).json();
    assert!(atomic["latency"]["histogram"]["lock_wait"].is_null());
    assert_eq!(bins_sum(&atomic["latency"]["histogram"]["op"]), samples);
}

#[test]
fn the_sweeps_exports_carry_cpu_medians_and_histograms() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cpu-exports");
    std::fs::create_dir_all(&dir).unwrap();
    let (json, csv, md) = (dir.join("s.json"), dir.join("s.csv"), dir.join("s.md"));
    let job = job_file(
        "cpu-sweep.yaml",
        "workers: 2\niterations: 20000\nvalue: {type: i}\noperation: add\nbackend: mutex\nrepeat: 3\nmatrix:\n  backend: [mutex, atomic]\n  work.inside: [0, 200ns, 1.5us]\n",
    );
    let s = |p: &std::path::Path| p.to_string_lossy().into_owned();
    let out = runner(&[
        &job,
        "-q",
        "--histogram",
        "--export-json",
        &s(&json),
        "--export-csv",
        &s(&csv),
        "--export-markdown",
        &s(&md),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);

    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    for cell in doc["cells"].as_array().unwrap() {
        let cpu = &cell["cpu"];
        assert_eq!(cpu["runs"], 3, "{cpu}");
        assert!(
            cpu["workers"]["user_seconds"].as_f64().unwrap() + cpu["workers"]["system_seconds"].as_f64().unwrap() > 0.0
        );
        assert!(cpu["runner"].is_object());
        for run in cell["runs"].as_array().unwrap() {
            let latency = &run["latency"];
            assert_eq!(bins_sum(&latency["histogram"]["op"]), latency["op"]["samples"].as_u64().unwrap());
        }
    }

    // The CSV: durations as numbers of nanoseconds, every statistic a number, its unit named.
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 6);
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("{name} in {header:?}"));
    let inside = column("work.inside_ns");
    assert_eq!(rows.iter().map(|r| r[inside]).collect::<Vec<_>>(), ["0", "200", "1500", "0", "200", "1500"]);
    assert!(!header.contains(&"work.inside"), "{header:?}");
    let numeric = [
        "runs",
        "ops_per_s_median",
        "ops_per_s_mean",
        "ops_per_s_stddev",
        "ops_per_s_min",
        "ops_per_s_max",
        "relative_to_best",
        "op_p50_ns_median",
        "op_p99_ns_median",
        "workers_user_s_median",
        "workers_system_s_median",
        "workers_voluntary_switches_median",
        "workers_involuntary_switches_median",
        "runner_user_s_median",
        "runner_system_s_median",
    ];
    for name in numeric {
        let i = column(name);
        for row in &rows {
            assert_eq!(row.len(), header.len());
            assert!(row[i].parse::<f64>().is_ok_and(f64::is_finite), "{name}: {:?} in {row:?}", row[i]);
        }
    }
    for row in &rows {
        let user: f64 = row[column("workers_user_s_median")].parse().unwrap();
        let system: f64 = row[column("workers_system_s_median")].parse().unwrap();
        assert!(user + system > 0.0, "{row:?}");
    }
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.contains("| workers cpu (user + sys) | runner cpu (user + sys) |"), "{md}");
}
