//! `rebuild-index`: the index made again from the evidence, without OCR.
//!
//! The ledger file gives the history (copied entry by entry, its chain checked first); the run
//! report files give each run's report; the evidence records in the store give every document
//! (committed again in their order, their pages' text read back from the text objects) and
//! every import (the stored register or catalog file parsed again). A rebuilt document must
//! give back its own record's hash, and the rebuilt index must pass `verify`. Fixity events
//! come back from the verify entries of the ledger, one per document archived by then; audit
//! verdicts' events from the audit entries. A record written at an upgrade (for what was
//! archived before records were kept) comes back as such, with the events it holds. The
//! intake the archive belongs to comes back from the latest run report that names it (reports
//! written before it was named leave it unset); the intake files each run found withdrawn or
//! back are replayed from its report.

use std::path::Path;

use super::FixityError;
use crate::evidence::{self, DocumentRecord, ImportRecord};
use crate::index::audit::{LedgerEntry, GENESIS};
use crate::index::{Index, Location, NewDocument, NewPage};
use crate::intake::layout::Kind;
use crate::register::Source;
use crate::store::{sha256_hex, Archive, StoreError};

/// What a rebuild restored.
#[derive(Debug, Default, serde::Serialize)]
pub struct Rebuilt {
    pub ledger_entries: usize,
    pub runs: usize,
    pub documents: usize,
    pub pages: usize,
    pub imports: usize,
    /// The intake the archive belongs to, from the latest run report that names it.
    pub intake: Option<String>,
    /// Records that did not come back to the same hash (each a problem to look into).
    pub mismatches: Vec<String>,
}

/// Rebuilds the index of `root` (it must be missing or empty, or one this command left half
/// made: a SQLite index is then made again from nothing).
pub fn rebuild_index(root: &Path, index_url: Option<&str>) -> Result<Rebuilt, FixityError> {
    // Nothing is created or marked where there is no history to rebuild from (a mistyped
    // path): a marked index there could only be removed by hand.
    let ledger = root.join(crate::store::LEDGER_FILE);
    if !ledger.is_file() {
        return Err(FixityError::NothingToRebuild {
            path: root.display().to_string(),
        });
    }
    let archive = Archive::create_or_open(root)?;
    let location = Location::resolve(archive.index_path(), index_url)?;
    // A shared index's archive has no `lock` file; its runs need the (empty) database.
    let _lock = match location.is_shared() {
        true => None,
        false => Some(archive.lock()?),
    };
    let mut index = Index::open_for_rebuild(&location)?;
    match (index.rebuild_under_way()?, &location) {
        // Our own half-made index (a rebuild killed or out of disk): made again from nothing.
        (Some(_), Location::Sqlite(path)) => {
            drop(index);
            remove_partial_index(path)?;
            index = Index::open_for_rebuild(&location)?;
        }
        (Some(_), Location::Postgres(_)) => {
            return Err(FixityError::PartialRebuild {
                index: location.display(),
            })
        }
        (None, _) if !index.is_empty()? => {
            return Err(FixityError::NotEmpty {
                index: location.display(),
            })
        }
        (None, _) => {}
    }
    // Until the last row is restored, every other command refuses this index.
    index.mark_rebuild(Some(&crate::timefmt::now_rfc3339()))?;
    let done = restore_everything(&archive, &mut index)?;
    index.mark_rebuild(None)?;
    Ok(done)
}

/// Removes a SQLite index that a rebuild left half made (and its journal).
fn remove_partial_index(path: &Path) -> Result<(), FixityError> {
    for file in [path.to_owned(), crate::index::journal_of(path)] {
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(StoreError::Io { path: file, source }.into()),
        }
    }
    Ok(())
}

