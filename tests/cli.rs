//! The command line and its diagnostics: every class of bad input gets its message, its
//! position and exit code 2, fast; overrides, formats and subcommands behave as documented.

mod common;

use std::time::{Duration, Instant};

use common::{Test, job_file, runner};

const REST: &str = "value:\n  type: i\noperation: add\nbackend: mutex\n";

/// Validates `text` and returns the diagnostic lines (file name stripped).
fn diagnostics(name: &str, text: &str) -> Vec<String> {
    let out = Test::new().job(name, text).args(&["validate", "{job}"]).status(2).stdout("").run();
    let path = format!("[tmp]/{name}");
    out.without_tmp(&out.stderr).lines().map(|l| l.strip_prefix(&path).unwrap_or(l).to_string()).collect()
}

#[test]
fn three_independent_mistakes_give_three_diagnostics() {
    let text = "workers: 0\nvalue:\n  type: i\noperation: add\nbackend: mutx\ncolour: red\n";
    assert_eq!(
        diagnostics("three.yaml", text),
        [
            ":1:10: workers: must be between 1 and 1024, found 0",
            ":5:10: backend: unknown backend \"mutx\"; did you mean \"mutex\"?; expected one of: mutex, atomic, channel, none",
            ":6:1: colour: unknown field; expected one of: name, description, workers, iterations, value, operation, operand, backend, batch, transport, expect, schedule, start, work, pin, timeout, faults, fork_fail_at, expect_outcome, repeat, warmup, matrix, engine, hosts, trace",
        ]
    );
}

#[test]
fn positions_point_where_the_problem_is() {
    // A bad value: at the value.
    assert_eq!(
        diagnostics("float-workers.yaml", &format!("workers: 1.5\n{REST}")),
        [":1:10: workers: expected an integer, found the float 1.5"]
    );
    // An unknown key: at the key, with a did-you-mean.
    assert_eq!(
        diagnostics("misspelt.yaml", &format!("workers: 2\niteration: 3\n{REST}")),
        [
            ":2:1: iteration: unknown field; did you mean \"iterations\"?; expected one of: name, description, workers, iterations, value, operation, operand, backend, batch, transport, expect, schedule, start, work, pin, timeout, faults, fork_fail_at, expect_outcome, repeat, warmup, matrix, engine, hosts, trace"
        ]
    );
    // A duplicate key: at the second occurrence.
    assert_eq!(
        diagnostics("dup.yaml", &format!("workers: 2\n{REST}workers: 3\n")),
        [":6:1: workers: duplicate field (first given at line 1)"]
    );
    // A missing field: at the mapping that lacks it.
    assert_eq!(
        diagnostics("missing.yaml", "workers: 2\nvalue:\n  initial: 0\noperation: add\nbackend: mutex\n"),
        [":3:3: value.type: missing required field (one of: i, d, c)"]
    );
    assert_eq!(
        diagnostics("missing-op.yaml", "workers: 2\nvalue: {type: i}\nbackend: mutex\n"),
        [":1:1: operation: missing required field"]
    );
    // Empty file and non-mapping root: 1:1.
    assert_eq!(
        diagnostics("empty.yaml", ""),
        [":1:1: the job file is empty: it needs at least workers, value, operation and backend"]
    );
    let list = diagnostics("list.yaml", "- a\n- b\n");
    assert_eq!(list.len(), 1);
    assert!(list[0].starts_with(":1:1: "), "{list:?}");
    // Non-UTF-8: at the first bad byte.
    assert_eq!(
        diagnostics("latin1.yaml", "workers: 2\nname: caf\u{e9}\n".replace('\u{e9}', "\u{1}").as_str()).len(),
        1
    );
    Test::new()
        .job("bad-utf8.yaml", b"workers: 2\nname: caf\xe9\n")
        .args(&["validate", "{job}"])
        .status(2)
        .stderr("{job}:2:10: not UTF-8: invalid byte 0xE9\n")
        .run();
    // A syntax error: where the parser stopped.
    let syntax = diagnostics("syntax.yaml", "workers: 5\n  bad: indent\n");
    assert!(syntax[0].starts_with(":2:"), "{syntax:?}");
}

