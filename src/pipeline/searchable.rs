//! The searchable PDF of a document (PDF/A-2b): each page's image with its words as invisible text,
//! written page by page into the archive's scratch folder as pages arrive (so a page's image
//! is dropped once it is in the PDF), then stored as an object. A crash leaves only a scratch
//! file, which the next run clears.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::Arc;

use image::GrayImage;

use super::events::{PageResult, TextSource};
use super::RunError;
use crate::decode::embed::Embeddable;
use crate::pdf::{self, PageImage, Word};
use crate::store::{Archive, StoreError};

/// A page image for the searchable PDF, with the resolution it was read at: the original
/// itself when OCR read it, or a resampled copy of it, neither turned nor levelled, and a PDF
/// can carry it; else the image OCR saw, deflated.
pub(super) enum PageView {
    /// The original at its own resolution, and how many of its pixels make one pixel of the
    /// image OCR read (1 unless OCR read it resampled: a 150-dpi scan read at 300 dpi is 0.5).
    Original {
        original: Arc<Embeddable>,
        dpi: u32,
        scale: f64,
    },
    Deflated {
        deflated: Vec<u8>,
        width: u32,
        height: u32,
        dpi: u32,
        /// As in `Original`.
        scale: f64,
    },
}

impl PageView {
    pub fn of(image: &GrayImage, dpi: u32) -> PageView {
        PageView::deflated(image, dpi, 1.0)
    }

    fn deflated(image: &GrayImage, dpi: u32, scale: f64) -> PageView {
        PageView::Deflated {
            deflated: pdf::deflate(image.as_raw()),
            width: image.width(),
            height: image.height(),
            dpi,
            scale,
        }
    }

    /// The original when OCR read it or a resampled copy of it (`read` at `read_dpi`; the
    /// page as decoded was `page_size` pixels at `page_dpi`), not turned or levelled; else the
    /// image OCR read, brought back to the page's size when OCR read it upsampled. An upsampled
    /// copy in the PDF would make it several times larger than the scan (a 150-dpi JPEG page:
    /// 2.3 MB instead of 170 KB).
    pub fn choose(
        original: Option<&Arc<Embeddable>>,
        read: &GrayImage,
        (turned, deskewed): (u32, f32),
        read_dpi: u32,
        (page_size, page_dpi): ((u32, u32), u32),
    ) -> PageView {
        let untouched = turned == 0 && deskewed == 0.0;
        let read_size = read.dimensions();
        let resampled = page_dpi > 0 && read_dpi != page_dpi && {
            let side = |v: u32| (v as f64 * read_dpi as f64 / page_dpi as f64).round() as u32;
            (side(page_size.0), side(page_size.1)) == read_size
        };
        let scale = page_size.0 as f64 / read_size.0.max(1) as f64;
        match original {
            Some(o) if untouched && o.dimensions() == read_size => PageView::Original {
                original: Arc::clone(o),
                dpi: read_dpi,
                scale: 1.0,
            },
            Some(o) if untouched && resampled && o.dimensions() == page_size => {
                PageView::Original {
                    original: Arc::clone(o),
                    dpi: page_dpi,
                    scale,
                }
            }
            _ if untouched && resampled && read_dpi > page_dpi => {
                let (w, h) = page_size;
                PageView::deflated(&image::imageops::thumbnail(read, w, h), page_dpi, scale)
            }
            _ => PageView::of(read, read_dpi),
        }
    }

    /// How many pixels of the image shown make one pixel of the image OCR read.
    fn scale(&self) -> f64 {
        match self {
            PageView::Original { scale, .. } | PageView::Deflated { scale, .. } => *scale,
        }
    }

