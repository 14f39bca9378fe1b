//! `f^n(x)` for doubles: addition by jumps over runs of one ulp spacing, multiplication by
//! walking to a fixed point, jumping equal ulp steps and skipping walks that surely overflow,
//! within the file's `Steps`.

use super::Steps;

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
pub(super) fn add_n(mut x: f64, a: f64, mut n: u64) -> f64 {
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
pub(super) fn mul_n(mut x: f64, a: f64, mut n: u64, budget: &mut Steps) -> Option<f64> {
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
