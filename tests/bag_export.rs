//! `export-bag` on a batch scan: each dossier leaves with its own pages only (read back by
//! real Tesseract), never another dossier's; refusals and failures leave no bag behind.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{sha256_file, TestEnv};
use dossier::cover::{render_sheet, Symbols, MARKER};
use dossier::sample::{self, FileKind};
use serde_json::Value;

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn tool(name: &str) -> PathBuf {
    let debian = Path::new("/usr/bin").join(name);
    if debian.exists() {
        debian
    } else {
        PathBuf::from(name)
    }
}

/// The text real Tesseract reads on every page of `pdf` (rendered at 200 dpi), and the page
/// count.
fn ocr_back(pdf: &Path, work: &Path) -> (String, usize) {
    let prefix = work.join("page");
    let out = Command::new(tool("pdftoppm"))
        .args(["-r", "200", "-gray"])
        .arg(pdf)
        .arg(&prefix)
        .output()
        .expect("pdftoppm runs (poppler-utils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut pages: Vec<PathBuf> = files(work)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pgm"))
        .collect();
    pages.sort();
    let mut text = String::new();
    for page in &pages {
        let out = Command::new(tool("tesseract"))
            .arg(page)
            .arg("-")
            .args(["-l", "vie", "--psm", "3"])
            .output()
            .expect("tesseract runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    (text, pages.len())
}

fn export(env: &TestEnv, output: &Path, extra: &[&str]) -> (i32, String) {
    let archive = env.archive();
    let mut args = vec![
        "export-bag",
        "--archive",
        archive.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = env.dossier(&args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_dossier_split_from_a_batch_scan_leaves_with_its_own_pages_only() {
    let env = TestEnv::generated(2);
    let page = |i: usize| {
        let f = &env.manifest.files[i];
        let bytes = fs::read(env.intake().join(&f.path)).unwrap();
        let (_, mut pages) = dossier::decode::pages(&bytes, Default::default()).unwrap();
        (
            pages.next().unwrap().unwrap().image,
            f.procedure.clone(),
            f.dossier.clone(),
        )
    };
    let (page_a, proc_a, code_a) = page(0);
    let (page_b, proc_b, code_b) = page(
        env.manifest
            .files
            .iter()
            .position(|f| f.procedure != proc_a)
            .unwrap(),
    );
    assert_ne!(proc_a, proc_b);
    let sheet =
        |p: &str, d: &str| render_sheet(&format!("{MARKER}{p}/{d}"), Symbols::BOTH, 300).unwrap();
    let batch = vec![
        sheet(&proc_a, &code_a),
        page_a,
        sheet(&proc_b, &code_b),
        page_b,
    ];
    fs::remove_dir_all(env.intake()).unwrap();
    fs::create_dir_all(env.intake().join("_batch")).unwrap();
    let batch_file = env.intake().join("_batch/scan-0001.tif");
    fs::write(
        &batch_file,
        sample::encode(&batch, FileKind::Tiff, 300).unwrap(),
    )
    .unwrap();
    let batch_sha = sha256_file(&batch_file);
    let (code, report, stderr) = env.run();
    assert_eq!(code, 0, "{report}\n{stderr}");

    let bag = env.root().join("bag-a");
    let (code, stderr) = export(&env, &bag, &["--procedure", &proc_a]);
    assert_eq!(code, 0, "{stderr}");
    let payload: Vec<PathBuf> = files(&bag.join("data"));
    // Nothing of the other procedure, and never the batch file itself.
    assert!(payload
        .iter()
        .all(|p| !p.starts_with(bag.join("data").join(&proc_b))));
    assert!(
        payload.iter().all(|p| sha256_file(p) != batch_sha),
        "the whole batch was exported"
    );
    let pdfs: Vec<&PathBuf> = payload
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
        .collect();
    assert_eq!(pdfs.len(), 1, "{payload:?}");
    let meta: Value = serde_json::from_slice(
        &fs::read(
            bag.join("data")
                .join(&proc_a)
                .join(&code_a)
                .join("dossier.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let provenance = &meta["documents"][0]["batch_scan"];
    assert_eq!(provenance["batch_sha256"], batch_sha.as_str(), "{meta}");
    assert_eq!(provenance["batch_pages"], serde_json::json!([2]), "{meta}");
    assert_eq!(provenance["batch_path"], "_batch/scan-0001.tif");

    // Read back by Tesseract: one page, dossier a's, nothing of dossier b's.
    let work = tempfile::tempdir().unwrap();
    let (text, pages) = ocr_back(pdfs[0], work.path());
    assert_eq!(pages, 1, "{text}");
    let squeezed: String = text.split_whitespace().collect();
    assert!(
        squeezed.contains(&code_a) || squeezed.contains(&proc_a),
        "{text}"
    );
    assert!(
        !squeezed.contains(&code_b) && !squeezed.contains(&proc_b),
        "{text}"
    );

    // Without a filter: each dossier its own one-page PDF, no batch copy.
    let all = env.root().join("bag-all");
    assert_eq!(export(&env, &all, &[]).0, 0);
    let payload = files(&all.join("data"));
    assert!(payload.iter().all(|p| sha256_file(p) != batch_sha));
    assert_eq!(
        payload
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
            .count(),
        2
    );
}

#[test]
fn export_bag_refuses_the_archive_and_empty_selections_and_leaves_no_partial_bag() {
    let env = TestEnv::generated(2);
    let (code, report, stderr) = env.run();
    assert_eq!(code, 0, "{report}\n{stderr}");

    // Into the archive: a usage error, one line, nothing written.
    let inside = env.archive().join("bag");
    let (code, stderr) = export(&env, &inside, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("inside the archive"), "{stderr}");
    assert!(!inside.exists());

    // A filter that matches nothing: a message, no bag.
    let none = env.root().join("bag-none");
    let (code, stderr) = export(&env, &none, &["--procedure", "9.999999"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("no dossier") && stderr.contains("9.999999"),
        "{stderr}"
    );
    assert!(!none.exists());

    // An original gone from the store: the export fails part-way (the dossier exported last)
    // and removes what it wrote.
    let mut codes: Vec<&str> = env
        .manifest
        .files
        .iter()
        .map(|f| f.dossier.as_str())
        .collect();
    codes.sort();
    let last = codes.last().unwrap();
    let doc = &env.show(last)["documents"][0];
    let sha = doc["sha256"].as_str().unwrap();
    fs::remove_file(env.archive().join("objects").join(&sha[..2]).join(sha)).unwrap();
    let partial = env.root().join("bag-partial");
    let (code, stderr) = export(&env, &partial, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(sha), "{stderr}");
    assert!(
        !partial.exists(),
        "a partial bag was left: {:?}",
        files(&partial)
    );
    // Into an empty folder that was there before: emptied again, kept.
    fs::create_dir_all(&partial).unwrap();
    assert_eq!(export(&env, &partial, &[]).0, 1);
    assert!(partial.is_dir() && fs::read_dir(&partial).unwrap().next().is_none());
}
