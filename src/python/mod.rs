//! The Python program equivalent to a job: `multiprocessing` with the fork start method, written
//! the way the tutorial writes it (`Value`, `Process`, `with v.get_lock():`), with runner's exact
//! arithmetic spelled out, since Python's own differs (its ints never overflow, a `c` value has no
//! arithmetic, `min` of doubles ignores the sign of zero).
//!
//! Owns: the text of the program (a few sections, each a small template) and Python literals for
//! values. Does not own: running the program or judging its result (see [`compare`]).

pub mod compare;

use crate::expect::Check;
use crate::plan::{PinPlan, Plan};
use crate::spec::Schedule;
use crate::sync::BackendKind;
use crate::value::{OpKind, Value, ValueType};

/// Why an `atomic` job has no program.
pub const NO_ATOMIC: &str =
    "atomic has no Python equivalent: multiprocessing offers no lock-free atomic; use mutex (get_lock) to compare";

/// Width of the header's comment lines.
const WIDTH: usize = 96;

/// The Python 3 program equivalent to `plan`. Its last line of output is `RESULT {json}` with
/// `final`, `work_seconds`, `ops` and `ops_per_second`.
pub fn program(plan: &Plan) -> Result<String, String> {
    if plan.backend == BackendKind::Atomic {
        return Err(NO_ATOMIC.to_string());
    }
    let py = Py { plan, ty: plan.value_type() };
    let top = [py.header(), py.imports(), py.constants()].join("\n\n");
    let mut defs = py.arithmetic();
    defs.extend(py.helpers());
    defs.push(py.worker());
    defs.push(py.main());
    Ok(format!("{top}\n\n\n{}\n", defs.join("\n\n\n")))
}

/// A Python literal for a value of the job's type: a double as the shortest text that reads back
/// to the same bits (Python parses it correctly rounded, as Rust prints it), a byte as its code.
pub fn literal(v: Value) -> String {
    match v {
        Value::I(x) => x.to_string(),
        Value::C(x) => x.to_string(),
        Value::D(x) if x.is_nan() => "float('nan')".to_string(),
        Value::D(x) if x.is_infinite() => if x > 0.0 { "float('inf')" } else { "float('-inf')" }.to_string(),
        Value::D(x) => format!("{x:?}"),
    }
}

/// The value's initial contents as `Value()` takes them: a byte as a `bytes` literal.
fn initial_literal(v: Value) -> String {
    match v {
        Value::C(b) => {
            let shown = match b {
                b'\'' | b'\\' => format!("\\{}", b as char),
                0x20..=0x7e => (b as char).to_string(),
                _ => format!("\\x{b:02x}"),
            };
            format!("b'{shown}'")
        }
        other => literal(other),
    }
}

/// A Python string literal (a JSON string is one).
fn string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// `text` as `# ` comment lines of at most [`WIDTH`] characters.
fn comment(text: &str) -> String {
    let mut lines = Vec::new();
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() + 1 + word.len() > WIDTH && line != "#" {
            lines.push(std::mem::replace(&mut line, String::from("#")));
        }
        line.push(' ');
        line.push_str(word);
    }
    lines.push(line);
    lines.join("\n")
}

struct Py<'a> {
    plan: &'a Plan,
    ty: ValueType,
}

