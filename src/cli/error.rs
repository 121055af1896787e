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
        CliError::new(e.exit, e.message)
    }
}

impl From<ClientError> for CliError {
    fn from(e: ClientError) -> Self {
        match &e {
            // A wrong passphrase and an untrusted certificate are the operator's configuration.
            ClientError::Api { status: 401, .. } => CliError::usage(format!(
                "{e}\nhint: check --passphrase-file, DRCTL_PASSPHRASE or the cluster file's passphrase_file"
            )),
            ClientError::Tls { .. } => CliError::usage(format!(
                "{e}\nhint: check the cluster file's tls.ca / tls.trust_dir (or --ca)"
            )),
            ClientError::BadUrl { .. } | ClientError::TlsConfig(_) => CliError::usage(e.to_string()),
            ClientError::Api { status: 400, .. } => CliError::usage(e.to_string()),
            ClientError::Api { status: 404, .. } => CliError::failed(e.to_string()),
            _ => CliError::failed(e.to_string()),
        }
    }
}
