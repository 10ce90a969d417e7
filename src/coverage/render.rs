//! The coverage report in each format: `json` (SPEC.md's shape, byte-stable), `csv` (machine
//! columns, or Excel's Vietnamese with `--lang vi`), and the human-facing `table`, `html` and
//! `xlsx`, in Vietnamese (default) or English.
//!
//! Human-facing formats also say who made the report and when ([`Heading`]), the period even
//! when none was asked (the first and last received dates counted), the register they rest on,
//! its unreadable rows, and how to check the ledger head later. Text from the register or the
//! catalog never starts a spreadsheet formula ([`cell_text`]) and never brings control
//! characters to a terminal ([`printable`]).

mod csv;
mod html;
mod labels;
mod table;
mod xlsx;

use std::borrow::Cow;

use super::{CoverageReport, Gap, Group, GroupBy};
use crate::date::Date;

pub use self::csv::csv;
pub use html::html;
pub(crate) use labels::Labels;
pub use table::table;
pub use xlsx::xlsx;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Vi,
    En,
}

/// How a human-facing report is laid out and what it says beside the figures.
#[derive(Debug, Clone, Copy)]
pub struct Heading<'a> {
    pub by: GroupBy,
    pub lang: Lang,
    /// The office the figures are for (`[report] office`).
    pub office: Option<&'a str>,
    /// The date of printing (`SOURCE_DATE_EPOCH` fixes it, for reproducible reports).
    pub printed_on: Option<Date>,
}

impl Heading<'_> {
    pub(crate) fn labels(&self) -> &'static Labels {
        self.lang.labels()
    }
}

