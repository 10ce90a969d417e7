//! The coverage report as one self-contained HTML page that prints on A4: the heading (office,
//! period, printing date, register), the figures and indicators, the charts, the ledger head
//! and how to check it, a signature block, then the lists in an appendix on their own pages.
//! Each section is a function writing into an [`Html`], which escapes every value.

mod chart;
mod markup;

use std::fmt::Display;

use super::table::below;
use super::{figure_headings, group_key, group_name, key_heading, Heading, Lang};
use crate::coverage::{Counts, CoverageReport};
use markup::Html;

pub fn html(report: &CoverageReport, heading: &Heading<'_>) -> String {
    let mut h = Html::default();
    head(&mut h, report, heading);
    group_table(&mut h, report, heading);
    indicator_table(&mut h, report, heading);
    chart::rate_charts(&mut h, report, heading.lang);
    ledger_and_signatures(&mut h, report, heading.lang);
    appendix(&mut h, report, heading.lang);
    h.markup("</body></html>\n");
    h.0
}

/// A4 pages with their number at the bottom, table headings repeated on each page, codes kept
/// on one line, the appendix from a new page.
const STYLE: &str = r#"body { font-family: "Liberation Serif", "Times New Roman", serif; margin: 2em; color: #111; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #999; padding: 0.25em 0.5em; }
th { background: #eee; } td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.code { white-space: nowrap; }
tr.total td { font-weight: bold; } td.flag { color: #a00; font-weight: bold; }
.chart { margin: 0.2em 0 0.8em 0; } .legend span { margin-right: 1.5em; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; vertical-align: middle; margin-right: 0.3em; }
.meta { margin: 0.2em 0; } .hash { font-family: "Liberation Mono", monospace; font-size: 0.85em; word-break: break-all; }
.closing { break-inside: avoid; page-break-inside: avoid; }
.signatures { display: flex; justify-content: space-around; margin-top: 2em; text-align: center; }
.signatures div { min-height: 7em; } .signatures small { display: block; font-style: italic; }
.appendix { page-break-before: always; }
@page { size: A4; margin: 15mm 12mm 18mm 12mm;
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 9pt; } }
@media print { body { margin: 0; font-size: 10.5pt; } h2 { page-break-after: avoid; }
  tr { page-break-inside: avoid; } thead { display: table-header-group; } }
"#;

/// Doctype, style, title, and under it the office, period, target, date and register.
fn head(h: &mut Html, report: &CoverageReport, heading: &Heading<'_>) {
    let (lang, l) = (heading.lang, heading.labels());
    let lang_code = if lang == Lang::Vi { "vi" } else { "en" };
    h.markup("<!DOCTYPE html>\n")
        .open("html", &[("lang", &lang_code)])
        .open("head", &[])
        .open("meta", &[("charset", &"utf-8")])
        .element("title", &[], l.title)
        .markup("\n<style>\n")
        .markup(STYLE)
        .markup("</style></head><body>\n");
    if let Some(office) = heading.office {
        h.element("p", &[("class", &"meta")], office).newline();
    }
    h.element("h1", &[], l.title).newline();
    let mut meta = |text: &dyn Display| {
        h.element("p", &[("class", &"meta")], text).newline();
    };
    meta(&format_args!(
        "{}: {} · {}: {}",
        l.period,
        lang.period(report),
        l.target,
        lang.percent(Some(report.target_percent))
    ));
    if let Some(d) = heading.printed_on {
        meta(&format_args!("{}: {}", l.printed_on, lang.date(d)));
    }
    register(h, report, lang);
}

/// The register the figures rest on: its words in the text's font, its hash in monospace.
fn register(h: &mut Html, report: &CoverageReport, lang: Lang) {
    let l = lang.labels();
    h.open("p", &[("class", &"meta")]);
    match &report.register {
        None => {
            h.text(format_args!("{}: {}", l.register, l.register_none));
        }
        Some(r) => {
            h.text(format_args!("{}: sha256 ", l.register))
                .element("span", &[("class", &"hash")], &r.sha256)
                .text(format_args!(", {} {}", r.rows, l.register_rows));
            if let Some(at) = &r.imported_at {
                h.text(format_args!(", {} {at}", l.imported_at));
            }
        }
    }
    h.close("p").newline();
}

/// The figures: one row per group, the below-target ones flagged, and the totals.
fn group_table(h: &mut Html, report: &CoverageReport, heading: &Heading<'_>) {
    let l = heading.labels();
    h.table_start(&figure_headings(heading.by, l));
    for g in &report.groups {
        let (key, name) = (group_key(g, l), group_name(g, heading.by));
        group_row(h, heading.lang, "", key, name, &g.counts, g.below_target);
    }
    let total_below = below(report);
    group_row(
        h,
        heading.lang,
        "total",
        l.totals,
        "",
        &report.totals,
        total_below,
    );
    h.table_end();
}

/// One row of the figures table, of class `total` or none.
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
        .element("td", &[("class", &"code")], key)
        .element("td", &[], name);
    for figure in figures {
        h.element("td", &[("class", &"n")], figure);
    }
    let flag = if below { lang.labels().yes } else { "" };
    h.element("td", &[("class", &"flag")], flag)
        .close("tr")
        .newline();
}

