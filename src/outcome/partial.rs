//! Judging a run that stopped before every operation ran (a failed worker, a signal, the
//! deadline): against the operations each worker can have applied, not the planned value.
//!
//! Owns: the per-worker applied ranges, the search for counts within them that explain the final
//! value (one operand: `depth`; per-worker operands: an enumeration bounded by a budget, over
//! operations that commute exactly on the type), and the verdict that search allows. A value is
//! called `wrong` only when no count in the ranges can give it.

use super::{Judgement, Outcome, Verdict};
use crate::iterate::{Depth, Steps, depth, iterate};
use crate::plan::Plan;
use crate::spec::FaultAction;
use crate::value::{OpKind, Operation, Value, ValueType};

/// How many combinations of the stopped workers' counts the per-worker search may try.
const COMBINATION_BUDGET: u128 = 1 << 22;

/// What the search over the applied ranges found.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Found {
    /// Exactly this many applied operations (in all) explain the value.
    Exactly(u64),
    /// Several counts explain it.
    Several,
    /// No count in the ranges gives it.
    Unreachable,
    /// The search could not decide, and why.
    Unknown(String),
}

impl From<Depth> for Found {
    fn from(d: Depth) -> Found {
        match d {
            Depth::Exactly(k) => Found::Exactly(k),
            Depth::Several => Found::Several,
            Depth::Unreachable => Found::Unreachable,
            Depth::Unknown => Found::Unknown("the search over the applied counts was too long".to_string()),
        }
    }
}

/// Per worker, the fewest and most operations it can have applied: its published count (the
/// owner's count for channel, exact) less its ambiguous operations (Redis), plus, for a worker that did not end well, what it may
/// have done since its last count (up to `stride`, and no further than its planned operations or
/// a fault that ends it: a worker publishes its exact count before its fault acts, and a death
/// mid-update inside the lock is undone when the lock is recovered).
pub(crate) fn worker_ranges(plan: &Plan, outcome: &Outcome) -> Vec<(u64, u64)> {
    if let Some(served) = &outcome.served {
        return served.applied.iter().map(|&n| (n, n)).collect();
    }
    outcome
        .workers
        .iter()
        .map(|w| {
            let ends = plan.faults.iter().find(|f| {
                f.worker == w.index && matches!(f.action, FaultAction::Kill | FaultAction::Panic | FaultAction::Exit)
            });
            let cap = match ends {
                // Killed inside the lock and its lock not recovered: its update may have stayed.
                Some(f) if f.inside_lock && f.action == FaultAction::Kill && !recovered(outcome, w.index) => f.at + 1,
                Some(f) => f.at,
                None if stopped_in_stall(plan, outcome, w.index, w.ops) => w.ops,
                None => plan.iterations,
            };
            let slack = if w.exit.success() { 0 } else { outcome.stride.min(cap.saturating_sub(w.ops)) };
            // Redis: an operation whose every send timed out may not have been applied.
            (w.ops - w.ambiguous.min(w.ops), w.ops + slack)
        })
        .collect()
}

/// Whether worker `index`, stopped at the deadline with `ops` published, was still in its
/// stall: it published exactly its stall's `at`, and the stall outlasts everything from the
/// release to the last signal runner sent (the deadline, how late it was, the grace).
fn stopped_in_stall(plan: &Plan, outcome: &Outcome, index: u32, ops: u64) -> bool {
    let (Some(deadline), Some(stop)) = (outcome.deadline, outcome.deadline_stop) else { return false };
    let grace = if stop.killed > 0 { plan.deadline.grace_ns as f64 / 1e9 } else { 0.0 };
    plan.faults.iter().any(|f| {
        f.worker == index
            && f.action == FaultAction::Stall
            && f.at == ops
            && f.stall_ns as f64 / 1e9 > deadline + stop.late_seconds + grace
    })
}

/// Whether the lock worker `index` died holding was taken over and its marked update undone.
fn recovered(outcome: &Outcome, index: u32) -> bool {
    outcome.recoveries.iter().any(|r| r.died_holding_lock == index && r.restored)
}

