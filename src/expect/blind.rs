//! Whether a check can detect the loss of one operation: a lost update leaves the value that
//! some operations fewer give, and a check that accepts such a value cannot tell a run that
//! lost it from one that did not. Says what it cannot detect, or `None` when the loss of any
//! one operation fails the check. When it cannot be sure, it says the check may be blind:
//! a report may claim less than was checked, never more.

use super::{Rule, order_independent};
use crate::iterate::{Steps, iterate};
use crate::names::Schedule;
use crate::value::{OpKind, Operation, Value};

/// What the check is about: the job's arithmetic and its expected value.
pub(super) struct Job<'a> {
    pub kind: OpKind,
    pub initial: Value,
    /// One per worker (one for all when the job gives one operand).
    pub operands: &'a [Value],
    /// Applications of each operand.
    pub iterations: u64,
    pub schedule: Schedule,
    pub expected: Value,
}

impl Job<'_> {
    fn op(&self, a: Value) -> Operation {
        Operation { kind: self.kind, operand: a }
    }

    fn named(&self, a: Value) -> String {
        format!("{} {a}", self.kind.name())
    }

    /// The value with one application of `operands[skip]` left out, in the listed order.
    fn without_one(&self, skip: usize, steps: &mut Steps) -> Option<Value> {
        let mut x = self.initial;
        for (i, &a) in self.operands.iter().enumerate() {
            let n = if i == skip { self.iterations - 1 } else { self.iterations };
            x = iterate(&self.op(a), x, n, steps)?;
        }
        Some(x)
    }
}

/// Workers at most for which a sequential order's every lost operation is computed (each of
/// them a walk over every worker's block); beyond, as round-robin, what the bound allows.
const SEQUENTIAL_COMPUTED: usize = 64;

pub(super) fn blind(job: &Job<'_>, rule: &Rule, steps: &mut Steps) -> Option<String> {
    match rule {
        Rule::OneOf(_) => Some("a lost update leaves one of the operands, which the check accepts".to_string()),
        Rule::Interval { lo, hi, reference, .. } => interval(job, hi - lo, *reference),
        Rule::Exact if order_independent(job.kind, job.initial, job.operands, job.iterations) => commuting(job, steps),
        Rule::Exact if job.schedule == Schedule::Sequential && job.operands.len() <= SEQUENTIAL_COMPUTED => {
            each_dropped(job, steps)
        }
        Rule::Exact => round_robin(job, steps),
    }
}

/// Every order gives the same value, so a lost application of `a` can be taken as the last:
/// the value `v` before it satisfies `f_a(v) == expected`, so `f_a(expected) != expected`
/// proves `v != expected`. Otherwise the value without it is computed.
fn commuting(job: &Job<'_>, steps: &mut Steps) -> Option<String> {
    dropped(job, steps, true)
}

/// Sequential: each worker's operations are one block of the same function, so losing any one
/// of them leaves the value of that block one shorter, which is computed.
fn each_dropped(job: &Job<'_>, steps: &mut Steps) -> Option<String> {
    dropped(job, steps, false)
}

/// Whether the value with one application of some operand left out is the expected value
/// (`commuting`: skip the computation where `f_a(expected) != expected` proves it is not).
fn dropped(job: &Job<'_>, steps: &mut Steps, commuting: bool) -> Option<String> {
    let mut seen: Vec<Value> = Vec::new();
    for (i, &a) in job.operands.iter().enumerate() {
        if commuting && seen.contains(&a) {
            continue;
        }
        seen.push(a);
        if commuting && job.op(a).apply(job.expected) != job.expected {
            continue;
        }
        match job.without_one(i, steps) {
            Some(v) if v != job.expected => {}
            Some(_) => {
                return Some(format!(
                    "losing one update of {} leaves the same final value, which the check accepts",
                    job.named(a)
                ));
            }
            None => {
                return Some(format!(
                    "whether losing one update of {} changes the final value was too long to compute",
                    job.named(a)
                ));
            }
        }
    }
    None
}

/// Round-robin's order (or a sequential one of many workers) of operations that do not
/// commute: `set` keeps only its last write; a `d` sum or product may absorb an update as well
/// as any order can (the rounding bound of any order says how much), which is not computed one
/// order at a time; a `d` product that every order drives to the same zero (initial 0, or a
/// zero factor) keeps it whichever updates are lost, unless the lost one was the only zero
/// factor or flips the sign.
fn round_robin(job: &Job<'_>, steps: &mut Steps) -> Option<String> {
    let total = job.iterations.saturating_mul(job.operands.len() as u64);
    match (job.kind, job.initial) {
        (OpKind::Set, _) if total > 1 => {
            Some("losing an update that a later write replaces leaves the same final value".to_string())
        }
        (OpKind::Add | OpKind::Sub | OpKind::Mul, Value::D(x0)) => {
            let operands = super::doubles(job.operands);
            let rule = if job.kind == OpKind::Mul {
                super::bounds::product_rule(x0, &operands, job.iterations, job.expected)
            } else {
                super::bounds::sum_rule(job.kind, x0, &operands, job.iterations)
            };
            match rule {
                Ok(Rule::Interval { lo, hi, reference, .. }) => interval(job, hi - lo, reference).map(|_| {
                    format!(
                        "in this fixed order the roundings may absorb an update (the rounding bound of any order is {:.3e} wide), so losing one may leave the same final value",
                        hi - lo
                    )
                }),
                // An exact check here means every order ends at the same zero (from zero, or
                // through a zero factor): losing an update usually leaves that zero too, so what
                // each lost update leaves is computed as for operations that commute.
                Ok(_) => commuting(job, steps),
                Err(_) => Some("whether one update can be absorbed by the roundings is not bounded".to_string()),
            }
        }
        _ => None,
    }
}

/// An interval `width` wide around `reference`: losing one application of `a` moves a sum by
/// `a` (a product by `r - r/a`), give or take the same rounding, so it can pass when that is
/// within the width.
fn interval(job: &Job<'_>, width: f64, reference: f64) -> Option<String> {
    let mut smallest: Option<(f64, Value)> = None;
    for &a in job.operands {
        let Value::D(x) = a else { continue };
        let moved = match job.kind {
            OpKind::Mul => (reference - reference / x).abs(),
            _ => x.abs(),
        };
        if moved.is_nan() || moved <= width * 1.001 {
            let better = smallest.is_none_or(|(m, _)| moved < m);
            if better {
                smallest = Some((moved, a));
            }
        }
    }
    let (_, a) = smallest?;
    Some(format!(
        "losing one update of {} moves the result by less than the interval's width ({width:.3e}), so the check cannot detect it",
        job.named(a)
    ))
}
