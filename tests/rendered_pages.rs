//! Pages that are not one plain scan, rendered at 300 dpi and OCR'd with real Tesseract:
//! text drawn as outlines (no text layer at all), Helvetica text inside a form XObject, two
//! images on one page, an image mask; a batch scan whose undecodable frame fails alone; and
//! the searchable PDF as PDF/A-2b (its parts read back with lopdf, its text with pdftotext,
//! its font with pdffonts, the whole file checked by PDFBox Preflight).

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{cer, TestEnv};
use dossier::sample::render::{render_page, Fonts, Line, Paper};
use image::GrayImage;
use lopdf::{dictionary, Dictionary, Document, Object, ObjectId, Stream};
use serde_json::Value;

/// A PDF being made page by page with lopdf.
struct Made {
    doc: Document,
    pages: ObjectId,
    kids: Vec<Object>,
}

impl Made {
    fn new() -> Made {
        let mut doc = Document::with_version("1.7");
        let pages = doc.new_object_id();
        Made {
            doc,
            pages,
            kids: Vec::new(),
        }
    }

    fn page(&mut self, width_pt: f32, height_pt: f32, resources: Dictionary, content: String) {
        let content = self
            .doc
            .add_object(Stream::new(dictionary! {}, content.into_bytes()));
        let page = self.doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => self.pages,
            "MediaBox" => vec![0.into(), 0.into(), width_pt.into(), height_pt.into()],
            "Resources" => resources,
            "Contents" => content,
        });
        self.kids.push(page.into());
    }

    fn grey_image(&mut self, image: &GrayImage) -> ObjectId {
        let dict = dictionary! {
            "Type" => "XObject",
            "Subtype" => "Image",
            "Width" => image.width() as i64,
            "Height" => image.height() as i64,
            "ColorSpace" => "DeviceGray",
            "BitsPerComponent" => 8,
        };
        let mut stream = Stream::new(dict, image.as_raw().clone());
        stream.compress().unwrap();
        self.doc.add_object(stream)
    }

    fn finish(mut self) -> Vec<u8> {
        let count = self.kids.len() as i64;
        self.doc.objects.insert(
            self.pages,
            Object::Dictionary(dictionary! {
                "Type" => "Pages",
                "Kids" => self.kids,
                "Count" => count,
            }),
        );
        let catalog = self.doc.add_object(dictionary! {
            "Type" => "Catalog",
            "Pages" => self.pages,
        });
        self.doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        self.doc.save_to(&mut out).unwrap();
        out
    }
}

/// `text` as filled outlines of the font's glyphs (no text operator anywhere), `size` points
/// high, starting at (`x`, `y`) in points.
fn outlined(font: &ab_glyph::FontVec, text: &str, size: f32, x: f32, y: f32) -> String {
    use ab_glyph::{Font, OutlineCurve};
    let scale = size / font.units_per_em().unwrap();
    let mut out = String::new();
    let mut pen = x;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(outline) = font.outline(id) {
            out.push_str(&format!("q {scale} 0 0 {scale} {pen} {y} cm\n"));
            let mut at = None;
            for curve in &outline.curves {
                let (start, end) = match curve {
                    OutlineCurve::Line(a, b) => (*a, *b),
                    OutlineCurve::Quad(a, _, b) => (*a, *b),
                    OutlineCurve::Cubic(a, _, _, b) => (*a, *b),
                };
                if at != Some(start) {
                    out.push_str(&format!("{} {} m\n", start.x, start.y));
                }
                match curve {
                    OutlineCurve::Line(_, b) => out.push_str(&format!("{} {} l\n", b.x, b.y)),
                    OutlineCurve::Quad(a, q, b) => {
                        let c1 = (a.x + 2.0 / 3.0 * (q.x - a.x), a.y + 2.0 / 3.0 * (q.y - a.y));
                        let c2 = (b.x + 2.0 / 3.0 * (q.x - b.x), b.y + 2.0 / 3.0 * (q.y - b.y));
                        out.push_str(&format!(
                            "{} {} {} {} {} {} c\n",
                            c1.0, c1.1, c2.0, c2.1, b.x, b.y
                        ));
                    }
                    OutlineCurve::Cubic(_, p, q, b) => out.push_str(&format!(
                        "{} {} {} {} {} {} c\n",
                        p.x, p.y, q.x, q.y, b.x, b.y
                    )),
                }
                at = Some(end);
            }
            out.push_str("f\nQ\n");
        }
        pen += font.h_advance_unscaled(id) * scale;
    }
    out
}

