//! Black scan borders: the dark band a scanner leaves where its lid or the glass shows past the
//! paper's edge, often ragged and slanted with the page. [`measure`] says how much of each edge
//! is such a band (for the quality checks' "black border" flag); [`whiten`] paints the bands
//! white in OCR's copy, where they would otherwise be read as letters or upset layout analysis.
//! The original is archived as it came.
//!
//! A band is found row by row (and column by column) on a grid of small blocks: a run of dark
//! blocks starting at the edge, then the grey shadow along the paper's edge. Runs deeper than
//! a third of the page are not borders (a dark photograph, a negative) and are left alone.

use image::{GrayImage, Luma};

use super::pixels::BlockSums;

/// A block is dark when its mean grey is below this (scanner lids scan at 10–60).
const DARK: u32 = 90;
/// After the dark run, blocks below this are the shadow along the paper's edge.
const SHADOW: u32 = 200;
/// At most this many shadow blocks are taken after a dark run.
const MAX_SHADOW_BLOCKS: usize = 3;

/// How much of one edge is black border.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Edge {
    /// Share of the edge's length along which a band starts at the edge, 0..1.
    pub covered: f32,
    /// The deepest band, as a share of the page's extent across that edge, 0..1.
    pub depth: f32,
}

/// The black border on each edge of a page.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Borders {
    pub top: Edge,
    pub bottom: Edge,
    pub left: Edge,
    pub right: Edge,
}

impl Borders {
    /// Whether any edge carries a band of at least `min_depth` (share of the page) along at
    /// least `min_covered` of its length.
    pub fn any(&self, min_depth: f32, min_covered: f32) -> bool {
        [self.top, self.bottom, self.left, self.right]
            .iter()
            .any(|e| e.depth >= min_depth && e.covered >= min_covered)
    }
}

/// Block means on a grid: `block`×`block` pixels each (the last row and column may be short).
struct Grid {
    block: u32,
    cols: usize,
    rows: usize,
    mean: Vec<u32>,
}

impl Grid {
    fn of(image: &GrayImage) -> Grid {
        let (w, h) = image.dimensions();
        // About 1,000 blocks along the long side: 3–4 px at 300 dpi, enough to average noise.
        let block = (w.max(h) / 1000).max(1);
        let BlockSums { cols, rows, sums } = BlockSums::of(image, block, u16::from);
        // Blocks in the last row and column may be short: divide by what they hold.
        let extent = |i: usize, total: u32| (total - i as u32 * block).min(block).max(1);
        let mean = sums
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let (c, r) = (i % cols, i / cols);
                s / (extent(c, w) * extent(r, h))
            })
            .collect();
        Grid {
            block,
            cols,
            rows,
            mean,
        }
    }

    /// Blocks of border along a line of blocks read from one end: the dark run, then its shadow.
    fn run(&self, line: impl Iterator<Item = usize>, limit: usize) -> usize {
        let mut dark = 0;
        let mut shadow = 0;
        for (n, i) in line.enumerate() {
            let m = self.mean[i];
            if shadow == 0 && m < DARK {
                dark = n + 1;
            } else if dark > 0 && m < SHADOW && shadow < MAX_SHADOW_BLOCKS {
                shadow += 1;
            } else {
                break;
            }
        }
        if dark == 0 || dark > limit {
            0
        } else {
            dark + shadow
        }
    }

    /// Border depth in blocks per row (from the left and from the right) and per column
    /// (from the top and from the bottom).
    fn runs(&self) -> [Vec<usize>; 4] {
        let (cols, rows) = (self.cols, self.rows);
        let left = (0..rows)
            .map(|r| self.run((0..cols).map(|c| r * cols + c), cols / 3))
            .collect();
        let right = (0..rows)
            .map(|r| self.run((0..cols).rev().map(|c| r * cols + c), cols / 3))
            .collect();
        let top = (0..cols)
            .map(|c| self.run((0..rows).map(|r| r * cols + c), rows / 3))
            .collect();
        let bottom = (0..cols)
            .map(|c| self.run((0..rows).rev().map(|r| r * cols + c), rows / 3))
            .collect();
        [top, bottom, left, right]
    }
}

fn edge(runs: &[usize], across: usize) -> Edge {
    if runs.is_empty() || across == 0 {
        return Edge::default();
    }
    let covered = runs.iter().filter(|&&r| r > 0).count() as f32 / runs.len() as f32;
    let depth = *runs.iter().max().unwrap_or(&0) as f32 / across as f32;
    Edge { covered, depth }
}

fn borders_of(grid: &Grid, runs: &[Vec<usize>; 4]) -> Borders {
    let [top, bottom, left, right] = runs;
    Borders {
        top: edge(top, grid.rows),
        bottom: edge(bottom, grid.rows),
        left: edge(left, grid.cols),
        right: edge(right, grid.cols),
    }
}

