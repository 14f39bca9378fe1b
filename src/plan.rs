//! The planner: a [`JobSpec`] (plus command-line overrides) becomes a [`Plan`], or every problem
//! found. Applies defaults, reads literals against the value's type, checks the rules that tie
//! fields together, and computes the expected final value. [`plan_cells`] does it for every
//! matrix cell of a file, the one way in for the command line, the fuzz target and the tests.
//!
//! Pure: no I/O, no fork, no clock. Everything after the planner reads the `Plan`, never the
//! raw spec.

use serde_json::json;

use crate::error::{Diagnostic, Pos};
use crate::expect::{Check, expected};
use crate::iterate::Steps;
use crate::names::{BackendKind, Schedule, Start, Transport};
use crate::spec::{At, ExpectOutcome, FaultAction, JobSpec, Literal, Operand, Parsed, Pin, Source, matrix};
use crate::value::{Operation, Value, ValueType};

pub const MAX_WORKERS: u64 = 1024;
pub const MAX_BATCH: u64 = 65536;
pub const MAX_REPEAT: u64 = 1000;
pub const MAX_WARMUP: u64 = 100;
/// Problems reported for one file at most; the rest are counted.
pub const MAX_DIAGNOSTICS: usize = 100;

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

/// The backend a job runs on, with the settings that only that backend has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendPlan {
    Mutex,
    Atomic,
    None,
    Channel {
        /// Operations per message.
        batch: u32,
        /// How the messages travel.
        transport: Transport,
    },
}

impl BackendPlan {
    pub fn kind(self) -> BackendKind {
        match self {
            BackendPlan::Mutex => BackendKind::Mutex,
            BackendPlan::Atomic => BackendKind::Atomic,
            BackendPlan::None => BackendKind::None,
            BackendPlan::Channel { .. } => BackendKind::Channel,
        }
    }

    pub fn name(self) -> &'static str {
        self.kind().name()
    }

    /// Operations a worker hands over at once: a channel message's, else one.
    pub fn batch(self) -> u32 {
        match self {
            BackendPlan::Channel { batch, .. } => batch,
            _ => 1,
        }
    }

    /// The channel's transport, `None` for the other backends.
    pub fn transport(self) -> Option<Transport> {
        match self {
            BackendPlan::Channel { transport, .. } => Some(transport),
            _ => None,
        }
    }

    /// What the backend sets up, for `runner plan`.
    pub fn describe(self) -> &'static str {
        match self {
            BackendPlan::Channel { transport, .. } => transport.describe(),
            other => other.kind().describe(),
        }
    }
}

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
    pub fn describe(&self) -> String {
        let what = match self.action {
            FaultAction::Kill => "kills itself (SIGKILL)".to_string(),
            FaultAction::Panic => "panics".to_string(),
            FaultAction::Exit => format!("exits with code {}", self.code),
            FaultAction::Stall => format!("stalls for {} ms", self.stall_ns / 1_000_000),
        };
        let inside = if self.inside_lock { " while holding the lock, mid-update" } else { "" };
        format!("worker {} {what} after {} operations{inside}", self.worker, self.at)
    }
}

/// How long a run may take from the barrier's release, and the grace between SIGTERM and
/// SIGKILL when it takes longer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline {
    pub timeout_ns: u64,
    /// Whether the job or the command line set it (else the default, scaled with the work).
    pub stated: bool,
    pub grace_ns: u64,
}

/// The grace between SIGTERM and SIGKILL, unless `--grace` says otherwise.
pub const DEFAULT_GRACE_NS: u64 = 2_000_000_000;

impl Deadline {
    /// The default: 30 s, plus 10 µs per operation, plus twice the busy work. Generous (the
    /// slowest backend does an operation in about 2 µs here), so that only a run that is stuck
    /// meets it, and finite, so that nothing waits for ever.
    pub fn default_for(total_ops: u64, work: Work) -> u64 {
        let per_op = 10_000u64.saturating_add(work.inside_ns.saturating_add(work.outside_ns).saturating_mul(2));
        30_000_000_000u64.saturating_add(total_ops.saturating_mul(per_op))
    }
}

