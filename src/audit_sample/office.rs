//! The audit report for people, as the coverage report gives its figures
//! (`coverage::render`): `html`, one self-contained page (no scripts, fonts or images from
//! elsewhere) that prints on A4, and `xlsx`, a workbook of one sheet (the figures, numbers as
//! numbers, then one row per verdict under a frozen heading). Vietnamese by default, English on
//! request. Auditors' notes are text from people: escaped in HTML, never a formula in a cell.

use std::fmt::Write as _;

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::AuditReport;
use crate::coverage::render::{cell_text, Lang};

/// The words of both formats, per language.
struct Words {
    title: &'static str,
    period: &'static str,
    checked: &'static str,
    confirmed: &'static str,
    not_confirmed: &'static str,
    error_rate: &'static str,
    wilson: &'static str,
    ledger: &'static str,
    none: &'static str,
    columns: [&'static str; 6],
}

fn words(lang: Lang) -> Words {
    match lang {
        Lang::Vi => Words {
            title: "Kiểm tra chất lượng số hóa bằng chọn mẫu",
            period: "Kỳ",
            checked: "Số hồ sơ đã kiểm tra",
            confirmed: "Xác nhận đạt",
            not_confirmed: "Không đạt",
            error_rate: "Tỷ lệ lỗi quan sát",
            wilson: "Khoảng tin cậy 95% (Wilson)",
            ledger: "Sổ ghi vết (đầu chuỗi)",
            none: "không có",
            columns: [
                "Mã hồ sơ",
                "Kết luận",
                "Người kiểm tra",
                "Thời điểm",
                "Ghi chú",
                "Mục sổ ghi vết",
            ],
        },
        Lang::En => Words {
            title: "Audit by sampling",
            period: "Period",
            checked: "Dossiers checked",
            confirmed: "Confirmed",
            not_confirmed: "Not confirmed",
            error_rate: "Observed error rate",
            wilson: "95% interval (Wilson)",
            ledger: "Ledger head",
            none: "none",
            columns: [
                "Dossier",
                "Verdict",
                "Auditor",
                "At",
                "Note",
                "Ledger entry",
            ],
        },
    }
}

fn percent(p: Option<f64>, lang: Lang) -> Option<String> {
    p.map(|p| format!("{}%", lang.decimal(p)))
}

fn verdict_word(v: &str, lang: Lang) -> &str {
    match (lang, v) {
        (Lang::Vi, "confirmed") => "đạt",
        (Lang::Vi, "not-confirmed") => "không đạt",
        (_, v) => v,
    }
}

/// The figures as (label, text) lines, shared by both formats.
fn summary(r: &AuditReport, lang: Lang) -> Vec<(&'static str, String)> {
    let w = words(lang);
    let period = format!(
        "{} – {}",
        r.period.from.as_deref().unwrap_or("…"),
        r.period.to.as_deref().unwrap_or("…")
    );
    let interval = r.wilson_95.map(|[lo, hi]| {
        format!(
            "{} – {}",
            percent(Some(lo), lang).unwrap_or_default(),
            percent(Some(hi), lang).unwrap_or_default()
        )
    });
    let ledger = r.ledger_head.as_ref().map(|h| h.to_string());
    vec![
        (w.period, period),
        (w.checked, r.checked.to_string()),
        (w.confirmed, r.confirmed.to_string()),
        (w.not_confirmed, r.not_confirmed.to_string()),
        (
            w.error_rate,
            percent(r.error_percent, lang).unwrap_or_else(|| "-".into()),
        ),
        (w.wilson, interval.unwrap_or_else(|| "-".into())),
        (w.ledger, ledger.unwrap_or_else(|| w.none.into())),
    ]
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// One self-contained HTML page.
pub fn html(r: &AuditReport, lang: Lang) -> String {
    let w = words(lang);
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>@page{{size:A4;margin:15mm}}body{{font-family:serif;font-size:11pt}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #444;padding:2px 6px}}\
         thead{{display:table-header-group}}td.n{{text-align:right}}\
         .code{{white-space:nowrap}}</style></head><body>\n<h1>{}</h1>\n<table class=\"figures\">\n",
        match lang {
            Lang::Vi => "vi",
            Lang::En => "en",
        },
        w.title,
        w.title
    );
    for (label, value) in summary(r, lang) {
        let _ = writeln!(h, "<tr><th>{label}</th><td>{}</td></tr>", escape(&value));
    }
    h.push_str("</table>\n<table class=\"verdicts\"><thead><tr>");
    for c in w.columns {
        let _ = write!(h, "<th>{c}</th>");
    }
    h.push_str("</tr></thead><tbody>\n");
    for v in &r.verdicts {
        let _ = writeln!(
            h,
            "<tr><td class=\"code\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            escape(&v.dossier_code),
            escape(verdict_word(&v.verdict, lang)),
            escape(&v.auditor),
            escape(&v.at),
            escape(&v.note),
            v.seq
        );
    }
    h.push_str("</tbody></table>\n</body></html>\n");
    h
}

/// A workbook of one sheet: the figures, then one row per verdict.
pub fn xlsx(r: &AuditReport, lang: Lang) -> Result<Vec<u8>, XlsxError> {
    let w = words(lang);
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let pct = Format::new().set_num_format("0.00%");
    let sheet = wb.add_worksheet();
    sheet.set_name(match lang {
        Lang::Vi => "Kiểm tra mẫu",
        Lang::En => "Audit",
    })?;
    sheet.write_string_with_format(0, 0, w.title, &bold)?;
    let lines = summary(r, lang);
    for (i, (label, text)) in lines.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write_string_with_format(row, 0, *label, &bold)?;
        // Counts and the rate as numbers; the rest as text.
        match i {
            1 => sheet.write_number(row, 1, r.checked as f64)?,
            2 => sheet.write_number(row, 1, r.confirmed as f64)?,
            3 => sheet.write_number(row, 1, r.not_confirmed as f64)?,
            4 if r.error_percent.is_some() => sheet.write_number_with_format(
                row,
                1,
                r.error_percent.unwrap_or_default() / 100.0,
                &pct,
            )?,
            _ => sheet.write_string(row, 1, cell_text(text))?,
        };
    }
    let head = lines.len() as u32 + 2;
    for (c, name) in w.columns.iter().enumerate() {
        sheet.write_string_with_format(head, c as u16, *name, &bold)?;
    }
    sheet.set_freeze_panes(head + 1, 0)?;
    for (i, v) in r.verdicts.iter().enumerate() {
        let row = head + 1 + i as u32;
        sheet.write_string(row, 0, cell_text(&v.dossier_code))?;
        sheet.write_string(row, 1, cell_text(verdict_word(&v.verdict, lang)))?;
        sheet.write_string(row, 2, cell_text(&v.auditor))?;
        sheet.write_string(row, 3, cell_text(&v.at))?;
        sheet.write_string(row, 4, cell_text(&v.note))?;
        sheet.write_number(row, 5, v.seq as f64)?;
    }
    sheet.set_column_width(0, 30)?;
    sheet.set_column_width(4, 40)?;
    wb.save_to_buffer()
}
