//! Outputs named by the user (`--output`) are written by temp file + rename only onto a
//! regular file or a new path: a device node, a directory, a FIFO or a link is refused
//! (exit 1, the path and what it is named) and left exactly as it was. Device nodes are made
//! with `mknod` in a temp folder (root, as CI has), never a real one.

mod common;

use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::Command;

use common::TestEnv;

/// The paths an output must never replace, made fresh in `dir`.
fn hostile_targets(dir: &Path) -> Vec<(std::path::PathBuf, &'static str)> {
    let full = dir.join("full");
    let status = Command::new("mknod")
        .arg(&full)
        .args(["c", "1", "7"])
        .status()
        .expect("mknod runs");
    assert!(status.success(), "mknod needs root, as CI has");
    let fifo = dir.join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let folder = dir.join("folder");
    std::fs::create_dir(&folder).unwrap();
    let link = dir.join("link");
    std::os::unix::fs::symlink(&full, &link).unwrap();
    vec![
        (full, "a character device"),
        (fifo, "a FIFO"),
        (folder, "a directory"),
        (link, "a symbolic link"),
    ]
}

/// The node is still what it was, and no temp file is left beside it.
fn assert_untouched(dir: &Path, path: &Path, kind: &str) {
    let meta = std::fs::symlink_metadata(path).unwrap();
    let t = meta.file_type();
    let same = match kind {
        "a character device" => t.is_char_device(),
        "a FIFO" => t.is_fifo(),
        "a directory" => t.is_dir(),
        _ => t.is_symlink(),
    };
    assert!(same, "{} is still {kind}", path.display());
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .map(|e| e.file_name())
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

fn assert_refused(out: &std::process::Output, path: &Path, kind: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains(&path.display().to_string()) && stderr.contains(kind),
        "the message names the path and what it is: {stderr}"
    );
}

#[test]
fn cover_sheets_and_report_never_replace_a_device_fifo_folder_or_link() {
    let env = TestEnv::generated(1);
    let (code, _, stderr) = env.run();
    assert_eq!(code, 0, "{stderr}");
    let dir = env.root().join("targets");
    std::fs::create_dir(&dir).unwrap();
    for (path, kind) in hostile_targets(&dir) {
        let target = path.to_str().unwrap();
        let out = env.dossier(&[
            "cover-sheets",
            "--output",
            target,
            "1.001193/000.00.01.H50-240115-0001",
        ]);
        assert_refused(&out, &path, kind);
        assert_untouched(&dir, &path, kind);
        for format in ["csv", "xlsx"] {
            let out = env.dossier(&[
                "report",
                "--pipeline",
                env.pipeline().to_str().unwrap(),
                "--format",
                format,
                "--output",
                target,
            ]);
            assert_refused(&out, &path, kind);
            assert_untouched(&dir, &path, kind);
        }
    }
    // A regular file and a new path are written as before.
    let existing = dir.join("existing.pdf");
    std::fs::write(&existing, b"old").unwrap();
    for path in [existing, dir.join("new.pdf")] {
        let out = env.dossier(&[
            "cover-sheets",
            "--output",
            path.to_str().unwrap(),
            "1.001193/000.00.01.H50-240115-0001",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(std::fs::read(&path).unwrap().starts_with(b"%PDF"));
    }
}

/// The folder outputs (`sample --output`, `export-bag --output`) are written only into a new
/// path or a folder: a device node, a FIFO, a link (to a device or to a folder) or a regular
/// file is refused with exit 1, named, and left exactly as it was.
#[test]
fn sample_and_export_bag_write_into_no_device_fifo_link_or_file() {
    let env = TestEnv::generated(1);
    let (code, _, stderr) = env.run();
    assert_eq!(code, 0, "{stderr}");
    let dir = env.root().join("targets");
    std::fs::create_dir(&dir).unwrap();
    let mut targets: Vec<_> = hostile_targets(&dir)
        .into_iter()
        .filter(|(_, kind)| *kind != "a directory")
        .collect();
    let folder_link = dir.join("folder-link");
    let empty = dir.join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::os::unix::fs::symlink(&empty, &folder_link).unwrap();
    targets.push((folder_link, "a symbolic link"));
    let file = dir.join("file");
    std::fs::write(&file, b"mine").unwrap();
    targets.push((file.clone(), "a regular file"));
    let archive = env.archive();
    for (path, kind) in &targets {
        let target = path.to_str().unwrap();
        for args in [
            vec!["sample", "--output", target, "--dossiers", "1"],
            vec![
                "export-bag",
                "--archive",
                archive.to_str().unwrap(),
                "--output",
                target,
            ],
        ] {
            let out = env.dossier(&args);
            assert_refused(&out, path, kind);
            if *kind == "a regular file" {
                assert_eq!(std::fs::read(path).unwrap(), b"mine", "{args:?}");
            } else {
                assert_untouched(&dir, path, kind);
            }
        }
    }
    assert_eq!(
        std::fs::read_dir(&empty).unwrap().count(),
        0,
        "nothing went through the link"
    );
    // An empty folder and a new path are written as before.
    let bag = dir.join("bag");
    for output in [&empty, &bag] {
        let out = env.dossier(&[
            "export-bag",
            "--archive",
            archive.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(output.join("bagit.txt").is_file());
    }
    let samples = dir.join("samples");
    let out = env.dossier(&[
        "sample",
        "--output",
        samples.to_str().unwrap(),
        "--dossiers",
        "1",
        "--page-height-mm",
        "60",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(samples.join("register.csv").is_file());
}
