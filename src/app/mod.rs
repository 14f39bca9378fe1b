//! The application layer: what each command does, from the names on the command line to the
//! reports printed and the exit code. It loads and plans job files, decides the notices, the
//! progress policy, a single run or a sweep, a catalog's worst exit code, which trace and
//! export files are written and when, and how an expected failure counts.
//!
//! Owns: those decisions, each command's typed result ([`Done`]) and the one rendering of a
//! failure ([`failure`]). Does not own: parsing the command line (see `cli`, the only module
//! that knows clap), running a job (see `sweep` and `exec`) or the layout of a report (see
//! `report`).

pub(crate) mod catalog;
pub(crate) mod compare;
pub(crate) mod exports;
pub(crate) mod load;
pub(crate) mod observe;
pub(crate) mod python;
pub(crate) mod run;
pub(crate) mod validate;
pub(crate) mod worker;

use serde_json::Value as Json;

use crate::error::Error;
use crate::report;
pub(crate) use crate::report::Format;

/// How a command ended: its exit code, and the one JSON document it leaves for standard output
/// (in JSON mode; a catalog gathers its files' documents into its own). Human reports are
/// printed as the command goes, so that a catalog's or a sweep's show as they come.
pub(crate) struct Done {
    pub(crate) code: i32,
    pub(crate) document: Option<Json>,
}

impl Done {
    /// A command that printed everything it had to.
    pub(crate) fn code(code: i32) -> Done {
        Done { code, document: None }
    }

    /// A command that failed: the failure rendered (see [`failure`]) and its exit code.
    pub(crate) fn failed(e: &Error, format: Format) -> Done {
        Done { code: e.exit_code(), document: failure(e, format) }
    }

    /// Prints the document left for standard output, if any, and returns the exit code.
    pub(crate) fn print(self) -> Result<i32, Error> {
        if let Some(doc) = &self.document {
            report::emit_json(doc)?;
        }
        Ok(self.code)
    }
}

/// The one rendering of a failure: the error on standard error, and in JSON mode the document
/// that stands for the report (the diagnostics of a job that could not be planned, or the
/// error of one that could not run), so that standard output is one document whatever happens.
pub(crate) fn failure(e: &Error, format: Format) -> Option<Json> {
    crate::stderr!("{}", e.render());
    (format == Format::Json).then(|| match e {
        Error::Invalid(diagnostics) => report::invalid_doc(diagnostics),
        _ => report::error_doc(e),
    })
}
