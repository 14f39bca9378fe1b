//! Over Redis, the human report's lines on where the workers ran (one per host: its workers,
//! round trip, clock and counts, aligned), which clock the window is on, and the locks whose
//! lease ran out while their holder lived (worded as the local mutex's takeovers from a dead
//! holder).

use std::fmt::Write;

use super::ns;
use crate::outcome::{Outcome, WindowClock};
use crate::plan::Plan;
use crate::words::plural;

/// One line per host, its columns aligned; then the window's clock on several hosts.
pub(super) fn hosts(s: &mut String, outcome: &Outcome) {
    let doc = crate::report::doc::hosts::hosts(outcome);
    let rows: Vec<[String; 4]> = doc
        .iter()
        .map(|h| {
            let workers = match h.workers[..] {
                [] => "no workers".to_string(),
                [one] => format!("worker {one}"),
                [first, .., last] if last - first + 1 == h.workers.len() as u32 => format!("workers {first}-{last}"),
                _ => format!("workers {}", h.workers.iter().map(u32::to_string).collect::<Vec<_>>().join(",")),
            };
            let trip = h.round_trip.as_ref().map_or("round trip not measured".to_string(), |r| {
                let sec = crate::report::seconds;
                format!("round trip {} ({}-{})", sec(r.median_seconds), sec(r.min_seconds), sec(r.max_seconds))
            });
            let clock = h
                .clock
                .as_ref()
                .map_or(String::new(), |c| format!("clock ±{}", crate::report::seconds(c.uncertainty_seconds)));
            let known = |n: Option<u64>, what: &str| n.map_or(format!("? {what}s"), |n| plural(n, what));
            let counts = format!(
                "{} ops, {} resent, {}, {}, {} ambiguous",
                h.ops,
                h.resent,
                known(h.refused_duplicates, "refused duplicate"),
                known(h.stale_writes, "stale write"),
                h.ambiguous_operations
            );
            let name = if h.name == h.on { h.name.clone() } else { format!("{} ({})", h.name, h.on) };
            [name, workers, trip, format!("{clock}  {counts}")]
        })
        .collect();
    let width = |c: usize| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    for r in &rows {
        let line = format!("{:<w0$}  {:<w1$}  {:<w2$}  {}", r[0], r[1], r[2], r[3].trim_start());
        let _ = writeln!(s, "  host      {}", line.trim_end());
    }
    match outcome.window_clock {
        WindowClock::Local => {}
        WindowClock::Server { uncertainty_ns } => {
            let _ = writeln!(
                s,
                "  clock     the window is on the Redis server's clock (TIME, each host's offset measured): its length within ±{}",
                ns(uncertainty_ns)
            );
        }
        WindowClock::Unaligned => {
            let _ = writeln!(
                s,
                "  clock     a host's offset to the server was not measured: the window mixes the hosts' own clocks"
            );
        }
    }
}

/// mutex over Redis: each worker whose lease ran out while it lived, like a takeover from a
/// dead holder.
pub(super) fn takeovers(s: &mut String, plan: &Plan, outcome: &Outcome) {
    let Some(refused) = &outcome.refused else { return };
    let fencing = plan.engine.redis().is_some_and(|r| r.fencing);
    for (index, w) in refused.by_worker.iter().filter(|(_, w)| w.stale + w.late > 0) {
        let what = if fencing {
            format!("fencing refused its {} (each done again under a new token)", plural(w.stale, "stale write"))
        } else {
            format!("without fencing nothing refused its {}: updates may be lost", plural(w.late, "late write"))
        };
        let _ = writeln!(
            s,
            "  takeover  worker {index} was alive holding the lock when its lease ran out; the lock could be taken over; {what}"
        );
    }
}
