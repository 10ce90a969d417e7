//! `dossier cover-sheets CODE...`: a PDF of cover sheets for batch scans.

use anyhow::Context as _;

use super::common::write_atomically;
use crate::cli::CoverSheetsArgs;
use crate::exit_codes::ExitCode;

pub(crate) fn cover_sheets(args: CoverSheetsArgs) -> anyhow::Result<ExitCode> {
    let mut parsed = Vec::with_capacity(args.codes.len());
    for code in &args.codes {
        match dossier::cover::parse(code) {
            Ok(c) => parsed.push(c),
            Err(reason) => {
                dossier::log::error(&format!(
                    "dossier: {}: {reason}",
                    dossier::intake::layout::quoted(code)
                ));
                return Ok(ExitCode::Usage);
            }
        }
    }
    let output = &args.output;
    write_atomically(output, |w| Ok(dossier::cover::sheets_pdf(&parsed, w)?))
        .with_context(|| format!("cannot write {}", output.display()))?;
    dossier::log::info(&format!(
        "wrote {} cover sheets to {}",
        parsed.len(),
        output.display()
    ));
    Ok(ExitCode::Success)
}
