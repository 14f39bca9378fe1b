//! What runner takes in and leaves behind, against a user who makes mistakes and a neighbour
//! who plants traps: output files that cannot be redirected by a planted symlink nor block on
//! a FIFO nobody reads, and messages that say what is wrong in the job file's terms (never a
//! parser's internals, never a limit that disagrees with what is accepted).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Test, runner_bin};

const JOB: &str = "workers: 2\niterations: 100\nvalue: {type: i, initial: 0}\noperation: add\nbackend: mutex\n";

/// A fresh folder of this test's own.
fn folder(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("inputs").join(format!("{name}.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn increment() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/jobs/increment.yaml").to_string()
}

/// Item 12. The old writer opened `.NAME.PID.tmp` without `O_EXCL` and followed a symlink
/// there: a neighbour who planted one made runner overwrite any file it could write. The shell
/// plants the symlinks at the names of its own pid, then `exec`s runner, which keeps that pid.
#[test]
fn a_symlink_planted_at_the_temporary_name_is_not_followed() {
    let dir = folder("planted");
    std::fs::write(dir.join("victim"), "precious\n").unwrap();
    let script = format!(
        "ln -s victim .out.json.$$.tmp && ln -s victim .trace.json.$$.tmp && \
         exec '{}' '{}' --export-json out.json --trace trace.json",
        runner_bin().display(),
        increment()
    );
    let out = Command::new("sh").arg("-c").arg(&script).current_dir(&dir).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(std::fs::read_to_string(dir.join("victim")).unwrap(), "precious\n", "the victim was overwritten");
    for written in ["out.json", "trace.json"] {
        let meta = std::fs::symlink_metadata(dir.join(written)).unwrap();
        assert!(meta.file_type().is_file(), "{written} is a regular file, not the planted link");
        let text = std::fs::read_to_string(dir.join(written)).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap_or_else(|e| panic!("{written}: {e}"));
    }
    // Nothing else is left: the victim, the two planted links and the two outputs.
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names.len(), 5, "{names:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Item 12. A FIFO that nothing reads would block an `open` for writing for ever: runner says
/// so and exits 2 instead. Bounded at a minute (the run takes milliseconds); past it, runner is
/// killed and the test fails.
#[test]
fn a_fifo_without_a_reader_is_an_error_not_a_hang() {
    let dir = folder("fifo");
    let fifo = dir.join("pipe");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let mut child = Command::new(runner_bin())
        .args([&increment(), "--export-json", &fifo.to_string_lossy()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = common::wait_at_most(
        &mut child,
        Duration::from_secs(60),
        "runner still waits for a reader of the FIFO after a minute",
    );
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("a FIFO that nothing is reading"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Item 12. `/dev/stdout` is written in place, through runner's own standard output, and never
/// replaced: with standard output a file, the export and the report share it, neither written
/// over the other, and the export is there once.
#[test]
fn dev_stdout_is_written_in_place() {
    let dir = folder("stdout");
    let job = dir.join("sweep.yaml");
    std::fs::write(&job, format!("{JOB}repeat: 1\nmatrix:\n  workers: [1, 2, 3]\n")).unwrap();
    let file = std::fs::File::create(dir.join("out.txt")).unwrap();
    let status = Command::new(runner_bin())
        .args([&job.to_string_lossy(), "--format", "json", "--export-csv", "/dev/stdout"])
        .stdout(file)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let text = std::fs::read_to_string(dir.join("out.txt")).unwrap();
    // A stream cannot be rewritten after every cell as a file is: it is written once, whole.
    assert!(text.starts_with("workers,"), "{text}");
    assert_eq!(text.lines().filter(|l| l.starts_with("workers,")).count(), 1, "{text}");
    assert_eq!(text.lines().filter(|l| l.ends_with(",correct,completed,1,complete")).count(), 3, "{text}");
    let report = &text[text.find('{').unwrap()..];
    serde_json::from_str::<serde_json::Value>(report).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert!(std::fs::symlink_metadata("/dev/stdout").unwrap().file_type().is_symlink());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Validates one job file and returns standard error, with the file's path written `{job}`.
fn refused(text: &str) -> String {
    let out = Test::new().job("job.yaml", text).args(&["validate", "{job}"]).status(2).stdout("").run();
    let path = out.without_tmp("[tmp]/job.yaml");
    out.without_tmp(&out.stderr).replace(&path, "{job}")
}

#[test]
fn an_alias_bomb_is_named_with_its_limit_not_the_parser_s_internals() {
    let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (name, prev) in [("b", "a"), ("c", "b"), ("d", "c"), ("e", "d"), ("f", "e")] {
        text += &format!("{name}: &{name} [{}]\n", vec![format!("*{prev}"); 10].join(", "));
    }
    let stderr = refused(&text);
    assert!(stderr.contains("too many aliases"), "{stderr}");
    assert!(stderr.contains("at most 1000 aliases"), "{stderr}");
    assert!(!stderr.contains("RecordedAnchorEvents") && !stderr.contains(" {"), "{stderr}");
}

#[test]
fn a_second_document_is_named_without_the_parser_s_api() {
    let stderr = refused(&format!("{JOB}---\n{JOB}"));
    assert_eq!(
        stderr,
        "{job}:7:1: a second YAML document starts here: a job file holds one document (a `---` line separates \
         documents; put each job in a file of its own, or sweep values with `matrix`)\n"
    );
}

#[test]
fn a_count_beyond_the_maximum_is_too_large_not_too_small() {
    let stderr = refused(&JOB.replace("iterations: 100", "iterations: 18446744073709551616"));
    assert_eq!(stderr, "{job}:2:13: iterations: too large: at most 18446744073709551615, found 18446744073709551616\n");
}

#[test]
fn a_negative_duration_is_said_to_be_negative() {
    assert_eq!(
        refused(&format!("{JOB}timeout: -1s\n")),
        "{job}:6:10: timeout: \"-1s\": negative durations are not allowed\n"
    );
    assert_eq!(
        refused(&format!("{JOB}timeout: -2\n")),
        "{job}:6:10: timeout: -2: negative durations are not allowed\n"
    );
    assert_eq!(
        refused(&format!("{JOB}work: {{inside: -5us}}\n")),
        "{job}:6:16: work.inside: \"-5us\": negative durations are not allowed\n"
    );
}

/// The limit says a week (168h): so 168h, 1h and every unit the message lists are accepted,
/// on the command line as in the file, and 169h is refused with that message.
#[test]
fn the_timeout_limit_agrees_with_what_is_accepted() {
    for timeout in ["1h", "168h", "2m", "30s", "500ms", "500us", "500µs", "90000000ns", "1.5", ".5s"] {
        Test::new().job("job.yaml", format!("{JOB}timeout: {timeout}\n")).args(&["validate", "{job}"]).status(0).run();
        Test::new().args(&["plan", &increment(), "--timeout", timeout]).status(0).run();
    }
    let message = "must be more than 0 and at most a week (168h), in seconds or with a unit (ns, us, µs, ms, s, m, h)";
    assert_eq!(refused(&format!("{JOB}timeout: 169h\n")), format!("{{job}}:6:10: timeout: \"169h\": {message}\n"));
    let out = Test::new().args(&["plan", &increment(), "--timeout", "169h"]).status(2).run();
    assert!(out.stderr.contains(message), "{}", out.stderr);
}

#[test]
fn a_one_letter_mistake_gets_no_far_fetched_suggestion() {
    assert_eq!(
        refused(&JOB.replace("type: i", "type: x")),
        "{job}:3:15: value.type: unknown value.type \"x\"; expected one of: i, d, c\n"
    );
}

#[test]
fn a_syntax_error_gives_its_position_once() {
    assert_eq!(refused("workers: 2\niterations: [\n"), "{job}:2:13: unclosed bracket '['\n");
}

/// Runs the increment job with `args` and `RUST_LOG` (or none), and returns standard error.
fn logs(args: &[&str], rust_log: Option<&str>) -> String {
    let mut command = Command::new(runner_bin());
    command.args(args).arg(increment()).args(["--format", "json"]).env_remove("RUST_LOG");
    if let Some(value) = rust_log {
        command.env("RUST_LOG", value);
    }
    let out = command.output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn more_vs_say_more_and_rust_log_takes_runner_equals_level() {
    let (v, vv) = (logs(&["-v"], None), logs(&["-vv"], None));
    assert!(v.contains("forked workers=5"), "{v}");
    assert!(!v.contains("time.busy"), "{v}");
    // -vv: also how long each phase took.
    assert!(vv.contains("forked workers=5") && vv.contains("fork: close time.busy="), "{vv}");
    let debug = logs(&[], Some("runner=debug"));
    assert!(debug.contains("forked workers=5") && debug.contains("time.busy"), "{debug}");
    assert!(logs(&[], Some("info")).contains("forked workers=5"));
    assert_eq!(logs(&[], None), "");
    let other = logs(&[], Some("hyper=debug,info"));
    assert!(other.contains("RUST_LOG: ignored \"hyper=debug\""), "{other}");
    assert!(other.contains("forked workers=5"), "{other}");
}

#[test]
fn validate_takes_a_folder_as_a_run_does() {
    let out = Test::new().args(&["validate", "jobs/"]).status(0).run();
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/jobs"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "yaml"))
        .count();
    assert!(files > 5);
    assert_eq!(out.stdout.lines().filter(|l| l.ends_with(": ok")).count(), files, "{}", out.stdout);
}

#[test]
fn a_killed_worker_is_said_killed_not_exited() {
    let job = format!("{JOB}faults: [{{worker: 1, at: 10, action: kill}}]\n");
    let out = Test::new().job("killed.yaml", job).args(&["{job}"]).status(3).run();
    assert!(out.stderr.contains(") failed: killed by SIGKILL"), "{}", out.stderr);
    assert!(!out.stderr.contains("exit killed"), "{}", out.stderr);
}
