//! What reaches the log: dossier's own lines, each cause said once, Vietnamese letters as
//! letters; never Tesseract's own chatter.

mod common;

use std::fs;

use common::TestEnv;

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
    // Every line is one of dossier's own: a dossier line or the summary.
    for line in stderr.lines() {
        assert!(
            line.starts_with("dossier ") || line.starts_with("run "),
            "not a line of dossier's: {line:?}\n{stderr}"
        );
    }
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
