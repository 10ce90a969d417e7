//! Reading an intake file exactly as the walk listed it.
//!
//! Between the walk and the read the intake may change under the run: a scanner still
//! writing, a file replaced by a FIFO or a device. The file is opened without blocking and
//! without following a link, checked to be a regular file once open, and read; then its size
//! and mtime must still be what the walk saw, and the bytes read must be that size. Anything
//! else is not archived this run: the next run reads the file once it has settled.

use std::fs::Metadata;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::time::UNIX_EPOCH;

use super::Candidate;

/// Why a listed file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a regular file (a {0} was put there after the intake was listed)")]
    NotRegular(&'static str),
    /// The file is being written: not an input error, it waits for the next run.
    #[error("changed while being read ({0}): left for the next run")]
    Changed(String),
}

/// A file's modification time in nanoseconds since the epoch, as the stat cache keeps it.
pub(crate) fn mtime_ns(meta: &Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos().min(i64::MAX as u128) as i64)
}

/// Reads `candidate` whole, as listed (see the module doc).
pub(crate) fn read_listed(candidate: &Candidate) -> Result<Vec<u8>, ReadError> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(&candidate.abs_path)?;
    let before = file.metadata()?;
    let kind = before.file_type();
    if !kind.is_file() {
        return Err(ReadError::NotRegular(if kind.is_fifo() {
            "FIFO"
        } else if kind.is_socket() {
            "socket"
        } else if kind.is_char_device() || kind.is_block_device() {
            "device"
        } else {
            "folder"
        }));
    }
    let mut bytes = Vec::with_capacity(before.len().min(1 << 30) as usize);
    file.read_to_end(&mut bytes)?;
    let after = file.metadata()?;
    check_unchanged(candidate, &after, bytes.len() as u64)?;
    Ok(bytes)
}

fn check_unchanged(candidate: &Candidate, now: &Metadata, read: u64) -> Result<(), ReadError> {
    if now.len() != candidate.bytes || read != candidate.bytes {
        return Err(ReadError::Changed(format!(
            "{} bytes when listed, {} read, {} now",
            candidate.bytes,
            read,
            now.len()
        )));
    }
    if mtime_ns(now) != candidate.mtime_ns {
        return Err(ReadError::Changed("modified since it was listed".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::layout::{Kind, Placement};

    fn listed(path: &std::path::Path) -> Candidate {
        let meta = std::fs::symlink_metadata(path).expect("exists");
        Candidate {
            rel_path: "p/d/input/f".into(),
            abs_path: path.to_owned(),
            placement: Placement {
                procedure: "p".into(),
                dossier: "d".into(),
                kind: Kind::Input,
                unit: None,
            },
            bytes: meta.len(),
            mtime_ns: mtime_ns(&meta),
            batch: false,
        }
    }

    #[test]
    fn a_file_as_listed_is_read_whole() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("scan.png");
        std::fs::write(&path, b"12345").expect("written");
        assert_eq!(read_listed(&listed(&path)).expect("reads"), b"12345");
    }

    #[test]
    fn a_file_that_grew_since_the_walk_waits_for_the_next_run() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("scan.png");
        std::fs::write(&path, b"12345").expect("written");
        let candidate = listed(&path);
        std::fs::write(&path, b"1234567890").expect("rewritten");
        let err = read_listed(&candidate).expect_err("changed");
        assert!(matches!(err, ReadError::Changed(_)), "{err}");
        assert!(
            err.to_string().contains("5 bytes when listed, 10 read"),
            "{err}"
        );
    }

    #[test]
    fn a_file_touched_since_the_walk_waits_for_the_next_run() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("scan.png");
        std::fs::write(&path, b"12345").expect("written");
        let mut candidate = listed(&path);
        candidate.mtime_ns -= 1_000_000_000;
        let err = read_listed(&candidate).expect_err("changed");
        assert_eq!(
            err.to_string(),
            "changed while being read (modified since it was listed): left for the next run"
        );
    }

    #[test]
    fn a_fifo_swapped_in_after_the_walk_is_refused_without_blocking() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("scan.png");
        std::fs::write(&path, b"12345").expect("written");
        let candidate = listed(&path);
        std::fs::remove_file(&path).expect("removed");
        let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: mkfifo reads a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let err = read_listed(&candidate).expect_err("a FIFO is no document");
        assert_eq!(
            err.to_string(),
            "not a regular file (a FIFO was put there after the intake was listed)"
        );
    }

    #[test]
    fn a_link_swapped_in_after_the_walk_is_not_followed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("scan.png");
        std::fs::write(&path, b"12345").expect("written");
        let candidate = listed(&path);
        std::fs::remove_file(&path).expect("removed");
        std::os::unix::fs::symlink("/etc/passwd", &path).expect("link");
        let err = read_listed(&candidate).expect_err("links are not followed");
        assert!(matches!(err, ReadError::Io(_)), "{err}");
    }
}
