//! Work claims for many workers sharing one index: a run claims an intake file before reading
//! it, renews its leases while it lives, and gives the claim up when the file's document is
//! committed (in the same transaction). A worker that dies stops renewing; once its leases
//! run out another worker takes the file over.

use super::db::{vals, DbError};
use super::{Index, IndexError};

/// What a claim attempt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The file is this run's to read; `taken_over` when another run's lease had run out.
    Mine { taken_over: bool },
    /// Another live run holds it.
    Held,
}

impl Index {
    /// Claims intake file `path` for `run_id` for `lease_ms`, unless another run holds a lease
    /// on it that has not run out. One statement decides: two workers never both get it.
    pub fn claim(&self, path: &str, run_id: &str, lease_ms: u64) -> Result<Claim, IndexError> {
        let now = self.db().now_ms_sql();
        self.transaction(|tx| {
            let before = tx.query_opt("SELECT run_id FROM claims WHERE path = ?1", &vals![path])?;
            let changed = tx.execute(
                &format!(
                    "INSERT INTO claims(path, run_id, lease_until) VALUES (?1, ?2, {now} + ?3)
                     ON CONFLICT(path) DO UPDATE
                         SET run_id = excluded.run_id, lease_until = excluded.lease_until
                         WHERE claims.lease_until < {now} OR claims.run_id = excluded.run_id"
                ),
                &vals![path, run_id, lease_ms],
            )?;
            if changed == 0 {
                return Ok(Claim::Held);
            }
            let previous: Option<String> = before.map(|r| r.get(0)).transpose()?;
            Ok(Claim::Mine {
                taken_over: previous.is_some_and(|p| p != run_id),
            })
        })
    }

    /// Gives up a claim (the file turned out done, or unchanged).
    pub fn release(&self, path: &str, run_id: &str) -> Result<(), IndexError> {
        self.db()
            .execute(
                "DELETE FROM claims WHERE path = ?1 AND run_id = ?2",
                &vals![path, run_id],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Extends the run's lease and all its claims by `lease_ms` from now.
    pub fn renew(&self, run_id: &str, lease_ms: u64) -> Result<(), IndexError> {
        let now = self.db().now_ms_sql();
        self.transaction(|tx| {
            tx.execute(
                &format!("UPDATE claims SET lease_until = {now} + ?2 WHERE run_id = ?1"),
                &vals![run_id, lease_ms],
            )?;
            tx.execute(
                &format!(
                    "UPDATE runs SET lease_until = {now} + ?2
                     WHERE run_id = ?1 AND finished_at IS NULL"
                ),
                &vals![run_id, lease_ms],
            )?;
            Ok::<_, DbError>(())
        })
    }

    /// Who holds `path` now, if anyone (for messages and tests).
    pub fn claim_holder(&self, path: &str) -> Result<Option<String>, IndexError> {
        let row = self
            .db()
            .query_opt("SELECT run_id FROM claims WHERE path = ?1", &vals![path])
            .map_err(|e| self.err(e))?;
        row.map(|r| r.get(0)).transpose().map_err(|e| self.err(e))
    }

    /// Takes the archive's shared lock (runs) or its exclusive one (verify) on a shared index,
    /// for as long as this connection lives: a verify never runs beside a run. `false`: the
    /// other kind is held.
    pub fn try_lock(&self, exclusive: bool) -> Result<bool, IndexError> {
        let sql = if exclusive {
            "SELECT pg_try_advisory_lock(4243)"
        } else {
            "SELECT pg_try_advisory_lock_shared(4243)"
        };
        self.db()
            .query_one(sql, &[])
            .and_then(|r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// Gives the lock taken by [`try_lock`](Self::try_lock) back at once: the server frees a
    /// closed connection's locks only when it has seen it go, and a verify (or run) started just
    /// after would find it still held.
    pub fn unlock(&self, exclusive: bool) -> Result<(), IndexError> {
        let sql = if exclusive {
            "SELECT pg_advisory_unlock(4243)"
        } else {
            "SELECT pg_advisory_unlock_shared(4243)"
        };
        self.db()
            .query_one(sql, &[])
            .map(drop)
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Location;

    fn claims_behaviour(location: &Location) {
        let index = Index::open(location, true).unwrap();
        assert_eq!(
            index.claim("a.pdf", "run-a", 60_000).unwrap(),
            Claim::Mine { taken_over: false }
        );
        assert_eq!(index.claim("a.pdf", "run-b", 60_000).unwrap(), Claim::Held);
        // Renewing one's own claim is not a take-over.
        assert_eq!(
            index.claim("a.pdf", "run-a", 60_000).unwrap(),
            Claim::Mine { taken_over: false }
        );
        // A lease that ran out is taken over.
        assert_eq!(
            index.claim("b.pdf", "run-a", 0).unwrap(),
            Claim::Mine { taken_over: false }
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(
            index.claim("b.pdf", "run-b", 60_000).unwrap(),
            Claim::Mine { taken_over: true }
        );
        assert_eq!(
            index.claim_holder("b.pdf").unwrap().as_deref(),
            Some("run-b")
        );
        index.release("a.pdf", "run-b").unwrap();
        assert_eq!(
            index.claim_holder("a.pdf").unwrap().as_deref(),
            Some("run-a"),
            "only the holder releases"
        );
        index.release("a.pdf", "run-a").unwrap();
        assert_eq!(index.claim_holder("a.pdf").unwrap(), None);
    }

    #[test]
    fn claims_exclude_live_holders_and_pass_on_expired_ones_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        claims_behaviour(&Location::Sqlite(dir.path().join("index.sqlite")));
    }

    #[test]
    fn claims_exclude_live_holders_and_pass_on_expired_ones_postgres() {
        let db = crate::test_support::PostgresTestDb::create("claims_unit");
        let location = Location::Postgres(db.url.clone());
        claims_behaviour(&location);
        // Shared and exclusive archive locks exclude each other across connections.
        let run = Index::open(&location, true).unwrap();
        let verify = Index::open(&location, true).unwrap();
        assert!(run.try_lock(false).unwrap());
        assert!(!verify.try_lock(true).unwrap());
        // The server frees a closed connection's locks once it has seen it go: give it a moment.
        drop(run);
        let freed = (0..100).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(50));
            verify.try_lock(true).unwrap()
        });
        assert!(
            freed,
            "the exclusive lock once the run's connection is gone"
        );
    }
}
