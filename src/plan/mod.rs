//! The planner: a [`JobSpec`](crate::spec::JobSpec) (plus command-line overrides) becomes a
//! [`Plan`], or every problem found. Applies defaults, reads literals against the value's type,
//! checks the rules that tie fields together, and computes the expected final value.
//! `plan_cells` does it for every matrix cell of a file, the one way in for the command line,
//! the fuzz target and the tests.
//!
//! Here: the [`Plan`] and what it holds, `plan_cells`. Beside it: `planner.rs` (one job's
//! walk, in named steps), `rules.rs` (cross-field rules), `literal.rs` (literals against a
//! type), `faults.rs`, `deadline.rs`, `backend.rs` ([`BackendPlan`]), `overrides.rs`
//! ([`Overrides`], the command line's list, written once), `cells.rs` (how overrides meet a
//! matrix: the cells' labels say what ran, duplicated cells are dropped).
//!
//! Pure: no I/O, no fork, no clock (nothing here imports nix, libc, `std::fs`, `std::process`
//! or reads a clock); it imports only the floors below it (input, model, and the ground's `error`). Everything after the planner
//! reads the `Plan`, never the raw spec.

mod backend;
mod cells;
mod deadline;
pub mod engine;
mod faults;
pub mod hosts;
mod literal;
mod overrides;
mod planner;
mod rules;

use serde_json::json;

pub use backend::BackendPlan;
pub use deadline::DEFAULT_GRACE_NS;
pub use deadline::Deadline;
pub use engine::{EnginePlan, RedisPlan};
pub use faults::Fault;
pub use hosts::HostPlan;
pub use literal::literal_value;
pub use overrides::{OVERRIDE_FLAGS, Overrides, duration_word};

use crate::error::Diagnostic;
use crate::expect::Check;
use crate::iterate::Steps;
use crate::names::{BackendKind, Schedule, Start};
use crate::spec::{ExpectOutcome, Parsed, Source, matrix};
use crate::value::{Operation, Value, ValueType};

pub(crate) use crate::spec::limits::{CPU_LIMIT, EXIT_CODES, MAX_BATCH, MAX_REPEAT, MAX_WARMUP, MAX_WORKERS};
/// Counted runs of each cell of a matrix of several cells whose job file and command line give
/// no `repeat` (hyperfine's least number of runs): a sweep compares cells, and a comparison
/// needs runs enough for an interval (a 95% one from 4 a side). A job without a matrix (or
/// whose overrides leave one cell) runs once.
pub const DEFAULT_MATRIX_REPEAT: u32 = 10;
/// Problems reported for one file at most; the rest are counted.
pub(crate) const MAX_DIAGNOSTICS: usize = 100;

/// How the kernel is asked to schedule the workers. Each worker asks for itself after its fork;
/// a kernel that refuses only makes the run slower. runner itself keeps its own policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WorkerPolicy {
    /// As runner was started.
    Normal,
    /// `SCHED_IDLE`: a pipe channel's workers with large messages, so that the owner (runner)
    /// keeps a core whenever it wants one.
    Idle,
    /// `SCHED_BATCH`, over Redis: a worker that a reply wakes does not take the CPU from the
    /// process running on it (a server on the same machine, in the middle of other workers'
    /// commands); it waits until that process sleeps or its time slice ends. With 8 workers and
    /// a server on 2 cores, the server was otherwise preempted thousands of times a run (README,
    /// "The value in Redis").
    /// Asked for only by a worker that runs under the default policy (`SCHED_OTHER`).
    Batch,
}

