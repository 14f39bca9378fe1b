//! From a positioned YAML tree to a [`JobSpec`], collecting every problem of shape: unknown and
//! duplicate keys, missing required fields, wrong kinds of node, misspelt names. What the values
//! mean together (ranges, literals against the type, cross-field rules) is the planner's.

use crate::error::{Diagnostic, Pos};
use crate::names::{BackendKind, Schedule, Start, Transport};
use crate::spec::job::{
    At, ExpectOutcome, FAULT_FIELDS, FaultAction, FaultSpec, JOB_FIELDS, JobSpec, Literal, Operand, Pin, TRACE_FIELDS,
    TraceSpec, VALUE_FIELDS, ValueSpec, WORK_FIELDS, WorkSpec,
};
use crate::spec::limits::{DURATION_UNITS, MAX_TIMEOUT_NS, MAX_WORK_NS, TIMEOUT_UNITS, unit_list};
use crate::spec::suggest::hint;
use crate::spec::tree::{Kind, Node};
use crate::value::{OpKind, ValueType};

mod engine;
mod hosts;

/// Reads the job from the document's root node.
pub fn read(root: &Node, file: &str) -> (JobSpec, Vec<Diagnostic>) {
    let mut r = Reader { file, diags: Vec::new() };
    let spec = r.job(root);
    (spec, r.diags)
}

struct Reader<'a> {
    file: &'a str,
    diags: Vec<Diagnostic>,
}

