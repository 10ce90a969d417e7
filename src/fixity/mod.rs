//! Fixity and evidence: `verify` re-reads everything, the run ledger ties runs together, and
//! `export-bag` hands dossiers to another archive as BagIt.

pub mod bag;
mod deep;
mod evidence;
pub use evidence::{check_evidence, RecordedAtUpgrade};
mod ledger;
mod upgrade;
use ledger::{check_ledger, ledger_finding};
pub(crate) use upgrade::record_at_upgrade;
pub mod rebuild;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use crate::index::audit::{LedgerHead, ObjectRef};
use crate::index::{Index, IndexError, Location};
use crate::store::{is_sha256_hex, Archive, ArchiveLock, StoreError};
use crate::timefmt;

#[derive(Debug, thiserror::Error)]
pub enum FixityError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(
        "{path} holds ledger entries the index does not: it is not rewritten (restore the index, \
         or run `dossier rebuild-index`)"
    )]
    LedgerAhead { path: String },
    #[error("--since {0:?} is not SEQ:HASH (a ledger head as reports print it)")]
    BadHead(String),
    #[error("the index {index} is not empty: rebuild-index makes a new index only (move the old one away first)")]
    NotEmpty { index: String },
    #[error(
        "the shared index {index} holds a rebuild-index that did not finish: empty its database \
         (drop its tables) and run rebuild-index again"
    )]
    PartialRebuild { index: String },
    #[error("{path} holds no ledger.jsonl: not a dossier archive whose index can be rebuilt (is the path right?)")]
    NothingToRebuild { path: String },
    #[error("ledger.jsonl line {line}: {why}; the index cannot be rebuilt from it")]
    BrokenLedger { line: usize, why: String },
}

/// Writes the ledger file from the index's ledger table (the table is the source of truth,
/// committed with each run; the file is the copy auditors read and `verify` compares).
/// The file is never replaced by a shorter or different history: it must be a prefix of the
/// table's.
pub(crate) fn export_ledger(archive: &Archive, index: &Index) -> Result<(), FixityError> {
    index.with_ledger(|entries| {
        let mut text = String::new();
        for (_, entry, _) in entries {
            text.push_str(&entry);
            text.push('\n');
        }
        let path = archive.ledger_path();
        match std::fs::read(&path) {
            Ok(old) if !text.as_bytes().starts_with(&old) => {
                return Err(FixityError::LedgerAhead {
                    path: path.display().to_string(),
                })
            }
            Ok(old) if old.len() == text.len() => return Ok(()),
            _ => {}
        }
        archive.write_ledger(text.as_bytes())?;
        Ok(())
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Re-read and re-hash every stored file.
    Full,
    /// Presence and sizes only.
    Fast,
    /// Full, and the page facts and register rows derived again from the originals.
    Deep,
}

/// One thing `verify` found wrong.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    /// `changed`, `missing`, `untracked`, `size`, `index`, `ledger`, `run_report`.
    pub kind: &'static str,
    /// The archive file concerned, relative to the archive.
    pub file: Option<String>,
    pub dossier_code: Option<String>,
    pub document: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub mode: Mode,
    pub started_at: String,
    pub finished_at: String,
    pub objects_checked: usize,
    pub bytes_read: u64,
    pub documents: usize,
    pub findings: Vec<Finding>,
    /// The ledger head after this verify (its own entry included when recorded).
    pub ledger_head: Option<LedgerHead>,
    /// Whether this verify was recorded (fixity events and a ledger entry); not on a
    /// read-only archive.
    pub recorded: bool,
    /// With `--deep`: what was derived again from the originals, and how fast.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deep: Option<deep::DeepStats>,
    /// The documents and imports whose evidence records were written at an upgrade (archived
    /// before records were kept), by upgrade: their records vouch for the index rows as they
    /// were then, not at archiving.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recorded_at_upgrade: Vec<RecordedAtUpgrade>,
}

impl VerifyReport {
    pub fn clean(&self) -> bool {
        self.findings.is_empty()
    }
}

fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    crate::store::sha256_file(path)
}

