//! What a job must end at when workers apply different operands: exactly one value when every
//! order gives the same (or the schedule fixes the order), otherwise what can be proved whatever
//! the order: for `set`, one of the operands; for `d` sums, the exact real sum within a stated
//! rounding bound; for `d` products, the product within a relative bound.
//!
//! Pure arithmetic, like `iterate` (which handles the one-operand case this builds on).

use crate::iterate::{Steps, iterate};
use crate::names::Schedule;
use crate::value::{OpKind, Operation, Value};

/// How the verifier checks the final value.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// Bit for bit equal to the expected value.
    Exact,
    /// The result depends on the order: it must be one of these (`set`: the last writer wins).
    OneOf(Vec<Value>),
    /// The result depends on the order of roundings: within `bound` of `exact` (the real-number
    /// result, or for products a reference order's result).
    Within { exact: f64, bound: f64 },
}

impl Check {
    pub(crate) fn order_dependent(&self) -> bool {
        !matches!(self, Check::Exact)
    }

    /// Whether `v` passes (`expected` is the planner's value for the `Exact` check).
    pub(crate) fn accepts(&self, v: Value, expected: Value) -> bool {
        match self {
            Check::Exact => v == expected,
            Check::OneOf(values) => values.contains(&v),
            Check::Within { exact, bound } => match v {
                Value::D(x) => (x - exact).abs() <= *bound,
                _ => false,
            },
        }
    }

    /// For reports: the check used, in words.
    pub(crate) fn describe(&self) -> String {
        match self {
            Check::Exact => "exact: bit for bit".to_string(),
            Check::OneOf(values) => format!(
                "one of the operands (the last writer wins): {}",
                values.iter().map(Value::to_string).collect::<Vec<_>>().join(", ")
            ),
            Check::Within { exact, bound } => {
                format!("within {bound:e} of {exact:?} (the rounding bound of any order)")
            }
        }
    }
}

/// Whether the order of the operations can change the result: different operands, and an
/// operation that does not commute on the type.
pub(crate) fn order_matters(kind: OpKind, initial: Value, operands: &[Value]) -> bool {
    !order_independent(kind, initial, operands)
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
    let op = |a: Value| Operation { kind, operand: a };
    let mut sequential = || -> Option<Value> {
        let mut x = initial;
        for &a in operands {
            x = iterate(&op(a), x, iterations, steps)?;
        }
        Some(x)
    };
    let independent = order_independent(kind, initial, operands);
    match schedule {
        _ if independent => Ok(sequential().map(|v| (v, Check::Exact))),
        Schedule::Sequential => Ok(sequential().map(|v| (v, Check::Exact))),
        Schedule::RoundRobin => {
            let steps = iterations.saturating_mul(operands.len() as u64);
            if steps > ROUND_ROBIN_BUDGET {
                return Err(format!(
                    "round-robin with order-dependent operands is computed one operation at a time: at most {ROUND_ROBIN_BUDGET} operations (this job has {steps})"
                ));
            }
            let mut x = initial;
            for _ in 0..iterations {
                for &a in operands {
                    x = op(a).apply(x);
                }
            }
            Ok(Some((x, Check::Exact)))
        }
        Schedule::Concurrent => {
            let Some(reference) = sequential() else { return Ok(None) };
            let check = match (kind, initial) {
                (OpKind::Set, _) => {
                    let mut values: Vec<Value> = Vec::new();
                    for &a in operands {
                        if !values.contains(&a) {
                            values.push(a);
                        }
                    }
                    Check::OneOf(values)
                }
                (OpKind::Add | OpKind::Sub, Value::D(x0)) => match sum_check(kind, x0, operands, iterations) {
                    Check::Within { exact, bound } if !exact.is_finite() || !bound.is_finite() => {
                        return Err("a sum in any order: some orders overflow (no finite bound holds for all of them); use schedule: sequential or round-robin, which fix the order".to_string());
                    }
                    check => check,
                },
                (OpKind::Mul, Value::D(x0)) => product_check(x0, operands, iterations, reference)?,
                _ => Check::Exact,
            };
            Ok(Some((reference, check)))
        }
    }
}

/// Operations at most for the one-at-a-time round-robin computation.
pub(crate) const ROUND_ROBIN_BUDGET: u64 = 1 << 26;

