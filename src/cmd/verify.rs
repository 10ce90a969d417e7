//! `dossier verify`: the fixity audit, its findings one per line (or JSON).

use anyhow::Context as _;
use dossier::fixity::{self, Finding, Mode, VerifyReport};

use super::common::print_json;
use crate::cli::VerifyArgs;
use crate::exit_codes::ExitCode;

pub(crate) fn verify(args: VerifyArgs, index_url: Option<&str>) -> anyhow::Result<ExitCode> {
    let mode = match (args.fast, args.deep) {
        (true, _) => Mode::Fast,
        (_, true) => Mode::Deep,
        _ => Mode::Full,
    };
    let since = match args.since.as_deref().map(fixity::parse_head).transpose() {
        Ok(since) => since,
        Err(e) => {
            dossier::log::error(&format!("dossier: {e}"));
            return Ok(ExitCode::Usage);
        }
    };
    let report = fixity::verify(&args.archive, index_url, mode, since.as_ref())
        .with_context(|| format!("cannot verify {}", args.archive.display()))?;
    if args.json {
        print_json(&report)?;
    } else {
        for f in &report.findings {
            println!("{}", finding_line(f));
        }
        for u in &report.recorded_at_upgrade {
            dossier::log::info(&format!(
                "{} documents and {} imports were archived before records were kept: their records were written at {} (ledger entry {}) from the index rows as they were then (--json lists them)",
                u.documents.len(),
                u.imports.len(),
                u.upgrade,
                u.ledger_seq
            ));
        }
        dossier::log::info(&summary_line(&report));
    }
    Ok(if report.clean() {
        ExitCode::Success
    } else {
        ExitCode::VerifyFindings
    })
}

/// `kind: file[ dossier D][ document P]: detail`.
fn finding_line(f: &Finding) -> String {
    format!(
        "{}: {}{}{}: {}",
        f.kind,
        f.file.as_deref().unwrap_or("-"),
        f.dossier_code
            .as_deref()
            .map(|d| format!(" dossier {d}"))
            .unwrap_or_default(),
        f.document
            .as_deref()
            .map(|d| format!(" document {d}"))
            .unwrap_or_default(),
        f.detail
    )
}

fn summary_line(report: &VerifyReport) -> String {
    let head = match &report.ledger_head {
        Some(h) => format!("; ledger head {h} (keep it: verify --since checks it later)"),
        None => String::new(),
    };
    format!(
        "verify ({:?}): {} objects, {} bytes read, {} documents, {} findings{}{head}",
        report.mode,
        report.objects_checked,
        report.bytes_read,
        report.documents,
        report.findings.len(),
        if report.recorded {
            ""
        } else {
            " (read-only archive: this check is not recorded)"
        }
    )
}
