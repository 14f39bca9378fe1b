//! `runner export-python` and `runner compare-python`: a job's Python equivalent, printed, or
//! run beside runner's own run of the job.
//!
//! Owns: which plan is exported, the temporary program file, the two child processes (runner
//! itself, as a user would start it, with the overrides handed on, and `python3 PROGRAM`),
//! reading their results (Python's verdict is runner's judgement of its final value) and the
//! exit code. Does not own: the program's text (see `python`), the verdict rules (see
//! `outcome`) or the comparison's layout (see `python::compare`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use super::load::single_plan;
use super::{Done, Format};
use crate::error::{Error, exit};
use crate::names::BackendKind;
use crate::outcome::{self, Verdict};
use crate::plan::{Overrides, Plan};
use crate::python::compare::{Compared, Side, ratio};
use crate::report;
use crate::value::{Value, ValueType};

/// Lines of a failing child's standard error shown in the error.
const TAIL_LINES: usize = 20;

/// `runner export-python JOB`: the program on standard output.
pub(crate) fn export_python(label: &str, overrides: &Overrides) -> Result<Done, Error> {
    let plan = single_plan(label, overrides, "export-python")?;
    let program = crate::python::program(&plan).map_err(Error::Usage)?;
    report::emit(&program)?;
    for missing in crate::python::not_carried(&plan) {
        crate::stderrln!("runner: notice: not carried over to the Python program: {missing}");
    }
    Ok(Done::code(exit::OK))
}

/// `runner compare-python JOB`: 0 when both verdicts are acceptable, 1 otherwise.
pub(crate) fn compare_python(label: &str, overrides: &Overrides, format: Format) -> Result<Done, Error> {
    let plan = single_plan(label, overrides, "compare-python")?;
    // Both sides run the same job, or there is nothing to compare.
    let other_job = crate::python::changes_the_result(&plan);
    if !other_job.is_empty() {
        return Err(Error::Usage(format!(
            "compare-python runs the same job on both sides, and the Python program cannot carry this job's {}; not comparable (export-python prints the program, with what it leaves out named)",
            other_job.join("; ")
        )));
    }
    // runner's own run gets every override (start and grace too, so that it runs what the
    // Python program runs), but its runs: compare-python sets one run, no warm-up.
    let words = Overrides { repeat: None, warmup: None, ..overrides.clone() }.words();
    compare(&plan, label, &words, format)
}

