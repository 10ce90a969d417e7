//! Process exit codes, as promised in SPEC.md.

/// Everything done.
pub const SUCCESS: i32 = 0;
/// Fatal: bad configuration, archive locked or unwritable, ...
pub const FATAL: i32 = 1;
/// Usage error (clap uses 2 as well).
pub const USAGE: i32 = 2;
/// The batch finished but some inputs were rejected.
pub const REJECTED_INPUTS: i32 = 3;
/// `verify` found a problem.
pub const VERIFY_FINDINGS: i32 = 4;
