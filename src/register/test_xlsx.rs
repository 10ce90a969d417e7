//! Small xlsx workbooks written part by part, for tests: what rust_xlsxwriter will not write
//! (the 1904 date system, a lying dimension or shared-strings count, hostile cells).

use std::io::Write;

/// A workbook of one sheet.
pub(super) struct Book {
    pub date_1904: bool,
    /// The sheet's `<dimension ref=...>`, if any.
    pub dimension: Option<String>,
    /// The whole `xl/sharedStrings.xml`, if any.
    pub shared_strings: Option<String>,
    /// What goes inside `<sheetData>`.
    pub sheet_data: String,
}

impl Book {
    pub fn new(sheet_data: String) -> Book {
        Book {
            date_1904: false,
            dimension: None,
            shared_strings: None,
            sheet_data,
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
        const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
        const PKG: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
        let mut parts = vec![
            (
                "[Content_Types].xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_owned(),
            ),
            (
                "_rels/.rels",
                format!(r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#),
            ),
            (
                "xl/workbook.xml",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}"><workbookPr{}/><sheets><sheet name="Sổ tiếp nhận" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
                    if self.date_1904 { r#" date1904="1""# } else { "" }
                ),
            ),
            (
                "xl/_rels/workbook.xml.rels",
                format!(r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{REL}/styles" Target="styles.xml"/><Relationship Id="rId3" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#),
            ),
            (
                // Style 1 is a date (dd/mm/yyyy), style 2 the built-in m/d/yyyy.
                "xl/styles.xml",
                format!(r#"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>"#),
            ),
            (
                "xl/worksheets/sheet1.xml",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">{}<sheetData>{}</sheetData></worksheet>"#,
                    self.dimension
                        .as_ref()
                        .map(|d| format!(r#"<dimension ref="{d}"/>"#))
                        .unwrap_or_default(),
                    self.sheet_data
                ),
            ),
        ];
        if let Some(sst) = &self.shared_strings {
            parts.push(("xl/sharedStrings.xml", sst.clone()));
        }
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, text) in parts {
            zip.start_file(name, options).unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }
}

/// `<row>` of cells, each made by [`text`], [`number`] or [`date`].
pub(super) fn row(r: usize, cells: &[String]) -> String {
    format!(r#"<row r="{r}">{}</row>"#, cells.concat())
}

/// An inline string cell.
pub(super) fn text(at: &str, value: &str) -> String {
    let escaped = value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(r#"<c r="{at}" t="inlineStr"><is><t>{escaped}</t></is></c>"#)
}

/// A number cell without a format.
pub(super) fn number(at: &str, value: &str) -> String {
    format!(r#"<c r="{at}"><v>{value}</v></c>"#)
}

/// A date cell: a serial with a date format.
pub(super) fn date(at: &str, serial: f64) -> String {
    format!(r#"<c r="{at}" s="1"><v>{serial}</v></c>"#)
}

/// A shared-string cell (index into `xl/sharedStrings.xml`).
pub(super) fn shared(at: &str, index: usize) -> String {
    format!(r#"<c r="{at}" t="s"><v>{index}</v></c>"#)
}

/// The register's header as row 1.
pub(super) fn header_row() -> String {
    let cells: Vec<String> = super::REGISTER_COLUMNS
        .split(',')
        .enumerate()
        .map(|(i, name)| text(&format!("{}1", super::rows::column_name(i)), name))
        .collect();
    row(1, &cells)
}
