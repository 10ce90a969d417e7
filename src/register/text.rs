//! CSV registers in the encodings and separators offices export: the encoding is told by a
//! byte-order mark, by NUL bytes (UTF-16 without one), or by whether the bytes are UTF-8
//! (Windows-1258 when they are not); the separator (comma, semicolon, tab) by the header line,
//! or by Excel's `sep=` first line. Every row reaches the sink as UTF-8 cells in NFC with the
//! physical line it starts on.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::{nfc, shorten, Cell, Encoding, Format, RecordSink, RegisterError};

/// CSV text, whole in memory or in a file (read twice: once to tell the encoding, once to parse).
#[derive(Clone, Copy)]
pub(super) enum CsvInput<'a> {
    Bytes(&'a [u8]),
    File(&'a Path),
}

/// How much of the start tells a byte-order mark or UTF-16's NUL bytes.
const PREFIX: usize = 4096;
/// The longest header line looked at for the separator.
const HEADER_LINE_MAX: u64 = 1 << 20;

pub(super) fn for_each_csv_record(
    input: CsvInput<'_>,
    path: &Path,
    sink: &mut dyn RecordSink,
) -> Result<Format, RegisterError> {
    let read_err = |message: String| RegisterError::Read {
        path: path.to_owned(),
        message,
    };
    let io_err = |e: std::io::Error| read_err(e.to_string());
    let encoding = match input {
        CsvInput::Bytes(bytes) => {
            let mut stats = Utf8Stats::default();
            if needs_stats(bytes) {
                stats.feed(bytes);
            }
            detect(bytes, stats.finish())
        }
        CsvInput::File(p) => {
            let mut file = std::fs::File::open(p).map_err(io_err)?;
            let mut prefix = vec![0; PREFIX];
            let n = super::read_up_to(&mut file, &mut prefix).map_err(io_err)?;
            prefix.truncate(n);
            let mut stats = Utf8Stats::default();
            if needs_stats(&prefix) {
                stats.feed(&prefix);
                let mut chunk = vec![0; 1 << 16];
                loop {
                    match file.read(&mut chunk) {
                        Ok(0) => break,
                        Ok(n) => stats.feed(&chunk[..n]),
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(io_err(e)),
                    }
                }
            }
            detect(&prefix, stats.finish())
        }
    }
    .map_err(read_err)?;
    let source: Box<dyn Read + '_> = match input {
        CsvInput::Bytes(bytes) => Box::new(bytes),
        CsvInput::File(p) => Box::new(std::fs::File::open(p).map_err(io_err)?),
    };
    let mut text = BufReader::new(TextReader::new(source, encoding));
    // The header line, to tell the separator (or Excel's `sep=;` hint line).
    let mut first = Vec::new();
    (&mut text)
        .take(HEADER_LINE_MAX)
        .read_until(b'\n', &mut first)
        .map_err(io_err)?;
    let (separator, skipped_lines) = match sep_hint(&first) {
        Some(sep) => {
            first.clear();
            (sep, 1)
        }
        None => (detect_separator(&first), 0),
    };
    let format = Format::Csv {
        encoding,
        separator: separator as char,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(separator)
        .from_reader(std::io::Cursor::new(first).chain(text));
    let mut record = csv::ByteRecord::new();
    let mut cells: Vec<(usize, Cell)> = Vec::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => return Ok(format),
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line() as usize) + skipped_lines;
                cells.clear();
                let limit = sink.text_limit();
                for (col, field) in record.iter().enumerate() {
                    if field.is_empty() || !sink.wants(col) {
                        continue;
                    }
                    let cell = match std::str::from_utf8(field) {
                        Err(_) => Cell::Unreadable("is not UTF-8 text".into()),
                        Ok(s) if s.len() > limit => {
                            Cell::Unreadable(format!("is longer than {limit} bytes"))
                        }
                        Ok(s) => Cell::Text(nfc(s)),
                    };
                    cells.push((col, cell));
                }
                sink.record(&format, line, Ok(&cells))?;
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize) + skipped_lines;
                return Err(read_err(format!("line {line} (read as {format}): {e}")));
            }
        }
    }
}

