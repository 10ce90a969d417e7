//! Coverage reports against a register with known gaps: every figure of the JSON report is
//! checked against values derived here from how the tree was built.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use common::TestEnv;
use dossier::sample::{self, render, FileKind, Line, Paper};
use image::{GrayImage, Luma};
use serde_json::{json, Value};

/// A short strip of a form: quick to OCR, enough to read, above the 50 mm a page must have.
const STRIP: Paper = Paper {
    width_mm: 210.0,
    height_mm: 55.0,
};

#[derive(Clone, Copy, PartialEq)]
enum Scan {
    Good,
    LowDpi,
    Blank,
    Corrupt,
}

struct Case {
    code: &'static str,
    procedure: &'static str,
    unit: &'static str,
    received: &'static str, // as the register writes it (ISO or dd/mm/yyyy)
    completed: &'static str,
    channel: &'static str,
    in_register: bool,
    inputs: Vec<Scan>,
    results: Vec<Scan>,
}

fn cases() -> Vec<Case> {
    use Scan::*;
    let c = |code, procedure, unit, received, completed, channel, inputs, results| Case {
        code,
        procedure,
        unit,
        received,
        completed,
        channel,
        in_register: true,
        inputs,
        results,
    };
    let mut v = vec![
        // complete and fully digitized
        c(
            "000.00.01.H50-240115-0001",
            "1.001193",
            "Phường 1",
            "2024-01-15",
            "2024-01-15",
            "direct",
            vec![Good],
            vec![Good],
        ),
        // completed, result never scanned
        c(
            "000.00.01.H50-240116-0002",
            "1.001193",
            "Phường 1",
            "16/01/2024",
            "17/01/2024",
            "2",
            vec![Good],
            vec![],
        ),
        // never scanned at all, still in progress
        c(
            "000.00.02.H50-240117-0003",
            "1.001193",
            "Phường 2",
            "2024-01-17",
            "",
            "online",
            vec![],
            vec![],
        ),
        // input only below 200 dpi: archived, needs rescan, input not digitized
        c(
            "000.00.02.H50-240118-0004",
            "2.000815",
            "Phường 2",
            "18/01/2024",
            "18/01/2024",
            "1",
            vec![LowDpi],
            vec![Good],
        ),
        // a blank page as the only input
        c(
            "000.00.01.H50-240119-0005",
            "2.000815",
            "Phường 1",
            "2024-01-19",
            "",
            "3",
            vec![Blank],
            vec![],
        ),
        // a corrupt file next to a good one: the good one digitizes the input
        c(
            "000.00.02.H50-240120-0006",
            "2.000720",
            "Phường 2",
            "2024-01-20",
            "2024-01-25",
            "postal",
            vec![Corrupt, Good],
            vec![Good],
        ),
        // received outside the period (counted nowhere in the period report)
        c(
            "000.00.01.H50-231230-0007",
            "2.000720",
            "Phường 1",
            "30/12/2023",
            "2024-01-02",
            "direct",
            vec![Good],
            vec![Good],
        ),
        // result scanned but blank
        c(
            "000.00.01.H50-240122-0008",
            "2.000720",
            "Phường 1",
            "2024-01-22",
            "2024-01-23",
            "1",
            vec![Good],
            vec![Blank],
        ),
    ];
    // In the archive, not in the register.
    v.push(Case {
        in_register: false,
        ..c(
            "000.00.03.H50-240121-0009",
            "1.001193",
            "Phường 3",
            "2024-01-21",
            "",
            "direct",
            vec![Good],
            vec![],
        )
    });
    v
}

const FROM: &str = "2024-01-01";
const TO: &str = "2024-01-31";

fn iso(date: &str) -> String {
    match date.split('/').collect::<Vec<_>>().as_slice() {
        [d, m, y] => format!("{y}-{m}-{d}"),
        _ => date.to_owned(),
    }
}

fn in_period(received: &str) -> bool {
    (FROM..=TO).contains(&iso(received).as_str())
}

