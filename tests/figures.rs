//! Decision 766's figures as SPEC.md "Coverage: what counts" states them, on an intake with
//! every case the rules treat apart: a dossier filed online without a scan, reused components,
//! declared page counts that differ, a thumbnail, an illegible page, two months, and one
//! register row that cannot be read. Every figure of every grouping is derived here from the
//! cases, not from the program; csv, html and xlsx must carry the register's problem too.

mod common;

use std::collections::BTreeMap;
use std::fs;

use common::TestEnv;
use dossier::sample::{self, render, FileKind, Line, Paper};
use image::{GrayImage, Luma};
use serde_json::{json, Value};

const PAPER: Paper = Paper {
    width_mm: 210.0,
    height_mm: 60.0,
};

#[derive(Clone, Copy, PartialEq)]
enum Scan {
    Good,
    /// 310 × 206 px tagged 600 dpi: 13 × 9 mm.
    Thumbnail,
    /// Words of random letters: OCR reads them with little confidence.
    Scrambled,
}

struct Case {
    code: &'static str,
    procedure: &'static str,
    unit: &'static str,
    received: &'static str,
    completed: &'static str,
    channel: &'static str,
    reused: &'static str,
    pages: &'static str,
    inputs: Vec<Scan>,
    results: Vec<Scan>,
}

fn cases() -> Vec<Case> {
    use Scan::*;
    #[allow(clippy::too_many_arguments)]
    let c =
        |code, procedure, unit, received, completed, channel, reused, pages, inputs, results| {
            Case {
                code,
                procedure,
                unit,
                received,
                completed,
                channel,
                reused,
                pages,
                inputs,
                results,
            }
        };
    vec![
        c(
            "000.00.01.H50-240115-0001",
            "1.001193",
            "Phường 1",
            "2024-01-15",
            "2024-01-20",
            "direct",
            "2",
            "1",
            vec![Good],
            vec![Good],
        ),
        // Filed online: no scan needed for its input.
        c(
            "000.00.01.H50-240116-0002",
            "1.001193",
            "Phường 1",
            "2024-01-16",
            "",
            "online",
            "0",
            "",
            vec![],
            vec![],
        ),
        // A thumbnail as the only input; three pages handed in, one scanned.
        c(
            "000.00.02.H50-240117-0003",
            "2.000815",
            "Phường 2",
            "2024-01-17",
            "2024-01-18",
            "direct",
            "",
            "3",
            vec![Thumbnail],
            vec![Good],
        ),
        // An illegible input page.
        c(
            "000.00.02.H50-240205-0004",
            "2.000815",
            "Phường 2",
            "05/02/2024",
            "06/02/2024",
            "3",
            "1",
            "1",
            vec![Scrambled],
            vec![Good],
        ),
        c(
            "000.00.01.H50-240210-0005",
            "1.001193",
            "Phường 1",
            "2024-02-10",
            "",
            "1",
            "1",
            "2",
            vec![Good, Good],
            vec![],
        ),
    ]
}

