//! `runner compare OLD.json NEW.json`: two reports of the same sweep, cell by cell.
//!
//! Owns: the command's result. Does not own (yet): reading the files and the comparison,
//! which `report::compare::run` still does with its own JSON failure document; once report
//! has a pure comparison of two read reports, the reading and the exit code move here.

use super::{Done, Format};
use crate::error::Error;
use crate::report;

/// Compares the two reports; the exit code is 0 unless a file could not be read.
pub(crate) fn compare(old: &str, new: &str, format: Format) -> Result<Done, Error> {
    report::compare::run(old, new, format).map(Done::code)
}
