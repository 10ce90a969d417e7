//! Coverage report at scale: a register of N rows (default 1,000,000) with a matching index.
//!
//!     cargo bench --bench report_1m            # N = 1,000,000
//!     cargo bench --bench report_1m -- 100000  # another N
//!
//! Builds an archive index with N dossiers (3 in 4 with an input document that passes, 3 in 4
//! completed, most with a result), writes the N-row register CSV, then times
//! `dossier report --format json` twice: from the register file, and from the register imported
//! into the index. Prints wall time and the child's peak RSS against the budget the issue names
//! (a few seconds, a few hundred MB: 10 s and 300 MiB).

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::Command;
use std::time::Instant;

use dossier::index::Index;
use rusqlite::params;

const BUDGET_SECONDS: f64 = 10.0;
const BUDGET_MIB: f64 = 300.0;

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let archive = dir.path().join("archive");
    std::fs::create_dir_all(&archive).unwrap();
    let index_path = archive.join("index.sqlite");
    drop(Index::open_rw(&index_path).expect("index"));

    let t = Instant::now();
    let procedures: Vec<&str> = dossier::sample::PROCEDURES.iter().map(|p| p.code).collect();
    let units = dossier::sample::UNITS;
    let code = |i: usize| {
        format!(
            "000.00.{:02}.H50-24{:02}{:02}-{:06}",
            i % 6 + 1,
            i % 12 + 1,
            i % 28 + 1,
            i
        )
    };
    {
        let mut conn = rusqlite::Connection::open(&index_path).unwrap();
        conn.execute_batch("PRAGMA synchronous = OFF; PRAGMA journal_mode = OFF;")
            .unwrap();
        let tx = conn.transaction().unwrap();
        {
            let mut dossier = tx
                .prepare(
                    "INSERT INTO dossiers(code, procedure_code, unit, input_passes, result_passes, has_result)
                     VALUES (?1, ?2, NULL, ?3, ?4, ?5)",
                )
                .unwrap();
            let mut doc = tx
                .prepare(
                    "INSERT INTO documents(dossier_code, path, version, kind, sha256, bytes, media_type, archived_at,
                                           run_id, quality, reasons, rejected, page_count)
                     VALUES (?1, ?2, 1, ?3, ?4, 1000, 'image/png', '2024-02-01T00:00:00Z', 'bench', ?5, ?6, NULL, 1)",
                )
                .unwrap();
            let mut current = tx
                .prepare(
                    "INSERT INTO current_documents(dossier_code, path, document_id, kind, quality)
                     VALUES (?1, ?2, last_insert_rowid(), ?3, ?4)",
                )
                .unwrap();
            for i in 0..n {
                let c = code(i);
                let p = procedures[i % procedures.len()];
                let has_result = i % 4 != 3 && i % 10 != 0;
                dossier
                    .execute(params![
                        c,
                        p,
                        i % 4 != 3 && i % 50 != 0,
                        has_result,
                        has_result
                    ])
                    .unwrap();
                if i % 4 != 3 {
                    let pass = i % 50 != 0;
                    let (path, quality) = (
                        format!("{p}/{c}/input/1.png"),
                        if pass { "pass" } else { "fail" },
                    );
                    doc.execute(params![
                        c,
                        path,
                        "input",
                        format!("{i:064x}"),
                        quality,
                        if pass {
                            "[]"
                        } else {
                            "[\"below 200 dpi: 150 dpi\"]"
                        }
                    ])
                    .unwrap();
                    current.execute(params![c, path, "input", quality]).unwrap();
                }
                if i % 4 != 3 && i % 10 != 0 {
                    let path = format!("{p}/{c}/result/1.png");
                    doc.execute(params![
                        c,
                        path,
                        "result",
                        format!("{:064x}", i + n),
                        "pass",
                        "[]"
                    ])
                    .unwrap();
                    current.execute(params![c, path, "result", "pass"]).unwrap();
                }
            }
        }
        tx.commit().unwrap();
    }
    let mut csv = String::with_capacity(n * 90);
    csv.push_str("dossier_code,procedure_code,unit,received_on,due_on,completed_on,channel\n");
    for i in 0..n {
        let d = format!("2024-{:02}-{:02}", i % 12 + 1, i % 28 + 1);
        let done = if i % 4 == 0 { String::new() } else { d.clone() };
        let _ = writeln!(
            csv,
            "{},{},{},{d},{d},{done},{}",
            code(i),
            procedures[i % procedures.len()],
            units[i % units.len()],
            i % 3 + 1
        );
    }
    let register = dir.path().join("register.csv");
    std::fs::File::create(&register)
        .unwrap()
        .write_all(csv.as_bytes())
        .unwrap();
    drop(csv);
    // The same register imported into the index, as `run` does.
    {
        let (rows, _) = dossier::register::read_register_rows(&register).unwrap();
        let mut index = Index::open_rw(&index_path).unwrap();
        index
            .replace_register(&rows, "bench", "register.csv", "0", &[])
            .unwrap();
    }
    println!(
        "setup: {n} dossiers and register rows in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let exe = env!("CARGO_BIN_EXE_dossier");
    for (label, with_file) in [("register file", true), ("imported register", false)] {
        let out = dir.path().join("report.json");
        let mut cmd = Command::new(exe);
        cmd.args(["report", "--archive"]).arg(&archive);
        if with_file {
            cmd.arg("--register").arg(&register);
        }
        cmd.args(["--format", "json", "--output"]).arg(&out);
        let (seconds, rss_mib) = timed(&mut cmd);
        let groups =
            serde_json::from_slice::<serde_json::Value>(&std::fs::read(&out).unwrap()).unwrap();
        let received = &groups["totals"]["received"];
        println!(
            "report ({label}): {n} rows in {seconds:.2} s ({:.2}× the {BUDGET_SECONDS} s budget), peak RSS {rss_mib:.0} MiB ({:.2}× the {BUDGET_MIB} MiB budget); totals.received = {received}",
            seconds / BUDGET_SECONDS,
            rss_mib / BUDGET_MIB
        );
        assert_eq!(received.as_u64(), Some(n as u64));
        // 3 in 4 dossiers have an input, 1 in 50 of those fails quality; a third were filed
        // online (channel 2), which needs no scan.
        let input = groups["totals"]["input_digitized"].as_u64().unwrap();
        let scanned = |i: usize| i % 4 != 3 && !i.is_multiple_of(50);
        let online = |i: usize| i % 3 + 1 == 2;
        assert_eq!(
            input,
            (0..n).filter(|&i| scanned(i) || online(i)).count() as u64
        );
    }
    if std::env::var_os("DOSSIER_BENCH_KEEP").is_some() {
        println!("kept: {}", dir.keep().display());
    }
}

/// Wall time and the child's peak resident set. VmHWM in /proc is the child's own high-water
/// mark (getrusage of children would also count the pages it shared with this process at fork).
fn timed(cmd: &mut Command) -> (f64, f64) {
    let t = Instant::now();
    let mut child = cmd.spawn().expect("dossier runs");
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_path) {
            if let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak_kib = peak_kib.max(kib);
            }
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let seconds = t.elapsed().as_secs_f64();
    assert!(status.success(), "report failed: {status}");
    (seconds, peak_kib as f64 / 1024.0)
}
