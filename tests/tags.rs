//! YAML tags (issue 16, item 10): refused, every one, at its own line and column. On 7dd154f
//! they were half-honoured: `operand: !!float 1` was accepted for type `i` (the integer read
//! back from the source over the tag), `!custom` ignored, and `!!null 1` became null. A job
//! file has no use for a tag (each field has one type, which the job schema gives and cannot
//! see a tag), so none is taken, core schema's included.

mod common;

use common::Test;

const JOB: &str =
    "workers: 2\niterations: 100\nvalue: {type: i, initial: 0}\noperation: add\noperand: 1\nbackend: mutex\n";

fn refused(tag: &str) -> String {
    format!(
        "the YAML tag `{tag}`: a job file takes no tags (each field has one type, which the job schema gives); \
         write the value without it (quoted, for a string)"
    )
}

/// `validate` on `text`: exit 2 and exactly `{job}:LINE:COLUMN: <refusal of tag>`.
fn refuses(text: &str, at: &str, tag: &str) {
    Test::new()
        .job("tagged.yaml", text)
        .args(&["validate", "{job}"])
        .status(2)
        .stdout("")
        .stderr(format!("{{job}}:{at}: {}\n", refused(tag)))
        .run();
}

#[test]
fn core_schema_tags_are_refused_where_they_stand() {
    refuses(&JOB.replace("operand: 1", "operand: !!float 1"), "5:10", "!!float");
    refuses(&JOB.replace("operand: 1", "operand: !!null 1"), "5:10", "!!null");
    refuses(&JOB.replace("operand: 1", "operand: !!int 1"), "5:10", "!!int");
    refuses(&JOB.replace("operand: 1", "operand: !<tag:yaml.org,2002:int> 1"), "5:10", "!<tag:yaml.org,2002:int>");
    refuses(&format!("name: !!str 123\n{JOB}"), "1:7", "!!str");
    // On collections too.
    refuses(&JOB.replace("value: {", "value: !!map {"), "3:8", "!!map");
    refuses(&format!("{JOB}matrix:\n  workers: !!seq [1, 2]\n"), "8:12", "!!seq");
}

#[test]
fn other_tags_are_refused_not_ignored() {
    refuses(&JOB.replace("workers: 2", "workers: !custom 2"), "1:10", "!custom");
    refuses(&JOB.replace("operand: 1", "operand: ! 1"), "5:10", "!");
    refuses(
        &format!("%TAG !e! tag:example.com,2000:\n---\n{}", JOB.replace("workers: 2", "workers: !e!count 2")),
        "3:10",
        "!e!count",
    );
}

/// Everywhere a job file is read: a run refuses it before anything is forked, and JSON mode
/// gives the one error document with the tag's line and column.
#[test]
fn a_run_refuses_a_tag_before_it_starts() {
    let out = Test::new()
        .job("tagged.yaml", JOB.replace("operand: 1", "operand: !!float 1"))
        .args(&["{job}", "--format", "json"])
        .status(2)
        .run();
    let doc = out.json();
    let diagnostic = &doc["diagnostics"][0];
    assert_eq!((diagnostic["line"].as_u64(), diagnostic["column"].as_u64()), (Some(5), Some(10)), "{doc}");
    assert_eq!(diagnostic["message"], refused("!!float"), "{doc}");
}

/// What looks like a tag inside a quoted string is text: a one-character operand `"!"` for
/// type c, a name that starts with `!!`.
#[test]
fn a_quoted_exclamation_mark_is_no_tag() {
    let text = "name: \"!!float\"\nworkers: 2\niterations: 10\nvalue: {type: c, initial: \"a\"}\noperation: xor\noperand: \"!\"\nbackend: mutex\n";
    Test::new().job("quoted.yaml", text).args(&["validate", "{job}"]).status(0).run();
}

/// Every tag of a file is refused, each at its own place, and the file's other problems are
/// reported with them (the reader's contract: every problem of a file at once). What the
/// reader would say of a tagged value itself (`!!null 1` read as null) is the tag's doing and
/// is not said twice. On 43fc69e only the first tag was reported.
#[test]
fn every_tag_and_every_other_problem_at_once() {
    let text = "workers: !!int 2\niterations: !!int 1000\nbogus: 1\nvalue: {type: i}\noperation: add\noperand: !!null 1\nbackend: mutex\n";
    let unknown = "bogus: unknown field; expected one of: name, description, workers, iterations, value, operation, \
                   operand, backend, batch, transport, expect, schedule, start, work, pin, timeout, faults, \
                   fork_fail_at, expect_outcome, repeat, warmup, matrix, engine, hosts, trace";
    Test::new()
        .job("tagged.yaml", text)
        .args(&["validate", "{job}"])
        .status(2)
        .stdout("")
        .stderr(format!(
            "{{job}}:1:10: {}\n{{job}}:2:13: {}\n{{job}}:3:1: {unknown}\n{{job}}:6:10: {}\n",
            refused("!!int"),
            refused("!!int"),
            refused("!!null")
        ))
        .run();
}

/// A tag in a file with a matrix is the file's, not a cell's: said once, without a cell.
#[test]
fn a_tag_in_a_matrix_is_said_once() {
    refuses(&format!("{JOB}matrix:\n  workers: [1, !!int 2, 3]\n"), "8:16", "!!int");
}

/// Tags are reported within the diagnostics' bound: of 150 tags, the first 100 problems, each
/// tag at its own column (and nothing said of the tagged values themselves).
#[test]
fn many_tags_are_bounded() {
    let items: Vec<String> = (0..150).map(|i| format!("!t {i}")).collect();
    let out = Test::new()
        .job("tagged.yaml", format!("{JOB}faults: [{}]\n", items.join(", ")))
        .args(&["validate", "{job}", "--format", "json"])
        .status(2)
        .run();
    let doc = out.json();
    let diagnostics = doc["files"][0]["diagnostics"].as_array().expect("diagnostics");
    let tags: Vec<_> = diagnostics.iter().filter(|d| d["message"] == refused("!t")).collect();
    assert_eq!((diagnostics.len(), tags.len()), (100, 100), "{doc}");
    let columns: std::collections::BTreeSet<_> = tags.iter().map(|d| d["column"].as_u64()).collect();
    assert_eq!(columns.len(), tags.len(), "each tag at its own column: {doc}");
}
