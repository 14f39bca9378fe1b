//! `--plot FILE.svg` read back as XML: min-max bars for cells with several runs and a caption
//! that says so and names the job and the machine; a categorical axis never joined by lines;
//! the lock's bound dashed and labelled; cells that did not pass crossed out, with a legend
//! entry; a single run's one-cell chart; a file named for another format refused before
//! anything runs.

mod common;

use common::{Test, runner};
use roxmltree::{Document, Node};

fn temp(name: &str) -> String {
    std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name).to_string_lossy().into_owned()
}

/// Runs runner with `--plot` into a file of its own and returns the SVG's text.
fn plot(name: &str, args: &[&str], code: i32) -> String {
    let svg = temp(name);
    let _ = std::fs::remove_file(&svg);
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["-q", "--plot", &svg]);
    Test::new().args(&all).status(code).run();
    std::fs::read_to_string(&svg).unwrap()
}

fn class<'a>(doc: &'a Document<'a>, class: &str) -> Vec<Node<'a, 'a>> {
    doc.descendants().filter(|n| n.attribute("class") == Some(class)).collect()
}

fn texts(doc: &Document<'_>, of: &str) -> Vec<String> {
    class(doc, of).iter().map(|n| n.text().unwrap_or_default().to_string()).collect()
}

#[test]
fn a_sweep_with_repeats_has_a_bar_per_cell_and_a_caption_naming_the_job_and_the_machine() {
    let text = plot("repeats.svg", &["jobs/backends-by-workers.yaml", "--iterations", "2000", "--repeat", "3"], 0);
    let doc = Document::parse(&text).expect("well-formed XML");
    let whiskers = class(&doc, "whisker");
    assert_eq!(whiskers.len(), 24, "one bar per cell");
    assert!(whiskers.iter().all(|w| w.attribute("data-runs") == Some("3")));
    // Workers are a number: each series' cells joined by a line.
    assert_eq!(class(&doc, "series").len(), 6);
    assert_eq!(texts(&doc, "axis-title x"), ["workers (log scale)"]);
    let caption = texts(&doc, "caption-line").join("\n");
    assert!(caption.contains("point: median of 3 runs per cell; bar: the slowest to the fastest run"), "{caption}");
    assert!(caption.contains("jobs/backends-by-workers.yaml (backends-by-workers), sha256 "), "{caption}");
    assert!(caption.contains(&format!("runner {}", env!("CARGO_PKG_VERSION"))), "{caption}");
    assert!(caption.contains("machine: ") && caption.contains("CPU"), "{caption}");
    assert!(caption.contains("started 20"), "{caption}");
    let legend = texts(&doc, "legend-name").join(" ");
    assert!(legend.contains("point: median; bar: min to max of 3 runs"), "{legend}");
}

#[test]
fn a_categorical_axis_is_not_joined_and_cells_that_did_not_pass_are_crossed_out() {
    let job = "description: worker 0 exits early\nworkers: 2\niterations: 1000\nvalue: {type: i}\noperation: add\n\
               backend: mutex\nrepeat: 2\nfaults:\n  - {worker: 0, at: 10, action: exit}\n\
               matrix:\n  backend: [mutex, atomic]\n  value.type: [i, d]\n";
    let svg = temp("failed.svg");
    Test::new().job("failed.yaml", job).args(&["{job}", "-q", "--plot", &svg]).status(3).run();
    let text = std::fs::read_to_string(&svg).unwrap();
    let doc = Document::parse(&text).expect("well-formed XML");
    assert_eq!(doc.descendants().filter(|n| n.has_tag_name("polyline")).count(), 0, "{text}");
    assert_eq!(texts(&doc, "axis-title x"), ["value.type"]);
    assert_eq!(class(&doc, "series-points").len(), 2);
    let failed = class(&doc, "failed-marker");
    assert_eq!(failed.len(), 4);
    assert!(failed.iter().all(|f| f.attribute("data-verdict") == Some("worker_failed")), "{text}");
    assert!(class(&doc, "marker").is_empty(), "no cell passed: none looks like good data");
    assert_eq!(class(&doc, "legend-key failed-key").len(), 1);
    assert!(texts(&doc, "legend-name").join(" ").contains("did not pass"));
}

#[test]
fn the_lock_bound_is_dashed_and_labelled_as_a_bound() {
    let text = plot("bound.svg", &["jobs/critical-section.yaml", "--iterations", "200", "--repeat", "2"], 0);
    let doc = Document::parse(&text).expect("well-formed XML");
    let lines = class(&doc, "bound-line");
    assert_eq!(lines.len(), 3, "one dash between each two of 4 inside lengths");
    assert!(lines.iter().all(|l| l.attribute("stroke-dasharray").is_some()));
    assert_eq!(texts(&doc, "bound-label"), ["1/inside bound"]);
    assert!(texts(&doc, "legend-name").join(" ").contains("bound, not measured"));
    // Measured lines are solid.
    assert!(class(&doc, "series").iter().all(|l| l.attribute("stroke-dasharray").is_none()));
}

#[test]
fn a_single_run_is_a_chart_of_one_cell_that_says_it_has_no_uncertainty() {
    let text = plot("single.svg", &["jobs/increment.yaml"], 0);
    let doc = Document::parse(&text).expect("well-formed XML");
    assert_eq!(texts(&doc, "tick").iter().filter(|t| *t == "increment").count(), 1);
    assert_eq!(texts(&doc, "axis-title x"), ["job"]);
    assert!(class(&doc, "whisker").is_empty());
    assert_eq!(class(&doc, "value-label").len(), 1);
    let caption = texts(&doc, "caption-line").join("\n");
    assert!(caption.contains("one cell, one run: no uncertainty shown"), "{caption}");
    let text = plot("single-repeated.svg", &["jobs/increment.yaml", "--repeat", "3"], 0);
    let doc = Document::parse(&text).expect("well-formed XML");
    assert_eq!(class(&doc, "whisker").len(), 1);
    assert!(texts(&doc, "caption-line").join("\n").contains("one cell, point: median of 3 runs; bar:"));
}

#[test]
fn a_plot_named_for_another_format_is_refused_before_anything_runs() {
    let png = temp("refused.png");
    let _ = std::fs::remove_file(&png);
    let message = format!(
        "error: --plot {png}: runner draws SVG only, not .png: name the file .svg (for a PNG, convert it: rsvg-convert FILE.svg -o FILE.png)\n"
    );
    // Refused before the job file is read: a missing one is not what is said.
    Test::new().args(&["no-such-job.yaml", "--plot", &png]).status(2).stdout("").stderr(message.clone()).run();
    Test::new().args(&["jobs/increment.yaml", "--plot", &png]).status(2).stdout("").stderr(message).run();
    assert!(!std::path::Path::new(&png).exists());
    let out = runner(&["jobs/increment.yaml", "--format", "json", "--plot", "x.PNG"]);
    assert_eq!(out.code, 2);
    assert!(out.json()["error"].as_str().unwrap().contains("runner draws SVG only, not .PNG"), "{}", out.stdout);
    // Any case of .svg, and a name without an extension, are drawn.
    for name in ["upper.SVG", "no-extension"] {
        let text = plot(name, &["jobs/increment.yaml"], 0);
        Document::parse(&text).expect("well-formed XML");
    }
}
