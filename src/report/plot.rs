//! A line chart drawn as SVG text: operations per second against a swept dimension, one line per
//! series, for `runner --plot FILE.svg`.
//!
//! Owns: scales (linear or logarithmic, chosen from the data), ticks and their SI labels, layout,
//! colours, escaping, and a standalone SVG 1.1 document that needs no font or plotting crate.
//! Does not own: choosing what to plot (the caller builds the `Chart`) or writing files.
//!
//! Points with a non-finite coordinate are skipped, so a missing y is `f64::NAN`; a line joins its
//! neighbours across it. Elements carry stable `class` attributes, which the tests read.

/// One line of the chart.
pub struct Series {
    pub name: String,
    /// (x, y); y may be missing (NaN) for some x.
    pub points: Vec<(f64, f64)>,
}

/// A chart: categorical x (ticks are labels at positions 0..n) or numeric x.
pub struct Chart {
    pub title: String,
    /// E.g. "workers" or "work.inside (ns)".
    pub x_label: String,
    /// E.g. "operations per second".
    pub y_label: String,
    /// Some(labels) when x is categorical: point x values are indices into labels.
    pub x_categories: Option<Vec<String>>,
    pub series: Vec<Series>,
}

const WIDTH: f64 = 800.0;
const HEIGHT: f64 = 500.0;
/// The plot area; the legend sits right of it.
const LEFT: f64 = 90.0;
const RIGHT: f64 = 610.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 430.0;
/// Keeps the first and last x off the y axis.
const X_INSET: f64 = 12.0;
/// Okabe and Ito's colour-blind-friendly palette, yellow last (it is faint on white).
const PALETTE: [&str; 8] = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"];

