//! The register and catalog imports at the end of a run. The file is read once: its bytes are
//! kept in the archive as evidence of what the figures were computed from, and parsed as kept.
//! Its unreadable rows are reported (and make the run exit 3); an unreadable file, or one of
//! which no row can be read, is a rejected input and replaces nothing (reports keep resting on
//! the previous good import), while the batch's work stands. An archive failure is fatal.

use std::path::Path;

use super::observer::{Notice, Observer};
use super::report::{ImportSummary, RunReport};
use super::RunError;
use crate::config::Config;
use crate::index::{EncodedRecord, Index, IndexError};
use crate::intake::Rejection;
use crate::register::{
    read_catalog_from, register_rows_from_bytes, Problem, RegisterError, Source,
};
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
            register_rows_from_bytes,
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
            |bytes, name| {
                read_catalog_from(Source::Bytes { bytes, name })
                    .map(|(rows, problems, _)| (rows, problems))
            },
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

/// Parses a register or catalog file's bytes (its name says which file, in messages): its
/// rows and the rows it could not read.
type Read<R> = fn(&[u8], &str) -> Result<(Vec<R>, Vec<Problem>), RegisterError>;

/// Stores parsed rows in the index (rows, run id, source, file hash, number of problems);
/// the import's evidence record.
type Store<R> =
    fn(&mut Index, &[R], &str, &str, &str, &[Problem]) -> Result<EncodedRecord, IndexError>;

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
        // Parsed from the very bytes stored: a file swapped meanwhile changes neither.
        let (rows, problems) = match read(&bytes, &path.display().to_string()) {
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
        if rows.is_empty() && !problems.is_empty() {
            // Not one row read: the file as a whole is unreadable. Reports keep resting on the
            // previous good import instead of on an empty register.
            let reason = format!(
                "no row could be read ({} unreadable); the previous import stays in use",
                problems.len()
            );
            self.reject(path, reason, rejected);
            return Ok(None);
        }
        let source = path.display().to_string();
        let record = store(self.index, &rows, self.run_id, &source, &sha256, &problems)?;
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
