//! An archive made before evidence records were kept (index schema 3) gets its records at the
//! first run of a version that keeps them: written from the index rows, committed to by a
//! ledger entry of kind `upgrade`, covered by verify, which names them, and kept by
//! rebuild-index.

mod common;

use std::path::Path;

use common::{copy_archive, sql, verify, TestEnv};
use serde_json::Value;

/// Leaves `archive` as a version before records left it: no record objects, no record hashes
/// or the columns that came with them (schema 3), and run entries without a records root
/// (the ledger chained again over the entries as they were written then).
fn as_before_records(archive: &Path) {
    let conn = rusqlite::Connection::open(archive.join("index.sqlite")).unwrap();
    let records: Vec<String> = conn
        .prepare(
            "SELECT record_sha256 FROM documents WHERE record_sha256 IS NOT NULL
             UNION SELECT record_sha256 FROM imports WHERE record_sha256 IS NOT NULL",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!records.is_empty());
    for sha in &records {
        std::fs::remove_file(archive.join("objects").join(&sha[..2]).join(sha)).unwrap();
    }
    let entries: Vec<(i64, String)> = conn
        .prepare("SELECT seq, entry FROM ledger ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut prev = "0".repeat(64);
    let mut file = String::new();
    for (seq, text) in entries {
        let mut entry: Value = serde_json::from_str(&text).unwrap();
        entry.as_object_mut().unwrap().remove("records_root");
        entry["prev"] = Value::String(prev.clone());
        let text = serde_json::to_string(&entry).unwrap();
        prev = common::sha256_bytes(text.as_bytes());
        conn.execute(
            "UPDATE ledger SET entry = ?1, hash = ?2 WHERE seq = ?3",
            rusqlite::params![text, prev, seq],
        )
        .unwrap();
        file.push_str(&text);
        file.push('\n');
    }
    std::fs::write(archive.join("ledger.jsonl"), file).unwrap();
    drop(conn);
    sql(
        archive,
        "DROP INDEX documents_unrecorded;
         DROP INDEX documents_upgraded;
         DROP INDEX events_recorded;
         DROP INDEX events_fixity;
         ALTER TABLE documents DROP COLUMN procedure_code;
         ALTER TABLE documents DROP COLUMN unit;
         ALTER TABLE documents DROP COLUMN mtime_ns;
         ALTER TABLE documents DROP COLUMN intake_file;
         ALTER TABLE documents DROP COLUMN record_sha256;
         ALTER TABLE documents DROP COLUMN recorded_at_upgrade;
         ALTER TABLE imports DROP COLUMN rows_sha256;
         ALTER TABLE imports DROP COLUMN record_sha256;
         ALTER TABLE imports DROP COLUMN problem_list;
         ALTER TABLE imports DROP COLUMN recorded_at_upgrade;
         ALTER TABLE register DROP COLUMN reused;
         ALTER TABLE register DROP COLUMN pages;
         DROP TABLE access_log;
         DROP TABLE desk_users;
         UPDATE meta SET value = '3' WHERE key = 'schema_version';",
    );
}

fn figures(env: &TestEnv, archive: &Path) -> Value {
    let out = env.dossier(&[
        "report",
        "--archive",
        archive.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    report["totals"].clone()
}

fn documents(archive: &Path) -> usize {
    let conn = rusqlite::Connection::open(archive.join("index.sqlite")).unwrap();
    conn.query_row("SELECT COUNT(*) FROM documents", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn documents_archived_before_records_get_them_at_the_upgrade_and_verify_names_them() {
    let env = TestEnv::generated(2);
    env.write_pipeline("[register]\npath = \"register.csv\"\n");
    let (code, _, stderr) = env.run();
    assert_eq!(code, 0, "{stderr}");
    let archive = env.archive();
    let totals = figures(&env, &archive);
    let count = documents(&archive);
    as_before_records(&archive);

    // The next run upgrades the index and records what it holds, once.
    let (code, _, stderr) = env.run();
    assert_eq!(code, 0, "{stderr}");
    let ledger = std::fs::read_to_string(archive.join("ledger.jsonl")).unwrap();
    let upgrades: Vec<Value> = ledger
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["kind"] == "upgrade")
        .collect();
    assert_eq!(upgrades.len(), 1, "{ledger}");
    assert_eq!(upgrades[0]["documents"], count);
    assert_eq!(upgrades[0]["summary"]["imports"], 1);
    assert!(upgrades[0]["records_root"].is_string());
    let (code, _, stderr) = env.run();
    assert_eq!(code, 0, "{stderr}");
    let again = std::fs::read_to_string(archive.join("ledger.jsonl")).unwrap();
    assert_eq!(
        again.matches("\"kind\":\"upgrade\"").count(),
        1,
        "one upgrade"
    );

    // verify covers them and says which were recorded at the upgrade.
    let (code, report) = verify(&env, &archive, &[]);
    assert_eq!(code, 0, "{report:#}");
    let upgraded = &report["recorded_at_upgrade"];
    assert_eq!(upgraded.as_array().unwrap().len(), 1, "{report:#}");
    assert_eq!(upgraded[0]["upgrade"], upgrades[0]["subject"]);
    assert_eq!(upgraded[0]["documents"].as_array().unwrap().len(), count);
    assert!(upgraded[0]["documents"][0]
        .as_str()
        .unwrap()
        .ends_with(" version 1"));
    assert_eq!(
        upgraded[0]["imports"][0]
            .as_str()
            .unwrap()
            .split(' ')
            .next(),
        Some("register")
    );
    assert_eq!(figures(&env, &archive), totals, "the figures stay");

    // Their rows are now evidence like any other: an edit is a finding.
    let a = copy_archive(&env, "edited");
    sql(&a, "UPDATE documents SET quality = 'fail' WHERE id = 1");
    let (code, report) = verify(&env, &a, &["--fast"]);
    assert_eq!(code, 4, "{report:#}");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "evidence"
                && f["detail"].as_str().unwrap().contains("in: quality")),
        "{report:#}"
    );
    // A record hash taken off is not recorded again over the rows as they are then.
    let a = copy_archive(&env, "unrecorded");
    sql(&a, "UPDATE documents SET record_sha256 = NULL WHERE id = 1");
    let (code, report) = verify(&env, &a, &[]);
    assert_eq!(code, 4, "{report:#}");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "ledger"
                && f["detail"].as_str().unwrap().contains("written at upgrade")),
        "{report:#}"
    );

    // rebuild-index brings them back as recorded at the upgrade, and verify passes.
    let a = copy_archive(&env, "rebuilt");
    std::fs::remove_file(a.join("index.sqlite")).unwrap();
    let out = env.dossier(&["rebuild-index", "--archive", a.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rebuilt: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        rebuilt["mismatches"].as_array().unwrap().len(),
        0,
        "{rebuilt:#}"
    );
    let (code, report) = verify(&env, &a, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        report["recorded_at_upgrade"][0]["documents"]
            .as_array()
            .unwrap()
            .len(),
        count
    );
    assert_eq!(figures(&env, &a), totals);
}
