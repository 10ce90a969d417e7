//! The index: what the archive holds, queryable. SQLite by default (embedded, one file in
//! the archive) or PostgreSQL (shared by many workers): one schema, one API, the SQL written
//! once over [`db::Db`].
//!
//! Each document is committed in one transaction together with its pages, its full-text rows
//! and the intake stat cache, after its objects are safely on disk: a crash leaves either the
//! whole document or none of it.

pub mod audit;
pub mod claims;
pub mod db;

use std::cell::{RefCell, RefMut};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::fold;
use crate::intake::layout::Kind;
use db::{vals, Backend, Db, DbError, Row};

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The cause is spelled out in the message (not chained: its own causes are already in it).
    #[error("index {index}: {cause}")]
    Db { index: String, cause: DbError },
    #[error("index {path} has schema version {found}; this dossier understands {expected}")]
    Schema {
        path: String,
        found: String,
        expected: &'static str,
    },
    #[error("index URL {url}: {reason}")]
    BadUrl { url: String, reason: String },
}

const SCHEMA_VERSION: &str = "3";

/// Version 1 → 2: per-page corrections and text source, the searchable PDF derivative.
const MIGRATE_1_TO_2: &str = r#"
ALTER TABLE pages ADD COLUMN text_source TEXT NOT NULL DEFAULT 'ocr';
ALTER TABLE pages ADD COLUMN turned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pages ADD COLUMN deskewed REAL NOT NULL DEFAULT 0;
ALTER TABLE pages ADD COLUMN source_page INTEGER;
ALTER TABLE documents ADD COLUMN searchable_pdf TEXT;
UPDATE meta SET value = '2' WHERE key = 'schema_version';
"#;

/// Version 2 → 3: run leases and work claims for many workers (the claims table comes with
/// SCHEMA's `IF NOT EXISTS`).
const MIGRATE_2_TO_3: &str = r#"
ALTER TABLE runs ADD COLUMN lease_until INTEGER;
UPDATE meta SET value = '3' WHERE key = 'schema_version';
"#;

/// The schema, in SQLite's words; [`postgres_schema`] says the same to PostgreSQL.
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
-- A run sharing the index renews lease_until (ms since the epoch by the database's clock)
-- while it lives; an unfinished run whose lease ran out was killed.
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    pipeline TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    report TEXT,
    report_sha256 TEXT,
    lease_until INTEGER
);
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
--FTS
CREATE VIRTUAL TABLE IF NOT EXISTS page_fts USING fts5(
    folded, content = '', tokenize = 'unicode61 remove_diacritics 2'
);
--END FTS
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
-- Intake files a run has claimed, for as long as its lease lasts (shared index only): no two
-- workers read the same file; a dead worker's claims are taken over once they run out.
CREATE TABLE IF NOT EXISTS claims (
    path TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    lease_until INTEGER NOT NULL
);
"#;

/// The full-text table in PostgreSQL: the page's words as Rust folds and splits them (the
/// same words SQLite's table holds), matched exactly.
const POSTGRES_FTS: &str = r#"
CREATE TABLE IF NOT EXISTS page_fts (
    page_id BIGINT PRIMARY KEY REFERENCES pages(id),
    folded TSVECTOR NOT NULL
);
CREATE INDEX IF NOT EXISTS page_fts_words ON page_fts USING GIN (folded);
"#;

