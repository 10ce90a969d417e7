//! From cells to register and catalog rows: the header's columns, each value's checks, and
//! numbers (xlsx) read back as codes or dates only when that is certain.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use super::text::describe_header;
use super::{
    CatalogRow, Cell, Cells, Channel, Format, Problem, RecordSink, RegisterError, RegisterRow,
    CATALOG_COLUMNS, REGISTER_COLUMNS,
};
use crate::date::Date;
use crate::intake::layout::validate_code;

/// The longest header cell worth reading (no column name is longer).
const HEADER_TEXT_LIMIT: usize = 256;
/// The longest value worth reading in a register or catalog cell.
const VALUE_TEXT_LIMIT: usize = 4096;

pub(super) fn header_name(cell: &str) -> String {
    cell.trim().trim_start_matches('\u{feff}').to_lowercase()
}

/// Whether `name` (from [`header_name`]) is a register or catalog column.
pub(super) fn known_column(name: &str) -> bool {
    REGISTER_COLUMNS
        .split(',')
        .chain(CATALOG_COLUMNS.split(','))
        .chain(["reused", "pages"])
        .any(|c| c == name)
}

/// The catalog's procedure codes by numeric value, to read back a code stored as a number.
pub(super) struct ProcedureCodes {
    /// `None` when two codes have the same value (`2.00072` and `2.000720`).
    by_value: HashMap<u64, Option<String>>,
}

impl ProcedureCodes {
    pub(super) fn new(catalog: &[CatalogRow]) -> ProcedureCodes {
        let mut by_value: HashMap<u64, Option<String>> = HashMap::new();
        for row in catalog {
            let code = &row.procedure_code;
            if !code.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                continue;
            }
            let Ok(value) = code.parse::<f64>() else {
                continue;
            };
            by_value
                .entry(value.to_bits())
                .and_modify(|known| {
                    if known.as_deref() != Some(code) {
                        *known = None;
                    }
                })
                .or_insert_with(|| Some(code.clone()));
        }
        ProcedureCodes { by_value }
    }
}

/// A procedure code stored as a number, read back when that is certain: the catalog (if the
/// caller has one) holds exactly one code of that value, or the number has the shape of every
/// procedure code, `N.NNNNNN` (one digit, at most six decimals, not a whole number: `2.00072`
/// is `2.000720`). Otherwise the reason, naming the cell.
fn procedure_code_from_number(
    value: f64,
    codes: Option<&ProcedureCodes>,
    cell: &str,
) -> Result<String, String> {
    let known = codes.and_then(|c| c.by_value.get(&value.to_bits()));
    match known {
        Some(Some(code)) => return Ok(code.clone()),
        Some(None) => {
            return Err(format!(
                "{cell}procedure code stored as the number {}, which matches several catalog codes; store it as text",
                number_text(value)
            ))
        }
        None => {}
    }
    if (1.0..10.0).contains(&value) && value.fract() != 0.0 {
        let code = format!("{value:.6}");
        if code.parse::<f64>() == Ok(value) {
            return Ok(code);
        }
    }
    Err(format!(
        "{cell}procedure code stored as the number {}; store it as text",
        number_text(value)
    ))
}

/// A number as a short text: whole numbers without a fraction, others as Rust's shortest
/// round trip (`2.00072`), very large or small ones in exponent form.
pub(super) fn number_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else if value.is_finite() && (1e-6..1e15).contains(&value.abs()) {
        format!("{value}")
    } else {
        format!("{value:e}")
    }
}

/// The date an Excel serial stands for in the workbook's date system (1900 or 1904), as
/// Excel shows it; `None` outside Excel's range or for 1900's phantom 29 February.
pub(super) fn excel_date(serial: f64, date_1904: bool) -> Option<Date> {
    let first = if date_1904 { 0.0 } else { 1.0 };
    if !(first..2_958_466.0).contains(&serial) {
        return None;
    }
    let (y, m, d, ..) =
        calamine::ExcelDateTime::new(serial, calamine::ExcelDateTimeType::DateTime, date_1904)
            .to_ymd_hms_milli();
    Date::from_ymd(y.into(), m.into(), d.into())
}

/// A column's letters as Excel shows them (0 is `A`, 26 is `AA`).
pub(super) fn column_name(mut col: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).expect("ASCII")
}

