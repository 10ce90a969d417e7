//! The character error rate's arithmetic and the reading it is compared with (the Tesseract
//! CLI), shared by the benches that measure it (`cer`, `public_scans`) and the tests' CER so
//! their figures stay comparable, pulled in by `#[path]`: each bench and test is a crate of
//! its own.

use std::path::Path;
use std::process::Command;

use unicode_normalization::UnicodeNormalization;

/// Character edits between `reference` and `hypothesis` (whitespace runs folded to one
/// space, both sides NFC), and the reference's length in characters: CER is their quotient.
pub fn edits(reference: &str, hypothesis: &str) -> (usize, usize) {
    let norm = |s: &str| -> Vec<char> {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .nfc()
            .collect()
    };
    let (r, h) = (norm(reference), norm(hypothesis));
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    for (i, rc) in r.iter().enumerate() {
        let mut cur = vec![i + 1; h.len() + 1];
        for (j, hc) in h.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(rc != hc))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    (prev[h.len()], r.len())
}

/// The languages the CLI reads with: `vie`, as issue #16's bar says, unless CER_CLI_LANGS
/// names others (`eng`: what the CLI makes of English pages with the English model).
#[allow(dead_code)] // the tests use only `edits`
pub fn cli_languages() -> String {
    std::env::var("CER_CLI_LANGS").unwrap_or_else(|_| "vie".to_owned())
}

/// What `tesseract FILE - -l vie` (or [`cli_languages`]) reads of `path`, with one OpenMP
/// thread.
#[allow(dead_code)] // the tests use only `edits`
pub fn tesseract_cli(path: &Path) -> String {
    let out = Command::new("tesseract")
        .arg(path)
        .args(["-", "-l", &cli_languages()])
        .env("OMP_THREAD_LIMIT", "1")
        .output()
        .expect("tesseract CLI runs (Debian tesseract-ocr, tesseract-ocr-vie)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
