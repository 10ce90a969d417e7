//! Whether a JPEG or PNG file ends before its image does (a transfer cut off, a disk filled
//! while copying). Decoders fill what is missing with grey and say nothing, so such a page would
//! pass as a blank page; it is "truncated" instead. (A cut TIFF or PDF fails to decode.)
//!
//! The file's own structure is walked, segment by segment (JPEG) or chunk by chunk (PNG), to its
//! end marker: data after it (a phone's trailer, padding) is not a cut, and a marker inside an
//! embedded thumbnail is not the image's end. A structure this walk does not understand is left
//! to the decoder (not called truncated).

/// Whether `bytes`, a JPEG or PNG file, ends before its image does.
pub fn ends_early(bytes: &[u8]) -> bool {
    if bytes.starts_with(&[0xff, 0xd8]) {
        jpeg_ends_early(bytes)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        png_ends_early(bytes)
    } else {
        false
    }
}

/// Walks a JPEG's segments from SOI; each scan's entropy-coded data runs to the next marker
/// that is neither byte stuffing (`FF 00`), a restart (`FF D0`–`D7`) nor fill (`FF FF`).
fn jpeg_ends_early(b: &[u8]) -> bool {
    let n = b.len();
    let mut i = 2;
    while i + 1 < n {
        if b[i] != 0xff {
            return false;
        }
        let marker = b[i + 1];
        match marker {
            0xff => i += 1,
            0xd9 => return false,
            0x01 | 0xd0..=0xd7 => i += 2,
            _ => {
                if i + 3 >= n {
                    return true;
                }
                let len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
                if len < 2 {
                    return false;
                }
                let next = i + 2 + len;
                if next > n {
                    return true;
                }
                i = if marker == 0xda {
                    match entropy_end(b, next) {
                        Some(j) => j,
                        None => return true,
                    }
                } else {
                    next
                };
            }
        }
    }
    true
}

/// Where the entropy-coded data starting at `from` ends (at the next real marker); `None` when
/// the file ends first.
fn entropy_end(b: &[u8], from: usize) -> Option<usize> {
    let mut j = from;
    while j + 1 < b.len() {
        if b[j] == 0xff {
            match b[j + 1] {
                0x00 | 0xd0..=0xd7 => j += 2,
                0xff => j += 1,
                _ => return Some(j),
            }
        } else {
            j += 1;
        }
    }
    None
}

/// Walks a PNG's chunks to `IEND`.
fn png_ends_early(b: &[u8]) -> bool {
    let mut i = 8usize;
    loop {
        if i + 8 > b.len() {
            return true;
        }
        let len = u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize;
        if &b[i + 4..i + 8] == b"IEND" {
            // Whole with its CRC.
            return i + 12 > b.len();
        }
        match i.checked_add(12).and_then(|x| x.checked_add(len)) {
            Some(next) if next <= b.len() => i = next,
            _ => return true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, GrayImage, ImageFormat, Luma};

    fn encoded(format: ImageFormat) -> Vec<u8> {
        let mut img = GrayImage::from_pixel(96, 64, Luma([240]));
        for x in 10..80 {
            img.put_pixel(x, 30, Luma([10]));
        }
        let mut out = Vec::new();
        DynamicImage::ImageLuma8(img)
            .write_to(&mut std::io::Cursor::new(&mut out), format)
            .unwrap();
        out
    }

    #[test]
    fn whole_files_and_files_with_a_trailer_are_not_cut() {
        for format in [ImageFormat::Jpeg, ImageFormat::Png] {
            let whole = encoded(format);
            assert!(!ends_early(&whole));
            // A phone's trailer or padding after the end marker.
            let mut trailer = whole.clone();
            trailer.extend_from_slice(b"\0\0\nMotionPhoto_Data \xff\xda\x00\x08 junk");
            assert!(!ends_early(&trailer), "{format:?}");
        }
    }

    #[test]
    fn files_cut_anywhere_are_truncated() {
        for format in [ImageFormat::Jpeg, ImageFormat::Png] {
            let whole = encoded(format);
            for keep in [
                whole.len() - 1,
                whole.len() * 3 / 4,
                whole.len() / 2,
                40,
                12,
            ] {
                assert!(ends_early(&whole[..keep]), "{format:?} cut at {keep}");
            }
        }
    }

    #[test]
    fn other_files_and_unknown_structures_are_left_to_the_decoder() {
        assert!(!ends_early(b"II*\0 a TIFF"));
        assert!(!ends_early(b"%PDF-1.7"));
        assert!(!ends_early(b"\xff\xd8 not a marker"));
    }
}