/// Whether the UTF-8 check must look at the whole text (no byte-order mark or NUL bytes tell).
fn needs_stats(prefix: &[u8]) -> bool {
    bom(prefix).is_none() && nul_pattern(prefix).is_none()
}

fn bom(prefix: &[u8]) -> Option<Encoding> {
    if prefix.starts_with(&[0xEF, 0xBB, 0xBF]) {
        Some(Encoding::Utf8Bom)
    } else if prefix.starts_with(&[0xFF, 0xFE]) {
        Some(Encoding::Utf16LeBom)
    } else if prefix.starts_with(&[0xFE, 0xFF]) {
        Some(Encoding::Utf16BeBom)
    } else {
        None
    }
}

/// UTF-16 without a byte-order mark: most code units of CSV text are ASCII, so every other
/// byte is NUL (the high byte: second in little-endian, first in big-endian).
fn nul_pattern(prefix: &[u8]) -> Option<Encoding> {
    let pairs = prefix.len() / 2;
    if pairs < 2 {
        return None;
    }
    let zeros = |start: usize| {
        prefix
            .iter()
            .skip(start)
            .step_by(2)
            .take(pairs)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (zeros(0), zeros(1));
    let mostly = |n: usize| n * 4 >= pairs;
    let hardly = |n: usize| n * 20 <= pairs;
    if mostly(odd) && hardly(even) {
        Some(Encoding::Utf16Le)
    } else if mostly(even) && hardly(odd) {
        Some(Encoding::Utf16Be)
    } else {
        None
    }
}

/// The encoding of text starting with `prefix` whose UTF-8 check gave `stats`; an error
/// for what no register comes in.
fn detect(prefix: &[u8], stats: Utf8Stats) -> Result<Encoding, String> {
    if prefix.starts_with(&[0xFF, 0xFE, 0, 0]) || prefix.starts_with(&[0, 0, 0xFE, 0xFF]) {
        return Err("the file is UTF-32 text, which is not read: save it as UTF-8 CSV".into());
    }
    if let Some(e) = bom(prefix).or_else(|| nul_pattern(prefix)) {
        return Ok(e);
    }
    // Valid UTF-8 is UTF-8. Text with a few bad bytes among many UTF-8 letters is UTF-8 with
    // damaged rows (each reported); otherwise the bytes are taken for Windows-1258, where
    // Vietnamese letters hardly ever form UTF-8 sequences.
    if stats.invalid == 0 || stats.multibyte > stats.invalid {
        Ok(Encoding::Utf8)
    } else {
        Ok(Encoding::Windows1258)
    }
}

/// Counts of a UTF-8 check over text fed in chunks.
#[derive(Default)]
struct Utf8Stats {
    /// Byte sequences that are not UTF-8.
    invalid: u64,
    /// Well-formed non-ASCII characters.
    multibyte: u64,
    /// The end of the last chunk when it cut a character.
    carry: Vec<u8>,
}

impl Utf8Stats {
    fn feed(&mut self, chunk: &[u8]) {
        let joined;
        let mut rest = if self.carry.is_empty() {
            chunk
        } else {
            joined = [std::mem::take(&mut self.carry).as_slice(), chunk].concat();
            &joined[..]
        };
        loop {
            let (valid, next) = match std::str::from_utf8(rest) {
                Ok(_) => (rest, None),
                Err(e) => {
                    let (valid, bad) = rest.split_at(e.valid_up_to());
                    match e.error_len() {
                        Some(n) => {
                            self.invalid += 1;
                            (valid, Some(&bad[n..]))
                        }
                        None => {
                            self.carry = bad.to_vec();
                            (valid, None)
                        }
                    }
                }
            };
            self.multibyte += valid.iter().filter(|&&b| b >= 0xC0).count() as u64;
            match next {
                Some(next) => rest = next,
                None => return,
            }
        }
    }

    fn finish(mut self) -> Utf8Stats {
        if !self.carry.is_empty() {
            self.invalid += 1;
            self.carry.clear();
        }
        self
    }
}

/// Excel's `sep=;` first line: the separator it names.
fn sep_hint(line: &[u8]) -> Option<u8> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    match line {
        [b's' | b'S', b'e' | b'E', b'p' | b'P', b'=', sep] if b",;\t|".contains(sep) => Some(*sep),
        _ => None,
    }
}

