//! Audit sampling (SPEC.md "Audit sampling"): the "checked by sampling" that the national
//! guidance allows for OCR accuracy.
//!
//! - A sample is drawn from the dossiers that the coverage report counts as digitized in a
//!   period, the very dossiers it counts ([`coverage::compute_visiting`]), in code order, by a
//!   seeded generator of this module's own (SplitMix64 + a partial Fisher–Yates shuffle): the
//!   same archive, period and seed give the same sample on any machine and version.
//! - A verdict is a ledger entry of kind `audit` plus events (see `index::desk`), written under
//!   the archive lock, the ledger file exported after it: `verify` still passes.
//! - The audit report reads the verdicts from the ledger (the last verdict on each dossier
//!   counts) and gives the observed error rate with its 95% Wilson score interval.

mod office;
mod render;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Serialize;

use crate::coverage::{self, CoverageError, GroupBy, Period, RegisterSource, ReportOptions};
use crate::date::{date_in_dossier_code, Date};
use crate::index::audit::{LedgerEntry, LedgerHead};
use crate::index::desk::NewVerdict;
use crate::index::{Index, IndexError, Location};
use crate::store::{Archive, StoreError};

pub use office::{html, xlsx};
pub use render::{csv, json, text};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Coverage(#[from] CoverageError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the ledger file: {0}")]
    Ledger(String),
    #[error("no dossier {0} in the archive")]
    NoSuchDossier(String),
    #[error("verdict {0:?}: expected confirmed or not-confirmed")]
    BadVerdict(String),
}

/// The two verdicts an auditor gives.
pub const VERDICTS: [&str; 2] = ["confirmed", "not-confirmed"];

/// A drawn sample.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Sample {
    pub period: Period,
    pub seed: u64,
    /// Asked for; the sample is smaller when the population is.
    pub size: usize,
    /// Dossiers counted as digitized in the period.
    pub population: u64,
    /// In the order drawn.
    pub dossiers: Vec<String>,
    pub ledger_head: Option<LedgerHead>,
}

/// SplitMix64: small, fixed, and the same everywhere (a library's generator may change its
/// stream between versions, and a sample must be drawn again years later).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (rejection: no modulo bias).
    fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next();
            if x < zone {
                return x % n;
            }
        }
    }
}

/// `size` of `population` (taken in the order given), drawn with `seed`.
pub fn draw(mut population: Vec<String>, size: usize, seed: u64) -> Vec<String> {
    let mut rng = SplitMix64(seed);
    let n = population.len();
    let k = size.min(n);
    for i in 0..k {
        let j = i + rng.below((n - i) as u64) as usize;
        population.swap(i, j);
    }
    population.truncate(k);
    population
}

/// The dossiers counted as digitized in the period, in code order.
pub fn digitized_in_period(index: &Index, opts: &ReportOptions) -> Result<Vec<String>, AuditError> {
    let names = HashMap::new();
    let mut out = Vec::new();
    let mut visit = |c: &coverage::Counted<'_>| {
        if c.digitized {
            out.push(c.dossier_code.to_owned());
        }
    };
    coverage::compute_visiting(index, RegisterSource::Index, &names, opts, Some(&mut visit))?;
    out.sort();
    Ok(out)
}

/// Draws a sample of the digitized dossiers received from `from` to `to`.
pub fn sample(
    index: &Index,
    from: Option<Date>,
    to: Option<Date>,
    size: usize,
    seed: u64,
) -> Result<Sample, AuditError> {
    let opts = ReportOptions {
        from,
        to,
        by: GroupBy::Procedure,
        target_percent: 0.0,
    };
    let population = digitized_in_period(index, &opts)?;
    Ok(Sample {
        period: Period {
            from: from.map(Date::iso),
            to: to.map(Date::iso),
        },
        seed,
        size,
        population: population.len() as u64,
        dossiers: draw(population, size, seed),
        ledger_head: index.ledger_head()?,
    })
}

/// A seed from the operating system, for a sample drawn without `--seed` (it is shown, so the
/// sample can be drawn again).
pub fn fresh_seed() -> u64 {
    let mut b = [0u8; 8];
    // Without OS randomness the clock is still a fine seed: it is printed either way.
    if getrandom::fill(&mut b).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        return t.as_nanos() as u64;
    }
    u64::from_le_bytes(b) % 1_000_000_000
}

/// Records a verdict on `dossier` in the archive at `root`: takes the archive lock (one
/// writer of the ledger at a time), appends the entry and events, writes the ledger file.
pub fn record(
    root: &Path,
    index_url: Option<&str>,
    verdict: &NewVerdict<'_>,
) -> Result<LedgerHead, AuditError> {
    if !VERDICTS.contains(&verdict.verdict) {
        return Err(AuditError::BadVerdict(verdict.verdict.to_owned()));
    }
    let archive = Archive::open_existing(root, index_url.is_some())?;
    let _lock = archive.lock()?;
    let location = Location::resolve(archive.index_path(), index_url)?;
    let mut index = Index::open(&location, true)?;
    // A verdict in an empty index would begin a second ledger over the archive's evidence.
    index.refuse_if_lost(&archive)?;
    if index.dossier(verdict.dossier_code)?.is_none() {
        return Err(AuditError::NoSuchDossier(verdict.dossier_code.to_owned()));
    }
    let head = index.record_verdict(verdict)?;
    crate::fixity::export_ledger(&archive, &index)
        .map_err(|e| AuditError::Ledger(e.to_string()))?;
    Ok(head)
}

