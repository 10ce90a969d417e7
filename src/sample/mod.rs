//! The sample generator: realistic Vietnamese dossiers (forms with the national header, a
//! citizen's name and address, the dossier code) rendered with a real font, written as the
//! scanner would leave them, with a register, a catalog and a manifest of the printed text.
//!
//! `dossier sample --output DIR` makes the curated sample set (`samples/` was made so);
//! `--dossiers N` makes N generated dossiers for tests and benchmarks. Deterministic per seed.

pub mod render;

use std::fmt::Write as _;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{GrayImage, ImageEncoder, Luma};
use serde::Serialize;

pub use render::{Fonts, Line, Paper, RenderError, A4};

#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("{path}: {message}")]
    Write { path: PathBuf, message: String },
}

/// A procedure of the catalog, with the documents a dossier of it holds.
#[derive(Debug)]
pub struct Procedure {
    pub code: &'static str,
    pub name: &'static str,
    pub field: &'static str,
    pub inputs: &'static [&'static str],
    pub result: &'static str,
}

pub const PROCEDURES: &[Procedure] = &[
    Procedure {
        code: "1.001193",
        name: "Đăng ký khai sinh",
        field: "Hộ tịch",
        inputs: &["TỜ KHAI ĐĂNG KÝ KHAI SINH", "GIẤY CHỨNG SINH"],
        result: "GIẤY KHAI SINH",
    },
    Procedure {
        code: "1.000894",
        name: "Đăng ký kết hôn",
        field: "Hộ tịch",
        inputs: &["TỜ KHAI ĐĂNG KÝ KẾT HÔN"],
        result: "GIẤY CHỨNG NHẬN KẾT HÔN",
    },
    Procedure {
        code: "2.000815",
        name: "Chứng thực bản sao từ bản chính giấy tờ, văn bản",
        field: "Chứng thực",
        inputs: &["BẢN CHÍNH GIẤY TỜ XUẤT TRÌNH"],
        result: "BẢN SAO ĐƯỢC CHỨNG THỰC",
    },
    Procedure {
        code: "2.000720",
        name: "Đăng ký thành lập hộ kinh doanh",
        field: "Thành lập và hoạt động của hộ kinh doanh",
        inputs: &["GIẤY ĐỀ NGHỊ ĐĂNG KÝ HỘ KINH DOANH"],
        result: "GIẤY CHỨNG NHẬN ĐĂNG KÝ HỘ KINH DOANH",
    },
    Procedure {
        code: "1.009974",
        name: "Cấp giấy phép xây dựng nhà ở riêng lẻ",
        field: "Hoạt động xây dựng",
        inputs: &["ĐƠN ĐỀ NGHỊ CẤP GIẤY PHÉP XÂY DỰNG"],
        result: "GIẤY PHÉP XÂY DỰNG",
    },
];

const FAMILY: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ",
    "Ngô", "Dương",
];
const MIDDLE: &[&str] = &["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quốc"];
const GIVEN: &[&str] = &[
    "Hương", "Đức", "Anh", "Bình", "Cường", "Dũng", "Giang", "Hải", "Khánh", "Lan", "Mai", "Nam",
    "Phương", "Quân", "Thảo", "Tuấn", "Việt", "Yến",
];
const STREETS: &[&str] = &[
    "Lê Duẩn",
    "Hùng Vương",
    "Trần Hưng Đạo",
    "Lý Thường Kiệt",
    "Nguyễn Huệ",
    "Quốc lộ 9",
];
/// The wards of the reference city, as units of the register.
pub const UNITS: &[&str] = &[
    "Phường 1",
    "Phường 2",
    "Phường 3",
    "Phường 5",
    "Phường Đông Lễ",
    "Phường Đông Lương",
];

/// Deterministic pseudo-random numbers (SplitMix64): samples must be reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// How a document is written to the intake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Png,
    Jpeg,
    /// Multi-page TIFF (every page of the document in one file).
    Tiff,
}

/// What a page of a document shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PageContent {
    Form,
    Blank,
}

#[derive(Debug, Clone)]
pub struct DocumentSpec {
    pub kind: crate::intake::layout::Kind,
    pub file_name: String,
    pub title: &'static str,
    pub file: FileKind,
    pub dpi: u32,
    pub pages: Vec<PageContent>,
}

