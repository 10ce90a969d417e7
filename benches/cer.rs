//! Character error rate per kind of page: dossier's OCR against the plain Tesseract CLI on the
//! same files.
//!
//!     cargo bench --bench cer            # one page per kind, a few minutes on 2 cores
//!     cargo bench --bench cer -- 3       # three pages per kind (other texts and noise)
//!
//! Renders Vietnamese pages with a real font (the sample generator's renderer) and spoils them
//! as scanners and portals do: noise, blur and JPEG artefacts at several strengths, a noisy
//! blurred low-quality JPEG form, two columns, skews of 10°–45°, black scan borders. The printed
//! text is the ground truth (a two-column page reads column by column). Each file is read
//!   (a) by dossier as `dossier run` reads it: decode, resolution, the OCR copy, an engine with
//!       page corrections (`ocr::Engine::with_corrections`, languages `vie`);
//!   (b) by `tesseract FILE - -l vie` with OMP_THREAD_LIMIT=1.
//! CER is the edit distance over the reference length, whitespace runs folded to one space,
//! both sides NFC. Prints CER per kind for both, how many pages of the kind dossier's layout
//! test judged one plain column (read as one block, Tesseract's mode 6, unless the page had
//! black scan borders), the total errors over the total reference characters, and dossier's
//! share of the CLI's errors (the goal: no kind worse, overall ≤ 0.5).

use std::path::{Path, PathBuf};
use std::time::Instant;

use dossier::decode::{self, quality};
use dossier::ocr::{self, orient};
use dossier::sample::render::{render_page, Fonts, Line, Paper, A4};
use dossier::sample::Rng;
use image::{GrayImage, ImageEncoder, Luma};

#[path = "common/cer_text.rs"]
mod cer_text;
#[path = "common/one_omp_thread.rs"]
mod one_omp_thread;
use cer_text::edits;

const DPI: u32 = 300;

const SENTENCES: &[&str] = &[
    "Căn cứ Luật Hộ tịch ngày 20 tháng 11 năm 2014 và Nghị định số 123/2015/NĐ-CP của Chính phủ.",
    "Ủy ban nhân dân phường Đông Lễ tiếp nhận hồ sơ của công dân Nguyễn Thị Hương.",
    "Người đề nghị cư trú tại số 47 đường Lê Duẩn, khu phố 3, thành phố Đông Hà, tỉnh Quảng Trị.",
    "Đề nghị cơ quan có thẩm quyền cấp giấy chứng nhận đăng ký hộ kinh doanh cho ông Trần Văn Bình.",
    "Hồ sơ gồm tờ khai, bản sao giấy tờ tùy thân và giấy chứng sinh do cơ sở y tế cấp.",
    "Thời hạn giải quyết là 05 ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ theo quy định.",
    "Tôi cam đoan những nội dung khai trên đây là đúng sự thật và chịu trách nhiệm trước pháp luật.",
    "Phí, lệ phí được nộp trực tiếp tại Bộ phận một cửa hoặc qua dịch vụ thanh toán trực tuyến.",
    "Kết quả giải quyết thủ tục hành chính được trả trực tiếp hoặc qua dịch vụ bưu chính công ích.",
    "Giấy phép xây dựng nhà ở riêng lẻ được cấp cho hộ gia đình bà Phạm Ngọc Yến tại thửa đất số 112.",
    "Số điện thoại liên hệ: 0233 3852 461; thư điện tử: motcua.dongle@quangtri.gov.vn.",
    "Ngày nộp hồ sơ: 14/03/2025; mã hồ sơ: 000.15.32.H56-250314-0042.",
    "Đối với trường hợp ủy quyền thì người được ủy quyền phải xuất trình văn bản ủy quyền hợp lệ.",
    "Cán bộ tiếp nhận kiểm tra tính đầy đủ, hợp lệ của thành phần hồ sơ và hướng dẫn bổ sung.",
    "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan có thẩm quyền của Việt Nam cấp.",
    "Quốc lộ 9, phường Đông Lương, thị xã Quảng Trị; diện tích xây dựng 96,5 mét vuông.",
];

