//! Workers sharing one PostgreSQL index: pages per minute with one worker, then two.
//!
//!     cargo bench --bench workers            # about 40 A4 pages at 300 dpi
//!     cargo bench --bench workers -- 100     # about 100 pages
//!
//! Uses the PostgreSQL at DOSSIER_TEST_POSTGRES, or starts Debian's on loopback with
//! scripts/postgres.sh. On the same generated intake, each time with a fresh database and a
//! fresh archive folder:
//!   (a) one worker: one `dossier run --jobs 1` process (the baseline);
//!   (b) two workers: two `dossier run --jobs 1` processes at once, as on two machines, each
//!       claiming files with leases;
//!   (c) for reference, one process with `--jobs 2` (two engines in one process).
//! Prints pages per minute for each and the ratios against (a); checks that every page was
//! OCR'd exactly once across the workers.

use std::process::{Command, Stdio};
use std::time::Instant;

use dossier::sample::{self, SampleOptions};
use dossier::test_support::PostgresTestDb;

fn main() {
    let pages_wanted: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(40);
    if std::env::var("DOSSIER_TEST_POSTGRES").is_err() {
        let out = Command::new("scripts/postgres.sh")
            .arg("start")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("scripts/postgres.sh runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        // Set before any other thread starts.
        std::env::set_var("DOSSIER_TEST_POSTGRES", url);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    // Generated dossiers hold 1.75 pages on average.
    let opts = SampleOptions {
        dossiers: Some((pages_wanted * 4).div_ceil(7)),
        ..SampleOptions::default()
    };
    let manifest = sample::generate(dir.path(), &opts).expect("samples render");
    let pages: u64 = manifest.files.iter().map(|f| f.pages.len() as u64).sum();
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    println!(
        "{pages} pages (A4, 300 dpi) in {} files; {cores} cores; index in PostgreSQL",
        manifest.files.len()
    );

    let measure = |name: &str, processes: usize, jobs: usize| -> f64 {
        let db = PostgresTestDb::create(&format!("bench_{name}"));
        let archive = dir.path().join(format!("archive-{name}"));
        let pipeline = dir.path().join(format!("{name}.toml"));
        std::fs::write(
            &pipeline,
            format!(
                "[pipeline]\nname = \"bench\"\nintake = \"intake\"\narchive = \"{}\"\n\n\
                 [intake]\nsettle_seconds = 0\n\n[index]\nurl = \"{}\"\n",
                archive.display(),
                db.url
            ),
        )
        .unwrap();
        let t = Instant::now();
        let children: Vec<_> = (0..processes)
            .map(|_| {
                Command::new(env!("CARGO_BIN_EXE_dossier"))
                    .args(["run", "--quiet", "--json", "--jobs", &jobs.to_string()])
                    .arg(&pipeline)
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut ocr_pages = 0;
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "a worker failed");
            let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            ocr_pages += report["pages_ocr"].as_u64().unwrap();
        }
        let wall = t.elapsed().as_secs_f64();
        assert_eq!(ocr_pages, pages, "every page OCR'd once across the workers");
        wall
    };

    let per_min = |s: f64| pages as f64 * 60.0 / s;
    let one = measure("one_worker", 1, 1);
    println!(
        "(a) 1 worker (1 process, --jobs 1): {one:.1} s, {:.0} pages/min",
        per_min(one)
    );
    let two = measure("two_workers", 2, 1);
    println!(
        "(b) 2 workers (2 processes, --jobs 1 each): {two:.1} s, {:.0} pages/min, {:.2}x (a)",
        per_min(two),
        one / two
    );
    let in_process = measure("one_process_two_jobs", 1, 2);
    println!(
        "(c) 1 process, --jobs 2: {in_process:.1} s, {:.0} pages/min, {:.2}x (a)",
        per_min(in_process),
        one / in_process
    );
}
