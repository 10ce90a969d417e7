//! What a run writes into the index: its start, its documents (each a new version of its
//! intake path, with pages and full-text rows), batch scans, and the intake stat cache that
//! lets the next run skip unchanged files.
//!
//! Each document is committed in one transaction together with its pages, its full-text rows,
//! its latest-version row, its dossier's flags and the intake stat cache, after its objects are
//! safely on disk: a crash leaves either the whole document or none of it. The claim on its
//! intake file, if any, ends in the same transaction.

use super::db::{vals, Backend, Db, DbError};
use super::records;
use super::search;
use super::{Index, IndexError};
use crate::intake::layout::Kind;

/// A file the index has seen at this intake path: size and mtime of the last read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownFile {
    pub bytes: u64,
    pub mtime_ns: i64,
    pub sha256: String,
}

/// A document ready to be committed.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub path: String,
    pub procedure: String,
    pub dossier: String,
    pub unit: Option<String>,
    pub kind: Kind,
    pub sha256: String,
    pub bytes: u64,
    pub mtime_ns: i64,
    pub media_type: Option<&'static str>,
    pub archived_at: String,
    pub run_id: String,
    /// Why the file could not be read as a document (it is archived all the same).
    pub rejected: Option<String>,
    /// Why the document fails quality; empty when it passes.
    pub reasons: Vec<String>,
    pub pages: Vec<NewPage>,
    /// The searchable PDF derivative's object (or the original's, when it is one).
    pub searchable_pdf: Option<String>,
    /// False for a document split out of a batch scan: its path names no intake file.
    pub intake_file: bool,
}

/// A batch scan, recorded once all its segments are committed.
#[derive(Debug, Clone)]
pub struct NewBatch {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    pub mtime_ns: i64,
    pub run_id: String,
    pub archived_at: String,
    pub pages: usize,
    /// JSON: the segments and the quarantined pages, as the run report lists them.
    pub segments: String,
    pub quarantined: String,
    pub rejected: Option<String>,
}

/// A document as committed: its version, and its evidence record to keep in the store.
#[derive(Debug, Clone)]
pub struct Committed {
    pub version: u32,
    pub record: Vec<u8>,
    pub record_sha256: String,
}

#[derive(Debug, Clone)]
pub struct NewPage {
    pub page: u32,
    pub width: u32,
    pub height: u32,
    pub dpi: u32,
    pub dpi_source: &'static str,
    pub blank: bool,
    pub confidence: Option<f32>,
    pub text: String,
    pub text_sha256: Option<String>,
    pub hocr_sha256: Option<String>,
    pub ocr_seconds: Option<f64>,
    pub text_source: &'static str,
    pub turned: u32,
    pub deskewed: f32,
    pub source_page: Option<u32>,
}

