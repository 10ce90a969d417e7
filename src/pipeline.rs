//! `dossier run`: the nightly batch.
//!
//! ```text
//! walk ─▶ work list ─▶ producer thread ──(bounded page queue)──▶ OCR workers (one engine each)
//!                      read, hash, store original,                      │
//!                      decode, quality                                   ▼
//!                            └──────────── events ─────────────▶ collector (this thread):
//!                                                                 derivatives, index commit
//! ```
//! Pages, not files, are the unit of OCR work, so a 40-page TIFF keeps every worker busy.
//! The page queue is bounded: the producer waits for OCR, and memory stays flat.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use image::GrayImage;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::config::Config;
use crate::coverage::register::{read_catalog, read_register_rows, Problem, RegisterError};
use crate::decode::{self, quality, Limits};
use crate::index::{Index, IndexError, NewDocument, NewPage};
use crate::intake::{self, Candidate, IntakeError, Rejection};
use crate::ocr::{Engine, OcrError, PageText};
use crate::store::{sha256_hex, Archive, StoreError};
use crate::timefmt;

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
pub static INTERRUPTED_BY: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

fn interrupted() -> bool {
    INTERRUPTED_BY.load(Ordering::Relaxed) != 0
}

/// What one run did: printed with `--json` and kept in the archive (`runs/RUN_ID.json`).
/// Holds codes, paths and counts only: never OCR text or register fields.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub run_id: String,
    pub pipeline: String,
    pub program_version: &'static str,
    pub started_at: String,
    pub finished_at: String,
    pub duration_seconds: f64,
    pub jobs: usize,
    /// OMP_THREAD_LIMIT as the OCR engines saw it (dossier sets 1; see `ocr`).
    pub omp_thread_limit: Option<String>,
    pub files_seen: usize,
    pub files_unchanged: usize,
    pub documents_added: usize,
    pub bytes_added: u64,
    pub pages_ocr: usize,
    pub ocr_seconds: f64,
    pub needs_rescan: usize,
    pub needs_rescan_documents: Vec<Rejection>,
    pub rejected: Vec<Rejection>,
    pub deferred: Vec<String>,
    /// The register import of this run (when the pipeline names one).
    pub register: Option<ImportSummary>,
    /// The catalog import of this run (when the pipeline names one).
    pub catalog: Option<ImportSummary>,
    /// Set when a signal stopped the run early (`SIGINT`, `SIGTERM`): the documents committed
    /// are whole; the rest is read again by the next run.
    pub interrupted: Option<String>,
}

/// A register or catalog read by `run`: the file is kept in the archive as evidence of what
/// the figures were computed from.
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    pub source: String,
    pub sha256: String,
    pub rows: usize,
    pub problems: Vec<Problem>,
}

impl RunReport {
    /// Inputs were rejected: files, or register/catalog rows (exit code 3).
    pub fn has_rejections(&self) -> bool {
        !self.rejected.is_empty()
            || self
                .register
                .as_ref()
                .is_some_and(|r| !r.problems.is_empty())
            || self
                .catalog
                .as_ref()
                .is_some_and(|c| !c.problems.is_empty())
    }
}

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// Bars on a terminal.
    Bars,
    /// One plain line per dossier and a summary, for cron and logs.
    Lines,
    Quiet,
}

impl ProgressMode {
    pub fn detect() -> ProgressMode {
        if std::io::stderr().is_terminal() {
            ProgressMode::Bars
        } else {
            ProgressMode::Lines
        }
    }
}

/// One file to read this run.
struct WorkItem {
    seq: usize,
    candidate: Candidate,
    /// Content of the latest archived version of this path, if any.
    previous_sha256: Option<String>,
}

struct PageJob {
    doc: usize,
    page: u32,
    /// The page as OCR sees it (downsampled above 400 dpi) and its resolution.
    image: GrayImage,
    ocr_dpi: u32,
    /// The page as scanned.
    width: u32,
    height: u32,
    quality: quality::PageQuality,
}

struct PageResult {
    page: u32,
    width: u32,
    height: u32,
    quality: quality::PageQuality,
    ocr: Result<PageText, OcrError>,
    seconds: f64,
}

