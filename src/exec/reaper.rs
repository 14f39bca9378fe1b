//! The workers forked so far and how they ended: reaping without waiting while they run,
//! stopping them (SIGTERM with a grace, SIGKILL only to those still running after it, counted),
//! and waiting for every one at the end, with each one's own peak resident memory, CPU time and
//! context switches (the `rusage` that the `wait4` reaping it returns: no system call more).

use std::collections::HashMap;

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::Pid;

use crate::clock::now_ns;
use crate::outcome::{Cpu, Exit};

/// How a worker ended, with what the kernel said of it when it was reaped.
#[derive(Clone, Debug)]
pub(super) struct Gone {
    pub(super) exit: Exit,
    /// Its peak resident memory (KiB); 0 when it could not be reaped.
    pub(super) peak_kib: u64,
    /// Its CPU time and context switches; `None` when it could not be reaped.
    pub(super) cpu: Option<Cpu>,
}

impl Gone {
    /// A worker that could not be reaped: how it ended is unknown, and it has no usage.
    fn unknown() -> Gone {
        Gone { exit: Exit { code: None, signal: None }, peak_kib: 0, cpu: None }
    }
}

/// The workers forked so far, and how those already reaped ended (with their usage).
#[derive(Default)]
pub(super) struct Reaper {
    pids: Vec<Pid>,
    exits: Vec<Option<Gone>>,
    /// Each worker's index by pid.
    index: HashMap<Pid, usize>,
    /// The workers reaped since the last [`Reaper::take_ended`], by index.
    ended: Vec<usize>,
    /// Every child of runner's is a worker (no channel waker runs): an ended child may be
    /// reaped without being named first.
    workers_only: bool,
    /// The workers that failed (a signal, an exit code but 0), by index, and when runner
    /// reaped each (CLOCK_MONOTONIC ns): the trace's moments of death. Nothing is read for a
    /// worker that ended well.
    died: Vec<(usize, u64)>,
}

/// How runner stopped the workers at the deadline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Terminated {
    /// When the SIGTERMs were sent.
    pub(super) at: u64,
    /// Workers still running then, that got SIGTERM.
    pub(super) termed: u32,
    /// Of those, the ones still running after the grace, that got SIGKILL.
    pub(super) killed: u32,
}

impl Reaper {
    pub(super) fn with_capacity(workers: usize) -> Reaper {
        Reaper {
            pids: Vec::with_capacity(workers),
            exits: Vec::with_capacity(workers),
            index: HashMap::with_capacity(workers),
            ended: Vec::new(),
            workers_only: false,
            died: Vec::new(),
        }
    }

    /// Says that every child runner has is a worker of this reaper's: no channel waker, whose
    /// owner reaps it. [`Reaper::reap_ended`] then reaps any ended child at once, in one system
    /// call a death instead of two.
    pub(super) fn workers_only(&mut self) {
        self.workers_only = true;
    }

    /// A worker just forked. Only its pid is written: between two forks the parent writes as few
    /// pages as it can (each page written after a fork is copied while the child shares it), so
    /// the rest of the books ([`Reaper::books`]) is written once, when next asked.
    pub(super) fn add(&mut self, pid: Pid) {
        self.pids.push(pid);
    }

    /// Brings how each worker ended, and each one's index by pid, up to the pids added.
    fn books(&mut self) {
        for index in self.exits.len()..self.pids.len() {
            self.index.insert(self.pids[index], index);
            self.exits.push(None);
        }
    }

    /// Reaps the workers that have ended, without waiting; true while any still runs.
    fn any_alive(&mut self) -> bool {
        self.books();
        let mut alive = false;
        for index in 0..self.pids.len() {
            if self.exits[index].is_none() {
                match reap(self.pids[index], false) {
                    Some(gone) => self.record(index, gone),
                    None => alive = true,
                }
            }
        }
        alive
    }

    /// Worker `index` was just reaped: how it ended, among those to tell the backends of, and,
    /// when it failed, when (for the trace).
    fn record(&mut self, index: usize, gone: Gone) {
        note_death(&mut self.died, index, &gone.exit);
        self.exits[index] = Some(gone);
        self.ended.push(index);
    }

