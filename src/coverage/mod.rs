//! Digitization coverage, as Decision 766 indicator 4.2 counts it (SPEC.md "Coverage").
//!
//! - A document passes when all its pages pass quality (decoded, not blank, ≥ min_dpi).
//! - A dossier's input is digitized when one of its input documents passes; its result is
//!   digitized when one of its result documents passes; results count for completed dossiers only.
//! - A dossier is digitized when its input is, and, if completed, its result is too.
//! - Rates are over the register's dossiers received in the period; archive dossiers missing
//!   from the register are listed as unregistered and are in no denominator.
//!
//! Without a register, the archive's dossiers are the denominator: the received date is the
//! date in the dossier code, and a dossier counts as completed when a result is archived.

pub mod render;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use crate::date::{date_in_dossier_code, Date};
use crate::index::{DossierHoldings, FailingDocument, Index, IndexError};
use crate::register::{self, Channel, Problem, RegisterError, RegisterRow};

#[derive(Debug, thiserror::Error)]
pub enum CoverageError {
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Register(#[from] RegisterError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Procedure,
    Unit,
    /// The month of receipt, `YYYY-MM`.
    Month,
}

/// Where the denominator comes from.
pub enum RegisterSource<'a> {
    /// A register file given to `report`.
    File(&'a Path),
    /// The register imported by the latest `run` (if any; else the archive's dossiers).
    Index,
}

#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub by: GroupBy,
    pub target_percent: f64,
}

