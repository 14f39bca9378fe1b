//! Standard error never costs the report: runner writes there one way (`exec::stderr`), which
//! ignores a failed write (`2>/dev/full`, a reader gone) instead of panicking, and which a
//! signal ends when nothing takes what it writes (runner's signals are blocked from its first
//! fork: a write blocked for ever would leave only SIGKILL, and the report lost). Over the real
//! binary; the waits are bounded by counts and by times 10x what an idle machine needs.

mod common;

use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::{children, job, job_file};
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Worker 1 kills itself inside the lock: runner says on standard error that it failed (after
/// its first fork, when its signals are blocked), recovers the lock, and the run is correct.
const RECOVERY: &str = "workers: 3\niterations: 20000\nvalue: {type: i}\noperation: add\nbackend: mutex\n\
    faults:\n  - {worker: 1, at: 500, action: kill, inside_lock: true}\nexpect_outcome: recovered\n";

/// How long runner may take, at most, to end once nothing holds it: 10x what an idle machine
/// needs for the slowest case (256 workers interrupted: 0.05 s of forks, then the one second a
/// standard error nobody reads may still hold runner; 1.03-1.04 s measured), rounded up.
const BOUND: Duration = Duration::from_secs(12);

/// Waits for `child` for at most [`BOUND`], reading its standard output meanwhile; SIGKILL and
/// a failure naming `case` when it is still running then.
fn bounded(mut child: Child, case: &str) -> (ExitStatus, String) {
    let mut stdout = child.stdout.take().expect("stdout piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let begun = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if begun.elapsed() > BOUND {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{case}: runner was still running {BOUND:?} later (blocked with its signals blocked?); killed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (status, reader.join().expect("reader"))
}

/// A one-page pipe for runner's standard error, that the test never reads; `full`: filled first.
fn tiny_pipe(full: bool) -> (OwnedFd, OwnedFd) {
    let (read, write) = nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC).expect("pipe");
    fcntl(&write, FcntlArg::F_SETPIPE_SZ(4096)).expect("a one-page pipe");
    if full {
        let page = [b'x'; 4096];
        while nix::unistd::write(&write, &page).is_ok() {}
    }
    fcntl(&write, FcntlArg::F_SETFL(OFlag::empty())).expect("blocking again");
    (read, write)
}

/// Where standard error goes in [`unwritable`]'s cases.
#[derive(Debug, Clone, Copy)]
enum Sink {
    /// A pipe the test reads: the reference run.
    Read,
    /// `/dev/full`: every write fails with ENOSPC.
    Full,
    /// A pipe whose reader is gone: every write fails with EPIPE.
    Closed,
}

fn run_with(path: &str, format: &str, sink: Sink) -> (ExitStatus, String, String) {
    let mut command = Command::new(common::runner_bin());
    command.args([path, "--format", format]).stdout(Stdio::piped()).stdin(Stdio::null());
    match sink {
        Sink::Read => command.stderr(Stdio::piped()),
        Sink::Full => command.stderr(std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full")),
        Sink::Closed => {
            let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC).expect("pipe");
            drop(read);
            command.stderr(Stdio::from(write))
        }
    };
    let mut child = command.spawn().expect("runner starts");
    let stderr = child.stderr.take();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut stderr) = stderr {
            let _ = stderr.read_to_string(&mut text);
        }
        text
    });
    let case = format!("{path} --format {format}, standard error {sink:?}");
    let (status, stdout) = bounded(child, &case);
    (status, stdout, errors.join().expect("reader"))
}

