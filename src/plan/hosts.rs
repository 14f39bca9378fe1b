//! [`HostPlan`]: the hosts a Redis job's workers run on, each with its share of the workers
//! (split as evenly as possible, in order: the first hosts take one more when the count does not
//! divide), and the planner's rules for `hosts`: only with the Redis engine (every backend,
//! the channel's owner being the coordinator), every host named once and given at least one
//! worker, the workers started together and concurrently.
//!
//! Owns: the split and those rules. Does not own: starting anything on a host (see
//! `exec::remote`).

use super::planner::{Around, Planner};
use crate::names::{Schedule, Start};
use crate::spec::JobSpec;

/// One host of a run over several hosts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPlan {
    pub name: String,
    /// The command prefix that starts a process there (empty: this machine).
    pub command: String,
    /// Its workers: `first..first + count`.
    pub first: u32,
    pub count: u32,
}

impl HostPlan {
    /// The command prefix as words (split on white space; no shell quoting).
    pub fn prefix(&self) -> Vec<String> {
        self.command.split_whitespace().map(str::to_string).collect()
    }

    /// Its workers' indices.
    pub fn indices(&self) -> std::ops::Range<u32> {
        self.first..self.first + self.count
    }
}

/// `workers` split across `names` (each with its command) as evenly as possible, in order.
pub fn split(hosts: &[(String, String)], workers: u32) -> Vec<HostPlan> {
    let n = hosts.len().max(1) as u32;
    let mut first = 0;
    hosts
        .iter()
        .enumerate()
        .map(|(i, (name, command))| {
            let count = workers / n + u32::from((i as u32) < workers % n);
            let host = HostPlan { name: name.clone(), command: command.clone(), first, count };
            first += count;
            host
        })
        .collect()
}

impl Planner<'_> {
    /// The job's hosts (empty: this machine only), or `None` after a problem.
    pub(super) fn hosts(&mut self, spec: &JobSpec, around: &Around<'_>) -> Option<Vec<HostPlan>> {
        let Some(hosts) = &spec.hosts else { return Some(Vec::new()) };
        let at = hosts.pos;
        let mut ok = true;
        if around.engine.is_some_and(|e| e.redis().is_none()) {
            self.error(at, "hosts", "hosts need `engine: redis`: the value must live where every host reaches it");
            ok = false;
        }
        if hosts.value.is_empty() {
            self.error(at, "hosts", "expected at least one host");
            ok = false;
        }
        if around.schedule.is_some_and(|s| s != Schedule::Concurrent) {
            self.error(at, "hosts", "workers on several hosts run with `schedule: concurrent` only");
            ok = false;
        }
        if around.start.is_some_and(|s| s != Start::Together) {
            self.error(at, "hosts", "workers on several hosts start together (at the barrier in Redis) only");
            ok = false;
        }
        let mut named = Vec::new();
        for host in &hosts.value {
            let (Some(name), Some(command)) = (&host.value.name, &host.value.command) else {
                ok = false;
                continue;
            };
            if name.value.is_empty() || named.iter().any(|(n, _): &(String, String)| *n == name.value) {
                self.error(name.pos, "hosts.name", format!("{:?}: each host needs a name of its own", name.value));
                ok = false;
            }
            named.push((name.value.clone(), command.value.clone()));
        }
        let workers = around.workers?;
        if ok && (workers as usize) < named.len() {
            let host = &named[workers as usize].0;
            self.error(
                at,
                "hosts",
                format!("{} hosts for {workers} workers: host {host:?} would have no worker", named.len()),
            );
            ok = false;
        }
        ok.then(|| split(&named, workers as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_evenly_in_order() {
        let hosts = [("a".to_string(), String::new()), ("b".to_string(), "ssh b".to_string())];
        let plans = split(&hosts, 5);
        assert_eq!((plans[0].first, plans[0].count, plans[1].first, plans[1].count), (0, 3, 3, 2));
        assert_eq!(plans[1].prefix(), ["ssh", "b"]);
        assert_eq!(split(&hosts, 8).iter().map(|h| h.count).collect::<Vec<_>>(), [4, 4]);
    }
}