/// The separator of a header line: the one that splits it into the columns the sink knows
/// best, then the most used one; comma when the line has none.
fn detect_separator(header: &[u8]) -> u8 {
    let mut best = (0usize, 0usize, b',');
    for sep in [b',', b';', b'\t'] {
        let cells = split_line(header, sep);
        let known = cells
            .iter()
            .filter(|c| super::rows::known_column(&super::rows::header_name(c)))
            .count();
        let score = (known, cells.len(), sep);
        if (score.0, score.1) > (best.0, best.1) {
            best = score;
        }
    }
    best.2
}

/// The cells of one line split at `sep` outside double quotes (for telling the separator).
fn split_line(line: &[u8], sep: u8) -> Vec<String> {
    let text = String::from_utf8_lossy(line);
    let mut cells = vec![String::new()];
    let mut quoted = false;
    for c in text.trim_end_matches(['\r', '\n']).chars() {
        match c {
            '"' => quoted = !quoted,
            c if c as u32 == sep as u32 && !quoted => cells.push(String::new()),
            c => cells.last_mut().expect("one cell").push(c),
        }
    }
    cells
}

/// Decodes text to UTF-8 as it is read (UTF-8 passes through, a BOM dropped), and ends every
/// physical line in LF: CRLF (Excel) and a lone CR (old Mac) alike. The csv reader counts
/// lines by LF, and a record ended by CRLF would start the next one's count a line short.
struct TextReader<R> {
    inner: R,
    decoder: Option<encoding_rs::Decoder>,
    /// UTF-8 BOM bytes still to drop.
    skip: usize,
    raw: Vec<u8>,
    decoded: String,
    out: Vec<u8>,
    pos: usize,
    held_cr: bool,
    done: bool,
}

impl<R: Read> TextReader<R> {
    fn new(inner: R, encoding: Encoding) -> TextReader<R> {
        let decoder = match encoding {
            Encoding::Utf8 | Encoding::Utf8Bom => None,
            Encoding::Utf16LeBom => Some(encoding_rs::UTF_16LE.new_decoder_with_bom_removal()),
            Encoding::Utf16BeBom => Some(encoding_rs::UTF_16BE.new_decoder_with_bom_removal()),
            Encoding::Utf16Le => Some(encoding_rs::UTF_16LE.new_decoder_without_bom_handling()),
            Encoding::Utf16Be => Some(encoding_rs::UTF_16BE.new_decoder_without_bom_handling()),
            Encoding::Windows1258 => {
                Some(encoding_rs::WINDOWS_1258.new_decoder_without_bom_handling())
            }
        };
        TextReader {
            inner,
            decoder,
            skip: if encoding == Encoding::Utf8Bom { 3 } else { 0 },
            raw: vec![0; 1 << 16],
            decoded: String::new(),
            out: Vec::new(),
            pos: 0,
            held_cr: false,
            done: false,
        }
    }

