//! Property tests of the loader, `runner::plan_text`, on generated job files: documents built
//! from random subsets of the real fields, with valid and out-of-range values, wrong kinds of
//! node, misspelt keys and small matrices, in block and flow style.
//!
//! What holds for every document: planning returns (never panics), an error has at least one
//! diagnostic, and every diagnostic has a message and, when it has a position, one inside the
//! text (line and column from 1, the line at most the text's). What holds for the documents built
//! from valid values only: they plan, one plan per matrix cell, with the fields they were built
//! with. One value made invalid, or one key misspelt, gives a diagnostic that names that field.
//!
//! Documents are built from a tape of random numbers (zero is the simplest choice: an optional
//! field left out, the first value of a list), so that proptest shrinks a failure to a short
//! document. The fuzz target (fuzz/fuzz_targets/load.rs) covers arbitrary bytes.

use proptest::prelude::*;
use proptest::test_runner::Config;

use runner::error::Diagnostic;
use runner::plan::Plan;
use runner::spec::{FAULT_FIELDS, JOB_FIELDS, TRACE_FIELDS, VALUE_FIELDS};

const LABEL: &str = "job.yaml";
const WORK_FIELDS: [&str; 2] = ["inside", "outside"];

fn config() -> Config {
    // Enough cases to find a broken rule, few enough to run in a few seconds on two cores
    // (`PROPTEST_CASES=100000` for a soak). A failure prints the shrunk document; nothing is
    // written next to the tests.
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256);
    Config { cases, failure_persistence: None, ..Config::default() }
}

/// The random choices a document is built from.
struct Tape {
    values: Vec<u32>,
    next: usize,
}

impl Tape {
    fn new(values: Vec<u32>) -> Tape {
        Tape { values, next: 0 }
    }

    /// The next number; 0 once the tape runs out.
    fn draw(&mut self) -> u32 {
        let v = self.values.get(self.next).copied().unwrap_or(0);
        self.next += 1;
        v
    }

    fn below(&mut self, n: usize) -> usize {
        self.draw() as usize % n
    }

    /// True one time in `n` (never on a zero draw, so that shrinking leaves things out).
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == n - 1
    }

    fn maybe(&mut self) -> bool {
        self.one_in(2)
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}

fn tape() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(any::<u32>(), 160)
}

/// A YAML node to write: scalars verbatim, collections in flow or block style.
#[derive(Clone, Debug)]
enum Y {
    S(String),
    L(Vec<Y>),
    M(Vec<(String, Y)>),
}

fn s(text: impl Into<String>) -> Y {
    Y::S(text.into())
}

impl Y {
    fn flow(&self) -> String {
        match self {
            Y::S(text) => text.clone(),
            Y::L(items) => format!("[{}]", items.iter().map(Y::flow).collect::<Vec<_>>().join(", ")),
            Y::M(entries) => {
                format!(
                    "{{{}}}",
                    entries.iter().map(|(k, v)| format!("{k}: {}", v.flow())).collect::<Vec<_>>().join(", ")
                )
            }
        }
    }
}

/// A job document: the top-level entries in order, written in block style, with nested
/// mappings and lists in block style too when `block` is set (else in flow style).
#[derive(Clone)]
struct Doc {
    entries: Vec<(String, Y)>,
    block: bool,
}

/// A failing case shows the document as YAML.
impl std::fmt::Debug for Doc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "\n{}", self.text())
    }
}

impl Doc {
    fn text(&self) -> String {
        let mut out = String::new();
        for (key, value) in &self.entries {
            match value {
                Y::M(entries) if self.block && !entries.is_empty() => {
                    out += &format!("{key}:\n");
                    for (k, v) in entries {
                        out += &format!("  {k}: {}\n", v.flow());
                    }
                }
                Y::L(items) if self.block && !items.is_empty() => {
                    out += &format!("{key}:\n");
                    for item in items {
                        out += &format!("  - {}\n", item.flow());
                    }
                }
                _ => out += &format!("{key}: {}\n", value.flow()),
            }
        }
        out
    }

