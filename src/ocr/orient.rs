//! Page orientation and skew. A page fed upside down or sideways is found by Tesseract's
//! orientation detector (OSD, Debian `tesseract-ocr-osd`); a page a few degrees off is found
//! here by projection profiles (text lines give the sharpest row histogram when level) and
//! turned back before OCR. Only OCR's copy is turned: the original is archived as it came.

use std::ffi::CString;
use std::path::Path;

use image::{GrayImage, Luma};

use super::tess::TessApi;
use super::OcrError;

/// Skews smaller than this are left alone: Tesseract reads them as well, and turning costs.
pub const MIN_DESKEW_DEGREES: f32 = 0.3;
/// Skews searched, either way: a page laid on the glass at up to 45°. Past that the lines run
/// closer to upright than level, which is a quarter turn plus a skew the other way: the
/// orientation detector turns the page and the search levels what is left.
pub const MAX_SKEW_DEGREES: f32 = 45.0;
/// Up to this skew a page is levelled on its own canvas (the corners it turns out hold only
/// margin); past it the canvas grows to hold the whole turned page.
pub const IN_PLACE_DEGREES: f32 = 6.0;

/// Points of ink the coarse skew search looks at, at most (a page at 75 dpi holds tens of
/// thousands).
const COARSE_POINTS: usize = 6000;

/// Estimates how far the text lines are turned counterclockwise, in degrees (negative:
/// clockwise), within ±[`MAX_SKEW_DEGREES`]. `None` when the page has too little ink to tell.
///
/// Ink is projected across each candidate direction (distance from a line at that angle, one
/// bin per sample): level text lines give the peakiest histogram, scored by its sum of squares.
/// A coarse search every half degree, then every 0.05° around the best.
pub fn estimate_skew(image: &GrayImage) -> Option<f32> {
    let (w, h) = image.dimensions();
    // One pixel in `step`×`step`, about 75 dpi on an A4 page: text lines stay visible and the
    // whole estimate costs a few milliseconds.
    let step = (w.max(h) / 900).max(1);
    let mut ink: Vec<(f32, f32)> = Vec::new();
    let margin_x = w / 20;
    let margin_y = h / 20;
    let raw = image.as_raw();
    let stride = w as usize;
    for y in (margin_y..h.saturating_sub(margin_y)).step_by(step as usize) {
        let row = &raw[y as usize * stride..(y as usize + 1) * stride];
        for x in (margin_x..w.saturating_sub(margin_x)).step_by(step as usize) {
            if row[x as usize] < 128 {
                ink.push(((x / step) as f32, (y / step) as f32));
            }
        }
    }
    if ink.len() < 200 {
        return None;
    }
    let rows = (h / step) as f32;
    let cols = (w / step) as f32;
    let mut hist: Vec<u32> = Vec::new();
    let mut score = |ink: &[(f32, f32)], degrees: f32| -> f64 {
        let (sin, cos) = degrees.to_radians().sin_cos();
        let offset = cols * sin.abs() + 1.0;
        hist.clear();
        hist.resize((rows * cos + cols * sin.abs() + 3.0) as usize, 0);
        for &(x, y) in ink {
            let bin = (y * cos + x * sin + offset) as usize;
            if let Some(b) = hist.get_mut(bin) {
                *b += 1;
            }
        }
        hist.iter().map(|&c| (c as f64) * (c as f64)).sum()
    };
    let mut best_in = |ink: &[(f32, f32)], from: f32, to: f32, by: f32| -> f32 {
        let mut best = (f64::MIN, 0.0f32);
        let steps = ((to - from) / by).round() as i32;
        for i in 0..=steps {
            let a = from + i as f32 * by;
            let s = score(ink, a);
            // Ties go to the smaller turn: a page of scattered ink stays as it is.
            if s > best.0 || (s == best.0 && a.abs() < best.1.abs()) {
                best = (s, a);
            }
        }
        best.1
    };
    // The coarse search (181 directions) needs only the page's lines, not every point of
    // ink: a random sample of about COARSE_POINTS does (every k-th point in raster order would
    // form a lattice, whose rows the search would take for lines at some angle); the fine
    // search takes them all.
    let keep_one_in = ink.len().div_ceil(COARSE_POINTS).max(1) as u32;
    let mut state = 0x9E37_79B9_u32;
    let sample: Vec<(f32, f32)> = ink
        .iter()
        .filter(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.is_multiple_of(keep_one_in)
        })
        .copied()
        .collect();
    let coarse = best_in(&sample, -MAX_SKEW_DEGREES, MAX_SKEW_DEGREES, 0.5);
    let fine = best_in(&ink, coarse - 0.5, coarse + 0.5, 0.05);
    Some((fine * 100.0).round() / 100.0)
}

/// Turns the page content counterclockwise by `degrees` about its centre (bilinear), on white,
/// keeping the page's size.
pub fn rotate(image: &GrayImage, degrees: f32) -> GrayImage {
    let (w, h) = image.dimensions();
    rotate_onto(image, degrees, w, h)
}

/// Like [`rotate`], on a canvas grown to hold the whole turned page.
pub fn rotate_expanded(image: &GrayImage, degrees: f32) -> GrayImage {
    let (w, h) = (image.width() as f32, image.height() as f32);
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (sin, cos) = (sin.abs(), cos.abs());
    let out_w = (w * cos + h * sin).ceil() as u32;
    let out_h = (w * sin + h * cos).ceil() as u32;
    rotate_onto(image, degrees, out_w.max(1), out_h.max(1))
}

