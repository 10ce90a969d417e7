//! `dossier access-log`: who viewed which dossier on the web desk, and when (oldest first).

use dossier::query;

use super::common::print_json;
use crate::cli::AccessLogArgs;
use crate::exit_codes::ExitCode;

pub(crate) fn access_log(a: AccessLogArgs, index_url: Option<&str>) -> anyhow::Result<ExitCode> {
    let index = query::open_read_only(&a.archive, index_url)?;
    let entries = index.access_log(a.dossier.as_deref())?;
    if a.json {
        print_json(&entries)?;
    } else {
        for e in &entries {
            let clean = |s: &str| s.chars().filter(|c| !c.is_control()).collect::<String>();
            println!(
                "{}  {}  {}  {}",
                e.at,
                clean(&e.who),
                clean(&e.dossier_code),
                e.what
            );
        }
    }
    Ok(ExitCode::Success)
}
