//! What runner-bench counts of a whole process: the C reference builds and ends at 5, wait4's
//! rusage and strace's summary are read right, and a missing strace is said, not guessed.

use std::path::PathBuf;
use std::process::Command;

use runner_bench::count;

const SEED: &str = env!("RUNNER_BENCH_SEED");

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("runner-bench-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_c_reference_builds_and_ends_at_five() {
    let out = Command::new(SEED).output().expect("build.rs built bench/seed.c");
    assert!(out.status.success(), "{:?}", out);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "Final Shared Value: 5");
}

#[test]
fn a_whole_process_is_counted_with_its_children() {
    let usage = count::counted(&mut Command::new(SEED)).expect("the C program runs");
    assert!(usage.wall > 0.0, "{usage:?}");
    assert!(usage.cpu.is_finite() && usage.cpu >= 0.0, "{usage:?}");
    // The program and its 5 children each touch pages: a process faults in dozens at least.
    assert!(usage.faults > 5, "{usage:?}");
    // A shell whose child (dd) faults in a 16 MiB buffer, 4096 pages: counted with the shell's.
    let big = count::counted(
        Command::new("sh").args(["-c", "dd if=/dev/zero of=/dev/null bs=16M count=1 2>/dev/null; true"]),
    )
    .expect("sh runs");
    assert!(big.faults > usage.faults + 1000, "{big:?} against {usage:?}");
}

#[test]
fn a_failing_program_is_an_error() {
    let err = count::counted(&mut Command::new("false")).unwrap_err();
    assert!(err.contains("failed"), "{err}");
    let err = count::counted(&mut Command::new("/nonexistent/program")).unwrap_err();
    assert!(err.contains("cannot run"), "{err}");
}

#[test]
fn strace_summaries_are_read_by_their_header() {
    let summary = "\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
  0.00    0.000000           0         1           read
  0.00    0.000000           0         6         1 wait4
------ ----------- ----------- --------- --------- ----------------
100.00    0.000000           0        51         2 total
";
    assert_eq!(count::strace_calls(summary), Some(51));
    // No errors: the errors column is blank on the total line.
    let clean = summary.replace("        51         2 total", "       218           total");
    assert_eq!(count::strace_calls(&clean), Some(218));
    // Something else before the summary (a program's own output to the same file).
    assert_eq!(count::strace_calls(&format!("hello\n{summary}")), Some(51));
    assert_eq!(count::strace_calls("no summary here\n"), None);
    assert_eq!(count::strace_calls("% time     seconds  usecs/call     calls    errors syscall\n"), None);
}

#[test]
fn system_calls_are_counted_under_strace() {
    let dir = scratch("strace");
    let calls = count::syscalls(&[SEED], &dir.join("summary.txt"))
        .unwrap_or_else(|e| panic!("this test needs strace (.ci/run installs it: apt-get install strace): {e}"));
    // execve, mmap, 5 forks, 5 waits, the write of the result: a few dozen.
    assert!((15..1000).contains(&calls), "{calls}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_missing_strace_is_said_not_guessed() {
    let dir = scratch("nostrace");
    let err = count::syscalls_by("/nonexistent/strace".as_ref(), &[SEED], &dir.join("summary.txt")).unwrap_err();
    assert_eq!(err, "strace is not installed");
    let _ = std::fs::remove_dir_all(dir);
}
