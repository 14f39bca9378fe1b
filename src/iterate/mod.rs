//! The expected value: an operation applied `n` times, computed without applying it `n` times.
//!
//! Every operation of a job is the same function `f`, so with any synchronised backend the final
//! value is `f^n(initial)` whatever the order of the workers. This module computes `f^n` exactly
//! (bit for bit, `d` included) and, for the `none` backend, finds which `k` gives `f^k == final`
//! (the number of updates that survived). Pure arithmetic: no I/O. Here: `Steps` and `iterate`
//! with the integer closed forms; `double.rs` the walks and jumps over doubles; `depth.rs` the
//! search for `k`; `tests.rs`.
//!
//! How it stays fast for `n` up to 2^64:
//! - integers: closed forms (`x + n*a` and `x * a^n` modulo 2^w; `xor` by parity);
//! - idempotent operations (`min`, `max`, `and`, `or`, `set`): one application;
//! - `d` addition: within a range of doubles that share one spacing (ulp), adding `a` moves the
//!   value by a constant number of ulps, so the walk jumps to the end of each range
//!   (about 4,200 ranges exist); the first step into a range is taken literally;
//! - `d` multiplication: applied step by step until the value reaches a fixed point (0, an
//!   infinity, a value the rounding holds, or a sign flip), which happens within about 2,100
//!   steps unless the operand is close to ±1. Then runs of equal ulp steps are jumped over, and
//!   a walk that surely overflows (or sinks to the subnormal fixed point) within `n` steps skips
//!   to its end; what is left is walked, within what `Steps` has left of `STEP_BUDGET` (one
//!   budget for a whole file): beyond it (an operand within about 2^-22 of ±1 and `n` near the
//!   point of overflow) the answer is `None`.

mod depth;
mod double;
#[cfg(test)]
mod tests;

pub(crate) use depth::{Depth, depth};
use double::{add_n, mul_n};

use crate::value::{OpKind, Operation, Value};

/// Work, in literal multiplications, that planning one file may spend on `d` products before
/// it gives up (about a second).
pub(crate) const STEP_BUDGET: u64 = 1 << 30;

/// What is left of [`STEP_BUDGET`]: one for a whole file, shared by its cells and their workers'
/// operands, so that a file cannot make planning take a second per worker or per cell.
#[derive(Debug)]
pub(crate) struct Steps(u64);

impl Steps {
    pub(crate) fn new() -> Self {
        Steps(STEP_BUDGET)
    }

    /// Spends `n` steps; `None` when fewer are left.
    fn spend(&mut self, n: u64) -> Option<()> {
        self.0 = self.0.checked_sub(n)?;
        Some(())
    }
}

impl Default for Steps {
    fn default() -> Self {
        Self::new()
    }
}

/// `f^n(x)`; `None` only when a `d` multiplication would take more steps than `steps` has left.
pub(crate) fn iterate(op: &Operation, x: Value, n: u64, steps: &mut Steps) -> Option<Value> {
    if let (OpKind::Mul, Value::D(x), Value::D(a)) = (op.kind, x, op.operand) {
        return if n == 0 { Some(Value::D(x)) } else { mul_n(x, a, n, steps).map(Value::D) };
    }
    Some(iterate_exact(op, x, n))
}

/// `f^n(x)` for everything but `d` multiplication, always fast.
pub(super) fn iterate_exact(op: &Operation, x: Value, n: u64) -> Value {
    if n == 0 {
        return x;
    }
    if op.kind.idempotent() {
        return op.apply(x);
    }
    match (op.kind, x, op.operand) {
        (OpKind::Xor, ..) => {
            if n % 2 == 1 {
                op.apply(x)
            } else {
                x
            }
        }
        (kind, Value::I(x), Value::I(a)) => {
            Value::I(int_iterate(kind, x as u32 as u64, a as u32 as u64, n, 32) as u32 as i32)
        }
        (kind, Value::C(x), Value::C(a)) => Value::C(int_iterate(kind, x as u64, a as u64, n, 8) as u8),
        (OpKind::Add, Value::D(x), Value::D(a)) => Value::D(add_n(x, a, n)),
        (OpKind::Sub, Value::D(x), Value::D(a)) => Value::D(add_n(x, -a, n)),
        _ => x,
    }
}

/// `add`, `sub` and `mul` on a `w`-bit two's complement integer held in the low bits of a u64.
fn int_iterate(kind: OpKind, x: u64, a: u64, n: u64, w: u32) -> u64 {
    let mask = if w == 64 { u64::MAX } else { (1u64 << w) - 1 };
    let r = match kind {
        OpKind::Add => x.wrapping_add(a.wrapping_mul(n)),
        OpKind::Sub => x.wrapping_sub(a.wrapping_mul(n)),
        OpKind::Mul => x.wrapping_mul(pow_wrapping(a, n)),
        _ => x,
    };
    r & mask
}

fn pow_wrapping(mut base: u64, mut e: u64) -> u64 {
    let mut acc = 1u64;
    while e > 0 {
        if e & 1 == 1 {
            acc = acc.wrapping_mul(base);
        }
        base = base.wrapping_mul(base);
        e >>= 1;
    }
    acc
}