impl Index {
    /// Records a run's start; on a shared index with its first lease (`lease_ms`), in the same
    /// statement, so that no other worker ever sees it without one (and closes it as killed).
    pub fn begin_run(
        &self,
        run_id: &str,
        pipeline: &str,
        started_at: &str,
        lease_ms: Option<u64>,
    ) -> Result<(), IndexError> {
        let mut db = self.db();
        let sql = format!(
            "INSERT INTO runs(run_id, pipeline, started_at, lease_until)
             VALUES (?1, ?2, ?3, {} + CAST(?4 AS BIGINT))",
            db.now_ms_sql()
        );
        db.execute(&sql, &vals![run_id, pipeline, started_at, lease_ms])
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// What the index remembers of an intake path (stat cache for incremental runs).
    pub fn known_file(&self, path: &str) -> Result<Option<KnownFile>, IndexError> {
        let row = self
            .db()
            .query_opt(
                "SELECT bytes, mtime_ns, sha256 FROM intake_files WHERE path = ?1",
                &vals![path],
            )
            .map_err(|e| self.err(e))?;
        row.map(|r| {
            Ok(KnownFile {
                bytes: r.get(0)?,
                mtime_ns: r.get(1)?,
                sha256: r.get(2)?,
            })
        })
        .transpose()
        .map_err(|e| self.err(e))
    }

    /// The content of the latest archived version of an intake path.
    pub fn latest_sha256(&self, path: &str) -> Result<Option<String>, IndexError> {
        let row = self
            .db()
            .query_opt(
                "SELECT sha256 FROM documents WHERE path = ?1 ORDER BY version DESC LIMIT 1",
                &vals![path],
            )
            .map_err(|e| self.err(e))?;
        row.map(|r| r.get(0)).transpose().map_err(|e| self.err(e))
    }

    /// The file at `path` was read again and its content had not changed: refresh the cache.
    pub fn touch_file(&self, path: &str, known: &KnownFile) -> Result<(), IndexError> {
        upsert_intake_file(&mut self.db(), path, known).map_err(|e| self.err(e))
    }

    /// Commits one document (new version of its path) with its pages, in one transaction.
    /// Returns the version number given and the document's evidence record (its bytes, to be
    /// kept in the store, and its hash, which the document row carries). The claim on its
    /// intake file, if any, ends with it.
    pub fn add_document(&mut self, doc: &NewDocument) -> Result<Committed, IndexError> {
        let committed = self.add_claimed_document(doc, None)?;
        Ok(committed.expect("no claim to lose"))
    }

    /// [`add_document`](Self::add_document) on a shared index, where `claim` names the intake
    /// file this run claimed for it (the file itself, or the batch scan it was split from).
    /// The claim is checked, and locked against a take-over, inside the committing
    /// transaction: `None` (nothing written) when another run holds it now or has finished
    /// it, as happens to a worker frozen past its lease. Committing regardless would give the
    /// file a second version of the same content.
    pub fn add_claimed_document(
        &mut self,
        doc: &NewDocument,
        claim: Option<&str>,
    ) -> Result<Option<Committed>, IndexError> {
        self.transaction(|tx| {
            if let Some(path) = claim {
                if !holds_claim(tx, path, &doc.run_id)? {
                    return Ok(None);
                }
            }
            // Takes the dossier's row lock first (PostgreSQL): two workers committing to one
            // dossier compute its flags one after the other.
            upsert_dossier(tx, doc)?;
            let version = next_version(tx, &doc.path)?;
            let quality = if doc.reasons.is_empty() && doc.rejected.is_none() {
                "pass"
            } else {
                "fail"
            };
            let (record, record_sha256) =
                records::encode(&records::document_record(doc, version, quality));
            let document_id = insert_document(tx, doc, version, quality, &record_sha256)?;
            insert_events(tx, doc, document_id)?;
            set_current_document(tx, doc, document_id, quality)?;
            for p in &doc.pages {
                insert_page(tx, document_id, p)?;
            }
            update_dossier_flags(tx, &doc.dossier)?;
            if doc.intake_file {
                intake_file_done(
                    tx,
                    &doc.path,
                    &doc.run_id,
                    &KnownFile {
                        bytes: doc.bytes,
                        mtime_ns: doc.mtime_ns,
                        sha256: doc.sha256.clone(),
                    },
                )?;
            }
            Ok(Some(Committed {
                version,
                record,
                record_sha256,
            }))
        })
    }

    /// Records a batch scan and its intake stat in one transaction. Called after every
    /// document split out of it is committed, so that a crash before leaves it to be redone.
    /// With `check_claim` (a shared index), only while this run still holds the batch's claim:
    /// `false` (nothing written) once it lost it.
    pub fn add_batch(&mut self, batch: &NewBatch, check_claim: bool) -> Result<bool, IndexError> {
        self.transaction(|tx| {
            if check_claim && !holds_claim(tx, &batch.path, &batch.run_id)? {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO batches(path, sha256, bytes, run_id, archived_at, pages, segments,
                                     quarantined, rejected)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                &vals![
                    &batch.path,
                    &batch.sha256,
                    batch.bytes,
                    &batch.run_id,
                    &batch.archived_at,
                    batch.pages,
                    &batch.segments,
                    &batch.quarantined,
                    &batch.rejected
                ],
            )?;
            intake_file_done(
                tx,
                &batch.path,
                &batch.run_id,
                &KnownFile {
                    bytes: batch.bytes,
                    mtime_ns: batch.mtime_ns,
                    sha256: batch.sha256.clone(),
                },
            )?;
            Ok(true)
        })
    }
}

/// Whether `run_id` holds the claim on `path`, the row locked until the transaction ends so
/// that no other run takes it over meanwhile (PostgreSQL; SQLite's transaction holds the
/// whole database already). A lease that ran out is still held while nobody took it over.
fn holds_claim(tx: &mut Db, path: &str, run_id: &str) -> Result<bool, DbError> {
    let sql = match tx.backend() {
        Backend::Postgres => "SELECT run_id FROM claims WHERE path = ?1 FOR UPDATE",
        Backend::Sqlite => "SELECT run_id FROM claims WHERE path = ?1",
    };
    let holder: Option<String> = tx
        .query_opt(sql, &vals![path])?
        .map(|r| r.get(0))
        .transpose()?;
    Ok(holder.as_deref() == Some(run_id))
}

/// The dossier's row, created with the document's procedure and unit (a known dossier keeps
/// its unit, or takes this one if it had none).
fn upsert_dossier(tx: &mut Db, doc: &NewDocument) -> Result<(), DbError> {
    tx.execute(
        "INSERT INTO dossiers(code, procedure_code, unit) VALUES (?1, ?2, ?3)
         ON CONFLICT(code) DO UPDATE SET unit = COALESCE(dossiers.unit, excluded.unit)",
        &vals![&doc.dossier, &doc.procedure, &doc.unit],
    )?;
    Ok(())
}

/// The version a new document at `path` gets: one after the latest, or 1.
fn next_version(tx: &mut Db, path: &str) -> Result<u32, DbError> {
    tx.query_one(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM documents WHERE path = ?1",
        &vals![path],
    )?
    .get(0)
}

/// The document's version row; returns its id.
fn insert_document(
    tx: &mut Db,
    doc: &NewDocument,
    version: u32,
    quality: &str,
    record_sha256: &str,
) -> Result<i64, DbError> {
    let reasons = serde_json::to_string(&doc.reasons).expect("strings serialize");
    tx.query_one(
        "INSERT INTO documents(dossier_code, path, version, kind, sha256, bytes,
                               media_type, archived_at, run_id, quality, reasons,
                               rejected, page_count, searchable_pdf, procedure_code, unit,
                               mtime_ns, intake_file, record_sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18, ?19)
         RETURNING id",
        &vals![
            &doc.dossier,
            &doc.path,
            version,
            doc.kind.as_str(),
            &doc.sha256,
            doc.bytes,
            doc.media_type,
            &doc.archived_at,
            &doc.run_id,
            quality,
            reasons,
            &doc.rejected,
            doc.pages.len(),
            &doc.searchable_pdf,
            &doc.procedure,
            &doc.unit,
            doc.mtime_ns,
            i64::from(doc.intake_file),
            record_sha256,
        ],
    )?
    .get(0)
}

