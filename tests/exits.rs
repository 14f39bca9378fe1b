//! How runner and its workers leave (issue 16, item 10): a worker leaves only through `_exit`,
//! even by a declared `exit` fault, so that nothing of the parent's runs twice; command-line
//! durations are limited as the job file's are.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Test, runner_bin};

/// A shared library whose constructor registers an exit handler that writes one line with its
/// process's pid on standard error: preloaded into runner, it shows which processes ran the
/// parent's exit handlers. Built with the C compiler that links Rust programs.
fn atexit_library(dir: &Path) -> std::path::PathBuf {
    let source = dir.join("atexit.c");
    std::fs::write(
        &source,
        r#"#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static void said(void) {
    char line[64];
    int n = snprintf(line, sizeof line, "atexit ran in %d\n", (int)getpid());
    if (write(2, line, n) < 0) {}
}
__attribute__((constructor)) static void hook(void) { atexit(said); }
"#,
    )
    .unwrap();
    let library = dir.join("libatexit.so");
    let built = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&library)
        .arg(&source)
        .status()
        .unwrap_or_else(|e| panic!("this test needs a C compiler (`cc`) to build its preloaded library: {e}"));
    assert!(built.success(), "cc could not build {}", source.display());
    library
}

/// On 7dd154f a worker's `exit` fault called `std::process::exit`, which ran the exit handlers
/// the parent had registered (and flushed its copies of the parent's buffers) in the child:
/// the handler's line came twice, once from the worker. Now only runner runs them.
#[test]
fn an_exit_fault_leaves_through_underscore_exit() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("exits").join(format!("atexit.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let library = atexit_library(&dir);
    let job = dir.join("job.yaml");
    std::fs::write(
        &job,
        "workers: 3\niterations: 1000\nvalue: {type: i}\noperation: add\nbackend: atomic\n\
         faults:\n  - {worker: 1, at: 10, action: exit, code: 7}\nexpect_outcome: worker_failed\n",
    )
    .unwrap();
    let out = Command::new(runner_bin())
        .args([&job.to_string_lossy(), "--format", "json"])
        .env("LD_PRELOAD", &library)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert_eq!(report["workers"][1]["exit"]["code"], 7, "{report}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let ran: Vec<&str> = stderr.lines().filter(|l| l.starts_with("atexit ran in ")).collect();
    // The handler works (runner itself runs it once, as it leaves) and no worker ran it.
    assert_eq!(ran.len(), 1, "the parent's exit handlers ran in a worker:\n{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// On 7dd154f `--timeout` and `--grace` took any number of seconds (`100000000000s`, beyond
/// what a `u64` of nanoseconds holds) while the job file capped a timeout at a week; now the
/// command line is read and limited as the file is.
#[test]
fn command_line_durations_are_capped_at_a_week() {
    for args in [
        ["--timeout", "100000000000s"],
        ["--timeout", "18446744073709551616ns"],
        ["--timeout", "169h"],
        ["--grace", "100000000000s"],
    ] {
        let out = Test::new().args(&["jobs/increment.yaml"]).args(&args).run();
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert_eq!(out.stdout, "", "{args:?}: nothing runs");
        assert!(out.stderr.contains("at most a week (168h)"), "{args:?}: {}", out.stderr);
    }
    // A week itself is accepted.
    Test::new().args(&["jobs/increment.yaml", "--timeout", "168h", "--grace", "168h"]).status(0).run();
}
