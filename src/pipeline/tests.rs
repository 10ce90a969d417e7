//! Unit tests of scheduling, batch splitting, assembly and commit, with a test recognizer
//! that returns known text (no Tesseract): the decoder, the store and the index are real.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use image::{GrayImage, Luma};

use super::*;
use crate::ocr::{PageRead, PageText};
use crate::sample::{encode, FileKind};

const PROCEDURE: &str = "1.001193";
const DOSSIER_A: &str = "000.00.01.H50-240115-0001";
const DOSSIER_B: &str = "000.00.01.H50-240115-0002";

/// Reads a page as "page of width W": pages are told apart by their widths. Earlier (narrower)
/// pages take longer, so with two workers they finish out of order.
struct KnownText {
    /// Pages of this width fail.
    fails_on_width: Option<u32>,
}

impl Recognizer for KnownText {
    fn read(&mut self, image: GrayImage, _dpi: u32) -> Result<PageRead, OcrError> {
        let width = image.width();
        std::thread::sleep(Duration::from_millis(u64::from(610 - width.min(610)) * 5));
        if Some(width) == self.fails_on_width {
            return Err(OcrError::Recognize);
        }
        Ok(PageRead {
            text: PageText {
                text: format!("page of width {width}"),
                confidence: 91.0,
                hocr: String::new(),
            },
            turned: 0,
            deskewed: 0.0,
            image,
            borders: Default::default(),
            foreign_languages: None,
        })
    }
}

/// A page `width` pixels wide with a dark band, so it is not blank.
fn page(width: u32) -> GrayImage {
    let mut img = GrayImage::from_pixel(width, 800, Luma([250]));
    for y in 100..140 {
        for x in 50..width - 50 {
            img.put_pixel(x, y, Luma([20]));
        }
    }
    img
}

struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().to_owned();
        std::fs::write(
            root.join("pipeline.toml"),
            "[pipeline]\nname = \"unit\"\nintake = \"intake\"\narchive = \"archive\"\njobs = 2\n\
             [quality]\nmin_dpi = 100\n[intake]\nsettle_seconds = 0\n",
        )
        .expect("pipeline file");
        Setup { _dir: dir, root }
    }

    fn config(&self) -> Config {
        let path = self.root.join("pipeline.toml");
        let text = std::fs::read_to_string(&path).expect("pipeline file");
        Config::from_toml(&text, &path).expect("valid pipeline")
    }

    fn write(&self, rel: &str, pages: &[GrayImage], kind: FileKind) {
        let path = self.root.join("intake").join(rel);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("intake folder");
        std::fs::write(&path, encode(pages, kind, 300).expect("encodes")).expect("intake file");
    }

    fn archive(&self) -> PathBuf {
        self.root.join("archive")
    }

    fn run(&self, recognizer: fn() -> KnownText, observer: &dyn Observer) -> RunReport {
        run_with(&self.config(), observer, &|| Ok(recognizer())).expect("the run succeeds")
    }
}

fn reads_well() -> KnownText {
    KnownText {
        fails_on_width: None,
    }
}

/// Counts every event of a run.
#[derive(Default)]
struct Counts {
    planned_files: AtomicUsize,
    pages_planned: AtomicUsize,
    pages_done: AtomicUsize,
    files_done: AtomicUsize,
    dossiers_done: AtomicUsize,
    rejected_notices: AtomicUsize,
    finished: AtomicUsize,
}

