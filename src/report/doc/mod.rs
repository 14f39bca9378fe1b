//! The JSON documents runner prints, as types: each document is a `Serialize` + `JsonSchema`
//! struct tree filled from typed data (a `Plan`, an `Outcome` and its `Judgement`, a sweep's
//! cells), so that the schemas in `schemas/` are generated from the same types that write the
//! documents ([`schemas`]; `tests/report.rs` holds the files to them).
//!
//! Owns: the documents' shapes and the pieces they share (the runner header, the schema
//! version, a value of the job's type, a diagnostic, the error document). Does not own: any
//! decision (verdicts, exit codes) or where the bytes go.

pub(crate) mod check;
pub(crate) mod compare;
pub(crate) mod hosts;
pub(crate) mod job;
pub(crate) mod measures;
pub(crate) mod redis;
pub(crate) mod run;
pub(crate) mod sweep;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Serialize, Serializer};

use crate::error::Diagnostic;
use crate::value::Value;

pub(crate) use crate::sweep::summary::Summary;
pub(crate) use check::Expected;
pub(crate) use compare::{ChangeInterval, Compare, CompareCell, ComparePython, JobDifference};
pub(crate) use job::Job;
pub(crate) use run::Run;
pub(crate) use sweep::{Catalog, Cell, Comparison, Params, Sweep};

/// The version of every JSON document runner prints: it changes when a field changes meaning
/// or goes away; new fields may appear without it. 2: `expected` is the check, typed by its
/// kind (exact, one of a set, an interval), in every document; new verdicts.
pub const SCHEMA_VERSION: u32 = 2;

/// `schema_version`, always [`SCHEMA_VERSION`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SchemaVersion;

impl Serialize for SchemaVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(SCHEMA_VERSION)
    }
}

impl JsonSchema for SchemaVersion {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "schema_version".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Changes when a field changes meaning or goes away; new fields may appear without it.",
            "const": SCHEMA_VERSION
        })
    }
}

/// A string that is always the same: a unit.
macro_rules! constant {
    ($name:ident, $text:literal) => {
        #[derive(Clone, Copy, Debug, Default)]
        pub(crate) struct $name;

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($text)
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn inline_schema() -> bool {
                true
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "const": $text })
            }
        }
    };
}
pub(crate) use constant;

/// The runner that wrote a document.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct RunnerHeader {
    pub version: String,
    /// The git commit runner was built from; empty outside a checkout; `-dirty` with
    /// uncommitted changes.
    pub commit: String,
}

impl RunnerHeader {
    /// This runner.
    pub fn this() -> RunnerHeader {
        RunnerHeader { version: crate::version::VERSION.to_string(), commit: crate::version::COMMIT.to_string() }
    }
}

/// The machine a run ran on.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Host {
    pub cpu: Option<String>,
    pub cores: Option<usize>,
    /// `Linux 6.1.0 x86_64`.
    pub kernel: Option<String>,
}

impl Host {
    /// This machine.
    pub fn this() -> Host {
        let host = crate::host::host();
        Host { cpu: host.cpu, cores: host.cores, kernel: host.kernel }
    }
}

/// How many operations a value can be the result of: the fewest and the most.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct AppliedRange {
    pub min: u64,
    pub max: u64,
}

/// A value of the job's type: a JSON number (a byte as its code), or `"inf"`, `"-inf"`, `"nan"`
/// for a non-finite double.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Num(pub Value);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.to_json().serialize(s)
    }
}

impl JsonSchema for Num {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "value".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A value of the job's type: a JSON number (a byte as its code), or \"inf\", \"-inf\", \"nan\" for a non-finite double.",
            "oneOf": [{ "type": "number" }, { "enum": ["inf", "-inf", "nan"] }]
        })
    }
}

/// One problem in a job file: `FILE:LINE:COLUMN: FIELD: message` as data.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Diag {
    /// The file as named on the command line (`-` for standard input).
    pub file: String,
    /// 1-based; absent for a problem with the file as a whole or with a flag.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub line: Option<u64>,
    /// 1-based, in characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub column: Option<u64>,
    /// The dotted path of the field (`value.initial`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

impl From<&Diagnostic> for Diag {
    fn from(d: &Diagnostic) -> Diag {
        Diag {
            file: d.file.clone(),
            line: d.pos.map(|p| p.line),
            column: d.pos.map(|p| p.column),
            field: d.field.clone(),
            message: d.message.clone(),
        }
    }
}

