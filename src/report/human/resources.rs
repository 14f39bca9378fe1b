//! The last sections of a run's report: what the run cost (memory, start-up and reaping, CPU
//! time), what ran it on what machine, and the table of workers.

use std::fmt::Write;

use super::super::{RunReport, seconds};
use crate::names::BackendKind;
use crate::outcome::Outcome;
use crate::words::plural;

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// Memory, start-up and reaping, which runner ran the job, and on what machine.
pub(super) fn machine(s: &mut String, r: &RunReport<'_>) {
    let (plan, outcome) = (r.plan, r.outcome);
    let host = crate::report::host();
    let commit =
        if crate::version::COMMIT.is_empty() { String::new() } else { format!(" (commit {})", crate::version::COMMIT) };
    let _ = writeln!(
        s,
        "  memory    peak resident: runner {}, largest worker {}; runner held {} when the run began (the workers share part of it from their fork)",
        mib(outcome.memory_kib.0),
        mib(outcome.memory_kib.1),
        mib(outcome.memory_start_kib)
    );
    let phases = &outcome.phases;
    let barrier = match plan.start {
        crate::names::Start::Together => format!(", barrier {}", seconds(phases.arrive_seconds)),
        crate::names::Start::Forked => String::new(),
    };
    let _ = writeln!(
        s,
        "  start-up  {} (fork {}{barrier}), reap {}",
        seconds(phases.startup_seconds()),
        seconds(phases.fork_seconds),
        seconds(phases.reap_seconds),
    );
    let _ = writeln!(s, "  cpu       {}", cpu_line(outcome));
    let _ = writeln!(
        s,
        "  run of    runner {}{commit}, job sha256 {}, started {}",
        crate::version::VERSION,
        r.provenance.file_sha256,
        r.provenance.started_at
    );
    let _ = writeln!(
        s,
        "  on        {}, {}, {}",
        host.cpu.as_deref().unwrap_or("unknown CPU"),
        host.cores.map_or("? cores".to_string(), |c| plural(c as u64, "core")),
        host.kernel.as_deref().unwrap_or("unknown kernel")
    );
}

/// CPU time in microseconds, as the kernel gives it: `164 µs`, `0`.
fn cpu_time(us: u64) -> String {
    if us == 0 { "0".to_string() } else { seconds(us as f64 / 1e6) }
}

/// The run's CPU time: the workers' (each from its fork to its exit, from `wait4`), how often
/// they were switched out, and runner's own, apart.
fn cpu_line(outcome: &Outcome) -> String {
    let cpu = &outcome.cpu;
    let all = outcome.workers.len() as u32;
    let workers = match cpu.workers {
        None => "workers: none reaped, no usage".to_string(),
        Some(w) => format!(
            "workers (fork to exit) {} user + {} system, switched out {} ({} preempted){}",
            cpu_time(w.user_us),
            cpu_time(w.system_us),
            plural(w.voluntary_switches + w.involuntary_switches, "time"),
            w.involuntary_switches,
            if cpu.workers_reaped < all {
                format!(" (the {} of {all} reaped; the others have no usage)", cpu.workers_reaped)
            } else {
                String::new()
            }
        ),
    };
    let runner = match cpu.runner {
        Some(r) => format!("runner (during the run) {} user + {} system", cpu_time(r.user_us), cpu_time(r.system_us)),
        None => "runner's own unknown".to_string(),
    };
    format!("{workers}; {runner}")
}

/// One row per worker: pid, operations, time, the backend's own count, its CPU time and
/// switches (`-` when it could not be reaped), and how it ended.
pub(super) fn workers(s: &mut String, r: &RunReport<'_>) {
    let (plan, outcome) = (r.plan, r.outcome);
    let redis = plan.engine.redis().is_some();
    let extra = match plan.backend.kind() {
        _ if redis => Some("resent/amb"),
        BackendKind::Atomic => Some("retries"),
        BackendKind::Mutex => Some("recovered"),
        _ => None,
    };
    let _ = writeln!(
        s,
        "\n  {:>6}  {:>8}  {:>12}  {:>10}  {:>9}  {:>9}  {:>9}  {:>9}  exit",
        "worker",
        "pid",
        "ops",
        "time",
        extra.unwrap_or(""),
        "cpu user",
        "system",
        "switched"
    );
    for w in &outcome.workers {
        let extra = match plan.backend.kind() {
            _ if redis => format!("{}/{}", w.resent, w.ambiguous),
            BackendKind::Atomic => w.retries.to_string(),
            BackendKind::Mutex => w.recoveries.to_string(),
            _ => String::new(),
        };
        // A worker that died before its end has no time of its own.
        let time = if w.exit.success() || w.seconds > 0.0 { seconds(w.seconds) } else { "-".to_string() };
        let (user, system, switched) = match w.cpu {
            Some(c) => (
                cpu_time(c.user_us),
                cpu_time(c.system_us),
                format!("{} ({})", c.voluntary_switches + c.involuntary_switches, c.involuntary_switches),
            ),
            None => ("-".to_string(), "-".to_string(), "-".to_string()),
        };
        let _ = writeln!(
            s,
            "  {:>6}  {:>8}  {:>12}  {:>10}  {:>9}  {user:>9}  {system:>9}  {switched:>9}  {}",
            w.index, w.pid, w.ops, time, extra, w.exit
        );
    }
}

/// A histogram in full (`--histogram`), for people: its buckets merged into powers of two of
/// nanoseconds, each with its count, its share and a bar (the JSON report has every bucket).
pub(super) fn histogram(s: &mut String, what: &str, bins: &[crate::watch::stats::Bin]) {
    let total: u64 = bins.iter().map(|b| b.count).sum();
    if total == 0 {
        return;
    }
    // Merged by the power of two of each bucket's low bound: [2^k, 2^(k+1) - 1].
    let mut rows: Vec<(u32, u64)> = Vec::new();
    for b in bins {
        let k = b.ns_low.max(1).ilog2();
        match rows.last_mut() {
            Some((last, n)) if *last == k => *n += b.count,
            _ => rows.push((k, b.count)),
        }
    }
    let most = rows.iter().map(|r| r.1).max().unwrap_or(1);
    let _ = writeln!(s, "  histogram {what}: {} in buckets of powers of two (ns)", plural(total, "sample"));
    for (k, n) in rows {
        let (low, high) = (1u64 << k, (1u64 << k).saturating_mul(2) - 1);
        let bar = "#".repeat(((n * 40).div_ceil(most)) as usize);
        let share = 100.0 * n as f64 / total as f64;
        let _ = writeln!(s, "  {low:>14} - {high:<14} {n:>10}  {share:>5.1}%  {bar}");
    }
}
