//! The worker function and the `__main__` block: start, barrier (`start: together`), run,
//! collect, print.

use super::*;

impl Py<'_> {
    pub(super) fn worker(&self) -> String {
        let p = self.plan;
        let work = !p.work.is_none();
        let round_robin = p.schedule == Schedule::RoundRobin;
        let sequential = p.schedule == Schedule::Sequential;
        let from = if self.together() { "from the barrier on" } else { "as soon as it starts" };
        let doc = if self.channel() {
            format!(
                "Worker index: never touches the value; sends its operations to the parent, BATCH to a\n    message, {from}."
            )
        } else {
            format!("Worker index: applies the operation ITERATIONS times {from}.")
        };
        let mut body = vec![format!("\"\"\"{doc}\"\"\"")];
        if p.pin.is_some() {
            body.push(if self.together() { "pin(index, start)" } else { "pin(index)" }.to_string());
        }
        body.push(format!("a = {}", if p.operands.is_some() { "OPERANDS[index]" } else { "OPERAND" }));
        if self.together() {
            body.push("start.wait()  # every worker is ready: the timed window opens".to_string());
        }
        if sequential {
            body.push("wait_turn(turn, turn_changed, index)  # worker k runs after worker k-1".to_string());
        }
        body.push("started[index] = time.perf_counter_ns()".to_string());
        let mut inner: Vec<String> = Vec::new();
        if self.channel() {
            let header = if round_robin {
                "for m, first in enumerate(range(0, ITERATIONS, BATCH)):"
            } else {
                "for first in range(0, ITERATIONS, BATCH):"
            };
            body.push(header.to_string());
            inner.push("n = min(BATCH, ITERATIONS - first)".to_string());
            if round_robin {
                inner.push("wait_turn(turn, turn_changed, m * WORKERS + index)".to_string());
            }
            if work {
                inner.push("busy(INSIDE_NS * n)".to_string());
            }
            inner.push("queue.put((a,) * n)  # one message: n operands".to_string());
            if round_robin {
                inner.push("pass_turn(turn, turn_changed)".to_string());
            }
            if work {
                inner.push("busy(OUTSIDE_NS * n)".to_string());
            }
        } else {
            body.push(
                if round_robin { "for k in range(ITERATIONS):" } else { "for _ in range(ITERATIONS):" }.to_string(),
            );
            if round_robin {
                inner.push("wait_turn(turn, turn_changed, k * WORKERS + index)".to_string());
            }
            let (read, write) = match self.ty {
                ValueType::C => ("ord(v.value)", "v.value = bytes([{}])"),
                _ => ("v.value", "v.value = {}"),
            };
            let update = write.replace("{}", &format!("apply({read}, a)"));
            if self.backend.locked {
                inner.push("with v.get_lock():".to_string());
                inner.push(format!("    {update}"));
                if work {
                    inner.push("    busy(INSIDE_NS)".to_string());
                }
            } else if work {
                inner.push(format!("x = apply({read}, a)"));
                inner.push("busy(INSIDE_NS)".to_string());
                inner.push(write.replace("{}", "x"));
            } else {
                inner.push(format!("{update}  # no lock: another worker's update may be lost"));
            }
            if round_robin {
                inner.push("pass_turn(turn, turn_changed)".to_string());
            }
            if work {
                inner.push("busy(OUTSIDE_NS)".to_string());
            }
        }
        body.extend(inner.into_iter().map(|l| format!("    {l}")));
        body.push("ended[index] = time.perf_counter_ns()".to_string());
        if sequential {
            body.push("pass_turn(turn, turn_changed)".to_string());
        }
        let body: Vec<String> = body.into_iter().map(|l| format!("    {l}")).collect();
        format!("def worker(index, {}):\n{}", self.shared(), body.join("\n"))
    }

    pub(super) fn main(&self) -> String {
        let p = self.plan;
        let tc = self.ty.name();
        let initial = initial_literal(p.initial);
        let mut body = vec!["multiprocessing.set_start_method('fork')".to_string()];
        body.push(
            self.backend
                .value_line
                .replace("{short}", self.short_type())
                .replace("{tc}", tc)
                .replace("{initial}", &initial),
        );
        if self.channel() {
            body.push(format!("queue = {}()", self.queue()));
        }
        if self.together() {
            body.push("start = Barrier(WORKERS)  # the workers start together".to_string());
        }
        if self.ordered() {
            body.push("turn = Value('q', 0)  # whose turn it is".to_string());
            body.push("turn_changed = Condition(turn.get_lock())".to_string());
        }
        body.push(
            "started = Array('q', WORKERS, lock=False)  # time.perf_counter_ns() at each worker's start".to_string(),
        );
        body.push("ended = Array('q', WORKERS, lock=False)  # and at its end".to_string());
        body.push(format!("shared = ({})", self.shared()));
        body.push("workers = [Process(target=worker, args=(i, *shared)) for i in range(WORKERS)]".to_string());
        body.push("for p in workers:\n    p.start()".to_string());
        if self.channel() {
            let update = match self.ty {
                ValueType::C => "v.value = bytes([apply(ord(v.value), a)])",
                _ => "v.value = apply(v.value, a)",
            };
            // A worker that dies leaves operations unsent: once every worker has ended, a
            // `None` after their last message ends the owner's loop instead of a hang.
            body.push(
                "def all_ended():  # once every worker has ended (without reaping them), nothing more will come\n    pending = [p.sentinel for p in workers]\n    while pending:\n        for ended in multiprocessing.connection.wait(pending):\n            pending.remove(ended)\n    queue.put(None)\n\nthreading.Thread(target=all_ended, daemon=True).start()".to_string(),
            );
            body.push(format!(
                "received = 0\nwhile received < WORKERS * ITERATIONS:\n    message = queue.get()\n    if message is None:  # a worker failed before sending all its operations\n        break\n    for a in message:  # in arrival order\n        {update}\n    received += len(message)\nowner_end = time.perf_counter_ns()"
            ));
        }
        body.push("for p in workers:\n    p.join()".to_string());
        body.push(
            "failed = [p.exitcode for p in workers if p.exitcode != 0]\nif failed:\n    sys.exit(f\"{len(failed)} of {WORKERS} workers failed (exit codes {failed})\")"
                .to_string(),
        );
        body.push(format!("final = {}", if self.ty == ValueType::C { "ord(v.value)" } else { "v.value" }));
        body.push(format!("end = {}", if self.channel() { "owner_end" } else { "max(ended)" }));
        body.push(format!(
            "seconds = (end - min(started)) / 1e9  # from {} to the last worker's end",
            self.window_start()
        ));
        body.push(format!("ops = {}", if self.channel() { "received" } else { "WORKERS * ITERATIONS" }));
        body.push("rate = ops / seconds if seconds > 0 else 0.0".to_string());
        let times = if p.iterations == 1 { "once".to_string() } else { format!("{} times", p.iterations) };
        let how = format!(
            "{} processes each apply {} {times} to a {}, {}",
            p.workers,
            self.operation_words(),
            self.short_type(),
            self.backend.how
        );
        body.push(format!("print(NAME + \": \" + {})", string(&how)));
        body.extend(self.verdict_lines());
        main_block(&body)
    }
}

