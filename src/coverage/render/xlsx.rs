//! The coverage report as an Excel workbook: the figures (numbers as numbers, rates as
//! percentages, có/không, the header frozen), then a sheet per list (missing, to rescan, page
//! counts, register problems, unregistered). Text never starts a formula and a value longer
//! than a cell holds is cut with a note.

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::table::below;
use super::{cell_text, figure_headings, group_name, Heading, Lang};
use crate::coverage::{Counts, CoverageReport};

/// Excel's limit on a cell's text, in characters.
const CELL_LIMIT: usize = 32_767;
/// The row of the figures' headings (title, office, period, date and register above).
const HEADING_ROW: u32 = 5;

pub fn xlsx(report: &CoverageReport, heading: &Heading<'_>) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let styles = Styles {
        bold: Format::new().set_bold(),
        pct: Format::new().set_num_format("0.00%"),
        score: Format::new().set_num_format("0.00"),
    };
    figures_sheet(&mut wb, report, heading, &styles)?;
    lists(&mut wb, report, heading.lang, &styles.bold)?;
    wb.save_to_buffer()
}

struct Styles {
    bold: Format,
    pct: Format,
    score: Format,
}

/// Text as written into a cell: no formula, within Excel's limit. A longer value (a catalog
/// name pasted whole, say) is cut, ending with a note that says so and how long it was, rather
/// than failing the whole workbook.
fn cell(text: &str, lang: Lang) -> String {
    let text = cell_text(text);
    let chars = text.chars().count();
    if chars <= CELL_LIMIT {
        return text.into_owned();
    }
    let note = match lang {
        Lang::Vi => format!(" … [đã cắt: {chars} ký tự, một ô Excel chứa tối đa {CELL_LIMIT}]"),
        Lang::En => format!(" … [cut: {chars} characters, an Excel cell holds {CELL_LIMIT}]"),
    };
    let kept: String = text
        .chars()
        .take(CELL_LIMIT - note.chars().count())
        .collect();
    format!("{kept}{note}")
}

/// Title, office, period, date and register; the headings on [`HEADING_ROW`], frozen; a
/// row per group and the totals; the ledger head below.
fn figures_sheet(
    wb: &mut Workbook,
    report: &CoverageReport,
    heading: &Heading<'_>,
    styles: &Styles,
) -> Result<(), XlsxError> {
    let (lang, l) = (heading.lang, heading.labels());
    let sheet = wb.add_worksheet().set_name(l.figures_sheet)?;
    sheet.write_string_with_format(0, 0, l.title, &styles.bold)?;
    if let Some(office) = heading.office {
        sheet.write_string(1, 0, cell(&format!("{}: {office}", l.office), lang))?;
    }
    let mut period = format!(
        "{}: {}; {}: {}",
        l.period,
        lang.period(report),
        l.target,
        lang.percent(Some(report.target_percent))
    );
    if let Some(d) = heading.printed_on {
        period.push_str(&format!("; {}: {}", l.printed_on, lang.date(d)));
    }
    sheet.write_string(2, 0, period)?;
    sheet.write_string(3, 0, lang.register(report))?;
    let s41 = format!("{} 4.1", l.score);
    let s42 = format!("{} 4.2", l.score);
    let s43 = format!("{} 4.3", l.score);
    let indicators = [l.online, l.reused, l.rate, &s41, &s42, &s43];
    let headings = figure_headings(heading.by, l).into_iter().chain(indicators);
    let wrap = Format::new().set_bold().set_text_wrap();
    for (c, text) in headings.enumerate() {
        sheet.write_string_with_format(HEADING_ROW, c as u16, text, &wrap)?;
    }
    sheet.set_freeze_panes(HEADING_ROW + 1, 1)?;
    let mut row = HEADING_ROW + 1;
    for g in &report.groups {
        let name = group_name(g, heading.by);
        write_figures(
            sheet,
            row,
            (&g.key, name),
            &g.counts,
            g.below_target,
            styles,
            lang,
        )?;
        row += 1;
    }
    let totals = (l.totals, "");
    write_figures(
        sheet,
        row,
        totals,
        &report.totals,
        below(report),
        styles,
        lang,
    )?;
    let (head, check) = lang.ledger(report);
    sheet.write_string(row + 2, 0, head)?;
    if let Some(check) = check {
        sheet.write_string(row + 3, 0, check)?;
    }
    sheet.set_column_width(0, 18)?;
    sheet.set_column_width(1, 36)?;
    sheet.set_column_range_width(2, 16, 12)?;
    sheet.set_row_height(HEADING_ROW, 48)?;
    Ok(())
}

