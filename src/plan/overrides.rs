//! [`Overrides`]: the values given on the command line that replace the file's, written once.
//! The command line fills them; [`Overrides::words`] gives them back as command-line words (for
//! a run that must repeat the job as planned), and [`Overrides::from_words`] reads those words
//! again; a test holds the two to each other. [`Overrides::conflict`] is the one rule between
//! them: a plain override of a matrix key and a `--matrix` axis of the same key cannot both be
//! given.

use crate::names::{BackendKind, Start};
use crate::spec::axis::Axis;

/// Values given on the command line that replace the file's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    pub workers: Option<u64>,
    pub iterations: Option<u64>,
    pub backend: Option<BackendKind>,
    pub start: Option<Start>,
    pub repeat: Option<u64>,
    pub warmup: Option<u64>,
    /// `--timeout` and `--grace`, in nanoseconds.
    pub timeout_ns: Option<u64>,
    pub grace_ns: Option<u64>,
    /// `--matrix KEY=V1,V2,...`, in the order given: axes added to the job's matrix, or
    /// replacing the file's axis of the same key.
    pub matrix: Vec<Axis>,
}

/// The flags, in the order [`Overrides::words`] writes them.
pub const OVERRIDE_FLAGS: [&str; 9] =
    ["--workers", "--iterations", "--backend", "--start", "--repeat", "--warmup", "--timeout", "--grace", "--matrix"];

impl Overrides {
    /// The command-line words that give these overrides: `--flag value` for each one set, in
    /// [`OVERRIDE_FLAGS`]' order; durations in whole milliseconds when they are, else in
    /// nanoseconds, so that nothing is rounded.
    pub fn words(&self) -> Vec<String> {
        let count = |n: Option<u64>| n.map(|n| n.to_string());
        let values = [
            count(self.workers),
            count(self.iterations),
            self.backend.map(|b| b.name().to_string()),
            self.start.map(|s| s.name().to_string()),
            count(self.repeat),
            count(self.warmup),
            self.timeout_ns.map(duration_word),
            self.grace_ns.map(duration_word),
        ];
        let mut words = Vec::new();
        for (flag, value) in OVERRIDE_FLAGS.into_iter().zip(values) {
            if let Some(value) = value {
                words.extend([flag.to_string(), value]);
            }
        }
        for axis in &self.matrix {
            words.extend(["--matrix".to_string(), format!("{}={}", axis.key(), axis.values())]);
        }
        words
    }

    /// The first `--matrix` axis over a field the job's result depends on (the counts, the
    /// value, the operation and its operand, the schedule): the file's `expect` was written for
    /// the job as it was, so it is not checked, as with `--workers` (a notice says so).
    pub fn sweeps_the_result(&self) -> Option<&Axis> {
        const RESULT: [&str; 7] =
            ["workers", "iterations", "value.type", "value.initial", "operation", "operand", "schedule"];
        self.matrix.iter().find(|a| RESULT.contains(&a.key()))
    }

    /// Why these overrides cannot be given together, if they cannot: a plain override of a
    /// matrix key (`--workers 4`, which collapses the file's axis to one value) and a
    /// `--matrix` axis of the same key (`--matrix workers=1,2`, which sweeps it) ask for two
    /// different things, and so do two `--matrix` axes of one key, or `work` with `work.inside`
    /// or `work.outside`. A usage error (exit 2) names both flags.
    pub fn conflict(&self) -> Option<String> {
        let plain = [
            ("workers", self.workers.map(|n| n.to_string())),
            ("iterations", self.iterations.map(|n| n.to_string())),
            ("backend", self.backend.map(|b| b.name().to_string())),
            ("start", self.start.map(|s| s.name().to_string())),
        ];
        for (i, axis) in self.matrix.iter().enumerate() {
            if let Some((key, Some(value))) = plain.iter().find(|(key, _)| *key == axis.key()) {
                return Some(format!(
                    "--{key} {value} and {} both set `{key}`: --{key} runs one value on every cell, --matrix sweeps it; give one of them",
                    axis.flag()
                ));
            }
            let overlaps = |a: &str, b: &str| {
                a == b || (a == "work" && b.starts_with("work.")) || (b == "work" && a.starts_with("work."))
            };
            if let Some(earlier) = self.matrix[..i].iter().find(|e| overlaps(e.key(), axis.key())) {
                return Some(format!(
                    "{} and {} both sweep `{}`: give each matrix key once (every value in one --matrix)",
                    earlier.flag(),
                    axis.flag(),
                    earlier.key().min(axis.key())
                ));
            }
        }
        None
    }

    /// Reads words such as [`Overrides::words`] writes (`--flag value` pairs, any order) back.
    pub fn from_words<S: AsRef<str>>(words: &[S]) -> Result<Overrides, String> {
        let mut o = Overrides::default();
        let mut rest = words.iter().map(AsRef::as_ref);
        while let Some(flag) = rest.next() {
            let value = rest.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let count = || value.parse::<u64>().map_err(|_| format!("{flag} {value}: not a count"));
            // As the command line and the job file's `timeout` read it, limits included.
            let duration = |v: &str| crate::spec::parse_timeout(v).map_err(|e| format!("{flag} {value}: {e}"));
            match flag {
                "--workers" => o.workers = Some(count()?),
                "--iterations" => o.iterations = Some(count()?),
                "--backend" => o.backend = Some(named(&BackendKind::ALL, BackendKind::name, flag, value)?),
                "--start" => o.start = Some(named(&Start::ALL, Start::name, flag, value)?),
                "--repeat" => o.repeat = Some(count()?),
                "--warmup" => o.warmup = Some(count()?),
                "--timeout" => o.timeout_ns = Some(duration(value)?),
                "--grace" => o.grace_ns = Some(duration(value)?),
                "--matrix" => o.matrix.push(Axis::parse(value).map_err(|e| format!("{flag} {value}: {e}"))?),
                other => return Err(format!("{other}: not an override")),
            }
        }
        Ok(o)
    }
}