pub(crate) fn diags(diagnostics: &[Diagnostic]) -> Vec<Diag> {
    diagnostics.iter().map(Diag::from).collect()
}

/// What any command prints in JSON mode when it cannot do its work: the job is invalid, or the
/// run could not be set up (then `diagnostics` is empty).
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields, title = "runner error")]
pub(crate) struct ErrorDoc {
    pub schema_version: SchemaVersion,
    /// `invalid job`, or the error's message.
    pub error: String,
    pub diagnostics: Vec<Diag>,
    /// Only for a job that expects a fork to fail, and whose fork failed: the outcome it declares.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_outcome: Option<crate::spec::ExpectOutcome>,
    /// Only with `expect_outcome`: true, the declared outcome happened (the run passes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome_as_expected: Option<bool>,
    /// Only when a signal came before anything ran: the signal (nothing ran, nothing to report).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interrupted_by: Option<run::Signal>,
}

impl ErrorDoc {
    /// A job that could not be planned.
    pub fn invalid(diagnostics: &[Diagnostic]) -> ErrorDoc {
        ErrorDoc {
            schema_version: SchemaVersion,
            error: "invalid job".to_string(),
            diagnostics: diags(diagnostics),
            expect_outcome: None,
            outcome_as_expected: None,
            interrupted_by: None,
        }
    }

    /// A command that failed with `message` (an error as rendered: `error: ` and the final
    /// newline are dropped).
    pub fn failed(message: &str) -> ErrorDoc {
        ErrorDoc {
            schema_version: SchemaVersion,
            error: message.trim_start_matches("error: ").trim_end().to_string(),
            diagnostics: Vec::new(),
            expect_outcome: None,
            outcome_as_expected: None,
            interrupted_by: None,
        }
    }

    /// A run that a signal stopped before anything ran (`message` as for [`ErrorDoc::failed`]).
    pub fn interrupted(signal: crate::error::Interrupt, message: &str) -> ErrorDoc {
        ErrorDoc { interrupted_by: Some(signal.into()), ..ErrorDoc::failed(message) }
    }
}

/// `runner validate`: every file and its problems.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields, title = "runner validate")]
pub(crate) struct Validate {
    pub schema_version: SchemaVersion,
    pub files: Vec<Validated>,
}

/// One file that `runner validate` read.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Validated {
    pub file: String,
    /// No diagnostics.
    pub ok: bool,
    pub diagnostics: Vec<Diag>,
}

/// `runner plan` of a job without a matrix: what runner would do.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields, title = "runner plan")]
pub(crate) struct PlanDoc {
    pub schema_version: SchemaVersion,
    pub file: String,
    pub job: Job,
    /// Worker processes forked.
    pub processes: u32,
    /// The backend and how it is set up, in words.
    pub backend_setup: String,
    pub operations_per_worker: u64,
    /// channel: the messages each worker sends; null for the other backends.
    pub messages_per_worker: Option<u64>,
    pub total_operations: u64,
    /// How the final value will be checked.
    pub expected: Expected,
    /// When runner stops the workers, whether the job states it or not.
    pub deadline: PlanDeadline,
    /// The runs of the job (of every cell of a matrix).
    pub runs: PlanRuns,
    pub notices: Vec<String>,
}

/// The deadline a run has, and the grace between SIGTERM and SIGKILL.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct PlanDeadline {
    /// From the workers' start; past it they get SIGTERM.
    pub timeout_ns: u64,
    /// True when neither the job nor `--timeout` states one: 30 s + 10 µs per operation +
    /// twice the busy work, at most a week.
    pub default: bool,
    /// Between SIGTERM and SIGKILL (`--grace`, default 2 s).
    pub grace_ns: u64,
}

/// Counted runs, and uncounted runs before them.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct PlanRuns {
    pub repeat: u32,
    pub warmup: u32,
}

impl PlanDoc {
    pub fn new(plan: &crate::plan::Plan) -> PlanDoc {
        let channel = plan.backend.kind() == crate::names::BackendKind::Channel;
        PlanDoc {
            schema_version: SchemaVersion,
            file: plan.file.clone(),
            job: Job::new(plan),
            processes: plan.workers,
            backend_setup: plan.backend_setup().to_string(),
            operations_per_worker: plan.iterations,
            messages_per_worker: channel.then(|| plan.messages_per_worker()),
            total_operations: plan.total_ops(),
            expected: Expected::new(plan),
            deadline: PlanDeadline {
                timeout_ns: plan.deadline.timeout_ns,
                default: !plan.deadline.stated,
                grace_ns: plan.deadline.grace_ns,
            },
            runs: PlanRuns { repeat: plan.repeat, warmup: plan.warmup },
            notices: plan.notices.clone(),
        }
    }
}

