//! What reaches the log: dossier's own lines, each cause said once, Vietnamese letters as
//! letters; never Tesseract's own chatter.

mod common;

use std::fs;

use common::{log_message, TestEnv};

/// A page without any resolution tag, turned sideways (so that it reads poorly and OSD is
/// asked), and a page holding a few letters only: what makes Tesseract talk on its own.
#[test]
fn tesseracts_own_notes_never_reach_the_log() {
    let env = TestEnv::generated(1);
    let f = &env.manifest.files[0];
    let path = env.intake().join(&f.path);
    let page = image::open(&path).unwrap().to_luma8();
    let dossier = path.parent().unwrap().to_owned();
    fs::remove_file(&path).unwrap();
    // The image crate writes no pHYs chunk: the page has no resolution of its own.
    image::imageops::rotate90(&page)
        .save(dossier.join("sideways.png"))
        .unwrap();
    let (w, h) = page.dimensions();
    let mut few = image::GrayImage::from_pixel(w, h, image::Luma([255]));
    let corner = image::imageops::crop_imm(&page, w / 10, h / 10, w / 6, h / 25).to_image();
    image::imageops::replace(&mut few, &corner, (w / 3) as i64, (h / 2) as i64);
    few.save(dossier.join("few.png")).unwrap();

    let out = env.dossier(&["run", env.pipeline().to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0) | Some(3)), "{stderr}");
    for chatter in [
        "Invalid resolution",
        "Too few characters",
        "Estimating resolution",
        "Warning",
        "OSD",
        "Detected",
    ] {
        assert!(
            !stderr.contains(chatter),
            "{chatter:?} in the log:\n{stderr}"
        );
    }
    // Every line is one of dossier's own: a dossier line or the summary, after its timestamp
    // and level.
    for line in stderr.lines() {
        let message = common::log_message(line);
        assert!(
            message.starts_with("dossier ") || message.starts_with("run "),
            "not a line of dossier's: {line:?}\n{stderr}"
        );
    }

    // With --verbose the same notes are in the log, at debug level, each naming its file.
    fs::remove_dir_all(env.archive()).unwrap();
    let out = env.dossier(&["run", env.pipeline().to_str().unwrap(), "--verbose"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0) | Some(3)), "{stderr}");
    let tesseract: Vec<&str> = stderr
        .lines()
        .filter(|l| common::log_message(l).starts_with("tesseract: "))
        .collect();
    assert!(
        !tesseract.is_empty(),
        "no Tesseract message with --verbose:\n{stderr}"
    );
    for line in &tesseract {
        assert!(line.contains(" DEBUG "), "{line}");
        let message = common::log_message(line);
        assert!(
            ["sideways.png page 1: ", "few.png page 1: "]
                .iter()
                .any(|f| message.contains(f)),
            "not attributed to a file being read: {line}"
        );
    }
    assert!(
        tesseract.iter().any(|l| l.contains("Too few characters")
            || l.contains("Estimating resolution")
            || l.contains("Invalid resolution")),
        "{stderr}"
    );
}

/// Each log line: an ISO-8601 UTC timestamp, a level, the message; `--log-format json` gives
/// one JSON object per line with the same; `--quiet` leaves warnings and errors only.
#[test]
fn log_lines_carry_a_timestamp_and_a_level() {
    let env = TestEnv::generated(1);
    let pipeline = env.pipeline();
    let pipeline = pipeline.to_str().unwrap();
    let out = env.dossier(&["run", pipeline]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.lines().count() >= 2, "{stderr}");
    for line in stderr.lines() {
        let (time, rest) = line.split_once(' ').unwrap();
        // 2026-12-02T07:01:02.345Z
        assert_eq!(time.len(), 24, "{line}");
        assert!(
            time.chars().enumerate().all(|(i, c)| match i {
                4 | 7 => c == '-',
                10 => c == 'T',
                13 | 16 => c == ':',
                19 => c == '.',
                23 => c == 'Z',
                _ => c.is_ascii_digit(),
            }),
            "{line}"
        );
        assert!(rest.starts_with("INFO  "), "{line}");
    }
    assert!(
        stderr.lines().last().unwrap().contains("INFO  run "),
        "{stderr}"
    );

    // Again, in JSON: nothing new to read, and the summary says so.
    let out = env.dossier(&["run", pipeline, "--log-format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(!lines.is_empty());
    for v in &lines {
        assert_eq!(v["level"], "info", "{v}");
        assert_eq!(v["time"].as_str().unwrap().len(), 24, "{v}");
        assert!(v["message"].is_string(), "{v}");
    }
    assert!(lines.last().unwrap()["message"]
        .as_str()
        .unwrap()
        .starts_with("run "));

    // --quiet: nothing but warnings and errors; an error still says itself, with its level.
    let out = env.dossier(&["run", pipeline, "--quiet"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let missing = env.root().join("missing.toml");
    let out = env.dossier(&["--quiet", "run", missing.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(" ERROR dossier: error: "), "{stderr}");
}

/// `--version` names the commit, the Tesseract and Leptonica libraries it runs with and the
/// language models found; `-V` is the version alone.
#[test]
fn version_names_commit_libraries_and_languages() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dossier"))
        .arg("--version")
        .env_remove("TESSDATA_PREFIX")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        format!("dossier {}", env!("CARGO_PKG_VERSION")),
        "{text}"
    );
    let field = |name: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} line: {text}"))
    };
    let commit = field("commit");
    assert!(
        commit == "unknown" || commit.chars().all(|c| c.is_ascii_hexdigit()),
        "{commit}"
    );
    assert!(field("tesseract").starts_with("5."), "{text}");
    assert!(field("leptonica").starts_with("1."), "{text}");
    // Debian's models, where the tests run (scripts/install-deps.sh installs vie and osd).
    let languages: Vec<&str> = field("languages").split(' ').collect();
    for model in ["vie", "osd"] {
        assert!(languages.contains(&model), "{text}");
    }
    let short = std::process::Command::new(env!("CARGO_BIN_EXE_dossier"))
        .arg("-V")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&short.stdout).trim(),
        format!("dossier {}", env!("CARGO_PKG_VERSION"))
    );
}

