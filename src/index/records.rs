//! Evidence records from the index's rows (see [`crate::evidence`]): built when a document is
//! committed, and built again by verify from the rows as they are now. The same function does
//! both, so a record and its rows agree until someone edits one of them.
//!
//! Verify reads every document back, so the read is built for it: documents are taken a chunk
//! of ids at a time ([`CHUNK`]), each chunk three range scans (documents, pages, events) merged
//! in id order, so memory is bounded by the chunk and not the archive; the events scan reads
//! the events a record holds through their own partial index (`events_recorded`), so the
//! fixity events every verify adds (one per document) are not read again by every later one.

use super::db::{vals, Db, DbError, Row};
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
        recorded_at_upgrade: None,
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

/// Which documents' records to build again from their rows.
#[derive(Debug, Clone, Copy)]
pub enum Which<'a> {
    All,
    /// The documents one run committed.
    Run(&'a str),
    /// The documents whose row carries no record hash (archived before records were kept).
    Unrecorded,
    /// The documents whose records were written at an upgrade.
    Upgraded,
}

impl Which<'_> {
    /// The condition on `documents`, `?3` the run or NULL (every condition names it: both
    /// backends want each parameter they are given used).
    fn condition(self) -> &'static str {
        match self {
            Which::All => "CAST(?3 AS TEXT) IS NULL",
            Which::Run(_) => "run_id = CAST(?3 AS TEXT)",
            Which::Unrecorded => "record_sha256 IS NULL AND CAST(?3 AS TEXT) IS NULL",
            Which::Upgraded => "recorded_at_upgrade IS NOT NULL AND CAST(?3 AS TEXT) IS NULL",
        }
    }
}

/// Documents are read back this many ids at a time.
const CHUNK: i64 = 2048;

impl Index {
    /// Every document's record built again from the rows, in commit order; only the
    /// documents of run `run` when given.
    pub fn documents_as_recorded(
        &self,
        run: Option<&str>,
    ) -> Result<Vec<RecordedDocument>, IndexError> {
        let which = run.map_or(Which::All, Which::Run);
        let mut out = Vec::new();
        self.for_each_recorded_chunk(which, |chunk| out.extend(chunk))?;
        Ok(out)
    }

    /// The records of the documents `which` selects, built again from their rows, handed to
    /// `each` in commit order, a chunk of ids at a time.
    pub fn for_each_recorded_chunk(
        &self,
        which: Which<'_>,
        mut each: impl FnMut(Vec<RecordedDocument>),
    ) -> Result<(), IndexError> {
        let mut db = self.db();
        recorded_chunks(&mut db, which, |chunk| {
            each(chunk);
            Ok(())
        })
        .map_err(|e| self.err(e))
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
                        COALESCE(rows_sha256, ''), record_sha256, recorded_at_upgrade
                 FROM imports WHERE CAST(?1 AS TEXT) IS NULL OR run_id = CAST(?1 AS TEXT) ORDER BY id",
                &vals![run],
                |r| {
                    out.push((import_row(r)?, r.get(7)?));
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
        super::imports::register_digest(&mut self.db()).map_err(|e| self.err(e))
    }
}

/// An import's record from its row: `what, run_id, source, sha256, rows, problems,
/// rows_sha256, (record_sha256), recorded_at_upgrade`.
pub(super) fn import_row(r: &Row) -> Result<ImportRecord, DbError> {
    Ok(ImportRecord {
        record: r.get(0)?,
        run_id: r.get(1)?,
        source: r.get(2)?,
        sha256: r.get(3)?,
        rows: r.get(4)?,
        problems: r.get(5)?,
        rows_sha256: r.get(6)?,
        recorded_at_upgrade: r.get(8)?,
    })
}

/// Hands `each` the records of the documents `which` selects, a chunk of ids at a time.
pub(super) fn recorded_chunks(
    db: &mut Db,
    which: Which<'_>,
    mut each: impl FnMut(Vec<RecordedDocument>) -> Result<(), DbError>,
) -> Result<(), DbError> {
    let run = match which {
        Which::Run(run) => Some(run),
        _ => None,
    };
    let range = db.query_one(
        &format!(
            "SELECT MIN(id), MAX(id) FROM documents WHERE id BETWEEN ?1 AND ?2 AND {}",
            which.condition()
        ),
        &vals![i64::MIN, i64::MAX, run],
    )?;
    let (Some(first), Some(last)) = (range.get::<Option<i64>>(0)?, range.get::<Option<i64>>(1)?)
    else {
        return Ok(());
    };
    let mut lo = first;
    while lo <= last {
        let hi = lo.saturating_add(CHUNK - 1);
        let chunk = recorded_chunk(db, which, run, lo, hi)?;
        if !chunk.is_empty() {
            each(chunk)?;
        }
        lo = hi.saturating_add(1);
    }
    Ok(())
}

/// The record of document `id` as its rows say now.
pub(super) fn record_of(db: &mut Db, id: i64) -> Result<Option<RecordedDocument>, DbError> {
    Ok(recorded_chunk(db, Which::All, None, id, id)?.pop())
}

/// The records of the selected documents with ids `lo..=hi`: their pages and events read by
/// id range, merged into the documents in id order.
fn recorded_chunk(
    db: &mut Db,
    which: Which<'_>,
    run: Option<&str>,
    lo: i64,
    hi: i64,
) -> Result<Vec<RecordedDocument>, DbError> {
    let mut pages = chunk_pages(db, lo, hi)?.into_iter().peekable();
    let mut events = chunk_events(db, lo, hi)?.into_iter().peekable();
    let mut out = Vec::new();
    db.for_each(
        &format!(
            "SELECT id, path, version, kind, dossier_code, COALESCE(procedure_code, ''), unit,
                    sha256, bytes, mtime_ns, media_type, archived_at, run_id, quality, reasons,
                    rejected, searchable_pdf, intake_file, record_sha256, recorded_at_upgrade
             FROM documents WHERE id BETWEEN ?1 AND ?2 AND {} ORDER BY id",
            which.condition()
        ),
        &vals![lo, hi, run],
        |r| {
            let id: i64 = r.get(0)?;
            // Rows of documents not selected (or without a document row) are passed over.
            while pages.next_if(|(d, _)| *d < id).is_some() {}
            while events.next_if(|(d, _)| *d < id).is_some() {}
            let mut take_pages = Vec::new();
            while let Some((_, p)) = pages.next_if(|(d, _)| *d == id) {
                take_pages.push(p);
            }
            let mut take_events = Vec::new();
            while let Some((_, e)) = events.next_if(|(d, _)| *d == id) {
                take_events.push(e);
            }
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
                pages: take_pages,
                events: take_events,
                recorded_at_upgrade: r.get(19)?,
            };
            out.push(RecordedDocument {
                id,
                record,
                record_sha256: r.get(18)?,
            });
            Ok::<_, DbError>(())
        },
    )?;
    Ok(out)
}

