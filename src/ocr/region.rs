//! The part of a page Tesseract is given to read: the rectangle around everything its
//! thresholding would keep as ink, with a margin. Tesseract's work before the text model
//! (two histograms of the whole page, thresholding, finding the shapes of ink) grows with the
//! pixels it is given, and most pages are mostly margin: a certificate of twelve lines at the
//! top of an A4 page keeps a fifth of it.
//!
//! Invariant: nothing Tesseract would read on the whole page falls outside the rectangle.
//! Tesseract (5.x, `thresholding_method` 0) turns a grey page to black and white at one Otsu
//! threshold for the whole page; the rectangle holds every pixel at or below that same
//! threshold, computed here the way Tesseract computes it (`OtsuStats` in its `otsuthr.cpp`).
//! Outside it, the whole page's thresholding leaves only white. Pages whose thresholding is not
//! plainly dark ink on light paper (a negative, a dark photo) are read whole.

use image::GrayImage;

use crate::decode::pixels;

/// A rectangle of the page, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub left: u32,
    pub top: u32,
    pub width: u32,
    pub height: u32,
}

/// White kept around the ink, in inches: Tesseract finds lines and words worse when ink
/// touches the edge of what it is given.
const MARGIN_INCHES: f32 = 0.125;

/// The rectangle worth reading, or `None` to read the whole page (no ink, not dark on light,
/// the ink reaches so near every edge that cutting saves nothing, or Tesseract would read the
/// rectangle as a negative).
pub fn text_region(image: &GrayImage, dpi: u32) -> Option<Region> {
    let (w, h) = image.dimensions();
    let histogram = pixels::histogram(image, (0, w), (0, h));
    let threshold = dark_ink_threshold(&histogram)?;
    let (left, top, right, bottom) = ink_bounds(image, threshold)?;
    let margin = ((dpi as f32 * MARGIN_INCHES) as u32).max(4);
    let (x0, y0) = (left.saturating_sub(margin), top.saturating_sub(margin));
    let region = Region {
        left: x0,
        top: y0,
        width: (right + 1 + margin).min(w) - x0,
        height: (bottom + 1 + margin).min(h) - y0,
    };
    // A rectangle nearly the page saves less than it risks at the edges. One as wide as the
    // page is misread: Tesseract 5.3 cuts its line images from the original image whenever it
    // is as wide as the rectangle (`Tesseract::BestPix` compares widths only), at the
    // rectangle's coordinates, so from the wrong rows.
    let kept = u64::from(region.width) * u64::from(region.height);
    if kept * 10 >= u64::from(w) * u64::from(h) * 9 || region.width == w {
        return None;
    }
    // Tesseract thresholds the rectangle at its own Otsu threshold, and takes the light side
    // as the ink when the dark side is half of what it is given or more: a dark card or photo
    // with little paper around it would be read as a negative.
    let inside = pixels::histogram(
        image,
        (region.left, region.left + region.width),
        (region.top, region.top + region.height),
    );
    let (_, dark, total) = otsu(&inside)?;
    ((dark as f64) < total as f64 * 0.5).then_some(region)
}

/// Tesseract's Otsu threshold for a page of dark ink on light paper: the grey at or below
/// which its thresholding makes a pixel black. `None` when Tesseract would judge the page
/// otherwise (a quarter or more of it below the threshold: it may invert the page) or when
/// the page is one grey.
fn dark_ink_threshold(histogram: &[u64; 256]) -> Option<u8> {
    let (t, dark, total) = otsu(histogram)?;
    // Tesseract: below a quarter of the pixels the dark side is the foreground, for sure.
    (dark > 0 && (dark as f64) < total as f64 * 0.25).then_some(t)
}

/// Tesseract's Otsu threshold of a histogram (`OtsuStats`), with the count of pixels at or
/// below it and the histogram's total; `None` for one grey.
fn otsu(histogram: &[u64; 256]) -> Option<(u8, u64, u64)> {
    let total: u64 = histogram.iter().sum();
    let mean_total: f64 = histogram
        .iter()
        .enumerate()
        .map(|(i, &n)| i as f64 * n as f64)
        .sum();
    // Tesseract keeps the first threshold that maximises the between-class variance.
    let (mut best_t, mut best_omega_0, mut best_sigma) = (None, 0u64, 0.0f64);
    let (mut omega_0, mut mu_t) = (0u64, 0.0f64);
    for (t, &n) in histogram.iter().enumerate().take(255) {
        omega_0 += n;
        mu_t += t as f64 * n as f64;
        if omega_0 == 0 {
            continue;
        }
        let omega_1 = total - omega_0;
        if omega_1 == 0 {
            break;
        }
        let mu_0 = mu_t / omega_0 as f64;
        let mu_1 = (mean_total - mu_t) / omega_1 as f64;
        // In Tesseract's order of operations (libtesseract 5.3's OtsuStats multiplies
        // ((d · ω0) · ω1) · d): thresholds that tie (a symmetric histogram) are then decided by
        // the same roundings as in Tesseract.
        let d = mu_1 - mu_0;
        let sigma = d * (d * omega_0 as f64 * omega_1 as f64);
        if best_t.is_none() || sigma > best_sigma {
            (best_t, best_omega_0, best_sigma) = (Some(t), omega_0, sigma);
        }
    }
    best_t.map(|t| (t as u8, best_omega_0, total))
}