    /// Reaps the workers that have ended, without waiting and without asking each worker: the
    /// kernel names an ended child without reaping it (`waitid` with `WNOWAIT`), and a worker
    /// so named is reaped, until none is left. A child that is no worker (the channel's
    /// waker, its owner's to reap) stops the naming; then every worker is asked in turn.
    pub(super) fn reap_ended(&mut self) {
        self.books();
        if self.workers_only {
            return self.reap_any();
        }
        loop {
            let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
            let Ok(status) = waitid(Id::All, flags) else { return };
            let Some(pid) = status.pid() else { return };
            match self.index.get(&pid) {
                Some(&index) if self.exits[index].is_none() => match reap(pid, false) {
                    Some(exit) => self.record(index, exit),
                    None => return,
                },
                _ => {
                    self.any_alive();
                    return;
                }
            }
        }
    }

    /// Reaps every ended child without waiting (`wait4(-1, WNOHANG)`), for a runner whose
    /// children are all workers. A child that is no worker of this reaper's after all (one
    /// runner inherited across the exec that started it) is reaped and passed over: runner is
    /// its only parent, and nobody else could ever reap it.
    fn reap_any(&mut self) {
        loop {
            match super::fork::wait(Pid::from_raw(-1), false) {
                Ok(Some(reaped)) => {
                    let Some(pid) = reaped.status.pid() else { continue };
                    let Some(exit) = exit_of(&reaped) else { continue };
                    if let Some(&index) = self.index.get(&pid)
                        && self.exits[index].is_none()
                    {
                        self.record(index, exit);
                    }
                }
                Err(nix::errno::Errno::EINTR) => continue,
                Ok(None) | Err(_) => return,
            }
        }
    }

    /// The workers reaped since the last call, by index.
    pub(super) fn take_ended(&mut self) -> Vec<usize> {
        std::mem::take(&mut self.ended)
    }

    /// Reaps the workers that have ended, without waiting; true when any of them failed.
    pub(super) fn any_failed(&mut self) -> bool {
        self.any_alive();
        self.exits.iter().flatten().any(|g| !g.exit.success())
    }

    /// Waits for every worker; returns the pids, how each ended with its usage (none when it
    /// could not be reaped), and the failed ones with when each was reaped.
    pub(super) fn wait_all(mut self) -> (Vec<Pid>, Vec<Gone>, Deaths) {
        self.books();
        let died = &mut self.died;
        let exits = self
            .pids
            .iter()
            .zip(self.exits.iter_mut())
            .enumerate()
            .map(|(index, (pid, exit))| {
                exit.take()
                    .or_else(|| reap(*pid, true).inspect(|g| note_death(died, index, &g.exit)))
                    .unwrap_or_else(Gone::unknown)
            })
            .collect();
        (self.pids, exits, self.died)
    }

    /// SIGTERM to every worker still running, then SIGKILL to those still running after
    /// `grace_ns`, or at once when `hurry` says so (a Ctrl-C during the grace). Says how many
    /// got each.
    pub(super) fn terminate(&mut self, grace_ns: u64, hurry: &dyn Fn() -> bool) -> Terminated {
        self.any_alive();
        let at = now_ns();
        let mut termed = 0;
        for (pid, exit) in self.pids.iter().zip(&self.exits) {
            if exit.is_none() {
                let _ = kill(*pid, Signal::SIGTERM);
                termed += 1;
            }
        }
        let until = at.saturating_add(grace_ns);
        while self.any_alive() && now_ns() < until && !hurry() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        Terminated { at, termed, killed: self.kill_all() }
    }

    /// Kills every worker still running; returns how many.
    pub(super) fn kill_all(&mut self) -> u32 {
        // Those that ended since the last look are not killed (nor counted).
        self.any_alive();
        let mut killed = 0;
        for (pid, exit) in self.pids.iter().zip(&self.exits) {
            if exit.is_none() {
                let _ = kill(*pid, Signal::SIGKILL);
                killed += 1;
            }
        }
        killed
    }

    /// Kills and reaps every worker after a failure, so that none is left behind.
    pub(super) fn stop(mut self) {
        self.kill_all();
        self.wait_all();
    }
}

/// The failed workers, by index, each with when runner reaped it (CLOCK_MONOTONIC ns).
pub(super) type Deaths = Vec<(usize, u64)>;

/// A failed worker just reaped: when, for the trace (a clock read only for a failure).
fn note_death(died: &mut Vec<(usize, u64)>, index: usize, exit: &Exit) {
    if !exit.success() {
        died.push((index, now_ns()));
    }
}

/// Reaps a worker and says how it ended, with its usage; `None` when it is still running and
/// `hang` is false.
fn reap(pid: Pid, hang: bool) -> Option<Gone> {
    loop {
        match super::fork::wait(pid, hang) {
            Ok(None) => return None,
            Ok(Some(reaped)) => match exit_of(&reaped) {
                Some(exit) => return Some(exit),
                None => continue,
            },
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return Some(Gone::unknown()),
        }
    }
}

