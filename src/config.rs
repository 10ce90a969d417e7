//! The pipeline file (`pipelines/*.toml`) → a resolved, validated [`Config`].
//!
//! Relative paths resolve against the pipeline file's folder; command-line flags override
//! the file (the CLI applies them to the resolved config).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::intake::layout::{Layout, LayoutError};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read pipeline file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("pipeline file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("pipeline file {path}: {source}")]
    Layout { path: PathBuf, source: LayoutError },
    #[error("pipeline file {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineFile {
    pipeline: PipelineSection,
    register: Option<PathSection>,
    catalog: Option<PathSection>,
    #[serde(default)]
    quality: QualitySection,
    #[serde(default)]
    intake: IntakeSection,
    #[serde(default)]
    ocr: OcrSection,
    #[serde(default)]
    report: ReportSection,
    #[serde(default)]
    index: IndexSection,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct IndexSection {
    /// `postgres://user:password@host/dbname`: a shared index for many workers.
    url: Option<String>,
    /// How long a worker's claim on a file lasts without renewal (it renews every third).
    lease_seconds: Option<u64>,
    /// How long connecting to the shared index may take (default 10 s).
    connect_timeout_seconds: Option<u64>,
    /// How long one statement may take on the shared index (default 60 s).
    statement_timeout_seconds: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ReportSection {
    /// `vi` (default) or `en`: the language of table, html and xlsx reports.
    language: Option<String>,
    /// The office the reports are for, printed at their top.
    office: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineSection {
    name: String,
    intake: PathBuf,
    archive: PathBuf,
    layout: Option<String>,
    languages: Option<String>,
    jobs: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PathSection {
    path: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QualitySection {
    #[serde(default = "default_min_dpi")]
    min_dpi: u32,
    #[serde(default = "default_target")]
    target_percent: f64,
    /// Mean OCR word confidence below which a page is illegible (0..=100).
    #[serde(default = "default_min_confidence")]
    min_confidence: f32,
}

impl Default for QualitySection {
    fn default() -> Self {
        QualitySection {
            min_dpi: default_min_dpi(),
            target_percent: default_target(),
            min_confidence: default_min_confidence(),
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct IntakeSection {
    /// A file modified less than this many seconds ago may still be growing: left for the next run.
    settle_seconds: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct OcrSection {
    /// Folder holding `*.traineddata`; Tesseract's compiled-in default when absent.
    tessdata: Option<PathBuf>,
    /// Turn sideways or upside-down pages upright and level skewed ones before OCR.
    correct_pages: Option<bool>,
    /// Languages that re-read a page whose reading is plainly not Vietnamese; "" for none.
    foreign_languages: Option<String>,
}

/// `vie`, `vie+eng`: Tesseract model names joined with `+`.
fn is_language_list(languages: &str) -> bool {
    !languages.is_empty()
        && languages
            .split('+')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

fn default_min_confidence() -> f32 {
    crate::decode::quality::DEFAULT_MIN_CONFIDENCE
}

fn default_min_dpi() -> u32 {
    200
}

fn default_target() -> f64 {
    99.0
}

pub const DEFAULT_SETTLE_SECONDS: u64 = 10;

/// Everything `run` needs, with paths made absolute.
#[derive(Debug, Clone)]
pub struct Config {
    pub name: String,
    pub intake: PathBuf,
    pub archive: PathBuf,
    pub layout: Layout,
    pub languages: String,
    /// Resolved worker count (never 0).
    pub jobs: usize,
    pub register: Option<PathBuf>,
    pub catalog: Option<PathBuf>,
    pub min_dpi: u32,
    /// Mean OCR word confidence below which a page with words is illegible.
    pub min_confidence: f32,
    pub target_percent: f64,
    pub settle: Duration,
    pub tessdata: Option<PathBuf>,
    pub force_ocr: bool,
    /// Orientation (OSD) and skew correction before OCR; on unless `[ocr] correct_pages = false`.
    pub correct_pages: bool,
    /// `[ocr] foreign_languages` (default `eng+vie`): the model that re-reads a page whose
    /// reading is plainly not Vietnamese (`ocr::language`); empty: none.
    pub foreign_languages: String,
    /// `vi` or `en`.
    pub report_language: String,
    /// Whether the pipeline file names the report language (then csv follows it too).
    pub report_language_set: bool,
    /// `[report] office`: printed at the top of human-facing reports.
    pub report_office: Option<String>,
    /// A shared (PostgreSQL) index; `None`: the archive's own SQLite file.
    pub index_url: Option<String>,
    /// How long a claim lasts unrenewed: a dead worker's files wait this long.
    pub lease: Duration,
    /// `run --move-intake`: the archive is moved to this pipeline's intake on purpose (it
    /// records the intake it belongs to and refuses any other).
    pub move_intake: bool,
    /// Connect and statement time limits of the shared index.
    pub index_timeouts: crate::index::Timeouts,
}

pub const DEFAULT_LEASE_SECONDS: u64 = 120;

impl QualitySection {
    /// Every threshold in its range, else the line that says which is not.
    fn check(&self) -> Result<(), String> {
        if self.min_dpi == 0 || self.min_dpi > 2400 {
            return Err(format!(
                "[quality] min_dpi {} is out of range 1..=2400",
                self.min_dpi
            ));
        }
        if !(0.0..=100.0).contains(&self.min_confidence) {
            return Err(format!(
                "[quality] min_confidence {} is out of range 0..=100",
                self.min_confidence
            ));
        }
        if !(0.0..=100.0).contains(&self.target_percent) {
            return Err(format!(
                "[quality] target_percent {} is out of range 0..=100",
                self.target_percent
            ));
        }
        Ok(())
    }
}

/// `[report] language`: `vi` (the default) or `en`.
fn report_language(language: Option<String>) -> Result<String, String> {
    match language.as_deref() {
        None => Ok("vi".to_owned()),
        Some("vi" | "en") => Ok(language.unwrap_or_default()),
        Some(other) => Err(format!(
            "[report] language {other:?} is not \"vi\" or \"en\""
        )),
    }
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::from_toml(&text, path)
    }

    /// Parses pipeline-file text; `path` names the file in messages and anchors relative paths.
    pub fn from_toml(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let file: PipelineFile = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.message().to_owned()
                + &e.span()
                    .map(|s| format!(" (line {})", line_of(text, s.start)))
                    .unwrap_or_default(),
        })?;
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        let base = path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        let base = std::path::absolute(&base).unwrap_or(base);
        let resolve = |p: &Path| normalize(&base.join(p));

        let p = file.pipeline;
        if p.name.trim().is_empty() {
            return Err(invalid("[pipeline] name is empty".into()));
        }
        let layout = Layout::parse(
            p.layout
                .as_deref()
                .unwrap_or("{procedure}/{dossier}/{kind}"),
        )
        .map_err(|source| ConfigError::Layout {
            path: path.to_owned(),
            source,
        })?;
        let languages = p.languages.unwrap_or_else(|| "vie".to_owned());
        if !is_language_list(&languages) {
            return Err(invalid(format!(
                "[pipeline] languages {languages:?} is not a Tesseract language list like \"vie\" or \"vie+eng\""
            )));
        }
        let foreign_languages = file
            .ocr
            .foreign_languages
            .clone()
            .unwrap_or_else(|| "eng+vie".to_owned());
        if !foreign_languages.is_empty() && !is_language_list(&foreign_languages) {
            return Err(invalid(format!(
                "[ocr] foreign_languages {foreign_languages:?} is not a Tesseract language list like \"eng\" (or \"\" for none)"
            )));
        }
        let q = file.quality;
        q.check().map_err(invalid)?;
        let report_language_set = file.report.language.is_some();
        let report_language = report_language(file.report.language).map_err(invalid)?;
        let index_url = file.index.url.clone();
        if let Some(url) = &index_url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(invalid(
                    "[index] url is not a postgres://user@host/dbname URL".into(),
                ));
            }
        }
        let lease_seconds = file.index.lease_seconds.unwrap_or(DEFAULT_LEASE_SECONDS);
        if !(1..=86_400).contains(&lease_seconds) {
            return Err(invalid(format!(
                "[index] lease_seconds {lease_seconds} is out of range 1..=86400"
            )));
        }
        let index_timeouts = index_timeouts(&file.index).map_err(invalid)?;
        Ok(Config {
            move_intake: false,
            index_url,
            lease: Duration::from_secs(lease_seconds),
            index_timeouts,
            report_language,
            report_language_set,
            report_office: file.report.office.filter(|o| !o.trim().is_empty()),
            name: p.name,
            intake: resolve(&p.intake),
            archive: resolve(&p.archive),
            layout,
            languages,
            jobs: resolve_jobs(p.jobs.unwrap_or(0)),
            register: file.register.map(|r| resolve(&r.path)),
            catalog: file.catalog.map(|c| resolve(&c.path)),
            min_dpi: q.min_dpi,
            min_confidence: q.min_confidence,
            target_percent: q.target_percent,
            settle: Duration::from_secs(
                file.intake.settle_seconds.unwrap_or(DEFAULT_SETTLE_SECONDS),
            ),
            tessdata: file.ocr.tessdata.map(|t| resolve(&t)),
            correct_pages: file.ocr.correct_pages.unwrap_or(true),
            foreign_languages,
            force_ocr: false,
        })
    }
}

/// `0` means one worker per core.
pub fn resolve_jobs(jobs: usize) -> usize {
    if jobs == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        jobs
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Removes `.` and `..` components lexically, so that logs show clean paths.
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `[index] connect_timeout_seconds` and `statement_timeout_seconds`, each 1..=86400 s, or
/// the defaults; the message when one is out of range.
fn index_timeouts(section: &IndexSection) -> Result<crate::index::Timeouts, String> {
    let defaults = crate::index::Timeouts::default();
    let seconds = |value: Option<u64>, name: &str, default: Duration| match value {
        None => Ok(default),
        Some(s) if (1..=86_400).contains(&s) => Ok(Duration::from_secs(s)),
        Some(s) => Err(format!("[index] {name} {s} is out of range 1..=86400")),
    };
    Ok(crate::index::Timeouts {
        connect: seconds(
            section.connect_timeout_seconds,
            "connect_timeout_seconds",
            defaults.connect,
        )?,
        statement: seconds(
            section.statement_timeout_seconds,
            "statement_timeout_seconds",
            defaults.statement,
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
[pipeline]
name = "dong-ha-nightly"
intake = "../samples/intake"
archive = "../archive"
layout = "{procedure}/{dossier}/{kind}"
languages = "vie"
jobs = 2

[register]
path = "../samples/register.csv"

[quality]
min_dpi = 300
target_percent = 95.5
"#;

    #[test]
    fn resolves_paths_against_the_file_folder() {
        let cfg =
            Config::from_toml(SAMPLE, Path::new("/srv/dossier/pipelines/nightly.toml")).unwrap();
        assert_eq!(cfg.intake, PathBuf::from("/srv/dossier/samples/intake"));
        assert_eq!(cfg.archive, PathBuf::from("/srv/dossier/archive"));
        assert_eq!(
            cfg.register,
            Some(PathBuf::from("/srv/dossier/samples/register.csv"))
        );
        assert_eq!(cfg.catalog, None);
        assert_eq!((cfg.min_dpi, cfg.target_percent, cfg.jobs), (300, 95.5, 2));
        assert_eq!(cfg.settle, Duration::from_secs(DEFAULT_SETTLE_SECONDS));
    }

    #[test]
    fn defaults_follow_the_spec() {
        let text = "[pipeline]\nname = \"x\"\nintake = \"in\"\narchive = \"out\"\n";
        let cfg = Config::from_toml(text, Path::new("/p/x.toml")).unwrap();
        assert_eq!(cfg.languages, "vie");
        assert_eq!(cfg.foreign_languages, "eng+vie");
        assert_eq!(cfg.min_dpi, 200);
        assert_eq!(cfg.target_percent, 99.0);
        assert!(cfg.jobs >= 1);
        assert_eq!(cfg.layout, Layout::default());
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let path = Path::new("/p/bad.toml");
        let err = Config::from_toml("[pipeline]\nname = \"x\"\nintake = 3\n", path).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("/p/bad.toml") && msg.contains("line 3"),
            "{msg}"
        );
        let err = Config::from_toml(&SAMPLE.replace("jobs = 2", "jobz = 2"), path).unwrap_err();
        assert!(err.to_string().contains("jobz"), "{err}");
        let err =
            Config::from_toml(&SAMPLE.replace("min_dpi = 300", "min_dpi = 0"), path).unwrap_err();
        assert!(err.to_string().contains("min_dpi"), "{err}");
        let err = Config::from_toml(&SAMPLE.replace("\"vie\"", "\"vie; rm\""), path).unwrap_err();
        assert!(err.to_string().contains("languages"), "{err}");
        let err =
            Config::from_toml(&SAMPLE.replace("{kind}\"", "{kind}/{bogus}\""), path).unwrap_err();
        assert!(err.to_string().contains("bogus"), "{err}");
        let err = Config::from_toml(&format!("{SAMPLE}\n[index]\nurl = \"mysql://x\"\n"), path)
            .unwrap_err();
        assert!(err.to_string().contains("[index] url"), "{err}");
        let err = Config::from_toml(&format!("{SAMPLE}\n[index]\nlease_seconds = 0\n"), path)
            .unwrap_err();
        assert!(err.to_string().contains("lease_seconds"), "{err}");
        let err = Config::from_toml(
            &format!("{SAMPLE}\n[ocr]\nforeign_languages = \"e g\"\n"),
            path,
        )
        .unwrap_err();
        assert!(err.to_string().contains("[ocr] foreign_languages"), "{err}");
    }

    #[test]
    fn foreign_pages_may_be_left_to_the_main_languages() {
        let text = format!("{SAMPLE}\n[ocr]\nforeign_languages = \"\"\n");
        let cfg = Config::from_toml(&text, Path::new("/p/x.toml")).unwrap();
        assert_eq!(cfg.foreign_languages, "");
    }

    #[test]
    fn a_shared_index_is_named_in_the_index_section() {
        let path = Path::new("/p/ok.toml");
        let cfg = Config::from_toml(SAMPLE, path).unwrap();
        assert_eq!(cfg.index_url, None);
        assert_eq!(cfg.lease, Duration::from_secs(DEFAULT_LEASE_SECONDS));
        let cfg = Config::from_toml(
            &format!("{SAMPLE}\n[index]\nurl = \"postgres://u@db/archive\"\nlease_seconds = 30\n"),
            path,
        )
        .unwrap();
        assert_eq!(cfg.index_url.as_deref(), Some("postgres://u@db/archive"));
        assert_eq!(cfg.lease, Duration::from_secs(30));
    }

    #[test]
    fn index_timeouts_default_and_are_bounded() {
        let path = Path::new("/p/ok.toml");
        let cfg = Config::from_toml(SAMPLE, path).unwrap();
        assert_eq!(cfg.index_timeouts.connect, Duration::from_secs(10));
        assert_eq!(cfg.index_timeouts.statement, Duration::from_secs(60));
        let cfg = Config::from_toml(
            &format!(
                "{SAMPLE}\n[index]\nconnect_timeout_seconds = 3\nstatement_timeout_seconds = 5\n"
            ),
            path,
        )
        .unwrap();
        assert_eq!(cfg.index_timeouts.connect, Duration::from_secs(3));
        assert_eq!(cfg.index_timeouts.statement, Duration::from_secs(5));
        let err = Config::from_toml(
            &format!("{SAMPLE}\n[index]\nstatement_timeout_seconds = 0\n"),
            path,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("statement_timeout_seconds"),
            "{err}"
        );
    }
}
