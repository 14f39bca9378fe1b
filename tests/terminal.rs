//! Text from a job file reaches a person's terminal inert: its control and bidirectional
//! characters are shown as escapes in the human report, the plan, diagnostics and notices, so a
//! job file cannot set the window title, beep, rewrite a line or hide a verdict. JSON keeps the
//! text as it is (serde escapes its controls).

mod common;

use common::{job_file, runner};

/// ESC (colour, window title, hidden text), BEL, CR, BS, a C1 control and RIGHT-TO-LEFT OVERRIDE.
const HOSTILE: &str = "\u{1b}[31mRED\u{1b}[0m\u{7}\u{1b}]0;pwned-title\u{7}\r\u{8}\u{9b}\u{202e}evil";

/// Whether `text` holds a character a terminal would act on (the newline and tab aside).
fn acts(text: &str) -> Option<char> {
    text.chars().find(|&c| (c.is_control() && c != '\n' && c != '\t') || ('\u{202a}'..='\u{202e}').contains(&c))
}

#[test]
fn a_job_file_cannot_act_on_the_terminal() {
    let name = HOSTILE.replace('\\', "\\\\").replace('"', "\\\"");
    let escaped: String = name
        .chars()
        .map(|c| if c.is_control() || c == '\u{202e}' { format!("\\u{:04x}", c as u32) } else { c.to_string() })
        .collect();
    let job = job_file(
        "hostile-name.yaml",
        format!(
            "name: \"{escaped}\"\ndescription: \"{escaped}\"\nworkers: 2\niterations: 10\nvalue: {{type: i}}\noperation: add\nbackend: mutex\n"
        ),
    );
    let bad = job_file(
        "hostile-key.yaml",
        format!(
            "name: ok\nworkers: 2\niterations: 10\nvalue: {{type: i}}\noperation: add\nbackend: mutex\n\"{escaped}\": 1\n"
        ),
    );
    for args in [vec![job.as_str()], vec!["plan", job.as_str()], vec!["validate", bad.as_str()], vec![bad.as_str()]] {
        let out = runner(&args);
        for (stream, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            assert_eq!(acts(text), None, "runner {args:?}: {stream} holds a character the terminal acts on:\n{text:?}");
        }
        assert!(
            out.stdout.contains("\\u{1b}[31mRED") || out.stderr.contains("\\u{1b}[31mRED"),
            "runner {args:?}: the text is shown, escaped:\n{}\n{}",
            out.stdout,
            out.stderr
        );
    }
    // JSON keeps the name itself: serde escapes its controls, and a reader gets the bytes back.
    let out = runner(&[job.as_str(), "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(doc["job"]["name"], HOSTILE, "{}", out.stdout);
}
