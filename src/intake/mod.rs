//! Walking the intake folders: which files are documents, where each belongs, and which
//! are left for the next run (hidden files, files the scanner may still be writing).

pub mod guard;
pub mod layout;
pub(crate) mod read;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use walkdir::{DirEntry, WalkDir};

use layout::{Layout, Placement};

/// A file that looks like a document, with where it belongs.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    /// Path relative to the intake root, `/`-separated: the document's name in the archive.
    pub rel_path: String,
    pub abs_path: PathBuf,
    pub placement: Placement,
    pub bytes: u64,
    pub mtime_ns: i64,
    /// A batch scan under `_batch/`: split into dossiers by its cover sheets.
    pub batch: bool,
}

/// The intake folder for batch scans with cover sheets.
pub(crate) const BATCH_FOLDER: &str = "_batch";

/// An intake entry that cannot become a document, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rejection {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Default)]
pub(crate) struct Walk {
    pub candidates: Vec<Candidate>,
    pub rejected: Vec<Rejection>,
    /// Files modified within the settle time: possibly still being written.
    pub deferred: Vec<String>,
    /// Hidden files and folders passed over.
    pub hidden: usize,
    /// Entries that could not be read (a folder without permission): the walk is incomplete.
    pub unreadable: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("intake folder {0} does not exist or is not a folder")]
    Missing(PathBuf),
    /// The archive inside the intake or the intake inside the archive (the message says which).
    #[error("{0}")]
    Overlap(String),
    #[error(
        "{role} {}{} is in a system folder ({system}): give the {role} a folder of its own",
        path.display(),
        if path == real { String::new() } else { format!(" (really {})", real.display()) }
    )]
    SystemFolder {
        role: &'static str,
        path: PathBuf,
        real: PathBuf,
        system: &'static str,
    },
    /// The archive was made from another intake (recorded in its index at its first run).
    #[error(
        "archive {} belongs to the intake {recorded} (recorded at its first run), not {}: a pipeline over another intake would make new versions of the same paths; run with --move-intake to move the archive to this intake on purpose",
        archive.display(),
        intake.display()
    )]
    ForeignIntake {
        archive: PathBuf,
        recorded: String,
        intake: PathBuf,
    },
}

pub(crate) fn walk(
    intake: &Path,
    layout: &Layout,
    settle: Duration,
    now: SystemTime,
) -> Result<Walk, IntakeError> {
    if !intake.is_dir() {
        return Err(IntakeError::Missing(intake.to_owned()));
    }
    // An intake reached through a symbolic link (`/srv/intake` -> a mount) is walked where it
    // is: only links inside it are not followed.
    let real = intake.canonicalize().unwrap_or_else(|_| intake.to_owned());
    let intake = real.as_path();
    let mut hidden = 0usize;
    let entries = WalkDir::new(intake)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            let is_hidden =
                e.depth() > 0 && e.file_name().as_encoded_bytes().first() == Some(&b'.');
            if is_hidden {
                hidden += 1;
            }
            !is_hidden
        });
    let mut walker = Walker {
        intake,
        layout,
        settle,
        now,
        walk: Walk::default(),
    };
    for entry in entries {
        walker.visit(entry);
    }
    let mut walk = walker.walk;
    walk.hidden = hidden;
    Ok(walk)
}

/// Sorts the entries of one walk into candidates, rejections and files left for later.
struct Walker<'a> {
    intake: &'a Path,
    layout: &'a Layout,
    settle: Duration,
    now: SystemTime,
    walk: Walk,
}

/// What becomes of one file.
enum Verdict {
    Take(Candidate),
    /// Modified within the settle time.
    Defer,
    Reject(String),
}

