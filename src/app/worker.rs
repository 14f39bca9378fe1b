//! `runner worker`: one host's part of a run over several hosts (see `exec::remote`). It
//! watches for signals as a run does (a SIGINT or SIGTERM makes it kill its workers, write what
//! they did and exit), then hands over to the host's side of the run.
//!
//! Owns: only that. Does not own: what the host does (see `exec::remote::host`).

use crate::exec::interrupt::Interrupts;

/// Runs host `host`'s share of the run under `prefix` on the server at `url`.
pub(crate) fn worker(url: &str, prefix: &str, host: usize) -> Result<(), String> {
    let interrupts = Interrupts::arm().map_err(|e| format!("cannot watch for signals: {e}"))?;
    crate::exec::remote::host::serve(url, prefix, host, interrupts)
}
