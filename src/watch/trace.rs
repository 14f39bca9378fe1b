//! The Chrome trace-event file (`{"traceEvents": [...], "metadata": {...}}`), which Perfetto,
//! chrome://tracing and speedscope open: one track per worker, named "worker K" with its real
//! pid, and the parent's track with its phases. Timestamps are microseconds on CLOCK_MONOTONIC
//! (the run's one clock, `clock.rs`) from runner's start.
//!
//! Owns the layout viewers rely on: on each track, slices (`X`, complete events) nest or are
//! disjoint, with at least a nanosecond between a slice's end and the next one's start and
//! between a child's end and its parent's ([`lay_out`]): a lock wait that ends where the lock
//! held begins, written as two durations, ends a rounding error after it in a viewer's
//! floating-point sums (speedscope then ended neither, 20,997 times, and overflowed its stack).
//! The moments of a run ([`Moment`]: a worker's death, a lock taken over, the deadline, a
//! signal) are instant events on the track they concern (`"s": "t"`), or on runner's with
//! global scope (`"s": "g"`) when they concern the whole run; a channel's timed send and its
//! application by the owner are joined by a flow (`"s"` on the worker's send, `"f"` with
//! `"bp": "e"` on runner's track), only for the sends already timed.

use std::cmp::Reverse;
use std::io::Write;

use serde::Serialize;
use serde_json::{Value as Json, json};

use super::layer::Phase;
use super::ring::{Event, Kind};

/// A moment of a run, shown on the timeline as an instant event.
#[derive(Clone, Debug, PartialEq)]
pub struct Moment {
    /// CLOCK_MONOTONIC nanoseconds.
    pub at: u64,
    pub what: What,
}

/// What happened at a [`Moment`].
#[derive(Clone, Debug, PartialEq)]
pub enum What {
    /// Worker `worker` failed (`how`: "killed by SIGKILL", "exited with code 3"); `at` is when
    /// runner reaped it, microseconds after its death.
    Died { worker: u32, how: String },
    /// The lock worker `from` died holding was taken over by worker `by` (`None`: by runner,
    /// after the run); `restored`: the value was put back from the update marker.
    TakenOver { from: u32, by: Option<u32>, restored: bool },
    /// The run's deadline passed.
    Deadline { seconds: f64 },
    /// At the deadline, runner sent SIGTERM to the workers still running (`killed` of them
    /// needed the SIGKILL after the grace).
    Terminated { workers: u32, killed: u32 },
    /// Runner read a signal that asked it to stop.
    Signal { name: &'static str },
}

/// Everything a trace shows.
pub struct TraceInput<'a> {
    /// CLOCK_MONOTONIC nanoseconds at runner's start.
    pub origin: u64,
    pub parent_pid: i32,
    pub phases: &'a [Phase],
    /// Per worker: its pid and the events it published.
    pub workers: &'a [(i32, Vec<Event>)],
    /// Channel, with `--trace-ops`: the application of each timed send, and from which worker
    /// (per worker in the order of its timed sends).
    pub applied: &'a [(u64, u32)],
    pub moments: &'a [Moment],
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
    /// Scope of an instant event: the thread (`t`), the process (`p`) or the whole trace (`g`).
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<&'static str>,
    /// A flow's id, the same on its start and its finish.
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<u64>,
    /// A flow finish's binding point: the enclosing slice (`e`).
    #[serde(skip_serializing_if = "Option::is_none")]
    bp: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    args: Option<Json>,
}

impl<'a> TraceEvent<'a> {
    fn new(ph: &'static str, name: &'a str, pid: i32) -> TraceEvent<'a> {
        TraceEvent { ph, name, cat: None, pid, tid: pid, ts: None, dur: None, s: None, id: None, bp: None, args: None }
    }
}

/// A slice of one track, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: u64,
    pub end: u64,
}

