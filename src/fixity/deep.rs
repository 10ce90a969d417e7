//! `verify --deep`: the facts that enter a figure derived again from the originals, without
//! OCR. Each document's original is decoded again and each page's size, resolution and
//! blankness compared with its record; the stored register file is parsed again and its rows
//! compared with the rows the index counts. Decoding runs on every core; the rate is reported.

use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use super::{Finding, FixityError};
use crate::decode::{self, quality, Limits};
use crate::evidence::DocumentRecord;
use crate::index::Index;
use crate::store::Archive;

/// What the deep check read, and how fast.
#[derive(Debug, Clone, Serialize)]
pub struct DeepStats {
    pub documents: usize,
    pub pages: usize,
    pub bytes: u64,
    pub seconds: f64,
    pub pages_per_second: f64,
    pub mib_per_second: f64,
}

pub(super) fn check(
    archive: &Archive,
    index: &Index,
) -> Result<(Vec<Finding>, DeepStats), FixityError> {
    let started = Instant::now();
    let documents = index.documents_as_recorded(None)?;
    let results: Vec<(Vec<Finding>, usize, u64)> = documents
        .par_iter()
        .map(|d| document(archive, &d.record))
        .collect();
    let mut findings = Vec::new();
    let (mut pages, mut bytes) = (0, 0);
    for (f, p, b) in results {
        findings.extend(f);
        pages += p;
        bytes += b;
    }
    findings.extend(register(archive, index)?);
    let seconds = started.elapsed().as_secs_f64().max(1e-9);
    let stats = DeepStats {
        documents: documents.len(),
        pages,
        bytes,
        seconds: (seconds * 1000.0).round() / 1000.0,
        pages_per_second: (pages as f64 / seconds * 10.0).round() / 10.0,
        mib_per_second: (bytes as f64 / (1 << 20) as f64 / seconds * 10.0).round() / 10.0,
    };
    Ok((findings, stats))
}

/// One document's pages decoded again and compared with its record: (findings, pages, bytes).
fn document(archive: &Archive, r: &DocumentRecord) -> (Vec<Finding>, usize, u64) {
    let finding = |detail: String| Finding {
        kind: "deep",
        file: Some(format!("objects/{}", r.sha256)),
        dossier_code: Some(r.dossier.clone()),
        document: Some(r.path.clone()),
        detail,
    };
    let Ok(bytes) = std::fs::read(archive.object_path(&r.sha256)) else {
        return (Vec::new(), 0, 0); // missing originals are the object check's finding
    };
    let size = bytes.len() as u64;
    let decoded = match decode::pages(&bytes, Limits::default()) {
        Ok((_, pages)) => pages,
        // A document rejected at reading has no pages to compare.
        Err(_) if r.pages.is_empty() => return (Vec::new(), 0, size),
        Err(e) => {
            return (
                vec![finding(format!("the original no longer decodes: {e}"))],
                0,
                size,
            )
        }
    };
    let mut out = Vec::new();
    let mut seen = 0;
    for (i, page) in decoded.enumerate() {
        let number = i as u32 + 1;
        // A batch segment's pages are some pages of the batch file, by their source number.
        let Some(want) = r
            .pages
            .iter()
            .find(|p| p.source_page.unwrap_or(p.page) == number)
        else {
            continue;
        };
        seen += 1;
        let Ok(page) = page else {
            out.push(finding(format!("page {} no longer decodes", want.page)));
            continue;
        };
        if page.image.width() == 0 {
            continue; // a text-only PDF page: nothing scanned to measure
        }
        let q = quality::assess(&page.image, page.meta_dpi);
        let (w, h) = page.image.dimensions();
        if (w, h, q.dpi, q.blank) != (want.width, want.height, want.dpi, want.blank) {
            out.push(finding(format!(
                "page {}: the original gives {w}×{h} px at {} dpi, blank {}; the record says {}×{} px at {} dpi, blank {}",
                want.page, q.dpi, q.blank, want.width, want.height, want.dpi, want.blank
            )));
        }
    }
    if seen != r.pages.len() {
        out.push(finding(format!(
            "the original has {seen} of the {} pages its record lists",
            r.pages.len()
        )));
    }
    (out, seen, size)
}

/// The latest register import parsed again from its stored file.
fn register(archive: &Archive, index: &Index) -> Result<Vec<Finding>, FixityError> {
    let imports = index.imports_as_recorded(None)?;
    let Some((record, _)) = imports.iter().rev().find(|(r, _)| r.record == "register") else {
        return Ok(Vec::new());
    };
    let bytes = std::fs::read(archive.object_path(&record.sha256)).unwrap_or_default();
    let source = crate::register::Source::Bytes {
        bytes: &bytes,
        name: &record.source,
    };
    let parsed = crate::register::read_register_from(source, None)
        .ok()
        .map(|r| (r.rows, r.problems));
    let detail = match parsed {
        None => "the stored register file can no longer be read".to_owned(),
        Some((rows, _)) if crate::register::rows_digest(&rows) != record.rows_sha256 => {
            "the stored register file, read again, gives other rows than the import recorded".into()
        }
        Some(_) => return Ok(Vec::new()),
    };
    Ok(vec![Finding {
        kind: "deep",
        file: Some(format!("objects/{}", record.sha256)),
        dossier_code: None,
        document: None,
        detail: format!(
            "register import of {} (run {}): {detail}",
            record.source, record.run_id
        ),
    }])
}
