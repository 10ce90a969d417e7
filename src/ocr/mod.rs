//! OCR with Tesseract through its C API: one [`Engine`] per worker thread, created once for
//! the whole run (loading the Vietnamese model costs about 0.15 s; a page about 0.5–1 s).

use std::ffi::CString;
use std::path::Path;

use image::GrayImage;

use crate::decode;
use crate::fold::nfc;

pub mod hocr;
pub mod language;
pub mod layout;
pub mod messages;
pub mod orient;
pub mod region;
mod tess;
pub mod version;

use tess::{Recognition, TessApi};

/// Below this mean word confidence a page may be sideways or upside down: OSD is asked.
/// Upright printed pages score 80–95; a page read at the wrong angle scores far lower.
const SUSPECT_CONFIDENCE: f32 = 70.0;

#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error(
        "cannot start Tesseract with languages {languages:?}{}: is the model installed (Debian: tesseract-ocr-{first})?",
        tessdata.as_deref().map(|t| format!(" from {t}")).unwrap_or_default()
    )]
    Init {
        languages: String,
        first: String,
        tessdata: Option<String>,
    },
    #[error("Tesseract could not take the page image: {0}")]
    Image(String),
    #[error("Tesseract failed to recognise the page")]
    Recognize,
    /// A stop signal ended the reading of the page: it has no result, and is read again by
    /// the next run.
    #[error("the page's OCR was cancelled by a stop signal")]
    Cancelled,
    #[error("Tesseract returned no {0}")]
    Output(&'static str),
}

/// What OCR made of one page.
#[derive(Debug, Clone)]
pub struct PageText {
    /// UTF-8 text, NFC.
    pub text: String,
    /// Tesseract's mean word confidence, 0–100.
    pub confidence: f32,
    pub hocr: String,
}

/// A page as read: the text, the corrections applied first, and the image OCR saw.
pub struct PageRead {
    pub text: PageText,
    /// Degrees the page was turned clockwise to stand upright (0, 90, 180, 270).
    pub turned: u32,
    /// Degrees the page was turned counterclockwise to level its lines (0 when left alone).
    pub deskewed: f32,
    /// What OCR read (turned and levelled): the searchable PDF shows this image.
    pub image: GrayImage,
    /// The black scan borders found on the page as it came (for the quality checks).
    pub borders: decode::borders::Borders,
    /// The languages that read the page when it was read as foreign, not with the main ones.
    pub foreign_languages: Option<String>,
}

pub struct Engine {
    api: TessApi,
    /// The main languages (`vie`).
    languages: String,
    tessdata: Option<std::path::PathBuf>,
    /// Asked while a page is read: true cancels it ([`OcrError::Cancelled`]).
    stop: fn() -> bool,
    /// Present when pages are corrected before OCR.
    corrections: Option<Corrections>,
    /// Present when foreign pages are read again with their own model.
    foreign: Option<Foreign>,
}

/// The orientation detector is loaded on the first page that needs it: most nights every
/// page reads well upright, and loading it costs as much as a page.
struct Corrections {
    osd: Option<orient::Osd>,
}

/// The model that re-reads foreign pages, loaded on the first: most nights have none.
struct Foreign {
    languages: String,
    api: Option<TessApi>,
}

/// Which of an engine's models reads a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Model {
    /// The pipeline's `languages`.
    Main,
    /// [`Engine::reading_foreign_pages_with`]'s.
    Foreign,
}

/// Tesseract started with `languages`' models.
fn start(languages: &str, tessdata: Option<&Path>) -> Result<TessApi, OcrError> {
    let init_error = || OcrError::Init {
        languages: languages.to_owned(),
        first: languages.split('+').next().unwrap_or("vie").to_owned(),
        tessdata: tessdata.map(|t| t.display().to_string()),
    };
    let lang = CString::new(languages).map_err(|_| init_error())?;
    let datapath = match tessdata {
        Some(p) => Some(CString::new(p.to_string_lossy().as_bytes()).map_err(|_| init_error())?),
        None => None,
    };
    let mut api = TessApi::create().ok_or_else(init_error)?;
    // Tesseract's own notes ("Invalid resolution 0 dpi", OSD's "Too few characters") go
    // to its debug file, not our log: the process-wide `debug_file` parameter.
    let _ = api.set_variable(c"debug_file", c"/dev/null");
    if !api.init(datapath.as_deref(), &lang) {
        return Err(init_error());
    }
    Ok(api)
}

