//! Reading the one-stop-shop register (CSV or .xlsx, first sheet) and the procedure catalog.
//!
//! Rows stream to a callback, so a register of a million rows never sits in memory whole
//! (an .xlsx sheet is read cell by cell, never as a whole range). A row that cannot be read
//! becomes a [`Problem`] with its line number and the reason; the reason names columns, cells
//! and codes only, never the other fields' content (personal data).
//!
//! What offices export is read as it is:
//! - CSV ([`text`]): UTF-8 with or without BOM, UTF-16 LE/BE (Excel's "Unicode text"),
//!   Windows-1258 when the bytes are not UTF-8; comma, semicolon or tab separators, detected
//!   from the header line. Line numbers are physical lines (header = line 1) whatever the line
//!   endings and however many quoted newlines come before.
//! - xlsx ([`xlsx`]): dates as serial numbers in the 1900 or 1904 date system; codes stored as
//!   numbers are read back only when that is certain; a hostile workbook is an error, never an
//!   abort or a multi-GB allocation.
//!
//! Text is normalised to Unicode NFC on reading, so an NFD "Phường 3" (macOS, Windows-1258's
//! combining tone marks) is the same unit as the NFC one. What cannot be read is said plainly,
//! with the encoding, separator or sheet found ([`Format`]).
//!
//! A plain module (it uses only `date` and the intake's code check): every row that comes out
//! holds safe dossier and procedure codes and a received date. The index stores these rows and
//! coverage counts them; this module knows nothing of either.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::date::Date;

mod rows;
mod text;
mod xlsx;

#[cfg(test)]
mod test_xlsx;

use rows::{CatalogSink, ProcedureCodes, RegisterSink};

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
    /// Components reused from already-digitized data (indicator 4.3): `None` when the register
    /// has no `reused` column, else the number (an empty cell is 0).
    pub reused: Option<u32>,
    /// Input pages handed in at the counter (optional `pages` column; `None` when empty).
    pub pages: Option<u32>,
}

/// A register or catalog row that was not counted, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Problem {
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error(
        "{path}: the header has no {column:?} column (expected {expected}); \
         read as {format}, the header line holds {found}"
    )]
    MissingColumn {
        path: PathBuf,
        column: &'static str,
        expected: &'static str,
        /// What the file was read as (encoding and separator, or sheet).
        format: String,
        /// The header cells found (a few, shortened).
        found: String,
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

/// What a register or catalog file was read as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Format {
    Csv {
        encoding: Encoding,
        /// `,`, `;` or tab.
        separator: char,
    },
    Xlsx {
        /// The first sheet's name (the one read).
        sheet: String,
        /// 1900 or 1904: the workbook's date system.
        date_system: u16,
    },
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Format::Csv {
                encoding,
                separator,
            } => {
                let sep = match separator {
                    ',' => "comma",
                    ';' => "semicolon",
                    '\t' => "tab",
                    _ => "other",
                };
                write!(f, "CSV in {encoding}, {sep}-separated")
            }
            Format::Xlsx { sheet, date_system } => write!(
                f,
                "xlsx, first sheet {:?}, {date_system} date system",
                shorten(sheet, 40)
            ),
        }
    }
}

/// The text encoding a CSV register was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16LeBom,
    Utf16BeBom,
    /// UTF-16 without a byte-order mark, told by its NUL bytes.
    Utf16Le,
    Utf16Be,
    /// Assumed because the bytes are not UTF-8.
    Windows1258,
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8 with BOM",
            Encoding::Utf16LeBom => "UTF-16LE (byte-order mark)",
            Encoding::Utf16BeBom => "UTF-16BE (byte-order mark)",
            Encoding::Utf16Le => "UTF-16LE (no byte-order mark; told by its NUL bytes)",
            Encoding::Utf16Be => "UTF-16BE (no byte-order mark; told by its NUL bytes)",
            Encoding::Windows1258 => "Windows-1258 (assumed: the bytes are not UTF-8)",
        })
    }
}

