//! Judging a run over Redis whose operations were not all acknowledged, in the manner of
//! Jepsen's counter checker: an operation whose every send timed out (ambiguous) may or may not
//! have been applied, so the final value must be the value of the acknowledged operations plus
//! some number of the ambiguous ones; and a run whose resends were not made exactly once may
//! have applied an operation twice (duplicated updates).
//!
//! Owns: [`judge_ambiguous`] (a complete run with ambiguous operations), [`duplicated`] (a value
//! beyond the planned operations that resends explain), and the search for the fewest and most
//! operations that explain a value. With one operand every operation is the same function, so
//! only how many were applied matters, and `depth` answers exactly; with per-worker operands
//! only operations that commute exactly on the type are searched (`partial::per_worker`), and
//! elsewhere the ambiguous operations are counted and the verdict says they cannot be bounded.
//! Does not own: the counts themselves (the Redis engine writes them in the workers' slots).

use super::partial::{Found, per_worker};
use super::{Judgement, Outcome, Verdict};
use crate::iterate::{Depth, depth};
use crate::plan::Plan;
use crate::value::Value;

/// What a run's ambiguous operations came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ambiguity {
    /// Operations whose every send timed out.
    pub operations: u64,
    /// Operations acknowledged by the server (the run's operations less the ambiguous ones).
    pub acknowledged: u64,
    /// The fewest and most of the ambiguous operations whose application explains the final
    /// value; `None` when that could not be bounded (or no count explains it).
    pub applied: Option<(u64, u64)>,
}

/// Resends that may have applied an operation twice: a Redis run's commands sent again after a
/// timeout, unless each operation carried a sequence number the server checked (`atomic` with
/// `exactly_once`) or its write was made idempotent by its token (`mutex`).
pub(super) fn unchecked_resends(plan: &Plan, outcome: &Outcome) -> u64 {
    let Some(redis) = plan.engine.redis() else { return 0 };
    let checked = match plan.backend.kind() {
        crate::names::BackendKind::Atomic => redis.exactly_once,
        crate::names::BackendKind::Mutex => true,
        _ => false,
    };
    if checked { 0 } else { outcome.workers.iter().map(|w| w.resent).sum() }
}

/// The fewest and most `k` in `lo..=hi` with `f^k(x0) == target`: `Ok(None)` when none does,
/// `Err(())` when the search could not decide. Binary searches over `depth`, whose answer on a
/// prefix (or suffix) of the range only grows with it.
fn explained(plan: &Plan, target: Value, lo: u64, hi: u64) -> Result<Option<(u64, u64)>, ()> {
    let op = &plan.operation;
    let reach = |a: u64, b: u64| match depth(op, plan.initial, target, a, b) {
        Depth::Unknown => Err(()),
        Depth::Unreachable => Ok(false),
        _ => Ok(true),
    };
    if !reach(lo, hi)? {
        return Ok(None);
    }
    // The first k whose prefix lo..=k reaches, and the last whose suffix k..=hi does.
    let (mut a, mut b) = (lo, hi);
    while a < b {
        let mid = a + (b - a) / 2;
        if reach(lo, mid)? { b = mid } else { a = mid + 1 }
    }
    let first = a;
    let (mut a, mut b) = (first, hi);
    while a < b {
        let mid = a + (b - a).div_ceil(2);
        if reach(mid, hi)? { a = mid } else { b = mid - 1 }
    }
    Ok(Some((first, a)))
}

/// A value that fails the check but is the value of more operations than were planned, up to
/// one more per unchecked resend: duplicated updates. `None` when resends do not explain it.
pub(super) fn duplicated(plan: &Plan, target: Value, resends: u64, base: &Judgement) -> Option<Judgement> {
    let total = plan.total_ops();
    if resends == 0 || plan.operands.is_some() {
        return None;
    }
    let (first, last) = explained(plan, target, total + 1, total.saturating_add(resends)).ok()??;
    let (count, why) = if first == last {
        (Some(first - total), None)
    } else {
        (None, Some(format!("{} to {} operations applied twice give this value", first - total, last - total)))
    };
    let what = match count {
        Some(n) => format!("the value of {first} operations: {n} of the {total} applied twice"),
        None => format!("the value of {first} to {last} operations, more than the {total} planned"),
    };
    Some(Judgement {
        verdict: Verdict::DuplicatedUpdates,
        reason: Some(format!(
            "{what}; {} resent after a timeout without a sequence number the server checks",
            crate::words::plural(resends, "command")
        )),
        lost_updates: Some(0),
        lost_updates_reason: None,
        duplicated_updates: count,
        duplicated_updates_reason: why,
        ..base.clone()
    })
}

