//! What a run tells the outside while it works. The library prints nothing: it reports events
//! to an [`Observer`], and the binary shows them (bars on a terminal, plain lines for cron).
//! Tests count them. Events never carry OCR text, register fields or barcode payloads.

use std::fmt;
use std::path::Path;

use super::report::RunReport;

/// Receives a run's events. Every method has an empty default: an observer implements what
/// it shows. Called from the run's threads, hence `Sync`.
pub trait Observer: Sync {
    /// The work list is known: `files` intake files will be read this run.
    fn planned(&self, _files: usize) {}
    /// A document's pages are known: `pages` more to read.
    fn pages_planned(&self, _pages: usize) {}
    /// A page was read (by OCR or from its text layer).
    fn page_done(&self) {}
    /// An intake file is done with (committed, unchanged, rejected, or split).
    fn file_done(&self) {}
    /// Every file of a dossier read this run is done with.
    fn dossier_done(&self, _dossier: &DossierDone<'_>) {}
    /// Something a person should read: a rejection, a quarantine, a warning.
    fn notice(&self, _notice: &Notice<'_>) {}
    /// The run is over (its report is final and recorded).
    fn finished(&self, _report: &RunReport) {}
}

/// An observer that shows nothing.
pub struct Silent;

impl Observer for Silent {}

/// What this run did for one dossier.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DossierStats {
    pub documents: usize,
    pub pages: usize,
    pub needs_rescan: usize,
    pub rejected: usize,
}

/// A dossier whose files this run has all done with.
#[derive(Debug)]
pub struct DossierDone<'a> {
    pub procedure: &'a str,
    pub dossier: &'a str,
    pub stats: &'a DossierStats,
}

impl fmt::Display for DossierDone<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.stats;
        write!(
            f,
            "dossier {} ({}): {} documents added, {} pages, {} need rescan, {} rejected",
            self.dossier, self.procedure, s.documents, s.pages, s.needs_rescan, s.rejected
        )
    }
}

/// A message for the person running the batch. `Display` gives the log line.
#[derive(Debug)]
pub enum Notice<'a> {
    /// An input that cannot become (a good) document, and why.
    Rejected { path: &'a str, reason: &'a str },
    /// An input left for the next run, and why.
    Deferred { path: &'a str, reason: &'a str },
    /// A register or catalog row that cannot be read.
    ImportProblem {
        what: &'a str,
        path: &'a Path,
        line: usize,
        reason: &'a str,
    },
    /// Pages of a batch scan set aside.
    Quarantined {
        path: &'a str,
        pages: &'a [u32],
        reason: &'a str,
    },
    /// How a batch scan was split.
    BatchSplit {
        path: &'a str,
        pages: u32,
        documents: usize,
        quarantined: usize,
    },
    /// A signal stopped the run early.
    Interrupted,
    /// Something went wrong that does not stop the run.
    Warning(String),
}

impl fmt::Display for Notice<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::Rejected { path, reason } => write!(f, "rejected {path}: {reason}"),
            Notice::Deferred { path, reason } => write!(f, "deferred {path}: {reason}"),
            Notice::ImportProblem {
                what,
                path,
                line,
                reason,
            } => write!(f, "{what} {} line {line}: {reason}", path.display()),
            Notice::Quarantined {
                path,
                pages,
                reason,
            } => {
                let pages: Vec<String> = pages.iter().map(u32::to_string).collect();
                write!(f, "quarantined {path} page {}: {reason}", pages.join(", "))
            }
            Notice::BatchSplit {
                path,
                pages,
                documents,
                quarantined,
            } => write!(
                f,
                "batch {path}: {pages} pages, {documents} dossier documents, {quarantined} quarantined"
            ),
            Notice::Interrupted => f.write_str(
                "stopped by a signal: documents committed so far are whole; the next run reads the rest",
            ),
            Notice::Warning(text) => write!(f, "dossier: warning: {text}"),
        }
    }
}
