//! Reading an intake file exactly as the walk listed it.
//!
//! Between the walk and the read the intake may change under the run: a scanner still
//! writing, a file replaced by a FIFO or a device. The file is opened without blocking and
//! without following a link, checked to be a regular file once open, and read; then its size
//! and mtime must still be what the walk saw, and the bytes read must be that size. Anything
//! else is not archived this run: the next run reads the file once it has settled.
//!
//! The file is read by streaming, in chunks, each chunk hashed and then kept: in memory when
//! the listed size is at most the caller's `keep` (the pages are decoded from that copy), or
//! else written on to a spill (the archive's scratch file), so memory stays flat in the size
//! of the file. What is kept is exactly what was hashed (the same chunks, in order). Reading
//! stops as soon as more bytes come than were listed: a growing file is never read whole.

use std::fs::Metadata;
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::time::UNIX_EPOCH;

use sha2::{Digest, Sha256};

use super::Candidate;

/// The size of the chunks a file is read in.
const CHUNK: usize = 1 << 20;

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
    /// The spill could not be made or written (the archive's disk, not the intake file).
    #[error("cannot write the copy of the file: {0}")]
    Spill(std::io::Error),
}

/// What a listed file held, as read: its SHA-256, and the content itself.
pub(crate) struct Listed<W> {
    /// Lower-case hex SHA-256 of every byte read.
    pub sha256: String,
    /// The first bytes (at most 16), to tell the format when the content is not in memory.
    pub head: Vec<u8>,
    pub content: Content<W>,
}

/// Where the bytes of a listed file went.
pub(crate) enum Content<W> {
    /// The whole file, in memory (it was at most `keep` bytes).
    Memory(Vec<u8>),
    /// The whole file, written to the spill (it was larger than `keep`).
    Spilled(W),
}

/// A file's modification time in nanoseconds since the epoch, as the stat cache keeps it.
pub(crate) fn mtime_ns(meta: &Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos().min(i64::MAX as u128) as i64)
}

/// Reads `candidate` as listed (see the module doc), hashing it on the way: into memory when
/// it was listed at `keep` bytes or less, otherwise into the writer `spill` makes.
pub(crate) fn read_listed<W: Write>(
    candidate: &Candidate,
    keep: u64,
    spill: impl FnOnce() -> std::io::Result<W>,
) -> Result<Listed<W>, ReadError> {
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
    let mut content = if candidate.bytes <= keep {
        Content::Memory(Vec::with_capacity(candidate.bytes as usize))
    } else {
        Content::Spilled(spill().map_err(ReadError::Spill)?)
    };
    let mut hasher = Sha256::new();
    let mut head = Vec::new();
    let mut buf = vec![0u8; CHUNK];
    let mut read = 0u64;
    // One byte past the listed size is enough to know the file grew.
    while read <= candidate.bytes {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        let chunk = &buf[..n];
        hasher.update(chunk);
        if head.len() < 16 {
            head.extend_from_slice(&chunk[..chunk.len().min(16 - head.len())]);
        }
        match &mut content {
            Content::Memory(bytes) => bytes.extend_from_slice(chunk),
            Content::Spilled(w) => w.write_all(chunk).map_err(ReadError::Spill)?,
        }
        read += n as u64;
    }
    let after = file.metadata()?;
    check_unchanged(candidate, &after, read)?;
    if let Content::Spilled(w) = &mut content {
        w.flush().map_err(ReadError::Spill)?;
    }
    Ok(Listed {
        sha256: format!("{:x}", hasher.finalize()),
        head,
        content,
    })
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

    /// Reads `candidate` into memory, whatever its size.
    fn read_whole(candidate: &Candidate) -> Result<Vec<u8>, ReadError> {
        match read_listed(candidate, u64::MAX, || Ok(Vec::new()))?.content {
            Content::Memory(bytes) => Ok(bytes),
            Content::Spilled(_) => panic!("kept in memory"),
        }
    }

    /// Reads `candidate` through a spill, whatever its size: (hash, head, what was spilled).
    fn read_spilled(candidate: &Candidate) -> Result<(String, Vec<u8>, Vec<u8>), ReadError> {
        let listed = read_listed(candidate, 0, || Ok(Vec::new()))?;
        match listed.content {
            Content::Spilled(bytes) => Ok((listed.sha256, listed.head, bytes)),
            Content::Memory(_) => panic!("spilled"),
        }
    }

    #[test]
    fn a_file_over_the_keep_size_is_spilled_exactly_as_hashed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("scan.pdf");
        // More than one chunk, not a multiple of it.
        let bytes: Vec<u8> = (0..(CHUNK * 2 + 12_345)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).expect("written");
        let (sha256, head, spilled) = read_spilled(&listed(&path)).expect("reads");
        assert_eq!(spilled, bytes);
        assert_eq!(head, bytes[..16]);
        assert_eq!(sha256, format!("{:x}", Sha256::digest(&bytes)));
        let in_memory = read_listed(&listed(&path), u64::MAX, || Ok(Vec::new())).expect("reads");
        assert_eq!(in_memory.sha256, sha256);
    }

    #[test]
    fn a_spilled_file_that_grew_since_the_walk_is_not_read_on() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("scan.pdf");
        std::fs::write(&path, b"12345").expect("written");
        let candidate = listed(&path);
        std::fs::write(&path, vec![7u8; CHUNK * 4]).expect("rewritten");
        let err = read_spilled(&candidate).expect_err("changed");
        assert!(matches!(err, ReadError::Changed(_)), "{err}");
        // Reading stopped one chunk past the listed size, not at the end of the file.
        assert!(
            err.to_string()
                .contains(&format!("5 bytes when listed, {CHUNK} read")),
            "{err}"
        );
    }

    #[test]
    fn a_spill_that_cannot_be_made_is_a_write_error_not_an_unreadable_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("scan.pdf");
        std::fs::write(&path, b"12345").expect("written");
        let full =
            || -> std::io::Result<Vec<u8>> { Err(std::io::Error::from_raw_os_error(libc::ENOSPC)) };
        let err = read_listed(&listed(&path), 0, full)
            .err()
            .expect("no spill");
        assert!(matches!(err, ReadError::Spill(_)), "{err}");
    }

    #[test]
    fn a_file_as_listed_is_read_whole() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("scan.png");
        std::fs::write(&path, b"12345").expect("written");
        assert_eq!(read_whole(&listed(&path)).expect("reads"), b"12345");
    }

    #[test]
    fn a_file_that_grew_since_the_walk_waits_for_the_next_run() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("scan.png");
        std::fs::write(&path, b"12345").expect("written");
        let candidate = listed(&path);
        std::fs::write(&path, b"1234567890").expect("rewritten");
        let err = read_whole(&candidate).expect_err("changed");
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
        let err = read_whole(&candidate).expect_err("changed");
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
        let err = read_whole(&candidate).expect_err("a FIFO is no document");
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
        let err = read_whole(&candidate).expect_err("links are not followed");
        assert!(matches!(err, ReadError::Io(_)), "{err}");
    }
}
