//! The xlsx register reader: any bytes give rows and problems or an error, never a panic, an
//! abort or a huge allocation.
//!
//! Input starting with `PK` is taken as a whole xlsx file. Anything else is wrapped in a
//! workbook, so that mutations reach the sheet's XML instead of dying in the zip's checksums:
//! its first byte picks the date system (odd: 1904), the rest up to a NUL byte is the
//! worksheet part, and what follows the NUL is the shared-strings part.
#![no_main]
use std::io::Write;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let wrapped;
    let bytes = if data.starts_with(b"PK") {
        data
    } else {
        wrapped = workbook(data);
        &wrapped
    };
    if let Ok((rows, _problems)) = dossier::register::register_rows_from_bytes(bytes, "fuzz.xlsx") {
        for row in rows {
            // Every row that comes out holds safe codes and a received date.
            assert!(dossier::intake::layout::validate_code(&row.dossier_code).is_ok());
            assert!(dossier::intake::layout::validate_code(&row.procedure_code).is_ok());
        }
    }
});

/// A workbook of one sheet whose parts come from `data` (stored, not compressed).
fn workbook(data: &[u8]) -> Vec<u8> {
    let (flags, rest) = data.split_first().map_or((0, data), |(f, r)| (*f, r));
    let (sheet, strings) = match rest.iter().position(|&b| b == 0) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    const PKG: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
    let date_1904 = if flags & 1 == 1 {
        r#" date1904="1""#
    } else {
        ""
    };
    let mut parts: Vec<(&str, Vec<u8>)> = vec![
        ("_rels/.rels", format!(r#"<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#).into_bytes()),
        ("xl/workbook.xml", format!(r#"<workbook xmlns="{MAIN}" xmlns:r="{REL}"><workbookPr{date_1904}/><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#).into_bytes()),
        ("xl/_rels/workbook.xml.rels", format!(r#"<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#).into_bytes()),
        ("xl/styles.xml", format!(r#"<styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="164"/></cellXfs></styleSheet>"#).into_bytes()),
        ("xl/worksheets/sheet1.xml", sheet.to_vec()),
    ];
    if let Some(strings) = strings {
        parts.push(("xl/sharedStrings.xml", strings.to_vec()));
    }
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in parts {
        zip.start_file(name, options).expect("in memory");
        zip.write_all(&bytes).expect("in memory");
    }
    zip.finish().expect("in memory").into_inner()
}
