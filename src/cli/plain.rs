//! The commonest command lines, `runner JOB...` and `runner -q JOB...`, read without clap
//! (see [`plain`]). Owns nothing else: every other command line is clap's, in `cli.rs`.

use super::{FormatArg, OverrideArgs, RunArgs};

/// `runner JOB...` and `runner -q JOB...` (job paths, one `-q` anywhere), the commonest command
/// lines, read without clap: building even [`RunCli`](super::RunCli)'s parser (its twenty
/// flags) took about 40 µs of the tutorial's 1.4 ms, before any job was read. `None` for
/// anything else (another flag, a word that starts with `-` other than `-` itself, a path that
/// is not UTF-8), which clap then parses. `the_plain_command_line_is_read_as_clap_reads_it`
/// holds the two to the same result.
pub(super) fn plain(args: &[std::ffi::OsString]) -> Option<RunArgs> {
    let mut jobs = Vec::new();
    let mut quiet = false;
    for arg in args.iter().skip(1) {
        match arg.to_str()? {
            "-q" | "--quiet" if !quiet => quiet = true,
            "-" => jobs.push("-".to_string()),
            word if word.starts_with('-') || word.is_empty() => return None,
            path => jobs.push(path.to_string()),
        }
    }
    if jobs.is_empty() {
        return None;
    }
    Some(RunArgs {
        jobs,
        overrides: OverrideArgs {
            workers: None,
            iterations: None,
            backend: None,
            start: None,
            matrix: Vec::new(),
            repeat: None,
            warmup: None,
            timeout: None,
            grace: None,
        },
        format: FormatArg::Human,
        trace: None,
        trace_ops: false,
        histogram: false,
        quiet,
        export_json: None,
        export_csv: None,
        export_markdown: None,
        plot: None,
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::plain;

    fn argv(words: &[&str]) -> Vec<std::ffi::OsString> {
        std::iter::once("runner").chain(words.iter().copied()).map(Into::into).collect()
    }

    /// The command lines `plain` reads give what clap gives for them, field for field; the
    /// others are left to clap.
    #[test]
    fn the_plain_command_line_is_read_as_clap_reads_it() {
        let read = [
            &["jobs/increment.yaml"][..],
            &["-q", "jobs/increment.yaml"],
            &["jobs/increment.yaml", "--quiet"],
            &["a.yaml", "-q", "b/"],
            &["-"],
            &["a.yaml", "-"],
        ];
        for words in read {
            let args = argv(words);
            let ours = plain(&args).unwrap_or_else(|| panic!("{words:?} is a plain command line"));
            let clap = super::super::RunCli::try_parse_from(&args).unwrap_or_else(|e| panic!("{words:?}: {e}"));
            assert_eq!(clap.verbose, 0, "{words:?}");
            assert_eq!(format!("{ours:?}"), format!("{:?}", clap.run), "{words:?}");
        }
        let left = [
            &[][..],
            &["-q"],
            &["-q", "-q", "a.yaml"],
            &["-v", "a.yaml"],
            &["-qv", "a.yaml"],
            &["--format", "json", "a.yaml"],
            &["a.yaml", "--workers", "3"],
            &["--", "a.yaml"],
            &[""],
            &["--quiet=true", "a.yaml"],
        ];
        for words in left {
            assert!(plain(&argv(words)).is_none(), "{words:?} is left to clap");
        }
    }
}
