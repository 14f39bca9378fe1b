//! The schemas of the job file's durations (busy work) and timeouts (`timeout`, a stall's
//! `for`): regular expressions built from the units and limits in `limits.rs` that accept the
//! strings `read.rs`'s parsers accept, bounds included.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use crate::spec::limits::{DURATION_UNITS, MAX_TIMEOUT_NS, MAX_WORK_NS, TIMEOUT_UNITS, unit_list};

/// A decimal number as the duration parser reads it (digits with an optional fraction, or a
/// fraction alone), at most `limit`: a regular expression without anchors.
pub(super) fn at_most(limit: u64) -> String {
    let b = limit.to_string();
    let frac = r"(?:\.[0-9]*)?";
    let mut alts = vec![r"0*\.[0-9]+".to_string(), format!(r"0+{frac}")];
    if b.len() > 1 {
        alts.push(format!(r"0*[0-9]{{1,{}}}{frac}", b.len() - 1));
    }
    for (i, d) in b.bytes().map(|c| c - b'0').enumerate() {
        let lo = u8::from(i == 0);
        if d > lo {
            alts.push(format!(r"0*{}[{lo}-{}][0-9]{{{}}}{frac}", &b[..i], d - 1, b.len() - i - 1));
        }
    }
    alts.push(format!(r"0*{b}(?:\.0*)?"));
    alts.join("|")
}

/// A decimal number (as [`at_most`] reads them) that is less than half a nanosecond in a unit
/// of `ns` nanoseconds, so that it rounds to 0 ns: below 1 / (2 `ns`), whose decimal digits
/// come from a long division (40 of them when they do not end: closer than any float).
fn rounds_to_zero(ns: u64) -> String {
    let divisor = 2 * u128::from(ns);
    let (mut digits, mut rest) = (Vec::new(), 1u128);
    while rest != 0 && digits.len() < 40 {
        rest *= 10;
        digits.push((rest / divisor) as u8);
        rest %= divisor;
    }
    // The fraction's digits from position i on, those before agreeing with the bound's: below
    // it when they stop (the bound's later digits are not all 0), or when a digit is less.
    let mut tail = if rest == 0 { String::new() } else { "[0-9]*".to_string() };
    for (i, &d) in digits.iter().enumerate().rev() {
        let last = rest == 0 && i + 1 == digits.len();
        let mut alts = Vec::new();
        if d > 0 {
            alts.push(format!("[0-{}][0-9]*", d - 1));
        }
        if !last {
            alts.push(format!("{d}{tail}"));
        }
        tail = format!("(?:{})?", alts.join("|"));
    }
    format!(r"0*(?:\.{tail})?")
}

/// A duration string in `units`, at most `max_ns` (the parser rounds to whole nanoseconds).
fn duration_pattern(units: &[(&str, u64)], number: impl Fn(u64) -> String) -> String {
    let alts: Vec<String> = units.iter().map(|(unit, ns)| format!(r"\+?(?:{})\s*{unit}", number(*ns))).collect();
    format!(r"^\s*(?:{})\s*$", alts.join("|"))
}

/// A duration (nanoseconds once read).
pub(in crate::spec) struct Duration;

impl JsonSchema for Duration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let pattern = duration_pattern(&DURATION_UNITS, |ns| at_most(MAX_WORK_NS / ns));
        json_schema!({
            "description": format!("A duration with a unit: {} (`200ns`, `1.5us`, `.5ms`), or 0; at most {} s.", units_in_words(&DURATION_UNITS), MAX_WORK_NS / 1_000_000_000),
            "anyOf": [
                { "type": "string", "pattern": pattern },
                { "const": 0 }
            ]
        })
    }
}

/// `ns, us, µs, ms or s`.
fn units_in_words(units: &[(&str, u64)]) -> String {
    let list = unit_list(units);
    match list.rsplit_once(", ") {
        Some((head, last)) => format!("{head} or {last}"),
        None => list,
    }
}

/// A timeout: seconds, or a duration with a unit (nanoseconds once read).
pub(in crate::spec) struct Timeout;

impl JsonSchema for Timeout {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timeout".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        // A string without a unit is seconds, as a number is.
        let mut units = TIMEOUT_UNITS.to_vec();
        units.push(("", 1_000_000_000));
        let pattern = duration_pattern(&units, |ns| at_most(MAX_TIMEOUT_NS / ns));
        // Rounded to whole nanoseconds, a timeout is more than 0.
        let zero = duration_pattern(&units, rounds_to_zero);
        json_schema!({
            "description": format!("Seconds (a positive number), or a duration with a unit: {} (`500ms`, `30s`, `2m`, `1h`); more than 0, at most a week ({}h).", units_in_words(&TIMEOUT_UNITS), MAX_TIMEOUT_NS / 3_600_000_000_000),
            "anyOf": [
                { "type": "number", "minimum": 0.5 / 1e9, "maximum": MAX_TIMEOUT_NS / 1_000_000_000 },
                { "type": "string", "pattern": pattern, "not": { "pattern": zero } }
            ]
        })
    }
}
