//! The reports programs read: one JSON document on standard output. `schema_version` changes
//! when a field changes meaning or goes away; new fields may appear without it.

use serde_json::{Value as Json, json};

use super::{RunReport, Validated};
use crate::error::Diagnostic;
use crate::plan::Plan;

pub const SCHEMA_VERSION: u32 = 1;

pub fn run(r: &RunReport<'_>) -> Json {
    let (plan, outcome, judgement) = (r.plan, r.outcome, r.judgement);
    let workers: Vec<Json> = outcome
        .workers
        .iter()
        .map(|w| {
            json!({
                "index": w.index,
                "pid": w.pid,
                "ops": w.ops,
                "seconds": w.seconds,
                "started_seconds": w.started,
                "ended_seconds": w.ended,
                "ops_per_second": if w.seconds > 0.0 { w.ops as f64 / w.seconds } else { 0.0 },
                "retries": w.retries,
                "recoveries": w.recoveries,
                "exit": { "code": w.exit.code, "signal": w.exit.signal },
            })
        })
        .collect();
    let host = super::host();
    let mut doc = json!({
        "schema_version": SCHEMA_VERSION,
        "runner": { "version": crate::version::VERSION, "commit": crate::version::COMMIT },
        "runner_pid": std::process::id(),
        "file": plan.file,
        "file_sha256": r.provenance.file_sha256,
        "started_at": r.provenance.started_at,
        "host": { "cpu": host.cpu, "cores": host.cores, "kernel": host.kernel },
        "job": plan.effective_job(),
        "final": outcome.final_value.to_json(),
        "expected": plan.expected.to_json(),
        "final_display": outcome.final_value.to_string(),
        "expected_display": plan.expected.to_string(),
        "partial": outcome.partial(),
        "interrupted_by": outcome.interrupted,
        "deadline_seconds": outcome.deadline,
        "applied_range": judgement.applied.map(|(lo, hi)| json!({ "min": lo, "max": hi })),
        "partial_check": judgement.partial_check,
        "recovery": outcome.recovery,
        "expect_outcome": plan.expect_outcome.map(|o| o.name()),
        "verdict": judgement.verdict.name(),
        "correct": judgement.verdict == crate::outcome::Verdict::Correct,
        "lost_updates": judgement.lost_updates,
        "lost_updates_reason": judgement.lost_updates_reason,
        "total_operations": plan.total_ops(),
        "applied_operations": outcome.applied(),
        "ops_per_second": outcome.ops_per_second(),
        "elapsed_seconds": outcome.elapsed_seconds,
        "wall_seconds": r.wall_seconds,
        "workers": workers,
        "latency": {
            "unit": "ns",
            "sample_every": outcome.latency.sample_every,
            "op": outcome.latency.op,
            "lock_wait": outcome.latency.lock_wait,
        },
        "fairness": outcome.fairness(),
        "retries": outcome.workers.iter().map(|w| w.retries).sum::<u64>(),
        "memory": { "unit": "KiB", "runner_peak": outcome.memory_kib.0, "worker_peak": outcome.memory_kib.1 },
        "phases": {
            "startup_seconds": outcome.phases.startup_seconds(),
            "setup_seconds": outcome.phases.setup_seconds,
            "fork_seconds": outcome.phases.fork_seconds,
            "arrive_seconds": outcome.phases.arrive_seconds,
            "work_seconds": outcome.elapsed_seconds,
            "reap_seconds": outcome.phases.reap_seconds,
        },
        "context_switches": {
            "voluntary": outcome.phases.voluntary_switches,
            "involuntary": outcome.phases.involuntary_switches,
        },
        "notices": plan.notices,
        "order": {
            "depends_on_order": plan.order_matters,
            "schedule": plan.schedule.name(),
            "start": plan.start.name(),
            "check": plan.check.describe(),
        },
    });
    if let Some(served) = &outcome.served {
        doc["channel"] = json!({
            "transport": plan.backend.transport().unwrap_or_default().name(),
            "idle_workers": plan.idle_workers(),
            "messages": served.messages,
            "bytes": served.bytes,
            "applied": served.applied,
        });
    }
    doc
}

pub fn plan(plan: &Plan) -> Json {
    json!({
        "schema_version": SCHEMA_VERSION,
        "file": plan.file,
        "job": plan.effective_job(),
        "processes": plan.workers,
        "backend_setup": plan.backend_setup(),
        "operations_per_worker": plan.iterations,
        "messages_per_worker": (plan.backend.kind() == crate::names::BackendKind::Channel).then(|| plan.messages_per_worker()),
        "total_operations": plan.total_ops(),
        "expected": plan.expected.to_json(),
        "expected_display": plan.expected.to_string(),
        "notices": plan.notices,
    })
}

pub fn validated(files: &[Validated]) -> Json {
    json!({
        "schema_version": SCHEMA_VERSION,
        "files": files.iter().map(|f| json!({
            "file": f.file,
            "ok": f.diagnostics.is_empty(),
            "diagnostics": f.diagnostics,
        })).collect::<Vec<_>>(),
    })
}

pub fn invalid(diagnostics: &[Diagnostic]) -> Json {
    json!({ "schema_version": SCHEMA_VERSION, "error": "invalid job", "diagnostics": diagnostics })
}