impl Reader<'_> {
    fn error(&mut self, pos: Pos, field: &str, message: impl Into<String>) {
        self.diags.push(Diagnostic::at(self.file, pos, field, message));
    }

    /// The entries of a mapping with known keys, reporting unknown and duplicate ones.
    fn entries<'n>(&mut self, node: &'n Node, prefix: &str, known: &[&str]) -> Vec<(&'n str, &'n Node)> {
        let Kind::Map(entries) = &node.kind else { return Vec::new() };
        // Where each key was first given: a known key by its place in `known` (no hashing: the
        // keys are a handful), an unknown one in a map (as many as the file has).
        let mut first_known: Vec<Option<Pos>> = vec![None; known.len()];
        let mut first_unknown: std::collections::HashMap<&str, Pos> = std::collections::HashMap::new();
        let mut out = Vec::new();
        for (key, value) in entries {
            let name = match &key.kind {
                Kind::Str(s) => s.as_str(),
                _ => {
                    let what = key.describe();
                    self.error(
                        key.pos,
                        prefix.trim_end_matches('.'),
                        format!("a field name must be a string, found {what}"),
                    );
                    continue;
                }
            };
            let place = known.iter().position(|k| *k == name);
            let first = match place {
                Some(i) => first_known[i].replace(key.pos),
                None => first_unknown.get(name).copied(),
            };
            if let Some(first) = first {
                if let Some(i) = place {
                    first_known[i] = Some(first);
                }
                let line = first.line;
                self.error(
                    key.pos,
                    &format!("{prefix}{name}"),
                    format!("duplicate field (first given at line {line})"),
                );
                continue;
            }
            if place.is_none() {
                first_unknown.insert(name, key.pos);
                let expected = known.join(", ");
                self.error(
                    key.pos,
                    &format!("{prefix}{name}"),
                    format!("unknown field{}; expected one of: {expected}", hint(name, known.iter().copied())),
                );
                continue;
            }
            out.push((name, value));
        }
        out
    }

    fn job(&mut self, root: &Node) -> JobSpec {
        let mut spec = JobSpec { pos: root.pos, ..JobSpec::default() };
        match &root.kind {
            Kind::Map(_) => {}
            Kind::Null => {
                self.error(
                    Pos::START,
                    "",
                    "the job file is empty: it needs at least workers, value, operation and backend",
                );
                return spec;
            }
            _ => {
                let what = root.describe();
                self.error(Pos::START, "", format!("a job file is a mapping of fields, found {what}"));
                return spec;
            }
        }
        for (name, node) in self.entries(root, "", &JOB_FIELDS) {
            match name {
                "name" => spec.name = self.string(node, name),
                "description" => spec.description = self.string(node, name),
                "workers" => spec.workers = self.integer(node, name),
                "iterations" => spec.iterations = self.integer(node, name),
                "value" => spec.value = self.value(node),
                "operation" => spec.operation = self.choice(node, name, &OpKind::ALL.map(|k| (k.name(), k))),
                "operand" => spec.operand = self.operand(node),
                "backend" => spec.backend = self.choice(node, name, &BackendKind::ALL.map(|k| (k.name(), k))),
                "batch" => spec.batch = self.integer(node, name),
                "transport" => spec.transport = self.choice(node, name, &Transport::ALL.map(|t| (t.name(), t))),
                "expect" => spec.expect = self.literal(node, name),
                "trace" => spec.trace = self.trace(node),
                "engine" => spec.engine = self.engine(node),
                "hosts" => spec.hosts = self.hosts(node),
                "schedule" => spec.schedule = self.choice(node, name, &Schedule::ALL.map(|s| (s.name(), s))),
                "start" => spec.start = self.choice(node, name, &Start::ALL.map(|s| (s.name(), s))),
                "work" => spec.work = self.work(node),
                "pin" => spec.pin = self.pin(node),
                "timeout" => spec.timeout = self.timeout(node),
                "faults" => spec.faults = self.faults(node),
                "fork_fail_at" => spec.fork_fail_at = self.integer(node, name),
                "expect_outcome" => {
                    spec.expect_outcome = self.choice(node, name, &ExpectOutcome::ALL.map(|o| (o.name(), o)));
                }
                "repeat" => spec.repeat = self.integer(node, name),
                "warmup" => spec.warmup = self.integer(node, name),
                // Expanded before the job is read (see `matrix.rs`).
                _ => {}
            }
        }
        let present = |f: &str| match f {
            "workers" => spec.workers.is_some(),
            "value" => spec.value.is_some(),
            "operation" => spec.operation.is_some(),
            _ => spec.backend.is_some(),
        };
        let missing: Vec<&str> =
            ["workers", "value", "operation", "backend"].into_iter().filter(|f| !present(f)).collect();
        for field in missing {
            // A field given with a bad value has its own diagnostic already.
            if !self.diags.iter().any(|d| d.field.as_deref() == Some(field)) {
                self.error(root.pos, field, "missing required field");
            }
        }
        spec
    }

    fn value(&mut self, node: &Node) -> Option<At<ValueSpec>> {
        if !matches!(node.kind, Kind::Map(_)) {
            let what = node.describe();
            self.error(node.pos, "value", format!("expected a mapping with `type` (and `initial`), found {what}"));
            return None;
        }
        let mut value = ValueSpec { pos: node.pos, ..ValueSpec::default() };
        for (name, child) in self.entries(node, "value.", &VALUE_FIELDS) {
            match name {
                "type" => value.ty = self.choice(child, "value.type", &ValueType::ALL.map(|t| (t.name(), t))),
                _ => value.initial = self.literal(child, "value.initial"),
            }
        }
        if value.ty.is_none() && !self.diags.iter().any(|d| d.field.as_deref() == Some("value.type")) {
            self.error(node.pos, "value.type", "missing required field (one of: i, d, c)");
        }
        Some(At { value, pos: node.pos })
    }

    fn trace(&mut self, node: &Node) -> Option<At<TraceSpec>> {
        if !matches!(node.kind, Kind::Map(_)) {
            let what = node.describe();
            self.error(node.pos, "trace", format!("expected a mapping with `file` (and `ops`), found {what}"));
            return None;
        }
        let mut trace = TraceSpec { pos: node.pos, ..TraceSpec::default() };
        for (name, child) in self.entries(node, "trace.", &TRACE_FIELDS) {
            match name {
                "file" => trace.file = self.string(child, "trace.file"),
                _ => trace.ops = self.boolean(child, "trace.ops"),
            }
        }
        if trace.file.is_none() && !self.diags.iter().any(|d| d.field.as_deref() == Some("trace.file")) {
            self.error(node.pos, "trace.file", "missing required field");
        }
        Some(At { value: trace, pos: node.pos })
    }

    fn operand(&mut self, node: &Node) -> Option<At<Operand>> {
        match &node.kind {
            Kind::Seq(items) if items.is_empty() => {
                self.error(node.pos, "operand", "an empty list: give one operand per worker");
                None
            }
            Kind::Seq(items) => {
                let read: Vec<_> = items.iter().map(|item| self.literal(item, "operand")).collect();
                let all: Option<Vec<_>> = read.into_iter().collect();
                Some(At { value: Operand::PerWorker(all?), pos: node.pos })
            }
            _ => self.literal(node, "operand").map(|l| At { value: Operand::One(l.value), pos: l.pos }),
        }
    }

    fn work(&mut self, node: &Node) -> Option<At<WorkSpec>> {
        if !matches!(node.kind, Kind::Map(_)) {
            let what = node.describe();
            self.error(node.pos, "work", format!("expected a mapping with `inside` and/or `outside`, found {what}"));
            return None;
        }
        let mut work = WorkSpec { pos: node.pos, ..WorkSpec::default() };
        for (name, child) in self.entries(node, "work.", &WORK_FIELDS) {
            let field = format!("work.{name}");
            let ns = self.duration(child, &field);
            match name {
                "inside" => work.inside = ns,
                _ => work.outside = ns,
            }
        }
        Some(At { value: work, pos: node.pos })
    }

    /// A duration with a unit (`200ns`, `1.5us`), or 0; in nanoseconds, at most one second.
    fn duration(&mut self, node: &Node, field: &str) -> Option<At<u64>> {
        let ns = match &node.kind {
            Kind::Int(Some(0)) => Ok(0),
            Kind::Int(Some(i)) if *i < 0 => Err(format!("{i}: negative durations are not allowed")),
            Kind::Str(s) => parse_duration(s),
            _ => Err(format!("expected a duration with a unit (200ns, 1us, 1.5ms), found {}", node.describe())),
        };
        match ns {
            Ok(ns) if ns <= MAX_WORK_NS => Some(At { value: ns, pos: node.pos }),
            Ok(_) => {
                self.error(node.pos, field, "at most 1s of busy work per operation");
                None
            }
            Err(message) => {
                self.error(node.pos, field, message);
                None
            }
        }
    }

    fn faults(&mut self, node: &Node) -> Option<At<Vec<At<FaultSpec>>>> {
        let Kind::Seq(items) = &node.kind else {
            let what = node.describe();
            self.error(node.pos, "faults", format!("expected a list of faults, found {what}"));
            return None;
        };
        let mut faults = Vec::new();
        for item in items {
            if !matches!(item.kind, Kind::Map(_)) {
                let what = item.describe();
                self.error(item.pos, "faults", format!("expected a mapping with worker, at and action; found {what}"));
                continue;
            }
            let mut f = FaultSpec { pos: item.pos, ..FaultSpec::default() };
            for (name, child) in self.entries(item, "faults.", &FAULT_FIELDS) {
                let field = format!("faults.{name}");
                match name {
                    "worker" => f.worker = self.integer(child, &field),
                    "at" => f.at = self.integer(child, &field),
                    "action" => f.action = self.choice(child, &field, &FaultAction::ALL.map(|a| (a.name(), a))),
                    "inside_lock" => f.inside_lock = self.boolean(child, &field),
                    "code" => f.code = self.integer(child, &field),
                    _ => f.stall = self.timeout_as(child, &field),
                }
            }
            for required in ["worker", "at", "action"] {
                let missing = match required {
                    "worker" => f.worker.is_none(),
                    "at" => f.at.is_none(),
                    _ => f.action.is_none(),
                };
                let field = format!("faults.{required}");
                if missing && !self.diags.iter().any(|d| d.field.as_deref() == Some(field.as_str())) {
                    self.error(item.pos, &field, "missing required field");
                }
            }
            faults.push(At { value: f, pos: item.pos });
        }
        Some(At { value: faults, pos: node.pos })
    }

    fn timeout(&mut self, node: &Node) -> Option<At<u64>> {
        self.timeout_as(node, "timeout")
    }

    /// Seconds, or a duration with a unit (see [`parse_timeout`]); more than zero, at most a week.
    fn timeout_as(&mut self, node: &Node, field: &str) -> Option<At<u64>> {
        let ns = match &node.kind {
            Kind::Int(Some(s)) if *s < 0 => Err(format!("{s}: negative durations are not allowed")),
            Kind::Float(s) if *s < 0.0 => Err(format!("{s:?}: negative durations are not allowed")),
            Kind::Int(Some(s)) => {
                timeout_in_range(*s as f64 * 1e9).ok_or_else(|| format!("{s}: must be {}", timeout_rule()))
            }
            Kind::Float(s) => timeout_in_range(s * 1e9).ok_or_else(|| format!("{s:?}: must be {}", timeout_rule())),
            Kind::Str(s) => parse_timeout(s),
            _ => Err(format!("expected seconds or a duration such as 30s, 500ms, 2m, 1h; found {}", node.describe())),
        };
        match ns {
            Ok(ns) => Some(At { value: ns, pos: node.pos }),
            Err(message) => {
                self.error(node.pos, field, message);
                None
            }
        }
    }

    fn pin(&mut self, node: &Node) -> Option<At<Pin>> {
        match &node.kind {
            Kind::Bool(b) => Some(At { value: Pin::All(*b), pos: node.pos }),
            Kind::Seq(items) if !items.is_empty() => {
                let cpus: Option<Vec<_>> = items.iter().map(|i| self.integer(i, "pin")).collect();
                Some(At { value: Pin::Cpus(cpus?), pos: node.pos })
            }
            _ => {
                let what = node.describe();
                self.error(node.pos, "pin", format!("expected true, false or a list of CPU numbers, found {what}"));
                None
            }
        }
    }

    fn boolean(&mut self, node: &Node, field: &str) -> Option<At<bool>> {
        match &node.kind {
            Kind::Bool(b) => Some(At { value: *b, pos: node.pos }),
            _ => {
                let what = node.describe();
                self.error(node.pos, field, format!("expected true or false, found {what}"));
                None
            }
        }
    }

    fn string(&mut self, node: &Node, field: &str) -> Option<At<String>> {
        match &node.kind {
            Kind::Str(s) => Some(At { value: s.clone(), pos: node.pos }),
            _ => {
                let what = node.describe();
                self.error(node.pos, field, format!("expected a string, found {what}"));
                None
            }
        }
    }

    fn integer(&mut self, node: &Node, field: &str) -> Option<At<i128>> {
        match &node.kind {
            Kind::Int(Some(i)) => Some(At { value: *i, pos: node.pos }),
            Kind::Int(None) => {
                self.error(node.pos, field, "integer too large");
                None
            }
            _ => {
                let what = node.describe();
                self.error(node.pos, field, format!("expected an integer, found {what}"));
                None
            }
        }
    }

    fn literal(&mut self, node: &Node, field: &str) -> Option<At<Literal>> {
        let value = match &node.kind {
            Kind::Int(Some(i)) => Literal::Int(*i),
            Kind::Float(f) => Literal::Float(*f),
            Kind::Str(s) => Literal::Str(s.clone()),
            Kind::Int(None) => {
                self.error(node.pos, field, "integer too large");
                return None;
            }
            _ => {
                let what = node.describe();
                self.error(
                    node.pos,
                    field,
                    format!("expected a number (or a one-character string for type c), found {what}"),
                );
                return None;
            }
        };
        Some(At { value, pos: node.pos })
    }

    fn choice<T: Copy>(&mut self, node: &Node, field: &str, names: &[(&'static str, T)]) -> Option<At<T>> {
        let expected = names.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
        let Kind::Str(word) = &node.kind else {
            let what = node.describe();
            self.error(node.pos, field, format!("expected one of: {expected}; found {what}"));
            return None;
        };
        if let Some((_, value)) = names.iter().find(|(n, _)| n == word) {
            return Some(At { value: *value, pos: node.pos });
        }
        let hint = hint(word, names.iter().map(|(n, _)| *n));
        self.error(node.pos, field, format!("unknown {field} \"{word}\"{hint}; expected one of: {expected}"));
        None
    }
}

/// What a timeout may be, for messages.
pub fn timeout_rule() -> String {
    format!("more than 0 and at most a week (168h), in seconds or with a unit ({})", unit_list(&TIMEOUT_UNITS))
}

/// A timeout in nanoseconds: a number of seconds (`30`, `0.5`) or a number with a unit of
/// [`TIMEOUT_UNITS`] (`500ms`, `2m`, `1h`); more than zero, at most a week. The job file's
/// `timeout` and `stall`, and `--timeout`/`--grace`, all read it here.
pub fn parse_timeout(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let ns = match t.parse::<f64>() {
        Ok(seconds) if !t.ends_with(|c: char| c.is_ascii_alphabetic()) => check_sign(text, seconds)? * 1e9,
        _ => with_unit(text, &TIMEOUT_UNITS)?,
    };
    timeout_in_range(ns).ok_or_else(|| format!("{text:?}: must be {}", timeout_rule()))
}

/// `ns` as a timeout, when it is more than 0 (rounded to whole nanoseconds, as every duration
/// is) and at most a week.
pub fn timeout_in_range(ns: f64) -> Option<u64> {
    let rounded = ns.round();
    (rounded >= 1.0 && ns <= MAX_TIMEOUT_NS as f64).then_some(rounded as u64)
}

/// `200ns`, `1us`, `1µs`, `1.5ms`, `2s` in nanoseconds (rounded to the nearest).
pub fn parse_duration(text: &str) -> Result<u64, String> {
    with_unit(text, &DURATION_UNITS).map(|ns| ns.round() as u64)
}

/// A non-negative number followed by one of `units`, in nanoseconds.
fn with_unit(text: &str, units: &[(&str, u64)]) -> Result<f64, String> {
    let t = text.trim();
    let list = unit_list(units);
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+')).unwrap_or(t.len());
    let (number, unit) = (&t[..split], t[split..].trim());
    let Some(&(_, scale)) = units.iter().find(|(u, _)| *u == unit) else {
        return Err(match unit {
            "" => format!("{text:?} has no unit: write a number, then one of: {list}"),
            other => format!("unknown unit {other:?} in {text:?}; expected a number, then one of: {list}"),
        });
    };
    match number.parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(check_sign(text, n)? * scale as f64),
        _ => Err(format!("{text:?} is not a duration (a number, then one of: {list})")),
    }
}

