//! Decoding and quality checks: any bytes give pages or a reason, within the memory limits.
#![no_main]
use dossier::decode::{self, borders, quality, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    // The product catches a panic of the PDF renderer at the page boundary and fails that page
    // (src/decode/render.rs); libFuzzer's hook would abort on it before it is caught. With
    // the default hook back, a panic that escapes `decode::pages` still aborts the run (the
    // harness's own catch_unwind), a caught one is judged as the product judges it.
    init: {
        let _ = std::panic::take_hook();
    },
    |data: &[u8]| {
        // Tight limits keep each input cheap; the logic is the same at the real limits.
        let limits = Limits {
            max_pixels: 4_000_000,
            max_pages: 8,
        };
        let rules = quality::Rules {
            min_dpi: 200,
            min_confidence: quality::DEFAULT_MIN_CONFIDENCE,
        };
        let truncated = quality::ends_early(data);
        if let Ok((_, pages)) = decode::pages(data, limits) {
            for page in pages.flatten() {
                let mut q = quality::assess(&page.image, page.meta_dpi);
                q.truncated = truncated;
                q.black_border = borders::measure(&page.image).any(
                    quality::BORDER_DEPTH,
                    quality::BORDER_COVERED,
                );
                let _ = q.reasons(&rules);
            }
        }
    }
);