/// The fewest and most operations in `lo..=hi` that explain the final value (per-worker
/// operands: each worker's acknowledged to attempted; several counts give the whole range):
/// `Ok(None)` when none does, `Err` with why the search could not decide.
fn search(plan: &Plan, outcome: &Outcome, lo: u64, hi: u64) -> Result<Option<(u64, u64)>, String> {
    let target = outcome.final_value;
    match &plan.operands {
        None => explained(plan, target, lo, hi)
            .map_err(|()| "the search for how many were applied was too long".to_string()),
        Some(operands) => {
            let ranges: Vec<(u64, u64)> =
                outcome.workers.iter().map(|w| (w.ops - w.ambiguous.min(w.ops), w.ops)).collect();
            let total = ranges.iter().map(|r| r.1).sum();
            match per_worker(plan, operands, &ranges, target) {
                Found::Exactly(k) => Ok(Some((k, k))),
                Found::Several => Ok(Some((lo, total))),
                Found::Unreachable => Ok(None),
                Found::Unknown(why) => Err(why),
            }
        }
    }
}

/// Judges a complete run with `ambiguous` operations against the values of the acknowledged
/// operations plus some of the ambiguous ones (plus, where resends were not checked, one more
/// per resend).
pub(super) fn judge_ambiguous(plan: &Plan, outcome: &Outcome, ambiguous: u64, overlap: Option<f64>) -> Judgement {
    let total = plan.total_ops();
    let acked = total - ambiguous.min(total);
    let resends = unchecked_resends(plan, outcome);
    let synchronised = super::keeps_updates(plan);
    let target = outcome.final_value;
    let some = |n: u64| crate::words::plural(n, "ambiguous operation");
    let base = Judgement {
        verdict: Verdict::Inconclusive,
        reason: None,
        lost_updates: None,
        lost_updates_reason: None,
        duplicated_updates: None,
        duplicated_updates_reason: None,
        applied: Some((acked, total)),
        partial_check: None,
        partial_expected: Some(format!(
            "the value of the {acked} acknowledged operations plus 0 to {}",
            some(ambiguous)
        )),
        established: None,
        limits: Some(format!(
            "{} timed out on every send: each may or may not have been applied, so up to {ambiguous} lost updates would go undetected",
            some(ambiguous)
        )),
        overlap_seconds: overlap,
        ambiguous: Some(Ambiguity { operations: ambiguous, acknowledged: acked, applied: None }),
    };
    let (first, last) = match search(plan, outcome, acked, total + resends) {
        Err(why) => {
            return Judgement {
                reason: Some(format!("{}; they cannot be bounded: {why}", some(ambiguous))),
                partial_check: Some(format!("not checked: {why}")),
                lost_updates_reason: Some(why),
                ..base
            };
        }
        Ok(None) => {
            let why = format!("no number of the {} explains the final value", some(ambiguous));
            let verdict = if synchronised { Verdict::Wrong } else { Verdict::LostUpdates };
            return Judgement {
                verdict,
                reason: (!synchronised).then(|| format!("{why}: updates were lost")),
                partial_check: Some(why.clone()),
                lost_updates_reason: Some(why),
                ..base
            };
        }
        Ok(Some(found)) => found,
    };
    if first > total {
        let j = duplicated(plan, target, resends, &base);
        return j.unwrap_or(Judgement { verdict: Verdict::Wrong, ..base });
    }
    let last = last.min(total);
    let several = plan.operands.is_some() && first != last && (first, last) == (acked, total);
    let range =
        if first == last { format!("{}", first - acked) } else { format!("{} to {}", first - acked, last - acked) };
    let check = if several {
        format!("the value of the {acked} acknowledged operations plus some of the {}", some(ambiguous))
    } else {
        format!("the value of the {acked} acknowledged operations plus {range} of the {}", some(ambiguous))
    };
    let ambiguity =
        Ambiguity { applied: (!several).then_some((first - acked, last - acked)), ..base.ambiguous.unwrap() };
    let exact = first == last && first == total && plan.check.is_exact() && plan.check.blind.is_none();
    let verdict = match (exact, synchronised) {
        (true, _) => Verdict::Correct,
        (false, true) => Verdict::WithinBound,
        (false, false) => Verdict::Inconclusive,
    };
    let reason = match verdict {
        Verdict::Correct => {
            Some(format!("every one of the {} was applied: the final value is the planned one", some(ambiguous)))
        }
        Verdict::WithinBound => Some(format!("the final value is {check}")),
        _ => Some(format!("the final value is {check}, which can hide lost updates")),
    };
    Judgement {
        verdict,
        reason,
        // One count, all of them: nothing can hide.
        limits: if exact { None } else { base.limits.clone() },
        lost_updates: exact.then_some(0),
        lost_updates_reason: (!exact).then(|| base.limits.clone().unwrap_or_default()),
        partial_check: Some(check),
        established: (first == last && synchronised).then_some(first),
        ambiguous: Some(ambiguity),
        ..base
    }
}
