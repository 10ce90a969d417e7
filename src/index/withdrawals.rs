//! Intake files withdrawn: a document whose file is no longer in the intake stays in the
//! archive (nothing is ever deleted there), but it stops being listed for rescan. The stat
//! cache (`intake_files`) says which archived paths the intake still holds: a run whose walk
//! was complete drops the rows of the paths it did not see, and a path that comes back is read
//! again and gets its row back. No new table: the cache already is the intake as last seen.

use std::collections::HashSet;

use super::db::{vals, DbError};
use super::holdings::WITHDRAWN;
use super::{Index, IndexError};

impl Index {
    /// Intake paths whose latest version another run archived by `started_at` (RFC 3339,
    /// whole seconds: a run of the same second counts) and which the intake held at the last
    /// complete walk. A worker sharing the index that commits during this run is left alone.
    pub fn intake_paths_archived_before(
        &self,
        run_id: &str,
        started_at: &str,
    ) -> Result<Vec<String>, IndexError> {
        let mut out = Vec::new();
        self.db()
            .for_each(
                "SELECT c.path FROM current_documents c
                 JOIN documents d ON d.id = c.document_id
                 JOIN intake_files f ON f.path = c.path
                 WHERE d.intake_file = 1 AND d.run_id <> ?1 AND d.archived_at <= ?2
                 ORDER BY c.path",
                &vals![run_id, started_at],
                |r| {
                    out.push(r.get(0)?);
                    Ok::<_, DbError>(())
                },
            )
            .map_err(|e| self.err(e))?;
        Ok(out)
    }

    /// Archived intake paths that were withdrawn from the intake (and not seen since).
    pub fn withdrawn_paths(&self) -> Result<HashSet<String>, IndexError> {
        let mut out = HashSet::new();
        let sql = format!(
            "SELECT c.path FROM current_documents c JOIN documents d ON d.id = c.document_id
             WHERE {WITHDRAWN}"
        );
        self.db()
            .for_each(&sql, &[], |r| {
                out.insert(r.get(0)?);
                Ok::<_, DbError>(())
            })
            .map_err(|e| self.err(e))?;
        Ok(out)
    }

    /// Forgets the intake's copy of `paths` (one transaction): they were withdrawn.
    pub fn forget_intake_files(&self, paths: &[String]) -> Result<(), IndexError> {
        if paths.is_empty() {
            return Ok(());
        }
        let mut db = self.db();
        db.transaction(|tx| {
            for path in paths {
                tx.execute("DELETE FROM intake_files WHERE path = ?1", &vals![path])?;
            }
            Ok::<_, DbError>(())
        })
        .map_err(|e| self.err(e))
    }
}

impl Index {
    /// `rebuild-index`: replays one run's withdrawals and returns, as its run report lists
    /// them. A withdrawal only concerns versions other runs archived by the time it started.
    pub fn replay_withdrawals(
        &self,
        run_id: &str,
        started_at: &str,
        withdrawn: &[String],
        returned: &[String],
    ) -> Result<(), IndexError> {
        let mut db = self.db();
        db.transaction(|tx| {
            for path in withdrawn {
                tx.execute(
                    "DELETE FROM intake_files WHERE path = ?1 AND EXISTS (
                        SELECT 1 FROM current_documents c JOIN documents d ON d.id = c.document_id
                        WHERE c.path = ?1 AND d.run_id <> ?2 AND d.archived_at <= ?3)",
                    &vals![path, run_id, started_at],
                )?;
            }
            for path in returned {
                tx.execute(
                    "INSERT INTO intake_files(path, bytes, mtime_ns, sha256)
                     SELECT c.path, d.bytes, 0, d.sha256 FROM current_documents c
                     JOIN documents d ON d.id = c.document_id WHERE c.path = ?1
                     ON CONFLICT (path) DO NOTHING",
                    &vals![path],
                )?;
            }
            Ok::<_, DbError>(())
        })
        .map_err(|e| self.err(e))
    }
}
