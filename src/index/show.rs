//! One dossier as `show` presents it: every archived version of its documents, in path order,
//! with their pages and PREMIS-style events. Its unit is the register's when the register
//! names one, else the one its documents came with.

use serde::Serialize;

use super::db::{vals, DbError};
use super::holdings::{LATER_PASSING, WITHDRAWN};
use super::{Index, IndexError};

#[derive(Debug, Clone, Serialize)]
pub struct DossierView {
    pub dossier_code: String,
    pub procedure_code: String,
    pub unit: Option<String>,
    pub documents: Vec<DocumentView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentView {
    pub path: String,
    pub kind: String,
    pub sha256: String,
    pub bytes: u64,
    pub version: u32,
    pub archived_at: String,
    pub quality: String,
    pub reasons: Vec<String>,
    pub rejected: Option<String>,
    pub searchable_pdf: Option<String>,
    /// A failing latest version no longer to rescan: a passing document of the same dossier
    /// and kind archived after it (its path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
    /// The file is no longer in the intake (the archive keeps it).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub withdrawn: bool,
    pub pages: Vec<PageView>,
    pub events: Vec<EventView>,
}

/// One PREMIS-style event of a document.
#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    #[serde(rename = "type")]
    pub kind: String,
    pub at: String,
    pub agent: String,
    pub outcome: String,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PageView {
    pub page: u32,
    pub dpi: u32,
    pub blank: bool,
    pub confidence: Option<f32>,
    /// `ocr`, or `text_layer` when the page's own text was taken.
    pub text_source: String,
    /// Corrections applied before OCR: turned clockwise (degrees), levelled (degrees).
    pub turned: u32,
    pub deskewed: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_page: Option<u32>,
    pub text: String,
}

impl Index {
    /// One dossier with every archived version of its documents, in path order.
    pub fn dossier(&self, code: &str) -> Result<Option<DossierView>, IndexError> {
        self.dossier_inner(code).map_err(|e| self.err(e))
    }

    fn dossier_inner(&self, code: &str) -> Result<Option<DossierView>, DbError> {
        let mut db = self.db();
        let Some(head) = db.query_opt(
            "SELECT s.procedure_code, COALESCE(NULLIF(r.unit, ''), s.unit)
             FROM dossiers s LEFT JOIN register r ON r.dossier_code = s.code WHERE s.code = ?1",
            &vals![code],
        )?
        else {
            return Ok(None);
        };
        let docs = db.query(
            "SELECT id, path, kind, sha256, bytes, version, archived_at, quality, reasons,
                    rejected, searchable_pdf
             FROM documents WHERE dossier_code = ?1 ORDER BY path, version",
            &vals![code],
        )?;
        let mut documents = Vec::with_capacity(docs.len());
        for r in docs {
            let id: i64 = r.get(0)?;
            let events = db
                .query(
                    "SELECT type, at, agent, outcome, detail FROM events
                     WHERE document_id = ?1 ORDER BY id",
                    &vals![id],
                )?
                .iter()
                .map(|e| {
                    Ok(EventView {
                        kind: e.get(0)?,
                        at: e.get(1)?,
                        agent: e.get(2)?,
                        outcome: e.get(3)?,
                        detail: e.get(4)?,
                    })
                })
                .collect::<Result<_, DbError>>()?;
            let pages = db
                .query(
                    "SELECT page, dpi, blank, confidence, text, text_source, turned, deskewed,
                            source_page
                     FROM pages WHERE document_id = ?1 ORDER BY page",
                    &vals![id],
                )?
                .iter()
                .map(|p| {
                    Ok(PageView {
                        page: p.get(0)?,
                        dpi: p.get(1)?,
                        blank: p.get(2)?,
                        confidence: p.get(3)?,
                        text: p.get(4)?,
                        text_source: p.get(5)?,
                        turned: p.get(6)?,
                        deskewed: p.get(7)?,
                        source_page: p.get(8)?,
                    })
                })
                .collect::<Result<_, DbError>>()?;
            documents.push(DocumentView {
                path: r.get(1)?,
                kind: r.get(2)?,
                sha256: r.get(3)?,
                bytes: r.get(4)?,
                version: r.get(5)?,
                archived_at: r.get(6)?,
                quality: r.get(7)?,
                reasons: serde_json::from_str(r.str(8)?).unwrap_or_default(),
                rejected: r.get(9)?,
                searchable_pdf: r.get(10)?,
                superseded_by: None,
                withdrawn: false,
                pages,
                events,
            });
        }
        drop(db);
        self.mark_superseded_and_withdrawn(&mut documents)?;
        Ok(Some(DossierView {
            dossier_code: code.to_owned(),
            procedure_code: head.get(0)?,
            unit: head.get(1)?,
            documents,
        }))
    }

    /// Marks the latest versions that fail quality but are no longer to rescan (see
    /// `failing_documents`): superseded by a passing document of a later run, or withdrawn.
    fn mark_superseded_and_withdrawn(&self, documents: &mut [DocumentView]) -> Result<(), DbError> {
        let sql = format!(
            "SELECT (SELECT p.path {LATER_PASSING} ORDER BY pd.id DESC LIMIT 1),
                    CASE WHEN {WITHDRAWN} THEN 1 ELSE 0 END
             FROM documents d WHERE d.path = ?1 AND d.version = ?2"
        );
        for i in 0..documents.len() {
            let latest = documents
                .get(i + 1)
                .is_none_or(|next| next.path != documents[i].path);
            if !latest || documents[i].quality != "fail" {
                continue;
            }
            let key = vals![documents[i].path.as_str(), i64::from(documents[i].version)];
            let row = self.db().query_one(&sql, &key)?;
            documents[i].superseded_by = row.get(0)?;
            documents[i].withdrawn = row.get::<i64>(1)? != 0;
        }
        Ok(())
    }
}