#[derive(Debug, Clone)]
pub struct DossierSpec {
    pub procedure: &'static Procedure,
    pub code: String,
    pub unit: &'static str,
    pub citizen: String,
    pub address: String,
    pub received: (i64, u32, u32),
    pub completed: Option<(i64, u32, u32)>,
    pub channel: &'static str,
    pub documents: Vec<DocumentSpec>,
}

/// What was written, for tests and benchmarks: file by file, page by page, the printed text.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub files: Vec<ManifestFile>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ManifestFile {
    pub path: String,
    pub procedure: String,
    pub dossier: String,
    pub kind: crate::intake::layout::Kind,
    pub dpi: u32,
    pub pages: Vec<ManifestPage>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ManifestPage {
    pub content: PageContent,
    pub lines: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct SampleOptions {
    /// None: the curated sample set. Some(n): n generated dossiers.
    pub dossiers: Option<usize>,
    pub seed: u64,
    pub paper: Paper,
    /// Resolution of generated dossiers (the curated set has its own mix).
    pub dpi: u32,
}

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions {
            dossiers: None,
            seed: 20240115,
            paper: A4,
            dpi: 300,
        }
    }
}

fn doc(
    kind: crate::intake::layout::Kind,
    name: &str,
    title: &'static str,
    file: FileKind,
    dpi: u32,
    pages: Vec<PageContent>,
) -> DocumentSpec {
    DocumentSpec {
        kind,
        file_name: name.to_owned(),
        title,
        file,
        dpi,
        pages,
    }
}

fn person(rng: &mut Rng) -> (String, String, &'static str) {
    let name = format!(
        "{} {} {}",
        rng.pick(FAMILY),
        rng.pick(MIDDLE),
        rng.pick(GIVEN)
    );
    let unit = UNITS[rng.below(UNITS.len())];
    let address = format!(
        "Số {}, đường {}, {unit}, thành phố Đông Hà, tỉnh Quảng Trị",
        1 + rng.below(199),
        rng.pick(STREETS)
    );
    (name, address, unit)
}

fn dossier_code(unit: &str, date: (i64, u32, u32), seq: usize) -> String {
    let agency = 1 + UNITS.iter().position(|u| *u == unit).unwrap_or(0);
    format!(
        "000.00.{agency:02}.H50-{:02}{:02}{:02}-{seq:04}",
        date.0 % 100,
        date.1,
        date.2
    )
}

/// The curated set in `samples/`: every case the nightly batch meets, small enough to OCR
/// in seconds.
pub fn curated_dossiers(seed: u64) -> Vec<DossierSpec> {
    use crate::intake::layout::Kind::{Input, Result as Res};
    use PageContent::{Blank, Form};
    let mut rng = Rng::new(seed);
    let p = |code: &str| {
        PROCEDURES
            .iter()
            .find(|p| p.code == code)
            .expect("known procedure")
    };
    let mut out = Vec::new();
    let mut add = |procedure: &'static Procedure,
                   day: u32,
                   completed: Option<u32>,
                   channel: &'static str,
                   documents: Vec<DocumentSpec>| {
        let (citizen, address, unit) = person(&mut rng);
        let received = (2024, 1, day);
        let seq = out.len() + 1;
        out.push(DossierSpec {
            procedure,
            code: dossier_code(unit, received, seq),
            unit,
            citizen,
            address,
            received,
            completed: completed.map(|d| (2024, 1, d)),
            channel,
            documents,
        });
    };
    let khai_sinh = p("1.001193");
    add(
        khai_sinh,
        15,
        Some(15),
        "direct",
        vec![
            doc(
                Input,
                "to-khai.png",
                khai_sinh.inputs[0],
                FileKind::Png,
                300,
                vec![Form],
            ),
            doc(
                Input,
                "giay-chung-sinh.jpg",
                khai_sinh.inputs[1],
                FileKind::Jpeg,
                300,
                vec![Form],
            ),
            doc(
                Res,
                "giay-khai-sinh.png",
                khai_sinh.result,
                FileKind::Png,
                300,
                vec![Form],
            ),
        ],
    );
    // Still being processed: no result expected yet; a two-page TIFF from the flatbed.
    add(
        khai_sinh,
        16,
        None,
        "online",
        vec![doc(
            Input,
            "to-khai.tif",
            khai_sinh.inputs[0],
            FileKind::Tiff,
            300,
            vec![Form, Form],
        )],
    );
    let chung_thuc = p("2.000815");
    // Scanned at 150 dpi: archived, listed for rescan.
    add(
        chung_thuc,
        17,
        Some(17),
        "direct",
        vec![
            doc(
                Input,
                "ban-chinh.png",
                chung_thuc.inputs[0],
                FileKind::Png,
                150,
                vec![Form],
            ),
            doc(
                Res,
                "ban-sao.png",
                chung_thuc.result,
                FileKind::Png,
                300,
                vec![Form],
            ),
        ],
    );
    let hkd = p("2.000720");
    // Completed, but the result was never scanned; one input page came out blank.
    add(
        hkd,
        18,
        Some(22),
        "postal",
        vec![
            doc(
                Input,
                "giay-de-nghi.png",
                hkd.inputs[0],
                FileKind::Png,
                300,
                vec![Form],
            ),
            doc(
                Input,
                "trang-trong.png",
                hkd.inputs[0],
                FileKind::Png,
                300,
                vec![Blank],
            ),
        ],
    );
    let ket_hon = p("1.000894");
    add(
        ket_hon,
        19,
        Some(19),
        "direct",
        vec![
            doc(
                Input,
                "to-khai.jpg",
                ket_hon.inputs[0],
                FileKind::Jpeg,
                300,
                vec![Form],
            ),
            doc(
                Res,
                "giay-chung-nhan.png",
                ket_hon.result,
                FileKind::Png,
                300,
                vec![Form],
            ),
        ],
    );
    // Received but never scanned: in the register only.
    add(p("1.009974"), 20, None, "online", vec![]);
    out
}

