//! Full-text indexing never fails a document, on either backend: a text-layer PDF holding a
//! 3,000-letter word (over PostgreSQL's 2,046-byte limit on a lexeme) is archived and found
//! the same way on SQLite and PostgreSQL, and a 10,000-character search answers "no match" on
//! both instead of an error. Real PostgreSQL, as `tests/postgres.rs`.

mod common;

use std::path::Path;

use common::TestEnv;
use dossier::pdf::{Page, PageImage, Word};
use dossier::test_support::PostgresTestDb;
use serde_json::Value;

/// A white page with an invisible text layer: a few words and `long` between them.
fn text_layer_pdf(long: &str) -> Vec<u8> {
    let (width, height) = (1654, 1102);
    let pixels = vec![255u8; (width * height) as usize];
    let word = |text, x0| Word {
        text,
        x0,
        y0: 100,
        x1: x0 + 300,
        y1: 140,
    };
    dossier::pdf::write(&[Page {
        image: PageImage::Grey {
            pixels: &pixels,
            width,
            height,
        },
        dpi: 200,
        words: vec![
            word("Đăng ký khai sinh", 100),
            word(long, 500),
            word("Hộ tịch viên", 900),
        ],
        visible: vec![],
        rotate: 0,
    }])
}

/// `dossier search` on `archive` (with `--index` when given): exit code, hits, stderr.
fn search(env: &TestEnv, index: Option<&str>, query: &str) -> (i32, Vec<Value>, String) {
    let archive = env.archive();
    let mut args = vec![
        "search",
        "--archive",
        archive.to_str().unwrap(),
        query,
        "--json",
    ];
    if let Some(url) = index {
        args.extend(["--index", url]);
    }
    let out = env.dossier(&args);
    let hits = serde_json::from_slice(&out.stdout).unwrap_or_default();
    (
        out.status.code().unwrap_or(-1),
        hits,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn place_pdf(env: &TestEnv, pdf: &[u8]) -> String {
    let first = &env.manifest.files[0].path;
    let dir = Path::new(first).parent().unwrap();
    let rel = dir.join("long-word.pdf");
    std::fs::write(env.intake().join(&rel), pdf).unwrap();
    rel.to_string_lossy().into_owned()
}

#[test]
fn a_word_longer_than_postgres_allows_is_archived_and_searched_alike_on_both_backends() {
    let long: String = "ab".repeat(1500);
    assert_eq!(long.len(), 3000);
    let pdf = text_layer_pdf(&long);
    let db = PostgresTestDb::create("long_word");
    let sqlite_env = TestEnv::generated(1);
    let pg_env = TestEnv::generated(1);
    pg_env.write_pipeline(&format!("[index]\nurl = \"{}\"\n", db.url));
    let rel = place_pdf(&sqlite_env, &pdf);
    assert_eq!(rel, place_pdf(&pg_env, &pdf));

    for (env, url) in [(&sqlite_env, None), (&pg_env, Some(db.url.as_str()))] {
        let (code, report, stderr) = env.run();
        assert_eq!(code, 0, "{report}\n{stderr}");
        assert_eq!(report["pages_text_layer"], 1, "{report}");
        // The document is whole and its text kept as it was read.
        let (code, hits, stderr) = search(env, url, &long);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0]["document"], rel.as_str());
        // Its neighbours are found with it.
        let (_, hits, _) = search(env, url, "khai sinh hộ tịch");
        assert_eq!(hits.len(), 1, "{hits:?}");
        // Nothing is left for the next run: no rerun fails on the same page.
        let (code, again, stderr) = env.run();
        assert_eq!(code, 0, "{again}\n{stderr}");
        assert_eq!(again["documents_added"], 0);
    }

    // Long searches: a 10,000-letter word and 5,000 short ones answer like any search.
    let huge_word = "x".repeat(10_000);
    let many_words = "ab ".repeat(3_334);
    for q in [huge_word.as_str(), many_words.as_str()] {
        let (s_code, s_hits, s_err) = search(&sqlite_env, None, q);
        let (p_code, p_hits, p_err) = search(&pg_env, Some(&db.url), q);
        assert_eq!(
            (s_code, p_code),
            (0, 0),
            "sqlite: {s_err}\npostgres: {p_err}"
        );
        assert!(
            !p_err.contains(&q[..50]),
            "the query is not echoed: {p_err}"
        );
        assert_eq!(s_hits.len(), p_hits.len());
    }
    // Cut the same way on both: the first 255 letters of a long word find it on both.
    let prefix = &long[..255];
    assert_eq!(search(&sqlite_env, None, prefix).1.len(), 1);
    assert_eq!(search(&pg_env, Some(&db.url), prefix).1.len(), 1);
}
