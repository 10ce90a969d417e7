//! Splitting a batch scan at its cover sheets, as a pure state machine over the pages'
//! readings (document page, cover sheet with its code, unreadable cover sheet): no decoding,
//! no threads, no I/O, so every rule is unit-tested on its own.
//!
//! Rules: each valid cover sheet opens a document of the dossier it names, holding the pages
//! up to the next cover sheet. Pages before the first cover sheet, unreadable or invalid cover
//! sheets and the pages after them, and a cover sheet with no page after it are quarantined
//! (listed with the reason; they stay in the archived batch file). A code used twice in one
//! batch names its second document `…#CODE+2`. A page carrying any other code (a copied ID
//! card's QR code) is a page like any other ([`crate::cover`] tells them apart).
//!
//! Reasons go to the run report and the index: they hold page numbers, a valid cover sheet's
//! code at most, and the rule an invalid one breaks, never what a code on a page carried.

use std::collections::HashMap;

use super::report::{BatchReport, BatchSegment, QuarantinedPages};
use crate::cover::{self, CoverCode, Reading};
use crate::intake::layout::Placement;

/// What to do with one page of the batch.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Step {
    /// The document open so far ends before this page.
    pub close: bool,
    pub fate: Fate,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Fate {
    /// A cover sheet, or a page set aside: nothing to read.
    SetAside,
    /// The first page of a new document, named `path`, placed in the layout as `placement`.
    Opens { path: String, placement: Placement },
    /// A page of the document open.
    Continues,
}

/// The split of one batch scan, page by page.
pub(super) struct Splitter {
    report: BatchReport,
    /// A document is open: pages go to it.
    open: bool,
    /// A valid cover sheet whose first page has not come yet, and the page it is on.
    pending: Option<(u32, CoverCode)>,
    /// Why a page with no open document is set aside.
    orphan_reason: String,
    /// How often each code opened a document in this batch.
    uses: HashMap<String, usize>,
}

impl Splitter {
    pub fn new(path: &str, sha256: &str) -> Splitter {
        Splitter {
            report: BatchReport {
                path: path.to_owned(),
                sha256: sha256.to_owned(),
                pages: 0,
                segments: Vec::new(),
                quarantined: Vec::new(),
            },
            open: false,
            pending: None,
            orphan_reason: "before the first cover sheet".to_owned(),
            uses: HashMap::new(),
        }
    }

    /// Page `n` (from 1) has been decoded; `reading` says what it is.
    pub fn page(&mut self, n: u32, reading: Reading) -> Step {
        self.report.pages = n;
        match reading {
            Reading::Cover(code) => {
                let close = self.cover_sheet();
                self.pending = Some((n, code));
                set_aside(close)
            }
            Reading::Invalid(error) => {
                let close = self.cover_sheet();
                self.quarantine(n, error.to_string());
                self.orphan_reason = format!("after an invalid cover sheet (page {n})");
                set_aside(close)
            }
            Reading::Unreadable => {
                let close = self.cover_sheet();
                self.quarantine(n, cover::UNREADABLE.to_owned());
                self.orphan_reason = format!("after an unreadable cover sheet (page {n})");
                set_aside(close)
            }
            Reading::Page => self.document_page(n),
        }
    }

    /// Page `n` is a valid cover sheet whose dossier cannot take documents (`reason`: known
    /// under another procedure): set aside as an invalid cover sheet is, with the pages after
    /// it, and the reason listed.
    pub fn refused(&mut self, n: u32, reason: String) -> Step {
        self.report.pages = n;
        let close = self.cover_sheet();
        self.quarantine(n, reason);
        self.orphan_reason = format!("after a refused cover sheet (page {n})");
        set_aside(close)
    }

    /// Page `n` cannot be decoded, so whether it is a cover sheet cannot be told: it is taken
    /// as a page of the document open (or about to open), which then needs a rescan of it;
    /// with no document to go to, it is quarantined with `reason`. The pages after it are read.
    pub fn failed(&mut self, n: u32, reason: &str) -> Step {
        self.report.pages = n;
        if self.open || self.pending.is_some() {
            return self.document_page(n);
        }
        self.quarantine(n, format!("page cannot be decoded: {reason}"));
        set_aside(false)
    }

