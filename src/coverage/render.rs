//! The coverage report in each format: `json` (SPEC.md's shape, byte-stable), `csv`, and the
//! human-facing `table`, `html` and `xlsx`, in Vietnamese (default) or English.

mod html;
mod xlsx;

use std::fmt::Write as _;

use unicode_width::UnicodeWidthStr;

use super::{Counts, CoverageReport, Group, GroupBy};
use crate::date::Date;

pub use html::html;
pub use xlsx::xlsx;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Vi,
    En,
}

/// Headings in the words of provincial digitization tables ("Theo dõi mức độ số hóa").
pub(crate) struct Labels {
    pub title: &'static str,
    pub procedure: &'static str,
    pub unit: &'static str,
    pub name: &'static str,
    pub received: &'static str,
    pub input_digitized: &'static str,
    pub completed: &'static str,
    pub result_digitized: &'static str,
    pub digitized: &'static str,
    pub rate: &'static str,
    pub below_target: &'static str,
    pub totals: &'static str,
    pub period: &'static str,
    pub target: &'static str,
    pub missing: &'static str,
    pub missing_what: &'static str,
    pub input: &'static str,
    pub result: &'static str,
    pub needs_rescan: &'static str,
    pub document: &'static str,
    pub reason: &'static str,
    pub unregistered: &'static str,
    pub dossier: &'static str,
    pub none: &'static str,
    pub unknown: &'static str,
    pub figures_sheet: &'static str,
    pub yes: &'static str,
    pub ledger: &'static str,
}

pub(crate) const VI: Labels = Labels {
    title: "Theo dõi mức độ số hóa hồ sơ (QĐ 766/QĐ-TTg, chỉ tiêu 4.2)",
    procedure: "Mã TTHC",
    unit: "Đơn vị",
    name: "Tên thủ tục",
    received: "Tiếp nhận",
    input_digitized: "Đã số hóa thành phần hồ sơ",
    completed: "Đã giải quyết",
    result_digitized: "Đã số hóa kết quả",
    digitized: "Đã số hóa hồ sơ",
    rate: "Tỷ lệ",
    below_target: "Dưới mục tiêu",
    totals: "Tổng cộng",
    period: "Kỳ báo cáo",
    target: "Mục tiêu",
    missing: "Hồ sơ chưa số hóa",
    missing_what: "Còn thiếu",
    input: "thành phần hồ sơ",
    result: "kết quả",
    needs_rescan: "Tài liệu cần quét lại",
    document: "Tài liệu",
    reason: "Lý do",
    unregistered: "Hồ sơ không có trong sổ tiếp nhận",
    dossier: "Mã hồ sơ",
    none: "không có",
    unknown: "(không rõ)",
    figures_sheet: "Số liệu",
    yes: "có",
    ledger: "Sổ ghi vết (đầu chuỗi)",
};

pub(crate) const EN: Labels = Labels {
    title: "Dossier digitization coverage (Decision 766/QĐ-TTg, indicator 4.2)",
    procedure: "Procedure",
    unit: "Unit",
    name: "Name",
    received: "Received",
    input_digitized: "Input digitized",
    completed: "Completed",
    result_digitized: "Result digitized",
    digitized: "Digitized",
    rate: "Rate",
    below_target: "Below target",
    totals: "Totals",
    period: "Period",
    target: "Target",
    missing: "Dossiers not fully digitized",
    missing_what: "Missing",
    input: "input",
    result: "result",
    needs_rescan: "Documents to rescan",
    document: "Document",
    reason: "Reason",
    unregistered: "Dossiers not in the register",
    dossier: "Dossier",
    none: "none",
    unknown: "(unknown)",
    figures_sheet: "Figures",
    yes: "yes",
    ledger: "Ledger head",
};

