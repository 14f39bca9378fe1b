//! Memory pressure (issue 16, item 9): each worker raises its own `oom_score_adj` right after
//! the fork, so that the kernel's OOM killer takes a worker (whose death runner reports) before
//! runner (whose death loses the report).

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{job_file, runner_bin};

fn oom_score_adj(pid: u32) -> Option<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/oom_score_adj")).ok()?.trim().parse().ok()
}

/// Reads the score of runner's live workers while worker 0 stalls: each is 1000, above runner's.
/// On 7dd154f a worker inherited runner's score, so the OOM killer chose runner, the biggest.
#[test]
fn workers_are_the_oom_killers_first_choice() {
    let own = oom_score_adj(std::process::id()).expect("/proc/self/oom_score_adj");
    assert!(
        own < 1000,
        "this test runs with oom_score_adj {own}: runner would inherit 1000 and no worker could rank above it"
    );
    let job = job_file(
        "oom-score.yaml",
        "workers: 3\niterations: 1000\nvalue: {type: i}\noperation: add\nbackend: atomic\n\
         faults:\n  - {worker: 0, at: 10, action: stall, for: 2s}\n",
    );
    let mut child = Command::new(runner_bin())
        .args([&job, "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runner starts");
    let pid = child.id();
    let started = Instant::now();
    let mut seen: Vec<(u32, i32)> = Vec::new();
    let mut runner_score = None;
    // Until runner ends (2 s of stall; bounded at a minute): its children and their scores.
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("runner still runs after a minute");
        }
        runner_score = runner_score.or(oom_score_adj(pid));
        let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        for worker in children.split_whitespace().filter_map(|p| p.parse::<u32>().ok()) {
            if let Some(score) = oom_score_adj(worker)
                && !seen.contains(&(worker, score))
            {
                seen.push((worker, score));
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let runner_score = runner_score.expect("runner's own score");
    assert_eq!(runner_score, own, "runner keeps the score it was started with");
    let workers: Vec<u32> =
        report["workers"].as_array().unwrap().iter().map(|w| w["pid"].as_u64().unwrap() as u32).collect();
    // Worker 0 stalls for 2 s, after its own write: its score is read while it lives.
    let stalled = seen.iter().filter(|(p, _)| *p == workers[0]).map(|(_, s)| *s).max();
    assert_eq!(stalled, Some(1000), "worker 0's score (runner's: {runner_score}); seen {seen:?}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("oom_score_adj"), "no notice where /proc is writable");
}

/// Where a worker cannot write its score (a read-only `/proc`, in a mount namespace of the
/// test's own: needs root and `unshare`), the run goes on, and worker 0 says once what is at
/// stake. On 7dd154f nothing was written and nothing said.
#[test]
fn a_read_only_proc_is_a_notice_not_a_failure() {
    let job = job_file(
        "oom-read-only.yaml",
        "workers: 3\niterations: 1000\nvalue: {type: i}\noperation: add\nbackend: atomic\n",
    );
    let script = format!("mount -o remount,bind,ro /proc && exec '{}' '{job}' --format json", runner_bin().display());
    let out = Command::new("unshare")
        .args(["--mount", "sh", "-c", &script])
        .output()
        .unwrap_or_else(|e| panic!("this test needs `unshare` (util-linux): {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("unshare failed") && !stderr.contains("mount:"),
        "this test needs root, a mount namespace and a remount of /proc read-only:\n{stderr}"
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(report["verdict"], "correct", "{report}");
    let notices: Vec<&str> = stderr.lines().filter(|l| l.contains("cannot raise its oom_score_adj")).collect();
    assert_eq!(notices.len(), 1, "one notice, from worker 0:\n{stderr}");
    assert!(notices[0].contains("Read-only file system"), "{stderr}");
}
