//! A small PDF writer for what dossier produces itself: searchable-PDF derivatives (page image
//! plus invisible text), printable cover sheets, and the scanner-like files the tests feed in.
//! Only what those need: image XObjects (JPEG, CCITT G4 or Flate grey pages), content streams
//! and one Unicode text font (Type0, Identity-H, with a ToUnicode map so that text extraction
//! and search find the words).
//!
//! [`Builder::archival`] writes PDF/A-2b (the searchable PDFs): the text font embedded
//! ([`crate::pdfa::glyphless_font`]), an sRGB output intent with its ICC profile, the XMP
//! identification, and a file ID (a hash of the file up to its trailer); no Helvetica, no
//! encryption, no transparency. Cover sheets and test files are plain PDF.

use std::fmt::Write as _;
use std::io::{self, Write};

use flate2::{write::ZlibEncoder, Compression};

/// How one page's image is encoded in the file.
pub enum PageImage<'a> {
    /// A baseline JPEG, embedded byte for byte (DCTDecode).
    Jpeg {
        bytes: &'a [u8],
        width: u32,
        height: u32,
        components: u8,
    },
    /// A CCITT Group 4 bitmap, embedded as it is (CCITTFaxDecode, K -1; 0 is white).
    G4 {
        bytes: &'a [u8],
        width: u32,
        height: u32,
    },
    /// 8-bit grey samples, compressed here (FlateDecode).
    Grey {
        pixels: &'a [u8],
        width: u32,
        height: u32,
    },
    /// The zlib stream of an 8-bit, non-interlaced PNG (grey or RGB), embedded as it is
    /// (FlateDecode with the PNG predictors).
    Png {
        zlib: &'a [u8],
        width: u32,
        height: u32,
        colors: u8,
    },
    /// 8-bit grey samples already compressed with [`deflate`].
    Deflated {
        data: &'a [u8],
        width: u32,
        height: u32,
    },
}

impl PageImage<'_> {
    pub fn dimensions(&self) -> (u32, u32) {
        match *self {
            PageImage::Jpeg { width, height, .. }
            | PageImage::G4 { width, height, .. }
            | PageImage::Grey { width, height, .. }
            | PageImage::Png { width, height, .. }
            | PageImage::Deflated { width, height, .. } => (width, height),
        }
    }
}

/// A word of invisible text, placed over the image in image pixels (origin top left).
pub struct Word<'a> {
    pub text: &'a str,
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

/// One page to write: an image at a resolution, text over it, an optional /Rotate.
pub struct Page<'a> {
    pub image: PageImage<'a>,
    pub dpi: u32,
    pub words: Vec<Word<'a>>,
    /// Visible text lines drawn in Helvetica (ASCII only): used by cover sheets.
    pub visible: Vec<(f32, f32, f32, String)>,
    pub rotate: u32,
}

