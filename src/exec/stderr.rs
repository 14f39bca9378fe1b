//! Standard error, runner's one way to write there: diagnostics, notices, the failed workers,
//! a sweep's cell lines, the progress bar and `-v`'s logs (not a worker's own lines: a forked
//! child writes its few straight, see `worker.rs`).
//!
//! Owns: [`stderr!`](crate::stderr) and [`stderrln!`](crate::stderrln) (in place of `eprint!`
//! and `eprintln!`, which `tests/stderr.rs` refuses anywhere in `src/`), [`print`], and
//! [`Writer`] for what needs an `io::Write` (the progress bar, the logs).
//!
//! What goes to standard error never costs the report: a failure to write it (`2>/dev/full`, a
//! reader gone: EPIPE) is ignored, never a panic; and once runner watches for signals (they are
//! blocked then, see `interrupt.rs`), a write to anything but a regular file goes through
//! [`Interruptible::impatient`]: when nothing takes it, a signal (even one caught before the
//! write) ends the wait within [`GIVE_UP_MS`](super::interrupt::GIVE_UP_MS), and every later
//! write to standard error is dropped at once, so that runner goes on to its report.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use super::interrupt::Interruptible;

/// A signal ended a wait on standard error: nothing more is written there.
static GAVE_UP: AtomicBool = AtomicBool::new(false);

/// `eprint!` that never panics, and that a signal ends when nothing takes what it writes.
#[macro_export]
macro_rules! stderr {
    ($($arg:tt)*) => {
        $crate::exec::stderr::print(::std::format_args!($($arg)*))
    };
}

/// `eprintln!` that never panics, and that a signal ends when nothing takes what it writes.
#[macro_export]
macro_rules! stderrln {
    () => {
        $crate::exec::stderr::print(::std::format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::exec::stderr::line(::std::format_args!($($arg)*))
    };
}

/// Writes `args` to standard error, in one write where it can; a failure is ignored.
pub fn print(args: std::fmt::Arguments<'_>) {
    match args.as_str() {
        Some(text) => write(text.as_bytes()),
        None => write(std::fmt::format(args).as_bytes()),
    }
}

/// Writes `args` and a newline to standard error; a failure is ignored.
pub fn line(args: std::fmt::Arguments<'_>) {
    let mut text = std::fmt::format(args);
    text.push('\n');
    write(text.as_bytes());
}

/// Writes `bytes` to standard error (through [`Interruptible::impatient`] once runner watches
/// for signals); a failure is ignored.
pub fn write(bytes: &[u8]) {
    if bytes.is_empty() || GAVE_UP.load(Ordering::Relaxed) {
        return;
    }
    let mut out = Interruptible::impatient(std::io::stderr().lock());
    let _ = out.write_all(bytes);
    if out.gave_up() {
        GAVE_UP.store(true, Ordering::Relaxed);
    }
}

/// Standard error as an `io::Write` that always succeeds (what it could not write is
/// dropped): for the progress bar and the logs, which must not fail or panic either.
#[derive(Debug, Clone, Copy, Default)]
pub struct Writer;

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        write(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl std::os::fd::AsRawFd for Writer {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        std::io::stderr().as_raw_fd()
    }
}