/// Where a register or catalog comes from: a file, or bytes already read (the exact bytes a
/// run stored), with a name for messages (its extension is only a hint: content decides).
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    File(&'a Path),
    Bytes { bytes: &'a [u8], name: &'a str },
}

/// A register read whole: what [`read_register_from`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Register {
    /// Each dossier once (the first row counts).
    pub rows: Vec<RegisterRow>,
    /// Rows not counted, in line order.
    pub problems: Vec<Problem>,
    pub format: Format,
}

/// Streams the register's rows to `each(line, row)`, which may refuse a row by returning the
/// reason (a repeated dossier, say); returns the rows that could not be counted.
pub(crate) fn read_register(
    path: &Path,
    each: impl FnMut(usize, RegisterRow) -> Option<String>,
) -> Result<Vec<Problem>, RegisterError> {
    register_from(Input::File(path), None, each).map(|(problems, _)| problems)
}

/// A register in CSV held in memory (for fuzzing and for callers that already read the file).
/// Any of the encodings and separators a CSV register may come in; never read as xlsx.
pub fn read_register_csv(
    bytes: &[u8],
    each: impl FnMut(usize, RegisterRow) -> Option<String>,
) -> Result<Vec<Problem>, RegisterError> {
    register_from(Input::Csv(bytes), None, each).map(|(problems, _)| problems)
}

/// Streams a register (CSV or xlsx, told by content) to `each(line, row)` as
/// [`read_register`] does; `catalog`, when the caller has one, lets a procedure code stored as
/// a number be read back. Returns the problems and what the file was read as.
pub fn for_each_register_row(
    source: Source<'_>,
    catalog: Option<&[CatalogRow]>,
    each: impl FnMut(usize, RegisterRow) -> Option<String>,
) -> Result<(Vec<Problem>, Format), RegisterError> {
    let codes = catalog.map(ProcedureCodes::new);
    register_from(Input::from(source), codes.as_ref(), each)
}

/// Where register or catalog rows come from.
#[derive(Clone, Copy)]
enum Input<'a> {
    /// A CSV or .xlsx file.
    File(&'a Path),
    /// CSV or .xlsx bytes, with a name for messages.
    Bytes(&'a [u8], &'a Path),
    /// CSV bytes.
    Csv(&'a [u8]),
}

impl<'a> From<Source<'a>> for Input<'a> {
    fn from(source: Source<'a>) -> Input<'a> {
        match source {
            Source::File(p) => Input::File(p),
            Source::Bytes { bytes, name } => Input::Bytes(bytes, Path::new(name)),
        }
    }
}

impl Input<'_> {
    fn path(&self) -> &Path {
        match self {
            Input::File(p) | Input::Bytes(_, p) => p,
            Input::Csv(_) => Path::new("(CSV input)"),
        }
    }
}

fn register_from(
    input: Input<'_>,
    codes: Option<&ProcedureCodes>,
    each: impl FnMut(usize, RegisterRow) -> Option<String>,
) -> Result<(Vec<Problem>, Format), RegisterError> {
    let mut sink = RegisterSink::new(input.path(), codes, each);
    let format = for_each_record(input, &mut sink)?;
    let problems = sink.finish(&format)?;
    Ok((problems, format))
}

/// The whole register in memory, each dossier once (the first row counts; a repeat is a
/// problem): what `run` imports into the index.
pub fn read_register_rows(path: &Path) -> Result<(Vec<RegisterRow>, Vec<Problem>), RegisterError> {
    read_register_from(Source::File(path), None).map(|r| (r.rows, r.problems))
}

/// [`read_register_rows`] for bytes already read (the exact bytes a run stored): CSV or xlsx,
/// told by content; `name` is for messages.
pub fn register_rows_from_bytes(
    bytes: &[u8],
    name: &str,
) -> Result<(Vec<RegisterRow>, Vec<Problem>), RegisterError> {
    read_register_from(Source::Bytes { bytes, name }, None).map(|r| (r.rows, r.problems))
}

