//! A cheap look at a page's layout before OCR, to choose how Tesseract segments it.
//!
//! Tesseract's automatic layout analysis (page segmentation mode 3: rule lines, images, tab
//! stops, columns) is about a fifth of the CPU a page costs; mode 6, one uniform block of
//! text, skips it and reads an ordinary one-column page as well, but reads a two-column page
//! straight across its columns. This test sends a page to mode 6 only when it is plainly one
//! column of text: no gutter (a wide band without ink, with ink either side, on several lines
//! in a row), no vertical rule (tables, boxes) and no tall block of ink (a photo, a stamp
//! over text, lines too close to tell apart). Anything else, or anything it cannot measure,
//! keeps mode 3.

use image::GrayImage;

use crate::decode::pixels::BlockSums;

/// The grid the page is looked at: one cell per `dpi / GRID_DPI` pixels each way, its mean
/// grey. Averaging cells drowns scanner speckle that a single sample would count as ink.
const GRID_DPI: u32 = 100;
/// A gap this wide inside a line is no word space (1–2 mm at body sizes): a gutter or a tab.
const GUTTER_MM: f32 = 5.0;
/// A gutter counts when it runs through this many text lines in a row.
const GUTTER_LINES: usize = 3;
/// A band of inked rows taller than this is no line of text: a photo, a table, a stamp.
const MAX_LINE_MM: f32 = 14.0;
/// A column of ink running this far down the page is a rule: a table or a box.
const RULE_MM: f32 = 20.0;
/// More than one speckled cell in this many and the page is noisy.
const MAX_SPECKLES_PER: usize = 2000;
/// Fewer lines than this and there is too little to judge.
const MIN_LINES: usize = 3;

/// True when the page is one plain column of text, safe to read as one block (mode 6).
/// `image` is the page as OCR sees it (levelled when corrections are on), scanned at `dpi`.
pub fn one_column(image: &GrayImage, dpi: u32) -> bool {
    let Some(grid) = Grid::of(image, dpi) else {
        return false;
    };
    // One block keeps every speck as a character ("_", ":", ".."); the layout analysis
    // drops specks outside text lines. A page of noise keeps mode 3.
    if grid.speckles * MAX_SPECKLES_PER > grid.w * grid.h {
        return false;
    }
    let mm = |v: f32| (v * GRID_DPI as f32 / 25.4).round() as usize;
    let lines = grid.lines();
    if lines.len() < MIN_LINES || lines.iter().any(|l| l.1 - l.0 > mm(MAX_LINE_MM)) {
        return false;
    }
    if grid.longest_vertical_run() > mm(RULE_MM) {
        return false;
    }
    !grid.has_gutter(&lines, mm(GUTTER_MM).max(2))
}

/// The page as cells: true where the cell's mean is dark enough to be ink.
struct Grid {
    ink: Vec<bool>,
    w: usize,
    h: usize,
    /// Cells holding a dark pixel or two and no dark pixel around: scanner noise.
    speckles: usize,
}

/// Paper is most of any page: the median cell is its grey.
fn median(means: &[u8]) -> u32 {
    let mut hist = [0usize; 256];
    for &m in means {
        hist[m as usize] += 1;
    }
    let mut seen = 0;
    (0..256usize)
        .find(|&v| {
            seen += hist[v];
            seen * 2 >= means.len()
        })
        .unwrap_or(255) as u32
}

impl Grid {
    fn of(image: &GrayImage, dpi: u32) -> Option<Grid> {
        let step = (dpi / GRID_DPI).max(1) as usize;
        let (iw, ih) = (image.width() as usize, image.height() as usize);
        let (w, h) = (iw / step, ih / step);
        if w < 20 || h < 20 {
            return None;
        }
        // Only whole cells: the short last column and row of cells are left out.
        let cells = |sums: &BlockSums| -> Vec<u32> {
            let mut out = Vec::with_capacity(w * h);
            for y in 0..h {
                out.extend_from_slice(&sums.sums[y * sums.cols..y * sums.cols + w]);
            }
            out
        };
        // floor(sum / area), exactly, in floating point (which vectorises; integer division
        // does not): the half keeps a whole multiple of the area from rounding down.
        let area = (step * step) as f32;
        let greys = BlockSums::of(image, step as u32, u16::from);
        let means: Vec<u8> = cells(&greys)
            .iter()
            .map(|&s| ((s as f32 + 0.5) / area) as u8)
            .collect();
        let paper = median(&means);
        if paper < 128 {
            // Dark or inverted pages: leave them to Tesseract's own analysis.
            return None;
        }
        // Pixels far darker than the paper, counted per cell: speckle is a cell or two of
        // them with none around; a stroke of text fills neighbouring cells too.
        let dark_below = (paper / 2) as u8;
        let dark = cells(&BlockSums::of(image, step as u32, |p| {
            u16::from(p < dark_below)
        }));
        let mut speckles = 0;
        for y in 1..h - 1 {
            for x in 1..w - 1 {
                let d = dark[y * w + x];
                if d == 0 || d as usize > step {
                    continue;
                }
                let alone = [y - 1, y, y + 1].iter().all(|&ny| {
                    [x - 1, x, x + 1]
                        .iter()
                        .all(|&nx| (ny, nx) == (y, x) || dark[ny * w + nx] == 0)
                });
                speckles += usize::from(alone);
            }
        }
        // Ink is well below the paper's grey.
        let threshold = (paper * 3 / 4) as u8;
        Some(Grid {
            ink: means.iter().map(|&m| m < threshold).collect(),
            w,
            h,
            speckles,
        })
    }