impl Lang {
    pub(crate) fn labels(self) -> &'static Labels {
        match self {
            Lang::Vi => &VI,
            Lang::En => &EN,
        }
    }

    /// `58,8%` in Vietnamese, `58.8%` in English; two decimals as computed.
    pub(crate) fn percent(self, p: Option<f64>) -> String {
        match p {
            None => "—".to_owned(),
            Some(p) => {
                let s = format!("{p:.2}%");
                match self {
                    Lang::Vi => s.replace('.', ","),
                    Lang::En => s,
                }
            }
        }
    }

    pub(crate) fn date(self, iso: &Option<String>) -> String {
        match iso.as_deref().and_then(Date::parse) {
            Some(d) if self == Lang::Vi => d.vn(),
            Some(d) => d.iso(),
            None => "…".to_owned(),
        }
    }

    /// A quality or rejection reason in the report's language. Reasons are stored in English
    /// (the run report's words); the Vietnamese report translates the known phrases.
    pub(crate) fn reason(self, reason: &str) -> String {
        if self == Lang::En {
            return reason.to_owned();
        }
        const PHRASES: &[(&str, &str)] = &[
            ("blank page", "trang trắng"),
            (
                " (estimated from the pixel size as A4)",
                " (ước tính theo kích thước ảnh, khổ A4)",
            ),
            ("below ", "dưới "),
            ("page ", "trang "),
            ("cannot decode ", "không đọc được "),
            (
                "unsupported file type (not JPEG, PNG, TIFF or PDF)",
                "định dạng tệp không được hỗ trợ (không phải JPEG, PNG, TIFF hay PDF)",
            ),
            (
                "PDF input is not readable yet (archived as it came; waiting for PDF support)",
                "chưa đọc được tệp PDF (đã lưu nguyên bản; chờ hỗ trợ PDF)",
            ),
            ("empty file", "tệp rỗng"),
            ("OCR failed", "nhận dạng chữ thất bại"),
        ];
        PHRASES
            .iter()
            .fold(reason.to_owned(), |text, (en, vi)| text.replace(en, vi))
    }

    fn ledger(self, report: &CoverageReport) -> String {
        let l = self.labels();
        match &report.ledger_head {
            Some(h) => format!("{}: #{} {}", l.ledger, h.seq, h.hash),
            None => format!("{}: {}", l.ledger, l.none),
        }
    }

    fn missing_words(self, missing: &[&str]) -> String {
        let l = self.labels();
        missing
            .iter()
            .map(|m| if *m == "input" { l.input } else { l.result })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// SPEC.md's JSON: stable key order and no clock readings, so equal inputs give equal bytes.
pub fn json_to(report: &CoverageReport, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, report)?;
    w.write_all(b"\n")
}

/// The heading of the group column.
fn key_heading(by: GroupBy, l: &Labels) -> &'static str {
    match by {
        GroupBy::Procedure => l.procedure,
        GroupBy::Unit => l.unit,
    }
}

/// The figures' column headings.
fn figure_headings(by: GroupBy, l: &Labels) -> [&'static str; 11] {
    [
        key_heading(by, l),
        l.name,
        l.received,
        l.input_digitized,
        l.rate,
        l.completed,
        l.result_digitized,
        l.rate,
        l.digitized,
        l.rate,
        l.below_target,
    ]
}

/// A group's key as shown: "(unknown)" for dossiers without one (the workbook leaves it empty).
fn group_key<'a>(g: &'a Group, l: &'static Labels) -> &'a str {
    if g.key.is_empty() {
        l.unknown
    } else {
        &g.key
    }
}

/// A procedure's name; units have none.
fn group_name(g: &Group, by: GroupBy) -> &str {
    if by == GroupBy::Unit {
        ""
    } else {
        g.name.as_deref().unwrap_or("")
    }
}

