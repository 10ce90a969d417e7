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
use crate::index::{DossierHoldings, Index, IndexError};
use crate::register::{self, Problem, RegisterError, RegisterRow};

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

/// Counts of one group (or of all), with their rates.
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
}

impl Counts {
    fn add(&mut self, completed: bool, input_ok: bool, result_ok: bool) {
        self.received += 1;
        self.input_digitized += u64::from(input_ok);
        if completed {
            self.completed += 1;
            self.result_digitized += u64::from(result_ok);
        }
        self.digitized += u64::from(input_ok && (!completed || result_ok));
    }

    fn with_rates(mut self) -> Counts {
        self.input_percent = percent(self.input_digitized, self.received);
        self.result_percent = percent(self.result_digitized, self.completed);
        self.digitized_percent = percent(self.digitized, self.received);
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
    /// The run ledger's head when the report was made: ties these figures to one state of
    /// the archive (an addition to SPEC.md's shape).
    pub ledger_head: Option<crate::index::audit::LedgerHead>,
}

pub struct Computed {
    pub report: CoverageReport,
    /// Register rows that could not be counted.
    pub problems: Vec<Problem>,
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
}

impl HeldSet {
    /// Codes must come in ascending byte order (SQLite's BINARY collation).
    fn push(&mut self, code: &str, held: Held) {
        self.text.push_str(code);
        self.ends.push(self.text.len() as u32);
        self.held.push(held);
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
    /// The group it was counted in (procedure code or unit, as the report groups).
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
    /// Failing documents by dossier, moved to `needs_rescan` when their dossier is in scope.
    failing: HashMap<String, Vec<Rescan>>,
    needs_rescan: Vec<Rescan>,
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

    /// Counts one dossier of the denominator (SPEC.md "Coverage: what counts").
    fn count(&mut self, row: &RegisterRow, held: Held) {
        let input_ok = held.input_passes();
        let result_ok = held.result_passes();
        let completed = row.completed_on.is_some();
        let key = match self.by {
            GroupBy::Procedure => &row.procedure_code,
            GroupBy::Unit => &row.unit,
        };
        match self.groups.get_mut(key) {
            Some(c) => c.add(completed, input_ok, result_ok),
            None => {
                let mut c = Counts::default();
                c.add(completed, input_ok, result_ok);
                self.groups.insert(key.clone(), c);
            }
        }
        if let Some(visit) = self.visit.as_mut() {
            visit(&Counted {
                dossier_code: &row.dossier_code,
                key,
                completed,
                input_digitized: input_ok,
                result_digitized: completed && result_ok,
                digitized: input_ok && (!completed || result_ok),
            });
        }
        let mut gaps = Vec::new();
        if !input_ok {
            gaps.push("input");
        }
        if completed && !result_ok {
            gaps.push("result");
        }
        if !gaps.is_empty() {
            let procedure_code = self.intern(&row.procedure_code);
            let unit = (!row.unit.is_empty()).then(|| self.intern(&row.unit));
            self.missing.push(Missing {
                dossier_code: row.dossier_code.clone(),
                procedure_code,
                unit,
                missing: gaps,
            });
        }
        self.in_scope(&row.dossier_code);
    }

    /// The dossier's failing documents belong in the report.
    fn in_scope(&mut self, dossier_code: &str) {
        if let Some(docs) = self.failing.remove(dossier_code) {
            self.needs_rescan.extend(docs);
        }
    }

    fn finish(mut self, opts: &ReportOptions) -> (Vec<Group>, Counts, Vec<Missing>, Vec<Rescan>) {
        let mut totals = Counts::default();
        let groups = std::mem::take(&mut self.groups)
            .into_iter()
            .map(|(key, c)| {
                totals.received += c.received;
                totals.input_digitized += c.input_digitized;
                totals.completed += c.completed;
                totals.result_digitized += c.result_digitized;
                totals.digitized += c.digitized;
                let counts = c.with_rates();
                let below_target = counts
                    .digitized_percent
                    .is_some_and(|p| p < opts.target_percent);
                Group {
                    name: match opts.by {
                        GroupBy::Procedure => self.names.get(&key).cloned(),
                        GroupBy::Unit => (!key.is_empty()).then(|| key.clone()),
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
        names,
        interned: HashSet::new(),
    };
    let with_register = match source {
        RegisterSource::File(_) => true,
        RegisterSource::Index => index.has_register()?,
    };
    let (problems, unregistered) = if with_register {
        count_register(index, source, opts, &mut tally)?
    } else {
        count_archive(index, opts, &mut tally)?;
        (Vec::new(), Vec::new())
    };
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
            unregistered,
            ledger_head: index.ledger_head()?,
        },
        problems,
        with_register,
    })
}

/// The latest document versions that fail quality, by dossier.
fn failing_by_dossier(index: &Index) -> Result<HashMap<String, Vec<Rescan>>, IndexError> {
    let mut failing: HashMap<String, Vec<Rescan>> = HashMap::new();
    for d in index.failing_documents()? {
        failing
            .entry(d.dossier_code.clone())
            .or_default()
            .push(Rescan {
                dossier_code: d.dossier_code,
                document: d.path,
                reason: d.reason,
            });
    }
    Ok(failing)
}

/// Counts the register's dossiers received in the period, each with what the archive holds
/// for it. Returns the register rows that could not be counted, and the archive's dossiers
/// the register never lists whose code dates them in the period or not at all (unregistered,
/// in code order).
fn count_register(
    index: &Index,
    source: RegisterSource<'_>,
    opts: &ReportOptions,
    tally: &mut Tally<'_>,
) -> Result<(Vec<Problem>, Vec<String>), CoverageError> {
    let mut problems = Vec::new();
    let mut held = HeldSet::default();
    index.for_each_holding_code(|code, input_passes, result_passes, has_result| {
        held.push(code, Held::new(input_passes, result_passes, has_result));
    })?;
    // Register dossiers with nothing archived, to tell a repeated row.
    let mut claimed_elsewhere: HashSet<String> = HashSet::new();
    // Every register row claims its dossier, in the period or not: only dossiers the
    // register never lists are unregistered. A second row for a claimed dossier is refused.
    let mut visit = |row: RegisterRow| -> Option<String> {
        let h = match held.find(&row.dossier_code) {
            Some(i) if held.held[i].0 & Held::CLAIMED != 0 => {
                return Some(register::repeated(&row.dossier_code, None))
            }
            Some(i) => {
                let h = held.held[i];
                held.held[i].0 |= Held::CLAIMED;
                h
            }
            None if claimed_elsewhere.contains(&row.dossier_code) => {
                return Some(register::repeated(&row.dossier_code, None))
            }
            None => {
                claimed_elsewhere.insert(row.dossier_code.clone());
                Held::default()
            }
        };
        if opts.in_period(row.received_on) {
            tally.count(&row, h);
        }
        None
    };
    match source {
        RegisterSource::File(path) => {
            problems = register::read_register(path, |_, row| visit(row))?
        }
        RegisterSource::Index => index.for_each_register_row(|row| {
            visit(row);
        })?,
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
    Ok((problems, unregistered))
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

    #[test]
    fn counts_follow_indicator_4_2() {
        let mut c = Counts::default();
        c.add(true, true, true); // complete and digitized
        c.add(true, true, false); // result missing
        c.add(false, true, false); // in progress: input is enough
        c.add(false, false, false); // nothing scanned
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
    }
}
