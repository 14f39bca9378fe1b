//! The arithmetic of `d` sums and products in any order: when every partial result of every
//! order is exact (then the check is exact), and otherwise a bound on any order's rounding
//! from the actual operands and counts; an exact `fsum`.

use super::{Reference, Rule};
use crate::value::OpKind;

/// Unit roundoff, 2^-53.
const U: f64 = f64::EPSILON / 2.0;

/// `gamma(n) = n u / (1 - n u)`: the relative error bound of n roundings (Higham).
fn gamma(n: f64) -> f64 {
    let nu = n * U;
    if nu >= 1.0 { f64::INFINITY } else { nu / (1.0 - nu) }
}

/// Half an ulp of the doubles of magnitude at most `x` (x >= 0): the largest rounding error of
/// an operation whose exact result is at most `x` in magnitude.
fn half_ulp(x: f64) -> f64 {
    if !x.is_finite() {
        return f64::INFINITY;
    }
    let exponent = ((x.to_bits() >> 52) & 0x7ff) as i32;
    // Subnormal results of a sum are exact; 2^-1074 is a safe upper bound anyway.
    if exponent <= 1 { f64::from_bits(1) } else { 2f64.powi(exponent - 1023 - 53) }
}

/// A finite nonzero double as `odd * 2^exp`, `odd` an odd integer below 2^53.
fn split(x: f64) -> Option<(u64, i32)> {
    if !x.is_finite() || x == 0.0 {
        return None;
    }
    let bits = x.abs().to_bits();
    let (exponent, fraction) = ((bits >> 52) as i32, bits & ((1 << 52) - 1));
    let (mut m, mut e) = if exponent == 0 { (fraction, -1074) } else { (fraction | (1 << 52), exponent - 1075) };
    let zeros = m.trailing_zeros();
    m >>= zeros;
    e += zeros as i32;
    Some((m, e))
}

/// The operands as terms of the sum: negated for `sub` (`x - a` is `x + (-a)` exactly).
fn signed(kind: OpKind, operands: &[f64]) -> Vec<f64> {
    let sign = if kind == OpKind::Sub { -1.0 } else { 1.0 };
    operands.iter().map(|a| sign * a).collect()
}

/// Whether every partial sum of every order is exact, so that every order gives the exact sum
/// bit for bit: all terms (`x0` and `iterations` copies of each operand) are finite multiples
/// of one power of two 2^e, and the sum of their magnitudes is below 2^(53+e) <= 2^1024, so
/// that every partial sum is a multiple of 2^e below 2^(53+e) in magnitude: a double. (A zero result is
/// then +0 in every order unless every term is -0, which every order keeps.)
pub(super) fn sum_is_exact(kind: OpKind, x0: f64, operands: &[f64], iterations: u64) -> bool {
    let terms: Vec<f64> = std::iter::once(x0).chain(signed(kind, operands)).collect();
    if terms.iter().any(|t| !t.is_finite()) {
        return false;
    }
    let parts: Vec<(u64, i32)> = terms.iter().filter_map(|&t| split(t)).collect();
    let Some(e) = parts.iter().map(|&(_, e)| e).min() else { return true };
    // Below 2^(53+e) <= 2^1024: no partial sum overflows.
    if e > 1024 - 53 {
        return false;
    }
    // In units of 2^e, with x0 counted once and each operand `iterations` times.
    let mut total: u128 = 0;
    let limit: u128 = 1 << 53;
    for (i, &t) in terms.iter().enumerate() {
        let Some((m, k)) = split(t) else { continue };
        if k - e >= 53 {
            return false;
        }
        let units = (m as u128) << (k - e);
        let count = if i == 0 { 1 } else { iterations as u128 };
        match units.checked_mul(count).and_then(|u| total.checked_add(u)) {
            Some(t) if t < limit => total = t,
            _ => return false,
        }
    }
    true
}

