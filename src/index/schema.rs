//! The index's tables, in SQLite's words, with PostgreSQL's derived from them
//! ([`postgres_schema`]), and the migrations from older versions.
//!
//! One schema for both backends: the same tables and columns, so that the SQL is written once.
//! An index opened for writing is created, or migrated to [`SCHEMA_VERSION`], with its
//! version row; one opened read-only must already be at that version.

use super::db::{vals, Backend, Db, DbError};
use super::{Index, IndexError};

const SCHEMA_VERSION: &str = "6";

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

/// Version 3 → 4: evidence records. A document row carries what its record holds (its own
/// procedure and unit, the intake file's mtime, whether it is an intake file) and the
/// record's hash; an import row the digest of the rows it brought and its record's hash.
/// Documents and imports archived before get theirs at the next run or verify (written from
/// their rows at that upgrade: `index::upgrade`).
const MIGRATE_3_TO_4: &str = r#"
ALTER TABLE documents ADD COLUMN procedure_code TEXT;
ALTER TABLE documents ADD COLUMN unit TEXT;
ALTER TABLE documents ADD COLUMN mtime_ns BIGINT NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN intake_file BIGINT NOT NULL DEFAULT 1;
ALTER TABLE documents ADD COLUMN record_sha256 TEXT;
ALTER TABLE imports ADD COLUMN rows_sha256 TEXT;
ALTER TABLE imports ADD COLUMN record_sha256 TEXT;
UPDATE documents SET
    procedure_code = (SELECT d.procedure_code FROM dossiers d WHERE d.code = documents.dossier_code),
    unit = (SELECT d.unit FROM dossiers d WHERE d.code = documents.dossier_code),
    intake_file = CASE WHEN path LIKE '%#%' AND path LIKE '\_batch/%' ESCAPE '\' THEN 0 ELSE 1 END;
UPDATE meta SET value = '4' WHERE key = 'schema_version';
"#;

/// Version 4 → 5: the register's optional columns (`reused`, `pages`) and each import's
/// unreadable rows (line and reason, as JSON), which every report names; the auditors' desk
/// (access log, desk users: their tables come with SCHEMA's `IF NOT EXISTS`).
const MIGRATE_4_TO_5: &str = r#"
ALTER TABLE register ADD COLUMN reused INTEGER;
ALTER TABLE register ADD COLUMN pages INTEGER;
ALTER TABLE imports ADD COLUMN problem_list TEXT;
UPDATE meta SET value = '5' WHERE key = 'schema_version';
"#;

/// Version 5 → 6: records written at an upgrade, for what was archived before records were
/// kept, name that upgrade (`index::upgrade`).
const MIGRATE_5_TO_6: &str = r#"
ALTER TABLE documents ADD COLUMN recorded_at_upgrade TEXT;
ALTER TABLE imports ADD COLUMN recorded_at_upgrade TEXT;
UPDATE meta SET value = '6' WHERE key = 'schema_version';
"#;

/// Indexes on columns that older versions lack, made once the index is migrated: the
/// documents still without a record, and those recorded at an upgrade (what every run and
/// verify looks for, read without a scan of every document).
const AFTER_MIGRATION: &str = r#"
CREATE INDEX IF NOT EXISTS documents_unrecorded ON documents(id) WHERE record_sha256 IS NULL;
CREATE INDEX IF NOT EXISTS documents_upgraded ON documents(id) WHERE recorded_at_upgrade IS NOT NULL;
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
    -- The document's own placement (the dossier row takes its first document's).
    procedure_code TEXT,
    unit TEXT,
    mtime_ns INTEGER NOT NULL DEFAULT 0,
    intake_file INTEGER NOT NULL DEFAULT 1,
    -- The hash of the document's evidence record (an object; see evidence.rs).
    record_sha256 TEXT,
    -- Set when that record was written at an upgrade (the upgrade's ledger subject).
    recorded_at_upgrade TEXT,
    UNIQUE (path, version)
);
CREATE INDEX IF NOT EXISTS documents_dossier ON documents(dossier_code);
-- A run's documents and records (verify recomputes every run's ledger roots from them).
CREATE INDEX IF NOT EXISTS documents_run ON documents(run_id);
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
-- The events a document's evidence record holds, without the fixity checks every verify adds:
-- verify reads them back for every document, and would otherwise read every earlier
-- verify's events too. The condition is the query's, word for word (records.rs).
CREATE INDEX IF NOT EXISTS events_recorded ON events(document_id, id)
    WHERE type NOT IN ('fixity check', 'audit verdict');
