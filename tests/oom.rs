//! Memory pressure (issue 16, item 9): each worker (and the channel's waker) raises its own `oom_score_adj` right after
//! the fork, so that the kernel's OOM killer takes a worker (whose death runner reports) before
//! runner (whose death loses the report).

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::cgroup::Cgroup;
use common::{job_file, runner_bin};

fn oom_score_adj(pid: u32) -> Option<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/oom_score_adj")).ok()?.trim().parse().ok()
}

/// What [`watch`] saw: every child of runner with the highest score read of it, runner's own
/// score, and runner's output.
struct Watched {
    children: Vec<(u32, i32)>,
    runner_score: i32,
    out: std::process::Output,
    report: serde_json::Value,
}

/// Runs `job` in JSON mode and, until runner ends (bounded at a minute), reads the score of
/// every child of runner (by pid, from `/proc/<runner>/task/<runner>/children`) every 20 ms.
fn watch(job: &str) -> Watched {
    let mut child = Command::new(runner_bin())
        .args([job, "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runner starts");
    let pid = child.id();
    let started = Instant::now();
    let mut children: Vec<(u32, i32)> = Vec::new();
    let mut runner_score = None;
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("runner still runs after a minute");
        }
        runner_score = runner_score.or(oom_score_adj(pid));
        let listed = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        for process in listed.split_whitespace().filter_map(|p| p.parse::<u32>().ok()) {
            let Some(score) = oom_score_adj(process) else { continue };
            match children.iter_mut().find(|(p, _)| *p == process) {
                Some((_, seen)) => *seen = (*seen).max(score),
                None => children.push((process, score)),
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    Watched { children, runner_score: runner_score.expect("runner's own score"), out, report }
}

fn worker_pids(report: &serde_json::Value) -> Vec<u32> {
    report["workers"].as_array().unwrap().iter().map(|w| w["pid"].as_u64().unwrap() as u32).collect()
}

/// This test process's score, which runner inherits: below 1000, or nothing could rank above it.
fn own_score() -> i32 {
    let own = oom_score_adj(std::process::id()).expect("/proc/self/oom_score_adj");
    assert!(
        own < 1000,
        "this test runs with oom_score_adj {own}: runner would inherit 1000 and no worker could rank above it"
    );
    own
}

/// Reads the score of runner's live workers while worker 0 stalls: each is 1000, above runner's.
/// On 7dd154f a worker inherited runner's score, so the OOM killer chose runner, the biggest.
#[test]
fn workers_are_the_oom_killers_first_choice() {
    let own = own_score();
    let job = job_file(
        "oom-score.yaml",
        "workers: 3\niterations: 1000\nvalue: {type: i}\noperation: add\nbackend: atomic\n\
         faults:\n  - {worker: 0, at: 10, action: stall, for: 2s}\n",
    );
    let seen = watch(&job);
    assert_eq!(seen.runner_score, own, "runner keeps the score it was started with");
    let workers = worker_pids(&seen.report);
    // Worker 0 stalls for 2 s, after its own write: its score is read while it lives.
    let stalled = seen.children.iter().find(|(p, _)| *p == workers[0]).map(|(_, s)| *s);
    assert_eq!(stalled, Some(1000), "worker 0's score (runner's: {}); seen {:?}", seen.runner_score, seen.children);
    assert!(!String::from_utf8_lossy(&seen.out.stderr).contains("oom_score_adj"), "no notice where /proc is writable");
}

/// The channel backend over ipc forks one more child than the workers, the waker (the pipe
/// transport has none): it dies with runner and holds nothing the report needs, so it too is
/// the OOM killer's first choice. On 43fc69e it kept runner's score.
#[test]
fn the_channels_waker_is_the_oom_killers_first_choice_too() {
    let own = own_score();
    let job = job_file(
        "oom-waker.yaml",
        "workers: 2\niterations: 1000\nvalue: {type: i}\noperation: add\nbackend: channel\ntransport: ipc\n\
         faults:\n  - {worker: 0, at: 10, action: stall, for: 2s}\n",
    );
    let seen = watch(&job);
    assert_eq!(seen.runner_score, own, "runner keeps the score it was started with");
    let workers = worker_pids(&seen.report);
    let others: Vec<_> = seen.children.iter().filter(|(p, _)| !workers.contains(p)).collect();
    assert!(!others.is_empty(), "the waker was seen beside the workers {workers:?}: {:?}", seen.children);
    for (pid, score) in others {
        assert_eq!(*score, 1000, "the waker {pid}'s score (runner's: {own}); seen {:?}", seen.children);
    }
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

/// A memory cgroup of this test's own holding at most `limit`, swap included where the kernel
/// counts it: v2's `memory.max` (and `memory.swap.max` 0), or v1's `memory.limit_in_bytes`
/// (and `memory.memsw.limit_in_bytes`).
fn memory_cgroup(limit: &str) -> Result<Cgroup, String> {
    let group = Cgroup::new("memory", "oom")?;
    let (max, swap, swap_value) = if group.v2 {
        ("memory.max", "memory.swap.max", "0")
    } else {
        ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes", limit)
    };
    group.set(max, limit)?;
    if group.dir.join(swap).exists() {
        group.set(swap, swap_value)?;
    }
    Ok(group)
}

/// The real thing: 256 workers (about 40 MiB in all, runner alone about 1 MiB) in a memory
/// cgroup of 16 MiB, so that the OOM killer must choose, again and again. It takes workers,
/// whose deaths the report shows (exit 3); on 7dd154f its first choice was runner, the
/// biggest, and the report was lost (killed by SIGKILL, stdout empty). Needs root and a memory
/// cgroup (v2, or v1's memory hierarchy).
#[test]
fn under_a_memory_cgroup_the_report_survives_the_oom_killer() {
    let group = memory_cgroup("16M")
        .unwrap_or_else(|e| panic!("this test needs root and a memory cgroup (v2 at /sys/fs/cgroup, or v1): {e}"));
    let job = job_file(
        "oom-cgroup.yaml",
        "workers: 256\niterations: 20000\nvalue: {type: i}\noperation: add\nbackend: atomic\n",
    );
    let script = format!(
        "echo $$ > '{}/cgroup.procs' && exec '{}' '{job}' --format json",
        group.dir.display(),
        runner_bin().display()
    );
    // Into files, read once runner has ended: a report of 256 workers fills a pipe.
    let stdout_path = format!("{job}.stdout");
    let stderr_path = format!("{job}.stderr");
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .expect("sh starts");
    let status = common::wait_at_most(
        &mut child,
        Duration::from_secs(60),
        "runner still runs after a minute in a 16 MiB cgroup",
    );
    let out = std::process::Output {
        status,
        stdout: std::fs::read(&stdout_path).unwrap(),
        stderr: std::fs::read(&stderr_path).unwrap(),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.lines().all(|l| !l.starts_with("sh: ")), "could not enter the cgroup: {stderr}");
    assert_eq!(
        out.status.code(),
        Some(3),
        "runner did not end with its report of failed workers ({:?}): the OOM killer chose runner?\n{stderr}",
        out.status
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let killed = report["workers"].as_array().unwrap().iter().filter(|w| w["exit"]["signal"] == "SIGKILL").count();
    assert!(killed > 0, "no worker was killed: 16 MiB did not make the OOM killer choose\n{report}");
}
