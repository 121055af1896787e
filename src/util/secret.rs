//! The cluster passphrase: read from a file or the environment, never printed, compared in
//! constant time.

use std::fmt;
use std::path::{Path, PathBuf};

use subtle::ConstantTimeEq;

#[derive(Clone)]
pub struct Passphrase(String);

#[derive(Debug, thiserror::Error)]
pub enum PassphraseError {
    #[error("cannot read passphrase file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("passphrase file {path} is readable by group or others (mode {mode:o}); run `chmod 600 {path}`")]
    WorldReadable { path: PathBuf, mode: u32 },
    #[error("the passphrase in {origin} is empty")]
    Empty { origin: String },
}

impl Passphrase {
    pub fn new(value: impl Into<String>, origin: &str) -> Result<Self, PassphraseError> {
        let value: String = value.into();
        let value = value.trim_end_matches(['\r', '\n']).to_string();
        if value.is_empty() {
            return Err(PassphraseError::Empty {
                origin: origin.to_string(),
            });
        }
        Ok(Passphrase(value))
    }

    /// Reads a passphrase file, refusing one that others can read.
    pub fn from_file(path: &Path) -> Result<Self, PassphraseError> {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|source| PassphraseError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(PassphraseError::WorldReadable {
                path: path.to_path_buf(),
                mode,
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| PassphraseError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Passphrase::new(text, &path.display().to_string())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison with what a caller presented.
    pub fn matches(&self, presented: &str) -> bool {
        let a = self.0.as_bytes();
        let b = presented.as_bytes();
        // Length leaks nothing useful here, but compare equal-length buffers anyway.
        a.len() == b.len() && bool::from(a.ct_eq(b))
    }

    /// A random passphrase for a lab.
    pub fn random() -> Self {
        use rand::distr::{Alphanumeric, SampleString};
        Passphrase(Alphanumeric.sample_string(&mut rand::rng(), 32))
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(***)")
    }
}

/// Writes a secret file with mode 0600 from the start.
pub fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents)?;
    f.sync_all()
}
