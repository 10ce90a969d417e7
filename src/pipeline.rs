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
use crate::cover;
use crate::decode::embed::Embeddable;
use crate::decode::{self, quality, Limits};
use crate::index::claims::Claim;
use crate::index::{Index, IndexError, Location, NewDocument, NewPage};
use crate::intake::{self, Candidate, IntakeError, Rejection};
use crate::ocr::{Engine, OcrError, PageText};
use crate::register::{read_catalog, read_register_rows, Problem, RegisterError};
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
    /// Shared index: files another worker archived while this run was under way.
    #[serde(skip_serializing_if = "is_zero")]
    pub files_done_elsewhere: usize,
    /// Shared index: files claimed by a worker whose lease ran out, read by this run.
    #[serde(skip_serializing_if = "is_zero")]
    pub files_taken_over: usize,
    pub documents_added: usize,
    pub bytes_added: u64,
    pub pages_ocr: usize,
    /// PDF pages whose own text layer was taken instead of OCR.
    pub pages_text_layer: usize,
    pub ocr_seconds: f64,
    pub needs_rescan: usize,
    pub needs_rescan_documents: Vec<Rejection>,
    pub rejected: Vec<Rejection>,
    /// Batch scans split by cover sheets this run.
    pub batches: Vec<BatchReport>,
    /// Pages of batch scans set aside (listed per batch); any makes `run` exit 3.
    pub quarantined_pages: usize,
    pub deferred: Vec<String>,
    /// The register import of this run (when the pipeline names one).
    pub register: Option<ImportSummary>,
    /// The catalog import of this run (when the pipeline names one).
    pub catalog: Option<ImportSummary>,
    /// Set when a signal stopped the run early (`SIGINT`, `SIGTERM`): the documents committed
    /// are whole; the rest is read again by the next run.
    pub interrupted: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
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
            || self.quarantined_pages > 0
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
    /// Its number in the batch scan it was split out of.
    source_page: Option<u32>,
    /// The original image, when a PDF can carry it as it is.
    original: Option<Arc<Embeddable>>,
}

struct PageResult {
    page: u32,
    width: u32,
    height: u32,
    quality: quality::PageQuality,
    ocr: Result<PageText, OcrError>,
    seconds: f64,
    /// `ocr`, or `text_layer` when the PDF page's own text was taken.
    text_source: &'static str,
    turned: u32,
    deskewed: f32,
    /// The page as read, compressed, for the searchable PDF.
    view: Option<PageView>,
    source_page: Option<u32>,
}

/// A page image for the searchable PDF, with the resolution it was read at: the original
/// itself when OCR read it unchanged and a PDF can carry it, else the image OCR saw, deflated.
enum PageView {
    Original(Arc<Embeddable>, u32),
    Deflated {
        deflated: Vec<u8>,
        width: u32,
        height: u32,
        dpi: u32,
    },
}

impl PageView {
    fn of(image: &GrayImage, dpi: u32) -> PageView {
        PageView::Deflated {
            deflated: crate::pdf::deflate(image.as_raw()),
            width: image.width(),
            height: image.height(),
            dpi,
        }
    }

    fn image(&self) -> (crate::pdf::PageImage<'_>, u32) {
        match self {
            PageView::Original(e, dpi) => (
                match &**e {
                    Embeddable::Jpeg {
                        bytes,
                        width,
                        height,
                        components,
                    } => crate::pdf::PageImage::Jpeg {
                        bytes,
                        width: *width,
                        height: *height,
                        components: *components,
                    },
                    Embeddable::Png {
                        zlib,
                        width,
                        height,
                        colors,
                    } => crate::pdf::PageImage::Png {
                        zlib,
                        width: *width,
                        height: *height,
                        colors: *colors,
                    },
                },
                *dpi,
            ),
            PageView::Deflated {
                deflated,
                width,
                height,
                dpi,
            } => (
                crate::pdf::PageImage::Deflated {
                    data: deflated,
                    width: *width,
                    height: *height,
                },
                *dpi,
            ),
        }
    }
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
    /// Another worker archived this file meanwhile (shared index): nothing to do.
    DoneElsewhere {
        doc: usize,
    },
    /// This run took the file over from a worker whose lease ran out.
    TakenOver,
    /// Could not be read at all (permissions, vanished): nothing to archive.
    Unreadable {
        doc: usize,
        reason: String,
    },
    Page {
        doc: usize,
        result: PageResult,
    },
    /// A document split out of batch scan `batch` starts: pages for `doc` follow.
    Segment {
        doc: usize,
        candidate: Candidate,
        batch: usize,
    },
    /// A batch scan was read to its end: how it was split.
    BatchSplit {
        doc: usize,
        report: BatchReport,
        rejected: Option<String>,
    },
    Fatal(RunError),
}

