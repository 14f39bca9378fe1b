//! `--matrix KEY=V1,V2,...`: a matrix axis given on the command line (hyperfine's
//! `--parameter-list`). It is put into the job's YAML tree before the matrix is expanded, so its
//! values are read, type-checked and planned exactly as the file's would be; it adds an axis, or
//! replaces the file's axis of the same key (keeping its place in the cells' labels); a job
//! without a matrix becomes a sweep.
//!
//! Owns: reading the flag's text (the key among [`MATRIX_KEYS`], with a did-you-mean; the values
//! as the YAML flow list `[V1,V2,...]`), putting the axes into the tree, and turning a problem
//! found in their values into one that names the flag instead of a line of the file. Does not
//! own: the expansion (see `matrix.rs`) or how plain overrides meet a matrix (see
//! `plan/cells.rs`).

use crate::error::{Diagnostic, Pos};
use crate::spec::matrix::{MATRIX_KEYS, render};
use crate::spec::suggest::hint;
use crate::spec::tree::{self, Kind, Node};

/// One `--matrix KEY=V1,V2,...`, as given; only [`Axis::parse`] makes one, so its key is a
/// matrix key and its values read as a non-empty YAML list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Axis {
    key: String,
    values: String,
}

/// Nodes from the command line stand at line 0 (a file's lines start at 1): the column is the
/// axis's place among the `--matrix` flags (from 1), or 0 for a matrix only they make.
const LINE: u64 = 0;

impl Axis {
    /// Reads `KEY=V1,V2,...`: the values as YAML reads the flow list `[V1,V2,...]`, so that
    /// `workers=1,2,4`, `backend=mutex,atomic`, `work.inside=100ns,1us` and
    /// `work={inside: 1us},{outside: 2us}` say what they would in a job file's matrix.
    pub fn parse(arg: &str) -> Result<Axis, String> {
        let known = MATRIX_KEYS.join(", ");
        let Some((key, values)) = arg.split_once('=') else {
            return Err(format!("expected KEY=V1,V2,... with KEY one of: {known}"));
        };
        let key = key.trim();
        if !MATRIX_KEYS.contains(&key) {
            return Err(format!("cannot vary `{key}`{} (a matrix varies: {known})", hint(key, MATRIX_KEYS)));
        }
        let axis = Axis { key: key.to_string(), values: values.to_string() };
        axis.node(Pos { line: LINE, column: 0 })?;
        Ok(axis)
    }

    /// The matrix key: `workers`, `work.inside`.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The values as written: `1,2,4`.
    pub fn values(&self) -> &str {
        &self.values
    }

    /// The flag as given: `--matrix workers=1,2,4`.
    pub fn flag(&self) -> String {
        format!("--matrix {}={}", self.key, self.values)
    }

    /// The values as a YAML list, every node standing at `pos`.
    fn node(&self, pos: Pos) -> Result<Node, String> {
        let text = format!("[{}]", self.values);
        let mut node = tree::parse(&text)
            .map_err(|(_, message)| format!("the values are read as the YAML list [{}]: {message}", self.values))?;
        if !tree::tags(&text).0.is_empty() {
            return Err("YAML tags are refused here as in a job file (quote a value to make it a string)".to_string());
        }
        match &node.kind {
            Kind::Seq(items) if !items.is_empty() => {}
            _ => return Err(format!("no value for `{}`: give at least one (KEY=V1,V2,...)", self.key)),
        }
        place(&mut node, pos);
        Ok(node)
    }
}

/// Every node of `node` at `pos`.
fn place(node: &mut Node, pos: Pos) {
    node.pos = pos;
    match &mut node.kind {
        Kind::Seq(items) => items.iter_mut().for_each(|n| place(n, pos)),
        Kind::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            place(k, pos);
            place(v, pos)
        }),
        _ => {}
    }
}

fn string(text: &str, pos: Pos) -> Node {
    Node { kind: Kind::Str(text.to_string()), pos }
}

/// `root` with `axes` in its matrix: an axis replaces the file's axis of the same key (in its
/// place; the file's `include` entries that give that key a value no longer listed are dropped,
/// so that the cells run only the values asked for), or is added after the file's axes; a job
/// without a matrix gets one. A root that is not a mapping, or a matrix that is not one, is
/// left as it is for the reader to refuse.
pub(crate) fn with_axes(mut root: Node, axes: &[Axis]) -> Node {
    if axes.is_empty() {
        return root;
    }
    let Kind::Map(entries) = &mut root.kind else { return root };
    let at = match entries.iter().position(|(k, _)| k.kind == Kind::Str("matrix".into())) {
        Some(i) => i,
        None => {
            let pos = Pos { line: LINE, column: 0 };
            entries.push((string("matrix", pos), Node { kind: Kind::Map(Vec::new()), pos }));
            entries.len() - 1
        }
    };
    let Kind::Map(matrix) = &mut entries[at].1.kind else { return root };
    for (i, axis) in axes.iter().enumerate() {
        let pos = Pos { line: LINE, column: i as u64 + 1 };
        // Read once already, by `Axis::parse`.
        let Ok(values) = axis.node(pos) else { continue };
        let named = |k: &Node| k.kind == Kind::Str(axis.key.clone());
        match matrix.iter_mut().find(|(k, _)| named(k)) {
            Some((_, slot)) => {
                *slot = values.clone();
                drop_includes(matrix, &axis.key, &values);
            }
            None => matrix.push((string(&axis.key, pos), values)),
        }
    }
    root
}

