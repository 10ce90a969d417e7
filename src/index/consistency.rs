//! The consistency of the index's tables with each other: rows that must have their
//! counterpart (pages and documents, documents and dossiers, pages and full-text rows), and
//! rows kept beside others that must agree with them (the latest version table, the
//! per-dossier flags, OCR text and the hash of its archived object). `verify` reports every
//! disagreement found.

use super::db::{Backend, DbError, Row};
use super::{Index, IndexError};
use crate::store::sha256_hex;

/// An inconsistency between index tables.
#[derive(Debug, Clone)]
pub struct IndexProblem {
    pub document: Option<String>,
    pub dossier_code: Option<String>,
    pub detail: String,
}

impl Index {
    /// Rows that disagree with each other: pages without documents, page counts, OCR text that
    /// does not match its hash, full-text rows without pages (and the reverse), the latest
    /// version table, and the per-dossier flags.
    pub fn consistency_problems(&self) -> Result<Vec<IndexProblem>, IndexError> {
        let mut problems = Vec::new();
        let checks = reference_checks(self.backend())
            .into_iter()
            .chain(derived_checks());
        for (sql, make) in checks {
            self.db()
                .for_each(&sql, &[], |r| {
                    problems.extend(make(r)?);
                    Ok::<_, DbError>(())
                })
                .map_err(|e| self.err(e))?;
        }
        Ok(problems)
    }
}

/// One consistency check: its query, and the problem (if any) each row it returns stands for.
type Check = (String, fn(&Row) -> Result<Option<IndexProblem>, DbError>);

/// Rows that must have their counterpart: a document for every page, as many pages as were
/// archived, a dossier for every document, a full-text row for every page and the reverse.
fn reference_checks(backend: Backend) -> Vec<Check> {
    let (fts_id, fts_table) = match backend {
        Backend::Sqlite => ("rowid", "page_fts"),
        Backend::Postgres => ("page_id", "page_fts"),
    };
    vec![
        (
            "SELECT p.document_id, p.page FROM pages p LEFT JOIN documents d ON d.id = p.document_id WHERE d.id IS NULL".into(),
            |r| {
                Ok(Some(IndexProblem {
                    document: None,
                    dossier_code: None,
                    detail: format!("page row {} of document id {} has no document row", r.get::<i64>(1)?, r.get::<i64>(0)?),
                }))
            },
        ),
        (
            "SELECT d.path, d.dossier_code, d.page_count, (SELECT COUNT(*) FROM pages p WHERE p.document_id = d.id)
             FROM documents d WHERE d.page_count != (SELECT COUNT(*) FROM pages p WHERE p.document_id = d.id)".into(),
            |r| {
                Ok(Some(IndexProblem {
                    document: Some(r.get(0)?),
                    dossier_code: Some(r.get(1)?),
                    detail: format!("document has {} page rows; {} were archived", r.get::<i64>(3)?, r.get::<i64>(2)?),
                }))
            },
        ),
        (
            "SELECT d.path, d.dossier_code FROM documents d LEFT JOIN dossiers s ON s.code = d.dossier_code WHERE s.code IS NULL".into(),
            |r| {
                Ok(Some(IndexProblem {
                    document: Some(r.get(0)?),
                    dossier_code: Some(r.get(1)?),
                    detail: "document row names a dossier the index does not hold".into(),
                }))
            },
        ),
        (
            format!("SELECT p.id FROM pages p WHERE p.id NOT IN (SELECT {fts_id} FROM {fts_table})"),
            |r| {
                Ok(Some(IndexProblem {
                    document: None,
                    dossier_code: None,
                    detail: format!("page row {} has no full-text row", r.get::<i64>(0)?),
                }))
            },
        ),
        (
            format!("SELECT f.{fts_id} FROM {fts_table} f WHERE f.{fts_id} NOT IN (SELECT id FROM pages)"),
            |r| {
                Ok(Some(IndexProblem {
                    document: None,
                    dossier_code: None,
                    detail: format!("full-text row {} has no page row", r.get::<i64>(0)?),
                }))
            },
        ),
    ]
}

/// Rows kept beside others that must agree with them: the latest version table, the
/// per-dossier flags, and the OCR text with the archived object of its hash.
fn derived_checks() -> Vec<Check> {
    vec![
        (
            "SELECT d.path, d.dossier_code FROM documents d
             WHERE d.version = (SELECT MAX(version) FROM documents x WHERE x.path = d.path)
               AND NOT EXISTS (SELECT 1 FROM current_documents c WHERE c.document_id = d.id
                               AND c.path = d.path AND c.kind = d.kind AND c.quality = d.quality)".into(),
            |r| {
                Ok(Some(IndexProblem {
                    document: Some(r.get(0)?),
                    dossier_code: Some(r.get(1)?),
                    detail: "the latest version is not the current document".into(),
                }))
            },
        ),
        (
            "SELECT s.code FROM dossiers s WHERE
                 s.input_passes != CASE WHEN EXISTS(SELECT 1 FROM current_documents c WHERE c.dossier_code = s.code AND c.kind = 'input' AND c.quality = 'pass') THEN 1 ELSE 0 END
              OR s.result_passes != CASE WHEN EXISTS(SELECT 1 FROM current_documents c WHERE c.dossier_code = s.code AND c.kind = 'result' AND c.quality = 'pass') THEN 1 ELSE 0 END
              OR s.has_result != CASE WHEN EXISTS(SELECT 1 FROM current_documents c WHERE c.dossier_code = s.code AND c.kind = 'result') THEN 1 ELSE 0 END".into(),
            |r| {
                Ok(Some(IndexProblem {
                    document: None,
                    dossier_code: Some(r.get(0)?),
                    detail: "the dossier's digitization flags disagree with its documents".into(),
                }))
            },
        ),
        // A dossier's row takes its first document's procedure and first unit given.
        (
            "SELECT s.code FROM dossiers s WHERE
                 s.procedure_code IS DISTINCT FROM (SELECT d.procedure_code FROM documents d
                     WHERE d.dossier_code = s.code AND d.procedure_code IS NOT NULL
                     ORDER BY d.id LIMIT 1)
              OR s.unit IS DISTINCT FROM (SELECT d.unit FROM documents d
                     WHERE d.dossier_code = s.code AND d.unit IS NOT NULL ORDER BY d.id LIMIT 1)".into(),
            |r| {
                Ok(Some(IndexProblem {
                    document: None,
                    dossier_code: Some(r.get(0)?),
                    detail: "the dossier's procedure or unit differs from what its documents were archived under".into(),
                }))
            },
        ),
        // OCR text in the index must be the text stored as an object under its hash.
        (
            "SELECT d.path, d.dossier_code, p.page, p.text, p.text_sha256 FROM pages p
             JOIN documents d ON d.id = p.document_id WHERE p.text_sha256 IS NOT NULL".into(),
            |r| {
                if sha256_hex(r.str(3)?.as_bytes()) == r.str(4)? {
                    return Ok(None);
                }
                Ok(Some(IndexProblem {
                    document: Some(r.get(0)?),
                    dossier_code: Some(r.get(1)?),
                    detail: format!(
                        "OCR text of page {} in the index differs from the archived text object",
                        r.get::<i64>(2)?
                    ),
                }))
            },
        ),
    ]
}
