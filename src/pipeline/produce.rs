//! The producer: reads, hashes and stores each intake file in order, decodes it and checks
//! each page's quality, and feeds the pages to the bounded OCR queue (a PDF page with its own
//! text layer goes straight to the collector). A batch scan is split at its cover sheets on
//! the way ([`super::batch`]). A file is read as the walk listed it or not at all
//! ([`crate::intake::read`]), hashed on the way, and kept in memory only when it is small
//! enough to decode ([`decode::MAX_DECODED_FILE_BYTES`]); a larger file is streamed into the
//! store and rejected unread, so memory stays flat in the size of the intake's files. The
//! original is on disk, fsynced, before anything refers to it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Sender, SyncSender};
use std::sync::Arc;
use std::time::Duration;

use super::admission::Admission;
use super::batch::{Fate, Splitter};
use super::events::{Event, PageJob, PageResult, Planned, TextSource, WorkItem};
use super::leases::{Claimed, Claimer};
use super::plan::{add_dossier, cover_conflict, Dossiers};
use super::searchable::PageView;
use super::stop_requested;
use crate::cover;
use crate::decode::embed::Embeddable;
use crate::decode::{self, quality, Limits};
use crate::intake::read::{read_listed, Content, ReadError};
use crate::intake::Candidate;
use crate::ocr::PageText;
use crate::store::{Archive, StoreError};

/// The run is stopping (cancelled, interrupted, or the workers are gone).
pub(super) struct Stop;

pub(super) struct Producer<'a> {
    pub archive: &'a Archive,
    /// On a shared index: each file is claimed before it is read.
    pub claims: Option<Claimer>,
    pub outlet: Outlet<'a>,
    /// The next document number for a split document (after the intake's own files).
    pub next_doc: usize,
    /// Dossiers known by their procedure: a cover sheet naming one under another procedure
    /// opens nothing (see [`super::plan`]). Each document a cover sheet opens joins them.
    pub dossiers: Dossiers,
}

