//! PDF pages that are not one plain scanned image — vector text with no text layer, several
//! images, image masks or soft masks, form XObjects, tiling patterns, inline images — are
//! rendered at [`RENDER_DPI`] by hayro (pure Rust) and read like a scan. A one-image page
//! whose image is drawn at an angle or sheared is rendered too; one drawn turned a quarter or
//! mirrored is laid out from its decoded pixels ([`super::placement`]).
//!
//! Invariants:
//! - Nothing is rendered before its cost is known: every image the page can draw (its
//!   XObjects, those of nested forms and patterns, and inline images in its content streams)
//!   is sized against [`Limits`] one by one and all together, and so is the page itself at
//!   300 dpi, before the renderer allocates a pixel.
//! - A page whose image the renderer cannot decode is a failed page (with the reason), never a
//!   blank one that would pass as read; a renderer panic is a failed page too.
//! - No font is embedded in the binary: the 14 standard fonts are Debian's Liberation fonts
//!   (their metric twins), read once from `/usr/share/fonts`; without them, text drawn in a
//!   standard font does not show and the page reads as blank (a quality finding, not silence).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use hayro::hayro_interpret::font::{FontData, FontQuery, StandardFont};
use hayro::hayro_interpret::{InterpreterSettings, InterpreterWarning};
use hayro::hayro_syntax::Pdf;
use hayro::vello_cpu::color::palette::css::WHITE;
use image::GrayImage;
use lopdf::{Dictionary, Document, Object, ObjectId};

use super::{check_size, luma, DecodeError, Limits};

/// The resolution pages are rendered at: what OCR reads best, and the archive's guidance.
pub const RENDER_DPI: u32 = 300;

/// How deep forms and patterns may nest before the survey stops (a loop, or a bomb).
const MAX_DEPTH: usize = 16;

fn broken(detail: impl std::fmt::Display) -> DecodeError {
    DecodeError::Corrupt {
        format: "PDF",
        detail: detail.to_string(),
    }
}

/// What a page can draw, as far as its resources and content streams tell.
#[derive(Debug, Default)]
pub(crate) struct Drawn {
    pub images: usize,
    pub forms: usize,
    /// An image mask, a soft mask, a colour-key mask, or a tiling pattern.
    pub masks: bool,
    pub inline_images: usize,
    /// Pixels of all images together.
    pub pixels: u64,
}

impl Drawn {
    /// The page is one image and nothing else that could draw: a scanner's page.
    pub fn one_plain_image(&self) -> bool {
        self.images == 1 && self.forms == 0 && !self.masks && self.inline_images == 0
    }
}

/// Surveys what page `number` (`page_id`) draws, refusing any image over the limits.
pub(crate) fn survey<'a>(
    doc: &'a Document,
    page_id: ObjectId,
    number: u32,
    resources: Option<&'a Dictionary>,
    limits: Limits,
) -> Result<Drawn, DecodeError> {
    let mut survey = Survey {
        doc,
        number,
        limits,
        seen: HashSet::new(),
        drawn: Drawn::default(),
    };
    if let Some(resources) = resources {
        survey.resources(resources, 0)?;
    }
    let bound = (limits.max_pixels * 4) as usize;
    if let Ok(content) = doc.get_page_content_with_limit(page_id, bound) {
        survey.inline_images(&content)?;
    }
    Ok(survey.drawn)
}

struct Survey<'a> {
    doc: &'a Document,
    number: u32,
    limits: Limits,
    seen: HashSet<ObjectId>,
    drawn: Drawn,
}

/// `object`, or what it refers to.
fn deref<'d>(doc: &'d Document, object: &'d Object) -> Option<&'d Object> {
    doc.dereference(object).ok().map(|(_, o)| o)
}

impl<'a> Survey<'a> {
    fn resources(&mut self, resources: &'a Dictionary, depth: usize) -> Result<(), DecodeError> {
        let doc = self.doc;
        if depth > MAX_DEPTH {
            return Err(broken(format!(
                "page {}: forms nested deeper than {MAX_DEPTH}",
                self.number
            )));
        }
        for key in [&b"XObject"[..], b"Pattern"] {
            let Some(dict) = resources
                .get(key)
                .ok()
                .and_then(|o| deref(doc, o))
                .and_then(|o| o.as_dict().ok())
            else {
                continue;
            };
            for (_, value) in dict.iter() {
                let id = value.as_reference().ok();
                if let Some(id) = id {
                    if !self.seen.insert(id) {
                        continue;
                    }
                }
                let Some(Object::Stream(stream)) = deref(doc, value) else {
                    continue;
                };
                self.stream(&stream.dict, &stream.content, depth)?;
            }
        }
        Ok(())
    }

