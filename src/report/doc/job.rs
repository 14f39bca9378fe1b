//! The effective job in a document: the job after defaults and overrides, in the job file's
//! terms, as `runner plan`, a run report and a sweep's cells show it.

use schemars::JsonSchema;
use serde::Serialize;

use super::Num;
use crate::names::{BackendKind, Schedule, Start, Transport};
use crate::plan::{BackendPlan, PinPlan, Plan};
use crate::spec::ExpectOutcome;
use crate::value::{OpKind, ValueType};

/// The effective job after defaults and overrides; a field the job leaves at its default is
/// absent (except the first seven).
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Job {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[schemars(range(min = 1, max = 1024))]
    pub workers: u32,
    #[schemars(range(min = 1))]
    pub iterations: u64,
    pub value: JobValue,
    pub operation: OpKind,
    pub operand: Operand,
    pub backend: BackendKind,
    /// channel: operations per message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<u32>,
    /// channel: how the messages travel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<Transport>,
    /// Where the value lives, when not in this machine's shared memory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<Engine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<Start>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work: Option<Work>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin: Option<Pin>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warmup: Option<u32>,
    /// Each fault, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub faults: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fork_fail_at: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_outcome: Option<ExpectOutcome>,
    /// The deadline the job or the command line states (`1500ms`; `1500ns` when not a whole
    /// number of milliseconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect: Option<Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Trace>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct JobValue {
    #[serde(rename = "type")]
    pub ty: ValueType,
    pub initial: Num,
}

/// One operand for every worker, or one per worker.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum Operand {
    One(Num),
    PerWorker(Vec<Num>),
}

/// Busy work around each operation, in nanoseconds (`250ns`).
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Work {
    pub inside: String,
    pub outside: String,
}

/// `true`: each worker on a CPU runner may use; a list: worker k on `cpus[k % len]`.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum Pin {
    Allowed(bool),
    Cpus(Vec<usize>),
}

/// The Redis engine and its settings, as the run used them.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Engine {
    /// The server's address.
    pub redis: String,
    /// Where the address came from: `job`, `RUNNER_REDIS` or `default`.
    pub from: String,
    /// The key prefix the job gives (absent: one made for each run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// A command's timeout (`5000ms`).
    pub timeout: String,
    pub retries: u32,
    pub exactly_once: bool,
    pub fencing: bool,
    /// The mutex's lock lifetime (`10000ms`).
    pub lease: String,
    /// atomic: operations sent before their replies are read.
    pub pipeline: u32,
}

/// The trace the job file asks for.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Trace {
    pub file: String,
    pub ops: bool,
}

impl Job {
    pub fn new(plan: &Plan) -> Job {
        let (batch, transport) = match plan.backend {
            BackendPlan::Channel { batch, transport } => (Some(batch), Some(transport)),
            _ => (None, None),
        };
        Job {
            name: plan.name.clone(),
            description: plan.description.clone(),
            workers: plan.workers,
            iterations: plan.iterations,
            value: JobValue { ty: plan.value_type(), initial: Num(plan.initial) },
            operation: plan.operation.kind,
            operand: match &plan.operands {
                Some(list) => Operand::PerWorker(list.iter().copied().map(Num).collect()),
                None => Operand::One(Num(plan.operation.operand)),
            },
            backend: plan.backend.kind(),
            batch,
            transport,
            engine: plan.engine.redis().map(|r| Engine {
                redis: r.url.clone(),
                from: r.url_from.to_string(),
                key: r.key.clone(),
                timeout: crate::plan::duration_word(r.timeout_ns),
                retries: r.retries,
                exactly_once: r.exactly_once,
                fencing: r.fencing,
                lease: crate::plan::duration_word(r.lease_ns),
                pipeline: r.pipeline,
            }),
            schedule: (plan.schedule != Schedule::Concurrent).then_some(plan.schedule),
            start: (plan.start != Start::Together).then_some(plan.start),
            work: (!plan.work.is_none()).then(|| Work {
                inside: format!("{}ns", plan.work.inside_ns),
                outside: format!("{}ns", plan.work.outside_ns),
            }),
            pin: plan.pin.as_ref().map(|pin| match pin {
                PinPlan::Allowed => Pin::Allowed(true),
                PinPlan::Cpus(cpus) => Pin::Cpus(cpus.clone()),
            }),
            repeat: (plan.repeat != 1).then_some(plan.repeat),
            warmup: (plan.warmup != 0).then_some(plan.warmup),
            faults: (!plan.faults.is_empty()).then(|| plan.faults.iter().map(|f| f.describe()).collect()),
            fork_fail_at: plan.fork_fail_at,
            expect_outcome: plan.expect_outcome,
            timeout: plan.deadline.stated.then(|| crate::plan::duration_word(plan.deadline.timeout_ns)),
            expect: plan.expect.map(Num),
            trace: plan.trace.as_ref().map(|t| Trace { file: t.file.clone(), ops: t.ops }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The typed job is the planner's `effective_job`, field for field, on every catalog job.
    #[test]
    fn the_typed_job_is_the_effective_job() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/jobs");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let Ok(plans) = crate::plan_text(&path.to_string_lossy(), &text) else { continue };
            for plan in plans {
                assert_eq!(serde_json::to_value(Job::new(&plan)).unwrap(), plan.effective_job(), "{}", plan.name);
                seen += 1;
            }
        }
        assert!(seen > 10);
    }
}
