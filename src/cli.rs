//! Command-line arguments (SPEC.md "Command line"). Parsing only: `main` resolves them.

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
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the nightly batch described by a pipeline file.
    Run {
        /// The pipeline file (pipelines/*.toml).
        pipeline: PathBuf,
        /// OCR workers (0: one per core); overrides [pipeline] jobs.
        #[arg(long)]
        jobs: Option<usize>,
        /// Print the run report as JSON on standard output.
        #[arg(long)]
        json: bool,
        /// OCR PDFs even when they carry a text layer (applies once PDF input is read).
        #[arg(long)]
        force_ocr: bool,
        /// No progress output on standard error (errors are still printed).
        #[arg(long, short)]
        quiet: bool,
    },
    /// Digitization coverage per procedure or unit, against the one-stop-shop register.
    Report(ReportArgs),
    /// Fixity audit: re-hash every stored file, check the index and the run ledger.
    Verify {
        #[arg(long)]
        archive: PathBuf,
        /// Presence and sizes only (no re-hashing).
        #[arg(long)]
        fast: bool,
        #[arg(long)]
        json: bool,
    },
    /// Export dossiers as a BagIt bag (RFC 8493) for another archive.
    ExportBag {
        #[arg(long)]
        archive: PathBuf,
        /// A new (or empty) folder for the bag.
        #[arg(long)]
        output: PathBuf,
        /// First received date, YYYY-MM-DD or dd/mm/yyyy.
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        /// Only this procedure code.
        #[arg(long)]
        procedure: Option<String>,
    },
    /// Full-text search, ignoring case and Vietnamese diacritics.
    Search {
        #[arg(long)]
        archive: PathBuf,
        /// Words to find; every word must be on the page.
        query: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// One dossier with its documents, pages and evidence.
    Show {
        #[arg(long)]
        archive: PathBuf,
        dossier_code: String,
        #[arg(long)]
        json: bool,
    },
    /// Print cover sheets (QR code + Code 128) to put in front of dossiers in a batch scan.
    CoverSheets {
        /// The PDF to write (one A4 sheet per code).
        #[arg(long)]
        output: PathBuf,
        /// `PROCEDURE/DOSSIER` for input documents, `PROCEDURE/DOSSIER/result` for results.
        #[arg(required = true)]
        codes: Vec<String>,
    },
    /// Write sample dossiers (intake tree, register, catalog, manifest of the printed text).
    Sample {
        /// Folder to write into (intake/, register.csv, procedures.csv, manifest.json).
        #[arg(long)]
        output: PathBuf,
        /// Generate this many dossiers instead of the curated sample set.
        #[arg(long)]
        dossiers: Option<usize>,
        #[arg(long, default_value_t = 20240115)]
        seed: u64,
        /// Resolution of generated dossiers.
        #[arg(long, default_value_t = 300)]
        dpi: u32,
        /// Page height in millimetres (297: A4; smaller pages OCR faster in tests).
        #[arg(long, default_value_t = 297.0)]
        page_height_mm: f32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    Procedure,
    Unit,
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
    #[arg(long, value_enum, default_value_t = By::Procedure)]
    pub by: By,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write here instead of standard output (atomically).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Language of table, html and xlsx (default: the pipeline's [report] language, else vi).
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
    /// Target rate in percent (default: the pipeline's [quality] target_percent, else 99).
    #[arg(long)]
    pub target: Option<f64>,
}
