//! The run report: what one run did, printed with `--json` and kept in the archive
//! (`runs/RUN_ID.json`). It holds codes, paths and counts only: never OCR text, register
//! fields or barcode payloads, so it can be mailed and logged.

use std::time::Instant;

use serde::Serialize;

use crate::intake::Rejection;
use crate::register::Problem;
use crate::timefmt;

/// What one run did.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub run_id: String,
    pub pipeline: String,
    /// The intake the run read (its canonical path), which the archive belongs to: kept here
    /// so that `rebuild-index` can restore that record from the latest run's report.
    pub intake: String,
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
    /// Files whose claim another worker took over while this run was stalled past its lease
    /// (a frozen process, a suspended machine): this run's reading of them was dropped, not
    /// committed; the worker that took them over archives them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub claims_lost: Vec<String>,
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
    /// Files left for the next run: modified within the settle time, or changed while read.
    pub deferred: Vec<String>,
    /// Files that changed between the walk and the end of their reading, and how: nothing
    /// of them is archived this run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed_during_read: Vec<Rejection>,
    /// Archived intake files no longer in the intake (the archive keeps them; they leave the
    /// rescan list). Only a complete walk that saw files withdraws any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub withdrawn: Vec<String>,
    /// Withdrawn files back in the intake.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub returned: Vec<String>,
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
    /// An empty report for a run that starts now.
    pub(super) fn start(run_id: &str, pipeline: &str, jobs: usize) -> Self {
        RunReport {
            run_id: run_id.to_owned(),
            pipeline: pipeline.to_owned(),
            intake: String::new(),
            program_version: env!("CARGO_PKG_VERSION"),
            started_at: timefmt::now_rfc3339(),
            finished_at: String::new(),
            duration_seconds: 0.0,
            jobs,
            omp_thread_limit: std::env::var("OMP_THREAD_LIMIT").ok(),
            files_seen: 0,
            files_unchanged: 0,
            files_done_elsewhere: 0,
            files_taken_over: 0,
            claims_lost: Vec::new(),
            documents_added: 0,
            bytes_added: 0,
            pages_ocr: 0,
            pages_text_layer: 0,
            ocr_seconds: 0.0,
            needs_rescan: 0,
            needs_rescan_documents: Vec::new(),
            rejected: Vec::new(),
            batches: Vec::new(),
            quarantined_pages: 0,
            deferred: Vec::new(),
            changed_during_read: Vec::new(),
            withdrawn: Vec::new(),
            returned: Vec::new(),
            register: None,
            catalog: None,
            interrupted: None,
        }
    }

    /// The run ends now: its end time and duration, figures rounded for the report.
    pub(super) fn close(&mut self, started: Instant) {
        self.finished_at = timefmt::now_rfc3339();
        self.duration_seconds = round3(started.elapsed().as_secs_f64());
        self.ocr_seconds = round3(self.ocr_seconds);
    }

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

    /// The one line a run ends with.
    pub fn summary_line(&self) -> String {
        let rate = if self.duration_seconds > 0.0 {
            self.pages_ocr as f64 * 60.0 / self.duration_seconds
        } else {
            0.0
        };
        format!(
            "run {}: {} files seen, {} unchanged, {} documents added, {} pages OCR'd in {:.1} s ({:.0} pages/min), {} need rescan, {} rejected, {} left for the next run",
            self.run_id,
            self.files_seen,
            self.files_unchanged,
            self.documents_added,
            self.pages_ocr,
            self.duration_seconds,
            rate,
            self.needs_rescan,
            self.rejected.len(),
            self.deferred.len()
        ) + &self.unreadable_rows_note()
    }

    /// `, N register rows unreadable` (and catalog rows) when the imports met any, so that the
    /// summary never says all went well while rows were left out of the figures.
    fn unreadable_rows_note(&self) -> String {
        let mut note = String::new();
        for (what, import) in [("register", &self.register), ("catalog", &self.catalog)] {
            let rows = import.as_ref().map_or(0, |i| i.problems.len());
            if rows > 0 {
                note.push_str(&format!(", {rows} {what} rows unreadable"));
            }
        }
        note
    }
}

/// One dossier's pages found in a batch scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchSegment {
    /// The cover sheet's code.
    pub code: String,
    /// The document these pages became.
    pub document: String,
    /// Their numbers in the batch file.
    pub pages: Vec<u32>,
}

/// Pages of a batch scan set aside, and why. They stay in the archived batch file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// Pages set aside in this batch.
    pub fn quarantined_pages(&self) -> usize {
        self.quarantined.iter().map(|q| q.pages.len()).sum()
    }
}

/// Rounds seconds to milliseconds for the report.
pub(super) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