    /// Sets `path` (`work.inside`) to `value`, replacing what was there.
    fn set(&mut self, path: &str, value: Y) {
        let (head, rest) = match path.split_once('.') {
            Some((head, rest)) => (head, Some(rest)),
            None => (path, None),
        };
        let index = match self.entries.iter().position(|(k, _)| k == head) {
            Some(i) => i,
            None => {
                self.entries.push((head.to_string(), Y::M(Vec::new())));
                self.entries.len() - 1
            }
        };
        let slot = &mut self.entries[index].1;
        let Some(rest) = rest else {
            *slot = value;
            return;
        };
        if !matches!(slot, Y::M(_)) {
            *slot = Y::M(Vec::new());
        }
        let Y::M(entries) = slot else { unreachable!("made a mapping above") };
        match entries.iter_mut().find(|(k, _)| k == rest) {
            Some((_, v)) => *v = value,
            None => entries.push((rest.to_string(), value)),
        }
    }

    /// Every key a misspelling can go to: its dotted prefix, the names known there, the key.
    fn keys_mut(&mut self) -> Vec<(String, &'static [&'static str], &mut String)> {
        let mut out: Vec<(String, &'static [&'static str], &mut String)> = Vec::new();
        for (key, value) in self.entries.iter_mut() {
            let nested: Option<(&'static [&'static str], &str)> = match key.as_str() {
                "value" => Some((&VALUE_FIELDS, "value.")),
                "work" => Some((&WORK_FIELDS, "work.")),
                "trace" => Some((&TRACE_FIELDS, "trace.")),
                "faults" => Some((&FAULT_FIELDS, "faults.")),
                _ => None,
            };
            match (nested, value) {
                (Some((known, prefix)), Y::M(entries)) => {
                    out.extend(entries.iter_mut().map(|(k, _)| (prefix.to_string(), known, k)));
                }
                (Some((known, prefix)), Y::L(items)) => {
                    for item in items {
                        if let Y::M(entries) = item {
                            out.extend(entries.iter_mut().map(|(k, _)| (prefix.to_string(), known, k)));
                        }
                    }
                }
                _ => {}
            }
            out.push((String::new(), &JOB_FIELDS, key));
        }
        out
    }
}

/// A document built from valid values only, and what its plans must hold.
#[derive(Clone, Debug)]
struct Valid {
    doc: Doc,
    /// `(workers, backend)` of each matrix cell, in the matrix's order; one without a matrix.
    cells: Vec<(u64, &'static str)>,
    iterations: u64,
    ty: &'static str,
    schedule: &'static str,
    /// Written for a channel job (no matrix over backends then).
    batch: Option<u64>,
    /// Written for a channel job, as `batch`.
    transport: Option<&'static str>,
    repeat: u64,
    /// Whether the document writes `repeat` (a matrix of several cells without one runs 10).
    repeat_written: bool,
    warmup: u64,
    name: Option<String>,
    /// Whether the operand is a per-worker list.
    per_worker: bool,
}

/// A literal of a value type: how it is written, and its value as an integer (`i`, `c`).
#[derive(Clone, Copy, Debug)]
struct Lit {
    text: &'static str,
    int: i64,
}

const fn lit(text: &'static str, int: i64) -> Lit {
    Lit { text, int }
}

const I_LITS: [Lit; 9] = [
    lit("0", 0),
    lit("1", 1),
    lit("-1", -1),
    lit("7", 7),
    lit("1000", 1000),
    lit("-65536", -65536),
    lit("2147483647", i32::MAX as i64),
    lit("-2147483648", i32::MIN as i64),
    lit("0x1F", 31),
];
const C_LITS: [Lit; 7] =
    [lit("0", 0), lit("1", 1), lit("97", 97), lit("255", 255), lit("\"a\"", 97), lit("'z'", 122), lit("\"5\"", 53)];
// Doubles far from ±1, so that a product reaches a fixed point fast (see `iterate.rs`); `int`
// is unused for `d`.
const D_LITS: [Lit; 10] = [
    lit("0", 0),
    lit("0.5", 0),
    lit("1.5", 0),
    lit("-2.0", 0),
    lit("0.1", 0),
    lit("2", 0),
    lit("-0.0", 0),
    lit("1e3", 0),
    lit("0.25", 0),
    lit("100", 0),
];
const BACKENDS: [&str; 4] = ["mutex", "atomic", "channel", "none"];
const SCHEDULES: [&str; 3] = ["concurrent", "sequential", "round-robin"];
const DURATIONS: [&str; 7] = ["0", "200ns", "50ns", "1us", "1µs", "1.5ms", "1s"];
const TIMEOUTS: [&str; 5] = ["30s", "500ms", "2m", "10", "0.5"];
const ACTIONS: [&str; 4] = ["kill", "panic", "exit", "stall"];
const OUTCOMES: [&str; 4] = ["recovered", "deadline", "worker_failed", "fork_failed"];

fn lits(ty: &str) -> &'static [Lit] {
    match ty {
        "i" => &I_LITS,
        "c" => &C_LITS,
        _ => &D_LITS,
    }
}

