//! Evidence an auditor can trust: no index row that enters a figure changes without `verify`
//! saying so, however consistently the rows are edited together.

mod common;

use std::path::Path;

use common::{copy_archive, sql, verify, TestEnv};
use serde_json::Value;

/// verify exits 4 on the tampered copy and one finding has `kind` and mentions `text`.
fn detected(env: &TestEnv, archive: &Path, kind: &str, text: &str) {
    for mode in [&[][..], &["--fast"][..]] {
        let (code, report) = verify(env, archive, mode);
        assert_eq!(code, 4, "{mode:?}: {report:#}");
        let found = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == kind && f["detail"].as_str().unwrap().contains(text));
        assert!(
            found,
            "{mode:?}: no {kind} finding with {text:?}: {report:#}"
        );
    }
}

/// `dossier report --archive ARCHIVE --format json`, as it ran.
fn report_output(env: &TestEnv, archive: &Path) -> std::process::Output {
    env.dossier(&[
        "report",
        "--archive",
        archive.to_str().unwrap(),
        "--format",
        "json",
    ])
}

fn report_json(env: &TestEnv, archive: &Path) -> Value {
    serde_json::from_slice(&report_output(env, archive).stdout).unwrap()
}

fn first_dossier_with_input(archive: &Path) -> String {
    rusqlite::Connection::open(archive.join("index.sqlite"))
        .unwrap()
        .query_row(
            // Not one filed online: its input counts as digitized without a scan.
            "SELECT dossier_code FROM documents WHERE kind = 'input' AND quality = 'pass'
                 AND dossier_code NOT IN (SELECT dossier_code FROM register
                                          WHERE channel = 'online')
             ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn every_edit_of_what_enters_a_figure_is_a_verify_finding() {
    let env = TestEnv::generated(3);
    env.write_pipeline("[register]\npath = \"register.csv\"\n");
    let (code, _, stderr) = env.run();
    assert_eq!(code, 0, "{stderr}");
    let (code, clean) = verify(&env, &env.archive(), &[]);
    assert_eq!(code, 0, "{clean:#}");
    let dossier = first_dossier_with_input(&env.archive());

    // 1. A consistent edit of three rows: the document's verdict, the current-document view
    // and the dossier's flag. The figure moves, and verify names the record's fields.
    let a = copy_archive(&env, "quality");
    let before = report_json(&env, &a)["totals"]["input_digitized"].clone();
    sql(
        &a,
        &format!(
            "UPDATE documents SET quality = 'fail', reasons = '[\"below 200 dpi\"]'
                 WHERE dossier_code = '{dossier}' AND kind = 'input';
             UPDATE current_documents SET quality = 'fail'
                 WHERE dossier_code = '{dossier}' AND kind = 'input';
             UPDATE dossiers SET input_passes = 0 WHERE code = '{dossier}';"
        ),
    );
    assert_ne!(
        report_json(&env, &a)["totals"]["input_digitized"],
        before,
        "the edit moves the figure"
    );
    detected(
        &env,
        &a,
        "evidence",
        "differ from its evidence record in: quality, reasons",
    );

    // 2. A register row deleted.
    let a = copy_archive(&env, "register-row");
    sql(
        &a,
        "DELETE FROM register WHERE dossier_code = (SELECT MIN(dossier_code) FROM register)",
    );
    detected(
        &env,
        &a,
        "evidence",
        "the rows in the index differ from the rows this import brought",
    );

    // 3. The events deleted, or their table dropped.
    let a = copy_archive(&env, "events");
    sql(&a, "DELETE FROM events");
    detected(&env, &a, "evidence", "in: events");
    detected(&env, &a, "ledger", "fixity events");
    let a = copy_archive(&env, "events-table");
    sql(&a, "DROP TABLE events");
    detected(&env, &a, "evidence", "in: events");

    // 4. OCR text changed together with its hash.
    let a = copy_archive(&env, "text");
    let text = "GIẤY KHAI SINH (giả)";
    let sha = common::sha256_bytes(text.as_bytes());
    sql(
        &a,
        &format!("UPDATE pages SET text = '{text}', text_sha256 = '{sha}' WHERE id = 1"),
    );
    detected(&env, &a, "evidence", "in: pages");

    // 5. A dossier moved to another procedure, its documents with it.
    let a = copy_archive(&env, "procedure");
    sql(
        &a,
        &format!(
            "UPDATE dossiers SET procedure_code = '9.999999' WHERE code = '{dossier}';
             UPDATE documents SET procedure_code = '9.999999' WHERE dossier_code = '{dossier}';"
        ),
    );
    detected(&env, &a, "evidence", "in: procedure");
    let a = copy_archive(&env, "procedure-dossier-only");
    sql(
        &a,
        &format!("UPDATE dossiers SET procedure_code = '9.999999' WHERE code = '{dossier}'"),
    );
    detected(&env, &a, "index", "procedure or unit differs");

    // 6. The record hash taken off a document, or its record's hash replaced.
    let a = copy_archive(&env, "no-record");
    sql(&a, "UPDATE documents SET record_sha256 = NULL WHERE id = 1");
    detected(&env, &a, "evidence", "has no evidence record");
    detected(&env, &a, "ledger", "no longer give the root");
}

#[test]
fn a_lost_index_is_refused_and_the_history_is_anchored() {
    let env = TestEnv::generated(1);
    let (code, _, stderr) = env.run();
    assert_eq!(code, 0, "{stderr}");
    let (code, clean) = verify(&env, &env.archive(), &[]);
    assert_eq!(code, 0, "{clean:#}");
    let head = format!(
        "{}:{}",
        clean["ledger_head"]["seq"],
        clean["ledger_head"]["hash"].as_str().unwrap()
    );
    // Today's ledger extends the head kept earlier.
    let (code, report) = verify(&env, &env.archive(), &["--since", &head]);
    assert_eq!(code, 0, "{report:#}");
    let out = env.dossier(&[
        "verify",
        "--archive",
        env.archive().to_str().unwrap(),
        "--since",
        "1:abc",
    ]);
    assert_eq!(out.status.code(), Some(2), "not a head: a usage error");

    // The index deleted: run and verify refuse, naming rebuild-index; the ledger file stays.
    let a = copy_archive(&env, "lost");
    let ledger = std::fs::read(a.join("ledger.jsonl")).unwrap();
    std::fs::remove_file(a.join("index.sqlite")).unwrap();
    let out = env.dossier(&["verify", "--archive", a.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("dossier rebuild-index --archive"));
    let pipeline = env.root().join("lost.toml");
    std::fs::write(
        &pipeline,
        "[pipeline]\nname = \"t\"\nintake = \"intake\"\narchive = \"lost\"\n[intake]\nsettle_seconds = 0\n",
    )
    .unwrap();
    let out = env.dossier(&["run", pipeline.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("rebuild-index"), "{stderr}");
    // An emptied index (its tables there, its rows gone): nothing reads figures from it and
    // nothing writes a verdict into it.
    std::fs::copy(env.archive().join("index.sqlite"), a.join("index.sqlite")).unwrap();
    sql(&a, "DELETE FROM ledger; DELETE FROM runs;");
    let dossier = env.manifest.files[0].dossier.clone();
    for args in [
        vec!["report", "--archive", a.to_str().unwrap()],
        vec!["search", "--archive", a.to_str().unwrap(), "a"],
        vec![
            "audit",
            "record",
            "--archive",
            a.to_str().unwrap(),
            &dossier,
            "--verdict",
            "confirmed",
        ],
    ] {
        let out = env.dossier(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("missing or empty"), "{args:?}: {stderr}");
    }
    assert_eq!(
        std::fs::read(a.join("ledger.jsonl")).unwrap(),
        ledger,
        "ledger.jsonl unchanged"
    );

    // History regenerated over the same objects (a new index and ledger): verify --since
    // the head kept earlier finds it rewritten.
    let a = copy_archive(&env, "regenerated");
    std::fs::remove_file(a.join("index.sqlite")).unwrap();
    std::fs::remove_file(a.join("ledger.jsonl")).unwrap();
    std::fs::remove_dir_all(a.join("objects")).unwrap();
    std::fs::remove_dir_all(a.join("runs")).unwrap();
    let pipeline = env.root().join("regenerated.toml");
    std::fs::write(
        &pipeline,
        "[pipeline]\nname = \"t\"\nintake = \"intake\"\narchive = \"regenerated\"\n[intake]\nsettle_seconds = 0\n",
    )
    .unwrap();
    let out = env.dossier(&["run", pipeline.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, report) = verify(&env, &a, &["--since", &head]);
    assert_eq!(code, 4, "{report:#}");
    assert!(
        report["findings"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("does not extend the head"),
        "{report:#}"
    );
}

#[test]
fn a_rebuilt_index_gives_the_same_reports_and_passes_verify() {
    let env = TestEnv::generated(3);
    env.write_pipeline(
        "[register]\npath = \"register.csv\"\n[catalog]\npath = \"procedures.csv\"\n",
    );
    let (code, _, stderr) = env.run();
    assert_eq!(code, 0, "{stderr}");
    let (code, clean) = verify(&env, &env.archive(), &[]);
    assert_eq!(code, 0, "{clean:#}");
    let archive = env.archive();
    let report = |by: &str, format: &str| {
        let out = env.dossier(&[
            "report",
            "--archive",
            archive.to_str().unwrap(),
            "--by",
            by,
            "--format",
            format,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let before: Vec<Vec<u8>> = [
        ("procedure", "json"),
        ("unit", "csv"),
        ("procedure", "table"),
    ]
    .iter()
    .map(|(by, f)| report(by, f))
    .collect();
    let dossier = env.manifest.files[0].dossier.clone();
    let shown_before = env.show(&dossier);
    let ledger = std::fs::read(archive.join("ledger.jsonl")).unwrap();

    std::fs::remove_file(archive.join("index.sqlite")).unwrap();
    let out = env.dossier(&["rebuild-index", "--archive", archive.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A mistyped path: refused before anything is made there.
    let typo = env.root().join("archvie");
    let out = env.dossier(&["rebuild-index", "--archive", typo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds no ledger.jsonl"));
    assert!(!typo.exists(), "nothing made at a mistyped path");
    // Once more on the rebuilt index: refused, it is not empty.
    let again = env.dossier(&["rebuild-index", "--archive", archive.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));

    let after: Vec<Vec<u8>> = [
        ("procedure", "json"),
        ("unit", "csv"),
        ("procedure", "table"),
    ]
    .iter()
    .map(|(by, f)| report(by, f))
    .collect();
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(String::from_utf8_lossy(b), String::from_utf8_lossy(a));
    }
    let mut shown_after = env.show(&dossier);
    let mut shown_before = shown_before;
    // Fixity events come back from the ledger's verify entries, with a detail saying so.
    for s in [&mut shown_before, &mut shown_after] {
        for d in s["documents"].as_array_mut().unwrap() {
            for e in d["events"].as_array_mut().unwrap() {
                e.as_object_mut().unwrap().remove("detail");
            }
        }
    }
    assert_eq!(shown_before, shown_after);
    assert_eq!(std::fs::read(archive.join("ledger.jsonl")).unwrap(), ledger);
    let (code, verified) = verify(&env, &archive, &[]);
    assert_eq!(code, 0, "{verified:#}");
    // --deep derives the page facts and the register rows again from the originals.
    let (code, verified) = verify(&env, &archive, &["--deep"]);
    assert_eq!(code, 0, "{verified:#}");
    assert_eq!(
        verified["deep"]["documents"], verified["documents"],
        "{verified:#}"
    );
    assert!(
        verified["deep"]["pages"].as_u64().unwrap() >= 3,
        "{verified:#}"
    );
    assert!(verified["deep"]["pages_per_second"].as_f64().unwrap() > 0.0);
    // The next run reads nothing again: the stat cache came back from the records.
    let (code, run, _) = env.run();
    assert_eq!(code, 0);
    assert_eq!(run["documents_added"], 0, "{run:#}");
    assert_eq!(run["pages_ocr"], 0, "{run:#}");

    // A rebuild killed part way: no command takes the half-made index for the archive's, and
    // the next rebuild-index makes it whole again.
    let before = report("procedure", "json");
    for delay_ms in [0, 15, 30, 60, 90, 150] {
        std::fs::remove_file(archive.join("index.sqlite")).unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dossier"))
            .args(["rebuild-index", "--archive", archive.to_str().unwrap()])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let finished = child.wait().unwrap().success();
        let out = report_output(&env, &archive);
        if !finished && !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains(" ERROR ") && stderr.contains("index"),
                "killed after {delay_ms} ms: {stderr}"
            );
            let refused = env.dossier(&["verify", "--archive", archive.to_str().unwrap()]);
            assert_eq!(
                refused.status.code(),
                Some(1),
                "killed after {delay_ms} ms: verify refuses too"
            );
            let again = env.dossier(&["rebuild-index", "--archive", archive.to_str().unwrap()]);
            assert_eq!(
                again.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&again.stderr)
            );
        }
        assert_eq!(
            String::from_utf8_lossy(&report("procedure", "json")),
            String::from_utf8_lossy(&before),
            "killed after {delay_ms} ms"
        );
    }

    // The same, deterministically: a half-made index (its marker kept, rows missing).
    sql(
        &archive,
        "INSERT INTO meta(key, value) VALUES ('rebuild_started_at', '2026-01-01T00:00:00Z')",
    );
    sql(&archive, "DELETE FROM pages");
    for args in [
        vec!["report", "--archive", archive.to_str().unwrap()],
        vec!["search", "--archive", archive.to_str().unwrap(), "a"],
    ] {
        let out = env.dossier(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("run `dossier rebuild-index` again"));
    }
    let run = env.dossier(&["run", env.pipeline().to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1), "run refuses");
    let again = env.dossier(&["rebuild-index", "--archive", archive.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&report("procedure", "json")),
        String::from_utf8_lossy(&before)
    );
}

/// Found by an adversarial review: rows added beside the real ones, with records of their own
/// or none, are findings too; a malformed hash in the index is a finding, not a crash.
#[test]
fn rows_added_beside_the_evidence_are_findings() {
    let env = TestEnv::generated(2);
    env.write_pipeline("[register]\npath = \"register.csv\"\n");
    let (code, _, stderr) = env.run();
    assert_eq!(code, 0, "{stderr}");

    // An import row without a record, then the register rows edited to match nothing.
    let a = copy_archive(&env, "import-without-record");
    sql(
        &a,
        "INSERT INTO imports(what, run_id, source, sha256, rows, problems, rows_sha256, record_sha256)
             SELECT what, run_id, source, sha256, rows, problems, rows_sha256, NULL
             FROM imports WHERE what = 'register';
         DELETE FROM register WHERE dossier_code = (SELECT MAX(dossier_code) FROM register);",
    );
    detected(&env, &a, "evidence", "it has no evidence record");
    detected(&env, &a, "evidence", "the rows in the index differ");

    // A forged later version of a document, with a record of its own in the store, in a run
    // no ledger entry knows.
    let a = copy_archive(&env, "forged-version");
    let conn = rusqlite::Connection::open(a.join("index.sqlite")).unwrap();
    let (id, record_sha): (i64, String) = conn
        .query_row(
            "SELECT id, record_sha256 FROM documents ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let stored =
        std::fs::read_to_string(a.join("objects").join(&record_sha[..2]).join(&record_sha))
            .unwrap();
    let mut forged: Value = serde_json::from_str(&stored).unwrap();
    forged["version"] = 2.into();
    forged["run_id"] = "forged".into();
    forged["quality"] = "fail".into();
    let bytes = serde_json::to_vec(&forged).unwrap();
    let sha = common::sha256_bytes(&bytes);
    std::fs::create_dir_all(a.join("objects").join(&sha[..2])).unwrap();
    std::fs::write(a.join("objects").join(&sha[..2]).join(&sha), &bytes).unwrap();
    conn.execute_batch(&format!(
        "INSERT INTO documents(dossier_code, path, version, kind, sha256, bytes, media_type,
             archived_at, run_id, quality, reasons, rejected, page_count, searchable_pdf,
             procedure_code, unit, mtime_ns, intake_file, record_sha256)
         SELECT dossier_code, path, 2, kind, sha256, bytes, media_type, archived_at, 'forged',
             'fail', reasons, rejected, page_count, searchable_pdf, procedure_code, unit,
             mtime_ns, intake_file, '{sha}' FROM documents WHERE id = {id};
         INSERT INTO pages(document_id, page, width, height, dpi, dpi_source, blank, confidence,
             text, text_sha256, hocr_sha256, ocr_seconds, text_source, turned, deskewed, source_page)
         SELECT (SELECT MAX(id) FROM documents), page, width, height, dpi, dpi_source, blank,
             confidence, text, text_sha256, hocr_sha256, ocr_seconds, text_source, turned,
             deskewed, source_page FROM pages WHERE document_id = {id};
         INSERT INTO page_fts(rowid, folded) SELECT MAX(id), '' FROM pages;
         INSERT INTO events(document_id, type, at, agent, outcome, detail)
         SELECT (SELECT MAX(id) FROM documents), type, at, agent, outcome, detail FROM events
             WHERE document_id = {id} AND type <> 'fixity check';
         UPDATE current_documents SET document_id = (SELECT MAX(id) FROM documents),
             quality = 'fail' WHERE document_id = {id};"
    ))
    .unwrap();
    drop(conn);
    detected(
        &env,
        &a,
        "evidence",
        "whose records no ledger entry vouches for",
    );

    // A malformed hash in an index row.
    let a = copy_archive(&env, "malformed-hash");
    sql(
        &a,
        "UPDATE imports SET sha256 = 'x' WHERE what = 'register'",
    );
    let (code, report) = verify(&env, &a, &[]);
    assert_eq!(code, 4, "{report:#}");
}

/// A read-only command on an index whose writer was killed in the middle of a change (its
/// journal left beside it) says so and what to do; verify rolls the change back.
#[test]
fn a_writers_journal_left_behind_is_named_and_verify_rolls_it_back() {
    let env = TestEnv::generated(1);
    let (code, _, stderr) = env.run();
    assert_eq!(code, 0, "{stderr}");
    let archive = env.archive();
    let figures = || -> Option<Value> {
        let out = report_output(&env, &archive);
        out.status.success().then(|| {
            let report: Value = serde_json::from_slice(&out.stdout).unwrap();
            report["groups"].clone()
        })
    };
    let before = figures().expect("a report");
    // A writer that spills its change into the file and dies before committing.
    let index = archive.join("index.sqlite");
    let killed_writer = "import os, sqlite3, sys\n\
        c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
        c.execute('PRAGMA cache_size = 1')\n\
        c.execute('BEGIN')\n\
        c.execute('UPDATE pages SET text = ?', ('x' * 3000,))\n\
        c.execute('DELETE FROM documents')\n\
        os._exit(0)\n";
    let status = std::process::Command::new("python3")
        .args(["-c", killed_writer])
        .arg(&index)
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        archive.join("index.sqlite-journal").exists(),
        "a hot journal"
    );
    let out = env.dossier(&["report", "--archive", archive.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("stopped in the middle of a change"),
        "{stderr}"
    );
    let (code, verified) = verify(&env, &archive, &[]);
    assert_eq!(code, 0, "{verified:#}");
    assert!(!archive.join("index.sqlite-journal").exists());
    assert_eq!(figures(), Some(before));
}