/// [`SCHEMA`] in PostgreSQL's words: 64-bit integers, identity keys, byte-order text (so that
/// every `ORDER BY` sorts as SQLite does and reports come out byte for byte the same).
fn postgres_schema() -> String {
    let (before, rest) = SCHEMA
        .split_once("--FTS")
        .expect("schema marks its FTS table");
    let (_, after) = rest
        .split_once("--END FTS")
        .expect("schema marks its FTS table");
    let schema = format!("{before}{POSTGRES_FTS}{after}");
    let schema = replace_word(
        &schema,
        "INTEGER PRIMARY KEY",
        "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    );
    let schema = replace_word(&schema, "INTEGER", "BIGINT");
    let schema = replace_word(&schema, "REAL", "DOUBLE PRECISION");
    let schema = replace_word(&schema, "TEXT", "TEXT COLLATE \"C\"");
    schema.replace(") WITHOUT ROWID;", ");")
}

/// Replaces whole words only (`TEXT`, not `text_source`).
fn replace_word(s: &str, from: &str, to: &str) -> String {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find(from) {
        let before = rest[..at].chars().next_back().or(out.chars().next_back());
        let after = rest[at + from.len()..].chars().next();
        out.push_str(&rest[..at]);
        if word(before) || word(after) {
            out.push_str(from);
        } else {
            out.push_str(to);
        }
        rest = &rest[at + from.len()..];
    }
    out.push_str(rest);
    out
}

/// Where an index lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The embedded default: `index.sqlite` in the archive.
    Sqlite(PathBuf),
    /// A PostgreSQL database shared by many workers: `postgres://user@host/dbname`.
    Postgres(String),
}

