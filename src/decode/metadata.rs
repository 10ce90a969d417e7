//! Resolution from file metadata: JPEG (JFIF density, EXIF), PNG (pHYs), TIFF (XResolution).
//! Parsing stops early and never allocates from untrusted lengths.

/// A JPEG's marker segments before its first scan, as (marker, payload). Stops at the start
/// of scan, the end of image, or anything malformed.
pub(crate) fn jpeg_segments(bytes: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let mut pos = if bytes.starts_with(&[0xFF, 0xD8]) {
        2
    } else {
        usize::MAX
    };
    std::iter::from_fn(move || loop {
        if pos.checked_add(4)? > bytes.len() || bytes[pos] != 0xFF {
            return None;
        }
        let marker = bytes[pos + 1];
        if marker == 0xFF {
            pos += 1;
            continue;
        }
        if marker == 0xDA || marker == 0xD9 {
            return None;
        }
        let len = u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]) as usize;
        let seg = bytes.get(pos + 4..pos + 2 + len)?;
        pos += 2 + len;
        return Some((marker, seg));
    })
}

/// Resolution in dots per inch from a JPEG's JFIF APP0 or EXIF APP1 segment.
pub fn jpeg_dpi(bytes: &[u8]) -> Option<u32> {
    for (marker, seg) in jpeg_segments(bytes) {
        if marker == 0xE0 && seg.len() >= 12 && &seg[..5] == b"JFIF\0" {
            let units = seg[7];
            let x = u16::from_be_bytes([seg[8], seg[9]]) as f64;
            match units {
                1 if x > 0.0 => return Some(x.round() as u32),
                2 if x > 0.0 => return Some((x * 2.54).round() as u32),
                _ => {} // aspect ratio only: look further (EXIF may say)
            }
        }
        if marker == 0xE1 && seg.len() > 6 && &seg[..6] == b"Exif\0\0" {
            if let Some(dpi) = tiff_ifd0_dpi(&seg[6..]) {
                return Some(dpi);
            }
        }
    }
    None
}

/// Resolution from a PNG's pHYs chunk (pixels per metre).
pub fn png_dpi(bytes: &[u8]) -> Option<u32> {
    if bytes.get(..8)? != b"\x89PNG\r\n\x1a\n" {
        return None;
    }
    let mut pos = 8;
    while pos + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().ok()?) as usize;
        let kind = &bytes[pos + 4..pos + 8];
        if kind == b"IDAT" || kind == b"IEND" {
            return None;
        }
        if kind == b"pHYs" && len >= 9 {
            let data = bytes.get(pos + 8..pos + 17)?;
            let ppm = u32::from_be_bytes(data[..4].try_into().ok()?) as f64;
            if data[8] == 1 && ppm > 0.0 {
                return Some((ppm * 0.0254).round() as u32);
            }
            return None;
        }
        pos = pos.checked_add(12 + len)?;
    }
    None
}

/// Resolution from the first IFD of a TIFF structure (also used inside EXIF).
fn tiff_ifd0_dpi(t: &[u8]) -> Option<u32> {
    let le = match t.get(..2)? {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let u16_at = |o: usize| -> Option<u16> {
        let b: [u8; 2] = t.get(o..o + 2)?.try_into().ok()?;
        Some(if le {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    };
    let u32_at = |o: usize| -> Option<u32> {
        let b: [u8; 4] = t.get(o..o + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let ifd = u32_at(4)? as usize;
    let count = u16_at(ifd)? as usize;
    let (mut x_res, mut unit) = (None, 2u16);
    for i in 0..count.min(256) {
        let e = ifd + 2 + i * 12;
        match u16_at(e)? {
            0x011A => {
                let off = u32_at(e + 8)? as usize;
                let (n, d) = (u32_at(off)?, u32_at(off + 4)?);
                if d > 0 {
                    x_res = Some(n as f64 / d as f64);
                }
            }
            0x0128 => unit = u16_at(e + 8)?,
            _ => {}
        }
    }
    let x = x_res.filter(|x| *x > 0.0)?;
    match unit {
        2 => Some(x.round() as u32),
        3 => Some((x * 2.54).round() as u32),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_jfif_density_in_dpi_and_dots_per_cm() {
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        jpeg.extend_from_slice(b"JFIF\0\x01\x01\x01\x01\x2C\x01\x2C\x00\x00");
        jpeg.extend_from_slice(&[0xFF, 0xDA]);
        assert_eq!(jpeg_dpi(&jpeg), Some(300));
        jpeg[13] = 2; // dots per cm: 300 dpcm
        assert_eq!(jpeg_dpi(&jpeg), Some(762));
        jpeg[13] = 0; // aspect ratio only
        assert_eq!(jpeg_dpi(&jpeg), None);
        assert_eq!(jpeg_dpi(&jpeg[..7]), None);
    }

    #[test]
    fn reads_png_phys() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend_from_slice(&9u32.to_be_bytes());
        png.extend_from_slice(b"pHYs");
        png.extend_from_slice(&11811u32.to_be_bytes()); // 300 dpi
        png.extend_from_slice(&11811u32.to_be_bytes());
        png.push(1);
        png.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(png_dpi(&png), Some(300));
        let len = png.len();
        png[len - 5] = 0; // unit unknown
        assert_eq!(png_dpi(&png), None);
    }

    #[test]
    fn truncated_metadata_is_not_a_panic() {
        for cut in 0..40 {
            let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x30];
            jpeg.extend_from_slice(b"Exif\0\0II*\0\x08\0\0\0\x05\0\x1a\x01\x05\0\x01\0\0\0");
            jpeg.truncate(cut.min(jpeg.len()));
            let _ = jpeg_dpi(&jpeg);
        }
    }
}