impl Engine {
    /// Loads the models for `languages` (`vie`, `vie+eng`, ...).
    pub fn new(languages: &str, tessdata: Option<&Path>) -> Result<Engine, OcrError> {
        // The segmentation mode is set for each page (`recognize`): layout analysis (mode 3,
        // the `tesseract` command's default) unless the page is plainly one column. One block
        // reads a two-column page across its columns and a noisy form far worse (DOMAIN.md).
        Ok(Engine {
            api: start(languages, tessdata)?,
            languages: languages.to_owned(),
            tessdata: tessdata.map(Path::to_owned),
            stop: never,
            corrections: None,
            foreign: None,
        })
    }

    /// Pages whose reading is plainly not Vietnamese ([`language`]) are read again with
    /// `languages` (`eng`), loaded on the first such page. Only an engine whose main languages
    /// read Vietnamese (`vie`, `vie+eng`) has foreign pages: with `eng` alone every English
    /// page would be "foreign" and read twice by the same model. An empty list, or the main
    /// languages themselves, reads every page with the main languages only.
    pub fn reading_foreign_pages_with(mut self, languages: &str) -> Engine {
        let reads_vietnamese = self.languages.split('+').any(|l| l == "vie");
        let other = !languages.is_empty() && languages != self.languages;
        self.foreign = (reads_vietnamese && other).then(|| Foreign {
            languages: languages.to_owned(),
            api: None,
        });
        self
    }

    /// Pages are cancelled while Tesseract reads them once `stop` returns true (asked after
    /// each word, from the reading thread): a run's stop signal ends a long page at once.
    pub fn cancel_when(mut self, stop: fn() -> bool) -> Engine {
        self.stop = stop;
        self
    }

    /// An engine that also turns and levels pages before reading them (needs `osd`).
    pub fn with_corrections(languages: &str, tessdata: Option<&Path>) -> Result<Engine, OcrError> {
        let mut engine = Engine::new(languages, tessdata)?;
        engine.corrections = Some(Corrections { osd: None });
        Ok(engine)
    }

    /// Reads a page, then re-reads it with the foreign languages' model when the first reading
    /// is plainly not Vietnamese ([`Engine::reading_foreign_pages_with`]), keeping the foreign
    /// reading only when Tesseract is surer of it.
    pub fn read(&mut self, image: GrayImage, dpi: u32) -> Result<PageRead, OcrError> {
        let first = self.read_corrected(image, dpi)?;
        if self.foreign.is_none() || !language::Evidence::of(&first.text.text).plainly_foreign() {
            return Ok(first);
        }
        let text = self.recognize_page(Model::Foreign, &first.image, dpi, &first.borders)?;
        // The main reading stays unless the foreign one is surer: a tie changes nothing.
        if text.confidence <= first.text.confidence {
            return Ok(first);
        }
        let languages = self.foreign.as_ref().map(|f| f.languages.clone());
        Ok(PageRead {
            text,
            foreign_languages: languages,
            ..first
        })
    }

    /// The foreign languages' model, loaded on the first page that needs it.
    fn foreign_api(&mut self) -> Result<&mut TessApi, OcrError> {
        let foreign = self
            .foreign
            .as_mut()
            .expect("asked only with foreign languages set");
        let api = match foreign.api.take() {
            Some(api) => api,
            None => start(&foreign.languages, self.tessdata.as_deref())?,
        };
        Ok(foreign.api.insert(api))
    }

