//! The job file: reading it from disk or standard input, parsing it with positions, and the
//! [`JobSpec`] that mirrors what the user wrote.
//!
//! Owns: every check that needs only the file's shape (is it readable, UTF-8, small enough, YAML,
//! a mapping with known fields of the right kinds). Does not own: what the values mean
//! together, defaults or the expected value (see `plan`). Never forks, never writes.
//!
//! Also here: `limits.rs`, the limits the planner checks (so that the job schema can state them
//! without importing the planner), and `schema.rs`, the job files' JSON Schema.

pub mod axis;
mod job;
pub(crate) mod limits;
pub mod matrix;
mod read;
mod schema;
mod suggest;
mod tree;

use std::io::Read;

pub use job::{
    At, EngineSpec, ExpectOutcome, FAULT_FIELDS, FaultAction, FaultSpec, HOST_FIELDS, HostSpec, JOB_FIELDS, JobSpec,
    Literal, Operand, Pin, TRACE_FIELDS, TraceSpec, VALUE_FIELDS, ValueSpec, WorkSpec,
};
pub use matrix::Cell;
pub(crate) use read::{parse_duration, parse_timeout};
pub use schema::{SCHEMA_TEXT, flowing_descriptions, schema};
pub(crate) use suggest::did_you_mean;

use crate::error::{Diagnostic, Pos};

/// The largest job file accepted: a job is a few hundred bytes, so anything this size is a mistake.
pub(crate) const MAX_FILE_BYTES: u64 = 1 << 20;

/// A job file's text and how to name it in messages.
pub(crate) struct Source {
    /// As given on the command line; `-` for standard input.
    pub(crate) label: String,
    pub(crate) text: String,
}

impl Source {
    /// The name a job gets when it gives none: the file's stem.
    pub(crate) fn stem(&self) -> String {
        if self.label == "-" {
            return "stdin".to_string();
        }
        std::path::Path::new(&self.label)
            .file_stem()
            .map_or_else(|| self.label.clone(), |s| s.to_string_lossy().into_owned())
    }
}

/// Reads a job file (`-` for standard input): missing, unreadable, a directory, too large or not
/// UTF-8 each give one diagnostic.
pub(crate) fn read_source(label: &str) -> Result<Source, Diagnostic> {
    read_checked(label, check_input(label)?)
}

/// [`read_source`] of a job file [`check_input`] already looked at (one look, not two).
pub(crate) fn read_checked(label: &str, input: Input) -> Result<Source, Diagnostic> {
    // Room for the whole file and one byte more (at least 4 KiB, for standard input, whose size
    // is not known): one read takes the file, the next says its end (not a growing buffer's reads
    // of 32, 32, 64... bytes).
    let mut bytes = Vec::with_capacity(input.size.clamp(4095, MAX_FILE_BYTES) as usize + 1);
    let read = if label == "-" {
        std::io::stdin().lock().take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(label).and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
    };
    source_from(label, read.map(|_| bytes))
}

/// What [`check_input`] saw of a job file: its size as it says (0 for standard input), and
/// whether it is a regular file (which a read cannot keep waiting).
#[derive(Clone, Copy)]
pub(crate) struct Input {
    pub size: u64,
    pub regular: bool,
}

/// What can be said of a job file before reading it: standard input closed at start, a
/// directory, a file that is not there; otherwise its size and kind ([`Input`]).
pub(crate) fn check_input(label: &str) -> Result<Input, Diagnostic> {
    if label == "-" {
        if crate::stdio::at_start().stdin_closed {
            // The runtime put `/dev/null` there: an empty job, for a reason the file cannot show.
            return Err(Diagnostic::file(label, "standard input is closed: there is no job to read"));
        }
        return Ok(Input { size: 0, regular: false });
    }
    match std::fs::metadata(label) {
        Ok(meta) if meta.is_dir() => Err(Diagnostic::file(label, "is a directory, not a job file")),
        Ok(meta) => Ok(Input { size: meta.len(), regular: meta.is_file() }),
        Err(e) => Err(Diagnostic::file(label, io_message(&e))),
    }
}

/// A job file's source from the bytes read (at most [`MAX_FILE_BYTES`] and one more, to tell a
/// larger file), or the diagnostic of a failed read, a file too large or not UTF-8.
pub(crate) fn source_from(label: &str, read: std::io::Result<Vec<u8>>) -> Result<Source, Diagnostic> {
    let bytes = read.map_err(|e| Diagnostic::file(label, io_message(&e)))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Diagnostic::file(label, format!("too large: a job file is at most {MAX_FILE_BYTES} bytes")));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Source { label: label.to_string(), text }),
        Err(e) => {
            let bytes = e.as_bytes();
            let bad = e.utf8_error().valid_up_to();
            Err(Diagnostic::at(
                label,
                position_of(bytes, bad),
                "",
                format!("not UTF-8: invalid byte 0x{:02X}", bytes[bad]),
            ))
        }
    }
}