/// One dossier's standing verdict.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VerdictRow {
    pub dossier_code: String,
    pub verdict: String,
    pub auditor: String,
    pub note: String,
    pub at: String,
    /// The ledger entry that holds it.
    pub seq: u64,
}

/// The observed error rate of the verdicts, with its 95% Wilson interval (percent, two
/// decimals; null when nothing was checked).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AuditReport {
    pub period: Period,
    pub checked: u64,
    pub confirmed: u64,
    pub not_confirmed: u64,
    pub error_percent: Option<f64>,
    pub wilson_95: Option<[f64; 2]>,
    pub verdicts: Vec<VerdictRow>,
    pub ledger_head: Option<LedgerHead>,
}

/// The 95% Wilson score interval of `k` failures in `n`, as fractions.
pub fn wilson(k: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let z = 1.959_963_984_540_054_f64;
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = z * z;
    let centre = p + z2 / (2.0 * n);
    let spread = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    let denom = 1.0 + z2 / n;
    // The bounds are exactly 0 with no failure and 1 with nothing but (not a rounding residue).
    let lo = if k == 0.0 {
        0.0
    } else {
        (centre - spread) / denom
    };
    let hi = if k == n {
        1.0
    } else {
        (centre + spread) / denom
    };
    Some((lo, hi))
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The verdicts in the ledger, the last on each dossier, in code order.
pub fn standing_verdicts(index: &Index) -> Result<Vec<VerdictRow>, AuditError> {
    let mut last: BTreeMap<String, VerdictRow> = BTreeMap::new();
    for (seq, text, _) in index.ledger()? {
        let Ok(entry) = serde_json::from_str::<LedgerEntry>(&text) else {
            continue; // verify names a malformed entry; it carries no verdict
        };
        if entry.kind != "audit" {
            continue;
        }
        let field = |k: &str| {
            entry
                .summary
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        last.insert(
            entry.subject.clone(),
            VerdictRow {
                dossier_code: entry.subject.clone(),
                verdict: field("verdict"),
                auditor: field("auditor"),
                note: field("note"),
                at: entry.at.clone(),
                seq,
            },
        );
    }
    Ok(last.into_values().collect())
}

/// The audit report over the verdicts on dossiers received from `from` to `to` (the
/// register's date, else the dossier code's).
pub fn report(
    index: &Index,
    from: Option<Date>,
    to: Option<Date>,
) -> Result<AuditReport, AuditError> {
    let received = index.register_received_dates()?;
    let in_period = |code: &str| {
        let d = received
            .get(code)
            .copied()
            .or_else(|| date_in_dossier_code(code));
        match d {
            Some(d) => from.is_none_or(|f| d >= f) && to.is_none_or(|t| d <= t),
            None => from.is_none() && to.is_none(),
        }
    };
    let verdicts: Vec<VerdictRow> = standing_verdicts(index)?
        .into_iter()
        .filter(|v| in_period(&v.dossier_code))
        .collect();
    let checked = verdicts.len() as u64;
    let not_confirmed = verdicts.iter().filter(|v| v.verdict != "confirmed").count() as u64;
    Ok(AuditReport {
        period: Period {
            from: from.map(Date::iso),
            to: to.map(Date::iso),
        },
        checked,
        confirmed: checked - not_confirmed,
        not_confirmed,
        error_percent: coverage::percent(not_confirmed, checked),
        wilson_95: wilson(not_confirmed, checked)
            .map(|(lo, hi)| [round2(lo * 100.0), round2(hi * 100.0)]),
        verdicts,
        ledger_head: index.ledger_head()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draw_depends_on_the_seed_only() {
        let pop: Vec<String> = (0..100).map(|i| format!("d{i:03}")).collect();
        let a = draw(pop.clone(), 10, 42);
        assert_eq!(a, draw(pop.clone(), 10, 42));
        assert_ne!(a, draw(pop.clone(), 10, 43));
        assert_eq!(a.len(), 10);
        let mut unique = a.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 10, "drawn without replacement");
        assert_eq!(draw(pop[..3].to_vec(), 10, 1).len(), 3);
        assert!(draw(Vec::new(), 5, 1).is_empty());
    }

    #[test]
    fn every_dossier_can_be_drawn() {
        let pop: Vec<String> = (0..20).map(|i| i.to_string()).collect();
        let mut seen = std::collections::HashSet::new();
        for seed in 0..200 {
            seen.extend(draw(pop.clone(), 1, seed));
        }
        assert_eq!(seen.len(), 20);
    }

    #[test]
    fn wilson_interval_matches_published_values() {
        // Newcombe (1998), example: 81 of 263 -> 0.2553 to 0.3662.
        let (lo, hi) = wilson(81, 263).unwrap();
        assert!(
            (lo - 0.2553).abs() < 5e-4 && (hi - 0.3662).abs() < 5e-4,
            "{lo} {hi}"
        );
        // No error among 50: the interval still reaches 7.13%.
        let (lo, hi) = wilson(0, 50).unwrap();
        assert_eq!(lo, 0.0);
        assert!((hi - 0.0713).abs() < 5e-4, "{hi}");
        assert_eq!(wilson(0, 0), None);
    }
}