fn named<T: Copy>(all: &[T], name: fn(T) -> &'static str, flag: &str, value: &str) -> Result<T, String> {
    all.iter().copied().find(|&t| name(t) == value).ok_or_else(|| format!("{flag} {value}: unknown"))
}

/// A duration as a word the command line and the job file read back exactly: whole
/// milliseconds as `1500ms`, anything else in nanoseconds.
pub fn duration_word(ns: u64) -> String {
    if ns.is_multiple_of(1_000_000) { format!("{}ms", ns / 1_000_000) } else { format!("{ns}ns") }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn any_overrides() -> impl Strategy<Value = Overrides> {
        let n = || proptest::option::of(any::<u64>());
        // What the command line can give: more than 0, at most a week.
        let d = || proptest::option::of(1..=crate::spec::limits::MAX_TIMEOUT_NS);
        let backend = proptest::option::of(proptest::sample::select(BackendKind::ALL.to_vec()));
        let start = proptest::option::of(proptest::sample::select(Start::ALL.to_vec()));
        (n(), n(), backend, start, n(), n(), d(), d()).prop_map(
            |(workers, iterations, backend, start, repeat, warmup, timeout_ns, grace_ns)| Overrides {
                workers,
                iterations,
                backend,
                start,
                repeat,
                warmup,
                timeout_ns,
                grace_ns,
                matrix: Vec::new(),
            },
        )
    }

    proptest! {
        /// Whatever the overrides, their words read back to them.
        #[test]
        fn words_read_back(o in any_overrides()) {
            prop_assert_eq!(Overrides::from_words(&o.words()), Ok(o));
        }
    }

    #[test]
    fn words_as_the_command_line_writes_them() {
        let o = Overrides {
            workers: Some(8),
            backend: Some(BackendKind::Channel),
            timeout_ns: Some(1_500_000_000),
            grace_ns: Some(1_500),
            ..Overrides::default()
        };
        assert_eq!(o.words(), ["--workers", "8", "--backend", "channel", "--timeout", "1500ms", "--grace", "1500ns"]);
        let sweep = Overrides {
            matrix: vec![Axis::parse("workers=1,2").unwrap(), Axis::parse("work={inside: 1us},{}").unwrap()],
            ..o.clone()
        };
        assert_eq!(Overrides::from_words(&sweep.words()), Ok(sweep));
        assert!(Overrides::from_words(&["--matrix", "wrkers=1"]).unwrap_err().contains("did you mean \"workers\""));
        assert_eq!(Overrides::default().words(), Vec::<String>::new());
        assert_eq!(Overrides::from_words(&["--timeout", "2s"]).map(|o| o.timeout_ns), Ok(Some(2_000_000_000)));
        assert!(Overrides::from_words(&["--workers"]).is_err());
        assert!(Overrides::from_words(&["--backend", "spinlock"]).is_err());
        assert!(Overrides::from_words(&["--batch", "2"]).is_err());
        // The same parser and limits as `--timeout` and the job file's `timeout`.
        assert_eq!(Overrides::from_words(&["--grace", "1h"]).map(|o| o.grace_ns), Ok(Some(3_600_000_000_000)));
        for refused in ["169h", "0", "0ns", "-1s", "1d"] {
            assert!(Overrides::from_words(&["--timeout", refused]).is_err(), "{refused}");
        }
    }

    #[test]
    fn a_plain_override_and_an_axis_of_one_key_conflict() {
        let axes = |args: &[&str]| args.iter().map(|a| Axis::parse(a).unwrap()).collect::<Vec<_>>();
        let o = Overrides { workers: Some(4), matrix: axes(&["workers=1,2"]), ..Overrides::default() };
        assert_eq!(
            o.conflict().as_deref(),
            Some(
                "--workers 4 and --matrix workers=1,2 both set `workers`: --workers runs one value on every cell, --matrix sweeps it; give one of them"
            )
        );
        let o = Overrides { workers: Some(4), matrix: axes(&["backend=mutex,atomic"]), ..Overrides::default() };
        assert_eq!(o.conflict(), None);
        let o = Overrides { matrix: axes(&["workers=1", "workers=2"]), ..Overrides::default() };
        assert!(o.conflict().is_some_and(|c| c.contains("give each matrix key once")));
        let o = Overrides { matrix: axes(&["work.inside=1us", "work={}"]), ..Overrides::default() };
        assert!(o.conflict().is_some());
        let o = Overrides { matrix: axes(&["work.inside=1us", "work.outside=1us"]), ..Overrides::default() };
        assert_eq!(o.conflict(), None);
    }
}
