//! Folding text for search: lower case, Vietnamese diacritics removed, `đ` → `d`.
//!
//! The fold maps every character to exactly one character, so an offset into the folded
//! text is the same character offset into the original: snippets are cut from the original
//! text with its diacritics intact.
//!
//! A plain module: it depends on no other module of the crate. The text OCR reads (and a PDF
//! page's own text) is composed with [`nfc`] before it is stored; the index folds the pages it
//! stores and the queries it is asked with the same functions, so that both meet on the same
//! words.

use unicode_normalization::char::decompose_canonical;
use unicode_normalization::UnicodeNormalization;

/// One character → its folded form (always one character).
pub(crate) fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    // đ/Đ are letters of their own in Unicode, not d + a combining mark: fold them by hand
    // (SQLite's remove_diacritics does not).
    if c == 'đ' || c == 'Đ' {
        return 'd';
    }
    let mut base = None;
    decompose_canonical(c, |d| {
        if base.is_none() {
            base = Some(d);
        }
    });
    let base = base.unwrap_or(c);
    let mut lower = base.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        // Multi-character lower cases (e.g. 'İ') keep the one-to-one mapping by staying put.
        _ => base,
    }
}

/// Canonical composition (NFC) of OCR or query text: Tesseract and keyboards may produce
/// either composed or decomposed Vietnamese; everything stored is NFC.
pub(crate) fn nfc(s: &str) -> String {
    s.nfc().collect()
}

/// Fold NFC text. The result has exactly as many characters as the input.
pub fn fold(s: &str) -> String {
    s.chars().map(fold_char).collect()
}

/// Split a query into folded search terms (letters and digits only).
pub(crate) fn query_terms(query: &str) -> Vec<String> {
    fold(&nfc(query))
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_vietnamese_upper_and_lower_case() {
        assert_eq!(fold("ĐĂNG KÝ KHAI SINH"), "dang ky khai sinh");
        assert_eq!(fold("Nguyễn Thị Hương"), "nguyen thi huong");
        assert_eq!(fold("đường Lê Duẩn, Phường 1"), "duong le duan, phuong 1");
        assert_eq!(
            fold("Cộng hòa xã hội chủ nghĩa"),
            "cong hoa xa hoi chu nghia"
        );
        assert_eq!(fold("ỨNG ƯỚC Ơ Ờ Ỡ Ợ"), "ung uoc o o o o");
    }

    #[test]
    fn folding_keeps_character_offsets() {
        for s in [
            "Tờ khai đăng ký khai sinh",
            "ĐỘC LẬP - TỰ DO - HẠNH PHÚC",
            "İstanbul ß",
        ] {
            assert_eq!(fold(s).chars().count(), s.chars().count(), "{s}");
        }
    }

    #[test]
    fn decomposed_input_is_composed_first() {
        let decomposed = "Nguye\u{302}\u{303}n"; // e + circumflex + tilde
        assert_eq!(nfc(decomposed), "Nguyễn");
        assert_eq!(fold(&nfc(decomposed)), "nguyen");
    }

    #[test]
    fn query_terms_split_on_punctuation() {
        assert_eq!(
            query_terms("Đăng ký, khai-sinh!"),
            vec!["dang", "ky", "khai", "sinh"]
        );
        assert!(query_terms(" -- ").is_empty());
    }
}
