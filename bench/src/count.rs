//! What a whole process costs, counted by the kernel rather than timed from outside alone: wall
//! time, CPU time and page faults of a process and every child it waited for (`wait4`'s
//! rusage), and its system calls under `strace -f -c`.
//!
//! Owns: running a program for its counts and reading strace's summary. Does not own what is
//! compared with what (`main.rs`).

use std::ffi::OsStr;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Instant;

/// What one run of a program cost, its own and its reaped descendants' together.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Usage {
    /// Seconds from spawning the program to reaping it.
    pub wall: f64,
    /// User plus system CPU seconds.
    pub cpu: f64,
    /// Minor plus major page faults.
    pub faults: u64,
}

/// Runs `command` (its output thrown away) and reaps it with `wait4`, whose rusage covers the
/// program and every child it waited for; an error when it cannot start or does not exit 0.
pub fn counted(command: &mut Command) -> Result<Usage, String> {
    let t0 = Instant::now();
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data the kernel fills in; all-zero is a valid value of it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = loop {
        // SAFETY: waits for our own child, whose Child handle is never waited on (dropping it
        // does not wait); both pointers are to live locals.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        break r;
    };
    let wall = t0.elapsed().as_secs_f64();
    drop(child);
    if reaped != pid {
        return Err(format!("cannot reap {command:?}: {}", std::io::Error::last_os_error()));
    }
    let status = ExitStatus::from_raw(status);
    if !status.success() {
        return Err(format!("{command:?} failed: {status}"));
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok(Usage {
        wall,
        cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        faults: (usage.ru_minflt + usage.ru_majflt) as u64,
    })
}

/// The system calls of `program` and every process it forks, from one run under
/// `strace -f -c` (its output thrown away), summary written to `summary`. An error names what
/// went wrong (strace missing, the program failing, a summary it cannot read), never a guess.
pub fn syscalls<S: AsRef<OsStr>>(program: &[S], summary: &Path) -> Result<u64, String> {
    syscalls_by("strace".as_ref(), program, summary)
}

/// [`syscalls`] with the strace found at `strace`.
pub fn syscalls_by<S: AsRef<OsStr>>(strace: &OsStr, program: &[S], summary: &Path) -> Result<u64, String> {
    let out = Command::new(strace)
        .args(["-f", "-c", "-o"])
        .arg(summary)
        .arg("--")
        .args(program)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err("strace is not installed".into()),
        Err(e) => return Err(format!("cannot run strace: {e}")),
    };
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("strace failed ({}): {}", out.status, err.trim()));
    }
    let text = std::fs::read_to_string(summary).map_err(|e| format!("cannot read {}: {e}", summary.display()))?;
    strace_calls(&text).ok_or_else(|| format!("{}: no `total` line in strace's summary", summary.display()))
}

/// The `calls` column of the `total` line of a `strace -c` summary:
///
/// ```text
/// % time     seconds  usecs/call     calls    errors syscall
/// ------ ----------- ----------- --------- --------- ----------------
///   0.00    0.000000           0         1           read
/// ...
/// 100.00    0.000000           0        51         2 total
/// ```
///
/// The column is found by its header (errors may be blank, so counting from the end would not
/// do).
pub fn strace_calls(summary: &str) -> Option<u64> {
    let mut lines = summary.lines();
    let header = lines.by_ref().find(|l| l.trim_start().starts_with("% time"))?;
    // "% time" is one column written as two words.
    let column = header.split_whitespace().position(|w| w == "calls")? - 1;
    let total = lines.find(|l| l.split_whitespace().last() == Some("total"))?;
    total.split_whitespace().nth(column)?.parse().ok()
}
