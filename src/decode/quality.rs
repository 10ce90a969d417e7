//! Page quality as SPEC.md counts it: the page decodes whole, is not blank, has at least
//! `min_dpi`, is at least 50 mm on each side (smaller is a thumbnail or a false resolution tag),
//! and is legible: when OCR finds words, their mean confidence is at least `min_confidence`.
//! Each failed check is a reason of its own.

use image::GrayImage;
use serde::Serialize;

/// A4 long side in inches: used to estimate resolution when the file carries none.
const A4_LONG_SIDE_INCHES: f64 = 297.0 / 25.4;

/// Below this share of ink pixels (inside the margins) a page counts as blank. One short line of
/// 13 pt text on A4 is about 0.09%; scanner speckle stays well under 0.01%.
const BLANK_INK_RATIO: f64 = 0.0003;

/// The smallest side a page may have, in millimetres: an ID card is 86 × 54 mm.
pub const MIN_SIDE_MM: f64 = 50.0;

/// The default `[quality] min_confidence`. Measured with Tesseract 5.3 (`vie`, PSM 3) on pages
/// rendered for it (README, "Quality checks"): clean and mildly degraded forms read at a mean
/// word confidence of 96, a form blurred by a 4-pixel Gaussian at 82, the same form with every
/// word's letters scrambled at 60, and a 1-bit scan with its bits reversed (TIFF FillOrder 2
/// read the wrong way) at 11. 70 keeps every real page and fails the garbled ones.
pub const DEFAULT_MIN_CONFIDENCE: f32 = 70.0;

/// The thresholds a page is held to (`[quality]` in the pipeline file).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    pub min_dpi: u32,
    pub min_confidence: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DpiSource {
    Metadata,
    EstimatedA4,
    /// A PDF page without a scanned image: resolution does not apply.
    NotScanned,
}

