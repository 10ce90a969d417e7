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

pub mod date;
pub mod register;
pub mod render;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Serialize;

use crate::index::{DossierHoldings, Index, IndexError};
use date::{date_in_dossier_code, Date};
use register::{Problem, RegisterError, RegisterRow};

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
    pub procedure_code: String,
    pub unit: Option<String>,
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
}

/// What the archive holds per dossier, consumed as register rows claim their dossiers.
struct Holdings {
    by_code: HashMap<String, DossierHoldings>,
}

pub struct Computed {
    pub report: CoverageReport,
    /// Register rows that could not be counted.
    pub problems: Vec<Problem>,
    /// Whether a register was the denominator.
    pub with_register: bool,
}

pub fn compute(
    index: &Index,
    source: RegisterSource<'_>,
    names: &HashMap<String, String>,
    opts: &ReportOptions,
) -> Result<Computed, CoverageError> {
    let mut holdings = Holdings {
        by_code: HashMap::new(),
    };
    index.for_each_holding(|h| {
        holdings.by_code.insert(h.dossier_code.clone(), h);
    })?;
    let in_period = |d: Date| opts.from.is_none_or(|f| d >= f) && opts.to.is_none_or(|t| d <= t);

    let mut groups: BTreeMap<String, Counts> = BTreeMap::new();
    let mut missing = Vec::new();
    let mut counted: Vec<String> = Vec::new();
    let mut count_row = |row: &RegisterRow, held: Option<&DossierHoldings>| {
        let input_ok = held.is_some_and(|h| h.input_passes);
        let result_ok = held.is_some_and(|h| h.result_passes);
        let completed = row.completed_on.is_some();
        let key = match opts.by {
            GroupBy::Procedure => row.procedure_code.clone(),
            GroupBy::Unit => row.unit.clone(),
        };
        groups
            .entry(key)
            .or_default()
            .add(completed, input_ok, result_ok);
        let mut gaps = Vec::new();
        if !input_ok {
            gaps.push("input");
        }
        if completed && !result_ok {
            gaps.push("result");
        }
        if !gaps.is_empty() {
            missing.push(Missing {
                dossier_code: row.dossier_code.clone(),
                procedure_code: row.procedure_code.clone(),
                unit: (!row.unit.is_empty()).then(|| row.unit.clone()),
                missing: gaps,
            });
        }
        counted.push(row.dossier_code.clone());
    };

    let mut problems = Vec::new();
    let mut with_register = true;
    let mut visit = |row: RegisterRow| {
        // Every register row claims its dossier, in the period or not: only dossiers the
        // register never lists are unregistered.
        let held = holdings.by_code.remove(&row.dossier_code);
        if in_period(row.received_on) {
            count_row(&row, held.as_ref());
        }
    };
    match source {
        RegisterSource::File(path) => problems = register::read_register(path, &mut visit)?,
        RegisterSource::Index if index.has_register()? => {
            index.for_each_register_row(&mut visit)?
        }
        RegisterSource::Index => with_register = false,
    }
    let mut unregistered = Vec::new();
    if with_register {
        unregistered = holdings
            .by_code
            .keys()
            .filter(|code| date_in_dossier_code(code).is_none_or(in_period))
            .cloned()
            .collect();
        unregistered.sort();
    } else {
        let mut all: Vec<DossierHoldings> = holdings.by_code.into_values().collect();
        all.sort_by(|a, b| a.dossier_code.cmp(&b.dossier_code));
        for h in all {
            let Some(received_on) = date_in_dossier_code(&h.dossier_code) else {
                continue;
            };
            let row = RegisterRow {
                dossier_code: h.dossier_code.clone(),
                procedure_code: h.procedure_code.clone(),
                unit: h.unit.clone().unwrap_or_default(),
                received_on,
                due_on: None,
                completed_on: h.has_result.then_some(received_on),
                channel: None,
            };
            if in_period(received_on) {
                count_row(&row, Some(&h));
            }
        }
    }
    missing.sort_by(|a, b| a.dossier_code.cmp(&b.dossier_code));
    counted.sort();

    let in_scope = |code: &str| {
        counted.binary_search_by(|c| c.as_str().cmp(code)).is_ok()
            || unregistered
                .binary_search_by(|c| c.as_str().cmp(code))
                .is_ok()
    };
    let needs_rescan = index
        .failing_documents()?
        .into_iter()
        .filter(|d| in_scope(&d.dossier_code))
        .map(|d| Rescan {
            dossier_code: d.dossier_code,
            document: d.path,
            reason: d.reason,
        })
        .collect();

    let mut totals = Counts::default();
    let groups = groups
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
                    GroupBy::Procedure => names.get(&key).cloned(),
                    GroupBy::Unit => (!key.is_empty()).then(|| key.clone()),
                },
                key,
                counts,
                below_target,
            }
        })
        .collect();
    Ok(Computed {
        report: CoverageReport {
            period: Period {
                from: opts.from.map(Date::iso),
                to: opts.to.map(Date::iso),
            },
            target_percent: opts.target_percent,
            groups,
            totals: totals.with_rates(),
            missing,
            needs_rescan,
            unregistered,
        },
        problems,
        with_register,
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