/// Standard error that cannot be written (`/dev/full`, a pipe whose reader is gone) changes
/// nothing but what reaches it: a single run and a sweep, human and JSON, print their report
/// and exit as the same run does with a standard error that works (no panic, no exit 101).
#[test]
fn a_standard_error_that_cannot_be_written_costs_nothing() {
    let single = job_file("stderr-single.yaml", RECOVERY);
    let sweep = job_file("stderr-sweep.yaml", format!("{RECOVERY}repeat: 2\n"));
    for path in [&single, &sweep] {
        for format in ["human", "json"] {
            let (reference, reference_out, said) = run_with(path, format, Sink::Read);
            assert!(said.contains("failed: killed by SIGKILL"), "{path} {format}: what the test relies on: {said}");
            for sink in [Sink::Full, Sink::Closed] {
                let case = format!("{path} --format {format}, standard error {sink:?}");
                let (status, stdout, _) = run_with(path, format, sink);
                assert_eq!(status.code(), reference.code(), "{case}: ended by {status:?}, stdout:\n{stdout}");
                assert!(!stdout.is_empty(), "{case}: no report");
                if format == "json" {
                    let doc: serde_json::Value = serde_json::from_str(&stdout)
                        .unwrap_or_else(|e| panic!("{case}: not one JSON document ({e}): {stdout}"));
                    let expected: serde_json::Value = serde_json::from_str(&reference_out).expect("reference JSON");
                    for key in ["outcome", "verdict", "outcome_as_expected"] {
                        assert_eq!(doc[key], expected[key], "{case}: {key}");
                    }
                } else {
                    let first = |text: &str| text.lines().next().unwrap_or_default().to_string();
                    assert_eq!(first(&stdout), first(&reference_out), "{case}");
                }
            }
        }
    }
}

/// The reviewer's case: 256 workers, standard error a one-page pipe nobody reads, a SIGINT. The
/// 256 "worker N failed: killed by SIGKILL" lines fill the pipe; the signal came before that
/// write, so it gives up within a second, and runner prints its JSON report and exits 130.
#[test]
fn a_signal_ends_the_wait_on_a_standard_error_nobody_reads() {
    let path = job_file("stderr-256.yaml", job(256, 2_000_000_000, "i", "0", "add", "1", "mutex"));
    let (read, write) = tiny_pipe(false);
    let child = Command::new(common::runner_bin())
        .args([path.as_str(), "--format", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(write))
        .spawn()
        .expect("runner starts");
    let begun = Instant::now();
    while children(child.id()).len() < 256 {
        assert!(begun.elapsed() < Duration::from_secs(60), "runner forked no 256 workers in 60 s");
        std::thread::sleep(Duration::from_millis(5));
    }
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).expect("kill");
    let (status, stdout) = bounded(child, "256 workers, SIGINT");
    drop(read);
    assert_eq!(status.code(), Some(130), "ended by {status:?}; stdout:\n{stdout}");
    let doc: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not one JSON document ({e}): {stdout}"));
    assert_eq!(doc["interrupted_by"], "SIGINT");
    assert_eq!(doc["partial"], true);
}

/// A sweep whose standard error is a pipe already full: the first cell's line blocks (runner
/// waits there, as any program would), a SIGINT ends the wait within a second, the sweep stops
/// before its second cell (which would run for ever) and its report is printed; exit 130.
#[test]
fn a_signal_ends_the_wait_on_a_full_standard_error_in_a_sweep() {
    let path = job_file(
        "stderr-sweep-full.yaml",
        "workers: 2\nvalue: {type: i}\noperation: add\nbackend: atomic\nrepeat: 1\nmatrix: {iterations: [1000, 2000000000]}\n",
    );
    let (read, write) = tiny_pipe(true);
    let child = Command::new(common::runner_bin())
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(write))
        .spawn()
        .expect("runner starts");
    // Runner is blocked once it has no worker and sleeps in a write or a poll for a while.
    let pid = child.id();
    let (begun, mut still) = (Instant::now(), None::<Instant>);
    loop {
        let call = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
        let blocked = children(pid).is_empty() && (call.starts_with("1 0x2 ") || call.starts_with("7 "));
        match (blocked, still) {
            (false, _) => still = None,
            (true, None) => still = Some(Instant::now()),
            (true, Some(at)) if at.elapsed() > Duration::from_millis(300) => break,
            (true, Some(_)) => {}
        }
        assert!(begun.elapsed() < Duration::from_secs(30), "runner {pid} never blocked on its standard error");
        std::thread::sleep(Duration::from_millis(5));
    }
    kill(Pid::from_raw(pid as i32), Signal::SIGINT).expect("kill");
    let (status, stdout) = bounded(child, "a sweep, standard error full, SIGINT");
    drop(read);
    assert_eq!(status.code(), Some(130), "ended by {status:?}; stdout:\n{stdout}");
    // The first cell ran; the second was stopped before it started (the signal came between).
    assert!(stdout.contains("completed") && stdout.contains("interrupted"), "the sweep's report: {stdout}");
}

