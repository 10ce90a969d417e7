//! `dossier run`: the nightly batch, one file per stage in the order data flows.
//!
//! - [`session`]: open and lock the archive, close runs a crash left open; at the end,
//!   record the run in the index and the ledger.
//! - [`plan`]: walk the intake and keep what changed since the last run.
//! - [`execute`]: the producer ([`produce`], batch scans split by [`batch`]) feeds pages
//!   through one bounded queue to the OCR workers ([`recognize`]); the collector ([`collect`])
//!   assembles documents and commits each whole one ([`commit`], with its [`searchable`] PDF).
//!   On a shared index each file is claimed first ([`leases`]).
//! - [`import`]: the register and catalog, kept as evidence.
//! - [`report`]: what the run did; [`observer`]: the events the binary shows.
//!
//! Invariants: a document is committed whole or not at all (one transaction, after its
//! original and derivatives are on disk); a stop signal drops the work in flight, and the
//! next run reads it again; the library prints nothing.

mod admission;
mod batch;
mod collect;
mod commit;
mod events;
mod execute;
mod import;
mod leases;
pub mod observer;
mod plan;
mod produce;
pub mod recognize;
pub mod report;
mod searchable;
mod session;
#[cfg(test)]
mod tests;
mod withdrawals;

use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Instant;

pub use observer::{DossierDone, DossierStats, Notice, Observer, Silent};
pub use recognize::Recognizer;
pub use report::{BatchReport, BatchSegment, ImportSummary, QuarantinedPages, RunReport};

use crate::config::Config;
use crate::index::IndexError;
use crate::intake::{IntakeError, Rejection};
use crate::ocr::OcrError;
use crate::store::StoreError;
use execute::Stages;
use import::Importer;
use session::Session;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Intake(#[from] IntakeError),
    #[error(transparent)]
    Ocr(#[from] OcrError),
    #[error(transparent)]
    Fixity(#[from] crate::fixity::FixityError),
}

/// The signal that asked the run to stop (SIGINT, SIGTERM), 0 while none has. Set by the
/// binary's signal handler; the run finishes or drops the work in flight and reports.
pub static INTERRUPTED_BY: AtomicI32 = AtomicI32::new(0);

fn stop_requested() -> bool {
    INTERRUPTED_BY.load(Ordering::Relaxed) != 0
}

/// Runs the nightly batch of `config` with Tesseract.
pub fn run(config: &Config, observer: &dyn Observer) -> Result<RunReport, RunError> {
    run_with(config, observer, &|| recognize::tesseract(config))
}

/// Runs the nightly batch with recognizers made by `load` (one per job, loaded only when
/// there is something to read).
pub fn run_with<R: Recognizer>(
    config: &Config,
    observer: &dyn Observer,
    load: &(dyn Fn() -> Result<R, OcrError> + Sync),
) -> Result<RunReport, RunError> {
    let started = Instant::now();
    crate::index::set_timeouts(config.index_timeouts);
    let mut session = Session::open(config)?;
    let jobs = worker_count(config.jobs, observer);
    let mut report = RunReport::start(&session.run_id, &config.name, jobs);
    report.intake = session.intake.clone();
    let work = plan::plan(config, &session.index, &mut report)?;
    session.begin(config, &report.started_at)?;
    std::thread::scope(|scope| -> Result<(), RunError> {
        // On a shared index the run's lease is renewed until the run is recorded.
        let _heartbeat = match session.shared() {
            true => Some(leases::Heartbeat::start(
                scope,
                &session.location,
                &session.run_id,
                config.lease,
                observer,
            )?),
            false => None,
        };
        let claims = match work.is_empty() {
            true => None,
            false => session.claimer(config)?,
        };
        let stages = Stages {
            config,
            jobs,
            archive: &session.archive,
            run_id: &session.run_id,
            observer,
        };
        read_intake(&stages, &mut session.index, work, claims, &mut report, load)?;
        import_unless_stopped(config, &mut session, &mut report, observer)?;
        report.close(started);
        session.finish(&report)
    })?;
    observer.finished(&report);
    Ok(report)
}

/// Reads, OCRs and commits the files of `work`.
fn read_intake<R: Recognizer>(
    stages: &Stages<'_>,
    index: &mut crate::index::Index,
    work: Vec<events::WorkItem>,
    claims: Option<leases::Claimer>,
    report: &mut RunReport,
    load: &(dyn Fn() -> Result<R, OcrError> + Sync),
) -> Result<(), RunError> {
    stages.observer.planned(work.len());
    for r in &report.rejected {
        tell_rejected(stages.observer, r);
    }
    if work.is_empty() {
        return Ok(());
    }
    let recognizers = recognize::load_all(stages.jobs, load)?;
    stages.execute(index, recognizers, work, claims, report)
}

/// OCR workers for `requested`: never more than the machine's cores, since OCR is bound by
/// the processor and each further engine only adds memory and contention.
fn worker_count(requested: usize, observer: &dyn Observer) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = requested.clamp(1, cores);
    if jobs < requested {
        observer.notice(&Notice::Warning(format!(
            "jobs = {requested} capped to {jobs}, the machine's cores: more OCR workers than cores read no faster and take more memory"
        )));
    }
    jobs
}

/// Imports the register and catalog, unless a signal stopped the run (then says so).
fn import_unless_stopped(
    config: &Config,
    session: &mut Session,
    report: &mut RunReport,
    observer: &dyn Observer,
) -> Result<(), RunError> {
    if let Some(signal) = stop_signal() {
        report.interrupted = Some(signal.to_owned());
        observer.notice(&Notice::Interrupted);
        return Ok(());
    }
    let mut importer = Importer {
        archive: &session.archive,
        index: &mut session.index,
        run_id: &session.run_id,
        observer,
    };
    import::import_all(config, &mut importer, report)
}

/// The name of the signal that stopped the run, if one did.
pub fn stop_signal() -> Option<&'static str> {
    match INTERRUPTED_BY.load(Ordering::Relaxed) {
        0 => None,
        libc::SIGINT => Some("SIGINT"),
        _ => Some("SIGTERM"),
    }
}

fn tell_rejected(observer: &dyn Observer, r: &Rejection) {
    observer.notice(&Notice::Rejected {
        path: &r.path,
        reason: &r.reason,
    });
}