    /// Reads a page with the main model. With corrections: black scan borders are painted
    /// white, a skew of up to 45° is levelled and, when the text reads poorly, the page is
    /// turned upright as OSD says (kept only if it then reads better). Only OCR's copy is
    /// changed.
    fn read_corrected(&mut self, mut image: GrayImage, dpi: u32) -> Result<PageRead, OcrError> {
        if self.corrections.is_none() {
            let borders = decode::borders::measure(&image);
            let text = self.recognize_page(Model::Main, &image, dpi, &borders)?;
            return Ok(PageRead {
                text,
                turned: 0,
                deskewed: 0.0,
                image,
                borders,
                foreign_languages: None,
            });
        }
        let borders = decode::borders::whiten(&mut image);
        let (levelled, deskewed) = level(&image);
        let text = self.recognize_page(
            Model::Main,
            levelled.as_ref().unwrap_or(&image),
            dpi,
            &borders,
        )?;
        let first = PageRead {
            text,
            turned: 0,
            deskewed,
            image: levelled.unwrap_or_else(|| image.clone()),
            borders,
            foreign_languages: None,
        };
        if first.text.confidence >= SUSPECT_CONFIDENCE {
            return Ok(first);
        }
        let corrections = self.corrections.as_mut().expect("checked above");
        if corrections.osd.is_none() {
            corrections.osd = Some(orient::Osd::new(self.tessdata.as_deref())?);
        }
        let osd = corrections.osd.as_mut().expect("loaded above");
        let Some((turn, _)) = osd.upright_turn(&image, dpi).filter(|(t, _)| *t != 0) else {
            return Ok(first);
        };
        let upright = orient::turn_clockwise(&image, turn);
        let (levelled, deskewed) = level(&upright);
        let upright = levelled.unwrap_or(upright);
        let text = self.recognize_page(Model::Main, &upright, dpi, &borders)?;
        if text.confidence > first.text.confidence {
            Ok(PageRead {
                text,
                turned: turn,
                deskewed,
                image: upright,
                borders,
                foreign_languages: None,
            })
        } else {
            Ok(first)
        }
    }

    /// Recognises a page, choosing the segmentation: a page [`layout::one_column`] judges one
    /// plain column is read as one block (mode 6, about a fifth less CPU than mode 3); every
    /// other page, and a one-block reading that scores poorly (the test misjudged the page, or
    /// the page is hard to read anyway), gets Tesseract's layout analysis (mode 3), keeping
    /// whichever reading scores better. A page that came with black scan borders keeps mode 3:
    /// one block reads what is left along their edges as stray marks, and the reading of
    /// letters near them measured worse (CER 0.0036 against 0.0005).
    fn recognize_page(
        &mut self,
        model: Model,
        image: &GrayImage,
        dpi: u32,
        borders: &decode::borders::Borders,
    ) -> Result<PageText, OcrError> {
        // The rectangle Tesseract reads, once for both readings.
        let region = region::text_region(image, dpi);
        if borders.any(0.0, 0.01) || !layout::one_column(image, dpi) {
            return self.recognize_in(model, image, dpi, Segmentation::Auto, region);
        }
        let block = self.recognize_in(model, image, dpi, Segmentation::Block, region)?;
        if block.confidence >= SUSPECT_CONFIDENCE {
            return Ok(block);
        }
        let auto = self.recognize_in(model, image, dpi, Segmentation::Auto, region)?;
        Ok(if auto.confidence > block.confidence {
            auto
        } else {
            block
        })
    }

    /// Recognises one grey page scanned at `dpi`.
    pub fn recognize(
        &mut self,
        image: &GrayImage,
        dpi: u32,
        segmentation: Segmentation,
    ) -> Result<PageText, OcrError> {
        let region = region::text_region(image, dpi);
        self.recognize_in(Model::Main, image, dpi, segmentation, region)
    }