impl Lang {
    pub(crate) fn labels(self) -> &'static Labels {
        match self {
            Lang::Vi => &labels::VI,
            Lang::En => &labels::EN,
        }
    }

    /// `58,80%` in Vietnamese, `58.80%` in English; two decimals as computed.
    pub(crate) fn percent(self, p: Option<f64>) -> String {
        match p {
            None => "—".to_owned(),
            Some(p) => format!("{}%", self.decimal(p)),
        }
    }

    /// A figure with two decimals, with the language's decimal mark.
    pub(crate) fn decimal(self, p: f64) -> String {
        let s = format!("{p:.2}");
        match self {
            Lang::Vi => s.replace('.', ","),
            Lang::En => s,
        }
    }

    pub(crate) fn date(self, d: Date) -> String {
        match self {
            Lang::Vi => d.vn(),
            Lang::En => d.iso(),
        }
    }

    pub(crate) fn yes_no(self, b: bool) -> &'static str {
        if b {
            self.labels().yes
        } else {
            self.labels().no
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
            ("empty file", "tệp rỗng"),
            ("OCR failed", "nhận dạng chữ thất bại"),
        ];
        PHRASES
            .iter()
            .fold(reason.to_owned(), |text, (en, vi)| text.replace(en, vi))
    }

    /// What is missing, why and since when: "input: never scanned, since 2024-01-15".
    fn gap_words(self, gaps: &[Gap]) -> String {
        let l = self.labels();
        let (never, failing, since) = match self {
            Lang::Vi => ("chưa quét", "đã quét nhưng không đạt", "từ"),
            Lang::En => ("never scanned", "scanned but failing", "since"),
        };
        gaps.iter()
            .map(|g| {
                let what = if g.what == "input" { l.input } else { l.result };
                let why = match &g.failing {
                    Some(reason) => format!("{failing} ({})", self.reason(reason)),
                    None => never.to_owned(),
                };
                match g.since.as_deref().and_then(Date::parse) {
                    Some(d) => format!("{what}: {why}, {since} {}", self.date(d)),
                    None => format!("{what}: {why}"),
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The period: the bounds asked for, else the first and last received dates counted.
    pub(crate) fn period(self, report: &CoverageReport) -> String {
        let asked = |iso: &Option<String>| iso.as_deref().and_then(Date::parse);
        let span = report.received_span;
        let from = asked(&report.period.from).or(span.map(|s| s.0));
        let to = asked(&report.period.to).or(span.map(|s| s.1));
        let shown = |d: Option<Date>| d.map(|d| self.date(d)).unwrap_or_else(|| "…".into());
        format!("{} – {}", shown(from), shown(to))
    }

    /// The ledger head and, on a second line, how to check it later.
    pub(crate) fn ledger(self, report: &CoverageReport) -> (String, Option<String>) {
        let l = self.labels();
        match &report.ledger_head {
            Some(h) => (
                format!("{}: {h}", l.ledger),
                Some(
                    l.ledger_check
                        .replace("{seq}", &h.seq.to_string())
                        .replace("{hash}", &h.hash),
                ),
            ),
            None => (format!("{}: {}", l.ledger, l.none), None),
        }
    }

    /// The register the figures rest on, in one line.
    pub(crate) fn register(self, report: &CoverageReport) -> String {
        let l = self.labels();
        match &report.register {
            None => format!("{}: {}", l.register, l.register_none),
            Some(r) => {
                let mut s = format!(
                    "{}: sha256 {}, {} {}",
                    l.register, r.sha256, r.rows, l.register_rows
                );
                if let Some(at) = &r.imported_at {
                    s.push_str(&format!(", {} {at}", l.imported_at));
                }
                s
            }
        }
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
        GroupBy::Month => l.month,
    }
}

/// The figures' column headings, as every human-facing format lays them out.
pub(crate) fn figure_headings(by: GroupBy, l: &Labels) -> [&'static str; 11] {
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

/// A procedure's name; units and months have none of their own.
fn group_name(g: &Group, by: GroupBy) -> &str {
    if by == GroupBy::Procedure {
        g.name.as_deref().unwrap_or("")
    } else {
        ""
    }
}

/// Text as a terminal should show it: control characters and bidirectional overrides (which
/// could rewrite what an auditor sees) become U+FFFD.
pub(crate) fn printable(s: &str) -> Cow<'_, str> {
    let unsafe_char =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if s.chars().any(unsafe_char) {
        Cow::Owned(
            s.chars()
                .map(|c| match c {
                    // Whitespace that offices' exports carry (tabs, line breaks in a cell).
                    '\t' | '\n' | '\r' => ' ',
                    c if unsafe_char(c) => '\u{fffd}',
                    c => c,
                })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

/// A spreadsheet cell's text that no spreadsheet takes for a formula: text starting with
/// `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading apostrophe (OWASP's advice).
pub(crate) fn cell_text(s: &str) -> Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use unicode_width::UnicodeWidthStr;

    use super::*;
    use crate::coverage::{Counts, Group, Missing, PageCountMismatch, Period, RegisterUsed};
    use crate::register::Problem;

    fn heading(by: GroupBy, lang: Lang) -> Heading<'static> {
        Heading {
            by,
            lang,
            office: Some("UBND phường 1"),
            printed_on: Date::parse("2026-12-02"),
        }
    }

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
            input_digital_at_filing: 1,
            reused: None,
            reused_percent: None,
            scores: Default::default(),
        }
        .with_rates();
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
                gaps: vec![
                    Gap {
                        what: "input",
                        scanned: true,
                        failing: Some("page 1: below 200 dpi".into()),
                        since: Some("2024-01-15".into()),
                    },
                    Gap {
                        what: "result",
                        scanned: false,
                        failing: None,
                        since: None,
                    },
                ],
            }],
            needs_rescan: vec![],
            unregistered: vec![],
            page_count_mismatches: vec![PageCountMismatch {
                dossier_code: "000.00.01.H50-240115-0001".into(),
                declared: 4,
                scanned: 3,
            }],
            register_problems: vec![Problem {
                line: 7,
                reason: "dossier X: received_on is not a date".into(),
            }],
            register: Some(RegisterUsed {
                sha256: "ab".repeat(32),
                imported_at: Some("2024-01-16T01:02:03Z".into()),
                rows: 3,
            }),
            ledger_head: None,
            received_span: None,
        }
    }

    #[test]
    fn table_speaks_vietnamese_and_aligns_by_display_width() {
        let t = table(&report(), &heading(GroupBy::Procedure, Lang::Vi));
        assert!(t.contains("TN = Tiếp nhận") && t.contains("SHTP = Đã số hóa thành phần hồ sơ"));
        assert!(t.contains("GQ = Đã giải quyết"));
        assert!(t.contains("66,67%") && t.contains("01/01/2024"));
        let en = table(&report(), &heading(GroupBy::Procedure, Lang::En));
        assert!(
            en.contains("Rec = Received") && en.contains("66.67%") && en.contains("2024-01-01")
        );

        // Unit names whose byte lengths differ from their display widths.
        let mut r = report();
        let mut second = r.groups[0].clone();
        r.groups[0].key = "Phường Đông Lễ".into();
        second.key = "Xa Hai".into();
        second.counts.received = 7;
        r.groups.push(second);
        let t = table(&r, &heading(GroupBy::Unit, Lang::Vi));
        let figure_column = |line: &str| {
            let at = line.find(|c: char| c.is_ascii_digit()).unwrap();
            line[..at].width()
        };
        let rows: Vec<&str> = t
            .lines()
            .filter(|l| l.starts_with("Phường Đông Lễ") || l.starts_with("Xa Hai"))
            .collect();
        assert_eq!(rows.len(), 4, "both tables: {t}");
        assert_eq!(figure_column(rows[0]), figure_column(rows[1]), "{t}");
    }

    #[test]
    fn table_fits_100_columns_flags_the_totals_and_prints_no_control_characters() {
        let mut r = report();
        r.groups[0].key = format!("Phường {}\u{1b}[31m\u{202e}", "Đông Lễ ".repeat(20));
        r.groups[0].name = Some("Tên\u{7}".into());
        r.groups[0].counts.received = 1_234_567;
        let t = table(&r, &heading(GroupBy::Procedure, Lang::Vi));
        let tables: Vec<&str> = t
            .lines()
            .filter(|l| l.starts_with("Phường") || l.starts_with("Tổng cộng"))
            .collect();
        assert_eq!(tables.len(), 4, "{t}");
        for line in &tables {
            assert!(line.width() <= 100, "{} columns: {line}", line.width());
        }
        assert!(
            tables[1].ends_with('!'),
            "the totals are below target: {}",
            tables[1]
        );
        assert!(!t.chars().any(|c| c.is_control() && c != '\n'), "{t:?}");
        assert!(!t.contains('\u{202e}'));
        assert!(t.contains("UBND phường 1") && t.contains("02/12/2026"));
        assert!(t.contains("Dòng 7: dossier X: received_on is not a date"));
        assert!(t.contains("Số trang nộp: 4  Số trang đã quét: 3"));
    }

    /// Every line within 100 columns, the lists and notes too: long lines wrap at spaces with
    /// a hanging indent and lose no word; the verify command pastes as one shell command.
    #[test]
    fn every_line_of_the_table_fits_100_columns() {
        let mut r = report();
        r.ledger_head = Some(crate::index::audit::LedgerHead {
            seq: 12_345,
            hash: "cd".repeat(32),
        });
        r.register_problems[0].reason = "a reason long enough to need a second line ".repeat(4);
        // A name without a space in 150 columns, and an office export's tab.
        r.groups[0].name = Some(format!("{}\tcuối", "Tên".repeat(50)));
        for lang in [Lang::Vi, Lang::En] {
            let t = table(&r, &heading(GroupBy::Procedure, lang));
            for line in t.lines() {
                assert!(line.width() <= 100, "{} columns: {line}", line.width());
            }
            assert!(
                t.contains(&"Tên".repeat(30)) && t.contains("Tên cuối"),
                "{t}"
            );
            assert!(!t.contains('\u{fffd}'), "a tab prints as a space: {t}");
            assert!(
                t.contains("\n  000.00.01.H50-240115-0001  1.001193  "),
                "the spacing of a wrapped line stays: {t}"
            );
            let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                words(&t).contains(r.register_problems[0].reason.trim_end()),
                "{t}"
            );
            let command: Vec<&str> = t
                .lines()
                .skip_while(|l| !l.trim_start().starts_with("dossier verify"))
                .take(2)
                .collect();
            assert!(command[0].ends_with(" \\"), "{t}");
            assert_eq!(
                command[1].trim(),
                format!("--since 12345:{}", "cd".repeat(32)),
                "{t}"
            );
        }
    }

    #[test]
    fn html_escapes_and_is_self_contained() {
        let h = html(&report(), &heading(GroupBy::Procedure, Lang::Vi));
        assert!(h.contains("Đăng ký khai sinh &lt;b&gt;"));
        assert!(!h.contains("<script") && !h.contains("https://") && !h.contains("<link"));
        assert_eq!(
            h.matches("http://").count(),
            h.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
        );
        assert!(h.contains("<svg"));
        assert!(h.contains(
            "thành phần hồ sơ: đã quét nhưng không đạt (trang 1: dưới 200 dpi), từ 15/01/2024; kết quả: chưa quét"
        ));
    }

    #[test]
    fn html_prints_on_a4_with_signatures_and_the_lists_in_an_appendix() {
        let h = html(&report(), &heading(GroupBy::Procedure, Lang::Vi));
        assert!(h.contains("size: A4") && h.contains("counter(page)"));
        assert!(h.contains("Người lập biểu") && h.contains("Thủ trưởng đơn vị"));
        let appendix = h.find("class=\"appendix\"").unwrap();
        assert!(h[appendix..].contains("Dòng không đọc được trong sổ tiếp nhận (1)"));
        assert!(h[appendix..].contains("received_on is not a date"));
        assert!(h[..appendix].contains("UBND phường 1") && h.contains("02/12/2026"));
        let hash = "ab".repeat(32);
        assert!(h.contains(&format!("sha256 <span class=\"hash\">{hash}</span>")));

        // The ledger head, the command that checks it and the signatures: one block.
        let mut r = report();
        r.ledger_head = Some(crate::index::audit::LedgerHead { seq: 7, hash });
        let h = html(&r, &heading(GroupBy::Procedure, Lang::Vi));
        let closing =
            &h[h.find("class=\"closing\"").unwrap()..h.find("class=\"appendix\"").unwrap()];
        let head = format!("7:{}", "ab".repeat(32));
        assert!(closing.contains(&format!("<span class=\"hash\">{head}</span>")));
        assert!(closing.contains(&format!(
            "<code class=\"hash\">dossier verify --archive KHO --since {head}</code>"
        )));
        assert!(closing.contains("Người lập biểu") && closing.contains("Thủ trưởng đơn vị"));
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
        let c = String::from_utf8(csv(&report(), None)).unwrap();
        let mut lines = c.lines();
        assert!(lines
            .next()
            .unwrap()
            .starts_with("key,name,received,input_digitized,input_percent"));
        assert_eq!(
            lines.next().unwrap(),
            "1.001193,Đăng ký khai sinh <b>,3,2,66.67,2,1,50.00,1,33.33,true,1,,,62.50,41.66,"
        );
        assert!(lines.next().unwrap().starts_with("TOTAL,"));
        assert!(lines
            .next()
            .unwrap()
            .starts_with("REGISTER_PROBLEM,line 7: dossier X: received_on is not a date,"));
        // Last, the ledger head in the header's 17 columns: empty before any run, else SEQ:HASH.
        assert_eq!(
            lines.next().unwrap(),
            format!("LEDGER_HEAD,{}", ",".repeat(15))
        );
        assert_eq!(lines.next(), None);
        let mut r = report();
        r.ledger_head = Some(crate::index::audit::LedgerHead {
            seq: 7,
            hash: "ab".repeat(32),
        });
        let c = String::from_utf8(csv(&r, None)).unwrap();
        assert_eq!(
            c.lines().last().unwrap(),
            format!("LEDGER_HEAD,7:{}{}", "ab".repeat(32), ",".repeat(15))
        );
        let vi = String::from_utf8(csv(&r, Some(Lang::Vi))).unwrap();
        assert!(vi
            .lines()
            .last()
            .unwrap()
            .starts_with(&format!("Sổ ghi vết (đầu chuỗi);7:{};", "ab".repeat(32))));
    }

    #[test]
    fn vietnamese_csv_opens_in_excel_with_its_letters_separators_and_words() {
        let c = csv(&report(), Some(Lang::Vi));
        assert!(c.starts_with(b"\xef\xbb\xbf"), "a BOM");
        let text = String::from_utf8(c[3..].to_vec()).unwrap();
        let mut lines = text.lines();
        assert!(lines
            .next()
            .unwrap()
            .starts_with("Mã;Tên thủ tục;Tiếp nhận;"));
        let row = lines.next().unwrap();
        assert!(
            row.contains(";66,67;") && row.ends_with(";1;;;62,50;41,66;"),
            "{row}"
        );
        assert!(row.contains(";có;"), "{row}");
    }

    #[test]
    fn no_spreadsheet_cell_starts_a_formula() {
        let mut r = report();
        r.groups[0].name = Some("=HYPERLINK(\"http://x\",\"y\")".into());
        r.groups[0].key = "+1.001193".into();
        r.register_problems[0].reason = "@SUM(A1)".into();
        let c = String::from_utf8(csv(&r, None)).unwrap();
        assert!(c.contains("'+1.001193,\"'=HYPERLINK"), "{c}");
        for line in c.lines() {
            for cell in line.split(',') {
                assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell} in {c}");
            }
        }
        for s in ["-1", "\tx", "\rx", "=1", "@a", "+a"] {
            assert!(cell_text(s).starts_with('\''), "{s:?}");
        }
        assert_eq!(cell_text("1.001193"), "1.001193");
    }
}