/// A page's printed lines: the national header, a title, then body sentences.
fn page_lines(rng: &mut Rng, body: usize) -> Vec<Line> {
    let mut lines = vec![
        Line::heading("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 13.0),
        Line::heading("Độc lập - Tự do - Hạnh phúc", 13.0),
        Line::gap(),
        Line::heading("TỜ KHAI ĐĂNG KÝ HỘ KINH DOANH", 14.0),
        Line::gap(),
    ];
    for _ in 0..body {
        lines.push(Line::body(SENTENCES[rng.below(SENTENCES.len())]));
    }
    lines
}

fn render(fonts: &Fonts, rng: &mut Rng, body: usize) -> (GrayImage, String) {
    let (img, printed) = render_page(fonts, &page_lines(rng, body), A4, DPI);
    (img, printed.join("\n"))
}

/// Two columns of body text side by side on an A4 page, each with its own header.
fn two_columns(fonts: &Fonts, rng: &mut Rng) -> (GrayImage, String) {
    let column = Paper {
        width_mm: 100.0,
        height_mm: A4.height_mm,
    };
    let px = |mm: f32| (mm / 25.4 * DPI as f32).round() as u32;
    let mut page = GrayImage::from_pixel(px(A4.width_mm), px(A4.height_mm), Luma([247]));
    let mut truth = Vec::new();
    for (i, offset) in [0.0f32, 90.0].into_iter().enumerate() {
        let mut lines = vec![Line::heading(
            if i == 0 {
                "PHẦN I. THÔNG TIN"
            } else {
                "PHẦN II. CAM ĐOAN"
            },
            13.0,
        )];
        for _ in 0..14 {
            lines.push(Line::body(SENTENCES[rng.below(SENTENCES.len())]));
        }
        let (col, printed) = render_page(fonts, &lines, column, DPI);
        let x0 = px(offset);
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

/// Gaussian noise of `sigma` grey levels (Box–Muller), deterministic per `rng`.
fn noise(img: &mut GrayImage, sigma: f32, rng: &mut Rng) {
    let mut unit = || (rng.next_u64() >> 11) as f32 / (1u64 << 53) as f32;
    for p in img.pixels_mut() {
        let (u1, u2) = (unit().max(1e-7), unit());
        let n = (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos() * sigma;
        p.0[0] = (p.0[0] as f32 + n).clamp(0.0, 255.0) as u8;
    }
}

/// The page turned by `degrees` on a square of its diagonal, so no text is cut off.
fn skew(img: &GrayImage, degrees: f32) -> GrayImage {
    let (w, h) = img.dimensions();
    let side = ((w as f32).hypot(h as f32)).ceil() as u32;
    let mut square = GrayImage::from_pixel(side, side, Luma([247]));
    image::imageops::replace(
        &mut square,
        img,
        ((side - w) / 2) as i64,
        ((side - h) / 2) as i64,
    );
    orient::rotate(&square, degrees)
}

/// Black scanner-lid borders on three edges, ragged and a little noisy, with a grey shadow.
fn borders(img: &mut GrayImage, rng: &mut Rng) {
    let (w, h) = img.dimensions();
    for y in 0..h {
        let wobble = (y / 97 % 7) * 3;
        let (left, right) = (w / 18 + wobble, w - w / 25 - wobble);
        for x in 0..w {
            let top = h / 30 + (x / 113 % 5) * 4;
            let p = img.get_pixel_mut(x, y);
            if x < left || x >= right || y < top {
                p.0[0] = 15 + (rng.next_u64() % 25) as u8;
                continue;
            }
            // Distance into the paper: the shadow along the lid's edge.
            let depth = (x - left).min(right - 1 - x).min(y - top);
            if depth < 12 {
                p.0[0] = p.0[0].min((60 + depth * 15) as u8);
            }
        }
    }
}

fn png(img: &GrayImage) -> Vec<u8> {
    dossier::sample::encode(
        std::slice::from_ref(img),
        dossier::sample::FileKind::Png,
        DPI,
    )
    .expect("png")
}

fn jpeg(img: &GrayImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    enc.set_pixel_density(image::codecs::jpeg::PixelDensity::dpi(DPI as u16));
    enc.write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::L8,
    )
    .expect("jpeg");
    out
}

const KINDS: &[&str] = &[
    "clean",
    "noise σ25",
    "noise σ40",
    "blur σ1.2",
    "blur σ2",
    "jpeg q20",
    "jpeg q8",
    "noisy blurred jpeg q6",
    "two columns",
    "skew 10°",
    "skew 20°",
    "skew 35°",
    "skew 45°",
    "black borders",
    "borders, skew 3°",
];

/// Page `kind` as a file's bytes (PNG or JPEG, 300 dpi in its metadata) and its text.
fn make(kind: &str, fonts: &Fonts, rng: &mut Rng) -> (Vec<u8>, &'static str, String) {
    if kind == "two columns" {
        let (img, truth) = two_columns(fonts, rng);
        return (png(&img), "png", truth);
    }
    let (mut img, truth) = render(fonts, rng, 22);
    let out = match kind {
        "clean" => (png(&img), "png"),
        "noise σ25" | "noise σ40" => {
            noise(
                &mut img,
                if kind.ends_with("25") { 25.0 } else { 40.0 },
                rng,
            );
            (png(&img), "png")
        }
        "blur σ1.2" => (png(&image::imageops::blur(&img, 1.2)), "png"),
        "blur σ2" => (png(&image::imageops::blur(&img, 2.0)), "png"),
        "jpeg q20" => (jpeg(&img, 20), "jpg"),
        "jpeg q8" => (jpeg(&img, 8), "jpg"),
        "noisy blurred jpeg q6" => {
            noise(&mut img, 35.0, rng);
            (jpeg(&image::imageops::blur(&img, 1.4), 6), "jpg")
        }
        "black borders" => {
            borders(&mut img, rng);
            (png(&img), "png")
        }
        "borders, skew 3°" => {
            let mut img = orient::rotate(&img, 3.0);
            borders(&mut img, rng);
            (png(&img), "png")
        }
        skewed => {
            let degrees: f32 = skewed
                .trim_start_matches("skew ")
                .trim_end_matches('°')
                .parse()
                .expect("kind names its skew");
            // Alternate the direction between pages.
            let sign = if rng.below(2) == 0 { 1.0 } else { -1.0 };
            (png(&skew(&img, sign * degrees)), "png")
        }
    };
    (out.0, out.1, truth)
}

fn dossier_read(engine: &mut ocr::Engine, path: &Path) -> (String, bool) {
    let bytes = std::fs::read(path).expect("page file");
    let (_, mut pages) = decode::pages(&bytes, Default::default()).expect("decodes");
    let page = pages.next().expect("a page").expect("decodes");
    let q = quality::assess(&page.image, page.meta_dpi);
    let (image, dpi) = ocr::image_for_ocr(page.image, q.dpi);
    let read = engine.read(image, dpi).expect("reads");
    if let Some(languages) = &read.foreign_languages {
        println!(
            "note: {} judged foreign, read with {languages}",
            path.display()
        );
    }
    // What the layout test made of the page OCR saw (levelled, turned): one block or not.
    let one_block = ocr::layout::one_column(&read.image, dpi);
    (read.text.text, one_block)
}

/// What each step dossier adds before OCR costs on an ordinary page (the first file: clean,
/// when all kinds run), against the mean time dossier took to read a page: the quality checks,
/// the border pass, the skew search, the layout test and the text rectangle, which every page
/// pays.
fn steps_cost(path: &Path, mean_page_ms: f64) {
    let bytes = std::fs::read(path).expect("page file");
    let (_, mut pages) = decode::pages(&bytes, Default::default()).expect("decodes");
    let page = pages.next().expect("a page").expect("decodes").image;
    const REPS: u32 = 5;
    let time = |step: &mut dyn FnMut()| {
        let t = Instant::now();
        for _ in 0..REPS {
            step();
        }
        t.elapsed().as_secs_f64() * 1000.0 / REPS as f64
    };
    let steps = [
        (
            "quality checks",
            time(&mut || {
                std::hint::black_box(quality::assess(&page, Some(DPI)));
            }),
        ),
        (
            "black borders (with a copy of the page)",
            time(&mut || {
                let mut copy = page.clone();
                std::hint::black_box(decode::borders::whiten(&mut copy));
            }),
        ),
        (
            "skew search ±45°",
            time(&mut || {
                std::hint::black_box(orient::estimate_skew(&page));
            }),
        ),
        (
            "layout test",
            time(&mut || {
                std::hint::black_box(ocr::layout::one_column(&page, DPI));
            }),
        ),
        (
            "text rectangle",
            time(&mut || {
                std::hint::black_box(ocr::region::text_region(&page, DPI));
            }),
        ),
    ];
    let total: f64 = steps.iter().map(|s| s.1).sum();
    let list: Vec<String> = steps
        .iter()
        .map(|(n, ms)| format!("{n} {ms:.1} ms"))
        .collect();
    println!(
        "per page ({}×{} px): {}; together {total:.1} ms, {:.1}% of dossier's mean {mean_page_ms:.0} ms a page",
        page.width(),
        page.height(),
        list.join(", "),
        total * 100.0 / mean_page_ms
    );
}

fn main() {
    one_omp_thread::restart_if_needed();
    let per_kind: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1);
    // Other arguments pick kinds by a part of their name (`-- skew borders`).
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a.parse::<usize>().is_err() && !a.starts_with('-'))
        .collect();
    let fonts = Fonts::find().expect("a font with Vietnamese glyphs");
    let dir = tempfile::tempdir().expect("temp dir");
    // CER_KEEP=DIR keeps the pages, their truth and both readings there, to look at.
    let keep = std::env::var_os("CER_KEEP").map(PathBuf::from);
    let mut files: Vec<(usize, PathBuf, String)> = Vec::new();
    let started = Instant::now();
    for (k, kind) in KINDS.iter().enumerate() {
        if !only.is_empty() && !only.iter().any(|o| kind.contains(o.as_str())) {
            continue;
        }
        for n in 0..per_kind {
            let mut rng = Rng::new(0xCE5 + (k * 1000 + n) as u64);
            let (bytes, ext, truth) = make(kind, &fonts, &mut rng);
            let path = dir.path().join(format!("{k:02}-{n}.{ext}"));
            std::fs::write(&path, bytes).expect("write page");
            files.push((k, path, truth));
        }
    }
    println!(
        "{} pages ({} kinds × {per_kind}), A4 at {DPI} dpi, rendered in {:.1} s",
        files.len(),
        files.len() / per_kind,
        started.elapsed().as_secs_f64()
    );

    // The CLI on one thread, dossier on another: CER does not depend on timing.
    let cli_files: Vec<PathBuf> = files.iter().map(|f| f.1.clone()).collect();
    let cli = std::thread::spawn(move || {
        cli_files
            .iter()
            .map(|p| cer_text::tesseract_cli(p))
            .collect::<Vec<String>>()
    });
    // As `dossier run` reads by default: foreign pages re-read with `eng+vie` (none of these
    // Vietnamese pages should be judged foreign: a note names any that is).
    let mut engine = ocr::Engine::with_corrections("vie", None)
        .expect("vie model")
        .reading_foreign_pages_with("eng+vie");
    let t = Instant::now();
    let (ours, one_block): (Vec<String>, Vec<bool>) = files
        .iter()
        .map(|(_, p, _)| dossier_read(&mut engine, p))
        .unzip();
    let ours_secs = t.elapsed().as_secs_f64();
    let theirs = cli.join().expect("CLI thread");
    if let Some(keep) = &keep {
        std::fs::create_dir_all(keep).expect("CER_KEEP dir");
        for (i, (_, path, truth)) in files.iter().enumerate() {
            let name = path.file_name().expect("file name");
            std::fs::copy(path, keep.join(name)).expect("keep page");
            let stem = keep.join(name).with_extension("");
            std::fs::write(stem.with_extension("truth.txt"), truth).expect("keep");
            std::fs::write(stem.with_extension("dossier.txt"), &ours[i]).expect("keep");
            std::fs::write(stem.with_extension("cli.txt"), &theirs[i]).expect("keep");
        }
    }

    // Per kind: (dossier edits, CLI edits, reference chars); pages judged one column.
    let mut sums = vec![(0usize, 0usize, 0usize); KINDS.len()];
    let mut blocks = vec![0usize; KINDS.len()];
    let mut pages = vec![0usize; KINDS.len()];
    for (i, (k, _, truth)) in files.iter().enumerate() {
        blocks[*k] += usize::from(one_block[i]);
        pages[*k] += 1;
        let (e_ours, len) = edits(truth, &ours[i]);
        let (e_cli, _) = edits(truth, &theirs[i]);
        sums[*k].0 += e_ours;
        sums[*k].1 += e_cli;
        sums[*k].2 += len;
    }
    println!(
        "{:<24} {:>8} {:>8}  {:>6}  one block (mode 6)",
        "kind", "dossier", "CLI", "ratio"
    );
    let (mut total_ours, mut total_cli, mut total_len) = (0, 0, 0);
    let mut worse = Vec::new();
    for (k, &(o, c, len)) in sums.iter().enumerate() {
        if len == 0 {
            continue;
        }
        let (co, cc) = (o as f64 / len as f64, c as f64 / len as f64);
        let ratio = if c == 0 {
            if o == 0 {
                "=".to_owned()
            } else {
                "∞".to_owned()
            }
        } else {
            format!("{:.2}", o as f64 / c as f64)
        };
        println!(
            "{:<24} {co:>8.4} {cc:>8.4}  {ratio:>6}  {}/{}",
            KINDS[k], blocks[k], pages[k]
        );
        if co > cc + 0.002 {
            worse.push(KINDS[k]);
        }
        total_ours += o;
        total_cli += c;
        total_len += len;
    }
    println!(
        "{:<24} {:>8.4} {:>8.4}  {:>6.2}  ({total_ours} and {total_cli} edits of {total_len} characters)",
        "overall",
        total_ours as f64 / total_len as f64,
        total_cli as f64 / total_len as f64,
        total_ours as f64 / total_cli.max(1) as f64
    );
    println!(
        "dossier read {} pages in {ours_secs:.1} s (one engine, corrections on); goal: no kind worse than the CLI, overall ratio ≤ 0.50",
        files.len()
    );
    steps_cost(&files[0].1, ours_secs * 1000.0 / files.len() as f64);
    if worse.is_empty() {
        println!("no kind worse than the CLI (by more than 0.002)");
    } else {
        println!("worse than the CLI: {}", worse.join(", "));
    }
}
