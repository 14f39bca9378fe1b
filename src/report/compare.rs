//! `runner compare OLD.json NEW.json` (placeholder).

use crate::error::Error;
use crate::report::Format;

pub fn run(_old: &str, _new: &str, _format: Format) -> Result<i32, Error> {
    Err(Error::Usage("not yet".to_string()))
}
