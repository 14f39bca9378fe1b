use super::axis::si;
use super::*;
use roxmltree::{Document, Node};

fn chart(categories: Option<&[&str]>, series: &[(&str, &[(f64, f64)])]) -> Chart {
    Chart {
        title: "increment: mutex vs atomic".to_string(),
        x_label: "workers".to_string(),
        y_label: "operations per second".to_string(),
        x_categories: categories.map(|c| c.iter().map(|s| s.to_string()).collect()),
        series: series
            .iter()
            .enumerate()
            .map(|(i, (n, p))| Series {
                name: n.to_string(),
                colour: i,
                shape: 0,
                points: p.iter().map(|&(x, y)| Point::at(x, y)).collect(),
            })
            .collect(),
        ..Chart::default()
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
    let mutex: &[(f64, f64)] = &[(1.0, 3e6), (2.0, 2e6), (3.0, 1e6)];
    let c = chart(None, &[("mutex", mutex), ("atomic", &[(1.0, 5e6), (2.0, f64::NAN), (3.0, 4e6)])]);
    parsed(&c, |svg| {
        let lines = class(svg, "series");
        assert_eq!(lines.iter().map(|n| n.attribute("data-series").unwrap()).collect::<Vec<_>>(), ["mutex", "atomic"]);
        assert_eq!(lines[1].attribute("points").unwrap().split(' ').count(), 2, "the missing y is skipped");
        let legend = class(svg, "legend")[0];
        assert_eq!(class(legend, "legend-entry").len(), 2);
        assert_eq!(texts(legend, "legend-name"), ["mutex", "atomic"]);
        assert_eq!(class(svg, "axis x").len() + class(svg, "axis y").len(), 2);
        assert_eq!(texts(svg, "title"), ["increment: mutex vs atomic"]);
        assert_eq!(texts(svg, "axis-title x"), ["workers"]);
        assert_eq!(texts(svg, "axis-title y"), ["operations per second"]);
        assert_eq!(texts(class(svg, "ticks x")[0], "tick"), ["1", "1.5", "2", "2.5", "3"]);
        assert_eq!(texts(class(svg, "ticks y")[0], "tick"), ["0", "1M", "2M", "3M", "4M", "5M"]);
        // One run per cell: no bar, and no key to bars.
        assert!(class(svg, "whisker").is_empty() && class(svg, "legend-key whisker-key").is_empty());
    });
}

#[test]
fn categorical_series_are_side_by_side_and_never_joined() {
    let c =
        chart(Some(&["i", "d", "c"]), &[("mutex", &[(0.0, 3e6), (1.0, 2e6), (2.0, 1e6)]), ("atomic", &[(0.0, 5e6)])]);
    parsed(&c, |svg| {
        assert!(class(svg, "series").is_empty(), "no polyline joins categories");
        assert_eq!(svg.descendants().filter(|n| n.has_tag_name("polyline")).count(), 0);
        let groups = class(svg, "series-points");
        assert_eq!(groups.len(), 2);
        let cx = |g: Node<'_, '_>| -> f64 {
            g.descendants().find(|n| n.has_tag_name("circle")).unwrap().attribute("cx").unwrap().parse().unwrap()
        };
        // In the first category, mutex left of atomic, apart.
        assert!(cx(groups[1]) - cx(groups[0]) >= 8.0);
        assert_eq!(texts(class(svg, "ticks x")[0], "tick"), ["i", "d", "c"]);
    });
}

#[test]
fn whiskers_bounds_and_failed_cells_are_drawn_as_such() {
    let mut c = chart(None, &[("mutex", &[(50.0, 1e7), (200.0, 4e6), (1000.0, 9e5)])]);
    c.series[0].points[0] = Point { min: 8e6, max: 1.2e7, runs: 5, ..Point::at(50.0, 1e7) };
    c.series[0].points[2].failed = Some("lost_updates".to_string());
    c.bounds.push(Bound {
        name: "bound: 1/inside".into(),
        label: "1/inside bound".into(),
        points: vec![(50.0, 2e7), (1000.0, 1e6)],
    });
    parsed(&c, |svg| {
        let whiskers = class(svg, "whisker");
        assert_eq!(whiskers.len(), 1);
        assert_eq!(whiskers[0].attribute("data-runs"), Some("5"));
        assert!(texts(svg, "legend-name").join(" ").contains("min to max of 5 runs"));
        let bound = class(svg, "bound-line");
        assert!(!bound.is_empty() && bound.iter().all(|b| b.attribute("stroke-dasharray").is_some()));
        assert_eq!(texts(svg, "bound-label"), ["1/inside bound"]);
        let failed = class(svg, "failed-marker");
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].attribute("data-verdict"), Some("lost_updates"));
        assert_eq!(class(svg, "legend-key failed-key").len(), 1);
        // The line joins the two passing cells only.
        assert_eq!(class(svg, "series")[0].attribute("points").unwrap().split(' ').count(), 2);
    });
}