/// Draws `chart` as a standalone SVG document.
pub fn svg(chart: &Chart) -> String {
    let points = || chart.series.iter().flat_map(|s| s.points.iter());
    let xs: Vec<f64> = points().map(|p| p.0).filter(|x| x.is_finite()).collect();
    let ys: Vec<f64> = points().map(|p| p.1).filter(|y| y.is_finite()).collect();
    let (x, y) = (x_axis(chart.x_categories.as_deref(), &xs), y_axis(&ys));
    let px = |v: f64| LEFT + X_INSET + x.frac(v) * (RIGHT - LEFT - 2.0 * X_INSET);
    let py = |v: f64| BOTTOM - y.frac(v) * (BOTTOM - TOP);

    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" \
         width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"sans-serif\" \
         font-size=\"12\">\n<rect class=\"background\" width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"#ffffff\"/>\n"
    );
    let centre = (LEFT + RIGHT) / 2.0;
    text(&mut out, "title", (centre, 28.0), "text-anchor=\"middle\" font-size=\"16\"", &chart.title);
    // Grid and ticks first, so that the axes and the lines are drawn over them.
    out.push_str("<g class=\"ticks y\">\n");
    for (v, label) in &y.ticks {
        let at = py(*v);
        line(&mut out, "grid", (LEFT, at), (RIGHT, at), "#e5e5e5");
        line(&mut out, "tick-mark", (LEFT - 5.0, at), (LEFT, at), "#000");
        text(&mut out, "tick", (LEFT - 8.0, at), "text-anchor=\"end\" dy=\"0.35em\"", label);
    }
    out.push_str("</g>\n<g class=\"ticks x\">\n");
    for (v, label) in &x.ticks {
        let at = px(*v);
        line(&mut out, "tick-mark", (at, BOTTOM), (at, BOTTOM + 5.0), "#000");
        text(&mut out, "tick", (at, BOTTOM + 20.0), "text-anchor=\"middle\"", label);
    }
    out.push_str("</g>\n");
    line(&mut out, "axis x", (LEFT, BOTTOM), (RIGHT, BOTTOM), "#000");
    line(&mut out, "axis y", (LEFT, TOP), (LEFT, BOTTOM), "#000");
    text(&mut out, "axis-title x", (centre, BOTTOM + 45.0), "text-anchor=\"middle\"", &titled(&chart.x_label, x.log));
    let middle = (TOP + BOTTOM) / 2.0;
    let rotated = format!("transform=\"rotate(-90 20 {middle})\" text-anchor=\"middle\" dy=\"0.35em\"");
    text(&mut out, "axis-title y", (20.0, middle), &rotated, &titled(&chart.y_label, y.log));

    for (i, series) in chart.series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let mut kept: Vec<(f64, f64)> =
            series.points.iter().copied().filter(|&(a, b)| x.accepts(a) && y.accepts(b)).collect();
        kept.sort_by(|a, b| a.0.total_cmp(&b.0));
        let coords: Vec<(String, String)> = kept.iter().map(|&(a, b)| (n(px(a)), n(py(b)))).collect();
        let joined: Vec<String> = coords.iter().map(|(a, b)| format!("{a},{b}")).collect();
        out.push_str(&format!(
            "<polyline class=\"series\" data-series=\"{}\" points=\"{}\" fill=\"none\" stroke=\"{colour}\" \
             stroke-width=\"2\"/>\n",
            escape(&series.name),
            joined.join(" ")
        ));
        for (a, b) in &coords {
            out.push_str(&format!("<circle class=\"marker\" cx=\"{a}\" cy=\"{b}\" r=\"3\" fill=\"{colour}\"/>\n"));
        }
    }

    let (lx, height) = (RIGHT + 20.0, 20.0 * chart.series.len() as f64 + 10.0);
    out.push_str(&format!(
        "<g class=\"legend\">\n<rect x=\"{lx}\" y=\"{TOP}\" width=\"{}\" height=\"{height}\" fill=\"#ffffff\" \
         stroke=\"#999\"/>\n",
        WIDTH - lx - 10.0
    ));
    for (i, series) in chart.series.iter().enumerate() {
        let (colour, at) = (PALETTE[i % PALETTE.len()], TOP + 15.0 + 20.0 * i as f64);
        let name: String = match series.name.chars().count() {
            ..=18 => series.name.clone(),
            _ => series.name.chars().take(17).chain(['…']).collect(),
        };
        out.push_str(&format!(
            "<g class=\"legend-entry\"><rect x=\"{}\" y=\"{}\" width=\"16\" height=\"10\" fill=\"{colour}\"/>",
            lx + 8.0,
            at - 5.0
        ));
        text(&mut out, "legend-name", (lx + 30.0, at), "dy=\"0.35em\"", &name);
        out.push_str("</g>\n");
    }
    out.push_str("</g>\n</svg>\n");
    out
}

fn line(out: &mut String, class: &str, (x1, y1): (f64, f64), (x2, y2): (f64, f64), stroke: &str) {
    let (x1, y1, x2, y2) = (n(x1), n(y1), n(x2), n(y2));
    out.push_str(&format!(
        "<line class=\"{class}\" x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" stroke=\"{stroke}\"/>\n"
    ));
}

fn text(out: &mut String, class: &str, (x, y): (f64, f64), attributes: &str, content: &str) {
    let (x, y, content) = (n(x), n(y), escape(content));
    out.push_str(&format!("<text class=\"{class}\" x=\"{x}\" y=\"{y}\" {attributes}>{content}</text>\n"));
}

/// A scale from data values to the fraction 0..=1 of the plot area, with its ticks.
struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    ticks: Vec<(f64, String)>,
}

impl Axis {
    fn frac(&self, v: f64) -> f64 {
        let (v, lo, hi) = if self.log { (v.ln(), self.lo.ln(), self.hi.ln()) } else { (v, self.lo, self.hi) };
        if hi > lo { (v - lo) / (hi - lo) } else { 0.5 }
    }

    /// Whether `v` can be drawn: finite, and inside the range (a log scale has no place for 0).
    fn accepts(&self, v: f64) -> bool {
        v.is_finite() && (-1e-9..=1.0 + 1e-9).contains(&self.frac(v))
    }
}

