//! The reports people read: a run's report (its sections, each a function, in the order they
//! print; `resources.rs` the last ones: memory, start-up, CPU time, the machine, the workers'
//! table); `plan.rs`: a plan.

mod hosts;
mod plan;
mod resources;

use crate::words::plural;
use std::fmt::Write;

use super::{RunReport, rate, seconds};
use crate::names::BackendKind;
use crate::outcome::{Expectation, Happened, Holder, Outcome, Recovery, Verdict};
use crate::plan::Plan;

pub use plan::plan;

pub(super) fn ns(v: u64) -> String {
    seconds(v as f64 / 1e9)
}

/// `5 workers x 1 iteration, type i (C int), add 1 from 0`, then the schedule, busy work and
/// pinning when the job sets them.
pub(super) fn workload(plan: &Plan) -> String {
    let ty = plan.value_type();
    let operand = match &plan.operands {
        Some(list) => {
            format!("[{}] (one per worker)", list.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "))
        }
        None => plan.operation.operand.to_string(),
    };
    let mut s = format!(
        "{} x {}, type {}: {}; {} {} from {}",
        plural(plan.workers as u64, "worker"),
        plural(plan.iterations, "iteration"),
        ty.name(),
        ty.describe(),
        plan.operation.kind.name(),
        operand,
        plan.initial,
    );
    if plan.schedule != crate::names::Schedule::Concurrent {
        let _ = write!(s, "; schedule {}", plan.schedule.name());
    }
    if plan.start == crate::names::Start::Forked {
        s.push_str("; each worker starts as it is forked");
    }
    // Only the busy work the job has: none is not "0.00 ns".
    let work: Vec<String> = [(plan.work.inside_ns, "inside"), (plan.work.outside_ns, "outside")]
        .iter()
        .filter(|(t, _)| *t > 0)
        .map(|(t, place)| format!("{} {place}", ns(*t)))
        .collect();
    if !work.is_empty() {
        let _ = write!(s, "; busy work {}", work.join(", "));
    }
    if plan.pin.is_some() {
        s.push_str("; pinned to CPUs");
    }
    s
}

/// A run's report: its sections, top to bottom.
pub fn run(r: &RunReport<'_>) -> String {
    let mut s = String::new();
    verdict(&mut s, r);
    incidents(&mut s, r);
    speed(&mut s, r);
    measurements(&mut s, r);
    resources::machine(&mut s, r);
    resources::workers(&mut s, r);
    s
}

/// The job, its final and expected values, the verdict and how the order was checked.
fn verdict(s: &mut String, r: &RunReport<'_>) {
    let (plan, outcome, judgement) = (r.plan, r.outcome, r.judgement);
    let failure = run_failure(plan, outcome, judgement.verdict);
    let header = match &failure {
        Some(why) => format!("; RUN FAILED: {why}"),
        None => String::new(),
    };
    let _ = writeln!(s, "{} ({}): {}{header}", plan.name, plan.file, judgement.verdict.name());
    let _ = writeln!(s, "  backend   {}", plan.backend.name());
    if let Some(r) = plan.engine.redis() {
        let _ = writeln!(s, "  engine    redis at {}", r.url);
    }
    let _ = writeln!(s, "  work      {}", workload(plan));
    let _ = writeln!(s, "  final     {}", outcome.final_value);
    match &judgement.partial_expected {
        Some(applied) => {
            let why = if judgement.ambiguous.is_some() && !outcome.partial() {
                "some operations are ambiguous"
            } else {
                "not every operation ran"
            };
            let _ = writeln!(
                s,
                "  expected  {applied} ({why}: this replaces the planned check, {})",
                plan.check.expected_text(plan.expected)
            );
        }
        None => {
            let _ = writeln!(s, "  expected  {}", plan.check.expected_text(plan.expected));
        }
    }
    let verdict = match (judgement.verdict, judgement.lost_updates, &judgement.reason) {
        (Verdict::Correct, ..) => "correct".to_string(),
        (v @ Verdict::LostUpdates, Some(lost), _) => {
            let of = judgement.applied.map_or(plan.total_ops(), |(_, hi)| hi);
            format!("{}: {} of {} updates lost", v.name(), lost, of)
        }
        (v, _, Some(reason)) => format!("{}: {reason}", v.name()),
        (v, _, None) => match &judgement.lost_updates_reason {
            Some(reason) => format!("{}: {reason}", v.name()),
            None => v.name().to_string(),
        },
    };
    let _ =
        writeln!(s, "  verdict   {verdict}{}", failure.map_or(String::new(), |why| format!("; the run failed: {why}")));
    if let Some(blind) = &plan.check.blind {
        let _ = writeln!(s, "  limits    the check cannot detect every lost update: {blind}");
    }
    if let Some(limits) = &judgement.limits {
        let _ = writeln!(s, "  limits    {limits}");
    }
    if plan.workers > 1 {
        let overlap = match judgement.overlap_seconds {
            Some(0.0) => "none: the workers' windows (first operation to last) never overlapped".to_string(),
            Some(o) => format!(
                "{}: how long at least two workers' windows (first operation to last) overlapped; window overlap, not proof that they ran at once",
                seconds(o)
            ),
            None => "unknown: a worker's window is not known".to_string(),
        };
        let _ = writeln!(s, "  overlap   {overlap}");
    }
    if let Some(note) = plan.order_note() {
        let _ = writeln!(s, "  order     {note}");
    }
}

/// Why a run failed its declared outcome (or, declaring none, did not complete); `None` when it
/// did not fail (or a signal interrupted it: the report says so).
fn run_failure(plan: &Plan, outcome: &Outcome, verdict: Verdict) -> Option<String> {
    let e = Expectation::of(plan, outcome, verdict);
    if !e.failed() {
        return None;
    }
    let happened = happened(plan, outcome, e.happened);
    Some(match plan.expect_outcome {
        Some(expected) if e.value_wrong => {
            format!("the job expects {} with a value that checks out, but the final value is wrong", expected.name())
        }
        Some(expected) => format!("the job expects {}, but {happened}", expected.name()),
        None => happened,
    })
}

/// What happened to a run, in words: which workers failed and how.
fn happened(plan: &Plan, outcome: &Outcome, happened: Happened) -> String {
    // A fault's `exit` may use the panic's code too.
    let exits_so = |w: u32| plan.faults.iter().any(|f| f.worker == w && f.action == crate::spec::FaultAction::Exit);
    let failed: Vec<String> = outcome
        .failed_workers()
        .map(|w| match (w.exit.code, &w.exit.signal) {
            (Some(crate::outcome::EXIT_PANIC), None) if !exits_so(w.index) => format!("worker {} panicked", w.index),
            (_, Some(signal)) => format!("worker {} was killed by {signal}", w.index),
            (Some(code), None) => format!("worker {} exited with {code}", w.index),
            (None, None) => format!("worker {} ended in an unknown way", w.index),
        })
        .collect();
    match happened {
        Happened::Completed => "the run completed".to_string(),
        Happened::Recovered => "a worker died holding the lock and the lock was recovered".to_string(),
        Happened::WorkerFailed => format!("{} (no lock was recovered)", failed.join(", ")),
        Happened::Deadline => "the deadline stopped the run".to_string(),
        Happened::Interrupted => "a signal interrupted the run".to_string(),
    }
}

/// Over Redis: what became of the operations, in one line; `None` on the local engine.
fn redis_line(plan: &Plan, outcome: &Outcome, judgement: &crate::outcome::Judgement) -> Option<String> {
    let redis = plan.engine.redis()?;
    let refused = outcome.refused.clone().unwrap_or_default();
    let resent: u64 = outcome.workers.iter().map(|w| w.resent).sum();
    let ambiguous: u64 = outcome.workers.iter().map(|w| w.ambiguous).sum();
    let mut parts = vec![format!("{} resent after a timeout", plural(resent, "command"))];
    if redis.exactly_once || refused.duplicates > 0 {
        parts.push(format!("{} refused by the server", plural(refused.duplicates, "duplicate")));
    }
    if plan.backend.kind() == crate::names::BackendKind::Mutex {
        parts.push(format!("{} refused by fencing", plural(refused.stale, "stale write")));
        if refused.late > 0 {
            parts.push(format!("{} after its lease ran out, unfenced", plural(refused.late, "write")));
        }
    }
    if ambiguous > 0 {
        let applied = match judgement.ambiguous.and_then(|a| a.applied) {
            Some((lo, hi)) if lo == hi => format!(": the final value shows {lo} of them applied"),
            Some((lo, hi)) => format!(": the final value shows {lo} to {hi} of them applied"),
            None => ": how many were applied is not bounded".to_string(),
        };
        parts.push(format!("{} (every send timed out){applied}", plural(ambiguous, "ambiguous operation")));
    }
    if let Some(n) = judgement.duplicated_updates {
        parts.push(format!("{} applied twice", plural(n, "operation")));
    }
    Some(parts.join("; "))
}

/// The declared faults a report lists one by one; the rest are counted.
const FAULTS_SHOWN: usize = 8;

/// What stopped the run early or went wrong in it: a signal or the deadline, faults, a lock
/// recovered, the outcome the job expects, and what a partial run was checked against.
fn incidents(s: &mut String, r: &RunReport<'_>) {
    let (plan, outcome, judgement) = (r.plan, r.outcome, r.judgement);
    let stopped = match (&outcome.interrupted, outcome.deadline) {
        (Some(signal), _) => Some(format!("interrupted by {signal}: the workers were stopped")),
        (None, Some(secs)) => Some(deadline(secs, plan, outcome)),
        _ => None,
    };
    if let Some(why) = stopped {
        let _ = writeln!(s, "  partial   {why}");
    }
    for fault in plan.faults.iter().take(FAULTS_SHOWN) {
        let _ = writeln!(s, "  fault     {}", fault.describe());
    }
    if let Some(more) = plan.faults.len().checked_sub(FAULTS_SHOWN).filter(|&n| n > 0) {
        let _ = writeln!(
            s,
            "  fault     and {} (`runner plan` and --format json list every one)",
            plural(more, "more fault")
        );
    }
    recoveries(s, &outcome.recoveries);
    hosts::takeovers(s, plan, outcome);
    if let Some(line) = redis_line(plan, outcome, judgement) {
        let _ = writeln!(s, "  redis     {line}");
    }
    if let Some(a) = outcome.served.as_ref().and_then(|served| served.apply.as_ref()) {
        let line = if a.measured == 0 {
            format!("latency not measured: {}", crate::report::doc::redis::not_measured(a))
        } else {
            format!(
                "send to apply p50 {}, p99 {} ({} of {} stream {} measured: on runner's clock)",
                ns(a.p50_ns),
                ns(a.p99_ns),
                a.measured,
                a.entries,
                if a.entries == 1 { "entry" } else { "entries" }
            )
        };
        let _ = writeln!(s, "  apply     {line}");
    }
    hosts::hosts(s, outcome);
    let e = Expectation::of(plan, outcome, judgement.verdict);
    match (plan.expect_outcome, e.as_expected) {
        (Some(expected), Some(true)) => {
            let _ = writeln!(s, "  outcome   {}, as the job expects", expected.name());
        }
        (Some(expected), Some(false)) if e.value_wrong => {
            let _ = writeln!(
                s,
                "  outcome   NOT as expected: {}, but the job expects it with a value that checks out, and the final value is wrong",
                expected.name()
            );
        }
        (Some(expected), Some(false)) => {
            let _ = writeln!(
                s,
                "  outcome   NOT as expected: the job expects {}; {}",
                expected.name(),
                happened(plan, outcome, e.happened)
            );
        }
        (Some(expected), None) => {
            let _ = writeln!(s, "  outcome   unknown (interrupted); the job expects {}", expected.name());
        }
        (None, Some(false)) => {
            let _ = writeln!(s, "  outcome   the run did not complete: {}", happened(plan, outcome, e.happened));
        }
        (None, _) => {}
    }
    if let Some(check) = &judgement.partial_check {
        let why = if judgement.ambiguous.is_some() && !outcome.partial() {
            "some operations are ambiguous"
        } else {
            "not every operation ran"
        };
        let _ = writeln!(s, "  checked   {why}: the final value is {check}");
    }
}

/// Recoveries shown one by one at most; the JSON report lists every one.
const RECOVERIES_SHOWN: usize = 8;

/// Every lock taken over from a dead holder: one in a sentence; several as a count, whether the
/// value was restored, and the first [`RECOVERIES_SHOWN`] pairs.
fn recoveries(s: &mut String, list: &[Recovery]) {
    let by = |h: Holder| match h {
        Holder::Worker(by) => format!("worker {by}"),
        Holder::Runner => "runner".to_string(),
    };
    match list {
        [] => {}
        [one] => {
            let who = match one.recovered_by {
                Holder::Runner => "runner (no worker locked after it)".to_string(),
                worker => by(worker),
            };
            let value = if one.restored {
                "restored the value from the update marker"
            } else {
                "found no update marked (the holder's last update may or may not have been written)"
            };
            let dead = one.died_holding_lock;
            let _ =
                writeln!(s, "  recovery  worker {dead} died holding the lock; {who} took the lock over and {value}");
        }
        many => {
            let restored = many.iter().filter(|r| r.restored).count();
            let value = match restored {
                r if r == many.len() => "each time the value was restored from the update marker".to_string(),
                0 => "no update was marked (each holder's last update may or may not have been written)".to_string(),
                r => format!("the value was restored from the update marker {r} times"),
            };
            let _ = writeln!(s, "  recovery  {} workers died holding the lock; {value}:", many.len());
            let pairs: Vec<String> = many
                .iter()
                .take(RECOVERIES_SHOWN)
                .map(|r| format!("worker {} by {}", r.died_holding_lock, by(r.recovered_by)))
                .collect();
            let rest = match many.len().saturating_sub(RECOVERIES_SHOWN) {
                0 => String::new(),
                n => format!(", and {n} more (--format json lists every one)"),
            };
            let _ = writeln!(s, "            taken over: {}{rest}", pairs.join(", "));
        }
    }
}

/// What the deadline did, as runner measured it: how late it stopped the workers, and whether
/// any needed the SIGKILL after the grace.
fn deadline(secs: f64, plan: &Plan, outcome: &Outcome) -> String {
    let grace = seconds(plan.deadline.grace_ns as f64 / 1e9);
    let Some(stop) = outcome.deadline_stop else {
        return format!("the deadline of {} passed", seconds(secs));
    };
    let late = seconds(stop.late_seconds);
    let ended = match (stop.terminated, stop.killed) {
        (0, _) => format!("no worker was still running when runner looked, {late} after it"),
        (1, 0) => format!(
            "runner sent SIGTERM {late} after it to the one worker still running, which ended within the grace of {grace}"
        ),
        (n, 0) => format!(
            "runner sent SIGTERM {late} after it to {n} workers, and every one ended within the grace of {grace}"
        ),
        (n, k) => format!(
            "runner sent SIGTERM {late} after it to {}; {k} still running after the grace of {grace} got SIGKILL",
            plural(n as u64, "worker")
        ),
    };
    format!("the deadline of {} passed: {ended}", seconds(secs))
}

/// The work window, the whole run, and operations per second.
fn speed(s: &mut String, r: &RunReport<'_>) {
    let (plan, outcome) = (r.plan, r.outcome);
    let from = match plan.start {
        crate::names::Start::Together => "the barrier's release",
        crate::names::Start::Forked => "the first worker's start",
    };
    let _ = writeln!(
        s,
        "  time      {} from {from} to the last worker's end; {} in all",
        seconds(outcome.elapsed_seconds),
        seconds(r.wall_seconds)
    );
    // The count the check established is more precise than the published one; without it, a
    // partial run's applied operations are a range.
    let (lo, hi) = match (r.judgement.established, r.judgement.applied) {
        (Some(n), _) => (n, n),
        (None, Some(range)) => range,
        (None, None) => (outcome.applied(), outcome.applied()),
    };
    let (slow, fast) = (rate(outcome.rate_of(lo)), rate(outcome.rate_of(hi)));
    let speed = match (lo == hi, slow == fast) {
        (true, _) => format!("{slow}ops/s ({} applied)", plural(lo, "operation")),
        (false, true) => format!("{slow}ops/s ({lo} to {hi} operations applied)"),
        (false, false) => format!("{slow}ops/s to {fast}ops/s ({lo} to {hi} operations applied)"),
    };
    let _ = writeln!(s, "  speed     {speed}");
}

/// Latency percentiles, the lock's wait, fairness, and what the channel carried.
fn measurements(s: &mut String, r: &RunReport<'_>) {
    let (plan, outcome) = (r.plan, r.outcome);
    let latency = &outcome.latency;
    if let Some(op) = &latency.op {
        let unit = if plan.backend.kind() == BackendKind::Channel { "message send / op" } else { "op" };
        let _ = writeln!(
            s,
            "  latency   {unit}: p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  (1 in {} timed, {})",
            ns(op.p50),
            ns(op.p90),
            ns(op.p99),
            ns(op.p999),
            ns(op.max),
            latency.sample_every,
            plural(op.samples, "sample")
        );
    }
    if let Some(wait) = &latency.lock_wait {
        let _ = writeln!(
            s,
            "  lock wait p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
            ns(wait.p50),
            ns(wait.p90),
            ns(wait.p99),
            ns(wait.p999),
            ns(wait.max)
        );
    }
    if let Some(h) = &latency.histogram {
        resources::histogram(s, "op", &h.op);
        if let Some(wait) = &h.lock_wait {
            resources::histogram(s, "lock wait", wait);
        }
    }
    // Among one worker there is nothing to be fair about.
    // Over the measured workers only (a worker killed before it published a time has no speed);
    // fewer than two measured: nothing to be fair about.
    if let Some(f) = outcome.fairness() {
        let ratio = if f.max_min_ratio.is_finite() {
            format!("{:.2}x", f.max_min_ratio)
        } else {
            "- (a measured worker did no operation)".to_string()
        };
        let covered = if f.measured < f.workers {
            format!(" ({} of {} measured)", f.measured, plural(f.workers as u64, "worker"))
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "  fairness  Jain {:.3}, fastest/slowest {ratio}, finish spread {}{covered}",
            f.jain,
            seconds(f.finish_spread_seconds)
        );
    }
    if let Some(served) = &outcome.served {
        let _ = writeln!(
            s,
            "  channel   {}, {} bytes, batch {}, transport {}{}",
            plural(served.messages, "message"),
            served.bytes,
            plan.backend.batch(),
            plan.backend.transport().unwrap_or_default().name(),
            if plan.idle_workers() { ", workers at idle priority" } else { "" }
        );
    }
}
