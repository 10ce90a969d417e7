//! SIGTERM and SIGINT while a page is inside Tesseract: the page is cancelled within a word,
//! the run winds down (run report written, exit 130/143) within 2 s of the signal, nothing of
//! that document is committed, `verify` is clean, and the next run archives it.
//!
//! The page is an A4 sheet at 300 dpi full of 8-point text, which takes Tesseract many
//! seconds. The test sees that OCR has started from the CPU time of the run's OCR threads
//! (named `ocr-N`), and checks afterwards, from the next run's own timing, that the page was
//! signalled well before Tesseract would have finished it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::TestEnv;
use dossier::sample::{self, render, FileKind};
use serde_json::Value;

/// A 300-dpi A4 page of small print: a few thousand words, many seconds of OCR.
fn dense_page(variant: &str) -> Vec<u8> {
    let fonts = render::Fonts::find().expect("fonts");
    let lines: Vec<render::Line> = (0..400)
        .map(|i| render::Line {
            points: 8.0,
            ..render::Line::body(format!(
                "{variant} dòng {i}: giấy đề nghị đăng ký hộ kinh doanh, số hồ sơ {}, \
                 người nộp Nguyễn Văn An, địa chỉ phường Bến Nghé, quận 1",
                1000 + i * 7
            ))
        })
        .collect();
    let (page, _) = render::render_page(&fonts, &lines, render::A4, 300);
    sample::encode(&[page], FileKind::Png, 300).expect("PNG")
}

/// CPU seconds the busiest OCR thread of `pid` has used (0 before any OCR thread exists).
fn ocr_cpu_seconds(pid: u32) -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0.0;
    };
    let mut busiest = 0.0f64;
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.starts_with("ocr-") {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // Fields after the command name (which ends with the last ')'): utime is the 12th
        // and stime the 13th of them.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let cpu: f64 = [11, 12]
            .iter()
            .filter_map(|&i| fields.get(i)?.parse::<f64>().ok())
            .sum();
        busiest = busiest.max(cpu / ticks);
    }
    busiest
}

fn start_run(pipeline: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_dossier"))
        .args(["run", pipeline.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dossier starts")
}

/// Waits for `child` at most `limit`: its exit code, or `None` (then it is killed).
fn wait_at_most(child: &mut Child, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status.code().unwrap_or(-1));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

fn stderr_of(child: &mut Child) -> String {
    let mut text = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut text).unwrap();
    text
}

/// The run reports in the archive, oldest first (their names start with the run's time).
fn run_reports(archive: &Path) -> Vec<Value> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(archive.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
        .collect()
}

fn archived_paths(env: &TestEnv, dossier: &str) -> Vec<String> {
    env.show(dossier)["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap().to_owned())
        .collect()
}

/// Adds a dense page to the first dossier, starts a run, sends `signal` once OCR has run two
/// seconds on it, and checks the stop; then the next run archives the page.
fn stop_inside_tesseract(env: &TestEnv, signal: libc::c_int, name: &str) {
    let f = &env.manifest.files[0];
    let folder = Path::new(&f.path).parent().unwrap();
    let rel = folder.join(format!("day-dac-{name}.png"));
    let rel = rel.to_str().unwrap().to_owned();
    std::fs::write(env.intake().join(&rel), dense_page(name)).unwrap();
    let before = archived_paths(env, &f.dossier);

    let mut run = start_run(&env.pipeline());
    let pid = run.id();
    let deadline = Instant::now() + Duration::from_secs(180);
    while ocr_cpu_seconds(pid) < 2.0 {
        if run.try_wait().unwrap().is_some() {
            panic!(
                "the run ended before OCR got going: {}",
                stderr_of(&mut run)
            );
        }
        assert!(Instant::now() < deadline, "OCR never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let ocr_at_signal = ocr_cpu_seconds(pid);
    let signalled = Instant::now();
    // SAFETY: a plain kill(2) on our own child.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, signal) }, 0);
    let code = wait_at_most(&mut run, Duration::from_secs(60));
    let took = signalled.elapsed();
    let stderr = stderr_of(&mut run);
    eprintln!("{name}: exited {took:?} after the signal, OCR had used {ocr_at_signal:.1} s");
    assert_eq!(code, Some(128 + signal), "{stderr}");
    assert!(took < Duration::from_secs(2), "took {took:?} after {name}");
    // Wound down by itself (the page was cancelled), not ended by the watchdog.
    assert!(stderr.contains("stopped by a signal"), "{stderr}");
    assert!(!stderr.contains("while it waited"), "{stderr}");
    let reports = run_reports(&env.archive());
    let last = reports.last().unwrap();
    assert_eq!(last["interrupted"], name, "{last:#}");
    assert_eq!(last["documents_added"], 0, "{last:#}");
    assert!(last["rejected"].as_array().unwrap().is_empty(), "{last:#}");

    // Nothing of the document is in the index (its original may be in the store already,
    // untracked until the next run adopts it).
    assert_eq!(archived_paths(env, &f.dossier), before);

    // The next run reads the page whole, and it took far longer than the moment it was
    // stopped at: the signal came while Tesseract was reading it.
    let (code, report, stderr) = env.run();
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(report["documents_added"], 1, "{report:#}");
    let ocr_seconds = report["ocr_seconds"].as_f64().unwrap();
    assert!(
        ocr_seconds > ocr_at_signal + 1.0,
        "the page takes {ocr_seconds:.1} s: it was signalled at {ocr_at_signal:.1} s"
    );
    let after = archived_paths(env, &f.dossier);
    assert!(after.contains(&rel), "{after:?}");
    assert_eq!(after.len(), before.len() + 1);
    let verify = env.dossier(&["verify", "--archive", env.archive().to_str().unwrap()]);
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

#[test]
fn sigterm_and_sigint_cancel_the_page_inside_tesseract_within_two_seconds() {
    let env = TestEnv::generated(1);
    let (code, report, stderr) = env.run();
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    stop_inside_tesseract(&env, libc::SIGTERM, "SIGTERM");
    stop_inside_tesseract(&env, libc::SIGINT, "SIGINT");
}

#[test]
fn sigterm_while_another_process_holds_the_index_lock_ends_the_wait_at_once() {
    let env = TestEnv::generated(1);
    let (code, report, stderr) = env.run();
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    // Another process (a long `verify`, a person's sqlite3 shell) holds the index's lock: the
    // run's first write waits for it (up to 30 s).
    let holder = rusqlite::Connection::open(env.archive().join("index.sqlite")).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let mut run = start_run(&env.pipeline());
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        run.try_wait().unwrap().is_none(),
        "the run waits for the lock: {}",
        stderr_of(&mut run)
    );
    let signalled = Instant::now();
    // SAFETY: a plain kill(2) on our own child.
    assert_eq!(
        unsafe { libc::kill(run.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let code = wait_at_most(&mut run, Duration::from_secs(60));
    let took = signalled.elapsed();
    let stderr = stderr_of(&mut run);
    eprintln!("exited {took:?} after SIGTERM");
    assert_eq!(code, Some(143), "{stderr}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    // The wait itself gave up (not the watchdog), with one line.
    assert!(!stderr.contains("while it waited"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);

    let (code, report, stderr) = env.run();
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    let verify = env.dossier(&["verify", "--archive", env.archive().to_str().unwrap()]);
    assert_eq!(verify.status.code(), Some(0));
}
