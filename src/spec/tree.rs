//! A YAML document as a tree of nodes that remember where they were written.
//!
//! serde-saphyr parses (YAML 1.2 core scalars, anchors and aliases, budgets that refuse alias
//! bombs and deep nesting at once) and hands every node to us with its position; keeping the
//! tree generic lets the reader report every problem of a file at once instead of stopping at
//! the first as a derived `Deserialize` would. Duplicate keys are passed through so that the
//! reader can point at the second occurrence. YAML tags are refused, every one (see [`tags`]); the
//! tree is still built, so the rest of the file's problems are reported with them.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use serde_saphyr::budget::{Budget, BudgetBreach};
use serde_saphyr::options::{DuplicateKeyPolicy, NonFiniteFloatPolicy, Options};

use crate::error::Pos;

/// What a node holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    /// An integer literal; `None` when it does not fit in 128 bits.
    Int(Option<i128>),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub pos: Pos,
}

impl Node {
    /// How the node reads in a message: `a float (1.5)`, `a mapping`.
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Null => "nothing (null)".to_string(),
            Kind::Bool(b) => format!("a boolean ({b})"),
            Kind::Int(Some(i)) => format!("the integer {i}"),
            Kind::Int(None) => "an integer too large to hold".to_string(),
            Kind::Float(f) => format!("the float {f:?}"),
            Kind::Str(s) => format!("the string {s:?}"),
            Kind::Seq(_) => "a list".to_string(),
            Kind::Map(_) => "a mapping".to_string(),
        }
    }
}

/// The budgets a job file is parsed within: a job is a few dozen nodes, so these are far below
/// serde-saphyr's defaults and refuse alias bombs, deep nesting and huge documents in
/// milliseconds. The messages name them.
const MAX_EVENTS: usize = 100_000;
const MAX_NODES: usize = 20_000;
const MAX_ALIASES: usize = 1_000;
const MAX_ANCHORS: usize = 1_000;
/// Nodes copied by expanding aliases (what an alias bomb multiplies).
const MAX_EXPANDED: usize = 20_000;
const MAX_DEPTH: usize = 32;

/// Parses `text`. The error is a message and, when known, its position.
pub fn parse(text: &str) -> Result<Node, (Option<Pos>, String)> {
    let mut options = Options::default();
    options.duplicate_keys = DuplicateKeyPolicy::PassThrough;
    options.non_finite_float_policy = NonFiniteFloatPolicy::PassThrough;
    options.strict_booleans = true;
    let mut budget = Budget::default();
    budget.max_events = MAX_EVENTS;
    budget.max_nodes = MAX_NODES;
    budget.max_aliases = MAX_ALIASES;
    budget.max_anchors = MAX_ANCHORS;
    budget.max_recorded_anchor_events = MAX_EXPANDED;
    budget.max_depth = MAX_DEPTH;
    budget.flow_nesting_limit = MAX_DEPTH;
    options.budget = Some(budget);
    let raw: Spanned<Raw> = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let pos = e.location().map(|l| Pos { line: l.line(), column: l.column() }).filter(|p| p.line > 0);
        (pos, message(&e))
    })?;
    Ok(convert(raw, text))
}

/// At most this many tags are reported one by one; the rest are counted.
const MAX_TAGS: usize = 100;

/// A YAML tag, refused: where it stands and why.
pub struct Tag {
    pub pos: Pos,
    pub message: String,
    /// Where a tagged scalar's value stands, from its first character to the one after its
    /// last (`None` on a collection): what is said of the value there comes of the tag's
    /// reading of it (`!!null 1` as null, `! 1` as a string), and the tag is the problem.
    pub scalar: Option<(Pos, Pos)>,
}