-- Fixity events counted per verify (by time), from the index alone.
CREATE INDEX IF NOT EXISTS events_fixity ON events(at) WHERE type = 'fixity check';
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
    channel TEXT,
    reused INTEGER,
    pages INTEGER
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS imports (
    id INTEGER PRIMARY KEY,
    what TEXT NOT NULL CHECK (what IN ('register', 'catalog')),
    run_id TEXT NOT NULL,
    source TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    rows INTEGER NOT NULL,
    problems INTEGER NOT NULL,
    rows_sha256 TEXT,
    record_sha256 TEXT,
    -- The rows that could not be read: [{"line", "reason"}].
    problem_list TEXT,
    recorded_at_upgrade TEXT
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
-- The auditors' desk: every view of a dossier (who, when, which: personal data, listed by
-- `dossier access-log`), and the desk's users (argon2 PHC strings, never passwords).
CREATE TABLE IF NOT EXISTS access_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    dossier_code TEXT NOT NULL,
    what TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS desk_users (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
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

/// On a shared index, waits for the transaction-scoped lock that lets one worker at a time
/// create or migrate the schema (`CREATE … IF NOT EXISTS` races between sessions otherwise).
fn one_migrator(db: &mut Db) -> Result<(), DbError> {
    if db.backend() == Backend::Postgres {
        db.execute("SELECT pg_advisory_xact_lock(4242)", &[])?;
    }
    Ok(())
}

/// The version row, if the index has one.
fn schema_version(db: &mut Db) -> Result<Option<String>, DbError> {
    db.query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[])?
        .map(|r| r.get::<String>(0))
        .transpose()
}

impl Index {
    /// Creates the tables that are missing, then migrates an older index one version at a time.
    pub(super) fn migrate(&self) -> Result<(), IndexError> {
        // Tables and version row in one transaction: a run killed while creating the index
        // leaves none of it. An existing index keeps its version row (then migrated below).
        let schema = match self.backend() {
            Backend::Sqlite => SCHEMA.to_owned(),
            Backend::Postgres => postgres_schema(),
        };
        self.transaction(|db| {
            one_migrator(db)?;
            db.batch(&schema)?;
            db.execute(
                "INSERT INTO meta(key, value) VALUES ('schema_version', ?1)
                 ON CONFLICT(key) DO NOTHING",
                &vals![SCHEMA_VERSION],
            )?;
            Ok(())
        })?;
        // Each step under the same lock, its version read inside it: workers starting
        // together on an older (or new) shared index migrate it, and index it, once.
        for (from, step) in [
            ("1", MIGRATE_1_TO_2),
            ("2", MIGRATE_2_TO_3),
            ("3", MIGRATE_3_TO_4),
            ("4", MIGRATE_4_TO_5),
            ("5", MIGRATE_5_TO_6),
        ] {
            self.transaction(|db| {
                one_migrator(db)?;
                if schema_version(db)?.as_deref() == Some(from) {
                    db.batch(step)?;
                }
                Ok(())
            })?;
        }
        self.check_version()?;
        self.transaction(|db| {
            one_migrator(db)?;
            db.batch(AFTER_MIGRATION)
        })
    }

    fn version(&self) -> Result<Option<String>, IndexError> {
        match schema_version(&mut self.db()) {
            Ok(version) => Ok(version),
            // No meta table: not an index this program made.
            Err(e) if no_such_table(&e) => Ok(None),
            // Anything else (a role without SELECT, a damaged file) is said as it is: "schema
            // version none" would invite making a new index over the old one.
            Err(e) => Err(self.err(e)),
        }
    }

    /// The index is at the version this program understands, else [`IndexError::Schema`].
    pub(super) fn check_version(&self) -> Result<(), IndexError> {
        match self.version()? {
            Some(v) if v == SCHEMA_VERSION => Ok(()),
            other => Err(IndexError::Schema {
                path: self.location.display(),
                found: other.unwrap_or_else(|| "none".into()),
                expected: SCHEMA_VERSION,
            }),
        }
    }
}

/// The error says the table does not exist (SQLite's "no such table", PostgreSQL's 42P01).
fn no_such_table(e: &DbError) -> bool {
    match e {
        DbError::Sqlite(e) => e.to_string().contains("no such table"),
        DbError::Postgres(e) => e.code() == Some(&postgres::error::SqlState::UNDEFINED_TABLE),
        DbError::Type { .. } => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::tests::doc;

    #[test]
    fn a_version_1_index_is_migrated_in_place() {
        let dir = std::env::temp_dir().join(format!("dossier-migrate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("index.sqlite");
        {
            // Made as version 1 made it: without the columns versions 2 to 6 added.
            let index = Index::open_rw(&path).unwrap();
            index
                .db()
                .batch(
                    "DROP INDEX documents_unrecorded;
                     DROP INDEX documents_upgraded;
                     ALTER TABLE documents DROP COLUMN recorded_at_upgrade;
                     ALTER TABLE imports DROP COLUMN recorded_at_upgrade;
                     ALTER TABLE pages DROP COLUMN text_source;
                     ALTER TABLE pages DROP COLUMN turned;
                     ALTER TABLE pages DROP COLUMN deskewed;
                     ALTER TABLE pages DROP COLUMN source_page;
                     ALTER TABLE documents DROP COLUMN searchable_pdf;
                     ALTER TABLE documents DROP COLUMN procedure_code;
                     ALTER TABLE documents DROP COLUMN unit;
                     ALTER TABLE documents DROP COLUMN mtime_ns;
                     ALTER TABLE documents DROP COLUMN intake_file;
                     ALTER TABLE documents DROP COLUMN record_sha256;
                     ALTER TABLE imports DROP COLUMN rows_sha256;
                     ALTER TABLE imports DROP COLUMN record_sha256;
                     ALTER TABLE runs DROP COLUMN lease_until;
                     ALTER TABLE register DROP COLUMN reused;
                     ALTER TABLE register DROP COLUMN pages;
                     ALTER TABLE imports DROP COLUMN problem_list;
                     DROP TABLE claims;
                     DROP TABLE access_log;
                     DROP TABLE desk_users;
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
}
