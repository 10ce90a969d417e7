//! `dossier rebuild-index --archive DIR`: the index made again from the evidence.

use anyhow::Context as _;
use dossier::fixity::rebuild;

use super::common::print_json;
use crate::cli::RebuildIndexArgs;
use crate::exit_codes::ExitCode;

pub(crate) fn rebuild_index(
    args: RebuildIndexArgs,
    index_url: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let done = rebuild::rebuild_index(&args.archive, index_url)
        .with_context(|| format!("cannot rebuild the index of {}", args.archive.display()))?;
    if args.json {
        print_json(&done)?;
    }
    for m in &done.mismatches {
        dossier::log::warn(&format!("does not give back its evidence record: {m}"));
    }
    dossier::log::info(&format!(
        "rebuilt: {} ledger entries, {} runs, {} documents ({} pages), {} imports; run `dossier verify` next",
        done.ledger_entries, done.runs, done.documents, done.pages, done.imports
    ));
    Ok(if done.mismatches.is_empty() {
        ExitCode::Success
    } else {
        ExitCode::VerifyFindings
    })
}
