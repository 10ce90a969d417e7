//! Tesseract's and Leptonica's own messages, in dossier's log at debug level, each naming the
//! file (and page) the worker that printed it was reading.
//!
//! How they are caught: Leptonica has a handler hook (`leptSetStderrHandler`); Tesseract prints
//! through `tesseract::tprintf`, which the binary defines itself (`capture.c`, exported by
//! build.rs) so that libtesseract's calls land here. Both run on the thread that is reading,
//! so a thread-local [`Reading`] attributes each message exactly, whatever the number of
//! workers. Tesseract's pieces of a line are gathered per thread until its line break.
//!
//! Invariants: with the log below debug level nothing is formatted (Tesseract's chatter costs
//! nothing and never reaches the log, `--quiet` or not); a message is one log line; messages
//! printed outside any reading (loading a model) name no file.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr};
use std::sync::Arc;

use crate::log::{self, Level, Origin};

thread_local! {
    static CURRENT: RefCell<Option<(Arc<str>, u32)>> = const { RefCell::new(None) };
    static PENDING: RefCell<String> = const { RefCell::new(String::new()) };
}

/// While alive, this thread's library messages are attributed to `file`, page `page`.
pub struct Reading {
    previous: Option<(Arc<str>, u32)>,
}

/// Marks this thread as reading page `page` of `file` (an intake path) until the guard drops.
pub fn reading(file: Arc<str>, page: u32) -> Reading {
    let previous = CURRENT.with(|c| c.replace(Some((file, page))));
    Reading { previous }
}

impl Drop for Reading {
    fn drop(&mut self) {
        flush_pending();
        CURRENT.with(|c| *c.borrow_mut() = self.previous.take());
    }
}

type Wanted = extern "C" fn() -> c_int;
type Message = unsafe extern "C" fn(*const c_char, usize);

unsafe extern "C" {
    /// capture.c: hands Tesseract's messages to these two (and links capture.c in).
    fn dossier_capture_install(wanted: Wanted, message: Message);
    fn leptSetStderrHandler(handler: Option<unsafe extern "C" fn(*const c_char)>);
}

/// Installs the Leptonica and Tesseract handlers; call once, before any engine exists.
pub fn install() {
    // SAFETY: plain C calls; the handlers are functions that live as long as the process.
    unsafe {
        dossier_capture_install(tesseract_wanted, tesseract_message);
        leptSetStderrHandler(Some(leptonica_message));
    }
}

fn emit(source: &str, text: &str) {
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    CURRENT.with(|c| {
        let current = c.borrow();
        let origin = Origin {
            file: current.as_ref().map(|(f, _)| &**f),
            page: current.as_ref().map(|(_, p)| *p),
            source: Some(source),
        };
        log::log(Level::Debug, text, origin);
    });
}

/// What Tesseract printed and has not ended with a line break yet.
fn flush_pending() {
    let text = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
    emit("tesseract", &text);
}

extern "C" fn tesseract_wanted() -> c_int {
    c_int::from(log::enabled(Level::Debug))
}

/// # Safety
/// `text` points at `len` readable bytes (capture.c's formatted message).
unsafe extern "C" fn tesseract_message(text: *const c_char, len: usize) {
    if text.is_null() {
        return;
    }
    // SAFETY: the caller passes its buffer and the length it formatted.
    let bytes = unsafe { std::slice::from_raw_parts(text.cast::<u8>(), len) };
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<String> = PENDING.with(|p| {
        let mut pending = p.borrow_mut();
        pending.push_str(&text);
        let mut done = Vec::new();
        while let Some(end) = pending.find('\n') {
            done.push(pending[..end].to_owned());
            pending.replace_range(..=end, "");
        }
        done
    });
    for line in lines {
        emit("tesseract", &line);
    }
}

unsafe extern "C" fn leptonica_message(text: *const c_char) {
    if text.is_null() || !log::enabled(Level::Debug) {
        return;
    }
    // SAFETY: Leptonica passes a NUL-terminated message.
    let text = unsafe { CStr::from_ptr(text) }.to_string_lossy();
    emit("leptonica", &text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_of_a_line_are_gathered_until_its_break() {
        let _reading = reading(Arc::from("p/d/input/a.png"), 1);
        let parts = ["Estimating ", "resolution as 301\nnext"];
        for part in parts {
            // SAFETY: a live buffer and its length.
            unsafe { tesseract_message(part.as_ptr().cast(), part.len()) };
        }
        assert_eq!(PENDING.with(|p| p.borrow().clone()), "next");
        drop(_reading);
        assert_eq!(PENDING.with(|p| p.borrow().clone()), "");
        assert!(CURRENT.with(|c| c.borrow().is_none()));
    }
}
