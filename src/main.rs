//! The `dossier` binary: parse arguments, hand them to their subcommand (one file each under
//! `cmd/`), map the outcome to an exit code (SPEC.md).

mod cli;
mod cmd;
mod exit_codes;

use clap::{CommandFactory, FromArgMatches};

use cli::{Cli, Command};
use exit_codes::ExitCode;

fn main() -> std::process::ExitCode {
    reexec_with_single_omp_thread();
    // Everything the archive gets is private to its owner: dossiers hold personal data.
    // SAFETY: umask only changes this process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
    let cli = parse();
    init_log(&cli);
    dossier::ocr::messages::install();
    match execute(cli) {
        Ok(code) => code.into(),
        Err(e) => match e.downcast_ref::<cmd::common::UsageError>() {
            Some(usage) => {
                dossier::log::error(&format!("dossier: {usage}"));
                ExitCode::Usage.into()
            }
            None => {
                dossier::log::error(&format!("dossier: error: {}", causes_once(&e)));
                ExitCode::Fatal.into()
            }
        },
    }
}

/// The arguments; `--version` also names the commit, the Tesseract and Leptonica libraries
/// loaded and the language models found (`-V`: the version alone).
fn parse() -> Cli {
    let mut command = Cli::command();
    if std::env::args_os().any(|a| a == "--version") {
        let long = format!(
            "{}\n{}",
            env!("CARGO_PKG_VERSION"),
            dossier::ocr::version::report(env!("DOSSIER_GIT_COMMIT"))
        );
        command = command.long_version(&*Box::leak(long.into_boxed_str()));
    }
    let matches = command.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

fn init_log(cli: &Cli) {
    use dossier::log::{Format, Level};
    let level = if cli.quiet {
        Level::Warn
    } else if cli.verbose {
        Level::Debug
    } else {
        Level::Info
    };
    let format = match cli.log_format {
        cli::LogFormat::Text => Format::Text,
        cli::LogFormat::Json => Format::Json,
    };
    dossier::log::init(level, format);
}

/// The error and its causes on one line, each cause said once: a message that already
/// spells out its source (`cannot read FILE: No such file or directory`) is not followed by
/// the source again.
fn causes_once(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

fn execute(cli: Cli) -> anyhow::Result<ExitCode> {
    let index_url = cli.index.as_deref();
    match cli.command {
        Command::Run(args) => cmd::run::run(args, index_url),
        Command::Report(args) => cmd::report::report(args, index_url),
        Command::Verify(args) => cmd::verify::verify(args, index_url),
        Command::ExportBag(args) => cmd::export_bag::export_bag(args, index_url),
        Command::Search(args) => cmd::search::search(args, index_url),
        Command::Show(args) => cmd::show::show(args, index_url),
        Command::RebuildIndex(args) => cmd::rebuild_index::rebuild_index(args, index_url),
        Command::Sample(args) => cmd::sample::sample(args),
        Command::CoverSheets(args) => cmd::cover_sheets::cover_sheets(args),
        Command::Serve(args) => cmd::serve::serve(args, index_url),
        Command::Audit(command) => cmd::audit::audit(command, index_url),
        Command::AccessLog(args) => cmd::access_log::access_log(args, index_url),
        Command::Users(command) => cmd::serve::users(command, index_url),
        Command::Generate(args) => cmd::generate::generate(args),
    }
}

/// libgomp reads OMP_THREAD_LIMIT once, when libtesseract loads: set it and start again, so
/// cron jobs and users get one OpenMP thread per engine without a wrapper script.
fn reexec_with_single_omp_thread() {
    if !dossier::ocr::needs_omp_reexec() {
        return;
    }
    use std::os::unix::process::CommandExt;
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let err = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env("OMP_THREAD_LIMIT", "1")
        .exec();
    // Only reached when exec failed: carry on, slower.
    dossier::log::warn(&format!(
        "dossier: could not restart with OMP_THREAD_LIMIT=1 ({err}); OCR will be slower"
    ));
}