/// Whether every order of the operations gives the same bits: always for one distinct operand;
/// for integers every operation but `set` commutes (wrapping arithmetic is exact modulo 2^w);
/// for doubles `min` and `max` do.
fn order_independent(kind: OpKind, initial: Value, operands: &[Value]) -> bool {
    if operands.iter().all(|&a| a == operands[0]) {
        return true;
    }
    match (kind, initial) {
        (OpKind::Set, _) => false,
        (OpKind::Min | OpKind::Max, _) => true,
        (_, Value::D(_)) => false,
        _ => true,
    }
}

/// `gamma(n) = n u / (1 - n u)`, u = 2^-53: the relative error bound of n roundings (Higham).
fn gamma(n: f64) -> f64 {
    let nu = n * f64::EPSILON / 2.0;
    if nu >= 1.0 { f64::INFINITY } else { nu / (1.0 - nu) }
}

/// A sum of `iterations` copies of each operand onto `x0`, in any order: its exact value (the
/// real sum, rounded once) and Higham's bound `gamma(n) * sum |terms|` on any order's error.
fn sum_check(kind: OpKind, x0: f64, operands: &[Value], iterations: u64) -> Check {
    let sign = if kind == OpKind::Sub { -1.0 } else { 1.0 };
    let m = iterations as f64;
    let mut terms = vec![x0];
    let mut magnitude = x0.abs();
    for a in operands {
        let Value::D(a) = *a else { continue };
        let a = sign * a;
        // m * a = p + e exactly (m < 2^53 in any job that can run).
        let p = m * a;
        let e = m.mul_add(a, -p);
        terms.push(p);
        terms.push(e);
        magnitude += m * a.abs();
    }
    let n = m * operands.len() as f64;
    // Slack for the check's own subtraction and the bound's rounding.
    let bound = gamma(n) * magnitude * (1.0 + 4.0 * f64::EPSILON) + f64::from_bits(1);
    Check::Within { exact: exact_sum(&terms), bound }
}

/// A product of `iterations` copies of each operand onto `x0`, in any order: within
/// `2 gamma(n)` of the reference order's result, as long as no order leaves the range of
/// normal doubles on the way (the bound says nothing then, so such a job must fix its order).
fn product_check(x0: f64, operands: &[Value], iterations: u64, reference: Value) -> Result<Check, String> {
    let Value::D(r) = reference else { unreachable!("a d job") };
    let values: Vec<f64> = operands.iter().filter_map(|v| if let Value::D(a) = v { Some(*a) } else { None }).collect();
    // From zero, every order stays at a zero whose sign is the product of the signs.
    if x0 == 0.0 {
        return Ok(Check::Exact);
    }
    // The largest and smallest magnitudes a partial product can reach, over all orders
    // (growing factors first, or shrinking ones first), in powers of two.
    let m = iterations as f64;
    let log = |a: f64| a.abs().log2();
    let up: f64 = values.iter().map(|a| log(*a).max(0.0)).sum::<f64>() * m;
    let down: f64 = values.iter().map(|a| log(*a).min(0.0)).sum::<f64>() * m;
    let (high, low) = (log(x0) + up, log(x0) + down);
    let zero_factor = values.contains(&0.0);
    let refuse = "a product in any order: some orders leave the range of normal doubles on the way (overflow or underflow), where no rounding bound holds; use schedule: sequential or round-robin, which fix the order";
    if high >= 1023.0 || (!zero_factor && low <= -1021.0) {
        return Err(refuse.to_string());
    }
    if zero_factor {
        // Every order reaches zero without overflowing: a zero whose sign no order changes.
        return Ok(Check::Exact);
    }
    let n = m * values.len() as f64;
    Ok(Check::Within { exact: r, bound: 2.0 * gamma(n) * r.abs() * (1.0 + 4.0 * f64::EPSILON) })
}

