//! Fuzz target: `runner::plan_text` on arbitrary input must never panic, hang or use unbounded
//! memory. Bytes that are not UTF-8 are read lossily (the non-UTF-8 path of `read_source` needs
//! a file and is covered by the CLI tests). Every diagnostic is rendered and every plan's
//! effective job built, so that those paths are fuzzed too; the invariants the property tests
//! hold (`tests/properties.rs`) are asserted here as well, so that a broken one is a crash.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match runner::plan_text("fuzz.yaml", &text) {
        Ok(plans) => {
            for plan in &plans {
                std::hint::black_box(plan.effective_job().to_string());
                std::hint::black_box(plan.order_note());
            }
        }
        Err(diags) => {
            assert!(!diags.is_empty(), "Err with no diagnostics");
            let lines = line_count(&text);
            for d in &diags {
                let rendered = d.to_string();
                assert!(!d.message.is_empty(), "empty message: {rendered}");
                if let Some(pos) = d.pos {
                    assert!(pos.line >= 1 && pos.column >= 1, "position below 1:1: {rendered}");
                    assert!(pos.line <= lines, "line {} beyond the text's {lines} lines: {rendered}", pos.line);
                }
            }
        }
    }
});

/// Lines as YAML counts them (`\n`, `\r\n` and a lone `\r` each end one), plus the last,
/// possibly empty, line: a position may point just past the final line break.
fn line_count(text: &str) -> u64 {
    let breaks = text.replace("\r\n", "\n").chars().filter(|&c| c == '\n' || c == '\r').count();
    breaks as u64 + 1
}
