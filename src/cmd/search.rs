//! `dossier search QUERY`: full-text search of the archive.

use dossier::query;

use super::common::print_json;
use crate::cli::SearchArgs;
use crate::exit_codes::ExitCode;

pub(crate) fn search(args: SearchArgs, index_url: Option<&str>) -> anyhow::Result<ExitCode> {
    let hits = query::search(&args.archive, index_url, &args.query, args.limit)?;
    if args.json {
        print_json(&hits)?;
    } else {
        print!("{}", query::render_hits(&hits));
    }
    Ok(ExitCode::Success)
}
