//! `dossier report`: digitization coverage, rendered in the format asked for.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use dossier::config::Config;
use dossier::coverage::render::{self, Lang};
use dossier::coverage::{self, CoverageReport, GroupBy, RegisterSource, ReportOptions};
use dossier::index::Index;
use dossier::query;

use super::common::{period, write_atomically, UsageError};
use crate::cli::{self, Format, ReportArgs};
use crate::exit_codes::ExitCode;

pub(crate) fn report(a: ReportArgs, index_url: Option<&str>) -> anyhow::Result<ExitCode> {
    let config = a.pipeline.as_deref().map(Config::load).transpose()?;
    let archive = a
        .archive
        .clone()
        .or_else(|| config.as_ref().map(|c| c.archive.clone()))
        .context("give --archive or --pipeline")?;
    let opts = options(&a, config.as_ref())?;
    let lang = language(a.lang, config.as_ref());
    let index_url = index_url.or(config.as_ref().and_then(|c| c.index_url.as_deref()));
    let index = query::open_read_only(&archive, index_url)?;
    let names = procedure_names(&index, a.catalog.as_deref())?;
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
    write_report(&a, &computed.report, opts.by, lang)?;
    Ok(if computed.problems.is_empty() {
        ExitCode::Success
    } else {
        ExitCode::RejectedInputs
    })
}

/// The period, grouping and target: flags first, then the pipeline file, then defaults.
fn options(a: &ReportArgs, config: Option<&Config>) -> anyhow::Result<ReportOptions> {
    let (from, to) = period(&a.from, &a.to)?;
    let opts = ReportOptions {
        from,
        to,
        by: match a.by {
            cli::By::Procedure => GroupBy::Procedure,
            cli::By::Unit => GroupBy::Unit,
        },
        target_percent: a
            .target
            .or_else(|| config.map(|c| c.target_percent))
            .unwrap_or(99.0),
    };
    if !(0.0..=100.0).contains(&opts.target_percent) {
        return Err(UsageError(format!(
            "--target {} is out of range 0..=100",
            opts.target_percent
        ))
        .into());
    }
    Ok(opts)
}

/// `--lang`, else the pipeline's [report] language, else Vietnamese.
fn language(flag: Option<cli::Lang>, config: Option<&Config>) -> Lang {
    match flag {
        Some(cli::Lang::En) => Lang::En,
        Some(cli::Lang::Vi) => Lang::Vi,
        None if config.is_some_and(|c| c.report_language == "en") => Lang::En,
        None => Lang::Vi,
    }
}

/// Procedure names from the index, completed by `--catalog` (its problems printed).
fn procedure_names(
    index: &Index,
    catalog: Option<&Path>,
) -> anyhow::Result<HashMap<String, String>> {
    let mut names = index.procedure_names()?;
    if let Some(catalog) = catalog {
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
    Ok(names)
}

/// To `--output` (atomically) or standard output.
fn write_report(a: &ReportArgs, r: &CoverageReport, by: GroupBy, lang: Lang) -> anyhow::Result<()> {
    if a.format == Format::Xlsx
        && a.output.is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stdout())
    {
        anyhow::bail!("xlsx is a binary format: give --output FILE.xlsx");
    }
    // Written as it is produced: a million-row report's JSON never sits in memory whole.
    let render = |w: &mut dyn Write| render_to(w, a.format, r, by, lang);
    match &a.output {
        Some(path) => write_atomically(path, render)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            render(&mut w)?;
            w.flush()?;
        }
    }
    Ok(())
}

fn render_to(
    w: &mut dyn Write,
    format: Format,
    r: &CoverageReport,
    by: GroupBy,
    lang: Lang,
) -> anyhow::Result<()> {
    match format {
        Format::Json => render::json_to(r, w)?,
        Format::Csv => w.write_all(render::csv(r).as_bytes())?,
        Format::Table => w.write_all(render::table(r, by, lang).as_bytes())?,
        Format::Html => w.write_all(render::html(r, by, lang).as_bytes())?,
        Format::Xlsx => {
            w.write_all(&render::xlsx(r, by, lang).context("cannot build the workbook")?)?
        }
    }
    Ok(())
}
