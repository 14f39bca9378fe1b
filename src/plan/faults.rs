//! Injected faults: [`Fault`], and the planner's step that reads and checks the job's `faults`
//! against its workers, iterations and backend.

use super::planner::Planner;
use super::{EXIT_CODES, MAX_WORKERS};
use crate::names::BackendKind;
use crate::spec::{FaultAction, JobSpec};

/// One injected fault: worker `worker`, after `at` completed operations, does `action`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    pub worker: u32,
    pub at: u64,
    pub action: FaultAction,
    /// mutex: while holding the lock, between its update and the unlock.
    pub inside_lock: bool,
    /// exit: the exit code.
    pub code: i32,
    /// stall: for how long.
    pub stall_ns: u64,
}

impl Fault {
    pub(crate) fn describe(&self) -> String {
        let what = match self.action {
            FaultAction::Kill => "kills itself (SIGKILL)".to_string(),
            FaultAction::Panic => "panics".to_string(),
            FaultAction::Exit => format!("exits with code {}", self.code),
            FaultAction::Stall => format!("stalls for {}", crate::words::exact_duration(self.stall_ns)),
        };
        let inside = if self.inside_lock { " while holding the lock, mid-update" } else { "" };
        format!("worker {} {what} after {}{inside}", self.worker, crate::words::plural(self.at, "operation"))
    }
}

impl Planner<'_> {
    /// The job's faults, checked against its workers, iterations and backend.
    pub(super) fn faults(
        &mut self,
        spec: &JobSpec,
        workers: Option<u64>,
        iterations: Option<u64>,
        backend: Option<BackendKind>,
    ) -> Vec<Fault> {
        let Some(list) = &spec.faults else { return Vec::new() };
        let mut faults: Vec<Fault> = Vec::new();
        for entry in &list.value {
            let f = &entry.value;
            let worker = self.count(&f.worker, None, "faults.worker", 0, workers.map_or(MAX_WORKERS, |w| w - 1));
            let at = self.count(&f.at, None, "faults.at", 0, iterations.unwrap_or(u64::MAX));
            let Some(action) = f.action.as_ref().map(|a| a.value) else { continue };
            let inside_lock = f.inside_lock.as_ref().is_some_and(|b| b.value);
            if let Some(b) = &f.inside_lock
                && b.value
                && backend.is_some_and(|k| k != BackendKind::Mutex)
            {
                self.error(b.pos, "faults.inside_lock", "only the mutex backend has a lock to act inside");
            }
            if let (Some(b), Some(at), Some(m)) = (&f.inside_lock, at, iterations)
                && b.value
                && at >= m
            {
                self.error(
                    b.pos,
                    "faults.at",
                    format!("inside the lock means during an operation: at must be below iterations ({m})"),
                );
            }
            if f.code.is_some() && action != FaultAction::Exit {
                self.error(
                    f.code.as_ref().map_or(entry.pos, |c| c.pos),
                    "faults.code",
                    "code is the exit code of action exit",
                );
            }
            if f.stall.is_some() && action != FaultAction::Stall {
                self.error(
                    f.stall.as_ref().map_or(entry.pos, |c| c.pos),
                    "faults.for",
                    "for is the length of action stall",
                );
            }
            let code = match &f.code {
                Some(_) => {
                    self.count(&f.code, None, "faults.code", *EXIT_CODES.start(), *EXIT_CODES.end()).unwrap_or(1) as i32
                }
                None => 1,
            };
            let (Some(worker), Some(at)) = (worker, at) else { continue };
            if faults.iter().any(|g| g.worker as u64 == worker) {
                self.error(entry.pos, "faults.worker", format!("worker {worker} already has a fault: one per worker"));
                continue;
            }
            faults.push(Fault {
                worker: worker as u32,
                at,
                action,
                inside_lock,
                code,
                stall_ns: f.stall.as_ref().map_or(1_000_000_000, |d| d.value),
            });
        }
        faults
    }
}
