//! The collector: the one thread that owns the index during a run. It gathers each
//! document's pages as the workers finish them (in any order), commits each document once it
//! is whole, records each batch scan once every document split out of it is committed, and
//! keeps the run report and the per-dossier counts. A method per event.

use std::collections::HashMap;
use std::sync::mpsc::Receiver;

use super::commit::{Assembly, Committed, Committer};
use super::events::{Event, PageResult, Planned, TextSource};
use super::observer::{DossierDone, DossierStats, Notice, Observer};
use super::report::{BatchReport, RunReport};
use super::RunError;
use crate::index::{Index, KnownFile, NewBatch};
use crate::intake::{Candidate, Rejection};
use crate::store::Archive;
use crate::timefmt;

/// A batch scan while the documents split out of it are committed.
#[derive(Default)]
struct PendingBatch {
    /// Split documents not yet committed.
    uncommitted: usize,
    /// The split, once the batch was read to its end, and why it was rejected, if it was.
    split: Option<(BatchReport, Option<String>)>,
}

pub(super) struct Collector<'a> {
    pub archive: &'a Archive,
    pub index: &'a mut Index,
    pub committer: Committer<'a>,
    /// Every document of the run by number: the intake's files, then split documents.
    pub items: Vec<Candidate>,
    /// Per dossier, its files (and split documents) not yet done with.
    pub remaining: HashMap<String, usize>,
    pub report: &'a mut RunReport,
    pub observer: &'a dyn Observer,
    assemblies: HashMap<usize, Assembly>,
    stats: HashMap<String, DossierStats>,
    /// Which batch each split document came from.
    batch_of: HashMap<usize, usize>,
    batches: HashMap<usize, PendingBatch>,
}

