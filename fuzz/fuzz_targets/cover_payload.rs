//! The cover-sheet payload parser: any text read from a barcode is a cover sheet with safe
//! codes, an invalid cover sheet named by a fixed reason (never the text), or page content;
//! never a panic.
#![no_main]
use dossier::cover::{classify, parse, CodeError, Part, Reading, Rule, MARKER};
use libfuzzer_sys::fuzz_target;

/// Every reason an invalid cover sheet can be given: none holds anything of the payload.
fn all_reasons() -> Vec<String> {
    let mut errors = vec![CodeError::Version, CodeError::Shape, CodeError::Kind];
    for part in [Part::Procedure, Part::Dossier] {
        for rule in [
            Rule::Empty,
            Rule::TooLong,
            Rule::LeadingDot,
            Rule::Character,
            Rule::Other,
        ] {
            errors.push(CodeError::Code { part, rule });
        }
    }
    errors.iter().map(ToString::to_string).collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match classify(text) {
        Reading::Cover(code) => {
            let valid = dossier::intake::layout::validate_code;
            assert!(valid(&code.procedure).is_ok() && valid(&code.dossier).is_ok());
            let bare = text.strip_prefix(MARKER).unwrap_or(text);
            let input = format!("{}/{}/input", code.procedure, code.dossier);
            assert!(bare == code.text() || bare == input, "{text:?}");
            assert_eq!(parse(text).as_ref(), Ok(&code));
            assert_eq!(classify(&code.payload()), Reading::Cover(code));
        }
        Reading::Invalid(error) => {
            assert!(text.starts_with("TBHS"), "{text:?}");
            assert!(all_reasons().contains(&error.to_string()), "{error}");
            assert_eq!(parse(text), Err(error));
        }
        Reading::Page => assert!(!text.starts_with(MARKER), "{text:?}"),
        Reading::Unreadable => panic!("a payload read is never unreadable"),
    }
});
