//! The parts a searchable PDF needs to be PDF/A-2b (ISO 19005-2, level B), built in code so
//! that no third-party file (and no licence) comes into the archive:
//!
//! - [`glyphless_font`]: a TrueType font of two glyphs (`.notdef`, and one empty glyph every
//!   character maps to), each half an em wide — what the invisible text layer is set in.
//!   PDF/A wants every font embedded; text in render mode 3 is never drawn, so one empty glyph
//!   serves every character, and the ToUnicode map says what each code is.
//! - [`srgb_profile`]: an ICC v2 display profile of sRGB (IEC 61966-2-1: its primaries adapted
//!   to D50, its tone curve sampled at 1024 points) for the output intent, under which the
//!   scans' DeviceRGB and DeviceGray images are defined colours.
//! - [`xmp`]: the XMP packet identifying the file as PDF/A-2b.
//!
//! All three are the same bytes every time: a document's searchable PDF stays a function of
//! its pages (no dates, no random IDs; the file ID is a hash of the file).

/// The output intent's condition identifier: the registered name of sRGB.
pub const SRGB_CONDITION: &str = "sRGB IEC61966-2.1";

fn be16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn be32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// The glyph advance, in font units of 1000 per em: the PDF font's `/DW 500`.
pub const GLYPH_WIDTH: u16 = 500;

/// A TrueType font: `.notdef` (a box) and glyph 1 (empty), both [`GLYPH_WIDTH`] wide.
pub fn glyphless_font() -> Vec<u8> {
    let mut tables: Vec<(&[u8; 4], Vec<u8>)> = Vec::new();
    // cmap: one format 4 subtable (Windows, Unicode BMP) mapping nothing but the end mark.
    let mut cmap = Vec::new();
    for v in [0u16, 1, 3, 1] {
        be16(&mut cmap, v);
    }
    be32(&mut cmap, 12);
    for v in [4u16, 24, 0, 2, 2, 0, 0, 0xFFFF, 0, 0xFFFF, 1, 0] {
        be16(&mut cmap, v);
    }
    tables.push((b"cmap", cmap));
    // glyf: .notdef, a box of one contour with four on-curve points; glyph 1 has no outline.
    let mut glyf = Vec::new();
    for v in [1u16, 0, 0, GLYPH_WIDTH, 700, 3, 0] {
        be16(&mut glyf, v);
    }
    glyf.extend_from_slice(&[1, 1, 1, 1]);
    for v in [0u16, GLYPH_WIDTH, 0, (-(GLYPH_WIDTH as i16)) as u16] {
        be16(&mut glyf, v);
    }
    for v in [0u16, 0, 700, 0] {
        be16(&mut glyf, v);
    }
    glyf.resize(36, 0);
    let mut head = Vec::new();
    be32(&mut head, 0x0001_0000);
    be32(&mut head, 0x0001_0000);
    be32(&mut head, 0); // checkSumAdjustment, set below
    be32(&mut head, 0x5F0F_3CF5);
    be16(&mut head, 0x000B);
    be16(&mut head, 1000);
    head.extend_from_slice(&[0; 16]); // created, modified
    for v in [0u16, 0, GLYPH_WIDTH, 700, 0, 3, 2, 0, 0] {
        be16(&mut head, v);
    }
    tables.push((b"glyf", glyf));
    tables.push((b"head", head));
    let mut hhea = Vec::new();
    be32(&mut hhea, 0x0001_0000);
    for v in [
        1000u16,
        0,
        0,
        GLYPH_WIDTH,
        0,
        0,
        GLYPH_WIDTH,
        1,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        2,
    ] {
        be16(&mut hhea, v);
    }
    tables.push((b"hhea", hhea));
    let mut hmtx = Vec::new();
    for v in [GLYPH_WIDTH, 0, GLYPH_WIDTH, 0] {
        be16(&mut hmtx, v);
    }
    tables.push((b"hmtx", hmtx));
    let mut loca = Vec::new();
    for v in [0u16, 18, 18] {
        be16(&mut loca, v);
    }
    tables.push((b"loca", loca));
    let mut maxp = Vec::new();
    be32(&mut maxp, 0x0001_0000);
    for v in [2u16, 4, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0] {
        be16(&mut maxp, v);
    }
    tables.push((b"maxp", maxp));
    tables.push((b"name", name_table()));
    let mut post = Vec::new();
    be32(&mut post, 0x0003_0000);
    be32(&mut post, 0);
    for v in [(-100i16) as u16, 50] {
        be16(&mut post, v);
    }
    for v in [0u32, 0, 0, 0, 0] {
        be32(&mut post, v);
    }
    tables.push((b"post", post));
    sfnt(tables)
}