/// The whole register, each dossier once, with what the file was read as; `catalog`, when the
/// caller has one, lets a procedure code stored as a number be read back.
pub fn read_register_from(
    source: Source<'_>,
    catalog: Option<&[CatalogRow]>,
) -> Result<Register, RegisterError> {
    let mut rows = Vec::new();
    // Line numbers as u32: 4 MB less for a million rows (a file of more than four billion
    // lines would only misname a repeat's first line).
    let mut lines: Vec<u32> = Vec::new();
    let (mut problems, format) = for_each_register_row(source, catalog, |line, row| {
        rows.push(row);
        lines.push(u32::try_from(line).unwrap_or(u32::MAX));
        None
    })?;
    // Repeats are found by sorting, not with a map of every code: a million codes in a hash
    // map would be a hundred MB on top of the rows. The sort is stable, so the first of a run
    // of equal codes is the earliest row.
    let code = |i: u32| rows[i as usize].dossier_code.as_str();
    let mut order: Vec<u32> = (0..rows.len() as u32).collect();
    order.sort_by(|&a, &b| code(a).cmp(code(b)));
    let mut first_line: HashMap<usize, usize> = HashMap::new();
    for same in order.chunk_by(|&a, &b| code(a) == code(b)) {
        for &i in &same[1..] {
            first_line.insert(i as usize, lines[same[0] as usize] as usize);
        }
    }
    drop(order);
    for (&i, &first) in &first_line {
        problems.push(Problem {
            line: lines[i] as usize,
            reason: repeated(&rows[i].dossier_code, Some(first)),
        });
    }
    let mut i = 0;
    rows.retain(|_| {
        i += 1;
        !first_line.contains_key(&(i - 1))
    });
    problems.sort_by_key(|p| p.line);
    Ok(Register {
        rows,
        problems,
        format,
    })
}

/// The reason given for a dossier the register lists twice.
pub(crate) fn repeated(dossier_code: &str, first_line: Option<usize>) -> String {
    match first_line {
        Some(first) => format!("dossier {dossier_code} is listed again (first at line {first}): this row is not counted"),
        None => format!("dossier {dossier_code} is listed again: only its first row is counted"),
    }
}

/// The SHA-256 of a register file, as the report names the register it counted against.
pub fn file_sha256(path: &Path) -> Result<String, RegisterError> {
    crate::store::sha256_file(path)
        .map(|(sha256, _)| sha256)
        .map_err(|e| RegisterError::Read {
            path: path.to_owned(),
            message: e.to_string(),
        })
}

/// Reads the procedure catalog (CSV or .xlsx).
pub fn read_catalog(path: &Path) -> Result<(Vec<CatalogRow>, Vec<Problem>), RegisterError> {
    read_catalog_from(Source::File(path)).map(|(rows, problems, _)| (rows, problems))
}

/// Reads the procedure catalog from a file or bytes; also says what it was read as.
pub fn read_catalog_from(
    source: Source<'_>,
) -> Result<(Vec<CatalogRow>, Vec<Problem>, Format), RegisterError> {
    let input = Input::from(source);
    let mut sink = CatalogSink::new(input.path());
    let format = for_each_record(input, &mut sink)?;
    let (rows, problems) = sink.finish(&format)?;
    Ok((rows, problems, format))
}

/// One cell as a source gives it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// Text, trimmed of nothing, in NFC.
    Text(String),
    /// A number (xlsx only).
    Number(f64),
    /// A date-formatted number (xlsx only): the serial in the workbook's date system.
    DateSerial(f64),
    /// Not a value: the reason (a formula error, text too long, bytes that are not UTF-8).
    Unreadable(String),
}