/// Runs the job with runner and with python3, and the comparison: printed for people, or the
/// JSON document returned.
fn compare(plan: &Plan, label: &str, overrides: &[String], format: Format) -> Result<Done, Error> {
    let program = crate::python::program(plan).map_err(Error::Usage)?;
    if label == "-" {
        return Err(Error::Usage("compare-python runs the job twice: give a job file, not standard input".to_string()));
    }
    let python = find_on_path("python3").ok_or_else(|| {
        Error::Setup(
            "python3 not found on PATH: compare-python runs the job's Python equivalent with it (install Python 3)"
                .to_string(),
        )
    })?;
    let python = if plan.engine.redis().is_some() { with_redis_py(python)? } else { python };
    let file = TempProgram::write(&plan.name, &program)?;

    let exe = std::env::current_exe().map_err(|e| Error::Setup(format!("cannot find runner's own executable: {e}")))?;
    let mut command = Command::new(exe);
    // One run, whatever the job's repeat and warmup: the Python program runs once too.
    command.args(["-q", "--format", "json", label]).args(overrides).args(["--repeat", "1", "--warmup", "0"]);
    // runner keeps its own deadline; this bound only guards against a runner that is stuck.
    let runner_bound = Duration::from_nanos(plan.deadline.timeout_ns.saturating_add(plan.deadline.grace_ns)) + SLACK;
    let (out, wall) = timed(&mut command, "runner", runner_bound, false)?;
    let (runner, job) = runner_side(plan, &out, wall)?;
    forward_stderr("", &out);
    let notices = crate::python::not_carried(plan);
    for n in &notices {
        crate::stderrln!("runner: notice: not carried over to the Python program: {n}");
    }

    // Python is one to two orders of magnitude slower than runner: give it 20 times runner's
    // deadline. A Python worker that dies before the Barrier leaves the others waiting there
    // for ever (Python's own behaviour): the bound ends that.
    let python_bound = Duration::from_nanos(plan.deadline.timeout_ns.saturating_mul(20)) + SLACK;
    // Isolated (-I): the program's folder, the shared temporary one, is not put on its module
    // path, where any file there named like a standard module would be imported instead.
    let (out, wall) = timed(Command::new(&python).arg("-I").arg(file.path()), "python3", python_bound, true)?;
    let python = python_side(plan, &out, wall)?;
    forward_stderr("python3: ", &out);
    drop(file);

    let compared = Compared {
        whole: ratio(python.wall_seconds, runner.wall_seconds),
        speed: ratio(runner.ops_per_second, python.ops_per_second),
        runner,
        python,
        job,
        notices,
    };
    // Without synchronisation any verdict but `wrong` is what the job can show.
    let ok = |v: Verdict| v.passed() || (v != Verdict::Wrong && plan.backend.kind() == BackendKind::None);
    let code = if ok(compared.runner.verdict) && ok(compared.python.verdict) { exit::OK } else { exit::WRONG };
    let document = match format {
        Format::Human => {
            report::emit(&crate::python::compare::human(plan, label, &compared))?;
            None
        }
        Format::Json => Some(crate::python::compare::document(label, &compared)),
    };
    Ok(Done { code, document })
}

/// The program in the temporary directory, under a random name created with `O_EXCL` (a
/// predictable name there could be a symlink planted by another user), removed when dropped.
struct TempProgram(tempfile::TempPath);

