//! The index: what the archive holds, queryable. SQLite now (embedded, one file in the
//! archive); the same tables are meant to move to PostgreSQL behind this API.
//!
//! Each document is committed in one transaction together with its pages, its full-text rows
//! and the intake stat cache, after its objects are safely on disk: a crash leaves either the
//! whole document or none of it.

pub mod audit;
pub mod fold;

use std::path::Path;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::Serialize;

use crate::intake::layout::Kind;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("index {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error("index {path} has schema version {found}; this dossier understands {expected}")]
    Schema {
        path: String,
        found: String,
        expected: &'static str,
    },
}

const SCHEMA_VERSION: &str = "2";

/// Version 1 → 2: per-page corrections and text source, the searchable PDF derivative.
const MIGRATE_1_TO_2: &str = r#"
ALTER TABLE pages ADD COLUMN text_source TEXT NOT NULL DEFAULT 'ocr';
ALTER TABLE pages ADD COLUMN turned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pages ADD COLUMN deskewed REAL NOT NULL DEFAULT 0;
ALTER TABLE pages ADD COLUMN source_page INTEGER;
ALTER TABLE documents ADD COLUMN searchable_pdf TEXT;
UPDATE meta SET value = '2' WHERE key = 'schema_version';
"#;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS procedures (
    code TEXT PRIMARY KEY,
    name TEXT,
    field TEXT
);
CREATE TABLE IF NOT EXISTS dossiers (
    code TEXT PRIMARY KEY,
    procedure_code TEXT NOT NULL,
    unit TEXT,
    -- Derived from current_documents at every commit, for one-scan coverage reports:
    input_passes INTEGER NOT NULL DEFAULT 0,
    result_passes INTEGER NOT NULL DEFAULT 0,
    has_result INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    pipeline TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    report TEXT,
    report_sha256 TEXT
);
-- PREMIS-style events per document: ingestion, message digest calculation, fixity checks.
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id),
    type TEXT NOT NULL,
    at TEXT NOT NULL,
    agent TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS events_document ON events(document_id);