/// Checks the whole archive. Records the check (fixity events, a ledger entry) unless the
/// archive cannot be written; refuses to run beside a `run` (it would see half-written work).
///
/// A damaged SQLite index (garbage bytes, a cut-off file) is a finding, not a failure: the
/// index is evidence too, and an auditor must hear "the index is damaged" (exit 4), not that
/// verify could not run.
pub fn verify(
    root: &Path,
    index_url: Option<&str>,
    mode: Mode,
    since: Option<&LedgerHead>,
) -> Result<VerifyReport, FixityError> {
    let started_at = timefmt::now_rfc3339();
    match verify_archive(root, index_url, mode, since) {
        Err(e) if index_url.is_none() => match damaged_index(root) {
            Some(detail) => Ok(VerifyReport {
                mode,
                finished_at: timefmt::now_rfc3339(),
                started_at,
                objects_checked: 0,
                bytes_read: 0,
                documents: 0,
                findings: vec![Finding {
                    kind: "index",
                    file: Some("index.sqlite".into()),
                    dossier_code: None,
                    document: None,
                    detail: format!(
                        "the index is damaged ({detail}); nothing else could be checked: move it away and run `dossier rebuild-index`"
                    ),
                }],
                ledger_head: None,
                recorded: false,
                deep: None,
                recorded_at_upgrade: Vec::new(),
            }),
            None => Err(e),
        },
        // Rows that read may still sit in a damaged file: SQLite's own check, except --fast.
        Ok(mut report) if index_url.is_none() && mode != Mode::Fast => {
            if let Some(detail) = damaged_index(root) {
                report.findings.push(Finding {
                    kind: "index",
                    file: Some("index.sqlite".into()),
                    dossier_code: None,
                    document: None,
                    detail: format!("the index is damaged ({detail})"),
                });
            }
            Ok(report)
        }
        other => other,
    }
}

/// Why the archive's SQLite index is damaged, when it is: it cannot be opened as a database,
/// or SQLite's own `quick_check` finds its pages inconsistent. `None` for a sound or absent
/// index (whatever failed, failed for another reason).
fn damaged_index(root: &Path) -> Option<String> {
    use rusqlite::OpenFlags;
    let path = root.join("index.sqlite");
    if !path.is_file() {
        return None;
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let check = rusqlite::Connection::open_with_flags(&path, flags).and_then(|c| {
        let mut st = c.prepare("PRAGMA quick_check")?;
        let rows = st.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect::<Result<Vec<String>, _>>()
    });
    match check {
        Ok(rows) if rows.len() == 1 && rows[0] == "ok" => None,
        Ok(rows) => Some(rows.into_iter().take(3).collect::<Vec<_>>().join("; ")),
        Err(e) => Some(e.to_string()),
    }
}

fn verify_archive(
    root: &Path,
    index_url: Option<&str>,
    mode: Mode,
    since: Option<&LedgerHead>,
) -> Result<VerifyReport, FixityError> {
    let started_at = timefmt::now_rfc3339();
    let (archive, location, lock, mut index) = open_archive(root, index_url)?;
    // What was archived before records were kept gets them now, when this verify may write.
    if lock.is_some() {
        record_at_upgrade(&archive, &mut index)?;
    }

    // 1. Every object the index refers to: present, right size, right content.
    let refs = index.referenced_objects()?;
    let objects = check_objects(&archive, &refs, mode);
    let mut findings = objects.findings;

    // 2. Nothing stored that the index does not know.
    let runs: HashSet<String> = index
        .finished_runs()?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let under_way = index.runs_under_way()?;
    findings.extend(untracked(&archive, &objects.known, &runs, &under_way)?);
    findings.extend(permission_drift(&archive));

    // 3. Index rows agree with each other.
    findings.extend(index_findings(&index)?);

    // 4. The rows that enter a figure say what their evidence records say.
    findings.extend(evidence::check_evidence(&archive, &index));

    // 5. The ledger: an unbroken chain, the same in the file, covering every run, and
    // agreeing with the documents and run reports it vouches for.
    findings.extend(check_ledger(&archive, &index)?);
    let deep = if mode == Mode::Deep {
        let (found, stats) = deep::check(&archive, &index)?;
        findings.extend(found);
        Some(stats)
    } else {
        None
    };
    if let Some(head) = since {
        findings.extend(check_extends(&index, head)?);
    }

    let documents = refs.iter().filter(|r| r.what == "original").count();
    let mut report = VerifyReport {
        mode,
        started_at,
        finished_at: timefmt::now_rfc3339(),
        objects_checked: objects.checked,
        bytes_read: objects.bytes_read,
        documents,
        findings,
        ledger_head: index.ledger_head()?,
        recorded: false,
        deep,
        recorded_at_upgrade: evidence::recorded_at_upgrade(&index)?,
    };
    if lock.is_some() {
        record(&mut report, &archive, &mut index, &refs)?;
    }
    if location.is_shared() {
        index.unlock(true)?;
    }
    Ok(report)
}

/// `SEQ:HASH`, as reports print a ledger head.
pub fn parse_head(text: &str) -> Result<LedgerHead, FixityError> {
    let bad = || FixityError::BadHead(text.to_owned());
    let (seq, hash) = text.split_once(':').ok_or_else(bad)?;
    let seq = seq.trim().parse().map_err(|_| bad())?;
    let hash = hash.trim().to_ascii_lowercase();
    if !is_sha256_hex(&hash) {
        return Err(bad());
    }
    Ok(LedgerHead { seq, hash })
}

/// Today's ledger extends `head`, a head kept earlier (the chain itself is checked apart).
fn check_extends(index: &Index, head: &LedgerHead) -> Result<Option<Finding>, FixityError> {
    let entry = index
        .ledger()?
        .into_iter()
        .find(|(seq, _, _)| *seq == head.seq);
    let detail = match entry {
        Some((_, _, hash)) if hash == head.hash => return Ok(None),
        Some((_, _, hash)) => format!(
            "the ledger does not extend the head {}:{} kept earlier: entry {} is now {hash} (history was rewritten)",
            head.seq, head.hash, head.seq
        ),
        None => format!(
            "the ledger does not extend the head {}:{} kept earlier: it has no entry {} (history was cut)",
            head.seq, head.hash, head.seq
        ),
    };
    Ok(Some(ledger_finding(detail)))
}

/// The archive, its index, and `Some` when it can be written (`None`: a read-only copy, an
/// auditor's account), with the archive's file lock on a private index. Fails while a run
/// holds either lock.
#[allow(clippy::type_complexity)]
fn open_archive(
    root: &Path,
    index_url: Option<&str>,
) -> Result<(Archive, Location, Option<Option<ArchiveLock>>, Index), FixityError> {
    let archive = Archive::open_existing(root, index_url.is_some())?;
    let location = Location::resolve(archive.index_path(), index_url)?;
    // On a shared index the database's exclusive advisory lock (below) keeps runs away: the
    // archive gets no `lock` file (README, "The archive"), only the question whether it can
    // be written.
    let foreign = crate::store::refuse_foreign_owner(root).is_err();
    let lock = if foreign {
        // Root in another user's archive: checked, never written.
        None
    } else if location.is_shared() {
        writable(root).then_some(None)
    } else {
        match archive.lock() {
            Ok(lock) => Some(Some(lock)),
            Err(StoreError::Locked { path, holder }) => {
                return Err(StoreError::Locked { path, holder }.into())
            }
            // Not writable (a read-only copy, an auditor's account): check without recording.
            Err(StoreError::Io { .. }) => None,
            Err(e) => return Err(e.into()),
        }
    };
    let index = Index::open(&location, lock.is_some())?;
    index.refuse_if_lost(&archive)?;
    // Workers sharing the index hold its shared lock while they run.
    if location.is_shared() && !index.try_lock(true)? {
        return Err(StoreError::Locked {
            path: root.to_owned(),
            holder: format!(
                "runs in progress on the shared index {}",
                location.display()
            ),
        }
        .into());
    }
    Ok((archive, location, lock, index))
}

/// What checking the stored objects found.
struct ObjectsChecked<'r> {
    /// One per document (or import) that refers to a bad object.
    findings: Vec<Finding>,
    /// The objects the index refers to, each once.
    known: HashSet<&'r str>,
    checked: usize,
    bytes_read: u64,
}

