//! The archive on disk: content-addressed objects, atomic writes, the lock, run reports.
//!
//! ```text
//! ARCHIVE/
//!   index.sqlite            the index (see `index`)
//!   lock                    held (flock) by the one `run` allowed at a time
//!   objects/ab/abcdef…      originals and derivatives, named by their SHA-256
//!   runs/RUN_ID.json        one run report per run
//!   tmp/                    files being written; emptied at the start of each run
//! ```
//!
//! Nothing here overwrites or deletes an object: a write goes to `tmp/`, is fsynced, then
//! hard-linked to its final name (which fails if the name exists) and the folder fsynced.
//! The archive is private to its owner (mode 0700/0600): dossiers hold personal data.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("archive {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("archive {path} is locked by another run ({holder}); try again when it has finished")]
    Locked { path: PathBuf, holder: String },
    #[error(
        "the index of {} is missing while the archive holds objects or a ledger: run \
         `dossier rebuild-index --archive {}` first",
        path.display(), path.display()
    )]
    IndexMissing { path: PathBuf },
    #[error(
        "archive {} belongs to uid {owner}: run as that user (files written as root would lock its owner out of the archive)",
        path.display()
    )]
    ForeignOwner { path: PathBuf, owner: u32 },
    #[error("{path} is not a dossier archive (no {missing})")]
    NotAnArchive {
        path: PathBuf,
        missing: &'static str,
    },
}

/// Root writing into an archive another user owns would leave root-owned files (reports,
/// objects, the ledger) that break that user's next run: refused, with the owner named.
pub fn refuse_foreign_owner(root: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(());
    }
    match fs::metadata(root) {
        Ok(meta) if meta.uid() != 0 => Err(StoreError::ForeignOwner {
            path: root.to_owned(),
            owner: meta.uid(),
        }),
        _ => Ok(()),
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Streams a file through SHA-256: (hex digest, bytes read).
pub fn sha256_file(path: &Path) -> std::io::Result<(String, u64)> {
    use std::io::Read as _;
    let mut f = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hex(&hasher.finalize()), total))
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The ledger file's name in an archive's root.
pub const LEDGER_FILE: &str = "ledger.jsonl";

#[derive(Debug, Clone)]
pub struct Archive {
    root: PathBuf,
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// This process among all workers writing to a store: host name and process id, so that
/// workers on several machines sharing one store never pick the same scratch name.
pub fn worker_tag() -> &'static str {
    static TAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TAG.get_or_init(|| {
        let host = fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let host: String = host
            .trim()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        format!("{host}-{}", std::process::id())
    })
}

impl Archive {
    /// Opens an archive for writing, creating its folders (owner-only) if needed.
    pub fn create_or_open(root: &Path) -> Result<Archive, StoreError> {
        refuse_foreign_owner(root)?;
        let archive = Archive {
            root: root.to_owned(),
        };
        for dir in [
            root.to_owned(),
            archive.objects_dir(),
            archive.runs_dir(),
            archive.tmp_dir(),
        ] {
            create_private_dir(&dir)?;
        }
        Ok(archive)
    }

