//! xlsx registers: the first sheet read cell by cell (calamine's cell reader, never the eager
//! `Range`, which allocates the whole rectangle between the first and the last cell: a sheet
//! with cells A1 and XFD1048576 would ask for 17 billion cells). Dates are serials in the
//! workbook's date system (1900 or 1904).
//!
//! A hostile workbook is an error, never an abort or a multi-GB allocation:
//! - the shared-strings table is checked before calamine reads it: calamine reserves room for
//!   the count the table claims, so a 2 KB file claiming a billion strings would ask for 24 GB;
//! - a cell's text is copied only when it is short enough to be a register value;
//! - cell references beyond Excel's limits and rows out of order are refused;
//! - a panic inside the xlsx reader (an overflow on a malformed reference, say) is caught and
//!   reported as a damaged file.

use std::io::{Read, Seek};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use calamine::{DataRef, Reader, Xlsx, XlsxError};

use super::{nfc, Cell, Format, RecordSink, RegisterError};

/// Excel's sheet limits.
const MAX_ROWS: u32 = 1_048_576;
const MAX_COLUMNS: u32 = 16_384;
/// More shared strings than a register of a million rows could need many times over.
const MAX_SHARED_STRINGS: u64 = 1 << 24;
/// The largest shared-strings part read (uncompressed).
const MAX_SHARED_STRINGS_BYTES: u64 = 1 << 30;
/// A claimed shared-string count always accepted (reserving it costs 24 MB at most).
const CLAIM_ALWAYS_ACCEPTED: u64 = 1 << 20;

pub(super) fn for_each_xlsx_record<R: Read + Seek>(
    mut reader: R,
    path: &Path,
    sink: &mut dyn RecordSink,
) -> Result<Format, RegisterError> {
    let err = |message: String| RegisterError::Read {
        path: path.to_owned(),
        message,
    };
    check_shared_strings(&mut reader).map_err(err)?;
    let damaged = |e: XlsxError| format!("the xlsx workbook cannot be read: {e}");
    let mut workbook: Xlsx<R> = guarded(|| Xlsx::new(reader).map_err(damaged)).map_err(err)?;
    let sheet = workbook
        .sheet_names()
        .into_iter()
        .next()
        .ok_or_else(|| err("the xlsx workbook has no sheet".into()))?;
    let format = Format::Xlsx {
        sheet: sheet.clone(),
        date_system: if workbook.has_1904_epoch() {
            1904
        } else {
            1900
        },
    };
    let in_sheet = |message: String| err(format!("{message} (read as {format})"));
    let mut cells_reader = guarded(|| {
        workbook
            .worksheet_cells_reader(&sheet)
            .map_err(|e| match e {
                XlsxError::NotAWorksheet(kind) => {
                    format!("the first sheet is not a worksheet ({kind}): put the register first")
                }
                e => damaged(e),
            })
    })
    .map_err(in_sheet)?;
    let mut row: Option<u32> = None;
    let mut cells: Vec<(usize, Cell)> = Vec::new();
    let flush = |cells: &mut Vec<(usize, Cell)>, row: u32, sink: &mut dyn RecordSink| {
        if cells.is_empty() {
            return Ok(());
        }
        if !cells.is_sorted_by_key(|(c, _)| *c) {
            cells.sort_by_key(|(c, _)| *c);
        }
        // A column given twice: its first cell counts.
        cells.dedup_by_key(|(c, _)| *c);
        let result = sink.record(&format, row as usize + 1, Ok(cells));
        cells.clear();
        result
    };
    loop {
        let next = guarded(|| cells_reader.next_cell().map_err(damaged)).map_err(in_sheet)?;
        let Some(cell) = next else { break };
        let (r, c) = cell.get_position();
        if r >= MAX_ROWS || c >= MAX_COLUMNS {
            return Err(in_sheet(format!(
                "a cell lies beyond the sheet's limits (row {}, column {}): the file is damaged",
                u64::from(r) + 1,
                u64::from(c) + 1
            )));
        }
        match row {
            Some(current) if r == current => {}
            Some(current) if r < current => {
                return Err(in_sheet(format!(
                    "the sheet's rows are out of order (row {} after row {}): the file is damaged",
                    r + 1,
                    current + 1
                )))
            }
            _ => {
                if let Some(current) = row {
                    flush(&mut cells, current, sink)?;
                }
                row = Some(r);
            }
        }
        let col = c as usize;
        if !sink.wants(col) {
            continue;
        }
        if let Some(value) = convert(cell.get_value(), sink.text_limit()) {
            cells.push((col, value));
        }
    }
    if let Some(current) = row {
        flush(&mut cells, current, sink)?;
    }
    Ok(format)
}

