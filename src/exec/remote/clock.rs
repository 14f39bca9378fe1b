//! A host's round trip to the Redis server and its clock's offset to the server's, measured
//! from a few `TIME` commands: each is one round trip (from the send to the reply, on the
//! host's monotonic clock), and the server's time falls somewhere inside it. The offset is the
//! server's time less the round trip's midpoint, taken from the shortest round trip; the
//! server's time lies within half that round trip of the midpoint, which is the offset's
//! uncertainty (plus the microsecond `TIME` gives). A host measures before its workers' barrier
//! and again once they have ended: the difference is the drift over the run, which widens the
//! uncertainty.
//!
//! Owns: the measurement and its encoding for a host's key. Does not own: putting the
//! workers' times on the server's clock (see `coordinate.rs`) or reporting them.

use crate::clock::now_ns;
use crate::outcome::{ClockOffset, RoundTrip};

/// Round trips measured each time.
pub(crate) const SAMPLES: usize = 16;

/// One measurement: the round trips, and the server's clock less the host's (ns) with its
/// uncertainty.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Measured {
    pub(crate) round_trip: RoundTrip,
    pub(crate) offset_ns: i64,
    pub(crate) uncertainty_ns: u64,
}

/// Measures over `con`: [`SAMPLES`] `TIME` commands.
pub(crate) fn measure(con: &mut redis::Connection) -> Result<Measured, String> {
    let mut samples = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let sent = now_ns();
        let (secs, micros): (u64, u64) =
            redis::cmd("TIME").query(con).map_err(|e| format!("measuring the round trip: {e}"))?;
        let back = now_ns();
        let server = secs.saturating_mul(1_000_000_000).saturating_add(micros.saturating_mul(1_000));
        samples.push((back.saturating_sub(sent), server as i64 - (sent / 2 + back / 2) as i64));
    }
    Ok(of_samples(&samples))
}

/// The measurement from `(round trip, offset)` samples (at least one).
fn of_samples(samples: &[(u64, i64)]) -> Measured {
    let mut trips: Vec<u64> = samples.iter().map(|s| s.0).collect();
    trips.sort_unstable();
    let best = samples.iter().min_by_key(|s| s.0).copied().unwrap_or_default();
    Measured {
        round_trip: RoundTrip {
            min_ns: trips.first().copied().unwrap_or(0),
            median_ns: trips.get(trips.len() / 2).copied().unwrap_or(0),
            max_ns: trips.last().copied().unwrap_or(0),
            samples: trips.len() as u32,
        },
        offset_ns: best.1,
        uncertainty_ns: best.0 / 2 + 1_000,
    }
}

/// A host's offset from its measurements before and after the run: the one before (the
/// workers' start times are nearer it), its uncertainty widened by the drift between the two.
pub(crate) fn offset(before: &Measured, after: Option<&Measured>) -> ClockOffset {
    let drift_ns = after.map(|a| a.offset_ns - before.offset_ns);
    ClockOffset {
        offset_ns: before.offset_ns,
        uncertainty_ns: before.uncertainty_ns + drift_ns.map_or(0, i64::unsigned_abs),
        drift_ns,
    }
}

impl Measured {
    pub(crate) fn encode(&self) -> String {
        let r = &self.round_trip;
        format!("{} {} {} {} {} {}", r.min_ns, r.median_ns, r.max_ns, r.samples, self.offset_ns, self.uncertainty_ns)
    }

    pub(crate) fn decode(text: &str) -> Option<Measured> {
        let w: Vec<&str> = text.split(' ').collect();
        let [min, median, max, samples, offset, uncertainty] = w[..] else { return None };
        Some(Measured {
            round_trip: RoundTrip {
                min_ns: min.parse().ok()?,
                median_ns: median.parse().ok()?,
                max_ns: max.parse().ok()?,
                samples: samples.parse().ok()?,
            },
            offset_ns: offset.parse().ok()?,
            uncertainty_ns: uncertainty.parse().ok()?,
        })
    }
}

