//! The figures as CSV: one row per group, the totals, one row per unreadable register row, and
//! last the ledger head the figures were read at.
//!
//! - Machine CSV (the default, and `--lang en`): JSON's key names as the header, dot decimals,
//!   `true`/`false`, no BOM: what scripts read. A register problem is a row keyed
//!   `REGISTER_PROBLEM` whose `name` is `line N: reason`; the ledger head a row keyed
//!   `LEDGER_HEAD` whose `name` is `SEQ:HASH`, as `verify --since` takes it (empty when the
//!   archive has no ledger yet). Both keep the header's columns, the figures' cells empty, so a
//!   reader that takes the groups up to `TOTAL` reads what it read before.
//! - Vietnamese CSV (`--lang vi` given): as Excel in Vietnam opens it: a UTF-8 BOM (else Excel
//!   garbles the letters), `;` between fields and a decimal comma (the Vietnamese list and
//!   decimal separators), Vietnamese headings, có/không.
//!
//! Either way no cell starts a formula ([`cell_text`]).

use super::{cell_text, Lang};
use crate::coverage::{Counts, CoverageReport};

/// JSON's key names, in the order of the columns.
const MACHINE_HEADER: [&str; 17] = [
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
    "input_digital_at_filing",
    "reused",
    "reused_percent",
    "score_4_1",
    "score_4_2",
    "score_4_3",
];

/// `lang` is `None` for machine CSV, `Some(Lang::Vi)` for Excel's Vietnamese.
pub fn csv(report: &CoverageReport, lang: Option<Lang>) -> Vec<u8> {
    let vietnamese = lang == Some(Lang::Vi);
    let mut w = ::csv::WriterBuilder::new()
        .delimiter(if vietnamese { b';' } else { b',' })
        .from_writer(Vec::new());
    let header: Vec<String> = if vietnamese {
        vietnamese_header()
    } else {
        MACHINE_HEADER.map(str::to_owned).to_vec()
    };
    let _ = w.write_record(&header);
    let number = |p: Option<f64>| match p {
        Some(p) if vietnamese => Lang::Vi.decimal(p),
        Some(p) => format!("{p:.2}"),
        None => String::new(),
    };
    let flag = |b: bool| match (vietnamese, b) {
        (true, b) => Lang::Vi.yes_no(b).to_owned(),
        (false, b) => b.to_string(),
    };
    let mut row = |key: &str, name: &str, c: &Counts, below: String| {
        let _ = w.write_record([
            cell_text(key).into_owned(),
            cell_text(name).into_owned(),
            c.received.to_string(),
            c.input_digitized.to_string(),
            number(c.input_percent),
            c.completed.to_string(),
            c.result_digitized.to_string(),
            number(c.result_percent),
            c.digitized.to_string(),
            number(c.digitized_percent),
            below,
            c.input_digital_at_filing.to_string(),
            c.reused.map(|r| r.to_string()).unwrap_or_default(),
            number(c.reused_percent),
            number(c.scores.results),
            number(c.scores.digitization),
            number(c.scores.reuse),
        ]);
    };
    for g in &report.groups {
        let name = g.name.as_deref().unwrap_or("");
        row(&g.key, name, &g.counts, flag(g.below_target));
    }
    let totals = if vietnamese {
        Lang::Vi.labels().totals
    } else {
        "TOTAL"
    };
    row(totals, "", &report.totals, String::new());
    let (problem_key, line_word) = if vietnamese {
        (Lang::Vi.labels().register_problems, "dòng")
    } else {
        ("REGISTER_PROBLEM", "line")
    };
    for p in &report.register_problems {
        let text = format!("{line_word} {}: {}", p.line, p.reason);
        let mut cells = vec![problem_key.to_owned(), cell_text(&text).into_owned()];
        cells.resize(header.len(), String::new());
        let _ = w.write_record(&cells);
    }
    let ledger_key = if vietnamese {
        Lang::Vi.labels().ledger
    } else {
        "LEDGER_HEAD"
    };
    let head = report
        .ledger_head
        .as_ref()
        .map(|h| h.to_string())
        .unwrap_or_default();
    let mut cells = vec![ledger_key.to_owned(), head];
    cells.resize(header.len(), String::new());
    let _ = w.write_record(&cells);
    let body = w.into_inner().unwrap_or_default();
    if vietnamese {
        [b"\xef\xbb\xbf".as_slice(), &body].concat()
    } else {
        body
    }
}

fn vietnamese_header() -> Vec<String> {
    let l = Lang::Vi.labels();
    let rate = |of: &str| format!("{} {}", l.rate, of.to_lowercase());
    let score = |n: &str| format!("{} {n}", l.score);
    vec![
        "Mã".into(),
        l.name.into(),
        l.received.into(),
        l.input_digitized.into(),
        rate(l.input_digitized),
        l.completed.into(),
        l.result_digitized.into(),
        rate(l.result_digitized),
        l.digitized.into(),
        rate(l.digitized),
        l.below_target.into(),
        l.online.into(),
        l.reused.into(),
        rate(l.reused),
        score("4.1"),
        score("4.2"),
        score("4.3"),
    ]
}
