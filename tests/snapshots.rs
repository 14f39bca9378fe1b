//! Snapshots of what runner prints: run reports, plans, diagnostics, the catalog's summary,
//! `validate` and `--help`. Each snapshot holds the exit code and both streams.
//!
//! What varies from one run to the next (durations, rates, percentiles, pids, memory, the host,
//! the commit, the start time, counts that depend on the scheduler) is replaced where it stands
//! by a placeholder such as `[time]`; the words and the layout stay, so that a change of wording
//! or layout fails a snapshot and a re-run does not. In the workers' table a placeholder is
//! right-aligned in the width of what it replaces, so the columns stay where they were.
//!
//! To accept a change: `INSTA_UPDATE=always cargo test --test snapshots`, then review the
//! `tests/snapshots/*.snap` diffs like code (or `cargo insta review`, where installed).

mod common;

use common::{Output, Test};
use insta::assert_snapshot;
use regex::{Captures, Regex};

/// `text` with every match of `pattern` replaced by `with` (`$1` names a group).
fn replace(text: &str, pattern: &str, with: &str) -> String {
    Regex::new(pattern).unwrap().replace_all(text, with).into_owned()
}

/// `placeholder`, right-aligned in the width (in characters) of `matched`.
fn fit(matched: &str, placeholder: &str) -> String {
    format!("{placeholder:>width$}", width = matched.chars().count())
}

const TIME: &str = r"\d+(?:\.\d+)? (?:ns|µs|ms|s)\b";

/// A human run report with what varies between runs replaced.
fn redact_report(text: &str) -> String {
    let time = Regex::new(TIME).unwrap();
    let timed = ["  time ", "  latency ", "  lock wait ", "  start-up "];
    let text: String = text
        .lines()
        .map(|line| match timed.iter().any(|label| line.starts_with(label)) {
            true => format!("{}\n", time.replace_all(line, "[time]")),
            false => format!("{line}\n"),
        })
        .collect();
    // How long the workers' windows overlapped, if at all, is the scheduler's.
    let text = replace(&text, r"(?m)^(  overlap   ).+$", "$1[overlap]");
    let text = replace(&text, r"(?m)^(  speed     )\d+(?:\.\d+)? [kMG]?ops/s", "$1[rate]");
    // CPU time and context switches are the kernel's accounting of this run.
    let cpu = format!("(?:{TIME}|0)");
    let text = replace(
        &text,
        &format!(
            r"(?m)^(  cpu       workers \(fork to exit\) ){cpu} user \+ {cpu} system, switched out \d+ times? \(\d+ preempted\); (runner \(during the run\) ){cpu} user \+ {cpu} system$"
        ),
        "${1}[cpu] user + [cpu] system, switched out [n] times ([n] preempted); ${2}[cpu] user + [cpu] system",
    );
    let text = replace(
        &text,
        &format!(r"(?m)^(  fairness  )Jain \d\.\d+, fastest/slowest \d+(?:\.\d+)?x, finish spread {TIME}( \(.+\))?$"),
        "${1}Jain [index], fastest/slowest [ratio]x, finish spread [time]$2",
    );
    // No ratio with a worker without a measured speed: keep the words, only the spread varies.
    let text = replace(
        &text,
        &format!(r"(?m)^(  fairness  )Jain \d\.\d+, fastest/slowest (- \(.+\)), finish spread {TIME}$"),
        "${1}Jain [index], fastest/slowest $2, finish spread [time]",
    );
    let text = replace(
        &text,
        r"(?m)^(  memory    peak resident: )runner \d+(?:\.\d+)? MiB, largest worker \d+(?:\.\d+)? MiB; runner held \d+(?:\.\d+)? MiB (when the run began.*)$",
        "${1}runner [memory], largest worker [memory]; runner held [memory] ${2}",
    );
    let text = replace(
        &text,
        &format!(
            r"(?m)^(  run of    )runner {} \(commit [^)]*\), job sha256 [0-9a-f]{{64}}, started \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$",
            regex::escape(env!("CARGO_PKG_VERSION"))
        ),
        "${1}runner [version] (commit [commit]), job sha256 [sha256], started [timestamp]",
    );
    let text = replace(
        &text,
        r"(?m)^(  on        ).+, \d+ cores?, Linux \S+ \S+$",
        "${1}[cpu], [n] cores, Linux [kernel] [arch]",
    );
    // The workers' table: pid, time, the retries or recoveries column (counts that depend on
    // who contended when), CPU time and switches; the index, the operations and the exit stay
    // (and a `-` where a worker has no time or no usage).
    let row = Regex::new(&format!(
        r"(?m)^( +\d+)( +\d+)( +\d+)( +(?:{TIME}|-))( +\d+)?( +(?:{TIME}|0|-))( +(?:{TIME}|0|-))( +(?:\d+ \(\d+\)|-))(  .*)$"
    ))
    .unwrap();
    let kept = |m: &str, placeholder: &str| if m.trim() == "-" { m.to_string() } else { fit(m, placeholder) };
    row.replace_all(&text, |c: &Captures| {
        let time = kept(&c[4], "[time]");
        let count = c.get(5).map_or(String::new(), |m| fit(m.as_str(), "[n]"));
        let (user, system, switched) = (kept(&c[6], "[cpu]"), kept(&c[7], "[cpu]"), kept(&c[8], "[n] ([n])"));
        format!("{}{}{}{time}{count}{user}{system}{switched}{}", &c[1], fit(&c[2], "[pid]"), &c[3], &c[9])
    })
    .into_owned()
}