/// One row per group and a totals row; JSON's key names as the header.
pub fn csv(report: &CoverageReport) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "key",
        "name",
        "received",
        "input_digitized",
        "input_percent",
        "completed",
        "result_digitized",
        "result_percent",
        "digitized",
        "digitized_percent",
        "below_target",
    ]);
    let pct = |p: Option<f64>| p.map(|p| format!("{p:.2}")).unwrap_or_default();
    let mut row = |key: &str, name: &str, c: &Counts, below: &str| {
        let _ = w.write_record([
            key.to_owned(),
            name.to_owned(),
            c.received.to_string(),
            c.input_digitized.to_string(),
            pct(c.input_percent),
            c.completed.to_string(),
            c.result_digitized.to_string(),
            pct(c.result_percent),
            c.digitized.to_string(),
            pct(c.digitized_percent),
            below.to_owned(),
        ]);
    };
    for g in &report.groups {
        row(
            &g.key,
            g.name.as_deref().unwrap_or(""),
            &g.counts,
            if g.below_target { "true" } else { "false" },
        );
    }
    row("TOTAL", "", &report.totals, "");
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Aligned columns for a terminal, widths measured as displayed (Vietnamese letters with
/// diacritics are one column each, however they are encoded).
pub fn table(report: &CoverageReport, by: GroupBy, lang: Lang) -> String {
    let l = lang.labels();
    let mut out = String::new();
    let _ = writeln!(out, "{}", l.title);
    let _ = writeln!(
        out,
        "{}: {} – {}   {}: {}\n",
        l.period,
        lang.date(&report.period.from),
        lang.date(&report.period.to),
        l.target,
        lang.percent(Some(report.target_percent))
    );
    write_aligned(&mut out, &table_cells(report, by, lang));
    write_lists(&mut out, report, lang);
    out
}

/// The figures as text: the heading row, one row per group, the totals.
fn table_cells(report: &CoverageReport, by: GroupBy, lang: Lang) -> Vec<Vec<String>> {
    let l = lang.labels();
    let line = |key: &str, name: &str, c: &Counts, below: bool| {
        vec![
            key.to_owned(),
            name.to_owned(),
            c.received.to_string(),
            c.input_digitized.to_string(),
            lang.percent(c.input_percent),
            c.completed.to_string(),
            c.result_digitized.to_string(),
            lang.percent(c.result_percent),
            c.digitized.to_string(),
            lang.percent(c.digitized_percent),
            if below {
                l.yes.to_owned()
            } else {
                String::new()
            },
        ]
    };
    let mut rows = vec![figure_headings(by, l).map(str::to_owned).to_vec()];
    for g in &report.groups {
        rows.push(line(
            group_key(g, l),
            group_name(g, by),
            &g.counts,
            g.below_target,
        ));
    }
    rows.push(line(l.totals, "", &report.totals, false));
    rows
}

/// Text columns (and the heading row) left-aligned, figures right-aligned, two spaces apart.
fn write_aligned(out: &mut String, rows: &[Vec<String>]) {
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].width()).max().unwrap_or(0))
        .collect();
    for (n, r) in rows.iter().enumerate() {
        let mut text = String::new();
        for (i, cell) in r.iter().enumerate() {
            let pad = widths[i] - cell.width();
            if i < 2 || n == 0 {
                text.push_str(cell);
                text.push_str(&" ".repeat(pad));
            } else {
                text.push_str(&" ".repeat(pad));
                text.push_str(cell);
            }
            text.push_str("  ");
        }
        let _ = writeln!(out, "{}", text.trim_end());
    }
}

