//! Configurations refused at start with one line, before any work: places of the intake and
//! the archive, an archive made from another intake, a missing language model.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn dossier(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dossier"))
        .args(args)
        .output()
        .expect("dossier runs")
}

/// Writes a pipeline file in `dir` over `intake` and `archive` (as given: relative to `dir`
/// or absolute); `extra` is appended.
fn pipeline(dir: &Path, intake: &str, archive: &str, extra: &str) -> String {
    let path = dir.join("pipeline.toml");
    fs::write(
        &path,
        format!(
            "[pipeline]\nname = \"t\"\nintake = {intake:?}\narchive = {archive:?}\njobs = 1\n\
             [intake]\nsettle_seconds = 0\n{extra}"
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_owned()
}

/// (exit code, stderr) of `dossier run PIPELINE EXTRA...`.
fn run(pipeline: &str, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["run", pipeline, "--quiet"];
    args.extend_from_slice(extra);
    let out = dossier(&args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn one_line(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    lines[0]
}

#[test]
fn an_archive_inside_its_intake_or_a_system_folder_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("intake/1.001193")).unwrap();
    for (intake, archive, says) in [
        ("intake", "intake/archive", "is inside the intake"),
        ("intake/1.001193", "intake", "is inside the archive"),
        ("/", "archive", "is in a system folder (/)"),
        ("/proc", "archive", "is in a system folder (/proc)"),
        (
            "intake",
            "/etc/dossier-archive",
            "is in a system folder (/etc)",
        ),
        ("intake", "/var/lib", "is in a system folder (/var/lib)"),
    ] {
        let p = pipeline(dir.path(), intake, archive, "");
        let (code, stderr) = run(&p, &[]);
        assert_eq!(code, 1, "{intake} {archive}: {stderr}");
        assert!(one_line(&stderr).contains(says), "{stderr}");
    }
    // Nothing was made: neither an archive in the intake nor one under /etc.
    assert!(!dir.path().join("intake/archive").exists());
    assert!(!Path::new("/etc/dossier-archive").exists());
    // A link into the intake is the intake.
    std::os::unix::fs::symlink(dir.path().join("intake"), dir.path().join("link")).unwrap();
    let p = pipeline(dir.path(), "intake", "link/archive", "");
    let (code, stderr) = run(&p, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        one_line(&stderr).contains("is inside the intake"),
        "{stderr}"
    );
}

#[test]
fn an_archive_refuses_another_intake_unless_moved_on_purpose() {
    let dir = tempfile::tempdir().unwrap();
    for d in ["first", "second"] {
        fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    let p = pipeline(dir.path(), "first", "archive", "");
    assert_eq!(run(&p, &[]).0, 0);
    // The same intake through a link and a `..` is the same intake.
    std::os::unix::fs::symlink(dir.path().join("first"), dir.path().join("alias")).unwrap();
    let p = pipeline(dir.path(), "alias/../first", "archive", "");
    assert_eq!(run(&p, &[]).0, 0);
    let p = pipeline(dir.path(), "alias", "archive", "");
    assert_eq!(run(&p, &[]), (0, String::new()));

    let p = pipeline(dir.path(), "second", "archive", "");
    let (code, stderr) = run(&p, &[]);
    assert_eq!(code, 1, "{stderr}");
    let line = one_line(&stderr);
    let first = dir.path().join("first").canonicalize().unwrap();
    assert!(
        line.contains(&format!("belongs to the intake {}", first.display()))
            && line.contains("--move-intake"),
        "{line}"
    );
    // Moved on purpose: from now on the archive belongs to the second intake.
    assert_eq!(run(&p, &["--move-intake"]).0, 0);
    assert_eq!(run(&p, &[]).0, 0);
    let p = pipeline(dir.path(), "first", "archive", "");
    let (code, stderr) = run(&p, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(one_line(&stderr).contains("second"), "{stderr}");
}

/// The intake an archive belongs to survives `rebuild-index`: it comes back from the run
/// reports (the latest one, after a deliberate move), so another intake is still refused.
#[test]
fn a_rebuilt_index_still_refuses_another_intake() {
    let dir = tempfile::tempdir().unwrap();
    for d in ["first", "second"] {
        fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    let first = pipeline(dir.path(), "first", "archive", "");
    assert_eq!(run(&first, &[]).0, 0);
    let second = dir.path().join("second.toml");
    fs::copy(pipeline(dir.path(), "second", "archive", ""), &second).unwrap();
    let second = second.to_str().unwrap();
    assert_eq!(run(second, &["--move-intake"]).0, 0);
    let archive = dir.path().join("archive");
    fs::remove_file(archive.join("index.sqlite")).unwrap();
    let out = dossier(&["rebuild-index", "--archive", archive.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");

    let first = pipeline(dir.path(), "first", "archive", "");
    let (code, stderr) = run(&first, &[]);
    assert_eq!(code, 1, "{stderr}");
    let line = one_line(&stderr);
    let recorded = dir.path().join("second").canonicalize().unwrap();
    assert!(
        line.contains(&format!("belongs to the intake {}", recorded.display()))
            && line.contains(&format!("not {}", dir.path().join("first").display())),
        "{line}"
    );
    assert_eq!(run(second, &[]).0, 0, "the intake it was moved to");
}

#[test]
fn a_damaged_index_is_a_verify_finding_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("intake")).unwrap();
    let p = pipeline(dir.path(), "intake", "archive", "");
    assert_eq!(run(&p, &[]).0, 0);
    let index = dir.path().join("archive/index.sqlite");
    let good = fs::read(&index).unwrap();
    let garbage: Vec<u8> = (0..good.len()).map(|i| (i * 7919 % 251) as u8).collect();
    for (what, bytes) in [
        ("garbage", garbage),
        ("cut in half", good[..good.len() / 2].to_vec()),
    ] {
        fs::write(&index, &bytes).unwrap();
        let archive = dir.path().join("archive");
        let out = dossier(&["verify", "--archive", archive.to_str().unwrap(), "--json"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{what}: {stderr}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let findings = report["findings"].as_array().unwrap();
        assert!(
            findings.iter().any(|f| f["kind"] == "index"
                && f["file"] == "index.sqlite"
                && f["detail"].as_str().unwrap().contains("damaged")),
            "{what}: {report}"
        );
    }
}

#[test]
fn a_dossier_under_two_procedures_or_renamed_by_case_is_rejected_naming_both() {
    let env = common::TestEnv::generated(2);
    let (code, _, stderr) = env.run();
    assert_eq!(code, 0, "{stderr}");
    let f0 = &env.manifest.files[0];
    let other = env
        .manifest
        .files
        .iter()
        .find(|f| f.procedure != f0.procedure)
        .unwrap();
    let (p0, p1, d0) = (&f0.procedure, &other.procedure, &f0.dossier);
    let page = fs::read(env.intake().join(&f0.path)).unwrap();
    let put = |rel: &str| {
        let path = env.intake().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, &page).unwrap();
    };
    let moved = format!("{p1}/{d0}/input/x.png");
    let by_case = format!("{p0}/{}/input/y.png", d0.to_lowercase());
    let new = "000.00.09.H50-240301-0009";
    let twice = [
        format!("{p0}/{new}/input/a.png"),
        format!("{p1}/{new}/input/a.png"),
    ];
    for rel in [&moved, &by_case, &twice[0], &twice[1]] {
        put(rel);
    }
    let (code, report, stderr) = env.run();
    assert_eq!(code, 3, "{report}\n{stderr}");
    assert_eq!(report["documents_added"], 0, "{report}");
    let reason = |path: &str| -> String {
        report["rejected"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["path"] == path)
            .unwrap_or_else(|| panic!("{path} not rejected: {report}"))["reason"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let r = reason(&moved);
    assert!(
        r.contains(&format!("already archived under procedure {p0}")) && r.contains(p1.as_str()),
        "{r}"
    );
    let r = reason(&by_case);
    assert!(r.contains("letter case") && r.contains(d0.as_str()), "{r}");
    for rel in &twice {
        let r = reason(rel);
        assert!(
            r.contains("two procedures") && r.contains(p0.as_str()) && r.contains(p1.as_str()),
            "{r}"
        );
    }
    // The rest of the archive is untouched: the first dossier keeps its procedure.
    assert_eq!(env.show(d0)["procedure_code"], p0.as_str());
}

/// A role that may not read the index's tables hears so, not "schema version none" (which
/// would invite making a new index over the old one).
#[test]
fn a_role_without_select_on_postgres_is_told_so() {
    let db = dossier::test_support::PostgresTestDb::create("noselect");
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("intake")).unwrap();
    let p = pipeline(dir.path(), "intake", "archive", "");
    let (code, stderr) = run(&p, &["--index", &db.url]);
    assert_eq!(code, 0, "{stderr}");
    // The owner gives up its own right to read the schema table, as a role never granted
    // SELECT would lack it.
    let mut client = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    client
        .batch_execute("REVOKE SELECT ON meta FROM CURRENT_USER")
        .unwrap();
    let archive = dir.path().join("archive");
    let out = dossier(&[
        "--index",
        &db.url,
        "show",
        "--archive",
        archive.to_str().unwrap(),
        "000.00.01.H50-240115-0001",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("permission denied"), "{stderr}");
    assert!(!stderr.contains("schema version"), "{stderr}");
}

#[test]
fn a_missing_language_model_is_refused_at_start_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("intake")).unwrap();
    let p = dir.path().join("pipeline.toml");
    let tessdata = dir.path().join("tessdata");
    fs::create_dir_all(&tessdata).unwrap();
    let vie = Path::new("/usr/share/tesseract-ocr/5/tessdata/vie.traineddata");
    fs::copy(vie, tessdata.join("vie.traineddata")).unwrap();
    for (ocr, folder) in [
        (String::new(), None),
        (
            format!("[ocr]\ntessdata = {:?}\n", tessdata.to_str().unwrap()),
            Some(&tessdata),
        ),
    ] {
        fs::write(
            &p,
            format!(
                "[pipeline]\nname = \"t\"\nintake = \"intake\"\narchive = \"archive\"\n\
                 languages = \"vie+xyz\"\n[intake]\nsettle_seconds = 0\n{ocr}"
            ),
        )
        .unwrap();
        let (code, stderr) = run(p.to_str().unwrap(), &[]);
        assert_eq!(code, 1, "{stderr}");
        let line = one_line(&stderr);
        assert!(
            line.contains("xyz.traineddata") && !line.contains("vie.traineddata"),
            "{line}"
        );
        if let Some(folder) = folder {
            assert!(line.contains(&folder.display().to_string()), "{line}");
        } else {
            assert!(line.contains("/tessdata"), "{line}");
        }
        assert!(
            !dir.path().join("archive").exists(),
            "refused before any work"
        );
    }
}

#[test]
fn sample_refuses_a_folder_in_use_and_sizes_out_of_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let used = dir.path().join("used");
    fs::create_dir_all(&used).unwrap();
    fs::write(used.join("register.csv"), "mine\n").unwrap();
    let out_dir = used.to_str().unwrap();
    for (args, says) in [
        (vec!["--dossiers", "1"], "is not empty"),
        (vec!["--dpi", "100000"], "100000"),
        (vec!["--dpi", "10"], "10"),
        (vec!["--page-height-mm", "100000"], "out of range"),
    ] {
        let fresh = dir.path().join("fresh");
        let target = if says == "is not empty" {
            out_dir
        } else {
            fresh.to_str().unwrap()
        };
        let mut all = vec!["sample", "--output", target];
        all.extend_from_slice(&args);
        let out = dossier(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!fresh.exists(), "{args:?} wrote something");
    }
    assert_eq!(
        fs::read_to_string(used.join("register.csv")).unwrap(),
        "mine\n"
    );
    assert_eq!(fs::read_dir(&used).unwrap().count(), 1);
}