fn name_table() -> Vec<u8> {
    let names: [(u16, &str); 4] = [
        (1, "GlyphLessFont"),
        (2, "Regular"),
        (4, "GlyphLessFont"),
        (6, "GlyphLessFont"),
    ];
    let mut strings = Vec::new();
    let mut out = Vec::new();
    for v in [0u16, names.len() as u16, 6 + 12 * names.len() as u16] {
        be16(&mut out, v);
    }
    for (id, text) in names {
        let utf16: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        for v in [
            3u16,
            1,
            0x0409,
            id,
            utf16.len() as u16,
            strings.len() as u16,
        ] {
            be16(&mut out, v);
        }
        strings.extend_from_slice(&utf16);
    }
    out.extend_from_slice(&strings);
    out
}

fn checksum(data: &[u8]) -> u32 {
    data.chunks(4)
        .map(|c| {
            let mut word = [0u8; 4];
            word[..c.len()].copy_from_slice(c);
            u32::from_be_bytes(word)
        })
        .fold(0u32, u32::wrapping_add)
}

/// Lays tables (sorted by tag) out as an sfnt file, with their checksums and the font's.
fn sfnt(mut tables: Vec<(&[u8; 4], Vec<u8>)>) -> Vec<u8> {
    tables.sort_by_key(|(tag, _)| **tag);
    let n = tables.len() as u16;
    let power = 1u16 << (15 - n.leading_zeros());
    let mut out = Vec::new();
    be32(&mut out, 0x0001_0000);
    for v in [
        n,
        power * 16,
        power.trailing_zeros() as u16,
        n * 16 - power * 16,
    ] {
        be16(&mut out, v);
    }
    let mut offset = 12 + 16 * tables.len();
    let mut head_at = 0;
    for (tag, data) in &tables {
        out.extend_from_slice(&tag[..]);
        be32(&mut out, checksum(data));
        be32(&mut out, offset as u32);
        be32(&mut out, data.len() as u32);
        if *tag == b"head" {
            head_at = offset;
        }
        offset += data.len().div_ceil(4) * 4;
    }
    for (_, data) in &tables {
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(4) * 4, 0);
    }
    let adjustment = 0xB1B0_AFBAu32.wrapping_sub(checksum(&out));
    out[head_at + 8..head_at + 12].copy_from_slice(&adjustment.to_be_bytes());
    out
}

fn s15_16(v: f64) -> [u8; 4] {
    ((v * 65536.0).round() as i32).to_be_bytes()
}

/// An ICC v2 display profile of sRGB.
pub fn srgb_profile() -> Vec<u8> {
    let xyz = |x: f64, y: f64, z: f64| {
        let mut t = b"XYZ \0\0\0\0".to_vec();
        for v in [x, y, z] {
            t.extend_from_slice(&s15_16(v));
        }
        t
    };
    let mut desc = b"desc\0\0\0\0".to_vec();
    let name = b"sRGB IEC61966-2.1 (dossier)\0";
    desc.extend_from_slice(&(name.len() as u32).to_be_bytes());
    desc.extend_from_slice(name);
    desc.extend_from_slice(&[0; 8]); // Unicode language and count
    desc.extend_from_slice(&[0; 3]); // ScriptCode code and count
    desc.extend_from_slice(&[0; 67]);
    let mut cprt = b"text\0\0\0\0".to_vec();
    cprt.extend_from_slice(b"No copyright: built from IEC 61966-2-1's published values.\0");
    // The sRGB tone curve: linear near black, then a 2.4 power.
    let points = 1024u32;
    let mut curv = b"curv\0\0\0\0".to_vec();
    curv.extend_from_slice(&points.to_be_bytes());
    for i in 0..points {
        let v = i as f64 / (points - 1) as f64;
        let linear = if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        };
        curv.extend_from_slice(&((linear * 65535.0).round() as u16).to_be_bytes());
    }
    // Primaries and white as IEC 61966-2-1 gives them, adapted to D50 (Bradford).
    let tags: Vec<(&[u8; 4], Vec<u8>)> = vec![
        (b"desc", desc),
        (b"cprt", cprt),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.4361, 0.2225, 0.0139)),
        (b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", curv.clone()),
        (b"gTRC", curv.clone()),
        (b"bTRC", curv),
    ];
    let mut body = Vec::new();
    let mut table = Vec::new();
    be32(&mut table, tags.len() as u32);
    let mut offset = 128 + 4 + 12 * tags.len();
    for (sig, data) in &tags {
        table.extend_from_slice(&sig[..]);
        be32(&mut table, offset as u32);
        be32(&mut table, data.len() as u32);
        body.extend_from_slice(data);
        let padded = data.len().div_ceil(4) * 4;
        body.resize(body.len() + padded - data.len(), 0);
        offset += padded;
    }
    let size = 128 + table.len() + body.len();
    let mut out = Vec::with_capacity(size);
    be32(&mut out, size as u32);
    out.extend_from_slice(&[0; 4]); // preferred CMM: none
    be32(&mut out, 0x0210_0000);
    out.extend_from_slice(b"mntrRGB XYZ ");
    for v in [2024u16, 1, 1, 0, 0, 0] {
        be16(&mut out, v);
    }
    out.extend_from_slice(b"acsp");
    out.extend_from_slice(&[0; 24]); // platform, flags, manufacturer, model, attributes
    be32(&mut out, 0); // perceptual
    for v in [0.9642, 1.0, 0.8249] {
        out.extend_from_slice(&s15_16(v));
    }
    out.extend_from_slice(&[0; 4 + 16 + 28]); // creator, profile ID, reserved
    out.extend_from_slice(&table);
    out.extend_from_slice(&body);
    out
}

