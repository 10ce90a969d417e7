//! The shared index: the same intake through SQLite and PostgreSQL, two workers at once, and
//! a worker killed mid-run. Real PostgreSQL (scripts/test.sh starts Debian's on loopback).

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::TestEnv;
use dossier::index::{Index, Location};
use dossier::test_support::PostgresTestDb;
use serde_json::Value;

const REGISTER: &str =
    "[register]\npath = \"register.csv\"\n[catalog]\npath = \"procedures.csv\"\n";

fn dossier(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dossier"))
        .args(args)
        .output()
        .expect("dossier runs")
}

fn run_json(env: &TestEnv, extra: &[&str]) -> (i32, Value) {
    let pipeline = env.pipeline();
    let mut args = vec!["run", pipeline.to_str().unwrap(), "--json", "-q"];
    args.extend_from_slice(extra);
    let out = dossier(&args);
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "run report is JSON ({e}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

/// A read-only command (`report`, `search`, `show`) on the archive's own index, or with
/// `--index URL`: its standard output, once it succeeded.
fn read_only_command<'a>(mut args: Vec<&'a str>, index: Option<&'a str>) -> Vec<u8> {
    if let Some(url) = index {
        args.extend(["--index", url]);
    }
    let out = dossier(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `dossier verify` of an archive on a shared index exits 0 (no finding).
fn assert_verify_clean(archive: &std::path::Path, url: &str) {
    let out = dossier(&[
        "verify",
        "--archive",
        archive.to_str().unwrap(),
        "--index",
        url,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Every intake file archived once: one version each, none twice.
fn assert_archived_once(index: &Index, env: &TestEnv) {
    let versions = versions(index);
    assert_eq!(versions.len(), env.manifest.files.len(), "{versions:?}");
    assert!(versions.iter().all(|(_, v)| *v == 1), "{versions:?}");
}

fn pages_in_intake(env: &TestEnv) -> u64 {
    env.manifest
        .files
        .iter()
        .map(|f| f.pages.len() as u64)
        .sum()
}

/// Every archived document version: (path, version).
fn versions(index: &Index) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    index
        .for_each_holding(|h| out.push(h.dossier_code))
        .unwrap();
    let mut versions = Vec::new();
    for code in out {
        for d in index.dossier(&code).unwrap().unwrap().documents {
            versions.push((d.path, d.version));
        }
    }
    versions.sort();
    versions
}

/// A JSON value with the fields that name a moment or a run (different by construction
/// between two archives) blanked.
fn without_moments(mut v: Value) -> Value {
    match &mut v {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if ["archived_at", "at", "hash"].contains(&key.as_str()) {
                    *value = Value::Null;
                } else {
                    *value = without_moments(value.take());
                }
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                *item = without_moments(item.take());
            }
        }
        _ => {}
    }
    v
}

#[test]
fn the_same_intake_gives_the_same_reports_search_and_views_on_sqlite_and_postgres() {
    let db = PostgresTestDb::create("same_reports");
    let sqlite_env = TestEnv::generated(6);
    sqlite_env.write_pipeline(REGISTER);
    let pg_env = TestEnv::generated(6);
    pg_env.write_pipeline(&format!("{REGISTER}[index]\nurl = \"{}\"\n", db.url));

    let (code, sqlite_run) = run_json(&sqlite_env, &[]);
    assert!(code == 0 || code == 3, "{sqlite_run}");
    let (pg_code, pg_run) = run_json(&pg_env, &[]);
    assert_eq!(pg_code, code, "{pg_run}");
    assert_eq!(pg_run["documents_added"], sqlite_run["documents_added"]);
    assert_eq!(pg_run["pages_ocr"], sqlite_run["pages_ocr"]);
    assert!(
        !pg_env.archive().join("index.sqlite").exists(),
        "the PostgreSQL archive has no index file of its own"
    );

    let sqlite_archive = sqlite_env.archive();
    let pg_archive = pg_env.archive();
    let report = |archive: &std::path::Path, index: Option<&str>, by: &str, format: &str| {
        let args = vec![
            "report",
            "--archive",
            archive.to_str().unwrap(),
            "--by",
            by,
            "--format",
            format,
        ];
        read_only_command(args, index)
    };
    for by in ["procedure", "unit"] {
        let from_sqlite = report(&sqlite_archive, None, by, "json");
        let from_pg = report(&pg_archive, Some(&db.url), by, "json");
        // Byte for byte, but for the ledger head's hash and when the register was imported:
        // they come from run ids and times, which two archives never share. Everything else
        // (figures, order, missing and failing lists, names) is the same text.
        let blank_hash = |bytes: Vec<u8>| {
            let mut v: Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(v["ledger_head"]["hash"].as_str().map(str::len), Some(64));
            v["ledger_head"]["hash"] = Value::Null;
            assert!(v["register"]["imported_at"].is_string(), "{v:#}");
            v["register"]["imported_at"] = Value::Null;
            (
                serde_json::to_string_pretty(&v).unwrap(),
                String::from_utf8(bytes).unwrap(),
            )
        };
        let (sqlite_text, sqlite_raw) = blank_hash(from_sqlite);
        let (pg_text, pg_raw) = blank_hash(from_pg);
        assert_eq!(sqlite_text, pg_text, "report by {by} differs");
        assert_eq!(sqlite_raw.len(), pg_raw.len());
        assert!(sqlite_text.contains("\"missing\""), "{sqlite_text}");
        // The CSV's last row is the ledger head (`LEDGER_HEAD,SEQ:HASH,…`): byte for byte but
        // for the hash, as with JSON.
        let blank_csv_hash = |bytes: Vec<u8>| {
            let text = String::from_utf8(bytes).unwrap();
            let (rest, last) = text.trim_end().rsplit_once('\n').unwrap();
            let mut cells: Vec<&str> = last.split(',').collect();
            assert_eq!(cells[0], "LEDGER_HEAD", "{text}");
            let (seq, hash) = cells[1].split_once(':').unwrap();
            assert!(dossier::store::is_sha256_hex(hash), "{last}");
            let seq_only = format!("{seq}:");
            cells[1] = &seq_only;
            format!("{rest}\n{}", cells.join(","))
        };
        assert_eq!(
            blank_csv_hash(report(&sqlite_archive, None, by, "csv")),
            blank_csv_hash(report(&pg_archive, Some(&db.url), by, "csv"))
        );
    }

    // Search: the same pages for the same words, diacritics and đ folded on both.
    let hits = |archive: &std::path::Path, index: Option<&str>, q: &str| {
        let args = vec![
            "search",
            "--archive",
            archive.to_str().unwrap(),
            q,
            "--json",
        ];
        let stdout = read_only_command(args, index);
        let hits: Vec<Value> = serde_json::from_slice(&stdout).unwrap();
        hits.iter()
            .map(|h| format!("{} {} {}", h["dossier_code"], h["document"], h["page"]))
            .collect::<BTreeSet<_>>()
    };
    let printed = sqlite_env.manifest.files[0].pages[0].lines[2].clone();
    for q in [
        "CỘNG HÒA",
        "cong hoa xa hoi",
        "ĐỘC LẬP",
        "doc lap tu do",
        &printed,
    ] {
        let s = hits(&sqlite_archive, None, q);
        assert!(!s.is_empty(), "no hit for {q}");
        assert_eq!(s, hits(&pg_archive, Some(&db.url), q), "search {q}");
    }

    // show: the same dossier, page for page, but for the moments of archiving.
    let code = sqlite_env.manifest.files[0].dossier.clone();
    let show = |archive: &std::path::Path, index: Option<&str>| {
        let args = vec![
            "show",
            "--archive",
            archive.to_str().unwrap(),
            &code,
            "--json",
        ];
        let stdout = read_only_command(args, index);
        without_moments(serde_json::from_slice(&stdout).unwrap())
    };
    assert_eq!(
        show(&sqlite_archive, None),
        show(&pg_archive, Some(&db.url))
    );

    // verify re-reads the PostgreSQL archive and records itself in its ledger.
    assert_verify_clean(&pg_archive, &db.url);
    let index = Index::open(&Location::Postgres(db.url.clone()), false).unwrap();
    assert_eq!(index.ledger().unwrap().len(), 2, "run and verify entries");
}

#[test]
fn two_workers_at_once_archive_every_document_once_and_ocr_every_page_once() {
    let db = PostgresTestDb::create("two_workers");
    let env = TestEnv::generated(8);
    env.write_pipeline(&format!("[index]\nurl = \"{}\"\n", db.url));
    let pipeline = env.pipeline();
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_dossier"))
            .args([
                "run",
                pipeline.to_str().unwrap(),
                "--json",
                "-q",
                "--jobs",
                "1",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dossier starts")
    };
    let (a, b) = (spawn(), spawn());
    let reports: Vec<Value> = [a, b]
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice(&out.stdout).unwrap()
        })
        .collect();
    let sum = |key: &str| {
        reports
            .iter()
            .map(|r| r[key].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    let files = env.manifest.files.len() as u64;
    assert_eq!(sum("pages_ocr"), pages_in_intake(&env), "{reports:?}");
    assert_eq!(sum("documents_added"), files, "{reports:?}");
    assert_eq!(
        sum("documents_added") + sum("files_done_elsewhere"),
        2 * files
    );
    for r in &reports {
        assert!(
            r["documents_added"].as_u64().unwrap() > 0,
            "both workers took a share: {reports:?}"
        );
    }
    let index = Index::open(&Location::Postgres(db.url.clone()), false).unwrap();
    assert_archived_once(&index, &env);
    // One ledger chain with both runs, and a clean audit.
    assert_eq!(index.ledger().unwrap().len(), 2);
    assert_verify_clean(&env.archive(), &db.url);
}

#[test]
fn a_killed_workers_files_are_finished_by_another_once_its_lease_runs_out() {
    let db = PostgresTestDb::create("killed_worker");
    let env = TestEnv::generated(8);
    env.write_pipeline(&format!(
        "[index]\nurl = \"{}\"\nlease_seconds = 3\n",
        db.url
    ));
    let pipeline = env.pipeline();
    let mut doomed = Command::new(env!("CARGO_BIN_EXE_dossier"))
        .args(["run", pipeline.to_str().unwrap(), "-q", "--jobs", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dossier starts");
    // Wait until it has committed one document and holds a claim on another.
    let location = Location::Postgres(db.url.clone());
    let deadline = Instant::now() + Duration::from_secs(120);
    let held_now = |index: &Index| -> Vec<String> {
        env.manifest
            .files
            .iter()
            .filter(|f| index.claim_holder(&f.path).ok().flatten().is_some())
            .map(|f| f.path.clone())
            .collect()
    };
    loop {
        assert!(
            Instant::now() < deadline,
            "the first worker never got going"
        );
        std::thread::sleep(Duration::from_millis(50));
        let Ok(index) = Index::open(&location, false) else {
            continue;
        };
        let Ok((_, documents, _)) = index.counts() else {
            continue;
        };
        // It reads ahead of OCR: a document done and a few files claimed.
        if documents >= 1 && held_now(&index).len() >= 2 {
            break;
        }
    }
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    // Dead, its claims still stand until their leases run out: nobody else may read the file.
    let probe = Index::open(&location, true).unwrap();
    let claimed = held_now(&probe);
    assert!(!claimed.is_empty());
    assert_eq!(
        probe.claim(&claimed[0], "probe", 1).unwrap(),
        dossier::index::claims::Claim::Held
    );

    let (code, report) = run_json(&env, &["--jobs", "1"]);
    assert_eq!(code, 0, "{report}");
    assert!(
        report["files_taken_over"].as_u64().unwrap() >= 1,
        "the claims of the killed worker ({claimed:?}) were taken over: {report}"
    );
    let index = Index::open(&location, false).unwrap();
    assert_archived_once(&index, &env);
    for path in &claimed {
        assert_eq!(index.claim_holder(path).unwrap(), None);
    }
    // The next run closes the killed run in the ledger; the audit is clean.
    let (code, again) = run_json(&env, &[]);
    assert_eq!(code, 0, "{again}");
    assert_eq!(again["documents_added"], 0);
    assert!(index.unfinished_runs().unwrap().is_empty());
    assert_verify_clean(&env.archive(), &db.url);
}

/// Waits until the worker on `location` has committed a document and holds claims on at
/// least `claims` files it has not committed yet (it reads ahead of OCR).
fn wait_for_claims(env: &TestEnv, location: &Location, claims: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(
            Instant::now() < deadline,
            "the first worker never got going"
        );
        std::thread::sleep(Duration::from_millis(50));
        let Ok(index) = Index::open(location, false) else {
            continue;
        };
        let Ok((_, documents, _)) = index.counts() else {
            continue;
        };
        let held: Vec<String> = env
            .manifest
            .files
            .iter()
            .filter(|f| index.claim_holder(&f.path).ok().flatten().is_some())
            .map(|f| f.path.clone())
            .collect();
        if documents >= 1 && held.len() >= claims {
            return held;
        }
    }
}

#[test]
fn a_worker_frozen_past_its_lease_commits_nothing_another_took_over() {
    let db = PostgresTestDb::create("frozen_worker");
    let env = TestEnv::generated(8);
    env.write_pipeline(&format!(
        "[index]\nurl = \"{}\"\nlease_seconds = 3\n",
        db.url
    ));
    let pipeline = env.pipeline();
    let frozen = Command::new(env!("CARGO_BIN_EXE_dossier"))
        .args([
            "run",
            pipeline.to_str().unwrap(),
            "-q",
            "--json",
            "--jobs",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dossier starts");
    let location = Location::Postgres(db.url.clone());
    let claimed = wait_for_claims(&env, &location, 2);
    // Frozen as a stalled NFS mount or a suspended VM would freeze it, past its lease.
    let pid = frozen.id() as libc::pid_t;
    // SAFETY: a plain kill(2) on our own child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
    std::thread::sleep(Duration::from_secs(4));
    let (code, report) = run_json(&env, &["--jobs", "1"]);
    assert_eq!(code, 0, "{report}");
    // It closed the frozen run (its lease had run out) and archived the rest, the files the
    // frozen one had claimed among them.
    assert!(
        report["documents_added"].as_u64().unwrap() >= claimed.len() as u64,
        "{report}"
    );
    assert_archived_once(&Index::open(&location, false).unwrap(), &env);
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0);
    let out = frozen.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let frozen_report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("the frozen worker's report ({e}): {stderr}"));
    assert_eq!(out.status.code(), Some(0), "{frozen_report}\n{stderr}");
    // What it had read of the files taken from it is dropped, and it says so.
    let lost: Vec<&str> = frozen_report["claims_lost"]
        .as_array()
        .unwrap_or_else(|| panic!("claims_lost in {frozen_report}"))
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(!lost.is_empty(), "{frozen_report}");
    assert!(
        lost.iter().all(|p| claimed.iter().any(|c| c == p)),
        "{lost:?} {claimed:?}"
    );
    assert!(stderr.contains("took this file over"), "{stderr}");
    // Every file once: no path has a second version of the same content.
    let index = Index::open(&location, false).unwrap();
    assert_archived_once(&index, &env);
    assert_verify_clean(&env.archive(), &db.url);
    // The database locks a shared archive: no run nor verify leaves a `lock` file in it.
    assert!(!env.archive().join("lock").exists());
}

#[test]
fn an_unreachable_or_wrong_index_is_one_clear_line_without_the_password() {
    let env = TestEnv::generated(1);
    let pipeline = env.pipeline();
    let out = dossier(&[
        "run",
        pipeline.to_str().unwrap(),
        "-q",
        "--index",
        "postgres://nobody:secret@127.0.0.1:1/x",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("index postgres://nobody@127.0.0.1:1/x:") && stderr.contains("refused"),
        "{stderr}"
    );
    assert!(!stderr.contains("secret"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!env.archive().join("index.sqlite").exists());

    let out = dossier(&[
        "search",
        "--archive",
        pipeline.to_str().unwrap(),
        "--index",
        "mysql://x",
        "a",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("index URL mysql://x"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_shared_index_is_rebuilt_from_the_evidence_into_a_new_database() {
    let db = PostgresTestDb::create("rebuild_from");
    let rebuilt = PostgresTestDb::create("rebuild_into");
    let env = TestEnv::generated(3);
    env.write_pipeline(&format!("{REGISTER}[index]\nurl = \"{}\"\n", db.url));
    let (code, run) = run_json(&env, &[]);
    assert!(code == 0 || code == 3, "{run}");
    let archive = env.archive();
    let report = |url: &str| {
        let args = vec![
            "report",
            "--archive",
            archive.to_str().unwrap(),
            "--format",
            "json",
        ];
        read_only_command(args, Some(url))
    };
    let before = report(&db.url);
    let out = dossier(&[
        "rebuild-index",
        "--archive",
        archive.to_str().unwrap(),
        "--index",
        &rebuilt.url,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(report(&rebuilt.url)).unwrap(),
        String::from_utf8(before).unwrap()
    );
    assert_verify_clean(&archive, &rebuilt.url);
}