impl Observer for Counts {
    fn planned(&self, files: usize) {
        self.planned_files.fetch_add(files, Ordering::SeqCst);
    }
    fn pages_planned(&self, pages: usize) {
        self.pages_planned.fetch_add(pages, Ordering::SeqCst);
    }
    fn page_done(&self) {
        self.pages_done.fetch_add(1, Ordering::SeqCst);
    }
    fn file_done(&self) {
        self.files_done.fetch_add(1, Ordering::SeqCst);
    }
    fn dossier_done(&self, _: &DossierDone<'_>) {
        self.dossiers_done.fetch_add(1, Ordering::SeqCst);
    }
    fn notice(&self, notice: &Notice<'_>) {
        if matches!(notice, Notice::Rejected { .. }) {
            self.rejected_notices.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn finished(&self, _: &RunReport) {
        self.finished.fetch_add(1, Ordering::SeqCst);
    }
}

fn page_texts(archive: &Path, dossier: &str) -> Vec<Vec<String>> {
    let view = crate::query::show(archive, None, dossier).expect("the dossier is archived");
    view.documents
        .iter()
        .map(|d| d.pages.iter().map(|p| p.text.clone()).collect())
        .collect()
}

#[test]
fn pages_are_assembled_in_order_whatever_order_ocr_finishes_them() {
    let setup = Setup::new();
    let pages: Vec<GrayImage> = (600..605).map(page).collect();
    setup.write(
        &format!("{PROCEDURE}/{DOSSIER_A}/input/don.tif"),
        &pages,
        FileKind::Tiff,
    );
    let report = setup.run(reads_well, &Silent);
    assert_eq!(report.documents_added, 1);
    assert_eq!(report.pages_ocr, 5);
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    let expected: Vec<String> = (600..605).map(|w| format!("page of width {w}")).collect();
    assert_eq!(page_texts(&setup.archive(), DOSSIER_A), [expected]);
}

#[test]
fn the_observer_hears_each_file_page_and_dossier_once() {
    let setup = Setup::new();
    setup.write(
        &format!("{PROCEDURE}/{DOSSIER_A}/input/a.tif"),
        &[page(600), page(601)],
        FileKind::Tiff,
    );
    setup.write(
        &format!("{PROCEDURE}/{DOSSIER_A}/result/kq.png"),
        &[page(602)],
        FileKind::Png,
    );
    setup.write(
        &format!("{PROCEDURE}/{DOSSIER_B}/input/b.png"),
        &[page(603)],
        FileKind::Png,
    );
    let counts = Counts::default();
    let report = setup.run(reads_well, &counts);
    assert_eq!(report.documents_added, 3);
    assert_eq!(counts.planned_files.load(Ordering::SeqCst), 3);
    assert_eq!(counts.pages_planned.load(Ordering::SeqCst), 4);
    assert_eq!(counts.pages_done.load(Ordering::SeqCst), 4);
    assert_eq!(counts.files_done.load(Ordering::SeqCst), 3);
    assert_eq!(counts.dossiers_done.load(Ordering::SeqCst), 2);
    assert_eq!(counts.rejected_notices.load(Ordering::SeqCst), 0);
    assert_eq!(counts.finished.load(Ordering::SeqCst), 1);
}

#[test]
fn a_page_that_fails_ocr_rejects_its_document_naming_the_page() {
    let setup = Setup::new();
    setup.write(
        &format!("{PROCEDURE}/{DOSSIER_A}/input/don.tif"),
        &[page(600), page(601), page(602)],
        FileKind::Tiff,
    );
    let counts = Counts::default();
    let config = setup.config();
    let failing = || {
        Ok(KnownText {
            fails_on_width: Some(602),
        })
    };
    let report = run_with(&config, &counts, &failing).expect("the run succeeds");
    assert_eq!(report.documents_added, 1, "archived all the same");
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(
        report.rejected[0].reason,
        "page 3: OCR failed: Tesseract failed to recognise the page"
    );
    assert_eq!(report.needs_rescan, 1);
    assert_eq!(counts.rejected_notices.load(Ordering::SeqCst), 1);
    assert!(report.has_rejections());
}

#[test]
fn an_unchanged_intake_loads_no_recognizer_and_reads_nothing() {
    let setup = Setup::new();
    setup.write(
        &format!("{PROCEDURE}/{DOSSIER_A}/input/a.png"),
        &[page(600)],
        FileKind::Png,
    );
    setup.run(reads_well, &Silent);
    // Run ids are a timestamp to the second and the process id: one second apart.
    std::thread::sleep(Duration::from_millis(1100));
    let loads = AtomicUsize::new(0);
    let counting = || {
        loads.fetch_add(1, Ordering::SeqCst);
        Ok(reads_well())
    };
    let again = run_with(&setup.config(), &Silent, &counting).expect("the rerun succeeds");
    assert_eq!(loads.load(Ordering::SeqCst), 0);
    assert_eq!(again.files_unchanged, 1);
    assert_eq!(again.pages_ocr, 0);
    assert_eq!(again.documents_added, 0);
}

#[test]
fn a_recognizer_that_cannot_load_stops_the_run_before_anything_is_archived() {
    let setup = Setup::new();
    setup.write(
        &format!("{PROCEDURE}/{DOSSIER_A}/input/a.png"),
        &[page(600)],
        FileKind::Png,
    );
    let missing = || -> Result<KnownText, OcrError> {
        Err(OcrError::Init {
            languages: "xyz".into(),
            first: "xyz".into(),
            tessdata: None,
        })
    };
    let err = run_with(&setup.config(), &Silent, &missing).expect_err("the run stops");
    assert!(matches!(err, RunError::Ocr(OcrError::Init { .. })), "{err}");
    let index = crate::query::open_read_only(&setup.archive(), None).expect("index");
    assert_eq!(
        index
            .latest_sha256(&format!("{PROCEDURE}/{DOSSIER_A}/input/a.png"))
            .ok()
            .flatten(),
        None
    );
}

#[test]
fn a_batch_scan_is_split_at_its_cover_sheets_into_each_dossiers_document() {
    use crate::cover::{render_sheet, Symbols};
    let setup = Setup::new();
    let sheet = |code: &str| render_sheet(code, Symbols::BOTH, 150).expect("renders");
    let pages = vec![
        sheet(&format!("{PROCEDURE}/{DOSSIER_A}")),
        page(600),
        page(601),
        sheet(&format!("{PROCEDURE}/{DOSSIER_B}/result")),
        page(602),
    ];
    setup.write("_batch/scan.tif", &pages, FileKind::Tiff);
    let counts = Counts::default();
    let report = setup.run(reads_well, &counts);
    assert_eq!(report.quarantined_pages, 0, "{:?}", report.batches);
    assert_eq!(report.documents_added, 2);
    assert_eq!(report.pages_ocr, 3, "cover sheets are not read");
    let batch = &report.batches[0];
    assert_eq!(batch.pages, 5);
    assert_eq!(batch.segments[0].pages, [2, 3]);
    assert_eq!(batch.segments[1].pages, [5]);
    assert_eq!(
        page_texts(&setup.archive(), DOSSIER_A),
        [vec!["page of width 600", "page of width 601"]]
    );
    assert_eq!(
        page_texts(&setup.archive(), DOSSIER_B),
        [vec!["page of width 602"]]
    );
    assert_eq!(
        counts.files_done.load(Ordering::SeqCst),
        1,
        "one intake file"
    );
    assert_eq!(counts.dossiers_done.load(Ordering::SeqCst), 2);
}

/// Keeps every notice's log line, as the binary would print it.
#[derive(Default)]
struct Log(std::sync::Mutex<Vec<String>>);

impl Observer for Log {
    fn notice(&self, notice: &Notice<'_>) {
        self.0.lock().expect("log").push(notice.to_string());
    }
}

/// Every file under `dir` (the archive: index, journal, run reports, objects).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable folder") {
        let path = entry.expect("folder entry").path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_copied_id_cards_qr_code_stays_in_its_dossier_and_its_text_goes_nowhere() {
    use crate::cover::tests::{id_card_copy, qr_payloads, CCCD, CCCD_ID};
    use crate::cover::{render_sheet, Symbols, MARKER};
    let setup = Setup::new();
    let sheet = |payload: &str| render_sheet(payload, Symbols::BOTH, 150).expect("renders");
    let card = id_card_copy(900);
    assert_eq!(qr_payloads(&card), [CCCD], "the card's QR code is readable");
    let pages = vec![
        sheet(&format!("{PROCEDURE}/{DOSSIER_A}")), // 1: printed before the marker
        page(600),                                  // 2 → A
        card,                                       // 3 → A
        page(601),                                  // 4 → A
        sheet(&format!("{MARKER}{PROCEDURE}/{DOSSIER_B}/result")), // 5
        page(602),                                  // 6 → B (result)
        sheet(&format!("{MARKER}{PROCEDURE}/SECRET CODE")), // 7: marked, code refused
        page(603),                                  // 8: after it
    ];
    setup.write("_batch/scan.tif", &pages, FileKind::Tiff);
    let log = Log::default();
    let report = setup.run(reads_well, &log);
    let batch = &report.batches[0];
    let segments: Vec<(&str, &[u32])> = batch
        .segments
        .iter()
        .map(|s| (s.code.as_str(), s.pages.as_slice()))
        .collect();
    let (a, b) = (
        format!("{PROCEDURE}/{DOSSIER_A}"),
        format!("{PROCEDURE}/{DOSSIER_B}/result"),
    );
    assert_eq!(
        segments,
        [(a.as_str(), &[2, 3, 4][..]), (b.as_str(), &[6][..])]
    );
    assert_eq!(
        page_texts(&setup.archive(), DOSSIER_A),
        [vec![
            "page of width 600",
            "page of width 900",
            "page of width 601"
        ]],
        "the card's page is read with its dossier's"
    );
    let reasons: Vec<(&[u32], &str)> = batch
        .quarantined
        .iter()
        .map(|q| (q.pages.as_slice(), q.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                &[7][..],
                "cover sheet code: dossier code has a character that is not allowed \
                 (allowed: letters, digits, '.', '-', '_')"
            ),
            (&[8][..], "page after an invalid cover sheet (page 7)")
        ]
    );
    assert_eq!(report.quarantined_pages, 2);

    // Neither the card's data nor the refused code reaches the report, the log or the archive.
    let secrets = [CCCD_ID, "SECRET", "197301234", "15081990"];
    let json = serde_json::to_string(&report).expect("report");
    let lines = log.0.lock().expect("log").join("\n");
    assert!(
        lines.contains("quarantined _batch/scan.tif page 7"),
        "{lines}"
    );
    for secret in secrets {
        assert!(!json.contains(secret), "{secret} in the run report: {json}");
        assert!(!lines.contains(secret), "{secret} in the log: {lines}");
    }
    let files = files_under(&setup.archive());
    assert!(
        files.iter().any(|f| f.ends_with("index.sqlite")),
        "{files:?}"
    );
    for file in files {
        let bytes = std::fs::read(&file).expect("archive file");
        for secret in secrets {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} in {}",
                file.display()
            );
        }
    }
}

