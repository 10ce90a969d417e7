//! A run's hold on its archive: opened and locked at the start (after closing runs a crash
//! left open), recorded in the ledger at the end.
//!
//! On an archive with its own index one run at a time holds the archive's file lock. On a
//! shared index runs work side by side, each holding the index's shared lock (a verify takes
//! it whole) and claiming files one by one; their run ids carry the host, so they differ
//! across machines.

use std::time::{Duration, SystemTime};

use super::leases::Claimer;
use super::report::RunReport;
use super::RunError;
use crate::config::Config;
use crate::evidence;
use crate::index::{Index, Location};
use crate::store::{sha256_hex, Archive, ArchiveLock, StoreError};
use crate::timefmt;

pub(super) struct Session {
    pub archive: Archive,
    pub location: Location,
    pub index: Index,
    pub run_id: String,
    /// The intake the archive belongs to, as recorded (the canonical path).
    pub intake: String,
    _lock: Option<ArchiveLock>,
}

impl Session {
    /// Opens (or creates) the archive and its index, takes the lock, clears scratch files
    /// and closes runs a crash left open.
    pub fn open(config: &Config) -> Result<Session, RunError> {
        crate::intake::guard::check_places(&config.intake, &config.archive)?;
        let archive = Archive::create_or_open(&config.archive)?;
        let location = Location::resolve(archive.index_path(), config.index_url.as_deref())?;
        let shared = location.is_shared();
        let stamp = timefmt::compact_stamp(SystemTime::now());
        let run_id = if shared {
            format!("{stamp}-{}", crate::store::worker_tag())
        } else {
            format!("{stamp}-{}", std::process::id())
        };
        let lock = if shared { None } else { Some(archive.lock()?) };
        let mut index = Index::open(&location, true)?;
        index.refuse_if_lost(&archive)?;
        let intake = own_intake(&index, config)?;
        if shared {
            if !index.try_lock(false)? {
                return Err(StoreError::Locked {
                    path: config.archive.clone(),
                    holder: format!("a verify of the shared index {}", location.display()),
                }
                .into());
            }
            // Other workers' scratch files are being written: only day-old leftovers go.
            archive.clean_tmp_older_than(Duration::from_secs(86_400))?;
        } else {
            archive.clean_tmp()?;
        }
        close_interrupted_runs(&archive, &mut index, &run_id)?;
        // Documents and imports archived before records were kept get them (once).
        crate::fixity::record_at_upgrade(&archive, &mut index)?;
        Ok(Session {
            archive,
            location,
            index,
            run_id,
            intake,
            _lock: lock,
        })
    }

    pub fn shared(&self) -> bool {
        self.location.is_shared()
    }

    /// Records the run as started (with its lease on a shared index).
    pub fn begin(&mut self, config: &Config, started_at: &str) -> Result<(), RunError> {
        let lease = self.shared().then_some(config.lease.as_millis() as u64);
        self.index
            .begin_run(&self.run_id, &config.name, started_at, lease)?;
        Ok(())
    }

    /// On a shared index: the run's claims, on a connection of their own.
    pub fn claimer(&self, config: &Config) -> Result<Option<Claimer>, RunError> {
        if !self.shared() {
            return Ok(None);
        }
        Ok(Some(Claimer {
            index: Index::open(&self.location, true)?,
            run_id: self.run_id.clone(),
            lease_ms: config.lease.as_millis() as u64,
        }))
    }

    /// Records the finished run: report and ledger entry in the index (one transaction)
    /// first; the report file and the ledger file are copies of it, rewritten by the next run
    /// if a crash comes between.
    pub fn finish(&mut self, report: &RunReport) -> Result<(), RunError> {
        let json = serde_json::to_string_pretty(report).expect("the report serializes");
        let summary = serde_json::json!({
            "files_seen": report.files_seen,
            "documents_added": report.documents_added,
            "pages_ocr": report.pages_ocr,
            "needs_rescan": report.needs_rescan,
            "rejected": report.rejected.len(),
            "interrupted": report.interrupted.is_some(),
        });
        self.index.finish_run_with_ledger(
            &self.run_id,
            &report.finished_at,
            &json,
            &sha256_hex(json.as_bytes()),
            summary,
        )?;
        self.archive.put_run_report(&self.run_id, json.as_bytes())?;
        crate::fixity::export_ledger(&self.archive, &self.index)?;
        if self.shared() {
            self.index.unlock(false)?;
        }
        Ok(())
    }
}

