//! The pages' templates (askama, compiled in; HTML-escaped by default) and the plain values
//! they show. Handlers build these values; the templates only lay them out.

use askama::Template;

use super::i18n::Words;
use crate::coverage::render::Labels;
use crate::index::EventView;

/// What every page's frame needs.
pub(crate) struct Nav {
    pub w: &'static Words,
    pub l: &'static Labels,
    pub title: String,
    /// The same page in the other language.
    pub switch_url: String,
    pub user: String,
    pub csrf: String,
    /// Whether a login is in use (then a logout button is shown).
    pub logout: bool,
}

/// A figure, linked to the dossiers behind it when it counts dossiers.
pub(crate) struct Cell {
    pub text: String,
    pub href: Option<String>,
}

pub(crate) struct Row {
    pub key: String,
    pub name: String,
    pub cells: Vec<Cell>,
    pub below: bool,
}

pub(crate) struct Bar {
    pub y: u32,
    pub width: u32,
    pub label: String,
    pub text: String,
    pub below: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub(crate) struct Dashboard {
    pub nav: Nav,
    pub from: String,
    pub to: String,
    pub by: &'static str,
    pub api_url: String,
    pub target: String,
    pub ledger: String,
    pub headings: Vec<&'static str>,
    pub rows: Vec<Row>,
    pub totals: Vec<Cell>,
    pub bars: Vec<Bar>,
    pub chart_height: u32,
    pub target_x: u32,
}

#[derive(Template)]
#[template(path = "list.html")]
pub(crate) struct List {
    pub nav: Nav,
    pub what: String,
    /// (code, link to its page)
    pub codes: Vec<(String, String)>,
    pub shown: usize,
    pub total: usize,
}

pub(crate) struct PageVm {
    pub page: u32,
    /// The page's number in the original (a batch scan's page for a split document).
    pub image_page: u32,
    pub dpi: u32,
    pub confidence: String,
    /// The OCR text in runs, highlighted or not.
    pub text: Vec<(String, bool)>,
}

pub(crate) struct DocVm {
    pub path: String,
    pub kind: String,
    pub version: u32,
    pub archived_at: String,
    pub quality: String,
    pub reasons: String,
    pub sha256: String,
    pub bytes: u64,
    pub searchable_pdf: Option<String>,
    pub pages: Vec<PageVm>,
    pub events: Vec<EventView>,
}

pub(crate) struct LedgerVm {
    pub seq: u64,
    pub hash: String,
    pub kind: String,
    pub at: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "dossier.html")]
pub(crate) struct Dossier {
    pub nav: Nav,
    pub code: String,
    pub self_url: String,
    pub q: String,
    pub register: Vec<(String, String)>,
    pub documents: Vec<DocVm>,
    pub ledger: Vec<LedgerVm>,
}

pub(crate) struct HitVm {
    pub href: String,
    pub dossier_code: String,
    pub procedure_code: String,
    pub document: String,
    pub page: u32,
    pub snippet: String,
}

#[derive(Template)]
#[template(path = "search.html")]
pub(crate) struct Search {
    pub nav: Nav,
    pub q: String,
    pub hits: Vec<HitVm>,
}

pub(crate) struct SampleRow {
    pub code: String,
    pub href: String,
    pub standing: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
pub(crate) struct Audit {
    pub nav: Nav,
    pub from: String,
    pub to: String,
    pub size: String,
    pub seed: String,
    pub drawn: bool,
    pub population: u64,
    pub sample: Vec<SampleRow>,
    pub checked: u64,
    pub not_confirmed: u64,
    pub error_rate: String,
    pub interval: String,
}

#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct Message {
    pub nav: Nav,
    pub heading: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct Login {
    pub nav: Nav,
    pub failed: bool,
}

/// Splits `text` into runs, marking each word that starts with one of the folded `terms`
/// (the fold keeps one character per character, so positions carry over).
pub(crate) fn highlight(text: &str, terms: &[String]) -> Vec<(String, bool)> {
    if terms.is_empty() {
        return vec![(text.to_owned(), false)];
    }
    let chars: Vec<char> = text.chars().collect();
    let folded: Vec<char> = chars.iter().map(|c| crate::fold::fold_char(*c)).collect();
    let mut marked = vec![false; chars.len()];
    let mut i = 0;
    while i < chars.len() {
        let starts_word =
            folded[i].is_alphanumeric() && (i == 0 || !folded[i - 1].is_alphanumeric());
        if starts_word {
            for t in terms {
                let t: Vec<char> = t.chars().collect();
                if folded[i..].starts_with(&t) {
                    marked[i..i + t.len()].iter_mut().for_each(|m| *m = true);
                }
            }
        }
        i += 1;
    }
    let mut out: Vec<(String, bool)> = Vec::new();
    for (c, m) in chars.into_iter().zip(marked) {
        match out.last_mut() {
            Some((s, last)) if *last == m => s.push(c),
            _ => out.push((c.to_string(), m)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_highlighted_without_regard_to_diacritics() {
        let runs = highlight(
            "Họ và tên: NGUYỄN Văn Đức",
            &["nguyen".into(), "duc".into()],
        );
        let marked: Vec<&str> = runs.iter().filter(|r| r.1).map(|r| r.0.as_str()).collect();
        assert_eq!(marked, vec!["NGUYỄN", "Đức"]);
        let joined: String = runs.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(joined, "Họ và tên: NGUYỄN Văn Đức");
        assert_eq!(highlight("abc", &[]), vec![("abc".to_owned(), false)]);
        // Only at the start of a word.
        assert!(highlight("xnguyen", &["nguyen".into()])
            .iter()
            .all(|r| !r.1));
    }
}