-- The tamper-evident run ledger: each entry names the hash of the one before it.
CREATE TABLE IF NOT EXISTS ledger (
    seq INTEGER PRIMARY KEY,
    entry TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    dossier_code TEXT NOT NULL REFERENCES dossiers(code),
    path TEXT NOT NULL,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('input', 'result')),
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    media_type TEXT,
    archived_at TEXT NOT NULL,
    run_id TEXT NOT NULL,
    quality TEXT NOT NULL CHECK (quality IN ('pass', 'fail')),
    reasons TEXT NOT NULL,
    rejected TEXT,
    page_count INTEGER NOT NULL,
    -- The searchable PDF derivative (an object), or the original when it already is one.
    searchable_pdf TEXT,
    UNIQUE (path, version)
);
CREATE INDEX IF NOT EXISTS documents_dossier ON documents(dossier_code);
-- The latest version of every intake path, kept beside the immutable version rows so that
-- coverage reads a million dossiers in one ordered scan.
CREATE TABLE IF NOT EXISTS current_documents (
    dossier_code TEXT NOT NULL,
    path TEXT NOT NULL,
    document_id INTEGER NOT NULL REFERENCES documents(id),
    kind TEXT NOT NULL,
    quality TEXT NOT NULL,
    PRIMARY KEY (dossier_code, path)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS current_failing ON current_documents(dossier_code, path, document_id)
    WHERE quality = 'fail';
CREATE INDEX IF NOT EXISTS documents_sha256 ON documents(sha256);
CREATE TABLE IF NOT EXISTS pages (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id),
    page INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    dpi INTEGER NOT NULL,
    dpi_source TEXT NOT NULL,
    blank INTEGER NOT NULL,
    confidence REAL,
    text TEXT NOT NULL,
    text_sha256 TEXT,
    hocr_sha256 TEXT,
    ocr_seconds REAL,
    -- 'ocr', or 'text_layer' when a PDF page carried its own text.
    text_source TEXT NOT NULL DEFAULT 'ocr',
    -- Corrections before OCR: turned clockwise by (0/90/180/270), levelled by (degrees).
    turned INTEGER NOT NULL DEFAULT 0,
    deskewed REAL NOT NULL DEFAULT 0,
    -- For a document split out of a batch scan: the page's number in the batch file.
    source_page INTEGER,
    UNIQUE (document_id, page)
);
CREATE VIRTUAL TABLE IF NOT EXISTS page_fts USING fts5(
    folded, content = '', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS register (
    dossier_code TEXT PRIMARY KEY,
    procedure_code TEXT NOT NULL,
    unit TEXT NOT NULL,
    received_on TEXT NOT NULL,
    due_on TEXT,
    completed_on TEXT,
    channel TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS imports (
    id INTEGER PRIMARY KEY,
    what TEXT NOT NULL CHECK (what IN ('register', 'catalog')),
    run_id TEXT NOT NULL,
    source TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    rows INTEGER NOT NULL,
    problems INTEGER NOT NULL
);
-- Batch scans split by cover sheets: the original as it came, how it was split, and the
-- pages set aside (the documents of its segments point at the same original).
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    archived_at TEXT NOT NULL,
    pages INTEGER NOT NULL,
    segments TEXT NOT NULL,
    quarantined TEXT NOT NULL,
    rejected TEXT
);
CREATE TABLE IF NOT EXISTS intake_files (
    path TEXT PRIMARY KEY,
    bytes INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL
);
"#;

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

#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    pub dossier_code: String,
    pub procedure_code: String,
    pub document: String,
    pub page: u32,
    pub snippet: String,
    pub score: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DossierView {
    pub dossier_code: String,
    pub procedure_code: String,
    pub unit: Option<String>,
    pub documents: Vec<DocumentView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentView {
    pub path: String,
    pub kind: String,
    pub sha256: String,
    pub bytes: u64,
    pub version: u32,
    pub archived_at: String,
    pub quality: String,
    pub reasons: Vec<String>,
    pub rejected: Option<String>,
    pub searchable_pdf: Option<String>,
    pub pages: Vec<PageView>,
    pub events: Vec<EventView>,
}

/// One PREMIS-style event of a document.
#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    #[serde(rename = "type")]
    pub kind: String,
    pub at: String,
    pub agent: String,
    pub outcome: String,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PageView {
    pub page: u32,
    pub dpi: u32,
    pub blank: bool,
    pub confidence: Option<f32>,
    /// `ocr`, or `text_layer` when the page's own text was taken.
    pub text_source: String,
    /// Corrections applied before OCR: turned clockwise (degrees), levelled (degrees).
    pub turned: u32,
    pub deskewed: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_page: Option<u32>,
    pub text: String,
}

pub struct Index {
    conn: Connection,
    path: String,
}

impl Index {
    /// Opens (creating if needed) the index for writing.
    pub fn open_rw(path: &Path) -> Result<Index, IndexError> {
        let conn = Connection::open(path).map_err(sqlite_err(path))?;
        let mut index = Index {
            conn,
            path: path.display().to_string(),
        };
        index
            .conn
            .execute_batch(
                // A rollback journal (not WAL) keeps the index readable from a read-only copy;
                // FULL sync makes each committed document durable before the next starts.
                // The page size only takes effect when the file is created.
                "PRAGMA page_size = 32768; PRAGMA journal_mode = DELETE; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
            )
            .map_err(|e| index.err(e))?;
        index.tune()?;
        index.migrate()?;
        Ok(index)
    }

    /// Opens an existing index read-only: read-only commands never write to the archive.
    pub fn open_ro(path: &Path) -> Result<Index, IndexError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sqlite_err(path))?;
        let index = Index {
            conn,
            path: path.display().to_string(),
        };
        index.tune()?;
        index.check_version()?;
        Ok(index)
    }

    /// A 32 MiB page cache; with 32 KiB pages (set when the index is created) a scan over a
    /// million dossiers costs few read() calls, without mapping the file into memory.
    fn tune(&self) -> Result<(), IndexError> {
        self.conn
            .busy_timeout(std::time::Duration::from_secs(30))
            .map_err(|e| self.err(e))?;
        self.conn
            .execute_batch("PRAGMA cache_size = -32768;")
            .map_err(|e| self.err(e))
    }

    fn err(&self, source: rusqlite::Error) -> IndexError {
        IndexError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn migrate(&mut self) -> Result<(), IndexError> {
        // Tables and version row in one transaction: a run killed while creating the index
        // leaves none of it. An existing index keeps its version row (then migrated below).
        self.conn
            .execute_batch(&format!(
                "BEGIN IMMEDIATE; {SCHEMA}
                 INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', '{SCHEMA_VERSION}');
                 COMMIT;"
            ))
            .map_err(|e| {
                let _ = self.conn.execute_batch("ROLLBACK");
                self.err(e)
            })?;
        let found: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        if found.as_deref() == Some("1") {
            let tx = self.conn.transaction().map_err(|e| IndexError::Sqlite {
                path: self.path.clone(),
                source: e,
            })?;
            tx.execute_batch(MIGRATE_1_TO_2)
                .and_then(|_| tx.commit())
                .map_err(|e| IndexError::Sqlite {
                    path: self.path.clone(),
                    source: e,
                })?;
        }
        self.check_version()
    }

    fn check_version(&self) -> Result<(), IndexError> {
        let found: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        match found {
            Some(v) if v == SCHEMA_VERSION => Ok(()),
            other => Err(IndexError::Schema {
                path: self.path.clone(),
                found: other.unwrap_or_else(|| "none".into()),
                expected: SCHEMA_VERSION,
            }),
        }
    }

    pub fn begin_run(
        &self,
        run_id: &str,
        pipeline: &str,
        started_at: &str,
    ) -> Result<(), IndexError> {
        self.conn
            .execute(
                "INSERT INTO runs(run_id, pipeline, started_at) VALUES (?1, ?2, ?3)",
                params![run_id, pipeline, started_at],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// What the index remembers of an intake path (stat cache for incremental runs).
    pub fn known_file(&self, path: &str) -> Result<Option<KnownFile>, IndexError> {
        self.conn
            .prepare_cached("SELECT bytes, mtime_ns, sha256 FROM intake_files WHERE path = ?1")
            .and_then(|mut st| {
                st.query_row([path], |r| {
                    Ok(KnownFile {
                        bytes: r.get::<_, i64>(0)? as u64,
                        mtime_ns: r.get(1)?,
                        sha256: r.get(2)?,
                    })
                })
                .optional()
            })
            .map_err(|e| self.err(e))
    }

    /// The content of the latest archived version of an intake path.
    pub fn latest_sha256(&self, path: &str) -> Result<Option<String>, IndexError> {
        self.conn
            .prepare_cached(
                "SELECT sha256 FROM documents WHERE path = ?1 ORDER BY version DESC LIMIT 1",
            )
            .and_then(|mut st| st.query_row([path], |r| r.get(0)).optional())
            .map_err(|e| self.err(e))
    }

    /// The file at `path` was read again and its content had not changed: refresh the cache.
    pub fn touch_file(&self, path: &str, known: &KnownFile) -> Result<(), IndexError> {
        upsert_intake_file(&self.conn, path, known).map_err(|e| self.err(e))
    }

    /// Commits one document (new version of its path) with its pages, in one transaction.
    /// Returns the version number given.
    pub fn add_document(&mut self, doc: &NewDocument) -> Result<u32, IndexError> {
        let path = self.path.clone();
        let err = |source| IndexError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute(
            "INSERT INTO dossiers(code, procedure_code, unit) VALUES (?1, ?2, ?3)
             ON CONFLICT(code) DO UPDATE SET unit = COALESCE(dossiers.unit, excluded.unit)",
            params![doc.dossier, doc.procedure, doc.unit],
        )
        .map_err(err)?;
        let version: u32 = tx
            .query_row(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM documents WHERE path = ?1",
                [&doc.path],
                |r| r.get(0),
            )
            .map_err(err)?;
        let quality = if doc.reasons.is_empty() && doc.rejected.is_none() {
            "pass"
        } else {
            "fail"
        };
        let reasons = serde_json::to_string(&doc.reasons).expect("strings serialize");
        tx.execute(
            "INSERT INTO documents(dossier_code, path, version, kind, sha256, bytes, media_type,
                                   archived_at, run_id, quality, reasons, rejected, page_count,
                                   searchable_pdf)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                doc.dossier,
                doc.path,
                version,
                doc.kind.as_str(),
                doc.sha256,
                doc.bytes as i64,
                doc.media_type,
                doc.archived_at,
                doc.run_id,
                quality,
                reasons,
                doc.rejected,
                doc.pages.len() as i64,
                doc.searchable_pdf,
            ],
        )
        .map_err(err)?;
        let document_id = tx.last_insert_rowid();
        let agent = concat!("dossier ", env!("CARGO_PKG_VERSION"));
        for (kind, detail) in [
            ("ingestion", format!("{} from the intake", doc.path)),
            (
                "message digest calculation",
                format!("SHA-256 {}", doc.sha256),
            ),
        ] {
            tx.execute(
                "INSERT INTO events(document_id, type, at, agent, outcome, detail) VALUES (?1, ?2, ?3, ?4, 'success', ?5)",
                params![document_id, kind, doc.archived_at, agent, detail],
            )
            .map_err(err)?;
        }
        tx.execute(
            "INSERT INTO current_documents(dossier_code, path, document_id, kind, quality)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(dossier_code, path) DO UPDATE SET document_id = excluded.document_id,
                 kind = excluded.kind, quality = excluded.quality",
            params![
                doc.dossier,
                doc.path,
                document_id,
                doc.kind.as_str(),
                quality
            ],
        )
        .map_err(err)?;
        {
            let mut page_st = tx
                .prepare_cached(
                    "INSERT INTO pages(document_id, page, width, height, dpi, dpi_source, blank,
                                       confidence, text, text_sha256, hocr_sha256, ocr_seconds,
                                       text_source, turned, deskewed, source_page)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                )
                .map_err(err)?;
            let mut fts_st = tx
                .prepare_cached("INSERT INTO page_fts(rowid, folded) VALUES (?1, ?2)")
                .map_err(err)?;
            for p in &doc.pages {
                page_st
                    .execute(params![
                        document_id,
                        p.page,
                        p.width,
                        p.height,
                        p.dpi,
                        p.dpi_source,
                        p.blank,
                        p.confidence,
                        p.text,
                        p.text_sha256,
                        p.hocr_sha256,
                        p.ocr_seconds,
                        p.text_source,
                        p.turned,
                        p.deskewed,
                        p.source_page,
                    ])
                    .map_err(err)?;
                let page_id = tx.last_insert_rowid();
                fts_st
                    .execute(params![page_id, fold::fold(&p.text)])
                    .map_err(err)?;
            }
        }
        tx.execute(
            "UPDATE dossiers SET
                 input_passes = EXISTS(SELECT 1 FROM current_documents c WHERE c.dossier_code = ?1
                                       AND c.kind = 'input' AND c.quality = 'pass'),
                 result_passes = EXISTS(SELECT 1 FROM current_documents c WHERE c.dossier_code = ?1
                                        AND c.kind = 'result' AND c.quality = 'pass'),
                 has_result = EXISTS(SELECT 1 FROM current_documents c WHERE c.dossier_code = ?1
                                     AND c.kind = 'result')
             WHERE code = ?1",
            [&doc.dossier],
        )
        .map_err(err)?;
        if doc.intake_file {
            upsert_intake_file(
                &tx,
                &doc.path,
                &KnownFile {
                    bytes: doc.bytes,
                    mtime_ns: doc.mtime_ns,
                    sha256: doc.sha256.clone(),
                },
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(version)
    }

    /// Records a batch scan and its intake stat in one transaction. Called after every
    /// document split out of it is committed, so that a crash before leaves it to be redone.
    pub fn add_batch(&mut self, batch: &NewBatch) -> Result<(), IndexError> {
        let path = self.path.clone();
        let err = |source| IndexError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute(
            "INSERT INTO batches(path, sha256, bytes, run_id, archived_at, pages, segments,
                                 quarantined, rejected)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                batch.path,
                batch.sha256,
                batch.bytes as i64,
                batch.run_id,
                batch.archived_at,
                batch.pages as i64,
                batch.segments,
                batch.quarantined,
                batch.rejected
            ],
        )
        .map_err(err)?;
        upsert_intake_file(
            &tx,
            &batch.path,
            &KnownFile {
                bytes: batch.bytes,
                mtime_ns: batch.mtime_ns,
                sha256: batch.sha256.clone(),
            },
        )
        .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Full-text search over the latest version of every document, ignoring case and
    /// Vietnamese diacritics. Every term must occur on the page.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>, IndexError> {
        let terms = fold::query_terms(query);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        // Each term quoted: FTS5 syntax characters in a query are text, not operators.
        let fts_query = terms
            .iter()
            .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(" ");
        let mut st = self
            .conn
            .prepare(
                "SELECT d.dossier_code, s.procedure_code, d.path, p.page, p.text, bm25(page_fts)
                 FROM page_fts
                 JOIN pages p ON p.id = page_fts.rowid
                 JOIN documents d ON d.id = p.document_id
                 JOIN dossiers s ON s.code = d.dossier_code
                 WHERE page_fts MATCH ?1
                   AND d.version = (SELECT MAX(version) FROM documents WHERE path = d.path)
                 ORDER BY bm25(page_fts), d.path, p.page
                 LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![fts_query, limit as i64], |r| {
                let text: String = r.get(4)?;
                let rank: f64 = r.get(5)?;
                Ok(SearchHit {
                    dossier_code: r.get(0)?,
                    procedure_code: r.get(1)?,
                    document: r.get(2)?,
                    page: r.get(3)?,
                    snippet: snippet(&text, &terms),
                    // bm25() is lower for better matches; report higher-is-better.
                    score: (-rank * 1000.0).round() / 1000.0,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// One dossier with every archived version of its documents, in path order.
    pub fn dossier(&self, code: &str) -> Result<Option<DossierView>, IndexError> {
        let head: Option<(String, Option<String>)> = self
            .conn
            .query_row(
                "SELECT s.procedure_code, COALESCE(NULLIF(r.unit, ''), s.unit)
                 FROM dossiers s LEFT JOIN register r ON r.dossier_code = s.code WHERE s.code = ?1",
                [code],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((procedure_code, unit)) = head else {
            return Ok(None);
        };
        let mut doc_st = self
            .conn
            .prepare(
                "SELECT id, path, kind, sha256, bytes, version, archived_at, quality, reasons, rejected,
                        searchable_pdf
                 FROM documents WHERE dossier_code = ?1 ORDER BY path, version",
            )
            .map_err(|e| self.err(e))?;
        let mut page_st = self
            .conn
            .prepare(
                "SELECT page, dpi, blank, confidence, text, text_source, turned, deskewed, source_page
                 FROM pages WHERE document_id = ?1 ORDER BY page",
            )
            .map_err(|e| self.err(e))?;
        let docs = doc_st
            .query_map([code], |r| {
                let reasons: String = r.get(8)?;
                Ok((
                    r.get::<_, i64>(0)?,
                    DocumentView {
                        path: r.get(1)?,
                        kind: r.get(2)?,
                        sha256: r.get(3)?,
                        bytes: r.get::<_, i64>(4)? as u64,
                        version: r.get(5)?,
                        archived_at: r.get(6)?,
                        quality: r.get(7)?,
                        reasons: serde_json::from_str(&reasons).unwrap_or_default(),
                        rejected: r.get(9)?,
                        searchable_pdf: r.get(10)?,
                        pages: Vec::new(),
                        events: Vec::new(),
                    },
                ))
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        let mut event_st = self
            .conn
            .prepare("SELECT type, at, agent, outcome, detail FROM events WHERE document_id = ?1 ORDER BY id")
            .map_err(|e| self.err(e))?;
        let mut documents = Vec::with_capacity(docs.len());
        for (id, mut doc) in docs {
            doc.events = event_st
                .query_map([id], |r| {
                    Ok(EventView {
                        kind: r.get(0)?,
                        at: r.get(1)?,
                        agent: r.get(2)?,
                        outcome: r.get(3)?,
                        detail: r.get(4)?,
                    })
                })
                .map_err(|e| self.err(e))?
                .collect::<Result<_, _>>()
                .map_err(|e| self.err(e))?;
            doc.pages = page_st
                .query_map([id], |r| {
                    Ok(PageView {
                        page: r.get(0)?,
                        dpi: r.get(1)?,
                        blank: r.get(2)?,
                        confidence: r.get(3)?,
                        text: r.get(4)?,
                        text_source: r.get(5)?,
                        turned: r.get(6)?,
                        deskewed: r.get(7)?,
                        source_page: r.get(8)?,
                    })
                })
                .map_err(|e| self.err(e))?
                .collect::<Result<_, _>>()
                .map_err(|e| self.err(e))?;
            documents.push(doc);
        }
        Ok(Some(DossierView {
            dossier_code: code.to_owned(),
            procedure_code,
            unit,
            documents,
        }))
    }

    /// Counts for summaries and tests: (dossiers, documents, pages).
    pub fn counts(&self) -> Result<(u64, u64, u64), IndexError> {
        self.conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM dossiers), (SELECT COUNT(*) FROM documents),
                        (SELECT COUNT(*) FROM pages)",
                [],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)? as u64,
                        r.get::<_, i64>(1)? as u64,
                        r.get::<_, i64>(2)? as u64,
                    ))
                },
            )
            .map_err(|e| self.err(e))
    }
}

/// What the archive holds for one dossier, as coverage counts it (latest versions only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierHoldings {
    pub dossier_code: String,
    pub procedure_code: String,
    pub unit: Option<String>,
    /// At least one input document passes quality.
    pub input_passes: bool,
    /// At least one result document passes quality.
    pub result_passes: bool,
    /// At least one result document is archived (pass or not).
    pub has_result: bool,
}

/// A document (latest version) that fails quality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailingDocument {
    pub dossier_code: String,
    pub path: String,
    pub reason: String,
}