/// A strip of printed text as a scan would hold it, and its text.
fn strip(fonts: &Fonts, text: &str) -> (GrayImage, String) {
    let paper = Paper {
        width_mm: 170.0,
        height_mm: 30.0,
    };
    let (image, printed) = render_page(fonts, &[Line::body(text)], paper, 300);
    (image, printed.join("\n"))
}

/// Four pages none of which is one plain image, and each page's text.
fn mixed_pdf() -> (Vec<u8>, Vec<String>) {
    let fonts = Fonts::find().unwrap();
    let mut made = Made::new();
    let mut truths = Vec::new();
    // 1. Text as outlines: Vietnamese, in the sample generator's serif font.
    let lines = [
        "ĐĂNG KÝ KHAI SINH",
        "Hồ sơ số 15, phường Đông Lễ, tỉnh Quảng Trị",
    ];
    let mut content = String::from("0 g\n");
    content.push_str(&outlined(&fonts.bold, lines[0], 20.0, 50.0, 150.0));
    content.push_str(&outlined(&fonts.regular, lines[1], 14.0, 50.0, 110.0));
    made.page(500.0, 200.0, dictionary! {}, content);
    truths.push(lines.join("\n"));
    // 2. Helvetica (a standard font, not embedded) inside a form XObject.
    let helvetica = made.doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let text = [
        "CONG HOA XA HOI CHU NGHIA VIET NAM",
        "Giay de nghi cap ban sao trich luc",
    ];
    let form = made.doc.add_object(Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), 500.into(), 200.into()],
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => helvetica } },
        },
        format!(
            "BT /F1 18 Tf 40 140 Td ({}) Tj 0 -40 Td ({}) Tj ET",
            text[0], text[1]
        )
        .into_bytes(),
    ));
    made.page(
        500.0,
        200.0,
        dictionary! { "XObject" => dictionary! { "Fm0" => form } },
        "q /Fm0 Do Q".into(),
    );
    truths.push(text.join("\n"));
    // 3. Two scanned strips on one page, one above the other.
    let (top, top_text) = strip(&fonts, "Tờ khai thay đổi nội dung đăng ký hộ kinh doanh");
    let (bottom, bottom_text) = strip(&fonts, "Người nộp hồ sơ ký và ghi rõ họ tên");
    let (a, b) = (made.grey_image(&top), made.grey_image(&bottom));
    let (w, h) = (170.0 / 25.4 * 72.0, 30.0 / 25.4 * 72.0);
    made.page(
        w,
        2.0 * h,
        dictionary! { "XObject" => dictionary! { "Im1" => a, "Im2" => b } },
        format!("q {w} 0 0 {h} 0 {h} cm /Im1 Do Q q {w} 0 0 {h} 0 0 cm /Im2 Do Q"),
    );
    truths.push(format!("{top_text}\n{bottom_text}"));
    // 4. An image mask: one bit per pixel, painted in black where the bit is 0.
    let (masked, masked_text) = strip(&fonts, "Ủy ban nhân dân xã Tân Phú xác nhận");
    let stride = masked.width().div_ceil(8) as usize;
    let mut bits = vec![0xFFu8; stride * masked.height() as usize];
    for (x, y, p) in masked.enumerate_pixels() {
        if p.0[0] < 128 {
            bits[y as usize * stride + x as usize / 8] &= !(0x80 >> (x % 8));
        }
    }
    let mut stream = Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "ImageMask" => true,
            "Width" => masked.width() as i64, "Height" => masked.height() as i64,
            "BitsPerComponent" => 1,
        },
        bits,
    );
    stream.compress().unwrap();
    let mask = made.doc.add_object(stream);
    made.page(
        w,
        h,
        dictionary! { "XObject" => dictionary! { "Mk" => mask } },
        format!("0 g q {w} 0 0 {h} 0 0 cm /Mk Do Q"),
    );
    truths.push(masked_text);
    (made.finish(), truths)
}

fn documents(show: &Value) -> &Vec<Value> {
    show["documents"].as_array().unwrap()
}

fn object(env: &TestEnv, sha: &str) -> std::path::PathBuf {
    env.archive().join("objects").join(&sha[..2]).join(sha)
}

