//! Planning a run: walk the intake, then keep only what changed. A path whose size and mtime
//! match the last read is not read again (the stat cache), so an unchanged intake costs one
//! walk; a changed file is read, and becomes a new version only if its content changed.

use std::time::SystemTime;

use super::events::WorkItem;
use super::report::RunReport;
use super::RunError;
use crate::config::Config;
use crate::index::Index;
use crate::intake;

/// Walks the intake into `report` (files seen, rejected, deferred); the files to read.
pub(super) fn plan(
    config: &Config,
    index: &Index,
    report: &mut RunReport,
) -> Result<Vec<WorkItem>, RunError> {
    let walk = intake::walk(
        &config.intake,
        &config.layout,
        config.settle,
        SystemTime::now(),
    )?;
    report.files_seen = walk.candidates.len() + walk.rejected.len();
    report.rejected = walk.rejected;
    report.deferred = walk.deferred;
    let mut work = Vec::new();
    for candidate in walk.candidates {
        match index.known_file(&candidate.rel_path)? {
            Some(k) if k.bytes == candidate.bytes && k.mtime_ns == candidate.mtime_ns => {
                report.files_unchanged += 1;
            }
            _ => {
                let previous_sha256 = index.latest_sha256(&candidate.rel_path)?;
                work.push(WorkItem {
                    seq: work.len(),
                    candidate,
                    previous_sha256,
                });
            }
        }
    }
    Ok(work)
}
