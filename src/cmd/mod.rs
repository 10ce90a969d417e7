//! One module per subcommand: resolve its arguments, call the library, print, and say how
//! the process ends.

pub(crate) mod access_log;
pub(crate) mod audit;
pub(crate) mod common;
pub(crate) mod cover_sheets;
pub(crate) mod export_bag;
pub(crate) mod generate;
pub(crate) mod languages;
pub(crate) mod progress;
pub(crate) mod rebuild_index;
pub(crate) mod report;
pub(crate) mod run;
pub(crate) mod sample;
pub(crate) mod search;
pub(crate) mod serve;
pub(crate) mod show;
pub(crate) mod verify;