/// The line and column (in characters) of a byte offset; the text before it is valid UTF-8.
fn position_of(bytes: &[u8], offset: usize) -> Pos {
    let before = String::from_utf8_lossy(&bytes[..offset]);
    let line = before.matches('\n').count() as u64 + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
    Pos { line, column }
}

fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            // The OS text without Rust's " (os error N)" suffix.
            let text = e.to_string();
            text.split(" (os error").next().unwrap_or(&text).to_string()
        }
    }
}

/// One job of a file: the matrix cell it is (empty without a matrix), the spec, and the
/// problems of shape found reading it (possibly none).
pub(crate) struct Parsed {
    pub(crate) cell: Cell,
    pub(crate) spec: JobSpec,
    pub(crate) found: Vec<Diagnostic>,
    /// Those of `found` that belong to the file, not to this cell (its YAML tags).
    pub(crate) file_wide: Vec<Diagnostic>,
    /// Where each tagged scalar's value stands (from, to).
    tagged_scalars: Vec<(Pos, Pos)>,
}

impl Parsed {
    /// Whether `d` speaks of a tagged scalar's value: the value reads as the tag made it
    /// (`!!null 1` as null, `! 1` as a string), so what is said of it there is the tag's doing,
    /// said once by the tag's own diagnostic.
    pub(crate) fn of_a_tagged_value(&self, d: &Diagnostic) -> bool {
        d.pos.is_some_and(|p| self.tagged_scalars.iter().any(|&(from, to)| from <= p && p < to))
    }
}

/// Parses a source into its jobs (one per matrix cell; one without a matrix). `Err` when nothing
/// could be read (syntax, budget, a broken matrix). YAML tags are refused, every one, with the
/// file's other problems: each job's `found` holds them.
pub(crate) fn parse(source: &Source) -> Result<Vec<Parsed>, Vec<Diagnostic>> {
    parse_with(source, &[])
}

/// [`parse`] with the command line's matrix axes (`--matrix`) put into the job before its
/// matrix is expanded (see `axis.rs`); what is found in their values stands at line 0, which
/// [`axis::on_the_command_line`] turns into the flag's name.
pub(crate) fn parse_with(source: &Source, axes: &[axis::Axis]) -> Result<Vec<Parsed>, Vec<Diagnostic>> {
    let root = tree::parse(&source.text).map_err(|(pos, message)| {
        vec![Diagnostic { file: source.label.clone(), pos: Some(pos.unwrap_or(Pos::START)), field: None, message }]
    })?;
    let root = axis::with_axes(root, axes);
    let (tagged, scalars) = tags(source);
    let cells = matrix::expand(&root, &source.label).map_err(|found| [tagged.clone(), found].concat())?;
    Ok(cells
        .into_iter()
        .map(|cell| {
            let (spec, mut found) = read::read(&cell.root, &source.label);
            found.extend(tagged.iter().cloned());
            Parsed { cell, spec, found, file_wide: tagged.clone(), tagged_scalars: scalars.clone() }
        })
        .collect())
}

/// The refusal of every YAML tag in the source (the first hundred, and how many more), and
/// where each tagged scalar's value stands.
///
/// Every YAML tag is written with a `!` (`!local`, `!!core`, `!handle!suffix`, `!<verbatim>`;
/// a `%TAG` directive only names a handle, which a node must still write with its `!`), so a
/// text with no `!` anywhere (in a value, a comment or a quoted string alike) has no tag, and
/// the second pass over it, a third of the parse, is skipped.
fn tags(source: &Source) -> (Vec<Diagnostic>, Vec<(Pos, Pos)>) {
    if !source.text.contains('!') {
        return (Vec::new(), Vec::new());
    }
    let (tags, more) = tree::tags(&source.text);
    let scalars = tags.iter().filter_map(|tag| tag.scalar).collect();
    let mut found: Vec<Diagnostic> =
        tags.into_iter().map(|tag| Diagnostic::at(&source.label, tag.pos, "", tag.message)).collect();
    if let Some((pos, more)) = more {
        found.push(Diagnostic::at(&source.label, pos, "", format!("{more} more YAML tags from here on not shown")));
    }
    (found, scalars)
}
