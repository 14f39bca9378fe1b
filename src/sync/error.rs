//! What can go wrong in a backend, as data: the worker prints it (`runner: worker N: ...`) and
//! exec wraps the parent's side into `error::Error::Setup`. Nothing decides on the text.

use nix::errno::Errno;

/// A backend's failure, in a worker or in the parent.
#[derive(Debug)]
pub(crate) enum BackendError {
    /// A system call failed: what runner was doing, and the error.
    Sys { doing: &'static str, errno: Errno },
    /// An I/O call failed (ipc-channel reports `std::io::Error`).
    Io { doing: &'static str, error: std::io::Error },
    /// mutex: the futex wait failed.
    Lock(Errno),
    /// An ordered schedule's wait ended because runner saw another worker fail.
    TurnAborted,
    /// An ordered schedule's wait ended because the worker whose turn it is died.
    TurnHolderDied { worker: usize },
    /// A fault inside the lock on a backend without one (the planner forbids it).
    NoLock { backend: &'static str },
    /// channel: the owner could not receive (ipc-channel's error).
    Receive(ipc_channel::IpcError),
    /// channel: a message of a length no sender writes.
    Malformed { bytes: usize },
    /// channel: a message from a worker the run does not have.
    UnknownWorker { worker: usize },
    /// channel (ipc): a message carrying another operation or type than the run's.
    Mismatch { worker: usize },
    /// channel (pipe): a header announcing no operand or more than one write holds.
    BadRecords { worker: usize, records: usize, width: usize },
    /// channel (pipe): the pipe ended with part of a message read.
    Cut { kept: usize },
    /// channel (pipe): a write that wrote part of a message.
    ShortWrite { wrote: usize, len: usize },
    /// The Redis engine: what runner or the worker was doing, and the server's or client's error.
    Redis { doing: &'static str, error: String },
}

impl std::fmt::Display for BackendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BackendError::Sys { doing, errno } => write!(f, "{doing}: {errno}"),
            BackendError::Io { doing, error } => write!(f, "{doing}: {error}"),
            BackendError::Lock(errno) => write!(f, "cannot lock the mutex: {errno}"),
            BackendError::TurnAborted => write!(f, "stopped waiting for its turn: another worker failed"),
            BackendError::TurnHolderDied { worker } => {
                write!(f, "stopped waiting for its turn: the worker whose turn it is (worker {worker}) died")
            }
            BackendError::NoLock { backend } => write!(f, "the {backend} backend has no lock to act inside"),
            BackendError::Receive(e) => write!(f, "cannot receive from the workers: {e:?}"),
            BackendError::Malformed { bytes } => write!(f, "malformed message of {bytes} bytes"),
            BackendError::UnknownWorker { worker } => write!(f, "message from unknown worker {worker}"),
            BackendError::Mismatch { worker } => {
                write!(f, "message from worker {worker} carries another operation or type")
            }
            BackendError::BadRecords { worker, records, width } => {
                write!(f, "malformed message from worker {worker}: {records} operands of {width} bytes")
            }
            BackendError::Cut { kept } => {
                write!(f, "the workers' pipe ended in the middle of a message ({kept} bytes)")
            }
            BackendError::ShortWrite { wrote, len } => write!(f, "a short write to the owner: {wrote} of {len} bytes"),
            BackendError::Redis { doing, error } => write!(f, "redis: {doing}: {error}"),
        }
    }
}

impl std::error::Error for BackendError {}
