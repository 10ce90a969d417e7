//! Files → pages: JPEG, PNG, multi-page TIFF and scanned PDF become 8-bit grey pages (alpha
//! flattened onto white) with the resolution their metadata gives.
//!
//! Pages come one at a time ([`Pages`]), so a 1,000-frame TIFF never sits in memory whole,
//! and every allocation is bounded by [`Limits`] before it is made.

pub mod borders;
pub mod embed;
pub mod metadata;
pub mod pdf;
pub mod pixels;
pub(crate) mod placement;
pub mod quality;
pub mod render;
pub mod sharpness;
pub mod truncation;

use std::io::Cursor;

use image::{DynamicImage, GrayImage, ImageFormat, ImageReader};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Tiff,
    Pdf,
}

impl Format {
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Tiff => "image/tiff",
            Format::Pdf => "application/pdf",
        }
    }
}

/// Recognises a format by its content, not its name: a `.jpg` holding a PNG is a PNG.
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Format::Png)
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        Some(Format::Tiff)
    } else if bytes.starts_with(b"%PDF-") {
        Some(Format::Pdf)
    } else {
        None
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("empty file")]
    Empty,
    #[error("unsupported file type (not JPEG, PNG, TIFF or PDF)")]
    Unsupported,
    #[error("encrypted PDF: cannot be read without its password")]
    PdfEncrypted,
    #[error("PDF has no pages")]
    PdfNoPages,
    #[error("cannot decode {format}: {detail}")]
    Corrupt {
        format: &'static str,
        detail: String,
    },
    #[error("page {page} is {width}×{height} pixels, over the limit of {limit} megapixels")]
    TooLarge {
        page: usize,
        width: u32,
        height: u32,
        limit: u64,
    },
    #[error(
        "page {page} draws {megapixels} megapixels of images in all, over the limit of {limit}"
    )]
    ImagesTooLarge {
        page: usize,
        megapixels: u64,
        limit: u64,
    },
    #[error("more than {0} pages")]
    TooManyPages(usize),
    #[error("unsupported TIFF colour layout {0}")]
    UnsupportedColour(String),
    #[error(
        "file is {} MiB, over the limit of {} MiB for reading its pages: archived as it is, not read (split it, or scan it again at a lower resolution)",
        bytes.div_ceil(1 << 20), limit >> 20
    )]
    FileTooLarge { bytes: u64, limit: u64 },
}

/// The largest file whose pages are decoded. A file's pages are decoded from a copy of it in
/// memory (a PDF's objects are parsed from it too), so this bounds that copy: a larger file is
/// archived by streaming, never held whole, and rejected with [`DecodeError::FileTooLarge`].
/// 256 MiB is several hundred pages of a colour scan; the run's memory bar is 1 GiB.
pub const MAX_DECODED_FILE_BYTES: u64 = 256 << 20;

/// Bounds on what one file may make us allocate.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_pixels: u64,
    pub max_pages: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // 100 Mpx covers A3 at 600 dpi (70 Mpx) with room; a 30000×30000 "image" is refused.
        Limits {
            max_pixels: 100_000_000,
            max_pages: 2_000,
        }
    }
}

/// One decoded page, ready for quality checks and OCR.
pub struct Page {
    /// The page as scanned; 0×0 for a PDF page that carries no image (text only).
    pub image: GrayImage,
    /// Resolution from the file's metadata, when it has one.
    pub meta_dpi: Option<u32>,
    /// The text a PDF page already carries, when it has a real text layer.
    pub text_layer: Option<String>,
    /// Degrees the file asked the page to be turned (PDF /Rotate), already applied.
    pub rotated_by: u32,
}

/// The pages of one file, decoded lazily.
pub enum Pages<'a> {
    Single(Option<Result<Page, DecodeError>>),
    Tiff(Box<TiffPages<'a>>),
    Pdf(Box<pdf::PdfPages<'a>>),
}

impl Iterator for Pages<'_> {
    type Item = Result<Page, DecodeError>;
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Pages::Single(page) => page.take(),
            Pages::Tiff(t) => t.next(),
            Pages::Pdf(p) => p.next(),
        }
    }

    fn nth(&mut self, n: usize) -> Option<Self::Item> {
        match self {
            // A PDF page is found without reading (or rendering) the ones before it.
            Pages::Pdf(p) => p.nth(n),
            _ => {
                for _ in 0..n {
                    let _ = self.next()?;
                }
                self.next()
            }
        }
    }
}

