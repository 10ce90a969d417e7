//! What fixity checks need from the index: the run ledger, the objects every row refers to,
//! and fixity events. (The consistency of the tables with each other is `consistency`'s.)

use serde::{Deserialize, Serialize};

use super::db::{vals, Backend, Db, DbError};
use super::{Index, IndexError};
use crate::store::sha256_hex;

/// The hash before the first ledger entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One ledger entry. Its hash is the SHA-256 of its JSON text as stored; `prev` chains it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LedgerEntry {
    pub seq: u64,
    /// `run` or `verify`.
    pub kind: String,
    pub at: String,
    pub program: String,
    /// The run id, or the verify's mode.
    pub subject: String,
    /// Documents added by a run (0 for verify).
    pub documents: u64,
    /// Merkle root over the documents added (`path`, `version`, `sha256`), see [`merkle_root`].
    pub documents_root: String,
    /// SHA-256 of the run report file (`runs/RUN_ID.json`), for runs.
    pub report_sha256: Option<String>,
    /// Merkle root over the sorted hashes of the evidence records a run added (documents and
    /// imports; see `evidence.rs`). Absent in entries written before records existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records_root: Option<String>,
    /// Counts and outcome, as the entry's kind has them.
    pub summary: serde_json::Value,
    pub prev: String,
}

/// The head of the ledger: ties a set of figures to one state of the archive.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LedgerHead {
    pub seq: u64,
    pub hash: String,
}

/// `SEQ:HASH`, as reports print a head and `verify --since` takes it.
impl std::fmt::Display for LedgerHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

/// Merkle root over leaf strings (SHA-256 of each, then pairs hashed upwards; an odd one is
/// carried up). The empty set has the all-zero root.
pub fn merkle_root(leaves: &[String]) -> String {
    if leaves.is_empty() {
        return GENESIS.to_owned();
    }
    let mut level: Vec<[u8; 32]> = leaves
        .iter()
        .map(|l| {
            use sha2::Digest;
            sha2::Sha256::digest(l.as_bytes()).into()
        })
        .collect();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [a, b] => {
                    use sha2::Digest;
                    let mut h = sha2::Sha256::new();
                    h.update(a);
                    h.update(b);
                    h.finalize().into()
                }
                [a] => *a,
                _ => unreachable!("chunks of two"),
            })
            .collect();
    }
    crate::store::hex(&level[0])
}

/// An object the index refers to, and who refers to it.
#[derive(Debug, Clone)]
pub struct ObjectRef {
    pub sha256: String,
    /// Known size (originals only).
    pub bytes: Option<u64>,
    /// What it is, for findings: "original", "OCR text page 2", "hOCR page 2", "register import".
    pub what: String,
    /// The intake path of the document it belongs to, if any.
    pub document: Option<String>,
    pub dossier_code: Option<String>,
    pub document_id: Option<i64>,
}

impl Index {
    /// The media type recorded for one version of a document.
    pub fn media_type(&self, path: &str, version: u32) -> Result<Option<String>, IndexError> {
        let row = self
            .db()
            .query_opt(
                "SELECT media_type FROM documents WHERE path = ?1 AND version = ?2",
                &vals![path, version],
            )
            .map_err(|e| self.err(e))?;
        row.map(|r| r.get::<Option<String>>(0))
            .transpose()
            .map(Option::flatten)
            .map_err(|e| self.err(e))
    }

    /// Leaves of a run's documents, in (path, version) order.
    fn run_leaves(&self, run_id: &str) -> Result<Vec<String>, IndexError> {
        let mut out = Vec::new();
        self.db()
            .for_each(
                "SELECT path, version, sha256 FROM documents WHERE run_id = ?1 ORDER BY path, version",
                &vals![run_id],
                |r| {
                    out.push(format!("{}\n{}\n{}", r.str(0)?, r.get::<i64>(1)?, r.str(2)?));
                    Ok::<_, DbError>(())
                },
            )
            .map_err(|e| self.err(e))?;
        Ok(out)
    }

