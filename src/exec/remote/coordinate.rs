//! runner's side of a run over several hosts: it stores the initial value (the Redis engine's
//! own keeper), writes each host's description of the run, starts `<command> <runner> worker
//! ...` per host, and watches the run through Redis: the barrier's arrivals (the deadline runs
//! from the release), each host's heartbeat (a host whose heartbeat lapses is lost: the run
//! stops) and each host's `done` key. For the channel runner is also the owner: it reads the
//! run's stream, which every host's workers add their batches to, and applies it in order. A deadline, a signal or a lost host sets the stop key,
//! which every host polls; runner then signals its direct children and waits for them, bounded,
//! and kills what is left. Then it reads every worker's result, the final value (deleting the
//! value's keys), deletes the run's other keys, and makes the `Outcome`.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use sha2::{Digest, Sha256};

use super::super::error::ExecError;
use super::super::interrupt::Interrupts;
use super::{Description, EXPIRY_MS, EXTERNAL, POLL, Result, RunKeys, call, connect, set};
use crate::clock::now_ns;
use crate::outcome::{Cpu, Latency, Outcome, Phases, RunCpu, WorkerOutcome};
use crate::plan::{EnginePlan, HostPlan, Plan};
use crate::shm::Shared;
use crate::sync;

/// How long the hosts have to start and arrive at the barrier.
const START_NS: u64 = 60_000_000_000;
/// How long runner waits for its children after a stop before it kills them.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Runs `plan` (which has hosts) over them.
pub(crate) fn coordinate(plan: &Plan, interrupts: &Interrupts) -> std::result::Result<Outcome, ExecError> {
    let failed = |e: String| ExecError::Hosts(e);
    super::super::collect::reset_peak();
    let mut times = Times {
        begun: now_ns(),
        runner_cpu: super::super::collect::runner_usage(),
        held_kib: super::super::status::read().map_or(0, |s| s.rss_kib),
        ..Times::default()
    };
    let (plan, description) = described(plan).map_err(failed)?;
    let redis = plan.engine.redis().expect("hosts need the Redis engine").clone();
    let prefix = redis.key.clone().expect("the run's prefix is set");
    let keys = RunKeys::new(&prefix);
    let all = keys.all(plan.hosts.len(), plan.workers);
    let shared =
        Shared::new(plan.workers as usize, crate::watch::areas(plan.workers, 1, &crate::watch::Watch::default()))
            .map_err(ExecError::Map)?;
    let mut con = connect(&redis.url).map_err(failed)?;
    call::<()>(&mut con, "clearing the run's keys", redis::cmd("DEL").arg(&all)).map_err(failed)?;
    let setup = sync::Setup::of(&plan, None);
    let parts = sync::setup(&setup, &plan.engine, &shared).map_err(ExecError::Backend)?;
    drop(parts.workers);
    // From here on every way out stops the hosts, then deletes the run's keys.
    let mut run = Hosts { children: Vec::new(), con, all, redis_keys_done: false };
    for (h, host) in plan.hosts.iter().enumerate() {
        let d = Description { host: host.name.clone(), first: host.first, count: host.count, ..description.clone() };
        set(&mut run.con, "writing a host's description", &keys.description(h), &d.to_json(), EXPIRY_MS)
            .map_err(failed)?;
    }
    times.launching = now_ns();
    for (h, host) in plan.hosts.iter().enumerate() {
        let child = launch(host, &redis.url, &prefix, h).map_err(failed)?;
        run.children.push(child);
    }
    times.launched = now_ns();
    let mut keeper = parts.keeper;
    let watched = run.watch(&plan, &keys, interrupts, &mut keeper);
    times.done = now_ns();
    let stopped = watched.stop.is_some();
    if stopped {
        let _ = set(&mut run.con, "setting the stop key", &keys.stop(), "1", EXPIRY_MS);
    }
    run.end_children(stopped);
    times.ended = now_ns();
    let mut results: Vec<Result> = (0..plan.workers)
        .map(|i| {
            let text: Option<String> =
                call(&mut run.con, "reading a result", redis::cmd("GET").arg(keys.result(i))).ok().flatten();
            text.and_then(|t| Result::decode(&t)).unwrap_or(Result {
                code: -1,
                signal: "-".into(),
                ..Result::default()
            })
        })
        .collect();
    let errors: Vec<String> = (0..plan.hosts.len())
        .filter_map(|h| {
            call::<Option<String>>(&mut run.con, "reading a host's end", redis::cmd("GET").arg(keys.done(h)))
                .ok()
                .flatten()
        })
        .filter(|d| d != "ok")
        .collect();
    let clocks: Vec<Option<String>> = (0..plan.hosts.len())
        .map(|h| call(&mut run.con, "reading a host's clock", redis::cmd("GET").arg(keys.clock(h))).ok().flatten())
        .collect();
    let hosts = super::clock::hosts(&plan, &clocks);
    let mut window: Vec<(u64, u64)> = results.iter().map(|r| (r.start_ns, r.end_ns)).collect();
    let window_clock = super::clock::to_server(&hosts, &mut window);
    for (r, (start, end)) in results.iter_mut().zip(window) {
        (r.start_ns, r.end_ns) = (start, end);
    }
    let final_value = keeper.finish(&shared).map_err(ExecError::Backend)?;
    run.delete();
    for e in &errors {
        crate::stderrln!("runner: a host: {e}");
    }
    if let Some(why) = &watched.stop.as_ref().and_then(|s| s.lost.clone()) {
        return Err(failed(why.clone()));
    }
    say_hosts(&plan, &results);
    let outcome = outcome(&plan, final_value, &results, &watched, &times, interrupts);
    Ok(Outcome { hosts, window_clock, ..outcome })
}

