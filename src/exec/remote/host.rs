//! `runner worker`: one host's side of a run over several hosts. It reads its description of
//! the run from Redis, checks runner's version and the job's sha256, plans the job from the
//! text, and forks its share of the workers through the same worker code as a local run (each
//! connects after its fork, and waits at the barrier in Redis instead of the local one). Its
//! heartbeat beats from a process of its own (`heartbeat.rs`) from before its first command on
//! the run to after its `done` key. While the workers run it polls the stop key (every `POLL`);
//! at a stop, a signal or its bound it kills its workers. It reaps them all, writes each
//! worker's result, then its own `done` key, and exits.

use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, getpid, getppid};
use sha2::{Digest, Sha256};

use super::super::interrupt::Interrupts;
use super::super::lifeline::Lifeline;
use super::super::{fork, worker};
use super::heartbeat::Heartbeat;
use super::{
    BEAT_MS, COMMAND_TIMEOUT, Description, EXPIRY_MS, POLL, Result, RunKeys, call, connect, quick_connection, set,
};
use crate::clock::now_ns;
use crate::plan::{EnginePlan, Overrides, Plan};
use crate::shm::Shared;
use crate::spec::Source;
use crate::sync::pace::{Pacing, calibrate};
use crate::sync::{self, Order};
use crate::watch::Watch;

/// How long a worker waits at the barrier for the others, at most.
const BARRIER_NS: u64 = 60_000_000_000;

/// Runs host `h`'s share of the run under `prefix` on the server at `url`.
pub(crate) fn serve(url: &str, prefix: &str, h: usize, interrupts: &Interrupts) -> std::result::Result<(), String> {
    let keys = RunKeys::new(prefix);
    let mut con = connect(url)?;
    let text: Option<String> =
        call(&mut con, "reading the run's description", redis::cmd("GET").arg(keys.description(h)))?;
    let text = text.ok_or_else(|| format!("no description of host {h}'s part under {prefix} (has the run ended?)"))?;
    let d = Description::from_json(&text).ok_or("the run's description cannot be read")?;
    let heartbeat = Heartbeat::start(&mut con, url, &keys, h);
    let outcome = heartbeat
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|_| joined(&d, url, prefix))
        .and_then(|plan| run_share(&plan, &d, &keys, h, url, &mut con, interrupts));
    let done = match &outcome {
        Ok(()) => "ok".to_string(),
        Err(e) => format!("error: {e}"),
    };
    // Said before the heartbeat stops: the coordinator reads a host's heartbeat before its
    // `done` key, so a host that is done is never taken for lost.
    set(&mut con, "saying the host is done", &keys.done(h), &done, EXPIRY_MS)?;
    if let Ok(heartbeat) = heartbeat {
        heartbeat.stop();
    }
    outcome
}

/// The plan of the described job, after the checks, on this host's server address and the
/// run's prefix.
fn joined(d: &Description, url: &str, prefix: &str) -> std::result::Result<Plan, String> {
    if d.version != crate::version::VERSION {
        return Err(format!(
            "runner {} here, {} on the coordinator: run the same build on every host",
            crate::version::VERSION,
            d.version
        ));
    }
    let sha = format!("{:x}", Sha256::digest(d.text.as_bytes()));
    if sha != d.sha256 {
        return Err(format!("the job's text has sha256 {sha}, the coordinator's {}", d.sha256));
    }
    let source = Source { label: d.label.clone(), text: d.text.clone() };
    let rendered =
        |diags: Vec<crate::error::Diagnostic>| diags.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("; ");
    let parsed = crate::spec::parse_with(&source, &[]).map_err(rendered)?;
    let jobs = crate::plan::plan_cells(parsed, &source, &Overrides::default()).map_err(rendered)?;
    let mut plan = jobs.into_iter().nth(d.cell).ok_or("the job file has fewer cells here")?.plan;
    if plan.workers != d.workers || plan.iterations != d.iterations || plan.hosts.is_empty() {
        return Err("the job plans differently here than on the coordinator".to_string());
    }
    let EnginePlan::Redis(redis) = &mut plan.engine else { return Err("the job's engine is not redis".to_string()) };
    redis.url = url.to_string();
    redis.key = Some(prefix.to_string());
    Ok(plan)
}

