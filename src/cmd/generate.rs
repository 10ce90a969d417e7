//! `dossier generate man|completions DIR` (hidden; for packagers): man pages and shell
//! completions made from the clap definitions themselves, so that they name every subcommand
//! and option the binary has, no more and no fewer.
//!
//! Man pages: `dossier.1`, and `dossier-SUB.1` for each visible subcommand (`dossier-audit-
//! sample.1` for nested ones), each written atomically. Completions: `dossier.bash`,
//! `dossier.fish` and `_dossier` (zsh). Hidden subcommands (this one) get no man page
//! (clap_complete still completes them in fish).

use std::path::Path;

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::{Cli, GenerateArgs, Generated};
use crate::exit_codes::ExitCode;

pub(crate) fn generate(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot make {}", args.dir.display()))?;
    let written = match args.what {
        Generated::Man => man_pages(&args.dir)?,
        Generated::Completions => completions(&args.dir)?,
    };
    dossier::log::info(&format!(
        "wrote {written} files into {}",
        args.dir.display()
    ));
    Ok(ExitCode::Success)
}

/// The command as users see it: hidden subcommands left out.
pub(crate) fn command() -> clap::Command {
    let mut cmd = Cli::command();
    cmd.build();
    cmd
}

fn man_pages(dir: &Path) -> anyhow::Result<usize> {
    let cmd = command();
    let mut count = 0;
    write_pages(&cmd, "dossier", dir, &mut count)?;
    Ok(count)
}

fn write_pages(
    cmd: &clap::Command,
    name: &str,
    dir: &Path,
    count: &mut usize,
) -> anyhow::Result<()> {
    // clap takes static names; this subcommand runs once per package build.
    let static_name: &'static str = Box::leak(name.to_owned().into_boxed_str());
    let page = cmd.clone().name(static_name);
    let mut bytes = Vec::new();
    clap_mangen::Man::new(page).render(&mut bytes)?;
    write_atomically(&dir.join(format!("{name}.1")), &bytes)?;
    *count += 1;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.get_name() == "help" {
            continue;
        }
        write_pages(sub, &format!("{name}-{}", sub.get_name()), dir, count)?;
    }
    Ok(())
}

fn completions(dir: &Path) -> anyhow::Result<usize> {
    use clap_complete::Shell;
    let shells = [
        (Shell::Bash, "dossier.bash"),
        (Shell::Fish, "dossier.fish"),
        (Shell::Zsh, "_dossier"),
    ];
    for (shell, file) in shells {
        let mut cmd = command();
        let mut bytes = Vec::new();
        clap_complete::generate(shell, &mut cmd, "dossier", &mut bytes);
        write_atomically(&dir.join(file), &bytes)?;
    }
    Ok(shells.len())
}

/// Temp file, fsync, rename: a packaging run that stops never leaves half a page.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every option and positional of every subcommand has a help text (the man pages and
    /// `--help` are all a clerk has on a server).
    #[test]
    fn every_argument_has_a_help_text() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} --{id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_about().is_none() && sub.get_name() != "help" {
                    missing.push(format!("{path} {} (no about)", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&command(), "dossier", &mut missing);
        assert!(missing.is_empty(), "without help: {missing:#?}");
    }

    fn visible_subcommands(cmd: &clap::Command) -> Vec<String> {
        cmd.get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
            .map(|s| s.get_name().to_owned())
            .collect()
    }

    #[test]
    fn man_pages_and_completions_name_every_subcommand() {
        let dir = tempfile::tempdir().unwrap();
        let pages = man_pages(dir.path()).unwrap();
        completions(dir.path()).unwrap();
        let cmd = command();
        let top = std::fs::read_to_string(dir.path().join("dossier.1")).unwrap();
        let bash = std::fs::read_to_string(dir.path().join("dossier.bash")).unwrap();
        let fish = std::fs::read_to_string(dir.path().join("dossier.fish")).unwrap();
        let zsh = std::fs::read_to_string(dir.path().join("_dossier")).unwrap();
        let subs = visible_subcommands(&cmd);
        assert!(subs.contains(&"run".to_owned()) && subs.contains(&"verify".to_owned()));
        // One page per subcommand, nested ones included, and the top page.
        assert!(
            pages > subs.len(),
            "{pages} pages for {} subcommands",
            subs.len()
        );
        for sub in &subs {
            let page = dir.path().join(format!("dossier-{sub}.1"));
            let text = std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{page:?}: {e}"));
            assert!(text.starts_with(".ie") || text.contains(".TH"), "{page:?}");
            // roff escapes the hyphens of `export-bag`.
            assert!(
                top.contains(&sub.replace('-', "\\-")),
                "dossier.1 lacks {sub}"
            );
            assert!(bash.contains(sub.as_str()), "bash lacks {sub}");
            assert!(fish.contains(&format!("-a \"{sub}\"")), "fish lacks {sub}");
            assert!(zsh.contains(&format!("'{sub}:")), "zsh lacks {sub}");
        }
        // Nested subcommands get their own page; the hidden one gets none.
        assert!(dir.path().join("dossier-audit-sample.1").is_file());
        assert!(!dir.path().join("dossier-generate.1").exists());
        // clap_complete lists hidden subcommands in fish too; the man pages leave them out.
        assert!(!top.contains("dossier\\-generate"));
        // The global log options are in the pages and the completions.
        let run = std::fs::read_to_string(dir.path().join("dossier-run.1")).unwrap();
        for option in ["verbose", "quiet", "log\\-format"] {
            assert!(run.contains(option), "dossier-run.1 lacks {option}");
        }
        assert!(bash.contains("--log-format") && fish.contains("log-format"));
    }
}