    fn image(&self) -> (PageImage<'_>, u32) {
        match self {
            PageView::Original {
                original: e, dpi, ..
            } => (
                match &**e {
                    Embeddable::Jpeg {
                        bytes,
                        width,
                        height,
                        components,
                    } => PageImage::Jpeg {
                        bytes,
                        width: *width,
                        height: *height,
                        components: *components,
                    },
                    Embeddable::Png {
                        zlib,
                        width,
                        height,
                        colors,
                    } => PageImage::Png {
                        zlib,
                        width: *width,
                        height: *height,
                        colors: *colors,
                    },
                },
                *dpi,
            ),
            PageView::Deflated {
                deflated,
                width,
                height,
                dpi,
                ..
            } => (
                PageImage::Deflated {
                    data: deflated,
                    width: *width,
                    height: *height,
                },
                *dpi,
            ),
        }
    }
}

/// A document's searchable PDF while its pages arrive.
#[derive(Default)]
pub(super) struct SearchablePdf {
    open: Option<(pdf::Builder<BufWriter<File>>, PathBuf)>,
}

impl SearchablePdf {
    /// Adds a page's image and words, then drops the image.
    pub fn add(&mut self, archive: &Archive, result: &mut PageResult) -> Result<(), RunError> {
        let Some(view) = result.view.take() else {
            return Ok(());
        };
        if self.open.is_none() {
            let (file, path) = archive.temp_file("searchable")?;
            let builder =
                pdf::Builder::archival(BufWriter::new(file)).map_err(|e| io_error(&path, e))?;
            self.open = Some((builder, path));
        }
        let (builder, path) = self.open.as_mut().expect("opened above");
        let (image, dpi) = view.image();
        // Word boxes are in the pixels of the image OCR read.
        let scale = view.scale();
        let shown = |v: u32| (v as f64 * scale).round() as u32;
        let hocr_words;
        let layer_lines: Vec<&str>;
        let words: Vec<Word<'_>> = match (&result.ocr, result.text_source) {
            (Ok(t), TextSource::Ocr) => {
                hocr_words = crate::ocr::hocr::words(&t.hocr);
                hocr_words
                    .iter()
                    .map(|w| Word {
                        text: &w.text,
                        x0: shown(w.bbox[0]),
                        y0: shown(w.bbox[1]),
                        x1: shown(w.bbox[2]),
                        y1: shown(w.bbox[3]),
                    })
                    .collect()
            }
            (Ok(t), TextSource::TextLayer) => {
                layer_lines = t.text.lines().filter(|l| !l.trim().is_empty()).collect();
                text_layer_words(&layer_lines, image.dimensions())
            }
            (Err(_), _) => Vec::new(),
        };
        let page = pdf::Page {
            image,
            dpi,
            words,
            visible: Vec::new(),
            rotate: 0,
        };
        builder
            .add_page(result.page, &page)
            .map_err(|e| io_error(path, e))
    }

    /// Drops the PDF written so far.
    pub fn discard(&mut self) {
        if let Some((builder, path)) = self.open.take() {
            drop(builder);
            let _ = std::fs::remove_file(path);
        }
    }

    /// Finishes and stores the PDF; its object's hash (`None` when no page had an image).
    pub fn store(&mut self, archive: &Archive) -> Result<Option<String>, RunError> {
        let Some((builder, path)) = self.open.take() else {
            return Ok(None);
        };
        let file = builder.finish().map_err(|e| io_error(&path, e))?;
        let file = file
            .into_inner()
            .map_err(|e| io_error(&path, e.into_error()))?;
        drop(file);
        Ok(Some(archive.put_file(&path)?))
    }
}

/// A text layer without positions: its lines, one per band down the page.
fn text_layer_words<'a>(lines: &[&'a str], (width, height): (u32, u32)) -> Vec<Word<'a>> {
    let band = height / (lines.len() as u32 + 1).max(1);
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| Word {
            text: line,
            x0: width / 20,
            y0: band * i as u32,
            x1: width - width / 20,
            y1: band * (i as u32 + 1),
        })
        .collect()
}

pub(super) fn io_error(path: &std::path::Path, source: std::io::Error) -> RunError {
    RunError::Store(StoreError::Io {
        path: path.to_owned(),
        source,
    })
}
