//! What of a job the Python program does not carry over, in words: every field of the plan is
//! either rendered by the program (workers, iterations, value, operation and operands, backend,
//! batch, schedule, start, work, pin, the expected value and its check) or named here.
//!
//! Two kinds: [`changes_the_result`] (faults, a failing fork, an expected outcome: the program
//! would run another job, so `compare-python` refuses), and [`not_carried`] (what only changes
//! how runner runs or measures the job: transport, deadline, runs, trace), said in a notice by
//! `export-python` and `compare-python` and in the program's header.

use crate::names::BackendKind;
use crate::plan::{DEFAULT_GRACE_NS, Plan};

/// The fields whose absence in the program makes it another job: its final value or its
/// outcome would differ from runner's.
pub(crate) fn changes_the_result(plan: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    for fault in &plan.faults {
        out.push(format!("faults: the program injects no fault (runner: {})", fault.describe()));
    }
    if let Some(k) = plan.fork_fail_at {
        out.push(format!("fork_fail_at: every fork of the program succeeds (runner makes fork {k} fail)"));
    }
    if let Some(o) = plan.expect_outcome {
        out.push(format!(
            "expect_outcome: the program expects every worker to finish (runner expects the outcome {})",
            o.name()
        ));
    }
    out
}

/// The fields the program does not carry that leave the final value alone, and (first) those
/// of [`changes_the_result`].
pub(crate) fn not_carried(plan: &Plan) -> Vec<String> {
    let mut out = changes_the_result(plan);
    if plan.engine.redis().is_some() && !plan.hosts.is_empty() {
        out.push(format!(
            "hosts: the program forks every worker on this machine (runner runs them on {})",
            crate::words::plural(plan.hosts.len() as u64, "host")
        ));
    }
    if let (BackendKind::Channel, Some(t), None) = (plan.backend.kind(), plan.backend.transport(), plan.engine.redis())
    {
        out.push(format!(
            "transport: the program's workers send pickled messages over a multiprocessing queue, not runner's {} transport",
            t.name()
        ));
    }
    if plan.deadline.stated {
        out.push(format!(
            "timeout: the program has no deadline (runner stops its workers after {}; compare-python stops the program after 20 times that)",
            crate::plan::duration_word(plan.deadline.timeout_ns)
        ));
    }
    if plan.deadline.grace_ns != DEFAULT_GRACE_NS {
        out.push(format!(
            "grace: the program has no deadline, so no grace between SIGTERM and SIGKILL (runner's: {})",
            crate::plan::duration_word(plan.deadline.grace_ns)
        ));
    }
    if plan.repeat > 1 || plan.warmup > 0 {
        out.push(format!(
            "repeat and warmup: the program runs the job once (runner: {}{})",
            crate::words::plural(plan.repeat, "counted run"),
            match plan.warmup {
                0 => String::new(),
                w => format!(" after {}", crate::words::plural(w, "warm-up run")),
            }
        ));
    }
    if let Some(t) = &plan.trace {
        out.push(format!("trace: the program writes no trace (runner writes {})", t.file));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(yaml: &str) -> Plan {
        crate::plan_text("t.yaml", yaml).unwrap().remove(0)
    }

    #[test]
    fn every_field_the_program_lacks_is_named() {
        let head = "workers: 3\niterations: 100\nvalue: {type: i}\noperation: add\n";
        let p = plan(&format!(
            "{head}backend: mutex\nfaults: [{{worker: 1, at: 5, action: kill, inside_lock: true}}]\nexpect_outcome: recovered\ntimeout: 5s\nrepeat: 2\ntrace: {{file: t.json}}\n"
        ));
        let said = not_carried(&p).join("\n");
        for field in ["faults:", "expect_outcome:", "timeout:", "repeat and warmup:", "trace:"] {
            assert!(said.contains(field), "{field} in {said}");
        }
        assert_eq!(changes_the_result(&p).len(), 2);
        let p = plan(&format!("{head}backend: channel\ntransport: pipe\nfork_fail_at: 2\n"));
        let said = not_carried(&p).join("\n");
        assert!(said.contains("transport:") && said.contains("fork_fail_at:"), "{said}");
        assert!(not_carried(&plan(&format!("{head}backend: mutex\n"))).is_empty());
    }
}
