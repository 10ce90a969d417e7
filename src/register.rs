//! Reading the one-stop-shop register (CSV or .xlsx, first sheet) and the procedure catalog.
//!
//! Rows stream to a callback, so a register of a million rows never sits in memory whole.
//! A row that cannot be read becomes a [`Problem`] with its line number and the reason; the
//! reason names columns and codes only, never the other fields' content (personal data).
//!
//! A plain module (it uses only `date` and the intake's code check): every row that comes out
//! holds safe dossier and procedure codes and a received date. The index stores these rows and
//! coverage counts them; this module knows nothing of either.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::date::Date;
use crate::intake::layout::validate_code;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Direct,
    Online,
    Postal,
}

impl Channel {
    /// `direct`/`online`/`postal` or the national codes `1`/`2`/`3` (KenhThucHien).
    pub fn parse(s: &str) -> Option<Channel> {
        match s.trim().to_lowercase().as_str() {
            "direct" | "1" | "trực tiếp" => Some(Channel::Direct),
            "online" | "2" | "trực tuyến" => Some(Channel::Online),
            "postal" | "3" | "bưu chính" => Some(Channel::Postal),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Direct => "direct",
            Channel::Online => "online",
            Channel::Postal => "postal",
        }
    }
}

/// One dossier as the one-stop-shop system received it.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterRow {
    pub dossier_code: String,
    pub procedure_code: String,
    pub unit: String,
    pub received_on: Date,
    pub due_on: Option<Date>,
    pub completed_on: Option<Date>,
    pub channel: Option<Channel>,
}

/// A register or catalog row that was not counted, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path}: the header has no {column:?} column (expected {expected})")]
    MissingColumn {
        path: PathBuf,
        column: &'static str,
        expected: &'static str,
    },
}

const REGISTER_COLUMNS: &str =
    "dossier_code,procedure_code,unit,received_on,due_on,completed_on,channel";
const CATALOG_COLUMNS: &str = "procedure_code,name,field";

/// One entry of the procedure catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogRow {
    pub procedure_code: String,
    pub name: String,
    pub field: String,
}

/// Streams the register's rows to `each(line, row)`, which may refuse a row by returning the
/// reason (a repeated dossier, say); returns the rows that could not be counted.
pub(crate) fn read_register(
    path: &Path,
    each: impl FnMut(usize, RegisterRow) -> Option<String>,
) -> Result<Vec<Problem>, RegisterError> {
    register_from(Input::File(path), each)
}

/// A register in CSV held in memory (for fuzzing and for callers that already read the file).
pub fn read_register_csv(
    bytes: &[u8],
    each: impl FnMut(usize, RegisterRow) -> Option<String>,
) -> Result<Vec<Problem>, RegisterError> {
    register_from(Input::Csv(bytes), each)
}

/// Where register or catalog rows come from.
#[derive(Clone, Copy)]
enum Input<'a> {
    /// A CSV or .xlsx file.
    File(&'a Path),
    /// CSV bytes.
    Csv(&'a [u8]),
}

impl Input<'_> {
    fn path(&self) -> &Path {
        match self {
            Input::File(p) => p,
            Input::Csv(_) => Path::new("(CSV input)"),
        }
    }
}

fn register_from(
    input: Input<'_>,
    mut each: impl FnMut(usize, RegisterRow) -> Option<String>,
) -> Result<Vec<Problem>, RegisterError> {
    let path = input.path();
    let mut problems = Vec::new();
    let mut columns: Option<Columns> = None;
    for_each_record(input, |line, cells| {
        let Some(cols) = &columns else {
            columns = Some(Columns::register(path, cells.unwrap_or_default())?);
            return Ok(());
        };
        let refused = match cells.and_then(|cells| cols.register_row(cells)) {
            Ok(row) => each(line, row),
            Err(reason) => Some(reason),
        };
        if let Some(reason) = refused {
            problems.push(Problem { line, reason });
        }
        Ok(())
    })?;
    if columns.is_none() {
        return Err(RegisterError::MissingColumn {
            path: path.to_owned(),
            column: "dossier_code",
            expected: REGISTER_COLUMNS,
        });
    }
    Ok(problems)
}