/// `n`, unless it is negative.
fn check_sign(text: &str, n: f64) -> Result<f64, String> {
    if n < 0.0 || (n == 0.0 && n.is_sign_negative()) {
        Err(format!("{text:?}: negative durations are not allowed"))
    } else {
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("200ns"), Ok(200));
        assert_eq!(parse_duration("1.5us"), Ok(1500));
        assert_eq!(parse_duration("1µs"), Ok(1000));
        assert_eq!(parse_duration("2 ms"), Ok(2_000_000));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("5h").is_err());
        assert!(parse_duration("x ns").is_err());
        assert!(parse_duration("-1us").unwrap_err().contains("negative durations are not allowed"));
    }

    #[test]
    fn timeouts_take_every_unit_up_to_a_week() {
        assert_eq!(parse_timeout("1h"), Ok(3_600_000_000_000));
        assert_eq!(parse_timeout("168h"), Ok(MAX_TIMEOUT_NS));
        assert_eq!(parse_timeout("2m"), Ok(120_000_000_000));
        assert_eq!(parse_timeout(".5s"), Ok(500_000_000));
        assert_eq!(parse_timeout("500us"), Ok(500_000));
        assert_eq!(parse_timeout("1.5"), Ok(1_500_000_000));
        for unit in TIMEOUT_UNITS.map(|(u, _)| u) {
            assert!(parse_timeout(&format!("1{unit}")).is_ok(), "{unit}");
            assert!(timeout_rule().contains(unit), "{unit}");
        }
        assert!(parse_timeout("169h").unwrap_err().contains("at most a week (168h)"));
        assert!(parse_timeout("0s").unwrap_err().contains("more than 0"));
        // Rounded to whole nanoseconds, as busy work is: half a nanosecond is 1 ns.
        assert_eq!(parse_timeout("0.5ns"), Ok(1));
        assert!(parse_timeout("0.4ns").unwrap_err().contains("more than 0"));
        assert_eq!(parse_timeout("+1h"), Ok(3_600_000_000_000));
        assert!(parse_timeout("-1s").unwrap_err().contains("negative durations are not allowed"));
        assert!(parse_timeout("-1").unwrap_err().contains("negative durations are not allowed"));
        assert!(parse_timeout("1d").unwrap_err().contains("unknown unit"));
    }
}
