//! Scanned PDFs → pages. A scanner's PDF draws one image per page: that image is decoded
//! as it is embedded (JPEG, CCITT G3/G4, JBIG2, or Flate/raw samples), sized against
//! [`Limits`] *before* any pixel is allocated, then laid out as a viewer shows it: turned or
//! mirrored as the page's content draws it (the matrix in force at its `Do`, when that is a
//! multiple of a quarter turn) and by the page's /Rotate. Its resolution is its pixels over
//! the size it is drawn at. A page that also carries text (a born-digital page, or one OCR'd
//! by another tool) hands that text on, so that OCR can be skipped for it.
//!
//! A page that is not one plain image (vector text without a text layer, several images,
//! masks, forms), or whose image is drawn at another angle or sheared, is rendered at 300 dpi
//! instead ([`super::render`]), after every image it can draw has been sized against the same
//! limits. A page with a real text layer is not rendered: its text is taken (unless OCR is
//! forced, when its largest image, if any, is read, as stored if it is drawn at an angle).

use std::io::Cursor;

use image::{GrayImage, ImageFormat, ImageReader};
use lopdf::{Dictionary, Document, Object, ObjectId};

use super::placement::{placement, rotated, turned, Matrix, Placed, IDENTITY};
use super::render::{self, Renderer};
use super::{check_size, flatten_to_grey, luma, DecodeError, Limits, Page};

/// A page's text counts as a real text layer from this many letters or digits on.
const TEXT_LAYER_MIN_CHARS: usize = 16;

fn broken(detail: impl std::fmt::Display) -> DecodeError {
    DecodeError::Corrupt {
        format: "PDF",
        detail: detail.to_string(),
    }
}

pub struct PdfPages<'a> {
    bytes: &'a [u8],
    doc: Document,
    pages: Vec<(u32, ObjectId)>,
    next: usize,
    limits: Limits,
    renderer: Renderer,
}

/// Opens a PDF: refuses encrypted files (nothing to read without the password) and files
/// with no page, before any page is decoded.
pub fn open(bytes: &[u8], limits: Limits) -> Result<PdfPages<'_>, DecodeError> {
    let options = lopdf::LoadOptions {
        // Object streams are decompressed at load: bound them like pages.
        max_decompressed_size: Some((limits.max_pixels * 4) as usize),
        ..Default::default()
    };
    let doc = match Document::load_mem_with_options(bytes, options) {
        Ok(doc) => doc,
        Err(lopdf::Error::Decryption(_)) | Err(lopdf::Error::InvalidPassword) => {
            return Err(DecodeError::PdfEncrypted)
        }
        Err(e) if bytes_mention_encrypt(bytes) => {
            let _ = e;
            return Err(DecodeError::PdfEncrypted);
        }
        Err(e) => return Err(broken(e)),
    };
    if doc.is_encrypted() {
        return Err(DecodeError::PdfEncrypted);
    }
    let pages: Vec<(u32, ObjectId)> = doc.get_pages().into_iter().collect();
    if pages.is_empty() {
        return Err(DecodeError::PdfNoPages);
    }
    if pages.len() > limits.max_pages {
        return Err(DecodeError::TooManyPages(limits.max_pages));
    }
    Ok(PdfPages {
        bytes,
        doc,
        pages,
        next: 0,
        limits,
        renderer: Renderer::default(),
    })
}

fn bytes_mention_encrypt(bytes: &[u8]) -> bool {
    bytes.windows(8).any(|w| w == b"/Encrypt")
}

