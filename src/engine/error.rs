//! Why a procedure stopped, with the exit code that tells a script what happened.

use crate::util::exit::Exit;

/// Why a procedure stopped, with the exit code that tells a script what happened.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ProcError {
    pub exit: Exit,
    pub message: String,
}

impl ProcError {
    pub fn refused(m: impl Into<String>) -> Self {
        ProcError {
            exit: Exit::Refused,
            message: m.into(),
        }
    }
    pub fn failed(m: impl Into<String>) -> Self {
        ProcError {
            exit: Exit::Failed,
            message: m.into(),
        }
    }
    pub fn usage(m: impl Into<String>) -> Self {
        ProcError {
            exit: Exit::Usage,
            message: m.into(),
        }
    }
    pub fn timed_out(m: impl Into<String>) -> Self {
        ProcError {
            exit: Exit::TimedOut,
            message: m.into(),
        }
    }
    pub fn aborted(m: impl Into<String>) -> Self {
        ProcError {
            exit: Exit::Aborted,
            message: m.into(),
        }
    }
}

impl ProcError {
    /// The same message with another exit code.
    pub fn with_exit(mut self, exit: Exit) -> Self {
        self.exit = exit;
        self
    }
}