impl Producer<'_> {
    /// Produces every file of `work`. Files other workers hold are tried again once the rest
    /// is done, until they are archived or their holder's lease runs out.
    pub fn run(mut self, work: Vec<WorkItem>) {
        let mut pending = work;
        loop {
            let mut held = Vec::new();
            for item in pending {
                if self.outlet.stopping() {
                    return;
                }
                let item = match self.claim(item) {
                    Ok(Some(Claimed::Go(item))) => item,
                    Ok(Some(Claimed::Held(item))) => {
                        held.push(item);
                        continue;
                    }
                    Ok(_) => continue,
                    Err(Stop) => return,
                };
                if self.file(item).is_err() {
                    return;
                }
            }
            if held.is_empty() || !self.pause() {
                return;
            }
            pending = held;
        }
    }

    /// Claims `item` on a shared index (`Go` at once on an archive's own index); `None` when
    /// another worker archived it meanwhile.
    fn claim(&self, item: WorkItem) -> Result<Option<Claimed>, Stop> {
        let events = &self.outlet.events;
        let Some(claims) = &self.claims else {
            return Ok(Some(Claimed::Go(item)));
        };
        match claims.try_claim(item, events) {
            Ok(Claimed::DoneElsewhere(doc)) => {
                let _ = events.send(Event::DoneElsewhere { doc });
                Ok(None)
            }
            Ok(claimed) => Ok(Some(claimed)),
            Err(e) => {
                let _ = events.send(Event::Fatal(e.into()));
                Err(Stop)
            }
        }
    }

    /// Files held by live workers: look again shortly (a lease is renewed every third of
    /// it). False when the run is stopping meanwhile.
    fn pause(&self) -> bool {
        for _ in 0..10 {
            if self.outlet.stopping() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        true
    }

    /// One intake file: read, hash, store, then its pages to OCR (or its split, for a batch).
    /// A file too large to decode is read by streaming into the store and rejected unread.
    fn file(&mut self, item: WorkItem) -> Result<(), Stop> {
        let events = &self.outlet.events;
        let doc = item.seq;
        // Why the scratch file could not be made, kept whole (it names its path).
        let mut unmade = None;
        let scratch = || {
            self.archive.scratch("intake").map_err(|e| {
                let io = std::io::Error::other(e.to_string());
                unmade = Some(e);
                io
            })
        };
        let listed = match read_listed(&item.candidate, decode::MAX_DECODED_FILE_BYTES, scratch) {
            Ok(listed) => listed,
            Err(ReadError::Spill(source)) => {
                let e = unmade.unwrap_or_else(|| StoreError::Io {
                    path: self.archive.tmp_dir(),
                    source,
                });
                let _ = events.send(Event::Fatal(e.into()));
                return Err(Stop);
            }
            Err(e @ ReadError::Changed(_)) => {
                let reason = e.to_string();
                let _ = events.send(Event::Changed { doc, reason });
                return Ok(());
            }
            Err(e) => {
                let reason = e.to_string();
                let _ = events.send(Event::Unreadable { doc, reason });
                return Ok(());
            }
        };
        let sha256 = listed.sha256;
        if item.previous_sha256.as_deref() == Some(sha256.as_str()) {
            let _ = events.send(Event::Unchanged { doc, sha256 });
            return Ok(());
        }
        let (stored, bytes) = match listed.content {
            Content::Memory(bytes) => (self.archive.put_object_with_hash(&bytes, &sha256), bytes),
            Content::Spilled(scratch) => (self.archive.put_scratch(scratch, &sha256), Vec::new()),
        };
        if let Err(e) = stored {
            let _ = events.send(Event::Fatal(e.into()));
            return Err(Stop);
        }
        if item.candidate.bytes > decode::MAX_DECODED_FILE_BYTES {
            return self.too_large(&item.candidate, doc, &listed.head, sha256);
        }
        if item.candidate.batch {
            return self.batch(&item.candidate, doc, &bytes, sha256);
        }
        let source: Arc<str> = Arc::from(item.candidate.rel_path.as_str());
        let planned = self.document(doc, &source, &bytes, sha256)?;
        let _ = events.send(Event::Planned { doc, planned });
        Ok(())
    }

    /// A file too large to decode, archived as it is: a document (or a batch scan) rejected
    /// with the reason, none of its pages read.
    fn too_large(
        &self,
        candidate: &Candidate,
        doc: usize,
        head: &[u8],
        sha256: String,
    ) -> Result<(), Stop> {
        let reason = decode::DecodeError::FileTooLarge {
            bytes: candidate.bytes,
            limit: decode::MAX_DECODED_FILE_BYTES,
        }
        .to_string();
        let events = &self.outlet.events;
        let event = if candidate.batch {
            Event::BatchSplit {
                doc,
                report: Splitter::new(&candidate.rel_path, &sha256).finish(),
                rejected: Some(reason),
            }
        } else {
            let planned = Planned {
                sha256,
                media_type: decode::sniff(head).map(|f| f.media_type()),
                pages: 0,
                rejected: Some(reason),
                failed_pages: Vec::new(),
            };
            Event::Planned { doc, planned }
        };
        events.send(event).map_err(|_| Stop)
    }

    /// Decodes a document's pages and sends them on. A page that cannot be decoded is a failed
    /// page (its number and reason, listed for rescan) and the pages after it are still read;
    /// the document is rejected only when no page could be read at all. Pages keep their
    /// number in the file.
    fn document(
        &self,
        doc: usize,
        source: &Arc<str>,
        bytes: &[u8],
        sha256: String,
    ) -> Result<Planned, Stop> {
        let mut planned = Planned {
            sha256,
            media_type: None,
            pages: 0,
            rejected: None,
            failed_pages: Vec::new(),
        };
        let pages = match decode::pages(bytes, Limits::default()) {
            Ok((format, pages)) => {
                planned.media_type = Some(format.media_type());
                pages
            }
            Err(e) => {
                planned.rejected = Some(e.to_string());
                return Ok(planned);
            }
        };
        let original = decode::embed::embeddable(bytes).map(Arc::new);
        // A cut-off JPEG or PNG decodes to filler past the cut: its page is "truncated".
        let truncated = quality::ends_early(bytes);
        // Pages that could not be read: their number, why, and how a rescan list says it.
        let mut failures: Vec<(u32, String, String)> = Vec::new();
        for (i, page) in pages.enumerate() {
            let number = i as u32 + 1;
            let page = match page {
                Ok(page) => page,
                Err(e) => {
                    let line = format!("page {number} cannot be decoded: {e}");
                    failures.push((number, e.to_string(), line));
                    continue;
                }
            };
            if !self.outlet.send_page(
                (doc, source),
                number,
                page,
                None,
                original.clone(),
                truncated,
            )? {
                let why = "no scanned image and no text";
                failures.push((number, why.into(), format!("page {number} has {why}")));
                continue;
            }
            planned.pages += 1;
        }
        if planned.pages == 0 {
            // Nothing reads: the document is rejected with its first page's reason.
            planned.rejected = failures.first().map(|(n, e, _)| match n {
                1 => e.clone(),
                n => format!("page {n}: {e}"),
            });
        } else {
            planned.failed_pages = failures.into_iter().map(|(_, _, line)| line).collect();
        }
        Ok(planned)
    }

    /// Splits a batch scan at its cover sheets, sending each segment's pages as a document
    /// of its own, then the split.
    fn batch(
        &mut self,
        batch: &Candidate,
        batch_doc: usize,
        bytes: &[u8],
        sha256: String,
    ) -> Result<(), Stop> {
        let mut split = BatchSplit {
            splitter: Splitter::new(&batch.rel_path, &sha256),
            planned: Planned {
                sha256,
                media_type: decode::sniff(bytes).map(|f| f.media_type()),
                pages: 0,
                rejected: None,
                failed_pages: Vec::new(),
            },
            open: None,
        };
        let mut rejected = None;
        match decode::pages(bytes, Limits::default()) {
            Err(e) => rejected = Some(e.to_string()),
            Ok((_, pages)) => {
                for (i, page) in pages.enumerate() {
                    let n = i as u32 + 1;
                    let page = page.map_err(|e| e.to_string());
                    self.batch_page(&mut split, batch, batch_doc, n, page)?;
                }
            }
        }
        split.close(&self.outlet.events)?;
        let report = split.splitter.finish();
        self.outlet
            .events
            .send(Event::BatchSplit {
                doc: batch_doc,
                report,
                rejected,
            })
            .map_err(|_| Stop)
    }

    /// Page `n` of a batch scan: a cover sheet, set aside, or a page of a dossier's document.
    /// A page that cannot be decoded (`Err` with the reason) is a failed page of the document
    /// it falls in, or quarantined when it falls in none; the pages after it are read.
    fn batch_page(
        &mut self,
        split: &mut BatchSplit,
        batch: &Candidate,
        batch_doc: usize,
        n: u32,
        page: Result<decode::Page, String>,
    ) -> Result<(), Stop> {
        let step = match &page {
            Ok(page) if page.image.width() == 0 => split.splitter.page(n, cover::Reading::Page),
            Ok(page) => {
                let reading = cover::read(&page.image);
                let refusal = match &reading {
                    cover::Reading::Cover(c) => {
                        cover_conflict(&self.dossiers, &c.dossier, &c.procedure)
                    }
                    _ => None,
                };
                match refusal {
                    Some(reason) => split.splitter.refused(n, reason),
                    None => split.splitter.page(n, reading),
                }
            }
            Err(reason) => split.splitter.failed(n, reason),
        };
        if step.close {
            split.close(&self.outlet.events)?;
        }
        match step.fate {
            Fate::SetAside => return Ok(()),
            Fate::Continues => {}
            Fate::Opens { path, placement } => {
                add_dossier(&mut self.dossiers, &placement.dossier, &placement.procedure);
                let doc = self.next_doc;
                self.next_doc += 1;
                let candidate = Candidate {
                    rel_path: path,
                    abs_path: batch.abs_path.clone(),
                    placement,
                    bytes: batch.bytes,
                    mtime_ns: batch.mtime_ns,
                    batch: false,
                };
                let segment = Event::Segment {
                    doc,
                    candidate,
                    batch: batch_doc,
                };
                self.outlet.events.send(segment).map_err(|_| Stop)?;
                split.open = Some(OpenSegment::new(doc));
            }
        }
        // Tesseract's messages name the batch file and its page number.
        let source: Arc<str> = Arc::from(batch.rel_path.as_str());
        let Some(open) = split.open.as_mut() else {
            return Err(Stop);
        };
        open.next += 1;
        let number = open.next;
        let page = match page {
            Ok(page) => page,
            Err(reason) => {
                open.failed.push(format!(
                    "page {number} (page {n} of the batch) cannot be decoded: {reason}"
                ));
                return Ok(());
            }
        };
        if self
            .outlet
            .send_page((open.doc, &source), number, page, Some(n), None, false)?
        {
            open.sent += 1;
            split.splitter.taken(n);
        } else {
            open.next -= 1;
            split.splitter.empty(n);
        }
        Ok(())
    }
}