    /// Finishes a run and appends its ledger entry, in one transaction. Returns the new head.
    pub fn finish_run_with_ledger(
        &mut self,
        run_id: &str,
        finished_at: &str,
        report_json: &str,
        report_sha256: &str,
        summary: serde_json::Value,
    ) -> Result<LedgerHead, IndexError> {
        let leaves = self.run_leaves(run_id)?;
        let records =
            super::records::run_record_leaves(&mut self.db(), run_id).map_err(|e| self.err(e))?;
        let entry = |seq: u64, prev: String| LedgerEntry {
            seq,
            kind: "run".into(),
            at: finished_at.to_owned(),
            program: concat!("dossier ", env!("CARGO_PKG_VERSION")).into(),
            subject: run_id.to_owned(),
            documents: leaves.len() as u64,
            documents_root: merkle_root(&leaves),
            report_sha256: Some(report_sha256.to_owned()),
            records_root: Some(merkle_root(&records)),
            summary: summary.clone(),
            prev,
        };
        self.transaction(|tx| {
            let changed = tx.execute(
                "UPDATE runs SET finished_at = ?2, report = ?3, report_sha256 = ?4,
                                 lease_until = NULL
                 WHERE run_id = ?1 AND finished_at IS NULL",
                &vals![run_id, finished_at, report_json, report_sha256],
            )?;
            if changed == 0 {
                // Finished already: two workers closing the same killed run, one entry.
                let head = tx.query_one(
                    "SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1",
                    &[],
                )?;
                return Ok(LedgerHead {
                    seq: head.get(0)?,
                    hash: head.get(1)?,
                });
            }
            // Whatever it had not finished is free for others at once.
            tx.execute("DELETE FROM claims WHERE run_id = ?1", &vals![run_id])?;
            append_entry(tx, entry)
        })
    }

    /// Appends a verify entry and one fixity event per document checked, in one transaction.
    pub fn record_verify(
        &mut self,
        at: &str,
        mode: &str,
        summary: serde_json::Value,
        outcomes: &[(i64, bool, String)],
    ) -> Result<LedgerHead, IndexError> {
        let agent = concat!("dossier ", env!("CARGO_PKG_VERSION"));
        self.transaction(|tx| {
            for (id, ok, detail) in outcomes {
                tx.execute(
                    "INSERT INTO events(document_id, type, at, agent, outcome, detail)
                     VALUES (?1, 'fixity check', ?2, ?3, ?4, ?5)",
                    &vals![
                        *id,
                        at,
                        agent,
                        if *ok { "success" } else { "failure" },
                        detail
                    ],
                )?;
            }
            append_entry(tx, |seq, prev| LedgerEntry {
                seq,
                kind: "verify".into(),
                at: at.to_owned(),
                program: agent.into(),
                subject: mode.to_owned(),
                documents: 0,
                documents_root: GENESIS.into(),
                report_sha256: None,
                records_root: None,
                summary: summary.clone(),
                prev,
            })
        })
    }

    /// The Merkle root over the records a run added, as the index holds them now.
    pub fn run_records_root(&self, run_id: &str) -> Result<String, IndexError> {
        let leaves =
            super::records::run_record_leaves(&mut self.db(), run_id).map_err(|e| self.err(e))?;
        Ok(merkle_root(&leaves))
    }

