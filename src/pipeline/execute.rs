//! Wires the stages for the files a run reads:
//!
//! ```text
//! work list ─▶ producer thread ──(bounded page queue)──▶ OCR workers (one recognizer each)
//!              read, hash, store original,                       │
//!              decode, quality, batch split                       ▼
//!                    └──────────── events ─────────────▶ collector (this thread):
//!                                                         derivatives, index commit
//! ```
//! Pages, not files, are the unit of OCR work, so a 40-page TIFF keeps every worker busy.
//! The page queue holds two pages per worker: the producer waits for OCR, and memory stays
//! flat, and no page is queued while the process holds more than its memory limit
//! ([`super::admission`]). If the collector fails, the producer is cancelled; if the workers stop, the queue
//! closes and the producer stops.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use super::admission::{Admission, RSS_LIMIT_BYTES};
use super::collect::Collector;
use super::commit::Committer;
use super::events::{Event, PageJob, WorkItem};
use super::leases::Claimer;
use super::observer::Observer;
use super::plan::known_dossiers;
use super::produce::{Outlet, Producer};
use super::recognize::{self, Recognizer};
use super::report::RunReport;
use super::RunError;
use crate::config::Config;
use crate::index::Index;
use crate::store::Archive;

/// What the stages share for one run.
pub(super) struct Stages<'a> {
    pub config: &'a Config,
    /// OCR workers: one per recognizer.
    pub jobs: usize,
    pub archive: &'a Archive,
    pub run_id: &'a str,
    pub observer: &'a dyn Observer,
}

impl Stages<'_> {
    /// Reads, OCRs and commits every file of `work` with `recognizers`, one thread each.
    pub fn execute<R: Recognizer>(
        &self,
        index: &mut Index,
        recognizers: Vec<R>,
        work: Vec<WorkItem>,
        claims: Option<Claimer>,
        report: &mut RunReport,
    ) -> Result<(), RunError> {
        let cancel = AtomicBool::new(false);
        let (events_tx, events_rx) = mpsc::channel::<Event>();
        let (jobs_tx, jobs_rx) = mpsc::sync_channel::<PageJob>(self.jobs * 2);
        let jobs_rx = Arc::new(Mutex::new(jobs_rx));
        let items = work.iter().map(|w| w.candidate.clone()).collect();
        // Only a batch scan's cover sheets are checked against the known dossiers.
        let dossiers = match work.iter().any(|w| w.candidate.batch) {
            true => known_dossiers(index, &work)?,
            false => Default::default(),
        };
        let committer = Committer {
            archive: self.archive,
            run_id: self.run_id,
            rules: crate::decode::quality::Rules {
                min_dpi: self.config.min_dpi,
                min_confidence: self.config.min_confidence,
            },
        };
        let collector =
            Collector::new(self.archive, index, committer, items, report, self.observer);
        std::thread::scope(|scope| {
            for (i, mut recognizer) in recognizers.into_iter().enumerate() {
                let (rx, tx) = (Arc::clone(&jobs_rx), events_tx.clone());
                // Named, so that `top -H` (and the signal tests) tell OCR apart. Failing to
                // start a thread panics, as `scope.spawn` does.
                std::thread::Builder::new()
                    .name(format!("ocr-{i}"))
                    .spawn_scoped(scope, move || recognize::work(&mut recognizer, &rx, &tx))
                    .expect("an OCR thread starts");
            }
            let producer = Producer {
                archive: self.archive,
                claims,
                next_doc: work.len(),
                dossiers,
                outlet: Outlet {
                    force_ocr: self.config.force_ocr,
                    admission: Admission::new(RSS_LIMIT_BYTES),
                    jobs: jobs_tx,
                    events: events_tx.clone(),
                    cancel: &cancel,
                },
            };
            scope.spawn(move || producer.run(work));
            // Only the workers hold the page queue's receiver: if they stop, the producer
            // stops; the collector ends when the producer and the workers are gone.
            drop(jobs_rx);
            drop(events_tx);
            let result = collector.run(events_rx);
            if result.is_err() {
                cancel.store(true, Ordering::Relaxed);
            }
            result
        })
    }
}
