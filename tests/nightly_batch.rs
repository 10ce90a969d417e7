//! The nightly batch end to end: the real binary, real Tesseract, a generated intake.

mod common;

use std::collections::HashMap;
use std::fs;
use std::time::{Duration, SystemTime};

use common::{cer, sha256_file, TestEnv};
use dossier::fold::fold;

#[test]
fn cer_helper_counts_edits() {
    assert_eq!(cer("abc", "abc"), 0.0);
    assert_eq!(cer("abcd", "abed"), 0.25);
    assert_eq!(cer("Đức  Anh", "Đức Anh"), 0.0);
    assert!((cer("Hương", "Huong") - 0.4).abs() < 1e-9);
}

/// One batch over a generated tree, then every promise of issue "Nightly batch" checked on it.
#[test]
fn batch_archives_indexes_and_reruns_incrementally() {
    let env = TestEnv::generated(3);
    // A corrupt scan next to the good ones: a PNG cut short by the scanner.
    let good = env.intake().join(&env.manifest.files[0].path);
    let bytes = fs::read(&good).unwrap();
    let corrupt_rel = format!(
        "{}/{}/input/hong.png",
        env.manifest.files[0].procedure, env.manifest.files[0].dossier
    );
    fs::write(env.intake().join(&corrupt_rel), &bytes[..bytes.len() / 3]).unwrap();

    let (code, report, stderr) = env.run();
    assert_eq!(
        code, 3,
        "a rejected input makes exit code 3; stderr:\n{stderr}"
    );
    let rejected = report["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{report:#}");
    assert_eq!(rejected[0]["path"], corrupt_rel.as_str());
    assert!(
        rejected[0]["reason"]
            .as_str()
            .unwrap()
            .contains("cannot decode PNG"),
        "{report:#}"
    );
    let pages: usize = env.manifest.files.iter().map(|f| f.pages.len()).sum();
    assert_eq!(report["pages_ocr"], pages as u64);
    assert_eq!(
        report["documents_added"],
        env.manifest.files.len() as u64 + 1
    );
    assert_eq!(
        report["omp_thread_limit"], "1",
        "dossier re-executes itself with OMP_THREAD_LIMIT=1"
    );
    // The run report is kept in the archive too.
    let run_id = report["run_id"].as_str().unwrap();
    assert!(env
        .archive()
        .join("runs")
        .join(format!("{run_id}.json"))
        .is_file());
    // Plain log lines off a terminal: one per dossier, no control characters, no OCR text.
    assert!(
        stderr
            .lines()
            .filter(|l| common::log_message(l).starts_with("dossier "))
            .count()
            >= 3,
        "{stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "no terminal escapes in logs");

    // Every document, the corrupt one included, is archived under the hash we compute.
    let mut all_files = env
        .manifest
        .files
        .iter()
        .map(|f| f.path.clone())
        .collect::<Vec<_>>();
    all_files.push(corrupt_rel.clone());
    let mut shown: HashMap<String, serde_json::Value> = HashMap::new();
    for f in &env.manifest.files {
        shown
            .entry(f.dossier.clone())
            .or_insert_with(|| env.show(&f.dossier));
    }
    for rel in &all_files {
        let sha = sha256_file(&env.intake().join(rel));
        let object = env.archive().join("objects").join(&sha[..2]).join(&sha);
        assert_eq!(
            fs::read(&object).unwrap(),
            fs::read(env.intake().join(rel)).unwrap(),
            "{rel}"
        );
        let dossier = rel.split('/').nth(1).unwrap();
        let docs = shown[dossier]["documents"].as_array().unwrap();
        let doc = docs
            .iter()
            .find(|d| d["path"] == rel.as_str())
            .unwrap_or_else(|| panic!("{rel} shown"));
        assert_eq!(doc["sha256"], sha.as_str());
        assert_eq!(doc["version"], 1);
    }

    // show: every page with its confidence and text; the text is close to what was printed.
    for f in &env.manifest.files {
        let doc = shown[&f.dossier]["documents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["path"] == f.path.as_str())
            .unwrap()
            .clone();
        assert_eq!(doc["quality"], "pass", "{doc:#}");
        let pages = doc["pages"].as_array().unwrap();
        assert_eq!(pages.len(), f.pages.len());
        for (page, truth) in pages.iter().zip(&f.pages) {
            assert!(page["confidence"].as_f64().unwrap() > 50.0);
            assert_eq!(page["dpi"], 300);
            let text = page["text"].as_str().unwrap();
            let rate = cer(&truth.lines.join("\n"), text);
            assert!(rate < 0.02, "{}: CER {rate:.4}\n{text}", f.path);
        }
    }
    // The rejected document is shown with its reason and no pages.
    let corrupt_dossier = &env.manifest.files[0].dossier;
    let corrupt_doc = shown[corrupt_dossier]["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"] == corrupt_rel.as_str())
        .unwrap()
        .clone();
    assert_eq!(corrupt_doc["quality"], "fail");
    assert!(corrupt_doc["rejected"]
        .as_str()
        .unwrap()
        .contains("cannot decode"));

    // search: a name printed on a page, typed with and without diacritics, in any case.
    let name_line = env.manifest.files[1].pages[0]
        .lines
        .iter()
        .find(|l| l.starts_with("Họ, chữ đệm, tên"))
        .unwrap();
    let name = name_line.rsplit(": ").next().unwrap();
    for query in [name.to_string(), name.to_lowercase(), fold(name)] {
        let hits = env.search(&query);
        assert!(
            hits.iter()
                .any(|h| h["dossier_code"] == env.manifest.files[1].dossier.as_str()),
            "query {query:?} finds {}: {hits:#?}",
            env.manifest.files[1].dossier
        );
        let hit = &hits[0];
        for key in [
            "dossier_code",
            "procedure_code",
            "document",
            "page",
            "snippet",
            "score",
        ] {
            assert!(hit.get(key).is_some(), "hit has {key}");
        }
    }
    assert!(env.search("xyzzy không có").is_empty());
    // Personal data stays out of logs and run reports: the name read on the page appears in
    // neither the first run's log nor any kept run report.
    assert!(!stderr.contains(name), "the log shows OCR text");
    for entry in fs::read_dir(env.archive().join("runs")).unwrap() {
        let text = fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(
            !text.contains(name) && !text.contains(&fold(name)),
            "a run report shows OCR text"
        );
    }

    // A rerun over the unchanged intake reads nothing, OCRs nothing, archives nothing.
    let (code, report, _) = env.run();
    assert_eq!(code, 0, "nothing new was rejected: {report:#}");
    assert_eq!(report["pages_ocr"], 0);
    assert_eq!(report["documents_added"], 0);
    assert_eq!(report["files_unchanged"], all_files.len() as u64);

    // A changed file becomes version 2; version 1 stays in the archive.
    let changed = env.intake().join(&env.manifest.files[1].path);
    let old_sha = sha256_file(&changed);
    let replacement = fs::read(env.intake().join(&env.manifest.files[0].path)).unwrap();
    fs::write(&changed, &replacement).unwrap();
    let past = SystemTime::now() - Duration::from_secs(60);
    fs::File::options()
        .write(true)
        .open(&changed)
        .unwrap()
        .set_modified(past)
        .unwrap();
    let (code, report, _) = env.run();
    assert_eq!(code, 0);
    assert_eq!(report["documents_added"], 1, "{report:#}");
    let view = env.show(&env.manifest.files[1].dossier);
    let versions: Vec<(u64, String)> = view["documents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["path"] == env.manifest.files[1].path.as_str())
        .map(|d| {
            (
                d["version"].as_u64().unwrap(),
                d["sha256"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        vec![(1, old_sha.clone()), (2, sha256_file(&changed))]
    );
    assert!(env
        .archive()
        .join("objects")
        .join(&old_sha[..2])
        .join(&old_sha)
        .is_file());
}

#[test]
fn touched_but_unchanged_files_are_not_archived_again() {
    let env = TestEnv::generated(1);
    let (code, first, _) = env.run();
    assert_eq!(code, 0);
    let file = env.intake().join(&env.manifest.files[0].path);
    let past = SystemTime::now() - Duration::from_secs(3600);
    fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(past)
        .unwrap();
    let (_, second, _) = env.run();
    assert_eq!(second["documents_added"], 0);
    assert_eq!(second["pages_ocr"], 0);
    assert_eq!(second["files_unchanged"], first["files_seen"]);
}

#[test]
fn the_archive_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::generated(1);
    env.run();
    for entry in walkdir::WalkDir::new(env.archive()) {
        let entry = entry.unwrap();
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        let expected = if entry.file_type().is_dir() {
            0o700
        } else {
            0o600
        };
        assert_eq!(mode, expected, "{}", entry.path().display());
    }
}

#[test]
fn fatal_problems_exit_1_with_one_clear_line() {
    let env = TestEnv::generated(1);
    // Missing intake folder.
    fs::rename(env.intake(), env.root().join("elsewhere")).unwrap();
    let out = env.dossier(&["run", env.pipeline().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("intake folder") && stderr.contains("does not exist"),
        "{stderr}"
    );
    // Bad pipeline file: names the file and the line.
    fs::write(env.pipeline(), "[pipeline]\nname = \"x\"\nintake = 3\n").unwrap();
    let out = env.dossier(&["run", env.pipeline().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pipeline.toml") && stderr.contains("line 3"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    // Usage errors exit 2.
    let out = env.dossier(&["run"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_second_run_on_a_locked_archive_exits_1_naming_the_holder() {
    let env = TestEnv::generated(1);
    fs::create_dir_all(env.archive()).unwrap();
    let lock = fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(env.archive().join("lock"))
        .unwrap();
    lock.try_lock().unwrap();
    fs::write(
        env.archive().join("lock"),
        "pid 4242 on scanner-pc since 2024-01-16T01:02:03Z",
    )
    .unwrap();
    let out = env.dossier(&["run", env.pipeline().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("locked") && stderr.contains("pid 4242"),
        "{stderr}"
    );
    drop(lock);
    let (code, report, _) = env.run();
    assert_eq!(code, 0, "the lock is free once its holder is gone");
    assert!(report["documents_added"].as_u64().unwrap() > 0);
}

#[test]
fn misplaced_unsupported_and_hidden_files_are_handled_not_skipped_silently() {
    let env = TestEnv::generated(1);
    let f = &env.manifest.files[0];
    fs::write(env.intake().join("loose.png"), b"x").unwrap();
    fs::write(
        env.intake()
            .join(format!("{}/{}/input/notes.txt", f.procedure, f.dossier)),
        b"ghi chu",
    )
    .unwrap();
    fs::write(
        env.intake()
            .join(format!("{}/{}/input/.scan.tmp", f.procedure, f.dossier)),
        b"partial",
    )
    .unwrap();
    let (code, report, _) = env.run();
    assert_eq!(code, 3);
    let rejected: HashMap<String, String> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_owned(),
                r["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        rejected["loose.png"].contains("not in a dossier folder"),
        "{rejected:?}"
    );
    let txt = format!("{}/{}/input/notes.txt", f.procedure, f.dossier);
    assert!(
        rejected[&txt].contains("unsupported file type"),
        "{rejected:?}"
    );
    assert_eq!(
        rejected.len(),
        2,
        "hidden files wait silently: {rejected:?}"
    );
    // The unsupported file is archived all the same: nothing is lost.
    let sha = sha256_file(&env.intake().join(&txt));
    assert!(env
        .archive()
        .join("objects")
        .join(&sha[..2])
        .join(&sha)
        .is_file());
}

#[test]
fn pages_scanned_at_600_dpi_are_read_at_300_and_archived_untouched() {
    let env = TestEnv::generated_at(1, 600);
    let f = &env.manifest.files[0];
    let (code, _, _) = env.run();
    assert_eq!(code, 0);
    let view = env.show(&f.dossier);
    let doc = view["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"] == f.path.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        doc["sha256"],
        sha256_file(&env.intake().join(&f.path)).as_str()
    );
    let page = &doc["pages"][0];
    assert_eq!(page["dpi"], 600, "the page keeps its scanned resolution");
    let rate = cer(&f.pages[0].lines.join("\n"), page["text"].as_str().unwrap());
    assert!(rate < 0.02, "CER {rate:.4}");
}