fn range_text(lo: u64, hi: u64) -> String {
    if lo == hi { format!("{lo}") } else { format!("{lo} to {hi}") }
}

/// What the value is held to: the value of the applied operations.
fn accepted_text(plan: &Plan, ranges: &[(u64, u64)], lo: u64, hi: u64) -> String {
    match &plan.operands {
        None => format!("the value of {} applied operations", range_text(lo, hi)),
        Some(_) => {
            let each: Vec<String> =
                ranges.iter().enumerate().map(|(k, (a, b))| format!("worker {k}: {}", range_text(*a, *b))).collect();
            format!("the value of the applied operations ({})", each.join(", "))
        }
    }
}

/// Judges a run that stopped early against the operations it can have applied.
pub(super) fn judge_partial(plan: &Plan, outcome: &Outcome, overlap: Option<f64>) -> Judgement {
    let ranges = worker_ranges(plan, outcome);
    let (lo, hi) = ranges.iter().fold((0u64, 0u64), |(a, b), (l, h)| (a + l, b + h));
    let synchronised = super::keeps_updates(plan);
    let target = outcome.final_value;
    let in_range = match &plan.operands {
        None => Found::from(depth(&plan.operation, plan.initial, target, lo, hi)),
        Some(operands) => per_worker(plan, operands, &ranges, target),
    };
    let accepted = accepted_text(plan, &ranges, lo, hi);
    let range = range_text(lo, hi);
    let undetected = (hi > lo).then(|| {
        format!(
            "up to {} lost updates would go undetected: a stopped worker publishes its count once per {} operations, so the {range} applied operations are known only to within that",
            hi - lo,
            outcome.stride
        )
    });
    let base = Judgement {
        verdict: Verdict::Correct,
        reason: None,
        lost_updates: None,
        lost_updates_reason: None,
        duplicated_updates: None,
        duplicated_updates_reason: None,
        ambiguous: None,
        applied: Some((lo, hi)),
        partial_check: None,
        partial_expected: Some(accepted.clone()),
        established: None,
        limits: undetected.clone(),
        overlap_seconds: overlap,
    };
    let explained = |k: Option<u64>| match k {
        Some(k) if lo == hi => format!("the value of {k} applied operations"),
        Some(k) => format!("the value of {k} applied operations (of {range} possible)"),
        None => format!("the value of some number of applied operations in {range}"),
    };
    match in_range {
        Found::Exactly(_) | Found::Several => {
            let k = if let Found::Exactly(k) = in_range { Some(k) } else { None };
            let check = explained(k);
            let exact = lo == hi && plan.check.blind.is_none();
            let (verdict, reason) = match (exact, synchronised) {
                (true, _) => (Verdict::Correct, None),
                // One worker loses nothing: only the count is uncertain.
                (false, false) if plan.workers == 1 => {
                    (Verdict::NoRace, Some(format!("one worker: no race could occur; the final value is {check}")))
                }
                (false, true) => {
                    (Verdict::WithinBound, Some(format!("not every operation ran: the final value is {check}")))
                }
                (false, false) => (
                    Verdict::Inconclusive,
                    Some(format!("not every operation ran: the final value is {check}, which can hide lost updates")),
                ),
            };
            let lost_reason = (!exact)
                .then(|| undetected.clone().unwrap_or_else(|| "the check cannot detect a lost update".to_string()));
            Judgement {
                verdict,
                reason,
                lost_updates: (exact || verdict == Verdict::NoRace).then_some(0),
                lost_updates_reason: lost_reason.filter(|_| verdict != Verdict::NoRace),
                partial_check: Some(check),
                // Without a loss (synchronised, or one worker) the value counts the operations.
                established: if synchronised || verdict == Verdict::NoRace { k } else { None },
                limits: if verdict == Verdict::NoRace { None } else { base.limits.clone() },
                ..base
            }
        }
        Found::Unknown(why) => Judgement {
            verdict: Verdict::Inconclusive,
            reason: Some(format!("not every operation ran, and the value could not be checked against them: {why}")),
            lost_updates_reason: Some(why.clone()),
            partial_check: Some(format!("not checked: {why}")),
            ..base
        },
        Found::Unreachable if synchronised => Judgement {
            verdict: Verdict::Wrong,
            lost_updates_reason: Some(format!("no count of applied operations in {range} gives this value")),
            partial_check: Some(format!("no count of applied operations in {range} gives this value")),
            ..base
        },
        Found::Unreachable => lost(plan, target, lo, hi, base),
    }
}

