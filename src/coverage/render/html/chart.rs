//! Bar charts of the input and result rates per group against the target (inline SVG).

use std::fmt::Display;

use super::markup::Html;
use crate::coverage::render::{group_key, Lang};
use crate::coverage::{Counts, CoverageReport};

const INPUT_COLOUR: &str = "#2b6cb0";
const RESULT_COLOUR: &str = "#38a169";
const TARGET_COLOUR: &str = "#c53030";
/// Chart geometry: group label, then the 0–100% bar.
const LABEL_WIDTH: f64 = 110.0;
const BAR_WIDTH: f64 = 420.0;

/// Bar chart: input and result rates per group against the target line (inline SVG).
pub(super) fn rate_charts(h: &mut Html, report: &CoverageReport, lang: Lang) {
    let l = lang.labels();
    let target = lang.percent(Some(report.target_percent));
    h.element("h2", &[], l.rate)
        .newline()
        .open("p", &[("class", &"legend")]);
    legend(h, INPUT_COLOUR, l.input_digitized);
    legend(h, RESULT_COLOUR, l.result_digitized);
    legend(h, TARGET_COLOUR, format_args!("{} {target}", l.target));
    h.close("p").newline();
    for g in &report.groups {
        rate_chart(h, group_key(g, l), &g.counts, report.target_percent, lang);
    }
}

fn legend(h: &mut Html, colour: &str, label: impl Display) {
    let swatch = format!("background:{colour}");
    h.open("span", &[])
        .open("i", &[("class", &"swatch"), ("style", &swatch)])
        .close("i")
        .text(label)
        .close("span");
}

/// One group's chart: its two bars and the target line.
fn rate_chart(h: &mut Html, key: &str, c: &Counts, target_percent: f64, lang: Lang) {
    let target_x = format!("{:.1}", LABEL_WIDTH + target_percent / 100.0 * BAR_WIDTH);
    h.open(
        "svg",
        &[
            ("class", &"chart"),
            ("role", &"img"),
            ("aria-label", &key),
            ("width", &(LABEL_WIDTH + BAR_WIDTH + 60.0)),
            ("height", &34),
            ("xmlns", &"http://www.w3.org/2000/svg"),
        ],
    )
    .element("text", &[("x", &0), ("y", &20), ("font-size", &12)], key)
    .empty(
        "rect",
        &[
            ("x", &LABEL_WIDTH),
            ("y", &2),
            ("width", &BAR_WIDTH),
            ("height", &30),
            ("fill", &"#f4f4f4"),
        ],
    );
    bar(h, 3.0, c.input_percent, INPUT_COLOUR, lang);
    bar(h, 18.0, c.result_percent, RESULT_COLOUR, lang);
    h.empty(
        "line",
        &[
            ("x1", &target_x),
            ("x2", &target_x),
            ("y1", &0),
            ("y2", &34),
            ("stroke", &TARGET_COLOUR),
            ("stroke-width", &2),
        ],
    )
    .close("svg")
    .open("br", &[])
    .newline();
}

/// A rate as a bar `y` from the top, its figure just after its end.
fn bar(h: &mut Html, y: f64, percent: Option<f64>, colour: &str, lang: Lang) {
    let w = percent.unwrap_or(0.0) / 100.0 * BAR_WIDTH;
    h.empty(
        "rect",
        &[
            ("x", &LABEL_WIDTH),
            ("y", &y),
            ("width", &format!("{w:.1}")),
            ("height", &12),
            ("fill", &colour),
        ],
    )
    .element(
        "text",
        &[
            ("x", &format!("{:.1}", LABEL_WIDTH + w + 4.0)),
            ("y", &format!("{:.1}", y + 10.0)),
            ("font-size", &11),
        ],
        lang.percent(percent),
    );
}
