//! Decoding and quality checks: any bytes give pages or a reason, within the memory limits.
#![no_main]
use dossier::decode::{self, quality, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Tight limits keep each input cheap; the logic is the same at the real limits.
    let limits = Limits {
        max_pixels: 4_000_000,
        max_pages: 8,
    };
    if let Ok((_, pages)) = decode::pages(data, limits) {
        for page in pages.flatten() {
            let q = quality::assess(&page.image, page.meta_dpi);
            let _ = q.reasons(200);
        }
    }
});