fn word(t: &mut Tape) -> String {
    let len = 1 + t.below(8);
    (0..len).map(|_| (b'a' + t.below(26) as u8) as char).collect()
}

/// A job built from valid values only.
fn valid(t: &mut Tape, allow_matrix: bool) -> Valid {
    let ty = t.pick(&["i", "d", "c"]);
    let backend = t.pick(&BACKENDS);
    let ops: &[&str] = if ty == "d" {
        &["add", "sub", "mul", "min", "max", "set"]
    } else {
        &["add", "sub", "mul", "min", "max", "and", "or", "xor", "set"]
    };
    let operation = t.pick(ops);

    // A matrix over backends and/or workers, in either order.
    let mut backend_axis: Option<Vec<&'static str>> = None;
    let mut workers_axis: Option<Vec<u64>> = None;
    if allow_matrix && t.one_in(3) {
        if t.maybe() {
            let mut list: Vec<&'static str> = Vec::new();
            for _ in 0..1 + t.below(3) {
                let b = t.pick(&BACKENDS);
                if !list.contains(&b) {
                    list.push(b);
                }
            }
            backend_axis = Some(list);
        }
        if backend_axis.is_none() || t.maybe() {
            let mut list: Vec<u64> = Vec::new();
            for _ in 0..1 + t.below(3) {
                let w = 1 + t.below(8) as u64;
                if !list.contains(&w) {
                    list.push(w);
                }
            }
            workers_axis = Some(list);
        }
    }

    let per_worker = workers_axis.is_none() && t.one_in(3);
    let workers = match t.below(8) {
        _ if per_worker => 1 + t.below(8) as u64,
        6 => 1024,
        7 => 100,
        n => 1 + n as u64,
    };
    let fewest = workers_axis.as_ref().map_or(workers, |w| w.iter().copied().min().unwrap_or(1).min(workers));
    let iterations = match t.below(6) {
        // Order-dependent lists under round-robin are computed one operation at a time.
        _ if per_worker => Some(t.pick(&[1, 2, 10, 1000])),
        1 => Some(2),
        2 => Some(10),
        3 => Some(1000),
        4 => Some(1_000_000),
        5 => Some(1_000_000_000_000),
        _ => None,
    };
    let m = iterations.unwrap_or(1);

    let mut doc = Doc { entries: Vec::new(), block: t.maybe() };
    let mut name = None;
    if t.maybe() {
        let n = word(t);
        doc.entries.push(("name".into(), s(format!("\"{n}\""))));
        name = Some(n);
    }
    if t.maybe() {
        doc.entries.push(("description".into(), s(format!("\"{} {}\"", word(t), word(t)))));
    }
    doc.entries.push(("workers".into(), s(workers.to_string())));
    if let Some(m) = iterations {
        doc.entries.push(("iterations".into(), s(m.to_string())));
    }
    let initial = if t.maybe() { Some(t.pick(lits(ty))) } else { None };
    let mut value = vec![("type".to_string(), s(ty))];
    if let Some(l) = initial {
        value.push(("initial".into(), s(l.text)));
    }
    if t.maybe() {
        value.reverse();
    }
    doc.entries.push(("value".into(), Y::M(value)));
    doc.entries.push(("operation".into(), s(operation)));

    let optional = matches!(operation, "add" | "sub");
    let mut operand = None;
    if per_worker {
        let list: Vec<Y> = (0..workers).map(|_| s(t.pick(lits(ty)).text)).collect();
        doc.entries.push(("operand".into(), Y::L(list)));
    } else if !optional || t.maybe() {
        let l = t.pick(lits(ty));
        operand = Some(l);
        doc.entries.push(("operand".into(), s(l.text)));
    }
    doc.entries.push(("backend".into(), s(backend)));

    // A product of per-worker doubles in any order may overflow: fix the order.
    let schedule = if per_worker && ty == "d" && operation == "mul" {
        t.pick(&["sequential", "round-robin"])
    } else if t.maybe() {
        t.pick(&SCHEDULES)
    } else {
        "concurrent"
    };
    if schedule != "concurrent" || t.maybe() {
        doc.entries.push(("schedule".into(), s(schedule)));
    }
    let mut batch = None;
    if backend == "channel" && backend_axis.is_none() && t.maybe() {
        let b = if schedule == "round-robin" { 1 } else { t.pick(&[1, 8, 64, 65536]) };
        doc.entries.push(("batch".into(), s(b.to_string())));
        batch = Some(b);
    }
    let mut transport = None;
    if backend == "channel" && backend_axis.is_none() && t.maybe() {
        let name = t.pick(&["ipc", "pipe"]);
        doc.entries.push(("transport".into(), s(name)));
        transport = Some(name);
    }
    if t.maybe() {
        let mut work = Vec::new();
        if t.maybe() {
            work.push(("inside".to_string(), s(t.pick(&DURATIONS))));
        }
        if t.maybe() {
            work.push(("outside".to_string(), s(t.pick(&DURATIONS))));
        }
        doc.entries.push(("work".into(), Y::M(work)));
    }
    if t.maybe() {
        doc.entries.push(("timeout".into(), s(t.pick(&TIMEOUTS))));
    }
    let repeat = if t.maybe() { t.pick(&[1, 2, 5, 1000]) } else { 1 };
    let repeat_written = repeat != 1 || t.one_in(4);
    if repeat_written {
        doc.entries.push(("repeat".into(), s(repeat.to_string())));
    }
    let warmup = if t.maybe() { t.pick(&[0, 1, 100]) } else { 0 };
    if warmup != 0 || t.one_in(4) {
        doc.entries.push(("warmup".into(), s(warmup.to_string())));
    }
    if t.maybe() {
        let pin = match t.below(3) {
            0 => s("true"),
            1 => s("false"),
            _ => Y::L((0..1 + t.below(3)).map(|_| s(t.pick(&[0, 1, 3, 4095]).to_string())).collect()),
        };
        doc.entries.push(("pin".into(), pin));
    }
    if t.maybe() {
        let mut trace = vec![("file".to_string(), s(format!("{}.json", word(t))))];
        if t.maybe() {
            trace.push(("ops".into(), s(t.pick(&["true", "false"]))));
        }
        doc.entries.push(("trace".into(), Y::M(trace)));
    }
    if t.maybe() {
        let mut faults = Vec::new();
        for worker in 0..fewest.min(1 + t.below(3) as u64) {
            let action = t.pick(&ACTIONS);
            let at = t.below(m.min(1000) as usize + 1) as u64;
            let mut entry = vec![("worker".to_string(), s(worker.to_string())), ("at".into(), s(at.to_string()))];
            entry.push(("action".into(), s(action)));
            if backend == "mutex" && backend_axis.is_none() && at < m && t.maybe() {
                entry.push(("inside_lock".into(), s("true")));
            }
            match action {
                "exit" if t.maybe() => entry.push(("code".into(), s((1 + t.below(255)).to_string()))),
                "stall" if t.maybe() => entry.push(("for".into(), s(t.pick(&["250ms", "1s", "2", "1m"])))),
                _ => {}
            }
            faults.push(Y::M(entry));
        }
        doc.entries.push(("faults".into(), Y::L(faults)));
    }
    if t.maybe() {
        doc.entries.push(("fork_fail_at".into(), s((1 + t.below(fewest as usize)).to_string())));
    }
    if t.maybe() {
        doc.entries.push(("expect_outcome".into(), s(t.pick(&OUTCOMES))));
    }
    if workers_axis.is_none()
        && !per_worker
        && let Some(e) = expected_text(ty, operation, initial, operand, workers * m)
        && t.maybe()
    {
        doc.entries.push(("expect".into(), s(e)));
    }

    let mut cells = vec![(workers, backend)];
    let mut axes = Vec::new();
    if let Some(list) = &backend_axis {
        axes.push(("backend".to_string(), Y::L(list.iter().map(|b| s(*b)).collect())));
    }
    if let Some(list) = &workers_axis {
        axes.push(("workers".to_string(), Y::L(list.iter().map(|w| s(w.to_string())).collect())));
    }
    if !axes.is_empty() {
        if t.maybe() {
            axes.reverse();
        }
        // The cross product, the first axis outermost.
        cells = vec![(workers, backend)];
        for (key, _) in &axes {
            cells = cells
                .iter()
                .flat_map(|&(w, b)| match key.as_str() {
                    "backend" => backend_axis.as_ref().unwrap().iter().map(|&b2| (w, b2)).collect::<Vec<_>>(),
                    _ => workers_axis.as_ref().unwrap().iter().map(|&w2| (w2, b)).collect(),
                })
                .collect();
        }
        doc.entries.push(("matrix".into(), Y::M(axes)));
    }
    // Field order does not matter: move one field to the end.
    if t.maybe() && doc.entries.len() > 1 {
        let i = t.below(doc.entries.len());
        let entry = doc.entries.remove(i);
        doc.entries.push(entry);
    }
    Valid {
        doc,
        cells,
        iterations: m,
        ty,
        schedule,
        batch,
        transport,
        repeat,
        repeat_written,
        warmup,
        name,
        per_worker,
    }
}