/// Forks the share's workers, watches them, and writes their results.
fn run_share(
    plan: &Plan,
    d: &Description,
    keys: &RunKeys,
    h: usize,
    url: &str,
    con: &mut redis::Connection,
    interrupts: &Interrupts,
) -> std::result::Result<(), String> {
    let watch = Watch::default();
    let units = plan.iterations.max(plan.messages_per_worker());
    let shared = Shared::new(plan.workers as usize, crate::watch::areas(plan.workers, units, &watch))
        .map_err(|e| format!("cannot map shared memory: {e}"))?;
    let stride = crate::watch::stride(plan.backend, plan.iterations, plan.workers, &watch);
    let setup = sync::Setup::of(plan, None);
    let mut side = Some(sync::join(&setup, &plan.engine).ok_or("no Redis engine")?.map_err(|e| e.to_string())?);
    let mut lock = side.as_mut().and_then(|(_, lock)| lock.take());
    let per_ns = if plan.work.is_none() { 0.0 } else { calibrate() };
    let pacing = Pacing::new(plan.work, plan.schedule, plan.workers, per_ns);
    let mut lifeline = Lifeline::new().map_err(|e| format!("cannot create a pipe: {e}"))?;
    let parent = getpid();
    let before = super::clock::measure(con).ok();
    let ready = fork::prepare().map_err(|e| e.to_string())?;
    let unblock = interrupts.with(Signal::SIGCHLD);
    let mut pids = Vec::new();
    for index in d.first..d.first + d.count {
        let spawned = fork::spawn(&ready, || {
            let _ = unblock.thread_unblock();
            if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() || getppid() != parent {
                return worker::EXIT_ORPHAN;
            }
            match barrier(url, keys, index, plan.workers) {
                Ok(true) => {}
                Ok(false) => return worker::EXIT_ERROR,
                Err(e) => {
                    fork::child_line(format_args!("runner: worker {index}: start barrier in Redis: {e}"));
                    return worker::EXIT_ERROR;
                }
            }
            let Some((backend, _)) = side.take() else { return worker::EXIT_ERROR };
            let order =
                Order { index, iterations: plan.iterations, done_before: 0, operand: plan.operand_of(index), pacing };
            let cx = worker::Context {
                order,
                cpu: None,
                policy: plan.worker_policy(),
                fault: plan.faults.iter().find(|f| f.worker == index).copied(),
                stride,
                trace_ops: false,
                parent,
                shared: &shared,
                backend: plan.backend.name(),
                oom: &ready.oom,
            };
            worker::main(cx, worker::Hands { backend, inside_lock: lock.take() }, None, &mut lifeline)
        });
        match spawned {
            Ok(pid) => pids.push((index, pid, None)),
            Err(e) => {
                fork::child_line(format_args!("runner: host {}: cannot fork worker {index}: {e}", d.host));
                break;
            }
        }
    }
    drop((side, lock));
    // Workers that could not be forked never arrive: their host arrives for them.
    let unforked: Vec<u32> = (d.first + pids.len() as u32..d.first + d.count).collect();
    let bound = now_ns().saturating_add(BARRIER_NS + plan.deadline.timeout_ns + plan.deadline.grace_ns);
    watch_share(&mut pids, keys, (url, plan.workers, unforked), con, interrupts, bound);
    let after = super::clock::measure(con).ok();
    let measured = [before, after].map(|m| m.map_or("-".to_string(), |m| m.encode())).join("|");
    set(con, "publishing the round trip", &keys.clock(h), &measured, EXPIRY_MS)?;
    for (index, pid, exit) in &pids {
        let slot = shared.slot(*index as usize);
        let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
        let (exit, peak_kib, cpu) = exit.as_ref().expect("every worker is reaped");
        let result = Result {
            ops: load(&slot.ops),
            retries: load(&slot.retries),
            resent: slot.resent.load(std::sync::atomic::Ordering::Relaxed).into(),
            ambiguous: slot.ambiguous.load(std::sync::atomic::Ordering::Relaxed).into(),
            start_ns: load(&slot.start_ns),
            end_ns: load(&slot.end_ns),
            pid: pid.as_raw(),
            code: exit.code.unwrap_or(-1),
            signal: exit.signal.clone().unwrap_or_else(|| "-".to_string()),
            peak_kib: *peak_kib,
            cpu: *cpu,
        };
        set(con, "writing a worker's result", &keys.result(*index), &result.encode(), EXPIRY_MS)?;
    }
    Ok(())
}

