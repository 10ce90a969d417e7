//! dossier: the nightly digitization pipeline for one-stop-shop dossiers.
//!
//! Data flows one way through stages, one module each:
//! `intake` (walk + layout) → `decode` (files → pages, quality) → `ocr` (one engine per worker)
//! → `store` (content-addressed originals and derivatives) → `index` (SQLite or PostgreSQL,
//! full text).
//! `pipeline` wires them for `run`; `query` serves `search` and `show`; `coverage` computes
//! and renders the digitization report from the index and the one-stop-shop register.
//!
//! Plain modules hold the types and parsing that several of these share, and depend on no
//! stage but `intake`'s code check: `fold` (text folding for search), `date` (calendar days),
//! `register` (the one-stop-shop register and the procedure catalog), `timefmt`.
//! Dependencies run one way: `ocr` uses `fold`; `index` uses `register`, `date`, `fold`,
//! `intake` and `store`; `coverage` reads `index`, `register` and `date`, and only the binary
//! reads `coverage`.

pub mod audit_sample;
pub mod config;
pub mod cover;
pub mod coverage;
pub mod date;
pub mod decode;
pub mod evidence;
pub mod fixity;
pub mod fold;
pub mod index;
pub mod intake;
pub mod log;
pub mod ocr;
pub mod pdf;
pub mod pdfa;
pub mod pipeline;
pub mod query;
pub mod register;
pub mod sample;
pub mod serve;
pub mod store;
#[doc(hidden)]
pub mod test_support;
pub mod timefmt;
