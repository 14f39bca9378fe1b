//! A worker killed mid-run: runner neither hangs nor leaves a process behind, and reports the
//! death with exit code 3. (Declared fault injection comes later; here the test kills.)

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_valid, children, job, job_file, runner, validator};

fn kill_a_worker_mid_run(backend: &str, iterations: u64, extra: &str) {
    let text = job(3, iterations, "i", "0", "add", "1", backend) + extra;
    let path = job_file(&format!("fault-kill-{backend}-{}.yaml", extra.replace(['\n', ' ', ':'], "")), text);
    let child = Command::new(common::runner_bin())
        .args([&path, "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runner starts");
    let started = Instant::now();
    // The channel owner's waker (ipc only) is forked first, then the three workers.
    let expected = if has_waker(backend, extra) { 4 } else { 3 };
    let workers = loop {
        let found = children(child.id());
        if found.len() == expected || started.elapsed() > Duration::from_secs(10) {
            break found[expected - 3..].to_vec();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(workers.len(), 3, "three workers forked");
    std::thread::sleep(Duration::from_millis(150));
    let victim = workers[1];
    Command::new("kill").args(["-KILL", &victim.to_string()]).status().expect("kill");
    // Bounded: a waiter asleep on a free lock once hung this test (and CI) for good.
    let mut child = child;
    common::wait_at_most(&mut child, Duration::from_secs(60), "runner after a worker was killed");
    let out = child.wait_with_output().expect("runner ends");
    assert_eq!(out.status.code(), Some(3), "a killed worker is a failure: {}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_valid(&validator(), &report);
    let dead =
        report["workers"].as_array().unwrap().iter().find(|w| w["pid"] == victim).expect("the victim is reported");
    assert_eq!(dead["exit"]["signal"], "SIGKILL");
    for pid in workers {
        // Reaped: no process, not even a zombie, is left.
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "worker {pid} is left behind");
    }
    if backend == "channel" {
        // The owner counts what it applied: the value is exactly that, whoever died when.
        let applied: u64 = report["channel"]["applied"].as_array().unwrap().iter().map(|a| a.as_u64().unwrap()).sum();
        assert_eq!(report["final"], applied, "{report}");
        assert_eq!(report["verdict"], "correct", "{report}");
    }
}

/// Whether a run of this job forks the channel owner's waker before its workers: the ipc
/// transport's owner blocks in receive; the pipe's (the default) polls and needs none.
fn has_waker(backend: &str, extra: &str) -> bool {
    backend == "channel" && extra.contains("transport: ipc")
}

#[test]
fn a_killed_mutex_worker_is_reported_and_the_others_finish() {
    kill_a_worker_mid_run("mutex", 30_000_000, "");
}

#[test]
fn a_killed_channel_worker_with_large_batches_does_not_hang_the_owner() {
    // ipc-channel sends a large message in fragments over a second socket: a worker killed
    // between two fragments leaves the owner a closed socket while the others still send.
    kill_a_worker_mid_run("channel", 60_000_000, "transport: ipc\nbatch: 65536\n");
}

#[test]
fn a_killed_channel_worker_over_a_pipe_is_reported_and_the_others_finish() {
    // The default transport, then the pipe named, with batches split into 4096-byte writes.
    kill_a_worker_mid_run("channel", 2_000_000, "");
    kill_a_worker_mid_run("channel", 60_000_000, "transport: pipe\nbatch: 65536\n");
}

#[test]
fn a_killed_worker_does_not_hang_an_ordered_schedule() {
    // The others would wait for the dead worker's turn; each sees it died and stops.
    kill_a_worker_mid_run("mutex", 30_000_000, "schedule: sequential\n");
    // The channel owner does not look (over ipc it is blocked receiving): the waiting workers do.
    kill_a_worker_mid_run("channel", 3_000_000, "schedule: round-robin\n");
    kill_a_worker_mid_run("channel", 3_000_000, "schedule: round-robin\ntransport: ipc\n");
}

#[test]
fn an_ignored_sigchld_does_not_hide_how_workers_ended() {
    let out = Command::new("sh")
        .args([
            "-c",
            "trap '' CHLD; exec \"$0\" jobs/increment.yaml --format json",
            &common::runner_bin().to_string_lossy(),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("sh runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["workers"].as_array().unwrap().iter().all(|w| w["exit"]["code"] == 0));
}

/// SIGTERM or SIGINT to runner mid-run: every worker is stopped and reaped, the report is one
/// valid JSON document with `partial: true`, and the exit code names the signal.
fn interrupt_mid_run(backend: &str, extra: &str, signal: &str, code: i32) {
    let tag = extra.split_whitespace().last().unwrap_or("");
    let text = job(2, 2_000_000_000, "i", "0", "add", "1", backend) + extra;
    let path = job_file(&format!("interrupt-{backend}{tag}-{signal}.yaml"), text);
    let child = Command::new(common::runner_bin())
        .args([&path, "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runner starts");
    let started = Instant::now();
    // Two workers, and for channel over ipc the owner's waker: none may be left behind.
    let expected = if has_waker(backend, extra) { 3 } else { 2 };
    let workers = loop {
        let found = children(child.id());
        if found.len() == expected || started.elapsed() > Duration::from_secs(10) {
            break found;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    std::thread::sleep(Duration::from_millis(200));
    Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().expect("kill");
    let out = child.wait_with_output().expect("runner ends");
    assert!(started.elapsed() < Duration::from_secs(30), "runner took {:?}", started.elapsed());
    assert_eq!(out.status.code(), Some(code), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_valid(&validator(), &report);
    assert_eq!(report["partial"], true);
    assert_eq!(report["interrupted_by"], format!("SIG{signal}"));
    assert_eq!(workers.len(), expected, "every process forked");
    for pid in workers {
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "worker {pid} is left behind");
    }
    if backend == "channel" {
        let applied: u64 = report["channel"]["applied"].as_array().unwrap().iter().map(|a| a.as_u64().unwrap()).sum();
        assert_eq!(report["final"], applied, "the value is what the owner applied: {report}");
    }
}

#[test]
fn sigterm_stops_an_atomic_run_with_a_partial_report() {
    interrupt_mid_run("atomic", "", "TERM", 143);
}

#[test]
fn sigint_stops_a_mutex_run_with_a_partial_report() {
    interrupt_mid_run("mutex", "", "INT", 130);
}

#[test]
fn sigterm_reaches_the_channel_owner() {
    interrupt_mid_run("channel", "", "TERM", 143);
    interrupt_mid_run("channel", "transport: ipc\n", "TERM", 143);
}

#[test]
fn sigint_and_sigterm_reach_the_channel_owner_over_a_pipe() {
    interrupt_mid_run("channel", "transport: pipe\n", "INT", 130);
    interrupt_mid_run("channel", "transport: pipe\nbatch: 1022\n", "TERM", 143);
}

/// A job with `extra` appended, run to its end: exit code and JSON report.
fn run_declared(name: &str, text: &str) -> (i32, serde_json::Value, Duration) {
    let path = job_file(name, text);
    let started = Instant::now();
    let out = Command::new(common::runner_bin()).args([&path, "--format", "json"]).output().expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("one JSON document ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    assert_valid(&validator(), &report);
    (out.status.code().unwrap_or(-1), report, started.elapsed())
}

#[test]
fn a_holder_killed_inside_the_lock_is_recovered_from_its_marker() {
    for (ty, operand, expected) in [("i", "1", serde_json::json!(205000)), ("d", "0.5", serde_json::json!(102500.0))] {
        let text = format!(
            "workers: 3\niterations: 100000\nvalue: {{type: {ty}}}\noperation: add\noperand: {operand}\nbackend: mutex\nfaults:\n  - {{worker: 1, at: 5000, action: kill, inside_lock: true}}\n"
        );
        let (code, report, _) = run_declared(&format!("recover-{ty}.yaml"), &text);
        // A failed worker without a declared outcome: exit 3, and the value checks out.
        assert_eq!(code, 3, "{report}");
        assert_eq!(report["recovery"]["died_holding_lock"], 1, "{report}");
        // Another worker, or runner itself when both others had finished before the death.
        let by = &report["recovery"]["recovered_by"];
        assert!(by == 0 || by == 2 || by == "runner", "{by}");
        assert_eq!(report["workers"][1]["exit"]["signal"], "SIGKILL");
        assert_eq!(report["workers"][1]["ops"], 5000);
        assert_eq!(report["final"], expected, "the update the dead holder made is undone");
        assert_eq!(report["verdict"], "correct");
        assert_eq!(report["applied_range"]["min"], 205000);
        // Declared, it is the outcome the job expects: exit 0.
        let (code, report, _) =
            run_declared(&format!("recover-{ty}-expected.yaml"), &format!("{text}expect_outcome: recovered\n"));
        assert_eq!(code, 0, "{report}");
    }
}

#[test]
fn a_panic_inside_the_lock_unwinds_and_unlocks_it() {
    let text = "workers: 3\niterations: 20000\nvalue: {type: i}\noperation: add\nbackend: mutex\nfaults:\n  - {worker: 0, at: 100, action: panic, inside_lock: true}\nexpect_outcome: worker_failed\n";
    let (code, report, _) = run_declared("panic-inside.yaml", text);
    assert_eq!(code, 0, "{report}");
    assert!(report["recovery"].is_null(), "no owner died: {report}");
    assert_eq!(report["workers"][0]["exit"]["code"], 101);
    assert_eq!(report["final"], 40100);
}

#[test]
fn a_stalled_worker_meets_the_deadline() {
    for (backend, extra) in [("mutex", ""), ("channel", ""), ("channel", "transport: ipc\n")] {
        let text = format!(
            "workers: 2\niterations: 100000\nvalue: {{type: i}}\noperation: add\nbackend: {backend}\ntimeout: 300ms\nfaults:\n  - {{worker: 0, at: 10, action: stall, for: 60s}}\n{extra}"
        );
        // Stopped, not waited for: worker 0's 60 s stall ends at the deadline's SIGTERM (below),
        // which the report's exits show without timing the run.
        let (code, report, _) = run_declared(&format!("deadline-{backend}-{}.yaml", extra.len()), &text);
        assert_eq!(code, 3, "{report}");
        assert_eq!(report["partial"], true);
        assert_eq!(report["deadline_seconds"], 0.3);
        assert_eq!(report["workers"][0]["ops"], 10);
        assert_eq!(report["workers"][0]["exit"]["signal"], "SIGTERM");
        assert_eq!(report["verdict"], "correct", "{report}");
        // Stalled inside the lock, the other worker waits for it (unless it finished first):
        // the deadline stops the run.
        if backend == "mutex" {
            let inside = text.replace("for: 60s}", "for: 60s, inside_lock: true}") + "expect_outcome: deadline\n";
            let (code, report, _) = run_declared("deadline-inside.yaml", &inside);
            assert_eq!(code, 0, "{report}");
            assert_eq!(report["workers"][0]["exit"]["signal"], "SIGTERM");
        }
    }
}

#[test]
fn a_fork_that_fails_part_way_stops_those_already_forked() {
    let text = "workers: 4\nvalue: {type: i}\noperation: add\nbackend: atomic\nfork_fail_at: 3\n";
    let (code, report, _) = run_declared("fork-fail.yaml", text);
    assert_eq!(code, 3);
    let error = report["error"].as_str().unwrap();
    assert!(error.contains("cannot fork worker 2 of 4") && error.contains("fork_fail_at"), "{error}");
    let (code, _, _) = run_declared("fork-fail-expected.yaml", &format!("{text}expect_outcome: fork_failed\n"));
    assert_eq!(code, 0);
}

#[test]
fn sigterm_reaches_a_channel_owner_whose_workers_are_stuck() {
    sigterm_to_a_stuck_channel("");
    sigterm_to_a_stuck_channel("transport: ipc\n");
}

/// Both workers stall after one operation each: nothing arrives, and the owner must still
/// notice SIGTERM (over ipc, woken by its waker; over a pipe, between two naps).
fn sigterm_to_a_stuck_channel(extra: &str) {
    let text = format!(
        "workers: 2\niterations: 1000\nvalue: {{type: i}}\noperation: add\nbackend: channel\nfaults:\n  - {{worker: 0, at: 1, action: stall, for: 60s}}\n  - {{worker: 1, at: 1, action: stall, for: 60s}}\n{extra}"
    );
    let path = job_file(&format!("stuck-channel-{}.yaml", extra.len()), text);
    let child = Command::new(common::runner_bin())
        .args([&path, "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    // Not timed: a run that waited out the 60 s stalls would end with 2000 applied, exit 0.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(143));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["partial"], true);
    assert_eq!(report["final"], 2, "one operation each was applied");
    assert_eq!(report["channel"]["applied"], serde_json::json!([1, 1]));
}

#[test]
fn a_declared_kill_loses_exactly_the_operations_not_sent() {
    for extra in ["transport: ipc\n", "", "transport: pipe\n", "batch: 1022\n", "transport: pipe\nbatch: 5000\n"] {
        let text = format!(
            "workers: 3\niterations: 20000\nvalue: {{type: i}}\noperation: add\nbackend: channel\nfaults:\n  - {{worker: 1, at: 5000, action: kill}}\n{extra}"
        );
        let (code, report, _) = run_declared(&format!("channel-kill-{}.yaml", extra.len()), &text);
        assert_eq!(code, 3, "{extra}: {report}");
        assert_eq!(report["workers"][1]["exit"]["signal"], "SIGKILL", "{extra}");
        // Everything sent before the death arrives, however it was split into messages.
        assert_eq!(report["channel"]["applied"], serde_json::json!([20000, 5000, 20000]), "{extra}");
        assert_eq!(report["final"], 45000, "{extra}");
        assert_eq!(report["verdict"], "correct", "{extra}");
        let (code, report, _) = run_declared(
            &format!("channel-kill-{}-expected.yaml", extra.len()),
            &format!("{text}expect_outcome: worker_failed\n"),
        );
        assert_eq!(code, 0, "{extra}: {report}");
    }
}

#[test]
fn faults_are_checked_where_they_are_written() {
    let base = "workers: 2\niterations: 100\nvalue: {type: i}\noperation: add\n";
    for (tail, expect) in [
        (
            "backend: atomic\nfaults:\n  - {worker: 0, at: 5, action: kill, inside_lock: true}\n",
            ":7:51: faults.inside_lock: only the mutex backend",
        ),
        (
            "backend: mutex\nfaults:\n  - {worker: 0, at: 500, action: kill}\n",
            ":7:21: faults.at: must be between 0 and 100, found 500",
        ),
        (
            "backend: mutex\nfaults:\n  - {worker: 2, at: 5, action: kill}\n",
            ":7:14: faults.worker: must be between 0 and 1, found 2",
        ),
        (
            "backend: mutex\nfaults:\n  - {worker: 0, at: 5, action: kill, code: 3}\n",
            "faults.code: code is the exit code of action exit",
        ),
        ("backend: mutex\nfaults:\n  - {worker: 0, at: 5, action: explode}\n", "unknown faults.action \"explode\""),
        ("backend: mutex\nfork_fail_at: 3\n", ":6:15: fork_fail_at: must be between 1 and 2, found 3"),
    ] {
        let path = job_file("fault-bad.yaml", format!("{base}{tail}"));
        let out = runner(&["validate", &path]);
        assert_eq!(out.code, 2, "{tail}");
        assert!(out.stderr.contains(expect), "{tail}\n{}", out.stderr);
    }
}

#[test]
fn runner_repairs_a_lock_whose_holder_died_last() {
    // One worker: nobody locks after its death, so runner takes the lock and repairs the value.
    let text = "workers: 1\niterations: 100\nvalue: {type: i}\noperation: add\nbackend: mutex\nfaults:\n  - {worker: 0, at: 40, action: kill, inside_lock: true}\nexpect_outcome: recovered\n";
    let (code, report, _) = run_declared("recover-last.yaml", text);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["recovery"]["recovered_by"], "runner");
    assert_eq!(report["final"], 40);
}

#[test]
fn a_worker_that_exits_mid_update_leaves_with_its_code_and_its_lock_is_repaired() {
    // `exit` inside the lock: the worker leaves at once (through `_exit`, as every child does),
    // holding the lock with its update marked; runner repairs it after the run.
    let text = "workers: 1\niterations: 100\nvalue: {type: i}\noperation: add\nbackend: mutex\nfaults:\n  - {worker: 0, at: 40, action: exit, code: 7, inside_lock: true}\nexpect_outcome: recovered\n";
    let (code, report, _) = run_declared("exit-inside.yaml", text);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["workers"][0]["exit"]["code"], 7, "{report}");
    assert_eq!(report["recovery"]["died_holding_lock"], 0, "{report}");
    assert_eq!(report["recovery"]["recovered_by"], "runner");
    assert_eq!(report["final"], 40);
    // Outside a lock: the worker's count stops at the fault, the others finish.
    let text = "workers: 2\niterations: 1000\nvalue: {type: i}\noperation: add\nbackend: atomic\nfaults:\n  - {worker: 1, at: 300, action: exit, code: 9}\n";
    let (code, report, _) = run_declared("exit-outside.yaml", text);
    assert_eq!(code, 3, "a failed worker without a declared outcome: {report}");
    assert_eq!(report["workers"][1]["exit"]["code"], 9, "{report}");
    assert_eq!(report["workers"][1]["ops"], 300, "{report}");
    assert_eq!(report["final"], 1300);
}
