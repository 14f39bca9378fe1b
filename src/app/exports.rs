//! The files a sweep (or a single run, besides its report) keeps up to date (`--export-json`,
//! `--export-csv`, `--export-markdown`, `--plot`), each rewritten whole after every cell.
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

    /// Rewrites every file asked for with the cells finished so far.
    pub(crate) fn write(&self, name: &str, file: &str, sha256: &str, cells: &[CellResult]) -> Result<(), Error> {
        use report::export::atomic_write;
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
