//! What runner says is what happened: blindness of checks that a lost update cannot fail,
//! overrides that make an axis irrelevant, and the wording of counts, units and notices.

mod common;

use common::{Test, runner};

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
        assert!(["inconclusive", "no_race"].contains(&doc["verdict"].as_str().unwrap()), "{initial} {operand}:\n{}", out.stdout);
        assert!(doc["expected"]["blind"].as_str().is_some_and(|b| b.contains("leaves the same final value")), "{}", out.stdout);
    }
}
