//! Pages read again with `[ocr] foreign_languages`, end to end: what the archive keeps of them
//! and what an officer finds by searching it.

mod common;

use common::TestEnv;
use serde_json::Value;

/// A Vietnamese visa application form filled in by a foreigner in English: most words are the
/// applicant's, the labels are Vietnamese.
const VISA_FORM: &str = include_str!("common/visa_form.txt");

/// The archived text of the visa form keeps its Vietnamese labels, and a search for one of
/// them finds the form. With the English model's reading kept ("H6 chiéu sé / Passport
/// number"), the officer's search for "hộ chiếu số" misses the form, as it does not without
/// the foreign re-read (`foreign_languages = ""`).
#[test]
fn a_vietnamese_form_filled_in_english_is_found_by_its_vietnamese_labels() {
    let env = TestEnv::generated(1);
    let lines: Vec<&str> = VISA_FORM.lines().collect();
    let (form, _) = env.print_over_first_png(&lines, 200.0);

    let found = |env: &TestEnv| {
        let (code, report, stderr) = env.run();
        assert_eq!(code, 0, "{report}\n{stderr}");
        let show = env.show(&form.dossier);
        let text = show["documents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["path"].as_str() == Some(form.path.as_str()))
            .unwrap()["pages"][0]["text"]
            .as_str()
            .unwrap()
            .to_owned();
        let hits: Vec<Value> = env.search("\"hộ chiếu số\"");
        let hit = hits
            .iter()
            .any(|h| h.to_string().contains(form.path.as_str()));
        (text, hit, hits)
    };
    // Without the re-read: the labels are there and the search finds the form.
    env.write_pipeline("[ocr]\nforeign_languages = \"\"\n");
    let (text, hit, hits) = found(&env);
    assert!(text.contains("Hộ chiếu số"), "{text}");
    assert!(hit, "{hits:?}");

    // With the default (`eng`).
    std::fs::remove_dir_all(env.archive()).unwrap();
    env.write_pipeline("");
    let (text, hit, _) = found(&env);
    assert!(hit, "\"hộ chiếu số\" finds nothing in:\n{text}");
    assert!(text.contains("Hộ chiếu số"), "{text}");
}
