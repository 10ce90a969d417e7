//! Verify's evidence checks: the index rows that enter a figure against the evidence records
//! (see [`crate::evidence`]), and the records against the ledger.
//!
//! - Each document's record, built again from its rows, must hash to the record hash its row
//!   carries; when it does not, the stored record names the fields that differ.
//! - Each run's records must give the Merkle root its ledger entry committed to.
//! - Each import's record must match its row, and the latest register and catalog imports the
//!   rows the index holds now.
//! - Each verify entry's fixity events must all still be there.
//! - Records written at an upgrade (documents and imports archived before records were kept)
//!   are vouched for by their upgrade's ledger entry, whose root they must give; verify lists
//!   them apart ([`recorded_at_upgrade`]): they hold the rows as they were at the upgrade, not
//!   at archiving.
//!
//! These read the index only (the record objects are re-hashed with every other object), so
//! they cost the same in every mode. Documents are read back a chunk at a time and their
//! records hashed in parallel (`benches/verify_records.rs` measures this against the rest of
//! verify).

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;
use serde::Serialize;

use super::ledger::ledger_finding;
use super::{Finding, FixityError};
use crate::evidence::{self, differing_fields, ImportRecord};
use crate::index::audit::LedgerEntry;
use crate::index::{Index, RecordedDocument, Which};
use crate::store::Archive;

/// What vouches for a record: its run's entry, or the upgrade's that wrote it.
struct Vouched<'a> {
    runs: HashSet<&'a str>,
    upgrades: HashSet<&'a str>,
}