/// The document's PREMIS-style events at ingestion: ingestion, message digest calculation.
fn insert_events(tx: &mut Db, doc: &NewDocument, document_id: i64) -> Result<(), DbError> {
    for e in records::ingest_events(doc) {
        tx.execute(
            "INSERT INTO events(document_id, type, at, agent, outcome, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            &vals![document_id, &e.kind, &e.at, &e.agent, &e.outcome, &e.detail],
        )?;
    }
    Ok(())
}

/// The document becomes the latest version of its path in `current_documents`.
fn set_current_document(
    tx: &mut Db,
    doc: &NewDocument,
    document_id: i64,
    quality: &str,
) -> Result<(), DbError> {
    tx.execute(
        "INSERT INTO current_documents(dossier_code, path, document_id, kind, quality)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(dossier_code, path) DO UPDATE SET document_id = excluded.document_id,
             kind = excluded.kind, quality = excluded.quality",
        &vals![
            &doc.dossier,
            &doc.path,
            document_id,
            doc.kind.as_str(),
            quality
        ],
    )?;
    Ok(())
}

/// One page row of the document, and its full-text row.
fn insert_page(tx: &mut Db, document_id: i64, p: &NewPage) -> Result<(), DbError> {
    let page_id: i64 = tx
        .query_one(
            "INSERT INTO pages(document_id, page, width, height, dpi, dpi_source,
                               blank, confidence, text, text_sha256, hocr_sha256,
                               ocr_seconds, text_source, turned, deskewed,
                               source_page)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
                     ?15, ?16)
             RETURNING id",
            &vals![
                document_id,
                p.page,
                p.width,
                p.height,
                p.dpi,
                p.dpi_source,
                p.blank,
                p.confidence,
                &p.text,
                &p.text_sha256,
                &p.hocr_sha256,
                p.ocr_seconds,
                p.text_source,
                p.turned,
                p.deskewed,
                p.source_page,
            ],
        )?
        .get(0)?;
    insert_fts(tx, page_id, &p.text)
}

