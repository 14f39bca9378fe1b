//! [`Overrides`]: the values given on the command line that replace the file's, written once.
//! The command line fills them; [`Overrides::words`] gives them back as command-line words (for
//! a run that must repeat the job as planned), and [`Overrides::from_words`] reads those words
//! again; a test holds the two to each other.

use crate::names::{BackendKind, Start};

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
}

/// The flags, in the order [`Overrides::words`] writes them.
pub const OVERRIDE_FLAGS: [&str; 8] =
    ["--workers", "--iterations", "--backend", "--start", "--repeat", "--warmup", "--timeout", "--grace"];

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
        words
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
}
