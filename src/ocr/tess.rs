//! A small owned handle on Tesseract's C API (`tesseract-sys`), the only place that calls it.
//!
//! Invariants:
//! - [`TessApi`] owns its `TessBaseAPI*`: created in [`TessApi::create`], deleted once on drop,
//!   used by one thread at a time (it is `Send`, not `Sync`).
//! - Text Tesseract returns is copied into Rust strings and freed with `TessDeleteText`
//!   before the call returns; no pointer into Tesseract outlives a method.
//! - [`TessApi::recognize`] passes a monitor (`ETEXT_DESC`) whose cancel callback asks the
//!   caller's `stop` function after each word: a stop signal ends the reading of a large page
//!   within a word or two, not after the many seconds the page takes. Layout analysis, which
//!   runs before the first word, cannot be cancelled (it takes a fraction of the page's time).
//!   A cancelled page is [`Recognition::Cancelled`], never a partial text.

use std::ffi::{c_void, CStr};
use std::os::raw::c_int;
use std::ptr::{self, NonNull};

use tesseract_sys as sys;

/// Why a recognition gave no result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Recognition {
    /// Tesseract failed.
    Failed,
    /// `stop` said so while the page was being read.
    Cancelled,
}

/// An owned `TessBaseAPI`.
pub(super) struct TessApi {
    handle: NonNull<sys::TessBaseAPI>,
}

// SAFETY: a TessBaseAPI may move between threads; `&mut self` on every call that changes it
// keeps it to one thread at a time.
unsafe impl Send for TessApi {}

impl TessApi {
    /// A new, uninitialised handle; `None` when Tesseract cannot allocate one.
    pub fn create() -> Option<TessApi> {
        // SAFETY: no preconditions.
        let handle = unsafe { sys::TessBaseAPICreate() };
        NonNull::new(handle).map(|handle| TessApi { handle })
    }

    fn raw(&self) -> *mut sys::TessBaseAPI {
        self.handle.as_ptr()
    }

    /// Loads `languages` (`vie+eng`) from `datapath` (Tesseract's default when `None`).
    /// False when a model is missing or unreadable.
    pub fn init(&mut self, datapath: Option<&CStr>, languages: &CStr) -> bool {
        // SAFETY: the strings outlive the call; Tesseract copies them.
        let rc = unsafe {
            sys::TessBaseAPIInit3(
                self.raw(),
                datapath.map_or(ptr::null(), CStr::as_ptr),
                languages.as_ptr(),
            )
        };
        rc == 0
    }

    /// Sets a parameter; false when Tesseract has no such parameter.
    pub fn set_variable(&mut self, name: &CStr, value: &CStr) -> bool {
        // SAFETY: the strings outlive the call.
        unsafe { sys::TessBaseAPISetVariable(self.raw(), name.as_ptr(), value.as_ptr()) == 1 }
    }

    pub fn set_page_seg_mode(&mut self, mode: sys::TessPageSegMode) {
        // SAFETY: a plain setter on an owned handle.
        unsafe { sys::TessBaseAPISetPageSegMode(self.raw(), mode) }
    }

    /// Gives Tesseract an 8-bit grey image (`width` × `height`, rows packed). Tesseract copies
    /// the pixels. Err names the problem when the buffer does not match the dimensions.
    pub fn set_grey_image(&mut self, pixels: &[u8], width: u32, height: u32) -> Result<(), String> {
        let (Ok(w), Ok(h)) = (c_int::try_from(width), c_int::try_from(height)) else {
            return Err(format!("{width}×{height} pixels is too large"));
        };
        if (width as u64) * (height as u64) > pixels.len() as u64 {
            return Err(format!(
                "{width}×{height} pixels but {} bytes of image",
                pixels.len()
            ));
        }
        // SAFETY: the buffer holds `h` rows of `w` bytes (checked above) and outlives the
        // call; Tesseract copies it.
        unsafe { sys::TessBaseAPISetImage(self.raw(), pixels.as_ptr(), w, h, 1, w) };
        Ok(())
    }

    /// Restricts the next recognition to a rectangle of the image set last; results keep the
    /// whole image's coordinates. Tesseract clips the rectangle to the image.
    pub fn set_rectangle(&mut self, left: u32, top: u32, width: u32, height: u32) {
        let int = |v: u32| c_int::try_from(v).unwrap_or(c_int::MAX);
        // SAFETY: a plain setter on an owned handle.
        unsafe {
            sys::TessBaseAPISetRectangle(self.raw(), int(left), int(top), int(width), int(height))
        }
    }

