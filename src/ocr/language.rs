//! Whether a page read with the Vietnamese model is plainly in another language.
//!
//! Dossiers carry foreign documents too (a birth certificate issued abroad, a consular
//! legalisation, a company's English papers). The Vietnamese model reads Latin text, but
//! worse than a model of that language: on the real English scans of the held-out set,
//! `-l vie` made twice the character errors of `-l eng` (0.030 against 0.0145 on a brochure,
//! 0.128 against 0.027 on a typewritten page), reading "d" as "đ", "t" as "f", bullets as "®".
//! Loading both models at once (`vie+eng`) costs Vietnamese pages their diacritics (1.1% →
//! 2.2% of characters, DOMAIN.md), so the other model only re-reads pages this test finds
//! plainly foreign.
//!
//! The test is on the words read, not on the image: Vietnamese writes one syllable per word,
//! each an initial consonant, a vowel group and a final from short fixed lists, and most
//! words carry a diacritic. A Vietnamese page keeps both properties through poor scans (OCR
//! drops marks and letters, it does not invent consonant clusters), while English or Dutch
//! prose keeps neither ("and", "of", "with", "information" are not Vietnamese syllables). A
//! page needs both signals, and enough words, to count as foreign: a short or mixed page
//! stays with the Vietnamese reading.

use unicode_normalization::char::decompose_canonical;

/// Fewer words than this say too little about a page's language.
const MIN_WORDS: usize = 30;
/// At most this share of a foreign page's words are Vietnamese syllables, and at most this
/// share carries a Vietnamese letter or tone mark. Measured (`cargo bench --bench cer -- 2`,
/// `--bench public_scans`): the 30 generated Vietnamese pages, noisy, blurred, skewed and
/// JPEG-spoiled ones included, 0.93–1.00 syllables and 0.85–0.91 marked; the 13 English and
/// Dutch scans read with `vie`, 0.17–0.35 and 0.003–0.056. The marked bound is kept low on
/// purpose: a French extract (é, à, è read as tone marks) and a Vietnamese visa form filled in
/// in English (its labels) are about a quarter marked, and the Vietnamese model reads their
/// accents and labels, which the English one would drop: they stay with it.
const MAX_SYLLABLE_SHARE: f64 = 0.6;
const MAX_MARKED_SHARE: f64 = 0.1;

/// What a page's words say about its language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Evidence {
    /// Words of letters only (a token with a digit says nothing of the language).
    pub words: usize,
    /// Of them, words that are well-formed Vietnamese syllables (tone marks aside).
    pub syllables: usize,
    /// Of them, words with a letter only Vietnamese writes here (ă â đ ê ô ơ ư, a tone mark).
    pub marked: usize,
}

impl Evidence {
    /// Counts the words of `text`.
    pub fn of(text: &str) -> Evidence {
        let mut evidence = Evidence::default();
        for word in text.split(|c: char| !c.is_alphanumeric()) {
            if word.is_empty() || word.chars().any(|c| !c.is_alphabetic()) {
                continue;
            }
            evidence.words += 1;
            let (letters, marked) = base_letters(word);
            evidence.marked += usize::from(marked);
            evidence.syllables += usize::from(is_syllable(&letters));
        }
        evidence
    }

    /// Enough words, few of them Vietnamese syllables and hardly any with a Vietnamese mark.
    pub fn plainly_foreign(&self) -> bool {
        let share = |n: usize| n as f64 / self.words.max(1) as f64;
        self.words >= MIN_WORDS
            && share(self.syllables) <= MAX_SYLLABLE_SHARE
            && share(self.marked) <= MAX_MARKED_SHARE
    }
}

