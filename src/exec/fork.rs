//! The only place that forks, and the only way a child process ends.
//!
//! Rules kept here: the parent is single-threaded at every fork (checked, not assumed, by
//! [`prepare`] in runner's `/proc/self/status`, whose token every fork needs); buffered output
//! is flushed before forking so no child inherits and repeats it; a child runs its body inside
//! `catch_unwind` and leaves only through `_exit` ([`leave`], also the way out of a fault's
//! `exit` in the middle of the body), so it never returns into the parent's code, runs its
//! destructors or flushes its copies of the parent's buffers. A child's panic prints one line, never a backtrace (whatever
//! `RUST_BACKTRACE` says): an injected panic is an event of the run, not a bug in runner. Also
//! the one change a child may make to how the kernel schedules it ([`apply_policy`]), a
//! child's standing with the OOM killer ([`raise_oom_score`]), and the reaping of a child with
//! its resource usage ([`wait`]).

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};

use nix::sys::signal::{SigHandler, Signal, signal};
use nix::unistd::{ForkResult, Pid, fork};

/// A child's exit status when its body panicked (as Rust's own panic exit code).
pub(crate) const EXIT_PANIC: i32 = crate::outcome::EXIT_PANIC;

/// Proof that the process may fork now: it has one thread and nothing buffered to repeat.
/// Made once before a batch of forks (nothing prints between them), so the loop itself writes as
/// few of the parent's pages as it can: each page written after a fork is copied.
pub(crate) struct Ready {
    /// What runner held then (KiB, `VmRSS`), which every child shares from its fork on; 0
    /// where /proc cannot say.
    pub(crate) held_kib: u64,
    /// What a child writes to raise its OOM score, and where ([`raise_oom_score`]).
    pub(crate) oom: OomScore,
}

/// The path of a process's own `oom_score_adj` and the score a child writes there, copied by
/// `prepare` into the parent's memory (the `Ready` it returns, kept on the parent's stack while
/// it forks): a child inherits those pages mapped, while the kernel reading the constants from
/// the executable would take a page fault in each child for each of their pages (two of a
/// worker's 21 in the tutorial).
pub(crate) struct OomScore {
    path: [u8; OOM_PATH.len()],
    score: [u8; OOM_SCORE_ADJ.len()],
}

impl OomScore {
    fn new() -> OomScore {
        let mut oom = OomScore { path: [0; OOM_PATH.len()], score: [0; OOM_SCORE_ADJ.len()] };
        oom.path.copy_from_slice(OOM_PATH);
        oom.score.copy_from_slice(OOM_SCORE_ADJ);
        // The copies are made here, in the parent, not folded into the child's reads.
        std::hint::black_box(oom)
    }
}

/// Why the process may not fork now.
#[derive(Debug)]
pub(crate) enum ForkError {
    /// `/proc/self/status` could not be read, or had no `Threads:` line.
    Status(std::io::Error),
    /// More than one thread.
    Threads(usize),
}

impl std::fmt::Display for ForkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ForkError::Status(e) => write!(f, "cannot read the thread count in /proc/self/status: {e}"),
            ForkError::Threads(n) => write!(f, "refusing to fork: runner has {n} threads, it must have one"),
        }
    }
}

/// Checks that the process has one thread and flushes standard output and error. Fails when
/// there is more than one thread: forking then copies only the caller, and a lock held by
/// another thread would stay locked in the child for ever. Also installs, once per process, the
/// panic hook every child inherits (see [`child_panics_in_one_line`]).
pub(crate) fn prepare() -> Result<Ready, ForkError> {
    let status = super::status::read().map_err(ForkError::Status)?;
    let threads = status.threads.ok_or_else(|| ForkError::Status(std::io::Error::other("no Threads: line")))?;
    if threads != 1 {
        return Err(ForkError::Threads(threads));
    }
    child_panics_in_one_line();
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    Ok(Ready { held_kib: status.rss_kib, oom: OomScore::new() })
}

