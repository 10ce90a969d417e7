//! The `dossier` binary: parse arguments, resolve the config, call the library, map the
//! outcome to an exit code (SPEC.md).

mod cli;
mod progress;

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;

use cli::{Cli, Command, ReportArgs};
use dossier::config::{self, Config};
use dossier::exit_codes;
use dossier::pipeline;
use dossier::{ocr, query, sample};
use progress::{Progress, ProgressMode};

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

/// SIGINT and SIGTERM ask the run to stop cleanly (finish or drop the work in flight, write
/// the run report, exit 130/143); a second one stops at once, which the archive survives like
/// a power cut.
fn install_stop_handlers() {
    extern "C" fn on_signal(signal: libc::c_int) {
        use std::sync::atomic::Ordering;
        if pipeline::INTERRUPTED_BY.swap(signal, Ordering::SeqCst) != 0 {
            // SAFETY: _exit is async-signal-safe.
            unsafe { libc::_exit(128 + signal) };
        }
    }
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only touches an atomic and calls _exit.
        unsafe {
            libc::signal(signal, on_signal as *const () as libc::sighandler_t);
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
    let index_url = cli.index.as_deref();
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
            if let Some(url) = index_url {
                config.index_url = Some(url.to_owned());
            }
            let mode = if quiet {
                ProgressMode::Quiet
            } else {
                ProgressMode::detect()
            };
            install_stop_handlers();
            let report = pipeline::run(&config, &Progress::new(mode))
                .with_context(|| format!("run of {} stopped", pipeline.display()))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            }
            Ok(if let Some(signal) = &report.interrupted {
                if signal == "SIGINT" {
                    130
                } else {
                    143
                }
            } else if report.has_rejections() {
                exit_codes::REJECTED_INPUTS
            } else {
                exit_codes::SUCCESS
            })
        }
        Command::Report(args) => report(args, index_url),
        Command::Verify {
            archive,
            fast,
            json,
        } => {
            use dossier::fixity::{self, Mode};
            let mode = if fast { Mode::Fast } else { Mode::Full };
            let report = fixity::verify(&archive, index_url, mode)
                .with_context(|| format!("cannot verify {}", archive.display()))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                for f in &report.findings {
                    println!(
                        "{}: {}{}{}: {}",
                        f.kind,
                        f.file.as_deref().unwrap_or("-"),
                        f.dossier_code
                            .as_deref()
                            .map(|d| format!(" dossier {d}"))
                            .unwrap_or_default(),
                        f.document
                            .as_deref()
                            .map(|d| format!(" document {d}"))
                            .unwrap_or_default(),
                        f.detail
                    );
                }
                eprintln!(
                    "verify ({:?}): {} objects, {} bytes read, {} documents, {} findings{}",
                    report.mode,
                    report.objects_checked,
                    report.bytes_read,
                    report.documents,
                    report.findings.len(),
                    if report.recorded {
                        ""
                    } else {
                        " (read-only archive: this check is not recorded)"
                    }
                );
            }
            Ok(if report.clean() {
                exit_codes::SUCCESS
            } else {
                exit_codes::VERIFY_FINDINGS
            })
        }
        Command::ExportBag {
            archive,
            output,
            from,
            to,
            procedure,
        } => {
            use dossier::date::Date;
            use dossier::fixity::bag::{export_bag, BagFilter};
            let filter = BagFilter {
                from: date_flag("--from", &from)?,
                to: date_flag("--to", &to)?,
                procedure,
            };
            let today = Date(
                dossier::timefmt::unix_seconds(std::time::SystemTime::now()).div_euclid(86_400),
            );
            let summary = export_bag(&archive, index_url, &output, &filter, today)?;
            eprintln!(
                "bag {}: {} dossiers, {} documents, {} payload files, {} bytes",
                summary.output,
                summary.dossiers,
                summary.documents,
                summary.payload_files,
                summary.payload_bytes
            );
            Ok(exit_codes::SUCCESS)
        }
        Command::Search {
            archive,
            query: q,
            limit,
            json,
        } => {
            let hits = query::search(&archive, index_url, &q, limit)?;
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
            let view = query::show(&archive, index_url, &dossier_code)?;
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
        Command::CoverSheets { output, codes } => {
            let mut parsed = Vec::with_capacity(codes.len());
            for code in &codes {
                match dossier::cover::parse(code) {
                    Ok(c) => parsed.push(c),
                    Err(reason) => {
                        eprintln!("dossier: {code:?}: {reason}");
                        return Ok(exit_codes::USAGE);
                    }
                }
            }
            write_atomically(&output, |w| Ok(dossier::cover::sheets_pdf(&parsed, w)?))
                .with_context(|| format!("cannot write {}", output.display()))?;
            eprintln!(
                "wrote {} cover sheets to {}",
                parsed.len(),
                output.display()
            );
            Ok(exit_codes::SUCCESS)
        }
    }
}