/// `none`: a value no count of applied operations gives; how many updates were lost, against the
/// operations applied (not the planned ones).
fn lost(plan: &Plan, target: Value, lo: u64, hi: u64, base: Judgement) -> Judgement {
    let range = range_text(lo, hi);
    if plan.operands.is_some() {
        let why = "with per-worker operands, which updates were lost cannot be told from the value".to_string();
        return Judgement {
            verdict: Verdict::LostUpdates,
            lost_updates_reason: Some(why),
            partial_check: Some(format!("not the value of the {range} applied operations: updates were lost")),
            ..base
        };
    }
    let kmin = plan.reachable_depths().0.min(lo);
    let found = if lo == 0 { Depth::Unreachable } else { depth(&plan.operation, plan.initial, target, kmin, lo - 1) };
    let (verdict, lost, why) = match found {
        Depth::Exactly(k) if lo == hi => (Verdict::LostUpdates, Some(lo - k), None),
        Depth::Exactly(k) => (
            Verdict::LostUpdates,
            None,
            Some(format!("{} to {} of the {range} applied updates were lost ({k} survived)", lo - k, hi - k)),
        ),
        Depth::Several => {
            (Verdict::LostUpdates, None, Some("several numbers of surviving updates give this value".to_string()))
        }
        Depth::Unreachable => (
            Verdict::Wrong,
            None,
            Some(format!("no number of surviving updates between {kmin} and {hi} gives this value")),
        ),
        Depth::Unknown => (
            Verdict::Inconclusive,
            None,
            Some("the search for the number of surviving updates was too long".to_string()),
        ),
    };
    Judgement {
        verdict,
        reason: (verdict == Verdict::Inconclusive).then(|| why.clone().unwrap_or_default()),
        lost_updates: lost,
        lost_updates_reason: why,
        partial_check: Some(format!("not the value of the {range} applied operations: updates were lost")),
        ..base
    }
}

/// Whether applying worker operations in any order gives the same value, bit for bit: integer
/// operations but `set` (they wrap), and `min`/`max` on `d`.
fn commutes(kind: OpKind, ty: ValueType) -> bool {
    match ty {
        ValueType::D => matches!(kind, OpKind::Min | OpKind::Max),
        _ => kind != OpKind::Set,
    }
}

