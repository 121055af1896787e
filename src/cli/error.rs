//! CLI errors carry their exit code (DESIGN §4): 1 failed, 2 invalid input, 3 refused,
//! 4 aborted, 5 timed out with the outcome unknown.

use crate::api::ClientError;

pub use crate::util::exit::Exit;

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CliError {
    pub exit: Exit,
    pub message: String,
}

impl CliError {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        CliError {
            exit,
            message: message.into(),
        }
    }
    pub fn usage(m: impl Into<String>) -> Self {
        Self::new(Exit::Usage, m)
    }
    pub fn failed(m: impl Into<String>) -> Self {
        Self::new(Exit::Failed, m)
    }
    pub fn refused(m: impl Into<String>) -> Self {
        Self::new(Exit::Refused, m)
    }
    pub fn timed_out(m: impl Into<String>) -> Self {
        Self::new(Exit::TimedOut, m)
    }
    pub fn code(&self) -> u8 {
        self.exit as u8
    }
}

impl From<crate::engine::ProcError> for CliError {
    fn from(e: crate::engine::ProcError) -> Self {
        CliError::new(e.exit, e.to_string())
    }
}

impl From<ClientError> for CliError {
    fn from(e: ClientError) -> Self {
        crate::engines::drnode::client_error(e).into()
    }
}
