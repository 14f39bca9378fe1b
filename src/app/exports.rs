//! The files a sweep (or a single run, besides its report) keeps up to date (`--export-json`,
//! `--export-csv`, `--export-markdown`, `--plot`), each rewritten whole after every cell; a
//! stream (`/dev/stdout`, a FIFO) is written once, after the last cell.
//!
//! Every rewrite before the last says that the sweep was still running (`in_progress: true`,
//! the CSV's `sweep` column, a line above the Markdown table, the plot's title), so that a file
//! left by a killed runner cannot pass for a whole sweep. A file that cannot be rewritten after
//! a cell (a full disk) is given up: it keeps its last rewrite, which says it is in progress,
//! the failure is said on standard error and in the report, and the sweep goes on.
//!
//! Owns: which files are asked for, rewriting them, and giving one up. Does not own: their
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

/// What a rewrite shows: the job's name, the file's label and digest, the cells so far.
pub(crate) struct Contents<'a> {
    pub(crate) name: &'a str,
    pub(crate) file: &'a str,
    pub(crate) sha256: &'a str,
    pub(crate) cells: &'a [CellResult],
    pub(crate) stage: Stage<'a>,
}

impl Exports {
    /// Whether any file is asked for.
    pub(crate) fn any(&self) -> bool {
        [&self.json, &self.csv, &self.markdown, &self.plot].iter().any(|e| e.is_some())
    }

    /// Writes every file asked for before the first cell (no cell, in progress), so that an
    /// unwritable file fails now, before anything runs. A stream is not written yet.
    pub(crate) fn start(&self, name: &str, file: &str, sha256: &str, planned: usize) -> Result<(), Error> {
        let stage = Stage { planned, in_progress: true, unwritten: &[] };
        let contents = Contents { name, file, sha256, cells: &[], stage };
        match self.rewrite(&contents, false, &[]).into_iter().next() {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }

    /// After a cell (`last`: the sweep's last, or the one a signal stopped it in): every file
    /// not given up rewritten, the streams written after the last. Returns the files that could
    /// not be, to give up: each keeps its last rewrite.
    pub(crate) fn write_cell(&self, contents: &Contents<'_>, last: bool, given_up: &[Unwritten]) -> Vec<Unwritten> {
        let failed = self.rewrite(contents, last, given_up);
        failed.into_iter().map(|(path, e)| Unwritten { path: path.to_string(), error: give_up(e) }).collect()
    }

    /// Rewrites each file, returning those that failed.
    fn rewrite<'p>(&'p self, c: &Contents<'_>, streams: bool, given_up: &[Unwritten]) -> Vec<(&'p str, Error)> {
        let mut failed = Vec::new();
        let files = [
            (&self.json, Kind::Json),
            (&self.csv, Kind::Csv),
            (&self.markdown, Kind::Markdown),
            (&self.plot, Kind::Plot),
        ];
        for (path, kind) in files {
            let Some(path) = path.as_deref() else { continue };
            if given_up.iter().any(|u| u.path == path) || (!streams && report::export::is_stream(path)) {
                continue;
            }
            if let Err(e) = report::export::atomic_write(path, &kind.bytes(c)) {
                failed.push((path, e));
            }
        }
        failed
    }
}

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
            Kind::Csv => report::sweep::csv(c.cells, &c.stage).into_bytes(),
            Kind::Markdown => report::sweep::markdown(c.name, c.cells, &c.stage).into_bytes(),
            Kind::Plot => report::plot::svg(&report::sweep::chart(c.name, c.cells, &c.stage)).into_bytes(),
        }
    }
}

/// A failed rewrite's message, for the report: what went wrong (naming the file) and what the
/// file holds instead.
fn give_up(e: Error) -> String {
    let text = super::observe::message(e);
    format!("{text}; given up: the file holds its last rewrite, which says the sweep was in progress")
}
