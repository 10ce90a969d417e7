//! `export-bag`: dossiers as a BagIt bag (RFC 8493) for another archive.
//!
//! ```text
//! OUT/bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
//! OUT/data/<procedure>/<dossier>/dossier.json                       metadata, evidence, events
//! OUT/data/<procedure>/<dossier>/<kind>/document-<n>-v<version>.<ext>   the original
//! OUT/data/<procedure>/<dossier>/<kind>/document-<n>-v<version>-page-<p>.txt   its OCR text
//! ```
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
}

impl BagFilter {
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
        let original = archive
            .read_object(&doc.sha256)
            .map_err(|_| BagError::Object(doc.sha256.clone()))?;
        if sha256_hex(&original) != doc.sha256 {
            return Err(BagError::Object(doc.sha256.clone()));
        }
        let media_type = index
            .media_type(&doc.path, doc.version)
            .map_err(FixityError::from)?;
        let file = format!("{stem}.{}", extension(media_type.as_deref()));
        self.put(&file, &original)?;
        let mut texts = Vec::new();
        for p in &doc.pages {
            let text_file = format!("{stem}-page-{}.txt", p.page);
            self.put(&text_file, p.text.as_bytes())?;
            texts.push(text_file);
        }
        Ok(serde_json::json!({
            "file": format!("data/{file}"),
            "ocr_text": texts.iter().map(|t| format!("data/{t}")).collect::<Vec<_>>(),
            "intake_path": doc.path,
            "document": doc,
        }))
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
    let mut bag = Bag::create(output)?;
    let (mut dossiers, mut documents) = (0, 0);
    for (code, procedure) in selected(&index, filter)? {
        let Some(view) = index.dossier(&code).map_err(FixityError::from)? else {
            continue;
        };
        documents += bag.put_dossier(&archive, &index, &format!("{procedure}/{code}"), &view)?;
        dossiers += 1;
    }
    bag.finish(dossiers, today)?;
    Ok(BagSummary {
        output: output.display().to_string(),
        dossiers,
        documents,
        payload_files: bag.manifest.len(),
        payload_bytes: bag.bytes,
    })
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
