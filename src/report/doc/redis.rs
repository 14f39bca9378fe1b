//! What became of a run's operations over Redis, as the run report writes it (`redis`): the
//! commands resent after a timeout, what the server refused, the ambiguous operations and how
//! many of them the final value shows applied, and the operations applied twice; for the
//! channel, how long its stream's entries took from their send to their application.

use schemars::JsonSchema;
use serde::Serialize;

use super::AppliedRange;

/// Over Redis: what became of the operations. Absent on the local engine.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Redis {
    /// Whether the plan has the workers ask for batch scheduling (`SCHED_BATCH`) before their
    /// first operation, so that a worker that a reply wakes does not take the CPU from the process
    /// running on it (a server on the same machine among them): every run over Redis. A worker
    /// under another policy than the default (runner started under `chrt`) keeps its own and does
    /// not ask; the report does not read back the policy each worker ended with.
    pub batch_workers: bool,
    /// Commands the workers sent again after a timeout (`engine.retries`).
    pub resent: u64,
    /// Resent operations the server refused because their sequence number had been applied
    /// (`exactly_once`), as its scripts counted them.
    pub refused_duplicates: u64,
    /// mutex: writes the server refused because their fencing token was stale (the lease ran
    /// out); each was done again under a new token.
    pub stale_writes: u64,
    /// mutex without fencing: writes made after the writer's lease had run out, which nothing
    /// refused (each may have overwritten another holder's update).
    pub late_writes: u64,
    /// mutex: every worker whose lease ran out while it was alive (it wrote after it), as the
    /// local mutex's `recoveries` list the locks taken over from a dead holder: the lock could
    /// be taken over by another worker while the holder still worked.
    pub lease_takeovers: Vec<LeaseTakeover>,
    /// Operations whose every send timed out: each may or may not have been applied.
    pub ambiguous_operations: u64,
    /// Operations the server acknowledged: the run's operations less the ambiguous ones.
    pub acknowledged_operations: u64,
    /// Of the ambiguous operations, the fewest and most whose application explains the final
    /// value (with the acknowledged ones); null when there were none, or they could not be
    /// bounded (the verdict's reason says why).
    pub ambiguous_applied: Option<AppliedRange>,
    /// Verdict `duplicated_updates`: how many operations were applied twice; null otherwise, or
    /// when the count cannot be told (`duplicated_updates_reason`).
    pub duplicated_updates: Option<u64>,
    pub duplicated_updates_reason: Option<String>,
    /// channel: from each stream entry's send to its application by runner (the owner); null
    /// for the other backends.
    pub apply_latency: Option<ApplyLatency>,
    /// Per worker, by index.
    pub workers: Vec<RedisWorker>,
}

/// The channel over Redis: the time from a stream entry's send (its sender's CLOCK_MONOTONIC,
/// carried in the entry) to its application by runner, for each entry whose sender reads
/// runner's clock (the same boot of the same machine and the same time namespace: a worker on
/// another machine reads another clock, and its entries are not measured). It includes the
/// entry's wait in the stream behind earlier ones: under load it is a queueing time.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct ApplyLatency {
    /// Entries runner applied.
    pub entries: u64,
    /// Of them, those measured: whose sender shares runner's clock.
    pub measured_entries: u64,
    /// The median, in nanoseconds, to 2 significant digits (the top of the histogram's bucket);
    /// null when no entry was measured.
    pub p50_ns: Option<u64>,
    /// The 99th percentile, in nanoseconds, as `p50_ns`.
    pub p99_ns: Option<u64>,
    /// Why the latency was not measured; null when it was.
    pub not_measured: Option<String>,
}

impl ApplyLatency {
    pub(crate) fn of(a: &crate::sync::ApplyLatency) -> ApplyLatency {
        let measured = a.measured > 0;
        ApplyLatency {
            entries: a.entries,
            measured_entries: a.measured,
            p50_ns: measured.then_some(a.p50_ns),
            p99_ns: measured.then_some(a.p99_ns),
            not_measured: (!measured).then(|| not_measured(a).to_string()),
        }
    }
}

/// Why no entry's latency was measured.
pub(crate) fn not_measured(a: &crate::sync::ApplyLatency) -> &'static str {
    if a.entries == 0 {
        "no entry was applied"
    } else {
        "no entry came from a process on runner's clock (another machine's, or one runner could not identify)"
    }
}

/// A lock whose lease ran out while its holder lived.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct LeaseTakeover {
    /// The holder whose lease ran out; it was alive (it tried to write afterwards).
    pub lease_ran_out: u32,
    pub holder_alive: bool,
    /// With fencing: its writes the server refused as stale (each done again under a new
    /// token; nothing lost).
    pub stale_writes_refused: u64,
    /// Without fencing: its writes that went through after its lease ran out (updates may be
    /// lost).
    pub late_writes: u64,
}

/// One worker's counts over Redis.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct RedisWorker {
    pub index: u32,
    /// Commands it sent again after a timeout.
    pub resent: u64,
    /// Its operations whose every send timed out.
    pub ambiguous: u64,
}

impl Redis {
    /// The section of a run over Redis; `None` on the local engine.
    pub(crate) fn of(
        plan: &crate::plan::Plan,
        outcome: &crate::outcome::Outcome,
        judgement: &crate::outcome::Judgement,
    ) -> Option<Redis> {
        plan.engine.redis()?;
        let refused = outcome.refused.clone().unwrap_or_default();
        let ambiguous: u64 = outcome.workers.iter().map(|w| w.ambiguous).sum();
        Some(Redis {
            batch_workers: plan.worker_policy() == crate::plan::WorkerPolicy::Batch,
            resent: outcome.workers.iter().map(|w| w.resent).sum(),
            refused_duplicates: refused.duplicates,
            stale_writes: refused.stale,
            late_writes: refused.late,
            lease_takeovers: refused
                .by_worker
                .iter()
                .filter(|(_, w)| w.stale + w.late > 0)
                .map(|&(i, w)| LeaseTakeover {
                    lease_ran_out: i,
                    holder_alive: true,
                    stale_writes_refused: w.stale,
                    late_writes: w.late,
                })
                .collect(),
            ambiguous_operations: ambiguous,
            acknowledged_operations: outcome.applied().saturating_sub(ambiguous),
            ambiguous_applied: judgement.ambiguous.and_then(|a| a.applied).map(|(min, max)| AppliedRange { min, max }),
            duplicated_updates: judgement.duplicated_updates,
            duplicated_updates_reason: judgement.duplicated_updates_reason.clone(),
            apply_latency: outcome.served.as_ref().and_then(|s| s.apply.as_ref()).map(ApplyLatency::of),
            workers: outcome
                .workers
                .iter()
                .map(|w| RedisWorker { index: w.index, resent: w.resent, ambiguous: w.ambiguous })
                .collect(),
        })
    }
}