fn get(cells: &Cells, col: usize) -> Option<&Cell> {
    cells
        .binary_search_by_key(&col, |(c, _)| *c)
        .ok()
        .map(|i| &cells[i].1)
}

/// A header cell's text.
fn header_text(cell: &Cell) -> String {
    match cell {
        Cell::Text(s) => s.clone(),
        Cell::Number(f) | Cell::DateSerial(f) => number_text(*f),
        Cell::Unreadable(_) => String::new(),
    }
}

/// The header's column positions by name, and the texts found (for errors).
fn header(cells: &Cells) -> (HashMap<String, usize>, Vec<String>) {
    let mut positions = HashMap::new();
    let mut found = Vec::new();
    for (col, cell) in cells {
        let text = header_text(cell);
        positions.entry(header_name(&text)).or_insert(*col);
        found.push(text);
    }
    (positions, found)
}

/// How the cells of a row are named in reasons: xlsx cells by reference (`cell B7: `), CSV
/// values by column only (the line says where).
struct At<'f> {
    line: usize,
    format: &'f Format,
}

impl At<'_> {
    fn cell(&self, col: usize) -> String {
        match self.format {
            Format::Xlsx { .. } => format!("cell {}{}: ", column_name(col), self.line),
            Format::Csv { .. } => String::new(),
        }
    }

    fn date_1904(&self) -> bool {
        matches!(
            self.format,
            Format::Xlsx {
                date_system: 1904,
                ..
            }
        )
    }
}

/// The register's columns, found in its header.
struct Columns {
    dossier: usize,
    procedure: usize,
    unit: Option<usize>,
    received: usize,
    due: Option<usize>,
    completed: Option<usize>,
    channel: Option<usize>,
    reused: Option<usize>,
    pages: Option<usize>,
    /// The columns above, for [`RecordSink::wants`].
    used: Vec<usize>,
}

fn missing(
    path: &Path,
    column: &'static str,
    expected: &'static str,
    format: &Format,
    found: &[String],
) -> RegisterError {
    RegisterError::MissingColumn {
        path: path.to_owned(),
        column,
        expected,
        format: format.to_string(),
        found: describe_header(found),
    }
}

fn no_header(path: &Path, format: &Format) -> RegisterError {
    RegisterError::Read {
        path: path.to_owned(),
        message: format!("the file is empty: it has no header row (read as {format})"),
    }
}

