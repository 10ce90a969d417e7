//! What the auditors' desk (`dossier serve`, `dossier audit`) keeps in the index: the access
//! log (who viewed which dossier, when: personal data, kept beside the dossiers it names), the
//! desk's users (argon2 hashes, never passwords), and audit verdicts.
//!
//! An audit verdict is a ledger entry of kind `audit` (the evidence: hash-chained, so a
//! verdict cannot be edited or removed unseen) and one `audit verdict` event on each current
//! document of the dossier (the PREMIS view `show` prints). Figures about verdicts are read
//! from the ledger entries, never from the events; the events are left out of documents'
//! evidence records (like fixity checks), so a verdict never changes what a record vouches for.

use serde::Serialize;

use super::audit::{append_entry, LedgerEntry, LedgerHead, GENESIS};
use super::db::{vals, DbError};
use super::{Index, IndexError};

/// The event type of a verdict.
pub const VERDICT_EVENT: &str = "audit verdict";

/// One logged view.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AccessEntry {
    pub at: String,
    pub who: String,
    pub dossier_code: String,
    /// `dossier` (its page), `object` (an original or derivative), `page image`.
    pub what: String,
}

/// A verdict to record.
#[derive(Debug, Clone)]
pub struct NewVerdict<'a> {
    pub at: &'a str,
    pub dossier_code: &'a str,
    pub auditor: &'a str,
    /// `confirmed` or `not-confirmed`.
    pub verdict: &'a str,
    pub note: &'a str,
    /// The sample it belongs to (`period`, `size`, `seed`), when it came from one.
    pub sample: Option<serde_json::Value>,
}

/// What an object the desk may serve is, and whose.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectOwner {
    pub dossier_code: String,
    /// The original's media type; `application/pdf` for a searchable PDF.
    pub media_type: Option<String>,
}

/// A dossier's register row, as imported.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RegisterView {
    pub procedure_code: String,
    pub unit: String,
    pub received_on: String,
    pub due_on: Option<String>,
    pub completed_on: Option<String>,
    pub channel: Option<String>,
}

impl Index {
    /// The document that `sha256` is the original or the searchable PDF of (the first one
    /// archived); `None` for any other object (text, records, imports) or an unknown hash.
    pub fn object_owner(&self, sha256: &str) -> Result<Option<ObjectOwner>, IndexError> {
        let mut db = self.db();
        let original = db
            .query_opt(
                "SELECT dossier_code, media_type FROM documents WHERE sha256 = ?1 ORDER BY id LIMIT 1",
                &vals![sha256],
            )
            .map_err(|e| self.err(e))?;
        if let Some(r) = original {
            return Ok(Some(ObjectOwner {
                dossier_code: r.get(0).map_err(|e| self.err(e))?,
                media_type: r.get(1).map_err(|e| self.err(e))?,
            }));
        }
        let pdf = db
            .query_opt(
                "SELECT dossier_code FROM documents WHERE searchable_pdf = ?1 ORDER BY id LIMIT 1",
                &vals![sha256],
            )
            .map_err(|e| self.err(e))?;
        pdf.map(|r| {
            Ok(ObjectOwner {
                dossier_code: r.get(0)?,
                media_type: Some("application/pdf".into()),
            })
        })
        .transpose()
        .map_err(|e: DbError| self.err(e))
    }

    /// The register row of a dossier, when the imported register has one.
    pub fn register_view(&self, code: &str) -> Result<Option<RegisterView>, IndexError> {
        let row = self
            .db()
            .query_opt(
                "SELECT procedure_code, unit, received_on, due_on, completed_on, channel
                 FROM register WHERE dossier_code = ?1",
                &vals![code],
            )
            .map_err(|e| self.err(e))?;
        row.map(|r| {
            Ok(RegisterView {
                procedure_code: r.get(0)?,
                unit: r.get(1)?,
                received_on: r.get(2)?,
                due_on: r.get(3)?,
                completed_on: r.get(4)?,
                channel: r.get(5)?,
            })
        })
        .transpose()
        .map_err(|e: DbError| self.err(e))
    }

