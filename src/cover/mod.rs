//! Cover sheets: the page staff put in front of each dossier in a long batch scan. It carries
//! the dossier's place in the layout as a QR code and a Code 128 barcode, both holding the
//! same payload. [`read`] tells a cover sheet from a document page; [`sheets_pdf`] prints them.
//!
//! # The payload
//!
//! `TBHS1:PROCEDURE/DOSSIER` for input, `TBHS1:PROCEDURE/DOSSIER/result` for results
//! (`/input` is accepted too). `TBHS` stands for *tờ bìa hồ sơ* (dossier cover sheet), `1` is
//! the format's version and `:` ends the marker ([`MARKER`]). Both codes must pass the
//! layout's rules ([`validate_code`]: letters, digits, `.`, `-`, `_`, at most 64 characters,
//! not starting with a dot), so the payload is printable ASCII and fits a Code 128.
//!
//! Pages of a dossier carry barcodes of their own: a copy of a chip ID card (CCCD) has a QR
//! code holding the holder's ID number, name, birth date and address. So a code is a cover
//! sheet only by the marker, and what any other code holds is never kept, logged or reported:
//!
//! - a payload with the marker and valid codes is a cover sheet ([`Reading::Cover`]);
//! - a payload with the marker (`TBHS` and a version, then `:`) whose codes break a rule, or of
//!   another version, is an invalid cover sheet ([`Reading::Invalid`]), reported by the rule
//!   it breaks ([`CodeError`]), never by its text;
//! - a symbol that cannot be decoded whose first characters show the marker is an unreadable
//!   cover sheet ([`Reading::Unreadable`]);
//! - sheets printed before the marker (a payload `PROCEDURE/DOSSIER[/result]` without it, both
//!   codes valid) are still cover sheets;
//! - any other code, read or not, is content of the page ([`Reading::Page`]). An unmarked
//!   sheet of the earlier form that cannot be decoded cannot be told from it.

pub mod code128;
mod qr;

use std::fmt;
use std::io::{self, Write};

use image::{GrayImage, Luma};

use crate::intake::layout::{validate_code, Kind};

/// What opens every cover sheet's payload: `TBHS` (*tờ bìa hồ sơ*), version 1, `:`.
pub const MARKER: &str = "TBHS1:";

/// The marker without its version and colon.
const MARKER_FAMILY: &str = "TBHS";

/// The reason an unreadable cover sheet is set aside.
pub const UNREADABLE: &str = "cover sheet found but its code cannot be read";

/// What a page is, as far as batch splitting goes. Holds no text read from a code other than
/// a valid cover sheet's codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// A page of a document (with or without codes of its own).
    Page,
    /// A cover sheet and where the pages after it belong.
    Cover(CoverCode),
    /// A cover sheet (it has the marker) whose code breaks a rule.
    Invalid(CodeError),
    /// A cover sheet (the marker shows) whose code cannot be read.
    Unreadable,
}

/// Where a cover sheet's pages belong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverCode {
    pub procedure: String,
    pub dossier: String,
    pub kind: Kind,
}

impl CoverCode {
    /// `PROCEDURE/DOSSIER[/result]`: the code as people write it and reports name it.
    pub fn text(&self) -> String {
        match self.kind {
            Kind::Input => format!("{}/{}", self.procedure, self.dossier),
            Kind::Result => format!("{}/{}/result", self.procedure, self.dossier),
        }
    }

    /// What a cover sheet printed now carries: the marker, then [`CoverCode::text`].
    pub fn payload(&self) -> String {
        format!("{MARKER}{}", self.text())
    }
}

/// Why a cover sheet's code is refused. It names the rule, never the text: the text may be
/// anything a page carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeError {
    /// The marker of a format version other than 1.
    Version,
    /// Not two or three parts separated by `/`.
    Shape,
    /// A third part other than `input` or `result`.
    Kind,
    /// A procedure or dossier code the layout refuses.
    Code { part: Part, rule: Rule },
}

/// Which code of a cover sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Procedure,
    Dossier,
}

/// Which of [`validate_code`]'s rules a code breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Empty,
    TooLong,
    LeadingDot,
    Character,
    /// One [`validate_code`] has and this list does not know yet.
    Other,
}

