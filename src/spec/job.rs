//! The job file exactly as written: every field optional here (a broken file still yields what
//! it got right), each with the position it was written at. The JSON Schema is derived from
//! these types, so the doc comments below are what editors show.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Serialize;

use crate::error::Pos;
use crate::sync::BackendKind;
use crate::value::{OpKind, ValueType};

/// A value and where it was written.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct At<T> {
    pub value: T,
    #[serde(skip)]
    pub pos: Pos,
}

impl<T: JsonSchema> JsonSchema for At<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// A literal as written: its meaning depends on `value.type`, so the planner reads it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Literal {
    Int(i128),
    Float(f64),
    Str(String),
}

impl JsonSchema for Literal {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Literal".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A number for `i` and `d` (an integer for `i`); for `c` an integer 0..=255 or a one-character ASCII string meaning its code.",
            "anyOf": [
                { "type": "number" },
                { "type": "string", "minLength": 1, "maxLength": 1 }
            ]
        })
    }
}

/// A runner job: how many worker processes share one value, what each applies to it, and which
/// synchronisation backend keeps it consistent.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "runner job")]
pub struct JobSpec {
    /// The job's name; defaults to the file's stem.
    #[serde(default)]
    #[schemars(with = "String")]
    pub name: Option<At<String>>,
    /// What the job shows or which question it answers.
    #[serde(default)]
    #[schemars(with = "String")]
    pub description: Option<At<String>>,
    /// How many worker processes to fork (1..=1024).
    #[schemars(required, with = "u32", range(min = 1, max = 1024))]
    pub workers: Option<At<i128>>,
    /// Operations per worker (default 1); workers x iterations must fit in 64 bits.
    #[serde(default)]
    #[schemars(with = "u64", range(min = 1))]
    pub iterations: Option<At<i128>>,
    /// The shared value.
    #[schemars(required, with = "ValueSpec")]
    pub value: Option<At<ValueSpec>>,
    /// The operation every worker applies.
    #[schemars(required, with = "OpKind")]
    pub operation: Option<At<OpKind>>,
    /// The operand; optional for add and sub (default 1), required for the others.
    #[serde(default)]
    #[schemars(with = "Literal")]
    pub operand: Option<At<Literal>>,
    /// The mechanism that keeps the value consistent.
    #[schemars(required, with = "BackendKind")]
    pub backend: Option<At<BackendKind>>,
    /// Channel only: operations per message (1..=65536, default 1); a last partial batch is sent.
    #[serde(default)]
    #[schemars(with = "u32", range(min = 1, max = 65536))]
    pub batch: Option<At<i128>>,
    /// The final value the job states it ends with; checked against the planner's value.
    #[serde(default)]
    #[schemars(with = "Literal")]
    pub expect: Option<At<Literal>>,
    /// Write a Chrome trace of the run (`--trace` and `--trace-ops` win over this).
    #[serde(default)]
    #[schemars(with = "TraceSpec")]
    pub trace: Option<At<TraceSpec>>,
    /// Where the job's mapping starts (for fields that are missing).
    #[serde(skip)]
    #[schemars(skip)]
    pub pos: Pos,
}

/// The shared value: its type and where it starts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValueSpec {
    /// `i` (C int), `d` (C double) or `c` (one byte), as in Python's `multiprocessing.Value`.
    #[serde(rename = "type")]
    #[schemars(required, with = "ValueType")]
    pub ty: Option<At<ValueType>>,
    /// The starting value (default 0).
    #[serde(default)]
    #[schemars(with = "Literal")]
    pub initial: Option<At<Literal>>,
    #[serde(skip)]
    #[schemars(skip)]
    pub pos: Pos,
}

// `default` on a field only tells the schema which fields may be left out (those not marked
// `required`); the spec is read by `read.rs`, never deserialised.

/// Where and how much to trace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TraceSpec {
    /// The trace file (Chrome trace-event JSON, for Perfetto or chrome://tracing), relative to
    /// the working directory.
    #[schemars(required, with = "String")]
    pub file: Option<At<String>>,
    /// Per-operation events (default false), sampled evenly beyond a fixed total.
    #[serde(default)]
    #[schemars(with = "bool")]
    pub ops: Option<At<bool>>,
    #[serde(skip)]
    #[schemars(skip)]
    pub pos: Pos,
}

/// The fields of `trace`.
pub const TRACE_FIELDS: [&str; 2] = ["file", "ops"];

/// The fields of a job, in the order the reader reports them.
pub const JOB_FIELDS: [&str; 11] = [
    "name",
    "description",
    "workers",
    "iterations",
    "value",
    "operation",
    "operand",
    "backend",
    "batch",
    "expect",
    "trace",
];
/// The fields of `value`.
pub const VALUE_FIELDS: [&str; 2] = ["type", "initial"];

/// The JSON Schema (draft-07, which editors' YAML support reads) of a job file.
pub fn schema() -> Schema {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    generator.into_root_schema_for::<JobSpec>()
}