/// Checks each object once (in parallel), and reports it for every reference to it.
fn check_objects<'r>(archive: &Archive, refs: &'r [ObjectRef], mode: Mode) -> ObjectsChecked<'r> {
    let mut unique: HashMap<&str, &ObjectRef> = HashMap::new();
    for r in refs {
        unique.entry(r.sha256.as_str()).or_insert(r);
    }
    let mut objects: Vec<&ObjectRef> = unique.values().copied().collect();
    objects.sort_by(|a, b| a.sha256.cmp(&b.sha256));
    let checked: Vec<(Option<Finding>, u64)> = objects
        .par_iter()
        .map(|r| check_object(archive, r, mode))
        .collect();
    let bytes_read = checked.iter().map(|(_, b)| b).sum();
    // One finding per document (or import) that refers to a bad object, shared or not.
    let bad: HashMap<&str, Finding> = objects
        .iter()
        .zip(checked)
        .filter_map(|(r, (f, _))| f.map(|f| (r.sha256.as_str(), f)))
        .collect();
    let mut findings = Vec::new();
    for r in refs {
        if let Some(f) = bad.get(r.sha256.as_str()) {
            findings.push(Finding {
                dossier_code: r.dossier_code.clone(),
                document: r.document.clone(),
                detail: f
                    .detail
                    .replacen(&unique[r.sha256.as_str()].what, &r.what, 1),
                ..f.clone()
            });
        }
    }
    ObjectsChecked {
        findings,
        known: unique.keys().copied().collect(),
        checked: objects.len(),
        bytes_read,
    }
}