/// `n` generated dossiers cycling through the procedures: one input page each, and a result
/// page for the completed ones.
pub fn generated_dossiers(n: usize, seed: u64, dpi: u32) -> Vec<DossierSpec> {
    use crate::intake::layout::Kind::{Input, Result as Res};
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| {
            let procedure = &PROCEDURES[i % PROCEDURES.len()];
            let (citizen, address, unit) = person(&mut rng);
            let day = 1 + (i % 28) as u32;
            let month = 1 + ((i / 28) % 12) as u32;
            let received = (2024, month, day);
            let completed = (i % 4 != 3).then_some(received);
            let file = [FileKind::Png, FileKind::Jpeg, FileKind::Tiff][i % 3];
            let ext = match file {
                FileKind::Png => "png",
                FileKind::Jpeg => "jpg",
                FileKind::Tiff => "tif",
            };
            let mut documents = vec![doc(
                Input,
                &format!("thanh-phan-1.{ext}"),
                procedure.inputs[0],
                file,
                dpi,
                vec![PageContent::Form],
            )];
            if completed.is_some() {
                documents.push(doc(
                    Res,
                    "ket-qua.png",
                    procedure.result,
                    FileKind::Png,
                    dpi,
                    vec![PageContent::Form],
                ));
            }
            DossierSpec {
                procedure,
                code: dossier_code(unit, received, i + 1),
                unit,
                citizen,
                address,
                received,
                completed,
                channel: ["direct", "online", "postal"][i % 3],
                documents,
            }
        })
        .collect()
}

