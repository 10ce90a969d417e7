//! One dossier (`/dossiers/{code}`), its objects by hash (`/objects/{sha256}`) and its page
//! images (`/objects/{sha256}/pages/{n}`). Each is logged in the access log before it is sent.
//!
//! A code must look like a code (no slash, no control character, not `.`/`..`, at most 200
//! characters) or the answer is 400; a hash must be 64 lowercase hex digits (400 otherwise)
//! and name a document's original or searchable PDF in the index (404 otherwise): the file
//! path is made from the checked hash alone.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::Extension;

use super::access;
use super::app::Desk;
use super::pages::{blocking, nav, Fail, Params};
use super::security::Who;
use super::templates::{self, DocVm, LedgerVm, Nav, PageVm};
use crate::index::DossierView;
use crate::store::is_sha256_hex;

fn check_code(code: &str) -> Result<(), Fail> {
    let bad = code.is_empty()
        || code.chars().count() > 200
        || code == "."
        || code == ".."
        || code
            .chars()
            .any(|c| c.is_control() || c == '/' || c == '\\');
    if bad {
        Err(Fail::BadRequest("not a dossier code".into()))
    } else {
        Ok(())
    }
}

fn check_sha(sha: &str) -> Result<(), Fail> {
    if is_sha256_hex(sha) {
        Ok(())
    } else {
        Err(Fail::BadRequest(
            "not a SHA-256 (64 lowercase hex digits)".into(),
        ))
    }
}

pub(crate) async fn dossier(
    State(desk): State<Arc<Desk>>,
    Extension(who): Extension<Who>,
    headers: HeaderMap,
    uri: Uri,
    Path(code): Path<String>,
    Query(p): Params,
) -> Result<Response, Fail> {
    check_code(&code)?;
    let c = code.clone();
    let w = who.clone();
    let (view, register, ledger) = blocking(&desk, move |d| {
        let (view, register, ledger) = d.read(|i| -> Result<_, crate::index::IndexError> {
            Ok((i.dossier(&c)?, i.register_view(&c)?, i.dossier_ledger(&c)?))
        })??;
        let view = view.ok_or_else(|| Fail::NotFound(format!("no dossier {c}")))?;
        access::log(d, &w, &c, "dossier")?;
        Ok((view, register, ledger))
    })
    .await?;
    let q = p.get("q").cloned().unwrap_or_default();
    let terms = crate::fold::query_terms(&q);
    let (_, nav) = nav(&desk, &who, &headers, &uri, &code);
    let reg = register_rows(&nav, &view, register);
    let page = templates::Dossier {
        documents: view
            .documents
            .into_iter()
            .map(|d| DocVm {
                pages: d
                    .pages
                    .iter()
                    .map(|p| PageVm {
                        page: p.page,
                        image_page: p.source_page.unwrap_or(p.page),
                        dpi: p.dpi,
                        confidence: p
                            .confidence
                            .map_or_else(|| "—".into(), |c| format!("{c:.1}")),
                        text: templates::highlight(&p.text, &terms),
                    })
                    .collect(),
                path: d.path,
                kind: d.kind,
                version: d.version,
                archived_at: d.archived_at,
                quality: d.quality,
                reasons: d.reasons.join("; "),
                sha256: d.sha256,
                bytes: d.bytes,
                searchable_pdf: d.searchable_pdf,
                events: d.events,
            })
            .collect(),
        ledger: ledger
            .into_iter()
            .map(|(seq, hash, e)| LedgerVm {
                seq,
                hash,
                detail: match e.kind.as_str() {
                    "audit" => format!(
                        "{} · {} · {}",
                        e.summary
                            .get("verdict")
                            .and_then(|v| v.as_str())
                            .unwrap_or(""),
                        e.summary
                            .get("auditor")
                            .and_then(|v| v.as_str())
                            .unwrap_or(""),
                        e.summary.get("note").and_then(|v| v.as_str()).unwrap_or("")
                    ),
                    _ => format!(
                        "{} · {} documents · root {}",
                        e.subject, e.documents, e.documents_root
                    ),
                },
                kind: e.kind,
                at: e.at,
            })
            .collect(),
        register: reg,
        self_url: format!("/dossiers/{}", super::pages::pct(&code)),
        code,
        q,
        nav,
    };
    Ok(Html(page.render()?).into_response())
}

