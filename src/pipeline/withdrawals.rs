//! Which archived intake files were withdrawn from the intake since the last run, and which
//! came back (see `index::withdrawals`). Only a complete walk decides: a folder that could not
//! be read, or an intake with no file at all (an unmounted share looks like that), withdraws
//! nothing.

use std::collections::HashSet;

use super::report::RunReport;
use super::RunError;
use crate::index::Index;
use crate::intake::Walk;

/// Notes the withdrawals and returns of `walk` in the index and in `report`.
pub(super) fn note(index: &Index, walk: &Walk, report: &mut RunReport) -> Result<(), RunError> {
    let seen: HashSet<&str> = walk
        .candidates
        .iter()
        .map(|c| c.rel_path.as_str())
        .chain(walk.rejected.iter().map(|r| r.path.as_str()))
        .chain(walk.deferred.iter().map(String::as_str))
        .collect();
    if walk.unreadable > 0 || seen.is_empty() {
        return Ok(());
    }
    let withdrawn: Vec<String> = index
        .intake_paths_archived_before(&report.run_id, &report.started_at)?
        .into_iter()
        .filter(|p| !seen.contains(p.as_str()))
        .collect();
    index.forget_intake_files(&withdrawn)?;
    let mut returned: Vec<String> = index
        .withdrawn_paths()?
        .into_iter()
        .filter(|p| seen.contains(p.as_str()))
        .collect();
    returned.sort();
    report.withdrawn = withdrawn;
    report.returned = returned;
    Ok(())
}