impl Columns {
    fn register(path: &Path, cells: &Cells, format: &Format) -> Result<Columns, RegisterError> {
        let (positions, found) = header(cells);
        let find = |name: &str| positions.get(name).copied();
        let require = |name: &'static str| {
            find(name).ok_or_else(|| missing(path, name, REGISTER_COLUMNS, format, &found))
        };
        let mut columns = Columns {
            dossier: require("dossier_code")?,
            procedure: require("procedure_code")?,
            unit: find("unit"),
            received: require("received_on")?,
            due: find("due_on"),
            completed: find("completed_on"),
            channel: find("channel"),
            reused: find("reused"),
            pages: find("pages"),
            used: Vec::new(),
        };
        columns.used = [columns.dossier, columns.procedure, columns.received]
            .into_iter()
            .chain(columns.unit)
            .chain(columns.due)
            .chain(columns.completed)
            .chain(columns.channel)
            .chain(columns.reused)
            .chain(columns.pages)
            .collect();
        Ok(columns)
    }

    fn register_row(
        &self,
        cells: &Cells,
        at: &At<'_>,
        codes: Option<&ProcedureCodes>,
    ) -> Result<RegisterRow, String> {
        let blank = |c: &Cell| matches!(c, Cell::Text(s) if s.trim().is_empty());
        if cells.iter().all(|(_, c)| blank(c)) {
            return Err("empty row".into());
        }
        let text = |col: usize| value_text(cells, col);
        let dossier_code = match get(cells, self.dossier) {
            Some(Cell::Number(f) | Cell::DateSerial(f)) => {
                return Err(format!(
                    "{}dossier code stored as the number {}; store it as text",
                    at.cell(self.dossier),
                    number_text(*f)
                ))
            }
            _ => text(self.dossier)
                .map_err(|why| format!("{}dossier_code {why}", at.cell(self.dossier)))?
                .into_owned(),
        };
        validate_code(&dossier_code).map_err(|why| format!("dossier_code {why}"))?;
        let of = |col: usize, column: &str, why: String| {
            format!("dossier {dossier_code}: {}{column} {why}", at.cell(col))
        };
        let procedure_code = match get(cells, self.procedure) {
            Some(Cell::Number(f) | Cell::DateSerial(f)) => {
                procedure_code_from_number(*f, codes, &at.cell(self.procedure))
                    .map_err(|why| format!("dossier {dossier_code}: {why}"))?
            }
            _ => text(self.procedure)
                .map_err(|why| of(self.procedure, "procedure_code", why))?
                .into_owned(),
        };
        validate_code(&procedure_code)
            .map_err(|why| format!("dossier {dossier_code}: procedure_code {why}"))?;
        // A date column: text as ISO or dd/mm/yyyy; a number (date-formatted or not) as a
        // serial of the workbook's date system.
        let date = |col: Option<usize>, column: &str| -> Result<Option<Date>, String> {
            let Some(col) = col else { return Ok(None) };
            match get(cells, col) {
                Some(Cell::Number(f) | Cell::DateSerial(f)) => match excel_date(*f, at.date_1904())
                {
                    Some(d) => Ok(Some(d)),
                    None => Err(of(col, column, "is a number that is not a date".into())),
                },
                _ => match &*text(col).map_err(|why| of(col, column, why))? {
                    "" => Ok(None),
                    v => Date::parse(v).map(Some).ok_or_else(|| {
                        of(
                            col,
                            column,
                            "is not a date (expected YYYY-MM-DD or dd/mm/yyyy)".into(),
                        )
                    }),
                },
            }
        };
        let received_on = date(Some(self.received), "received_on")?
            .ok_or_else(|| format!("dossier {dossier_code}: received_on is empty"))?;
        let due_on = date(self.due, "due_on")?;
        let completed_on = date(self.completed, "completed_on")?;
        if completed_on.is_some_and(|c| c < received_on) {
            return Err(format!(
                "dossier {dossier_code}: completed_on is before received_on"
            ));
        }
        let optional = |col: Option<usize>, column: &str| match col {
            Some(col) => text(col).map_err(|why| of(col, column, why)),
            None => Ok(Cow::Borrowed("")),
        };
        let channel = match &*optional(self.channel, "channel")? {
            "" => None,
            v => Some(Channel::parse(v).ok_or_else(|| {
                format!("dossier {dossier_code}: channel is not direct, online, postal or 1, 2, 3")
            })?),
        };
        let unit = optional(self.unit, "unit")?.into_owned();
        let count = |col: Option<usize>, column: &str| {
            col.map_or(Ok(None), |col| {
                count_value(cells, col).map_err(|why| of(col, column, why))
            })
        };
        // An empty `reused` cell is 0; without the column, reuse is unknown.
        let reused = count(self.reused, "reused")?.or(self.reused.map(|_| 0));
        let pages = count(self.pages, "pages")?;
        Ok(RegisterRow {
            dossier_code,
            procedure_code,
            unit,
            received_on,
            due_on,
            completed_on,
            channel,
            reused,
            pages,
        })
    }
}

/// A column's value as text; numbers as they read (`2`, `2.5`).
fn value_text(cells: &Cells, col: usize) -> Result<Cow<'_, str>, String> {
    match get(cells, col) {
        None => Ok(Cow::Borrowed("")),
        Some(Cell::Text(s)) => Ok(Cow::Borrowed(s.trim())),
        Some(Cell::Number(f) | Cell::DateSerial(f)) => Ok(Cow::Owned(number_text(*f))),
        Some(Cell::Unreadable(why)) => Err(why.clone()),
    }
}

/// A count column's value: a whole number (typed or as text); empty is `None`.
fn count_value(cells: &Cells, col: usize) -> Result<Option<u32>, String> {
    let value = value_text(cells, col)?;
    if value.is_empty() {
        return Ok(None);
    }
    value
        .parse::<u32>()
        .map(Some)
        .map_err(|_| format!("is not a whole number ({value})"))
}