/// Log when every y is positive and they span at least two decades; otherwise linear from 0.
fn y_axis(ys: &[f64]) -> Axis {
    match bounds(ys) {
        Some((min, max)) if min > 0.0 && max / min >= 100.0 => log_axis(min, max, 10.0, si),
        Some((min, max)) => linear_axis(min.min(0.0), max.max(0.0), si),
        None => linear_axis(0.0, 1.0, si),
    }
}

/// Categorical, or log (base 2 when every x is a power of two) when every x is positive and they
/// span a factor of 16, or linear.
fn x_axis(categories: Option<&[String]>, xs: &[f64]) -> Axis {
    if let Some(labels) = categories {
        let ticks = labels.iter().enumerate().map(|(i, l)| (i as f64, l.clone())).collect();
        return Axis { lo: -0.5, hi: labels.len().max(1) as f64 - 0.5, log: false, ticks };
    }
    match bounds(xs) {
        Some((min, max)) if min > 0.0 && max / min >= 16.0 => {
            let mut distinct = xs.to_vec();
            distinct.sort_by(f64::total_cmp);
            distinct.dedup();
            if distinct.len() <= 12 {
                let ticks = distinct.iter().map(|&v| (v, plain(v))).collect();
                return Axis { lo: min, hi: max, log: true, ticks };
            }
            let base = if xs.iter().all(|v| v.log2().fract() == 0.0) { 2.0 } else { 10.0 };
            log_axis(min, max, base, plain)
        }
        Some((min, max)) => linear_axis(min, max, plain),
        None => linear_axis(0.0, 1.0, plain),
    }
}

/// The smallest and largest of the finite `values`.
fn bounds(values: &[f64]) -> Option<(f64, f64)> {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    finite.fold(None, |acc, v| Some(acc.map_or((v, v), |(lo, hi): (f64, f64)| (lo.min(v), hi.max(v)))))
}

/// Rounded out to "nice" ticks: steps of 1, 2 or 5 times a power of ten, from three to eight of them.
fn linear_axis(lo: f64, hi: f64, label: fn(f64) -> String) -> Axis {
    let (lo, hi) = match () {
        () if hi > lo => (lo, hi),
        () if lo == 0.0 => (0.0, 1.0),
        () => (lo - lo.abs() / 2.0, hi + hi.abs() / 2.0),
    };
    let raw = (hi - lo) / 8.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = magnitude * [1.0, 2.0, 5.0, 10.0].into_iter().find(|&m| raw <= m * magnitude).unwrap_or(10.0);
    if !(step.is_finite() && step > 0.0) {
        return Axis { lo, hi, log: false, ticks: Vec::new() };
    }
    let (first, last) = ((lo / step).floor(), (hi / step).ceil());
    let count = ((last - first) as usize).min(50);
    let ticks = (0..=count).map(|k| (first + k as f64) * step).map(|v| (v, label(v))).collect();
    Axis { lo: first * step, hi: last * step, log: false, ticks }
}

/// From the power of `base` at or below `min` to the one at or above `max`, ticks at powers of
/// `base` (at most about ten of them).
fn log_axis(min: f64, max: f64, base: f64, label: fn(f64) -> String) -> Axis {
    // Snapped, so that 1000 is at 10^3 and not at 10^2.9999999999999996.
    let exponent = |v: f64| (v.log(base) * 1e9).round() / 1e9;
    let first = exponent(min).floor() as i32;
    let last = (exponent(max).ceil() as i32).max(first + 1);
    let every = ((last - first) as usize).div_ceil(10).max(1);
    let ticks = (first..=last).step_by(every).map(|e| base.powi(e)).map(|v| (v, label(v))).collect();
    Axis { lo: base.powi(first), hi: base.powi(last), log: true, ticks }
}

fn titled(label: &str, log: bool) -> String {
    if log { format!("{label} (log scale)") } else { label.to_string() }
}