impl Py<'_> {
    /// The final value, its check, the time and speed, and the `RESULT` line: what both engines'
    /// programs print last.
    pub(super) fn verdict_lines(&self) -> Vec<String> {
        let mut body = vec!["print(f\"  final     {show(final)}\")".to_string()];
        if self.exact() {
            let same = if self.ty == ValueType::D {
                "final.hex() == EXPECTED.hex()  # bit for bit"
            } else {
                "final == EXPECTED"
            };
            body.push(format!("same = {same}"));
            body.push("print(f\"  expected  {show(EXPECTED)}: {'the same' if same else 'different'}\")".to_string());
        } else {
            body.push("print(\"  expected  \" + CHECK)".to_string());
        }
        body.push(format!(
            "print(f\"  time      {{seconds * 1e3:.3f}} ms from {} to the last worker's end\")",
            self.window_start()
        ));
        body.push("print(f\"  speed     {rate:,.0f} ops/s ({ops} operations applied)\")".to_string());
        let fin = if self.ty == ValueType::D { "as_json(final)" } else { "final" };
        body.push(format!(
            "result = {{\"final\": {fin}, \"work_seconds\": seconds, \"ops\": ops, \"ops_per_second\": rate}}\nprint(\"RESULT \" + json.dumps(result))"
        ));
        body
    }
}

/// `body` as the program's `if __name__ == '__main__':` block.
pub(super) fn main_block(body: &[String]) -> String {
    let lines: Vec<String> =
        body.join("\n").lines().map(|l| if l.is_empty() { String::new() } else { format!("    {l}") }).collect();
    format!("if __name__ == '__main__':\n{}", lines.join("\n"))
}