impl Location {
    /// `url` if one is given (from `--index` or `[index] url`), else the archive's own file.
    pub fn resolve(archive_index: PathBuf, url: Option<&str>) -> Result<Location, IndexError> {
        match url {
            None => Ok(Location::Sqlite(archive_index)),
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                Ok(Location::Postgres(u.to_owned()))
            }
            Some(u) => Err(IndexError::BadUrl {
                url: redact(u),
                reason: "expected postgres://user:password@host/dbname".into(),
            }),
        }
    }

    /// Shared by several workers (PostgreSQL): runs claim their files and keep leases.
    pub fn is_shared(&self) -> bool {
        matches!(self, Location::Postgres(_))
    }

    /// For messages: the path, or the URL without its password.
    pub fn display(&self) -> String {
        match self {
            Location::Sqlite(p) => p.display().to_string(),
            Location::Postgres(url) => redact(url),
        }
    }

    fn connect(&self, write: bool) -> Result<Db, IndexError> {
        let name = self.display();
        let err = |cause: DbError| IndexError::Db {
            index: name.clone(),
            cause,
        };
        match self {
            Location::Sqlite(path) => {
                let conn = if write {
                    rusqlite::Connection::open(path)
                } else {
                    rusqlite::Connection::open_with_flags(
                        path,
                        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                            | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    )
                }
                .map_err(|e| err(e.into()))?;
                if write {
                    // A rollback journal (not WAL) keeps the index readable from a read-only
                    // copy; FULL sync makes each committed document durable before the next
                    // starts. The page size only takes effect when the file is created.
                    conn.execute_batch(
                        "PRAGMA page_size = 32768; PRAGMA journal_mode = DELETE;
                         PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
                    )
                    .map_err(|e| err(e.into()))?;
                }
                // A 32 MiB page cache; with 32 KiB pages a scan over a million dossiers
                // costs few read() calls, without mapping the file into memory.
                conn.busy_timeout(std::time::Duration::from_secs(30))
                    .and_then(|_| conn.execute_batch("PRAGMA cache_size = -32768;"))
                    .map_err(|e| err(e.into()))?;
                Ok(Db::sqlite(conn))
            }
            Location::Postgres(url) => {
                let config: postgres::Config =
                    url.parse()
                        .map_err(|e: postgres::Error| IndexError::BadUrl {
                            url: name.clone(),
                            reason: e.to_string(),
                        })?;
                let mut client = config.connect(postgres::NoTls).map_err(|e| err(e.into()))?;
                if !write {
                    client
                        .batch_execute("SET default_transaction_read_only = on")
                        .map_err(|e| err(e.into()))?;
                }
                Ok(Db::postgres(client))
            }
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user@host/db`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((user, host)) => {
            let user = user.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}")
        }
        None => url.to_owned(),
    }
}

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
    db: RefCell<Db>,
    location: Location,
}

impl Index {
    /// Opens (creating if needed) the SQLite index at `path` for writing.
    pub fn open_rw(path: &Path) -> Result<Index, IndexError> {
        Index::open(&Location::Sqlite(path.to_owned()), true)
    }

    /// Opens an existing SQLite index read-only: read-only commands never write to the archive.
    pub fn open_ro(path: &Path) -> Result<Index, IndexError> {
        Index::open(&Location::Sqlite(path.to_owned()), false)
    }

    /// Opens an index for writing (creating or migrating its tables) or read-only.
    pub fn open(location: &Location, write: bool) -> Result<Index, IndexError> {
        let index = Index {
            db: RefCell::new(location.connect(write)?),
            location: location.clone(),
        };
        if write {
            index.migrate()?;
        } else {
            index.check_version()?;
        }
        Ok(index)
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    pub fn backend(&self) -> Backend {
        self.db.borrow().backend()
    }

    pub(crate) fn db(&self) -> RefMut<'_, Db> {
        self.db.borrow_mut()
    }

    pub(crate) fn err(&self, source: DbError) -> IndexError {
        IndexError::Db {
            index: self.location.display(),
            cause: source,
        }
    }

    /// Runs `work` in one transaction, errors named after this index.
    pub(crate) fn transaction<T>(
        &self,
        work: impl FnOnce(&mut Db) -> Result<T, DbError>,
    ) -> Result<T, IndexError> {
        self.db().transaction(work).map_err(|e| self.err(e))
    }

    fn migrate(&self) -> Result<(), IndexError> {
        // Tables and version row in one transaction: a run killed while creating the index
        // leaves none of it. An existing index keeps its version row (then migrated below).
        let schema = match self.backend() {
            Backend::Sqlite => SCHEMA.to_owned(),
            Backend::Postgres => postgres_schema(),
        };
        self.transaction(|db| {
            if db.backend() == Backend::Postgres {
                // Workers starting together: one creates the tables, the others wait.
                db.execute("SELECT pg_advisory_xact_lock(4242)", &[])?;
            }
            db.batch(&schema)?;
            db.execute(
                "INSERT INTO meta(key, value) VALUES ('schema_version', ?1)
                 ON CONFLICT(key) DO NOTHING",
                &vals![SCHEMA_VERSION],
            )?;
            Ok(())
        })?;
        for (from, step) in [("1", MIGRATE_1_TO_2), ("2", MIGRATE_2_TO_3)] {
            if self.version()?.as_deref() == Some(from) {
                self.transaction(|db| db.batch(step))?;
            }
        }
        self.check_version()
    }

    fn version(&self) -> Result<Option<String>, IndexError> {
        let row = self
            .db()
            .query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[]);
        match row {
            Ok(row) => row
                .map(|r| r.get::<String>(0))
                .transpose()
                .map_err(|e| self.err(e)),
            // No meta table: not an index this program made.
            Err(_) => Ok(None),
        }
    }

    fn check_version(&self) -> Result<(), IndexError> {
        match self.version()? {
            Some(v) if v == SCHEMA_VERSION => Ok(()),
            other => Err(IndexError::Schema {
                path: self.location.display(),
                found: other.unwrap_or_else(|| "none".into()),
                expected: SCHEMA_VERSION,
            }),
        }
    }

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
    /// Returns the version number given. The claim on its intake file, if any, ends with it.
    pub fn add_document(&mut self, doc: &NewDocument) -> Result<u32, IndexError> {
        self.transaction(|tx| {
            // Takes the dossier's row lock first (PostgreSQL): two workers committing to one
            // dossier compute its flags one after the other.
            tx.execute(
                "INSERT INTO dossiers(code, procedure_code, unit) VALUES (?1, ?2, ?3)
                 ON CONFLICT(code) DO UPDATE SET unit = COALESCE(dossiers.unit, excluded.unit)",
                &vals![&doc.dossier, &doc.procedure, &doc.unit],
            )?;
            let version: u32 = tx
                .query_one(
                    "SELECT COALESCE(MAX(version), 0) + 1 FROM documents WHERE path = ?1",
                    &vals![&doc.path],
                )?
                .get(0)?;
            let quality = if doc.reasons.is_empty() && doc.rejected.is_none() {
                "pass"
            } else {
                "fail"
            };
            let reasons = serde_json::to_string(&doc.reasons).expect("strings serialize");
            let document_id: i64 = tx
                .query_one(
                    "INSERT INTO documents(dossier_code, path, version, kind, sha256, bytes,
                                           media_type, archived_at, run_id, quality, reasons,
                                           rejected, page_count, searchable_pdf)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
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
                    ],
                )?
                .get(0)?;
            let agent = concat!("dossier ", env!("CARGO_PKG_VERSION"));
            for (kind, detail) in [
                ("ingestion", format!("{} from the intake", doc.path)),
                (
                    "message digest calculation",
                    format!("SHA-256 {}", doc.sha256),
                ),
            ] {
                tx.execute(
                    "INSERT INTO events(document_id, type, at, agent, outcome, detail)
                     VALUES (?1, ?2, ?3, ?4, 'success', ?5)",
                    &vals![document_id, kind, &doc.archived_at, agent, detail],
                )?;
            }
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
            for p in &doc.pages {
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
                insert_fts(tx, page_id, &p.text)?;
            }
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
                &vals![&doc.dossier],
            )?;
            if doc.intake_file {
                upsert_intake_file(
                    tx,
                    &doc.path,
                    &KnownFile {
                        bytes: doc.bytes,
                        mtime_ns: doc.mtime_ns,
                        sha256: doc.sha256.clone(),
                    },
                )?;
                tx.execute(
                    "DELETE FROM claims WHERE path = ?1 AND run_id = ?2",
                    &vals![&doc.path, &doc.run_id],
                )?;
            }
            Ok(version)
        })
    }

    /// Records a batch scan and its intake stat in one transaction. Called after every
    /// document split out of it is committed, so that a crash before leaves it to be redone.
    pub fn add_batch(&mut self, batch: &NewBatch) -> Result<(), IndexError> {
        self.transaction(|tx| {
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
            upsert_intake_file(
                tx,
                &batch.path,
                &KnownFile {
                    bytes: batch.bytes,
                    mtime_ns: batch.mtime_ns,
                    sha256: batch.sha256.clone(),
                },
            )?;
            tx.execute(
                "DELETE FROM claims WHERE path = ?1 AND run_id = ?2",
                &vals![&batch.path, &batch.run_id],
            )?;
            Ok(())
        })
    }

    /// Full-text search over the latest version of every document, ignoring case and
    /// Vietnamese diacritics. Every term must occur on the page.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>, IndexError> {
        let terms = fold::query_terms(query);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let (sql, words) = match self.backend() {
            // Each term quoted: FTS5 syntax characters in a query are text, not operators.
            Backend::Sqlite => (
                "SELECT d.dossier_code, s.procedure_code, d.path, p.page, p.text, -bm25(page_fts)
                 FROM page_fts
                 JOIN pages p ON p.id = page_fts.rowid
                 JOIN documents d ON d.id = p.document_id
                 JOIN dossiers s ON s.code = d.dossier_code
                 WHERE page_fts MATCH ?1
                   AND d.version = (SELECT MAX(version) FROM documents WHERE path = d.path)
                 ORDER BY bm25(page_fts), d.path, p.page
                 LIMIT ?2",
                terms
                    .iter()
                    .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            // The same words, as lexemes: no parser of PostgreSQL's between them and the page.
            Backend::Postgres => (
                "SELECT d.dossier_code, s.procedure_code, d.path, p.page, p.text,
                        CAST(ts_rank(f.folded, CAST(CAST(?1 AS TEXT) AS tsquery)) AS DOUBLE PRECISION)
                 FROM page_fts f
                 JOIN pages p ON p.id = f.page_id
                 JOIN documents d ON d.id = p.document_id
                 JOIN dossiers s ON s.code = d.dossier_code
                 WHERE f.folded @@ CAST(CAST(?1 AS TEXT) AS tsquery)
                   AND d.version = (SELECT MAX(version) FROM documents WHERE path = d.path)
                 ORDER BY 6 DESC, d.path, p.page
                 LIMIT ?2",
                terms
                    .iter()
                    .map(|t| lexeme(t))
                    .collect::<Vec<_>>()
                    .join(" & "),
            ),
        };
        let rows = self
            .db()
            .query(sql, &vals![words, limit])
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| {
                let rank: f64 = r.get(5)?;
                Ok(SearchHit {
                    dossier_code: r.get(0)?,
                    procedure_code: r.get(1)?,
                    document: r.get(2)?,
                    page: r.get(3)?,
                    snippet: snippet(r.str(4)?, &terms),
                    // Higher is better on both backends.
                    score: (rank * 1000.0).round() / 1000.0,
                })
            })
            .collect::<Result<_, DbError>>()
            .map_err(|e| self.err(e))
    }

    /// One dossier with every archived version of its documents, in path order.
    pub fn dossier(&self, code: &str) -> Result<Option<DossierView>, IndexError> {
        self.dossier_inner(code).map_err(|e| self.err(e))
    }

    fn dossier_inner(&self, code: &str) -> Result<Option<DossierView>, DbError> {
        let mut db = self.db();
        let Some(head) = db.query_opt(
            "SELECT s.procedure_code, COALESCE(NULLIF(r.unit, ''), s.unit)
             FROM dossiers s LEFT JOIN register r ON r.dossier_code = s.code WHERE s.code = ?1",
            &vals![code],
        )?
        else {
            return Ok(None);
        };
        let docs = db.query(
            "SELECT id, path, kind, sha256, bytes, version, archived_at, quality, reasons,
                    rejected, searchable_pdf
             FROM documents WHERE dossier_code = ?1 ORDER BY path, version",
            &vals![code],
        )?;
        let mut documents = Vec::with_capacity(docs.len());
        for r in docs {
            let id: i64 = r.get(0)?;
            let events = db
                .query(
                    "SELECT type, at, agent, outcome, detail FROM events
                     WHERE document_id = ?1 ORDER BY id",
                    &vals![id],
                )?
                .iter()
                .map(|e| {
                    Ok(EventView {
                        kind: e.get(0)?,
                        at: e.get(1)?,
                        agent: e.get(2)?,
                        outcome: e.get(3)?,
                        detail: e.get(4)?,
                    })
                })
                .collect::<Result<_, DbError>>()?;
            let pages = db
                .query(
                    "SELECT page, dpi, blank, confidence, text, text_source, turned, deskewed,
                            source_page
                     FROM pages WHERE document_id = ?1 ORDER BY page",
                    &vals![id],
                )?
                .iter()
                .map(|p| {
                    Ok(PageView {
                        page: p.get(0)?,
                        dpi: p.get(1)?,
                        blank: p.get(2)?,
                        confidence: p.get(3)?,
                        text: p.get(4)?,
                        text_source: p.get(5)?,
                        turned: p.get(6)?,
                        deskewed: p.get(7)?,
                        source_page: p.get(8)?,
                    })
                })
                .collect::<Result<_, DbError>>()?;
            documents.push(DocumentView {
                path: r.get(1)?,
                kind: r.get(2)?,
                sha256: r.get(3)?,
                bytes: r.get(4)?,
                version: r.get(5)?,
                archived_at: r.get(6)?,
                quality: r.get(7)?,
                reasons: serde_json::from_str(r.str(8)?).unwrap_or_default(),
                rejected: r.get(9)?,
                searchable_pdf: r.get(10)?,
                pages,
                events,
            });
        }
        Ok(Some(DossierView {
            dossier_code: code.to_owned(),
            procedure_code: head.get(0)?,
            unit: head.get(1)?,
            documents,
        }))
    }

    /// Counts for summaries and tests: (dossiers, documents, pages).
    pub fn counts(&self) -> Result<(u64, u64, u64), IndexError> {
        let r = self
            .db()
            .query_one(
                "SELECT (SELECT COUNT(*) FROM dossiers), (SELECT COUNT(*) FROM documents),
                        (SELECT COUNT(*) FROM pages)",
                &[],
            )
            .map_err(|e| self.err(e))?;
        (|| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))().map_err(|e| self.err(e))
    }
}

/// A search term as a tsquery lexeme: quoted, its quotes and backslashes escaped.
fn lexeme(term: &str) -> String {
    format!("'{}'", term.replace('\\', "\\\\").replace('\'', "''"))
}

/// The full-text row of a page: its folded words.
fn insert_fts(tx: &mut Db, page_id: i64, text: &str) -> Result<(), DbError> {
    match tx.backend() {
        Backend::Sqlite => tx.execute(
            "INSERT INTO page_fts(rowid, folded) VALUES (?1, ?2)",
            &vals![page_id, fold::fold(text)],
        ),
        Backend::Postgres => {
            let mut words = fold::query_terms(text);
            words.sort();
            words.dedup();
            let vector = words
                .iter()
                .map(|w| lexeme(w))
                .collect::<Vec<_>>()
                .join(" ");
            tx.execute(
                "INSERT INTO page_fts(page_id, folded) VALUES (?1, CAST(CAST(?2 AS TEXT) AS tsvector))",
                &vals![page_id, vector],
            )
        }
    }?;
    Ok(())
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
        self.db()
            .for_each(
                "SELECT code, procedure_code, unit, input_passes, result_passes, has_result
                 FROM dossiers ORDER BY code",
                &[],
                |r| {
                    each(DossierHoldings {
                        dossier_code: r.get(0)?,
                        procedure_code: r.get(1)?,
                        unit: r.get(2)?,
                        input_passes: r.get(3)?,
                        result_passes: r.get(4)?,
                        has_result: r.get(5)?,
                    });
                    Ok::<_, DbError>(())
                },
            )
            .map_err(|e| self.err(e))
    }

    /// Every archived dossier's code and what it holds, without its procedure and unit: the
    /// lighter scan coverage needs when a register gives those.
    pub fn for_each_holding_code(
        &self,
        mut each: impl FnMut(&str, bool, bool, bool),
    ) -> Result<(), IndexError> {
        self.db()
            .for_each(
                "SELECT code, input_passes, result_passes, has_result FROM dossiers ORDER BY code",
                &[],
                |r| {
                    each(r.str(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
                    Ok::<_, DbError>(())
                },
            )
            .map_err(|e| self.err(e))
    }

    /// Latest document versions that fail quality (or could not be read), in dossier and path order.
    pub fn failing_documents(&self) -> Result<Vec<FailingDocument>, IndexError> {
        let mut out = Vec::new();
        self.db()
            .for_each(
                "SELECT c.dossier_code, c.path, d.rejected, d.reasons
                 FROM current_documents c JOIN documents d ON d.id = c.document_id
                 WHERE c.quality = 'fail' ORDER BY c.dossier_code, c.path",
                &[],
                |r| {
                    let rejected: Option<String> = r.get(2)?;
                    let reasons: Vec<String> = serde_json::from_str(r.str(3)?).unwrap_or_default();
                    out.push(FailingDocument {
                        dossier_code: r.get(0)?,
                        path: r.get(1)?,
                        reason: rejected.unwrap_or_else(|| reasons.join("; ")),
                    });
                    Ok::<_, DbError>(())
                },
            )
            .map_err(|e| self.err(e))?;
        Ok(out)
    }

    /// Replaces the stored register with a new import, in one transaction.
    pub fn replace_register(
        &mut self,
        rows: &[crate::register::RegisterRow],
        run_id: &str,
        source: &str,
        sha256: &str,
        problems: usize,
    ) -> Result<(), IndexError> {
        self.transaction(|tx| {
            if tx.backend() == Backend::Postgres {
                // Two workers importing the register at once: one after the other.
                tx.batch("LOCK TABLE register IN EXCLUSIVE MODE")?;
            }
            tx.execute("DELETE FROM register", &[])?;
            for r in rows {
                tx.execute(
                    "INSERT INTO register(dossier_code, procedure_code, unit, received_on, due_on,
                                          completed_on, channel) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    &vals![
                        &r.dossier_code,
                        &r.procedure_code,
                        &r.unit,
                        r.received_on.iso(),
                        r.due_on.map(|d| d.iso()),
                        r.completed_on.map(|d| d.iso()),
                        r.channel.map(|c| c.as_str()),
                    ],
                )?;
            }
            tx.execute(
                "INSERT INTO imports(what, run_id, source, sha256, rows, problems)
                 VALUES ('register', ?1, ?2, ?3, ?4, ?5)",
                &vals![run_id, source, sha256, rows.len(), problems],
            )?;
            Ok(())
        })
    }

    /// Stores catalog names and fields (new codes added, known codes updated).
    pub fn import_catalog(
        &mut self,
        rows: &[crate::register::CatalogRow],
        run_id: &str,
        source: &str,
        sha256: &str,
        problems: usize,
    ) -> Result<(), IndexError> {
        self.transaction(|tx| {
            for r in rows {
                tx.execute(
                    "INSERT INTO procedures(code, name, field) VALUES (?1, ?2, ?3)
                     ON CONFLICT(code) DO UPDATE SET name = excluded.name, field = excluded.field",
                    &vals![&r.procedure_code, &r.name, &r.field],
                )?;
            }
            tx.execute(
                "INSERT INTO imports(what, run_id, source, sha256, rows, problems)
                 VALUES ('catalog', ?1, ?2, ?3, ?4, ?5)",
                &vals![run_id, source, sha256, rows.len(), problems],
            )?;
            Ok(())
        })
    }

    /// Whether a register was ever imported (then reports count against it).
    pub fn has_register(&self) -> Result<bool, IndexError> {
        self.db()
            .query_one(
                "SELECT EXISTS(SELECT 1 FROM imports WHERE what = 'register')",
                &[],
            )
            .and_then(|r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// Streams the stored register, in code order.
    pub fn for_each_register_row(
        &self,
        mut each: impl FnMut(crate::register::RegisterRow),
    ) -> Result<(), IndexError> {
        use crate::date::Date;
        use crate::register::{Channel, RegisterRow};
        self.db()
            .for_each(
                "SELECT dossier_code, procedure_code, unit, received_on, due_on, completed_on,
                        channel
                 FROM register ORDER BY dossier_code",
                &[],
                |r: &Row| {
                    let date = |v: Option<&str>| v.and_then(Date::parse);
                    let Some(received_on) = date(r.opt_str(3)?) else {
                        return Ok(());
                    };
                    each(RegisterRow {
                        dossier_code: r.opt_str(0)?.unwrap_or_default().to_owned(),
                        procedure_code: r.opt_str(1)?.unwrap_or_default().to_owned(),
                        unit: r.opt_str(2)?.unwrap_or_default().to_owned(),
                        received_on,
                        due_on: date(r.opt_str(4)?),
                        completed_on: date(r.opt_str(5)?),
                        channel: r.opt_str(6)?.and_then(Channel::parse),
                    });
                    Ok::<_, DbError>(())
                },
            )
            .map_err(|e| self.err(e))
    }

    /// Procedure names from the imported catalog.
    pub fn procedure_names(&self) -> Result<std::collections::HashMap<String, String>, IndexError> {
        let mut out = std::collections::HashMap::new();
        self.db()
            .for_each(
                "SELECT code, name FROM procedures WHERE name IS NOT NULL AND name != ''",
                &[],
                |r| {
                    out.insert(r.get(0)?, r.get(1)?);
                    Ok::<_, DbError>(())
                },
            )
            .map_err(|e| self.err(e))?;
        Ok(out)
    }
}

fn upsert_intake_file(db: &mut Db, path: &str, known: &KnownFile) -> Result<(), DbError> {
    db.execute(
        "INSERT INTO intake_files(path, bytes, mtime_ns, sha256) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(path) DO UPDATE SET bytes = excluded.bytes, mtime_ns = excluded.mtime_ns,
                                         sha256 = excluded.sha256",
        &vals![path, known.bytes, known.mtime_ns, &known.sha256],
    )?;
    Ok(())
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
                .db()
                .batch(
                    "ALTER TABLE pages DROP COLUMN text_source;
                     ALTER TABLE pages DROP COLUMN turned;
                     ALTER TABLE pages DROP COLUMN deskewed;
                     ALTER TABLE pages DROP COLUMN source_page;
                     ALTER TABLE documents DROP COLUMN searchable_pdf;
                     ALTER TABLE runs DROP COLUMN lease_until;
                     DROP TABLE claims;
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
            .begin_run("r1", "test", "2024-01-16T01:02:03Z", None)
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

    /// The same calls against either backend: search, versions, views, the stat cache,
    /// the ledger and the consistency checks.
    fn index_behaviour(location: &Location) {
        let mut index = Index::open(location, true).unwrap();
        index
            .begin_run("r1", "test", "2024-01-16T01:02:03Z", None)
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
        assert!(hits[0].score >= 0.0, "{}", hits[0].score);
        assert!(
            hits[0].snippet.contains("ĐĂNG KÝ KHAI SINH"),
            "{}",
            hits[0].snippet
        );
        assert_eq!(index.search("NGUYEN VAN DUC", 10).unwrap().len(), 1);
        assert_eq!(index.search("đức", 10).unwrap().len(), 1);
        assert!(index.search("kết hôn", 10).unwrap().is_empty());
        assert!(index.search("\" OR *", 10).unwrap().is_empty());
        assert!(index.search("' & !", 10).unwrap().is_empty());

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
        assert_eq!(view.documents[0].events.len(), 2);
        assert_eq!(view.documents[1].pages[0].confidence, Some(93.0));
        assert_eq!(
            index.known_file("p/d/input/a.png").unwrap().unwrap().sha256,
            "bb"
        );
        assert_eq!(
            index.latest_sha256("p/d/input/a.png").unwrap().as_deref(),
            Some("bb")
        );
        let head = index
            .finish_run_with_ledger(
                "r1",
                "2024-01-16T01:05:00Z",
                "{}",
                "cc",
                serde_json::json!({}),
            )
            .unwrap();
        assert_eq!(head.seq, 1);
        // Closing a finished run again (two workers closing one killed run) adds nothing.
        let again = index
            .finish_run_with_ledger(
                "r1",
                "2024-01-16T01:06:00Z",
                "{}",
                "dd",
                serde_json::json!({}),
            )
            .unwrap();
        assert_eq!(again, head);
        assert_eq!(index.ledger().unwrap().len(), 1);
        let mut copied = Vec::new();
        index
            .with_ledger(|entries| {
                copied = entries;
                Ok::<_, IndexError>(())
            })
            .unwrap();
        assert_eq!(copied, index.ledger().unwrap());
        assert!(index.unfinished_runs().unwrap().is_empty());
        assert!(index.consistency_problems().unwrap().is_empty());
        drop(index);
        let ro = Index::open(location, false).unwrap();
        assert_eq!(ro.counts().unwrap(), (1, 2, 2));
        assert!(
            ro.begin_run("r2", "test", "2024-01-17T00:00:00Z", None)
                .is_err(),
            "a read-only index took a write"
        );
    }

    #[test]
    fn sqlite_index_searches_versions_and_audits() {
        let dir = tempfile::tempdir().unwrap();
        index_behaviour(&Location::Sqlite(dir.path().join("index.sqlite")));
    }

    #[test]
    fn postgres_index_searches_versions_and_audits() {
        let db = crate::test_support::PostgresTestDb::create("index_unit");
        index_behaviour(&Location::Postgres(db.url.clone()));
    }

    #[test]
    fn the_postgres_schema_is_the_sqlite_schema_in_its_words() {
        let pg = postgres_schema();
        assert!(pg.contains("id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"));
        assert!(pg.contains("text TEXT COLLATE \"C\" NOT NULL"));
        assert!(pg.contains("text_source TEXT COLLATE \"C\" NOT NULL DEFAULT 'ocr'"));
        assert!(pg.contains("deskewed DOUBLE PRECISION"));
        assert!(!pg.contains("WITHOUT ROWID") && !pg.contains("fts5"));
        assert_eq!(
            pg.matches("CREATE TABLE").count(),
            SCHEMA.matches("CREATE TABLE").count() + 1,
            "every table, the full-text one as a plain table"
        );
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
