//! A host's heartbeat: a process of its own, forked by `runner worker` before anything else it
//! does, that refreshes the host's beat key every `POLL` on a connection of its own until the
//! host stops it or dies (the heartbeat dies with it: `PDEATHSIG`).
//!
//! Why a process: the host's own commands (its clock's 16 `TIME`s before and after the run, its
//! workers' results) wait as long as `COMMAND_TIMEOUT` each, and under packet loss a connection
//! whose segment was lost again and again waits out TCP's doubling resend timer. Beating from
//! the host's loop alone, such waits added up to a heartbeat's whole life once in CI (20% loss,
//! `host b was lost: its heartbeat lapsed` 41 s into a run whose hosts were alive). Beating
//! here, on a connection nothing else uses, with short timeouts and a new connection after a
//! second of failures, a heartbeat lapses only when the host cannot reach the server for a
//! heartbeat's life, or is gone.
//!
//! Owns: that process. Does not own: what a lapse means (see `coordinate.rs`).

use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, getpid, getppid};

use super::super::fork;
use super::{BEAT_MS, POLL, RunKeys, quick_connection, set};
use crate::clock::now_ns;

/// The name the heartbeat process goes by (`/proc/PID/comm`), beside its host's workers.
pub(crate) const NAME: &std::ffi::CStr = c"runner-beat";

/// A host's running heartbeat.
pub(crate) struct Heartbeat {
    pid: Pid,
}

impl Heartbeat {
    /// Makes host `h`'s beat key on `con` (the host's connection: the first beat is the host's
    /// own, answered before anything else), then forks the heartbeat that refreshes it.
    pub(crate) fn start(con: &mut redis::Connection, url: &str, keys: &RunKeys, h: usize) -> Result<Heartbeat, String> {
        set(con, "beating", &keys.beat(h), "1", BEAT_MS)?;
        fork::default_sigchld().map_err(|e| format!("cannot restore SIGCHLD: {e}"))?;
        let ready = fork::prepare().map_err(|e| e.to_string())?;
        let host = getpid();
        let pid = fork::spawn(&ready, || beat(url, &keys.beat(h), host))
            .map_err(|e| format!("cannot fork the heartbeat: {e}"))?;
        Ok(Heartbeat { pid })
    }

    /// Stops the heartbeat and reaps it: its key lives on until the coordinator deletes it.
    pub(crate) fn stop(self) {
        let _ = kill(self.pid, Signal::SIGKILL);
        let _ = fork::wait(self.pid, true);
    }
}

/// The heartbeat's body: a beat every `POLL` until SIGKILL (from the host, or the kernel when
/// the host dies). Its signals stay as the host blocked them: only SIGKILL ends it.
fn beat(url: &str, key: &str, host: Pid) -> i32 {
    let _ = nix::sys::prctl::set_name(NAME);
    if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() || getppid() != host {
        return 0;
    }
    let mut con: Option<redis::Connection> = None;
    let mut beaten = now_ns();
    loop {
        if con.is_none() {
            con = quick_connection(url);
        }
        if let Some(c) = con.as_mut() {
            // XX: a beat only refreshes the key the host made. A beat still in flight when the
            // host stops this process can reach the server after the coordinator deleted the
            // run's keys; without XX it would make the key again, left for its 30 s.
            let beat = redis::cmd("SET").arg(key).arg("1").arg("PX").arg(BEAT_MS).arg("XX").clone();
            if beat.query::<Option<String>>(c).is_ok() {
                beaten = now_ns();
            } else if now_ns().saturating_sub(beaten) > 1_000_000_000 {
                con = None;
            }
        }
        std::thread::sleep(POLL);
    }
}
