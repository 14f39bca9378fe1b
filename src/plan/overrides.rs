//! [`Overrides`]: the values given on the command line that replace the file's.

use crate::names::{BackendKind, Start};

/// Values given on the command line that replace the file's.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub workers: Option<u64>,
    pub iterations: Option<u64>,
    pub backend: Option<BackendKind>,
    pub start: Option<Start>,
    pub repeat: Option<u64>,
    pub warmup: Option<u64>,
    /// `--timeout` and `--grace`, in nanoseconds.
    pub timeout_ns: Option<u64>,
    pub grace_ns: Option<u64>,
}