/// Each worker's index, pid and, once reaped, how it ended, its peak memory and CPU usage.
type Share = Vec<(u32, Pid, Option<(crate::outcome::Exit, u64, crate::outcome::Cpu)>)>;

/// Waits for every worker of the share to end, polling the stop key every `POLL` (the
/// heartbeat is its own process: `heartbeat.rs`); kills them all at the stop key, a signal, a
/// server silent for a heartbeat's life or `bound`. The workers that could not be forked
/// (`failed`), and each worker that fails (a code other than 0, or a signal) in case it ended
/// before it could, are made to arrive at the barrier: the run's `workers` go on without them, as
/// in a local run.
fn watch_share(
    pids: &mut Share,
    keys: &RunKeys,
    (url, workers, mut failed): (&str, u32, Vec<u32>),
    con: &mut redis::Connection,
    interrupts: &Interrupts,
    bound: u64,
) {
    let mut killed = false;
    let mut heard = now_ns();
    // Each poll waits a few polls at most; the results after the loop wait `COMMAND_TIMEOUT`.
    let _ = con.set_read_timeout(Some(POLL * 5));
    loop {
        for (index, pid, exit) in pids.iter_mut().filter(|p| p.2.is_none()) {
            if let Ok(Some(reaped)) = fork::wait(*pid, false) {
                let how = match reaped.status {
                    nix::sys::wait::WaitStatus::Exited(_, code) => {
                        crate::outcome::Exit { code: Some(code), signal: None }
                    }
                    nix::sys::wait::WaitStatus::Signaled(_, s, _) => {
                        crate::outcome::Exit { code: None, signal: Some(s.as_str().to_string()) }
                    }
                    _ => crate::outcome::Exit { code: None, signal: None },
                };
                if how.code != Some(0) {
                    failed.push(*index);
                }
                *exit = Some((how, reaped.peak_kib, reaped.cpu));
            }
        }
        if pids.iter().all(|p| p.2.is_some()) {
            let _ = con.set_read_timeout(Some(COMMAND_TIMEOUT));
            let _ = con.set_write_timeout(Some(COMMAND_TIMEOUT));
            for index in failed {
                let _ = arrive(con, keys, index, workers);
            }
            return;
        }
        // Sent again at the next round until the server has it (the arrival may be sent twice).
        failed.retain(|&index| arrive(con, keys, index, workers).is_err());
        let stop: std::result::Result<bool, String> =
            call(con, "polling the stop key", redis::cmd("EXISTS").arg(keys.stop()));
        if stop.is_ok() {
            heard = now_ns();
        } else if now_ns().saturating_sub(heard) > 1_000_000_000
            && let Some(fresh) = quick_connection(url)
        {
            *con = fresh;
        }
        // A late reply (lost packets, a link down for a while) is not a lost server: the next
        // round sends again, which also makes TCP resend what was lost. Only a server silent
        // for a heartbeat's whole life (the coordinator has given this host up) stops them.
        let silent = now_ns().saturating_sub(heard) > BEAT_MS * 1_000_000;
        let stopping = silent || stop == Ok(true) || interrupts.caught().is_some() || now_ns() > bound;
        if stopping && !killed {
            killed = true;
            for (_, pid, _) in pids.iter().filter(|p| p.2.is_none()) {
                let _ = kill(*pid, Signal::SIGKILL);
            }
        }
        let mut fds = [nix::poll::PollFd::new(interrupts.fd(), nix::poll::PollFlags::POLLIN)];
        let wait = if killed { 10u16 } else { POLL.as_millis() as u16 };
        let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(wait));
    }
}