/// Lays out one track's slices (in place) so that any two are disjoint with at least a
/// nanosecond between them, or nested with the child ending at least a nanosecond before its
/// parent (a zero-length slice may sit at its parent's start): whatever arithmetic a viewer
/// does on microseconds with fractions, its ends never cross. A slice that starts where an
/// earlier one ends starts a nanosecond later; a child is cut to its parent. Returns the order
/// in which to write them: by start, the longer first.
pub fn lay_out(spans: &mut [Span]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&i| (spans[i].start, Reverse(spans[i].end)));
    // The slices open around the current one, outermost first, as laid out.
    let mut open: Vec<Span> = Vec::new();
    for &i in &order {
        let mut s = spans[i];
        s.end = s.end.max(s.start);
        while let Some(top) = open.last().copied() {
            if top.end < s.start {
                open.pop();
            } else if top.end == s.start {
                s.start += 1;
                s.end = s.end.max(s.start);
                open.pop();
            } else {
                s.start = s.start.max(top.start);
                s.end = s.end.min(top.end - 1).max(s.start);
                break;
            }
        }
        spans[i] = s;
        open.push(s);
    }
    order
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

/// The instant event of a moment: its name, its track's pid (`None`: runner's), its scope and
/// what it says.
fn instant(what: &What, workers: &[(i32, Vec<Event>)]) -> (String, Option<i32>, &'static str, Json) {
    let pid = |index: u32| workers.get(index as usize).map(|w| w.0);
    match what {
        What::Died { worker, how } => ("died".into(), pid(*worker), "t", json!({ "worker": worker, "how": how })),
        What::TakenOver { from, by, restored } => {
            let args = json!({ "died_holding_lock": from, "recovered_by": by.map_or(json!("runner"), |b| json!(b)), "restored": restored });
            ("lock taken over".into(), by.and_then(pid), "t", args)
        }
        What::Deadline { seconds } => ("deadline".into(), None, "g", json!({ "seconds": seconds })),
        What::Terminated { workers, killed } => {
            ("SIGTERM to the workers".into(), None, "t", json!({ "workers": workers, "killed_after_grace": killed }))
        }
        What::Signal { name } => (format!("{name} received"), None, "g", json!({ "signal": name })),
    }
}

