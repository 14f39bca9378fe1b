//! Over Redis, where the workers ran: each host (one, "this machine", for a run without
//! `hosts:`), its workers, its measured round trip to the server and, on several hosts, its
//! clock's offset to the server's, which puts every worker's times on one clock.
//!
//! Owns: what was measured. Does not own: measuring it (see `exec::remote::clock`) or the
//! report's wording.

/// Round trips to the server (ns), from `samples` `TIME` commands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RoundTrip {
    pub min_ns: u64,
    pub median_ns: u64,
    pub max_ns: u64,
    pub samples: u32,
}

/// The server's clock less a host's (ns): the host's times plus this are the server's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClockOffset {
    pub offset_ns: i64,
    /// Half the shortest round trip it was measured in, plus the drift.
    pub uncertainty_ns: u64,
    /// How much the offset moved from before the run to after it; `None` when it was measured
    /// once only.
    pub drift_ns: Option<i64>,
}

/// One host of a run over Redis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostOutcome {
    pub name: String,
    /// How it was started: `this machine`, the command prefix, or `another launcher`.
    pub on: String,
    /// Its workers' indices.
    pub workers: Vec<u32>,
    /// `None` when it could not be measured (the host published none).
    pub round_trip: Option<RoundTrip>,
    /// On several hosts: its clock against the server's; `None` on one machine (one clock).
    pub clock: Option<ClockOffset>,
}

/// Which clock the run's window (its workers' starts and ends) was measured on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WindowClock {
    /// runner's own (one machine): exact to the clock's resolution.
    #[default]
    Local,
    /// The Redis server's (`TIME`): each host's times moved by its measured offset; the window
    /// (and so ops/s) is uncertain by the two hosts' uncertainties it spans.
    Server { uncertainty_ns: u64 },
    /// Several hosts' own clocks, as they are: a host's offset could not be measured, so the
    /// window is off by the hosts' clocks' differences, which nobody measured.
    Unaligned,
}