/// The plan with the run's key prefix, and what every host is told of it; or why the job cannot
/// run on other hosts as it was planned here.
fn described(plan: &Plan) -> std::result::Result<(Plan, Description), String> {
    let source = crate::spec::read_source(&plan.file).map_err(|d| d.to_string())?;
    let sha256 = format!("{:x}", Sha256::digest(source.text.as_bytes()));
    let parsed = crate::spec::parse_with(&source, &[]).map_err(|d| format!("{} problems", d.len()))?;
    let cells = crate::plan::plan_cells(parsed, &source, &crate::plan::Overrides::default())
        .map_err(|d| format!("{} problems", d.len()))?;
    let same = |p: &Plan| {
        (p.workers, p.iterations, p.initial, p.operation, p.backend, &p.hosts)
            == (plan.workers, plan.iterations, plan.initial, plan.operation, plan.backend, &plan.hosts)
    };
    let cell = cells.iter().position(|j| same(&j.plan)).ok_or(
        "this run differs from the job file as written: command-line overrides are not carried to other hosts yet",
    )?;
    let mut plan = plan.clone();
    let EnginePlan::Redis(redis) = &mut plan.engine else { return Err("hosts need `engine: redis`".to_string()) };
    if redis.key.is_none() {
        static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        redis.key = Some(format!("{{runner:{}:hosts:{n}}}", std::process::id()));
    }
    let description = Description {
        version: crate::version::VERSION.to_string(),
        sha256,
        label: plan.file.clone(),
        text: source.text,
        cell,
        host: String::new(),
        first: 0,
        count: 0,
        workers: plan.workers,
        iterations: plan.iterations,
    };
    Ok((plan, description))
}

/// The command that starts host `h`'s `runner worker`: its prefix, this runner's path, and the
/// arguments. Also what one would run by hand, or from a Slurm or Kubernetes job.
pub(crate) fn command_line(host: &HostPlan, url: &str, prefix: &str, h: usize) -> std::io::Result<Vec<String>> {
    let exe = std::env::current_exe()?;
    let mut words = host.prefix();
    words.push(exe.to_string_lossy().into_owned());
    words.extend(["worker", "--url", url, "--prefix", prefix, "--host"].map(str::to_string));
    words.push(h.to_string());
    Ok(words)
}

