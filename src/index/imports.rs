//! The register and the procedure catalog as imported into the index, and read back.
//!
//! A register import replaces the stored register in one transaction; a catalog import adds
//! new procedure codes and updates known ones. Every import is recorded in `imports` with its
//! source, hash, row and problem counts. The stored register streams back in code order.

use std::collections::HashMap;

use super::db::{vals, Backend, Db, DbError, Row};
use super::{Index, IndexError};
use crate::date::Date;
use crate::evidence::{self, ImportRecord, RowsDigest};
use crate::register::{CatalogRow, Channel, Problem, RegisterRow};

/// An evidence record as stored: its bytes and their hash.
#[derive(Debug, Clone)]
pub struct EncodedRecord {
    pub bytes: Vec<u8>,
    pub sha256: String,
}

/// The register import that reports rest on.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterImport {
    pub sha256: String,
    /// When the run that imported it started (UTC, RFC 3339); `None` if that run is unknown.
    pub imported_at: Option<String>,
    pub rows: u64,
    pub problems: Vec<Problem>,
    /// The file's path as the pipeline named it.
    pub source: String,
}

/// One import, as its `imports` row and record say.
struct Import<'a> {
    what: &'a str,
    run_id: &'a str,
    source: &'a str,
    sha256: &'a str,
    rows: usize,
    problems: &'a [Problem],
}

/// The import's row, with the digest of the rows it brought and its record's hash.
fn insert_import(
    tx: &mut Db,
    import: &Import<'_>,
    rows_sha256: String,
) -> Result<EncodedRecord, DbError> {
    let record = ImportRecord {
        record: import.what.to_owned(),
        run_id: import.run_id.to_owned(),
        source: import.source.to_owned(),
        sha256: import.sha256.to_owned(),
        rows: import.rows as u64,
        problems: import.problems.len() as u64,
        rows_sha256,
        recorded_at_upgrade: None,
    };
    let (bytes, record_sha256) = evidence::encode(&record);
    let problem_list = serde_json::to_string(import.problems).expect("problems serialise");
    tx.execute(
        "INSERT INTO imports(what, run_id, source, sha256, rows, problems, rows_sha256,
                             record_sha256, problem_list)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        &vals![
            import.what,
            import.run_id,
            import.source,
            import.sha256,
            import.rows,
            import.problems.len(),
            &record.rows_sha256,
            &record_sha256,
            &problem_list
        ],
    )?;
    Ok(EncodedRecord {
        bytes,
        sha256: record_sha256,
    })
}

/// SHA-256 over the catalog rows the index holds, ordered by procedure code.
pub(super) fn catalog_digest(db: &mut Db) -> Result<String, DbError> {
    let mut digest = RowsDigest::default();
    db.for_each(
        "SELECT code, COALESCE(name, ''), COALESCE(field, '') FROM procedures ORDER BY code",
        &[],
        |r| {
            digest.line(&[r.str(0)?, r.str(1)?, r.str(2)?]);
            Ok::<_, DbError>(())
        },
    )?;
    Ok(digest.finish())
}

