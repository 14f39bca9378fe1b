//! The job schema and runner agree: every file of the catalog (`jobs/`) and of the corpus
//! (`tests/corpus/valid/`, `tests/corpus/invalid/`) gets the same answer from `runner validate`
//! (exit 0 or 2) and from a draft-07 validator reading the schema that `runner schema` prints,
//! except the files listed in [`BEYOND_DRAFT_07`], each with the rule that draft-07 cannot
//! state. Both sides come from the binary under test, so `RUNNER_BIN=... cargo test --test
//! schema_agreement` measures an older runner's schema against its own loader.

mod common;

use std::path::Path;

/// Files on which the schema cannot agree with runner, with the rule each shows and why
/// draft-07 cannot state it. Each must really disagree (a fixed rule leaves this list).
const BEYOND_DRAFT_07: &[(&str, &str, &str)] = &[
    (
        "tests/corpus/valid/timeout-string-exponent.yaml",
        "a string of seconds is any float, exponent included (`\"1e2\"`), more than 0 and at most a week",
        "a number's value with an exponent depends on how many digits its mantissa has against the exponent's value, which no regular expression can compare; the schema takes strings of seconds without one (numbers with one are bounded as numbers)",
    ),
    (
        "tests/corpus/valid/work-rounds-down-to-the-limit.yaml",
        "a duration is rounded to whole nanoseconds before the limit is checked",
        "the pattern bounds the number as written; less than half a nanosecond over the limit is beyond it",
    ),
    (
        "tests/corpus/invalid/operand-list-length.yaml",
        "a per-worker operand list has `workers` entries",
        "draft-07 cannot compare an array's length with another field's value",
    ),
    (
        "tests/corpus/invalid/fault-worker-beyond-workers.yaml",
        "faults.worker is below workers",
        "draft-07 cannot compare two fields' values",
    ),
    (
        "tests/corpus/invalid/fault-at-beyond-iterations.yaml",
        "faults.at is at most iterations",
        "draft-07 cannot compare two fields' values",
    ),
    (
        "tests/corpus/invalid/fault-two-on-one-worker.yaml",
        "one fault per worker",
        "draft-07's uniqueItems compares whole entries, not one field of them",
    ),
    (
        "tests/corpus/invalid/fork-fail-beyond-workers.yaml",
        "fork_fail_at is at most workers",
        "draft-07 cannot compare two fields' values",
    ),
    (
        "tests/corpus/invalid/operations-overflow.yaml",
        "workers x iterations fits in 64 bits",
        "draft-07 cannot multiply two fields",
    ),
    (
        "tests/corpus/invalid/expect-wrong.yaml",
        "expect is the value the operations give",
        "the expected value is computed by the planner",
    ),
    (
        "tests/corpus/invalid/matrix-everything-excluded.yaml",
        "the matrix leaves a combination to run",
        "draft-07 cannot compute the cross product minus the excluded combinations",
    ),
    (
        "tests/corpus/invalid/matrix-too-many-cells.yaml",
        "a matrix has at most 4096 cells",
        "draft-07 cannot multiply the axes' lengths (each axis alone is bounded)",
    ),
    (
        "tests/corpus/invalid/workers-float.yaml",
        "an integer field refuses a float such as 2.0",
        "JSON Schema's `integer` is any number without a fraction, 2.0 included",
    ),
    (
        "tests/corpus/invalid/double-initial-beyond-2-53.yaml",
        "an integer literal for type d is at most 2^53 in size",
        "JSON Schema cannot tell the integer 2^53 + 1 from the float 9007199254740992.0 that a JSON reader makes of it",
    ),
    (
        "tests/corpus/valid/matrix-include-adds-workers.yaml",
        "an include without the matrix's own fields adds its fields to every cell",
        "draft-07 cannot tell which of an include's keys are the matrix's axes, so it accepts a required field from includes only when there is no axis",
    ),
    (
        "tests/corpus/valid/top-level-replaced-by-matrix.yaml",
        "a top-level value that every cell replaces is never read",
        "draft-07 cannot tell that an axis replaces the field in every cell",
    ),
    (
        "tests/corpus/invalid/tag-custom.yaml",
        "a job file takes no YAML tags",
        "a JSON validator sees the value the YAML reader made of the tagged scalar (or the scalar with its tag dropped), never the tag itself",
    ),
    (
        "tests/corpus/invalid/tag-float-for-int.yaml",
        "a job file takes no YAML tags",
        "a JSON validator sees the value the YAML reader made of the tagged scalar (or the scalar with its tag dropped), never the tag itself",
    ),
    (
        "tests/corpus/invalid/tag-int.yaml",
        "a job file takes no YAML tags",
        "a JSON validator sees the value the YAML reader made of the tagged scalar (or the scalar with its tag dropped), never the tag itself",
    ),
];

