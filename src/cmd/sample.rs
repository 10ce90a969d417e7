//! `dossier sample`: sample dossiers to try the pipeline on.

use anyhow::Context as _;
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
    eprintln!(
        "wrote {} files ({pages} pages), register.csv, procedures.csv and manifest.json to {}",
        manifest.files.len(),
        output.display()
    );
    Ok(ExitCode::Success)
}
