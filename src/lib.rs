//! dossier: the nightly digitization pipeline for one-stop-shop dossiers.
//!
//! Data flows one way through stages, one module each:
//! `intake` (walk + layout) → `decode` (files → pages, quality) → `ocr` (one engine per worker)
//! → `store` (content-addressed originals and derivatives) → `index` (SQLite or PostgreSQL,
//! full text).
//! `pipeline` wires them for `run`; `query` serves `search` and `show`; `coverage` computes
//! and renders the digitization report from the index and the one-stop-shop register.

pub mod config;
pub mod cover;
pub mod coverage;
pub mod decode;
pub mod fixity;
pub mod index;
pub mod intake;
pub mod ocr;
pub mod pdf;
pub mod pipeline;
pub mod query;
pub mod sample;
pub mod store;
#[doc(hidden)]
pub mod test_support;
pub mod timefmt;
