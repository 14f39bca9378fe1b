//! The Python program equivalent to a job: `multiprocessing` with the fork start method, written
//! the way the tutorial writes it (`Value`, `Process`, `with v.get_lock():`), with runner's exact
//! arithmetic spelled out, since Python's own differs (its ints never overflow, a `c` value has no
//! arithmetic, `min` of doubles ignores the sign of zero).
//!
//! Owns: the text of the program (a few sections, each a small template: `prose.rs` the header,
//! imports and constants, `prelude.rs` the arithmetic and helpers, `body.rs` the worker and
//! `__main__`), what it says per backend (`backend.rs`, one table entry per backend), Python
//! literals for values (`literal.rs`), and what of the job it does not carry over
//! (`carried.rs`: every such field named, in the header and in notices); a job whose value lives
//! in Redis has its own program, with redis-py (`redis/`). Does not own: running the program or
//! judging its result (see `compare`).

mod backend;
mod body;
mod carried;
pub mod compare;
mod literal;
mod prelude;
mod prose;
mod redis;
#[cfg(test)]
mod tests;

pub use backend::NO_ATOMIC;
pub(crate) use carried::{changes_the_result, not_carried};
pub(crate) use literal::literal;
use literal::{comment, initial_literal, string};

use crate::names::Schedule;
use crate::plan::{PinPlan, Plan};
use crate::value::{OpKind, ValueType};

/// The Python 3 program equivalent to `plan`. Its last line of output is `RESULT {json}` with
/// `final`, `work_seconds`, `ops` and `ops_per_second`.
pub(crate) fn program(plan: &Plan) -> Result<String, String> {
    if let Some(r) = plan.engine.redis() {
        return redis::program(plan, r);
    }
    let backend = backend::of(plan.backend.kind()).map_err(str::to_string)?;
    let py = Py { plan, ty: plan.value_type(), backend };
    let top = [py.header(), py.imports(), py.constants()].join("\n\n");
    let mut defs = py.arithmetic();
    defs.extend(py.helpers());
    defs.push(py.worker());
    defs.push(py.main());
    Ok(format!("{top}\n\n\n{}\n", defs.join("\n\n\n")))
}

struct Py<'a> {
    plan: &'a Plan,
    ty: ValueType,
    /// What the program says of the plan's backend.
    backend: backend::Rendering,
}

impl Py<'_> {
    fn channel(&self) -> bool {
        self.backend.queue
    }

    /// Whether the workers start together at a barrier (`start: together`).
    fn together(&self) -> bool {
        self.plan.start == crate::names::Start::Together
    }

    fn ordered(&self) -> bool {
        self.plan.schedule != Schedule::Concurrent
    }

    fn exact(&self) -> bool {
        self.plan.check.is_exact()
    }

    fn short_type(&self) -> &'static str {
        match self.ty {
            ValueType::I => "C int",
            ValueType::D => "C double",
            ValueType::C => "C char",
        }
    }

    fn type_words(&self) -> &'static str {
        match self.ty {
            ValueType::I => "C int (32-bit two's complement, wrapping)",
            ValueType::D => "C double",
            ValueType::C => "C char (one byte, read as an unsigned 0..255)",
        }
    }

    /// `` `add 1` ``, or `` `add` with its own operand `` with per-worker operands.
    fn operation_words(&self) -> String {
        match &self.plan.operands {
            Some(_) => format!("`{}` with its own operand (OPERANDS[index])", self.plan.operation.kind.name()),
            None => format!("`{} {}`", self.plan.operation.kind.name(), literal(self.plan.operation.operand)),
        }
    }

    /// Where the value's update happens, in a few words.
    fn backend_words(&self) -> String {
        self.backend.words.replace("{batch}", &self.plan.backend.batch().to_string())
    }
}