fn tool_output(name: &str, args: &[&Path]) -> String {
    let out = Command::new(Path::new("/usr/bin").join(name))
        .args(args)
        .output()
        .expect("tool runs (scripts/install-deps.sh installs it)");
    assert!(out.status.success(), "{name}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn pages_that_are_not_one_image_are_rendered_and_read_and_the_searchable_pdf_is_pdfa() {
    let (pdf, truths) = mixed_pdf();
    let env = TestEnv::generated(1);
    let f = &env.manifest.files[0];
    let dir = env
        .intake()
        .join(&f.procedure)
        .join(&f.dossier)
        .join("input");
    fs::write(dir.join("mixed.pdf"), &pdf).unwrap();
    let (code, report, stderr) = env.run();
    assert_eq!(code, 0, "{report}\n{stderr}");
    let show = env.show(&f.dossier);
    let doc = documents(&show)
        .iter()
        .find(|d| d["path"].as_str().unwrap().ends_with("mixed.pdf"))
        .unwrap_or_else(|| panic!("mixed.pdf is a document: {show}"));
    let pages = doc["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 4, "{doc}");
    for (page, truth) in pages.iter().zip(&truths) {
        let text = page["text"].as_str().unwrap();
        let rate = cer(&dossier::fold::fold(truth), &dossier::fold::fold(text));
        assert!(rate < 0.08, "page {}: CER {rate:.3}\n{text}", page["page"]);
        assert_eq!(page["text_source"], "ocr");
        assert_eq!(page["dpi"], 300);
    }
    assert!(!env.search("cong hoa xa hoi chu nghia").is_empty());

    // The searchable PDF: PDF/A-2b's parts, and the words for pdftotext.
    let sha = doc["searchable_pdf"].as_str().expect("searchable PDF");
    let path = object(&env, sha);
    let bytes = fs::read(&path).unwrap();
    check_pdfa_parts(&bytes);
    let extracted = tool_output("pdftotext", &[path.as_path(), Path::new("-")]);
    let folded = dossier::fold::fold(&extracted).to_lowercase();
    for word in ["khai", "nghia", "kinh", "nhan"] {
        assert!(folded.contains(word), "{word} in {extracted}");
    }
    // Apache PDFBox Preflight, offline (scripts/check-pdfa.sh says how and why as 1b), on
    // this one (rendered pages) and the dossier's others (the scan embedded as it came).
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check-pdfa.sh");
    let mut checked = 0;
    for d in documents(&show) {
        let Some(sha) = d["searchable_pdf"].as_str() else {
            continue;
        };
        let preflight = Command::new(&script)
            .arg(object(&env, sha))
            .output()
            .unwrap();
        assert!(
            preflight.status.success(),
            "Preflight on {}: {}{}",
            d["path"],
            String::from_utf8_lossy(&preflight.stdout),
            String::from_utf8_lossy(&preflight.stderr)
        );
        checked += 1;
    }
    assert!(checked >= 2, "{show}");
    let fonts = tool_output("pdffonts", &[path.as_path()]);
    let row = fonts
        .lines()
        .find(|l| l.starts_with("GlyphLessFont"))
        .unwrap_or_else(|| panic!("{fonts}"));
    // name, type (2 words), encoding, then emb sub uni.
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cols[cols.len() - 5..cols.len() - 2],
        ["yes", "no", "yes"],
        "{fonts}"
    );
}

/// The parts PDF/A-2b asks for, read with lopdf.
fn check_pdfa_parts(bytes: &[u8]) {
    assert!(bytes.starts_with(b"%PDF-1.7\n%"));
    let doc = Document::load_mem(bytes).unwrap();
    assert!(!doc.is_encrypted());
    let id = doc.trailer.get(b"ID").unwrap().as_array().unwrap();
    assert_eq!(id.len(), 2);
    let catalog = doc.catalog().unwrap();
    let get = |o: &Object| doc.dereference(o).unwrap().1.clone();
    let metadata = get(catalog.get(b"Metadata").unwrap());
    let xmp = String::from_utf8(metadata.as_stream().unwrap().content.clone()).unwrap();
    assert!(xmp.contains("<pdfaid:part>2</pdfaid:part>"), "{xmp}");
    assert!(xmp.contains("<pdfaid:conformance>B</pdfaid:conformance>"));
    let intents = get(catalog.get(b"OutputIntents").unwrap());
    let intent = get(&intents.as_array().unwrap()[0]);
    let intent = intent.as_dict().unwrap();
    assert_eq!(intent.get(b"S").unwrap().as_name().unwrap(), b"GTS_PDFA1");
    let profile = get(intent.get(b"DestOutputProfile").unwrap());
    let profile = profile.as_stream().unwrap();
    assert_eq!(profile.dict.get(b"N").unwrap().as_i64().unwrap(), 3);
    let icc = profile.decompressed_content().unwrap();
    assert_eq!(&icc[36..40], b"acsp", "an ICC profile");
    assert_eq!(&icc[12..20], b"mntrRGB ");
    for (_, page) in doc.get_pages() {
        let fonts = doc.get_page_fonts(page).unwrap();
        assert!(!fonts.is_empty());
        for font in fonts.values() {
            assert_eq!(font.get(b"Subtype").unwrap().as_name().unwrap(), b"Type0");
            assert!(font.has(b"ToUnicode"));
            let descendants = get(font.get(b"DescendantFonts").unwrap());
            let cid = get(&descendants.as_array().unwrap()[0]);
            let descriptor = get(cid.as_dict().unwrap().get(b"FontDescriptor").unwrap());
            let file = get(descriptor.as_dict().unwrap().get(b"FontFile2").unwrap());
            let program = file.as_stream().unwrap().decompressed_content().unwrap();
            assert_eq!(&program[..4], &[0, 1, 0, 0], "an embedded TrueType program");
        }
        let page = doc.get_dictionary(page).unwrap();
        assert!(!page.has(b"Group"), "no transparency group");
    }
}

/// A batch TIFF: cover sheet, a page, a frame that cannot be decoded, another page. The
/// broken frame fails alone: both pages are read and the document needs a rescan of it.
#[test]
fn a_batch_frame_that_cannot_be_decoded_fails_alone() {
    use dossier::cover::{render_sheet, Symbols};
    use tiff::encoder::{colortype, TiffEncoder};
    let env = TestEnv::generated(1);
    let f = env.manifest.files[0].clone();
    let bytes = fs::read(env.intake().join(&f.path)).unwrap();
    let (_, mut pages) = dossier::decode::pages(&bytes, Default::default()).unwrap();
    let page = pages.next().unwrap().unwrap().image;
    let truth = f.pages[0].lines.join("\n");
    let code = format!("{}/{}", f.procedure, f.dossier);
    let sheet = render_sheet(
        &format!("{}{code}", dossier::cover::MARKER),
        Symbols::BOTH,
        300,
    )
    .unwrap();
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut tiff = TiffEncoder::new(&mut out).unwrap();
        for (i, frame) in [&sheet, &page, &page, &page].into_iter().enumerate() {
            if i == 2 {
                // Float samples: a layout no scanner writes, which the decoder refuses.
                tiff.write_image::<colortype::Gray32Float>(8, 8, &[0.5f32; 64])
                    .unwrap();
                continue;
            }
            tiff.write_image::<colortype::Gray8>(frame.width(), frame.height(), frame.as_raw())
                .unwrap();
        }
    }
    fs::remove_dir_all(env.intake()).unwrap();
    fs::create_dir_all(env.intake().join("_batch")).unwrap();
    fs::write(env.intake().join("_batch/night.tif"), out.into_inner()).unwrap();
    let (code_, report, stderr) = env.run();
    assert_eq!(code_, 0, "{report}\n{stderr}");
    assert!(
        report["rejected"].as_array().unwrap().is_empty(),
        "{report}"
    );
    assert_eq!(report["batches"][0]["pages"], 4, "{report}");
    assert_eq!(
        report["batches"][0]["segments"][0]["pages"],
        serde_json::json!([2, 4])
    );
    let rescan = report["needs_rescan_documents"].as_array().unwrap();
    assert_eq!(rescan.len(), 1, "{report}");
    let reason = rescan[0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("page 2 (page 3 of the batch) cannot be decoded: "),
        "{reason}"
    );
    let show = env.show(&f.dossier);
    let doc = &documents(&show)[0];
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
    assert_eq!(read, [(1, 2), (3, 4)]);
    for p in doc["pages"].as_array().unwrap() {
        let rate = cer(&truth, p["text"].as_str().unwrap());
        assert!(rate < 0.05, "CER {rate:.3}");
    }
}