fn scramble(words: usize, seed: u64) -> String {
    const LETTERS: &[char] = &[
        'ă', 'q', 'ự', 'đ', 'x', 'ỹ', 'k', 'ơ', 'z', 'ệ', 'w', 'ữ', 'j', 'ẳ', 'f', 'ộ',
    ];
    let mut state = seed;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    (0..words)
        .map(|_| {
            let len = 3 + next() % 5;
            (0..len)
                .map(|_| LETTERS[next() % LETTERS.len()])
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn write_scan(path: &std::path::Path, scan: Scan, code: &str, fonts: &render::Fonts) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let (page, dpi) = match scan {
        Scan::Good => {
            let lines = [
                Line::heading("GIẤY TỜ XUẤT TRÌNH", 14.0),
                Line::body(format!("Mã hồ sơ: {code}")),
                Line::body("Họ và tên người nộp: Nguyễn Văn An"),
            ];
            (render::render_page(fonts, &lines, PAPER, 300).0, 300)
        }
        Scan::Scrambled => {
            let lines: Vec<Line> = (0..4).map(|i| Line::body(scramble(7, i))).collect();
            (render::render_page(fonts, &lines, PAPER, 300).0, 300)
        }
        Scan::Thumbnail => {
            let mut img = GrayImage::from_pixel(310, 206, Luma([247]));
            for y in 80..120 {
                for x in 20..290 {
                    img.put_pixel(x, y, Luma([20]));
                }
            }
            (img, 600)
        }
    };
    fs::write(path, sample::encode(&[page], FileKind::Png, dpi).unwrap()).unwrap();
}

fn build(env: &TestEnv) {
    let fonts = render::Fonts::find().unwrap();
    let mut register = String::from(
        "dossier_code,procedure_code,unit,received_on,due_on,completed_on,channel,reused,pages\n",
    );
    for c in cases() {
        for (kind, scans) in [("input", &c.inputs), ("result", &c.results)] {
            for (i, scan) in scans.iter().enumerate() {
                let name = format!("{}/{}/{kind}/trang-{}.png", c.procedure, c.code, i + 1);
                write_scan(&env.intake().join(name), *scan, c.code, &fonts);
            }
        }
        register.push_str(&format!(
            "{},{},{},{},,{},{},{},{}\n",
            c.code, c.procedure, c.unit, c.received, c.completed, c.channel, c.reused, c.pages
        ));
    }
    // Line 7: a reuse count that is not a number.
    register.push_str("000.00.01.H50-240118-0006,1.001193,Phường 1,2024-01-18,,,direct,nhiều,\n");
    fs::write(env.root().join("register.csv"), register).unwrap();
    fs::write(env.root().join("procedures.csv"), sample::catalog_csv()).unwrap();
}

/// Percent rounded half up to two decimals; null over nothing.
fn pct(a: u64, b: u64) -> Value {
    if b == 0 {
        return Value::Null;
    }
    json!(((a as f64 * 10000.0 / b as f64) + 0.5).floor() / 100.0)
}

/// Full points from 80%, else the rate's share of 80%; two decimals, half up.
fn score(p: &Value) -> Value {
    match p.as_f64() {
        None => Value::Null,
        Some(p) => json!((((p * 100.0).round() * 1.25 + 0.5).floor() / 100.0).min(100.0)),
    }
}

/// What the report must say, grouped by `key`.
fn expected(key: impl Fn(&Case) -> String) -> Value {
    // received, input, completed, result, digitized, online, reused
    let mut groups: BTreeMap<String, [u64; 7]> = BTreeMap::new();
    for c in cases() {
        let online = c.channel == "online" || c.channel == "2";
        let input_ok = c.inputs.contains(&Scan::Good) || online;
        let completed = !c.completed.is_empty();
        let result_ok = c.results.contains(&Scan::Good);
        let g = groups.entry(key(&c)).or_default();
        let add = [
            1,
            input_ok as u64,
            completed as u64,
            (completed && result_ok) as u64,
            (input_ok && (!completed || result_ok)) as u64,
            online as u64,
            (c.reused.parse::<u32>().unwrap_or(0) >= 1) as u64,
        ];
        for (total, n) in g.iter_mut().zip(add) {
            *total += n;
        }
    }
    let counts = |g: &[u64; 7]| {
        let (result, digitized, reused) = (pct(g[3], g[2]), pct(g[4], g[0]), pct(g[6], g[0]));
        json!({"received": g[0], "input_digitized": g[1], "input_percent": pct(g[1], g[0]),
               "completed": g[2], "result_digitized": g[3], "result_percent": result,
               "digitized": g[4], "digitized_percent": digitized,
               "input_digital_at_filing": g[5], "reused": g[6], "reused_percent": reused,
               "scores": {"4.1": score(&result), "4.2": score(&digitized), "4.3": score(&reused)}})
    };
    let mut total = [0u64; 7];
    let groups: Vec<Value> = groups
        .iter()
        .map(|(key, g)| {
            for (t, n) in total.iter_mut().zip(g) {
                *t += n;
            }
            json!({"key": key, "counts": counts(g)})
        })
        .collect();
    json!({"groups": groups, "totals": counts(&total)})
}

fn report(env: &TestEnv, extra: &[&str]) -> (i32, Vec<u8>) {
    let archive = env.archive();
    let mut args = vec!["report", "--archive", archive.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = env.dossier(&args);
    (out.status.code().unwrap_or(-1), out.stdout)
}

#[test]
fn every_figure_of_every_grouping_follows_the_rules() {
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
    let (code, run, stderr) = env.run();
    assert_eq!(code, 3, "one unreadable register row: {stderr}\n{run:#}");
    assert!(
        stderr.contains(" 0 rejected, 0 left for the next run, 1 register rows unreadable"),
        "the summary counts the register's problem: {stderr}"
    );

    type KeyOf = fn(&Case) -> String;
    let by: [(&str, KeyOf); 3] = [
        ("procedure", |c| c.procedure.to_owned()),
        ("unit", |c| c.unit.to_owned()),
        ("month", |c| {
            let d = dossier::date::Date::parse(c.received).unwrap().iso();
            d[..7].to_owned()
        }),
    ];
    for (name, key) in by {
        let (code, out) = report(&env, &["--format", "json", "--by", name]);
        assert_eq!(code, 3, "by {name}: the register's bad row makes exit 3");
        let got: Value = serde_json::from_slice(&out).unwrap();
        let want = expected(key);
        let groups = got["groups"].as_array().unwrap();
        assert_eq!(
            groups.len(),
            want["groups"].as_array().unwrap().len(),
            "{got:#}"
        );
        for (g, w) in groups.iter().zip(want["groups"].as_array().unwrap()) {
            assert_eq!(g["key"], w["key"], "by {name}");
            for (field, value) in w["counts"].as_object().unwrap() {
                assert_eq!(
                    &g[field], value,
                    "by {name}, group {}: {field}\n{g:#}",
                    g["key"]
                );
            }
        }
        for (field, value) in want["totals"].as_object().unwrap() {
            assert_eq!(&got["totals"][field], value, "by {name}: totals {field}");
        }
        check_lists(&got);
    }
    check_formats(&env);
}

/// Missing and rescan lists, page counts and the register's problem, the same in every grouping.
fn check_lists(got: &Value) {
    let missing: Vec<(&str, Vec<&str>)> = got["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let what = m["missing"].as_array().unwrap();
            (
                m["dossier_code"].as_str().unwrap(),
                what.iter().map(|w| w.as_str().unwrap()).collect(),
            )
        })
        .collect();
    assert_eq!(
        missing,
        vec![
            ("000.00.02.H50-240117-0003", vec!["input"]),
            ("000.00.02.H50-240205-0004", vec!["input"]),
        ],
        "the online dossier is not missing its input"
    );
    let rescan = got["needs_rescan"].as_array().unwrap();
    assert_eq!(rescan.len(), 2, "{rescan:#?}");
    let reason = |i: usize| rescan[i]["reason"].as_str().unwrap();
    assert!(
        reason(0).contains("smaller than 50 mm a side: 13 × 9 mm"),
        "{}",
        reason(0)
    );
    assert!(
        reason(1).starts_with("illegible: OCR confidence"),
        "{}",
        reason(1)
    );
    assert_eq!(
        got["page_count_mismatches"],
        json!([{"dossier_code": "000.00.02.H50-240117-0003", "declared": 3, "scanned": 1}])
    );
    let problems = got["register_problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0]["line"], 7);
    assert!(problems[0]["reason"]
        .as_str()
        .unwrap()
        .contains("reused is not a whole number"));
}

/// The register's problem is inside the csv, html and xlsx an auditor receives.
fn check_formats(env: &TestEnv) {
    let (code, csv) = report(env, &["--format", "csv"]);
    assert_eq!(code, 3);
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.contains("REGISTER_PROBLEM,line 7: "), "{csv}");
    let (_, html) = report(env, &["--format", "html"]);
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains("reused is not a whole number"));
    let xlsx = env.root().join("report.xlsx");
    let (code, _) = report(
        env,
        &["--format", "xlsx", "--output", xlsx.to_str().unwrap()],
    );
    assert_eq!(code, 3);
    use calamine::{open_workbook, Reader, Xlsx};
    let mut wb: Xlsx<_> = open_workbook(&xlsx).unwrap();
    let sheet = wb
        .sheet_names()
        .iter()
        .position(|n| n.starts_with("Dòng không đọc được"))
        .unwrap();
    let rows = wb.worksheet_range_at(sheet).unwrap().unwrap();
    let cells: Vec<String> = rows
        .rows()
        .nth(1)
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(cells[0], "7");
    assert!(
        cells[1].contains("reused is not a whole number"),
        "{cells:?}"
    );
}

/// A scan with the lid's black band along an edge, and a JPEG cut off in transfer, each need a
/// rescan with their own reason: "truncated", not "blank page".
#[test]
fn a_black_border_and_a_cut_off_file_need_a_rescan_with_their_own_reason() {
    let dir = tempfile::tempdir().unwrap();
    let env = TestEnv {
        dir,
        manifest: sample::Manifest { files: vec![] },
    };
    env.write_pipeline("");
    let fonts = render::Fonts::find().unwrap();
    let lines = [
        Line::heading("GIẤY TỜ XUẤT TRÌNH", 14.0),
        Line::body("Họ và tên người nộp: Nguyễn Văn An"),
    ];
    let (mut bordered, _) = render::render_page(&fonts, &lines, PAPER, 300);
    let (w, h) = bordered.dimensions();
    for y in 0..h {
        for x in 0..w / 16 {
            bordered.put_pixel(x, y, Luma([25]));
        }
    }
    let dossier = env
        .intake()
        .join("1.001193/000.00.01.H50-240115-0001/input");
    fs::create_dir_all(&dossier).unwrap();
    let png = sample::encode(&[bordered], FileKind::Png, 300).unwrap();
    fs::write(dossier.join("vien-den.png"), png).unwrap();
    let (clean, _) = render::render_page(&fonts, &lines, PAPER, 300);
    let jpeg = sample::encode(&[clean], FileKind::Jpeg, 300).unwrap();
    fs::write(dossier.join("cat-do.jpg"), &jpeg[..jpeg.len() * 3 / 5]).unwrap();
    let (_, run, stderr) = env.run();
    let (_, out) = report(&env, &["--format", "json"]);
    let got: Value = serde_json::from_slice(&out).unwrap();
    let reasons: BTreeMap<String, String> = got["needs_rescan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let doc = r["document"].as_str().unwrap().rsplit('/').next().unwrap();
            (doc.to_owned(), r["reason"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(
        reasons.get("vien-den.png").map(String::as_str),
        Some("black scan border along an edge"),
        "{reasons:?}\n{stderr}\n{run:#}"
    );
    let cut = &reasons["cat-do.jpg"];
    assert!(cut.starts_with("truncated file"), "{cut}");
    assert!(!cut.contains("blank"), "{cut}");
}