impl TempProgram {
    fn write(name: &str, program: &str) -> Result<TempProgram, Error> {
        use std::io::Write;
        let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
        let fail =
            |e: std::io::Error| Error::Setup(format!("cannot write the Python program to a temporary file: {e}"));
        let mut file =
            tempfile::Builder::new().prefix(&format!("runner-{safe}-")).suffix(".py").tempfile().map_err(fail)?;
        file.write_all(program.as_bytes()).map_err(fail)?;
        Ok(TempProgram(file.into_temp_path()))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

/// A python3 that imports redis-py, for a Redis job's program: `python3` on PATH, else Debian's
/// `/usr/bin/python3`, which its package python3-redis serves.
fn with_redis_py(on_path: PathBuf) -> Result<PathBuf, Error> {
    let imports =
        |p: &Path| Command::new(p).args(["-I", "-c", "import redis"]).output().is_ok_and(|o| o.status.success());
    [on_path, PathBuf::from("/usr/bin/python3")].into_iter().find(|p| imports(p)).ok_or_else(|| {
        Error::Setup(
            "no python3 imports redis (redis-py): the program of a Redis job needs it (install Debian's python3-redis)"
                .to_string(),
        )
    })
}

/// The first executable file named `name` in a directory of `PATH`.
fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// Beyond the deadlines, before a child is taken for stuck.
const SLACK: Duration = Duration::from_secs(30);

/// Runs `command` to its end, timing it from spawn to exit. Its output goes to temporary files
/// (a pipe could fill up while nobody reads it). With `group` it runs in a process group of its
/// own, so that past `bound` it is killed with every process it started (Python's workers do
/// not die with their parent; runner's do).
fn timed(command: &mut Command, what: &str, bound: Duration, group: bool) -> Result<(Output, f64), Error> {
    use std::os::unix::process::CommandExt;
    let setup = |e: std::io::Error| Error::Setup(format!("cannot start {what}: {e}"));
    let (stdout, stderr) = (tempfile_for(what, "out").map_err(setup)?, tempfile_for(what, "err").map_err(setup)?);
    let started = Instant::now();
    let mut child = command
        .stdout(stdout.as_file().try_clone().map_err(setup)?)
        .stderr(stderr.as_file().try_clone().map_err(setup)?)
        .process_group(if group { 0 } else { nix::unistd::getpgrp().as_raw() })
        .spawn()
        .map_err(setup)?;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(setup)? {
            break status;
        }
        if started.elapsed() > bound {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let signal = nix::sys::signal::Signal::SIGKILL;
            let _ = if group { nix::sys::signal::killpg(pid, signal) } else { nix::sys::signal::kill(pid, signal) };
            let _ = child.wait();
            return Err(Error::Setup(format!(
                "{what} did not end within {} s: killed with its processes",
                bound.as_secs()
            )));
        }
        // Short naps at first: the whole-process time of a quick child is what is measured.
        let nap = if started.elapsed() < Duration::from_millis(50) { 20 } else { 1000 };
        std::thread::sleep(Duration::from_micros(nap));
    };
    let wall = started.elapsed().as_secs_f64();
    let read = |f: &tempfile::NamedTempFile| std::fs::read(f.path()).unwrap_or_default();
    let out = Output { status, stdout: read(&stdout), stderr: read(&stderr) };
    Ok((out, wall))
}

/// A new file in the temporary folder for a child's output, under a random name created with
/// `O_EXCL`; removed when dropped.
fn tempfile_for(what: &str, stream: &str) -> std::io::Result<tempfile::NamedTempFile> {
    let what: String = what.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    tempfile::Builder::new().prefix(&format!("runner-{what}-{stream}-")).tempfile()
}

/// The last lines of a child's standard error.
fn stderr_tail(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}

/// Passes on what a child said on standard error (runner's notices, Python's warnings).
fn forward_stderr(prefix: &str, out: &Output) {
    for line in String::from_utf8_lossy(&out.stderr).lines() {
        crate::stderrln!("{prefix}{line}");
    }
}

fn exit_words(out: &Output) -> String {
    match out.status.code() {
        Some(code) => format!("exit {code}"),
        None => "killed by a signal".to_string(),
    }
}

/// runner's final value, verdict and speed from its JSON report, and the job it ran, which must
/// be the job the Python program was written from (but its runs: one, no warm-up).
fn runner_side(plan: &Plan, out: &Output, wall_seconds: f64) -> Result<(Side, serde_json::Value), Error> {
    let failed =
        |why: &str| Error::Setup(format!("runner's own run failed ({}): {why}\n{}", exit_words(out), stderr_tail(out)));
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| failed(&format!("its report is not JSON: {e}")))?;
    if let Some(error) = doc.get("error").and_then(|e| e.as_str()) {
        return Err(failed(error));
    }
    if !matches!(out.status.code(), Some(exit::OK | exit::WRONG)) {
        return Err(failed("a worker failed"));
    }
    // A double from its display (shortest round-trip text): serde_json's own float parsing is not
    // always correctly rounded, and the comparison is bit for bit.
    let text = match plan.value_type() {
        ValueType::D => doc["final_display"].as_str().map(str::to_string),
        _ => doc["final"].as_i64().map(|n| n.to_string()),
    };
    let final_value = text
        .and_then(|t| parse_value(plan.value_type(), &t))
        .ok_or_else(|| failed("its report has no final value of the job's type"))?;
    let Some(verdict) = doc["verdict"].as_str().and_then(Verdict::from_name) else {
        return Err(failed("its report has no verdict"));
    };
    let ops_per_second = doc["ops_per_second"].as_f64().unwrap_or(0.0);
    let once = |mut job: serde_json::Value| {
        if let Some(fields) = job.as_object_mut() {
            fields.remove("repeat");
            fields.remove("warmup");
        }
        job
    };
    let (ran, planned) = (once(doc["job"].clone()), once(plan.effective_job()));
    if ran != planned {
        return Err(failed(&format!("it ran another job than the Python program's: {ran} instead of {planned}")));
    }
    Ok((Side { final_value, verdict, wall_seconds, ops_per_second }, ran))
}