/// A cell's value, `None` when empty; text longer than `limit` bytes is not copied.
fn convert(value: &DataRef<'_>, limit: usize) -> Option<Cell> {
    let text = |s: &str| {
        if s.len() > limit {
            Cell::Unreadable(format!("is longer than {limit} bytes"))
        } else {
            Cell::Text(nfc(s))
        }
    };
    Some(match value {
        DataRef::Empty => return None,
        DataRef::String(s) => text(s),
        DataRef::SharedString(s) => text(s),
        DataRef::Int(i) => Cell::Number(*i as f64),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::DateTime(d) if d.is_datetime() => Cell::DateSerial(d.as_f64()),
        DataRef::DateTime(d) => Cell::Number(d.as_f64()),
        // `t="d"` cells: ISO 8601 text; the date is what counts.
        DataRef::DateTimeIso(s) => text(s.split('T').next().unwrap_or_default()),
        DataRef::DurationIso(s) => text(s),
        DataRef::Bool(b) => Cell::Text(if *b { "TRUE" } else { "FALSE" }.into()),
        DataRef::Error(e) => Cell::Unreadable(format!("holds the formula error {e}")),
    })
}

/// Runs a call into the xlsx reader; a panic in it (a malformed file it did not foresee)
/// becomes an error instead of ending the process.
fn guarded<T>(call: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(call)).unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(format!(
            "the xlsx workbook is damaged: the xlsx reader failed on it ({why})"
        ))
    })
}

/// Refuses a workbook whose shared-strings table claims more strings than it holds, holds
/// too many, or unpacks too large; rewinds the reader.
fn check_shared_strings<R: Read + Seek>(reader: &mut R) -> Result<(), String> {
    let zip_err = |e: zip::result::ZipError| format!("not a readable xlsx workbook (zip): {e}");
    {
        let mut zip = zip::ZipArchive::new(&mut *reader).map_err(zip_err)?;
        let parts: Vec<String> = zip
            .file_names()
            .filter_map(Result::ok)
            .filter(|n| n.to_ascii_lowercase().ends_with("sharedstrings.xml"))
            .map(|n| n.into_owned())
            .collect();
        for name in parts {
            let mut part = zip.by_name(&name).map_err(zip_err)?;
            let mut scan = SharedStringsScan::default();
            let mut chunk = vec![0; 1 << 16];
            loop {
                let n = match part.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(format!("the xlsx workbook is damaged ({name}): {e}")),
                };
                scan.feed(&chunk[..n]);
                if scan.bytes > MAX_SHARED_STRINGS_BYTES {
                    return Err(format!(
                        "{name} unpacks to more than {} MiB: too large for a register",
                        MAX_SHARED_STRINGS_BYTES >> 20
                    ));
                }
                if scan.strings > MAX_SHARED_STRINGS {
                    return Err(format!(
                        "{name} holds more than {MAX_SHARED_STRINGS} shared strings: too many for a register"
                    ));
                }
            }
            if let Some(claimed) = scan.claimed {
                if claimed > scan.strings.max(CLAIM_ALWAYS_ACCEPTED) {
                    return Err(format!(
                        "{name} claims {claimed} shared strings but holds at most {}: the file is damaged",
                        scan.strings
                    ));
                }
            }
        }
    }
    reader
        .rewind()
        .map_err(|e| format!("cannot read the workbook again: {e}"))
}

/// What a pass over `sharedStrings.xml` learns: the count its `sst` element claims
/// (`uniqueCount`, what calamine reserves room for) and an upper bound of the strings it holds
/// (`si` start tags, with any namespace prefix).
#[derive(Default)]
struct SharedStringsScan {
    /// The start of the part, until the `sst` start tag is read.
    head: Vec<u8>,
    head_done: bool,
    claimed: Option<u64>,
    strings: u64,
    bytes: u64,
    /// The last bytes of the previous chunk (a tag cut between chunks).
    tail: Vec<u8>,
}