impl PdfPages<'_> {
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    fn read_page(&mut self, index: usize, number: u32, id: ObjectId) -> Result<Page, DecodeError> {
        let page = self.doc.get_dictionary(id).map_err(broken)?;
        let rotate = inherited(&self.doc, page, b"Rotate")
            .and_then(|o| o.as_i64().ok())
            .unwrap_or(0)
            .rem_euclid(360);
        let media_width_pt = inherited(&self.doc, page, b"MediaBox")
            .and_then(|o| self.doc.dereference(o).ok().map(|(_, o)| o))
            .and_then(|o| o.as_array().ok())
            .and_then(|a| {
                let n: Vec<f32> = a.iter().filter_map(|v| v.as_float().ok()).collect();
                (n.len() == 4).then(|| (n[2] - n[0]).abs())
            });
        let text_layer = self
            .doc
            .extract_text_with_limit(&[number], (self.limits.max_pixels) as usize)
            .ok()
            .map(|t| t.trim().to_owned())
            .filter(|t| t.chars().filter(|c| c.is_alphanumeric()).count() >= TEXT_LAYER_MIN_CHARS);
        let resources = inherited(&self.doc, page, b"Resources")
            .and_then(|o| self.doc.dereference(o).ok().map(|(_, o)| o))
            .and_then(|o| o.as_dict().ok());
        if text_layer.is_none() {
            let drawn = render::survey(&self.doc, id, number, resources, self.limits)?;
            if !drawn.one_plain_image() {
                return self.rendered(index, number, rotate);
            }
        }
        let images = self.doc.get_page_images(id).unwrap_or_default();
        // The scan is the largest image on the page (a logo or stamp may sit beside it).
        let Some(image) = images
            .iter()
            .max_by_key(|i| i.width.max(0) as u64 * i.height.max(0) as u64)
        else {
            return Ok(Page {
                image: GrayImage::new(0, 0),
                meta_dpi: None,
                text_layer,
                rotated_by: 0,
            });
        };
        let (w, h) = (image.width, image.height);
        if w <= 0 || h <= 0 || w > u32::MAX as i64 || h > u32::MAX as i64 {
            return Err(broken(format!("page {number}: image of {w}×{h} pixels")));
        }
        check_size(number as usize, w as u32, h as u32, self.limits)?;
        if text_layer.is_none() && renderer_reads_it(&self.doc, image.origin_dict) {
            return self.rendered(index, number, rotate);
        }
        let content_bound = (self.limits.max_pixels * 4) as usize;
        let placement = self
            .doc
            .get_page_content_with_limit(id, content_bound)
            .ok()
            .and_then(|content| placement(&self.doc, resources, image.id, &content));
        let placed = placement.map(Placed::of);
        // Drawn at an angle, sheared or squashed flat: only a renderer shows it as a viewer
        // does. A page whose text layer is taken is never rendered (its image as stored).
        if text_layer.is_none() && placed == Some(Placed::Other) {
            return self.rendered(index, number, rotate);
        }
        let grey = decode_image(
            &self.doc,
            image.origin_dict,
            image.content,
            w as u32,
            h as u32,
            self.limits,
        )
        .map_err(|e| match e {
            DecodeError::Corrupt { detail, .. } => broken(format!("page {number}: {detail}")),
            other => other,
        })?;
        let (grey, meta_dpi) = match placed {
            Some(Placed::Axes { column, row }) => {
                let (column, row) = rotated(column, row, rotate);
                let m = placement.unwrap_or(IDENTITY);
                let dpi = drawn_dpi(w as u32, h as u32, m, column);
                (turned(grey, column, row), dpi)
            }
            // No placement found (the image is drawn inside a form of a text-layer page, or
            // not at all), or a skewed one on a page whose text is taken: the image as stored,
            // turned by /Rotate only, its resolution from the page's width as before.
            _ => {
                let meta_dpi = media_width_pt
                    .filter(|pt| *pt > 1.0)
                    .map(|pt| (w as f32 * 72.0 / pt).round() as u32)
                    .filter(|dpi| DPI_RANGE.contains(dpi));
                let (column, row) = rotated((1, 0), (0, 1), rotate);
                (turned(grey, column, row), meta_dpi)
            }
        };
        Ok(Page {
            image: grey,
            meta_dpi,
            text_layer,
            rotated_by: rotate as u32,
        })
    }
}

impl PdfPages<'_> {
    /// The page rendered at 300 dpi, already turned as its /Rotate says.
    fn rendered(&mut self, index: usize, number: u32, rotate: i64) -> Result<Page, DecodeError> {
        let image = self
            .renderer
            .render(self.bytes, index, number, self.limits)?;
        Ok(Page {
            image,
            meta_dpi: Some(render::RENDER_DPI),
            text_layer: None,
            rotated_by: rotate as u32,
        })
    }
}

impl Iterator for PdfPages<'_> {
    type Item = Result<Page, DecodeError>;
    fn next(&mut self) -> Option<Self::Item> {
        let &(number, id) = self.pages.get(self.next)?;
        self.next += 1;
        Some(self.read_page(self.next - 1, number, id))
    }

    /// Skips pages without reading (or rendering) them.
    fn nth(&mut self, n: usize) -> Option<Self::Item> {
        self.next = self.next.saturating_add(n).min(self.pages.len());
        self.next()
    }
}

/// The resolutions a page's metadata may claim; anything else is not believed.
const DPI_RANGE: std::ops::RangeInclusive<u32> = 50..=2400;

/// The resolution of an image of `w`×`h` pixels drawn with `m`: pixels per inch along each of
/// its axes as drawn, given for the axis that runs across the page seen (`column` says which);
/// None when either is out of [`DPI_RANGE`].
fn drawn_dpi(w: u32, h: u32, m: Matrix, column: (i32, i32)) -> Option<u32> {
    let [a, b, c, d, _, _] = m;
    let along_rows = f64::from(w) * 72.0 / a.hypot(b);
    let down_columns = f64::from(h) * 72.0 / c.hypot(d);
    let sane = |dpi: f64| dpi.is_finite() && DPI_RANGE.contains(&(dpi.round() as u32));
    if !sane(along_rows) || !sane(down_columns) {
        return None;
    }
    let across = if column.0 != 0 {
        along_rows
    } else {
        down_columns
    };
    Some(across.round() as u32)
}

/// An image in an encoding or colour layout this decoder does not read but the renderer does:
/// JPEG 2000, indexed, Lab, separation or DeviceN colour, 16-bit samples.
fn renderer_reads_it(doc: &Document, dict: &Dictionary) -> bool {
    let filters = name_list(dict, b"Filter");
    let codec = filters.last().map(|f| f.as_slice());
    if codec == Some(b"JPXDecode") {
        return true;
    }
    // JPEG, fax and JBIG2 carry their colours themselves; plain samples need the space.
    if codec.is_some_and(|c| IMAGE_CODECS.contains(&c)) {
        return false;
    }
    let mask = dict
        .get(b"ImageMask")
        .and_then(|o| o.as_bool())
        .unwrap_or(false);
    let bits = int(Some(dict), b"BitsPerComponent", 8);
    (!mask && colour_components(doc, dict).is_none()) || bits == 16
}

/// A page attribute, looked up the page tree as PDF's inheritance rules say.
fn inherited<'a>(doc: &'a Document, page: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    let mut node = page;
    for _ in 0..64 {
        if let Ok(v) = node.get(key) {
            return Some(v);
        }
        let parent = node.get(b"Parent").ok()?.as_reference().ok()?;
        node = doc.get_dictionary(parent).ok()?;
    }
    None
}