/// How a reaped child ended, with its usage; `None` for a status that is no end (stopped,
/// continued).
fn exit_of(reaped: &super::fork::Reaped) -> Option<Gone> {
    let exit = match reaped.status {
        WaitStatus::Exited(_, code) => Exit { code: Some(code), signal: None },
        WaitStatus::Signaled(_, signal, _) => Exit { code: None, signal: Some(signal.as_str().to_string()) },
        _ => return None,
    };
    Some(Gone { exit, peak_kib: reaped.peak_kib, cpu: Some(reaped.cpu) })
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    /// Waits until `pid` runs `comm` (it has exec'd, so its signal dispositions are set).
    fn wait_for_exec(pid: u32, comm: &str) {
        for _ in 0..10_000 {
            if std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == comm) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        panic!("{pid} never ran {comm}");
    }

    /// Waits until `pid` has ended and is not yet reaped.
    fn wait_for_zombie(pid: u32) {
        for _ in 0..10_000 {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            if stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        panic!("{pid} never ended");
    }

    // The reaper under test reaps the workers, not their `Child` handles.
    #[allow(clippy::zombie_processes)]
    #[test]
    fn ended_workers_are_reaped_even_behind_a_child_that_is_no_worker() {
        // A child that is no worker (as the channel's waker) ends first and stays unreaped.
        let mut stranger = Command::new("true").spawn().unwrap();
        let quick = Command::new("true").spawn().unwrap();
        let slow = Command::new("sleep").arg("30").spawn().unwrap();
        wait_for_zombie(stranger.id());
        wait_for_zombie(quick.id());
        let mut reaper = Reaper::with_capacity(2);
        reaper.add(Pid::from_raw(quick.id() as i32));
        reaper.add(Pid::from_raw(slow.id() as i32));
        reaper.reap_ended();
        assert_eq!(reaper.take_ended(), vec![0], "the ended worker, and only it");
        assert_eq!(reaper.take_ended(), Vec::<usize>::new());
        let _ = kill(Pid::from_raw(slow.id() as i32), Signal::SIGKILL);
        wait_for_zombie(slow.id());
        reaper.reap_ended();
        assert_eq!(reaper.take_ended(), vec![1]);
        assert!(stranger.try_wait().unwrap().is_some(), "the stranger is left to its owner");
        let (_, exits, _) = reaper.wait_all();
        assert_eq!(exits[0].exit.code, Some(0));
        assert_eq!(exits[1].exit.signal.as_deref(), Some("SIGKILL"));
        // Reaped mid-run or killed, each has its usage from `wait4`.
        assert!(exits.iter().all(|g| g.cpu.is_some()), "{exits:?}");
    }

    // The reaper under test reaps the children, not their `Child` handles.
    #[allow(clippy::zombie_processes)]
    #[test]
    fn sigkill_goes_only_to_those_that_outlive_the_grace() {
        // One child ends at SIGTERM; the other ignores it (an ignored signal stays ignored
        // across exec) and needs the SIGKILL.
        let polite = Command::new("sleep").arg("30").spawn().unwrap();
        let stubborn = Command::new("sh").args(["-c", "trap '' TERM; exec sleep 31"]).spawn().unwrap();
        wait_for_exec(polite.id(), "sleep");
        wait_for_exec(stubborn.id(), "sleep");
        let mut reaper = Reaper::with_capacity(2);
        reaper.add(Pid::from_raw(polite.id() as i32));
        reaper.add(Pid::from_raw(stubborn.id() as i32));
        let stopped = reaper.terminate(200_000_000, &|| false);
        assert_eq!((stopped.termed, stopped.killed), (2, 1), "{stopped:?}");
        let (_, exits, _) = reaper.wait_all();
        assert_eq!(exits[0].exit.signal.as_deref(), Some("SIGTERM"));
        assert_eq!(exits[1].exit.signal.as_deref(), Some("SIGKILL"));

        // Both end at SIGTERM: no SIGKILL.
        let mut reaper = Reaper::with_capacity(1);
        let polite = Command::new("sleep").arg("30").spawn().unwrap();
        wait_for_exec(polite.id(), "sleep");
        reaper.add(Pid::from_raw(polite.id() as i32));
        let stopped = reaper.terminate(10_000_000_000, &|| false);
        assert_eq!((stopped.termed, stopped.killed), (1, 0), "{stopped:?}");
    }
}