impl SharedStringsScan {
    fn feed(&mut self, chunk: &[u8]) {
        self.bytes += chunk.len() as u64;
        if !self.head_done {
            self.head
                .extend_from_slice(&chunk[..chunk.len().min(1 << 16)]);
            if let Some(claimed) = sst_unique_count(&self.head) {
                self.claimed = claimed;
                self.head_done = true;
                self.head = Vec::new();
            } else if self.head.len() >= 1 << 16 {
                self.head_done = true;
                self.head = Vec::new();
            }
        }
        let joined = [self.tail.as_slice(), chunk].concat();
        // `<si` or `:si` followed by a space, `>` or `/`; the last two bytes wait for the next
        // chunk when they could start one.
        let end = joined.len().saturating_sub(3);
        for i in 0..end {
            if matches!(joined[i], b'<' | b':')
                && joined[i + 1] == b's'
                && joined[i + 2] == b'i'
                && matches!(joined[i + 3], b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/')
            {
                self.strings += 1;
            }
        }
        self.tail = joined[end..].to_vec();
    }
}

/// The `uniqueCount` of the first `sst` start tag in `head`: `Some(None)` when the tag is
/// complete without a usable count, `None` when the tag is not complete yet.
fn sst_unique_count(head: &[u8]) -> Option<Option<u64>> {
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let mut from = 0;
    let start = loop {
        let at = from + find(&head[from..], b"sst")?;
        let before = at.checked_sub(1).map(|i| head[i]);
        let after = head.get(at + 3).copied();
        if matches!(before, Some(b'<' | b':'))
            && matches!(after, Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/'))
        {
            break at + 3;
        }
        from = at + 3;
    };
    let end = start + find(&head[start..], b">")?;
    let tag = &head[start..end];
    let Some(at) = find(tag, b"uniqueCount") else {
        return Some(None);
    };
    let rest = &tag[at + b"uniqueCount".len()..];
    let rest = rest.trim_ascii_start().strip_prefix(b"=").unwrap_or(rest);
    let rest = rest.trim_ascii_start();
    let value = rest
        .strip_prefix(b"\"")
        .or_else(|| rest.strip_prefix(b"'"))
        .unwrap_or(rest);
    let digits: Vec<u8> = value
        .iter()
        .copied()
        .take_while(u8::is_ascii_digit)
        .collect();
    let count = std::str::from_utf8(&digits).ok()?.parse::<u64>().ok();
    // Too many digits for a u64 is still a claim: the largest.
    Some(count.or((!digits.is_empty()).then_some(u64::MAX)))
}

#[cfg(test)]
mod tests {
    use super::super::test_xlsx::{date, header_row, number, row, shared, text, Book};
    use super::super::*;

    fn read(bytes: &[u8]) -> Result<Register, RegisterError> {
        read_register_from(
            Source::Bytes {
                bytes,
                name: "register.xlsx",
            },
            None,
        )
    }

    fn data_row(r: usize, code: &str, procedure: String, received: String) -> String {
        row(
            r,
            &[
                text(&format!("A{r}"), code),
                procedure,
                text(&format!("C{r}"), "Phường 1"),
                received,
                text(&format!("G{r}"), "1"),
            ],
        )
    }

    #[test]
    fn reads_the_first_sheet_of_an_xlsx_register() {
        use rust_xlsxwriter::{ExcelDateTime, Format as CellFormat, Workbook};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("register.xlsx");
        let mut wb = Workbook::new();
        let sheet = wb.add_worksheet();
        for (c, h) in REGISTER_COLUMNS.split(',').enumerate() {
            sheet.write_string(0, c as u16, h).unwrap();
        }
        let date = CellFormat::new().set_num_format("dd/mm/yyyy");
        // Row 2: real date cells and a numeric channel, as Excel exports them.
        sheet
            .write_string(1, 0, "000.00.01.H50-240115-0001")
            .unwrap();
        sheet.write_string(1, 1, "1.001193").unwrap();
        sheet.write_string(1, 2, "Phường 1").unwrap();
        let d = ExcelDateTime::from_ymd(2024, 1, 15).unwrap();
        sheet.write_datetime_with_format(1, 3, d, &date).unwrap();
        let d = ExcelDateTime::from_ymd(2024, 1, 20).unwrap();
        sheet.write_datetime_with_format(1, 5, d, &date).unwrap();
        sheet.write_number(1, 6, 2.0).unwrap();
        // Row 3: dates typed as text, Vietnamese style; row 4: unreadable.
        let rows = [
            [
                "000.00.01.H50-240116-0002",
                "2.000815",
                "Phường 2",
                "16/01/2024",
                "",
                "",
                "direct",
            ],
            [
                "000.00.01.H50-240117-0003",
                "2.000815",
                "Phường 2",
                "hôm qua",
                "",
                "",
                "1",
            ],
        ];
        for (r, values) in rows.iter().enumerate() {
            for (c, v) in values.iter().enumerate() {
                sheet.write_string(r as u32 + 2, c as u16, *v).unwrap();
            }
        }
        wb.save(&path).unwrap();

        let (rows, problems) = read_register_rows(&path).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].received_on, Date::parse("2024-01-15").unwrap());
        assert_eq!(rows[0].completed_on, Date::parse("2024-01-20"));
        assert_eq!(rows[0].channel, Some(Channel::Online));
        assert_eq!(rows[1].received_on, Date::parse("2024-01-16").unwrap());
        assert_eq!(rows[1].unit, "Phường 2");
        assert_eq!(problems, vec![Problem { line: 4, reason: "dossier 000.00.01.H50-240117-0003: cell D4: received_on is not a date (expected YYYY-MM-DD or dd/mm/yyyy)".into() }]);
        // The same bytes, given as bytes under any name: content decides.
        let bytes = std::fs::read(&path).unwrap();
        let (again, _) = register_rows_from_bytes(&bytes, "export.csv").unwrap();
        assert_eq!(again, rows);
        let r = read_register_from(Source::File(&path), None).unwrap();
        assert_eq!(
            r.format.to_string(),
            "xlsx, first sheet \"Sheet1\", 1900 date system"
        );
    }

