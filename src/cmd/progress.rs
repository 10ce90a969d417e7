//! How `dossier run` shows a run: bars on a terminal, one log line per dossier for cron and
//! logs (timestamp and level, `dossier::log`), nothing but warnings with `--quiet`. Never
//! prints OCR text. While the bars are drawn every log line goes above them.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Duration;

use dossier::pipeline::{DossierDone, Notice, Observer, RunReport};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProgressMode {
    /// Bars on a terminal.
    Bars,
    /// One plain line per dossier and a summary, for cron and logs.
    Lines,
    Quiet,
}

impl ProgressMode {
    pub(crate) fn detect() -> ProgressMode {
        use dossier::log::{self, Format, Level};
        if !log::enabled(Level::Info) {
            ProgressMode::Quiet
        } else if std::io::stderr().is_terminal() && log::format() == Format::Text {
            ProgressMode::Bars
        } else {
            ProgressMode::Lines
        }
    }
}

struct Bars {
    multi: MultiProgress,
    files: ProgressBar,
    pages: ProgressBar,
}

/// The binary's observer of a run.
pub(crate) struct Progress {
    mode: ProgressMode,
    /// Made once the work list is known, when there is work and a terminal.
    bars: OnceLock<Bars>,
}

impl Progress {
    pub(crate) fn new(mode: ProgressMode) -> Progress {
        Progress {
            mode,
            bars: OnceLock::new(),
        }
    }

    fn line(&self, text: &str) {
        if self.mode != ProgressMode::Quiet {
            dossier::log::info(text);
        }
    }
}

fn bars(files: usize) -> Bars {
    let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
    let files = multi.add(ProgressBar::new(files as u64));
    files.set_style(
        ProgressStyle::with_template("files {bar:30} {pos}/{len} {elapsed_precise} ETA {eta}")
            .expect("valid template"),
    );
    let pages = multi.add(ProgressBar::new(0));
    pages.set_style(
        ProgressStyle::with_template("pages {bar:30} {pos}/{len} {per_sec}")
            .expect("valid template"),
    );
    files.enable_steady_tick(Duration::from_millis(500));
    Bars {
        multi,
        files,
        pages,
    }
}

impl Observer for Progress {
    fn planned(&self, files: usize) {
        if self.mode == ProgressMode::Bars && files > 0 {
            let made = bars(files);
            let multi = made.multi.clone();
            dossier::log::set_sink(Some(Box::new(move |line: &str| {
                let _ = multi.println(line);
            })));
            let _ = self.bars.set(made);
        }
    }

    fn pages_planned(&self, pages: usize) {
        if let Some(b) = self.bars.get() {
            b.pages.inc_length(pages as u64);
        }
    }

    fn page_done(&self) {
        if let Some(b) = self.bars.get() {
            b.pages.inc(1);
        }
    }

    fn file_done(&self) {
        if let Some(b) = self.bars.get() {
            b.files.inc(1);
        }
    }

    fn dossier_done(&self, dossier: &DossierDone<'_>) {
        if self.mode == ProgressMode::Lines {
            self.line(&dossier.to_string());
        }
    }

    fn notice(&self, notice: &Notice<'_>) {
        match notice {
            // Warnings are shown even with --quiet.
            Notice::Warning(_) => dossier::log::warn(&notice.to_string()),
            _ => self.line(&notice.to_string()),
        }
    }

    fn finished(&self, report: &RunReport) {
        if let Some(b) = self.bars.get() {
            b.files.finish_and_clear();
            b.pages.finish_and_clear();
            dossier::log::set_sink(None);
        }
        self.line(&report.summary_line());
    }
}