/// Index rows that disagree with each other.
fn index_findings(index: &Index) -> Result<Vec<Finding>, FixityError> {
    Ok(index
        .consistency_problems()?
        .into_iter()
        .map(|p| Finding {
            kind: "index",
            file: Some("index.sqlite".into()),
            dossier_code: p.dossier_code,
            document: p.document,
            detail: p.detail,
        })
        .collect())
}

/// Records the check: a fixity event per document (passed unless a finding names it) and a
/// ledger entry, then rewrites the ledger file.
fn record(
    report: &mut VerifyReport,
    archive: &Archive,
    index: &mut Index,
    refs: &[ObjectRef],
) -> Result<(), FixityError> {
    let failing: HashSet<&str> = report
        .findings
        .iter()
        .filter_map(|f| f.document.as_deref())
        .collect();
    let mode = report.mode;
    let outcomes: Vec<(i64, bool, String)> = refs
        .iter()
        .filter(|r| r.what == "original")
        .filter_map(|r| {
            let ok = !r.document.as_deref().is_some_and(|d| failing.contains(d));
            r.document_id.map(|id| {
                let detail = match (mode, ok) {
                    (Mode::Full | Mode::Deep, true) => format!("SHA-256 {} matches", r.sha256),
                    (Mode::Fast, true) => "present, size matches".to_owned(),
                    (_, false) => "see the verify findings".to_owned(),
                };
                (id, ok, detail)
            })
        })
        .collect();
    let summary = serde_json::json!({
        "objects_checked": report.objects_checked,
        "bytes_read": report.bytes_read,
        "findings": report.findings.len(),
        "events": outcomes.len(),
        "outcome": if report.clean() { "pass" } else { "fail" },
    });
    let mode_name = match mode {
        Mode::Full => "full",
        Mode::Fast => "fast",
        Mode::Deep => "deep",
    };
    report.ledger_head =
        Some(index.record_verify(&report.finished_at, mode_name, summary, &outcomes)?);
    match export_ledger(archive, index) {
        // The file differs from the table: a finding already says so, and the file is kept
        // as it is, as evidence.
        Ok(()) | Err(FixityError::LedgerAhead { .. }) => {}
        Err(e) => return Err(e),
    }
    report.recorded = true;
    Ok(())
}

fn check_object(archive: &Archive, r: &ObjectRef, mode: Mode) -> (Option<Finding>, u64) {
    let path = archive.object_path(&r.sha256);
    let file = Some(format!(
        "objects/{}/{}",
        r.sha256.get(..2).unwrap_or(""),
        r.sha256
    ));
    let finding = |kind: &'static str, detail: String| Finding {
        kind,
        file: file.clone(),
        dossier_code: r.dossier_code.clone(),
        document: r.document.clone(),
        detail: format!("{} ({}): {detail}", r.what, r.sha256),
    };
    if !is_sha256_hex(&r.sha256) {
        return (
            Some(finding("index", "the index names no SHA-256 here".into())),
            0,
        );
    }
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(_) => return (Some(finding("missing", "not in the store".into())), 0),
    };
    if let Some(expected) = r.bytes {
        if meta.len() != expected {
            return (
                Some(finding(
                    "size",
                    format!("{} bytes stored, {expected} archived", meta.len()),
                )),
                0,
            );
        }
    }
    if mode == Mode::Fast {
        return (None, 0);
    }
    match hash_file(&path) {
        Ok((sha, n)) if sha == r.sha256 => (None, n),
        Ok((sha, n)) => (
            Some(finding("changed", format!("content now hashes to {sha}"))),
            n,
        ),
        Err(e) => (Some(finding("missing", format!("cannot read: {e}"))), 0),
    }
}