/// The final value of `n` applications, written as a literal, for the cases simple to work out
/// here (integers: wrapping add and sub, min, max, set; `set` of any type).
fn expected_text(ty: &str, op: &str, initial: Option<Lit>, operand: Option<Lit>, n: u64) -> Option<String> {
    let x = initial.map_or(0, |l| l.int);
    let a = operand.map_or(1, |l| l.int);
    if op == "set" {
        return operand.map(|l| l.text.to_string());
    }
    let bits: u32 = match ty {
        "i" => 32,
        "c" => 8,
        _ => return None,
    };
    let mask = (1u64 << bits) - 1;
    let (ux, ua) = (x as u64 & mask, a as u64 & mask);
    let k = n & mask;
    let raw = match op {
        "add" => ux.wrapping_add(k.wrapping_mul(ua)) & mask,
        "sub" => ux.wrapping_sub(k.wrapping_mul(ua)) & mask,
        "min" | "max" if ty == "c" => {
            if op == "min" {
                ux.min(ua)
            } else {
                ux.max(ua)
            }
        }
        "min" => return Some(x.min(a).to_string()),
        "max" => return Some(x.max(a).to_string()),
        _ => return None,
    };
    Some(if ty == "i" { (raw as u32 as i32).to_string() } else { raw.to_string() })
}