    /// Rebuilding: a finished run as its ledger entry and report file say it was.
    pub fn restore_run(
        &self,
        entry: &LedgerEntry,
        pipeline: &str,
        started_at: &str,
        report: &str,
    ) -> Result<(), IndexError> {
        self.db()
            .execute(
                "INSERT INTO runs(run_id, pipeline, started_at, finished_at, report, report_sha256)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                &vals![
                    &entry.subject,
                    pipeline,
                    started_at,
                    &entry.at,
                    report,
                    &entry.report_sha256
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Rebuilding: a ledger entry exactly as the ledger file holds it.
    pub fn restore_ledger_entry(&self, seq: u64, text: &str, hash: &str) -> Result<(), IndexError> {
        self.db()
            .execute(
                "INSERT INTO ledger(seq, entry, hash) VALUES (?1, ?2, ?3)",
                &vals![seq, text, hash],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Rebuilding: the fixity events of a verify at `at`, one per document archived by then
    /// (its ledger entry gives their number and the outcome, not each document's).
    pub fn restore_fixity_events(
        &mut self,
        at: &str,
        outcome: &str,
        detail: &str,
    ) -> Result<u64, IndexError> {
        self.transaction(|tx| {
            tx.execute(
                "INSERT INTO events(document_id, type, at, agent, outcome, detail)
                 SELECT id, 'fixity check', ?1, ?2, ?3, ?4 FROM documents
                 WHERE archived_at <= ?1 ORDER BY id",
                &vals![at, super::records::AGENT, outcome, detail],
            )
        })
    }

    /// An index with no run and no ledger entry: new, or lost and made again.
    pub fn is_empty(&self) -> Result<bool, IndexError> {
        self.db()
            .query_one(
                "SELECT CASE WHEN EXISTS(SELECT 1 FROM runs) OR EXISTS(SELECT 1 FROM ledger)
                        THEN 0 ELSE 1 END",
                &[],
            )
            .and_then(|r| r.get::<i64>(0))
            .map(|v| v == 1)
            .map_err(|e| self.err(e))
    }

    /// How many fixity events each verify (by its time) recorded.
    pub fn fixity_event_counts(&self) -> Result<Vec<(String, u64)>, IndexError> {
        self.string_pairs(
            "SELECT at, COUNT(*) FROM events WHERE type = 'fixity check' GROUP BY at ORDER BY at",
        )
    }

    /// Every ledger entry as stored: (seq, entry text, hash).
    pub fn ledger(&self) -> Result<Vec<(u64, String, String)>, IndexError> {
        let mut out = Vec::new();
        self.db()
            .for_each(
                "SELECT seq, entry, hash FROM ledger ORDER BY seq",
                &[],
                |r| {
                    out.push((r.get(0)?, r.get(1)?, r.get(2)?));
                    Ok::<_, DbError>(())
                },
            )
            .map_err(|e| self.err(e))?;
        Ok(out)
    }

    /// Calls `copy` with every ledger entry while none can be appended (on a shared index the
    /// table is share-locked until `copy` returns): a copy of the ledger written by one worker
    /// is never older than one another worker wrote before it.
    pub fn with_ledger<T, E: From<IndexError>>(
        &self,
        copy: impl FnOnce(Vec<(u64, String, String)>) -> Result<T, E>,
    ) -> Result<T, E> {
        if self.backend() == Backend::Sqlite {
            // The archive lock already keeps other writers out.
            return copy(self.ledger()?);
        }
        let mut db = self.db();
        db.batch("BEGIN; LOCK TABLE ledger IN SHARE MODE")
            .map_err(|e| self.err(e))?;
        let mut entries = Vec::new();
        let read = db.for_each(
            "SELECT seq, entry, hash FROM ledger ORDER BY seq",
            &[],
            |r| {
                entries.push((r.get(0)?, r.get(1)?, r.get(2)?));
                Ok::<_, DbError>(())
            },
        );
        let result = match read {
            Ok(()) => copy(entries),
            Err(e) => Err(self.err(e).into()),
        };
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        db.batch(end).map_err(|e| self.err(e))?;
        result
    }

    pub fn ledger_head(&self) -> Result<Option<LedgerHead>, IndexError> {
        let row = self
            .db()
            .query_opt(
                "SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1",
                &[],
            )
            .map_err(|e| self.err(e))?;
        row.map(|r| {
            Ok(LedgerHead {
                seq: r.get(0)?,
                hash: r.get(1)?,
            })
        })
        .transpose()
        .map_err(|e: DbError| self.err(e))
    }

    /// The Merkle root of a run's documents as the index holds them now.
    pub fn run_documents_root(&self, run_id: &str) -> Result<(u64, String), IndexError> {
        let leaves = self.run_leaves(run_id)?;
        Ok((leaves.len() as u64, merkle_root(&leaves)))
    }

    /// Runs that began but never finished, and are not alive: killed. (A run sharing the
    /// index keeps a lease while it works; one on SQLite holds the archive lock instead.)
    pub fn unfinished_runs(&self) -> Result<Vec<String>, IndexError> {
        let sql = format!(
            "SELECT run_id FROM runs WHERE finished_at IS NULL
               AND (lease_until IS NULL OR lease_until < {})
             ORDER BY run_id",
            self.db().now_ms_sql()
        );
        self.strings(&sql)
    }

    fn strings(&self, sql: &str) -> Result<Vec<String>, IndexError> {
        let mut out = Vec::new();
        self.db()
            .for_each(sql, &[], |r| {
                out.push(r.get(0)?);
                Ok::<_, DbError>(())
            })
            .map_err(|e| self.err(e))?;
        Ok(out)
    }

    fn string_pairs<B: super::db::FromValue>(
        &self,
        sql: &str,
    ) -> Result<Vec<(String, B)>, IndexError> {
        let mut out = Vec::new();
        self.db()
            .for_each(sql, &[], |r| {
                out.push((r.get(0)?, r.get(1)?));
                Ok::<_, DbError>(())
            })
            .map_err(|e| self.err(e))?;
        Ok(out)
    }

    /// Finished runs with their report text: (run_id, report).
    pub fn finished_run_reports(&self) -> Result<Vec<(String, String)>, IndexError> {
        self.string_pairs(
            "SELECT run_id, report FROM runs
             WHERE finished_at IS NOT NULL AND report IS NOT NULL ORDER BY run_id",
        )
    }

    /// When a rebuild-index began that has not finished: its marker is written before the
    /// first restored row and removed after the last.
    pub fn rebuild_under_way(&self) -> Result<Option<String>, IndexError> {
        self.db()
            .query_opt(
                "SELECT value FROM meta WHERE key = 'rebuild_started_at'",
                &[],
            )
            .and_then(|row| row.map(|r| r.get::<String>(0)).transpose())
            .map_err(|e| self.err(e))
    }

    /// Marks (`Some(started_at)`) or unmarks (`None`) a rebuild under way, in its own commit.
    pub(crate) fn mark_rebuild(&mut self, started_at: Option<&str>) -> Result<(), IndexError> {
        self.transaction(|db| {
            match started_at {
                Some(at) => db.execute(
                    "INSERT INTO meta(key, value) VALUES ('rebuild_started_at', ?1)",
                    &vals![at],
                )?,
                None => db.execute("DELETE FROM meta WHERE key = 'rebuild_started_at'", &[])?,
            };
            Ok(())
        })
    }

    /// Runs begun and not finished (killed, or still at work): (run_id, started_at), oldest
    /// first.
    pub fn runs_under_way(&self) -> Result<Vec<(String, String)>, IndexError> {
        self.string_pairs(
            "SELECT run_id, started_at FROM runs WHERE finished_at IS NULL ORDER BY started_at",
        )
    }

    /// Finished runs: (run_id, report_sha256).
    pub fn finished_runs(&self) -> Result<Vec<(String, Option<String>)>, IndexError> {
        self.string_pairs(
            "SELECT run_id, report_sha256 FROM runs WHERE finished_at IS NOT NULL ORDER BY run_id",
        )
    }

    /// Every object the index refers to: originals, OCR text, hOCR, imported files.
    pub fn referenced_objects(&self) -> Result<Vec<ObjectRef>, IndexError> {
        let mut out = Vec::new();
        let mut db = self.db();
        let result = (|| -> Result<(), DbError> {
            db.for_each(
                "SELECT id, sha256, bytes, path, dossier_code, searchable_pdf, record_sha256
                 FROM documents ORDER BY id",
                &[],
                |r| {
                    let original = ObjectRef {
                        document_id: Some(r.get(0)?),
                        sha256: r.get(1)?,
                        bytes: Some(r.get(2)?),
                        what: "original".into(),
                        document: Some(r.get(3)?),
                        dossier_code: Some(r.get(4)?),
                    };
                    let derivative = r
                        .get::<Option<String>>(5)?
                        .filter(|s| *s != original.sha256)
                        .map(|sha256| ObjectRef {
                            sha256,
                            bytes: None,
                            what: "searchable PDF".into(),
                            ..original.clone()
                        });
                    let record = r.get::<Option<String>>(6)?.map(|sha256| ObjectRef {
                        sha256,
                        bytes: None,
                        what: "evidence record".into(),
                        ..original.clone()
                    });
                    out.push(original);
                    out.extend(derivative);
                    out.extend(record);
                    Ok::<_, DbError>(())
                },
            )?;
            db.for_each(
                "SELECT d.id, d.path, d.dossier_code, p.page, p.text_sha256, p.hocr_sha256
                 FROM pages p JOIN documents d ON d.id = p.document_id ORDER BY d.id, p.page",
                &[],
                |r| {
                    let page: i64 = r.get(3)?;
                    for (column, what) in [(4, "OCR text"), (5, "hOCR")] {
                        if let Some(sha256) = r.get::<Option<String>>(column)? {
                            out.push(ObjectRef {
                                sha256,
                                bytes: None,
                                what: format!("{what} of page {page}"),
                                document: Some(r.get(1)?),
                                dossier_code: Some(r.get(2)?),
                                document_id: Some(r.get(0)?),
                            });
                        }
                    }
                    Ok::<_, DbError>(())
                },
            )?;
            db.for_each("SELECT sha256, path FROM batches ORDER BY id", &[], |r| {
                out.push(ObjectRef {
                    sha256: r.get(0)?,
                    bytes: None,
                    what: format!("batch scan {}", r.str(1)?),
                    document: None,
                    dossier_code: None,
                    document_id: None,
                });
                Ok::<_, DbError>(())
            })?;
            db.for_each(
                "SELECT sha256, what, source, record_sha256 FROM imports ORDER BY id",
                &[],
                |r| {
                    let import = ObjectRef {
                        sha256: r.get(0)?,
                        bytes: None,
                        what: format!("{} import of {}", r.str(1)?, r.str(2)?),
                        document: None,
                        dossier_code: None,
                        document_id: None,
                    };
                    let record = r.get::<Option<String>>(3)?.map(|sha256| ObjectRef {
                        sha256,
                        what: format!("evidence record of the {}", import.what),
                        ..import.clone()
                    });
                    out.push(import);
                    out.extend(record);
                    Ok::<_, DbError>(())
                },
            )
        })();
        drop(db);
        result.map_err(|e| self.err(e))?;
        Ok(out)
    }
}

/// Appends one entry to the ledger. On a shared index the table is locked first, so that
/// concurrent workers append one after the other and the chain stays one chain.
pub(super) fn append_entry(
    tx: &mut Db,
    make: impl Fn(u64, String) -> LedgerEntry,
) -> Result<LedgerHead, DbError> {
    if tx.backend() == Backend::Postgres {
        tx.batch("LOCK TABLE ledger IN EXCLUSIVE MODE")?;
    }
    let last = tx.query_opt(
        "SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1",
        &[],
    )?;
    let (seq, prev) = match last {
        Some(r) => (r.get::<u64>(0)? + 1, r.get(1)?),
        None => (1, GENESIS.to_owned()),
    };
    let text = serde_json::to_string(&make(seq, prev)).expect("ledger entries serialize");
    let hash = sha256_hex(text.as_bytes());
    tx.execute(
        "INSERT INTO ledger(seq, entry, hash) VALUES (?1, ?2, ?3)",
        &vals![seq, text, &hash],
    )?;
    Ok(LedgerHead { seq, hash })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merkle_root_depends_on_every_leaf_and_its_order() {
        let leaves: Vec<String> = (0..5).map(|i| format!("leaf {i}")).collect();
        let root = merkle_root(&leaves);
        assert_eq!(root.len(), 64);
        let mut changed = leaves.clone();
        changed[4] = "leaf X".into();
        assert_ne!(merkle_root(&changed), root);
        let mut swapped = leaves.clone();
        swapped.swap(0, 1);
        assert_ne!(merkle_root(&swapped), root);
        assert_ne!(merkle_root(&leaves[..4]), root);
        assert_eq!(merkle_root(&[]), GENESIS);
        assert_eq!(merkle_root(&leaves[..1]), sha256_hex(b"leaf 0"));
    }
}
