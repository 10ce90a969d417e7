//! The first characters of a QR symbol that cannot be decoded, read without error correction:
//! enough to tell a damaged cover sheet (its payload opens with the marker) from any other
//! damaged QR code. What is read here is unchecked and never shown.

use rqrr::{BitGrid, Grid};

/// The grid with its data mask taken off. The three finder corners (which hold the format
/// information) are left as they are, so that the format still reads; no data lies there.
struct Unmasked<'a> {
    inner: &'a dyn BitGrid,
    mask: u16,
}

impl BitGrid for Unmasked<'_> {
    fn size(&self) -> usize {
        self.inner.size()
    }

    fn bit(&self, y: usize, x: usize) -> bool {
        let s = self.size();
        let (top, left) = (y < 9, x < 9);
        let corner = (left && (top || y + 8 >= s)) || (top && x + 8 >= s);
        self.inner.bit(y, x) ^ (!corner && mask_bit(self.mask, y, x))
    }
}

/// The QR data masks (ISO/IEC 18004 table 10), row `y`, column `x`.
fn mask_bit(mask: u16, y: usize, x: usize) -> bool {
    let (sum, product) = (y + x, y * x);
    match mask {
        0 => sum.is_multiple_of(2),
        1 => y.is_multiple_of(2),
        2 => x.is_multiple_of(3),
        3 => sum.is_multiple_of(3),
        4 => (y / 2 + x / 3).is_multiple_of(2),
        5 => product % 2 + product % 3 == 0,
        6 => (product % 2 + product % 3).is_multiple_of(2),
        _ => (product % 3 + sum % 2).is_multiple_of(2),
    }
}

/// How many data codewords are read from the start of the message.
const LEAD: usize = 12;

/// Whether the text a damaged symbol's data starts with passes `test`. The codewords are
/// taken as they are read, without error correction; as the number of interleaved blocks is
/// not known here, each possible count is tried (the message opens the first block).
pub(super) fn lead_matches<G: BitGrid>(grid: &Grid<G>, test: impl Fn(&str) -> bool) -> bool {
    let Ok((meta, _)) = grid.get_raw_data() else {
        return false;
    };
    if meta.mask > 7 {
        return false;
    }
    let unmasked = Grid::new(Unmasked {
        inner: &grid.grid,
        mask: meta.mask,
    });
    let Ok((_, raw)) = unmasked.get_raw_data() else {
        return false;
    };
    let codewords = (raw.len / 8).min(raw.data.len());
    // Version 40 at level H has 81 blocks, the most any symbol has.
    for blocks in 1..=81 {
        if (LEAD - 1) * blocks >= codewords {
            break;
        }
        let lead: Vec<u8> = (0..LEAD).map(|j| raw.data[j * blocks]).collect();
        if test(&leading_text(&lead, meta.version.0)) {
            return true;
        }
    }
    false
}

/// The characters the segments at the start of `data` spell (numeric, alphanumeric and byte
/// segments), as far as the codewords given go; stops at anything else.
pub(super) fn leading_text(data: &[u8], version: usize) -> String {
    let mut bits = Bits { data, at: 0 };
    let mut text = String::new();
    // The character count's width by version (ISO/IEC 18004 table 3).
    let size = |widths: [usize; 3]| match version {
        0..=9 => widths[0],
        10..=26 => widths[1],
        _ => widths[2],
    };
    const ALPHANUMERIC: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    loop {
        let Some(mode) = bits.take(4) else {
            return text;
        };
        let Some(count) = bits.take(match mode {
            1 => size([10, 12, 14]),
            2 => size([9, 11, 13]),
            4 => size([8, 16, 16]),
            _ => return text,
        }) else {
            return text;
        };
        let mut left = count;
        while left > 0 {
            let (chunk, width) = match mode {
                1 => (left.min(3), [0, 4, 7, 10][left.min(3)]),
                2 => (left.min(2), [0, 6, 11][left.min(2)]),
                _ => (1, 8),
            };
            let Some(v) = bits.take(width) else {
                return text;
            };
            match mode {
                1 => {
                    if v >= 10usize.pow(chunk as u32) {
                        return text;
                    }
                    text.push_str(&format!("{v:0chunk$}"));
                }
                2 => {
                    let (a, b) = if chunk == 2 {
                        (v / 45, Some(v % 45))
                    } else {
                        (v, None)
                    };
                    if a >= 45 {
                        return text;
                    }
                    text.push(char::from(ALPHANUMERIC[a]));
                    if let Some(b) = b {
                        text.push(char::from(ALPHANUMERIC[b]));
                    }
                }
                _ => text.push(char::from(v as u8)),
            }
            left -= chunk;
        }
    }
}

/// Reads bits, most significant first.
struct Bits<'a> {
    data: &'a [u8],
    at: usize,
}

impl Bits<'_> {
    fn take(&mut self, n: usize) -> Option<usize> {
        if self.at + n > self.data.len() * 8 {
            return None;
        }
        let mut v = 0;
        for _ in 0..n {
            let bit = (self.data[self.at / 8] >> (7 - self.at % 8)) & 1;
            v = (v << 1) | bit as usize;
            self.at += 1;
        }
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qrcode::bits::Bits as QrBits;
    use qrcode::Version;

    fn segments(version: i16, push: impl Fn(&mut QrBits)) -> Vec<u8> {
        let mut bits = QrBits::new(Version::Normal(version));
        push(&mut bits);
        bits.into_bytes()
    }

    #[test]
    fn leading_text_reads_numeric_alphanumeric_and_byte_segments() {
        let mixed = |bits: &mut QrBits| {
            bits.push_alphanumeric_data(b"TBHS1:").unwrap();
            bits.push_numeric_data(b"1001193").unwrap();
            bits.push_byte_data(b"/x").unwrap();
        };
        for version in [1, 10, 27] {
            assert_eq!(
                leading_text(&segments(version, mixed), version as usize),
                "TBHS1:1001193/x"
            );
        }
        let byte = segments(1, |bits| bits.push_byte_data(b"TBHS1:abc").unwrap());
        assert_eq!(leading_text(&byte, 1), "TBHS1:abc");
        // Cut short, or a mode it does not read: as far as it goes.
        assert_eq!(leading_text(&byte[..4], 1), "TB");
        assert_eq!(leading_text(&[0x80, 0xff], 1), "");
        assert_eq!(leading_text(&[], 1), "");
    }
}