fn report(a: ReportArgs, index_url: Option<&str>) -> anyhow::Result<i32> {
    use dossier::coverage::{self, render, GroupBy, RegisterSource, ReportOptions};
    let config = a.pipeline.as_deref().map(Config::load).transpose()?;
    let archive = a
        .archive
        .or_else(|| config.as_ref().map(|c| c.archive.clone()))
        .context("give --archive or --pipeline")?;
    let opts = ReportOptions {
        from: date_flag("--from", &a.from)?,
        to: date_flag("--to", &a.to)?,
        by: match a.by {
            cli::By::Procedure => GroupBy::Procedure,
            cli::By::Unit => GroupBy::Unit,
        },
        target_percent: a
            .target
            .or_else(|| config.as_ref().map(|c| c.target_percent))
            .unwrap_or(99.0),
    };
    if !(0.0..=100.0).contains(&opts.target_percent) {
        anyhow::bail!("--target {} is out of range 0..=100", opts.target_percent);
    }
    let lang = match a.lang {
        Some(cli::Lang::En) => render::Lang::En,
        Some(cli::Lang::Vi) => render::Lang::Vi,
        None if config.as_ref().is_some_and(|c| c.report_language == "en") => render::Lang::En,
        None => render::Lang::Vi,
    };
    let index_url = index_url.or(config.as_ref().and_then(|c| c.index_url.as_deref()));
    let index = query::open_read_only(&archive, index_url)?;
    let mut names = index.procedure_names()?;
    if let Some(catalog) = &a.catalog {
        let (rows, problems) = dossier::register::read_catalog(catalog)?;
        for p in &problems {
            eprintln!(
                "catalog {} line {}: {}",
                catalog.display(),
                p.line,
                p.reason
            );
        }
        names.extend(rows.into_iter().map(|r| (r.procedure_code, r.name)));
    }
    let source = match &a.register {
        Some(path) => RegisterSource::File(path),
        None => RegisterSource::Index,
    };
    let computed = coverage::compute(&index, source, &names, &opts)?;
    for p in &computed.problems {
        eprintln!(
            "register {} line {}: {}",
            a.register
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            p.line,
            p.reason
        );
    }
    if !computed.with_register {
        eprintln!("no register: rates are over the dossiers in the archive (received date from the dossier code)");
    }
    let r = &computed.report;
    if a.format == cli::Format::Xlsx
        && a.output.is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stdout())
    {
        anyhow::bail!("xlsx is a binary format: give --output FILE.xlsx");
    }
    // Written as it is produced: a million-row report's JSON never sits in memory whole.
    let render = |w: &mut dyn std::io::Write| -> anyhow::Result<()> {
        match a.format {
            cli::Format::Json => render::json_to(r, w)?,
            cli::Format::Csv => w.write_all(render::csv(r).as_bytes())?,
            cli::Format::Table => w.write_all(render::table(r, opts.by, lang).as_bytes())?,
            cli::Format::Html => w.write_all(render::html(r, opts.by, lang).as_bytes())?,
            cli::Format::Xlsx => {
                w.write_all(&render::xlsx(r, opts.by, lang).context("cannot build the workbook")?)?
            }
        }
        Ok(())
    };
    match &a.output {
        Some(path) => write_atomically(path, render)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            render(&mut w)?;
            std::io::Write::flush(&mut w)?;
        }
    }
    Ok(if computed.problems.is_empty() {
        exit_codes::SUCCESS
    } else {
        exit_codes::REJECTED_INPUTS
    })
}

/// temp file beside the target, fsync, rename: a reader never sees half a report.
fn write_atomically(
    path: &std::path::Path,
    render: impl FnOnce(&mut dyn std::io::Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    let result = (|| -> anyhow::Result<()> {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        render(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A `--from`/`--to` value: ISO or Vietnamese date.
fn date_flag(flag: &str, value: &Option<String>) -> anyhow::Result<Option<dossier::date::Date>> {
    value
        .as_deref()
        .map(|s| {
            dossier::date::Date::parse(s)
                .with_context(|| format!("{flag} {s:?} is not a date (YYYY-MM-DD or dd/mm/yyyy)"))
        })
        .transpose()
}