/// Standard error with pids replaced, and without the notice that depends on the machine's
/// number of cores (its exact words: any other wording stays in the snapshot).
fn redact_stderr(text: &str) -> String {
    let text = replace(
        text,
        r"(?m)^runner: notice: \d+ workers on \d+ cores?: workers take turns on the CPUs(?:, and a lock holder may be preempted)?\n",
        "",
    );
    replace(&text, r"\(pid \d+\)", "(pid [pid])")
}

/// The exit code and both streams, as a snapshot shows them.
fn shown(out: &Output, stdout: &str, stderr: &str) -> String {
    format!(
        "exit {}\n--- stdout\n{}--- stderr\n{}",
        out.code,
        out.without_tmp(stdout),
        redact_stderr(&out.without_tmp(stderr))
    )
}

fn report(out: &Output) -> String {
    let redacted = redact_report(&out.stdout);
    // The redaction keeps the layout: as many lines, and each row of the workers' table as wide.
    assert_eq!(redacted.lines().count(), out.stdout.lines().count());
    for (line, before) in redacted.lines().zip(out.stdout.lines()) {
        if line.contains("[pid]") {
            assert_eq!(line.chars().count(), before.chars().count(), "{before}\n{line}");
        }
    }
    shown(out, &redacted, &out.stderr)
}

#[test]
fn report_of_the_tutorial() {
    let out = Test::new().args(&["jobs/increment.yaml"]).status(0).run();
    assert_snapshot!(report(&out));
}

#[test]
fn report_of_a_channel_job() {
    let out = Test::new().args(&["jobs/channel-queue.yaml"]).status(0).run();
    assert_snapshot!(report(&out));
}

#[test]
fn report_of_a_worker_killed_holding_the_lock() {
    let out = Test::new().args(&["jobs/fault-recovery.yaml"]).status(0).run();
    // Who takes the lock over (and so which row counts the recovery) is the scheduler's: a
    // waiting worker, or runner when the others were done before worker 1 died (seen under load).
    let text = replace(
        &report(&out),
        r"(?m)^(  recovery  worker 1 died holding the lock; )(?:worker [02]|runner \(no worker locked after it\))( took)",
        "$1[worker 0 or 2, or runner (no worker locked after it)]$2",
    );
    assert_snapshot!(text);
}

