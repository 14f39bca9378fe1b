//! A Redis job's worker function and `__main__` block: connect, store the initial value, fork,
//! apply, collect, read the final value, delete the keys, print.

use super::*;
use crate::value::OpKind;

impl Redis<'_> {
    /// The worker's parameters after `index`, also the tuple the parent passes.
    fn shared(&self) -> String {
        let mut names = Vec::new();
        if self.py.together() {
            names.push("start");
        }
        names.extend(["started", "ended"]);
        if self.py.ordered() {
            names.extend(["turn", "turn_changed"]);
        }
        names.join(", ")
    }

    /// What a worker makes before its first operation.
    fn prepare(&self) -> Vec<String> {
        let mut lines = Vec::new();
        match self.kind {
            BackendKind::Atomic if self.fast => lines.push(format!(
                "delta = {}  # INCRBY's increment of one operation",
                if self.py.plan.operation.kind == OpKind::Sub { "-a" } else { "a" }
            )),
            BackendKind::Atomic if self.pipeline() > 1 => {
                lines.push("ab = encode(a)".to_string());
                lines.push("sha = r.script_load(SCRIPT)".to_string());
            }
            BackendKind::Atomic => {
                lines.push("ab = encode(a)".to_string());
                lines.push("apply_op = r.register_script(SCRIPT)  # EVALSHA (EVAL once if not cached)".to_string());
            }
            BackendKind::Mutex => {
                lines.push("acquire = r.register_script(ACQUIRE)".to_string());
                lines.push("write_release = r.register_script(WRITE_RELEASE)".to_string());
            }
            BackendKind::Channel => lines.push("ab = encode(a)".to_string()),
            BackendKind::None => {}
        }
        lines
    }

    /// One operation's lines (in the loop over `k`, the operation's index).
    fn one(&self) -> Vec<String> {
        let work = !self.py.plan.work.is_none();
        let mut lines = Vec::new();
        match self.kind {
            BackendKind::Atomic => {
                if work {
                    lines.push("busy(INSIDE_NS)".to_string());
                }
                lines.push(if self.fast {
                    "r.incrby(COUNT, delta)".to_string()
                } else {
                    "apply_op(keys=[VALUE, SEQS, REFUSED], args=[ab, index, k + 1])  # k + 1: the sequence number"
                        .to_string()
                });
            }
            BackendKind::Mutex => {
                lines.push(
                    "while True:  # a write refused as stale (the lease ran out) is done again under a new token"
                        .to_string(),
                );
                lines.push("    token, xb = take(acquire)".to_string());
                lines.push("    x = apply(decode(xb), a)".to_string());
                if work {
                    lines.push("    busy(INSIDE_NS)".to_string());
                }
                lines.push(
                    "    if write_release(keys=[VALUE, LOCK, REFUSED, FENCED], args=[encode(x), token, FENCING, index]):\n        break"
                        .to_string(),
                );
            }
            BackendKind::None => {
                lines.push("x = apply(decode(r.get(VALUE)), a)".to_string());
                if work {
                    lines.push("busy(INSIDE_NS)".to_string());
                }
                lines.push(
                    "r.set(VALUE, encode(x), keepttl=True)  # no lock: another worker's update may be lost".to_string(),
                );
            }
            BackendKind::Channel => {}
        }
        lines
    }

    /// The worker's loop over its operations.
    fn operations(&self) -> Vec<String> {
        let work = !self.py.plan.work.is_none();
        let round_robin = self.py.plan.schedule == Schedule::RoundRobin;
        let mut body = Vec::new();
        let mut inner = Vec::new();
        if self.pipeline() > 1 {
            body.push("for first in range(0, ITERATIONS, PIPELINE):".to_string());
            inner.push("pipe = r.pipeline(transaction=False)  # sent at once, the replies read after".to_string());
            inner.push("for i in range(min(PIPELINE, ITERATIONS - first)):".to_string());
            inner.push(if self.fast {
                "    pipe.incrby(COUNT, delta)".to_string()
            } else {
                "    pipe.evalsha(sha, 3, VALUE, SEQS, REFUSED, ab, index, first + i + 1)".to_string()
            });
            inner.push("pipe.execute()".to_string());
        } else if self.kind == BackendKind::Channel {
            body.push(
                if round_robin {
                    "for m, first in enumerate(range(0, ITERATIONS, BATCH)):"
                } else {
                    "for first in range(0, ITERATIONS, BATCH):"
                }
                .to_string(),
            );
            inner.push("n = min(BATCH, ITERATIONS - first)".to_string());
            if round_robin {
                inner.push("wait_turn(turn, turn_changed, m * WORKERS + index)".to_string());
            }
            if work {
                inner.push("busy(INSIDE_NS * n)".to_string());
            }
            inner.push(
                "r.xadd(STREAM, {\"w\": index, \"s\": first, \"n\": n, \"o\": ab})  # one entry: n operations"
                    .to_string(),
            );
            if round_robin {
                inner.push("pass_turn(turn, turn_changed)".to_string());
            }
            if work {
                inner.push("busy(OUTSIDE_NS * n)".to_string());
            }
        } else {
            body.push("for k in range(ITERATIONS):".to_string());
            if round_robin {
                inner.push("wait_turn(turn, turn_changed, k * WORKERS + index)".to_string());
            }
            inner.extend(self.one());
            if round_robin {
                inner.push("pass_turn(turn, turn_changed)".to_string());
            }
            if work {
                inner.push("busy(OUTSIDE_NS)".to_string());
            }
        }
        body.extend(inner.join("\n").lines().map(|l| format!("    {l}")));
        body
    }

    pub(super) fn worker(&self) -> String {
        let p = self.py.plan;
        let from = if self.py.together() { "from the barrier on" } else { "as soon as it starts" };
        let mut body = vec![format!(
            "\"\"\"Worker index: connects to Redis, then applies its ITERATIONS operations {from}.\"\"\""
        )];
        body.push("r = connect()".to_string());
        if p.pin.is_some() {
            body.push(if self.py.together() { "pin(index, start)" } else { "pin(index)" }.to_string());
        }
        body.push(format!("a = {}", if p.operands.is_some() { "OPERANDS[index]" } else { "OPERAND" }));
        body.extend(self.prepare());
        if self.py.together() {
            body.push("start.wait()  # every worker is ready: the timed window opens".to_string());
        }
        if p.schedule == Schedule::Sequential {
            body.push("wait_turn(turn, turn_changed, index)  # worker k runs after worker k-1".to_string());
        }
        body.push("started[index] = time.perf_counter_ns()".to_string());
        body.extend(self.operations());
        body.push("ended[index] = time.perf_counter_ns()".to_string());
        if p.schedule == Schedule::Sequential {
            body.push("pass_turn(turn, turn_changed)".to_string());
        }
        let body: Vec<String> = body.join("\n").lines().map(|l| format!("    {l}")).collect();
        let mut out = String::new();
        if self.kind == BackendKind::Mutex {
            out.push_str("def take(acquire):\n    \"\"\"Takes the lock, waiting while another holds it: a new fencing token and the value's bytes.\"\"\"\n    wait = 20e-6\n    while True:\n        token, xb = acquire(keys=[LOCK, FENCE, VALUE], args=[LEASE_MS])\n        if token > 0:\n            return token, xb\n        time.sleep(wait)\n        wait = min(wait * 2, 0.001)\n\n\n");
        }
        out.push_str(&format!("def worker(index, {}):\n{}", self.shared(), body.join("\n")));
        out
    }

    /// The channel's owner: reads the stream and applies its entries in order.
    fn owner(&self) -> String {
        "value = decode(r.get(VALUE))  # the owner's copy, from the initial value\nlast, received = \"0-0\", 0\nwhile received < WORKERS * ITERATIONS:\n    ended_all = all(p.exitcode is not None for p in workers)  # before the read: what they sent is in it\n    reply = r.xread({STREAM: last}, count=4096, block=10)\n    if not reply:\n        if ended_all:  # a worker failed before sending all its operations\n            break\n        continue\n    for _, entries in reply:\n        for entry, fields in entries:  # in the stream's order\n            n, a = int(fields[b\"n\"]), decode(fields[b\"o\"])\n            for _ in range(n):\n                value = apply(value, a)\n            received += n\n            last = entry\nowner_end = time.perf_counter_ns()".to_string()
    }

    /// The final value, read (and the INCRBY count added) while the keys exist.
    fn read_final(&self) -> String {
        if self.kind == BackendKind::Channel {
            return "final = value".to_string();
        }
        let mut s = "final = decode(r.get(VALUE))".to_string();
        if self.fast {
            let reduce = if self.py.ty == ValueType::C { "to_byte" } else { "to_int" };
            s.push_str(&format!(
                "\nfinal = {reduce}(final + int(r.get(COUNT) or 0))  # the workers' count, wrapped as the type does"
            ));
        }
        s
    }

    pub(super) fn main(&self) -> String {
        let p = self.py.plan;
        let channel = self.kind == BackendKind::Channel;
        let mut run = Vec::new();
        if self.py.together() {
            run.push("start = Barrier(WORKERS)  # the workers start together".to_string());
        }
        if self.py.ordered() {
            run.push("turn = Value('q', 0)  # whose turn it is\nturn_changed = Condition(turn.get_lock())".to_string());
        }
        run.push("started = Array('q', WORKERS, lock=False)  # time.perf_counter_ns() at each worker's start\nended = Array('q', WORKERS, lock=False)  # and at its end".to_string());
        run.push(format!("shared = ({},)", self.shared()));
        run.push("workers = [Process(target=worker, args=(i, *shared)) for i in range(WORKERS)]\nfor p in workers:\n    p.start()".to_string());
        if channel {
            run.push(self.owner());
        }
        run.push("for p in workers:\n    p.join()\nfailed = [p.exitcode for p in workers if p.exitcode != 0]\nif failed:\n    sys.exit(f\"{len(failed)} of {WORKERS} workers failed (exit codes {failed})\")".to_string());
        run.push(self.read_final());
        let run: Vec<String> = run.join("\n").lines().map(|l| format!("    {l}")).collect();
        let mut body = vec![
            "multiprocessing.set_start_method('fork')".to_string(),
            "r = connect()".to_string(),
            "r.delete(*KEYS)".to_string(),
            "r.set(VALUE, encode(INITIAL), px=EXPIRY_MS)  # the initial value, as runner stores it".to_string(),
            format!(
                "try:\n{}\nfinally:\n    r.delete(*KEYS)  # the run's keys, as runner deletes its own",
                run.join("\n")
            ),
        ];
        body.push(format!("end = {}", if channel { "owner_end" } else { "max(ended)" }));
        body.push(format!(
            "seconds = (end - min(started)) / 1e9  # from {} to the last worker's end",
            self.py.window_start()
        ));
        body.push(format!("ops = {}", if channel { "received" } else { "WORKERS * ITERATIONS" }));
        body.push("rate = ops / seconds if seconds > 0 else 0.0".to_string());
        let times = if p.iterations == 1 { "once".to_string() } else { format!("{} times", p.iterations) };
        let how = match self.kind {
            BackendKind::Atomic if self.fast => "with INCRBY on a count in Redis",
            BackendKind::Atomic => "atomically in Redis (runner's script)",
            BackendKind::Mutex => "under a Redis lock with a fencing token",
            BackendKind::None => "in Redis with GET then SET, no lock",
            BackendKind::Channel => "through a Redis stream to its owner",
        };
        let how = format!(
            "{} processes each apply {} {times} to a {}, {how}",
            p.workers,
            self.py.operation_words(),
            self.py.short_type()
        );
        body.push(format!("print(NAME + \": \" + {})", string(&how)));
        body.extend(self.py.verdict_lines());
        super::super::body::main_block(&body)
    }
}
