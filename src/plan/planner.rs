//! The planner's walk over one job: [`Planner`] collects problems (each with its position)
//! while each step reads one part of the spec; `plan` calls the steps in order and turns what
//! they found into a `Plan` or the sorted problems. Cross-field rules are in `rules.rs`,
//! faults in `faults.rs`, literals in `literal.rs`.

use super::deadline::{DEFAULT_GRACE_NS, Deadline};
use super::engine::{EnginePlan, MAX_PIPELINE, MAX_RETRIES, REDIS_ENV, url_problem};
use super::{
    CPU_LIMIT, Fault, MAX_DIAGNOSTICS, MAX_REPEAT, MAX_WARMUP, MAX_WORKERS, Overrides, PinPlan, Plan, TracePlan, Work,
};
use crate::error::{Diagnostic, Pos};
use crate::iterate::Steps;
use crate::names::{BackendKind, Schedule, Start};
use crate::spec::{At, JobSpec, Operand, Pin};
use crate::value::{OpKind, Operation, Value, ValueType};

/// Plans `spec`, adding to the problems the reader already found. `stem` names a job that gives
/// no name; `steps` is what is left of the file's budget for computing expected products;
/// `said` tells a problem that another of `found` already says (of a tagged value).
pub(super) fn plan(
    spec: &JobSpec,
    file: &str,
    stem: &str,
    overrides: &Overrides,
    found: Vec<Diagnostic>,
    steps: &mut Steps,
    said: impl Fn(&Diagnostic) -> bool,
) -> Result<Plan, Vec<Diagnostic>> {
    let mut p = Planner { file, diags: found, steps };
    let plan = p.plan(spec, stem, overrides);
    match plan {
        Some(plan) if p.diags.is_empty() => Ok(plan),
        _ => {
            let mut diags = p.diags;
            diags.retain(|d| !said(d));
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

/// What the rules of `hosts` need of the rest of the plan.
pub(super) struct Around<'a> {
    pub(super) workers: Option<u64>,
    pub(super) engine: Option<&'a EnginePlan>,
    pub(super) schedule: Option<Schedule>,
    pub(super) start: Option<Start>,
}

/// The planner's state over one job: its file, the problems found so far, and the file's budget.
pub(super) struct Planner<'a> {
    pub(super) file: &'a str,
    diags: Vec<Diagnostic>,
    pub(super) steps: &'a mut Steps,
}

impl Planner<'_> {
    pub(super) fn error(&mut self, pos: Pos, field: &str, message: impl Into<String>) {
        self.diags.push(Diagnostic::at(self.file, pos, field, message));
    }

    pub(super) fn flag_error(&mut self, field: &str, message: String) {
        self.diags.push(Diagnostic { file: self.file.to_string(), pos: None, field: Some(field.to_string()), message });
    }

    /// A count from the file or its override, checked against `lo..=hi`.
    pub(super) fn count(
        &mut self,
        written: &Option<At<i128>>,
        flag: Option<u64>,
        field: &str,
        lo: u64,
        hi: u64,
    ) -> Option<u64> {
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
            // Beyond 64 bits: too large, with the maximum (not "at least 1").
            _ if hi == u64::MAX && at.value > i128::from(hi) => {
                self.error(at.pos, field, format!("too large: at most {hi}, found {}", at.value));
                None
            }
            _ => {
                self.error(at.pos, field, format!("must be {range}, found {}", at.value));
                None
            }
        }
    }

    /// The steps in the order their problems are reported (problems at one position keep
    /// this order): counts, value, operation, backend, how the workers run, the runs, then
    /// the expected value and what the job states it ends with.
    fn plan(&mut self, spec: &JobSpec, stem: &str, overrides: &Overrides) -> Option<Plan> {
        let (workers, iterations) = self.counts(spec, overrides);
        let (ty, initial) = self.value(spec);
        let (kind, operand, operands) = self.operation(spec, ty, workers);
        let mut notices = Vec::new();
        let mut chosen = self.backend(spec, overrides, &mut notices);
        let how = self.how(spec, overrides, chosen.kind, &mut notices);
        self.round_robin_batch(spec, how.schedule, &chosen);
        let runs = self.runs(spec, overrides, workers, iterations, chosen.kind);
        let engine = self.engine(spec, chosen.kind);
        self.transport_on(spec, &mut chosen, engine.as_ref());
        let around = Around { workers, engine: engine.as_ref(), schedule: Some(how.schedule), start: Some(how.start) };
        let hosts = self.hosts(spec, &around);

        let name = spec.name.as_ref().map_or_else(|| stem.to_string(), |n| n.value.clone());
        let (workers, iterations, initial, kind, operand, backend, repeat, warmup, engine) =
            (workers?, iterations?, initial?, kind?, operand?, chosen.kind?, runs.repeat?, runs.warmup?, engine?);
        let total = workers.checked_mul(iterations)?;
        let hosts = hosts?;
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
        let counted =
            Counted { workers, iterations, total, operation, initial, list: &list, per_worker: operands.is_some() };
        let (expected, check) = self.expected(spec, &counted, how.schedule)?;
        let each = if operands.is_some() { iterations } else { total };
        let expect = self.stated(spec, overrides, &counted, (expected, &check), &mut notices);

        Some(Plan {
            name,
            description: spec.description.as_ref().map(|d| d.value.clone()),
            file: self.file.to_string(),
            workers: workers as u32,
            iterations,
            initial,
            operation,
            backend: chosen.plan(backend),
            engine,
            hosts,
            operands,
            schedule: how.schedule,
            start: how.start,
            work: how.work,
            pin: how.pin,
            repeat: repeat as u32,
            warmup: warmup as u32,
            expected,
            deadline: Deadline {
                timeout_ns: runs.timeout.unwrap_or_else(|| Deadline::default_for(total, how.work)),
                stated: runs.timeout.is_some(),
                grace_ns: overrides.grace_ns.unwrap_or(DEFAULT_GRACE_NS),
            },
            order_matters: crate::expect::order_matters(kind, initial, &list, each),
            faults: runs.faults,
            fork_fail_at: runs.fork_fail_at,
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

    /// Where the value lives, and that the backend runs there.
    fn engine(&mut self, spec: &JobSpec, backend: Option<BackendKind>) -> Option<EnginePlan> {
        let plan = EnginePlan::of(spec.engine.as_ref().map(|e| &e.value), std::env::var(REDIS_ENV).ok());
        let Some(redis) = plan.redis() else { return Some(plan) };
        let at = spec.engine.as_ref().map_or(spec.pos, |e| e.pos);
        let mut ok = true;
        if let Some(problem) = url_problem(&redis.url) {
            let field = if redis.url_from == "job" { "engine.redis" } else { "engine" };
            let from = if redis.url_from == REDIS_ENV { format!(" (from {REDIS_ENV})") } else { String::new() };
            self.error(at, field, format!("{problem}{from}"));
            ok = false;
        }
        if let Some(retries) = spec.engine.as_ref().and_then(|e| e.value.retries.as_ref())
            && !(0..=MAX_RETRIES).contains(&retries.value)
        {
            self.error(retries.pos, "engine.retries", format!("{}: must be 0..={MAX_RETRIES}", retries.value));
            ok = false;
        }
        if let Some(p) = spec.engine.as_ref().and_then(|e| e.value.pipeline.as_ref()) {
            if !(1..=MAX_PIPELINE).contains(&p.value) {
                self.error(p.pos, "engine.pipeline", format!("{}: must be 1..={MAX_PIPELINE}", p.value));
                ok = false;
            } else if p.value > 1 && backend.is_some_and(|b| !matches!(b, BackendKind::Atomic | BackendKind::Mutex)) {
                let b = backend.map_or("", |b| b.name());
                self.error(p.pos, "engine.pipeline", format!("applies to the atomic and mutex backends, not {b}"));
                ok = false;
            }
        }
        if let Some(why) = backend.and_then(|b| plan.refuses(b)) {
            self.error(at, "engine", why);
            ok = false;
        }
        ok.then_some(plan)
    }

    /// Workers and iterations (1 unless given), and that their product fits.
    fn counts(&mut self, spec: &JobSpec, overrides: &Overrides) -> (Option<u64>, Option<u64>) {
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
        (workers, iterations)
    }

    /// The value's type and initial value (zero unless given).
    fn value(&mut self, spec: &JobSpec) -> (Option<ValueType>, Option<Value>) {
        let value = spec.value.as_ref().map(|v| &v.value);
        let ty = value.and_then(|v| v.ty.as_ref()).map(|t| t.value);
        let initial = match (ty, value.and_then(|v| v.initial.as_ref())) {
            (Some(ty), Some(lit)) => self.literal(lit, ty, "value.initial"),
            (Some(ty), None) => Some(ty.zero()),
            (None, _) => None,
        };
        (ty, initial)
    }

    /// The operation, its operand (the first of a per-worker list) and the list, if one.
    fn operation(
        &mut self,
        spec: &JobSpec,
        ty: Option<ValueType>,
        workers: Option<u64>,
    ) -> (Option<OpKind>, Option<Value>, Option<Vec<Value>>) {
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
                        format!(
                            "{} for {}: a list gives one operand per worker",
                            crate::words::plural(values.len(), "operand"),
                            crate::words::plural(w, "worker")
                        ),
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
        (kind, operand, operands)
    }

    /// Schedule, start, busy work and pinning.
    fn how(
        &mut self,
        spec: &JobSpec,
        overrides: &Overrides,
        backend: Option<BackendKind>,
        notices: &mut Vec<String>,
    ) -> How {
        let schedule = spec.schedule.as_ref().map_or(Schedule::Concurrent, |s| s.value);
        let start = overrides.start.or(spec.start.as_ref().map(|s| s.value));
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
                        Ok(c) if (c as u64) < CPU_LIMIT => list.push(c),
                        _ => self.error(
                            cpu.pos,
                            "pin",
                            format!("a CPU number is 0..{}, found {}", CPU_LIMIT - 1, cpu.value),
                        ),
                    }
                }
                Some(PinPlan::Cpus(list))
            }
        };
        How { schedule, start: start.unwrap_or_default(), work, pin }
    }

    /// The timeout, faults, the failing fork, and the counted and warm-up runs.
    fn runs(
        &mut self,
        spec: &JobSpec,
        overrides: &Overrides,
        workers: Option<u64>,
        iterations: Option<u64>,
        backend: Option<BackendKind>,
    ) -> Runs {
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
        Runs { timeout, faults, fork_fail_at, repeat, warmup }
    }
}

/// How the workers run: their order, start, busy work and CPUs.
struct How {
    schedule: Schedule,
    start: Start,
    work: Work,
    pin: Option<PinPlan>,
}

/// The runs: when to stop, what to break, how many.
struct Runs {
    timeout: Option<u64>,
    faults: Vec<Fault>,
    fork_fail_at: Option<u32>,
    repeat: Option<u64>,
    warmup: Option<u64>,
}

/// A job whose counts, value and operation all read well: what the expected value needs.
#[derive(Clone, Copy)]
pub(super) struct Counted<'a> {
    pub(super) workers: u64,
    pub(super) iterations: u64,
    /// `workers x iterations`.
    pub(super) total: u64,
    pub(super) operation: Operation,
    pub(super) initial: Value,
    /// One operand per worker, or the one operand.
    pub(super) list: &'a [Value],
    /// Whether `list` gives each worker its own operand.
    pub(super) per_worker: bool,
}
