//! Signals to runner (issue 16, items 2, 3 and 7): a second signal, a storm of them, SIGHUP and
//! SIGQUIT, and a signal before the first run. Whatever comes, runner stops its workers, prints
//! the partial report (in JSON one valid document) and exits with the first signal's code; a
//! signal before anything ran is reported as such, with no panic. Each case runs a few times
//! (bounded counts): the races they guard against were lost most of the time, not always.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_valid, children, job, job_file, validator};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Runs of each case.
const RUNS: usize = 4;

/// A 3-worker atomic job that runs far longer than any test, started with its 3 workers
/// forked (so the run is under way when the test's signals come).
fn started(name: &str, format: &str) -> Child {
    let path = job_file(&format!("signals-{name}.yaml"), job(3, 2_000_000_000, "i", "0", "add", "1", "atomic"));
    let child = Command::new(common::runner_bin())
        .args([&path, "--format", format])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runner starts");
    let begun = Instant::now();
    while children(child.id()).len() < 3 {
        assert!(begun.elapsed() < Duration::from_secs(30), "runner forked no 3 workers in 30 s");
        std::thread::sleep(Duration::from_millis(2));
    }
    // The workers are at work once the barrier releases them: a moment more.
    std::thread::sleep(Duration::from_millis(20));
    child
}

fn send(child: &Child, signal: Signal) {
    kill(Pid::from_raw(child.id() as i32), signal).expect("kill");
}

/// Waits for runner and checks its partial report: exit `code`, the report interrupted by
/// `first`, in JSON one document that the schema accepts.
fn partial_report(child: Child, format: &str, first: &str, code: i32, case: &str) {
    let pid = child.id();
    let out = child.wait_with_output().expect("runner ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{case}: runner {pid} ended by {:?}; stderr:\n{stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{case}: {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    if format == "json" {
        let report: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{case}: not one JSON document ({e}): {stdout:?}"));
        assert_valid(&validator(), &report);
        assert_eq!(report["partial"], true, "{case}");
        assert_eq!(report["interrupted_by"], first, "{case}");
        assert_eq!(report["outcome"], "interrupted", "{case}");
    } else {
        assert!(stdout.contains(&format!("interrupted by {first}: the workers were stopped")), "{case}: {stdout}");
    }
}

/// What `timeout` and service managers send: SIGINT, then SIGTERM at once. The report stays,
/// and the code is SIGINT's.
#[test]
fn sigint_then_sigterm_at_once_keeps_the_report_and_the_first_code() {
    for format in ["json", "human"] {
        for i in 0..RUNS {
            let child = started(&format!("int-term-{format}"), format);
            send(&child, Signal::SIGINT);
            send(&child, Signal::SIGTERM);
            partial_report(child, format, "SIGINT", 130, &format!("SIGINT+SIGTERM {format} #{i}"));
        }
    }
}

/// A storm: 20 SIGINTs half a millisecond apart.
#[test]
fn a_storm_of_sigints_keeps_the_report() {
    for format in ["json", "human"] {
        for i in 0..RUNS {
            let child = started(&format!("storm-{format}"), format);
            for _ in 0..20 {
                send(&child, Signal::SIGINT);
                std::thread::sleep(Duration::from_micros(500));
            }
            partial_report(child, format, "SIGINT", 130, &format!("storm {format} #{i}"));
        }
    }
}

/// SIGINT, then SIGTERM 0 to 5 ms later (in turn): the report, and SIGINT's code. (Signals that
/// are both pending when runner reads them are read lowest number first, as the kernel hands
/// them out; SIGINT's 2 is below SIGTERM's 15, so this order is certain either way.)
#[test]
fn two_signals_milliseconds_apart_keep_the_report() {
    for gap in 0..6u64 {
        let child = started("two-apart", "json");
        send(&child, Signal::SIGINT);
        std::thread::sleep(Duration::from_millis(gap));
        send(&child, Signal::SIGTERM);
        partial_report(child, "json", "SIGINT", 130, &format!("SIGINT, SIGTERM {gap} ms later"));
    }
}

/// SIGHUP (the terminal went away) is taken as SIGTERM is: the workers stopped, the report, 129,
/// alone or followed at once by SIGINT.
#[test]
fn sighup_stops_the_run_with_a_report_and_129() {
    for format in ["json", "human"] {
        for i in 0..RUNS / 2 {
            let child = started(&format!("hup-{format}"), format);
            send(&child, Signal::SIGHUP);
            if i % 2 == 1 {
                send(&child, Signal::SIGINT);
            }
            partial_report(child, format, "SIGHUP", 129, &format!("SIGHUP {format} #{i}"));
        }
    }
}

/// SIGQUIT likewise: the report and 131 (no core dump of runner), alone or followed at once by
/// SIGTERM.
#[test]
fn sigquit_stops_the_run_with_a_report_and_131() {
    for format in ["json", "human"] {
        for i in 0..RUNS / 2 {
            let child = started(&format!("quit-{format}"), format);
            send(&child, Signal::SIGQUIT);
            if i % 2 == 1 {
                send(&child, Signal::SIGTERM);
            }
            partial_report(child, format, "SIGQUIT", 131, &format!("SIGQUIT {format} #{i}"));
        }
    }
}

