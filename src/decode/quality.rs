//! Page quality as SPEC.md counts it: decodes, not blank, at least `min_dpi`.

use image::GrayImage;
use serde::Serialize;

/// A4 long side in inches: used to estimate resolution when the file carries none.
const A4_LONG_SIDE_INCHES: f64 = 297.0 / 25.4;

/// Below this share of ink pixels (inside the margins) a page counts as blank. One short line of
/// 13 pt text on A4 is about 0.09%; scanner speckle stays well under 0.01%.
const BLANK_INK_RATIO: f64 = 0.0003;

/// Margins ignored by the blank check: scanner edges and punch holes live there.
const MARGIN_FRACTION: f64 = 0.05;

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
}

impl PageQuality {
    /// Why this page fails quality, in the words of the coverage report (empty: it passes).
    pub fn reasons(&self, min_dpi: u32) -> Vec<String> {
        let mut reasons = Vec::new();
        if self.blank {
            reasons.push("blank page".to_owned());
        }
        if self.dpi < min_dpi && self.dpi_source != DpiSource::NotScanned {
            let how = match self.dpi_source {
                DpiSource::EstimatedA4 => " (estimated from the pixel size as A4)",
                _ => "",
            };
            reasons.push(format!("below {min_dpi} dpi: {} dpi{how}", self.dpi));
        }
        reasons
    }
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
    }
}

pub fn assess(image: &GrayImage, meta_dpi: Option<u32>) -> PageQuality {
    let (dpi, dpi_source) = resolution(image.width(), image.height(), meta_dpi);
    let ink_ratio = ink_ratio(image);
    PageQuality {
        dpi,
        dpi_source,
        blank: ink_ratio < BLANK_INK_RATIO,
        ink_ratio,
    }
}

/// Share of pixels clearly darker than the paper, inside the margins. The paper level is
/// taken from the histogram (90th percentile), so grey or yellowed paper is not ink.
fn ink_ratio(image: &GrayImage) -> f64 {
    let (w, h) = image.dimensions();
    let (mx, my) = (
        (w as f64 * MARGIN_FRACTION) as u32,
        (h as f64 * MARGIN_FRACTION) as u32,
    );
    let (x0, x1, y0, y1) = (mx, w - mx, my, h - my);
    if x1 <= x0 || y1 <= y0 {
        return 0.0;
    }
    let mut histogram = [0u64; 256];
    let raw = image.as_raw();
    for y in y0..y1 {
        let row = &raw[(y * w) as usize..((y + 1) * w) as usize];
        for &v in &row[x0 as usize..x1 as usize] {
            histogram[v as usize] += 1;
        }
    }
    let total: u64 = histogram.iter().sum();
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
            .reasons(200)
            .iter()
            .any(|r| r.starts_with("below 200 dpi")));
        let q = assess(&page(1240, 1754), Some(400));
        assert_eq!((q.dpi, q.dpi_source), (400, DpiSource::Metadata));
        // landscape scans estimate from the long side too
        assert_eq!(resolution(3508, 2480, None).0, 300);
        assert_eq!(resolution(3508, 2480, Some(0)).1, DpiSource::EstimatedA4);
    }

    #[test]
    fn reasons_list_every_failure() {
        let q = PageQuality {
            dpi: 150,
            dpi_source: DpiSource::Metadata,
            blank: true,
            ink_ratio: 0.0,
        };
        assert_eq!(q.reasons(200), vec!["blank page", "below 200 dpi: 150 dpi"]);
        assert!(q.reasons(100).len() == 1);
    }

    #[test]
    fn tiny_images_do_not_panic() {
        for (w, h) in [(1, 1), (2, 1), (1, 40), (19, 19)] {
            let q = assess(&page(w, h), None);
            assert!(q.blank);
        }
    }
}
