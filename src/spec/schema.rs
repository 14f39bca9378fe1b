//! The job file's JSON Schema (draft-07, which editors' YAML support reads), generated from the
//! [`JobSpec`] types and from the same limits and units the reader and the planner check
//! (`limits.rs`, `matrix.rs`'s keys), so that an editor flags what runner refuses and accepts
//! what it accepts. Owns: the schemas of the hand-read values (literals, `pin`, `matrix`; the
//! durations and timeouts in `schema/durations.rs`), the rules between fields that draft-07
//! can state (`if`/`then`), and the tidying of the generated text (no `default: null`,
//! descriptions without hard line wraps).
//! What draft-07 cannot state (a count against `workers`, the expected value) is listed by
//! `tests/schema_agreement.rs`.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Map, Value, json};

use super::job::{JobSpec, Literal, Operand, Pin};
use super::limits::{CPU_LIMIT, MAX_WORKERS};
use super::matrix::{MATRIX_KEYS, MAX_CELLS};
use crate::value::{OpKind, ValueType};

mod durations;
#[cfg(test)]
use durations::at_most;
pub(super) use durations::{Duration, Timeout};

/// The JSON Schema of job files as `runner schema` prints it: `schemas/job.schema.json`, which
/// `tests/jobs.rs` holds to [`schema`]'s output. The text, not the generator, goes into the
/// binary: the generator is reached only by the tests, so schemars' generation is not linked
/// into runner (every run and every worker maps the binary in).
pub const SCHEMA_TEXT: &str = include_str!("../../schemas/job.schema.json");

/// The JSON Schema (draft-07) of a job file, generated from the types: what
/// `schemas/job.schema.json` ([`SCHEMA_TEXT`]) must be (`RUNNER_BLESS=1 cargo test --test jobs`
/// rewrites it).
pub fn schema() -> Schema {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let mut root = generator.into_root_schema_for::<JobSpec>().to_value();
    tidy(&mut root);
    let definitions = root["definitions"].as_object_mut().expect("the generator writes definitions");
    for ty in ValueType::ALL {
        definitions.insert(format!("Literal_{}", ty.name()), typed_literal(ty));
        let one = json!({ "$ref": format!("#/definitions/Literal_{}", ty.name()) });
        definitions.insert(
            format!("Operand_{}", ty.name()),
            json!({ "anyOf": [one.clone(), { "type": "array", "items": one, "minItems": 1, "maxItems": MAX_WORKERS }] }),
        );
    }
    // A fault's `code` is action exit's, `for` action stall's.
    definitions.get_mut("FaultSpec").expect("a fault's schema")["allOf"] = json!([
        { "if": { "required": ["code"] }, "then": { "properties": { "action": { "const": "exit" } } } },
        { "if": { "required": ["for"] }, "then": { "properties": { "action": { "const": "stall" } } } }
    ]);
    let matrix = matrix_schema(&root);
    root["properties"]["matrix"] = matrix;
    root["allOf"] = Value::Array(rules());
    Schema::try_from(root).expect("an object")
}

/// Drops `default: null` (an editor would insert `batch: null`, which runner refuses) and joins
/// the lines of each description into paragraphs (hover text must not break mid-sentence).
fn tidy(node: &mut Value) {
    drop_null_defaults(node);
    flowing_descriptions(node);
}

fn drop_null_defaults(node: &mut Value) {
    match node {
        Value::Object(map) => {
            if map.get("default").is_some_and(Value::is_null) {
                map.remove("default");
            }
            map.values_mut().for_each(drop_null_defaults);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null_defaults),
        _ => {}
    }
}

/// Every `description` of a generated schema as flowing text: the hard line wraps of the doc
/// comments it was generated from joined (an editor's hover wraps the text itself, and breaks
/// mid-sentence at a kept newline), paragraphs (blank lines) and list items (`- `, `* `, `1. `)
/// kept on lines of their own. The job schema and the documents' schemas (`report::doc`) both
/// go through here.
pub fn flowing_descriptions(node: &mut Value) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(text)) = map.get_mut("description") {
                *text = flowing(text);
            }
            map.values_mut().for_each(flowing_descriptions);
        }
        Value::Array(items) => items.iter_mut().for_each(flowing_descriptions),
        _ => {}
    }
}

