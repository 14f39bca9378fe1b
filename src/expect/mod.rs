//! What a job must end at, and how its final value is checked: one [`Check`] that the planner
//! computes and every report shows as it is (exactly this value, one of a set, or an interval
//! with its bounds), together with what the check cannot detect.
//!
//! Exactly one value when every order gives the same bits (or the schedule fixes the order);
//! otherwise what can be proved whatever the order: for `set`, one of the operands; for `d`
//! sums, the exact real sum within a bound on any order's rounding (from the actual operands
//! and counts), or exactly when every partial sum of every order is exact; for `d` products,
//! the reference order's product within a relative bound, or exactly when every partial
//! product is exact.
//!
//! Here: [`Check`], [`Rule`], [`expected`]; `bounds.rs` the arithmetic of sums and products
//! (the bounds, when they are exact, an exact `fsum`); `blind.rs` whether losing one operation
//! could pass the check. Pure arithmetic, like `iterate` (which handles the one-operand case
//! this builds on).

mod blind;
mod bounds;
#[cfg(test)]
mod tests;

use crate::iterate::{Steps, iterate};
use crate::names::Schedule;
use crate::value::{OpKind, Operation, Value};

/// How the final value is checked, and what the check cannot detect.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub rule: Rule,
    /// When losing one operation (a lost update) could leave a value the check accepts: what
    /// it cannot detect, in words. `None` when the loss of any one operation fails the check.
    pub blind: Option<String>,
}

/// The check's rule on the final value.
#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    /// Bit for bit equal to the planner's expected value.
    Exact,
    /// The result depends on the order: it must be one of these (`set`: the last writer wins).
    OneOf(Vec<Value>),
    /// The result depends on the order of roundings: `lo <= final <= hi`, the bounds
    /// `reference ∓ bound` rounded outwards.
    Interval { reference: f64, bound: f64, lo: f64, hi: f64, of: Reference },
}

/// What an interval is centred on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reference {
    /// The real sum of every term, rounded once.
    ExactSum,
    /// The product in the sequential order.
    SequentialProduct,
}

impl Rule {
    /// `reference ± bound` as a closed interval rounded outwards, so that a value within the
    /// bound of the reference always passes whatever the rounding of the comparison.
    fn interval(reference: f64, bound: f64, of: Reference) -> Rule {
        Rule::Interval { reference, bound, lo: (reference - bound).next_down(), hi: (reference + bound).next_up(), of }
    }
}

impl Check {
    /// Exact: bit for bit.
    pub(crate) fn is_exact(&self) -> bool {
        self.rule == Rule::Exact
    }

    /// An interval's bounds.
    pub(crate) fn interval(&self) -> Option<(f64, f64)> {
        match self.rule {
            Rule::Interval { lo, hi, .. } => Some((lo, hi)),
            _ => None,
        }
    }

    pub(crate) fn order_dependent(&self) -> bool {
        !self.is_exact()
    }

    /// Whether `v` passes (`expected` is the planner's value for the `Exact` check).
    pub(crate) fn accepts(&self, v: Value, expected: Value) -> bool {
        match &self.rule {
            Rule::Exact => v == expected,
            Rule::OneOf(values) => values.contains(&v),
            Rule::Interval { lo, hi, .. } => match v {
                Value::D(x) => *lo <= x && x <= *hi,
                _ => false,
            },
        }
    }

    /// The check in words, as the order note and the sweep's table say it.
    pub(crate) fn describe(&self) -> String {
        match &self.rule {
            Rule::Exact => "exact: bit for bit".to_string(),
            Rule::OneOf(values) => format!("one of the operands (the last writer wins): {}", list(values)),
            Rule::Interval { reference, bound, lo, hi, of } => {
                format!("from {lo:?} to {hi:?}: {reference:?} within {bound:.3e} ({})", of.describe())
            }
        }
    }

    /// What the final value must be, in one line: the value for an exact check, else the
    /// check itself. `runner plan` and the run report print this same line.
    pub(crate) fn expected_text(&self, expected: Value) -> String {
        match &self.rule {
            Rule::Exact => expected.to_string(),
            Rule::OneOf(values) => format!("one of {} (the last writer wins)", list(values)),
            Rule::Interval { .. } => self.describe(),
        }
    }
}

impl Reference {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Reference::ExactSum => "the exact sum, rounded once; the bound is the rounding bound of any order",
            Reference::SequentialProduct => {
                "the product in the sequential order; the bound is the rounding bound of any order"
            }
        }
    }
}

fn list(values: &[Value]) -> String {
    values.iter().map(Value::to_string).collect::<Vec<_>>().join(", ")
}

