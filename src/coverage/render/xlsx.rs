//! The coverage report as an Excel workbook.
//!
//! Excel holds at most 32,767 characters in a cell: a longer value (a catalog name pasted
//! whole, say) is cut, ending with a note that says so and how long it was, rather than
//! failing the whole report.

use std::borrow::Cow;

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::{figure_headings, group_name, Lang};
use crate::coverage::{Counts, CoverageReport, GroupBy};

/// A workbook: the figures (numbers as numbers, rates as percentages) and the missing list.
pub fn xlsx(report: &CoverageReport, by: GroupBy, lang: Lang) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let pct = Format::new().set_num_format("0.00%");
    figures_sheet(&mut wb, report, by, lang, &bold, &pct)?;
    missing_sheet(&mut wb, report, lang, &bold)?;
    wb.save_to_buffer()
}

/// Title, period and target, the headings on row 4, then a row per group and the totals.
fn figures_sheet(
    wb: &mut Workbook,
    report: &CoverageReport,
    by: GroupBy,
    lang: Lang,
    bold: &Format,
    pct: &Format,
) -> Result<(), XlsxError> {
    let l = lang.labels();
    let sheet = wb.add_worksheet().set_name(l.figures_sheet)?;
    sheet.write_string_with_format(0, 0, l.title, bold)?;
    sheet.write_string(
        1,
        0,
        format!(
            "{}: {} – {}; {}: {}",
            l.period,
            lang.date(&report.period.from),
            lang.date(&report.period.to),
            l.target,
            lang.percent(Some(report.target_percent))
        ),
    )?;
    for (c, text) in figure_headings(by, l).iter().enumerate() {
        sheet.write_string_with_format(3, c as u16, *text, bold)?;
    }
    let mut row = 4u32;
    for g in &report.groups {
        let name = group_name(g, by);
        let figures = FigureRow::new(&g.key, name, &g.counts, Some(g.below_target));
        figures.write(sheet, row, pct, lang)?;
        row += 1;
    }
    FigureRow::new(l.totals, "", &report.totals, None).write(sheet, row, pct, lang)?;
    sheet.write_string(row + 2, 0, lang.ledger(report))?;
    sheet.set_column_width(0, 16)?;
    sheet.set_column_width(1, 40)?;
    Ok(())
}

/// One row of the figures sheet; the totals have no below-target cell.
struct FigureRow<'a> {
    key: &'a str,
    name: &'a str,
    counts: &'a Counts,
    below: Option<bool>,
}

impl<'a> FigureRow<'a> {
    fn new(key: &'a str, name: &'a str, counts: &'a Counts, below: Option<bool>) -> Self {
        FigureRow {
            key,
            name,
            counts,
            below,
        }
    }

    /// Counts as numbers, rates as fractions shown as percentages, no cell for a rate of
    /// nothing.
    fn write(
        &self,
        sheet: &mut Worksheet,
        row: u32,
        pct: &Format,
        lang: Lang,
    ) -> Result<(), XlsxError> {
        let c = self.counts;
        sheet.write_string(row, 0, fit(self.key, lang))?;
        sheet.write_string(row, 1, fit(self.name, lang))?;
        let figures = [
            (2, Some(c.received as f64), false),
            (3, Some(c.input_digitized as f64), false),
            (4, c.input_percent.map(|p| p / 100.0), true),
            (5, Some(c.completed as f64), false),
            (6, Some(c.result_digitized as f64), false),
            (7, c.result_percent.map(|p| p / 100.0), true),
            (8, Some(c.digitized as f64), false),
            (9, c.digitized_percent.map(|p| p / 100.0), true),
        ];
        for (col, value, is_pct) in figures {
            match (value, is_pct) {
                (Some(v), true) => {
                    sheet.write_number_with_format(row, col, v, pct)?;
                }
                (Some(v), false) => {
                    sheet.write_number(row, col, v)?;
                }
                (None, _) => {}
            }
        }
        if let Some(b) = self.below {
            sheet.write_boolean(row, 10, b)?;
        }
        Ok(())
    }
}