impl ReportOptions {
    /// Whether a received date falls in the report's period (bounds included).
    fn in_period(&self, d: Date) -> bool {
        self.from.is_none_or(|f| d >= f) && self.to.is_none_or(|t| d <= t)
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Period {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Counts of one group (or of all), with their rates and scores.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Counts {
    pub received: u64,
    pub input_digitized: u64,
    pub input_percent: Option<f64>,
    pub completed: u64,
    pub result_digitized: u64,
    pub result_percent: Option<f64>,
    pub digitized: u64,
    pub digitized_percent: Option<f64>,
    /// Dossiers filed online: their input counts as digitized by the register, not by a scan.
    pub input_digital_at_filing: u64,
    /// Dossiers with a component reused from digitized data (4.3); null without a `reused`
    /// column in the register.
    pub reused: Option<u64>,
    pub reused_percent: Option<f64>,
    pub scores: Scores,
}

/// Decision 766's points for indicators 4.1, 4.2 and 4.3, in percent of each one's points.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Scores {
    #[serde(rename = "4.1")]
    pub results: Option<f64>,
    #[serde(rename = "4.2")]
    pub digitization: Option<f64>,
    #[serde(rename = "4.3")]
    pub reuse: Option<f64>,
}

/// What coverage knows of one dossier of the denominator.
#[derive(Debug, Clone, Copy)]
struct Dossier {
    completed: bool,
    /// Digitized input: a passing input document, or filed online.
    input_ok: bool,
    result_ok: bool,
    online: bool,
    /// `None` without a `reused` column.
    reused: Option<bool>,
}

impl Counts {
    fn add(&mut self, d: Dossier) {
        self.received += 1;
        self.input_digitized += u64::from(d.input_ok);
        if d.completed {
            self.completed += 1;
            self.result_digitized += u64::from(d.result_ok);
        }
        self.digitized += u64::from(d.input_ok && (!d.completed || d.result_ok));
        self.input_digital_at_filing += u64::from(d.online);
        if let Some(reused) = d.reused {
            *self.reused.get_or_insert(0) += u64::from(reused);
        }
    }

    /// Adds another group's counts (rates are computed afterwards).
    fn absorb(&mut self, c: &Counts) {
        self.received += c.received;
        self.input_digitized += c.input_digitized;
        self.completed += c.completed;
        self.result_digitized += c.result_digitized;
        self.digitized += c.digitized;
        self.input_digital_at_filing += c.input_digital_at_filing;
        if let Some(reused) = c.reused {
            *self.reused.get_or_insert(0) += reused;
        }
    }

    fn with_rates(mut self) -> Counts {
        self.input_percent = percent(self.input_digitized, self.received);
        self.result_percent = percent(self.result_digitized, self.completed);
        self.digitized_percent = percent(self.digitized, self.received);
        self.reused_percent = self.reused.and_then(|r| percent(r, self.received));
        self.scores = Scores {
            results: score(self.result_percent),
            digitization: score(self.digitized_percent),
            reuse: score(self.reused_percent),
        };
        self
    }
}

/// `part / whole` in percent, rounded half up to two decimals; null for a zero denominator.
pub fn percent(part: u64, whole: u64) -> Option<f64> {
    if whole == 0 {
        return None;
    }
    // Integer arithmetic, so that the rounding never depends on binary fractions.
    let hundredths = (part as u128 * 20_000 + whole as u128) / (2 * whole as u128);
    Some(hundredths as f64 / 100.0)
}

/// An indicator's score from its reported rate: full points from 80%, below that
/// `percent / 80 × 100`, rounded half up to two decimals. Computed from the rate as the
/// report prints it, so that an auditor gets the same score from the printed figure.
pub fn score(percent: Option<f64>) -> Option<f64> {
    let hundredths = (percent? * 100.0).round() as u64;
    // percent / 80 × 100 = 1.25 × percent; in hundredths, rounded half up.
    let scored = (hundredths * 10 + 4) / 8;
    Some(scored.min(10_000) as f64 / 100.0)
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Group {
    pub key: String,
    pub name: Option<String>,
    #[serde(flatten)]
    pub counts: Counts,
    pub below_target: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Missing {
    pub dossier_code: String,
    /// Shared: a few procedures and units repeat over hundreds of thousands of entries.
    pub procedure_code: Arc<str>,
    pub unit: Option<Arc<str>>,
    pub missing: Vec<&'static str>,
    /// Each gap of `missing`, in the same order: whether anything was scanned for it and why
    /// it does not count, and since when it has been open.
    pub gaps: Vec<Gap>,
}

/// Why a part of a dossier counts as missing.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Gap {
    /// `input` or `result`.
    pub what: &'static str,
    /// A document of this kind is archived but fails quality (`failing` says why); false when
    /// nothing of this kind was ever scanned.
    pub scanned: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing: Option<String>,
    /// The register's received date (input) or completion date (result), ISO.
    pub since: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rescan {
    pub dossier_code: String,
    pub document: String,
    pub reason: String,
}

/// The report of SPEC.md "Report", field for field.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CoverageReport {
    pub period: Period,
    pub target_percent: f64,
    pub groups: Vec<Group>,
    pub totals: Counts,
    pub missing: Vec<Missing>,
    pub needs_rescan: Vec<Rescan>,
    pub unregistered: Vec<String>,
    /// Dossiers whose archived input pages differ from the register's `pages`.
    pub page_count_mismatches: Vec<PageCountMismatch>,
    /// Register rows that could not be counted (line and reason).
    pub register_problems: Vec<Problem>,
    /// The register the figures rest on; null when they rest on the archive alone.
    pub register: Option<RegisterUsed>,
    /// The run ledger's head when the report was made: ties these figures to one state of
    /// the archive.
    pub ledger_head: Option<crate::index::audit::LedgerHead>,
    /// The first and last received dates counted: the period human-facing formats show when
    /// none was given (not in the JSON, whose `period` says what was asked).
    #[serde(skip)]
    pub received_span: Option<(Date, Date)>,
}

/// A dossier whose scanned input pages are not the pages handed in (Circular 01/2023 art. 8(2)).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PageCountMismatch {
    pub dossier_code: String,
    pub declared: u32,
    pub scanned: u64,
}

/// Which register the report counted against.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RegisterUsed {
    pub sha256: String,
    /// When the run that imported it started; null for a file given to `report`.
    pub imported_at: Option<String>,
    pub rows: u64,
}

pub struct Computed {
    pub report: CoverageReport,
    /// Whether a register was the denominator.
    pub with_register: bool,
}

/// What one archived dossier holds, in three bits: small, so a million fit in a few tens of MB.
#[derive(Debug, Clone, Copy, Default)]
struct Held(u8);

impl Held {
    const INPUT_PASSES: u8 = 1;
    const RESULT_PASSES: u8 = 2;
    const HAS_RESULT: u8 = 4;
    /// A register row has claimed this dossier.
    const CLAIMED: u8 = 8;

