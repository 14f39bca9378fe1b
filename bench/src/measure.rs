//! Running the three sides of a comparison and reading what they report: runner (its JSON
//! report), the raw loops of `raw.rs` (one JSON line) and the Python program of
//! `runner export-python` (its `RESULT {json}` line); and timing a whole process from outside.
//!
//! Owns: finding the programs, scratch files, child processes. Does not own: what to measure
//! (see `main.rs`) or how to present it (see `document.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value as Json;

/// The programs a benchmark runs, and where it may write.
pub struct Tools {
    pub root: PathBuf,
    pub runner: PathBuf,
    pub raw: PathBuf,
    pub tutorial: PathBuf,
    /// The tutorial's C reference, `bench/seed.c` built by `build.rs`.
    pub seed: PathBuf,
    pub python: Option<String>,
    pub scratch: PathBuf,
}

impl Tools {
    /// The binaries next to this one (one `cargo build --release --workspace` makes them all);
    /// python3 if it is on the PATH.
    pub fn locate() -> Result<Tools, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
        let dir = exe.parent().ok_or("this program has no directory")?.to_path_buf();
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let root = root.canonicalize().unwrap_or(root);
        let find = |name: &str| {
            let path = dir.join(name);
            if path.is_file() {
                Ok(path)
            } else {
                Err(format!("{} not found: build with `cargo build --release --workspace`", path.display()))
            }
        };
        let python = Command::new("python3")
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|_| "python3".to_string());
        let scratch = std::env::temp_dir().join(format!("runner-bench-{}", std::process::id()));
        std::fs::create_dir_all(&scratch).map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
        let seed = PathBuf::from(env!("RUNNER_BENCH_SEED"));
        if !seed.is_file() {
            return Err(format!(
                "{} not found: rebuild runner-bench (its build.rs compiles bench/seed.c)",
                seed.display()
            ));
        }
        Ok(Tools {
            runner: find("runner")?,
            raw: find("raw")?,
            tutorial: find("tutorial")?,
            seed,
            python,
            root,
            scratch,
        })
    }

    /// Writes a job file into the scratch directory.
    pub fn job(&self, name: &str, yaml: &str) -> Result<PathBuf, String> {
        let path = self.scratch.join(format!("{name}.yaml"));
        std::fs::write(&path, yaml).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path)
    }

    /// runner's JSON report of a job; an error unless the verdict is correct.
    pub fn runner(&self, job: &Path) -> Result<Json, String> {
        let out = output(Command::new(&self.runner).arg(job).args(["--format", "json"]))?;
        let report: Json =
            serde_json::from_str(&out).map_err(|e| format!("runner {}: not a JSON report ({e})", job.display()))?;
        if report["correct"] != Json::Bool(true) {
            return Err(format!("runner {}: verdict {}", job.display(), report["verdict"]));
        }
        Ok(report)
    }

    /// A raw loop's JSON line (the loop checks its own final value and exits 1 when wrong).
    pub fn raw(&self, args: &[String]) -> Result<Json, String> {
        let out = output(Command::new(&self.raw).args(args))?;
        serde_json::from_str(out.trim()).map_err(|e| format!("raw {}: not JSON ({e})", args.join(" ")))
    }

    /// The job's Python program (written next to the job), for [`Tools::python`].
    pub fn export_python(&self, job: &Path) -> Result<PathBuf, String> {
        let program = output(Command::new(&self.runner).arg("export-python").arg(job))?;
        let path = job.with_extension("py");
        std::fs::write(&path, program).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path)
    }

    /// What a Python program of `runner export-python` reports on its `RESULT` line.
    pub fn python(&self, program: &Path) -> Result<Json, String> {
        let out = output(&mut self.python_command(program)?)?;
        let line = out
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("RESULT "))
            .ok_or_else(|| format!("{}: no RESULT line", program.display()))?;
        serde_json::from_str(line).map_err(|e| format!("{}: RESULT is not JSON ({e})", program.display()))
    }

    /// A Python program started as a user starts it: `python3 prog.py` (whatever `python3` the
    /// PATH finds) in the program's directory.
    pub fn python_command(&self, program: &Path) -> Result<Command, String> {
        let python = self.python.as_deref().ok_or("python3 is not installed")?;
        let mut command = Command::new(python);
        command.arg(program.file_name().ok_or("a Python program without a file name")?);
        if let Some(dir) = program.parent() {
            command.current_dir(dir);
        }
        Ok(command)
    }
}

impl Drop for Tools {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// A command's standard output; an error with its standard error when it fails.
fn output(command: &mut Command) -> Result<String, String> {
    let out = command.stdin(Stdio::null()).output().map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("{command:?} failed ({}): {}", out.status, err.trim()));
    }
    String::from_utf8(out.stdout).map_err(|_| format!("{command:?}: output is not UTF-8"))
}

/// A number at a JSON path such as `["phases", "fork_seconds"]`.
pub fn number(doc: &Json, path: &[&str]) -> f64 {
    path.iter().fold(doc, |d, k| &d[*k]).as_f64().unwrap_or(f64::NAN)
}

/// Median, min and max of some samples (NaN when there are none).
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub n: usize,
}

impl Spread {
    pub fn of(values: &[f64]) -> Spread {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        match runner::sweep::summary::Summary::of(&finite) {
            Some(s) => Spread { median: s.median, min: s.min, max: s.max, n: s.runs },
            None => Spread { median: f64::NAN, min: f64::NAN, max: f64::NAN, n: 0 },
        }
    }

    /// Per-round ratios `a[k] / b[k]` of two sides measured back to back.
    pub fn ratio(a: &[f64], b: &[f64]) -> Spread {
        let ratios: Vec<f64> = a.iter().zip(b).map(|(x, y)| x / y).collect();
        Spread::of(&ratios)
    }
}
