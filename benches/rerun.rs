//! A rerun over an unchanged intake: no OCR, no file read, in seconds.
//!
//!     cargo bench --bench rerun            # 10,000 files
//!     cargo bench --bench rerun -- 2000    # another count
//!
//! Writes N small scans (64×64 PNG, 500 dossiers' worth of folders), runs the batch once for
//! real (each is OCR'd: tiny pages take milliseconds), then times the rerun, which must read
//! no file and OCR nothing. Prints both times, files per second of the rerun, and its ratio to
//! the baseline the issue names: "in seconds" (10 s for 10,000 files).

use std::process::Command;
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let png = {
        let img = image::GrayImage::from_pixel(64, 64, image::Luma([250]));
        let mut out = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    };
    for i in 0..n {
        let folder = dir.path().join(format!(
            "intake/1.001193/000.00.01.H50-240101-{:04}/input",
            i / 20
        ));
        std::fs::create_dir_all(&folder).unwrap();
        // Each file different, so that each is its own document.
        let mut bytes = png.clone();
        bytes.extend_from_slice(&(i as u64).to_le_bytes());
        std::fs::write(folder.join(format!("trang-{i}.png")), bytes).unwrap();
    }
    let pipeline = dir.path().join("bench.toml");
    std::fs::write(
        &pipeline,
        "[pipeline]\nname = \"bench\"\nintake = \"intake\"\narchive = \"archive\"\n\n[intake]\nsettle_seconds = 0\n",
    )
    .unwrap();
    let run = || -> (f64, serde_json::Value) {
        let t = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_dossier"))
            .args(["run", "--quiet", "--json"])
            .arg(&pipeline)
            .output()
            .unwrap();
        (
            t.elapsed().as_secs_f64(),
            serde_json::from_slice(&out.stdout).expect("run report"),
        )
    };
    let (first, report) = run();
    assert_eq!(report["documents_added"].as_u64(), Some(n as u64));
    println!("first run: {n} files archived and OCR'd in {first:.1} s");
    let (second, report) = run();
    assert_eq!(
        report["files_unchanged"].as_u64(),
        Some(n as u64),
        "{report:#}"
    );
    assert_eq!(report["pages_ocr"].as_u64(), Some(0));
    let budget = 10.0 * n as f64 / 10_000.0;
    println!(
        "rerun: {n} unchanged files in {second:.2} s ({:.0} files/s), {:.2}× the {budget:.0} s budget; 0 pages OCR'd, 0 files read",
        n as f64 / second,
        second / budget
    );
}