impl<'a> Collector<'a> {
    pub fn new(
        archive: &'a Archive,
        index: &'a mut Index,
        committer: Committer<'a>,
        items: Vec<Candidate>,
        report: &'a mut RunReport,
        observer: &'a dyn Observer,
    ) -> Collector<'a> {
        let mut remaining: HashMap<String, usize> = HashMap::new();
        for c in items.iter().filter(|c| !c.batch) {
            *remaining.entry(c.placement.dossier.clone()).or_default() += 1;
        }
        Collector {
            archive,
            index,
            committer,
            items,
            remaining,
            report,
            observer,
            assemblies: HashMap::new(),
            stats: HashMap::new(),
            batch_of: HashMap::new(),
            batches: HashMap::new(),
        }
    }

    /// Takes events until every sender is gone, or the first fatal error.
    pub fn run(mut self, events: Receiver<Event>) -> Result<(), RunError> {
        for event in events {
            if let Some(doc) = self.on_event(event)? {
                self.done(doc)?;
            }
        }
        Ok(())
    }

    /// Handles one event; the document it finished, if any.
    fn on_event(&mut self, event: Event) -> Result<Option<usize>, RunError> {
        match event {
            Event::Fatal(e) => Err(e),
            Event::Unreadable { doc, reason } => self.unreadable(doc, reason).map(Some),
            Event::Changed { doc, reason } => self.changed(doc, reason).map(Some),
            Event::DoneElsewhere { doc } => {
                self.report.files_done_elsewhere += 1;
                Ok(Some(doc))
            }
            Event::TakenOver => {
                self.report.files_taken_over += 1;
                Ok(None)
            }
            Event::Unchanged { doc, sha256 } => self.unchanged(doc, sha256).map(Some),
            Event::Segment {
                doc,
                candidate,
                batch,
            } => {
                self.segment(doc, candidate, batch);
                Ok(None)
            }
            Event::BatchSplit {
                doc,
                report,
                rejected,
            } => {
                self.batch_read(doc, report, rejected)?;
                Ok(None)
            }
            Event::Planned { doc, planned } => Ok(self.planned(doc, planned)),
            Event::Page { doc, result } => self.page(doc, result),
        }
    }

    fn unreadable(&mut self, doc: usize, reason: String) -> Result<usize, RunError> {
        let path = &self.items[doc].rel_path;
        self.index.release(path, self.committer.run_id)?;
        self.observer.notice(&Notice::Rejected {
            path,
            reason: &reason,
        });
        self.report.rejected.push(Rejection {
            path: path.clone(),
            reason,
        });
        self.stats_of(doc).rejected += 1;
        Ok(doc)
    }

    fn changed(&mut self, doc: usize, reason: String) -> Result<usize, RunError> {
        let path = &self.items[doc].rel_path;
        self.index.release(path, self.committer.run_id)?;
        self.observer.notice(&Notice::Deferred {
            path,
            reason: &reason,
        });
        self.report.deferred.push(path.clone());
        self.report.changed_during_read.push(Rejection {
            path: path.clone(),
            reason,
        });
        Ok(doc)
    }

    fn unchanged(&mut self, doc: usize, sha256: String) -> Result<usize, RunError> {
        let c = &self.items[doc];
        self.index.release(&c.rel_path, self.committer.run_id)?;
        let known = KnownFile {
            bytes: c.bytes,
            mtime_ns: c.mtime_ns,
            sha256,
        };
        self.index.touch_file(&c.rel_path, &known)?;
        self.report.files_unchanged += 1;
        Ok(doc)
    }

    fn segment(&mut self, doc: usize, candidate: Candidate, batch: usize) {
        debug_assert_eq!(doc, self.items.len(), "split documents arrive in order");
        *self
            .remaining
            .entry(candidate.placement.dossier.clone())
            .or_default() += 1;
        self.items.push(candidate);
        self.batch_of.insert(doc, batch);
        self.batches.entry(batch).or_default().uncommitted += 1;
    }

    fn batch_read(
        &mut self,
        doc: usize,
        split: BatchReport,
        rejected: Option<String>,
    ) -> Result<(), RunError> {
        let pending = self.batches.entry(doc).or_default();
        pending.split = Some((split, rejected));
        if pending.uncommitted == 0 {
            self.finish_batch(doc)?;
        }
        Ok(())
    }

    fn planned(&mut self, doc: usize, planned: Planned) -> Option<usize> {
        self.observer.pages_planned(planned.pages);
        let a = self.assemblies.entry(doc).or_default();
        a.planned = Some(planned);
        a.is_whole().then_some(doc)
    }

    fn page(&mut self, doc: usize, mut result: PageResult) -> Result<Option<usize>, RunError> {
        match result.text_source {
            TextSource::Ocr => self.report.pages_ocr += 1,
            TextSource::TextLayer => self.report.pages_text_layer += 1,
        }
        self.report.ocr_seconds += result.seconds;
        self.observer.page_done();
        let a = self.assemblies.entry(doc).or_default();
        a.searchable.add(self.archive, &mut result)?;
        a.pages.push(result);
        Ok(a.is_whole().then_some(doc))
    }

    /// Document `doc` is done with: commits it if it was read, then counts it for its
    /// dossier and its batch.
    fn done(&mut self, doc: usize) -> Result<(), RunError> {
        let batch = self.batch_of.remove(&doc);
        if let Some(assembly) = self.assemblies.remove(&doc) {
            self.commit(doc, batch, assembly)?;
        }
        if self.items[doc].batch {
            // A batch scan that was unchanged or unreadable: no split to wait for.
            self.observer.file_done();
            return Ok(());
        }
        if batch.is_none() {
            self.observer.file_done();
        }
        self.dossier_file_done(doc);
        if let Some(batch) = batch {
            let pending = self
                .batches
                .get_mut(&batch)
                .expect("counted at its first segment");
            pending.uncommitted -= 1;
            if pending.uncommitted == 0 && pending.split.is_some() {
                self.finish_batch(batch)?;
            }
        }
        Ok(())
    }

    fn commit(
        &mut self,
        doc: usize,
        batch: Option<usize>,
        mut assembly: Assembly,
    ) -> Result<(), RunError> {
        let split = batch.is_some();
        let candidate = &self.items[doc];
        // A split document a run killed before it recorded its batch may already be in the
        // index: the same batch content under the same name is not a new version.
        let planned_sha = assembly.planned.as_ref().map(|p| p.sha256.clone());
        if split && self.index.latest_sha256(&candidate.rel_path)? == planned_sha {
            assembly.searchable.discard();
            return Ok(());
        }
        // On a shared index the file's claim must still be this run's when it commits.
        let claimed = &self.items[batch.unwrap_or(doc)].rel_path;
        let claim = self
            .index
            .location()
            .is_shared()
            .then_some(claimed.as_str());
        match self
            .committer
            .commit(self.index, candidate, !split, assembly, claim)?
        {
            Some(committed) => self.count_commit(doc, committed),
            None => self.claim_lost(claimed.clone()),
        }
        Ok(())
    }

    /// Another worker took `path` over while this run was stalled past its lease: the work
    /// done here is dropped (that worker archives the file) and the run report says so.
    fn claim_lost(&mut self, path: String) {
        if self.report.claims_lost.contains(&path) {
            return;
        }
        self.observer.notice(&Notice::Warning(format!(
            "{path}: another worker took this file over while this run was stalled past its lease; this run's reading of it is dropped"
        )));
        self.report.claims_lost.push(path);
    }

    fn count_commit(&mut self, doc: usize, committed: Committed) {
        let candidate = &self.items[doc];
        let path = candidate.rel_path.clone();
        self.report.documents_added += 1;
        self.report.bytes_added += candidate.bytes;
        let (rejected, reason) = match committed.rejected {
            Some(reason) => {
                self.observer.notice(&Notice::Rejected {
                    path: &path,
                    reason: &reason,
                });
                self.report.rejected.push(Rejection {
                    path: path.clone(),
                    reason: reason.clone(),
                });
                (true, Some(reason))
            }
            None if committed.reasons.is_empty() => (false, None),
            None => (false, Some(committed.reasons.join("; "))),
        };
        let stats = self.stats_of(doc);
        stats.documents += 1;
        stats.pages += committed.pages;
        let Some(reason) = reason else { return };
        if rejected {
            stats.rejected += 1;
        } else {
            stats.needs_rescan += 1;
        }
        self.report.needs_rescan += 1;
        self.report
            .needs_rescan_documents
            .push(Rejection { path, reason });
    }

    fn stats_of(&mut self, doc: usize) -> &mut DossierStats {
        let dossier = &self.items[doc].placement.dossier;
        self.stats.entry(dossier.clone()).or_default()
    }

    /// One more file of `doc`'s dossier is done with; when it was the last, says so.
    fn dossier_file_done(&mut self, doc: usize) {
        let placement = &self.items[doc].placement;
        let remaining = self
            .remaining
            .get_mut(&placement.dossier)
            .expect("every item's dossier is counted");
        *remaining -= 1;
        if *remaining > 0 {
            return;
        }
        let stats = self.stats.remove(&placement.dossier).unwrap_or_default();
        self.observer.dossier_done(&DossierDone {
            procedure: &placement.procedure,
            dossier: &placement.dossier,
            stats: &stats,
        });
    }

    /// Records batch scan `doc` once every document split out of it is committed.
    fn finish_batch(&mut self, doc: usize) -> Result<(), RunError> {
        let Some((split, rejected)) = self.batches.get_mut(&doc).and_then(|p| p.split.take())
        else {
            return Ok(());
        };
        let batch = &self.items[doc];
        let shared = self.index.location().is_shared();
        let recorded = self.index.add_batch(
            &NewBatch {
                path: batch.rel_path.clone(),
                sha256: split.sha256.clone(),
                bytes: batch.bytes,
                mtime_ns: batch.mtime_ns,
                run_id: self.committer.run_id.to_owned(),
                archived_at: timefmt::now_rfc3339(),
                pages: split.pages as usize,
                segments: serde_json::to_string(&split.segments).expect("plain data"),
                quarantined: serde_json::to_string(&split.quarantined).expect("plain data"),
                rejected: rejected.clone(),
            },
            shared,
        )?;
        if !recorded {
            self.claim_lost(batch.rel_path.clone());
            self.observer.file_done();
            return Ok(());
        }
        let batch = &self.items[doc];
        let path = &batch.rel_path;
        if let Some(reason) = rejected {
            self.observer.notice(&Notice::Rejected {
                path,
                reason: &reason,
            });
            self.report.rejected.push(Rejection {
                path: path.clone(),
                reason,
            });
        }
        for q in &split.quarantined {
            self.observer.notice(&Notice::Quarantined {
                path,
                pages: &q.pages,
                reason: &q.reason,
            });
        }
        let quarantined = split.quarantined_pages();
        self.report.quarantined_pages += quarantined;
        self.observer.notice(&Notice::BatchSplit {
            path,
            pages: split.pages,
            documents: split.segments.len(),
            quarantined,
        });
        self.report.batches.push(split);
        self.observer.file_done();
        Ok(())
    }
}
