//! Records for what was archived before records were kept (an index made before schema 4):
//! written once, at the first run or verify of a version that keeps them, from the index rows
//! as they are then, and committed to by a ledger entry of kind `upgrade`.
//!
//! Only rows whose run no ledger entry vouches for with records are recorded so: a record hash
//! taken off a document of a run that had records stays a verify finding, never recorded
//! again over edited rows. Each record says it was written at the upgrade
//! (`recorded_at_upgrade`, the upgrade's ledger subject), and so does its row: a run's root
//! leaves those records out, the upgrade entry's root covers them, and verify lists them apart.
//!
//! The rows and the ledger entry are one transaction (on PostgreSQL under an advisory lock, so
//! that workers starting together upgrade once); the record objects are written after it,
//! and written again from the rows by the next upgrade pass if a crash came between.

use std::collections::HashSet;

use super::audit::{append_entry, merkle_root, LedgerEntry, LedgerHead, GENESIS};
use super::db::{vals, Backend, Db, DbError};
use super::imports::EncodedRecord;
use super::records::{import_row, record_of, recorded_chunks, upgrade_record_leaves, Which, AGENT};
use super::{Index, IndexError};
use crate::evidence::{self, DocumentRecord, ImportRecord};

/// What an upgrade recorded: its ledger head and the records to keep in the store.
#[derive(Debug)]
pub struct Upgrade {
    pub head: LedgerHead,
    pub documents: u64,
    pub imports: u64,
    pub records: Vec<EncodedRecord>,
}

impl Index {
    /// Records every document and import archived before records were kept whose run no
    /// ledger entry vouches for with records (`vouched_runs`); `None` when there is none.
    /// The caller stores the records returned.
    pub fn record_at_upgrade(
        &mut self,
        vouched_runs: &HashSet<String>,
        at: &str,
    ) -> Result<Option<Upgrade>, IndexError> {
        let subject = format!("records at upgrade {at}");
        self.transaction(|tx| {
            if tx.backend() == Backend::Postgres {
                tx.execute("SELECT pg_advisory_xact_lock(4244)", &[])?;
            }
            let mut records = Vec::new();
            let mut leaves = Vec::new();
            let documents = record_documents(tx, vouched_runs, &subject, &mut records)?;
            leaves.extend(records.iter().map(|r: &EncodedRecord| r.sha256.clone()));
            let imports = record_imports(tx, vouched_runs, &subject, &mut records)?;
            leaves.extend(records.iter().skip(documents as usize).map(|r| r.sha256.clone()));
            if records.is_empty() {
                return Ok(None);
            }
            leaves.sort();
            let summary = serde_json::json!({
                "documents": documents,
                "imports": imports,
                "why": "archived before records were kept: recorded from the index rows as they are at this upgrade",
            });
            let head = append_entry(tx, |seq, prev| LedgerEntry {
                seq,
                kind: "upgrade".into(),
                at: at.to_owned(),
                program: AGENT.into(),
                subject: subject.clone(),
                documents,
                documents_root: GENESIS.into(),
                report_sha256: None,
                records_root: Some(merkle_root(&leaves)),
                summary: summary.clone(),
                prev,
            })?;
            Ok(Some(Upgrade {
                head,
                documents,
                imports,
                records,
            }))
        })
    }

    /// The Merkle root over the records an upgrade wrote, as the index holds them now.
    pub fn upgrade_records_root(&self, upgrade: &str) -> Result<String, IndexError> {
        let leaves = upgrade_record_leaves(&mut self.db(), upgrade).map_err(|e| self.err(e))?;
        Ok(merkle_root(&leaves))
    }

    /// The records written at upgrades, built again from their rows: (hash, bytes) of those
    /// whose rows still give the hash they carry (to write again one a crash left unwritten).
    pub fn upgrade_records(&self) -> Result<Vec<EncodedRecord>, IndexError> {
        let mut out = Vec::new();
        let mut db = self.db();
        recorded_chunks(&mut db, Which::Upgraded, |chunk| {
            for d in chunk {
                let (bytes, sha256) = evidence::encode(&d.record);
                if d.record_sha256.as_deref() == Some(sha256.as_str()) {
                    out.push(EncodedRecord { bytes, sha256 });
                }
            }
            Ok(())
        })
        .map_err(|e| self.err(e))?;
        drop(db);
        for (record, kept) in self.imports_as_recorded(None)? {
            if record.recorded_at_upgrade.is_some() {
                let (bytes, sha256) = evidence::encode(&record);
                if kept.as_deref() == Some(sha256.as_str()) {
                    out.push(EncodedRecord { bytes, sha256 });
                }
            }
        }
        Ok(out)
    }

    /// Rebuilding: document `r` (just committed again) was recorded at an upgrade: its row
    /// says so and holds the events its record holds (what its rows held then, not what a
    /// commit writes). Returns the record hash its rows now give, which it then carries.
    pub fn restore_recorded_at_upgrade(
        &mut self,
        r: &DocumentRecord,
    ) -> Result<String, IndexError> {
        self.transaction(|tx| {
            let id: i64 = tx
                .query_one(
                    "SELECT id FROM documents WHERE path = ?1 AND version = ?2",
                    &vals![&r.path, r.version],
                )?
                .get(0)?;
            tx.execute(
                "DELETE FROM events WHERE document_id = ?1
                   AND type NOT IN ('fixity check', 'audit verdict')",
                &vals![id],
            )?;
            for e in &r.events {
                tx.execute(
                    "INSERT INTO events(document_id, type, at, agent, outcome, detail)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    &vals![id, &e.kind, &e.at, &e.agent, &e.outcome, &e.detail],
                )?;
            }
            tx.execute(
                "UPDATE documents SET recorded_at_upgrade = ?1 WHERE id = ?2",
                &vals![&r.recorded_at_upgrade, id],
            )?;
            let rebuilt = record_of(tx, id)?.map(|d| evidence::encode(&d.record).1);
            let hash = rebuilt.unwrap_or_default();
            tx.execute(
                "UPDATE documents SET record_sha256 = ?1 WHERE id = ?2",
                &vals![&hash, id],
            )?;
            Ok(hash)
        })
    }