    fn stream(
        &mut self,
        dict: &'a Dictionary,
        content: &[u8],
        depth: usize,
    ) -> Result<(), DecodeError> {
        let doc = self.doc;
        let subtype = dict.get(b"Subtype").and_then(|s| s.as_name()).ok();
        if subtype == Some(b"Image") {
            self.drawn.images += 1;
            self.image(dict)?;
            let stencil = dict
                .get(b"ImageMask")
                .and_then(|o| o.as_bool())
                .unwrap_or(false);
            let mask = stencil || dict.has(b"SMask") || dict.has(b"Mask");
            self.drawn.masks |= mask;
            if let Some(Object::Stream(smask)) = dict.get(b"SMask").ok().and_then(|o| deref(doc, o))
            {
                self.image(&smask.dict)?;
            }
            return Ok(());
        }
        // A form XObject, or a tiling pattern: drawn with resources of its own.
        if subtype == Some(b"Form") {
            self.drawn.forms += 1;
        } else {
            self.drawn.masks = true;
        }
        if let Some(inner) = dict
            .get(b"Resources")
            .ok()
            .and_then(|o| deref(doc, o))
            .and_then(|o| o.as_dict().ok())
        {
            self.resources(inner, depth + 1)?;
        }
        let bound = (self.limits.max_pixels * 4) as usize;
        let stream = lopdf::Stream::new(dict.clone(), content.to_vec());
        if let Ok(data) = stream.decompressed_content_with_limit(bound) {
            self.inline_images(&data)?;
        }
        Ok(())
    }

    /// One image's size against the limits, and all images' together.
    fn image(&mut self, dict: &Dictionary) -> Result<(), DecodeError> {
        let dimension = |keys: [&[u8]; 2]| {
            keys.iter()
                .find_map(|k| dict.get(k).ok().and_then(|o| o.as_i64().ok()))
                .unwrap_or(0)
        };
        let (w, h) = (dimension([b"Width", b"W"]), dimension([b"Height", b"H"]));
        self.sized(w, h)
    }

    fn sized(&mut self, w: i64, h: i64) -> Result<(), DecodeError> {
        let number = self.number as usize;
        let (w, h) = (
            w.clamp(0, u32::MAX as i64) as u32,
            h.clamp(0, u32::MAX as i64) as u32,
        );
        if w == 0 || h == 0 {
            return Ok(());
        }
        check_size(number, w, h, self.limits)?;
        self.drawn.pixels += w as u64 * h as u64;
        // Several images may together be twice what one may be; no more.
        if self.drawn.pixels > self.limits.max_pixels * 2 {
            return Err(DecodeError::ImagesTooLarge {
                page: number,
                megapixels: self.drawn.pixels / 1_000_000,
                limit: self.limits.max_pixels * 2 / 1_000_000,
            });
        }
        Ok(())
    }

    /// Inline images (`BI … ID … EI`) in a content stream: counted and sized from their
    /// `/W` and `/H` (abbreviated or not) before anything decodes them.
    fn inline_images(&mut self, content: &[u8]) -> Result<(), DecodeError> {
        let mut at = 0;
        while let Some(found) = find_token(content, at, b"BI") {
            let end = find_token(content, found + 2, b"ID").unwrap_or(content.len());
            let head = &content[found + 2..end];
            self.drawn.inline_images += 1;
            let w = number_after(head, &[b"/Width", b"/W"]);
            let h = number_after(head, &[b"/Height", b"/H"]);
            self.sized(w, h)?;
            // The image data may hold anything: go on after its `EI`.
            at = find_token(content, end, b"EI").map_or(content.len(), |e| e + 2);
        }
        Ok(())
    }
}

fn is_delimiter(b: u8) -> bool {
    b.is_ascii_whitespace() || b"()<>[]{}/%".contains(&b)
}