/// Missing dossiers, documents to rescan, unregistered dossiers, and the ledger head.
fn write_lists(out: &mut String, report: &CoverageReport, lang: Lang) {
    let l = lang.labels();
    let _ = writeln!(out, "\n{} ({})", l.missing, report.missing.len());
    for m in &report.missing {
        let _ = writeln!(
            out,
            "  {}  {}  {}  {}: {}",
            m.dossier_code,
            m.procedure_code,
            m.unit.as_deref().unwrap_or(l.unknown),
            l.missing_what,
            lang.missing_words(&m.missing)
        );
    }
    let _ = writeln!(out, "\n{} ({})", l.needs_rescan, report.needs_rescan.len());
    for r in &report.needs_rescan {
        let _ = writeln!(
            out,
            "  {}  {}: {}",
            r.dossier_code,
            r.document,
            lang.reason(&r.reason)
        );
    }
    let _ = writeln!(out, "\n{} ({})", l.unregistered, report.unregistered.len());
    for u in &report.unregistered {
        let _ = writeln!(out, "  {u}");
    }
    let _ = writeln!(out, "\n{}", lang.ledger(report));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::{Group, Missing, Period};

    fn report() -> CoverageReport {
        let counts = Counts {
            received: 3,
            input_digitized: 2,
            input_percent: Some(66.67),
            completed: 2,
            result_digitized: 1,
            result_percent: Some(50.0),
            digitized: 1,
            digitized_percent: Some(33.33),
        };
        CoverageReport {
            period: Period {
                from: Some("2024-01-01".into()),
                to: Some("2024-12-31".into()),
            },
            target_percent: 99.0,
            groups: vec![Group {
                key: "1.001193".into(),
                name: Some("Đăng ký khai sinh <b>".into()),
                counts: counts.clone(),
                below_target: true,
            }],
            totals: counts,
            missing: vec![Missing {
                dossier_code: "000.00.01.H50-240115-0001".into(),
                procedure_code: "1.001193".into(),
                unit: Some("Phường 1".into()),
                missing: vec!["input", "result"],
            }],
            needs_rescan: vec![],
            unregistered: vec![],
            ledger_head: None,
        }
    }

    #[test]
    fn table_speaks_vietnamese_and_aligns_by_display_width() {
        let t = table(&report(), GroupBy::Procedure, Lang::Vi);
        assert!(
            t.contains("Tiếp nhận")
                && t.contains("Đã số hóa thành phần hồ sơ")
                && t.contains("Đã giải quyết")
        );
        assert!(t.contains("66,67%") && t.contains("01/01/2024"));
        let en = table(&report(), GroupBy::Procedure, Lang::En);
        assert!(en.contains("Received") && en.contains("66.67%") && en.contains("2024-01-01"));

        // Unit names whose byte lengths differ from their display widths.
        let mut r = report();
        let mut second = r.groups[0].clone();
        r.groups[0].key = "Phường Đông Lễ".into();
        second.key = "Xa Hai".into();
        second.counts.received = 7;
        r.groups.push(second);
        let t = table(&r, GroupBy::Unit, Lang::Vi);
        let figure_column = |line: &str| {
            let at = line.find(|c: char| c.is_ascii_digit()).unwrap();
            line[..at].width()
        };
        let rows: Vec<&str> = t
            .lines()
            .filter(|l| l.starts_with("Phường Đông Lễ") || l.starts_with("Xa Hai"))
            .collect();
        assert_eq!(rows.len(), 2, "{t}");
        assert_eq!(figure_column(rows[0]), figure_column(rows[1]), "{t}");
    }

    #[test]
    fn html_escapes_and_is_self_contained() {
        let h = html(&report(), GroupBy::Procedure, Lang::Vi);
        assert!(h.contains("Đăng ký khai sinh &lt;b&gt;"));
        assert!(!h.contains("<script") && !h.contains("https://") && !h.contains("<link"));
        assert_eq!(
            h.matches("http://").count(),
            h.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
        );
        assert!(h.contains("<svg"));
        assert!(h.contains("thành phần hồ sơ, kết quả"));
    }

    #[test]
    fn reasons_speak_the_report_language() {
        let r = "page 2: blank page; page 3: below 200 dpi: 150 dpi (estimated from the pixel size as A4)";
        assert_eq!(
            Lang::Vi.reason(r),
            "trang 2: trang trắng; trang 3: dưới 200 dpi: 150 dpi (ước tính theo kích thước ảnh, khổ A4)"
        );
        assert_eq!(Lang::En.reason(r), r);
    }

    #[test]
    fn csv_uses_json_keys_and_dot_decimals() {
        let c = csv(&report());
        let mut lines = c.lines();
        assert!(lines
            .next()
            .unwrap()
            .starts_with("key,name,received,input_digitized,input_percent"));
        assert_eq!(
            lines.next().unwrap(),
            "1.001193,Đăng ký khai sinh <b>,3,2,66.67,2,1,50.00,1,33.33,true"
        );
        assert!(lines.next().unwrap().starts_with("TOTAL,"));
    }
}
