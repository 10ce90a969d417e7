//! What coverage reads from the index: every archived dossier with what it holds, from the
//! per-dossier flags kept at every commit (one ordered scan over a million dossiers), and the
//! latest document versions that fail quality. Also the counts for summaries.

use super::db::DbError;
use super::{Index, IndexError};

/// What the archive holds for one dossier, as coverage counts it (latest versions only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierHoldings {
    pub dossier_code: String,
    pub procedure_code: String,
    pub unit: Option<String>,
    /// At least one input document passes quality.
    pub input_passes: bool,
    /// At least one result document passes quality.
    pub result_passes: bool,
    /// At least one result document is archived (pass or not).
    pub has_result: bool,
}

/// A document (latest version) that fails quality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailingDocument {
    pub dossier_code: String,
    pub path: String,
    /// `input` or `result`.
    pub kind: String,
    pub reason: String,
    /// Still to rescan: neither superseded nor withdrawn (see [`LATER_PASSING`], [`WITHDRAWN`]).
    pub to_rescan: bool,
}

/// The passing latest documents that supersede document `d`: same dossier and kind, committed
/// after it by another run (ids follow commit order, also through `rebuild-index`). Documents
/// of one run do not supersede each other. A `FROM … WHERE` clause over `p` and `pd`.
pub(super) const LATER_PASSING: &str = "FROM current_documents p
    JOIN documents pd ON pd.id = p.document_id
    WHERE p.dossier_code = d.dossier_code AND p.kind = d.kind AND p.quality = 'pass'
      AND pd.run_id <> d.run_id AND pd.id > d.id";

/// Document `d`'s intake file is no longer in the intake (see `withdrawals`).
pub(super) const WITHDRAWN: &str = "d.intake_file = 1
    AND NOT EXISTS (SELECT 1 FROM intake_files f WHERE f.path = d.path)";

impl Index {
    /// Every archived dossier with what it holds, in code order (one ordered scan).
    pub fn for_each_holding(
        &self,
        mut each: impl FnMut(DossierHoldings),
    ) -> Result<(), IndexError> {
        self.db()
            .for_each(
                "SELECT code, procedure_code, unit, input_passes, result_passes, has_result
                 FROM dossiers ORDER BY code",
                &[],
                |r| {
                    each(DossierHoldings {
                        dossier_code: r.get(0)?,
                        procedure_code: r.get(1)?,
                        unit: r.get(2)?,
                        input_passes: r.get(3)?,
                        result_passes: r.get(4)?,
                        has_result: r.get(5)?,
                    });
                    Ok::<_, DbError>(())
                },
            )
            .map_err(|e| self.err(e))
    }

    /// Every archived dossier's code and what it holds, without its procedure and unit: the
    /// lighter scan coverage needs when a register gives those.
    pub fn for_each_holding_code(
        &self,
        mut each: impl FnMut(&str, bool, bool, bool),
    ) -> Result<(), IndexError> {
        self.db()
            .for_each(
                "SELECT code, input_passes, result_passes, has_result FROM dossiers ORDER BY code",
                &[],
                |r| {
                    each(r.str(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
                    Ok::<_, DbError>(())
                },
            )
            .map_err(|e| self.err(e))
    }

    /// Latest document versions that fail quality (or could not be read), in dossier and path
    /// order, each saying whether it is still to rescan.
    pub fn failing_documents(&self) -> Result<Vec<FailingDocument>, IndexError> {
        let mut out = Vec::new();
        let sql = format!(
            "SELECT c.dossier_code, c.path, c.kind, d.rejected, d.reasons,
                    CASE WHEN ({WITHDRAWN}) OR EXISTS (SELECT 1 {LATER_PASSING})
                         THEN 0 ELSE 1 END
             FROM current_documents c JOIN documents d ON d.id = c.document_id
             WHERE c.quality = 'fail' ORDER BY c.dossier_code, c.path"
        );
        self.db()
            .for_each(&sql, &[], |r| {
                let rejected: Option<String> = r.get(3)?;
                let reasons: Vec<String> = serde_json::from_str(r.str(4)?).unwrap_or_default();
                out.push(FailingDocument {
                    dossier_code: r.get(0)?,
                    path: r.get(1)?,
                    kind: r.get(2)?,
                    reason: rejected.unwrap_or_else(|| reasons.join("; ")),
                    to_rescan: r.get::<i64>(5)? != 0,
                });
                Ok::<_, DbError>(())
            })
            .map_err(|e| self.err(e))?;
        Ok(out)
    }

    /// The input pages archived per dossier (latest versions of every input document,
    /// whatever their quality), for the page-count check against the register.
    pub fn input_pages_by_dossier(
        &self,
    ) -> Result<std::collections::HashMap<String, u64>, IndexError> {
        let mut out = std::collections::HashMap::new();
        self.db()
            .for_each(
                "SELECT c.dossier_code, CAST(SUM(d.page_count) AS BIGINT)
                 FROM current_documents c JOIN documents d ON d.id = c.document_id
                 WHERE c.kind = 'input' GROUP BY c.dossier_code",
                &[],
                |r| {
                    out.insert(r.get(0)?, r.get(1)?);
                    Ok::<_, DbError>(())
                },
            )
            .map_err(|e| self.err(e))?;
        Ok(out)
    }

    /// Counts for summaries and tests: (dossiers, documents, pages).
    pub fn counts(&self) -> Result<(u64, u64, u64), IndexError> {
        let r = self
            .db()
            .query_one(
                "SELECT (SELECT COUNT(*) FROM dossiers), (SELECT COUNT(*) FROM documents),
                        (SELECT COUNT(*) FROM pages)",
                &[],
            )
            .map_err(|e| self.err(e))?;
        (|| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))().map_err(|e| self.err(e))
    }
}