/// Permissions loosened or owners changed since dossier wrote the archive (private to its
/// owner: folders 0700, files 0600): a folder of dossier's others may enter or read, a file
/// others may write, and anything owned by another user than the archive's root (root-owned
/// files left by a run as root lock the owner out). The root folder itself is the
/// administrator's (a mount point, a folder made beforehand) and `tmp/` is scratch: neither is
/// looked at.
fn permission_drift(archive: &Archive) -> Vec<Finding> {
    use std::os::unix::fs::MetadataExt;
    let root = archive.root();
    let Ok(owner) = std::fs::metadata(root).map(|m| m.uid()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let walk = walkdir::WalkDir::new(root)
        .min_depth(1)
        .into_iter()
        .filter_entry(|e| e.depth() != 1 || e.file_name() != "tmp");
    for entry in walk.filter_map(|e| e.ok()) {
        let Ok(meta) = entry.metadata() else { continue };
        let mode = meta.mode() & 0o7777;
        let mut why = Vec::new();
        if meta.is_dir() && mode & 0o077 != 0 {
            why.push(format!(
                "folder open to group or others (mode {mode:04o}, want 0700)"
            ));
        } else if mode & 0o022 != 0 {
            why.push(format!("writable by group or others (mode {mode:04o})"));
        }
        if meta.uid() != owner {
            why.push(format!(
                "owned by uid {}, not the archive's owner (uid {owner})",
                meta.uid()
            ));
        }
        if why.is_empty() {
            continue;
        }
        let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
        out.push(Finding {
            kind: "permissions",
            file: Some(rel.to_string_lossy().into_owned()),
            dossier_code: None,
            document: None,
            detail: why.join("; "),
        });
    }
    out
}

/// Files in the archive that nothing accounts for. An object stored while a run that has not
/// finished was under way is most likely that run's, stored before its document was
/// committed: the finding says so, and what makes it go.
fn untracked(
    archive: &Archive,
    known: &HashSet<&str>,
    runs: &HashSet<String>,
    under_way: &[(String, String)],
) -> Result<Vec<Finding>, FixityError> {
    let mut out = Vec::new();
    let root = archive.root();
    let expected_top = [
        "index.sqlite",
        "index.sqlite-journal",
        "lock",
        "objects",
        "runs",
        "tmp",
        "ledger.jsonl",
    ];
    let mut finding = |file: String, detail: &str| {
        out.push(Finding {
            kind: "untracked",
            file: Some(file),
            dossier_code: None,
            document: None,
            detail: detail.to_owned(),
        })
    };
    let io = |p: &Path| {
        let p = p.to_owned();
        move |source| StoreError::Io { path: p, source }
    };
    for entry in std::fs::read_dir(root).map_err(io(root))? {
        let entry = entry.map_err(io(root))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !expected_top.contains(&name.as_str()) {
            finding(name, "not part of a dossier archive");
        }
    }
    for entry in walkdir::WalkDir::new(archive.objects_dir()).min_depth(1) {
        let entry = entry.map_err(|e| StoreError::Io {
            path: archive.objects_dir(),
            source: e.into(),
        })?;
        let rel = entry
            .path()
            .strip_prefix(root)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .into_owned();
        let name = entry.file_name().to_string_lossy();
        match entry.depth() {
            1 if entry.file_type().is_dir() && name.len() == 2 => {}
            2 if entry.file_type().is_file()
                && is_sha256_hex(&name)
                && entry
                    .path()
                    .parent()
                    .and_then(|p| p.file_name())
                    .is_some_and(|f| *f == name[..2]) =>
            {
                if !known.contains(name.as_ref()) {
                    let detail = match run_under_way_at(entry.path(), under_way) {
                        Some(run) => format!(
                            "stored object that no index row refers to: stored while run {run} \
                             was under way, which has not finished (killed, or still at work); \
                             the next run commits it if its intake file is still there"
                        ),
                        None => "stored object that no index row refers to".to_owned(),
                    };
                    finding(rel, &detail);
                }
            }
            _ => finding(rel, "not an object of this archive"),
        }
    }
    for entry in std::fs::read_dir(archive.runs_dir()).map_err(io(&archive.runs_dir()))? {
        let entry = entry.map_err(io(&archive.runs_dir()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let known_run = name
            .strip_suffix(".json")
            .is_some_and(|id| runs.contains(id));
        if !known_run {
            finding(format!("runs/{name}"), "not the report of a finished run");
        }
    }
    Ok(out)
}

/// The unfinished runs that had begun (to the second, as runs record their start) when `path`
/// was last written: one of them stored it. Several when runs began within the same second.
fn run_under_way_at(path: &Path, under_way: &[(String, String)]) -> Option<String> {
    let written = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
    let written = timefmt::rfc3339(written);
    let runs: Vec<&str> = under_way
        .iter()
        .filter(|(_, started)| started.as_str() <= written.as_str())
        .map(|(run, _)| run.as_str())
        .collect();
    (!runs.is_empty()).then(|| runs.join(" or "))
}

/// Whether this process may write in `root` (not a read-only mount or another's folder).
fn writable(root: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(path) = std::ffi::CString::new(root.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: access(2) reads a NUL-terminated path and nothing else.
    unsafe { libc::access(path.as_ptr(), libc::W_OK) == 0 }
}