/// One row of figures: counts as numbers, rates as fractions shown as percentages, scores as
/// numbers; no cell for a figure of nothing.
fn write_figures(
    sheet: &mut Worksheet,
    row: u32,
    (key, name): (&str, &str),
    c: &Counts,
    below: bool,
    styles: &Styles,
    lang: Lang,
) -> Result<(), XlsxError> {
    sheet.write_string(row, 0, cell(key, lang))?;
    sheet.write_string(row, 1, cell(name, lang))?;
    let count = |n: u64| Some(n as f64);
    let rate = |p: Option<f64>| p.map(|p| p / 100.0);
    let figures = [
        (2, count(c.received), None),
        (3, count(c.input_digitized), None),
        (4, rate(c.input_percent), Some(&styles.pct)),
        (5, count(c.completed), None),
        (6, count(c.result_digitized), None),
        (7, rate(c.result_percent), Some(&styles.pct)),
        (8, count(c.digitized), None),
        (9, rate(c.digitized_percent), Some(&styles.pct)),
        (11, count(c.input_digital_at_filing), None),
        (12, c.reused.map(|r| r as f64), None),
        (13, rate(c.reused_percent), Some(&styles.pct)),
        (14, c.scores.results, Some(&styles.score)),
        (15, c.scores.digitization, Some(&styles.score)),
        (16, c.scores.reuse, Some(&styles.score)),
    ];
    for (col, value, format) in figures {
        match (value, format) {
            (Some(v), Some(f)) => {
                sheet.write_number_with_format(row, col, v, f)?;
            }
            (Some(v), None) => {
                sheet.write_number(row, col, v)?;
            }
            (None, _) => {}
        }
    }
    sheet.write_string(row, 10, lang.yes_no(below))?;
    Ok(())
}

/// A sheet per list, each with its heading row frozen.
fn lists(
    wb: &mut Workbook,
    report: &CoverageReport,
    lang: Lang,
    bold: &Format,
) -> Result<(), XlsxError> {
    let l = lang.labels();
    let missing: Vec<Vec<String>> = report
        .missing
        .iter()
        .map(|m| {
            vec![
                m.dossier_code.clone(),
                m.procedure_code.to_string(),
                m.unit.as_deref().unwrap_or("").to_owned(),
                lang.gap_words(&m.gaps),
            ]
        })
        .collect();
    let headings = [l.dossier, l.procedure, l.unit, l.missing_what];
    let bold = (bold, lang);
    list_sheet(wb, l.missing, &headings, &missing, bold)?;
    let rescan: Vec<Vec<String>> = report
        .needs_rescan
        .iter()
        .map(|r| {
            vec![
                r.dossier_code.clone(),
                r.document.clone(),
                lang.reason(&r.reason),
            ]
        })
        .collect();
    list_sheet(
        wb,
        l.needs_rescan,
        &[l.dossier, l.document, l.reason],
        &rescan,
        bold,
    )?;
    let pages: Vec<Vec<String>> = report
        .page_count_mismatches
        .iter()
        .map(|m| {
            vec![
                m.dossier_code.clone(),
                m.declared.to_string(),
                m.scanned.to_string(),
            ]
        })
        .collect();
    let headings = [l.dossier, l.declared, l.scanned];
    list_sheet(wb, l.page_count_mismatches, &headings, &pages, bold)?;
    let problems: Vec<Vec<String>> = report
        .register_problems
        .iter()
        .map(|p| vec![p.line.to_string(), p.reason.clone()])
        .collect();
    list_sheet(
        wb,
        l.register_problems,
        &[l.line, l.reason],
        &problems,
        bold,
    )?;
    let unregistered: Vec<Vec<String>> = report
        .unregistered
        .iter()
        .map(|u| vec![u.clone()])
        .collect();
    list_sheet(wb, l.unregistered, &[l.dossier], &unregistered, bold)
}