#[derive(Default)]
struct Assembly {
    planned: Option<(String, Option<&'static str>, usize, Option<String>)>,
    pages: Vec<PageResult>,
    /// The searchable PDF, written page by page into the archive's scratch folder.
    searchable: Option<(
        crate::pdf::Builder<std::io::BufWriter<std::fs::File>>,
        std::path::PathBuf,
    )>,
}

impl Assembly {
    /// Adds a page's image and words to the document's searchable PDF, then drops the image.
    fn add_to_searchable(
        &mut self,
        archive: &Archive,
        result: &mut PageResult,
    ) -> Result<(), RunError> {
        let Some(view) = result.view.take() else {
            return Ok(());
        };
        if self.searchable.is_none() {
            let (file, path) = archive.temp_file("searchable")?;
            let builder = crate::pdf::Builder::new(std::io::BufWriter::new(file))
                .map_err(|e| io_error(&path, e))?;
            self.searchable = Some((builder, path));
        }
        let (builder, path) = self.searchable.as_mut().expect("created above");
        let (hocr_words, layer_lines);
        let words: Vec<crate::pdf::Word<'_>> = match (&result.ocr, result.text_source) {
            (Ok(t), "ocr") => {
                hocr_words = crate::ocr::hocr::words(&t.hocr);
                hocr_words
                    .iter()
                    .map(|w| crate::pdf::Word {
                        text: &w.text,
                        x0: w.bbox[0],
                        y0: w.bbox[1],
                        x1: w.bbox[2],
                        y1: w.bbox[3],
                    })
                    .collect()
            }
            (Ok(t), _) => {
                // A text layer without positions: its lines, one per band down the page.
                layer_lines = t
                    .text
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .collect::<Vec<_>>();
                let (view_width, view_height) = view.image().0.dimensions();
                let band = view_height / (layer_lines.len() as u32 + 1).max(1);
                layer_lines
                    .iter()
                    .enumerate()
                    .map(|(i, line)| crate::pdf::Word {
                        text: line,
                        x0: view_width / 20,
                        y0: band * i as u32,
                        x1: view_width - view_width / 20,
                        y1: band * (i as u32 + 1),
                    })
                    .collect()
            }
            (Err(_), _) => Vec::new(),
        };
        let (image, dpi) = view.image();
        builder
            .add_page(
                result.page,
                &crate::pdf::Page {
                    image,
                    dpi,
                    words,
                    visible: Vec::new(),
                    rotate: 0,
                },
            )
            .map_err(|e| io_error(path, e))?;
        Ok(())
    }

    fn discard_searchable(&mut self) {
        if let Some((builder, path)) = self.searchable.take() {
            drop(builder);
            let _ = std::fs::remove_file(path);
        }
    }

    /// Finishes and stores the searchable PDF; its object's hash.
    fn store_searchable(&mut self, archive: &Archive) -> Result<Option<String>, RunError> {
        let Some((builder, path)) = self.searchable.take() else {
            return Ok(None);
        };
        let file = builder.finish().map_err(|e| io_error(&path, e))?;
        let file = file
            .into_inner()
            .map_err(|e| io_error(&path, e.into_error()))?;
        drop(file);
        Ok(Some(archive.put_file(&path)?))
    }
}

fn io_error(path: &std::path::Path, source: std::io::Error) -> RunError {
    RunError::Store(StoreError::Io {
        path: path.to_owned(),
        source,
    })
}

