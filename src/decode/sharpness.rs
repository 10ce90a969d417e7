//! How sharp a page's ink edges are, for the quality checks' "blurred" flag (the national
//! guidance asks for automatic checks of blur).
//!
//! A sharp scan goes from paper to ink within a pixel or two at 300 dpi; a blurred one (a page
//! that moved, a scanner out of focus) spreads the same step over many. The measure: the mean
//! of the steepest steps between pixels one 300-dpi step apart, as many as there are edges
//! (crossings of the grey halfway between paper and ink), as a share of the page's contrast
//! (paper level minus ink level). About 0.7 for crisp print, falling towards 0.1 as blur
//! grows; independent of how much ink the page has, of its grey levels, and of whether the ink
//! is thin strokes or solid blocks.

use std::ops::RangeInclusive;

use image::GrayImage;

use super::pixels;

/// Below this contrast between paper and ink there is nothing to judge (a blank page).
const MIN_CONTRAST: usize = 60;

/// The sharpness of the page's ink edges, 0..1; `None` when it has too little ink to judge.
pub fn sharpness(image: &GrayImage, dpi: u32) -> Option<f32> {
    sharpness_with(image, dpi, &pixels::margin_histogram(image))
}

/// [`sharpness`] given the page's [`pixels::margin_histogram`] (the quality checks have it
/// already).
pub fn sharpness_with(image: &GrayImage, dpi: u32, levels: &[u64; 256]) -> Option<f32> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    // Pixels one 300-dpi step apart, so a 600-dpi scan is judged as at 300.
    let step = ((dpi as f32 / 300.0).round() as usize).max(1);
    let (mx, my) = pixels::margins(w as u32, h as u32);
    let (mx, my) = (mx as usize, my as usize);
    if w < 2 * mx + step + 8 || h < 2 * my + 8 {
        return None;
    }
    let raw = image.as_raw();
    let rows = || (my..h - my).step_by(step).map(|y| &raw[y * w..(y + 1) * w]);
    let total: u64 = levels.iter().sum();
    let paper = percentile(levels, total * 9 / 10);
    let ink = percentile(levels, total / 500);
    let contrast = paper.saturating_sub(ink);
    if contrast < MIN_CONTRAST {
        return None;
    }
    // Every crossing of the middle grey is one edge between paper and ink, however blurred:
    // the steepest step of each edge is what tells sharp from blurred.
    let middle = ((paper + ink) / 2) as u8;
    let pairs = || rows().map(|row| (&row[mx..w - mx - step], &row[mx + step..w - mx]));
    let mut steps = [0u64; 256];
    let mut edges = 0u64;
    for (a, b) in pairs() {
        let crossings: u32 = a
            .iter()
            .zip(b)
            .map(|(&a, &b)| u32::from((a < middle) != (b < middle)))
            .sum();
        edges += u64::from(crossings);
        count_steps(a, b, SMALL_STEP..=u8::MAX, &mut steps);
    }
    // The mean of as many of the steepest steps as there are edges; the small steps are
    // counted by size only when the steep ones are too few (a page blurred throughout).
    let wanted = edges.max(8);
    if steps[SMALL_STEP as usize..].iter().sum::<u64>() < wanted {
        for (a, b) in pairs() {
            count_steps(a, b, 0..=SMALL_STEP - 1, &mut steps);
        }
    }
    let (mut taken, mut sum) = (0u64, 0u64);
    for (size, &count) in steps.iter().enumerate().rev() {
        let take = count.min(wanted - taken);
        taken += take;
        sum += take * size as u64;
        if taken == wanted {
            break;
        }
    }
    (taken > 0).then(|| sum as f32 / taken as f32 / contrast as f32)
}

/// Steps below this are paper grain and scanner noise: most pixel pairs of a page, and never
/// among the steepest unless the whole page is blurred.
const SMALL_STEP: u8 = 16;

/// Counts the steps `|a[i] - b[i]|` whose size is in `sizes`, by size. Runs of 32 pairs
/// whose largest step is below the range (plain paper) are passed over after one vectorised
/// look.
fn count_steps(a: &[u8], b: &[u8], sizes: RangeInclusive<u8>, steps: &mut [u64; 256]) {
    for (ca, cb) in a.chunks(32).zip(b.chunks(32)) {
        let steepest = ca.iter().zip(cb).map(|(&x, &y)| x.abs_diff(y)).max();
        if steepest.is_none_or(|s| s < *sizes.start()) {
            continue;
        }
        for (&x, &y) in ca.iter().zip(cb) {
            let d = x.abs_diff(y);
            if sizes.contains(&d) {
                steps[d as usize] += 1;
            }
        }
    }
}

/// The grey level below which `rank` of the histogram's pixels lie.
fn percentile(histogram: &[u64; 256], rank: u64) -> usize {
    let mut seen = 0;
    for (level, &count) in histogram.iter().enumerate() {
        seen += count;
        if seen > rank {
            return level;
        }
    }
    255
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::render::{render_page, Fonts, Line, Paper};

    fn page() -> GrayImage {
        let fonts = Fonts::find().expect("fonts (scripts/install-deps.sh)");
        let lines: Vec<Line> = (0..6)
            .map(|i| {
                Line::body(format!(
                    "Họ, chữ đệm, tên người yêu cầu: Nguyễn Thị Hồng {i}"
                ))
            })
            .collect();
        let paper = Paper {
            width_mm: 210.0,
            height_mm: 80.0,
        };
        render_page(&fonts, &lines, paper, 300).0
    }

    #[test]
    fn print_is_sharp_and_blur_lowers_the_measure_step_by_step() {
        let sharp = page();
        let measured: Vec<f32> = [0.0f32, 1.0, 2.0, 3.0]
            .iter()
            .map(|&sigma| {
                let img = if sigma == 0.0 {
                    sharp.clone()
                } else {
                    image::imageops::blur(&sharp, sigma)
                };
                sharpness(&img, 300).unwrap()
            })
            .collect();
        eprintln!("sharpness at blur 0, 1, 2, 3 px: {measured:?}");
        assert!(measured.windows(2).all(|w| w[0] > w[1]), "{measured:?}");
        let limit = super::super::quality::BLUR_SHARPNESS;
        assert!(measured[0] > limit && measured[1] > limit, "{measured:?}");
        assert!(measured[3] < limit, "{measured:?}");
    }

    #[test]
    fn a_solid_block_with_crisp_edges_is_sharp() {
        let mut img = GrayImage::from_pixel(620, 412, image::Luma([247]));
        for y in 160..240 {
            for x in 40..580 {
                img.put_pixel(x, y, image::Luma([20]));
            }
        }
        let s = sharpness(&img, 600).unwrap();
        assert!(s > 0.8, "{s}");
    }

    #[test]
    fn a_blank_page_has_nothing_to_judge() {
        assert_eq!(
            sharpness(&GrayImage::from_pixel(800, 600, image::Luma([245])), 300),
            None
        );
        assert_eq!(
            sharpness(&GrayImage::from_pixel(3, 3, image::Luma([0])), 300),
            None
        );
    }
}
