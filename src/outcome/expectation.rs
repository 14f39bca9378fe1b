//! Whether a run came to the outcome its job declares (`expect_outcome`) or, declaring none,
//! completed: the one rule that the run's report, its JSON (`outcome_as_expected`), a sweep's
//! cells and every exit code use.
//!
//! The rule: a run is as expected when what happened ([`Happened`]) is the declared outcome
//! (`completed` when none is declared) and, for a declared outcome, the final value checks out
//! (the verdict is not `wrong`): a declared outcome is what makes a failed worker or a passed
//! deadline a pass, so it counts only with a value that checks out. Declaring none, a completed
//! run with a wrong value is as expected (it completed): its verdict says `wrong` and exits 1.
//! A run a signal interrupted has no outcome to compare (`None`).

use super::{Judgement, Outcome, Verdict};
use crate::error::exit;
use crate::plan::Plan;

/// What a run came to, in the terms of a job's `expect_outcome`: the outcome a job declares,
/// or, when it declares none, that the run completes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Happened {
    /// Every worker ended well and nothing stopped the run.
    Completed,
    /// A worker died holding the lock, and the lock was taken over and the value restored from
    /// the update marker (whether the final value then checks out is the verdict's to say).
    Recovered,
    /// A worker failed (killed, panicked, exited non-zero) and no lock was recovered.
    WorkerFailed,
    /// The deadline stopped the run.
    Deadline,
    /// A signal (SIGINT, SIGTERM) stopped runner's run: no outcome to compare.
    Interrupted,
}

impl Happened {
    /// As `expect_outcome` names it (`completed` and `interrupted` are no declared outcome).
    pub fn name(self) -> &'static str {
        match self {
            Happened::Completed => "completed",
            Happened::Recovered => "recovered",
            Happened::WorkerFailed => "worker_failed",
            Happened::Deadline => "deadline",
            Happened::Interrupted => "interrupted",
        }
    }

    /// What happened, as a run's report says it.
    pub fn of(outcome: &Outcome) -> Happened {
        if outcome.interrupted.is_some() {
            Happened::Interrupted
        } else if outcome.deadline.is_some() {
            Happened::Deadline
        } else if !outcome.recoveries.is_empty() {
            Happened::Recovered
        } else if outcome.failed_workers().next().is_some() {
            Happened::WorkerFailed
        } else {
            Happened::Completed
        }
    }
}

/// The outcome a run was to have, the one it had, and whether that is as expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expectation {
    /// The job's `expect_outcome`, or `completed` when it declares none.
    pub expected: &'static str,
    /// The job declares `expect_outcome` (`expected` is not the default `completed`).
    pub declared: bool,
    pub happened: Happened,
    /// The declared outcome happened, but the final value is `wrong`: not as expected.
    pub value_wrong: bool,
    /// Whether the run is as expected (see the module's rule); `None` when a signal
    /// interrupted the run.
    pub as_expected: Option<bool>,
}

impl Expectation {
    /// A run's expectation: its plan's `expect_outcome`, what happened, and the verdict on its
    /// final value.
    pub fn of(plan: &Plan, outcome: &Outcome, verdict: Verdict) -> Expectation {
        Expectation::rule(plan.expect_outcome.map(|e| e.name()), Happened::of(outcome), verdict)
    }

    /// The rule itself, on what it looks at: the declared outcome's name (`recovered`), what
    /// happened, and the verdict.
    pub fn rule(declared: Option<&'static str>, happened: Happened, verdict: Verdict) -> Expectation {
        let expected = declared.unwrap_or(Happened::Completed.name());
        let came_to = happened.name() == expected;
        let value_wrong = declared.is_some() && came_to && verdict == Verdict::Wrong;
        let as_expected = (happened != Happened::Interrupted).then_some(came_to && !value_wrong);
        Expectation { expected, declared: declared.is_some(), happened, value_wrong, as_expected }
    }

    /// The run failed its declared outcome (or, declaring none, did not complete).
    pub fn failed(&self) -> bool {
        self.as_expected == Some(false)
    }
}

/// The exit code of a run, highest first: a signal; then a declared outcome, which decides
/// alone (0 as expected, 3 not: it did not happen, or its value is wrong); then, declaring
/// none, a failed worker or the deadline (3), a wrong value (1; every other verdict exits 0).
pub fn exit_code(plan: &Plan, outcome: &Outcome, judgement: &Judgement) -> i32 {
    if let Some(signal) = outcome.interrupted {
        return signal.exit_code();
    }
    let expectation = Expectation::of(plan, outcome, judgement.verdict);
    match expectation.as_expected {
        Some(true) if expectation.declared => exit::OK,
        Some(false) => exit::FAILED,
        _ if judgement.verdict == Verdict::Wrong => exit::WRONG,
        _ => exit::OK,
    }
}

#[cfg(test)]
mod tests {
    use super::{Expectation, Happened, Verdict};

    fn as_expected(declared: Option<&'static str>, happened: Happened, verdict: Verdict) -> Option<bool> {
        Expectation::rule(declared, happened, verdict).as_expected
    }

    #[test]
    fn a_declared_outcome_counts_only_with_a_value_that_checks_out() {
        let recovered = Some("recovered");
        assert_eq!(as_expected(recovered, Happened::Recovered, Verdict::Correct), Some(true));
        assert_eq!(as_expected(recovered, Happened::Recovered, Verdict::WithinBound), Some(true));
        // A recovery whose value is wrong is no recovery the job can pass with.
        let wrong = Expectation::rule(recovered, Happened::Recovered, Verdict::Wrong);
        assert_eq!((wrong.as_expected, wrong.value_wrong), (Some(false), true));
        assert!(wrong.failed());
        let deadline = Some("deadline");
        assert_eq!(as_expected(deadline, Happened::Deadline, Verdict::Wrong), Some(false));
        assert_eq!(as_expected(deadline, Happened::Deadline, Verdict::Correct), Some(true));
    }

    #[test]
    fn another_outcome_than_the_declared_one_is_not_as_expected_whatever_the_value() {
        for verdict in Verdict::ALL {
            assert_eq!(as_expected(Some("recovered"), Happened::WorkerFailed, verdict), Some(false));
            assert_eq!(as_expected(Some("deadline"), Happened::Completed, verdict), Some(false));
            assert_eq!(as_expected(Some("fork_failed"), Happened::Completed, verdict), Some(false));
            assert_eq!(as_expected(None, Happened::WorkerFailed, verdict), Some(false));
            assert_eq!(as_expected(None, Happened::Deadline, verdict), Some(false));
            assert_eq!(as_expected(None, Happened::Recovered, verdict), Some(false));
            assert_eq!(as_expected(Some("deadline"), Happened::Interrupted, verdict), None);
        }
    }

    #[test]
    fn declaring_none_a_completed_run_is_as_expected_and_its_verdict_says_the_rest() {
        for verdict in Verdict::ALL {
            let e = Expectation::rule(None, Happened::Completed, verdict);
            assert_eq!((e.as_expected, e.value_wrong, e.expected), (Some(true), false, "completed"));
        }
    }
}