/// The files of the catalog and of the corpus, sorted.
fn files() -> Vec<String> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut files = Vec::new();
    for dir in ["jobs", "tests/corpus/valid", "tests/corpus/invalid"] {
        for entry in std::fs::read_dir(Path::new(root).join(dir)).expect(dir) {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|x| x == "yaml") {
                files.push(format!("{dir}/{}", path.file_name().unwrap().to_string_lossy()));
            }
        }
    }
    files.sort();
    files
}

/// The file as the editor's YAML support reads it (YAML 1.2: `yes` is a string); `None` when it
/// is no YAML document a JSON validator can read (the editor flags those itself).
fn as_json(text: &str) -> Option<serde_json::Value> {
    let mut options = serde_saphyr::options::Options::default();
    options.strict_booleans = true;
    serde_saphyr::from_str_with_options(text, options).ok()
}

/// What runner says of a file: `true` when `runner validate` accepts it.
fn runner_accepts(file: &str) -> bool {
    let out = common::runner(&["validate", file]);
    assert!(out.code == 0 || out.code == 2, "{file}: validate exited {}: {}", out.code, out.stderr);
    out.code == 0
}

#[test]
fn the_schema_and_runner_agree_on_every_file() {
    let printed = common::runner(&["schema"]);
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    let schema: serde_json::Value = serde_json::from_str(&printed.stdout).expect("the schema is JSON");
    let validator = jsonschema::draft7::new(&schema).expect("a valid draft-07 schema");
    let files = files();
    assert!(files.len() >= 80, "the corpus has {} files", files.len());
    let mut problems = Vec::new();
    let mut disagreements = 0;
    for file in &files {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).expect("read");
        if file.starts_with("tests/corpus/invalid/") && !text.starts_with("# ") {
            problems.push(format!("{file}: an invalid file starts with a comment saying what is wrong"));
        }
        let runner = runner_accepts(file);
        let errors: Vec<String> = match as_json(&text) {
            Some(doc) => validator.iter_errors(&doc).map(|e| format!("{}: {e}", e.instance_path)).collect(),
            None => vec!["not a YAML document".to_string()],
        };
        let schema = errors.is_empty();
        let listed = BEYOND_DRAFT_07.iter().find(|(f, _, _)| f == file);
        let verdict = |ok: bool| if ok { "accepts" } else { "refuses" };
        if runner != schema {
            disagreements += 1;
            if listed.is_none() {
                problems.push(format!("{file}: runner {}, the schema {} {errors:?}", verdict(runner), verdict(schema)));
            }
        } else if let Some((_, rule, _)) = listed {
            problems.push(format!("{file}: listed ({rule}), but runner and the schema agree"));
        }
        let meant = file.starts_with("tests/corpus/invalid/");
        if file.starts_with("tests/corpus/") && runner == meant {
            problems.push(format!("{file}: runner {} it", verdict(runner)));
        }
    }
    eprintln!(
        "{} files ({} beyond draft-07, listed); {disagreements} disagreements",
        files.len(),
        BEYOND_DRAFT_07.len()
    );
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

/// The listed rules are those draft-07 cannot state: a file for each, none twice.
#[test]
fn every_listed_file_exists_once() {
    let files = files();
    for (i, (file, _, _)) in BEYOND_DRAFT_07.iter().enumerate() {
        assert!(files.iter().any(|f| f == file), "{file}");
        assert!(!BEYOND_DRAFT_07[..i].iter().any(|(f, _, _)| f == file), "{file} twice");
    }
}
