//! "Did you mean": the closest known name to a misspelt one.

/// The candidate closest to `word`, if it is close enough to be a likely typo: at most one edit
/// per three characters of the longer name (at least one), and fewer edits than the candidate
/// has characters, so that a one-letter name (`x` for the value type `i`) gets no suggestion
/// (any one letter is one edit from any other) unless only its case differs.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&word, c), c))
        .filter(|&(distance, c)| {
            let len = c.chars().count();
            distance <= (len.max(word.chars().count()) / 3).max(1) && distance < len
        })
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, c)| c)
}

/// `; did you mean "x"?` or nothing.
pub fn hint<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(word, candidates).map(|c| format!("; did you mean \"{c}\"?")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_only() {
        assert_eq!(did_you_mean("mutx", ["mutex", "atomic", "channel", "none"]), Some("mutex"));
        assert_eq!(did_you_mean("Atomic", ["mutex", "atomic"]), Some("atomic"));
        assert_eq!(did_you_mean("iteration", ["iterations", "workers"]), Some("iterations"));
        assert_eq!(did_you_mean("zzz", ["mutex", "atomic"]), None);
        assert_eq!(did_you_mean("x", ["i", "d", "c"]), None);
        assert_eq!(did_you_mean("I", ["i", "d", "c"]), Some("i"));
        assert_eq!(did_you_mean("ad", ["add", "sub"]), Some("add"));
        assert_eq!(did_you_mean("a", ["at", "worker"]), Some("at"));
    }
}
