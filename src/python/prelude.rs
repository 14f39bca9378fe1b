//! Runner's arithmetic as Python functions, and the helpers the worker and `__main__` share.

use super::*;

impl Py<'_> {
    /// The type's conversions and the operation, as functions.
    pub(super) fn arithmetic(&self) -> Vec<String> {
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
    pub(super) fn helpers(&self) -> Vec<String> {
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
            defs.push(if self.together() {
                format!(
                    "def pin(index, start):\n    \"\"\"Runs worker index on its CPU; if it cannot, breaks the barrier so that no one waits.\"\"\"\n    {cpu}\n    try:\n        os.sched_setaffinity(0, {{cpu}})\n    except OSError:\n        start.abort()\n        raise"
                )
            } else {
                format!("def pin(index):\n    \"\"\"Runs worker index on its CPU.\"\"\"\n    {cpu}\n    os.sched_setaffinity(0, {{cpu}})")
            });
        }
        defs
    }

    /// The worker's parameters after `index`, also the tuple the parent passes.
    pub(super) fn shared(&self) -> String {
        let mut names = vec![if self.channel() { "queue" } else { "v" }];
        if self.together() {
            names.push("start");
        }
        names.extend(["started", "ended"]);
        if self.ordered() {
            names.extend(["turn", "turn_changed"]);
        }
        names.join(", ")
    }

    /// Where the timed window opens.
    pub(super) fn window_start(&self) -> &'static str {
        if self.together() { "the barrier's release" } else { "the first worker's start" }
    }
}