/// One list as a sheet: headings, then a row each; columns sized to what they hold.
fn list_sheet(
    wb: &mut Workbook,
    title: &str,
    headings: &[&str],
    rows: &[Vec<String>],
    (bold, lang): (&Format, Lang),
) -> Result<(), XlsxError> {
    let sheet = wb.add_worksheet().set_name(trim_sheet_name(title))?;
    let mut widths: Vec<usize> = headings.iter().map(|h| h.chars().count()).collect();
    for (c, text) in headings.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *text, bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    for (i, cells) in rows.iter().enumerate() {
        for (c, text) in cells.iter().enumerate() {
            let text = cell(text, lang);
            widths[c] = widths[c].max(text.chars().count());
            sheet.write_string(i as u32 + 1, c as u16, text)?;
        }
    }
    for (c, w) in widths.iter().enumerate() {
        sheet.set_column_width(c as u16, (*w).clamp(8, 80) as f64 + 2.0)?;
    }
    Ok(())
}

/// Excel limits sheet names to 31 characters.
fn trim_sheet_name(s: &str) -> String {
    s.chars().take(31).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::{GroupBy, Missing, Period};
    use calamine::Reader;

    #[test]
    fn a_value_longer_than_excel_holds_is_cut_with_a_note() {
        let long = "Đăng ký khai sinh ".repeat(2_500);
        let counts = Counts {
            received: 1,
            input_digitized: 1,
            digitized: 1,
            ..Counts::default()
        }
        .with_rates();
        let report = CoverageReport {
            period: Period {
                from: None,
                to: None,
            },
            target_percent: 99.0,
            groups: vec![crate::coverage::Group {
                key: "1.001193".into(),
                name: Some(long.clone()),
                counts: counts.clone(),
                below_target: false,
            }],
            totals: counts,
            missing: vec![Missing {
                dossier_code: "000.00.01.H50-240115-0001".into(),
                procedure_code: "1.001193".into(),
                unit: Some(long.as_str().into()),
                missing: vec!["result"],
                gaps: vec![],
            }],
            needs_rescan: vec![],
            unregistered: vec![],
            page_count_mismatches: vec![],
            register_problems: vec![],
            register: None,
            ledger_head: None,
            received_span: None,
        };
        for lang in [Lang::Vi, Lang::En] {
            let heading = Heading {
                by: GroupBy::Procedure,
                lang,
                office: None,
                printed_on: None,
            };
            let bytes = xlsx(&report, &heading).expect("the workbook is written");
            let mut wb: calamine::Xlsx<_> =
                calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
            let names = wb.sheet_names();
            let figures = wb.worksheet_range(&names[0]).unwrap();
            let cell = figures.get_value((HEADING_ROW + 1, 1)).unwrap().to_string();
            assert_eq!(cell.chars().count(), CELL_LIMIT);
            assert!(cell.starts_with("Đăng ký khai sinh Đăng ký"));
            let note_end = match lang {
                Lang::Vi => "một ô Excel chứa tối đa",
                Lang::En => "an Excel cell holds",
            };
            assert!(
                cell.ends_with(&format!("{note_end} {CELL_LIMIT}]")),
                "{cell:.40}"
            );
            assert!(cell.contains(&long.chars().count().to_string()));
            let missing = wb.worksheet_range(&names[1]).unwrap();
            let unit = missing.get_value((1, 2)).unwrap().to_string();
            assert_eq!(unit.chars().count(), CELL_LIMIT);
        }
        assert_eq!(cell("ngắn", Lang::Vi), "ngắn");
    }
}
