//! `runner compare OLD.json NEW.json [--fail-on-regression PCT]`: two reports of the same
//! sweep, cell by cell.
//!
//! Owns: reading the two files, the command's exit code and its regression gate. Does not own:
//! the comparison (see `report::compare`: matching, the jobs' differences, the tests and their
//! correction, the layout).

use super::{Done, Format};
use crate::error::{Error, exit};
use crate::report::{self, compare};

/// The exit code when `--fail-on-regression` finds a cell significantly slower by more than
/// its threshold.
pub(crate) const REGRESSION: i32 = exit::WRONG;

/// Compares the two reports. The exit code: 2 when a file cannot be read, when a cell present
/// in both ran a different job (the comparison is printed, that cell not compared), or when
/// the gate could check no cell; 1 when the gate finds a regression; else 0.
pub(crate) fn compare(old: &str, new: &str, threshold: Option<f64>, format: Format) -> Result<Done, Error> {
    let (old, new) = (read(old)?, read(new)?);
    let comparison = compare::judge(&old, &new, threshold);
    match format {
        Format::Json => report::emit_json(&compare::document(&comparison))?,
        Format::Human => report::emit(&compare::human(&comparison))?,
    }
    let refused = comparison.refused();
    if !refused.is_empty() {
        let e = Error::Usage(format!(
            "{} and {} did not run the same job{}: not compared (the comparison names the fields that differ); run both sides with the same job",
            comparison.old,
            comparison.new,
            cells(&refused)
        ));
        crate::stderr!("{}", e.render());
        return Ok(Done::code(e.exit_code()));
    }
    let Some(t) = threshold else { return Ok(Done::code(exit::OK)) };
    if !comparison.regressions().is_empty() {
        crate::stderrln!(
            "error: regression beyond --fail-on-regression {}{}",
            compare::percent(t),
            cells(&comparison.regressions())
        );
        return Ok(Done::code(REGRESSION));
    }
    if let Some(why) = comparison.undetectable() {
        let e = Error::Usage(format!("--fail-on-regression checked nothing: {why}"));
        // The comparison is already the document on standard output.
        crate::stderr!("{}", e.render());
        return Ok(Done::code(e.exit_code()));
    }
    Ok(Done::code(exit::OK))
}

/// ` in cell a`, ` in 2 cells (a, b)`; nothing for a job without a matrix.
fn cells(names: &[&str]) -> String {
    match names {
        [""] => String::new(),
        [one] => format!(" in cell {one}"),
        _ => format!(" in {} cells ({})", names.len(), names.join(", ")),
    }
}

/// `5`, `5%` or `0.5%` as a fraction of one: `--fail-on-regression`'s value.
pub(crate) fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.trim().strip_suffix('%').unwrap_or(text.trim());
    match number.parse::<f64>() {
        Ok(p) if p.is_finite() && (0.0..100.0).contains(&p) => Ok(p / 100.0),
        _ => Err(format!("`{text}` is not a percentage from 0 to 100 (5 or 5% for five percent)")),
    }
}

/// The cells of a report file, each with the statistics of its runs.
fn read(path: &str) -> Result<compare::Report, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Usage(format!("{path}: {e}")))?;
    compare::parse(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages() {
        assert_eq!(parse_percent("5"), Ok(0.05));
        assert_eq!(parse_percent("5%"), Ok(0.05));
        assert_eq!(parse_percent("0"), Ok(0.0));
        assert!(parse_percent("100").is_err());
        assert!(parse_percent("-1%").is_err());
        assert!(parse_percent("five").is_err());
        assert!(parse_percent("NaN").is_err());
    }
}