/// Register rows to a callback: the header's columns first, then each row or its problem.
pub(super) struct RegisterSink<'a, F> {
    path: &'a Path,
    codes: Option<&'a ProcedureCodes>,
    each: F,
    columns: Option<Columns>,
    problems: Vec<Problem>,
}

impl<'a, F: FnMut(usize, RegisterRow) -> Option<String>> RegisterSink<'a, F> {
    pub(super) fn new(path: &'a Path, codes: Option<&'a ProcedureCodes>, each: F) -> Self {
        RegisterSink {
            path,
            codes,
            each,
            columns: None,
            problems: Vec::new(),
        }
    }

    pub(super) fn finish(self, format: &Format) -> Result<Vec<Problem>, RegisterError> {
        match self.columns {
            Some(_) => Ok(self.problems),
            None => Err(no_header(self.path, format)),
        }
    }
}

impl<F: FnMut(usize, RegisterRow) -> Option<String>> RecordSink for RegisterSink<'_, F> {
    fn wants(&self, col: usize) -> bool {
        self.columns.as_ref().is_none_or(|c| c.used.contains(&col))
    }

    fn text_limit(&self) -> usize {
        match self.columns {
            None => HEADER_TEXT_LIMIT,
            Some(_) => VALUE_TEXT_LIMIT,
        }
    }

    fn record(
        &mut self,
        format: &Format,
        line: usize,
        cells: Result<&Cells, String>,
    ) -> Result<(), RegisterError> {
        let Some(cols) = &self.columns else {
            let cells = cells.unwrap_or(&[]);
            self.columns = Some(Columns::register(self.path, cells, format)?);
            return Ok(());
        };
        let at = At { line, format };
        let refused = match cells.and_then(|cells| cols.register_row(cells, &at, self.codes)) {
            Ok(row) => (self.each)(line, row),
            Err(reason) => Some(reason),
        };
        if let Some(reason) = refused {
            self.problems.push(Problem { line, reason });
        }
        Ok(())
    }
}

/// Catalog rows: the header's columns first, then each row or its problem.
pub(super) struct CatalogSink<'a> {
    path: &'a Path,
    /// procedure_code, name, field.
    columns: Option<[Option<usize>; 3]>,
    rows: Vec<CatalogRow>,
    problems: Vec<Problem>,
}

impl<'a> CatalogSink<'a> {
    pub(super) fn new(path: &'a Path) -> Self {
        CatalogSink {
            path,
            columns: None,
            rows: Vec::new(),
            problems: Vec::new(),
        }
    }

    pub(super) fn finish(
        self,
        format: &Format,
    ) -> Result<(Vec<CatalogRow>, Vec<Problem>), RegisterError> {
        match self.columns {
            Some(_) => Ok((self.rows, self.problems)),
            None => Err(no_header(self.path, format)),
        }
    }
}