/// Writes the trace as one JSON object, event by event.
pub fn write(input: &TraceInput<'_>, out: impl Write) -> std::io::Result<()> {
    let o = input.origin;
    let mut out = std::io::BufWriter::new(out);
    out.write_all(b"{\"traceEvents\":[\n")?;
    let mut events = Events { out: &mut out, first: true };
    let parent = input.parent_pid;
    name_track(&mut events, parent, "runner", -1)?;
    let mut spans: Vec<Span> = input.phases.iter().map(|p| Span { start: p.start, end: p.end }).collect();
    for i in lay_out(&mut spans) {
        events.push(&TraceEvent {
            cat: Some("phase"),
            ts: Some(micros(o, spans[i].start)),
            dur: Some((spans[i].end - spans[i].start) as f64 / 1e3),
            ..TraceEvent::new("X", input.phases[i].name, parent)
        })?;
    }
    for &(ts, worker) in input.applied {
        events.push(&TraceEvent {
            cat: Some("owner"),
            ts: Some(micros(o, ts)),
            s: Some("t"),
            args: Some(json!({ "worker": worker })),
            ..TraceEvent::new("i", "applied", parent)
        })?;
    }
    for moment in input.moments {
        let (name, pid, scope, args) = instant(&moment.what, input.workers);
        events.push(&TraceEvent {
            cat: Some("moment"),
            ts: Some(micros(o, moment.at)),
            s: Some(scope),
            args: Some(args),
            ..TraceEvent::new("i", &name, pid.unwrap_or(parent))
        })?;
    }
    let mut flow = 0u64;
    // The owner's applications of each worker's timed sends, in the order it sent them.
    let mut applied_of: Vec<Vec<u64>> = vec![Vec::new(); input.workers.len()];
    for &(at, worker) in input.applied {
        if let Some(list) = applied_of.get_mut(worker as usize) {
            list.push(at);
        }
    }
    for (index, (pid, worker_events)) in input.workers.iter().enumerate() {
        name_track(&mut events, *pid, &format!("worker {index}"), index as i64)?;
        let point = |e: &Event| e.dur == 0 && matches!(e.kind, Kind::Attach | Kind::End);
        for e in worker_events.iter().filter(|e| point(e)) {
            events.push(&TraceEvent {
                cat: Some("worker"),
                ts: Some(micros(o, e.ts)),
                s: Some("t"),
                ..TraceEvent::new("i", e.kind.name(), *pid)
            })?;
        }
        let slices: Vec<&Event> = worker_events.iter().filter(|e| !point(e)).collect();
        let mut spans: Vec<Span> = slices.iter().map(|e| Span { start: e.ts, end: e.ts + e.dur }).collect();
        // The owner's applications of this worker's timed sends, paired in the order it sent.
        let mut applied = std::mem::take(&mut applied_of[index]).into_iter();
        let flows: Vec<Option<u64>> =
            slices.iter().map(|e| (e.kind == Kind::Send).then(|| applied.next()).flatten()).collect();
        for i in lay_out(&mut spans) {
            let (e, span) = (slices[i], spans[i]);
            let lifecycle = matches!(e.kind, Kind::Barrier | Kind::Run);
            let ts = micros(o, span.start);
            events.push(&TraceEvent {
                cat: Some(if lifecycle { "worker" } else { "op" }),
                ts: Some(ts),
                dur: Some((span.end - span.start) as f64 / 1e3),
                args: match e.kind {
                    Kind::Rmw => Some(json!({ "retries": e.arg })),
                    Kind::Send => Some(json!({ "operations": e.arg })),
                    _ => None,
                },
                ..TraceEvent::new("X", e.kind.name(), *pid)
            })?;
            // From the send's start (inside the send's slice) to its application.
            if let Some(at) = flows[i] {
                flow += 1;
                let id = Some(flow);
                events.push(&TraceEvent {
                    cat: Some("flow"),
                    ts: Some(ts),
                    id,
                    ..TraceEvent::new("s", "message", *pid)
                })?;
                events.push(&TraceEvent {
                    cat: Some("flow"),
                    ts: Some(micros(o, at.max(span.start))),
                    id,
                    bp: Some("e"),
                    ..TraceEvent::new("f", "message", parent)
                })?;
            }
        }
    }
    out.write_all(b"\n],\"displayTimeUnit\":\"ns\",\"metadata\":")?;
    serde_json::to_writer(&mut out, &input.metadata)?;
    out.write_all(b"}\n")?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two laid-out slices keep apart by a nanosecond, or one sits inside the other ending a
    /// nanosecond before it (or both are the same point).
    fn apart_or_inside(a: Span, b: Span) -> bool {
        let inside = |c: Span, p: Span| p.start <= c.start && c.end < p.end;
        a.end < b.start || b.end < a.start || inside(a, b) || inside(b, a) || (a == b && a.start == a.end)
    }

    #[test]
    fn touching_and_crossing_slices_are_laid_out_apart_or_nested() {
        // The worker's barrier, run and a lock wait that ends where the lock held begins.
        let mut spans = [
            Span { start: 10, end: 20 },
            Span { start: 20, end: 90 },
            Span { start: 20, end: 30 },
            Span { start: 30, end: 90 },
            Span { start: 50, end: 50 },
        ];
        lay_out(&mut spans);
        assert_eq!(spans[0], Span { start: 10, end: 20 });
        assert_eq!(spans[1], Span { start: 21, end: 90 }, "the run starts after the barrier");
        assert_eq!(spans[2], Span { start: 21, end: 30 }, "inside the run");
        assert_eq!(spans[3], Span { start: 31, end: 89 }, "the lock held after the wait, inside the run");
        // Random slices, many of them touching or crossing.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        };
        for _ in 0..200 {
            let mut spans: Vec<Span> = (0..12)
                .map(|_| {
                    let start = next(40);
                    Span { start, end: start + next(20) }
                })
                .collect();
            let before = spans.clone();
            let order = lay_out(&mut spans);
            assert_eq!(order.len(), spans.len());
            for (i, a) in spans.iter().enumerate() {
                assert!(a.start <= a.end && a.start <= before[i].start + 12, "{before:?} -> {spans:?}");
                for b in &spans[i + 1..] {
                    assert!(apart_or_inside(*a, *b), "{a:?} and {b:?}: {before:?} -> {spans:?}");
                }
            }
        }
    }
}
