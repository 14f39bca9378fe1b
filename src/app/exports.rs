//! The files a sweep (or a single run, besides its report) keeps up to date (`--export-json`,
//! `--export-csv`, `--export-markdown`, `--plot`), each rewritten whole after every cell; a
//! stream (`/dev/stdout`, a FIFO) is written once, after the last cell.
//!
//! Owns: which files are asked for and rewriting them. Does not own: their contents (see
//! `report::sweep` and `report::plot`) or the atomic rewrite (see `report::export`).

use crate::error::Error;
use crate::report;
use crate::sweep::CellResult;

/// The export files asked for on the command line.
#[derive(Debug, Default, Clone)]
pub(crate) struct Exports {
    pub(crate) json: Option<String>,
    pub(crate) csv: Option<String>,
    pub(crate) markdown: Option<String>,
    pub(crate) plot: Option<String>,
}

impl Exports {
    /// Whether any file is asked for.
    pub(crate) fn any(&self) -> bool {
        [&self.json, &self.csv, &self.markdown, &self.plot].iter().any(|e| e.is_some())
    }

    /// Rewrites every file asked for with the cells finished so far (before the first cell: so
    /// that an unwritable file fails early). A stream (`/dev/stdout`, a FIFO) cannot be rewritten,
    /// only added to: it is written once, by [`Exports::write_cell`] after the last cell.
    pub(crate) fn write(&self, name: &str, file: &str, sha256: &str, cells: &[CellResult]) -> Result<(), Error> {
        self.write_some(name, file, sha256, cells, false)
    }

    /// After a cell: the files rewritten, and the streams written after the last of `total`.
    pub(crate) fn write_cell(
        &self,
        name: &str,
        file: &str,
        sha256: &str,
        cells: &[CellResult],
        total: usize,
    ) -> Result<(), Error> {
        self.write_some(name, file, sha256, cells, cells.len() >= total)
    }

    fn write_some(
        &self,
        name: &str,
        file: &str,
        sha256: &str,
        cells: &[CellResult],
        streams: bool,
    ) -> Result<(), Error> {
        let atomic_write = |path: &str, bytes: &[u8]| {
            if streams || !report::export::is_stream(path) { report::export::atomic_write(path, bytes) } else { Ok(()) }
        };
        let partial = cells.iter().any(|c| c.interrupted().is_some());
        if let Some(path) = &self.json {
            let doc = report::sweep::document(file, sha256, cells, partial);
            let mut text = serde_json::to_string_pretty(&doc).map_err(|e| Error::Output(e.to_string()))?;
            text.push('\n');
            atomic_write(path, text.as_bytes())?;
        }
        if let Some(path) = &self.csv {
            atomic_write(path, report::sweep::csv(cells).as_bytes())?;
        }
        if let Some(path) = &self.markdown {
            atomic_write(path, report::sweep::markdown(name, cells).as_bytes())?;
        }
        if let Some(path) = &self.plot {
            atomic_write(path, report::plot::svg(&report::sweep::chart(name, cells)).as_bytes())?;
        }
        Ok(())
    }
}