impl RecordSink for CatalogSink<'_> {
    fn wants(&self, col: usize) -> bool {
        self.columns.is_none_or(|c| c.contains(&Some(col)))
    }

    fn text_limit(&self) -> usize {
        match self.columns {
            None => HEADER_TEXT_LIMIT,
            Some(_) => VALUE_TEXT_LIMIT,
        }
    }

    fn record(
        &mut self,
        format: &Format,
        line: usize,
        cells: Result<&Cells, String>,
    ) -> Result<(), RegisterError> {
        let cells = match cells {
            Ok(cells) => cells,
            Err(reason) if self.columns.is_some() => {
                self.problems.push(Problem { line, reason });
                return Ok(());
            }
            Err(_) => &[],
        };
        let Some(cols) = self.columns else {
            let (positions, found) = header(cells);
            let find = |name: &str| positions.get(name).copied();
            let code = find("procedure_code").ok_or_else(|| {
                missing(self.path, "procedure_code", CATALOG_COLUMNS, format, &found)
            })?;
            self.columns = Some([Some(code), find("name"), find("field")]);
            return Ok(());
        };
        let at = At { line, format };
        let get_text = |col: Option<usize>| match col.and_then(|c| get(cells, c)) {
            None => Ok(String::new()),
            Some(Cell::Text(s)) => Ok(s.trim().to_owned()),
            Some(Cell::Number(f) | Cell::DateSerial(f)) => Ok(number_text(*f)),
            Some(Cell::Unreadable(why)) => Err(why.clone()),
        };
        let code = match cols[0].and_then(|c| get(cells, c)) {
            Some(Cell::Number(f) | Cell::DateSerial(f)) => {
                procedure_code_from_number(*f, None, &at.cell(cols[0].unwrap_or(0)))
            }
            _ => get_text(cols[0]).map_err(|why| format!("procedure_code {why}")),
        };
        let checked = code.and_then(|code| {
            validate_code(&code).map_err(|why| format!("procedure_code {why}"))?;
            let name = get_text(cols[1]).map_err(|why| format!("procedure {code}: name {why}"))?;
            let field =
                get_text(cols[2]).map_err(|why| format!("procedure {code}: field {why}"))?;
            Ok(CatalogRow {
                procedure_code: code,
                name,
                field,
            })
        });
        match checked {
            Ok(row) => self.rows.push(row),
            Err(reason) => self.problems.push(Problem { line, reason }),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(codes: &[&str]) -> ProcedureCodes {
        let rows: Vec<CatalogRow> = codes
            .iter()
            .map(|c| CatalogRow {
                procedure_code: c.to_string(),
                name: String::new(),
                field: String::new(),
            })
            .collect();
        ProcedureCodes::new(&rows)
    }

    #[test]
    fn procedure_codes_stored_as_numbers_are_read_back_only_when_certain() {
        let read = |v: f64, codes: Option<&ProcedureCodes>| {
            procedure_code_from_number(v, codes, "cell B7: ")
        };
        // The pattern N.NNNNNN makes it certain.
        assert_eq!(read(2.00072, None).unwrap(), "2.000720");
        assert_eq!(read(1.001193, None).unwrap(), "1.001193");
        // Not of that shape: a problem naming the cell and the number.
        assert_eq!(
            read(2.0007201, None).unwrap_err(),
            "cell B7: procedure code stored as the number 2.0007201; store it as text"
        );
        for v in [2.0, 12.5, 0.5, -1.5, f64::NAN, f64::INFINITY, 1e300] {
            assert!(read(v, None).is_err(), "{v}");
        }
        // The catalog decides where it knows the value, even off the pattern.
        let known = catalog(&["2.00072", "1.001193", "x.1"]);
        assert_eq!(read(2.00072, Some(&known)).unwrap(), "2.00072");
        assert_eq!(read(1.001193, Some(&known)).unwrap(), "1.001193");
        assert_eq!(read(3.000001, Some(&known)).unwrap(), "3.000001");
        let twice = catalog(&["2.00072", "2.000720"]);
        assert!(read(2.00072, Some(&twice))
            .unwrap_err()
            .contains("matches several catalog codes"));
    }

    #[test]
    fn excel_serials_in_both_date_systems() {
        let iso = |s: f64, y1904: bool| excel_date(s, y1904).map(|d| d.iso());
        assert_eq!(iso(45306.0, false).as_deref(), Some("2024-01-15"));
        assert_eq!(iso(45306.75, false).as_deref(), Some("2024-01-15"));
        // The 1904 system counts 1,462 days fewer.
        assert_eq!(iso(45306.0 - 1462.0, true).as_deref(), Some("2024-01-15"));
        assert_eq!(iso(0.0, true).as_deref(), Some("1904-01-01"));
        assert_eq!(iso(1.0, false).as_deref(), Some("1900-01-01"));
        assert_eq!(iso(61.0, false).as_deref(), Some("1900-03-01"));
        // 1900's phantom 29 February, out of range, not numbers.
        for s in [60.0, 0.0, -5.0, 2_958_466.0, f64::NAN] {
            assert_eq!(iso(s, false), None, "{s}");
        }
    }

    #[test]
    fn column_names() {
        let names: Vec<String> = [0, 1, 25, 26, 27, 51, 52, 701, 702, 16383]
            .into_iter()
            .map(column_name)
            .collect();
        assert_eq!(
            names,
            ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA", "XFD"]
        );
    }

    #[test]
    fn numbers_as_text() {
        assert_eq!(number_text(2.0), "2");
        assert_eq!(number_text(2.00072), "2.00072");
        assert_eq!(number_text(240115001.0), "240115001");
        assert_eq!(number_text(1e300), "1e300");
        assert_eq!(number_text(f64::NAN), "NaN");
    }
}
