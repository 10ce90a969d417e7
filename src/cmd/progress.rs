//! How `dossier run` shows a run: bars on a terminal, one plain line per dossier for cron and
//! logs, nothing but warnings with `--quiet`. Never prints OCR text.

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
        if std::io::stderr().is_terminal() {
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
        match (self.bars.get(), self.mode) {
            (Some(bars), _) => {
                let _ = bars.multi.println(text);
            }
            (None, ProgressMode::Quiet) => {}
            (None, _) => eprintln!("{text}"),
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
            let _ = self.bars.set(bars(files));
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
            Notice::Warning(_) if self.bars.get().is_none() => eprintln!("{notice}"),
            _ => self.line(&notice.to_string()),
        }
    }

    fn finished(&self, report: &RunReport) {
        if let Some(b) = self.bars.get() {
            b.files.finish_and_clear();
            b.pages.finish_and_clear();
        }
        if self.mode != ProgressMode::Quiet {
            eprintln!("{}", report.summary_line());
        }
    }
}