fn name_list(dict: &Dictionary, key: &[u8]) -> Vec<Vec<u8>> {
    match dict.get(key) {
        Ok(Object::Name(n)) => vec![n.clone()],
        Ok(Object::Array(a)) => a
            .iter()
            .filter_map(|o| o.as_name().ok().map(|n| n.to_vec()))
            .collect(),
        _ => Vec::new(),
    }
}

fn decode_params<'a>(doc: &'a Document, dict: &'a Dictionary) -> Option<&'a Dictionary> {
    let params = dict.get(b"DecodeParms").ok()?;
    let params = match params {
        Object::Array(a) => a.last()?,
        other => other,
    };
    doc.dereference(params).ok()?.1.as_dict().ok()
}

fn int(dict: Option<&Dictionary>, key: &[u8], default: i64) -> i64 {
    dict.and_then(|d| d.get(key).ok())
        .and_then(|o| o.as_i64().ok())
        .unwrap_or(default)
}

fn boolean(dict: Option<&Dictionary>, key: &[u8], default: bool) -> bool {
    dict.and_then(|d| d.get(key).ok())
        .and_then(|o| o.as_bool().ok())
        .unwrap_or(default)
}

/// `/Decode [1 0]` on a one-component image: samples are inverted.
fn decode_inverted(dict: &Dictionary) -> bool {
    match dict.get(b"Decode") {
        Ok(Object::Array(a)) if a.len() >= 2 => {
            let first = a[0].as_float().unwrap_or(0.0);
            let second = a[1].as_float().unwrap_or(1.0);
            first > second
        }
        _ => false,
    }
}

/// The filters that code an image (the last of a chain); the others only pack bytes.
const IMAGE_CODECS: &[&[u8]] = &[
    b"DCTDecode",
    b"CCITTFaxDecode",
    b"JBIG2Decode",
    b"JPXDecode",
];

/// An image's stored samples as a grey image, by the codec of its last filter: JPEG, fax,
/// JBIG2 or plain (possibly compressed) samples. The byte filters before an image codec
/// (`[/FlateDecode /DCTDecode]`, `[/ASCII85Decode /CCITTFaxDecode]`) are undone first, each
/// bounded like the image. JPEG 2000 is not read.
fn decode_image(
    doc: &Document,
    dict: &Dictionary,
    content: &[u8],
    width: u32,
    height: u32,
    limits: Limits,
) -> Result<GrayImage, DecodeError> {
    let filters = name_list(dict, b"Filter");
    let codec = filters
        .last()
        .map(|f| f.as_slice())
        .filter(|f| IMAGE_CODECS.contains(f));
    let params = decode_params(doc, dict);
    let inverted = decode_inverted(dict);
    // Any image's data fits in this: 4 bytes per pixel, and a little for headers.
    let bound = (width as usize * height as usize * 4 + 1024).max(4096);
    let Some(codec) = codec else {
        // Flate, LZW, run-length or no filter at all: plain samples.
        let data = if filters.is_empty() {
            content.to_vec()
        } else {
            lopdf::Stream::new(dict.clone(), content.to_vec())
                .decompressed_content_with_limit(bound)
                .map_err(|e| broken(format!("image data: {e}")))?
        };
        return raw_samples(doc, dict, &data, width, height, inverted);
    };
    let unpacked;
    let data = if filters.len() > 1 {
        unpacked = unpack(dict, &filters[..filters.len() - 1], content, bound)?;
        unpacked.as_slice()
    } else {
        content
    };
    match codec {
        b"DCTDecode" => decode_jpeg(data, inverted, limits),
        b"CCITTFaxDecode" => decode_ccitt(data, params, width, height, inverted),
        b"JBIG2Decode" => decode_jbig2(doc, data, params, inverted, limits),
        _ => Err(DecodeError::UnsupportedColour(
            "JPEG 2000 image in a PDF".into(),
        )),
    }
}

/// Undoes the byte filters that wrap an image codec's data, with their own parameters.
fn unpack(
    dict: &Dictionary,
    filters: &[Vec<u8>],
    content: &[u8],
    bound: usize,
) -> Result<Vec<u8>, DecodeError> {
    let mut outer = Dictionary::new();
    outer.set(
        "Filter",
        Object::Array(filters.iter().map(|f| Object::Name(f.clone())).collect()),
    );
    if let Ok(Object::Array(params)) = dict.get(b"DecodeParms") {
        let params = params.iter().take(filters.len()).cloned().collect();
        outer.set("DecodeParms", Object::Array(params));
    }
    lopdf::Stream::new(outer, content.to_vec())
        .decompressed_content_with_limit(bound)
        .map_err(|e| broken(format!("image data ({}): {e}", filter_names(filters))))
}