/// The next `token` from `from` standing alone (delimited on both sides).
fn find_token(data: &[u8], from: usize, token: &[u8]) -> Option<usize> {
    let mut i = from;
    while i + token.len() <= data.len() {
        let alone_before = i == 0 || is_delimiter(data[i - 1]);
        let after = data.get(i + token.len()).copied();
        if alone_before && &data[i..i + token.len()] == token && after.is_none_or(is_delimiter) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The integer after the first of `keys` found as a whole key in `head`; 0 when none.
fn number_after(head: &[u8], keys: &[&[u8]]) -> i64 {
    for key in keys {
        let mut from = 0;
        while let Some(i) = head[from..]
            .windows(key.len())
            .position(|w| w == *key)
            .map(|p| p + from)
        {
            let rest = &head[i + key.len()..];
            if rest.first().is_some_and(|b| !is_delimiter(*b)) {
                from = i + 1;
                continue;
            }
            let digits: String = rest
                .iter()
                .skip_while(|b| b.is_ascii_whitespace())
                .take_while(|b| b.is_ascii_digit())
                .map(|b| *b as char)
                .take(12)
                .collect();
            return digits.parse().unwrap_or(0);
        }
    }
    0
}

/// Renders a document's pages, parsing the file once, at the first page that needs it.
#[derive(Default)]
pub(crate) struct Renderer {
    pdf: Option<Result<Pdf, String>>,
}

impl Renderer {
    /// Page `index` (from 0; `number` in messages) of `bytes` as a grey image at 300 dpi,
    /// turned as the page asks.
    pub fn render(
        &mut self,
        bytes: &[u8],
        index: usize,
        number: u32,
        limits: Limits,
    ) -> Result<GrayImage, DecodeError> {
        let pdf = self
            .pdf
            .get_or_insert_with(|| Pdf::new(bytes.to_vec()).map_err(|e| format!("{e:?}")));
        let pdf = pdf
            .as_ref()
            .map_err(|e| broken(format!("page {number} cannot be rendered: {e}")))?;
        let page = pdf
            .pages()
            .get(index)
            .ok_or_else(|| broken(format!("page {number} cannot be rendered: not found")))?;
        let scale = RENDER_DPI as f32 / 72.0;
        let (w_pt, h_pt) = page.render_dimensions();
        let (w, h) = ((w_pt * scale) as u64, (h_pt * scale) as u64);
        check_size(
            number as usize,
            w.min(u32::MAX as u64) as u32,
            h.min(u32::MAX as u64) as u32,
            limits,
        )?;
        if w > u16::MAX as u64 || h > u16::MAX as u64 {
            return Err(DecodeError::TooLarge {
                page: number as usize,
                width: w as u32,
                height: h as u32,
                limit: limits.max_pixels / 1_000_000,
            });
        }
        let image_failed = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&image_failed);
        let settings = InterpreterSettings {
            font_resolver: Arc::new(resolve_font),
            cmap_resolver: Arc::new(|_| None),
            warning_sink: Arc::new(move |w| {
                if matches!(w, InterpreterWarning::ImageDecodeFailure) {
                    flag.store(true, Ordering::Relaxed);
                }
            }),
            ..Default::default()
        };
        let pixmap_settings = hayro::PixmapSettings {
            x_scale: scale,
            y_scale: scale,
            bg_color: WHITE,
        };
        let pixmap = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            hayro::render(
                page,
                &hayro::RenderCache::new(),
                &settings,
                &hayro::RenderSettings::default(),
                &pixmap_settings,
            )
        }))
        .map_err(|_| broken(format!("page {number} cannot be rendered")))?;
        if image_failed.load(Ordering::Relaxed) {
            return Err(broken(format!(
                "page {number}: an image on the page cannot be decoded"
            )));
        }
        // The background is opaque white: premultiplied samples are the colour itself.
        let grey = pixmap.data().iter().map(|p| luma(p.r, p.g, p.b)).collect();
        GrayImage::from_raw(pixmap.width() as u32, pixmap.height() as u32, grey)
            .ok_or_else(|| broken(format!("page {number}: rendered image size")))
    }
}

