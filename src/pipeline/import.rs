//! The register and catalog imports at the end of a run. The file is kept in the archive as
//! evidence of what the figures were computed from; its unreadable rows are reported (and
//! make the run exit 3); an unreadable file is a rejected input, while the batch's work
//! stands. An archive failure is fatal.

use std::path::Path;

use super::observer::{Notice, Observer};
use super::report::{ImportSummary, RunReport};
use super::RunError;
use crate::config::Config;
use crate::index::{EncodedRecord, Index, IndexError};
use crate::intake::Rejection;
use crate::register::{read_catalog, read_register_rows, Problem, RegisterError};
use crate::store::Archive;

/// Imports the pipeline's register and catalog, when it names them.
pub(super) fn import_all(
    config: &Config,
    importer: &mut Importer<'_>,
    report: &mut RunReport,
) -> Result<(), RunError> {
    if let Some(path) = &config.register {
        report.register = importer.import(
            "register",
            path,
            &mut report.rejected,
            read_register_rows,
            |index, rows, run, source, sha, problems| {
                index.replace_register(rows, run, source, sha, problems)
            },
        )?;
    }
    if let Some(path) = &config.catalog {
        report.catalog = importer.import(
            "catalog",
            path,
            &mut report.rejected,
            read_catalog,
            |index, rows, run, source, sha, problems| {
                index.import_catalog(rows, run, source, sha, problems)
            },
        )?;
    }
    Ok(())
}

pub(super) struct Importer<'a> {
    pub archive: &'a Archive,
    pub index: &'a mut Index,
    pub run_id: &'a str,
    pub observer: &'a dyn Observer,
}

/// Parses a register or catalog file: its rows and the rows it could not read.
type Read<R> = fn(&Path) -> Result<(Vec<R>, Vec<Problem>), RegisterError>;

/// Stores parsed rows in the index (rows, run id, source, file hash, number of problems);
/// the import's evidence record.
type Store<R> = fn(&mut Index, &[R], &str, &str, &str, usize) -> Result<EncodedRecord, IndexError>;

impl Importer<'_> {
    /// Reads a register or catalog (`what`) and stores its readable rows; `None` when the
    /// file itself cannot be read (then it is in `rejected`).
    fn import<R>(
        &mut self,
        what: &str,
        path: &Path,
        rejected: &mut Vec<Rejection>,
        read: Read<R>,
        store: Store<R>,
    ) -> Result<Option<ImportSummary>, RunError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) => {
                self.reject(path, format!("cannot read: {e}"), rejected);
                return Ok(None);
            }
        };
        let (sha256, _) = self.archive.put_object(&bytes)?;
        let (rows, problems) = match read(path) {
            Ok(r) => r,
            Err(e) => {
                self.reject(path, e.to_string(), rejected);
                return Ok(None);
            }
        };
        for p in &problems {
            self.observer.notice(&Notice::ImportProblem {
                what,
                path,
                line: p.line,
                reason: &p.reason,
            });
        }
        let source = path.display().to_string();
        let record = store(
            self.index,
            &rows,
            self.run_id,
            &source,
            &sha256,
            problems.len(),
        )?;
        // The record after the rows it vouches for: a crash between leaves it to the next
        // run, which writes it again from the import's row.
        self.archive
            .put_object_with_hash(&record.bytes, &record.sha256)?;
        Ok(Some(ImportSummary {
            source,
            sha256,
            rows: rows.len(),
            problems,
        }))
    }

    fn reject(&self, path: &Path, reason: String, rejected: &mut Vec<Rejection>) {
        let path = path.display().to_string();
        self.observer.notice(&Notice::Rejected {
            path: &path,
            reason: &reason,
        });
        rejected.push(Rejection { path, reason });
    }
}