    fn new(input_passes: bool, result_passes: bool, has_result: bool) -> Held {
        let bit = |on: bool, bit: u8| if on { bit } else { 0 };
        Held(
            bit(input_passes, Held::INPUT_PASSES)
                | bit(result_passes, Held::RESULT_PASSES)
                | bit(has_result, Held::HAS_RESULT),
        )
    }

    fn of(h: &DossierHoldings) -> Held {
        Held::new(h.input_passes, h.result_passes, h.has_result)
    }
    fn input_passes(self) -> bool {
        self.0 & Held::INPUT_PASSES != 0
    }
    fn result_passes(self) -> bool {
        self.0 & Held::RESULT_PASSES != 0
    }
    fn has_result(self) -> bool {
        self.0 & Held::HAS_RESULT != 0
    }
}

/// The archive's dossiers with what they hold, in code order, packed: one string buffer and
/// two arrays instead of a million small allocations (a report reads them all, then looks up
/// each register row by binary search).
#[derive(Default)]
struct HeldSet {
    text: String,
    ends: Vec<u32>,
    held: Vec<Held>,
    /// The register line that claimed each dossier (0 before, or when lines are unknown).
    claimed_at: Vec<u32>,
}

impl HeldSet {
    /// Codes must come in ascending byte order (SQLite's BINARY collation).
    fn push(&mut self, code: &str, held: Held) {
        self.text.push_str(code);
        self.ends.push(self.text.len() as u32);
        self.held.push(held);
        self.claimed_at.push(0);
    }

    fn code(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }

    fn find(&self, code: &str) -> Option<usize> {
        let (mut lo, mut hi) = (0, self.ends.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.code(mid).cmp(code) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }
}

/// One dossier of a report's denominator, as it was counted: what lists the dossiers behind
/// a figure (the auditors' desk, audit sampling) without counting them a second way.
#[derive(Debug, Clone, PartialEq)]
pub struct Counted<'r> {
    pub dossier_code: &'r str,
    /// The group it was counted in (procedure code, unit or month, as the report groups).
    pub key: &'r str,
    pub completed: bool,
    pub input_digitized: bool,
    pub result_digitized: bool,
    pub digitized: bool,
}

/// Accumulates groups, the missing list and the documents to rescan as dossiers are counted.
struct Tally<'a> {
    by: GroupBy,
    visit: Option<&'a mut dyn FnMut(&Counted<'_>)>,
    groups: BTreeMap<String, Counts>,
    missing: Vec<Missing>,
    /// Failing documents by dossier: the missing list says why from them, and those still to
    /// rescan move to `needs_rescan` when their dossier is in scope.
    failing: HashMap<String, Vec<FailingDocument>>,
    needs_rescan: Vec<Rescan>,
    /// Dossiers in scope with the input pages the register declares, checked at the end.
    declared_pages: Vec<(String, u32)>,
    /// The first and last received dates counted.
    span: Option<(Date, Date)>,
    names: &'a HashMap<String, String>,
    interned: HashSet<Arc<str>>,
}

