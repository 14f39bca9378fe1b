//! A live worker is never taken for dead, and every death inside the lock is recovered at once
//! and reported (issue 16, item 1). Runner learns of deaths from `waitpid`, not from `/proc`:
//! these runs start runner in a PID namespace of its own (`unshare --pid --fork`), whose pids
//! a `/proc` mounted for the outer namespace gives to other processes (the kernel's threads),
//! with and without `--mount-proc`; and they kill 1,023 of 1,024 workers inside the lock.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::{assert_valid, job_file, validator};

/// Runs `unshare --pid --fork [--mount-proc] runner FILE --format json`: the exit code, the
/// report and standard error. Fails, saying why, when `unshare` is missing or refused.
fn in_pid_namespace(mount_proc: bool, file: &str) -> (i32, serde_json::Value, String) {
    let unshare = |args: &[&str]| Command::new("unshare").args(args).output();
    let mut args = vec!["--pid", "--fork"];
    if mount_proc {
        args.push("--mount-proc");
    }
    match unshare(&[&args[..], &["true"]].concat()) {
        Err(e) => panic!(
            "cannot run `unshare` ({e}): these tests start runner in a PID namespace of their own and need util-linux's unshare"
        ),
        Ok(out) if !out.status.success() => panic!(
            "`unshare {}` was refused ({}): these tests need a PID namespace (run them as root, as CI does)",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Ok(_) => {}
    }
    let bin = common::runner_bin();
    let out = unshare(&[&args[..], &[bin.to_str().expect("a UTF-8 path"), file, "--format", "json"]].concat())
        .expect("unshare runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("one JSON document ({e}): {stderr}"));
    (out.status.code().unwrap_or(-1), report, stderr)
}

/// A run that must be exact with no lock taken over and no worker taken for dead; returns its
/// report, for the schema (checked once every run of a test has shown what it did).
fn assert_exact_and_never_robbed(
    what: &str,
    (code, report, stderr): (i32, serde_json::Value, String),
    expected: u64,
) -> serde_json::Value {
    assert_eq!(report["final"], expected, "{what}: the final value is exact\n{stderr}");
    assert_eq!(report["verdict"], "correct", "{what}\n{stderr}");
    assert!(report["recovery"].is_null(), "{what}: no holder died, so no lock was taken over: {}", report["recovery"]);
    // (The schema, checked last, requires the list.)
    let listed = report.get("recoveries").is_some_and(|r| r != &serde_json::json!([]));
    assert!(!listed, "{what}: no recovery listed: {}", report["recoveries"]);
    assert!(!stderr.contains("died"), "{what}: no worker was taken for dead: {stderr}");
    assert_eq!(code, 0, "{what}: exit 0\n{stderr}");
    report
}

/// Every report against the schema.
fn assert_all_valid(reports: &[serde_json::Value]) {
    let schema = validator();
    for report in reports {
        assert_valid(&schema, report);
    }
}

#[test]
fn a_stalled_holder_in_a_pid_namespace_is_not_taken_for_dead() {
    // Worker 0 (pid 2 in the namespace: the kernel's kthreadd in the outer /proc) stalls half a
    // second holding the lock: the others wait for it, with or without a /proc of their own.
    let file = job_file(
        "ns-stalled-holder.yaml",
        "workers: 4\niterations: 100000\nvalue: {type: i}\noperation: add\noperand: 1\nbackend: mutex\nfaults: [{worker: 0, at: 100, action: stall, for: 500ms, inside_lock: true}]\n",
    );
    let reports: Vec<_> = [false, true]
        .into_iter()
        .map(|mount_proc| {
            let what = if mount_proc { "with --mount-proc" } else { "without --mount-proc" };
            assert_exact_and_never_robbed(what, in_pid_namespace(mount_proc, &file), 400_000)
        })
        .collect();
    assert_all_valid(&reports);
}

#[test]
fn two_hundred_fifty_six_workers_in_a_pid_namespace_are_exact_and_never_robbed() {
    let plain =
        job_file("ns-256.yaml", "workers: 256\niterations: 20000\nvalue: {type: i}\noperation: add\nbackend: mutex\n");
    let mut reports: Vec<_> = (0..3)
        .map(|run| assert_exact_and_never_robbed(&format!("run {run}"), in_pid_namespace(false, &plain), 256 * 20_000))
        .collect();
    // Each critical section outlasts a waiter's first sleep (10 ms before this fix), and worker
    // 0, forked first, takes the lock first while the others are still being forked.
    let long = job_file(
        "ns-256-long-sections.yaml",
        "workers: 256\niterations: 1\nvalue: {type: i}\noperation: add\nbackend: mutex\nstart: forked\nwork: {inside: 11ms}\n",
    );
    reports.push(assert_exact_and_never_robbed("11 ms critical sections", in_pid_namespace(false, &long), 256));
    assert_all_valid(&reports);
}

#[test]
fn an_ordered_schedule_in_a_pid_namespace_waits_for_a_live_turn() {
    // Sequential: worker 0 stalls 300 ms in its turn; round-robin: turns pass 8,000 times.
    let sequential = job_file(
        "ns-sequential-stall.yaml",
        "workers: 4\niterations: 1000\nvalue: {type: i}\noperation: add\nbackend: atomic\nschedule: sequential\nfaults: [{worker: 0, at: 100, action: stall, for: 300ms}]\n",
    );
    let first = assert_exact_and_never_robbed("sequential", in_pid_namespace(false, &sequential), 4000);
    let round_robin = job_file(
        "ns-round-robin.yaml",
        "workers: 4\niterations: 2000\nvalue: {type: i}\noperation: add\nbackend: mutex\nschedule: round-robin\n",
    );
    let second = assert_exact_and_never_robbed("round-robin", in_pid_namespace(false, &round_robin), 8000);
    assert_all_valid(&[first, second]);
}

/// A job of `workers` workers, every one but worker 0 killed inside the lock after 5 of its 20
/// operations.
fn killed_inside_the_lock(workers: u32) -> String {
    let faults: Vec<String> =
        (1..workers).map(|w| format!("  - {{worker: {w}, at: 5, action: kill, inside_lock: true}}\n")).collect();
    format!(
        "workers: {workers}\niterations: 20\nvalue: {{type: i}}\noperation: add\nbackend: mutex\nfaults:\n{}expect_outcome: recovered\n",
        faults.concat()
    )
}

#[test]
fn a_thousand_deaths_inside_the_lock_are_each_recovered_within_the_default_deadline() {
    let file = job_file("kill-1023-inside.yaml", killed_inside_the_lock(1024));
    let out = Command::new(common::runner_bin()).args([&file, "--format", "json"]).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("one JSON document ({e}): {stderr}"));
    assert!(
        report["deadline_seconds"].is_null(),
        "finished before the default deadline: {}",
        report["deadline_seconds"]
    );
    assert_eq!(report["partial"], false);
    let recoveries = report["recoveries"].as_array().unwrap_or_else(|| panic!("a list of recoveries: {report:#}"));
    let died: BTreeSet<u64> = recoveries.iter().map(|r| r["died_holding_lock"].as_u64().expect("a worker")).collect();
    assert_eq!(recoveries.len(), 1023, "one recovery per death");
    assert_eq!(died, (1..1024).collect(), "every death inside the lock, once each");
    assert!(recoveries.iter().all(|r| r["restored"] == true), "each marked update undone");
    assert_eq!(report["recovery"], recoveries[0], "the first of them");
    // The workers' counts add up to the recoveries the workers made (runner makes the rest).
    let by_workers = recoveries.iter().filter(|r| r["recovered_by"].is_u64()).count() as u64;
    let counted: u64 = report["workers"].as_array().unwrap().iter().map(|w| w["recoveries"].as_u64().unwrap()).sum();
    assert_eq!(counted, by_workers);
    // Worker 0's 20 operations and 5 of each other's: each dead holder's sixth is undone.
    assert_eq!(report["final"], 20 + 1023 * 5);
    assert_eq!(report["verdict"], "correct");
    assert_eq!(report["outcome"], "recovered");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_valid(&validator(), &report);
}

#[test]
fn many_recoveries_read_as_a_count_and_a_bounded_list() {
    let file = job_file("kill-11-inside.yaml", killed_inside_the_lock(12));
    let out = Command::new(common::runner_bin()).arg(&file).output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("  recovery  11 workers died holding the lock; each time the value was restored"), "{text}");
    let list = text.lines().find(|l| l.trim_start().starts_with("taken over: ")).unwrap_or_else(|| panic!("{text}"));
    assert_eq!(list.matches(" by ").count(), 8, "at most eight pairs: {list}");
    assert!(list.ends_with(", and 3 more (--format json lists every one)"), "{list}");
    assert_eq!(out.status.code(), Some(0));
}
