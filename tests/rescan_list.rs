//! The rescan list shows only what is still to do: a failing scan leaves it once a passing
//! document of the same dossier and kind arrives after it, or once its file is withdrawn from
//! the intake (the archive keeps it; `show` says which); the missing list says why and since
//! when. A rebuilt index gives the same lists.

mod common;

use std::fs;

use common::TestEnv;
use dossier::sample::{self, render, FileKind, Line, Paper};
use serde_json::Value;

const STRIP: Paper = Paper {
    width_mm: 210.0,
    height_mm: 55.0,
};
const PROCEDURE: &str = "1.001193";
/// Rescanned under a new name: the first scan was at 150 dpi.
const RESCANNED: &str = "000.00.01.H50-240115-0001";
/// Never scanned at all.
const NEVER: &str = "000.00.01.H50-240116-0002";
/// Scanned at 150 dpi, then its file taken out of the intake.
const TAKEN_OUT: &str = "000.00.01.H50-240117-0003";

fn scan(env: &TestEnv, code: &str, name: &str, dpi: u32) -> std::path::PathBuf {
    let path = env
        .intake()
        .join(format!("{PROCEDURE}/{code}/input/{name}"));
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let fonts = render::Fonts::find().unwrap();
    let lines = [
        Line::heading("BẢN CHÍNH GIẤY TỜ", 14.0),
        Line::body(format!("Mã hồ sơ: {code}")),
    ];
    let page = render::render_page(&fonts, &lines, STRIP, dpi).0;
    fs::write(&path, sample::encode(&[page], FileKind::Png, dpi).unwrap()).unwrap();
    path
}

fn report(env: &TestEnv) -> Value {
    let out = env.dossier(&[
        "report",
        "--archive",
        env.archive().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(
        matches!(out.status.code(), Some(0) | Some(3)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn to_rescan(report: &Value) -> Vec<String> {
    report["needs_rescan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["document"].as_str().unwrap().to_owned())
        .collect()
}

fn missing<'a>(report: &'a Value, code: &str) -> Option<&'a Value> {
    report["missing"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["dossier_code"] == code)
}

/// The document of `path` as `show` gives it (its latest version).
fn shown(env: &TestEnv, code: &str, path: &str) -> Value {
    let view = env.show(code);
    view["documents"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|d| d["path"] == path)
        .cloned()
        .unwrap_or_else(|| panic!("{path} in {view:#}"))
}

#[test]
fn rescan_list_clears_on_a_later_good_scan_or_a_withdrawal_and_missing_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let env = TestEnv {
        dir,
        manifest: sample::Manifest { files: vec![] },
    };
    fs::create_dir_all(env.intake()).unwrap();
    env.write_pipeline("\n[register]\npath = \"register.csv\"\n");
    fs::write(
        env.root().join("register.csv"),
        format!(
            "dossier_code,procedure_code,unit,received_on,due_on,completed_on,channel\n\
             {RESCANNED},{PROCEDURE},Phường 1,2024-01-15,,,1\n\
             {NEVER},{PROCEDURE},Phường 1,2024-01-16,,,1\n\
             {TAKEN_OUT},{PROCEDURE},Phường 1,2024-01-17,,,1\n"
        ),
    )
    .unwrap();
    let first = format!("{PROCEDURE}/{RESCANNED}/input/ban-chinh.png");
    let again = format!("{PROCEDURE}/{RESCANNED}/input/ban-chinh-quet-lai.png");
    let out_path = format!("{PROCEDURE}/{TAKEN_OUT}/input/ban-sao.png");
    scan(&env, RESCANNED, "ban-chinh.png", 150);
    let taken_out = scan(&env, TAKEN_OUT, "ban-sao.png", 150);
    let (code, _, stderr) = env.run();
    assert_eq!(code, 0, "{stderr}");

    let r = report(&env);
    assert_eq!(to_rescan(&r), vec![first.clone(), out_path.clone()]);
    let never = missing(&r, NEVER).expect("never scanned is missing");
    assert_eq!(never["gaps"][0]["what"], "input");
    assert_eq!(never["gaps"][0]["scanned"], false);
    assert_eq!(never["gaps"][0]["since"], "2024-01-16");
    let poor = missing(&r, RESCANNED).expect("a 150-dpi scan does not count");
    assert_eq!(poor["gaps"][0]["scanned"], true);
    assert!(
        poor["gaps"][0]["failing"].as_str().unwrap().contains("dpi"),
        "{poor}"
    );
    assert_eq!(poor["gaps"][0]["since"], "2024-01-15");

    // A good rescan under a new name: digitized, and the old scan is no longer to rescan.
    scan(&env, RESCANNED, "ban-chinh-quet-lai.png", 300);
    let (code, _, stderr) = env.run();
    assert_eq!(code, 0, "{stderr}");
    let r = report(&env);
    assert_eq!(to_rescan(&r), vec![out_path.clone()]);
    assert!(missing(&r, RESCANNED).is_none(), "{r:#}");
    assert_eq!(shown(&env, RESCANNED, &first)["superseded_by"], again);

    // The other failing scan taken out of the intake: kept, but no longer listed.
    fs::remove_file(&taken_out).unwrap();
    let (code, run, stderr) = env.run();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(run["withdrawn"], serde_json::json!([out_path]));
    let r = report(&env);
    assert!(to_rescan(&r).is_empty(), "{r:#}");
    let gap = &missing(&r, TAKEN_OUT).expect("still not digitized")["gaps"][0];
    assert_eq!(gap["scanned"], true, "{gap}");
    let doc = shown(&env, TAKEN_OUT, &out_path);
    assert_eq!(doc["withdrawn"], true, "{doc:#}");
    assert!(env.archive().join("objects").exists());
    let text = env.dossier(&[
        "show",
        "--archive",
        env.archive().to_str().unwrap(),
        TAKEN_OUT,
    ]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("withdrawn from the intake"));

    // The index rebuilt from the evidence gives the same lists.
    rebuilt_gives_the_same_lists(&env, &r);

    // Put back: listed again.
    scan(&env, TAKEN_OUT, "ban-sao.png", 150);
    let (code, run, stderr) = env.run();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(run["returned"], serde_json::json!([out_path]));
    assert_eq!(to_rescan(&report(&env)), vec![out_path]);
}

fn rebuilt_gives_the_same_lists(env: &TestEnv, before: &Value) {
    let copy = common::copy_archive(env, "rebuilt");
    fs::remove_file(copy.join("index.sqlite")).unwrap();
    let out = env.dossier(&["rebuild-index", "--archive", copy.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = env.dossier(&[
        "report",
        "--archive",
        copy.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let after: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(after["needs_rescan"], before["needs_rescan"]);
    assert_eq!(after["missing"], before["missing"]);
}