impl DpiSource {
    pub fn as_str(self) -> &'static str {
        match self {
            DpiSource::Metadata => "metadata",
            DpiSource::EstimatedA4 => "estimated_a4",
            DpiSource::NotScanned => "not_scanned",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PageQuality {
    pub dpi: u32,
    pub dpi_source: DpiSource,
    pub blank: bool,
    /// Share of ink pixels inside the margins, 0..1.
    pub ink_ratio: f64,
    /// The page's size on paper (pixels ÷ dpi), width and height in millimetres; 0 for a
    /// page that was not scanned.
    pub size_mm: (f64, f64),
    /// The file ends before the image does (a cut-off transfer): what decoded is not the page.
    pub truncated: bool,
    /// The scan shows a black band along an edge (the lid or the glass past the paper), set
    /// when OCR measures the page ([`crate::decode::borders`]).
    pub black_border: bool,
    /// The ink's edges are spread (a page that moved, a scanner out of focus): see
    /// [`crate::decode::sharpness`].
    pub blurred: bool,
}

impl PageQuality {
    /// Why this page's image fails quality, in the words of the coverage report (empty: it
    /// passes). Legibility, which needs the OCR reading, is [`legibility`].
    pub fn reasons(&self, rules: &Rules) -> Vec<String> {
        let mut reasons = Vec::new();
        if self.truncated {
            // What decoded of a cut-off file is mostly filler: not a blank page.
            reasons.push("truncated file: the image ends early".to_owned());
        } else if self.blank {
            reasons.push("blank page".to_owned());
        }
        let scanned = self.dpi_source != DpiSource::NotScanned;
        if self.dpi < rules.min_dpi && scanned {
            let how = match self.dpi_source {
                DpiSource::EstimatedA4 => " (estimated from the pixel size as A4)",
                _ => "",
            };
            reasons.push(format!(
                "below {} dpi: {} dpi{how}",
                rules.min_dpi, self.dpi
            ));
        }
        let (w, h) = self.size_mm;
        if scanned && (w < MIN_SIDE_MM || h < MIN_SIDE_MM) {
            reasons.push(format!(
                "smaller than {MIN_SIDE_MM:.0} mm a side: {w:.0} × {h:.0} mm at {} dpi",
                self.dpi
            ));
        }
        if self.black_border {
            reasons.push("black scan border along an edge".to_owned());
        }
        if self.blurred {
            reasons.push("blurred: the ink's edges are spread".to_owned());
        }
        reasons
    }
}

/// A band at least this deep (share of the page across the edge: 1.5% is 3 mm on A4's short
/// side) along at least this share of an edge is a black scan border worth a rescan. The
/// renders of `benches/cer.rs` and the border tests: lid bands of 2–8% along whole edges are
/// caught; clean pages, text near the edge and a dark photograph inside the page are not.
pub const BORDER_DEPTH: f32 = 0.015;
/// Below this sharpness ([`crate::decode::sharpness`]) a page is blurred. Measured on a
/// rendered form at 300 dpi: crisp 0.70; Gaussian blur of 1 px 0.35, 2 px 0.23, 3 px 0.16.
/// Pages blurred by 2 px still OCR well (legibility judges that apart), so the flag is kept
/// for what a person sees as blurred: about 2.5 px and more.
pub const BLUR_SHARPNESS: f32 = 0.2;
pub const BORDER_COVERED: f32 = 0.5;

/// Why a page's OCR reading makes it illegible: words found whose mean confidence is below
/// `min_confidence`. A page without words, or read from a PDF's own text layer, passes.
pub fn legibility(confidence: Option<f32>, text: &str, rules: &Rules) -> Option<String> {
    let confidence = confidence?;
    let has_words = text.chars().any(char::is_alphanumeric);
    (has_words && confidence < rules.min_confidence).then(|| {
        format!(
            "illegible: OCR confidence {confidence:.0} below {:.0}",
            rules.min_confidence
        )
    })
}

pub use super::truncation::ends_early;

/// A page's size on paper in millimetres at `dpi`.
fn size_mm(width: u32, height: u32, dpi: u32) -> (f64, f64) {
    if dpi == 0 {
        return (0.0, 0.0);
    }
    let mm = |px: u32| px as f64 / dpi as f64 * 25.4;
    (mm(width), mm(height))
}

/// Resolution: from metadata when the file has it, else estimated from the pixel size as A4.
pub fn resolution(width: u32, height: u32, meta_dpi: Option<u32>) -> (u32, DpiSource) {
    match meta_dpi.filter(|d| *d > 0) {
        Some(d) => (d, DpiSource::Metadata),
        None => {
            let long = width.max(height) as f64;
            (
                (long / A4_LONG_SIDE_INCHES).round() as u32,
                DpiSource::EstimatedA4,
            )
        }
    }
}

/// The quality of a PDF page that has text but no scanned image.
pub fn not_scanned() -> PageQuality {
    PageQuality {
        dpi: 0,
        dpi_source: DpiSource::NotScanned,
        blank: false,
        ink_ratio: 0.0,
        size_mm: (0.0, 0.0),
        truncated: false,
        black_border: false,
        blurred: false,
    }
}

pub fn assess(image: &GrayImage, meta_dpi: Option<u32>) -> PageQuality {
    let (dpi, dpi_source) = resolution(image.width(), image.height(), meta_dpi);
    let levels = super::pixels::margin_histogram(image);
    let ink_ratio = ink_ratio(&levels);
    let blank = ink_ratio < BLANK_INK_RATIO;
    let blurred = !blank
        && super::sharpness::sharpness_with(image, dpi, &levels)
            .is_some_and(|s| s < BLUR_SHARPNESS);
    PageQuality {
        dpi,
        dpi_source,
        blank,
        ink_ratio,
        size_mm: size_mm(image.width(), image.height(), dpi),
        truncated: false,
        black_border: false,
        blurred,
    }
}

/// Share of pixels clearly darker than the paper, inside the margins (their `histogram`). The
/// paper level is taken from the histogram (90th percentile), so grey or yellowed paper is not
/// ink.
fn ink_ratio(histogram: &[u64; 256]) -> f64 {
    let total: u64 = histogram.iter().sum();
    if total == 0 {
        return 0.0;
    }
    let mut seen = 0;
    let mut paper = 255usize;
    for (level, count) in histogram.iter().enumerate() {
        seen += count;
        if seen * 10 >= total * 9 {
            paper = level;
            break;
        }
    }
    // Ink: darker than 60% of the paper level (a dark page has no paper to speak of).
    let threshold = (paper as f64 * 0.6) as usize;
    let ink: u64 = histogram[..threshold].iter().sum();
    ink as f64 / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    fn page(w: u32, h: u32) -> GrayImage {
        GrayImage::from_pixel(w, h, Luma([250]))
    }

    fn draw_bar(img: &mut GrayImage, x: u32, y: u32, w: u32, h: u32, v: u8) {
        for yy in y..y + h {
            for xx in x..x + w {
                img.put_pixel(xx, yy, Luma([v]));
            }
        }
    }

    #[test]
    fn white_and_speckled_pages_are_blank() {
        let mut img = page(1240, 1754);
        assert!(assess(&img, Some(150)).blank);
        // 40 isolated specks of dust: far below a line of text.
        for i in 0..40 {
            img.put_pixel(100 + i * 25, 300 + i * 30, Luma([0]));
        }
        let q = assess(&img, Some(150));
        assert!(q.blank, "ink ratio {}", q.ink_ratio);
    }

    #[test]
    fn a_single_line_of_text_is_not_blank() {
        let mut img = page(2480, 3508);
        // a 1000 × 50 px line box at ~12% ink ≈ one short line of 13 pt text at 300 dpi
        for i in 0..100 {
            draw_bar(&mut img, 300 + i * 10, 600, 3, 40, 20);
        }
        let q = assess(&img, Some(300));
        assert!(!q.blank, "ink ratio {}", q.ink_ratio);
    }

    #[test]
    fn grey_paper_is_not_ink() {
        let mut img = GrayImage::from_pixel(800, 1100, Luma([170]));
        assert!(assess(&img, None).blank);
        draw_bar(&mut img, 100, 200, 600, 40, 30);
        assert!(!assess(&img, None).blank);
    }

    #[test]
    fn dpi_comes_from_metadata_or_a4_estimate() {
        let q = assess(&page(2480, 3508), None);
        assert_eq!((q.dpi, q.dpi_source), (300, DpiSource::EstimatedA4));
        let q = assess(&page(1240, 1754), None);
        assert_eq!(q.dpi, 150);
        assert!(q
            .reasons(&rules(200))
            .iter()
            .any(|r| r.starts_with("below 200 dpi")));
        let q = assess(&page(1240, 1754), Some(400));
        assert_eq!((q.dpi, q.dpi_source), (400, DpiSource::Metadata));
        // landscape scans estimate from the long side too
        assert_eq!(resolution(3508, 2480, None).0, 300);
        assert_eq!(resolution(3508, 2480, Some(0)).1, DpiSource::EstimatedA4);
    }

    fn rules(min_dpi: u32) -> Rules {
        Rules {
            min_dpi,
            min_confidence: DEFAULT_MIN_CONFIDENCE,
        }
    }

    #[test]
    fn reasons_list_every_failure() {
        let q = PageQuality {
            dpi: 150,
            dpi_source: DpiSource::Metadata,
            blank: true,
            ink_ratio: 0.0,
            size_mm: (210.0, 297.0),
            truncated: false,
            black_border: false,
            blurred: false,
        };
        assert_eq!(
            q.reasons(&rules(200)),
            vec!["blank page", "below 200 dpi: 150 dpi"]
        );
        assert!(q.reasons(&rules(100)).len() == 1);
    }

    #[test]
    fn thumbnails_and_false_resolution_tags_are_smaller_than_50_mm() {
        // A 310 × 206 thumbnail tagged 600 dpi: 13 × 9 mm.
        let mut thumbnail = page(310, 206);
        draw_bar(&mut thumbnail, 20, 80, 260, 40, 20);
        let q = assess(&thumbnail, Some(600));
        let reasons = q.reasons(&rules(200));
        assert_eq!(
            reasons,
            vec!["smaller than 50 mm a side: 13 × 9 mm at 600 dpi"]
        );
        // An A4 page claiming 25,400 dpi is 2 × 3 mm.
        let q = assess(&page(2480, 3508), Some(25_400));
        let reasons = q.reasons(&rules(200));
        assert!(reasons
            .iter()
            .any(|r| r.starts_with("smaller than 50 mm a side: 2 × 4 mm")));
        // An ID card scanned at 300 dpi (86 × 54 mm) is large enough.
        let q = assess(&page(1016, 638), Some(300));
        assert!(q.size_mm.1 > 53.9 && q.size_mm.1 < 54.1, "{:?}", q.size_mm);
        assert!(q.reasons(&rules(200)).iter().all(|r| !r.contains("50 mm")));
    }

    #[test]
    fn garbled_words_are_illegible_but_no_words_or_a_text_layer_pass() {
        let r = rules(200);
        assert_eq!(
            legibility(Some(13.4), "Ằ1 xq", &r).as_deref(),
            Some("illegible: OCR confidence 13 below 70")
        );
        assert!(legibility(Some(60.0), "ừqặ ỵbđ", &r).is_some());
        assert_eq!(legibility(Some(82.0), "GIẤY KHAI SINH", &r), None);
        assert_eq!(legibility(Some(0.0), "  \n", &r), None, "no words found");
        assert_eq!(legibility(None, "text layer", &r), None);
    }

    #[test]
    fn a_cut_off_jpeg_or_png_is_truncated_not_blank() {
        let mut jpeg = Vec::new();
        image::DynamicImage::ImageLuma8(page(64, 64))
            .write_to(
                &mut std::io::Cursor::new(&mut jpeg),
                image::ImageFormat::Jpeg,
            )
            .unwrap();
        let mut png = Vec::new();
        image::DynamicImage::ImageLuma8(page(64, 64))
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        assert!(!ends_early(&jpeg) && !ends_early(&png));
        let mut padded = jpeg.clone();
        padded.extend_from_slice(b"\0\0\n");
        assert!(!ends_early(&padded), "padding after the end is not a cut");
        assert!(ends_early(&jpeg[..jpeg.len() - 10]));
        assert!(ends_early(&png[..png.len() - 12]));
        assert!(!ends_early(b"II*\0 a TIFF"));
        let q = PageQuality {
            truncated: true,
            ..assess(&page(2480, 3508), Some(300))
        };
        assert_eq!(
            q.reasons(&rules(200)),
            vec!["truncated file: the image ends early"]
        );
    }

    #[test]
    fn tiny_images_do_not_panic() {
        for (w, h) in [(1, 1), (2, 1), (1, 40), (19, 19)] {
            let q = assess(&page(w, h), None);
            assert!(q.blank);
        }
    }
}