    fn refill(&mut self) -> std::io::Result<()> {
        let n = loop {
            match self.inner.read(&mut self.raw) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        let last = n == 0;
        let mut bytes = &self.raw[..n];
        let skip = self.skip.min(bytes.len());
        bytes = &bytes[skip..];
        self.skip -= skip;
        let text: &[u8] = match &mut self.decoder {
            Some(decoder) => {
                self.decoded.clear();
                let need = decoder
                    .max_utf8_buffer_length(bytes.len())
                    .unwrap_or(usize::MAX);
                self.decoded.reserve(need);
                let _ = decoder.decode_to_string(bytes, &mut self.decoded, last);
                self.decoded.as_bytes()
            }
            None => bytes,
        };
        self.out.clear();
        self.pos = 0;
        for &b in text {
            if self.held_cr {
                self.held_cr = false;
                self.out.push(b'\n');
                if b == b'\n' {
                    continue;
                }
            }
            if b == b'\r' {
                self.held_cr = true;
            } else {
                self.out.push(b);
            }
        }
        if last {
            if self.held_cr {
                self.held_cr = false;
                self.out.push(b'\n');
            }
            self.done = true;
        }
        Ok(())
    }
}

impl<R: Read> Read for TextReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.out.len() {
            if self.done {
                return Ok(0);
            }
            self.refill()?;
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The header cells found, for an error: a few, shortened, quoted.
pub(super) fn describe_header(cells: &[String]) -> String {
    if cells.is_empty() {
        return "no cells".into();
    }
    let mut shown: Vec<String> = cells
        .iter()
        .take(8)
        .map(|c| format!("{:?}", shorten(c, 40)))
        .collect();
    if cells.len() > 8 {
        shown.push(format!("… ({} cells)", cells.len()));
    }
    let lone = if cells.len() == 1 {
        " (one cell: no comma, semicolon or tab separates the columns)"
    } else {
        ""
    };
    format!("{}{lone}", shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::*;

    const HEADER: &str = "dossier_code,procedure_code,unit,received_on,due_on,completed_on,channel";

    /// The register rows and problems of `bytes`, and what they were read as.
    fn read(bytes: &[u8]) -> (Vec<RegisterRow>, Vec<Problem>, Format) {
        let r = read_register_from(
            Source::Bytes {
                bytes,
                name: "register.csv",
            },
            None,
        )
        .unwrap();
        (r.rows, r.problems, r.format)
    }

    fn sample(sep: &str, newline: &str) -> String {
        let rows = [
            HEADER.to_owned(),
            "000.00.01.H50-240115-0001,1.001193,Phường 1,2024-01-15,,,1".into(),
            "000.00.01.H50-240116-0002,2.000815,Phường Đông Lễ,16/01/2024,,20/01/2024,2".into(),
        ];
        rows.iter()
            .map(|r| r.replace(',', sep))
            .collect::<Vec<_>>()
            .join(newline)
            + newline
    }

    fn utf16(text: &str, le: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let units = bom.then_some(0xFEFF).into_iter().chain(text.encode_utf16());
        for u in units {
            out.extend_from_slice(&if le { u.to_le_bytes() } else { u.to_be_bytes() });
        }
        out
    }

    /// `text` as Vietnamese Windows-1258 writes it: the letters the code page has (ơ, ư, â,
    /// ê, ô, ă, đ, à...) as one byte, other tones as a base letter and a combining mark.
    pub(in crate::register) fn windows_1258(text: &str) -> Vec<u8> {
        use unicode_normalization::UnicodeNormalization;
        let one = |s: &str| {
            let (bytes, _, unmappable) = encoding_rs::WINDOWS_1258.encode(s);
            (!unmappable).then(|| bytes.into_owned())
        };
        let mut out = Vec::new();
        for c in text.chars() {
            let c = c.to_string();
            if let Some(bytes) = one(&c) {
                out.extend(bytes);
                continue;
            }
            // The tone mark (grave, acute, tilde, hook, dot below) apart, the rest composed.
            let tones = ['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];
            let parts: Vec<char> = c.nfd().collect();
            let base: String = parts
                .iter()
                .filter(|m| !tones.contains(m))
                .collect::<String>()
                .nfc()
                .collect();
            out.extend(one(&base).expect("a letter Windows-1258 has"));
            for tone in parts.iter().filter(|m| tones.contains(m)) {
                out.extend(one(&tone.to_string()).expect("a tone mark"));
            }
        }
        out
    }

    fn check_sample(bytes: &[u8], encoding: Encoding, separator: char) {
        let (rows, problems, format) = read(bytes);
        assert_eq!(problems, vec![], "{format}");
        assert_eq!(
            format,
            Format::Csv {
                encoding,
                separator
            }
        );
        assert_eq!(rows.len(), 2, "{format}");
        assert_eq!(rows[0].unit, "Phường 1");
        assert_eq!(rows[1].unit, "Phường Đông Lễ");
        assert_eq!(rows[1].procedure_code, "2.000815");
        assert_eq!(rows[1].completed_on, Date::parse("2024-01-20"));
    }

    #[test]
    fn utf8_with_and_without_bom_any_separator() {
        for (sep, c) in [(",", ','), (";", ';'), ("\t", '\t')] {
            for newline in ["\n", "\r\n"] {
                let text = sample(sep, newline);
                check_sample(text.as_bytes(), Encoding::Utf8, c);
                let bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
                check_sample(&bom, Encoding::Utf8Bom, c);
            }
        }
    }

    #[test]
    fn utf16_as_excel_unicode_text() {
        // Excel's "Unicode text": UTF-16LE with BOM, tab-separated, CRLF.
        let text = sample("\t", "\r\n");
        check_sample(&utf16(&text, true, true), Encoding::Utf16LeBom, '\t');
        check_sample(&utf16(&text, false, true), Encoding::Utf16BeBom, '\t');
        // Without the mark, the NUL bytes tell.
        check_sample(&utf16(&text, true, false), Encoding::Utf16Le, '\t');
        check_sample(&utf16(&text, false, false), Encoding::Utf16Be, '\t');
        let semi = sample(";", "\n");
        check_sample(&utf16(&semi, true, true), Encoding::Utf16LeBom, ';');
    }

    #[test]
    fn windows_1258_with_combining_tone_marks_reads_as_nfc() {
        // Windows-1258 writes "ờ" as "ơ" (0xF5) and a combining grave (0xCC), "Đ" as 0xD0,
        // "ễ" as "ê" (0xEA) and a combining tilde (0xDE).
        let text = sample(",", "\r\n");
        let bytes = windows_1258(&text);
        assert!(std::str::from_utf8(&bytes).is_err());
        assert!(
            bytes.windows(2).any(|w| w == [0xF5, 0xCC]),
            "the sample really has a combining mark"
        );
        check_sample(&bytes, Encoding::Windows1258, ',');
        let semi = windows_1258(&sample(";", "\n"));
        check_sample(&semi, Encoding::Windows1258, ';');
        // A file: the same.
        let dir = tempfile::tempdir().unwrap();
        let path = super::super::tests::write(&dir, "r.csv", &bytes);
        let r = read_register_from(Source::File(&path), None).unwrap();
        assert_eq!(r.rows.len(), 2);
        assert_eq!(r.rows[1].unit, "Phường Đông Lễ");
        assert!(
            r.format.to_string().contains("Windows-1258 (assumed"),
            "{}",
            r.format
        );
    }

    #[test]
    fn a_few_bad_bytes_in_utf8_text_are_row_problems() {
        // Many UTF-8 letters, one bad byte: UTF-8 with one damaged row, not Windows-1258.
        let mut text = format!("{HEADER}\n").into_bytes();
        text.extend_from_slice(b"000.00.01.H50-240115-0001,1.001193,Ph\xffng 1,2024-01-15,,,1\n");
        text.extend_from_slice(
            "000.00.01.H50-240115-0002,1.001193,Phường 2,2024-01-15,,,1\n".as_bytes(),
        );
        text.extend_from_slice(
            "000.00.01.H50-240115-0003,1.001193,Phường 3,2024-01-15,,,1\n".as_bytes(),
        );
        let (rows, problems, format) = read(&text);
        assert_eq!(format.to_string(), "CSV in UTF-8, comma-separated");
        assert_eq!(rows.len(), 2);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 2);
        assert!(
            problems[0].reason.contains("unit is not UTF-8"),
            "{problems:?}"
        );
        // A bad byte in a column the register does not use costs nothing.
        let mut text = format!("{HEADER},note\n").into_bytes();
        text.extend_from_slice(
            "000.00.01.H50-240115-0001,1.001193,Phường 1,2024-01-15,,,1,".as_bytes(),
        );
        text.extend_from_slice(b"\xff\n");
        text.extend_from_slice(
            "000.00.01.H50-240115-0002,1.001193,Phường 2,2024-01-15,,,1,ố\n".as_bytes(),
        );
        let (rows, problems, _) = read(&text);
        assert_eq!((rows.len(), problems.len()), (2, 0));
    }

    #[test]
    fn line_numbers_are_physical_lines_whatever_the_line_ends() {
        let rows = [
            HEADER,
            // Line 2: a quoted unit spanning two lines (lines 2-3).
            "000.00.01.H50-240115-0001,1.001193,\"Phường 1\nĐông Hà\",2024-01-15,,,1",
            // Line 4: bad.
            "000.00.01.H50-240115-0002,1.001193,P,hôm qua,,,1",
            // Line 5: a quoted value of three lines (5-7).
            "000.00.01.H50-240115-0003,1.001193,\"a\n\nb\",2024-01-15,,,1",
            // Line 8: bad.
            "000.00.01.H50-240115-0004,1.001193,P,,,,1",
        ];
        for newline in ["\n", "\r\n", "\r"] {
            let text = (rows.join("\n") + "\n").replace('\n', newline);
            for bytes in [
                text.clone().into_bytes(),
                utf16(&text.replace(',', "\t"), true, true),
                windows_1258(&text.replace(',', ";")),
            ] {
                let (ok, problems, format) = read(&bytes);
                let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
                assert_eq!(lines, [4, 8], "{newline:?} {format}");
                assert_eq!(ok.len(), 2);
            }
        }
        // Excel's `sep=` hint line counts as line 1.
        let text = format!("sep=;\n{}\n", rows.join("\n").replace(',', ";"));
        let (_, problems, format) = read(text.as_bytes());
        assert_eq!(format.to_string(), "CSV in UTF-8, semicolon-separated");
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [5, 9]);
    }

    #[test]
    fn what_cannot_be_read_names_the_encoding_and_separator() {
        let err = |bytes: &[u8]| {
            register_rows_from_bytes(bytes, "register.csv")
                .unwrap_err()
                .to_string()
        };
        // A header in Vietnamese, semicolon-separated, Windows-1258.
        let bytes = windows_1258("Mã hồ sơ;Mã thủ tục;Ngày nhận\n1;2;3\n");
        let msg = err(&bytes);
        assert!(
            msg.contains("Windows-1258 (assumed: the bytes are not UTF-8)"),
            "{msg}"
        );
        assert!(msg.contains("semicolon-separated"), "{msg}");
        assert!(msg.contains("\"Mã hồ sơ\""), "{msg}");
        assert!(msg.contains("dossier_code"), "{msg}");
        // One cell: no separator found, said so.
        let msg = err(b"dossier_code|procedure_code|received_on\nx|y|z\n");
        assert!(msg.contains("no comma, semicolon or tab"), "{msg}");
        // UTF-32 and empty files.
        let msg = err(&[0xFF, 0xFE, 0, 0, b'a', 0, 0, 0]);
        assert!(msg.contains("UTF-32"), "{msg}");
        let msg = err(b"\r\n\r\n");
        assert!(msg.contains("empty"), "{msg}");
        let msg = err(&utf16("\r\n", true, true));
        assert!(msg.contains("empty") && msg.contains("UTF-16LE"), "{msg}");
    }

    #[test]
    fn utf8_check_across_chunks() {
        let text = "Phường Đông Lễ ".repeat(10_000);
        let mut stats = Utf8Stats::default();
        for chunk in text.as_bytes().chunks(7) {
            stats.feed(chunk);
        }
        let stats = stats.finish();
        assert_eq!(stats.invalid, 0);
        assert_eq!(stats.multibyte, 50_000);
        let mut stats = Utf8Stats::default();
        stats.feed(b"ab\xE1\xBB");
        let stats = stats.finish();
        assert_eq!(stats.invalid, 1, "a character cut at the end is not UTF-8");
    }
}
