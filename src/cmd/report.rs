//! `dossier report`: digitization coverage, rendered in the format asked for.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use dossier::config::Config;
use dossier::coverage::render::{self, Heading, Lang};
use dossier::coverage::{self, CoverageReport, GroupBy, RegisterSource, ReportOptions};
use dossier::date::Date;
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
    let register_name = match &a.register {
        Some(path) => path.display().to_string(),
        None => "(imported by the latest run)".to_owned(),
    };
    for p in &computed.report.register_problems {
        dossier::log::warn(&format!(
            "register {register_name} line {}: {}",
            p.line, p.reason
        ));
    }
    if !computed.with_register {
        dossier::log::info(
            "no register: rates are over the dossiers in the archive (received date from the dossier code)",
        );
    }
    let heading = Heading {
        by: opts.by,
        lang,
        office: config.as_ref().and_then(|c| c.report_office.as_deref()),
        printed_on: Some(printing_date()?),
    };
    // Machine CSV unless Vietnamese is asked for by name (scripts read the default).
    let csv_lang = match a.lang {
        Some(cli::Lang::Vi) => Some(Lang::Vi),
        Some(cli::Lang::En) => None,
        None => config
            .as_ref()
            .filter(|c| c.report_language == "vi" && c.report_language_set)
            .map(|_| Lang::Vi),
    };
    write_report(&a, &computed.report, &heading, csv_lang)?;
    Ok(if computed.report.register_problems.is_empty() {
        ExitCode::Success
    } else {
        ExitCode::RejectedInputs
    })
}

/// Today (UTC), or the day of `SOURCE_DATE_EPOCH` when it is set, so that a report can be
/// made again byte for byte.
fn printing_date() -> anyhow::Result<Date> {
    let seconds = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => v.trim().parse::<i64>().map_err(|_| {
            UsageError(format!(
                "SOURCE_DATE_EPOCH {v:?} is not a number of seconds"
            ))
        })?,
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
    };
    Ok(Date(seconds.div_euclid(86_400)))
}

/// The period, grouping and target: flags first, then the pipeline file, then defaults.
fn options(a: &ReportArgs, config: Option<&Config>) -> anyhow::Result<ReportOptions> {
    let (from, to) = period(&a.from, &a.to)?;
    let target =
        match &a.target {
            Some(t) => t.trim().replace(',', ".").parse::<f64>().map_err(|_| {
                UsageError(format!("--target {t:?} is not a number like 99 or 99,5"))
            })?,
            None => config.map(|c| c.target_percent).unwrap_or(99.0),
        };
    let opts = ReportOptions {
        from,
        to,
        by: match a.by {
            cli::By::Procedure => GroupBy::Procedure,
            cli::By::Unit => GroupBy::Unit,
            cli::By::Month => GroupBy::Month,
        },
        target_percent: target,
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
            dossier::log::warn(&format!(
                "catalog {} line {}: {}",
                catalog.display(),
                p.line,
                p.reason
            ));
        }
        names.extend(rows.into_iter().map(|r| (r.procedure_code, r.name)));
    }
    Ok(names)
}

/// To `--output` (atomically) or standard output.
fn write_report(
    a: &ReportArgs,
    r: &CoverageReport,
    heading: &Heading<'_>,
    csv_lang: Option<Lang>,
) -> anyhow::Result<()> {
    if a.format == Format::Xlsx
        && a.output.is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stdout())
    {
        anyhow::bail!("xlsx is a binary format: give --output FILE.xlsx");
    }
    // Written as it is produced: a million-row report's JSON never sits in memory whole.
    let render = |w: &mut dyn Write| render_to(w, a.format, r, heading, csv_lang);
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
    heading: &Heading<'_>,
    csv_lang: Option<Lang>,
) -> anyhow::Result<()> {
    match format {
        Format::Json => render::json_to(r, w)?,
        Format::Csv => w.write_all(&render::csv(r, csv_lang))?,
        Format::Table => w.write_all(render::table(r, heading).as_bytes())?,
        Format::Html => w.write_all(render::html(r, heading).as_bytes())?,
        Format::Xlsx => {
            w.write_all(&render::xlsx(r, heading).context("cannot build the workbook")?)?
        }
    }
    Ok(())
}