    pub fn set_source_resolution(&mut self, dpi: c_int) {
        // SAFETY: a plain setter on an owned handle.
        unsafe { sys::TessBaseAPISetSourceResolution(self.raw(), dpi) }
    }

    /// Reads the image set last. `stop` is asked after each word (from this thread); once it
    /// says true the reading ends and the result is [`Recognition::Cancelled`].
    pub fn recognize(&mut self, stop: fn() -> bool) -> Result<(), Recognition> {
        let monitor = Monitor::new(stop).ok_or(Recognition::Failed)?;
        // SAFETY: the monitor (and the `stop` it points at) outlives the call.
        let rc = unsafe { sys::TessBaseAPIRecognize(self.raw(), monitor.raw()) };
        drop(monitor);
        if stop() {
            // Whatever Tesseract returned, the page was (or may have been) cut short.
            return Err(Recognition::Cancelled);
        }
        match rc {
            0 => Ok(()),
            _ => Err(Recognition::Failed),
        }
    }

    /// The recognised text (UTF-8; invalid sequences replaced).
    pub fn utf8_text(&mut self) -> Option<String> {
        // SAFETY: an owned handle; the text is copied and freed by `take_text`.
        unsafe { take_text(sys::TessBaseAPIGetUTF8Text(self.raw())) }
    }

    /// The recognised page as hOCR, numbered `page` (0-based).
    pub fn hocr_text(&mut self, page: c_int) -> Option<String> {
        // SAFETY: as in `utf8_text`.
        unsafe { take_text(sys::TessBaseAPIGetHOCRText(self.raw(), page)) }
    }

    /// Mean word confidence of the last recognition, 0–100.
    pub fn mean_text_conf(&mut self) -> c_int {
        // SAFETY: an owned handle.
        unsafe { sys::TessBaseAPIMeanTextConf(self.raw()) }
    }

    /// Orientation and script detection on the image set last (needs the `osd` model):
    /// the page's orientation in degrees counterclockwise and the confidence in it.
    pub fn detect_orientation(&mut self) -> Option<(c_int, f32)> {
        let mut degrees: c_int = 0;
        let mut confidence: f32 = 0.0;
        let mut script: *const std::os::raw::c_char = ptr::null();
        let mut script_confidence: f32 = 0.0;
        // SAFETY: the out-pointers are valid for the call; `script` points into Tesseract's
        // own tables and is not kept.
        let ok = unsafe {
            sys::TessBaseAPIDetectOrientationScript(
                self.raw(),
                &mut degrees,
                &mut confidence,
                &mut script,
                &mut script_confidence,
            )
        };
        (ok != 0).then_some((degrees, confidence))
    }

    /// Frees the image and results of the last page (the models stay loaded).
    pub fn clear(&mut self) {
        // SAFETY: an owned handle.
        unsafe { sys::TessBaseAPIClear(self.raw()) }
    }
}

impl Drop for TessApi {
    fn drop(&mut self) {
        // SAFETY: created by TessBaseAPICreate, deleted once, never used after.
        unsafe {
            sys::TessBaseAPIEnd(self.raw());
            sys::TessBaseAPIDelete(self.raw());
        }
    }
}

/// Copies and frees a string Tesseract allocated.
///
/// # Safety
/// `text` is null or a string from a `TessBaseAPIGet*Text` call, not yet freed.
unsafe fn take_text(text: *mut std::os::raw::c_char) -> Option<String> {
    if text.is_null() {
        return None;
    }
    let owned = CStr::from_ptr(text).to_string_lossy().into_owned();
    sys::TessDeleteText(text);
    Some(owned)
}

/// A recognition monitor whose cancel callback asks a `fn() -> bool`.
struct Monitor {
    raw: NonNull<sys::ETEXT_DESC>,
    /// Where the callback finds `stop`: boxed so the address holds while the monitor lives.
    _stop: Box<fn() -> bool>,
}

impl Monitor {
    fn new(stop: fn() -> bool) -> Option<Monitor> {
        // SAFETY: no preconditions.
        let raw = NonNull::new(unsafe { sys::TessMonitorCreate() })?;
        let stop = Box::new(stop);
        // SAFETY: `cancel_this` points at the boxed `stop`, which lives as long as the monitor
        // (fields drop after `Drop::drop` deletes it).
        unsafe {
            sys::TessMonitorSetCancelThis(
                raw.as_ptr(),
                &*stop as *const fn() -> bool as *mut c_void,
            );
            sys::TessMonitorSetCancelFunc(raw.as_ptr(), Some(ask_stop));
        }
        Some(Monitor { raw, _stop: stop })
    }