    /// Rebuilding: the import just made again from `r` was recorded at an upgrade (the
    /// digest of the rows an older import brought is not known: the record's is kept).
    /// Returns the record hash its row now gives, which it then carries.
    pub fn restore_import_recorded_at_upgrade(
        &mut self,
        r: &ImportRecord,
    ) -> Result<String, IndexError> {
        self.transaction(|tx| {
            let id: i64 = tx.query_one("SELECT MAX(id) FROM imports", &[])?.get(0)?;
            tx.execute(
                "UPDATE imports SET recorded_at_upgrade = ?1, rows_sha256 = ?2 WHERE id = ?3",
                &vals![&r.recorded_at_upgrade, &r.rows_sha256, id],
            )?;
            let row = tx.query_one(
                "SELECT what, run_id, source, sha256, rows, problems, COALESCE(rows_sha256, ''),
                        record_sha256, recorded_at_upgrade
                 FROM imports WHERE id = ?1",
                &vals![id],
            )?;
            let hash = evidence::encode(&import_row(&row)?).1;
            tx.execute(
                "UPDATE imports SET record_sha256 = ?1 WHERE id = ?2",
                &vals![&hash, id],
            )?;
            Ok(hash)
        })
    }

    /// The record hashes the rows of upgraded documents and imports carry.
    pub fn upgrade_record_hashes(&self) -> Result<Vec<String>, IndexError> {
        let mut out = Vec::new();
        for table in ["documents", "imports"] {
            self.db()
                .for_each(
                    &format!(
                        "SELECT record_sha256 FROM {table}
                         WHERE recorded_at_upgrade IS NOT NULL AND record_sha256 IS NOT NULL"
                    ),
                    &[],
                    |r| {
                        out.push(r.get::<String>(0)?);
                        Ok::<_, DbError>(())
                    },
                )
                .map_err(|e| self.err(e))?;
        }
        Ok(out)
    }
}

/// Records the unrecorded documents of unvouched runs; returns how many.
fn record_documents(
    tx: &mut Db,
    vouched_runs: &HashSet<String>,
    subject: &str,
    records: &mut Vec<EncodedRecord>,
) -> Result<u64, DbError> {
    let mut chosen = Vec::new();
    recorded_chunks(tx, Which::Unrecorded, |chunk| {
        chosen.extend(
            chunk
                .into_iter()
                .filter(|d| !vouched_runs.contains(&d.record.run_id)),
        );
        Ok(())
    })?;
    for mut d in chosen {
        d.record.recorded_at_upgrade = Some(subject.to_owned());
        let (bytes, sha256) = evidence::encode(&d.record);
        tx.execute(
            "UPDATE documents SET record_sha256 = ?1, recorded_at_upgrade = ?2
             WHERE id = ?3 AND record_sha256 IS NULL",
            &vals![&sha256, subject, d.id],
        )?;
        records.push(EncodedRecord { bytes, sha256 });
    }
    Ok(records.len() as u64)
}

/// Records the unrecorded imports of unvouched runs: the latest register and catalog imports
/// with the digest of the rows the index holds now (theirs), older ones without (unknown).
fn record_imports(
    tx: &mut Db,
    vouched_runs: &HashSet<String>,
    subject: &str,
    records: &mut Vec<EncodedRecord>,
) -> Result<u64, DbError> {
    let mut chosen = Vec::new();
    tx.for_each(
        "SELECT what, run_id, source, sha256, rows, problems, COALESCE(rows_sha256, ''),
                record_sha256, recorded_at_upgrade, id,
                CASE WHEN id = (SELECT MAX(l.id) FROM imports l WHERE l.what = imports.what)
                     THEN 1 ELSE 0 END
         FROM imports WHERE record_sha256 IS NULL ORDER BY id",
        &[],
        |r| {
            chosen.push((import_row(r)?, r.get::<i64>(9)?, r.get::<i64>(10)? == 1));
            Ok::<_, DbError>(())
        },
    )?;
    let mut count = 0;
    for (mut record, id, latest) in chosen {
        if vouched_runs.contains(&record.run_id) {
            continue;
        }
        if latest && record.rows_sha256.is_empty() {
            record.rows_sha256 = match record.record.as_str() {
                "register" => super::imports::register_digest(tx)?,
                _ => super::imports::catalog_digest(tx)?,
            };
        }
        record.recorded_at_upgrade = Some(subject.to_owned());
        let (bytes, sha256) = evidence::encode(&record);
        tx.execute(
            "UPDATE imports SET rows_sha256 = ?1, record_sha256 = ?2, recorded_at_upgrade = ?3
             WHERE id = ?4",
            &vals![&record.rows_sha256, &sha256, subject, id],
        )?;
        records.push(EncodedRecord { bytes, sha256 });
        count += 1;
    }
    Ok(count)
}
