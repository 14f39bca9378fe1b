//! A plan in words, as `runner plan` prints it: what would run, the check, the runs; no fork.

use std::fmt::Write;

use super::{ns, workload};
use crate::names::{BackendKind, Transport};
use crate::plan::Plan;
use crate::words::plural;

pub fn plan(plan: &Plan) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{} ({})", plan.name, plan.file);
    if let Some(d) = &plan.description {
        let _ = writeln!(s, "  {}", d.trim());
    }
    let _ = match plan.fork_fail_at {
        Some(k) => writeln!(
            s,
            "  processes  runner and {} planned; fork {k} fails, so {}",
            plural(plan.workers as u64, "worker"),
            match k - 1 {
                0 => "no worker is forked".to_string(),
                1 => "1 worker is forked, then stopped and reaped".to_string(),
                n => format!("{n} workers are forked, then stopped and reaped"),
            }
        ),
        None => writeln!(s, "  processes  runner and {} forked", plural(plan.workers as u64, "worker")),
    };
    let _ = writeln!(s, "  backend    {}: {}", plan.backend.name(), plan.backend_setup());
    if let Some(r) = plan.engine.redis() {
        let once = if r.exactly_once {
            "each operation carries its worker's sequence number, checked by the server"
        } else {
            "no sequence numbers: a resent operation may apply twice"
        };
        let fencing = match (plan.backend.kind(), r.fencing) {
            (BackendKind::Mutex, true) => "; the lock hands out a fencing token that every write checks",
            (BackendKind::Mutex, false) => "; no fencing: a holder whose lease ran out still writes",
            _ => "",
        };
        let _ = writeln!(
            s,
            "  engine     redis at {} (from {}): keys under one hash tag, deleted after the run; {once}; command timeout {}, {} {}{fencing}",
            r.url,
            r.url_from,
            crate::plan::duration_word(r.timeout_ns),
            r.retries,
            if r.retries == 1 { "retry" } else { "retries" }
        );
        let _ = writeln!(
            s,
            "  priority   workers ask for SCHED_BATCH (when runner runs under the default policy): a worker that a reply wakes does not preempt a server on its machine"
        );
    }
    if plan.backend.kind() == BackendKind::Channel {
        let messages = plan.messages_per_worker();
        let batches = plan.iterations.div_ceil(plan.backend.batch() as u64);
        let split = if messages > batches { ", a batch split across writes of at most 4096 bytes" } else { "" };
        let transport = plan.backend.transport().unwrap_or_default();
        let default = if transport == Transport::default() { "the default; " } else { "" };
        let _ = writeln!(
            s,
            "  messages   {} per worker over the {} transport ({default}{} per batch{split})",
            messages,
            transport.name(),
            plural(plan.backend.batch() as u64, "operation")
        );
        if plan.idle_workers() {
            let _ = writeln!(
                s,
                "  priority   workers at idle priority (SCHED_IDLE): the owner keeps a core for large messages"
            );
        }
    }
    let _ = writeln!(s, "  work       {}", workload(plan));
    let _ = writeln!(s, "  total      {}", plural(plan.total_ops(), "operation"));
    let _ = writeln!(s, "  expected   {}", plan.check.expected_text(plan.expected));
    if let Some(blind) = &plan.check.blind {
        let _ = writeln!(s, "  limits     the check cannot detect every lost update: {blind}");
    }
    plan_runs(&mut s, plan);
    for notice in &plan.notices {
        let _ = writeln!(s, "  notice     {notice}");
    }
    s
}

/// A plan's runs: the faults, the failing fork, the outcome the job expects, the deadline (the
/// default said as such) and grace, and how many runs.
fn plan_runs(s: &mut String, plan: &Plan) {
    for fault in &plan.faults {
        let _ = writeln!(s, "  fault      {}", fault.describe());
    }
    if let Some(k) = plan.fork_fail_at {
        let _ = writeln!(s, "  fork fail  fork {k} of {} fails (fork_fail_at)", plan.workers);
    }
    if let Some(o) = plan.expect_outcome {
        let _ = writeln!(s, "  outcome    expect_outcome {}: a run that ends so passes", o.name());
    }
    let d = plan.deadline;
    let whose = if d.stated {
        "stated"
    } else if d.capped() {
        "the default: 30 s + 10 µs per operation + twice the busy work, capped at the one-week limit"
    } else {
        "the default: 30 s + 10 µs per operation + twice the busy work"
    };
    let _ =
        writeln!(s, "  timeout    {} ({whose}); grace {} from SIGTERM to SIGKILL", ns(d.timeout_ns), ns(d.grace_ns));
    let warmup = match plan.warmup {
        0 => "no warm-up run".to_string(),
        w => format!("{w} warm-up {} before them", if w == 1 { "run" } else { "runs" }),
    };
    let _ =
        writeln!(s, "  runs       {} counted {}, {warmup}", plan.repeat, if plan.repeat == 1 { "run" } else { "runs" });
}
