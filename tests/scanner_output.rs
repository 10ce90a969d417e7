//! Real scanner output: scanned PDFs (JPEG and CCITT G4 pages, made by Debian's img2pdf),
//! text layers, broken PDFs, pages turned or skewed, and the searchable PDF derivative
//! (read back by Debian's pdftotext).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{cer, TestEnv};
use dossier::sample::{self, FileKind};
use image::GrayImage;
use serde_json::Value;

/// The generated page of manifest file `i` as an image, with its printed text.
fn page_of(env: &TestEnv, i: usize) -> (GrayImage, String) {
    let f = &env.manifest.files[i];
    let bytes = fs::read(env.intake().join(&f.path)).unwrap();
    let (_, mut pages) = dossier::decode::pages(&bytes, Default::default()).unwrap();
    let page = pages.next().unwrap().unwrap();
    (page.image, f.pages[0].lines.join("\n"))
}

fn dossier_dir(env: &TestEnv, i: usize) -> PathBuf {
    let f = &env.manifest.files[i];
    env.intake().join(&f.procedure).join(&f.dossier)
}

fn tool(name: &str) -> PathBuf {
    // Debian's tools, not a same-named script a Python environment may put first on PATH.
    let debian = Path::new("/usr/bin").join(name);
    if debian.exists() {
        debian
    } else {
        PathBuf::from(name)
    }
}

fn run_tool(cmd: &mut Command) {
    let out = cmd
        .output()
        .expect("tool runs (scripts/install-deps.sh installs it)");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A JPEG page and a CCITT G4 page in one PDF, as a scanner's PDF carries them.
fn scanner_pdf(dir: &Path, first: &GrayImage, second: &GrayImage) -> PathBuf {
    let jpeg = dir.join("p1.jpg");
    fs::write(
        &jpeg,
        sample::encode(std::slice::from_ref(first), FileKind::Jpeg, 300).unwrap(),
    )
    .unwrap();
    let grey = dir.join("p2.png");
    second.save(&grey).unwrap();
    let g4 = dir.join("p2.tif");
    run_tool(Command::new(tool("python3")).args([
        "-c",
        "import sys; from PIL import Image; \
         Image.open(sys.argv[1]).convert('1').save(sys.argv[2], compression='group4', dpi=(300, 300))",
        grey.to_str().unwrap(),
        g4.to_str().unwrap(),
    ]));
    let pdf = dir.join("scan.pdf");
    run_tool(
        Command::new(tool("img2pdf"))
            .arg(&jpeg)
            .arg(&g4)
            .arg("-o")
            .arg(&pdf),
    );
    let bytes = fs::read(&pdf).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("/DCTDecode") && text.contains("/CCITTFaxDecode"));
    pdf
}

fn documents(show: &Value) -> &Vec<Value> {
    show["documents"].as_array().unwrap()
}

fn object(env: &TestEnv, sha: &str) -> PathBuf {
    env.archive().join("objects").join(&sha[..2]).join(sha)
}

