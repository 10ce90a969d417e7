//! `export-bag`: dossiers as a BagIt bag (RFC 8493) for another archive.
//!
//! ```text
//! OUT/bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
//! OUT/data/<procedure>/<dossier>/dossier.json                       metadata, evidence, events
//! OUT/data/<procedure>/<dossier>/<kind>/document-<n>-v<version>.<ext>   the original
//! OUT/data/<procedure>/<dossier>/<kind>/document-<n>-v<version>-page-<p>.txt   its OCR text
//! ```
//! A dossier split from a batch scan is exported as the PDF of its own pages that the run
//! made (`document-<n>-v<version>.pdf`), with the batch's SHA-256 and page numbers as its
//! provenance (`batch_scan` in `dossier.json`): never the batch file, which holds other
//! dossiers' pages. A filter that selects nothing writes no bag; a failure part-way removes
//! what was written.
//!
//! Every path in the bag is built from codes the archive validated, checked again here, and
//! numbers: nothing from a file name, so nothing can point outside the output folder.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::FixityError;
use crate::date::{date_in_dossier_code, Date};
use crate::index::{DocumentView, DossierView, Index};
use crate::intake::layout::validate_code;
use crate::store::{sha256_hex, Archive};

#[derive(Debug, Clone, Default)]
pub struct BagFilter {
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub procedure: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BagSummary {
    pub output: String,
    pub dossiers: usize,
    pub documents: usize,
    pub payload_files: usize,
    pub payload_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BagError {
    #[error(transparent)]
    Fixity(#[from] FixityError),
    #[error(
        "{0} exists and is not empty: export-bag writes a new bag into an empty or new folder"
    )]
    OutputNotEmpty(PathBuf),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("archived object {0} is missing or unreadable: run `dossier verify`")]
    Object(String),
    #[error("{0} is part of a batch scan and its pages cannot be cut from it ({1}): it is not exported with the other dossiers' pages")]
    NoSegmentPdf(String, String),
    #[error("no dossier in the archive matches the filter{0}: no bag written")]
    NothingSelected(String),
}

impl BagFilter {
    /// The filter in words, for a message (empty without any).
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = &self.procedure {
            parts.push(format!("procedure {p}"));
        }
        if let Some(f) = self.from {
            parts.push(format!("received from {}", f.iso()));
        }
        if let Some(t) = self.to {
            parts.push(format!("received to {}", t.iso()));
        }
        match parts.is_empty() {
            true => String::new(),
            false => format!(" ({})", parts.join(", ")),
        }
    }

    /// Whether a dossier of `procedure` received on `date` (if known) is to be exported; a
    /// dossier without a date only when no period is given.
    fn selects(&self, procedure: &str, date: Option<Date>) -> bool {
        if self.procedure.as_ref().is_some_and(|p| *p != procedure) {
            return false;
        }
        match date {
            Some(d) => self.from.is_none_or(|f| d >= f) && self.to.is_none_or(|t| d <= t),
            None => self.from.is_none() && self.to.is_none(),
        }
    }
}

/// A bag being written: the payload so far, for the manifests.
struct Bag {
    root: PathBuf,
    manifest: Vec<(String, String)>,
    bytes: u64,
}

impl Bag {
    /// A bag in `output`, which must be new or empty.
    fn create(output: &Path) -> Result<Bag, BagError> {
        if output.exists()
            && fs::read_dir(output)
                .map(|mut d| d.next().is_some())
                .unwrap_or(true)
        {
            return Err(BagError::OutputNotEmpty(output.to_owned()));
        }
        fs::create_dir_all(output).map_err(|source| BagError::Write {
            path: output.to_owned(),
            source,
        })?;
        Ok(Bag {
            root: output.to_owned(),
            manifest: Vec::new(),
            bytes: 0,
        })
    }