pub fn run(config: &Config, mode: ProgressMode) -> Result<RunReport, RunError> {
    let started = Instant::now();
    let started_at = timefmt::now_rfc3339();
    let archive = Archive::create_or_open(&config.archive)?;
    let location = Location::resolve(archive.index_path(), config.index_url.as_deref())?;
    let shared = location.is_shared();
    // Many workers on one shared index: run ids must differ across machines too.
    let run_id = if shared {
        format!(
            "{}-{}",
            timefmt::compact_stamp(SystemTime::now()),
            crate::store::worker_tag()
        )
    } else {
        format!(
            "{}-{}",
            timefmt::compact_stamp(SystemTime::now()),
            std::process::id()
        )
    };
    // One run at a time on an archive with its own index (a file lock); on a shared index
    // runs work side by side, each holding the index's shared lock (a verify takes it whole)
    // and claiming files one by one.
    let _lock = if shared { None } else { Some(archive.lock()?) };
    let mut index = Index::open(&location, true)?;
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

    let walk = intake::walk(
        &config.intake,
        &config.layout,
        config.settle,
        SystemTime::now(),
    )?;
    let lease_ms = config.lease.as_millis() as u64;
    index.begin_run(
        &run_id,
        &config.name,
        &started_at,
        shared.then_some(lease_ms),
    )?;
    let _heartbeat = if shared {
        Some(Heartbeat::start(&location, &run_id, config.lease)?)
    } else {
        None
    };

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
        files_done_elsewhere: 0,
        files_taken_over: 0,
        documents_added: 0,
        bytes_added: 0,
        pages_ocr: 0,
        pages_text_layer: 0,
        ocr_seconds: 0.0,
        needs_rescan: 0,
        needs_rescan_documents: Vec::new(),
        rejected: walk.rejected,
        batches: Vec::new(),
        quarantined_pages: 0,
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
        let claims = if shared {
            Some(Claimer {
                index: Index::open(&location, true)?,
                run_id: run_id.clone(),
                lease_ms,
            })
        } else {
            None
        };
        process(
            config,
            &archive,
            &mut index,
            &run_id,
            work,
            claims,
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
    if shared {
        index.unlock(false)?;
    }
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

#[allow(clippy::too_many_arguments)]
fn process(
    config: &Config,
    archive: &Archive,
    index: &mut Index,
    run_id: &str,
    work: Vec<WorkItem>,
    claims: Option<Claimer>,
    report: &mut RunReport,
    log: &Log,
) -> Result<(), RunError> {
    // Engines first: a missing language model stops the run before any work.
    // Loaded side by side (0.15–0.2 s each), before any work is handed out.
    let engines = std::thread::scope(|scope| {
        let loading: Vec<_> = (0..config.jobs)
            .map(|_| {
                scope.spawn(|| {
                    if config.correct_pages {
                        Engine::with_corrections(&config.languages, config.tessdata.as_deref())
                    } else {
                        Engine::new(&config.languages, config.tessdata.as_deref())
                    }
                })
            })
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
    for item in work.iter().filter(|w| !w.candidate.batch) {
        *remaining_per_dossier
            .entry(item.candidate.placement.dossier.clone())
            .or_default() += 1;
    }
    let mut items: Vec<Candidate> = work.iter().map(|w| w.candidate.clone()).collect();

    std::thread::scope(|scope| -> Result<(), RunError> {
        for mut engine in engines {
            let rx = Arc::clone(&jobs_rx);
            let tx = events_tx.clone();
            scope.spawn(move || ocr_worker(&mut engine, &rx, &tx));
        }
        {
            let tx = events_tx.clone();
            let cancel = Arc::clone(&cancel);
            let force_ocr = config.force_ocr;
            scope.spawn(move || produce(archive, work, force_ocr, claims, jobs_tx, tx, &cancel));
        }
        // Only the workers hold the page queue's receiver: if they stop, the producer stops.
        drop(jobs_rx);
        drop(events_tx);
        let result = collect(
            archive,
            index,
            run_id,
            config.min_dpi,
            &mut items,
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
        let read = engine.read(job.image, job.ocr_dpi);
        let seconds = t.elapsed().as_secs_f64();
        let (ocr, turned, deskewed, view) = match read {
            Ok(r) => {
                // Read as scanned (not turned, levelled or downsampled): show the original.
                let view = match &job.original {
                    Some(o)
                        if r.turned == 0
                            && r.deskewed == 0.0
                            && o.dimensions() == r.image.dimensions() =>
                    {
                        PageView::Original(Arc::clone(o), job.ocr_dpi)
                    }
                    _ => PageView::of(&r.image, job.ocr_dpi),
                };
                (Ok(r.text), r.turned, r.deskewed, Some(view))
            }
            Err(e) => (Err(e), 0, 0.0, None),
        };
        let result = PageResult {
            page: job.page,
            width: job.width,
            height: job.height,
            quality: job.quality,
            ocr,
            seconds,
            text_source: "ocr",
            turned,
            deskewed,
            view,
            source_page: job.source_page,
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

/// A run's claims on a shared index, with their own connection (the producer's).
struct Claimer {
    index: Index,
    run_id: String,
    lease_ms: u64,
}

enum Claimed {
    /// This run reads the file (its latest archived content refreshed).
    Go(WorkItem),
    /// Another live worker has it; try again later.
    Held(WorkItem),
    /// Another worker archived it since this run listed the intake.
    DoneElsewhere(usize),
}

impl Claimer {
    fn try_claim(&self, mut item: WorkItem, events: &Sender<Event>) -> Result<Claimed, IndexError> {
        let path = &item.candidate.rel_path;
        let taken_over = match self.index.claim(path, &self.run_id, self.lease_ms)? {
            Claim::Held => return Ok(Claimed::Held(item)),
            Claim::Mine { taken_over } => taken_over,
        };
        // The claim is ours: whoever had the file before either committed it (then the stat
        // cache shows it) or died without committing (then it is ours to read).
        if let Some(k) = self.index.known_file(path)? {
            if k.bytes == item.candidate.bytes && k.mtime_ns == item.candidate.mtime_ns {
                self.index.release(path, &self.run_id)?;
                return Ok(Claimed::DoneElsewhere(item.seq));
            }
        }
        item.previous_sha256 = self.index.latest_sha256(path)?;
        if taken_over {
            let _ = events.send(Event::TakenOver);
        }
        Ok(Claimed::Go(item))
    }
}

/// Reads, hashes, stores and decodes files in order, feeding pages to the OCR queue. On a
/// shared index each file is claimed first; files other workers hold are tried again once
/// the rest is done, until they are archived or their holder's lease runs out.
fn produce(
    archive: &Archive,
    work: Vec<WorkItem>,
    force_ocr: bool,
    claims: Option<Claimer>,
    jobs: SyncSender<PageJob>,
    events: Sender<Event>,
    cancel: &AtomicBool,
) {
    // Documents split out of batch scans are numbered after the intake's own files.
    let mut next_doc = work.len();
    let out = Outlet {
        force_ocr,
        jobs: &jobs,
        events: &events,
        cancel,
    };
    let stopping = || cancel.load(Ordering::Relaxed) || interrupted();
    let mut held = Vec::new();
    let mut pending = work;
    loop {
        for item in std::mem::take(&mut pending) {
            if stopping() {
                return;
            }
            let item = match &claims {
                None => item,
                Some(c) => match c.try_claim(item, &events) {
                    Ok(Claimed::Go(item)) => item,
                    Ok(Claimed::Held(item)) => {
                        held.push(item);
                        continue;
                    }
                    Ok(Claimed::DoneElsewhere(doc)) => {
                        let _ = events.send(Event::DoneElsewhere { doc });
                        continue;
                    }
                    Err(e) => {
                        let _ = events.send(Event::Fatal(e.into()));
                        return;
                    }
                },
            };
            if produce_file(archive, item, &out, &mut next_doc).is_err() {
                return;
            }
        }
        if held.is_empty() {
            return;
        }
        // Held by live workers: look again shortly (a lease is renewed every third of it).
        for _ in 0..10 {
            if stopping() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        pending = std::mem::take(&mut held);
    }
}

/// One intake file: read, hash, store, then its pages to OCR (or its split, for a batch).
fn produce_file(
    archive: &Archive,
    item: WorkItem,
    out: &Outlet<'_>,
    next_doc: &mut usize,
) -> Result<(), Stop> {
    let events = out.events;
    let doc = item.seq;
    let bytes = match std::fs::read(&item.candidate.abs_path) {
        Ok(b) => b,
        Err(e) => {
            let _ = events.send(Event::Unreadable {
                doc,
                reason: format!("cannot read: {e}"),
            });
            return Ok(());
        }
    };
    let sha256 = sha256_hex(&bytes);
    if item.previous_sha256.as_deref() == Some(sha256.as_str()) {
        let _ = events.send(Event::Unchanged { doc, sha256 });
        return Ok(());
    }
    // The original is on disk (fsynced) before anything refers to it.
    if let Err(e) = archive.put_object_with_hash(&bytes, &sha256) {
        let _ = events.send(Event::Fatal(e.into()));
        return Err(Stop);
    }
    if item.candidate.batch {
        return split_batch(&item.candidate, doc, &bytes, sha256, next_doc, out);
    }
    let (media_type, mut pages, mut rejected) = match decode::pages(&bytes, Limits::default()) {
        Ok((format, pages)) => (Some(format.media_type()), Some(pages), None),
        Err(e) => (None, None, Some(e.to_string())),
    };
    let mut count = 0u32;
    let original = decode::embed::embeddable(&bytes).map(Arc::new);
    if let Some(pages) = pages.as_mut() {
        for (i, page) in pages.enumerate() {
            let page = match page {
                Ok(page) => page,
                Err(e) => {
                    rejected = Some(if i == 0 {
                        e.to_string()
                    } else {
                        format!("page {}: {e}", i + 1)
                    });
                    break;
                }
            };
            match out.send_page(doc, count + 1, page, None, original.clone())? {
                true => count += 1,
                false => {
                    rejected = Some(format!("page {}: no scanned image and no text", i + 1));
                    break;
                }
            }
        }
    }
    let _ = events.send(Event::Planned {
        doc,
        sha256,
        media_type,
        pages: count as usize,
        rejected,
    });
    Ok(())
}

/// Renews a run's lease and claims on a shared index every third of the lease, on its own
/// connection, until dropped. A worker that dies stops renewing: its files pass on.
struct Heartbeat {
    stop: Option<Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Heartbeat {
    fn start(location: &Location, run_id: &str, lease: Duration) -> Result<Heartbeat, RunError> {
        let index = Index::open(location, true)?;
        let run_id = run_id.to_owned();
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let lease_ms = lease.as_millis() as u64;
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(lease / 3) {
                if let Err(e) = index.renew(&run_id, lease_ms) {
                    eprintln!("dossier: warning: cannot renew this run's lease: {e}");
                }
            }
        });
        Ok(Heartbeat {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The run is stopping (cancelled, interrupted, or the workers are gone).
struct Stop;

/// Where the producer sends pages: OCR jobs, or straight to the collector.
struct Outlet<'a> {
    force_ocr: bool,
    jobs: &'a SyncSender<PageJob>,
    events: &'a Sender<Event>,
    cancel: &'a AtomicBool,
}

impl Outlet<'_> {
    /// Sends page `number` of document `doc` on its way: to OCR, or, for a PDF page with its
    /// own text layer (unless OCR is forced), straight to the collector. `Ok(false)`: the page
    /// has neither an image nor text.
    fn send_page(
        &self,
        doc: usize,
        number: u32,
        page: decode::Page,
        source_page: Option<u32>,
        original: Option<Arc<Embeddable>>,
    ) -> Result<bool, Stop> {
        let no_image = page.image.width() == 0;
        if no_image || (page.text_layer.is_some() && !self.force_ocr) {
            // A page without an image has nothing else to read, even with --force-ocr.
            let Some(text) = page.text_layer else {
                return Ok(false);
            };
            let quality = if no_image {
                quality::not_scanned()
            } else {
                quality::assess(&page.image, page.meta_dpi)
            };
            let view = (!no_image).then(|| PageView::of(&page.image, quality.dpi.max(1)));
            let result = PageResult {
                page: number,
                width: page.image.width(),
                height: page.image.height(),
                quality,
                ocr: Ok(PageText {
                    text: crate::fold::nfc(&text),
                    confidence: 0.0,
                    hocr: String::new(),
                }),
                seconds: 0.0,
                text_source: "text_layer",
                turned: 0,
                deskewed: 0.0,
                view,
                source_page,
            };
            return match self.events.send(Event::Page { doc, result }) {
                Ok(()) => Ok(true),
                Err(_) => Err(Stop),
            };
        }
        let quality = quality::assess(&page.image, page.meta_dpi);
        let (width, height) = page.image.dimensions();
        let (image, ocr_dpi) = crate::ocr::image_for_ocr(page.image, quality.dpi);
        let job = PageJob {
            doc,
            page: number,
            image,
            ocr_dpi,
            width,
            height,
            quality,
            source_page,
            original,
        };
        if self.jobs.send(job).is_err() || self.cancel.load(Ordering::Relaxed) || interrupted() {
            return Err(Stop);
        }
        Ok(true)
    }
}

/// One dossier's pages found in a batch scan.
#[derive(Debug, Clone, Serialize)]
pub struct BatchSegment {
    /// The cover sheet's code.
    pub code: String,
    /// The document these pages became.
    pub document: String,
    /// Their numbers in the batch file.
    pub pages: Vec<u32>,
}

/// Pages of a batch scan set aside, and why. They stay in the archived batch file.
#[derive(Debug, Clone, Serialize)]
pub struct QuarantinedPages {
    pub pages: Vec<u32>,
    pub reason: String,
}

/// How a batch scan under `_batch/` was split.
#[derive(Debug, Clone, Serialize)]
pub struct BatchReport {
    pub path: String,
    pub sha256: String,
    pub pages: u32,
    pub segments: Vec<BatchSegment>,
    pub quarantined: Vec<QuarantinedPages>,
}

impl BatchReport {
    fn quarantine(&mut self, page: u32, reason: String) {
        if let Some(last) = self.quarantined.last_mut() {
            if last.reason == reason && last.pages.last() == Some(&(page - 1)) {
                last.pages.push(page);
                return;
            }
        }
        self.quarantined.push(QuarantinedPages {
            pages: vec![page],
            reason,
        });
    }
}

/// Splits a batch scan at its cover sheets: each valid cover sheet opens a document of the
/// dossier it names, holding the pages up to the next cover sheet. Pages before the first
/// cover sheet, unreadable or invalid cover sheets and the pages after them are quarantined.
fn split_batch(
    batch: &Candidate,
    batch_doc: usize,
    bytes: &[u8],
    sha256: String,
    next_doc: &mut usize,
    out: &Outlet<'_>,
) -> Result<(), Stop> {
    let mut report = BatchReport {
        path: batch.rel_path.clone(),
        sha256: sha256.clone(),
        pages: 0,
        segments: Vec::new(),
        quarantined: Vec::new(),
    };
    let mut rejected = None;
    let media_type = decode::sniff(bytes).map(|f| f.media_type());
    // The open segment: its document number and pages so far.
    let mut open: Option<(usize, u32)> = None;
    // A valid cover sheet whose first page has not come yet.
    let mut pending: Option<(u32, cover::CoverCode)> = None;
    let mut orphan_reason = "before the first cover sheet".to_owned();
    let mut uses: HashMap<String, usize> = HashMap::new();
    let close = |open: &mut Option<(usize, u32)>| -> Result<(), Stop> {
        if let Some((doc, pages)) = open.take() {
            out.events
                .send(Event::Planned {
                    doc,
                    sha256: sha256.clone(),
                    media_type,
                    pages: pages as usize,
                    rejected: None,
                })
                .map_err(|_| Stop)?;
        }
        Ok(())
    };
    match decode::pages(bytes, Limits::default()) {
        Err(e) => rejected = Some(e.to_string()),
        Ok((_, pages)) => {
            for (i, page) in pages.enumerate() {
                let n = i as u32 + 1;
                report.pages = n;
                let page = match page {
                    Ok(p) => p,
                    Err(e) => {
                        rejected = Some(format!("page {n}: {e}"));
                        break;
                    }
                };
                let reading = if page.image.width() == 0 {
                    cover::Reading::Page
                } else {
                    cover::read(&page.image)
                };
                match reading {
                    cover::Reading::Cover(text) => {
                        close(&mut open)?;
                        if let Some((at, _)) = pending.take() {
                            report.quarantine(at, "cover sheet with no pages after it".into());
                        }
                        match cover::parse(&text) {
                            Ok(code) => pending = Some((n, code)),
                            Err(reason) => {
                                report.quarantine(n, reason);
                                orphan_reason = format!("after an invalid cover sheet (page {n})");
                            }
                        }
                    }
                    cover::Reading::Unreadable(reason) => {
                        close(&mut open)?;
                        if let Some((at, _)) = pending.take() {
                            report.quarantine(at, "cover sheet with no pages after it".into());
                        }
                        report.quarantine(n, reason);
                        orphan_reason = format!("after an unreadable cover sheet (page {n})");
                    }
                    cover::Reading::Page => {
                        if let Some((_, code)) = pending.take() {
                            let doc = *next_doc;
                            *next_doc += 1;
                            let use_count = uses.entry(code.text()).or_default();
                            *use_count += 1;
                            let suffix = if *use_count > 1 {
                                format!("+{use_count}")
                            } else {
                                String::new()
                            };
                            let path = format!("{}#{}{suffix}", batch.rel_path, code.text());
                            let candidate = Candidate {
                                rel_path: path.clone(),
                                abs_path: batch.abs_path.clone(),
                                placement: crate::intake::layout::Placement {
                                    procedure: code.procedure.clone(),
                                    dossier: code.dossier.clone(),
                                    kind: code.kind,
                                    unit: None,
                                },
                                bytes: batch.bytes,
                                mtime_ns: batch.mtime_ns,
                                batch: false,
                            };
                            out.events
                                .send(Event::Segment {
                                    doc,
                                    candidate,
                                    batch: batch_doc,
                                })
                                .map_err(|_| Stop)?;
                            report.segments.push(BatchSegment {
                                code: code.text(),
                                document: path,
                                pages: Vec::new(),
                            });
                            open = Some((doc, 0));
                        }
                        match open.as_mut() {
                            Some((doc, count)) => {
                                if out.send_page(*doc, *count + 1, page, Some(n), None)? {
                                    *count += 1;
                                    if let Some(s) = report.segments.last_mut() {
                                        s.pages.push(n);
                                    }
                                } else {
                                    report.quarantine(n, "page has no image and no text".into());
                                }
                            }
                            None => report.quarantine(n, format!("page {orphan_reason}")),
                        }
                    }
                }
            }
        }
    }
    close(&mut open)?;
    if let Some((at, _)) = pending.take() {
        report.quarantine(at, "cover sheet with no pages after it".into());
    }
    out.events
        .send(Event::BatchSplit {
            doc: batch_doc,
            report,
            rejected,
        })
        .map_err(|_| Stop)
}

/// Gathers pages into documents and commits each document once it is whole.
#[allow(clippy::too_many_arguments)]
fn collect(
    archive: &Archive,
    index: &mut Index,
    run_id: &str,
    min_dpi: u32,
    items: &mut Vec<Candidate>,
    remaining_per_dossier: &mut HashMap<String, usize>,
    events: Receiver<Event>,
    report: &mut RunReport,
    log: &Log,
) -> Result<(), RunError> {
    let mut assemblies: HashMap<usize, Assembly> = HashMap::new();
    let mut dossier_stats: HashMap<String, DossierStats> = HashMap::new();
    // Batch scans: which batch each split document came from, and per batch the documents
    // not yet committed and its split (once read to the end).
    let mut batch_of: HashMap<usize, usize> = HashMap::new();
    let mut batches: HashMap<usize, (usize, Option<BatchSplit>)> = HashMap::new();
    for event in events {
        let done_doc = match event {
            Event::Fatal(e) => return Err(e),
            Event::Unreadable { doc, reason } => {
                index.release(&items[doc].rel_path, run_id)?;
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
            Event::DoneElsewhere { doc } => {
                report.files_done_elsewhere += 1;
                Some(doc)
            }
            Event::TakenOver => {
                report.files_taken_over += 1;
                continue;
            }
            Event::Unchanged { doc, sha256 } => {
                let c = &items[doc];
                index.release(&c.rel_path, run_id)?;
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
            Event::Segment {
                doc,
                candidate,
                batch,
            } => {
                debug_assert_eq!(doc, items.len(), "split documents arrive in order");
                *remaining_per_dossier
                    .entry(candidate.placement.dossier.clone())
                    .or_default() += 1;
                items.push(candidate);
                batch_of.insert(doc, batch);
                batches.entry(batch).or_default().0 += 1;
                None
            }
            Event::BatchSplit {
                doc,
                report: split,
                rejected,
            } => {
                let entry = batches.entry(doc).or_default();
                entry.1 = Some((split, rejected));
                if entry.0 == 0 {
                    finish_batch(index, run_id, &items[doc], entry.1.take(), report, log)?;
                    log.file_done();
                }
                continue;
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
            Event::Page { doc, mut result } => {
                if result.text_source == "ocr" {
                    report.pages_ocr += 1;
                } else {
                    report.pages_text_layer += 1;
                }
                report.ocr_seconds += result.seconds;
                log.page_done();
                let a = assemblies.entry(doc).or_default();
                a.add_to_searchable(archive, &mut result)?;
                a.pages.push(result);
                is_whole(a).then_some(doc)
            }
        };
        let Some(doc) = done_doc else { continue };
        let candidate = &items[doc];
        let batch = batch_of.remove(&doc);
        if let Some(mut assembly) = assemblies.remove(&doc) {
            // A split document a run killed before it recorded its batch may already be in
            // the index: the same batch content under the same name is not a new version.
            let planned_sha = assembly.planned.as_ref().map(|p| p.0.clone());
            if batch.is_some() && index.latest_sha256(&candidate.rel_path)? == planned_sha {
                assembly.discard_searchable();
            } else {
                let stats = dossier_stats
                    .entry(candidate.placement.dossier.clone())
                    .or_default();
                commit_document(
                    archive,
                    index,
                    run_id,
                    min_dpi,
                    candidate,
                    batch.is_none(),
                    assembly,
                    report,
                    stats,
                    log,
                )?;
            }
        }
        if candidate.batch {
            // A batch scan that was unchanged or unreadable: no split to wait for.
            log.file_done();
            continue;
        }
        if batch.is_none() {
            log.file_done();
        }
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
        if let Some(batch) = batch {
            let entry = batches
                .get_mut(&batch)
                .expect("counted at its first segment");
            entry.0 -= 1;
            if entry.0 == 0 && entry.1.is_some() {
                finish_batch(index, run_id, &items[batch], entry.1.take(), report, log)?;
                log.file_done();
            }
        }
    }
    Ok(())
}

/// A batch scan's split and, when it could not be read to the end, why.
type BatchSplit = (BatchReport, Option<String>);

/// Records a batch scan once every document split out of it is committed.
fn finish_batch(
    index: &mut Index,
    run_id: &str,
    batch: &Candidate,
    split: Option<BatchSplit>,
    report: &mut RunReport,
    log: &Log,
) -> Result<(), RunError> {
    let Some((split, rejected)) = split else {
        return Ok(());
    };
    index.add_batch(&crate::index::NewBatch {
        path: batch.rel_path.clone(),
        sha256: split.sha256.clone(),
        bytes: batch.bytes,
        mtime_ns: batch.mtime_ns,
        run_id: run_id.to_owned(),
        archived_at: timefmt::now_rfc3339(),
        pages: split.pages as usize,
        segments: serde_json::to_string(&split.segments).expect("plain data"),
        quarantined: serde_json::to_string(&split.quarantined).expect("plain data"),
        rejected: rejected.clone(),
    })?;
    if let Some(reason) = rejected {
        log.line(&format!("rejected {}: {reason}", batch.rel_path));
        report.rejected.push(Rejection {
            path: batch.rel_path.clone(),
            reason,
        });
    }
    for q in &split.quarantined {
        let pages: Vec<String> = q.pages.iter().map(u32::to_string).collect();
        log.line(&format!(
            "quarantined {} page {}: {}",
            batch.rel_path,
            pages.join(", "),
            q.reason
        ));
        report.quarantined_pages += q.pages.len();
    }
    log.line(&format!(
        "batch {}: {} pages, {} dossier documents, {} quarantined",
        batch.rel_path,
        split.pages,
        split.segments.len(),
        split
            .quarantined
            .iter()
            .map(|q| q.pages.len())
            .sum::<usize>()
    ));
    report.batches.push(split);
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
    intake_file: bool,
    assembly: Assembly,
    report: &mut RunReport,
    stats: &mut DossierStats,
    log: &Log,
) -> Result<(), RunError> {
    let mut assembly = assembly;
    let (sha256, media_type, _, mut rejected) = assembly
        .planned
        .clone()
        .expect("whole documents are planned");
    // A PDF read wholly from its own text layer is its own searchable copy.
    let own_layer = media_type == Some("application/pdf")
        && !assembly.pages.is_empty()
        && assembly.pages.iter().all(|p| p.text_source == "text_layer");
    let searchable_pdf = if own_layer {
        assembly.discard_searchable();
        Some(sha256.clone())
    } else {
        assembly.store_searchable(archive)?
    };
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
            Ok(t) if p.text_source == "text_layer" => {
                let (text_sha, _) = archive.put_object(t.text.as_bytes())?;
                (t.text, None, Some(text_sha), None)
            }
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
            ocr_seconds: (p.text_source == "ocr").then(|| round3(p.seconds)),
            text_source: p.text_source,
            turned: p.turned,
            deskewed: p.deskewed,
            source_page: p.source_page,
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
        searchable_pdf,
        intake_file,
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