#[test]
fn a_scanned_pdf_with_jpeg_and_g4_pages_is_read_and_kept_as_a_searchable_pdf() {
    let env = TestEnv::generated(2);
    let (first, first_text) = page_of(&env, 0);
    let (second, second_text) = page_of(&env, 1);
    let work = env.root().join("work");
    fs::create_dir_all(&work).unwrap();
    let pdf = scanner_pdf(&work, &first, &second);
    // The PDF replaces the first dossier's input page.
    let dir = dossier_dir(&env, 0);
    fs::remove_file(env.intake().join(&env.manifest.files[0].path)).unwrap();
    fs::copy(&pdf, dir.join("input/scan.pdf")).unwrap();

    let (code, report, stderr) = env.run();
    assert_eq!(code, 0, "{report}\n{stderr}");
    let show = env.show(&env.manifest.files[0].dossier);
    let doc = documents(&show)
        .iter()
        .find(|d| d["path"].as_str().unwrap().ends_with("scan.pdf"))
        .expect("the PDF is a document");
    let pages = doc["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 2);
    for (page, truth) in pages.iter().zip([&first_text, &second_text]) {
        assert_eq!(page["text_source"], "ocr");
        assert_eq!(page["dpi"], 300);
        let rate = cer(truth, page["text"].as_str().unwrap());
        assert!(rate < 0.05, "CER {rate:.3} on page {}", page["page"]);
    }

    // The searchable PDF: an archived object whose text pdftotext finds.
    let derivative = doc["searchable_pdf"].as_str().expect("a searchable PDF");
    assert_ne!(derivative, doc["sha256"].as_str().unwrap());
    let out = Command::new(tool("pdftotext"))
        .arg(object(&env, derivative))
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) runs");
    assert!(out.status.success());
    let extracted = String::from_utf8_lossy(&out.stdout);
    let both = format!("{first_text}\n{second_text}");
    let rate = cer(&both, &extracted);
    assert!(rate < 0.08, "pdftotext CER {rate:.3}:\n{extracted}");
    assert!(extracted.contains(&*env.manifest.files[0].dossier));

    // verify re-hashes the derivative with the rest.
    let out = env.dossier(&["verify", "--archive", env.archive().to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    fs::remove_file(object(&env, derivative)).unwrap();
    let out = env.dossier(&["verify", "--archive", env.archive().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stdout).contains("searchable PDF"));
}

#[test]
fn a_pdf_with_a_text_layer_is_read_from_it_unless_ocr_is_forced() {
    let env = TestEnv::generated(1);
    let (page, truth) = page_of(&env, 0);
    // A searchable PDF made by dossier itself is a PDF with a real text layer.
    let first = TestEnv::generated(1);
    let (code, _, _) = first.run();
    assert_eq!(code, 0);
    let show = first.show(&first.manifest.files[0].dossier);
    let derivative = documents(&show)[0]["searchable_pdf"]
        .as_str()
        .unwrap()
        .to_owned();
    let layered = fs::read(object(&first, &derivative)).unwrap();
    // Read upright at its own resolution, the page's original image is embedded as it is.
    let marker: &[u8] = if first.manifest.files[0].path.ends_with(".jpg") {
        b"/DCTDecode"
    } else {
        b"/Predictor 15"
    };
    assert!(
        layered.windows(marker.len()).any(|w| w == marker),
        "{}",
        first.manifest.files[0].path
    );
    drop(page);
    let dir = dossier_dir(&env, 0);
    fs::remove_file(env.intake().join(&env.manifest.files[0].path)).unwrap();
    fs::write(dir.join("input/layered.pdf"), &layered).unwrap();

    let (code, report, stderr) = env.run();
    assert_eq!(code, 0, "{report}\n{stderr}");
    // Every other page of the dossier (a result, when there is one) is OCR'd as usual.
    let others = env.manifest.files.len() - 1;
    assert_eq!(report["pages_ocr"], others);
    assert_eq!(report["pages_text_layer"], 1);
    let show = env.show(&env.manifest.files[0].dossier);
    let doc = &documents(&show)[0];
    let p = &doc["pages"][0];
    assert_eq!(p["text_source"], "text_layer");
    assert!(p["confidence"].is_null());
    let rate = cer(&truth, p["text"].as_str().unwrap());
    assert!(rate < 0.08, "text layer CER {rate:.3}");
    // It is its own searchable copy.
    assert_eq!(doc["searchable_pdf"], doc["sha256"]);

    // --force-ocr reads the image instead (a new version: same path, forced again).
    fs::write(dir.join("input/layered-again.pdf"), &layered).unwrap();
    let out = env.dossier(&[
        "run",
        env.pipeline().to_str().unwrap(),
        "--json",
        "--force-ocr",
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(report["pages_ocr"], 1, "{report}");
    assert_eq!(report["pages_text_layer"], 0);
}

#[test]
fn encrypted_empty_broken_and_bomb_pdfs_are_archived_and_reported() {
    let env = TestEnv::generated(1);
    let (page, _) = page_of(&env, 0);
    let work = env.root().join("work");
    fs::create_dir_all(&work).unwrap();
    let plain = scanner_pdf(&work, &page, &page);
    let encrypted = work.join("encrypted.pdf");
    run_tool(
        Command::new(tool("qpdf"))
            .args(["--encrypt", "citizen-pass", "owner-pass", "256", "--"])
            .arg(&plain)
            .arg(&encrypted),
    );
    let bomb_rows = vec![0xFFu8; 35_000usize.div_ceil(8)];
    let bomb = dossier::pdf::write(&[dossier::pdf::Page {
        image: dossier::pdf::PageImage::G4 {
            bytes: &bomb_rows,
            width: 35_000,
            height: 35_000,
        },
        dpi: 300,
        words: vec![],
        visible: vec![],
        rotate: 0,
    }]);
    assert!(bomb.len() < 11 * 1024);
    let plain_bytes = fs::read(&plain).unwrap();
    let dir = dossier_dir(&env, 0).join("input");
    fs::copy(&encrypted, dir.join("encrypted.pdf")).unwrap();
    fs::write(dir.join("empty.pdf"), dossier::pdf::write(&[])).unwrap();
    fs::write(
        dir.join("broken.pdf"),
        &plain_bytes[..plain_bytes.len() / 2],
    )
    .unwrap();
    fs::write(dir.join("bomb.pdf"), &bomb).unwrap();

    let (code, report, stderr) = env.run();
    assert_eq!(code, 3, "{report}\n{stderr}");
    let reasons: Vec<(String, String)> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["path"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned(),
                r["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let reason = |name: &str| {
        reasons
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("{name} not rejected: {reasons:?}"))
    };
    assert!(reason("encrypted.pdf").contains("encrypted"), "{reasons:?}");
    assert!(reason("empty.pdf").contains("no pages"), "{reasons:?}");
    assert!(reason("broken.pdf").contains("PDF"), "{reasons:?}");
    assert!(reason("bomb.pdf").contains("35000×35000"), "{reasons:?}");
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    // Archived as they came, and the good page beside them is in the archive too.
    for name in ["encrypted.pdf", "empty.pdf", "broken.pdf", "bomb.pdf"] {
        let sha = common::sha256_file(&dir.join(name));
        assert!(object(&env, &sha).is_file(), "{name} archived");
    }
    // The dossier's own pages were read as usual.
    assert_eq!(report["pages_ocr"], env.manifest.files.len());
}

/// Character error rates of the same page turned 90/180/270° and skewed 3°, read with and
/// without corrections. Prints the table the README quotes.
#[test]
fn turned_and_skewed_pages_are_corrected_before_ocr() {
    let env = TestEnv::generated(1);
    let (page, truth) = page_of(&env, 0);
    let dir = dossier_dir(&env, 0).join("input");
    fs::remove_file(env.intake().join(&env.manifest.files[0].path)).unwrap();
    let variants: Vec<(&str, GrayImage)> = vec![
        ("turned-90", image::imageops::rotate90(&page)),
        ("turned-180", image::imageops::rotate180(&page)),
        ("turned-270", image::imageops::rotate270(&page)),
        ("skewed-3", dossier::ocr::orient::rotate(&page, 3.0)),
    ];
    for (name, img) in &variants {
        img.save(dir.join(format!("{name}.png"))).unwrap();
    }
    let read = |env: &TestEnv| -> Vec<(String, f64, Value, Value)> {
        let show = env.show(&env.manifest.files[0].dossier);
        documents(&show)
            .iter()
            .map(|d| {
                let p = &d["pages"][0];
                (
                    d["path"]
                        .as_str()
                        .unwrap()
                        .rsplit('/')
                        .next()
                        .unwrap()
                        .to_owned(),
                    cer(&truth, p["text"].as_str().unwrap()),
                    p["turned"].clone(),
                    p["deskewed"].clone(),
                )
            })
            .collect()
    };
    let (code, _, stderr) = env.run();
    assert_eq!(code, 0, "{stderr}");
    let corrected = read(&env);
    // The human `show` names the corrections too.
    let out = env.dossier(&[
        "show",
        "--archive",
        env.archive().to_str().unwrap(),
        &env.manifest.files[0].dossier,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("turned 180° clockwise before OCR"), "{text}");
    assert!(text.contains("levelled by -3."), "{text}");
    assert!(text.contains("searchable PDF "), "{text}");

    // The same pages without corrections, in a second archive.
    env.write_pipeline("[ocr]\ncorrect_pages = false\n");
    let text = fs::read_to_string(env.pipeline())
        .unwrap()
        .replace("archive = \"archive\"", "archive = \"archive-plain\"");
    fs::write(env.pipeline(), text).unwrap();
    let (code, _, stderr) = env.run();
    assert_eq!(code, 0, "{stderr}");
    let plain_env_show = env.dossier(&[
        "show",
        "--archive",
        env.root().join("archive-plain").to_str().unwrap(),
        &env.manifest.files[0].dossier,
        "--json",
    ]);
    let plain: Value = serde_json::from_slice(&plain_env_show.stdout).unwrap();
    let plain: Vec<(String, f64)> = documents(&plain)
        .iter()
        .map(|d| {
            (
                d["path"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned(),
                cer(&truth, d["pages"][0]["text"].as_str().unwrap()),
            )
        })
        .collect();
    println!("page             CER corrected   CER uncorrected   turned  deskewed");
    for ((name, rate, turned, deskewed), (_, plain_rate)) in corrected.iter().zip(&plain) {
        println!("{name:<16} {rate:>13.3} {plain_rate:>17.3}   {turned:>6}  {deskewed:>8}");
    }
    for (name, rate, turned, deskewed) in &corrected {
        assert!(*rate < 0.05, "{name}: CER {rate:.3} after correction");
        let expected_turn = match name.as_str() {
            "turned-90.png" => 270,
            "turned-180.png" => 180,
            "turned-270.png" => 90,
            _ => 0,
        };
        assert_eq!(turned, expected_turn, "{name}");
        if name == "skewed-3.png" {
            let d = deskewed.as_f64().unwrap();
            assert!((d + 3.0).abs() < 0.3, "levelled by {d}");
        }
    }
    for (name, rate) in &plain {
        // In automatic layout mode (PSM 3, as the CLI) Tesseract itself reads a page turned a
        // quarter clockwise: the pages upside down and turned the other way still need OSD.
        if name.starts_with("turned") && name != "turned-90.png" {
            assert!(*rate > 0.5, "{name} uncorrected CER {rate:.3}");
        }
    }
}

/// A batch scan: pages before the first cover sheet, three dossiers behind a cover sheet made
/// by `dossier cover-sheets` (both symbols, with the marker) and two printed before the marker
/// (Code 128 only, QR only), then an unreadable cover sheet and one whose code tries to climb
/// out of the archive, each with a page after.
#[test]
fn a_batch_scan_is_split_at_its_cover_sheets_and_the_rest_quarantined() {
    use dossier::cover::{render_sheet, Symbols};
    let env = TestEnv::generated(3);
    let pages: Vec<(GrayImage, String)> = (0..4)
        .map(|i| page_of(&env, i % env.manifest.files.len()))
        .collect();
    let code = |i: usize| {
        let f = &env.manifest.files[i];
        format!("{}/{}", f.procedure, f.dossier)
    };
    let (a, b, c) = (code(0), format!("{}/result", code(1)), code(2));
    let sheets = env.root().join("covers.pdf");
    let out = env.dossier(&["cover-sheets", "--output", sheets.to_str().unwrap(), &a]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = fs::read(&sheets).unwrap();
    let (_, mut printed_pages) = dossier::decode::pages(&printed, Default::default()).unwrap();
    let cover_a = printed_pages.next().unwrap().unwrap().image;
    let out = env.dossier(&["cover-sheets", "--output", "/tmp/x.pdf", "../etc/passwd"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a hostile code is refused at printing too"
    );

    let cover_b = render_sheet(
        &b,
        Symbols {
            qr: false,
            code128: true,
        },
        300,
    )
    .unwrap();
    let cover_c = render_sheet(
        &c,
        Symbols {
            qr: true,
            code128: false,
        },
        300,
    )
    .unwrap();
    // A Code 128 sheet with a smudge across the middle of its bars.
    let mut unreadable = render_sheet(
        &format!("{}{c}", dossier::cover::MARKER),
        Symbols {
            qr: false,
            code128: true,
        },
        300,
    )
    .unwrap();
    let w = unreadable.width();
    for y in 1700..2150 {
        for x in w / 2..w / 2 + 60 {
            unreadable.put_pixel(x, y, image::Luma([0]));
        }
    }
    assert_eq!(
        dossier::cover::read(&unreadable),
        dossier::cover::Reading::Unreadable
    );
    let hostile = render_sheet("TBHS1:../../etc/passwd", Symbols::BOTH, 300).unwrap();
    let batch_pages = vec![
        pages[3].0.clone(), // 1: before the first cover sheet
        cover_a,            // 2
        pages[0].0.clone(), // 3 → a
        cover_b,            // 4
        pages[1].0.clone(), // 5 → b (result)
        pages[3].0.clone(), // 6 → b (result)
        cover_c,            // 7
        pages[2].0.clone(), // 8 → c
        unreadable,         // 9
        pages[3].0.clone(), // 10: after an unreadable cover sheet
        hostile,            // 11
        pages[3].0.clone(), // 12: after a hostile cover sheet
    ];
    // The batch is the whole intake.
    fs::remove_dir_all(env.intake()).unwrap();
    fs::create_dir_all(env.intake().join("_batch")).unwrap();
    let tiff = sample::encode(&batch_pages, FileKind::Tiff, 300).unwrap();
    fs::write(env.intake().join("_batch/scan-0001.tif"), &tiff).unwrap();
    let before: Vec<_> = fs::read_dir(env.root())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();

    let (code_, report, stderr) = env.run();
    assert_eq!(code_, 3, "{report}\n{stderr}");
    assert_eq!(
        report["pages_ocr"], 4,
        "cover sheets and quarantined pages are not OCR'd: {}",
        report["batches"]
    );
    let batch = &report["batches"][0];
    assert_eq!(batch["path"], "_batch/scan-0001.tif");
    assert_eq!(batch["pages"], 12);
    let segments: Vec<(String, Vec<u64>)> = batch["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["code"].as_str().unwrap().to_owned(),
                s["pages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_u64().unwrap())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        segments,
        vec![
            (a.clone(), vec![3]),
            (b.clone(), vec![5, 6]),
            (c.clone(), vec![8])
        ]
    );
    let quarantined: Vec<u64> = batch["quarantined"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|q| {
            q["pages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_u64().unwrap())
        })
        .collect();
    assert_eq!(quarantined, vec![1, 9, 10, 11, 12]);
    let reasons = batch["quarantined"].to_string();
    assert!(
        reasons.contains("before the first cover sheet"),
        "{reasons}"
    );
    assert!(reasons.contains("cannot be read"), "{reasons}");
    assert!(
        reasons.contains("cover sheet code: not PROCEDURE/DOSSIER[/result]"),
        "{reasons}"
    );
    assert!(
        !reasons.contains("passwd"),
        "a refused code is named by its rule, not echoed: {reasons}"
    );
    assert_eq!(report["quarantined_pages"], 5);

    // Each dossier holds its pages, read, with their place in the batch.
    let show_b = env.show(&env.manifest.files[1].dossier);
    let doc = documents(&show_b)
        .iter()
        .find(|d| d["path"].as_str().unwrap() == format!("_batch/scan-0001.tif#{b}"))
        .expect("the split document");
    assert_eq!(doc["kind"], "result");
    assert_eq!(
        doc["sha256"].as_str().unwrap(),
        common::sha256_file(&env.intake().join("_batch/scan-0001.tif"))
    );
    let read: Vec<(u64, u64)> = doc["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["page"].as_u64().unwrap(),
                p["source_page"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(read, vec![(1, 5), (2, 6)]);
    let rate = cer(&pages[1].1, doc["pages"][0]["text"].as_str().unwrap());
    assert!(rate < 0.05, "CER {rate:.3}");

    // Nothing outside the archive was written, and verify accounts for the batch file.
    let after: Vec<_> = fs::read_dir(env.root())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        before.len() + 1,
        after.len(),
        "only the archive is new: {after:?}"
    );
    let out = env.dossier(&["verify", "--archive", env.archive().to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A rerun leaves the batch alone.
    let (code_, report, _) = env.run();
    assert_eq!(code_, 0, "{report}");
    assert_eq!(report["files_unchanged"], 1);
    assert_eq!(report["pages_ocr"], 0);

    // As if a run were killed after committing the split documents but before recording the
    // batch: the next run splits it again and adds no second version of any document.
    {
        let db = rusqlite::Connection::open(env.archive().join("index.sqlite")).unwrap();
        db.execute_batch("DELETE FROM batches; DELETE FROM intake_files;")
            .unwrap();
    }
    let (_, report, _) = env.run();
    assert_eq!(report["documents_added"], 0, "{report}");
    assert_eq!(
        report["batches"][0]["segments"].as_array().unwrap().len(),
        3
    );
    let show_b = env.show(&env.manifest.files[1].dossier);
    assert!(documents(&show_b).iter().all(|d| d["version"] == 1));
}

/// A cover sheet naming an archived dossier under another procedure opens nothing: the sheet
/// and its pages are set aside with both procedures named (exit 3), as a folder would be
/// rejected; the dossier keeps its procedure and documents, the other sheets split as usual.
#[test]
fn a_cover_sheet_naming_a_dossier_under_another_procedure_is_refused_naming_both() {
    use dossier::cover::{render_sheet, Symbols, MARKER};
    let env = TestEnv::generated(2);
    let (code_, report, stderr) = env.run();
    assert_eq!(code_, 0, "{report}\n{stderr}");
    let f0 = &env.manifest.files[0];
    let f1 = env
        .manifest
        .files
        .iter()
        .find(|f| f.procedure != f0.procedure)
        .expect("two procedures");
    let documents_before = documents(&env.show(&f0.dossier)).len();
    let page = page_of(&env, 0).0;
    let sheet = |code: &str| render_sheet(&format!("{MARKER}{code}"), Symbols::BOTH, 300).unwrap();
    let wrong = format!("{}/{}", f1.procedure, f0.dossier);
    let right = format!("{}/{}", f1.procedure, f1.dossier);
    let batch_pages = vec![
        sheet(&wrong), // 1: refused
        page.clone(),  // 2: after it, set aside
        sheet(&right), // 3
        page.clone(),  // 4 → right
    ];
    fs::create_dir_all(env.intake().join("_batch")).unwrap();
    let tiff = sample::encode(&batch_pages, FileKind::Tiff, 300).unwrap();
    fs::write(env.intake().join("_batch/scan-0002.tif"), &tiff).unwrap();

    let (code_, report, stderr) = env.run();
    assert_eq!(code_, 3, "{report}\n{stderr}");
    let batch = &report["batches"][0];
    let segments: Vec<&str> = batch["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(segments, [right.as_str()]);
    let quarantined = batch["quarantined"].as_array().unwrap();
    assert_eq!(quarantined[0]["pages"], serde_json::json!([1]));
    let reason = quarantined[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("already under procedure {}", f0.procedure))
            && reason.contains(&format!("under procedure {}", f1.procedure))
            && reason.contains(f0.dossier.as_str()),
        "{reason}"
    );
    assert_eq!(quarantined[1]["pages"], serde_json::json!([2]));
    assert_eq!(report["quarantined_pages"], 2);
    // The dossier keeps its procedure and gained nothing; the right segment was archived.
    let show = env.show(&f0.dossier);
    assert_eq!(show["procedure_code"], f0.procedure.as_str());
    assert_eq!(documents(&show).len(), documents_before);
    assert!(documents(&env.show(&f1.dossier))
        .iter()
        .any(|d| d["path"] == format!("_batch/scan-0002.tif#{right}")));
}

/// The same split from a scanner's PDF (img2pdf: JPEG pages, PNG cover sheets).
#[test]
fn a_pdf_batch_scan_is_split_at_its_cover_sheets() {
    use dossier::cover::{render_sheet, Symbols};
    let env = TestEnv::generated(1);
    let (page, truth) = page_of(&env, 0);
    let f = &env.manifest.files[0];
    let code = format!("{}/{}", f.procedure, f.dossier);
    let work = env.root().join("work");
    fs::create_dir_all(&work).unwrap();
    let cover = work.join("cover.png");
    render_sheet(
        &code,
        Symbols {
            qr: false,
            code128: true,
        },
        300,
    )
    .unwrap()
    .save(&cover)
    .unwrap();
    let jpeg = work.join("page.jpg");
    fs::write(
        &jpeg,
        sample::encode(std::slice::from_ref(&page), FileKind::Jpeg, 300).unwrap(),
    )
    .unwrap();
    fs::remove_dir_all(env.intake()).unwrap();
    fs::create_dir_all(env.intake().join("_batch")).unwrap();
    run_tool(
        Command::new(tool("img2pdf"))
            .arg(&cover)
            .arg(&jpeg)
            .arg("-o")
            .arg(env.intake().join("_batch/morning.pdf")),
    );
    let (code_, report, stderr) = env.run();
    assert_eq!(code_, 0, "{report}\n{stderr}");
    assert_eq!(report["batches"][0]["segments"][0]["code"], code.as_str());
    assert_eq!(report["quarantined_pages"], 0);
    let show = env.show(&f.dossier);
    let doc = &documents(&show)[0];
    assert_eq!(doc["path"], format!("_batch/morning.pdf#{code}"));
    assert_eq!(doc["pages"][0]["source_page"], 2);
    let rate = cer(&truth, doc["pages"][0]["text"].as_str().unwrap());
    assert!(rate < 0.05, "CER {rate:.3}");
}

/// Two columns of body text side by side on an A4 page at 300 dpi, and the text column by
/// column.
fn two_column_page() -> (GrayImage, String) {
    use dossier::sample::render::{render_page, Fonts, Line, Paper};
    let fonts = Fonts::find().unwrap();
    let column = Paper {
        width_mm: 100.0,
        height_mm: 297.0,
    };
    let mut page = GrayImage::from_pixel(2480, 3508, image::Luma([247]));
    let mut truth = Vec::new();
    let texts = [
        "Ủy ban nhân dân phường Đông Lễ tiếp nhận hồ sơ đăng ký khai sinh của công dân.",
        "Người đề nghị cư trú tại số 47 đường Lê Duẩn, thành phố Đông Hà, tỉnh Quảng Trị.",
    ];
    for (i, x0) in [0u32, 1063].into_iter().enumerate() {
        let lines: Vec<Line> = std::iter::once(Line::heading(format!("PHẦN {}", i + 1), 13.0))
            .chain((0..10).map(|n| Line::body(format!("{} {}", n + 1, texts[(i + n) % 2]))))
            .collect();
        let (col, printed) = render_page(&fonts, &lines, column, 300);
        for (x, y, p) in col.enumerate_pixels() {
            if x0 + x < page.width() {
                let q = page.get_pixel_mut(x0 + x, y);
                q.0[0] = q.0[0].min(p.0[0]);
            }
        }
        truth.extend(printed);
    }
    (page, truth.join("\n"))
}

#[test]
fn two_column_pages_read_column_by_column_and_large_skews_and_black_borders_are_corrected() {
    let env = TestEnv::generated(1);
    let (page, truth) = page_of(&env, 0);
    let dir = dossier_dir(&env, 0).join("input");
    fs::remove_file(env.intake().join(&env.manifest.files[0].path)).unwrap();
    // Laid on the glass at 20°, the scanner's black lid showing along two edges.
    let mut skewed = dossier::ocr::orient::rotate_expanded(&page, 20.0);
    for (x, y, p) in skewed.enumerate_pixels_mut() {
        if x < 150 + (y / 50 % 3) * 4 || y < 90 {
            p.0[0] = 25;
        }
    }
    fs::write(
        dir.join("skewed-20-borders.png"),
        sample::encode(&[skewed], FileKind::Png, 300).unwrap(),
    )
    .unwrap();
    let (columns, columns_truth) = two_column_page();
    fs::write(
        dir.join("two-columns.png"),
        sample::encode(&[columns], FileKind::Png, 300).unwrap(),
    )
    .unwrap();

    let (code, _, stderr) = env.run();
    assert_eq!(code, 0, "{stderr}");
    let show = env.show(&env.manifest.files[0].dossier);
    let page_named = |name: &str| -> Value {
        documents(&show)
            .iter()
            .find(|d| d["path"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} is a document"))["pages"][0]
            .clone()
    };
    let skewed = page_named("skewed-20-borders.png");
    let rate = cer(&truth, skewed["text"].as_str().unwrap());
    assert!(rate < 0.03, "20° skew with borders: CER {rate:.3}");
    let deskewed = skewed["deskewed"].as_f64().unwrap();
    assert!((deskewed + 20.0).abs() < 0.3, "levelled by {deskewed}");
    let columns = page_named("two-columns.png");
    let rate = cer(&columns_truth, columns["text"].as_str().unwrap());
    assert!(
        rate < 0.03,
        "two columns: CER {rate:.3}\n{}",
        columns["text"]
    );
}

/// A six-page scanned PDF of small JPEG pages, each with its own text; `spoil` may change the
/// 4th page's image stream.
fn six_page_pdf(spoil: impl Fn(&mut lopdf::Stream)) -> (Vec<u8>, Vec<String>) {
    use dossier::sample::render::{render_page, Fonts, Line, Paper};
    let fonts = Fonts::find().unwrap();
    let paper = Paper {
        width_mm: 150.0,
        height_mm: 60.0,
    };
    let mut jpegs = Vec::new();
    let mut truths = Vec::new();
    for n in 1..=6 {
        let lines = vec![
            Line::heading(format!("TRANG SỐ {n}"), 13.0),
            Line::body(format!(
                "Hồ sơ đăng ký hộ kinh doanh, trang {n} của sáu, phường Đông Lễ."
            )),
        ];
        let (img, printed) = render_page(&fonts, &lines, paper, 300);
        jpegs.push((
            sample::encode(std::slice::from_ref(&img), FileKind::Jpeg, 300).unwrap(),
            img.dimensions(),
        ));
        truths.push(printed.join("\n"));
    }
    let pages: Vec<dossier::pdf::Page> = jpegs
        .iter()
        .map(|(bytes, (w, h))| dossier::pdf::Page {
            image: dossier::pdf::PageImage::Jpeg {
                bytes,
                width: *w,
                height: *h,
                components: 1,
            },
            dpi: 300,
            words: vec![],
            visible: vec![],
            rotate: 0,
        })
        .collect();
    let mut doc = lopdf::Document::load_mem(&dossier::pdf::write(&pages)).unwrap();
    let fourth = doc.get_pages()[&4];
    let image_id = {
        let page = doc.get_dictionary(fourth).unwrap();
        let resources = doc
            .dereference(page.get(b"Resources").unwrap())
            .unwrap()
            .1
            .as_dict()
            .unwrap();
        let xobjects = doc
            .dereference(resources.get(b"XObject").unwrap())
            .unwrap()
            .1
            .as_dict()
            .unwrap();
        xobjects.iter().next().unwrap().1.as_reference().unwrap()
    };
    spoil(
        doc.get_object_mut(image_id)
            .unwrap()
            .as_stream_mut()
            .unwrap(),
    );
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    (out, truths)
}

#[test]
fn a_pdf_page_behind_a_filter_chain_is_read_and_a_broken_page_fails_alone() {
    use std::io::Write;
    let (chained, truths) = six_page_pdf(|stream| {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&stream.content).unwrap();
        stream.dict.set(
            "Filter",
            vec![
                lopdf::Object::Name(b"FlateDecode".to_vec()),
                lopdf::Object::Name(b"DCTDecode".to_vec()),
            ],
        );
        stream.set_content(z.finish().unwrap());
    });
    let (broken, _) = six_page_pdf(|stream| {
        let cut = stream.content.len() / 3;
        stream.content.truncate(cut);
        stream.content.extend_from_slice(b"not a JPEG any more");
        stream.content.iter_mut().take(8).for_each(|b| *b = 0);
    });
    let env = TestEnv::generated(1);
    let dir = dossier_dir(&env, 0).join("input");
    fs::write(dir.join("chained.pdf"), &chained).unwrap();
    fs::write(dir.join("broken-page-4.pdf"), &broken).unwrap();

    let (code, report, stderr) = env.run();
    assert_eq!(code, 0, "{report}\n{stderr}");
    let show = env.show(&env.manifest.files[0].dossier);
    let doc = |name: &str| -> Value {
        documents(&show)
            .iter()
            .find(|d| d["path"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} is a document: {show}"))
            .clone()
    };
    let read = |d: &Value| -> Vec<(u64, f64)> {
        d["pages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let n = p["page"].as_u64().unwrap();
                (n, cer(&truths[n as usize - 1], p["text"].as_str().unwrap()))
            })
            .collect()
    };
    let chained_pages = read(&doc("chained.pdf"));
    assert_eq!(
        chained_pages.iter().map(|p| p.0).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    let broken_doc = doc("broken-page-4.pdf");
    let broken_pages = read(&broken_doc);
    assert_eq!(
        broken_pages.iter().map(|p| p.0).collect::<Vec<_>>(),
        [1, 2, 3, 5, 6],
        "the pages keep their numbers in the file"
    );
    for (n, rate) in chained_pages.iter().chain(&broken_pages) {
        assert!(*rate < 0.05, "page {n}: CER {rate:.3}");
    }
    // Not rejected: listed for a rescan of page 4, with the reason.
    assert!(
        report["rejected"].as_array().unwrap().is_empty(),
        "{report}"
    );
    let rescan = report["needs_rescan_documents"].as_array().unwrap();
    let broken_reason = rescan
        .iter()
        .find(|r| r["path"].as_str().unwrap().ends_with("broken-page-4.pdf"))
        .unwrap_or_else(|| panic!("broken-page-4.pdf needs a rescan: {report}"))["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        broken_reason.starts_with("page 4 cannot be decoded: "),
        "{broken_reason}"
    );
    assert!(
        !rescan
            .iter()
            .any(|r| r["path"].as_str().unwrap().ends_with("chained.pdf")),
        "{report}"
    );
    // The searchable PDF holds the five pages that were read.
    let derivative = broken_doc["searchable_pdf"]
        .as_str()
        .expect("searchable PDF");
    let searchable =
        lopdf::Document::load_mem(&fs::read(object(&env, derivative)).unwrap()).unwrap();
    assert_eq!(searchable.get_pages().len(), 5);
}
