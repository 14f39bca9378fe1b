//! Python literals for runner's values, strings and comments.

use crate::value::Value;

/// Width of the header's comment lines.
pub(crate) const WIDTH: usize = 96;

/// A Python literal for a value of the job's type: a double as the shortest text that reads back
/// to the same bits (Python parses it correctly rounded, as Rust prints it), a byte as its code.
pub(crate) fn literal(v: Value) -> String {
    match v {
        Value::I(x) => x.to_string(),
        Value::C(x) => x.to_string(),
        Value::D(x) if x.is_nan() => "float('nan')".to_string(),
        Value::D(x) if x.is_infinite() => if x > 0.0 { "float('inf')" } else { "float('-inf')" }.to_string(),
        Value::D(x) => format!("{x:?}"),
    }
}

/// The value's initial contents as `Value()` takes them: a byte as a `bytes` literal.
pub(crate) fn initial_literal(v: Value) -> String {
    match v {
        Value::C(b) => {
            let shown = match b {
                b'\'' | b'\\' => format!("\\{}", b as char),
                0x20..=0x7e => (b as char).to_string(),
                _ => format!("\\x{b:02x}"),
            };
            format!("b'{shown}'")
        }
        other => literal(other),
    }
}

/// A Python string literal (a JSON string is one).
pub(crate) fn string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// `text` as `# ` comment lines of at most [`WIDTH`] characters.
pub(crate) fn comment(text: &str) -> String {
    let mut lines = Vec::new();
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() + 1 + word.len() > WIDTH && line != "#" {
            lines.push(std::mem::replace(&mut line, String::from("#")));
        }
        line.push(' ');
        line.push_str(word);
    }
    lines.push(line);
    lines.join("\n")
}
