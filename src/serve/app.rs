//! The desk's state: where the archive is, a few read-only index connections, one writable
//! connection for the access log, the report cache (keyed by the ledger head: a report is
//! computed again only when the archive changed), sessions.
//!
//! Index connections are not `Sync`; each request borrows one from the pool for the time of
//! its blocking work (`Desk::read`), so requests never share a connection.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::coverage::render::json_to;
use crate::coverage::{self, CoverageReport, GroupBy, RegisterSource, ReportOptions};
use crate::date::Date;
use crate::index::{Index, IndexError, Location};
use crate::store::Archive;

use std::net::SocketAddr;

use crate::store::StoreError;

use super::security::Sessions;

/// What `dossier serve` was asked for.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub archive: PathBuf,
    pub index_url: Option<String>,
    pub listen: SocketAddr,
    /// The report's target (as `report --target`).
    pub target_percent: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("refusing to listen on {0}: it is not a loopback address and no desk users are configured (add one with `dossier users add --archive DIR NAME`)")]
    NoUsers(SocketAddr),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("web server: {0}")]
    Io(#[from] std::io::Error),
}

/// A computed report and its JSON bytes (what `/api/report` sends).
pub(crate) struct CachedReport {
    pub report: CoverageReport,
    pub json: Vec<u8>,
}

/// Report cache key: ledger head hash, period, grouping.
type ReportKey = (String, Option<Date>, Option<Date>, &'static str);

pub(crate) struct Desk {
    pub archive: PathBuf,
    /// The archive's store: objects are read from it by hash.
    pub store: Archive,
    pub index_url: Option<String>,
    location: Location,
    pub target_percent: f64,
    /// Desk users configured when the server started (0: loopback only, no login).
    pub users: usize,
    readers: Mutex<Vec<Index>>,
    writer: Mutex<Index>,
    reports: Mutex<HashMap<ReportKey, Arc<CachedReport>>>,
    pub images: super::images::ImageCache,
    pub sessions: Sessions,
}

impl Desk {
    /// Opens the archive's index: one writable connection (it migrates an older index and
    /// keeps the access log), the readers on demand.
    pub fn open(opts: &ServeOptions) -> Result<Desk, ServeError> {
        let location = Location::resolve(
            Archive::index_path_of(&opts.archive),
            opts.index_url.as_deref(),
        )?;
        let store = Archive::open_existing(&opts.archive, location.is_shared())?;
        let writer = Index::open(&location, true)?;
        let users = writer.desk_users()?.len();
        Ok(Desk {
            archive: opts.archive.clone(),
            store,
            index_url: opts.index_url.clone(),
            location,
            target_percent: opts.target_percent,
            users,
            readers: Mutex::new(Vec::new()),
            writer: Mutex::new(writer),
            reports: Mutex::new(HashMap::new()),
            images: Default::default(),
            sessions: Sessions::default(),
        })
    }

    /// Runs `work` with a read-only connection from the pool.
    pub fn read<T>(&self, work: impl FnOnce(&Index) -> T) -> Result<T, IndexError> {
        let index = match self
            .readers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop()
        {
            Some(index) => index,
            None => Index::open(&self.location, false)?,
        };
        let out = work(&index);
        let mut pool = self
            .readers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if pool.len() < 4 {
            pool.push(index);
        }
        Ok(out)
    }

    /// Runs `work` with the writable connection (the access log, users).
    pub fn write<T>(&self, work: impl FnOnce(&Index) -> T) -> T {
        work(
            &self
                .writer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// The coverage report for a period and grouping, from the cache when the ledger head
    /// has not moved since it was computed.
    pub fn report(
        &self,
        index: &Index,
        from: Option<Date>,
        to: Option<Date>,
        by: GroupBy,
    ) -> Result<Arc<CachedReport>, coverage::CoverageError> {
        let head = index.ledger_head()?.map(|h| h.hash).unwrap_or_default();
        let key = (head, from, to, by_name(by));
        if let Some(hit) = self
            .reports
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
        {
            return Ok(Arc::clone(hit));
        }
        let names = index.procedure_names()?;
        let opts = self.options(from, to, by);
        let computed = coverage::compute(index, RegisterSource::Index, &names, &opts)?;
        let mut json = Vec::new();
        json_to(&computed.report, &mut json).expect("writing to memory");
        let cached = Arc::new(CachedReport {
            report: computed.report,
            json,
        });
        let mut cache = self
            .reports
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Reports of older heads are stale for good.
        cache.retain(|k, _| k.0 == key.0);
        if cache.len() >= 32 {
            cache.clear();
        }
        cache.insert(key, Arc::clone(&cached));
        Ok(cached)
    }

    pub fn options(&self, from: Option<Date>, to: Option<Date>, by: GroupBy) -> ReportOptions {
        ReportOptions {
            from,
            to,
            by,
            target_percent: self.target_percent,
        }
    }
}

pub(crate) fn by_name(by: GroupBy) -> &'static str {
    match by {
        GroupBy::Procedure => "procedure",
        GroupBy::Unit => "unit",
        GroupBy::Month => "month",
    }
}
