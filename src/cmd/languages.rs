//! Before a run does any work: every language of `languages = "vie+eng"` has its model.
//!
//! Tesseract loads what it finds of a `+` list and reads on without the rest (`vie+xyz` reads
//! with `vie` alone, exit 0, nothing said), so each part is looked for first. Where Tesseract
//! looks: `[ocr] tessdata` when set, else `TESSDATA_PREFIX` when it exists, else its built-in
//! folder. The first two are checked as files (no model loaded: a rerun over an unchanged
//! intake stays cheap); for the built-in folder the usual places are checked as files, and
//! only when a model is in none of them is Tesseract itself asked (a probe loading the list:
//! which languages it loaded, and its folder), so an unusual installation is never refused by
//! a guess.

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};

use tesseract_sys as sys;

/// Built-in tessdata folders of the usual packages (Debian 12, Debian 11, Fedora, source).
const USUAL_FOLDERS: &[&str] = &[
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
];

/// `Err` with one line naming each missing model and the folder it was looked for in.
pub(crate) fn check(languages: &str, tessdata: Option<&Path>) -> Result<(), String> {
    check_setting("[pipeline] languages", languages, tessdata)
}

/// [`check`] of the languages of `setting` (`[ocr] foreign_languages`), which the message names.
pub(crate) fn check_setting(
    setting: &str,
    languages: &str,
    tessdata: Option<&Path>,
) -> Result<(), String> {
    let parts: Vec<&str> = languages.split('+').collect();
    let env = std::env::var_os("TESSDATA_PREFIX")
        .map(PathBuf::from)
        .filter(|p| p.exists());
    let (folders, exact) = match (tessdata, env) {
        (Some(t), _) => (vec![t.to_owned()], true),
        (None, Some(e)) => (vec![e], true),
        (None, None) => (USUAL_FOLDERS.iter().map(PathBuf::from).collect(), false),
    };
    let found = |lang: &str| {
        folders
            .iter()
            .any(|f| f.join(format!("{lang}.traineddata")).is_file())
    };
    let mut missing: Vec<&str> = parts.iter().copied().filter(|l| !found(l)).collect();
    let mut looked = folders
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if !missing.is_empty() && !exact {
        match probe(languages) {
            Some((loaded, datapath)) => {
                missing.retain(|l| !loaded.iter().any(|x| x == l));
                looked = datapath;
            }
            None => looked = format!("{looked} (and Tesseract's own folder)"),
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = missing.iter().map(|l| format!("{l}.traineddata")).collect();
    // Tesseract names languages with three letters (ISO 639-2): `vi` is surely `vie`.
    let meant: Vec<(&str, &str)> = missing
        .iter()
        .filter_map(|l| three_letter(l).map(|t| (*l, t)))
        .collect();
    let hint = if meant.is_empty() {
        String::new()
    } else {
        format!(
            "; Tesseract names languages with three letters: {}",
            meant
                .iter()
                .map(|(l, t)| format!("\"{l}\" is \"{t}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let key = setting.rsplit(' ').next().unwrap_or(setting);
    Err(format!(
        "{key} = \"{languages}\": no Tesseract model {} in {looked}{hint}: install it (Debian: {}) or correct {setting} / [ocr] tessdata",
        names.join(", "),
        missing
            .iter()
            .map(|&l| debian_package(three_letter(l).unwrap_or(l)))
            .collect::<Vec<_>>()
            .join(" ")
    ))
}

/// Debian's package of a Tesseract model: `tesseract-ocr-vie`, `tesseract-ocr-chi-sim`.
fn debian_package(model: &str) -> String {
    format!("tesseract-ocr-{}", model.replace('_', "-").to_lowercase())
}

/// Tesseract's name for a two-letter (ISO 639-1) code people write instead, for the
/// languages an office in Vietnam may meet.
fn three_letter(code: &str) -> Option<&'static str> {
    Some(match code.to_lowercase().as_str() {
        "vi" => "vie",
        "en" => "eng",
        "fr" => "fra",
        "zh" => "chi_sim",
        "ja" => "jpn",
        "ko" => "kor",
        "km" => "khm",
        "lo" => "lao",
        "th" => "tha",
        "ru" => "rus",
        "de" => "deu",
        _ => return None,
    })
}

/// Asks Tesseract which of `languages` it loads from its built-in folder, and that folder.
/// `None` when it loads none of them (the folder is then unknown).
fn probe(languages: &str) -> Option<(Vec<String>, String)> {
    let lang = CString::new(languages).ok()?;
    // SAFETY: plain C API calls on a handle created and deleted here; the returned strings
    // are copied before the handle is deleted, the array freed with Tesseract's own call.
    unsafe {
        let handle = sys::TessBaseAPICreate();
        if handle.is_null() {
            return None;
        }
        // Tesseract's complaint about the missing file is ours to say, once.
        sys::TessBaseAPISetVariable(handle, c"debug_file".as_ptr(), c"/dev/null".as_ptr());
        let mut out = None;
        if sys::TessBaseAPIInit3(handle, std::ptr::null(), lang.as_ptr()) == 0 {
            let mut loaded = Vec::new();
            let array = sys::TessBaseAPIGetLoadedLanguagesAsVector(handle);
            if !array.is_null() {
                let mut i = 0;
                while !(*array.add(i)).is_null() {
                    loaded.push(CStr::from_ptr(*array.add(i)).to_string_lossy().into_owned());
                    i += 1;
                }
                sys::TessDeleteTextArray(array);
            }
            let path = sys::TessBaseAPIGetDatapath(handle);
            let path = if path.is_null() {
                String::new()
            } else {
                CStr::from_ptr(path).to_string_lossy().into_owned()
            };
            out = Some((loaded, path.trim_end_matches('/').to_owned()));
        }
        sys::TessBaseAPIDelete(handle);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_part_of_the_list_needs_its_model() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("vie.traineddata"), b"x").unwrap();
        assert_eq!(check("vie", Some(dir.path())), Ok(()));
        let e = check("vie+xyz", Some(dir.path())).unwrap_err();
        assert!(
            e.contains("xyz.traineddata")
                && !e.contains("vie.traineddata")
                && e.contains(&dir.path().display().to_string())
                && e.contains("tesseract-ocr-xyz"),
            "{e}"
        );
        // Without a folder: Tesseract's own, where Debian's vie is and xyz is not.
        assert_eq!(check("vie", None), Ok(()));
        let e = check("vie+xyz", None).unwrap_err();
        assert!(e.contains("xyz.traineddata in /"), "{e}");
    }

    /// `languages = "vi"` names the package that holds Vietnamese, `tesseract-ocr-vie`.
    #[test]
    fn a_two_letter_code_is_told_its_three_letter_name_and_package() {
        let dir = tempfile::tempdir().unwrap();
        let e = check("vi", Some(dir.path())).unwrap_err();
        assert!(
            e.contains("vi.traineddata")
                && e.contains("\"vi\" is \"vie\"")
                && e.contains("(Debian: tesseract-ocr-vie)")
                && !e.contains("tesseract-ocr-vi "),
            "{e}"
        );
        let e = check("vie+zh", Some(dir.path())).unwrap_err();
        assert!(e.contains("tesseract-ocr-vie tesseract-ocr-chi-sim"), "{e}");
    }

    /// A missing foreign model names its own setting, and the way to read without it.
    #[test]
    fn a_missing_foreign_model_names_its_setting() {
        let dir = tempfile::tempdir().unwrap();
        let e = check_setting("[ocr] foreign_languages", "eng", Some(dir.path())).unwrap_err();
        assert!(
            e.starts_with("foreign_languages = \"eng\": no Tesseract model eng.traineddata")
                && e.contains("tesseract-ocr-eng")
                && e.contains("or correct [ocr] foreign_languages"),
            "{e}"
        );
    }
}
