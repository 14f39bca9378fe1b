//! A chart drawn as SVG text: operations per second against a swept dimension, for
//! `runner --plot FILE.svg`. Each cell is a point at its median with a bar from its slowest to
//! its fastest run; a numeric dimension joins a series' passing cells by a line, a categorical
//! one sets the series side by side in each category and joins nothing. Bounds are grey dashed
//! lines, labelled as bounds; a cell that did not pass is a hollow marker crossed out in red,
//! joined to nothing, with its own legend entry. A caption says what the marks are and what
//! ran, where.
//!
//! Owns: the chart's model (`Chart`, `Series`, `Point`, `Bound`), layout, drawing, and a
//! standalone SVG 1.1 document that needs no font or plotting crate (`axis`: scales and ticks;
//! `draw`: elements and escaping; `legend`: the legend and the caption). Does not own: choosing
//! what to plot (the caller, `report::sweep::chart`, builds the `Chart`) or writing files.
//!
//! Points with a non-finite coordinate are not drawn (a cell with no run is a cross on the x
//! axis). Elements carry stable `class` attributes, which the tests read.

mod axis;
mod draw;
mod legend;
#[cfg(test)]
mod tests;

use axis::Axis;
use draw::{colour, escape, n, text};

/// One cell of the chart.
#[derive(Clone, Debug)]
pub struct Point {
    /// The swept value, or the index of its category.
    pub x: f64,
    /// The median over the cell's runs (NaN when none ran).
    pub median: f64,
    /// The slowest and fastest run.
    pub min: f64,
    pub max: f64,
    pub runs: usize,
    /// Why the cell does not count as a result (`lost_updates`, `wrong`, `failed`), if it does not.
    pub failed: Option<String>,
    /// The cell's parameters, for the marker's tooltip.
    pub cell: String,
}

impl Point {
    /// A cell of one value (one run, or a test's point).
    pub fn at(x: f64, y: f64) -> Point {
        Point { x, median: y, min: y, max: y, runs: 1, failed: None, cell: String::new() }
    }
}

/// One series: a colour (its first parameter) and a marker shape (the others).
#[derive(Clone, Debug)]
pub struct Series {
    pub name: String,
    pub colour: usize,
    pub shape: usize,
    pub points: Vec<Point>,
}

/// A limit drawn dashed, not measured: `1/inside`, the most operations per second one lock allows.
#[derive(Clone, Debug)]
pub struct Bound {
    /// The legend's words (`bound: 1/inside (one holder at a time)`).
    pub name: String,
    /// The label on the chart (`1/inside bound`).
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// A chart: categorical x (ticks are labels at positions 0..n) or numeric x.
#[derive(Clone, Debug, Default)]
pub struct Chart {
    pub title: String,
    /// E.g. "workers" or "work.inside (ns)".
    pub x_label: String,
    /// E.g. "operations per second".
    pub y_label: String,
    /// Some(labels) when x is categorical: point x values are indices into labels.
    pub x_categories: Option<Vec<String>>,
    pub series: Vec<Series>,
    pub bounds: Vec<Bound>,
    /// Lines under the chart: what the marks are, the job, the machine.
    pub caption: Vec<String>,
    /// Each point's median written beside it (a chart of one cell).
    pub value_labels: bool,
}

const WIDTH: f64 = 900.0;
/// The plot area; the legend sits right of it, the caption under it.
const LEFT: f64 = 90.0;
const RIGHT: f64 = 640.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 430.0;
/// Keeps the first and last x off the y axis.
const X_INSET: f64 = 16.0;

/// The scales, placed on the page.
struct Frame {
    x: Axis,
    y: Axis,
    categorical: bool,
    /// The series drawn side by side, and the pixels between two of them.
    series: usize,
    dodge: f64,
}

impl Frame {
    fn px(&self, v: f64) -> f64 {
        LEFT + X_INSET + self.x.frac(v) * (RIGHT - LEFT - 2.0 * X_INSET)
    }

    fn py(&self, v: f64) -> f64 {
        BOTTOM - self.y.frac(v) * (BOTTOM - TOP)
    }

    /// Where series `i`'s point at `x` goes, moved aside from the other series' points there.
    fn at(&self, i: usize, x: f64) -> f64 {
        self.px(x) + (i as f64 - (self.series as f64 - 1.0) / 2.0) * self.dodge
    }

