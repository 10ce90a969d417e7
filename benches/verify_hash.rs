//! verify's hashing throughput against `sha256sum` over the same files.
//!
//!     cargo bench --bench verify_hash            # 256 objects of 2 MiB (512 MiB)
//!     cargo bench --bench verify_hash -- 64      # another count
//!
//! Builds an archive of N documents (random content, 2 MiB each, as scans are), warms the page
//! cache, then times `dossier verify` (full re-hash) and, over the same object files,
//! `sha256sum` (one process, what an admin would type) and `xargs -P <cores> sha256sum`.
//! Prints MiB/s for each and verify's ratio to each.

use std::process::Command;
use std::time::Instant;

use dossier::index::{Index, NewDocument};
use dossier::intake::layout::Kind;
use dossier::sample::Rng;
use dossier::store::Archive;

const SIZE: usize = 2 << 20;

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(256);
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("archive");
    let archive = Archive::create_or_open(&root).unwrap();
    let mut index = Index::open_rw(&archive.index_path()).unwrap();
    index
        .begin_run("bench", "bench", "2024-01-01T00:00:00Z", None)
        .unwrap();
    let mut rng = Rng::new(7);
    let mut buf = vec![0u8; SIZE];
    for i in 0..n {
        for chunk in buf.chunks_mut(8) {
            let v = rng.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        let (sha, _) = archive.put_object(&buf).unwrap();
        let dossier = format!("000.00.01.H50-240101-{i:04}");
        index
            .add_document(&NewDocument {
                path: format!("1.001193/{dossier}/input/scan.png"),
                procedure: "1.001193".into(),
                dossier,
                unit: None,
                kind: Kind::Input,
                sha256: sha,
                bytes: SIZE as u64,
                mtime_ns: 0,
                media_type: Some("image/png"),
                archived_at: "2024-01-01T00:00:00Z".into(),
                run_id: "bench".into(),
                rejected: None,
                reasons: vec![],
                pages: vec![],
                searchable_pdf: None,
                intake_file: true,
            })
            .unwrap();
    }
    drop(index);
    let files: Vec<String> = walkdir::WalkDir::new(archive.objects_dir())
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().display().to_string())
        .collect();
    let mib = (n * SIZE) as f64 / (1 << 20) as f64;
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    // Warm the page cache so that every contender reads from memory alike.
    sh(&format!("cat {} > /dev/null", files.join(" ")));

    let time = |label: &str, f: &dyn Fn()| -> f64 {
        let t = Instant::now();
        f();
        let s = t.elapsed().as_secs_f64();
        println!("{label}: {mib:.0} MiB in {s:.2} s = {:.0} MiB/s", mib / s);
        s
    };
    let verify = time(&format!("dossier verify ({cores} threads)"), &|| {
        let out = Command::new(env!("CARGO_BIN_EXE_dossier"))
            .args(["verify", "--json", "--archive"])
            .arg(&root)
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            report["bytes_read"].as_u64(),
            Some((n * SIZE) as u64),
            "{report:#}"
        );
    });
    let list = dir.path().join("files.txt");
    std::fs::write(&list, files.join("\n")).unwrap();
    let single = time("sha256sum (one process)", &|| {
        sh(&format!(
            "xargs -a {} sha256sum > /dev/null",
            list.display()
        ))
    });
    let parallel = time(&format!("xargs -P {cores} sha256sum"), &|| {
        sh(&format!(
            "xargs -a {} -n 16 -P {cores} sha256sum > /dev/null",
            list.display()
        ))
    });
    println!(
        "verify vs sha256sum: {:.2}× ; vs xargs -P {cores} sha256sum: {:.2}× (above 1: verify is faster)",
        single / verify,
        parallel / verify
    );
}

fn sh(cmd: &str) {
    let status = Command::new("sh").arg("-c").arg(cmd).status().unwrap();
    assert!(status.success(), "{cmd}");
}
