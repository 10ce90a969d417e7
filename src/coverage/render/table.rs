//! The report for a terminal: within 100 columns (short headings with a legend, two tables),
//! widths measured as displayed (a Vietnamese letter with diacritics is one column however it
//! is encoded), no control characters.

use std::fmt::Write as _;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::{group_key, key_heading, printable, Heading, Lang};
use crate::coverage::{Counts, CoverageReport, GroupBy};

/// The widest a group key is shown (longer ones end in `…`), so that a table fits 100 columns.
const KEY_WIDTH: usize = 22;

/// A terminal's width as the report is read: longer lines (lists, notes) wrap at spaces.
const WIDTH: usize = 100;

pub fn table(report: &CoverageReport, heading: &Heading<'_>) -> String {
    let (lang, l) = (heading.lang, heading.labels());
    let mut out = String::new();
    let _ = writeln!(out, "{}", l.title);
    if let Some(office) = heading.office {
        let _ = writeln!(out, "{}: {}", l.office, printable(office));
    }
    let _ = writeln!(
        out,
        "{}: {}   {}: {}",
        l.period,
        lang.period(report),
        l.target,
        lang.percent(Some(report.target_percent))
    );
    if let Some(d) = heading.printed_on {
        let _ = writeln!(out, "{}: {}", l.printed_on, lang.date(d));
    }
    let _ = writeln!(out, "{}\n", lang.register(report));
    write_aligned(&mut out, &figure_rows(report, heading));
    let _ = writeln!(out, "\n{}", l.indicators);
    write_aligned(&mut out, &indicator_rows(report, heading));
    let legend: Vec<String> = l
        .short
        .legend
        .iter()
        .map(|(short, long)| format!("{short} = {long}"))
        .collect();
    let _ = writeln!(out);
    for line in legend {
        let _ = writeln!(out, "  {line}");
    }
    if heading.by == GroupBy::Procedure {
        write_names(&mut out, report, lang);
    }
    write_lists(&mut out, report, lang);
    let mut fitted = String::with_capacity(out.len());
    for line in out.lines() {
        wrap(&mut fitted, line);
    }
    fitted
}

/// `line` within [`WIDTH`] columns: broken at spaces (the spacing inside a piece is kept),
/// each continuation indented four more than the line. A word wider than the width (none of
/// dossier's own) stays whole.
fn wrap(out: &mut String, line: &str) {
    let line = line.trim_end();
    // Our own lines indent by two or four; the cap keeps room for words whatever comes.
    let indent = (line.len() - line.trim_start_matches(' ').len()).min(WIDTH / 2);
    let hanging = " ".repeat(indent + 4);
    let mut rest = line;
    let mut lead = "";
    loop {
        let room = WIDTH - lead.len();
        if rest.width() <= room {
            let _ = writeln!(out, "{lead}{rest}");
            return;
        }
        // The last space before which the piece fits; else the first one (a long word).
        let body = rest.len() - rest.trim_start_matches(' ').len();
        let spaces = rest
            .char_indices()
            .filter(|&(at, c)| c == ' ' && at > body)
            .map(|(at, _)| at);
        let fitting = spaces
            .clone()
            .take_while(|&at| rest[..at].width() <= room)
            .last();
        let Some(at) = fitting.or_else(|| word_cut(rest, room)) else {
            let _ = writeln!(out, "{lead}{rest}");
            return;
        };
        let _ = writeln!(out, "{lead}{}", rest[..at].trim_end());
        rest = rest[at..].trim_start();
        lead = &hanging;
    }
}

/// Where a word too wide for `room` columns (a name without spaces) is cut: after the last
/// character that fits. `None` when not even one does.
fn word_cut(text: &str, room: usize) -> Option<usize> {
    let mut width = 0;
    let mut cut = None;
    for (at, c) in text.char_indices() {
        width += c.width().unwrap_or(0);
        if width > room {
            break;
        }
        cut = Some(at + c.len_utf8());
    }
    cut.filter(|&at| at < text.len())
}

/// A key cut to [`KEY_WIDTH`] display columns.
fn short_key(key: &str) -> String {
    let key = printable(key);
    if key.width() <= KEY_WIDTH {
        return key.into_owned();
    }
    let mut out = String::new();
    let mut width = 0;
    for c in key.chars() {
        let w = c.width().unwrap_or(0);
        if width + w > KEY_WIDTH - 1 {
            break;
        }
        out.push(c);
        width += w;
    }
    out.push('…');
    out
}

/// Rows of the figures table: headings, a row per group, the totals (flagged too).
fn figure_rows(report: &CoverageReport, heading: &Heading<'_>) -> Vec<Vec<String>> {
    let (lang, l) = (heading.lang, heading.labels());
    let s = &l.short;
    let line = |key: &str, c: &Counts, below: bool| {
        vec![
            short_key(key),
            c.received.to_string(),
            c.input_digitized.to_string(),
            lang.percent(c.input_percent),
            c.completed.to_string(),
            c.result_digitized.to_string(),
            lang.percent(c.result_percent),
            c.digitized.to_string(),
            lang.percent(c.digitized_percent),
            if below { "!".into() } else { String::new() },
        ]
    };
    let mut rows = vec![[
        key_heading(heading.by, l),
        s.received,
        s.input_digitized,
        s.input_rate,
        s.completed,
        s.result_digitized,
        s.result_rate,
        s.digitized,
        s.digitized_rate,
        s.below_target,
    ]
    .map(str::to_owned)
    .to_vec()];
    for g in &report.groups {
        rows.push(line(group_key(g, l), &g.counts, g.below_target));
    }
    rows.push(line(l.totals, &report.totals, below(report)));
    rows
}