/// A checked job, ready to execute.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub name: String,
    pub description: Option<String>,
    /// The job file as named on the command line.
    pub file: String,
    pub workers: u32,
    pub iterations: u64,
    pub initial: Value,
    pub operation: Operation,
    /// The backend, with what only it is given.
    pub backend: BackendPlan,
    /// Where the value lives.
    pub engine: EnginePlan,
    /// The hosts the workers run on, each with its share (empty: this machine, forked here).
    pub hosts: Vec<HostPlan>,
    /// One operand per worker, when the job gives a list (`operation.operand` is the first).
    pub operands: Option<Vec<Value>>,
    pub schedule: Schedule,
    /// When the workers start: together at the barrier, or each as it is forked.
    pub start: Start,
    /// Busy work around each operation.
    pub work: Work,
    /// Which CPUs the workers run on.
    pub pin: Option<PinPlan>,
    /// Counted runs, and runs before them.
    pub repeat: u32,
    pub warmup: u32,
    /// The value the operations give: `f^(workers x iterations)(initial)`; with per-worker
    /// operands, the value of the schedule's order (`concurrent`: of `sequential`'s).
    pub expected: Value,
    /// How the final value is checked against `expected`.
    pub check: Check,
    /// When runner stops the workers, and how.
    pub deadline: Deadline,
    /// Injected faults, at most one per worker.
    pub faults: Vec<Fault>,
    /// Make this fork (1-based) fail.
    pub fork_fail_at: Option<u32>,
    /// The outcome the job means to show (faults handled as designed are then no failure).
    pub expect_outcome: Option<ExpectOutcome>,
    /// Whether another order of the operations could give another result (the schedule may
    /// still fix the order).
    pub order_matters: bool,
    /// What the job file states it ends with, when it says.
    pub expect: Option<Value>,
    /// Things the user should know that are not errors (an ignored field).
    pub notices: Vec<String>,
    /// The trace the job file asks for (the command line may replace it).
    pub trace: Option<TracePlan>,
}

/// Busy work in nanoseconds: inside the critical section and between operations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Work {
    pub inside_ns: u64,
    pub outside_ns: u64,
}

impl Work {
    pub(crate) fn is_none(self) -> bool {
        self.inside_ns == 0 && self.outside_ns == 0
    }
}

/// Which CPUs the workers run on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PinPlan {
    /// Worker k on the k-th CPU runner may use, cycling.
    Allowed,
    /// Worker k on `cpus[k % len]`.
    Cpus(Vec<usize>),
}

/// Where to write a trace, and whether with per-operation events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TracePlan {
    pub file: String,
    pub ops: bool,
}

impl Plan {
    pub fn value_type(&self) -> ValueType {
        self.initial.ty()
    }

    /// The operand worker `index` applies.
    pub(crate) fn operand_of(&self, index: u32) -> Value {
        self.operands.as_ref().map_or(self.operation.operand, |o| o[index as usize % o.len()])
    }

    /// For reports: how the order of the operations bears on the result, when it does.
    pub(crate) fn order_note(&self) -> Option<String> {
        if !self.order_matters {
            return None;
        }
        Some(match self.schedule {
            Schedule::Concurrent => format!(
                "the result depends on the order of the operations (schedule concurrent); checked: {}",
                self.check.describe()
            ),
            s => format!(
                "the result depends on the order of the operations; schedule {} fixes the order, so the check is exact",
                s.name()
            ),
        })
    }

    pub(crate) fn total_ops(&self) -> u64 {
        self.workers as u64 * self.iterations
    }

    /// Channel: the messages each worker sends (the pipe splits batches that do not fit in
    /// one write).
    pub(crate) fn messages_per_worker(&self) -> u64 {
        match self.backend {
            BackendPlan::Channel { batch, transport } => transport.messages(self.value_type(), batch, self.iterations),
            _ => self.iterations,
        }
    }

    /// How the kernel is asked to schedule the workers (see [`WorkerPolicy`]).
    pub(crate) fn worker_policy(&self) -> WorkerPolicy {
        match (&self.engine, self.backend) {
            (EnginePlan::Redis(_), _) => WorkerPolicy::Batch,
            (EnginePlan::Local, BackendPlan::Channel { batch, transport })
                if transport.idle_workers(self.value_type(), batch) =>
            {
                WorkerPolicy::Idle
            }
            _ => WorkerPolicy::Normal,
        }
    }

    /// Channel: whether the workers run at idle priority so that the owner keeps a core.
    pub(crate) fn idle_workers(&self) -> bool {
        self.worker_policy() == WorkerPolicy::Idle
    }

