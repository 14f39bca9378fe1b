//! The Chrome trace-event file (`{"traceEvents": [...], "metadata": {...}}`), which Perfetto and
//! chrome://tracing open: one track per worker, named "worker K" with its real pid, and the
//! parent's track with its phases. Timestamps are microseconds on CLOCK_MONOTONIC from runner's
//! start.

use std::io::Write;

use serde::Serialize;
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

/// One trace event, in the trace-event format's field names.
#[derive(Serialize)]
struct TraceEvent<'a> {
    ph: &'static str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cat: Option<&'static str>,
    pid: i32,
    tid: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    ts: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dur: Option<f64>,
    /// Scope of an instant event: the thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    args: Option<Json>,
}

impl<'a> TraceEvent<'a> {
    fn new(ph: &'static str, name: &'a str, pid: i32) -> TraceEvent<'a> {
        TraceEvent { ph, name, cat: None, pid, tid: pid, ts: None, dur: None, s: None, args: None }
    }
}

/// Writes events one at a time, each as soon as it is made: the trace is never held whole in
/// memory (131,072 per-operation events would take 17 MB, and an allocation that fails aborts
/// the process), so what it costs is a buffer, whatever the number of events.
struct Events<W: Write> {
    out: W,
    first: bool,
}

impl<W: Write> Events<W> {
    fn push(&mut self, event: &TraceEvent<'_>) -> std::io::Result<()> {
        if !self.first {
            self.out.write_all(b",\n")?;
        }
        self.first = false;
        serde_json::to_writer(&mut self.out, event)?;
        Ok(())
    }
}

fn name_track(out: &mut Events<impl Write>, pid: i32, name: &str, order: i64) -> std::io::Result<()> {
    out.push(&TraceEvent { args: Some(json!({ "name": name })), ..TraceEvent::new("M", "process_name", pid) })?;
    out.push(&TraceEvent { args: Some(json!({ "name": name })), ..TraceEvent::new("M", "thread_name", pid) })?;
    out.push(&TraceEvent {
        args: Some(json!({ "sort_index": order })),
        ..TraceEvent::new("M", "process_sort_index", pid)
    })
}

/// Writes the trace as one JSON object, event by event.
pub fn write(input: &TraceInput<'_>, out: impl Write) -> std::io::Result<()> {
    let o = input.origin;
    let mut out = std::io::BufWriter::new(out);
    out.write_all(b"{\"traceEvents\":[\n")?;
    let mut events = Events { out: &mut out, first: true };
    let parent = input.parent_pid;
    name_track(&mut events, parent, "runner", -1)?;
    for phase in input.phases {
        events.push(&TraceEvent {
            cat: Some("phase"),
            ts: Some(micros(o, phase.start)),
            dur: Some(phase.end.saturating_sub(phase.start) as f64 / 1e3),
            ..TraceEvent::new("X", phase.name, parent)
        })?;
    }
    for &(ts, worker) in input.applied {
        events.push(&TraceEvent {
            cat: Some("op"),
            ts: Some(micros(o, ts)),
            s: Some("t"),
            args: Some(json!({ "worker": worker })),
            ..TraceEvent::new("i", "applied", parent)
        })?;
    }
    for (index, (pid, worker_events)) in input.workers.iter().enumerate() {
        name_track(&mut events, *pid, &format!("worker {index}"), index as i64)?;
        for e in worker_events {
            let lifecycle = matches!(e.kind, Kind::Attach | Kind::Barrier | Kind::Run | Kind::End);
            let instant = e.dur == 0 && matches!(e.kind, Kind::Attach | Kind::End);
            events.push(&TraceEvent {
                cat: Some(if lifecycle { "worker" } else { "op" }),
                ts: Some(micros(o, e.ts)),
                dur: (!instant).then(|| e.dur as f64 / 1e3),
                s: instant.then_some("t"),
                args: match e.kind {
                    Kind::Rmw => Some(json!({ "retries": e.arg })),
                    Kind::Send => Some(json!({ "operations": e.arg })),
                    _ => None,
                },
                ..TraceEvent::new(if instant { "i" } else { "X" }, e.kind.name(), *pid)
            })?;
        }
    }
    out.write_all(b"\n],\"displayTimeUnit\":\"ns\",\"metadata\":")?;
    serde_json::to_writer(&mut out, &input.metadata)?;
    out.write_all(b"}\n")?;
    out.flush()
}
