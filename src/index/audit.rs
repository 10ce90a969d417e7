//! What fixity checks need from the index: the run ledger, the objects every row refers to,
//! fixity events, and the consistency of the tables with each other.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

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

/// An inconsistency between index tables.
#[derive(Debug, Clone)]
pub struct IndexProblem {
    pub document: Option<String>,
    pub dossier_code: Option<String>,
    pub detail: String,
}

impl Index {
    /// Received dates from the imported register, for filtering exports by period.
    pub fn register_received_dates(
        &self,
    ) -> Result<std::collections::HashMap<String, crate::coverage::date::Date>, IndexError> {
        let mut out = std::collections::HashMap::new();
        self.for_each_register_row(|r| {
            out.insert(r.dossier_code, r.received_on);
        })?;
        Ok(out)
    }

    /// The media type recorded for one version of a document.
    pub fn media_type(&self, path: &str, version: u32) -> Result<Option<String>, IndexError> {
        self.conn
            .query_row(
                "SELECT media_type FROM documents WHERE path = ?1 AND version = ?2",
                params![path, version],
                |r| r.get(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(|e| self.err(e))
    }

    /// Leaves of a run's documents, in (path, version) order.
    fn run_leaves(&self, run_id: &str) -> Result<Vec<String>, IndexError> {
        let mut st = self
            .conn
            .prepare("SELECT path, version, sha256 FROM documents WHERE run_id = ?1 ORDER BY path, version")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([run_id], |r| {
                Ok(format!(
                    "{}\n{}\n{}",
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?
                ))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
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
        let entry = |seq: u64, prev: String| LedgerEntry {
            seq,
            kind: "run".into(),
            at: finished_at.to_owned(),
            program: concat!("dossier ", env!("CARGO_PKG_VERSION")).into(),
            subject: run_id.to_owned(),
            documents: leaves.len() as u64,
            documents_root: merkle_root(&leaves),
            report_sha256: Some(report_sha256.to_owned()),
            summary: summary.clone(),
            prev,
        };
        let path = self.path.clone();
        let err = |source| IndexError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute(
            "UPDATE runs SET finished_at = ?2, report = ?3, report_sha256 = ?4 WHERE run_id = ?1",
            params![run_id, finished_at, report_json, report_sha256],
        )
        .map_err(err)?;
        let head = append_entry(&tx, entry).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(head)
    }

    /// Appends a verify entry and one fixity event per document checked, in one transaction.
    pub fn record_verify(
        &mut self,
        at: &str,
        mode: &str,
        summary: serde_json::Value,
        outcomes: &[(i64, bool, String)],
    ) -> Result<LedgerHead, IndexError> {
        let path = self.path.clone();
        let err = |source| IndexError::Sqlite {
            path: path.clone(),
            source,
        };
        let agent = concat!("dossier ", env!("CARGO_PKG_VERSION"));
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut st = tx
                .prepare(
                    "INSERT INTO events(document_id, type, at, agent, outcome, detail)
                     VALUES (?1, 'fixity check', ?2, ?3, ?4, ?5)",
                )
                .map_err(err)?;
            for (id, ok, detail) in outcomes {
                st.execute(params![
                    id,
                    at,
                    agent,
                    if *ok { "success" } else { "failure" },
                    detail
                ])
                .map_err(err)?;
            }
        }
        let head = append_entry(&tx, |seq, prev| LedgerEntry {
            seq,
            kind: "verify".into(),
            at: at.to_owned(),
            program: agent.into(),
            subject: mode.to_owned(),
            documents: 0,
            documents_root: GENESIS.into(),
            report_sha256: None,
            summary: summary.clone(),
            prev,
        })
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(head)
    }

    /// Every ledger entry as stored: (seq, entry text, hash).
    pub fn ledger(&self) -> Result<Vec<(u64, String, String)>, IndexError> {
        let mut st = self
            .conn
            .prepare("SELECT seq, entry, hash FROM ledger ORDER BY seq")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    pub fn ledger_head(&self) -> Result<Option<LedgerHead>, IndexError> {
        self.conn
            .query_row(
                "SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1",
                [],
                |r| {
                    Ok(LedgerHead {
                        seq: r.get::<_, i64>(0)? as u64,
                        hash: r.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The Merkle root of a run's documents as the index holds them now.
    pub fn run_documents_root(&self, run_id: &str) -> Result<(u64, String), IndexError> {
        let leaves = self.run_leaves(run_id)?;
        Ok((leaves.len() as u64, merkle_root(&leaves)))
    }

    /// Runs that began but never finished (killed).
    pub fn unfinished_runs(&self) -> Result<Vec<String>, IndexError> {
        let mut st = self
            .conn
            .prepare("SELECT run_id FROM runs WHERE finished_at IS NULL ORDER BY run_id")
            .map_err(|e| self.err(e))?;
        let rows = st.query_map([], |r| r.get(0)).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Finished runs with their report text: (run_id, report).
    pub fn finished_run_reports(&self) -> Result<Vec<(String, String)>, IndexError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT run_id, report FROM runs
                 WHERE finished_at IS NOT NULL AND report IS NOT NULL ORDER BY run_id",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Finished runs: (run_id, report_sha256).
    pub fn finished_runs(&self) -> Result<Vec<(String, Option<String>)>, IndexError> {
        let mut st = self
            .conn
            .prepare("SELECT run_id, report_sha256 FROM runs WHERE finished_at IS NOT NULL ORDER BY run_id")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Every object the index refers to: originals, OCR text, hOCR, imported files.
    pub fn referenced_objects(&self) -> Result<Vec<ObjectRef>, IndexError> {
        let mut out = Vec::new();
        let mut st = self
            .conn
            .prepare(
                "SELECT id, sha256, bytes, path, dossier_code, searchable_pdf FROM documents ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let get = || -> rusqlite::Result<(ObjectRef, Option<String>)> {
                Ok((
                    ObjectRef {
                        document_id: Some(r.get(0)?),
                        sha256: r.get(1)?,
                        bytes: Some(r.get::<_, i64>(2)? as u64),
                        what: "original".into(),
                        document: Some(r.get(3)?),
                        dossier_code: Some(r.get(4)?),
                    },
                    r.get(5)?,
                ))
            };
            let (original, searchable) = get().map_err(|e| self.err(e))?;
            let derivative = searchable
                .filter(|s| *s != original.sha256)
                .map(|sha256| ObjectRef {
                    sha256,
                    bytes: None,
                    what: "searchable PDF".into(),
                    ..original.clone()
                });
            out.push(original);
            out.extend(derivative);
        }
        let mut st = self
            .conn
            .prepare(
                "SELECT d.id, d.path, d.dossier_code, p.page, p.text_sha256, p.hocr_sha256
                 FROM pages p JOIN documents d ON d.id = p.document_id ORDER BY d.id, p.page",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let get = |i: usize| -> Result<Option<String>, IndexError> {
                r.get(i).map_err(|e| self.err(e))
            };
            let id: i64 = r.get(0).map_err(|e| self.err(e))?;
            let page: i64 = r.get(3).map_err(|e| self.err(e))?;
            let (path, dossier) = (get(1)?.unwrap_or_default(), get(2)?.unwrap_or_default());
            let (text, hocr) = (get(4)?, get(5)?);
            for (sha, what) in [(text, "OCR text"), (hocr, "hOCR")] {
                if let Some(sha256) = sha {
                    out.push(ObjectRef {
                        sha256,
                        bytes: None,
                        what: format!("{what} of page {page}"),
                        document: Some(path.clone()),
                        dossier_code: Some(dossier.clone()),
                        document_id: Some(id),
                    });
                }
            }
        }
        let mut st = self
            .conn
            .prepare("SELECT sha256, path FROM batches ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok(ObjectRef {
                    sha256: r.get(0)?,
                    bytes: None,
                    what: format!("batch scan {}", r.get::<_, String>(1)?),
                    document: None,
                    dossier_code: None,
                    document_id: None,
                })
            })
            .map_err(|e| self.err(e))?;
        for r in rows {
            out.push(r.map_err(|e| self.err(e))?);
        }
        let mut st = self
            .conn
            .prepare("SELECT sha256, what, source FROM imports ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok(ObjectRef {
                    sha256: r.get(0)?,
                    bytes: None,
                    what: format!(
                        "{} import of {}",
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?
                    ),
                    document: None,
                    dossier_code: None,
                    document_id: None,
                })
            })
            .map_err(|e| self.err(e))?;
        for r in rows {
            out.push(r.map_err(|e| self.err(e))?);
        }
        Ok(out)
    }

    /// Rows that disagree with each other: pages without documents, page counts, OCR text that
    /// does not match its hash, full-text rows without pages (and the reverse), the latest
    /// version table, and the per-dossier flags.
    pub fn consistency_problems(&self) -> Result<Vec<IndexProblem>, IndexError> {
        let mut problems = Vec::new();
        let mut query = |sql: &str,
                         make: &dyn Fn(&rusqlite::Row) -> rusqlite::Result<IndexProblem>|
         -> Result<(), IndexError> {
            let mut st = self.conn.prepare(sql).map_err(|e| self.err(e))?;
            let rows = st.query_map([], |r| make(r)).map_err(|e| self.err(e))?;
            for r in rows {
                problems.push(r.map_err(|e| self.err(e))?);
            }
            Ok(())
        };
        query(
            "SELECT p.document_id, p.page FROM pages p LEFT JOIN documents d ON d.id = p.document_id WHERE d.id IS NULL",
            &|r| {
                Ok(IndexProblem {
                    document: None,
                    dossier_code: None,
                    detail: format!("page row {} of document id {} has no document row", r.get::<_, i64>(1)?, r.get::<_, i64>(0)?),
                })
            },
        )?;
        query(
            "SELECT d.path, d.dossier_code, d.page_count, (SELECT COUNT(*) FROM pages p WHERE p.document_id = d.id)
             FROM documents d WHERE d.page_count != (SELECT COUNT(*) FROM pages p WHERE p.document_id = d.id)",
            &|r| {
                Ok(IndexProblem {
                    document: Some(r.get(0)?),
                    dossier_code: Some(r.get(1)?),
                    detail: format!("document has {} page rows; {} were archived", r.get::<_, i64>(3)?, r.get::<_, i64>(2)?),
                })
            },
        )?;
        query(
            "SELECT d.path, d.dossier_code FROM documents d LEFT JOIN dossiers s ON s.code = d.dossier_code WHERE s.code IS NULL",
            &|r| {
                Ok(IndexProblem {
                    document: Some(r.get(0)?),
                    dossier_code: Some(r.get(1)?),
                    detail: "document row names a dossier the index does not hold".into(),
                })
            },
        )?;
        query(
            "SELECT p.id FROM pages p WHERE p.id NOT IN (SELECT rowid FROM page_fts)",
            &|r| {
                Ok(IndexProblem {
                    document: None,
                    dossier_code: None,
                    detail: format!("page row {} has no full-text row", r.get::<_, i64>(0)?),
                })
            },
        )?;
        query(
            "SELECT f.rowid FROM page_fts f WHERE f.rowid NOT IN (SELECT id FROM pages)",
            &|r| {
                Ok(IndexProblem {
                    document: None,
                    dossier_code: None,
                    detail: format!("full-text row {} has no page row", r.get::<_, i64>(0)?),
                })
            },
        )?;
        query(
            "SELECT d.path, d.dossier_code FROM documents d
             WHERE d.version = (SELECT MAX(version) FROM documents x WHERE x.path = d.path)
               AND NOT EXISTS (SELECT 1 FROM current_documents c WHERE c.document_id = d.id
                               AND c.path = d.path AND c.kind = d.kind AND c.quality = d.quality)",
            &|r| {
                Ok(IndexProblem {
                    document: Some(r.get(0)?),
                    dossier_code: Some(r.get(1)?),
                    detail: "the latest version is not the current document".into(),
                })
            },
        )?;
        query(
            "SELECT s.code FROM dossiers s WHERE
                 s.input_passes != EXISTS(SELECT 1 FROM current_documents c WHERE c.dossier_code = s.code AND c.kind = 'input' AND c.quality = 'pass')
              OR s.result_passes != EXISTS(SELECT 1 FROM current_documents c WHERE c.dossier_code = s.code AND c.kind = 'result' AND c.quality = 'pass')
              OR s.has_result != EXISTS(SELECT 1 FROM current_documents c WHERE c.dossier_code = s.code AND c.kind = 'result')",
            &|r| {
                Ok(IndexProblem {
                    document: None,
                    dossier_code: Some(r.get(0)?),
                    detail: "the dossier's digitization flags disagree with its documents".into(),
                })
            },
        )?;
        // OCR text in the index must be the text stored as an object under its hash.
        let mut st = self
            .conn
            .prepare(
                "SELECT d.path, d.dossier_code, p.page, p.text, p.text_sha256 FROM pages p
                 JOIN documents d ON d.id = p.document_id WHERE p.text_sha256 IS NOT NULL",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let text: String = r.get(3).map_err(|e| self.err(e))?;
            let sha: String = r.get(4).map_err(|e| self.err(e))?;
            if sha256_hex(text.as_bytes()) != sha {
                problems.push(IndexProblem {
                    document: Some(r.get(0).map_err(|e| self.err(e))?),
                    dossier_code: Some(r.get(1).map_err(|e| self.err(e))?),
                    detail: format!(
                        "OCR text of page {} in the index differs from the archived text object",
                        r.get::<_, i64>(2).map_err(|e| self.err(e))?
                    ),
                });
            }
        }
        Ok(problems)
    }
}

fn append_entry(
    tx: &rusqlite::Transaction<'_>,
    make: impl Fn(u64, String) -> LedgerEntry,
) -> rusqlite::Result<LedgerHead> {
    let last: Option<(i64, String)> = tx
        .query_row(
            "SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, prev) = match last {
        Some((seq, hash)) => (seq as u64 + 1, hash),
        None => (1, GENESIS.to_owned()),
    };
    let text = serde_json::to_string(&make(seq, prev)).expect("ledger entries serialize");
    let hash = sha256_hex(text.as_bytes());
    tx.execute(
        "INSERT INTO ledger(seq, entry, hash) VALUES (?1, ?2, ?3)",
        params![seq as i64, text, hash],
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
