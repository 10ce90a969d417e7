//! Where an intake and an archive may be, checked before a run touches either.
//!
//! Invariants, each refused at start with one line (exit 1):
//! - neither folder is `/` or a system folder: `/proc`, `/sys`, `/dev`, `/etc`, `/boot` and the
//!   binary and library folders are refused with anything under them (walking `/proc` archives
//!   kernel files); `/usr`, `/var`, `/var/lib`, `/run`, `/home`, `/tmp`, ... only themselves
//!   (`/var/lib/dossier` or `/run/media/USB` are ordinary places);
//! - the archive is not inside the intake (its run reports would be archived as documents, every
//!   night, for ever) and the intake is not inside the archive (the archive is the product's);
//! - both are compared as canonical paths (symbolic links and `..` resolved; for an archive not
//!   made yet, its nearest existing parent), so a link cannot smuggle one into the other.

use std::path::{Component, Path, PathBuf};

use super::IntakeError;

/// Refused with everything under them: kernel interfaces, devices, the system's own files.
const SYSTEM_TREES: &[&str] = &[
    "/proc", "/sys", "/dev", "/etc", "/boot", "/bin", "/sbin", "/lib", "/lib32", "/lib64",
    "/libx32",
];

/// Refused as themselves: folders that hold other people's or the system's things, whose
/// subfolders are ordinary places for an archive or an intake.
const SYSTEM_FOLDERS: &[&str] = &[
    "/",
    "/usr",
    "/usr/local",
    "/usr/share",
    "/usr/lib",
    "/var",
    "/var/lib",
    "/var/log",
    "/var/cache",
    "/var/spool",
    "/run",
    "/home",
    "/root",
    "/tmp",
    "/srv",
    "/mnt",
    "/media",
    "/opt",
];

/// Checks the pair of folders a run is about to use (see the module's invariants).
pub fn check_places(intake: &Path, archive: &Path) -> Result<(), IntakeError> {
    let intake_real = canonical(intake);
    let archive_real = canonical(archive);
    system_folder("intake", intake, &intake_real)?;
    system_folder("archive", archive, &archive_real)?;
    if archive_real.starts_with(&intake_real) {
        return Err(IntakeError::Overlap(format!(
            "archive {} is inside the intake {}: its own files would be archived as documents; put the archive outside the intake",
            archive.display(),
            intake.display()
        )));
    }
    if intake_real.starts_with(&archive_real) {
        return Err(IntakeError::Overlap(format!(
            "intake {} is inside the archive {}: put the intake outside the archive",
            intake.display(),
            archive.display()
        )));
    }
    Ok(())
}

fn system_folder(role: &'static str, given: &Path, real: &Path) -> Result<(), IntakeError> {
    let tree = SYSTEM_TREES.iter().find(|t| real.starts_with(t));
    let folder = SYSTEM_FOLDERS.iter().find(|f| real == Path::new(f));
    match tree.or(folder) {
        Some(system) => Err(IntakeError::SystemFolder {
            role,
            path: given.to_owned(),
            real: real.to_owned(),
            system,
        }),
        None => Ok(()),
    }
}

/// The canonical form of `path`: symbolic links resolved; the part that does not exist yet
/// (an archive made by this run) appended to its nearest existing parent's canonical form.
pub fn canonical(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut existing = absolute.clone();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut out = real;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return lexical(&out);
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_owned());
                existing = parent.to_owned();
            }
            _ => return lexical(&absolute),
        }
    }
}

/// `.` and `..` removed without touching the file system (for the part that does not exist).
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_folders_and_nested_places_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let intake = dir.path().join("intake");
        std::fs::create_dir_all(&intake).unwrap();
        let ok = check_places(&intake, &dir.path().join("archive"));
        assert!(ok.is_ok(), "{ok:?}");
        for (i, a) in [
            (intake.clone(), intake.join("archive")),
            (intake.clone(), intake.join("./x/../archive")),
            (intake.join("sub"), intake.clone()),
            (intake.clone(), intake.clone()),
        ] {
            let e = check_places(&i, &a).unwrap_err().to_string();
            assert!(e.contains("inside"), "{e}");
        }
        // A link into the intake is the intake.
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&intake, &link).unwrap();
        assert!(check_places(&intake, &link.join("archive")).is_err());
        for (i, a) in [
            ("/", "/srv/archive"),
            ("/proc", "/srv/archive"),
            ("/proc/self", "/srv/archive"),
            ("/srv/intake", "/etc/dossier"),
            ("/srv/intake", "/var/lib"),
            ("/usr", "/srv/archive"),
            ("/srv/intake", "/dev/shm/archive"),
        ] {
            let e = check_places(Path::new(i), Path::new(a)).unwrap_err();
            assert!(
                matches!(e, IntakeError::SystemFolder { .. }),
                "{i} {a}: {e}"
            );
        }
        let e = check_places(Path::new("/sys/kernel"), Path::new("/srv/a")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "intake /sys/kernel is in a system folder (/sys): give the intake a folder of its own"
        );
        assert!(check_places(Path::new("/srv/intake"), Path::new("/var/lib/dossier")).is_ok());
    }
}
