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

/// The phases alone, when no log is asked for: a subscriber that keeps each open span's name,
/// start and references in a short list, in place of `tracing-subscriber`'s registry and this
/// layer (the registry's span slab alone takes 30,000 instructions to set up, a twentieth of the
/// tutorial's parent). It records the same [`Phase`]s: from the span's creation to its close
/// (its last reference dropped). Events are not enabled: without a log, nothing shows them.
#[derive(Default)]
pub struct PhaseSubscriber {
    open: Mutex<Vec<Option<OpenSpan>>>,
}

struct OpenSpan {
    name: &'static str,
    start: u64,
    references: usize,
}

impl PhaseSubscriber {
    /// The open span `id` names, if any (ids are slots counted from 1).
    fn with_open<T>(&self, id: &Id, f: impl FnOnce(&mut Option<OpenSpan>) -> T) -> Option<T> {
        let mut open = self.open.lock().ok()?;
        let slot = open.get_mut(usize::try_from(id.into_u64()).ok()?.checked_sub(1)?)?;
        slot.is_some().then(|| f(slot))
    }
}

impl tracing::Subscriber for PhaseSubscriber {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.is_span()
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let span = OpenSpan { name: attrs.metadata().name(), start: now_ns(), references: 1 };
        let Ok(mut open) = self.open.lock() else { return Id::from_u64(u64::MAX) };
        let slot = match open.iter().position(Option::is_none) {
            Some(free) => free,
            None => {
                open.push(None);
                open.len() - 1
            }
        };
        open[slot] = Some(span);
        Id::from_u64(slot as u64 + 1)
    }

    fn record(&self, _span: &Id, _values: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, _event: &tracing::Event<'_>) {}

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}

    fn clone_span(&self, id: &Id) -> Id {
        self.with_open(id, |slot| {
            if let Some(span) = slot {
                span.references += 1;
            }
        });
        id.clone()
    }

    fn try_close(&self, id: Id) -> bool {
        let closed = self.with_open(&id, |slot| {
            let span = slot.as_mut()?;
            span.references -= 1;
            (span.references == 0).then(|| slot.take()).flatten()
        });
        let Some(Some(span)) = closed else { return false };
        if let Ok(mut phases) = PHASES.lock() {
            phases.push(Phase { name: span.name, start: span.start, end: now_ns() });
        }
        true
    }
}
