//! The index: what the archive holds, queryable. SQLite by default (embedded, one file in
//! the archive) or PostgreSQL (shared by many workers): one schema, one API, the SQL written
//! once over [`db::Db`].
//!
//! Each document is committed in one transaction together with its pages, its full-text rows
//! and the intake stat cache, after its objects are safely on disk: a crash leaves either the
//! whole document or none of it.
//!
//! This file is the front: [`Index`] (opening, which creates, migrates or checks the tables,
//! and transactions) and [`IndexError`]. The rest is one file per concern, each with its own
//! `impl Index`: `schema` (tables, migrations), `location` (where an index lives, connecting),
//! `ingest` (what a run writes), `search` and `show` (what the commands of those names read),
//! `holdings` (what coverage reads), `imports` (the register and the catalog), `consistency`
//! (of the tables with each other), [`audit`] (the ledger, fixity), [`claims`] (work claims on
//! a shared index), [`desk`] (the auditors' desk: access log, users, verdicts) and [`db`] (the
//! two backends). The types of the private ones are
//! re-exported here: callers write `index::NewDocument`.
//!
//! The index depends on the plain modules `register`, `date`, `fold`, `intake` and `store`,
//! never on the modules that read it (`coverage`, `query`, `fixity`, `pipeline`).

pub mod audit;
pub mod claims;
mod consistency;
pub mod db;
pub mod desk;
mod holdings;
mod imports;
mod ingest;
mod location;
mod records;
mod schema;
mod search;
mod show;
mod upgrade;
mod withdrawals;

use std::cell::{RefCell, RefMut};
use std::path::Path;

pub use consistency::IndexProblem;
use db::{Backend, Db, DbError};
pub use holdings::{DossierHoldings, FailingDocument};
pub use imports::{EncodedRecord, RegisterImport};
pub use ingest::{Committed, KnownFile, NewBatch, NewDocument, NewPage};
pub use location::{request_stop, set_timeouts, Location, Timeouts};
pub use records::{RecordedDocument, Which};
pub use search::SearchHit;
pub use show::{DocumentView, DossierView, EventView, PageView};
pub use upgrade::Upgrade;

/// What went wrong with an index: its database, its schema version, or its URL.
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
    #[error("index {index}: no answer within {seconds} s (the database server does not respond; [index] connect_timeout_seconds)")]
    Unresponsive { index: String, seconds: f64 },
    #[error("index {index}: stopped by a signal while waiting for the database")]
    Stopped { index: String },
    #[error(
        "index {index}: a rebuild-index begun at {since} did not finish (its figures would be \
         partial): run `dossier rebuild-index` again"
    )]
    RebuildInterrupted { index: String, since: String },
    #[error(
        "the index of {archive} is missing or empty while the archive holds objects or a ledger: \
         run `dossier rebuild-index --archive {archive}` first (a new index would start a second ledger)"
    )]
    Lost { archive: String },
    #[error("archive {archive}: {reason}")]
    Evidence { archive: String, reason: String },
    #[error(
        "index {index}: its last writer was stopped in the middle of a change (its journal is \
         still beside it), which a read-only command cannot undo: run `dossier verify` or the \
         next `dossier run` on the archive, which rolls it back, then try again"
    )]
    UnfinishedWrite { index: String },
}

/// An open index: one connection to its database (SQLite or PostgreSQL), and where it lives.
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

    /// Opens an index for writing (creating or migrating its tables) or read-only. An index
    /// that a rebuild-index left half made is refused: every figure from it would be partial.
    pub fn open(location: &Location, write: bool) -> Result<Index, IndexError> {
        let index = Index::open_any(location, write)?;
        if let Some(since) = index.rebuild_under_way()? {
            return Err(IndexError::RebuildInterrupted {
                index: location.display(),
                since,
            });
        }
        Ok(index)
    }

    /// Opens an index for `rebuild-index`, which may find its own interrupted work there.
    pub(crate) fn open_for_rebuild(location: &Location) -> Result<Index, IndexError> {
        Index::open_any(location, true)
    }

    fn open_any(location: &Location, write: bool) -> Result<Index, IndexError> {
        let unfinished = |e| match write {
            true => e,
            false => unfinished_write(location, e),
        };
        let index = Index {
            db: RefCell::new(location.connect(write).map_err(unfinished)?),
            location: location.clone(),
        };
        if write {
            index.migrate()?;
        } else {
            index.check_version().map_err(unfinished)?;
        }
        Ok(index)
    }

    /// Refuses an empty index beside stored objects or a ledger: read, it would give figures
    /// of nothing; written, it would begin a new history over the old evidence.
    pub fn refuse_if_lost(&self, archive: &crate::store::Archive) -> Result<(), IndexError> {
        let held = archive.holds_evidence().map_err(|e| IndexError::Evidence {
            archive: archive.root().display().to_string(),
            reason: e.to_string(),
        })?;
        if held && self.is_empty()? {
            return Err(IndexError::Lost {
                archive: archive.root().display().to_string(),
            });
        }
        Ok(())
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
}

/// The rollback journal SQLite keeps beside `index` while a change is under way.
pub(crate) fn journal_of(index: &Path) -> std::path::PathBuf {
    let mut journal = index.as_os_str().to_owned();
    journal.push("-journal");
    journal.into()
}

/// A read-only open of a SQLite index whose last writer was killed mid-transaction: the
/// journal it left must be rolled back first, which only a writing command may do.
fn unfinished_write(location: &Location, e: IndexError) -> IndexError {
    let Location::Sqlite(path) = location else {
        return e;
    };
    let read_only = matches!(
        &e,
        IndexError::Db { cause: DbError::Sqlite(rusqlite::Error::SqliteFailure(f, _)), .. }
            if f.code == rusqlite::ErrorCode::ReadOnly
    );
    if read_only && journal_of(path).exists() {
        return IndexError::UnfinishedWrite {
            index: location.display(),
        };
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::layout::Kind;

    /// A one-page document of dossier `000.00.01.H50-240115-0001`, for the index's tests.
    pub(super) fn doc(path: &str, sha: &str, text: &str) -> NewDocument {
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
            .unwrap()
            .version;
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
            .unwrap()
            .version;
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
}
