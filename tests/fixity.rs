//! verify, the run ledger and BagIt export, on an archive tampered with in each way an
//! auditor must be able to detect.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{copy_archive, sql, verify, TestEnv};
use serde_json::Value;

fn findings(report: &Value) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                f["document"].as_str().unwrap_or("").to_owned(),
                f["detail"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// verify on a tampered archive: exit 4, and its findings as (kind, document, detail).
fn tampered(env: &TestEnv, archive: &Path, extra: &[&str]) -> Vec<(String, String, String)> {
    let (code, report) = verify(env, archive, extra);
    assert_eq!(code, 4, "{report:#}");
    findings(&report)
}

/// One of the findings is the one expected.
fn assert_any(findings: &[(String, String, String)], expected: impl Fn(&str, &str, &str) -> bool) {
    assert!(
        findings.iter().any(|(k, d, detail)| expected(k, d, detail)),
        "{findings:#?}"
    );
}

fn object(archive: &Path, sha: &str) -> PathBuf {
    archive.join("objects").join(&sha[..2]).join(sha)
}

#[test]
fn verify_detects_every_kind_of_tampering() {
    let env = TestEnv::generated(2);
    let (code, _, _) = env.run();
    assert_eq!(code, 0);
    let doc = &env.manifest.files[0];
    let shown = env.show(&doc.dossier);
    let document = shown["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"] == doc.path.as_str())
        .unwrap()
        .clone();
    let sha = document["sha256"].as_str().unwrap().to_owned();
    // Ingestion events are there from the start.
    let events: Vec<&str> = document["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(events, vec!["ingestion", "message digest calculation"]);

    // Clean: exit 0, and the check is recorded as a fixity event and a ledger entry.
    let (code, clean) = verify(&env, &env.archive(), &[]);
    assert_eq!(code, 0, "{clean:#}");
    assert!(clean["recorded"].as_bool().unwrap());
    assert!(clean["bytes_read"].as_u64().unwrap() > 0);
    let shown = env.show(&doc.dossier);
    let events = shown["documents"][0]["events"].as_array().unwrap();
    assert_eq!(events.last().unwrap()["type"], "fixity check");
    assert_eq!(events.last().unwrap()["outcome"], "success");
    let head = clean["ledger_head"].clone();
    assert_eq!(head["seq"], 2, "run + verify");
    // The coverage report carries the ledger head.
    let out = env.dossier(&[
        "report",
        "--archive",
        env.archive().to_str().unwrap(),
        "--format",
        "json",
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ledger_head"], head);

    // 1. One bit flipped in a stored original.
    let a = copy_archive(&env, "bitflip");
    let path = object(&a, &sha);
    let mut bytes = fs::read(&path).unwrap();
    bytes[100] ^= 0x01;
    fs::write(&path, &bytes).unwrap();
    let f = tampered(&env, &a, &[]);
    assert_any(&f, |k, d, detail| {
        k == "changed" && *d == doc.path && detail.contains("original")
    });
    // --fast sees presence and size only: a same-size change passes it.
    let (code, _) = verify(&env, &a, &["--fast"]);
    assert_eq!(code, 0);

    // 2. A stored file deleted.
    let a = copy_archive(&env, "deleted");
    fs::remove_file(object(&a, &sha)).unwrap();
    let f = tampered(&env, &a, &["--fast"]);
    assert_any(&f, |k, d, _| k == "missing" && *d == doc.path);

    // 3. An unknown file added to the store.
    let a = copy_archive(&env, "added");
    let stray = "ab".to_owned() + &"c".repeat(62);
    fs::create_dir_all(a.join("objects/ab")).unwrap();
    fs::write(object(&a, &stray), b"not from any run").unwrap();
    let f = tampered(&env, &a, &[]);
    assert_any(&f, |k, _, detail| {
        k == "untracked" && detail.contains("no index row")
    });

    // 4. OCR text edited, in the index and in the store.
    let a = copy_archive(&env, "text-index");
    sql(
        &a,
        "UPDATE pages SET text = replace(text, 'Mã hồ sơ', 'Mã giả') WHERE id = 1",
    );
    let f = tampered(&env, &a, &[]);
    assert_any(&f, |k, _, d| {
        k == "index" && d.contains("OCR text of page 1")
    });
    let a = copy_archive(&env, "text-object");
    let text_sha: String = rusqlite::Connection::open(a.join("index.sqlite"))
        .unwrap()
        .query_row("SELECT text_sha256 FROM pages WHERE id = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    let text_path = object(&a, &text_sha);
    let text = fs::read_to_string(&text_path).unwrap();
    fs::write(&text_path, text.replacen('0', "8", 1)).unwrap();
    let f = tampered(&env, &a, &[]);
    assert_any(&f, |k, _, d| {
        k == "changed" && d.contains("OCR text of page 1")
    });

    // 5. An index row deleted.
    let a = copy_archive(&env, "row");
    sql(&a, "DELETE FROM pages WHERE id = 1");
    let f = tampered(&env, &a, &[]);
    assert_any(&f, |k, _, d| k == "index" && d.contains("page rows"));
    assert_any(&f, |k, _, d| k == "index" && d.contains("full-text row"));

    // 6. A ledger entry edited.
    let a = copy_archive(&env, "ledger-edit");
    let ledger = fs::read_to_string(a.join("ledger.jsonl")).unwrap();
    fs::write(
        a.join("ledger.jsonl"),
        ledger.replacen("\"documents_added\":", "\"documents_added\":1", 1),
    )
    .unwrap();
    let f = tampered(&env, &a, &["--fast"]);
    assert_any(&f, |k, _, d| k == "ledger" && d.contains("differs"));
    // ... or edited in the index, where the chain breaks.
    let a = copy_archive(&env, "ledger-edit-index");
    sql(&a, "UPDATE ledger SET entry = replace(entry, '\"pages_ocr\":', '\"pages_ocr\":9') WHERE seq = 1");
    let f = tampered(&env, &a, &["--fast"]);
    assert_any(&f, |k, _, d| k == "ledger" && d.contains("was edited"));

    // 7. The ledger truncated.
    let a = copy_archive(&env, "ledger-cut");
    let ledger = fs::read_to_string(a.join("ledger.jsonl")).unwrap();
    let first = ledger.lines().next().unwrap();
    fs::write(a.join("ledger.jsonl"), format!("{first}\n")).unwrap();
    let f = tampered(&env, &a, &["--fast"]);
    assert_any(&f, |k, _, d| k == "ledger" && d.contains("removed"));
    // Reordering the table's entries breaks the chain too.
    let a = copy_archive(&env, "ledger-order");
    sql(&a, "UPDATE ledger SET seq = 3 WHERE seq = 1; UPDATE ledger SET seq = 1 WHERE seq = 2; UPDATE ledger SET seq = 2 WHERE seq = 3;");
    let f = tampered(&env, &a, &["--fast"]);
    assert_any(&f, |k, _, _| k == "ledger");
}

fn bagit_validate(bag: &Path) -> std::process::Output {
    // The Library of Congress tool (PyPI bagit), as `bagit.py --validate`.
    Command::new("python3")
        .args(["-m", "bagit", "--validate"])
        .arg(bag)
        .output()
        .expect("bagit.py is installed (scripts/install-deps.sh: pip install bagit)")
}

#[test]
fn exported_bags_validate_with_the_library_of_congress_tool() {
    let env = TestEnv::generated(3);
    env.run();
    let bag = env.root().join("bag");
    let out = env.dossier(&[
        "export-bag",
        "--archive",
        env.archive().to_str().unwrap(),
        "--output",
        bag.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let check = bagit_validate(&bag);
    assert!(
        check.status.success(),
        "bagit.py: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    // Payload under data/<procedure>/<dossier>/, originals byte for byte, with metadata.
    for f in &env.manifest.files {
        let dir = bag.join("data").join(&f.procedure).join(&f.dossier);
        assert!(dir.join("dossier.json").is_file(), "{}", dir.display());
        let original = fs::read(env.intake().join(&f.path)).unwrap();
        let found = walkdir::WalkDir::new(&dir)
            .into_iter()
            .filter_map(Result::ok)
            .any(|e| e.file_type().is_file() && fs::read(e.path()).unwrap() == original);
        assert!(found, "{} is in the bag", f.path);
    }
    let info = fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    assert!(info.contains("Payload-Oxum: ") && info.contains("Bagging-Date: "));

    // A bit flip in the payload: the bag no longer validates.
    let payload = walkdir::WalkDir::new(bag.join("data"))
        .into_iter()
        .filter_map(Result::ok)
        .find(|e| {
            e.path()
                .extension()
                .is_some_and(|x| x == "png" || x == "jpg" || x == "tif")
        })
        .unwrap()
        .into_path();
    let mut bytes = fs::read(&payload).unwrap();
    bytes[50] ^= 0x04;
    fs::write(&payload, bytes).unwrap();
    assert!(!bagit_validate(&bag).status.success());

    // Filters: one procedure only; an existing bag is never overwritten.
    let only = env.root().join("only");
    let procedure = &env.manifest.files[0].procedure;
    let out = env.dossier(&[
        "export-bag",
        "--archive",
        env.archive().to_str().unwrap(),
        "--output",
        only.to_str().unwrap(),
        "--procedure",
        procedure,
    ]);
    assert!(out.status.success());
    let procedures: Vec<String> = fs::read_dir(only.join("data"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(procedures, vec![procedure.clone()]);
    let out = env.dossier(&[
        "export-bag",
        "--archive",
        env.archive().to_str().unwrap(),
        "--output",
        bag.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));
}
