//! Planning a run: walk the intake, then keep only what changed. A path whose size and mtime
//! match the last read is not read again (the stat cache), so an unchanged intake costs one
//! walk; a changed file is read, and becomes a new version only if its content changed.
//!
//! A dossier code belongs to one procedure, and codes are compared exactly: a file whose
//! dossier is archived under another procedure, or whose dossier folder stands under two
//! procedures in this walk, is rejected naming both (the rest of the batch goes on, exit 3),
//! never merged. A code that differs from another only in letter case (`H50` renamed `h50`)
//! is refused the same way: codes are upper case as the agency issues them, and a folder
//! renamed by case would otherwise become a second dossier without a register row. A batch
//! scan's cover sheet is held to the same rule ([`cover_conflict`], checked by the producer
//! against [`known_dossiers`]): its pages are set aside, naming both procedures.

use std::collections::{BTreeSet, HashMap};
use std::time::SystemTime;

use super::events::WorkItem;
use super::report::RunReport;
use super::RunError;
use crate::config::Config;
use crate::index::Index;
use crate::intake::{self, Candidate, Rejection};

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
    super::withdrawals::note(index, &walk, report)?;
    report.files_seen = walk.candidates.len() + walk.rejected.len();
    report.rejected = walk.rejected;
    report.deferred = walk.deferred;
    let mut changed = Vec::new();
    for candidate in walk.candidates {
        match index.known_file(&candidate.rel_path)? {
            Some(k) if k.bytes == candidate.bytes && k.mtime_ns == candidate.mtime_ns => {
                report.files_unchanged += 1;
            }
            _ => changed.push(candidate),
        }
    }
    let conflicts = if changed.is_empty() {
        HashMap::new()
    } else {
        dossier_conflicts(&changed, &archived_dossiers(index)?)
    };
    let mut work = Vec::new();
    for candidate in changed {
        if let Some(reason) = conflicts.get(&candidate.rel_path) {
            report.rejected.push(Rejection {
                path: candidate.rel_path,
                reason: reason.clone(),
            });
            continue;
        }
        let previous_sha256 = index.latest_sha256(&candidate.rel_path)?;
        work.push(WorkItem {
            seq: work.len(),
            candidate,
            previous_sha256,
        });
    }
    Ok(work)
}

/// Dossiers `(code, procedure)` keyed by the code in lower case.
pub(super) type Dossiers = HashMap<String, Vec<(String, String)>>;

/// Every dossier known when the files are read: archived, or placed by a file of `work` (each
/// already checked against the others by [`plan`]).
pub(super) fn known_dossiers(index: &Index, work: &[WorkItem]) -> Result<Dossiers, RunError> {
    let mut known = archived_dossiers(index)?;
    for w in work.iter().filter(|w| !w.candidate.batch) {
        let p = &w.candidate.placement;
        add_dossier(&mut known, &p.dossier, &p.procedure);
    }
    Ok(known)
}

/// Adds dossier `code` under `procedure` to `known` (once).
pub(super) fn add_dossier(known: &mut Dossiers, code: &str, procedure: &str) {
    let entry = known.entry(code.to_lowercase()).or_default();
    if !entry.iter().any(|(c, p)| c == code && p == procedure) {
        entry.push((code.to_owned(), procedure.to_owned()));
    }
}

/// Why a cover sheet naming dossier `code` under `procedure` cannot open a document: the
/// dossier is known under another procedure, or a known code differs from it only in case.
pub(super) fn cover_conflict(known: &Dossiers, code: &str, procedure: &str) -> Option<String> {
    let (o_code, o_proc) = known
        .get(&code.to_lowercase())?
        .iter()
        .find(|(c, p)| c != code || p != procedure)?;
    Some(if o_code == code {
        format!(
            "cover sheet names dossier {code} under procedure {procedure}, but the dossier is already under procedure {o_proc} (archived, or in this intake): a dossier belongs to one procedure (print its cover sheet again as {o_proc}/{code}, or correct the code)"
        )
    } else {
        format!(
            "cover sheet names dossier {procedure}/{code}, which differs only in letter case from the dossier {o_proc}/{o_code}: codes are written as issued (print its cover sheet again)"
        )
    })
}

/// Every archived dossier `(code, procedure)`, keyed by the code in lower case.
fn archived_dossiers(index: &Index) -> Result<Dossiers, RunError> {
    let rows = index
        .db()
        .query("SELECT code, procedure_code FROM dossiers", &[])
        .map_err(|e| index.err(e))?;
    let mut map: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for row in rows {
        let (code, procedure) = (
            row.str(0).map_err(|e| index.err(e))?.to_owned(),
            row.str(1).map_err(|e| index.err(e))?.to_owned(),
        );
        map.entry(code.to_lowercase())
            .or_default()
            .push((code, procedure));
    }
    Ok(map)
}

/// The files of `changed` that cannot join their dossier, each with the reason (see the
/// module's doc): by path.
fn dossier_conflicts(changed: &[Candidate], archived: &Dossiers) -> HashMap<String, String> {
    let placed = changed.iter().filter(|c| !c.batch);
    let mut in_walk: HashMap<String, BTreeSet<(&str, &str)>> = HashMap::new();
    for c in placed.clone() {
        let p = &c.placement;
        in_walk
            .entry(p.dossier.to_lowercase())
            .or_default()
            .insert((p.dossier.as_str(), p.procedure.as_str()));
    }
    let mut out = HashMap::new();
    for c in placed {
        let (code, procedure) = (c.placement.dossier.as_str(), c.placement.procedure.as_str());
        let key = code.to_lowercase();
        let other_archived = archived
            .get(&key)
            .into_iter()
            .flatten()
            .find(|(a_code, a_proc)| a_code != code || a_proc != procedure);
        let reason = if let Some((a_code, a_proc)) = other_archived {
            Some(if a_code == code {
                format!(
                    "dossier {code} is already archived under procedure {a_proc}, and this file is under procedure {procedure}: a dossier belongs to one procedure (move the file to {a_proc}/{code}, or correct the code)"
                )
            } else {
                format!(
                    "dossier folder {procedure}/{code} differs only in letter case from the archived dossier {a_proc}/{a_code}: rename the folder {a_code} (codes are written as issued)"
                )
            })
        } else {
            let here = &in_walk[&key];
            here.iter()
                .find(|other| **other != (code, procedure))
                .map(|(o_code, o_proc)| {
                    if *o_code == code {
                        format!(
                            "dossier {code} is under two procedures in the intake, {} and {}: a dossier belongs to one procedure (keep one folder)",
                            procedure.min(o_proc),
                            procedure.max(o_proc)
                        )
                    } else {
                        format!(
                            "dossier folders {procedure}/{code} and {o_proc}/{o_code} differ only in letter case: keep one, written as issued"
                        )
                    }
                })
        };
        if let Some(reason) = reason {
            out.insert(c.rel_path.clone(), reason);
        }
    }
    out
}