/// In a worker: the start barrier in Redis. Worker `index` arrives (`arrive`); then each worker
/// takes a token (`BLPOP`, a fifth of a second at a time, looking at the stop key in between).
/// False when the run was stopped first.
///
/// Under packet loss a reply may never come (a read timeout; CI once saw a worker's arrival fail
/// so, and the others waited out the barrier). So every step can be sent again on a new
/// connection: an arrival twice is one member of the set; two arrivals that both find the set
/// full push twice, and the tokens left over go with the run's keys; a `BLPOP` whose reply was
/// lost may have taken a token, so after a failed one the worker looks at the arrivals instead:
/// all there is the release.
fn barrier(url: &str, keys: &RunKeys, index: u32, workers: u32) -> std::result::Result<bool, String> {
    let bound = now_ns().saturating_add(BARRIER_NS);
    let mut con = connect(url)?;
    let arrivals =
        |con: &mut redis::Connection| -> redis::RedisResult<u64> { redis::cmd("SCARD").arg(keys.arrived()).query(con) };
    again(&mut con, url, bound, "arriving", |con| arrive(con, keys, index, workers))?;
    while now_ns() < bound {
        let token: redis::RedisResult<Option<(String, String)>> =
            redis::cmd("BLPOP").arg(keys.go()).arg(0.2).query(&mut con);
        match token {
            Ok(Some(_)) => return Ok(true),
            Ok(None) => {}
            Err(e) if e.is_io_error() => {
                let everyone = again(&mut con, url, bound, "waiting", arrivals)?;
                if everyone >= u64::from(workers) {
                    return Ok(true);
                }
            }
            Err(e) => return Err(format!("waiting: {e}")),
        }
        let stop: bool = again(&mut con, url, bound, "polling the stop key", |con| {
            redis::cmd("EXISTS").arg(keys.stop()).query(con)
        })?;
        if stop {
            return Ok(false);
        }
    }
    Err(format!("not every worker arrived within {} s", BARRIER_NS / 1_000_000_000))
}

/// Worker `index` arrives at the barrier: `SADD` of its index to the arrivals (a set), and the
/// arrival that finds every worker there pushes one token per worker. Sent by the worker, or by
/// its host for a worker that ended before it could arrive (as the local barrier counts a dead
/// worker's closed pipe), so that the others are not held for the barrier's bound. May be sent
/// twice (see `barrier`).
fn arrive(con: &mut redis::Connection, keys: &RunKeys, index: u32, workers: u32) -> redis::RedisResult<()> {
    let (arrived,): (u64,) = redis::pipe()
        .atomic()
        .cmd("SADD")
        .arg(keys.arrived())
        .arg(index)
        .ignore()
        .cmd("PEXPIRE")
        .arg(keys.arrived())
        .arg(EXPIRY_MS)
        .ignore()
        .cmd("SCARD")
        .arg(keys.arrived())
        .query(con)?;
    if arrived >= u64::from(workers) {
        let mut pipe = redis::pipe();
        pipe.atomic().cmd("RPUSH").arg(keys.go());
        for _ in 0..workers {
            pipe.arg(1);
        }
        pipe.ignore().cmd("PEXPIRE").arg(keys.go()).arg(EXPIRY_MS).ignore().query::<()>(con)?;
    }
    Ok(())
}

/// `step` until it succeeds, on a new connection after each failure of the link (a timeout, a
/// dropped connection), until `bound`; for steps that may be sent twice.
fn again<T>(
    con: &mut redis::Connection,
    url: &str,
    bound: u64,
    doing: &str,
    mut step: impl FnMut(&mut redis::Connection) -> redis::RedisResult<T>,
) -> std::result::Result<T, String> {
    loop {
        match step(con) {
            Ok(value) => return Ok(value),
            Err(e) if e.is_io_error() && now_ns() < bound => match connect(url) {
                Ok(fresh) => *con = fresh,
                // A server that refuses at once would otherwise be asked again at once.
                Err(_) => std::thread::sleep(POLL),
            },
            Err(e) => return Err(format!("{doing}: {}", e.to_string().replace('\n', " "))),
        }
    }
}