/// Every ledger entry, run, document, import, withdrawal, fixity event and verdict, from the
/// ledger file and the evidence records.
fn restore_everything(archive: &Archive, index: &mut Index) -> Result<Rebuilt, FixityError> {
    let ledger = read_ledger(archive)?;
    let (mut documents, imports) = read_records(archive)?;
    // Runs of the same second are put in their ledger order: which document came after which
    // (a rescan supersedes a failing scan of an earlier run) must survive the rebuild.
    let run_seq: std::collections::HashMap<&str, u64> = ledger
        .iter()
        .filter(|(_, _, e)| e.kind == "run")
        .map(|(_, _, e)| (e.subject.as_str(), e.seq))
        .collect();
    documents.sort_by_cached_key(|d| {
        let seq = run_seq.get(d.run_id.as_str()).copied().unwrap_or(u64::MAX);
        (d.archived_at.clone(), seq, d.path.clone(), d.version)
    });
    let mut done = Rebuilt::default();
    for (text, hash, entry) in &ledger {
        index.restore_ledger_entry(entry.seq, text, hash)?;
        done.ledger_entries += 1;
        if entry.kind == "run" {
            if let Some(intake) = restore_run(archive, index, entry)? {
                done.intake = Some(intake);
            }
            done.runs += 1;
        }
    }
    if let Some(intake) = &done.intake {
        restore_intake(index, intake)?;
    }
    for record in &documents {
        restore_document(archive, index, record, &mut done)?;
    }
    for record in &imports {
        restore_import(archive, index, record, &mut done)?;
    }
    for (_, _, entry) in ledger.iter().filter(|(_, _, e)| e.kind == "run") {
        replay_withdrawals(archive, index, entry)?;
    }
    for (_, _, entry) in ledger.iter().filter(|(_, _, e)| e.kind == "verify") {
        let outcome = match entry.summary.get("outcome").and_then(|o| o.as_str()) {
            Some("pass") => "success",
            _ => "failure",
        };
        let detail = format!("restored by rebuild-index from ledger entry {}", entry.seq);
        index.restore_fixity_events(&entry.at, outcome, &detail)?;
    }
    // Audit verdicts (`dossier audit record`): their events come back from their entries.
    for (_, _, entry) in ledger.iter().filter(|(_, _, e)| e.kind == "audit") {
        index.restore_verdict_events(entry)?;
    }
    Ok(done)
}

/// The ledger file's entries, with the chain checked: (text, hash, entry).
fn read_ledger(archive: &Archive) -> Result<Vec<(String, String, LedgerEntry)>, FixityError> {
    let path = archive.ledger_path();
    let text = std::fs::read_to_string(&path).map_err(|source| StoreError::Io {
        path: path.clone(),
        source,
    })?;
    let mut prev = GENESIS.to_owned();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let broken = |why: &str| FixityError::BrokenLedger {
            line: i + 1,
            why: why.to_owned(),
        };
        let entry: LedgerEntry = serde_json::from_str(line).map_err(|e| broken(&e.to_string()))?;
        if entry.prev != prev || entry.seq != i as u64 + 1 {
            return Err(broken("the chain is broken here"));
        }
        prev = sha256_hex(line.as_bytes());
        out.push((line.to_owned(), prev.clone(), entry));
    }
    Ok(out)
}

/// Every evidence record in the store: documents in commit order, imports in run order.
fn read_records(
    archive: &Archive,
) -> Result<(Vec<DocumentRecord>, Vec<ImportRecord>), FixityError> {
    let mut documents = Vec::new();
    let mut imports = Vec::new();
    let objects = archive.objects_dir();
    for entry in walkdir::WalkDir::new(&objects).min_depth(2).max_depth(2) {
        let entry = entry.map_err(|e| StoreError::Io {
            path: objects.clone(),
            source: e.into(),
        })?;
        // Records are small and begin with their kind: read the head of every object first.
        if !entry.file_type().is_file() || entry.metadata().map_or(0, |m| m.len()) > 16 << 20 {
            continue;
        }
        let bytes = std::fs::read(entry.path()).map_err(|source| StoreError::Io {
            path: entry.path().to_owned(),
            source,
        })?;
        if let Some(d) = evidence::as_document_record(&bytes) {
            documents.push(d);
        } else if let Some(i) = evidence::as_import_record(&bytes) {
            imports.push(i);
        }
    }
    documents.sort_by(|a, b| {
        (&a.archived_at, &a.path, a.version).cmp(&(&b.archived_at, &b.path, b.version))
    });
    // The run ids begin with their start time; a run imports its register, then its catalog.
    imports.sort_by(|a, b| (&a.run_id, &b.record).cmp(&(&b.run_id, &a.record)));
    Ok((documents, imports))
}

/// A run's row, from its report file; the intake the report names, if it names one.
fn restore_run(
    archive: &Archive,
    index: &Index,
    entry: &LedgerEntry,
) -> Result<Option<String>, FixityError> {
    let path = archive.runs_dir().join(format!("{}.json", entry.subject));
    let report = std::fs::read_to_string(&path).unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(&report).unwrap_or_default();
    let field = |k: &str| json.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let started_at = field("started_at").unwrap_or_else(|| entry.at.clone());
    let pipeline = field("pipeline").unwrap_or_default();
    index.restore_run(entry, &pipeline, &started_at, &report)?;
    Ok(field("intake").filter(|i| !i.is_empty()))
}

/// The archive's own intake (`meta.intake`, see `pipeline::session`): without it a run over
/// another intake would no longer be refused after a rebuild.
fn restore_intake(index: &Index, intake: &str) -> Result<(), FixityError> {
    use crate::index::db::Value;
    index
        .db()
        .execute(
            "INSERT INTO meta(key, value) VALUES ('intake', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            &[Value::Text(intake.to_owned())],
        )
        .map_err(|e| index.err(e))?;
    Ok(())
}