impl Rule {
    /// The rule `code` breaks, as [`validate_code`] decides; `None` when it passes.
    fn broken_by(code: &str) -> Option<Rule> {
        validate_code(code).err()?;
        Some(if code.is_empty() {
            Rule::Empty
        } else if code.len() > 64 {
            Rule::TooLong
        } else if code.starts_with('.') {
            Rule::LeadingDot
        } else if !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            Rule::Character
        } else {
            Rule::Other
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Rule::Empty => "is empty",
            Rule::TooLong => "is longer than 64 characters",
            Rule::LeadingDot => "starts with a dot",
            Rule::Character => {
                "has a character that is not allowed (allowed: letters, digits, '.', '-', '_')"
            }
            Rule::Other => "is not a valid code",
        }
    }
}

impl fmt::Display for CodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cover sheet code: ")?;
        match self {
            CodeError::Version => f.write_str("a cover sheet format this version does not read"),
            CodeError::Shape => f.write_str("not PROCEDURE/DOSSIER[/result]"),
            CodeError::Kind => f.write_str("last part is not input or result"),
            CodeError::Code { part, rule } => {
                let part = match part {
                    Part::Procedure => "procedure",
                    Part::Dossier => "dossier",
                };
                write!(f, "{part} code {}", rule.as_str())
            }
        }
    }
}

impl std::error::Error for CodeError {}

/// Splits off the marker: `None` when `payload` does not start with one (`TBHS`, digits,
/// `:`); the rest after it, or [`CodeError::Version`] for a version other than 1.
fn strip_marker(payload: &str) -> Option<Result<&str, CodeError>> {
    let rest = payload.strip_prefix(MARKER_FAMILY)?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let code = rest[digits..].strip_prefix(':')?;
    Some(if &rest[..digits] == "1" {
        Ok(code)
    } else {
        Err(CodeError::Version)
    })
}

/// Whether the first characters read from a damaged code show a cover sheet's marker.
fn shows_marker(lead: &str) -> bool {
    lead.strip_prefix(MARKER_FAMILY)
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
}

/// Parses a cover sheet's code, `PROCEDURE/DOSSIER[/input|/result]`, with or without the
/// marker before it (as typed for `dossier cover-sheets`, or as a sheet carries it). The error
/// names the rule broken, not the text.
pub fn parse(text: &str) -> Result<CoverCode, CodeError> {
    match strip_marker(text) {
        Some(code) => parse_code(code?),
        None => parse_code(text),
    }
}

fn parse_code(text: &str) -> Result<CoverCode, CodeError> {
    let mut parts = text.split('/');
    let (Some(procedure), Some(dossier), kind, None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(CodeError::Shape);
    };
    let kind = match kind {
        None => Kind::Input,
        Some(k) => Kind::parse(k).ok_or(CodeError::Kind)?,
    };
    for (part, code) in [(Part::Procedure, procedure), (Part::Dossier, dossier)] {
        if let Some(rule) = Rule::broken_by(code) {
            return Err(CodeError::Code { part, rule });
        }
    }
    Ok(CoverCode {
        procedure: procedure.to_owned(),
        dossier: dossier.to_owned(),
        kind,
    })
}

/// What a code read from a page makes of it: a cover sheet (marked, or of the earlier
/// unmarked form with valid codes), an invalid cover sheet (marked, codes refused), or
/// content of the page (anything else). Keeps nothing of `payload` but a cover sheet's codes.
pub fn classify(payload: &str) -> Reading {
    match strip_marker(payload) {
        Some(code) => match code.and_then(parse_code) {
            Ok(code) => Reading::Cover(code),
            Err(e) => Reading::Invalid(e),
        },
        None => match parse_code(payload) {
            Ok(code) => Reading::Cover(code),
            Err(_) => Reading::Page,
        },
    }
}

