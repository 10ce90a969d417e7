//! `dossier serve` (the auditors' web desk) and `dossier users` (its users).

use std::io::BufRead as _;

use anyhow::Context as _;
use dossier::index::{Index, Location};
use dossier::serve::{self, ServeError, ServeOptions};
use dossier::store::Archive;

use super::common::UsageError;
use crate::cli::{ServeArgs, UsersCommand};
use crate::exit_codes::ExitCode;

pub(crate) fn serve(a: ServeArgs, index_url: Option<&str>) -> anyhow::Result<ExitCode> {
    let opts = ServeOptions {
        archive: a.archive,
        index_url: index_url.map(str::to_owned),
        listen: a.listen,
        target_percent: a.target,
    };
    let result = serve::serve(opts, |addr| {
        // Tests and scripts read this line to find a port picked with :0.
        dossier::log::info(&format!(
            "dossier: serving the auditors' desk on http://{addr}/"
        ));
    });
    match result {
        Err(e @ ServeError::NoUsers(_)) => Err(UsageError(e.to_string()).into()),
        other => other.map(|()| ExitCode::Success).map_err(Into::into),
    }
}

/// The archive's index, opened for writing (users are kept there).
fn index_rw(archive: &std::path::Path, index_url: Option<&str>) -> anyhow::Result<Index> {
    let store = Archive::open_existing(archive, index_url.is_some())?;
    let location = Location::resolve(store.index_path(), index_url)?;
    let index = Index::open(&location, true)?;
    index.refuse_if_lost(&store)?;
    Ok(index)
}

pub(crate) fn users(c: UsersCommand, index_url: Option<&str>) -> anyhow::Result<ExitCode> {
    match c {
        UsersCommand::Add(a) => {
            if a.name.is_empty() || a.name.chars().any(|c| c.is_control() || c.is_whitespace()) {
                return Err(UsageError(format!(
                    "user name {:?}: no spaces or control characters",
                    a.name
                ))
                .into());
            }
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .context("cannot read the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            if password.chars().count() < 8 {
                return Err(UsageError(
                    "the password (standard input) needs 8 characters or more".into(),
                )
                .into());
            }
            let index = index_rw(&a.archive, index_url)?;
            let at = dossier::timefmt::now_rfc3339();
            index.set_desk_user(&a.name, &serve::hash_password(password), &at)?;
            dossier::log::info(&format!("desk user {} saved (argon2id hash)", a.name));
        }
        UsersCommand::Remove(a) => {
            if !index_rw(&a.archive, index_url)?.remove_desk_user(&a.name)? {
                anyhow::bail!("no desk user {}", a.name);
            }
        }
        UsersCommand::List(a) => {
            for name in index_rw(&a.archive, index_url)?.desk_users()? {
                println!("{name}");
            }
        }
    }
    Ok(ExitCode::Success)
}
