//! `matrix:`: one job file, many jobs. Expands the matrix on the YAML tree, before the job is
//! read, so that every cell is an ordinary job whose values keep the positions they were written
//! at (an error in one cell points into the matrix).
//!
//! Semantics follow GitHub Actions: the cross product of the listed values; `exclude` removes
//! the combinations that match every field an entry names; `include` adds its fields to every
//! combination that agrees with it on the matrix's own keys, or, when none does, adds itself as
//! a new combination. Owns: the expansion and the cells' names. Does not own: reading a cell's
//! fields (see `read.rs`).

use crate::error::{Diagnostic, Pos};
use crate::spec::suggest::hint;
use crate::spec::tree::{Kind, Node};

/// The fields a matrix may vary, as paths in the job.
pub const MATRIX_KEYS: [&str; 17] = [
    "workers",
    "iterations",
    "backend",
    "value.type",
    "value.initial",
    "operation",
    "operand",
    "batch",
    "transport",
    "schedule",
    "start",
    "work",
    "work.inside",
    "work.outside",
    "pin",
    "expect",
    "engine",
];

/// Combinations at most: a sweep larger than this is a mistake in the file.
pub const MAX_CELLS: usize = 4096;
/// The job's text times its cells, at most.
pub const MAX_EXPANDED_BYTES: usize = 32 << 20;

/// One job of a matrix: the values that make it, and the job's tree with them in place.
#[derive(Clone, Debug)]
pub struct Cell {
    /// `(path, value)` in the matrix's order; empty without a matrix.
    pub params: Vec<(String, Node)>,
    pub root: Node,
}

impl Cell {
    /// `backend=mutex workers=8`; empty without a matrix.
    pub fn name(&self) -> String {
        self.params.iter().map(|(k, v)| format!("{k}={}", render(v))).collect::<Vec<_>>().join(" ")
    }
}

