//! Command-line arguments (SPEC.md "Command line"). Parsing only: `cmd` resolves them.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "dossier",
    version,
    about = "Digitize one-stop-shop dossiers: OCR, a fixity archive, search",
    after_help = "Exit codes: 0 done; 1 fatal (bad config, archive locked or unwritable); 2 usage; \
                  3 batch finished but some inputs were rejected; 4 verify found a problem."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// A shared index, postgres://user:password@host/dbname (default: the pipeline's
    /// [index] url, else the archive's own index.sqlite).
    #[arg(long, global = true, value_name = "URL")]
    pub index: Option<String>,
    /// Also log debug messages, Tesseract's and Leptonica's own among them (each naming its
    /// file).
    #[arg(long, short, global = true, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Log warnings and errors only (no progress, no line per dossier, no summary).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Log lines as text (timestamp, level, message) or as JSON objects, one per line.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `2026-12-02T07:01:02.345Z INFO  message`
    Text,
    /// `{"time":…,"level":…,"message":…}`, for log collectors.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the nightly batch described by a pipeline file.
    Run(RunArgs),
    /// Digitization coverage per procedure or unit, against the one-stop-shop register.
    Report(ReportArgs),
    /// Fixity audit: re-hash every stored file, check the index and the run ledger.
    Verify(VerifyArgs),
    /// Export dossiers as a BagIt bag (RFC 8493) for another archive.
    ExportBag(ExportBagArgs),
    /// Full-text search, ignoring case and Vietnamese diacritics.
    Search(SearchArgs),
    /// One dossier with its documents, pages and evidence.
    Show(ShowArgs),
    /// Make the index again from the evidence (records, imports, ledger), without OCR.
    RebuildIndex(RebuildIndexArgs),
    /// Print cover sheets (QR code + Code 128) to put in front of dossiers in a batch scan.
    CoverSheets(CoverSheetsArgs),
    /// Write sample dossiers (intake tree, register, catalog, manifest of the printed text).
    Sample(SampleArgs),
    /// The auditors' web desk: read-only pages from every figure down to the scanned page.
    Serve(ServeArgs),
    /// Audit by sampling: draw a sample, record verdicts, report the error rate.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Who viewed which dossier on the web desk, and when.
    AccessLog(AccessLogArgs),
    /// The web desk's users (needed to listen on any address but loopback).
    #[command(subcommand)]
    Users(UsersCommand),
    /// Write the man pages or the shell completions (for packagers: scripts/build-deb.sh).
    #[command(hide = true)]
    Generate(GenerateArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Generated {
    /// Man pages: dossier.1 and one per subcommand (dossier-run.1, …).
    Man,
    /// Completions for bash, fish and zsh.
    Completions,
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// What to write.
    #[arg(value_enum)]
    pub what: Generated,
    /// The folder to write into (made if missing).
    pub dir: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The archive folder.
    #[arg(long)]
    pub archive: PathBuf,
    /// Address and port; any address but loopback needs desk users (`dossier users add`).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Target rate in percent, as `report --target` (default 99).
    #[arg(long, default_value_t = 99.0)]
    pub target: f64,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// A reproducible random sample of the dossiers counted as digitized in the period.
    Sample(AuditSampleArgs),
    /// Record a verdict on a dossier (a ledger entry and events).
    Record(AuditRecordArgs),
    /// The observed error rate of the verdicts, with its 95% Wilson interval.
    Report(AuditReportArgs),
}

#[derive(Debug, clap::Args)]
pub struct AuditSampleArgs {
    /// The archive folder.
    #[arg(long)]
    pub archive: PathBuf,
    /// First received date of the period, YYYY-MM-DD or dd/mm/yyyy.
    #[arg(long)]
    pub from: Option<String>,
    /// Last received date of the period, inclusive.
    #[arg(long)]
    pub to: Option<String>,
    /// How many dossiers to draw.
    #[arg(long)]
    pub size: usize,
    /// The seed (default: a fresh one, printed so that the sample can be drawn again).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print JSON on standard output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Verdict {
    Confirmed,
    NotConfirmed,
}

#[derive(Debug, clap::Args)]
pub struct AuditRecordArgs {
    /// The archive folder.
    #[arg(long)]
    pub archive: PathBuf,
    /// The dossier code, as issued (000.00.01.H50-240115-0001).
    pub dossier_code: String,
    /// What the auditor found: the scans match the paper dossier, or not.
    #[arg(long, value_enum)]
    pub verdict: Verdict,
    /// A note kept with the verdict.
    #[arg(long, default_value = "")]
    pub note: String,
    /// Who checked (default: the login name).
    #[arg(long)]
    pub auditor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditFormat {
    Text,
    Json,
    Csv,
    Html,
    Xlsx,
}

#[derive(Debug, clap::Args)]
pub struct AuditReportArgs {
    /// The archive folder.
    #[arg(long)]
    pub archive: PathBuf,
    /// First received date of the period, YYYY-MM-DD or dd/mm/yyyy.
    #[arg(long)]
    pub from: Option<String>,
    /// Last received date of the period, inclusive.
    #[arg(long)]
    pub to: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    pub format: AuditFormat,
    /// Write here instead of standard output (atomically; needed for xlsx on a terminal).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Language of html and xlsx (default vi).
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
}

#[derive(Debug, clap::Args)]
pub struct AccessLogArgs {
    /// The archive folder.
    #[arg(long)]
    pub archive: PathBuf,
    /// Only the views of this dossier.
    #[arg(long)]
    pub dossier: Option<String>,
    /// Print JSON on standard output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user, or set a new password; the password is read from standard input.
    Add(UserArgs),
    /// Remove a user.
    Remove(UserArgs),
    /// List the users.
    List(UsersListArgs),
}

#[derive(Debug, clap::Args)]
pub struct UserArgs {
    /// The archive folder.
    #[arg(long)]
    pub archive: PathBuf,
    /// The user name.
    pub name: String,
}

#[derive(Debug, clap::Args)]
pub struct UsersListArgs {
    /// The archive folder.
    #[arg(long)]
    pub archive: PathBuf,
}

// Each subcommand's arguments; its help is the doc comment of its variant above.

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The pipeline file (pipelines/*.toml).
    pub pipeline: PathBuf,
    /// OCR workers (0: one per core); overrides [pipeline] jobs.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Print the run report as JSON on standard output.
    #[arg(long)]
    pub json: bool,
    /// OCR PDFs even when they carry a text layer (applies once PDF input is read).
    #[arg(long)]
    pub force_ocr: bool,
    /// The archive was made from another intake folder: move it to this pipeline's intake on
    /// purpose (without it such a run is refused).
    #[arg(long)]
    pub move_intake: bool,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The archive folder.
    #[arg(long)]
    pub archive: PathBuf,
    /// Presence and sizes only (no re-hashing).
    #[arg(long, conflicts_with = "deep")]
    pub fast: bool,
    /// Also decode every original again (no OCR) and compare each page's size, resolution
    /// and blankness with its record, and read the stored register again.
    #[arg(long)]
    pub deep: bool,
    /// Print JSON on standard output.
    #[arg(long)]
    pub json: bool,
    /// A ledger head kept earlier (SEQ:HASH, as reports print it): today's ledger must extend it.
    #[arg(long, value_name = "SEQ:HASH")]
    pub since: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct RebuildIndexArgs {
    /// The archive whose index is missing or empty.
    #[arg(long)]
    pub archive: PathBuf,
    /// Print JSON on standard output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ExportBagArgs {
    /// The archive folder.
    #[arg(long)]
    pub archive: PathBuf,
    /// A new (or empty) folder for the bag.
    #[arg(long)]
    pub output: PathBuf,
    /// First received date, YYYY-MM-DD or dd/mm/yyyy.
    #[arg(long)]
    pub from: Option<String>,
    /// Last received date, inclusive.
    #[arg(long)]
    pub to: Option<String>,
    /// Only this procedure code.
    #[arg(long)]
    pub procedure: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// The archive folder.
    #[arg(long)]
    pub archive: PathBuf,
    /// Words to find; every word must be on the page.
    pub query: String,
    /// At most this many pages.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Print JSON on standard output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The archive folder.
    #[arg(long)]
    pub archive: PathBuf,
    /// The dossier code, as issued (000.00.01.H50-240115-0001).
    pub dossier_code: String,
    /// Print JSON on standard output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct CoverSheetsArgs {
    /// The PDF to write (one A4 sheet per code).
    #[arg(long)]
    pub output: PathBuf,
    /// `PROCEDURE/DOSSIER` for input documents, `PROCEDURE/DOSSIER/result` for results.
    #[arg(required = true)]
    pub codes: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct SampleArgs {
    /// Folder to write into (intake/, register.csv, procedures.csv, manifest.json).
    #[arg(long)]
    pub output: PathBuf,
    /// Generate this many dossiers instead of the curated sample set.
    #[arg(long)]
    pub dossiers: Option<usize>,
    /// Seed of the generated dossiers (the same seed writes the same files).
    #[arg(long, default_value_t = 20240115)]
    pub seed: u64,
    /// Resolution of generated dossiers (72 to 1200).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(72..=1200))]
    pub dpi: u32,
    /// Page height in millimetres (297: A4; smaller pages OCR faster in tests).
    #[arg(long, default_value_t = 297.0)]
    pub page_height_mm: f32,
    /// The pipeline whose intake and archive the samples must stay out of (default:
    /// /etc/dossier/pipeline.toml when it exists).
    #[arg(long)]
    pub pipeline: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    Procedure,
    Unit,
    /// The month of receipt.
    Month,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
    Html,
    Xlsx,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Vi,
    En,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The archive (or take it from --pipeline).
    #[arg(long, required_unless_present = "pipeline")]
    pub archive: Option<PathBuf>,
    /// A pipeline file: its archive, target and report language.
    #[arg(long)]
    pub pipeline: Option<PathBuf>,
    /// Register (CSV or .xlsx); default: the register imported by the latest run.
    #[arg(long)]
    pub register: Option<PathBuf>,
    /// Procedure catalog (CSV); default: the catalog imported by the latest run.
    #[arg(long)]
    pub catalog: Option<PathBuf>,
    /// First day of the period (received date), YYYY-MM-DD or dd/mm/yyyy.
    #[arg(long)]
    pub from: Option<String>,
    /// Last day of the period, inclusive.
    #[arg(long)]
    pub to: Option<String>,
    /// Group rows by procedure, unit or month of receipt.
    #[arg(long, value_enum, default_value_t = By::Procedure)]
    pub by: By,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write here instead of standard output (atomically).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Language of table, html and xlsx (default: the pipeline's [report] language, else vi).
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
    /// Target rate in percent, `99.5` or `99,5` (default: the pipeline's [quality]
    /// target_percent, else 99).
    #[arg(long)]
    pub target: Option<String>,
}
