//! Rendering text pages the way a scanner would see them: real fonts (Liberation Serif, the
//! metric twin of Times New Roman that Vietnamese forms use, or DejaVu Serif), grey levels.

use std::path::{Path, PathBuf};

use ab_glyph::{point, Font, FontVec, PxScale, ScaleFont};
use image::{GrayImage, Luma};

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("no font with Vietnamese glyphs found (install Debian's fonts-liberation2 or fonts-dejavu-core, or set DOSSIER_FONT): looked at {0}")]
    NoFont(String),
    #[error("font {path}: {message}")]
    BadFont { path: PathBuf, message: String },
}

pub struct Fonts {
    pub regular: FontVec,
    pub bold: FontVec,
}

const FONT_DIRS: &[(&str, &str, &str)] = &[
    (
        "/usr/share/fonts/truetype/liberation2",
        "LiberationSerif-Regular.ttf",
        "LiberationSerif-Bold.ttf",
    ),
    (
        "/usr/share/fonts/truetype/liberation",
        "LiberationSerif-Regular.ttf",
        "LiberationSerif-Bold.ttf",
    ),
    (
        "/usr/share/fonts/truetype/dejavu",
        "DejaVuSerif.ttf",
        "DejaVuSerif-Bold.ttf",
    ),
];

impl Fonts {
    /// `DOSSIER_FONT` (and optionally `DOSSIER_FONT_BOLD`) override the search.
    pub fn find() -> Result<Fonts, RenderError> {
        if let Some(regular) = std::env::var_os("DOSSIER_FONT").map(PathBuf::from) {
            let bold = std::env::var_os("DOSSIER_FONT_BOLD")
                .map_or_else(|| regular.clone(), PathBuf::from);
            return Fonts::load(&regular, &bold);
        }
        let mut looked = Vec::new();
        for (dir, regular, bold) in FONT_DIRS {
            let (r, b) = (Path::new(dir).join(regular), Path::new(dir).join(bold));
            if r.is_file() && b.is_file() {
                return Fonts::load(&r, &b);
            }
            looked.push(r.display().to_string());
        }
        Err(RenderError::NoFont(looked.join(", ")))
    }

    fn load(regular: &Path, bold: &Path) -> Result<Fonts, RenderError> {
        let load = |p: &Path| {
            let bytes = std::fs::read(p).map_err(|e| RenderError::BadFont {
                path: p.to_owned(),
                message: e.to_string(),
            })?;
            let font = FontVec::try_from_vec(bytes).map_err(|e| RenderError::BadFont {
                path: p.to_owned(),
                message: e.to_string(),
            })?;
            // Every Vietnamese letter must be a real glyph, or OCR truth would be wrong.
            if let Some(c) = "ĐĂÂÊÔƠƯđăâêôơưẠẢẤẦẨẪẬẮẰẲẴẶẸẺẼẾỀỂỄỆỈỊỌỎỐỒỔỖỘỚỜỞỠỢỤỦỨỪỬỮỰỲỴỶỸ"
                .chars()
                .find(|c| font.glyph_id(*c).0 == 0)
            {
                return Err(RenderError::BadFont {
                    path: p.to_owned(),
                    message: format!("has no glyph for {c:?}"),
                });
            }
            Ok(font)
        };
        Ok(Fonts {
            regular: load(regular)?,
            bold: load(bold)?,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Align {
    Left,
    Center,
}

/// One line of a form as printed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Line {
    pub text: String,
    pub bold: bool,
    pub points: f32,
    pub align: Align,
}

impl Line {
    pub fn body(text: impl Into<String>) -> Line {
        Line {
            text: text.into(),
            bold: false,
            points: 13.0,
            align: Align::Left,
        }
    }
    pub fn heading(text: impl Into<String>, points: f32) -> Line {
        Line {
            text: text.into(),
            bold: true,
            points,
            align: Align::Center,
        }
    }
    pub fn gap() -> Line {
        Line::body("")
    }
}

/// Paper size in millimetres.
#[derive(Debug, Clone, Copy)]
pub struct Paper {
    pub width_mm: f32,
    pub height_mm: f32,
}

pub const A4: Paper = Paper {
    width_mm: 210.0,
    height_mm: 297.0,
};

/// Renders lines on paper at `dpi`, wrapping long lines within 20 mm margins. Returns the
/// page and the text as printed (one entry per printed line: the OCR ground truth).
pub fn render_page(
    fonts: &Fonts,
    lines: &[Line],
    paper: Paper,
    dpi: u32,
) -> (GrayImage, Vec<String>) {
    let px = |mm: f32| (mm / 25.4 * dpi as f32).round();
    let (w, h) = (px(paper.width_mm) as u32, px(paper.height_mm) as u32);
    let mut img = GrayImage::from_pixel(w, h, Luma([247]));
    let (left, right) = (px(20.0), w as f32 - px(20.0));
    let mut baseline = px(18.0);
    let mut printed = Vec::new();
    for line in lines {
        let font = if line.bold {
            &fonts.bold
        } else {
            &fonts.regular
        };
        let scale = PxScale::from(line.points * dpi as f32 / 72.0);
        let scaled = font.as_scaled(scale);
        let line_height = scaled.height() * 1.35;
        if line.text.is_empty() {
            baseline += line_height * 0.6;
            continue;
        }
        for piece in wrap(font, scale, &line.text, right - left) {
            let width = measure(font, scale, &piece);
            let x0 = match line.align {
                Align::Left => left,
                Align::Center => ((w as f32 - width) / 2.0).max(left),
            };
            baseline += line_height;
            if baseline + scaled.descent().abs() >= h as f32 {
                return (img, printed);
            }
            draw(&mut img, font, scale, &piece, x0, baseline);
            printed.push(piece);
        }
    }
    (img, printed)
}

fn measure(font: &FontVec, scale: PxScale, text: &str) -> f32 {
    let scaled = font.as_scaled(scale);
    let mut width = 0.0;
    let mut prev = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = prev {
            width += scaled.kern(p, id);
        }
        width += scaled.h_advance(id);
        prev = Some(id);
    }
    width
}

fn wrap(font: &FontVec, scale: PxScale, text: &str, max_width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let candidate = if current.is_empty() {
            word.to_owned()
        } else {
            format!("{current} {word}")
        };
        if !current.is_empty() && measure(font, scale, &candidate) > max_width {
            lines.push(std::mem::replace(&mut current, word.to_owned()));
        } else {
            current = candidate;
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

fn draw(img: &mut GrayImage, font: &FontVec, scale: PxScale, text: &str, x0: f32, baseline: f32) {
    let scaled = font.as_scaled(scale);
    let mut x = x0;
    let mut prev = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = prev {
            x += scaled.kern(p, id);
        }
        let glyph = id.with_scale_and_position(scale, point(x, baseline));
        x += scaled.h_advance(id);
        prev = Some(id);
        let Some(outlined) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outlined.px_bounds();
        outlined.draw(|gx, gy, coverage| {
            let (px, py) = (
                bounds.min.x as i64 + gx as i64,
                bounds.min.y as i64 + gy as i64,
            );
            if px >= 0 && py >= 0 && (px as u32) < img.width() && (py as u32) < img.height() {
                let p = img.get_pixel_mut(px as u32, py as u32);
                let ink = (coverage.clamp(0.0, 1.0) * 235.0) as u8;
                p.0[0] = p.0[0].saturating_sub(ink).max(12);
            }
        });
    }
}