/// The XMP packet of a PDF/A-2b file. Only identification and the producer: the file has no
/// document information dictionary for it to disagree with.
pub fn xmp() -> String {
    format!(
        "<?xpacket begin=\"\u{FEFF}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
         <x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n\
         <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n\
         <rdf:Description rdf:about=\"\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\">\n\
         <pdfaid:part>2</pdfaid:part>\n<pdfaid:conformance>B</pdfaid:conformance>\n\
         </rdf:Description>\n\
         <rdf:Description rdf:about=\"\" xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\">\n\
         <pdf:Producer>dossier {}</pdf:Producer>\n\
         </rdf:Description>\n\
         <rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n\
         <dc:format>application/pdf</dc:format>\n\
         </rdf:Description>\n\
         </rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_font_is_a_well_formed_sfnt_whose_checksum_adds_up() {
        let font = glyphless_font();
        assert_eq!(&font[..4], &[0, 1, 0, 0]);
        assert_eq!(checksum(&font), 0xB1B0_AFBA, "whole-font checksum");
        let n = u16::from_be_bytes([font[4], font[5]]) as usize;
        let tags: Vec<&[u8]> = (0..n).map(|i| &font[12 + 16 * i..16 + 16 * i]).collect();
        assert!(tags.windows(2).all(|w| w[0] < w[1]), "tables sorted by tag");
        for required in [b"head", b"hhea", b"maxp", b"hmtx", b"loca", b"glyf"] {
            assert!(tags.contains(&&required[..]), "{:?}", required);
        }
        // The font that parses it for the sample pages sees two glyphs, half an em wide.
        use ab_glyph::Font;
        let parsed = ab_glyph::FontRef::try_from_slice(&font).unwrap();
        assert_eq!(parsed.glyph_count(), 2);
        assert_eq!(parsed.units_per_em(), Some(1000.0));
        assert_eq!(parsed.h_advance_unscaled(ab_glyph::GlyphId(1)), 500.0);
    }

    #[test]
    fn the_profile_is_an_rgb_display_profile_of_its_stated_size() {
        let icc = srgb_profile();
        assert_eq!(
            u32::from_be_bytes(icc[..4].try_into().unwrap()) as usize,
            icc.len()
        );
        assert_eq!(&icc[12..24], b"mntrRGB XYZ ");
        assert_eq!(&icc[36..40], b"acsp");
        let count = u32::from_be_bytes(icc[128..132].try_into().unwrap()) as usize;
        assert_eq!(count, 9);
        for i in 0..count {
            let entry = &icc[132 + 12 * i..144 + 12 * i];
            let offset = u32::from_be_bytes(entry[4..8].try_into().unwrap()) as usize;
            let size = u32::from_be_bytes(entry[8..12].try_into().unwrap()) as usize;
            assert_eq!(offset % 4, 0);
            assert!(offset + size <= icc.len());
        }
    }
}