/// A run over Redis without `hosts:`: one host, this machine, with every worker and the round
/// trip runner measured once they had ended (on its own connection; `None` when that failed);
/// nothing on the local engine.
pub(crate) fn this_machine(plan: &crate::plan::Plan) -> Vec<crate::outcome::HostOutcome> {
    let Some(redis) = plan.engine.redis() else { return Vec::new() };
    // A second at most per reply: a server that stopped answering delays the report by no more.
    let measured = super::connect(&redis.url)
        .and_then(|mut con| {
            con.set_read_timeout(Some(std::time::Duration::from_secs(1))).map_err(|e| e.to_string())?;
            measure(&mut con)
        })
        .ok();
    vec![crate::outcome::HostOutcome {
        name: "this machine".to_string(),
        on: "this machine".to_string(),
        workers: (0..plan.workers).collect(),
        round_trip: measured.map(|m| m.round_trip),
        clock: None,
    }]
}

/// The hosts of a run over several, from what each published (`before|after`, `-` for a
/// measurement that failed; `None`: nothing published).
pub(crate) fn hosts(plan: &crate::plan::Plan, published: &[Option<String>]) -> Vec<crate::outcome::HostOutcome> {
    plan.hosts
        .iter()
        .enumerate()
        .map(|(h, host)| {
            let text = published.get(h).cloned().flatten().unwrap_or_default();
            let (before, after) = text.split_once('|').unwrap_or((&text, ""));
            let (before, after) = (Measured::decode(before), Measured::decode(after));
            crate::outcome::HostOutcome {
                name: host.name.clone(),
                on: match host.command.trim() {
                    "" => "this machine".to_string(),
                    super::EXTERNAL => "another launcher".to_string(),
                    command => command.to_string(),
                },
                workers: (host.first..host.first + host.count).collect(),
                round_trip: before.or(after).map(|m| m.round_trip),
                clock: before.map(|b| offset(&b, after.as_ref())),
            }
        })
        .collect()
}

/// Puts every worker's start and end (each on its host's clock; 0: not measured) on the
/// server's clock, by its host's offset; the window's uncertainty is the sum of the two hosts'
/// uncertainties it spans (its first start's and its last end's). The times stay as they are
/// (`Unaligned`) when a host with workers has no offset.
pub(crate) fn to_server(
    hosts: &[crate::outcome::HostOutcome],
    times: &mut [(u64, u64)],
) -> crate::outcome::WindowClock {
    let host_of = |i: usize| hosts.iter().find(|h| h.workers.contains(&(i as u32)));
    if (0..times.len()).any(|i| host_of(i).and_then(|h| h.clock).is_none()) {
        return crate::outcome::WindowClock::Unaligned;
    }
    let moved = |t: u64, by: i64| if t == 0 { 0 } else { (t as i64).saturating_add(by).max(1) as u64 };
    for (i, (start, end)) in times.iter_mut().enumerate() {
        let by = host_of(i).and_then(|h| h.clock).map_or(0, |c| c.offset_ns);
        (*start, *end) = (moved(*start, by), moved(*end, by));
    }
    let unc = |i: Option<usize>| i.and_then(host_of).and_then(|h| h.clock).map_or(0, |c| c.uncertainty_ns);
    let first = (0..times.len()).filter(|&i| times[i].0 > 0).min_by_key(|&i| times[i].0);
    let last = (0..times.len()).max_by_key(|&i| times[i].1);
    crate::outcome::WindowClock::Server { uncertainty_ns: unc(first) + unc(last) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shortest_round_trip_gives_the_offset() {
        let m = of_samples(&[(300_000, 50), (100_000, 7), (200_000, -4)]);
        assert_eq!(m.round_trip, RoundTrip { min_ns: 100_000, median_ns: 200_000, max_ns: 300_000, samples: 3 });
        assert_eq!((m.offset_ns, m.uncertainty_ns), (7, 51_000));
        assert_eq!(Measured::decode(&m.encode()), Some(m));
        let after = Measured { offset_ns: -3, ..m };
        let o = offset(&m, Some(&after));
        assert_eq!((o.offset_ns, o.uncertainty_ns, o.drift_ns), (7, 51_010, Some(-10)));
    }
}
