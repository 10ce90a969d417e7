//! The coverage report as an Excel workbook.

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
        figures.write(sheet, row, pct)?;
        row += 1;
    }
    FigureRow::new(l.totals, "", &report.totals, None).write(sheet, row, pct)?;
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
    fn write(&self, sheet: &mut Worksheet, row: u32, pct: &Format) -> Result<(), XlsxError> {
        let c = self.counts;
        sheet.write_string(row, 0, self.key)?;
        sheet.write_string(row, 1, self.name)?;
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
        missing.write_string(r, 0, &m.dossier_code)?;
        missing.write_string(r, 1, &*m.procedure_code)?;
        missing.write_string(r, 2, m.unit.as_deref().unwrap_or(""))?;
        missing.write_string(r, 3, lang.missing_words(&m.missing))?;
    }
    missing.set_column_width(0, 28)?;
    Ok(())
}

/// Excel limits sheet names to 31 characters.
fn trim_sheet_name(s: &str) -> String {
    s.chars().take(31).collect()
}