/// `text` with the lines of each paragraph joined by spaces, except before a list item.
pub fn flowing(text: &str) -> String {
    text.split("\n\n")
        .map(|paragraph| {
            let mut out = String::with_capacity(paragraph.len());
            for (i, line) in paragraph.lines().enumerate() {
                if i > 0 {
                    out.push(if list_item(line) { '\n' } else { ' ' });
                }
                out.push_str(if list_item(line) { line.trim_end() } else { line.trim() });
            }
            out
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A Markdown list item: `- x`, `* x`, `1. x`.
pub fn list_item(line: &str) -> bool {
    let line = line.trim_start();
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    line.starts_with("- ") || line.starts_with("* ") || (digits > 0 && line[digits..].starts_with(". "))
}

/// A literal as type `ty` reads it (see `plan/literal.rs`).
fn typed_literal(ty: ValueType) -> Value {
    match ty {
        ValueType::I => json!({ "type": "integer", "minimum": i32::MIN, "maximum": i32::MAX }),
        ValueType::D => json!({ "type": "number" }),
        ValueType::C => json!({ "anyOf": [
            { "type": "integer", "minimum": u8::MIN, "maximum": u8::MAX },
            { "type": "string", "pattern": "^[\\u0000-\\u007f]$" }
        ] }),
    }
}

/// `matrix`: each axis a list of values of its field (the field's own schema), `include`
/// entries closed and checked the same way, `exclude` entries closed (runner only compares
/// their values), and something to run.
fn matrix_schema(root: &Value) -> Value {
    let field = |path: &str| -> Value {
        let mut schema = match path.split_once('.') {
            Some((head, rest)) => {
                let def = match head {
                    "value" => "ValueSpec",
                    _ => "WorkSpec",
                };
                root["definitions"][def]["properties"][rest].clone()
            }
            None => root["properties"][path].clone(),
        };
        if let Some(map) = schema.as_object_mut() {
            map.remove("description");
        }
        schema
    };
    let mut axes = Map::new();
    let mut entry = Map::new();
    for key in MATRIX_KEYS {
        let one = field(key);
        axes.insert(
            key.to_string(),
            json!({ "description": format!("The values of `{key}`, one per cell."), "type": "array", "minItems": 1, "maxItems": MAX_CELLS, "items": one }),
        );
        entry.insert(key.to_string(), one);
    }
    let keys: Vec<&str> = MATRIX_KEYS.to_vec();
    axes.insert(
        "include".into(),
        json!({
            "description": "Combinations to add, or fields to add to the combinations that agree with them on the matrix's own fields.",
            "type": "array",
            "items": { "type": "object", "properties": entry, "additionalProperties": false }
        }),
    );
    axes.insert(
        "exclude".into(),
        json!({
            "description": "Combinations to remove: those that match every field an entry names.",
            "type": "array",
            "items": { "type": "object", "propertyNames": { "enum": keys } }
        }),
    );
    let mut names = keys.clone();
    names.extend(["include", "exclude"]);
    json!({
        "description": root["properties"]["matrix"]["description"],
        "type": "object",
        "properties": axes,
        "propertyNames": { "enum": names },
        // Something to run: an axis, or an include that is not empty.
        "anyOf": [
            { "not": { "propertyNames": { "enum": ["include", "exclude"] } } },
            { "required": ["include"], "properties": { "include": { "contains": { "minProperties": 1 } } } }
        ],
        // `work` replaces the whole mapping that `work.inside` and `work.outside` write into.
        "if": { "required": ["work"] },
        "then": { "properties": { "work.inside": false, "work.outside": false } }
    })
}

/// The matrix gives `field` to every cell: an axis over it, or includes (without axes) that
/// all give it.
fn matrix_gives(field: &str) -> Value {
    json!({ "required": ["matrix"], "properties": { "matrix": { "anyOf": [
        { "required": [field] },
        { "required": ["include"],
          "propertyNames": { "enum": ["include", "exclude"] },
          "properties": { "include": { "items": { "required": [field] } } } }
    ] } } })
}

/// The matrix has an axis over `field`, which replaces the top-level value in every cell.
fn axis(field: &str) -> Value {
    json!({ "required": ["matrix"], "properties": { "matrix": { "required": [field] } } })
}

/// The job's `field` (a path such as `value.type`) is one of `values` in some cell: at the top
/// (unless an axis replaces it) or on a matrix axis.
fn in_play(field: &str, values: &[&str]) -> Value {
    let top = match field.split_once('.') {
        Some((head, rest)) => {
            json!({ "required": [head], "properties": { head: { "required": [rest], "properties": { rest: { "enum": values } } } } })
        }
        None => json!({ "required": [field], "properties": { field: { "enum": values } } }),
    };
    let on_axis = json!({ "required": ["matrix"], "properties": { "matrix": {
        "required": [field], "properties": { field: { "contains": { "enum": values } } } } } });
    // An include always makes a cell with its values (merged into others, or its own).
    let included = json!({ "required": ["matrix"], "properties": { "matrix": {
        "required": ["include"], "properties": { "include": {
            "contains": { "required": [field], "properties": { field: { "enum": values } } } } } } } });
    json!({ "anyOf": [{ "allOf": [top, { "not": axis(field) }] }, on_axis, included] })
}

/// Constrains `field` in every cell to `schema`: at the top (unless an axis replaces it), on
/// its matrix axis and in includes.
fn everywhere(field: &str, schema: Value) -> Value {
    let matrix = json!({ "properties": { "matrix": { "properties": {
        field: { "items": schema },
        "include": { "items": { "properties": { field: schema } } }
    } } } });
    let top = match field.split_once('.') {
        Some((head, rest)) => json!({ "properties": { head: { "properties": { rest: schema } } } }),
        None => json!({ "properties": { field: schema } }),
    };
    json!({ "allOf": [matrix, { "if": axis(field), "else": top }] })
}

/// The rules between fields that draft-07 can state.
fn rules() -> Vec<Value> {
    let mut rules = Vec::new();
    // Fields every cell needs, which the matrix may give instead.
    for field in ["workers", "operation", "backend"] {
        rules.push(json!({ "if": { "not": matrix_gives(field) }, "then": { "required": [field] } }));
    }
    rules.push(json!({ "if": { "not": matrix_gives("value.type") },
        "then": { "required": ["value"], "properties": { "value": { "required": ["type"] } } } }));
    // Literals read against the value's type, for every type a cell may have.
    for ty in ValueType::ALL {
        let lit = json!({ "$ref": format!("#/definitions/Literal_{}", ty.name()) });
        let operand = json!({ "$ref": format!("#/definitions/Operand_{}", ty.name()) });
        let mut then =
            vec![everywhere("value.initial", lit.clone()), everywhere("expect", lit), everywhere("operand", operand)];
        let unsupported: Vec<&str> = OpKind::ALL.iter().filter(|k| !k.supports(ty)).map(|k| k.name()).collect();
        if !unsupported.is_empty() {
            then.push(everywhere("operation", json!({ "not": { "enum": unsupported } })));
        }
        rules.push(json!({ "if": in_play("value.type", &[ty.name()]), "then": { "allOf": then } }));
    }
    // An operation that needs an operand.
    let needs: Vec<&str> = OpKind::ALL.iter().filter(|k| !k.operand_optional()).map(|k| k.name()).collect();
    rules.push(json!({
        "if": { "allOf": [in_play("operation", &needs), { "not": matrix_gives("operand") }] },
        "then": { "required": ["operand"] }
    }));
    // What only the channel takes.
    let channel = everywhere("backend", json!({ "const": "channel" }));
    for field in ["batch", "transport"] {
        // At the top, on an axis, or by an include that keeps the cells' backends.
        let given = json!({ "anyOf": [
            { "required": [field] },
            axis(field),
            { "required": ["matrix"], "properties": { "matrix": { "required": ["include"], "properties": {
                "include": { "contains": { "required": [field], "not": { "required": ["backend"] } } } } } } }
        ] });
        rules.push(json!({ "if": given, "then": channel }));
        // An include that names both makes or changes cells with that backend.
        let include = json!({ "items": { "if": { "required": [field] }, "then": { "properties": { "backend": { "const": "channel" } } } } });
        rules.push(json!({ "properties": { "matrix": { "properties": { "include": include } } } }));
    }
    // Round-robin hands the turn on after every operation: a message holds one.
    rules.push(
        json!({ "if": in_play("schedule", &["round-robin"]), "then": everywhere("batch", json!({ "maximum": 1 })) }),
    );
    // Only the mutex has a lock to act inside.
    let inside = json!({ "required": ["faults"], "properties": { "faults": {
        "contains": { "required": ["inside_lock"], "properties": { "inside_lock": { "const": true } } } } } });
    rules.push(json!({ "if": inside, "then": everywhere("backend", json!({ "const": "mutex" })) }));
    rules
}

impl JsonSchema for Literal {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Literal".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A number for `i` and `d` (an integer for `i`); for `c` an integer 0..=255 or a one-character ASCII string meaning its code.",
            "anyOf": [
                { "type": "number" },
                { "type": "string", "minLength": 1, "maxLength": 1 }
            ]
        })
    }
}