/// `runner plan` of a job with a matrix: one plan per cell.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields, title = "runner plan of a matrix")]
pub(crate) struct PlanCells {
    pub schema_version: SchemaVersion,
    pub cells: Vec<PlanCell>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct PlanCell {
    /// `key=value` pairs of the matrix.
    pub cell: String,
    pub plan: PlanDoc,
}

/// What `runner plan --format json` prints.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
#[allow(dead_code, reason = "a schema's root: what a command may print, never built itself")]
#[schemars(title = "runner plan")]
pub(crate) enum PlanOutput {
    Plan(Box<PlanDoc>),
    Cells(PlanCells),
    Error(ErrorDoc),
}

/// What `runner JOB --format json` prints: a run, a sweep, a catalog, or an error.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
#[allow(dead_code, reason = "a schema's root: what a command may print, never built itself")]
#[schemars(title = "runner report")]
pub(crate) enum RunOutput {
    Run(Box<Run>),
    Sweep(Box<Sweep>),
    Catalog(Catalog),
    Error(ErrorDoc),
}

/// What `runner compare --format json` prints.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
#[allow(dead_code, reason = "a schema's root: what a command may print, never built itself")]
#[schemars(title = "runner compare")]
pub(crate) enum CompareOutput {
    Compare(Compare),
    Error(ErrorDoc),
}

/// What `runner compare-python --format json` prints.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
#[allow(dead_code, reason = "a schema's root: what a command may print, never built itself")]
#[schemars(title = "runner compare-python")]
pub(crate) enum ComparePythonOutput {
    Compare(Box<ComparePython>),
    Error(ErrorDoc),
}

/// One schema per document: its file name under `schemas/` and the schema.
pub fn schemas() -> Vec<(&'static str, serde_json::Value)> {
    fn one<T: JsonSchema>(name: &str, description: &str) -> serde_json::Value {
        // What runner writes, not what it would accept: a field that is always written (null
        // included) is required.
        let generator = schemars::generate::SchemaSettings::draft07().for_serialize().into_generator();
        let mut schema = generator.into_root_schema_for::<T>();
        schema.insert("$id".into(), format!("https://github.com/runner/runner/schemas/{name}").into());
        schema.insert("description".into(), description.into());
        let mut schema = schema.to_value();
        // Hover text in an editor: no hard line wraps from the doc comments.
        crate::spec::flowing_descriptions(&mut schema);
        schema
    }
    vec![
        (
            "report.schema.json",
            one::<RunOutput>(
                "report.schema.json",
                "What `runner JOB --format json` prints on standard output: one document, a run report, a sweep, a catalog of several job files, or, when the job could not be run, an error.",
            ),
        ),
        (
            "sweep.schema.json",
            one::<Sweep>(
                "sweep.schema.json",
                "A sweep: every cell of a matrix, or repeated runs of one job (`--export-json`, and `runner JOB --format json` for such a job).",
            ),
        ),
        (
            "error.schema.json",
            one::<ErrorDoc>(
                "error.schema.json",
                "What any command prints in JSON mode when it cannot do its work: the job is invalid (with its diagnostics), or the run could not be set up.",
            ),
        ),
        (
            "plan.schema.json",
            one::<PlanOutput>(
                "plan.schema.json",
                "What `runner plan --format json` prints: the plan of a job, one plan per cell of a matrix, or the diagnostics of an invalid job.",
            ),
        ),
        (
            "validate.schema.json",
            one::<Validate>(
                "validate.schema.json",
                "What `runner validate --format json` prints: every file and its diagnostics.",
            ),
        ),
        (
            "compare.schema.json",
            one::<CompareOutput>(
                "compare.schema.json",
                "What `runner compare OLD.json NEW.json --format json` prints: per cell, the change in median ops/s and whether it is beyond the noise.",
            ),
        ),
        (
            "compare-python.schema.json",
            one::<ComparePythonOutput>(
                "compare-python.schema.json",
                "What `runner compare-python JOB --format json` prints: the job run by runner and by its Python equivalent, side by side.",
            ),
        ),
    ]
}
