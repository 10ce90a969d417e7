//! Pages read again with `[ocr] foreign_languages`, end to end: what the archive keeps of them
//! and what an officer finds by searching it.

mod common;

use common::TestEnv;
use dossier::sample::render::{render_page, Fonts, Line, Paper};
use serde_json::Value;

/// A Vietnamese visa application form filled in by a foreigner in English: most words are the
/// applicant's, the labels are Vietnamese.
const VISA_FORM: [&str; 12] = [
    "TỜ KHAI ĐỀ NGHỊ CẤP THỊ THỰC VIỆT NAM / VISA APPLICATION FORM",
    "1. Họ tên / Full name: JOHN MICHAEL WILLIAMS",
    "2. Quốc tịch / Nationality: AUSTRALIAN",
    "3. Nghề nghiệp / Occupation: senior software engineer with a mining company",
    "4. Nơi làm việc / Employer: ACME MINING PTY LTD, LEVEL 12, 200 GEORGE STREET, SYDNEY",
    "5. Địa chỉ thường trú / Permanent address: 45 PITT STREET, SYDNEY, NEW SOUTH WALES",
    "6. Hộ chiếu số / Passport number: PA1234567, issued by the Australian Passport Office",
    "7. Mục đích nhập cảnh / Purpose of entry: to visit the family of my wife and to attend",
    "the wedding of her younger brother, then to travel with them for two weeks",
    "8. Người bảo lãnh / Sponsor: my wife's parents, who live in the city with her brother",
    "9. Trẻ em đi cùng / Accompanying children: our son and our daughter, both under ten",
    "10. Ghi chú / Notes: we will stay at the house of the family for the whole of the visit",
];

/// The archived text of the visa form keeps its Vietnamese labels, and a search for one of
/// them finds the form. With the English model's reading kept ("H6 chiéu sé / Passport
/// number"), the officer's search for "hộ chiếu số" misses the form, as it does not without
/// the foreign re-read (`foreign_languages = ""`).
#[test]
fn a_vietnamese_form_filled_in_english_is_found_by_its_vietnamese_labels() {
    let env = TestEnv::generated(1);
    let form = env
        .manifest
        .files
        .iter()
        .find(|f| f.path.ends_with(".png"))
        .expect("a PNG among the generated files")
        .clone();
    let fonts = Fonts::find().unwrap();
    let lines: Vec<Line> = VISA_FORM.iter().map(|l| Line::body(*l)).collect();
    let paper = Paper {
        width_mm: 210.0,
        height_mm: 200.0,
    };
    render_page(&fonts, &lines, paper, 300)
        .0
        .save(env.intake().join(&form.path))
        .unwrap();

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