/// How much of each edge of the page is black scan border.
pub fn measure(image: &GrayImage) -> Borders {
    if image.width() == 0 || image.height() == 0 {
        return Borders::default();
    }
    let grid = Grid::of(image);
    borders_of(&grid, &grid.runs())
}

/// Paints the black scan borders white and says what they were. A page without any is left
/// untouched (and costs one pass over its pixels). Where two bands meet, each runs deeper than
/// a third of the page along the other: a second round, after the first has painted, takes the
/// corner.
pub fn whiten(image: &mut GrayImage) -> Borders {
    if image.width() == 0 || image.height() == 0 {
        return Borders::default();
    }
    let grid = Grid::of(image);
    let runs = grid.runs();
    let found = borders_of(&grid, &runs);
    if paint(image, &grid, &runs) {
        let grid = Grid::of(image);
        paint(image, &grid, &grid.runs());
    }
    found
}

/// Paints the runs white; false when there were none.
fn paint(image: &mut GrayImage, grid: &Grid, runs: &[Vec<usize>; 4]) -> bool {
    if runs.iter().all(|r| r.iter().all(|&n| n == 0)) {
        return false;
    }
    let (w, h) = image.dimensions();
    let b = grid.block;
    let white = Luma([255u8]);
    let [top, bottom, left, right] = runs;
    for (r, (&l, &rt)) in left.iter().zip(right).enumerate() {
        let (y0, y1) = (r as u32 * b, ((r as u32 + 1) * b).min(h));
        for y in y0..y1 {
            for x in 0..(l as u32 * b).min(w) {
                image.put_pixel(x, y, white);
            }
            for x in w.saturating_sub(rt as u32 * b)..w {
                image.put_pixel(x, y, white);
            }
        }
    }
    for (c, (&t, &bt)) in top.iter().zip(bottom).enumerate() {
        let (x0, x1) = (c as u32 * b, ((c as u32 + 1) * b).min(w));
        for x in x0..x1 {
            for y in 0..(t as u32 * b).min(h) {
                image.put_pixel(x, y, white);
            }
            for y in h.saturating_sub(bt as u32 * b)..h {
                image.put_pixel(x, y, white);
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Paper with a few dark "words" well inside its margins.
    fn page() -> GrayImage {
        let mut img = GrayImage::from_pixel(1200, 1700, Luma([245]));
        for line in 0..20 {
            for x in 200..1000 {
                if (x / 40) % 4 != 3 {
                    for y in 300 + line * 50..312 + line * 50 {
                        img.put_pixel(x, y, Luma([20]));
                    }
                }
            }
        }
        img
    }

    #[test]
    fn a_clean_page_has_no_border_and_is_left_untouched() {
        let mut img = page();
        let before = img.clone();
        let found = whiten(&mut img);
        assert_eq!(found, Borders::default());
        assert!(!found.any(0.005, 0.2));
        assert_eq!(img, before);
    }

    #[test]
    fn black_bands_are_measured_per_edge_and_painted_white_but_text_stays() {
        let mut img = page();
        // 60 px of lid on the left, 40 px on top over the left half only, ragged on the right.
        for y in 0..1700 {
            for x in 0..60 {
                img.put_pixel(x, y, Luma([25]));
            }
            for x in 1200 - 30 - (y % 3) * 5..1200 {
                img.put_pixel(x, y, Luma([40]));
            }
        }
        for y in 0..40 {
            for x in 0..600 {
                img.put_pixel(x, y, Luma([30]));
            }
        }
        let found = measure(&img);
        // The rows of the top band run deeper than a third of the page from the left.
        assert!(found.left.covered > 0.95, "{found:?}");
        assert!((0.04..0.07).contains(&found.left.depth), "{found:?}");
        assert!(
            found.right.covered > 0.99 && found.right.depth > 0.02,
            "{found:?}"
        );
        assert!((0.4..0.56).contains(&found.top.covered), "{found:?}");
        // Only the ragged band's teeth reach the bottom edge.
        assert!(found.bottom.depth < 0.002, "{found:?}");
        assert!(found.any(0.01, 0.2));

        let text_before: Vec<u8> = (200..1000).map(|x| img.get_pixel(x, 305).0[0]).collect();
        whiten(&mut img);
        for (x, y) in [(0, 0), (59, 900), (1199, 1000), (1170, 5), (300, 39)] {
            assert_eq!(img.get_pixel(x, y).0[0], 255, "({x}, {y})");
        }
        let text_after: Vec<u8> = (200..1000).map(|x| img.get_pixel(x, 305).0[0]).collect();
        assert_eq!(text_before, text_after);
        assert_eq!(measure(&img), Borders::default());
    }

    #[test]
    fn a_dark_half_page_is_not_a_border() {
        let mut img = page();
        for y in 0..1700 {
            for x in 0..700 {
                img.put_pixel(x, y, Luma([10]));
            }
        }
        let before = img.clone();
        assert_eq!(measure(&img).left, Edge::default());
        whiten(&mut img);
        assert_eq!(img.get_pixel(10, 10).0[0], before.get_pixel(10, 10).0[0]);
    }
}
