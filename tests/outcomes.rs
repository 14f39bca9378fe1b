//! What a run reports about itself can be believed: an outcome that did not happen (a declared
//! one, or completing when none is declared) fails visibly in the header, the verdict line and
//! the JSON; an injected panic prints no backtrace; a deadline shorter than runner's progress
//! tick stops the run and says how late it fired and whether SIGKILL was needed; the memory
//! figures are this run's, not the parent process's nor an earlier run's.

mod common;

use std::process::Command;

use common::{assert_valid, job_file, validator};

struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the real binary with `args`, and `env` set (RUST_BACKTRACE).
fn run(args: &[&str], env: &[(&str, &str)]) -> Ran {
    let out = Command::new(common::runner_bin())
        .args(args)
        .envs(env.iter().copied())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runner runs");
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The job in both formats: the human report and the JSON one (checked against its schema).
fn both(path: &str, extra: &[&str], env: &[(&str, &str)]) -> (Ran, Ran, serde_json::Value) {
    let human = run(&[&[path], extra].concat(), env);
    let json = run(&[&[path, "--format", "json"], extra].concat(), env);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout)
        .unwrap_or_else(|e| panic!("one JSON document ({e}): {}\n{}", json.stdout, json.stderr));
    (human, json, doc)
}

const MUTEX: &str = "workers: 3\niterations: 100000\nvalue: {type: i}\noperation: add\nbackend: mutex\n";

#[test]
fn a_declared_outcome_that_did_not_happen_fails_visibly() {
    // The kill is outside the lock: no lock is recovered, whatever the job declares.
    let text = format!(
        "{MUTEX}faults:\n  - {{worker: 1, at: 5000, action: kill, inside_lock: false}}\nexpect_outcome: recovered\n"
    );
    let path = job_file("outcome-not-recovered.yaml", text);
    let (human, json, doc) = both(&path, &[], &[]);
    assert_eq!((human.code, json.code), (3, 3), "{}", human.stdout);
    let header = human.stdout.lines().next().unwrap();
    assert!(header.contains("RUN FAILED") && header.contains("expects recovered"), "{header}");
    let verdict = human.stdout.lines().find(|l| l.starts_with("  verdict")).unwrap();
    assert!(verdict.contains("the run failed"), "{verdict}");
    assert!(human.stdout.contains("  outcome   NOT as expected"), "{}", human.stdout);
    assert_eq!(doc["outcome_as_expected"], false, "{doc}");
    assert_eq!(doc["outcome"], "worker_failed", "{doc}");
    assert_eq!(doc["expect_outcome"], "recovered", "{doc}");
    assert_valid(&validator(), &doc);

    // Inside the lock it happens: a pass, said as such.
    let text = format!(
        "{MUTEX}faults:\n  - {{worker: 1, at: 5000, action: kill, inside_lock: true}}\nexpect_outcome: recovered\n"
    );
    let path = job_file("outcome-recovered.yaml", text);
    let (human, json, doc) = both(&path, &[], &[]);
    assert_eq!((human.code, json.code), (0, 0), "{}", human.stdout);
    assert!(!human.stdout.contains("FAILED"), "{}", human.stdout);
    assert!(human.stdout.contains("  outcome   recovered, as the job expects"), "{}", human.stdout);
    assert_eq!(doc["outcome_as_expected"], true, "{doc}");
    assert_eq!(doc["outcome"], "recovered", "{doc}");
    assert_valid(&validator(), &doc);
}