/// The lines printed on page `page` (1-based) of a document.
pub fn form_lines(d: &DossierSpec, title: &str, page: usize) -> Vec<Line> {
    let (y, m, day) = d.received;
    let mut lines = vec![
        Line::heading("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 13.0),
        Line::heading("Độc lập - Tự do - Hạnh phúc", 13.0),
        Line::gap(),
    ];
    if page == 1 {
        lines.push(Line::heading(title, 15.0));
        lines.push(Line::gap());
        lines.push(Line::body(format!(
            "Kính gửi: Ủy ban nhân dân {}, thành phố Đông Hà",
            d.unit
        )));
        lines.push(Line::body(format!(
            "Họ, chữ đệm, tên người yêu cầu: {}",
            d.citizen.to_uppercase()
        )));
        lines.push(Line::body(format!("Nơi cư trú: {}", d.address)));
        lines.push(Line::body(format!("Mã hồ sơ: {}", d.code)));
        lines.push(Line::body(format!(
            "Thủ tục: {} ({})",
            d.procedure.name, d.procedure.code
        )));
        lines.push(Line::body(format!("Ngày tiếp nhận: {day:02}/{m:02}/{y}")));
    } else {
        lines.push(Line::heading(format!("{title} (trang {page})"), 15.0));
        lines.push(Line::gap());
        lines.push(Line::body(format!("Người yêu cầu: {}", d.citizen)));
        lines.push(Line::body(
            "Giấy tờ kèm theo: bản sao giấy tờ tùy thân, giấy tờ chứng minh nơi cư trú.",
        ));
        lines.push(Line::body(format!("Mã hồ sơ: {}", d.code)));
    }
    lines.push(Line::gap());
    lines.push(Line::body(
        "Tôi cam đoan những nội dung khai trên đây là đúng sự thật.",
    ));
    lines.push(Line::body(format!("Đông Hà, ngày {day} tháng {m} năm {y}")));
    lines
}

/// Writes the intake tree, `register.csv`, `procedures.csv` and `manifest.json` under `out`.
pub fn generate(out: &Path, opts: &SampleOptions) -> Result<Manifest, SampleError> {
    let fonts = Fonts::find()?;
    let dossiers = match opts.dossiers {
        None => curated_dossiers(opts.seed),
        Some(n) => generated_dossiers(n, opts.seed, opts.dpi),
    };
    let mut noise = Rng::new(opts.seed ^ 0x5EED);
    let mut manifest = Manifest { files: Vec::new() };
    for d in &dossiers {
        for document in &d.documents {
            let rel = format!(
                "intake/{}/{}/{}/{}",
                d.procedure.code, d.code, document.kind, document.file_name
            );
            let mut pages = Vec::new();
            let mut truth = Vec::new();
            for (i, content) in document.pages.iter().enumerate() {
                let (img, lines) = match content {
                    PageContent::Form => render::render_page(
                        &fonts,
                        &form_lines(d, document.title, i + 1),
                        opts.paper,
                        document.dpi,
                    ),
                    PageContent::Blank => {
                        (blank_page(opts.paper, document.dpi, &mut noise), Vec::new())
                    }
                };
                pages.push(img);
                truth.push(ManifestPage {
                    content: *content,
                    lines,
                });
            }
            let path = out.join(&rel);
            let bytes = encode(&pages, document.file, document.dpi).map_err(|message| {
                SampleError::Write {
                    path: path.clone(),
                    message,
                }
            })?;
            write_file(&path, &bytes)?;
            manifest.files.push(ManifestFile {
                path: rel.trim_start_matches("intake/").to_owned(),
                procedure: d.procedure.code.to_owned(),
                dossier: d.code.clone(),
                kind: document.kind,
                dpi: document.dpi,
                pages: truth,
            });
        }
    }
    write_file(
        &out.join("register.csv"),
        register_csv(&dossiers).as_bytes(),
    )?;
    write_file(&out.join("procedures.csv"), catalog_csv().as_bytes())?;
    let json = serde_json::to_string_pretty(&manifest).expect("manifest serializes");
    write_file(&out.join("manifest.json"), json.as_bytes())?;
    Ok(manifest)
}

/// The one-stop-shop register: ISO and dd/mm/yyyy dates, channel words and national codes,
/// as exports from different offices mix them.
pub fn register_csv(dossiers: &[DossierSpec]) -> String {
    let mut csv =
        String::from("dossier_code,procedure_code,unit,received_on,due_on,completed_on,channel\n");
    for (i, d) in dossiers.iter().enumerate() {
        let date = |(y, m, day): (i64, u32, u32)| {
            if i % 2 == 0 {
                format!("{y:04}-{m:02}-{day:02}")
            } else {
                format!("{day:02}/{m:02}/{y:04}")
            }
        };
        let due = {
            let (y, m, day) = d.received;
            crate::timefmt::civil_from_days(crate::timefmt::days_from_civil(y, m, day) + 5)
        };
        let channel = if i % 3 == 2 {
            match d.channel {
                "direct" => "1",
                "online" => "2",
                _ => "3",
            }
        } else {
            d.channel
        };
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{}",
            d.code,
            d.procedure.code,
            d.unit,
            date(d.received),
            date(due),
            d.completed.map(date).unwrap_or_default(),
            channel
        );
    }
    csv
}

pub fn catalog_csv() -> String {
    let mut csv = String::from("procedure_code,name,field\n");
    for p in PROCEDURES {
        let quote = |s: &str| {
            if s.contains(',') {
                format!("\"{s}\"")
            } else {
                s.to_owned()
            }
        };
        let _ = writeln!(csv, "{},{},{}", p.code, quote(p.name), quote(p.field));
    }
    csv
}

