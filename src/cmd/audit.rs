//! `dossier audit sample|record|report`: audit by sampling (SPEC.md "Audit sampling").

use dossier::audit_sample::{self, AuditError};
use dossier::index::desk::NewVerdict;
use dossier::query;

use super::common::{period, print_json, UsageError};
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
                Ok(head) => eprintln!("verdict recorded: ledger entry {}:{}", head.seq, head.hash),
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
            print!(
                "{}",
                match a.format {
                    AuditFormat::Text => audit_sample::text(&r),
                    AuditFormat::Json => audit_sample::json(&r),
                    AuditFormat::Csv => audit_sample::csv(&r),
                }
            );
        }
    }
    Ok(ExitCode::Success)
}
