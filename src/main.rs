//! The `dossier` binary: parse arguments, resolve the config, call the library, map the
//! outcome to an exit code (SPEC.md).

mod cli;

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;

use cli::{Cli, Command};
use dossier::config::{self, Config};
use dossier::exit_codes;
use dossier::pipeline::{self, ProgressMode};
use dossier::{ocr, query, sample};

fn main() -> ExitCode {
    reexec_with_single_omp_thread();
    // Everything the archive gets is private to its owner: dossiers hold personal data.
    // SAFETY: umask only changes this process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
    let cli = Cli::parse();
    match execute(cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("dossier: error: {e:#}");
            ExitCode::from(exit_codes::FATAL as u8)
        }
    }
}

/// libgomp reads OMP_THREAD_LIMIT once, when libtesseract loads: set it and start again, so
/// cron jobs and users get one OpenMP thread per engine without a wrapper script.
fn reexec_with_single_omp_thread() {
    if !ocr::needs_omp_reexec() {
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
    eprintln!(
        "dossier: warning: could not restart with OMP_THREAD_LIMIT=1 ({err}); OCR will be slower"
    );
}

fn execute(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Run {
            pipeline,
            jobs,
            json,
            force_ocr,
            quiet,
        } => {
            let mut config = Config::load(&pipeline)?;
            if let Some(jobs) = jobs {
                config.jobs = config::resolve_jobs(jobs);
            }
            config.force_ocr |= force_ocr;
            let mode = if quiet {
                ProgressMode::Quiet
            } else {
                ProgressMode::detect()
            };
            let report = pipeline::run(&config, mode)
                .with_context(|| format!("run of {} stopped", pipeline.display()))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            }
            Ok(if report.has_rejections() {
                exit_codes::REJECTED_INPUTS
            } else {
                exit_codes::SUCCESS
            })
        }
        Command::Search {
            archive,
            query: q,
            limit,
            json,
        } => {
            let hits = query::search(&archive, &q, limit)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&hits)?);
            } else {
                print!("{}", query::render_hits(&hits));
            }
            Ok(exit_codes::SUCCESS)
        }
        Command::Show {
            archive,
            dossier_code,
            json,
        } => {
            let view = query::show(&archive, &dossier_code)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&view)?);
            } else {
                print!("{}", query::render_dossier(&view));
            }
            Ok(exit_codes::SUCCESS)
        }
        Command::Sample {
            output,
            dossiers,
            seed,
            dpi,
            page_height_mm,
        } => {
            let opts = sample::SampleOptions {
                dossiers,
                seed,
                dpi,
                paper: sample::Paper {
                    width_mm: 210.0,
                    height_mm: page_height_mm,
                },
            };
            let manifest = sample::generate(&output, &opts)
                .with_context(|| format!("cannot write samples to {}", output.display()))?;
            let pages: usize = manifest.files.iter().map(|f| f.pages.len()).sum();
            eprintln!(
                "wrote {} files ({pages} pages), register.csv, procedures.csv and manifest.json to {}",
                manifest.files.len(),
                output.display()
            );
            Ok(exit_codes::SUCCESS)
        }
    }
}