/// A node in flow style, for names: `mutex`, `8`, `{inside: 200ns}`, `[1, 2]`.
pub fn render(node: &Node) -> String {
    match &node.kind {
        Kind::Null => "null".to_string(),
        Kind::Bool(b) => b.to_string(),
        Kind::Int(Some(i)) => i.to_string(),
        Kind::Int(None) => "(too large)".to_string(),
        Kind::Float(f) => f.to_string(),
        Kind::Str(s) => s.clone(),
        Kind::Seq(items) => format!("[{}]", items.iter().map(render).collect::<Vec<_>>().join(", ")),
        Kind::Map(entries) => format!(
            "{{{}}}",
            entries.iter().map(|(k, v)| format!("{}: {}", render(k), render(v))).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Splits the matrix off `root` and expands it; one cell (the job itself) without a matrix.
pub fn expand(root: &Node, file: &str) -> Result<Vec<Cell>, Vec<Diagnostic>> {
    let Kind::Map(entries) = &root.kind else { return Ok(vec![Cell { params: Vec::new(), root: root.clone() }]) };
    let Some(index) = entries.iter().position(|(k, _)| k.kind == Kind::Str("matrix".into())) else {
        return Ok(vec![Cell { params: Vec::new(), root: root.clone() }]);
    };
    let mut base = root.clone();
    let Kind::Map(base_entries) = &mut base.kind else { unreachable!("checked above") };
    let (_, matrix) = base_entries.remove(index);
    let mut diags = Vec::new();
    if let Some((again, _)) = base_entries.iter().find(|(k, _)| k.kind == Kind::Str("matrix".into())) {
        let line = entries[index].0.pos.line;
        diags.push(Diagnostic::at(file, again.pos, "matrix", format!("duplicate field (first given at line {line})")));
    }
    let combos = combinations(&matrix, file, &mut diags);
    if !diags.is_empty() {
        return Err(diags);
    }
    // Every cell is a copy of the job: bound the copies, not only the file.
    let cost = combos.len().saturating_mul(render(root).len());
    if cost > MAX_EXPANDED_BYTES {
        let message = format!(
            "{} cells of this job come to {} MiB of job text: at most {} MiB (a long description times many cells?)",
            combos.len(),
            cost >> 20,
            MAX_EXPANDED_BYTES >> 20
        );
        return Err(vec![Diagnostic::at(file, matrix.pos, "matrix", message)]);
    }
    let cells = combos
        .into_iter()
        .map(|params| {
            let mut root = base.clone();
            for (path, value) in &params {
                set(&mut root, path, value.clone());
            }
            Cell { params, root }
        })
        .collect();
    Ok(cells)
}

type Combo = Vec<(String, Node)>;

fn combinations(matrix: &Node, file: &str, diags: &mut Vec<Diagnostic>) -> Vec<Combo> {
    let mut error = |pos: Pos, field: &str, message: String| diags.push(Diagnostic::at(file, pos, field, message));
    let Kind::Map(entries) = &matrix.kind else {
        error(
            matrix.pos,
            "matrix",
            format!("expected a mapping of field -> list of values, found {}", matrix.describe()),
        );
        return Vec::new();
    };
    let Some(Axes { axes, include, exclude }) = axes(matrix, entries, &mut error) else { return Vec::new() };
    let Some(mut combos) = cross(&axes, matrix.pos, &mut error) else { return Vec::new() };
    combos.retain(|c| {
        !exclude.iter().any(|ex: &Combo| ex.iter().all(|(k, v)| lookup(c, k).is_some_and(|cv| same(cv, v))))
    });
    let keys: Vec<&str> = axes.iter().map(|(k, _)| k.as_str()).collect();
    merge_includes(&mut combos, &include, &keys);
    if combos.is_empty() {
        error(matrix.pos, "matrix", "no combination is left to run".to_string());
    }
    if combos.len() > MAX_CELLS {
        error(matrix.pos, "matrix", format!("more than {MAX_CELLS} combinations"));
    }
    combos
}

/// A matrix as written: its axes (key and values, in order), and its include and exclude lists.
struct Axes {
    axes: Vec<(String, Vec<Node>)>,
    include: Vec<Combo>,
    exclude: Vec<Combo>,
}

/// Reads the matrix's entries; `None` when its axes contradict each other.
fn axes(matrix: &Node, entries: &[(Node, Node)], error: &mut impl FnMut(Pos, &str, String)) -> Option<Axes> {
    let mut axes: Vec<(String, Vec<Node>)> = Vec::new();
    let (mut include, mut exclude) = (Vec::new(), Vec::new());
    for (key, value) in entries {
        let Kind::Str(name) = &key.kind else {
            error(key.pos, "matrix", format!("a field name must be a string, found {}", key.describe()));
            continue;
        };
        let field = format!("matrix.{name}");
        if name == "include" || name == "exclude" {
            let list = entry_list(value, &field, error);
            if name == "include" {
                include = list
            } else {
                exclude = list
            }
            continue;
        }
        if !MATRIX_KEYS.contains(&name.as_str()) {
            let known = MATRIX_KEYS.join(", ");
            error(
                key.pos,
                &field,
                format!("cannot vary this field{}; a matrix varies: {known}", hint(name, MATRIX_KEYS)),
            );
            continue;
        }
        if axes.iter().any(|(k, _)| k == name) {
            error(key.pos, &field, "duplicate field".to_string());
            continue;
        }
        match &value.kind {
            Kind::Seq(items) if !items.is_empty() => axes.push((name.clone(), items.clone())),
            _ => error(value.pos, &field, format!("expected a non-empty list of values, found {}", value.describe())),
        }
    }
    let has = |k: &str| axes.iter().any(|(a, _)| a == k);
    if has("work") && (has("work.inside") || has("work.outside")) {
        error(
            matrix.pos,
            "matrix",
            "`work` and `work.inside` or `work.outside` would overwrite each other: vary one or the other".to_string(),
        );
        return None;
    }
    Some(Axes { axes, include, exclude })
}

/// The cross product of the axes (none without axes); `None` beyond [`MAX_CELLS`].
fn cross(axes: &[(String, Vec<Node>)], pos: Pos, error: &mut impl FnMut(Pos, &str, String)) -> Option<Vec<Combo>> {
    let mut combos: Vec<Combo> = vec![Vec::new()];
    for (key, values) in axes {
        if combos.len().saturating_mul(values.len()) > MAX_CELLS {
            error(pos, "matrix", format!("more than {MAX_CELLS} combinations"));
            return None;
        }
        combos = combos
            .iter()
            .flat_map(|c| {
                values.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push((key.clone(), v.clone()));
                    c
                })
            })
            .collect();
    }
    if axes.is_empty() {
        combos.clear();
    }
    Some(combos)
}

/// Includes merge into the cross product only, never into a combination another include
/// made; values of the matrix's own `keys` are never overwritten (GitHub Actions' rules). An
/// include that matches no combination is added as its own, unless one is already equal.
fn merge_includes(combos: &mut Vec<Combo>, include: &[Combo], keys: &[&str]) {
    let product = combos.len();
    for inc in include.iter().filter(|inc| !inc.is_empty()) {
        let mut matched = false;
        for combo in combos[..product].iter_mut() {
            let agrees = inc
                .iter()
                .filter(|(k, _)| keys.contains(&k.as_str()))
                .all(|(k, v)| lookup(combo, k).is_some_and(|cv| same(cv, v)));
            if agrees {
                for (k, v) in inc.iter().filter(|(k, _)| !keys.contains(&k.as_str())) {
                    combo.retain(|(ck, _)| ck != k);
                    combo.push((k.clone(), v.clone()));
                }
                matched = true;
            }
        }
        if !matched
            && !combos
                .iter()
                .any(|c| c.len() == inc.len() && inc.iter().all(|(k, v)| lookup(c, k).is_some_and(|cv| same(cv, v))))
        {
            combos.push(inc.clone());
        }
    }
}

/// `include` or `exclude`: a list of mappings of matrix keys to single values.
fn entry_list(node: &Node, field: &str, error: &mut impl FnMut(Pos, &str, String)) -> Vec<Combo> {
    let Kind::Seq(items) = &node.kind else {
        error(node.pos, field, format!("expected a list of mappings, found {}", node.describe()));
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let Kind::Map(entries) = &item.kind else {
            error(item.pos, field, format!("expected a mapping of field: value, found {}", item.describe()));
            continue;
        };
        let mut combo = Vec::new();
        for (k, v) in entries {
            match &k.kind {
                Kind::Str(name) if MATRIX_KEYS.contains(&name.as_str()) => combo.push((name.clone(), v.clone())),
                Kind::Str(name) => {
                    error(
                        k.pos,
                        &format!("{field}.{name}"),
                        format!("cannot vary this field{}", hint(name, MATRIX_KEYS)),
                    );
                }
                _ => error(k.pos, field, format!("a field name must be a string, found {}", k.describe())),
            }
        }
        out.push(combo);
    }
    out
}

fn lookup<'a>(combo: &'a Combo, key: &str) -> Option<&'a Node> {
    combo.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Two values are the same when they read the same, wherever they were written.
