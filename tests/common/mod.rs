//! Drives the real `runner` binary: every test forks real processes through real backends.
//!
//! [`Test`] is the one builder, in the manner of just's `tests/test.rs`: a job file, a command,
//! and the whole expected output.
//!
//! ```ignore
//! Test::new()
//!     .job("dup.yaml", "workers: 2\nworkers: 3\n")
//!     .args(&["validate", "{job}"])
//!     .status(2)
//!     .stdout("")
//!     .stderr("{job}:2:1: workers: duplicate field (first given at line 1)\n")
//!     .run();
//! ```
#![allow(dead_code)]

/// A redis-server of a test's own: [`redis::RedisServer`].
pub mod redis;

/// Hosts made of network namespaces, with a redis-server in one: [`netns::Net`].
pub mod netns;

/// A cgroup of a test's own (memory, pids): [`cgroup::Cgroup`].
pub mod cgroup;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The test's own folder, removed when the output is dropped.
    scratch: Option<Scratch>,
}

impl Output {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }

    /// `text` with the test's temporary folder written `[tmp]`, so that it reads the same in
    /// every run (for snapshots).
    pub fn without_tmp(&self, text: &str) -> String {
        match &self.scratch {
            Some(scratch) => text.replace(&scratch.path(), "[tmp]"),
            None => text.to_string(),
        }
    }
}

/// A folder of one test under `CARGO_TARGET_TMPDIR`, unique to the test binary's process and the
/// test, so that tests running at once (and two copies of the suite) never share a file.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let thread = std::thread::current();
        let test: String = thread
            .name()
            .unwrap_or("test")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '-' })
            .collect();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("t").join(format!(
            "{test}.{}.{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Scratch(dir)
    }

    fn path(&self) -> String {
        self.0.to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One run of the binary: what to give it and, optionally, the whole output it must give.
///
/// In the arguments and in the expected outputs, `{job}` is the path of the last file written
/// with [`Test::job`]. The working directory is the manifest's, so `jobs/...` names the catalog.
#[must_use]
pub struct Test {
    scratch: Option<Scratch>,
    job: Option<String>,
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
    status: Option<i32>,
    stdout: Option<String>,
    stderr: Option<String>,
    env: Vec<(String, String)>,
}

impl Default for Test {
    fn default() -> Self {
        Self::new()
    }
}

impl Test {
    pub fn new() -> Self {
        Test {
            scratch: None,
            job: None,
            args: Vec::new(),
            stdin: None,
            status: None,
            stdout: None,
            stderr: None,
            env: Vec::new(),
        }
    }

    /// Sets an environment variable for runner (`RUNNER_REDIS`).
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Writes a job file named `name` into the test's own folder; `{job}` is its path.
    pub fn job(mut self, name: &str, contents: impl AsRef<[u8]>) -> Self {
        let scratch = self.scratch.get_or_insert_with(Scratch::new);
        let path = scratch.0.join(name);
        std::fs::write(&path, contents).expect("write job");
        self.job = Some(path.to_string_lossy().into_owned());
        self
    }

    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_string());
        self
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// Standard input; without it, standard input is `/dev/null`.
    pub fn stdin(mut self, input: impl AsRef<[u8]>) -> Self {
        self.stdin = Some(input.as_ref().to_vec());
        self
    }

    /// The exit code the run must end with.
    pub fn status(mut self, code: i32) -> Self {
        self.status = Some(code);
        self
    }

    /// The whole standard output the run must print.
    pub fn stdout(mut self, expected: impl Into<String>) -> Self {
        self.stdout = Some(expected.into());
        self
    }

    /// The whole standard error the run must print.
    pub fn stderr(mut self, expected: impl Into<String>) -> Self {
        self.stderr = Some(expected.into());
        self
    }

    fn expand(&self, text: &str) -> String {
        match &self.job {
            Some(job) => text.replace("{job}", job),
            None => text.to_string(),
        }
    }

    /// Runs the binary, checks every expectation given (all of them, then one panic that shows
    /// the whole output), and returns the output.
    #[track_caller]
    pub fn run(self) -> Output {
        let args: Vec<String> = self.args.iter().map(|a| self.expand(a)).collect();
        let mut child = Command::new(runner_bin())
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(if self.stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("runner starts");
        if let Some(input) = &self.stdin {
            // A refused input may close the pipe early; that is fine.
            let _ = child.stdin.take().expect("stdin").write_all(input);
        }
        let out = child.wait_with_output().expect("runner ends");
        let output = Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            scratch: None,
        };
        let mut mismatches = Vec::new();
        if let Some(status) = self.status.filter(|&s| s != output.code) {
            mismatches.push(format!("exit code: expected {status}, found {}", output.code));
        }
        for (name, expected, found) in
            [("stdout", &self.stdout, &output.stdout), ("stderr", &self.stderr, &output.stderr)]
        {
            if let Some(expected) = expected.as_deref().map(|e| self.expand(e)).filter(|e| e != found) {
                mismatches.push(format!("{name}: expected\n{expected}\n--- found\n{found}\n---"));
            }
        }
        assert!(
            mismatches.is_empty(),
            "runner {}\n{}\n\nstdout:\n{}\nstderr:\n{}",
            args.join(" "),
            mismatches.join("\n"),
            output.stdout,
            output.stderr
        );
        Output { scratch: self.scratch, ..output }
    }
}

pub fn runner(args: &[&str]) -> Output {
    Test::new().args(args).run()
}

pub fn runner_with_stdin(args: &[&str], stdin: Option<&[u8]>) -> Output {
    match stdin {
        Some(input) => Test::new().args(args).stdin(input).run(),
        None => runner(args),
    }
}

/// Writes a job file under the test target directory and returns its path.
pub fn job_file(name: &str, contents: impl AsRef<[u8]>) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("jobs");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    // Parallel tests may write the same file: each writes its own copy and renames it into
    // place, so that no runner ever reads a file another test is rewriting (seen empty).
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
    std::fs::write(&tmp, contents).expect("write job");
    std::fs::rename(&tmp, &path).expect("rename job into place");
    path.to_string_lossy().into_owned()
}

