//! `search` and `show`: read-only views of the archive for staff and auditors.

use std::fmt::Write as _;
use std::path::Path;

use crate::index::{DossierView, Index, IndexError, Location, SearchHit};
use crate::store::{Archive, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("no dossier {0} in the archive")]
    NoSuchDossier(String),
}

/// Opens an archive's index (its own, or the shared one at `index_url`) without writing
/// anything.
pub fn open_read_only(archive: &Path, index_url: Option<&str>) -> Result<Index, QueryError> {
    let location = Location::resolve(Archive::index_path_of(archive), index_url)?;
    let archive = Archive::open_existing(archive, location.is_shared())?;
    let index = Index::open(&location, false)?;
    index.refuse_if_lost(&archive)?;
    Ok(index)
}

pub fn search(
    archive: &Path,
    index_url: Option<&str>,
    query: &str,
    limit: usize,
) -> Result<Vec<SearchHit>, QueryError> {
    Ok(open_read_only(archive, index_url)?.search(query, limit)?)
}

pub fn show(
    archive: &Path,
    index_url: Option<&str>,
    dossier: &str,
) -> Result<DossierView, QueryError> {
    open_read_only(archive, index_url)?
        .dossier(dossier)?
        .ok_or_else(|| QueryError::NoSuchDossier(dossier.to_owned()))
}

pub fn render_hits(hits: &[SearchHit]) -> String {
    let mut out = String::new();
    for h in hits {
        let _ = writeln!(
            out,
            "{}  {}  {} p.{}  (score {:.2})\n    {}",
            h.dossier_code, h.procedure_code, h.document, h.page, h.score, h.snippet
        );
    }
    if hits.is_empty() {
        out.push_str("no matches\n");
    }
    out
}

pub fn render_dossier(d: &DossierView) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "dossier {}  procedure {}  unit {}",
        d.dossier_code,
        d.procedure_code,
        d.unit.as_deref().unwrap_or("-")
    );
    for doc in &d.documents {
        let _ = writeln!(
            out,
            "\n  {} [{}] version {}  {} bytes  archived {}\n    sha256 {}\n    quality {}{}",
            doc.path,
            doc.kind,
            doc.version,
            doc.bytes,
            doc.archived_at,
            doc.sha256,
            doc.quality,
            if doc.reasons.is_empty() {
                String::new()
            } else {
                format!(": {}", doc.reasons.join("; "))
            }
        );
        if let Some(r) = &doc.rejected {
            let _ = writeln!(out, "    rejected: {r}");
        }
        if let Some(path) = &doc.superseded_by {
            let _ = writeln!(
                out,
                "    superseded by {path} (a later scan that passes): not to rescan"
            );
        }
        if doc.withdrawn {
            let _ = writeln!(out, "    withdrawn from the intake (kept in the archive)");
        }
        if let Some(pdf) = &doc.searchable_pdf {
            let _ = writeln!(out, "    searchable PDF {pdf}");
        }
        // The PREMIS-style events (ingestion, message digest calculation, fixity checks).
        for e in &doc.events {
            let _ = writeln!(
                out,
                "    event {} {}: {} by {}{}",
                e.at,
                e.kind,
                e.outcome,
                e.agent,
                e.detail
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            );
        }
        for p in &doc.pages {
            let mut notes = Vec::new();
            if let Some(n) = p.source_page {
                notes.push(format!("page {n} of the batch scan"));
            }
            if p.text_source != "ocr" {
                notes.push("text from the PDF's own text layer".to_owned());
            }
            if p.turned != 0 {
                notes.push(format!("turned {}° clockwise before OCR", p.turned));
            }
            if p.deskewed != 0.0 {
                notes.push(format!("levelled by {:.2}°", p.deskewed));
            }
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", notes.join(", "))
            };
            let _ = writeln!(
                out,
                "    page {}: {} dpi, {}confidence {}{notes}",
                p.page,
                p.dpi,
                if p.blank { "blank, " } else { "" },
                p.confidence.map_or("-".into(), |c| format!("{c:.1}"))
            );
            for line in p.text.lines().filter(|l| !l.trim().is_empty()) {
                let _ = writeln!(out, "      {line}");
            }
        }
    }
    out
}