    /// Removes what was written: the whole folder when this export made it, else its
    /// contents (it was empty before).
    fn remove(&self, existed: bool) {
        if !existed {
            let _ = fs::remove_dir_all(&self.root);
            return;
        }
        if let Ok(entries) = fs::read_dir(&self.root) {
            for e in entries.flatten() {
                let path = e.path();
                let _ = match e.file_type() {
                    Ok(t) if t.is_dir() => fs::remove_dir_all(&path),
                    _ => fs::remove_file(&path),
                };
            }
        }
    }

    /// Writes one payload file at `data/<rel>`; `rel` is made only of checked parts.
    fn put(&mut self, rel: &str, bytes: &[u8]) -> Result<(), BagError> {
        let path = self.root.join("data").join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|source| BagError::Write {
                path: parent.to_owned(),
                source,
            })?;
        }
        fs::write(&path, bytes).map_err(|source| BagError::Write { path, source })?;
        self.manifest
            .push((sha256_hex(bytes), format!("data/{rel}")));
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    fn tag(&self, name: &str, text: &str) -> Result<(String, String), BagError> {
        let path = self.root.join(name);
        fs::write(&path, text).map_err(|source| BagError::Write { path, source })?;
        Ok((sha256_hex(text.as_bytes()), name.to_owned()))
    }

    /// One dossier under `base` (`<procedure>/<dossier>`): its documents, then
    /// `dossier.json`. Returns how many documents it has.
    fn put_dossier(
        &mut self,
        archive: &Archive,
        index: &Index,
        base: &str,
        view: &DossierView,
    ) -> Result<usize, BagError> {
        let mut meta_docs = Vec::new();
        let mut paths: Vec<&str> = view.documents.iter().map(|d| d.path.as_str()).collect();
        paths.dedup();
        for doc in &view.documents {
            let n = paths.iter().position(|p| *p == doc.path).unwrap_or(0) + 1;
            let kind = if doc.kind == "result" {
                "result"
            } else {
                "input"
            };
            let stem = format!("{base}/{kind}/document-{n}-v{}", doc.version);
            meta_docs.push(self.put_document(archive, index, &stem, doc)?);
        }
        let documents = meta_docs.len();
        let meta = serde_json::json!({
            "dossier_code": view.dossier_code,
            "procedure_code": view.procedure_code,
            "unit": view.unit,
            "documents": meta_docs,
        });
        self.put(
            &format!("{base}/dossier.json"),
            serde_json::to_string_pretty(&meta)
                .expect("metadata serializes")
                .as_bytes(),
        )?;
        Ok(documents)
    }

    /// A document's original at `<stem>.<ext>`, checked against its hash on the way, and the
    /// OCR text of each page beside it. Returns its entry in `dossier.json`.
    fn put_document(
        &mut self,
        archive: &Archive,
        index: &Index,
        stem: &str,
        doc: &DocumentView,
    ) -> Result<serde_json::Value, BagError> {
        let segment = doc.pages.iter().any(|p| p.source_page.is_some());
        let (file, provenance) = if segment {
            self.put_segment(archive, stem, doc)?
        } else {
            let original = read_checked(archive, &doc.sha256)?;
            let media_type = index
                .media_type(&doc.path, doc.version)
                .map_err(FixityError::from)?;
            let file = format!("{stem}.{}", extension(media_type.as_deref()));
            self.put(&file, &original)?;
            (file, None)
        };
        let mut texts = Vec::new();
        for p in &doc.pages {
            let text_file = format!("{stem}-page-{}.txt", p.page);
            self.put(&text_file, p.text.as_bytes())?;
            texts.push(text_file);
        }
        let mut entry = serde_json::json!({
            "file": format!("data/{file}"),
            "ocr_text": texts.iter().map(|t| format!("data/{t}")).collect::<Vec<_>>(),
            "intake_path": doc.path,
            "document": doc,
        });
        if let Some(p) = provenance {
            entry["batch_scan"] = p;
        }
        Ok(entry)
    }

    /// A dossier split from a batch scan: its own pages only, as the PDF the run made of them
    /// (each page's image as OCR read it, with its text), never the batch file, which holds
    /// other dossiers' pages. The provenance names the batch (its SHA-256, as archived) and
    /// the pages of it this document is.
    fn put_segment(
        &mut self,
        archive: &Archive,
        stem: &str,
        doc: &DocumentView,
    ) -> Result<(String, Option<serde_json::Value>), BagError> {
        let pages: Vec<u32> = doc.pages.iter().filter_map(|p| p.source_page).collect();
        let provenance = serde_json::json!({
            "batch_path": doc.path.split('#').next().unwrap_or(&doc.path),
            "batch_sha256": doc.sha256,
            "batch_pages": pages,
        });
        let bytes = match &doc.searchable_pdf {
            Some(pdf) if *pdf != doc.sha256 => read_checked(archive, pdf)?,
            // Read wholly from the batch PDF's own text layer: its searchable copy is the
            // batch itself, so the segment's pages are cut out of it.
            _ => {
                let batch = read_checked(archive, &doc.sha256)?;
                pdf_pages(&batch, &pages)
                    .map_err(|why| BagError::NoSegmentPdf(doc.path.clone(), why))?
            }
        };
        let file = format!("{stem}.pdf");
        self.put(&file, &bytes)?;
        Ok((file, Some(provenance)))
    }

    /// The tag files: `bagit.txt`, `bag-info.txt`, the payload manifest, and the tag manifest
    /// over those three.
    fn finish(&mut self, dossiers: usize, today: Date) -> Result<(), BagError> {
        self.manifest.sort_by(|a, b| a.1.cmp(&b.1));
        let files = self.manifest.len();
        let mut manifest = String::new();
        for (sha, path) in &self.manifest {
            let _ = writeln!(manifest, "{sha}  {path}");
        }
        let tags = [
            self.tag("bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")?,
            self.tag(
                "bag-info.txt",
                &format!(
                    "Bagging-Date: {}\nPayload-Oxum: {}.{files}\nBag-Software-Agent: dossier {}\nExternal-Description: {dossiers} dossiers exported from a dossier archive\n",
                    today.iso(),
                    self.bytes,
                    env!("CARGO_PKG_VERSION"),
                ),
            )?,
            self.tag("manifest-sha256.txt", &manifest)?,
        ];
        let mut tagmanifest = String::new();
        for (sha, name) in &tags {
            let _ = writeln!(tagmanifest, "{sha}  {name}");
        }
        self.tag("tagmanifest-sha256.txt", &tagmanifest)?;
        Ok(())
    }
}