/// The archive belongs to one intake, recorded in the index (`meta.intake`, the canonical
/// path) at its first run: a run over another intake is refused, unless it moves the archive
/// on purpose (`--move-intake`). Several workers of a shared index record the same path (the
/// first insert wins, the others compare with it), so they must see the intake under one path.
/// The path recorded. Each run report names it too, which is how `rebuild-index` restores it.
fn own_intake(index: &Index, config: &Config) -> Result<String, RunError> {
    use crate::index::db::Value;
    let here = crate::intake::guard::canonical(&config.intake)
        .to_string_lossy()
        .into_owned();
    let read = || -> Result<Option<String>, crate::index::db::DbError> {
        index
            .db()
            .query_opt("SELECT value FROM meta WHERE key = 'intake'", &[])?
            .map(|r| r.get::<String>(0))
            .transpose()
    };
    let sql = if config.move_intake {
        "INSERT INTO meta(key, value) VALUES ('intake', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
    } else {
        "INSERT INTO meta(key, value) VALUES ('intake', ?1) ON CONFLICT(key) DO NOTHING"
    };
    let recorded = (|| {
        if config.move_intake || read()?.is_none() {
            index.db().execute(sql, &[Value::Text(here.clone())])?;
        }
        read()
    })()
    .map_err(|e| index.err(e))?;
    match recorded {
        Some(r) if r != here => Err(crate::intake::IntakeError::ForeignIntake {
            archive: config.archive.clone(),
            recorded: r,
            intake: config.intake.clone(),
        }
        .into()),
        _ => Ok(here),
    }
}

/// Writes again the evidence records of a run's commits that a crash left unwritten (a record
/// follows its rows into the store): rebuilt from the rows, and written only when they still
/// hash to what the rows say.
fn restore_records(archive: &Archive, index: &Index, run_id: &str) -> Result<(), RunError> {
    let documents = index.documents_as_recorded(Some(run_id))?;
    let imports = index.imports_as_recorded(Some(run_id))?;
    let encoded = documents
        .iter()
        .map(|d| (evidence::encode(&d.record), d.record_sha256.as_deref()))
        .chain(
            imports
                .iter()
                .map(|(r, sha)| (evidence::encode(r), sha.as_deref())),
        );
    for ((bytes, sha256), expected) in encoded {
        if expected == Some(sha256.as_str()) {
            archive.put_object_with_hash(&bytes, &sha256)?;
        }
    }
    Ok(())
}

/// A run killed before its end (power cut, kill -9) left committed documents but no run end:
/// close it now, with a report that says so and a ledger entry covering its documents, and
/// restore the report and ledger files if a crash came between the index and them.
fn close_interrupted_runs(
    archive: &Archive,
    index: &mut Index,
    closing_run: &str,
) -> Result<(), RunError> {
    for run_id in index.unfinished_runs()? {
        restore_records(archive, index, &run_id)?;
        let now = timefmt::now_rfc3339();
        let json = serde_json::to_string_pretty(&serde_json::json!({
            "run_id": run_id,
            "interrupted": "the run ended without finishing (killed or power lost)",
            "closed_by": closing_run,
            "closed_at": now,
        }))
        .expect("serializes");
        let summary = serde_json::json!({ "interrupted": true });
        index.finish_run_with_ledger(
            &run_id,
            &now,
            &json,
            &sha256_hex(json.as_bytes()),
            summary,
        )?;
    }
    for (run_id, report) in index.finished_run_reports()? {
        if !archive.runs_dir().join(format!("{run_id}.json")).exists() {
            archive.put_run_report(&run_id, report.as_bytes())?;
        }
    }
    crate::fixity::export_ledger(archive, index)?;
    Ok(())
}