impl Index {
    /// Every archived dossier with what it holds, in code order (one ordered scan).
    pub fn for_each_holding(
        &self,
        mut each: impl FnMut(DossierHoldings),
    ) -> Result<(), IndexError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT code, procedure_code, unit, input_passes, result_passes, has_result
                 FROM dossiers ORDER BY code",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let get = |r: &rusqlite::Row| -> rusqlite::Result<DossierHoldings> {
                Ok(DossierHoldings {
                    dossier_code: r.get(0)?,
                    procedure_code: r.get(1)?,
                    unit: r.get(2)?,
                    input_passes: r.get(3)?,
                    result_passes: r.get(4)?,
                    has_result: r.get(5)?,
                })
            };
            each(get(r).map_err(|e| self.err(e))?);
        }
        Ok(())
    }

    /// Every archived dossier's code and what it holds, without its procedure and unit: the
    /// lighter scan coverage needs when a register gives those.
    pub fn for_each_holding_code(
        &self,
        mut each: impl FnMut(&str, bool, bool, bool),
    ) -> Result<(), IndexError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT code, input_passes, result_passes, has_result FROM dossiers ORDER BY code",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let code = r
                .get_ref(0)
                .and_then(|v| Ok(v.as_str()?))
                .map_err(|e| self.err(e))?;
            let flag = |i: usize| r.get::<_, bool>(i).map_err(|e| self.err(e));
            each(code, flag(1)?, flag(2)?, flag(3)?);
        }
        Ok(())
    }

    /// Latest document versions that fail quality (or could not be read), in dossier and path order.
    pub fn failing_documents(&self) -> Result<Vec<FailingDocument>, IndexError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT c.dossier_code, c.path, d.rejected, d.reasons
                 FROM current_documents c JOIN documents d ON d.id = c.document_id
                 WHERE c.quality = 'fail' ORDER BY c.dossier_code, c.path",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                let rejected: Option<String> = r.get(2)?;
                let reasons: String = r.get(3)?;
                let reasons: Vec<String> = serde_json::from_str(&reasons).unwrap_or_default();
                Ok(FailingDocument {
                    dossier_code: r.get(0)?,
                    path: r.get(1)?,
                    reason: rejected.unwrap_or_else(|| reasons.join("; ")),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Replaces the stored register with a new import, in one transaction.
    pub fn replace_register(
        &mut self,
        rows: &[crate::coverage::register::RegisterRow],
        run_id: &str,
        source: &str,
        sha256: &str,
        problems: usize,
    ) -> Result<(), IndexError> {
        let path = self.path.clone();
        let err = |source| IndexError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute("DELETE FROM register", []).map_err(err)?;
        {
            let mut st = tx
                .prepare(
                    "INSERT INTO register(dossier_code, procedure_code, unit, received_on, due_on,
                                          completed_on, channel) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(err)?;
            for r in rows {
                st.execute(params![
                    r.dossier_code,
                    r.procedure_code,
                    r.unit,
                    r.received_on.iso(),
                    r.due_on.map(|d| d.iso()),
                    r.completed_on.map(|d| d.iso()),
                    r.channel.map(|c| c.as_str()),
                ])
                .map_err(err)?;
            }
        }
        tx.execute(
            "INSERT INTO imports(what, run_id, source, sha256, rows, problems) VALUES ('register', ?1, ?2, ?3, ?4, ?5)",
            params![run_id, source, sha256, rows.len() as i64, problems as i64],
        )
        .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Stores catalog names and fields (new codes added, known codes updated).
    pub fn import_catalog(
        &mut self,
        rows: &[crate::coverage::register::CatalogRow],
        run_id: &str,
        source: &str,
        sha256: &str,
        problems: usize,
    ) -> Result<(), IndexError> {
        let path = self.path.clone();
        let err = |source| IndexError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        for r in rows {
            tx.execute(
                "INSERT INTO procedures(code, name, field) VALUES (?1, ?2, ?3)
                 ON CONFLICT(code) DO UPDATE SET name = excluded.name, field = excluded.field",
                params![r.procedure_code, r.name, r.field],
            )
            .map_err(err)?;
        }
        tx.execute(
            "INSERT INTO imports(what, run_id, source, sha256, rows, problems) VALUES ('catalog', ?1, ?2, ?3, ?4, ?5)",
            params![run_id, source, sha256, rows.len() as i64, problems as i64],
        )
        .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Whether a register was ever imported (then reports count against it).
    pub fn has_register(&self) -> Result<bool, IndexError> {
        self.conn
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM imports WHERE what = 'register')",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// Streams the stored register, in code order.
    pub fn for_each_register_row(
        &self,
        mut each: impl FnMut(crate::coverage::register::RegisterRow),
    ) -> Result<(), IndexError> {
        use crate::coverage::date::Date;
        use crate::coverage::register::{Channel, RegisterRow};
        let mut st = self
            .conn
            .prepare(
                "SELECT dossier_code, procedure_code, unit, received_on, due_on, completed_on, channel
                 FROM register ORDER BY dossier_code",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let text = |i: usize| -> Result<Option<&str>, IndexError> {
                r.get_ref(i)
                    .and_then(|v| Ok(v.as_str_or_null()?))
                    .map_err(|e| self.err(e))
            };
            let date = |v: Option<&str>| v.and_then(Date::parse);
            let Some(received_on) = date(text(3)?) else {
                continue;
            };
            each(RegisterRow {
                dossier_code: text(0)?.unwrap_or_default().to_owned(),
                procedure_code: text(1)?.unwrap_or_default().to_owned(),
                unit: text(2)?.unwrap_or_default().to_owned(),
                received_on,
                due_on: date(text(4)?),
                completed_on: date(text(5)?),
                channel: text(6)?.and_then(Channel::parse),
            });
        }
        Ok(())
    }

    /// Procedure names from the imported catalog.
    pub fn procedure_names(&self) -> Result<std::collections::HashMap<String, String>, IndexError> {
        let mut st = self
            .conn
            .prepare("SELECT code, name FROM procedures WHERE name IS NOT NULL AND name != ''")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}

fn upsert_intake_file(conn: &Connection, path: &str, known: &KnownFile) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO intake_files(path, bytes, mtime_ns, sha256) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(path) DO UPDATE SET bytes = excluded.bytes, mtime_ns = excluded.mtime_ns,
                                         sha256 = excluded.sha256",
    )?
    .execute(params![
        path,
        known.bytes as i64,
        known.mtime_ns,
        known.sha256
    ])?;
    Ok(())
}

fn sqlite_err(path: &Path) -> impl FnOnce(rusqlite::Error) -> IndexError + '_ {
    move |source| IndexError::Sqlite {
        path: path.display().to_string(),
        source,
    }
}