#[test]
fn every_run_document_says_whether_its_outcome_was_the_expected_one() {
    let path = job_file("outcome-completed.yaml", MUTEX);
    let (human, _, doc) = both(&path, &[], &[]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(!human.stdout.contains("FAILED") && !human.stdout.contains("  outcome"), "{}", human.stdout);
    assert_eq!(doc["outcome_as_expected"], true, "{doc}");
    assert_eq!(doc["outcome"], "completed", "{doc}");
    assert!(doc["expect_outcome"].is_null(), "{doc}");
    assert_valid(&validator(), &doc);
}

#[test]
fn a_panicked_worker_fails_the_run_visibly_without_a_backtrace() {
    let text = format!("{MUTEX}faults:\n  - {{worker: 1, at: 5000, action: panic}}\n");
    let path = job_file("outcome-panic.yaml", text);
    // These machines set RUST_BACKTRACE=1; an injected panic is an event, not a bug.
    let (human, json, doc) = both(&path, &[], &[("RUST_BACKTRACE", "1")]);
    assert_eq!((human.code, json.code), (3, 3), "{}", human.stdout);
    for stderr in [&human.stderr, &json.stderr] {
        assert!(!stderr.contains("stack backtrace") && !stderr.contains("panicked at"), "{stderr}");
        assert!(stderr.contains("panicked: injected fault: worker 1 panics"), "{stderr}");
    }
    let header = human.stdout.lines().next().unwrap();
    assert!(header.contains("RUN FAILED: worker 1 panicked"), "{header}");
    let verdict = human.stdout.lines().find(|l| l.starts_with("  verdict")).unwrap();
    assert!(verdict.contains("the run failed: worker 1 panicked"), "{verdict}");
    assert_eq!(doc["outcome_as_expected"], false, "{doc}");
    assert_eq!(doc["outcome"], "worker_failed", "{doc}");
    assert_eq!(doc["workers"][1]["exit"]["code"], 101, "{doc}");
    assert_valid(&validator(), &doc);
}

/// A job that needs seconds: no machine finishes it within the deadlines below.
const LONG: &str = "workers: 2\niterations: 1000000000\nvalue: {type: i}\noperation: add\nbackend: atomic\n";

#[test]
fn a_deadline_shorter_than_the_progress_tick_stops_the_run() {
    let path = job_file("deadline-short.yaml", LONG);
    for timeout in ["1ms", "10ms"] {
        let (human, json, doc) = both(&path, &["--timeout", timeout], &[]);
        assert_eq!((human.code, json.code), (3, 3), "{timeout}: {}", human.stdout);
        let applied = doc["applied_operations"].as_u64().unwrap();
        assert!(applied < doc["total_operations"].as_u64().unwrap(), "{timeout}: {doc}");
        assert_eq!(doc["partial"], true, "{doc}");
        assert_eq!(doc["outcome"], "deadline", "{doc}");
        assert_eq!(doc["outcome_as_expected"], false, "{doc}");
        // How late runner stopped the workers is measured and reported, whatever it is.
        let stop = &doc["deadline_stop"];
        assert!(stop["late_seconds"].as_f64().is_some_and(|s| s >= 0.0), "{timeout}: {doc}");
        // The workers end at SIGTERM: no SIGKILL was sent, and none is claimed.
        assert_eq!(stop["killed"], 0, "{doc}");
        assert_eq!(stop["terminated"], 2, "{doc}");
        for w in doc["workers"].as_array().unwrap() {
            assert_eq!(w["exit"]["signal"], "SIGTERM", "{doc}");
        }
        let partial = human.stdout.lines().find(|l| l.starts_with("  partial")).unwrap();
        assert!(partial.contains("after it to 2 workers") && !partial.contains("SIGKILL"), "{partial}");
        assert!(human.stdout.lines().next().unwrap().contains("RUN FAILED: the deadline stopped the run"));
        assert_valid(&validator(), &doc);
    }
}

/// The memory figures of a JSON report: runner's peak, the largest worker's, and what runner
/// held when the run began (KiB; 0 when the report does not say).
fn memory(doc: &serde_json::Value) -> (u64, u64, u64) {
    let m = &doc["memory"];
    let kib = |k: &str| m[k].as_u64().unwrap_or_else(|| panic!("memory.{k}: {doc}"));
    (kib("runner_peak"), kib("worker_peak"), m["runner_at_start"].as_u64().unwrap_or(0))
}

#[test]
fn memory_figures_are_not_inherited_from_a_large_parent() {
    // This test process holds 300 MiB, resident, while it starts runner: Linux keeps the
    // parent's high-water mark in runner's ru_maxrss across exec.
    let mut big = vec![0u8; 300 << 20];
    for page in big.chunks_mut(4096) {
        page[0] = 1;
    }
    let out = run(&["jobs/increment.yaml", "--format", "json"], &[]);
    assert_eq!(big.iter().step_by(4096).map(|&b| b as usize).sum::<usize>(), big.len() / 4096);
    drop(big);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let (runner_peak, worker_peak, at_start) = memory(&doc);
    // runner itself needs a few MiB; the bound is generous and far below the parent's 300.
    assert!(runner_peak < 100 << 10, "runner's peak {runner_peak} KiB is its parent's");
    assert!(worker_peak < 100 << 10, "a worker's peak {worker_peak} KiB is its parent's");
    assert!(at_start > 0 && at_start <= runner_peak, "{doc}");
    for w in doc["workers"].as_array().unwrap() {
        let kib = w["peak_memory_kib"].as_u64().unwrap();
        assert!(kib > 0 && kib <= worker_peak, "{doc}");
    }
    assert_valid(&validator(), &doc);
}

#[test]
fn a_catalogs_memory_figures_are_each_runs_own() {
    // The first job leaves runner holding a large trace; the second is small. Its figures are
    // its run's: runner's peak during it (what runner held then included, and said), not the
    // largest of the catalog so far.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("catalog-memory");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.with_extension("trace.json");
    std::fs::write(
        dir.join("a.yaml"),
        format!(
            "workers: 256\niterations: 4000\nvalue: {{type: i}}\noperation: add\nbackend: channel\ntrace: {{file: {}, ops: true}}\n",
            trace.display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("b.yaml"),
        "workers: 2\niterations: 100\nvalue: {type: i}\noperation: add\nbackend: atomic\n",
    )
    .unwrap();
    let out = run(&[dir.to_str().unwrap(), "--format", "json"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let reports: Vec<&serde_json::Value> = doc["jobs"].as_array().unwrap().iter().map(|j| &j["report"]).collect();
    assert_eq!(reports.len(), 2, "{doc}");
    let (a_peak, _, _) = memory(reports[0]);
    let (b_peak, b_worker, b_start) = memory(reports[1]);
    // A small run adds little to what runner held when it began.
    assert!(b_peak <= b_start + (16 << 10), "b: runner peak {b_peak} KiB, {b_start} KiB at its start (a: {a_peak})");
    assert!(b_worker <= b_start + (16 << 10), "b: worker peak {b_worker} KiB, runner held {b_start} KiB");
    for report in reports {
        assert_valid(&validator(), report);
    }
    let _ = std::fs::remove_file(trace);
}
