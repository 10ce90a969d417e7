//! The run ledger as `verify` checks it: the index's table numbered in order and chained, the
//! file the same line for line, and every finished run in it with what it vouches for.

use std::collections::HashMap;

use super::{Finding, FixityError};
use crate::index::audit::{LedgerEntry, GENESIS};
use crate::index::Index;
use crate::store::Archive;

pub(super) fn check_ledger(archive: &Archive, index: &Index) -> Result<Vec<Finding>, FixityError> {
    let table = index.ledger()?;
    let (mut out, runs_in_ledger) = check_chain(&table);
    out.extend(check_ledger_file(archive, &table));
    out.extend(check_runs(archive, index, &runs_in_ledger)?);
    Ok(out)
}

pub(super) fn ledger_finding(detail: String) -> Finding {
    Finding {
        kind: "ledger",
        file: Some("ledger.jsonl".into()),
        dossier_code: None,
        document: None,
        detail,
    }
}

/// The index's ledger table: numbered in order, unedited, each entry following the one
/// before. Also returns the run entries, by run.
fn check_chain(table: &[(u64, String, String)]) -> (Vec<Finding>, HashMap<String, LedgerEntry>) {
    let mut out = Vec::new();
    let mut prev = GENESIS.to_owned();
    let mut runs_in_ledger: HashMap<String, LedgerEntry> = HashMap::new();
    for (i, (seq, text, hash)) in table.iter().enumerate() {
        if *seq != i as u64 + 1 {
            out.push(ledger_finding(format!(
                "index ledger entry {seq} is out of order (expected {})",
                i + 1
            )));
        }
        if crate::store::sha256_hex(text.as_bytes()) != *hash {
            out.push(ledger_finding(format!(
                "index ledger entry {seq} was edited: its text no longer hashes to {hash}"
            )));
        }
        match serde_json::from_str::<LedgerEntry>(text) {
            Ok(entry) => {
                if entry.prev != prev {
                    out.push(ledger_finding(format!(
                        "ledger entry {seq} does not follow the entry before it"
                    )));
                }
                if entry.seq != *seq {
                    out.push(ledger_finding(format!(
                        "ledger entry {seq} says it is entry {}",
                        entry.seq
                    )));
                }
                if entry.kind == "run" {
                    runs_in_ledger.insert(entry.subject.clone(), entry);
                }
            }
            Err(e) => out.push(ledger_finding(format!(
                "ledger entry {seq} is not a ledger entry: {e}"
            ))),
        }
        prev = hash.clone();
    }
    (out, runs_in_ledger)
}

/// The file must be the table, line for line.
fn check_ledger_file(archive: &Archive, table: &[(u64, String, String)]) -> Vec<Finding> {
    let mut out = Vec::new();
    match std::fs::read_to_string(archive.ledger_path()) {
        Ok(file) => {
            let lines: Vec<&str> = file.lines().collect();
            if lines.len() < table.len() {
                out.push(ledger_finding(format!(
                    "the ledger file has {} entries, the index {}: entries were removed from \
                     the file, or a writer was stopped before copying them (this verify, or \
                     the next run, copies them back when the file is otherwise the index's)",
                    lines.len(),
                    table.len()
                )));
            } else if lines.len() > table.len() {
                out.push(ledger_finding(format!(
                    "the ledger file has {} entries, the index {}: entries were added",
                    lines.len(),
                    table.len()
                )));
            }
            for (i, (line, (seq, text, _))) in lines.iter().zip(table).enumerate() {
                if line != text {
                    out.push(ledger_finding(format!(
                        "ledger file line {} (entry {seq}) differs from the index",
                        i + 1
                    )));
                }
            }
        }
        Err(_) if table.is_empty() => {}
        Err(e) => out.push(ledger_finding(format!("cannot read the ledger file: {e}"))),
    }
    out
}

/// Every finished run is in the ledger, and what the ledger vouches for still holds: its
/// documents, and its run report.
fn check_runs(
    archive: &Archive,
    index: &Index,
    runs_in_ledger: &HashMap<String, LedgerEntry>,
) -> Result<Vec<Finding>, FixityError> {
    let mut out = Vec::new();
    for (run_id, report_sha) in index.finished_runs()? {
        let Some(entry) = runs_in_ledger.get(&run_id) else {
            out.push(ledger_finding(format!("run {run_id} has no ledger entry")));
            continue;
        };
        let (count, root) = index.run_documents_root(&run_id)?;
        if count != entry.documents || root != entry.documents_root {
            out.push(Finding {
                kind: "index",
                file: Some("index.sqlite".into()),
                dossier_code: None,
                document: None,
                detail: format!(
                    "the documents of run {run_id} ({count}) no longer match the ledger ({}, root {})",
                    entry.documents, entry.documents_root
                ),
            });
        }
        out.extend(check_run_report(
            archive,
            &run_id,
            entry,
            report_sha.as_ref(),
        ));
    }
    Ok(out)
}

/// The run report on disk hashes as the ledger and the index say it did.
fn check_run_report(
    archive: &Archive,
    run_id: &str,
    entry: &LedgerEntry,
    report_sha: Option<&String>,
) -> Option<Finding> {
    let report_path = archive.runs_dir().join(format!("{run_id}.json"));
    let finding = |detail: &str| Finding {
        kind: "run_report",
        file: Some(format!("runs/{run_id}.json")),
        dossier_code: None,
        document: None,
        detail: detail.into(),
    };
    match std::fs::read(&report_path) {
        Ok(bytes) => {
            let sha = crate::store::sha256_hex(&bytes);
            (Some(&sha) != entry.report_sha256.as_ref() || Some(&sha) != report_sha)
                .then(|| finding("the run report was changed after its run"))
        }
        Err(_) => Some(finding("the run report is missing")),
    }
}
