//! What several subcommands share: reading a date flag, printing JSON, writing a file whole.

use std::io::Write;
use std::path::Path;

use dossier::date::Date;

/// A wrong flag value: `main` prints it as one line and exits 2, like clap's own errors.
#[derive(Debug)]
pub(crate) struct UsageError(pub(crate) String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A `--from`/`--to` value: ISO or Vietnamese date.
pub(crate) fn date_flag(flag: &str, value: &Option<String>) -> anyhow::Result<Option<Date>> {
    value
        .as_deref()
        .map(|s| {
            Date::parse(s).ok_or_else(|| {
                UsageError(format!(
                    "{flag} {s:?} is not a date (YYYY-MM-DD or dd/mm/yyyy)"
                ))
                .into()
            })
        })
        .transpose()
}

/// `--from` and `--to`, each a date, the first not after the second.
pub(crate) fn period(
    from: &Option<String>,
    to: &Option<String>,
) -> anyhow::Result<(Option<Date>, Option<Date>)> {
    let (from, to) = (date_flag("--from", from)?, date_flag("--to", to)?);
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(UsageError(format!(
                "--from {} is after --to {}: the period is empty",
                f.iso(),
                t.iso()
            ))
            .into());
        }
    }
    Ok((from, to))
}

/// `--json`: the value, pretty-printed, on standard output. A reader that stopped reading
/// (`| head`) is not an error of ours: the rest is dropped quietly, not a panic.
pub(crate) fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("cannot write to standard output"))
        }
        _ => Ok(()),
    }
}

/// Why an output path cannot be replaced: only a regular file (or a path not there yet) is
/// ever renamed over. A device node, a directory, a FIFO, a socket or a symbolic link stays as
/// it was: a rename would swap the node itself for a file (`--output /dev/full` once left
/// `/dev/full` a regular file).
#[derive(Debug, thiserror::Error)]
#[error("{path} is {kind}, not a regular file: outputs only replace regular files")]
pub(crate) struct NotRegularOutput {
    path: String,
    kind: &'static str,
}

/// `Ok` when `path` does not exist or is a regular file (not followed if it is a link).
pub(crate) fn check_output(path: &Path) -> anyhow::Result<()> {
    match node_kind(path)? {
        None | Some("a regular file") => Ok(()),
        Some(kind) => Err(NotRegularOutput {
            path: path.display().to_string(),
            kind,
        }
        .into()),
    }
}

/// Why a folder output (`sample --output`, `export-bag --output`) cannot be written: only a
/// new path or a folder (not a link to one) is ever written into. A device node, a FIFO, a
/// socket, a regular file or a symbolic link stays exactly as it was.
#[derive(Debug, thiserror::Error)]
#[error(
    "{path} is {kind}, not a folder: folder outputs are written only into a new or empty folder"
)]
pub(crate) struct NotFolderOutput {
    path: String,
    kind: &'static str,
}

/// `Ok` when `path` does not exist or is a folder (a link, even to a folder, is refused).
pub(crate) fn check_output_folder(path: &Path) -> anyhow::Result<()> {
    match node_kind(path)? {
        None | Some("a directory") => Ok(()),
        Some(kind) => Err(NotFolderOutput {
            path: path.display().to_string(),
            kind,
        }
        .into()),
    }
}

/// What is at `path`, not following a link: `None` when nothing is.
fn node_kind(path: &Path) -> anyhow::Result<Option<&'static str>> {
    use std::os::unix::fs::FileTypeExt;
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!("cannot look at {}", path.display())))
        }
    };
    let t = meta.file_type();
    Ok(Some(if t.is_file() {
        "a regular file"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a file"
    }))
}

/// temp file beside the target, fsync, rename: a reader never sees half a report. The target
/// is checked with [`check_output`] before anything is written and again just before the
/// rename; when it is not a regular file nothing is replaced and the temp file is removed.
pub(crate) fn write_atomically(
    path: &Path,
    render: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    check_output(path)?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    let result = (|| -> anyhow::Result<()> {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        render(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        check_output(path)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