impl<'a> Vouched<'a> {
    fn new(entries: &'a [LedgerEntry]) -> Vouched<'a> {
        let subjects = |kind: &str| {
            entries
                .iter()
                .filter(|e| e.kind == kind && e.records_root.is_some())
                .map(|e| e.subject.as_str())
                .collect()
        };
        Vouched {
            runs: subjects("run"),
            upgrades: subjects("upgrade"),
        }
    }

    fn vouches(&self, run_id: &str, upgrade: Option<&str>) -> bool {
        match upgrade {
            Some(u) => self.upgrades.contains(u),
            None => self.runs.contains(run_id),
        }
    }
}

/// Every evidence finding, or one finding naming the index error that stopped the checks (a
/// damaged index is a finding, not a failure of verify). Public for `benches/verify_records.rs`,
/// which times these checks apart from the rest of verify.
pub fn check_evidence(archive: &Archive, index: &Index) -> Vec<Finding> {
    let checks = || -> Result<Vec<Finding>, FixityError> {
        let entries = ledger_entries(index)?;
        let vouched = Vouched::new(&entries);
        let mut out = documents(archive, index, &vouched)?;
        out.extend(imports(index, &vouched)?);
        out.extend(run_roots(index, &entries)?);
        out.extend(upgrade_roots(index, &entries)?);
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

/// Every document's rows against its record; every record under a ledger root.
fn documents(
    archive: &Archive,
    index: &Index,
    vouched: &Vouched<'_>,
) -> Result<Vec<Finding>, FixityError> {
    let mut out = Vec::new();
    index.for_each_recorded_chunk(Which::All, |chunk| {
        let rebuilt: Vec<String> = chunk
            .par_iter()
            .map(|d| evidence::hash(&d.record))
            .collect();
        for (d, rebuilt) in chunk.iter().zip(rebuilt) {
            out.extend(document_findings(archive, vouched, d, &rebuilt));
        }
    })?;
    Ok(out)
}

fn document_findings(
    archive: &Archive,
    vouched: &Vouched<'_>,
    d: &RecordedDocument,
    rebuilt: &str,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let upgrade = d.record.recorded_at_upgrade.as_deref();
    if d.record_sha256.is_some() && !vouched.vouches(&d.record.run_id, upgrade) {
        let by = match upgrade {
            Some(u) => format!("was recorded at upgrade {u}, whose records"),
            None => format!("names run {}, whose records", d.record.run_id),
        };
        out.push(Finding {
            kind: "evidence",
            file: Some("index.sqlite".into()),
            dossier_code: Some(d.record.dossier.clone()),
            document: Some(d.record.path.clone()),
            detail: format!(
                "version {} {by} no ledger entry vouches for",
                d.record.version
            ),
        });
    }
    match &d.record_sha256 {
        Some(kept) if kept != rebuilt => out.push(document_finding(archive, d, kept)),
        Some(_) => {}
        None => out.push(Finding {
            kind: "evidence",
            file: None,
            dossier_code: Some(d.record.dossier.clone()),
            document: Some(d.record.path.clone()),
            detail: format!(
                "version {} has no evidence record (its hash was removed, or it was archived before records were kept and no run or verify has recorded it since)",
                d.record.version
            ),
        }),
    }
    out
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

fn imports(index: &Index, vouched: &Vouched<'_>) -> Result<Vec<Finding>, FixityError> {
    let mut out = Vec::new();
    let imports = index.imports_as_recorded(None)?;
    for (record, kept) in &imports {
        let rebuilt = evidence::hash(record);
        let upgrade = record.recorded_at_upgrade.as_deref();
        let problem = match kept {
            None => Some("it has no evidence record"),
            Some(k) if *k != rebuilt => Some("its row differs from its evidence record"),
            Some(_) if !vouched.vouches(&record.run_id, upgrade) => {
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

/// Each upgrade's records must give the root its ledger entry committed to.
fn upgrade_roots(index: &Index, entries: &[LedgerEntry]) -> Result<Vec<Finding>, FixityError> {
    let mut out = Vec::new();
    for e in entries.iter().filter(|e| e.kind == "upgrade") {
        let Some(root) = &e.records_root else {
            continue;
        };
        if index.upgrade_records_root(&e.subject)? != *root {
            out.push(ledger_finding(format!(
                "the evidence records written at upgrade {} no longer give the root its ledger entry {} committed to",
                e.subject, e.seq
            )));
        }
    }
    Ok(out)
}

/// Records written at an upgrade, for what was archived before records were kept: verify
/// says which, since they vouch for the rows as they were at the upgrade, not at archiving.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RecordedAtUpgrade {
    /// The upgrade's ledger subject and entry.
    pub upgrade: String,
    pub ledger_seq: u64,
    pub at: String,
    /// `path` version `N`, in commit order.
    pub documents: Vec<String>,
    /// `register`/`catalog` import of `source` (run `RUN`).
    pub imports: Vec<String>,
}

/// Every upgrade's records, from its ledger entry and the rows that name it.
pub(super) fn recorded_at_upgrade(index: &Index) -> Result<Vec<RecordedAtUpgrade>, FixityError> {
    let mut out: Vec<RecordedAtUpgrade> = ledger_entries(index)?
        .into_iter()
        .filter(|e| e.kind == "upgrade")
        .map(|e| RecordedAtUpgrade {
            upgrade: e.subject,
            ledger_seq: e.seq,
            at: e.at,
            documents: Vec::new(),
            imports: Vec::new(),
        })
        .collect();
    if out.is_empty() {
        return Ok(out);
    }
    let mut found = |upgrade: &str, what: String, document: bool| {
        if let Some(u) = out.iter_mut().find(|u| u.upgrade == upgrade) {
            if document {
                u.documents.push(what);
            } else {
                u.imports.push(what);
            }
        }
    };
    let mut documents = Vec::new();
    index.for_each_recorded_chunk(Which::Upgraded, |chunk| {
        documents.extend(chunk.into_iter().filter_map(|d| {
            let r = d.record;
            r.recorded_at_upgrade
                .map(|u| (u, format!("{} version {}", r.path, r.version)))
        }))
    })?;
    for (upgrade, what) in documents {
        found(&upgrade, what, true);
    }
    for (r, _) in index.imports_as_recorded(None)? {
        if let Some(u) = &r.recorded_at_upgrade {
            let what = format!("{} import of {} (run {})", r.record, r.source, r.run_id);
            found(u, what, false);
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