/// Values for any field: valid somewhere, wrong elsewhere, or wrong everywhere.
const ANY_SCALARS: [&str; 44] = [
    "0",
    "1",
    "-1",
    "5",
    "1024",
    "1025",
    "65537",
    "18446744073709551615",
    "99999999999999999999999999999999999999999",
    "1.5",
    "-0.0",
    ".inf",
    ".nan",
    "1e308",
    "0x1F",
    "true",
    "false",
    "null",
    "~",
    "\"5\"",
    "\"ab\"",
    "\"\"",
    "é",
    "'a'",
    "mutex",
    "mutx",
    "channel",
    "add",
    "xor",
    "i",
    "d",
    "c",
    "200ns",
    "2s",
    "1.5ms",
    "30s",
    "2m",
    "-5s",
    "concurrent",
    "round-robin",
    "kill",
    "stall",
    "recovered",
    "5 parsecs",
];

fn any_scalar(t: &mut Tape) -> Y {
    s(t.pick(&ANY_SCALARS))
}

fn any_node(t: &mut Tape, depth: u32) -> Y {
    match t.below(if depth == 0 { 1 } else { 8 }) {
        5 => Y::L((0..t.below(4)).map(|_| any_node(t, depth - 1)).collect()),
        6 => Y::M((0..t.below(3)).map(|_| (any_key(t), any_node(t, depth - 1))).collect()),
        7 => Y::L(Vec::new()),
        _ => any_scalar(t),
    }
}

fn any_key(t: &mut Tape) -> String {
    match t.below(4) {
        0 => word(t),
        _ => t.pick(&JOB_FIELDS).to_string(),
    }
}