/// The register row as label/value pairs (the archive's own placement without a register).
fn register_rows(
    nav: &Nav,
    view: &DossierView,
    register: Option<crate::index::desk::RegisterView>,
) -> Vec<(String, String)> {
    let l = nav.l;
    let mut rows = vec![(l.procedure.to_owned(), view.procedure_code.clone())];
    rows.push((l.unit.to_owned(), view.unit.clone().unwrap_or_default()));
    if let Some(r) = register {
        rows.push((l.received.to_owned(), r.received_on));
        rows.push(("due_on".into(), r.due_on.unwrap_or_default()));
        rows.push((l.completed.to_owned(), r.completed_on.unwrap_or_default()));
        rows.push(("channel".into(), r.channel.unwrap_or_default()));
    }
    rows
}

/// Reads an object the index names, logging the view; `(bytes, media type)`.
fn read_object(desk: &Desk, who: &Who, sha: &str, what: &str) -> Result<(Vec<u8>, String), Fail> {
    let owner = desk
        .read(|i| i.object_owner(sha))??
        .ok_or_else(|| Fail::NotFound(format!("no document has the object {sha}")))?;
    access::log(desk, who, &owner.dossier_code, what)?;
    let path = desk.store.object_path(sha);
    let bytes = std::fs::read(&path).map_err(|e| Fail::NotFound(format!("object {sha}: {e}")))?;
    Ok((
        bytes,
        owner
            .media_type
            .unwrap_or_else(|| "application/octet-stream".into()),
    ))
}

pub(crate) async fn object(
    State(desk): State<Arc<Desk>>,
    Extension(who): Extension<Who>,
    Path(sha): Path<String>,
) -> Result<Response, Fail> {
    check_sha(&sha)?;
    let s = sha.clone();
    let (bytes, media) = blocking(&desk, move |d| read_object(d, &who, &s, "object")).await?;
    let ext = match media.as_str() {
        "application/pdf" => "pdf",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/tiff" => "tif",
        _ => "bin",
    };
    Ok((
        [
            (header::CONTENT_TYPE, media),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{sha}.{ext}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

pub(crate) async fn page_image(
    State(desk): State<Arc<Desk>>,
    Extension(who): Extension<Who>,
    Path((sha, page)): Path<(String, String)>,
) -> Result<Response, Fail> {
    check_sha(&sha)?;
    let page: usize = page
        .parse()
        .ok()
        .filter(|p| (1..=100_000).contains(p))
        .ok_or_else(|| Fail::BadRequest("not a page number".into()))?;
    let png = blocking(&desk, move |d| {
        if let Some(png) = d.images.get(&sha, page) {
            let owner = d
                .read(|i| i.object_owner(&sha))??
                .ok_or_else(|| Fail::NotFound(sha.clone()))?;
            access::log(d, &who, &owner.dossier_code, "page image")?;
            return Ok(png);
        }
        let (bytes, _) = read_object(d, &who, &sha, "page image")?;
        let png = super::images::page_png(&bytes, page).map_err(|e| match e {
            super::images::ImageError::NoSuchPage(_) | super::images::ImageError::NoImage => {
                Fail::NotFound(e.to_string())
            }
            e => Fail::Internal(e.to_string()),
        })?;
        let png = Arc::new(png);
        d.images.put(&sha, page, Arc::clone(&png));
        Ok(png)
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        png.as_ref().clone(),
    )
        .into_response())
}