/// A job file from its parts.
pub fn job(workers: u64, iterations: u64, ty: &str, initial: &str, op: &str, operand: &str, backend: &str) -> String {
    format!(
        "workers: {workers}\niterations: {iterations}\nvalue:\n  type: {ty}\n  initial: {initial}\noperation: {op}\noperand: {operand}\nbackend: {backend}\n"
    )
}

/// The validator of `schemas/report.schema.json`.
pub fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/report.schema.json")).unwrap();
    jsonschema::draft7::new(&serde_json::from_str(&text).unwrap()).expect("a valid draft-07 schema")
}

pub fn assert_valid(v: &jsonschema::Validator, doc: &serde_json::Value) {
    let errors: Vec<String> = v.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
}

/// The binary under test: this build's, or the one `RUNNER_BIN` names, so that a new test can be
/// shown to fail on an older runner (`RUNNER_BIN=/path/to/old/runner cargo test --test cli`).
pub fn runner_bin() -> PathBuf {
    std::env::var_os("RUNNER_BIN").map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_runner")), PathBuf::from)
}

/// The pids of `pid`'s children (none when it has ended).
pub fn children(pid: u32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Waits for `child` at most `bound`; past it, kills it and fails, naming `what`.
pub fn wait_at_most(
    child: &mut std::process::Child,
    bound: std::time::Duration,
    what: &str,
) -> std::process::ExitStatus {
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > bound {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {bound:?}; killed");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The scheduling policy of each child of `pid` (field 41 of `/proc/PID/stat`: 0 normal, 3 batch, 5 idle),
/// once it has `count` children; empty if it never has.
pub fn children_policies(pid: u32, count: usize) -> Vec<u32> {
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(10) {
        let children: Vec<String> = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect();
        if children.len() == count {
            // The policy is set first thing after the fork: give the children a moment.
            std::thread::sleep(std::time::Duration::from_millis(100));
            return children.iter().filter_map(|c| policy_of(c)).collect();
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    Vec::new()
}

/// The scheduling policy of process `pid` (`self` for this one): field 41 of its `stat`; `None`
/// once it is gone.
fn policy_of(pid: &str) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command's closing parenthesis, fields start at 3.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split_whitespace().nth(41 - 3)?.parse().ok()
}

/// Runs `runner JOB --format json` (which must exit 0) and reads its `count` workers' scheduling
/// policies while they run (`children_policies`): the policies and the JSON report.
pub fn run_reading_policies(path: &str, count: usize) -> (Vec<u32>, serde_json::Value) {
    let child = Command::new(runner_bin())
        .args([path, "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runner starts");
    let policies = children_policies(child.id(), count);
    let out = child.wait_with_output().expect("runner ends");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report = serde_json::from_slice(&out.stdout).expect("a JSON report");
    (policies, report)
}

/// This process's scheduling policy (0 unless the tests were started under `chrt`): what a
/// worker that asks for nothing inherits, and what keeps a worker from asking.
pub fn own_policy() -> u32 {
    policy_of("self").expect("field 41 of /proc/self/stat: the policy")
}
