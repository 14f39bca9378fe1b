//! The rules that tie fields together: the backend's own settings (a channel's batch and
//! transport, ignored with a notice when `--backend` replaced the channel), round-robin's one
//! operation per message, the expected value within the file's budget, and the value a job
//! states it ends with.

use super::planner::{Counted, Planner};
use super::{BackendPlan, EnginePlan, MAX_BATCH, Overrides};
use crate::expect::{Check, expected};
use crate::names::{BackendKind, Schedule, Transport};
use crate::spec::JobSpec;
use crate::value::{Operation, Value};

/// The backend as chosen (the override's, else the file's), with a channel's settings.
pub(super) struct Chosen {
    pub(super) kind: Option<BackendKind>,
    batch: u32,
    transport: Transport,
}

impl Chosen {
    pub(super) fn plan(&self, kind: BackendKind) -> BackendPlan {
        match kind {
            BackendKind::Mutex => BackendPlan::Mutex,
            BackendKind::Atomic => BackendPlan::Atomic,
            BackendKind::None => BackendPlan::None,
            BackendKind::Channel => BackendPlan::Channel { batch: self.batch, transport: self.transport },
        }
    }
}

impl Planner<'_> {
    /// The backend, and `batch` and `transport`, which only the channel takes.
    pub(super) fn backend(&mut self, spec: &JobSpec, overrides: &Overrides, notices: &mut Vec<String>) -> Chosen {
        let written_backend = spec.backend.as_ref().map(|b| b.value);
        let backend = overrides.backend.or(written_backend);
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
        Chosen { kind: backend, batch, transport }
    }

    /// The channel's transport on its engine: over Redis, a Redis stream (a job naming another
    /// is refused); `redis-stream` only over Redis.
    pub(super) fn transport_on(&mut self, spec: &JobSpec, chosen: &mut Chosen, engine: Option<&EnginePlan>) {
        if chosen.kind != Some(BackendKind::Channel) {
            return;
        }
        let redis = matches!(engine, Some(EnginePlan::Redis(_)));
        let written = spec.transport.as_ref();
        match written.map(|t| (t.pos, t.value)) {
            Some((pos, t)) if redis && t != Transport::RedisStream => self.error(
                pos,
                "transport",
                format!(
                    "over Redis the channel's messages go through a Redis stream (transport: redis-stream), not {}",
                    t.name()
                ),
            ),
            Some((pos, Transport::RedisStream)) if !redis && engine.is_some() => {
                self.error(pos, "transport", "transport redis-stream needs engine: redis");
            }
            _ => {}
        }
        if redis {
            chosen.transport = Transport::RedisStream;
        }
    }

    /// Round-robin hands the turn on after every operation: a channel message holds one.
    pub(super) fn round_robin_batch(&mut self, spec: &JobSpec, schedule: Schedule, chosen: &Chosen) {
        if schedule == Schedule::RoundRobin && chosen.kind == Some(BackendKind::Channel) && chosen.batch > 1 {
            let pos = spec.batch.as_ref().map_or(spec.pos, |b| b.pos);
            self.error(pos, "batch", "schedule round-robin takes one operation per worker in turn: batch must be 1");
        }
    }

    /// The expected final value and its check, within what is left of the file's budget.
    pub(super) fn expected(&mut self, spec: &JobSpec, job: &Counted, schedule: Schedule) -> Option<(Value, Check)> {
        let Counted { iterations, total, operation: Operation { kind, operand }, initial, list, per_worker, .. } = *job;
        let each = if per_worker { iterations } else { total };
        let operand_pos = spec.operand.as_ref().map_or(spec.pos, |o| o.pos);
        match expected(kind, initial, list, each, schedule, self.steps) {
            Ok(Some(found)) => Some(found),
            Ok(None) => {
                let by = if per_worker { "the workers' operands".to_string() } else { operand.to_string() };
                self.error(
                    operand_pos,
                    "operand",
                    format!(
                        "cannot compute the expected value of {total} multiplications by {by} in time: with an operand this close to 1 the exact result needs more than {} steps of work (one budget for the whole file, its cells and workers together); use fewer iterations or operands farther from 1",
                        crate::iterate::STEP_BUDGET
                    ),
                );
                None
            }
            Err(why) => {
                // At the schedule when the file gives one (it chose the order), else at the
                // operands whose order matters.
                match &spec.schedule {
                    Some(s) => self.error(s.pos, "schedule", why),
                    None => self.error(operand_pos, "operand", why),
                }
                None
            }
        }
    }

    /// The value the job states it ends with, checked against the expected value when the
    /// check can be exact and the command line left the counts alone (else a notice says why
    /// not).
    pub(super) fn stated(
        &mut self,
        spec: &JobSpec,
        overrides: &Overrides,
        job: &Counted,
        (expected, check): (Value, &Check),
        notices: &mut Vec<String>,
    ) -> Option<Value> {
        let Counted { workers, iterations, operation, initial, .. } = *job;
        let lit = spec.expect.as_ref()?;
        let stated = self.literal(lit, initial.ty(), "expect")?;
        if overrides.workers.is_some() || overrides.iterations.is_some() {
            notices.push("expect: not checked, since --workers or --iterations changed the job".to_string());
            return None;
        }
        if let Some(axis) = overrides.sweeps_the_result() {
            notices.push(format!("expect: not checked, since {} changes what the job computes", axis.flag()));
            return None;
        }
        if check.order_dependent() {
            notices.push("expect: not checked, since the result depends on the order of the operations".to_string());
            return None;
        }
        if stated != expected {
            self.error(
                lit.pos,
                "expect",
                format!(
                    "the job states it ends at {stated}, but {workers} x {iterations} applications of {} {} from {initial} end at {expected}",
                    operation.kind.name(),
                    operation.operand
                ),
            );
        }
        Some(stated)
    }
}