enum Event {
    /// The producer finished a file: its stored hash and how many pages went to OCR.
    Planned {
        doc: usize,
        sha256: String,
        media_type: Option<&'static str>,
        pages: usize,
        rejected: Option<String>,
    },
    /// Read again, same content as the latest version: nothing to archive.
    Unchanged {
        doc: usize,
        sha256: String,
    },
    /// Could not be read at all (permissions, vanished): nothing to archive.
    Unreadable {
        doc: usize,
        reason: String,
    },
    Page {
        doc: usize,
        result: PageResult,
    },
    Fatal(RunError),
}

#[derive(Default)]
struct Assembly {
    planned: Option<(String, Option<&'static str>, usize, Option<String>)>,
    pages: Vec<PageResult>,
}

pub fn run(config: &Config, mode: ProgressMode) -> Result<RunReport, RunError> {
    let started = Instant::now();
    let started_at = timefmt::now_rfc3339();
    let run_id = format!(
        "{}-{}",
        timefmt::compact_stamp(SystemTime::now()),
        std::process::id()
    );

    let archive = Archive::create_or_open(&config.archive)?;
    let _lock = archive.lock()?;
    archive.clean_tmp()?;
    let mut index = Index::open_rw(&archive.index_path())?;
    close_interrupted_runs(&archive, &mut index, &run_id)?;

    let walk = intake::walk(
        &config.intake,
        &config.layout,
        config.settle,
        SystemTime::now(),
    )?;
    index.begin_run(&run_id, &config.name, &started_at)?;

    let files_seen = walk.candidates.len() + walk.rejected.len();
    let mut report = RunReport {
        run_id: run_id.clone(),
        pipeline: config.name.clone(),
        program_version: env!("CARGO_PKG_VERSION"),
        started_at,
        finished_at: String::new(),
        duration_seconds: 0.0,
        jobs: config.jobs,
        omp_thread_limit: std::env::var("OMP_THREAD_LIMIT").ok(),
        files_seen,
        files_unchanged: 0,
        documents_added: 0,
        bytes_added: 0,
        pages_ocr: 0,
        ocr_seconds: 0.0,
        needs_rescan: 0,
        needs_rescan_documents: Vec::new(),
        rejected: walk.rejected,
        deferred: walk.deferred,
        register: None,
        catalog: None,
        interrupted: None,
    };

    // Incremental: a path whose size and mtime match the last read is not read again.
    let mut work = Vec::new();
    for candidate in walk.candidates {
        match index.known_file(&candidate.rel_path)? {
            Some(k) if k.bytes == candidate.bytes && k.mtime_ns == candidate.mtime_ns => {
                report.files_unchanged += 1;
            }
            _ => {
                let previous_sha256 = index.latest_sha256(&candidate.rel_path)?;
                work.push(WorkItem {
                    seq: work.len(),
                    candidate,
                    previous_sha256,
                });
            }
        }
    }

    let log = Log::new(mode, work.len());
    for r in &report.rejected {
        log.line(&format!("rejected {}: {}", r.path, r.reason));
    }
    if !work.is_empty() {
        process(
            config,
            &archive,
            &mut index,
            &run_id,
            work,
            &mut report,
            &log,
        )?;
    }
    log.finish();
    let signal = INTERRUPTED_BY.load(Ordering::Relaxed);
    if signal != 0 {
        report.interrupted = Some(
            if signal == libc::SIGINT {
                "SIGINT"
            } else {
                "SIGTERM"
            }
            .to_owned(),
        );
        log.line("stopped by a signal: documents committed so far are whole; the next run reads the rest");
    }
    if let Some(path) = config.register.as_ref().filter(|_| signal == 0) {
        report.register = import(
            "register",
            &archive,
            &mut index,
            &run_id,
            path,
            &mut report.rejected,
            &log,
            read_register_rows,
            |index, rows, run, source, sha, problems| {
                index.replace_register(rows, run, source, sha, problems)
            },
        )?;
    }
    if let Some(path) = config.catalog.as_ref().filter(|_| signal == 0) {
        report.catalog = import(
            "catalog",
            &archive,
            &mut index,
            &run_id,
            path,
            &mut report.rejected,
            &log,
            read_catalog,
            |index, rows, run, source, sha, problems| {
                index.import_catalog(rows, run, source, sha, problems)
            },
        )?;
    }

    report.finished_at = timefmt::now_rfc3339();
    report.duration_seconds = round3(started.elapsed().as_secs_f64());
    report.ocr_seconds = round3(report.ocr_seconds);
    let json = serde_json::to_string_pretty(&report).expect("the report serializes");
    let summary = serde_json::json!({
        "files_seen": report.files_seen,
        "documents_added": report.documents_added,
        "pages_ocr": report.pages_ocr,
        "needs_rescan": report.needs_rescan,
        "rejected": report.rejected.len(),
        "interrupted": report.interrupted.is_some(),
    });
    // The index (report text and ledger entry, one transaction) first; the report file and
    // the ledger file are copies of it, rewritten by the next run if a crash comes between.
    index.finish_run_with_ledger(
        &run_id,
        &report.finished_at,
        &json,
        &sha256_hex(json.as_bytes()),
        summary,
    )?;
    archive.put_run_report(&run_id, json.as_bytes())?;
    crate::fixity::export_ledger(&archive, &index)?;
    if mode != ProgressMode::Quiet {
        eprintln!("{}", summary_line(&report));
    }
    Ok(report)
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

/// Reads a register or catalog file and keeps its bytes in the archive. An unreadable file is
/// a rejected input (the batch's work stands); an archive failure is fatal.
fn keep_import_file(
    archive: &Archive,
    path: &std::path::Path,
    rejected: &mut Vec<Rejection>,
    log: &Log,
) -> Result<Option<String>, RunError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(archive.put_object(&bytes)?.0)),
        Err(e) => {
            let r = Rejection {
                path: path.display().to_string(),
                reason: format!("cannot read: {e}"),
            };
            log.line(&format!("rejected {}: {}", r.path, r.reason));
            rejected.push(r);
            Ok(None)
        }
    }
}

