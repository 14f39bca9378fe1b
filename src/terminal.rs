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
    if !may_act(text) || !text.chars().any(acts) {
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

/// Whether `text` may hold a character that [`acts`]: `false` only when none does. A whole
/// report is mostly printable ASCII, which this passes 32 bytes at a time without decoding a
/// character; a chunk with another byte is looked at byte by byte for the UTF-8 encodings of the
/// controls (`U+0000..=U+001F`, `U+007F..=U+009F`: one byte, or `C2 80..=9F`) and the
/// bidirectional controls (`D8 9C`, `E2 80 8E/8F/AA..=AE`, `E2 81 A6..=A9`). Their lead bytes are
/// never continuation bytes, so each is found in the chunk where its character starts.
fn may_act(text: &str) -> bool {
    const CHUNK: usize = 32;
    let bytes = text.as_bytes();
    let plain = |b: u8| (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\t';
    bytes.chunks(CHUNK).enumerate().any(|(k, chunk)| {
        // Without an early exit, so that the compiler checks the chunk many bytes at a time.
        !chunk.iter().fold(true, |all, &b| all & plain(b))
            && (k * CHUNK..k * CHUNK + chunk.len()).any(|i| starts_acting(bytes, i))
    })
}

/// Whether the character whose encoding starts at `bytes[i]` may act (see [`may_act`]).
fn starts_acting(bytes: &[u8], i: usize) -> bool {
    let at = |j: usize| bytes.get(i + j).copied().unwrap_or(0);
    match bytes[i] {
        b'\n' | b'\t' => false,
        b if b < 0x20 || b == 0x7f => true,
        0xc2 => (0x80..=0x9f).contains(&at(1)),
        0xd8 => at(1) == 0x9c,
        0xe2 => matches!((at(1), at(2)), (0x80, 0x8e | 0x8f | 0xaa..=0xae) | (0x81, 0xa6..=0xa9)),
        _ => false,
    }
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

    #[test]
    fn the_quick_scan_misses_no_character_that_acts() {
        // Every character of the first plane (and two beyond it), at each place of a 32-byte chunk and
        // across two chunks; characters that do not act and are not ASCII are passed too.
        let mut acting = 0;
        for c in (0..=0x1_0000).chain([0x1_f600, 0x10_ffff]).filter_map(char::from_u32) {
            for before in [0, 1, 29, 30, 31, 32] {
                let text = format!("{}{c}µ—x", "a".repeat(before));
                assert_eq!(may_act(&text), acts(c), "{c:?} after {before} bytes");
            }
            acting += usize::from(acts(c));
        }
        assert_eq!(acting, 30 + 33 + 12, "C0 (but newline and tab), DEL and C1, bidi");
    }
}
