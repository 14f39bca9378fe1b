//! How many applied updates explain a final value (`depth`): closed forms for integer
//! addition, a binary search where `f^k` is monotone, a bounded search elsewhere.

use super::iterate_exact;
use crate::value::{OpKind, Operation, Value};

/// Which numbers of applied updates explain a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Depth {
    /// Exactly one `k` in the range gives the value.
    Exactly(u64),
    /// Several `k` in the range give the value: lost updates cannot be counted.
    Several,
    /// No `k` in the range gives the value.
    Unreachable,
    /// The search was too long to finish.
    Unknown,
}

/// How many steps a brute-force search may take before it gives up.
const SEARCH_BUDGET: u64 = 1 << 26;

/// The `k` in `kmin..=kmax` with `f^k(x0) == target`.
pub(crate) fn depth(op: &Operation, x0: Value, target: Value, kmin: u64, kmax: u64) -> Depth {
    if kmin > kmax || target.ty() != x0.ty() {
        return Depth::Unreachable;
    }
    let count = |first: u64, last: u64| -> Depth {
        // The matches are the k in first..=last (clipped to the range).
        let (first, last) = (first.max(kmin), last.min(kmax));
        match first.cmp(&last) {
            std::cmp::Ordering::Greater => Depth::Unreachable,
            std::cmp::Ordering::Equal => Depth::Exactly(first),
            std::cmp::Ordering::Less => Depth::Several,
        }
    };
    if op.kind.idempotent() {
        let once = op.apply(x0);
        return match (target == x0, target == once) {
            (_, true) if once == x0 => count(0, u64::MAX),
            (true, _) => count(0, 0),
            (_, true) => count(1, u64::MAX),
            _ => Depth::Unreachable,
        };
    }
    match (op.kind, x0, op.operand, target) {
        (OpKind::Xor, ..) => {
            let odd = op.apply(x0);
            let parities = [target == x0, target == odd];
            let matching: Vec<u64> = (kmin..=kmax.min(kmin + 1)).filter(|k| parities[(k % 2) as usize]).collect();
            match matching.as_slice() {
                [] => Depth::Unreachable,
                [k] if kmax - kmin < 2 => Depth::Exactly(*k),
                _ => Depth::Several,
            }
        }
        (OpKind::Add | OpKind::Sub, Value::I(x), Value::I(a), Value::I(t)) => {
            int_add_depth(op.kind, x as u32 as u64, a as u32 as u64, t as u32 as u64, 32, kmin, kmax)
        }
        (OpKind::Add | OpKind::Sub, Value::C(x), Value::C(a), Value::C(t)) => {
            int_add_depth(op.kind, x as u64, a as u64, t as u64, 8, kmin, kmax)
        }
        (OpKind::Add | OpKind::Sub, Value::D(_), Value::D(_), Value::D(t)) => monotone_depth(op, x0, t, kmin, kmax),
        _ => search_depth(op, x0, target, kmin, kmax),
    }
}

/// Solves `x + k*a == t (mod 2^w)` for `k` (with `-a` for `sub`).
fn int_add_depth(kind: OpKind, x: u64, a: u64, t: u64, w: u32, kmin: u64, kmax: u64) -> Depth {
    let modulus: u128 = 1u128 << w;
    let mask = (modulus - 1) as u64;
    let a = if kind == OpKind::Sub { a.wrapping_neg() & mask } else { a & mask };
    let diff = t.wrapping_sub(x) & mask;
    if a == 0 {
        return if diff == 0 { span(kmin, kmax) } else { Depth::Unreachable };
    }
    let tz = a.trailing_zeros();
    if diff & ((1u64 << tz) - 1) != 0 {
        return Depth::Unreachable;
    }
    // k ≡ (diff / 2^tz) * inverse(a / 2^tz)  (mod 2^(w - tz))
    let period: u128 = 1u128 << (w - tz);
    let k0 = ((diff >> tz) as u128 * inverse_odd(a >> tz) as u128) % period;
    let first = kmin as u128 + (k0 + period - (kmin as u128 % period)) % period;
    if first > kmax as u128 {
        Depth::Unreachable
    } else if first + period <= kmax as u128 {
        Depth::Several
    } else {
        Depth::Exactly(first as u64)
    }
}

fn span(kmin: u64, kmax: u64) -> Depth {
    if kmin == kmax { Depth::Exactly(kmin) } else { Depth::Several }
}

/// The inverse of an odd number modulo 2^64 (Newton's iteration doubles the good bits).
fn inverse_odd(a: u64) -> u64 {
    let mut x = a;
    for _ in 0..6 {
        x = x.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(x)));
    }
    x
}

/// `d` addition moves monotonically (in IEEE total order), so binary search finds the run of
/// `k` that gives `t`.
fn monotone_depth(op: &Operation, x0: Value, t: f64, kmin: u64, kmax: u64) -> Depth {
    let at = |k: u64| match iterate_exact(op, x0, k) {
        Value::D(v) => v,
        _ => f64::NAN,
    };
    let rising = at(kmax).total_cmp(&at(kmin)).is_ge();
    let key = |v: f64| if rising { v.total_cmp(&t) } else { t.total_cmp(&v) };
    // The first k whose value is not below t, then the first whose value is above it.
    let first_not_below = partition(kmin, kmax, |k| key(at(k)).is_lt());
    let first_above = partition(kmin, kmax, |k| key(at(k)).is_le());
    if first_not_below >= first_above { Depth::Unreachable } else { span(first_not_below, first_above - 1) }
}

/// The first `k` in `lo..=hi` for which `before(k)` is false (`hi + 1` when there is none);
/// `before` must be true then false along the range.
fn partition(lo: u64, hi: u64, before: impl Fn(u64) -> bool) -> u64 {
    let (mut lo, mut hi) = (lo as u128, hi as u128 + 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(mid as u64) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo as u64
}

/// Steps through `f^k` until a fixed point, the end of the range or the budget.
fn search_depth(op: &Operation, x0: Value, target: Value, kmin: u64, kmax: u64) -> Depth {
    let mut x = x0;
    let mut found: Option<u64> = None;
    let mut k = 0u64;
    loop {
        if k >= kmin && x == target {
            if found.is_some() {
                return Depth::Several;
            }
            found = Some(k);
        }
        if k == kmax {
            break;
        }
        if k >= SEARCH_BUDGET {
            return Depth::Unknown;
        }
        let next = op.apply(x);
        if next == x {
            // Fixed from here on: every later k matches too if this one did.
            return match found {
                Some(f) if f < kmax => Depth::Several,
                Some(f) => Depth::Exactly(f),
                None if x == target => count_from(k.max(kmin), kmax),
                None => Depth::Unreachable,
            };
        }
        x = next;
        k += 1;
    }
    found.map_or(Depth::Unreachable, Depth::Exactly)
}

fn count_from(first: u64, kmax: u64) -> Depth {
    if first > kmax { Depth::Unreachable } else { span(first, kmax) }
}
