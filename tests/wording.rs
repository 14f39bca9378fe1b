//! What runner says is what happened: blindness of checks that a lost update cannot fail,
//! overrides that make an axis irrelevant, and the wording of counts, units and notices.

mod common;

use common::Test;

/// A `d` product from 0.0: every lost update leaves 0.0, so an unsynchronised run that ends at
/// 0.0 proves nothing (inconclusive, with a limits line), never `correct`.
#[test]
fn a_product_stuck_at_zero_is_blind_to_lost_updates() {
    for (initial, operand) in [("0.0", "[2.0, 3.0]"), ("1.0", "[0.0, 0.5]")] {
        let out = Test::new()
            .job(
                "z.yaml",
                format!("workers: 2\niterations: 3000000\nvalue: {{type: d, initial: {initial}}}\noperation: mul\noperand: {operand}\nbackend: none\n"),
            )
            .args(&["{job}", "--format", "json"])
            .run();
        let doc = out.json();
        // Inconclusive, or no_race when the windows happened not to overlap; never correct.
        assert!(
            ["inconclusive", "no_race"].contains(&doc["verdict"].as_str().unwrap()),
            "{initial} {operand}:\n{}",
            out.stdout
        );
        assert!(
            doc["expected"]["blind"].as_str().is_some_and(|b| b.contains("leaves the same final value")),
            "{}",
            out.stdout
        );
    }
}

/// `--backend mutex` on a matrix over the channel's batch and transport: those axes no longer
/// apply, every cell is the same job, so one cell is left, labelled by what ran, and the
/// notice says what was dropped; `runner plan` prints that one plan, no blank `cell ` header.
#[test]
fn an_override_that_makes_axes_irrelevant_drops_the_cells_it_makes_equal() {
    let out = Test::new()
        .args(&["jobs/channel-transport.yaml", "--backend", "mutex", "--iterations", "200", "--repeat", "1"])
        .args(&["--format", "json"])
        .status(0)
        .run();
    let doc = out.json();
    let cells = doc["cells"].as_array().map_or(1, Vec::len);
    assert_eq!(cells, 1, "{doc:#}");
    assert!(
        out.stderr.contains("5 of 6 cells") && out.stderr.contains("batch") && out.stderr.contains("transport"),
        "{}",
        out.stderr
    );
    let out = Test::new().args(&["plan", "jobs/channel-transport.yaml", "--backend", "mutex"]).status(0).run();
    assert!(!out.stdout.lines().any(|l| l.trim_end() == "cell"), "{}", out.stdout);
    assert_eq!(out.stdout.matches("processes").count(), 1, "{}", out.stdout);
}

/// A fault after one operation says `1 operation`; a stall says its length in a unit that
/// reads (`60 s`, not `60000 ms`); the panic message a worker prints says it too.
#[test]
fn faults_say_their_counts_and_durations_in_words() {
    let out = Test::new()
        .job(
            "f.yaml",
            "workers: 2\niterations: 10\nvalue: {type: i}\noperation: add\nbackend: mutex\nfaults:\n  - {worker: 1, at: 1, action: panic}\n  - {worker: 0, at: 2, action: stall, for: 1m}\n",
        )
        .args(&["plan", "{job}"])
        .status(0)
        .run();
    assert!(out.stdout.contains("worker 1 panics after 1 operation\n"), "{}", out.stdout);
    assert!(out.stdout.contains("worker 0 stalls for 60 s after 2 operations"), "{}", out.stdout);
    let out = Test::new()
        .job(
            "p.yaml",
            "workers: 2\niterations: 10\nvalue: {type: i}\noperation: add\nbackend: mutex\nfaults:\n  - {worker: 1, at: 1, action: panic}\n",
        )
        .args(&["{job}"])
        .run();
    assert!(out.stderr.contains("injected fault: worker 1 panics after 1 operation\n"), "{}", out.stderr);
    assert!(out.stdout.contains("fault     worker 1 panics after 1 operation\n"), "{}", out.stdout);
}

/// `export-python` of a job with repeat 1 and one warm-up run says `1 counted run after 1
/// warm-up run`.
#[test]
fn export_python_says_its_runs_in_the_singular() {
    let out = Test::new()
        .job(
            "rw.yaml",
            "workers: 2\niterations: 10\nvalue: {type: i}\noperation: add\nbackend: mutex\nrepeat: 1\nwarmup: 1\n",
        )
        .args(&["export-python", "{job}"])
        .status(0)
        .run();
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("1 counted run after 1 warm-up run)"), "{all}");
}