/// `2.5M`, `10G`, `1k`, `250`: at most three significant digits with a metric prefix.
fn si(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        return "0".to_string();
    }
    if a < 0.01 {
        return format!("{v:.1e}");
    }
    let (m, prefix) = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
        .into_iter()
        .find(|&(scale, _)| a >= scale)
        .map_or((v, ""), |(scale, prefix)| (v / scale, prefix));
    // Two decimals below 10, one below 100, none above: three significant digits.
    let decimals = [100.0, 10.0].into_iter().take_while(|&t| m.abs() < t).count();
    let text = format!("{m:.decimals$}");
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { &text };
    format!("{text}{prefix}")
}

/// Whole numbers as written (`1024`), others in SI style.
fn plain(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e6 { format!("{}", v as i64) } else { si(v) }
}

/// A coordinate in pixels.
fn n(v: f64) -> String {
    format!("{v:.1}")
}

/// Text for XML: the special characters escaped, control characters (not allowed in XML 1.0) dropped.
fn escape(text: &str) -> String {
    let kept: String = text.chars().filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r')).collect();
    kept.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use roxmltree::{Document, Node};

    fn chart(categories: Option<&[&str]>, series: &[(&str, &[(f64, f64)])]) -> Chart {
        Chart {
            title: "increment: mutex vs atomic".to_string(),
            x_label: "workers".to_string(),
            y_label: "operations per second".to_string(),
            x_categories: categories.map(|c| c.iter().map(|s| s.to_string()).collect()),
            series: series.iter().map(|(n, p)| Series { name: n.to_string(), points: p.to_vec() }).collect(),
        }
    }

    /// Parses the drawing (panicking if it is not well-formed) and hands its root to `check`.
    fn parsed(chart: &Chart, check: impl FnOnce(Node<'_, '_>)) {
        let text = svg(chart);
        let doc = Document::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let root = doc.root_element();
        assert_eq!((root.tag_name().name(), root.tag_name().namespace()), ("svg", Some("http://www.w3.org/2000/svg")));
        assert!(!text.contains("NaN") && !text.contains("inf"), "{text}");
        check(root);
    }

    fn class<'a>(under: Node<'a, 'a>, class: &str) -> Vec<Node<'a, 'a>> {
        under.descendants().filter(|n| n.attribute("class") == Some(class)).collect()
    }

    /// The text of each element of `class` under `under`.
    fn texts(under: Node<'_, '_>, of: &str) -> Vec<String> {
        class(under, of).iter().map(|n| n.text().unwrap_or_default().to_string()).collect()
    }

    #[test]
    fn draws_a_line_a_legend_entry_and_axes_for_each_series() {
        let mutex: &[(f64, f64)] = &[(0.0, 3e6), (1.0, 2e6), (2.0, 1e6)];
        let c =
            chart(Some(&["1", "2", "4"]), &[("mutex", mutex), ("atomic", &[(0.0, 5e6), (1.0, f64::NAN), (2.0, 4e6)])]);
        parsed(&c, |svg| {
            let lines = class(svg, "series");
            assert_eq!(
                lines.iter().map(|n| n.attribute("data-series").unwrap()).collect::<Vec<_>>(),
                ["mutex", "atomic"]
            );
            assert_eq!(lines[1].attribute("points").unwrap().split(' ').count(), 2, "the missing y is skipped");
            let legend = class(svg, "legend")[0];
            assert_eq!(class(legend, "legend-entry").len(), 2);
            assert_eq!(texts(legend, "legend-name"), ["mutex", "atomic"]);
            assert_eq!(class(svg, "axis x").len() + class(svg, "axis y").len(), 2);
            assert_eq!(texts(svg, "title"), ["increment: mutex vs atomic"]);
            assert_eq!(texts(svg, "axis-title x"), ["workers"]);
            assert_eq!(texts(svg, "axis-title y"), ["operations per second"]);
            assert_eq!(texts(class(svg, "ticks x")[0], "tick"), ["1", "2", "4"]);
            assert_eq!(texts(class(svg, "ticks y")[0], "tick"), ["0", "1M", "2M", "3M", "4M", "5M"]);
        });
    }

    #[test]
    fn scales_are_logarithmic_for_values_that_span_decades_and_linear_from_zero_otherwise() {
        let points: Vec<(f64, f64)> = (0..11).map(|i| (f64::from(1 << i), 1e3 * 10f64.powi(i % 8))).collect();
        parsed(&chart(None, &[("none", &points)]), |svg| {
            assert_eq!(texts(svg, "axis-title y"), ["operations per second (log scale)"]);
            assert_eq!(texts(svg, "axis-title x"), ["workers (log scale)"]);
            assert_eq!(
                texts(class(svg, "ticks y")[0], "tick"),
                ["1k", "10k", "100k", "1M", "10M", "100M", "1G", "10G"]
            );
            let x = ["1", "2", "4", "8", "16", "32", "64", "128", "256", "512", "1024"];
            assert_eq!(texts(class(svg, "ticks x")[0], "tick"), x);
        });
        parsed(&chart(None, &[("mutex", &[(1.0, 1.0), (2.0, 2.5), (3.0, 5.0)])]), |svg| {
            assert_eq!(texts(svg, "axis-title y"), ["operations per second"]);
            assert_eq!(texts(svg, "axis-title x"), ["workers"]);
            assert_eq!(texts(class(svg, "ticks y")[0], "tick"), ["0", "1", "2", "3", "4", "5"]);
        });
    }

    #[test]
    fn many_distinct_x_get_nice_ticks_on_a_log_scale() {
        let points: Vec<(f64, f64)> = (1..=1000).map(|x| (f64::from(x), 1.0)).collect();
        parsed(&chart(None, &[("a", &points)]), |svg| {
            assert_eq!(texts(class(svg, "ticks x")[0], "tick"), ["1", "10", "100", "1000"]);
        });
    }

    #[test]
    fn text_is_escaped() {
        let mut c = chart(None, &[("a<b & \"c\"\u{1}", &[(1.0, 1.0)])]);
        c.title = "<script> & 'x'".to_string();
        parsed(&c, |svg| {
            assert_eq!(class(svg, "series")[0].attribute("data-series"), Some("a<b & \"c\""));
            assert_eq!(texts(svg, "title"), ["<script> & 'x'"]);
        });
    }

    #[test]
    fn degenerate_inputs_draw_without_panicking() {
        let odd: &[(f64, f64)] = &[(f64::NAN, 1.0), (1.0, f64::INFINITY), (f64::NEG_INFINITY, 2.0), (2.0, -3.0)];
        let cases = [
            chart(None, &[]),
            chart(Some(&[]), &[]),
            chart(None, &[("", &[])]),
            chart(None, &[("one", &[(3.0, 7.0)])]),
            chart(None, &[("zero", &[(0.0, 0.0), (0.0, 0.0)])]),
            chart(None, &[("equal", &[(5.0, 2e9), (5.0, 2e9)])]),
            chart(None, &[("odd", odd), ("nan", &[(f64::NAN, f64::NAN)])]),
            chart(None, &[("huge", &[(-f64::MAX, f64::MAX), (f64::MAX, -f64::MAX)])]),
            chart(None, &[("tiny", &[(f64::MIN_POSITIVE, 1e-300), (1.0, 1e300)])]),
            chart(Some(&["a"]), &[("outside", &[(-1.0, 1.0), (0.0, 2.0), (7.0, 3.0)])]),
        ];
        for c in &cases {
            parsed(c, |svg| {
                assert_eq!(class(svg, "series").len(), c.series.len());
                assert_eq!(class(svg, "legend-entry").len(), c.series.len());
            });
        }
    }

    #[test]
    fn numbers_are_labelled_in_si_style() {
        let labels: Vec<String> = [0.0, 1e3, 2.5e6, 1e10, 12.5, 0.5, 999.0, -4e3].into_iter().map(si).collect();
        assert_eq!(labels, ["0", "1k", "2.5M", "10G", "12.5", "0.5", "999", "-4k"]);
    }
}
