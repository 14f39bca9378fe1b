//! Drives the real `runner` binary: every test forks real processes through real backends.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }
}

pub fn runner(args: &[&str]) -> Output {
    runner_with_stdin(args, None)
}

pub fn runner_with_stdin(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_runner"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runner starts");
    if let Some(input) = stdin {
        // A refused input may close the pipe early; that is fine.
        let _ = child.stdin.take().expect("stdin").write_all(input);
    }
    let out = child.wait_with_output().expect("runner ends");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Writes a job file under the test target directory and returns its path.
pub fn job_file(name: &str, contents: impl AsRef<[u8]>) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("jobs");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write job");
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