/// `--help`'s exit codes name every verdict that exits 0 and the declared outcome.
#[test]
fn help_lists_every_verdict_in_its_exit_codes() {
    let out = Test::new().arg("--help").status(0).run();
    for word in ["within_bound", "lost_updates", "inconclusive", "no_race", "expect_outcome", "1 wrong"] {
        assert!(out.stdout.contains(word), "{word}:\n{}", out.stdout);
    }
}

/// compare's JSON names its speed comparison `comparison`, apart from each side's verdict.
#[test]
fn compare_names_its_speed_comparison_apart_from_the_verdicts() {
    let job = "workers: 1\niterations: 100\nvalue: {type: i}\noperation: add\nbackend: atomic\n";
    let report = Test::new().job("c.yaml", job).args(&["{job}", "--format", "json"]).status(0).run();
    let path = common::job_file("wording-compare-report.json", &report.stdout);
    let out = Test::new().args(&["compare", &path, &path, "--format", "json"]).status(0).run();
    let doc = out.json();
    let cell = &doc["cells"][0];
    assert!(cell.get("verdict").is_none(), "{cell:#}");
    assert!(cell["comparison"].is_string(), "{cell:#}");
    assert_eq!(cell["old_verdict"], "correct", "{cell:#}");
}

/// Only a lock can have a preempted holder: more workers than cores says so for the mutex,
/// not for `none` or the atomic backend.
#[test]
fn the_preemption_notice_is_for_the_mutex_only() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = cores + 1;
    let job = |backend: &str| {
        format!("workers: {workers}\niterations: 1000\nvalue: {{type: i}}\noperation: add\nbackend: {backend}\n")
    };
    let out = Test::new().job("n.yaml", job("none")).args(&["{job}", "-q"]).run();
    assert!(out.stderr.contains("take turns") && !out.stderr.contains("lock holder"), "{}", out.stderr);
    let out = Test::new().job("m.yaml", job("mutex")).args(&["{job}", "-q"]).status(0).run();
    assert!(out.stderr.contains("lock holder may be preempted"), "{}", out.stderr);
}

/// A job whose third fork fails: the plan says that only two workers are forked (and then
/// stopped), not that the runner and four workers are.
#[test]
fn plan_of_a_failing_fork_says_what_happens() {
    let out = Test::new().args(&["plan", "jobs/fault-fork.yaml"]).status(0).run();
    assert!(
        out.stdout
            .contains("runner and 4 workers planned; fork 3 fails, so 2 workers are forked, then stopped and reaped"),
        "{}",
        out.stdout
    );
}

/// A job too long for the default's formula gets the one-week limit, and says it is capped.
#[test]
fn the_default_timeout_is_capped_at_a_week() {
    let out = Test::new()
        .job(
            "huge.yaml",
            "workers: 2\niterations: 9000000000000000000\nvalue: {type: i}\noperation: add\nbackend: atomic\n",
        )
        .args(&["plan", "{job}", "--format", "json"])
        .status(0)
        .run();
    let doc = out.json();
    assert_eq!(doc["deadline"]["timeout_ns"], 604_800_000_000_000u64, "{doc:#}");
    let out = Test::new()
        .job(
            "huge.yaml",
            "workers: 2\niterations: 9000000000000000000\nvalue: {type: i}\noperation: add\nbackend: atomic\n",
        )
        .args(&["plan", "{job}"])
        .status(0)
        .run();
    assert!(out.stdout.contains("capped at the one-week limit"), "{}", out.stdout);
}

/// An order-dependent product without a schedule is refused at its operands, not at a
/// `schedule:` the file does not have.
#[test]
fn an_order_refusal_names_the_field_the_file_has() {
    let text = "workers: 2\niterations: 3\nvalue: {type: d, initial: 1.0}\noperation: mul\noperand: [1.0e308, 0.0]\nbackend: mutex\n";
    let out = Test::new().job("nan2.yaml", text).args(&["validate", "{job}"]).status(2).run();
    assert!(out.stderr.contains("{job}") || out.stderr.contains("nan2.yaml:5:10: operand:"), "{}", out.stderr);
    assert!(out.stderr.contains(":5:10: operand: a product in any order"), "{}", out.stderr);
    let out = Test::new()
        .job("nan3.yaml", format!("{text}schedule: concurrent\n"))
        .args(&["validate", "{job}"])
        .status(2)
        .run();
    assert!(out.stderr.contains(":7:11: schedule: a product in any order"), "{}", out.stderr);
}
