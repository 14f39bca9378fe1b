//! What the Python program says per backend, in one table: adding a backend means one entry
//! in [`of`] (or a reason it has no Python equivalent). The rest of `python/` reads these
//! phrases and switches, never the backend's name.

use crate::names::BackendKind;

/// Why an `atomic` job has no program.
pub const NO_ATOMIC: &str =
    "atomic has no Python equivalent: multiprocessing offers no lock-free atomic; use mutex (get_lock) to compare";

/// A backend as the Python program renders it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Rendering {
    /// The workers send their operations over a queue to the parent, which owns the value
    /// (else each worker updates the shared value itself).
    pub(super) queue: bool,
    /// A worker updates the value under its lock (`with v.get_lock():`).
    pub(super) locked: bool,
    /// Where the update happens, in the header's sentence; `{batch}` is the batch.
    pub(super) words: &'static str,
    /// `__main__`'s line that makes the value; `{tc}` is its typecode, `{initial}` its initial
    /// value, `{short}` its type in two words.
    pub(super) value_line: &'static str,
    /// How the update happens, in the printed summary.
    pub(super) how: &'static str,
    /// Where the busy work `inside` runs.
    pub(super) work_inside: &'static str,
    /// Said after the verdict in the header (empty, or a sentence with a leading space).
    pub(super) verdict_note: &'static str,
}

const MUTEX: Rendering = Rendering {
    queue: false,
    locked: true,
    words: "under the value's lock (`with v.get_lock():`), so no update is lost",
    value_line: "v = Value('{tc}', {initial})  # a {short} in shared memory, with its lock",
    how: "under its lock",
    work_inside: "inside the lock",
    verdict_note: "",
};

const NONE: Rendering = Rendering {
    queue: false,
    locked: false,
    words: "with no lock (a Value made with lock=False, as runner's none backend), so concurrent updates can be lost",
    value_line: "v = Value('{tc}', {initial}, lock=False)  # no lock (a RawValue)",
    how: "with no lock",
    work_inside: "between the read and the write",
    verdict_note: " Without the lock a different value means lost updates.",
};

const CHANNEL: Rendering = Rendering {
    queue: true,
    locked: false,
    words: "without touching the value: each worker puts its operations on a queue, {batch} to a message, and the parent, which owns the value, applies them in arrival order",
    value_line: "v = Value('{tc}', {initial}, lock=False)  # only this process, the owner, touches it",
    how: "through a queue to its owner",
    work_inside: "before sending",
    verdict_note: "",
};

/// How the program renders `kind`, or why it has no Python equivalent.
pub(super) fn of(kind: BackendKind) -> Result<Rendering, &'static str> {
    match kind {
        BackendKind::Mutex => Ok(MUTEX),
        BackendKind::None => Ok(NONE),
        BackendKind::Channel => Ok(CHANNEL),
        BackendKind::Atomic => Err(NO_ATOMIC),
    }
}