/// A PDF of the pages `keep` (numbered from 1) of the PDF `bytes`, nothing else of it.
fn pdf_pages(bytes: &[u8], keep: &[u32]) -> Result<Vec<u8>, String> {
    let mut doc = lopdf::Document::load_mem(bytes).map_err(|e| e.to_string())?;
    let all: Vec<u32> = doc.get_pages().keys().copied().collect();
    if keep.is_empty() || keep.iter().any(|p| !all.contains(p)) {
        return Err(format!("pages {keep:?} are not all in the batch"));
    }
    let drop: Vec<u32> = all.into_iter().filter(|p| !keep.contains(p)).collect();
    doc.delete_pages(&drop);
    doc.prune_objects();
    let mut out = Vec::new();
    doc.save_to(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// An archived object, checked against its hash on the way.
fn read_checked(archive: &Archive, sha256: &str) -> Result<Vec<u8>, BagError> {
    let bytes = archive
        .read_object(sha256)
        .map_err(|_| BagError::Object(sha256.to_owned()))?;
    if sha256_hex(&bytes) != sha256 {
        return Err(BagError::Object(sha256.to_owned()));
    }
    Ok(bytes)
}

fn extension(media_type: Option<&str>) -> &'static str {
    match media_type {
        Some("image/jpeg") => "jpg",
        Some("image/png") => "png",
        Some("image/tiff") => "tif",
        Some("application/pdf") => "pdf",
        _ => "bin",
    }
}

pub fn export_bag(
    root: &Path,
    index_url: Option<&str>,
    output: &Path,
    filter: &BagFilter,
    today: Date,
) -> Result<BagSummary, BagError> {
    let archive = Archive::open_existing(root, index_url.is_some()).map_err(FixityError::from)?;
    let location = crate::index::Location::resolve(archive.index_path(), index_url)
        .map_err(FixityError::from)?;
    let index = Index::open(&location, false).map_err(FixityError::from)?;
    let chosen = selected(&index, filter)?;
    if chosen.is_empty() {
        return Err(BagError::NothingSelected(filter.describe()));
    }
    let existed = output.exists();
    let mut bag = Bag::create(output)?;
    let filled = fill(&mut bag, &archive, &index, &chosen, today);
    let (dossiers, documents) = match filled {
        Ok(counts) => counts,
        Err(e) => {
            // Half a bag is worse than none: a reader could take it for the export.
            bag.remove(existed);
            return Err(e);
        }
    };
    Ok(BagSummary {
        output: output.display().to_string(),
        dossiers,
        documents,
        payload_files: bag.manifest.len(),
        payload_bytes: bag.bytes,
    })
}

/// Writes the chosen dossiers and the tag files: (dossiers, documents).
fn fill(
    bag: &mut Bag,
    archive: &Archive,
    index: &Index,
    chosen: &[(String, String)],
    today: Date,
) -> Result<(usize, usize), BagError> {
    let (mut dossiers, mut documents) = (0, 0);
    for (code, procedure) in chosen {
        let Some(view) = index.dossier(code).map_err(FixityError::from)? else {
            continue;
        };
        documents += bag.put_dossier(archive, index, &format!("{procedure}/{code}"), &view)?;
        dossiers += 1;
    }
    bag.finish(dossiers, today)?;
    Ok((dossiers, documents))
}

/// The dossiers the filter selects, as (dossier code, procedure code), in the index's order.
/// The date is the register's received date, else the one in the dossier code.
fn selected(index: &Index, filter: &BagFilter) -> Result<Vec<(String, String)>, FixityError> {
    let received = index.register_received_dates()?;
    let mut codes = Vec::new();
    index.for_each_holding(|h| codes.push((h.dossier_code, h.procedure_code)))?;
    codes.retain(|(code, procedure)| {
        let date = received
            .get(code)
            .copied()
            .or_else(|| date_in_dossier_code(code));
        // Codes were validated at intake; a code that fails now is not written anywhere.
        filter.selects(procedure, date)
            && validate_code(code).is_ok()
            && validate_code(procedure).is_ok()
    });
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::{Page, PageImage};

    #[test]
    fn a_segment_is_cut_out_of_its_batch_pdf_with_nothing_else() {
        let shades = [40u8, 120, 200];
        let pixels: Vec<Vec<u8>> = shades.iter().map(|s| vec![*s; 16 * 16]).collect();
        let pages: Vec<Page> = pixels
            .iter()
            .map(|p| Page {
                image: PageImage::Grey {
                    pixels: p,
                    width: 16,
                    height: 16,
                },
                dpi: 72,
                words: vec![],
                visible: vec![],
                rotate: 0,
            })
            .collect();
        let batch = crate::pdf::write(&pages);
        let cut = pdf_pages(&batch, &[2]).unwrap();
        let (_, mut read) = crate::decode::pages(&cut, Default::default()).unwrap();
        let only = read.next().unwrap().unwrap();
        assert!(read.next().is_none(), "one page only");
        assert_eq!(only.image.get_pixel(8, 8).0[0], 120);
        assert!(pdf_pages(&batch, &[4]).is_err());
        assert!(pdf_pages(b"not a pdf", &[1]).is_err());
    }
}