/// A document of random fields (real, misspelt or unknown, sometimes twice) with random values
/// (valid ones for the field, or anything); sometimes a matrix and faults of random content.
fn anything(t: &mut Tape) -> Doc {
    if t.one_in(3) {
        // A valid job with some of its values replaced at random.
        let mut v = valid(t, true);
        for _ in 0..1 + t.below(3) {
            let i = t.below(v.doc.entries.len());
            let node = any_node(t, 2);
            v.doc.entries[i].1 = node;
        }
        return v.doc;
    }
    let mut doc = Doc { entries: Vec::new(), block: t.maybe() };
    for _ in 0..t.below(12) {
        let key = match t.below(10) {
            0 => word(t),
            1 => "matrix".to_string(),
            2 => "faults".to_string(),
            _ => t.pick(&JOB_FIELDS).to_string(),
        };
        let value = match key.as_str() {
            "matrix" => any_matrix(t),
            "faults" if t.below(4) > 0 => Y::L(
                (0..t.below(4))
                    .map(|_| {
                        Y::M((0..t.below(5)).map(|_| (t.pick(&FAULT_FIELDS).to_string(), any_node(t, 1))).collect())
                    })
                    .collect(),
            ),
            "value" if t.maybe() => Y::M(
                (0..t.below(3)).map(|_| (t.pick(&["type", "initial", "tpye"]).to_string(), any_scalar(t))).collect(),
            ),
            "work" if t.maybe() => {
                Y::M((0..t.below(3)).map(|_| (t.pick(&WORK_FIELDS).to_string(), s(t.pick(&DURATIONS)))).collect())
            }
            "operand" if t.maybe() => Y::L((0..t.below(5)).map(|_| any_scalar(t)).collect()),
            _ => any_node(t, 2),
        };
        doc.entries.push((key, value));
    }
    doc
}

/// The keys a matrix may vary (runner's own list), then two special keys and a misspelling.
fn matrix_keys() -> Vec<&'static str> {
    runner::spec::matrix::MATRIX_KEYS.iter().copied().chain(["include", "exclude", "backnd"]).collect()
}

fn any_matrix(t: &mut Tape) -> Y {
    if t.one_in(6) {
        return any_node(t, 1);
    }
    let mut axes = Vec::new();
    for _ in 0..1 + t.below(3) {
        let keys = matrix_keys();
        let key = t.pick(&keys).to_string();
        let value = match key.as_str() {
            "include" | "exclude" => Y::L(
                (0..t.below(3))
                    .map(|_| {
                        Y::M(
                            (0..t.below(3))
                                .map(|_| (t.pick(&runner::spec::matrix::MATRIX_KEYS).to_string(), any_scalar(t)))
                                .collect(),
                        )
                    })
                    .collect(),
            ),
            _ if t.one_in(5) => any_scalar(t),
            _ => Y::L((0..t.below(5)).map(|_| any_node(t, 1)).collect()),
        };
        axes.push((key, value));
    }
    Y::M(axes)
}

/// Lines as YAML counts them (`\n`, `\r\n` and a lone `\r` each end one), plus the last,
/// possibly empty, line: a position may point just past the final line break.
fn line_count(text: &str) -> u64 {
    text.replace("\r\n", "\n").chars().filter(|&c| c == '\n' || c == '\r').count() as u64 + 1
}

/// What every diagnostic of every document must satisfy.
fn check_diagnostics(text: &str, diags: &[Diagnostic]) -> Result<(), TestCaseError> {
    prop_assert!(!diags.is_empty(), "an error without diagnostics");
    let lines = line_count(text);
    for d in diags {
        let rendered = d.to_string();
        prop_assert!(!d.message.trim().is_empty(), "an empty message: {rendered}");
        prop_assert!(rendered.starts_with(LABEL), "{rendered}");
        prop_assert!(rendered.ends_with(&d.message), "{rendered}");
        if let Some(field) = &d.field {
            prop_assert!(!field.is_empty(), "an empty field: {rendered}");
        }
        if let Some(pos) = d.pos {
            prop_assert!(pos.line >= 1 && pos.column >= 1, "a position before 1:1: {rendered}");
            prop_assert!(pos.line <= lines, "line {} of a text of {lines} lines: {rendered}", pos.line);
        }
    }
    Ok(())
}

/// What every plan must satisfy, whatever it was made from.
fn check_plan(plan: &Plan) -> Result<(), TestCaseError> {
    prop_assert!((1..=1024).contains(&plan.workers));
    prop_assert!(plan.iterations >= 1);
    prop_assert!((plan.workers as u64).checked_mul(plan.iterations).is_some());
    prop_assert!((1..=65536).contains(&plan.backend.batch()));
    prop_assert!((1..=1000).contains(&plan.repeat));
    prop_assert!(plan.warmup <= 100);
    if let Some(list) = &plan.operands {
        prop_assert_eq!(list.len() as u64, plan.workers as u64);
    }
    let job = plan.effective_job();
    prop_assert_eq!(job["workers"].as_u64(), Some(plan.workers as u64));
    prop_assert_eq!(job["backend"].as_str(), Some(plan.backend.name()));
    Ok(())
}

