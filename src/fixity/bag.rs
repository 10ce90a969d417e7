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
use crate::index::Index;
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

struct Bag {
    root: PathBuf,
    manifest: Vec<(String, String)>,
    bytes: u64,
}

impl Bag {
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
    let received = index.register_received_dates().map_err(FixityError::from)?;
    let mut codes = Vec::new();
    index
        .for_each_holding(|h| codes.push((h.dossier_code, h.procedure_code)))
        .map_err(FixityError::from)?;
    let mut bag = Bag {
        root: output.to_owned(),
        manifest: Vec::new(),
        bytes: 0,
    };
    let (mut dossiers, mut documents) = (0, 0);
    for (code, procedure) in codes {
        if filter.procedure.as_ref().is_some_and(|p| *p != procedure) {
            continue;
        }
        let date = received
            .get(&code)
            .copied()
            .or_else(|| date_in_dossier_code(&code));
        let in_period = match date {
            Some(d) => filter.from.is_none_or(|f| d >= f) && filter.to.is_none_or(|t| d <= t),
            None => filter.from.is_none() && filter.to.is_none(),
        };
        // Codes were validated at intake; a code that fails now is not written anywhere.
        if !in_period || validate_code(&code).is_err() || validate_code(&procedure).is_err() {
            continue;
        }
        let Some(view) = index.dossier(&code).map_err(FixityError::from)? else {
            continue;
        };
        let base = format!("{procedure}/{code}");
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
            bag.put(&file, &original)?;
            let mut texts = Vec::new();
            for p in &doc.pages {
                let text_file = format!("{stem}-page-{}.txt", p.page);
                bag.put(&text_file, p.text.as_bytes())?;
                texts.push(text_file);
            }
            meta_docs.push(serde_json::json!({
                "file": format!("data/{file}"),
                "ocr_text": texts.iter().map(|t| format!("data/{t}")).collect::<Vec<_>>(),
                "intake_path": doc.path,
                "document": doc,
            }));
            documents += 1;
        }
        let meta = serde_json::json!({
            "dossier_code": view.dossier_code,
            "procedure_code": view.procedure_code,
            "unit": view.unit,
            "documents": meta_docs,
        });
        bag.put(
            &format!("{base}/dossier.json"),
            serde_json::to_string_pretty(&meta)
                .expect("metadata serializes")
                .as_bytes(),
        )?;
        dossiers += 1;
    }
    bag.manifest.sort_by(|a, b| a.1.cmp(&b.1));
    let files = bag.manifest.len();
    let mut manifest = String::new();
    for (sha, path) in &bag.manifest {
        let _ = writeln!(manifest, "{sha}  {path}");
    }
    let tags = [
        bag.tag("bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")?,
        bag.tag(
            "bag-info.txt",
            &format!(
                "Bagging-Date: {}\nPayload-Oxum: {}.{files}\nBag-Software-Agent: dossier {}\nExternal-Description: {dossiers} dossiers exported from a dossier archive\n",
                today.iso(),
                bag.bytes,
                env!("CARGO_PKG_VERSION"),
            ),
        )?,
        bag.tag("manifest-sha256.txt", &manifest)?,
    ];
    let mut tagmanifest = String::new();
    for (sha, name) in &tags {
        let _ = writeln!(tagmanifest, "{sha}  {name}");
    }
    bag.tag("tagmanifest-sha256.txt", &tagmanifest)?;
    Ok(BagSummary {
        output: output.display().to_string(),
        dossiers,
        documents,
        payload_files: files,
        payload_bytes: bag.bytes,
    })
}