/// Writes numbered objects to any byte sink and keeps their offsets for the xref table, so a
/// large file can go straight to disk.
pub struct Writer<W: Write> {
    out: W,
    pos: usize,
    offsets: Vec<Option<usize>>,
    /// Hashes what is written, for the file ID of an archival file.
    digest: Option<sha2::Sha256>,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W) -> io::Result<Writer<W>> {
        let mut w = Writer {
            out,
            pos: 0,
            offsets: Vec::new(),
            digest: None,
        };
        // A binary comment line tells transfer tools the file is binary.
        w.put(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n")?;
        Ok(w)
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Some(digest) = &mut self.digest {
            sha2::Digest::update(digest, bytes);
        }
        self.out.write_all(bytes)?;
        self.pos += bytes.len();
        Ok(())
    }

    /// Reserves an object number, to be written later (forward references).
    pub fn reserve(&mut self) -> usize {
        self.offsets.push(None);
        self.offsets.len()
    }

    pub fn object(&mut self, id: usize, body: &str) -> io::Result<()> {
        self.offsets[id - 1] = Some(self.pos);
        self.put(format!("{id} 0 obj\n{body}\nendobj\n").as_bytes())
    }

    pub fn stream(&mut self, id: usize, dict: &str, data: &[u8]) -> io::Result<()> {
        self.offsets[id - 1] = Some(self.pos);
        self.put(format!("{id} 0 obj\n<< {dict} /Length {} >>\nstream\n", data.len()).as_bytes())?;
        self.put(data)?;
        self.put(b"\nendstream\nendobj\n")
    }

    pub fn add(&mut self, body: &str) -> io::Result<usize> {
        let id = self.reserve();
        self.object(id, body)?;
        Ok(id)
    }

    pub fn add_stream(&mut self, dict: &str, data: &[u8]) -> io::Result<usize> {
        let id = self.reserve();
        self.stream(id, dict, data)?;
        Ok(id)
    }

    pub fn finish(mut self, root: usize) -> io::Result<W> {
        let xref = self.pos;
        let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", self.offsets.len() + 1);
        for offset in &self.offsets {
            // An object reserved and never written is listed as free.
            match offset {
                Some(o) => {
                    let _ = writeln!(table, "{o:010} 00000 n ");
                }
                None => table.push_str("0000000000 65535 f \n"),
            }
        }
        // An archival file's ID: the hash of everything before its trailer.
        let id = self.digest.take().map_or_else(String::new, |mut d| {
            sha2::Digest::update(&mut d, table.as_bytes());
            let hex: String = sha2::Digest::finalize(d)[..16]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            format!(" /ID [<{hex}> <{hex}>]")
        });
        let _ = write!(
            table,
            "trailer\n<< /Size {} /Root {root} 0 R{id} >>\nstartxref\n{xref}\n%%EOF\n",
            self.offsets.len() + 1
        );
        self.put(table.as_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Zlib at level 1: page scans compress nearly as well as at 6, several times faster.
pub fn deflate(data: &[u8]) -> Vec<u8> {
    let mut z = ZlibEncoder::new(Vec::new(), Compression::fast());
    z.write_all(data).expect("writing to memory");
    z.finish().expect("writing to memory")
}

/// Writes pages into one PDF in memory (cover sheets, test files).
pub fn write(pages: &[Page<'_>]) -> Vec<u8> {
    let mut doc = Builder::new(Vec::new()).expect("writing to memory");
    for (i, page) in pages.iter().enumerate() {
        doc.add_page(i as u32, page).expect("writing to memory");
    }
    doc.finish().expect("writing to memory")
}

struct PlacedPage {
    order: u32,
    image: usize,
    content: usize,
    pt_w: f32,
    pt_h: f32,
    rotate: u32,
    /// The Helvetica font object, when the page has visible text.
    helvetica: Option<usize>,
}

/// Builds a PDF page by page, straight into `out`: each page's image and content are written
/// when added (in any order), the page tree when finished. Words are drawn invisibly (text
/// render mode 3) in a font whose character codes are Unicode code points, so that what a
/// viewer selects is what OCR read.
pub struct Builder<W: Write> {
    w: Writer<W>,
    catalog: usize,
    pages_id: usize,
    unicode_font: usize,
    /// Reserved at the first page with visible text.
    helvetica: Option<usize>,
    placed: Vec<PlacedPage>,
    archival: bool,
}

impl<W: Write> Builder<W> {
    pub fn new(out: W) -> io::Result<Builder<W>> {
        let mut w = Writer::new(out)?;
        let catalog = w.reserve();
        let pages_id = w.reserve();
        let unicode_font = w.reserve();
        Ok(Builder {
            w,
            catalog,
            pages_id,
            unicode_font,
            helvetica: None,
            placed: Vec::new(),
            archival: false,
        })
    }

    /// A PDF/A-2b file (see the module's notes). Its pages carry no visible text.
    pub fn archival(out: W) -> io::Result<Builder<W>> {
        let mut builder = Builder::new(out)?;
        builder.w.digest = Some(sha2::Sha256::default());
        builder.archival = true;
        Ok(builder)
    }

    /// Adds a page; `order` sorts the pages at the end.
    pub fn add_page(&mut self, order: u32, page: &Page<'_>) -> io::Result<()> {
        let w = &mut self.w;
        let (width, height) = page.image.dimensions();
        let dpi = page.dpi.max(1) as f32;
        let pt_w = width as f32 * 72.0 / dpi;
        let pt_h = height as f32 * 72.0 / dpi;
        let image = match &page.image {
            PageImage::Jpeg {
                bytes, components, ..
            } => {
                let cs = match components {
                    1 => "/DeviceGray",
                    4 => "/DeviceCMYK",
                    _ => "/DeviceRGB",
                };
                w.add_stream(
                    &format!(
                        "/Type /XObject /Subtype /Image /Width {width} /Height {height} \
                         /ColorSpace {cs} /BitsPerComponent 8 /Filter /DCTDecode"
                    ),
                    bytes,
                )?
            }
            PageImage::G4 { bytes, .. } => w.add_stream(
                &format!(
                    "/Type /XObject /Subtype /Image /Width {width} /Height {height} \
                     /ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /CCITTFaxDecode \
                     /DecodeParms << /K -1 /Columns {width} /Rows {height} >>"
                ),
                bytes,
            )?,
            PageImage::Grey { pixels, .. } => w.add_stream(
                &format!(
                    "/Type /XObject /Subtype /Image /Width {width} /Height {height} \
                     /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode"
                ),
                &deflate(pixels),
            )?,
            PageImage::Png { zlib, colors, .. } => {
                let cs = if *colors == 1 {
                    "/DeviceGray"
                } else {
                    "/DeviceRGB"
                };
                w.add_stream(
                    &format!(
                        "/Type /XObject /Subtype /Image /Width {width} /Height {height} \
                         /ColorSpace {cs} /BitsPerComponent 8 /Filter /FlateDecode \
                         /DecodeParms << /Predictor 15 /Colors {colors} /BitsPerComponent 8 \
                         /Columns {width} >>"
                    ),
                    zlib,
                )?
            }
            PageImage::Deflated { data, .. } => w.add_stream(
                &format!(
                    "/Type /XObject /Subtype /Image /Width {width} /Height {height} \
                     /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode"
                ),
                data,
            )?,
        };
        let content = page_content(page, pt_w, pt_h, dpi);
        let content = w.add_stream("/Filter /FlateDecode", &deflate(content.as_bytes()))?;
        let helvetica = if page.visible.is_empty() {
            None
        } else {
            Some(*self.helvetica.get_or_insert_with(|| w.reserve()))
        };
        self.placed.push(PlacedPage {
            order,
            image,
            content,
            pt_w,
            pt_h,
            rotate: page.rotate,
            helvetica,
        });
        Ok(())
    }

    pub fn finish(mut self) -> io::Result<W> {
        let w = &mut self.w;
        add_unicode_font(w, self.unicode_font, self.archival)?;
        if let Some(helvetica) = self.helvetica {
            w.object(
                helvetica,
                "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
            )?;
        }
        self.placed.sort_by_key(|p| p.order);
        let mut kids = String::new();
        for p in &self.placed {
            let rotate = if p.rotate % 90 == 0 && p.rotate % 360 != 0 {
                format!(" /Rotate {}", p.rotate % 360)
            } else {
                String::new()
            };
            let helvetica = p
                .helvetica
                .map_or_else(String::new, |id| format!(" /F1 {id} 0 R"));
            let id = w.add(&format!(
                "<< /Type /Page /Parent {} 0 R /MediaBox [0 0 {:.3} {:.3}]{rotate} \
                 /Resources << /XObject << /Im0 {} 0 R >> /Font << /F0 {} 0 R{helvetica} >> >> \
                 /Contents {} 0 R >>",
                self.pages_id, p.pt_w, p.pt_h, p.image, self.unicode_font, p.content
            ))?;
            let _ = write!(kids, "{id} 0 R ");
        }
        w.object(
            self.pages_id,
            &format!(
                "<< /Type /Pages /Kids [{kids}] /Count {} >>",
                self.placed.len()
            ),
        )?;
        let archival = if self.archival {
            archival_catalog_entries(w)?
        } else {
            String::new()
        };
        w.object(
            self.catalog,
            &format!(
                "<< /Type /Catalog /Pages {} 0 R{archival} >>",
                self.pages_id
            ),
        )?;
        self.w.finish(self.catalog)
    }
}

/// A PDF/A catalog's metadata and output intent, written; their catalog entries.
fn archival_catalog_entries<W: Write>(w: &mut Writer<W>) -> io::Result<String> {
    let xmp = crate::pdfa::xmp();
    let metadata = w.add_stream("/Type /Metadata /Subtype /XML", xmp.as_bytes())?;
    let icc = crate::pdfa::srgb_profile();
    let profile = w.add_stream("/N 3 /Filter /FlateDecode", &deflate(&icc))?;
    let condition = crate::pdfa::SRGB_CONDITION;
    let intent = w.add(&format!(
        "<< /Type /OutputIntent /S /GTS_PDFA1 /OutputConditionIdentifier ({condition}) \
         /Info ({condition}) /DestOutputProfile {profile} 0 R >>"
    ))?;
    Ok(format!(
        " /Metadata {metadata} 0 R /OutputIntents [{intent} 0 R]"
    ))
}

fn page_content(page: &Page<'_>, pt_w: f32, pt_h: f32, dpi: f32) -> String {
    let mut content = format!("q {pt_w:.3} 0 0 {pt_h:.3} 0 0 cm /Im0 Do Q\n");
    let scale = 72.0 / dpi;
    if !page.words.is_empty() {
        content.push_str("BT 3 Tr\n");
        for word in &page.words {
            let chars: Vec<char> = word
                .text
                .chars()
                .filter(|c| (*c as u32) <= 0xFFFF)
                .collect();
            if chars.is_empty() || word.x1 <= word.x0 || word.y1 <= word.y0 {
                continue;
            }
            let size = ((word.y1 - word.y0) as f32 * scale).max(1.0);
            let box_w = (word.x1 - word.x0) as f32 * scale;
            // Glyphs are half an em wide (the font's /DW 500): stretch them to the box.
            let natural = chars.len() as f32 * size * 0.5;
            let stretch = (100.0 * box_w / natural).clamp(1.0, 10_000.0);
            let x = word.x0 as f32 * scale;
            let y = pt_h - word.y1 as f32 * scale;
            let _ = write!(
                content,
                "/F0 {size:.2} Tf {stretch:.2} Tz 1 0 0 1 {x:.2} {y:.2} Tm <"
            );
            for c in chars {
                let _ = write!(content, "{:04X}", c as u32);
            }
            // A space after each word keeps words apart in extracted text.
            content.push_str("0020> Tj\n");
        }
        content.push_str("ET\n");
    }
    for (x, y, size, text) in &page.visible {
        let escaped: String = text
            .chars()
            .filter(|c| c.is_ascii() && !c.is_ascii_control())
            .flat_map(|c| match c {
                '(' | ')' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let _ = writeln!(
            content,
            "BT /F1 {size:.1} Tf 1 0 0 1 {x:.2} {y:.2} Tm ({escaped}) Tj ET"
        );
    }
    content
}

/// A Type0 font with two-byte codes equal to Unicode (BMP): the text is never drawn (render
/// mode 3), only found. The ToUnicode map says code = code point. In an archival file the
/// font program is embedded ([`crate::pdfa::glyphless_font`]) and every code is its glyph 1.
fn add_unicode_font<W: Write>(w: &mut Writer<W>, id: usize, archival: bool) -> io::Result<()> {
    let to_unicode = w.add_stream(
        "/Filter /FlateDecode",
        &deflate(to_unicode_cmap().as_bytes()),
    )?;
    let (font_file, cid_to_gid) = if archival {
        let font = crate::pdfa::glyphless_font();
        let file = w.add_stream(
            &format!("/Length1 {} /Filter /FlateDecode", font.len()),
            &deflate(&font),
        )?;
        let map: Vec<u8> = (0..=0xFFFFu32).flat_map(|_| [0u8, 1]).collect();
        let map = w.add_stream("/Filter /FlateDecode", &deflate(&map))?;
        (format!(" /FontFile2 {file} 0 R"), format!("{map} 0 R"))
    } else {
        (String::new(), "/Identity".to_owned())
    };
    let descriptor = w.add(&format!(
        "<< /Type /FontDescriptor /FontName /GlyphLessFont /Flags 5 \
         /FontBBox [0 0 500 1000] /ItalicAngle 0 /Ascent 1000 /Descent 0 /CapHeight 1000 \
         /StemV 80{font_file} >>"
    ))?;
    let cid_font = w.add(&format!(
        "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /GlyphLessFont \
         /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> \
         /FontDescriptor {descriptor} 0 R /DW 500 /CIDToGIDMap {cid_to_gid} >>"
    ))?;
    w.object(
        id,
        &format!(
            "<< /Type /Font /Subtype /Type0 /BaseFont /GlyphLessFont /Encoding /Identity-H \
         /DescendantFonts [{cid_font} 0 R] /ToUnicode {to_unicode} 0 R >>"
        ),
    )
}

/// Code = code point over the BMP but the surrogates, one range per first byte (a range
/// may only vary in its last byte), at most 100 ranges a block as the CMap format wants.
fn to_unicode_cmap() -> String {
    let firsts: Vec<u32> = (0..=0xFFu32)
        .filter(|b| !(0xD8..=0xDF).contains(b))
        .collect();
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
        /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
        /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
        1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    for block in firsts.chunks(100) {
        let _ = writeln!(cmap, "{} beginbfrange", block.len());
        for b in block {
            let _ = writeln!(cmap, "<{b:02X}00> <{b:02X}FF> <{b:02X}00>");
        }
        cmap.push_str("endbfrange\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    cmap
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_file_lopdf_reads_back_with_its_text() {
        let pixels = vec![255u8; 200 * 100];
        let pdf = write(&[Page {
            image: PageImage::Grey {
                pixels: &pixels,
                width: 200,
                height: 100,
            },
            dpi: 100,
            words: vec![Word {
                text: "Đăng",
                x0: 10,
                y0: 10,
                x1: 60,
                y1: 30,
            }],
            visible: vec![],
            rotate: 90,
        }]);
        let doc = lopdf::Document::load_mem(&pdf).unwrap();
        let pages = doc.get_pages();
        assert_eq!(pages.len(), 1);
        let text = doc.extract_text(&[1]).unwrap();
        assert!(text.contains("Đăng"), "{text:?}");
        let page = doc.get_dictionary(pages[&1]).unwrap();
        assert_eq!(page.get(b"Rotate").unwrap().as_i64().unwrap(), 90);
    }
}
