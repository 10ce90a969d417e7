//! `dossier sample`: sample dossiers to try the pipeline on.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use dossier::config::Config;
use dossier::sample::{self, Paper, SampleOptions};

use super::common::{check_output_folder, UsageError};
use crate::cli::SampleArgs;
use crate::exit_codes::ExitCode;

/// Page heights accepted, in millimetres: from a receipt to an A1 drawing (the page is drawn
/// in memory, so the bound also bounds the memory).
const PAGE_HEIGHT_MM: std::ops::RangeInclusive<f32> = 50.0..=841.0;

pub(crate) fn sample(args: SampleArgs) -> anyhow::Result<ExitCode> {
    if !PAGE_HEIGHT_MM.contains(&args.page_height_mm) {
        return Err(UsageError(format!(
            "--page-height-mm {} is out of range {}..={}",
            args.page_height_mm,
            PAGE_HEIGHT_MM.start(),
            PAGE_HEIGHT_MM.end()
        ))
        .into());
    }
    refuse_pipeline_folders(&args)?;
    // Written only into a folder or a new path: never through a link, onto a device node.
    check_output_folder(&args.output)?;
    // The sample set replaces nothing: register.csv and intake files of a folder in use
    // (another sample, a real intake) are never overwritten.
    let holds = std::fs::read_dir(&args.output)
        .map(|d| d.count())
        .unwrap_or(0);
    if holds > 0 {
        return Err(UsageError(format!(
            "--output {} is not empty ({holds} entries): sample writes into a new or empty folder",
            args.output.display()
        ))
        .into());
    }
    let opts = SampleOptions {
        dossiers: args.dossiers,
        seed: args.seed,
        dpi: args.dpi,
        paper: Paper {
            width_mm: 210.0,
            height_mm: args.page_height_mm,
        },
    };
    let output = &args.output;
    let manifest = sample::generate(output, &opts)
        .with_context(|| format!("cannot write samples to {}", output.display()))?;
    let pages: usize = manifest.files.iter().map(|f| f.pages.len()).sum();
    dossier::log::info(&format!(
        "wrote {} files ({pages} pages), register.csv, procedures.csv and manifest.json to {}",
        manifest.files.len(),
        output.display()
    ));
    Ok(ExitCode::Success)
}

/// The installed pipeline, looked at when no `--pipeline` is given.
const INSTALLED_PIPELINE: &str = "/etc/dossier/pipeline.toml";

/// Sample dossiers written into a pipeline's intake would be archived as real ones the next
/// night (and its register.csv rejected as a stray file); into its archive they would be
/// files the archive does not know. Either is refused, naming the pipeline.
fn refuse_pipeline_folders(args: &SampleArgs) -> anyhow::Result<()> {
    let pipeline = match &args.pipeline {
        Some(p) => p.clone(),
        None if Path::new(INSTALLED_PIPELINE).is_file() => PathBuf::from(INSTALLED_PIPELINE),
        None => return Ok(()),
    };
    let config = match Config::load(&pipeline) {
        Ok(c) => c,
        // The installed example may be unreadable to this user: nothing to compare with.
        Err(_) if args.pipeline.is_none() => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let output = resolved(&args.output);
    for (what, folder) in [("intake", &config.intake), ("archive", &config.archive)] {
        let folder = resolved(folder);
        if output.starts_with(&folder) || folder.starts_with(&output) {
            return Err(UsageError(format!(
                "--output {} is in or around the {what} of {} ({}): samples go to a folder of their own",
                args.output.display(),
                pipeline.display(),
                folder.display()
            ))
            .into());
        }
    }
    Ok(())
}

/// `path` made absolute with its links resolved as far as it exists (the rest appended), so
/// that `intake/../intake/x` and a link to the intake compare equal.
fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            return rest.iter().rev().fold(real, |p, part| p.join(part));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return absolute,
        }
    }
}