/// Plans `text`, checking what holds for any document.
fn plan(text: &str) -> Result<Result<Vec<Plan>, Vec<Diagnostic>>, TestCaseError> {
    let result = runner::plan_text(LABEL, text);
    match &result {
        Ok(plans) => {
            prop_assert!(!plans.is_empty(), "no plan and no diagnostic");
            for p in plans {
                check_plan(p)?;
            }
        }
        Err(diags) => check_diagnostics(text, diags)?,
    }
    Ok(result)
}

/// The Damerau-Levenshtein distance (optimal string alignment), for the did-you-mean check.
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// One edit of `name`: a letter dropped, doubled, replaced or inserted, or two swapped.
fn misspell(t: &mut Tape, name: &str) -> String {
    let mut chars: Vec<char> = name.chars().collect();
    let i = t.below(chars.len());
    let letter = (b'a' + t.below(26) as u8) as char;
    match t.below(4) {
        0 if chars.len() > 1 => {
            chars.remove(i);
        }
        1 if i + 1 < chars.len() && chars[i] != chars[i + 1] => chars.swap(i, i + 1),
        2 if chars[i] != letter => chars[i] = letter,
        _ => chars.insert(i, letter),
    }
    chars.into_iter().collect()
}

/// A valid job with one value made invalid: out of range, or the wrong kind of node.
#[derive(Debug)]
struct Broken {
    doc: Doc,
    field: &'static str,
    bad: &'static str,
}

fn broken(t: &mut Tape) -> Broken {
    let mut v = valid(t, false);
    // Scalars wrong for the type; a list is wrong for `initial` and `expect` only (an operand
    // list gives one operand per worker, and may be right).
    let bad_scalar: &'static [&'static str] = match v.ty {
        "i" => &["2147483648", "1.5", "\"5\""],
        "d" => &[".nan", ".inf", "\"x\"", "9007199254740993"],
        _ => &["256", "-1", "\"ab\"", "1.0", "é"],
    };
    let bad_literal: &'static [&'static str] = match v.ty {
        "i" => &["2147483648", "1.5", "\"5\"", "[1]"],
        "d" => &[".nan", ".inf", "\"x\"", "9007199254740993", "{}"],
        _ => &["256", "-1", "\"ab\"", "1.0", "é", "[97]"],
    };
    let mut choices: Vec<(&'static str, &'static [&'static str])> = vec![
        ("workers", &["0", "1025", "-3", "five", "1.5", "[2]", "null"]),
        ("iterations", &["0", "-1", "x", "1.5", "{}"]),
        ("value.type", &["q", "5", "[i]", "I"]),
        ("value.initial", bad_literal),
        ("backend", &["mutx", "3", "{}", "Mutex"]),
        ("operation", &["plus", "true", "[add]"]),
        ("repeat", &["0", "1001", "-1"]),
        ("warmup", &["101", "-1", "x"]),
        ("schedule", &["random", "1", "round_robin"]),
        ("timeout", &["0", "-1", "fast", "8d", "true"]),
        ("work.inside", &["2s", "5 parsecs", "5", "-1ns"]),
        ("pin", &["7", "[-1]", "[4096]", "[]", "cpu0"]),
        ("trace.file", &["5", "[a]"]),
        ("faults", &["{}", "7", "[7]"]),
        ("description", &["5", "[a]", "true"]),
        ("expect_outcome", &["fine", "1"]),
        ("fork_fail_at", &["0", "1025", "x"]),
        ("expect", bad_literal),
    ];
    if !v.per_worker {
        choices.push(("operand", bad_scalar));
    }
    if v.cells[0].1 == "channel" {
        choices.push(("batch", &["0", "65537", "x"]));
        choices.push(("transport", &["pipes", "socket", "1", "[pipe]"]));
    } else {
        choices.push(("batch", &["4"]));
        choices.push(("transport", &["pipe"]));
    }
    let (field, values) = t.pick(&choices);
    let bad = t.pick(values);
    v.doc.set(field, s(bad));
    Broken { doc: v.doc, field, bad }
}

/// A valid job with one key misspelt by one edit.
#[derive(Debug)]
struct Misspelt {
    doc: Doc,
    /// The dotted path of the misspelt key.
    path: String,
    original: String,
    /// The names known where the key is.
    known: &'static [&'static str],
}

