//! Hostile input, a full disk and read-only archives. The mounts need root (CI runs as root).

mod common;

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;

use common::TestEnv;
use dossier::sample::{self, FileKind};
use serde_json::Value;

fn mount(args: &[&str]) {
    let out = Command::new("mount")
        .args(args)
        .output()
        .expect("mount runs");
    assert!(
        out.status.success(),
        "mount {args:?} failed (these tests mount a tmpfs and a read-only bind: they need root, as CI has): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Unmount(std::path::PathBuf);
impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in bytes {
        crc ^= *b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG whose header claims 30000×30000 pixels, in a few dozen bytes.
fn png_bomb() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        png.extend_from_slice(&body);
        png.extend_from_slice(&crc32(&body).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&30000u32.to_be_bytes());
    ihdr.extend_from_slice(&30000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    png
}

#[test]
fn hostile_names_and_contents_are_archived_or_rejected_with_a_reason() {
    let env = TestEnv::generated(1);
    let f = &env.manifest.files[0];
    let dossier = env
        .intake()
        .join(&f.procedure)
        .join(&f.dossier)
        .join("input");
    let good = fs::read(env.intake().join(&f.path)).unwrap();
    let png = |w: u32, h: u32| {
        sample::encode(
            &[image::GrayImage::from_pixel(w, h, image::Luma([200]))],
            FileKind::Png,
            300,
        )
        .unwrap()
    };
    let tiff_1000 = {
        let pages: Vec<image::GrayImage> = (0..1000)
            .map(|_| image::GrayImage::from_pixel(8, 8, image::Luma([255])))
            .collect();
        sample::encode(&pages, FileKind::Tiff, 300).unwrap()
    };
    fs::write(dossier.join(OsStr::from_bytes(b"trang-\xff.png")), &good).unwrap();
    fs::write(dossier.join("trang\u{7}.png"), &good).unwrap();
    let long_name = format!("{}.png", "a".repeat(251));
    fs::write(dossier.join(&long_name), png(40, 40)).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dossier.join("ngoai.png")).unwrap();
    std::os::unix::fs::symlink("vong-b.png", dossier.join("vong-a.png")).unwrap();
    std::os::unix::fs::symlink("vong-a.png", dossier.join("vong-b.png")).unwrap();
    std::os::unix::fs::symlink("..", dossier.join("len-tren")).unwrap();
    fs::write(dossier.join("rong.png"), b"").unwrap();
    fs::write(dossier.join("cut.png"), &good[..good.len() / 4]).unwrap();
    fs::write(dossier.join("la-png.jpg"), png(50, 50)).unwrap();
    fs::write(dossier.join("mot-diem.png"), png(1, 1)).unwrap();
    fs::write(dossier.join("bom.png"), png_bomb()).unwrap();
    fs::write(dossier.join("nghin-trang.tif"), &tiff_1000).unwrap();

    let (code, report, stderr) = env.run();
    assert_eq!(code, 3, "{stderr}");
    let rejected: HashMap<String, String> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let path = r["path"].as_str().unwrap();
            (
                path.rsplit('/').next().unwrap().to_owned(),
                r["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let reason = |name: &str| {
        rejected
            .get(name)
            .unwrap_or_else(|| panic!("{name} rejected: {rejected:#?}"))
            .clone()
    };
    assert!(reason("trang-\u{fffd}.png").contains("not valid UTF-8"));
    assert!(reason("trang\\u{7}.png").contains("control characters"));
    for link in ["ngoai.png", "vong-a.png", "vong-b.png", "len-tren"] {
        assert!(reason(link).contains("symbolic link"), "{link}");
    }
    assert_eq!(reason("rong.png"), "empty file");
    assert!(reason("cut.png").contains("cannot decode PNG"));
    assert!(
        reason("bom.png").contains("30000×30000"),
        "{}",
        reason("bom.png")
    );
    for fine in [
        long_name.as_str(),
        "la-png.jpg",
        "mot-diem.png",
        "nghin-trang.tif",
    ] {
        assert!(!rejected.contains_key(fine), "{fine}: {rejected:#?}");
    }
    assert_eq!(rejected.len(), 9, "{rejected:#?}");

    let view = env.show(&f.dossier);
    let docs: HashMap<String, Value> = view["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["path"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned(),
                d.clone(),
            )
        })
        .collect();
    // Readable oddities are archived; the rejected ones that were files are archived too.
    assert_eq!(
        docs["nghin-trang.tif"]["pages"].as_array().unwrap().len(),
        1000
    );
    // A PNG named .jpg is read as the PNG it is (and, being a blank 50×50 scan, fails quality).
    assert!(docs["la-png.jpg"]["rejected"].is_null());
    assert_eq!(docs["la-png.jpg"]["quality"], "fail");
    assert_eq!(docs["mot-diem.png"]["quality"], "fail");
    assert!(docs.contains_key(&long_name));
    for name in ["rong.png", "cut.png", "bom.png"] {
        assert!(
            docs[name]["rejected"].is_string(),
            "{name} archived with its reason"
        );
    }
    for name in ["ngoai.png", "vong-a.png", "len-tren"] {
        assert!(
            !docs.contains_key(name),
            "{name}: nothing read through a link"
        );
    }
    let out = env.dossier(&["verify", "--archive", env.archive().to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn dir_size(path: &Path) -> u64 {
    walkdir::WalkDir::new(path)
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

#[test]
fn a_full_disk_stops_the_run_cleanly_and_it_completes_after_space_is_freed() {
    let env = TestEnv::generated(3);
    // How much room the whole archive takes, then a volume with about half of it.
    env.run();
    let needed = dir_size(&env.archive());
    fs::remove_dir_all(env.archive()).unwrap();
    fs::create_dir_all(env.archive()).unwrap();
    let size = format!("size={}k", needed / 2 / 1024);
    mount(&[
        "-t",
        "tmpfs",
        "-o",
        &size,
        "tmpfs",
        env.archive().to_str().unwrap(),
    ]);
    let _unmount = Unmount(env.archive());

    let out = env.dossier(&["run", env.pipeline().to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("No space left on device") || stderr.contains("full"),
        "{stderr}"
    );
    assert_eq!(
        stderr
            .lines()
            .filter(|l| {
                dossier::log::text_message(l).is_some_and(|m| m.starts_with("dossier: error"))
            })
            .count(),
        1,
        "{stderr}"
    );

    // Space freed: the same archive is valid and the batch completes.
    mount(&["-o", "remount,size=64m", env.archive().to_str().unwrap()]);
    let (code, report, stderr) = env.run();
    assert_eq!(code, 0, "{stderr}");
    let total: u64 = env.manifest.files.len() as u64;
    let archived = report["documents_added"].as_u64().unwrap();
    assert!(archived >= 1 && archived <= total, "{report:#}");
    let out = env.dossier(&["verify", "--archive", env.archive().to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    for f in &env.manifest.files {
        let view = env.show(&f.dossier);
        assert!(
            view["documents"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["path"] == f.path.as_str()),
            "{}",
            f.path
        );
    }
}

#[test]
fn read_only_commands_work_on_a_read_only_archive() {
    let env = TestEnv::generated(1);
    env.write_pipeline("\n[register]\npath = \"register.csv\"\n");
    env.run();
    let ro = env.root().join("ro");
    fs::create_dir_all(&ro).unwrap();
    mount(&[
        "--bind",
        env.archive().to_str().unwrap(),
        ro.to_str().unwrap(),
    ]);
    let _unmount = Unmount(ro.clone());
    mount(&["-o", "remount,bind,ro", ro.to_str().unwrap()]);
    let a = ro.to_str().unwrap();
    let f = &env.manifest.files[0];
    for args in [
        vec!["report", "--archive", a, "--format", "json"],
        vec!["search", "--archive", a, "khai"],
        vec!["show", "--archive", a, f.dossier.as_str()],
    ] {
        let out = env.dossier(&args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = env.dossier(&["verify", "--archive", a, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["recorded"], false);
    assert!(report["bytes_read"].as_u64().unwrap() > 0);
}

#[test]
fn wrong_flag_values_are_usage_errors_in_one_line() {
    let env = TestEnv::generated(1);
    let archive = env.archive();
    let archive = archive.to_str().unwrap();
    for (args, says) in [
        (
            vec!["report", "--archive", archive, "--from", "2024-13-45"],
            "--from \"2024-13-45\" is not a date",
        ),
        (
            vec!["report", "--archive", archive, "--target", "150"],
            "--target 150 is out of range 0..=100",
        ),
        (
            vec![
                "report",
                "--archive",
                archive,
                "--from",
                "2024-02-01",
                "--to",
                "2024-01-01",
            ],
            "--from 2024-02-01 is after --to 2024-01-01",
        ),
        (
            vec![
                "export-bag",
                "--archive",
                archive,
                "--output",
                "/tmp/never",
                "--from",
                "31/12/2024",
                "--to",
                "01/01/2024",
            ],
            "--from 2024-12-31 is after --to 2024-01-01",
        ),
    ] {
        let out = env.dossier(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
}
