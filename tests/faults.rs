//! A worker killed mid-run: runner neither hangs nor leaves a process behind, and reports the
//! death with exit code 3. (Declared fault injection comes later; here the test kills.)

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_valid, job, job_file, validator};

/// The pids of `pid`'s children.
fn children(pid: u32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn kill_a_worker_mid_run(backend: &str, iterations: u64, extra: &str) {
    let text = job(3, iterations, "i", "0", "add", "1", backend) + extra;
    let path = job_file(&format!("fault-kill-{backend}-{}.yaml", extra.len()), text);
    let child = Command::new(env!("CARGO_BIN_EXE_runner"))
        .args([&path, "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runner starts");
    let started = Instant::now();
    // The channel owner's waker is forked first, then the three workers.
    let expected = if backend == "channel" { 4 } else { 3 };
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
    let out = child.wait_with_output().expect("runner ends");
    assert!(started.elapsed() < Duration::from_secs(60), "runner took {:?}", started.elapsed());
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
}

#[test]
fn a_killed_mutex_worker_is_reported_and_the_others_finish() {
    kill_a_worker_mid_run("mutex", 30_000_000, "");
}

#[test]
fn a_killed_channel_worker_with_large_batches_does_not_hang_the_owner() {
    kill_a_worker_mid_run("channel", 60_000_000, "batch: 65536\n");
}

#[test]
fn a_killed_worker_does_not_hang_an_ordered_schedule() {
    // The others would wait for the dead worker's turn; each sees it died and stops.
    kill_a_worker_mid_run("mutex", 30_000_000, "schedule: sequential\n");
    // The channel owner cannot look (it is blocked receiving): the waiting workers do.
    kill_a_worker_mid_run("channel", 3_000_000, "schedule: round-robin\n");
}

#[test]
fn an_ignored_sigchld_does_not_hide_how_workers_ended() {
    let out = Command::new("sh")
        .args(["-c", "trap '' CHLD; exec \"$0\" jobs/increment.yaml --format json", env!("CARGO_BIN_EXE_runner")])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("sh runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["workers"].as_array().unwrap().iter().all(|w| w["exit"]["code"] == 0));
}

/// SIGTERM or SIGINT to runner mid-run: every worker is stopped and reaped, the report is one
/// valid JSON document with `partial: true`, and the exit code names the signal.
fn interrupt_mid_run(backend: &str, signal: &str, code: i32) {
    let path =
        job_file(&format!("interrupt-{backend}-{signal}.yaml"), job(2, 2_000_000_000, "i", "0", "add", "1", backend));
    let child = Command::new(env!("CARGO_BIN_EXE_runner"))
        .args([&path, "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runner starts");
    let started = Instant::now();
    // Two workers, and for channel the owner's waker: none may be left behind.
    let expected = if backend == "channel" { 3 } else { 2 };
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
    for pid in workers {
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "worker {pid} is left behind");
    }
}

#[test]
fn sigterm_stops_an_atomic_run_with_a_partial_report() {
    interrupt_mid_run("atomic", "TERM", 143);
}

#[test]
fn sigint_stops_a_mutex_run_with_a_partial_report() {
    interrupt_mid_run("mutex", "INT", 130);
}

#[test]
fn sigterm_reaches_the_channel_owner() {
    interrupt_mid_run("channel", "TERM", 143);
}