    /// Page `n` went into the open document.
    pub fn taken(&mut self, n: u32) {
        if let Some(s) = self.report.segments.last_mut() {
            s.pages.push(n);
        }
    }

    /// Page `n` could not go into the open document: it has neither an image nor text.
    pub fn empty(&mut self, n: u32) {
        self.quarantine(n, "page has no image and no text".into());
    }

    /// The batch was read to its end: the split.
    pub fn finish(mut self) -> BatchReport {
        self.drop_pending();
        self.report
    }

    /// A cover sheet ends the open document; whether one was open.
    fn cover_sheet(&mut self) -> bool {
        self.drop_pending();
        std::mem::replace(&mut self.open, false)
    }

    /// A cover sheet followed directly by another (or by the end) opened nothing.
    fn drop_pending(&mut self) {
        if let Some((at, _)) = self.pending.take() {
            self.quarantine(at, "cover sheet with no pages after it".into());
        }
    }

    fn document_page(&mut self, n: u32) -> Step {
        if let Some((_, code)) = self.pending.take() {
            let text = code.text();
            let use_count = self.uses.entry(text.clone()).or_default();
            *use_count += 1;
            let suffix = if *use_count > 1 {
                format!("+{use_count}")
            } else {
                String::new()
            };
            let path = format!("{}#{text}{suffix}", self.report.path);
            self.report.segments.push(BatchSegment {
                code: text,
                document: path.clone(),
                pages: Vec::new(),
            });
            self.open = true;
            let placement = Placement {
                procedure: code.procedure,
                dossier: code.dossier,
                kind: code.kind,
                unit: None,
            };
            return Step {
                close: false,
                fate: Fate::Opens { path, placement },
            };
        }
        if self.open {
            return Step {
                close: false,
                fate: Fate::Continues,
            };
        }
        let reason = format!("page {}", self.orphan_reason);
        self.quarantine(n, reason);
        set_aside(false)
    }

    /// Sets page `n` aside; runs of pages with one reason are listed together.
    fn quarantine(&mut self, page: u32, reason: String) {
        if let Some(last) = self.report.quarantined.last_mut() {
            if last.reason == reason && last.pages.last() == Some(&(page - 1)) {
                last.pages.push(page);
                return;
            }
        }
        self.report.quarantined.push(QuarantinedPages {
            pages: vec![page],
            reason,
        });
    }
}

