//! The workers forked so far and how they ended: reaping without waiting while they run,
//! stopping them (SIGTERM with a grace, SIGKILL), and waiting for every one at the end.

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::clock::now_ns;
use crate::outcome::Exit;

/// The workers forked so far, and how those already reaped ended.
#[derive(Default)]
pub(super) struct Reaper {
    pids: Vec<Pid>,
    exits: Vec<Option<Exit>>,
}

impl Reaper {
    pub(super) fn with_capacity(workers: usize) -> Reaper {
        Reaper { pids: Vec::with_capacity(workers), exits: Vec::with_capacity(workers) }
    }

    pub(super) fn add(&mut self, pid: Pid) {
        self.pids.push(pid);
        self.exits.push(None);
    }

    /// Reaps the workers that have ended, without waiting; true while any still runs.
    fn any_alive(&mut self) -> bool {
        let mut alive = false;
        for (pid, exit) in self.pids.iter().zip(self.exits.iter_mut()) {
            if exit.is_none() {
                *exit = reap(*pid, WaitPidFlag::WNOHANG);
                alive |= exit.is_none();
            }
        }
        alive
    }

    /// Reaps the workers that have ended, without waiting; true when any of them failed.
    pub(super) fn any_failed(&mut self) -> bool {
        self.any_alive();
        self.exits.iter().flatten().any(|e| !e.success())
    }

    /// Waits for every worker; returns the pids and how each ended.
    pub(super) fn wait_all(mut self) -> (Vec<Pid>, Vec<Exit>) {
        let exits = self
            .pids
            .iter()
            .zip(self.exits.iter_mut())
            .map(|(pid, exit)| {
                exit.take().or_else(|| reap(*pid, WaitPidFlag::empty())).unwrap_or(Exit { code: None, signal: None })
            })
            .collect();
        (self.pids, exits)
    }

    /// SIGTERM to every worker still running, then SIGKILL to those still running after
    /// `grace_ns`, or at once when `hurry` says so (a Ctrl-C during the grace).
    pub(super) fn terminate(&mut self, grace_ns: u64, hurry: &dyn Fn() -> bool) {
        for (pid, exit) in self.pids.iter().zip(&self.exits) {
            if exit.is_none() {
                let _ = kill(*pid, Signal::SIGTERM);
            }
        }
        let until = now_ns().saturating_add(grace_ns);
        while self.any_alive() && now_ns() < until && !hurry() {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        self.kill_all();
    }

    /// Kills every worker still running.
    pub(super) fn kill_all(&self) {
        for (pid, exit) in self.pids.iter().zip(&self.exits) {
            if exit.is_none() {
                let _ = kill(*pid, Signal::SIGKILL);
            }
        }
    }

    /// Kills and reaps every worker after a failure, so that none is left behind.
    pub(super) fn stop(self) {
        self.kill_all();
        self.wait_all();
    }
}

/// Reaps a worker and says how it ended; `None` when `WNOHANG` finds it still running.
fn reap(pid: Pid, flags: WaitPidFlag) -> Option<Exit> {
    loop {
        match waitpid(pid, Some(flags)) {
            Ok(WaitStatus::Exited(_, code)) => return Some(Exit { code: Some(code), signal: None }),
            Ok(WaitStatus::Signaled(_, signal, _)) => {
                return Some(Exit { code: None, signal: Some(signal.as_str().to_string()) });
            }
            Ok(WaitStatus::StillAlive) => return None,
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return Some(Exit { code: None, signal: None }),
        }
    }
}
