//! What can go wrong while runner sets a run up, forks it or supervises it, as data. At exec's
//! boundary each becomes an `error::Error`: a failed fork `Error::Fork` (the sweep stops on it),
//! everything else `Error::Setup`. Nothing decides on the text.

use nix::errno::Errno;

use crate::error::Error;
use crate::sync::BackendError;

#[derive(Debug)]
pub(crate) enum ExecError {
    /// The shared mapping could not be made.
    Map(std::io::Error),
    /// The backend could not be set up (a channel's socket or pipe).
    Backend(BackendError),
    /// The channel's owner failed while the workers ran.
    Owner(BackendError),
    /// The start barrier's pipe could not be made.
    Barrier(std::io::Error),
    /// The lifeline's pipe could not be made.
    Lifeline(std::io::Error),
    /// SIGCHLD's default disposition could not be restored.
    Sigchld(Errno),
    /// SIGCHLD could not be blocked and read from a signalfd (`deaths.rs`).
    Deaths(Errno),
    /// The process may not fork now.
    Prepare(super::fork::ForkError),
    /// `pin`: the CPUs runner may use could not be read.
    PinRead(Errno),
    /// `pin`: a CPU runner may not use.
    PinCpu { bad: usize, usable: Vec<usize> },
    /// The channel's waker could not be forked.
    ForkWaker(Errno),
    /// Worker `index` of `workers` could not be forked (those before it were stopped and reaped).
    ForkWorker { index: u32, workers: u32, errno: Errno },
    /// `fork_fail_at`: the fork of worker `index` failed on purpose.
    ForkInjected { index: u32, workers: u32 },
    /// A run over several hosts could not start, or lost a host.
    Hosts(String),
}

impl std::fmt::Display for ExecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExecError::Map(e) => write!(f, "cannot map shared memory: {e}"),
            ExecError::Hosts(e) => write!(f, "hosts: {e}"),
            ExecError::Backend(e) => write!(f, "{e}"),
            ExecError::Owner(e) => write!(f, "channel owner: {e}"),
            ExecError::Barrier(e) => write!(f, "cannot create the start barrier: {e}"),
            ExecError::Lifeline(e) => write!(f, "cannot create a pipe: {e}"),
            ExecError::Sigchld(e) => write!(f, "cannot restore SIGCHLD: {e}"),
            ExecError::Deaths(e) => write!(f, "cannot watch for the workers' deaths (SIGCHLD on a signalfd): {e}"),
            ExecError::Prepare(e) => write!(f, "{e}"),
            ExecError::PinRead(e) => write!(f, "pin: cannot read the CPUs runner may use: {e}"),
            ExecError::PinCpu { bad, usable } => {
                let list = usable.iter().map(usize::to_string).collect::<Vec<_>>().join(", ");
                write!(f, "pin: CPU {bad} is not available to runner (it may use: {list})")
            }
            ExecError::ForkWaker(e) => write!(f, "cannot fork the channel's waker: {e}"),
            ExecError::ForkWorker { index, workers, errno } => {
                write!(f, "cannot fork worker {index} of {workers}: {errno}")
            }
            ExecError::ForkInjected { index, workers } => {
                let before = match index {
                    0 => "no worker had been forked".to_string(),
                    1 => "the 1 worker already forked was stopped and reaped".to_string(),
                    n => format!("the {n} workers already forked were stopped and reaped"),
                };
                write!(
                    f,
                    "cannot fork worker {index} of {workers}: EAGAIN (injected by fork_fail_at: {}); {before}",
                    index + 1
                )
            }
        }
    }
}

impl From<ExecError> for Error {
    fn from(e: ExecError) -> Error {
        match e {
            ExecError::ForkWaker(_) | ExecError::ForkWorker { .. } | ExecError::ForkInjected { .. } => {
                Error::Fork(e.to_string())
            }
            _ => Error::Setup(e.to_string()),
        }
    }
}