/// Vietnamese's five tone marks as combining characters (grave, acute, tilde, hook, dot).
const TONE_MARKS: [char; 5] = ['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];
/// The letters Vietnamese forms with a breve, circumflex or horn, and đ.
const MARKED_LETTERS: &str = "ăâđêôơư";

/// `word` lower-cased without its tone marks, and whether it had a Vietnamese mark.
fn base_letters(word: &str) -> (Vec<char>, bool) {
    let mut letters = Vec::with_capacity(word.len());
    let mut marked = false;
    for c in word.chars().flat_map(char::to_lowercase) {
        let mut parts = Vec::with_capacity(3);
        decompose_canonical(c, |d| parts.push(d));
        marked |= parts.iter().any(|d| TONE_MARKS.contains(d)) || MARKED_LETTERS.contains(c);
        // Recompose the letter without its tone: 'ế' → 'ê', 'ờ' → 'ơ', 'á' → 'a'.
        let base = parts[0];
        let modifier = parts[1..].iter().find(|d| !TONE_MARKS.contains(d));
        letters.push(match (base, modifier) {
            ('a', Some('\u{306}')) => 'ă',
            ('a', Some('\u{302}')) => 'â',
            ('e', Some('\u{302}')) => 'ê',
            ('o', Some('\u{302}')) => 'ô',
            ('o', Some('\u{31b}')) => 'ơ',
            ('u', Some('\u{31b}')) => 'ư',
            (b, None) => b,
            // Any other mark (ä, ç, ñ): a letter Vietnamese does not write.
            _ => '?',
        });
    }
    (letters, marked)
}

const INITIALS: [&str; 28] = [
    "ngh", "ng", "gh", "gi", "kh", "nh", "ph", "qu", "th", "tr", "ch", "b", "c", "d", "đ", "g",
    "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
];
const FINALS: [&str; 9] = ["ch", "ng", "nh", "c", "m", "n", "p", "t", ""];
const VOWELS: &str = "aăâeêioôơuưy";

/// An initial consonant (or none), one to three vowels and a final consonant (or none).
fn is_syllable(letters: &[char]) -> bool {
    INITIALS.iter().any(|initial| {
        let Some(rest) = strip(letters, initial) else {
            return false;
        };
        let vowels = rest.iter().take_while(|c| VOWELS.contains(**c)).count();
        (1..=3).contains(&vowels)
            && FINALS
                .iter()
                .any(|f| strip(&rest[vowels..], f).is_some_and(<[char]>::is_empty))
    })
}

/// `letters` without the prefix `prefix`, if it starts with it.
fn strip<'a>(letters: &'a [char], prefix: &str) -> Option<&'a [char]> {
    let n = prefix.chars().count();
    (letters.len() >= n && letters.iter().take(n).copied().eq(prefix.chars()))
        .then(|| &letters[n..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syllable(word: &str) -> bool {
        is_syllable(&base_letters(word).0)
    }

    #[test]
    fn vietnamese_syllables_are_recognised_with_or_without_their_marks() {
        for word in [
            "nghiêng",
            "người",
            "Giấy",
            "khai",
            "sinh",
            "quyết",
            "định",
            "UBND",
            "đăng",
            "ký",
            "hộ",
            "tịch",
            "chứng",
            "thực",
            "trường",
            "a",
            "gì",
            "Uỷ",
            "khoẻ",
            "xã",
        ] {
            assert_eq!(syllable(word), word != "UBND", "{word}");
        }
        for word in [
            "and",
            "of",
            "with",
            "information",
            "street",
            "Waterman",
            "linzen",
            "is",
            "über",
        ] {
            assert!(!syllable(word), "{word}");
        }
    }

    #[test]
    fn vietnamese_prose_is_not_foreign_and_english_prose_is() {
        let vietnamese = "Căn cứ Luật Hộ tịch ngày 20 tháng 11 năm 2014; Ủy ban nhân dân xã \
            xác nhận ông Nguyễn Văn An đã nộp đủ hồ sơ đăng ký khai sinh cho con là cháu \
            Nguyễn Thị Bình, sinh ngày 03 tháng 02 năm 2024 tại bệnh viện đa khoa tỉnh; \
            người đi đăng ký là cha đẻ, có giấy tờ tùy thân hợp lệ theo quy định.";
        let evidence = Evidence::of(vietnamese);
        assert!(evidence.words >= MIN_WORDS, "{evidence:?}");
        assert!(!evidence.plainly_foreign(), "{evidence:?}");
        // The same words as a poor scan reads them, every mark lost: still Vietnamese.
        let unmarked = crate::fold::fold(vietnamese);
        assert!(!Evidence::of(&unmarked).plainly_foreign());

        let english = "Optical character recognition is the mechanical or electronic \
            conversion of images of typed, handwritten or printed text into machine-encoded \
            text, whether from a scanned document, a photo of a document, a scene photo or \
            from subtitle text superimposed on an image, for example from a television \
            broadcast. It is widely used as a form of data entry from printed paper records.";
        let evidence = Evidence::of(english);
        assert!(evidence.plainly_foreign(), "{evidence:?}");
        // A few English lines are too little to say.
        assert!(!Evidence::of("Optical character recognition of printed text").plainly_foreign());
    }

    #[test]
    fn a_page_mixing_the_languages_stays_vietnamese() {
        let mixed = "Certificate of Birth — Giấy khai sinh. Họ và tên: Nguyễn Văn An. Ngày \
            sinh: 03/02/2024. Nơi sinh: Hà Nội. Place of birth: Hanoi. Father: Nguyễn Văn \
            Bình. Cha: Nguyễn Văn Bình. Mother: Trần Thị Cúc. Mẹ: Trần Thị Cúc. Quốc tịch: \
            Việt Nam. Nationality: Vietnamese. Issued by the People's Committee of the ward.";
        assert!(!Evidence::of(mixed).plainly_foreign());
    }
}