#[test]
fn report_of_lost_updates_without_synchronisation() {
    // Busy work between the load and the store widens the race: two workers overlapping for
    // about 0.1 s lose updates in every run, how many is the scheduler's.
    let text = "name: lost\nworkers: 2\niterations: 100000\nvalue: {type: i}\noperation: add\nbackend: none\nwork:\n  inside: 1us\n";
    let out = Test::new().job("lost.yaml", text).args(&["{job}"]).status(0).run();
    let text = replace(&report(&out), r"(?m)^(  final     )\d+$", "$1[final]");
    let text = replace(&text, r"(?m)^(  verdict   lost_updates: )\d+( of 200000 updates lost)$", "$1[lost]$2");
    assert_snapshot!(text);
}

/// The plan of a job, which varies only by the temporary folder's name.
fn plan(out: &Output) -> String {
    shown(out, &out.stdout, &out.stderr)
}

#[test]
fn plan_of_the_tutorial() {
    assert_snapshot!(plan(&Test::new().args(&["plan", "jobs/increment.yaml"]).status(0).run()));
}

#[test]
fn plan_of_a_sweep_over_schedules() {
    assert_snapshot!(plan(&Test::new().args(&["plan", "jobs/float-sum-order.yaml"]).status(0).run()));
}

#[test]
fn plan_of_a_channel_job() {
    assert_snapshot!(plan(&Test::new().args(&["plan", "jobs/channel-queue.yaml"]).status(0).run()));
}

#[test]
fn plan_of_a_channel_job_over_ipc() {
    let text = "workers: 2\niterations: 5000\nvalue: {type: c, initial: \"a\"}\noperation: xor\noperand: 3\nbackend: channel\nbatch: 64\ntransport: ipc\n";
    assert_snapshot!(plan(&Test::new().job("ipc.yaml", text).args(&["plan", "{job}"]).status(0).run()));
}

#[test]
fn plan_with_an_operand_per_worker() {
    let text = "name: last-writer\nworkers: 3\niterations: 2\nvalue:\n  type: i\noperation: set\noperand: [7, 8, 9]\nbackend: atomic\n";
    assert_snapshot!(plan(&Test::new().job("set.yaml", text).args(&["plan", "{job}"]).status(0).run()));
}

/// The job file, then what `runner validate` says of it; `runner` (run) must say the same.
fn diagnostics(name: &str, text: &str) -> String {
    let validate = Test::new().job(name, text).args(&["validate", "{job}"]).status(2).stdout("").run();
    let run = Test::new().job(name, text).args(&["{job}"]).status(2).stdout("").run();
    assert_eq!(validate.without_tmp(&validate.stderr), run.without_tmp(&run.stderr), "run and validate differ");
    format!("--- [tmp]/{name}\n{text}{}", shown(&validate, &validate.stdout, &validate.stderr))
}

#[test]
fn diagnostic_of_an_unknown_field_suggests_the_nearest() {
    let text = "workers: 2\niteration: 3\nvalue:\n  type: i\noperation: add\nbackend: mutex\n";
    assert_snapshot!(diagnostics("unknown-field.yaml", text));
}

#[test]
fn diagnostic_of_a_value_of_the_wrong_kind() {
    let text = "workers: [2]\nvalue:\n  type: i\noperation: add\nbackend: mutex\n";
    assert_snapshot!(diagnostics("wrong-kind.yaml", text));
}

#[test]
fn diagnostics_of_missing_fields() {
    let text = "workers: 2\nvalue:\n  initial: 0\nbackend: mutex\n";
    assert_snapshot!(diagnostics("missing.yaml", text));
}

#[test]
fn diagnostic_of_a_duplicate_key() {
    let text = "workers: 2\nvalue:\n  type: i\noperation: add\nbackend: mutex\nworkers: 3\n";
    assert_snapshot!(diagnostics("duplicate.yaml", text));
}

