//! An original page image a PDF can carry as it is: a baseline or progressive JPEG (grey or
//! RGB), or the zlib stream of an 8-bit, non-interlaced grey or RGB PNG (PDF's Flate filter
//! with the PNG predictors reads it unchanged). The searchable PDF then shows the scan itself,
//! in colour, without decoding or compressing it again.

/// How a file's single image can be embedded in a PDF without re-encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Embeddable {
    Jpeg {
        bytes: Vec<u8>,
        width: u32,
        height: u32,
        components: u8,
    },
    Png {
        zlib: Vec<u8>,
        width: u32,
        height: u32,
        colors: u8,
    },
}

impl Embeddable {
    pub fn dimensions(&self) -> (u32, u32) {
        match *self {
            Embeddable::Jpeg { width, height, .. } | Embeddable::Png { width, height, .. } => {
                (width, height)
            }
        }
    }
}

/// The file's image as a PDF can embed it, when it can.
pub fn embeddable(bytes: &[u8]) -> Option<Embeddable> {
    match super::sniff(bytes)? {
        super::Format::Jpeg => jpeg(bytes),
        super::Format::Png => png(bytes),
        _ => None,
    }
}

fn jpeg(bytes: &[u8]) -> Option<Embeddable> {
    // A cut-off file is not passed on (its decoded pages were read as far as they went).
    if !bytes.ends_with(&[0xFF, 0xD9]) {
        return None;
    }
    for (marker, seg) in super::metadata::jpeg_segments(bytes) {
        // SOF0 (baseline), SOF1 (extended), SOF2 (progressive): all Huffman, all in PDF.
        if matches!(marker, 0xC0..=0xC2) {
            let (precision, components) = (*seg.first()?, *seg.get(5)?);
            let height = u16::from_be_bytes([*seg.get(1)?, *seg.get(2)?]) as u32;
            let width = u16::from_be_bytes([*seg.get(3)?, *seg.get(4)?]) as u32;
            return (precision == 8 && matches!(components, 1 | 3) && width > 0 && height > 0)
                .then(|| Embeddable::Jpeg {
                    bytes: bytes.to_vec(),
                    width,
                    height,
                    components,
                });
        }
        if matches!(marker, 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF) {
            return None; // lossless, hierarchical or arithmetic-coded
        }
    }
    None
}

fn png(bytes: &[u8]) -> Option<Embeddable> {
    let mut pos = 8;
    let mut header = None;
    let mut zlib = Vec::new();
    while pos + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().ok()?) as usize;
        let kind = &bytes[pos + 4..pos + 8];
        let data = bytes.get(pos + 8..pos + 8 + len)?;
        match kind {
            b"IHDR" if data.len() >= 13 => {
                let width = u32::from_be_bytes(data[0..4].try_into().ok()?);
                let height = u32::from_be_bytes(data[4..8].try_into().ok()?);
                let (depth, colour, interlace) = (data[8], data[9], data[12]);
                let colors = match (depth, colour, interlace) {
                    (8, 0, 0) => 1,
                    (8, 2, 0) => 3,
                    _ => return None,
                };
                header = Some((width, height, colors));
            }
            // A palette or transparency changes what the samples mean: decode those instead.
            b"PLTE" | b"tRNS" => return None,
            b"IDAT" => zlib.extend_from_slice(data),
            b"IEND" => break,
            _ => {}
        }
        pos += 12 + len;
    }
    let (width, height, colors) = header?;
    (!zlib.is_empty() && width > 0 && height > 0).then_some(Embeddable::Png {
        zlib,
        width,
        height,
        colors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, GrayImage, ImageFormat, Luma, RgbaImage};
    use std::io::Cursor;

    fn encode(img: DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), format).unwrap();
        out
    }

    #[test]
    fn grey_png_and_jpeg_embed_as_they_are_and_others_do_not() {
        let grey = DynamicImage::ImageLuma8(GrayImage::from_pixel(30, 20, Luma([200])));
        match embeddable(&encode(grey.clone(), ImageFormat::Png)) {
            Some(Embeddable::Png {
                width: 30,
                height: 20,
                colors: 1,
                zlib,
            }) => assert!(!zlib.is_empty()),
            other => panic!("{other:?}"),
        }
        let jpeg = encode(grey, ImageFormat::Jpeg);
        assert_eq!(embeddable(&jpeg).map(|e| e.dimensions()), Some((30, 20)));
        // Alpha must be flattened first: no passthrough.
        let rgba = DynamicImage::ImageRgba8(RgbaImage::new(4, 4));
        assert_eq!(embeddable(&encode(rgba, ImageFormat::Png)), None);
        assert_eq!(embeddable(b"II*\0"), None);
        assert_eq!(embeddable(&jpeg[..40]), None);
    }
}
