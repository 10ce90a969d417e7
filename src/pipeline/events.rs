//! What the stages send each other: the producer's page jobs to the OCR workers, and every
//! stage's events to the collector. Errors travel as values (`Event::Fatal`), never panics.

use std::sync::Arc;

use image::GrayImage;

use super::admission::Admitted;
use super::report::BatchReport;
use super::searchable::PageView;
use super::RunError;
use crate::decode::embed::Embeddable;
use crate::decode::quality::PageQuality;
use crate::intake::Candidate;
use crate::ocr::{OcrError, PageText};

/// One intake file to read this run. `seq` numbers it; documents split out of batch scans
/// are numbered after the intake's own files.
pub(super) struct WorkItem {
    pub seq: usize,
    pub candidate: Candidate,
    /// Content of the latest archived version of this path, if any.
    pub previous_sha256: Option<String>,
}

/// A page on its way to OCR.
pub(super) struct PageJob {
    pub doc: usize,
    /// The intake path being read: Tesseract's own messages name it (`ocr::messages`).
    pub source: Arc<str>,
    pub page: u32,
    /// The page as OCR sees it (downsampled above 400 dpi) and its resolution.
    pub image: GrayImage,
    pub ocr_dpi: u32,
    /// The page as scanned.
    pub width: u32,
    pub height: u32,
    pub quality: PageQuality,
    /// Its number in the batch scan it was split out of.
    pub source_page: Option<u32>,
    /// The original image, when a PDF can carry it as it is.
    pub original: Option<Arc<Embeddable>>,
    /// Its place among the pages in flight, given back once it is read.
    pub admitted: Admitted,
}

/// Where a page's text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TextSource {
    Ocr,
    /// The PDF page's own text layer.
    TextLayer,
}

impl TextSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TextSource::Ocr => "ocr",
            TextSource::TextLayer => "text_layer",
        }
    }
}

/// A page as read.
pub(super) struct PageResult {
    pub page: u32,
    pub width: u32,
    pub height: u32,
    pub quality: PageQuality,
    pub ocr: Result<PageText, OcrError>,
    pub seconds: f64,
    pub text_source: TextSource,
    pub turned: u32,
    pub deskewed: f32,
    /// The page as read, compressed, for the searchable PDF.
    pub view: Option<PageView>,
    pub source_page: Option<u32>,
}

/// A file read and decoded by the producer: its stored hash and what became of its pages.
pub(super) struct Planned {
    pub sha256: String,
    pub media_type: Option<&'static str>,
    /// Pages sent on their way (to OCR or straight to the collector).
    pub pages: usize,
    /// Why the document is rejected, when it is.
    pub rejected: Option<String>,
    /// Pages that could not be decoded ("page N cannot be decoded: why"): the other pages are
    /// read, and the document needs a rescan of these.
    pub failed_pages: Vec<String>,
}

pub(super) enum Event {
    /// The producer finished a file: how many pages follow.
    Planned {
        doc: usize,
        planned: Planned,
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
    /// Changed while it was read (still being written): left for the next run.
    Changed {
        doc: usize,
        reason: String,
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
