//! Page images: a page of an archived original, decoded by the pipeline's own decoder (the
//! page the OCR read, with PDF /Rotate applied), scaled to at most [`MAX_WIDTH`] pixels wide and
//! encoded as PNG. A few recent images are kept in memory: a dossier page asks for each once,
//! and an auditor goes back and forth.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use image::imageops::FilterType;

use crate::decode::{self, Limits};

/// Wide enough to read a scanned A4 page on a screen.
pub const MAX_WIDTH: u32 = 1000;
const CACHED: usize = 48;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("the original has no page {0}")]
    NoSuchPage(usize),
    #[error("the page carries no image (text only)")]
    NoImage,
    #[error(transparent)]
    Decode(#[from] decode::DecodeError),
    #[error("cannot encode the page image: {0}")]
    Encode(String),
}

/// (object, page) → PNG, oldest first.
type Cached = ((String, usize), Arc<Vec<u8>>);

#[derive(Default)]
pub(crate) struct ImageCache(Mutex<VecDeque<Cached>>);

impl ImageCache {
    pub fn get(&self, sha256: &str, page: usize) -> Option<Arc<Vec<u8>>> {
        let cache = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache
            .iter()
            .find(|((s, p), _)| s == sha256 && *p == page)
            .map(|(_, png)| Arc::clone(png))
    }

    pub fn put(&self, sha256: &str, page: usize, png: Arc<Vec<u8>>) {
        let mut cache = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= CACHED {
            cache.pop_front();
        }
        cache.push_back(((sha256.to_owned(), page), png));
    }
}

/// Page `page` (from 1) of `original`, as a PNG at most [`MAX_WIDTH`] wide.
pub fn page_png(original: &[u8], page: usize) -> Result<Vec<u8>, ImageError> {
    let (_, mut pages) = decode::pages(original, Limits::default())?;
    let decoded = pages
        .nth(page.checked_sub(1).ok_or(ImageError::NoSuchPage(page))?)
        .ok_or(ImageError::NoSuchPage(page))??;
    let mut image = decoded.image;
    if image.width() == 0 || image.height() == 0 {
        return Err(ImageError::NoImage);
    }
    if image.width() > MAX_WIDTH {
        let height = (image.height() as u64 * MAX_WIDTH as u64 / image.width() as u64).max(1);
        image = image::imageops::resize(&image, MAX_WIDTH, height as u32, FilterType::Triangle);
    }
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Adaptive,
    )
    .write_image(
        image.as_raw(),
        image.width(),
        image.height(),
        image::ExtendedColorType::L8,
    )
    .map_err(|e| ImageError::Encode(e.to_string()))?;
    Ok(out)
}

use image::ImageEncoder as _;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_comes_back_as_a_scaled_png() {
        let img = image::GrayImage::from_pixel(2000, 1000, image::Luma([200]));
        let mut png = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let out = page_png(&png, 1).unwrap();
        let back = image::load_from_memory(&out).unwrap();
        assert_eq!((back.width(), back.height()), (1000, 500));
        assert!(matches!(page_png(&png, 2), Err(ImageError::NoSuchPage(2))));
        assert!(matches!(page_png(&png, 0), Err(ImageError::NoSuchPage(0))));
        assert!(page_png(b"not an image", 1).is_err());
    }
}