/// Per-worker operands: whether some count within each worker's range explains `target`. The
/// stopped workers' counts but the last are enumerated (within a budget); the last one's is
/// solved by `depth`.
pub(super) fn per_worker(plan: &Plan, operands: &[Value], ranges: &[(u64, u64)], target: Value) -> Found {
    let kind = plan.operation.kind;
    if !commutes(kind, plan.value_type()) {
        return Found::Unknown(format!(
            "{} on type {} with per-worker operands depends on the order the workers' operations ran in",
            kind.name(),
            plan.value_type().name()
        ));
    }
    let op = |k: usize| Operation { kind, operand: operands.get(k).copied().unwrap_or(plan.operation.operand) };
    let mut steps = Steps::new();
    let mut apply = |x: Value, k: usize, n: u64| iterate(&op(k), x, n, &mut steps).unwrap_or(x);
    // Everything every worker surely applied first: the operations commute.
    let mut base = plan.initial;
    for (k, (lo, _)) in ranges.iter().enumerate() {
        base = apply(base, k, *lo);
    }
    let lo_total: u64 = ranges.iter().map(|r| r.0).sum();
    let free: Vec<(usize, u64)> =
        ranges.iter().enumerate().filter(|(_, (lo, hi))| hi > lo).map(|(k, (lo, hi))| (k, hi - lo)).collect();
    let Some((&(last, last_width), rest)) = free.split_last() else {
        return if base == target { Found::Exactly(lo_total) } else { Found::Unreachable };
    };
    let solved = matches!(kind, OpKind::Add | OpKind::Sub | OpKind::Xor) || kind.idempotent();
    let combos: u128 = rest.iter().map(|(_, w)| *w as u128 + 1).product();
    let cost = if solved { combos } else { combos * (last_width as u128 + 1) };
    if cost > COMBINATION_BUDGET {
        return Found::Unknown(format!(
            "{cost} combinations of the stopped workers' counts are more than the search tries ({COMBINATION_BUDGET})"
        ));
    }
    let mut extra = vec![0u64; rest.len()];
    let mut found: Option<Found> = None;
    loop {
        let mut x = base;
        for (i, (k, _)) in rest.iter().enumerate() {
            x = apply(x, *k, extra[i]);
        }
        let total = lo_total + extra.iter().sum::<u64>();
        let here = match depth(&op(last), x, target, 0, last_width) {
            Depth::Exactly(e) => Found::Exactly(total + e),
            Depth::Several => Found::Several,
            Depth::Unreachable => Found::Unreachable,
            Depth::Unknown => return Found::from(Depth::Unknown),
        };
        found = match (found, here) {
            (f, Found::Unreachable) => f,
            (None, h) => Some(h),
            (Some(Found::Exactly(a)), Found::Exactly(b)) if a == b => Some(Found::Exactly(a)),
            (Some(_), _) => Some(Found::Several),
        };
        // The next combination, as a mixed-radix counter.
        let mut i = 0;
        loop {
            if i == rest.len() {
                return found.unwrap_or(Found::Unreachable);
            }
            if extra[i] < rest[i].1 {
                extra[i] += 1;
                break;
            }
            extra[i] = 0;
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(yaml: &str) -> Plan {
        crate::plan_text("t.yaml", yaml).unwrap().remove(0)
    }

    fn search(yaml: &str, ranges: &[(u64, u64)], target: Value) -> Found {
        let plan = plan(yaml);
        per_worker(&plan, plan.operands.as_deref().unwrap(), ranges, target)
    }

    const ADD: &str =
        "workers: 3\niterations: 100000\nvalue: {type: i}\noperation: add\noperand: [1, 2, 3]\nbackend: mutex\n";

    #[test]
    fn per_worker_counts_explain_a_value_or_prove_it_impossible() {
        let ranges = [(100000, 100000), (5000, 9096), (100000, 100000)];
        assert_eq!(search(ADD, &ranges, Value::I(410000)), Found::Exactly(205000));
        assert_eq!(search(ADD, &ranges, Value::I(410001)), Found::Unreachable);
        // Above what the most any worker can have applied gives.
        assert_eq!(search(ADD, &ranges, Value::I(400000 + 2 * 9097)), Found::Unreachable);
        // Two stopped workers: 1*a + 3*c = 30 has several answers.
        assert_eq!(search(ADD, &[(0, 100), (0, 0), (0, 100)], Value::I(30)), Found::Several);
        assert_eq!(search(ADD, &[(0, 100), (0, 0), (10, 100)], Value::I(30)), Found::Exactly(10));
    }

    #[test]
    fn per_worker_search_is_bounded_and_refuses_order_dependent_operations() {
        let wide = [(0, 1 << 12), (0, 1 << 12), (0, 1 << 12)];
        assert!(matches!(search(ADD, &wide, Value::I(7)), Found::Unknown(_)));
        let d = "workers: 2\niterations: 10\nvalue: {type: d}\noperation: add\noperand: [0.1, 0.2]\nbackend: mutex\n";
        assert!(matches!(search(d, &[(0, 5), (0, 5)], Value::D(0.3)), Found::Unknown(_)));
        let mul = "workers: 2\niterations: 10\nvalue: {type: i, initial: 1}\noperation: mul\noperand: [2, 3]\nbackend: mutex\n";
        assert_eq!(search(mul, &[(0, 5), (0, 5)], Value::I(2 * 2 * 3)), Found::Exactly(3));
        assert_eq!(search(mul, &[(0, 5), (0, 5)], Value::I(5)), Found::Unreachable);
    }
}
