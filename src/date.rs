//! Calendar dates as the register writes them: ISO `YYYY-MM-DD` or Vietnamese `dd/mm/yyyy`.
//!
//! A plain module (it uses only `timefmt`'s calendar arithmetic): the register, the index, the
//! coverage report and bag export all speak of days with [`Date`]. A date read from text is
//! a real day between 1900 and 2200.

use std::fmt;

use crate::timefmt::{civil_from_days, days_from_civil};

/// A calendar day (days since 1970-01-01).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub i64);

impl Date {
    pub fn from_ymd(y: i64, m: u32, d: u32) -> Option<Date> {
        if !(1900..=2200).contains(&y)
            || !(1..=12).contains(&m)
            || d == 0
            || d > days_in_month(y, m)
        {
            return None;
        }
        Some(Date(days_from_civil(y, m, d)))
    }

    /// `2024-01-15` or `15/01/2024` (also `15-01-2024`, `15.01.2024`, one-digit day and month).
    pub fn parse(s: &str) -> Option<Date> {
        let s = s.trim();
        if let Some((y, rest)) = s.split_once('-').filter(|(y, _)| y.len() == 4) {
            let (m, d) = rest.split_once('-')?;
            return Date::from_ymd(num(y)?, num(m)? as u32, num(d)? as u32);
        }
        let parts: Vec<&str> = s.split(['/', '-', '.']).collect();
        match parts.as_slice() {
            [d, m, y] if y.len() == 4 && d.len() <= 2 && m.len() <= 2 => {
                Date::from_ymd(num(y)?, num(m)? as u32, num(d)? as u32)
            }
            _ => None,
        }
    }

    /// Excel's day serial (1900 system; day 25569 is 1970-01-01).
    pub fn from_excel_serial(serial: f64) -> Option<Date> {
        if !(1.0..=200_000.0).contains(&serial) {
            return None;
        }
        Some(Date(serial.floor() as i64 - 25_569))
    }

    pub fn ymd(self) -> (i64, u32, u32) {
        civil_from_days(self.0)
    }

    pub fn iso(self) -> String {
        let (y, m, d) = self.ymd();
        format!("{y:04}-{m:02}-{d:02}")
    }

    /// `15/01/2024`, as Vietnamese offices write dates.
    pub fn vn(self) -> String {
        let (y, m, d) = self.ymd();
        format!("{d:02}/{m:02}/{y:04}")
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.iso())
    }
}

fn num(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// The date in a dossier code (`000.00.01.H50-240115-0001` → 2024-01-15), used as the
/// received date when there is no register.
pub(crate) fn date_in_dossier_code(code: &str) -> Option<Date> {
    let mut parts = code.split('-');
    let _agency = parts.next()?;
    let yymmdd = parts.next()?;
    if yymmdd.len() != 6 {
        return None;
    }
    Date::from_ymd(
        2000 + num(&yymmdd[..2])?,
        num(&yymmdd[2..4])? as u32,
        num(&yymmdd[4..])? as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_iso_and_vietnamese_dates() {
        let d = Date::from_ymd(2024, 1, 15).unwrap();
        assert_eq!(Date::parse("2024-01-15"), Some(d));
        assert_eq!(Date::parse("15/01/2024"), Some(d));
        assert_eq!(Date::parse(" 15/1/2024 "), Some(d));
        assert_eq!(Date::parse("15.01.2024"), Some(d));
        assert_eq!(d.vn(), "15/01/2024");
        assert_eq!(d.iso(), "2024-01-15");
        assert_eq!(
            Date::parse("29/02/2024").map(Date::iso).as_deref(),
            Some("2024-02-29")
        );
    }

    #[test]
    fn refuses_impossible_dates() {
        for bad in [
            "",
            "2024-13-01",
            "31/04/2024",
            "29/02/2023",
            "01/15/2024x",
            "2024/01/15",
            "15/01/24",
            "tomorrow",
            "+1/01/2024",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn excel_serials_and_dossier_codes() {
        assert_eq!(
            Date::from_excel_serial(45306.0).unwrap().iso(),
            "2024-01-15"
        );
        assert_eq!(
            date_in_dossier_code("000.00.01.H50-240115-0001")
                .unwrap()
                .iso(),
            "2024-01-15"
        );
        assert_eq!(date_in_dossier_code("000.00.01.H50-241315-0001"), None);
        assert_eq!(date_in_dossier_code("no-date"), None);
    }
}
