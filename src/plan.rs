//! The planner: a [`JobSpec`] (plus command-line overrides) becomes a [`Plan`], or every problem
//! found. Applies defaults, reads literals against the value's type, checks the rules that tie
//! fields together, and computes the expected final value.
//!
//! Pure: no I/O, no fork, no clock. Everything after the planner reads the `Plan`, never the
//! raw spec.

use serde_json::json;

use crate::error::{Diagnostic, Pos};
use crate::iterate::iterate;
use crate::spec::{At, JobSpec, Literal};
use crate::sync::BackendKind;
use crate::value::{Operation, Value, ValueType};

pub const MAX_WORKERS: u64 = 1024;
pub const MAX_BATCH: u64 = 65536;
/// Problems reported for one file at most; the rest are counted.
pub const MAX_DIAGNOSTICS: usize = 100;

/// Values given on the command line that replace the file's.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub workers: Option<u64>,
    pub iterations: Option<u64>,
    pub backend: Option<BackendKind>,
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
    pub backend: BackendKind,
    /// Operations per message (channel); 1 for the other backends.
    pub batch: u32,
    /// `f^(workers x iterations)(initial)`.
    pub expected: Value,
    /// What the job file states it ends with, when it says.
    pub expect: Option<Value>,
    /// Things the user should know that are not errors (an ignored field).
    pub notices: Vec<String>,
    /// The trace the job file asks for (the command line may replace it).
    pub trace: Option<TracePlan>,
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

    pub fn total_ops(&self) -> u64 {
        self.workers as u64 * self.iterations
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
            "operand": self.operation.operand.to_json(),
            "backend": self.backend.name(),
        });
        if let Some(d) = &self.description {
            job["description"] = d.clone().into();
        }
        if self.backend == BackendKind::Channel {
            job["batch"] = self.batch.into();
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

/// Plans `spec`, adding to the problems the reader already found. `stem` names a job that gives
/// no name.
pub fn plan(
    spec: &JobSpec,
    file: &str,
    stem: &str,
    overrides: &Overrides,
    found: Vec<Diagnostic>,
) -> Result<Plan, Vec<Diagnostic>> {
    let mut p = Planner { file, diags: found };
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
        let operand = match (ty, kind, &spec.operand) {
            (Some(ty), _, Some(lit)) => self.literal(lit, ty, "operand"),
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

        let name = spec.name.as_ref().map_or_else(|| stem.to_string(), |n| n.value.clone());
        let (workers, iterations, initial, kind, operand, backend) =
            (workers?, iterations?, initial?, kind?, operand?, backend?);
        let total = workers.checked_mul(iterations)?;
        let operation = Operation { kind, operand };
        if !kind.supports(initial.ty()) {
            return None;
        }
        let Some(expected) = iterate(&operation, initial, total) else {
            let pos = spec.operand.as_ref().map_or(spec.pos, |o| o.pos);
            self.error(
                pos,
                "operand",
                format!(
                    "cannot compute the expected value of {total} multiplications by {operand} in time: with an operand this close to 1 the exact result needs more than {} steps of work; use fewer iterations or an operand farther from 1",
                    crate::iterate::STEP_BUDGET
                ),
            );
            return None;
        };

        let mut expect = None;
        if let Some(lit) = &spec.expect
            && let Some(stated) = self.literal(lit, initial.ty(), "expect")
        {
            expect = Some(stated);
            if overrides.workers.is_some() || overrides.iterations.is_some() {
                notices.push("expect: not checked, since --workers or --iterations changed the job".to_string());
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
            backend,
            batch,
            expected,
            expect,
            notices,
            trace: spec.trace.as_ref().and_then(|t| {
                let file = t.value.file.as_ref()?.value.clone();
                Some(TracePlan { file, ops: t.value.ops.as_ref().is_some_and(|o| o.value) })
            }),
        })
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
}