impl Tally<'_> {
    fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(shared) = self.interned.get(s) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(s);
        self.interned.insert(Arc::clone(&shared));
        shared
    }

    fn group_key(&self, row: &RegisterRow) -> String {
        match self.by {
            GroupBy::Procedure => row.procedure_code.clone(),
            GroupBy::Unit => row.unit.clone(),
            GroupBy::Month => {
                let (y, m, _) = row.received_on.ymd();
                format!("{y:04}-{m:02}")
            }
        }
    }

    /// Counts one dossier of the denominator (SPEC.md "Coverage: what counts").
    fn count(&mut self, row: &RegisterRow, held: Held) {
        let online = row.channel == Some(Channel::Online);
        let d = Dossier {
            completed: row.completed_on.is_some(),
            input_ok: held.input_passes() || online,
            result_ok: held.result_passes(),
            online,
            reused: row.reused.map(|n| n >= 1),
        };
        let key = self.group_key(row);
        if let Some(visit) = self.visit.as_mut() {
            visit(&Counted {
                dossier_code: &row.dossier_code,
                key: &key,
                completed: d.completed,
                input_digitized: d.input_ok,
                result_digitized: d.completed && d.result_ok,
                digitized: d.input_ok && (!d.completed || d.result_ok),
            });
        }
        self.groups.entry(key).or_default().add(d);
        let day = row.received_on;
        self.span = Some(match self.span {
            Some((first, last)) => (first.min(day), last.max(day)),
            None => (day, day),
        });
        let mut gaps = Vec::new();
        if !d.input_ok {
            gaps.push("input");
        }
        if d.completed && !d.result_ok {
            gaps.push("result");
        }
        if !gaps.is_empty() {
            let procedure_code = self.intern(&row.procedure_code);
            let unit = (!row.unit.is_empty()).then(|| self.intern(&row.unit));
            let explained = gaps.iter().map(|what| self.gap(row, what)).collect();
            self.missing.push(Missing {
                dossier_code: row.dossier_code.clone(),
                procedure_code,
                unit,
                missing: gaps,
                gaps: explained,
            });
        }
        if let Some(pages) = row.pages {
            self.declared_pages.push((row.dossier_code.clone(), pages));
        }
        self.in_scope(&row.dossier_code);
    }

    /// Why `what` (`input` or `result`) of `row`'s dossier is missing, and since when.
    fn gap(&self, row: &RegisterRow, what: &'static str) -> Gap {
        let failing = self
            .failing
            .get(&row.dossier_code)
            .and_then(|docs| docs.iter().find(|d| d.kind == what))
            .map(|d| d.reason.clone());
        let since = match what {
            "input" => Some(row.received_on),
            _ => row.completed_on,
        };
        Gap {
            what,
            scanned: failing.is_some(),
            failing,
            since: since.map(Date::iso),
        }
    }

    /// The dossier's failing documents belong in the report.
    fn in_scope(&mut self, dossier_code: &str) {
        if let Some(docs) = self.failing.remove(dossier_code) {
            let to_rescan = docs.into_iter().filter(|d| d.to_rescan);
            self.needs_rescan.extend(to_rescan.map(|d| Rescan {
                dossier_code: d.dossier_code,
                document: d.path,
                reason: d.reason,
            }));
        }
    }

    /// Dossiers whose archived input pages (every input document, whatever its quality)
    /// are not the pages the register declares, in code order.
    fn page_count_mismatches(
        &mut self,
        index: &Index,
    ) -> Result<Vec<PageCountMismatch>, IndexError> {
        if self.declared_pages.is_empty() {
            return Ok(Vec::new());
        }
        let scanned = index.input_pages_by_dossier()?;
        let mut out: Vec<PageCountMismatch> = std::mem::take(&mut self.declared_pages)
            .into_iter()
            .filter_map(|(dossier_code, declared)| {
                let scanned = scanned.get(&dossier_code).copied().unwrap_or(0);
                (scanned != u64::from(declared)).then_some(PageCountMismatch {
                    dossier_code,
                    declared,
                    scanned,
                })
            })
            .collect();
        out.sort_by(|a, b| a.dossier_code.cmp(&b.dossier_code));
        Ok(out)
    }

    fn finish(mut self, opts: &ReportOptions) -> (Vec<Group>, Counts, Vec<Missing>, Vec<Rescan>) {
        let mut totals = Counts::default();
        let groups = std::mem::take(&mut self.groups)
            .into_iter()
            .map(|(key, c)| {
                totals.absorb(&c);
                let counts = c.with_rates();
                let below_target = counts
                    .digitized_percent
                    .is_some_and(|p| p < opts.target_percent);
                Group {
                    name: match opts.by {
                        GroupBy::Procedure => self.names.get(&key).cloned(),
                        GroupBy::Unit => (!key.is_empty()).then(|| key.clone()),
                        GroupBy::Month => None,
                    },
                    key,
                    counts,
                    below_target,
                }
            })
            .collect();
        self.missing
            .sort_by(|a, b| a.dossier_code.cmp(&b.dossier_code));
        self.needs_rescan
            .sort_by(|a, b| (&a.dossier_code, &a.document).cmp(&(&b.dossier_code, &b.document)));
        (groups, totals.with_rates(), self.missing, self.needs_rescan)
    }
}