/// `strace`, which holds runner's signalfd4 call (the signals blocked, the watcher not yet
/// open) for 0.3 s: a SIGTERM then comes after the block and before the first run, every time.
fn strace() -> &'static str {
    let found = Command::new("strace").arg("-V").stdout(Stdio::null()).stderr(Stdio::null()).status();
    assert!(
        found.is_ok_and(|s| s.success()),
        "this test needs strace (apt-get install strace): it delays runner's signalfd4 to put a SIGTERM between the signals' block and the first run"
    );
    "strace"
}

/// A SIGTERM after runner blocked the signals but before its first run: no panic, exit 143, and
/// a report that says nothing ran (in JSON the error document, with `interrupted_by`).
#[test]
fn sigterm_before_the_first_run_reports_that_nothing_ran() {
    let strace = strace();
    let path = job_file("signals-startup.yaml", job(3, 30_000_000, "i", "0", "add", "1", "atomic"));
    for format in ["json", "human"] {
        for i in 0..RUNS / 2 {
            let case = format!("start-up SIGTERM {format} #{i}");
            let child = Command::new(strace)
                .args(["-f", "-o", "/dev/null", "-e", "inject=signalfd4:delay_exit=300000"])
                .arg(common::runner_bin())
                .args([&path, "--format", format])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("strace starts");
            // runner, strace's child, is held in signalfd4 right after it blocked the signals:
            // the SIGTERM goes out once /proc says SIGTERM is blocked (not after a guessed
            // delay, which a loaded machine's slow start-up would outrun).
            let runner = runner_under(&child);
            wait_until_sigterm_blocked(runner, &case);
            kill(Pid::from_raw(runner), Signal::SIGTERM).expect("kill");
            let out = child.wait_with_output().expect("strace ends");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!stderr.contains("panicked"), "{case}: {stderr}");
            assert_eq!(out.status.code(), Some(143), "{case}: {stderr}");
            assert!(
                stderr.contains("interrupted by SIGTERM before the first run started: nothing ran"),
                "{case}: {stderr}"
            );
            if format == "json" {
                let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
                assert_valid(&validator(), &doc);
                assert_eq!(doc["interrupted_by"], "SIGTERM", "{case}");
                assert!(doc["error"].as_str().unwrap().contains("nothing ran"), "{case}: {doc}");
            } else {
                assert!(out.stdout.is_empty(), "{case}: {}", String::from_utf8_lossy(&out.stdout));
            }
        }
    }
}

/// Waits until `pid` has SIGTERM blocked (`SigBlk` in /proc/PID/status), for at most a minute.
fn wait_until_sigterm_blocked(pid: i32, case: &str) {
    let bit = 1u64 << (libc::SIGTERM - 1);
    for _ in 0..60_000 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let blocked = status
            .lines()
            .find_map(|l| l.strip_prefix("SigBlk:"))
            .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
            .unwrap_or(0);
        if blocked & bit != 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("{case}: runner never blocked SIGTERM within a minute");
}

/// A standard output that takes nothing (a full pipe nobody reads) cannot keep runner waiting
/// for ever with its signals blocked: after a SIGINT stopped the run, the report's write waits,
/// and a second signal ends the wait (within a second); the code is still the first signal's.
#[test]
fn a_signal_ends_the_wait_on_a_standard_output_that_takes_nothing() {
    for format in ["json", "human"] {
        stuck_stdout(format);
    }
}

fn stuck_stdout(format: &str) {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    let (read, write) = nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC).expect("pipe");
    fcntl(&write, FcntlArg::F_SETPIPE_SZ(4096)).expect("a one-page pipe");
    let page = [b'x'; 4096];
    while nix::unistd::write(&write, &page).is_ok() {}
    fcntl(&write, FcntlArg::F_SETFL(OFlag::empty())).expect("blocking again");
    let path = job_file("signals-stuck-stdout.yaml", job(3, 2_000_000_000, "i", "0", "add", "1", "atomic"));
    let child = Command::new(common::runner_bin())
        .args([&path, "--format", format])
        .stdout(Stdio::from(write))
        .stderr(Stdio::piped())
        .spawn()
        .expect("runner starts");
    let begun = Instant::now();
    while children(child.id()).len() < 3 {
        assert!(begun.elapsed() < Duration::from_secs(30), "runner forked no 3 workers in 30 s");
        std::thread::sleep(Duration::from_millis(2));
    }
    send(&child, Signal::SIGINT);
    // The run stops, and runner waits on the full pipe (how long it takes to get there does not
    // matter: the second signal is read in either place).
    std::thread::sleep(Duration::from_millis(200));
    send(&child, Signal::SIGTERM);
    let out = child.wait_with_output().expect("runner ends");
    drop(read);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{format}: ended by {:?}; stderr:\n{stderr}", out.status);
    assert!(stderr.contains("standard output"), "{stderr}");
}