#[test]
fn scales_are_logarithmic_for_values_that_span_decades_and_linear_from_zero_otherwise() {
    let points: Vec<(f64, f64)> = (0..11).map(|i| (f64::from(1 << i), 1e3 * 10f64.powi(i % 8))).collect();
    parsed(&chart(None, &[("none", &points)]), |svg| {
        assert_eq!(texts(svg, "axis-title y"), ["operations per second (log scale)"]);
        assert_eq!(texts(svg, "axis-title x"), ["workers (log scale)"]);
        assert_eq!(texts(class(svg, "ticks y")[0], "tick"), ["1k", "10k", "100k", "1M", "10M", "100M", "1G", "10G"]);
        let x = ["1", "2", "4", "8", "16", "32", "64", "128", "256", "512", "1024"];
        assert_eq!(texts(class(svg, "ticks x")[0], "tick"), x);
    });
    parsed(&chart(None, &[("mutex", &[(1.0, 1.0), (2.0, 2.5), (3.0, 5.0)])]), |svg| {
        assert_eq!(texts(svg, "axis-title y"), ["operations per second"]);
        assert_eq!(texts(svg, "axis-title x"), ["workers"]);
        assert_eq!(texts(class(svg, "ticks y")[0], "tick"), ["0", "1", "2", "3", "4", "5"]);
    });
    // 1, 2, 4, 8 workers: even steps on a log scale; 1, 2, 3, 4: on a linear one.
    assert!(axis::logarithmic(&[1.0, 2.0, 4.0, 8.0]));
    assert!(!axis::logarithmic(&[1.0, 2.0, 3.0, 4.0]));
    assert!(!axis::logarithmic(&[1.0, 2.0]));
    assert!(axis::logarithmic(&[1.0, 64.0, 1022.0]));
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
    c.caption = vec!["job: <a&b>.yaml".to_string()];
    parsed(&c, |svg| {
        assert_eq!(class(svg, "series")[0].attribute("data-series"), Some("a<b & \"c\""));
        assert_eq!(texts(svg, "title"), ["<script> & 'x'"]);
        assert_eq!(texts(svg, "caption-line"), ["job: <a&b>.yaml"]);
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
            assert_eq!(class(svg, "series-points").len(), c.series.len());
            assert_eq!(class(svg, "legend-entry").len(), c.series.len());
        });
        let mut failed = c.clone();
        for s in &mut failed.series {
            for p in &mut s.points {
                (p.runs, p.min, p.max, p.failed) = (3, f64::NAN, p.median * 2.0, Some("failed".into()));
            }
        }
        parsed(&failed, |_| {});
    }
}

#[test]
fn numbers_are_labelled_in_si_style() {
    let labels: Vec<String> = [0.0, 1e3, 2.5e6, 1e10, 12.5, 0.5, 999.0, -4e3].into_iter().map(si).collect();
    assert_eq!(labels, ["0", "1k", "2.5M", "10G", "12.5", "0.5", "999", "-4k"]);
}
