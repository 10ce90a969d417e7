//! The auditors' desk at scale: the dashboard over an N-row register (default 1,000,000),
//! cold and warm (the report cache is keyed by the ledger head), `/api/report` warm, the
//! dossiers behind a number (`/dossiers`, cached the same way) cold and warm, and one page
//! image of a 300 dpi A4 scan (decoded, scaled, PNG-encoded), cold and cached.
//!
//!     cargo bench --bench serve            # N = 1,000,000
//!     cargo bench --bench serve -- 100000  # another N
//!
//! Bars (issue 17): a warm dashboard under 1 s, a page image under 300 ms.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::Instant;

use dossier::index::Index;
use rusqlite::params;

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
    // One real page, stored as the first dossier's original.
    let page = image::GrayImage::from_fn(2480, 3508, |x, y| {
        image::Luma([if (x / 40 + y / 60) % 7 == 0 { 20 } else { 245 }])
    });
    let mut png = Vec::new();
    page.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let store = dossier::store::Archive::create_or_open(&archive).unwrap();
    let (page_sha, _) = store.put_object(&png).unwrap();
    {
        let mut conn = rusqlite::Connection::open(&index_path).unwrap();
        conn.execute_batch("PRAGMA synchronous = OFF; PRAGMA journal_mode = OFF;")
            .unwrap();
        let tx = conn.transaction().unwrap();
        {
            let mut dossier = tx
                .prepare("INSERT INTO dossiers(code, procedure_code, unit, input_passes, result_passes, has_result) VALUES (?1, ?2, NULL, ?3, 0, 0)")
                .unwrap();
            let mut doc = tx
                .prepare("INSERT INTO documents(dossier_code, path, version, kind, sha256, bytes, media_type, archived_at, run_id, quality, reasons, rejected, page_count) VALUES (?1, ?2, 1, 'input', ?3, 1000, 'image/png', '2024-02-01T00:00:00Z', 'bench', ?4, '[]', NULL, 1)")
                .unwrap();
            let mut current = tx
                .prepare("INSERT INTO current_documents(dossier_code, path, document_id, kind, quality) VALUES (?1, ?2, last_insert_rowid(), 'input', ?3)")
                .unwrap();
            for i in 0..n {
                let c = code(i);
                let p = procedures[i % procedures.len()];
                let pass = i % 50 != 0;
                dossier.execute(params![c, p, pass]).unwrap();
                let path = format!("{p}/{c}/input/1.png");
                let sha = if i == 0 {
                    page_sha.clone()
                } else {
                    format!("{i:064x}")
                };
                let quality = if pass { "pass" } else { "fail" };
                doc.execute(params![c, path, sha, quality]).unwrap();
                current.execute(params![c, path, quality]).unwrap();
            }
        }
        tx.commit().unwrap();
    }
    let mut csv = String::with_capacity(n * 90);
    csv.push_str("dossier_code,procedure_code,unit,received_on,due_on,completed_on,channel\n");
    for i in 0..n {
        let d = format!("2024-{:02}-{:02}", i % 12 + 1, i % 28 + 1);
        let _ = writeln!(
            csv,
            "{},{},{},{d},{d},,{}",
            code(i),
            procedures[i % procedures.len()],
            units[i % units.len()],
            i % 3 + 1
        );
    }
    let register = dir.path().join("register.csv");
    std::fs::write(&register, csv).unwrap();
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

    let mut child = Command::new(env!("CARGO_BIN_EXE_dossier"))
        .args(["serve", "--listen", "127.0.0.1:0", "--archive"])
        .arg(&archive)
        .stderr(Stdio::piped())
        .spawn()
        .expect("dossier serve runs");
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr: SocketAddr = line
        .split("http://")
        .nth(1)
        .unwrap()
        .trim()
        .trim_end_matches('/')
        .parse()
        .unwrap();

    let timed = |path: &str| {
        let t = Instant::now();
        let (status, bytes) = get(addr, path);
        assert_eq!(status, 200, "{path}");
        (t.elapsed().as_secs_f64(), bytes)
    };
    let (cold, _) = timed("/");
    let warm: Vec<f64> = (0..5).map(|_| timed("/").0).collect();
    let warm = warm.iter().cloned().fold(f64::MAX, f64::min);
    let (api, body) = timed("/api/report");
    let report: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(report["totals"]["received"].as_u64(), Some(n as u64));
    println!("dashboard, {n} rows: cold {cold:.2} s, warm {:.2} ms ({:.4}× the 1 s bar); /api/report warm {api:.3} s ({} bytes)", warm * 1000.0, warm, body.len());
    // The dossiers behind a number: listed once per ledger head, then from the cache.
    let list = "/dossiers?measure=digitized";
    let (cold_list, body) = timed(list);
    assert!(String::from_utf8_lossy(&body).contains("href=\"/dossiers/"));
    let warm_list = (0..5).map(|_| timed(list).0).fold(f64::MAX, f64::min);
    println!(
        "dossier list behind a number, {n} rows: cold {cold_list:.2} s, warm {:.2} ms",
        warm_list * 1000.0
    );
    let image = format!("/objects/{page_sha}/pages/1");
    let (first, png) = timed(&image);
    let (cached, _) = timed(&image);
    assert!(image::load_from_memory(&png).is_ok());
    println!("page image (A4, 300 dpi, 2480x3508 PNG): {:.0} ms ({:.2}× the 300 ms bar), cached {:.1} ms", first * 1000.0, first / 0.3, cached * 1000.0);
    let _ = child.kill();
    let _ = child.wait();
}

/// GET over one HTTP/1.1 connection: (status, body).
fn get(addr: SocketAddr, path: &str) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = Vec::new();
        let mut b = &body[..];
        loop {
            let eol = b.windows(2).position(|w| w == b"\r\n").unwrap();
            let len =
                usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap().trim(), 16).unwrap();
            if len == 0 {
                break;
            }
            out.extend_from_slice(&b[eol + 2..eol + 2 + len]);
            b = &b[eol + 2 + len + 2..];
        }
        body = out;
    }
    (status, body)
}
