//! An unresponsive shared index: a PostgreSQL whose postmaster is stopped (SIGSTOP) accepts
//! TCP connections and never answers. `run` ends with one line naming it (exit 1) within its
//! connect timeout, and SIGTERM during that wait ends the run within 2 s (exit 143). A server
//! frozen whole (postmaster and backends) while a run is connected leaves a statement waiting
//! for an answer that never comes: SIGTERM ends that run within 2 s too, and once the server
//! answers again the next run finishes the work and `verify` is clean.
//!
//! Each test starts a PostgreSQL instance of its own (initdb in a temp folder, another port, as
//! the `postgres` user; root, as CI has): the shared server other tests use is never stopped.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::TestEnv;

/// A throwaway PostgreSQL server, stopped and removed on drop.
struct OwnPostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl OwnPostgres {
    fn start() -> OwnPostgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL is installed")
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .find(|b| b.join("initdb").exists())
            .expect("initdb");
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("chown")
            .args(["postgres:"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "chown needs root, as CI has");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = OwnPostgres { dir, bin, port };
        pg.as_postgres(&[
            pg.bin.join("initdb").to_str().unwrap(),
            "-D",
            pg.data().to_str().unwrap(),
            "-A",
            "trust",
            "-U",
            "postgres",
        ]);
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1",
            pg.dir.path().display()
        );
        pg.as_postgres(&[
            pg.bin.join("pg_ctl").to_str().unwrap(),
            "-D",
            pg.data().to_str().unwrap(),
            "-o",
            &options,
            "-l",
            pg.dir.path().join("log").to_str().unwrap(),
            "-w",
            "start",
        ]);
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn as_postgres(&self, args: &[&str]) {
        let out = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .args(args)
            .output()
            .expect("runuser runs");
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn postmaster(&self) -> libc::pid_t {
        let pid = std::fs::read_to_string(self.data().join("postmaster.pid")).unwrap();
        pid.lines().next().unwrap().trim().parse().unwrap()
    }

    fn signal(&self, signal: libc::c_int) {
        // SAFETY: a plain kill(2) on the server this test started.
        assert_eq!(unsafe { libc::kill(self.postmaster(), signal) }, 0);
    }

    /// The postmaster and every process it started (backends, writers).
    fn processes(&self) -> Vec<libc::pid_t> {
        let postmaster = self.postmaster();
        let mut pids = vec![postmaster];
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<libc::pid_t>() else {
                continue;
            };
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            let parent = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse().ok());
            if parent == Some(postmaster) {
                pids.push(pid);
            }
        }
        pids
    }

    /// Sends `signal` to the whole server: SIGSTOP freezes it as a suspended VM would.
    fn signal_all(&self, signal: libc::c_int) {
        for pid in self.processes() {
            // SAFETY: a plain kill(2) on a process of the server this test started.
            unsafe { libc::kill(pid, signal) };
        }
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        // Thawed whatever happened to the test: a stopped server is never left behind.
        self.signal_all(libc::SIGCONT);
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args([
                "-D",
                self.data().to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ])
            .output();
    }
}

/// Waits for `child` at most `limit`: its exit code, or `None` (then it is killed).
fn wait_at_most(child: &mut std::process::Child, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status.code().unwrap_or(-1));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

fn start_run(pipeline: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_dossier"))
        .args(["run", pipeline.to_str().unwrap(), "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dossier starts")
}

fn stderr_of(child: &mut std::process::Child) -> String {
    let mut text = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut text).unwrap();
    text
}

