//! The program's header (what the job is and does, in comments a Python reader follows), its
//! imports and its constants.

use super::*;

impl Py<'_> {
    pub(super) fn header(&self) -> String {
        let p = self.plan;
        let mut parts = vec![
            "#!/usr/bin/env python3".to_string(),
            comment(&format!(
                "{}: the Python equivalent of runner's job {}, written by `runner export-python`.",
                p.name, p.file
            )),
        ];
        if let Some(d) = &p.description {
            parts.push("#".to_string());
            parts.push(comment(d));
        }
        let times = if p.iterations == 1 { "once".to_string() } else { format!("{} times", p.iterations) };
        let mut what = format!(
            "{} worker processes share one {} in a multiprocessing.Value('{}'), starting at {}. Each applies {} {times}, {}.",
            p.workers,
            self.type_words(),
            self.ty.name(),
            p.initial,
            self.operation_words(),
            self.backend_words(),
        );
        what.push(' ');
        let start = if self.together() {
            "The workers start at a barrier"
        } else {
            "Each worker starts as soon as it is forked (start: forked)"
        };
        what.push_str(&match p.schedule {
            Schedule::Concurrent if self.together() => "The workers start together at a barrier and run at once.".to_string(),
            Schedule::Concurrent => {
                "Each worker starts as soon as it is forked and exits when it is done, as in Python's tutorial (start: forked).".to_string()
            }
            Schedule::Sequential => format!(
                "{start}, then they run one after another: worker k waits for worker k-1 to finish (schedule: sequential)."
            ),
            Schedule::RoundRobin if self.channel() => format!(
                "{start}, then they take turns, one message each: worker 0, 1, ..., N-1, 0, ... (schedule: round-robin)."
            ),
            Schedule::RoundRobin => format!(
                "{start}, then they take turns, one operation each: worker 0, 1, ..., N-1, 0, ... (schedule: round-robin)."
            ),
        });
        if !p.work.is_none() {
            let inside = self.backend.work_inside;
            what.push_str(&format!(
                " Busy work around each operation: {} ns {inside}, {} ns after it.",
                p.work.inside_ns, p.work.outside_ns
            ));
        }
        if p.pin.is_some() {
            what.push_str(" Each worker runs on its own CPU (pin).");
        }
        parts.push("#".to_string());
        parts.push(comment(&what));
        self.verdict_and_missing(
            &mut parts,
            "The fork start method, as runner forks its workers. The last line printed is `RESULT {json}` (final, work_seconds, ops, ops_per_second): what `runner compare-python` reads.",
        );
        parts.join("\n")
    }

    /// The header's closing comments, shared by both engines' programs: what runner would
    /// accept as the final value, what the program does not carry over, and `last`.
    pub(super) fn verdict_and_missing(&self, parts: &mut Vec<String>, last: &str) {
        let p = self.plan;
        let mut how = if self.exact() {
            format!("runner's planner computed the final value {}.", p.expected)
        } else {
            format!("The final value depends on the order of the operations: runner accepts {}.", p.check.describe())
        };
        how.push_str(self.backend.verdict_note);
        parts.push("#".to_string());
        parts.push(comment(&how));
        let missing = super::not_carried(p);
        if !missing.is_empty() {
            parts.push("#".to_string());
            parts.push(comment("Not carried over from runner's job:"));
            for m in &missing {
                parts.push(comment(&format!("- {m}")));
            }
        }
        parts.push("#".to_string());
        parts.push(comment(last));
    }

    pub(super) fn imports(&self) -> String {
        let mut modules = vec!["json", "multiprocessing", "sys", "time"];
        if self.ty == ValueType::D {
            modules.push("math");
        }
        if self.plan.pin.is_some() {
            modules.push("os");
        }
        if self.channel() {
            modules.extend(["multiprocessing.connection", "threading"]);
        }
        modules.sort();
        let mut names = vec!["Array", "Process", "Value"];
        if self.together() {
            names.insert(1, "Barrier");
        }
        if self.ordered() {
            names.push("Condition");
        }
        if self.channel() {
            names.push(self.queue());
        }
        names.sort();
        let mut text: Vec<String> = modules.iter().map(|m| format!("import {m}")).collect();
        text.push(format!("from multiprocessing import {}", names.join(", ")));
        text.join("\n")
    }

    /// A `Queue` (a feeder thread per worker sends in the background) unless the schedule fixes
    /// the order: then a `SimpleQueue`, whose `put` has written the message when it returns, so
    /// the owner receives messages in the order the turns give.
    pub(super) fn queue(&self) -> &'static str {
        if self.ordered() { "SimpleQueue" } else { "Queue" }
    }

    pub(super) fn constants(&self) -> String {
        let p = self.plan;
        let mut lines = vec![
            format!("NAME = {}", string(&p.name)),
            format!("WORKERS = {}", p.workers),
            format!("ITERATIONS = {}", p.iterations),
        ];
        let byte = if self.ty == ValueType::C { "  # a byte as its code 0..255" } else { "" };
        match &p.operands {
            Some(list) => {
                let items: Vec<String> = list.iter().map(|v| literal(*v)).collect();
                lines.push(format!("OPERANDS = [{}]  # worker k applies OPERANDS[k]", items.join(", ")));
            }
            None => lines.push(format!("OPERAND = {}{byte}", literal(p.operation.operand))),
        }
        if self.channel() {
            lines.push(format!("BATCH = {}  # operations per message", p.backend.batch()));
        }
        if !p.work.is_none() {
            lines.push(format!("INSIDE_NS = {}  # busy work inside each operation", p.work.inside_ns));
            lines.push(format!("OUTSIDE_NS = {}  # busy work after each operation", p.work.outside_ns));
        }
        if let Some(PinPlan::Cpus(cpus)) = &p.pin {
            let items: Vec<String> = cpus.iter().map(usize::to_string).collect();
            lines.push(format!("CPUS = [{}]  # worker k runs on CPUS[k % len(CPUS)]", items.join(", ")));
        }
        if self.exact() {
            lines.push(format!("EXPECTED = {}  # what runner's planner computed{}", literal(p.expected), byte));
        } else {
            lines.push(format!("CHECK = {}  # what runner accepts", string(&p.check.describe())));
        }
        lines.join("\n")
    }
}