/// Drops the `include` entries that set `key` to a value not among `values`.
fn drop_includes(matrix: &mut [(Node, Node)], key: &str, values: &Node) {
    let Kind::Seq(listed) = &values.kind else { return };
    let listed: Vec<String> = listed.iter().map(render).collect();
    for (k, v) in matrix.iter_mut() {
        if k.kind != Kind::Str("include".into()) {
            continue;
        }
        let Kind::Seq(items) = &mut v.kind else { continue };
        items.retain(|item| {
            let Kind::Map(fields) = &item.kind else { return true };
            fields.iter().all(|(f, value)| f.kind != Kind::Str(key.into()) || listed.contains(&render(value)))
        });
    }
}

/// The diagnostics with those about the command line's axes (found in their values, or in a
/// matrix only they make) naming the flag, without a position: `FILE: workers: --matrix
/// workers=1,x: expected ...`.
pub fn on_the_command_line(diags: Vec<Diagnostic>, axes: &[Axis]) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = Vec::with_capacity(diags.len());
    for mut d in diags {
        if let Some(pos) = d.pos.filter(|p| p.line == LINE) {
            let flags = match axes.get((pos.column as usize).wrapping_sub(1)) {
                Some(axis) => axis.flag(),
                None => axes.iter().map(Axis::flag).collect::<Vec<_>>().join(" "),
            };
            d.pos = None;
            d.message = format!("{flags}: {}", d.message);
        }
        if !out.contains(&d) {
            out.push(d);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::matrix::{Cell, expand};

    fn names(text: &str, args: &[&str]) -> Vec<String> {
        let axes: Vec<Axis> = args.iter().map(|a| Axis::parse(a).unwrap()).collect();
        let root = with_axes(tree::parse(text).unwrap(), &axes);
        expand(&root, "t").unwrap().iter().map(Cell::name).collect()
    }

    #[test]
    fn adds_replaces_and_makes_a_sweep() {
        assert_eq!(names("workers: 1\n", &["workers=1,2"]), ["workers=1", "workers=2"]);
        let file = "matrix:\n  backend: [mutex, atomic, channel]\n  include:\n    - {backend: channel, batch: 4}\n";
        assert_eq!(
            names(file, &["workers=2,4"]),
            [
                "backend=mutex workers=2",
                "backend=mutex workers=4",
                "backend=atomic workers=2",
                "backend=atomic workers=4",
                "backend=channel workers=2 batch=4",
                "backend=channel workers=4 batch=4"
            ]
        );
        // Replaced in place; the include about a value no longer listed goes with it.
        assert_eq!(names(file, &["backend=none,mutex"]), ["backend=none", "backend=mutex"]);
        assert_eq!(names(file, &["backend=channel"]), ["backend=channel batch=4"]);
        assert_eq!(names("work: {inside: 1us}\n", &["work={inside: 1us},{outside: 2us}"]).len(), 2);
        assert_eq!(names("pin: false\n", &["pin=[0, 1],false"]), ["pin=[0, 1]", "pin=false"]);
    }

    #[test]
    fn refuses_what_is_no_axis() {
        let err = Axis::parse("wrokers=1,2").unwrap_err();
        assert!(err.contains("did you mean \"workers\""), "{err}");
        assert!(Axis::parse("workers").unwrap_err().contains("KEY=V1,V2"));
        assert!(Axis::parse("workers=").unwrap_err().contains("at least one"));
        assert!(Axis::parse("workers=[1").is_err());
        assert!(Axis::parse("workers=!!str 1").unwrap_err().contains("tags"));
        assert_eq!(Axis::parse("work.inside=1us").unwrap().flag(), "--matrix work.inside=1us");
    }

    #[test]
    fn problems_name_the_flag() {
        let axes = [Axis::parse("workers=1,x").unwrap(), Axis::parse("backend=mutex").unwrap()];
        let d = |line, column| Diagnostic::at("j.yaml", Pos { line, column }, "workers", "bad");
        let got = on_the_command_line(vec![d(0, 1), d(3, 1), d(0, 0), d(0, 1)], &axes);
        let got: Vec<String> = got.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "j.yaml: workers: --matrix workers=1,x: bad",
                "j.yaml:3:1: workers: bad",
                "j.yaml: workers: --matrix workers=1,x --matrix backend=mutex: bad"
            ]
        );
    }
}