/// Debian's Liberation fonts stand in for the standard 14 (same metrics); Symbol and
/// Dingbats have no stand-in.
fn resolve_font(query: &FontQuery) -> Option<(FontData, u32)> {
    let standard = match query {
        FontQuery::Standard(s) => *s,
        FontQuery::Fallback(f) => f.pick_standard_font(),
    };
    let family = match standard {
        StandardFont::Helvetica
        | StandardFont::HelveticaBold
        | StandardFont::HelveticaOblique
        | StandardFont::HelveticaBoldOblique => "Sans",
        StandardFont::TimesRoman
        | StandardFont::TimesBold
        | StandardFont::TimesItalic
        | StandardFont::TimesBoldItalic => "Serif",
        StandardFont::Courier
        | StandardFont::CourierBold
        | StandardFont::CourierOblique
        | StandardFont::CourierBoldOblique => "Mono",
        StandardFont::ZapfDingBats | StandardFont::Symbol => return None,
    };
    let style = match standard {
        StandardFont::HelveticaBold | StandardFont::TimesBold | StandardFont::CourierBold => "Bold",
        StandardFont::HelveticaOblique
        | StandardFont::TimesItalic
        | StandardFont::CourierOblique => "Italic",
        StandardFont::HelveticaBoldOblique
        | StandardFont::TimesBoldItalic
        | StandardFont::CourierBoldOblique => "BoldItalic",
        _ => "Regular",
    };
    font_file(format!("Liberation{family}-{style}.ttf")).map(|data| (data, 0))
}

const FONT_DIRS: &[&str] = &[
    "/usr/share/fonts/truetype/liberation2",
    "/usr/share/fonts/truetype/liberation",
];

