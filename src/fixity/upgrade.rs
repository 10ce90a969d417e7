//! The upgrade pass of `run` and `verify` (see `index::upgrade`): documents and imports
//! archived before records were kept get their records, written from the index rows and
//! committed to by a ledger entry of kind `upgrade`, so that verify covers them too.

use std::collections::HashSet;

use super::{export_ledger, FixityError};
use crate::index::audit::LedgerEntry;
use crate::index::Index;
use crate::store::Archive;
use crate::timefmt;

/// What the pass recorded: documents and imports (both 0 on an archive recorded already).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    pub documents: u64,
    pub imports: u64,
}

/// Records what was archived before records were kept, stores the records and copies the
/// ledger; first writes again any record of an earlier upgrade a crash left unwritten. Called
/// only by a process that may write the archive (it holds its lock).
pub(crate) fn record_at_upgrade(
    archive: &Archive,
    index: &mut Index,
) -> Result<Recorded, FixityError> {
    let lost = index
        .upgrade_record_hashes()?
        .iter()
        .any(|h| !archive.object_path(h).exists());
    if lost {
        for r in index.upgrade_records()? {
            archive.put_object_with_hash(&r.bytes, &r.sha256)?;
        }
    }
    let entries: Vec<LedgerEntry> = index
        .ledger()?
        .into_iter()
        .filter_map(|(_, text, _)| serde_json::from_str(&text).ok())
        .collect();
    // One upgrade per archive: whatever lacks a record after it had its hash taken off (no
    // version since writes a document without one), and stays a finding.
    if entries.iter().any(|e| e.kind == "upgrade") {
        return Ok(Recorded::default());
    }
    let vouched: HashSet<String> = entries
        .into_iter()
        .filter(|e| e.kind == "run" && e.records_root.is_some())
        .map(|e| e.subject)
        .collect();
    let Some(upgrade) = index.record_at_upgrade(&vouched, &timefmt::now_rfc3339())? else {
        return Ok(Recorded::default());
    };
    for r in &upgrade.records {
        archive.put_object_with_hash(&r.bytes, &r.sha256)?;
    }
    match export_ledger(archive, index) {
        // The file is not the table's prefix: verify says so, and the file is kept as evidence.
        Ok(()) | Err(FixityError::LedgerAhead { .. }) => {}
        Err(e) => return Err(e),
    }
    Ok(Recorded {
        documents: upgrade.documents,
        imports: upgrade.imports,
    })
}