#[test]
fn diagnostics_of_literals_outside_their_type() {
    let text = "workers: 2\nvalue:\n  type: c\n  initial: \"ab\"\noperation: add\noperand: 300\nbackend: mutex\n";
    assert_snapshot!(diagnostics("literals.yaml", text));
}

#[test]
fn diagnostic_of_a_yaml_syntax_error() {
    let text = "workers: 2\nvalue: {type: i\noperation: add\n";
    assert_snapshot!(diagnostics("syntax.yaml", text));
}

#[test]
fn diagnostic_of_a_bad_value_in_one_cell_of_a_matrix() {
    let text = "workers: 2\nvalue:\n  type: i\noperation: add\nbackend: mutex\nmatrix:\n  backend: [mutex, atomc]\n";
    assert_snapshot!(diagnostics("matrix-value.yaml", text));
}

#[test]
fn diagnostic_of_a_field_a_matrix_cannot_vary() {
    let text = "workers: 2\nvalue:\n  type: i\noperation: add\nbackend: mutex\nmatrix:\n  workerz: [1, 2]\n";
    assert_snapshot!(diagnostics("matrix-key.yaml", text));
}

#[test]
fn diagnostics_of_three_independent_mistakes() {
    let text = "workers: 0\nvalue:\n  type: i\noperation: add\nbackend: mutx\ncolour: red\n";
    assert_snapshot!(diagnostics("three.yaml", text));
}

#[test]
fn validate_of_good_files() {
    let out = Test::new().args(&["validate", "jobs/increment.yaml", "jobs/float-sum-order.yaml"]).status(0).run();
    assert_snapshot!(shown(&out, &out.stdout, &out.stderr));
}

#[test]
fn help() {
    let out = Test::new().args(&["--help"]).status(0).run();
    assert_snapshot!(shown(&out, &out.stdout, &out.stderr));
}

/// `runner jobs/`, as CI runs it: the jobs' headlines and the closing line on standard output
/// (each job's report is the other snapshots' matter), and standard error whole: one line per
/// cell of a sweep with its rate redacted, failures the fault jobs declare, notices.
#[test]
fn catalog_summary() {
    // The Redis jobs' server.
    let server = common::redis::RedisServer::start();
    let out = Test::new().args(&["jobs/"]).env("RUNNER_REDIS", &server.url()).status(0).run();
    let headlines: String =
        out.stdout.lines().filter(|l| !l.is_empty() && !l.starts_with(' ')).map(|l| format!("{l}\n")).collect();
    // Without synchronisation, whether updates are lost (or the workers overlapped at all) is the
    // scheduler's (but never `wrong`).
    let headlines = replace(
        &headlines,
        r"(?m)^(race \(jobs/race\.yaml\)): (?:correct|lost_updates|no_race)$",
        "$1: [correct, lost_updates or no_race]",
    );
    let stderr = replace(&out.stderr, r"(?m)^(runner: \[\d+/\d+\] .*: )\d+(?:\.\d+)? [kMG]?ops/s, ", "$1[rate], ");
    let stderr = replace(
        &stderr,
        r"(?m)^(runner: \[\d+/\d+\] .*backend=none.*: \[rate\], )(?:correct|lost_updates|no_race)$",
        "$1[correct, lost_updates or no_race]",
    );
    // fault-deadline.yaml: worker 0 stalls past the deadline; worker 1 is done long before it,
    // unless the machine is loaded enough that it too is still running then (seen).
    let stderr = replace(
        &stderr,
        r"(?m)^(runner: worker 0 \(pid \d+\) failed: killed by SIGTERM\n)(?:runner: worker 1 \(pid \d+\) failed: killed by SIGTERM\n)?",
        "${1}[and the same of worker 1 if it was still running at the deadline]\n",
    );
    assert_snapshot!(shown(&out, &headlines, &stderr));
}