/// A font file, read once per process.
fn font_file(name: String) -> Option<FontData> {
    static FONTS: OnceLock<Mutex<HashMap<String, Option<FontData>>>> = OnceLock::new();
    let fonts = FONTS.get_or_init(Default::default);
    let mut fonts = fonts.lock().unwrap_or_else(|e| e.into_inner());
    fonts
        .entry(name)
        .or_insert_with_key(|name| {
            FONT_DIRS.iter().find_map(|dir| {
                let bytes = std::fs::read(Path::new(dir).join(name)).ok()?;
                Some(Arc::new(bytes) as FontData)
            })
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::pdf::open;
    use crate::pdf::Writer;

    /// A one-page PDF of `width`×`height` points; `build` writes the objects the page needs
    /// and gives its resources and content.
    fn one_page(
        (width, height): (f32, f32),
        build: impl FnOnce(&mut Writer<Vec<u8>>) -> (String, String),
    ) -> Vec<u8> {
        let mut w = Writer::new(Vec::new()).unwrap();
        let catalog = w.reserve();
        let pages = w.reserve();
        let (resources, content) = build(&mut w);
        let content = w.add_stream("", content.as_bytes()).unwrap();
        let page = w
            .add(&format!(
                "<< /Type /Page /Parent {pages} 0 R /MediaBox [0 0 {width} {height}] \
                 /Resources {resources} /Contents {content} 0 R >>"
            ))
            .unwrap();
        w.object(
            pages,
            &format!("<< /Type /Pages /Kids [{page} 0 R] /Count 1 >>"),
        )
        .unwrap();
        w.object(catalog, &format!("<< /Type /Catalog /Pages {pages} 0 R >>"))
            .unwrap();
        w.finish(catalog).unwrap()
    }

    fn grey_image(w: &mut Writer<Vec<u8>>, size: u32, level: u8) -> usize {
        let pixels = vec![level; (size * size) as usize];
        w.add_stream(
            &format!(
                "/Type /XObject /Subtype /Image /Width {size} /Height {size} \
                 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode"
            ),
            &crate::pdf::deflate(&pixels),
        )
        .unwrap()
    }

    fn first_page(file: &[u8]) -> Result<crate::decode::Page, DecodeError> {
        open(file, Limits::default()).unwrap().next().unwrap()
    }

    #[test]
    fn helvetica_text_in_a_form_is_rendered_at_300_dpi() {
        let file = one_page((200.0, 100.0), |w| {
            let font = w
                .add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
                .unwrap();
            let form = w
                .add_stream(
                    &format!(
                        "/Type /XObject /Subtype /Form /BBox [0 0 200 100] \
                         /Resources << /Font << /F1 {font} 0 R >> >>"
                    ),
                    b"BT /F1 24 Tf 20 40 Td (HELLO) Tj ET",
                )
                .unwrap();
            (
                format!("<< /XObject << /Fm0 {form} 0 R >> >>"),
                "/Fm0 Do".into(),
            )
        });
        let page = first_page(&file).unwrap();
        assert_eq!(page.image.dimensions(), (833, 416));
        assert_eq!(page.meta_dpi, Some(RENDER_DPI));
        assert!(page.text_layer.is_none());
        let ink = page.image.pixels().filter(|p| p.0[0] < 100).count();
        assert!(
            ink > 1000,
            "the letters are drawn (Liberation Sans): {ink} dark pixels"
        );
    }

    #[test]
    fn two_images_on_a_page_are_rendered_together_and_an_empty_page_is_white() {
        let file = one_page((72.0, 36.0), |w| {
            let (black, grey) = (grey_image(w, 8, 0), grey_image(w, 8, 128));
            (
                format!("<< /XObject << /A {black} 0 R /B {grey} 0 R >> >>"),
                "q 36 0 0 36 0 0 cm /A Do Q q 36 0 0 36 36 0 cm /B Do Q".into(),
            )
        });
        let page = first_page(&file).unwrap();
        assert_eq!(page.image.dimensions(), (300, 150));
        assert!(page.image.get_pixel(75, 75).0[0] < 10);
        let grey = page.image.get_pixel(225, 75).0[0];
        assert!((118..=138).contains(&grey), "{grey}");

        let empty = one_page((72.0, 72.0), |_| ("<< >>".into(), String::new()));
        let page = first_page(&empty).unwrap();
        assert_eq!(page.image.dimensions(), (300, 300));
        assert!(page.image.pixels().all(|p| p.0[0] == 255));
    }

    #[test]
    fn a_bomb_image_or_page_is_refused_before_anything_is_rendered() {
        let bomb = one_page((72.0, 72.0), |w| {
            let small = grey_image(w, 8, 0);
            let rows = vec![0xFFu8; 35_000usize.div_ceil(8)];
            let huge = w
                .add_stream(
                    "/Type /XObject /Subtype /Image /Width 35000 /Height 35000 \
                     /ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /CCITTFaxDecode \
                     /DecodeParms << /K -1 /Columns 35000 /Rows 35000 >>",
                    &rows,
                )
                .unwrap();
            (
                format!("<< /XObject << /A {small} 0 R /B {huge} 0 R >> >>"),
                "q 36 0 0 36 0 0 cm /A Do Q q 36 0 0 36 36 0 cm /B Do Q".into(),
            )
        });
        let result = first_page(&bomb);
        assert!(
            matches!(
                result,
                Err(DecodeError::TooLarge {
                    width: 35_000,
                    page: 1,
                    ..
                })
            ),
            "{:?}",
            result.err()
        );
        let vast = one_page((20_000.0, 20_000.0), |_| {
            ("<< >>".into(), "0 g 0 0 10 10 re f".into())
        });
        let result = first_page(&vast);
        assert!(
            matches!(result, Err(DecodeError::TooLarge { width: 83_333, .. })),
            "{:?}",
            result.err()
        );
    }

    #[test]
    fn inline_images_are_found_and_sized_whatever_their_data_holds() {
        let content = b"q 10 0 0 10 0 0 cm BI /W 4 /H 3 /CS /G /BPC 8 ID \x00BI ID\x01 EI Q \
                        BI /Width 35000 /Height 35000 /BPC 1 ID xx EI";
        let doc = Document::new();
        let mut survey = Survey {
            doc: &doc,
            number: 2,
            limits: Limits::default(),
            seen: HashSet::new(),
            drawn: Drawn::default(),
        };
        let result = survey.inline_images(content);
        assert!(
            matches!(
                result,
                Err(DecodeError::TooLarge {
                    width: 35000,
                    page: 2,
                    ..
                })
            ),
            "{result:?}"
        );
        assert_eq!(survey.drawn.inline_images, 2);
        assert_eq!(survey.drawn.pixels, 12);
        assert_eq!(number_after(b" /Width 7 /W 3", &[b"/Width", b"/W"]), 7);
        assert_eq!(number_after(b" /Wx 7 /W 3", &[b"/W"]), 3);
    }
}