    fn new(chart: &Chart) -> Frame {
        let points = || chart.series.iter().flat_map(|s| s.points.iter());
        let xs: Vec<f64> =
            points().map(|p| p.x).chain(chart.bounds.iter().flat_map(|b| b.points.iter().map(|p| p.0))).collect();
        let centres: Vec<f64> =
            points().map(|p| p.median).chain(chart.bounds.iter().flat_map(|b| b.points.iter().map(|p| p.1))).collect();
        let extent: Vec<f64> = points().flat_map(|p| [p.min, p.max]).collect();
        let (x, y) = (axis::x_axis(chart.x_categories.as_deref(), &xs), axis::y_axis(&centres, &extent));
        let series = chart.series.len().max(1);
        let mut frame = Frame { x, y, categorical: chart.x_categories.is_some(), series, dodge: 0.0 };
        // Side by side within a category's band; a few pixels apart on a numeric scale, less
        // than the closest two values.
        let mut sorted: Vec<f64> = xs.iter().copied().filter(|v| frame.x.accepts(*v)).map(|v| frame.px(v)).collect();
        sorted.sort_by(f64::total_cmp);
        sorted.dedup();
        let gap = sorted.windows(2).map(|w| w[1] - w[0]).fold(RIGHT - LEFT, f64::min);
        frame.dodge = if frame.categorical {
            (gap * 0.7 / series as f64).min(18.0)
        } else {
            (gap * 0.5 / series as f64).min(6.0)
        };
        frame
    }
}

/// Draws `chart` as a standalone SVG document.
pub fn svg(chart: &Chart) -> String {
    let frame = Frame::new(chart);
    let height = legend::height(chart).max(BOTTOM + 70.0 + 16.0 * legend::caption_lines(chart).len() as f64) + 10.0;
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" \
         width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" \
         font-size=\"12\">\n<rect class=\"background\" width=\"{WIDTH}\" height=\"{height}\" fill=\"#ffffff\"/>\n"
    );
    let centre = (LEFT + RIGHT) / 2.0;
    text(&mut out, "title", (centre, 28.0), "text-anchor=\"middle\" font-size=\"16\"", &chart.title);
    axes(&mut out, chart, &frame);
    bounds(&mut out, chart, &frame);
    for (i, series) in chart.series.iter().enumerate() {
        draw_series(&mut out, chart, &frame, i, series);
    }
    legend::legend(&mut out, chart, !frame.categorical);
    legend::caption(&mut out, chart, BOTTOM + 70.0);
    out.push_str("</svg>\n");
    out
}

/// The grid, the ticks, the axes and their titles.
fn axes(out: &mut String, chart: &Chart, frame: &Frame) {
    use draw::line;
    // Grid and ticks first, so that the axes and the marks are drawn over them.
    out.push_str("<g class=\"ticks y\">\n");
    for (v, label) in &frame.y.ticks {
        let at = frame.py(*v);
        line(out, "grid", (LEFT, at), (RIGHT, at), "#e5e5e5");
        line(out, "tick-mark", (LEFT - 5.0, at), (LEFT, at), "#000");
        text(out, "tick", (LEFT - 8.0, at), "text-anchor=\"end\" dy=\"0.35em\"", label);
    }
    out.push_str("</g>\n<g class=\"ticks x\">\n");
    for (i, (v, label)) in frame.x.ticks.iter().enumerate() {
        let at = frame.px(*v);
        if frame.categorical && i > 0 {
            // A faint rule between two categories: what sits in a band belongs to its label.
            let between = (frame.px(*v - 1.0) + at) / 2.0;
            line(out, "category-rule", (between, TOP), (between, BOTTOM), "#eeeeee");
        }
        line(out, "tick-mark", (at, BOTTOM), (at, BOTTOM + 5.0), "#000");
        text(out, "tick", (at, BOTTOM + 20.0), "text-anchor=\"middle\"", label);
    }
    out.push_str("</g>\n");
    line(out, "axis x", (LEFT, BOTTOM), (RIGHT, BOTTOM), "#000");
    line(out, "axis y", (LEFT, TOP), (LEFT, BOTTOM), "#000");
    let centre = (LEFT + RIGHT) / 2.0;
    let x_title = if frame.x.log { format!("{} (log scale)", chart.x_label) } else { chart.x_label.clone() };
    text(out, "axis-title x", (centre, BOTTOM + 42.0), "text-anchor=\"middle\"", &x_title);
    let middle = (TOP + BOTTOM) / 2.0;
    let rotated = format!("transform=\"rotate(-90 20 {middle})\" text-anchor=\"middle\" dy=\"0.35em\"");
    let y_title = if frame.y.log { format!("{} (log scale)", chart.y_label) } else { chart.y_label.clone() };
    text(out, "axis-title y", (20.0, middle), &rotated, &y_title);
}

