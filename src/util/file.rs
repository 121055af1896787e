//! Reading a small input file (a cluster file, a runbook) with a bound on its size, so a huge
//! or growing file is refused rather than read.

use std::io::Read;
use std::path::Path;

/// The largest cluster file or runbook read (both are a few KB).
pub const MAX_BYTES: u64 = 1 << 20;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("it is larger than 1 MiB ({size} bytes)")]
    TooLarge { size: u64 },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Reads a file of at most `MAX_BYTES` (never more, whatever it grows to meanwhile).
pub fn read_bounded(path: &Path) -> Result<String, ReadError> {
    let f = std::fs::File::open(path)?;
    let size = f.metadata()?.len();
    let mut text = String::new();
    f.take(MAX_BYTES + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_BYTES {
        return Err(ReadError::TooLarge {
            size: size.max(text.len() as u64),
        });
    }
    Ok(text)
}