/// Every YAML tag of `text` (a text [`parse`] accepted), at its own position: the first
/// [`MAX_TAGS`], and where the next stands and how many more there are.
///
/// A job file takes no YAML tags (`!!float 1`, `!!str 5`, `!custom x`, `!!null 1`): every field
/// has one type, which the job schema gives and editors check, and the schema cannot see a tag.
/// Honouring the core schema's tags would only give a second, invisible way to spell what the
/// value already says (`!!int 5`) or contradict it (`!!float 1` for an integer field); any
/// other tag has no meaning here. So every tag is refused, at its own position; quoting a
/// value is the way to make it a string. A tag does not stop the tree from being built (the
/// parser reads the node as if untagged, or as the core tag says), so the caller reports the
/// tags beside the file's other problems.
pub fn tags(text: &str) -> (Vec<Tag>, Option<(Pos, usize)>) {
    use serde_saphyr::granit_parser::{Event, Parser};
    let mut tags = Vec::new();
    let mut more = None;
    for event in Parser::new_from_str(text) {
        // A syntax error here was already reported by the parse itself.
        let Ok((event, span)) = event else { break };
        let (tag, scalar) = match &event {
            Event::Scalar(_, _, _, tag) => (tag, true),
            Event::SequenceStart(_, _, tag) | Event::MappingStart(_, _, tag) => (tag, false),
            _ => continue,
        };
        let Some(tag) = tag else { continue };
        let at = span.tag_start.unwrap_or(span.start);
        if tags.len() == MAX_TAGS {
            let (_, count) = more.get_or_insert((Pos { line: at.line() as u64, column: at.col() as u64 + 1 }, 0));
            *count += 1;
            continue;
        }
        let start = Pos { line: span.start.line() as u64, column: span.start.col() as u64 + 1 };
        let end = Pos { line: span.end.line() as u64, column: span.end.col() as u64 + 1 };
        tags.push(Tag {
            scalar: scalar.then_some((start, end.max(start))),
            pos: Pos { line: at.line() as u64, column: at.col() as u64 + 1 },
            message: format!(
                "the YAML tag `{}`: a job file takes no tags (each field has one type, which the job schema gives); \
                 write the value without it (quoted, for a string)",
                tag.original()
            ),
        });
    }
    (tags, more)
}

/// What went wrong, in runner's words: serde-saphyr's budgets and its single-document rule are
/// said in terms of the job file (never its Rust names or API), and its own position, which
/// the diagnostic already gives, is left out.
fn message(e: &serde_saphyr::Error) -> String {
    let mut e = e;
    // An error met while expanding an alias, or with a snippet of the source: the error itself.
    while let serde_saphyr::Error::AliasError { error, .. } | serde_saphyr::Error::WithSnippet { error, .. } = e {
        e = error;
    }
    match e {
        serde_saphyr::Error::Budget { breach, .. } => budget_message(breach),
        serde_saphyr::Error::MultipleDocuments { .. } => {
            "a second YAML document starts here: a job file holds one document (a `---` line separates documents; \
             put each job in a file of its own, or sweep values with `matrix`)"
                .to_string()
        }
        other => plain_message(&other.to_string()),
    }
}

/// A breached budget, with the limit.
fn budget_message(breach: &BudgetBreach) -> String {
    let bomb = format!(
        "too many aliases: a job file may use at most {MAX_ALIASES} aliases (`*name`) of at most {MAX_ANCHORS} anchors \
         (`&name`), expanding to at most {MAX_EXPANDED} nodes in all (an alias bomb?)"
    );
    let huge = format!("too large a document for a job file: at most {MAX_NODES} nodes ({MAX_EVENTS} YAML events)");
    match breach {
        BudgetBreach::Aliases { .. }
        | BudgetBreach::Anchors { .. }
        | BudgetBreach::RecordedAnchorEvents { .. }
        | BudgetBreach::RecordedAnchorBytes { .. }
        | BudgetBreach::AliasAnchorRatio { .. }
        | BudgetBreach::MergeKeys { .. } => bomb,
        BudgetBreach::Depth { .. } => nested(),
        _ => huge,
    }
}

fn nested() -> String {
    format!("nested too deeply: a job file nests at most {MAX_DEPTH} levels")
}