fn same(a: &Node, b: &Node) -> bool {
    render(a) == render(b)
}

/// Puts `value` at `path` (`value.type`) in the job's mapping, replacing what was there.
fn set(root: &mut Node, path: &str, value: Node) {
    let (head, rest) = match path.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (path, None),
    };
    let Kind::Map(entries) = &mut root.kind else { return };
    let slot = entries.iter().position(|(k, _)| k.kind == Kind::Str(head.into()));
    match rest {
        None => match slot {
            Some(i) => entries[i].1 = value,
            None => entries.push((Node { kind: Kind::Str(head.into()), pos: value.pos }, value)),
        },
        Some(rest) => {
            let i = slot.unwrap_or_else(|| {
                let pos = value.pos;
                entries.push((Node { kind: Kind::Str(head.into()), pos }, Node { kind: Kind::Map(Vec::new()), pos }));
                entries.len() - 1
            });
            if !matches!(entries[i].1.kind, Kind::Map(_)) {
                entries[i].1 = Node { kind: Kind::Map(Vec::new()), pos: value.pos };
            }
            set(&mut entries[i].1, rest, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::tree::parse;

    fn names(text: &str) -> Vec<String> {
        expand(&parse(text).unwrap(), "t").unwrap().iter().map(Cell::name).collect()
    }

    #[test]
    fn cross_product_include_exclude() {
        let text = "workers: 1\nmatrix:\n  backend: [mutex, atomic]\n  workers: [1, 2]\n  exclude:\n    - {backend: atomic, workers: 2}\n  include:\n    - {backend: channel, workers: 4}\n    - {backend: mutex, batch: 3}\n    - {workers: 1}\n    - {}\n";
        assert_eq!(
            names(text),
            [
                "backend=mutex workers=1 batch=3",
                "backend=mutex workers=2 batch=3",
                "backend=atomic workers=1",
                "backend=channel workers=4"
            ]
        );
    }

    #[test]
    fn includes_follow_github_actions() {
        // Without axes every include is a cell of its own; a later include never merges into
        // an earlier one's cell.
        assert_eq!(
            names("matrix:\n  include:\n    - {workers: 3}\n    - {backend: atomic}\n"),
            ["workers=3", "backend=atomic"]
        );
        let text = "matrix:\n  fruit: [apple]\n";
        assert!(expand(&parse(text).unwrap(), "t").is_err(), "unknown keys are refused");
        let text = "matrix:\n  backend: [mutex, atomic]\n  include:\n    - {batch: 2}\n    - {batch: 3, backend: atomic}\n    - {backend: channel}\n    - {backend: channel, batch: 5}\n";
        assert_eq!(
            names(text),
            ["backend=mutex batch=2", "backend=atomic batch=3", "backend=channel", "backend=channel batch=5"]
        );
    }

    #[test]
    fn nested_paths_are_set() {
        let cells =
            expand(&parse("value: {type: i}\nmatrix:\n  value.type: [d]\n  work.inside: [1us]\n").unwrap(), "t")
                .unwrap();
        assert_eq!(render(&cells[0].root), "{value: {type: d}, work: {inside: 1us}}");
    }

    #[test]
    fn bad_keys_are_named() {
        let err = expand(&parse("matrix:\n  backnd: [mutex]\n").unwrap(), "t").unwrap_err();
        assert!(err[0].message.contains("did you mean \"backend\""), "{err:?}");
    }
}