/// Starts host `h`'s `runner worker`; for a host started by another launcher (`command: "-"`: a
/// Slurm or Kubernetes job), prints the command to run there instead.
fn launch(host: &HostPlan, url: &str, prefix: &str, h: usize) -> std::result::Result<Option<Child>, String> {
    let mut words = command_line(host, url, prefix, h).map_err(|e| format!("cannot name runner's own path: {e}"))?;
    if host.command.trim() == EXTERNAL {
        words.remove(0);
        crate::stderrln!(
            "runner: host {}: start this there within {} s: {}",
            host.name,
            START_NS / 1_000_000_000,
            words.join(" ")
        );
        return Ok(None);
    }
    Command::new(&words[0])
        .args(&words[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .map(Some)
        .map_err(|e| format!("host {}: cannot start `{}`: {e}", host.name, words.join(" ")))
}

/// Why the run stopped.
#[derive(Clone, Debug, Default)]
struct Stop {
    /// A host was lost or could not start: the run has no result.
    lost: Option<String>,
    /// The deadline passed.
    expired: bool,
}

/// What runner saw of the run.
struct Watched {
    stop: Option<Stop>,
    /// When runner saw every worker arrive.
    release: Option<u64>,
    /// The channel: what runner, the owner, applied.
    served: Option<sync::Served>,
}

/// What runner has seen so far: when it began to look, the barrier's release, which hosts' heartbeats it has seen.
struct Looking {
    start: u64,
    release: Option<u64>,
    seen: Vec<bool>,
}

/// The hosts' processes and the run's keys, stopped and deleted on every way out.
struct Hosts {
    /// Each host's process, unless another launcher starts it.
    children: Vec<Option<Child>>,
    con: redis::Connection,
    all: Vec<String>,
    redis_keys_done: bool,
}

impl Hosts {
    /// Waits for every host to be done, or for a reason to stop. For the channel, runner owns
    /// the value: it reads the run's stream and applies it in order (blocking at most a few
    /// milliseconds a read), looking at signals at every read and at the hosts, the barrier and
    /// the deadline every half `POLL`, until every operation is applied or the hosts are done.
    fn watch(&mut self, plan: &Plan, keys: &RunKeys, interrupts: &Interrupts, keeper: &mut sync::Keeper) -> Watched {
        let mut state = Looking { start: now_ns(), release: None, seen: vec![false; plan.hosts.len()] };
        let mut served = None;
        if let sync::Keeper::Stream(owner) = keeper {
            let done = std::cell::Cell::new(false);
            let (mut stop, mut next) = (None, 0);
            let result = owner.serve(plan.workers as usize, &mut || !done.get(), &mut || {
                if interrupts.caught().is_some() {
                    stop = Some(Stop::default());
                    return false;
                }
                let now = now_ns();
                if now < next {
                    return true;
                }
                next = now + POLL.as_nanos() as u64 / 2;
                match self.look(plan, keys, interrupts, &mut state) {
                    None => true,
                    Some(None) => {
                        done.set(true);
                        true
                    }
                    Some(Some(why)) => {
                        stop = Some(why);
                        false
                    }
                }
            });
            match result {
                Ok(books) => served = Some(books),
                Err(e) => stop = Some(Stop { lost: Some(format!("the channel's owner: {e}")), expired: false }),
            }
            if stop.is_some() {
                return Watched { stop, release: state.release, served };
            }
        }
        loop {
            if let Some(stop) = self.look(plan, keys, interrupts, &mut state) {
                return Watched { stop, release: state.release, served };
            }
            let mut fds = [nix::poll::PollFd::new(interrupts.fd(), nix::poll::PollFlags::POLLIN)];
            let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(POLL.as_millis() as u16 / 2));
        }
    }

    /// One look at the run: `None` while it goes on, `Some(None)` once every host is done, and
    /// `Some(Some(why))` when it must stop.
    fn look(
        &mut self,
        plan: &Plan,
        keys: &RunKeys,
        interrupts: &Interrupts,
        state: &mut Looking,
    ) -> Option<Option<Stop>> {
        let stop = |lost: Option<String>, expired: bool| Some(Some(Stop { lost, expired }));
        if interrupts.caught().is_some() {
            return Some(Some(Stop::default()));
        }
        let now = now_ns();
        match state.release {
            None if now > state.start + START_NS => {
                let lost = format!("the hosts' workers did not all arrive within {} s", START_NS / 1_000_000_000);
                return stop(Some(lost), false);
            }
            Some(at) if now > at + plan.deadline.timeout_ns => return stop(None, true),
            _ => {}
        }
        let mut done = 0;
        for (h, host) in plan.hosts.iter().enumerate() {
            // The heartbeat and the process first, the done key last: a host says it is done and
            // then exits, so a host seen exited (or silent) and then not done was lost; read the
            // other way round, a host that finished between the two looks would seem lost.
            let beats: bool = match call(&mut self.con, "watching the hosts", redis::cmd("EXISTS").arg(keys.beat(h))) {
                Ok(b) => b,
                Err(e) => return stop(Some(e), false),
            };
            let exited = self.children[h].as_mut().and_then(|c| c.try_wait().ok().flatten());
            let is_done: bool =
                match call(&mut self.con, "watching the hosts", redis::cmd("EXISTS").arg(RunKeys::done(keys, h))) {
                    Ok(d) => d,
                    Err(e) => return stop(Some(e), false),
                };
            if is_done {
                done += 1;
                continue;
            }
            state.seen[h] |= beats;
            let lapsed = state.seen[h] && !beats;
            if lapsed || exited.is_some() {
                let how =
                    exited.map_or("its heartbeat lapsed".to_string(), |s| format!("it ended ({s}) before it was done"));
                return stop(Some(format!("host {} was lost: {how}", host.name)), false);
            }
        }
        if done == plan.hosts.len() {
            return Some(None);
        }
        if state.release.is_none() {
            let arrived: u64 =
                call(&mut self.con, "watching the barrier", redis::cmd("SCARD").arg(keys.arrived())).unwrap_or(0);
            if arrived >= u64::from(plan.workers) {
                state.release = Some(now_ns());
            }
        }
        None
    }

    /// Waits for every child, bounded; after a stop, signals them first (SIGTERM), and kills
    /// whatever is left after the grace.
    fn end_children(&mut self, stopped: bool) {
        if stopped {
            for child in self.children.iter().flatten() {
                let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
            }
        }
        let bound = now_ns() + STOP_GRACE.as_nanos() as u64;
        while now_ns() < bound && self.children.iter_mut().flatten().any(|c| c.try_wait().ok().flatten().is_none()) {
            std::thread::sleep(Duration::from_millis(10));
        }
        for child in self.children.iter_mut().flatten() {
            if child.try_wait().ok().flatten().is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    /// Deletes every key of the run's hosts (the value's keys are the keeper's).
    fn delete(&mut self) {
        if !self.redis_keys_done {
            self.redis_keys_done = true;
            let _ = call::<()>(&mut self.con, "deleting the run's keys", redis::cmd("DEL").arg(&self.all));
        }
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        if !self.redis_keys_done {
            let _ = call::<()>(
                &mut self.con,
                "stopping",
                redis::cmd("SET").arg(&self.all[2]).arg(1).arg("PX").arg(EXPIRY_MS),
            );
            self.end_children(true);
            self.delete();
        }
    }
}

/// The workers by host, on standard error.
fn say_hosts(plan: &Plan, results: &[Result]) {
    for host in &plan.hosts {
        let share = &results[host.first as usize..(host.first + host.count) as usize];
        let ops: u64 = share.iter().map(|r| r.ops).sum();
        let ok = share.iter().filter(|r| r.code == 0).count();
        let on = match host.command.trim() {
            "" => "this machine".to_string(),
            EXTERNAL => "started by another launcher".to_string(),
            command => format!("`{command}`"),
        };
        crate::stderrln!(
            "runner: host {} ({on}): workers {}..={}, {} operations, {ok} of {} exited 0",
            host.name,
            host.first,
            host.first + host.count - 1,
            ops,
            host.count
        );
    }
}

/// When runner began (with its own CPU usage and memory then), started and had started the
/// hosts, saw them done, and saw its children end.
#[derive(Default)]
struct Times {
    begun: u64,
    runner_cpu: Option<Cpu>,
    held_kib: u64,
    launching: u64,
    launched: u64,
    done: u64,
    ended: u64,
}

/// The run's `Outcome` from the workers' results (their times on the server's clock when every
/// host's offset was measured; runner's phases on its own).
fn outcome(
    plan: &Plan,
    (final_value, refused): (crate::value::Value, Option<crate::sync::Refused>),
    results: &[Result],
    watched: &Watched,
    times: &Times,
    interrupts: &Interrupts,
) -> Outcome {
    let reaped = |r: &Result| r.code >= 0 || r.signal != "-";
    let cpus: Vec<Cpu> = results.iter().filter(|r| reaped(r)).map(|r| r.cpu).collect();
    let workers_cpu = cpus.iter().copied().reduce(Cpu::plus);
    let switches = workers_cpu.unwrap_or_default();
    let runner_cpu = super::super::collect::runner_usage().zip(times.runner_cpu).map(|(now, then)| now.since(then));
    let origin = results.iter().map(|r| r.start_ns).filter(|&t| t > 0).min().unwrap_or(0);
    let last_end = results.iter().map(|r| r.end_ns).max().unwrap_or(origin).max(origin);
    let seconds = |from: u64, to: u64| to.saturating_sub(from) as f64 / 1e9;
    let workers: Vec<WorkerOutcome> = results
        .iter()
        .enumerate()
        .map(|(index, r)| WorkerOutcome {
            index: index as u32,
            pid: r.pid,
            ops: r.ops,
            seconds: seconds(r.start_ns, r.end_ns),
            started: seconds(origin, r.start_ns),
            ended: seconds(origin, r.end_ns),
            exit: r.exit(),
            retries: r.retries,
            resent: r.resent,
            ambiguous: r.ambiguous,
            recoveries: 0,
            peak_kib: r.peak_kib,
            cpu: reaped(r).then_some(r.cpu),
        })
        .collect();
    let expired = watched.stop.as_ref().is_some_and(|s| s.expired);
    let interrupted = interrupts.caught();
    Outcome {
        final_value,
        refused,
        events: workers.iter().map(|w| (w.pid, Vec::new())).collect(),
        workers,
        elapsed_seconds: seconds(origin, last_end),
        memory_kib: (
            super::super::status::read().map_or(0, |s| s.hwm_kib),
            results.iter().map(|r| r.peak_kib).max().unwrap_or(0),
        ),
        memory_start_kib: times.held_kib,
        served: watched.served.clone(),
        latency: Latency {
            sample_every: crate::watch::stride(
                plan.backend,
                plan.iterations,
                plan.workers,
                &crate::watch::Watch::default(),
            ),
            op: None,
            lock_wait: None,
            histogram: None,
        },
        events_lost: None,
        interrupted,
        deadline: (expired && interrupted.is_none()).then_some(plan.deadline.timeout_ns as f64 / 1e9),
        deadline_stop: None,
        recoveries: Vec::new(),
        moments: Vec::new(),
        stride: crate::watch::stride(plan.backend, plan.iterations, plan.workers, &crate::watch::Watch::default()),
        phases: Phases {
            setup_seconds: seconds(times.begun, times.launching),
            fork_seconds: seconds(times.launching, times.launched),
            arrive_seconds: watched.release.map_or(0.0, |r| seconds(times.launched, r)),
            reap_seconds: seconds(times.done, times.ended),
            voluntary_switches: switches.voluntary_switches,
            involuntary_switches: switches.involuntary_switches,
        },
        cpu: RunCpu { workers: workers_cpu, workers_reaped: cpus.len() as u32, runner: runner_cpu },
        hosts: Vec::new(),
        window_clock: crate::outcome::WindowClock::Unaligned,
    }
}
