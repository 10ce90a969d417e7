//! Crashes and signals: kill -9 at many moments of one batch, then SIGTERM and SIGINT.
//! After each, the next run completes and verify passes: nothing lost, nothing twice.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::TestEnv;
use serde_json::Value;

fn start_run(env: &TestEnv) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_dossier"))
        .args(["run", env.pipeline().to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Every intake file archived exactly once (one version), the store clean, verify clean.
fn assert_whole(env: &TestEnv, moment: &str) {
    let (code, report, stderr) = env.run();
    assert_eq!(code, 0, "{moment}: the next run completes\n{stderr}");
    assert!(
        report["rejected"].as_array().unwrap().is_empty(),
        "{moment}: {report:#}"
    );
    let mut versions: HashMap<String, Vec<u64>> = HashMap::new();
    let dossiers: std::collections::BTreeSet<&str> = env
        .manifest
        .files
        .iter()
        .map(|f| f.dossier.as_str())
        .collect();
    for dossier in dossiers {
        let view = env.show(dossier);
        for d in view["documents"].as_array().unwrap() {
            versions
                .entry(d["path"].as_str().unwrap().to_owned())
                .or_default()
                .push(d["version"].as_u64().unwrap());
        }
    }
    for f in &env.manifest.files {
        assert_eq!(
            versions.get(&f.path),
            Some(&vec![1]),
            "{moment}: {} archived exactly once",
            f.path
        );
    }
    assert_eq!(
        versions.len(),
        env.manifest.files.len(),
        "{moment}: nothing else archived"
    );
    assert!(
        std::fs::read_dir(env.archive().join("tmp"))
            .unwrap()
            .next()
            .is_none(),
        "{moment}: tmp/ is empty"
    );
    let out = env.dossier(&[
        "verify",
        "--archive",
        env.archive().to_str().unwrap(),
        "--json",
    ]);
    let verify: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{moment}: verify passes: {verify:#}"
    );
}

#[test]
fn kill_9_at_twenty_moments_then_rerun() {
    // One dossier (an input and a result document): each moment costs a whole rerun.
    let env = TestEnv::generated(1);
    // How long one whole batch takes here, to spread the kills over it.
    let t = Instant::now();
    let (code, _, _) = env.run();
    assert_eq!(code, 0);
    let whole = t.elapsed();
    let moments = 20;
    let mut orphans_named = 0;
    for i in 0..moments {
        std::fs::remove_dir_all(env.archive()).unwrap();
        let at = whole.mul_f64((i as f64 + 0.5) / moments as f64);
        let mut child = start_run(&env);
        std::thread::sleep(at);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        orphans_named += objects_left_are_named_with_their_run(&env);
        assert_whole(
            &env,
            &format!(
                "killed at {:.0} ms of {:.0}",
                at.as_millis(),
                whole.as_millis()
            ),
        );
    }
    assert!(
        orphans_named > 0,
        "some kill came between storing an original and committing it"
    );
}

/// Before the next run, verify names the killed run beside each object stored for a document
/// not yet committed (originals are stored before their pages are read). Returns how many.
fn objects_left_are_named_with_their_run(env: &TestEnv) -> usize {
    let archive = env.archive();
    if !archive.join("index.sqlite").exists() {
        return 0;
    }
    let out = env.dossier(&["verify", "--archive", archive.to_str().unwrap(), "--json"]);
    let Ok(verify) = serde_json::from_slice::<Value>(&out.stdout) else {
        return 0;
    };
    let mut named = 0;
    for f in verify["findings"].as_array().into_iter().flatten() {
        let detail = f["detail"].as_str().unwrap_or("");
        if f["kind"] == "untracked" && detail.starts_with("stored object") {
            assert!(
                detail.contains("stored while run ") && detail.contains("the next run commits it"),
                "{f}"
            );
            named += 1;
        }
    }
    named
}

/// Starts a run, waits for its first dossier line, sends `signal`; returns the exit code.
fn interrupt_after_first_dossier(env: &TestEnv, signal: i32) -> i32 {
    let mut child = start_run(env);
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let line = lines
            .next()
            .expect("run prints a line per dossier")
            .unwrap();
        if common::log_message(&line).starts_with("dossier ") {
            break;
        }
        assert!(Instant::now() < deadline);
    }
    // SAFETY: sending a signal to our own child.
    unsafe { libc::kill(child.id() as i32, signal) };
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert!(
        rest.iter().any(|l| l.contains("stopped by a signal")),
        "{rest:?}"
    );
    status.code().unwrap_or(-1)
}

#[test]
fn sigterm_and_sigint_stop_cleanly_and_the_next_run_resumes() {
    let env = TestEnv::generated(5);
    assert_eq!(interrupt_after_first_dossier(&env, libc::SIGTERM), 143);
    // The interrupted run left a report that says so.
    let reports: Vec<Value> = std::fs::read_dir(env.archive().join("runs"))
        .unwrap()
        .map(|e| serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap())
        .collect();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["interrupted"], "SIGTERM");
    let added = reports[0]["documents_added"].as_u64().unwrap();
    assert!(
        added >= 1 && (added as usize) < env.manifest.files.len(),
        "{:#}",
        reports[0]
    );
    assert_whole(&env, "after SIGTERM");

    std::fs::remove_dir_all(env.archive()).unwrap();
    assert_eq!(interrupt_after_first_dossier(&env, libc::SIGINT), 130);
    assert_whole(&env, "after SIGINT");
}
