//! Over Redis, where the workers ran, as the run report writes it (`hosts`, `window_clock`):
//! each host's workers, its measured round trip to the server and clock offset, and what became
//! of its operations; and which clock the run's window (its ops/s, its trace) is on.

use schemars::JsonSchema;
use serde::Serialize;

use crate::outcome::{HostOutcome, Outcome};

/// One host of a run over Redis (a run without `hosts:` has one, `this machine`).
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct RunHost {
    pub name: String,
    /// How it was started: `this machine`, its command prefix (`ssh HOST`), `another launcher`.
    pub on: String,
    /// Its workers' indices.
    pub workers: Vec<u32>,
    /// Its round trip to the server, from `TIME` commands on one connection: measured by the
    /// host before its workers' barrier (one machine: by runner once the workers had ended);
    /// null when it could not be measured.
    pub round_trip: Option<RoundTrip>,
    /// Several hosts: the server's clock less this host's, which puts its workers' times on the
    /// server's clock; null on one machine (one clock) or when it could not be measured.
    pub clock: Option<Clock>,
    /// Its workers' operations (attempted).
    pub ops: u64,
    /// Commands its workers sent again after a timeout.
    pub resent: u64,
    /// Its workers' resent operations the server refused as duplicates; null when the server
    /// counted some in all only (the channel's owner), so that they cannot be put on a host.
    pub refused_duplicates: Option<u64>,
    /// mutex: its workers' writes refused as stale (their lease had run out while they lived).
    pub stale_writes: Option<u64>,
    /// Its workers' operations whose every send timed out.
    pub ambiguous_operations: u64,
}

/// Round trips in seconds.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct RoundTrip {
    pub median_seconds: f64,
    pub min_seconds: f64,
    pub max_seconds: f64,
    pub samples: u32,
}

/// A host's clock against the server's.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Clock {
    /// The server's `TIME` less the host's clock at the midpoint of the shortest round trip.
    pub offset_seconds: f64,
    /// The offset is within this of the truth: half the shortest round trip, the microsecond
    /// `TIME` gives, and the drift.
    pub uncertainty_seconds: f64,
    /// How far the offset moved from before the run to after it; null when it was measured
    /// once only.
    pub drift_seconds: Option<f64>,
}

/// Which clock the run's window (the workers' starts and ends, `elapsed_seconds`, ops/s, the
/// trace) is on.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct WindowClock {
    /// `server`: every host's times moved onto the Redis server's clock by its offset;
    /// `unaligned`: the hosts' own clocks, a host's offset not measured (the window is off by
    /// their difference, unknown).
    pub clock: String,
    /// `server`: the window's length is within this of the truth (the uncertainties of the
    /// hosts of its first start and its last end); null when `unaligned`.
    pub uncertainty_seconds: Option<f64>,
}

/// The hosts of a run; empty on the local engine.
pub(crate) fn hosts(outcome: &Outcome) -> Vec<RunHost> {
    let refused = outcome.refused.clone().unwrap_or_default();
    let (dups_known, stale_known) = refused.attributed();
    outcome.hosts.iter().map(|h| host(h, outcome, &refused, dups_known, stale_known)).collect()
}

fn host(
    h: &HostOutcome,
    outcome: &Outcome,
    refused: &crate::sync::Refused,
    dups_known: bool,
    stale_known: bool,
) -> RunHost {
    let mine: Vec<&crate::outcome::WorkerOutcome> =
        outcome.workers.iter().filter(|w| h.workers.contains(&w.index)).collect();
    let of = |f: fn(crate::sync::WorkerRefused) -> u64| h.workers.iter().map(|&i| f(refused.of_worker(i))).sum();
    let s = |ns: u64| ns as f64 / 1e9;
    RunHost {
        name: h.name.clone(),
        on: h.on.clone(),
        workers: h.workers.clone(),
        round_trip: h.round_trip.map(|r| RoundTrip {
            median_seconds: s(r.median_ns),
            min_seconds: s(r.min_ns),
            max_seconds: s(r.max_ns),
            samples: r.samples,
        }),
        clock: h.clock.map(|c| Clock {
            offset_seconds: c.offset_ns as f64 / 1e9,
            uncertainty_seconds: s(c.uncertainty_ns),
            drift_seconds: c.drift_ns.map(|d| d as f64 / 1e9),
        }),
        ops: mine.iter().map(|w| w.ops).sum(),
        resent: mine.iter().map(|w| w.resent).sum(),
        refused_duplicates: dups_known.then(|| of(|w| w.duplicates)),
        stale_writes: stale_known.then(|| of(|w| w.stale)),
        ambiguous_operations: mine.iter().map(|w| w.ambiguous).sum(),
    }
}

/// The window's clock: null on one machine (runner's own clock).
pub(crate) fn window_clock(outcome: &Outcome) -> Option<WindowClock> {
    match outcome.window_clock {
        crate::outcome::WindowClock::Local => None,
        crate::outcome::WindowClock::Server { uncertainty_ns } => {
            Some(WindowClock { clock: "server".into(), uncertainty_seconds: Some(uncertainty_ns as f64 / 1e9) })
        }
        crate::outcome::WindowClock::Unaligned => {
            Some(WindowClock { clock: "unaligned".into(), uncertainty_seconds: None })
        }
    }
}