fn set_aside(close: bool) -> Step {
    Step {
        close,
        fate: Fate::SetAside,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a page carrying a code with `payload` reads as.
    fn code(payload: &str) -> Reading {
        cover::classify(payload)
    }

    /// Feeds readings; every document page is taken. The split and each page's fate, with
    /// `C` marking a page that closed the open document.
    fn split(readings: Vec<Reading>) -> (BatchReport, Vec<String>) {
        let mut s = Splitter::new("_batch/scan.tif", "abc");
        let mut fates = Vec::new();
        for (i, r) in readings.into_iter().enumerate() {
            let n = i as u32 + 1;
            let step = s.page(n, r);
            let mut fate = match &step.fate {
                Fate::SetAside => "aside".to_owned(),
                Fate::Opens { path, .. } => format!("opens {path}"),
                Fate::Continues => "continues".to_owned(),
            };
            if step.close {
                fate.insert_str(0, "C ");
            }
            if step.fate != Fate::SetAside {
                s.taken(n);
            }
            fates.push(fate);
        }
        (s.finish(), fates)
    }

    #[test]
    fn each_cover_sheet_opens_a_document_of_the_pages_after_it() {
        let (report, fates) = split(vec![
            code("1.001193/H50-0001"),
            Reading::Page,
            Reading::Page,
            code("1.001193/H50-0002/result"),
            Reading::Page,
        ]);
        assert_eq!(
            fates,
            [
                "aside",
                "opens _batch/scan.tif#1.001193/H50-0001",
                "continues",
                "C aside",
                "opens _batch/scan.tif#1.001193/H50-0002/result",
            ]
        );
        assert_eq!(report.pages, 5);
        assert_eq!(report.segments.len(), 2);
        assert_eq!(report.segments[0].pages, [2, 3]);
        assert_eq!(report.segments[1].pages, [5]);
        assert_eq!(report.segments[1].code, "1.001193/H50-0002/result");
        assert!(report.quarantined.is_empty());
    }

    #[test]
    fn a_refused_cover_sheet_sets_its_pages_aside_and_closes_the_open_document() {
        let mut s = Splitter::new("_batch/b.pdf", "abc");
        s.page(1, code("1.001193/H50-0001"));
        assert!(matches!(s.page(2, Reading::Page).fate, Fate::Opens { .. }));
        let step = s.refused(3, "under procedure 1.001193 and 2.000720".into());
        assert_eq!(step, set_aside(true));
        assert_eq!(s.page(4, Reading::Page), set_aside(false));
        s.page(5, code("1.001193/H50-0002"));
        assert!(matches!(s.page(6, Reading::Page).fate, Fate::Opens { .. }));
        let report = s.finish();
        assert_eq!(report.segments.len(), 2);
        assert_eq!(report.quarantined.len(), 2);
        assert_eq!(report.quarantined[0].pages, [3]);
        assert_eq!(
            report.quarantined[0].reason,
            "under procedure 1.001193 and 2.000720"
        );
        assert_eq!(report.quarantined[1].pages, [4]);
        assert_eq!(
            report.quarantined[1].reason,
            "page after a refused cover sheet (page 3)"
        );
    }

    #[test]
    fn the_placement_comes_from_the_cover_sheet() {
        let mut s = Splitter::new("_batch/b.pdf", "abc");
        s.page(1, code("2.000720/X-1/result"));
        let step = s.page(2, Reading::Page);
        let Fate::Opens { placement, .. } = step.fate else {
            panic!("a page after a cover sheet opens a document: {step:?}")
        };
        assert_eq!(placement.procedure, "2.000720");
        assert_eq!(placement.dossier, "X-1");
        assert_eq!(placement.kind, crate::intake::layout::Kind::Result);
        assert_eq!(placement.unit, None);
    }

    #[test]
    fn pages_before_the_first_cover_sheet_are_quarantined_as_one_run() {
        let (report, fates) = split(vec![
            Reading::Page,
            Reading::Page,
            code("1.001193/A"),
            Reading::Page,
        ]);
        assert_eq!(fates[..3], ["aside", "aside", "aside"]);
        assert_eq!(
            report.quarantined,
            [QuarantinedPages {
                pages: vec![1, 2],
                reason: "page before the first cover sheet".into()
            }]
        );
        assert_eq!(report.segments[0].pages, [4]);
    }

    #[test]
    fn an_unreadable_cover_sheet_quarantines_it_and_the_pages_after_it() {
        let (report, fates) = split(vec![
            code("1.001193/A"),
            Reading::Page,
            Reading::Unreadable,
            Reading::Page,
            Reading::Page,
        ]);
        assert_eq!(fates[2], "C aside", "the unreadable sheet ends document A");
        assert_eq!(report.segments.len(), 1);
        assert_eq!(
            report.quarantined,
            [
                QuarantinedPages {
                    pages: vec![3],
                    reason: "cover sheet found but its code cannot be read".into()
                },
                QuarantinedPages {
                    pages: vec![4, 5],
                    reason: "page after an unreadable cover sheet (page 3)".into()
                }
            ]
        );
    }

    #[test]
    fn an_invalid_code_is_quarantined_with_the_rule_it_breaks_not_its_text() {
        let (report, _) = split(vec![
            code("TBHS1:1.001193/000.00.01.H50-240115-0001"),
            Reading::Page,
            code("TBHS1:1.001193/../SECRET"),
            Reading::Page,
        ]);
        assert_eq!(report.segments.len(), 1);
        assert_eq!(report.segments[0].pages, [2]);
        let reasons: Vec<(&[u32], &str)> = report
            .quarantined
            .iter()
            .map(|q| (q.pages.as_slice(), q.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            [
                (
                    &[3][..],
                    "cover sheet code: last part is not input or result"
                ),
                (&[4][..], "page after an invalid cover sheet (page 3)")
            ]
        );
    }

    #[test]
    fn a_page_with_an_id_cards_qr_code_stays_in_its_document() {
        use crate::cover::tests::{CCCD, CCCD_ID};
        let (report, fates) = split(vec![
            code("TBHS1:1.001193/A"),
            Reading::Page,
            code(CCCD),
            Reading::Page,
            code("1.001193/B"),
            code(CCCD),
        ]);
        assert_eq!(
            fates,
            [
                "aside",
                "opens _batch/scan.tif#1.001193/A",
                "continues",
                "continues",
                "C aside",
                "opens _batch/scan.tif#1.001193/B",
            ]
        );
        assert_eq!(report.segments[0].pages, [2, 3, 4]);
        assert_eq!(report.segments[1].pages, [6]);
        assert!(report.quarantined.is_empty());
        let text = format!("{report:?}");
        assert!(!text.contains(CCCD_ID), "{text}");
    }

    #[test]
    fn a_cover_sheet_with_no_page_after_it_is_quarantined() {
        let (report, _) = split(vec![
            code("1.001193/A"),
            code("1.001193/B"),
            Reading::Page,
            code("1.001193/C"),
        ]);
        let reasons: Vec<(&[u32], &str)> = report
            .quarantined
            .iter()
            .map(|q| (q.pages.as_slice(), q.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            [
                (&[1][..], "cover sheet with no pages after it"),
                (&[4][..], "cover sheet with no pages after it")
            ]
        );
        assert_eq!(report.segments.len(), 1);
        assert_eq!(report.segments[0].code, "1.001193/B");
    }

    #[test]
    fn a_code_used_twice_names_its_second_document_apart() {
        let (report, fates) = split(vec![
            code("1.001193/A"),
            Reading::Page,
            code("1.001193/A"),
            Reading::Page,
        ]);
        assert_eq!(fates[3], "opens _batch/scan.tif#1.001193/A+2");
        assert_eq!(report.segments[1].document, "_batch/scan.tif#1.001193/A+2");
    }

    #[test]
    fn a_page_that_cannot_be_decoded_goes_to_its_document_or_is_quarantined_alone() {
        let mut s = Splitter::new("_batch/b.tif", "abc");
        let orphan = s.failed(1, "broken strip");
        assert_eq!(orphan.fate, Fate::SetAside);
        s.page(2, code("1.001193/A"));
        let first = s.failed(3, "broken strip");
        assert!(
            matches!(first.fate, Fate::Opens { ref path, .. } if path.ends_with("#1.001193/A")),
            "{first:?}"
        );
        assert_eq!(s.page(4, Reading::Page).fate, Fate::Continues);
        s.taken(4);
        assert_eq!(s.failed(5, "x").fate, Fate::Continues);
        assert_eq!(s.page(6, Reading::Page).fate, Fate::Continues);
        s.taken(6);
        let report = s.finish();
        assert_eq!(report.pages, 6);
        assert_eq!(report.segments.len(), 1);
        assert_eq!(report.segments[0].pages, [4, 6]);
        assert_eq!(
            report.quarantined,
            [QuarantinedPages {
                pages: vec![1],
                reason: "page cannot be decoded: broken strip".into()
            }]
        );
    }

    #[test]
    fn an_empty_page_is_quarantined_and_not_counted_in_its_segment() {
        let mut s = Splitter::new("_batch/b.pdf", "abc");
        s.page(1, code("1.001193/A"));
        s.page(2, Reading::Page);
        s.taken(2);
        s.page(3, Reading::Page);
        s.empty(3);
        let report = s.finish();
        assert_eq!(report.segments[0].pages, [2]);
        assert_eq!(report.quarantined[0].pages, [3]);
        assert_eq!(
            report.quarantined[0].reason,
            "page has no image and no text"
        );
    }
}
