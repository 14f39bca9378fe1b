//! The expected value: an operation applied `n` times, computed without applying it `n` times.
//!
//! Every operation of a job is the same function `f`, so with any synchronised backend the final
//! value is `f^n(initial)` whatever the order of the workers. This module computes `f^n` exactly
//! (bit for bit, `d` included) and, for the `none` backend, finds which `k` gives `f^k == final`
//! (the number of updates that survived). Pure arithmetic: no I/O.
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
//!   to its end; what is left is walked, within what [`Steps`] has left of [`STEP_BUDGET`] (one
//!   budget for a whole file): beyond it (an operand within about 2^-22 of ±1 and `n` near the
//!   point of overflow) the answer is `None`.

use crate::value::{OpKind, Operation, Value};

/// Work, in literal multiplications, that planning one file may spend on `d` products before
/// it gives up (about a second).
pub const STEP_BUDGET: u64 = 1 << 30;

/// What is left of [`STEP_BUDGET`]: one for a whole file, shared by its cells and their workers'
/// operands, so that a file cannot make planning take a second per worker or per cell.
#[derive(Debug)]
pub struct Steps(u64);

impl Steps {
    pub fn new() -> Self {
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
pub fn iterate(op: &Operation, x: Value, n: u64, steps: &mut Steps) -> Option<Value> {
    if let (OpKind::Mul, Value::D(x), Value::D(a)) = (op.kind, x, op.operand) {
        return if n == 0 { Some(Value::D(x)) } else { mul_n(x, a, n, steps).map(Value::D) };
    }
    Some(iterate_exact(op, x, n))
}

/// `f^n(x)` for everything but `d` multiplication, always fast.
fn iterate_exact(op: &Operation, x: Value, n: u64) -> Value {
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

/// `2^e` for `e` in `-1074..=1023`, exactly.
fn pow2(e: i32) -> f64 {
    if e >= -1022 { f64::from_bits(((e + 1023) as u64) << 52) } else { f64::from_bits(1u64 << (e + 1074)) }
}

/// A double as `m * 2^e` with the spacing `2^e` of the range it lies in: `(m, e)`.
fn decompose(x: f64) -> (i64, i32) {
    let bits = x.to_bits();
    let field = ((bits >> 52) & 0x7ff) as i32;
    let frac = (bits & ((1u64 << 52) - 1)) as i64;
    let m = if field > 0 { frac + (1i64 << 52) } else { frac };
    let m = if x.is_sign_negative() { -m } else { m };
    (m, field.max(1) - 1075)
}

/// `fl(...fl(fl(x + a) + a)... )`, `n` additions.
fn add_n(mut x: f64, a: f64, mut n: u64) -> f64 {
    while n > 0 {
        let next = x + a;
        n -= 1;
        if next.to_bits() == x.to_bits() {
            return x; // a fixed point: every further addition leaves it unchanged
        }
        x = next;
        if n > 0
            && x.is_finite()
            && let Some((steps, y)) = add_jump(x, a, n)
        {
            x = y;
            n -= steps;
        }
    }
    x
}

/// From `x`, as many additions of `a` as stay within the range of doubles that share `x`'s
/// spacing (each of those moves by the same number of ulps), at most `n`. `None` when fewer than
/// two steps qualify: the caller then takes one literal step.
fn add_jump(x: f64, a: f64, n: u64) -> Option<(u64, f64)> {
    let (m, ue) = decompose(x);
    let field = ((x.to_bits() >> 52) & 0x7ff) as i32;
    let top: i64 = if field == 2046 { (1i64 << 53) - 1 } else { 1i64 << 53 };
    // The range in units of 2^ue: |x| < 2^-1021 shares the subnormal spacing across zero.
    let (lo, hi) = if field <= 1 {
        (-(1i64 << 53), 1i64 << 53)
    } else if m > 0 {
        (1i64 << 52, top)
    } else {
        (-top, -(1i64 << 52))
    };
    // a / 2^ue as a fixed-point number with `fb` fraction bits.
    let (ma, ea) = decompose(a);
    let shift = ea - ue;
    let (a_fx, fb): (i128, u32) = if shift >= 0 {
        if shift > 60 {
            return None;
        }
        ((ma as i128) << shift, 0)
    } else if shift < -64 {
        return None;
    } else {
        (ma as i128, (-shift) as u32)
    };
    let one: i128 = 1 << fb;
    let (m, lo, hi) = (m as i128, lo as i128, hi as i128);
    // One step in units, rounded to nearest, ties to even.
    let t = (m << fb) + a_fx;
    let q = t.div_euclid(one);
    let r = t.rem_euclid(one);
    let tie = fb > 0 && 2 * r == one;
    let rounded = if 2 * r < one || (tie && q % 2 == 0) { q } else { q + 1 };
    let d = rounded - m;
    if d == 0 || (tie && m % 2 != 0) {
        // A tie from an odd value rounds to the other side than from an even one: step once.
        return None;
    }
    // Steps j = 0..k-1 start at m + j*d; each needs its start and its exact sum in [lo, hi].
    let limit = if d > 0 {
        let room = (hi << fb) - a_fx.max(0) - (m << fb);
        room.div_euclid(d << fb)
    } else {
        let room = (m << fb) + a_fx.min(0) - (lo << fb);
        room.div_euclid((-d) << fb)
    };
    if limit < 1 {
        return None;
    }
    let k = (limit + 1).min(n as i128);
    if k < 2 {
        return None;
    }
    let end = m + k * d;
    let y = (end as f64) * pow2(ue);
    // Guard the reasoning above with the first literal step: it must agree.
    if (x + a).to_bits() != ((m + d) as f64 * pow2(ue)).to_bits() {
        return None;
    }
    Some((k as u64, y))
}

/// `n` multiplications by `a`. The magnitude is monotone, so the walk ends at a fixed point or
/// a two-cycle (a negative operand flips the sign of a value the rounding holds). Long walks
/// are shortened two ways: runs of steps that each move by the same number of ulps are jumped
/// over at once ([`mul_jump`]), and a walk that provably overflows or sinks to the subnormal
/// range's fixed point within `n` steps skips to its end ([`mul_bound`]).
fn mul_n(mut x: f64, a: f64, mut n: u64, budget: &mut Steps) -> Option<f64> {
    if let Some(y) = mul_bound(x, a, n) {
        return Some(y);
    }
    // Where runs are short, trying to jump costs more than the steps it saves: after a failed
    // try, wait twice as long before the next (up to `MAX_BACKOFF` steps); after a jump, try
    // again at once. The bound is retried every `BOUND_EVERY` steps.
    const MAX_BACKOFF: u64 = 1 << 12;
    const BOUND_EVERY: u64 = 1 << 16;
    const JUMP_COST: u64 = 24;
    let (mut backoff, mut wait, mut since_bound) = (1u64, 0u64, 0u64);
    while n > 0 {
        let next = x * a;
        n -= 1;
        if next.abs().to_bits() == x.abs().to_bits() {
            // |x| is fixed from here: x alternates sign when `next` flipped it.
            if next.to_bits() == x.to_bits() || n % 2 == 1 {
                return Some(x);
            }
            return Some(next);
        }
        x = next;
        budget.spend(1)?;
        if wait > 0 {
            wait -= 1;
        } else if n > 0 && x.is_finite() {
            // A try costs about as much as `JUMP_COST` literal steps.
            budget.spend(JUMP_COST)?;
            match mul_jump(x, a, n) {
                Some((steps, y)) => {
                    x = y;
                    n -= steps;
                    backoff = 1;
                }
                None => {
                    wait = backoff;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
        since_bound += 1;
        if since_bound >= BOUND_EVERY {
            since_bound = 0;
            if let Some(y) = mul_bound(x, a, n) {
                return Some(y);
            }
        }
    }
    Some(x)
}

/// The sign after `k` multiplications by `a`, applied to magnitude `m`.
fn signed(m: f64, x: f64, a: f64, k: u64) -> f64 {
    let negative = x.is_sign_negative() != (a.is_sign_negative() && k % 2 == 1);
    if negative { -m.abs() } else { m.abs() }
}

/// From `x`, as many multiplications by `a` (with `0.5 <= |a| <= 2`) as move `|x|` by the same
/// number of ulps without a tie and without leaving `x`'s spacing, at most `n`. `None` when
/// fewer than two steps qualify.
fn mul_jump(x: f64, a: f64, n: u64) -> Option<(u64, f64)> {
    let mag = a.abs();
    if !(0.5..=2.0).contains(&mag) || mag == 1.0 || x == 0.0 {
        return None;
    }
    // |a| = 1 + delta exactly (Sterbenz), delta = dm * 2^de, so a step moves |x| = m * 2^ue by
    // round(m * dm / 2^fb) units, fb = -de.
    let delta = mag - 1.0;
    let (dm, de) = decompose(delta);
    if !(-110..0).contains(&de) {
        return None;
    }
    let fb = (-de) as u32;
    let (m, ue) = decompose(x.abs());
    let field = ((x.to_bits() >> 52) & 0x7ff) as i32;
    if field >= 2046 {
        return None;
    }
    let (lo, hi): (i128, i128) = if field <= 1 { (0, 1 << 53) } else { (1 << 52, 1 << 53) };
    let (m, dm) = (m as i128, dm as i128);
    let one: i128 = 1 << fb;
    let p = m * dm;
    let q = p.div_euclid(one);
    let r = p.rem_euclid(one);
    if 2 * r == one {
        return None; // a tie: its rounding depends on parity; step once literally
    }
    let d = if 2 * r > one { q + 1 } else { q };
    if d == 0 {
        return None;
    }
    // Steps j = 0..k-1 start at m + j*d; each must round the same way and land in [lo, hi].
    let limit = if d > 0 {
        // m_j * dm < (d + 1/2) * 2^fb, and m_j + d <= hi.
        let h = (2 * d + 1) * (one / 2);
        let last = (h - 1).div_euclid(dm);
        ((last - m).div_euclid(d)).min((hi - d - m).div_euclid(d))
    } else {
        // m_j * |dm| > (2|d| - 1) * 2^(fb-1), and m_j + d >= lo.
        let (ad, adm) = (-d, -dm);
        let l = (2 * ad - 1) * (one / 2);
        let first = l.div_euclid(adm) + 1;
        ((m - first).div_euclid(ad)).min((m - ad - lo).div_euclid(ad))
    };
    if limit < 1 {
        return None;
    }
    let k = (limit + 1).min(n as i128);
    if k < 2 {
        return None;
    }
    // Guard the reasoning with the first literal step: it must agree.
    if (x * a).abs().to_bits() != ((m + d) as f64 * pow2(ue)).to_bits() {
        return None;
    }
    let end = (m + k * d) as f64 * pow2(ue);
    Some((k as u64, signed(end, x, a, k as u64)))
}

/// The end of `n` multiplications when it is known without walking: with a normal `x` and
/// `|a| = 1 + delta`, each step scales `|x|` by `|a|` within a relative error of 2^-53, so
/// after enough steps the value has surely overflowed (to infinity, where it stays) or sunk
/// into the subnormal range, whose walk downwards always ends at the same fixed point (the
/// largest `k * 2^-1074` that a multiplication leaves unchanged), whatever the path to it.
/// `None` when `n` is too small to be sure, or the operand is not of this kind.
fn mul_bound(x: f64, a: f64, n: u64) -> Option<f64> {
    let mag = a.abs();
    let delta = mag - 1.0;
    if x == 0.0 || !x.is_finite() || !(2f64.powi(-40)..=2f64.powi(-7)).contains(&delta.abs()) {
        return None;
    }
    let n_f = n as f64;
    // |x| in units of 2^-1074 when subnormal, where a step errs by half a unit.
    let units = x.abs() / pow2(-1074);
    let ln2 = std::f64::consts::LN_2;
    // log2 of the per-step factor's worst case, with room for the error of computing it.
    let eps = 2f64.powi(-50);
    let ad = delta.abs();
    if delta > 0.0 {
        // Subnormal: m -> m(1 + delta) - 1/2 at worst, which grows by at least (1 + delta/2)
        // once m >= 1/delta. Normal: relative error 2^-53 per step.
        let (sub_steps, log_x) = if x.is_normal() {
            (0.0, x.abs().log2())
        } else if units >= 1.0 / ad {
            ((53.0 * ln2 - units.ln()).max(0.0) / (ad / 2.0).ln_1p() * 1.001 + 64.0, -1022.0)
        } else {
            return None;
        };
        let rate = delta.ln_1p() / ln2 - eps;
        let steps = sub_steps + (1025.0 - log_x) / rate * 1.001 + 64.0;
        return (n_f >= steps).then(|| signed(f64::INFINITY, x, a, n));
    }
    let rate = -(delta.ln_1p() / ln2) - eps;
    let to_subnormal = if x.is_normal() {
        (x.abs().log2() + 1022.0) / rate * 1.001 + 64.0
    } else if units > 1.5 / ad + 2.0 {
        0.0
    } else {
        return None;
    };
    // In the subnormal range m -> m - round(m * |delta|): at most ln(2^53 |delta|) / |delta|
    // steps to get below 1.5 / |delta|, then steps of one to the fixed point near 0.5 / |delta|.
    let in_subnormal = (53.0 * ln2 + ad.ln()).max(0.0) / ad * 1.01 + 2.0 / ad + 64.0;
    if n_f < to_subnormal + in_subnormal {
        return None;
    }
    // Walk from just above 1.5 / |delta| (every path passes there) to the fixed point.
    let start = ((1.5 / ad) as u64 + 2).min((1 << 52) - 1);
    let from = start as f64 * pow2(-1074);
    let end = mul_n_walk(from, mag);
    Some(signed(end, x, a, n))
}

/// Multiplies by `a > 0` until a fixed point (with jumps); used from a subnormal start.
fn mul_n_walk(mut x: f64, a: f64) -> f64 {
    loop {
        let next = x * a;
        if next.to_bits() == x.to_bits() {
            return x;
        }
        x = next;
        if let Some((_, y)) = mul_jump(x, a, u64::MAX) {
            x = y;
        }
    }
}

/// Which numbers of applied updates explain a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
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
pub fn depth(op: &Operation, x0: Value, target: Value, kmin: u64, kmax: u64) -> Depth {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `iterate`, for cases well within the step budget.
    fn it(op: &Operation, x: Value, n: u64) -> Value {
        iterate(op, x, n, &mut Steps::new()).expect("within the step budget")
    }

    fn literal(op: &Operation, mut x: Value, n: u64) -> Value {
        for _ in 0..n {
            x = op.apply(x);
        }
        x
    }

    fn d(kind: OpKind, a: f64) -> Operation {
        Operation { kind, operand: Value::D(a) }
    }

    #[test]
    fn double_addition_matches_literal_steps() {
        let cases = [
            (0.0, 0.1),
            (0.1, 0.1),
            (1.0, 1e-16),
            (1.0, 1.1102230246251565e-16), // exactly half an ulp of 1.0: ties
            (3.0, 1.1102230246251565e-16),
            (-5.5, 0.3),
            (-1e-310, 3e-320),
            (1e308, 1e292),
            (9007199254740990.0, 1.0),
            (-1.0, 0.7),
            (-0.0, 0.0),
            (0.5, -0.125),
        ];
        for (x, a) in cases {
            for kind in [OpKind::Add, OpKind::Sub] {
                let op = d(kind, a);
                for n in [0, 1, 2, 3, 10, 1000, 123_457] {
                    assert_eq!(it(&op, Value::D(x), n), literal(&op, Value::D(x), n), "{kind:?} x={x} a={a} n={n}");
                }
            }
        }
    }

    #[test]
    fn double_multiplication_matches_literal_steps() {
        for (x, a) in [(1.0, 1.5), (3.0, -0.5), (-2.0, 1.0000001), (1e-300, 1e-10), (7.0, -1.0), (5.0, 0.0)] {
            let op = d(OpKind::Mul, a);
            for n in [0, 1, 2, 3, 17, 5000, 100_001] {
                assert_eq!(it(&op, Value::D(x), n), literal(&op, Value::D(x), n), "x={x} a={a} n={n}");
            }
        }
    }

    #[test]
    fn double_multiplication_near_one_matches_literal_steps() {
        let near = [
            1.0 + f64::EPSILON,
            1.0 - f64::EPSILON / 2.0,
            -(1.0 + f64::EPSILON),
            1.0 + 3.0 * f64::EPSILON,
            1.0 - 2f64.powi(-20),
            -(1.0 - 2f64.powi(-9)),
            1.0 + 2f64.powi(-12),
            0.75,
            1.9,
        ];
        for a in near {
            for x in [1.0, -3.3, 1.9999999999999998, 1e-310, 5e-324, 2.5e-308, 1.7e308] {
                let op = d(OpKind::Mul, a);
                for n in [2, 3, 1000, 250_001, 2_000_003] {
                    assert_eq!(it(&op, Value::D(x), n), literal(&op, Value::D(x), n), "x={x} a={a} n={n}");
                }
            }
        }
    }

    #[test]
    fn double_multiplication_walks_to_its_end() {
        // Far beyond any literal walk: overflow, and the subnormal fixed point whatever the start.
        let n = 1024 * 1_000_000_000_000u64;
        assert_eq!(it(&d(OpKind::Mul, 1.0000001), Value::D(1.0), n), Value::D(f64::INFINITY));
        assert_eq!(it(&d(OpKind::Mul, -1.0000001), Value::D(1.0), n), Value::D(f64::INFINITY));
        let sink = d(OpKind::Mul, 1.0 - 2f64.powi(-10));
        let from_far = it(&sink, Value::D(1e300), n);
        let walked = literal(&sink, Value::D(3e-320), 100_000);
        assert_eq!(from_far, walked);
        let tiny_step = d(OpKind::Mul, 1.0 + f64::EPSILON);
        assert!(matches!(it(&tiny_step, Value::D(1.0), n), Value::D(v) if v > 1.0 && v.is_finite()));
    }

    #[test]
    fn integers_match_literal_steps() {
        for kind in OpKind::ALL {
            for (x, a) in [(0, 1), (i32::MAX - 3, 7), (-5, -3), (12345, 65536), (3, 0)] {
                let op = Operation { kind, operand: Value::I(a) };
                for n in [0, 1, 2, 5, 1000, 77_777] {
                    assert_eq!(it(&op, Value::I(x), n), literal(&op, Value::I(x), n));
                }
                let op = Operation { kind, operand: Value::C(a as u8) };
                assert_eq!(it(&op, Value::C(x as u8), 777), literal(&op, Value::C(x as u8), 777));
            }
        }
    }

    #[test]
    fn long_double_sums_match_literal_steps() {
        for (x, a) in [(0.0, 0.1), (1.0, 3e-9), (-1e6, 0.01)] {
            let op = d(OpKind::Add, a);
            let n = 20_000_000;
            assert_eq!(it(&op, Value::D(x), n), literal(&op, Value::D(x), n), "x={x} a={a}");
        }
    }

    #[test]
    fn huge_counts_are_fast() {
        let n = 1024 * 1_000_000_000_000u64;
        let t = std::time::Instant::now();
        let sum = it(&d(OpKind::Add, 0.1), Value::D(0.0), n);
        // The rounding drifts: the sum lands near, not at, n / 10.
        assert!(matches!(sum, Value::D(v) if (v / (n as f64 / 10.0) - 1.0).abs() < 0.02), "{sum}");
        assert_eq!(it(&d(OpKind::Mul, 1.5), Value::D(1.0), n), Value::D(f64::INFINITY));
        assert_eq!(
            it(&Operation { kind: OpKind::Add, operand: Value::I(1) }, Value::I(0), n),
            Value::I((n % (1 << 32)) as u32 as i32)
        );
        assert!(t.elapsed().as_secs_f64() < 1.0);
    }

    #[test]
    fn depth_finds_surviving_updates() {
        let add1 = Operation { kind: OpKind::Add, operand: Value::I(1) };
        assert_eq!(depth(&add1, Value::I(0), Value::I(1234), 2, 1_600_000), Depth::Exactly(1234));
        assert_eq!(depth(&add1, Value::I(0), Value::I(1), 2, 1_600_000), Depth::Unreachable);
        let add_c = Operation { kind: OpKind::Add, operand: Value::C(1) };
        assert_eq!(depth(&add_c, Value::C(0), Value::C(7), 2, 1000), Depth::Several);
        let addd = d(OpKind::Add, 0.1);
        let final_ = it(&addd, Value::D(0.0), 777);
        assert_eq!(depth(&addd, Value::D(0.0), final_, 2, 5000), Depth::Exactly(777));
        assert_eq!(depth(&addd, Value::D(0.0), Value::D(0.15), 2, 5000), Depth::Unreachable);
        let mul = Operation { kind: OpKind::Mul, operand: Value::I(3) };
        let final_ = it(&mul, Value::I(1), 40);
        assert_eq!(depth(&mul, Value::I(1), final_, 2, 100), Depth::Exactly(40));
        let set = Operation { kind: OpKind::Set, operand: Value::I(9) };
        assert_eq!(depth(&set, Value::I(0), Value::I(9), 1, 10), Depth::Several);
    }
}
