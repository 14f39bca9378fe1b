//! The Python equivalent of a job (placeholder until written).

pub mod compare;

use crate::plan::Plan;

/// The Python program equivalent to `plan`.
pub fn program(_plan: &Plan) -> Result<String, String> {
    Err("not yet".to_string())
}