/// The coverage report of the archive, against the register `source` names (or, without
/// one, against the archive's own dossiers).
pub fn compute(
    index: &Index,
    source: RegisterSource<'_>,
    names: &HashMap<String, String>,
    opts: &ReportOptions,
) -> Result<Computed, CoverageError> {
    compute_visiting(index, source, names, opts, None)
}

/// [`compute`], calling `visit` with each dossier of the denominator as it is counted.
pub fn compute_visiting<'a>(
    index: &Index,
    source: RegisterSource<'_>,
    names: &'a HashMap<String, String>,
    opts: &ReportOptions,
    visit: Option<&'a mut dyn FnMut(&Counted<'_>)>,
) -> Result<Computed, CoverageError> {
    let mut tally = Tally {
        by: opts.by,
        visit,
        groups: BTreeMap::new(),
        missing: Vec::new(),
        failing: failing_by_dossier(index)?,
        needs_rescan: Vec::new(),
        declared_pages: Vec::new(),
        span: None,
        names,
        interned: HashSet::new(),
    };
    let imported = match source {
        RegisterSource::File(_) => None,
        RegisterSource::Index => index.latest_register_import()?,
    };
    let with_register = matches!(source, RegisterSource::File(_)) || imported.is_some();
    let counted = if with_register {
        count_register(index, source, opts, &mut tally)?
    } else {
        count_archive(index, opts, &mut tally)?;
        RegisterOutcome::default()
    };
    let (register, register_problems) = match (imported, counted.file) {
        (Some(i), _) => (
            Some(RegisterUsed {
                sha256: i.sha256,
                imported_at: i.imported_at,
                rows: i.rows,
            }),
            i.problems,
        ),
        (None, Some(file)) => (Some(file), counted.problems),
        (None, None) => (None, Vec::new()),
    };
    let page_count_mismatches = tally.page_count_mismatches(index)?;
    let received_span = tally.span;
    let (groups, totals, missing, needs_rescan) = tally.finish(opts);
    Ok(Computed {
        report: CoverageReport {
            period: Period {
                from: opts.from.map(Date::iso),
                to: opts.to.map(Date::iso),
            },
            target_percent: opts.target_percent,
            groups,
            totals,
            missing,
            needs_rescan,
            unregistered: counted.unregistered,
            page_count_mismatches,
            register_problems,
            register,
            ledger_head: index.ledger_head()?,
            received_span,
        },
        with_register,
    })
}

/// The latest document versions that fail quality, by dossier.
fn failing_by_dossier(index: &Index) -> Result<HashMap<String, Vec<FailingDocument>>, IndexError> {
    let mut failing: HashMap<String, Vec<FailingDocument>> = HashMap::new();
    for d in index.failing_documents()? {
        failing.entry(d.dossier_code.clone()).or_default().push(d);
    }
    Ok(failing)
}

