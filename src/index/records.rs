//! Evidence records from the index's rows (see [`crate::evidence`]): built when a document is
//! committed, and built again by verify from the rows as they are now. The same function does
//! both, so a record and its rows agree until someone edits one of them.

use std::collections::HashMap;

use super::db::{vals, DbError, Row};
use super::ingest::{NewDocument, NewPage};
use super::{Index, IndexError};
use crate::evidence::{self, DocumentRecord, EventRecord, ImportRecord, PageRecord};

/// The agent named in events.
pub(super) const AGENT: &str = concat!("dossier ", env!("CARGO_PKG_VERSION"));

/// The events recorded when a document is committed.
pub(super) fn ingest_events(doc: &NewDocument) -> Vec<EventRecord> {
    [
        ("ingestion", format!("{} from the intake", doc.path)),
        (
            "message digest calculation",
            format!("SHA-256 {}", doc.sha256),
        ),
    ]
    .into_iter()
    .map(|(kind, detail)| EventRecord {
        kind: kind.to_owned(),
        at: doc.archived_at.clone(),
        agent: AGENT.to_owned(),
        outcome: "success".to_owned(),
        detail: Some(detail),
    })
    .collect()
}

/// The record of `doc` committed as `version` with verdict `quality`.
pub(super) fn document_record(doc: &NewDocument, version: u32, quality: &str) -> DocumentRecord {
    DocumentRecord {
        record: "document".into(),
        path: doc.path.clone(),
        version,
        kind: doc.kind.as_str().to_owned(),
        dossier: doc.dossier.clone(),
        procedure: doc.procedure.clone(),
        unit: doc.unit.clone(),
        sha256: doc.sha256.clone(),
        bytes: doc.bytes,
        mtime_ns: doc.mtime_ns,
        media_type: doc.media_type.map(str::to_owned),
        archived_at: doc.archived_at.clone(),
        run_id: doc.run_id.clone(),
        quality: quality.to_owned(),
        reasons: doc.reasons.clone(),
        rejected: doc.rejected.clone(),
        searchable_pdf: doc.searchable_pdf.clone(),
        intake_file: doc.intake_file,
        pages: doc.pages.iter().map(page_record).collect(),
        events: ingest_events(doc),
    }
}

fn page_record(p: &NewPage) -> PageRecord {
    PageRecord {
        page: p.page,
        width: p.width,
        height: p.height,
        dpi: p.dpi,
        dpi_source: p.dpi_source.to_owned(),
        blank: p.blank,
        confidence: p.confidence,
        text_source: p.text_source.to_owned(),
        turned: p.turned,
        deskewed: p.deskewed,
        source_page: p.source_page,
        ocr_seconds: p.ocr_seconds,
        text_sha256: p.text_sha256.clone(),
        hocr_sha256: p.hocr_sha256.clone(),
    }
}

/// A document as its rows say now, beside the record hash its row carries.
#[derive(Debug)]
pub struct RecordedDocument {
    pub id: i64,
    pub record: DocumentRecord,
    /// The hash the document row carries; `None` for a document archived before records.
    pub record_sha256: Option<String>,
}

impl Index {
    /// Every document's record built again from the rows, in commit order; only the
    /// documents of run `run` when given.
    pub fn documents_as_recorded(
        &self,
        run: Option<&str>,
    ) -> Result<Vec<RecordedDocument>, IndexError> {
        let mut db = self.db();
        // One scan per table rather than a query per document; `?1` is the run, or NULL.
        let of_run = "(CAST(?1 AS TEXT) IS NULL OR document_id IN (SELECT id FROM documents WHERE run_id = CAST(?1 AS TEXT)))";
        let run = vals![run];
        let mut pages: HashMap<i64, Vec<PageRecord>> = HashMap::new();
        db.for_each(
            &format!(
                "SELECT document_id, page, width, height, dpi, dpi_source, blank, confidence,
                    text_source, turned, deskewed, source_page, ocr_seconds, text_sha256,
                    hocr_sha256
             FROM pages WHERE {of_run} ORDER BY document_id, page"
            ),
            &run,
            |r| {
                pages.entry(r.get(0)?).or_default().push(page_row(r)?);
                Ok::<_, DbError>(())
            },
        )
        .map_err(|e| self.err(e))?;
        let mut events: HashMap<i64, Vec<EventRecord>> = HashMap::new();
        db.for_each(
            &format!(
                "SELECT document_id, type, at, agent, outcome, detail FROM events
                 WHERE type NOT IN ('fixity check', 'audit verdict') AND {of_run} ORDER BY document_id, id"
            ),
            &run,
            |r| {
                events.entry(r.get(0)?).or_default().push(EventRecord {
                    kind: r.get(1)?,
                    at: r.get(2)?,
                    agent: r.get(3)?,
                    outcome: r.get(4)?,
                    detail: r.get(5)?,
                });
                Ok::<_, DbError>(())
            },
        )
        .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        db.for_each(
            "SELECT id, path, version, kind, dossier_code, COALESCE(procedure_code, ''), unit,
                    sha256, bytes, mtime_ns, media_type, archived_at, run_id, quality, reasons,
                    rejected, searchable_pdf, intake_file, record_sha256
             FROM documents WHERE CAST(?1 AS TEXT) IS NULL OR run_id = CAST(?1 AS TEXT) ORDER BY id",
            &run,
            |r| {
                let id: i64 = r.get(0)?;
                let reasons: String = r.get(14)?;
                let record = DocumentRecord {
                    record: "document".into(),
                    path: r.get(1)?,
                    version: r.get(2)?,
                    kind: r.get(3)?,
                    dossier: r.get(4)?,
                    procedure: r.get(5)?,
                    unit: r.get(6)?,
                    sha256: r.get(7)?,
                    bytes: r.get(8)?,
                    mtime_ns: r.get(9)?,
                    media_type: r.get(10)?,
                    archived_at: r.get(11)?,
                    run_id: r.get(12)?,
                    quality: r.get(13)?,
                    // A reasons cell that is not a list of strings is a record that cannot
                    // match: kept as the one "reason" so the difference is named.
                    reasons: serde_json::from_str(&reasons).unwrap_or_else(|_| vec![reasons]),
                    rejected: r.get(15)?,
                    searchable_pdf: r.get(16)?,
                    intake_file: r.get::<i64>(17)? != 0,
                    pages: pages.remove(&id).unwrap_or_default(),
                    events: events.remove(&id).unwrap_or_default(),
                };
                out.push(RecordedDocument {
                    id,
                    record,
                    record_sha256: r.get(18)?,
                });
                Ok::<_, DbError>(())
            },
        )
        .map_err(|e| self.err(e))?;
        Ok(out)
    }