#[test]
fn a_stopped_postmaster_ends_the_run_with_one_line_and_sigterm_ends_the_wait_at_once() {
    let pg = OwnPostgres::start();
    let env = TestEnv::generated(1);
    env.write_pipeline(&format!(
        "[index]\nurl = \"{}\"\nconnect_timeout_seconds = 3\n",
        pg.url()
    ));
    pg.signal(libc::SIGSTOP);

    // Unresponsive: one line naming the index and the limit, exit 1, soon after the limit.
    let started = Instant::now();
    let mut run = start_run(&env.pipeline());
    let code = wait_at_most(&mut run, Duration::from_secs(60));
    let took = started.elapsed();
    let stderr = stderr_of(&mut run);
    assert_eq!(code, Some(1), "the run hung or failed otherwise: {stderr}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("127.0.0.1:{}", pg.port)) && stderr.contains("no answer within 3"),
        "{stderr}"
    );

    // SIGTERM while it waits for the database: stopped within 2 s, as a clean stop.
    env.write_pipeline(&format!("[index]\nurl = \"{}\"\n", pg.url()));
    let mut run = start_run(&env.pipeline());
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        run.try_wait().unwrap().is_none(),
        "still waiting for the database"
    );
    let signalled = Instant::now();
    // SAFETY: a plain kill(2) on our own child.
    assert_eq!(
        unsafe { libc::kill(run.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let code = wait_at_most(&mut run, Duration::from_secs(30));
    let took = signalled.elapsed();
    let stderr = stderr_of(&mut run);
    assert_eq!(code, Some(143), "{stderr}");
    assert!(took < Duration::from_secs(2), "took {took:?} after SIGTERM");
    assert!(stderr.contains("stopped by a signal"), "{stderr}");

    // Once the server answers again the run goes through.
    pg.signal(libc::SIGCONT);
    let (code, report, stderr) = env.run();
    assert_eq!(code, 0, "{report}\n{stderr}");
    assert_eq!(
        report["documents_added"].as_u64(),
        Some(env.manifest.files.len() as u64)
    );
}

/// CPU seconds `pid` has used, all its threads together.
fn cpu_seconds(pid: u32) -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let cpu: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<f64>().ok())
        .sum();
    cpu / ticks
}

#[test]
fn sigterm_while_a_statement_waits_on_a_frozen_server_ends_the_run_within_2_s() {
    let pg = OwnPostgres::start();
    let env = TestEnv::generated(8);
    env.write_pipeline(&format!(
        "[index]\nurl = \"{}\"\nlease_seconds = 2\n",
        pg.url()
    ));
    let mut run = start_run(&env.pipeline());
    let pid = run.id();
    // Connected, schema made, files claimed: the run is reading pages.
    let deadline = Instant::now() + Duration::from_secs(120);
    while cpu_seconds(pid) < 1.5 {
        assert!(run.try_wait().unwrap().is_none(), "{}", stderr_of(&mut run));
        assert!(Instant::now() < deadline, "the run never got going");
        std::thread::sleep(Duration::from_millis(20));
    }
    pg.signal_all(libc::SIGSTOP);
    // The run reads on until it needs the server, then every thread waits on it: its CPU
    // time stands still while it lives.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = (cpu_seconds(pid), Instant::now());
    loop {
        std::thread::sleep(Duration::from_millis(100));
        assert!(run.try_wait().unwrap().is_none(), "{}", stderr_of(&mut run));
        assert!(
            Instant::now() < deadline,
            "the run never waited on the server"
        );
        let now = cpu_seconds(pid);
        if now > last.0 + 0.02 {
            last = (now, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(2) {
            break;
        }
    }

    let signalled = Instant::now();
    // SAFETY: a plain kill(2) on our own child.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) }, 0);
    let code = wait_at_most(&mut run, Duration::from_secs(30));
    let took = signalled.elapsed();
    let stderr = stderr_of(&mut run);
    eprintln!("exited {took:?} after SIGTERM");
    assert_eq!(code, Some(143), "{stderr}");
    assert!(took < Duration::from_secs(2), "took {took:?} after SIGTERM");
    assert!(stderr.contains("stopped by SIGTERM"), "{stderr}");

    // Thawed, and once the stopped run's lease has run out, the next run finishes the work.
    pg.signal_all(libc::SIGCONT);
    std::thread::sleep(Duration::from_secs(3));
    let (code, report, stderr) = env.run();
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    let out = env.dossier(&[
        "verify",
        "--archive",
        env.archive().to_str().unwrap(),
        "--index",
        &pg.url(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for f in &env.manifest.files {
        let out = env.dossier(&[
            "show",
            "--archive",
            env.archive().to_str().unwrap(),
            "--index",
            &pg.url(),
            &f.dossier,
            "--json",
        ]);
        let view: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let versions: Vec<u64> = view["documents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["path"] == f.path.as_str())
            .map(|d| d["version"].as_u64().unwrap())
            .collect();
        assert_eq!(versions, vec![1], "{} archived once", f.path);
    }
}