/// A worker blocked on standard error before the start barrier (worker 0's notice that `/proc`
/// refuses its `oom_score_adj`, to a full pipe) cannot hold runner, which waits for every
/// worker to arrive with its signals blocked: a SIGINT ends that wait, the run is stopped, the
/// JSON report printed, exit 130. In a mount namespace of its own with `/proc` read-only (root).
#[test]
fn a_worker_blocked_on_standard_error_before_the_barrier_cannot_hold_runner() {
    const RO_PROC: &str = "mount -o remount,bind,ro /proc && exec \"$0\" \"$@\"";
    let namespace = ["--mount", "--propagation", "private", "--", "sh", "-c", RO_PROC];
    let probe = Command::new("unshare")
        .args(namespace)
        .args(["sh", "-c", "! echo 1 > /proc/self/oom_score_adj"])
        .stderr(Stdio::null())
        .status();
    assert!(
        probe.is_ok_and(|s| s.success()),
        "this test needs root and `unshare --mount` to remount /proc read-only in a mount namespace of its own"
    );
    // One worker: no notice about workers sharing cores comes before it (runner's own, unarmed).
    let path = job_file("stderr-barrier.yaml", job(1, 2_000_000_000, "i", "0", "add", "1", "atomic"));
    let (read, write) = tiny_pipe(true);
    let child = Command::new("unshare")
        .args(namespace)
        .args([common::runner_bin().to_str().expect("path"), path.as_str(), "--format", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(write))
        .spawn()
        .expect("unshare starts");
    // The shell execs runner: the same pid. Runner has forked its worker, and waits for it.
    let (pid, begun) = (child.id(), Instant::now());
    while children(pid).is_empty() {
        assert!(begun.elapsed() < Duration::from_secs(30), "runner forked no worker in 30 s");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(200));
    kill(Pid::from_raw(pid as i32), Signal::SIGINT).expect("kill");
    let (status, stdout) = bounded(child, "a worker blocked before the barrier, SIGINT");
    drop(read);
    assert_eq!(status.code(), Some(130), "ended by {status:?}; stdout:\n{stdout}");
    let doc: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not one JSON document ({e}): {stdout}"));
    assert_eq!(doc["interrupted_by"], "SIGINT");
}

/// No `eprint!` or `eprintln!` in runner's source: they panic when standard error cannot be
/// written and block for ever on one that takes nothing. `stderr!` and `stderrln!`
/// (`src/exec/stderr.rs`) are the way; a forked worker writes through `exec::fork::child_line`.
#[test]
fn runner_writes_to_standard_error_one_way() {
    fn scan(dir: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                scan(&path, found);
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source");
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                let mut rest = code;
                while let Some(at) = rest.find("eprint") {
                    let before = rest[..at].chars().next_back();
                    let after = &rest[at + "eprint".len()..];
                    let ident = before.is_some_and(|c| c.is_alphanumeric() || c == '_');
                    if !ident && (after.starts_with('!') || after.starts_with("ln!")) {
                        found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                    }
                    rest = after;
                }
            }
        }
    }
    let mut found = Vec::new();
    scan(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
    assert!(found.is_empty(), "write through `crate::stderr!`/`crate::stderrln!` instead:\n{}", found.join("\n"));
}
