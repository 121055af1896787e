//! Why a procedure stopped, with the exit code that tells a script what happened and, when it is
//! known, whether the cluster was changed.

use std::fmt;

use crate::util::exit::Exit;

/// Why a procedure stopped, with the exit code that tells a script what happened.
#[derive(Debug, Clone)]
pub struct ProcError {
    pub exit: Exit,
    /// What went wrong, without the "nothing was changed" that `changed` adds.
    pub message: String,
    /// What the failure left behind, when it is said: `Some(false)` (a refusal before anything
    /// ran, a failure whose steps were undone) prints "; nothing was changed" after the message;
    /// `Some(true)` (a run that stopped part-way) and `None` (not said) print the message alone.
    pub changed: Option<bool>,
    /// A request got no answer: it may have taken effect, or may still (389-ds holds the
    /// deletion of an agreement until its hung consumer answers).
    pub unanswered: bool,
}

impl fmt::Display for ProcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if self.changed == Some(false) {
            f.write_str("; nothing was changed")?;
        }
        Ok(())
    }
}

impl std::error::Error for ProcError {}

impl ProcError {
    fn new(exit: Exit, m: impl Into<String>) -> Self {
        ProcError {
            exit,
            message: m.into(),
            changed: None,
            unanswered: false,
        }
    }
    pub fn refused(m: impl Into<String>) -> Self {
        ProcError::new(Exit::Refused, m)
    }
    pub fn failed(m: impl Into<String>) -> Self {
        ProcError::new(Exit::Failed, m)
    }
    pub fn usage(m: impl Into<String>) -> Self {
        ProcError::new(Exit::Usage, m)
    }
    pub fn timed_out(m: impl Into<String>) -> Self {
        ProcError::new(Exit::TimedOut, m)
    }
    pub fn aborted(m: impl Into<String>) -> Self {
        ProcError::new(Exit::Aborted, m)
    }
}

impl ProcError {
    /// The same message with another exit code.
    pub fn with_exit(mut self, exit: Exit) -> Self {
        self.exit = exit;
        self
    }

    /// The same error, saying that nothing was changed (a refusal before anything ran).
    pub fn unchanged(mut self) -> Self {
        self.changed = Some(false);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flag prints the words the messages used to carry, once, at the end.
    #[test]
    fn unchanged_is_said_after_the_message() {
        let e = ProcError::refused("no primary answers");
        assert_eq!(e.to_string(), "no primary answers");
        let e = e.unchanged();
        assert_eq!(e.to_string(), "no primary answers; nothing was changed");
        assert_eq!(e.message, "no primary answers");
        let mut e = e;
        e.changed = Some(true);
        assert_eq!(e.to_string(), "no primary answers");
    }
}