    fn row(&self, y: usize) -> &[bool] {
        &self.ink[y * self.w..(y + 1) * self.w]
    }

    /// Bands of rows holding ink (two cells or more), top to bottom: `(first, end)` rows.
    fn lines(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut start = None;
        for y in 0..=self.h {
            let inked = y < self.h && self.row(y).iter().filter(|&&i| i).count() >= 2;
            match (inked, start) {
                (true, None) => start = Some(y),
                (false, Some(s)) => {
                    out.push((s, y));
                    start = None;
                }
                _ => {}
            }
        }
        out
    }

    /// The longest run of ink cells down any one column.
    fn longest_vertical_run(&self) -> usize {
        let mut run = vec![0usize; self.w];
        let mut longest = 0;
        for y in 0..self.h {
            for (r, &i) in run.iter_mut().zip(self.row(y)) {
                *r = if i { *r + 1 } else { 0 };
                longest = longest.max(*r);
            }
        }
        longest
    }

    /// True when a band at least `width` cells wide is empty inside `GUTTER_LINES` lines in a
    /// row, each inked on both sides of it.
    fn has_gutter(&self, lines: &[(usize, usize)], width: usize) -> bool {
        // How many lines in a row each column has been inside a wide gap.
        let mut run = vec![0usize; self.w];
        let mut occupied = vec![0u8; self.w];
        for &(top, end) in lines {
            occupied.iter_mut().for_each(|o| *o = 0);
            for y in top..end {
                for (o, &i) in occupied.iter_mut().zip(self.row(y)) {
                    *o = o.saturating_add(i as u8);
                }
            }
            // A column holds ink in this line when two of its cells do: a lone cell is speckle.
            let inked: Vec<bool> = occupied.iter().map(|&o| o >= 2).collect();
            let mut in_gap = vec![false; self.w];
            if let (Some(first), Some(last)) = (
                inked.iter().position(|&i| i),
                inked.iter().rposition(|&i| i),
            ) {
                let mut x = first;
                while x < last {
                    if inked[x] {
                        x += 1;
                        continue;
                    }
                    let gap_end = (x..last).find(|&g| inked[g]).unwrap_or(last);
                    if gap_end - x >= width {
                        in_gap[x..gap_end].iter_mut().for_each(|g| *g = true);
                    }
                    x = gap_end;
                }
            }
            for (r, &g) in run.iter_mut().zip(&in_gap) {
                *r = if g { *r + 1 } else { 0 };
            }
            // The gap must be `width` wide in all those lines together, not only in each.
            let mut wide = 0;
            for &r in &run {
                wide = if r >= GUTTER_LINES { wide + 1 } else { 0 };
                if wide >= width {
                    return true;
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::render::{render_page, Fonts, Line, Paper, A4};
    use image::Luma;

    fn body(n: usize) -> Vec<Line> {
        let mut lines = vec![
            Line::heading("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 13.0),
            Line::heading("Độc lập - Tự do - Hạnh phúc", 13.0),
            Line::gap(),
        ];
        for i in 0..n {
            lines.push(Line::body(format!(
                "Dòng {i}: Ủy ban nhân dân phường Đông Lễ tiếp nhận hồ sơ đăng ký hộ kinh doanh của công dân."
            )));
        }
        lines
    }

    #[test]
    fn a_page_of_one_column_is_one_column_and_two_columns_are_not() {
        let fonts = Fonts::find().expect("fonts");
        let (page, _) = render_page(&fonts, &body(20), A4, 300);
        assert!(one_column(&page, 300));

        // Two columns as the CER bench lays them: 100 mm wide, the second 90 mm in.
        let column = Paper {
            width_mm: 100.0,
            height_mm: A4.height_mm,
        };
        let (col, _) = render_page(&fonts, &body(12), column, 300);
        let mut two = GrayImage::from_pixel(page.width(), page.height(), Luma([247]));
        let x0 = (90.0f32 / 25.4 * 300.0).round() as u32;
        for (x, y, p) in col.enumerate_pixels() {
            for dx in [0, x0] {
                if x + dx < two.width() {
                    let q = two.get_pixel_mut(x + dx, y);
                    q.0[0] = q.0[0].min(p.0[0]);
                }
            }
        }
        assert!(!one_column(&two, 300));
    }

    #[test]
    fn tables_photos_blank_and_dark_pages_keep_the_layout_analysis() {
        let fonts = Fonts::find().expect("fonts");
        let (page, _) = render_page(&fonts, &body(20), A4, 300);
        // A ruled box around part of the text.
        let mut boxed = page.clone();
        for y in 600..1400 {
            for x in [200, 2200] {
                for dx in 0..4 {
                    boxed.put_pixel(x + dx, y, Luma([10]));
                }
            }
        }
        assert!(!one_column(&boxed, 300));
        // A photo.
        let mut photo = page.clone();
        for y in 2400..2900 {
            for x in 300..700 {
                photo.put_pixel(x, y, Luma([((x + y) % 90) as u8]));
            }
        }
        assert!(!one_column(&photo, 300));
        // Scanner speckle: one dark pixel in a thousand, scattered.
        let mut specks = page.clone();
        let mut state = 0x9E37_79B9u32;
        for p in specks.pixels_mut() {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            if state.is_multiple_of(1000) {
                p.0[0] = 40;
            }
        }
        assert!(!one_column(&specks, 300));
        assert!(!one_column(
            &GrayImage::from_pixel(2480, 3508, Luma([250])),
            300
        ));
        assert!(!one_column(
            &GrayImage::from_pixel(2480, 3508, Luma([20])),
            300
        ));
        assert!(!one_column(&GrayImage::new(10, 10), 300));
    }
}
