//! Whole-page passes over grey pixels that every page pays before OCR (the quality checks,
//! the border search, the layout test), written so the compiler vectorises them: an A4 page
//! at 300 dpi is 8.7 million pixels, and a plain per-pixel loop costs tens of milliseconds.
//!
//! Both functions return exactly what the plain loop would: the speed comes from the order of
//! the work, not from sampling.

use image::GrayImage;

/// Counts of each grey level in the rectangle `x0..x1` × `y0..y1` (clipped to the image).
///
/// Eight partial histograms filled in turn: a page is mostly one grey (its paper), and a
/// single histogram would make every pixel wait for the previous one's increment of the same
/// bin (eight measured 0.4 ns a pixel on a clean page, four 0.55, one about 1.5).
pub fn histogram(image: &GrayImage, (x0, x1): (u32, u32), (y0, y1): (u32, u32)) -> [u64; 256] {
    let (w, h) = image.dimensions();
    let (x1, y1) = (x1.min(w), y1.min(h));
    let mut out = [0u64; 256];
    if x0 >= x1 || y0 >= y1 {
        return out;
    }
    let mut parts = [[0u32; 256]; 8];
    let raw = image.as_raw();
    let stride = w as usize;
    for y in y0 as usize..y1 as usize {
        let row = &raw[y * stride + x0 as usize..y * stride + x1 as usize];
        let mut eights = row.chunks_exact(8);
        for e in &mut eights {
            for (part, &v) in parts.iter_mut().zip(e) {
                part[v as usize] += 1;
            }
        }
        for &v in eights.remainder() {
            parts[0][v as usize] += 1;
        }
        // Fold the partial counts into the total every 64 rows, long before a bin of a u32
        // could overflow.
        if y % 64 == 63 {
            fold(&mut out, &mut parts);
        }
    }
    fold(&mut out, &mut parts);
    out
}

/// The share of each side the quality checks leave out: scanner edges and punch holes live
/// there.
pub const MARGIN_FRACTION: f64 = 0.05;

/// The margins [`MARGIN_FRACTION`] leaves on a `w`×`h` page: (across, down), in pixels.
pub fn margins(w: u32, h: u32) -> (u32, u32) {
    (
        (w as f64 * MARGIN_FRACTION) as u32,
        (h as f64 * MARGIN_FRACTION) as u32,
    )
}

/// The [`histogram`] of the page inside its [`margins`].
pub fn margin_histogram(image: &GrayImage) -> [u64; 256] {
    let (w, h) = image.dimensions();
    let (mx, my) = margins(w, h);
    histogram(image, (mx, w - mx), (my, h - my))
}

fn fold(out: &mut [u64; 256], parts: &mut [[u32; 256]; 8]) {
    for part in parts.iter_mut() {
        for (o, p) in out.iter_mut().zip(part.iter_mut()) {
            *o += u64::from(*p);
            *p = 0;
        }
    }
}

/// Sums of `weight(pixel)` over square blocks of `block`×`block` pixels, row by row of blocks
/// (`cols` × `rows`, the last column and row short when the sides do not divide).
pub struct BlockSums {
    pub cols: usize,
    pub rows: usize,
    pub sums: Vec<u32>,
}

impl BlockSums {
    /// `weight` maps a pixel to what it adds (its grey, or 1 when dark). The work is a column
    /// sum of each band of `block` rows (one add per pixel, vectorised), then a sum of each
    /// block's columns.
    pub fn of(image: &GrayImage, block: u32, weight: impl Fn(u8) -> u16) -> BlockSums {
        let (w, h) = (image.width() as usize, image.height() as usize);
        let block = block.max(1) as usize;
        let (cols, rows) = (w.div_ceil(block), h.div_ceil(block));
        let mut sums = vec![0u32; cols * rows];
        let mut band = vec![0u32; w];
        for (r, rows_of_band) in image.as_raw().chunks(w.max(1) * block).enumerate() {
            band.iter_mut().for_each(|b| *b = 0);
            for row in rows_of_band.chunks_exact(w.max(1)) {
                for (b, &p) in band.iter_mut().zip(row) {
                    *b += u32::from(weight(p));
                }
            }
            for (s, part) in sums[r * cols..(r + 1) * cols]
                .iter_mut()
                .zip(band.chunks(block))
            {
                *s = part.iter().sum();
            }
        }
        BlockSums { cols, rows, sums }
    }
}

