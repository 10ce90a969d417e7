//! The log: what `dossier` says on standard error, one line per message, for cron, journald
//! and log collectors.
//!
//! Invariants:
//! - every line carries an ISO-8601 UTC timestamp (milliseconds) and a level: text lines read
//!   `2026-12-02T07:01:02.345Z INFO  message`, JSON lines (`--log-format json`) are one object
//!   `{"time", "level", "message"[, "file", "page", "source"]}` per line;
//! - a message is written whole with one `write` (lines from parallel workers never interleave
//!   within a line), and a message's own line breaks are folded into spaces, so one message is
//!   always one line;
//! - the level is process-wide and set once (`init`) from `--quiet` (warnings and errors),
//!   the default (info) or `--verbose` (debug, which includes Tesseract's own messages);
//! - logs carry codes, paths and counts, never OCR text (callers' duty; nothing here reads
//!   pages).
//!
//! While progress bars are drawn on a terminal, lines go through the bars' printer
//! ([`set_sink`]) so that they appear above the bars instead of through them.

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// How much is said. Ordered: a message is written when its level is at most the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }

    fn from_u8(n: u8) -> Level {
        match n {
            0 => Level::Error,
            1 => Level::Warn,
            2 => Level::Info,
            _ => Level::Debug,
        }
    }
}

/// How each line is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `TIMESTAMP LEVEL message`, for people and cron mail.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Where a message comes from when it is not dossier's own: the file being read, its page,
/// and the library that spoke (`tesseract`, `leptonica`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Origin<'a> {
    pub file: Option<&'a str>,
    pub page: Option<u32>,
    pub source: Option<&'a str>,
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);
static JSON: AtomicU8 = AtomicU8::new(0);

type Sink = Box<dyn Fn(&str) + Send + Sync>;
static SINK: OnceLock<Mutex<Option<Sink>>> = OnceLock::new();

/// Sets the process-wide level and format (once, from the command line).
pub fn init(level: Level, format: Format) {
    LEVEL.store(level as u8, Ordering::Relaxed);
    JSON.store(u8::from(format == Format::Json), Ordering::Relaxed);
}

pub fn level() -> Level {
    Level::from_u8(LEVEL.load(Ordering::Relaxed))
}

pub fn format() -> Format {
    if JSON.load(Ordering::Relaxed) == 1 {
        Format::Json
    } else {
        Format::Text
    }
}

/// Whether a message at `level` would be written.
pub fn enabled(level: Level) -> bool {
    level <= self::level()
}

/// Sends lines to `sink` (progress bars' printer) instead of standard error; `None` gives
/// standard error back.
pub fn set_sink(sink: Option<Sink>) {
    let slot = SINK.get_or_init(|| Mutex::new(None));
    *slot.lock().unwrap_or_else(|p| p.into_inner()) = sink;
}

pub fn error(message: &str) {
    log(Level::Error, message, Origin::default());
}

pub fn warn(message: &str) {
    log(Level::Warn, message, Origin::default());
}

pub fn info(message: &str) {
    log(Level::Info, message, Origin::default());
}

pub fn debug(message: &str) {
    log(Level::Debug, message, Origin::default());
}