/// Each bound: dashed, through its points on a numeric scale, across each category's band on a
/// categorical one, labelled at its right end.
fn bounds(out: &mut String, chart: &Chart, frame: &Frame) {
    for bound in &chart.bounds {
        let mut kept: Vec<(f64, f64)> =
            bound.points.iter().copied().filter(|&(x, y)| frame.x.accepts(x) && frame.y.accepts(y)).collect();
        kept.sort_by(|a, b| a.0.total_cmp(&b.0));
        let segments: Vec<((f64, f64), (f64, f64))> = if frame.categorical {
            let half = (frame.px(1.0) - frame.px(0.0)) * 0.45;
            kept.iter().map(|&(x, y)| ((frame.px(x) - half, frame.py(y)), (frame.px(x) + half, frame.py(y)))).collect()
        } else if kept.len() == 1 {
            kept.iter().map(|&(_, y)| ((LEFT, frame.py(y)), (RIGHT, frame.py(y)))).collect()
        } else {
            kept.windows(2)
                .map(|w| ((frame.px(w[0].0), frame.py(w[0].1)), (frame.px(w[1].0), frame.py(w[1].1))))
                .collect()
        };
        out.push_str(&format!("<g class=\"bound\" data-bound=\"{}\">\n", escape(&bound.name)));
        for (from, to) in &segments {
            draw::dashed(out, "bound-line", *from, *to, &bound.name);
        }
        if let Some(&(_, (x, y))) = segments.iter().max_by(|a, b| a.1.0.total_cmp(&b.1.0)) {
            let attributes = format!("text-anchor=\"end\" fill=\"{}\" font-style=\"italic\"", draw::BOUND_STROKE);
            text(out, "bound-label", (x - 2.0, y - 6.0), &attributes, &bound.label);
        }
        out.push_str("</g>\n");
    }
}

/// A series: its line through the passing cells (numeric x only), then each cell's whisker and
/// marker; a cell that did not pass crossed out.
fn draw_series(out: &mut String, chart: &Chart, frame: &Frame, i: usize, series: &Series) {
    let stroke = &colour(series.colour, series.shape);
    let name = escape(&series.name);
    let drawn: Vec<&Point> = series.points.iter().filter(|p| frame.x.accepts(p.x)).collect();
    out.push_str(&format!("<g class=\"series-points\" data-series=\"{name}\">\n"));
    if !frame.categorical {
        let mut passing: Vec<(f64, f64)> = drawn
            .iter()
            .filter(|p| p.failed.is_none() && frame.y.accepts(p.median))
            .map(|p| (frame.at(i, p.x), frame.py(p.median)))
            .collect();
        passing.sort_by(|a, b| a.0.total_cmp(&b.0));
        let joined: Vec<String> = passing.iter().map(|&(a, b)| format!("{},{}", n(a), n(b))).collect();
        out.push_str(&format!(
            "<polyline class=\"series\" data-series=\"{name}\" points=\"{}\" fill=\"none\" stroke=\"{stroke}\" \
             stroke-width=\"2\"/>\n",
            joined.join(" ")
        ));
    }
    for p in drawn {
        let x = frame.at(i, p.x);
        let tip = format!("<title>{}</title>", escape(&tooltip(series, p)));
        if p.runs > 1 && p.min.is_finite() && p.max.is_finite() {
            let span = (frame.py(frame.y.clamp(p.min)), frame.py(frame.y.clamp(p.max)));
            let opacity = if p.failed.is_some() { 0.5 } else { 0.9 };
            out.push_str(&format!(
                "<path class=\"whisker\" data-runs=\"{}\" {}/>\n",
                p.runs,
                draw::whisker(x, span, stroke, opacity)
            ));
        }
        // A cell with no run sits on the x axis.
        let y = if frame.y.accepts(p.median) { frame.py(p.median) } else { BOTTOM };
        match &p.failed {
            Some(why) => out.push_str(&format!(
                "<g class=\"failed-marker\" data-verdict=\"{}\">{}{}{tip}</g>\n",
                escape(why),
                draw::shape(series.shape, (x, y), stroke, "#ffffff"),
                draw::cross((x, y))
            )),
            None => out.push_str(&format!(
                "<g class=\"marker\">{}{tip}</g>\n",
                draw::shape(series.shape, (x, y), "#ffffff", stroke)
            )),
        }
        if chart.value_labels && frame.y.accepts(p.median) {
            let label = format!("{} ops/s", axis::si(p.median));
            text(out, "value-label", (x + 10.0, y), "dy=\"0.35em\"", &label);
        }
    }
    out.push_str("</g>\n");
}

/// What a marker's tooltip says: the cell, its median, its spread, its runs and its verdict.
fn tooltip(series: &Series, p: &Point) -> String {
    let cell = if p.cell.is_empty() { &series.name } else { &p.cell };
    let verdict = p.failed.as_deref().map_or(String::new(), |why| format!("; did not pass: {why}"));
    if !p.median.is_finite() {
        return format!("{cell}: no run{verdict}");
    }
    let spread = if p.runs > 1 && p.min.is_finite() && p.max.is_finite() {
        format!(" (min {}, max {})", axis::si(p.min), axis::si(p.max))
    } else {
        String::new()
    };
    let runs = crate::words::plural(p.runs, "run");
    format!("{cell}: median {} ops/s{spread} over {runs}{verdict}", axis::si(p.median))
}