/// Whether the order of the operations can change the result: different operands, an
/// operation that does not commute on the type, and (`d` sums and products) partial results
/// that some order rounds.
pub(crate) fn order_matters(kind: OpKind, initial: Value, operands: &[Value], iterations: u64) -> bool {
    !order_independent(kind, initial, operands, iterations)
}

/// The value a schedule gives, and the check. `None` when it would take more than `steps` has
/// left to compute (then the caller reports it); `Err` with a reason when no useful check exists.
pub(crate) fn expected(
    kind: OpKind,
    initial: Value,
    operands: &[Value],
    iterations: u64,
    schedule: Schedule,
    steps: &mut Steps,
) -> Result<Option<(Value, Check)>, String> {
    let Some((value, rule)) = rule(kind, initial, operands, iterations, schedule, steps)? else { return Ok(None) };
    let job = blind::Job { kind, initial, operands, iterations, schedule, expected: value };
    let blind = blind::blind(&job, &rule, steps);
    Ok(Some((value, Check { rule, blind })))
}

/// The value a schedule gives, and the check's rule.
fn rule(
    kind: OpKind,
    initial: Value,
    operands: &[Value],
    iterations: u64,
    schedule: Schedule,
    steps: &mut Steps,
) -> Result<Option<(Value, Rule)>, String> {
    let op = |a: Value| Operation { kind, operand: a };
    let mut sequential = || -> Option<Value> {
        let mut x = initial;
        for &a in operands {
            x = iterate(&op(a), x, iterations, steps)?;
        }
        Some(x)
    };
    let independent = order_independent(kind, initial, operands, iterations);
    match schedule {
        _ if independent => Ok(sequential().map(|v| (v, Rule::Exact))),
        Schedule::Sequential => Ok(sequential().map(|v| (v, Rule::Exact))),
        Schedule::RoundRobin => {
            let steps = iterations.saturating_mul(operands.len() as u64);
            if steps > ROUND_ROBIN_BUDGET {
                return Err(format!(
                    "round-robin with order-dependent operands is computed one operation at a time: at most {ROUND_ROBIN_BUDGET} operations (this job has {steps})"
                ));
            }
            Ok(Some((round_robin(kind, initial, operands, iterations), Rule::Exact)))
        }
        Schedule::Concurrent => {
            let Some(reference) = sequential() else { return Ok(None) };
            let rule = match (kind, initial) {
                (OpKind::Set, _) => {
                    let mut values: Vec<Value> = Vec::new();
                    for &a in operands {
                        if !values.contains(&a) {
                            values.push(a);
                        }
                    }
                    Rule::OneOf(values)
                }
                (OpKind::Add | OpKind::Sub, Value::D(x0)) => {
                    bounds::sum_rule(kind, x0, &doubles(operands), iterations)?
                }
                (OpKind::Mul, Value::D(x0)) => bounds::product_rule(x0, &doubles(operands), iterations, reference)?,
                _ => Rule::Exact,
            };
            Ok(Some((reference, rule)))
        }
    }
}

/// Round-robin's value, one operation at a time.
fn round_robin(kind: OpKind, initial: Value, operands: &[Value], iterations: u64) -> Value {
    let mut x = initial;
    for _ in 0..iterations {
        for &a in operands {
            x = Operation { kind, operand: a }.apply(x);
        }
    }
    x
}

fn doubles(operands: &[Value]) -> Vec<f64> {
    operands.iter().filter_map(|v| if let Value::D(a) = v { Some(*a) } else { None }).collect()
}

/// Operations at most for the one-at-a-time round-robin computation.
pub(crate) const ROUND_ROBIN_BUDGET: u64 = 1 << 26;

/// Whether every order of the operations gives the same bits: always for one distinct operand;
/// for integers every operation but `set` commutes (wrapping arithmetic is exact modulo 2^w);
/// for doubles `min` and `max` do, and sums and products whose every partial result, in any
/// order, is exact.
fn order_independent(kind: OpKind, initial: Value, operands: &[Value], iterations: u64) -> bool {
    if operands.iter().all(|&a| a == operands[0]) {
        return true;
    }
    match (kind, initial) {
        (OpKind::Set, _) => false,
        (OpKind::Min | OpKind::Max, _) => true,
        (OpKind::Add | OpKind::Sub, Value::D(x0)) => bounds::sum_is_exact(kind, x0, &doubles(operands), iterations),
        (OpKind::Mul, Value::D(x0)) => bounds::product_is_exact(x0, &doubles(operands), iterations),
        (_, Value::D(_)) => false,
        _ => true,
    }
}
