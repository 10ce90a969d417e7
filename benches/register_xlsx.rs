//! Reading an xlsx register of N rows (default 1,000,000) within the memory budget (300 MiB).
//!
//!     cargo bench --bench register_xlsx              # N = 1,000,000: writes it, reads it in a child
//!     cargo bench --bench register_xlsx -- 100000    # another N
//!
//! The two halves run on their own too, to measure the reading alone from outside:
//!
//!     BENCH write FILE [N]                           # the register, with rust_xlsxwriter
//!     /usr/bin/time -v BENCH read FILE               # read_register_rows, as `run` imports it
//!     /usr/bin/time -v BENCH stream FILE             # rows streamed, as `report --register` counts
//!
//! where BENCH is the bench binary (`target/*/deps/register_xlsx-*`; `cargo test --bench
//! register_xlsx --no-run` builds it without optimising dossier itself). The register is
//! written as Excel writes one: text in the shared-strings table (a million distinct dossier
//! codes), dates as date-formatted serials, the channel as a number.

use std::process::Command;
use std::time::Instant;

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

const BUDGET_MIB: f64 = 300.0;
const COLUMNS: [&str; 7] = [
    "dossier_code",
    "procedure_code",
    "unit",
    "received_on",
    "due_on",
    "completed_on",
    "channel",
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("write") => {
            let n = args
                .get(2)
                .and_then(|a| a.parse().ok())
                .unwrap_or(1_000_000);
            write(args.get(1).expect("write FILE [N]"), n);
        }
        Some("read") => read(args.get(1).expect("read FILE")),
        Some("stream") => stream(args.get(1).expect("stream FILE")),
        _ => {
            let n: usize = args
                .iter()
                .find_map(|a| a.parse().ok())
                .unwrap_or(1_000_000);
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("register.xlsx");
            let path = path.to_str().expect("UTF-8 temp path");
            write(path, n);
            let out = Command::new(std::env::current_exe().unwrap())
                .args(["read", path])
                .output()
                .expect("the reader runs");
            print!("{}", String::from_utf8_lossy(&out.stdout));
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

fn write(path: &str, n: usize) {
    let t = Instant::now();
    let mut workbook = Workbook::new();
    let sheet = workbook
        .add_worksheet_with_low_memory()
        .expect("a low-memory sheet");
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for (c, name) in COLUMNS.iter().enumerate() {
        sheet.write_string(0, c as u16, *name).unwrap();
    }
    let procedures = ["1.001193", "2.000815", "1.004227", "2.001009", "1.000656"];
    let units = [
        "Phường 1",
        "Phường 2",
        "Phường 3",
        "Phường 5",
        "Phường Đông Lễ",
        "Phường Đông Lương",
        "Phường Đông Thanh",
        "Xã Đông Hà",
    ];
    for i in 0..n {
        let r = i as u32 + 1;
        let (m, d) = (i % 12 + 1, i % 28 + 1);
        sheet
            .write_string(
                r,
                0,
                format!("000.00.{:02}.H50-24{m:02}{d:02}-{i:07}", i % 6 + 1),
            )
            .unwrap();
        sheet
            .write_string(r, 1, procedures[i % procedures.len()])
            .unwrap();
        sheet.write_string(r, 2, units[i % units.len()]).unwrap();
        let received = ExcelDateTime::from_ymd(2024, m as u8, d as u8).unwrap();
        sheet
            .write_datetime_with_format(r, 3, &received, &date)
            .unwrap();
        let due = ExcelDateTime::from_ymd(2024, m as u8, d as u8 + 1).unwrap();
        sheet.write_datetime_with_format(r, 4, &due, &date).unwrap();
        if i % 4 != 3 {
            sheet.write_datetime_with_format(r, 5, due, &date).unwrap();
        }
        sheet.write_number(r, 6, (i % 3 + 1) as f64).unwrap();
    }
    workbook.save(path).expect("saved");
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    println!(
        "wrote {n} rows to {path} ({:.1} MiB) in {:.1} s",
        bytes as f64 / 1048576.0,
        t.elapsed().as_secs_f64()
    );
}

fn read(path: &str) {
    let t = Instant::now();
    let (rows, problems) =
        dossier::register::read_register_rows(std::path::Path::new(path)).expect("readable");
    let seconds = t.elapsed().as_secs_f64();
    let peak_mib = peak_rss_kib() as f64 / 1024.0;
    println!(
        "read {} rows ({} problems) in {seconds:.1} s, peak RSS {peak_mib:.0} MiB ({:.2}× the {BUDGET_MIB} MiB budget)",
        rows.len(),
        problems.len(),
        peak_mib / BUDGET_MIB
    );
    assert!(
        problems.is_empty(),
        "{:?}",
        &problems[..problems.len().min(5)]
    );
    assert!(peak_mib <= BUDGET_MIB, "over the memory budget");
}

fn stream(path: &str) {
    let t = Instant::now();
    let mut rows = 0usize;
    let (problems, format) = dossier::register::for_each_register_row(
        dossier::register::Source::File(std::path::Path::new(path)),
        None,
        |_, _| {
            rows += 1;
            None
        },
    )
    .expect("readable");
    let seconds = t.elapsed().as_secs_f64();
    let peak_mib = peak_rss_kib() as f64 / 1024.0;
    println!(
        "streamed {rows} rows ({} problems; {format}) in {seconds:.1} s, peak RSS {peak_mib:.0} MiB ({:.2}× the {BUDGET_MIB} MiB budget)",
        problems.len(),
        peak_mib / BUDGET_MIB
    );
    assert!(problems.is_empty() && peak_mib <= BUDGET_MIB);
}

/// This process's peak resident set (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