/// The page resampled to `width`×`height` (larger) by bilinear interpolation between pixel
/// centres: no intermediate buffer, integer weights in 1/256.
pub fn upsample(image: &GrayImage, width: u32, height: u32) -> GrayImage {
    let (w, h) = (image.width() as usize, image.height() as usize);
    if w == 0 || h == 0 || width == 0 || height == 0 {
        return GrayImage::new(width, height);
    }
    // For each output column (row): the two source columns (rows) and the second's weight.
    let taps = |out: u32, src: usize| -> Vec<(usize, usize, u32)> {
        let scale = src as f64 / out as f64;
        (0..out)
            .map(|o| {
                let at = ((o as f64 + 0.5) * scale - 0.5).clamp(0.0, (src - 1) as f64);
                let first = at.floor() as usize;
                let weight = ((at - first as f64) * 256.0).round() as u32;
                (first, (first + 1).min(src - 1), weight)
            })
            .collect()
    };
    let (columns, rows) = (taps(width, w), taps(height, h));
    let raw = image.as_raw();
    let mut out = GrayImage::new(width, height);
    for (line, &(r0, r1, fy)) in out.as_mut().chunks_exact_mut(width as usize).zip(&rows) {
        let (top, bottom) = (&raw[r0 * w..(r0 + 1) * w], &raw[r1 * w..(r1 + 1) * w]);
        for (px, &(c0, c1, fx)) in line.iter_mut().zip(&columns) {
            let upper = u32::from(top[c0]) * (256 - fx) + u32::from(top[c1]) * fx;
            let lower = u32::from(bottom[c0]) * (256 - fx) + u32::from(bottom[c1]) * fx;
            *px = ((upper * (256 - fy) + lower * fy + 32_768) >> 16) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    /// A page of pseudo-random greys, so every bin and block differs.
    fn speckled(w: u32, h: u32) -> GrayImage {
        let mut state = 0x2545_f491_u32;
        GrayImage::from_fn(w, h, |_, _| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            Luma([(state >> 24) as u8])
        })
    }

    #[test]
    fn the_histogram_counts_what_a_plain_loop_counts() {
        let img = speckled(203, 131);
        for (xs, ys) in [
            ((0, 203), (0, 131)),
            ((10, 190), (7, 120)),
            ((5, 6), (0, 131)),
        ] {
            let mut plain = [0u64; 256];
            for y in ys.0..ys.1 {
                for x in xs.0..xs.1 {
                    plain[img.get_pixel(x, y).0[0] as usize] += 1;
                }
            }
            assert_eq!(histogram(&img, xs, ys), plain, "{xs:?} {ys:?}");
        }
        assert_eq!(histogram(&img, (50, 40), (0, 10)), [0; 256]);
        assert_eq!(
            histogram(&img, (0, 9999), (0, 9999)).iter().sum::<u64>(),
            203 * 131
        );
    }

    #[test]
    fn upsampling_keeps_flat_areas_and_edges_and_interpolates_between() {
        let mut img = GrayImage::from_pixel(4, 2, Luma([200]));
        img.put_pixel(2, 0, Luma([0]));
        img.put_pixel(3, 0, Luma([0]));
        img.put_pixel(2, 1, Luma([0]));
        img.put_pixel(3, 1, Luma([0]));
        let big = upsample(&img, 8, 4);
        assert_eq!(big.dimensions(), (8, 4));
        let row: Vec<u8> = (0..8).map(|x| big.get_pixel(x, 1).0[0]).collect();
        // Flat on either side, a ramp across the edge between source columns 1 and 2.
        assert_eq!(row, vec![200, 200, 200, 150, 50, 0, 0, 0]);
        // Every row alike: the source rows are alike.
        assert!((0..4).all(|y| (0..8).all(|x| big.get_pixel(x, y) == big.get_pixel(x, 0))));
        assert_eq!(upsample(&GrayImage::new(0, 0), 3, 3).dimensions(), (3, 3));
        let one = upsample(&GrayImage::from_pixel(1, 1, Luma([7])), 3, 2);
        assert!(one.pixels().all(|p| p.0[0] == 7));
    }

    #[test]
    fn block_sums_match_a_plain_loop_including_the_short_last_blocks() {
        let img = speckled(100, 70);
        for block in [1u32, 3, 7, 100, 200] {
            let got = BlockSums::of(&img, block, u16::from);
            let dark = BlockSums::of(&img, block, |p| u16::from(p < 60));
            let (cols, rows) = (
                100usize.div_ceil(block as usize),
                70usize.div_ceil(block as usize),
            );
            assert_eq!((got.cols, got.rows), (cols, rows));
            for r in 0..rows {
                for c in 0..cols {
                    let (mut sum, mut n) = (0u32, 0u32);
                    for y in r as u32 * block..((r as u32 + 1) * block).min(70) {
                        for x in c as u32 * block..((c as u32 + 1) * block).min(100) {
                            let p = img.get_pixel(x, y).0[0];
                            sum += u32::from(p);
                            n += u32::from(p < 60);
                        }
                    }
                    assert_eq!(got.sums[r * cols + c], sum, "block {block} ({c}, {r})");
                    assert_eq!(dark.sums[r * cols + c], n, "block {block} ({c}, {r})");
                }
            }
        }
    }
}
