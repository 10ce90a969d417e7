//! `dossier sample`: sample dossiers to try the pipeline on.

use anyhow::Context as _;
use dossier::sample::{self, Paper, SampleOptions};

use crate::cli::SampleArgs;
use crate::exit_codes::ExitCode;

pub(crate) fn sample(args: SampleArgs) -> anyhow::Result<ExitCode> {
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
