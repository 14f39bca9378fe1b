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