    /// The ledger entries about a dossier: the runs that archived its documents and the
    /// verdicts on it, in ledger order: (seq, hash, entry).
    pub fn dossier_ledger(
        &self,
        code: &str,
    ) -> Result<Vec<(u64, String, LedgerEntry)>, IndexError> {
        let mut runs = std::collections::HashSet::new();
        self.db()
            .for_each(
                "SELECT DISTINCT run_id FROM documents WHERE dossier_code = ?1",
                &vals![code],
                |r| {
                    runs.insert(r.get::<String>(0)?);
                    Ok::<_, DbError>(())
                },
            )
            .map_err(|e| self.err(e))?;
        Ok(self
            .ledger()?
            .into_iter()
            .filter_map(|(seq, text, hash)| {
                let e: LedgerEntry = serde_json::from_str(&text).ok()?;
                let about = match e.kind.as_str() {
                    "run" => runs.contains(&e.subject),
                    "audit" => e.subject == code,
                    _ => false,
                };
                about.then_some((seq, hash, e))
            })
            .collect())
    }

    /// Logs one view of a dossier.
    pub fn log_access(&self, e: &AccessEntry) -> Result<(), IndexError> {
        self.db()
            .execute(
                "INSERT INTO access_log(at, who, dossier_code, what) VALUES (?1, ?2, ?3, ?4)",
                &vals![&e.at, &e.who, &e.dossier_code, &e.what],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// The access log, oldest first; one dossier's only when given.
    pub fn access_log(&self, dossier: Option<&str>) -> Result<Vec<AccessEntry>, IndexError> {
        let mut out = Vec::new();
        self.db()
            .for_each(
                "SELECT at, who, dossier_code, what FROM access_log
                 WHERE CAST(?1 AS TEXT) IS NULL OR dossier_code = CAST(?1 AS TEXT) ORDER BY id",
                &vals![dossier],
                |r| {
                    out.push(AccessEntry {
                        at: r.get(0)?,
                        who: r.get(1)?,
                        dossier_code: r.get(2)?,
                        what: r.get(3)?,
                    });
                    Ok::<_, DbError>(())
                },
            )
            .map_err(|e| self.err(e))?;
        Ok(out)
    }

    /// Adds a desk user, or replaces its password hash.
    pub fn set_desk_user(&self, name: &str, hash: &str, at: &str) -> Result<(), IndexError> {
        self.db()
            .execute(
                "INSERT INTO desk_users(name, password_hash, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash",
                &vals![name, hash, at],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Removes a desk user; whether there was one.
    pub fn remove_desk_user(&self, name: &str) -> Result<bool, IndexError> {
        self.db()
            .execute("DELETE FROM desk_users WHERE name = ?1", &vals![name])
            .map(|n| n > 0)
            .map_err(|e| self.err(e))
    }

    /// A user's argon2 hash (PHC string).
    pub fn desk_user_hash(&self, name: &str) -> Result<Option<String>, IndexError> {
        let row = self
            .db()
            .query_opt(
                "SELECT password_hash FROM desk_users WHERE name = ?1",
                &vals![name],
            )
            .map_err(|e| self.err(e))?;
        row.map(|r| r.get(0)).transpose().map_err(|e| self.err(e))
    }

    /// The desk's user names, sorted.
    pub fn desk_users(&self) -> Result<Vec<String>, IndexError> {
        let mut out = Vec::new();
        self.db()
            .for_each("SELECT name FROM desk_users ORDER BY name", &[], |r| {
                out.push(r.get(0)?);
                Ok::<_, DbError>(())
            })
            .map_err(|e| self.err(e))?;
        Ok(out)
    }

    /// Records a verdict: its ledger entry and an event on each current document of the
    /// dossier, in one transaction. Returns the new head.
    pub fn record_verdict(&mut self, v: &NewVerdict<'_>) -> Result<LedgerHead, IndexError> {
        let agent = format!("{} ({})", super::records::AGENT, v.auditor);
        let detail = format!("{}: {}", v.verdict, v.note);
        let mut summary = serde_json::json!({
            "verdict": v.verdict,
            "auditor": v.auditor,
            "note": v.note,
        });
        if let Some(sample) = &v.sample {
            summary["sample"] = sample.clone();
        }
        self.transaction(|tx| {
            add_verdict_events(tx, v.dossier_code, v.at, &agent, v.verdict, &detail)?;
            append_entry(tx, |seq, prev| LedgerEntry {
                seq,
                kind: "audit".into(),
                at: v.at.to_owned(),
                program: super::records::AGENT.into(),
                subject: v.dossier_code.to_owned(),
                documents: 0,
                documents_root: GENESIS.into(),
                report_sha256: None,
                records_root: None,
                summary: summary.clone(),
                prev,
            })
        })
    }

    /// Rebuilding: the events of a verdict from its ledger entry.
    pub fn restore_verdict_events(&mut self, entry: &LedgerEntry) -> Result<(), IndexError> {
        let field = |k: &str| {
            entry
                .summary
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let agent = format!("{} ({})", entry.program, field("auditor"));
        let verdict = field("verdict");
        let detail = format!("{verdict}: {}", field("note"));
        self.transaction(|tx| {
            add_verdict_events(tx, &entry.subject, &entry.at, &agent, &verdict, &detail)
        })
    }
}

fn add_verdict_events(
    tx: &mut super::db::Db,
    dossier: &str,
    at: &str,
    agent: &str,
    verdict: &str,
    detail: &str,
) -> Result<(), DbError> {
    let outcome = if verdict == "confirmed" {
        "success"
    } else {
        "failure"
    };
    tx.execute(
        "INSERT INTO events(document_id, type, at, agent, outcome, detail)
         SELECT document_id, ?1, ?2, ?3, ?4, ?5 FROM current_documents
         WHERE dossier_code = ?6 ORDER BY document_id",
        &vals![VERDICT_EVENT, at, agent, outcome, detail, dossier],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::tests::doc;
    use crate::index::Location;

    fn behaviour(location: &Location) {
        let mut index = Index::open(location, true).unwrap();
        index
            .begin_run("r1", "test", "2024-01-16T01:02:03Z", None)
            .unwrap();
        index
            .add_document(&doc("p/d/input/a.png", "aa", "xin chào"))
            .unwrap();
        let code = "000.00.01.H50-240115-0001";
        let seen = AccessEntry {
            at: "2024-02-01T00:00:00Z".into(),
            who: "local".into(),
            dossier_code: code.into(),
            what: "dossier".into(),
        };
        index.log_access(&seen).unwrap();
        assert_eq!(index.access_log(None).unwrap(), vec![seen.clone()]);
        assert!(index.access_log(Some("other")).unwrap().is_empty());
        index.set_desk_user("an", "h1", "t").unwrap();
        index.set_desk_user("an", "h2", "t").unwrap();
        assert_eq!(index.desk_user_hash("an").unwrap().as_deref(), Some("h2"));
        assert_eq!(index.desk_users().unwrap(), vec!["an".to_owned()]);
        let head = index
            .record_verdict(&NewVerdict {
                at: "2024-02-01T00:00:01Z",
                dossier_code: code,
                auditor: "an",
                verdict: "not-confirmed",
                note: "page 2 unreadable",
                sample: None,
            })
            .unwrap();
        assert_eq!(head.seq, 1);
        let view = index.dossier(code).unwrap().unwrap();
        let e = view.documents[0].events.last().unwrap();
        assert_eq!(
            (e.kind.as_str(), e.outcome.as_str()),
            (VERDICT_EVENT, "failure")
        );
        assert!(index.remove_desk_user("an").unwrap());
        assert!(index.desk_users().unwrap().is_empty());
    }

    #[test]
    fn sqlite_desk_tables() {
        let dir = tempfile::tempdir().unwrap();
        behaviour(&Location::Sqlite(dir.path().join("index.sqlite")));
    }

    #[test]
    fn postgres_desk_tables() {
        let db = crate::test_support::PostgresTestDb::create("desk_unit");
        behaviour(&Location::Postgres(db.url.clone()));
    }
}