impl Index {
    /// Replaces the stored register with a new import, in one transaction.
    pub fn replace_register(
        &mut self,
        rows: &[RegisterRow],
        run_id: &str,
        source: &str,
        sha256: &str,
        problems: &[Problem],
    ) -> Result<EncodedRecord, IndexError> {
        self.transaction(|tx| {
            if tx.backend() == Backend::Postgres {
                // Two workers importing the register at once: one after the other.
                tx.batch("LOCK TABLE register IN EXCLUSIVE MODE")?;
            }
            tx.execute("DELETE FROM register", &[])?;
            for r in rows {
                tx.execute(
                    "INSERT INTO register(dossier_code, procedure_code, unit, received_on, due_on,
                                          completed_on, channel, reused, pages)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    &vals![
                        &r.dossier_code,
                        &r.procedure_code,
                        &r.unit,
                        r.received_on.iso(),
                        r.due_on.map(|d| d.iso()),
                        r.completed_on.map(|d| d.iso()),
                        r.channel.map(|c| c.as_str()),
                        r.reused.map(i64::from),
                        r.pages.map(i64::from),
                    ],
                )?;
            }
            let rows_sha256 = crate::register::rows_digest(rows);
            let import = Import {
                what: "register",
                run_id,
                source,
                sha256,
                rows: rows.len(),
                problems,
            };
            insert_import(tx, &import, rows_sha256)
        })
    }

    /// Stores catalog names and fields (new codes added, known codes updated).
    pub fn import_catalog(
        &mut self,
        rows: &[CatalogRow],
        run_id: &str,
        source: &str,
        sha256: &str,
        problems: &[Problem],
    ) -> Result<EncodedRecord, IndexError> {
        self.transaction(|tx| {
            for r in rows {
                tx.execute(
                    "INSERT INTO procedures(code, name, field) VALUES (?1, ?2, ?3)
                     ON CONFLICT(code) DO UPDATE SET name = excluded.name, field = excluded.field",
                    &vals![&r.procedure_code, &r.name, &r.field],
                )?;
            }
            let rows_sha256 = catalog_digest(tx)?;
            let import = Import {
                what: "catalog",
                run_id,
                source,
                sha256,
                rows: rows.len(),
                problems,
            };
            insert_import(tx, &import, rows_sha256)
        })
    }

    /// Whether a register was ever imported (then reports count against it).
    pub fn has_register(&self) -> Result<bool, IndexError> {
        self.db()
            .query_one(
                "SELECT EXISTS(SELECT 1 FROM imports WHERE what = 'register')",
                &[],
            )
            .and_then(|r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// The register import the stored register comes from (the latest), with its rows that
    /// could not be read; `None` before any import.
    pub fn latest_register_import(&self) -> Result<Option<RegisterImport>, IndexError> {
        let row = self
            .db()
            .query_opt(
                "SELECT i.sha256, r.started_at, i.rows, i.problem_list, i.source
                 FROM imports i LEFT JOIN runs r ON r.run_id = i.run_id
                 WHERE i.what = 'register' ORDER BY i.id DESC LIMIT 1",
                &[],
            )
            .map_err(|e| self.err(e))?;
        let Some(r) = row else { return Ok(None) };
        (|| {
            let problems: Option<String> = r.get(3)?;
            Ok(Some(RegisterImport {
                sha256: r.get(0)?,
                imported_at: r.get(1)?,
                rows: r.get(2)?,
                // Imports made before the list was kept (schema 4) name none.
                problems: problems
                    .and_then(|p| serde_json::from_str(&p).ok())
                    .unwrap_or_default(),
                source: r.get(4)?,
            }))
        })()
        .map_err(|e| self.err(e))
    }

    /// Streams the stored register, in code order.
    pub fn for_each_register_row(&self, each: impl FnMut(RegisterRow)) -> Result<(), IndexError> {
        register_rows(&mut self.db(), each).map_err(|e| self.err(e))
    }

    /// Procedure names from the imported catalog.
    pub fn procedure_names(&self) -> Result<HashMap<String, String>, IndexError> {
        let mut out = HashMap::new();
        self.db()
            .for_each(
                "SELECT code, name FROM procedures WHERE name IS NOT NULL AND name != ''",
                &[],
                |r| {
                    out.insert(r.get(0)?, r.get(1)?);
                    Ok::<_, DbError>(())
                },
            )
            .map_err(|e| self.err(e))?;
        Ok(out)
    }

    /// Received dates from the imported register, for filtering exports by period.
    pub fn register_received_dates(&self) -> Result<HashMap<String, Date>, IndexError> {
        let mut out = HashMap::new();
        self.for_each_register_row(|r| {
            out.insert(r.dossier_code, r.received_on);
        })?;
        Ok(out)
    }
}

/// The stored register, in code order (rows whose received date does not read are left out,
/// as reports leave them out).
fn register_rows(db: &mut Db, mut each: impl FnMut(RegisterRow)) -> Result<(), DbError> {
    db.for_each(
        "SELECT dossier_code, procedure_code, unit, received_on, due_on, completed_on,
                channel, reused, pages
         FROM register ORDER BY dossier_code",
        &[],
        |r: &Row| {
            let date = |v: Option<&str>| v.and_then(Date::parse);
            let Some(received_on) = date(r.opt_str(3)?) else {
                return Ok(());
            };
            each(RegisterRow {
                dossier_code: r.opt_str(0)?.unwrap_or_default().to_owned(),
                procedure_code: r.opt_str(1)?.unwrap_or_default().to_owned(),
                unit: r.opt_str(2)?.unwrap_or_default().to_owned(),
                received_on,
                due_on: date(r.opt_str(4)?),
                completed_on: date(r.opt_str(5)?),
                channel: r.opt_str(6)?.and_then(Channel::parse),
                reused: r.get::<Option<i64>>(7)?.and_then(|n| u32::try_from(n).ok()),
                pages: r.get::<Option<i64>>(8)?.and_then(|n| u32::try_from(n).ok()),
            });
            Ok::<_, DbError>(())
        },
    )
}

/// The digest of the register rows the index holds, as reports read them.
pub(super) fn register_digest(db: &mut Db) -> Result<String, DbError> {
    let mut rows = Vec::new();
    register_rows(db, |r| rows.push(r))?;
    Ok(crate::register::rows_digest(&rows))
}