/// Writes `message` at `level` if enabled.
pub fn log(level: Level, message: &str, origin: Origin<'_>) {
    if !enabled(level) {
        return;
    }
    let line = render(SystemTime::now(), level, message, origin, format());
    if let Some(slot) = SINK.get() {
        if let Some(sink) = slot.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            sink(&line);
            return;
        }
    }
    let mut text = line;
    text.push('\n');
    // One write per line; a closed standard error is nobody's to report to.
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// One log line (without its line break).
pub fn render(
    at: SystemTime,
    level: Level,
    message: &str,
    origin: Origin<'_>,
    format: Format,
) -> String {
    let message = one_line(message);
    let time = timestamp(at);
    match format {
        Format::Text => {
            let mut line = format!("{time} {:<5} ", level.as_str().to_uppercase());
            if let Some(source) = origin.source {
                line.push_str(source);
                line.push_str(": ");
            }
            if let Some(file) = origin.file {
                line.push_str(file);
                if let Some(page) = origin.page {
                    line.push_str(&format!(" page {page}"));
                }
                line.push_str(": ");
            }
            line.push_str(&message);
            line
        }
        Format::Json => {
            let mut object = serde_json::Map::new();
            object.insert("time".into(), time.into());
            object.insert("level".into(), level.as_str().into());
            object.insert("message".into(), message.into());
            if let Some(file) = origin.file {
                object.insert("file".into(), file.into());
            }
            if let Some(page) = origin.page {
                object.insert("page".into(), page.into());
            }
            if let Some(source) = origin.source {
                object.insert("source".into(), source.into());
            }
            serde_json::Value::Object(object).to_string()
        }
    }
}

/// Line breaks and other control characters become spaces; trailing space goes.
fn one_line(message: &str) -> String {
    message
        .trim_end()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `2026-12-02T07:01:02.345Z`
pub fn timestamp(at: SystemTime) -> String {
    let millis = at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_millis())
        .unwrap_or(0);
    let seconds = crate::timefmt::rfc3339(at);
    format!("{}.{millis:03}Z", seconds.trim_end_matches('Z'))
}

/// The message of a text log line: what follows its timestamp and level (`None` for a line
/// that is not one of the log's).
pub fn text_message(line: &str) -> Option<&str> {
    let (time, rest) = line.split_once(' ')?;
    if time.len() != 24 || !time.ends_with('Z') || time.as_bytes()[10] != b'T' {
        return None;
    }
    let (level, rest) = rest.split_once(' ')?;
    if !["ERROR", "WARN", "INFO", "DEBUG"].contains(&level) {
        return None;
    }
    Some(rest.trim_start())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at() -> SystemTime {
        // 2024-01-16T01:02:03.045Z
        UNIX_EPOCH + Duration::from_millis(1_705_366_923_045)
    }

    #[test]
    fn text_lines_start_with_an_iso_timestamp_and_a_level() {
        let line = render(
            at(),
            Level::Warn,
            "two\nlines\n",
            Origin::default(),
            Format::Text,
        );
        assert_eq!(line, "2024-01-16T01:02:03.045Z WARN  two lines");
        assert_eq!(text_message(&line), Some("two lines"));
        let info = render(at(), Level::Info, "x", Origin::default(), Format::Text);
        assert_eq!(text_message(&info), Some("x"));
        assert_eq!(text_message("dossier x done"), None);
    }

    #[test]
    fn a_library_message_names_its_file_and_page() {
        let origin = Origin {
            file: Some("1.001193/H50/input/a.png"),
            page: Some(2),
            source: Some("tesseract"),
        };
        let line = render(
            at(),
            Level::Debug,
            "Estimating resolution as 301",
            origin,
            Format::Text,
        );
        assert!(
            line.ends_with(
                "DEBUG tesseract: 1.001193/H50/input/a.png page 2: Estimating resolution as 301"
            ),
            "{line}"
        );
        let json = render(
            at(),
            Level::Debug,
            "Too few \"characters\"",
            origin,
            Format::Json,
        );
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["time"], "2024-01-16T01:02:03.045Z");
        assert_eq!(v["level"], "debug");
        assert_eq!(v["message"], "Too few \"characters\"");
        assert_eq!(v["file"], "1.001193/H50/input/a.png");
        assert_eq!(v["page"], 2);
        assert_eq!(v["source"], "tesseract");
        assert!(!json.contains('\n'));
    }

    #[test]
    fn levels_are_ordered_from_error_to_debug() {
        assert!(Level::Error < Level::Warn && Level::Warn < Level::Info);
        assert!(Level::Info < Level::Debug);
    }
}
