//! The audit report in the report formats: `text` (a table for a terminal), `json`
//! (SPEC-stable keys), `csv` (one row per verdict, cells neutralised against formulas).

use std::fmt::Write as _;

use super::AuditReport;

/// Pretty JSON, keys as [`AuditReport`] names them.
pub fn json(r: &AuditReport) -> String {
    let mut s = serde_json::to_string_pretty(r).expect("an audit report serializes");
    s.push('\n');
    s
}

fn pct(p: Option<f64>) -> String {
    p.map_or_else(|| "-".to_owned(), |p| format!("{p:.2}%"))
}

/// Terminal text, control characters removed from auditors' notes.
pub fn text(r: &AuditReport) -> String {
    let clean = |s: &str| s.chars().filter(|c| !c.is_control()).collect::<String>();
    let mut out = String::new();
    let period = format!(
        "{} .. {}",
        r.period.from.as_deref().unwrap_or("…"),
        r.period.to.as_deref().unwrap_or("…")
    );
    let _ = writeln!(out, "Audit by sampling, period {period}");
    let _ = writeln!(
        out,
        "checked {}  confirmed {}  not confirmed {}",
        r.checked, r.confirmed, r.not_confirmed
    );
    let interval = r.wilson_95.map_or_else(
        || "-".to_owned(),
        |[lo, hi]| format!("{lo:.2}% .. {hi:.2}%"),
    );
    let _ = writeln!(
        out,
        "error rate {}  (95% Wilson interval {interval})",
        pct(r.error_percent)
    );
    if let Some(h) = &r.ledger_head {
        let _ = writeln!(out, "ledger head {h}");
    }
    for v in &r.verdicts {
        let _ = writeln!(
            out,
            "{}  {:<13}  {}  {}  {}",
            v.dossier_code,
            v.verdict,
            clean(&v.auditor),
            v.at,
            clean(&v.note)
        );
    }
    out
}

/// One row per verdict, then the totals.
pub fn csv(r: &AuditReport) -> String {
    fn cell(s: &str) -> String {
        let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{s}")
        } else {
            s.to_owned()
        };
        format!("\"{}\"", s.replace('"', "\"\""))
    }
    let mut out = String::from("dossier_code,verdict,auditor,at,note,ledger_seq\n");
    for v in &r.verdicts {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{}",
            cell(&v.dossier_code),
            cell(&v.verdict),
            cell(&v.auditor),
            cell(&v.at),
            cell(&v.note),
            v.seq
        );
    }
    let interval = r.wilson_95.map(|[lo, hi]| (lo.to_string(), hi.to_string()));
    let _ = writeln!(
        out,
        "\nchecked,not_confirmed,error_percent,wilson_low,wilson_high\n{},{},{},{},{}",
        r.checked,
        r.not_confirmed,
        r.error_percent.map(|p| p.to_string()).unwrap_or_default(),
        interval.as_ref().map(|i| i.0.as_str()).unwrap_or(""),
        interval.as_ref().map(|i| i.1.as_str()).unwrap_or(""),
    );
    out
}
