//! What `dossier --version` says about the OCR it runs with: the Tesseract and Leptonica
//! libraries actually loaded (asked at run time, not the headers built against: Debian may
//! upgrade them under the binary), and the language models in the tessdata folder.
//!
//! The folder is the one a run would use without `[ocr] tessdata`: `TESSDATA_PREFIX` when it
//! exists, else the first of the usual packaged folders that exists. Nothing is loaded: the
//! models are listed as files (`vie.traineddata` → `vie`), sorted.

use std::ffi::{c_char, CStr};
use std::path::{Path, PathBuf};

/// Built-in tessdata folders of the usual packages (Debian 12, Debian 11, Fedora, source).
pub const USUAL_TESSDATA: &[&str] = &[
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
];

unsafe extern "C" {
    fn getLeptonicaVersion() -> *mut c_char;
    fn lept_free(ptr: *mut std::ffi::c_void);
}

/// The loaded libtesseract's version, `5.3.0`.
pub fn tesseract() -> String {
    // SAFETY: TessVersion returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(tesseract_sys::TessVersion()) }
        .to_string_lossy()
        .into_owned()
}

/// The loaded Leptonica's version, `leptonica-1.82.0`.
pub fn leptonica() -> String {
    // SAFETY: getLeptonicaVersion returns a string allocated by Leptonica, freed with its own
    // lept_free after it is copied.
    unsafe {
        let text = getLeptonicaVersion();
        if text.is_null() {
            return "unknown".to_owned();
        }
        let version = CStr::from_ptr(text).to_string_lossy().into_owned();
        lept_free(text.cast());
        version
    }
}

/// The tessdata folder a run uses by default, if one exists.
pub fn tessdata_folder() -> Option<PathBuf> {
    std::env::var_os("TESSDATA_PREFIX")
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .or_else(|| {
            USUAL_TESSDATA
                .iter()
                .map(PathBuf::from)
                .find(|p| p.is_dir())
        })
}

/// The language models in `folder`, sorted (`eng`, `osd`, `vie`).
pub fn languages(folder: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut found: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_suffix(".traineddata").map(str::to_owned)
        })
        .collect();
    found.sort();
    found
}

/// The lines `--version` prints after the first (which is clap's `dossier VERSION`).
pub fn report(commit: &str) -> String {
    let folder = tessdata_folder();
    let languages = folder
        .as_deref()
        .map(languages)
        .filter(|l| !l.is_empty())
        .map(|l| l.join(" "))
        .unwrap_or_else(|| "none found".to_owned());
    let folder = folder
        .map(|f| f.display().to_string())
        .unwrap_or_else(|| format!("none of TESSDATA_PREFIX, {}", USUAL_TESSDATA.join(", ")));
    format!(
        "commit {commit}\ntesseract {}\nleptonica {}\ntessdata {folder}\nlanguages {languages}",
        tesseract(),
        leptonica().trim_start_matches("leptonica-"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_libraries_loaded_say_their_versions() {
        let t = tesseract();
        assert!(t.starts_with(|c: char| c.is_ascii_digit()), "{t}");
        assert!(leptonica().starts_with("leptonica-"), "{}", leptonica());
    }

    #[test]
    fn models_are_listed_from_their_files() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["vie.traineddata", "osd.traineddata", "notes.txt"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        assert_eq!(languages(dir.path()), ["osd", "vie"]);
    }
}