/// A sum of `iterations` copies of each operand onto `x0`, in any order: within `bound` of the
/// exact sum rounded once. Each addition `s + a` rounds by at most `|a|` (s itself is a
/// candidate) and at most half an ulp of the largest partial sum any order can reach (Higham:
/// `(1 + gamma(n))` times the sum of the terms' magnitudes); the bound adds these over the
/// real number of additions of each operand, then the reference's own rounding.
pub(super) fn sum_rule(kind: OpKind, x0: f64, operands: &[f64], iterations: u64) -> Result<Rule, String> {
    let overflow = "a sum in any order: some orders overflow (no finite bound holds for all of them); use schedule: sequential or round-robin, which fix the order";
    let m = iterations as f64;
    let terms = signed(kind, operands);
    // m * a = p + e exactly (m < 2^53 in any job that can run).
    let product = |a: f64| {
        let p = m * a;
        [p, m.mul_add(a, -p)]
    };
    let mut exact_terms = vec![x0];
    let mut magnitudes = vec![x0.abs()];
    for &a in &terms {
        exact_terms.extend(product(a));
        magnitudes.extend(product(a.abs()));
    }
    let additions = m * terms.len() as f64;
    // The correctly rounded sum of magnitudes, one ulp up: at least the real one.
    let magnitude = exact_sum(&magnitudes).next_up();
    let largest_partial = magnitude * (1.0 + gamma(additions)) * (1.0 + 2.0 * U);
    let per_addition = half_ulp(largest_partial);
    let rounding: f64 = terms.iter().map(|a| m * a.abs().min(per_addition)).sum();
    let reference = exact_sum(&exact_terms);
    // Slack for the sum of the bound's own terms, and the reference's rounding (one ulp).
    let bound = rounding * (1.0 + 4.0 * (terms.len() as f64 + 2.0) * U) + 2.0 * half_ulp(reference.abs());
    if !reference.is_finite() || !bound.is_finite() || !largest_partial.is_finite() {
        return Err(overflow.to_string());
    }
    Ok(Rule::interval(reference, bound, Reference::ExactSum))
}

/// Whether every partial product of every order is exact: the odd parts of `x0` and of
/// `iterations` copies of each operand multiply to less than 2^53 (so does every part of that
/// product), and no order leaves the normal range on the way.
pub(super) fn product_is_exact(x0: f64, operands: &[f64], iterations: u64) -> bool {
    let Some((m0, _)) = split(x0) else { return false };
    let mut odd: u128 = m0 as u128;
    for &a in operands {
        let Some((m, _)) = split(a) else { return false };
        if m == 1 {
            continue;
        }
        let Ok(n) = u32::try_from(iterations) else { return false };
        match (m as u128).checked_pow(n).and_then(|p| odd.checked_mul(p)) {
            Some(p) if p < 1 << 53 => odd = p,
            _ => return false,
        }
    }
    let (high, low) = extremes(x0, operands, iterations);
    high < 1022.0 && low > -1020.0
}

/// The largest and smallest magnitudes a partial product can reach, over all orders (growing
/// factors first, or shrinking ones first), in powers of two.
fn extremes(x0: f64, operands: &[f64], iterations: u64) -> (f64, f64) {
    let m = iterations as f64;
    let log = |a: f64| a.abs().log2();
    let up: f64 = operands.iter().map(|a| log(*a).max(0.0)).sum::<f64>() * m;
    let down: f64 = operands.iter().map(|a| log(*a).min(0.0)).sum::<f64>() * m;
    (log(x0) + up, log(x0) + down)
}

/// A product of `iterations` copies of each operand onto `x0`, in any order: within
/// `2 gamma(n)` of the reference order's result, as long as no order leaves the range of
/// normal doubles on the way (the bound says nothing then, so such a job must fix its order).
pub(super) fn product_rule(
    x0: f64,
    operands: &[f64],
    iterations: u64,
    reference: crate::value::Value,
) -> Result<Rule, String> {
    let crate::value::Value::D(r) = reference else { unreachable!("a d job") };
    // From zero, every order stays at a zero whose sign is the product of the signs.
    if x0 == 0.0 {
        return Ok(Rule::Exact);
    }
    let (high, low) = extremes(x0, operands, iterations);
    let zero_factor = operands.contains(&0.0);
    let refuse = "a product in any order: some orders leave the range of normal doubles on the way (overflow or underflow), where no rounding bound holds; use schedule: sequential or round-robin, which fix the order";
    if high >= 1023.0 || (!zero_factor && low <= -1021.0) {
        return Err(refuse.to_string());
    }
    if zero_factor {
        // Every order reaches zero without overflowing: a zero whose sign no order changes.
        return Ok(Rule::Exact);
    }
    let n = iterations as f64 * operands.len() as f64;
    Ok(Rule::interval(r, 2.0 * gamma(n) * r.abs() * (1.0 + 4.0 * f64::EPSILON), Reference::SequentialProduct))
}

/// The correctly rounded sum of `terms` (Shewchuk's algorithm, as Python's `math.fsum`).
pub(crate) fn exact_sum(terms: &[f64]) -> f64 {
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