fn blank_page(paper: Paper, dpi: u32, rng: &mut Rng) -> GrayImage {
    let px = |mm: f32| (mm / 25.4 * dpi as f32).round() as u32;
    let mut img = GrayImage::from_pixel(px(paper.width_mm), px(paper.height_mm), Luma([247]));
    // A few specks of dust, as on a real blank sheet.
    for _ in 0..30 {
        let (x, y) = (
            rng.below(img.width() as usize) as u32,
            rng.below(img.height() as usize) as u32,
        );
        img.put_pixel(x, y, Luma([60]));
    }
    img
}

/// Encodes pages as the scanner would, with their resolution in the file's metadata.
pub fn encode(pages: &[GrayImage], kind: FileKind, dpi: u32) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    match kind {
        FileKind::Png => {
            let page = pages.first().ok_or("no page")?;
            let mut enc = png::Encoder::new(&mut out, page.width(), page.height());
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::Eight);
            enc.set_compression(png::Compression::High);
            enc.set_pixel_dims(Some(png::PixelDimensions {
                xppu: (dpi as f64 / 0.0254).round() as u32,
                yppu: (dpi as f64 / 0.0254).round() as u32,
                unit: png::Unit::Meter,
            }));
            let mut writer = enc.write_header().map_err(|e| e.to_string())?;
            writer
                .write_image_data(page.as_raw())
                .map_err(|e| e.to_string())?;
            writer.finish().map_err(|e| e.to_string())?;
        }
        FileKind::Jpeg => {
            let page = pages.first().ok_or("no page")?;
            let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
            enc.set_pixel_density(image::codecs::jpeg::PixelDensity::dpi(dpi as u16));
            enc.write_image(
                page.as_raw(),
                page.width(),
                page.height(),
                image::ExtendedColorType::L8,
            )
            .map_err(|e| e.to_string())?;
        }
        FileKind::Tiff => {
            use tiff::encoder::{colortype, Compression, DeflateLevel, Rational, TiffEncoder};
            let mut cursor = Cursor::new(&mut out);
            let mut enc = TiffEncoder::new(&mut cursor)
                .map_err(|e| e.to_string())?
                .with_compression(Compression::Deflate(DeflateLevel::default()));
            for page in pages {
                let mut image = enc
                    .new_image::<colortype::Gray8>(page.width(), page.height())
                    .map_err(|e| e.to_string())?;
                image.resolution(tiff::tags::ResolutionUnit::Inch, Rational { n: dpi, d: 1 });
                image.write_data(page.as_raw()).map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(out)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), SampleError> {
    let err = |e: std::io::Error| SampleError::Write {
        path: path.to_owned(),
        message: e.to_string(),
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    std::fs::write(path, bytes).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curated_set_covers_the_cases_the_batch_meets() {
        let set = curated_dossiers(1);
        assert!(
            set.iter().any(|d| d.documents.is_empty()),
            "a dossier never scanned"
        );
        assert!(
            set.iter().any(|d| d.documents.iter().any(|x| x.dpi < 200)),
            "a low-dpi scan"
        );
        assert!(set.iter().any(|d| d
            .documents
            .iter()
            .any(|x| x.pages.contains(&PageContent::Blank))));
        assert!(
            set.iter()
                .any(|d| d.documents.iter().any(|x| x.pages.len() > 1)),
            "a multi-page file"
        );
        let codes: std::collections::HashSet<_> = set.iter().map(|d| &d.code).collect();
        assert_eq!(codes.len(), set.len(), "dossier codes are unique");
        for d in &set {
            crate::intake::layout::validate_code(&d.code).unwrap();
        }
    }

    #[test]
    fn register_mixes_date_and_channel_forms() {
        let csv = register_csv(&curated_dossiers(1));
        assert!(csv.contains("/01/2024"));
        assert!(csv.contains(",2024-01-"));
        assert!(csv
            .lines()
            .skip(1)
            .any(|l| l.ends_with(",1") || l.ends_with(",2") || l.ends_with(",3")));
        assert_eq!(csv.lines().count(), 7);
    }

    #[test]
    fn generation_is_deterministic() {
        let a: Vec<_> = generated_dossiers(7, 42, 300)
            .into_iter()
            .map(|d| (d.code, d.citizen))
            .collect();
        let b: Vec<_> = generated_dossiers(7, 42, 300)
            .into_iter()
            .map(|d| (d.code, d.citizen))
            .collect();
        assert_eq!(a, b);
    }
}