/// A page below 200 dpi is read upsampled to 300 dpi, but its searchable PDF keeps the page's
/// own pixels: the scan itself when a PDF can carry it (JPEG, PNG), else the page at its own
/// size, not the four-times larger copy OCR read; the words sit on the page's text.
#[test]
fn a_page_read_upsampled_keeps_its_own_size_in_the_searchable_pdf() {
    let env = TestEnv::generated_at(4, 150);
    let (code, report, stderr) = env.run();
    // Pages under 200 dpi need a rescan: exit 3 says so.
    assert!(code == 0 || code == 3, "{code}: {report}\n{stderr}");
    let mut checked = 0;
    for f in &env.manifest.files {
        let show = env.show(&f.dossier);
        let doc = documents(&show)
            .iter()
            .find(|d| d["path"].as_str() == Some(f.path.as_str()))
            .unwrap_or_else(|| panic!("{} is a document: {show}", f.path));
        let page = &doc["pages"][0];
        assert_eq!(page["dpi"], 150, "{doc}");
        let truth = f.pages[0].lines.join("\n");
        let text = page["text"].as_str().unwrap();
        let rate = cer(&dossier::fold::fold(&truth), &dossier::fold::fold(text));
        assert!(rate < 0.02, "{}: CER {rate:.3}\n{text}", f.path);

        let pdf = object(
            &env,
            doc["searchable_pdf"].as_str().expect("searchable PDF"),
        );
        let (w, h) = image::image_dimensions(env.intake().join(&f.path)).unwrap();
        // pdfimages -list: the header, a rule, then "page num type width height ...".
        let list = tool_output("pdfimages", &[Path::new("-list"), pdf.as_path()]);
        let row: Vec<&str> = list.lines().nth(2).unwrap().split_whitespace().collect();
        assert_eq!(
            (row[3], row[4]),
            (&*w.to_string(), &*h.to_string()),
            "{list}"
        );
        // The page is the scan's size in points, and a word of its first line lies in its
        // top part.
        let bbox = tool_output(
            "pdftotext",
            &[Path::new("-bbox"), pdf.as_path(), Path::new("-")],
        );
        let page_h = h as f64 * 72.0 / 150.0;
        assert!(bbox.contains(&format!("height=\"{page_h:.6}\"")), "{bbox}");
        let first = bbox
            .lines()
            .find(|l| l.contains("<word"))
            .unwrap_or_else(|| panic!("{bbox}"));
        let y_min: f64 = first
            .split("yMin=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(y_min < page_h / 3.0, "{first} on a page {page_h} pt high");
        checked += 1;
    }
    assert!(checked >= 4);
}

/// The languages Tesseract read a page with, as its archived hOCR records them (`lang='eng'`
/// on each paragraph), for every page of the document at `path`.
fn page_languages(env: &TestEnv, path: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(env.archive().join("index.sqlite")).unwrap();
    let mut query = conn
        .prepare(
            "SELECT p.hocr_sha256 FROM pages p JOIN documents d ON d.id = p.document_id
             WHERE d.path = ?1 ORDER BY p.page",
        )
        .unwrap();
    let hocr: Vec<String> = query
        .query_map([path], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    hocr.iter()
        .map(|sha| {
            let hocr = fs::read_to_string(object(env, sha)).unwrap();
            let mut langs: Vec<&str> = hocr
                .split("lang='")
                .skip(1)
                .filter_map(|s| s.split('\'').next())
                .collect();
            langs.dedup();
            langs.join("+")
        })
        .collect()
}

/// A company's English certificate, one of a dossier's input documents.
const CERTIFICATE: [&str; 7] = [
    "Certificate of Good Standing",
    "We hereby certify that the company named below is duly registered with this office",
    "and has filed every annual return required of it up to the date of this certificate.",
    "The company has not been struck off the register, nor is it being wound up, and no",
    "notice of its dissolution has been received by the registrar of companies.",
    "Given under my hand at the registry on the twelfth day of September.",
    "Deputy Registrar of Companies",
];

#[test]
fn an_english_document_is_read_with_the_english_model_unless_the_pipeline_says_not() {
    let env = TestEnv::generated(2);
    let (file, printed) = env.print_over_first_png(&CERTIFICATE, 120.0);
    let english = file.path;

    let (code, report, stderr) = env.run();
    assert_eq!(code, 0, "{report}\n{stderr}");
    for f in &env.manifest.files {
        let expected = if f.path == english { "eng" } else { "vie" };
        assert_eq!(page_languages(&env, &f.path), [expected], "{}", f.path);
    }
    let doc_text = |env: &TestEnv| {
        let dossier = &env
            .manifest
            .files
            .iter()
            .find(|f| f.path == english)
            .unwrap();
        let show = env.show(&dossier.dossier);
        let doc = documents(&show)
            .iter()
            .find(|d| d["path"].as_str() == Some(english.as_str()))
            .unwrap()
            .clone();
        doc["pages"][0]["text"].as_str().unwrap().to_owned()
    };
    let text = doc_text(&env);
    assert!(cer(&printed, &text) < 0.01, "{text}");

    // `[ocr] foreign_languages = ""`: every page is the main languages' reading.
    fs::remove_dir_all(env.archive()).unwrap();
    env.write_pipeline("[ocr]\nforeign_languages = \"\"\n");
    let (code, report, stderr) = env.run();
    assert_eq!(code, 0, "{report}\n{stderr}");
    assert_eq!(page_languages(&env, &english), ["vie"]);
}