    /// [`Engine::recognize`] of only `region` of the page (the whole page when `None`); word
    /// boxes and the hOCR stay on the whole page.
    fn recognize_in(
        &mut self,
        model: Model,
        image: &GrayImage,
        dpi: u32,
        segmentation: Segmentation,
        region: Option<region::Region>,
    ) -> Result<PageText, OcrError> {
        let stop = self.stop;
        let api = match model {
            Model::Main => &mut self.api,
            Model::Foreign => self.foreign_api()?,
        };
        api.set_page_seg_mode(match segmentation {
            Segmentation::Auto => tesseract_sys::TessPageSegMode_PSM_AUTO,
            Segmentation::Block => tesseract_sys::TessPageSegMode_PSM_SINGLE_BLOCK,
        });
        let (w, h) = image.dimensions();
        api.set_grey_image(image.as_raw(), w, h)
            .map_err(OcrError::Image)?;
        // Tesseract sizes its text models by resolution; without it, it guesses and warns.
        api.set_source_resolution(dpi.clamp(70, 2400) as i32);
        if let Some(r) = region {
            api.set_rectangle(r.left, r.top, r.width, r.height);
        }
        api.recognize(stop).map_err(|e| match e {
            Recognition::Cancelled => OcrError::Cancelled,
            Recognition::Failed => OcrError::Recognize,
        })?;
        let text = api.utf8_text().ok_or(OcrError::Output("text"))?;
        let text = nfc(&text);
        let mut hocr = api.hocr_text(0).ok_or(OcrError::Output("hOCR"))?;
        if region.is_some() {
            hocr = hocr::whole_page_box(&hocr, w, h);
        }
        let confidence = api.mean_text_conf() as f32;
        Ok(PageText {
            text,
            confidence,
            hocr,
        })
    }
}

/// How Tesseract segments a page before reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segmentation {
    /// Automatic layout analysis (mode 3, the `tesseract` command's default): columns,
    /// tables, images.
    Auto,
    /// The page is one uniform block of text (mode 6): cheaper, but reads across columns.
    Block,
}

/// The default of [`Engine::cancel_when`]: pages are read to the end.
fn never() -> bool {
    false
}

/// The page levelled when its lines are off by more than a trace, and by how much. A large
/// skew is levelled on a grown canvas so no corner of the page is cut off.
fn level(image: &GrayImage) -> (Option<GrayImage>, f32) {
    match orient::estimate_skew(image) {
        Some(skew) if skew.abs() > orient::IN_PLACE_DEGREES => {
            (Some(orient::rotate_expanded(image, -skew)), -skew)
        }
        Some(skew) if skew.abs() >= orient::MIN_DESKEW_DEGREES => {
            (Some(orient::rotate(image, -skew)), -skew)
        }
        _ => (None, 0.0),
    }
}

/// Above this resolution a page carries more pixels than OCR uses: it is downsampled.
pub const OCR_MAX_DPI: u32 = 400;
/// The resolution downsampled pages are recognised at.
pub const OCR_TARGET_DPI: u32 = 300;

/// Below this resolution a page is upsampled for OCR.
pub const OCR_MIN_DPI: u32 = 200;
/// The most pixels an upsampled page may have: A3 at 300 dpi. A larger page "at" a low
/// resolution more likely carries a wrong resolution tag (a camera's 72-dpi default) than
/// small print: its pixels are read as they are.
const MAX_UPSAMPLED_PIXELS: u64 = 4961 * 3508;

/// The image OCR sees: pages scanned far above what recognition needs (over 400 dpi) are
/// downsampled to 300 dpi, which is as accurate and several times faster; pages below 200 dpi
/// are upsampled to 300 dpi (bilinear), which Tesseract reads with far fewer errors (a
/// 150-dpi book page: CER 0.144 → 0.095; generated forms at 100 dpi: 0.0055 → 0.0007).
/// Only OCR sees the resampled copy (the searchable PDF shows the page at its own size,
/// `pipeline::searchable`); the original is archived untouched.
pub fn image_for_ocr(image: GrayImage, dpi: u32) -> (GrayImage, u32) {
    if (1..OCR_MIN_DPI).contains(&dpi) {
        let scale = OCR_TARGET_DPI as f64 / dpi as f64;
        let (w, h) = image.dimensions();
        let (nw, nh) = (
            (w as f64 * scale).round() as u32,
            (h as f64 * scale).round() as u32,
        );
        if u64::from(nw) * u64::from(nh) <= MAX_UPSAMPLED_PIXELS {
            return (decode::pixels::upsample(&image, nw, nh), OCR_TARGET_DPI);
        }
        return (image, dpi);
    }
    if dpi <= OCR_MAX_DPI {
        return (image, dpi);
    }
    let scale = OCR_TARGET_DPI as f64 / dpi as f64;
    let (w, h) = image.dimensions();
    let (nw, nh) = (
        ((w as f64 * scale).round() as u32).max(1),
        ((h as f64 * scale).round() as u32).max(1),
    );
    // A box average straight into the smaller page: `imageops::resize` would first build a
    // 16-bytes-per-pixel intermediate (400 MB for a 10000×10000 scan).
    let small = image::imageops::thumbnail(&image, nw, nh);
    (small, OCR_TARGET_DPI)
}