/// A missing pipeline file, an unwritable bag: the OS error once, not twice.
#[test]
fn errors_name_their_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dossier"))
        .args(["run", missing.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.matches("os error 2").count(), 1, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// The messages: `--target 99,5` is read as 99.5, text `show` lists each document's
/// events, and `sample --output` into the pipeline's intake (or around it) is refused.
#[test]
fn target_with_a_comma_show_events_and_samples_kept_out_of_the_intake() {
    let env = TestEnv::generated(1);
    let (code, _, stderr) = env.run();
    assert_eq!(code, 0, "{stderr}");
    let archive = env.archive();
    let archive = archive.to_str().unwrap();

    let out = env.dossier(&[
        "report",
        "--archive",
        archive,
        "--format",
        "json",
        "--target",
        "99,5",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["target_percent"], 99.5, "{report}");

    let code = &env.manifest.files[0].dossier;
    let out = env.dossier(&["show", "--archive", archive, code]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = env.show(code);
    let documents = json["documents"].as_array().unwrap();
    let events: usize = documents
        .iter()
        .map(|d| d["events"].as_array().unwrap().len())
        .sum();
    assert!(events >= 2 * documents.len(), "{json}");
    assert_eq!(text.matches("\n    event ").count(), events, "{text}");
    for kind in ["ingestion", "message digest calculation"] {
        assert!(text.contains(&format!(" {kind}: ")), "{kind}: {text}");
    }

    for output in [
        env.intake(),
        env.intake().join("new"),
        env.root().join("archive/x"),
    ] {
        let out = env.dossier(&[
            "sample",
            "--output",
            output.to_str().unwrap(),
            "--pipeline",
            env.pipeline().to_str().unwrap(),
            "--dossiers",
            "1",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("samples go to a folder of their own"),
            "{stderr}"
        );
        assert!(!output.join("register.csv").exists());
    }
}

/// The other commands speak through the same log as `run`: every line they write on standard
/// error is a log line (timestamp, level, message), in JSON with `--log-format json`, and
/// `--quiet` silences their notes but not their errors.
#[test]
fn every_command_writes_log_lines() {
    let env = TestEnv::generated(2);
    let (code, _, stderr) = env.run();
    assert_eq!(code, 0, "{stderr}");
    let archive = env.archive();
    let archive = archive.to_str().unwrap();
    // A register with one unreadable row: its line is a warning.
    let mut rows = std::fs::read_to_string(env.root().join("register.csv")).unwrap();
    rows.push_str("no-code,,,,,,\n");
    let register = env.root().join("register-with-a-bad-row.csv");
    std::fs::write(&register, rows).unwrap();
    let register = register.to_str().unwrap();
    let bag = env.root().join("bag");
    let sheets = env.root().join("sheets.pdf");
    let commands: Vec<Vec<&str>> = vec![
        vec!["report", "--archive", archive, "--register", register],
        vec!["report", "--archive", archive],
        vec!["verify", "--archive", archive],
        vec!["verify", "--archive", archive, "--since", "not-a-head"],
        vec![
            "export-bag",
            "--archive",
            archive,
            "--output",
            bag.to_str().unwrap(),
        ],
        vec![
            "cover-sheets",
            "--output",
            sheets.to_str().unwrap(),
            "000.00.01.H50-240115-0001",
        ],
        vec![
            "cover-sheets",
            "--output",
            sheets.to_str().unwrap(),
            "not a code",
        ],
    ];
    for args in &commands {
        let out = env.dossier(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.is_empty(), "{args:?} says what it did");
        for line in stderr.lines() {
            log_message(line);
        }
        let mut json_args = vec!["--log-format", "json"];
        json_args.extend(args);
        let out = env.dossier(&json_args);
        for line in String::from_utf8_lossy(&out.stderr).lines() {
            let v: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{args:?}: {e}: {line}"));
            assert!(v["level"].is_string() && v["message"].is_string(), "{v}");
        }
    }
    let out = env.dossier(&["--quiet", "verify", "--archive", archive]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let out = env.dossier(&["--quiet", "verify", "--archive", archive, "--since", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(" ERROR "));
}
