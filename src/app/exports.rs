//! The files a sweep (or a single run, besides its report) keeps up to date (`--export-json`,
//! `--export-csv`, `--export-markdown`, `--plot`), each rewritten whole after every cell; a
//! stream (`/dev/stdout`, a FIFO) is opened before the first cell (a FIFO that nothing reads is
//! an error then, before anything runs) and written once, after the last cell.
//!
//! Every rewrite before the last says that the sweep was still running (`in_progress: true`,
//! the CSV's `sweep` column, a line above the Markdown table, the plot's title), the first
//! (before any cell) too, so that a file left by a killed runner cannot pass for a whole sweep.
//! A file that cannot be rewritten after a cell (a full disk) is given up: it keeps its previous
//! rewrite, which says how many cells it has of how many (in progress), the failure is said on
//! standard error and in the report, and the sweep goes on; a stream that cannot be written is
//! given up the same way, and said to have at most part of the export.
//!
//! Owns: which files are asked for, opening the streams, rewriting the files, and giving one
//! up. Does not own: their
//! contents (see `report::sweep` and `report::plot`) or the atomic rewrite (see
//! `report::export`).

use crate::error::Error;
use crate::report;
use crate::report::doc::sweep::Unwritten;
use crate::report::sweep::Stage;
use crate::sweep::CellResult;

/// The export files asked for on the command line.
#[derive(Debug, Default, Clone)]
pub(crate) struct Exports {
    pub(crate) json: Option<String>,
    pub(crate) csv: Option<String>,
    pub(crate) markdown: Option<String>,
    pub(crate) plot: Option<String>,
}

/// What a rewrite shows: the job's name, the file's label and digest, the parameters of every
/// planned cell (the CSV's columns), the cells so far.
pub(crate) struct Contents<'a> {
    pub(crate) name: &'a str,
    pub(crate) file: &'a str,
    pub(crate) sha256: &'a str,
    pub(crate) axes: &'a [String],
    pub(crate) cells: &'a [CellResult],
    pub(crate) stage: Stage<'a>,
}

impl Exports {
    /// Refuses a `--plot` file named for another format than SVG: runner draws SVG text only,
    /// and `x.png` would get it under a PNG name. A name without an extension (a FIFO,
    /// `/dev/stdout`) takes it as it is. Checked before any job file is read.
    pub(crate) fn check(&self) -> Result<(), Error> {
        let Some(path) = &self.plot else { return Ok(()) };
        match std::path::Path::new(path).extension().map(|e| e.to_string_lossy()) {
            Some(e) if !e.eq_ignore_ascii_case("svg") => Err(Error::Usage(format!(
                "--plot {path}: runner draws SVG only, not .{e}: name the file .svg \
                 (for a PNG, convert it: rsvg-convert FILE.svg -o FILE.png)"
            ))),
            _ => Ok(()),
        }
    }

    /// Whether any file is asked for.
    pub(crate) fn any(&self) -> bool {
        [&self.json, &self.csv, &self.markdown, &self.plot].iter().any(|e| e.is_some())
    }

    /// Before the first cell: writes every file asked for (no cell, in progress), and opens
    /// every stream (written once, after the last cell), so that an export that cannot be
    /// written (a FIFO that nothing reads, a folder that is not there) fails now, before
    /// anything runs. Returns the streams, open.
    pub(crate) fn start(&self, contents: &Contents<'_>) -> Result<Streams, Error> {
        let mut streams = Streams::default();
        for (path, kind) in self.files() {
            if report::export::is_stream(path) {
                if let Some(open) = report::export::check(path)? {
                    streams.0.push((path.to_string(), kind, open));
                }
            } else {
                report::export::atomic_write(path, &kind.bytes(contents))?;
            }
        }
        Ok(streams)
    }

    /// After a cell (`last`: the sweep's last, or the one a signal stopped it in): every file
    /// not given up rewritten, the streams written after the last. Returns the outputs that
    /// could not be, to give up: a file keeps its previous rewrite.
    pub(crate) fn write_cell(
        &self,
        c: &Contents<'_>,
        last: bool,
        given_up: &[Unwritten],
        streams: &mut Streams,
    ) -> Vec<Unwritten> {
        let mut failed = Vec::new();
        for (path, kind) in self.files() {
            if given_up.iter().any(|u| u.path == path) || report::export::is_stream(path) {
                continue;
            }
            if let Err(e) = report::export::atomic_write(path, &kind.bytes(c)) {
                // The previous rewrite: the one before this cell's.
                let kept = Stage { in_progress: true, ..c.stage }
                    .in_progress(c.cells.len().saturating_sub(1))
                    .unwrap_or_default();
                let held = format!("the file keeps its previous rewrite, which says {kept}");
                failed.push(Unwritten { path: path.to_string(), error: give_up(e, &held) });
            }
        }
        if last {
            for (path, kind, open) in std::mem::take(&mut streams.0) {
                if let Err(e) = report::export::write_stream(open, &path, &kind.bytes(c)) {
                    let held = "a stream gets the export once, after the last cell: its reader has at most part of it";
                    failed.push(Unwritten { path, error: give_up(e, held) });
                }
            }
        }
        failed
    }

    /// Each file asked for, with its kind.
    fn files(&self) -> impl Iterator<Item = (&str, Kind)> {
        [(&self.json, Kind::Json), (&self.csv, Kind::Csv), (&self.markdown, Kind::Markdown), (&self.plot, Kind::Plot)]
            .into_iter()
            .filter_map(|(path, kind)| Some((path.as_deref()?, kind)))
    }
}

/// The exports that are streams (`/dev/stdout`, a FIFO, a device), opened before the first cell
/// and kept open until they are written, after the last.
#[derive(Default)]
pub(crate) struct Streams(Vec<(String, Kind, report::export::Pending)>);

/// The four kinds of export.
#[derive(Clone, Copy)]
enum Kind {
    Json,
    Csv,
    Markdown,
    Plot,
}

impl Kind {
    fn bytes(self, c: &Contents<'_>) -> Vec<u8> {
        match self {
            Kind::Json => {
                let doc = report::sweep::document(c.file, c.sha256, c.cells, &c.stage);
                let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
                text.push('\n');
                text.into_bytes()
            }
            Kind::Csv => report::sweep::csv(c.cells, &c.stage, c.axes).into_bytes(),
            Kind::Markdown => report::sweep::markdown(c.name, c.cells, &c.stage).into_bytes(),
            Kind::Plot => {
                let source = report::sweep::Source { name: c.name, file: c.file, sha256: c.sha256 };
                report::plot::svg(&report::sweep::chart(&source, c.cells, &c.stage)).into_bytes()
            }
        }
    }
}

/// A failed export's message, for the report: what went wrong (naming the file) and what is
/// left of it (`held`).
fn give_up(e: Error, held: &str) -> String {
    let text = message(e);
    format!("{text}; given up: {held}")
}

/// An output's error as the report says it (its text names the file).
pub(crate) fn message(e: Error) -> String {
    match e {
        Error::Output(text) => text,
        other => other.render().trim_start_matches("error: ").trim_end().to_string(),
    }
}