/// The report's missing list with each failing reason cut to the word the cases expect.
fn failing_as_expected(got: &Value, want: &Value) -> Value {
    let mut got = got.clone();
    for (g, w) in got
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .zip(want.as_array().unwrap())
    {
        for (gap, wgap) in g["gaps"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .zip(w["gaps"].as_array().unwrap())
        {
            if let (Some(reason), Some(word)) = (gap["failing"].as_str(), wgap["failing"].as_str())
            {
                if reason.contains(word) {
                    gap["failing"] = json!(word);
                }
            }
        }
    }
    got
}

fn write_scan(path: &Path, scan: Scan, code: &str, fonts: &render::Fonts) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let dpi = if scan == Scan::LowDpi { 150 } else { 300 };
    let page = match scan {
        Scan::Blank => GrayImage::from_pixel(2480, 650, Luma([247])),
        _ => {
            let lines = [
                Line::heading("GIẤY TỜ XUẤT TRÌNH", 14.0),
                Line::body(format!("Mã hồ sơ: {code}")),
            ];
            render::render_page(fonts, &lines, STRIP, dpi).0
        }
    };
    let mut bytes = sample::encode(&[page], FileKind::Png, dpi).unwrap();
    if scan == Scan::Corrupt {
        bytes.truncate(bytes.len() / 2);
    }
    fs::write(path, bytes).unwrap();
}

fn build(env: &TestEnv) {
    let fonts = render::Fonts::find().unwrap();
    let mut register =
        String::from("dossier_code,procedure_code,unit,received_on,due_on,completed_on,channel\n");
    for c in cases() {
        for (kind, scans) in [("input", &c.inputs), ("result", &c.results)] {
            for (i, scan) in scans.iter().enumerate() {
                let p = env.intake().join(format!(
                    "{}/{}/{kind}/trang-{}.png",
                    c.procedure,
                    c.code,
                    i + 1
                ));
                write_scan(&p, *scan, c.code, &fonts);
            }
        }
        if c.in_register {
            register.push_str(&format!(
                "{},{},{},{},,{},{}\n",
                c.code, c.procedure, c.unit, c.received, c.completed, c.channel
            ));
        }
    }
    // A row that cannot be read (line 10): a date that does not exist.
    register.push_str("000.00.01.H50-240131-0010,1.001193,Phường 1,31/02/2024,,,1\n");
    // A dossier listed twice (line 11): only its first row counts.
    register.push_str("000.00.02.H50-240117-0003,2.000815,Phường 3,2024-01-17,,2024-01-18,1\n");
    fs::write(env.root().join("register.csv"), register).unwrap();
    fs::write(env.root().join("procedures.csv"), sample::catalog_csv()).unwrap();
}

fn fresh_env() -> TestEnv {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("intake")).unwrap();
    let env = TestEnv {
        dir,
        manifest: sample::Manifest { files: vec![] },
    };
    env.write_pipeline(
        "\n[register]\npath = \"register.csv\"\n\n[catalog]\npath = \"procedures.csv\"\n",
    );
    build(&env);
    env
}

