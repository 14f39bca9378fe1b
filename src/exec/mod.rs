//! Execution: a `Plan` becomes processes, in four phases, each over its own struct:
//!
//! 1. `prepare`: maps the shared memory, sets the backend up (from a `sync::Setup`, the
//!    plan's part the backend needs), forks the channel's waker, makes the start barrier and
//!    the lifeline, calibrates the pace, checks the CPUs to pin to (`Prepared`);
//! 2. `spawn`: forks the workers (`Running`);
//! 3. `supervise`: releases them together (or, with `start: forked`, they started as they
//!    were forked), lets the backend's owner serve, waits for their work to be over, watches
//!    the deadline and signals, and stops the workers of a stopped run (`Ended`);
//! 4. `collect`: reaps every worker and collects an `Outcome`.
//!
//! Owns: forking (only in `fork.rs`), the start barrier, supervision with `waitpid`, the
//! signals and the waits they must end (`interrupt.rs`), runner's one way to write to standard
//! error (`stderr.rs`: `stderr!`, `stderrln!`, which a signal ends and a failure cannot panic),
//! and the run's errors (`error`, each becoming an `error::Error` here). Does not own: the
//! mechanisms (see `sync`), judging the value (see `outcome`) or what is printed (see `report`
//! and `app`), but a worker's own error.

pub mod barrier;
mod collect;
mod deaths;
mod error;
pub(crate) mod fork;
pub(crate) mod interrupt;
pub mod lifeline;
mod prepare;
mod reaper;
pub(crate) mod remote;
mod spawn;
mod status;
pub mod stderr;
mod supervise;
mod worker;

use crate::clock::now_ns;
use crate::error::Error;
use crate::outcome::Outcome;
use crate::plan::Plan;
use crate::watch::Watch;

/// Runs the plan on forked workers and reports what happened. `progress` is told the
/// operations done so far, every tenth of a second or so while the workers run. `interrupts`
/// (armed once, before the first run) carries SIGINT, SIGTERM, SIGHUP and SIGQUIT.
pub(crate) fn execute(
    plan: &Plan,
    watch: &Watch,
    progress: &mut dyn FnMut(u64),
    interrupts: &interrupt::Interrupts,
) -> Result<Outcome, Error> {
    if !plan.hosts.is_empty() {
        return Ok(remote::coordinate::coordinate(plan, interrupts)?);
    }
    let begun = now_ns();
    collect::reset_peak();
    let runner_cpu = collect::runner_usage();
    let setting_up = tracing::info_span!("set up the backend").entered();
    let prepared = prepare::prepare(plan, watch, interrupts)?;
    drop(setting_up);
    // Workers never touch `tracing` after the fork: the span below lives on in their copy of
    // memory, unused, until they `_exit`.
    let forking = tracing::info_span!("fork").entered();
    let running = spawn::spawn(plan, prepared, interrupts)?;
    drop(forking);
    // The machine's description for the report, read now that the workers are on their way
    // (a few CPUID instructions, each an exit to the hypervisor on a virtual machine), rather
    // than before the first fork.
    let _ = crate::host::host();
    tracing::info!(workers = plan.workers as usize, backend = plan.backend.name(), "forked");
    let ended = supervise::supervise(plan, running, progress, interrupts)?;
    Ok(collect::collect(plan, ended, collect::Begun { at: begun, runner_cpu, histogram: watch.histogram })?)
}