    /// Every import's record built again from its row; only run `run`'s when given.
    pub fn imports_as_recorded(
        &self,
        run: Option<&str>,
    ) -> Result<Vec<(ImportRecord, Option<String>)>, IndexError> {
        let mut out = Vec::new();
        self.db()
            .for_each(
                "SELECT what, run_id, source, sha256, rows, problems,
                        COALESCE(rows_sha256, ''), record_sha256
                 FROM imports WHERE CAST(?1 AS TEXT) IS NULL OR run_id = CAST(?1 AS TEXT) ORDER BY id",
                &vals![run],
                |r| {
                    let record = ImportRecord {
                        record: r.get(0)?,
                        run_id: r.get(1)?,
                        source: r.get(2)?,
                        sha256: r.get(3)?,
                        rows: r.get(4)?,
                        problems: r.get(5)?,
                        rows_sha256: r.get(6)?,
                    };
                    out.push((record, r.get(7)?));
                    Ok::<_, DbError>(())
                },
            )
            .map_err(|e| self.err(e))?;
        Ok(out)
    }

    /// The digest of the catalog rows the index holds now.
    pub fn catalog_rows_sha256(&self) -> Result<String, IndexError> {
        super::imports::catalog_digest(&mut self.db()).map_err(|e| self.err(e))
    }

    /// The digest of the register rows the index holds now, as reports read them.
    pub fn register_rows_sha256(&self) -> Result<String, IndexError> {
        let mut rows = Vec::new();
        self.for_each_register_row(|r| rows.push(r))?;
        Ok(crate::register::rows_digest(&rows))
    }
}

fn page_row(r: &Row) -> Result<PageRecord, DbError> {
    Ok(PageRecord {
        page: r.get(1)?,
        width: r.get(2)?,
        height: r.get(3)?,
        dpi: r.get(4)?,
        dpi_source: r.get(5)?,
        blank: r.get::<i64>(6)? != 0,
        confidence: r.get::<Option<f64>>(7)?.map(|c| c as f32),
        text_source: r.get(8)?,
        turned: r.get(9)?,
        deskewed: r.get::<f64>(10)? as f32,
        source_page: r.get(11)?,
        ocr_seconds: r.get(12)?,
        text_sha256: r.get(13)?,
        hocr_sha256: r.get(14)?,
    })
}

/// The record hashes a run committed to, sorted: the leaves of its ledger entry's root.
pub(super) fn run_record_leaves(
    db: &mut super::db::Db,
    run_id: &str,
) -> Result<Vec<String>, DbError> {
    let mut leaves = Vec::new();
    for sql in [
        "SELECT record_sha256 FROM documents WHERE run_id = ?1 AND record_sha256 IS NOT NULL",
        "SELECT record_sha256 FROM imports WHERE run_id = ?1 AND record_sha256 IS NOT NULL",
    ] {
        db.for_each(sql, &vals![run_id], |r| {
            leaves.push(r.get::<String>(0)?);
            Ok::<_, DbError>(())
        })?;
    }
    leaves.sort();
    Ok(leaves)
}

/// Encodes a record: its bytes and hash.
pub(super) fn encode(record: &DocumentRecord) -> (Vec<u8>, String) {
    evidence::encode(record)
}