/// One row per dossier not fully digitized, and what it lacks.
fn missing_sheet(
    wb: &mut Workbook,
    report: &CoverageReport,
    lang: Lang,
    bold: &Format,
) -> Result<(), XlsxError> {
    let l = lang.labels();
    let missing = wb.add_worksheet().set_name(trim_sheet_name(l.missing))?;
    for (c, text) in [l.dossier, l.procedure, l.unit, l.missing_what]
        .iter()
        .enumerate()
    {
        missing.write_string_with_format(0, c as u16, *text, bold)?;
    }
    for (i, m) in report.missing.iter().enumerate() {
        let r = i as u32 + 1;
        missing.write_string(r, 0, fit(&m.dossier_code, lang))?;
        missing.write_string(r, 1, fit(&m.procedure_code, lang))?;
        missing.write_string(r, 2, fit(m.unit.as_deref().unwrap_or(""), lang))?;
        missing.write_string(r, 3, lang.missing_words(&m.missing))?;
    }
    missing.set_column_width(0, 28)?;
    Ok(())
}

/// Excel's limit on the characters of one cell.
const MAX_CELL_CHARS: usize = 32_767;

/// `text`, or when Excel cannot hold it, its beginning and a note giving its full length.
fn fit(text: &str, lang: Lang) -> Cow<'_, str> {
    let chars = text.chars().count();
    if chars <= MAX_CELL_CHARS {
        return Cow::Borrowed(text);
    }
    let note = match lang {
        Lang::Vi => format!(" … [đã cắt: {chars} ký tự, một ô Excel chứa tối đa {MAX_CELL_CHARS}]"),
        Lang::En => format!(" … [cut: {chars} characters, an Excel cell holds {MAX_CELL_CHARS}]"),
    };
    let keep = MAX_CELL_CHARS - note.chars().count();
    Cow::Owned(text.chars().take(keep).collect::<String>() + &note)
}

/// Excel limits sheet names to 31 characters.
fn trim_sheet_name(s: &str) -> String {
    s.chars().take(31).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::{Group, Missing, Period};
    use calamine::Reader;

    #[test]
    fn a_value_longer_than_excel_holds_is_cut_with_a_note() {
        let long = "Đăng ký khai sinh ".repeat(2_500);
        let counts = Counts {
            received: 1,
            input_digitized: 1,
            input_percent: Some(100.0),
            completed: 0,
            result_digitized: 0,
            result_percent: None,
            digitized: 1,
            digitized_percent: Some(100.0),
        };
        let report = CoverageReport {
            period: Period {
                from: None,
                to: None,
            },
            target_percent: 99.0,
            groups: vec![Group {
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
            }],
            needs_rescan: vec![],
            unregistered: vec![],
            ledger_head: None,
        };
        for lang in [Lang::Vi, Lang::En] {
            let bytes = xlsx(&report, GroupBy::Procedure, lang).expect("the workbook is written");
            let mut wb: calamine::Xlsx<_> =
                calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
            let names = wb.sheet_names();
            let figures = wb.worksheet_range(&names[0]).unwrap();
            let cell = figures.get_value((4, 1)).unwrap().to_string();
            assert_eq!(cell.chars().count(), MAX_CELL_CHARS);
            assert!(cell.starts_with("Đăng ký khai sinh Đăng ký"));
            assert!(
                cell.ends_with(&format!(
                    "{} {MAX_CELL_CHARS}]",
                    match lang {
                        Lang::Vi => "một ô Excel chứa tối đa",
                        Lang::En => "an Excel cell holds",
                    }
                )),
                "{}",
                &cell[cell.len() - 120..]
            );
            assert!(cell.contains(&long.chars().count().to_string()));
            let missing = wb.worksheet_range(&names[1]).unwrap();
            let unit = missing.get_value((1, 2)).unwrap().to_string();
            assert_eq!(unit.chars().count(), MAX_CELL_CHARS);
        }
        assert_eq!(fit("ngắn", Lang::Vi), "ngắn");
    }
}
