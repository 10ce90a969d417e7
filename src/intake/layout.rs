//! The intake layout: which folder level names the procedure, the dossier and the kind.
//!
//! `{procedure}/{dossier}/{kind}` (the default) places
//! `1.001193/000.00.01.H50-240115-0001/input/page-1.jpg`. When `{kind}` is the last level,
//! files directly in the dossier folder count as input documents.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Procedure,
    Dossier,
    Kind,
    Unit,
    /// `{*}`: a level whose name is ignored (a scanner station, a date folder, ...).
    Any,
    Literal(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pattern: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Input,
    Result,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Input => "input",
            Kind::Result => "result",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "input" => Some(Kind::Input),
            "result" => Some(Kind::Result),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where one intake file belongs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub procedure: String,
    pub dossier: String,
    pub kind: Kind,
    pub unit: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LayoutError {
    #[error("layout {0:?}: unknown placeholder {{{1}}} (use procedure, dossier, kind, unit or *)")]
    UnknownPlaceholder(String, String),
    #[error("layout {0:?} must name {{procedure}} and {{dossier}} exactly once")]
    MissingRequired(String),
    #[error("layout {0:?}: {{{1}}} appears more than once")]
    Repeated(String, String),
    #[error("layout {0:?} has an empty or unsafe level")]
    BadLevel(String),
}

impl Layout {
    pub fn parse(pattern: &str) -> Result<Layout, LayoutError> {
        let mut segments = Vec::new();
        for level in pattern.split('/') {
            let seg = if let Some(name) = level.strip_prefix('{').and_then(|l| l.strip_suffix('}'))
            {
                match name {
                    "procedure" => Segment::Procedure,
                    "dossier" => Segment::Dossier,
                    "kind" => Segment::Kind,
                    "unit" => Segment::Unit,
                    "*" => Segment::Any,
                    other => {
                        return Err(LayoutError::UnknownPlaceholder(
                            pattern.to_owned(),
                            other.to_owned(),
                        ))
                    }
                }
            } else if level.is_empty()
                || level == "."
                || level == ".."
                || level.contains(['{', '}'])
            {
                return Err(LayoutError::BadLevel(pattern.to_owned()));
            } else {
                Segment::Literal(level.to_owned())
            };
            if !matches!(seg, Segment::Any | Segment::Literal(_)) && segments.contains(&seg) {
                return Err(LayoutError::Repeated(
                    pattern.to_owned(),
                    level.trim_matches(['{', '}']).to_owned(),
                ));
            }
            segments.push(seg);
        }
        if !segments.contains(&Segment::Procedure) || !segments.contains(&Segment::Dossier) {
            return Err(LayoutError::MissingRequired(pattern.to_owned()));
        }
        Ok(Layout {
            pattern: pattern.to_owned(),
            segments,
        })
    }

    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Places a file from the folder names between the intake root and the file.
    /// The error is the reason, phrased for the run report.
    pub fn place(&self, folders: &[&str]) -> Result<Placement, String> {
        let kind_is_last = self.segments.last() == Some(&Segment::Kind);
        let segments: &[Segment] = if folders.len() == self.segments.len() {
            &self.segments
        } else if kind_is_last && folders.len() + 1 == self.segments.len() {
            &self.segments[..self.segments.len() - 1]
        } else {
            return Err(format!(
                "not in a dossier folder: expected the layout {}/FILE",
                self.pattern
            ));
        };
        let (mut procedure, mut dossier, mut unit, mut kind) = (None, None, None, Kind::Input);
        for (seg, name) in segments.iter().zip(folders) {
            match seg {
                Segment::Procedure => {
                    procedure = Some(checked_code("procedure", name)?);
                }
                Segment::Dossier => {
                    dossier = Some(checked_code("dossier", name)?);
                }
                // Composed (NFC), as the register's units are: a folder made on a system that
                // decomposes names ("Phường" as u + combining marks) is the same unit.
                Segment::Unit => unit = Some(crate::fold::nfc(name)),
                Segment::Kind => {
                    kind = Kind::parse(&name.to_lowercase()).ok_or_else(|| {
                        format!(
                            "folder {} is neither \"input\" nor \"result\"",
                            quoted(name)
                        )
                    })?;
                }
                Segment::Any => {}
                Segment::Literal(lit) => {
                    if lit != name {
                        return Err(format!(
                            "folder {} should be {} in the layout {}",
                            quoted(name),
                            quoted(lit),
                            self.pattern
                        ));
                    }
                }
            }
        }
        match (procedure, dossier) {
            (Some(procedure), Some(dossier)) => Ok(Placement {
                procedure,
                dossier,
                kind,
                unit,
            }),
            _ => Err(format!(
                "not in a dossier folder: expected the layout {}",
                self.pattern
            )),
        }
    }
}

impl Default for Layout {
    fn default() -> Self {
        Layout::parse("{procedure}/{dossier}/{kind}").expect("the default layout is valid")
    }
}

/// Procedure and dossier codes become folder names in exports and keys in the index:
/// only a conservative character set is accepted, so that no code can name a path.
pub fn validate_code(code: &str) -> Result<(), String> {
    if code.is_empty() {
        return Err("is empty".into());
    }
    if code.len() > 64 {
        return Err("is longer than 64 characters".into());
    }
    if code.starts_with('.') {
        return Err("starts with a dot".into());
    }
    if let Some(bad) = code
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
    {
        return Err(format!(
            "contains {} (allowed: letters, digits, '.', '-', '_')",
            describe_char(bad)
        ));
    }
    Ok(())
}

/// A character for a message: itself in quotes when it prints (`'ồ'`, not `'\u{1ed3}'`);
/// its code point, named, when it does not (a control character, or a combining accent
/// left alone by a name written in decomposed form, as some systems write file names).
fn describe_char(c: char) -> String {
    let combining =
        matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF);
    if c.is_control() {
        format!("the control character U+{:04X}", c as u32)
    } else if combining {
        format!(
            "the combining accent U+{:04X} (the name is in decomposed Unicode)",
            c as u32
        )
    } else {
        format!("'{c}'")
    }
}

