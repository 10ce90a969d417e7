//! Where an index lives, SQLite in the archive or a shared PostgreSQL database, and how a
//! connection to it is made. A URL's password never appears in messages.

use std::path::PathBuf;

use super::db::{Db, DbError};
use super::IndexError;

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

    /// A connection for writing, or a read-only one (SQLite opens the file read-only;
    /// PostgreSQL's transactions default to read-only).
    pub(super) fn connect(&self, write: bool) -> Result<Db, IndexError> {
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