/// Opens a file's bytes as pages. Errors here mean no page can be read at all.
pub fn pages(bytes: &[u8], limits: Limits) -> Result<(Format, Pages<'_>), DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let format = sniff(bytes).ok_or(DecodeError::Unsupported)?;
    let pages = match format {
        Format::Jpeg => Pages::Single(Some(decode_single(
            bytes,
            ImageFormat::Jpeg,
            metadata::jpeg_dpi(bytes),
            limits,
        ))),
        Format::Png => Pages::Single(Some(decode_single(
            bytes,
            ImageFormat::Png,
            metadata::png_dpi(bytes),
            limits,
        ))),
        Format::Tiff => Pages::Tiff(Box::new(TiffPages::open(bytes, limits)?)),
        Format::Pdf => Pages::Pdf(Box::new(pdf::open(bytes, limits)?)),
    };
    Ok((format, pages))
}

fn decode_single(
    bytes: &[u8],
    format: ImageFormat,
    meta_dpi: Option<u32>,
    limits: Limits,
) -> Result<Page, DecodeError> {
    let name = if format == ImageFormat::Jpeg {
        "JPEG"
    } else {
        "PNG"
    };
    let corrupt = |e: image::ImageError| DecodeError::Corrupt {
        format: name,
        detail: e.to_string(),
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut image_limits = image::Limits::default();
    // Colour decode (4 bytes per pixel at most) plus the grey copy.
    image_limits.max_alloc = Some(limits.max_pixels * 5);
    reader.limits(image_limits.clone());
    let (width, height) = reader.into_dimensions().map_err(corrupt)?;
    check_size(1, width, height, limits)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(image_limits);
    let image = reader.decode().map_err(corrupt)?;
    Ok(Page {
        image: flatten_to_grey(image),
        meta_dpi,
        text_layer: None,
        rotated_by: 0,
    })
}

pub(crate) fn check_size(
    page: usize,
    width: u32,
    height: u32,
    limits: Limits,
) -> Result<(), DecodeError> {
    if width == 0 || height == 0 || width as u64 * height as u64 > limits.max_pixels {
        return Err(DecodeError::TooLarge {
            page,
            width,
            height,
            limit: limits.max_pixels / 1_000_000,
        });
    }
    Ok(())
}

/// Grey, with any transparency composited onto white paper (a transparent PNG would
/// otherwise turn black and read as a solid page).
pub fn flatten_to_grey(image: DynamicImage) -> GrayImage {
    if !image.color().has_alpha() {
        return image.into_luma8();
    }
    let rgba = image.into_rgba8();
    let (w, h) = rgba.dimensions();
    let grey = rgba
        .pixels()
        .map(|p| {
            let [r, g, b, a] = p.0;
            let luma = luma(r, g, b) as u32;
            let a = a as u32;
            ((luma * a + 255 * (255 - a) + 127) / 255) as u8
        })
        .collect();
    GrayImage::from_raw(w, h, grey).expect("one byte per pixel")
}

pub(crate) fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((299 * r as u32 + 587 * g as u32 + 114 * b as u32 + 500) / 1000) as u8
}

/// Frames of a TIFF, one at a time.
pub struct TiffPages<'a> {
    decoder: tiff::decoder::Decoder<Cursor<&'a [u8]>>,
    limits: Limits,
    index: usize,
    done: bool,
}

fn tiff_error(e: tiff::TiffError) -> DecodeError {
    DecodeError::Corrupt {
        format: "TIFF",
        detail: e.to_string(),
    }
}

impl<'a> TiffPages<'a> {
    fn open(bytes: &'a [u8], limits: Limits) -> Result<Self, DecodeError> {
        let mut tiff_limits = tiff::decoder::Limits::default();
        tiff_limits.decoding_buffer_size = (limits.max_pixels * 4) as usize;
        let decoder = tiff::decoder::Decoder::new(Cursor::new(bytes))
            .map_err(tiff_error)?
            .with_limits(tiff_limits);
        Ok(TiffPages {
            decoder,
            limits,
            index: 0,
            done: false,
        })
    }

    fn read_frame(&mut self) -> Result<Page, DecodeError> {
        let page = self.index;
        let (width, height) = self.decoder.dimensions().map_err(tiff_error)?;
        check_size(page, width, height, self.limits)?;
        let colour = self.decoder.colortype().map_err(tiff_error)?;
        let meta_dpi = self.frame_dpi();
        let data = self.decoder.read_image().map_err(tiff_error)?;
        let image = tiff_to_grey(data, colour, width, height)?;
        Ok(Page {
            image,
            meta_dpi,
            text_layer: None,
            rotated_by: 0,
        })
    }

    fn frame_dpi(&mut self) -> Option<u32> {
        use tiff::decoder::ifd::Value;
        use tiff::tags::Tag;
        let x = match self.decoder.find_tag(Tag::XResolution).ok().flatten()? {
            Value::Rational(n, d) if d > 0 => n as f64 / d as f64,
            Value::Float(f) => f as f64,
            Value::Double(f) => f,
            _ => return None,
        };
        let unit = self
            .decoder
            .find_tag(Tag::ResolutionUnit)
            .ok()
            .flatten()
            .and_then(|v| v.into_u16().ok())
            .unwrap_or(2);
        match unit {
            2 if x > 0.0 => Some(x.round() as u32),
            3 if x > 0.0 => Some((x * 2.54).round() as u32),
            _ => None,
        }
    }
}