/// Text from a name or a file for a message: in quotes, letters as letters (composed, NFC),
/// control characters escaped so that a message stays one line.
pub fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in crate::fold::nfc(text).chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

fn checked_code(what: &str, name: &str) -> Result<String, String> {
    validate_code(name).map_err(|why| format!("{what} code {} {why}", quoted(name)))?;
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOSSIER: &str = "000.00.01.H50-240115-0001";

    #[test]
    fn default_layout_places_input_and_result() {
        let layout = Layout::default();
        let p = layout.place(&["1.001193", DOSSIER, "result"]).unwrap();
        assert_eq!(
            (p.procedure.as_str(), p.dossier.as_str(), p.kind),
            ("1.001193", DOSSIER, Kind::Result)
        );
        let p = layout.place(&["1.001193", DOSSIER, "input"]).unwrap();
        assert_eq!(p.kind, Kind::Input);
        assert_eq!(p.unit, None);
    }

    #[test]
    fn files_directly_in_the_dossier_folder_are_input() {
        let p = Layout::default().place(&["1.001193", DOSSIER]).unwrap();
        assert_eq!(p.kind, Kind::Input);
        assert_eq!(p.dossier, DOSSIER);
    }

    #[test]
    fn misplaced_files_get_a_reason() {
        let layout = Layout::default();
        assert!(layout
            .place(&[])
            .unwrap_err()
            .contains("not in a dossier folder"));
        assert!(layout
            .place(&["1.001193"])
            .unwrap_err()
            .contains("not in a dossier folder"));
        assert!(layout
            .place(&["1.001193", DOSSIER, "input", "extra"])
            .unwrap_err()
            .contains("not in a dossier folder"));
        assert!(layout
            .place(&["1.001193", DOSSIER, "scans"])
            .unwrap_err()
            .contains("neither"));
    }

    #[test]
    fn hostile_codes_are_refused() {
        let layout = Layout::default();
        for bad in ["..", ".hidden", "a b", "x\u{0}y", "con\ntrol", "ư"] {
            let err = layout.place(&["1.001193", bad, "input"]).unwrap_err();
            assert!(err.contains("dossier code"), "{bad:?}: {err}");
        }
        assert!(layout
            .place(&["../etc", DOSSIER])
            .unwrap_err()
            .contains("procedure code"));
        assert!(validate_code(&"9".repeat(65)).is_err());
        assert!(validate_code(DOSSIER).is_ok());
    }

    #[test]
    fn custom_layouts_with_unit_and_literals() {
        let layout = Layout::parse("{unit}/scans/{procedure}/{dossier}/{kind}").unwrap();
        let p = layout
            .place(&["Phường 1", "scans", "2.000815", DOSSIER, "input"])
            .unwrap();
        assert_eq!(p.unit.as_deref(), Some("Phường 1"));
        let decomposed = "Phu\u{31b}o\u{31b}\u{300}ng 1";
        let p = layout
            .place(&[decomposed, "scans", "2.000815", DOSSIER, "input"])
            .unwrap();
        assert_eq!(
            p.unit.as_deref(),
            Some("Phường 1"),
            "NFC, as the register's units"
        );
        assert!(layout
            .place(&["Phường 1", "other", "2.000815", DOSSIER, "input"])
            .is_err());
        let no_kind = Layout::parse("{procedure}/{dossier}").unwrap();
        assert_eq!(
            no_kind.place(&["2.000815", DOSSIER]).unwrap().kind,
            Kind::Input
        );
        assert!(no_kind.place(&["2.000815", DOSSIER, "result"]).is_err());
    }

    #[test]
    fn bad_patterns_are_rejected() {
        assert!(matches!(
            Layout::parse("{procedure}/{kind}"),
            Err(LayoutError::MissingRequired(_))
        ));
        assert!(matches!(
            Layout::parse("{procedure}/{dossier}/{owner}"),
            Err(LayoutError::UnknownPlaceholder(..))
        ));
        assert!(matches!(
            Layout::parse("{procedure}/{dossier}/{dossier}"),
            Err(LayoutError::Repeated(..))
        ));
        assert!(matches!(
            Layout::parse("{procedure}//{dossier}"),
            Err(LayoutError::BadLevel(_))
        ));
        assert!(matches!(
            Layout::parse("../{procedure}/{dossier}"),
            Err(LayoutError::BadLevel(_))
        ));
    }

    #[test]
    fn rejected_codes_print_vietnamese_letters_as_letters() {
        let composed = "000.00.01.H50-240115-000ồ";
        let e = Layout::default()
            .place(&["1.001193", composed, "input"])
            .unwrap_err();
        assert_eq!(
            e,
            "dossier code \"000.00.01.H50-240115-000ồ\" contains 'ồ' (allowed: letters, digits, '.', '-', '_')"
        );
        // The same name in decomposed form (o, circumflex, grave): shown composed, the
        // offending accent named.
        let decomposed = "000.00.01.H50-240115-000o\u{302}\u{300}";
        let e = Layout::default()
            .place(&["1.001193", decomposed, "input"])
            .unwrap_err();
        assert!(!e.contains("\\u{"), "{e}");
        assert!(
            e.starts_with(
                "dossier code \"000.00.01.H50-240115-000ồ\" contains the combining accent U+0302"
            ),
            "{e}"
        );
        assert_eq!(quoted("a\tb\u{7}"), "\"a\\tb\\u{7}\"");
    }
}