    /// What the backend sets up, for `runner plan`.
    pub(crate) fn backend_setup(&self) -> &'static str {
        match (&self.engine, self.backend.kind()) {
            (EnginePlan::Local, _) => self.backend.describe(),
            (EnginePlan::Redis(_), BackendKind::Atomic) => {
                "the value's raw bytes in a Redis key; each operation is one Lua script of the type and operation, run atomically by the server"
            }
            (EnginePlan::Redis(_), BackendKind::Mutex) => {
                "the value's raw bytes in a Redis key under a lock with a lifetime (SET NX PX); a lock round is two round trips: take the lock with the value, then write and release"
            }
            (EnginePlan::Redis(_), BackendKind::Channel) => self.backend.describe(),
            (EnginePlan::Redis(_), _) => {
                "the value's raw bytes in a Redis key; each worker GETs it, then SETs the new value, with nothing between two workers' updates"
            }
        }
    }

    /// With no synchronisation the final value is `f^k(initial)` for some `k` in this range:
    /// one worker alone applies all its operations; with several workers as few as two updates
    /// can survive (one when each worker applies only one).
    pub(crate) fn reachable_depths(&self) -> (u64, u64) {
        let low = match (self.workers, self.iterations) {
            (1, m) => m,
            (_, 1) => 1,
            _ => 2,
        };
        (low, self.total_ops())
    }

    /// The job as it runs, after defaults and overrides, in the job file's own terms.
    pub fn effective_job(&self) -> serde_json::Value {
        let mut job = json!({
            "name": self.name,
            "workers": self.workers,
            "iterations": self.iterations,
            "value": { "type": self.value_type().name(), "initial": self.initial.to_json() },
            "operation": self.operation.kind.name(),
            "operand": match &self.operands {
                Some(list) => list.iter().map(|v| v.to_json()).collect(),
                None => self.operation.operand.to_json(),
            },
            "backend": self.backend.name(),
        });
        if self.schedule != Schedule::Concurrent {
            job["schedule"] = self.schedule.name().into();
        }
        if self.start != Start::Together {
            job["start"] = self.start.name().into();
        }
        if !self.work.is_none() {
            job["work"] = json!({ "inside": format!("{}ns", self.work.inside_ns), "outside": format!("{}ns", self.work.outside_ns) });
        }
        match &self.pin {
            Some(PinPlan::Allowed) => job["pin"] = true.into(),
            Some(PinPlan::Cpus(cpus)) => job["pin"] = cpus.clone().into(),
            None => {}
        }
        if self.repeat != 1 {
            job["repeat"] = self.repeat.into();
        }
        if self.warmup != 0 {
            job["warmup"] = self.warmup.into();
        }
        if !self.faults.is_empty() {
            job["faults"] = self.faults.iter().map(|f| f.describe()).collect::<Vec<_>>().into();
        }
        if let Some(k) = self.fork_fail_at {
            job["fork_fail_at"] = k.into();
        }
        if let Some(o) = self.expect_outcome {
            job["expect_outcome"] = o.name().into();
        }
        if self.deadline.stated {
            job["timeout"] = duration_word(self.deadline.timeout_ns).into();
        }
        if let Some(d) = &self.description {
            job["description"] = d.clone().into();
        }
        if let BackendPlan::Channel { batch, transport } = self.backend {
            job["batch"] = batch.into();
            job["transport"] = transport.name().into();
        }
        if let EnginePlan::Redis(r) = &self.engine {
            job["engine"] = json!({
                "redis": r.url,
                "from": r.url_from,
                "timeout": duration_word(r.timeout_ns),
                "retries": r.retries,
                "exactly_once": r.exactly_once,
                "fencing": r.fencing,
                "lease": duration_word(r.lease_ns),
                "pipeline": r.pipeline,
            });
            if let Some(key) = &r.key {
                job["engine"]["key"] = key.clone().into();
            }
        }
        if !self.hosts.is_empty() {
            job["hosts"] = self
                .hosts
                .iter()
                .map(|h| json!({ "name": h.name, "command": h.command, "workers": h.count }))
                .collect::<Vec<_>>()
                .into();
        }
        if let Some(e) = self.expect {
            job["expect"] = e.to_json();
        }
        if let Some(t) = &self.trace {
            job["trace"] = json!({ "file": t.file, "ops": t.ops });
        }
        job
    }
}

