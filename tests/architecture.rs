//! The shape of the code, checked: which top-level module imports which (no circle, and every
//! import goes down the floors that ARCHITECTURE.md draws), how long a source file and a
//! function may grow. The floor diagram in ARCHITECTURE.md is this scan's output: when an
//! import changes, the test prints the new diagram, and `RUNNER_BLESS=1 cargo test --test
//! architecture` writes it into ARCHITECTURE.md.
//!
//! The scan reads the source as text: `crate::module` paths (in `use` lines and in code, outside
//! comments and strings), `super::` paths that climb to the crate root, and the invocations of
//! the macros a module exports with `#[macro_export]` or `#[macro_use]`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The floors, from the top down: a module may import only modules on lower floors, or on its
/// own floor without a circle. Every top-level module of `src/` is on exactly one floor.
const FLOORS: &[(&str, &[&str])] = &[
    ("command line", &["cli"]),
    ("application", &["app"]),
    ("output", &["python", "report"]),
    ("sweeps", &["sweep"]),
    ("execution", &["exec"]),
    ("results", &["outcome"]),
    ("backends", &["sync", "watch"]),
    ("planner", &["plan"]),
    ("input", &["spec"]),
    ("model", &["value", "iterate", "expect", "names"]),
    ("ground", &["clock", "error", "host", "shm", "stdio", "terminal", "version", "words"]),
];