/// serde-saphyr's message without its position (`error: line L column C: ...` before it,
/// `... at line L, column C` after it): the diagnostic prints the position once, in front.
fn plain_message(rendered: &str) -> String {
    let first = rendered.lines().next().unwrap_or(rendered).trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let message = match first.strip_prefix("line ").and_then(|rest| rest.split_once(": ")) {
        Some((_, message)) => message,
        None => first,
    };
    let message = without_trailing_position(message);
    if message.starts_with("recursion limit exceeded") || message.contains("nesting") || message.contains("Depth {") {
        nested()
    } else {
        message.to_string()
    }
}

/// `text` without a trailing ` at line L, column C` (or ` at line L column C`).
fn without_trailing_position(text: &str) -> &str {
    let Some(at) = text.rfind(" at line ") else { return text };
    let rest = &text[at + " at line ".len()..];
    let shape: String = rest.chars().map(|c| if c.is_ascii_digit() { '9' } else { c }).collect();
    let squeezed = shape.split('9').filter(|s| !s.is_empty()).collect::<Vec<_>>();
    if matches!(squeezed.as_slice(), [", column "] | [" column "]) && rest.starts_with(|c: char| c.is_ascii_digit()) {
        &text[..at]
    } else {
        text
    }
}

fn convert(raw: Spanned<Raw>, text: &str) -> Node {
    let loc = raw.referenced;
    let pos = Pos { line: loc.line(), column: loc.column() };
    let kind = match raw.value {
        Raw::Null => Kind::Null,
        Raw::Bool(b) => Kind::Bool(b),
        Raw::Int(i) => Kind::Int(Some(i)),
        // serde-saphyr reads integers beyond 64 bits as floats: read them back from the source.
        Raw::Float(f) => match integer_spelling(text, loc.span()) {
            Some(parsed) => Kind::Int(parsed),
            None => Kind::Float(f),
        },
        Raw::Str(s) => Kind::Str(s),
        Raw::Seq(items) => Kind::Seq(items.into_iter().map(|n| convert(n, text)).collect()),
        Raw::Map(entries) => {
            Kind::Map(entries.into_iter().map(|(k, v)| (convert(k, text), convert(v, text))).collect())
        }
    };
    Node { kind, pos }
}

/// When the scalar at `span` is spelt as a decimal integer, its value (`None` if beyond i128).
fn integer_spelling(text: &str, span: serde_saphyr::Span) -> Option<Option<i128>> {
    let start = span.byte_offset()? as usize;
    let len = span.byte_len()? as usize;
    let token = text.get(start..start + len)?.trim();
    let digits = token.strip_prefix(['-', '+']).unwrap_or(token);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(token.parse::<i128>().ok())
}

/// The shape serde-saphyr hands over, before positions are made ours.
enum Raw {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<Raw>, Spanned<Raw>)>),
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML node")
    }
    fn visit_unit<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_none<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Raw, E> {
        Ok(Raw::Int(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Raw, E> {
        Ok(Raw::Int(v))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Raw, E> {
        Ok(i128::try_from(v).map_or(Raw::Float(v as f64), Raw::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Raw::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Raw::Map(entries))
    }
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Raw, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positions_duplicates_and_yaml_1_2_scalars() {
        let node = parse("# c\nworkers: 5\nw: 1.5\nq: \"5\"\nyes: yes\nbig: 99999999999999999999\nw: 0x1F\n").unwrap();
        let Kind::Map(entries) = node.kind else { panic!() };
        let kinds: Vec<_> = entries.iter().map(|(_, v)| v.kind.clone()).collect();
        assert_eq!(
            kinds,
            [
                Kind::Int(Some(5)),
                Kind::Float(1.5),
                Kind::Str("5".into()),
                Kind::Str("yes".into()),
                Kind::Int(Some(99999999999999999999)),
                Kind::Int(Some(31))
            ]
        );
        assert_eq!(entries[0].1.pos, Pos { line: 2, column: 10 });
        assert_eq!(entries[5].0.pos, Pos { line: 7, column: 1 });
    }
}