/// A window of the original text (diacritics intact) around the first matched term,
/// on one line, at most about 160 characters.
pub fn snippet(text: &str, terms: &[String]) -> String {
    const WIDTH: usize = 160;
    let chars: Vec<char> = text.chars().collect();
    let folded: Vec<char> = chars.iter().map(|c| fold::fold_char(*c)).collect();
    let folded_str: String = folded.iter().collect();
    let first = terms
        .iter()
        .filter_map(|t| find_word(&folded_str, t))
        .min()
        .unwrap_or(0);
    let start = first.saturating_sub(WIDTH / 3);
    let end = (start + WIDTH).min(chars.len());
    let window: String = chars[start..end].iter().collect();
    let one_line = window.split_whitespace().collect::<Vec<_>>().join(" ");
    format!(
        "{}{one_line}{}",
        if start > 0 { "…" } else { "" },
        if end < chars.len() { "…" } else { "" }
    )
}

/// Character offset of `term` at the start of a word in `haystack`.
fn find_word(haystack: &str, term: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(pos) = haystack[from..].find(term) {
        let at = from + pos;
        let before = haystack[..at].chars().next_back();
        if before.is_none_or(|c| !c.is_alphanumeric()) {
            return Some(haystack[..at].chars().count());
        }
        from = at + term.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(path: &str, sha: &str, text: &str) -> NewDocument {
        NewDocument {
            path: path.into(),
            procedure: "1.001193".into(),
            dossier: "000.00.01.H50-240115-0001".into(),
            unit: None,
            kind: Kind::Input,
            sha256: sha.into(),
            bytes: 10,
            mtime_ns: 1,
            media_type: Some("image/png"),
            archived_at: "2024-01-16T01:02:03Z".into(),
            run_id: "r1".into(),
            rejected: None,
            reasons: vec![],
            pages: vec![NewPage {
                page: 1,
                width: 100,
                height: 100,
                dpi: 300,
                dpi_source: "metadata",
                blank: false,
                confidence: Some(93.0),
                text: text.into(),
                text_sha256: None,
                hocr_sha256: None,
                ocr_seconds: Some(0.5),
                text_source: "ocr",
                turned: 0,
                deskewed: 0.0,
                source_page: None,
            }],
            searchable_pdf: None,
            intake_file: true,
        }
    }

    #[test]
    fn a_version_1_index_is_migrated_in_place() {
        let dir = std::env::temp_dir().join(format!("dossier-migrate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("index.sqlite");
        {
            // Made as version 1 made it: without the columns version 2 added.
            let index = Index::open_rw(&path).unwrap();
            index
                .conn
                .execute_batch(
                    "ALTER TABLE pages DROP COLUMN text_source;
                     ALTER TABLE pages DROP COLUMN turned;
                     ALTER TABLE pages DROP COLUMN deskewed;
                     ALTER TABLE pages DROP COLUMN source_page;
                     ALTER TABLE documents DROP COLUMN searchable_pdf;
                     UPDATE meta SET value = '1' WHERE key = 'schema_version';",
                )
                .unwrap();
        }
        assert!(matches!(
            Index::open_ro(&path).err(),
            Some(IndexError::Schema { .. })
        ));
        let mut index = Index::open_rw(&path).unwrap();
        index
            .begin_run("r1", "test", "2024-01-16T01:02:03Z")
            .unwrap();
        let mut d = doc("a/b/input/x.png", &"a".repeat(64), "xin chào");
        d.pages[0].turned = 180;
        d.searchable_pdf = Some("b".repeat(64));
        index.add_document(&d).unwrap();
        let view = index.dossier("000.00.01.H50-240115-0001").unwrap().unwrap();
        assert_eq!(view.documents[0].pages[0].turned, 180);
        assert_eq!(view.documents[0].searchable_pdf, Some("b".repeat(64)));
        drop(index);
        assert!(Index::open_ro(&path).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn search_ignores_case_and_diacritics_and_prefers_latest_versions() {
        let dir = std::env::temp_dir().join(format!("dossier-index-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut index = Index::open_rw(&dir.join("index.sqlite")).unwrap();
        index
            .begin_run("r1", "test", "2024-01-16T01:02:03Z")
            .unwrap();
        let v1 = index
            .add_document(&doc(
                "p/d/input/a.png",
                "aa",
                "TỜ KHAI ĐĂNG KÝ KHAI SINH\nHọ và tên: Nguyễn Văn Đức",
            ))
            .unwrap();
        assert_eq!(v1, 1);
        let hits = index.search("dang ky khai sinh", 10).unwrap();
        assert_eq!(hits.len(), 1);
        assert!(
            hits[0].snippet.contains("ĐĂNG KÝ KHAI SINH"),
            "{}",
            hits[0].snippet
        );
        assert_eq!(index.search("NGUYEN VAN DUC", 10).unwrap().len(), 1);
        assert_eq!(index.search("đức", 10).unwrap().len(), 1);
        assert!(index.search("kết hôn", 10).unwrap().is_empty());
        assert!(index.search("\" OR *", 10).unwrap().is_empty());

        let v2 = index
            .add_document(&doc("p/d/input/a.png", "bb", "Giấy khai sinh"))
            .unwrap();
        assert_eq!(v2, 2);
        assert!(
            index.search("Nguyễn", 10).unwrap().is_empty(),
            "old version still searchable"
        );
        let view = index.dossier("000.00.01.H50-240115-0001").unwrap().unwrap();
        assert_eq!(
            view.documents.iter().map(|d| d.version).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert_eq!(
            index.known_file("p/d/input/a.png").unwrap().unwrap().sha256,
            "bb"
        );
        assert_eq!(
            index.latest_sha256("p/d/input/a.png").unwrap().as_deref(),
            Some("bb")
        );
        drop(index);
        let ro = Index::open_ro(&dir.join("index.sqlite")).unwrap();
        assert_eq!(ro.counts().unwrap(), (1, 2, 2));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn snippets_keep_diacritics_and_stay_short() {
        let text = format!(
            "{} Họ và tên: NGUYỄN THỊ HƯƠNG {}",
            "x ".repeat(200),
            "y ".repeat(200)
        );
        let s = snippet(&text, &["huong".to_owned()]);
        assert!(s.contains("NGUYỄN THỊ HƯƠNG"), "{s}");
        assert!(s.starts_with('…') && s.ends_with('…'));
        assert!(s.chars().count() <= 162);
        // a term inside another word is not a match position
        assert_eq!(find_word("phuong huong", "huong"), Some(7));
    }
}