/// Installs, once per process and before its first fork, a panic hook that every child inherits:
/// in a child, one line (the default hook would print a backtrace with `RUST_BACKTRACE` set, and
/// symbolise it: tens of MiB and milliseconds); in runner itself, the hook it had. Installed in
/// the parent rather than in each child, so that a child writes none of the pages that setting
/// a hook writes (each page written after a fork is copied).
fn child_panics_in_one_line() {
    static HOOKED: std::sync::Once = std::sync::Once::new();
    HOOKED.call_once(|| {
        let runner = std::process::id();
        let before = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::process::id() == runner {
                return before(info);
            }
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("(no message)");
            child_line(format_args!("runner: worker process {} panicked: {message}", std::process::id()));
        }));
    });
}

/// Restores the default disposition of SIGCHLD: one inherited as ignored would make the kernel
/// reap the workers itself, and `waitpid` could not say how they ended.
pub(crate) fn default_sigchld() -> nix::Result<()> {
    // SAFETY: installing the default disposition runs no handler code, so nothing can be
    // called from a signal context.
    unsafe { signal(Signal::SIGCHLD, SigHandler::SigDfl) }.map(drop)
}

/// Forks a child that runs `body` and exits with its result; returns the child's pid. The
/// caller prints nothing between [`prepare`] and its forks.
pub(crate) fn spawn(_ready: &Ready, body: impl FnOnce() -> i32) -> nix::Result<Pid> {
    // SAFETY: the process is single-threaded (`prepare` checked it and runner starts no thread),
    // so the child gets a consistent copy of every lock and allocator state, and it may call any
    // function, not only async-signal-safe ones.
    match unsafe { fork() }? {
        ForkResult::Parent { child } => Ok(child),
        ForkResult::Child => {
            let code = match catch_unwind(AssertUnwindSafe(body)) {
                Ok(code) => code,
                Err(payload) => {
                    // Dropping the payload could panic again, outside the catch: leak it.
                    std::mem::forget(payload);
                    EXIT_PANIC
                }
            };
            leave(code)
        }
    }
}