/// The dossier's digitization flags, derived again from its current documents.
fn update_dossier_flags(tx: &mut Db, dossier: &str) -> Result<(), DbError> {
    tx.execute(
        "UPDATE dossiers SET
             input_passes = CASE WHEN EXISTS(SELECT 1 FROM current_documents c
                 WHERE c.dossier_code = ?1 AND c.kind = 'input' AND c.quality = 'pass')
                 THEN 1 ELSE 0 END,
             result_passes = CASE WHEN EXISTS(SELECT 1 FROM current_documents c
                 WHERE c.dossier_code = ?1 AND c.kind = 'result' AND c.quality = 'pass')
                 THEN 1 ELSE 0 END,
             has_result = CASE WHEN EXISTS(SELECT 1 FROM current_documents c
                 WHERE c.dossier_code = ?1 AND c.kind = 'result')
                 THEN 1 ELSE 0 END
         WHERE code = ?1",
        &vals![dossier],
    )?;
    Ok(())
}

/// An intake file is archived: its stat goes into the cache and the run's claim on it ends.
fn intake_file_done(
    tx: &mut Db,
    path: &str,
    run_id: &str,
    known: &KnownFile,
) -> Result<(), DbError> {
    upsert_intake_file(tx, path, known)?;
    tx.execute(
        "DELETE FROM claims WHERE path = ?1 AND run_id = ?2",
        &vals![path, run_id],
    )?;
    Ok(())
}

/// The full-text row of a page: its folded words, each cut to
/// [`MAX_WORD_BYTES`](super::search::MAX_WORD_BYTES) (the same words on both backends). A
/// tsvector holds at most 1 MiB: on PostgreSQL a page's distinct words beyond
/// [`MAX_VECTOR_BYTES`] are left out of the index rather than failing the document.
fn insert_fts(tx: &mut Db, page_id: i64, text: &str) -> Result<(), DbError> {
    let words = search::words(text);
    match tx.backend() {
        Backend::Sqlite => tx.execute(
            "INSERT INTO page_fts(rowid, folded) VALUES (?1, ?2)",
            &vals![page_id, words.join(" ")],
        ),
        Backend::Postgres => {
            let mut seen = std::collections::HashSet::new();
            let mut vector = String::new();
            for w in words.iter().filter(|w| seen.insert(w.as_str())) {
                let lexeme = search::lexeme(w);
                if vector.len() + lexeme.len() + 1 > MAX_VECTOR_BYTES {
                    break;
                }
                vector.push_str(&lexeme);
                vector.push(' ');
            }
            tx.execute(
                "INSERT INTO page_fts(page_id, folded) VALUES (?1, CAST(CAST(?2 AS TEXT) AS tsvector))",
                &vals![page_id, vector],
            )
        }
    }?;
    Ok(())
}

/// Under PostgreSQL's 1 MiB limit on a tsvector, with room for its per-word overhead.
const MAX_VECTOR_BYTES: usize = 512 * 1024;

fn upsert_intake_file(db: &mut Db, path: &str, known: &KnownFile) -> Result<(), DbError> {
    db.execute(
        "INSERT INTO intake_files(path, bytes, mtime_ns, sha256) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(path) DO UPDATE SET bytes = excluded.bytes, mtime_ns = excluded.mtime_ns,
                                         sha256 = excluded.sha256",
        &vals![path, known.bytes, known.mtime_ns, &known.sha256],
    )?;
    Ok(())
}