/// What counting against a register found besides the figures.
#[derive(Default)]
struct RegisterOutcome {
    /// Rows of a register file that could not be counted.
    problems: Vec<Problem>,
    /// The archive's dossiers the register never lists whose code dates them in the period
    /// or not at all, in code order.
    unregistered: Vec<String>,
    /// The register file given to `report` (hash and rows read).
    file: Option<RegisterUsed>,
}

/// Counts the register's dossiers received in the period, each with what the archive holds
/// for it.
fn count_register(
    index: &Index,
    source: RegisterSource<'_>,
    opts: &ReportOptions,
    tally: &mut Tally<'_>,
) -> Result<RegisterOutcome, CoverageError> {
    let mut problems = Vec::new();
    let mut rows = 0u64;
    let mut held = HeldSet::default();
    index.for_each_holding_code(|code, input_passes, result_passes, has_result| {
        held.push(code, Held::new(input_passes, result_passes, has_result));
    })?;
    // Register dossiers with nothing archived, to tell a repeated row (with the line of
    // their first row; 0 when lines are unknown).
    let mut claimed_elsewhere: HashMap<String, u32> = HashMap::new();
    let first = |line: u32| (line > 0).then_some(line as usize);
    // Every register row claims its dossier, in the period or not: only dossiers the
    // register never lists are unregistered. A second row for a claimed dossier is refused,
    // in the words the run's import uses.
    let mut visit = |line: u32, row: RegisterRow| -> Option<String> {
        let h = match held.find(&row.dossier_code) {
            Some(i) if held.held[i].0 & Held::CLAIMED != 0 => {
                let at = first(held.claimed_at[i]);
                return Some(register::repeated(&row.dossier_code, at));
            }
            Some(i) => {
                let h = held.held[i];
                held.held[i].0 |= Held::CLAIMED;
                held.claimed_at[i] = line;
                h
            }
            None => match claimed_elsewhere.get(&row.dossier_code) {
                Some(&at) => return Some(register::repeated(&row.dossier_code, first(at))),
                None => {
                    claimed_elsewhere.insert(row.dossier_code.clone(), line);
                    Held::default()
                }
            },
        };
        rows += 1;
        if opts.in_period(row.received_on) {
            tally.count(&row, h);
        }
        None
    };
    let mut file = None;
    match source {
        RegisterSource::File(path) => {
            problems = register::read_register(path, |line, row| {
                visit(u32::try_from(line).unwrap_or(0), row)
            })?;
            file = Some(RegisterUsed {
                sha256: register::file_sha256(path)?,
                imported_at: None,
                rows: 0,
            });
        }
        RegisterSource::Index => index.for_each_register_row(|row| {
            visit(0, row);
        })?,
    }
    if let Some(file) = &mut file {
        // The rows counted: a repeated dossier's second row is a problem, not a row.
        file.rows = rows;
    }
    // Already in code order.
    let unregistered: Vec<String> = (0..held.held.len())
        .filter(|&i| held.held[i].0 & Held::CLAIMED == 0)
        .map(|i| held.code(i))
        .filter(|code| date_in_dossier_code(code).is_none_or(|d| opts.in_period(d)))
        .map(String::from)
        .collect();
    for code in &unregistered {
        tally.in_scope(code);
    }
    Ok(RegisterOutcome {
        problems,
        unregistered,
        file,
    })
}