/// The intake files a run found withdrawn or back (its run report lists them).
fn replay_withdrawals(
    archive: &Archive,
    index: &Index,
    entry: &LedgerEntry,
) -> Result<(), FixityError> {
    let path = archive.runs_dir().join(format!("{}.json", entry.subject));
    let Ok(report) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let json: serde_json::Value = serde_json::from_str(&report).unwrap_or_default();
    let paths = |k: &str| -> Vec<String> {
        json.get(k)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|p| p.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (withdrawn, returned) = (paths("withdrawn"), paths("returned"));
    if withdrawn.is_empty() && returned.is_empty() {
        return Ok(());
    }
    let started_at = json
        .get("started_at")
        .and_then(|v| v.as_str())
        .unwrap_or(&entry.at);
    index.replay_withdrawals(&entry.subject, started_at, &withdrawn, &returned)?;
    Ok(())
}

fn restore_document(
    archive: &Archive,
    index: &mut Index,
    r: &DocumentRecord,
    done: &mut Rebuilt,
) -> Result<(), FixityError> {
    let mut pages = Vec::with_capacity(r.pages.len());
    for p in &r.pages {
        let text = match &p.text_sha256 {
            Some(sha) => std::fs::read_to_string(archive.object_path(sha)).unwrap_or_default(),
            None => String::new(),
        };
        pages.push(NewPage {
            page: p.page,
            width: p.width,
            height: p.height,
            dpi: p.dpi,
            dpi_source: known(&p.dpi_source, &["metadata", "estimated_a4", "not_scanned"]),
            blank: p.blank,
            confidence: p.confidence,
            text,
            text_sha256: p.text_sha256.clone(),
            hocr_sha256: p.hocr_sha256.clone(),
            ocr_seconds: p.ocr_seconds,
            text_source: known(&p.text_source, &["ocr", "text_layer"]),
            turned: p.turned,
            deskewed: p.deskewed,
            source_page: p.source_page,
        });
    }
    let doc = NewDocument {
        path: r.path.clone(),
        procedure: r.procedure.clone(),
        dossier: r.dossier.clone(),
        unit: r.unit.clone(),
        kind: Kind::parse(&r.kind).unwrap_or(Kind::Input),
        sha256: r.sha256.clone(),
        bytes: r.bytes,
        mtime_ns: r.mtime_ns,
        media_type: r.media_type.as_deref().map(|m| {
            known(
                m,
                &["image/jpeg", "image/png", "image/tiff", "application/pdf"],
            )
        }),
        archived_at: r.archived_at.clone(),
        run_id: r.run_id.clone(),
        rejected: r.rejected.clone(),
        reasons: r.reasons.clone(),
        pages,
        searchable_pdf: r.searchable_pdf.clone(),
        intake_file: r.intake_file,
    };
    let committed = index.add_document(&doc)?;
    let rebuilt = match r.recorded_at_upgrade {
        Some(_) => index.restore_recorded_at_upgrade(r)?,
        None => committed.record_sha256,
    };
    if rebuilt != evidence::encode(r).1 {
        done.mismatches
            .push(format!("{} version {}", r.path, r.version));
    }
    done.documents += 1;
    done.pages += doc.pages.len();
    Ok(())
}

fn restore_import(
    archive: &Archive,
    index: &mut Index,
    r: &ImportRecord,
    done: &mut Rebuilt,
) -> Result<(), FixityError> {
    let bytes = std::fs::read(archive.object_path(&r.sha256)).unwrap_or_default();
    let source = Source::Bytes {
        bytes: &bytes,
        name: &r.source,
    };
    let unreadable = || format!("{} import of {} (run {})", r.record, r.source, r.run_id);
    let result = if r.record == "register" {
        crate::register::read_register_from(source, None)
            .ok()
            .map(|reg| {
                index.replace_register(&reg.rows, &r.run_id, &r.source, &r.sha256, &reg.problems)
            })
    } else {
        crate::register::read_catalog_from(source)
            .ok()
            .map(|(rows, problems, _)| {
                index.import_catalog(&rows, &r.run_id, &r.source, &r.sha256, &problems)
            })
    };
    let mut restored = result.transpose()?.map(|c| c.sha256);
    if restored.is_some() && r.recorded_at_upgrade.is_some() {
        restored = Some(index.restore_import_recorded_at_upgrade(r)?);
    }
    if restored != Some(evidence::encode(r).1) {
        done.mismatches.push(unreadable());
    }
    done.imports += 1;
    Ok(())
}

/// The static name among `names` equal to `value` (the index takes static names for these).
fn known(value: &str, names: &[&'static str]) -> &'static str {
    names.iter().copied().find(|n| *n == value).unwrap_or("")
}