/// `None` when the edit happens to give a name known there.
fn misspelt(t: &mut Tape) -> Option<Misspelt> {
    let mut v = valid(t, true);
    let mut keys = v.doc.keys_mut();
    keys.retain(|(_, _, key)| key.as_str() != "matrix");
    let index = t.below(keys.len());
    let (prefix, known, key) = &mut keys[index];
    let original = key.clone();
    let wrong = misspell(t, &original);
    if known.contains(&wrong.as_str()) || ["null", "true", "false"].contains(&wrong.as_str()) {
        return None;
    }
    let path = format!("{prefix}{wrong}");
    **key = wrong;
    let known = *known;
    Some(Misspelt { doc: v.doc, path, original, known })
}

proptest! {
    #![proptest_config(config())]

    /// Any document: planning returns, and its diagnostics or plans are well formed.
    #[test]
    fn any_document_plans_or_explains(doc in tape().prop_map(|v| anything(&mut Tape::new(v)))) {
        let _ = plan(&doc.text())?;
    }

    /// Valid values only: the job plans, one plan per cell, with the values it was built with.
    #[test]
    fn valid_documents_plan_as_written(v in tape().prop_map(|v| valid(&mut Tape::new(v), true))) {
        let text = v.doc.text();
        let plans = match plan(&text)? {
            Ok(plans) => plans,
            Err(diags) => {
                let lines: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
                return Err(TestCaseError::fail(format!("refused:\n{}", lines.join("\n"))));
            }
        };
        let cells: Vec<(u64, &str)> = plans.iter().map(|p| (p.workers as u64, p.backend.name())).collect();
        prop_assert_eq!(&cells, &v.cells);
        for p in &plans {
            prop_assert_eq!(p.iterations, v.iterations);
            prop_assert_eq!(p.value_type().name(), v.ty);
            prop_assert_eq!(p.schedule.name(), v.schedule);
            let repeat = if !v.repeat_written && v.cells.len() > 1 { 10 } else { v.repeat };
            prop_assert_eq!(p.repeat as u64, repeat);
            prop_assert_eq!(p.warmup as u64, v.warmup);
            let batch = if p.backend.name() == "channel" { v.batch.unwrap_or(1) } else { 1 };
            prop_assert_eq!(p.backend.batch() as u64, batch);
            // A channel with no `transport` goes over a pipe; another backend has none.
            let transport = if p.backend.name() == "channel" { Some(v.transport.unwrap_or("pipe")) } else { None };
            prop_assert_eq!(p.backend.transport().map(|t| t.name()), transport);
            prop_assert_eq!(&p.name, v.name.as_deref().unwrap_or("job"));
            prop_assert_eq!(p.operands.is_some(), v.per_worker);
        }
    }

    /// One value made invalid: the job is refused, with a diagnostic on that field.
    #[test]
    fn one_bad_value_is_named(b in tape().prop_map(|v| broken(&mut Tape::new(v)))) {
        let diags = match plan(&b.doc.text())? {
            Ok(_) => return Err(TestCaseError::fail("accepted")),
            Err(diags) => diags,
        };
        // A fault list that is not a list of mappings is named at `faults`; the problems of
        // its entries at `faults.FIELD`.
        let prefix = format!("{}.", b.field);
        let named = diags.iter().any(|d| d.field.as_deref().is_some_and(|f| f == b.field || f.starts_with(&prefix)));
        prop_assert!(named, "{}: {} gives no diagnostic on the field: {:?}", b.field, b.bad, diags);
    }

    /// One key misspelt: a diagnostic names it as an unknown field, and suggests the real name
    /// when that is the only one within one edit.
    #[test]
    fn a_misspelt_key_is_named(m in tape().prop_map(|v| misspelt(&mut Tape::new(v)))) {
        let Some(m) = m else { return Ok(()) };
        let diags = match plan(&m.doc.text())? {
            Ok(_) => return Err(TestCaseError::fail("accepted")),
            Err(diags) => diags,
        };
        let named: Vec<&Diagnostic> = diags.iter().filter(|d| d.field.as_deref() == Some(m.path.as_str())).collect();
        prop_assert!(!named.is_empty(), "no diagnostic names {}: {:?}", m.path, diags);
        let wrong = m.path.rsplit('.').next().unwrap_or(&m.path);
        let near: Vec<&str> = m.known.iter().copied().filter(|k| distance(wrong, k) <= 1).collect();
        for d in named {
            prop_assert!(d.message.starts_with("unknown field"), "{}", d);
            if near == [m.original.as_str()] {
                prop_assert!(d.message.contains(&format!("did you mean \"{}\"?", m.original)), "{}", d);
            }
        }
    }
}
