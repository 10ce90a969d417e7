//! The character error rate's arithmetic, shared by the benches that measure it (`cer`,
//! `public_scans`) so their figures stay comparable, pulled in by `#[path]` from each bench
//! module: each bench is a crate of its own.

use unicode_normalization::UnicodeNormalization;

/// Character edits between `reference` and `hypothesis` (whitespace runs folded to one
/// space, both sides NFC), and the reference's length in characters: CER is their quotient.
pub fn edits(reference: &str, hypothesis: &str) -> (usize, usize) {
    let norm = |s: &str| -> Vec<char> {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .nfc()
            .collect()
    };
    let (r, h) = (norm(reference), norm(hypothesis));
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    for (i, rc) in r.iter().enumerate() {
        let mut cur = vec![i + 1; h.len() + 1];
        for (j, hc) in h.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(rc != hc))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    (prev[h.len()], r.len())
}
