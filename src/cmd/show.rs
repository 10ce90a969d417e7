//! `dossier show DOSSIER`: one dossier with its documents, pages and evidence.

use dossier::query;

use super::common::print_json;
use crate::cli::ShowArgs;
use crate::exit_codes::ExitCode;

pub(crate) fn show(args: ShowArgs, index_url: Option<&str>) -> anyhow::Result<ExitCode> {
    let view = query::show(&args.archive, index_url, &args.dossier_code)?;
    if args.json {
        print_json(&view)?;
    } else {
        print!("{}", query::render_dossier(&view));
    }
    Ok(ExitCode::Success)
}