    /// Opens an existing archive for reading; nothing is created or written. With its own
    /// index (`shared_index` false) the index file must be there; with a shared one, the
    /// objects folder.
    pub fn open_existing(root: &Path, shared_index: bool) -> Result<Archive, StoreError> {
        let archive = Archive {
            root: root.to_owned(),
        };
        let present = if shared_index {
            archive.objects_dir().is_dir()
        } else {
            archive.index_path().is_file()
        };
        if !present && !shared_index && archive.holds_evidence()? {
            return Err(StoreError::IndexMissing {
                path: root.to_owned(),
            });
        }
        if !present {
            return Err(StoreError::NotAnArchive {
                path: root.to_owned(),
                missing: if shared_index {
                    "objects folder"
                } else {
                    "index.sqlite"
                },
            });
        }
        Ok(archive)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn index_path(&self) -> PathBuf {
        Archive::index_path_of(&self.root)
    }

    /// Where the archive at `root` keeps its own (SQLite) index.
    pub fn index_path_of(root: &Path) -> PathBuf {
        root.join("index.sqlite")
    }

    pub fn objects_dir(&self) -> PathBuf {
        self.root.join("objects")
    }

    pub fn runs_dir(&self) -> PathBuf {
        self.root.join("runs")
    }

    pub(crate) fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Where the object of `sha256` is stored. Anything but a SHA-256 in lower-case hex (a
    /// damaged index row) names a path that no object has, never one outside the store.
    pub fn object_path(&self, sha256: &str) -> PathBuf {
        if !is_sha256_hex(sha256) {
            return self.objects_dir().join("not-a-sha256");
        }
        self.objects_dir().join(&sha256[..2]).join(sha256)
    }

    /// Takes the archive lock; fails at once if another process holds it. The lock is an
    /// OS file lock, released by the kernel when its holder dies, so a killed run leaves no
    /// stale lock behind; the file's content only names the holder for messages.
    pub fn lock(&self) -> Result<ArchiveLock, StoreError> {
        let path = self.root.join("lock");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(io_err(&path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(StoreError::Locked {
                    path: self.root.clone(),
                    holder: if holder.is_empty() {
                        "holder unknown".into()
                    } else {
                        holder.to_owned()
                    },
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io_err(&path)(e)),
        }
        let host = fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let holder = format!(
            "pid {} on {} since {}",
            std::process::id(),
            host.trim(),
            crate::timefmt::now_rfc3339()
        );
        file.set_len(0).map_err(io_err(&path))?;
        file.write_all(holder.as_bytes()).map_err(io_err(&path))?;
        Ok(ArchiveLock { _file: file })
    }

    /// Removes leftovers of interrupted writes. Call only while holding the lock.
    pub fn clean_tmp(&self) -> Result<(), StoreError> {
        self.clean_tmp_older_than(Duration::ZERO)
    }

    /// Removes scratch files untouched for `age`: on a store shared by many workers, the
    /// files of live workers are being written and stay.
    pub fn clean_tmp_older_than(&self, age: Duration) -> Result<(), StoreError> {
        let dir = self.tmp_dir();
        let now = SystemTime::now();
        for entry in fs::read_dir(&dir).map_err(io_err(&dir))? {
            let entry = entry.map_err(io_err(&dir))?;
            if !age.is_zero() {
                let modified = entry.metadata().and_then(|m| m.modified());
                match modified.map(|m| now.duration_since(m).unwrap_or_default()) {
                    Ok(untouched) if untouched >= age => {}
                    // Fresh, or gone already (another worker cleaned it).
                    _ => continue,
                }
            }
            match fs::remove_file(entry.path()) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&entry.path())(e)),
            }
        }
        Ok(())
    }

    /// Stores `bytes` under their SHA-256 unless already present. Returns the hash and
    /// whether this call added the object. An existing object is never rewritten.
    pub fn put_object(&self, bytes: &[u8]) -> Result<(String, bool), StoreError> {
        let sha = sha256_hex(bytes);
        let added = self.put_object_with_hash(bytes, &sha)?;
        Ok((sha, added))
    }

    /// As [`put_object`](Self::put_object) with a hash the caller already computed.
    pub fn put_object_with_hash(&self, bytes: &[u8], sha256: &str) -> Result<bool, StoreError> {
        let dest = self.object_path(sha256);
        if dest.exists() {
            return Ok(false);
        }
        let fan = dest.parent().expect("objects have a parent folder");
        if !fan.exists() {
            create_private_dir(fan)?;
            sync_dir(&self.objects_dir())?;
        }
        self.write_new(&dest, bytes)
    }

    /// A new private file in the archive's scratch folder, for an object too large to build
    /// in memory; hand it to [`put_file`](Self::put_file) when written.
    pub fn temp_file(&self, what: &str) -> Result<(File, PathBuf), StoreError> {
        let path = self.tmp_dir().join(format!(
            "{what}-{}-{}.tmp",
            worker_tag(),
            TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(io_err(&path))?;
        Ok((f, path))
    }

    /// Stores a scratch file made by [`temp_file`](Self::temp_file) as an object: hashed,
    /// fsynced, linked under its hash (an existing object is kept), the scratch file removed.
    pub fn put_file(&self, tmp: &Path) -> Result<String, StoreError> {
        let result = (|| {
            let mut f = File::open(tmp).map_err(io_err(tmp))?;
            let mut hasher = Sha256::new();
            io::copy(&mut f, &mut hasher).map_err(io_err(tmp))?;
            let sha = hex(&hasher.finalize());
            f.sync_all().map_err(io_err(tmp))?;
            let dest = self.object_path(&sha);
            let fan = dest.parent().expect("objects have a parent folder");
            if !fan.exists() {
                create_private_dir(fan)?;
                sync_dir(&self.objects_dir())?;
            }
            match fs::hard_link(tmp, &dest) {
                Ok(()) => sync_dir(fan)?,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err(&dest)(e)),
            }
            Ok(sha)
        })();
        let _ = fs::remove_file(tmp);
        result
    }

    /// A new scratch file for an object written by streaming (an intake file too large to
    /// hold in memory): write it, then [`put_scratch`](Self::put_scratch) it under the hash
    /// of what was written. Dropped without that, the scratch file is removed.
    pub fn scratch(&self, what: &str) -> Result<Scratch, StoreError> {
        let (file, path) = self.temp_file(what)?;
        Ok(Scratch { file, path })
    }

    /// Stores `scratch` as the object `sha256` (the caller hashed every byte it wrote): fsync,
    /// hard link under its hash (an existing object is kept), fsync the folder, scratch file
    /// removed. Whether this call added the object.
    pub fn put_scratch(&self, scratch: Scratch, sha256: &str) -> Result<bool, StoreError> {
        let tmp = &scratch.path;
        scratch.file.sync_all().map_err(io_err(tmp))?;
        let dest = self.object_path(sha256);
        let fan = dest.parent().expect("objects have a parent folder");
        if !fan.exists() {
            create_private_dir(fan)?;
            sync_dir(&self.objects_dir())?;
        }
        match fs::hard_link(tmp, &dest) {
            Ok(()) => sync_dir(fan).map(|()| true),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(io_err(&dest)(e)),
        }
    }

    /// Writes a run report `runs/RUN_ID.json` (never replacing one).
    pub fn put_run_report(&self, run_id: &str, json: &[u8]) -> Result<PathBuf, StoreError> {
        let dest = self.runs_dir().join(format!("{run_id}.json"));
        self.write_new(&dest, json)?;
        Ok(dest)
    }

    /// The run ledger as a file: one JSON entry per line, a copy of the index's ledger table
    /// that auditors can read and `verify` compares.
    pub fn ledger_path(&self) -> PathBuf {
        self.root.join(LEDGER_FILE)
    }

    /// Replaces the ledger file with a longer one: tmp → fsync → rename → fsync folder.
    /// Whether anything was ever archived here: a stored object or a ledger entry.
    pub fn holds_evidence(&self) -> Result<bool, StoreError> {
        let ledger = std::fs::metadata(self.ledger_path()).map_or(0, |m| m.len());
        if ledger > 0 {
            return Ok(true);
        }
        let objects = self.objects_dir();
        match std::fs::read_dir(&objects) {
            Ok(mut entries) => Ok(entries.next().is_some()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(StoreError::Io {
                path: objects,
                source,
            }),
        }
    }

    pub fn write_ledger(&self, bytes: &[u8]) -> Result<(), StoreError> {
        let dest = self.ledger_path();
        let tmp = self.tmp_dir().join(format!("ledger-{}.tmp", worker_tag()));
        let result = (|| {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)
                .map_err(io_err(&tmp))?;
            f.write_all(bytes).map_err(io_err(&tmp))?;
            f.sync_all().map_err(io_err(&tmp))?;
            fs::rename(&tmp, &dest).map_err(io_err(&dest))?;
            sync_dir(&self.root)
        })();
        let _ = fs::remove_file(&tmp);
        result
    }

    /// tmp file → fsync → hard link to `dest` (atomic, fails if `dest` exists) → fsync dir.
    fn write_new(&self, dest: &Path, bytes: &[u8]) -> Result<bool, StoreError> {
        let tmp = self.tmp_dir().join(format!(
            "{}-{}.tmp",
            worker_tag(),
            TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let result = (|| {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)
                .map_err(io_err(&tmp))?;
            f.write_all(bytes).map_err(io_err(&tmp))?;
            f.sync_all().map_err(io_err(&tmp))?;
            drop(f);
            match fs::hard_link(&tmp, dest) {
                Ok(()) => {}
                // Someone (an earlier, interrupted run) stored the same content: keep theirs.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(false),
                Err(e) => return Err(io_err(dest)(e)),
            }
            sync_dir(dest.parent().expect("destination has a folder"))?;
            Ok(true)
        })();
        let _ = fs::remove_file(&tmp);
        result
    }

    /// Reads an object back (for `show`, `verify` and exports).
    pub fn read_object(&self, sha256: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.object_path(sha256);
        fs::read(&path).map_err(io_err(&path))
    }
}

/// A scratch file in the archive's `tmp/` being written by streaming (see
/// [`Archive::scratch`]); removed when dropped (once stored, its object is a link of its own).
pub struct Scratch {
    file: File,
    path: PathBuf,
}

impl Scratch {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Write for Scratch {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Held for the duration of a run; dropping it releases the archive.
pub struct ArchiveLock {
    _file: File,
}

fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    match fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => Ok(()),
        Err(e) => Err(io_err(dir)(e)),
    }
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dossier-store-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn objects_are_content_addressed_and_stored_once() {
        let root = temp_dir("objects");
        let archive = Archive::create_or_open(&root).unwrap();
        let (sha, added) = archive.put_object(b"hello").unwrap();
        assert_eq!(
            sha,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert!(added);
        let (again, added) = archive.put_object(b"hello").unwrap();
        assert_eq!((again.as_str(), added), (sha.as_str(), false));
        assert_eq!(archive.read_object(&sha).unwrap(), b"hello");
        let mode = fs::metadata(archive.object_path(&sha))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let mode = fs::metadata(&root).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        assert_eq!(fs::read_dir(root.join("tmp")).unwrap().count(), 0);
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn an_existing_object_is_never_rewritten() {
        let root = temp_dir("norewrite");
        let archive = Archive::create_or_open(&root).unwrap();
        let (sha, _) = archive.put_object(b"original").unwrap();
        // Simulate damage: the archive must not "repair" it silently by overwriting.
        let path = archive.object_path(&sha);
        let mut perms = fs::metadata(&path).unwrap().permissions();
        perms.set_mode(0o600);
        fs::write(&path, b"damaged").unwrap();
        assert!(!archive.put_object_with_hash(b"original", &sha).unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"damaged");
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_scratch_file_is_stored_under_its_hash_and_leaves_nothing_behind() {
        let root = temp_dir("scratch");
        let archive = Archive::create_or_open(&root).unwrap();
        let mut scratch = archive.scratch("intake").unwrap();
        scratch.write_all(b"hel").unwrap();
        scratch.write_all(b"lo").unwrap();
        let sha = sha256_hex(b"hello");
        assert!(archive.put_scratch(scratch, &sha).unwrap());
        assert_eq!(archive.read_object(&sha).unwrap(), b"hello");
        let mode = fs::metadata(archive.object_path(&sha))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // The same content again is kept as it was; a scratch dropped unstored is removed.
        let mut again = archive.scratch("intake").unwrap();
        again.write_all(b"hello").unwrap();
        assert!(!archive.put_scratch(again, &sha).unwrap());
        let dropped = archive.scratch("intake").unwrap();
        assert!(dropped.path().exists());
        drop(dropped);
        assert_eq!(fs::read_dir(root.join("tmp")).unwrap().count(), 0);
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_second_lock_is_refused_with_the_holder_named() {
        let root = temp_dir("lock");
        let archive = Archive::create_or_open(&root).unwrap();
        let held = archive.lock().unwrap();
        match archive.lock() {
            Err(StoreError::Locked { holder, .. }) => {
                assert!(
                    holder.contains(&format!("pid {}", std::process::id())),
                    "{holder}"
                )
            }
            other => panic!("expected Locked, got {:?}", other.map(|_| ())),
        }
        drop(held);
        assert!(archive.lock().is_ok());
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn hex_helpers() {
        assert_eq!(hex(&[0, 15, 255]), "000fff");
        assert!(is_sha256_hex(&sha256_hex(b"")));
        assert!(!is_sha256_hex("../../etc/passwd"));
    }
}
