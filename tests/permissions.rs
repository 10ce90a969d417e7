//! Permission drift and foreign owners: the archive is private to its owner (0700/0600).
//! `verify` reports folders opened to others, anything others may write and files of another
//! owner as findings (exit 4); root never writes into another user's archive. Needs root
//! (chown), as CI has.

mod common;

use std::os::unix::fs::MetadataExt;
use std::process::Command;

use common::{verify, TestEnv};
use serde_json::Value;

fn permission_findings(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "permissions")
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_owned(),
                f["detail"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn sh(args: &[&str]) {
    assert!(
        Command::new(args[0])
            .args(&args[1..])
            .status()
            .unwrap()
            .success(),
        "{args:?}"
    );
}

#[test]
fn loosened_permissions_and_foreign_owners_are_findings_and_root_stays_out() {
    let env = TestEnv::generated(1);
    let (code, report, stderr) = env.run();
    assert_eq!(code, 0, "{report}\n{stderr}");
    let archive = env.archive();
    let a = archive.to_str().unwrap();
    let (code, report) = verify(&env, &archive, &[]);
    assert_eq!(code, 0, "{report}");

    // `chmod -R go+rX`, as a helpful administrator might.
    sh(&["chmod", "-R", "go+rX", a]);
    let (code, report) = verify(&env, &archive, &[]);
    assert_eq!(code, 4, "{report}");
    let found = permission_findings(&report);
    assert!(
        found
            .iter()
            .any(|(f, d)| f == "objects" && d.contains("0755")),
        "{found:?}"
    );
    assert!(found.iter().any(|(f, _)| f == "runs"), "{found:?}");
    sh(&["chmod", "-R", "go-rwx", a]);
    let (code, report) = verify(&env, &archive, &[]);
    assert_eq!(code, 0, "{report}");

    // A file others may write, and one of another owner.
    let ledger = archive.join("ledger.jsonl");
    sh(&["chmod", "o+w", ledger.to_str().unwrap()]);
    let runs = std::fs::read_dir(archive.join("runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    sh(&["chown", "65534", runs.to_str().unwrap()]);
    let (code, report) = verify(&env, &archive, &[]);
    assert_eq!(code, 4, "{report}");
    let found = permission_findings(&report);
    assert!(
        found
            .iter()
            .any(|(f, d)| f == "ledger.jsonl" && d.contains("writable by group or others")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(f, d)| f.starts_with("runs/") && d.contains("owned by uid 65534")),
        "{found:?}"
    );

    // Root in another user's archive: refused with the owner named, nothing written as root.
    sh(&["chown", "-R", "65534", a]);
    let (code, report, stderr) = {
        let out = env.dossier(&["run", env.pipeline().to_str().unwrap(), "-q"]);
        (
            out.status.code(),
            out.stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(code, Some(1), "{stderr}");
    drop(report);
    assert!(stderr.contains("belongs to uid 65534"), "{stderr}");
    let (_, _) = verify(&env, &archive, &[]);
    for entry in walkdir::WalkDir::new(&archive) {
        let entry = entry.unwrap();
        assert_eq!(
            entry.metadata().unwrap().uid(),
            65534,
            "{} left owned by root",
            entry.path().display()
        );
    }
}
