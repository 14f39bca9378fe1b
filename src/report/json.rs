//! The reports programs read: one JSON document on standard output, built as a typed document
//! (see `doc`) and serialised. `schema_version` changes when a field changes meaning or goes
//! away; new fields may appear without it.

use super::doc::{self, ErrorDoc, PlanCell, PlanCells, PlanDoc};
use super::{RunReport, Validated};
use crate::error::Diagnostic;
use crate::plan::Plan;

pub use super::doc::SCHEMA_VERSION;

pub(crate) fn run(r: &RunReport<'_>) -> doc::Run {
    doc::Run::new(r)
}

pub(crate) fn plan(plan: &Plan) -> PlanDoc {
    PlanDoc::new(plan)
}

/// The plans of a matrix's cells.
pub(crate) fn plans(cells: &[(String, Plan)]) -> PlanCells {
    PlanCells {
        schema_version: doc::SchemaVersion,
        cells: cells.iter().map(|(cell, plan)| PlanCell { cell: cell.clone(), plan: PlanDoc::new(plan) }).collect(),
    }
}

pub(crate) fn validated(files: &[Validated]) -> doc::Validate {
    doc::Validate {
        schema_version: doc::SchemaVersion,
        files: files
            .iter()
            .map(|f| doc::Validated {
                file: f.file.clone(),
                ok: f.diagnostics.is_empty(),
                diagnostics: doc::diags(&f.diagnostics),
            })
            .collect(),
    }
}

pub(crate) fn invalid(diagnostics: &[Diagnostic]) -> ErrorDoc {
    ErrorDoc::invalid(diagnostics)
}