/// The whole register in memory, each dossier once (the first row counts; a repeat is a
/// problem): what `run` imports into the index.
pub fn read_register_rows(path: &Path) -> Result<(Vec<RegisterRow>, Vec<Problem>), RegisterError> {
    let mut rows = Vec::new();
    let mut first_line: HashMap<String, usize> = HashMap::new();
    let problems = read_register(path, |line, row| match first_line.get(&row.dossier_code) {
        Some(first) => Some(repeated(&row.dossier_code, Some(*first))),
        None => {
            first_line.insert(row.dossier_code.clone(), line);
            rows.push(row);
            None
        }
    })?;
    Ok((rows, problems))
}

/// The reason given for a dossier the register lists twice.
pub(crate) fn repeated(dossier_code: &str, first_line: Option<usize>) -> String {
    match first_line {
        Some(first) => format!("dossier {dossier_code} is listed again (first at line {first}): this row is not counted"),
        None => format!("dossier {dossier_code} is listed again: only its first row is counted"),
    }
}

/// Reads the procedure catalog (CSV or .xlsx).
pub fn read_catalog(path: &Path) -> Result<(Vec<CatalogRow>, Vec<Problem>), RegisterError> {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut columns: Option<[Option<usize>; 3]> = None;
    for_each_record(Input::File(path), |line, cells| {
        let cells = match cells {
            Ok(cells) => cells,
            Err(reason) if columns.is_some() => {
                problems.push(Problem { line, reason });
                return Ok(());
            }
            Err(_) => &[],
        };
        let Some(cols) = &columns else {
            let find = |name: &str| cells.iter().position(|c| header_name(c) == name);
            let code = find("procedure_code").ok_or_else(|| RegisterError::MissingColumn {
                path: path.to_owned(),
                column: "procedure_code",
                expected: CATALOG_COLUMNS,
            })?;
            columns = Some([Some(code), find("name"), find("field")]);
            return Ok(());
        };
        let get = |i: Option<usize>| {
            i.and_then(|i| cells.get(i))
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        };
        let code = get(cols[0]);
        if let Err(why) = validate_code(&code) {
            problems.push(Problem {
                line,
                reason: format!("procedure_code {why}"),
            });
            return Ok(());
        }
        rows.push(CatalogRow {
            procedure_code: code,
            name: get(cols[1]),
            field: get(cols[2]),
        });
        Ok(())
    })?;
    Ok((rows, problems))
}

fn header_name(cell: &str) -> String {
    cell.trim().trim_start_matches('\u{feff}').to_lowercase()
}

struct Columns {
    dossier: usize,
    procedure: usize,
    unit: Option<usize>,
    received: usize,
    due: Option<usize>,
    completed: Option<usize>,
    channel: Option<usize>,
}

impl Columns {
    fn register(path: &Path, header: &[&str]) -> Result<Columns, RegisterError> {
        let find = |name: &str| header.iter().position(|c| header_name(c) == name);
        let require = |name: &'static str| {
            find(name).ok_or_else(|| RegisterError::MissingColumn {
                path: path.to_owned(),
                column: name,
                expected: REGISTER_COLUMNS,
            })
        };
        Ok(Columns {
            dossier: require("dossier_code")?,
            procedure: require("procedure_code")?,
            unit: find("unit"),
            received: require("received_on")?,
            due: find("due_on"),
            completed: find("completed_on"),
            channel: find("channel"),
        })
    }

    fn register_row(&self, cells: &[&str]) -> Result<RegisterRow, String> {
        let get = |i: usize| cells.get(i).map(|s| s.trim()).unwrap_or("");
        let opt = |i: Option<usize>| i.map(get).unwrap_or("");
        if cells.iter().all(|c| c.trim().is_empty()) {
            return Err("empty row".into());
        }
        let dossier_code = get(self.dossier).to_owned();
        validate_code(&dossier_code).map_err(|why| format!("dossier_code {why}"))?;
        let procedure_code = get(self.procedure).to_owned();
        validate_code(&procedure_code)
            .map_err(|why| format!("dossier {dossier_code}: procedure_code {why}"))?;
        let date = |column: &str, value: &str| {
            Date::parse(value).ok_or_else(|| {
                format!("dossier {dossier_code}: {column} is not a date (expected YYYY-MM-DD or dd/mm/yyyy)")
            })
        };
        let optional_date = |column: &str, value: &str| {
            if value.is_empty() {
                Ok(None)
            } else {
                date(column, value).map(Some)
            }
        };
        let received_on = match get(self.received) {
            "" => return Err(format!("dossier {dossier_code}: received_on is empty")),
            v => date("received_on", v)?,
        };
        let due_on = optional_date("due_on", opt(self.due))?;
        let completed_on = optional_date("completed_on", opt(self.completed))?;
        if completed_on.is_some_and(|c| c < received_on) {
            return Err(format!(
                "dossier {dossier_code}: completed_on is before received_on"
            ));
        }
        let channel = match opt(self.channel) {
            "" => None,
            v => Some(Channel::parse(v).ok_or_else(|| {
                format!("dossier {dossier_code}: channel is not direct, online, postal or 1, 2, 3")
            })?),
        };
        Ok(RegisterRow {
            dossier_code,
            procedure_code,
            unit: opt(self.unit).to_owned(),
            received_on,
            due_on,
            completed_on,
            channel,
        })
    }
}

