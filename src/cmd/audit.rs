//! `dossier audit sample|record|report`: audit by sampling (SPEC.md "Audit sampling").

use dossier::audit_sample::{self, AuditError};
use dossier::index::desk::NewVerdict;
use dossier::query;

use std::io::Write as _;

use anyhow::Context as _;
use dossier::coverage::render::Lang;

use super::common::{period, print_json, write_atomically, UsageError};
use crate::cli::{AuditCommand, AuditFormat, Verdict};
use crate::exit_codes::ExitCode;

pub(crate) fn audit(c: AuditCommand, index_url: Option<&str>) -> anyhow::Result<ExitCode> {
    match c {
        AuditCommand::Sample(a) => {
            let (from, to) = period(&a.from, &a.to)?;
            if a.size == 0 {
                return Err(UsageError("--size must be 1 or more".into()).into());
            }
            let seed = a.seed.unwrap_or_else(audit_sample::fresh_seed);
            let index = query::open_read_only(&a.archive, index_url)?;
            let s = audit_sample::sample(&index, from, to, a.size, seed)?;
            if a.json {
                print_json(&s)?;
            } else {
                println!(
                    "sample of {} from {} digitized dossiers, seed {} (draw it again with --seed {})",
                    s.dossiers.len(),
                    s.population,
                    s.seed,
                    s.seed
                );
                for code in &s.dossiers {
                    println!("{code}");
                }
            }
        }
        AuditCommand::Record(a) => {
            let auditor = a
                .auditor
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "unknown".into());
            let at = dossier::timefmt::now_rfc3339();
            let v = NewVerdict {
                at: &at,
                dossier_code: &a.dossier_code,
                auditor: &auditor,
                verdict: match a.verdict {
                    Verdict::Confirmed => "confirmed",
                    Verdict::NotConfirmed => "not-confirmed",
                },
                note: &a.note,
                sample: None,
            };
            match audit_sample::record(&a.archive, index_url, &v) {
                Ok(head) => dossier::log::info(&format!("verdict recorded: ledger entry {head}")),
                Err(e @ AuditError::NoSuchDossier(_)) => {
                    return Err(UsageError(e.to_string()).into())
                }
                Err(e) => return Err(e.into()),
            }
        }
        AuditCommand::Report(a) => {
            let (from, to) = period(&a.from, &a.to)?;
            let index = query::open_read_only(&a.archive, index_url)?;
            let r = audit_sample::report(&index, from, to)?;
            let lang = match a.lang {
                Some(crate::cli::Lang::En) => Lang::En,
                _ => Lang::Vi,
            };
            if a.format == AuditFormat::Xlsx
                && a.output.is_none()
                && std::io::IsTerminal::is_terminal(&std::io::stdout())
            {
                return Err(
                    UsageError("xlsx is a binary format: give --output FILE.xlsx".into()).into(),
                );
            }
            let bytes = match a.format {
                AuditFormat::Text => audit_sample::text(&r).into_bytes(),
                AuditFormat::Json => audit_sample::json(&r).into_bytes(),
                AuditFormat::Csv => audit_sample::csv(&r).into_bytes(),
                AuditFormat::Html => audit_sample::html(&r, lang).into_bytes(),
                AuditFormat::Xlsx => {
                    audit_sample::xlsx(&r, lang).context("cannot build the workbook")?
                }
            };
            match &a.output {
                Some(path) => write_atomically(path, |w| Ok(w.write_all(&bytes)?))
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => std::io::stdout().write_all(&bytes)?,
            }
        }
    }
    Ok(ExitCode::Success)
}