/// The longest a source file may be, in lines.
const FILE_MAX_LINES: usize = 500;
/// The longest a function may be, in lines, from its `fn` to its closing brace.
const FN_MAX_LINES: usize = 100;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A source file with its comments blanked out and its string and character literals emptied,
/// so that braces and paths in them are not read as code. Line breaks are kept.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let keep_lines = |s: &[u8], out: &mut String| {
        for &c in s {
            out.push(if c == b'\n' { '\n' } else { ' ' });
        }
    };
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            let end = text[i..].find('\n').map_or(b.len(), |n| i + n);
            keep_lines(&b[i..end], &mut out);
            i = end;
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let (mut depth, mut j) = (1, i + 2);
            while j < b.len() && depth > 0 {
                if b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
                    depth += 1;
                    j += 2;
                } else if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            keep_lines(&b[i..j], &mut out);
            i = j;
        } else if c == b'r' && (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#')) && !ident_before(b, i) {
            // A raw string: r"..." or r#"..."#.
            let mut hashes = 0;
            let mut j = i + 1;
            while b.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                out.push(c as char);
                i += 1;
                continue;
            }
            let close: String = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            let end = text[j + 1..].find(&close).map_or(b.len(), |n| j + 1 + n + close.len());
            out.push_str("\"\"");
            keep_lines(&b[i..end], &mut String::new());
            for _ in b[i..end].iter().filter(|&&c| c == b'\n') {
                out.push('\n');
            }
            i = end;
        } else if c == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            for _ in b[i..j.min(b.len())].iter().filter(|&&c| c == b'\n') {
                out.push('\n');
            }
            i = j + 1;
        } else if c == b'\'' {
            // A character literal ('x', '\n', '\u{..}') or a lifetime ('a).
            let end = if b.get(i + 1) == Some(&b'\\') {
                text[i + 2..].find('\'').map(|n| i + 2 + n + 1)
            } else {
                let ch = text[i + 1..].chars().next().map_or(1, char::len_utf8);
                (b.get(i + 1 + ch) == Some(&b'\'')).then_some(i + 2 + ch)
            };
            match end {
                Some(end) => {
                    out.push_str("' '");
                    i = end;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            let ch = text[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn ident_before(b: &[u8], i: usize) -> bool {
    i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')
}

fn ident_at(s: &str) -> &str {
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    &s[..end]
}

/// The top-level module a file belongs to (`None` for the crate root's files).
fn module_of(path: &Path) -> Option<String> {
    let rel = path.strip_prefix(src()).unwrap();
    let first = rel.components().next()?.as_os_str().to_string_lossy().into_owned();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// The module path of a file inside the crate (`["sync", "channel"]` for
/// `src/sync/channel/mod.rs`).
fn path_of(path: &Path) -> Vec<String> {
    let rel = path.strip_prefix(src()).unwrap();
    let mut parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    let stem = last.strip_suffix(".rs").unwrap().to_string();
    if stem != "mod" && stem != "lib" && stem != "main" {
        parts.push(stem);
    }
    parts
}

/// The top-level modules a file's code names.
fn imports(path: &Path, code: &str, macros: &BTreeMap<String, String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a, b::c}`: the first name of each item at the group's top level.
            let mut depth = 0;
            let mut item_start = true;
            for (k, ch) in group.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && (c.is_ascii_alphabetic() || c == '_') => {
                        found.insert(ident_at(&group[k..]).to_string());
                        item_start = false;
                    }
                    c if !c.is_whitespace() => item_start = false,
                    _ => {}
                }
            }
        } else {
            found.insert(ident_at(rest).to_string());
        }
    }
    // `super::` that climbs out of the file's top-level module names another top-level one.
    let depth = path_of(path).len();
    for (at, _) in code.match_indices("super::") {
        if at >= 7 && &code[at - 7..at] == "super::" {
            continue;
        }
        let mut rest = &code[at..];
        let mut climbs = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            climbs += 1;
            rest = r;
        }
        if climbs == depth {
            found.insert(ident_at(rest).to_string());
        }
    }
    for (name, module) in macros {
        let call = format!("{name}!");
        if code.match_indices(&call).any(|(at, _)| !ident_before(code.as_bytes(), at)) {
            found.insert(module.clone());
        }
    }
    found
}

/// A function: its name, first line (1-based) and length in lines.
type Function = (String, usize, usize);

struct Scan {
    /// Module -> the modules it imports.
    edges: BTreeMap<String, BTreeSet<String>>,
    /// File -> lines, and every function with its first line and length.
    files: Vec<(String, usize, Vec<Function>)>,
}

fn scan() -> Scan {
    let mut paths = Vec::new();
    rust_files(&src(), &mut paths);
    let sources: Vec<(PathBuf, String, String)> = paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let code = code_only(&text);
            (p, text, code)
        })
        .collect();
    // Macros by the module that defines them.
    let mut macros = BTreeMap::new();
    for (path, _, code) in &sources {
        if let Some(module) = module_of(path) {
            for (at, _) in code.match_indices("macro_rules!") {
                let name = ident_at(code[at + "macro_rules!".len()..].trim_start());
                macros.insert(name.to_string(), module.clone());
            }
        }
    }
    let top: BTreeSet<String> = sources.iter().filter_map(|(p, _, _)| module_of(p)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = top.iter().map(|m| (m.clone(), BTreeSet::new())).collect();
    let mut files = Vec::new();
    for (path, text, code) in &sources {
        let rel = path.strip_prefix(src().parent().unwrap()).unwrap().to_string_lossy().into_owned();
        files.push((rel, text.lines().count(), functions(code)));
        let Some(module) = module_of(path) else { continue };
        for target in imports(path, code, &macros) {
            if target != module && top.contains(&target) {
                edges.get_mut(&module).unwrap().insert(target);
            }
        }
    }
    Scan { edges, files }
}

/// Every `fn` with a body: its name, first line (1-based) and length in lines.
fn functions(code: &str) -> Vec<Function> {
    let b = code.as_bytes();
    let mut found = Vec::new();
    for (at, _) in code.match_indices("fn ") {
        if ident_before(b, at) {
            continue;
        }
        let name = ident_at(code[at + 3..].trim_start()).to_string();
        if name.is_empty() {
            continue;
        }
        // The body starts at the first `{` outside parentheses; a `;` first means no body.
        let (mut parens, mut open) = (0i32, None);
        for (k, ch) in code[at..].char_indices() {
            match ch {
                '(' | '[' => parens += 1,
                ')' | ']' => parens -= 1,
                ';' if parens == 0 => break,
                '{' if parens == 0 => {
                    open = Some(at + k);
                    break;
                }
                _ => {}
            }
        }
        let Some(open) = open else { continue };
        let mut depth = 0;
        let mut close = code.len();
        for (k, ch) in code[open..].char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        close = open + k;
                        break;
                    }
                }
                _ => {}
            }
        }
        let first = code[..at].matches('\n').count() + 1;
        let last = code[..close].matches('\n').count() + 1;
        found.push((name, first, last - first + 1));
    }
    found
}

fn floor_of(module: &str) -> Option<usize> {
    FLOORS.iter().position(|(_, modules)| modules.contains(&module))
}

/// The circles among the modules (strongly connected components of two or more).
fn circles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_string()];
        while let Some(m) = stack.pop() {
            for next in &edges[&m] {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<String>> = edges.keys().map(|m| (m, reach(m))).collect();
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for m in edges.keys() {
        if done.contains(m) || !reached[m].contains(m) {
            continue;
        }
        let circle: Vec<String> = reached[m].iter().filter(|o| reached[*o].contains(m)).cloned().collect();
        done.extend(circle.iter().cloned());
        out.push(circle);
    }
    out
}

/// The diagram ARCHITECTURE.md carries: each floor with its modules and what each imports.
fn diagram(edges: &BTreeMap<String, BTreeSet<String>>) -> String {
    let width = edges.keys().map(String::len).max().unwrap_or(0);
    let mut out = String::from("```text\n");
    for (floor, modules) in FLOORS {
        out.push_str(&format!("{floor}\n"));
        for m in *modules {
            let Some(to) = edges.get(*m) else { continue };
            let list = if to.is_empty() { "-".to_string() } else { to.iter().cloned().collect::<Vec<_>>().join(", ") };
            out.push_str(&format!("    {m:<width$}  -> {list}\n"));
        }
    }
    out.push_str("```\n");
    out
}

const BEGIN: &str = "<!-- floors: begin (written by tests/architecture.rs) -->\n";
const END: &str = "<!-- floors: end -->";

#[test]
fn no_module_imports_upward_or_in_a_circle() {
    let scan = scan();
    let mut problems = Vec::new();
    for m in scan.edges.keys() {
        if floor_of(m).is_none() {
            problems.push(format!("{m}: on no floor (add it to FLOORS in tests/architecture.rs)"));
        }
    }
    for (from, to) in &scan.edges {
        for target in to {
            if let (Some(a), Some(b)) = (floor_of(from), floor_of(target))
                && b < a
            {
                problems.push(format!("{from} ({}) imports {target} ({}), a floor above it", FLOORS[a].0, FLOORS[b].0));
            }
        }
    }
    for circle in circles(&scan.edges) {
        problems.push(format!("a circle of imports: {}", circle.join(", ")));
    }
    assert!(problems.is_empty(), "{}\n\nthe imports as they are:\n{}", problems.join("\n"), diagram(&scan.edges));
}

#[test]
fn architecture_md_draws_the_imports_as_they_are() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let drawn = diagram(&scan().edges);
    let (Some(begin), Some(end)) = (text.find(BEGIN), text.find(END)) else {
        panic!("ARCHITECTURE.md has no block between {BEGIN:?} and {END:?}")
    };
    let current = &text[begin + BEGIN.len()..end];
    if current == drawn {
        return;
    }
    if std::env::var_os("RUNNER_BLESS").is_some() {
        let updated = format!("{}{BEGIN}{drawn}{}", &text[..begin], &text[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    panic!(
        "ARCHITECTURE.md's floor diagram differs from the imports; run `RUNNER_BLESS=1 cargo test --test architecture`.\nThe imports as they are:\n{drawn}"
    );
}

#[test]
fn no_source_file_is_longer_than_500_lines() {
    let long: Vec<String> = scan()
        .files
        .iter()
        .filter(|(_, lines, _)| *lines > FILE_MAX_LINES)
        .map(|(file, lines, _)| format!("{file}: {lines} lines"))
        .collect();
    assert!(long.is_empty(), "files over {FILE_MAX_LINES} lines:\n{}", long.join("\n"));
}

#[test]
fn no_function_is_longer_than_100_lines() {
    let mut long: Vec<(usize, String)> = Vec::new();
    for (file, _, fns) in &scan().files {
        for (name, line, len) in fns {
            if *len > FN_MAX_LINES {
                long.push((*len, format!("{file}:{line}: fn {name}: {len} lines")));
            }
        }
    }
    long.sort_by_key(|l| std::cmp::Reverse(l.0));
    let list: Vec<String> = long.into_iter().map(|(_, s)| s).collect();
    assert!(list.is_empty(), "functions over {FN_MAX_LINES} lines:\n{}", list.join("\n"));
}

/// The scan itself: a circle, an upward import and a long function are seen.
#[test]
fn the_scan_sees_circles_paths_and_function_lengths() {
    let code = code_only("use crate::{a::X, b};\n// crate::c\nlet s = \"crate::d {\";\nfn f() {\n    g('{');\n}\n");
    let path = src().join("z.rs");
    let found = imports(&path, &code, &BTreeMap::new());
    assert_eq!(found.into_iter().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(functions(&code), [("f".to_string(), 4, 3)]);
    let edges: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["a".to_string()])),
        ("c".to_string(), BTreeSet::from(["a".to_string()])),
    ]
    .into();
    assert_eq!(circles(&edges), [vec!["a".to_string(), "b".to_string()]]);
    let nested = code_only("mod m {\n    fn g() {\n        super::super::plan::x();\n    }\n}\n");
    let deep = src().join("sync").join("mutex.rs");
    assert!(imports(&deep, &nested, &BTreeMap::new()).contains("plan"));
}