/// What the report must say, derived from the cases (not from the program).
fn expected(by_unit: bool) -> Value {
    let names: BTreeMap<&str, &str> = sample::PROCEDURES
        .iter()
        .map(|p| (p.code, p.name))
        .collect();
    let mut groups: BTreeMap<String, [u64; 6]> = BTreeMap::new();
    let mut missing = Vec::new();
    for c in cases()
        .iter()
        .filter(|c| c.in_register && in_period(c.received))
    {
        // Filed online: the components were electronic at filing (Circular 03/2025 art. 5(2)).
        let online = c.channel == "online" || c.channel == "2";
        let input_ok = c.inputs.contains(&Scan::Good) || online;
        let result_ok = c.results.contains(&Scan::Good);
        let completed = !c.completed.is_empty();
        let key = if by_unit { c.unit } else { c.procedure };
        let g = groups.entry(key.to_owned()).or_default();
        g[0] += 1;
        g[1] += input_ok as u64;
        g[2] += completed as u64;
        g[3] += (completed && result_ok) as u64;
        g[4] += (input_ok && (!completed || result_ok)) as u64;
        g[5] += online as u64;
        let mut gaps = vec![];
        if !input_ok {
            gaps.push("input");
        }
        if completed && !result_ok {
            gaps.push("result");
        }
        if !gaps.is_empty() {
            // Why: the first failing scan of that kind (in path order), or never scanned;
            // since: the received date (input) or the completion date (result).
            let why = |what: &str| {
                let (scans, since) = match what {
                    "input" => (&c.inputs, iso(c.received)),
                    _ => (&c.results, iso(c.completed)),
                };
                let failing = scans.first().map(|s| match s {
                    Scan::LowDpi => "dpi",
                    Scan::Blank => "blank page",
                    Scan::Corrupt => "truncated",
                    Scan::Good => unreachable!("a good scan is not missing"),
                });
                let mut gap = json!({"what": what, "scanned": failing.is_some(), "since": since});
                if let Some(word) = failing {
                    gap["failing"] = json!(word);
                }
                gap
            };
            let explained: Vec<Value> = gaps.iter().map(|g| why(g)).collect();
            missing.push(json!({"dossier_code": c.code, "procedure_code": c.procedure, "unit": c.unit, "missing": gaps, "gaps": explained}));
        }
    }
    let pct = |a: u64, b: u64| {
        if b == 0 {
            Value::Null
        } else {
            json!(((a as f64 * 10000.0 / b as f64).round()) / 100.0)
        }
    };
    // Full points from 80%, else percent / 80 of them; two decimals, half up.
    let score = |p: &Value| match p.as_f64() {
        None => Value::Null,
        Some(p) => {
            let hundredths = (p * 100.0).round();
            json!(((hundredths * 1.25 + 0.5).floor() / 100.0).min(100.0))
        }
    };
    let counts = |g: &[u64; 6]| {
        let (input, result, digitized) = (pct(g[1], g[0]), pct(g[3], g[2]), pct(g[4], g[0]));
        json!({"received": g[0], "input_digitized": g[1], "input_percent": input,
               "completed": g[2], "result_digitized": g[3], "result_percent": result,
               "digitized": g[4], "digitized_percent": digitized,
               "input_digital_at_filing": g[5], "reused": null, "reused_percent": null,
               "scores": {"4.1": score(&result), "4.2": score(&digitized), "4.3": null}})
    };
    let mut total = [0u64; 6];
    let groups: Vec<Value> = groups
        .iter()
        .map(|(key, g)| {
            for i in 0..6 {
                total[i] += g[i];
            }
            let mut v = counts(g);
            let name = if by_unit {
                json!(key)
            } else {
                json!(names[key.as_str()])
            };
            v["key"] = json!(key);
            v["name"] = name;
            v["below_target"] = json!(g[0] > 0 && (g[4] as f64 * 100.0 / g[0] as f64) < 99.0);
            v
        })
        .collect();
    missing.sort_by(|a, b| a["dossier_code"].as_str().cmp(&b["dossier_code"].as_str()));
    json!({
        "period": {"from": FROM, "to": TO},
        "target_percent": 99.0,
        "groups": groups,
        "totals": counts(&total),
        "missing": missing,
        "unregistered": ["000.00.03.H50-240121-0009"],
    })
}

