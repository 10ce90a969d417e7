//! Committing a document once all its pages are read: its derivatives (text, hOCR, the
//! searchable PDF) are stored as objects first, then the document, its pages and its full
//! text go into the index in one transaction. A crash before the transaction leaves only
//! unreferenced objects; after it, the document is whole.

use super::events::{PageResult, Planned, TextSource};
use super::report::round3;
use super::searchable::SearchablePdf;
use super::RunError;
use crate::decode::quality::{legibility, Rules};
use crate::index::{Index, NewDocument, NewPage};
use crate::intake::Candidate;
use crate::store::Archive;
use crate::timefmt;

/// A document while its pages arrive.
#[derive(Default)]
pub(super) struct Assembly {
    /// Known once the producer has sent every page.
    pub planned: Option<Planned>,
    pub pages: Vec<PageResult>,
    pub searchable: SearchablePdf,
}

impl Assembly {
    /// Every page the producer sent has been read.
    pub fn is_whole(&self) -> bool {
        matches!(&self.planned, Some(p) if self.pages.len() == p.pages)
    }
}

/// What a commit recorded, for the run report.
pub(super) struct Committed {
    pub pages: usize,
    /// Why the document cannot be read (it is archived all the same).
    pub rejected: Option<String>,
    /// Why it fails quality; empty when it passes.
    pub reasons: Vec<String>,
}

/// Commits whole documents of one run.
pub(super) struct Committer<'a> {
    pub archive: &'a Archive,
    pub run_id: &'a str,
    pub rules: Rules,
}

impl Committer<'_> {
    /// Stores `assembly`'s derivatives and records it as the next version of `candidate`.
    /// `intake_file` is false for a document split out of a batch scan. On a shared index
    /// `claim` names the intake file whose claim the run must still hold: `None` when it lost
    /// it (another worker took the file over while this one was stalled), nothing recorded
    /// (the objects stored are left unreferenced, as after a crash).
    pub fn commit(
        &self,
        index: &mut Index,
        candidate: &Candidate,
        intake_file: bool,
        mut assembly: Assembly,
        claim: Option<&str>,
    ) -> Result<Option<Committed>, RunError> {
        let planned = assembly
            .planned
            .take()
            .expect("only whole documents are committed");
        let searchable_pdf = self.searchable_pdf(&planned, &mut assembly)?;
        let mut pages = assembly.pages;
        pages.sort_by_key(|p| p.page);
        let single_page = pages.len() == 1;
        let mut rejected = planned.rejected;
        let mut reasons = planned.failed_pages;
        let mut new_pages = Vec::with_capacity(pages.len());
        for p in pages {
            let prefix = if single_page {
                String::new()
            } else {
                format!("page {}: ", p.page)
            };
            let mut page_reasons = p.quality.reasons(&self.rules);
            if let (Ok(t), TextSource::Ocr) = (&p.ocr, p.text_source) {
                page_reasons.extend(legibility(Some(t.confidence), &t.text, &self.rules));
            }
            reasons.extend(page_reasons.into_iter().map(|r| format!("{prefix}{r}")));
            let (page, failure) = self.page(p)?;
            if let Some(e) = failure {
                rejected.get_or_insert_with(|| format!("{prefix}OCR failed: {e}"));
            }
            new_pages.push(page);
        }
        let doc = NewDocument {
            path: candidate.rel_path.clone(),
            procedure: candidate.placement.procedure.clone(),
            dossier: candidate.placement.dossier.clone(),
            unit: candidate.placement.unit.clone(),
            kind: candidate.placement.kind,
            sha256: planned.sha256,
            bytes: candidate.bytes,
            mtime_ns: candidate.mtime_ns,
            media_type: planned.media_type,
            archived_at: timefmt::now_rfc3339(),
            run_id: self.run_id.to_owned(),
            rejected: rejected.clone(),
            reasons: reasons.clone(),
            pages: new_pages,
            searchable_pdf,
            intake_file,
        };
        let Some(committed) = index.add_claimed_document(&doc, claim)? else {
            return Ok(None);
        };
        // The record after the rows it vouches for: a crash between leaves it to the next
        // run, which writes it again from the rows (see `session`).
        self.archive
            .put_object_with_hash(&committed.record, &committed.record_sha256)?;
        Ok(Some(Committed {
            pages: doc.pages.len(),
            rejected,
            reasons,
        }))
    }

    /// The searchable PDF's object. A PDF read wholly from its own text layer is its own
    /// searchable copy.
    fn searchable_pdf(
        &self,
        planned: &Planned,
        assembly: &mut Assembly,
    ) -> Result<Option<String>, RunError> {
        let own_layer = planned.media_type == Some("application/pdf")
            && !assembly.pages.is_empty()
            && assembly
                .pages
                .iter()
                .all(|p| p.text_source == TextSource::TextLayer);
        if own_layer {
            assembly.searchable.discard();
            Ok(Some(planned.sha256.clone()))
        } else {
            assembly.searchable.store(self.archive)
        }
    }

    /// A page's index row, its text and hOCR stored as objects so verify can check them too;
    /// the OCR error when the page could not be read.
    fn page(&self, p: PageResult) -> Result<(NewPage, Option<crate::ocr::OcrError>), RunError> {
        let (text, confidence, text_sha256, hocr_sha256, failure) = match p.ocr {
            Ok(t) if p.text_source == TextSource::TextLayer => {
                let (text_sha, _) = self.archive.put_object(t.text.as_bytes())?;
                (t.text, None, Some(text_sha), None, None)
            }
            Ok(t) => {
                let (text_sha, _) = self.archive.put_object(t.text.as_bytes())?;
                let (hocr_sha, _) = self.archive.put_object(t.hocr.as_bytes())?;
                let confidence = Some(t.confidence);
                (t.text, confidence, Some(text_sha), Some(hocr_sha), None)
            }
            Err(e) => (String::new(), None, None, None, Some(e)),
        };
        let page = NewPage {
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
            ocr_seconds: (p.text_source == TextSource::Ocr).then(|| round3(p.seconds)),
            text_source: p.text_source.as_str(),
            turned: p.turned,
            deskewed: p.deskewed,
            source_page: p.source_page,
        };
        Ok((page, failure))
    }
}