impl JsonSchema for Operand {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Operand".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let one = generator.subschema_for::<Literal>();
        json_schema!({
            "description": "One operand for every worker, or a list with one per worker.",
            "anyOf": [one.clone(), { "type": "array", "items": one, "minItems": 1, "maxItems": MAX_WORKERS }]
        })
    }
}

impl JsonSchema for Pin {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Pin".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "true: worker k on the k-th allowed CPU (cycling); a list: worker k on the (k mod n)-th CPU of the list.",
            "anyOf": [
                { "type": "boolean" },
                { "type": "array", "items": { "type": "integer", "minimum": 0, "maximum": CPU_LIMIT - 1 }, "minItems": 1 }
            ]
        })
    }
}

/// The schema of `matrix` (read by `matrix.rs` from the YAML tree, before the job): its axes
/// are filled in by [`schema`] from the fields' own schemas.
pub(super) struct MatrixSchema;

impl JsonSchema for MatrixSchema {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Matrix".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Field path -> list of values; the job runs once per combination. `include` adds combinations (or fields to matching ones), `exclude` removes those matching every field it names.",
            "type": "object"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::limits::{DURATION_UNITS, MAX_TIMEOUT_NS, MAX_WORK_NS, TIMEOUT_UNITS};

    #[test]
    fn limits_divide_into_every_unit() {
        assert_eq!(TIMEOUT_UNITS[..DURATION_UNITS.len()], DURATION_UNITS);
        for (_, ns) in TIMEOUT_UNITS {
            assert_eq!(MAX_TIMEOUT_NS % ns, 0);
        }
        for (_, ns) in DURATION_UNITS {
            assert_eq!(MAX_WORK_NS % ns, 0);
        }
    }

