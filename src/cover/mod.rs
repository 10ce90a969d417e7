//! Cover sheets: the page staff put in front of each dossier in a long batch scan. It carries
//! the dossier's place in the layout as a QR code and a Code 128 barcode
//! (`PROCEDURE/DOSSIER` for input, `PROCEDURE/DOSSIER/result` for results).
//! [`read`] tells a cover sheet from a document page; [`sheets_pdf`] prints them.

pub mod code128;

use image::{GrayImage, Luma};

use crate::intake::layout::{validate_code, Kind};

/// What a page is, as far as batch splitting goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// A page of a document.
    Page,
    /// A cover sheet and the text its code carries.
    Cover(String),
    /// A cover sheet whose code cannot be read.
    Unreadable(String),
}

/// Where a cover sheet's pages belong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverCode {
    pub procedure: String,
    pub dossier: String,
    pub kind: Kind,
}

impl CoverCode {
    pub fn text(&self) -> String {
        match self.kind {
            Kind::Input => format!("{}/{}", self.procedure, self.dossier),
            Kind::Result => format!("{}/{}/result", self.procedure, self.dossier),
        }
    }
}

/// Parses a cover sheet's text: `PROCEDURE/DOSSIER[/input|/result]`, codes as the layout
/// accepts them (no `..`, no further slashes, no control characters).
pub fn parse(text: &str) -> Result<CoverCode, String> {
    let printable: String = text.chars().flat_map(char::escape_default).collect();
    let parts: Vec<&str> = text.split('/').collect();
    let (procedure, dossier, kind) = match parts.as_slice() {
        [p, d] => (*p, *d, Kind::Input),
        [p, d, k] => match Kind::parse(k) {
            Some(kind) => (*p, *d, kind),
            None => {
                return Err(format!(
                    "cover sheet code \"{printable}\": last part is not input or result"
                ))
            }
        },
        _ => {
            return Err(format!(
                "cover sheet code \"{printable}\" is not PROCEDURE/DOSSIER[/result]"
            ))
        }
    };
    for (what, code) in [("procedure", procedure), ("dossier", dossier)] {
        validate_code(code)
            .map_err(|why| format!("cover sheet code \"{printable}\": {what} code {why}"))?;
    }
    Ok(CoverCode {
        procedure: procedure.to_owned(),
        dossier: dossier.to_owned(),
        kind,
    })
}

/// Looks for a cover sheet's QR code or Code 128 barcode on a page.
pub fn read(image: &GrayImage) -> Reading {
    if image.width() < 50 || image.height() < 50 {
        return Reading::Page;
    }
    // Code 128 first (cheap): scan lines across the whole page at full resolution.
    let (w, h) = image.dimensions();
    let mut damaged = false;
    let mut row = vec![false; w as usize];
    for i in 1..60 {
        let y = h * i / 60;
        for (x, d) in row.iter_mut().enumerate() {
            *d = image.get_pixel(x as u32, y).0[0] < 128;
        }
        match code128::scan_line(&row) {
            code128::Scan::Text(t) => return Reading::Cover(t),
            code128::Scan::Damaged => damaged = true,
            code128::Scan::Nothing => {}
        }
    }
    // QR detection at about 100 dpi on A4: enough for the sheet's 2 mm modules.
    let factor = ((w as f32 / 830.0).round() as u32).max(1);
    let small = if factor > 1 {
        image::imageops::resize(
            image,
            w / factor,
            h / factor,
            image::imageops::FilterType::Triangle,
        )
    } else {
        image.clone()
    };
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        small.width() as usize,
        small.height() as usize,
        |x, y| small.get_pixel(x as u32, y as u32).0[0],
    );
    let grids = prepared.detect_grids();
    for grid in &grids {
        if let Ok((_, text)) = grid.decode() {
            return Reading::Cover(text);
        }
    }
    damaged |= !grids.is_empty();
    if damaged {
        Reading::Unreadable("cover sheet found but its code cannot be read".into())
    } else {
        Reading::Page
    }
}

/// Which codes a sheet carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Symbols {
    pub qr: bool,
    pub code128: bool,
}

impl Symbols {
    pub const BOTH: Symbols = Symbols {
        qr: true,
        code128: true,
    };
}