/// A forked child's line on standard error, in one write where it can; a failure is ignored
/// (`eprintln!` would panic on `2>/dev/full`, and a panic in the panic hook aborts the child).
/// Written straight, not through `exec::stderr`: the child's signals have their default
/// dispositions again, so a child blocked on a full pipe holds only itself, and runner kills
/// it at a signal or the deadline like any other worker.
pub(crate) fn child_line(args: std::fmt::Arguments<'_>) {
    let mut text = std::fmt::format(args);
    text.push('\n');
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// Ends a child process at once with `code`, from anywhere in its body: after the body returns,
/// or in the middle of it (a fault's `exit`, mid-update, as a process calling `exit()` there
/// would). Nothing written is lost: standard error is unbuffered (what a child writes there
/// goes out at once, `child_line`), and standard output was flushed before the fork and is
/// never written in a child. (Flushing standard error anyway would take its lock: a page of the
/// parent's data written, so copied, by every child.)
pub(crate) fn leave(code: i32) -> ! {
    // SAFETY: `_exit` ends the process at once. Skipping atexit handlers and destructors is the
    // point: they belong to the parent.
    unsafe { libc::_exit(code) }
}

/// What a child writes to its own `oom_score_adj`: the most, so that under memory pressure the
/// kernel's OOM killer takes a child (a worker, whose death runner reports, or the channel's
/// waker) before runner (whose death loses the report). Any process may raise its own score;
/// none may lower it unprivileged.
pub(crate) const OOM_SCORE_ADJ: &[u8] = b"1000";

/// `/proc/self/oom_score_adj`, NUL-terminated.
const OOM_PATH: &[u8] = b"/proc/self/oom_score_adj\0";

/// Makes the calling child the OOM killer's first choice: writes [`OOM_SCORE_ADJ`] to its own
/// score, through `/proc/self` (the process's own entry, whatever pid namespace `/proc` was
/// mounted for; never `/proc/<pid>` from the parent). In two system calls, `open` and `write`,
/// of the path and score `oom` holds (the parent's copies, see [`OomScore`]), with nothing
/// allocated: the descriptor (close-on-exec) closes when the child exits, and a worker touches
/// no page of the parent's heap, nor the code of `std::fs`. The score cannot be inherited
/// instead: runner would have to hold it while it forks, and the OOM killer would take runner
/// then (`tests/oom.rs`).
#[inline]
pub(crate) fn raise_oom_score(oom: &OomScore) -> std::io::Result<()> {
    const { assert!(OOM_PATH[OOM_PATH.len() - 1] == 0) };
    // SAFETY: `oom.path` is a copy of `OOM_PATH`, NUL-terminated (asserted above); `open` reads
    // it and returns a descriptor or -1, touching no memory of ours.
    let fd = unsafe { libc::open(oom.path.as_ptr().cast(), libc::O_WRONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is the descriptor just opened; the buffer is `oom.score`, of that length,
    // which `write` only reads.
    let written = unsafe { libc::write(fd, oom.score.as_ptr().cast(), oom.score.len()) };
    match written {
        n if n == oom.score.len() as isize => Ok(()),
        n if n < 0 => Err(std::io::Error::last_os_error()),
        _ => Err(std::io::Error::from(std::io::ErrorKind::WriteZero)),
    }
}

/// Moves the calling process to the scheduling policy `policy` names (see
/// [`crate::plan::WorkerPolicy`]). `SCHED_IDLE` runs only when no process of a normal policy
/// wants its CPU, and a waking normal process takes the CPU from it at once; any process may move
/// itself there, and only a privileged one could come back. `SCHED_BATCH`, a fair policy like the
/// default, keeps the process's weight and only gives up preempting a running process when it
/// wakes; it is asked for only from the default `SCHED_OTHER` (a worker that runner's user started
/// under another policy, `chrt -f` or `chrt -i`, keeps it). `Normal` changes nothing.
pub(crate) fn apply_policy(policy: crate::plan::WorkerPolicy) -> std::io::Result<()> {
    use crate::plan::WorkerPolicy;
    let to = match policy {
        WorkerPolicy::Normal => return Ok(()),
        WorkerPolicy::Idle => libc::SCHED_IDLE,
        // SAFETY: `sched_getscheduler` reads this process's policy and changes nothing.
        WorkerPolicy::Batch if unsafe { libc::sched_getscheduler(0) } != libc::SCHED_OTHER => return Ok(()),
        WorkerPolicy::Batch => libc::SCHED_BATCH,
    };
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: `param` is a valid, initialised `sched_param` that outlives the call; the call
    // changes only this process's scheduling policy.
    let rc = unsafe { libc::sched_setscheduler(0, to, &param) };
    if rc == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

/// How a reaped child ended, its peak resident memory (KiB) and its CPU time and context
/// switches, from `wait4`: the child's own, from its fork to its exit (the peak counts the pages
/// it shared with runner from the fork on).
pub(crate) struct Reaped {
    pub(crate) status: nix::sys::wait::WaitStatus,
    pub(crate) peak_kib: u64,
    pub(crate) cpu: crate::outcome::Cpu,
}

/// Waits for child `pid` (without blocking when `hang` is false: `None` while it runs), and
/// returns how it ended with its own resource usage, which `waitpid` does not give (the same
/// system call: glibc's `waitpid` is `wait4` without the usage).
pub(crate) fn wait(pid: Pid, hang: bool) -> nix::Result<Option<Reaped>> {
    let mut status: libc::c_int = 0;
    // SAFETY: all-zero bytes are a valid `rusage` (integers and `timeval`s).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let flags = if hang { 0 } else { libc::WNOHANG };
    // SAFETY: `status` and `usage` are valid, writable and outlive the call; `wait4` writes
    // only into them.
    let rc = unsafe { libc::wait4(pid.as_raw(), &mut status, flags, &mut usage) };
    match rc {
        0 => Ok(None),
        rc if rc < 0 => Err(nix::errno::Errno::last()),
        rc => Ok(Some(Reaped {
            status: nix::sys::wait::WaitStatus::from_raw(Pid::from_raw(rc), status)?,
            peak_kib: usage.ru_maxrss.max(0) as u64,
            cpu: crate::outcome::Cpu::of(&usage),
        })),
    }
}
