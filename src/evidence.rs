//! Evidence records: what the archive vouches for, as small JSON objects kept in the store
//! beside the originals, and committed to by the ledger.
//!
//! The index is a cache of them. Every index row that enters a figure (a document's quality,
//! kind, dossier and procedure; its pages' facts; its ingestion events; the register rows an
//! import brought) is also in a record, and a record is a pure function of those rows: verify
//! rebuilds each record from the rows, hashes it, and compares it with the hash the document
//! row carries; the ledger entry of each run commits to a Merkle root over its records'
//! hashes. An edit of the rows, however consistent with itself, changes a record hash; an edit
//! of the hashes changes a root; an edit of a root breaks the chain.
//!
//! Records are serialised by serde in field order, so the same rows give the same bytes.
//! Floating-point facts are stored as the index stores them (f32 confidence and skew, f64
//! seconds rounded to milliseconds), so they survive the round trip exactly.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One committed document: a version of an intake path (or of a batch segment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentRecord {
    /// Always `document`: tells a record from other objects.
    pub record: String,
    pub path: String,
    pub version: u32,
    pub kind: String,
    pub dossier: String,
    pub procedure: String,
    pub unit: Option<String>,
    /// The original's content hash and size.
    pub sha256: String,
    pub bytes: u64,
    /// The intake file's modification time when it was read (ns since the epoch).
    pub mtime_ns: i64,
    pub media_type: Option<String>,
    pub archived_at: String,
    pub run_id: String,
    /// `pass` or `fail`.
    pub quality: String,
    pub reasons: Vec<String>,
    pub rejected: Option<String>,
    pub searchable_pdf: Option<String>,
    /// False for a document split out of a batch scan.
    pub intake_file: bool,
    pub pages: Vec<PageRecord>,
    pub events: Vec<EventRecord>,
    /// Set on a record written at an upgrade, from the index rows as they were then, for a
    /// document archived before records were kept: the upgrade's ledger subject. Absent (and
    /// not serialised) on a record written when its document was archived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at_upgrade: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageRecord {
    pub page: u32,
    pub width: u32,
    pub height: u32,
    pub dpi: u32,
    pub dpi_source: String,
    pub blank: bool,
    pub confidence: Option<f32>,
    /// `ocr` or `text_layer`.
    pub text_source: String,
    /// Corrections before OCR: turned clockwise (degrees), levelled (degrees).
    pub turned: u32,
    pub deskewed: f32,
    pub source_page: Option<u32>,
    pub ocr_seconds: Option<f64>,
    /// The page's text and hOCR objects.
    pub text_sha256: Option<String>,
    pub hocr_sha256: Option<String>,
}

/// A PREMIS-style event recorded when the document was committed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    #[serde(rename = "type")]
    pub kind: String,
    pub at: String,
    pub agent: String,
    pub outcome: String,
    pub detail: Option<String>,
}

/// One import of a register or catalog: the file as stored, and what was read from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportRecord {
    /// `register` or `catalog`.
    pub record: String,
    pub run_id: String,
    pub source: String,
    /// The imported file's object.
    pub sha256: String,
    pub rows: u64,
    pub problems: u64,
    /// SHA-256 over the rows the index holds after the import, in their canonical form.
    /// Empty on a record written at an upgrade for an import that later ones replaced (the
    /// rows it brought are no longer known).
    pub rows_sha256: String,
    /// As [`DocumentRecord::recorded_at_upgrade`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at_upgrade: Option<String>,
}

/// A record's bytes as stored, and their hash.
pub fn encode<T: Serialize>(record: &T) -> (Vec<u8>, String) {
    let bytes = serde_json::to_vec(record).expect("records are plain data");
    let hash = hex(&Sha256::digest(&bytes));
    (bytes, hash)
}

/// A record's hash alone, as [`encode`] gives it: what verify compares with the hash a row
/// carries, once per document, so it serialises into one buffer kept per thread.
pub fn hash<T: Serialize>(record: &T) -> String {
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with(|b| {
        let mut b = b.borrow_mut();
        b.clear();
        serde_json::to_writer(&mut *b, record).expect("records are plain data");
        hex(&Sha256::digest(&*b))
    })
}

/// Lower-case hex (a table, not a `format!` per byte: verify hashes every record).
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// SHA-256 over lines (each ended by a newline): the canonical digest of a table's rows.
#[derive(Default)]
pub struct RowsDigest(Sha256);

