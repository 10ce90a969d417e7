//! TestEnv: a temporary intake + archive + pipeline file, and the real binary run on it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dossier::sample::{self, Manifest, Paper, SampleOptions};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub manifest: Manifest,
}

/// Pages 140 mm tall hold the whole form and OCR in a third of the time of A4.
pub const TEST_PAPER: Paper = Paper {
    width_mm: 210.0,
    height_mm: 140.0,
};

impl TestEnv {
    /// `n` generated dossiers (each one input page, plus a result page when completed).
    pub fn generated(n: usize) -> TestEnv {
        TestEnv::generated_at(n, 300)
    }

    /// `n` generated dossiers scanned at `dpi`.
    pub fn generated_at(n: usize, dpi: u32) -> TestEnv {
        let dir = tempfile::tempdir().expect("temp dir");
        let opts = SampleOptions {
            dossiers: Some(n),
            seed: 7,
            paper: TEST_PAPER,
            dpi,
        };
        let manifest = sample::generate(dir.path(), &opts).expect("samples render");
        let env = TestEnv { dir, manifest };
        env.write_pipeline("");
        env
    }

    /// Replaces the first generated PNG with `lines` printed at 300 dpi on A4-wide paper
    /// `height_mm` high (a foreign document, a form filled in by hand): that file, and the
    /// text printed.
    pub fn print_over_first_png(
        &self,
        lines: &[&str],
        height_mm: f32,
    ) -> (sample::ManifestFile, String) {
        use dossier::sample::render::{render_page, Fonts, Line};
        let file = self
            .manifest
            .files
            .iter()
            .find(|f| f.path.ends_with(".png"))
            .expect("a PNG among the generated files")
            .clone();
        let fonts = Fonts::find().expect("fonts");
        let lines: Vec<Line> = lines.iter().map(|l| Line::body(*l)).collect();
        let paper = Paper {
            width_mm: 210.0,
            height_mm,
        };
        let (page, printed) = render_page(&fonts, &lines, paper, 300);
        page.save(self.intake().join(&file.path))
            .expect("the page saves");
        (file, printed.join("\n"))
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn intake(&self) -> PathBuf {
        self.root().join("intake")
    }

    pub fn archive(&self) -> PathBuf {
        self.root().join("archive")
    }

    pub fn pipeline(&self) -> PathBuf {
        self.root().join("pipeline.toml")
    }

    /// Writes the pipeline file; `extra` is appended (more sections).
    pub fn write_pipeline(&self, extra: &str) {
        let text = format!(
            "[pipeline]\nname = \"test\"\nintake = \"intake\"\narchive = \"archive\"\njobs = 2\n\n\
             [intake]\nsettle_seconds = 0\n{extra}"
        );
        std::fs::write(self.pipeline(), text).expect("pipeline file");
    }

    pub fn dossier(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_dossier"))
            .args(args)
            .output()
            .expect("dossier runs")
    }

    /// `dossier run --json`: (exit code, report, stderr).
    pub fn run(&self) -> (i32, Value, String) {
        let out = self.dossier(&["run", self.pipeline().to_str().unwrap(), "--json"]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let report = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("run report is JSON ({e}); stderr:\n{stderr}"));
        (out.status.code().unwrap_or(-1), report, stderr)
    }

    pub fn show(&self, dossier: &str) -> Value {
        let out = self.dossier(&[
            "show",
            "--archive",
            self.archive().to_str().unwrap(),
            dossier,
            "--json",
        ]);
        assert!(
            out.status.success(),
            "show failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("show prints JSON")
    }

    pub fn search(&self, query: &str) -> Vec<Value> {
        let out = self.dossier(&[
            "search",
            "--archive",
            self.archive().to_str().unwrap(),
            query,
            "--json",
        ]);
        assert!(
            out.status.success(),
            "search failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Vec<Value>>(&out.stdout).expect("search prints JSON")
    }
}

/// A log line's message: what follows its ISO timestamp and level (panics on a line that is not
/// a log line, so a line without them fails the test that reads it).
pub fn log_message(line: &str) -> &str {
    dossier::log::text_message(line)
        .unwrap_or_else(|| panic!("not a log line (timestamp, level, message): {line:?}"))
}

/// A fresh copy of the built archive under `name` (so that each tampering starts clean).
pub fn copy_archive(env: &TestEnv, name: &str) -> PathBuf {
    let dest = env.root().join(name);
    let status = Command::new("cp")
        .arg("-a")
        .arg(env.archive())
        .arg(&dest)
        .status()
        .expect("cp runs");
    assert!(status.success());
    dest
}

/// `dossier verify --archive ARCHIVE --json EXTRA...`: (exit code, report).
pub fn verify(env: &TestEnv, archive: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["verify", "--archive", archive.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let out = env.dossier(&args);
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "verify prints JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

/// Runs SQL on an archive's SQLite index.
pub fn sql(archive: &Path, statement: &str) {
    let conn = rusqlite::Connection::open(archive.join("index.sqlite")).unwrap();
    conn.execute_batch(statement).unwrap();
}

pub fn sha256_file(path: &Path) -> String {
    sha256_bytes(&std::fs::read(path).expect("readable"))
}

pub fn sha256_bytes(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[path = "../../benches/common/cer_text.rs"]
mod cer_text;

/// Character error rate: edit distance over the reference length (whitespace runs folded,
/// both sides NFC), as the CER benches count it.
pub fn cer(reference: &str, hypothesis: &str) -> f64 {
    let (edits, length) = cer_text::edits(reference, hypothesis);
    edits as f64 / length.max(1) as f64
}