/// Whether the totals are below the target.
pub(super) fn below(report: &CoverageReport) -> bool {
    report
        .totals
        .digitized_percent
        .is_some_and(|p| p < report.target_percent)
}

/// Rows of the indicators table: online filing, reuse and the three scores.
fn indicator_rows(report: &CoverageReport, heading: &Heading<'_>) -> Vec<Vec<String>> {
    let (lang, l) = (heading.lang, heading.labels());
    let s = &l.short;
    let score = |p: Option<f64>| p.map(|p| lang.decimal(p)).unwrap_or_else(|| "—".into());
    let line = |key: &str, c: &Counts| {
        vec![
            short_key(key),
            c.input_digital_at_filing.to_string(),
            c.reused
                .map(|r| r.to_string())
                .unwrap_or_else(|| "—".into()),
            lang.percent(c.reused_percent),
            score(c.scores.results),
            score(c.scores.digitization),
            score(c.scores.reuse),
        ]
    };
    let mut rows = vec![[
        key_heading(heading.by, l),
        s.online,
        s.reused,
        s.reused_rate,
        s.score_results,
        s.score_digitization,
        s.score_reuse,
    ]
    .map(str::to_owned)
    .to_vec()];
    for g in &report.groups {
        rows.push(line(group_key(g, l), &g.counts));
    }
    rows.push(line(l.totals, &report.totals));
    rows
}

/// The first column and the heading row left-aligned, figures right-aligned, two spaces apart.
fn write_aligned(out: &mut String, rows: &[Vec<String>]) {
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].width()).max().unwrap_or(0))
        .collect();
    for (n, r) in rows.iter().enumerate() {
        let mut text = String::new();
        for (i, cell) in r.iter().enumerate() {
            let pad = widths[i] - cell.width();
            if i == 0 || n == 0 {
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

/// Procedure names under the tables (a name column would not fit 100 columns).
fn write_names(out: &mut String, report: &CoverageReport, lang: Lang) {
    let l = lang.labels();
    let named: Vec<_> = report.groups.iter().filter(|g| g.name.is_some()).collect();
    if named.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{}", l.name);
    for g in named {
        let name = g.name.as_deref().unwrap_or("");
        let _ = writeln!(out, "  {}  {}", short_key(&g.key), printable(name));
    }
}

/// The lists: missing, to rescan, page counts, register problems, unregistered; the ledger.
fn write_lists(out: &mut String, report: &CoverageReport, lang: Lang) {
    let l = lang.labels();
    let _ = writeln!(out, "\n{} ({})", l.missing, report.missing.len());
    for m in &report.missing {
        let _ = writeln!(
            out,
            "  {}  {}  {}  {}: {}",
            printable(&m.dossier_code),
            printable(&m.procedure_code),
            printable(m.unit.as_deref().unwrap_or(l.unknown)),
            l.missing_what,
            lang.gap_words(&m.gaps)
        );
    }
    let _ = writeln!(out, "\n{} ({})", l.needs_rescan, report.needs_rescan.len());
    for r in &report.needs_rescan {
        let _ = writeln!(
            out,
            "  {}  {}: {}",
            printable(&r.dossier_code),
            printable(&r.document),
            printable(&lang.reason(&r.reason))
        );
    }
    if !report.page_count_mismatches.is_empty() {
        let _ = writeln!(
            out,
            "\n{} ({})",
            l.page_count_mismatches,
            report.page_count_mismatches.len()
        );
        for m in &report.page_count_mismatches {
            let _ = writeln!(
                out,
                "  {}  {}: {}  {}: {}",
                printable(&m.dossier_code),
                l.declared,
                m.declared,
                l.scanned,
                m.scanned
            );
        }
    }
    if !report.register_problems.is_empty() {
        let _ = writeln!(
            out,
            "\n{} ({})",
            l.register_problems,
            report.register_problems.len()
        );
        for p in &report.register_problems {
            let _ = writeln!(out, "  {} {}: {}", l.line, p.line, printable(&p.reason));
        }
    }
    let _ = writeln!(out, "\n{} ({})", l.unregistered, report.unregistered.len());
    for u in &report.unregistered {
        let _ = writeln!(out, "  {}", printable(u));
    }
    let (head, check) = lang.ledger(report);
    let _ = writeln!(out, "\n{head}");
    if let Some(check) = check {
        write_check(out, &check);
    }
}

/// The `verify --since` note with its command on lines of its own, split before `--since`
/// with a shell continuation, so that it fits the width and still pastes as one command.
fn write_check(out: &mut String, check: &str) {
    let mut parts = check.splitn(3, '`');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(before), Some(command), Some(after)) => {
            let _ = writeln!(out, "{}", before.trim_end());
            match command.split_once(" --since ") {
                Some((verify, head)) => {
                    let _ = writeln!(out, "    {verify} \\\n        --since {head}");
                }
                None => {
                    let _ = writeln!(out, "    {command}");
                }
            }
            let _ = writeln!(out, "{}", after.trim_start());
        }
        _ => {
            let _ = writeln!(out, "{check}");
        }
    }
}
