//! Where runner reads and writes something other than a regular file (issue 16, item 4), and
//! standard descriptors closed at start (item 10). A FIFO or a pipe never holds runner for ever
//! with Ctrl-C ignored: an output FIFO nobody reads is an error at once, whichever way it is
//! named (`--trace`, the job's `trace: {file: ...}`, `--export-*`); one whose reader stops
//! reading holds runner only until a signal; an input FIFO or pipe nobody writes waits, as `cat`
//! would, with Ctrl-C working. A closed standard output is an error, not a lost report.
//!
//! Every wait here is bounded at a minute (each run takes milliseconds): past it, runner is killed
//! and the test fails.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::runner_bin;

const JOB: &str = "workers: 2\niterations: 100\nvalue: {type: i, initial: 0}\noperation: add\nbackend: mutex\n";
const BOUND: Duration = Duration::from_secs(60);

/// A fresh folder of this test's own, with a FIFO named `pipe` in it.
fn folder_with_fifo(name: &str) -> (PathBuf, PathBuf) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("streams").join(format!("{name}.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("pipe");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    (dir, fifo)
}

/// Waits for `child` at most [`BOUND`]; past it, kills it and fails with `what`.
fn wait_bounded(child: &mut Child, what: &str) -> ExitStatus {
    common::wait_at_most(child, BOUND, what)
}

/// Runs runner with `args` in `dir`, standard output discarded, and returns its exit status and
/// standard error, bounded.
fn run_bounded(dir: &Path, args: &[&str], what: &str) -> (ExitStatus, String) {
    let mut child = Command::new(runner_bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_bounded(&mut child, what);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (status, stderr)
}

/// `--trace FIFO` without a reader: on 7dd154f runner blocked in `open()` with SIGINT and SIGTERM
/// already blocked, so only SIGKILL ended it.
#[test]
fn trace_option_to_a_fifo_without_a_reader_is_an_error() {
    let (dir, _fifo) = folder_with_fifo("trace-option");
    std::fs::write(dir.join("job.yaml"), JOB).unwrap();
    let (status, stderr) = run_bounded(&dir, &["job.yaml", "--trace", "pipe"], "--trace FIFO");
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("pipe: a FIFO that nothing is reading"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The job's own `trace: {file: FIFO}`: the same.
#[test]
fn job_trace_file_that_is_a_fifo_without_a_reader_is_an_error() {
    let (dir, _fifo) = folder_with_fifo("trace-file");
    std::fs::write(dir.join("job.yaml"), format!("{JOB}trace: {{file: pipe}}\n")).unwrap();
    let (status, stderr) = run_bounded(&dir, &["job.yaml"], "trace.file FIFO");
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("pipe: a FIFO that nothing is reading"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every export to a FIFO without a reader: the same.
#[test]
fn exports_to_a_fifo_without_a_reader_are_errors() {
    let (dir, _fifo) = folder_with_fifo("exports");
    std::fs::write(dir.join("job.yaml"), JOB).unwrap();
    for option in ["--export-json", "--export-csv", "--export-markdown", "--plot"] {
        let (status, stderr) = run_bounded(&dir, &["job.yaml", option, "pipe"], option);
        assert_eq!(status.code(), Some(2), "{option}: {stderr}");
        assert!(stderr.contains("pipe: a FIFO that nothing is reading"), "{option}: {stderr}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A FIFO whose reader holds it open but never reads: the sweep's export (far more than a pipe
/// holds) fills it, and runner waits for the reader with SIGINT and SIGTERM blocked. On 7dd154f
/// (and on main before this test) that wait ignored SIGTERM; now SIGTERM ends it.
#[test]
fn a_fifo_whose_reader_does_not_read_gives_way_to_sigterm() {
    use std::os::unix::fs::OpenOptionsExt;
    let (dir, fifo) = folder_with_fifo("stalled-reader");
    // 16 cells of about 12 KB of JSON each: three times a pipe's 64 KiB.
    let values: Vec<String> = (1..=16).map(|i| i.to_string()).collect();
    std::fs::write(
        dir.join("job.yaml"),
        format!("{JOB}matrix:\n  iterations: [{}]\n", values.join(", ")).replace("workers: 2", "workers: 1"),
    )
    .unwrap();
    // The reader: this test, which opens the FIFO and never reads it.
    let reader = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(&fifo).unwrap();
    let mut child = Command::new(runner_bin())
        .args(["job.yaml", "--export-json", "pipe"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The last cell's line comes just before the export is written.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.by_ref().map_while(Result::ok) {
            if line.contains("[16/16]") {
                let _ = tx.send(());
            }
        }
    });
    if rx.recv_timeout(BOUND).is_err() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("runner did not finish its 16 cells within {BOUND:?}");
    }
    // Give it time to fill the pipe and wait on it, then ask it to stop.
    std::thread::sleep(Duration::from_millis(500));
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = wait_bounded(&mut child, "SIGTERM to runner writing to a FIFO nobody reads");
    // Ended by the signal, or by its exit code.
    assert!(status.signal() == Some(libc::SIGTERM) || status.code() == Some(143), "{status:?}");
    drop(reader);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Sends SIGINT to a runner that waits for its input and checks that the signal ends it.
fn interrupted_while_reading(mut child: Child, what: &str) {
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "{what}: runner did not wait for its input");
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let status = wait_bounded(&mut child, what);
    assert!(status.signal() == Some(libc::SIGINT) || status.code() == Some(130), "{what}: {status:?}");
}

/// A job file that is a FIFO nobody writes waits for its writer, as `cat` would (a FIFO filled
/// later, `runner <(make-job)`, is a use), and Ctrl-C ends the wait: nothing is blocked yet.
/// (A guard: 7dd154f behaved so too.)
#[test]
fn a_job_fifo_without_a_writer_gives_way_to_sigint() {
    let (dir, _fifo) = folder_with_fifo("job-fifo");
    for args in [&["pipe"][..], &["validate", "pipe"], &["plan", "pipe"]] {
        let child = Command::new(runner_bin())
            .args(args)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        interrupted_while_reading(child, &format!("runner {}", args.join(" ")));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A job read from standard input that never comes: the same.
#[test]
fn a_job_on_standard_input_that_never_comes_gives_way_to_sigint() {
    let mut child = Command::new(runner_bin())
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Held open, never written.
    let stdin = child.stdin.take();
    interrupted_while_reading(child, "runner -");
    drop(stdin);
}

/// Runs `runner ARGS` through `sh -c 'exec runner ARGS REDIRECTIONS'`, so that runner starts
/// with the descriptors the redirections closed; returns its exit code, stdout and stderr.
fn with_closed(args: &str, redirections: &str) -> (Option<i32>, String, String) {
    let script = format!("exec '{}' {args} {redirections}", runner_bin().display());
    let out = Command::new("sh")
        .args(["-c", &script])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Item 10. Started with standard output closed (`>&-`), runner printed its report into the
/// `/dev/null` Rust's runtime puts on a closed descriptor and exited 0 on 7dd154f: the report
/// lost without a word. Now it refuses at once, exit 2, as for a full disk.
#[test]
fn a_closed_standard_output_is_an_error_not_a_lost_report() {
    for args in ["jobs/increment.yaml", "jobs/increment.yaml --format json", "validate jobs/increment.yaml"] {
        let (code, _, stderr) = with_closed(args, ">&-");
        assert_eq!(code, Some(2), "runner {args} >&-: {stderr}");
        assert!(stderr.contains("standard output is closed"), "runner {args} >&-: {stderr}");
    }
    // Standard error closed too: nowhere to say it, and still exit 2.
    let (code, _, stderr) = with_closed("jobs/increment.yaml", ">&- 2>&-");
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr, "");
    // Standard error closed alone: the report is printed (what runner would say on standard
    // error is lost, as for any program) and the run succeeds.
    let (code, stdout, _) = with_closed("jobs/increment.yaml --format json", "2>&-");
    assert_eq!(code, Some(0));
    serde_json::from_str::<serde_json::Value>(&stdout).expect("the report");
}

/// Item 10. `runner -` with standard input closed read the runtime's `/dev/null` and said the
/// job file was empty; now it says why there is no job.
#[test]
fn a_closed_standard_input_is_named_as_such() {
    for args in ["-", "validate -"] {
        let (code, _, stderr) = with_closed(args, "<&-");
        assert_eq!(code, Some(2), "runner {args} <&-: {stderr}");
        assert!(stderr.contains("-: standard input is closed"), "runner {args} <&-: {stderr}");
    }
}

/// An export to a FIFO without a reader is refused before anything runs, as `--trace` is: no
/// run, and in JSON one error document. On 43fc69e the whole job ran, its report was printed,
/// and only then was the export given up, with a message that the file "holds its last rewrite,
/// which says the sweep was in progress" (a stream has no rewrite, and this was no sweep).
#[test]
fn an_export_fifo_without_a_reader_is_refused_before_anything_runs() {
    let (dir, _fifo) = folder_with_fifo("exports-at-once");
    std::fs::write(dir.join("job.yaml"), JOB).unwrap();
    for option in ["--export-json", "--export-csv", "--export-markdown", "--plot"] {
        let mut child = Command::new(runner_bin())
            .args(["job.yaml", "--format", "json", option, "pipe"])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_bounded(&mut child, option);
        let out = child.wait_with_output().unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(2), "{option}: {stderr}");
        let doc: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{option}: {e}: {stdout}"));
        assert!(
            doc["error"].as_str().is_some_and(|e| e.contains("pipe: a FIFO that nothing is reading")),
            "{option}: {doc:#}"
        );
        assert!(doc.get("final").is_none() && doc.get("runs").is_none(), "{option}: nothing ran, yet {doc:#}");
        assert!(!stderr.contains("given up"), "{option}: {stderr}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An export stream whose reader goes away before the end: the run's report says it was not
/// written, as a stream (what its reader got is at most part of it), with no claim of a rewrite
/// or of a sweep.
#[test]
fn an_export_stream_that_cannot_be_written_is_said_to_be_one() {
    use std::os::unix::fs::OpenOptionsExt;
    let (dir, fifo) = folder_with_fifo("export-stream-gone");
    std::fs::write(dir.join("job.yaml"), JOB.replace("iterations: 100", "iterations: 2000000000")).unwrap();
    let reader = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(&fifo).unwrap();
    let mut child = Command::new(runner_bin())
        .args(["job.yaml", "--format", "json", "--export-csv", "pipe"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once runner has the FIFO open (before its run), the reader goes.
    let begun = Instant::now();
    let opened = || {
        std::fs::read_dir(format!("/proc/{}/fd", child.id()))
            .map(|fds| fds.filter_map(Result::ok).any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l == fifo)))
            .unwrap_or(false)
    };
    while !opened() {
        if begun.elapsed() > BOUND {
            let _ = child.kill();
            let _ = child.wait();
            panic!("runner did not open its export's FIFO before its run");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(reader);
    std::thread::sleep(Duration::from_millis(100));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let error = doc["unwritten"][0]["error"].as_str().unwrap_or_else(|| panic!("{doc:#}"));
    assert!(error.contains("given up: a stream gets the export once, after the last cell"), "{error}");
    assert!(!error.contains("rewrite") && !error.contains("sweep"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}