/// A row's cells, `(column, cell)` in column order; empty cells are absent.
pub(crate) type Cells = [(usize, Cell)];

/// Where a source's records go: the header first, then the rows.
pub(crate) trait RecordSink {
    /// Whether column `col`'s cells are needed (before the header: all of them).
    fn wants(&self, col: usize) -> bool;
    /// The longest text worth keeping in a cell, in bytes (longer: [`Cell::Unreadable`]).
    fn text_limit(&self) -> usize;
    /// One row, with its line number (the physical line, or the sheet's row number); an
    /// unreadable row has the reason instead.
    fn record(
        &mut self,
        format: &Format,
        line: usize,
        cells: Result<&Cells, String>,
    ) -> Result<(), RegisterError>;
}

/// Reads every row of a CSV or xlsx source into `sink`, header included; returns what the
/// source was read as.
fn for_each_record(input: Input<'_>, sink: &mut dyn RecordSink) -> Result<Format, RegisterError> {
    let path = input.path().to_owned();
    let read_err = |message: String| RegisterError::Read {
        path: path.clone(),
        message,
    };
    match input {
        Input::Csv(bytes) => text::for_each_csv_record(text::CsvInput::Bytes(bytes), &path, sink),
        Input::Bytes(bytes, _) => match sniff(bytes) {
            Kind::Zip => xlsx::for_each_xlsx_record(std::io::Cursor::new(bytes), &path, sink),
            Kind::Other(what) => Err(read_err(what)),
            Kind::Text => text::for_each_csv_record(text::CsvInput::Bytes(bytes), &path, sink),
        },
        Input::File(p) => {
            let mut file = std::fs::File::open(p).map_err(|e| read_err(e.to_string()))?;
            let mut head = [0u8; 8];
            let n = read_up_to(&mut file, &mut head).map_err(|e| read_err(e.to_string()))?;
            match sniff(&head[..n]) {
                Kind::Zip => {
                    use std::io::Seek;
                    file.rewind().map_err(|e| read_err(e.to_string()))?;
                    xlsx::for_each_xlsx_record(std::io::BufReader::new(file), &path, sink)
                }
                Kind::Other(what) => Err(read_err(what)),
                Kind::Text => text::for_each_csv_record(text::CsvInput::File(p), &path, sink),
            }
        }
    }
}

/// What a register file is, from its first bytes.
enum Kind {
    /// A zip archive: an xlsx workbook (or not: the xlsx reader says so).
    Zip,
    /// CSV text in some encoding.
    Text,
    /// Something no register comes in, named.
    Other(String),
}

fn sniff(head: &[u8]) -> Kind {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Kind::Zip
    } else if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        Kind::Other(
            "this is an Excel 97-2003 workbook (.xls) or another OLE document: save it as .xlsx or CSV"
                .into(),
        )
    } else if head.starts_with(b"%PDF") {
        Kind::Other(
            "this is a PDF document, not a register: export the register as CSV or .xlsx".into(),
        )
    } else {
        Kind::Text
    }
}

fn read_up_to(r: &mut impl std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// `s` in Unicode NFC (most text already is: then no copy is normalised).
pub(crate) fn nfc(s: &str) -> String {
    use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};
    if s.is_ascii() || is_nfc_quick(s.chars()) == IsNormalized::Yes {
        s.to_owned()
    } else {
        s.nfc().collect()
    }
}