/// Appends to a file once the intake is listed, as a scanner still writing would.
struct AppendsAfterTheWalk(PathBuf);

impl Observer for AppendsAfterTheWalk {
    fn planned(&self, _files: usize) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.0)
            .expect("intake file");
        f.write_all(b"more bytes from the scanner")
            .expect("appended");
    }
}

#[test]
fn a_file_written_to_while_the_run_reads_it_is_left_for_the_next_run() {
    let setup = Setup::new();
    let growing = format!("{PROCEDURE}/{DOSSIER_A}/input/growing.png");
    setup.write(&growing, &[page(600)], FileKind::Png);
    setup.write(
        &format!("{PROCEDURE}/{DOSSIER_B}/input/b.png"),
        &[page(601)],
        FileKind::Png,
    );
    let scanner = AppendsAfterTheWalk(setup.root.join("intake").join(&growing));
    let report = setup.run(reads_well, &scanner);
    assert_eq!(report.documents_added, 1, "only the settled file");
    assert_eq!(report.deferred, std::slice::from_ref(&growing));
    assert_eq!(report.changed_during_read.len(), 1);
    assert!(
        report.changed_during_read[0]
            .reason
            .starts_with("changed while being read ("),
        "{:?}",
        report.changed_during_read
    );
    assert!(!report.has_rejections(), "not an input error: exit 0");
    let index = crate::query::open_read_only(&setup.archive(), None).expect("index");
    assert_eq!(index.latest_sha256(&growing).expect("index reads"), None);
    assert_eq!(
        index
            .known_file(&growing)
            .expect("index reads")
            .map(|k| k.bytes),
        None
    );
    // Settled, it is read by the next run.
    std::thread::sleep(Duration::from_millis(1100));
    let again = setup.run(reads_well, &Silent);
    assert_eq!(again.documents_added, 1);
    assert!(again.changed_during_read.is_empty());
}
