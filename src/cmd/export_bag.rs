//! `dossier export-bag`: dossiers as a BagIt bag for another archive.

use dossier::date::Date;
use dossier::fixity::bag::{self, BagFilter};

use dossier::intake::guard::canonical;

use super::common::{check_output_folder, period, UsageError};
use crate::cli::ExportBagArgs;
use crate::exit_codes::ExitCode;

pub(crate) fn export_bag(args: ExportBagArgs, index_url: Option<&str>) -> anyhow::Result<ExitCode> {
    let (from, to) = period(&args.from, &args.to)?;
    // A bag goes only into a folder or a new path: never through a link, onto a device node.
    check_output_folder(&args.output)?;
    // A bag inside the archive would be untracked files there: verify's findings for ever.
    let (out, archive) = (canonical(&args.output), canonical(&args.archive));
    if out.starts_with(&archive) {
        return Err(UsageError(format!(
            "--output {} is inside the archive {}: write the bag outside it",
            args.output.display(),
            args.archive.display()
        ))
        .into());
    }
    let filter = BagFilter {
        from,
        to,
        procedure: args.procedure,
    };
    let today =
        Date(dossier::timefmt::unix_seconds(std::time::SystemTime::now()).div_euclid(86_400));
    let summary = bag::export_bag(&args.archive, index_url, &args.output, &filter, today)?;
    dossier::log::info(&format!(
        "bag {}: {} dossiers, {} documents, {} payload files, {} bytes",
        summary.output,
        summary.dossiers,
        summary.documents,
        summary.payload_files,
        summary.payload_bytes
    ));
    Ok(ExitCode::Success)
}