/// Reads a register or catalog (`what`), reports its unreadable rows, and stores the rest in
/// the index; the file itself is kept in the archive as evidence.
#[allow(clippy::too_many_arguments)]
fn import<R>(
    what: &str,
    archive: &Archive,
    index: &mut Index,
    run_id: &str,
    path: &std::path::Path,
    rejected: &mut Vec<Rejection>,
    log: &Log,
    read: impl FnOnce(&std::path::Path) -> Result<(Vec<R>, Vec<Problem>), RegisterError>,
    store: impl FnOnce(&mut Index, &[R], &str, &str, &str, usize) -> Result<(), IndexError>,
) -> Result<Option<ImportSummary>, RunError> {
    let Some(sha256) = keep_import_file(archive, path, rejected, log)? else {
        return Ok(None);
    };
    let (rows, problems) = match read(path) {
        Ok(r) => r,
        Err(e) => {
            rejected.push(Rejection {
                path: path.display().to_string(),
                reason: e.to_string(),
            });
            return Ok(None);
        }
    };
    for p in &problems {
        log.line(&format!(
            "{what} {} line {}: {}",
            path.display(),
            p.line,
            p.reason
        ));
    }
    let source = path.display().to_string();
    store(index, &rows, run_id, &source, &sha256, problems.len())?;
    Ok(Some(ImportSummary {
        source,
        sha256,
        rows: rows.len(),
        problems,
    }))
}

fn process(
    config: &Config,
    archive: &Archive,
    index: &mut Index,
    run_id: &str,
    work: Vec<WorkItem>,
    report: &mut RunReport,
    log: &Log,
) -> Result<(), RunError> {
    // Engines first: a missing language model stops the run before any work.
    // Loaded side by side (0.15–0.2 s each), before any work is handed out.
    let engines = std::thread::scope(|scope| {
        let loading: Vec<_> = (0..config.jobs)
            .map(|_| scope.spawn(|| Engine::new(&config.languages, config.tessdata.as_deref())))
            .collect();
        loading
            .into_iter()
            .map(|h| h.join().expect("loading an engine does not panic"))
            .collect::<Result<Vec<_>, _>>()
    })?;

    let cancel = Arc::new(AtomicBool::new(false));
    let (events_tx, events_rx) = mpsc::channel::<Event>();
    // Two pages per worker in flight: enough to never starve OCR, small enough for memory.
    let (jobs_tx, jobs_rx) = mpsc::sync_channel::<PageJob>(config.jobs * 2);
    let jobs_rx = Arc::new(Mutex::new(jobs_rx));

    let mut remaining_per_dossier: HashMap<String, usize> = HashMap::new();
    for item in &work {
        *remaining_per_dossier
            .entry(item.candidate.placement.dossier.clone())
            .or_default() += 1;
    }
    let items: Vec<Candidate> = work.iter().map(|w| w.candidate.clone()).collect();

    std::thread::scope(|scope| -> Result<(), RunError> {
        for mut engine in engines {
            let rx = Arc::clone(&jobs_rx);
            let tx = events_tx.clone();
            scope.spawn(move || ocr_worker(&mut engine, &rx, &tx));
        }
        {
            let tx = events_tx.clone();
            let cancel = Arc::clone(&cancel);
            scope.spawn(move || produce(archive, work, jobs_tx, tx, &cancel));
        }
        // Only the workers hold the page queue's receiver: if they stop, the producer stops.
        drop(jobs_rx);
        drop(events_tx);
        let result = collect(
            archive,
            index,
            run_id,
            config.min_dpi,
            &items,
            &mut remaining_per_dossier,
            events_rx,
            report,
            log,
        );
        if result.is_err() {
            cancel.store(true, Ordering::Relaxed);
        }
        result
    })
}