/// The smallest box holding every pixel at or below `threshold`: (left, top, right, bottom),
/// inclusive. One pass: each row's darkest pixel, and each column's darkest over all rows.
fn ink_bounds(image: &GrayImage, threshold: u8) -> Option<(u32, u32, u32, u32)> {
    let w = image.width() as usize;
    let mut column_min = vec![u8::MAX; w];
    let (mut top, mut bottom) = (None, 0);
    for (y, row) in image.as_raw().chunks_exact(w.max(1)).enumerate() {
        let mut row_min = u8::MAX;
        for (c, &p) in column_min.iter_mut().zip(row) {
            *c = (*c).min(p);
            row_min = row_min.min(p);
        }
        if row_min <= threshold {
            top.get_or_insert(y);
            bottom = y;
        }
    }
    let top = top?;
    let left = column_min.iter().position(|&c| c <= threshold)?;
    let right = column_min.iter().rposition(|&c| c <= threshold)?;
    Some((left as u32, top as u32, right as u32, bottom as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    fn paper() -> GrayImage {
        GrayImage::from_pixel(2480, 3508, Luma([245]))
    }

    fn ink(img: &mut GrayImage, x0: u32, y0: u32, x1: u32, y1: u32, grey: u8) {
        for y in y0..y1 {
            for x in x0..x1 {
                img.put_pixel(x, y, Luma([grey]));
            }
        }
    }

    #[test]
    fn the_region_holds_all_the_ink_with_a_margin() {
        let mut img = paper();
        ink(&mut img, 300, 250, 2100, 280, 20);
        ink(&mut img, 300, 900, 1400, 930, 30);
        // A faint mark far below, still darker than the threshold between paper and ink.
        ink(&mut img, 1200, 1500, 1206, 1510, 120);
        let region = text_region(&img, 300).expect("a region");
        assert_eq!(
            region,
            Region {
                left: 300 - 37,
                top: 250 - 37,
                width: 2100 + 37 - 263,
                height: 1510 + 37 - 213,
            }
        );
    }

    #[test]
    fn blank_dark_and_full_pages_are_read_whole() {
        assert_eq!(text_region(&paper(), 300), None);
        // A negative: light text on a dark page.
        let mut negative = GrayImage::from_pixel(1000, 1400, Luma([15]));
        ink(&mut negative, 200, 200, 800, 230, 240);
        assert_eq!(text_region(&negative, 300), None);
        // Ink near every edge: nothing worth cutting.
        let mut full = paper();
        ink(&mut full, 10, 10, 2470, 12, 20);
        ink(&mut full, 10, 3490, 2470, 3495, 20);
        assert_eq!(text_region(&full, 300), None);
    }

    #[test]
    fn a_rectangle_tesseract_would_read_as_a_negative_is_not_cut() {
        // A dark card (an ID card's photocopy) alone on the page, a few dark lines on it: a
        // tenth of the page, plainly dark on light. Cut to the card, most of what Tesseract
        // is given is dark: its own Otsu on the rectangle turns it to a negative (the paper
        // around the card black), and it read "mm" at confidence 31 where the whole page
        // reads nothing (ocr::tests::a_dark_card_alone_on_a_page_reads_as_the_whole_page_does).
        let mut img = paper();
        ink(&mut img, 400, 500, 2200, 1000, 90);
        for y in [600, 750, 900] {
            ink(&mut img, 500, y, 2000, y + 30, 15);
        }
        assert_eq!(text_region(&img, 300), None);
    }

    #[test]
    fn a_rectangle_as_wide_as_the_page_is_not_cut() {
        // Lines from edge to edge high on a narrow page (a receipt, a tightly cropped scan).
        // Tesseract 5.3 takes the original image for its line images whenever it is as wide
        // as the rectangle (Tesseract::BestPix compares widths only), and cuts the lines from
        // it at the rectangle's coordinates: it read "II" for two lines of text.
        let mut img = GrayImage::from_pixel(900, 3508, Luma([245]));
        ink(&mut img, 10, 250, 890, 280, 20);
        ink(&mut img, 10, 350, 890, 380, 20);
        assert_eq!(text_region(&img, 300), None);
    }

    #[test]
    fn the_threshold_is_otsus_between_paper_and_ink() {
        let mut histogram = [0u64; 256];
        histogram[240] = 9_000;
        histogram[250] = 80_000;
        histogram[30] = 1_000;
        histogram[60] = 500;
        let t = dark_ink_threshold(&histogram).expect("dark on light");
        assert!((60..240).contains(&t), "{t}");
        // As many dark pixels as light: not plainly ink on paper.
        histogram[30] = 90_000;
        assert_eq!(dark_ink_threshold(&histogram), None);
    }

    #[test]
    fn ties_between_thresholds_go_where_tesseracts_roundings_send_them() {
        // Grey paper with as many light specks as dark ones: every threshold from the dark
        // specks to the paper separates equally well, and only the roundings of the variance
        // decide. Tesseract's (its order of products, in Python) pick the paper's grey,
        // leaving the dark side most of the page: not dark ink on light paper, so the page is
        // read whole. Another order of the same products picked the dark specks' grey, and
        // cut the page to them, though Tesseract would find ink (the light specks) outside.
        let mut histogram = [0u64; 256];
        histogram[42] = 5;
        histogram[126] = 1000;
        histogram[210] = 5;
        assert_eq!(dark_ink_threshold(&histogram), None);
    }
}
