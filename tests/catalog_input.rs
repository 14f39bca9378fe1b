//! A catalog's later job file read from a FIFO or standard input (issue 16's review, item 3):
//! runner watches for signals by then (they are blocked from its first fork to its exit), so it
//! waits on the file and on its signals together. A signal while it waits ends the catalog with
//! its report (the files that ran; in JSON one document) and the first signal's code; a writer
//! that comes is read as before.
//!
//! Every wait is bounded (30 s to get there, each run takes milliseconds).

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_valid, job, job_file, runner_bin, validator};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// A fresh folder of the test's own with a FIFO `jf.fifo` in it.
fn fifo(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("catalog-input-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let fifo = dir.join("jf.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
    fifo
}

/// A small job: two workers, a few thousand operations (a millisecond).
fn small() -> String {
    job_file("catalog-input-small.yaml", job(2, 1000, "i", "0", "add", "1", "atomic"))
}

/// Waits until runner `pid` has sat in one system call (the same line of
/// `/proc/PID/syscall`) for 300 ms: the first file's run takes a millisecond, so runner is
/// waiting for the second file.
fn waiting(pid: u32) {
    let begun = Instant::now();
    let (mut last, mut since) = (String::new(), Instant::now());
    loop {
        let now = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
        if now != last || now.starts_with("running") {
            (last, since) = (now, Instant::now());
        } else if since.elapsed() > Duration::from_millis(300) {
            return;
        }
        assert!(begun.elapsed() < Duration::from_secs(30), "runner {pid} did not wait for its second file in 30 s");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn start(args: &[&str], format: &str) -> Child {
    Command::new(runner_bin())
        .args(args)
        .args(["--format", format])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runner starts")
}

/// Sends `signal` to runner once it waits for its second file, and checks the catalog's report:
/// the first file's whole run, the second's nothing, the signal's `code`.
fn interrupted(mut child: Child, format: &str, signal: Signal, code: i32, case: &str) {
    // Standard input held open and never written (for `-`).
    let stdin = child.stdin.take();
    waiting(child.id());
    kill(Pid::from_raw(child.id() as i32), signal).expect("kill");
    let out = child.wait_with_output().expect("runner ends");
    drop(stdin);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(code),
        "{case}: ended by {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    if format == "json" {
        let doc: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{case}: not one JSON document ({e}): {stdout:?}"));
        assert_valid(&validator(), &doc);
        let jobs = doc["jobs"].as_array().expect("jobs");
        assert_eq!((jobs[0]["exit_code"].clone(), jobs[0]["report"]["correct"].clone()), (0.into(), true.into()));
        assert_eq!(jobs[0]["report"]["partial"], false, "{case}: {doc:#}");
        assert!(jobs.len() == 1 || jobs[1]["exit_code"] == code, "{case}: {doc:#}");
    } else {
        assert!(stdout.contains("catalog: 1 of 2 jobs ran (interrupted)"), "{case}: {stdout}");
        assert!(stdout.contains("verdict"), "{case}: the first file's report\n{stdout}");
    }
}

/// `runner small.yaml jf.fifo` with nothing writing the FIFO: on 43fc69e the read was made with
/// the signals unblocked, so the signal killed runner and the first file's report was lost.
#[test]
fn a_signal_while_a_catalog_waits_for_a_fifo_keeps_the_report() {
    let small = small();
    for (format, signal, code) in [("json", Signal::SIGINT, 130), ("human", Signal::SIGTERM, 143)] {
        let fifo = fifo(format);
        let child = start(&[&small, &fifo.to_string_lossy()], format);
        interrupted(child, format, signal, code, &format!("{format}, {signal}, FIFO"));
        std::fs::remove_dir_all(fifo.parent().unwrap()).unwrap();
    }
}

/// `runner small.yaml -` with standard input open and never written: the same.
#[test]
fn a_signal_while_a_catalog_waits_for_standard_input_keeps_the_report() {
    let small = small();
    for (format, signal, code) in [("json", Signal::SIGTERM, 143), ("human", Signal::SIGINT, 130)] {
        let child = start(&[&small, "-"], format);
        interrupted(child, format, signal, code, &format!("{format}, {signal}, standard input"));
    }
}

/// A writer that comes late (after runner waited for it) is read whole, as before, from a FIFO
/// and from standard input.
#[test]
fn a_catalog_reads_a_fifo_and_standard_input_that_come_late() {
    let small = small();
    let text = job(2, 100, "i", "0", "add", "1", "mutex");
    let fifo = fifo("late");
    let fifo_name = fifo.to_string_lossy().into_owned();
    for args in [[small.as_str(), fifo_name.as_str()], [small.as_str(), "-"]] {
        let mut child = start(&args, "json");
        waiting(child.id());
        if args[1] == "-" {
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(text.as_bytes()).unwrap();
        } else {
            let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).expect("open the FIFO");
            writer.write_all(text.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().expect("runner ends");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        let doc: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
        assert_eq!(doc["jobs"][1]["report"]["final"], 200, "{args:?}: {doc:#}");
    }
    std::fs::remove_dir_all(fifo.parent().unwrap()).unwrap();
}
