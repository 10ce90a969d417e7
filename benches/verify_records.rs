//! verify beside its hashing: what the evidence checks cost on an archive of N documents
//! (default 10,000: 5,000 dossiers, an input and a result scan each, two OCR'd pages a
//! document, a 5,000-row register), made through the index's own API without OCR.
//!
//!     cargo bench --bench verify_records            # 10,000 documents
//!     cargo bench --bench verify_records -- 1050    # another N
//!
//! Times `dossier verify --fast` and `dossier verify` (best of 5 each, the page cache warm),
//! then the evidence checks alone (every document's record rebuilt from its rows and hashed,
//! each import against its rows, each run's records against its ledger root, each verify's
//! fixity events; `dossier::fixity::check_evidence`, best of 5, in this process).
//!
//! Baseline: verify as it was before the evidence records (issue 13's "today's time"), which
//! did everything verify does now but the evidence checks. The bench prints the evidence
//! checks' time as a share of the rest of `verify --fast` (the mode where they weigh most: it
//! hashes nothing), against the bar of 10%.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;

use dossier::index::{Index, NewDocument, NewPage};
use dossier::intake::layout::Kind;
use dossier::store::{sha256_hex, Archive};

const RUN: &str = "20240101T010000Z-1";

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let dossiers = n.div_ceil(2);
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("archive");
    let t = Instant::now();
    build(&root, n, dossiers);
    println!(
        "setup: {n} documents, {} pages, {dossiers} register rows in {:.1} s",
        2 * n,
        t.elapsed().as_secs_f64()
    );

    let verify = |mode: &[&str]| -> f64 {
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            let out = Command::new(env!("CARGO_BIN_EXE_dossier"))
                .args(["verify", "--json", "--archive"])
                .arg(&root)
                .args(mode)
                .output()
                .unwrap();
            best = best.min(t.elapsed().as_secs_f64());
            let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(
                report["findings"].as_array().map(Vec::len),
                Some(0),
                "{report:#}"
            );
        }
        best
    };
    // Once to warm the page cache.
    verify(&["--fast"]);
    let fast = verify(&["--fast"]);
    let full = verify(&[]);
    let archive = Archive::open_existing(&root, false).unwrap();
    let index = Index::open_ro(&archive.index_path()).unwrap();
    let mut evidence = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let findings = dossier::fixity::check_evidence(&archive, &index);
        evidence = evidence.min(t.elapsed().as_secs_f64());
        assert!(findings.is_empty(), "{findings:?}");
    }
    let per_doc = |s: f64| s * 1e6 / n as f64;
    println!(
        "verify --fast: {:.3} s; verify: {:.3} s; evidence checks alone: {:.3} s ({:.1} µs a document)",
        fast,
        full,
        evidence,
        per_doc(evidence)
    );
    println!(
        "evidence checks against the rest of verify --fast: +{:.1}% (bar: 10%); of verify: +{:.1}%",
        100.0 * evidence / (fast - evidence),
        100.0 * evidence / (full - evidence)
    );
}

/// An archive as a run leaves it: objects, records, register import, run report and ledger.
fn build(root: &std::path::Path, n: usize, dossiers: usize) {
    let archive = Archive::create_or_open(root).unwrap();
    let mut index = Index::open_rw(&archive.index_path()).unwrap();
    index
        .begin_run(RUN, "bench", "2024-01-01T01:00:00Z", None)
        .unwrap();
    let code = |i: usize| format!("000.00.01.H50-240101-{i:06}");
    let put = |bytes: &[u8]| archive.put_object(bytes).unwrap().0;
    for i in 0..n {
        let dossier = code(i / 2);
        let kind = if i % 2 == 0 {
            Kind::Input
        } else {
            Kind::Result
        };
        let original = format!("scan {i} {}", "x".repeat(2000));
        let pages = (1..=2)
            .map(|page| {
                let text = format!(
                    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n\
                     TỜ KHAI ĐĂNG KÝ KHAI SINH số {i} trang {page}\n{}",
                    "Họ, chữ đệm, tên người yêu cầu: Nguyễn Thị Hương\n".repeat(20)
                );
                let hocr = format!("<div class='ocr_page'>{text}</div>");
                NewPage {
                    page,
                    width: 2480,
                    height: 3508,
                    dpi: 300,
                    dpi_source: "metadata",
                    blank: false,
                    confidence: Some(91.25 + (i % 7) as f32 * 0.5),
                    text_sha256: Some(put(text.as_bytes())),
                    hocr_sha256: Some(put(hocr.as_bytes())),
                    text,
                    ocr_seconds: Some(0.731),
                    text_source: "ocr",
                    turned: 0,
                    deskewed: 0.25,
                    source_page: None,
                }
            })
            .collect();
        let committed = index
            .add_document(&NewDocument {
                path: format!("1.001193/{dossier}/{}/scan.png", kind.as_str()),
                procedure: "1.001193".into(),
                dossier,
                unit: Some("Phường 1".into()),
                kind,
                sha256: put(original.as_bytes()),
                bytes: original.len() as u64,
                mtime_ns: 1_704_070_800_000_000_000 + i as i64,
                media_type: Some("image/png"),
                archived_at: "2024-01-01T01:00:00Z".into(),
                run_id: RUN.into(),
                rejected: None,
                reasons: vec![],
                pages,
                searchable_pdf: None,
                intake_file: true,
            })
            .unwrap();
        archive
            .put_object_with_hash(&committed.record, &committed.record_sha256)
            .unwrap();
    }
    let mut csv =
        String::from("dossier_code,procedure_code,unit,received_on,due_on,completed_on,channel\n");
    for i in 0..dossiers {
        let _ = writeln!(
            csv,
            "{},1.001193,Phường 1,2024-01-01,2024-01-05,2024-01-04,1",
            code(i)
        );
    }
    let file = root.parent().unwrap().join("register.csv");
    std::fs::write(&file, &csv).unwrap();
    let (rows, problems) = dossier::register::read_register_rows(&file).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let record = index
        .replace_register(&rows, RUN, "register.csv", &put(csv.as_bytes()), &[])
        .unwrap();
    archive
        .put_object_with_hash(&record.bytes, &record.sha256)
        .unwrap();
    let report = format!("{{\"run_id\": \"{RUN}\"}}");
    index
        .finish_run_with_ledger(
            RUN,
            "2024-01-01T02:00:00Z",
            &report,
            &sha256_hex(report.as_bytes()),
            serde_json::json!({}),
        )
        .unwrap();
    archive.put_run_report(RUN, report.as_bytes()).unwrap();
    let mut ledger = String::new();
    for (_, entry, _) in index.ledger().unwrap() {
        ledger.push_str(&entry);
        ledger.push('\n');
    }
    archive.write_ledger(ledger.as_bytes()).unwrap();
}
