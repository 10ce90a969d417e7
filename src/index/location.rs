//! Where an index lives, SQLite in the archive or a shared PostgreSQL database, and how a
//! connection to it is made. A URL's password never appears in messages.
//!
//! Every call to PostgreSQL has a time limit: connecting ([`Timeouts::connect`], the whole
//! handshake, not only the TCP connect the driver's `connect_timeout` covers) and each
//! statement (`statement_timeout`, [`Timeouts::statement`]). An unresponsive server (its
//! postmaster stopped, say) ends the command with one line naming it instead of hanging; a
//! stop signal ([`request_stop`]) ends a wait for a connection at once, and a wait for
//! SQLite's lock (held by another process, up to [`SQLITE_BUSY_LIMIT`]) within 10 ms.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Time limits of a shared index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Connecting, the server's answers to the handshake included.
    pub connect: Duration,
    /// One statement, waits for locks included.
    pub statement: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(10),
            statement: Duration::from_secs(60),
        }
    }
}

static CONNECT_MS: AtomicU64 = AtomicU64::new(10_000);
static STATEMENT_MS: AtomicU64 = AtomicU64::new(60_000);
static STOP: AtomicBool = AtomicBool::new(false);

/// Sets the time limits of every connection opened from now on (the pipeline file's
/// `[index]` settings; the defaults otherwise).
pub fn set_timeouts(t: Timeouts) {
    CONNECT_MS.store(t.connect.as_millis() as u64, Ordering::Relaxed);
    STATEMENT_MS.store(t.statement.as_millis() as u64, Ordering::Relaxed);
}

/// A stop signal arrived: a wait for a connection gives up at once. Async-signal-safe (one
/// atomic store), so a signal handler may call it.
pub fn request_stop() {
    STOP.store(true, Ordering::Relaxed);
}

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
                // Before the first statement: rusqlite's default handler waits 5 s, deaf to
                // a stop signal.
                conn.busy_handler(Some(sqlite_busy))
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
                conn.execute_batch("PRAGMA cache_size = -32768;")
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
                let mut client = connect_within(config, &name)?;
                let statement_ms = STATEMENT_MS.load(Ordering::Relaxed);
                client
                    .batch_execute(&format!("SET statement_timeout = {statement_ms}"))
                    .map_err(|e| err(e.into()))?;
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

/// How long a SQLite statement waits for a lock another process holds.
pub const SQLITE_BUSY_LIMIT: Duration = Duration::from_secs(30);

/// SQLite's busy handler: waits for the lock in 10 ms steps up to [`SQLITE_BUSY_LIMIT`], and
/// gives up at once on a stop signal (the statement then fails as "database is locked").
fn sqlite_busy(attempt: i32) -> bool {
    const STEP: Duration = Duration::from_millis(10);
    if STOP.load(Ordering::Relaxed) {
        return false;
    }
    std::thread::sleep(STEP);
    (attempt as u128 + 1) * STEP.as_millis() < SQLITE_BUSY_LIMIT.as_millis()
}

/// Connects on a thread of its own and waits for it at most the connect timeout (or the URL's
/// `connect_timeout`, if shorter), giving up at once on a stop signal. A connection given up
/// on is left to its thread, which ends when the process does.
fn connect_within(
    mut config: postgres::Config,
    name: &str,
) -> Result<postgres::Client, IndexError> {
    let mut limit = Duration::from_millis(CONNECT_MS.load(Ordering::Relaxed));
    if let Some(url_limit) = config.get_connect_timeout() {
        limit = limit.min(*url_limit);
    }
    config.connect_timeout(limit);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(config.connect(postgres::NoTls));
    });
    let deadline = Instant::now() + limit;
    loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(result) => {
                return result.map_err(|e| IndexError::Db {
                    index: name.to_owned(),
                    cause: e.into(),
                })
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => unreachable!("the thread always sends"),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if STOP.load(Ordering::Relaxed) {
            return Err(IndexError::Stopped {
                index: name.to_owned(),
            });
        }
        if Instant::now() >= deadline {
            return Err(IndexError::Unresponsive {
                index: name.to_owned(),
                seconds: limit.as_secs_f64(),
            });
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