fn filter_names(filters: &[Vec<u8>]) -> String {
    filters
        .iter()
        .map(|f| format!("/{}", String::from_utf8_lossy(f)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A JPEG image (DCTDecode), flattened to grey.
fn decode_jpeg(content: &[u8], inverted: bool, limits: Limits) -> Result<GrayImage, DecodeError> {
    let mut reader = ImageReader::with_format(Cursor::new(content), ImageFormat::Jpeg);
    let mut l = image::Limits::default();
    l.max_alloc = Some(limits.max_pixels * 5);
    reader.limits(l);
    let image = reader.decode().map_err(|e| broken(e.to_string()))?;
    let mut grey = flatten_to_grey(image);
    if inverted {
        image::imageops::invert(&mut grey);
    }
    Ok(grey)
}

/// A fax-coded bilevel image (CCITTFaxDecode, Group 3 or 4).
fn decode_ccitt(
    content: &[u8],
    params: Option<&Dictionary>,
    width: u32,
    height: u32,
    inverted: bool,
) -> Result<GrayImage, DecodeError> {
    let black_is_1 = boolean(params, b"BlackIs1", false);
    let k = int(params, b"K", 0);
    let settings = hayro_ccitt::DecodeSettings {
        columns: int(params, b"Columns", 1728).clamp(0, width as i64) as u32,
        rows: height,
        end_of_block: boolean(params, b"EndOfBlock", true),
        end_of_line: boolean(params, b"EndOfLine", false),
        rows_are_byte_aligned: boolean(params, b"EncodedByteAlign", false),
        encoding: if k < 0 {
            hayro_ccitt::EncodingMode::Group4
        } else if k == 0 {
            hayro_ccitt::EncodingMode::Group3_1D
        } else {
            hayro_ccitt::EncodingMode::Group3_2D
        },
        strict: false,
    };
    let mut sink = BitmapSink::new(width, height);
    let mut ctx = hayro_ccitt::DecoderContext::new(settings);
    // A truncated stream still gives the rows before the damage: keep them.
    let result = hayro_ccitt::decode(content, &mut sink, &mut ctx);
    if sink.rows == 0 {
        return Err(broken(format!(
            "CCITT image: {}",
            result.err().map(|e| format!("{e:?}")).unwrap_or_default()
        )));
    }
    // The decoder speaks of black and white. As stored, black is 0 unless BlackIs1,
    // and DeviceGray shows 0 as black; /Decode maps the stored bits again.
    Ok(sink.finish(inverted ^ black_is_1))
}

/// A JBIG2 bilevel image, with its global segments when the parameters name them.
fn decode_jbig2(
    doc: &Document,
    content: &[u8],
    params: Option<&Dictionary>,
    inverted: bool,
    limits: Limits,
) -> Result<GrayImage, DecodeError> {
    let settings = hayro_jbig2::DecodeSettings::default();
    let globals_data = params
        .and_then(|p| p.get(b"JBIG2Globals").ok())
        .and_then(|o| o.as_reference().ok())
        .and_then(|id| doc.get_object(id).ok())
        .and_then(|o| o.as_stream().ok())
        .and_then(|s| {
            s.decompressed_content_with_limit(limits.max_pixels as usize)
                .ok()
                .or_else(|| Some(s.content.clone()))
        });
    let globals = match &globals_data {
        Some(data) => Some(
            hayro_jbig2::Globals::new(data, &settings)
                .map_err(|e| broken(format!("JBIG2 globals: {e:?}")))?,
        ),
        None => None,
    };
    let page = hayro_jbig2::Page::new_embedded(content, globals.as_ref(), &settings)
        .map_err(|e| broken(format!("JBIG2 image: {e:?}")))?;
    check_size(1, page.width(), page.height(), limits)?;
    let mut sink = BitmapSink::new(page.width(), page.height());
    page.decode(&mut sink)
        .map_err(|e| broken(format!("JBIG2 image: {e:?}")))?;
    Ok(sink.finish(inverted))
}

fn colour_components(doc: &Document, dict: &Dictionary) -> Option<usize> {
    if dict
        .get(b"ImageMask")
        .and_then(|o| o.as_bool())
        .unwrap_or(false)
    {
        return Some(1);
    }
    let cs = doc.dereference(dict.get(b"ColorSpace").ok()?).ok()?.1;
    let name = match cs {
        Object::Name(n) => n.clone(),
        Object::Array(a) => {
            let first = a.first()?.as_name().ok()?.to_vec();
            if first == b"ICCBased" {
                let stream = doc.dereference(a.get(1)?).ok()?.1.as_stream().ok()?;
                return stream
                    .dict
                    .get(b"N")
                    .ok()?
                    .as_i64()
                    .ok()
                    .map(|n| n as usize);
            }
            if first == b"CalGray" {
                return Some(1);
            }
            if first == b"CalRGB" {
                return Some(3);
            }
            first
        }
        _ => return None,
    };
    match name.as_slice() {
        b"DeviceGray" | b"G" | b"CalGray" => Some(1),
        b"DeviceRGB" | b"RGB" => Some(3),
        b"DeviceCMYK" | b"CMYK" => Some(4),
        _ => None,
    }
}

fn raw_samples(
    doc: &Document,
    dict: &Dictionary,
    data: &[u8],
    width: u32,
    height: u32,
    inverted: bool,
) -> Result<GrayImage, DecodeError> {
    let components = colour_components(doc, dict)
        .ok_or_else(|| DecodeError::UnsupportedColour("PDF image colour space".into()))?;
    let image_mask = dict
        .get(b"ImageMask")
        .and_then(|o| o.as_bool())
        .unwrap_or(false);
    let bits = if image_mask {
        1
    } else {
        dict.get(b"BitsPerComponent")
            .and_then(|o| o.as_i64())
            .unwrap_or(8)
    };
    // Only the depths read below; anything else (0 or negative from a broken file) would
    // give a zero or wrapped row length.
    let bits = match bits {
        1 | 2 | 4 | 8 => bits as usize,
        other => {
            return Err(DecodeError::UnsupportedColour(format!(
                "PDF image with {other} bits per component"
            )))
        }
    };
    let (w, h) = (width as usize, height as usize);
    let stride = (w * components * bits).div_ceil(8);
    if stride == 0 || data.len() < stride * h {
        return Err(broken("image data shorter than its dimensions"));
    }
    let mut out = Vec::with_capacity(w * h);
    for row in data.chunks(stride).take(h) {
        match (components, bits) {
            (1, 8) => out.extend_from_slice(&row[..w]),
            (1, 1 | 2 | 4) => {
                let max = (1u32 << bits) - 1;
                for x in 0..w {
                    let bit = x * bits;
                    let v = (row[bit / 8] >> (8 - bits - bit % 8)) as u32 & max;
                    out.push((v * 255 / max) as u8);
                }
            }
            (3, 8) => out.extend(row.chunks_exact(3).take(w).map(|p| luma(p[0], p[1], p[2]))),
            (4, 8) => out.extend(row.chunks_exact(4).take(w).map(|p| {
                let k = 255 - p[3] as u32;
                let ch = |c: u8| ((255 - c as u32) * k / 255) as u8;
                luma(ch(p[0]), ch(p[1]), ch(p[2]))
            })),
            (c, b) => {
                return Err(DecodeError::UnsupportedColour(format!(
                    "PDF image with {c} components of {b} bits"
                )))
            }
        }
    }
    // An image mask paints where the sample is 0 (black ink on white paper).
    let invert = inverted ^ image_mask;
    if invert {
        out.iter_mut().for_each(|v| *v = 255 - *v);
    }
    GrayImage::from_raw(width, height, out).ok_or_else(|| broken("image data size"))
}

/// Collects a bi-level image row by row (CCITT gives colour changes, JBIG2 pixels).
struct BitmapSink {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
    rows: usize,
    x: usize,
}

impl BitmapSink {
    fn new(width: u32, height: u32) -> BitmapSink {
        BitmapSink {
            width: width as usize,
            height: height as usize,
            pixels: vec![255; width as usize * height as usize],
            rows: 0,
            x: 0,
        }
    }

    fn finish(mut self, inverted: bool) -> GrayImage {
        if inverted {
            self.pixels.iter_mut().for_each(|v| *v = 255 - *v);
        }
        GrayImage::from_raw(self.width as u32, self.height as u32, self.pixels)
            .expect("sized at creation")
    }

    fn set_black(&mut self, from: usize, to: usize) {
        if self.rows >= self.height {
            return;
        }
        let start = self.rows * self.width;
        let (from, to) = (from.min(self.width), to.min(self.width));
        if from < to {
            self.pixels[start + from..start + to].fill(0);
        }
    }
}

impl hayro_ccitt::Decoder for BitmapSink {
    fn push_row(&mut self, changes: &[u32]) {
        for pair in changes.chunks(2) {
            let from = pair[0] as usize;
            let to = pair.get(1).map(|&t| t as usize).unwrap_or(self.width);
            self.set_black(from, to);
        }
        self.rows += 1;
    }
}

impl hayro_jbig2::Decoder for BitmapSink {
    fn push_pixel(&mut self, black: bool) {
        if black {
            self.set_black(self.x, self.x + 1);
        }
        self.x += 1;
    }

    fn push_pixel_chunk(&mut self, black: bool, chunk_count: u32) {
        let n = chunk_count as usize * 8;
        if black {
            self.set_black(self.x, self.x + n);
        }
        self.x += n;
    }

    fn next_line(&mut self) {
        self.rows += 1;
        self.x = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::{self, PageImage, Word};

    fn page(image: PageImage<'_>, dpi: u32, rotate: u32) -> pdf::Page<'_> {
        pdf::Page {
            image,
            dpi,
            words: vec![],
            visible: vec![],
            rotate,
        }
    }

    /// A Group 4 stream of an all-white page: each row codes as one "vertical 0" bit.
    fn all_white_g4(height: u32) -> Vec<u8> {
        vec![0xFF; (height as usize).div_ceil(8)]
    }

    #[test]
    fn flate_grey_page_keeps_its_pixels_resolution_and_rotation() {
        let (w, h) = (60u32, 40u32);
        let pixels: Vec<u8> = (0..w * h).map(|i| (i % 251) as u8).collect();
        let file = pdf::write(&[page(
            PageImage::Grey {
                pixels: &pixels,
                width: w,
                height: h,
            },
            200,
            90,
        )]);
        let mut pages = open(&file, Limits::default()).unwrap();
        let p = pages.next().unwrap().unwrap();
        assert_eq!(p.meta_dpi, Some(200));
        assert_eq!(p.rotated_by, 90);
        // Turned a quarter clockwise: the first column, read bottom up, is the first row.
        assert_eq!(p.image.dimensions(), (h, w));
        let original = GrayImage::from_raw(w, h, pixels).unwrap();
        assert_eq!(p.image, image::imageops::rotate90(&original));
        assert!(p.text_layer.is_none());
        assert!(pages.next().is_none());
    }

    /// Every image stream of `file` deflated once more, its filter chain growing a
    /// /FlateDecode in front (as some scanners write JPEG pages).
    fn flate_in_front(file: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut doc = Document::load_mem(file).unwrap();
        for object in doc.objects.values_mut() {
            let Ok(stream) = object.as_stream_mut() else {
                continue;
            };
            if stream.dict.get(b"Subtype").and_then(|s| s.as_name()).ok() != Some(b"Image") {
                continue;
            }
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            z.write_all(&stream.content).unwrap();
            let codec = stream.dict.get(b"Filter").unwrap().clone();
            stream
                .dict
                .set("Filter", vec![Object::Name(b"FlateDecode".to_vec()), codec]);
            if let Ok(params) = stream.dict.get(b"DecodeParms").cloned() {
                stream.dict.set("DecodeParms", vec![Object::Null, params]);
            }
            stream.set_content(z.finish().unwrap());
        }
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    #[test]
    fn jpeg_and_fax_pages_behind_a_flate_filter_are_read() {
        use image::ImageEncoder;
        let mut grey = GrayImage::from_pixel(64, 48, image::Luma([230]));
        for x in 10..50 {
            grey.put_pixel(x, 20, image::Luma([10]));
        }
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95)
            .write_image(grey.as_raw(), 64, 48, image::ExtendedColorType::L8)
            .unwrap();
        let g4 = all_white_g4(40);
        let file = pdf::write(&[
            page(
                PageImage::Jpeg {
                    bytes: &jpeg,
                    width: 64,
                    height: 48,
                    components: 1,
                },
                300,
                0,
            ),
            page(
                PageImage::G4 {
                    bytes: &g4,
                    width: 32,
                    height: 40,
                },
                300,
                0,
            ),
        ]);
        let chained = flate_in_front(&file);
        let squeezed = String::from_utf8_lossy(&chained).replace(' ', "");
        assert!(squeezed.contains("[/FlateDecode/DCTDecode]"), "{squeezed}");
        let direct: Vec<Page> = open(&file, Limits::default())
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let through: Vec<Page> = open(&chained, Limits::default())
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(through.len(), 2);
        for (a, b) in direct.iter().zip(&through) {
            assert_eq!(a.image, b.image);
        }
        assert!(through[0].image.get_pixel(30, 20).0[0] < 80);
        assert!(through[1].image.pixels().all(|p| p.0[0] == 255));
    }

    /// Found by the fuzzer: `/BitsPerComponent 0` gave a zero row length and a panic.
    #[test]
    fn impossible_sample_depths_are_errors_not_panics() {
        let pixels = vec![128u8; 16 * 16];
        let file = pdf::write(&[page(
            PageImage::Grey {
                pixels: &pixels,
                width: 16,
                height: 16,
            },
            100,
            0,
        )]);
        let needle = b"/BitsPerComponent 8";
        let at = file
            .windows(needle.len())
            .position(|w| w == needle)
            .unwrap();
        for depth in [b'0', b'3', b'9'] {
            let mut broken = file.clone();
            broken[at + needle.len() - 1] = depth;
            let result = open(&broken, Limits::default()).unwrap().next().unwrap();
            assert!(
                matches!(result, Err(DecodeError::UnsupportedColour(ref m)) if m.contains("bits")),
                "depth {}: {:?}",
                depth as char,
                result.err()
            );
        }
    }

    #[test]
    fn group4_pages_decode_and_a_bomb_is_refused_before_allocation() {
        let white = all_white_g4(50);
        let file = pdf::write(&[page(
            PageImage::G4 {
                bytes: &white,
                width: 80,
                height: 50,
            },
            300,
            0,
        )]);
        let p = open(&file, Limits::default())
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(p.image.dimensions(), (80, 50));
        assert!(p.image.pixels().all(|px| px.0[0] == 255));

        // 35000×35000 pixels in a 4 KB stream.
        let bomb_rows = all_white_g4(35_000);
        let file = pdf::write(&[page(
            PageImage::G4 {
                bytes: &bomb_rows,
                width: 35_000,
                height: 35_000,
            },
            300,
            0,
        )]);
        assert!(file.len() < 11_000);
        let result = open(&file, Limits::default()).unwrap().next().unwrap();
        assert!(
            matches!(result, Err(DecodeError::TooLarge { width: 35_000, .. })),
            "{:?}",
            result.err()
        );
    }

    #[test]
    fn a_text_layer_is_handed_on_and_an_empty_or_broken_file_is_an_error() {
        let pixels = vec![255u8; 100 * 100];
        let mut with_text = page(
            PageImage::Grey {
                pixels: &pixels,
                width: 100,
                height: 100,
            },
            100,
            0,
        );
        with_text.words = vec![
            Word {
                text: "Giấy",
                x0: 1,
                y0: 1,
                x1: 30,
                y1: 10,
            },
            Word {
                text: "khai-sinh-số-0123456789",
                x0: 31,
                y0: 1,
                x1: 90,
                y1: 10,
            },
        ];
        let file = pdf::write(&[with_text]);
        let p = open(&file, Limits::default())
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        let text = p.text_layer.expect("text layer");
        assert!(text.contains("Giấy"), "{text}");

        assert!(matches!(
            open(&pdf::write(&[]), Limits::default()).err(),
            Some(DecodeError::PdfNoPages)
        ));
        assert!(matches!(
            open(&file[..file.len() / 3], Limits::default()).err(),
            Some(DecodeError::Corrupt { .. }) | Some(DecodeError::PdfNoPages)
        ));
    }
}

#[cfg(test)]
mod jbig2_tests {
    use super::*;

    /// An embedded JBIG2 stream (Annex D.3): page information, one immediate lossless
    /// generic region coded with MMR (all-white rows: one "vertical 0" bit each), end of page.
    fn all_white_jbig2(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut segment = |number: u32, kind: u8, data: &[u8]| {
            out.extend_from_slice(&number.to_be_bytes());
            out.push(kind);
            out.push(0); // no referred-to segments
            out.push(1); // page 1
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            out.extend_from_slice(data);
        };
        let mut page_info = Vec::new();
        page_info.extend_from_slice(&width.to_be_bytes());
        page_info.extend_from_slice(&height.to_be_bytes());
        page_info.extend_from_slice(&0u32.to_be_bytes());
        page_info.extend_from_slice(&0u32.to_be_bytes());
        page_info.push(0);
        page_info.extend_from_slice(&0u16.to_be_bytes());
        segment(0, 48, &page_info);
        let mut region = Vec::new();
        region.extend_from_slice(&width.to_be_bytes());
        region.extend_from_slice(&height.to_be_bytes());
        region.extend_from_slice(&0u32.to_be_bytes());
        region.extend_from_slice(&0u32.to_be_bytes());
        region.push(0); // OR
        region.push(1); // MMR
        region.extend(std::iter::repeat_n(0xFF, (height as usize).div_ceil(8)));
        segment(1, 39, &region);
        segment(2, 49, &[]);
        out
    }

    fn jbig2_pdf(width: u32, height: u32) -> Vec<u8> {
        let data = all_white_jbig2(width, height);
        let mut w = crate::pdf::Writer::new(Vec::new()).unwrap();
        let catalog = w.reserve();
        let pages = w.reserve();
        let image = w
            .add_stream(
                &format!(
                    "/Type /XObject /Subtype /Image /Width {width} /Height {height} \
                     /ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /JBIG2Decode"
                ),
                &data,
            )
            .unwrap();
        let content = w.add_stream("", b"q 72 0 0 45 0 0 cm /Im0 Do Q").unwrap();
        let page = w
            .add(&format!(
                "<< /Type /Page /Parent {pages} 0 R /MediaBox [0 0 72 45] \
                 /Resources << /XObject << /Im0 {image} 0 R >> >> /Contents {content} 0 R >>"
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

    #[test]
    fn jbig2_pages_decode_and_their_size_is_checked_first() {
        let p = open(&jbig2_pdf(64, 40), Limits::default())
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(p.image.dimensions(), (64, 40));
        assert!(p.image.pixels().all(|px| px.0[0] == 255));
        assert_eq!(p.meta_dpi, Some(64));
        let tiny = Limits {
            max_pixels: 1000,
            max_pages: 10,
        };
        let result = open(&jbig2_pdf(64, 40), tiny).unwrap().next().unwrap();
        assert!(matches!(result, Err(DecodeError::TooLarge { .. })));
    }
}

/// Where the page's content draws its image, and how that is read.
#[cfg(test)]
mod placement_tests {
    use super::*;

    /// A one-page PDF drawing `grey` (raw 8-bit samples) as /Im0 with `content`, on a page of
    /// `media` points, with /Rotate `rotate` when it is not 0.
    fn placed_pdf(grey: &GrayImage, media: (f32, f32), rotate: i64, content: &str) -> Vec<u8> {
        use lopdf::{dictionary, Stream};
        let mut doc = Document::with_version("1.5");
        let (w, h) = grey.dimensions();
        let image = doc.add_object(Stream::new(
            dictionary! {
                "Type" => "XObject",
                "Subtype" => "Image",
                "Width" => w as i64,
                "Height" => h as i64,
                "ColorSpace" => "DeviceGray",
                "BitsPerComponent" => 8,
            },
            grey.as_raw().clone(),
        ));
        let contents = doc.add_object(Stream::new(dictionary! {}, content.as_bytes().to_vec()));
        let pages = doc.new_object_id();
        let mut page = dictionary! {
            "Type" => "Page",
            "Parent" => pages,
            "MediaBox" => vec![0.into(), 0.into(), media.0.into(), media.1.into()],
            "Contents" => contents,
            "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image } },
        };
        if rotate != 0 {
            page.set("Rotate", rotate);
        }
        let page = doc.add_object(page);
        doc.objects.insert(
            pages,
            Object::Dictionary(dictionary! {
                "Type" => "Pages",
                "Kids" => vec![page.into()],
                "Count" => 1,
            }),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
        doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    /// 75×50 white, a black square at its top left and a mid-grey one at its top right: any
    /// turn or mirror of it moves the two marks somewhere else.
    fn marked() -> GrayImage {
        GrayImage::from_fn(75, 50, |x, y| {
            image::Luma([match (x, y) {
                (0..25, 0..25) => 0,
                (50..75, 0..25) => 128,
                _ => 255,
            }])
        })
    }

    fn first_page(file: &[u8]) -> Page {
        open(file, Limits::default())
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
    }

    /// The share of pixels of `a` and `b` (same size) more than 40 grey levels apart.
    fn differing(a: &GrayImage, b: &GrayImage) -> f64 {
        assert_eq!(a.dimensions(), b.dimensions());
        let far = a
            .pixels()
            .zip(b.pixels())
            .filter(|(p, q)| p.0[0].abs_diff(q.0[0]) > 40)
            .count();
        far as f64 / (a.width() * a.height()) as f64
    }

    #[test]
    fn an_image_drawn_turned_or_mirrored_reads_as_a_viewer_shows_it() {
        use image::imageops::{flip_horizontal, rotate180, rotate270, rotate90};
        let stored = marked();
        // 1 pixel = 0.24 pt: 300 dpi, so the renderer's page is pixel for pixel the image.
        let (w, h) = (18.0, 12.0);
        let cases: [(&str, &str, (f32, f32), GrayImage); 6] = [
            ("upright", "18 0 0 12 0 0", (w, h), stored.clone()),
            // The image's first column ends up along the top, read right to left: a quarter
            // turn clockwise (cardinal.pdf's page 2 draws its scan like this).
            ("90", "0 -18 12 0 0 18", (h, w), rotate90(&stored)),
            ("180", "-18 0 0 -12 18 12", (w, h), rotate180(&stored)),
            ("270", "0 18 -12 0 12 0", (h, w), rotate270(&stored)),
            (
                "mirrored",
                "-18 0 0 12 18 0",
                (w, h),
                flip_horizontal(&stored),
            ),
            // Each row runs up the page, the rows from right to left: mirrored, then turned
            // a quarter clockwise (the first pixel lands bottom right).
            (
                "transposed",
                "0 18 12 0 0 0",
                (h, w),
                rotate90(&flip_horizontal(&stored)),
            ),
        ];
        for (name, matrix, media, expected) in cases {
            let file = placed_pdf(&stored, media, 0, &format!("q {matrix} cm /Im0 Do Q"));
            let p = first_page(&file);
            assert_eq!(p.image, expected, "{name}");
            assert_eq!(p.meta_dpi, Some(300), "{name}");
            // And as the renderer (a viewer) draws the page.
            let viewed = Renderer::default()
                .render(&file, 0, 1, Limits::default())
                .unwrap();
            assert!(differing(&p.image, &viewed) < 0.03, "{name}");
        }
    }

    #[test]
    fn a_rotate_that_undoes_the_drawn_turn_gives_the_image_as_stored() {
        let stored = marked();
        // Drawn turned a quarter counter-clockwise, shown turned a quarter clockwise.
        let file = placed_pdf(&stored, (12.0, 18.0), 90, "q 0 18 -12 0 12 0 cm /Im0 Do Q");
        let p = first_page(&file);
        assert_eq!(p.image, stored);
        assert_eq!(p.rotated_by, 90);
        assert_eq!(p.meta_dpi, Some(300));
        // /Rotate alone still turns the stored image.
        let file = placed_pdf(&stored, (18.0, 12.0), 270, "q 18 0 0 12 0 0 cm /Im0 Do Q");
        assert_eq!(first_page(&file).image, image::imageops::rotate270(&stored));
    }

    #[test]
    fn the_resolution_comes_from_the_drawn_size_not_the_page() {
        // 600×300 pixels drawn 2 by 1 inches on a 4-inch-wide page: 300 dpi, not 150.
        let grey = GrayImage::from_pixel(600, 300, image::Luma([200]));
        let file = placed_pdf(&grey, (288.0, 288.0), 0, "q 144 0 0 72 36 100 cm /Im0 Do Q");
        let p = first_page(&file);
        assert_eq!(p.meta_dpi, Some(300));
        assert_eq!(p.image, grey);
        // Placed by nested `cm`s: a scale of 2 around a 72×36 placement.
        let file = placed_pdf(
            &grey,
            (288.0, 288.0),
            0,
            "q 2 0 0 2 0 0 cm q 72 0 0 36 10 10 cm /Im0 Do Q Q",
        );
        assert_eq!(first_page(&file).meta_dpi, Some(300));
        // Drawn turned on a landscape page: still 300 dpi along each of the image's axes.
        let file = placed_pdf(&grey, (72.0, 144.0), 0, "q 0 -144 72 0 0 144 cm /Im0 Do Q");
        let p = first_page(&file);
        assert_eq!((p.image.dimensions(), p.meta_dpi), ((300, 600), Some(300)));
    }

    #[test]
    fn odd_content_does_not_panic_and_counts_only_what_parses() {
        let stored = marked();
        // Unbalanced Q, a `cm` short of operands, one with a name, a `Do` of nothing.
        let content = "Q Q 1 2 cm /x 1 2 3 4 5 cm /Nothing Do q \
                       18 0 0 12 0 0 cm /Im0 Do Q Q Q";
        let p = first_page(&placed_pdf(&stored, (18.0, 12.0), 0, content));
        assert_eq!((p.image == stored, p.meta_dpi), (true, Some(300)));
        // Never drawn: the image as stored, its resolution from the page's width.
        let p = first_page(&placed_pdf(&stored, (18.0, 12.0), 0, "q Q"));
        assert_eq!((p.image == stored, p.meta_dpi), (true, Some(300)));
    }

    #[test]
    fn an_image_drawn_at_an_angle_is_rendered_as_a_viewer_shows_it() {
        let stored = marked();
        // Turned 20° counter-clockwise about its lower-left corner, set in a 1-inch page.
        let (sin, cos) = 20f32.to_radians().sin_cos();
        let (w, h) = (18.0f32, 12.0f32);
        let content = format!(
            "q {} {} {} {} 30 20 cm /Im0 Do Q",
            w * cos,
            w * sin,
            -h * sin,
            h * cos
        );
        let p = first_page(&placed_pdf(&stored, (72.0, 72.0), 0, &content));
        assert_eq!(p.meta_dpi, Some(render::RENDER_DPI));
        assert_eq!(p.image.dimensions(), (300, 300));
        let dark = p.image.pixels().filter(|px| px.0[0] < 60).count();
        // The black mark (625 pixels) drawn, with some antialiased edge; nothing else dark.
        assert!((500..=750).contains(&dark), "{dark}");
    }
}
