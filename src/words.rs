//! How runner says counts and durations in words, the same in every message and report.
//!
//! Owns: [`plural`], [`exact_duration`]. Does not own: the report's rounded figures (`report`'s
//! `seconds`, `rate`) nor the words the command line reads back (`plan::duration_word`).

/// `1 operation`, `2 operations`: a count and its noun, plural unless the count is 1.
pub fn plural<N: std::fmt::Display + PartialEq + From<u8>>(n: N, word: &str) -> String {
    if n == N::from(1) { format!("{n} {word}") } else { format!("{n} {word}s") }
}

/// A duration in the largest unit that says it exactly: `60 s`, `1500 ms`, `250 µs`, `7 ns`.
pub fn exact_duration(ns: u64) -> String {
    let units = [(1_000_000_000, "s"), (1_000_000, "ms"), (1_000, "µs")];
    match units.iter().find(|(size, _)| ns > 0 && ns.is_multiple_of(*size)) {
        Some((size, unit)) => format!("{} {unit}", ns / size),
        None => format!("{ns} ns"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_durations_in_words() {
        assert_eq!(
            (plural(1u64, "run"), plural(0usize, "run"), plural(2u32, "run")),
            ("1 run".into(), "0 runs".into(), "2 runs".into())
        );
        assert_eq!(
            (exact_duration(60_000_000_000), exact_duration(1_500_000_000), exact_duration(7)),
            ("60 s".into(), "1500 ms".into(), "7 ns".into())
        );
    }
}