fn ocr_worker(engine: &mut Engine, jobs: &Mutex<Receiver<PageJob>>, events: &Sender<Event>) {
    loop {
        let job = {
            let Ok(rx) = jobs.lock() else { return };
            match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        if interrupted() {
            // Drop queued pages: their documents are not committed and the next run redoes them.
            continue;
        }
        let t = Instant::now();
        let ocr = engine.recognize(&job.image, job.ocr_dpi);
        let result = PageResult {
            page: job.page,
            width: job.width,
            height: job.height,
            quality: job.quality,
            ocr,
            seconds: t.elapsed().as_secs_f64(),
        };
        if events
            .send(Event::Page {
                doc: job.doc,
                result,
            })
            .is_err()
        {
            return;
        }
    }
}

/// Reads, hashes, stores and decodes files in order, feeding pages to the OCR queue.
fn produce(
    archive: &Archive,
    work: Vec<WorkItem>,
    jobs: SyncSender<PageJob>,
    events: Sender<Event>,
    cancel: &AtomicBool,
) {
    for item in work {
        if cancel.load(Ordering::Relaxed) || interrupted() {
            return;
        }
        let doc = item.seq;
        let bytes = match std::fs::read(&item.candidate.abs_path) {
            Ok(b) => b,
            Err(e) => {
                let _ = events.send(Event::Unreadable {
                    doc,
                    reason: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        let sha256 = sha256_hex(&bytes);
        if item.previous_sha256.as_deref() == Some(sha256.as_str()) {
            let _ = events.send(Event::Unchanged { doc, sha256 });
            continue;
        }
        // The original is on disk (fsynced) before anything refers to it.
        if let Err(e) = archive.put_object_with_hash(&bytes, &sha256) {
            let _ = events.send(Event::Fatal(e.into()));
            return;
        }
        let (media_type, mut pages, mut rejected) = match decode::pages(&bytes, Limits::default()) {
            Ok((format, pages)) => (Some(format.media_type()), Some(pages), None),
            Err(e) => (None, None, Some(e.to_string())),
        };
        let mut count = 0usize;
        if let Some(pages) = pages.as_mut() {
            for (i, page) in pages.enumerate() {
                match page {
                    Ok(page) => {
                        let quality = quality::assess(&page.image, page.meta_dpi);
                        count += 1;
                        let (width, height) = page.image.dimensions();
                        let (image, ocr_dpi) = crate::ocr::image_for_ocr(page.image, quality.dpi);
                        let job = PageJob {
                            doc,
                            page: (i + 1) as u32,
                            image,
                            ocr_dpi,
                            width,
                            height,
                            quality,
                        };
                        if jobs.send(job).is_err()
                            || cancel.load(Ordering::Relaxed)
                            || interrupted()
                        {
                            return;
                        }
                    }
                    Err(e) => {
                        rejected = Some(if i == 0 {
                            e.to_string()
                        } else {
                            format!("page {}: {e}", i + 1)
                        });
                        break;
                    }
                }
            }
        }
        let _ = events.send(Event::Planned {
            doc,
            sha256,
            media_type,
            pages: count,
            rejected,
        });
    }
}

/// Gathers pages into documents and commits each document once it is whole.
#[allow(clippy::too_many_arguments)]
fn collect(
    archive: &Archive,
    index: &mut Index,
    run_id: &str,
    min_dpi: u32,
    items: &[Candidate],
    remaining_per_dossier: &mut HashMap<String, usize>,
    events: Receiver<Event>,
    report: &mut RunReport,
    log: &Log,
) -> Result<(), RunError> {
    let mut assemblies: HashMap<usize, Assembly> = HashMap::new();
    let mut dossier_stats: HashMap<String, DossierStats> = HashMap::new();
    for event in events {
        let done_doc = match event {
            Event::Fatal(e) => return Err(e),
            Event::Unreadable { doc, reason } => {
                report.rejected.push(Rejection {
                    path: items[doc].rel_path.clone(),
                    reason: reason.clone(),
                });
                log.line(&format!("rejected {}: {reason}", items[doc].rel_path));
                dossier_stats
                    .entry(items[doc].placement.dossier.clone())
                    .or_default()
                    .rejected += 1;
                Some(doc)
            }
            Event::Unchanged { doc, sha256 } => {
                let c = &items[doc];
                index.touch_file(
                    &c.rel_path,
                    &crate::index::KnownFile {
                        bytes: c.bytes,
                        mtime_ns: c.mtime_ns,
                        sha256,
                    },
                )?;
                report.files_unchanged += 1;
                Some(doc)
            }
            Event::Planned {
                doc,
                sha256,
                media_type,
                pages,
                rejected,
            } => {
                let a = assemblies.entry(doc).or_default();
                a.planned = Some((sha256, media_type, pages, rejected));
                log.page_planned(pages);
                is_whole(a).then_some(doc)
            }
            Event::Page { doc, result } => {
                report.pages_ocr += 1;
                report.ocr_seconds += result.seconds;
                log.page_done();
                let a = assemblies.entry(doc).or_default();
                a.pages.push(result);
                is_whole(a).then_some(doc)
            }
        };
        let Some(doc) = done_doc else { continue };
        let candidate = &items[doc];
        if let Some(assembly) = assemblies.remove(&doc) {
            let stats = dossier_stats
                .entry(candidate.placement.dossier.clone())
                .or_default();
            commit_document(
                archive, index, run_id, min_dpi, candidate, assembly, report, stats, log,
            )?;
        }
        log.file_done();
        let remaining = remaining_per_dossier
            .get_mut(&candidate.placement.dossier)
            .expect("every item's dossier is counted");
        *remaining -= 1;
        if *remaining == 0 {
            let stats = dossier_stats
                .remove(&candidate.placement.dossier)
                .unwrap_or_default();
            log.dossier_done(
                &candidate.placement.procedure,
                &candidate.placement.dossier,
                &stats,
            );
        }
    }
    Ok(())
}

fn is_whole(a: &Assembly) -> bool {
    matches!(&a.planned, Some((_, _, n, _)) if a.pages.len() == *n)
}

#[derive(Default)]
struct DossierStats {
    documents: usize,
    pages: usize,
    needs_rescan: usize,
    rejected: usize,
}

#[allow(clippy::too_many_arguments)]
fn commit_document(
    archive: &Archive,
    index: &mut Index,
    run_id: &str,
    min_dpi: u32,
    candidate: &Candidate,
    assembly: Assembly,
    report: &mut RunReport,
    stats: &mut DossierStats,
    log: &Log,
) -> Result<(), RunError> {
    let (sha256, media_type, _, mut rejected) =
        assembly.planned.expect("whole documents are planned");
    let mut pages = assembly.pages;
    pages.sort_by_key(|p| p.page);
    let single_page = pages.len() == 1;
    let mut reasons = Vec::new();
    let mut new_pages = Vec::with_capacity(pages.len());
    for p in pages {
        let prefix = if single_page {
            String::new()
        } else {
            format!("page {}: ", p.page)
        };
        reasons.extend(
            p.quality
                .reasons(min_dpi)
                .into_iter()
                .map(|r| format!("{prefix}{r}")),
        );
        let (text, confidence, text_sha256, hocr_sha256) = match p.ocr {
            Ok(t) => {
                // Derivatives are stored like originals, so verify can check them too.
                let (text_sha, _) = archive.put_object(t.text.as_bytes())?;
                let (hocr_sha, _) = archive.put_object(t.hocr.as_bytes())?;
                (t.text, Some(t.confidence), Some(text_sha), Some(hocr_sha))
            }
            Err(e) => {
                rejected.get_or_insert_with(|| format!("{prefix}OCR failed: {e}"));
                (String::new(), None, None, None)
            }
        };
        new_pages.push(NewPage {
            page: p.page,
            width: p.width,
            height: p.height,
            dpi: p.quality.dpi,
            dpi_source: p.quality.dpi_source.as_str(),
            blank: p.quality.blank,
            confidence,
            text,
            text_sha256,
            hocr_sha256,
            ocr_seconds: Some(round3(p.seconds)),
        });
    }
    let doc = NewDocument {
        path: candidate.rel_path.clone(),
        procedure: candidate.placement.procedure.clone(),
        dossier: candidate.placement.dossier.clone(),
        unit: candidate.placement.unit.clone(),
        kind: candidate.placement.kind,
        sha256,
        bytes: candidate.bytes,
        mtime_ns: candidate.mtime_ns,
        media_type,
        archived_at: timefmt::now_rfc3339(),
        run_id: run_id.to_owned(),
        rejected: rejected.clone(),
        reasons: reasons.clone(),
        pages: new_pages,
    };
    index.add_document(&doc)?;
    report.documents_added += 1;
    report.bytes_added += candidate.bytes;
    stats.documents += 1;
    stats.pages += doc.pages.len();
    if let Some(reason) = rejected {
        log.line(&format!("rejected {}: {reason}", candidate.rel_path));
        report.rejected.push(Rejection {
            path: candidate.rel_path.clone(),
            reason: reason.clone(),
        });
        report.needs_rescan += 1;
        report.needs_rescan_documents.push(Rejection {
            path: candidate.rel_path.clone(),
            reason,
        });
        stats.rejected += 1;
    } else if !reasons.is_empty() {
        report.needs_rescan += 1;
        report.needs_rescan_documents.push(Rejection {
            path: candidate.rel_path.clone(),
            reason: reasons.join("; "),
        });
        stats.needs_rescan += 1;
    }
    Ok(())
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

pub fn summary_line(r: &RunReport) -> String {
    let rate = if r.duration_seconds > 0.0 {
        r.pages_ocr as f64 * 60.0 / r.duration_seconds
    } else {
        0.0
    };
    format!(
        "run {}: {} files seen, {} unchanged, {} documents added, {} pages OCR'd in {:.1} s ({:.0} pages/min), {} need rescan, {} rejected, {} left for the next run",
        r.run_id,
        r.files_seen,
        r.files_unchanged,
        r.documents_added,
        r.pages_ocr,
        r.duration_seconds,
        rate,
        r.needs_rescan,
        r.rejected.len(),
        r.deferred.len()
    )
}

/// Progress: bars on a terminal, plain lines otherwise. Never prints OCR text.
struct Log {
    mode: ProgressMode,
    bars: Option<(MultiProgress, ProgressBar, ProgressBar)>,
}

impl Log {
    fn new(mode: ProgressMode, files: usize) -> Log {
        let bars = (mode == ProgressMode::Bars && files > 0).then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let files_bar = multi.add(ProgressBar::new(files as u64));
            files_bar.set_style(
                ProgressStyle::with_template(
                    "files {bar:30} {pos}/{len} {elapsed_precise} ETA {eta}",
                )
                .expect("valid template"),
            );
            let pages_bar = multi.add(ProgressBar::new(0));
            pages_bar.set_style(
                ProgressStyle::with_template("pages {bar:30} {pos}/{len} {per_sec}")
                    .expect("valid template"),
            );
            files_bar.enable_steady_tick(Duration::from_millis(500));
            (multi, files_bar, pages_bar)
        });
        Log { mode, bars }
    }

    fn line(&self, text: &str) {
        match (&self.bars, self.mode) {
            (Some((multi, _, _)), _) => {
                let _ = multi.println(text);
            }
            (None, ProgressMode::Quiet) => {}
            (None, _) => eprintln!("{text}"),
        }
    }

    fn page_planned(&self, pages: usize) {
        if let Some((_, _, p)) = &self.bars {
            p.inc_length(pages as u64);
        }
    }

    fn page_done(&self) {
        if let Some((_, _, p)) = &self.bars {
            p.inc(1);
        }
    }

    fn file_done(&self) {
        if let Some((_, f, _)) = &self.bars {
            f.inc(1);
        }
    }

    fn dossier_done(&self, procedure: &str, dossier: &str, s: &DossierStats) {
        if self.mode == ProgressMode::Lines {
            self.line(&format!(
                "dossier {dossier} ({procedure}): {} documents added, {} pages, {} need rescan, {} rejected",
                s.documents, s.pages, s.needs_rescan, s.rejected
            ));
        }
    }

    fn finish(&self) {
        if let Some((_, f, p)) = &self.bars {
            f.finish_and_clear();
            p.finish_and_clear();
        }
    }
}