fn report(env: &TestEnv, extra: &[&str]) -> (i32, Vec<u8>, String) {
    let archive = env.archive();
    let mut args = vec![
        "report",
        "--archive",
        archive.to_str().unwrap(),
        "--from",
        FROM,
        "--to",
        "31/01/2024",
    ];
    args.extend_from_slice(extra);
    let out = env.dossier(&args);
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn report_figures_match_the_tree_by_procedure_and_by_unit() {
    let env = fresh_env();
    let (code, run, stderr) = env.run();
    assert_eq!(
        code, 3,
        "a corrupt file and a bad register row: exit 3\n{stderr}"
    );
    let problems = run["register"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "{run:#}");
    assert_eq!(problems[0]["line"], 10);
    let reason = |i: usize| problems[i]["reason"].as_str().unwrap();
    assert!(reason(0).contains("received_on is not a date"));
    assert_eq!(problems[1]["line"], 11);
    assert!(reason(1).contains("listed again (first at line 4)"));
    assert_eq!(run["register"]["rows"], 8);

    for by_unit in [false, true] {
        let by = if by_unit { "unit" } else { "procedure" };
        let (code, stdout, stderr) = report(&env, &["--format", "json", "--by", by]);
        assert_eq!(
            code, 3,
            "the imported register's bad rows: exit 3\n{stderr}"
        );
        assert!(
            stderr.contains("line 10") && stderr.contains("line 11"),
            "{stderr}"
        );
        let got: Value = serde_json::from_slice(&stdout).unwrap();
        let want = expected(by_unit);
        for key in [
            "period",
            "target_percent",
            "groups",
            "totals",
            "missing",
            "unregistered",
        ] {
            let got_key = match key {
                "missing" => failing_as_expected(&got[key], &want[key]),
                _ => got[key].clone(),
            };
            assert_eq!(
                got_key, want[key],
                "by {by}: {key}\n got: {:#}\nwant: {:#}",
                got[key], want[key]
            );
        }
        // needs_rescan: the low-dpi, blank and corrupt documents of dossiers in scope.
        let rescan: Vec<(String, String)> = got["needs_rescan"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["document"].as_str().unwrap().to_owned(),
                    r["reason"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let docs: Vec<&str> = rescan.iter().map(|(d, _)| d.as_str()).collect();
        assert_eq!(
            docs,
            vec![
                "2.000815/000.00.01.H50-240119-0005/input/trang-1.png",
                "2.000720/000.00.01.H50-240122-0008/result/trang-1.png",
                "2.000815/000.00.02.H50-240118-0004/input/trang-1.png",
                "2.000720/000.00.02.H50-240120-0006/input/trang-1.png",
            ]
        );
        assert_eq!(rescan[0].1, "blank page");
        assert!(rescan[2].1.starts_with("below 200 dpi"));
        assert!(rescan[3].1.contains("cannot decode PNG"));
    }

    // The report names, inside itself, the register rows it could not count and the import
    // it rests on.
    let (_, a, _) = report(&env, &["--format", "json"]);
    let got: Value = serde_json::from_slice(&a).unwrap();
    assert_eq!(
        got["register_problems"], run["register"]["problems"],
        "{got:#}"
    );
    assert_eq!(
        got["register"]["sha256"], run["register"]["sha256"],
        "{got:#}"
    );
    assert_eq!(got["register"]["rows"], 8);
    assert!(got["register"]["imported_at"].is_string(), "{got:#}");
    // The same archive and register give the same bytes.
    let (_, b, _) = report(&env, &["--format", "json"]);
    assert_eq!(a, b);

    // The register given directly: same figures, and its bad row reported with exit 3.
    let reg = env.root().join("register.csv");
    let (code, c, stderr) = report(
        &env,
        &["--format", "json", "--register", reg.to_str().unwrap()],
    );
    assert_eq!(code, 3);
    assert!(
        stderr.contains("line 10") && stderr.contains("line 11"),
        "{stderr}"
    );
    // The same figures and problems; only when the register was imported differs (a file
    // given to `report` was not).
    let mut from_file: Value = serde_json::from_slice(&c).unwrap();
    assert!(from_file["register"]["imported_at"].is_null());
    from_file["register"]["imported_at"] = got["register"]["imported_at"].clone();
    assert_eq!(from_file, got);
    // Read-only: reporting wrote nothing into the archive.
    assert!(fs::read_dir(env.archive().join("tmp"))
        .unwrap()
        .next()
        .is_none());
}

#[test]
fn xlsx_html_table_and_csv_renderings() {
    let env = fresh_env();
    env.run();
    let want = expected(false);

    // xlsx, read back with calamine (not the crate that wrote it).
    let xlsx = env.root().join("report.xlsx");
    let (code, _, stderr) = report(
        &env,
        &["--format", "xlsx", "--output", xlsx.to_str().unwrap()],
    );
    assert_eq!(code, 3, "the register's bad rows: {stderr}");
    {
        use calamine::{open_workbook, Data, Reader, Xlsx};
        let mut wb: Xlsx<_> = open_workbook(&xlsx).unwrap();
        let names = wb.sheet_names();
        assert_eq!(
            &names[..3],
            ["Số liệu", "Hồ sơ chưa số hóa", "Tài liệu cần quét lại"]
        );
        let problems = names
            .iter()
            .position(|n| n.starts_with("Dòng không đọc được"))
            .expect("a sheet of the register's unreadable rows");
        let problems = wb.worksheet_range_at(problems).unwrap().unwrap();
        assert_eq!(problems.rows().count(), 3, "a heading and the two bad rows");
        assert_eq!(problems.rows().nth(1).unwrap()[0].to_string(), "10");
        let figures = wb.worksheet_range_at(0).unwrap().unwrap();
        let header: Vec<String> = figures
            .rows()
            .nth(5)
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(&header[2..4], ["Tiếp nhận", "Đã số hóa thành phần hồ sơ"]);
        for (i, g) in want["groups"].as_array().unwrap().iter().enumerate() {
            let row: Vec<&Data> = figures.rows().nth(6 + i).unwrap().iter().collect();
            assert_eq!(row[0], &Data::String(g["key"].as_str().unwrap().to_owned()));
            assert_eq!(
                row[2],
                &Data::Float(g["received"].as_f64().unwrap()),
                "numbers are numbers"
            );
            match g["input_percent"].as_f64() {
                Some(p) => assert!(
                    matches!(row[4], Data::Float(f) if (f - p / 100.0).abs() < 1e-9),
                    "{:?}",
                    row[4]
                ),
                None => assert_eq!(row[4], &Data::Empty),
            }
            assert_eq!(row[8], &Data::Float(g["digitized"].as_f64().unwrap()));
            let below = if g["below_target"].as_bool().unwrap() {
                "có"
            } else {
                "không"
            };
            assert_eq!(
                row[10],
                &Data::String(below.into()),
                "có/không, not TRUE/FALSE"
            );
        }
        let missing = wb.worksheet_range_at(1).unwrap().unwrap();
        assert_eq!(
            missing.rows().count(),
            want["missing"].as_array().unwrap().len() + 1
        );
    }

    // csv: JSON keys, dot decimals, one row per group plus totals, then the two bad rows, and
    // last the ledger head the figures were read at (`SEQ:HASH`, as verify --since takes it).
    let (_, csv, _) = report(&env, &["--format", "csv", "--lang", "en"]);
    let csv = String::from_utf8(csv).unwrap();
    assert_eq!(
        csv.lines().count(),
        want["groups"].as_array().unwrap().len() + 2 + 2 + 1
    );
    assert!(csv
        .lines()
        .nth_back(2)
        .unwrap()
        .starts_with("REGISTER_PROBLEM,line 10: "));
    let (_, json, _) = report(&env, &["--format", "json"]);
    let json: Value = serde_json::from_slice(&json).unwrap();
    let head = &json["ledger_head"];
    let columns = csv.lines().next().unwrap().split(',').count();
    assert_eq!(
        csv.lines().last().unwrap(),
        format!(
            "LEDGER_HEAD,{}:{}{}",
            head["seq"],
            head["hash"].as_str().unwrap(),
            ",".repeat(columns - 2)
        ),
        "the ledger head, in the header's columns"
    );

    // The Vietnamese csv, opened by a spreadsheet program as an office opens it.
    let (_, vi_csv, _) = report(&env, &["--format", "csv", "--lang", "vi"]);
    open_in_calc(&env, &vi_csv, &want);

    // table: Vietnamese by default, English on request, dates and decimals per locale, and
    // every line (lists and notes too) within a 100-column terminal.
    let (_, vi, _) = report(&env, &[]);
    let vi = String::from_utf8(vi).unwrap();
    assert!(
        vi.contains("Tiếp nhận") && vi.contains("01/01/2024") && vi.contains(','),
        "{vi}"
    );
    for line in vi.lines() {
        assert!(line.chars().count() <= 100, "over 100 columns: {line}");
    }
    let (_, en, _) = report(&env, &["--lang", "en"]);
    let en = String::from_utf8(en).unwrap();
    assert!(
        en.contains("Received") && en.contains("2024-01-01") && !en.contains("Tiếp nhận"),
        "{en}"
    );

    // html: one self-contained file that renders in headless Chromium.
    let html = env.root().join("report.html");
    let (code, _, _) = report(
        &env,
        &["--format", "html", "--output", html.to_str().unwrap()],
    );
    assert_eq!(code, 3, "the register's bad rows");
    let text = fs::read_to_string(&html).unwrap();
    assert!(text.contains("Đã số hóa kết quả") && text.contains("<svg"));
    let shot = env.root().join("report.png");
    let profile = env.root().join("chromium-profile");
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1280,1400",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium is installed (scripts/install-deps.sh)");
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let img = image::open(&shot)
        .expect("a screenshot was taken")
        .into_luma8();
    let dark = img.pixels().filter(|p| p.0[0] < 100).count();
    assert!(
        dark > 2000,
        "the page rendered text and bars ({dark} dark pixels)"
    );
    print_html_to_a4(&env, &html);
}

/// The Vietnamese csv (BOM, `;`, decimal commas) opened in LibreOffice Calc with what its
/// import dialog offers for such a file (UTF-8, semicolon, Vietnamese locale), saved as xlsx
/// and read back: the letters intact, procedure codes still text, figures numbers.
fn open_in_calc(env: &TestEnv, csv: &[u8], want: &Value) {
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let dir = env.root().join("calc");
    fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bao-cao.csv");
    fs::write(&file, csv).unwrap();
    let out = Command::new("soffice")
        .args(["--headless", "--norestore"])
        .arg(format!(
            "-env:UserInstallation=file://{}",
            dir.join("profile").display()
        ))
        .args([
            "--infilter=CSV:59,34,76,1,,1066",
            "--convert-to",
            "xlsx",
            "--outdir",
        ])
        .arg(&dir)
        .arg(&file)
        .output()
        .expect("LibreOffice Calc is installed (scripts/install-deps.sh)");
    let xlsx = dir.join("bao-cao.xlsx");
    assert!(
        xlsx.exists(),
        "soffice converted the csv: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut wb: Xlsx<_> = open_workbook(&xlsx).unwrap();
    let sheet = wb.worksheet_range_at(0).unwrap().unwrap();
    let rows: Vec<Vec<&Data>> = sheet.rows().map(|r| r.iter().collect()).collect();
    let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(
        &header[..4],
        [
            "Mã",
            "Tên thủ tục",
            "Tiếp nhận",
            "Đã số hóa thành phần hồ sơ"
        ],
        "{header:?}"
    );
    for (i, g) in want["groups"].as_array().unwrap().iter().enumerate() {
        let row = &rows[1 + i];
        assert_eq!(
            row[0],
            &Data::String(g["key"].as_str().unwrap().to_owned()),
            "a procedure code stays text, not a number with a thousands point"
        );
        if let Some(name) = g["name"].as_str() {
            assert_eq!(row[1], &Data::String(name.to_owned()));
        }
        assert_eq!(row[2], &Data::Float(g["received"].as_f64().unwrap()));
        match g["input_percent"].as_f64() {
            Some(p) => assert!(
                matches!(row[4], Data::Float(f) if (f - p).abs() < 1e-9),
                "a decimal comma read as a number: {:?} for {p}",
                row[4]
            ),
            None => assert_eq!(row[4], &Data::Empty),
        }
    }
}

/// Prints the html report as Chromium prints it (the page rule asks for A4, not Letter),
/// and renders its first page with pdftoppm, as a person checking the print would.
fn print_html_to_a4(env: &TestEnv, html: &std::path::Path) {
    let pdf = env.root().join("report.pdf");
    let profile = env.root().join("chromium-print-profile");
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info = Command::new("pdfinfo").arg(&pdf).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("(A4)"), "A4 pages: {info}");
    let pages: u32 = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap();
    assert!(pages >= 2, "the lists start on their own page: {info}");
    // Every printed page as a picture, kept in target/tmp/report-prints for a person to look
    // at (CI keeps them with the tests' artefacts).
    let prints = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-prints");
    let _ = fs::remove_dir_all(&prints);
    fs::create_dir_all(&prints).unwrap();
    fs::copy(&pdf, prints.join("report-a4.pdf")).unwrap();
    let rendered = Command::new("pdftoppm")
        .args(["-png", "-r", "60"])
        .arg(&pdf)
        .arg(prints.join("report-a4-page"))
        .status()
        .unwrap();
    assert!(rendered.success());
    let mut printed: Vec<_> = fs::read_dir(&prints)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    printed.sort();
    assert_eq!(
        printed.len(),
        pages as usize,
        "one picture per printed page"
    );
    let page = image::open(&printed[0]).unwrap().into_luma8();
    let dark = page.pixels().filter(|p| p.0[0] < 100).count();
    assert!(
        dark > 500,
        "the first printed page shows the figures ({dark} dark pixels)"
    );
}