/// libgomp (linked by Debian's libtesseract) sizes its thread pool from `OMP_THREAD_LIMIT`
/// when the library loads, so the variable must be in the environment before the process
/// starts: on a 2-core machine, OpenMP threads inside each engine make a page 4–5× slower.
/// Returns true when the caller should re-execute itself with the variable set.
pub fn needs_omp_reexec() -> bool {
    std::env::var_os("OMP_THREAD_LIMIT").is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::render::{render_page, Fonts, Line, Paper};

    /// Four lines of text, rendered on a strip of paper.
    fn strip() -> GrayImage {
        let fonts = Fonts::find().expect("fonts");
        let lines: Vec<Line> = (0..4)
            .map(|i| Line::body(format!("Mục {i}: giấy chứng nhận đăng ký hộ kinh doanh")))
            .collect();
        let paper = Paper {
            width_mm: 150.0,
            height_mm: 60.0,
        };
        render_page(&fonts, &lines, paper, 300).0
    }

    #[test]
    fn a_page_read_in_its_text_region_gives_boxes_on_the_whole_page() {
        let strip = strip();
        // The same strip low on the right of an A4 page: Tesseract is given the region only.
        let (dx, dy) = (700u32, 2300u32);
        let mut page = GrayImage::from_pixel(2480, 3508, image::Luma([255]));
        image::imageops::replace(&mut page, &strip, dx.into(), dy.into());
        let region = region::text_region(&page, 300).expect("a region");
        assert!(region.left >= dx && region.top >= dy, "{region:?}");

        let mut engine = Engine::new("vie", None).expect("vie model");
        let alone = engine
            .recognize(&strip, 300, Segmentation::Block)
            .expect("reads");
        let placed = engine
            .recognize(&page, 300, Segmentation::Block)
            .expect("reads");
        assert_eq!(placed.text, alone.text);
        assert!(
            placed.text.contains("Mục 3: giấy chứng nhận"),
            "{}",
            placed.text
        );
        assert!(
            placed.hocr.contains("bbox 0 0 2480 3508;"),
            "{}",
            placed.hocr
        );
        let (a, p) = (hocr::words(&alone.hocr), hocr::words(&placed.hocr));
        assert_eq!(a.len(), p.len());
        for (a, p) in a.iter().zip(&p) {
            let moved = [
                a.bbox[0] + dx,
                a.bbox[1] + dy,
                a.bbox[2] + dx,
                a.bbox[3] + dy,
            ];
            assert!(
                moved.iter().zip(p.bbox).all(|(m, p)| m.abs_diff(p) <= 2),
                "{} at {:?}, alone at {:?}",
                p.text,
                p.bbox,
                a.bbox
            );
        }
    }

    /// An English letter, as a foreign document in a dossier holds one.
    const ENGLISH_LETTER: [&str; 8] = [
        "The Embassy certifies that the birth certificate attached to this letter was",
        "issued by the registry office of the city of Melbourne on the fourth of March,",
        "and that the signature and the seal which appear on it are those of the officer",
        "who was in charge of the register at that time. This letter does not certify",
        "the content of the document itself, which remains the responsibility of the",
        "issuing authority. Please contact the consular section with any question about",
        "this legalisation, quoting the reference written at the top of the first page.",
        "With our thanks for your attention and cooperation in this matter.",
    ];

    /// `lines` printed at 300 dpi on paper of `width_mm` × `height_mm`.
    fn printed<'a>(
        lines: impl IntoIterator<Item = &'a str>,
        width_mm: f32,
        height_mm: f32,
    ) -> GrayImage {
        let fonts = Fonts::find().expect("fonts");
        let lines: Vec<Line> = lines.into_iter().map(Line::body).collect();
        let paper = Paper {
            width_mm,
            height_mm,
        };
        render_page(&fonts, &lines, paper, 300).0
    }

    fn letter_page() -> GrayImage {
        printed(ENGLISH_LETTER, 190.0, 80.0)
    }

    #[test]
    fn a_foreign_page_is_read_again_with_its_own_model_and_a_vietnamese_one_is_not() {
        let mut engine = Engine::new("vie", None)
            .expect("vie model")
            .reading_foreign_pages_with("eng");
        let letter = engine.read(letter_page(), 300).expect("reads");
        assert_eq!(letter.foreign_languages.as_deref(), Some("eng"));
        assert!(
            letter.text.hocr.contains("lang='eng'"),
            "{}",
            letter.text.hocr
        );
        assert!(!letter.text.hocr.contains("lang='vie'"));
        assert!(
            letter
                .text
                .text
                .contains("registry office of the city of Melbourne"),
            "{}",
            letter.text.text
        );

        // Vietnamese after English: the main model reads it, as before any foreign page.
        let form = engine.read(strip(), 300).expect("reads");
        assert_eq!(form.foreign_languages, None);
        assert!(form.text.hocr.contains("lang='vie'"));
        assert!(
            form.text.text.contains("Mục 3: giấy chứng nhận"),
            "{}",
            form.text.text
        );

        // Without foreign languages the letter is the main model's.
        let mut plain = Engine::new("vie", None).expect("vie model");
        let letter = plain.read(letter_page(), 300).expect("reads");
        assert_eq!(letter.foreign_languages, None);
        assert!(letter.text.hocr.contains("lang='vie'"));
    }

    /// A missing foreign model fails the foreign page with the model named, and only that.
    #[test]
    fn a_missing_foreign_model_fails_only_the_foreign_page() {
        let mut engine = Engine::new("vie", None)
            .expect("vie model")
            .reading_foreign_pages_with("xyz");
        assert!(engine.read(strip(), 300).is_ok());
        let err = engine.read(letter_page(), 300).err().expect("no xyz model");
        assert!(err.to_string().contains("tesseract-ocr-xyz"), "{err}");
    }

    /// A pipeline whose main languages are already the foreign ones (`languages = "eng"`, the
    /// default `foreign_languages = "eng"`) reads every page once: a second reading with the
    /// same model can only cost the time of a page, and the page is not "foreign" to it.
    #[test]
    fn a_page_is_not_read_again_with_the_model_that_already_read_it() {
        let mut engine = Engine::new("eng", None)
            .expect("eng model")
            .reading_foreign_pages_with("eng");
        let letter = engine.read(letter_page(), 300).expect("reads");
        assert_eq!(
            letter.foreign_languages, None,
            "read twice with eng: {}",
            letter.text.text
        );
    }

    /// Characters' edit distance (Levenshtein), for comparing two readings of a page.
    fn edits(a: &str, b: &str) -> usize {
        let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        let (a, b): (Vec<char>, Vec<char>) = (norm(a).chars().collect(), norm(b).chars().collect());
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.iter().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let cur = row[j + 1];
                row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
                prev = cur;
            }
        }
        row[b.len()]
    }

    /// A French civil-status extract, as a dossier of a Vietnamese born in France holds one.
    const FRENCH_EXTRACT: [&str; 6] = [
        "Le présent acte de naissance a été délivré par l'officier de l'état civil de la",
        "ville de Lyon, à la demande de l'intéressée, pour servir et valoir ce que de droit.",
        "Il certifie que l'enfant est né le trois février à l'hôpital de la Croix-Rousse,",
        "et que la déclaration a été faite par le père, qui a signé avec nous après lecture.",
        "Fait à Lyon, le cinq février, sous le sceau de la mairie. Mention marginale: néant.",
        "Extrait délivré conformément aux règles en vigueur, à l'exclusion de toute autre.",
    ];

    /// A French page is "plainly foreign" to the test, but the English model has no à, è or
    /// ô: its reading, which Tesseract is surer of, drops the accents the Vietnamese model
    /// read ("Fait a Lyon", "le pére", "l'hdpital"). The re-read must not make a page worse.
    #[test]
    fn a_french_page_keeps_the_accents_the_vietnamese_model_read() {
        let page = printed(FRENCH_EXTRACT, 190.0, 80.0);
        let truth = FRENCH_EXTRACT.join("\n");
        let vie = Engine::new("vie", None)
            .expect("vie model")
            .read(page.clone(), 300)
            .expect("reads");
        let read = Engine::new("vie", None)
            .expect("vie model")
            .reading_foreign_pages_with("eng")
            .read(page, 300)
            .expect("reads");
        let (before, after) = (
            edits(&truth, &vie.text.text),
            edits(&truth, &read.text.text),
        );
        let graves = |t: &str| t.matches("à ").count();
        assert!(
            after <= before && graves(&read.text.text) >= graves(&vie.text.text),
            "{before} edits ({} × 'à') read with vie, {after} ({} × 'à') with {:?}:\n{}",
            graves(&vie.text.text),
            graves(&read.text.text),
            read.foreign_languages,
            read.text.text
        );
    }

    /// An English document naming Vietnamese people (an employer's letter, a legalisation):
    /// the Vietnamese model reads the names, the English one alone cannot ("Nguyén", "Tran Van
    /// Duc"). `eng+vie` (the default) gives each word the English model is unsure of to the
    /// Vietnamese one.
    const ENGLISH_LETTER_WITH_NAMES: [&str; 9] = [
        "To whom it may concern. We confirm that Nguyễn Thị Hồng Nhung, holder of the",
        "passport issued in Thừa Thiên Huế, has been employed by our company as a senior",
        "accountant since the first of June and that she is still employed by us today.",
        "Her salary is paid every month into her bank account, and the company has paid",
        "every contribution required of it by the law of the state where she works. This",
        "letter is given at her request, so that she may present it to the authorities in",
        "support of her application, and for no other purpose. Her husband, Trần Văn Đức,",
        "is named in the application as her spouse. Please contact our personnel office",
        "with any question about this letter, quoting the reference at the top of the page.",
    ];

    #[test]
    fn an_english_page_keeps_the_vietnamese_names_it_names() {
        let page = printed(ENGLISH_LETTER_WITH_NAMES, 190.0, 90.0);
        let names = ["Nguyễn Thị Hồng Nhung", "Thừa Thiên Huế", "Trần Văn Đức"];
        // An English letter: it is read again.
        // The Vietnamese model alone reads every name.
        let vie = Engine::new("vie", None)
            .expect("vie model")
            .read(page.clone(), 300)
            .expect("reads");
        for name in names {
            assert!(vie.text.text.contains(name), "{name}:\n{}", vie.text.text);
        }
        let mut engine = Engine::new("vie", None)
            .expect("vie model")
            .reading_foreign_pages_with("eng+vie");
        let read = engine.read(page, 300).expect("reads");
        assert_eq!(read.foreign_languages.as_deref(), Some("eng+vie"));
        // Not every mark survives: the English model is sure enough of "Thi" and "Thién Hué"
        // (Tesseract's choice per word, not dossier's; docs/configuration.md says so). The
        // names it is unsure of keep all of theirs.
        for name in ["Nguyễn", "Hồng Nhung", "Trần Văn Đức"] {
            assert!(
                read.text.text.contains(name),
                "{name} not in the reading by {:?}:\n{}",
                read.foreign_languages,
                read.text.text
            );
        }
    }

    /// A Vietnamese form filled in by a foreigner in English (a visa application): most of
    /// its words are the applicant's English, but its labels are Vietnamese.
    const VISA_FORM: &str = include_str!("../../tests/common/visa_form.txt");

    /// The form is "plainly foreign" to the test (34 of 147 words marked) and the English
    /// model's reading replaces the Vietnamese one: "TO KHAI DE NGHI CAP THI THUC", "H6 chiéu
    /// sé", "Nguoi bao lanh", "Tré em di cung": the labels an officer searches by are gone.
    #[test]
    fn a_vietnamese_form_filled_in_english_keeps_its_vietnamese_labels() {
        let page = printed(VISA_FORM.lines(), 210.0, 200.0);
        let labels = [
            "TỜ KHAI ĐỀ NGHỊ CẤP THỊ THỰC",
            "Hộ chiếu số",
            "Mục đích nhập cảnh",
            "Người bảo lãnh",
            "Trẻ em đi cùng",
        ];
        // The Vietnamese model alone reads every label.
        let vie = Engine::new("vie", None)
            .expect("vie model")
            .read(page.clone(), 300)
            .expect("reads");
        for label in labels {
            assert!(vie.text.text.contains(label), "{label}:\n{}", vie.text.text);
        }
        let read = Engine::new("vie", None)
            .expect("vie model")
            .reading_foreign_pages_with("eng")
            .read(page, 300)
            .expect("reads");
        for label in labels {
            assert!(
                read.text.text.contains(label),
                "{label} not in the reading by {:?}:\n{}",
                read.foreign_languages,
                read.text.text
            );
        }
    }

    #[test]
    fn pages_below_200_dpi_are_upsampled_unless_they_would_pass_a3() {
        let (img, dpi) = image_for_ocr(GrayImage::new(1240, 1754), 150);
        assert_eq!((img.dimensions(), dpi), ((2480, 3508), 300));
        let (img, dpi) = image_for_ocr(GrayImage::new(827, 1169), 100);
        assert_eq!((img.dimensions(), dpi), ((2481, 3507), 300));
        let (img, dpi) = image_for_ocr(GrayImage::new(1654, 2339), 200);
        assert_eq!((img.dimensions(), dpi), ((1654, 2339), 200));
        // An A4 scan at 300 dpi tagged 72 dpi: 875 mm wide "at" 72 dpi, read as it is.
        let (img, dpi) = image_for_ocr(GrayImage::new(2480, 3508), 72);
        assert_eq!((img.dimensions(), dpi), ((2480, 3508), 72));
    }

    #[test]
    fn a_dark_card_alone_on_a_page_reads_as_the_whole_page_does() {
        // The strip's paper turned to a dark card's grey (an ID card's photocopy), alone on A4:
        // a tenth of the page but most of the rectangle around it, which Tesseract would
        // threshold as a negative.
        let strip = strip();
        let card = GrayImage::from_fn(strip.width(), strip.height(), |x, y| {
            let p = strip.get_pixel(x, y).0[0];
            image::Luma([if p > 200 { 110 } else { p.min(110) / 4 }])
        });
        let mut page = GrayImage::from_pixel(2480, 3508, image::Luma([245]));
        image::imageops::replace(&mut page, &card, 400, 500);
        // The same page with a dot in two corners: nothing to cut, Tesseract reads it whole.
        let mut whole = page.clone();
        whole.put_pixel(2, 2, image::Luma([0]));
        whole.put_pixel(2477, 3505, image::Luma([0]));
        assert_eq!(region::text_region(&whole, 300), None);
        let mut engine = Engine::new("vie", None).expect("vie model");
        for segmentation in [Segmentation::Block, Segmentation::Auto] {
            let cut = engine.recognize(&page, 300, segmentation).expect("reads");
            let read_whole = engine.recognize(&whole, 300, segmentation).expect("reads");
            assert_eq!(
                (cut.text.trim(), cut.confidence),
                (read_whole.text.trim(), read_whole.confidence),
                "{segmentation:?}"
            );
        }
    }

    #[test]
    fn lines_from_edge_to_edge_of_a_narrow_page_are_read() {
        // The strip's lines run off both sides of a page 900 pixels wide, high on it: the
        // rectangle around them would be as wide as the page, and Tesseract read it as "II".
        let strip = strip();
        let mut page = GrayImage::from_pixel(900, 3508, image::Luma([245]));
        image::imageops::replace(&mut page, &strip, -250, 0);
        let mut engine = Engine::new("vie", None).expect("vie model");
        let read = engine
            .recognize(&page, 300, Segmentation::Block)
            .expect("reads");
        assert!(
            read.text.contains("Mục 1: giấy chứng nhận"),
            "{}",
            read.text
        );
    }

    #[test]
    fn only_pages_above_400_dpi_are_downsampled() {
        let (img, dpi) = image_for_ocr(GrayImage::new(3508, 4961), 600);
        assert_eq!((img.dimensions(), dpi), ((1754, 2481), 300));
        let (img, dpi) = image_for_ocr(GrayImage::new(2480, 3508), 300);
        assert_eq!((img.dimensions(), dpi), ((2480, 3508), 300));
        let (img, dpi) = image_for_ocr(GrayImage::new(3307, 4677), 400);
        assert_eq!((img.dimensions(), dpi), ((3307, 4677), 400));
    }
}