/// At most `max` characters of `s`, for messages.
fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// SHA-256 over register rows in their canonical form (each field as the index stores it),
/// ordered by dossier code: what an import recorded, what the index holds now, and what the
/// stored file gives when read again are compared through it.
pub fn rows_digest(rows: &[RegisterRow]) -> String {
    let mut sorted: Vec<&RegisterRow> = rows.iter().collect();
    sorted.sort_by(|a, b| a.dossier_code.as_bytes().cmp(b.dossier_code.as_bytes()));
    let mut digest = crate::evidence::RowsDigest::default();
    for r in sorted {
        let received = r.received_on.iso();
        let due = r.due_on.map(|d| d.iso()).unwrap_or_default();
        let completed = r.completed_on.map(|d| d.iso()).unwrap_or_default();
        let channel = r.channel.map(|c| c.as_str()).unwrap_or_default();
        let fields: [&str; 7] = [
            &r.dossier_code,
            &r.procedure_code,
            &r.unit,
            &received,
            &due,
            &completed,
            channel,
        ];
        // The optional columns only when a row has them: registers without them (every
        // import before they existed) keep the digest their records hold.
        if r.reused.is_none() && r.pages.is_none() {
            digest.line(&fields);
        } else {
            let number = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
            let (reused, pages) = (number(r.reused), number(r.pages));
            let mut all: Vec<&str> = fields.to_vec();
            all.extend([reused.as_str(), pages.as_str()]);
            digest.line(&all);
        }
    }
    digest.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn write(dir: &tempfile::TempDir, name: &str, text: &[u8]) -> PathBuf {
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
    fn a_dossier_listed_three_times_names_its_first_line_each_time() {
        let mut text = REGISTER_COLUMNS.to_owned() + "\n";
        for (code, unit) in [("B", "x"), ("A", "y"), ("B", "z"), ("A", "w"), ("B", "v")] {
            text.push_str(&format!("000.{code},1.001193,{unit},2024-01-15,,,1\n"));
        }
        let (rows, problems) = register_rows_from_bytes(text.as_bytes(), "r.csv").unwrap();
        let units: Vec<&str> = rows.iter().map(|r| r.unit.as_str()).collect();
        assert_eq!(
            units,
            ["x", "y"],
            "the first row of each code, in file order"
        );
        let got: Vec<(usize, bool)> = problems
            .iter()
            .map(|p| {
                let first = if p.reason.contains("000.B") { 2 } else { 3 };
                (p.line, p.reason.contains(&format!("first at line {first}")))
            })
            .collect();
        assert_eq!(got, [(4, true), (5, true), (6, true)]);
    }

    #[test]
    fn a_register_without_required_columns_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "r.csv", b"code,procedure_code,received_on\nx,y,z\n");
        let err = read_register(&path, |_, _| None).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("dossier_code"), "{msg}");
        assert!(
            msg.contains("UTF-8") && msg.contains("comma") && msg.contains("\"code\""),
            "the encoding, separator and header found are named: {msg}"
        );
        let empty = write(&dir, "empty.csv", b"");
        let err = read_register(&empty, |_, _| None).unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
    }

    #[test]
    fn other_documents_are_named() {
        for (bytes, what) in [
            (
                &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0][..],
                ".xls",
            ),
            (b"%PDF-1.7\n", "PDF"),
        ] {
            let err = register_rows_from_bytes(bytes, "register.xlsx")
                .unwrap_err()
                .to_string();
            assert!(err.contains(what), "{err}");
        }
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

    #[test]
    fn units_and_names_are_nfc() {
        let nfd_unit: String = {
            use unicode_normalization::UnicodeNormalization;
            "Phường 3".nfd().collect()
        };
        assert_ne!(nfd_unit, "Phường 3");
        let text = format!(
            "{REGISTER_COLUMNS}\n000.00.01.H50-240115-0001,1.001193,{nfd_unit},2024-01-15,,,1\n"
        );
        let (rows, _) = register_rows_from_bytes(text.as_bytes(), "r.csv").unwrap();
        assert_eq!(rows[0].unit, "Phường 3");
        let catalog = format!("procedure_code,name,field\n1.001193,{nfd_unit},x\n");
        let (rows, _, _) = read_catalog_from(Source::Bytes {
            bytes: catalog.as_bytes(),
            name: "p.csv",
        })
        .unwrap();
        assert_eq!(rows[0].name, "Phường 3");
    }
}
