//! Where a one-image PDF page draws its image: the matrix in force at the image's `Do`
//! ([`placement`]), what it does to the pixels ([`Placed`]), and the decoded pixels laid out
//! as a viewer shows them ([`rotated`], [`turned`]). A placement at another angle, or sheared,
//! is left to the renderer ([`super::render`]).

use image::GrayImage;
use lopdf::{Dictionary, Document, ObjectId};

/// Content operators read while looking for the image's `Do` (a scanner's page has a handful;
/// an OCR'd page's text layer, thousands).
const MAX_PLACEMENT_OPS: usize = 200_000;

/// How far from a quarter turn a placement may be and still count as one, as a share of its
/// largest entry: about 0.06°, a few pixels' drift across a page at 300 dpi.
const AXIS_TOLERANCE: f64 = 1e-3;

/// A PDF matrix `[a b c d e f]`: (x, y) → (a·x + c·y + e, b·x + d·y + f).
pub(crate) type Matrix = [f64; 6];

pub(crate) const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

/// `inner` then `outer`: what `cm` does (the new matrix applies first, then the current one).
fn concat(inner: &Matrix, outer: &Matrix) -> Matrix {
    let [a1, b1, c1, d1, e1, f1] = *inner;
    let [a2, b2, c2, d2, e2, f2] = *outer;
    [
        a1 * a2 + b1 * c2,
        a1 * b2 + b1 * d2,
        c1 * a2 + d1 * c2,
        c1 * b2 + d1 * d2,
        e1 * a2 + f1 * c2 + e2,
        e1 * b2 + f1 * d2 + f2,
    ]
}

/// The matrix in force when the page's content first draws image `image` (`Do` of a name its
/// resources give that object): it maps the image's unit square onto the page. None when the
/// content never draws it directly (inside a form, say) or is too long to follow. Odd content
/// is read as viewers read it: a `cm` without six numbers is skipped, a `Q` with nothing saved
/// is ignored, and the walk stops where the content stops parsing.
pub(crate) fn placement(
    doc: &Document,
    resources: Option<&Dictionary>,
    image: ObjectId,
    content: &[u8],
) -> Option<Matrix> {
    let xobjects = resources?
        .get(b"XObject")
        .ok()
        .and_then(|o| doc.dereference(o).ok().map(|(_, o)| o))
        .and_then(|o| o.as_dict().ok())?;
    let names: Vec<&[u8]> = xobjects
        .iter()
        .filter(|(_, v)| v.as_reference().ok() == Some(image))
        .map(|(k, _)| k.as_slice())
        .collect();
    if names.is_empty() {
        return None;
    }
    let mut ctm = IDENTITY;
    let mut saved: Vec<Matrix> = Vec::new();
    for op in lopdf::content::Content::decode_iter(content).take(MAX_PLACEMENT_OPS) {
        let op = op.ok()?;
        match op.operator.as_str() {
            // Nesting is bounded by the operator count.
            "q" => saved.push(ctm),
            "Q" => ctm = saved.pop().unwrap_or(ctm),
            "cm" => {
                let n: Vec<f64> = op
                    .operands
                    .iter()
                    .filter_map(|o| o.as_float().ok().map(f64::from))
                    .collect();
                if let [a, b, c, d, e, f] = n[..] {
                    if n.iter().all(|v| v.is_finite()) && op.operands.len() == 6 {
                        ctm = concat(&[a, b, c, d, e, f], &ctm);
                    }
                }
            }
            "Do" => {
                let name = op.operands.first().and_then(|o| o.as_name().ok());
                if name.is_some_and(|n| names.contains(&n)) {
                    return Some(ctm);
                }
            }
            _ => {}
        }
    }
    None
}

/// How an image is placed, as the page is seen (x to the right, y down, before /Rotate).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Placed {
    /// Along the page's axes: where the image's columns (`column`, left to right as stored)
    /// and rows (`row`, top to bottom as stored) run on the page, each a unit step.
    Axes { column: (i32, i32), row: (i32, i32) },
    /// At another angle, sheared, or flat.
    Other,
}

impl Placed {
    /// Image space is the unit square with the image's first row at the top (v = 1): a step
    /// along a row is (a, b) in user space, a step down the rows is −(c, d); the page is seen
    /// with y flipped, so those run (a, −b) and (−c, d) on the page.
    pub(crate) fn of(m: Matrix) -> Placed {
        let [a, b, c, d, _, _] = m;
        let scale = a.abs().max(b.abs()).max(c.abs()).max(d.abs());
        if !scale.is_finite() || scale <= 0.0 {
            return Placed::Other;
        }
        let small = |v: f64| v.abs() <= AXIS_TOLERANCE * scale;
        let sign = |v: f64| if v < 0.0 { -1 } else { 1 };
        if small(b) && small(c) && !small(a) && !small(d) {
            Placed::Axes {
                column: (sign(a), 0),
                row: (0, sign(d)),
            }
        } else if small(a) && small(d) && !small(b) && !small(c) {
            Placed::Axes {
                column: (0, -sign(b)),
                row: (-sign(c), 0),
            }
        } else {
            Placed::Other
        }
    }
}

pub(crate) type Axes = ((i32, i32), (i32, i32));

/// Where an image's `column` and `row` axes (see [`Placed::Axes`]) run once the page is
/// turned clockwise by `rotate` (/Rotate; a value that is not a multiple of 90 is not applied).
pub(crate) fn rotated(column: (i32, i32), row: (i32, i32), rotate: i64) -> Axes {
    // Turning the page a quarter clockwise (y down) takes a step (x, y) to (−y, x).
    let quarter = |(x, y): (i32, i32)| (-y, x);
    let quarters = if rotate % 90 == 0 {
        (rotate / 90).rem_euclid(4)
    } else {
        0
    };
    let (mut column, mut row) = (column, row);
    for _ in 0..quarters {
        column = quarter(column);
        row = quarter(row);
    }
    (column, row)
}

/// The decoded image laid out as seen: its columns along `column`, its rows along `row`
/// (unit steps along the axes, from [`rotated`]).
pub(crate) fn turned(grey: GrayImage, column: (i32, i32), row: (i32, i32)) -> GrayImage {
    if column == (1, 0) && row == (0, 1) {
        return grey;
    }
    let (w, h) = grey.dimensions();
    let (out_w, out_h) = if column.0 != 0 { (w, h) } else { (h, w) };
    // Where stored pixel (0, 0) lands: at the far end of each axis that runs backwards.
    let start = |along_column: i32, along_row: i32| {
        let mut at = 0i64;
        if along_column < 0 {
            at += i64::from(w) - 1;
        }
        if along_row < 0 {
            at += i64::from(h) - 1;
        }
        at
    };
    let (x0, y0) = (start(column.0, row.0), start(column.1, row.1));
    let src = grey.as_raw();
    let mut out = vec![0u8; src.len()];
    for j in 0..i64::from(h) {
        for i in 0..i64::from(w) {
            let x = x0 + i * i64::from(column.0) + j * i64::from(row.0);
            let y = y0 + i * i64::from(column.1) + j * i64::from(row.1);
            out[(y * i64::from(out_w) + x) as usize] = src[(j * i64::from(w) + i) as usize];
        }
    }
    GrayImage::from_raw(out_w, out_h, out).unwrap_or(grey)
}