/// The page turned about its centre onto a white `out_w`×`out_h` canvas, centres matched.
fn rotate_onto(image: &GrayImage, degrees: f32, out_w: u32, out_h: u32) -> GrayImage {
    let (w, h) = image.dimensions();
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (ocx, ocy) = (out_w as f32 / 2.0, out_h as f32 / 2.0);
    let src = image.as_raw();
    let mut out = GrayImage::from_pixel(out_w, out_h, Luma([255]));
    let stride = w as usize;
    let (max_x, max_y) = ((w as f32) - 1.0, (h as f32) - 1.0);
    for (y, row) in out.as_mut().chunks_mut(out_w as usize).enumerate() {
        let dy = y as f32 - ocy;
        // The source point of this row's first pixel; each step right moves it by (cos, sin).
        // (The inverse turn, image y pointing down.)
        let mut sx = -cos * ocx - sin * dy + cx;
        let mut sy = -sin * ocx + cos * dy + cy;
        for px in row.iter_mut() {
            if sx >= 0.0 && sy >= 0.0 && sx < max_x && sy < max_y {
                let (x0, y0) = (sx as usize, sy as usize);
                let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
                let i = y0 * stride + x0;
                let top = src[i] as f32 + (src[i + 1] as f32 - src[i] as f32) * fx;
                let bottom = src[i + stride] as f32
                    + (src[i + stride + 1] as f32 - src[i + stride] as f32) * fx;
                *px = (top + (bottom - top) * fy + 0.5) as u8;
            }
            sx += cos;
            sy += sin;
        }
    }
    out
}

/// Turns a page clockwise by a multiple of 90 degrees.
pub fn turn_clockwise(image: &GrayImage, degrees: u32) -> GrayImage {
    match degrees % 360 {
        90 => image::imageops::rotate90(image),
        180 => image::imageops::rotate180(image),
        270 => image::imageops::rotate270(image),
        _ => image.clone(),
    }
}

/// Tesseract's orientation and script detector, one per worker like the OCR engine.
pub struct Osd {
    api: TessApi,
}

impl Osd {
    pub fn new(tessdata: Option<&Path>) -> Result<Osd, OcrError> {
        let init_error = || OcrError::Init {
            languages: "osd".into(),
            first: "osd".into(),
            tessdata: tessdata.map(|t| t.display().to_string()),
        };
        let datapath = match tessdata {
            Some(p) => {
                Some(CString::new(p.to_string_lossy().as_bytes()).map_err(|_| init_error())?)
            }
            None => None,
        };
        let mut api = TessApi::create().ok_or_else(init_error)?;
        if !api.init(datapath.as_deref(), c"osd") {
            return Err(init_error());
        }
        api.set_page_seg_mode(tesseract_sys::TessPageSegMode_PSM_OSD_ONLY);
        Ok(Osd { api })
    }

    /// How far clockwise the page must be turned for its text to stand upright (0, 90, 180
    /// or 270), and Tesseract's confidence in it; `None` when it cannot tell.
    pub fn upright_turn(&mut self, image: &GrayImage, dpi: u32) -> Option<(u32, f32)> {
        let (w, h) = image.dimensions();
        self.api.set_grey_image(image.as_raw(), w, h).ok()?;
        self.api.set_source_resolution(dpi.clamp(70, 2400) as i32);
        let found = self.api.detect_orientation();
        self.api.clear();
        let (degrees, confidence) = found?;
        // Tesseract reports the page's orientation counterclockwise; the fix turns it back.
        let turn = ((360 - degrees.rem_euclid(360)) % 360) as u32;
        Some((turn, confidence))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dark bars like lines of text on a white page.
    fn lined_page() -> GrayImage {
        let mut img = GrayImage::from_pixel(1200, 1600, Luma([255]));
        for line in 0..30 {
            let y0 = 150 + line * 45;
            for y in y0..y0 + 14 {
                for x in 150..1050 {
                    // Gaps between "words" so the bars are not solid.
                    if (x / 37) % 5 != 4 {
                        img.put_pixel(x, y, Luma([20]));
                    }
                }
            }
        }
        img
    }

    #[test]
    fn skew_is_measured_in_the_direction_it_was_turned_and_turning_back_levels_it() {
        let level = lined_page();
        let level_skew = estimate_skew(&level).unwrap();
        assert!(level_skew.abs() < 0.1, "{level_skew}");
        for turned_by in [3.0f32, -2.0, 12.0, -20.0, 35.0, -44.0] {
            let skewed = rotate_expanded(&level, turned_by);
            let found = estimate_skew(&skewed).unwrap();
            assert!(
                (found - turned_by).abs() < 0.2,
                "turned {turned_by}, found {found}"
            );
            let fixed = rotate(&skewed, -found);
            let left = estimate_skew(&fixed).unwrap();
            assert!(left.abs() < 0.2, "left {left}");
        }
        assert_eq!(
            estimate_skew(&GrayImage::from_pixel(500, 500, Luma([255]))),
            None
        );
    }

    #[test]
    fn a_page_turned_on_a_grown_canvas_keeps_all_its_ink() {
        let level = lined_page();
        let ink = |img: &GrayImage| img.pixels().filter(|p| p.0[0] < 128).count() as f64;
        for degrees in [10.0f32, -30.0, 45.0] {
            let turned = rotate_expanded(&level, degrees);
            assert!(turned.width() > level.width() && turned.height() > level.height());
            let ratio = ink(&turned) / ink(&level);
            assert!((0.95..1.05).contains(&ratio), "{degrees}°: {ratio}");
        }
        // Turned in place by 45°, the corners of the 1200×1600 page go: a turned A4 page would lose text.
        assert!(ink(&rotate(&level, 45.0)) < 0.95 * ink(&level));
    }
}