/// Decision 766's other figures: online filing, reuse, and the scores of 4.1, 4.2 and 4.3.
fn indicator_table(h: &mut Html, report: &CoverageReport, heading: &Heading<'_>) {
    let (lang, l) = (heading.lang, heading.labels());
    h.element("h2", &[], l.indicators).newline();
    let s41 = format!("{} 4.1", l.score);
    let s42 = format!("{} 4.2", l.score);
    let s43 = format!("{} 4.3", l.score);
    h.table_start(&[
        key_heading(heading.by, l),
        l.online,
        l.reused,
        l.rate,
        &s41,
        &s42,
        &s43,
    ]);
    let score = |p: Option<f64>| p.map(|p| lang.decimal(p)).unwrap_or_else(|| "—".into());
    let mut row = |class: &str, key: &str, c: &Counts| {
        let reused = c
            .reused
            .map(|r| r.to_string())
            .unwrap_or_else(|| "—".into());
        let figures: [&dyn Display; 6] = [
            &c.input_digital_at_filing,
            &reused,
            &lang.percent(c.reused_percent),
            &score(c.scores.results),
            &score(c.scores.digitization),
            &score(c.scores.reuse),
        ];
        h.open("tr", &[("class", &class)])
            .element("td", &[("class", &"code")], key);
        for figure in figures {
            h.element("td", &[("class", &"n")], figure);
        }
        h.close("tr").newline();
    };
    for g in &report.groups {
        row("", group_key(g, l), &g.counts);
    }
    row("total", l.totals, &report.totals);
    h.table_end();
}

/// The ledger head the figures were read at, how to check it later, and where the one who
/// prepared the table and the head of the unit sign: one block that a printed page never
/// splits, so that the signatures stay with the figures' ledger head.
fn ledger_and_signatures(h: &mut Html, report: &CoverageReport, lang: Lang) {
    let l = lang.labels();
    h.open("div", &[("class", &"closing")]);
    h.open("p", &[("class", &"meta")])
        .text(format_args!("{}: ", l.ledger));
    match &report.ledger_head {
        Some(head) => h.element("span", &[("class", &"hash")], head),
        None => h.text(l.none),
    };
    h.close("p").newline();
    if let Some(check) = lang.ledger(report).1 {
        // The command between backticks, as code.
        h.open("p", &[("class", &"meta")]).open("small", &[]);
        for (i, part) in check.split('`').enumerate() {
            if i % 2 == 1 {
                h.element("code", &[("class", &"hash")], part);
            } else {
                h.text(part);
            }
        }
        h.close("small").close("p").newline();
    }
    h.open("div", &[("class", &"signatures")]);
    for who in [l.prepared_by, l.head_of_unit] {
        h.open("div", &[])
            .element("strong", &[], who)
            .element("small", &[], l.sign_hint)
            .close("div");
    }
    h.close("div").close("div").newline();
}

/// The lists, from a new page: missing, to rescan, page counts, register problems, unregistered.
fn appendix(h: &mut Html, report: &CoverageReport, lang: Lang) {
    let l = lang.labels();
    h.open("section", &[("class", &"appendix")])
        .element("h2", &[], l.appendix)
        .newline();
    list(h, l.missing, report.missing.len(), lang);
    if !report.missing.is_empty() {
        h.table_start(&[l.dossier, l.procedure, l.unit, l.missing_what]);
        for m in &report.missing {
            h.row(&[
                &m.dossier_code,
                &m.procedure_code,
                &m.unit.as_deref().unwrap_or(l.unknown),
                &lang.gap_words(&m.gaps),
            ]);
        }
        h.table_end();
    }
    list(h, l.needs_rescan, report.needs_rescan.len(), lang);
    if !report.needs_rescan.is_empty() {
        h.table_start(&[l.dossier, l.document, l.reason]);
        for r in &report.needs_rescan {
            h.row(&[&r.dossier_code, &r.document, &lang.reason(&r.reason)]);
        }
        h.table_end();
    }
    let mismatches = &report.page_count_mismatches;
    list(h, l.page_count_mismatches, mismatches.len(), lang);
    if !mismatches.is_empty() {
        h.table_start(&[l.dossier, l.declared, l.scanned]);
        for m in mismatches {
            h.row(&[&m.dossier_code, &m.declared, &m.scanned]);
        }
        h.table_end();
    }
    let problems = &report.register_problems;
    list(h, l.register_problems, problems.len(), lang);
    if !problems.is_empty() {
        h.table_start(&[l.line, l.reason]);
        for p in problems {
            h.row(&[&p.line, &p.reason]);
        }
        h.table_end();
    }
    list(h, l.unregistered, report.unregistered.len(), lang);
    if !report.unregistered.is_empty() {
        h.element("p", &[], report.unregistered.join(", "))
            .newline();
    }
    h.close("section").newline();
}

/// A list's heading with its length, and "none" under it when it is empty.
fn list(h: &mut Html, title: &str, len: usize, lang: Lang) {
    h.element("h2", &[], format_args!("{title} ({len})"))
        .newline();
    if len == 0 {
        h.element("p", &[], lang.labels().none).newline();
    }
}