/// A batch scan being split: the splitter, and the document open.
struct BatchSplit {
    splitter: Splitter,
    /// What every split document shares: the batch's hash and media type.
    planned: Planned,
    open: Option<OpenSegment>,
}

/// The document of a batch scan whose pages are being sent.
struct OpenSegment {
    doc: usize,
    /// The number of its last page (read or failed): pages keep their place in the document.
    next: u32,
    /// Pages sent on their way.
    sent: usize,
    /// Pages that could not be decoded, with the reason.
    failed: Vec<String>,
}

impl OpenSegment {
    fn new(doc: usize) -> OpenSegment {
        OpenSegment {
            doc,
            next: 0,
            sent: 0,
            failed: Vec::new(),
        }
    }
}

impl BatchSplit {
    /// Ends the open document: its pages are all sent. One whose every page failed is
    /// rejected with the first reason.
    fn close(&mut self, events: &Sender<Event>) -> Result<(), Stop> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let (rejected, failed_pages) = if open.sent == 0 {
            (open.failed.into_iter().next(), Vec::new())
        } else {
            (None, open.failed)
        };
        let planned = Planned {
            sha256: self.planned.sha256.clone(),
            media_type: self.planned.media_type,
            pages: open.sent,
            rejected,
            failed_pages,
        };
        events
            .send(Event::Planned {
                doc: open.doc,
                planned,
            })
            .map_err(|_| Stop)
    }
}

