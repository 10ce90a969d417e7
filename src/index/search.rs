//! Full-text search over the latest version of every document, ignoring case and Vietnamese
//! diacritics: both backends match the same folded words (SQLite's FTS5 table, PostgreSQL's
//! tsvector). Each hit carries a snippet cut from the original text, diacritics intact.
//!
//! Words are cut to [`MAX_WORD_BYTES`] on both sides, the page's and the query's, by
//! [`words`]: PostgreSQL refuses a lexeme over 2,046 bytes ("word is too long"), which once
//! failed every run of an archive holding a PDF with a 3,000-letter word, and a 10,000-letter
//! search. Cut the same way on both backends, such a word is found by the same search on both.

use serde::Serialize;

use super::db::{vals, Backend, DbError};
use super::{Index, IndexError};
use crate::fold;

#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    pub dossier_code: String,
    pub procedure_code: String,
    pub document: String,
    pub page: u32,
    pub snippet: String,
    pub score: f64,
}

impl Index {
    /// Full-text search over the latest version of every document, ignoring case and
    /// Vietnamese diacritics. Every term must occur on the page.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>, IndexError> {
        let terms = words(query);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let (sql, words) = match self.backend() {
            // Each term quoted: FTS5 syntax characters in a query are text, not operators.
            Backend::Sqlite => (
                "SELECT d.dossier_code, s.procedure_code, d.path, p.page, p.text, -bm25(page_fts)
                 FROM page_fts
                 JOIN pages p ON p.id = page_fts.rowid
                 JOIN documents d ON d.id = p.document_id
                 JOIN dossiers s ON s.code = d.dossier_code
                 WHERE page_fts MATCH ?1
                   AND d.version = (SELECT MAX(version) FROM documents WHERE path = d.path)
                 ORDER BY bm25(page_fts), d.path, p.page
                 LIMIT ?2",
                terms
                    .iter()
                    .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            // The same words, as lexemes: no parser of PostgreSQL's between them and the page.
            Backend::Postgres => (
                "SELECT d.dossier_code, s.procedure_code, d.path, p.page, p.text,
                        CAST(ts_rank(f.folded, CAST(CAST(?1 AS TEXT) AS tsquery)) AS DOUBLE PRECISION)
                 FROM page_fts f
                 JOIN pages p ON p.id = f.page_id
                 JOIN documents d ON d.id = p.document_id
                 JOIN dossiers s ON s.code = d.dossier_code
                 WHERE f.folded @@ CAST(CAST(?1 AS TEXT) AS tsquery)
                   AND d.version = (SELECT MAX(version) FROM documents WHERE path = d.path)
                 ORDER BY 6 DESC, d.path, p.page
                 LIMIT ?2",
                terms
                    .iter()
                    .map(|t| lexeme(t))
                    .collect::<Vec<_>>()
                    .join(" & "),
            ),
        };
        let rows = self
            .db()
            .query(sql, &vals![words, limit])
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| {
                let rank: f64 = r.get(5)?;
                Ok(SearchHit {
                    dossier_code: r.get(0)?,
                    procedure_code: r.get(1)?,
                    document: r.get(2)?,
                    page: r.get(3)?,
                    snippet: snippet(r.str(4)?, &terms),
                    // Higher is better on both backends.
                    score: (rank * 1000.0).round() / 1000.0,
                })
            })
            .collect::<Result<_, DbError>>()
            .map_err(|e| self.err(e))
    }
}

/// The longest word indexed or searched, in bytes of its folded form: longer ones are cut to
/// their first 255 bytes (on a character boundary). No word of a dossier is near it; it is far
/// under PostgreSQL's 2,046-byte limit on a lexeme.
pub const MAX_WORD_BYTES: usize = 255;

/// The folded words of `text` (letters and digits), each cut to [`MAX_WORD_BYTES`]: what the
/// full-text tables hold of a page and what a search looks for.
pub(super) fn words(text: &str) -> Vec<String> {
    let mut words = fold::query_terms(text);
    for w in &mut words {
        if w.len() > MAX_WORD_BYTES {
            let mut end = MAX_WORD_BYTES;
            while !w.is_char_boundary(end) {
                end -= 1;
            }
            w.truncate(end);
        }
    }
    words
}

/// A search term as a tsquery lexeme: quoted, its quotes and backslashes escaped.
pub(super) fn lexeme(term: &str) -> String {
    format!("'{}'", term.replace('\\', "\\\\").replace('\'', "''"))
}

/// A window of the original text (diacritics intact) around the first matched term,
/// on one line, at most about 160 characters.
pub fn snippet(text: &str, terms: &[String]) -> String {
    const WIDTH: usize = 160;
    let chars: Vec<char> = text.chars().collect();
    let folded: Vec<char> = chars.iter().map(|c| fold::fold_char(*c)).collect();
    let folded_str: String = folded.iter().collect();
    let first = terms
        .iter()
        .filter_map(|t| find_word(&folded_str, t))
        .min()
        .unwrap_or(0);
    let start = first.saturating_sub(WIDTH / 3);
    let end = (start + WIDTH).min(chars.len());
    let window: String = chars[start..end].iter().collect();
    let one_line = window.split_whitespace().collect::<Vec<_>>().join(" ");
    format!(
        "{}{one_line}{}",
        if start > 0 { "…" } else { "" },
        if end < chars.len() { "…" } else { "" }
    )
}

/// Character offset of `term` at the start of a word in `haystack`.
fn find_word(haystack: &str, term: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(pos) = haystack[from..].find(term) {
        let at = from + pos;
        let before = haystack[..at].chars().next_back();
        if before.is_none_or(|c| !c.is_alphanumeric()) {
            return Some(haystack[..at].chars().count());
        }
        from = at + term.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_keep_diacritics_and_stay_short() {
        let text = format!(
            "{} Họ và tên: NGUYỄN THỊ HƯƠNG {}",
            "x ".repeat(200),
            "y ".repeat(200)
        );
        let s = snippet(&text, &["huong".to_owned()]);
        assert!(s.contains("NGUYỄN THỊ HƯƠNG"), "{s}");
        assert!(s.starts_with('…') && s.ends_with('…'));
        assert!(s.chars().count() <= 162);
        // a term inside another word is not a match position
        assert_eq!(find_word("phuong huong", "huong"), Some(7));
    }

    #[test]
    fn long_words_are_cut_on_a_character_boundary() {
        let long = format!("{}ữ{}", "a".repeat(254), "b".repeat(3000));
        let w = words(&format!("Đăng {long} ký"));
        assert_eq!(w.len(), 3);
        assert_eq!((w[0].as_str(), w[2].as_str()), ("dang", "ky"));
        // "ữ" folds to "u": one byte, so the cut falls after it.
        assert_eq!(w[1], format!("{}u", "a".repeat(254)));
        let wide = words(&"語".repeat(1000));
        assert!(wide[0].len() <= MAX_WORD_BYTES && wide[0].len() > MAX_WORD_BYTES - 3);
        assert!(wide[0].chars().all(|c| c == '語'));
    }
}