    #[test]
    fn dates_as_serials_in_the_1900_and_1904_systems() {
        // 2024-01-15 is 45306 in the 1900 system and 43844 in the 1904 system.
        for (date_1904, serial) in [(false, 45306.0), (true, 43844.0)] {
            let mut book = Book::new(
                header_row()
                    // A date-formatted cell, with a time of day.
                    + &data_row(2, "000.1", text("B2", "1.001193"), date("D2", serial + 0.5))
                    // A plain number in a date column: a serial all the same.
                    + &data_row(3, "000.2", text("B3", "1.001193"), number("D3", &serial.to_string()))
                    // Built-in format 14 (m/d/yyyy).
                    + &data_row(4, "000.3", text("B4", "1.001193"), format!(r#"<c r="D4" s="2"><v>{serial}</v></c>"#))
                    // Text, ISO (`t="d"`) and out-of-range serials.
                    + &data_row(5, "000.4", text("B5", "1.001193"), text("D5", "15/01/2024"))
                    + &data_row(6, "000.5", text("B6", "1.001193"), r#"<c r="D6" t="d"><v>2024-01-15T00:00:00</v></c>"#.into())
                    + &data_row(7, "000.6", text("B7", "1.001193"), number("D7", "-3"))
                    + &data_row(8, "000.7", text("B8", "1.001193"), r#"<c r="D8" t="e"><v>#N/A</v></c>"#.into()),
            );
            book.date_1904 = date_1904;
            let r = read(&book.bytes()).unwrap();
            let system = if date_1904 { 1904 } else { 1900 };
            assert_eq!(
                r.format,
                Format::Xlsx {
                    sheet: "Sổ tiếp nhận".into(),
                    date_system: system
                }
            );
            let dates: Vec<String> = r.rows.iter().map(|r| r.received_on.iso()).collect();
            assert_eq!(dates, ["2024-01-15"; 5], "{system}");
            let reasons: Vec<&str> = r.problems.iter().map(|p| p.reason.as_str()).collect();
            assert_eq!(
                reasons,
                [
                    "dossier 000.6: cell D7: received_on is a number that is not a date",
                    "dossier 000.7: cell D8: received_on holds the formula error #N/A",
                ]
            );
        }
    }

    #[test]
    fn codes_stored_as_numbers_are_read_back_only_when_certain() {
        let book = Book::new(
            header_row()
                + &data_row(
                    2,
                    "000.1",
                    number("B2", "2.00072"),
                    text("D2", "2024-01-15"),
                )
                + &data_row(
                    3,
                    "000.2",
                    number("B3", "2.0007201"),
                    text("D3", "2024-01-15"),
                )
                + &row(
                    4,
                    &[
                        number("A4", "240115001"),
                        text("B4", "1.001193"),
                        text("D4", "2024-01-15"),
                    ],
                ),
        );
        let bytes = book.bytes();
        let r = read(&bytes).unwrap();
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.rows[0].procedure_code, "2.000720");
        let problems: Vec<(usize, &str)> = r
            .problems
            .iter()
            .map(|p| (p.line, p.reason.as_str()))
            .collect();
        assert_eq!(
            problems,
            [
                (3, "dossier 000.2: cell B3: procedure code stored as the number 2.0007201; store it as text"),
                (4, "cell A4: dossier code stored as the number 240115001; store it as text"),
            ]
        );
        // With the caller's catalog, the catalog's spelling.
        let catalog = [CatalogRow {
            procedure_code: "2.00072".into(),
            name: "Thủ tục".into(),
            field: String::new(),
        }];
        let r = read_register_from(
            Source::Bytes {
                bytes: &bytes,
                name: "r.xlsx",
            },
            Some(&catalog),
        )
        .unwrap();
        assert_eq!(r.rows[0].procedure_code, "2.00072");
        // A catalog in xlsx with a code stored as a number.
        let catalog = Book::new(
            row(1, &[text("A1", "procedure_code"), text("B1", "name")])
                + &row(
                    2,
                    &[number("A2", "1.001193"), text("B2", "Đăng ký khai sinh")],
                )
                + &row(3, &[number("A3", "17"), text("B3", "x")]),
        );
        let (rows, problems, _) = read_catalog_from(Source::Bytes {
            bytes: &catalog.bytes(),
            name: "p.xlsx",
        })
        .unwrap();
        assert_eq!(rows[0].procedure_code, "1.001193");
        assert_eq!(
            problems[0].reason,
            "cell A3: procedure code stored as the number 17; store it as text"
        );
    }

    #[test]
    fn nfd_text_in_a_workbook_is_nfc() {
        use unicode_normalization::UnicodeNormalization;
        let nfd: String = "Phường 3".nfd().collect();
        let book = Book::new(
            header_row()
                + &row(
                    2,
                    &[
                        text("A2", "000.1"),
                        text("B2", "1.001193"),
                        text("C2", &nfd),
                        text("D2", "2024-01-15"),
                    ],
                ),
        );
        assert_eq!(read(&book.bytes()).unwrap().rows[0].unit, "Phường 3");
    }

    /// The hostile workbooks, each small, each read or refused with a clear error.
    fn hostile_cases() {
        let small = |book: &Book| {
            let bytes = book.bytes();
            assert!(bytes.len() < 4096, "a small file: {} bytes", bytes.len());
            bytes
        };
        let good = data_row(2, "000.1", text("B2", "1.001193"), text("D2", "2024-01-15"));

        // A dimension naming XFD1048576, and real cells in that row: read, cell by cell (the
        // eager range would be 17 billion cells).
        let far = row(
            1048576,
            &[text("A1048576", "000.9"), text("XFD1048576", "x")],
        );
        let mut book = Book::new(header_row() + &good + &far);
        book.dimension = Some("A1:XFD1048576".into());
        let r = read(&small(&book)).unwrap();
        assert_eq!(r.rows.len(), 1);
        assert_eq!(
            r.problems,
            [Problem {
                line: 1048576,
                reason: "dossier 000.9: procedure_code is empty".into()
            }]
        );

        // A huge shared string (1 MB unpacked), in every header cell and in a unit: never
        // copied 16,384 times; the unit is a problem.
        let huge = "x".repeat(1 << 20);
        let header_cells: Vec<String> = (0..16_384)
            .map(|c| shared(&format!("{}1", super::super::rows::column_name(c)), 1))
            .collect();
        let mut book = Book::new(
            row(1, &header_cells)
                + &row(
                    2,
                    &[text("A2", "000.1"), text("B2", "1.001193"), shared("C2", 1)],
                ),
        );
        book.shared_strings = Some(format!(
            r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="2"><si><t>unit</t></si><si><t>{huge}</t></si></sst>"#
        ));
        let bytes = book.bytes();
        assert!(bytes.len() < 64 << 10, "{} bytes", bytes.len());
        let err = read(&bytes).unwrap_err().to_string();
        assert!(err.contains("no \"dossier_code\" column"), "{err}");
        let mut book = Book::new(
            header_row()
                + &row(
                    2,
                    &[
                        text("A2", "000.1"),
                        text("B2", "1.001193"),
                        shared("C2", 1),
                        text("D2", "2024-01-15"),
                    ],
                ),
        );
        book.shared_strings = Some(format!(
            r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="2"><si><t>unit</t></si><si><t>{huge}</t></si></sst>"#
        ));
        let r = read(&small(&book)).unwrap();
        assert_eq!(
            r.problems[0].reason,
            "dossier 000.1: cell C2: unit is longer than 4096 bytes"
        );

        // A shared-strings table claiming four billion strings (calamine would reserve 96 GB).
        let mut book = Book::new(header_row() + &good);
        book.shared_strings = Some(
            r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" uniqueCount="4000000000"><si><t>a</t></si></sst>"#.into(),
        );
        let err = read(&small(&book)).unwrap_err().to_string();
        assert!(
            err.contains("claims 4000000000 shared strings but holds at most 1"),
            "{err}"
        );

        // Cells beyond Excel's limits, rows out of order, a malformed reference.
        for (cells, expected) in [
            (row(1, &[text("XFE1", "x")]), "beyond the sheet's limits"),
            (
                row(1, &[text("A1048577", "x")]),
                "beyond the sheet's limits",
            ),
            (
                header_row() + &good + &row(1, &[text("A1", "x")]),
                "out of order",
            ),
            (row(1, &[text("A99999999999", "x")]), ""),
            (row(1, &[text("1A", "x")]), "cannot be read"),
        ] {
            match read(&small(&Book::new(cells))) {
                Err(e) => assert!(e.to_string().contains(expected), "{e}"),
                Ok(r) => assert!(expected.is_empty(), "read: {:?}", r.problems),
            }
        }

        // Not a workbook: a zip of something else, a truncated workbook.
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        zip.start_file("a.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        let other = zip.finish().unwrap().into_inner();
        let err = read(&other).unwrap_err().to_string();
        assert!(err.contains("xlsx workbook cannot be read"), "{err}");
        let whole = Book::new(header_row() + &good).bytes();
        for cut in [30, whole.len() / 2, whole.len() - 10] {
            let err = read(&whole[..cut]).unwrap_err().to_string();
            assert!(err.contains("xlsx"), "{err}");
        }
    }

    /// Runs the hostile cases in a child process whose data segment is capped at 512 MiB: a
    /// multi-GB allocation would fail there (and abort the child) instead of passing unseen
    /// on a machine with memory to spare.
    #[test]
    fn hostile_workbooks_are_read_or_refused_within_512_mib() {
        const CHILD: &str = "DOSSIER_TEST_HOSTILE_XLSX_CHILD";
        if std::env::var_os(CHILD).is_some() {
            return hostile_cases();
        }
        use std::os::unix::process::CommandExt;
        let mut child = std::process::Command::new(std::env::current_exe().unwrap());
        child
            .args([
                "--exact",
                "register::xlsx::tests::hostile_workbooks_are_read_or_refused_within_512_mib",
                "--test-threads=1",
                "--nocapture",
            ])
            .env(CHILD, "1");
        // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            child.pre_exec(|| {
                let limit = libc::rlimit {
                    rlim_cur: 512 << 20,
                    rlim_max: 512 << 20,
                };
                if libc::setrlimit(libc::RLIMIT_DATA, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let out = child.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
