//! The legend (each series, then what the marks mean: the bars, the bounds, the crossed-out
//! cells) right of the plot, and the caption under it.

use super::draw::{self, colour, escape, n, text};
use super::{Chart, RIGHT, TOP, WIDTH};

/// Characters of a legend line (about the legend box's width at 12px).
const LINE: usize = 30;
/// The height of a legend line, and the space around an entry.
const LINE_HEIGHT: f64 = 15.0;
const ENTRY_GAP: f64 = 6.0;

/// What an entry's sample shows.
enum Swatch {
    /// A series: its marker (on a line segment when series are lines).
    Series {
        colour: usize,
        shape: usize,
    },
    /// A bar from the slowest run to the fastest, with a median point.
    Whisker,
    Bound,
    Failed,
}

/// The legend's entries: each series, then the key to the marks the chart has.
fn entries(chart: &Chart) -> Vec<(Swatch, Vec<String>)> {
    let mut entries: Vec<(Swatch, Vec<String>)> =
        chart.series.iter().map(|s| (Swatch::Series { colour: s.colour, shape: s.shape }, wrapped(&s.name))).collect();
    let points = || chart.series.iter().flat_map(|s| s.points.iter());
    let runs: Vec<usize> = points().filter(|p| p.runs > 1).map(|p| p.runs).collect();
    if let (Some(lo), Some(hi)) = (runs.iter().min(), runs.iter().max()) {
        let of = if lo == hi { format!("{lo} runs") } else { format!("{lo}-{hi} runs") };
        entries.push((Swatch::Whisker, wrapped(&format!("point: median; bar: min to max of {of}"))));
    }
    for bound in &chart.bounds {
        entries.push((Swatch::Bound, wrapped(&bound.name)));
    }
    let mut why: Vec<&str> = Vec::new();
    for reason in points().filter_map(|p| p.failed.as_deref()) {
        if !why.contains(&reason) {
            why.push(reason);
        }
    }
    if !why.is_empty() {
        entries.push((Swatch::Failed, wrapped(&format!("did not pass, not joined: {}", why.join(", ")))));
    }
    entries
}

/// Words in lines of at most [`LINE`] characters (a longer word shortened).
fn wrapped(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= LINE => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(draw::shortened(word, LINE)),
        }
    }
    lines
}

/// Where the legend ends (the document is at least that high).
pub(super) fn height(chart: &Chart) -> f64 {
    let lines: usize = entries(chart).iter().map(|(_, l)| l.len()).sum();
    TOP + 10.0 + lines as f64 * LINE_HEIGHT + entries(chart).len() as f64 * ENTRY_GAP
}

/// The legend, right of the plot: `lines` when series are drawn as lines.
pub(super) fn legend(out: &mut String, chart: &Chart, lines: bool) {
    let entries = entries(chart);
    let lx = RIGHT + 20.0;
    out.push_str(&format!(
        "<g class=\"legend\">\n<rect x=\"{lx}\" y=\"{TOP}\" width=\"{}\" height=\"{}\" fill=\"#ffffff\" \
         stroke=\"#999\"/>\n",
        WIDTH - lx - 10.0,
        n(height(chart) - TOP)
    ));
    let mut at = TOP + 5.0 + LINE_HEIGHT / 2.0;
    for (swatch, words) in &entries {
        let (sx, class) = (lx + 18.0, entry_class(swatch));
        out.push_str(&format!("<g class=\"{class}\">"));
        match swatch {
            Swatch::Series { colour: c, shape } => {
                if lines {
                    draw::line(out, "legend-line", (sx - 10.0, at), (sx + 10.0, at), &colour(*c, *shape));
                }
                out.push_str(&draw::shape(*shape, (sx, at), "#ffffff", &colour(*c, *shape)));
            }
            Swatch::Whisker => {
                let path = draw::whisker(sx, (at + 6.0, at - 6.0), "#333333", 0.9);
                out.push_str(&format!("<path {path}/>"));
                out.push_str(&draw::shape(0, (sx, at), "#ffffff", "#333333"));
            }
            Swatch::Bound => draw::dashed(out, "legend-bound", (sx - 12.0, at), (sx + 12.0, at), ""),
            Swatch::Failed => {
                out.push_str(&draw::shape(0, (sx, at), "#333333", "#ffffff"));
                out.push_str(&draw::cross((sx, at)));
            }
        }
        for (k, line) in words.iter().enumerate() {
            let y = at + k as f64 * LINE_HEIGHT;
            text(out, "legend-name", (lx + 36.0, y), "dy=\"0.35em\"", line);
        }
        out.push_str("</g>\n");
        at += words.len() as f64 * LINE_HEIGHT + ENTRY_GAP;
    }
    out.push_str("</g>\n");
}

fn entry_class(swatch: &Swatch) -> &'static str {
    match swatch {
        Swatch::Series { .. } => "legend-entry",
        Swatch::Whisker => "legend-key whisker-key",
        Swatch::Bound => "legend-key bound-key",
        Swatch::Failed => "legend-key failed-key",
    }
}

/// Characters of a caption line (about the page's width at 11px).
const CAPTION_LINE: usize = 140;

/// The caption's lines: each of the chart's, broken after a `; ` where it is too long.
pub(super) fn caption_lines(chart: &Chart) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for text in &chart.caption {
        let mut line = String::new();
        for part in text.split_inclusive("; ") {
            if !line.is_empty() && line.chars().count() + part.chars().count() > CAPTION_LINE {
                lines.push(line.trim_end().to_string());
                line = format!("  {part}");
            } else {
                line.push_str(part);
            }
        }
        lines.push(line);
    }
    lines
}

/// The caption's lines under the plot, from `top`.
pub(super) fn caption(out: &mut String, chart: &Chart, top: f64) {
    out.push_str("<g class=\"caption\" font-size=\"11\" fill=\"#333333\">\n");
    for (k, line) in caption_lines(chart).iter().enumerate() {
        let y = n(top + 16.0 * k as f64);
        out.push_str(&format!("<text class=\"caption-line\" x=\"20\" y=\"{y}\">{}</text>\n", escape(line)));
    }
    out.push_str("</g>\n");
}
