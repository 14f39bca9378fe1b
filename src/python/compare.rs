//! `runner compare-python` (placeholder until written).

use crate::error::Error;
use crate::plan::Plan;
use crate::report::Format;

pub fn run(_plan: &Plan, _label: &str, _overrides: &[String], _format: Format) -> Result<i32, Error> {
    Err(Error::Usage("not yet".to_string()))
}
