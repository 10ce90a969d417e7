//! The desk's state: where the archive is, a few read-only index connections, one writable
//! connection for the access log, the report cache (keyed by the ledger head: a report is
//! computed again only when the archive changed), sessions.
//!
//! Index connections are not `Sync`; each request borrows one from the pool for the time of
//! its blocking work (`Desk::read`), so requests never share a connection.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

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

/// Dossier list cache key: ledger head hash, period, grouping, measure, group key.
type ListKey = (
    String,
    Option<Date>,
    Option<Date>,
    &'static str,
    String,
    Option<String>,
);

/// The dossier lists kept, and the codes they may hold together (about 40 MB at 1,000,000
/// codes of 30 bytes or so): beyond either, the oldest list goes first.
const LISTS_KEPT: usize = 16;
const LIST_CODES_KEPT: usize = 1_000_000;

/// The dossiers behind the numbers (`/dossiers`), newest last.
#[derive(Default)]
struct Lists(VecDeque<(ListKey, Arc<Vec<String>>)>);

impl Lists {
    fn get(&self, key: &ListKey) -> Option<Arc<Vec<String>>> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| Arc::clone(v))
    }

    /// Keeps `codes` under `key`: lists of older heads are stale for good; the oldest go
    /// while more than [`LISTS_KEPT`] lists or [`LIST_CODES_KEPT`] codes would be kept (a
    /// list longer than that alone is not kept at all).
    fn put(&mut self, key: ListKey, codes: Arc<Vec<String>>) {
        self.0.retain(|(k, _)| k.0 == key.0 && *k != key);
        if codes.len() > LIST_CODES_KEPT {
            return;
        }
        let held = |l: &VecDeque<(ListKey, Arc<Vec<String>>)>| {
            l.iter().map(|(_, v)| v.len()).sum::<usize>()
        };
        while !self.0.is_empty()
            && (self.0.len() >= LISTS_KEPT || held(&self.0) + codes.len() > LIST_CODES_KEPT)
        {
            self.0.pop_front();
        }
        self.0.push_back((key, codes));
    }
}

/// What a `/dossiers` list counts: one of the figures, over one group or all.
pub(crate) struct ListQuery {
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub by: GroupBy,
    /// `received`, `input_digitized`, `completed`, `result_digitized` or `digitized`.
    pub measure: String,
    pub key: Option<String>,
}

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
    lists: Mutex<Lists>,
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
        writer.refuse_if_lost(&store)?;
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
            lists: Mutex::new(Lists::default()),
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

    /// The codes of the dossiers behind one number of the dashboard, in code order, from the
    /// cache when the ledger head has not moved since they were listed.
    pub fn dossier_list(
        &self,
        index: &Index,
        q: &ListQuery,
    ) -> Result<Arc<Vec<String>>, coverage::CoverageError> {
        let head = index.ledger_head()?.map(|h| h.hash).unwrap_or_default();
        let key = (
            head,
            q.from,
            q.to,
            by_name(q.by),
            q.measure.clone(),
            q.key.clone(),
        );
        let lists = || self.lists.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(hit) = lists().get(&key) {
            return Ok(hit);
        }
        let opts = self.options(q.from, q.to, q.by);
        let mut codes = Vec::new();
        let mut visit = |c: &coverage::Counted<'_>| {
            let counted = match q.measure.as_str() {
                "received" => true,
                "input_digitized" => c.input_digitized,
                "completed" => c.completed,
                "result_digitized" => c.result_digitized,
                _ => c.digitized,
            };
            if counted && q.key.as_deref().is_none_or(|k| k == c.key) {
                codes.push(c.dossier_code.to_owned());
            }
        };
        let names = HashMap::new();
        coverage::compute_visiting(
            index,
            RegisterSource::Index,
            &names,
            &opts,
            Some(&mut visit),
        )?;
        codes.sort();
        let codes = Arc::new(codes);
        lists().put(key, Arc::clone(&codes));
        Ok(codes)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key(head: &str, measure: &str) -> ListKey {
        (head.into(), None, None, "procedure", measure.into(), None)
    }

    fn codes(n: usize) -> Arc<Vec<String>> {
        Arc::new((0..n).map(|i| format!("D-{i}")).collect())
    }

    #[test]
    fn lists_are_kept_per_head_and_bounded_in_lists_and_codes() {
        let mut lists = Lists::default();
        lists.put(key("h1", "received"), codes(3));
        assert_eq!(lists.get(&key("h1", "received")).map(|c| c.len()), Some(3));
        assert!(lists.get(&key("h1", "digitized")).is_none());
        // A new head makes every older list stale.
        lists.put(key("h2", "received"), codes(2));
        assert!(lists.get(&key("h1", "received")).is_none());
        // At most LISTS_KEPT lists: the oldest goes first.
        for i in 0..LISTS_KEPT + 3 {
            lists.put(key("h2", &format!("m{i}")), codes(1));
        }
        assert_eq!(lists.0.len(), LISTS_KEPT);
        assert!(lists.get(&key("h2", "m0")).is_none());
        assert!(lists
            .get(&key("h2", &format!("m{}", LISTS_KEPT + 2)))
            .is_some());
        // At most LIST_CODES_KEPT codes held together; a longer list is not kept.
        lists.put(key("h2", "big"), codes(LIST_CODES_KEPT - 2));
        let held: usize = lists.0.iter().map(|(_, v)| v.len()).sum();
        assert!(held <= LIST_CODES_KEPT, "{held}");
        assert!(lists.get(&key("h2", "big")).is_some());
        lists.put(key("h2", "huge"), codes(LIST_CODES_KEPT + 1));
        assert!(lists.get(&key("h2", "huge")).is_none());
    }
}