impl Walker<'_> {
    fn visit(&mut self, entry: walkdir::Result<DirEntry>) {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e
                    .path()
                    .map(|p| relative(self.intake, p))
                    .unwrap_or_else(|| "(intake)".into());
                let reason = format!(
                    "cannot read: {}",
                    e.io_error().map_or(e.to_string(), |io| io.to_string())
                );
                self.walk.rejected.push(Rejection { path, reason });
                self.walk.unreadable += 1;
                return;
            }
        };
        if entry.file_type().is_dir() {
            return;
        }
        let rel = relative(self.intake, entry.path());
        match self.judge(&entry) {
            Verdict::Take(candidate) => self.walk.candidates.push(candidate),
            Verdict::Defer => self.walk.deferred.push(rel),
            Verdict::Reject(reason) => self.walk.rejected.push(Rejection { path: rel, reason }),
        }
    }

    /// A regular file with a usable name, settled, and in a place of the layout.
    fn judge(&self, entry: &DirEntry) -> Verdict {
        let rel_utf8 = match usable_name(self.intake, entry) {
            Ok(rel) => rel,
            Err(reason) => return Verdict::Reject(reason.into()),
        };
        let meta = match entry.metadata() {
            Ok(m) => m,
            Err(e) => return Verdict::Reject(format!("cannot read: {e}")),
        };
        let mtime = meta.modified().unwrap_or(UNIX_EPOCH);
        let age = self.now.duration_since(mtime).unwrap_or(Duration::ZERO);
        if age < self.settle {
            return Verdict::Defer;
        }
        let (placement, batch) = match self.place(rel_utf8) {
            Ok(placed) => placed,
            Err(reason) => return Verdict::Reject(reason),
        };
        Verdict::Take(Candidate {
            rel_path: rel_utf8.to_owned(),
            abs_path: entry.path().to_owned(),
            placement,
            bytes: meta.len(),
            mtime_ns: read::mtime_ns(&meta),
            batch,
        })
    }

    /// Where a file belongs by its folders, and whether it is a batch scan (whose pages are
    /// placed by their cover sheets).
    fn place(&self, rel_utf8: &str) -> Result<(Placement, bool), String> {
        let folders: Vec<&str> = rel_utf8.split('/').collect();
        let batch = folders.len() > 1 && folders[0] == BATCH_FOLDER;
        let placement = if batch {
            // Where its pages belong is read from its cover sheets.
            Placement {
                procedure: BATCH_FOLDER.into(),
                dossier: BATCH_FOLDER.into(),
                kind: layout::Kind::Input,
                unit: None,
            }
        } else {
            self.layout.place(&folders[..folders.len() - 1])?
        };
        Ok((placement, batch))
    }
}

/// The path of a regular file under `intake`, when it is UTF-8 without control characters.
fn usable_name<'e>(intake: &Path, entry: &'e DirEntry) -> Result<&'e str, &'static str> {
    let ft = entry.file_type();
    if ft.is_symlink() {
        return Err("symbolic link: not followed (documents are read only from inside the intake)");
    }
    if !ft.is_file() {
        return Err("not a regular file");
    }
    let Some(rel_utf8) = entry
        .path()
        .strip_prefix(intake)
        .ok()
        .and_then(|p| p.to_str())
    else {
        return Err("file or folder name is not valid UTF-8: rename it");
    };
    if rel_utf8.chars().any(char::is_control) {
        return Err("file or folder name contains control characters: rename it");
    }
    Ok(rel_utf8)
}

/// Printable relative path (lossy for non-UTF-8 names, control characters escaped).
fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.to_string_lossy()
        .chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn walks_places_defers_and_rejects() {
        let root = std::env::temp_dir().join(format!("dossier-walk-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let d = root.join("1.001193/000.00.01.H50-240115-0001");
        fs::create_dir_all(d.join("input")).unwrap();
        fs::create_dir_all(d.join("result")).unwrap();
        fs::create_dir_all(root.join(".trash")).unwrap();
        fs::write(d.join("input/a.png"), b"x").unwrap();
        fs::write(d.join("result/b.png"), b"x").unwrap();
        fs::write(d.join("loose.jpg"), b"x").unwrap();
        fs::write(d.join(".~lock"), b"x").unwrap();
        fs::write(root.join(".trash/old.png"), b"x").unwrap();
        fs::write(root.join("stray.png"), b"x").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", d.join("input/link.png")).unwrap();

        let later = SystemTime::now() + Duration::from_secs(60);
        let w = walk(&root, &Layout::default(), Duration::from_secs(10), later).unwrap();
        let names: Vec<_> = w.candidates.iter().map(|c| c.rel_path.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "1.001193/000.00.01.H50-240115-0001/input/a.png",
                "1.001193/000.00.01.H50-240115-0001/loose.jpg",
                "1.001193/000.00.01.H50-240115-0001/result/b.png",
            ]
        );
        assert_eq!(w.candidates[2].placement.kind, layout::Kind::Result);
        assert_eq!(w.hidden, 2);
        let rejected: Vec<_> = w
            .rejected
            .iter()
            .map(|r| (r.path.as_str(), &r.reason[..12]))
            .collect();
        assert_eq!(
            rejected,
            vec![
                (
                    "1.001193/000.00.01.H50-240115-0001/input/link.png",
                    "symbolic lin"
                ),
                ("stray.png", "not in a dos"),
            ]
        );
        // Just written: everything waits for the next run.
        let w = walk(
            &root,
            &Layout::default(),
            Duration::from_secs(10),
            SystemTime::now(),
        )
        .unwrap();
        assert!(w.candidates.is_empty());
        assert_eq!(w.deferred.len(), 4);
        fs::remove_dir_all(&root).unwrap();
        assert!(walk(&root, &Layout::default(), Duration::ZERO, later).is_err());
    }
}