/// One planned cell of a job file.
#[derive(Debug)]
pub struct Job {
    /// `backend=mutex workers=8`; empty without a matrix.
    pub cell: String,
    /// The matrix's values for this cell, as run (see `cells::as_run`).
    pub params: Vec<(String, String)>,
    pub plan: Plan,
}

/// Operations computed one at a time across a matrix's round-robin cells, at most.
const MATRIX_SIMULATION_BUDGET: u64 = 4 * crate::expect::ROUND_ROBIN_BUDGET;

/// Plans every cell of a parsed job file: one [`Job`] per matrix cell, or every problem found
/// (at most [`MAX_DIAGNOSTICS`], each said once, with its cell named when there is a matrix).
/// `runner`, `runner validate` and [`crate::plan_text`] all plan through here.
pub(crate) fn plan_cells(
    parsed: Vec<Parsed>,
    source: &Source,
    overrides: &Overrides,
) -> Result<Vec<Job>, Vec<Diagnostic>> {
    let mut steps = Steps::new();
    let mut jobs = Vec::new();
    let mut diags = Vec::new();
    // Round-robin cells with order-dependent operands are computed one operation at a time:
    // bound the work across the whole matrix, not only per cell.
    let mut simulated = 0u64;
    let mut axes: Vec<String> = Vec::new();
    let repeat_given = overrides.repeat.is_some() || parsed.iter().any(|p| p.spec.repeat.is_some());
    for mut p in parsed {
        for (axis, _) in &p.cell.params {
            if !axes.contains(axis) {
                axes.push(axis.clone());
            }
        }
        if simulated > MATRIX_SIMULATION_BUDGET {
            diags.push(Diagnostic::file(
                &source.label,
                format!("the matrix's round-robin cells need more than {MATRIX_SIMULATION_BUDGET} operations computed one at a time; use fewer cells or iterations"),
            ));
            break;
        }
        match planner::plan(
            &p.spec,
            &source.label,
            &source.stem(),
            overrides,
            std::mem::take(&mut p.found),
            &mut steps,
            |d| p.of_a_tagged_value(d),
        ) {
            Ok(plan) => {
                if plan.schedule == Schedule::RoundRobin && plan.order_matters {
                    simulated += plan.total_ops();
                }
                let written = p.cell.params.iter().map(|(k, v)| (k.clone(), matrix::render(v))).collect();
                let params = cells::as_run(written, &plan, overrides);
                jobs.push(Job { cell: cells::name(&params), params, plan });
            }
            Err(found) => {
                // Every cell shares the job's lines: say which cell a problem is in once.
                for mut d in found {
                    if !p.cell.params.is_empty() && !d.message.contains("(in cell") && !p.file_wide.contains(&d) {
                        d.message = format!("{} (in cell {})", d.message, p.cell.name());
                    }
                    if !diags.contains(&d) {
                        diags.push(d);
                    }
                }
                // Enough to show: the other cells' problems would only be cut off (and a
                // large matrix of broken cells would take minutes to collect).
                if diags.len() >= MAX_DIAGNOSTICS {
                    break;
                }
            }
        }
    }
    if diags.is_empty() {
        let mut jobs = cells::collapse(jobs, &axes, overrides);
        if !repeat_given && jobs.len() > 1 {
            jobs.iter_mut().for_each(|j| j.plan.repeat = DEFAULT_MATRIX_REPEAT);
        }
        Ok(jobs)
    } else {
        diags.truncate(MAX_DIAGNOSTICS);
        Err(diags)
    }
}

#[cfg(test)]
mod tests {
    /// The library's entry point plans as the command line does: a matrix's cells each become
    /// a plan, and a problem in one cell names that cell.
    #[test]
    fn plan_text_plans_every_cell_as_the_command_line_does() {
        let head = "workers: 1\nvalue: {type: i}\noperation: add\nbackend: mutex\nmatrix:\n";
        let plans = crate::plan_text("m.yaml", &format!("{head}  workers: [2, 8]\n")).expect("plans");
        assert_eq!(plans.iter().map(|p| p.workers).collect::<Vec<_>>(), [2, 8]);
        let diags = crate::plan_text("m.yaml", &format!("{head}  workers: [2, 5000]\n")).expect_err("cell 5000");
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(diags[0].message.ends_with("(in cell workers=5000)"), "{}", diags[0].message);
    }
}