impl RowsDigest {
    pub fn line(&mut self, fields: &[&str]) {
        // Fields joined by a unit separator, which no register value holds after reading.
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                self.0.update([0x1f]);
            }
            self.0.update(f.as_bytes());
        }
        self.0.update(b"\n");
    }

    pub fn finish(self) -> String {
        hex(&self.0.finalize())
    }
}

/// Reads a stored object as a document record, if it is one.
pub fn as_document_record(bytes: &[u8]) -> Option<DocumentRecord> {
    if !bytes.starts_with(b"{\"record\":\"document\"") {
        return None;
    }
    serde_json::from_slice(bytes).ok()
}

/// Reads a stored object as an import record, if it is one.
pub fn as_import_record(bytes: &[u8]) -> Option<ImportRecord> {
    if !(bytes.starts_with(b"{\"record\":\"register\"")
        || bytes.starts_with(b"{\"record\":\"catalog\""))
    {
        return None;
    }
    serde_json::from_slice(bytes).ok()
}

/// The fields in which two records of the same document differ, by name.
pub fn differing_fields(a: &DocumentRecord, b: &DocumentRecord) -> Vec<String> {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(a), serde_json::to_value(b))
    else {
        return Vec::new();
    };
    a.iter()
        .filter(|(k, v)| b.get(*k) != Some(v))
        .map(|(k, _)| k.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> DocumentRecord {
        DocumentRecord {
            record: "document".into(),
            path: "1.001193/D-1/input/a.png".into(),
            version: 1,
            kind: "input".into(),
            dossier: "D-1".into(),
            procedure: "1.001193".into(),
            unit: Some("Phường 1".into()),
            sha256: "ab".repeat(32),
            bytes: 12,
            mtime_ns: 1_700_000_000_123_456_789,
            media_type: Some("image/png".into()),
            archived_at: "2026-12-02T01:00:00Z".into(),
            run_id: "20261202T010000Z-1".into(),
            quality: "pass".into(),
            reasons: vec![],
            rejected: None,
            searchable_pdf: None,
            intake_file: true,
            pages: vec![PageRecord {
                page: 1,
                width: 2480,
                height: 3508,
                dpi: 300,
                dpi_source: "metadata".into(),
                blank: false,
                confidence: Some(93.417_3),
                text_source: "ocr".into(),
                turned: 0,
                deskewed: 1.25,
                source_page: None,
                ocr_seconds: Some(0.731),
                text_sha256: Some("cd".repeat(32)),
                hocr_sha256: Some("ef".repeat(32)),
            }],
            events: vec![],
            recorded_at_upgrade: None,
        }
    }

    #[test]
    fn a_record_encodes_to_the_same_bytes_and_reads_back_equal() {
        let (bytes, hash) = encode(&record());
        assert_eq!(super::hash(&record()), hash);
        assert_eq!(hash, hex(&Sha256::digest(&bytes)));
        assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()));
        // Records written when their document was archived say nothing of upgrades.
        assert!(!String::from_utf8_lossy(&bytes).contains("recorded_at_upgrade"));
        let mut upgraded = record();
        upgraded.recorded_at_upgrade = Some("upgrade 2026-12-02T07:00:00Z".into());
        assert_ne!(super::hash(&upgraded), hash);
        assert_eq!(
            as_document_record(&encode(&upgraded).0),
            Some(upgraded.clone())
        );
        assert_eq!(encode(&record()), (bytes.clone(), hash));
        assert_eq!(as_document_record(&bytes), Some(record()));
        assert_eq!(as_import_record(&bytes), None);
    }

    #[test]
    fn any_changed_fact_changes_the_hash_and_is_named() {
        let (_, hash) = encode(&record());
        let mut edited = record();
        edited.quality = "fail".into();
        assert_ne!(encode(&edited).1, hash);
        assert_eq!(differing_fields(&record(), &edited), ["quality"]);
        let mut edited = record();
        edited.pages[0].confidence = Some(93.4);
        assert_ne!(encode(&edited).1, hash);
        assert_eq!(differing_fields(&record(), &edited), ["pages"]);
    }

    #[test]
    fn a_rows_digest_depends_on_every_field_and_its_place() {
        let digest = |rows: &[&[&str]]| {
            let mut d = RowsDigest::default();
            rows.iter().for_each(|r| d.line(r));
            d.finish()
        };
        let base = digest(&[&["a", "b"], &["c", "d"]]);
        assert_ne!(base, digest(&[&["a", "b"]]));
        assert_ne!(base, digest(&[&["ab", ""], &["c", "d"]]));
        assert_ne!(base, digest(&[&["c", "d"], &["a", "b"]]));
        assert_eq!(base, digest(&[&["a", "b"], &["c", "d"]]));
    }
}
