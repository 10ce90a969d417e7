//! The coverage report as HTML. Each section is a function writing into an [`Html`], which
//! escapes every text and attribute value.

use std::fmt::{self, Display, Write as _};

use super::{figure_headings, group_key, group_name, Lang};
use crate::coverage::{Counts, CoverageReport, GroupBy};

/// One self-contained page: no scripts, fonts or images from elsewhere; prints on A4.
pub fn html(report: &CoverageReport, by: GroupBy, lang: Lang) -> String {
    let mut h = Html::default();
    head(&mut h, report, lang);
    group_table(&mut h, report, by, lang);
    rate_charts(&mut h, report, lang);
    missing_list(&mut h, report, lang);
    rescan_list(&mut h, report, lang);
    unregistered_list(&mut h, report, lang);
    footer(&mut h, report, lang);
    h.0
}

const STYLE: &str = r#"body { font-family: "Liberation Serif", "Times New Roman", serif; margin: 2em; color: #111; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #999; padding: 0.25em 0.5em; }
th { background: #eee; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; } tr.below td.flag { color: #a00; font-weight: bold; }
.chart { margin: 0.2em 0 0.8em 0; } .legend span { margin-right: 1.5em; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; vertical-align: middle; margin-right: 0.3em; }
@media print { body { margin: 0; } h2 { page-break-after: avoid; } tr { page-break-inside: avoid; } }
"#;

/// Doctype, style, title, and the period and target under it.
fn head(h: &mut Html, report: &CoverageReport, lang: Lang) {
    let l = lang.labels();
    let lang_code = if lang == Lang::Vi { "vi" } else { "en" };
    h.markup("<!DOCTYPE html>\n")
        .open("html", &[("lang", &lang_code)])
        .open("head", &[])
        .open("meta", &[("charset", &"utf-8")])
        .element("title", &[], l.title)
        .markup("\n<style>\n")
        .markup(STYLE)
        .markup("</style></head><body>\n")
        .element("h1", &[], l.title)
        .newline()
        .element(
            "p",
            &[],
            format_args!(
                "{}: {} – {} · {}: {}",
                l.period,
                lang.date(&report.period.from),
                lang.date(&report.period.to),
                l.target,
                lang.percent(Some(report.target_percent))
            ),
        )
        .newline();
}

/// The figures: one row per group, the below-target ones flagged, and the totals.
fn group_table(h: &mut Html, report: &CoverageReport, by: GroupBy, lang: Lang) {
    let l = lang.labels();
    h.table_start(&figure_headings(by, l));
    for g in &report.groups {
        let class = if g.below_target { "below" } else { "" };
        let (key, name) = (group_key(g, l), group_name(g, by));
        group_row(h, lang, class, key, name, &g.counts, g.below_target);
    }
    group_row(h, lang, "total", l.totals, "", &report.totals, false);
    h.table_end();
}

/// One row of the figures table, of class `below`, `total` or none.
fn group_row(
    h: &mut Html,
    lang: Lang,
    class: &str,
    key: &str,
    name: &str,
    c: &Counts,
    below: bool,
) {
    let figures: [&dyn Display; 8] = [
        &c.received,
        &c.input_digitized,
        &lang.percent(c.input_percent),
        &c.completed,
        &c.result_digitized,
        &lang.percent(c.result_percent),
        &c.digitized,
        &lang.percent(c.digitized_percent),
    ];
    h.open("tr", &[("class", &class)])
        .element("td", &[], key)
        .element("td", &[], name);
    for figure in figures {
        h.element("td", &[("class", &"n")], figure);
    }
    let flag = if below { lang.labels().yes } else { "" };
    h.element("td", &[("class", &"flag")], flag)
        .close("tr")
        .newline();
}

const INPUT_COLOUR: &str = "#2b6cb0";
const RESULT_COLOUR: &str = "#38a169";
const TARGET_COLOUR: &str = "#c53030";
/// Chart geometry: group label, then the 0–100% bar.
const LABEL_WIDTH: f64 = 110.0;
const BAR_WIDTH: f64 = 420.0;

/// Bar chart: input and result rates per group against the target line (inline SVG).
fn rate_charts(h: &mut Html, report: &CoverageReport, lang: Lang) {
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

/// Dossiers not fully digitized, or "none".
fn missing_list(h: &mut Html, report: &CoverageReport, lang: Lang) {
    let l = lang.labels();
    h.element(
        "h2",
        &[],
        format_args!("{} ({})", l.missing, report.missing.len()),
    )
    .newline();
    if report.missing.is_empty() {
        h.element("p", &[], l.none).newline();
        return;
    }
    h.table_start(&[l.dossier, l.procedure, l.unit, l.missing_what]);
    for m in &report.missing {
        h.row(&[
            &m.dossier_code,
            &m.procedure_code,
            &m.unit.as_deref().unwrap_or(l.unknown),
            &lang.missing_words(&m.missing),
        ]);
    }
    h.table_end();
}

/// Documents to rescan (the heading alone when there are none).
fn rescan_list(h: &mut Html, report: &CoverageReport, lang: Lang) {
    let l = lang.labels();
    h.element(
        "h2",
        &[],
        format_args!("{} ({})", l.needs_rescan, report.needs_rescan.len()),
    )
    .newline();
    if report.needs_rescan.is_empty() {
        return;
    }
    h.table_start(&[l.dossier, l.document, l.reason]);
    for r in &report.needs_rescan {
        h.row(&[&r.dossier_code, &r.document, &lang.reason(&r.reason)]);
    }
    h.table_end();
}

/// Dossiers in the archive that the register does not list, on one line.
fn unregistered_list(h: &mut Html, report: &CoverageReport, lang: Lang) {
    let l = lang.labels();
    h.element(
        "h2",
        &[],
        format_args!("{} ({})", l.unregistered, report.unregistered.len()),
    )
    .newline();
    if !report.unregistered.is_empty() {
        h.element("p", &[], report.unregistered.join(", "))
            .newline();
    }
}

/// The ledger head the figures were read at.
fn footer(h: &mut Html, report: &CoverageReport, lang: Lang) {
    h.open("p", &[])
        .element("small", &[], lang.ledger(report))
        .close("p")
        .newline()
        .markup("</body></html>\n");
}

/// Attributes: names as written here, values escaped.
type Attrs<'a> = [(&'static str, &'a dyn Display)];

/// An HTML document being written. Markup is only ever this file's literals (`&'static str`);
/// text and attribute values are escaped.
#[derive(Default)]
struct Html(String);

impl Html {
    fn markup(&mut self, markup: &'static str) -> &mut Self {
        self.0.push_str(markup);
        self
    }

    fn newline(&mut self) -> &mut Self {
        self.markup("\n")
    }

    /// Text (or a figure), escaped.
    fn text(&mut self, text: impl Display) -> &mut Self {
        let _ = write!(Escaped(&mut self.0), "{text}");
        self
    }

    /// `<name a="v"…` without its end.
    fn tag(&mut self, name: &'static str, attrs: &Attrs) -> &mut Self {
        self.markup("<").markup(name);
        for (attr, value) in attrs {
            self.markup(" ")
                .markup(attr)
                .markup("=\"")
                .text(value)
                .markup("\"");
        }
        self
    }

    /// `<name a="v"…>`
    fn open(&mut self, name: &'static str, attrs: &Attrs) -> &mut Self {
        self.tag(name, attrs).markup(">")
    }

    /// `<name a="v"…/>`, an SVG shape.
    fn empty(&mut self, name: &'static str, attrs: &Attrs) -> &mut Self {
        self.tag(name, attrs).markup("/>")
    }

    fn close(&mut self, name: &'static str) -> &mut Self {
        self.markup("</").markup(name).markup(">")
    }

    /// `<name a="v"…>text</name>`
    fn element(&mut self, name: &'static str, attrs: &Attrs, text: impl Display) -> &mut Self {
        self.open(name, attrs).text(text).close(name)
    }

    /// A table and its heading row, up to its body.
    fn table_start(&mut self, headings: &[&str]) -> &mut Self {
        self.open("table", &[]).open("thead", &[]).open("tr", &[]);
        for heading in headings {
            self.element("th", &[], heading);
        }
        self.close("tr").close("thead").open("tbody", &[]).newline()
    }

    /// A body row of plain cells.
    fn row(&mut self, cells: &[&dyn Display]) -> &mut Self {
        self.open("tr", &[]);
        for cell in cells {
            self.element("td", &[], cell);
        }
        self.close("tr").newline()
    }

    fn table_end(&mut self) -> &mut Self {
        self.close("tbody").close("table").newline()
    }
}

/// Writes through HTML escaping: `&`, `<`, `>`, `"` and `'` become entities.
struct Escaped<'a>(&'a mut String);

impl fmt::Write for Escaped<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            match c {
                '&' => self.0.push_str("&amp;"),
                '<' => self.0.push_str("&lt;"),
                '>' => self.0.push_str("&gt;"),
                '"' => self.0.push_str("&quot;"),
                '\'' => self.0.push_str("&#39;"),
                c => self.0.push(c),
            }
        }
        Ok(())
    }
}