#[test]
fn file_errors_name_the_file() {
    Test::new().args(&["validate", "no/such/job.yaml"]).status(2).stderr("no/such/job.yaml: no such file\n").run();
    // Running a folder runs the job files in it; a folder without any is a usage error.
    let empty = std::env::temp_dir().join(format!("runner-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let out = runner(&[empty.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    // As does validating it (a folder of job files is validated file by file).
    assert_eq!(runner(&["validate", empty.to_str().unwrap()]).code, 2);
    assert!(out.stderr.contains("a folder with no job files"), "{}", out.stderr);
    std::fs::remove_dir(&empty).unwrap();
}

#[test]
fn literals_follow_their_type() {
    let cases = [
        ("i", "1.5", "expected an integer for type i, found the float 1.5"),
        ("i", "2147483648", "2147483648 is outside the range of type i"),
        ("i", "0xFFFF0000", "write a mask like 0xFFFF0000 as a negative number"),
        ("i", "\"5\"", "expected a number for type i, found the string \"5\""),
        ("d", ".inf", "inf is not allowed: literals must be finite"),
        ("d", ".nan", "NaN is not allowed: literals must be finite"),
        ("d", "9007199254740993", "cannot be held exactly by a double"),
        ("c", "\"ab\"", "\"ab\" is not one character"),
        ("c", "é", "is not ASCII"),
        ("c", "300", "300 is outside the range of type c"),
        ("c", "-1", "-1 is outside the range of type c"),
        ("c", "1.0", "found the float 1.0"),
    ];
    for (i, (ty, initial, message)) in cases.into_iter().enumerate() {
        let text = format!("workers: 1\nvalue:\n  type: {ty}\n  initial: {initial}\noperation: add\nbackend: mutex\n");
        let found = diagnostics(&format!("literal-{i}.yaml"), &text);
        assert_eq!(found.len(), 1, "{ty} {initial}: {found:?}");
        assert!(
            found[0].starts_with(":4:12: value.initial: ") && found[0].contains(message),
            "{ty} {initial}: {found:?}"
        );
    }
    // Accepted: a one-character string for c, an exact integer for d, a negative mask for i.
    for (ty, initial) in [("c", "\"5\""), ("c", "255"), ("d", "9007199254740992"), ("i", "-65536"), ("d", "-0.0")] {
        let text = format!("workers: 1\nvalue:\n  type: {ty}\n  initial: {initial}\noperation: add\nbackend: mutex\n");
        Test::new().job("literal-ok.yaml", text).args(&["validate", "{job}"]).status(0).stdout("{job}: ok\n").run();
    }
}

#[test]
fn rules_across_fields() {
    assert_eq!(
        diagnostics("xor-double.yaml", "workers: 1\nvalue: {type: d}\noperation: xor\noperand: 1\nbackend: atomic\n"),
        [":3:12: operation: xor is not defined for type d (a double); it needs i or c"]
    );
    assert_eq!(
        diagnostics("mul-no-operand.yaml", "workers: 1\nvalue: {type: i}\noperation: mul\nbackend: atomic\n"),
        [":1:1: operand: missing required field: mul needs an operand"]
    );
    assert_eq!(
        diagnostics("batch-mutex.yaml", &format!("workers: 1\n{REST}batch: 4\n")),
        [":6:8: batch: batch applies only to the channel backend, not mutex"]
    );
    assert_eq!(
        diagnostics("wrong-expect.yaml", &format!("workers: 5\n{REST}expect: 6\n")),
        [":6:9: expect: the job states it ends at 6, but 5 x 1 applications of add 1 from 0 end at 5"]
    );
    assert_eq!(
        diagnostics("too-many.yaml", &format!("workers: 2000\n{REST}")),
        [":1:10: workers: must be between 1 and 1024, found 2000"]
    );
    assert_eq!(
        diagnostics("overflow.yaml", &format!("workers: 2\niterations: 18446744073709551615\n{REST}")),
        [":2:13: iterations: 2 workers x 18446744073709551615 iterations exceeds 2^64 operations"]
    );
}

#[test]
fn transport_is_checked_where_it_is_written() {
    let channel = "workers: 2\nvalue:\n  type: i\noperation: add\nbackend: channel\n";
    assert_eq!(
        diagnostics("transport-typo.yaml", &format!("{channel}transport: pipes\n")),
        [
            ":6:12: transport: unknown transport \"pipes\"; did you mean \"pipe\"?; expected one of: ipc, pipe, redis-stream"
        ]
    );
    assert_eq!(
        diagnostics("transport-kind.yaml", &format!("{channel}transport: [pipe]\n")),
        [":6:12: transport: expected one of: ipc, pipe, redis-stream; found a list"]
    );
    assert_eq!(
        diagnostics("transport-mutex.yaml", &format!("workers: 1\n{REST}transport: pipe\n")),
        [":6:12: transport: transport applies only to the channel backend, not mutex"]
    );
    // A bad value in one cell of a matrix: at its place in the matrix, the cell named.
    let out = runner(&[
        "validate",
        &job_file("transport-cell.yaml", format!("{channel}matrix:\n  transport: [ipc, pype]\n")),
    ]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains(":7:20: transport: unknown transport \"pype\"; did you mean \"pipe\"?"),
        "{}",
        out.stderr
    );
    // A valid one plans, and says so; a matrix over both transports gives two cells.
    let path = job_file("transport-plan.yaml", format!("{channel}iterations: 5000\nbatch: 5000\ntransport: pipe\n"));
    let out = runner(&["plan", &path]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("channel: a pipe from every worker to runner"), "{}", out.stdout);
    assert!(out.stdout.contains("messages   5 per worker over the pipe transport"), "{}", out.stdout);
    let plan = runner(&["plan", &path, "--format", "json"]).json();
    assert_eq!((plan["job"]["transport"].as_str(), plan["messages_per_worker"].as_u64()), (Some("pipe"), Some(5)));
    let path = job_file("transport-matrix.yaml", format!("{channel}matrix:\n  transport: [ipc, pipe]\n"));
    let doc = runner(&["plan", &path, "--format", "json"]).json();
    let transports: Vec<&str> =
        doc["cells"].as_array().unwrap().iter().map(|c| c["plan"]["job"]["transport"].as_str().unwrap()).collect();
    assert_eq!(transports, ["ipc", "pipe"]);
    // With --backend switching the job to another backend, the field is ignored with a notice.
    let path = job_file("transport-override.yaml", format!("{channel}transport: pipe\n"));
    let out = runner(&["plan", &path, "--backend", "atomic"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("transport: ignored, since --backend atomic is not channel"), "{}", out.stdout);
}

#[test]
fn hostile_input_is_refused_quickly() {
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..20 {
        bomb += &format!("a{i}: &a{i} [{}]\n", vec![format!("*a{}", i - 1); 10].join(", "));
    }
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("bomb.yaml", bomb.into_bytes(), "too many aliases"),
        ("deep.yaml", format!("a: {}", "[".repeat(100_000)).into_bytes(), "nested too deeply"),
        (
            "deep-block.yaml",
            (0..300).map(|i| format!("{}- \n", " ".repeat(2 * i))).collect::<String>().into_bytes(),
            "nested too deeply",
        ),
        ("big.yaml", format!("description: \"{}\"\n", "x".repeat(6 << 20)).into_bytes(), "too large"),
        ("many-keys.yaml", (0..200_000).map(|i| format!("k{i}: 1\n")).collect::<String>().into_bytes(), "job file"),
    ];
    for (name, text, message) in cases {
        let path = job_file(name, text);
        let started = Instant::now();
        let out = runner(&[&path]);
        // Not a benchmark: a guard against a hang or a quadratic blow-up (each is refused by a
        // count, asserted below; an idle machine needs under 0.1 s, 50 times less).
        assert!(started.elapsed() < Duration::from_secs(5), "{name} took {:?}", started.elapsed());
        assert_eq!(out.code, 2, "{name}: {}", out.stderr);
        assert!(out.stderr.contains(message), "{name}: {}", out.stderr);
        assert!(!out.stderr.contains("panicked"), "{name}: {}", out.stderr);
    }
}

#[test]
fn standard_input_is_a_job() {
    let text = format!("workers: 3\n{REST}");
    let report = Test::new().args(&["-", "--format", "json"]).stdin(text).status(0).run().json();
    assert_eq!(report["final"], 3);
    assert_eq!(report["job"]["name"], "stdin");
    let out = Test::new().args(&["validate", "-"]).stdin("workers: x\n").status(2).stdout("").run();
    assert!(out.stderr.lines().any(|l| l.starts_with("-:1:10: workers: expected an integer")), "{}", out.stderr);
}

#[test]
fn overrides_replace_the_file() {
    let out = runner(&[
        "jobs/increment.yaml",
        "--workers",
        "3",
        "--iterations",
        "1000",
        "--backend",
        "atomic",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report = out.json();
    assert_eq!(report["job"]["workers"], 3);
    assert_eq!(report["job"]["iterations"], 1000);
    assert_eq!(report["job"]["backend"], "atomic");
    assert_eq!(report["final"], 3000);
    assert!(out.stderr.contains("expect: not checked"), "{}", out.stderr);

    let out = runner(&["jobs/channel-queue.yaml", "--backend", "mutex", "--iterations", "10"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("batch: ignored, since --backend mutex is not channel"), "{}", out.stderr);

    Test::new()
        .args(&["jobs/increment.yaml", "--workers", "0"])
        .status(2)
        .stdout("")
        .stderr("jobs/increment.yaml: workers: --workers 0: must be between 1 and 1024\n")
        .run();
    Test::new().args(&["plan", "jobs/increment.yaml", "--workers", "5000"]).status(2).run();
    let out = runner(&["jobs/increment.yaml", "--backend", "mutx"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("mutex"), "{}", out.stderr);
}

#[test]
fn plan_answers_without_running() {
    let out = runner(&["plan", "jobs/increment.yaml"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("expected   5"), "{}", out.stdout);
    // Huge jobs plan instantly for every type and operation: the expected value is computed,
    // not simulated.
    let integer_ops = vec![
        ("add", "3"),
        ("sub", "3"),
        ("mul", "3"),
        ("min", "1"),
        ("max", "9"),
        ("and", "5"),
        ("or", "8"),
        ("xor", "5"),
        ("set", "1"),
    ];
    for (ty, initial, ops) in [
        ("i", "7", integer_ops.clone()),
        ("c", "7", integer_ops.clone()),
        (
            "d",
            "1.5",
            vec![
                ("add", "0.1"),
                ("sub", "0.1"),
                ("mul", "1.0000001"),
                ("mul", "0.9999999999999999"),
                ("min", "1"),
                ("max", "9"),
                ("set", "1"),
            ],
        ),
    ] {
        for (op, operand) in ops {
            let text = format!(
                "workers: 1024\niterations: 1000000000000\nvalue: {{type: {ty}, initial: {initial}}}\noperation: {op}\noperand: {operand}\nbackend: atomic\n"
            );
            let path = job_file(&format!("huge-{ty}-{op}-{operand}.yaml"), text);
            // A guard against a walk: an idle machine plans each in about 20 ms.
            let started = Instant::now();
            let out = runner(&["plan", &path, "--format", "json"]);
            assert!(started.elapsed() < Duration::from_secs(10), "{ty} {op} {operand}: {:?}", started.elapsed());
            assert_eq!(out.code, 0, "{}", out.stderr);
            assert_eq!(out.json()["total_operations"], 1_024_000_000_000_000u64);
        }
    }
    let text = "workers: 1024\niterations: 1000000000000\nvalue: {type: i}\noperation: add\nbackend: atomic\n";
    let report = runner(&["plan", &job_file("huge-add.yaml", text), "--format", "json"]).json();
    // 1.024e15 mod 2^32, as a signed 32-bit int.
    assert_eq!(report["expected"]["value"], (1_024_000_000_000_000u64 as u32) as i32);
}

#[test]
fn an_expected_value_too_long_to_compute_is_refused_not_waited_for() {
    // An operand within 2^-30 of 1, and about as many steps as it takes to overflow: no jump
    // or bound applies, so the exact value would need a walk of ~7e11 multiplications. The
    // planner's work is bounded by a count, the file's step budget (2^30 steps: about 2 s on an
    // idle machine, 40 s on a busy one), and the refusal names it: that count is what is
    // checked here, not the wall time, which depends on the machine's load.
    let text = "workers: 1000\niterations: 700000000\nvalue: {type: d, initial: 1}\noperation: mul\noperand: 1.000000000931322574615478515625\nbackend: atomic\n";
    let found = diagnostics("too-long.yaml", text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with(":5:10: operand: cannot compute the expected value"), "{found:?}");
    assert!(found[0].contains("needs more than 1073741824 steps of work"), "{found:?}");
}

#[test]
fn the_budget_for_expected_values_is_the_whole_files() {
    // Eight workers, each with its own operand 2^-22 away from 1 (up, down, up, ...): one
    // worker's product takes about an eighth of the budget's steps, all eight together more
    // than the budget. Counted per worker, planning would take eight times as long (and 1024
    // workers, or a matrix of such cells, minutes).
    let operands: Vec<String> =
        (0..8).map(|i| format!("{:?}", 1.0 + f64::from(1 - 2 * (i % 2)) * 2f64.powi(-22))).collect();
    let text = |iterations: u64| {
        format!(
            "workers: 8\niterations: {iterations}\nvalue: {{type: d, initial: 1}}\noperation: mul\noperand: [{}]\nschedule: sequential\nbackend: mutex\n",
            operands.join(", ")
        )
    };
    Test::new()
        .job("within-budget.yaml", text(100_000_000))
        .args(&["validate", "{job}"])
        .status(0)
        .stdout("{job}: ok\n")
        .run();
    let found = diagnostics("over-budget.yaml", &text(1_000_000_000));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains(
            "operand: cannot compute the expected value of 8000000000 multiplications by the workers' operands"
        ),
        "{found:?}"
    );
}

#[test]
fn json_validation_lists_every_file() {
    let doc = Test::new()
        .job("json-bad.yaml", "workers: 0\n")
        .args(&["validate", "jobs/increment.yaml", "{job}", "--format", "json"])
        .status(2)
        .run()
        .json();
    assert_eq!(doc["files"][0]["ok"], true);
    assert_eq!(doc["files"][1]["ok"], false);
    let diags = doc["files"][1]["diagnostics"].as_array().unwrap();
    let first = diags.iter().find(|d| d["field"] == "workers").expect("the workers diagnostic");
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64(), first["field"].as_str()),
        (Some(1), Some(10), Some("workers"))
    );
}

#[test]
fn bytes_show_their_character() {
    let out = runner(&["jobs/byte-wrap.yaml"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("final     '\\x8d' (141)"), "{}", out.stdout);
    let report = runner(&["jobs/byte-wrap.yaml", "--format", "json"]).json();
    assert_eq!(report["final"], 141);
}

#[test]
fn usage_and_version() {
    Test::new().args(&["--help"]).status(0).stderr("").run();
    Test::new().status(2).stdout("").run();
    Test::new().args(&["jobs/increment.yaml", "--no-such-flag"]).status(2).stdout("").run();
    let out = Test::new().args(&["valdate", "jobs/increment.yaml"]).status(2).run();
    assert!(out.stderr.contains("did you mean \"validate\"?"), "{}", out.stderr);
    Test::new().args(&["run", "jobs/increment.yaml"]).status(0).run();
    let version = Test::new().arg("--version").status(0).stderr("").run();
    assert!(version.stdout.starts_with(concat!("runner ", env!("CARGO_PKG_VERSION"))));
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    if let Some(head) = head.ok().filter(|o| o.status.success()) {
        let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
        assert!(version.stdout.contains(&head), "{} lacks {head}", version.stdout);
    }
}

#[test]
#[should_panic(expected = "exit code: expected 1, found 0")]
fn the_builder_checks_the_exit_code() {
    Test::new().args(&["plan", "jobs/increment.yaml"]).status(1).run();
}

#[test]
#[should_panic(expected = "stdout: expected")]
fn the_builder_compares_whole_outputs() {
    // The line without its newline is not the whole output.
    Test::new().args(&["validate", "jobs/increment.yaml"]).status(0).stdout("jobs/increment.yaml: ok").run();
}

#[test]
fn json_mode_prints_one_document_whatever_fails() {
    // Each failure: the error on standard error, and with --format json one document on
    // standard output that says it (the diagnostics, or the error), with the failure's exit code.
    let bad = job_file("json-failure.yaml", "workers: 0\n");
    let matrix = job_file("json-matrix.yaml", format!("workers: 1\niterations: 1\n{REST}matrix:\n  workers: [1, 2]\n"));
    let cases: [(&[&str], i32, &str); 4] = [
        (&["--format", "json", &bad], 2, "diagnostics"),
        (&["compare-python", "--format", "json", &bad], 2, "diagnostics"),
        (&["compare-python", "--format", "json", &matrix], 2, "error"),
        (&["--format", "json", "--export-csv", "/nonexistent/runner/x.csv", &matrix], 2, "error"),
    ];
    for (args, code, key) in cases {
        let out = runner(args);
        assert_eq!(out.code, code, "{args:?}: {}", out.stderr);
        assert!(!out.stderr.is_empty(), "{args:?}: the error is on standard error");
        let doc = out.json();
        assert_eq!(doc["schema_version"], 2, "{args:?}");
        let found = &doc[key];
        assert!(found.as_array().is_some_and(|d| !d.is_empty()) || found.is_string(), "{args:?}: {doc:#}");
    }
}

/// Every description in the schemas (the job file's, which the YAML language server shows on
/// hover, and the documents') is flowing text: a newline only between paragraphs (a blank
/// line) or before a list item, never a hard wrap mid-sentence.
#[test]
fn schema_descriptions_flow() {
    fn walk(node: &serde_json::Value, path: &str, found: &mut Vec<String>, count: &mut usize) {
        match node {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("description", serde_json::Value::String(text)) => {
                            *count += 1;
                            for paragraph in text.split("\n\n") {
                                for line in paragraph.lines().skip(1) {
                                    let item = line.trim_start();
                                    let digits = item.chars().take_while(char::is_ascii_digit).count();
                                    let listed = item.starts_with("- ")
                                        || item.starts_with("* ")
                                        || (digits > 0 && item[digits..].starts_with(". "));
                                    if !listed {
                                        found.push(format!("{path}: {text:?}"));
                                    }
                                }
                            }
                        }
                        _ => walk(value, &format!("{path}/{key}"), found, count),
                    }
                }
            }
            serde_json::Value::Array(items) => {
                items.iter().enumerate().for_each(|(i, v)| walk(v, &format!("{path}/{i}"), found, count))
            }
            _ => {}
        }
    }
    let mut files = 0;
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas")).unwrap() {
        let path = entry.unwrap().path();
        let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let (mut found, mut count) = (Vec::new(), 0);
        walk(&schema, "", &mut found, &mut count);
        assert!(count > 0, "{}: no description", path.display());
        assert!(found.is_empty(), "{}: hard line wraps in:\n{}", path.display(), found.join("\n"));
        files += 1;
    }
    assert!(files >= 8, "the schemas: job, report, sweep, error, plan, validate, compare, compare-python");
}