/// The correctly rounded sum of `terms` (Shewchuk's algorithm, as Python's `math.fsum`).
fn exact_sum(terms: &[f64]) -> f64 {
    let mut partials: Vec<f64> = Vec::new();
    for &t in terms {
        let mut x = t;
        let mut kept = 0;
        for i in 0..partials.len() {
            let mut y = partials[i];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                partials[kept] = lo;
                kept += 1;
            }
            x = hi;
        }
        partials.truncate(kept);
        partials.push(x);
    }
    // Sum the partials from the top, stopping at the first inexact step, then correct a
    // half-way case the way `math.fsum` does.
    let Some(mut hi) = partials.pop() else { return 0.0 };
    let mut lo = 0.0;
    while let Some(y) = partials.pop() {
        let x = hi;
        hi = x + y;
        lo = y - (hi - x);
        if lo != 0.0 {
            break;
        }
    }
    if let Some(&next) = partials.last()
        && ((lo < 0.0 && next < 0.0) || (lo > 0.0 && next > 0.0))
    {
        let y = lo * 2.0;
        let x = hi + y;
        if y == x - hi {
            hi = x;
        }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_sum_is_exact() {
        assert_eq!(exact_sum(&[0.1, 1e16, -1e16]), 0.1);
        assert_eq!(exact_sum(&[1e100, 1.0, -1e100]), 1.0);
    }

    #[test]
    fn schedules_fix_the_order() {
        let ops = [Value::D(0.1), Value::D(1e16), Value::D(-1e16)];
        let seq =
            expected(OpKind::Add, Value::D(0.0), &ops, 1, Schedule::Sequential, &mut Steps::new()).unwrap().unwrap();
        assert_eq!(seq, (Value::D(0.0), Check::Exact));
        let rr =
            expected(OpKind::Add, Value::D(0.0), &ops, 2, Schedule::RoundRobin, &mut Steps::new()).unwrap().unwrap();
        assert_eq!(rr.1, Check::Exact);
        let (_, check) =
            expected(OpKind::Add, Value::D(0.0), &ops, 1, Schedule::Concurrent, &mut Steps::new()).unwrap().unwrap();
        assert!(check.order_dependent());
        assert!(check.accepts(Value::D(0.0), Value::D(0.0)) && check.accepts(Value::D(0.1), Value::D(0.0)));
        assert!(!check.accepts(Value::D(1e10), Value::D(0.0)));
    }

    #[test]
    fn out_of_range_orders_are_refused() {
        let huge = [Value::D(1e308), Value::D(-1e308)];
        assert!(expected(OpKind::Add, Value::D(0.0), &huge, 2, Schedule::Concurrent, &mut Steps::new()).is_err());
        assert!(expected(OpKind::Add, Value::D(0.0), &huge, 2, Schedule::Sequential, &mut Steps::new()).is_ok());
        let tiny = [Value::D(1e-300), Value::D(1e300)];
        assert!(expected(OpKind::Mul, Value::D(1e-300), &tiny, 1, Schedule::Concurrent, &mut Steps::new()).is_err());
        let fine = [Value::D(1.5), Value::D(0.5)];
        let (_, check) =
            expected(OpKind::Mul, Value::D(3.0), &fine, 10, Schedule::Concurrent, &mut Steps::new()).unwrap().unwrap();
        assert!(matches!(check, Check::Within { .. }));
        let from_zero =
            expected(OpKind::Mul, Value::D(0.0), &fine, 10, Schedule::Concurrent, &mut Steps::new()).unwrap().unwrap();
        assert_eq!(from_zero.1, Check::Exact);
    }

    #[test]
    fn fsum_rounds_half_way_cases_correctly() {
        // 1 + 2^-53 + 2^-106: the sum lies just above half-way, so it rounds up.
        assert_eq!(exact_sum(&[1.0, 2f64.powi(-53), 2f64.powi(-106)]), 1.0 + f64::EPSILON);
        assert_eq!(exact_sum(&[1.0, 2f64.powi(-53)]), 1.0);
    }

    #[test]
    fn integers_commute() {
        let ops = [Value::I(1), Value::I(2), Value::I(3)];
        let (v, check) =
            expected(OpKind::Add, Value::I(0), &ops, 10, Schedule::Concurrent, &mut Steps::new()).unwrap().unwrap();
        assert_eq!((v, check), (Value::I(60), Check::Exact));
        let (_, check) =
            expected(OpKind::Set, Value::I(0), &ops, 10, Schedule::Concurrent, &mut Steps::new()).unwrap().unwrap();
        assert_eq!(check, Check::OneOf(ops.to_vec()));
    }
}