/// Without a register: counts the archive's dossiers received in the period (the date in the
/// dossier code), completed when a result is archived.
fn count_archive(
    index: &Index,
    opts: &ReportOptions,
    tally: &mut Tally<'_>,
) -> Result<(), IndexError> {
    index.for_each_holding(|h| {
        let Some(received_on) =
            date_in_dossier_code(&h.dossier_code).filter(|d| opts.in_period(*d))
        else {
            return;
        };
        let held = Held::of(&h);
        let row = RegisterRow {
            completed_on: held.has_result().then_some(received_on),
            dossier_code: h.dossier_code,
            procedure_code: h.procedure_code,
            unit: h.unit.unwrap_or_default(),
            received_on,
            due_on: None,
            channel: None,
            reused: None,
            pages: None,
        };
        tally.count(&row, held);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_half_up_to_two_decimals() {
        assert_eq!(percent(119, 120), Some(99.17));
        assert_eq!(percent(110, 118), Some(93.22));
        assert_eq!(percent(109, 120), Some(90.83));
        assert_eq!(percent(1, 8), Some(12.5));
        assert_eq!(percent(1, 3), Some(33.33));
        assert_eq!(percent(2, 3), Some(66.67));
        assert_eq!(percent(1, 200_000), Some(0.0));
        assert_eq!(percent(1, 20_000), Some(0.01)); // 0.005 rounds up
        assert_eq!(percent(0, 0), None);
        assert_eq!(percent(5, 5), Some(100.0));
    }

    fn dossier(completed: bool, input_ok: bool, result_ok: bool) -> Dossier {
        Dossier {
            completed,
            input_ok,
            result_ok,
            online: false,
            reused: None,
        }
    }

    #[test]
    fn counts_follow_indicator_4_2() {
        let mut c = Counts::default();
        c.add(dossier(true, true, true)); // complete and digitized
        c.add(dossier(true, true, false)); // result missing
        c.add(dossier(false, true, false)); // in progress: input is enough
        c.add(dossier(false, false, false)); // nothing scanned
        let c = c.with_rates();
        assert_eq!(
            (
                c.received,
                c.input_digitized,
                c.completed,
                c.result_digitized,
                c.digitized
            ),
            (4, 3, 2, 1, 2)
        );
        assert_eq!(
            (c.input_percent, c.result_percent, c.digitized_percent),
            (Some(75.0), Some(50.0), Some(50.0))
        );
        // No `reused` column: reuse is null, and so is its score.
        assert_eq!(
            (c.reused, c.reused_percent, c.scores.reuse),
            (None, None, None)
        );
        assert_eq!(c.scores.digitization, Some(62.5));
        assert_eq!(c.scores.results, Some(62.5));
    }

    #[test]
    fn scores_earn_full_points_from_80_percent_and_round_half_up() {
        assert_eq!(score(Some(80.0)), Some(100.0));
        assert_eq!(score(Some(99.17)), Some(100.0));
        assert_eq!(score(Some(79.99)), Some(99.99)); // 99.9875 rounds to 99.99
        assert_eq!(score(Some(40.0)), Some(50.0));
        assert_eq!(score(Some(0.01)), Some(0.01)); // 0.0125 rounds to 0.01
        assert_eq!(score(Some(0.02)), Some(0.03)); // 0.025 rounds up
        assert_eq!(score(Some(0.0)), Some(0.0));
        assert_eq!(score(None), None);
    }

    #[test]
    fn online_filing_and_reuse_count_apart_and_in_the_totals() {
        let mut group = Counts::default();
        let online = Dossier {
            online: true,
            reused: Some(true),
            ..dossier(false, true, false)
        };
        group.add(online);
        group.add(Dossier {
            reused: Some(false),
            ..dossier(false, false, false)
        });
        let mut totals = Counts::default();
        totals.absorb(&group);
        totals.absorb(&group);
        let (group, totals) = (group.with_rates(), totals.with_rates());
        assert_eq!(group.input_digital_at_filing, 1);
        assert_eq!((group.reused, group.reused_percent), (Some(1), Some(50.0)));
        assert_eq!(group.scores.reuse, Some(62.5));
        assert_eq!(
            (
                totals.received,
                totals.input_digital_at_filing,
                totals.reused
            ),
            (4, 2, Some(2))
        );
        assert_eq!(totals.digitized_percent, Some(50.0));
    }
}
