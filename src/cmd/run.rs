//! `dossier run PIPELINE`: the nightly batch.
//!
//! Stopping: SIGINT/SIGTERM ask the run to wind down (cancel the page being read, drop the
//! queued ones, write the run report). Every wait of the run gives up on that request, but a
//! call into an unresponsive server (a statement on a stopped PostgreSQL) cannot be cut short
//! from outside; so a watchdog ends the process [`WIND_DOWN`] after the signal if the run has
//! not ended by then, with the same exit code. That end is safe like a power cut, which the
//! archive is built to survive: documents are committed whole or not at all, objects are
//! written by rename, and the next run closes the unfinished run and reads the rest.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use dossier::config::{self, Config};
use dossier::pipeline;

use super::progress::{Progress, ProgressMode};

use super::common::print_json;
use crate::cli::RunArgs;
use crate::exit_codes::ExitCode;

pub(crate) fn run(args: RunArgs, index_url: Option<&str>) -> anyhow::Result<ExitCode> {
    let mut config = Config::load(&args.pipeline)?;
    if let Some(jobs) = args.jobs {
        config.jobs = config::resolve_jobs(jobs);
    }
    config.force_ocr |= args.force_ocr;
    config.move_intake = args.move_intake;
    if let Some(url) = index_url {
        config.index_url = Some(url.to_owned());
    }
    let mode = ProgressMode::detect();
    super::languages::check(&config.languages, config.tessdata.as_deref())
        .map_err(anyhow::Error::msg)?;
    if !config.foreign_languages.is_empty() {
        super::languages::check_setting(
            "[ocr] foreign_languages",
            &config.foreign_languages,
            config.tessdata.as_deref(),
        )
        .map_err(anyhow::Error::msg)?;
    }
    install_stop_handlers();
    start_watchdog(&args.pipeline);
    let outcome = pipeline::run(&config, &Progress::new(mode));
    if ENDED.swap(true, Ordering::SeqCst) {
        // The watchdog is ending the process: nothing more is printed.
        loop {
            std::thread::park();
        }
    }
    let report = match outcome {
        Ok(report) => report,
        // A signal ended a wait (for the database, say) before the run could report: it
        // stopped as asked, with what it committed whole.
        Err(e) if pipeline::stop_signal().is_some() => {
            dossier::log::error(&format!(
                "dossier: run of {} stopped: {e}",
                args.pipeline.display()
            ));
            return Ok(ExitCode::from_signal(
                pipeline::stop_signal().unwrap_or("SIGTERM"),
            ));
        }
        Err(e) => {
            return Err(anyhow::Error::new(e)
                .context(format!("run of {} stopped", args.pipeline.display())))
        }
    };
    if args.json {
        print_json(&report)?;
    }
    Ok(if let Some(signal) = &report.interrupted {
        ExitCode::from_signal(signal)
    } else if report.has_rejections() {
        ExitCode::RejectedInputs
    } else {
        ExitCode::Success
    })
}

/// SIGINT and SIGTERM ask the run to stop cleanly (finish or drop the work in flight, write
/// the run report, exit 130/143); a second one stops at once, which the archive survives like
/// a power cut.
fn install_stop_handlers() {
    extern "C" fn on_signal(signal: libc::c_int) {
        use std::sync::atomic::Ordering;
        dossier::index::request_stop();
        if pipeline::INTERRUPTED_BY.swap(signal, Ordering::SeqCst) != 0 {
            // SAFETY: _exit is async-signal-safe.
            unsafe { libc::_exit(128 + signal) };
        }
    }
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only touches atomics and calls _exit.
        unsafe {
            libc::signal(signal, on_signal as *const () as libc::sighandler_t);
        }
    }
}

/// How long a run may take to wind down after a stop signal before the watchdog ends it: the
/// run stops within 2 s of the signal whatever it waits on.
const WIND_DOWN: Duration = Duration::from_millis(1500);

/// Set once, by whichever comes first: the run returning, or the watchdog ending it.
static ENDED: AtomicBool = AtomicBool::new(false);

/// Ends the process [`WIND_DOWN`] after a stop signal unless the run has returned by then.
fn start_watchdog(pipeline: &std::path::Path) {
    let line = |signal: &str| {
        format!(
            "dossier: run of {} stopped by {signal} while it waited (on the index or a file): documents committed so far are whole; the next run reads the rest\n",
            pipeline.display()
        )
    };
    let lines = [line("SIGINT"), line("SIGTERM")];
    let spawned = std::thread::Builder::new()
        .name("stop-watchdog".into())
        .spawn(move || {
            let signal = loop {
                if let Some(signal) = pipeline::stop_signal() {
                    break signal;
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            std::thread::sleep(WIND_DOWN);
            if ENDED.swap(true, Ordering::SeqCst) {
                return;
            }
            let line = &lines[usize::from(signal != "SIGINT")];
            let code = 128
                + if signal == "SIGINT" {
                    libc::SIGINT
                } else {
                    libc::SIGTERM
                };
            // SAFETY: a plain write(2) of a live buffer (not through `eprintln!`, whose lock a
            // stuck thread may hold), then _exit: no destructor runs while other threads
            // are inside Tesseract or the database driver.
            unsafe {
                libc::write(2, line.as_ptr().cast(), line.len());
                libc::_exit(code);
            }
        });
    // Without the watchdog a stop still works, only not within a bound on every wait.
    drop(spawned);
}