/// Where the producer sends pages: OCR jobs, or straight to the collector.
pub(super) struct Outlet<'a> {
    pub force_ocr: bool,
    pub admission: Arc<Admission>,
    pub jobs: SyncSender<PageJob>,
    pub events: Sender<Event>,
    pub cancel: &'a AtomicBool,
}

impl Outlet<'_> {
    fn stopping(&self) -> bool {
        self.cancel.load(Ordering::Relaxed) || stop_requested()
    }

    /// Sends page `number` of document `doc` on its way: to OCR, or, for a PDF page with its
    /// own text layer (unless OCR is forced), straight to the collector. `Ok(false)`: the page
    /// has neither an image nor text.
    /// `doc`: the document's number and the intake path being read (Tesseract's messages
    /// name it).
    fn send_page(
        &self,
        (doc, source): (usize, &Arc<str>),
        number: u32,
        page: decode::Page,
        source_page: Option<u32>,
        original: Option<Arc<Embeddable>>,
        truncated: bool,
    ) -> Result<bool, Stop> {
        let no_image = page.image.width() == 0;
        if no_image || (page.text_layer.is_some() && !self.force_ocr) {
            // A page without an image has nothing else to read, even with --force-ocr.
            let Some(result) = text_layer_page(number, page, source_page) else {
                return Ok(false);
            };
            return match self.events.send(Event::Page { doc, result }) {
                Ok(()) => Ok(true),
                Err(_) => Err(Stop),
            };
        }
        let quality = quality::PageQuality {
            truncated,
            ..quality::assess(&page.image, page.meta_dpi)
        };
        let (width, height) = page.image.dimensions();
        let (image, ocr_dpi) = crate::ocr::image_for_ocr(page.image, quality.dpi);
        let admitted = self.admission.admit(|| self.stopping())?;
        let job = PageJob {
            doc,
            source: Arc::clone(source),
            page: number,
            image,
            ocr_dpi,
            width,
            height,
            quality,
            source_page,
            original,
            admitted,
        };
        if self.jobs.send(job).is_err() || self.stopping() {
            return Err(Stop);
        }
        Ok(true)
    }
}

/// A PDF page read from its own text layer; `None` when it has no text either.
fn text_layer_page(
    number: u32,
    page: decode::Page,
    source_page: Option<u32>,
) -> Option<PageResult> {
    let text = page.text_layer?;
    let no_image = page.image.width() == 0;
    let quality = if no_image {
        quality::not_scanned()
    } else {
        quality::assess(&page.image, page.meta_dpi)
    };
    let view = (!no_image).then(|| PageView::of(&page.image, quality.dpi.max(1)));
    Some(PageResult {
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
        text_source: TextSource::TextLayer,
        turned: 0,
        deskewed: 0.0,
        view,
        source_page,
    })
}