/// Looks for a cover sheet's QR code or Code 128 barcode on a page; any other code on it is
/// the page's content.
pub fn read(image: &GrayImage) -> Reading {
    if image.width() < 50 || image.height() < 50 {
        return Reading::Page;
    }
    // Code 128 first (cheap): scan lines across the whole page at full resolution.
    let (w, h) = image.dimensions();
    // A code that shows the marker but cannot be read.
    let mut damaged = false;
    let mut row = vec![false; w as usize];
    for i in 1..60 {
        let y = h * i / 60;
        for (x, d) in row.iter_mut().enumerate() {
            *d = image.get_pixel(x as u32, y).0[0] < 128;
        }
        match code128::scan_line(&row) {
            code128::Scan::Text(t) => match classify(&t) {
                Reading::Page => {}
                sheet => return sheet,
            },
            code128::Scan::Damaged(lead) => damaged |= shows_marker(&lead),
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
    for grid in &prepared.detect_grids() {
        match grid.decode() {
            Ok((_, text)) => match classify(&text) {
                Reading::Page => {}
                sheet => return sheet,
            },
            Err(_) => damaged = damaged || qr::lead_matches(grid, shows_marker),
        }
    }
    if damaged {
        Reading::Unreadable
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

/// An A4 cover sheet at `dpi` carrying `payload` (exactly as given: a sheet printed now carries
/// [`CoverCode::payload`]): a QR code in the upper half, a Code 128 barcode below it.
/// `payload` must be printable ASCII for the Code 128 (a cover sheet's is).
pub fn render_sheet(payload: &str, symbols: Symbols, dpi: u32) -> Result<GrayImage, String> {
    let mm = |v: f32| (v / 25.4 * dpi as f32).round() as u32;
    let (w, h) = (mm(210.0), mm(297.0));
    let mut img = GrayImage::from_pixel(w, h, Luma([255]));
    if symbols.qr {
        // About 60 mm wide.
        draw_qr(&mut img, payload, (w / 2, mm(40.0)), mm(60.0))
            .map_err(|e| format!("cannot make a QR code of the cover sheet's code: {e}"))?;
    }
    if symbols.code128 {
        let widths = code128::encode(payload)
            .ok_or("the cover sheet's code is not printable ASCII: no Code 128")?;
        let modules: u32 = widths.iter().sum();
        // 0.33 mm modules print and scan well; narrower when the code is long.
        let module = (mm(180.0) / modules).clamp(1, mm(0.33).max(2));
        if module * modules > w {
            return Err(format!(
                "the cover sheet's code is too long for a Code 128 across A4 at {dpi} dpi"
            ));
        }
        let mut x = (w - module * modules) / 2;
        let (y0, y1) = (mm(150.0), mm(175.0));
        for (i, wd) in widths.iter().enumerate() {
            if i % 2 == 0 {
                fill(&mut img, x, y0, x + wd * module, y1);
            }
            x += wd * module;
        }
    }
    Ok(img)
}

/// Draws `payload` as a QR code (level M) about `size` pixels wide, in whole pixels per
/// module (at least 2), centred on column `centre` from row `top`.
pub(crate) fn draw_qr(
    img: &mut GrayImage,
    payload: &str,
    (centre, top): (u32, u32),
    size: u32,
) -> Result<(), qrcode::types::QrError> {
    let qr = qrcode::QrCode::with_error_correction_level(payload, qrcode::EcLevel::M)?;
    let n = qr.width() as u32;
    let module = (size / n).max(2);
    let x0 = centre.saturating_sub(module * n / 2);
    for (i, c) in qr.to_colors().iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (mx, my) = ((i as u32) % n, (i as u32) / n);
            fill(
                img,
                x0 + mx * module,
                top + my * module,
                x0 + (mx + 1) * module,
                top + (my + 1) * module,
            );
        }
    }
    Ok(())
}

/// Blackens a rectangle (clipped to the image).
fn fill(img: &mut GrayImage, x0: u32, y0: u32, x1: u32, y1: u32) {
    for y in y0..y1.min(img.height()) {
        for x in x0..x1.min(img.width()) {
            img.put_pixel(x, y, Luma([0]));
        }
    }
}

/// The resolution cover sheets are printed at.
const SHEET_DPI: u32 = 200;

/// Writes a PDF of one cover sheet per code to `out` (both symbols carrying the code's
/// [`CoverCode::payload`], the code printed beneath them), page by page: one sheet's image
/// is in memory at a time, whatever the number of codes.
pub fn sheets_pdf<W: Write>(codes: &[CoverCode], out: W) -> io::Result<()> {
    let mut doc = crate::pdf::Builder::new(out)?;
    for (i, code) in codes.iter().enumerate() {
        let img =
            render_sheet(&code.payload(), Symbols::BOTH, SHEET_DPI).map_err(io::Error::other)?;
        let page = crate::pdf::Page {
            image: crate::pdf::PageImage::Grey {
                pixels: img.as_raw(),
                width: img.width(),
                height: img.height(),
            },
            dpi: SHEET_DPI,
            words: Vec::new(),
            visible: vec![
                (
                    56.0,
                    800.0,
                    18.0,
                    "TO BIA HO SO / DOSSIER COVER SHEET".to_owned(),
                ),
                (56.0, 300.0, 14.0, code.text()),
                (
                    56.0,
                    270.0,
                    10.0,
                    "Place in front of the dossier's pages; scan into intake/_batch/.".to_owned(),
                ),
            ],
            rotate: 0,
        };
        doc.add_page(i as u32, &page)?;
    }
    doc.finish()?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// What the QR code of a chip ID card (CCCD) holds: ID number, old ID number, name, birth
    /// date, sex, address, date of issue. Made up, in the real layout.
    pub(crate) const CCCD: &str = "045190001234|197301234|Nguyễn Thị Hương|15081990|Nữ|\
        Khu phố 3, Phường 1, Đông Hà, Quảng Trị|20042021";
    /// Its ID number: what must never leave the page.
    pub(crate) const CCCD_ID: &str = "045190001234";

    /// A photocopied ID card on an otherwise plain page `width` pixels wide (A4 proportions):
    /// the card's outline and its QR code, about 25 mm at 150 dpi.
    pub(crate) fn id_card_copy(width: u32) -> GrayImage {
        let height = width * 297 / 210;
        let mut img = GrayImage::from_pixel(width, height, Luma([250]));
        let (x0, y0, x1, y1) = (width / 10, height / 10, width * 7 / 10, height * 4 / 10);
        for x in x0..x1 {
            for y in [y0, y0 + 1, y1, y1 + 1] {
                img.put_pixel(x, y, Luma([30]));
            }
        }
        for y in y0..y1 {
            for x in [x0, x0 + 1, x1, x1 + 1] {
                img.put_pixel(x, y, Luma([30]));
            }
        }
        draw_qr(&mut img, CCCD, (x1 - width / 8, y0 + width / 20), width / 5).expect("fits");
        img
    }

    /// The payloads of the QR codes rqrr decodes on `img`, read directly: to check that a test
    /// page's code is readable at all.
    pub(crate) fn qr_payloads(img: &GrayImage) -> Vec<String> {
        let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
            img.width() as usize,
            img.height() as usize,
            |x, y| img.get_pixel(x as u32, y as u32).0[0],
        );
        prepared
            .detect_grids()
            .iter()
            .filter_map(|g| g.decode().ok().map(|(_, t)| t))
            .collect()
    }

    const CODE: &str = "1.001193/000.00.01.H50-240115-0001";

    fn qr_only() -> Symbols {
        Symbols {
            qr: true,
            code128: false,
        }
    }

    fn code128_only() -> Symbols {
        Symbols {
            qr: false,
            code128: true,
        }
    }

    #[test]
    fn codes_parse_with_or_without_the_marker() {
        let c = parse("1.001193/000.00.01.H50-240115-0001/result").unwrap();
        assert_eq!(c.kind, Kind::Result);
        assert_eq!(c.text(), "1.001193/000.00.01.H50-240115-0001/result");
        assert_eq!(
            c.payload(),
            "TBHS1:1.001193/000.00.01.H50-240115-0001/result"
        );
        assert_eq!(parse(&c.payload()), Ok(c.clone()));
        assert_eq!(classify(&c.payload()), Reading::Cover(c.clone()));
        assert_eq!(
            classify(&c.text()),
            Reading::Cover(c),
            "a sheet printed before"
        );
        assert_eq!(parse("1.001193/X-1/input").unwrap().kind, Kind::Input);
        assert_eq!(parse("TBHS1:1.001193/X-1").unwrap().kind, Kind::Input);
    }

    #[test]
    fn a_marked_code_that_breaks_a_rule_is_invalid_and_named_by_the_rule_only() {
        let code = |part, rule| CodeError::Code { part, rule };
        let long = format!("TBHS1:1.001193/{}", "X".repeat(65));
        for (payload, error) in [
            ("TBHS1:1.001193/..", code(Part::Dossier, Rule::LeadingDot)),
            (
                "TBHS1:1.001193/000.00.01.H50 SECRET",
                code(Part::Dossier, Rule::Character),
            ),
            (
                "TBHS1:1.001193/SECRET\n",
                code(Part::Dossier, Rule::Character),
            ),
            (
                "TBHS1:SECRET\u{7}/X-1",
                code(Part::Procedure, Rule::Character),
            ),
            ("TBHS1:/SECRET", code(Part::Procedure, Rule::Empty)),
            (long.as_str(), code(Part::Dossier, Rule::TooLong)),
            ("TBHS1:../../etc/passwd", CodeError::Shape),
            ("TBHS1:SECRET", CodeError::Shape),
            ("TBHS1:", CodeError::Shape),
            ("TBHS1:1.001193/SECRET/archive", CodeError::Kind),
            ("TBHS2:1.001193/SECRET", CodeError::Version),
            ("TBHS10:1.001193/SECRET", CodeError::Version),
        ] {
            assert_eq!(classify(payload), Reading::Invalid(error), "{payload:?}");
            assert_eq!(parse(payload), Err(error), "{payload:?}");
            let reason = error.to_string();
            assert!(reason.starts_with("cover sheet code: "), "{reason}");
            for echo in ["SECRET", "XXXX", "etc", "passwd", "\u{7}", "\n", "H50"] {
                assert!(!reason.contains(echo), "{payload:?} gives {reason:?}");
            }
        }
        assert_eq!(
            code(Part::Dossier, Rule::Character).to_string(),
            "cover sheet code: dossier code has a character that is not allowed \
             (allowed: letters, digits, '.', '-', '_')"
        );
    }

    #[test]
    fn any_other_code_is_page_content() {
        for payload in [
            CCCD,
            "https://dichvucong.gov.vn/p/home/dvc-tra-cuu-ho-so.html?ma=000.00.01.H50-240115-0001",
            "000.00.01.H50-240115-0001",
            "../etc/passwd",
            "a/b/c/d",
            "1.001193/..",
            "1.001193/X-1/archive",
            "TBHS:1.001193/X-1",
            "TBHSx1:1.001193/X-1",
            "tbhs1:1.001193/X-1",
            "",
        ] {
            assert_eq!(classify(payload), Reading::Page, "{payload:?}");
        }
    }

    #[test]
    fn the_rule_named_is_the_one_validate_code_applies() {
        for code in [
            "",
            ".x",
            "..",
            "a b",
            "Đ",
            "a/b",
            "a\u{0}",
            &"x".repeat(65),
            &"é".repeat(40),
            "1.001193",
            "000.00.01.H50-240115-0001",
            "a_b-c.d",
        ] {
            let rule = Rule::broken_by(code);
            assert_eq!(rule.is_none(), validate_code(code).is_ok(), "{code:?}");
            assert_ne!(rule, Some(Rule::Other), "{code:?}");
        }
    }

    #[test]
    fn sheets_old_and_new_are_read_back_by_either_symbol() {
        let code = parse(CODE).unwrap();
        for symbols in [Symbols::BOTH, qr_only(), code128_only()] {
            for payload in [code.payload(), code.text()] {
                let sheet = render_sheet(&payload, symbols, 150).unwrap();
                assert_eq!(
                    read(&sheet),
                    Reading::Cover(code.clone()),
                    "{symbols:?} {payload}"
                );
            }
        }
        // The longest form, at the resolution sheets are printed at.
        let result = parse(&format!("{CODE}/result")).unwrap();
        for symbols in [qr_only(), code128_only()] {
            let sheet = render_sheet(&result.payload(), symbols, SHEET_DPI).unwrap();
            assert_eq!(read(&sheet), Reading::Cover(result.clone()), "{symbols:?}");
        }
        let bad = render_sheet("TBHS1:1.001193/SECRET CODE", Symbols::BOTH, 150).unwrap();
        assert_eq!(
            read(&bad),
            Reading::Invalid(CodeError::Code {
                part: Part::Dossier,
                rule: Rule::Character
            })
        );
    }

    #[test]
    fn a_photocopied_id_card_or_another_barcode_is_page_content() {
        let page = id_card_copy(1240);
        assert_eq!(qr_payloads(&page), [CCCD], "the card's QR code is readable");
        assert_eq!(read(&page), Reading::Page);
        // A dossier receipt's barcode, and a QR code holding a web address.
        let receipt = render_sheet("000.00.01.H50-240115-0001", Symbols::BOTH, 150).unwrap();
        assert_eq!(read(&receipt), Reading::Page);
        let link = render_sheet("https://dichvucong.gov.vn/?ma=1", qr_only(), 150).unwrap();
        assert_eq!(read(&link), Reading::Page);
    }

    /// Fades a band across the middle of the QR code's data (finder patterns intact) on a
    /// 150-dpi sheet.
    fn fade_qr(sheet: &mut GrayImage) {
        let (w, _) = sheet.dimensions();
        for y in 330..420 {
            for x in w / 2 - 90..w / 2 + 90 {
                sheet.put_pixel(x, y, Luma([255]));
            }
        }
    }

    /// Blackens a band across the middle of the Code 128's bars.
    fn smudge_code128(sheet: &mut GrayImage) {
        let (w, h) = sheet.dimensions();
        for y in h / 2..h * 3 / 5 {
            for x in w / 2..w / 2 + 30 {
                sheet.put_pixel(x, y, Luma([0]));
            }
        }
    }

    #[test]
    fn a_marked_code_that_cannot_be_read_is_an_unreadable_cover_sheet() {
        let code = parse(CODE).unwrap();
        let long = parse(&format!("1.001193/{}/result", "X".repeat(64))).unwrap();
        // Short and long payloads (one and several interleaved blocks), upper and lower case.
        // (A version 1 symbol faded so is not found at all: its size reads wrong.)
        for payload in [
            code.payload(),
            long.payload(),
            "TBHS1:abcdefgh.xyz/dossier-code-lower-case".to_owned(),
        ] {
            let mut sheet = render_sheet(&payload, qr_only(), 150).unwrap();
            fade_qr(&mut sheet);
            assert!(
                qr_payloads(&sheet).is_empty(),
                "{payload}: the fade breaks it"
            );
            assert_eq!(read(&sheet), Reading::Unreadable, "{payload}");
        }
        let mut sheet = render_sheet(&code.payload(), code128_only(), 150).unwrap();
        smudge_code128(&mut sheet);
        assert_eq!(read(&sheet), Reading::Unreadable);
        assert_eq!(
            read(&GrayImage::from_pixel(600, 800, Luma([255]))),
            Reading::Page
        );
    }

    #[test]
    fn an_unmarked_code_that_cannot_be_read_is_page_content() {
        let mut cccd = render_sheet(CCCD, qr_only(), 150).unwrap();
        fade_qr(&mut cccd);
        assert!(qr_payloads(&cccd).is_empty(), "the fade breaks it");
        assert_eq!(read(&cccd), Reading::Page);
        // So is a damaged sheet printed before the marker: nothing tells it apart.
        let mut old = render_sheet(CODE, code128_only(), 150).unwrap();
        smudge_code128(&mut old);
        assert_eq!(read(&old), Reading::Page);
    }

    #[test]
    fn printed_sheets_carry_the_marker_and_go_to_any_writer() {
        let codes = [
            parse(CODE).unwrap(),
            parse(&format!("{CODE}/result")).unwrap(),
        ];
        let mut pdf = Vec::new();
        sheets_pdf(&codes, &mut pdf).unwrap();
        let (_, pages) = crate::decode::pages(&pdf, Default::default()).unwrap();
        let pages: Vec<GrayImage> = pages.map(|p| p.unwrap().image).collect();
        assert_eq!(pages.len(), 2);
        for (page, code) in pages.iter().zip(&codes) {
            assert_eq!(qr_payloads(page), [code.payload()]);
            assert_eq!(read(page), Reading::Cover(code.clone()));
        }
    }
}
