//! What the run documents say of CPU time (a run's, each worker's, a sweep cell's medians) and
//! of the latency histograms in full (`--histogram`).
//!
//! The workers' CPU time and context switches are the kernel's for each worker process from its
//! fork to its exit (the `rusage` of the `wait4` that reaped it); runner's own are apart (two
//! readings of `getrusage(RUSAGE_SELF)` around the run). A worker runner could not reap has no
//! usage: null, never 0.

use schemars::JsonSchema;
use serde::Serialize;

use crate::outcome::Outcome;
use crate::sweep::summary::median;
use crate::watch::stats::Bin;

/// CPU time (seconds, microsecond resolution) and context switches of a process, or a sum of
/// several: user plus system is its time on a CPU; the split between the two is the kernel's
/// estimate (sampled at its clock ticks on most kernels).
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Cpu {
    pub user_seconds: f64,
    pub system_seconds: f64,
    /// Times it gave the CPU up to wait (a lock, a full pipe, the start barrier).
    pub voluntary_switches: u64,
    /// Times the scheduler took the CPU from it (preempted).
    pub involuntary_switches: u64,
}

impl From<crate::outcome::Cpu> for Cpu {
    fn from(c: crate::outcome::Cpu) -> Cpu {
        Cpu {
            user_seconds: c.user_seconds(),
            system_seconds: c.system_seconds(),
            voluntary_switches: c.voluntary_switches,
            involuntary_switches: c.involuntary_switches,
        }
    }
}

/// A run's CPU time: the workers' (each from its fork to its exit, from `wait4`) and runner's
/// own (from the run's set-up to the last reap, from `getrusage`), apart.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct RunCpu {
    /// The sum over the reaped workers (each worker's own is in `workers[].cpu`); null when no
    /// worker could be reaped.
    pub workers: Option<Cpu>,
    /// The workers that sum covers: every worker runner reaped (killed or not), of the run's
    /// workers; one it could not reap has no usage.
    pub workers_reaped: u32,
    /// runner's own during the run (for `channel` it is the owner applying every operation);
    /// null when `getrusage` failed.
    pub runner: Option<Cpu>,
}

impl RunCpu {
    pub(crate) fn of(outcome: &Outcome) -> RunCpu {
        RunCpu {
            workers: outcome.cpu.workers.map(Cpu::from),
            workers_reaped: outcome.cpu.workers_reaped,
            runner: outcome.cpu.runner.map(Cpu::from),
        }
    }
}

/// The latency histograms in full (`--histogram`): every non-empty bucket, lowest first,
/// disjoint, its bounds in nanoseconds (both included); the counts sum to `samples` of the
/// percentiles beside.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Histograms {
    pub op: Vec<Bin>,
    /// mutex: the wait for the lock; null for the other backends.
    pub lock_wait: Option<Vec<Bin>>,
}

impl From<&crate::outcome::Histograms> for Histograms {
    fn from(h: &crate::outcome::Histograms) -> Histograms {
        Histograms { op: h.op.clone(), lock_wait: h.lock_wait.clone() }
    }
}

/// Medians of CPU figures over a cell's runs (a median of counts may end in .5).
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct CpuMedians {
    pub user_seconds: f64,
    pub system_seconds: f64,
    pub voluntary_switches: f64,
    pub involuntary_switches: f64,
}

/// A sweep cell's CPU time: per figure, the median over its counted runs of each run's
/// (`runs[].cpu`). The workers' over the runs whose every worker was reaped; runner's over
/// the runs that have it.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct CellCpu {
    /// The runs the workers' medians are over.
    pub runs: usize,
    pub workers: Option<CpuMedians>,
    pub runner: Option<CpuMedians>,
}

impl CpuMedians {
    /// `None` without any.
    fn of(cpus: &[crate::outcome::Cpu]) -> Option<CpuMedians> {
        if cpus.is_empty() {
            return None;
        }
        // Rounded to a tenth of the kernel's microsecond: the median of two is their mean.
        let m = |f: fn(&crate::outcome::Cpu) -> f64| {
            (median(&cpus.iter().map(f).collect::<Vec<f64>>()) * 1e7).round() / 1e7
        };
        Some(CpuMedians {
            user_seconds: m(|c| c.user_seconds()),
            system_seconds: m(|c| c.system_seconds()),
            voluntary_switches: m(|c| c.voluntary_switches as f64),
            involuntary_switches: m(|c| c.involuntary_switches as f64),
        })
    }
}

impl CellCpu {
    /// `None` for a cell without runs.
    pub(crate) fn of<'a>(outcomes: impl Iterator<Item = &'a Outcome>) -> Option<CellCpu> {
        let (mut workers, mut runner, mut any) = (Vec::new(), Vec::new(), false);
        for o in outcomes {
            any = true;
            if let Some(w) = o.cpu.workers.filter(|_| o.cpu.workers_reaped as usize == o.workers.len()) {
                workers.push(w);
            }
            runner.extend(o.cpu.runner);
        }
        any.then(|| CellCpu { runs: workers.len(), workers: CpuMedians::of(&workers), runner: CpuMedians::of(&runner) })
    }
}
