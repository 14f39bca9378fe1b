//! The parent's phases (load, plan, set up, fork, release, wait, verify, report) as `tracing`
//! spans, recorded by this layer for the trace file. Spans are opened in the parent only, and
//! no span is open across a fork.

use std::sync::Mutex;

use tracing::span::{Attributes, Id};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::clock::now_ns;

/// One closed phase: its name and CLOCK_MONOTONIC start and end in nanoseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phase {
    pub name: &'static str,
    pub start: u64,
    pub end: u64,
}

static PHASES: Mutex<Vec<Phase>> = Mutex::new(Vec::new());

/// Records every span's life as a [`Phase`].
pub struct PhaseLayer;

struct Start(u64);

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for PhaseLayer {
    fn on_new_span(&self, _attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Start(now_ns()));
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(start) = span.extensions().get::<Start>().map(|s| s.0) else { return };
        let phase = Phase { name: span.metadata().name(), start, end: now_ns() };
        if let Ok(mut phases) = PHASES.lock() {
            phases.push(phase);
        }
    }
}

/// The phases closed so far.
pub fn phases() -> Vec<Phase> {
    PHASES.lock().map(|p| p.clone()).unwrap_or_default()
}