/// Waits until `pid` is blocked reading its standard input (system call 0, `read`, on fd 0).
fn reading_stdin(pid: u32) {
    let begun = Instant::now();
    while !std::fs::read_to_string(format!("/proc/{pid}/syscall")).is_ok_and(|s| s.starts_with("0 0x0 ")) {
        assert!(begun.elapsed() < Duration::from_secs(30), "runner {pid} did not read its standard input in 30 s");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Ctrl-C still ends runner where it waits for a job file on standard input alone (before any
/// run: the signal's default disposition). As a catalog's second file, see
/// `tests/catalog_input.rs`: the catalog ends with its report.
#[test]
fn sigint_ends_runner_waiting_for_a_job_on_standard_input() {
    use std::os::unix::process::ExitStatusExt;
    // Through `env --default-signal=INT` (it execs runner: the same pid): a harness started in
    // the background of a non-interactive shell (`.ci/run &`) hands SIGINT down ignored, and
    // runner, with no run yet, keeps the disposition it was given.
    let child = Command::new("env")
        .arg("--default-signal=INT")
        .arg(common::runner_bin())
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runner starts");
    reading_stdin(child.id());
    send(&child, Signal::SIGINT);
    let out = child.wait_with_output().expect("runner ends");
    assert_eq!(out.status.signal(), Some(libc::SIGINT), "{:?}", out.status);
}

/// The same for a trace written to a FIFO whose reader reads nothing: a second signal ends the
/// wait, the report is printed (in JSON one document) and the code is the first signal's.
#[test]
fn a_signal_ends_the_wait_on_a_trace_fifo_that_takes_nothing() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("signals-fifo");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let fifo = dir.join("trace.json");
    let _ = std::fs::remove_file(&fifo);
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
    // A reader that never reads (read and write: the open does not wait for a writer).
    let _held = std::fs::OpenOptions::new().read(true).write(true).open(&fifo).expect("open the FIFO");
    let path = job_file("signals-fifo.yaml", job(3, 2_000_000_000, "i", "0", "add", "1", "atomic"));
    let child = Command::new(common::runner_bin())
        .args([&path, "--format", "json", "--trace", &fifo.to_string_lossy(), "--trace-ops"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runner starts");
    let begun = Instant::now();
    while children(child.id()).len() < 3 {
        assert!(begun.elapsed() < Duration::from_secs(30), "runner forked no 3 workers in 30 s");
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(50));
    send(&child, Signal::SIGINT);
    std::thread::sleep(Duration::from_millis(300));
    send(&child, Signal::SIGTERM);
    partial_report(child, "json", "SIGINT", 130, "a trace FIFO that takes nothing");
}

/// A signal between two runs of a sweep is not lost: strace holds the second run's
/// `memfd_create` (its first step) while a SIGTERM comes; the sweep stops there and reports the
/// run that ran and the one the signal stopped, exit 143.
#[test]
fn a_signal_between_two_runs_stops_the_sweep_with_its_report() {
    let strace = strace();
    let memfd_create = match std::env::consts::ARCH {
        "x86_64" => "319 ",
        "aarch64" => "279 ",
        other => panic!("this test knows memfd_create's number on x86_64 and aarch64, not on {other}"),
    };
    let text = job(2, 1000, "i", "0", "add", "1", "atomic") + "repeat: 3\n";
    let path = job_file("signals-between-runs.yaml", text);
    let child = Command::new(strace)
        .args(["-f", "-o", "/dev/null", "-e", "inject=memfd_create:delay_enter=400000:when=2"])
        .arg(common::runner_bin())
        .args([&path, "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("strace starts");
    let runner = runner_under(&child);
    // The first run's memfd_create takes microseconds; the second is held for 0.4 s: seen in it
    // twice 50 ms apart, runner is between the two runs.
    let begun = Instant::now();
    let in_memfd =
        || std::fs::read_to_string(format!("/proc/{runner}/syscall")).is_ok_and(|s| s.starts_with(memfd_create));
    loop {
        if in_memfd() {
            std::thread::sleep(Duration::from_millis(50));
            if in_memfd() {
                break;
            }
        }
        assert!(begun.elapsed() < Duration::from_secs(30), "runner did not reach its second run");
        std::thread::sleep(Duration::from_millis(1));
    }
    kill(Pid::from_raw(runner), Signal::SIGTERM).expect("kill");
    let out = child.wait_with_output().expect("strace ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(143), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_valid(&validator(), &doc);
    assert_eq!(doc["partial"], true);
    let runs = doc["cells"][0]["runs"].as_array().expect("runs");
    assert!(runs.len() < 3, "the third run did not start: {doc}");
    assert!(runs[0]["interrupted_by"].is_null(), "{doc}");
}

/// runner, strace's child, once it runs runner's code.
fn runner_under(strace: &Child) -> i32 {
    let begun = Instant::now();
    loop {
        if let Some(&pid) = children(strace.id()).first()
            && std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.starts_with("runner"))
        {
            return pid;
        }
        assert!(begun.elapsed() < Duration::from_secs(30), "runner did not start under strace");
        std::thread::sleep(Duration::from_millis(2));
    }
}
