//! Process exit codes, as promised in SPEC.md.

/// How the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitCode {
    /// Everything done.
    Success,
    /// Fatal: bad configuration, archive locked or unwritable, ...
    Fatal,
    /// Usage error (clap uses 2 as well).
    Usage,
    /// The batch finished but some inputs were rejected.
    RejectedInputs,
    /// `verify` found a problem.
    VerifyFindings,
    /// A run stopped cleanly on SIGINT (128 + 2).
    Interrupted,
    /// A run stopped cleanly on SIGTERM (128 + 15).
    Terminated,
}

impl ExitCode {
    /// A run stopped by `signal`, as the run report names it: "SIGINT", else SIGTERM.
    pub(crate) fn from_signal(signal: &str) -> ExitCode {
        if signal == "SIGINT" {
            ExitCode::Interrupted
        } else {
            ExitCode::Terminated
        }
    }

    fn code(self) -> u8 {
        match self {
            ExitCode::Success => 0,
            ExitCode::Fatal => 1,
            ExitCode::Usage => 2,
            ExitCode::RejectedInputs => 3,
            ExitCode::VerifyFindings => 4,
            ExitCode::Interrupted => 130,
            ExitCode::Terminated => 143,
        }
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_exit_128_plus_their_number() {
        assert_eq!(
            ExitCode::from_signal("SIGINT").code(),
            128 + libc::SIGINT as u8
        );
        assert_eq!(
            ExitCode::from_signal("SIGTERM").code(),
            128 + libc::SIGTERM as u8
        );
    }
}