impl Py<'_> {
    fn channel(&self) -> bool {
        self.plan.backend == BackendKind::Channel
    }

    fn ordered(&self) -> bool {
        self.plan.schedule != Schedule::Concurrent
    }

    fn exact(&self) -> bool {
        self.plan.check == Check::Exact
    }

    fn short_type(&self) -> &'static str {
        match self.ty {
            ValueType::I => "C int",
            ValueType::D => "C double",
            ValueType::C => "C char",
        }
    }

    fn type_words(&self) -> &'static str {
        match self.ty {
            ValueType::I => "C int (32-bit two's complement, wrapping)",
            ValueType::D => "C double",
            ValueType::C => "C char (one byte, read as an unsigned 0..255)",
        }
    }

    /// `` `add 1` ``, or `` `add` with its own operand `` with per-worker operands.
    fn operation_words(&self) -> String {
        match &self.plan.operands {
            Some(_) => format!("`{}` with its own operand (OPERANDS[index])", self.plan.operation.kind.name()),
            None => format!("`{} {}`", self.plan.operation.kind.name(), literal(self.plan.operation.operand)),
        }
    }

    /// Where the value's update happens, in a few words.
    fn backend_words(&self) -> String {
        match self.plan.backend {
            BackendKind::Mutex => "under the value's lock (`with v.get_lock():`), so no update is lost".to_string(),
            BackendKind::None => "with no lock (a Value made with lock=False, as runner's none backend), so concurrent updates can be lost".to_string(),
            _ => format!(
                "without touching the value: each worker puts its operations on a queue, {} to a message, and the parent, which owns the value, applies them in arrival order",
                self.plan.batch
            ),
        }
    }

    fn header(&self) -> String {
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
        what.push_str(match p.schedule {
            Schedule::Concurrent => "The workers start together at a barrier and run at once.",
            Schedule::Sequential => {
                "The workers start at a barrier, then run one after another: worker k waits for worker k-1 to finish (schedule: sequential)."
            }
            Schedule::RoundRobin if self.channel() => {
                "The workers start at a barrier, then take turns, one message each: worker 0, 1, ..., N-1, 0, ... (schedule: round-robin)."
            }
            Schedule::RoundRobin => {
                "The workers start at a barrier, then take turns, one operation each: worker 0, 1, ..., N-1, 0, ... (schedule: round-robin)."
            }
        });
        if !p.work.is_none() {
            let inside = match p.backend {
                BackendKind::Mutex => "inside the lock",
                BackendKind::None => "between the read and the write",
                _ => "before sending",
            };
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
        let verdict = if self.exact() {
            format!("runner's planner computed the final value {}.", p.expected)
        } else {
            format!("The final value depends on the order of the operations: runner accepts {}.", p.check.describe())
        };
        let mut how = verdict;
        if p.backend == BackendKind::None {
            how.push_str(" Without the lock a different value means lost updates.");
        }
        if p.repeat > 1 || p.warmup > 0 {
            how.push_str(&format!(
                " runner runs this job {} times (after {} warm-up runs); this program runs it once.",
                p.repeat, p.warmup
            ));
        }
        parts.push("#".to_string());
        parts.push(comment(&how));
        parts.push("#".to_string());
        parts.push(comment(
            "The fork start method, as runner forks its workers. The last line printed is `RESULT {json}` (final, work_seconds, ops, ops_per_second): what `runner compare-python` reads.",
        ));
        parts.join("\n")
    }

    fn imports(&self) -> String {
        let mut modules = vec!["json", "multiprocessing", "sys", "time"];
        if self.ty == ValueType::D {
            modules.push("math");
        }
        if self.plan.pin.is_some() {
            modules.push("os");
        }
        modules.sort();
        let mut names = vec!["Array", "Barrier", "Process", "Value"];
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
    fn queue(&self) -> &'static str {
        if self.ordered() { "SimpleQueue" } else { "Queue" }
    }

    fn constants(&self) -> String {
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
            lines.push(format!("BATCH = {}  # operations per message", p.batch));
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

    /// The type's conversions and the operation, as functions.
    fn arithmetic(&self) -> Vec<String> {
        let kind = self.plan.operation.kind;
        let expr = match (self.ty, kind) {
            (ValueType::D, OpKind::Add) => "x + a",
            (ValueType::D, OpKind::Sub) => "x - a",
            (ValueType::D, OpKind::Mul) => "x * a",
            (ValueType::D, OpKind::Min) => "minimum(x, a)",
            (ValueType::D, OpKind::Max) => "maximum(x, a)",
            (_, OpKind::Add) => "x + a",
            (_, OpKind::Sub) => "x - a",
            (_, OpKind::Mul) => "x * a",
            (_, OpKind::Min) => "min(x, a)",
            (_, OpKind::Max) => "max(x, a)",
            (_, OpKind::And) => "x & a",
            (_, OpKind::Or) => "x | a",
            (_, OpKind::Xor) => "x ^ a",
            (_, OpKind::Set) => "a",
        };
        let mut defs = Vec::new();
        let body = match self.ty {
            ValueType::I => {
                defs.push(
                    "def to_int(x):\n    \"\"\"x as a C int holds it: wrapped to 32-bit two's complement (Python's ints never\n    overflow; C's arithmetic wraps).\"\"\"\n    return (x + 2**31) % 2**32 - 2**31"
                        .to_string(),
                );
                format!("to_int({expr})")
            }
            ValueType::C => {
                defs.push(
                    "# A 'c' Value holds bytes of length 1 (a C char), and Python defines no arithmetic on it:\n# this program reads it as an int 0..255 (ord), applies runner's rules (wrapping modulo 256,\n# unsigned min and max) and writes one byte back (bytes([x])).\ndef to_byte(x):\n    \"\"\"x wrapped modulo 256, as an unsigned char holds it.\"\"\"\n    return x % 256"
                        .to_string(),
                );
                format!("to_byte({expr})")
            }
            ValueType::D => {
                match kind {
                    OpKind::Min => defs.push(
                        "def minimum(x, y):\n    \"\"\"IEEE 754-2019 minimum: -0.0 is below +0.0 and NaN propagates (Python's min does\n    neither).\"\"\"\n    if math.isnan(x) or math.isnan(y):\n        return math.nan\n    if x == y:\n        return x if math.copysign(1.0, x) < 0 else y\n    return x if x < y else y"
                            .to_string(),
                    ),
                    OpKind::Max => defs.push(
                        "def maximum(x, y):\n    \"\"\"IEEE 754-2019 maximum: +0.0 is above -0.0 and NaN propagates (Python's max does\n    neither).\"\"\"\n    if math.isnan(x) or math.isnan(y):\n        return math.nan\n    if x == y:\n        return x if math.copysign(1.0, x) > 0 else y\n    return x if x > y else y"
                            .to_string(),
                    ),
                    _ => {}
                }
                expr.to_string()
            }
        };
        defs.push(format!(
            "def apply(x, a):\n    \"\"\"The job's operation, {}, on a {}.\"\"\"\n    return {body}",
            kind.name(),
            self.type_words(),
        ));
        let show = match self.ty {
            ValueType::C => "f\"{bytes([x])!r} ({x})\"",
            _ => "repr(x)",
        };
        defs.push(format!("def show(x):\n    \"\"\"A value as the report shows it.\"\"\"\n    return {show}"));
        if self.ty == ValueType::D {
            defs.push(
                "def as_json(x):\n    \"\"\"A double for JSON, which has no infinities or NaN: those as strings.\"\"\"\n    if math.isnan(x):\n        return \"nan\"\n    if math.isinf(x):\n        return \"inf\" if x > 0 else \"-inf\"\n    return x"
                    .to_string(),
            );
        }
        defs
    }

    /// Busy work, turns and pinning, when the job asks for them.
    fn helpers(&self) -> Vec<String> {
        let mut defs = Vec::new();
        if !self.plan.work.is_none() {
            defs.push(
                "def busy(ns):\n    \"\"\"Busy-waits for ns nanoseconds (the job's work).\"\"\"\n    end = time.perf_counter_ns() + ns\n    while time.perf_counter_ns() < end:\n        pass"
                    .to_string(),
            );
        }
        if self.ordered() {
            defs.push(
                "def wait_turn(turn, turn_changed, mine):\n    \"\"\"Blocks until the shared turn counter reaches mine.\"\"\"\n    with turn_changed:\n        turn_changed.wait_for(lambda: turn.value == mine)"
                    .to_string(),
            );
            defs.push(
                "def pass_turn(turn, turn_changed):\n    \"\"\"Gives the turn to the next in line.\"\"\"\n    with turn_changed:\n        turn.value += 1\n        turn_changed.notify_all()"
                    .to_string(),
            );
        }
        let cpu = match &self.plan.pin {
            None => None,
            Some(PinPlan::Allowed) => Some("cpus = sorted(os.sched_getaffinity(0))\n    cpu = cpus[index % len(cpus)]"),
            Some(PinPlan::Cpus(_)) => Some("cpu = CPUS[index % len(CPUS)]"),
        };
        if let Some(cpu) = cpu {
            defs.push(format!(
                "def pin(index, start):\n    \"\"\"Runs worker index on its CPU; if it cannot, breaks the barrier so that no one waits.\"\"\"\n    {cpu}\n    try:\n        os.sched_setaffinity(0, {{cpu}})\n    except OSError:\n        start.abort()\n        raise"
            ));
        }
        defs
    }

    /// The worker's parameters after `index`, also the tuple the parent passes.
    fn shared(&self) -> &'static str {
        match (self.channel(), self.ordered()) {
            (false, false) => "v, start, started, ended",
            (false, true) => "v, start, started, ended, turn, turn_changed",
            (true, false) => "queue, start, started, ended",
            (true, true) => "queue, start, started, ended, turn, turn_changed",
        }
    }

    fn worker(&self) -> String {
        let p = self.plan;
        let work = !p.work.is_none();
        let round_robin = p.schedule == Schedule::RoundRobin;
        let sequential = p.schedule == Schedule::Sequential;
        let doc = if self.channel() {
            "Worker index: never touches the value; sends its operations to the parent, BATCH to a\n    message, from the barrier on."
        } else {
            "Worker index: applies the operation ITERATIONS times from the barrier on."
        };
        let mut body = vec![format!("\"\"\"{doc}\"\"\"")];
        if p.pin.is_some() {
            body.push("pin(index, start)".to_string());
        }
        body.push(format!("a = {}", if p.operands.is_some() { "OPERANDS[index]" } else { "OPERAND" }));
        body.push("start.wait()  # every worker is ready: the timed window opens".to_string());
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
            match p.backend {
                BackendKind::Mutex => {
                    inner.push("with v.get_lock():".to_string());
                    inner.push(format!("    {update}"));
                    if work {
                        inner.push("    busy(INSIDE_NS)".to_string());
                    }
                }
                _ if work => {
                    inner.push(format!("x = apply({read}, a)"));
                    inner.push("busy(INSIDE_NS)".to_string());
                    inner.push(write.replace("{}", "x"));
                }
                _ => inner.push(format!("{update}  # no lock: another worker's update may be lost")),
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

    fn main(&self) -> String {
        let p = self.plan;
        let tc = self.ty.name();
        let initial = initial_literal(p.initial);
        let mut body = vec!["multiprocessing.set_start_method('fork')".to_string()];
        body.push(match p.backend {
            BackendKind::Mutex => {
                format!("v = Value('{tc}', {initial})  # a {} in shared memory, with its lock", self.short_type())
            }
            BackendKind::None => format!("v = Value('{tc}', {initial}, lock=False)  # no lock (a RawValue)"),
            _ => format!("v = Value('{tc}', {initial}, lock=False)  # only this process, the owner, touches it"),
        });
        if self.channel() {
            body.push(format!("queue = {}()", self.queue()));
        }
        body.push("start = Barrier(WORKERS)  # the workers start together".to_string());
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
            body.push(format!(
                "received = 0\nwhile received < WORKERS * ITERATIONS:\n    message = queue.get()\n    for a in message:  # in arrival order\n        {update}\n    received += len(message)\nowner_end = time.perf_counter_ns()"
            ));
        }
        body.push("for p in workers:\n    p.join()".to_string());
        body.push(
            "failed = [p.exitcode for p in workers if p.exitcode != 0]\nif failed:\n    sys.exit(f\"{len(failed)} of {WORKERS} workers failed (exit codes {failed})\")"
                .to_string(),
        );
        body.push(format!("final = {}", if self.ty == ValueType::C { "ord(v.value)" } else { "v.value" }));
        body.push(format!("end = {}", if self.channel() { "owner_end" } else { "max(ended)" }));
        body.push(
            "seconds = (end - min(started)) / 1e9  # from the barrier's release to the last worker's end".to_string(),
        );
        body.push(format!("ops = {}", if self.channel() { "received" } else { "WORKERS * ITERATIONS" }));
        body.push("rate = ops / seconds if seconds > 0 else 0.0".to_string());
        let times = if p.iterations == 1 { "once".to_string() } else { format!("{} times", p.iterations) };
        let how = format!(
            "{} processes each apply {} {times} to a {}, {}",
            p.workers,
            self.operation_words(),
            self.short_type(),
            match p.backend {
                BackendKind::Mutex => "under its lock",
                BackendKind::None => "with no lock",
                _ => "through a queue to its owner",
            }
        );
        body.push(format!("print(NAME + \": \" + {})", string(&how)));
        body.push("print(f\"  final     {show(final)}\")".to_string());
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
        body.push(
            "print(f\"  time      {seconds * 1e3:.3f} ms from the barrier's release to the last worker's end\")"
                .to_string(),
        );
        body.push("print(f\"  speed     {rate:,.0f} ops/s ({ops} operations applied)\")".to_string());
        let fin = if self.ty == ValueType::D { "as_json(final)" } else { "final" };
        body.push(format!(
            "result = {{\"final\": {fin}, \"work_seconds\": seconds, \"ops\": ops, \"ops_per_second\": rate}}\nprint(\"RESULT \" + json.dumps(result))"
        ));
        let lines: Vec<String> =
            body.join("\n").lines().map(|l| if l.is_empty() { String::new() } else { format!("    {l}") }).collect();
        format!("if __name__ == '__main__':\n{}", lines.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Overrides;
    use crate::spec::{Source, parse};

    /// A plan through the real reader and planner.
    fn plan(yaml: &str) -> Plan {
        let source = Source { label: "t.yaml".to_string(), text: yaml.to_string() };
        let parsed = parse(&source).unwrap().remove(0);
        crate::plan::plan(&parsed.spec, "t.yaml", "t", &Overrides::default(), parsed.found).unwrap()
    }

    const TUTORIAL: &str = "description: A test job.\nworkers: 2\nvalue: {type: i}\noperation: add\nbackend: mutex\n";

    #[test]
    fn doubles_are_literals_that_read_back() {
        assert_eq!(literal(Value::D(0.1)), "0.1");
        assert_eq!(literal(Value::D(1e16)), "1e16");
        assert_eq!(literal(Value::D(-0.0)), "-0.0");
        assert_eq!(literal(Value::D(1.0)), "1.0");
        assert_eq!(literal(Value::D(f64::INFINITY)), "float('inf')");
        assert_eq!(literal(Value::D(f64::NAN)), "float('nan')");
        for x in [0.1, 1e16, 5e-324, f64::MAX, -1.5e-300, 39999.99999969842] {
            let text = literal(Value::D(x));
            assert!(text.contains('.') || text.contains('e'), "{text} is a float in Python");
            assert_eq!(text.parse::<f64>().unwrap().to_bits(), x.to_bits());
        }
    }

    #[test]
    fn bytes_are_bytes_literals() {
        assert_eq!(initial_literal(Value::C(b'a')), "b'a'");
        assert_eq!(initial_literal(Value::C(b'\'')), "b'\\''");
        assert_eq!(initial_literal(Value::C(b'\\')), "b'\\\\'");
        assert_eq!(initial_literal(Value::C(0)), "b'\\x00'");
        assert_eq!(initial_literal(Value::C(255)), "b'\\xff'");
        assert_eq!(literal(Value::C(255)), "255");
    }

    #[test]
    fn comments_wrap() {
        let text = comment(&"word ".repeat(60));
        assert!(text.lines().all(|l| l.starts_with("# ") && l.len() <= WIDTH), "{text}");
    }

    #[test]
    fn atomic_is_refused() {
        let p = plan(&TUTORIAL.replace("mutex", "atomic"));
        assert_eq!(program(&p), Err(NO_ATOMIC.to_string()));
    }

    #[test]
    fn mutex_is_the_tutorial() {
        let text = program(&plan(TUTORIAL)).unwrap();
        for needle in [
            "#!/usr/bin/env python3\n# t: the Python equivalent of runner's job t.yaml",
            "# A test job.",
            "if __name__ == '__main__':\n    multiprocessing.set_start_method('fork')",
            "v = Value('i', 0)",
            "start = Barrier(WORKERS)",
            "        with v.get_lock():\n            v.value = apply(v.value, a)\n",
            "return to_int(x + a)",
            "OPERAND = 1\n",
            "print(\"RESULT \" + json.dumps(result))",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
        }
        assert!(!text.contains("Queue") && !text.contains("busy(") && !text.contains("turn_changed"), "{text}");
    }

    #[test]
    fn none_has_no_lock() {
        let text = program(&plan("workers: 2\nvalue: {type: c}\noperation: add\nbackend: none\n")).unwrap();
        assert!(text.contains("v = Value('c', b'\\x00', lock=False)"), "{text}");
        assert!(text.contains("v.value = bytes([apply(ord(v.value), a)])  # no lock"), "{text}");
        assert!(!text.contains("get_lock():"), "{text}");
    }

    #[test]
    fn channel_sends_batches_to_the_owner() {
        let yaml = "workers: 2\nvalue: {type: d}\noperation: min\noperand: [0.1, 1e16]\nbackend: channel\nbatch: 64\n";
        let text = program(&plan(yaml)).unwrap();
        for needle in [
            "queue = Queue()",
            "BATCH = 64",
            "OPERANDS = [0.1, 1e16]",
            "a = OPERANDS[index]",
            "queue.put((a,) * n)",
            "def minimum(x, y):",
            "return minimum(x, a)",
            "ops = received",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
        }
    }

    #[test]
    fn schedules_take_turns() {
        let yaml = "workers: 2\nvalue: {type: d}\noperation: add\noperand: [0.1, 1e16]\nbackend: channel\nschedule: round-robin\nwork: {inside: 100ns, outside: 200ns}\n";
        let text = program(&plan(yaml)).unwrap();
        for needle in ["SimpleQueue()", "wait_turn(turn, turn_changed, m * WORKERS + index)", "busy(INSIDE_NS * n)"] {
            assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
        }
        let yaml = yaml.replace("channel", "mutex").replace("round-robin", "sequential");
        let text = program(&plan(&yaml)).unwrap();
        assert!(text.contains("    wait_turn(turn, turn_changed, index)  # worker k runs after worker k-1"), "{text}");
        assert!(text.contains("            busy(INSIDE_NS)\n"), "{text}");
    }
}
