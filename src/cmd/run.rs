//! `dossier run PIPELINE`: the nightly batch.

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
    install_stop_handlers();
    let report = match pipeline::run(&config, &Progress::new(mode)) {
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