/// The page rows of documents `lo..=hi`, in document and page order.
fn chunk_pages(db: &mut Db, lo: i64, hi: i64) -> Result<Vec<(i64, PageRecord)>, DbError> {
    let mut pages: Vec<(i64, PageRecord)> = Vec::new();
    db.for_each(
        "SELECT document_id, page, width, height, dpi, dpi_source, blank, confidence,
                text_source, turned, deskewed, source_page, ocr_seconds, text_sha256,
                hocr_sha256
         FROM pages WHERE document_id BETWEEN ?1 AND ?2 ORDER BY document_id, page",
        &vals![lo, hi],
        |r| {
            pages.push((r.get(0)?, page_row(r)?));
            Ok::<_, DbError>(())
        },
    )?;
    Ok(pages)
}

/// The events the records of documents `lo..=hi` hold, in document and event order.
fn chunk_events(db: &mut Db, lo: i64, hi: i64) -> Result<Vec<(i64, EventRecord)>, DbError> {
    let mut events: Vec<(i64, EventRecord)> = Vec::new();
    // The condition is `events_recorded`'s own, word for word: SQLite takes a partial index
    // only for a query that states its condition.
    db.for_each(
        "SELECT document_id, type, at, agent, outcome, detail FROM events
         WHERE type NOT IN ('fixity check', 'audit verdict') AND document_id BETWEEN ?1 AND ?2
         ORDER BY document_id, id",
        &vals![lo, hi],
        |r| {
            events.push((
                r.get(0)?,
                EventRecord {
                    kind: r.get(1)?,
                    at: r.get(2)?,
                    agent: r.get(3)?,
                    outcome: r.get(4)?,
                    detail: r.get(5)?,
                },
            ));
            Ok::<_, DbError>(())
        },
    )?;
    Ok(events)
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
/// Records written at an upgrade are not the run's: their upgrade entry commits to them.
pub(super) fn run_record_leaves(db: &mut Db, run_id: &str) -> Result<Vec<String>, DbError> {
    record_leaves(
        db,
        "run_id = ?1 AND record_sha256 IS NOT NULL AND recorded_at_upgrade IS NULL",
        run_id,
    )
}

/// The record hashes an upgrade wrote, sorted: the leaves of its ledger entry's root.
pub(super) fn upgrade_record_leaves(db: &mut Db, upgrade: &str) -> Result<Vec<String>, DbError> {
    record_leaves(
        db,
        "recorded_at_upgrade = ?1 AND record_sha256 IS NOT NULL",
        upgrade,
    )
}

fn record_leaves(db: &mut Db, condition: &str, key: &str) -> Result<Vec<String>, DbError> {
    let mut leaves = Vec::new();
    for table in ["documents", "imports"] {
        db.for_each(
            &format!("SELECT record_sha256 FROM {table} WHERE {condition}"),
            &vals![key],
            |r| {
                leaves.push(r.get::<String>(0)?);
                Ok::<_, DbError>(())
            },
        )?;
    }
    leaves.sort();
    Ok(leaves)
}

/// Encodes a record: its bytes and hash.
pub(super) fn encode(record: &DocumentRecord) -> (Vec<u8>, String) {
    evidence::encode(record)
}