impl Iterator for TiffPages<'_> {
    type Item = Result<Page, DecodeError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.index > 0 {
            if !self.decoder.more_images() {
                self.done = true;
                return None;
            }
            if self.index >= self.limits.max_pages {
                self.done = true;
                return Some(Err(DecodeError::TooManyPages(self.limits.max_pages)));
            }
            if let Err(e) = self.decoder.next_image() {
                self.done = true;
                return Some(Err(tiff_error(e)));
            }
        }
        self.index += 1;
        // A frame that cannot be decoded fails alone: the chain of frames (each directory
        // points to the next) is read on until it breaks.
        Some(self.read_frame())
    }
}

fn tiff_to_grey(
    data: tiff::decoder::DecodingResult,
    colour: tiff::ColorType,
    width: u32,
    height: u32,
) -> Result<GrayImage, DecodeError> {
    use tiff::decoder::DecodingResult as D;
    use tiff::ColorType as C;
    let pixels = width as usize * height as usize;
    let short = || DecodeError::Corrupt {
        format: "TIFF",
        detail: "image data shorter than its dimensions".into(),
    };
    // 16-bit samples keep their high byte.
    let bytes: Vec<u8> = match data {
        D::U8(v) => v,
        D::U16(v) => v.into_iter().map(|s| (s >> 8) as u8).collect(),
        _ => {
            return Err(DecodeError::UnsupportedColour(format!(
                "{colour:?} (sample format)"
            )))
        }
    };
    let grey: Vec<u8> = match colour {
        C::Gray(8) | C::Gray(16) => bytes.get(..pixels).ok_or_else(short)?.to_vec(),
        C::Gray(bits @ (1 | 2 | 4)) => {
            let bits = bits as usize;
            let stride = (width as usize * bits).div_ceil(8);
            if bytes.len() < stride * height as usize {
                return Err(short());
            }
            let max = (1u32 << bits) - 1;
            let mut out = Vec::with_capacity(pixels);
            for row in bytes.chunks(stride).take(height as usize) {
                for x in 0..width as usize {
                    let bit = x * bits;
                    let v = (row[bit / 8] >> (8 - bits - bit % 8)) as u32 & max;
                    out.push((v * 255 / max) as u8);
                }
            }
            out
        }
        C::RGB(8) | C::RGB(16) => bytes
            .chunks_exact(3)
            .take(pixels)
            .map(|p| luma(p[0], p[1], p[2]))
            .collect(),
        C::RGBA(8) | C::RGBA(16) => bytes
            .chunks_exact(4)
            .take(pixels)
            .map(|p| {
                let a = p[3] as u32;
                ((luma(p[0], p[1], p[2]) as u32 * a + 255 * (255 - a) + 127) / 255) as u8
            })
            .collect(),
        C::GrayA(8) | C::GrayA(16) => bytes
            .chunks_exact(2)
            .take(pixels)
            .map(|p| {
                let a = p[1] as u32;
                ((p[0] as u32 * a + 255 * (255 - a) + 127) / 255) as u8
            })
            .collect(),
        C::CMYK(8) => bytes
            .chunks_exact(4)
            .take(pixels)
            .map(|p| {
                let k = 255 - p[3] as u32;
                let ch = |c: u8| ((255 - c as u32) * k / 255) as u8;
                luma(ch(p[0]), ch(p[1]), ch(p[2]))
            })
            .collect(),
        other => return Err(DecodeError::UnsupportedColour(format!("{other:?}"))),
    };
    if grey.len() < pixels {
        return Err(short());
    }
    GrayImage::from_raw(width, height, grey).ok_or_else(short)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, Luma, LumaA, RgbaImage};

    fn png_bytes(img: &DynamicImage) -> Vec<u8> {
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff(b"%PDF-1.7\n"), Some(Format::Pdf));
        assert_eq!(sniff(b"II*\0xxxx"), Some(Format::Tiff));
        assert_eq!(sniff(b"hello"), None);
        let png = png_bytes(&DynamicImage::ImageLuma8(GrayImage::new(4, 4)));
        assert_eq!(sniff(&png), Some(Format::Png));
    }

    #[test]
    fn transparent_pixels_become_white_paper() {
        let mut img = image::ImageBuffer::from_pixel(10, 10, LumaA([0u8, 0]));
        img.put_pixel(5, 5, LumaA([0, 255]));
        let bytes = png_bytes(&DynamicImage::ImageLumaA8(img));
        let (format, mut pages) = pages(&bytes, Limits::default()).unwrap();
        assert_eq!(format, Format::Png);
        let page = pages.next().unwrap().unwrap();
        assert_eq!(page.image.get_pixel(0, 0), &Luma([255]));
        assert_eq!(page.image.get_pixel(5, 5), &Luma([0]));
        assert!(pages.next().is_none());

        let mut rgba = RgbaImage::from_pixel(3, 3, image::Rgba([0, 0, 0, 0]));
        rgba.put_pixel(1, 1, image::Rgba([255, 0, 0, 128]));
        let grey = flatten_to_grey(DynamicImage::ImageRgba8(rgba));
        assert_eq!(grey.get_pixel(0, 0), &Luma([255]));
        assert!(grey.get_pixel(1, 1).0[0] < 200);
    }

    #[test]
    fn multi_page_tiff_yields_each_frame_with_its_dpi() {
        use tiff::encoder::{colortype, Rational, TiffEncoder};
        let mut out = Cursor::new(Vec::new());
        {
            let mut enc = TiffEncoder::new(&mut out).unwrap();
            for (i, dpi) in [(0u8, 300u32), (1, 150)] {
                let mut image = enc.new_image::<colortype::Gray8>(20, 30).unwrap();
                image.resolution(tiff::tags::ResolutionUnit::Inch, Rational { n: dpi, d: 1 });
                let data = vec![100 + i * 50; 600];
                image.write_data(&data).unwrap();
            }
        }
        let bytes = out.into_inner();
        let (format, pages) = pages(&bytes, Limits::default()).unwrap();
        assert_eq!(format, Format::Tiff);
        let pages: Vec<Page> = pages.map(Result::unwrap).collect();
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[0].meta_dpi, Some(300));
        assert_eq!(pages[1].meta_dpi, Some(150));
        assert_eq!(pages[1].image.get_pixel(3, 3), &Luma([150]));
    }

    #[test]
    fn a_tiff_frame_that_cannot_be_decoded_fails_alone() {
        use tiff::encoder::{colortype, TiffEncoder};
        let mut out = Cursor::new(Vec::new());
        {
            let mut enc = TiffEncoder::new(&mut out).unwrap();
            enc.write_image::<colortype::Gray8>(8, 8, &[10u8; 64])
                .unwrap();
            // 32-bit float samples: not a layout scanners write, and refused.
            enc.write_image::<colortype::Gray32Float>(8, 8, &[0.5f32; 64])
                .unwrap();
            enc.write_image::<colortype::Gray8>(8, 8, &[200u8; 64])
                .unwrap();
        }
        let bytes = out.into_inner();
        let (_, pages) = pages(&bytes, Limits::default()).unwrap();
        let pages: Vec<Result<Page, DecodeError>> = pages.collect();
        assert_eq!(pages.len(), 3);
        assert!(matches!(pages[1], Err(DecodeError::UnsupportedColour(_))));
        let third = pages[2].as_ref().map_err(|e| e.to_string()).unwrap();
        assert_eq!(third.image.get_pixel(3, 3), &Luma([200]));
    }

    #[test]
    fn corrupt_truncated_and_oversized_files_are_errors_not_panics() {
        assert_eq!(
            pages(b"", Limits::default()).err(),
            Some(DecodeError::Empty)
        );
        assert_eq!(
            pages(b"plain text", Limits::default()).err(),
            Some(DecodeError::Unsupported)
        );
        assert!(matches!(
            pages(b"%PDF-1.4\n", Limits::default()).err(),
            Some(DecodeError::Corrupt { format: "PDF", .. })
        ));
        let png = png_bytes(&DynamicImage::ImageLuma8(GrayImage::new(64, 64)));
        for cut in [9, 20, 40, png.len() - 10] {
            let result =
                pages(&png[..cut], Limits::default()).and_then(|(_, mut p)| p.next().unwrap());
            assert!(
                matches!(result, Err(DecodeError::Corrupt { .. })),
                "cut at {cut}"
            );
        }
        let tiny = Limits {
            max_pixels: 1000,
            max_pages: 5,
        };
        let result = pages(&png, tiny).and_then(|(_, mut p)| p.next().unwrap());
        assert!(matches!(
            result,
            Err(DecodeError::TooLarge { width: 64, .. })
        ));
    }

    #[test]
    fn jpeg_density_reaches_the_page() {
        let img = GrayImage::from_pixel(16, 16, Luma([200]));
        let mut out = Vec::new();
        let mut enc = image::codecs::jpeg::JpegEncoder::new(&mut out);
        enc.set_pixel_density(image::codecs::jpeg::PixelDensity::dpi(240));
        enc.write_image(img.as_raw(), 16, 16, image::ExtendedColorType::L8)
            .unwrap();
        let (_, mut pages) = pages(&out, Limits::default()).unwrap();
        assert_eq!(pages.next().unwrap().unwrap().meta_dpi, Some(240));
    }
}
