//! An intake file far larger than memory should hold (issue #19: a 1.5 GB file took 1.5 GB of
//! resident memory) is hashed and stored by streaming: the run's peak resident set stays flat
//! in the file's size, the archived object is the file byte for byte, and the file, too large
//! to decode, is rejected with the reason (exit 3), not read into memory.

use std::fs;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

/// 1 GiB: four times the decode limit, and far over the memory a run may take.
const SIZE: u64 = 1 << 30;

/// A small, valid JPEG padded to `SIZE` with zeros after its end (a sparse file: the intake
/// costs no disk; the archived copy does).
fn padded_jpeg(path: &Path) {
    let page = image::GrayImage::from_pixel(64, 64, image::Luma([230]));
    let mut bytes = Vec::new();
    image::DynamicImage::ImageLuma8(page)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    fs::write(path, &bytes).unwrap();
    fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(SIZE)
        .unwrap();
}

fn sha256_streamed(path: &Path) -> String {
    let mut f = fs::File::open(path).unwrap();
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    format!("{:x}", hasher.finalize())
}

/// Runs `dossier ARGS`, waiting with wait4: (exit code, stdout, stderr, peak RSS in KiB of the
/// child itself, as the kernel counted it).
fn run_measured(args: &[&str], dir: &Path) -> (i32, String, String, i64) {
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    #[expect(
        clippy::zombie_processes,
        reason = "reaped by wait4 below, which also gives the child's own rusage"
    )]
    let child = Command::new(env!("CARGO_BIN_EXE_dossier"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out).unwrap())
        .stderr(fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; status and usage are valid for writing.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32, "wait4");
    let status = std::process::ExitStatus::from_raw(status);
    (
        status.code().unwrap_or(-1),
        fs::read_to_string(out).unwrap(),
        fs::read_to_string(err).unwrap(),
        usage.ru_maxrss,
    )
}

#[test]
fn a_one_gib_intake_file_is_archived_by_streaming_with_flat_memory() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir
        .path()
        .join("intake/1.001193/000.00.01.H50-240115-0001/input");
    fs::create_dir_all(&folder).unwrap();
    let big = folder.join("ho-so.jpg");
    padded_jpeg(&big);
    let pipeline = dir.path().join("pipeline.toml");
    fs::write(
        &pipeline,
        "[pipeline]\nname = \"large\"\nintake = \"intake\"\narchive = \"archive\"\njobs = 2\n\
         [intake]\nsettle_seconds = 0\n",
    )
    .unwrap();

    let (code, stdout, stderr, peak_kib) =
        run_measured(&["run", pipeline.to_str().unwrap(), "--json"], dir.path());
    println!(
        "peak RSS of `dossier run` on a {} MiB intake file: {:.1} MiB",
        SIZE >> 20,
        peak_kib as f64 / 1024.0
    );
    let report: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("run report ({e}); stderr:\n{stderr}"));
    assert_eq!(
        code, 3,
        "too large to decode is a rejection: {report}\n{stderr}"
    );
    assert!(
        peak_kib < 200 * 1024,
        "peak RSS {peak_kib} KiB for a {SIZE}-byte file: memory follows the file size"
    );
    assert_eq!(report["documents_added"], 1, "{report}");
    let reason = report["rejected"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("file is 1024 MiB, over the limit of 256 MiB"),
        "{reason}"
    );

    // The archived object is the intake file, byte for byte, under its hash; no scratch left.
    let sha = sha256_streamed(&big);
    let object = dir
        .path()
        .join("archive/objects")
        .join(&sha[..2])
        .join(&sha);
    assert_eq!(fs::metadata(&object).unwrap().len(), SIZE);
    assert_eq!(sha256_streamed(&object), sha);
    assert_eq!(
        fs::read_dir(dir.path().join("archive/tmp"))
            .unwrap()
            .count(),
        0
    );
    let show = Command::new(env!("CARGO_BIN_EXE_dossier"))
        .args(["show", "--archive"])
        .arg(dir.path().join("archive"))
        .args(["000.00.01.H50-240115-0001", "--json"])
        .output()
        .unwrap();
    let show: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    let doc = &show["documents"][0];
    assert_eq!(doc["sha256"], sha.as_str());
}