/// Busy work in nanoseconds: inside the critical section and between operations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Work {
    pub inside_ns: u64,
    pub outside_ns: u64,
}

impl Work {
    pub fn is_none(self) -> bool {
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
    pub fn operand_of(&self, index: u32) -> Value {
        self.operands.as_ref().map_or(self.operation.operand, |o| o[index as usize % o.len()])
    }

    /// For reports: how the order of the operations bears on the result, when it does.
    pub fn order_note(&self) -> Option<String> {
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

    pub fn total_ops(&self) -> u64 {
        self.workers as u64 * self.iterations
    }

    /// Channel: the messages each worker sends (the pipe splits batches that do not fit in
    /// one write).
    pub fn messages_per_worker(&self) -> u64 {
        match self.backend {
            BackendPlan::Channel { batch, transport } => transport.messages(self.value_type(), batch, self.iterations),
            _ => self.iterations,
        }
    }

    /// Channel: whether the workers run at idle priority so that the owner keeps a core.
    pub fn idle_workers(&self) -> bool {
        match self.backend {
            BackendPlan::Channel { batch, transport } => transport.idle_workers(self.value_type(), batch),
            _ => false,
        }
    }

    /// What the backend sets up, for `runner plan`.
    pub fn backend_setup(&self) -> &'static str {
        self.backend.describe()
    }

    /// With no synchronisation the final value is `f^k(initial)` for some `k` in this range:
    /// one worker alone applies all its operations; with several workers as few as two updates
    /// can survive (one when each worker applies only one).
    pub fn reachable_depths(&self) -> (u64, u64) {
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
            job["timeout"] = format!("{}ms", self.deadline.timeout_ns / 1_000_000).into();
        }
        if let Some(d) = &self.description {
            job["description"] = d.clone().into();
        }
        if let BackendPlan::Channel { batch, transport } = self.backend {
            job["batch"] = batch.into();
            job["transport"] = transport.name().into();
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
    /// The matrix's values for this cell, as written.
    pub params: Vec<(String, String)>,
    pub plan: Plan,
}

/// Operations computed one at a time across a matrix's round-robin cells, at most.
const MATRIX_SIMULATION_BUDGET: u64 = 4 * crate::expect::ROUND_ROBIN_BUDGET;

/// Plans every cell of a parsed job file: one [`Job`] per matrix cell, or every problem found
/// (at most [`MAX_DIAGNOSTICS`], each said once, with its cell named when there is a matrix).
/// `runner`, `runner validate` and [`crate::plan_text`] all plan through here.
pub fn plan_cells(parsed: Vec<Parsed>, source: &Source, overrides: &Overrides) -> Result<Vec<Job>, Vec<Diagnostic>> {
    let mut steps = Steps::new();
    let mut jobs = Vec::new();
    let mut diags = Vec::new();
    // Round-robin cells with order-dependent operands are computed one operation at a time:
    // bound the work across the whole matrix, not only per cell.
    let mut simulated = 0u64;
    for p in parsed {
        if simulated > MATRIX_SIMULATION_BUDGET {
            diags.push(Diagnostic::file(
                &source.label,
                format!("the matrix's round-robin cells need more than {MATRIX_SIMULATION_BUDGET} operations computed one at a time; use fewer cells or iterations"),
            ));
            break;
        }
        match plan(&p.spec, &source.label, &source.stem(), overrides, p.found, &mut steps) {
            Ok(plan) => {
                if plan.schedule == Schedule::RoundRobin && plan.order_matters {
                    simulated += plan.total_ops();
                }
                let params = p.cell.params.iter().map(|(k, v)| (k.clone(), matrix::render(v))).collect();
                jobs.push(Job { cell: p.cell.name(), params, plan });
            }
            Err(found) => {
                // Every cell shares the job's lines: say which cell a problem is in once.
                for mut d in found {
                    if !p.cell.params.is_empty() && !d.message.contains("(in cell") {
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
        Ok(jobs)
    } else {
        diags.truncate(MAX_DIAGNOSTICS);
        Err(diags)
    }
}

/// Plans `spec`, adding to the problems the reader already found. `stem` names a job that gives
/// no name; `steps` is what is left of the file's budget for computing expected products.
fn plan(
    spec: &JobSpec,
    file: &str,
    stem: &str,
    overrides: &Overrides,
    found: Vec<Diagnostic>,
    steps: &mut Steps,
) -> Result<Plan, Vec<Diagnostic>> {
    let mut p = Planner { file, diags: found, steps };
    let plan = p.plan(spec, stem, overrides);
    match plan {
        Some(plan) if p.diags.is_empty() => Ok(plan),
        _ => {
            let mut diags = p.diags;
            diags.sort_by_key(|d| d.pos);
            diags.dedup();
            if diags.len() > MAX_DIAGNOSTICS {
                let more = diags.len() - MAX_DIAGNOSTICS;
                diags.truncate(MAX_DIAGNOSTICS);
                diags.push(Diagnostic::file(file, format!("{more} more problems not shown")));
            }
            Err(diags)
        }
    }
}

struct Planner<'a> {
    file: &'a str,
    diags: Vec<Diagnostic>,
    steps: &'a mut Steps,
}

impl Planner<'_> {
    fn error(&mut self, pos: Pos, field: &str, message: impl Into<String>) {
        self.diags.push(Diagnostic::at(self.file, pos, field, message));
    }

    fn flag_error(&mut self, field: &str, message: String) {
        self.diags.push(Diagnostic { file: self.file.to_string(), pos: None, field: Some(field.to_string()), message });
    }

    /// A count from the file or its override, checked against `lo..=hi`.
    fn count(&mut self, written: &Option<At<i128>>, flag: Option<u64>, field: &str, lo: u64, hi: u64) -> Option<u64> {
        let range = if hi == u64::MAX { format!("at least {lo}") } else { format!("between {lo} and {hi}") };
        if let Some(v) = flag {
            if v < lo || v > hi {
                self.flag_error(field, format!("--{field} {v}: must be {range}"));
                return None;
            }
            return Some(v);
        }
        let at = written.as_ref()?;
        match u64::try_from(at.value) {
            Ok(v) if v >= lo && v <= hi => Some(v),
            _ => {
                self.error(at.pos, field, format!("must be {range}, found {}", at.value));
                None
            }
        }
    }

    fn plan(&mut self, spec: &JobSpec, stem: &str, overrides: &Overrides) -> Option<Plan> {
        let workers = self.count(&spec.workers, overrides.workers, "workers", 1, MAX_WORKERS);
        let iterations = match (&spec.iterations, overrides.iterations) {
            (None, None) => Some(1),
            (written, flag) => self.count(written, flag, "iterations", 1, u64::MAX),
        };
        if let (Some(w), Some(m)) = (workers, iterations)
            && w.checked_mul(m).is_none()
        {
            let pos = spec.iterations.as_ref().map_or(spec.pos, |a| a.pos);
            self.error(pos, "iterations", format!("{w} workers x {m} iterations exceeds 2^64 operations"));
        }

        let value = spec.value.as_ref().map(|v| &v.value);
        let ty = value.and_then(|v| v.ty.as_ref()).map(|t| t.value);
        let initial = match (ty, value.and_then(|v| v.initial.as_ref())) {
            (Some(ty), Some(lit)) => self.literal(lit, ty, "value.initial"),
            (Some(ty), None) => Some(ty.zero()),
            (None, _) => None,
        };

        let kind = spec.operation.as_ref().map(|o| o.value);
        if let (Some(ty), Some(op)) = (ty, &spec.operation)
            && !op.value.supports(ty)
        {
            self.error(
                op.pos,
                "operation",
                format!("{} is not defined for type {} (a double); it needs i or c", op.value.name(), ty.name()),
            );
        }
        let mut operands = None;
        let operand = match (ty, kind, &spec.operand) {
            (Some(ty), _, Some(At { value: Operand::One(lit), pos })) => {
                self.literal(&At { value: lit.clone(), pos: *pos }, ty, "operand")
            }
            (Some(ty), _, Some(At { value: Operand::PerWorker(list), pos })) => {
                let read: Vec<Option<Value>> = list.iter().map(|lit| self.literal(lit, ty, "operand")).collect();
                let read: Option<Vec<Value>> = read.into_iter().collect();
                if let (Some(values), Some(w)) = (&read, workers)
                    && values.len() as u64 != w
                {
                    self.error(
                        *pos,
                        "operand",
                        format!("{} operands for {w} workers: a list gives one operand per worker", values.len()),
                    );
                }
                let first = read.as_ref().map(|v| v[0]);
                operands = read;
                first
            }
            (Some(ty), Some(kind), None) if kind.operand_optional() => Some(match ty {
                ValueType::I => Value::I(1),
                ValueType::D => Value::D(1.0),
                ValueType::C => Value::C(1),
            }),
            (_, Some(kind), None) if !kind.operand_optional() => {
                self.error(spec.pos, "operand", format!("missing required field: {} needs an operand", kind.name()));
                None
            }
            _ => None,
        };

        let written_backend = spec.backend.as_ref().map(|b| b.value);
        let backend = overrides.backend.or(written_backend);
        let mut notices = Vec::new();
        let mut batch = 1;
        if let Some(b) = &spec.batch {
            let in_range = self.count(&spec.batch, None, "batch", 1, MAX_BATCH);
            match backend {
                Some(BackendKind::Channel) => batch = in_range.unwrap_or(1) as u32,
                Some(other) if overrides.backend.is_some() => {
                    notices.push(format!("batch: ignored, since --backend {} is not channel", other.name()));
                }
                Some(other) => {
                    self.error(
                        b.pos,
                        "batch",
                        format!("batch applies only to the channel backend, not {}", other.name()),
                    );
                }
                None => {}
            }
        }
        let mut transport = Transport::default();
        if let Some(t) = &spec.transport {
            match backend {
                Some(BackendKind::Channel) => transport = t.value,
                Some(other) if overrides.backend.is_some() => {
                    notices.push(format!("transport: ignored, since --backend {} is not channel", other.name()));
                }
                Some(other) => {
                    self.error(
                        t.pos,
                        "transport",
                        format!("transport applies only to the channel backend, not {}", other.name()),
                    );
                }
                None => {}
            }
        }

        let schedule = spec.schedule.as_ref().map_or(Schedule::Concurrent, |s| s.value);
        let start = overrides.start.or(spec.start.as_ref().map(|s| s.value)).unwrap_or_default();
        let work = spec.work.as_ref().map_or(Work::default(), |w| Work {
            inside_ns: w.value.inside.as_ref().map_or(0, |d| d.value),
            outside_ns: w.value.outside.as_ref().map_or(0, |d| d.value),
        });
        if backend == Some(BackendKind::None) && work.inside_ns > 0 && schedule == Schedule::Concurrent {
            notices.push(
                "work.inside: none has no critical section; the work runs between the load and the store, which widens the race".to_string(),
            );
        }
        let pin = match spec.pin.as_ref().map(|p| &p.value) {
            None | Some(Pin::All(false)) => None,
            Some(Pin::All(true)) => Some(PinPlan::Allowed),
            Some(Pin::Cpus(cpus)) => {
                let mut list = Vec::new();
                for cpu in cpus {
                    match usize::try_from(cpu.value) {
                        Ok(c) if c < 4096 => list.push(c),
                        _ => self.error(cpu.pos, "pin", format!("a CPU number is 0..4095, found {}", cpu.value)),
                    }
                }
                Some(PinPlan::Cpus(list))
            }
        };
        if schedule == Schedule::RoundRobin && backend == Some(BackendKind::Channel) && batch > 1 {
            let pos = spec.batch.as_ref().map_or(spec.pos, |b| b.pos);
            self.error(pos, "batch", "schedule round-robin takes one operation per worker in turn: batch must be 1");
        }
        let timeout = overrides.timeout_ns.or(spec.timeout.as_ref().map(|t| t.value));
        if let Some(0) = timeout {
            self.flag_error("timeout", "a timeout must be longer than 0".to_string());
        }
        let faults = self.faults(spec, workers, iterations, backend);
        let fork_fail_at =
            self.count(&spec.fork_fail_at, None, "fork_fail_at", 1, workers.unwrap_or(MAX_WORKERS)).map(|k| k as u32);
        let repeat = match (&spec.repeat, overrides.repeat) {
            (None, None) => Some(1),
            (written, flag) => self.count(written, flag, "repeat", 1, MAX_REPEAT),
        };
        let warmup = match (&spec.warmup, overrides.warmup) {
            (None, None) => Some(0),
            (written, flag) => self.count(written, flag, "warmup", 0, MAX_WARMUP),
        };

        let name = spec.name.as_ref().map_or_else(|| stem.to_string(), |n| n.value.clone());
        let (workers, iterations, initial, kind, operand, backend, repeat, warmup) =
            (workers?, iterations?, initial?, kind?, operand?, backend?, repeat?, warmup?);
        let total = workers.checked_mul(iterations)?;
        let operation = Operation { kind, operand };
        if !kind.supports(initial.ty()) {
            return None;
        }
        // One operand for all: every worker applies the same function, so one list of `workers`
        // copies gives f^total whatever the order.
        let list: Vec<Value> = match &operands {
            Some(list) if list.len() as u64 == workers => list.clone(),
            Some(_) => return None,
            None => vec![operand],
        };
        let per_worker = if operands.is_some() { iterations } else { total };
        let operand_pos = spec.operand.as_ref().map_or(spec.pos, |o| o.pos);
        let (expected, check) = match expected(kind, initial, &list, per_worker, schedule, self.steps) {
            Ok(Some(found)) => found,
            Ok(None) => {
                let by = if operands.is_some() { "the workers' operands".to_string() } else { operand.to_string() };
                self.error(
                    operand_pos,
                    "operand",
                    format!(
                        "cannot compute the expected value of {total} multiplications by {by} in time: with an operand this close to 1 the exact result needs more than {} steps of work (one budget for the whole file, its cells and workers together); use fewer iterations or operands farther from 1",
                        crate::iterate::STEP_BUDGET
                    ),
                );
                return None;
            }
            Err(why) => {
                let pos = spec.schedule.as_ref().map_or(operand_pos, |s| s.pos);
                self.error(pos, "schedule", why);
                return None;
            }
        };

        let mut expect = None;
        if let Some(lit) = &spec.expect
            && let Some(stated) = self.literal(lit, initial.ty(), "expect")
        {
            expect = Some(stated);
            if overrides.workers.is_some() || overrides.iterations.is_some() {
                notices.push("expect: not checked, since --workers or --iterations changed the job".to_string());
                expect = None;
            } else if check.order_dependent() {
                notices
                    .push("expect: not checked, since the result depends on the order of the operations".to_string());
                expect = None;
            } else if stated != expected {
                self.error(
                    lit.pos,
                    "expect",
                    format!("the job states it ends at {stated}, but {workers} x {iterations} applications of {} {} from {initial} end at {expected}", kind.name(), operand),
                );
            }
        }

        Some(Plan {
            name,
            description: spec.description.as_ref().map(|d| d.value.clone()),
            file: self.file.to_string(),
            workers: workers as u32,
            iterations,
            initial,
            operation,
            backend: match backend {
                BackendKind::Mutex => BackendPlan::Mutex,
                BackendKind::Atomic => BackendPlan::Atomic,
                BackendKind::None => BackendPlan::None,
                BackendKind::Channel => BackendPlan::Channel { batch, transport },
            },
            operands,
            schedule,
            start,
            work,
            pin,
            repeat: repeat as u32,
            warmup: warmup as u32,
            expected,
            deadline: Deadline {
                timeout_ns: timeout.unwrap_or_else(|| Deadline::default_for(total, work)),
                stated: timeout.is_some(),
                grace_ns: overrides.grace_ns.unwrap_or(DEFAULT_GRACE_NS),
            },
            order_matters: crate::expect::order_matters(kind, initial, &list),
            faults,
            fork_fail_at,
            expect_outcome: spec.expect_outcome.as_ref().map(|o| o.value),
            check,
            expect,
            notices,
            trace: spec.trace.as_ref().and_then(|t| {
                let file = t.value.file.as_ref()?.value.clone();
                Some(TracePlan { file, ops: t.value.ops.as_ref().is_some_and(|o| o.value) })
            }),
        })
    }

    /// The job's faults, checked against its workers, iterations and backend.
    fn faults(
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
                Some(_) => self.count(&f.code, None, "faults.code", 1, 255).unwrap_or(1) as i32,
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

    /// Reads a literal as a value of type `ty`; never truncates or coerces silently.
    fn literal(&mut self, lit: &At<Literal>, ty: ValueType, field: &str) -> Option<Value> {
        match literal_value(&lit.value, ty) {
            Ok(v) => Some(v),
            Err(message) => {
                self.error(lit.pos, field, message);
                None
            }
        }
    }
}

/// The value a literal denotes for type `ty`, or why it denotes none.
pub fn literal_value(lit: &Literal, ty: ValueType) -> Result<Value, String> {
    const EXACT: i128 = 1 << 53;
    match (ty, lit) {
        (ValueType::I, Literal::Int(i)) => i32::try_from(*i)
            .map(Value::I)
            .map_err(|_| format!("{i} is outside the range of type i (a C int: {} to {}); write a mask like 0xFFFF0000 as a negative number", i32::MIN, i32::MAX)),
        (ValueType::I, Literal::Float(f)) => Err(format!("expected an integer for type i, found the float {f:?}")),
        (ValueType::I | ValueType::D, Literal::Str(s)) => {
            Err(format!("expected a number for type {}, found the string {s:?} (strings are for type c)", ty.name()))
        }
        (ValueType::D, Literal::Int(i)) if i.abs() <= EXACT => Ok(Value::D(*i as f64)),
        (ValueType::D, Literal::Int(i)) => {
            Err(format!("{i} cannot be held exactly by a double (integers beyond 2^53 round); write it as a float if you mean the nearest double"))
        }
        (ValueType::D, Literal::Float(f)) if f.is_finite() => Ok(Value::D(*f)),
        (ValueType::D, Literal::Float(f)) => Err(format!("{f:?} is not allowed: literals must be finite")),
        (ValueType::C, Literal::Int(i)) => u8::try_from(*i)
            .map(Value::C)
            .map_err(|_| format!("{i} is outside the range of type c (a byte: 0 to 255)")),
        (ValueType::C, Literal::Float(f)) => Err(format!("expected an integer 0..=255 or a one-character string for type c, found the float {f:?}")),
        (ValueType::C, Literal::Str(s)) => {
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if c.is_ascii() => Ok(Value::C(c as u8)),
                (Some(c), None) => Err(format!("{c:?} is not ASCII: a c value is one byte; give its code as an integer")),
                _ => Err(format!("{s:?} is not one character: a string for type c is one ASCII character")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_by_type() {
        assert_eq!(literal_value(&Literal::Str("a".into()), ValueType::C), Ok(Value::C(97)));
        assert_eq!(literal_value(&Literal::Str("5".into()), ValueType::C), Ok(Value::C(53)));
        assert!(literal_value(&Literal::Str("ab".into()), ValueType::C).is_err());
        assert!(literal_value(&Literal::Str("é".into()), ValueType::C).is_err());
        assert!(literal_value(&Literal::Int(300), ValueType::C).is_err());
        assert!(literal_value(&Literal::Int(-1), ValueType::C).is_err());
        assert!(literal_value(&Literal::Float(1.5), ValueType::I).is_err());
        assert!(literal_value(&Literal::Int(0xFFFF0000), ValueType::I).is_err());
        assert_eq!(literal_value(&Literal::Int(1 << 53), ValueType::D), Ok(Value::D(9007199254740992.0)));
        assert!(literal_value(&Literal::Int((1 << 53) + 1), ValueType::D).is_err());
        assert!(literal_value(&Literal::Float(f64::INFINITY), ValueType::D).is_err());
    }

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
