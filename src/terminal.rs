//! What reaches a person's terminal: text from job files (names, descriptions, file names, keys)
//! with its control and bidirectional characters made visible, so that a job file cannot set the
//! window title, beep, move the cursor, hide a verdict (`ESC[8m`) or reverse a line (U+202E).
//!
//! Owns: [`for_people`]. Does not own: JSON, whose strings serde escapes, nor the progress line,
//! which draws with its own carriage returns.

use std::borrow::Cow;

/// `text` with every character a terminal would act on written as a visible escape (`\u{1b}`):
/// C0 and C1 controls and DEL, except the newline and the tab, and the bidirectional controls.
pub fn for_people(text: &str) -> Cow<'_, str> {
    if !text.chars().any(acts) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if acts(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether a terminal acts on `c` rather than showing it.
fn acts(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_become_visible() {
        assert_eq!(for_people("plain\tline\n"), "plain\tline\n");
        assert_eq!(for_people("\u{1b}[31mRED\u{7}\r\u{8}"), "\\u{1b}[31mRED\\u{7}\\u{d}\\u{8}");
        assert_eq!(for_people("a\u{202e}b\u{9b}c\u{7f}"), "a\\u{202e}b\\u{9b}c\\u{7f}");
    }
}