    /// The string patterns accept what the reader accepts, over a grid of spellings (seconds
    /// with an exponent and values within half a nanosecond over a limit aside: see
    /// `tests/schema_agreement.rs`).
    #[test]
    fn patterns_agree_with_the_parsers() {
        use crate::spec::{parse_duration, parse_timeout};
        let string_schema = |schema: Schema| {
            schema.to_value()["anyOf"].as_array().unwrap().iter().find(|s| s["type"] == "string").unwrap().clone()
        };
        let regex = |v: &Value| regex::Regex::new(v.as_str().unwrap()).unwrap();
        let mut generator = SchemaGenerator::default();
        let timeout = string_schema(Timeout::json_schema(&mut generator));
        let (accept, zero) = (regex(&timeout["pattern"]), regex(&timeout["not"]["pattern"]));
        let work = regex(&string_schema(Duration::json_schema(&mut generator))["pattern"]);
        let numbers = [
            "0",
            "1",
            "5",
            "5.",
            "0.5",
            ".5",
            ".",
            "",
            "1.2.3",
            "00010",
            "0.4",
            "0.0000000005",
            "0.0000000004",
            "604800",
            "604800.0",
            "604800.1",
            "10080",
            "10080.5",
            "1000",
            "1000.1",
            "1000000000",
            "-5",
            "+5",
            " 5",
            "0.00000000002",
            "0.00000000001",
            "1e2",
            "1E-3",
            "+0.5",
            "+.5",
            "+",
            "-0",
            "+-5",
            "0.0000000000083",
            "0.0000000000084",
            "0.00000000000013",
            "0.00000000000014",
            "168",
            "168.0",
            "168.01",
            "169",
            "0.0005",
            "0.0004",
            "0.5",
            "0.49",
        ];
        let units = ["ns", "us", "µs", "ms", "s", "m", "h", "", " ms", "s ", "sec"];
        for n in numbers {
            for u in units {
                let text = format!("{n}{u}");
                let schema = accept.is_match(&text) && !zero.is_match(&text);
                let reader = parse_timeout(&text).is_ok_and(|ns| ns > 0 && ns <= MAX_TIMEOUT_NS);
                // Seconds with an exponent: a difference the agreement test lists.
                if !(n.to_ascii_lowercase().contains('e') && u.is_empty()) {
                    assert_eq!(schema, reader, "timeout {text:?}");
                }
                let reader = parse_duration(&text).is_ok_and(|ns| ns <= MAX_WORK_NS);
                assert_eq!(work.is_match(&text), reader, "work {text:?}");
            }
        }
    }

    #[test]
    fn descriptions_flow() {
        let text = "A line\nwrapped here.\n\nA list:\n- one\n  two\n- three\n12. twelve\nend";
        assert_eq!(flowing(text), "A line wrapped here.\n\nA list:\n- one two\n- three\n12. twelve end");
        assert!(!list_item("-1 is negative") && !list_item("1.5 s") && list_item("  * star"));
    }

    #[test]
    fn at_most_is_the_bound() {
        let re = |limit| regex::Regex::new(&format!("^(?:{})$", at_most(limit))).unwrap();
        let r = re(604800);
        for ok in ["0", "604800", "604800.00", "0604799.9", "599999", ".5", "5.", "60479"] {
            assert!(r.is_match(ok), "{ok}");
        }
        for bad in ["604801", "604800.1", "700000", "1000000", ".", ""] {
            assert!(!r.is_match(bad), "{bad}");
        }
        let r = re(1);
        assert!(r.is_match("1") && r.is_match("0.99") && !r.is_match("1.01") && !r.is_match("2"));
    }
}