/// Calls `each(line, cells)` for every row of a CSV file or of an .xlsx file's first sheet,
/// header included; a row that is not text gets the reason instead of cells. Cells of xlsx
/// dates become ISO dates.
fn for_each_record(
    input: Input<'_>,
    mut each: impl FnMut(usize, Result<&[&str], String>) -> Result<(), RegisterError>,
) -> Result<(), RegisterError> {
    let path = input.path();
    let read_err = |message: String| RegisterError::Read {
        path: path.to_owned(),
        message,
    };
    let is_xlsx = matches!(input, Input::File(_))
        && path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    if is_xlsx {
        use calamine::{open_workbook, Data, Reader, Xlsx};
        let mut workbook: Xlsx<_> =
            open_workbook(path).map_err(|e: calamine::XlsxError| read_err(e.to_string()))?;
        let range = workbook
            .worksheet_range_at(0)
            .ok_or_else(|| read_err("the workbook has no sheet".into()))?
            .map_err(|e| read_err(e.to_string()))?;
        let first_row = range.start().map_or(0, |(r, _)| r as usize);
        let mut cells = Vec::new();
        for (i, row) in range.rows().enumerate() {
            cells.clear();
            cells.extend(row.iter().map(|c| {
                match c {
                    Data::String(s) | Data::DateTimeIso(s) => s.clone(),
                    Data::Int(i) => i.to_string(),
                    Data::Float(f) if f.fract() == 0.0 => format!("{f:.0}"),
                    Data::Float(f) => f.to_string(),
                    Data::DateTime(d) => Date::from_excel_serial(d.as_f64())
                        .map(|d| d.iso())
                        .unwrap_or_default(),
                    Data::Bool(b) => b.to_string(),
                    _ => String::new(),
                }
            }));
            let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
            each(first_row + i + 1, Ok(&refs))?;
        }
        return Ok(());
    }
    let source: Box<dyn std::io::Read + '_> = match input {
        Input::File(p) => Box::new(std::fs::File::open(p).map_err(|e| read_err(e.to_string()))?),
        Input::Csv(bytes) => Box::new(bytes),
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(source);
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line() as usize);
                let cells: Vec<&str> = record.iter().collect();
                each(line, Ok(&cells))?;
            }
            // A line that is not UTF-8 (or not CSV): report it and go on with the rest.
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                if let csv::ErrorKind::Utf8 { .. } = e.kind() {
                    each(line, Err("the row is not UTF-8 text".to_owned()))?;
                    continue;
                }
                return Err(read_err(format!("line {line}: {e}")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, name: &str, text: &[u8]) -> PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_rows_and_reports_bad_ones_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            "register.csv",
            "\u{feff}dossier_code,procedure_code,unit,received_on,due_on,completed_on,channel\n\
             000.00.01.H50-240115-0001,1.001193,Phường 1,2024-01-15,2024-01-15,2024-01-15,direct\n\
             000.00.01.H50-240116-0002,1.001193,\"Phường 1, Đông Hà\",16/01/2024,,,2\n\
             000.00.01.H50-240117-0003,1.001193,Phường 1,32/01/2024,,,1\n\
             ../etc,1.001193,Phường 1,2024-01-15,,,1\n\
             000.00.01.H50-240118-0004,1.001193,Phường 1,2024-01-18,,,fax\n\
             000.00.01.H50-240115-0001,1.001193,Phường 1,2024-01-15,,,1\n\
             000.00.01.H50-240119-0005,2.000815,Phường 2,2024-01-19,,2024-01-18,3\n"
                .as_bytes(),
        );
        let (rows, problems) = read_register_rows(&path).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].unit, "Phường 1, Đông Hà");
        assert_eq!(rows[1].received_on, Date::parse("2024-01-16").unwrap());
        assert_eq!(rows[1].completed_on, None);
        assert_eq!(rows[1].channel, Some(Channel::Online));
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![4, 5, 6, 7, 8]);
        assert!(problems[0].reason.contains("received_on is not a date"));
        assert!(
            !problems[0].reason.contains("32/01"),
            "field content stays out of messages"
        );
        assert!(problems[1].reason.contains("dossier_code"));
        assert!(problems[2].reason.contains("channel"));
        assert!(problems[3]
            .reason
            .contains("listed again (first at line 2)"));
        assert!(problems[4].reason.contains("before received_on"));
    }

    #[test]
    fn a_register_without_required_columns_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "r.csv", b"code,procedure_code,received_on\nx,y,z\n");
        let err = read_register(&path, |_, _| None).unwrap_err();
        assert!(err.to_string().contains("dossier_code"), "{err}");
        let empty = write(&dir, "empty.csv", b"");
        assert!(read_register(&empty, |_, _| None).is_err());
    }

    #[test]
    fn non_utf8_lines_are_problems_not_failures() {
        let dir = tempfile::tempdir().unwrap();
        let mut text =
            b"dossier_code,procedure_code,unit,received_on,due_on,completed_on,channel\n".to_vec();
        text.extend_from_slice(b"000.00.01.H50-240115-0001,1.001193,Ph\xffng 1,2024-01-15,,,1\n");
        text.extend_from_slice(b"000.00.01.H50-240115-0002,1.001193,P,2024-01-15,,,1\n");
        let path = write(&dir, "r.csv", &text);
        let (rows, problems) = read_register_rows(&path).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 2);
    }

    #[test]
    fn reads_the_first_sheet_of_an_xlsx_register() {
        use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("register.xlsx");
        let mut wb = Workbook::new();
        let sheet = wb.add_worksheet();
        for (c, h) in REGISTER_COLUMNS.split(',').enumerate() {
            sheet.write_string(0, c as u16, h).unwrap();
        }
        let date = Format::new().set_num_format("dd/mm/yyyy");
        // Row 2: real date cells and a numeric channel, as Excel exports them.
        sheet
            .write_string(1, 0, "000.00.01.H50-240115-0001")
            .unwrap();
        sheet.write_string(1, 1, "1.001193").unwrap();
        sheet.write_string(1, 2, "Phường 1").unwrap();
        let d = ExcelDateTime::from_ymd(2024, 1, 15).unwrap();
        sheet.write_datetime_with_format(1, 3, d, &date).unwrap();
        sheet
            .write_datetime_with_format(1, 5, ExcelDateTime::from_ymd(2024, 1, 20).unwrap(), &date)
            .unwrap();
        sheet.write_number(1, 6, 2.0).unwrap();
        // Row 3: dates typed as text, Vietnamese style; row 4: unreadable.
        for (c, v) in [
            "000.00.01.H50-240116-0002",
            "2.000815",
            "Phường 2",
            "16/01/2024",
            "",
            "",
            "direct",
        ]
        .iter()
        .enumerate()
        {
            sheet.write_string(2, c as u16, *v).unwrap();
        }
        for (c, v) in [
            "000.00.01.H50-240117-0003",
            "2.000815",
            "Phường 2",
            "hôm qua",
            "",
            "",
            "1",
        ]
        .iter()
        .enumerate()
        {
            sheet.write_string(3, c as u16, *v).unwrap();
        }
        wb.save(&path).unwrap();

        let (rows, problems) = read_register_rows(&path).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].received_on, Date::parse("2024-01-15").unwrap());
        assert_eq!(rows[0].completed_on, Date::parse("2024-01-20"));
        assert_eq!(rows[0].channel, Some(Channel::Online));
        assert_eq!(rows[1].received_on, Date::parse("2024-01-16").unwrap());
        assert_eq!(rows[1].unit, "Phường 2");
        assert_eq!(problems, vec![Problem { line: 4, reason: "dossier 000.00.01.H50-240117-0003: received_on is not a date (expected YYYY-MM-DD or dd/mm/yyyy)".into() }]);
    }

    #[test]
    fn catalog_reads_names_and_fields() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            "p.csv",
            "procedure_code,name,field\n1.001193,Đăng ký khai sinh,Hộ tịch\n2.000815,\"Chứng thực bản sao, bản chính\",Chứng thực\n bad code ,x,y\n".as_bytes(),
        );
        let (rows, problems) = read_catalog(&path).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].name, "Chứng thực bản sao, bản chính");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 4);
    }
}