/// Python's final value and speed from its `RESULT` line; the verdict is runner's judgement.
fn python_side(plan: &Plan, out: &Output, wall_seconds: f64) -> Result<Side, Error> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().rev().find_map(|l| l.strip_prefix("RESULT "));
    let failed = |why: &str| {
        Error::Setup(format!(
            "python3 failed on the exported program ({}): {why}\n{}",
            exit_words(out),
            stderr_tail(out)
        ))
    };
    if !out.status.success() {
        return Err(failed("its standard error ends with:"));
    }
    let line = line.ok_or_else(|| failed("no RESULT line"))?;
    let doc: serde_json::Value = serde_json::from_str(line).map_err(|e| failed(&format!("RESULT is not JSON: {e}")))?;
    let final_value = raw_field(line, "final")
        .and_then(|t| parse_value(plan.value_type(), t))
        .ok_or_else(|| failed(&format!("RESULT has no final value of type {}: {line}", plan.value_type().name())))?;
    // JSON's text of a NaN has no sign and no payload: a NaN where runner expects a NaN is
    // judged as runner's own run is, as that NaN (both are NaN).
    let judged = match (final_value, plan.expected) {
        (Value::D(f), Value::D(e)) if f.is_nan() && e.is_nan() => plan.expected,
        _ => final_value,
    };
    let verdict = outcome::judge(plan, judged).verdict;
    let ops_per_second = doc["ops_per_second"].as_f64().unwrap_or(0.0);
    Ok(Side { final_value, verdict, wall_seconds, ops_per_second })
}

/// The text of `key`'s value in a flat JSON object (a string without its quotes), so that a
/// double is read by Rust's correctly rounded parser.
fn raw_field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = &line[line.find(&format!("\"{key}\":"))? + key.len() + 3..];
    let rest = rest.trim_start();
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim().trim_matches('"'))
}

/// A value of type `ty` from its text: an integer, or a double's shortest text, `inf`, `-inf`
/// or `nan`.
fn parse_value(ty: ValueType, text: &str) -> Option<Value> {
    match ty {
        ValueType::I => text.parse().ok().map(Value::I),
        ValueType::C => text.parse().ok().map(Value::C),
        ValueType::D => match text.to_ascii_lowercase().as_str() {
            "nan" => Some(Value::D(f64::NAN)),
            "inf" => Some(Value::D(f64::INFINITY)),
            "-inf" => Some(Value::D(f64::NEG_INFINITY)),
            _ => text.parse().ok().map(Value::D),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_raw_fields() {
        let line = r#"{"final": 1e+16, "work_seconds": 0.5, "ops": 3}"#;
        assert_eq!(raw_field(line, "final"), Some("1e+16"));
        assert_eq!(raw_field(line, "ops"), Some("3"));
        assert_eq!(raw_field(r#"{"final": "-inf", "ops": 1}"#, "final"), Some("-inf"));
        assert_eq!(raw_field(line, "missing"), None);
    }

    #[test]
    fn parses_values_exactly() {
        assert_eq!(parse_value(ValueType::D, "0.30000000000000004"), Some(Value::D(0.1 + 0.2)));
        assert_eq!(parse_value(ValueType::D, "-0.0"), Some(Value::D(-0.0)));
        assert_eq!(parse_value(ValueType::D, "NaN"), Some(Value::D(f64::NAN)));
        assert_eq!(parse_value(ValueType::D, "-inf"), Some(Value::D(f64::NEG_INFINITY)));
        assert_eq!(parse_value(ValueType::C, "255"), Some(Value::C(255)));
        assert_eq!(parse_value(ValueType::C, "256"), None);
        assert_eq!(parse_value(ValueType::I, "-2147483648"), Some(Value::I(i32::MIN)));
    }
}
