//! The Chrome trace-event file (`{"traceEvents": [...], "metadata": {...}}`), which Perfetto and
//! chrome://tracing open: one track per worker, named "worker K" with its real pid, and the
//! parent's track with its phases. Timestamps are microseconds on CLOCK_MONOTONIC from runner's
//! start.

use serde_json::{Value as Json, json};

use super::layer::Phase;
use super::ring::{Event, Kind};

/// Everything a trace shows.
pub struct TraceInput<'a> {
    /// CLOCK_MONOTONIC nanoseconds at runner's start.
    pub origin: u64,
    pub parent_pid: i32,
    pub phases: &'a [Phase],
    /// Per worker: its pid and the events it published.
    pub workers: &'a [(i32, Vec<Event>)],
    /// Channel: when the owner applied a (sampled) message, and from which worker.
    pub applied: &'a [(u64, u32)],
    pub metadata: Json,
}

fn micros(origin: u64, ns: u64) -> f64 {
    ns.saturating_sub(origin) as f64 / 1e3
}

fn name_track(events: &mut Vec<Json>, pid: i32, name: &str, order: i64) {
    events.push(json!({"ph": "M", "name": "process_name", "pid": pid, "tid": pid, "args": {"name": name}}));
    events.push(json!({"ph": "M", "name": "thread_name", "pid": pid, "tid": pid, "args": {"name": name}}));
    events
        .push(json!({"ph": "M", "name": "process_sort_index", "pid": pid, "tid": pid, "args": {"sort_index": order}}));
}

pub fn build(input: &TraceInput<'_>) -> Json {
    let o = input.origin;
    let mut events = Vec::new();
    name_track(&mut events, input.parent_pid, "runner", -1);
    for phase in input.phases {
        events.push(json!({
            "ph": "X", "cat": "phase", "name": phase.name, "pid": input.parent_pid, "tid": input.parent_pid,
            "ts": micros(o, phase.start), "dur": phase.end.saturating_sub(phase.start) as f64 / 1e3,
        }));
    }
    for &(ts, worker) in input.applied {
        events.push(json!({
            "ph": "i", "s": "t", "cat": "op", "name": "applied", "pid": input.parent_pid, "tid": input.parent_pid,
            "ts": micros(o, ts), "args": {"worker": worker},
        }));
    }
    for (index, (pid, worker_events)) in input.workers.iter().enumerate() {
        name_track(&mut events, *pid, &format!("worker {index}"), index as i64);
        for e in worker_events {
            let cat = match e.kind {
                Kind::Attach | Kind::Barrier | Kind::Run | Kind::End => "worker",
                _ => "op",
            };
            let mut event = json!({"cat": cat, "name": e.kind.name(), "pid": pid, "tid": pid, "ts": micros(o, e.ts)});
            if e.dur == 0 && matches!(e.kind, Kind::Attach | Kind::End) {
                event["ph"] = "i".into();
                event["s"] = "t".into();
            } else {
                event["ph"] = "X".into();
                event["dur"] = (e.dur as f64 / 1e3).into();
            }
            match e.kind {
                Kind::Rmw => event["args"] = json!({"retries": e.arg}),
                Kind::Send => event["args"] = json!({"operations": e.arg}),
                _ => {}
            }
            events.push(event);
        }
    }
    json!({ "traceEvents": events, "displayTimeUnit": "ns", "metadata": input.metadata })
}
