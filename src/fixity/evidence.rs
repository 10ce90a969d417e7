//! Verify's evidence checks: the index rows that enter a figure against the evidence records
//! (see [`crate::evidence`]), and the records against the ledger.
//!
//! - Each document's record, built again from its rows, must hash to the record hash its row
//!   carries; when it does not, the stored record names the fields that differ.
//! - Each run's records must give the Merkle root its ledger entry committed to.
//! - Each import's record must match its row, and the latest register and catalog imports the
//!   rows the index holds now.
//! - Each verify entry's fixity events must all still be there.
//!
//! These read the index only (the record objects are re-hashed with every other object), so
//! they cost the same in every mode.

use std::collections::{HashMap, HashSet};

use super::ledger::ledger_finding;
use super::{Finding, FixityError};
use crate::evidence::{self, differing_fields, ImportRecord};
use crate::index::audit::LedgerEntry;
use crate::index::{Index, RecordedDocument};
use crate::store::Archive;

/// Every evidence finding, or one finding naming the index error that stopped the checks (a
/// damaged index is a finding, not a failure of verify).
pub(super) fn check_evidence(archive: &Archive, index: &Index) -> Vec<Finding> {
    let checks = || -> Result<Vec<Finding>, FixityError> {
        let entries = ledger_entries(index)?;
        let vouched: HashSet<&str> = entries
            .iter()
            .filter(|e| e.kind == "run" && e.records_root.is_some())
            .map(|e| e.subject.as_str())
            .collect();
        let mut out = documents(archive, index, &vouched)?;
        out.extend(imports(index, &vouched)?);
        out.extend(run_roots(index, &entries)?);
        out.extend(fixity_events(index, &entries)?);
        Ok(out)
    };
    checks().unwrap_or_else(|e| {
        vec![Finding {
            kind: "index",
            file: Some("index.sqlite".into()),
            dossier_code: None,
            document: None,
            detail: format!("the index cannot be read as evidence: {e}"),
        }]
    })
}

/// Every document's rows against its record; every record under a run's ledger root.
fn documents(
    archive: &Archive,
    index: &Index,
    vouched: &HashSet<&str>,
) -> Result<Vec<Finding>, FixityError> {
    let mut out = Vec::new();
    for d in index.documents_as_recorded(None)? {
        let (_, rebuilt) = evidence::encode(&d.record);
        if d.record_sha256.is_some() && !vouched.contains(d.record.run_id.as_str()) {
            out.push(Finding {
                kind: "evidence",
                file: Some("index.sqlite".into()),
                dossier_code: Some(d.record.dossier.clone()),
                document: Some(d.record.path.clone()),
                detail: format!(
                    "version {} names run {}, whose records no ledger entry vouches for",
                    d.record.version, d.record.run_id
                ),
            });
        }
        match &d.record_sha256 {
            Some(kept) if *kept != rebuilt => out.push(document_finding(archive, &d, kept)),
            Some(_) => {}
            None => out.push(Finding {
                kind: "evidence",
                file: None,
                dossier_code: Some(d.record.dossier.clone()),
                document: Some(d.record.path.clone()),
                detail: format!(
                    "version {} has no evidence record (archived before records were kept, or its hash was removed)",
                    d.record.version
                ),
            }),
        }
    }
    Ok(out)
}

/// Names what differs between a document's rows and its stored record.
fn document_finding(archive: &Archive, d: &RecordedDocument, kept: &str) -> Finding {
    let stored = std::fs::read(archive.object_path(kept))
        .ok()
        .and_then(|b| evidence::as_document_record(&b));
    let detail = match stored {
        Some(stored) => {
            let fields = differing_fields(&stored, &d.record);
            let fields = if fields.is_empty() {
                "its record hash".to_owned()
            } else {
                fields.join(", ")
            };
            format!(
                "the index rows of version {} differ from its evidence record in: {fields}",
                d.record.version
            )
        }
        None => format!(
            "the index rows of version {} do not hash to its evidence record {kept}, which cannot be read",
            d.record.version
        ),
    };
    Finding {
        kind: "evidence",
        file: Some("index.sqlite".into()),
        dossier_code: Some(d.record.dossier.clone()),
        document: Some(d.record.path.clone()),
        detail,
    }
}

fn imports(index: &Index, vouched: &HashSet<&str>) -> Result<Vec<Finding>, FixityError> {
    let mut out = Vec::new();
    let imports = index.imports_as_recorded(None)?;
    for (record, kept) in &imports {
        let (_, rebuilt) = evidence::encode(record);
        let problem = match kept {
            None => Some("it has no evidence record"),
            Some(k) if *k != rebuilt => Some("its row differs from its evidence record"),
            Some(_) if !vouched.contains(record.run_id.as_str()) => {
                Some("no ledger entry vouches for its run's records")
            }
            Some(_) => None,
        };
        if let Some(problem) = problem {
            out.push(import_finding(record, problem));
        }
    }
    for (what, now) in [
        ("register", index.register_rows_sha256()?),
        ("catalog", index.catalog_rows_sha256()?),
    ] {
        let latest = imports.iter().rev().find(|(r, _)| r.record == what);
        if let Some((record, _)) = latest {
            if record.rows_sha256 != now {
                out.push(import_finding(
                    record,
                    "the rows in the index differ from the rows this import brought",
                ));
            }
        }
    }
    Ok(out)
}

fn import_finding(record: &ImportRecord, what: &str) -> Finding {
    Finding {
        kind: "evidence",
        file: Some("index.sqlite".into()),
        dossier_code: None,
        document: None,
        detail: format!(
            "{} import of {} (run {}): {what}",
            record.record, record.source, record.run_id
        ),
    }
}

/// The ledger's entries, as stored in the index (their chain is checked elsewhere).
fn ledger_entries(index: &Index) -> Result<Vec<LedgerEntry>, FixityError> {
    Ok(index
        .ledger()?
        .into_iter()
        .filter_map(|(_, text, _)| serde_json::from_str(&text).ok())
        .collect())
}

fn run_roots(index: &Index, entries: &[LedgerEntry]) -> Result<Vec<Finding>, FixityError> {
    let mut out = Vec::new();
    for e in entries.iter().filter(|e| e.kind == "run") {
        let Some(root) = &e.records_root else {
            continue;
        };
        let now = index.run_records_root(&e.subject)?;
        if &now != root {
            out.push(ledger_finding(format!(
                "the evidence records of run {} no longer give the root its ledger entry {} committed to",
                e.subject, e.seq
            )));
        }
    }
    Ok(out)
}

fn fixity_events(index: &Index, entries: &[LedgerEntry]) -> Result<Vec<Finding>, FixityError> {
    let counts: HashMap<String, u64> = index.fixity_event_counts()?.into_iter().collect();
    // Verifies within one second share their time: their events are counted together.
    let mut expected: Vec<(&str, u64, u64)> = Vec::new();
    for e in entries.iter().filter(|e| e.kind == "verify") {
        let Some(n) = e.summary.get("events").and_then(|v| v.as_u64()) else {
            continue;
        };
        match expected.last_mut() {
            Some((at, total, _)) if *at == e.at => *total += n,
            _ => expected.push((&e.at, n, e.seq)),
        }
    }
    let mut out = Vec::new();
    for (at, expected, seq) in expected {
        let found = counts.get(at).copied().unwrap_or(0);
        if found != expected {
            out.push(ledger_finding(format!(
                "the verify of {at} (ledger entry {seq}) recorded {expected} fixity events; the index holds {found}"
            )));
        }
    }
    Ok(out)
}
