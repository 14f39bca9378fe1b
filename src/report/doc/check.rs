//! The check on a final value, as every document writes it (`runner plan`, a run, a sweep's
//! cell): typed by its kind, so that no tool compares `final == expected` where the check is a
//! set or an interval.

use schemars::JsonSchema;
use serde::Serialize;

use super::Num;
use crate::expect::{Reference, Rule};
use crate::value::Value;

/// How the final value is checked: exactly one value, one of a set, or an interval.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Expected {
    /// The final value must be `value`, bit for bit.
    Exact {
        value: Num,
        /// The check in words, the line the human report and `runner plan` print.
        text: String,
        /// What the check cannot detect (the loss of one operation that leaves a value it
        /// accepts); null when the loss of any one operation fails the check.
        blind: Option<String>,
    },
    /// The final value must be one of `values` (`set` in any order: the last writer wins).
    OneOf {
        #[schemars(length(min = 1))]
        values: Vec<Num>,
        text: String,
        blind: Option<String>,
    },
    /// `lo <= final <= hi`: `reference` within `bound`, the bound of any order's roundings,
    /// rounded outwards.
    Interval {
        lo: Num,
        hi: Num,
        reference: Num,
        /// What `reference` is.
        reference_is: ReferenceIs,
        bound: f64,
        text: String,
        blind: Option<String>,
    },
    /// A run that stopped before every operation ran: the final value was held to the values
    /// its applied operations can give (each worker's published count, plus what a stopped
    /// worker may have done since), not to the planned check (`planned`).
    Applied {
        /// The fewest and most operations applied, in all.
        min_operations: u64,
        max_operations: u64,
        /// The applied operations the value shows, when exactly one count gives it.
        established_operations: Option<u64>,
        text: String,
        /// The planned check this one replaced (`runner plan` shows it).
        planned: String,
        /// What the check could not detect: lost updates hidden in the range.
        blind: Option<String>,
    },
}

/// What an interval is centred on.
#[derive(Clone, Copy, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ReferenceIs {
    /// The real sum of every term, rounded once.
    ExactSum,
    /// The product in the sequential order.
    SequentialProduct,
}

impl Expected {
    /// What a run was checked against: the planned check, or, for a partial run, the values of
    /// the operations it applied.
    pub fn of_run(plan: &crate::plan::Plan, judgement: &crate::outcome::Judgement) -> Expected {
        match (judgement.applied, &judgement.partial_expected) {
            (Some((min, max)), Some(text)) => Expected::Applied {
                min_operations: min,
                max_operations: max,
                established_operations: judgement.established,
                text: text.clone(),
                planned: plan.check.expected_text(plan.expected),
                blind: judgement.limits.clone(),
            },
            _ => Expected::new(plan),
        }
    }

    pub fn new(plan: &crate::plan::Plan) -> Expected {
        let check = &plan.check;
        let text = check.expected_text(plan.expected);
        let blind = check.blind.clone();
        match &check.rule {
            Rule::Exact => Expected::Exact { value: Num(plan.expected), text, blind },
            Rule::OneOf(values) => Expected::OneOf { values: values.iter().map(|v| Num(*v)).collect(), text, blind },
            Rule::Interval { reference, bound, lo, hi, of } => Expected::Interval {
                lo: Num(Value::D(*lo)),
                hi: Num(Value::D(*hi)),
                reference: Num(Value::D(*reference)),
                reference_is: match of {
                    Reference::ExactSum => ReferenceIs::ExactSum,
                    Reference::SequentialProduct => ReferenceIs::SequentialProduct,
                },
                bound: *bound,
                text,
                blind,
            },
        }
    }
}
