//! SVG elements as text: lines, text, the markers (one shape per variant, and the cross of a
//! cell that did not pass), whiskers, and the escaping every piece of text goes through.

/// Okabe and Ito's colour-blind-friendly palette, yellow last (it is faint on white).
pub(super) const PALETTE: [&str; 8] =
    ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"];

/// The cross over a cell that did not pass: dark red, drawn thick.
pub(super) const FAILED: &str = "#B00020";

/// How bounds are drawn: grey, dashed (never like a measured line).
pub(super) const BOUND_STROKE: &str = "#555555";
pub(super) const BOUND_DASH: &str = "6 4";

/// Series `i`'s colour; its variants (the same first parameter, other values of the rest) in
/// lighter tints of it, so that `mutex type=i` and `mutex type=d` read as kin.
pub(super) fn colour(i: usize, variant: usize) -> String {
    let base = PALETTE[i % PALETTE.len()];
    let white = [0.0, 0.4, 0.6, 0.25][variant % 4];
    let channel = |k: usize| {
        let c = f64::from(u8::from_str_radix(&base[1 + 2 * k..3 + 2 * k], 16).unwrap_or(0));
        (c + (255.0 - c) * white).round() as u8
    };
    format!("#{:02X}{:02X}{:02X}", channel(0), channel(1), channel(2))
}

pub(super) fn line(out: &mut String, class: &str, (x1, y1): (f64, f64), (x2, y2): (f64, f64), stroke: &str) {
    let (x1, y1, x2, y2) = (n(x1), n(y1), n(x2), n(y2));
    out.push_str(&format!(
        "<line class=\"{class}\" x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" stroke=\"{stroke}\"/>\n"
    ));
}

/// A dashed line, for a bound.
pub(super) fn dashed(out: &mut String, class: &str, from: (f64, f64), to: (f64, f64), data: &str) {
    out.push_str(&format!(
        "<line class=\"{class}\" data-bound=\"{}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{BOUND_STROKE}\" \
         stroke-width=\"1.5\" stroke-dasharray=\"{BOUND_DASH}\"/>\n",
        escape(data),
        n(from.0),
        n(from.1),
        n(to.0),
        n(to.1)
    ));
}

pub(super) fn text(out: &mut String, class: &str, (x, y): (f64, f64), attributes: &str, content: &str) {
    let (x, y, content) = (n(x), n(y), escape(content));
    out.push_str(&format!("<text class=\"{class}\" x=\"{x}\" y=\"{y}\" {attributes}>{content}</text>\n"));
}

/// A marker of `shape` (circle, square, triangle, diamond, in turn) centred on `(x, y)`;
/// `fill` none draws it hollow.
pub(super) fn shape(shape: usize, (x, y): (f64, f64), stroke: &str, fill: &str) -> String {
    let paint = format!("fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.5\"");
    match shape % 4 {
        0 => format!("<circle cx=\"{}\" cy=\"{}\" r=\"4.5\" {paint}/>", n(x), n(y)),
        1 => format!("<rect x=\"{}\" y=\"{}\" width=\"7\" height=\"7\" {paint}/>", n(x - 3.5), n(y - 3.5)),
        2 => format!(
            "<path d=\"M{},{} L{},{} L{},{} Z\" {paint}/>",
            n(x),
            n(y - 5.0),
            n(x + 4.5),
            n(y + 3.5),
            n(x - 4.5),
            n(y + 3.5)
        ),
        _ => format!(
            "<path d=\"M{},{} L{},{} L{},{} L{},{} Z\" {paint}/>",
            n(x),
            n(y - 5.0),
            n(x + 5.0),
            n(y),
            n(x),
            n(y + 5.0),
            n(x - 5.0),
            n(y)
        ),
    }
}

/// The cross of a cell that did not pass, over a hollow marker of its series.
pub(super) fn cross((x, y): (f64, f64)) -> String {
    let r = 5.5;
    format!(
        "<path d=\"M{},{} L{},{} M{},{} L{},{}\" stroke=\"{FAILED}\" stroke-width=\"2.5\" fill=\"none\"/>",
        n(x - r),
        n(y - r),
        n(x + r),
        n(y + r),
        n(x - r),
        n(y + r),
        n(x + r),
        n(y - r)
    )
}

/// A vertical bar from `low` to `high` at `x`, with caps.
pub(super) fn whisker(x: f64, (low, high): (f64, f64), stroke: &str, opacity: f64) -> String {
    let (l, r) = (n(x - 3.5), n(x + 3.5));
    let (x, low, high) = (n(x), n(low), n(high));
    format!(
        "d=\"M{x},{low} L{x},{high} M{l},{low} L{r},{low} M{l},{high} L{r},{high}\" stroke=\"{stroke}\" \
         stroke-width=\"1.3\" stroke-opacity=\"{opacity}\" fill=\"none\""
    )
}

/// A coordinate in pixels.
pub(super) fn n(v: f64) -> String {
    format!("{v:.1}")
}

/// Text for XML: the special characters escaped, control characters (not allowed in XML 1.0) dropped.
pub(super) fn escape(text: &str) -> String {
    let kept: String = text.chars().filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r')).collect();
    kept.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// At most `max` characters, an ellipsis in place of the rest.
pub(super) fn shortened(text: &str, max: usize) -> String {
    if text.chars().count() <= max { text.to_string() } else { text.chars().take(max - 1).chain(['…']).collect() }
}