    fn raw(&self) -> *mut sys::ETEXT_DESC {
        self.raw.as_ptr()
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        // SAFETY: created by TessMonitorCreate, deleted once.
        unsafe { sys::TessMonitorDelete(self.raw()) }
    }
}

/// Tesseract's cancel callback: true ends the recognition.
unsafe extern "C" fn ask_stop(cancel_this: *mut c_void, _words: c_int) -> bool {
    // SAFETY: `cancel_this` is the `fn() -> bool` a live `Monitor` boxed.
    let stop = *(cancel_this as *const fn() -> bool);
    stop()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    static ASKED: AtomicUsize = AtomicUsize::new(0);
    static STOP: AtomicBool = AtomicBool::new(false);

    fn never() -> bool {
        false
    }

    /// Says stop from the third question on, counting the questions.
    fn after_two_words() -> bool {
        ASKED.fetch_add(1, Ordering::SeqCst) >= 2 || STOP.load(Ordering::SeqCst)
    }

    fn page_of_words() -> image::GrayImage {
        use crate::sample::render::{render_page, Fonts, Line, Paper};
        let fonts = Fonts::find().expect("fonts");
        let lines: Vec<Line> = (0..12)
            .map(|i| Line::body(format!("Dòng số {i}: hồ sơ đăng ký hộ kinh doanh cá thể")))
            .collect();
        let paper = Paper {
            width_mm: 210.0,
            height_mm: 120.0,
        };
        render_page(&fonts, &lines, paper, 300).0
    }

    fn engine() -> TessApi {
        let mut api = TessApi::create().expect("created");
        assert!(api.set_variable(c"debug_file", c"/dev/null"));
        assert!(api.init(None, c"vie"), "the vie model is installed");
        api.set_page_seg_mode(sys::TessPageSegMode_PSM_AUTO);
        api
    }

    #[test]
    fn a_page_is_read_and_a_stop_cancels_it_after_the_words_it_allows() {
        let page = page_of_words();
        let mut api = engine();
        api.set_grey_image(page.as_raw(), page.width(), page.height())
            .unwrap();
        api.set_source_resolution(300);
        assert_eq!(api.recognize(never), Ok(()));
        let text = api.utf8_text().expect("text");
        assert!(text.contains("kinh doanh"), "{text}");
        assert!(api.hocr_text(0).expect("hOCR").contains("ocrx_word"));
        assert!(api.mean_text_conf() > 50);

        api.set_grey_image(page.as_raw(), page.width(), page.height())
            .unwrap();
        assert_eq!(api.recognize(after_two_words), Err(Recognition::Cancelled));
        let asked = ASKED.load(Ordering::SeqCst);
        assert!((3..20).contains(&asked), "asked {asked} times");
    }

    unsafe extern "C" {
        /// line_images.c: how many line images were kept raw instead of as PNG.
        fn dossier_line_images_kept_raw() -> std::os::raw::c_ulong;
    }

    #[test]
    fn line_images_are_kept_raw_and_read_the_same() {
        let page = page_of_words();
        // SAFETY: reads a counter.
        let before = unsafe { dossier_line_images_kept_raw() };
        let mut api = engine();
        api.set_grey_image(page.as_raw(), page.width(), page.height())
            .unwrap();
        api.set_source_resolution(300);
        assert_eq!(api.recognize(never), Ok(()));
        let text = api.utf8_text().expect("text");
        // SAFETY: as above.
        let after = unsafe { dossier_line_images_kept_raw() };
        // One image per line read (12 lines), each written raw and read back whole.
        assert!(after >= before + 12, "{before} → {after}");
        for i in 0..12 {
            assert!(text.contains(&format!("Dòng số {i}:")), "line {i}: {text}");
        }
    }

    #[test]
    fn an_image_smaller_than_its_dimensions_is_refused() {
        let mut api = TessApi::create().expect("created");
        assert!(api.set_grey_image(&[0u8; 10], 4, 4).is_err());
        assert!(api.set_grey_image(&[0u8; 16], 4, 4).is_ok());
    }
}
