//! The OCR workers: one [`Recognizer`] per worker thread, each taking pages from the one
//! bounded page queue. The product's recognizer is Tesseract ([`Engine`]); unit tests of
//! scheduling and assembly use a recognizer that returns known text.

use std::sync::mpsc::{Receiver, Sender};
use std::sync::Mutex;
use std::time::Instant;

use image::GrayImage;

use super::events::{Event, PageJob, PageResult, TextSource};
use super::searchable::PageView;
use super::stop_requested;
use crate::config::Config;
use crate::decode::quality::{BORDER_COVERED, BORDER_DEPTH};
use crate::ocr::{Engine, OcrError, PageRead};

/// Reads page images. One per worker thread, used for the whole run.
pub trait Recognizer: Send {
    /// Reads a grey page scanned (or downsampled) to `dpi`.
    fn read(&mut self, image: GrayImage, dpi: u32) -> Result<PageRead, OcrError>;
}

impl Recognizer for Engine {
    fn read(&mut self, image: GrayImage, dpi: u32) -> Result<PageRead, OcrError> {
        Engine::read(self, image, dpi)
    }
}

/// The product's recognizer for `config`: Tesseract with its languages, page corrections
/// (orientation, skew) unless the pipeline turns them off, and plainly foreign pages read
/// again with `[ocr] foreign_languages`. A stop signal cancels the page Tesseract is reading.
pub fn tesseract(config: &Config) -> Result<Engine, OcrError> {
    let engine = if config.correct_pages {
        Engine::with_corrections(&config.languages, config.tessdata.as_deref())
    } else {
        Engine::new(&config.languages, config.tessdata.as_deref())
    }?;
    Ok(engine
        .reading_foreign_pages_with(&config.foreign_languages)
        .cancel_when(stop_requested))
}

/// Loads `jobs` recognizers side by side (a Tesseract model takes 0.15–0.2 s), before any
/// work is handed out: a missing model stops the run before anything is read.
pub(super) fn load_all<R: Recognizer>(
    jobs: usize,
    load: &(dyn Fn() -> Result<R, OcrError> + Sync),
) -> Result<Vec<R>, OcrError> {
    std::thread::scope(|scope| {
        let loading: Vec<_> = (0..jobs).map(|_| scope.spawn(load)).collect();
        loading
            .into_iter()
            .map(|h| h.join().expect("loading a recognizer does not panic"))
            .collect()
    })
}

/// A worker: reads pages from the queue until it closes, sending each result to the
/// collector. After a stop signal, queued pages are dropped unread and the page being read is
/// cancelled ([`OcrError::Cancelled`], dropped the same way): their documents are not
/// committed, nor rejected, and the next run reads them again.
pub(super) fn work<R: Recognizer>(
    recognizer: &mut R,
    jobs: &Mutex<Receiver<PageJob>>,
    events: &Sender<Event>,
) {
    loop {
        let job = {
            let Ok(rx) = jobs.lock() else { return };
            match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        if stop_requested() {
            continue;
        }
        let doc = job.doc;
        let result = read_page(recognizer, job);
        if matches!(result.ocr, Err(OcrError::Cancelled)) {
            continue;
        }
        if events.send(Event::Page { doc, result }).is_err() {
            return;
        }
    }
}

fn read_page<R: Recognizer>(recognizer: &mut R, job: PageJob) -> PageResult {
    let started = Instant::now();
    let reading =
        crate::ocr::messages::reading(job.source.clone(), job.source_page.unwrap_or(job.page));
    let read = recognizer.read(job.image, job.ocr_dpi);
    drop(reading);
    let seconds = started.elapsed().as_secs_f64();
    // Read: its memory is given back, and the next page may be queued.
    drop(job.admitted);
    let mut quality = job.quality;
    if let Ok(r) = &read {
        quality.black_border = r.borders.any(BORDER_DEPTH, BORDER_COVERED);
    }
    let (ocr, turned, deskewed, view) = match read {
        Ok(r) => {
            let view = PageView::choose(
                job.original.as_ref(),
                &r.image,
                (r.turned, r.deskewed),
                job.ocr_dpi,
                ((job.width, job.height), quality.dpi),
            );
            (Ok(r.text), r.turned, r.deskewed, Some(view))
        }
        Err(e) => (Err(e), 0, 0.0, None),
    };
    PageResult {
        page: job.page,
        width: job.width,
        height: job.height,
        quality,
        ocr,
        seconds,
        text_source: TextSource::Ocr,
        turned,
        deskewed,
        view,
        source_page: job.source_page,
    }
}