/// An A4 cover sheet at `dpi`: a QR code in the upper half, a Code 128 barcode below it.
/// `text` must be printable ASCII (codes are).
pub fn render_sheet(text: &str, symbols: Symbols, dpi: u32) -> Result<GrayImage, String> {
    let mm = |v: f32| (v / 25.4 * dpi as f32).round() as u32;
    let (w, h) = (mm(210.0), mm(297.0));
    let mut img = GrayImage::from_pixel(w, h, Luma([255]));
    let mut fill = |x0: u32, y0: u32, x1: u32, y1: u32| {
        for y in y0..y1.min(h) {
            for x in x0..x1.min(w) {
                img.put_pixel(x, y, Luma([0]));
            }
        }
    };
    if symbols.qr {
        let qr = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
            .map_err(|e| format!("cannot make a QR code of {text:?}: {e}"))?;
        let n = qr.width() as u32;
        let colors = qr.to_colors();
        // About 60 mm wide, in whole pixels per module.
        let module = (mm(60.0) / n).max(2);
        let x0 = (w - module * n) / 2;
        let y0 = mm(40.0);
        for (i, c) in colors.iter().enumerate() {
            if *c == qrcode::Color::Dark {
                let (mx, my) = ((i as u32) % n, (i as u32) / n);
                fill(
                    x0 + mx * module,
                    y0 + my * module,
                    x0 + (mx + 1) * module,
                    y0 + (my + 1) * module,
                );
            }
        }
    }
    if symbols.code128 {
        let widths = code128::encode(text)
            .ok_or_else(|| format!("{text:?} is not printable ASCII: no Code 128"))?;
        let modules: u32 = widths.iter().sum();
        // 0.33 mm modules print and scan well; narrower when the code is long.
        let module = (mm(180.0) / modules).clamp(1, mm(0.33).max(2));
        let mut x = (w - module * modules) / 2;
        let (y0, y1) = (mm(150.0), mm(175.0));
        for (i, wd) in widths.iter().enumerate() {
            if i % 2 == 0 {
                fill(x, y0, x + wd * module, y1);
            }
            x += wd * module;
        }
    }
    Ok(img)
}

/// A PDF of one cover sheet per code (both symbols, the code printed beneath them).
pub fn sheets_pdf(codes: &[CoverCode]) -> Result<Vec<u8>, String> {
    const DPI: u32 = 200;
    let mut images = Vec::new();
    for code in codes {
        images.push((code.text(), render_sheet(&code.text(), Symbols::BOTH, DPI)?));
    }
    let pages: Vec<crate::pdf::Page<'_>> = images
        .iter()
        .map(|(text, img)| crate::pdf::Page {
            image: crate::pdf::PageImage::Grey {
                pixels: img.as_raw(),
                width: img.width(),
                height: img.height(),
            },
            dpi: DPI,
            words: Vec::new(),
            visible: vec![
                (
                    56.0,
                    800.0,
                    18.0,
                    "TO BIA HO SO / DOSSIER COVER SHEET".to_owned(),
                ),
                (56.0, 300.0, 14.0, text.clone()),
                (
                    56.0,
                    270.0,
                    10.0,
                    "Place in front of the dossier's pages; scan into intake/_batch/.".to_owned(),
                ),
            ],
            rotate: 0,
        })
        .collect();
    Ok(crate::pdf::write(&pages))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_and_hostile_ones_are_refused() {
        let c = parse("1.001193/000.00.01.H50-240115-0001/result").unwrap();
        assert_eq!(c.kind, Kind::Result);
        assert_eq!(c.text(), "1.001193/000.00.01.H50-240115-0001/result");
        assert_eq!(parse("1.001193/X-1").unwrap().kind, Kind::Input);
        for bad in [
            "../etc/passwd",
            "1.001193/..",
            "a/b/c/d",
            "a/b\n",
            "a",
            "a/b/archive",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert!(!parse("a/b\u{7}").unwrap_err().contains('\u{7}'));
    }

    #[test]
    fn sheets_are_read_back_by_either_symbol_and_damage_is_noticed() {
        let text = "1.001193/000.00.01.H50-240115-0001";
        for symbols in [
            Symbols::BOTH,
            Symbols {
                qr: true,
                code128: false,
            },
            Symbols {
                qr: false,
                code128: true,
            },
        ] {
            let sheet = render_sheet(text, symbols, 150).unwrap();
            assert_eq!(read(&sheet), Reading::Cover(text.into()), "{symbols:?}");
        }
        // A faded patch across the QR code's data (its finder patterns intact).
        let mut sheet = render_sheet(
            text,
            Symbols {
                qr: true,
                code128: false,
            },
            150,
        )
        .unwrap();
        let (w, _) = sheet.dimensions();
        for y in 330..420 {
            for x in w / 2 - 90..w / 2 + 90 {
                sheet.put_pixel(x, y, Luma([255]));
            }
        }
        assert!(matches!(read(&sheet), Reading::Unreadable(_)));
        assert_eq!(
            read(&GrayImage::from_pixel(600, 800, Luma([255]))),
            Reading::Page
        );
    }
}
